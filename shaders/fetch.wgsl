// Fetch stage: raw samples of one texel, as the integers in their containers
// (the host folds 1 / (2^bits - 1) into `sample.x`). Word loads from the
// planes as uploaded rather than texture fetches: on lavapipe a texel fetch
// costs several times a storage load, and the planes need no copy into
// textures (nor 16-bit normalised texture formats). Clamping to the usable
// rectangle happens in the caller, so a load here is always inside the
// plane.

// Byte offset of component k's sample of texel `coord` in its plane.
fn byte_of(k: u32, coord: vec2<i32>) -> u32 {
    return u32(coord.y) * params.row_bytes[k] + u32(coord.x) * params.texel_bytes[k]
        + params.channel[k] * params.row_bytes.w;
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
