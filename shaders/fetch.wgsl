// Fetch stage: raw samples of one texel, as unorm of their container.
// Clamping to the usable rectangle happens in the caller, so a load here is
// always inside the plane.

fn fetch0(coord: vec2<i32>) -> f32 {
    return textureLoad(tex0, coord, 0)[params.channel.x];
}

fn fetch12(coord: vec2<i32>) -> vec2<f32> {
    let a = textureLoad(tex1, coord, 0)[params.channel.y];
    let b = textureLoad(tex2, coord, 0)[params.channel.z];
    return vec2<f32>(a, b);
}
