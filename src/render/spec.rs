//! `OutputSpec`: everything the GPU needs to turn one decoded frame into the
//! final image, computed once per request on the CPU. The shaders do no
//! decision-making; every choice (which matrix, which crop, which peak) is
//! made here, where it can be unit-tested without a GPU.

use crate::asset::color::{ColorPrimaries, HdrFormat};
use crate::picture::Field;

/// An affine map from output pixel coordinates to source coordinates:
/// `src = m · out + t`, with `m` row-major (`src.x = m[0][0]·x + m[0][1]·y + t[0]`).
/// Both spaces are continuous with pixel centres at `i + 0.5`, so the centre
/// of output pixel `(i, j)` is `(i + 0.5, j + 0.5)`. Source coordinates are in
/// *luma* samples of the stored (coded) picture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine2 {
    pub m: [[f64; 2]; 2],
    pub t: [f64; 2],
}

/// An axis-aligned rectangle in continuous source coordinates; `x0 ≤ x1`,
/// `y0 ≤ y1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

/// The fully resolved recipe for one output image.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSpec {
    /// Final image size in pixels (after aperture, transform and fit).
    pub width: u32,
    pub height: u32,
    /// Output pixel centre → source luma coordinate.
    pub out_to_src: Affine2,
    /// The part of the source that may be sampled (the clean aperture, or the
    /// whole coded picture). A filter tap that falls outside is clamped to
    /// this rectangle (edge pixels repeat), so nothing outside the aperture
    /// bleeds into the image.
    pub source_rect: Rect,
    /// Source pixels per output pixel along the output's x and y axes
    /// (e.g. `[12.0, 12.0]` for 3840 → 320). A resampling filter widens its
    /// support by `max(1, scale)` so a downscale does not alias.
    pub scale: [f64; 2],
    pub color: ColorSpec,
    /// The field of an interlaced picture that the image is made from, its
    /// missing lines interpolated before anything else; `None` reads the
    /// picture's lines as they are (progressive, or woven).
    pub deinterlace: Option<Field>,
}

/// How the sample values become output pixel values.
#[derive(Debug, Clone, PartialEq)]
pub struct ColorSpec {
    /// Bits per sample of the decoded planes (8, 10, 12, 16). Samples reach
    /// the shader normalised as `code / (2^bits − 1)` for planar/packed
    /// input read as unorm of the container width; see `sample_scale`.
    pub bit_depth: u8,
    /// Multiply a unorm-read sample by this to get `code / (2^bit_depth − 1)`:
    /// 1.0 when the sample fills its container (8 in 8, 16 in 16), and
    /// `65535 / 1023` when 10-bit codes sit in the low bits of 16 (planar
    /// `yuv420p10le`), and `65535 / (1023 · 64)` ≈ 1.00096 for MSB-aligned P010.
    pub sample_scale: f64,
    /// `[R', G', B'] = yuv_to_rgb · [Y, Cb, Cr] + yuv_offset`, where Y, Cb, Cr
    /// are normalised codes (`code / (2^bits − 1)`). Range expansion and the
    /// matrix are folded in. For RGB input it is the identity (with the
    /// G,B,R plane order handled by `planes`).
    pub yuv_to_rgb: [[f64; 3]; 3],
    pub yuv_offset: [f64; 3],
    /// Position of the first chroma sample relative to the first luma
    /// sample, in luma samples (`[0.0, 0.5]` for MPEG-2 "left" 4:2:0,
    /// `[0.5, 0.5]` for centre, `[0.0, 0.0]` for top-left / 4:4:4).
    pub chroma_offset: [f64; 2],
    /// Electro-optical transfer of the non-linear R'G'B' produced above.
    pub transfer: TransferFunction,
    /// Primaries of the source (resolved: untagged → guessed).
    pub source_primaries: ColorPrimaries,
    /// Linear-light 3×3 matrix from source primaries to output primaries
    /// (identity when they are the same). Applied to linear RGB.
    pub gamut: [[f64; 3]; 3],
    /// Present when an HDR source is mapped to SDR.
    pub tone_map: Option<ToneMap>,
    pub output: OutputEncoding,
}

/// The transfer curves the shaders implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferFunction {
    /// BT.709 / BT.601 / sRGB-family SDR: displayed with the BT.1886 (2.4)
    /// gamma for tone mapping purposes; for SDR → SDR output no
    /// linearisation happens unless the gamut changes.
    Sdr,
    /// SMPTE ST 2084 (absolute, 10 000 cd/m² = 1.0).
    Pq,
    /// ARIB STD-B67, scene-referred; `ToneMap::hlg_system_gamma` and the
    /// nominal peak make it display-referred.
    Hlg,
}

/// BT.2390 EETF parameters, all in cd/m².
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneMap {
    pub format: HdrFormat,
    /// Source mastering peak: mastering display max luminance, else MaxCLL,
    /// else 1000.
    pub source_peak: f64,
    /// Source black (mastering display min luminance, else 0).
    pub source_black: f64,
    /// SDR reference white the output maps to 1.0 (203 cd/m², BT.2408).
    pub target_peak: f64,
    /// HLG OOTF system gamma for the nominal peak (1.2 at 1000 cd/m²).
    pub hlg_system_gamma: f64,
}

/// What the output pixels are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputEncoding {
    /// 8-bit RGBA, BT.709 primaries, sRGB transfer (`ForceSdr`, and SDR
    /// sources under `MatchSource`).
    Srgb8,
    /// 16-bit RGBA, source primaries, PQ (`MatchSource` on a PQ source).
    Pq16,
    /// 16-bit RGBA, source primaries, HLG (`MatchSource` on an HLG source).
    Hlg16,
}
