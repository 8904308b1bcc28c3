//! The WGSL of the frame pipeline, assembled from one file per stage under
//! `shaders/`, and its compute pipelines. There is one module per way the
//! input stage binds planes (storage buffers, or textures for imported
//! images), each with its bind group layout; pass 1 and pass 2 are compiled
//! per variant on first need and kept for the device's lifetime.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use super::compose::ComposePass;
use super::deinterlace::DeinterlaceStage;
use super::variants::{PrimaryVariant, SecondaryVariant};

/// How the planes reach the shaders: the one thing the passes' code depends
/// on from the input stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum InputKind {
    /// Storage buffers, read in 32-bit words (uploads, device buffers,
    /// imported linear memory).
    Buffer,
    /// Unsigned-integer textures, one per plane (imported tiled images).
    Image,
}

/// The WGSL of both passes for `input`, assembled from one file per stage;
/// with `reads_alpha` false, texels are read as opaque (see
/// `alpha_none.wgsl` for why that is a module of its own).
fn shader_source(input: InputKind, reads_alpha: bool) -> String {
    let fetch = match input {
        InputKind::Buffer => include_str!("../../shaders/fetch_buffer.wgsl"),
        InputKind::Image => include_str!("../../shaders/fetch_image.wgsl"),
    };
    let alpha = if reads_alpha {
        include_str!("../../shaders/alpha_read.wgsl")
    } else {
        include_str!("../../shaders/alpha_none.wgsl")
    };
    [
        include_str!("../../shaders/params.wgsl"),
        fetch,
        include_str!("../../shaders/transfer.wgsl"),
        include_str!("../../shaders/color.wgsl"),
        alpha,
        include_str!("../../shaders/resample.wgsl"),
        include_str!("../../shaders/output.wgsl"),
    ]
    .concat()
}

/// A binding of the compute stage.
pub(super) fn compute_binding(binding: u32, ty: wgpu::BindingType) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty,
        count: None,
    }
}

/// A storage buffer of the compute stage.
pub(super) fn storage_binding(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    compute_binding(
        binding,
        wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
    )
}

/// A uniform buffer of the compute stage, bound whole.
pub(super) fn uniform_binding(binding: u32) -> wgpu::BindGroupLayoutEntry {
    compute_binding(
        binding,
        wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
    )
}

/// The compute pipelines, compiled once per device. The buffer-input set
/// is made with the context; the image-input set the first time an imported
/// image is rendered; the deinterlace stage's the first time an interlaced
/// picture is; the compose pass's the first time a composition frame is.
pub(crate) struct Pipelines {
    buffer: Stages,
    image: OnceLock<Stages>,
    deinterlace: OnceLock<DeinterlaceStage>,
    compose: OnceLock<ComposePass>,
}

impl Pipelines {
    fn stages(&self, device: &wgpu::Device, input: InputKind) -> &Stages {
        match input {
            InputKind::Buffer => &self.buffer,
            InputKind::Image => self
                .image
                .get_or_init(|| Stages::compile(device, InputKind::Image)),
        }
    }

    /// The deinterlace stage, compiled on first use. Call inside an error
    /// scope, like [`primary`](Self::primary).
    pub(crate) fn deinterlace(&self, device: &wgpu::Device) -> &DeinterlaceStage {
        self.deinterlace
            .get_or_init(|| DeinterlaceStage::compile(device))
    }

    /// A video composition's compose pass, compiled on first use. Call
    /// inside an error scope, like [`primary`](Self::primary).
    pub(crate) fn compose(&self, device: &wgpu::Device) -> &ComposePass {
        self.compose.get_or_init(|| ComposePass::compile(device))
    }

    /// The bind group layout of `input`'s pipelines.
    pub(crate) fn layout(&self, device: &wgpu::Device, input: InputKind) -> &wgpu::BindGroupLayout {
        &self.stages(device, input).layout
    }

    /// The pass-1 pipeline of `variant`, compiled on first use. Call inside
    /// an error scope: a failed compilation is reported there.
    pub(crate) fn primary(
        &self,
        device: &wgpu::Device,
        input: InputKind,
        variant: PrimaryVariant,
    ) -> wgpu::ComputePipeline {
        let stages = self.stages(device, input);
        let module = if variant.alpha || variant.premultiply {
            stages.alpha_module(device)
        } else {
            &stages.module
        };
        stages.cached(
            &stages.primary,
            device,
            module,
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
        input: InputKind,
        variant: SecondaryVariant,
    ) -> wgpu::ComputePipeline {
        let stages = self.stages(device, input);
        stages.cached(
            &stages.secondary,
            device,
            &stages.module,
            "resample_secondary",
            variant,
            &variant.constants(),
        )
    }
}

/// One input kind's layout, modules and compiled variants. Pass 1 has a
/// variant per [`PrimaryVariant`], pass 2 one per [`SecondaryVariant`].
struct Stages {
    input: InputKind,
    layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    /// Every variant but pass 1's alpha-reading ones.
    module: wgpu::ShaderModule,
    /// Pass 1's alpha-reading variants, made the first time a picture with
    /// alpha is rendered.
    alpha_module: OnceLock<wgpu::ShaderModule>,
    primary: Mutex<HashMap<PrimaryVariant, wgpu::ComputePipeline>>,
    secondary: Mutex<HashMap<SecondaryVariant, wgpu::ComputePipeline>>,
}

impl Stages {
    fn compile(device: &wgpu::Device, input: InputKind) -> Stages {
        let module = shader_module(device, input, false);
        let plane = |binding| match input {
            InputKind::Buffer => storage_binding(binding, true),
            InputKind::Image => compute_binding(
                binding,
                wgpu::BindingType::Texture {
                    sample_type: wgpu::TextureSampleType::Uint,
                    view_dimension: wgpu::TextureViewDimension::D2,
                    multisampled: false,
                },
            ),
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("stills frame bindings"),
            entries: &[
                uniform_binding(0),
                plane(1),
                plane(2),
                plane(3),
                storage_binding(4, false),
                storage_binding(5, false),
                storage_binding(6, false),
                storage_binding(7, true),
                plane(8),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("stills frame pipeline layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        Stages {
            input,
            primary: Mutex::new(HashMap::new()),
            secondary: Mutex::new(HashMap::new()),
            pipeline_layout,
            module,
            alpha_module: OnceLock::new(),
            layout,
        }
    }

    fn alpha_module(&self, device: &wgpu::Device) -> &wgpu::ShaderModule {
        self.alpha_module
            .get_or_init(|| shader_module(device, self.input, true))
    }

    fn cached<V: Eq + std::hash::Hash>(
        &self,
        cache: &Mutex<HashMap<V, wgpu::ComputePipeline>>,
        device: &wgpu::Device,
        module: &wgpu::ShaderModule,
        entry: &str,
        variant: V,
        constants: &[(&str, f64)],
    ) -> wgpu::ComputePipeline {
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry(variant)
            .or_insert_with(|| {
                compute_pipeline(device, &self.pipeline_layout, module, entry, constants)
            })
            .clone()
    }
}

fn shader_module(device: &wgpu::Device, input: InputKind, reads_alpha: bool) -> wgpu::ShaderModule {
    device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("stills frame pipeline"),
        source: wgpu::ShaderSource::Wgsl(shader_source(input, reads_alpha).into()),
    })
}

/// Compiles the buffer-input pipelines, with the variants an upright 8-bit
/// planar SDR frame uses made at once so that the usual first frame does
/// not wait for them.
pub(crate) fn compile(device: &wgpu::Device) -> Pipelines {
    let pipelines = Pipelines {
        buffer: Stages::compile(device, InputKind::Buffer),
        image: OnceLock::new(),
        deinterlace: OnceLock::new(),
        compose: OnceLock::new(),
    };
    for group in 0..2 {
        pipelines.primary(
            device,
            InputKind::Buffer,
            PrimaryVariant {
                group,
                axis: 0,
                staged: false,
                word_quads: true,
                two_blocks: group == 0,
                alpha: false,
                premultiply: false,
                alpha_grid: 0,
            },
        );
    }
    pipelines.secondary(device, InputKind::Buffer, SecondaryVariant::PASSTHROUGH);
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

/// The members (name, byte offset) and size of WGSL struct `name` as naga
/// lays it out, for the tests that hold a Rust uniform to its WGSL twin.
#[cfg(test)]
pub(super) fn struct_layout(module: &wgpu::naga::Module, name: &str) -> (Vec<(String, u32)>, u32) {
    module
        .types
        .iter()
        .find_map(|(_, ty)| match &ty.inner {
            wgpu::naga::TypeInner::Struct { members, span } if ty.name.as_deref() == Some(name) => {
                Some((
                    members
                        .iter()
                        .map(|m| (m.name.clone().unwrap_or_default(), m.offset))
                        .collect(),
                    *span,
                ))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("struct {name} in the WGSL"))
}

#[cfg(test)]
mod tests {
    use std::mem::offset_of;

    use wgpu::naga;

    use super::{shader_source, InputKind};
    use crate::gpu::params::{Grid, Params};
    use crate::gpu::variants;

    fn parse_for(input: InputKind, reads_alpha: bool) -> naga::Module {
        naga::front::wgsl::parse_str(&shader_source(input, reads_alpha)).expect("the WGSL parses")
    }

    fn parse() -> naga::Module {
        parse_for(InputKind::Buffer, false)
    }

    #[test]
    fn every_shader_validates_without_a_device() {
        let modules = [InputKind::Buffer, InputKind::Image]
            .into_iter()
            .flat_map(|input| [(input, false), (input, true)]);
        for (input, reads_alpha) in modules {
            let module = parse_for(input, reads_alpha);
            naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::empty(),
            )
            .validate(&module)
            .unwrap_or_else(|e| {
                panic!("the {input:?} WGSL (reads alpha: {reads_alpha}) validates: {e:?}")
            });
            let entries: Vec<_> = module
                .entry_points
                .iter()
                .map(|e| e.name.as_str())
                .collect();
            assert_eq!(entries, ["resample_primary", "resample_secondary"]);
        }
    }

    /// The Rust `Params` and the WGSL `Params` must agree byte for byte; naga
    /// computes the WGSL layout, so a member added on one side only, or a
    /// `vec3` sneaking in, fails here rather than as wrong colours.
    #[test]
    fn rust_and_wgsl_uniform_layouts_agree() {
        let module = parse();
        let layout = |name: &str| super::struct_layout(&module, name);
        let (members, span) = layout("Params");
        let rust = [
            ("out_size", offset_of!(Params, out_size)),
            ("map", offset_of!(Params, map)),
            ("scale", offset_of!(Params, scale)),
            ("grid", offset_of!(Params, grid)),
            ("channel", offset_of!(Params, channel)),
            ("row_bytes", offset_of!(Params, row_bytes)),
            ("texel_bytes", offset_of!(Params, texel_bytes)),
            ("plane_base", offset_of!(Params, plane_base)),
            ("yuv", offset_of!(Params, yuv)),
            ("gamut", offset_of!(Params, gamut)),
            ("luma_src", offset_of!(Params, luma_src)),
            ("luma_out", offset_of!(Params, luma_out)),
            ("tone", offset_of!(Params, tone)),
            ("tone2", offset_of!(Params, tone2)),
            ("hlg", offset_of!(Params, hlg)),
            ("sample", offset_of!(Params, sample)),
            ("taps", offset_of!(Params, taps)),
            ("alpha", offset_of!(Params, alpha)),
            ("band", offset_of!(Params, band)),
            ("blocks", offset_of!(Params, blocks)),
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
        assert_eq!(value("PRIMARY_GROUP"), variants::PRIMARY_GROUP);
        assert_eq!(value("STAGE_QUADS"), variants::STAGE_QUADS);
        assert_eq!(value("LINES"), variants::LINE_BLOCK);
        assert_eq!(value("COLUMNS"), variants::SECONDARY_COLUMNS);
        assert_eq!(value("PAIR"), variants::PAIR);
    }
}
