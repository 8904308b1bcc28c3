//! Colour description of a track, in ITU-T H.273 code points (the values
//! FFmpeg, MP4 `colr nclx`, Matroska and every codec header share), so a tag
//! read from any container means one thing here.

use serde::Serialize;

/// Colour primaries (H.273 table 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ColorPrimaries {
    Bt709,
    Unspecified,
    #[serde(rename = "bt470m")]
    Bt470M,
    #[serde(rename = "bt470bg")]
    Bt470Bg,
    #[serde(rename = "smpte170m")]
    Smpte170M,
    #[serde(rename = "smpte240m")]
    Smpte240M,
    Film,
    Bt2020,
    #[serde(rename = "smpte428")]
    Smpte428,
    #[serde(rename = "smpte431")]
    Smpte431,
    #[serde(rename = "smpte432")]
    Smpte432,
    #[serde(rename = "ebu3213")]
    Ebu3213,
    /// A code point H.273 reserves; kept so nothing is silently relabelled.
    Reserved(u8),
}

impl ColorPrimaries {
    pub fn from_h273(code: u8) -> ColorPrimaries {
        use ColorPrimaries::*;
        match code {
            1 => Bt709,
            2 => Unspecified,
            4 => Bt470M,
            5 => Bt470Bg,
            6 => Smpte170M,
            7 => Smpte240M,
            8 => Film,
            9 => Bt2020,
            10 => Smpte428,
            11 => Smpte431,
            12 => Smpte432,
            22 => Ebu3213,
            other => Reserved(other),
        }
    }
}

/// Transfer characteristics (H.273 table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransferCharacteristic {
    Bt709,
    Unspecified,
    #[serde(rename = "gamma22")]
    Gamma22,
    #[serde(rename = "gamma28")]
    Gamma28,
    #[serde(rename = "smpte170m")]
    Smpte170M,
    #[serde(rename = "smpte240m")]
    Smpte240M,
    Linear,
    #[serde(rename = "log100")]
    Log100,
    #[serde(rename = "log316")]
    Log316,
    #[serde(rename = "iec61966-2-4")]
    Iec61966_2_4,
    #[serde(rename = "bt1361e")]
    Bt1361,
    /// sRGB / sYCC.
    #[serde(rename = "iec61966-2-1")]
    Iec61966_2_1,
    #[serde(rename = "bt2020-10")]
    Bt2020_10,
    #[serde(rename = "bt2020-12")]
    Bt2020_12,
    /// SMPTE ST 2084, the PQ curve of HDR10 and Dolby Vision.
    #[serde(rename = "smpte2084")]
    Pq,
    #[serde(rename = "smpte428")]
    Smpte428,
    /// ARIB STD-B67, hybrid log-gamma.
    #[serde(rename = "arib-std-b67")]
    Hlg,
    Reserved(u8),
}

impl TransferCharacteristic {
    pub fn from_h273(code: u8) -> TransferCharacteristic {
        use TransferCharacteristic::*;
        match code {
            1 => Bt709,
            2 => Unspecified,
            4 => Gamma22,
            5 => Gamma28,
            6 => Smpte170M,
            7 => Smpte240M,
            8 => Linear,
            9 => Log100,
            10 => Log316,
            11 => Iec61966_2_4,
            12 => Bt1361,
            13 => Iec61966_2_1,
            14 => Bt2020_10,
            15 => Bt2020_12,
            16 => Pq,
            17 => Smpte428,
            18 => Hlg,
            other => Reserved(other),
        }
    }

    /// The high-dynamic-range family this transfer belongs to, if any.
    pub fn hdr_format(self) -> Option<HdrFormat> {
        match self {
            TransferCharacteristic::Pq => Some(HdrFormat::Pq),
            TransferCharacteristic::Hlg => Some(HdrFormat::Hlg),
            _ => None,
        }
    }
}

/// Matrix coefficients for YUV → RGB (H.273 table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatrixCoefficients {
    /// Identity: the planes are G, B, R (4:4:4 RGB coded as YUV).
    #[serde(rename = "gbr")]
    Rgb,
    Bt709,
    Unspecified,
    #[serde(rename = "fcc")]
    Fcc,
    #[serde(rename = "bt470bg")]
    Bt470Bg,
    #[serde(rename = "smpte170m")]
    Smpte170M,
    #[serde(rename = "smpte240m")]
    Smpte240M,
    #[serde(rename = "ycgco")]
    YCgCo,
    #[serde(rename = "bt2020nc")]
    Bt2020Ncl,
    #[serde(rename = "bt2020c")]
    Bt2020Cl,
    #[serde(rename = "smpte2085")]
    Smpte2085,
    #[serde(rename = "chroma-derived-nc")]
    ChromaDerivedNcl,
    #[serde(rename = "chroma-derived-c")]
    ChromaDerivedCl,
    #[serde(rename = "ictcp")]
    ICtCp,
    Reserved(u8),
}

impl MatrixCoefficients {
    pub fn from_h273(code: u8) -> MatrixCoefficients {
        use MatrixCoefficients::*;
        match code {
            0 => Rgb,
            1 => Bt709,
            2 => Unspecified,
            4 => Fcc,
            5 => Bt470Bg,
            6 => Smpte170M,
            7 => Smpte240M,
            8 => YCgCo,
            9 => Bt2020Ncl,
            10 => Bt2020Cl,
            11 => Smpte2085,
            12 => ChromaDerivedNcl,
            13 => ChromaDerivedCl,
            14 => ICtCp,
            other => Reserved(other),
        }
    }
}

/// Quantisation range of the samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ColorRange {
    /// "TV" range: 16–235 luma, 16–240 chroma at 8 bits.
    Limited,
    /// "PC" range: the whole code space.
    Full,
    Unspecified,
}

/// Where chroma samples sit relative to luma (FFmpeg's `AVChromaLocation`,
/// H.273 chroma_sample_loc_type + 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChromaLocation {
    /// MPEG-2/4, H.264 default for 4:2:0: co-sited horizontally, between rows.
    Left,
    /// MPEG-1, JPEG: centred.
    Center,
    /// BT.2020 and DV 4:2:0: co-sited with the top-left luma sample.
    TopLeft,
    Top,
    BottomLeft,
    Bottom,
    Unspecified,
}

/// The stream's colour tags, as stored (unspecified stays unspecified; the
/// render stage decides what an untagged stream means).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ColorInfo {
    pub primaries: ColorPrimaries,
    pub transfer: TransferCharacteristic,
    pub matrix: MatrixCoefficients,
    pub range: ColorRange,
    pub chroma_location: ChromaLocation,
}

impl ColorInfo {
    /// A stream that says nothing about its colour.
    pub const UNSPECIFIED: ColorInfo = ColorInfo {
        primaries: ColorPrimaries::Unspecified,
        transfer: TransferCharacteristic::Unspecified,
        matrix: MatrixCoefficients::Unspecified,
        range: ColorRange::Unspecified,
        chroma_location: ChromaLocation::Unspecified,
    };

    /// HD video as encoders tag it: BT.709 primaries, transfer and matrix,
    /// limited range, chroma sited left.
    pub const BT709: ColorInfo = ColorInfo {
        primaries: ColorPrimaries::Bt709,
        transfer: TransferCharacteristic::Bt709,
        matrix: MatrixCoefficients::Bt709,
        range: ColorRange::Limited,
        chroma_location: ChromaLocation::Left,
    };
}

/// The HDR families stills tone maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HdrFormat {
    /// SMPTE ST 2084 (HDR10, HDR10+, Dolby Vision with a PQ base layer).
    Pq,
    /// ARIB STD-B67 hybrid log-gamma.
    Hlg,
}

/// A CIE 1931 xy chromaticity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Chromaticity {
    pub x: f64,
    pub y: f64,
}

/// SMPTE ST 2086 mastering display colour volume (MP4 `mdcv`, HEVC/AV1 SEI).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MasteringDisplay {
    /// Red, green, blue display primaries; `None` when the stream gives only
    /// the luminance.
    pub primaries: Option<[Chromaticity; 3]>,
    pub white_point: Option<Chromaticity>,
    /// In cd/m².
    pub min_luminance: Option<f64>,
    /// In cd/m²; the usual source peak for tone mapping.
    pub max_luminance: Option<f64>,
}

/// CTA-861.3 content light level (MP4 `clli`, HEVC SEI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ContentLightLevel {
    /// Maximum content light level, cd/m².
    pub max_cll: u32,
    /// Maximum frame-average light level, cd/m².
    pub max_fall: u32,
}

/// A Dolby Vision decoder configuration record (`dvcC`/`dvvC`). Profile 5 has
/// no backward-compatible base layer (IPTPQc2), so reading it as YUV gives
/// the purple-green pictures peers are known for: it must be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DolbyVisionConfig {
    pub version_major: u8,
    pub version_minor: u8,
    pub profile: u8,
    pub level: u8,
    pub rpu_present: bool,
    pub el_present: bool,
    pub bl_present: bool,
    /// 0 none, 1 HDR10, 2 SDR, 4 HLG, 6 BT.2100 PQ (ETSI GS CCM 001).
    pub bl_signal_compatibility_id: u8,
}

/// What a track says about high dynamic range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HdrInfo {
    /// From the transfer characteristic; `None` for SDR.
    pub format: Option<HdrFormat>,
    pub mastering_display: Option<MasteringDisplay>,
    pub content_light_level: Option<ContentLightLevel>,
    pub dolby_vision: Option<DolbyVisionConfig>,
}

impl HdrInfo {
    /// A track that signals nothing about high dynamic range.
    pub const SDR: HdrInfo = HdrInfo {
        format: None,
        mastering_display: None,
        content_light_level: None,
        dolby_vision: None,
    };
}
