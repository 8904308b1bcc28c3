//! Vulkan memory and semaphores brought into CUDA, and the copies that fill
//! that memory from decoded CUDA frames: the NVDEC hand-over. The pipeline
//! exports a buffer's memory and a timeline semaphore as opaque fds; CUDA
//! imports both into the decoder's context ([`ExternalBuffer`],
//! [`ExternalTimeline`]); each picture's planes are copied device to device
//! on the decoder's stream ([`copy_planes`]), which then signals the
//! timeline that the Vulkan submission waits on. Nothing passes through
//! host memory.

use std::os::fd::{IntoRawFd, OwnedFd};

use cudarc::driver::sys;

use super::{check, driver, CudaError};

/// Makes `context` current on this thread for the guard's life (CUDA
/// calls act on the current context), restoring the previous one after.
struct Current;

impl Current {
    fn push(context: usize) -> Result<Current, CudaError> {
        driver()?;
        // SAFETY: `context` is a live CUcontext (the decoder's, which the
        // callers' surfaces keep alive); pushing only changes this thread's
        // current context, which `drop` pops again.
        check("cuCtxPushCurrent_v2", unsafe {
            sys::cuCtxPushCurrent_v2(context as sys::CUcontext)
        })?;
        Ok(Current)
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        let mut popped: sys::CUcontext = std::ptr::null_mut();
        // SAFETY: pops the context `push` made current on this thread.
        unsafe { sys::cuCtxPopCurrent_v2(&mut popped) };
    }
}

/// Memory another API exported as an opaque fd, imported into a CUDA
/// context and mapped as one linear buffer of `size` bytes.
#[derive(Debug)]
pub(crate) struct ExternalBuffer {
    context: usize,
    memory: sys::CUexternalMemory,
    pointer: sys::CUdeviceptr,
    size: u64,
}

// SAFETY: the handles are plain values the driver accepts from any thread
// (with the context made current, as every use here does).
unsafe impl Send for ExternalBuffer {}
// SAFETY: as above; `&ExternalBuffer` only reads the handles.
unsafe impl Sync for ExternalBuffer {}

impl ExternalBuffer {
    /// Imports `fd` (an opaque fd of `size` bytes of device memory on the
    /// same GPU as `context`; `dedicated` when it was a dedicated
    /// allocation) and maps all of it. CUDA owns the fd from then on; on
    /// failure it is closed here.
    pub(crate) fn import(
        context: usize,
        fd: OwnedFd,
        size: u64,
        dedicated: bool,
    ) -> Result<ExternalBuffer, CudaError> {
        let _current = Current::push(context)?;
        // SAFETY: plain C structs, for which all-zero is a valid value.
        let mut desc: sys::CUDA_EXTERNAL_MEMORY_HANDLE_DESC = unsafe { std::mem::zeroed() };
        desc.type_ = sys::CUexternalMemoryHandleType::CU_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD;
        desc.size = size;
        desc.flags = if dedicated {
            sys::CUDA_EXTERNAL_MEMORY_DEDICATED
        } else {
            0
        };
        let raw = fd.into_raw_fd();
        desc.handle.fd = raw;
        let mut memory: sys::CUexternalMemory = std::ptr::null_mut();
        // SAFETY: a valid descriptor and out pointer; the driver checks the
        // fd and its size against what it describes.
        let imported = check("cuImportExternalMemory", unsafe {
            sys::cuImportExternalMemory(&mut memory, &desc)
        });
        if let Err(e) = imported {
            // SAFETY: the import failed, so the fd is still ours to close.
            drop(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) });
            return Err(e);
        }
        // SAFETY: as above.
        let mut buffer: sys::CUDA_EXTERNAL_MEMORY_BUFFER_DESC = unsafe { std::mem::zeroed() };
        buffer.offset = 0;
        buffer.size = size;
        let mut pointer: sys::CUdeviceptr = 0;
        // SAFETY: the memory was just imported with `size` bytes.
        let mapped = check("cuExternalMemoryGetMappedBuffer", unsafe {
            sys::cuExternalMemoryGetMappedBuffer(&mut pointer, memory, &buffer)
        });
        if let Err(e) = mapped {
            // SAFETY: the memory is ours and nothing maps it.
            unsafe { sys::cuDestroyExternalMemory(memory) };
            return Err(e);
        }
        Ok(ExternalBuffer {
            context,
            memory,
            pointer,
            size,
        })
    }
}

impl Drop for ExternalBuffer {
    fn drop(&mut self) {
        if let Ok(_current) = Current::push(self.context) {
            // SAFETY: the mapping and the memory are ours; no copy into them
            // is pending (each picture's copy is finished before the
            // pipeline's submission that waits on it completes, and the
            // owner drops this only after that).
            unsafe {
                sys::cuMemFree_v2(self.pointer);
                sys::cuDestroyExternalMemory(self.memory);
            }
        }
    }
}

/// A Vulkan timeline semaphore imported into a CUDA context, for CUDA to
/// signal on a stream.
#[derive(Debug)]
pub(crate) struct ExternalTimeline {
    context: usize,
    semaphore: sys::CUexternalSemaphore,
}

// SAFETY: as for `ExternalBuffer`.
unsafe impl Send for ExternalTimeline {}
// SAFETY: as for `ExternalBuffer`.
unsafe impl Sync for ExternalTimeline {}

impl ExternalTimeline {
    /// Imports `fd`, a timeline semaphore exported as an opaque fd by a
    /// device on the same GPU as `context`. CUDA owns the fd from then on;
    /// on failure it is closed here.
    pub(crate) fn import(context: usize, fd: OwnedFd) -> Result<ExternalTimeline, CudaError> {
        let _current = Current::push(context)?;
        // SAFETY: a plain C struct, for which all-zero is a valid value.
        let mut desc: sys::CUDA_EXTERNAL_SEMAPHORE_HANDLE_DESC = unsafe { std::mem::zeroed() };
        desc.type_ = sys::CUexternalSemaphoreHandleType::CU_EXTERNAL_SEMAPHORE_HANDLE_TYPE_TIMELINE_SEMAPHORE_FD;
        let raw = fd.into_raw_fd();
        desc.handle.fd = raw;
        let mut semaphore: sys::CUexternalSemaphore = std::ptr::null_mut();
        // SAFETY: a valid descriptor and out pointer; the driver checks the fd.
        let imported = check("cuImportExternalSemaphore", unsafe {
            sys::cuImportExternalSemaphore(&mut semaphore, &desc)
        });
        if let Err(e) = imported {
            // SAFETY: the import failed, so the fd is still ours to close.
            drop(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) });
            return Err(e);
        }
        Ok(ExternalTimeline { context, semaphore })
    }

    /// Sets the semaphore to `value` once the work queued on `stream` so far
    /// is done.
    pub(crate) fn signal(&self, stream: usize, value: u64) -> Result<(), CudaError> {
        let _current = Current::push(self.context)?;
        // SAFETY: a plain C struct, for which all-zero is a valid value.
        let mut params: sys::CUDA_EXTERNAL_SEMAPHORE_SIGNAL_PARAMS = unsafe { std::mem::zeroed() };
        params.params.fence.value = value;
        // SAFETY: one imported semaphore of this context, one parameter
        // block; `stream` is the decoder's stream of this context.
        check("cuSignalExternalSemaphoresAsync", unsafe {
            sys::cuSignalExternalSemaphoresAsync(
                &self.semaphore,
                &params,
                1,
                stream as sys::CUstream,
            )
        })
    }
}

impl Drop for ExternalTimeline {
    fn drop(&mut self) {
        if let Ok(_current) = Current::push(self.context) {
            // SAFETY: the semaphore is ours; a signal still queued keeps
            // what it needs alive inside the driver.
            unsafe { sys::cuDestroyExternalSemaphore(self.semaphore) };
        }
    }
}

/// One plane's rows, copied from CUDA memory into an [`ExternalBuffer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlaneCopy {
    /// The device address of the plane's first byte to copy.
    pub(crate) source: u64,
    pub(crate) source_pitch: u64,
    /// Where the plane starts in the destination buffer, and its pitch
    /// there.
    pub(crate) offset: u64,
    pub(crate) pitch: u64,
    pub(crate) row_bytes: u64,
    pub(crate) rows: u64,
}

impl PlaneCopy {
    /// The destination bytes the copy reaches, from the buffer's start:
    /// `None` when the rows do not fit their pitches or it overflows.
    pub(crate) fn end(&self) -> Option<u64> {
        if self.row_bytes > self.pitch || self.row_bytes > self.source_pitch {
            return None;
        }
        match self.rows {
            0 => Some(self.offset),
            rows => self
                .pitch
                .checked_mul(rows - 1)?
                .checked_add(self.row_bytes)?
                .checked_add(self.offset),
        }
    }
}

/// Checks that every copy lands inside a destination of `size` bytes.
pub(crate) fn check_copies(copies: &[PlaneCopy], size: u64) -> Result<(), CudaError> {
    for copy in copies {
        match copy.end() {
            Some(end) if end <= size => {}
            end => {
                return Err(CudaError::OutOfBounds {
                    needed: end.unwrap_or(u64::MAX),
                    size,
                })
            }
        }
    }
    Ok(())
}

/// Queues `copies` into `destination` on `stream` (of the destination's
/// context), after whatever the stream already holds (the decode of the
/// source picture). The sources are device addresses of the context's
/// own allocations (a decoded CUDA frame the caller keeps alive until the
/// copy is done); the destination ranges are checked here.
pub(crate) fn copy_planes(
    destination: &ExternalBuffer,
    stream: usize,
    copies: &[PlaneCopy],
) -> Result<(), CudaError> {
    check_copies(copies, destination.size)?;
    let _current = Current::push(destination.context)?;
    for copy in copies {
        // SAFETY: a plain C struct, for which all-zero is a valid value.
        let mut params: sys::CUDA_MEMCPY2D = unsafe { std::mem::zeroed() };
        params.srcMemoryType = sys::CUmemorytype::CU_MEMORYTYPE_DEVICE;
        params.srcDevice = copy.source;
        params.srcPitch = copy.source_pitch as usize;
        params.dstMemoryType = sys::CUmemorytype::CU_MEMORYTYPE_DEVICE;
        params.dstDevice = destination.pointer + copy.offset;
        params.dstPitch = copy.pitch as usize;
        params.WidthInBytes = copy.row_bytes as usize;
        params.Height = copy.rows as usize;
        // SAFETY: the destination range lies inside the mapped buffer
        // (`check_copies`); the source is the caller's live CUDA frame
        // (this function's contract), which the driver checks is device
        // memory of this context.
        check("cuMemcpy2DAsync_v2", unsafe {
            sys::cuMemcpy2DAsync_v2(&params, stream as sys::CUstream)
        })?;
    }
    Ok(())
}

/// Waits on the host until everything queued on `stream` is done: the
/// ordering used where the pipeline's device cannot export a timeline
/// semaphore for CUDA to signal.
pub(crate) fn synchronize(context: usize, stream: usize) -> Result<(), CudaError> {
    let _current = Current::push(context)?;
    // SAFETY: the decoder's stream of this context.
    check("cuStreamSynchronize", unsafe {
        sys::cuStreamSynchronize(stream as sys::CUstream)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nv12_luma(offset: u64) -> PlaneCopy {
        PlaneCopy {
            source: 0x1000,
            source_pitch: 512,
            offset,
            pitch: 320,
            row_bytes: 320,
            rows: 240,
        }
    }

    #[test]
    fn a_copy_reaches_its_last_row_at_its_pitch() {
        assert_eq!(nv12_luma(0).end(), Some(320 * 240));
        assert_eq!(nv12_luma(256).end(), Some(256 + 320 * 240));
        let empty = PlaneCopy {
            rows: 0,
            ..nv12_luma(64)
        };
        assert_eq!(empty.end(), Some(64));
    }

    #[test]
    fn copies_past_the_destination_or_wider_than_a_pitch_are_refused() {
        assert!(check_copies(&[nv12_luma(0)], 320 * 240).is_ok());
        assert_eq!(
            check_copies(&[nv12_luma(1)], 320 * 240),
            Err(CudaError::OutOfBounds {
                needed: 320 * 240 + 1,
                size: 320 * 240
            })
        );
        let wide = PlaneCopy {
            row_bytes: 600,
            ..nv12_luma(0)
        };
        assert!(check_copies(&[wide], u64::MAX).is_err());
        let overflowing = PlaneCopy {
            pitch: u64::MAX,
            ..nv12_luma(0)
        };
        assert!(check_copies(&[overflowing], u64::MAX).is_err());
    }
}
