//! The compose pass of a video composition (`shaders/compose.wgsl`): layer
//! pictures uploaded as textures whose loads are linear light (sRGB
//! formats, or floats in an HDR composition), drawn bottom to top into a
//! linear-light accumulator, encoded into one output texture, read back
//! once. Its pipelines are compiled once per device, in the context's
//! [`Pipelines`](super::shaders::Pipelines). The composition model and the compositor trait live in
//! [`compose`](crate::compose); this is only their GPU work.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use wgpu::util::DeviceExt;

use super::context::scoped;
use super::shaders::{compute_binding, storage_binding, uniform_binding};
use super::{GpuContext, GpuError};

const WORKGROUP: u32 = 8;

/// One layer as the pass draws it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LayerDraw<'a> {
    /// Straight-alpha RGBA, sRGB format: loads are linear light.
    pub texture: &'a wgpu::Texture,
    /// Output pixel coordinates → texture pixel coordinates.
    pub output_to_texture: [f64; 6],
    /// x0, y0, x1, y1 of the shown part, in texture pixel coordinates.
    pub crop: [f64; 4],
    pub opacity: f64,
}

/// What the compose pass writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ComposedEncoding {
    /// `Rgba8Unorm` holding sRGB-encoded values.
    Srgb8,
    /// `Rgba16Uint` holding BT.2100 PQ code values.
    Pq16,
}

/// The compiled compose pipelines of one device.
pub(crate) struct ComposePass {
    clear: wgpu::ComputePipeline,
    blend: wgpu::ComputePipeline,
    encode: wgpu::ComputePipeline,
    encode_pq: wgpu::ComputePipeline,
}

impl ComposePass {
    /// Compiles the pipelines; call inside an error scope, where a failed
    /// compilation is reported.
    pub(crate) fn compile(device: &wgpu::Device) -> ComposePass {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("compose"),
            source: wgpu::ShaderSource::Wgsl(
                [
                    include_str!("../../shaders/transfer.wgsl"),
                    include_str!("../../shaders/compose.wgsl"),
                ]
                .concat()
                .into(),
            ),
        });
        let pipeline = |entry: &str, layout: Option<&wgpu::PipelineLayout>| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        // The blend pass's layout is spelled out: a layer texture is
        // read with loads only, so a float format that cannot be
        // filtered (an HDR composition's 32-bit floats) binds too.
        let blend_group = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("compose blend"),
            entries: &[
                storage_binding(0, false),
                compute_binding(
                    1,
                    wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: false },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                ),
                uniform_binding(2),
            ],
        });
        let blend_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("compose blend"),
            bind_group_layouts: &[Some(&blend_group)],
            immediate_size: 0,
        });
        ComposePass {
            clear: pipeline("clear", None),
            blend: pipeline("blend", Some(&blend_layout)),
            encode: pipeline("encode", None),
            encode_pq: pipeline("encode_pq", None),
        }
    }
}

/// Draws `layers` (bottom first) over `background` (premultiplied linear
/// light) into a new `width`×`height` texture in `encoding`, with the
/// compose pipelines compiled once per device (on first use).
pub(crate) fn compose(
    ctx: &GpuContext,
    (width, height): (u32, u32),
    background: [f64; 4],
    layers: &[LayerDraw<'_>],
    encoding: ComposedEncoding,
) -> Result<wgpu::Texture, GpuError> {
    let device = ctx.device();
    let limits = device.limits();
    fits_texture(&limits, "the composed picture", (width, height))?;
    let acc_bytes = u64::from(width) * u64::from(height) * 16;
    let allowed = limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size);
    if acc_bytes > allowed {
        return Err(GpuError::TooLarge {
            what: "the composition's accumulator",
            limit: "max_storage_buffer_binding_size",
            requested: acc_bytes,
            allowed,
        });
    }
    scoped(device, || {
        let stages = ctx.pipelines().compose(device);
        let acc = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("compose accumulator"),
            size: acc_bytes,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let composed = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("composed"),
            size: wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: match encoding {
                ComposedEncoding::Srgb8 => wgpu::TextureFormat::Rgba8Unorm,
                ComposedEncoding::Pq16 => wgpu::TextureFormat::Rgba16Uint,
            },
            usage: wgpu::TextureUsages::STORAGE_BINDING
                | wgpu::TextureUsages::COPY_SRC
                | wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        });
        let size = [0.0, f64::from(width), f64::from(height), 0.0];
        let clear_draw = draw_words(background, [0.0; 4], [0.0; 4], size);
        let uniform = |words: &[f32; 16]| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("compose draw"),
                contents: bytemuck::cast_slice(words),
                usage: wgpu::BufferUsages::UNIFORM,
            })
        };
        let groups = (width.div_ceil(WORKGROUP), height.div_ceil(WORKGROUP));
        let mut encoder = device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            let clear_uniform = uniform(&clear_draw);
            let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &stages.clear.get_bind_group_layout(0),
                entries: &[
                    entry(0, acc.as_entire_binding()),
                    entry(2, clear_uniform.as_entire_binding()),
                ],
            });
            pass.set_pipeline(&stages.clear);
            pass.set_bind_group(0, &group, &[]);
            pass.dispatch_workgroups(groups.0, groups.1, 1);
            for layer in layers {
                let m = layer.output_to_texture;
                let t = layer.texture.size();
                let words = draw_words(
                    [m[0], m[1], m[2], m[3]],
                    [m[4], m[5], f64::from(t.width), f64::from(t.height)],
                    layer.crop,
                    [layer.opacity, size[1], size[2], 0.0],
                );
                let layer_uniform = uniform(&words);
                let view = layer.texture.create_view(&Default::default());
                let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: None,
                    layout: &stages.blend.get_bind_group_layout(0),
                    entries: &[
                        entry(0, acc.as_entire_binding()),
                        entry(1, wgpu::BindingResource::TextureView(&view)),
                        entry(2, layer_uniform.as_entire_binding()),
                    ],
                });
                pass.set_pipeline(&stages.blend);
                pass.set_bind_group(0, &group, &[]);
                pass.dispatch_workgroups(groups.0, groups.1, 1);
            }
            let view = composed.create_view(&Default::default());
            let (encode, binding) = match encoding {
                ComposedEncoding::Srgb8 => (&stages.encode, 3),
                ComposedEncoding::Pq16 => (&stages.encode_pq, 4),
            };
            let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &encode.get_bind_group_layout(0),
                entries: &[
                    entry(0, acc.as_entire_binding()),
                    entry(2, clear_uniform.as_entire_binding()),
                    entry(binding, wgpu::BindingResource::TextureView(&view)),
                ],
            });
            pass.set_pipeline(encode);
            pass.set_bind_group(0, &group, &[]);
            pass.dispatch_workgroups(groups.0, groups.1, 1);
        }
        ctx.queue().submit([encoder.finish()]);
        composed
    })
}

fn entry(binding: u32, resource: wgpu::BindingResource<'_>) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry { binding, resource }
}

fn draw_words(m: [f64; 4], t_size: [f64; 4], crop: [f64; 4], misc: [f64; 4]) -> [f32; 16] {
    let mut words = [0.0f32; 16];
    for (i, v) in [m, t_size, crop, misc].iter().flatten().enumerate() {
        words[i] = *v as f32;
    }
    words
}

/// A layer's pixels as the compose pass reads them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LayerPixels<'a> {
    /// Straight-alpha RGBA8 of sRGB-encoded values, rows `stride` bytes
    /// apart: an `Rgba8UnormSrgb` texture, linear light on load.
    Srgb8 { stride: usize, data: &'a [u8] },
    /// Straight-alpha linear light, four floats a pixel, tightly packed:
    /// an `Rgba32Float` texture.
    Linear(&'a [f32]),
}

/// Refuses a `width`×`height` texture (`what`) whose side the device's
/// 2D textures cannot reach.
fn fits_texture(
    limits: &wgpu::Limits,
    what: &'static str,
    (width, height): (u32, u32),
) -> Result<(), GpuError> {
    let side = limits.max_texture_dimension_2d;
    if width > side || height > side {
        return Err(GpuError::TooLarge {
            what,
            limit: "max_texture_dimension_2d",
            requested: u64::from(width.max(height)),
            allowed: u64::from(side),
        });
    }
    Ok(())
}

/// Uploads a layer's pixels as a texture the compose pass and custom
/// compositors load linear light from.
pub(crate) fn upload_layer(
    ctx: &GpuContext,
    (width, height): (u32, u32),
    pixels: LayerPixels<'_>,
) -> Result<wgpu::Texture, GpuError> {
    let device = ctx.device();
    fits_texture(&device.limits(), "a composition layer", (width, height))?;
    let (format, bytes_per_row, data): (_, usize, &[u8]) = match pixels {
        LayerPixels::Srgb8 { stride, data } => (wgpu::TextureFormat::Rgba8UnormSrgb, stride, data),
        LayerPixels::Linear(data) => (
            wgpu::TextureFormat::Rgba32Float,
            width as usize * 16,
            bytemuck::cast_slice(data),
        ),
    };
    scoped(device, || {
        let size = wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        };
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("composition layer"),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            // COPY_SRC: a custom compositor may copy a layer as it is.
            usage: wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_DST
                | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        ctx.queue().write_texture(
            texture.as_image_copy(),
            data,
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(bytes_per_row as u32),
                rows_per_image: Some(height),
            },
            size,
        );
        texture
    })
}

/// Reads a composed texture back to the host: tightly packed rows of
/// `width × 4` bytes for `Rgba8Unorm` and `Rgba8UnormSrgb` (an SDR
/// composition's), `width × 8` (little-endian) for `Rgba16Uint` (an HDR
/// one's PQ code values); `expected` is which of the two it must be.
pub(crate) fn read_composed(
    ctx: &GpuContext,
    texture: &wgpu::Texture,
    expected: ComposedEncoding,
    timeout: Duration,
) -> Result<Vec<u8>, GpuError> {
    let format = texture.format();
    let bytes_per_pixel = match (expected, format) {
        (
            ComposedEncoding::Srgb8,
            wgpu::TextureFormat::Rgba8Unorm | wgpu::TextureFormat::Rgba8UnormSrgb,
        ) => 4,
        (ComposedEncoding::Pq16, wgpu::TextureFormat::Rgba16Uint) => 8,
        _ => {
            return Err(GpuError::UnsupportedSpec(format!(
                "a composed texture of this composition must be {}, not {format:?}",
                match expected {
                    ComposedEncoding::Srgb8 => "Rgba8Unorm or Rgba8UnormSrgb",
                    ComposedEncoding::Pq16 => "Rgba16Uint (PQ code values)",
                }
            )))
        }
    };
    if !texture.usage().contains(wgpu::TextureUsages::COPY_SRC) {
        return Err(GpuError::UnsupportedSpec(
            "a composed texture must be made with TextureUsages::COPY_SRC".into(),
        ));
    }
    let device = ctx.device();
    let size = texture.size();
    let row = size.width as usize * bytes_per_pixel;
    let padded = row.next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT as usize);
    let bytes = (padded * size.height as usize) as u64;
    let readback = scoped(device, || {
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("composed readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = device.create_command_encoder(&Default::default());
        encoder.copy_texture_to_buffer(
            texture.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &readback,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(padded as u32),
                    rows_per_image: Some(size.height),
                },
            },
            wgpu::Extent3d {
                depth_or_array_layers: 1,
                ..size
            },
        );
        ctx.queue().submit([encoder.finish()]);
        readback
    })?;
    let mapped: Arc<Mutex<Option<bool>>> = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&mapped);
    readback.slice(..).map_async(wgpu::MapMode::Read, move |r| {
        if let Ok(mut s) = slot.lock() {
            *s = Some(r.is_ok());
        }
    });
    device
        .poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: Some(timeout),
        })
        .map_err(|e| match e {
            wgpu::PollError::Timeout => GpuError::Timeout {
                seconds: timeout.as_secs(),
            },
            other => GpuError::DeviceLost(other.to_string()),
        })?;
    let state = *mapped
        .lock()
        .map_err(|_| GpuError::Internal("map state poisoned".into()))?;
    match state {
        Some(true) => {}
        Some(false) => {
            return Err(GpuError::DeviceLost(
                "the composed picture could not be mapped".into(),
            ))
        }
        None => {
            return Err(GpuError::Timeout {
                seconds: timeout.as_secs(),
            })
        }
    }
    let view = readback.slice(..).get_mapped_range().map_err(|e| {
        GpuError::DeviceLost(format!("the composed picture could not be mapped: {e}"))
    })?;
    let mut out = Vec::with_capacity(row * size.height as usize);
    for line in view.chunks(padded) {
        out.extend_from_slice(&line[..row]);
    }
    drop(view);
    readback.unmap();
    Ok(out)
}
