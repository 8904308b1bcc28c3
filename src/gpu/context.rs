use std::sync::{Arc, Mutex};

use super::shaders::{compile, Pipelines};
use super::GpuError;
use crate::vulkan::device::{self as vulkan, VulkanDevice};
use crate::vulkan::Interop;

/// Which adapters [`GpuContext::new`] may pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdapterPreference {
    /// The best hardware adapter (discrete, then integrated, then virtual);
    /// a software rasteriser (lavapipe) only when there is none.
    #[default]
    Auto,
    /// Only a software adapter: reproducible results on any machine, and
    /// what CI runs.
    Software,
}

/// Whether this machine has a device node a hardware Vulkan driver could
/// open: a DRM render node (Mesa's drivers for AMD, Intel and others) or
/// NVIDIA's control device. Without one, the only adapter wgpu can find is
/// a CPU implementation (lavapipe), which this tells without loading a
/// driver: loading lavapipe and compiling the pipelines with LLVM is about
/// 100 ms of a cold process. Asked once per process: every batch's plan
/// asks it.
pub fn hardware_adapter_possible() -> bool {
    static POSSIBLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *POSSIBLE.get_or_init(|| {
        let render_node = std::fs::read_dir("/dev/dri").is_ok_and(|dir| {
            dir.flatten()
                .any(|entry| entry.file_name().to_string_lossy().starts_with("renderD"))
        });
        render_node || std::path::Path::new("/dev/nvidiactl").exists()
    })
}

/// What the chosen adapter is, for logs and `stills probe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterInfo {
    pub name: String,
    pub backend: wgpu::Backend,
    pub device_type: wgpu::DeviceType,
    pub driver: String,
    pub driver_info: String,
}

impl AdapterInfo {
    fn from_wgpu(info: &wgpu::AdapterInfo) -> AdapterInfo {
        AdapterInfo {
            name: info.name.clone(),
            backend: info.backend,
            device_type: info.device_type,
            driver: info.driver.clone(),
            driver_info: info.driver_info.clone(),
        }
    }

    /// Whether this is a CPU implementation (lavapipe, WARP, SwiftShader).
    pub fn is_software(&self) -> bool {
        self.device_type == wgpu::DeviceType::Cpu
    }
}

struct Inner {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: AdapterInfo,
    pipelines: Pipelines,
    /// Set by the device-lost callback on devices this module created.
    lost: Arc<Mutex<Option<String>>>,
    /// The raw Vulkan side of `device`, for imports; `None` off Vulkan.
    vulkan: Option<VulkanDevice>,
    interop: Interop,
}

/// A device, its queue and the compiled frame pipelines. Cheap to clone and
/// shared across threads: every [`FramePipeline`](super::FramePipeline)
/// built from it reuses the same compiled shaders, so the cost of compiling
/// is paid once per process, not per request.
#[derive(Clone)]
pub struct GpuContext {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuContext")
            .field("adapter", &self.inner.info)
            .finish_non_exhaustive()
    }
}

impl GpuContext {
    /// Opens the best adapter allowed by `preference` and compiles the
    /// pipelines. Requests the adapter's own limits, so large frames are
    /// bounded by the hardware rather than by WebGPU's defaults; no optional
    /// feature is needed. A Vulkan adapter is opened through wgpu-hal with
    /// every interop extension it has (external memory as opaque fds,
    /// DMA-BUFs and host pointers, DRM format modifiers, external semaphore
    /// fds); [`interop`](Self::interop) says what that allows.
    pub fn new(preference: AdapterPreference) -> Result<GpuContext, GpuError> {
        pollster::block_on(Self::new_async(preference))
    }

    /// The adapter [`new`](Self::new) would open under `preference`, and
    /// what a context on it would import, found without opening a device
    /// or compiling anything (for reports such as `stills probe`).
    pub fn probe_adapter(
        preference: AdapterPreference,
    ) -> Result<(AdapterInfo, Interop), GpuError> {
        let adapter = pollster::block_on(choose_adapter(preference))?;
        Ok((
            AdapterInfo::from_wgpu(&adapter.get_info()),
            Interop::of_adapter(&adapter),
        ))
    }

    async fn new_async(preference: AdapterPreference) -> Result<GpuContext, GpuError> {
        let adapter = choose_adapter(preference).await?;
        let info = adapter.get_info();
        let desc = wgpu::DeviceDescriptor {
            label: Some("stills"),
            required_limits: adapter.limits(),
            ..Default::default()
        };
        let (device, queue) = match vulkan::open(&adapter, &desc) {
            Some(opened) => opened?,
            None => adapter
                .request_device(&desc)
                .await
                .map_err(|e| GpuError::DeviceCreation {
                    adapter: info.name.clone(),
                    reason: e.to_string(),
                })?,
        };
        let lost = Arc::new(Mutex::new(None));
        let flag = Arc::clone(&lost);
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut slot) = flag.lock() {
                *slot = Some(format!("{reason:?}: {message}"));
            }
        });
        // Errors outside an error scope would otherwise reach wgpu's default
        // handler, which panics. Every call this module makes is scoped; this
        // keeps a stray one from taking the process down.
        device.on_uncaptured_error(Arc::new(|_error: wgpu::Error| {}));
        Self::build(device, queue, &info, lost)
    }

    /// Wraps a device the caller already owns (for example one shared with a
    /// renderer, or one created over imported Vulkan memory). The device
    /// keeps its own error and device-lost handlers; loss is then detected
    /// from failed work. What it can import follows from the extensions it
    /// was created with (nothing, off Vulkan).
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue) -> Result<GpuContext, GpuError> {
        let info = device.adapter_info();
        Self::build(device, queue, &info, Arc::new(Mutex::new(None)))
    }

    fn build(
        device: wgpu::Device,
        queue: wgpu::Queue,
        info: &wgpu::AdapterInfo,
        lost: Arc<Mutex<Option<String>>>,
    ) -> Result<GpuContext, GpuError> {
        let pipelines = scoped(&device, || compile(&device))?;
        let vulkan = VulkanDevice::new(&device);
        let interop = vulkan
            .as_ref()
            .map(|v| v.interop.clone())
            .unwrap_or_default();
        Ok(GpuContext {
            inner: Arc::new(Inner {
                device,
                queue,
                info: AdapterInfo::from_wgpu(info),
                pipelines,
                lost,
                vulkan,
                interop,
            }),
        })
    }

    pub fn info(&self) -> &AdapterInfo {
        &self.inner.info
    }

    pub fn device(&self) -> &wgpu::Device {
        &self.inner.device
    }

    pub fn queue(&self) -> &wgpu::Queue {
        &self.inner.queue
    }

    pub(crate) fn pipelines(&self) -> &Pipelines {
        &self.inner.pipelines
    }

    /// What this context's device can import from other APIs.
    pub fn interop(&self) -> &Interop {
        &self.inner.interop
    }

    /// The raw Vulkan side of the device, for the imports in
    /// [`crate::vulkan`]; `None` off Vulkan.
    pub(crate) fn vulkan(&self) -> Option<&VulkanDevice> {
        self.inner.vulkan.as_ref()
    }

    /// `Err(DeviceLost)` once the device-lost callback has fired.
    pub(crate) fn check_alive(&self) -> Result<(), GpuError> {
        let lost = self
            .inner
            .lost
            .lock()
            .map_err(|_| GpuError::DeviceLost("device-lost state poisoned".into()))?;
        match lost.as_ref() {
            Some(reason) => Err(GpuError::DeviceLost(reason.clone())),
            None => Ok(()),
        }
    }
}

/// The best adapter `preference` allows: hardware (discrete, then
/// integrated, then virtual) before a software rasteriser, which is taken
/// only when there is nothing else or it is asked for.
async fn choose_adapter(preference: AdapterPreference) -> Result<wgpu::Adapter, GpuError> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let adapters = instance.enumerate_adapters(wgpu::Backends::all()).await;
    let adapter = adapters
        .into_iter()
        .filter(|a| {
            preference == AdapterPreference::Auto
                || a.get_info().device_type == wgpu::DeviceType::Cpu
        })
        .filter(|a| {
            a.get_downlevel_capabilities()
                .flags
                .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
        })
        .min_by_key(|a| rank(a.get_info().device_type));
    match adapter {
        Some(adapter) => Ok(adapter),
        None => instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                force_fallback_adapter: true,
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::NoAdapter(e.to_string())),
    }
}

fn rank(device_type: wgpu::DeviceType) -> u8 {
    match device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// Runs `work` inside out-of-memory, validation and internal error scopes
/// and turns the first captured error into a [`GpuError`].
pub(crate) fn scoped<T>(device: &wgpu::Device, work: impl FnOnce() -> T) -> Result<T, GpuError> {
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let value = work();
    let errors = [
        pollster::block_on(validation.pop()),
        pollster::block_on(internal.pop()),
        pollster::block_on(oom.pop()),
    ];
    match errors.into_iter().flatten().next() {
        Some(error) => Err(GpuError::from_wgpu(error)),
        None => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn contexts_and_pipelines_cross_threads() {
        fn shared<T: Send + Sync>() {}
        fn movable<T: Send>() {}
        shared::<super::GpuContext>();
        movable::<crate::gpu::FramePipeline>();
    }
}
