use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::uniforms::{PrimaryVariant, SecondaryVariant};
use super::GpuError;

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

/// The compute pipelines and their shared layout, compiled once per device.
/// Pass 1 has a variant per [`PrimaryVariant`], pass 2 one per
/// [`SecondaryVariant`]; each is compiled the first time a frame needs it
/// and kept, except the ones an upright 8-bit planar SDR frame uses, which
/// are compiled with the context so that the usual first frame does not
/// wait for them.
pub(crate) struct Pipelines {
    pub(crate) layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    module: wgpu::ShaderModule,
    primary: Mutex<HashMap<PrimaryVariant, wgpu::ComputePipeline>>,
    secondary: Mutex<HashMap<SecondaryVariant, wgpu::ComputePipeline>>,
}

impl Pipelines {
    /// The pass-1 pipeline of `variant`, compiled on first use. Call inside
    /// an error scope: a failed compilation is reported there.
    pub(crate) fn primary(
        &self,
        device: &wgpu::Device,
        variant: PrimaryVariant,
    ) -> wgpu::ComputePipeline {
        self.cached(
            &self.primary,
            device,
            "resample_primary",
            variant,
            &variant.constants(),
        )
    }

    /// The pass-2 pipeline of `variant`, compiled on first use, like
    /// [`primary`](Self::primary).
    pub(crate) fn secondary(
        &self,
        device: &wgpu::Device,
        variant: SecondaryVariant,
    ) -> wgpu::ComputePipeline {
        self.cached(
            &self.secondary,
            device,
            "resample_secondary",
            variant,
            &variant.constants(),
        )
    }

    fn cached<V: Eq + std::hash::Hash>(
        &self,
        cache: &Mutex<HashMap<V, wgpu::ComputePipeline>>,
        device: &wgpu::Device,
        entry: &str,
        variant: V,
        constants: &[(&str, f64)],
    ) -> wgpu::ComputePipeline {
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry(variant)
            .or_insert_with(|| {
                compute_pipeline(
                    device,
                    &self.pipeline_layout,
                    &self.module,
                    entry,
                    constants,
                )
            })
            .clone()
    }
}

struct Inner {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: AdapterInfo,
    pipelines: Pipelines,
    /// Set by the device-lost callback on devices this module created.
    lost: Arc<Mutex<Option<String>>>,
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

/// The WGSL of both passes, assembled from one file per stage.
pub(crate) const SHADER_SOURCE: &str = concat!(
    include_str!("../../shaders/params.wgsl"),
    include_str!("../../shaders/fetch.wgsl"),
    include_str!("../../shaders/color.wgsl"),
    include_str!("../../shaders/resample.wgsl"),
    include_str!("../../shaders/output.wgsl"),
);

impl GpuContext {
    /// Opens the best adapter allowed by `preference` and compiles the
    /// pipelines. Requests the adapter's own limits, so large frames are
    /// bounded by the hardware rather than by WebGPU's defaults; no optional
    /// feature is needed.
    pub fn new(preference: AdapterPreference) -> Result<GpuContext, GpuError> {
        pollster::block_on(Self::new_async(preference))
    }

    async fn new_async(preference: AdapterPreference) -> Result<GpuContext, GpuError> {
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
        let adapter = match adapter {
            Some(adapter) => adapter,
            None => instance
                .request_adapter(&wgpu::RequestAdapterOptions {
                    force_fallback_adapter: true,
                    ..Default::default()
                })
                .await
                .map_err(|e| GpuError::NoAdapter(e.to_string()))?,
        };
        let info = adapter.get_info();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("stills"),
                required_limits: adapter.limits(),
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::DeviceCreation {
                adapter: info.name.clone(),
                reason: e.to_string(),
            })?;
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
    /// from failed work.
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
        Ok(GpuContext {
            inner: Arc::new(Inner {
                device,
                queue,
                info: AdapterInfo::from_wgpu(info),
                pipelines,
                lost,
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

fn compile(device: &wgpu::Device) -> Pipelines {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("stills frame pipeline"),
        source: wgpu::ShaderSource::Wgsl(SHADER_SOURCE.into()),
    });
    let storage = |binding, read_only| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    };
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("stills frame bindings"),
        entries: &[
            wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            },
            storage(1, true),
            storage(2, true),
            storage(3, true),
            storage(4, false),
            storage(5, false),
            storage(6, false),
            storage(7, true),
        ],
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("stills frame pipeline layout"),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let pipelines = Pipelines {
        primary: Mutex::new(HashMap::new()),
        secondary: Mutex::new(HashMap::new()),
        pipeline_layout,
        module,
        layout,
    };
    for group in 0..2 {
        pipelines.primary(
            device,
            PrimaryVariant {
                group,
                axis: 0,
                staged: false,
                word_quads: true,
                two_blocks: group == 0,
            },
        );
    }
    pipelines.secondary(device, SecondaryVariant::PASSTHROUGH);
    pipelines
}

/// Every stage memory read is of a quad the workgroup wrote first, so
/// workgroup memory needs no zeroing.
fn compute_pipeline(
    device: &wgpu::Device,
    layout: &wgpu::PipelineLayout,
    module: &wgpu::ShaderModule,
    entry: &str,
    constants: &[(&str, f64)],
) -> wgpu::ComputePipeline {
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(entry),
        layout: Some(layout),
        module,
        entry_point: Some(entry),
        compilation_options: wgpu::PipelineCompilationOptions {
            constants,
            zero_initialize_workgroup_memory: false,
        },
        cache: None,
    })
}

#[cfg(test)]
mod tests {
    use std::mem::offset_of;

    use wgpu::naga;

    use super::SHADER_SOURCE;
    use crate::gpu::uniforms::{self, Grid, Params};

    fn parse() -> naga::Module {
        naga::front::wgsl::parse_str(SHADER_SOURCE).expect("the WGSL parses")
    }

    #[test]
    fn the_shader_validates_without_a_device() {
        let module = parse();
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .expect("the WGSL validates");
        let entries: Vec<_> = module
            .entry_points
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(entries, ["resample_primary", "resample_secondary"]);
    }

    /// The Rust `Params` and the WGSL `Params` must agree byte for byte; naga
    /// computes the WGSL layout, so a member added on one side only, or a
    /// `vec3` sneaking in, fails here rather than as wrong colours.
    #[test]
    fn rust_and_wgsl_uniform_layouts_agree() {
        let module = parse();
        let layout = |name: &str| {
            module
                .types
                .iter()
                .find_map(|(_, ty)| match &ty.inner {
                    naga::TypeInner::Struct { members, span }
                        if ty.name.as_deref() == Some(name) =>
                    {
                        Some((
                            members
                                .iter()
                                .map(|m| (m.name.clone().unwrap_or_default(), m.offset))
                                .collect::<Vec<_>>(),
                            *span,
                        ))
                    }
                    _ => None,
                })
                .unwrap_or_else(|| panic!("struct {name} in the WGSL"))
        };
        let (members, span) = layout("Params");
        let rust = [
            ("out_size", offset_of!(Params, out_size)),
            ("map", offset_of!(Params, map)),
            ("scale", offset_of!(Params, scale)),
            ("grid", offset_of!(Params, grid)),
            ("channel", offset_of!(Params, channel)),
            ("row_bytes", offset_of!(Params, row_bytes)),
            ("texel_bytes", offset_of!(Params, texel_bytes)),
            ("yuv", offset_of!(Params, yuv)),
            ("gamut", offset_of!(Params, gamut)),
            ("luma_src", offset_of!(Params, luma_src)),
            ("luma_out", offset_of!(Params, luma_out)),
            ("tone", offset_of!(Params, tone)),
            ("tone2", offset_of!(Params, tone2)),
            ("hlg", offset_of!(Params, hlg)),
            ("sample", offset_of!(Params, sample)),
            ("taps", offset_of!(Params, taps)),
        ];
        let rust: Vec<_> = rust
            .iter()
            .map(|(n, o)| (n.to_string(), *o as u32))
            .collect();
        assert_eq!(members, rust);
        assert_eq!(span as usize, std::mem::size_of::<Params>());

        let (members, span) = layout("Grid");
        let rust = [
            ("size_lo", offset_of!(Grid, size_lo)),
            ("hi_lines", offset_of!(Grid, hi_lines)),
            ("sub_off", offset_of!(Grid, sub_off)),
        ];
        let rust: Vec<_> = rust
            .iter()
            .map(|(n, o)| (n.to_string(), *o as u32))
            .collect();
        assert_eq!(members, rust);
        assert_eq!(span as usize, std::mem::size_of::<Grid>());
    }

    /// Pass 1's workgroup width, stage size and line block are constants of
    /// both the WGSL and the host, which picks variants and sizes dispatches
    /// from them.
    #[test]
    fn pass_one_constants_agree() {
        let module = parse();
        let value = |name: &str| {
            let (_, constant) = module
                .constants
                .iter()
                .find(|(_, c)| c.name.as_deref() == Some(name))
                .unwrap_or_else(|| panic!("const {name} in the WGSL"));
            match module.global_expressions[constant.init] {
                naga::Expression::Literal(naga::Literal::U32(v)) => v,
                ref other => panic!("{name} is {other:?}"),
            }
        };
        assert_eq!(value("PRIMARY_GROUP"), uniforms::PRIMARY_GROUP);
        assert_eq!(value("STAGE_QUADS"), uniforms::STAGE_QUADS);
        assert_eq!(value("LINES"), uniforms::LINE_BLOCK);
        assert_eq!(value("COLUMNS"), uniforms::SECONDARY_COLUMNS);
        assert_eq!(value("PAIR"), uniforms::PAIR);
    }

    #[test]
    fn contexts_and_pipelines_cross_threads() {
        fn shared<T: Send + Sync>() {}
        fn movable<T: Send>() {}
        shared::<super::GpuContext>();
        movable::<crate::gpu::FramePipeline>();
    }
}
