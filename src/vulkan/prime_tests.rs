//! VA-API's DRM PRIME exports through the VA-API backend's own mapping
//! ([`crate::decode::prime`]) and the pipeline's DMA-BUF import: pictures
//! laid out as Intel and AMD drivers export them — separate layers in one
//! object or two, a composed layer, padded pitches, planes at aligned
//! offsets, a picture cropped at its top left — must render exactly as the
//! upload of the same samples does, for NV12, P010 and P012. The DMA-BUFs
//! come from a second (exporting) Vulkan device where the driver can export
//! them; lavapipe cannot without `/dev/udmabuf`, and imports any fd it is
//! given, so there each object is a memfd. This is what the VA-API backend
//! hands the pipeline, minus the decoder.

use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::OnceLock;

use super::exporter::Exporter;
use super::memory::HandleType;
use crate::asset::color::{ColorInfo, HdrInfo};
use crate::decode::prime::{PrimeLayer, PrimeObject, PrimePlane, PrimeSurface};
use crate::decode::vaapi_caps::fourcc;
use crate::gpu::{AdapterPreference, FramePipeline, GpuContext};
use crate::picture::{DecodedFormat, PictureDesc};
use crate::render::{OutputSpec, RenderSettings, Size, SourceGeometry};
use crate::surface::{KeepAlive, Picture, Surface};

fn context() -> &'static GpuContext {
    static CTX: OnceLock<GpuContext> = OnceLock::new();
    CTX.get_or_init(|| GpuContext::new(AdapterPreference::Auto).expect("a GPU or lavapipe adapter"))
}

/// Odd sizes, so no plane row is a whole number of words by accident.
const PICTURE: (u32, u32) = (150, 86);

/// How a driver lays the surface out.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// Intel: separate layers, both planes in one object, 128-byte pitch,
    /// chroma after the luma rows rounded up to 32.
    SeparateOneObject,
    /// AMD: separate layers, one object per plane, 256-byte pitch.
    SeparateTwoObjects,
    /// A composed layer (one layer, two planes) in one object.
    Composed,
    /// Separate layers in one object, the picture starting 4 samples right
    /// and 2 down inside a larger surface (a codec's top-left crop).
    Cropped,
}

const LAYOUTS: [Layout; 4] = [
    Layout::SeparateOneObject,
    Layout::SeparateTwoObjects,
    Layout::Composed,
    Layout::Cropped,
];

/// Samples a decoder could produce: high bits only for 10 and 12 bits.
fn packed(format: DecodedFormat, depth: u8, seed: u8) -> (PictureDesc, Vec<u8>) {
    let (w, h) = PICTURE;
    let desc = PictureDesc::packed(w, h, format, ColorInfo::BT709, HdrInfo::SDR).unwrap();
    let len = desc.planes().iter().enumerate().fold(0, |end, (i, p)| {
        end.max(p.offset + desc.plane_span(i).unwrap())
    });
    let mut bytes: Vec<u8> = (0..len as usize)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3] ^ seed)
        .collect();
    if depth > 8 {
        let low = 0xffu8 >> (depth - 8);
        for sample in bytes.chunks_exact_mut(2) {
            sample[0] &= !low;
        }
    }
    (desc, bytes)
}

/// The objects' bytes and the layers describing them, as `layout` puts
/// the picture `desc`/`bytes` into a surface.
fn lay_out(
    desc: &PictureDesc,
    bytes: &[u8],
    layout: Layout,
    composed: u32,
    layers: [u32; 2],
) -> (Vec<Vec<u8>>, Vec<PrimeLayer>, (u32, u32)) {
    let (crop_x, crop_y) = match layout {
        Layout::Cropped => (4u32, 2u32),
        _ => (0, 0),
    };
    let pitch_align = match layout {
        Layout::SeparateTwoObjects => 256,
        _ => 128,
    };
    let shape = desc.format.desc();
    let mut objects: Vec<Vec<u8>> = vec![Vec::new()];
    let mut planes = Vec::new();
    for (index, plane) in desc.planes().iter().enumerate() {
        if index > 0 && matches!(layout, Layout::SeparateTwoObjects) {
            objects.push(Vec::new());
        }
        let object = objects.len() - 1;
        let f = shape.planes[index];
        let texel = u64::from(f.bytes_per_sample) * u64::from(f.samples_per_texel);
        let (row, rows) = desc.plane_extent(index).unwrap();
        let (left, top) = (
            u64::from(crop_x >> f.x_shift),
            u64::from(crop_y >> f.y_shift),
        );
        let pitch = (row + left * texel).next_multiple_of(pitch_align);
        let surface_rows = (u64::from(rows) + top).next_multiple_of(32 >> f.y_shift);
        let data = &mut objects[object];
        data.resize(data.len().next_multiple_of(4096), 0x5a);
        let start = data.len() as u64;
        data.resize((start + pitch * surface_rows) as usize, 0xa5);
        for r in 0..u64::from(rows) {
            let from = (plane.offset + r * plane.pitch) as usize;
            let to = (start + (r + top) * pitch + left * texel) as usize;
            data[to..to + row as usize].copy_from_slice(&bytes[from..from + row as usize]);
        }
        planes.push(PrimePlane {
            object: object as u32,
            offset: start as u32,
            pitch: pitch as u32,
        });
    }
    let layers = match layout {
        Layout::Composed => vec![PrimeLayer {
            drm_format: composed,
            planes: planes.clone(),
        }],
        _ => planes
            .iter()
            .zip(layers)
            .map(|(&plane, drm_format)| PrimeLayer {
                drm_format,
                planes: vec![plane],
            })
            .collect(),
    };
    (objects, layers, (crop_x, crop_y))
}

/// A memfd holding `bytes`, padded with zeros to whole pages.
fn memfd(bytes: &[u8]) -> OwnedFd {
    // SAFETY: a NUL-terminated name and valid flags.
    let raw = unsafe { libc::memfd_create(c"stills-prime".as_ptr(), libc::MFD_CLOEXEC) };
    assert!(
        raw >= 0,
        "memfd_create: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: memfd_create returned a new fd that we own.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut file = std::fs::File::from(fd);
    std::io::Write::write_all(&mut file, bytes).expect("write the memfd");
    file.set_len((bytes.len() as u64).next_multiple_of(4096))
        .expect("size the memfd");
    OwnedFd::from(file)
}

#[test]
fn va_api_exports_render_like_the_upload() {
    let ctx = context();
    if !ctx.interop().dma_buf_memory {
        eprintln!(
            "SKIPPED VA-API exports: the device has no VK_EXT_external_memory_dma_buf \
             (lavapipe before Mesa 24)"
        );
        return;
    }
    let is_lavapipe = ctx.info().driver == "llvmpipe";
    let exporter = Exporter::new(ctx.interop().device_uuid.expect("a UUID").0)
        .expect("an exporting device on the same GPU");
    let exports = exporter.can_export_buffer(HandleType::DmaBuf);
    if !exports && !is_lavapipe {
        eprintln!(
            "SKIPPED VA-API exports: nothing here exports a DMA-BUF, and only lavapipe \
             imports a memfd"
        );
        return;
    }
    let dma_buf = |bytes: &[u8]| -> OwnedFd {
        if exports {
            exporter
                .buffer(HandleType::DmaBuf, bytes)
                .expect("the exporter exports DMA-BUFs")
                .fd
        } else {
            memfd(bytes)
        }
    };
    let eight = [fourcc(b"R8  "), fourcc(b"GR88")];
    let sixteen = [fourcc(b"R16 "), fourcc(b"GR32")];
    // (VA fourcc, format read as, sample depth, composed DRM fourcc, layers)
    let cases = [
        (b"NV12", DecodedFormat::Nv12, 8, fourcc(b"NV12"), eight),
        (b"P010", DecodedFormat::P010, 10, fourcc(b"P010"), sixteen),
        (b"P012", DecodedFormat::P016, 12, fourcc(b"P012"), sixteen),
    ];
    let mut pipeline = FramePipeline::new(ctx).unwrap();
    let (w, h) = PICTURE;
    let mut compared = 0;
    for (seed, (va_fourcc, format, depth, composed, layers)) in cases.into_iter().enumerate() {
        let (desc, bytes) = packed(format, depth, seed as u8 * 31 + 1);
        let uploaded = Picture::from_packed(w, h, format, bytes.clone()).unwrap();
        for layout in LAYOUTS {
            let (objects, layers, crop) = lay_out(&desc, &bytes, layout, composed, layers);
            let prime = PrimeSurface {
                fourcc: fourcc(va_fourcc),
                objects: objects
                    .iter()
                    .map(|o| PrimeObject {
                        fd: dma_buf(o),
                        size: o.len() as u32,
                        modifier: 0,
                    })
                    .collect(),
                layers,
            };
            let picture = prime
                .into_picture(
                    w,
                    h,
                    crop,
                    ColorInfo::BT709,
                    HdrInfo::SDR,
                    KeepAlive::NOTHING,
                )
                .unwrap_or_else(|e| panic!("{format:?} {layout:?}: {e}"));
            assert!(matches!(picture.surface, Surface::DmaBuf(_)));
            for maximum_size in [Size::NATIVE, Size::new(48, 0)] {
                let settings = RenderSettings {
                    maximum_size,
                    ..RenderSettings::default()
                };
                let spec =
                    OutputSpec::new(&picture.desc, &SourceGeometry::default(), &settings).unwrap();
                let want = pipeline.render(&uploaded, &spec).unwrap().data;
                let got = pipeline
                    .render(&picture, &spec)
                    .unwrap_or_else(|e| panic!("{format:?} {layout:?}: {e}"))
                    .data;
                assert!(
                    want == got,
                    "{format:?} {layout:?} at {}x{} differs from the upload",
                    spec.width,
                    spec.height
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 3 * LAYOUTS.len() * 2);
}
