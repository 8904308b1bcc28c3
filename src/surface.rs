//! Decoded frames in host memory, as the software decoder hands them to the
//! GPU pipeline.
//!
//! The pipeline reads a small, closed set of layouts ([`PixelLayout`]) so that
//! one WGSL fetch routine, driven by a table, covers every frame. Every other
//! FFmpeg pixel format is converted by swscale to one of these before upload
//! (the decoder does it, and records that it did):
//!
//! | FFmpeg formats | converted to |
//! |---|---|
//! | `yuvj420p`, `yuvj422p`, `yuvj444p` (full-range aliases) | `yuv420p`, `yuv422p`, `yuv444p` with the range tag set to full |
//! | `yuv411p`, `yuv410p`, `yuv440p`, `yuvj411p`, `yuvj440p`, `uyyvyy411` | `yuv444p` |
//! | `nv21`, `nv16`, `nv24`, `nv42`, `yuyv422`, `uyvy422`, `yvyu422` | `nv12`, `yuv422p`, `yuv444p`, `yuv444p`, `yuv422p`, `yuv422p`, `yuv422p` |
//! | `yuva420p`, `yuva422p`, `yuva444p` (alpha dropped) | `yuv420p`, `yuv422p`, `yuv444p` |
//! | 9-bit planar YUV (`yuv4xxp9`), big-endian 10-bit, `yuva4xxp10` | `yuv4xxp10le` of the same subsampling |
//! | big-endian 12-bit, `yuva4xxp12` | `yuv4xxp12le` of the same subsampling |
//! | 14-bit planar YUV, big-endian 16-bit, `yuva4xxp16` | `yuv4xxp16le` of the same subsampling |
//! | `p210`, `p216`, `y210`, `nv20` (4:2:2 high depth) | `yuv422p10le` (10-bit) or `yuv422p16le` (16-bit) |
//! | `p410`, `p416`, `y410`, `xv30`, `xv36`, `ayuv64` (4:4:4 high depth) | `yuv444p10le`, `yuv444p12le` or `yuv444p16le` by depth |
//! | `p012` | `p016` |
//! | `gray9`, `gray12be`, `gray14`, `ya8`, `ya16`, `monow`, `monob` | `gray10`, `gray12`, `gray16`, `gray8`, `gray16`, `gray8`, `gray8` |
//! | `rgb24`, `bgr24`, `argb`, `abgr`, `rgb0`, `bgr0`, `0rgb`, `0bgr`, `pal8`, `rgb565`, `rgb555`, `bgr8`, … (8-bit RGB) | `rgba` |
//! | `gbrap` | `gbrp` |
//! | `gbrp9`, `gbrap10` | `gbrp10` |
//! | `gbrap12` | `gbrp12` |
//! | `gbrp14`, `gbrp16`, `gbrap16`, `rgb48`, `bgr48`, `rgba64`, `bgra64`, `x2rgb10`, `x2bgr10`, `xyz12` | `gbrp16` |
//! | float formats (`grayf32`, `gbrpf32`, `gbrapf32`) | `gbrp16` |
//!
//! Hardware surfaces (VA-API, NVDEC) never come through here: they are
//! imported as GPU images.

use thiserror::Error;

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

/// The pixel layouts the GPU pipeline uploads directly. See the module docs
/// for the conversion of every other FFmpeg format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelLayout {
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
    /// `rgba`: packed 8-bit R, G, B, A (alpha ignored).
    Rgba8,
    /// `bgra`: packed 8-bit B, G, R, A (alpha ignored).
    Bgra8,
    /// `gbrp`: 8-bit planes in the order G, B, R.
    Gbrp,
    /// `gbrp10le`: 10-bit codes in the low bits of u16, planes G, B, R.
    Gbrp10,
    /// `gbrp12le`.
    Gbrp12,
    /// `gbrp16le`.
    Gbrp16,
}

/// A layout's full description: the one table the upload code and the
/// shader's fetch stage are driven by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutDesc {
    pub model: ColorModel,
    /// Significant bits per sample (8, 10, 12, 16).
    pub bit_depth: u8,
    /// Whether the code sits in the high bits of its 16-bit container (P010).
    pub msb_aligned: bool,
    pub planes: &'static [PlaneFormat],
    /// Sources of the components in model order (Y, Cb, Cr or R, G, B).
    pub components: [ComponentSource; 3],
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

impl PixelLayout {
    /// Every layout, for tables and exhaustive tests.
    pub const ALL: [PixelLayout; 25] = [
        PixelLayout::Yuv420p,
        PixelLayout::Yuv422p,
        PixelLayout::Yuv444p,
        PixelLayout::Nv12,
        PixelLayout::Yuv420p10,
        PixelLayout::Yuv422p10,
        PixelLayout::Yuv444p10,
        PixelLayout::Yuv420p12,
        PixelLayout::Yuv422p12,
        PixelLayout::Yuv444p12,
        PixelLayout::Yuv420p16,
        PixelLayout::Yuv422p16,
        PixelLayout::Yuv444p16,
        PixelLayout::P010,
        PixelLayout::P016,
        PixelLayout::Gray8,
        PixelLayout::Gray10,
        PixelLayout::Gray12,
        PixelLayout::Gray16,
        PixelLayout::Rgba8,
        PixelLayout::Bgra8,
        PixelLayout::Gbrp,
        PixelLayout::Gbrp10,
        PixelLayout::Gbrp12,
        PixelLayout::Gbrp16,
    ];

    pub fn desc(self) -> LayoutDesc {
        use ColorModel::{Gray, Rgb, Yuv};
        use PixelLayout::*;
        let (model, bit_depth, msb_aligned, planes, components) = match self {
            Yuv420p => (Yuv, 8, false, P420_8, YUV_PLANAR),
            Yuv422p => (Yuv, 8, false, P422_8, YUV_PLANAR),
            Yuv444p => (Yuv, 8, false, P444_8, YUV_PLANAR),
            Nv12 => (Yuv, 8, false, NV12, SEMI_PLANAR),
            Yuv420p10 => (Yuv, 10, false, P420_16, YUV_PLANAR),
            Yuv422p10 => (Yuv, 10, false, P422_16, YUV_PLANAR),
            Yuv444p10 => (Yuv, 10, false, P444_16, YUV_PLANAR),
            Yuv420p12 => (Yuv, 12, false, P420_16, YUV_PLANAR),
            Yuv422p12 => (Yuv, 12, false, P422_16, YUV_PLANAR),
            Yuv444p12 => (Yuv, 12, false, P444_16, YUV_PLANAR),
            Yuv420p16 => (Yuv, 16, false, P420_16, YUV_PLANAR),
            Yuv422p16 => (Yuv, 16, false, P422_16, YUV_PLANAR),
            Yuv444p16 => (Yuv, 16, false, P444_16, YUV_PLANAR),
            P010 => (Yuv, 10, true, P01X, SEMI_PLANAR),
            P016 => (Yuv, 16, true, P01X, SEMI_PLANAR),
            Gray8 => (Gray, 8, false, GRAY_8, GRAY),
            Gray10 => (Gray, 10, false, GRAY_16, GRAY),
            Gray12 => (Gray, 12, false, GRAY_16, GRAY),
            Gray16 => (Gray, 16, false, GRAY_16, GRAY),
            Rgba8 => (
                Rgb,
                8,
                false,
                PACKED_8,
                [from(0, 0), from(0, 1), from(0, 2)],
            ),
            Bgra8 => (
                Rgb,
                8,
                false,
                PACKED_8,
                [from(0, 2), from(0, 1), from(0, 0)],
            ),
            Gbrp => (Rgb, 8, false, P444_8, GBR_PLANAR),
            Gbrp10 => (Rgb, 10, false, P444_16, GBR_PLANAR),
            Gbrp12 => (Rgb, 12, false, P444_16, GBR_PLANAR),
            Gbrp16 => (Rgb, 16, false, P444_16, GBR_PLANAR),
        };
        LayoutDesc {
            model,
            bit_depth,
            msb_aligned,
            planes,
            components,
        }
    }

    /// FFmpeg's name for the layout (`av_get_pix_fmt_name`), little-endian
    /// variants spelled out.
    pub fn ffmpeg_name(self) -> &'static str {
        use PixelLayout::*;
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
        }
    }

    /// The layout FFmpeg calls `name`, if the pipeline reads it directly.
    pub fn from_ffmpeg_name(name: &str) -> Option<PixelLayout> {
        PixelLayout::ALL
            .into_iter()
            .find(|layout| layout.ffmpeg_name() == name)
    }

    /// Size in texels of plane `index` of a `width`×`height` frame (chroma
    /// planes round up, as FFmpeg's `AV_CEIL_RSHIFT`), or `None` when the
    /// layout has no such plane.
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

/// One plane of a host frame: `data` holds rows of `stride` bytes each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plane {
    pub data: PlaneBytes,
    pub stride: usize,
}

/// Where a plane's bytes live: any read-only buffer that can be shared
/// across threads. The decoder hands over its own picture buffers
/// (reference-counted, not copied), tests and callers hand over `Vec`s.
pub trait PlaneSource: Send + Sync {
    fn bytes(&self) -> &[u8];
}

impl PlaneSource for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// A plane's bytes, shared cheaply (`Clone` takes a reference).
#[derive(Clone)]
pub struct PlaneBytes(std::sync::Arc<dyn PlaneSource>);

impl PlaneBytes {
    pub fn new(source: impl PlaneSource + 'static) -> PlaneBytes {
        PlaneBytes(std::sync::Arc::new(source))
    }
}

impl From<Vec<u8>> for PlaneBytes {
    fn from(v: Vec<u8>) -> PlaneBytes {
        PlaneBytes::new(v)
    }
}

impl std::ops::Deref for PlaneBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.0.bytes()
    }
}

impl PartialEq for PlaneBytes {
    fn eq(&self, other: &PlaneBytes) -> bool {
        **self == **other
    }
}

impl Eq for PlaneBytes {}

impl std::fmt::Debug for PlaneBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlaneBytes({} bytes)", self.len())
    }
}

/// Why a [`HostFrame`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SurfaceError {
    #[error("frame size {width}x{height} is empty")]
    Empty { width: u32, height: u32 },
    #[error("{layout:?} needs {expected} planes, got {got}")]
    PlaneCount {
        layout: PixelLayout,
        expected: usize,
        got: usize,
    },
    #[error("plane {plane}: stride {stride} is shorter than a row of {row_bytes} bytes")]
    StrideTooSmall {
        plane: usize,
        stride: usize,
        row_bytes: usize,
    },
    #[error("plane {plane}: {len} bytes cannot hold {rows} rows of stride {stride} ({needed} bytes needed)")]
    PlaneTooShort {
        plane: usize,
        len: usize,
        rows: u32,
        stride: usize,
        needed: usize,
    },
    #[error("frame size {width}x{height} overflows the address space")]
    Overflow { width: u32, height: u32 },
}

/// A decoded picture in host memory, validated on construction so the
/// upload can copy rows without bounds surprises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFrame {
    width: u32,
    height: u32,
    layout: PixelLayout,
    planes: Vec<Plane>,
}

impl HostFrame {
    /// Checks that `planes` match `layout` at `width`×`height`: the plane
    /// count, each stride against a row of samples, and each buffer against
    /// its rows (the last row may stop at its last sample, as FFmpeg's
    /// buffers may).
    pub fn new(
        width: u32,
        height: u32,
        layout: PixelLayout,
        planes: Vec<Plane>,
    ) -> Result<HostFrame, SurfaceError> {
        if width == 0 || height == 0 {
            return Err(SurfaceError::Empty { width, height });
        }
        let desc = layout.desc();
        if planes.len() != desc.planes.len() {
            return Err(SurfaceError::PlaneCount {
                layout,
                expected: desc.planes.len(),
                got: planes.len(),
            });
        }
        for (index, plane) in planes.iter().enumerate() {
            let (row_bytes, rows) = plane_extent(layout, index, width, height)
                .ok_or(SurfaceError::Overflow { width, height })?;
            if plane.stride < row_bytes {
                return Err(SurfaceError::StrideTooSmall {
                    plane: index,
                    stride: plane.stride,
                    row_bytes,
                });
            }
            let needed = plane
                .stride
                .checked_mul(rows as usize - 1)
                .and_then(|v| v.checked_add(row_bytes))
                .ok_or(SurfaceError::Overflow { width, height })?;
            if plane.data.len() < needed {
                return Err(SurfaceError::PlaneTooShort {
                    plane: index,
                    len: plane.data.len(),
                    rows,
                    stride: plane.stride,
                    needed,
                });
            }
        }
        Ok(HostFrame {
            width,
            height,
            layout,
            planes,
        })
    }

    /// Builds a frame from one tightly packed buffer, planes back to back, as
    /// `ffmpeg -f rawvideo` writes them.
    pub fn from_packed(
        width: u32,
        height: u32,
        layout: PixelLayout,
        data: &[u8],
    ) -> Result<HostFrame, SurfaceError> {
        if width == 0 || height == 0 {
            return Err(SurfaceError::Empty { width, height });
        }
        let mut planes = Vec::with_capacity(layout.desc().planes.len());
        let mut offset = 0usize;
        for index in 0..layout.desc().planes.len() {
            let (row_bytes, rows) = plane_extent(layout, index, width, height)
                .ok_or(SurfaceError::Overflow { width, height })?;
            let size = row_bytes
                .checked_mul(rows as usize)
                .ok_or(SurfaceError::Overflow { width, height })?;
            let end = offset
                .checked_add(size)
                .ok_or(SurfaceError::Overflow { width, height })?;
            let bytes = data.get(offset..end).ok_or(SurfaceError::PlaneTooShort {
                plane: index,
                len: data.len().saturating_sub(offset),
                rows,
                stride: row_bytes,
                needed: size,
            })?;
            planes.push(Plane {
                data: bytes.to_vec().into(),
                stride: row_bytes,
            });
            offset = end;
        }
        HostFrame::new(width, height, layout, planes)
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn layout(&self) -> PixelLayout {
        self.layout
    }

    pub fn planes(&self) -> &[Plane] {
        &self.planes
    }

    /// Bytes of one row of plane `index` without padding.
    pub fn row_bytes(&self, index: usize) -> usize {
        plane_extent(self.layout, index, self.width, self.height).map_or(0, |(bytes, _)| bytes)
    }
}

/// Bytes in one unpadded row, and the row count, of plane `index`.
fn plane_extent(
    layout: PixelLayout,
    index: usize,
    width: u32,
    height: u32,
) -> Option<(usize, u32)> {
    let format = layout.desc().planes.get(index).copied()?;
    let (w, h) = layout.plane_size(index, width, height)?;
    let row = (w as usize)
        .checked_mul(usize::from(format.bytes_per_sample))?
        .checked_mul(usize::from(format.samples_per_texel))?;
    Some((row, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed_len(layout: PixelLayout, width: u32, height: u32) -> usize {
        (0..layout.desc().planes.len())
            .map(|i| {
                let (row, rows) = plane_extent(layout, i, width, height).unwrap();
                row * rows as usize
            })
            .sum()
    }

    #[test]
    fn packed_sizes_match_ffmpeg_for_odd_frames() {
        // `av_image_get_buffer_size(fmt, 33, 17, 1)` for these formats.
        let cases = [
            (PixelLayout::Yuv420p, 33 * 17 + 2 * 17 * 9),
            (PixelLayout::Nv12, 33 * 17 + 34 * 9),
            (PixelLayout::Yuv422p10, 2 * (33 * 17 + 2 * 17 * 17)),
            (PixelLayout::P010, 2 * 33 * 17 + 4 * 17 * 9),
            (PixelLayout::Rgba8, 4 * 33 * 17),
            (PixelLayout::Gbrp10, 6 * 33 * 17),
            (PixelLayout::Gray16, 2 * 33 * 17),
        ];
        for (layout, expected) in cases {
            assert_eq!(packed_len(layout, 33, 17), expected, "{layout:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for layout in PixelLayout::ALL {
            assert_eq!(
                PixelLayout::from_ffmpeg_name(layout.ffmpeg_name()),
                Some(layout)
            );
        }
        assert_eq!(PixelLayout::from_ffmpeg_name("yuyv422"), None);
    }

    #[test]
    fn every_component_names_an_existing_plane_channel() {
        for layout in PixelLayout::ALL {
            let desc = layout.desc();
            for source in desc.components {
                if let ComponentSource::Plane { plane, channel } = source {
                    let format = desc.planes[usize::from(plane)];
                    assert!(channel < format.samples_per_texel, "{layout:?}");
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
        }
    }

    #[test]
    fn validation_names_the_fault() {
        let ok = HostFrame::from_packed(4, 2, PixelLayout::Yuv420p, &[0; 12]).unwrap();
        assert_eq!(ok.planes().len(), 3);
        assert_eq!(
            HostFrame::new(0, 2, PixelLayout::Gray8, vec![]),
            Err(SurfaceError::Empty {
                width: 0,
                height: 2
            })
        );
        assert_eq!(
            HostFrame::new(4, 2, PixelLayout::Nv12, vec![]),
            Err(SurfaceError::PlaneCount {
                layout: PixelLayout::Nv12,
                expected: 2,
                got: 0
            })
        );
        let short_stride = vec![Plane {
            data: vec![0; 64].into(),
            stride: 7,
        }];
        assert_eq!(
            HostFrame::new(4, 2, PixelLayout::Gray16, short_stride),
            Err(SurfaceError::StrideTooSmall {
                plane: 0,
                stride: 7,
                row_bytes: 8
            })
        );
        // The last row may end at its last sample.
        let tight = vec![Plane {
            data: vec![0; 16 + 8].into(),
            stride: 16,
        }];
        assert!(HostFrame::new(4, 2, PixelLayout::Gray16, tight).is_ok());
        let short = vec![Plane {
            data: vec![0; 16 + 7].into(),
            stride: 16,
        }];
        assert_eq!(
            HostFrame::new(4, 2, PixelLayout::Gray16, short),
            Err(SurfaceError::PlaneTooShort {
                plane: 0,
                len: 23,
                rows: 2,
                stride: 16,
                needed: 24
            })
        );
        assert!(matches!(
            HostFrame::from_packed(4, 2, PixelLayout::Yuv420p, &[0; 11]),
            Err(SurfaceError::PlaneTooShort { plane: 2, .. })
        ));
    }
}
