// Deinterlace stage: makes one plane of an interlaced picture progressive
// from one of its fields, before the resample passes read it. The lines of
// the kept field are copied; each missing line is interpolated from the
// kept field's lines only, so nothing of the other field's instant (the
// comb of anything that moved) remains. Every plane is treated alike,
// chroma included: a 4:2:0 chroma plane's lines alternate between the
// fields as the luma's do, so a missing chroma line is made from the kept
// field's chroma lines and colour is never mixed across fields (the
// "chroma upsampling error" of reading interlaced 4:2:0 as progressive).
//
// The interpolation is edge-directed (yadif's spatial check): the three
// samples around the position on the line above are compared with the
// three on the line below, mirrored, for directions of 0, ±1 and ±2
// samples; along the best-matching slanted direction the missing sample is
// the mean of its two ends, so a diagonal edge stays one edge instead of
// a staircase. Vertically (no better direction) it is bwdif's four-tap
// filter over the field's lines at -3, -1, +1, +3.
//
// Motion-adaptive (when the picture shown just before this one was decoded
// anyway and is bound as `prev`): the missing lines were also captured by
// the other field, half a field period after the kept one, and by the
// previous picture's field of the same parity, half a period before. Where
// those two agree and the kept field's lines match the previous picture's,
// nothing moved: the missing sample is the mean of the two captures
// (bwdif's and yadif's temporal prediction `d`), which is the other field's
// own line where the picture is still, so a static region keeps its full
// vertical resolution. Elsewhere the edge-directed spatial prediction is
// used, clamped into `d ± diff`, the largest temporal change measured
// widened by yadif's spatial check, so a small motion moves the sample
// only as far as the captures allow. The previous picture's next field is
// not needed: the rules are bwdif's with no temporal difference to the
// next frame, which is not decoded yet.
//
// A plane is a grid of samples: `samples per texel` interleaved channels
// (2 for NV12's CbCr, 4 for packed RGBA) of 1 or 2 bytes; a neighbour
// along the row is a texel away, the same channel. One invocation writes
// one 32-bit word of the output row: 4 one-byte or 2 two-byte samples.

struct Plane {
    // source: byte offset of row 0 in its binding, bytes from row to row;
    // destination: byte offset of row 0, bytes from row to row
    at: vec4<u32>,
    // samples per row, rows, bytes per sample, samples per texel
    shape: vec4<u32>,
    // parity of the kept field's lines (0 top, 1 bottom), words per
    // destination row, 1 when `prev` holds the previous picture (laid out
    // as the destination: row 0 at the same offset, the same pitch)
    field: vec4<u32>,
}

@group(0) @binding(0) var<uniform> plane: Plane;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@group(0) @binding(3) var<storage, read> prev: array<u32>;

// bwdif's spatial filter coefficients (of 8192) for the field's lines at
// ±1 and ±3.
const NEAR: f32 = 5077.0 / 8192.0;
const FAR: f32 = 981.0 / 8192.0;

// The sample of channel `ch` of texel `t` (clamped into the row's
// `texels`) of source row `row`.
fn sample(t: i32, ch: u32, row: u32, texels: i32) -> f32 {
    let s = u32(clamp(t, 0, texels - 1)) * plane.shape.w + ch;
    let b = plane.at.x + row * plane.at.y + s * plane.shape.z;
    let bits = 8u * plane.shape.z;
    return f32((src[b >> 2u] >> (8u * (b & 3u))) & ((1u << bits) - 1u));
}

// The sample of channel `ch` of texel `t` (within the row) of row `row`
// of the previous picture.
fn previous(t: i32, ch: u32, row: u32) -> f32 {
    let s = u32(t) * plane.shape.w + ch;
    let b = plane.at.z + row * plane.at.w + s * plane.shape.z;
    let bits = 8u * plane.shape.z;
    return f32((prev[b >> 2u] >> (8u * (b & 3u))) & ((1u << bits) - 1u));
}

// Row `r` of the parity of row `like`, clamped to the plane's lines of that
// parity.
fn row_like(r: i32, like: i32) -> u32 {
    let parity = like & 1;
    let last = parity + 2 * ((i32(plane.shape.y) - 1 - parity) / 2);
    return u32(clamp(r, parity, last));
}

// Row `r` of the kept field's parity, clamped to the plane's lines of that
// parity.
fn kept_row(r: i32) -> u32 {
    return row_like(r, i32(plane.field.x));
}

// Texels t-3 to t+3 of one line (index 3 is texel t).
struct Window {
    s: array<f32, 7>,
}

fn window(t: i32, ch: u32, row: u32, texels: i32) -> Window {
    var w: Window;
    for (var k = 0; k < 7; k = k + 1) {
        w.s[k] = sample(t + k - 3, ch, row, texels);
    }
    return w;
}

// How badly the line above (at texel offset +j) and the line below (at -j)
// disagree around the windows' centre.
fn mismatch(a: Window, b: Window, j: i32) -> f32 {
    return abs(a.s[2 + j] - b.s[2 - j]) + abs(a.s[3 + j] - b.s[3 - j])
        + abs(a.s[4 + j] - b.s[4 - j]);
}

// The missing sample of channel `ch` of texel `t` on row `y`. Each
// sample it needs is loaded once: the two windows and the lines at ±3.
fn interpolate(t: i32, ch: u32, y: i32, texels: i32) -> f32 {
    let a = window(t, ch, kept_row(y - 1), texels);
    let b = window(t, ch, kept_row(y + 1), texels);
    let far = sample(t, ch, kept_row(y - 3), texels) + sample(t, ch, kept_row(y + 3), texels);
    var pred = NEAR * (a.s[3] + b.s[3]) - FAR * far;
    // A slanted direction has to beat the vertical one by more than one
    // code, as in yadif, so flat noise does not pick directions.
    var best = mismatch(a, b, 0) - 1.0;
    let m1 = mismatch(a, b, -1);
    if (m1 < best) {
        best = m1;
        pred = 0.5 * (a.s[2] + b.s[4]);
        let m2 = mismatch(a, b, -2);
        if (m2 < best) {
            best = m2;
            pred = 0.5 * (a.s[1] + b.s[5]);
        }
    }
    let p1 = mismatch(a, b, 1);
    if (p1 < best) {
        best = p1;
        pred = 0.5 * (a.s[4] + b.s[2]);
        let p2 = mismatch(a, b, 2);
        if (p2 < best) {
            pred = 0.5 * (a.s[5] + b.s[1]);
        }
    }
    return pred;
}

// The missing sample of channel `ch` of texel `t` on row `y`, from this
// picture and the previous one (see the top of the file).
fn motion_adaptive(t: i32, ch: u32, y: i32, texels: i32) -> f32 {
    let row = u32(y);
    let above = kept_row(y - 1);
    let below = kept_row(y + 1);
    let c = sample(t, ch, above, texels);
    let e = sample(t, ch, below, texels);
    let before = previous(t, ch, row);
    let after = sample(t, ch, row, texels);
    let d = 0.5 * (before + after);
    // As bwdif's integer halvings: a change of one code is no motion.
    let across = floor(0.5 * abs(before - after));
    let kept = floor(0.5 * (abs(previous(t, ch, above) - c) + abs(previous(t, ch, below) - e)));
    var diff = max(across, kept);
    if (diff == 0.0) {
        return d;
    }
    let up = row_like(y - 2, y);
    let down = row_like(y + 2, y);
    let b = 0.5 * (previous(t, ch, up) + sample(t, ch, up, texels)) - c;
    let f = 0.5 * (previous(t, ch, down) + sample(t, ch, down, texels)) - e;
    let hi = max(max(d - e, d - c), min(b, f));
    let lo = min(min(d - e, d - c), max(b, f));
    diff = max(max(diff, lo), -hi);
    return clamp(interpolate(t, ch, y, texels), d - diff, d + diff);
}

@compute @workgroup_size(64, 1, 1)
fn deinterlace(@builtin(global_invocation_id) id: vec3<u32>) {
    let words = plane.field.y;
    let rows = plane.shape.y;
    if (id.x >= words || id.y >= rows) {
        return;
    }
    let y = id.y;
    let bytes = plane.shape.z;
    let per_word = 4u / bytes;
    let top = f32((1u << (8u * bytes)) - 1u);
    // A plane with no line of the kept field (one row, bottom field kept)
    // is copied.
    let missing = (y & 1u) != plane.field.x && rows > plane.field.x;
    let texels = i32(plane.shape.x / plane.shape.w);
    var word = 0u;
    for (var i = 0u; i < per_word; i = i + 1u) {
        let s = id.x * per_word + i;
        if (s >= plane.shape.x) {
            break;
        }
        let t = i32(s / plane.shape.w);
        let ch = s % plane.shape.w;
        var v = sample(t, ch, y, texels);
        if (missing) {
            var p: f32;
            if (plane.field.z == 1u) {
                p = motion_adaptive(t, ch, i32(y), texels);
            } else {
                p = interpolate(t, ch, i32(y), texels);
            }
            v = clamp(round(p), 0.0, top);
        }
        word = word | (u32(v) << (8u * bytes * i));
    }
    dst[(plane.at.z + y * plane.at.w) / 4u + id.x] = word;
}
