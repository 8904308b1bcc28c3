// Resample stage: separable Lanczos-3, one axis per pass. The output to
// source map is axis-aligned for every orientation, so pass 1 filters along
// the source axis that output x runs on and pass 2 along the other.
// Filtering happens on the non-linear code values, before YUV -> RGB; as the
// matrix is affine and the weights sum to one, that equals filtering R'G'B'
// (what zscale and swscale do).
//
// The weights come from `taps`, built on the host: they depend only on the
// output index, so evaluating the kernel here would repeat the same sines
// for every line. Edge taps are already folded in, so every texel with a
// non-zero weight is inside the usable rectangle.
//
// Both passes move four taps at a time. Each output's taps start on a
// multiple of four texels (of lines, in pass 2) and come in whole quads,
// zero weights padding either end, so one iteration is one vec4 of weights
// times one vec4 of texels. On a SIMD CPU (lavapipe) an iteration and a
// per-invocation load cost far more than the arithmetic they carry; on a
// GPU the one or two padding quads are cheap next to the memory traffic
// they do not add. A padding tap may name a texel outside the usable
// rectangle: the fetch clamps it inside, so it reads a real (finite) sample
// and multiplies it by zero.

// The taps of one output sample: its first texel (a multiple of four), the
// index in `taps` of its first weight quad, and how many quads it has.
struct Span {
    first: i32,
    start: u32,
    quads: u32,
}

// Entry `q` of the tables, for a pass reading `table`. The host binds the
// uniform window at the first table the dispatch reads (pass 1: its
// group's; pass 2: group 0's, group 1's following within the window) and
// picks the variant reading it when they fit; the storage buffer is the
// fallback.
fn tap(table: u32, q: u32) -> vec4<u32> {
    if (UNIFORM_TAPS) {
        return tap_window[q - params.taps[min(table, 2u)]];
    }
    return taps[q];
}

fn span_of(table: u32, o: u32) -> Span {
    let h = tap(table, params.taps[table] + o);
    return Span(bitcast<i32>(h.x), h.y, h.z);
}

fn weights(table: u32, q: u32) -> vec4<f32> {
    return bitcast<vec4<f32>>(tap(table, q));
}

// The four partial sums of a vec4 accumulator.
fn total(v: vec4<f32>) -> f32 {
    return dot(v, vec4<f32>(1.0));
}

// Source lines one pass-1 invocation filters, and one vec4 of `mid0` holds:
// the weights of a tap quad are loaded once for all four lines.
// `LINE_BLOCK` in src/gpu/uniforms.rs.
const LINES: u32 = 4u;
const PRIMARY_GROUP: u32 = 64u;
// 16 KiB, WebGPU's guaranteed workgroup storage, as texel quads. Component
// 0 gets 256 quads (1024 texels) per line, components 1 and 2 128 each:
// enough for 64 outputs up to a downscale of about 14x; beyond that the
// host picks the direct variant, which reads its taps from the planes.
// `STAGE_QUADS` in src/gpu/uniforms.rs.
const STAGE_QUADS: u32 = 1024u;

var<workgroup> stage: array<vec4<f32>, STAGE_QUADS>;

// Pass 1 is compiled once per variant the host needs (`PrimaryVariant` in
// src/gpu/uniforms.rs) rather than branching on these at run time: lavapipe
// runs both sides of every branch with lanes masked off, and a GPU keeps
// the registers of the widest side, so each variant carries only its own
// path.
// The component group: 0 (component 0) or 1 (components 1 and 2).
override GROUP: u32 = 0u;
// The source axis output x runs along, which pass 1 filters: 0 x, 1 y.
override AXIS: u32 = 0u;
// Whether the workgroup stages its texels; if not, each invocation reads
// its taps straight from the planes. The host stages when the workgroup's
// taps fit, except whole-word quads: a word from the plane costs as much as
// one from the stage, and a stage quad of f32s is four.
override STAGED: bool = true;
// Whether the group's planes hold one 8-bit sample per texel and pass 1
// runs along x: four neighbouring taps are then the four bytes of one word,
// so a quad is one load instead of four.
override WORD_QUADS: bool = false;

// Quads of the stage per line and component.
override CAPACITY: u32 = STAGE_QUADS / (LINES * (GROUP + 1u));

// Where pass 1 reads one block of lines: the usable texels along the
// filtered axis, and the block's first line.
struct Lines {
    lo: i32,
    hi: i32,
    block: u32,
}

// Line r of the block. A last block that runs past the group's lines
// repeats its last line: pass 2 gives those zero weight, but reads them.
fn line_of(l: Lines, r: u32) -> i32 {
    let g = params.grid[GROUP];
    return g.hi_lines.z + i32(min(l.block * LINES + r, u32(g.hi_lines.w) - 1u));
}

fn texel_at(l: Lines, k: i32, line: i32) -> vec2<i32> {
    let kc = clamp(k, l.lo, l.hi);
    if (AXIS == 1u) {
        return vec2<i32>(line, kc);
    }
    return vec2<i32>(kc, line);
}

// Texels k..k+3 of a line (k a multiple of four) of component `c`'s plane
// as one word: its four bytes in order. Only the quads a table names are
// read, and each holds at least one usable texel, so clamping k keeps the
// word in the row; the bytes past the usable rectangle it may also hold
// (or the row's padding) are finite and weighted zero.
fn word_quad(c: u32, k: i32, l: Lines, line: i32) -> vec4<f32> {
    let b = u32(line) * params.row_bytes[c] + u32(clamp(k, l.lo, l.hi) & ~3);
    if (c == 0u) {
        return vec4<f32>(unpack4xU8(plane0[b >> 2u]));
    }
    if (c == 1u) {
        return vec4<f32>(unpack4xU8(plane1[b >> 2u]));
    }
    return vec4<f32>(unpack4xU8(plane2[b >> 2u]));
}

// Texels k..k+3 of a line, component 0.
fn quad0(l: Lines, k: i32, line: i32) -> vec4<f32> {
    if (WORD_QUADS) {
        return word_quad(0u, k, l, line);
    }
    return vec4<f32>(
        fetch0(texel_at(l, k, line)),
        fetch0(texel_at(l, k + 1, line)),
        fetch0(texel_at(l, k + 2, line)),
        fetch0(texel_at(l, k + 3, line)),
    );
}

// Texels k..k+3 of a line, components 1 and 2 (one per row).
fn quad12(l: Lines, k: i32, line: i32) -> mat2x4<f32> {
    if (WORD_QUADS) {
        return mat2x4<f32>(word_quad(1u, k, l, line), word_quad(2u, k, l, line));
    }
    return transpose(mat4x2<f32>(
        fetch12(texel_at(l, k, line)),
        fetch12(texel_at(l, k + 1, line)),
        fetch12(texel_at(l, k + 2, line)),
        fetch12(texel_at(l, k + 3, line)),
    ));
}

// Pass 1: one invocation per (output column, block of four source lines) of
// the variant's group, one workgroup per run of 64 columns of one block.
// Neighbouring columns share most of their taps (a 6x downscale reads each
// texel about six times), so the staged variant's workgroup first loads the
// texel quads its columns span into workgroup memory, each once, and
// filters from there. The stage holds line r of component c at quads
// [(r * components + c) * CAPACITY, + CAPACITY).
@compute @workgroup_size(64, 1, 1)
fn resample_primary(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let out_w = params.out_size.x;
    let block = wg.y;
    let g = params.grid[GROUP];
    var l = Lines(g.size_lo.z, g.hi_lines.x, block);
    if (AXIS == 1u) {
        l = Lines(g.size_lo.w, g.hi_lines.y, block);
    }

    // Spans move monotonically with the column, so the end columns bound
    // the texels of the whole workgroup. The host picked this variant
    // because they fit the stage; the clamp only keeps a wrong pick inside
    // it.
    let i_first = wg.x * PRIMARY_GROUP;
    let a = span_of(GROUP, i_first);
    let b = span_of(GROUP, min(i_first + PRIMARY_GROUP - 1u, out_w - 1u));
    let lo = min(a.first, b.first);
    if (STAGED) {
        let quads = min(
            max(u32(a.first - lo) / 4u + a.quads, u32(b.first - lo) / 4u + b.quads),
            CAPACITY,
        );
        // Lines vary fastest, so the divisions are shifts.
        for (var e = lid; e < quads * LINES; e = e + PRIMARY_GROUP) {
            let r = e % LINES;
            let q = e / LINES;
            let k = lo + 4 * i32(q);
            let line = line_of(l, r);
            if (GROUP == 0u) {
                stage[r * CAPACITY + q] = quad0(l, k, line);
            } else {
                let t = quad12(l, k, line);
                stage[2u * r * CAPACITY + q] = t[0];
                stage[(2u * r + 1u) * CAPACITY + q] = t[1];
            }
        }
        workgroupBarrier();
    }

    let i = i_first + lid;
    if (i >= out_w) {
        return;
    }
    let s = span_of(GROUP, i);
    let index = block * out_w + i;
    if (GROUP == 0u) {
        var acc: mat4x4<f32>;
        if (STAGED) {
            acc = filter0_staged(s, u32(s.first - lo) / 4u);
        } else {
            acc = filter0_direct(s, l);
        }
        mid0[index] = sums(acc);
    } else {
        var acc: array<mat4x4<f32>, 2>;
        if (STAGED) {
            acc = filter12_staged(s, u32(s.first - lo) / 4u);
        } else {
            acc = filter12_direct(s, l);
        }
        mid12[2u * index] = sums(acc[0]);
        mid12[2u * index + 1u] = sums(acc[1]);
    }
}

// Pass-1 accumulators hold line r's four partial sums in column r; its
// result is their total.
fn sums(acc: mat4x4<f32>) -> vec4<f32> {
    return vec4<f32>(1.0) * acc;
}

// Component 0 of the block's four lines from the stage: `q0` is the span's
// first quad in it.
fn filter0_staged(s: Span, q0: u32) -> mat4x4<f32> {
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    for (var t = 0u; t < s.quads; t = t + 1u) {
        let w = weights(GROUP, s.start + t);
        let q = q0 + t;
        a0 = a0 + w * stage[q];
        a1 = a1 + w * stage[CAPACITY + q];
        a2 = a2 + w * stage[2u * CAPACITY + q];
        a3 = a3 + w * stage[3u * CAPACITY + q];
    }
    return mat4x4<f32>(a0, a1, a2, a3);
}

// Components 1 and 2 of the block's four lines from the stage.
fn filter12_staged(s: Span, q0: u32) -> array<mat4x4<f32>, 2> {
    var u0 = vec4<f32>(0.0);
    var u1 = vec4<f32>(0.0);
    var u2 = vec4<f32>(0.0);
    var u3 = vec4<f32>(0.0);
    var v0 = vec4<f32>(0.0);
    var v1 = vec4<f32>(0.0);
    var v2 = vec4<f32>(0.0);
    var v3 = vec4<f32>(0.0);
    for (var t = 0u; t < s.quads; t = t + 1u) {
        let w = weights(GROUP, s.start + t);
        let q = q0 + t;
        u0 = u0 + w * stage[q];
        v0 = v0 + w * stage[CAPACITY + q];
        u1 = u1 + w * stage[2u * CAPACITY + q];
        v1 = v1 + w * stage[3u * CAPACITY + q];
        u2 = u2 + w * stage[4u * CAPACITY + q];
        v2 = v2 + w * stage[5u * CAPACITY + q];
        u3 = u3 + w * stage[6u * CAPACITY + q];
        v3 = v3 + w * stage[7u * CAPACITY + q];
    }
    return array<mat4x4<f32>, 2>(mat4x4<f32>(u0, u1, u2, u3), mat4x4<f32>(v0, v1, v2, v3));
}

// Component 0 of the block's four lines straight from the plane, for
// spans too wide to stage.
fn filter0_direct(s: Span, l: Lines) -> mat4x4<f32> {
    let lines = vec4<i32>(line_of(l, 0u), line_of(l, 1u), line_of(l, 2u), line_of(l, 3u));
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    for (var t = 0u; t < s.quads; t = t + 1u) {
        let w = weights(GROUP, s.start + t);
        let k = s.first + 4 * i32(t);
        a0 = a0 + w * quad0(l, k, lines.x);
        a1 = a1 + w * quad0(l, k, lines.y);
        a2 = a2 + w * quad0(l, k, lines.z);
        a3 = a3 + w * quad0(l, k, lines.w);
    }
    return mat4x4<f32>(a0, a1, a2, a3);
}

// Components 1 and 2 of the block's four lines straight from the planes.
fn filter12_direct(s: Span, l: Lines) -> array<mat4x4<f32>, 2> {
    let lines = vec4<i32>(line_of(l, 0u), line_of(l, 1u), line_of(l, 2u), line_of(l, 3u));
    var u = mat4x4<f32>();
    var v = mat4x4<f32>();
    for (var t = 0u; t < s.quads; t = t + 1u) {
        let w = weights(GROUP, s.start + t);
        let k = s.first + 4 * i32(t);
        let t0 = quad12(l, k, lines.x);
        let t1 = quad12(l, k, lines.y);
        let t2 = quad12(l, k, lines.z);
        let t3 = quad12(l, k, lines.w);
        u = u + mat4x4<f32>(w * t0[0], w * t1[0], w * t2[0], w * t3[0]);
        v = v + mat4x4<f32>(w * t0[1], w * t1[1], w * t2[1], w * t3[1]);
    }
    return array<mat4x4<f32>, 2>(u, v);
}

// Output columns one pass-2 invocation filters: they share row j's taps,
// so each weight quad is loaded once for all of them (on lavapipe a load,
// not the arithmetic, is what costs). `SECONDARY_COLUMNS` in
// src/gpu/uniforms.rs.
const COLUMNS: u32 = 4u;

// Pass 2 filter of component 0 for output row j, columns `cols` (inside the
// output; the caller clamps them), over the line blocks pass 1 produced,
// four lines per load. Returns each column's result.
fn filter_secondary0(cols: vec4<u32>, j: u32) -> vec4<f32> {
    let out_w = params.out_size.x;
    let s = span_of(2u, j);
    let block = u32(s.first) / LINES;
    var acc = mat4x4<f32>();
    for (var t = 0u; t < s.quads; t = t + 1u) {
        let w = weights(2u, s.start + t);
        let row = (block + t) * out_w;
        acc = acc + mat4x4<f32>(
            w * mid0[row + cols.x],
            w * mid0[row + cols.y],
            w * mid0[row + cols.z],
            w * mid0[row + cols.w],
        );
    }
    return sums(acc);
}

// Components 1 and 2, like `filter_secondary0`.
fn filter_secondary12(cols: vec4<u32>, j: u32) -> array<vec4<f32>, 2> {
    let out_w = params.out_size.x;
    let s = span_of(3u, j);
    let block = u32(s.first) / LINES;
    var u = mat4x4<f32>();
    var v = mat4x4<f32>();
    for (var t = 0u; t < s.quads; t = t + 1u) {
        let w = weights(3u, s.start + t);
        let m = 2u * ((block + t) * out_w + cols);
        u = u + mat4x4<f32>(w * mid12[m.x], w * mid12[m.y], w * mid12[m.z], w * mid12[m.w]);
        v = v + mat4x4<f32>(
            w * mid12[m.x + 1u],
            w * mid12[m.y + 1u],
            w * mid12[m.z + 1u],
            w * mid12[m.w + 1u],
        );
    }
    return array<vec4<f32>, 2>(sums(u), sums(v));
}
