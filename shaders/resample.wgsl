// Resample stage: separable Lanczos-3, one axis per pass. The output to
// source map is axis-aligned for every orientation, so pass 1 filters along
// the source axis that output x runs on and pass 2 along the other.
// Filtering happens on the non-linear code values, before YUV -> RGB; as the
// matrix is affine and the weights sum to one, that equals filtering R'G'B'
// (what zscale and swscale do).
//
// The weights come from `taps`, built on the host: they depend only on the
// output index, so evaluating the kernel here would repeat the same sines
// for every line. Edge taps are already folded in, so every texel a table
// names is inside the usable rectangle.

// The taps of one output sample: the first texel, and the words of `taps`
// holding the weights of it and the texels after it.
struct Span {
    first: i32,
    start: u32,
    end: u32,
}

fn span_of(table: u32, o: u32) -> Span {
    let h = params.taps[table] + 2u * o;
    return Span(bitcast<i32>(taps[h]), taps[h + 1u], taps[h + 3u]);
}

fn tap_weight(w: u32) -> f32 {
    return bitcast<f32>(taps[w]);
}

// Texels of one source line a pass-1 workgroup stages: 16 KiB, WebGPU's
// guaranteed workgroup storage. 64 outputs fit up to a downscale of about
// 29x; beyond that the workgroup reads its taps from the texture directly.
const STAGE: u32 = 2048u;
const PRIMARY_GROUP: u32 = 64u;

var<workgroup> stage: array<vec2<f32>, STAGE>;

// Pass 1: one invocation per (output column, source line), one workgroup
// per run of 64 columns on one line. Lines of group 0 come first, then lines
// of group 1. Neighbouring columns share most of their taps (a 6x downscale
// reads each texel about six times), so the workgroup first loads the
// texels its columns span into workgroup memory, each once, and filters
// from there.
@compute @workgroup_size(64, 1, 1)
fn resample_primary(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let out_w = params.out_size.x;
    let count0 = u32(params.grid[0].hi_lines.w);
    let count1 = u32(params.grid[1].hi_lines.w);
    var group = 0u;
    var line_index = wg.y;
    if (line_index >= count0) {
        group = 1u;
        line_index = line_index - count0;
        if (line_index >= count1) {
            return;
        }
    }
    let axis = params.out_size.z;
    let line = params.grid[group].hi_lines.z + i32(line_index);

    // Spans move monotonically with the column, so the end columns bound
    // the texels of the whole workgroup.
    let i_first = wg.x * PRIMARY_GROUP;
    let a = span_of(group, i_first);
    let b = span_of(group, min(i_first + PRIMARY_GROUP - 1u, out_w - 1u));
    let lo = min(a.first, b.first);
    let hi = max(a.first + i32(a.end - a.start), b.first + i32(b.end - b.start));
    let n = u32(hi - lo);
    let staged = n <= STAGE;
    if (staged) {
        for (var t = lid; t < n; t = t + PRIMARY_GROUP) {
            let k = lo + i32(t);
            var coord = vec2<i32>(k, line);
            if (axis == 1u) {
                coord = vec2<i32>(line, k);
            }
            if (group == 0u) {
                stage[t] = vec2<f32>(fetch0(coord), 0.0);
            } else {
                stage[t] = fetch12(coord);
            }
        }
    }
    workgroupBarrier();

    let i = i_first + lid;
    if (i >= out_w) {
        return;
    }
    let s = span_of(group, i);
    var acc = vec2<f32>(0.0);
    if (staged) {
        let base = u32(s.first - lo) - s.start;
        for (var w = s.start; w < s.end; w = w + 1u) {
            acc = acc + tap_weight(w) * stage[base + w];
        }
    } else {
        for (var w = s.start; w < s.end; w = w + 1u) {
            let k = s.first + i32(w - s.start);
            var coord = vec2<i32>(k, line);
            if (axis == 1u) {
                coord = vec2<i32>(line, k);
            }
            if (group == 0u) {
                acc.x = acc.x + tap_weight(w) * fetch0(coord);
            } else {
                acc = acc + tap_weight(w) * fetch12(coord);
            }
        }
    }
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
    let out_w = params.out_size.x;
    let s = span_of(2u + group, j);

    var acc = vec2<f32>(0.0);
    for (var w = s.start; w < s.end; w = w + 1u) {
        let row = u32(s.first) + (w - s.start);
        let index = row * out_w + i;
        if (group == 0u) {
            acc.x = acc.x + tap_weight(w) * mid0[index];
        } else {
            acc = acc + tap_weight(w) * mid12[index];
        }
    }
    return acc;
}
