//! The input stage's CUDA arm (NVDEC): a picture in CUDA memory reaches
//! the pipeline's device without passing through the host. The pipeline
//! exports buffer memory as an opaque fd, CUDA imports it into the
//! decoder's context, the picture's planes are copied into it device to
//! device on the decoder's stream, and the frame's submission waits for a
//! timeline semaphore value that CUDA signals on that stream after the
//! copies.
//!
//! Buffers are pooled by size (a few, most recently used kept), so in a
//! steady state a frame allocates and imports nothing: the render is
//! finished (read back) before the next frame's copy reuses a buffer.
//! Where the device cannot export a timeline semaphore the copies are
//! ordered by waiting for the stream on the host (`cuStreamSynchronize`),
//! which [`CudaInputs::ordering`] names.

use std::sync::Arc;

use crate::cuda::interop::{self, ExternalBuffer, ExternalTimeline, PlaneCopy};
use crate::picture::{PictureDesc, PlaneDesc};
use crate::surface::CudaSurface;
use crate::vulkan::{memory, semaphore::Timeline};

use super::input::{self, bind_in_place, BoundInput};
use super::{GpuContext, GpuError};

/// How many differently sized copy buffers stay imported.
const POOLED_BUFFERS: usize = 4;

/// Where each plane goes in the copy buffer: rows padded to a multiple of
/// this, planes starting on it (CUDA copies fastest between aligned rows,
/// and it is at least every device's storage binding alignment we use).
const PLANE_ALIGNMENT: u64 = 256;

/// How copies into the pipeline's memory are ordered before the frame's
/// GPU work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CudaOrdering {
    /// CUDA signals a Vulkan timeline semaphore the submission waits on.
    TimelineSemaphore,
    /// The host waits for the CUDA stream before submitting (the device
    /// cannot export timeline semaphores).
    StreamSynchronize,
}

struct PooledBuffer {
    size: u64,
    buffer: wgpu::Buffer,
    cuda: ExternalBuffer,
}

/// The pipeline's CUDA state for one CUDA context: the imported timeline
/// and the pool of imported copy buffers.
pub(super) struct CudaInputs {
    context: usize,
    timeline: Option<(Arc<Timeline>, ExternalTimeline)>,
    /// The last value signalled on the timeline.
    signalled: u64,
    /// Most recently used last.
    pool: Vec<PooledBuffer>,
}

impl CudaInputs {
    fn new(ctx: &GpuContext, context: usize) -> Result<CudaInputs, GpuError> {
        let timeline = if ctx.interop().opaque_fd_semaphores {
            let timeline = Timeline::exportable(ctx, 0)?;
            let fd = timeline.export_opaque_fd(ctx)?;
            let imported = ExternalTimeline::import(context, fd).map_err(cuda_error)?;
            Some((Arc::new(timeline), imported))
        } else {
            None
        };
        Ok(CudaInputs {
            context,
            timeline,
            signalled: 0,
            pool: Vec::new(),
        })
    }

    /// How this state orders CUDA's copies before the frame's GPU work.
    pub(super) fn ordering(&self) -> CudaOrdering {
        match self.timeline {
            Some(_) => CudaOrdering::TimelineSemaphore,
            None => CudaOrdering::StreamSynchronize,
        }
    }

    /// A pooled buffer of `size` bytes, exported and imported on first use.
    fn buffer(&mut self, ctx: &GpuContext, size: u64) -> Result<&PooledBuffer, GpuError> {
        if let Some(at) = self.pool.iter().position(|b| b.size == size) {
            let used = self.pool.remove(at);
            self.pool.push(used);
        } else {
            let exported = memory::export_buffer(ctx, size, wgpu::BufferUsages::STORAGE)?;
            let cuda = ExternalBuffer::import(
                self.context,
                exported.fd,
                exported.allocation_size,
                exported.dedicated,
            )
            .map_err(cuda_error)?;
            if self.pool.len() >= POOLED_BUFFERS {
                self.pool.remove(0);
            }
            self.pool.push(PooledBuffer {
                size,
                buffer: exported.buffer,
                cuda,
            });
        }
        Ok(self.pool.last().expect("a buffer was just pooled"))
    }
}

/// The picture as laid out in the copy buffer, the copies that put it
/// there from `addresses` (each plane's device address; the picture's
/// plane offsets are relative to them) and the buffer's size; `None` when
/// the picture's extent overflows.
pub(super) fn copy_layout(
    picture: &PictureDesc,
    addresses: &[u64],
) -> Option<(PictureDesc, Vec<PlaneCopy>, u64)> {
    let mut placed = *picture;
    let mut copies = Vec::with_capacity(picture.planes().len());
    let mut end = 0u64;
    for (index, plane) in picture.planes().iter().enumerate() {
        let (row_bytes, rows) = picture.plane_extent(index)?;
        let pitch = row_bytes.checked_next_multiple_of(PLANE_ALIGNMENT)?;
        let offset = end.checked_next_multiple_of(PLANE_ALIGNMENT)?;
        end = offset.checked_add(pitch.checked_mul(u64::from(rows))?)?;
        copies.push(PlaneCopy {
            source: addresses.get(index)?.checked_add(plane.offset)?,
            source_pitch: plane.pitch,
            offset,
            pitch,
            row_bytes,
            rows: u64::from(rows),
        });
        placed.planes[index] = PlaneDesc { offset, pitch };
    }
    Some((placed, copies, end.max(4)))
}

/// Copies `surface`'s planes into a pooled buffer of the pipeline's device
/// and binds them there, with the wait that orders the copy before the
/// frame's work. `state` is the pipeline's CUDA state, made (or remade for
/// another CUDA context) here.
pub(super) fn import_cuda(
    ctx: &GpuContext,
    state: &mut Option<CudaInputs>,
    picture: &PictureDesc,
    surface: &CudaSurface,
) -> Result<BoundInput, GpuError> {
    let (placed, copies, size) =
        copy_layout(picture, &surface.planes).ok_or(GpuError::UnsupportedSurface {
            kind: "cuda",
            reason: "its planes' extent overflows",
        })?;
    if state.as_ref().is_none_or(|s| s.context != surface.context) {
        *state = Some(CudaInputs::new(ctx, surface.context)?);
    }
    let inputs = state.as_mut().expect("made above");
    let buffer = inputs.buffer(ctx, size)?;
    interop::copy_planes(&buffer.cuda, surface.stream, &copies).map_err(cuda_error)?;
    let buffer = buffer.buffer.clone();
    let mut bound = bind_in_place(&placed, input::binding_alignment(ctx), |_| &buffer)?;
    match &inputs.timeline {
        Some((timeline, imported)) => {
            let value = inputs.signalled + 1;
            imported.signal(surface.stream, value).map_err(cuda_error)?;
            inputs.signalled = value;
            bound.timelines.push((Arc::clone(timeline), value));
        }
        None => interop::synchronize(surface.context, surface.stream).map_err(cuda_error)?,
    }
    Ok(bound)
}

fn cuda_error(e: crate::cuda::CudaError) -> GpuError {
    GpuError::Cuda(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::color::{ColorInfo, HdrInfo};
    use crate::picture::{DecodedFormat, MAX_PLANES};

    fn cuda_nv12(width: u32, height: u32, pitch: u64, crop_top: u64) -> PictureDesc {
        let mut desc = PictureDesc::packed(
            width,
            height,
            DecodedFormat::Nv12,
            ColorInfo::UNSPECIFIED,
            HdrInfo::SDR,
        )
        .unwrap();
        desc.planes[0] = PlaneDesc {
            offset: crop_top * pitch,
            pitch,
        };
        desc.planes[1] = PlaneDesc {
            offset: crop_top / 2 * pitch,
            pitch,
        };
        desc
    }

    #[test]
    fn planes_land_aligned_with_padded_pitches() {
        let picture = cuda_nv12(1920, 1080, 2048, 0);
        let addresses = [0x7000_0000, 0x7020_0000, 0];
        let (placed, copies, size) = copy_layout(&picture, &addresses).unwrap();
        // 1920 rounds up to 2048 bytes a row.
        let luma = PlaneDesc {
            offset: 0,
            pitch: 2048,
        };
        let chroma = PlaneDesc {
            offset: 2048 * 1080,
            pitch: 2048,
        };
        assert_eq!((placed.planes[0], placed.planes[1]), (luma, chroma));
        assert_eq!(size, 2048 * 1080 + 2048 * 540);
        assert_eq!(copies.len(), 2);
        assert_eq!(copies[1].source, 0x7020_0000);
        assert_eq!(copies[1].source_pitch, 2048);
        assert_eq!((copies[1].row_bytes, copies[1].rows), (1920, 540));
        assert!(interop::check_copies(&copies, size).is_ok());
    }

    #[test]
    fn odd_sizes_pad_rows_and_a_top_crop_moves_the_sources() {
        let picture = cuda_nv12(162, 122, 256, 2);
        let addresses = [0x1000, 0x9000, 0];
        let (placed, copies, size) = copy_layout(&picture, &addresses).unwrap();
        assert_eq!(
            placed.planes[0],
            PlaneDesc {
                offset: 0,
                pitch: 256
            }
        );
        assert_eq!(
            placed.planes[1].offset,
            (256 * 122u64).next_multiple_of(256)
        );
        assert_eq!(copies[0].source, 0x1000 + 2 * 256);
        assert_eq!(copies[1].source, 0x9000 + 256);
        assert_eq!(copies[1].row_bytes, 162);
        assert_eq!(copies[1].rows, 61);
        assert_eq!(size, placed.planes[1].offset + 256 * 61);
        assert!(placed.planes[..MAX_PLANES.min(2)]
            .iter()
            .all(|p| p.pitch % 4 == 0 && p.offset % 256 == 0));
    }
}
