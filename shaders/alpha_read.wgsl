// The alpha of texels, for the pass-1 variants that read it (ALPHA or
// PREMULTIPLY); every other variant is made from a module with
// alpha_none.wgsl in its place.

// The alpha of texels k..k+3 of a line of the grid this variant reads.
fn quad_alpha(l: Lines, k: i32, line: i32) -> vec4<f32> {
    return vec4<f32>(
        alpha_at(texel_at(l, k, line)),
        alpha_at(texel_at(l, k + 1, line)),
        alpha_at(texel_at(l, k + 2, line)),
        alpha_at(texel_at(l, k + 3, line)),
    );
}

// The alpha of a texel of the grid this variant reads, as an integer.
fn alpha_at(coord: vec2<i32>) -> f32 {
    if (ALPHA && ALPHA_GRID == 1u) {
        return texel_alpha12(coord);
    }
    return fetch_alpha(coord);
}

// The alpha of a texel of the colour planes' grid, as an integer: the mean
// of the luma-grid alpha samples it covers (one for 4:4:4, four for 4:2:0).
fn texel_alpha12(coord: vec2<i32>) -> f32 {
    let sub = vec2<i32>(params.grid[1].sub_off.xy);
    let last = params.grid[0].size_lo.xy - vec2<i32>(1);
    var sum = 0.0;
    for (var dy = 0; dy < sub.y; dy++) {
        for (var dx = 0; dx < sub.x; dx++) {
            sum += fetch_alpha(min(coord * sub + vec2<i32>(dx, dy), last));
        }
    }
    return sum / f32(sub.x * sub.y);
}

// Components 1 and 2 of a subsampled texel premultiplied at luma
// resolution: the texel times the mean alpha of the luma samples it covers,
// plus how their alpha varies with the chroma interpolated (bilinearly) at
// each: the mean of alpha times chroma over the luma samples, with the
// texel's own chroma in place of the interpolations' mean, so that where
// alpha is even the texel is unchanged (no blur). At an edge, the opaque
// side takes the chroma of its opaque neighbours as well, as premultiplying
// the RGB picture does, instead of keeping at full weight the colour an
// encoder's subsampling mixed in from the transparent side (a keyed
// background's green). Pass 2 divides by the mean alpha (`texel_alpha12`).
fn texel12_premultiplied_per_luma(coord: vec2<i32>) -> vec2<f32> {
    let g = params.grid[1];
    let sub = vec2<i32>(g.sub_off.xy);
    let last_luma = params.grid[0].size_lo.xy - vec2<i32>(1);
    let last = g.size_lo.xy - vec2<i32>(1);
    let n = f32(sub.x * sub.y);
    let mean_alpha = texel_alpha12(coord);
    var spread = vec2<f32>(0.0);
    for (var dy = 0; dy < sub.y; dy++) {
        for (var dx = 0; dx < sub.x; dx++) {
            let p = min(coord * sub + vec2<i32>(dx, dy), last_luma);
            let at = (vec2<f32>(p) - g.sub_off.zw) / g.sub_off.xy;
            let base = floor(at);
            let f = at - base;
            let c = vec2<i32>(base);
            let c00 = fetch12(clamp(c, vec2<i32>(0), last));
            let c10 = fetch12(clamp(c + vec2<i32>(1, 0), vec2<i32>(0), last));
            let c01 = fetch12(clamp(c + vec2<i32>(0, 1), vec2<i32>(0), last));
            let c11 = fetch12(clamp(c + vec2<i32>(1, 1), vec2<i32>(0), last));
            let chroma = mix(mix(c00, c10, f.x), mix(c01, c11, f.x), f.y);
            spread += (fetch_alpha(p) - mean_alpha) * chroma;
        }
    }
    let own = (fetch12(coord) - params.sample.w) * mean_alpha;
    return (own + spread / n) * params.sample.z;
}
