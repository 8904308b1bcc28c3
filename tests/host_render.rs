//! Parity of the CPU renderer (`HostRenderer`, what a machine whose only
//! adapter is a CPU renders with) with the WGSL passes on the same picture
//! and spec: 50 dB or better on the first frame of every video fixture and
//! of the shared real footage, at its own size, as a thumbnail and in a
//! small box, and on synthetic pictures of every layout family the
//! decoders hand over (planar, semi-planar, high-bit containers, gray, RGB,
//! packed RGBA, and with alpha: 4:2:0, 4:2:2, 4:4:4, planar and packed
//! RGBA) with tone mapping, HDR kept, rotations, mirrors and crops; and
//! its deinterlacing, spatial and motion-adaptive, against the WGSL stage.

mod common;

use std::path::Path;

use common::gpu::context;
use common::harness::{gpu_turn, shared_file};
use common::pictures::{fixture_frame, hdr10, pattern, rendered_psnr, sdr_pattern, settings};
use stills::asset::color::{ColorInfo, HdrFormat, HdrInfo, TransferCharacteristic};
use stills::asset::geometry::{CleanAperture, Orientation};
use stills::gpu::{FramePipeline, HostRenderer, RenderedImage};
use stills::picture::{DecodedFormat, PictureDesc, Scan};
use stills::render::{DynamicRangePolicy, OutputSpec, RenderSettings, SourceGeometry};
use stills::surface::Picture;
use stills::Ratio;

const THRESHOLD: f64 = 50.0;

struct Case {
    name: String,
    picture: Picture,
    geometry: SourceGeometry,
    settings: RenderSettings,
}

/// testsrc2 with alpha: a disc fading from opaque at its centre to half
/// transparent at its rim, around which everything is transparent, so
/// alpha has a soft ramp and a sharp edge over colours that differ across
/// both.
fn translucent(width: u32, height: u32, format: DecodedFormat) -> Picture {
    let alpha = concat!(
        "geq=lum='p(X,Y)':cb='p(X,Y)':cr='p(X,Y)':",
        "a='if(lt(hypot(X-W/2,Y-H/2),H/2),128+127*(1-hypot(X-W/2,Y-H/2)/(H/2)),0)'"
    );
    let raw = common::gpu::lavfi_frame(
        &format!("testsrc2=s={width}x{height}:d=1"),
        &format!("format=yuva444p,{alpha}"),
        format.ffmpeg_name(),
    );
    let desc = PictureDesc::packed(width, height, format, ColorInfo::BT709, HdrInfo::SDR).unwrap();
    assert!(desc.has_alpha(), "{format:?} carries alpha");
    Picture::host(desc, vec![raw.into(); format.desc().planes.len()]).unwrap()
}

fn synthetic_cases(cases: &mut Vec<Case>) {
    let plain = SourceGeometry::default();
    let mut add = |name: &str, picture, geometry, settings| {
        cases.push(Case {
            name: name.to_string(),
            picture,
            geometry,
            settings,
        })
    };
    for format in [
        DecodedFormat::Yuv420p,
        DecodedFormat::Nv12,
        DecodedFormat::P010,
        DecodedFormat::Yuv422p10,
        DecodedFormat::Yuv444p16,
        DecodedFormat::Gray8,
        DecodedFormat::Gray10,
        DecodedFormat::Gbrp,
        DecodedFormat::Gbrp12,
        DecodedFormat::Rgba8,
        DecodedFormat::Bgra8,
    ] {
        add(
            &format!("testsrc2 {} 322x182 → 120", format.ffmpeg_name()),
            pattern(322, 182, format, ColorInfo::BT709, HdrInfo::SDR),
            plain,
            settings(120, 0),
        );
    }
    for format in [
        DecodedFormat::Yuva420p,
        DecodedFormat::Yuva422p,
        DecodedFormat::Yuva444p10,
        DecodedFormat::Gbrap16,
        DecodedFormat::Rgba8,
    ] {
        for size in [(120, 0), (0, 0)] {
            add(
                &format!(
                    "testsrc2 with alpha {} 322x182 → {}x{}",
                    format.ffmpeg_name(),
                    size.0,
                    size.1
                ),
                translucent(322, 182, format),
                plain,
                settings(size.0, size.1),
            );
        }
    }
    add(
        "testsrc2 with alpha yuva420p, rotated 90° → 100",
        translucent(322, 182, DecodedFormat::Yuva420p),
        SourceGeometry {
            orientation: Some(Orientation {
                rotation: 90,
                mirror: false,
            }),
            ..plain
        },
        settings(100, 0),
    );
    add(
        "testsrc2 nv12 162x122 → 500 (upscale)",
        pattern(
            162,
            122,
            DecodedFormat::Nv12,
            ColorInfo::BT709,
            HdrInfo::SDR,
        ),
        plain,
        settings(500, 0),
    );
    let (color, hdr) = hdr10();
    add(
        "testsrc2 P010 PQ tone mapped, own size",
        pattern(320, 180, DecodedFormat::P010, color, hdr),
        plain,
        settings(0, 0),
    );
    let hlg = ColorInfo {
        transfer: TransferCharacteristic::Hlg,
        ..color
    };
    let hlg_hdr = HdrInfo {
        format: Some(HdrFormat::Hlg),
        ..HdrInfo::SDR
    };
    for (name, color, hdr) in [("PQ", color, hdr), ("HLG", hlg, hlg_hdr)] {
        for (policy, kept) in [
            (DynamicRangePolicy::ForceSdr, "tone mapped"),
            (DynamicRangePolicy::MatchSource, "kept"),
        ] {
            add(
                &format!("testsrc2 {name} 10-bit {kept} → 200"),
                pattern(640, 360, DecodedFormat::Yuv420p10, color, hdr),
                plain,
                RenderSettings {
                    dynamic_range_policy: policy,
                    ..settings(200, 0)
                },
            );
        }
    }
    add(
        "testsrc2 BT.2020 SDR (gamut only) → 200",
        pattern(
            640,
            360,
            DecodedFormat::Yuv420p10,
            ColorInfo {
                transfer: TransferCharacteristic::Bt709,
                ..color
            },
            HdrInfo::SDR,
        ),
        plain,
        settings(200, 0),
    );
    for (rotation, mirror) in [(90, false), (180, true), (270, true), (0, true)] {
        add(
            &format!("testsrc2 rotated {rotation}°, mirrored {mirror} → 100"),
            sdr_pattern(400, 226),
            SourceGeometry {
                orientation: Some(Orientation { rotation, mirror }),
                ..plain
            },
            settings(100, 0),
        );
    }
    add(
        "testsrc2 clean aperture, anamorphic → 150",
        sdr_pattern(400, 226),
        SourceGeometry {
            clean_aperture: Some(CleanAperture {
                width: Ratio::new(371, 1).unwrap(),
                height: Ratio::new(201, 1).unwrap(),
                horizontal_offset: Ratio::new(-7, 2).unwrap(),
                vertical_offset: Ratio::new(3, 1).unwrap(),
            }),
            sample_aspect_ratio: Some(Ratio::new(4, 3).unwrap()),
            ..plain
        },
        settings(150, 0),
    );
}

fn fixture_cases(cases: &mut Vec<Case>) {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"));
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            ["mp4", "mov", "mkv", "webm", "ts"].contains(&ext)
        })
        .collect();
    files.sort();
    let shared = [
        "androidx/sample_with_colr_mdcv_and_clli.mp4",
        "androidx/dolbyVision-hdr.MOV",
        "androidx/sample_empty_track.mp4",
    ];
    files.extend(shared.iter().filter_map(|f| shared_file(f)));
    let mut opened = 0;
    for path in files {
        let Some((picture, geometry)) = fixture_frame(&path) else {
            continue;
        };
        opened += 1;
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for (width, height) in [(0, 0), (160, 0), (48, 48)] {
            cases.push(Case {
                name: format!("{file} → {width}x{height}"),
                picture: Picture {
                    desc: picture.desc,
                    surface: match &picture.surface {
                        stills::surface::Surface::Host(host) => {
                            stills::surface::Surface::Host(host.clone())
                        }
                        _ => unreachable!("fixture frames are host pictures"),
                    },
                },
                geometry,
                settings: settings(width, height),
            });
        }
    }
    assert!(
        opened >= 25,
        "only {opened} fixtures opened: the parity test lost its inputs"
    );
}

#[test]
fn the_cpu_renderer_matches_the_wgsl_passes_within_50_db() {
    let _turn = gpu_turn();
    let mut cases = Vec::new();
    synthetic_cases(&mut cases);
    fixture_cases(&mut cases);
    let mut pipeline = FramePipeline::new(context()).unwrap();
    // The direct path on both sides: the stages are compared, not the
    // decimation in front of them (`tests/decimate.rs`).
    pipeline.set_host_decimation(false);
    let mut host = HostRenderer::new();
    let mut problems = Vec::new();
    let mut worst = f64::INFINITY;
    for case in &cases {
        let spec = OutputSpec::new(&case.picture.desc, &case.geometry, &case.settings).unwrap();
        assert!(HostRenderer::can_render(&case.picture), "{}", case.name);
        let gpu = pipeline.render(&case.picture, &spec).unwrap();
        let cpu = host.render(&case.picture, &spec).unwrap();
        let shape = |r: &RenderedImage| (r.width, r.height, r.stride, r.encoding, r.alpha);
        if shape(&cpu) != shape(&gpu) {
            problems.push(format!(
                "{}: CPU {:?}, GPU {:?}",
                case.name,
                shape(&cpu),
                shape(&gpu)
            ));
            continue;
        }
        let db = rendered_psnr(&gpu, &cpu, false);
        if gpu.alpha {
            let alpha_db = rendered_psnr(&gpu, &cpu, true);
            eprintln!("{}: alpha {alpha_db:.2} dB", case.name);
            worst = worst.min(alpha_db);
            if alpha_db < THRESHOLD {
                problems.push(format!(
                    "{}: alpha {alpha_db:.2} dB < {THRESHOLD}",
                    case.name
                ));
            }
        }
        let differing = gpu
            .data
            .iter()
            .zip(&cpu.data)
            .filter(|(a, b)| a != b)
            .count();
        eprintln!(
            "{}: {}x{} {:?}: {db:.2} dB, {differing} of {} bytes differ",
            case.name,
            gpu.width,
            gpu.height,
            gpu.encoding,
            gpu.data.len()
        );
        worst = worst.min(db);
        if db < THRESHOLD {
            problems.push(format!("{}: {db:.2} dB < {THRESHOLD}", case.name));
        }
    }
    eprintln!("{} cases, worst {worst:.2} dB", cases.len());
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Frame `n` of a moving testsrc2 in `format`, marked interlaced (top
/// field first for even `n`): the deinterlace stage runs on whatever the
/// lines hold.
fn interlaced_frame(n: u32, format: DecodedFormat) -> Picture {
    let (width, height) = (322, 182);
    let raw = common::gpu::lavfi_frame(
        &format!("testsrc2=s={width}x{height}:d=1"),
        &format!("select=eq(n\\,{n})"),
        format.ffmpeg_name(),
    );
    let mut desc =
        PictureDesc::packed(width, height, format, ColorInfo::BT709, HdrInfo::SDR).unwrap();
    desc.alpha = false;
    desc.scan = Scan::Interlaced {
        top_field_first: n % 2 == 0,
    };
    Picture::host(desc, vec![raw.into(); format.desc().planes.len()]).unwrap()
}

/// The CPU renderer's deinterlacing (`host_deinterlace.rs`) against the
/// WGSL stage: spatial (no previous picture) and motion-adaptive (the
/// picture before at hand), on planar, semi-planar and 10-bit layouts,
/// top and bottom field first, at the picture's size and as a turned
/// thumbnail.
#[test]
fn deinterlacing_on_the_cpu_matches_the_wgsl_stage_within_50_db() {
    let _turn = gpu_turn();
    let mut pipeline = FramePipeline::new(context()).unwrap();
    pipeline.set_host_decimation(false);
    let mut host = HostRenderer::new();
    let mut problems = Vec::new();
    for format in [
        DecodedFormat::Yuv420p,
        DecodedFormat::Nv12,
        DecodedFormat::Yuv422p10,
    ] {
        for n in [4, 5] {
            let picture = interlaced_frame(n, format);
            let before = interlaced_frame(n - 1, format);
            for (geometry, size) in [
                (SourceGeometry::default(), (0, 0)),
                (
                    SourceGeometry {
                        orientation: Some(Orientation {
                            rotation: 270,
                            mirror: false,
                        }),
                        ..SourceGeometry::default()
                    },
                    (90, 0),
                ),
            ] {
                let spec =
                    OutputSpec::new(&picture.desc, &geometry, &settings(size.0, size.1)).unwrap();
                assert!(spec.deinterlace.is_some());
                for previous in [None, Some(&before)] {
                    let gpu = pipeline.render_after(&picture, previous, &spec).unwrap();
                    let cpu = host.render_after(&picture, previous, &spec).unwrap();
                    let name = format!(
                        "{} frame {n} → {}x{}, {:?}",
                        format.ffmpeg_name(),
                        gpu.width,
                        gpu.height,
                        gpu.deinterlaced
                    );
                    assert!(gpu.deinterlaced.is_some(), "{name}");
                    assert_eq!(cpu.deinterlaced, gpu.deinterlaced, "{name}");
                    assert_eq!((cpu.width, cpu.height), (gpu.width, gpu.height), "{name}");
                    let db = rendered_psnr(&gpu, &cpu, false);
                    eprintln!("{name}: {db:.2} dB");
                    if db < THRESHOLD {
                        problems.push(format!("{name}: {db:.2} dB < {THRESHOLD}"));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
