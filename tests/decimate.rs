//! Parity of the host pre-decimation CPU adapters take before steep
//! downscales (`FramePipeline::set_host_decimation`) with the direct path
//! through the same WGSL stages: 50 dB or better on every fixture, for SDR
//! and HDR (tone mapped to SDR, and kept as 16-bit PQ), rotated,
//! anamorphic and cropped, synthetic patterns and real footage alike.
//!
//! Where the decimated path applies, the images must differ (so the test
//! knows it ran); where no box divides the usable span, the pipeline must
//! take the direct path and give the same bytes.

mod common;

use common::gpu::context;
use common::harness::shared_file;
use common::pictures::{fixture_frame, hdr10, pattern, rendered_psnr, sdr_pattern, settings};
use stills::asset::color::{ColorInfo, HdrFormat, HdrInfo, TransferCharacteristic};
use stills::asset::geometry::{CleanAperture, Orientation};
use stills::gpu::{FramePipeline, RenderedImage};
use stills::picture::DecodedFormat;
use stills::render::{DynamicRangePolicy, RenderSettings, SourceGeometry};
use stills::surface::Picture;
use stills::Ratio;

const THRESHOLD: f64 = 50.0;

/// Whether the decimated path is expected to run for a case.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Decimated,
    Direct,
}

struct Case {
    name: String,
    picture: Picture,
    geometry: SourceGeometry,
    settings: RenderSettings,
    expect: Expect,
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: &str, picture, geometry, settings, expect| {
        cases.push(Case {
            name: name.to_string(),
            picture,
            geometry,
            settings,
            expect,
        })
    };
    let plain = SourceGeometry::default();
    let hd = sdr_pattern(1920, 1080);
    add(
        "testsrc2 1080p → 160",
        hd,
        plain,
        settings(160, 0),
        Expect::Decimated,
    );
    // A clean aperture 12 columns and 6 rows in, its usable span whole
    // boxes of 4.
    let geometry = SourceGeometry {
        clean_aperture: Some(CleanAperture {
            width: Ratio::new(1896, 1).unwrap(),
            height: Ratio::new(1068, 1).unwrap(),
            horizontal_offset: Ratio::new(0, 1).unwrap(),
            vertical_offset: Ratio::new(0, 1).unwrap(),
        }),
        ..plain
    };
    add(
        "testsrc2 1080p cropped → 158",
        sdr_pattern(1920, 1080),
        geometry,
        settings(158, 0),
        Expect::Decimated,
    );
    let (color, hdr) = hdr10();
    add(
        "testsrc2 2160p PQ tone mapped → 160",
        pattern(3840, 2160, DecodedFormat::Yuv420p10, color, hdr),
        plain,
        settings(160, 0),
        Expect::Decimated,
    );
    add(
        "testsrc2 2160p PQ kept as PQ16 → 160",
        pattern(3840, 2160, DecodedFormat::Yuv420p10, color, hdr),
        plain,
        RenderSettings {
            dynamic_range_policy: DynamicRangePolicy::MatchSource,
            ..settings(160, 0)
        },
        Expect::Decimated,
    );
    for (name, orientation) in [
        (
            "testsrc2 1080p rotated 90° → 90x160",
            Orientation {
                rotation: 90,
                mirror: false,
            },
        ),
        (
            "testsrc2 1080p mirrored, rotated 270° → 90x160",
            Orientation {
                rotation: 270,
                mirror: true,
            },
        ),
    ] {
        add(
            name,
            sdr_pattern(1920, 1080),
            SourceGeometry {
                orientation: Some(orientation),
                ..plain
            },
            settings(90, 0),
            Expect::Decimated,
        );
    }
    let hlg = ColorInfo {
        transfer: TransferCharacteristic::Hlg,
        ..color
    };
    add(
        "testsrc2 1080p 10-bit HLG tone mapped → 160",
        pattern(
            1920,
            1080,
            DecodedFormat::Yuv420p10,
            hlg,
            HdrInfo {
                format: Some(HdrFormat::Hlg),
                ..HdrInfo::SDR
            },
        ),
        plain,
        settings(160, 0),
        Expect::Decimated,
    );
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
    // The fixtures are small: under 64 px, or at boxes of 2 (a single texel
    // of 4:2:0 chroma), every one keeps the direct path.
    for (file, size) in [
        ("bt709_tagged_hd.mp4", (160, 0)),
        ("bt709_tagged_hd.mp4", (80, 0)),
        ("bt601_tagged_sd.mp4", (32, 0)),
        ("hevc_main10_hdr10.mp4", (32, 0)),
        ("rot90.mp4", (0, 16)),
        ("clap_pasp.mp4", (16, 0)),
        ("odd_161x121_yuv444p.mp4", (16, 0)),
    ] {
        let path = format!("{fixtures}{file}");
        let (picture, geometry) = fixture_frame(std::path::Path::new(&path)).expect(&path);
        add(
            &format!("{file} → {}x{}", size.0, size.1),
            picture,
            geometry,
            settings(size.0, size.1),
            Expect::Direct,
        );
    }
    // Real footage from the shared media: HDR10 landscape (AV1), an
    // iPhone's HLG rotated by the display matrix, SDR camera footage.
    for (file, size, expect) in [
        (
            "androidx/sample_with_colr_mdcv_and_clli.mp4",
            (160, 0),
            Expect::Decimated,
        ),
        ("androidx/dolbyVision-hdr.MOV", (0, 60), Expect::Direct),
        ("androidx/sample_empty_track.mp4", (60, 0), Expect::Direct),
    ] {
        if let Some(path) = shared_file(file) {
            let (picture, geometry) = fixture_frame(&path).expect(file);
            add(
                &format!("{file} → {}x{}", size.0, size.1),
                picture,
                geometry,
                settings(size.0, size.1),
                expect,
            );
        }
    }
    cases
}

fn render(case: &Case, decimate: bool) -> RenderedImage {
    let mut pipeline = FramePipeline::new(context()).unwrap();
    pipeline.set_host_decimation(decimate);
    let spec = stills::render::OutputSpec::new(&case.picture.desc, &case.geometry, &case.settings)
        .unwrap();
    pipeline.render(&case.picture, &spec).unwrap()
}

#[test]
fn decimated_path_matches_the_direct_one_within_50_db() {
    let mut problems = Vec::new();
    for case in cases() {
        let direct = render(&case, false);
        let decimated = render(&case, true);
        assert_eq!(
            (decimated.width, decimated.height, decimated.encoding),
            (direct.width, direct.height, direct.encoding),
            "{}",
            case.name
        );
        let db = rendered_psnr(&direct, &decimated, false);
        eprintln!(
            "{}: {}x{}, {:?}: {db:.2} dB",
            case.name, direct.width, direct.height, case.expect
        );
        match case.expect {
            Expect::Decimated if db.is_infinite() => {
                problems.push(format!("{}: the decimated path did not run", case.name))
            }
            Expect::Decimated if db < THRESHOLD => {
                problems.push(format!("{}: {db:.2} dB < {THRESHOLD}", case.name))
            }
            Expect::Direct if db.is_finite() => problems.push(format!(
                "{}: decimated although no box fits ({db:.2} dB)",
                case.name
            )),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
