//! The compositor seam: for each composition frame a [`VideoCompositor`]
//! gets the instruction in force and each layer's source frame (a texture
//! on the pipeline's device, and host pixels when it asks) and returns the
//! composed picture. [`BuiltinCompositor`] is the WGSL one; a program's
//! own compositor implements the same trait.

use crate::gpu::compose::{compose, ComposedEncoding, LayerDraw};
use crate::gpu::GpuContext;
use crate::image::{ColorSpace, Image};
use crate::render::Size;
use crate::time::Time;

use super::model::{CropRect, Instruction, Transform};

/// Whether a compositor takes layer pictures at their source size or
/// already scaled to the size they are drawn at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayerScale {
    /// The source frame at its stored size (its pixel coordinates are the
    /// track's, as the layer transform and crop expect).
    #[default]
    Source,
    /// Scaled by the frame pipeline's filters (the single-track path's
    /// Lanczos) to the size the layer transform and render scale draw it
    /// at, larger or smaller; `to_output` and `crop` then account for the
    /// scale.
    AsDrawn,
}

/// One layer's source frame at a composition frame.
#[derive(Debug)]
pub struct LayerFrame {
    /// The layer's position in [`Instruction::layers`] (0 is the top).
    pub layer: usize,
    /// The composition track's ID.
    pub track: u32,
    /// Where the shown source frame starts on its source track.
    pub source_time: Time,
    /// Straight-alpha RGBA whose loads are linear light, with
    /// `TEXTURE_BINDING` and `COPY_SRC` usage, on the frame's
    /// [`GpuContext`]: `Rgba8UnormSrgb` in an sRGB composition;
    /// `Rgba32Float` in a [`BT2100_PQ`](super::BT2100_PQ) one, BT.2020
    /// light with 1.0 at reference white (203 cd/m²).
    pub texture: wgpu::Texture,
    /// The frame on the host, when the compositor asked for it
    /// ([`VideoCompositor::wants_host_pixels`]): the picture the texture
    /// was made from, in its own encoding ([`Image::color_space`]: sRGB,
    /// or an HDR layer's PQ or HLG in a PQ composition), of the texture's
    /// size.
    pub pixels: Option<Image>,
    /// Texture pixel coordinates → output pixel coordinates: the layer's
    /// transform at this time, the render scale, and any scaling the
    /// texture already had.
    pub to_output: Transform,
    /// The layer's opacity at this time, 0..=1.
    pub opacity: f64,
    /// The shown part, in texture pixel coordinates; `None`: all of it.
    pub crop: Option<CropRect>,
}

/// What a compositor is asked to compose.
#[derive(Debug)]
pub struct CompositionRequest<'a> {
    /// The composition frame's start.
    pub time: Time,
    pub instruction: &'a Instruction,
    /// The output image's size (render size times render scale).
    pub output_size: Size,
    /// The output image's colour space: [`ColorSpace::SRGB`], or
    /// [`BT2100_PQ`](super::BT2100_PQ) where the composition keeps HDR.
    pub color_space: ColorSpace,
    /// The frames of the instruction's layers that show something at this
    /// time (an empty segment shows nothing), top first.
    pub layers: &'a [LayerFrame],
    pub gpu: &'a GpuContext,
}

/// A composed picture.
#[derive(Debug)]
pub enum ComposedFrame {
    /// A texture of the output size with `COPY_SRC` usage, read back once:
    /// in an sRGB composition `Rgba8Unorm` or `Rgba8UnormSrgb` holding
    /// sRGB-encoded straight-alpha values; in a BT.2100 PQ one
    /// `Rgba16Uint` holding PQ code values.
    Texture(wgpu::Texture),
    /// Pixels already on the host, of the output size, format (8-bit RGBA
    /// for sRGB, 16-bit for PQ) and colour space.
    Pixels(Image),
}

/// The error a compositor fails a frame with.
pub type CompositorError = Box<dyn std::error::Error + Send + Sync>;

/// Composes the layers of one composition frame
/// (`AVVideoCompositing`). Called from the generator's threads, one frame
/// at a time per generator; it may be called again for the next frame
/// while another generator's frame is being composed.
pub trait VideoCompositor: Send + Sync {
    /// How large the layer pictures handed over are.
    fn layer_scale(&self) -> LayerScale {
        LayerScale::Source
    }

    /// Whether each [`LayerFrame`] also carries host pixels.
    fn wants_host_pixels(&self) -> bool {
        false
    }

    /// Composes one frame. An error fails the requests this frame answers
    /// (and no others).
    fn compose(&self, request: &CompositionRequest<'_>) -> Result<ComposedFrame, CompositorError>;

    /// The generator's pending requests were cancelled: frames already
    /// asked for will not be delivered, so work on them may stop.
    fn cancel_all(&self) {}
}

/// The built-in compositor: each layer drawn with its transform, crop and
/// opacity over the instruction's background, bottom layer first, blended
/// in the output's linear light by `shaders/compose.wgsl`. Layers come
/// already scaled by the frame pipeline ([`LayerScale::AsDrawn`]), so a
/// layer is filtered as a single-track image of its drawn size would be,
/// and placed with bilinear sampling (exact for whole-pixel moves).
/// Its pipelines are compiled once per device, with the frame pipeline's.
#[derive(Debug, Default, Clone, Copy)]
pub struct BuiltinCompositor;

impl BuiltinCompositor {
    pub fn new() -> BuiltinCompositor {
        BuiltinCompositor
    }
}

impl VideoCompositor for BuiltinCompositor {
    fn layer_scale(&self) -> LayerScale {
        LayerScale::AsDrawn
    }

    fn compose(&self, request: &CompositionRequest<'_>) -> Result<ComposedFrame, CompositorError> {
        let mut draws = Vec::with_capacity(request.layers.len());
        // Bottom first: Apple lists the top layer first.
        for layer in request.layers.iter().rev() {
            let Some(inverse) = layer.to_output.inverse() else {
                continue;
            };
            let t = layer.texture.size();
            let crop = layer
                .crop
                .map_or([0.0, 0.0, f64::from(t.width), f64::from(t.height)], |c| {
                    [c.x, c.y, c.x + c.width, c.y + c.height]
                });
            draws.push(LayerDraw {
                texture: &layer.texture,
                output_to_texture: [
                    inverse.a, inverse.b, inverse.c, inverse.d, inverse.tx, inverse.ty,
                ],
                crop,
                opacity: layer.opacity,
            });
        }
        let size = (request.output_size.width, request.output_size.height);
        let background =
            super::light::background(request.instruction.background, request.color_space);
        let encoding = if request.color_space == super::BT2100_PQ {
            ComposedEncoding::Pq16
        } else {
            ComposedEncoding::Srgb8
        };
        let texture = compose(request.gpu, size, background, &draws, encoding)?;
        Ok(ComposedFrame::Texture(texture))
    }
}
