//! Test support: a second Vulkan device that plays the part of another API
//! (CUDA, a VA-API driver) by exporting memory as file descriptors.
//!
//! It has its own `VkInstance` and `VkDevice`, on the physical device whose
//! UUID the context under test reports, so what it exports is what an
//! outside producer on the same GPU would hand over. It allocates exportable
//! memory, fills it with given bytes and exports an fd: a buffer (opaque fd,
//! or DMA-BUF where the driver can export one) or an optimally tiled image
//! (opaque fd), built with the importer's own create info.
//!
//! Only the tests use it (so it is `cfg(test)` and has no public surface):
//! the import primitives it exercises are crate-private, so their tests live
//! in the crate too.

use std::ffi::CStr;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::Mutex;

use ash::{ext, khr, vk};

use super::image::ImageDesc;
use super::memory::HandleType;
use crate::gpu::ImportKind;

/// Why the exporter could not do something.
#[derive(Debug)]
pub(crate) enum ExportError {
    /// The Vulkan loader could not be loaded.
    Load(ash::LoadingError),
    /// No physical device has the UUID asked for.
    NoDevice,
    /// The driver lacks an extension the export needs.
    MissingExtension(&'static CStr),
    /// The driver cannot export this handle type for this resource.
    NotExportable(HandleType),
    /// No memory type suits the resource.
    NoMemoryType,
    /// A Vulkan call failed.
    Vulkan {
        call: &'static str,
        result: vk::Result,
    },
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExportError::Load(e) => write!(f, "cannot load Vulkan: {e}"),
            ExportError::NoDevice => f.write_str("no physical device with the context's UUID"),
            ExportError::MissingExtension(name) => write!(f, "the driver has no {name:?}"),
            ExportError::NotExportable(handle) => {
                write!(
                    f,
                    "the driver cannot export {handle:?} memory for this resource"
                )
            }
            ExportError::NoMemoryType => f.write_str("no memory type fits"),
            ExportError::Vulkan { call, result } => write!(f, "{call} failed with {result:?}"),
        }
    }
}

fn vk_failed(call: &'static str) -> impl Fn(vk::Result) -> ExportError {
    move |result| ExportError::Vulkan { call, result }
}

/// An exported allocation: what [`super::memory::ExternalMemory`] needs.
#[derive(Debug)]
pub(crate) struct Exported {
    pub(crate) fd: OwnedFd,
    pub(crate) size: u64,
    pub(crate) memory_type: u32,
}

enum Resource {
    Buffer(vk::Buffer),
    Image(vk::Image),
}

/// The exporting device. Its exports stay valid after it is dropped: an fd
/// holds its own reference to the memory.
pub(crate) struct Exporter {
    _entry: ash::Entry,
    instance: ash::Instance,
    opened: Opened,
    memory_fd: khr::external_memory_fd::Device,
    allocations: Mutex<Vec<(Resource, vk::DeviceMemory)>>,
}

/// The device part of an [`Exporter`].
struct Opened {
    physical: vk::PhysicalDevice,
    device: ash::Device,
    queue: vk::Queue,
    family: u32,
    memory_types: Vec<vk::MemoryType>,
    /// Whether the driver has `VK_EXT_external_memory_dma_buf`.
    dma_buf: bool,
}

impl Exporter {
    /// A device on the physical device whose UUID is `device_uuid`.
    pub(crate) fn new(device_uuid: [u8; 16]) -> Result<Exporter, ExportError> {
        // SAFETY: loading the system's Vulkan loader, as wgpu does.
        let entry = unsafe { ash::Entry::load() }.map_err(ExportError::Load)?;
        let app = vk::ApplicationInfo::default().api_version(vk::API_VERSION_1_2);
        let info = vk::InstanceCreateInfo::default().application_info(&app);
        // SAFETY: a valid create info with no layers or extensions.
        let instance =
            unsafe { entry.create_instance(&info, None) }.map_err(vk_failed("vkCreateInstance"))?;
        match Self::open(&instance, device_uuid) {
            Ok(opened) => Ok(Exporter {
                memory_fd: khr::external_memory_fd::Device::new(&instance, &opened.device),
                _entry: entry,
                instance,
                opened,
                allocations: Mutex::new(Vec::new()),
            }),
            Err(e) => {
                // SAFETY: nothing created from the instance still lives.
                unsafe { instance.destroy_instance(None) };
                Err(e)
            }
        }
    }

    fn open(instance: &ash::Instance, device_uuid: [u8; 16]) -> Result<Opened, ExportError> {
        // SAFETY: a valid instance.
        let physicals = unsafe { instance.enumerate_physical_devices() }
            .map_err(vk_failed("vkEnumeratePhysicalDevices"))?;
        let physical = physicals
            .into_iter()
            .find(|&p| {
                let mut id = vk::PhysicalDeviceIDProperties::default();
                let mut properties = vk::PhysicalDeviceProperties2::default().push_next(&mut id);
                // SAFETY: a 1.1 query on a device of this 1.2 instance.
                unsafe { instance.get_physical_device_properties2(p, &mut properties) };
                id.device_uuid == device_uuid
            })
            .ok_or(ExportError::NoDevice)?;
        // SAFETY: valid physical device.
        let supported = unsafe { instance.enumerate_device_extension_properties(physical) }
            .map_err(vk_failed("vkEnumerateDeviceExtensionProperties"))?;
        let has = |name: &CStr| {
            supported
                .iter()
                .any(|e| e.extension_name_as_c_str() == Ok(name))
        };
        if !has(khr::external_memory_fd::NAME) {
            return Err(ExportError::MissingExtension(khr::external_memory_fd::NAME));
        }
        let dma_buf = has(ext::external_memory_dma_buf::NAME);
        let mut extensions = vec![khr::external_memory_fd::NAME.as_ptr()];
        if dma_buf {
            extensions.push(ext::external_memory_dma_buf::NAME.as_ptr());
        }
        // SAFETY: valid physical device.
        let families = unsafe { instance.get_physical_device_queue_family_properties(physical) };
        let family = families
            .iter()
            .position(|f| {
                f.queue_flags
                    .intersects(vk::QueueFlags::GRAPHICS | vk::QueueFlags::COMPUTE)
            })
            .ok_or(ExportError::NoDevice)? as u32;
        let priorities = [1.0];
        let queues = [vk::DeviceQueueCreateInfo::default()
            .queue_family_index(family)
            .queue_priorities(&priorities)];
        let info = vk::DeviceCreateInfo::default()
            .queue_create_infos(&queues)
            .enabled_extension_names(&extensions);
        // SAFETY: a valid create info with supported extensions.
        let device = unsafe { instance.create_device(physical, &info, None) }
            .map_err(vk_failed("vkCreateDevice"))?;
        // SAFETY: queue 0 of a family created above.
        let queue = unsafe { device.get_device_queue(family, 0) };
        // SAFETY: valid physical device.
        let memory = unsafe { instance.get_physical_device_memory_properties(physical) };
        Ok(Opened {
            physical,
            device,
            queue,
            family,
            memory_types: memory.memory_types_as_slice().to_vec(),
            dma_buf,
        })
    }

    fn memory_type(&self, bits: u32, flags: vk::MemoryPropertyFlags) -> Result<u32, ExportError> {
        (0..self.opened.memory_types.len() as u32)
            .find(|&i| {
                bits & (1 << i) != 0
                    && self.opened.memory_types[i as usize]
                        .property_flags
                        .contains(flags)
            })
            .ok_or(ExportError::NoMemoryType)
    }

    fn export(&self, memory: vk::DeviceMemory, handle: HandleType) -> Result<OwnedFd, ExportError> {
        let info = vk::MemoryGetFdInfoKHR::default()
            .memory(memory)
            .handle_type(handle.vk());
        // SAFETY: memory allocated exportable as `handle`.
        let fd = unsafe { self.memory_fd.get_memory_fd(&info) }
            .map_err(vk_failed("vkGetMemoryFdKHR"))?;
        // SAFETY: vkGetMemoryFdKHR returned a new fd that we own.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// A host-visible staging-or-export buffer with `bytes` in it, and its
    /// memory; exportable as `handle` when given.
    fn filled_buffer(
        &self,
        bytes: &[u8],
        usage: vk::BufferUsageFlags,
        handle: Option<HandleType>,
    ) -> Result<(vk::Buffer, vk::DeviceMemory, u64, u32), ExportError> {
        let mut external = vk::ExternalMemoryBufferCreateInfo::default();
        let mut info = vk::BufferCreateInfo::default()
            .size(bytes.len() as u64)
            .usage(usage)
            .sharing_mode(vk::SharingMode::EXCLUSIVE);
        if let Some(handle) = handle {
            external = external.handle_types(handle.vk());
            info = info.push_next(&mut external);
        }
        // SAFETY: a valid create info.
        let buffer = unsafe { self.opened.device.create_buffer(&info, None) }
            .map_err(vk_failed("vkCreateBuffer"))?;
        // SAFETY: the buffer is ours.
        let required = unsafe { self.opened.device.get_buffer_memory_requirements(buffer) };
        let memory_type = self.memory_type(
            required.memory_type_bits,
            vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT,
        )?;
        let mut export = vk::ExportMemoryAllocateInfo::default();
        let mut allocate = vk::MemoryAllocateInfo::default()
            .allocation_size(required.size)
            .memory_type_index(memory_type);
        if let Some(handle) = handle {
            export = export.handle_types(handle.vk());
            allocate = allocate.push_next(&mut export);
        }
        // SAFETY: a valid allocate info.
        let memory = match unsafe { self.opened.device.allocate_memory(&allocate, None) } {
            Ok(memory) => memory,
            Err(e) => {
                // SAFETY: the buffer is ours and unused.
                unsafe { self.opened.device.destroy_buffer(buffer, None) };
                return Err(vk_failed("vkAllocateMemory")(e));
            }
        };
        let filled = (|| {
            // SAFETY: buffer and memory are ours; the memory is host-visible
            // and at least `bytes.len()` long; the mapping is written within
            // bounds and unmapped before anything else uses the memory.
            unsafe {
                self.opened
                    .device
                    .bind_buffer_memory(buffer, memory, 0)
                    .map_err(vk_failed("vkBindBufferMemory"))?;
                let ptr = self
                    .opened
                    .device
                    .map_memory(memory, 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty())
                    .map_err(vk_failed("vkMapMemory"))?;
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr.cast::<u8>(), bytes.len());
                self.opened.device.unmap_memory(memory);
            }
            Ok(())
        })();
        if let Err(e) = filled {
            // SAFETY: ours and unused by the GPU.
            unsafe {
                self.opened.device.destroy_buffer(buffer, None);
                self.opened.device.free_memory(memory, None);
            }
            return Err(e);
        }
        Ok((buffer, memory, required.size, memory_type))
    }

    /// Whether the driver can export `handle` memory for a buffer.
    pub(crate) fn can_export_buffer(&self, handle: HandleType) -> bool {
        if handle == HandleType::DmaBuf && !self.opened.dma_buf {
            return false;
        }
        let info = vk::PhysicalDeviceExternalBufferInfo::default()
            .usage(
                vk::BufferUsageFlags::TRANSFER_SRC
                    | vk::BufferUsageFlags::TRANSFER_DST
                    | vk::BufferUsageFlags::STORAGE_BUFFER,
            )
            .handle_type(handle.vk());
        let mut out = vk::ExternalBufferProperties::default();
        // SAFETY: a 1.1 query with valid structs on our physical device.
        unsafe {
            self.instance
                .get_physical_device_external_buffer_properties(
                    self.opened.physical,
                    &info,
                    &mut out,
                )
        };
        out.external_memory_properties
            .external_memory_features
            .contains(vk::ExternalMemoryFeatureFlags::EXPORTABLE)
    }

    /// Exportable memory holding `bytes`, as an fd of `handle`.
    pub(crate) fn buffer(&self, handle: HandleType, bytes: &[u8]) -> Result<Exported, ExportError> {
        if handle == HandleType::DmaBuf && !self.opened.dma_buf {
            return Err(ExportError::MissingExtension(
                ext::external_memory_dma_buf::NAME,
            ));
        }
        let usage = vk::BufferUsageFlags::TRANSFER_SRC
            | vk::BufferUsageFlags::TRANSFER_DST
            | vk::BufferUsageFlags::STORAGE_BUFFER;
        let (buffer, memory, size, memory_type) = self.filled_buffer(bytes, usage, Some(handle))?;
        self.keep(Resource::Buffer(buffer), memory);
        Ok(Exported {
            fd: self.export(memory, handle)?,
            size,
            memory_type,
        })
    }

    /// An optimally tiled image of `desc` holding `texels` (tightly packed
    /// rows), in GENERAL layout and released to `VK_QUEUE_FAMILY_EXTERNAL`,
    /// exported as an opaque fd of its dedicated memory.
    pub(crate) fn image(&self, desc: ImageDesc, texels: &[u8]) -> Result<Exported, ExportError> {
        let handle = HandleType::OpaqueFd;
        let mut external = vk::ExternalMemoryImageCreateInfo::default().handle_types(handle.vk());
        let info = desc
            .create_info(ImportKind::OpaqueFdImage)
            .map_err(|_| ExportError::NotExportable(handle))?
            .push_next(&mut external);
        // SAFETY: a valid create info (the importer's own).
        let image = unsafe { self.opened.device.create_image(&info, None) }
            .map_err(vk_failed("vkCreateImage"))?;
        // SAFETY: the image is ours.
        let required = unsafe { self.opened.device.get_image_memory_requirements(image) };
        let memory_type =
            self.memory_type(required.memory_type_bits, vk::MemoryPropertyFlags::empty())?;
        let mut dedicated = vk::MemoryDedicatedAllocateInfo::default().image(image);
        let mut export = vk::ExportMemoryAllocateInfo::default().handle_types(handle.vk());
        let allocate = vk::MemoryAllocateInfo::default()
            .allocation_size(required.size)
            .memory_type_index(memory_type)
            .push_next(&mut export)
            .push_next(&mut dedicated);
        // SAFETY: a valid allocate info for this image.
        let memory = unsafe { self.opened.device.allocate_memory(&allocate, None) }
            .map_err(vk_failed("vkAllocateMemory"))?;
        self.keep(Resource::Image(image), memory);
        // SAFETY: image and memory are ours and unbound.
        unsafe { self.opened.device.bind_image_memory(image, memory, 0) }
            .map_err(vk_failed("vkBindImageMemory"))?;
        self.upload(image, desc, texels)?;
        Ok(Exported {
            fd: self.export(memory, handle)?,
            size: required.size,
            memory_type,
        })
    }

    /// Copies `texels` into `image` and leaves it in GENERAL layout,
    /// released to the external queue family.
    fn upload(&self, image: vk::Image, desc: ImageDesc, texels: &[u8]) -> Result<(), ExportError> {
        let (staging, staging_memory, _, _) =
            self.filled_buffer(texels, vk::BufferUsageFlags::TRANSFER_SRC, None)?;
        self.keep(Resource::Buffer(staging), staging_memory);
        let pool_info = vk::CommandPoolCreateInfo::default().queue_family_index(self.opened.family);
        // SAFETY: a valid create info.
        let pool = unsafe { self.opened.device.create_command_pool(&pool_info, None) }
            .map_err(vk_failed("vkCreateCommandPool"))?;
        let result = self.record_and_wait(pool, image, staging, desc);
        // SAFETY: the pool's work is finished (or never started).
        unsafe { self.opened.device.destroy_command_pool(pool, None) };
        result
    }

    fn record_and_wait(
        &self,
        pool: vk::CommandPool,
        image: vk::Image,
        staging: vk::Buffer,
        desc: ImageDesc,
    ) -> Result<(), ExportError> {
        let allocate = vk::CommandBufferAllocateInfo::default()
            .command_pool(pool)
            .level(vk::CommandBufferLevel::PRIMARY)
            .command_buffer_count(1);
        // SAFETY: a valid pool.
        let command = unsafe { self.opened.device.allocate_command_buffers(&allocate) }
            .map_err(vk_failed("vkAllocateCommandBuffers"))?[0];
        let range = vk::ImageSubresourceRange::default()
            .aspect_mask(vk::ImageAspectFlags::COLOR)
            .level_count(1)
            .layer_count(1);
        let to_copy = vk::ImageMemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::empty())
            .dst_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .old_layout(vk::ImageLayout::UNDEFINED)
            .new_layout(vk::ImageLayout::TRANSFER_DST_OPTIMAL)
            .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .image(image)
            .subresource_range(range);
        let release = vk::ImageMemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .dst_access_mask(vk::AccessFlags::empty())
            .old_layout(vk::ImageLayout::TRANSFER_DST_OPTIMAL)
            .new_layout(vk::ImageLayout::GENERAL)
            .src_queue_family_index(self.opened.family)
            .dst_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
            .image(image)
            .subresource_range(range);
        let region = vk::BufferImageCopy::default()
            .image_subresource(
                vk::ImageSubresourceLayers::default()
                    .aspect_mask(vk::ImageAspectFlags::COLOR)
                    .layer_count(1),
            )
            .image_extent(vk::Extent3D {
                width: desc.width,
                height: desc.height,
                depth: 1,
            });
        let fence_info = vk::FenceCreateInfo::default();
        // SAFETY: recording into a fresh command buffer of our pool, with
        // barriers and a copy on our image and buffer; the submission is
        // waited for with a fence before the function returns, and the fence
        // is destroyed after.
        unsafe {
            self.opened
                .device
                .begin_command_buffer(command, &vk::CommandBufferBeginInfo::default())
                .map_err(vk_failed("vkBeginCommandBuffer"))?;
            self.opened.device.cmd_pipeline_barrier(
                command,
                vk::PipelineStageFlags::TOP_OF_PIPE,
                vk::PipelineStageFlags::TRANSFER,
                vk::DependencyFlags::empty(),
                &[],
                &[],
                &[to_copy],
            );
            self.opened.device.cmd_copy_buffer_to_image(
                command,
                staging,
                image,
                vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                &[region],
            );
            self.opened.device.cmd_pipeline_barrier(
                command,
                vk::PipelineStageFlags::TRANSFER,
                vk::PipelineStageFlags::BOTTOM_OF_PIPE,
                vk::DependencyFlags::empty(),
                &[],
                &[],
                &[release],
            );
            self.opened
                .device
                .end_command_buffer(command)
                .map_err(vk_failed("vkEndCommandBuffer"))?;
            let fence = self
                .opened
                .device
                .create_fence(&fence_info, None)
                .map_err(vk_failed("vkCreateFence"))?;
            let commands = [command];
            let submit = vk::SubmitInfo::default().command_buffers(&commands);
            let waited = self
                .opened
                .device
                .queue_submit(self.opened.queue, &[submit], fence)
                .map_err(vk_failed("vkQueueSubmit"))
                .and_then(|()| {
                    self.opened
                        .device
                        .wait_for_fences(&[fence], true, 10_000_000_000)
                        .map_err(vk_failed("vkWaitForFences"))
                });
            if waited.is_err() {
                // Do not destroy what may still be in use.
                let _ = self.opened.device.device_wait_idle();
            }
            self.opened.device.destroy_fence(fence, None);
            waited
        }
    }

    fn keep(&self, resource: Resource, memory: vk::DeviceMemory) {
        self.allocations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((resource, memory));
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let allocations = std::mem::take(
            self.allocations
                .get_mut()
                .unwrap_or_else(|p| p.into_inner()),
        );
        // SAFETY: the device is idle once `device_wait_idle` returns; every
        // object was created on it and is destroyed once; the exported fds
        // keep their own references to the memory.
        unsafe {
            let _ = self.opened.device.device_wait_idle();
            for (resource, memory) in allocations {
                match resource {
                    Resource::Buffer(buffer) => self.opened.device.destroy_buffer(buffer, None),
                    Resource::Image(image) => self.opened.device.destroy_image(image, None),
                }
                self.opened.device.free_memory(memory, None);
            }
            self.opened.device.destroy_device(None);
            self.instance.destroy_instance(None);
        }
    }
}
