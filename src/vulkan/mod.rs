//! The Vulkan boundary: opening the device with the interop extensions, and
//! bringing memory, images and semaphores that another API produced into
//! that device as wgpu resources.
//!
//! Like mpv's `video/out/hwdec/` drivers, each kind of import is one small
//! module with one entry point, and the frame pipeline's input stage is the
//! only consumer:
//!
//! | module | brings in | needs |
//! |---|---|---|
//! | [`host`] | host memory (an FFmpeg frame buffer) as a `wgpu::Buffer` | `VK_EXT_external_memory_host` |
//! | [`memory`] | an opaque fd or DMA-BUF as a linear `wgpu::Buffer` | `VK_KHR_external_memory_fd` (+ `VK_EXT_external_memory_dma_buf`) |
//! | [`image`] | an opaque fd or a DMA-BUF plane as a single-plane `wgpu::Texture` | the same (+ `VK_EXT_image_drm_format_modifier`) |
//! | [`semaphore`] | a `sync_file` to wait on; a timeline semaphore exported as an opaque fd | `VK_KHR_external_semaphore_fd` |
//! | [`acquire`] | ownership of imported DMA-BUF memory, from the foreign queue that wrote it | `VK_EXT_queue_family_foreign` (else `VK_QUEUE_FAMILY_EXTERNAL`) |
//!
//! [`device`] opens the device ([`device::open`]) and keeps, per context, the
//! raw handles and extension entry points the imports use
//! ([`device::VulkanDevice`]), and works out what the device can import
//! ([`Interop`]).
//!
//! # Ownership
//!
//! Every file descriptor is an [`OwnedFd`](std::os::fd::OwnedFd) until the
//! Vulkan call that takes it succeeds; a failed call leaves it with its
//! `OwnedFd`, which closes it. Imported memory is owned by the wgpu resource
//! made from it: an image's by wgpu-hal (dedicated memory), a buffer's by a
//! drop callback that destroys the `VkBuffer`, frees the `VkDeviceMemory`
//! and only then drops whatever kept the source alive.
//!
//! Every function here is safe to call from the rest of the crate (which
//! denies `unsafe`): what the caller must promise about foreign memory is
//! promised once, when the description of that memory is built
//! ([`memory::ExternalMemory::opaque_fd`] is the one `unsafe` constructor).
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
// Importing opaque-fd memory and images (what another device on the same
// GPU exports), host waits on timelines and DRM plane fourccs are used by
// the tests, which play such an exporter and check VA-API layer formats;
// NVDEC uses the export side (memory and timelines) only.
#![cfg_attr(not(test), allow(dead_code))]

pub(crate) mod acquire;
pub(crate) mod device;
pub(crate) mod host;
pub(crate) mod image;
pub(crate) mod memory;
pub(crate) mod semaphore;

#[cfg(test)]
pub(crate) mod exporter;
#[cfg(test)]
mod prime_tests;
#[cfg(test)]
mod tests;

pub use device::{Interop, Uuid};

/// wgpu-hal's Vulkan backend, the `A` of `as_hal::<A>()`.
type Vk = wgpu::hal::api::Vulkan;
