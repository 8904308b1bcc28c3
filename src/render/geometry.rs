//! Geometry of the image (SPEC "The image"): the encoded frame → aperture
//! (clean-aperture crop, then pixel-aspect-ratio correction) → preferred
//! transform → aspect-fit into `maximum_size`, folded into one affine map
//! from output pixels to source luma samples.
//!
//! Conventions:
//! - Coordinates are continuous with pixel centres at `i + 0.5`; a picture
//!   `w` wide spans `[0, w]`.
//! - Pixel aspect ratio `num:den` stretches the width: a `w×h` aperture is
//!   shown `w·num/den × h`. This is AVFoundation's convention (its
//!   `presentationDimensions` keep the stored height), so anamorphic sources
//!   come out the size Apple's generator makes them.
//! - The clean aperture follows ISO/IEC 14496-12 §12.1.4 and the QuickTime
//!   File Format `clap` box: its centre, in pixel indices, is
//!   `((W − 1)/2 + horizOff, (H − 1)/2 + vertOff)`, so its leftmost pixel
//!   index is `(W − cleanW)/2 + horizOff`. That is the same arithmetic as
//!   FFmpeg 7.1's `mov_read_clap` (libavformat/mov.c), which turns it into
//!   `AV_PKT_DATA_FRAME_CROPPING`; in continuous coordinates the aperture is
//!   `[(W − cleanW)/2 + horizOff, (W + cleanW)/2 + horizOff]`. Unlike FFmpeg
//!   we keep fractional apertures exact instead of truncating to whole
//!   pixels, and we refuse an aperture reaching outside the picture instead
//!   of ignoring it.
//! - Output sizes round to the nearest integer, at least 1 (SPEC decision).

use super::spec::{Affine2, Rect};
use super::{ApertureMode, RenderError, RenderSettings, Size, SourceGeometry};
use crate::asset::geometry::{CleanAperture, Orientation};
use crate::ratio::Ratio;

/// The largest picture or image side accepted (AV1's limit, well above any
/// GPU texture); beyond it the input is treated as corrupt.
pub const MAX_DIMENSION: u32 = 65536;

/// The geometric half of an [`OutputSpec`](super::OutputSpec).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    pub width: u32,
    pub height: u32,
    pub out_to_src: Affine2,
    pub source_rect: Rect,
    pub scale: [f64; 2],
}

impl Affine2 {
    pub const IDENTITY: Affine2 = Affine2 {
        m: [[1.0, 0.0], [0.0, 1.0]],
        t: [0.0, 0.0],
    };

    /// The image of point `p`.
    pub fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        [
            self.m[0][0] * p[0] + self.m[0][1] * p[1] + self.t[0],
            self.m[1][0] * p[0] + self.m[1][1] * p[1] + self.t[1],
        ]
    }

    /// `self ∘ inner`: first `inner`, then `self`.
    pub fn after(&self, inner: &Affine2) -> Affine2 {
        let a = &self.m;
        let b = &inner.m;
        Affine2 {
            m: [
                [
                    a[0][0] * b[0][0] + a[0][1] * b[1][0],
                    a[0][0] * b[0][1] + a[0][1] * b[1][1],
                ],
                [
                    a[1][0] * b[0][0] + a[1][1] * b[1][0],
                    a[1][0] * b[0][1] + a[1][1] * b[1][1],
                ],
            ],
            t: self.apply(inner.t),
        }
    }

    /// The inverse map, `None` when the matrix is singular.
    pub fn inverse(&self) -> Option<Affine2> {
        let [[a, b], [c, d]] = self.m;
        let det = a * d - b * c;
        if det == 0.0 || !det.is_finite() {
            return None;
        }
        let m = [[d / det, -b / det], [-c / det, a / det]];
        let t = [
            -(m[0][0] * self.t[0] + m[0][1] * self.t[1]),
            -(m[1][0] * self.t[0] + m[1][1] * self.t[1]),
        ];
        Some(Affine2 { m, t })
    }
}

/// Resolves size, map, aperture and filter scale for a `w`×`h` picture of a
/// track shaped by `source`.
pub fn resolve(
    w: u32,
    h: u32,
    source: &SourceGeometry,
    settings: &RenderSettings,
) -> Result<Geometry, RenderError> {
    if w == 0 || h == 0 || w > MAX_DIMENSION || h > MAX_DIMENSION {
        return Err(RenderError::InvalidPictureSize {
            width: w,
            height: h,
        });
    }

    let rect = match (settings.aperture_mode, source.clean_aperture) {
        (ApertureMode::CleanAperture, Some(clap)) => clean_aperture_rect(&clap, w, h)?,
        _ => Rect {
            x0: 0.0,
            y0: 0.0,
            x1: f64::from(w),
            y1: f64::from(h),
        },
    };
    let par = match settings.aperture_mode {
        ApertureMode::EncodedPixels => 1.0,
        _ => pixel_aspect(source.sample_aspect_ratio)?,
    };
    let orientation = if settings.applies_preferred_track_transform {
        let o = source.orientation.unwrap_or(Orientation::IDENTITY);
        if !matches!(o.rotation, 0 | 90 | 180 | 270) {
            return Err(RenderError::InvalidOrientation(o));
        }
        o
    } else {
        Orientation::IDENTITY
    };

    // The aperture as shown before the transform, then after it.
    let display = [(rect.x1 - rect.x0) * par, rect.y1 - rect.y0];
    let oriented = if orientation.swaps_axes() {
        [display[1], display[0]]
    } else {
        display
    };
    let (width, height) = fit(oriented, settings.maximum_size)?;

    let to_oriented = Affine2 {
        m: [
            [oriented[0] / f64::from(width), 0.0],
            [0.0, oriented[1] / f64::from(height)],
        ],
        t: [0.0, 0.0],
    };
    let to_display = transpose_inverse(&orient(orientation, display));
    let to_source = Affine2 {
        m: [[1.0 / par, 0.0], [0.0, 1.0]],
        t: [rect.x0, rect.y0],
    };
    let out_to_src = to_source.after(&to_display).after(&to_oriented);
    let m = out_to_src.m;
    Ok(Geometry {
        width,
        height,
        out_to_src,
        source_rect: rect,
        scale: [m[0][0].hypot(m[1][0]), m[0][1].hypot(m[1][1])],
    })
}

/// The size a player shows at native scale with the transform applied:
/// clean aperture, pixel aspect ratio, then orientation.
pub fn display_size(
    width: u32,
    height: u32,
    source: &SourceGeometry,
) -> Result<(u32, u32), RenderError> {
    let settings = RenderSettings {
        applies_preferred_track_transform: true,
        ..RenderSettings::default()
    };
    resolve(width, height, source, &settings).map(|g| (g.width, g.height))
}

/// Aspect-fits `natural` (the shown size before scaling) into `max`: never
/// upscales, a 0 side is free, sides round to the nearest integer and are at
/// least 1.
pub fn fit(natural: [f64; 2], max: Size) -> Result<(u32, u32), RenderError> {
    let mut s = 1.0_f64;
    if max.width > 0 {
        s = s.min(f64::from(max.width) / natural[0]);
    }
    if max.height > 0 {
        s = s.min(f64::from(max.height) / natural[1]);
    }
    let side = |n: f64| (n * s).round().max(1.0);
    let (w, h) = (side(natural[0]), side(natural[1]));
    let limit = f64::from(MAX_DIMENSION);
    if !(w <= limit && h <= limit) {
        return Err(RenderError::OutputTooLarge {
            width: w,
            height: h,
        });
    }
    // Both are integers in [1, MAX_DIMENSION] here, so the casts are exact.
    Ok((w as u32, h as u32))
}

/// The map from the upright-before-transform picture (`size`) to the shown
/// one: mirror left-right, then turn clockwise (y points down, so a quarter
/// turn clockwise sends `(x, y)` to `(h − y, x)`).
fn orient(o: Orientation, size: [f64; 2]) -> Affine2 {
    let [w, h] = size;
    let mirror = if o.mirror {
        Affine2 {
            m: [[-1.0, 0.0], [0.0, 1.0]],
            t: [w, 0.0],
        }
    } else {
        Affine2::IDENTITY
    };
    let turn = match o.rotation {
        90 => Affine2 {
            m: [[0.0, -1.0], [1.0, 0.0]],
            t: [h, 0.0],
        },
        180 => Affine2 {
            m: [[-1.0, 0.0], [0.0, -1.0]],
            t: [w, h],
        },
        270 => Affine2 {
            m: [[0.0, 1.0], [-1.0, 0.0]],
            t: [0.0, w],
        },
        _ => Affine2::IDENTITY,
    };
    turn.after(&mirror)
}

/// The inverse of a rotation or reflection: its matrix is orthogonal, so the
/// inverse is the transpose, exact and never singular.
fn transpose_inverse(a: &Affine2) -> Affine2 {
    let m = [[a.m[0][0], a.m[1][0]], [a.m[0][1], a.m[1][1]]];
    Affine2 {
        m,
        t: [
            -(m[0][0] * a.t[0] + m[0][1] * a.t[1]),
            -(m[1][0] * a.t[0] + m[1][1] * a.t[1]),
        ],
    }
}

/// The pixel aspect ratio as a width stretch; unknown (`None` or FFmpeg's
/// `0:1`) is square.
fn pixel_aspect(sar: Option<Ratio>) -> Result<f64, RenderError> {
    match sar {
        None => Ok(1.0),
        Some(r) if r.num == 0 && r.den != 0 => Ok(1.0),
        Some(r) if r.den == 0 || (r.num < 0) != (r.den < 0) => {
            Err(RenderError::InvalidAspectRatio(r))
        }
        Some(r) => Ok(r.to_f64()),
    }
}

/// The clean aperture as a rectangle of the `w×h` picture, checked exactly
/// (in rationals) to lie inside it.
fn clean_aperture_rect(clap: &CleanAperture, w: u32, h: u32) -> Result<Rect, RenderError> {
    let bad = || RenderError::InvalidCleanAperture(*clap);
    let x = aperture_span(clap.width, clap.horizontal_offset, w).ok_or_else(bad)?;
    let y = aperture_span(clap.height, clap.vertical_offset, h).ok_or_else(bad)?;
    Ok(Rect {
        x0: x.0,
        y0: y.0,
        x1: x.1,
        y1: y.1,
    })
}

/// Start and end of an aperture of `size` centred at `offset` from the
/// centre of `full`, or `None` when it is empty, malformed or outside
/// `[0, full]`.
///
/// With `size = a/b` and `offset = c/d` the start is
/// `(2cb + (full·b − a)·d) / 2bd` and the end adds `2ad` to the numerator;
/// i128 with overflow checks keeps the comparison exact for any i64 input.
fn aperture_span(size: Ratio, offset: Ratio, full: u32) -> Option<(f64, f64)> {
    let (a, b) = signed_parts(size)?;
    let (c, d) = signed_parts(offset)?;
    if a <= 0 {
        return None;
    }
    let full = i128::from(full);
    let denom = b.checked_mul(d)?.checked_mul(2)?;
    let start = c
        .checked_mul(b)?
        .checked_mul(2)?
        .checked_add(full.checked_mul(b)?.checked_sub(a)?.checked_mul(d)?)?;
    let end = start.checked_add(a.checked_mul(d)?.checked_mul(2)?)?;
    if start < 0 || end > full.checked_mul(denom)? {
        return None;
    }
    Some((start as f64 / denom as f64, end as f64 / denom as f64))
}

/// A fraction as numerator and positive denominator, `None` for a zero
/// denominator.
fn signed_parts(r: Ratio) -> Option<(i128, i128)> {
    match r.den {
        0 => None,
        d if d < 0 => Some((-i128::from(r.num), -i128::from(d))),
        d => Some((i128::from(r.num), i128::from(d))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ratio(num: i64, den: i64) -> Ratio {
        Ratio { num, den }
    }

    /// A picture size and the track geometry around it.
    #[derive(Debug, Clone, Copy)]
    struct Source {
        width: u32,
        height: u32,
        sample_aspect_ratio: Option<Ratio>,
        clean_aperture: Option<CleanAperture>,
        orientation: Option<Orientation>,
    }

    fn source(width: u32, height: u32) -> Source {
        Source {
            width,
            height,
            sample_aspect_ratio: None,
            clean_aperture: None,
            orientation: None,
        }
    }

    fn resolve(source: &Source, settings: &RenderSettings) -> Result<Geometry, RenderError> {
        let geometry = SourceGeometry {
            sample_aspect_ratio: source.sample_aspect_ratio,
            clean_aperture: source.clean_aperture,
            orientation: source.orientation,
        };
        super::resolve(source.width, source.height, &geometry, settings)
    }

    fn settings(max: Size, transform: bool, mode: ApertureMode) -> RenderSettings {
        RenderSettings {
            maximum_size: max,
            applies_preferred_track_transform: transform,
            aperture_mode: mode,
            ..RenderSettings::default()
        }
    }

    fn clap(w: (i64, i64), h: (i64, i64), dx: (i64, i64), dy: (i64, i64)) -> CleanAperture {
        CleanAperture {
            width: ratio(w.0, w.1),
            height: ratio(h.0, h.1),
            horizontal_offset: ratio(dx.0, dx.1),
            vertical_offset: ratio(dy.0, dy.1),
        }
    }

    fn assert_near(a: [f64; 2], b: [f64; 2]) {
        assert!(
            (a[0] - b[0]).abs() < 1e-9 && (a[1] - b[1]).abs() < 1e-9,
            "{a:?} != {b:?}"
        );
    }

    /// The source corner each output corner lands on, written out by hand
    /// for a picture 40 wide and 20 high (TL, TR, BL, BR of the output).
    #[test]
    fn every_orientation_maps_output_corners_to_the_right_source_corners() {
        let (tl, tr, bl, br) = ([0.0, 0.0], [40.0, 0.0], [0.0, 20.0], [40.0, 20.0]);
        let cases = [
            (0, false, [tl, tr, bl, br]),
            // A quarter turn clockwise: the left column becomes the top row.
            (90, false, [bl, tl, br, tr]),
            (180, false, [br, bl, tr, tl]),
            (270, false, [tr, br, tl, bl]),
            // Mirrored: the right column becomes the left one, then the turn.
            (0, true, [tr, tl, br, bl]),
            (90, true, [br, tr, bl, tl]),
            (180, true, [bl, br, tl, tr]),
            (270, true, [tl, bl, tr, br]),
        ];
        for (rotation, mirror, expected) in cases {
            let mut src = source(40, 20);
            src.orientation = Some(Orientation { rotation, mirror });
            let g = resolve(&src, &settings(Size::NATIVE, true, ApertureMode::default())).unwrap();
            let swapped = rotation % 180 == 90;
            assert_eq!(
                (g.width, g.height),
                if swapped { (20, 40) } else { (40, 20) }
            );
            let (w, h) = (f64::from(g.width), f64::from(g.height));
            let got = [[0.0, 0.0], [w, 0.0], [0.0, h], [w, h]].map(|p| g.out_to_src.apply(p));
            for (got, want) in got.iter().zip(expected) {
                assert_near(*got, want);
            }
        }
    }

    #[test]
    fn orientation_is_ignored_unless_the_transform_is_applied() {
        let mut src = source(40, 20);
        src.orientation = Some(Orientation {
            rotation: 90,
            mirror: true,
        });
        let g = resolve(
            &src,
            &settings(Size::NATIVE, false, ApertureMode::default()),
        )
        .unwrap();
        assert_eq!((g.width, g.height), (40, 20));
        assert_eq!(g.out_to_src, Affine2::IDENTITY);
    }

    #[test]
    fn an_unknown_matrix_is_shown_unrotated() {
        let g = resolve(
            &source(40, 20),
            &settings(Size::NATIVE, true, ApertureMode::default()),
        )
        .unwrap();
        assert_eq!((g.width, g.height), (40, 20));
        assert_eq!(g.out_to_src, Affine2::IDENTITY);
    }

    #[test]
    fn a_rotation_off_the_right_angles_is_refused() {
        let mut src = source(40, 20);
        let bad = Orientation {
            rotation: 45,
            mirror: false,
        };
        src.orientation = Some(bad);
        assert_eq!(
            resolve(&src, &settings(Size::NATIVE, true, ApertureMode::default())),
            Err(RenderError::InvalidOrientation(bad))
        );
    }

    #[test]
    fn pixel_centres_map_to_pixel_centres_at_native_size() {
        let g = resolve(&source(7, 5), &RenderSettings::default()).unwrap();
        assert_near(g.out_to_src.apply([0.5, 0.5]), [0.5, 0.5]);
        assert_near(g.out_to_src.apply([6.5, 4.5]), [6.5, 4.5]);
        assert_eq!(g.scale, [1.0, 1.0]);
    }

    #[test]
    fn a_centred_clean_aperture_crops_evenly() {
        // 720×480 DV-style: 704 wide, centred.
        let mut src = source(720, 480);
        src.clean_aperture = Some(clap((704, 1), (480, 1), (0, 1), (0, 1)));
        let g = resolve(&src, &RenderSettings::default()).unwrap();
        assert_eq!(
            g.source_rect,
            Rect {
                x0: 8.0,
                y0: 0.0,
                x1: 712.0,
                y1: 480.0
            }
        );
        assert_eq!((g.width, g.height), (704, 480));
        assert_near(g.out_to_src.apply([0.0, 0.0]), [8.0, 0.0]);
        assert_near(g.out_to_src.apply([704.0, 480.0]), [712.0, 480.0]);
    }

    #[test]
    fn clean_aperture_offsets_move_the_window() {
        // 100×60 picture, 50×30 aperture whose centre sits 10 right and 5
        // up of the picture's centre: x from 25 + 10, y from 15 − 5.
        let mut src = source(100, 60);
        src.clean_aperture = Some(clap((50, 1), (30, 1), (10, 1), (-5, 1)));
        let g = resolve(&src, &RenderSettings::default()).unwrap();
        assert_eq!(
            g.source_rect,
            Rect {
                x0: 35.0,
                y0: 10.0,
                x1: 85.0,
                y1: 40.0
            }
        );
        assert_eq!((g.width, g.height), (50, 30));
    }

    #[test]
    fn fractional_clean_apertures_stay_exact() {
        // 1919.5 wide, offset a quarter pixel: ISO's centre formula gives a
        // start of (1920 − 1919.5)/2 + 1/4 = 1/2.
        let mut src = source(1920, 1080);
        src.clean_aperture = Some(clap((3839, 2), (1080, 1), (1, 4), (0, 1)));
        let g = resolve(&src, &RenderSettings::default()).unwrap();
        assert_eq!(g.source_rect.x0, 0.5);
        assert_eq!(g.source_rect.x1, 1920.0);
        assert_eq!((g.width, g.height), (1920, 1080)); // 1919.5 rounds up
    }

    #[test]
    fn odd_sized_clean_apertures_on_odd_pictures() {
        let mut src = source(101, 75);
        src.clean_aperture = Some(clap((99, 1), (73, 1), (0, 1), (0, 1)));
        let g = resolve(&src, &RenderSettings::default()).unwrap();
        assert_eq!(
            g.source_rect,
            Rect {
                x0: 1.0,
                y0: 1.0,
                x1: 100.0,
                y1: 74.0
            }
        );
        assert_eq!((g.width, g.height), (99, 73));
    }

    #[test]
    fn aperture_modes_decide_crop_and_stretch() {
        let mut src = source(720, 576);
        src.sample_aspect_ratio = Some(ratio(16, 15));
        src.clean_aperture = Some(clap((702, 1), (576, 1), (0, 1), (0, 1)));
        let size = |mode| {
            let g = resolve(&src, &settings(Size::NATIVE, false, mode)).unwrap();
            (g.width, g.height, g.source_rect.x0)
        };
        // 702·16/15 = 748.8
        assert_eq!(size(ApertureMode::CleanAperture), (749, 576, 9.0));
        assert_eq!(size(ApertureMode::ProductionAperture), (768, 576, 0.0));
        assert_eq!(size(ApertureMode::EncodedPixels), (720, 576, 0.0));
    }

    #[test]
    fn pixel_aspect_ratio_stretches_the_width() {
        for ((num, den), (w, h), want) in [
            ((2, 1), (100, 50), (200, 50)),
            ((224, 225), (720, 480), (717, 480)), // 716.8
            ((1137, 800), (101, 33), (144, 33)),  // 143.546…
            ((1, 2), (99, 99), (50, 99)),         // 49.5 rounds up
            ((0, 1), (64, 48), (64, 48)),         // FFmpeg's "unknown"
        ] {
            let mut src = source(w, h);
            src.sample_aspect_ratio = Some(ratio(num, den));
            let g = resolve(&src, &RenderSettings::default()).unwrap();
            assert_eq!((g.width, g.height), want, "sar {num}:{den} on {w}×{h}");
            // The whole aperture is still sampled, edge to edge.
            let (ow, oh) = (f64::from(g.width), f64::from(g.height));
            assert_near(g.out_to_src.apply([ow, oh]), [f64::from(w), f64::from(h)]);
        }
    }

    #[test]
    fn a_stretched_and_rotated_source_uses_the_stretch_on_the_stored_axis() {
        // 2:1 pixels on a 100×50 picture: shown 200×50 before the turn,
        // 50×200 after a quarter turn.
        let mut src = source(100, 50);
        src.sample_aspect_ratio = Some(ratio(2, 1));
        src.orientation = Some(Orientation {
            rotation: 90,
            mirror: false,
        });
        let g = resolve(&src, &settings(Size::NATIVE, true, ApertureMode::default())).unwrap();
        assert_eq!((g.width, g.height), (50, 200));
        // Down the output's y axis the source advances half a pixel per row.
        assert_eq!(g.scale, [1.0, 0.5]);
    }

    #[test]
    fn invalid_aspect_ratios_are_refused() {
        for r in [ratio(1, 0), ratio(-4, 3), ratio(4, -3)] {
            let mut src = source(64, 48);
            src.sample_aspect_ratio = Some(r);
            assert_eq!(
                resolve(&src, &RenderSettings::default()),
                Err(RenderError::InvalidAspectRatio(r))
            );
        }
        // Encoded pixels never look at the ratio.
        let mut src = source(64, 48);
        src.sample_aspect_ratio = Some(ratio(1, 0));
        let g = resolve(
            &src,
            &settings(Size::NATIVE, false, ApertureMode::EncodedPixels),
        );
        assert_eq!(g.map(|g| (g.width, g.height)), Ok((64, 48)));
    }

    #[test]
    fn invalid_clean_apertures_are_refused() {
        for c in [
            clap((1921, 1), (1080, 1), (0, 1), (0, 1)), // wider than the picture
            clap((1920, 1), (1080, 1), (1, 2), (0, 1)), // pushed half a pixel out
            clap((100, 1), (100, 1), (-911, 1), (0, 1)), // off the left edge
            clap((0, 1), (1080, 1), (0, 1), (0, 1)),    // empty
            clap((-5, 1), (1080, 1), (0, 1), (0, 1)),   // negative
            clap((1920, 0), (1080, 1), (0, 1), (0, 1)), // zero denominator
            clap((1920, 1), (1080, 1), (0, 0), (0, 1)),
            clap((1, i64::MAX), (1080, 1), (0, i64::MAX), (0, 1)), // overflows i128
        ] {
            let mut src = source(1920, 1080);
            src.clean_aperture = Some(c);
            assert_eq!(
                resolve(&src, &RenderSettings::default()),
                Err(RenderError::InvalidCleanAperture(c)),
                "{c:?}"
            );
            // Without the crop the same aperture is never read.
            let g = resolve(
                &src,
                &settings(Size::NATIVE, false, ApertureMode::ProductionAperture),
            );
            assert_eq!(g.map(|g| (g.width, g.height)), Ok((1920, 1080)));
        }
        // Negative denominators are a sign, not an error.
        let mut src = source(100, 60);
        src.clean_aperture = Some(clap((-50, -1), (30, 1), (10, -1), (0, 1)));
        let g = resolve(&src, &RenderSettings::default()).unwrap();
        assert_eq!((g.source_rect.x0, g.source_rect.x1), (15.0, 65.0));
    }

    #[test]
    fn absurd_picture_sizes_are_refused() {
        for (w, h) in [(0, 10), (10, 0), (MAX_DIMENSION + 1, 10)] {
            assert_eq!(
                resolve(&source(w, h), &RenderSettings::default()),
                Err(RenderError::InvalidPictureSize {
                    width: w,
                    height: h
                })
            );
        }
        // A legal picture whose native image would be absurd.
        let mut src = source(40000, 10);
        src.sample_aspect_ratio = Some(ratio(2, 1));
        assert!(matches!(
            resolve(&src, &RenderSettings::default()),
            Err(RenderError::OutputTooLarge { .. })
        ));
        // … which is fine once bounded.
        let g = resolve(
            &src,
            &settings(Size::new(800, 0), false, ApertureMode::default()),
        );
        assert_eq!(g.map(|g| (g.width, g.height)), Ok((800, 1)));
    }

    #[test]
    fn fitting_follows_the_box() {
        let natural = [1920.0, 1080.0];
        for (max, want) in [
            (Size::NATIVE, (1920, 1080)),
            (Size::new(320, 0), (320, 180)),
            (Size::new(0, 240), (427, 240)), // 426.67
            (Size::new(320, 240), (320, 180)),
            (Size::new(1000, 100), (178, 100)), // 177.78
            (Size::new(4000, 4000), (1920, 1080)),
            (Size::new(3840, 0), (1920, 1080)),
            (Size::new(1, 1), (1, 1)),
            (Size::new(1000, 1), (2, 1)),
        ] {
            assert_eq!(fit(natural, max), Ok(want), "{max:?}");
        }
        // Rounding never produces a zero side.
        assert_eq!(fit([10000.0, 3.0], Size::new(100, 0)), Ok((100, 1)));
        assert_eq!(fit([0.4, 0.4], Size::NATIVE), Ok((1, 1)));
    }

    #[test]
    fn the_box_bounds_the_rotated_image() {
        let mut src = source(1920, 1080);
        src.orientation = Some(Orientation {
            rotation: 270,
            mirror: false,
        });
        let g = resolve(
            &src,
            &settings(Size::new(320, 320), true, ApertureMode::default()),
        )
        .unwrap();
        assert_eq!((g.width, g.height), (180, 320));
        assert_eq!(g.scale, [6.0, 6.0]);
        let g = resolve(
            &src,
            &settings(Size::new(320, 0), true, ApertureMode::default()),
        )
        .unwrap();
        assert_eq!((g.width, g.height), (320, 569)); // 568.89
    }

    #[test]
    fn scale_reports_source_pixels_per_output_pixel() {
        let g = resolve(
            &source(3840, 2160),
            &settings(Size::new(320, 0), false, ApertureMode::default()),
        )
        .unwrap();
        assert_eq!((g.width, g.height), (320, 180));
        assert_eq!(g.scale, [12.0, 12.0]);
        assert_near(g.out_to_src.apply([0.5, 0.5]), [6.0, 6.0]);
    }

    #[test]
    fn affine_helpers_compose_and_invert() {
        let a = Affine2 {
            m: [[2.0, 1.0], [0.5, 3.0]],
            t: [4.0, -1.0],
        };
        let b = Affine2 {
            m: [[0.0, -1.0], [1.0, 0.0]],
            t: [7.0, 0.0],
        };
        let p = [1.25, -3.5];
        assert_near(a.after(&b).apply(p), a.apply(b.apply(p)));
        let inv = a.inverse().unwrap();
        assert_near(inv.apply(a.apply(p)), p);
        let singular = Affine2 {
            m: [[1.0, 2.0], [2.0, 4.0]],
            t: [0.0, 0.0],
        };
        assert_eq!(singular.inverse(), None);
    }

    fn any_orientation() -> impl Strategy<Value = Orientation> {
        (0u16..4, any::<bool>()).prop_map(|(q, mirror)| Orientation {
            rotation: q * 90,
            mirror,
        })
    }

    fn any_mode() -> impl Strategy<Value = ApertureMode> {
        prop_oneof![
            Just(ApertureMode::CleanAperture),
            Just(ApertureMode::ProductionAperture),
            Just(ApertureMode::EncodedPixels),
        ]
    }

    /// A picture with a clean aperture somewhere inside it (width, height,
    /// aperture as `(size, offset)` pairs in halves of a pixel).
    fn any_picture() -> impl Strategy<Value = (u32, u32, CleanAperture)> {
        (1u32..3000, 1u32..3000).prop_flat_map(|(w, h)| {
            (
                Just(w),
                Just(h),
                1..=2 * i64::from(w),
                1..=2 * i64::from(h),
                0.0..=1.0f64,
                0.0..=1.0f64,
            )
                .prop_map(|(w, h, cw2, ch2, fx, fy)| {
                    // Offsets (in halves) that keep the aperture inside.
                    let slack_x = 2 * i64::from(w) - cw2;
                    let slack_y = 2 * i64::from(h) - ch2;
                    let off_x = (fx * 2.0 * slack_x as f64).round() as i64 - slack_x;
                    let off_y = (fy * 2.0 * slack_y as f64).round() as i64 - slack_y;
                    let c = CleanAperture {
                        width: ratio(cw2, 2),
                        height: ratio(ch2, 2),
                        horizontal_offset: ratio(off_x, 4),
                        vertical_offset: ratio(off_y, 4),
                    };
                    (w, h, c)
                })
        })
    }

    proptest! {
        #[test]
        fn the_output_rectangle_maps_inside_the_aperture(
            (w, h, c) in any_picture(),
            o in any_orientation(),
            mode in any_mode(),
            sar in (1i64..2000, 1i64..2000),
            max in (0u32..5000, 0u32..5000),
        ) {
            let mut src = source(w, h);
            src.clean_aperture = Some(c);
            src.orientation = Some(o);
            src.sample_aspect_ratio = Some(ratio(sar.0, sar.1));
            let s = settings(Size::new(max.0, max.1), true, mode);
            let g = match resolve(&src, &s) {
                Ok(g) => g,
                // Only a native-size request on an extreme ratio may fail.
                Err(RenderError::OutputTooLarge { .. }) => return Ok(()),
                Err(e) => panic!("{e}"),
            };
            let r = g.source_rect;
            prop_assert!(r.x0 >= 0.0 && r.y0 >= 0.0);
            prop_assert!(r.x1 <= f64::from(w) && r.y1 <= f64::from(h));
            prop_assert!(r.x0 < r.x1 && r.y0 < r.y1);
            let (ow, oh) = (f64::from(g.width), f64::from(g.height));
            let eps = 1e-9 * f64::from(w.max(h));
            let mut corners = Vec::new();
            for p in [[0.0, 0.0], [ow, 0.0], [0.0, oh], [ow, oh], [ow / 2.0, oh / 2.0]] {
                let q = g.out_to_src.apply(p);
                prop_assert!(q[0] >= r.x0 - eps && q[0] <= r.x1 + eps, "{q:?} outside {r:?}");
                prop_assert!(q[1] >= r.y0 - eps && q[1] <= r.y1 + eps, "{q:?} outside {r:?}");
                corners.push(q);
            }
            // The four output corners land on the four aperture corners.
            for q in &corners[..4] {
                let on_x = (q[0] - r.x0).abs() < eps || (q[0] - r.x1).abs() < eps;
                let on_y = (q[1] - r.y0).abs() < eps || (q[1] - r.y1).abs() < eps;
                prop_assert!(on_x && on_y, "{q:?} is not a corner of {r:?}");
            }
        }

        #[test]
        fn the_output_never_exceeds_the_box_nor_the_natural_size(
            (w, h, c) in any_picture(),
            o in any_orientation(),
            mode in any_mode(),
            sar in (1i64..50, 1i64..50),
            max in (0u32..5000, 0u32..5000),
        ) {
            let mut src = source(w, h);
            src.clean_aperture = Some(c);
            src.orientation = Some(o);
            src.sample_aspect_ratio = Some(ratio(sar.0, sar.1));
            let Ok(native) = resolve(&src, &settings(Size::NATIVE, true, mode)) else {
                // Too large to make at native size; the box still bounds it.
                prop_assume!(max.0 > 0 && max.1 > 0);
                let bounded = resolve(&src, &settings(Size::new(max.0, max.1), true, mode)).unwrap();
                prop_assert!(bounded.width <= max.0 && bounded.height <= max.1);
                return Ok(());
            };
            let bounded = resolve(&src, &settings(Size::new(max.0, max.1), true, mode)).unwrap();
            prop_assert!(bounded.width >= 1 && bounded.height >= 1);
            if max.0 > 0 {
                prop_assert!(bounded.width <= max.0);
            }
            if max.1 > 0 {
                prop_assert!(bounded.height <= max.1);
            }
            prop_assert!(bounded.width <= native.width && bounded.height <= native.height);
            // Downscaling never reads fewer source pixels per output pixel.
            prop_assert!(bounded.scale[0] >= native.scale[0] * (1.0 - 1e-12));
            prop_assert!(bounded.scale[1] >= native.scale[1] * (1.0 - 1e-12));
        }
    }
}
