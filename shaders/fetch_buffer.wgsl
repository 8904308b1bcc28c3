// Fetch stage, buffer input: raw samples of one texel, as the integers in
// their containers (the host folds 1 / (2^bits - 1) into `sample.x`). Word
// loads from the planes where they lie (uploaded, or a device buffer bound
// in place) rather than texture fetches: on lavapipe a texel fetch costs
// several times a storage load, and the planes need no copy into textures
// (nor 16-bit normalised texture formats). Clamping to the usable
// rectangle happens in the caller, so a load here is always inside the
// plane.

// Component k is read from plane k: the bytes of the buffer range holding
// its plane, in 32-bit words, the plane starting `plane_base[k]` bytes in.
// Semi-planar and packed layouts bind the same plane more than once and
// pick channels.
@group(0) @binding(1) var<storage, read> plane0: array<u32>;
@group(0) @binding(2) var<storage, read> plane1: array<u32>;
@group(0) @binding(3) var<storage, read> plane2: array<u32>;
// The plane holding alpha (plane 0 again for packed RGBA; unread without
// alpha).
@group(0) @binding(8) var<storage, read> plane3: array<u32>;

// Byte offset of component k's sample of texel `coord` in its binding.
fn byte_of(k: u32, coord: vec2<i32>) -> u32 {
    return params.plane_base[k] + u32(coord.y) * params.row_bytes[k]
        + u32(coord.x) * params.texel_bytes[k] + params.channel[k] * params.row_bytes.w;
}

// The little-endian sample at `byte` of the plane, from the word holding it.
fn sample_in(word: u32, byte: u32) -> f32 {
    let bits = 8u * params.row_bytes.w;
    return f32((word >> (8u * (byte & 3u))) & ((1u << bits) - 1u));
}

fn fetch0(coord: vec2<i32>) -> f32 {
    let b = byte_of(0u, coord);
    return sample_in(plane0[b >> 2u], b);
}

fn fetch12(coord: vec2<i32>) -> vec2<f32> {
    let b1 = byte_of(1u, coord);
    let b2 = byte_of(2u, coord);
    return vec2<f32>(sample_in(plane1[b1 >> 2u], b1), sample_in(plane2[b2 >> 2u], b2));
}

// Texels k..k+3 of row `line` (k a usable texel; the quad starts at the
// multiple of four at or below it) of component `c`'s plane of one-byte
// texels, as one word: its four bytes in order. Only the quads a table
// names are read, and each holds at least one usable texel, so the word is
// in the row; the bytes past the usable rectangle it may also hold (or the
// row's padding) are finite and weighted zero.
fn word_quad(c: u32, k: i32, line: i32) -> vec4<f32> {
    let b = params.plane_base[c] + u32(line) * params.row_bytes[c] + u32(k & ~3);
    if (c == 0u) {
        return vec4<f32>(unpack4xU8(plane0[b >> 2u]));
    }
    if (c == 1u) {
        return vec4<f32>(unpack4xU8(plane1[b >> 2u]));
    }
    return vec4<f32>(unpack4xU8(plane2[b >> 2u]));
}

// The alpha sample of texel `coord` (on the luma grid).
fn fetch_alpha(coord: vec2<i32>) -> f32 {
    let b = params.alpha.w + u32(coord.y) * params.alpha.y + u32(coord.x) * params.alpha.z
        + params.alpha.x * params.row_bytes.w;
    return sample_in(plane3[b >> 2u], b);
}
