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

fn span_of(table: u32, o: u32) -> Span {
    let h = taps[params.taps[table] + o];
    return Span(bitcast<i32>(h.x), h.y, h.z);
}

fn weights(q: u32) -> vec4<f32> {
    return bitcast<vec4<f32>>(taps[q]);
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
// enough for 64 pairs of outputs up to a downscale of about 7x; beyond
// that the host picks the direct variant, which reads its taps from the
// planes.
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

// Whether each invocation filters two blocks (eight lines) rather than
// one, so each weight quad it loads serves all eight: the host picks it for
// the direct component-0 variant when its spans hold four quads or more,
// where the loads are otherwise two thirds weights; with fewer the doubled
// accumulators cost more than the loads saved (1080p -> 1920: 67.5 -> 70.75
// ms of CPU on lavapipe). The staged variant keeps one block so the stage
// holds its lines at full width, and components 1 and 2 keep one as their
// accumulators would double to 32 vec4s.
override TWO_BLOCKS: bool = false;

// Whether this component-0 variant filters the alpha plane (on the same
// grid, with the same taps) into the alpha part of `mid0` instead of
// component 0.
override ALPHA: bool = false;
// The grid an ALPHA variant filters alpha on: 0 alpha's own (luma's), 1
// the subsampled colour planes' (the mean alpha of each colour texel),
// which pass 2 divides the premultiplied colour components by.
override ALPHA_GRID: u32 = 0u;

// The grid (and pass-1 tap table) this variant reads.
fn grid_of() -> u32 {
    return select(GROUP, ALPHA_GRID, ALPHA);
}

// The first and end block of the band pass 1 produces on `grid`.
fn band_blocks(grid: u32) -> vec2<u32> {
    return select(params.blocks.xy, params.blocks.zw, grid == 1u);
}

// Whether colour samples are premultiplied by their alpha before filtering,
// so transparent texels, whatever colour they hold, add nothing to their
// opaque neighbours (no dark or coloured fringes); pass 2 divides by the
// filtered alpha. The whole-word quads are off in this variant.
override PREMULTIPLY: bool = false;

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
    let g = params.grid[grid_of()];
    return g.hi_lines.z + i32(min(l.block * LINES + r, u32(g.hi_lines.w) - 1u));
}

fn texel_at(l: Lines, k: i32, line: i32) -> vec2<i32> {
    let kc = clamp(k, l.lo, l.hi);
    if (AXIS == 1u) {
        return vec2<i32>(line, kc);
    }
    return vec2<i32>(kc, line);
}

// Texels k..k+3 of a line, component 0 (alpha in the ALPHA variant),
// times their alpha with PREMULTIPLY.
fn quad0(l: Lines, k: i32, line: i32) -> vec4<f32> {
    if (ALPHA) {
        return quad_alpha(l, k, line);
    }
    if (WORD_QUADS) {
        return word_quad(0u, clamp(k, l.lo, l.hi), line);
    }
    let q = vec4<f32>(
        fetch0(texel_at(l, k, line)),
        fetch0(texel_at(l, k + 1, line)),
        fetch0(texel_at(l, k + 2, line)),
        fetch0(texel_at(l, k + 3, line)),
    );
    if (PREMULTIPLY) {
        return (q - params.sample.w) * quad_alpha(l, k, line) * params.sample.z;
    }
    return q;
}

// Components 1 and 2 of a texel, premultiplied about the neutral with
// PREMULTIPLY.
fn texel12(coord: vec2<i32>) -> vec2<f32> {
    if (PREMULTIPLY) {
        return texel12_premultiplied_per_luma(coord);
    }
    return fetch12(coord);
}

// Texels k..k+3 of a line, components 1 and 2 (one per row).
fn quad12(l: Lines, k: i32, line: i32) -> mat2x4<f32> {
    if (WORD_QUADS) {
        let kc = clamp(k, l.lo, l.hi);
        return mat2x4<f32>(word_quad(1u, kc, line), word_quad(2u, kc, line));
    }
    return transpose(mat4x2<f32>(
        texel12(texel_at(l, k, line)),
        texel12(texel_at(l, k + 1, line)),
        texel12(texel_at(l, k + 2, line)),
        texel12(texel_at(l, k + 3, line)),
    ));
}

// Neighbouring outputs one table entry covers and one invocation filters
// together: columns in pass 1, rows in pass 2. Their spans differ by a
// step of the scale, so each texel (or line) quad loaded serves both
// (about a third fewer loads at 6x; on lavapipe the loads, not the
// arithmetic, are what costs). An entry covers the union of their spans,
// one weight vec4 per output per quad, zeros outside an output's own span.
// `PAIR` in src/gpu/uniforms.rs.
const PAIR: u32 = 2u;

// Pass 1: one invocation per (pair of output columns, block of four source
// lines, or two blocks with TWO_BLOCKS) of the variant's group, one
// workgroup per run of 64 pairs of one block (or two). Neighbouring pairs
// share most of their taps too (a 6x downscale reads each texel about three
// times), so the staged variant's workgroup first loads the texel quads its
// pairs span into workgroup memory, each once, and filters from there. The
// stage holds line r of component c at quads [(r * components + c) *
// CAPACITY, + CAPACITY).
@compute @workgroup_size(64, 1, 1)
fn resample_primary(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let out_w = params.out_size.x;
    let pairs = (out_w + PAIR - 1u) / PAIR;
    let band = band_blocks(grid_of());
    let block = band.x + select(wg.y, 2u * wg.y, TWO_BLOCKS);
    let g = params.grid[grid_of()];
    var l = Lines(g.size_lo.z, g.hi_lines.x, block);
    if (AXIS == 1u) {
        l = Lines(g.size_lo.w, g.hi_lines.y, block);
    }

    // Spans move monotonically with the column, so the end pairs bound the
    // texels of the whole workgroup. The host picked this variant because
    // they fit the stage; the clamp only keeps a wrong pick inside it.
    let p_first = wg.x * PRIMARY_GROUP;
    let a = span_of(grid_of(), p_first);
    let b = span_of(grid_of(), min(p_first + PRIMARY_GROUP - 1u, pairs - 1u));
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

    let p = p_first + lid;
    if (p >= pairs) {
        return;
    }
    let s = span_of(grid_of(), p);
    let i = PAIR * p;
    // The intermediate buffers hold the band's blocks from their start.
    let index = (block - band.x) * out_w + i;
    // An odd width's last pair has one column; its second is all zero
    // weights and not stored.
    let both = i + 1u < out_w;
    if (GROUP == 0u) {
        if (STAGED) {
            store0(index, both, filter0_staged(s, u32(s.first - lo) / 4u));
        } else {
            let acc = filter0_direct(s, l);
            store0(index, both, array<mat4x4<f32>, 2>(acc[0], acc[1]));
            // A last block past the band's (or the group's lines) is not
            // stored.
            if (TWO_BLOCKS && block + 1u < band.y) {
                store0(index + out_w, both, array<mat4x4<f32>, 2>(acc[2], acc[3]));
            }
        }
    } else {
        var acc: array<mat4x4<f32>, 4>;
        if (STAGED) {
            acc = filter12_staged(s, u32(s.first - lo) / 4u);
        } else {
            acc = filter12_direct(s, l);
        }
        mid12[2u * index] = sums(acc[0]);
        mid12[2u * index + 1u] = sums(acc[1]);
        if (both) {
            mid12[2u * index + 2u] = sums(acc[2]);
            mid12[2u * index + 3u] = sums(acc[3]);
        }
    }
}

// Component 0 of a pair of columns of one block into `mid0` from
// `index` on; the second column only if the pair has one.
fn store0(index: u32, both: bool, acc: array<mat4x4<f32>, 2>) {
    if (ALPHA) {
        let at = select(params.plane_base.w, params.texel_bytes.w, ALPHA_GRID == 1u) + index;
        mid0[at] = sums(acc[0]);
        if (both) {
            mid0[at + 1u] = sums(acc[1]);
        }
        return;
    }
    mid0[index] = sums(acc[0]);
    if (both) {
        mid0[index + 1u] = sums(acc[1]);
    }
}

// Pass-1 accumulators hold line r's four partial sums in column r; its
// result is their total.
fn sums(acc: mat4x4<f32>) -> vec4<f32> {
    return vec4<f32>(1.0) * acc;
}

// The weights of quad t of an entry's span: its first output's, then its
// second's.
fn pair_weights(s: Span, t: u32) -> mat2x4<f32> {
    let q = s.start + PAIR * t;
    return mat2x4<f32>(weights(q), weights(q + 1u));
}

// Each of four quads (pass 1: of four lines; pass 2: of four columns'
// lines) times each output's weights, added to that output's accumulators.
fn accumulate(acc: array<mat4x4<f32>, 2>, w: mat2x4<f32>, x: mat4x4<f32>) -> array<mat4x4<f32>, 2> {
    return array<mat4x4<f32>, 2>(
        acc[0] + mat4x4<f32>(w[0] * x[0], w[0] * x[1], w[0] * x[2], w[0] * x[3]),
        acc[1] + mat4x4<f32>(w[1] * x[0], w[1] * x[1], w[1] * x[2], w[1] * x[3]),
    );
}

// Component 0 of the block's four lines for both columns of the pair, from
// the stage: `q0` is the span's first quad in it.
fn filter0_staged(s: Span, q0: u32) -> array<mat4x4<f32>, 2> {
    var acc = array<mat4x4<f32>, 2>();
    for (var t = 0u; t < s.quads; t = t + 1u) {
        let q = q0 + t;
        let x = mat4x4<f32>(
            stage[q],
            stage[CAPACITY + q],
            stage[2u * CAPACITY + q],
            stage[3u * CAPACITY + q],
        );
        acc = accumulate(acc, pair_weights(s, t), x);
    }
    return acc;
}

// Components 1 and 2 of the block's four lines from the stage: component
// 1 of column 0, component 2 of column 0, then column 1's.
fn filter12_staged(s: Span, q0: u32) -> array<mat4x4<f32>, 4> {
    var u = array<mat4x4<f32>, 2>();
    var v = array<mat4x4<f32>, 2>();
    for (var t = 0u; t < s.quads; t = t + 1u) {
        let w = pair_weights(s, t);
        let q = q0 + t;
        u = accumulate(u, w, mat4x4<f32>(
            stage[q],
            stage[2u * CAPACITY + q],
            stage[4u * CAPACITY + q],
            stage[6u * CAPACITY + q],
        ));
        v = accumulate(v, w, mat4x4<f32>(
            stage[CAPACITY + q],
            stage[3u * CAPACITY + q],
            stage[5u * CAPACITY + q],
            stage[7u * CAPACITY + q],
        ));
    }
    return array<mat4x4<f32>, 4>(u[0], v[0], u[1], v[1]);
}

// Component 0 of the block `l` names, and of the next one too where the
// variant takes two blocks, straight from the plane, for spans too wide to
// stage and for whole-word quads: both columns of the first block, then of
// the second.
fn filter0_direct(s: Span, l: Lines) -> array<mat4x4<f32>, 4> {
    let lines = vec4<i32>(line_of(l, 0u), line_of(l, 1u), line_of(l, 2u), line_of(l, 3u));
    let more = vec4<i32>(line_of(l, 4u), line_of(l, 5u), line_of(l, 6u), line_of(l, 7u));
    var a = array<mat4x4<f32>, 2>();
    var b = array<mat4x4<f32>, 2>();
    for (var t = 0u; t < s.quads; t = t + 1u) {
        let w = pair_weights(s, t);
        let k = s.first + 4 * i32(t);
        a = accumulate(a, w, mat4x4<f32>(
            quad0(l, k, lines.x),
            quad0(l, k, lines.y),
            quad0(l, k, lines.z),
            quad0(l, k, lines.w),
        ));
        if (TWO_BLOCKS) {
            b = accumulate(b, w, mat4x4<f32>(
                quad0(l, k, more.x),
                quad0(l, k, more.y),
                quad0(l, k, more.z),
                quad0(l, k, more.w),
            ));
        }
    }
    return array<mat4x4<f32>, 4>(a[0], a[1], b[0], b[1]);
}

// Components 1 and 2 of the block's four lines straight from the planes,
// in `filter12_staged`'s order.
fn filter12_direct(s: Span, l: Lines) -> array<mat4x4<f32>, 4> {
    let lines = vec4<i32>(line_of(l, 0u), line_of(l, 1u), line_of(l, 2u), line_of(l, 3u));
    var u = array<mat4x4<f32>, 2>();
    var v = array<mat4x4<f32>, 2>();
    for (var t = 0u; t < s.quads; t = t + 1u) {
        let w = pair_weights(s, t);
        let k = s.first + 4 * i32(t);
        let t0 = quad12(l, k, lines.x);
        let t1 = quad12(l, k, lines.y);
        let t2 = quad12(l, k, lines.z);
        let t3 = quad12(l, k, lines.w);
        u = accumulate(u, w, mat4x4<f32>(t0[0], t1[0], t2[0], t3[0]));
        v = accumulate(v, w, mat4x4<f32>(t0[1], t1[1], t2[1], t3[1]));
    }
    return array<mat4x4<f32>, 4>(u[0], v[0], u[1], v[1]);
}

// Output columns one pass-2 invocation filters, for each of a pair of
// rows: the columns share their rows' weights, so each weight quad is
// loaded once for all of them, and the rows share their lines (a 6x
// downscale's rows overlap by all but six of 36), so each quad of lines
// loaded serves both; on lavapipe a load, not the arithmetic, is what
// costs. `SECONDARY_COLUMNS` in src/gpu/uniforms.rs.
const COLUMNS: u32 = 4u;

// Pass 2 filter of component 0 for the row pair of table entry `e`,
// columns `cols` (inside the output; the caller clamps them), over the line
// blocks pass 1 produced for the band, four lines per load. Returns each row's results,
// one column per element.
fn filter_secondary0(cols: vec4<u32>, e: u32) -> array<vec4<f32>, 2> {
    let out_w = params.out_size.x;
    let s = span_of(2u, e);
    let block = u32(s.first) / LINES - params.blocks.x;
    var acc = array<mat4x4<f32>, 2>();
    for (var t = 0u; t < s.quads; t = t + 1u) {
        let row = (block + t) * out_w;
        let x = mat4x4<f32>(
            mid0[row + cols.x],
            mid0[row + cols.y],
            mid0[row + cols.z],
            mid0[row + cols.w],
        );
        acc = accumulate(acc, pair_weights(s, t), x);
    }
    return array<vec4<f32>, 2>(sums(acc[0]), sums(acc[1]));
}

// Alpha, like `filter_secondary0`, with pass-2 tap table `table` (2: the
// luma grid's, 3: the colour planes'), from where pass 1 put it in `mid0`,
// `base` vec4s in.
fn filter_secondary_alpha(cols: vec4<u32>, e: u32, table: u32, base: u32) -> array<vec4<f32>, 2> {
    let out_w = params.out_size.x;
    let s = span_of(table, e);
    let block = u32(s.first) / LINES - select(params.blocks.x, params.blocks.z, table == 3u);
    var acc = array<mat4x4<f32>, 2>();
    for (var t = 0u; t < s.quads; t = t + 1u) {
        let row = base + (block + t) * out_w;
        let x = mat4x4<f32>(
            mid0[row + cols.x],
            mid0[row + cols.y],
            mid0[row + cols.z],
            mid0[row + cols.w],
        );
        acc = accumulate(acc, pair_weights(s, t), x);
    }
    return array<vec4<f32>, 2>(sums(acc[0]), sums(acc[1]));
}

// Components 1 and 2, like `filter_secondary0`: component 1 of the first
// row, component 2 of the first row, then the second row's.
fn filter_secondary12(cols: vec4<u32>, e: u32) -> array<vec4<f32>, 4> {
    let out_w = params.out_size.x;
    let s = span_of(3u, e);
    let block = u32(s.first) / LINES - params.blocks.z;
    var u = array<mat4x4<f32>, 2>();
    var v = array<mat4x4<f32>, 2>();
    for (var t = 0u; t < s.quads; t = t + 1u) {
        let w = pair_weights(s, t);
        let m = 2u * ((block + t) * out_w + cols);
        u = accumulate(u, w, mat4x4<f32>(mid12[m.x], mid12[m.y], mid12[m.z], mid12[m.w]));
        v = accumulate(v, w, mat4x4<f32>(
            mid12[m.x + 1u],
            mid12[m.y + 1u],
            mid12[m.z + 1u],
            mid12[m.w + 1u],
        ));
    }
    return array<vec4<f32>, 4>(sums(u[0]), sums(v[0]), sums(u[1]), sums(v[1]));
}
