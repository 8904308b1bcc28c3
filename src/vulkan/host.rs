//! Host memory (a decoded frame in an FFmpeg buffer) as a `wgpu::Buffer`,
//! through `VK_EXT_external_memory_host`: the GPU reads the frame where the
//! decoder wrote it, with no staging copy.
//!
//! Vulkan imports only ranges whose start and size are multiples of
//! `minImportedHostPointerAlignment` (a page on most drivers), and FFmpeg's
//! buffers are not page-aligned, so the import covers the aligned range
//! around the bytes and says where they start in it
//! ([`HostBuffer::offset`]). That offset is arbitrary: bind the whole buffer
//! and add it in the shader (storage-buffer binding offsets must be
//! multiples of 256), or copy from it.

use ash::vk;

use super::device::failed;
use super::memory::KeepAlive;
use super::memory::{buffer_usage, check_size, create_buffer, vulkan_of, wrap_buffer, Allocation};
use crate::gpu::{GpuContext, GpuError, ImportError, ImportKind};

const WHAT: ImportKind = ImportKind::HostBuffer;

/// A buffer over imported host memory.
#[derive(Debug)]
pub(crate) struct HostBuffer {
    /// The aligned range around the bytes.
    pub(crate) buffer: wgpu::Buffer,
    /// Where the bytes start in `buffer`.
    pub(crate) offset: u64,
}

/// The aligned range `(start, size)` around `len` bytes at address `addr`,
/// and the bytes' offset in it. `None` if it overflows or `alignment` is not
/// a power of two.
pub(crate) fn aligned_range(addr: u64, len: u64, alignment: u64) -> Option<(u64, u64, u64)> {
    if !alignment.is_power_of_two() {
        return None;
    }
    let start = addr & !(alignment - 1);
    let end = addr.checked_add(len)?.checked_next_multiple_of(alignment)?;
    Some((start, end - start, addr - start))
}

/// Imports the bytes `owner` holds (`owner.as_ref()`), keeping `owner`
/// alive until the GPU no longer uses them: it is dropped after the Vulkan
/// buffer is destroyed and its memory freed, when the returned buffer (and
/// any work using it) is gone.
pub(crate) fn import<T>(
    ctx: &GpuContext,
    owner: T,
    usage: wgpu::BufferUsages,
) -> Result<HostBuffer, GpuError>
where
    T: AsRef<[u8]> + Send + Sync + 'static,
{
    // Boxed first, so that moving the owner into the drop callback cannot
    // move the bytes (an owner may hold them inline).
    let owner = Box::new(owner);
    let bytes: &[u8] = (*owner).as_ref();
    let (ptr, len) = (bytes.as_ptr(), bytes.len());
    // SAFETY: `ptr..ptr + len` is a live shared borrow of the boxed owner.
    // The box is moved (the heap value is not) into the keep-alive, which is
    // reachable by nothing else and dropped only after the import is
    // destroyed, so the bytes stay allocated, in place and unwritten by Rust
    // code for as long as the GPU may read them.
    unsafe { import_range(ctx, ptr, len, owner, usage) }
}

/// Imports `len` bytes at `ptr`, kept alive by `keep_alive`. See [`import`].
///
/// # Safety
///
/// - `ptr..ptr + len` is readable memory that stays allocated, mapped and at
///   the same address until `keep_alive` is dropped (the pages around it are
///   imported too, and are mapped wherever these bytes are).
/// - Nothing writes those bytes while GPU work reading the buffer may run.
pub(crate) unsafe fn import_range(
    ctx: &GpuContext,
    ptr: *const u8,
    len: usize,
    keep_alive: KeepAlive,
    usage: wgpu::BufferUsages,
) -> Result<HostBuffer, GpuError> {
    let vulkan = vulkan_of(ctx, WHAT)?;
    let (Some(host), Some(alignment)) = (
        vulkan.memory_host.as_ref(),
        ctx.interop().host_pointer_alignment,
    ) else {
        return Err(ImportError::MissingExtension {
            what: WHAT,
            extension: "VK_EXT_external_memory_host",
        }
        .into());
    };
    check_size(ctx, WHAT, len as u64)?;
    let (start, size, offset) =
        aligned_range(ptr as usize as u64, len as u64, alignment).ok_or(ImportError::Layout {
            what: WHAT,
            reason: crate::gpu::LayoutError::Overflow,
        })?;
    check_size(ctx, WHAT, size)?;
    let flags = buffer_usage(usage, WHAT)?;
    let handle = vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT;
    let start_ptr = start as usize as *const std::ffi::c_void;

    let mut host_properties = vk::MemoryHostPointerPropertiesEXT::default();
    // SAFETY: `start_ptr` is the page-aligned start of mapped memory holding
    // the caller's bytes (this function's contract); the call only queries it.
    unsafe {
        (host.fp().get_memory_host_pointer_properties_ext)(
            vulkan.device.handle(),
            handle,
            start_ptr,
            &mut host_properties,
        )
    }
    .result()
    .map_err(failed(WHAT, "vkGetMemoryHostPointerPropertiesEXT"))?;

    // From here on, `allocation` destroys what exists if a step fails, and
    // drops the keep-alive last.
    let mut allocation = Allocation {
        device: vulkan.device.clone(),
        buffer: create_buffer(vulkan, WHAT, size, flags, handle)?,
        memory: vk::DeviceMemory::null(),
        _keep_alive: Some(keep_alive),
    };
    // SAFETY: the buffer was just created on this device.
    let required = unsafe {
        vulkan
            .device
            .get_buffer_memory_requirements(allocation.buffer)
    };
    if required.size > size {
        return Err(ImportError::TooSmall {
            what: WHAT,
            needed: required.size,
            available: size,
        }
        .into());
    }
    let both = required.memory_type_bits & host_properties.memory_type_bits;
    let memory_type = vulkan
        .memory_type(both, vk::MemoryPropertyFlags::empty())
        .ok_or(ImportError::NoMemoryType {
            what: WHAT,
            resource: required.memory_type_bits,
            handle: host_properties.memory_type_bits,
        })?;
    let mut import = vk::ImportMemoryHostPointerInfoEXT::default()
        .handle_type(handle)
        .host_pointer(start_ptr.cast_mut());
    let info = vk::MemoryAllocateInfo::default()
        .allocation_size(size)
        .memory_type_index(memory_type)
        .push_next(&mut import);
    // SAFETY: `start_ptr` and `size` are multiples of the import alignment
    // and cover mapped memory that outlives the allocation (the keep-alive is
    // dropped after it is freed); the memory type is one the driver allows
    // for this pointer and the buffer.
    allocation.memory = unsafe { vulkan.device.allocate_memory(&info, None) }
        .map_err(failed(WHAT, "vkAllocateMemory"))?;
    // SAFETY: buffer and memory are ours and unbound; the memory holds
    // `required.size` bytes of an allowed type.
    unsafe {
        vulkan
            .device
            .bind_buffer_memory(allocation.buffer, allocation.memory, 0)
    }
    .map_err(failed(WHAT, "vkBindBufferMemory"))?;
    let buffer = wrap_buffer(ctx, allocation, size, usage, "stills imported host memory")?;
    Ok(HostBuffer { buffer, offset })
}

#[cfg(test)]
mod tests {
    use super::aligned_range;

    #[test]
    fn the_range_covers_the_bytes_in_whole_alignment_units() {
        assert_eq!(aligned_range(4096, 4096, 4096), Some((4096, 4096, 0)));
        assert_eq!(aligned_range(4097, 1, 4096), Some((4096, 4096, 1)));
        assert_eq!(aligned_range(8191, 2, 4096), Some((4096, 8192, 4095)));
        assert_eq!(
            aligned_range(0x1234_5678, 1_000_000, 65536),
            Some((0x1234_0000, 0x10_0000, 0x5678))
        );
        assert_eq!(aligned_range(4096, 1, 3000), None);
        assert_eq!(aligned_range(u64::MAX - 10, 100, 4096), None);
    }
}
