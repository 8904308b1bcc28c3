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
