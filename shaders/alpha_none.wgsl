// Every texel opaque: the stand-ins for alpha_read.wgsl in the module the
// variants that never read alpha are made from. Lavapipe inlines every call
// before it drops the branches an override turns off, so the alpha fetches
// reachable from the pass-1 loops, though never run, doubled the time to
// create those pipelines (a cold process's GPU context: ~120 ms before
// alpha, ~270 ms with it, on lavapipe).

fn quad_alpha(l: Lines, k: i32, line: i32) -> vec4<f32> {
    return vec4<f32>(1.0);
}

fn alpha_at(coord: vec2<i32>) -> f32 {
    return 1.0;
}

fn texel_alpha12(coord: vec2<i32>) -> f32 {
    return 1.0;
}

// Never called: only PREMULTIPLY variants call it, and they are built with
// alpha_read.wgsl.
fn texel12_premultiplied_per_luma(coord: vec2<i32>) -> vec2<f32> {
    return fetch12(coord) - params.sample.w;
}
