//! The deinterlace stage: an interlaced picture made progressive from the
//! field shown first, on the device, before the resample passes (see
//! `shaders/deinterlace.wgsl` for the filters). It reads the planes where
//! the input stage bound them and writes a progressive copy, each plane's
//! rows word-aligned, which the passes then read as an ordinary buffer-bound
//! picture. Motion-adaptive, it also reads the picture shown just before,
//! copied from the host into a buffer laid out as the stage's output. The
//! plan and that copy's packing are pure arithmetic; the pipeline runs them.

use bytemuck::{Pod, Zeroable};

use crate::image::Deinterlacer;
use crate::picture::{ComponentSource, Field, PictureDesc, PlaneDesc, Scan};
use crate::surface::HostPlanes;

use super::shaders::{compute_binding, storage_binding};
use super::GpuError;

/// Invocations per workgroup along a row (`@workgroup_size` in the WGSL).
const GROUP_WIDTH: u32 = 64;

/// Bytes between the uniform blocks of successive planes in the stage's
/// uniform buffer: WebGPU's largest `min_uniform_buffer_offset_alignment`,
/// so the planes share one buffer with dynamic offsets on any device.
pub(super) const PARAMS_STRIDE: u64 = 256;

/// One plane's uniform block: `Plane` in `shaders/deinterlace.wgsl`,
/// member for member.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub(super) struct PlaneParams {
    /// Source row 0's byte offset in its binding, source pitch, output
    /// row 0's byte offset, output pitch.
    pub at: [u32; 4],
    /// Samples per row, rows, bytes per sample, samples per texel.
    pub shape: [u32; 4],
    /// Parity of the kept field's lines, words per output row, 1 when the
    /// previous picture is bound (motion-adaptive), 0.
    pub field: [u32; 4],
}

/// The stage's work on one plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PlaneJob {
    pub params: PlaneParams,
    /// Which of the input's bindings (component 0 to 2, alpha 3) holds the
    /// plane, at the offset `params` gives.
    pub binding: usize,
    /// Workgroups along the row's words and down the rows.
    pub groups: [u32; 2],
}

/// What the stage does to one picture, and the progressive picture it
/// leaves for the passes.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct DeinterlacePlan {
    pub planes: Vec<PlaneJob>,
    pub deinterlacer: Deinterlacer,
    /// The picture the passes read: the planes packed from offset 0 of the
    /// stage's output buffer, progressive.
    pub out: PictureDesc,
    /// Bytes of the stage's output buffer the planes fill.
    pub bytes: u64,
}

impl DeinterlacePlan {
    /// The stage's work on `bound` (the picture as the input stage bound
    /// it to buffers: each plane's offset in its binding), keeping `field`,
    /// with `deinterlacer` (motion-adaptive reads the previous picture as
    /// [`pack_previous`] lays it out).
    pub fn new(
        bound: &PictureDesc,
        field: Field,
        deinterlacer: Deinterlacer,
    ) -> Result<DeinterlacePlan, GpuError> {
        let motion = u32::from(deinterlacer == Deinterlacer::MotionAdaptive);
        let desc = bound.format.desc();
        let mut out = *bound;
        out.scan = Scan::Progressive;
        let mut planes = Vec::with_capacity(desc.planes.len());
        let mut offset = 0u64;
        for (index, format) in desc.planes.iter().enumerate() {
            let source = bound.planes[index];
            let unaligned = GpuError::UnalignedPlane {
                plane: index,
                offset: source.offset,
                pitch: source.pitch,
            };
            if source.pitch % 4 != 0 || source.offset % 4 != 0 {
                return Err(unaligned);
            }
            let (row_bytes, rows) = bound.plane_extent(index).ok_or(unaligned)?;
            let pitch = row_bytes.div_ceil(4) * 4;
            let binding = (0..4)
                .find(|&c| {
                    matches!(desc.component_or_alpha(c),
                        ComponentSource::Plane { plane, .. } if usize::from(plane) == index)
                })
                .ok_or_else(|| {
                    GpuError::Internal(format!(
                        "plane {index} of {} is read by no component",
                        bound.format.ffmpeg_name()
                    ))
                })?;
            let bytes_per_sample = u64::from(format.bytes_per_sample);
            let words = u32_of(pitch / 4, "a deinterlaced row")?;
            planes.push(PlaneJob {
                params: PlaneParams {
                    at: [
                        u32_of(source.offset, "an input plane's offset")?,
                        u32_of(source.pitch, "an input row")?,
                        u32_of(offset, "the deinterlaced planes")?,
                        u32_of(pitch, "a deinterlaced row")?,
                    ],
                    shape: [
                        u32_of(row_bytes / bytes_per_sample, "a deinterlaced row")?,
                        rows,
                        u32::from(format.bytes_per_sample),
                        u32::from(format.samples_per_texel),
                    ],
                    field: [field.parity(), words, motion, 0],
                },
                binding,
                groups: [words.div_ceil(GROUP_WIDTH), rows],
            });
            out.planes[index] = PlaneDesc { offset, pitch };
            offset += pitch * u64::from(rows);
        }
        u32_of(offset, "the deinterlaced planes")?;
        Ok(DeinterlacePlan {
            planes,
            deinterlacer,
            out,
            bytes: offset,
        })
    }
}

/// Whether `previous` can stand for the picture shown before `current` in
/// the motion-adaptive filter: the same format and size, in host memory
/// (the pictures a software decoder makes; a hardware surface would need
/// its own import, so its picture is deinterlaced spatially).
pub(super) fn usable_previous<'a>(
    current: &PictureDesc,
    previous: &'a crate::surface::Picture,
) -> Option<&'a HostPlanes> {
    let same = previous.desc.format == current.format
        && previous.desc.width == current.width
        && previous.desc.height == current.height;
    match &previous.surface {
        crate::surface::Surface::Host(host) if same => Some(host),
        _ => None,
    }
}

/// Copies the planes of `previous` (in `host`) as the stage's output lays
/// its planes out (`plan.out`), where the shader reads them: each row goes
/// to `write` with its byte offset, within `plan.bytes`.
pub(super) fn pack_previous(
    plan: &DeinterlacePlan,
    previous: &PictureDesc,
    host: &HostPlanes,
    mut write: impl FnMut(usize, &[u8]),
) -> Result<(), GpuError> {
    for (index, job) in plan.planes.iter().enumerate() {
        let [_, _, out_offset, out_pitch] = job.params.at;
        let (row_bytes, rows) = previous
            .plane_extent(index)
            .ok_or_else(|| GpuError::Internal(format!("plane {index} has no extent")))?;
        let source = previous.planes[index];
        let bytes: &[u8] = host.plane(index);
        for row in 0..u64::from(rows) {
            let from = source.offset + row * source.pitch;
            let to = u64::from(out_offset) + row * u64::from(out_pitch);
            let out_of_bounds = || {
                GpuError::Internal(format!(
                    "plane {index} row {row} of the previous picture is out of bounds"
                ))
            };
            if to + row_bytes > plan.bytes {
                return Err(out_of_bounds());
            }
            let line = usize::try_from(from)
                .ok()
                .and_then(|f| bytes.get(f..f + row_bytes as usize))
                .ok_or_else(out_of_bounds)?;
            write(to as usize, line);
        }
    }
    Ok(())
}

fn u32_of(value: u64, what: &'static str) -> Result<u32, GpuError> {
    u32::try_from(value).map_err(|_| GpuError::TooLarge {
        what,
        limit: "u32 byte offsets",
        requested: value,
        allowed: u64::from(u32::MAX),
    })
}

/// The stage's compute pipeline and bind group layout, compiled once per
/// device on the first interlaced picture.
pub(crate) struct DeinterlaceStage {
    pub(super) layout: wgpu::BindGroupLayout,
    pub(super) pipeline: wgpu::ComputePipeline,
}

impl DeinterlaceStage {
    pub(super) fn compile(device: &wgpu::Device) -> DeinterlaceStage {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("stills deinterlace"),
            source: wgpu::ShaderSource::Wgsl(SOURCE.into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("stills deinterlace bindings"),
            entries: &[
                compute_binding(
                    0,
                    wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: true,
                        min_binding_size: wgpu::BufferSize::new(
                            std::mem::size_of::<PlaneParams>() as u64
                        ),
                    },
                ),
                storage_binding(1, true),
                storage_binding(2, false),
                storage_binding(3, true),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("stills deinterlace layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("deinterlace"),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("deinterlace"),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            cache: None,
        });
        DeinterlaceStage { layout, pipeline }
    }
}

const SOURCE: &str = include_str!("../../shaders/deinterlace.wgsl");

#[cfg(test)]
mod tests {
    use std::mem::offset_of;

    use wgpu::naga;

    use super::*;
    use crate::asset::color::{ColorInfo, HdrInfo};
    use crate::picture::DecodedFormat;

    #[test]
    fn the_wgsl_validates_and_its_uniform_matches() {
        let module = naga::front::wgsl::parse_str(SOURCE).expect("the WGSL parses");
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .expect("the WGSL validates");
        let (members, span) = crate::gpu::shaders::struct_layout(&module, "Plane");
        let rust = [
            ("at".to_string(), offset_of!(PlaneParams, at) as u32),
            ("shape".to_string(), offset_of!(PlaneParams, shape) as u32),
            ("field".to_string(), offset_of!(PlaneParams, field) as u32),
        ];
        assert_eq!(members, rust);
        assert_eq!(span as usize, std::mem::size_of::<PlaneParams>());
        assert!(std::mem::size_of::<PlaneParams>() as u64 <= PARAMS_STRIDE);
    }

    fn interlaced(width: u32, height: u32, format: DecodedFormat) -> PictureDesc {
        let mut desc =
            PictureDesc::packed(width, height, format, ColorInfo::UNSPECIFIED, HdrInfo::SDR)
                .unwrap();
        desc.scan = Scan::Interlaced {
            top_field_first: false,
        };
        desc
    }

    #[test]
    fn planes_are_packed_word_aligned_and_progressive() {
        // 4:2:0 with odd chroma rows: the source as an upload binds it
        // (each plane from its own binding's start).
        let mut bound = interlaced(722, 577, DecodedFormat::Yuv420p);
        for plane in bound.planes.iter_mut().take(3) {
            plane.offset = 0;
            plane.pitch = plane.pitch.div_ceil(64) * 64;
        }
        let plan = DeinterlacePlan::new(&bound, Field::Bottom, Deinterlacer::Spatial).unwrap();
        assert_eq!(plan.out.scan, Scan::Progressive);
        let luma = plan.planes[0];
        assert_eq!(luma.params.at, [0, 768, 0, 724]);
        assert_eq!(luma.params.shape, [722, 577, 1, 1]);
        assert_eq!(luma.params.field, [1, 181, 0, 0]);
        assert_eq!(luma.groups, [3, 577]);
        let cb = plan.planes[1];
        assert_eq!(cb.params.at, [0, 384, 724 * 577, 364]);
        assert_eq!(cb.params.shape, [361, 289, 1, 1]);
        assert_eq!(cb.binding, 1);
        assert_eq!(plan.planes[2].binding, 2);
        assert_eq!(plan.bytes, 724 * 577 + 2 * 364 * 289);
        assert_eq!(
            plan.out
                .planes()
                .iter()
                .map(|p| p.pitch)
                .collect::<Vec<_>>(),
            [724, 364, 364]
        );
    }

    #[test]
    fn interleaved_and_wide_samples_keep_their_texel_shape() {
        let nv12 = DeinterlacePlan::new(
            &interlaced(64, 48, DecodedFormat::Nv12),
            Field::Top,
            Deinterlacer::Spatial,
        )
        .unwrap();
        assert_eq!(nv12.planes[1].params.shape, [64, 24, 1, 2]);
        assert_eq!(nv12.planes[1].binding, 1);
        let p010 = DeinterlacePlan::new(
            &interlaced(64, 48, DecodedFormat::P010),
            Field::Top,
            Deinterlacer::MotionAdaptive,
        )
        .unwrap();
        assert_eq!(p010.planes[0].params.shape, [64, 48, 2, 1]);
        assert_eq!(p010.planes[1].params.shape, [64, 24, 2, 2]);
        // Motion-adaptive: the shader reads the previous picture.
        assert_eq!(p010.planes[0].params.field, [0, 32, 1, 0]);
        let alpha = DeinterlacePlan::new(
            &interlaced(8, 8, DecodedFormat::Yuva420p),
            Field::Top,
            Deinterlacer::Spatial,
        )
        .unwrap();
        assert_eq!(alpha.planes[3].binding, 3);
    }

    #[test]
    fn unaligned_input_is_refused() {
        let mut bound = interlaced(64, 48, DecodedFormat::Yuv420p);
        bound.planes[1].offset += 2;
        assert!(matches!(
            DeinterlacePlan::new(&bound, Field::Top, Deinterlacer::Spatial),
            Err(GpuError::UnalignedPlane { plane: 1, .. })
        ));
    }

    #[test]
    fn the_previous_picture_is_packed_as_the_output_lays_planes_out() {
        // A 6x4 4:2:0 picture with padded rows, each byte its plane,
        // row and column.
        let mut previous = interlaced(6, 4, DecodedFormat::Yuv420p);
        let pitches = [8u64, 4, 4];
        let mut planes = Vec::new();
        for (index, &pitch) in pitches.iter().enumerate() {
            previous.planes[index] = PlaneDesc { offset: 2, pitch };
            let rows = if index == 0 { 4 } else { 2 };
            let mut bytes = vec![0xEEu8; 2 + (pitch * rows) as usize];
            for row in 0..rows {
                for x in 0..pitch {
                    bytes[(2 + row * pitch + x) as usize] =
                        (index * 64) as u8 + (row * 16 + x) as u8;
                }
            }
            planes.push(bytes.into());
        }
        let host = crate::surface::Picture::host(previous, planes).unwrap();
        let crate::surface::Surface::Host(host_planes) = &host.surface else {
            unreachable!("a host picture");
        };
        // The current picture as an upload binds it.
        let mut bound = interlaced(6, 4, DecodedFormat::Yuv420p);
        for plane in bound.planes.iter_mut().take(3) {
            *plane = PlaneDesc {
                offset: 0,
                pitch: 64,
            };
        }
        let plan = DeinterlacePlan::new(&bound, Field::Top, Deinterlacer::MotionAdaptive).unwrap();
        assert!(usable_previous(&bound, &host).is_some());
        let mut dst = vec![0u8; plan.bytes as usize];
        pack_previous(&plan, &previous, host_planes, |at, row| {
            dst[at..at + row.len()].copy_from_slice(row)
        })
        .unwrap();
        // Luma rows of 6 bytes at a pitch of 8, then chroma rows of 3 at 4.
        assert_eq!(&dst[..6], &[0, 1, 2, 3, 4, 5]);
        assert_eq!(&dst[8..14], &[16, 17, 18, 19, 20, 21]);
        assert_eq!(&dst[24..30], &[48, 49, 50, 51, 52, 53]);
        assert_eq!(&dst[32..35], &[64, 65, 66]);
        assert_eq!(&dst[36..39], &[80, 81, 82]);
        assert_eq!(&dst[40..43], &[128, 129, 130]);
        assert_eq!(&dst[44..47], &[144, 145, 146]);
        assert_eq!(plan.bytes, 48);
        // Another size is no previous picture of this one.
        let other = interlaced(8, 4, DecodedFormat::Yuv420p);
        assert!(usable_previous(&other, &host).is_none());
    }
}
