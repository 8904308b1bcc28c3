//! Semaphores shared with other APIs, and submitting wgpu work that waits
//! on or signals them.
//!
//! - A DMA-BUF's fence arrives as a `sync_file`: [`SyncFile::import`] makes
//!   it a binary semaphore, which one submission consumes by waiting on it.
//! - The CUDA hand-over (mpv's `hwdec_cuda_vk` route) uses a timeline
//!   semaphore that Vulkan creates and exports as an opaque fd for
//!   `cuImportExternalSemaphore`: [`Timeline::exportable`] and
//!   [`Timeline::export_opaque_fd`].
//! - [`submit`] hands wgpu command buffers to the queue with those waits and
//!   timeline signals, through wgpu-hal's `Queue::add_wait_semaphore` /
//!   `add_signal_semaphore`, and keeps the semaphores alive until that
//!   submission is done.
//!
//! The types keep Vulkan's rules from safe code: a binary semaphore is
//! waited on once (a [`SyncFile`] is moved into the submission), and this
//! side signals a timeline only with values above every value it signalled
//! before.
//!
//! wgpu-hal's wait and signal lists belong to the queue, and its next
//! submission takes them, whoever makes it. [`submit`] adds and submits
//! under one lock; work submitted through `wgpu::Queue::submit` by another
//! thread in between could still take them, so a context whose submissions
//! wait on semaphores should submit through [`submit`] only.

use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ash::vk;

use super::device::{failed, VulkanDevice};
use super::memory::vulkan_of;
use super::Vk;
use crate::gpu::{scoped, GpuContext, GpuError, ImportError, ImportKind};

const TIMELINE: ImportKind = ImportKind::TimelineSemaphore;

/// A `VkSemaphore`, destroyed when its last holder (including a submission
/// that uses it, until that is done) lets go.
struct Raw {
    device: ash::Device,
    semaphore: vk::Semaphore,
}

impl Drop for Raw {
    fn drop(&mut self) {
        // SAFETY: the semaphore is ours, and no pending submission refers to
        // it: `submit` holds a reference until its work is done.
        unsafe { self.device.destroy_semaphore(self.semaphore, None) };
    }
}

impl Raw {
    fn create(
        vulkan: &VulkanDevice,
        what: ImportKind,
        timeline: Option<u64>,
        export: bool,
    ) -> Result<Arc<Raw>, ImportError> {
        let mut kind = vk::SemaphoreTypeCreateInfo::default();
        let mut exported = vk::ExportSemaphoreCreateInfo::default()
            .handle_types(vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_FD);
        let mut info = vk::SemaphoreCreateInfo::default();
        if let Some(initial) = timeline {
            kind = kind
                .semaphore_type(vk::SemaphoreType::TIMELINE)
                .initial_value(initial);
            info = info.push_next(&mut kind);
        }
        if export {
            info = info.push_next(&mut exported);
        }
        // SAFETY: a valid create info; timeline semaphores and export are
        // only asked for where the callers checked them enabled.
        let semaphore = unsafe { vulkan.device.create_semaphore(&info, None) }
            .map_err(failed(what, "vkCreateSemaphore"))?;
        Ok(Arc::new(Raw {
            device: vulkan.device.clone(),
            semaphore,
        }))
    }

    fn of(&self, vulkan: &VulkanDevice, what: ImportKind) -> Result<(), ImportError> {
        if self.device.handle() == vulkan.device.handle() {
            Ok(())
        } else {
            Err(ImportError::NotImportable { what })
        }
    }
}

/// A `sync_file` (a DMA-BUF's fence) imported as a binary semaphore: one
/// submission waits on it, and takes it.
pub(crate) struct SyncFile {
    raw: Arc<Raw>,
}

impl std::fmt::Debug for SyncFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SyncFile")
            .field(&self.raw.semaphore)
            .finish()
    }
}

impl SyncFile {
    /// Imports `fd`. Vulkan takes ownership of the fd on success; on
    /// failure it is closed, once, by its `OwnedFd`.
    pub(crate) fn import(ctx: &GpuContext, fd: OwnedFd) -> Result<SyncFile, GpuError> {
        let what = ImportKind::SyncFdSemaphore;
        let vulkan = vulkan_of(ctx, what)?;
        let Some(fns) = vulkan.semaphore_fd.as_ref() else {
            return Err(ImportError::MissingExtension {
                what,
                extension: "VK_KHR_external_semaphore_fd",
            }
            .into());
        };
        if !ctx.interop().sync_fd_semaphores {
            return Err(ImportError::NotImportable { what }.into());
        }
        let raw = Raw::create(vulkan, what, None, false)?;
        // A sync_file payload is always imported temporarily: after the wait
        // the semaphore is unsignalled again.
        let info = vk::ImportSemaphoreFdInfoKHR::default()
            .semaphore(raw.semaphore)
            .flags(vk::SemaphoreImportFlags::TEMPORARY)
            .handle_type(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD)
            .fd(fd.as_raw_fd());
        // SAFETY: the semaphore is ours and unused; the fd is open, and the
        // driver checks that it is a sync_file.
        unsafe { fns.import_semaphore_fd(&info) }
            .map_err(failed(what, "vkImportSemaphoreFdKHR"))?;
        // Vulkan took ownership of the fd: forget it without closing.
        let _ = fd.into_raw_fd();
        Ok(SyncFile { raw })
    }
}

/// A timeline semaphore of a context's device.
pub(crate) struct Timeline {
    raw: Arc<Raw>,
    /// The highest value this side has signalled or asked to signal (or the
    /// initial value): the next signal must be above it.
    signalled: AtomicU64,
}

impl std::fmt::Debug for Timeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timeline")
            .field("raw", &self.raw.semaphore)
            .field("signalled", &self.signalled)
            .finish()
    }
}

impl Timeline {
    /// A timeline semaphore starting at `initial`, local to the device.
    pub(crate) fn new(ctx: &GpuContext, initial: u64) -> Result<Timeline, GpuError> {
        Self::create(ctx, initial, false)
    }

    /// A timeline semaphore starting at `initial` that can be exported as an
    /// opaque fd ([`export_opaque_fd`](Self::export_opaque_fd)).
    pub(crate) fn exportable(ctx: &GpuContext, initial: u64) -> Result<Timeline, GpuError> {
        Self::create(ctx, initial, true)
    }

    fn create(ctx: &GpuContext, initial: u64, export: bool) -> Result<Timeline, GpuError> {
        let vulkan = vulkan_of(ctx, TIMELINE)?;
        if !ctx.interop().timeline_semaphores {
            return Err(ImportError::MissingExtension {
                what: TIMELINE,
                extension: "Vulkan 1.2 timeline semaphores",
            }
            .into());
        }
        if export {
            if vulkan.semaphore_fd.is_none() {
                return Err(ImportError::MissingExtension {
                    what: TIMELINE,
                    extension: "VK_KHR_external_semaphore_fd",
                }
                .into());
            }
            if !ctx.interop().opaque_fd_semaphores {
                return Err(ImportError::NotImportable { what: TIMELINE }.into());
            }
        }
        Ok(Timeline {
            raw: Raw::create(vulkan, TIMELINE, Some(initial), export)?,
            signalled: AtomicU64::new(initial),
        })
    }

    /// A new opaque fd for this (exportable) semaphore, owned by the caller.
    pub(crate) fn export_opaque_fd(&self, ctx: &GpuContext) -> Result<OwnedFd, GpuError> {
        let vulkan = vulkan_of(ctx, TIMELINE)?;
        let Some(fns) = vulkan.semaphore_fd.as_ref() else {
            return Err(ImportError::MissingExtension {
                what: TIMELINE,
                extension: "VK_KHR_external_semaphore_fd",
            }
            .into());
        };
        self.raw.of(vulkan, TIMELINE)?;
        let info = vk::SemaphoreGetFdInfoKHR::default()
            .semaphore(self.raw.semaphore)
            .handle_type(vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_FD);
        // SAFETY: the semaphore is ours, of this device; one not created
        // exportable is reported by the driver as an error.
        let fd = unsafe { fns.get_semaphore_fd(&info) }
            .map_err(failed(TIMELINE, "vkGetSemaphoreFdKHR"))?;
        // SAFETY: a successful vkGetSemaphoreFdKHR returns a new fd that the
        // application owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// The semaphore's current value.
    pub(crate) fn value(&self) -> Result<u64, GpuError> {
        // SAFETY: a timeline semaphore of a Vulkan 1.2 device (checked at
        // creation), whose entry point this is.
        Ok(unsafe {
            self.raw
                .device
                .get_semaphore_counter_value(self.raw.semaphore)
        }
        .map_err(failed(TIMELINE, "vkGetSemaphoreCounterValue"))?)
    }

    /// Waits on the host until the semaphore reaches `value`: `true` when it
    /// did, `false` when `timeout` passed first.
    pub(crate) fn wait(&self, value: u64, timeout: Duration) -> Result<bool, GpuError> {
        let semaphores = [self.raw.semaphore];
        let values = [value];
        let info = vk::SemaphoreWaitInfo::default()
            .semaphores(&semaphores)
            .values(&values);
        let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
        // SAFETY: a timeline semaphore of a Vulkan 1.2 device.
        match unsafe { self.raw.device.wait_semaphores(&info, nanos) } {
            Ok(()) => Ok(true),
            Err(vk::Result::TIMEOUT) => Ok(false),
            Err(e) => Err(failed(TIMELINE, "vkWaitSemaphores")(e).into()),
        }
    }

    /// Signals the semaphore to `value` from the host (what the other API
    /// does in production).
    #[cfg(test)]
    pub(crate) fn signal(&self, value: u64) -> Result<(), GpuError> {
        self.claim(value)?;
        let info = vk::SemaphoreSignalInfo::default()
            .semaphore(self.raw.semaphore)
            .value(value);
        // SAFETY: a timeline semaphore of a Vulkan 1.2 device; `value` is
        // above every value this side signalled (`claim`).
        Ok(unsafe { self.raw.device.signal_semaphore(&info) }
            .map_err(failed(TIMELINE, "vkSignalSemaphore"))?)
    }

    /// Reserves `value` as this side's next signal: it must be above every
    /// earlier one and the current value, as Vulkan requires.
    fn claim(&self, value: u64) -> Result<(), GpuError> {
        let current = self.value()?;
        let previous = self.signalled.fetch_max(value, Ordering::SeqCst);
        let above = previous.max(current);
        if value <= above {
            return Err(ImportError::SignalNotAbove { value, above }.into());
        }
        Ok(())
    }
}

/// Submits `commands` so that they start only after every fence in
/// `sync_files` and every `(timeline, value)` in `waits`, and set every
/// `(timeline, value)` in `signals` when done. Returns wgpu's index of the
/// submission. The semaphores stay alive until it is done.
pub(crate) fn submit(
    ctx: &GpuContext,
    commands: impl IntoIterator<Item = wgpu::CommandBuffer>,
    sync_files: Vec<SyncFile>,
    waits: &[(&Timeline, u64)],
    signals: &[(&Timeline, u64)],
) -> Result<wgpu::SubmissionIndex, GpuError> {
    let what = ImportKind::SyncFdSemaphore;
    let vulkan = vulkan_of(ctx, what)?;
    for raw in sync_files
        .iter()
        .map(|s| &s.raw)
        .chain(waits.iter().chain(signals).map(|(t, _)| &t.raw))
    {
        raw.of(vulkan, what)?;
    }
    for &(timeline, value) in signals {
        timeline.claim(value)?;
    }
    let queue = ctx.queue();
    let _serial = vulkan.submit_lock.lock().unwrap_or_else(|p| p.into_inner());
    {
        // SAFETY: the hal queue is only used to add semaphores, which stay
        // alive until the submission below is done (the callback holds them).
        let Some(hal_queue) = (unsafe { queue.as_hal::<Vk>() }) else {
            return Err(ImportError::NotVulkan { what }.into());
        };
        let stage = vk::PipelineStageFlags::ALL_COMMANDS;
        for sync_file in &sync_files {
            hal_queue.add_wait_semaphore(sync_file.raw.semaphore, None, stage);
        }
        for &(timeline, value) in waits {
            hal_queue.add_wait_semaphore(timeline.raw.semaphore, Some(value), stage);
        }
        for &(timeline, value) in signals {
            hal_queue.add_signal_semaphore(timeline.raw.semaphore, Some(value));
        }
    }
    let held: Vec<Arc<Raw>> = sync_files
        .into_iter()
        .map(|s| s.raw)
        .chain(waits.iter().chain(signals).map(|(t, _)| Arc::clone(&t.raw)))
        .collect();
    match scoped(ctx.device(), || queue.submit(commands)) {
        Ok(index) => {
            queue.on_submitted_work_done(move || drop(held));
            Ok(index)
        }
        Err(error) => {
            // Nothing was submitted: take the semaphores back off the
            // queue's lists so that no later submission uses them.
            // SAFETY: as above; removing one already consumed is a no-op.
            if let Some(hal_queue) = unsafe { queue.as_hal::<Vk>() } {
                for raw in &held {
                    hal_queue.remove_wait_semaphore(raw.semaphore);
                    hal_queue.remove_signal_semaphore(raw.semaphore);
                }
            }
            Err(error)
        }
    }
}
