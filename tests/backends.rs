//! Each backend's status says what it found or exactly what is missing,
//! and the choice among them follows: software always serves a codec this
//! FFmpeg decodes; a hardware backend this machine cannot use is passed
//! over with its reason kept.

use std::path::Path;

use stills::gpu::AdapterPreference;
use stills::{
    backend_statuses, Asset, BackendKind, BackendPreference, BackendStatus, Error, GpuContext,
    ImageGenerator, Size,
};

fn fixture(name: &str) -> Asset {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    Asset::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn status_of(statuses: &[BackendStatus], kind: BackendKind) -> &BackendStatus {
    statuses
        .iter()
        .find(|s| s.backend == kind)
        .unwrap_or_else(|| panic!("no status for {kind:?}"))
}

#[test]
fn software_names_the_ffmpeg_decoder_it_uses() {
    let asset = fixture("h264_bframes.mp4");
    let track = asset.default_video_track().unwrap();
    let statuses = backend_statuses(Some(track), None);
    assert_eq!(
        statuses.iter().map(|s| s.backend).collect::<Vec<_>>(),
        BackendKind::ALL,
        "one status per backend, best first"
    );
    let software = status_of(&statuses, BackendKind::Software);
    assert!(software.available, "{software:?}");
    assert_eq!(software.reason, "FFmpeg decoder 'h264'");
    // Without a track: the FFmpeg it would use.
    let general = backend_statuses(None, None);
    let software = status_of(&general, BackendKind::Software);
    assert!(software.available && software.reason.starts_with("FFmpeg libavcodec "));
}

#[test]
fn hardware_backends_say_why_they_cannot_serve() {
    let asset = fixture("h264_bframes.mp4");
    let track = asset.default_video_track().unwrap();
    for kind in [BackendKind::Vaapi, BackendKind::Nvdec] {
        let status = status_of(&backend_statuses(Some(track), None), kind).clone();
        if status.available {
            eprintln!(
                "skipped: {} is available here ({}), so there is no refusal to check",
                kind.name(),
                status.reason
            );
            continue;
        }
        assert!(
            !status.reason.is_empty() && !status.reason.contains("not implemented"),
            "{}: {}",
            kind.name(),
            status.reason
        );
        eprintln!("{}: unavailable: {}", kind.name(), status.reason);
        // Asking for it alone fails with that reason, before any decoding.
        let generator = ImageGenerator::new(fixture("h264_bframes.mp4"));
        generator.configure(|s| {
            s.set_backend(BackendPreference::Only(kind));
            s.set_maximum_size(Size::new(64, 0));
        });
        match generator.copy_image("0.5".parse().unwrap()) {
            Err(Error::BackendUnavailable { backend, reason }) => {
                assert_eq!(backend, kind.name());
                assert_eq!(reason, status.reason);
            }
            other => panic!(
                "{}: expected BackendUnavailable, got {other:?}",
                kind.name()
            ),
        }
    }
}

#[test]
fn auto_falls_back_and_keeps_the_reasons() {
    let generator = ImageGenerator::new(fixture("h264_bframes.mp4"));
    generator.configure(|s| s.set_maximum_size(Size::new(64, 0)));
    let (image, _) = generator.copy_image("0.5".parse().unwrap()).unwrap();
    let choice = image
        .backend()
        .expect("the image says which backend made it");
    let asset = fixture("h264_bframes.mp4");
    let (_, interop) = GpuContext::probe_adapter(AdapterPreference::Auto).unwrap();
    let statuses = backend_statuses(Some(asset.default_video_track().unwrap()), Some(&interop));
    let best = statuses.iter().find(|s| s.available).unwrap();
    assert_eq!(choice.backend, best.backend);
    // Every better backend is listed with the reason it was passed over.
    let better: Vec<_> = statuses
        .iter()
        .take_while(|s| s.backend != choice.backend)
        .cloned()
        .collect();
    assert_eq!(choice.passed_over, better);
}

/// `stills probe` and backend choice ask the adapter what it imports
/// without opening a device; the context opened on it must agree.
#[test]
fn the_adapter_probe_agrees_with_the_opened_context() {
    let (info, interop) = GpuContext::probe_adapter(AdapterPreference::Auto).unwrap();
    let ctx = GpuContext::new(AdapterPreference::Auto).unwrap();
    assert_eq!(&info, ctx.info());
    assert_eq!(&interop, ctx.interop());
    eprintln!("{}: {interop}", info.name);
}
