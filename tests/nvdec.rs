//! The NVDEC backend on an NVIDIA GPU: every request of the fixtures, exact
//! and with a tolerance window, must come back as the software backend
//! returns it — the same frame (its code read from the pixels, and the
//! same time), SDR and tone-mapped HDR pixels within 40 dB of it — and say
//! NVDEC made it, with no fallback. Where NVDEC cannot serve (no NVIDIA
//! driver, no `libnvcuvid`, no CUDA device that is the rendering GPU, a
//! profile the chip or FFmpeg's decoder lacks) each case prints
//! `skipped: <reason>` with the backend's own reason, and `Auto` must then
//! pass NVDEC over with that reason. `platform/nvidia/check.sh` runs this
//! on an NVIDIA machine.

mod common;

use common::harness::{code8, open_fixture};
use common::metrics::psnr8;
use stills::gpu::AdapterPreference;
use stills::{
    backend_statuses, Asset, BackendKind, BackendPreference, BackendStatus, GeneratorPool,
    GpuContext, ImageGenerator, Size, Time,
};

/// Fixtures of the codecs NVDEC decodes (and two it does not: 4:4:4 H.264
/// and, where FFmpeg prefers libdav1d, AV1), SDR and HDR.
const FIXTURES: [&str; 8] = [
    "h264_bframes.mp4",
    "h264_opengop_pyramid.mkv",
    "crop_162x122_yuv420p.mp4",
    "hevc_main10_hdr10.mp4",
    "hevc_main10_hlg.mp4",
    "vp9.webm",
    "av1.mp4",
    "yuv444p.mp4",
];

fn nvdec_status(asset: &Asset, gpu: &GpuContext) -> BackendStatus {
    let track = asset.default_video_track().unwrap().clone();
    backend_statuses(Some(&track), Some(gpu.interop()))
        .into_iter()
        .find(|s| s.backend == BackendKind::Nvdec)
        .unwrap()
}

/// Six times spread over the fixture, and whether each is asked exactly
/// or with a window of a quarter second either side.
fn requests(asset: &Asset) -> Vec<Time> {
    let track = asset.default_video_track().unwrap().clone();
    let frames = asset.timeline(&track).unwrap().expect("frames");
    let span = frames.last_frame.seconds() - frames.first_frame.seconds();
    (0..6)
        .map(|i| {
            let s = frames.first_frame.seconds() + span * (f64::from(i) + 0.5) / 6.0;
            format!("{s:.3}").parse().unwrap()
        })
        .collect()
}

#[test]
fn nvdec_returns_the_software_backends_frames() {
    let gpu = GpuContext::new(AdapterPreference::Auto).expect("a GPU or lavapipe");
    let pool = GeneratorPool::with_gpu(gpu.clone());
    let mut compared = 0;
    for name in FIXTURES {
        let status = nvdec_status(&open_fixture(name), &gpu);
        if !status.available {
            eprintln!("skipped: {name}: {}", status.reason);
            continue;
        }
        eprintln!("{name}: {}", status.reason);
        let times = requests(&open_fixture(name));
        for window in [false, true] {
            let grab = |backend: BackendKind| {
                let generator = ImageGenerator::with_pool(open_fixture(name), &pool);
                generator.configure(|s| {
                    if window {
                        s.set_tolerance_before(Time::new(1, 4)).unwrap();
                        s.set_tolerance_after(Time::new(1, 4)).unwrap();
                    } else {
                        s.set_exact();
                    }
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
            let hardware = grab(BackendKind::Nvdec);
            for (t, ((sw, sw_at), (hw, hw_at))) in times.iter().zip(software.iter().zip(&hardware))
            {
                let made_by = hw.backend().expect("the image names its backend");
                assert_eq!(
                    made_by.backend,
                    BackendKind::Nvdec,
                    "{name} @{t}: {made_by:?}"
                );
                assert_eq!(hw_at, sw_at, "{name} @{t}: a different frame time");
                assert_eq!(code8(hw), code8(sw), "{name} @{t}: a different frame");
                assert_eq!((hw.width(), hw.height()), (sw.width(), sw.height()));
                let db = psnr8(hw.data(), sw.data());
                assert!(db >= 40.0, "{name} @{t}: {db:.1} dB against software");
                eprintln!(
                    "{name} @{t} ({}): frame {} at {hw_at}, {db:.1} dB",
                    if window { "window" } else { "exact" },
                    code8(hw)
                );
                compared += 1;
            }
        }
    }
    if compared == 0 {
        eprintln!(
            "skipped: nvdec_returns_the_software_backends_frames: no fixture decodes on NVDEC here"
        );
    }
}

#[test]
fn auto_passes_nvdec_over_with_its_reason_where_it_cannot_serve() {
    let gpu = GpuContext::new(AdapterPreference::Auto).expect("a GPU or lavapipe");
    let pool = GeneratorPool::with_gpu(gpu.clone());
    let name = "h264_bframes.mp4";
    let status = nvdec_status(&open_fixture(name), &gpu);
    let generator = ImageGenerator::with_pool(open_fixture(name), &pool);
    generator.configure(|s| s.set_maximum_size(Size::new(160, 0)));
    let (image, _) = generator
        .copy_image(Time::new(1, 1))
        .expect("Auto serves the request");
    let choice = image.backend().expect("the image names its backend");
    if status.available {
        eprintln!("nvdec available: {}", status.reason);
        assert!(
            matches!(choice.backend, BackendKind::Nvdec | BackendKind::Vaapi),
            "{choice:?}"
        );
    } else {
        eprintln!("skipped: nvdec: {}", status.reason);
        assert_ne!(choice.backend, BackendKind::Nvdec);
        let passed = choice
            .passed_over
            .iter()
            .find(|s| s.backend == BackendKind::Nvdec)
            .expect("Auto tried NVDEC before software");
        assert_eq!(passed.reason, status.reason);
    }
}
