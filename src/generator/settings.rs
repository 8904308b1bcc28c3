//! The generator's settings (AVAssetImageGenerator's properties), validated
//! when set and snapshotted by every request.

use crate::decode::BackendPreference;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::render::{ApertureMode, Deinterlace, DynamicRangePolicy, RenderSettings, Size};
use crate::time::Time;

/// Everything that shapes one request's image. Defaults are Apple's:
/// native size, infinite tolerances, `ForceSdr`, no track transform, clean
/// aperture, and the best available backend; interlaced pictures are
/// deinterlaced, as a player shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorSettings {
    pub(crate) maximum_size: Size,
    pub(crate) tolerance_before: Time,
    pub(crate) tolerance_after: Time,
    pub(crate) dynamic_range_policy: DynamicRangePolicy,
    pub(crate) applies_preferred_track_transform: bool,
    pub(crate) aperture_mode: ApertureMode,
    pub(crate) backend: BackendPreference,
    pub(crate) max_output_pixels: u64,
    pub(crate) track: Option<usize>,
    pub(crate) max_request_bytes: u64,
    pub(crate) deinterlace: Deinterlace,
}

impl Default for GeneratorSettings {
    fn default() -> Self {
        GeneratorSettings {
            maximum_size: Size::NATIVE,
            tolerance_before: Time::POSITIVE_INFINITY,
            tolerance_after: Time::POSITIVE_INFINITY,
            dynamic_range_policy: DynamicRangePolicy::ForceSdr,
            applies_preferred_track_transform: false,
            aperture_mode: ApertureMode::CleanAperture,
            backend: BackendPreference::Auto,
            max_output_pixels: Limits::default().max_output_pixels,
            track: None,
            max_request_bytes: Limits::default().max_request_bytes,
            deinterlace: Deinterlace::Auto,
        }
    }
}

impl GeneratorSettings {
    pub fn maximum_size(&self) -> Size {
        self.maximum_size
    }

    /// The box the final (rotated) image is aspect-fitted into, never
    /// upscaled; a 0 side is free, `0×0` is the native size.
    pub fn set_maximum_size(&mut self, size: Size) {
        self.maximum_size = size;
    }

    pub fn tolerance_before(&self) -> Time {
        self.tolerance_before
    }

    pub fn tolerance_after(&self) -> Time {
        self.tolerance_after
    }

    /// How far before the requested time the image's actual time may lie.
    /// Must be zero, positive or +∞.
    pub fn set_tolerance_before(&mut self, t: Time) -> Result<()> {
        self.tolerance_before = check_tolerance("before", t)?;
        Ok(())
    }

    /// How far after the requested time the image's actual time may lie.
    pub fn set_tolerance_after(&mut self, t: Time) -> Result<()> {
        self.tolerance_after = check_tolerance("after", t)?;
        Ok(())
    }

    /// Both tolerances zero: the exact frame displayed at each time.
    pub fn set_exact(&mut self) {
        self.tolerance_before = Time::ZERO;
        self.tolerance_after = Time::ZERO;
    }

    pub fn dynamic_range_policy(&self) -> DynamicRangePolicy {
        self.dynamic_range_policy
    }

    pub fn set_dynamic_range_policy(&mut self, p: DynamicRangePolicy) {
        self.dynamic_range_policy = p;
    }

    pub fn applies_preferred_track_transform(&self) -> bool {
        self.applies_preferred_track_transform
    }

    pub fn set_applies_preferred_track_transform(&mut self, on: bool) {
        self.applies_preferred_track_transform = on;
    }

    pub fn aperture_mode(&self) -> ApertureMode {
        self.aperture_mode
    }

    pub fn set_aperture_mode(&mut self, m: ApertureMode) {
        self.aperture_mode = m;
    }

    pub fn backend(&self) -> BackendPreference {
        self.backend
    }

    pub fn set_backend(&mut self, b: BackendPreference) {
        self.backend = b;
    }

    pub fn max_output_pixels(&self) -> u64 {
        self.max_output_pixels
    }

    /// The most pixels (width × height) an image may have; a request whose
    /// image would be larger fails with [`Error::LimitExceeded`] before it
    /// is rendered. Defaults to [`Limits::default`]'s.
    pub fn set_max_output_pixels(&mut self, pixels: u64) {
        self.max_output_pixels = pixels;
    }

    pub fn track(&self) -> Option<usize> {
        self.track
    }

    /// The video track images are taken from, by stream index (as
    /// `stills probe` lists them); `None` (the default) takes the asset's
    /// default video track. A file with several video tracks is, in
    /// Apple's terms, a composition of one asset whose other tracks this
    /// reaches without one. A stream that is not one of the asset's video
    /// tracks fails each request with [`Error::NoSuchTrack`];
    /// [`Asset::image_track`](crate::Asset::image_track) checks it up front.
    pub fn set_track(&mut self, stream: Option<usize>) {
        self.track = stream;
    }

    pub fn max_request_bytes(&self) -> u64 {
        self.max_request_bytes
    }

    /// The most memory one request may hold while its image is made (see
    /// [`Limits::max_request_bytes`]): a request that would need more fails
    /// with [`Error::LimitExceeded`] before its GPU buffers are made.
    pub fn set_max_request_bytes(&mut self, bytes: u64) {
        self.max_request_bytes = bytes;
    }

    pub fn deinterlace(&self) -> Deinterlace {
        self.deinterlace
    }

    /// Whether pictures the decoder reports as interlaced are deinterlaced
    /// (`Auto`, the default) or woven as stored (`Off`).
    pub fn set_deinterlace(&mut self, d: Deinterlace) {
        self.deinterlace = d;
    }

    pub(crate) fn render(&self) -> RenderSettings {
        RenderSettings {
            maximum_size: self.maximum_size,
            applies_preferred_track_transform: self.applies_preferred_track_transform,
            aperture_mode: self.aperture_mode,
            dynamic_range_policy: self.dynamic_range_policy,
            deinterlace: self.deinterlace,
        }
    }
}

fn check_tolerance(which: &str, t: Time) -> Result<Time> {
    if t.is_positive_infinity() || (t.is_numeric() && t >= Time::ZERO) {
        Ok(t)
    } else {
        Err(Error::InvalidTime(format!(
            "tolerance {which} must be zero, positive or +infinity, not {t:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_apples() {
        let s = GeneratorSettings::default();
        assert!(s.tolerance_before().is_positive_infinity());
        assert!(s.tolerance_after().is_positive_infinity());
        assert_eq!(s.maximum_size(), Size::NATIVE);
        assert!(!s.applies_preferred_track_transform());
        assert_eq!(s.aperture_mode(), ApertureMode::CleanAperture);
        assert_eq!(s.dynamic_range_policy(), DynamicRangePolicy::ForceSdr);
        assert_eq!(s.deinterlace(), Deinterlace::Auto);
    }

    #[test]
    fn bad_tolerances_are_refused_and_leave_the_setting_alone() {
        let mut s = GeneratorSettings::default();
        for bad in [
            Time::new(-1, 10),
            Time::INVALID,
            Time::INDEFINITE,
            Time::NEGATIVE_INFINITY,
            Time::from_seconds(f64::NAN, 600),
        ] {
            assert!(matches!(
                s.set_tolerance_before(bad),
                Err(Error::InvalidTime(_))
            ));
            assert!(matches!(
                s.set_tolerance_after(bad),
                Err(Error::InvalidTime(_))
            ));
        }
        assert!(s.tolerance_before().is_positive_infinity());
        s.set_tolerance_before(Time::new(1, 2)).unwrap();
        assert_eq!(s.tolerance_before(), Time::new(1, 2));
        s.set_exact();
        assert_eq!(
            (s.tolerance_before(), s.tolerance_after()),
            (Time::ZERO, Time::ZERO)
        );
    }
}
