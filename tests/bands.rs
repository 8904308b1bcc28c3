//! Frames rendered in bands of rows, because their buffers exceed what the
//! device (or a cap set on the pipeline) binds, give exactly the pixels of
//! the same frame rendered in one run.

mod common;

use std::path::{Path, PathBuf};

use common::cli::{fixture, stills};
use common::ffmpeg::{ffmpeg_to_file, first_raw_frame};
use common::gpu::*;
use common::harness::gpu_turn;
use common::metrics::psnr8;
use common::scratch::Scratch;
use stills::asset::color::{ColorInfo, HdrInfo};
use stills::asset::geometry::Orientation;
use stills::gpu::{FramePipeline, GpuError};
use stills::picture::{DecodedFormat, PictureDesc, Scan};
use stills::render::spec::OutputSpec;
use stills::render::{ApertureMode, DynamicRangePolicy, RenderSettings, Size, SourceGeometry};
use stills::surface::{Picture, PlaneBytes};
use stills::Deinterlacer;
use stills::{Asset, Error, ImageGenerator, Limit, Limits, OpenOptions, Time};

/// A `width`×`height` lavfi test picture (with an alpha gradient where the
/// format has alpha) in `format`, tagged BT.709 limited range.
fn picture(width: u32, height: u32, format: DecodedFormat) -> Picture {
    let filters = if format.desc().alpha.is_some() {
        "format=yuva420p,geq=lum='p(X,Y)':cb='p(X,Y)':cr='p(X,Y)':a='255*X/W'"
    } else {
        ""
    };
    filtered_picture(width, height, format, filters)
}

/// The test pattern through `filters` (an FFmpeg filter chain, or empty).
fn filtered_picture(width: u32, height: u32, format: DecodedFormat, filters: &str) -> Picture {
    let raw = lavfi_frame(
        &format!("testsrc2=s={width}x{height}:d=1"),
        filters,
        format.ffmpeg_name(),
    );
    let color = ColorInfo::BT709;
    let desc = PictureDesc::packed(width, height, format, color, HdrInfo::SDR).unwrap();
    let bytes = PlaneBytes::from(raw);
    let planes = vec![bytes; format.desc().planes.len()];
    Picture::host(desc, planes).unwrap()
}

/// The spec of `picture` turned by `rotation` and fitted into `size`.
fn spec(picture: &Picture, rotation: u16, size: Size) -> OutputSpec {
    let geometry = SourceGeometry {
        sample_aspect_ratio: None,
        clean_aperture: None,
        orientation: Some(Orientation {
            rotation,
            mirror: false,
        }),
    };
    let settings = RenderSettings {
        maximum_size: size,
        applies_preferred_track_transform: true,
        aperture_mode: ApertureMode::CleanAperture,
        dynamic_range_policy: DynamicRangePolicy::ForceSdr,
        ..RenderSettings::default()
    };
    OutputSpec::new(&picture.desc, &geometry, &settings).unwrap()
}

/// Capped at 64 KiB, every one of these upright renders needs bands (its
/// output alone is larger) and binds each input plane in parts (a 320×240
/// luma plane is 75 KiB): planar, semi-planar, deep, alpha on a subsampled
/// grid, gray; at native size and scaled down. Turned 90°, pass 1 runs
/// along source y and every band reads the planes whole, so there the cap
/// (192 KiB) splits the working buffers and output only.
#[test]
fn a_frame_split_into_bands_has_the_pixels_of_one_run() {
    let (w, h) = (320, 240);
    let mut whole = FramePipeline::new(context()).unwrap();
    let mut banded = FramePipeline::new(context()).unwrap();
    let formats = [
        DecodedFormat::Yuv420p,
        DecodedFormat::Nv12,
        DecodedFormat::Yuv420p10,
        DecodedFormat::Yuva420p,
        DecodedFormat::Gray8,
    ];
    let mut checked = 0;
    for format in formats {
        let frame = picture(w, h, format);
        for (rotation, cap) in [(0, 64 * 1024), (90, 192 * 1024)] {
            banded.set_max_binding_size(Some(cap));
            for size in [Size::NATIVE, Size::new(200, 0)] {
                let spec = spec(&frame, rotation, size);
                let one = whole.render(&frame, &spec).unwrap();
                assert!(one.data.len() as u64 > cap || size != Size::NATIVE);
                let split = banded.render(&frame, &spec).unwrap();
                assert_eq!(
                    (split.width, split.height),
                    (one.width, one.height),
                    "{format:?} {rotation}° {size:?}"
                );
                let differing = one
                    .data
                    .iter()
                    .zip(&split.data)
                    .filter(|(a, b)| a != b)
                    .count();
                assert_eq!(differing, 0, "{format:?} {rotation}° {size:?}");
                assert_eq!(one.data, split.data);
                checked += 1;
            }
        }
    }
    assert_eq!(checked, formats.len() * 4);
}

/// An interlaced picture's deinterlace stage feeds the passes as any
/// other input does: rendered in bands (the cap splits the output and the
/// stage's planes are bound in parts), it has the pixels of one run,
/// spatial or motion-adaptive (after a mirrored picture: moving in most
/// places), and both differ from the woven picture's.
#[test]
fn a_deinterlaced_frame_split_into_bands_has_the_pixels_of_one_run() {
    let mut frame = picture(320, 240, DecodedFormat::Yuv420p);
    let woven = spec(&frame, 0, Size::NATIVE);
    frame.desc.scan = Scan::Interlaced {
        top_field_first: false,
    };
    let mut previous = filtered_picture(320, 240, DecodedFormat::Yuv420p, "hflip");
    previous.desc.scan = frame.desc.scan;
    let mut whole = FramePipeline::new(context()).unwrap();
    let mut banded = FramePipeline::new(context()).unwrap();
    banded.set_max_binding_size(Some(128 * 1024));
    for size in [Size::NATIVE, Size::new(200, 0)] {
        let spec = spec(&frame, 0, size);
        assert!(spec.deinterlace.is_some());
        for (before, deinterlacer) in [
            (None, Deinterlacer::Spatial),
            (Some(&previous), Deinterlacer::MotionAdaptive),
        ] {
            let one = whole.render_after(&frame, before, &spec).unwrap();
            let split = banded.render_after(&frame, before, &spec).unwrap();
            assert_eq!(one.deinterlaced, Some(deinterlacer));
            assert_eq!(split.deinterlaced, Some(deinterlacer));
            assert_eq!((split.width, split.height), (one.width, one.height));
            assert!(one.data == split.data, "{size:?} {deinterlacer:?}");
        }
    }
    let native = whole
        .render(&frame, &spec(&frame, 0, Size::NATIVE))
        .unwrap();
    let progressive = whole.render(&frame, &woven).unwrap();
    assert_eq!(progressive.deinterlaced, None);
    assert!(native.data != progressive.data);
}

/// A cap too small for even one pair of output rows is refused with the
/// limit it cannot meet, and the pipeline renders the next frame.
#[test]
fn a_cap_below_one_pair_of_rows_is_refused_by_name() {
    let frame = picture(320, 240, DecodedFormat::Yuv420p);
    let spec = spec(&frame, 0, Size::NATIVE);
    let mut pipeline = FramePipeline::new(context()).unwrap();
    pipeline.set_max_binding_size(Some(1024));
    match pipeline.render(&frame, &spec) {
        Err(GpuError::TooLarge { allowed, limit, .. }) => {
            assert_eq!(allowed, 1024);
            assert_eq!(limit, "max_storage_buffer_binding_size");
        }
        other => panic!("{:?}", other.map(|i| (i.width, i.height))),
    }
    pipeline.set_max_binding_size(None);
    let image = pipeline.render(&frame, &spec).unwrap();
    assert_eq!((image.width, image.height), (320, 240));
}

/// An H.264 file of one `width`×`height` BT.709 frame: testsrc2 drawn at a
/// sixteenth of the size and scaled up, so it encodes in moments and the
/// file stays small.
fn one_big_frame(scratch: &Scratch, width: u32, height: u32) -> PathBuf {
    let path = scratch.path(&format!("{width}x{height}.mp4"));
    ffmpeg_to_file(
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=s={}x{}:d=1:r=1", width / 16, height / 16),
            "-vf",
            &format!("scale={width}:{height}:flags=neighbor,format=yuv420p"),
            "-frames:v",
            "1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-colorspace",
            "bt709",
            "-color_primaries",
            "bt709",
            "-color_trc",
            "bt709",
            "-color_range",
            "tv",
        ],
        &path,
    );
    path
}

/// The frame of `path` as FFmpeg decodes it, scaled to `width`×`height`
/// with zscale's Lanczos: RGB24.
fn ffmpeg_rgb(path: &Path, width: u32, height: u32) -> Vec<u8> {
    first_raw_frame(
        &["-i", path.to_str().expect("a UTF-8 path")],
        &format!(
            "zscale=w={width}:h={height}:min=709:rin=limited:cin=left:f=lanczos:m=gbr:r=full,\
             format=gbrp,format=rgb24"
        ),
    )
}

/// The first image of `asset` fitted into `size`, with its PSNR against
/// FFmpeg's rendering of the same frame at the same size.
fn grab(asset: Asset, path: &Path, size: Size) -> (u32, u32, f64) {
    let generator = ImageGenerator::new(asset);
    generator.configure(|s| s.set_maximum_size(size));
    let started = std::time::Instant::now();
    let (image, _) = {
        let _turn = gpu_turn();
        generator.copy_image(Time::ZERO).expect("an image")
    };
    eprintln!("{size:?}: decoded and rendered in {:?}", started.elapsed());
    let (w, h) = (image.width(), image.height());
    let ours = rgba_to_rgb(image.data());
    drop(image);
    let reference = ffmpeg_rgb(path, w, h);
    (w, h, psnr8(&ours, &reference))
}

/// 8192×8192, a real 360° and VR size, renders with the default limits at
/// native size (its first-pass buffers and output, 256 MiB each, are
/// over lavapipe's 128 MiB bindings: it renders in bands) and as a
/// thumbnail.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "a minute in a debug build: runs with --release (or --ignored)"
)]
fn an_8192_square_frame_renders_at_native_and_thumbnail_size() {
    let scratch = Scratch::new("bands_8192");
    let path = one_big_frame(&scratch, 8192, 8192);
    for (size, expected, threshold) in [
        (Size::NATIVE, (8192, 8192), 45.0),
        (Size::new(320, 320), (320, 320), 38.0),
    ] {
        let asset = Asset::open(&path).expect("opens with the default limits");
        let (w, h, psnr) = grab(asset, &path, size);
        eprintln!("8192² → {w}×{h}: PSNR {psnr:.2} dB against zscale");
        assert_eq!((w, h), expected);
        assert!(psnr >= threshold, "{w}×{h}: PSNR {psnr:.2} dB");
    }
}

/// 16384×16000 (refused by the default limits) renders as a thumbnail once
/// the caller raises them: each 250 MiB luma plane is bound a band of rows
/// at a time.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "a minute in a debug build: runs with --release (or --ignored)"
)]
fn a_16384_by_16000_frame_renders_as_a_thumbnail_with_raised_limits() {
    let scratch = Scratch::new("bands_16384");
    let path = one_big_frame(&scratch, 16384, 16000);
    let raised = OpenOptions {
        limits: Limits {
            max_decoded_pixels: 16384 * 16000,
            ..Limits::default()
        },
        ..OpenOptions::default()
    };
    let asset = Asset::open_with_options(&path, &raised).expect("opens with raised limits");
    let (w, h, psnr) = grab(asset, &path, Size::new(320, 320));
    eprintln!("16384×16000 → {w}×{h}: PSNR {psnr:.2} dB against zscale");
    assert_eq!(w, 320);
    assert!((312..=313).contains(&h), "{h}");
    assert!(psnr >= 38.0, "PSNR {psnr:.2} dB");
}

/// A request whose frame, GPU buffers and image would hold more memory
/// than the caller allows fails before rendering, naming the limit; the
/// CLI takes the limit as `--max-request-memory`.
#[test]
fn a_request_over_the_memory_limit_fails_naming_it() {
    let path = fixture("rot0.mp4");
    let generator = ImageGenerator::new(Asset::open(&path).expect("opens"));
    generator.configure(|s| s.set_max_request_bytes(4096));
    let _turn = gpu_turn();
    match generator.copy_image(Time::ZERO) {
        Err(Error::LimitExceeded {
            limit: Limit::MaxRequestMemory,
            value,
            allowed,
            ..
        }) => {
            assert_eq!(allowed, 4096);
            assert!(value > allowed, "{value}");
            // Enough for that request: it renders.
            generator.configure(|s| s.set_max_request_bytes(value));
            generator
                .copy_image(Time::ZERO)
                .expect("an image at the limit");
        }
        other => panic!("{:?}", other.map(|(_, t)| t)),
    }
    let scratch = Scratch::new("memory_cli");
    let out = scratch.path("");
    let out = out.to_str().expect("a UTF-8 path");
    let run = stills(
        &[
            "grab",
            &path,
            "--at",
            "0",
            "-o",
            out,
            "--max-request-memory",
            "4096",
        ],
        "",
    );
    assert!(!run.status.success(), "{}", run.stderr);
    assert!(run.stderr.contains("max-request-memory"), "{}", run.stderr);
    assert!(run.stderr.contains("bytes"), "{}", run.stderr);
}
