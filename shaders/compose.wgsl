// The compose pass of a video composition: layers drawn bottom to top into
// an accumulator of premultiplied linear-light RGBA, one dispatch per
// layer, then encoded once into the output texture. Every layer load is
// linear light: an SDR composition's layers are sRGB-format textures, an
// HDR one's linear BT.2020 floats with 1.0 at reference white (203 cd/m²).
// The transfer curves come from `transfer.wgsl`, prepended.

struct Draw {
    // Output pixel centre → layer texture coordinates:
    // q = (m.x·x + m.z·y + t.x, m.y·x + m.w·y + t.y).
    m: vec4<f32>,
    // t.xy, then the layer texture's size.
    t_size: vec4<f32>,
    // The shown part of the layer, x0 y0 x1 y1 in texture coordinates.
    crop: vec4<f32>,
    // opacity, output width, output height; for the clear pass `m` holds
    // the background.
    misc: vec4<f32>,
}

@group(0) @binding(0) var<storage, read_write> acc: array<vec4<f32>>;
@group(0) @binding(1) var layer: texture_2d<f32>;
@group(0) @binding(2) var<uniform> draw: Draw;
@group(0) @binding(3) var composed: texture_storage_2d<rgba8unorm, write>;
@group(0) @binding(4) var composed_pq: texture_storage_2d<rgba16uint, write>;

fn output_size() -> vec2<u32> {
    return vec2<u32>(u32(draw.misc.y), u32(draw.misc.z));
}

@compute @workgroup_size(8, 8)
fn clear(@builtin(global_invocation_id) id: vec3<u32>) {
    let size = output_size();
    if id.x >= size.x || id.y >= size.y {
        return;
    }
    acc[id.y * size.x + id.x] = draw.m;
}

// A layer texel, premultiplied, its coordinates clamped to the texture.
fn texel(p: vec2<i32>) -> vec4<f32> {
    let last = vec2<i32>(draw.t_size.zw) - vec2<i32>(1, 1);
    let c = textureLoad(layer, clamp(p, vec2<i32>(0, 0), last), 0);
    return vec4<f32>(c.rgb * c.a, c.a);
}

// Bilinear on texel centres (i + 0.5), in premultiplied linear light.
fn bilinear(q: vec2<f32>) -> vec4<f32> {
    let p = q - vec2<f32>(0.5, 0.5);
    let base = floor(p);
    let f = p - base;
    let i = vec2<i32>(base);
    let top = mix(texel(i), texel(i + vec2<i32>(1, 0)), f.x);
    let bottom = mix(texel(i + vec2<i32>(0, 1)), texel(i + vec2<i32>(1, 1)), f.x);
    return mix(top, bottom, f.y);
}

@compute @workgroup_size(8, 8)
fn blend(@builtin(global_invocation_id) id: vec3<u32>) {
    let size = output_size();
    if id.x >= size.x || id.y >= size.y {
        return;
    }
    let o = vec2<f32>(f32(id.x) + 0.5, f32(id.y) + 0.5);
    let q = vec2<f32>(
        draw.m.x * o.x + draw.m.z * o.y + draw.t_size.x,
        draw.m.y * o.x + draw.m.w * o.y + draw.t_size.y,
    );
    let inside = q.x >= max(draw.crop.x, 0.0) && q.y >= max(draw.crop.y, 0.0)
        && q.x < min(draw.crop.z, draw.t_size.z) && q.y < min(draw.crop.w, draw.t_size.w);
    if !inside {
        return;
    }
    let src = bilinear(q) * draw.misc.x;
    let k = id.y * size.x + id.x;
    acc[k] = src + acc[k] * (1.0 - src.a);
}

// The accumulated pixel as straight (unpremultiplied) linear light and its
// coverage.
fn straight(id: vec2<u32>, size: vec2<u32>) -> vec4<f32> {
    let c = acc[id.y * size.x + id.x];
    var rgb = vec3<f32>(0.0);
    if c.a > 0.0 {
        rgb = c.rgb / c.a;
    }
    return vec4<f32>(rgb, clamp(c.a, 0.0, 1.0));
}

@compute @workgroup_size(8, 8)
fn encode(@builtin(global_invocation_id) id: vec3<u32>) {
    let size = output_size();
    if id.x >= size.x || id.y >= size.y {
        return;
    }
    let c = straight(id.xy, size);
    let rgb = clamp(c.rgb, vec3<f32>(0.0), vec3<f32>(1.0));
    let srgb = vec3<f32>(srgb_oetf(rgb.r), srgb_oetf(rgb.g), srgb_oetf(rgb.b));
    textureStore(composed, vec2<i32>(id.xy), vec4<f32>(srgb, c.a));
}

// Reference white over PQ's 10000 cd/m².
const WHITE_IN_PQ: f32 = 0.0203;

@compute @workgroup_size(8, 8)
fn encode_pq(@builtin(global_invocation_id) id: vec3<u32>) {
    let size = output_size();
    if id.x >= size.x || id.y >= size.y {
        return;
    }
    let c = straight(id.xy, size);
    let y = c.rgb * WHITE_IN_PQ;
    let pq = vec4<f32>(pq_inverse_eotf(y.r), pq_inverse_eotf(y.g), pq_inverse_eotf(y.b), c.a);
    textureStore(composed_pq, vec2<i32>(id.xy), vec4<u32>(round(pq * 65535.0)));
}
