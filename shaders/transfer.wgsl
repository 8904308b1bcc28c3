// Transfer curves, shared by the frame pipeline's colour stage and the
// compose pass. Constants are the published ones (ST 2084, ARIB STD-B67,
// IEC 61966-2-1); `render::tone` spells the same values out.

const PQ_M1: f32 = 0.1593017578125;
const PQ_M2: f32 = 78.84375;
const PQ_C1: f32 = 0.8359375;
const PQ_C2: f32 = 18.8515625;
const PQ_C3: f32 = 18.6875;
const HLG_A: f32 = 0.17883277;
const HLG_B: f32 = 0.28466892;
const HLG_C: f32 = 0.55991073;

// PQ signal -> absolute luminance / 10000.
fn pq_eotf(e: f32) -> f32 {
    let p = pow(clamp(e, 0.0, 1.0), 1.0 / PQ_M2);
    return pow(max(p - PQ_C1, 0.0) / (PQ_C2 - PQ_C3 * p), 1.0 / PQ_M1);
}

// Absolute luminance / 10000 -> PQ signal.
fn pq_inverse_eotf(y: f32) -> f32 {
    let p = pow(clamp(y, 0.0, 1.0), PQ_M1);
    return pow((PQ_C1 + PQ_C2 * p) / (1.0 + PQ_C3 * p), PQ_M2);
}

// HLG signal -> normalised scene light.
fn hlg_inverse_oetf(e: f32) -> f32 {
    let x = clamp(e, 0.0, 1.0);
    if (x <= 0.5) {
        return x * x / 3.0;
    }
    return (exp((x - HLG_C) / HLG_A) + HLG_B) / 12.0;
}

fn srgb_oetf(l: f32) -> f32 {
    if (l <= 0.0031308) {
        return 12.92 * l;
    }
    return 1.055 * pow(l, 1.0 / 2.4) - 0.055;
}
