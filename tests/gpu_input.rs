//! The input stage: however a picture reaches the pipeline (host planes
//! uploaded, a buffer on the device bound where it lies, textures on the
//! device), the passes after it must render the same image. Each surface
//! kind is compared with the upload path of the same pixels.

mod common;

use common::gpu::*;
use stills::asset::color::{
    ChromaLocation, ColorInfo, ColorPrimaries, ColorRange, HdrInfo, MatrixCoefficients,
    TransferCharacteristic,
};
use stills::gpu::FramePipeline;
use stills::picture::{DecodedFormat, PictureDesc, PlaneDesc};
use stills::render::{OutputSpec, RenderSettings, Size, SourceGeometry};
use stills::surface::{DeviceBuffer, DeviceImages, KeepAlive, Picture, Surface};

const W: u32 = 162;
const H: u32 = 98;

/// The formats hardware decoders produce, and a planar one.
const FORMATS: [DecodedFormat; 4] = [
    DecodedFormat::Nv12,
    DecodedFormat::P010,
    DecodedFormat::Yuv420p,
    DecodedFormat::Yuv444p10,
];

fn color() -> ColorInfo {
    ColorInfo {
        primaries: ColorPrimaries::Bt709,
        transfer: TransferCharacteristic::Bt709,
        matrix: MatrixCoefficients::Bt709,
        range: ColorRange::Limited,
        chroma_location: ChromaLocation::Left,
    }
}

/// A test pattern in `format`, as one packed buffer, and its description.
fn pattern(format: DecodedFormat) -> (PictureDesc, Vec<u8>) {
    let raw = lavfi_frame(&format!("testsrc2=s={W}x{H}:d=1"), "", format.ffmpeg_name());
    let desc = PictureDesc::packed(W, H, format, color(), HdrInfo::SDR).unwrap();
    (desc, raw)
}

/// Native size, and a thumbnail (a downscale whose pass 1 reads whole
/// words or stages texels, depending on the format).
fn specs(desc: &PictureDesc) -> Vec<OutputSpec> {
    [Size::NATIVE, Size::new(60, 0)]
        .into_iter()
        .map(|maximum_size| {
            let settings = RenderSettings {
                maximum_size,
                ..RenderSettings::default()
            };
            OutputSpec::new(desc, &SourceGeometry::default(), &settings).unwrap()
        })
        .collect()
}

fn render(pipeline: &mut FramePipeline, picture: &Picture, spec: &OutputSpec) -> Vec<u8> {
    pipeline.render(picture, spec).unwrap().data
}

/// `raw`'s planes re-laid in one buffer: each row padded to `pitch_pad`
/// more bytes (a multiple of four), each plane after a gap, so no offset
/// is a multiple of the device's binding alignment.
fn relaid(desc: &PictureDesc, raw: &[u8], pitch_pad: u64) -> (PictureDesc, Vec<u8>) {
    let mut out = vec![0xa5u8; 100];
    let mut placed = *desc;
    for (index, plane) in desc.planes().iter().enumerate() {
        let (row, rows) = desc.plane_extent(index).unwrap();
        let pitch = (row + pitch_pad).div_ceil(4) * 4;
        let offset = out.len() as u64;
        for r in 0..u64::from(rows) {
            let start = (plane.offset + r * plane.pitch) as usize;
            out.extend_from_slice(&raw[start..start + row as usize]);
            out.resize(out.len() + (pitch - row) as usize, 0x5a);
        }
        out.resize(out.len() + 36, 0xa5);
        placed.planes[index] = PlaneDesc { offset, pitch };
    }
    out.resize(out.len().div_ceil(4) * 4, 0);
    (placed, out)
}

#[test]
fn a_device_buffer_bound_in_place_renders_like_the_upload() {
    let ctx = context();
    let mut pipeline = FramePipeline::new(ctx).unwrap();
    let mut checked = 0;
    for format in FORMATS {
        let (desc, raw) = pattern(format);
        let uploaded = Picture::from_packed(W, H, format, &raw[..]).unwrap();
        let (placed, bytes) = relaid(&desc, &raw, 44);
        let buffer = ctx.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("test picture"),
            size: bytes.len() as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        ctx.queue().write_buffer(&buffer, 0, &bytes);
        let in_place = Picture {
            desc: placed,
            surface: Surface::Buffer(DeviceBuffer {
                buffer,
                keep_alive: KeepAlive::NOTHING,
            }),
        };
        for spec in specs(&desc) {
            let want = render(&mut pipeline, &uploaded, &spec);
            let got = render(&mut pipeline, &in_place, &spec);
            assert!(want == got, "{format:?} {}x{}", spec.width, spec.height);
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * FORMATS.len());
}

/// The unsigned-integer texture format holding one texel of plane `index`.
fn texel_format(format: DecodedFormat, index: usize) -> wgpu::TextureFormat {
    let plane = format.desc().planes[index];
    match (plane.bytes_per_sample, plane.samples_per_texel) {
        (1, 1) => wgpu::TextureFormat::R8Uint,
        (1, 2) => wgpu::TextureFormat::Rg8Uint,
        (2, 1) => wgpu::TextureFormat::R16Uint,
        (2, 2) => wgpu::TextureFormat::Rg16Uint,
        other => panic!("no texture format for {other:?}"),
    }
}

#[test]
fn device_images_render_like_the_upload() {
    let ctx = context();
    let mut pipeline = FramePipeline::new(ctx).unwrap();
    let mut checked = 0;
    for format in FORMATS {
        let (desc, raw) = pattern(format);
        let uploaded = Picture::from_packed(W, H, format, &raw[..]).unwrap();
        let planes = desc
            .planes()
            .iter()
            .enumerate()
            .map(|(index, plane)| {
                let (w, h) = format.plane_size(index, W, H).unwrap();
                let texture = ctx.device().create_texture(&wgpu::TextureDescriptor {
                    label: Some("test plane"),
                    size: wgpu::Extent3d {
                        width: w,
                        height: h,
                        depth_or_array_layers: 1,
                    },
                    mip_level_count: 1,
                    sample_count: 1,
                    dimension: wgpu::TextureDimension::D2,
                    format: texel_format(format, index),
                    usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                    view_formats: &[],
                });
                ctx.queue().write_texture(
                    wgpu::TexelCopyTextureInfo {
                        texture: &texture,
                        mip_level: 0,
                        origin: wgpu::Origin3d::ZERO,
                        aspect: wgpu::TextureAspect::All,
                    },
                    &raw[plane.offset as usize..],
                    wgpu::TexelCopyBufferLayout {
                        offset: 0,
                        bytes_per_row: Some(plane.pitch as u32),
                        rows_per_image: Some(h),
                    },
                    texture.size(),
                );
                texture
            })
            .collect();
        let images = Picture {
            desc,
            surface: Surface::Images(DeviceImages {
                planes,
                keep_alive: KeepAlive::NOTHING,
            }),
        };
        for spec in specs(&desc) {
            let want = render(&mut pipeline, &uploaded, &spec);
            let got = render(&mut pipeline, &images, &spec);
            assert!(want == got, "{format:?} {}x{}", spec.width, spec.height);
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * FORMATS.len());
}

#[test]
fn a_buffer_too_small_for_its_planes_is_refused() {
    let ctx = context();
    let mut pipeline = FramePipeline::new(ctx).unwrap();
    let (desc, raw) = pattern(DecodedFormat::Nv12);
    let buffer = ctx.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("short picture"),
        // The luma plane and half the chroma.
        size: (u64::from(W * H) + u64::from(W * H) / 4).div_ceil(4) * 4,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let short = Picture {
        desc,
        surface: Surface::Buffer(DeviceBuffer {
            buffer,
            keep_alive: KeepAlive::NOTHING,
        }),
    };
    let err = pipeline.render(&short, &specs(&desc)[0]).unwrap_err();
    assert!(
        matches!(err, stills::gpu::GpuError::SurfaceTooSmall { plane: 1, .. }),
        "{err}"
    );
    // The pipeline carries on.
    let good = Picture::from_packed(W, H, DecodedFormat::Nv12, &raw[..]).unwrap();
    assert!(pipeline.render(&good, &specs(&desc)[0]).is_ok());
}

/// On a CPU adapter with `VK_EXT_external_memory_host` (lavapipe), host
/// planes whose rows and starts are word-aligned are imported where they
/// lie instead of copied; unaligned ones are still uploaded. Both render
/// the same image.
#[test]
fn host_planes_imported_in_place_render_like_the_upload() {
    let ctx = context();
    if !(ctx.info().is_software() && ctx.interop().host_pointer_alignment.is_some()) {
        eprintln!(
            "skipped: host planes are copied on this adapter ({}; {})",
            ctx.info().name,
            ctx.interop()
        );
        return;
    }
    let mut checked = 0;
    for format in FORMATS {
        let (desc, raw) = pattern(format);
        // Planes starting two bytes into their buffer are not on a word
        // boundary: uploaded.
        let mut shifted = desc;
        for plane in shifted.planes.iter_mut() {
            plane.offset += 2;
        }
        let mut unaligned = vec![0u8; 2];
        unaligned.extend_from_slice(&raw);
        let unaligned = vec![unaligned.into(); format.desc().planes.len()];
        let uploaded = Picture::host(shifted, unaligned).unwrap();
        let (placed, bytes) = relaid(&desc, &raw, 2);
        let planes = vec![bytes.into(); format.desc().planes.len()];
        let in_place = Picture::host(placed, planes).unwrap();
        for spec in specs(&desc) {
            let mut pipeline = FramePipeline::new(ctx).unwrap();
            let got = render(&mut pipeline, &in_place, &spec);
            // One work set and no upload set: the planes were bound where
            // they lie.
            assert_eq!(pipeline.resource_sets_created(), 1, "{format:?} imported");
            let want = render(&mut pipeline, &uploaded, &spec);
            assert_eq!(pipeline.resource_sets_created(), 2, "{format:?} uploaded");
            assert!(want == got, "{format:?} {}x{}", spec.width, spec.height);
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * FORMATS.len());
}
