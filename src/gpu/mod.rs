//! The GPU side of the frame pipeline: one decoded frame and its
//! [`OutputSpec`](crate::render::spec::OutputSpec) in, the final pixels out,
//! with one readback.
//!
//! # Stages
//!
//! All WGSL lives in `shaders/`, one file per stage, concatenated into one
//! module (`shaders::SHADER_SOURCE`) with two entry points:
//!
//! 1. **Input** (host, `pipeline.rs`): the only stage that knows where the
//!    picture came from ([`Surface`](crate::surface::Surface)). Host planes
//!    are copied (`upload.rs`) into a persistent, already-mapped staging
//!    buffer with rows padded to whole 32-bit words and planes starting on
//!    256-byte boundaries, then on the GPU into one storage buffer of planes;
//!    a buffer already on the device is bound where it lies, each plane from
//!    its offset rounded down to the binding alignment. Either way the later
//!    stages see three bindings and each plane's offset and pitch in its
//!    binding (`Params::plane_base`, `row_bytes`).
//! 2. **Fetch** (`fetch.wgsl`): component 0 (Y, or R) is read from plane
//!    binding 0, components 1 and 2 (Cb/Cr, or G/B) from bindings 1 and 2,
//!    each a range of the plane buffer, at the row and texel strides and
//!    channel the layout table gives, so planar, semi-planar, packed and gray
//!    inputs of 8 or 16 bits share one kernel and need no optional feature.
//!    Word loads rather than textures: on lavapipe a texel fetch costs
//!    several times a storage load.
//! 3. **Resample** (`resample.wgsl`): separable Lanczos-3. The output →
//!    source map of every orientation is axis-aligned, so pass 1
//!    (`resample_primary`) filters along the source axis output x runs on,
//!    for every source line inside `source_rect`, into storage buffers; pass
//!    2 (`resample_secondary`) filters those along the other axis. Each plane
//!    is filtered on its own grid: chroma taps are placed from the chroma
//!    siting offset, and the support widens by `max(1, scale / subsampling)`
//!    so a downscale averages instead of aliasing. Taps outside `source_rect`
//!    repeat its edge texels. The weights depend only on the output index,
//!    never on the line, so the host builds them once per geometry
//!    (`taps::TapTables`: normalised Lanczos weights per pair of output
//!    columns of pass 1 and pair of output rows of pass 2, edge taps already
//!    folded into the edge texel) into a read-only storage buffer cached with
//!    the output-shape buffers; the passes only multiply and add. Every table
//!    entry starts on a multiple of four texels and is padded with zero
//!    weights to whole quads, so both passes take four taps per vec4 load and
//!    multiply-add: on lavapipe, loop iterations and per-invocation loads
//!    cost far more than the arithmetic. So invocations filter neighbouring
//!    outputs together. A pass-1 invocation filters two neighbouring output
//!    columns of four source lines, loading each weight quad once for all
//!    four lines and each texel quad once for both columns (their table entry
//!    covers the union of their spans, one weight vec4 per column per quad:
//!    1080p → 320: 14.5 → 11.75 ms of CPU), and stores each column's lines as
//!    one vec4; where it reads the planes directly and spans hold four quads
//!    or more, it filters eight lines, so each weight quad serves all eight
//!    (9.5 → 8.75 ms). Pass 2 reads them back four lines per load; an
//!    invocation filters four neighbouring columns of two neighbouring rows,
//!    loading each weight quad once for the four columns (1080p → 320: 15.25
//!    → 13.75 ms; → 1920: 102 → 80) and each quad of lines once for both rows
//!    (10.25 → 9.5; 74 → 67). A pass-1 workgroup (64 pairs of output columns
//!    of one block of lines) first copies the texels its columns span into
//!    workgroup memory, each texel fetched once however many columns read it,
//!    and filters from there; a downscale too steep for the stage (about 7×)
//!    reads the planes directly, and so do 8-bit planar rows along x, whose
//!    quads are single words: on lavapipe a word from the plane costs what
//!    one from the stage does, and a staged quad of `f32`s costs four (1080p
//!    → 320: 22 → 15 ms of CPU). Pass 1 is compiled per variant
//!    (`variants::PrimaryVariant`, pipeline-overridable constants) and
//!    dispatched once per component group: group, axis, staged or direct,
//!    whole-word quads for 8-bit planar rows along x, and one or two blocks
//!    of lines are fixed at compile time rather than branched on, since
//!    lavapipe runs both sides of every branch (1080p → 320 on lavapipe: 42 →
//!    22 ms of CPU per frame). Filtering happens on code values, before YUV →
//!    RGB: the matrix is affine and the weights are normalised, so this
//!    equals filtering R'G'B' as zscale and swscale do, never linear light.
//! 4. **Convert** (`output.wgsl`): normalise (`sample_scale`), then
//!    `R'G'B' = yuv_to_rgb · YCbCr + yuv_offset`.
//! 5. **Colour** (`color.wgsl` on the curves of `transfer.wgsl`, one pass-2
//!    variant per transfer and set of colour steps,
//!    `variants::SecondaryVariant`): SDR to SDR in the same primaries, and
//!    HDR kept as HDR, pass R'G'B' through untouched (what FFmpeg does). Otherwise:
//!    linearise (BT.1886; PQ EOTF; HLG inverse OETF + OOTF), apply the gamut
//!    matrix, tone map with the BT.2390 EETF in the PQ domain (libplacebo's
//!    knee offset 1.0, black-level lift onto a 1000:1 SDR display) driven by
//!    the largest output channel, so one gain scales all three channels and
//!    no hue turns, then bring what is still outside the gamut in by moving
//!    it towards the grey of equal luminance. Tone-mapped HDR is encoded with
//!    the sRGB OETF; SDR whose primaries changed is re-encoded with the
//!    inverse BT.1886 curve it was linearised with, so its tone matches the
//!    passthrough path and only the gamut moves.
//! 6. **Store**: RGBA8 (`pack4x8unorm`) or RGBA16 (`pack2x16unorm`) into a
//!    storage buffer with tightly packed rows, copied into a mappable buffer
//!    and read back once. Because the output is a buffer, not a texture, no
//!    256-byte row padding ever reaches the caller.
//!
//! # CPU adapters
//!
//! On a CPU adapter (lavapipe), a steep downscale of host planes is first
//! averaged over whole boxes of texels on the host (`decimate.rs`), so the
//! stages above filter a picture a few times the output instead of the
//! full frame: the first pass's work falls with the square of the box
//! side (1080p → 160: boxes of 4, sixteen times fewer line-taps), and the
//! result stays within 50 dB of the direct path (`tests/decimate.rs`).
//! Any other adapter runs the stages on the picture as it is.
//!
//! # Uniform layout
//!
//! `Params` (`params.rs`, mirrored in `shaders/params.wgsl`), 464 bytes,
//! every member 16 bytes wide so WGSL's uniform layout rules add no padding:
//!
//! | offset | member | contents |
//! |---|---|---|
//! | 0 | `out_size: vec4<u32>` | output width, height, pass-1 source axis (0 x, 1 y), words per pixel |
//! | 16 | `map: vec4<f32>` | `src = a·(o + ½) + b`: pass 1 `a, b`, pass 2 `a, b` |
//! | 32 | `scale: vec4<f32>` | source samples per output pixel along output x, y |
//! | 48 | `grid: array<Grid, 2>` | per group (Y; CbCr): `size_lo` (plane w, h, first texel x, y), `hi_lines` (last texel x, y, first line, line count), `sub_off` (subsampling x, y, siting offset x, y) |
//! | 144 | `channel: vec4<u32>` | channel (sample within the texel) of components 0–2; `w` = 1 for neutral chroma |
//! | 160 | `row_bytes: vec4<u32>` | row pitch of the plane of components 0–2; `w` bytes per sample |
//! | 176 | `texel_bytes: vec4<u32>` | bytes per texel of the plane of components 0–2 |
//! | 192 | `plane_base: vec4<u32>` | byte offset of the plane of components 0–2 in its binding |
//! | 208 | `yuv: array<vec4<f32>, 3>` | matrix rows, offset in `w` |
//! | 256 | `gamut: array<vec4<f32>, 3>` | linear gamut matrix rows |
//! | 304 | `luma_src`, `luma_out: vec4<f32>` | luminance weights of source and output RGB |
//! | 336 | `tone: vec4<f32>` | PQ(source black), PQ(source peak), knee `KS`, `maxLum` |
//! | 352 | `tone2: vec4<f32>` | `minLum`, target black cd/m², SDR white cd/m² |
//! | 368 | `hlg: vec4<f32>` | HLG system gamma, nominal peak cd/m² |
//! | 384 | `sample: vec4<f32>` | integer sample → code factor, neutral chroma code |
//! | 400 | `taps: vec4<u32>` | vec4 offsets in the tap buffer (binding 7) of the tables of pass 1 group 0, 1 and pass 2 group 0, 1 |
//! | 416 | `alpha: vec4<u32>` | alpha plane: channel, pitch, bytes per texel, offset in its binding |
//! | 432 | `band: vec4<u32>` | the band's first and end pass-2 table entry |
//! | 448 | `blocks: vec4<u32>` | the band's pass-1 blocks: first and end of group 0, of group 1 |
//!
//! # Resources
//!
//! A [`FramePipeline`] keeps plane, staging and working buffers and bind
//! groups per input shape (format + size) and per output shape in small
//! caches, so a stream of same-sized frames allocates no device memory: an
//! imported picture only wraps memory that exists already, in buffers or
//! textures made per frame; the tap tables are rebuilt and uploaded only
//! when the geometry changes.
//!
//! # Bands
//!
//! A frame whose pass-1 buffers, output or input planes exceed what the
//! device binds (`max_storage_buffer_binding_size`, `max_buffer_size`) or
//! dispatches renders in bands of output rows (`bands.rs`): each band runs
//! both passes over just the pass-1 lines its rows' taps read, with its
//! input planes bound over the rows those lines need, into intermediate
//! and output buffers sized for the largest band, and is read back before
//! the next. `Params::band` and `Params::blocks` tell the shaders which
//! rows and blocks a run holds; a frame that fits runs as one band, the
//! whole frame. The values are those of the unsplit render, bit for bit.
//!
//! Errors are captured with error scopes and returned as [`GpuError`]; none
//! panics.

mod bands;
pub(crate) mod compose;
mod context;
#[cfg(feature = "nvdec")]
mod cuda_input;
mod decimate;
mod deinterlace;
mod error;
mod frame_plan;
mod host_colour;
mod host_deinterlace;
mod host_render;
mod input;
mod params;
mod pipeline;
mod shaders;
mod taps;
mod upload;
mod variants;

pub use crate::vulkan::{Interop, Uuid};
pub(crate) use context::scoped;
pub use context::{hardware_adapter_possible, AdapterInfo, AdapterPreference, GpuContext};
pub(crate) use decimate::host_decimated;
pub use error::{GpuError, ImportError, ImportKind, LayoutError, VkResultCode};
pub use frame_plan::frame_memory;
pub use host_render::HostRenderer;
#[cfg(test)]
pub(crate) use input::{drm_fourcc as input_drm_fourcc, texel_format as input_texel_format};
pub use pipeline::{FramePipeline, RenderTimings, RenderedImage};
