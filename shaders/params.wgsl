// Uniform block and bindings shared by both passes. The layout mirrors
// `Params` in src/gpu/uniforms.rs member for member; every member is a
// vec4 (or an array of them) so WGSL's 16-byte alignment adds no hidden
// padding.

struct Grid {
    // plane width, plane height, first usable texel x, y
    size_lo: vec4<i32>,
    // last usable texel x, y, first filtered line, line count
    hi_lines: vec4<i32>,
    // subsampling x, y, siting offset x, y (luma samples)
    sub_off: vec4<f32>,
}

struct Params {
    // output width, height, source axis of pass 1 (0 = x, 1 = y), words per pixel
    out_size: vec4<u32>,
    // src = a * (o + 0.5) + b: pass 1 (a, b), pass 2 (a, b)
    map: vec4<f32>,
    // source luma samples per output pixel along output x, y
    scale: vec4<f32>,
    // 0: component 0, 1: components 1 and 2
    grid: array<Grid, 2>,
    // channel (sample within the texel) of components 0, 1, 2; w = 1 when 1
    // and 2 are neutral
    channel: vec4<u32>,
    // bytes from row to row of the plane of components 0, 1, 2; w = bytes
    // per sample (1 or 2)
    row_bytes: vec4<u32>,
    // bytes per texel of the plane of components 0, 1, 2; w: where the
    // colour grid's alpha starts in `mid0`, in vec4s
    texel_bytes: vec4<u32>,
    // byte offset of the first row of the plane of components 0, 1, 2 in
    // its binding (modulo 2^32: a band bound from a later row has it
    // "negative", and the u32 arithmetic that adds the row wraps back into
    // the binding); w: where alpha starts in `mid0`, in vec4s
    plane_base: vec4<u32>,
    // rows of the YUV -> R'G'B' matrix, offset in w
    yuv: array<vec4<f32>, 3>,
    // rows of the linear gamut matrix
    gamut: array<vec4<f32>, 3>,
    luma_src: vec4<f32>,
    luma_out: vec4<f32>,
    // PQ(source black), PQ(source peak), knee KS, maxLum
    tone: vec4<f32>,
    // minLum, target black cd/m2, SDR white cd/m2
    tone2: vec4<f32>,
    // HLG system gamma, HLG nominal peak cd/m2
    hlg: vec4<f32>,
    // integer sample -> normalised code factor, neutral chroma code,
    // integer alpha -> [0, 1] factor, the integer neutral that premultiplied
    // colour is taken about (neutral chroma for YUV, 0 for RGB)
    sample: vec4<f32>,
    // offset in `taps` (in vec4s) of the tables of pass 1 group 0, 1, pass 2
    // group 0, 1
    taps: vec4<u32>,
    // alpha: channel (sample within the texel), bytes from row to row,
    // bytes per texel, byte offset of the first row in its binding
    alpha: vec4<u32>,
    // the band of output rows this run renders: first and end pass-2 table
    // entry
    band: vec4<u32>,
    // the band's pass-1 blocks: first and end of group 0, of group 1;
    // `mid0` and `mid12` hold them from their start
    blocks: vec4<u32>,
}

const FLAG_PASSTHROUGH: u32 = 1u;
const FLAG_TONE_MAP: u32 = 2u;
const FLAG_GAMUT: u32 = 4u;
const TRANSFER_SDR: u32 = 0u;
const TRANSFER_PQ: u32 = 1u;
const TRANSFER_HLG: u32 = 2u;

// Pass 2 is compiled once per colour path (`SecondaryVariant` in
// src/gpu/uniforms.rs) instead of branching on it at run time: lavapipe
// runs every side of every branch, so each pixel would otherwise pay for
// the PQ, HLG and tone-mapping curves whatever the stream.
// The source transfer (TRANSFER_*).
override TRANSFER: u32 = TRANSFER_SDR;
// FLAG_* bits.
override FLAGS: u32 = FLAG_PASSTHROUGH;

@group(0) @binding(0) var<uniform> params: Params;
// Bindings 1 to 3, the planes, and 8, the alpha plane, are declared by the fetch stage the module
// is built with: storage buffers (fetch_buffer.wgsl) or textures
// (fetch_image.wgsl).
// Pass 1 output: component 0 per (block of LINES lines, output column), the
// block's lines in x..w, so pass 1 stores and pass 2 loads one vec4 where
// each would otherwise move four scalars (and neighbouring invocations of
// either pass touch neighbouring vec4s)...
@group(0) @binding(4) var<storage, read_write> mid0: array<vec4<f32>>;
// With alpha, pass 1's alpha follows component 0 in `mid0`, laid out the
// same from vec4 `plane_base.w` on (alpha is on component 0's grid), and
// for subsampled colour the colour grid's alpha from `texel_bytes.w` on.
// ...and components 1, 2 on their own grid: two vec4s per (block, column),
// component 1's lines, then component 2's.
@group(0) @binding(5) var<storage, read_write> mid12: array<vec4<f32>>;
// Final pixels, tightly packed rows: one u32 (RGBA8) or two (RGBA16) each.
@group(0) @binding(6) var<storage, read_write> out_pixels: array<u32>;
// Filter tap tables built on the host (`TapTables` in src/gpu/uniforms.rs),
// in vec4s: a header per output, and weights four taps to a vec4.
@group(0) @binding(7) var<storage, read> taps: array<vec4<u32>>;
