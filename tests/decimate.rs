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

use common::ffmpeg::ffmpeg;
use common::gpu::context;
use common::harness::shared_file;
use stills::asset::color::{
    ChromaLocation, ColorInfo, ColorPrimaries, ColorRange, ContentLightLevel, HdrFormat, HdrInfo,
    MatrixCoefficients, TransferCharacteristic,
};
use stills::asset::geometry::{CleanAperture, Orientation};
use stills::gpu::{FramePipeline, RenderedImage};
use stills::picture::{DecodedFormat, PictureDesc};
use stills::render::spec::OutputEncoding;
use stills::render::{DynamicRangePolicy, RenderSettings, Size, SourceGeometry};
use stills::surface::Picture;
use stills::{Asset, Ratio};

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

fn settings(width: u32, height: u32) -> RenderSettings {
    RenderSettings {
        maximum_size: Size::new(width, height),
        applies_preferred_track_transform: true,
        ..RenderSettings::default()
    }
}

/// The first frame of `path` as raw planes of `pix_fmt`, described with
/// the track's colour and HDR tags.
fn fixture_frame(path: &std::path::Path) -> (Picture, SourceGeometry) {
    let asset = Asset::open(path).unwrap();
    let track = asset.default_video_track().unwrap().clone();
    // A full-range `yuvj420p` track stays as it is, tagged full range.
    let (format, pix_fmt) = match track.pixel_format.as_deref() {
        Some("yuvj420p") => (DecodedFormat::Yuv420p, "yuvj420p"),
        Some("yuv444p") => (DecodedFormat::Yuv444p, "yuv444p"),
        _ if track.bit_depth.is_some_and(|bits| bits > 8) => {
            (DecodedFormat::Yuv420p10, "yuv420p10le")
        }
        _ => (DecodedFormat::Yuv420p, "yuv420p"),
    };
    let raw = ffmpeg(
        &[
            "-i",
            path.to_str().unwrap(),
            "-map",
            "0:v:0",
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            pix_fmt,
            "-",
        ],
        None,
    );
    let (w, h) = (track.coded_width, track.coded_height);
    let desc = PictureDesc::packed(w, h, format, track.color, track.hdr).unwrap();
    let picture = Picture::host(desc, vec![raw.into(); format.desc().planes.len()]).unwrap();
    (picture, track.geometry())
}

/// A `width`×`height` testsrc2 frame of `pix_fmt`, tagged `color`/`hdr`.
fn pattern(
    width: u32,
    height: u32,
    format: DecodedFormat,
    color: ColorInfo,
    hdr: HdrInfo,
) -> Picture {
    let raw = common::gpu::lavfi_frame(
        &format!("testsrc2=s={width}x{height}:d=1"),
        "",
        format.ffmpeg_name(),
    );
    let desc = PictureDesc::packed(width, height, format, color, hdr).unwrap();
    Picture::host(desc, vec![raw.into(); format.desc().planes.len()]).unwrap()
}

fn hdr10() -> (ColorInfo, HdrInfo) {
    let color = ColorInfo {
        primaries: ColorPrimaries::Bt2020,
        transfer: TransferCharacteristic::Pq,
        matrix: MatrixCoefficients::Bt2020Ncl,
        range: ColorRange::Limited,
        chroma_location: ChromaLocation::Left,
    };
    let hdr = HdrInfo {
        format: Some(HdrFormat::Pq),
        content_light_level: Some(ContentLightLevel {
            max_cll: 1000,
            max_fall: 400,
        }),
        ..HdrInfo::SDR
    };
    (color, hdr)
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
    let hd = pattern(
        1920,
        1080,
        DecodedFormat::Yuv420p,
        ColorInfo::BT709,
        HdrInfo::SDR,
    );
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
        pattern(
            1920,
            1080,
            DecodedFormat::Yuv420p,
            ColorInfo::BT709,
            HdrInfo::SDR,
        ),
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
            pattern(
                1920,
                1080,
                DecodedFormat::Yuv420p,
                ColorInfo::BT709,
                HdrInfo::SDR,
            ),
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
        let (picture, geometry) = fixture_frame(std::path::Path::new(&format!("{fixtures}{file}")));
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
            let (picture, geometry) = fixture_frame(&path);
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

/// PSNR over the colour samples (alpha left out) at the image's depth.
fn psnr(a: &RenderedImage, b: &RenderedImage) -> f64 {
    let (samples_a, samples_b, peak): (Vec<f64>, Vec<f64>, f64) = match a.encoding {
        OutputEncoding::Srgb8 => (
            a.data.iter().map(|&v| f64::from(v)).collect(),
            b.data.iter().map(|&v| f64::from(v)).collect(),
            255.0,
        ),
        OutputEncoding::Pq16 | OutputEncoding::Hlg16 => {
            let wide = |d: &[u8]| {
                d.chunks_exact(2)
                    .map(|s| f64::from(u16::from_le_bytes([s[0], s[1]])))
                    .collect()
            };
            (wide(&a.data), wide(&b.data), 65535.0)
        }
    };
    let (mut total, mut count) = (0.0, 0usize);
    for (i, (x, y)) in samples_a.iter().zip(&samples_b).enumerate() {
        if i % 4 != 3 {
            total += (x - y) * (x - y);
            count += 1;
        }
    }
    let mse = total / count as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (peak * peak / mse).log10()
    }
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
        let db = psnr(&direct, &decimated);
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
