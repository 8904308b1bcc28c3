// Fetch stage, image input: the planes of an imported picture (a tiled
// DMA-BUF, an image another API wrote) as unsigned-integer textures, one
// per plane, so `textureLoad` returns the same integers in their containers
// that the buffer fetch reads from words. Clamping to the usable rectangle
// happens in the caller, so a load here is always inside the plane.

// Component k is read from the texture holding its plane; semi-planar and
// packed layouts bind the same texture more than once and pick channels.
@group(0) @binding(1) var plane0: texture_2d<u32>;
@group(0) @binding(2) var plane1: texture_2d<u32>;
@group(0) @binding(3) var plane2: texture_2d<u32>;
// The texture holding alpha (plane 0 again when the format has none).
@group(0) @binding(8) var plane3: texture_2d<u32>;

fn fetch0(coord: vec2<i32>) -> f32 {
    return f32(textureLoad(plane0, coord, 0)[params.channel[0]]);
}

fn fetch12(coord: vec2<i32>) -> vec2<f32> {
    return vec2<f32>(
        f32(textureLoad(plane1, coord, 0)[params.channel[1]]),
        f32(textureLoad(plane2, coord, 0)[params.channel[2]]),
    );
}

fn fetch_alpha(coord: vec2<i32>) -> f32 {
    return f32(textureLoad(plane3, coord, 0)[params.alpha.x]);
}

// The buffer fetch's whole-word quads have no counterpart here: the host
// never selects that variant for image input, but the shared resample code
// names the function, so it reads the four texels one by one.
fn word_quad(c: u32, k: i32, line: i32) -> vec4<f32> {
    let k0 = k & ~3;
    let last = i32(select(textureDimensions(plane1).x, textureDimensions(plane0).x, c == 0u)) - 1;
    var quad: vec4<f32>;
    for (var i = 0; i < 4; i++) {
        let coord = vec2<i32>(min(k0 + i, last), line);
        if (c == 0u) {
            quad[i] = fetch0(coord);
        } else {
            let pair = fetch12(coord);
            quad[i] = select(pair.y, pair.x, c == 1u);
        }
    }
    return quad;
}
