//! The one description of a decoded picture, shared by the decoders (which
//! say what they produced), the render maths (which plan the image from it)
//! and the GPU pipeline (which reads the planes by it): its size, pixel
//! format, where each plane lies in memory, and its colour.
//!
//! The pipeline reads a small, closed set of formats ([`DecodedFormat`]) so
//! that one WGSL fetch routine, driven by a table, covers every picture.
//! Every other FFmpeg pixel format is converted by swscale to one of these
//! (the software decoder does it, and records that it did):
//!
//! | FFmpeg formats | converted to |
//! |---|---|
//! | `yuvj420p`, `yuvj422p`, `yuvj444p` (full-range aliases) | `yuv420p`, `yuv422p`, `yuv444p` with the range tag set to full |
//! | `yuv411p`, `yuv410p`, `yuv440p`, `yuvj411p`, `yuvj440p`, `uyyvyy411` | `yuv444p` |
//! | `nv21`, `nv16`, `nv24`, `nv42`, `yuyv422`, `uyvy422`, `yvyu422` | `nv12`, `yuv422p`, `yuv444p`, `yuv444p`, `yuv422p`, `yuv422p`, `yuv422p` |
//! | 9-bit planar YUV (`yuv4xxp9`), big-endian 10-bit | `yuv4xxp10le` of the same subsampling |
//! | big-endian 12-bit | `yuv4xxp12le` of the same subsampling |
//! | 14-bit planar YUV, big-endian 16-bit | `yuv4xxp16le` of the same subsampling |
//! | `yuva4xxp9`, `yuva4xxp10be`, `yuva420p10le`, `yuva422p10le` | `yuva444p16le` (alpha kept) |
//! | `yuva4xxp12be`, `yuva422p12le`, `yuva4xxp16` | `yuva444p16le` (alpha kept) |
//! | `p210`, `p216`, `y210`, `nv20` (4:2:2 high depth) | `yuv422p10le` (10-bit) or `yuv422p16le` (16-bit) |
//! | `p410`, `p416`, `y410`, `xv30`, `xv36`, `ayuv64` (4:4:4 high depth) | `yuv444p10le`, `yuv444p12le` or `yuv444p16le` by depth |
//! | `p012` | `p016` |
//! | `gray9`, `gray12be`, `gray14`, `ya8`, `ya16`, `monow`, `monob` | `gray10`, `gray12`, `gray16`, `gray8`, `gray16`, `gray8`, `gray8` |
//! | `rgb24`, `bgr24`, `argb`, `abgr`, `rgb0`, `bgr0`, `0rgb`, `0bgr`, `pal8`, `rgb565`, `rgb555`, `bgr8`, `gbrap`, `ya8`, … (8-bit RGB, alpha kept where the source has it) | `rgba` |
//! | `gbrp9`, `gbrap10` (alpha kept) | `gbrp10` (`gbrap16` for `gbrap10`) |
//! | `gbrap12` | `gbrap16` (alpha kept) |
//! | `gbrp14`, `gbrp16`, `rgb48`, `bgr48`, `x2rgb10`, `x2bgr10`, `xyz12` | `gbrp16` |
//! | `gbrap16`, `rgba64`, `bgra64`, `ya16` (alpha kept) | `gbrap16` |
//! | float formats (`grayf32`, `gbrpf32`; `gbrapf32` to `gbrap16`) | `gbrp16` |
//!
//! Hardware decoders produce NV12, P010 or planar 4:4:4 surfaces, which are
//! in the set.
//!
//! ## Alpha
//!
//! A format with an alpha source ([`FormatDesc::alpha`]) can carry
//! transparency; a picture carries it when [`PictureDesc::alpha`] says so
//! (the decoder sets it from its pixel format, so `rgba` converted from
//! `rgb24` stays opaque). Alpha is always on the luma grid, at the colour's
//! depth, and straight (not premultiplied), as FFmpeg's decoders give it.

use serde::Serialize;

use crate::asset::color::{ColorInfo, HdrInfo};

/// How the samples of one plane are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlaneFormat {
    /// log2 of the horizontal subsampling of this plane (1 for 4:2:x chroma).
    pub x_shift: u8,
    /// log2 of the vertical subsampling of this plane (1 for 4:2:0 chroma).
    pub y_shift: u8,
    /// 1 for 8-bit samples, 2 for little-endian 16-bit containers.
    pub bytes_per_sample: u8,
    /// Interleaved samples per texel: 1 planar, 2 semi-planar CbCr, 4 RGBA.
    pub samples_per_texel: u8,
}

/// Where one of the three colour components comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComponentSource {
    /// Sample `channel` of the texels of plane `plane`.
    Plane { plane: u8, channel: u8 },
    /// No plane: the component is the neutral chroma code (gray formats).
    Neutral,
}

/// The colour model of the three components the pipeline assembles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColorModel {
    /// Components are Y, Cb, Cr.
    Yuv,
    /// Only Y is stored; Cb and Cr are neutral.
    Gray,
    /// Components are R, G, B (the `yuv_to_rgb` matrix is then the identity).
    Rgb,
}

/// The pixel formats the GPU pipeline reads directly. See the module docs
/// for the conversion of every other FFmpeg format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecodedFormat {
    /// `yuv420p`: 8-bit Y, Cb, Cr planes, chroma halved both ways.
    Yuv420p,
    /// `yuv422p`: 8-bit planes, chroma halved horizontally.
    Yuv422p,
    /// `yuv444p`: 8-bit planes, no subsampling.
    Yuv444p,
    /// `nv12`: 8-bit Y plane and one interleaved CbCr plane, 4:2:0.
    Nv12,
    /// `yuv420p10le`: 10-bit codes in the low bits of little-endian u16.
    Yuv420p10,
    /// `yuv422p10le`.
    Yuv422p10,
    /// `yuv444p10le`.
    Yuv444p10,
    /// `yuv420p12le`: 12-bit codes in the low bits of little-endian u16.
    Yuv420p12,
    /// `yuv422p12le`.
    Yuv422p12,
    /// `yuv444p12le`.
    Yuv444p12,
    /// `yuv420p16le`.
    Yuv420p16,
    /// `yuv422p16le`.
    Yuv422p16,
    /// `yuv444p16le`.
    Yuv444p16,
    /// `p010le`: semi-planar 4:2:0, 10-bit codes in the high bits of u16.
    P010,
    /// `p016le`: semi-planar 4:2:0, 16-bit.
    P016,
    /// `gray`: one 8-bit luma plane.
    Gray8,
    /// `gray10le`: 10-bit luma in the low bits of u16.
    Gray10,
    /// `gray12le`.
    Gray12,
    /// `gray16le`.
    Gray16,
    /// `rgba`: packed 8-bit R, G, B, A.
    Rgba8,
    /// `bgra`: packed 8-bit B, G, R, A.
    Bgra8,
    /// `gbrp`: 8-bit planes in the order G, B, R.
    Gbrp,
    /// `gbrp10le`: 10-bit codes in the low bits of u16, planes G, B, R.
    Gbrp10,
    /// `gbrp12le`.
    Gbrp12,
    /// `gbrp16le`.
    Gbrp16,
    /// `yuva420p`: `yuv420p` and a full-resolution 8-bit alpha plane.
    Yuva420p,
    /// `yuva422p`.
    Yuva422p,
    /// `yuva444p`.
    Yuva444p,
    /// `yuva444p10le`: ProRes 4444 (10-bit).
    Yuva444p10,
    /// `yuva444p12le`: ProRes 4444 as FFmpeg 5.1 decodes it.
    Yuva444p12,
    /// `yuva444p16le`: every other high-depth YUV with alpha.
    Yuva444p16,
    /// `gbrap16le`: high-depth RGB with alpha, planes G, B, R, A.
    Gbrap16,
}

/// A format's full description: the one table the decoders, the render
/// maths, the upload code and the shader's fetch stage are all driven by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatDesc {
    pub model: ColorModel,
    /// Significant bits per sample (8, 10, 12, 16).
    pub bit_depth: u8,
    /// Where samples narrower than their 16-bit container sit in it.
    pub alignment: SampleAlignment,
    pub planes: &'static [PlaneFormat],
    /// Sources of the components in model order (Y, Cb, Cr or R, G, B).
    pub components: [ComponentSource; 3],
    /// Where the alpha samples lie, for formats that can carry them: on
    /// the luma grid, at `bit_depth`, straight.
    pub alpha: Option<ComponentSource>,
}

const fn plane(x_shift: u8, y_shift: u8, bytes_per_sample: u8, samples: u8) -> PlaneFormat {
    PlaneFormat {
        x_shift,
        y_shift,
        bytes_per_sample,
        samples_per_texel: samples,
    }
}

const fn from(plane: u8, channel: u8) -> ComponentSource {
    ComponentSource::Plane { plane, channel }
}

const YUV_PLANAR: [ComponentSource; 3] = [from(0, 0), from(1, 0), from(2, 0)];
const SEMI_PLANAR: [ComponentSource; 3] = [from(0, 0), from(1, 0), from(1, 1)];
const GRAY: [ComponentSource; 3] = [
    from(0, 0),
    ComponentSource::Neutral,
    ComponentSource::Neutral,
];
/// `gbrp` stores G, B, R: R is plane 2, G plane 0, B plane 1.
const GBR_PLANAR: [ComponentSource; 3] = [from(2, 0), from(0, 0), from(1, 0)];

const P420_8: &[PlaneFormat] = &[plane(0, 0, 1, 1), plane(1, 1, 1, 1), plane(1, 1, 1, 1)];
const P422_8: &[PlaneFormat] = &[plane(0, 0, 1, 1), plane(1, 0, 1, 1), plane(1, 0, 1, 1)];
const P444_8: &[PlaneFormat] = &[plane(0, 0, 1, 1), plane(0, 0, 1, 1), plane(0, 0, 1, 1)];
const P420_16: &[PlaneFormat] = &[plane(0, 0, 2, 1), plane(1, 1, 2, 1), plane(1, 1, 2, 1)];
const P422_16: &[PlaneFormat] = &[plane(0, 0, 2, 1), plane(1, 0, 2, 1), plane(1, 0, 2, 1)];
const P444_16: &[PlaneFormat] = &[plane(0, 0, 2, 1), plane(0, 0, 2, 1), plane(0, 0, 2, 1)];
const NV12: &[PlaneFormat] = &[plane(0, 0, 1, 1), plane(1, 1, 1, 2)];
const P01X: &[PlaneFormat] = &[plane(0, 0, 2, 1), plane(1, 1, 2, 2)];
const GRAY_8: &[PlaneFormat] = &[plane(0, 0, 1, 1)];
const GRAY_16: &[PlaneFormat] = &[plane(0, 0, 2, 1)];
const PACKED_8: &[PlaneFormat] = &[plane(0, 0, 1, 4)];
const A420_8: &[PlaneFormat] = &[
    plane(0, 0, 1, 1),
    plane(1, 1, 1, 1),
    plane(1, 1, 1, 1),
    plane(0, 0, 1, 1),
];
const A422_8: &[PlaneFormat] = &[
    plane(0, 0, 1, 1),
    plane(1, 0, 1, 1),
    plane(1, 0, 1, 1),
    plane(0, 0, 1, 1),
];
const A444_8: &[PlaneFormat] = &[
    plane(0, 0, 1, 1),
    plane(0, 0, 1, 1),
    plane(0, 0, 1, 1),
    plane(0, 0, 1, 1),
];
const A444_16: &[PlaneFormat] = &[
    plane(0, 0, 2, 1),
    plane(0, 0, 2, 1),
    plane(0, 0, 2, 1),
    plane(0, 0, 2, 1),
];
/// The alpha of the four-plane formats: plane 3.
const ALPHA_PLANE: ComponentSource = from(3, 0);
/// The alpha of packed RGBA and BGRA: the fourth sample.
const ALPHA_PACKED: ComponentSource = from(0, 3);

impl DecodedFormat {
    /// Every format, for tables and exhaustive tests.
    pub const ALL: [DecodedFormat; 32] = [
        DecodedFormat::Yuv420p,
        DecodedFormat::Yuv422p,
        DecodedFormat::Yuv444p,
        DecodedFormat::Nv12,
        DecodedFormat::Yuv420p10,
        DecodedFormat::Yuv422p10,
        DecodedFormat::Yuv444p10,
        DecodedFormat::Yuv420p12,
        DecodedFormat::Yuv422p12,
        DecodedFormat::Yuv444p12,
        DecodedFormat::Yuv420p16,
        DecodedFormat::Yuv422p16,
        DecodedFormat::Yuv444p16,
        DecodedFormat::P010,
        DecodedFormat::P016,
        DecodedFormat::Gray8,
        DecodedFormat::Gray10,
        DecodedFormat::Gray12,
        DecodedFormat::Gray16,
        DecodedFormat::Rgba8,
        DecodedFormat::Bgra8,
        DecodedFormat::Gbrp,
        DecodedFormat::Gbrp10,
        DecodedFormat::Gbrp12,
        DecodedFormat::Gbrp16,
        DecodedFormat::Yuva420p,
        DecodedFormat::Yuva422p,
        DecodedFormat::Yuva444p,
        DecodedFormat::Yuva444p10,
        DecodedFormat::Yuva444p12,
        DecodedFormat::Yuva444p16,
        DecodedFormat::Gbrap16,
    ];

    pub fn desc(self) -> FormatDesc {
        use ColorModel::{Gray, Rgb, Yuv};
        use DecodedFormat::*;
        let (model, bit_depth, msb, planes, components, alpha) = match self {
            Yuv420p => (Yuv, 8, false, P420_8, YUV_PLANAR, None),
            Yuv422p => (Yuv, 8, false, P422_8, YUV_PLANAR, None),
            Yuv444p => (Yuv, 8, false, P444_8, YUV_PLANAR, None),
            Nv12 => (Yuv, 8, false, NV12, SEMI_PLANAR, None),
            Yuv420p10 => (Yuv, 10, false, P420_16, YUV_PLANAR, None),
            Yuv422p10 => (Yuv, 10, false, P422_16, YUV_PLANAR, None),
            Yuv444p10 => (Yuv, 10, false, P444_16, YUV_PLANAR, None),
            Yuv420p12 => (Yuv, 12, false, P420_16, YUV_PLANAR, None),
            Yuv422p12 => (Yuv, 12, false, P422_16, YUV_PLANAR, None),
            Yuv444p12 => (Yuv, 12, false, P444_16, YUV_PLANAR, None),
            Yuv420p16 => (Yuv, 16, false, P420_16, YUV_PLANAR, None),
            Yuv422p16 => (Yuv, 16, false, P422_16, YUV_PLANAR, None),
            Yuv444p16 => (Yuv, 16, false, P444_16, YUV_PLANAR, None),
            P010 => (Yuv, 10, true, P01X, SEMI_PLANAR, None),
            P016 => (Yuv, 16, true, P01X, SEMI_PLANAR, None),
            Gray8 => (Gray, 8, false, GRAY_8, GRAY, None),
            Gray10 => (Gray, 10, false, GRAY_16, GRAY, None),
            Gray12 => (Gray, 12, false, GRAY_16, GRAY, None),
            Gray16 => (Gray, 16, false, GRAY_16, GRAY, None),
            Rgba8 => (
                Rgb,
                8,
                false,
                PACKED_8,
                [from(0, 0), from(0, 1), from(0, 2)],
                Some(ALPHA_PACKED),
            ),
            Bgra8 => (
                Rgb,
                8,
                false,
                PACKED_8,
                [from(0, 2), from(0, 1), from(0, 0)],
                Some(ALPHA_PACKED),
            ),
            Gbrp => (Rgb, 8, false, P444_8, GBR_PLANAR, None),
            Gbrp10 => (Rgb, 10, false, P444_16, GBR_PLANAR, None),
            Gbrp12 => (Rgb, 12, false, P444_16, GBR_PLANAR, None),
            Gbrp16 => (Rgb, 16, false, P444_16, GBR_PLANAR, None),
            Yuva420p => (Yuv, 8, false, A420_8, YUV_PLANAR, Some(ALPHA_PLANE)),
            Yuva422p => (Yuv, 8, false, A422_8, YUV_PLANAR, Some(ALPHA_PLANE)),
            Yuva444p => (Yuv, 8, false, A444_8, YUV_PLANAR, Some(ALPHA_PLANE)),
            Yuva444p10 => (Yuv, 10, false, A444_16, YUV_PLANAR, Some(ALPHA_PLANE)),
            Yuva444p12 => (Yuv, 12, false, A444_16, YUV_PLANAR, Some(ALPHA_PLANE)),
            Yuva444p16 => (Yuv, 16, false, A444_16, YUV_PLANAR, Some(ALPHA_PLANE)),
            Gbrap16 => (Rgb, 16, false, A444_16, GBR_PLANAR, Some(ALPHA_PLANE)),
        };
        FormatDesc {
            model,
            bit_depth,
            alignment: if msb {
                SampleAlignment::Msb
            } else {
                SampleAlignment::Lsb
            },
            planes,
            components,
            alpha,
        }
    }

    /// FFmpeg's name for the format (`av_get_pix_fmt_name`), little-endian
    /// variants spelled out.
    pub fn ffmpeg_name(self) -> &'static str {
        use DecodedFormat::*;
        match self {
            Yuv420p => "yuv420p",
            Yuv422p => "yuv422p",
            Yuv444p => "yuv444p",
            Nv12 => "nv12",
            Yuv420p10 => "yuv420p10le",
            Yuv422p10 => "yuv422p10le",
            Yuv444p10 => "yuv444p10le",
            Yuv420p12 => "yuv420p12le",
            Yuv422p12 => "yuv422p12le",
            Yuv444p12 => "yuv444p12le",
            Yuv420p16 => "yuv420p16le",
            Yuv422p16 => "yuv422p16le",
            Yuv444p16 => "yuv444p16le",
            P010 => "p010le",
            P016 => "p016le",
            Gray8 => "gray",
            Gray10 => "gray10le",
            Gray12 => "gray12le",
            Gray16 => "gray16le",
            Rgba8 => "rgba",
            Bgra8 => "bgra",
            Gbrp => "gbrp",
            Gbrp10 => "gbrp10le",
            Gbrp12 => "gbrp12le",
            Gbrp16 => "gbrp16le",
            Yuva420p => "yuva420p",
            Yuva422p => "yuva422p",
            Yuva444p => "yuva444p",
            Yuva444p10 => "yuva444p10le",
            Yuva444p12 => "yuva444p12le",
            Yuva444p16 => "yuva444p16le",
            Gbrap16 => "gbrap16le",
        }
    }

    /// The format FFmpeg calls `name`, if the pipeline reads it directly.
    pub fn from_ffmpeg_name(name: &str) -> Option<DecodedFormat> {
        DecodedFormat::ALL
            .into_iter()
            .find(|format| format.ffmpeg_name() == name)
    }

    /// Size in texels of plane `index` of a `width`×`height` frame (chroma
    /// planes round up, as FFmpeg's `AV_CEIL_RSHIFT`), or `None` when the
    /// format has no such plane.
    pub fn plane_size(self, index: usize, width: u32, height: u32) -> Option<(u32, u32)> {
        let format = self.desc().planes.get(index).copied()?;
        Some((
            ceil_shift(width, format.x_shift),
            ceil_shift(height, format.y_shift),
        ))
    }
}

fn ceil_shift(value: u32, shift: u8) -> u32 {
    let shift = u32::from(shift);
    ((u64::from(value) + (1u64 << shift) - 1) >> shift) as u32
}

/// Where samples narrower than their 16-bit container sit in it. The same
/// 10-bit code reads as a different unorm value in each case, so the shader
/// needs to know which to rescale correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SampleAlignment {
    /// Codes in the low bits (FFmpeg's planar `yuv420p10le` and kin).
    #[default]
    Lsb,
    /// Codes in the high bits, low bits zero (`p010`, `p016`).
    Msb,
}

/// Chroma subsampling as log2 factors: 4:2:0 is `(1, 1)`, 4:2:2 `(1, 0)`,
/// 4:4:4 `(0, 0)`, 4:1:1 `(2, 0)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ChromaSubsampling {
    pub log2_x: u8,
    pub log2_y: u8,
}

impl ChromaSubsampling {
    pub const YUV420: ChromaSubsampling = ChromaSubsampling {
        log2_x: 1,
        log2_y: 1,
    };
    pub const YUV422: ChromaSubsampling = ChromaSubsampling {
        log2_x: 1,
        log2_y: 0,
    };
    pub const YUV444: ChromaSubsampling = ChromaSubsampling {
        log2_x: 0,
        log2_y: 0,
    };
}

/// Serialised as `[log2_x, log2_y]`, the form `stills probe` documents.
impl Serialize for ChromaSubsampling {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.log2_x, self.log2_y].serialize(s)
    }
}

impl FormatDesc {
    /// Where component `index` comes from: 0 to 2 the colour components,
    /// 3 alpha (neutral when the format has none).
    pub fn component_or_alpha(&self, index: usize) -> ComponentSource {
        match index {
            0..=2 => self.components[index],
            _ => self.alpha.unwrap_or(ComponentSource::Neutral),
        }
    }

    /// The subsampling of the colour-difference planes (4:4:4 for RGB and
    /// gray, whose components share one grid).
    pub fn subsampling(&self) -> ChromaSubsampling {
        match (self.model, self.components[1]) {
            (ColorModel::Yuv, ComponentSource::Plane { plane, .. }) => {
                let format = self.planes[usize::from(plane)];
                ChromaSubsampling {
                    log2_x: format.x_shift,
                    log2_y: format.y_shift,
                }
            }
            _ => ChromaSubsampling::YUV444,
        }
    }
}

/// The most planes any [`DecodedFormat`] has (three of colour and alpha).
pub const MAX_PLANES: usize = 4;

/// Where one plane lies in the memory that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PlaneDesc {
    /// Byte offset of the plane's first row in its memory object (a host
    /// buffer, a device buffer, a DMA-BUF object, a CUDA allocation).
    pub offset: u64,
    /// Bytes from one row to the next.
    pub pitch: u64,
}

/// A decoded picture: what it is and where its planes lie, however it
/// arrived (see [`Surface`](crate::surface::Surface) for where).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PictureDesc {
    /// Size in luma samples of the picture as decoded (after the codec's
    /// own cropping: 1920×1080 for a 1088-row H.264 stream); the clean
    /// aperture is relative to it.
    pub width: u32,
    pub height: u32,
    pub format: DecodedFormat,
    /// One entry per plane of `format`; the rest are unused.
    pub planes: [PlaneDesc; MAX_PLANES],
    /// The picture's colour: the track's tags, with what the decoder knows
    /// better (the range of a `yuvj` format) applied. Untagged stays
    /// untagged here; the render maths decides what it means.
    pub color: ColorInfo,
    /// The track's HDR metadata, with what the bitstream carries for this
    /// picture filling its gaps.
    pub hdr: HdrInfo,
    /// Whether the format's alpha samples mean transparency: only for a
    /// format with an alpha source, and only when the decoded picture had
    /// alpha (packed RGBA converted from RGB holds opaque filler).
    pub alpha: bool,
    /// Whether the picture's two fields were captured at different
    /// instants, as the decoder reports for this picture (not the track's
    /// summary: an interlaced-tagged stream may hold progressive pictures,
    /// and soft telecine repeats fields of progressive ones).
    pub scan: Scan,
}

/// How a decoded picture's lines were captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scan {
    /// All lines at one instant.
    #[default]
    Progressive,
    /// Even lines (the top field) and odd lines (the bottom field) at two
    /// instants; the field shown first is the picture's instant.
    Interlaced { top_field_first: bool },
}

impl Scan {
    /// The field shown first, which the picture's time is that of; `None`
    /// for a progressive picture.
    pub fn first_field(self) -> Option<Field> {
        match self {
            Scan::Progressive => None,
            Scan::Interlaced { top_field_first } => Some(if top_field_first {
                Field::Top
            } else {
                Field::Bottom
            }),
        }
    }
}

/// One field of an interlaced picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    /// The even lines (0, 2, 4, …).
    Top,
    /// The odd lines.
    Bottom,
}

impl Field {
    /// The parity of the field's lines: 0 for the top field, 1 for the
    /// bottom one.
    pub fn parity(self) -> u32 {
        match self {
            Field::Top => 0,
            Field::Bottom => 1,
        }
    }
}

impl PictureDesc {
    /// A picture with its planes packed back to back from offset 0, each
    /// row exactly as long as its samples (`ffmpeg -f rawvideo`'s layout),
    /// with alpha when the format can carry it.
    pub fn packed(
        width: u32,
        height: u32,
        format: DecodedFormat,
        color: ColorInfo,
        hdr: HdrInfo,
    ) -> Option<PictureDesc> {
        let mut planes = [PlaneDesc::default(); MAX_PLANES];
        let mut offset = 0u64;
        for (index, plane) in planes
            .iter_mut()
            .enumerate()
            .take(format.desc().planes.len())
        {
            let (row, rows) = format.plane_extent(index, width, height)?;
            *plane = PlaneDesc { offset, pitch: row };
            offset = offset.checked_add(row.checked_mul(u64::from(rows))?)?;
        }
        Some(PictureDesc {
            width,
            height,
            format,
            planes,
            color,
            hdr,
            alpha: format.desc().alpha.is_some(),
            scan: Scan::Progressive,
        })
    }

    /// Whether the picture carries alpha the pipeline keeps.
    pub fn has_alpha(&self) -> bool {
        self.alpha && self.format.desc().alpha.is_some()
    }

    /// The planes of the format, with where each lies.
    pub fn planes(&self) -> &[PlaneDesc] {
        &self.planes[..self.format.desc().planes.len()]
    }

    /// Bytes in one unpadded row of plane `index`, and its row count.
    pub fn plane_extent(&self, index: usize) -> Option<(u64, u32)> {
        self.format.plane_extent(index, self.width, self.height)
    }

    /// Bytes plane `index` spans from its offset: every row at the pitch,
    /// the last one only as long as its samples (as FFmpeg's buffers may
    /// end).
    pub fn plane_span(&self, index: usize) -> Option<u64> {
        let (row, rows) = self.plane_extent(index)?;
        let pitch = self.planes.get(index)?.pitch;
        pitch
            .checked_mul(u64::from(rows).checked_sub(1)?)?
            .checked_add(row)
    }
}

impl DecodedFormat {
    /// Bytes in one unpadded row of plane `index` of a `width`×`height`
    /// picture, and its row count.
    pub fn plane_extent(self, index: usize, width: u32, height: u32) -> Option<(u64, u32)> {
        let format = self.desc().planes.get(index).copied()?;
        let (w, h) = self.plane_size(index, width, height)?;
        let row =
            u64::from(w) * u64::from(format.bytes_per_sample) * u64::from(format.samples_per_texel);
        Some((row, h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for format in DecodedFormat::ALL {
            assert_eq!(
                DecodedFormat::from_ffmpeg_name(format.ffmpeg_name()),
                Some(format)
            );
        }
        assert_eq!(DecodedFormat::from_ffmpeg_name("yuyv422"), None);
    }

    #[test]
    fn every_component_names_an_existing_plane_channel() {
        for format in DecodedFormat::ALL {
            let desc = format.desc();
            for source in desc.components {
                if let ComponentSource::Plane { plane, channel } = source {
                    let plane = desc.planes[usize::from(plane)];
                    assert!(channel < plane.samples_per_texel, "{format:?}");
                }
            }
            // Components 1 and 2 share one sampling grid, which the
            // shader's second filter group relies on.
            let grid = |c: ComponentSource| match c {
                ComponentSource::Plane { plane, .. } => {
                    let f = desc.planes[usize::from(plane)];
                    Some((f.x_shift, f.y_shift))
                }
                ComponentSource::Neutral => None,
            };
            assert_eq!(grid(desc.components[1]), grid(desc.components[2]));
            // Alpha is read on the luma grid at the colour's depth.
            if let Some(alpha) = desc.alpha {
                assert_eq!(grid(alpha), Some((0, 0)), "{format:?}");
                if let ComponentSource::Plane { plane, channel } = alpha {
                    let p = desc.planes[usize::from(plane)];
                    assert!(channel < p.samples_per_texel, "{format:?}");
                    assert_eq!(p.bytes_per_sample, desc.planes[0].bytes_per_sample);
                }
            }
        }
    }

    #[test]
    fn subsampling_is_the_colour_planes_grid() {
        assert_eq!(
            DecodedFormat::Nv12.desc().subsampling(),
            ChromaSubsampling::YUV420
        );
        assert_eq!(
            DecodedFormat::Yuv422p10.desc().subsampling(),
            ChromaSubsampling::YUV422
        );
        for whole in [
            DecodedFormat::Gray10,
            DecodedFormat::Gbrp,
            DecodedFormat::Rgba8,
        ] {
            assert_eq!(whole.desc().subsampling(), ChromaSubsampling::YUV444);
        }
        assert_eq!(DecodedFormat::P010.desc().alignment, SampleAlignment::Msb);
        assert_eq!(
            serde_json::to_string(&ChromaSubsampling::YUV420).unwrap(),
            "[1,1]"
        );
    }

    #[test]
    fn packed_planes_follow_each_other() {
        let desc = PictureDesc::packed(
            33,
            17,
            DecodedFormat::Yuv420p,
            ColorInfo::UNSPECIFIED,
            HdrInfo::SDR,
        )
        .unwrap();
        let planes: Vec<_> = desc.planes().iter().map(|p| (p.offset, p.pitch)).collect();
        assert_eq!(planes, [(0, 33), (33 * 17, 17), (33 * 17 + 17 * 9, 17)]);
        assert_eq!(desc.plane_span(1), Some(17 * 9));
    }
}
