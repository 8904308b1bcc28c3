// Pass 2: filter along the second axis, convert YUV -> R'G'B' with the
// stream's matrix, run the colour stage, encode and store.

fn components(i: u32, j: u32) -> vec3<f32> {
    let c0 = filter_secondary(0u, i, j).x * params.sample.x;
    var c12 = vec2<f32>(params.sample.y);
    if (params.channel.w == 0u) {
        c12 = filter_secondary(1u, i, j) * params.sample.x;
    }
    return vec3<f32>(c0, c12);
}

fn yuv_to_rgb(c: vec3<f32>) -> vec3<f32> {
    return vec3<f32>(
        dot(params.yuv[0].xyz, c) + params.yuv[0].w,
        dot(params.yuv[1].xyz, c) + params.yuv[1].w,
        dot(params.yuv[2].xyz, c) + params.yuv[2].w,
    );
}

@compute @workgroup_size(8, 8, 1)
fn resample_secondary(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let j = gid.y;
    let out_w = params.out_size.x;
    if (i >= out_w || j >= params.out_size.y) {
        return;
    }
    let rgb = to_output(yuv_to_rgb(components(i, j)));
    let pixel = j * out_w + i;
    if (params.out_size.w == 1u) {
        out_pixels[pixel] = pack4x8unorm(vec4<f32>(rgb, 1.0));
    } else {
        out_pixels[2u * pixel] = pack2x16unorm(rgb.rg);
        out_pixels[2u * pixel + 1u] = pack2x16unorm(vec2<f32>(rgb.b, 1.0));
    }
}
