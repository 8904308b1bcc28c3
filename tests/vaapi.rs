//! The VA-API backend on a real render node: the exact frames of the
//! fixtures must come back as the software backend returns them — the same
//! frame (its code read from the pixels, and the same time) and the same
//! pixels (≥ 50 dB; conforming hardware decoders are bit-exact, so what
//! differs is only how the pipeline fetches NV12/P010 against planar
//! 4:2:0) — and say VA-API made them, with no fallback. Where VA-API
//! cannot serve (no render node, no driver, a GPU that cannot import tiled
//! DMA-BUFs, a profile the driver lacks) each case prints `SKIPPED` with
//! the backend's own reason. `platform/vaapi/check.sh` runs this on an
//! Intel or AMD machine.

mod common;

use common::harness::{code8, open_fixture};
use common::metrics::psnr8;
use stills::gpu::AdapterPreference;
use stills::{
    backend_statuses, BackendKind, BackendPreference, GeneratorPool, GpuContext, ImageGenerator,
    Size, Time,
};

/// Fixtures of the codecs and depths VA-API decodes, 4:2:0 all.
const FIXTURES: [&str; 5] = [
    "h264_bframes.mp4",
    "h264_opengop_pyramid.mkv",
    "hevc_main10_hdr10.mp4",
    "av1.mp4",
    "crop_162x122_yuv420p.mp4",
];

#[test]
fn vaapi_returns_the_software_backends_frames() {
    let gpu = GpuContext::new(AdapterPreference::Auto).expect("a GPU or lavapipe");
    let pool = GeneratorPool::with_gpu(gpu.clone());
    let mut compared = 0;
    for name in FIXTURES {
        let asset = open_fixture(name);
        let track = asset.default_video_track().unwrap().clone();
        let statuses = backend_statuses(Some(&track), Some(gpu.interop()));
        let vaapi = statuses
            .iter()
            .find(|s| s.backend == BackendKind::Vaapi)
            .unwrap();
        if !vaapi.available {
            eprintln!("SKIPPED {name}: vaapi unavailable: {}", vaapi.reason);
            continue;
        }
        eprintln!("{name}: {}", vaapi.reason);
        let frames = asset.timeline(&track).unwrap().expect("frames");
        let span = frames.last_frame.seconds() - frames.first_frame.seconds();
        let times: Vec<Time> = (0..6)
            .map(|i| {
                let s = frames.first_frame.seconds() + span * (f64::from(i) + 0.5) / 6.0;
                format!("{s:.3}").parse().unwrap()
            })
            .collect();
        let grab = |backend: BackendKind| {
            let generator = ImageGenerator::with_pool(open_fixture(name), &pool);
            generator.configure(|s| {
                s.set_exact();
                s.set_backend(BackendPreference::Only(backend));
                s.set_maximum_size(Size::new(320, 0));
            });
            times
                .iter()
                .map(|&t| {
                    generator
                        .copy_image(t)
                        .unwrap_or_else(|e| panic!("{name} @{t} on {}: {e}", backend.name()))
                })
                .collect::<Vec<_>>()
        };
        let software = grab(BackendKind::Software);
        let hardware = grab(BackendKind::Vaapi);
        for (t, ((sw, sw_at), (hw, hw_at))) in times.iter().zip(software.iter().zip(&hardware)) {
            let made_by = hw.backend().expect("the image names its backend");
            assert_eq!(
                made_by.backend,
                BackendKind::Vaapi,
                "{name} @{t}: {made_by:?}"
            );
            assert_eq!(hw_at, sw_at, "{name} @{t}: a different frame time");
            assert_eq!(code8(hw), code8(sw), "{name} @{t}: a different frame");
            assert_eq!((hw.width(), hw.height()), (sw.width(), sw.height()));
            let db = psnr8(hw.data(), sw.data());
            assert!(db >= 50.0, "{name} @{t}: {db:.1} dB against software");
            eprintln!("{name} @{t}: frame {} at {hw_at}, {db:.1} dB", code8(hw));
            compared += 1;
        }
    }
    if compared == 0 {
        eprintln!(
            "SKIPPED vaapi_returns_the_software_backends_frames: no fixture decodes on VA-API here"
        );
    }
}
