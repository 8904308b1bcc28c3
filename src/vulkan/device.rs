//! Opening a Vulkan device with the interop extensions the adapter has, and
//! finding out what a device (ours or a caller's) can import.

use std::ffi::CStr;
use std::fmt;

use ash::{ext, khr, vk};
use serde::Serialize;

use super::Vk;
use crate::gpu::{GpuError, ImportError, ImportKind};

/// The interop extensions [`open`] enables where the adapter has them.
/// (wgpu-hal 30 enables the first three itself on Vulkan 1.2+ devices; the
/// semaphore-fd and host-memory ones only come from here.) Everything else
/// they rely on (`VK_KHR_external_memory`,
/// `VK_KHR_external_semaphore`, timeline semaphores, dedicated allocations)
/// is core in the Vulkan 1.1/1.2 that every adapter we open offers, or added
/// by [`interop_extensions`] where it is not.
#[cfg(test)]
pub(crate) const INTEROP_EXTENSIONS: [&CStr; 6] = [
    khr::external_memory_fd::NAME,
    ext::external_memory_dma_buf::NAME,
    ext::image_drm_format_modifier::NAME,
    khr::external_semaphore_fd::NAME,
    ext::external_memory_host::NAME,
    ext::queue_family_foreign::NAME,
];

/// The device extensions to add for interop, given what the adapter
/// supports and its Vulkan version: each wanted extension the adapter has,
/// with the extensions it depends on where those are not core yet; an
/// extension whose dependencies are missing is left out.
pub(crate) fn interop_extensions(
    supported: impl Fn(&CStr) -> bool,
    api_version: u32,
) -> Vec<&'static CStr> {
    let below = |version| api_version < version;
    // (extension, its device-extension dependencies below 1.1 and 1.2)
    let wanted: [(&'static CStr, &[&'static CStr], &[&'static CStr]); 6] = [
        (
            khr::external_memory_fd::NAME,
            &[khr::external_memory::NAME],
            &[],
        ),
        (
            ext::external_memory_dma_buf::NAME,
            &[khr::external_memory::NAME, khr::external_memory_fd::NAME],
            &[khr::external_memory_fd::NAME],
        ),
        (
            ext::image_drm_format_modifier::NAME,
            &[
                khr::bind_memory2::NAME,
                khr::sampler_ycbcr_conversion::NAME,
                khr::maintenance1::NAME,
                khr::get_memory_requirements2::NAME,
                khr::image_format_list::NAME,
            ],
            &[khr::image_format_list::NAME],
        ),
        (
            khr::external_semaphore_fd::NAME,
            &[khr::external_semaphore::NAME],
            &[],
        ),
        (
            ext::external_memory_host::NAME,
            &[khr::external_memory::NAME],
            &[],
        ),
        // Acquiring DMA-BUFs another driver wrote (`super::acquire`).
        (
            ext::queue_family_foreign::NAME,
            &[khr::external_memory::NAME],
            &[],
        ),
    ];
    let mut out: Vec<&'static CStr> = Vec::new();
    for (extension, below_1_1, below_1_2) in wanted {
        let mut needed = vec![extension];
        if below(vk::API_VERSION_1_1) {
            needed.extend_from_slice(below_1_1);
        } else if below(vk::API_VERSION_1_2) {
            needed.extend_from_slice(below_1_2);
        } else if extension == ext::external_memory_dma_buf::NAME {
            // Not promoted: always an extension.
            needed.push(khr::external_memory_fd::NAME);
        }
        if needed.iter().all(|&name| supported(name)) {
            for name in needed {
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// Opens `adapter` through wgpu-hal with `desc`'s features and limits plus
/// every interop extension it has. `None` when the adapter is not a Vulkan
/// adapter (the caller then opens it the ordinary way).
pub(crate) fn open(
    adapter: &wgpu::Adapter,
    desc: &wgpu::DeviceDescriptor<'_>,
) -> Option<Result<(wgpu::Device, wgpu::Queue), GpuError>> {
    let name = adapter.get_info().name;
    let failed = |reason: String| GpuError::DeviceCreation {
        adapter: name.clone(),
        reason,
    };
    // SAFETY: the hal adapter is only used within this function, to open a
    // device; nothing here destroys it.
    let hal_adapter = unsafe { adapter.as_hal::<Vk>() }?;
    let capabilities = hal_adapter.physical_device_capabilities();
    let api_version = capabilities
        .properties()
        .api_version
        .min(hal_adapter.shared_instance().instance_api_version());
    let extra = interop_extensions(|name| capabilities.supports_extension(name), api_version);
    let callback = Box::new(
        move |args: wgpu::hal::vulkan::CreateDeviceCallbackArgs<'_, '_, '_>| {
            for name in extra {
                if !args.extensions.contains(&name) {
                    args.extensions.push(name);
                }
            }
        },
    );
    // SAFETY: `open_with_callback` has `open`'s contract (features and limits
    // the adapter supports: `desc` asks for the adapter's own limits and
    // features the caller checked) plus the callback's: it only adds
    // extensions the physical device reports, with their dependencies, and
    // removes nothing.
    let opened = unsafe {
        hal_adapter.open_with_callback(
            desc.required_features,
            &desc.required_limits,
            &desc.memory_hints,
            Some(callback),
        )
    };
    drop(hal_adapter);
    let hal_device = match opened {
        Ok(device) => device,
        Err(e) => return Some(Err(failed(e.to_string()))),
    };
    // SAFETY: `hal_device` was opened just above from this adapter's hal
    // adapter with `desc.required_features`, so the features are a subset of
    // what it supports.
    let created = unsafe { adapter.create_device_from_hal(hal_device, desc) };
    Some(created.map_err(|e| failed(e.to_string())))
}

/// A device or driver UUID, shown and serialised in the usual hyphenated
/// form. CUDA's `cuDeviceGetUuid` gives the same bytes for the same GPU,
/// which is how the CUDA device matching a Vulkan device is found.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Uuid(pub [u8; 16]);

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Uuid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What a [`GpuContext`](crate::gpu::GpuContext)'s device can bring in from
/// other APIs without a copy through the host: the extensions it was opened
/// with, checked against what the driver says it can import. All `false`
/// (and no UUIDs) for a device that is not Vulkan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Interop {
    /// Memory exported as an opaque fd by another Vulkan device or CUDA on
    /// the same GPU can be imported (`VK_KHR_external_memory_fd`).
    pub opaque_fd_memory: bool,
    /// Device memory can be exported as an opaque fd, for CUDA to import
    /// (the NVDEC route).
    pub opaque_fd_memory_export: bool,
    /// DMA-BUFs (VA-API surfaces) can be imported as linear buffers
    /// (`VK_EXT_external_memory_dma_buf`).
    pub dma_buf_memory: bool,
    /// DMA-BUF planes with an explicit DRM format modifier (tiled VA-API
    /// surfaces) can be imported as images
    /// (`VK_EXT_image_drm_format_modifier`).
    pub drm_format_modifiers: bool,
    /// Host memory can be imported (`VK_EXT_external_memory_host`): the
    /// alignment, in bytes, of the start and size of every imported range
    /// (`minImportedHostPointerAlignment`).
    pub host_pointer_alignment: Option<u64>,
    /// A `sync_file` (a DMA-BUF fence) can be imported as a binary semaphore
    /// to wait on (`VK_KHR_external_semaphore_fd`).
    pub sync_fd_semaphores: bool,
    /// Timeline semaphores can be exported as opaque fds (for CUDA).
    pub opaque_fd_semaphores: bool,
    /// Timeline semaphores are enabled on the device (Vulkan 1.2).
    pub timeline_semaphores: bool,
    /// The physical device's UUID (`VkPhysicalDeviceIDProperties`).
    pub device_uuid: Option<Uuid>,
    /// The driver's UUID: opaque handles only move between devices whose
    /// device and driver UUIDs both match.
    pub driver_uuid: Option<Uuid>,
}

impl Interop {
    /// One line for `stills probe`, such as
    /// `import: opaque-fd, DMA-BUF, host pointers (4096-byte aligned); semaphores: timeline; device 6d657361-…`.
    pub fn summary(&self) -> String {
        let mut memory = Vec::new();
        if self.opaque_fd_memory {
            memory.push("opaque-fd".to_string());
        }
        if self.dma_buf_memory {
            memory.push(if self.drm_format_modifiers {
                "DMA-BUF (with DRM modifiers)".to_string()
            } else {
                "DMA-BUF (linear only)".to_string()
            });
        }
        if let Some(alignment) = self.host_pointer_alignment {
            memory.push(format!("host pointers ({alignment}-byte aligned)"));
        }
        let mut semaphores = Vec::new();
        if self.timeline_semaphores {
            semaphores.push("timeline");
        }
        if self.sync_fd_semaphores {
            semaphores.push("sync-fd import");
        }
        if self.opaque_fd_semaphores {
            semaphores.push("opaque-fd export");
        }
        let list = |items: Vec<String>| {
            if items.is_empty() {
                "none".to_string()
            } else {
                items.join(", ")
            }
        };
        let mut line = format!(
            "import: {}; export: {}; semaphores: {}",
            list(memory),
            if self.opaque_fd_memory_export {
                "opaque-fd"
            } else {
                "none"
            },
            list(semaphores.into_iter().map(String::from).collect()),
        );
        if let Some(uuid) = self.device_uuid {
            line.push_str(&format!("; device {uuid}"));
        }
        line
    }
}

impl fmt::Display for Interop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

/// The raw Vulkan side of a wgpu device, kept by its context for the
/// imports: handles, the entry points of the enabled interop extensions and
/// what they allow.
///
/// The handles are borrowed from the wgpu device: they stay valid while it
/// lives, which the owning [`GpuContext`](crate::gpu::GpuContext) ensures
/// by holding both, and every resource made from them holds the wgpu device
/// in turn. Nothing here destroys them.
pub(crate) struct VulkanDevice {
    pub(crate) instance: ash::Instance,
    pub(crate) physical: vk::PhysicalDevice,
    pub(crate) device: ash::Device,
    pub(crate) memory_types: Vec<vk::MemoryType>,
    pub(crate) memory_fd: Option<khr::external_memory_fd::Device>,
    pub(crate) memory_host: Option<ext::external_memory_host::Device>,
    pub(crate) semaphore_fd: Option<khr::external_semaphore_fd::Device>,
    pub(crate) dma_buf: bool,
    pub(crate) drm_modifier: bool,
    /// `VK_EXT_queue_family_foreign` is enabled: imported DMA-BUFs are
    /// acquired from `VK_QUEUE_FAMILY_FOREIGN_EXT`.
    pub(crate) queue_family_foreign: bool,
    pub(crate) interop: Interop,
    /// Held while semaphores are added to the queue and submitted
    /// ([`super::semaphore::submit`]).
    pub(crate) submit_lock: std::sync::Mutex<()>,
}

impl fmt::Debug for VulkanDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VulkanDevice")
            .field("device", &self.device.handle())
            .field("interop", &self.interop)
            .finish_non_exhaustive()
    }
}

impl VulkanDevice {
    /// The Vulkan side of `device`, or `None` when it is not a Vulkan device.
    pub(crate) fn new(device: &wgpu::Device) -> Option<VulkanDevice> {
        // SAFETY: only handles are copied out of the guard; they are not
        // destroyed here or by anything this type does (see its docs).
        let hal = unsafe { device.as_hal::<Vk>() }?;
        let instance = hal.shared_instance().raw_instance().clone();
        let instance_version = hal.shared_instance().instance_api_version();
        let physical = hal.raw_physical_device();
        let raw = hal.raw_device().clone();
        let enabled = hal.enabled_device_extensions();
        let has = |name: &CStr| enabled.contains(&name);
        // SAFETY: `physical` is the device's physical device, of `instance`.
        let memory = unsafe { instance.get_physical_device_memory_properties(physical) };
        // Entry points of the extensions enabled on `raw`.
        let memory_fd = has(khr::external_memory_fd::NAME)
            .then(|| khr::external_memory_fd::Device::new(&instance, &raw));
        let memory_host = has(ext::external_memory_host::NAME)
            .then(|| ext::external_memory_host::Device::new(&instance, &raw));
        let semaphore_fd = has(khr::external_semaphore_fd::NAME)
            .then(|| khr::external_semaphore_fd::Device::new(&instance, &raw));
        let mut vulkan = VulkanDevice {
            memory_types: memory.memory_types_as_slice().to_vec(),
            dma_buf: memory_fd.is_some() && has(ext::external_memory_dma_buf::NAME),
            drm_modifier: has(ext::image_drm_format_modifier::NAME),
            queue_family_foreign: has(ext::queue_family_foreign::NAME),
            memory_fd,
            memory_host,
            semaphore_fd,
            instance,
            physical,
            device: raw,
            interop: Interop::default(),
            submit_lock: std::sync::Mutex::new(()),
        };
        // The `*2` queries are Vulkan 1.1 entry points.
        if instance_version >= vk::API_VERSION_1_1 {
            let device_version = instance_version.min(vulkan.api_version());
            // The semaphore helpers use the Vulkan 1.2 entry points.
            let timeline_enabled = device_version >= vk::API_VERSION_1_2;
            let enabled = Enabled {
                memory_fd: vulkan.memory_fd.is_some(),
                memory_host: vulkan.memory_host.is_some(),
                semaphore_fd: vulkan.semaphore_fd.is_some(),
                dma_buf: vulkan.dma_buf,
                drm_modifier: vulkan.drm_modifier,
            };
            vulkan.interop = detect(&vulkan.instance, physical, enabled, timeline_enabled);
        }
        Some(vulkan)
    }

    fn api_version(&self) -> u32 {
        // SAFETY: `physical` belongs to `instance`.
        unsafe { self.instance.get_physical_device_properties(self.physical) }.api_version
    }

    /// The first memory type allowed by `bits` that has `flags`.
    pub(crate) fn memory_type(&self, bits: u32, flags: vk::MemoryPropertyFlags) -> Option<u32> {
        (0..self.memory_types.len() as u32).find(|&i| {
            bits & (1 << i) != 0 && self.memory_types[i as usize].property_flags.contains(flags)
        })
    }

    /// The memory-fd entry points, or the typed error naming the extension.
    pub(crate) fn memory_fd(
        &self,
        what: ImportKind,
    ) -> Result<&khr::external_memory_fd::Device, ImportError> {
        self.memory_fd
            .as_ref()
            .ok_or(ImportError::MissingExtension {
                what,
                extension: "VK_KHR_external_memory_fd",
            })
    }
}

/// A Vulkan call's failure as an [`ImportError`].
pub(crate) fn failed(what: ImportKind, call: &'static str) -> impl Fn(vk::Result) -> ImportError {
    move |result| ImportError::Vulkan {
        what,
        call,
        result: result.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&CStr]) -> Vec<String> {
        list.iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn every_supported_interop_extension_is_enabled_on_vulkan_1_3() {
        let all = interop_extensions(|_| true, vk::API_VERSION_1_3);
        assert_eq!(names(&all), names(&INTEROP_EXTENSIONS));
    }

    #[test]
    fn lavapipe_22_gets_opaque_fd_and_host_memory_only() {
        let lavapipe = [
            khr::external_memory_fd::NAME,
            ext::external_memory_host::NAME,
            khr::external_semaphore::NAME,
        ];
        let got = interop_extensions(|n| lavapipe.contains(&n), vk::API_VERSION_1_3);
        assert_eq!(
            names(&got),
            names(&[
                khr::external_memory_fd::NAME,
                ext::external_memory_host::NAME
            ])
        );
    }

    #[test]
    fn dependencies_are_added_below_their_core_version_and_gate_the_extension() {
        // Vulkan 1.1: the modifier extension needs VK_KHR_image_format_list.
        let without = [ext::image_drm_format_modifier::NAME];
        assert!(interop_extensions(|n| without.contains(&n), vk::API_VERSION_1_1).is_empty());
        let with = [
            ext::image_drm_format_modifier::NAME,
            khr::image_format_list::NAME,
        ];
        assert_eq!(
            names(&interop_extensions(
                |n| with.contains(&n),
                vk::API_VERSION_1_1
            )),
            names(&with)
        );
        // DMA-BUF always needs the fd extension, at any version.
        let dma_only = [ext::external_memory_dma_buf::NAME];
        assert!(interop_extensions(|n| dma_only.contains(&n), vk::API_VERSION_1_3).is_empty());
    }

    #[test]
    fn uuids_print_hyphenated_and_serialise_as_strings() {
        let uuid = Uuid([
            0x6d, 0x65, 0x73, 0x61, 0x32, 0x32, 0x2e, 0x33, 0x2e, 0x36, 0, 0, 0, 0, 0, 0,
        ]);
        assert_eq!(uuid.to_string(), "6d657361-3232-2e33-2e36-000000000000");
        assert_eq!(
            serde_json::to_string(&uuid).unwrap(),
            "\"6d657361-3232-2e33-2e36-000000000000\""
        );
    }

    #[test]
    fn summary_names_what_is_importable() {
        assert_eq!(
            Interop::default().summary(),
            "import: none; export: none; semaphores: none"
        );
        let lavapipe = Interop {
            opaque_fd_memory: true,
            opaque_fd_memory_export: true,
            dma_buf_memory: true,
            host_pointer_alignment: Some(4096),
            timeline_semaphores: true,
            device_uuid: Some(Uuid([0; 16])),
            ..Interop::default()
        };
        assert_eq!(
            lavapipe.summary(),
            "import: opaque-fd, DMA-BUF (linear only), host pointers (4096-byte aligned); \
             export: opaque-fd; semaphores: timeline; device 00000000-0000-0000-0000-000000000000"
        );
    }
}

/// Which interop extensions a device has (or, for an adapter not opened
/// yet, would have once [`open`] enables them).
#[derive(Debug, Clone, Copy)]
struct Enabled {
    memory_fd: bool,
    memory_host: bool,
    semaphore_fd: bool,
    dma_buf: bool,
    drm_modifier: bool,
}

impl Interop {
    /// What a context opened on `adapter` would import, asked of the
    /// adapter without opening a device (cheap: for `stills probe`, and
    /// for choosing a backend before any device exists). Empty for an
    /// adapter that is not Vulkan.
    pub fn of_adapter(adapter: &wgpu::Adapter) -> Interop {
        // SAFETY: only handles are copied out of the guard, and used for
        // queries within this function.
        let Some(hal) = (unsafe { adapter.as_hal::<Vk>() }) else {
            return Interop::default();
        };
        let capabilities = hal.physical_device_capabilities();
        let instance_version = hal.shared_instance().instance_api_version();
        let api_version = capabilities.properties().api_version.min(instance_version);
        if instance_version < vk::API_VERSION_1_1 {
            return Interop::default();
        }
        let supported = |name: &CStr| capabilities.supports_extension(name);
        let wanted = interop_extensions(supported, api_version);
        let has = |name: &CStr| wanted.contains(&name);
        let enabled = Enabled {
            memory_fd: has(khr::external_memory_fd::NAME),
            memory_host: has(ext::external_memory_host::NAME),
            semaphore_fd: has(khr::external_semaphore_fd::NAME),
            dma_buf: has(khr::external_memory_fd::NAME) && has(ext::external_memory_dma_buf::NAME),
            drm_modifier: has(ext::image_drm_format_modifier::NAME),
        };
        let instance = hal.shared_instance().raw_instance();
        detect(
            instance,
            hal.raw_physical_device(),
            enabled,
            api_version >= vk::API_VERSION_1_2,
        )
    }
}

/// Works out [`Interop`] from the interop extensions a device has and the
/// driver's answers for each handle type. Needs Vulkan 1.1 entry points.
fn detect(
    instance: &ash::Instance,
    physical: vk::PhysicalDevice,
    enabled: Enabled,
    timeline_enabled: bool,
) -> Interop {
    let mut id = vk::PhysicalDeviceIDProperties::default();
    let mut host = vk::PhysicalDeviceExternalMemoryHostPropertiesEXT::default();
    let mut properties = vk::PhysicalDeviceProperties2::default().push_next(&mut id);
    if enabled.memory_host {
        properties = properties.push_next(&mut host);
    }
    // SAFETY: the chain holds structs this instance knows (1.1 core, and the
    // host-memory one only where the device has its extension).
    unsafe { instance.get_physical_device_properties2(physical, &mut properties) };
    let mut timeline = vk::PhysicalDeviceTimelineSemaphoreFeatures::default();
    let mut features = vk::PhysicalDeviceFeatures2::default().push_next(&mut timeline);
    // SAFETY: as above; the timeline struct is 1.2 core or
    // `VK_KHR_timeline_semaphore`, and unknown structs are ignored.
    unsafe { instance.get_physical_device_features2(physical, &mut features) };
    // wgpu-hal enables `timelineSemaphore` whenever the device has it (its
    // own fences are timeline semaphores).
    let timeline_semaphores = timeline_enabled && timeline.timeline_semaphore == vk::TRUE;
    let buffer = |handle| buffer_handle_features(instance, physical, handle);
    let opaque = buffer(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD);
    let dma_buf = buffer(vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT);
    let host_memory = buffer(vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT);
    let importable = vk::ExternalMemoryFeatureFlags::IMPORTABLE;
    let semaphore =
        |handle, timeline: bool| semaphore_handle_features(instance, physical, handle, timeline);
    let sync_fd = semaphore(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD, false);
    let opaque_timeline = semaphore(vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_FD, true);
    Interop {
        opaque_fd_memory: enabled.memory_fd && opaque.contains(importable),
        opaque_fd_memory_export: enabled.memory_fd
            && opaque.contains(vk::ExternalMemoryFeatureFlags::EXPORTABLE),
        dma_buf_memory: enabled.dma_buf && dma_buf.contains(importable),
        drm_format_modifiers: enabled.dma_buf && enabled.drm_modifier,
        host_pointer_alignment: (enabled.memory_host && host_memory.contains(importable))
            .then_some(host.min_imported_host_pointer_alignment),
        sync_fd_semaphores: enabled.semaphore_fd
            && sync_fd.contains(vk::ExternalSemaphoreFeatureFlags::IMPORTABLE),
        opaque_fd_semaphores: enabled.semaphore_fd
            && timeline_semaphores
            && opaque_timeline.contains(vk::ExternalSemaphoreFeatureFlags::EXPORTABLE),
        timeline_semaphores,
        device_uuid: Some(Uuid(id.device_uuid)),
        driver_uuid: Some(Uuid(id.driver_uuid)),
    }
}

/// What the driver can do with `handle` for the buffers the imports make.
fn buffer_handle_features(
    instance: &ash::Instance,
    physical: vk::PhysicalDevice,
    handle: vk::ExternalMemoryHandleTypeFlags,
) -> vk::ExternalMemoryFeatureFlags {
    let info = vk::PhysicalDeviceExternalBufferInfo::default()
        .usage(
            vk::BufferUsageFlags::STORAGE_BUFFER
                | vk::BufferUsageFlags::TRANSFER_SRC
                | vk::BufferUsageFlags::TRANSFER_DST,
        )
        .handle_type(handle);
    let mut out = vk::ExternalBufferProperties::default();
    // SAFETY: a 1.1 query on a physical device of `instance`, valid structs.
    unsafe { instance.get_physical_device_external_buffer_properties(physical, &info, &mut out) };
    out.external_memory_properties.external_memory_features
}

fn semaphore_handle_features(
    instance: &ash::Instance,
    physical: vk::PhysicalDevice,
    handle: vk::ExternalSemaphoreHandleTypeFlags,
    timeline: bool,
) -> vk::ExternalSemaphoreFeatureFlags {
    let mut kind = vk::SemaphoreTypeCreateInfo::default()
        .semaphore_type(vk::SemaphoreType::TIMELINE)
        .initial_value(0);
    let mut info = vk::PhysicalDeviceExternalSemaphoreInfo::default().handle_type(handle);
    if timeline {
        info = info.push_next(&mut kind);
    }
    let mut out = vk::ExternalSemaphoreProperties::default();
    // SAFETY: a 1.1 query on a physical device of `instance`, valid structs
    // (the timeline struct only where timeline semaphores exist).
    unsafe {
        instance.get_physical_device_external_semaphore_properties(physical, &info, &mut out)
    };
    out.external_semaphore_features
}
