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
    let axis = params.out_size.z;
    let line = params.grid[group].hi_lines.z + i32(line_index);
    let s = span_of(group, i);

    var acc = vec2<f32>(0.0);
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
