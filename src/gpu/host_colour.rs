//! The colour stage of `color.wgsl` and `resample_secondary` for the CPU
//! renderer, function for function on the plan's uniforms: YUV → R'G'B',
//! linearisation, gamut, the BT.2390 tone curve, the hue-preserving clip
//! and the output encoding. The transfer curves that cost most per pixel
//! are read from tables built once in `f64`.

use crate::render::tone;

use super::params::{
    Params, FLAG_GAMUT, FLAG_PASSTHROUGH, FLAG_TONE_MAP, TRANSFER_HLG, TRANSFER_PQ, TRANSFER_SDR,
};

const PQ_M1: f32 = tone::PQ_M1 as f32;
const PQ_M2: f32 = tone::PQ_M2 as f32;
const PQ_C1: f32 = tone::PQ_C1 as f32;
const PQ_C2: f32 = tone::PQ_C2 as f32;
const PQ_C3: f32 = tone::PQ_C3 as f32;
const HLG_A: f32 = 0.178_832_77;
const HLG_B: f32 = 0.284_668_92;
const HLG_C: f32 = 0.559_910_7;

/// The colour stage of `color.wgsl` and `resample_secondary`, function for
/// function, on the plan's uniforms.
pub(super) struct Colour {
    p: Params,
    transfer: u32,
    flags: u32,
}

impl Colour {
    pub(super) fn new(p: &Params, transfer: u32, flags: u32) -> Colour {
        Colour {
            p: *p,
            transfer,
            flags,
        }
    }

    pub(super) fn yuv_to_rgb(&self, c: [f32; 3]) -> [f32; 3] {
        self.p
            .yuv
            .map(|row| row[0] * c[0] + row[1] * c[1] + row[2] * c[2] + row[3])
    }

    fn linearize(&self, rgb: [f32; 3]) -> [f32; 3] {
        let white = self.p.tone2[2];
        match self.transfer {
            TRANSFER_PQ => rgb.map(|v| pq_eotf(v) * 10000.0 / white),
            TRANSFER_HLG => {
                let scene = rgb.map(hlg_inverse_oetf);
                let l = self.p.luma_src;
                let ys = (l[0] * scene[0] + l[1] * scene[1] + l[2] * scene[2]).max(0.0);
                let gain = self.p.hlg[1] * ys.max(1e-6).powf(self.p.hlg[0] - 1.0);
                scene.map(|v| v * gain / white)
            }
            _ => rgb.map(bt1886_eotf),
        }
    }

    fn eetf(&self, nits: f32) -> f32 {
        let [black, peak, knee, max_lum] = self.p.tone;
        let min_lum = self.p.tone2[0];
        let e = pq_inverse_eotf(nits / 10000.0);
        let e1 = ((e - black) / (peak - black)).clamp(0.0, 1.0);
        let mut e2 = e1;
        if knee < 1.0 && e1 > knee {
            let t = (e1 - knee) / (1.0 - knee);
            let t2 = t * t;
            let t3 = t2 * t;
            e2 = (2.0 * t3 - 3.0 * t2 + 1.0) * knee
                + (t3 - 2.0 * t2 + t) * (1.0 - knee)
                + (-2.0 * t3 + 3.0 * t2) * max_lum;
        }
        let rest = (1.0 - e2).max(0.0);
        let e3 = e2 + min_lum * rest * rest * rest * rest;
        let e4 = e3 * (peak - black) + black;
        pq_eotf(e4) * 10000.0
    }

    fn tone_map(&self, lin: [f32; 3]) -> [f32; 3] {
        let target_black = self.p.tone2[1];
        let white = self.p.tone2[2];
        let m = lin[0].max(lin[1]).max(lin[2]);
        if m <= 0.0 {
            return [0.0; 3];
        }
        let mapped = (self.eetf(m * white) - target_black) / (white - target_black);
        lin.map(|v| v * (mapped.max(0.0) / m))
    }

    fn apply_gamut(&self, lin: [f32; 3]) -> [f32; 3] {
        self.p
            .gamut
            .map(|row| row[0] * lin[0] + row[1] * lin[1] + row[2] * lin[2])
    }

    fn clip_preserving_hue(&self, c: [f32; 3]) -> [f32; 3] {
        let clipped = c.map(|v| v.clamp(0.0, 1.0));
        let l = self.p.luma_out;
        let y = (l[0] * c[0] + l[1] * c[1] + l[2] * c[2]).clamp(0.0, 1.0);
        let excursion = (-c[0].min(c[1]).min(c[2])).max(c[0].max(c[1]).max(c[2]) - 1.0);
        let w = smoothstep(0.01, 0.05, excursion / y.max(1e-4));
        let mut t = 1.0f32;
        for v in c {
            if v > 1.0 {
                t = t.min((1.0 - y) / (v - y));
            } else if v < 0.0 {
                t = t.min(y / (y - v));
            }
        }
        std::array::from_fn(|k| {
            let desaturated = (y + t * (c[k] - y)).clamp(0.0, 1.0);
            clipped[k] + (desaturated - clipped[k]) * w
        })
    }

    pub(super) fn to_output(&self, rgb: [f32; 3]) -> [f32; 3] {
        if self.flags & FLAG_PASSTHROUGH != 0 {
            return rgb.map(|v| v.clamp(0.0, 1.0));
        }
        let mut lin = self.linearize(rgb);
        if self.flags & FLAG_GAMUT != 0 {
            lin = self.apply_gamut(lin);
        }
        if self.flags & FLAG_TONE_MAP != 0 {
            lin = self.tone_map(lin);
        }
        lin = self.clip_preserving_hue(lin);
        if self.transfer == TRANSFER_SDR {
            return lin.map(|v| v.powf(1.0 / 2.4));
        }
        lin.map(srgb_oetf)
    }
}

/// Intervals of a [`Curve`] table.
const CURVE_STEPS: usize = 4096;

/// A smooth function on `[lo, hi]`, tabulated (in `f64`) at
/// [`CURVE_STEPS`] intervals and read with linear interpolation. A
/// tone-mapped pixel evaluates eleven powers through these curves, which
/// at libm's speed made the colour stage of a 4K picture most of its
/// cost. The curves tabulated are smooth on their range (bounded second
/// derivative there), so the interpolation stays within about 1e-6 of
/// white: a thousandth of an 8-bit code.
struct Curve {
    lo: f32,
    scale: f32,
    values: Box<[f32]>,
}

impl Curve {
    fn new(lo: f64, hi: f64, f: impl Fn(f64) -> f64) -> Curve {
        let step = (hi - lo) / CURVE_STEPS as f64;
        Curve {
            lo: lo as f32,
            scale: (1.0 / step) as f32,
            values: (0..=CURVE_STEPS)
                .map(|k| f(lo + k as f64 * step) as f32)
                .collect(),
        }
    }

    /// The function at `x`, clamped to the table's range.
    fn at(&self, x: f32) -> f32 {
        let t = ((x - self.lo) * self.scale).clamp(0.0, CURVE_STEPS as f32);
        let i = (t as usize).min(CURVE_STEPS - 1);
        let (a, b) = (self.values[i], self.values[i + 1]);
        a + (b - a) * (t - i as f32)
    }
}

/// The PQ EOTF on [0, 1], the BT.1886 curve on [0, 1], and the sRGB
/// OETF's power segment (of the square root of its input).
fn curves() -> &'static [Curve; 3] {
    static CURVES: std::sync::OnceLock<[Curve; 3]> = std::sync::OnceLock::new();
    CURVES.get_or_init(|| {
        [
            Curve::new(0.0, 1.0, |e| tone::pq_decode(e) / 10000.0),
            Curve::new(0.0, 1.0, |v| v.powf(2.4)),
            // Over √l, where the power segment's steep start is smooth.
            Curve::new(SRGB_LINEAR_END.sqrt(), 1.0, |s| {
                1.055 * (s * s).powf(1.0 / 2.4) - 0.055
            }),
        ]
    })
}

/// Where the sRGB OETF's linear segment ends.
const SRGB_LINEAR_END: f64 = 0.003_130_8;

fn pq_eotf(e: f32) -> f32 {
    curves()[0].at(e.clamp(0.0, 1.0))
}

/// BT.1886 with a zero black level: tabulated over the signal range, the
/// rare excursion past white (filter overshoot) evaluated.
fn bt1886_eotf(v: f32) -> f32 {
    let v = v.max(0.0);
    if v <= 1.0 {
        curves()[1].at(v)
    } else {
        v.powf(2.4)
    }
}

fn pq_inverse_eotf(y: f32) -> f32 {
    let p = y.clamp(0.0, 1.0).powf(PQ_M1);
    ((PQ_C1 + PQ_C2 * p) / (1.0 + PQ_C3 * p)).powf(PQ_M2)
}

fn hlg_inverse_oetf(e: f32) -> f32 {
    let x = e.clamp(0.0, 1.0);
    if x <= 0.5 {
        x * x / 3.0
    } else {
        (((x - HLG_C) / HLG_A).exp() + HLG_B) / 12.0
    }
}

fn srgb_oetf(l: f32) -> f32 {
    if l <= SRGB_LINEAR_END as f32 {
        12.92 * l
    } else if l <= 1.0 {
        curves()[2].at(l.sqrt())
    } else {
        1.055 * l.powf(1.0 / 2.4) - 0.055
    }
}

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tabulated_curves_follow_the_formulas() {
        let pq = |e: f32| {
            let p = e.powf(1.0 / PQ_M2);
            ((p - PQ_C1).max(0.0) / (PQ_C2 - PQ_C3 * p)).powf(1.0 / PQ_M1)
        };
        for k in 0..=1000 {
            let x = k as f32 / 1000.0;
            assert!(
                (pq_eotf(x) - pq(x)).abs() <= 2e-6 + pq(x) * 1e-4,
                "PQ at {x}"
            );
            assert!(
                (bt1886_eotf(x) - x.powf(2.4)).abs() <= 1e-6,
                "BT.1886 at {x}"
            );
            let l = x.max(0.0031308);
            let srgb = 1.055 * l.powf(1.0 / 2.4) - 0.055;
            assert!((srgb_oetf(l) - srgb).abs() <= 1e-6, "sRGB at {l}");
        }
        assert_eq!(bt1886_eotf(-0.5), 0.0);
        assert!((bt1886_eotf(1.1) - 1.1f32.powf(2.4)).abs() < 1e-6);
    }

    #[test]
    fn pq_curves_invert_each_other() {
        for nits in [0.01f32, 1.0, 100.0, 203.0, 1000.0, 10000.0] {
            let back = pq_eotf(pq_inverse_eotf(nits / 10000.0)) * 10000.0;
            assert!((back - nits).abs() <= nits * 1e-3, "{nits} -> {back}");
        }
    }

    #[test]
    fn the_hue_preserving_clip_keeps_in_gamut_colours() {
        let p = Params {
            luma_out: [0.2126, 0.7152, 0.0722, 0.0],
            ..bytemuck::Zeroable::zeroed()
        };
        let colour = Colour::new(&p, TRANSFER_SDR, 0);
        assert_eq!(colour.clip_preserving_hue([0.2, 0.5, 0.9]), [0.2, 0.5, 0.9]);
        let out = colour.clip_preserving_hue([1.5, 0.2, 0.1]);
        assert!(out.iter().all(|v| (0.0..=1.0).contains(v)), "{out:?}");
        assert!(
            out[0] > out[1] && out[1] > out[2],
            "hue order kept: {out:?}"
        );
    }
}
