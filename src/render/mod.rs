//! The CPU half of the frame pipeline: from a track's description and the
//! generator's settings to the [`OutputSpec`] the GPU executes. Everything
//! here is pure arithmetic, so every decision about geometry and colour is
//! made (and tested) without a decoder or a device.

#[doc(hidden)]
pub mod color;
pub(crate) mod geometry;
pub mod spec;
#[doc(hidden)]
pub mod tone;

use std::fmt;

use serde::Serialize;

use crate::asset::color::{ColorPrimaries, MatrixCoefficients};
use crate::asset::geometry::{CleanAperture, Orientation};
use crate::picture::PictureDesc;
use crate::ratio::Ratio;

pub use geometry::MAX_DIMENSION;
pub use spec::{Affine2, ColorSpec, OutputEncoding, OutputSpec, Rect, ToneMap, TransferFunction};

/// Which part of the stored picture becomes the image (Apple's
/// `apertureMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApertureMode {
    /// Crop to the clean aperture, then correct the pixel aspect ratio.
    #[default]
    CleanAperture,
    /// Correct the pixel aspect ratio only; the whole coded picture shows.
    ProductionAperture,
    /// The stored pixels as they are: no crop, no aspect correction.
    EncodedPixels,
}

/// What happens to high-dynamic-range sources (Apple's
/// `dynamicRangePolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DynamicRangePolicy {
    /// Tone map PQ and HLG to 8-bit sRGB.
    #[default]
    ForceSdr,
    /// Keep HDR as HDR: 16-bit, source primaries and transfer.
    MatchSource,
}

/// Whether interlaced pictures are deinterlaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deinterlace {
    /// A picture the decoder says is interlaced is shown as a player shows
    /// it: the field shown first, its missing lines interpolated (see
    /// [`Deinterlacer`](crate::Deinterlacer)). Progressive pictures,
    /// soft telecine included, are untouched.
    #[default]
    Auto,
    /// Every picture as stored: an interlaced one's two fields woven, so
    /// what moves between them is combed.
    Off,
}

/// A pixel box. As `maximum_size`, `0×0` means the native size and a 0 side
/// leaves that side free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Size {
    /// No bound: the image keeps its natural size.
    pub const NATIVE: Size = Size {
        width: 0,
        height: 0,
    };

    pub const fn new(width: u32, height: u32) -> Size {
        Size { width, height }
    }
}

/// The generator settings that shape the image, as snapshotted for one
/// request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RenderSettings {
    pub maximum_size: Size,
    pub applies_preferred_track_transform: bool,
    pub aperture_mode: ApertureMode,
    pub dynamic_range_policy: DynamicRangePolicy,
    pub deinterlace: Deinterlace,
}

/// What turns a track's stored pictures into what a player shows: the
/// pixel aspect ratio, the clean aperture and the display matrix. The
/// picture itself is described by [`PictureDesc`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SourceGeometry {
    /// `None`, and FFmpeg's "unknown" `0:1`, mean square pixels.
    pub sample_aspect_ratio: Option<Ratio>,
    pub clean_aperture: Option<CleanAperture>,
    /// The display matrix as an orientation; `None` when the matrix is not
    /// one of the eight axis-aligned cases, which is shown unrotated.
    pub orientation: Option<Orientation>,
}

/// Why no [`OutputSpec`] could be made. Every variant is a property of the
/// input (a hostile or exotic file), never of the machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RenderError {
    /// The decoded picture is empty or larger than
    /// [`MAX_DIMENSION`] on a side.
    InvalidPictureSize { width: u32, height: u32 },
    /// The image would exceed [`MAX_DIMENSION`] on a side (a
    /// native-size request on an extreme pixel aspect ratio).
    OutputTooLarge { width: f64, height: f64 },
    /// A negative pixel aspect ratio or one with a zero denominator.
    InvalidAspectRatio(Ratio),
    /// A clean aperture with a zero denominator, an empty or negative size,
    /// or a region reaching outside the picture.
    InvalidCleanAperture(CleanAperture),
    /// A rotation other than 0, 90, 180 or 270 degrees.
    InvalidOrientation(Orientation),
    /// A matrix the shaders cannot express as one 3×3 multiply (constant
    /// luminance, ICtCp, SMPTE ST 2085).
    UnsupportedMatrix(MatrixCoefficients),
    /// Primaries without a usable RGB gamut (SMPTE ST 428 XYZ).
    UnsupportedPrimaries(ColorPrimaries),
    /// Dolby Vision without a backward-compatible base layer (profile 5,
    /// 10.0, and the old non-compatible profiles 1 and 3): the base layer is
    /// IPTPQc2, which read as YUV gives a purple-green picture.
    DolbyVisionWithoutBaseLayer {
        profile: u8,
        bl_signal_compatibility_id: u8,
    },
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::InvalidPictureSize { width, height } => {
                write!(f, "invalid picture size {width}×{height}")
            }
            RenderError::OutputTooLarge { width, height } => write!(
                f,
                "image of {width:.0}×{height:.0} exceeds {} pixels on a side",
                geometry::MAX_DIMENSION
            ),
            RenderError::InvalidAspectRatio(r) => {
                write!(f, "invalid pixel aspect ratio {}:{}", r.num, r.den)
            }
            RenderError::InvalidCleanAperture(c) => write!(
                f,
                "invalid clean aperture {}/{}×{}/{} offset {}/{},{}/{}",
                c.width.num,
                c.width.den,
                c.height.num,
                c.height.den,
                c.horizontal_offset.num,
                c.horizontal_offset.den,
                c.vertical_offset.num,
                c.vertical_offset.den
            ),
            RenderError::InvalidOrientation(o) => {
                write!(f, "invalid rotation of {} degrees", o.rotation)
            }
            RenderError::UnsupportedMatrix(m) => {
                write!(f, "unsupported YUV matrix coefficients {m:?}")
            }
            RenderError::UnsupportedPrimaries(p) => {
                write!(f, "unsupported colour primaries {p:?}")
            }
            RenderError::DolbyVisionWithoutBaseLayer {
                profile,
                bl_signal_compatibility_id,
            } => write!(
                f,
                "Dolby Vision profile {profile} (base layer compatibility \
                 {bl_signal_compatibility_id}) has no backward-compatible base layer"
            ),
        }
    }
}

impl std::error::Error for RenderError {}

impl OutputSpec {
    /// Resolves every geometry and colour decision for one picture of a
    /// track under one set of settings.
    pub fn new(
        picture: &PictureDesc,
        geometry: &SourceGeometry,
        settings: &RenderSettings,
    ) -> Result<OutputSpec, RenderError> {
        let color = color::resolve(picture, settings.dynamic_range_policy)?;
        let geometry = geometry::resolve(picture.width, picture.height, geometry, settings)?;
        Ok(OutputSpec {
            width: geometry.width,
            height: geometry.height,
            out_to_src: geometry.out_to_src,
            source_rect: geometry.source_rect,
            scale: geometry.scale,
            color,
            deinterlace: match settings.deinterlace {
                Deinterlace::Auto => picture.scan.first_field(),
                Deinterlace::Off => None,
            },
        })
    }

    /// The same picture at exactly `width`×`height`, larger or smaller,
    /// its aspect free: the output grid is stretched over the same part of
    /// the source, so the filters widen or narrow with the new scale. A
    /// composition draws a layer at the size its transform gives it this
    /// way, where `maximum_size` only ever fits and shrinks.
    pub fn resized(&self, width: u32, height: u32) -> Result<OutputSpec, RenderError> {
        let limit = geometry::MAX_DIMENSION;
        if width == 0 || height == 0 || width > limit || height > limit {
            return Err(RenderError::OutputTooLarge {
                width: f64::from(width),
                height: f64::from(height),
            });
        }
        let sx = f64::from(self.width) / f64::from(width);
        let sy = f64::from(self.height) / f64::from(height);
        let m = self.out_to_src.m;
        Ok(OutputSpec {
            width,
            height,
            out_to_src: spec::Affine2 {
                m: [[m[0][0] * sx, m[0][1] * sy], [m[1][0] * sx, m[1][1] * sy]],
                t: self.out_to_src.t,
            },
            scale: [self.scale[0] * sx, self.scale[1] * sy],
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::color::{
        ChromaLocation, ColorInfo, ColorRange, DolbyVisionConfig, HdrFormat, HdrInfo,
        TransferCharacteristic,
    };
    use crate::picture::DecodedFormat;

    fn phone_hdr_clip() -> (PictureDesc, SourceGeometry) {
        let color = ColorInfo {
            primaries: ColorPrimaries::Bt2020,
            transfer: TransferCharacteristic::Hlg,
            matrix: MatrixCoefficients::Bt2020Ncl,
            range: ColorRange::Limited,
            chroma_location: ChromaLocation::Left,
        };
        let hdr = HdrInfo {
            format: Some(HdrFormat::Hlg),
            ..HdrInfo::SDR
        };
        let picture = PictureDesc::packed(3840, 2160, DecodedFormat::P010, color, hdr).unwrap();
        let geometry = SourceGeometry {
            sample_aspect_ratio: Some(Ratio { num: 1, den: 1 }),
            clean_aperture: None,
            orientation: Some(Orientation {
                rotation: 90,
                mirror: false,
            }),
        };
        (picture, geometry)
    }

    #[test]
    fn new_combines_geometry_and_colour() {
        let settings = RenderSettings {
            maximum_size: Size::new(320, 320),
            applies_preferred_track_transform: true,
            ..RenderSettings::default()
        };
        let (picture, geometry) = phone_hdr_clip();
        let spec = OutputSpec::new(&picture, &geometry, &settings).unwrap();
        assert_eq!((spec.width, spec.height), (180, 320));
        assert_eq!(spec.scale, [12.0, 12.0]);
        // The output's top-left is the stored picture's bottom-left.
        assert_eq!(spec.out_to_src.apply([0.0, 0.0]), [0.0, 2160.0]);
        assert_eq!(spec.color.output, OutputEncoding::Srgb8);
        assert_eq!(spec.color.transfer, TransferFunction::Hlg);
        assert_eq!(
            spec.color
                .tone_map
                .map(|t| (t.source_peak, t.hlg_system_gamma)),
            Some((1000.0, 1.2))
        );
    }

    #[test]
    fn the_defaults_are_apples() {
        let s = RenderSettings::default();
        assert_eq!(s.maximum_size, Size::NATIVE);
        assert!(!s.applies_preferred_track_transform);
        assert_eq!(s.aperture_mode, ApertureMode::CleanAperture);
        assert_eq!(s.dynamic_range_policy, DynamicRangePolicy::ForceSdr);
    }

    #[test]
    fn either_half_can_refuse() {
        let (mut bad_size, geometry) = phone_hdr_clip();
        bad_size.width = 0;
        let err = OutputSpec::new(&bad_size, &geometry, &RenderSettings::default()).unwrap_err();
        assert_eq!(
            err,
            RenderError::InvalidPictureSize {
                width: 0,
                height: 2160
            }
        );
        assert_eq!(err.to_string(), "invalid picture size 0×2160");

        let (mut profile5, geometry) = phone_hdr_clip();
        profile5.hdr.dolby_vision = Some(DolbyVisionConfig {
            version_major: 1,
            version_minor: 0,
            profile: 5,
            level: 6,
            rpu_present: true,
            el_present: false,
            bl_present: true,
            bl_signal_compatibility_id: 0,
        });
        let err = OutputSpec::new(&profile5, &geometry, &RenderSettings::default()).unwrap_err();
        assert!(err.to_string().contains("Dolby Vision profile 5"), "{err}");
    }

    #[test]
    fn a_resized_spec_stretches_its_grid_over_the_same_source() {
        let (picture, geometry) = phone_hdr_clip();
        let settings = RenderSettings {
            maximum_size: Size::new(384, 0),
            ..RenderSettings::default()
        };
        let spec = OutputSpec::new(&picture, &geometry, &settings).unwrap();
        let big = spec.resized(spec.width * 2, spec.height).unwrap();
        assert_eq!((big.width, big.height), (spec.width * 2, spec.height));
        let corner = |s: &OutputSpec, x: f64, y: f64| {
            let m = s.out_to_src;
            [
                m.m[0][0] * x + m.m[0][1] * y + m.t[0],
                m.m[1][0] * x + m.m[1][1] * y + m.t[1],
            ]
        };
        let (w, h) = (f64::from(spec.width), f64::from(spec.height));
        assert_eq!(corner(&big, 2.0 * w, h), corner(&spec, w, h));
        assert_eq!(corner(&big, 0.0, 0.0), corner(&spec, 0.0, 0.0));
        assert_eq!(big.scale, [spec.scale[0] / 2.0, spec.scale[1]]);
        assert_eq!(spec.resized(spec.width, spec.height).unwrap(), spec);
        assert!(spec.resized(0, 10).is_err());
    }
}
