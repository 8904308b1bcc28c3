//! Memory behind a file descriptor — an opaque fd exported by Vulkan or
//! CUDA, or a DMA-BUF — as a linear `wgpu::Buffer`; and what the buffer
//! imports share: the description of foreign memory ([`ExternalMemory`]),
//! the allocation guard that frees an import, and wrapping a raw buffer for
//! wgpu.

use std::any::Any;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};

use ash::vk;

use super::device::{failed, VulkanDevice};
use super::Vk;
use crate::gpu::{scoped, GpuContext, GpuError, ImportError, ImportKind, LayoutError};

/// What keeps imported host memory alive: dropped only after the Vulkan
/// objects over it are gone.
pub(crate) type KeepAlive = Box<dyn Any + Send + Sync>;

/// The kind of handle a file descriptor for memory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandleType {
    /// `VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT`: from `vkGetMemoryFdKHR`
    /// or CUDA, meaningful only to a device with the same UUIDs.
    OpaqueFd,
    /// `VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT`: a Linux DMA-BUF
    /// (VA-API's DRM PRIME export).
    DmaBuf,
}

impl HandleType {
    pub(crate) fn vk(self) -> vk::ExternalMemoryHandleTypeFlags {
        match self {
            HandleType::OpaqueFd => vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD,
            HandleType::DmaBuf => vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
        }
    }

    pub(crate) fn buffer_kind(self) -> ImportKind {
        match self {
            HandleType::OpaqueFd => ImportKind::OpaqueFdBuffer,
            HandleType::DmaBuf => ImportKind::DmaBufBuffer,
        }
    }
}

/// Memory another API exported as a file descriptor, with what an importer
/// must know about it. Owns the fd until an import hands it to Vulkan.
#[derive(Debug)]
pub(crate) struct ExternalMemory {
    fd: OwnedFd,
    handle: HandleType,
    size: u64,
    /// The exporter's memory type (opaque fds only).
    memory_type: Option<u32>,
}

impl ExternalMemory {
    /// Memory exported as an opaque fd.
    ///
    /// # Safety
    ///
    /// - `fd` was exported as `VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT`
    ///   by a device whose device and driver UUIDs equal those of the
    ///   context it will be imported into ([`super::Interop`]).
    /// - The exported allocation is exactly `size` bytes of memory type
    ///   `memory_type` (an index valid for the importing device too).
    /// - Imported as a buffer, it was not a dedicated allocation; imported as
    ///   an image, it was a dedicated allocation for an image created with
    ///   [`super::image::ImageDesc::create_info`] of the same description,
    ///   left in `VK_IMAGE_LAYOUT_GENERAL`.
    /// - Whatever writes it has finished (or is waited for through a
    ///   semaphore) before the GPU reads it.
    pub(crate) unsafe fn opaque_fd(fd: OwnedFd, size: u64, memory_type: u32) -> ExternalMemory {
        ExternalMemory {
            fd,
            handle: HandleType::OpaqueFd,
            size,
            memory_type: Some(memory_type),
        }
    }

    /// A DMA-BUF. Safe: the driver checks the handle
    /// (`vkGetMemoryFdPropertiesKHR`) and the kernel its size, read here with
    /// `lseek`, which bounds every import from it.
    pub(crate) fn dma_buf(fd: OwnedFd) -> Result<ExternalMemory, ImportError> {
        let mut file = File::from(fd);
        let size = file
            .seek(SeekFrom::End(0))
            .map_err(|e| ImportError::FdSize {
                what: ImportKind::DmaBufBuffer,
                kind: e.kind(),
            })?;
        Ok(ExternalMemory {
            fd: OwnedFd::from(file),
            handle: HandleType::DmaBuf,
            size,
            memory_type: None,
        })
    }

    pub(crate) fn handle(&self) -> HandleType {
        self.handle
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Allocates device memory over the fd for a resource with requirements
    /// `required` (a dedicated allocation when `image` is given). Vulkan
    /// takes ownership of the fd on success; on failure it is closed here,
    /// once, by its `OwnedFd`.
    pub(crate) fn allocate(
        self,
        vulkan: &VulkanDevice,
        what: ImportKind,
        required: &vk::MemoryRequirements,
        image: Option<vk::Image>,
    ) -> Result<vk::DeviceMemory, ImportError> {
        let fd_fns = vulkan.memory_fd(what)?;
        if required.size > self.size {
            return Err(ImportError::TooSmall {
                what,
                needed: required.size,
                available: self.size,
            });
        }
        let memory_type = match (self.handle, self.memory_type) {
            (HandleType::OpaqueFd, Some(index)) => {
                if required.memory_type_bits & (1 << index) == 0 {
                    return Err(ImportError::NoMemoryType {
                        what,
                        resource: required.memory_type_bits,
                        handle: 1 << index,
                    });
                }
                index
            }
            _ => {
                let mut properties = vk::MemoryFdPropertiesKHR::default();
                // SAFETY: the fd is open (owned by `self`) and the call only
                // inspects it; the handle type is not OPAQUE_FD, as required.
                unsafe {
                    fd_fns.get_memory_fd_properties(
                        self.handle.vk(),
                        self.fd.as_raw_fd(),
                        &mut properties,
                    )
                }
                .map_err(failed(what, "vkGetMemoryFdPropertiesKHR"))?;
                let both = required.memory_type_bits & properties.memory_type_bits;
                vulkan
                    .memory_type(both, vk::MemoryPropertyFlags::empty())
                    .ok_or(ImportError::NoMemoryType {
                        what,
                        resource: required.memory_type_bits,
                        handle: properties.memory_type_bits,
                    })?
            }
        };
        let mut import = vk::ImportMemoryFdInfoKHR::default()
            .handle_type(self.handle.vk())
            .fd(self.fd.as_raw_fd());
        let mut dedicated = vk::MemoryDedicatedAllocateInfo::default();
        let mut info = vk::MemoryAllocateInfo::default()
            .allocation_size(self.size)
            .memory_type_index(memory_type)
            .push_next(&mut import);
        if let Some(image) = image {
            dedicated = dedicated.image(image);
            info = info.push_next(&mut dedicated);
        }
        // SAFETY: the fd is open and of `self.handle`'s type; the size and
        // memory type are the exporter's for an opaque fd (the contract of
        // `opaque_fd`) or the DMA-BUF's own size and a type the driver
        // allows for it; a dedicated image is unbound and ours.
        let memory = unsafe { vulkan.device.allocate_memory(&info, None) }
            .map_err(failed(what, "vkAllocateMemory"))?;
        // Vulkan took ownership of the fd: forget it without closing.
        let _ = self.fd.into_raw_fd();
        Ok(memory)
    }
}

/// A `VkBuffer` and the `VkDeviceMemory` bound to it, destroyed and freed
/// on drop, then the keep-alive (if any) dropped: the order imported host
/// memory needs. Null handles are skipped by Vulkan, so a half-built
/// allocation cleans up too.
pub(crate) struct Allocation {
    pub(crate) device: ash::Device,
    pub(crate) buffer: vk::Buffer,
    pub(crate) memory: vk::DeviceMemory,
    /// Dropped after `drop` runs, so after the buffer and memory are gone.
    pub(crate) _keep_alive: Option<KeepAlive>,
}

impl Drop for Allocation {
    fn drop(&mut self) {
        // SAFETY: the buffer and memory were created on `device` and are
        // owned by this value alone; no GPU work uses them any more: either
        // they never reached wgpu (an import that failed) or wgpu-hal calls
        // the drop callback holding this value only once the wgpu buffer is
        // destroyed, after the work that used it finished.
        unsafe {
            self.device.destroy_buffer(self.buffer, None);
            self.device.free_memory(self.memory, None);
        }
    }
}

/// The Vulkan buffer usage for an imported buffer's wgpu `usage`: copies,
/// storage and uniform bindings. Imported memory cannot be mapped by wgpu.
pub(crate) fn buffer_usage(
    usage: wgpu::BufferUsages,
    what: ImportKind,
) -> Result<vk::BufferUsageFlags, ImportError> {
    use wgpu::BufferUsages as U;
    let allowed = U::COPY_SRC | U::COPY_DST | U::STORAGE | U::UNIFORM;
    if usage.is_empty() || !allowed.contains(usage) {
        return Err(ImportError::UnsupportedUsage {
            what,
            usage: usage - allowed,
        });
    }
    let mut flags = vk::BufferUsageFlags::empty();
    for (wgpu, vulkan) in [
        (U::COPY_SRC, vk::BufferUsageFlags::TRANSFER_SRC),
        (U::COPY_DST, vk::BufferUsageFlags::TRANSFER_DST),
        (U::STORAGE, vk::BufferUsageFlags::STORAGE_BUFFER),
        (U::UNIFORM, vk::BufferUsageFlags::UNIFORM_BUFFER),
    ] {
        if usage.contains(wgpu) {
            flags |= vulkan;
        }
    }
    Ok(flags)
}

/// Creates an unbound `VkBuffer` of `size` bytes that can take memory of
/// `handle`.
pub(crate) fn create_buffer(
    vulkan: &VulkanDevice,
    what: ImportKind,
    size: u64,
    usage: vk::BufferUsageFlags,
    handle: vk::ExternalMemoryHandleTypeFlags,
) -> Result<vk::Buffer, ImportError> {
    let mut external = vk::ExternalMemoryBufferCreateInfo::default().handle_types(handle);
    let info = vk::BufferCreateInfo::default()
        .size(size)
        .usage(usage)
        .sharing_mode(vk::SharingMode::EXCLUSIVE)
        .push_next(&mut external);
    // SAFETY: a valid create info; the buffer is owned by the caller.
    unsafe { vulkan.device.create_buffer(&info, None) }.map_err(failed(what, "vkCreateBuffer"))
}

/// The wgpu buffer over `allocation`'s bound buffer, which then belongs to
/// wgpu-hal's drop callback.
pub(crate) fn wrap_buffer(
    ctx: &GpuContext,
    allocation: Allocation,
    size: u64,
    usage: wgpu::BufferUsages,
    label: &str,
) -> Result<wgpu::Buffer, GpuError> {
    let raw = allocation.buffer;
    // SAFETY: `raw` is alive until the callback drops `allocation`, which
    // wgpu-hal does when the buffer is destroyed (not before); wgpu never maps
    // it (`usage` has no MAP_* bits, checked by `buffer_usage`).
    let hal_buffer = unsafe {
        wgpu::hal::vulkan::Buffer::from_raw_externally_owned(
            raw,
            Box::new(move || drop(allocation)),
        )
    };
    let desc = wgpu::BufferDescriptor {
        label: Some(label),
        size,
        usage,
        mapped_at_creation: false,
    };
    let device = ctx.device();
    // SAFETY: the buffer was created on this device's `VkDevice` with `size`
    // bytes (non-zero: checked by every caller) and the Vulkan usage
    // `buffer_usage(usage)`, and its memory is bound, so it is initialised.
    scoped(device, || unsafe {
        device.create_buffer_from_hal::<Vk>(hal_buffer, &desc)
    })
}

/// Checks a buffer size against zero and the device's limit.
pub(crate) fn check_size(ctx: &GpuContext, what: ImportKind, size: u64) -> Result<(), GpuError> {
    if size == 0 {
        return Err(ImportError::Layout {
            what,
            reason: LayoutError::Empty,
        }
        .into());
    }
    let allowed = ctx.device().limits().max_buffer_size;
    if size > allowed {
        return Err(GpuError::TooLarge {
            what: "an imported buffer",
            limit: "max_buffer_size",
            requested: size,
            allowed,
        });
    }
    Ok(())
}

/// The context's Vulkan side, or [`ImportError::NotVulkan`].
pub(crate) fn vulkan_of(ctx: &GpuContext, what: ImportKind) -> Result<&VulkanDevice, ImportError> {
    ctx.vulkan().ok_or(ImportError::NotVulkan { what })
}

/// Imports `memory` as a linear buffer of `size` bytes (at most the
/// memory's size) with wgpu `usage` (copies, storage, uniform).
pub(crate) fn import_buffer(
    ctx: &GpuContext,
    memory: ExternalMemory,
    size: u64,
    usage: wgpu::BufferUsages,
) -> Result<wgpu::Buffer, GpuError> {
    let what = memory.handle().buffer_kind();
    let vulkan = vulkan_of(ctx, what)?;
    vulkan.memory_fd(what)?;
    let interop = ctx.interop();
    match memory.handle() {
        HandleType::DmaBuf if !vulkan.dma_buf => {
            return Err(ImportError::MissingExtension {
                what,
                extension: "VK_EXT_external_memory_dma_buf",
            }
            .into())
        }
        HandleType::DmaBuf if !interop.dma_buf_memory => {
            return Err(ImportError::NotImportable { what }.into())
        }
        HandleType::OpaqueFd if !interop.opaque_fd_memory => {
            return Err(ImportError::NotImportable { what }.into())
        }
        _ => {}
    }
    check_size(ctx, what, size)?;
    if size > memory.size() {
        return Err(ImportError::TooSmall {
            what,
            needed: size,
            available: memory.size(),
        }
        .into());
    }
    let flags = buffer_usage(usage, what)?;
    let mut allocation = Allocation {
        device: vulkan.device.clone(),
        buffer: create_buffer(vulkan, what, size, flags, memory.handle().vk())?,
        memory: vk::DeviceMemory::null(),
        _keep_alive: None,
    };
    // SAFETY: the buffer was just created on this device.
    let required = unsafe {
        vulkan
            .device
            .get_buffer_memory_requirements(allocation.buffer)
    };
    allocation.memory = memory.allocate(vulkan, what, &required, None)?;
    // SAFETY: buffer and memory are ours, unbound, and the memory is at
    // least `required.size` bytes of an allowed type (checked by `allocate`).
    unsafe {
        vulkan
            .device
            .bind_buffer_memory(allocation.buffer, allocation.memory, 0)
    }
    .map_err(failed(what, "vkBindBufferMemory"))?;
    wrap_buffer(ctx, allocation, size, usage, "stills imported fd memory")
}

/// A buffer on a context's device whose memory is also exported as an
/// opaque fd, for another API on the same GPU (CUDA) to import and write.
#[derive(Debug)]
pub(crate) struct ExportedBuffer {
    pub(crate) buffer: wgpu::Buffer,
    /// A new fd for the buffer's memory, owned by the caller (the importer
    /// takes it).
    pub(crate) fd: OwnedFd,
    /// The size of the exported allocation (at least the buffer's).
    pub(crate) allocation_size: u64,
    /// The memory type index of the allocation (what an importer on a
    /// Vulkan device needs; CUDA does not).
    pub(crate) memory_type: u32,
    /// Whether the memory is a dedicated allocation, which the importer
    /// must be told.
    pub(crate) dedicated: bool,
}

/// Allocates device-local memory exportable as an opaque fd, binds a
/// buffer of `size` bytes with wgpu `usage` (copies, storage, uniform) to
/// it, and exports the fd.
pub(crate) fn export_buffer(
    ctx: &GpuContext,
    size: u64,
    usage: wgpu::BufferUsages,
) -> Result<ExportedBuffer, GpuError> {
    let what = ImportKind::OpaqueFdExport;
    let vulkan = vulkan_of(ctx, what)?;
    let fd_fns = vulkan.memory_fd(what)?;
    if !ctx.interop().opaque_fd_memory_export {
        return Err(ImportError::NotImportable { what }.into());
    }
    check_size(ctx, what, size)?;
    let handle = HandleType::OpaqueFd.vk();
    let flags = buffer_usage(usage, what)?;
    let mut allocation = Allocation {
        device: vulkan.device.clone(),
        buffer: create_buffer(vulkan, what, size, flags, handle)?,
        memory: vk::DeviceMemory::null(),
        _keep_alive: None,
    };
    let mut dedicated_needs = vk::MemoryDedicatedRequirements::default();
    let mut required = vk::MemoryRequirements2::default().push_next(&mut dedicated_needs);
    let info = vk::BufferMemoryRequirementsInfo2::default().buffer(allocation.buffer);
    // SAFETY: the buffer was just created on this device (Vulkan 1.1 entry
    // point, which every device with the fd extensions has).
    unsafe {
        vulkan
            .device
            .get_buffer_memory_requirements2(&info, &mut required)
    };
    let requirements = required.memory_requirements;
    let dedicated = dedicated_needs.requires_dedicated_allocation == vk::TRUE
        || dedicated_needs.prefers_dedicated_allocation == vk::TRUE;
    let memory_type = vulkan
        .memory_type(
            requirements.memory_type_bits,
            vk::MemoryPropertyFlags::DEVICE_LOCAL,
        )
        .or_else(|| {
            vulkan.memory_type(
                requirements.memory_type_bits,
                vk::MemoryPropertyFlags::empty(),
            )
        })
        .ok_or(ImportError::NoMemoryType {
            what,
            resource: requirements.memory_type_bits,
            handle: requirements.memory_type_bits,
        })?;
    let mut export = vk::ExportMemoryAllocateInfo::default().handle_types(handle);
    let mut dedicated_info = vk::MemoryDedicatedAllocateInfo::default().buffer(allocation.buffer);
    let mut allocate = vk::MemoryAllocateInfo::default()
        .allocation_size(requirements.size)
        .memory_type_index(memory_type)
        .push_next(&mut export);
    if dedicated {
        allocate = allocate.push_next(&mut dedicated_info);
    }
    // SAFETY: a valid allocate info for a memory type the buffer allows;
    // the dedicated buffer is ours and unbound.
    allocation.memory = unsafe { vulkan.device.allocate_memory(&allocate, None) }
        .map_err(failed(what, "vkAllocateMemory"))?;
    // SAFETY: buffer and memory are ours, unbound; the memory has the
    // buffer's required size and an allowed type.
    unsafe {
        vulkan
            .device
            .bind_buffer_memory(allocation.buffer, allocation.memory, 0)
    }
    .map_err(failed(what, "vkBindBufferMemory"))?;
    let get = vk::MemoryGetFdInfoKHR::default()
        .memory(allocation.memory)
        .handle_type(handle);
    // SAFETY: the memory was allocated exportable as an opaque fd.
    let fd = unsafe { fd_fns.get_memory_fd(&get) }.map_err(failed(what, "vkGetMemoryFdKHR"))?;
    // SAFETY: a successful vkGetMemoryFdKHR returns a new fd that the
    // application owns.
    let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let buffer = wrap_buffer(ctx, allocation, size, usage, "stills exported memory")?;
    Ok(ExportedBuffer {
        buffer,
        fd,
        allocation_size: requirements.size,
        memory_type,
        dedicated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_usage_maps_copies_and_bindings_and_refuses_mapping() {
        let what = ImportKind::DmaBufBuffer;
        assert_eq!(
            buffer_usage(
                wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                what
            ),
            Ok(vk::BufferUsageFlags::STORAGE_BUFFER | vk::BufferUsageFlags::TRANSFER_SRC)
        );
        assert_eq!(
            buffer_usage(
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                what
            ),
            Err(ImportError::UnsupportedUsage {
                what,
                usage: wgpu::BufferUsages::MAP_READ
            })
        );
        assert!(buffer_usage(wgpu::BufferUsages::empty(), what).is_err());
    }
}
