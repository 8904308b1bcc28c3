//! Colour decisions: which YUV matrix, range and siting a stream really
//! has, how its samples are normalised, which transfer it uses, how its
//! primaries map to the output's, and how HDR is tone mapped.
//!
//! Untagged streams are read the way FFmpeg-based players and libplacebo
//! read them, so stills agrees with the references its tests compare
//! against:
//! - matrix: BT.601 below 720 lines, BT.709 from 720 (SPEC); a Dolby Vision
//!   base layer tagged nowhere else is BT.2020;
//! - range: limited for YUV, full for RGB (swscale, libplacebo's
//!   `pl_color_levels_guess`); limited for gray too, because a gray frame
//!   here is a video codec's monochrome luma plane (libplacebo, knowing no
//!   matrix for it, would say full);
//! - primaries: BT.709, whatever the size. swscale does no gamut conversion
//!   at all and libplacebo's `pl_color_space_infer` defaults to BT.709, so
//!   an untagged SD stream gets no gamut change in either;
//! - transfer: SDR;
//! - chroma siting: "left" (MPEG-2/H.264 style), libplacebo's default for
//!   an unknown location and the H.264/HEVC default.
//!
//! Tone mapping (`ForceSdr` on PQ/HLG) is parameterised like
//! `ffmpeg -vf libplacebo=tonemapping=bt.2390:peak_detect=0` with
//! libplacebo 4.208 (Debian 12's): SDR reference white is 203 cd/m²
//! (`PL_COLOR_SDR_WHITE`, BT.2408) and maps to 1.0; the BT.2390 EETF runs in
//! PQ space with libplacebo's knee offset of 1.0 (BT.2390 itself says 0.5);
//! an HLG source is first made display-referred for a 1000 cd/m² nominal
//! display (system gamma 1.2); gamut mapping is a colorimetric clip; white
//! points are adapted with the linearised CIECAM97s matrix libplacebo uses.
//! Two deliberate differences from libplacebo 4.208: without mastering
//! metadata a PQ source's peak is MaxCLL, else 1000 cd/m² (libplacebo ignores
//! MaxCLL and assumes PQ's full 10 000, compressing typical HDR10 far more
//! than its content needs); and
//! libplacebo's default dynamic peak detection is not modelled (compare with
//! `peak_detect=0`).

use super::spec::{ColorSpec, OutputEncoding, ToneMap, TransferFunction};
use super::{DynamicRangePolicy, RenderError};
use crate::asset::color::{
    ChromaLocation, Chromaticity, ColorPrimaries, ColorRange, DolbyVisionConfig, HdrFormat,
    HdrInfo, MatrixCoefficients, TransferCharacteristic,
};
use crate::picture::{ChromaSubsampling, ColorModel, PictureDesc, SampleAlignment};

/// SDR reference white in cd/m² (ITU-R BT.2408, libplacebo's
/// `PL_COLOR_SDR_WHITE`): where tone mapping puts an SDR 1.0.
pub const SDR_WHITE: f64 = 203.0;

/// Assumed peak of an HDR source that carries no usable metadata, and the
/// nominal peak of an HLG reference display (BT.2100).
pub const DEFAULT_HDR_PEAK: f64 = 1000.0;

/// The brightest luminance PQ can encode.
pub const PQ_MAX: f64 = 10000.0;

pub type Matrix3 = [[f64; 3]; 3];

pub const IDENTITY: Matrix3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

/// The CIE xy chromaticities of a set of RGB primaries and their white.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gamut {
    pub red: Chromaticity,
    pub green: Chromaticity,
    pub blue: Chromaticity,
    pub white: Chromaticity,
}

/// Resolves the colour half of an [`OutputSpec`](super::OutputSpec).
pub fn resolve(
    picture: &PictureDesc,
    policy: DynamicRangePolicy,
) -> Result<ColorSpec, RenderError> {
    let dv_hint = match picture.hdr.dolby_vision {
        Some(dv) => dolby_vision_hint(&dv)?,
        None => None,
    };
    let format = picture.format.desc();
    let bit_depth = format.bit_depth;
    let info = &picture.color;
    let primaries = resolve_primaries(info.primaries, dv_hint);
    let source_gamut = gamut(primaries).ok_or(RenderError::UnsupportedPrimaries(primaries))?;
    let hdr = resolve_hdr(info.transfer, dv_hint, &picture.hdr);
    let range = match (info.range, format.model) {
        (ColorRange::Unspecified, ColorModel::Rgb) => ColorRange::Full,
        (ColorRange::Unspecified, _) => ColorRange::Limited,
        (r, _) => r,
    };
    let (yuv_to_rgb, yuv_offset) = match format.model {
        ColorModel::Rgb => expand(&IDENTITY, [false; 3], range, bit_depth),
        ColorModel::Gray => {
            let k = [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]];
            expand(&k, [false; 3], range, bit_depth)
        }
        ColorModel::Yuv => {
            let matrix = resolve_matrix(info.matrix, dv_hint, picture.height);
            let (k, chroma) = decode_matrix(matrix, &source_gamut)?;
            expand(&k, chroma, range, bit_depth)
        }
    };
    let chroma_offset = match format.model {
        ColorModel::Yuv => chroma_offset(info.chroma_location, format.subsampling()),
        ColorModel::Rgb | ColorModel::Gray => [0.0, 0.0],
    };

    let (output, gamut_map, tone_map) = match (hdr, policy) {
        (Some(HdrFormat::Pq), DynamicRangePolicy::MatchSource) => {
            (OutputEncoding::Pq16, IDENTITY, None)
        }
        (Some(HdrFormat::Hlg), DynamicRangePolicy::MatchSource) => {
            (OutputEncoding::Hlg16, IDENTITY, None)
        }
        _ => {
            let map = gamut_matrix(&source_gamut, &BT709)
                .ok_or(RenderError::UnsupportedPrimaries(primaries))?;
            (
                OutputEncoding::Srgb8,
                map,
                hdr.map(|f| tone_map(f, &picture.hdr)),
            )
        }
    };

    Ok(ColorSpec {
        bit_depth,
        sample_scale: sample_scale(bit_depth, format.alignment),
        yuv_to_rgb,
        yuv_offset,
        chroma_offset,
        transfer: match hdr {
            Some(HdrFormat::Pq) => TransferFunction::Pq,
            Some(HdrFormat::Hlg) => TransferFunction::Hlg,
            None => TransferFunction::Sdr,
        },
        source_primaries: primaries,
        gamut: gamut_map,
        tone_map,
        output,
    })
}

/// What a Dolby Vision base layer is, for filling in tags the stream left
/// unspecified; an error when there is no base layer a YUV decoder can show.
///
/// Profiles 1, 3 and 5 and a `bl_signal_compatibility_id` of 0 in the
/// profiles that carry one (8 and later, e.g. 10.0) mean the base layer is
/// IPTPQc2 or absent. Compatibility ids (ETSI GS CCM 001): 1 HDR10, 2 SDR
/// BT.709, 4 HLG, 6 BT.2100 PQ.
fn dolby_vision_hint(dv: &DolbyVisionConfig) -> Result<Option<Tags>, RenderError> {
    let refuse = || {
        Err(RenderError::DolbyVisionWithoutBaseLayer {
            profile: dv.profile,
            bl_signal_compatibility_id: dv.bl_signal_compatibility_id,
        })
    };
    if matches!(dv.profile, 1 | 3 | 5) || !dv.bl_present {
        return refuse();
    }
    if dv.profile >= 8 && dv.bl_signal_compatibility_id == 0 {
        return refuse();
    }
    let wide = |hdr| Tags {
        primaries: ColorPrimaries::Bt2020,
        matrix: MatrixCoefficients::Bt2020Ncl,
        hdr,
    };
    Ok(match dv.bl_signal_compatibility_id {
        1 | 6 => Some(wide(Some(HdrFormat::Pq))),
        4 => Some(wide(Some(HdrFormat::Hlg))),
        2 => Some(Tags {
            primaries: ColorPrimaries::Bt709,
            matrix: MatrixCoefficients::Bt709,
            hdr: None,
        }),
        _ => None,
    })
}

/// Colour tags implied by something other than the stream's own tags.
#[derive(Debug, Clone, Copy)]
struct Tags {
    primaries: ColorPrimaries,
    matrix: MatrixCoefficients,
    hdr: Option<HdrFormat>,
}

fn resolve_primaries(tag: ColorPrimaries, hint: Option<Tags>) -> ColorPrimaries {
    match tag {
        ColorPrimaries::Unspecified | ColorPrimaries::Reserved(_) => {
            hint.map_or(ColorPrimaries::Bt709, |h| h.primaries)
        }
        p => p,
    }
}

/// The matrix to decode with; reserved code points are read as untagged,
/// as FFmpeg does.
fn resolve_matrix(tag: MatrixCoefficients, hint: Option<Tags>, height: u32) -> MatrixCoefficients {
    match tag {
        MatrixCoefficients::Unspecified | MatrixCoefficients::Reserved(_) => match hint {
            Some(h) => h.matrix,
            None if height < 720 => MatrixCoefficients::Smpte170M,
            None => MatrixCoefficients::Bt709,
        },
        m => m,
    }
}

fn resolve_hdr(
    tag: TransferCharacteristic,
    hint: Option<Tags>,
    info: &HdrInfo,
) -> Option<HdrFormat> {
    match tag {
        TransferCharacteristic::Unspecified | TransferCharacteristic::Reserved(_) => {
            hint.and_then(|h| h.hdr).or(info.format)
        }
        t => t.hdr_format(),
    }
}

/// The R'G'B' ← [Y', Pb, Pr] matrix (inputs in [0,1] and [−½,½]) and which
/// inputs are colour differences (centred on ½ of the code range), for a
/// YUV-plane stream.
fn decode_matrix(m: MatrixCoefficients, g: &Gamut) -> Result<(Matrix3, [bool; 3]), RenderError> {
    use MatrixCoefficients as M;
    let colour = [false, true, true];
    let (kr, kb) = match m {
        M::Bt709 => (0.2126, 0.0722),
        M::Bt470Bg | M::Smpte170M => (0.299, 0.114),
        M::Bt2020Ncl => (0.2627, 0.0593),
        M::Smpte240M => (0.212, 0.087),
        M::Fcc => (0.30, 0.11),
        M::ChromaDerivedNcl => {
            // H.273 equations 39–44: the luma weights of the primaries.
            let y = rgb_to_xyz(g).ok_or(RenderError::UnsupportedMatrix(m))?[1];
            (y[0], y[2])
        }
        // H.273: the planes carry G, B, R.
        M::Rgb => {
            return Ok((
                [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
                [false; 3],
            ))
        }
        // H.273 equations 45–47 with Cb = Cg, Cr = Co.
        M::YCgCo => {
            return Ok((
                [[1.0, -1.0, 1.0], [1.0, 1.0, 0.0], [1.0, -1.0, -1.0]],
                colour,
            ))
        }
        M::Bt2020Cl
        | M::Smpte2085
        | M::ChromaDerivedCl
        | M::ICtCp
        | M::Unspecified
        | M::Reserved(_) => return Err(RenderError::UnsupportedMatrix(m)),
    };
    Ok((ycbcr_matrix(kr, kb), colour))
}

/// R'G'B' from Y'PbPr for luma weights `kr`, `kb` (ITU-R BT.601/709/2020).
pub fn ycbcr_matrix(kr: f64, kb: f64) -> Matrix3 {
    let kg = 1.0 - kr - kb;
    [
        [1.0, 0.0, 2.0 * (1.0 - kr)],
        [
            1.0,
            -2.0 * kb * (1.0 - kb) / kg,
            -2.0 * kr * (1.0 - kr) / kg,
        ],
        [1.0, 2.0 * (1.0 - kb), 0.0],
    ]
}

/// Folds range expansion into `k`: returns `(M, o)` with
/// `k · expand(n) = M·n + o` for normalised codes `n = code / (2^bits − 1)`.
///
/// Limited range is the 8-bit 16–235 / 16–240 (centre 128) scaled by
/// `2^(bits−8)`, as in BT.601/709/2020, FFmpeg and zimg; full range
/// centres colour differences on `2^(bits−1)` and spans `2^bits − 1`
/// (H.273 with `video_full_range_flag`).
fn expand(k: &Matrix3, colour: [bool; 3], range: ColorRange, bits: u8) -> (Matrix3, [f64; 3]) {
    let max = f64::from((1u32 << bits) - 1);
    let step = f64::from(1u32 << (bits - 8));
    let expansion = |colour: bool| match (range, colour) {
        (ColorRange::Full, false) => (1.0, 0.0),
        (ColorRange::Full, true) => (1.0, -f64::from(1u32 << (bits - 1)) / max),
        (_, false) => (max / (219.0 * step), -16.0 / 219.0),
        (_, true) => (max / (224.0 * step), -128.0 / 224.0),
    };
    let per_input = colour.map(expansion);
    let mut m = [[0.0; 3]; 3];
    let mut o = [0.0; 3];
    for r in 0..3 {
        for c in 0..3 {
            let (gain, offset) = per_input[c];
            m[r][c] = k[r][c] * gain;
            o[r] += k[r][c] * offset;
        }
    }
    (m, o)
}

/// The factor from a unorm read of the sample's container to
/// `code / (2^bits − 1)`. Samples wider than 8 bits live in 16-bit
/// containers: in the low bits the read is `code / 65535`, in the high bits
/// (P010) `code·2^(16−bits) / 65535`, which is close to but not exactly the
/// normalised code (1023·64/65535 = 0.99904), hence the factor in both cases.
pub fn sample_scale(bits: u8, alignment: SampleAlignment) -> f64 {
    let container = if bits <= 8 { 8 } else { 16 };
    let container_max = f64::from((1u32 << container) - 1);
    let max = f64::from((1u32 << bits) - 1);
    match alignment {
        SampleAlignment::Lsb => container_max / max,
        SampleAlignment::Msb => container_max / (max * f64::from(1u32 << (container - bits))),
    }
}

/// Where the first chroma sample sits relative to the first luma sample, in
/// luma samples, for subsampling `sub`. "Left" sits between rows but on the
/// column; "centre" between both; "top" on the row; "bottom" on the next
/// row of the pair. Unspecified is "left" (libplacebo's
/// `pl_chroma_location_offset`, H.264/HEVC's default).
pub fn chroma_offset(loc: ChromaLocation, sub: ChromaSubsampling) -> [f64; 2] {
    use ChromaLocation as L;
    let span_x = f64::from((1u32 << sub.log2_x) - 1);
    let span_y = f64::from((1u32 << sub.log2_y) - 1);
    let x = match loc {
        L::Center | L::Top | L::Bottom => span_x / 2.0,
        L::Left | L::TopLeft | L::BottomLeft | L::Unspecified => 0.0,
    };
    let y = match loc {
        L::TopLeft | L::Top => 0.0,
        L::BottomLeft | L::Bottom => span_y,
        L::Left | L::Center | L::Unspecified => span_y / 2.0,
    };
    [x, y]
}

/// BT.709 / sRGB, the gamut of every SDR output.
pub const BT709: Gamut = Gamut {
    red: Chromaticity { x: 0.640, y: 0.330 },
    green: Chromaticity { x: 0.300, y: 0.600 },
    blue: Chromaticity { x: 0.150, y: 0.060 },
    white: Chromaticity {
        x: 0.3127,
        y: 0.3290,
    },
};

/// The chromaticities of H.273 primaries (table 2), `None` for those with
/// no RGB gamut (XYZ) and for the unresolved "unspecified".
pub fn gamut(p: ColorPrimaries) -> Option<Gamut> {
    use ColorPrimaries as P;
    const D65: (f64, f64) = (0.3127, 0.3290);
    const C: (f64, f64) = (0.310, 0.316);
    const DCI: (f64, f64) = (0.314, 0.351);
    let (r, g, b, w) = match p {
        P::Bt709 => return Some(BT709),
        P::Bt470M => ((0.670, 0.330), (0.210, 0.710), (0.140, 0.080), C),
        P::Bt470Bg => ((0.640, 0.330), (0.290, 0.600), (0.150, 0.060), D65),
        P::Smpte170M | P::Smpte240M => ((0.630, 0.340), (0.310, 0.595), (0.155, 0.070), D65),
        P::Film => ((0.681, 0.319), (0.243, 0.692), (0.145, 0.049), C),
        P::Bt2020 => ((0.708, 0.292), (0.170, 0.797), (0.131, 0.046), D65),
        P::Smpte431 => ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060), DCI),
        P::Smpte432 => ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060), D65),
        P::Ebu3213 => ((0.630, 0.340), (0.295, 0.605), (0.155, 0.077), D65),
        P::Smpte428 | P::Unspecified | P::Reserved(_) => return None,
    };
    let xy = |(x, y): (f64, f64)| Chromaticity { x, y };
    Some(Gamut {
        red: xy(r),
        green: xy(g),
        blue: xy(b),
        white: xy(w),
    })
}

/// Linear RGB → CIE XYZ (Y of white = 1) for a gamut, derived from its
/// chromaticities: the primaries' XYZ at Y = 1, scaled so they add up to
/// the white point. `None` for a degenerate gamut.
pub fn rgb_to_xyz(g: &Gamut) -> Option<Matrix3> {
    let xyz = |c: Chromaticity| -> Option<[f64; 3]> {
        (c.y > 0.0).then(|| [c.x / c.y, 1.0, (1.0 - c.x - c.y) / c.y])
    };
    let (r, gr, b, w) = (xyz(g.red)?, xyz(g.green)?, xyz(g.blue)?, xyz(g.white)?);
    let p = [
        [r[0], gr[0], b[0]],
        [r[1], gr[1], b[1]],
        [r[2], gr[2], b[2]],
    ];
    let s = apply(&invert(&p)?, w);
    Some(std::array::from_fn(|i| {
        std::array::from_fn(|j| p[i][j] * s[j])
    }))
}

/// The linear-light matrix from `from` RGB to `to` RGB, relative
/// colorimetric: a differing white point is adapted (so source white stays
/// white) with the linearised CIECAM97s cone matrix, as libplacebo does.
/// Exactly the identity for identical gamuts.
pub fn gamut_matrix(from: &Gamut, to: &Gamut) -> Option<Matrix3> {
    if from == to {
        return Some(IDENTITY);
    }
    let src = rgb_to_xyz(from)?;
    let dst = invert(&rgb_to_xyz(to)?)?;
    let adapt = white_adaptation(from.white, to.white)?;
    Some(mul(&dst, &mul(&adapt, &src)))
}

/// XYZ under white `from` → XYZ under white `to` (von Kries in the
/// CIECAM97s revised linear cone space).
fn white_adaptation(from: Chromaticity, to: Chromaticity) -> Option<Matrix3> {
    if from == to {
        return Some(IDENTITY);
    }
    const CAT97: Matrix3 = [
        [0.8562, 0.3372, -0.1934],
        [-0.8360, 1.8327, 0.0033],
        [0.0357, -0.0469, 1.0112],
    ];
    let xyz = |c: Chromaticity| [c.x / c.y, 1.0, (1.0 - c.x - c.y) / c.y];
    if from.y <= 0.0 || to.y <= 0.0 {
        return None;
    }
    let (cs, cd) = (apply(&CAT97, xyz(from)), apply(&CAT97, xyz(to)));
    let gain: Matrix3 =
        std::array::from_fn(|i| std::array::from_fn(|j| if i == j { cd[i] / cs[i] } else { 0.0 }));
    Some(mul(&invert(&CAT97)?, &mul(&gain, &CAT97)))
}

/// Tone-mapping parameters for an HDR source (see the module docs).
///
/// PQ's peak is the mastering display's maximum, else MaxCLL, else
/// [`DEFAULT_HDR_PEAK`]; HLG's is the mastering display's maximum, else the
/// 1000 cd/m² nominal display (MaxCLL means nothing for scene-referred
/// light). Peaks are clamped to `[SDR_WHITE, PQ_MAX]` so the curve only ever
/// compresses; a black at or above the peak, or not a number, reads as 0.
pub fn tone_map(format: HdrFormat, info: &HdrInfo) -> ToneMap {
    let usable = |v: f64| v.is_finite() && v > 0.0;
    let mastering = info.mastering_display;
    let mastering_peak = mastering
        .and_then(|m| m.max_luminance)
        .filter(|v| usable(*v));
    let cll = info
        .content_light_level
        .map(|c| f64::from(c.max_cll))
        .filter(|v| usable(*v));
    let peak = match format {
        HdrFormat::Pq => mastering_peak.or(cll),
        HdrFormat::Hlg => mastering_peak,
    }
    .unwrap_or(DEFAULT_HDR_PEAK)
    .clamp(SDR_WHITE, PQ_MAX);
    let black = mastering
        .and_then(|m| m.min_luminance)
        .filter(|v| v.is_finite() && *v >= 0.0 && *v < peak)
        .unwrap_or(0.0);
    ToneMap {
        format,
        source_peak: peak,
        source_black: black,
        target_peak: SDR_WHITE,
        hlg_system_gamma: match format {
            HdrFormat::Hlg => hlg_system_gamma(peak),
            HdrFormat::Pq => 1.0,
        },
    }
}

/// The HLG OOTF exponent for a display of peak `lw` cd/m²: BT.2100's
/// `1.2 + 0.42·log10(Lw/1000)`, kept at least 1 (no OOTF darker than linear)
/// as libplacebo does.
pub fn hlg_system_gamma(lw: f64) -> f64 {
    (1.2 + 0.42 * (lw / 1000.0).log10()).max(1.0)
}

fn mul(a: &Matrix3, b: &Matrix3) -> Matrix3 {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..3).map(|k| a[i][k] * b[k][j]).sum()))
}

fn apply(a: &Matrix3, v: [f64; 3]) -> [f64; 3] {
    std::array::from_fn(|i| (0..3).map(|k| a[i][k] * v[k]).sum())
}

fn invert(a: &Matrix3) -> Option<Matrix3> {
    let cof = |r: usize, c: usize| {
        let (r1, r2) = ((r + 1) % 3, (r + 2) % 3);
        let (c1, c2) = ((c + 1) % 3, (c + 2) % 3);
        a[r1][c1] * a[r2][c2] - a[r1][c2] * a[r2][c1]
    };
    let det: f64 = (0..3).map(|c| a[0][c] * cof(0, c)).sum();
    if det == 0.0 || !det.is_finite() {
        return None;
    }
    // The inverse is the transposed cofactor matrix over the determinant.
    Some(std::array::from_fn(|i| {
        std::array::from_fn(|j| cof(j, i) / det)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::color::{
        ColorInfo, ContentLightLevel, HdrInfo, MasteringDisplay, TransferCharacteristic,
    };
    use crate::picture::DecodedFormat;

    fn yuv(width: u32, height: u32, bit_depth: u8, color: ColorInfo) -> PictureDesc {
        let format = match bit_depth {
            8 => DecodedFormat::Yuv420p,
            10 => DecodedFormat::Yuv420p10,
            12 => DecodedFormat::Yuv420p12,
            _ => DecodedFormat::Yuv420p16,
        };
        PictureDesc::packed(width, height, format, color, HdrInfo::SDR).unwrap()
    }

    fn tags(matrix: MatrixCoefficients, range: ColorRange) -> ColorInfo {
        ColorInfo {
            primaries: ColorPrimaries::Bt709,
            transfer: TransferCharacteristic::Bt709,
            matrix,
            range,
            chroma_location: ChromaLocation::Left,
        }
    }

    fn untagged() -> ColorInfo {
        ColorInfo {
            primaries: ColorPrimaries::Unspecified,
            transfer: TransferCharacteristic::Unspecified,
            matrix: MatrixCoefficients::Unspecified,
            range: ColorRange::Unspecified,
            chroma_location: ChromaLocation::Unspecified,
        }
    }

    fn hdr10() -> ColorInfo {
        ColorInfo {
            primaries: ColorPrimaries::Bt2020,
            transfer: TransferCharacteristic::Pq,
            matrix: MatrixCoefficients::Bt2020Ncl,
            range: ColorRange::Limited,
            chroma_location: ChromaLocation::TopLeft,
        }
    }

    fn spec(source: &PictureDesc) -> ColorSpec {
        resolve(source, DynamicRangePolicy::ForceSdr).unwrap()
    }

    /// What the shader computes for integer codes.
    fn decode(s: &ColorSpec, codes: [u32; 3]) -> [f64; 3] {
        let max = f64::from((1u32 << s.bit_depth) - 1);
        let n = codes.map(|c| f64::from(c) / max);
        let v = apply(&s.yuv_to_rgb, n);
        std::array::from_fn(|i| v[i] + s.yuv_offset[i])
    }

    fn assert_close<const N: usize>(got: [f64; N], want: [f64; N], tol: f64) {
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= tol, "{got:?} != {want:?} (±{tol})");
        }
    }

    fn assert_matrix(got: &Matrix3, want: &Matrix3, tol: f64) {
        for (g, w) in got.iter().zip(want) {
            assert_close(*g, *w, tol);
        }
    }

    /// The Y'PbPr → R'G'B' coefficients as the recommendations tabulate
    /// them: `[R·Pr, G·Pb, G·Pr, B·Pb]`.
    fn assert_published(s: &ColorSpec, bits: u8, coeffs: [f64; 4]) {
        // Undo the limited-range gains to recover the Y'PbPr matrix.
        let max = f64::from((1u32 << bits) - 1);
        let step = f64::from(1u32 << (bits - 8));
        let (gy, gc) = (max / (219.0 * step), max / (224.0 * step));
        let m = s.yuv_to_rgb;
        for row in m {
            assert!((row[0] / gy - 1.0).abs() < 1e-12);
        }
        let got = [m[0][2] / gc, -m[1][1] / gc, -m[1][2] / gc, m[2][1] / gc];
        assert_close(got, coeffs, 5e-5);
        assert!(m[0][1].abs() < 1e-12 && m[2][2].abs() < 1e-12);
    }

    #[test]
    fn bt709_limited_8_bit_matches_the_published_matrix() {
        let s = spec(&yuv(
            1920,
            1080,
            8,
            tags(MatrixCoefficients::Bt709, ColorRange::Limited),
        ));
        // BT.709-6 table 3: R = Y + 1.5748 Pr, G = Y − 0.1873 Pb − 0.4681 Pr,
        // B = Y + 1.8556 Pb.
        assert_published(&s, 8, [1.5748, 0.18733, 0.46812, 1.8556]);
        // At 8 bits the entries are the familiar per-code coefficients
        // 1.164, 1.793, 0.213, 0.533, 2.112.
        let m = s.yuv_to_rgb;
        assert_close(
            [m[0][0], m[0][2], m[1][1], m[1][2], m[2][1]],
            [1.1644, 1.7927, -0.2132, -0.5329, 2.1124],
            1e-4,
        );
        assert_close(decode(&s, [235, 128, 128]), [1.0; 3], 1e-12);
        assert_close(decode(&s, [16, 128, 128]), [0.0; 3], 1e-12);
        // 100% colour bars (BT.709, 8-bit limited).
        assert_close(decode(&s, [63, 102, 240]), [1.0, 0.0, 0.0], 0.01);
        assert_close(decode(&s, [173, 42, 26]), [0.0, 1.0, 0.0], 0.01);
        assert_close(decode(&s, [32, 240, 118]), [0.0, 0.0, 1.0], 0.01);
        assert_close(decode(&s, [219, 16, 138]), [1.0, 1.0, 0.0], 0.01);
    }

    #[test]
    fn bt601_limited_8_bit_matches_the_published_matrix() {
        for m in [MatrixCoefficients::Smpte170M, MatrixCoefficients::Bt470Bg] {
            let s = spec(&yuv(720, 480, 8, tags(m, ColorRange::Limited)));
            // BT.601-7: R = Y + 1.402 Pr, G = Y − 0.344136 Pb − 0.714136 Pr,
            // B = Y + 1.772 Pb.
            assert_published(&s, 8, [1.402, 0.344136, 0.714136, 1.772]);
            // The classic per-code 1.164, 1.596, 0.392, 0.813, 2.017.
            let m = s.yuv_to_rgb;
            assert_close(
                [m[0][0], m[0][2], m[1][1], m[1][2], m[2][1]],
                [1.1644, 1.5960, -0.3918, -0.8130, 2.0172],
                1e-4,
            );
            assert_close(decode(&s, [81, 90, 240]), [1.0, 0.0, 0.0], 0.01);
        }
    }

    #[test]
    fn bt2020_limited_10_bit_matches_the_published_matrix() {
        let s = spec(&yuv(3840, 2160, 10, hdr10()));
        // BT.2020-2: R = Y + 1.4746 Pr, G = Y − 0.16455 Pb − 0.57135 Pr,
        // B = Y + 1.8814 Pb.
        assert_published(&s, 10, [1.4746, 0.16455, 0.57135, 1.8814]);
        assert_close(decode(&s, [940, 512, 512]), [1.0; 3], 1e-12);
        assert_close(decode(&s, [64, 512, 512]), [0.0; 3], 1e-12);
        // 10-bit codes of BT.2020 red (1, 0, 0): Y 0.2627, Pb −0.1396, Pr 0.5.
        assert_close(decode(&s, [294, 387, 960]), [1.0, 0.0, 0.0], 0.003);
    }

    #[test]
    fn limited_range_scales_with_bit_depth() {
        for (bits, black, white, mid) in [
            (8, 16, 235, 128),
            (10, 64, 940, 512),
            (12, 256, 3760, 2048),
            (16, 4096, 60160, 32768),
        ] {
            let s = spec(&yuv(
                1920,
                1080,
                bits,
                tags(MatrixCoefficients::Bt709, ColorRange::Limited),
            ));
            assert_close(decode(&s, [white, mid, mid]), [1.0; 3], 1e-12);
            assert_close(decode(&s, [black, mid, mid]), [0.0; 3], 1e-12);
            // Chroma's nominal extremes, 16 and 240 scaled.
            let top = 240 << (bits - 8);
            let r = decode(&s, [black, mid, top])[0];
            assert!((r - 1.5748 / 2.0).abs() < 1e-12, "{bits}: {r}");
        }
    }

    #[test]
    fn full_range_spans_the_whole_code_space() {
        for (bits, mid) in [(8u8, 128u32), (10, 512)] {
            let max = (1u32 << bits) - 1;
            let s = spec(&yuv(
                1920,
                1080,
                bits,
                tags(MatrixCoefficients::Bt709, ColorRange::Full),
            ));
            assert_close(decode(&s, [max, mid, mid]), [1.0; 3], 1e-12);
            assert_close(decode(&s, [0, mid, mid]), [0.0; 3], 1e-12);
            // Pr of (max − mid)/max, just under ½.
            let r = decode(&s, [0, mid, max])[0];
            let pr = f64::from(max - mid) / f64::from(max);
            assert!((r - 1.5748 * pr).abs() < 1e-12);
        }
    }

    #[test]
    fn other_matrices_decode_neutral_grey_as_grey() {
        for (m, kr_kb) in [
            (MatrixCoefficients::Smpte240M, Some((0.212, 0.087))),
            (MatrixCoefficients::Fcc, Some((0.30, 0.11))),
            (MatrixCoefficients::YCgCo, None),
            (
                MatrixCoefficients::ChromaDerivedNcl,
                Some((0.212639, 0.072192)),
            ),
        ] {
            let s = spec(&yuv(1920, 1080, 8, tags(m, ColorRange::Limited)));
            assert_close(decode(&s, [126, 128, 128]), [110.0 / 219.0; 3], 1e-12);
            if let Some((kr, kb)) = kr_kb {
                // Pure Pr moves red by 2(1 − Kr) and blue not at all.
                let d = decode(&s, [16, 128, 240]);
                assert_close([d[0], d[2]], [2.0 * (1.0 - kr) / 2.0, 0.0], 1e-5);
                let d = decode(&s, [16, 240, 128]);
                assert_close([d[0], d[2]], [0.0, 2.0 * (1.0 - kb) / 2.0], 1e-5);
            }
        }
        // YCgCo: G = Y + Cg.
        let s = spec(&yuv(
            1920,
            1080,
            8,
            tags(MatrixCoefficients::YCgCo, ColorRange::Full),
        ));
        let d = decode(&s, [0, 255, 128]);
        assert_close(d, [-127.0 / 255.0, 127.0 / 255.0, -127.0 / 255.0], 1e-12);
    }

    #[test]
    fn rgb_coded_as_yuv_reads_the_planes_as_g_b_r() {
        let s = spec(&yuv(
            64,
            64,
            8,
            tags(MatrixCoefficients::Rgb, ColorRange::Full),
        ));
        assert_close(
            decode(&s, [10, 20, 30]),
            [30.0 / 255.0, 10.0 / 255.0, 20.0 / 255.0],
            1e-12,
        );
        let s = spec(&yuv(
            64,
            64,
            8,
            tags(MatrixCoefficients::Rgb, ColorRange::Limited),
        ));
        assert_close(decode(&s, [235, 16, 235]), [1.0, 1.0, 0.0], 1e-12);
    }

    #[test]
    fn rgb_and_gray_planes() {
        let mut src = yuv(64, 64, 8, untagged());
        src.format = DecodedFormat::Gbrp;
        let s = spec(&src);
        // Untagged RGB is full range: the identity.
        assert_eq!(s.yuv_to_rgb, IDENTITY);
        assert_eq!(s.yuv_offset, [0.0; 3]);
        assert_eq!(s.chroma_offset, [0.0, 0.0]);
        src.color.range = ColorRange::Limited;
        assert_close(
            decode(&spec(&src), [16, 235, 126]),
            [0.0, 1.0, 110.0 / 219.0],
            1e-12,
        );

        let mut src = yuv(64, 64, 10, untagged());
        src.format = DecodedFormat::Gray10;
        let s = spec(&src);
        // Untagged gray is limited like the luma plane it usually is.
        assert_close(decode(&s, [940, 0, 1023]), [1.0; 3], 1e-12);
        assert_close(decode(&s, [64, 1023, 0]), [0.0; 3], 1e-12);
    }

    #[test]
    fn unsupported_matrices_are_refused() {
        for m in [
            MatrixCoefficients::Bt2020Cl,
            MatrixCoefficients::ICtCp,
            MatrixCoefficients::Smpte2085,
            MatrixCoefficients::ChromaDerivedCl,
        ] {
            assert_eq!(
                resolve(
                    &yuv(64, 64, 8, tags(m, ColorRange::Limited)),
                    DynamicRangePolicy::ForceSdr
                ),
                Err(RenderError::UnsupportedMatrix(m))
            );
        }
    }

    #[test]
    fn sample_scale_recovers_normalised_codes() {
        for bits in [9u8, 10, 12, 14] {
            let max = f64::from((1u32 << bits) - 1);
            for code in [0u32, 1, 64, (1 << bits) - 1] {
                let want = f64::from(code) / max;
                let lsb = f64::from(code) / 65535.0 * sample_scale(bits, SampleAlignment::Lsb);
                let msb = f64::from(code << (16 - bits)) / 65535.0
                    * sample_scale(bits, SampleAlignment::Msb);
                assert!((lsb - want).abs() < 1e-12, "{bits}-bit lsb {code}");
                assert!((msb - want).abs() < 1e-12, "{bits}-bit msb {code}");
            }
        }
        assert_eq!(sample_scale(8, SampleAlignment::Lsb), 1.0);
        assert_eq!(sample_scale(16, SampleAlignment::Msb), 1.0);
        assert_eq!(sample_scale(16, SampleAlignment::Lsb), 1.0);
        assert!((sample_scale(10, SampleAlignment::Lsb) - 65535.0 / 1023.0).abs() < 1e-12);
    }

    #[test]
    fn chroma_siting_offsets() {
        use ChromaLocation as L;
        let c420 = ChromaSubsampling::YUV420;
        let c422 = ChromaSubsampling::YUV422;
        let c444 = ChromaSubsampling::YUV444;
        for (loc, sub, want) in [
            (L::Left, c420, [0.0, 0.5]),
            (L::Unspecified, c420, [0.0, 0.5]),
            (L::Center, c420, [0.5, 0.5]),
            (L::TopLeft, c420, [0.0, 0.0]),
            (L::Top, c420, [0.5, 0.0]),
            (L::BottomLeft, c420, [0.0, 1.0]),
            (L::Bottom, c420, [0.5, 1.0]),
            (L::Left, c422, [0.0, 0.0]),
            (L::Center, c422, [0.5, 0.0]),
            (L::Center, c444, [0.0, 0.0]),
            (L::Bottom, c444, [0.0, 0.0]),
            (
                L::Center,
                ChromaSubsampling {
                    log2_x: 2,
                    log2_y: 0,
                },
                [1.5, 0.0],
            ),
        ] {
            assert_eq!(chroma_offset(loc, sub), want, "{loc:?} {sub:?}");
        }
        let s = spec(&yuv(1920, 1080, 8, untagged()));
        assert_eq!(s.chroma_offset, [0.0, 0.5]);
    }

    #[test]
    fn rgb_to_xyz_matches_the_srgb_matrix() {
        let m = rgb_to_xyz(&gamut(ColorPrimaries::Bt709).unwrap()).unwrap();
        // IEC 61966-2-1 (to its printed four decimals).
        let want = [
            [0.4124, 0.3576, 0.1805],
            [0.2126, 0.7152, 0.0722],
            [0.0193, 0.1192, 0.9505],
        ];
        assert_matrix(&m, &want, 1e-4);
    }

    #[test]
    fn bt2020_to_bt709_matches_bt2087() {
        let m = gamut_matrix(
            &gamut(ColorPrimaries::Bt2020).unwrap(),
            &gamut(ColorPrimaries::Bt709).unwrap(),
        )
        .unwrap();
        // ITU-R BT.2087-0, equation (8).
        let want = [
            [1.6605, -0.5876, -0.0728],
            [-0.1246, 1.1329, -0.0083],
            [-0.0182, -0.1006, 1.1187],
        ];
        assert_matrix(&m, &want, 1e-4);
    }

    #[test]
    fn white_maps_to_white_between_all_gamuts() {
        use ColorPrimaries as P;
        let all = [
            P::Bt709,
            P::Bt470M,
            P::Bt470Bg,
            P::Smpte170M,
            P::Smpte240M,
            P::Film,
            P::Bt2020,
            P::Smpte431,
            P::Smpte432,
            P::Ebu3213,
        ];
        for from in all {
            for to in all {
                let (f, t) = (gamut(from).unwrap(), gamut(to).unwrap());
                let m = gamut_matrix(&f, &t).unwrap();
                assert_close(apply(&m, [1.0; 3]), [1.0; 3], 1e-9);
                if f == t {
                    assert_eq!(m, IDENTITY, "{from:?} → {to:?}");
                } else {
                    // And back again.
                    let back = gamut_matrix(&t, &f).unwrap();
                    assert_matrix(&mul(&back, &m), &IDENTITY, 1e-9);
                }
            }
        }
        assert_eq!(gamut(P::Smpte428), None);
        assert_eq!(gamut(P::Unspecified), None);
    }

    #[test]
    fn untagged_streams_follow_the_guesses() {
        let sd = spec(&yuv(720, 576, 8, untagged()));
        let hd = spec(&yuv(1280, 720, 8, untagged()));
        let bt601 = spec(&yuv(
            720,
            576,
            8,
            tags(MatrixCoefficients::Smpte170M, ColorRange::Limited),
        ));
        let bt709 = spec(&yuv(
            1280,
            720,
            8,
            tags(MatrixCoefficients::Bt709, ColorRange::Limited),
        ));
        assert_eq!(sd.yuv_to_rgb, bt601.yuv_to_rgb);
        assert_eq!(sd.yuv_offset, bt601.yuv_offset);
        assert_eq!(hd.yuv_to_rgb, bt709.yuv_to_rgb);
        // Just under 720 lines is still SD.
        assert_eq!(
            spec(&yuv(1280, 719, 8, untagged())).yuv_to_rgb,
            bt601.yuv_to_rgb
        );
        for s in [&sd, &hd] {
            assert_eq!(s.source_primaries, ColorPrimaries::Bt709);
            assert_eq!(s.gamut, IDENTITY);
            assert_eq!(s.transfer, TransferFunction::Sdr);
            assert_eq!(s.tone_map, None);
            assert_eq!(s.output, OutputEncoding::Srgb8);
        }
        // Reserved code points read as untagged.
        let mut reserved = untagged();
        reserved.matrix = MatrixCoefficients::Reserved(3);
        reserved.primaries = ColorPrimaries::Reserved(3);
        let r = spec(&yuv(1920, 1080, 8, reserved));
        assert_eq!(r.yuv_to_rgb, bt709.yuv_to_rgb);
        assert_eq!(r.source_primaries, ColorPrimaries::Bt709);
    }

    #[test]
    fn tagged_sd_primaries_are_gamut_mapped() {
        let mut info = tags(MatrixCoefficients::Smpte170M, ColorRange::Limited);
        info.primaries = ColorPrimaries::Smpte170M;
        let s = spec(&yuv(720, 480, 8, info));
        assert_eq!(s.source_primaries, ColorPrimaries::Smpte170M);
        assert!(s.gamut != IDENTITY);
        assert_close(apply(&s.gamut, [1.0; 3]), [1.0; 3], 1e-9);
    }

    #[test]
    fn hdr_sources_are_tone_mapped_for_sdr_output() {
        let mut src = yuv(3840, 2160, 10, hdr10());
        src.hdr.mastering_display = Some(MasteringDisplay {
            primaries: None,
            white_point: None,
            min_luminance: Some(0.005),
            max_luminance: Some(4000.0),
        });
        src.hdr.content_light_level = Some(ContentLightLevel {
            max_cll: 1500,
            max_fall: 400,
        });
        let s = spec(&src);
        assert_eq!(s.transfer, TransferFunction::Pq);
        assert_eq!(s.output, OutputEncoding::Srgb8);
        assert_eq!(s.source_primaries, ColorPrimaries::Bt2020);
        assert_matrix(
            &s.gamut,
            &[
                [1.6605, -0.5876, -0.0728],
                [-0.1246, 1.1329, -0.0083],
                [-0.0182, -0.1006, 1.1187],
            ],
            1e-4,
        );
        assert_eq!(
            s.tone_map,
            Some(ToneMap {
                format: HdrFormat::Pq,
                source_peak: 4000.0,
                source_black: 0.005,
                target_peak: 203.0,
                hlg_system_gamma: 1.0,
            })
        );

        let kept = resolve(&src, DynamicRangePolicy::MatchSource).unwrap();
        assert_eq!(kept.output, OutputEncoding::Pq16);
        assert_eq!(kept.gamut, IDENTITY);
        assert_eq!(kept.tone_map, None);
        assert_eq!(kept.transfer, TransferFunction::Pq);
        assert_eq!(kept.yuv_to_rgb, s.yuv_to_rgb);

        let mut hlg = yuv(3840, 2160, 10, hdr10());
        hlg.color.transfer = TransferCharacteristic::Hlg;
        let s = spec(&hlg);
        assert_eq!(s.transfer, TransferFunction::Hlg);
        assert_eq!(
            s.tone_map,
            Some(ToneMap {
                format: HdrFormat::Hlg,
                source_peak: 1000.0,
                source_black: 0.0,
                target_peak: 203.0,
                hlg_system_gamma: 1.2,
            })
        );
        let kept = resolve(&hlg, DynamicRangePolicy::MatchSource).unwrap();
        assert_eq!((kept.output, kept.tone_map), (OutputEncoding::Hlg16, None));

        // SDR under MatchSource is plain sRGB.
        let sdr = yuv(
            1920,
            1080,
            8,
            tags(MatrixCoefficients::Bt709, ColorRange::Limited),
        );
        let kept = resolve(&sdr, DynamicRangePolicy::MatchSource).unwrap();
        assert_eq!((kept.output, kept.tone_map), (OutputEncoding::Srgb8, None));
    }

    #[test]
    fn peak_selection_rules() {
        let md = |min: Option<f64>, max: Option<f64>| MasteringDisplay {
            primaries: None,
            white_point: None,
            min_luminance: min,
            max_luminance: max,
        };
        let cll = |max_cll| ContentLightLevel {
            max_cll,
            max_fall: 0,
        };
        let info = |m: Option<MasteringDisplay>, c: Option<ContentLightLevel>| HdrInfo {
            format: Some(HdrFormat::Pq),
            mastering_display: m,
            content_light_level: c,
            ..HdrInfo::SDR
        };
        let peak = |i: HdrInfo| tone_map(HdrFormat::Pq, &i).source_peak;
        let black = |i: HdrInfo| tone_map(HdrFormat::Pq, &i).source_black;
        assert_eq!(
            peak(info(Some(md(None, Some(1000.0))), Some(cll(600)))),
            1000.0
        );
        assert_eq!(peak(info(Some(md(None, None)), Some(cll(600)))), 600.0);
        assert_eq!(peak(info(None, Some(cll(600)))), 600.0);
        assert_eq!(peak(info(None, None)), 1000.0);
        // Unusable metadata falls through to the next source.
        assert_eq!(
            peak(info(Some(md(None, Some(f64::NAN))), Some(cll(700)))),
            700.0
        );
        assert_eq!(peak(info(Some(md(None, Some(0.0))), Some(cll(0)))), 1000.0);
        // Out-of-range peaks are clamped.
        assert_eq!(peak(info(Some(md(None, Some(50_000.0))), None)), 10_000.0);
        assert_eq!(peak(info(None, Some(cll(100)))), 203.0);
        assert_eq!(
            black(info(Some(md(Some(0.0001), Some(1000.0))), None)),
            0.0001
        );
        assert_eq!(black(info(Some(md(Some(2000.0), Some(1000.0))), None)), 0.0);
        assert_eq!(black(info(Some(md(Some(-1.0), Some(1000.0))), None)), 0.0);
        assert_eq!(black(info(None, None)), 0.0);
        // HLG ignores MaxCLL; a mastering peak sets the display and gamma.
        let hlg = |i: HdrInfo| tone_map(HdrFormat::Hlg, &i);
        assert_eq!(hlg(info(None, Some(cll(4000)))).source_peak, 1000.0);
        let bright = hlg(info(Some(md(None, Some(2000.0))), None));
        assert_eq!(bright.source_peak, 2000.0);
        assert!((bright.hlg_system_gamma - (1.2 + 0.42 * 2f64.log10())).abs() < 1e-12);
    }

    #[test]
    fn hlg_system_gamma_follows_bt2100() {
        assert!((hlg_system_gamma(1000.0) - 1.2).abs() < 1e-12);
        assert!((hlg_system_gamma(400.0) - 1.0329).abs() < 1e-4);
        assert!((hlg_system_gamma(2000.0) - 1.3264).abs() < 1e-4);
        assert_eq!(hlg_system_gamma(203.0), 1.0);
    }

    fn dolby_vision(profile: u8, compat: u8) -> DolbyVisionConfig {
        DolbyVisionConfig {
            version_major: 1,
            version_minor: 0,
            profile,
            level: 6,
            rpu_present: true,
            el_present: false,
            bl_present: true,
            bl_signal_compatibility_id: compat,
        }
    }

    #[test]
    fn dolby_vision_without_a_compatible_base_layer_is_refused() {
        for (profile, compat) in [(5, 0), (10, 0), (1, 0), (3, 0), (8, 0)] {
            let mut src = yuv(3840, 2160, 10, hdr10());
            src.hdr.dolby_vision = Some(dolby_vision(profile, compat));
            for policy in [
                DynamicRangePolicy::ForceSdr,
                DynamicRangePolicy::MatchSource,
            ] {
                assert_eq!(
                    resolve(&src, policy),
                    Err(RenderError::DolbyVisionWithoutBaseLayer {
                        profile,
                        bl_signal_compatibility_id: compat
                    })
                );
            }
        }
        let mut src = yuv(3840, 2160, 10, hdr10());
        let mut no_base = dolby_vision(8, 1);
        no_base.bl_present = false;
        src.hdr.dolby_vision = Some(no_base);
        assert!(resolve(&src, DynamicRangePolicy::ForceSdr).is_err());
    }

    #[test]
    fn dolby_vision_base_layers_fill_in_missing_tags() {
        for (profile, compat, transfer) in [
            (8, 1, TransferFunction::Pq),
            (8, 4, TransferFunction::Hlg),
            (7, 6, TransferFunction::Pq),
            (8, 2, TransferFunction::Sdr),
        ] {
            let mut src = yuv(3840, 2160, 10, untagged());
            src.hdr.dolby_vision = Some(dolby_vision(profile, compat));
            let s = spec(&src);
            assert_eq!(s.transfer, transfer, "{profile}.{compat}");
            let wide = compat != 2;
            assert_eq!(
                s.source_primaries,
                if wide {
                    ColorPrimaries::Bt2020
                } else {
                    ColorPrimaries::Bt709
                }
            );
            let reference = if wide {
                hdr10()
            } else {
                tags(MatrixCoefficients::Bt709, ColorRange::Limited)
            };
            assert_eq!(
                s.yuv_to_rgb,
                spec(&yuv(3840, 2160, 10, reference)).yuv_to_rgb
            );
        }
        // The stream's own tags win over the hint.
        let mut src = yuv(
            1920,
            1080,
            10,
            tags(MatrixCoefficients::Bt709, ColorRange::Limited),
        );
        src.hdr.dolby_vision = Some(dolby_vision(8, 1));
        let s = spec(&src);
        assert_eq!(s.transfer, TransferFunction::Sdr);
        assert_eq!(s.source_primaries, ColorPrimaries::Bt709);
    }

    #[test]
    fn xyz_primaries_are_refused() {
        let mut info = tags(MatrixCoefficients::Bt709, ColorRange::Limited);
        info.primaries = ColorPrimaries::Smpte428;
        assert_eq!(
            resolve(&yuv(64, 64, 8, info), DynamicRangePolicy::ForceSdr),
            Err(RenderError::UnsupportedPrimaries(ColorPrimaries::Smpte428))
        );
    }
}
