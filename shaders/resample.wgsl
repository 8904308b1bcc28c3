// Resample stage: separable Lanczos-3, one axis per pass. The output to
// source map is axis-aligned for every orientation, so pass 1 filters along
// the source axis that output x runs on and pass 2 along the other.
// Filtering happens on the non-linear code values, before YUV -> RGB; as the
// matrix is affine and the weights sum to one, that equals filtering R'G'B'
// (what zscale and swscale do).

const PI: f32 = 3.14159265358979;
const LOBES: f32 = 3.0;

fn lanczos3(x: f32) -> f32 {
    let ax = abs(x);
    if (ax < 1e-5) {
        return 1.0;
    }
    if (ax >= LOBES) {
        return 0.0;
    }
    let px = PI * ax;
    return LOBES * sin(px) * sin(px / LOBES) / (px * px);
}

// Position of luma coordinate `u` (continuous, centres at i + 0.5) on a
// plane axis subsampled by `sub` whose first sample sits `off` luma samples
// after the first luma sample.
fn to_plane(u: f32, sub: f32, off: f32) -> f32 {
    return (u - 0.5 - off) / sub + 0.5;
}

// Taps of one output sample: first and last texel index, and the filter
// scale (support widens by the downscale factor so nothing aliases).
struct Taps {
    first: i32,
    last: i32,
    centre: f32,
    stretch: f32,
}

fn taps_for(u: f32, sub: f32, off: f32, out_scale: f32) -> Taps {
    let p = to_plane(u, sub, off);
    let stretch = max(1.0, out_scale / sub);
    let radius = LOBES * stretch;
    return Taps(i32(ceil(p - 0.5 - radius)), i32(floor(p - 0.5 + radius)), p, stretch);
}

fn tap_weight(t: Taps, k: i32) -> f32 {
    return lanczos3((f32(k) + 0.5 - t.centre) / t.stretch);
}

// Pass 1: one invocation per (output column, source line). Lines of group 0
// come first, then lines of group 1.
@compute @workgroup_size(64, 1, 1)
fn resample_primary(@builtin(global_invocation_id) gid: vec3<u32>) {
    let out_w = params.out_size.x;
    let i = gid.x;
    if (i >= out_w) {
        return;
    }
    let count0 = u32(params.grid[0].hi_lines.w);
    let count1 = u32(params.grid[1].hi_lines.w);
    var group = 0u;
    var line_index = gid.y;
    if (line_index >= count0) {
        group = 1u;
        line_index = line_index - count0;
        if (line_index >= count1) {
            return;
        }
    }
    let grid = params.grid[group];
    let axis = params.out_size.z;
    let u = params.map.x * (f32(i) + 0.5) + params.map.y;
    let t = taps_for(u, grid.sub_off[axis], grid.sub_off[2u + axis], params.scale.x);
    let lo = grid.size_lo[2u + axis];
    let hi = grid.hi_lines[axis];
    let line = grid.hi_lines.z + i32(line_index);

    var acc = vec2<f32>(0.0);
    var total = 0.0;
    for (var k = t.first; k <= t.last; k = k + 1) {
        let w = tap_weight(t, k);
        let kc = clamp(k, lo, hi);
        var coord = vec2<i32>(kc, line);
        if (axis == 1u) {
            coord = vec2<i32>(line, kc);
        }
        if (group == 0u) {
            acc.x = acc.x + w * fetch0(coord);
        } else {
            acc = acc + w * fetch12(coord);
        }
        total = total + w;
    }
    acc = acc / total;
    let index = line_index * out_w + i;
    if (group == 0u) {
        mid0[index] = acc.x;
    } else {
        mid12[index] = acc;
    }
}

// Pass 2 filter of group `group` for output pixel (i, j): runs over the
// lines pass 1 produced.
fn filter_secondary(group: u32, i: u32, j: u32) -> vec2<f32> {
    let grid = params.grid[group];
    let axis = 1u - params.out_size.z;
    let u = params.map.z * (f32(j) + 0.5) + params.map.w;
    let t = taps_for(u, grid.sub_off[axis], grid.sub_off[2u + axis], params.scale.y);
    let first_line = grid.hi_lines.z;
    let last_line = first_line + grid.hi_lines.w - 1;
    let out_w = params.out_size.x;

    var acc = vec2<f32>(0.0);
    var total = 0.0;
    for (var k = t.first; k <= t.last; k = k + 1) {
        let w = tap_weight(t, k);
        let row = u32(clamp(k, first_line, last_line) - first_line);
        let index = row * out_w + i;
        if (group == 0u) {
            acc.x = acc.x + w * mid0[index];
        } else {
            acc = acc + w * mid12[index];
        }
        total = total + w;
    }
    return acc / total;
}
