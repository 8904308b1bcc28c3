// The frame pipeline's colour stage: linearisation, the BT.2390 EETF,
// gamut mapping, output encoding, on the curves of `transfer.wgsl`; the
// structure follows BT.2390 / BT.2100.

// Non-linear R'G'B' -> linear light relative to SDR white (1.0).
fn linearize(rgb: vec3<f32>) -> vec3<f32> {
    let transfer = TRANSFER;
    let white = params.tone2.z;
    if (transfer == TRANSFER_PQ) {
        let nits = vec3<f32>(pq_eotf(rgb.r), pq_eotf(rgb.g), pq_eotf(rgb.b)) * 10000.0;
        return nits / white;
    }
    if (transfer == TRANSFER_HLG) {
        // BT.2100 OOTF: display light = peak * Ys^(gamma - 1) * scene light.
        let scene = vec3<f32>(hlg_inverse_oetf(rgb.r), hlg_inverse_oetf(rgb.g), hlg_inverse_oetf(rgb.b));
        let ys = max(dot(params.luma_src.xyz, scene), 0.0);
        let gain = params.hlg.y * pow(max(ys, 1e-6), params.hlg.x - 1.0);
        return scene * gain / white;
    }
    // SDR: BT.1886 with a zero black level.
    let c = max(rgb, vec3<f32>(0.0));
    return pow(c, vec3<f32>(2.4));
}

// BT.2390 EETF of one luminance in cd/m2, in the PQ domain: Hermite
// roll-off above the knee, then the black-level lift that puts the source
// black on the target display's black.
fn eetf(nits: f32) -> f32 {
    let black = params.tone.x;
    let peak = params.tone.y;
    let knee = params.tone.z;
    let max_lum = params.tone.w;
    let min_lum = params.tone2.x;
    let e = pq_inverse_eotf(nits / 10000.0);
    let e1 = clamp((e - black) / (peak - black), 0.0, 1.0);
    var e2 = e1;
    if (knee < 1.0 && e1 > knee) {
        let t = (e1 - knee) / (1.0 - knee);
        let t2 = t * t;
        let t3 = t2 * t;
        e2 = (2.0 * t3 - 3.0 * t2 + 1.0) * knee + (t3 - 2.0 * t2 + t) * (1.0 - knee)
            + (-2.0 * t3 + 3.0 * t2) * max_lum;
    }
    let rest = max(1.0 - e2, 0.0);
    let e3 = e2 + min_lum * rest * rest * rest * rest;
    let e4 = e3 * (peak - black) + black;
    return pq_eotf(e4) * 10000.0;
}

// Tone map by the largest component: every channel is scaled by the same
// factor, so hue and saturation ratios survive and no channel passes the
// target peak. The target display's black..white becomes signal 0..1.
// Components below zero (colours outside the output gamut) scale along and
// are left to the clip.
fn tone_map(lin: vec3<f32>) -> vec3<f32> {
    let target_black = params.tone2.y;
    let white = params.tone2.z;
    let m = max(max(lin.r, lin.g), lin.b);
    if (m <= 0.0) {
        return vec3<f32>(0.0);
    }
    let mapped = (eetf(m * white) - target_black) / (white - target_black);
    return lin * (max(mapped, 0.0) / m);
}

fn apply_gamut(lin: vec3<f32>) -> vec3<f32> {
    return vec3<f32>(
        dot(params.gamut[0].xyz, lin),
        dot(params.gamut[1].xyz, lin),
        dot(params.gamut[2].xyz, lin),
    );
}

// Brings a linear colour into [0, 1] without turning its hue. A colour
// outside the output gamut moves in a straight line towards the grey of the
// same luminance, just far enough to fit: that keeps its dominant
// wavelength and luminance. Clipping channels one by one instead turns
// saturated colours towards the output's primaries and secondaries (a
// wide-gamut orange to yellow, an azure to cyan); measured with CAM16, the
// straight line keeps hue better on average and never errs far, where a
// perceptual-space search (Oklab) goes badly wrong on near-spectral blues.
// Excursions below 1% of the luminance are rounding and filter ringing,
// not colour: they are clipped, with a smooth hand-over up to 5%, so no
// faint coloured fringes appear in the dark end of sRGB.
fn clip_preserving_hue(c: vec3<f32>) -> vec3<f32> {
    let clipped = clamp(c, vec3<f32>(0.0), vec3<f32>(1.0));
    let y = clamp(dot(params.luma_out.xyz, c), 0.0, 1.0);
    let excursion = max(-min(min(c.r, c.g), c.b), max(max(c.r, c.g), c.b) - 1.0);
    let w = smoothstep(0.01, 0.05, excursion / max(y, 1e-4));
    var t = 1.0;
    for (var k = 0; k < 3; k = k + 1) {
        let v = c[k];
        if (v > 1.0) {
            t = min(t, (1.0 - y) / (v - y));
        } else if (v < 0.0) {
            t = min(t, y / (y - v));
        }
    }
    let desaturated = clamp(vec3<f32>(y) + t * (c - vec3<f32>(y)), vec3<f32>(0.0), vec3<f32>(1.0));
    return mix(clipped, desaturated, w);
}

// R'G'B' of the source -> output signal in [0, 1]. Tone-mapped HDR is
// encoded with the sRGB curve the output is tagged with (as libplacebo does
// for an sRGB target).
fn to_output(rgb: vec3<f32>) -> vec3<f32> {
    let flags = FLAGS;
    if ((flags & FLAG_PASSTHROUGH) != 0u) {
        return clamp(rgb, vec3<f32>(0.0), vec3<f32>(1.0));
    }
    var lin = linearize(rgb);
    // Gamut first, then the tone curve on the output's own channels: the
    // largest output channel then lands at or below white, so an in-gamut
    // colour keeps its saturation instead of overshooting after the matrix
    // and being desaturated by the clip.
    if ((flags & FLAG_GAMUT) != 0u) {
        lin = apply_gamut(lin);
    }
    if ((flags & FLAG_TONE_MAP) != 0u) {
        lin = tone_map(lin);
    }
    lin = clip_preserving_hue(lin);
    if (TRANSFER == TRANSFER_SDR) {
        // An SDR source that only changes primaries is re-encoded with the
        // inverse of the BT.1886 curve it was linearised with: its tone
        // curve stays exactly as on the passthrough path (the stored R'G'B'
        // shown as sRGB, as FFmpeg and every player do), and only the
        // gamut moves.
        return pow(lin, vec3<f32>(1.0 / 2.4));
    }
    return vec3<f32>(srgb_oetf(lin.r), srgb_oetf(lin.g), srgb_oetf(lin.b));
}
