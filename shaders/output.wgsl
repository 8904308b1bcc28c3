// Pass 2: filter along the second axis, convert YUV -> R'G'B' with the
// stream's matrix, run the colour stage, encode and store.

// Components 0, 1, 2 of columns `cols` of the row pair of table entry `e`,
// one vec4 each, per row.
fn components(cols: vec4<u32>, e: u32) -> array<mat3x4<f32>, 2> {
    let c0 = filter_secondary0(cols, e);
    var c12 = array<vec4<f32>, 4>(
        vec4<f32>(params.sample.y),
        vec4<f32>(params.sample.y),
        vec4<f32>(params.sample.y),
        vec4<f32>(params.sample.y),
    );
    if (params.channel.w == 0u) {
        let f = filter_secondary12(cols, e);
        let k = params.sample.x;
        c12 = array<vec4<f32>, 4>(f[0] * k, f[1] * k, f[2] * k, f[3] * k);
    }
    return array<mat3x4<f32>, 2>(
        mat3x4<f32>(c0[0] * params.sample.x, c12[0], c12[1]),
        mat3x4<f32>(c0[1] * params.sample.x, c12[2], c12[3]),
    );
}

// Whether the picture carries alpha: pass 1 premultiplied its colour, and
// pass 2 filters alpha too, divides the colour by it and stores it.
override ALPHA_OUT: bool = false;
// Whether components 1 and 2 lie on a subsampled grid of their own, with
// their own filtered alpha (pass 1 filtered each colour texel's mean
// alpha there) to divide by.
override CHROMA_ALPHA: bool = false;

// Straight colour of four pixels whose components were filtered
// premultiplied about the neutral, given the filtered alpha of component
// 0's grid and of components 1 and 2's. Where alpha vanishes the colour is
// the neutral's (it is invisible).
fn unpremultiply(c: mat3x4<f32>, alpha: vec4<f32>, alpha12: vec4<f32>) -> mat3x4<f32> {
    let inv = select(vec4<f32>(0.0), vec4<f32>(1.0) / alpha, alpha > vec4<f32>(1e-5));
    let inv12 = select(vec4<f32>(0.0), vec4<f32>(1.0) / alpha12, alpha12 > vec4<f32>(1e-5));
    let neutral = vec4<f32>(params.sample.w * params.sample.x);
    return mat3x4<f32>(c[0] * inv + neutral, c[1] * inv12 + neutral, c[2] * inv12 + neutral);
}

fn yuv_to_rgb(c: vec3<f32>) -> vec3<f32> {
    return vec3<f32>(
        dot(params.yuv[0].xyz, c) + params.yuv[0].w,
        dot(params.yuv[1].xyz, c) + params.yuv[1].w,
        dot(params.yuv[2].xyz, c) + params.yuv[2].w,
    );
}

// One invocation per COLUMNS neighbouring pixels of each of a PAIR of
// rows of the band, stored from the start of `out_pixels`.
@compute @workgroup_size(8, 8, 1)
fn resample_secondary(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i0 = gid.x * COLUMNS;
    let e = params.band.x + gid.y;
    let j0 = e * PAIR;
    let out_w = params.out_size.x;
    let out_h = params.out_size.y;
    if (i0 >= out_w || e >= params.band.y) {
        return;
    }
    let band_j0 = params.band.x * PAIR;
    // Columns past the output repeat the last one, and a row past it (an
    // odd height's last pair) has zero weights; both are filtered but not
    // stored.
    let cols = min(vec4<u32>(i0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(out_w - 1u));
    var c = components(cols, e);
    var alpha = array<vec4<f32>, 2>(vec4<f32>(1.0), vec4<f32>(1.0));
    if (ALPHA_OUT) {
        let k = params.sample.z;
        let a = filter_secondary_alpha(cols, e, 2u, params.plane_base.w);
        alpha = array<vec4<f32>, 2>(a[0] * k, a[1] * k);
        var alpha12 = alpha;
        if (CHROMA_ALPHA) {
            let b = filter_secondary_alpha(cols, e, 3u, params.texel_bytes.w);
            alpha12 = array<vec4<f32>, 2>(b[0] * k, b[1] * k);
        }
        c = array<mat3x4<f32>, 2>(
            unpremultiply(c[0], alpha[0], alpha12[0]),
            unpremultiply(c[1], alpha[1], alpha12[1]),
        );
    }
    for (var r = 0u; r < PAIR; r = r + 1u) {
        let j = j0 + r;
        let row = transpose(c[r]);
        let a = clamp(alpha[r], vec4<f32>(0.0), vec4<f32>(1.0));
        for (var k = 0u; k < COLUMNS; k = k + 1u) {
            let i = i0 + k;
            if (i < out_w && j < out_h) {
                let rgb = to_output(yuv_to_rgb(row[k]));
                let pixel = (j - band_j0) * out_w + i;
                if (params.out_size.w == 1u) {
                    out_pixels[pixel] = pack4x8unorm(vec4<f32>(rgb, a[k]));
                } else {
                    out_pixels[2u * pixel] = pack2x16unorm(rgb.rg);
                    out_pixels[2u * pixel + 1u] = pack2x16unorm(vec2<f32>(rgb.b, a[k]));
                }
            }
        }
    }
}
