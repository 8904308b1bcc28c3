//! The BT.2390 tone-mapping curve in the PQ domain, as the shader evaluates
//! it: its constants are resolved here, on the host, where they can be
//! tested.

use super::spec::ToneMap;

/// SMPTE ST 2084's constants (`transfer.wgsl` spells the same values out).
pub const PQ_M1: f64 = 2610.0 / 16384.0;
pub const PQ_M2: f64 = 2523.0 / 4096.0 * 128.0;
pub const PQ_C1: f64 = 3424.0 / 4096.0;
pub const PQ_C2: f64 = 2413.0 / 4096.0 * 32.0;
pub const PQ_C3: f64 = 2392.0 / 4096.0 * 32.0;

/// SMPTE ST 2084 inverse EOTF: absolute luminance (cd/m²) to signal.
pub fn pq_encode(nits: f64) -> f64 {
    let y = (nits / 10000.0).clamp(0.0, 1.0).powf(PQ_M1);
    ((PQ_C1 + PQ_C2 * y) / (1.0 + PQ_C3 * y)).powf(PQ_M2)
}

/// SMPTE ST 2084 EOTF: signal to absolute luminance (cd/m²).
pub fn pq_decode(signal: f64) -> f64 {
    let p = signal.clamp(0.0, 1.0).powf(1.0 / PQ_M2);
    10000.0 * ((p - PQ_C1).max(0.0) / (PQ_C2 - PQ_C3 * p)).powf(1.0 / PQ_M1)
}

/// Where the EETF's roll-off starts: `KS = (1 + offset)·maxLum − offset`.
/// BT.2390 writes 0.5; libplacebo (the reference the render module's tone
/// mapping parameters follow) defaults to 1.0, a longer, gentler shoulder
/// that keeps more highlight detail when 1000 cd/m² meets a 203 cd/m² white.
pub const KNEE_OFFSET: f64 = 1.0;

/// Contrast of the SDR display tone mapping aims at (BT.1886's usual
/// 1000:1, libplacebo's `PL_COLOR_SDR_CONTRAST`). Its black is where the
/// EETF's black-level lift puts the source black, so shadow detail stays
/// above the display's black instead of being crushed into it.
pub const SDR_CONTRAST: f64 = 1000.0;

/// The BT.2390 EETF constants in the PQ domain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eetf {
    pub black_pq: f64,
    pub peak_pq: f64,
    /// Knee start `KS` (see [`KNEE_OFFSET`]); at or above 1 the curve is
    /// the identity (the target holds the whole source range).
    pub knee: f64,
    /// Target peak, normalised to the source range.
    pub max_lum: f64,
    /// Target black, normalised to the source range (0 when the source is
    /// darker than the target can show anyway).
    pub min_lum: f64,
    /// Target black in cd/m².
    pub target_black: f64,
}

/// Tone-mapping parameters no curve can be built from: a non-finite or
/// negative luminance, or an empty source range.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("tone map parameters are out of range: {0:?}")]
pub struct InvalidToneMap(pub ToneMap);

impl Eetf {
    pub fn new(tm: &ToneMap) -> Result<Eetf, InvalidToneMap> {
        let valid = [
            tm.source_peak,
            tm.source_black,
            tm.target_peak,
            tm.hlg_system_gamma,
        ]
        .iter()
        .all(|v| v.is_finite())
            && tm.source_black >= 0.0
            && tm.source_peak > tm.source_black
            && tm.target_peak > 0.0
            && tm.hlg_system_gamma > 0.0;
        let black_pq = pq_encode(tm.source_black);
        let peak_pq = pq_encode(tm.source_peak);
        if !valid || peak_pq - black_pq < 1e-6 {
            return Err(InvalidToneMap(*tm));
        }
        let normalise = |nits: f64| (pq_encode(nits) - black_pq) / (peak_pq - black_pq);
        let target_black = tm.target_peak / SDR_CONTRAST;
        let max_lum = normalise(tm.target_peak);
        Ok(Eetf {
            black_pq,
            peak_pq,
            knee: (1.0 + KNEE_OFFSET) * max_lum - KNEE_OFFSET,
            max_lum,
            min_lum: normalise(target_black).max(0.0),
            target_black,
        })
    }

    /// The curve on a normalised PQ value `e1` in `[0, 1]`, as the shader
    /// evaluates it (kept here so tests can pin its shape): the Hermite
    /// roll-off above the knee, then the black-level lift.
    pub fn apply_normalised(&self, e1: f64) -> f64 {
        let e2 = if e1 <= self.knee || self.knee >= 1.0 {
            e1
        } else {
            let t = (e1 - self.knee) / (1.0 - self.knee);
            let (t2, t3) = (t * t, t * t * t);
            (2.0 * t3 - 3.0 * t2 + 1.0) * self.knee
                + (t3 - 2.0 * t2 + t) * (1.0 - self.knee)
                + (-2.0 * t3 + 3.0 * t2) * self.max_lum
        };
        e2 + self.min_lum * (1.0 - e2).max(0.0).powi(4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::color::HdrFormat;

    #[test]
    fn pq_matches_st2084_anchor_points() {
        assert!((pq_encode(10000.0) - 1.0).abs() < 1e-12);
        assert!(pq_encode(0.0).abs() < 1e-6);
        // 100 cd/m² → 0.5081, 1000 cd/m² → 0.7518 (BT.2100 tables).
        assert!((pq_encode(100.0) - 0.5081).abs() < 1e-4);
        assert!((pq_encode(1000.0) - 0.7518).abs() < 1e-4);
    }

    #[test]
    fn eetf_rolls_off_above_the_knee_and_lifts_the_source_black() {
        let tm = ToneMap {
            format: HdrFormat::Pq,
            source_peak: 1000.0,
            source_black: 0.005,
            target_peak: 203.0,
            hlg_system_gamma: 1.2,
        };
        let curve = Eetf::new(&tm).unwrap();
        assert!(curve.knee > 0.0 && curve.knee < 1.0);
        assert!((curve.target_black - 0.203).abs() < 1e-12);
        assert!(curve.min_lum > 0.0 && curve.min_lum < 0.1);
        // The source black lands on the target black, the source peak on the
        // target peak (plus a lift of minLum·(1 − maxLum)⁴, far below a code).
        assert!((curve.apply_normalised(0.0) - curve.min_lum).abs() < 1e-12);
        let top = curve.apply_normalised(1.0) - curve.max_lum;
        assert!((0.0..1e-3).contains(&top), "{top}");
        // Below the knee only the lift, which fades towards the knee.
        let mid = curve.knee * 0.5;
        let lift = curve.apply_normalised(mid) - mid;
        assert!(lift > 0.0 && lift < curve.min_lum);
        let mut last = 0.0;
        for i in 0..=100 {
            let v = curve.apply_normalised(f64::from(i) / 100.0);
            assert!(v > last, "monotonic at {i}");
            last = v;
        }
        // A target brighter than the source needs no roll-off.
        let bright = Eetf::new(&ToneMap {
            target_peak: 2000.0,
            ..tm
        })
        .unwrap();
        assert!(bright.knee >= 1.0);
        assert!(Eetf::new(&ToneMap {
            source_peak: 0.0,
            ..tm
        })
        .is_err());
    }
}
