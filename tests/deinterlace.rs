//! Interlaced video is shown as a player shows it: deinterlaced from the
//! field shown first, per picture as the decoder reports it. The fixtures
//! are made here with the ffmpeg CLI from a 50 fps test pattern woven into
//! 25 fps interlaced frames (each field from its own instant, so what moves
//! is combed when woven), with the frame code drawn after weaving: H.264
//! MBAFF (x264's only interlaced mode; no encoder here writes PAFF field
//! pictures) and MPEG-2 with interlaced DCT and motion, top and bottom
//! field first; plus `croscodecs/test-25fps-interlaced.h264` from the
//! shared media (MBAFF with `pic_struct`).
//!
//! An exact request is deinterlaced motion-adaptively when the picture
//! shown before it was decoded on the way from the sync frame, else
//! spatially (the sync frame itself, a keyframe request). Each deinterlaced
//! image must be the pipeline's image of FFmpeg's decode of the frame (and
//! of the one before), the right frame (its code), have a vertical comb
//! energy within 1.5× of FFmpeg's `bwdif` output of the same frame; its
//! luma PSNR against that output is printed beside the spatial filter's,
//! and motion-adaptive must be at least as close. A synthetic picture
//! shows still parts woven and moving parts interpolated. With
//! deinterlacing off an interlaced frame is the woven picture, bit-exact
//! with the pipeline's progressive path; progressive and soft-telecined
//! files are unchanged.

mod common;

use std::path::{Path, PathBuf};

use common::ffmpeg::{ffmpeg, ffmpeg_to_file, ffprobe, first_raw_frame};
use common::harness::{generator, gpu_turn, read_code, shared_file};
use common::scratch::Scratch;
use stills::asset::geometry::Orientation;
use stills::gpu::{FramePipeline, HostRenderer};
use stills::picture::{DecodedFormat, Field, Scan};
use stills::render::{OutputSpec, RenderSettings};
use stills::surface::Picture;
use stills::{Asset, Deinterlace, Deinterlacer, Image, RenderedBy, Time};

const WIDTH: u32 = 720;
const HEIGHT: u32 = 576;

/// The frame code of `tests/fixtures/make.sh` over a 50 fps `testsrc2`
/// woven two frames to one by the `interlace` filter with `order` (`tff`
/// or `bff`) first: 10 interlaced frames at 25 fps. The code band is drawn
/// on the woven frame, so both fields carry the 25 fps frame's index.
fn coded_interlaced_source(order: &str) -> String {
    let cell = "floor(X*16/W)";
    let bit = |k: u32| format!("mod(floor(N/pow(2,{k})),2)");
    let ones = (0..12).map(bit).collect::<Vec<_>>().join(" + ");
    let value = format!(
        "if(eq({cell},0),1,if(eq({cell},15),0,if(lt({cell},13),mod(floor(N/pow(2,{cell}-1)),2),mod(floor(mod({ones},4)/pow(2,{cell}-13)),2))))"
    );
    format!(
        "testsrc2=size={WIDTH}x{HEIGHT}:rate=50:duration=0.4,\
         interlace=scan={order}:lowpass=off,format=yuv420p,\
         geq=lum='if(lt(6*Y,H),255*{value},lum(X,Y))':\
         cb='if(lt(6*Y,H),128,cb(X,Y))':cr='if(lt(6*Y,H),128,cr(X,Y))'"
    )
}

#[derive(Clone, Copy)]
enum Codec {
    /// libx264 with interlaced coding: MBAFF.
    H264Mbaff,
    /// mpeg2video with interlaced DCT and motion estimation.
    Mpeg2,
}

/// An interlaced fixture, `top_first` or bottom field first, keyframes
/// every 5 frames.
fn interlaced_fixture(scratch: &Scratch, codec: Codec, top_first: bool) -> PathBuf {
    let order = if top_first { "tff" } else { "bff" };
    let top = if top_first { "1" } else { "0" };
    let source = coded_interlaced_source(order);
    let mut args = vec!["-f", "lavfi", "-i", &source];
    let name = match codec {
        Codec::H264Mbaff => {
            // libx264 takes the field order from `-top`; its own
            // `tff`/`bff` options are overridden by the frames' flags.
            args.extend(["-c:v", "libx264", "-flags", "+ildct", "-top", top]);
            args.extend(["-bf", "0", "-threads", "1"]);
            format!("h264_mbaff_{order}.mkv")
        }
        Codec::Mpeg2 => {
            args.extend(["-c:v", "mpeg2video", "-flags", "+ildct+ilme", "-top", top]);
            args.extend(["-q:v", "2"]);
            format!("mpeg2_{order}.mpg")
        }
    };
    args.extend(["-g", "5", "-fflags", "+bitexact"]);
    let path = scratch.path(&name);
    ffmpeg_to_file(&args, &path);
    path
}

/// Frame `n` (decode output order) of `path` as FFmpeg decodes it, through
/// `filters` (ending in a comma, or empty), as 8-bit RGB the way stills
/// reads these untagged SD streams (BT.601, limited range, chroma co-sited
/// left, upsampled with Lanczos). zscale finds no conversion for
/// untagged primaries and transfer, so they are tagged BT.601 first (no
/// gamut or transfer conversion follows either way).
fn ffmpeg_rgb(path: &Path, n: u32, filters: &str) -> Vec<u8> {
    let vf = format!(
        "setparams=color_primaries=smpte170m:color_trc=smpte170m:colorspace=smpte170m,\
         {filters}select=eq(n\\,{n}),zscale=min=470bg:rin=limited:cin=left:f=lanczos,format=rgb24"
    );
    first_raw_frame(&["-i", path.to_str().expect("UTF-8 path")], &vf)
}

const SPATIAL: Deinterlacer = Deinterlacer::Spatial;
const MOTION: Deinterlacer = Deinterlacer::MotionAdaptive;

/// FFmpeg's `bwdif` of frame `n`: one output per frame, each frame's own
/// field order, only frames flagged interlaced.
const BWDIF: &str = "bwdif=mode=send_frame:parity=auto:deint=interlaced,";

/// Luma (BT.601 weights) of 8-bit RGB pixels of `bytes_per_pixel`.
fn luma(pixels: &[u8], bytes_per_pixel: usize) -> Vec<f64> {
    pixels
        .chunks_exact(bytes_per_pixel)
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .collect()
}

/// Vertical comb energy: the mean of |2·y[r] − y[r−1] − y[r+1]| over the
/// picture, which a woven frame's moving edges (lines alternating between
/// two instants) drive up.
fn comb_energy(y: &[f64], width: usize) -> f64 {
    let rows = y.len() / width;
    let mut sum = 0.0;
    for r in 1..rows - 1 {
        for x in 0..width {
            let at = |row: usize| y[row * width + x];
            sum += (2.0 * at(r) - at(r - 1) - at(r + 1)).abs();
        }
    }
    sum / (width * (rows - 2)) as f64
}

fn psnr(a: &[f64], b: &[f64]) -> f64 {
    let mse = a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum::<f64>() / a.len() as f64;
    10.0 * (255.0 * 255.0 / mse.max(1e-12)).log10()
}

/// The image at frame `n`'s time (25 fps), exact, native size.
fn image_at(path: &Path, n: u32, deinterlace: Deinterlace) -> Image {
    let generator = generator(path, 1, |s| {
        s.set_exact();
        s.set_deinterlace(deinterlace);
    });
    let (image, _) = generator
        .copy_image(Time::new(i64::from(n) * 2 + 1, 50))
        .unwrap_or_else(|e| panic!("{}: frame {n}: {e}", path.display()));
    image
}

/// PSNR of the lines of `field` alone.
fn field_psnr(a: &[f64], b: &[f64], width: usize, field: Field) -> f64 {
    let lines = |y: &[f64]| -> Vec<f64> {
        y.chunks_exact(width)
            .skip(field.parity() as usize)
            .step_by(2)
            .flatten()
            .copied()
            .collect()
    };
    psnr(&lines(a), &lines(b))
}

/// Frame `n` (decode output order) of `path` as FFmpeg decodes it, 8-bit
/// 4:2:0, as a picture of the track's colour and `scan`.
fn decoded_picture(path: &Path, n: u32, scan: Scan) -> Picture {
    let asset = Asset::open(path).unwrap();
    let track = asset.default_video_track().unwrap().clone();
    let raw = ffmpeg(
        &[
            "-i",
            path.to_str().unwrap(),
            "-vf",
            &format!("select=eq(n\\,{n})"),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "-",
        ],
        None,
    );
    let mut picture = Picture::from_packed(
        track.coded_width,
        track.coded_height,
        DecodedFormat::Yuv420p,
        raw,
    )
    .unwrap();
    picture.desc.color = track.color;
    picture.desc.scan = scan;
    picture
}

/// What the renderer `by` makes of frame `n` of `path` (FFmpeg's decode,
/// shown `first` field first) deinterlaced spatially, and after frame
/// `n - 1` (motion-adaptive), at native size.
fn pipeline_references(
    path: &Path,
    n: u32,
    first: Field,
    by: Option<RenderedBy>,
) -> (Vec<u8>, Option<Vec<u8>>) {
    let scan = Scan::Interlaced {
        top_field_first: first == Field::Top,
    };
    let asset = Asset::open(path).unwrap();
    let track = asset.default_video_track().unwrap().clone();
    let picture = decoded_picture(path, n, scan);
    let spec =
        OutputSpec::new(&picture.desc, &track.geometry(), &RenderSettings::default()).unwrap();
    let mut pipeline = FramePipeline::new(common::gpu::context()).unwrap();
    let mut host = HostRenderer::new();
    let mut render = |previous: Option<&Picture>| match by {
        Some(RenderedBy::Cpu) => host.render_after(&picture, previous, &spec).unwrap(),
        _ => pipeline.render_after(&picture, previous, &spec).unwrap(),
    };
    let spatial = render(None);
    assert_eq!(spatial.deinterlaced, Some(Deinterlacer::Spatial));
    let motion = n.checked_sub(1).map(|before| {
        let previous = decoded_picture(path, before, scan);
        let motion = render(Some(&previous));
        assert_eq!(motion.deinterlaced, Some(Deinterlacer::MotionAdaptive));
        motion.data
    });
    (spatial.data, motion)
}

/// Checks frames `frames` of `path`, whose pictures the decoder says show
/// `first` first, each with the deinterlacer expected of an exact request
/// (motion-adaptive unless the frame is the first decoded after the seek):
/// the image is the pipeline's of FFmpeg's decode of the frame (and of the
/// one before, motion-adaptive), that field's lines kept from the right
/// frame (its code, when `coded`, and its lines against FFmpeg's decode),
/// comb energy within 1.5× of `bwdif`'s; motion-adaptive, its luma PSNR
/// against `bwdif` at least the spatial filter's.
fn check_deinterlaced(path: &Path, frames: &[(u32, Deinterlacer)], first: Field, coded: bool) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    for &(n, expected) in frames {
        let image = image_at(path, n, Deinterlace::Auto);
        assert_eq!(image.deinterlaced(), Some(expected), "{name} frame {n}");
        if coded {
            assert_eq!(read_code(&image, Orientation::IDENTITY), Ok(n), "{name}");
        }
        let (spatial, motion) = pipeline_references(path, n, first, image.rendered_by());
        if image.rendered_by() == Some(RenderedBy::Cpu) {
            // The WGSL stage on the same real pictures, held to the CPU
            // renderer's images (`tests/host_render.rs` does so on
            // synthetic ones).
            let (gpu_spatial, gpu_motion) =
                pipeline_references(path, n, first, Some(RenderedBy::Gpu));
            let pairs = [
                (Some(&spatial), Some(&gpu_spatial)),
                (motion.as_ref(), gpu_motion.as_ref()),
            ];
            for (cpu, gpu) in pairs.into_iter().filter_map(|(c, g)| Some((c?, g?))) {
                let db = common::metrics::psnr8(cpu, gpu);
                assert!(
                    db >= 50.0,
                    "{name} frame {n}: CPU and WGSL stages {db:.1} dB apart"
                );
            }
        }
        let reference = match expected {
            Deinterlacer::Spatial => &spatial,
            Deinterlacer::MotionAdaptive => motion.as_ref().expect("a frame before"),
        };
        assert!(
            image.data() == reference.as_slice(),
            "{name} frame {n}: not the {:?} renderer's {expected:?} image of FFmpeg's decode",
            image.rendered_by()
        );
        let width = image.width() as usize;
        let ours = luma(image.data(), 4);
        let bwdif = luma(&ffmpeg_rgb(path, n, BWDIF), 3);
        let woven = luma(&ffmpeg_rgb(path, n, ""), 3);
        let (e_ours, e_bwdif, e_woven) = (
            comb_energy(&ours, width),
            comb_energy(&bwdif, width),
            comb_energy(&woven, width),
        );
        let db = psnr(&ours, &bwdif);
        let db_spatial = psnr(&luma(&spatial, 4), &bwdif);
        let kept = field_psnr(&ours, &woven, width, first);
        eprintln!(
            "{name} frame {n} ({}): comb energy {e_ours:.2} (bwdif {e_bwdif:.2}, woven \
             {e_woven:.2}, ratio to bwdif {:.2}), luma PSNR vs bwdif {db:.2} dB (spatial \
             {db_spatial:.2} dB), kept {first:?} field's lines vs FFmpeg's decode {kept:.1} dB",
            expected.name(),
            e_ours / e_bwdif
        );
        // The kept field is the decoded one, line for line (the rest of
        // the difference is the two RGB conversions).
        assert!(kept >= 35.0, "{name} frame {n}: kept field {kept:.1} dB");
        assert!(
            e_ours <= 1.5 * e_bwdif,
            "{name} frame {n}: comb energy {e_ours:.2} > 1.5 x bwdif's {e_bwdif:.2}"
        );
        if expected == Deinterlacer::MotionAdaptive {
            assert!(
                db >= db_spatial,
                "{name} frame {n}: {db:.2} dB against bwdif, spatial {db_spatial:.2} dB"
            );
        }
        if coded {
            // The fixtures move between fields: woven, they comb.
            assert!(
                e_woven > 1.5 * e_bwdif,
                "{name} frame {n}: woven {e_woven:.2}"
            );
            assert!(db >= 30.0, "{name} frame {n}: {db:.1} dB against bwdif");
        }
    }
}

#[test]
fn h264_mbaff_top_field_first_is_deinterlaced() {
    let _turn = gpu_turn();
    let scratch = Scratch::new("deint-h264-tff");
    let path = interlaced_fixture(&scratch, Codec::H264Mbaff, true);
    // Keyframes every 5 frames: frame 0 is the first decoded after the
    // seek, the others come after a decoded picture.
    check_deinterlaced(
        &path,
        &[(0, SPATIAL), (3, MOTION), (7, MOTION)],
        Field::Top,
        true,
    );
}

#[test]
fn h264_mbaff_bottom_field_first_is_deinterlaced() {
    let _turn = gpu_turn();
    let scratch = Scratch::new("deint-h264-bff");
    let path = interlaced_fixture(&scratch, Codec::H264Mbaff, false);
    check_deinterlaced(&path, &[(2, MOTION), (6, MOTION)], Field::Bottom, true);
}

#[test]
fn mpeg2_top_field_first_is_deinterlaced() {
    let _turn = gpu_turn();
    let scratch = Scratch::new("deint-mpeg2-tff");
    let path = interlaced_fixture(&scratch, Codec::Mpeg2, true);
    check_deinterlaced(&path, &[(1, MOTION), (5, SPATIAL)], Field::Top, true);
}

#[test]
fn mpeg2_bottom_field_first_is_deinterlaced() {
    let _turn = gpu_turn();
    let scratch = Scratch::new("deint-mpeg2-bff");
    let path = interlaced_fixture(&scratch, Codec::Mpeg2, false);
    check_deinterlaced(&path, &[(4, MOTION), (8, MOTION)], Field::Bottom, true);
}

#[test]
fn croscodecs_interlaced_h264_is_deinterlaced() {
    let Some(path) = shared_file("croscodecs/test-25fps-interlaced.h264") else {
        return;
    };
    let _turn = gpu_turn();
    // No frame code here: the kept field's lines against FFmpeg's decode
    // say whether it is the right frame. Its pictures say bottom field
    // first (`top_field_first` 0), though the stream's `field_order` says
    // top: the picture's word counts. Its fields hold fine static detail,
    // which bwdif weaves where nothing moves and one field cannot hold:
    // the spatial filter is about 20 dB from bwdif, the motion-adaptive
    // one about 35. Frame 9 is a reference picture, decoded on the way to
    // frame 10; frame 99 a non-reference B-picture, which a request for
    // frame 100 does not decode, so frame 100 is deinterlaced spatially.
    check_deinterlaced(&path, &[(10, MOTION), (100, SPATIAL)], Field::Bottom, false);
}

#[test]
fn the_track_reports_interlacing_and_field_order() {
    let scratch = Scratch::new("deint-probe");
    for (codec, top_first) in [(Codec::Mpeg2, false), (Codec::H264Mbaff, true)] {
        let path = interlaced_fixture(&scratch, codec, top_first);
        let asset = Asset::open(&path).unwrap();
        let track = asset.default_video_track().unwrap();
        assert_eq!(track.interlaced, Some(true), "{}", path.display());
        let first = if top_first { Field::Top } else { Field::Bottom };
        assert_eq!(track.first_field, Some(first), "{}", path.display());
        let probe = common::cli::stills(&["probe", path.to_str().unwrap()], "");
        assert!(probe.status.success(), "{}", probe.stderr);
        let doc: serde_json::Value = serde_json::from_str(&probe.stdout).unwrap();
        let reported = &doc["video_tracks"][0];
        assert_eq!(reported["interlaced"], true);
        let name = if top_first { "top" } else { "bottom" };
        assert_eq!(reported["first_field"], name);
    }
}

/// With deinterlacing off, an interlaced frame is its two fields woven:
/// exactly what the pipeline makes of FFmpeg's decode of that frame read
/// as a progressive picture, the path every frame took before
/// deinterlacing.
#[test]
fn off_is_the_woven_frame_bit_for_bit() {
    let _turn = gpu_turn();
    let scratch = Scratch::new("deint-off");
    let path = interlaced_fixture(&scratch, Codec::Mpeg2, true);
    let asset = Asset::open(&path).unwrap();
    let track = asset.default_video_track().unwrap().clone();
    let ctx = common::gpu::context();
    let mut pipeline = FramePipeline::new(ctx).unwrap();
    for n in [2, 6] {
        let off = image_at(&path, n, Deinterlace::Off);
        assert_eq!(off.deinterlaced(), None);
        assert_eq!(read_code(&off, Orientation::IDENTITY), Ok(n));
        let raw = ffmpeg(
            &[
                "-i",
                path.to_str().unwrap(),
                "-vf",
                &format!("select=eq(n\\,{n})"),
                "-frames:v",
                "1",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "yuv420p",
                "-",
            ],
            None,
        );
        let mut woven = Picture::from_packed(WIDTH, HEIGHT, DecodedFormat::Yuv420p, raw).unwrap();
        woven.desc.color = track.color;
        let spec =
            OutputSpec::new(&woven.desc, &track.geometry(), &RenderSettings::default()).unwrap();
        assert_eq!(spec.deinterlace, None);
        // On the renderer the generator used (the CPU renderer where the
        // only adapter is a CPU): the woven frame as any progressive one.
        let today = match off.rendered_by() {
            Some(RenderedBy::Cpu) => HostRenderer::new().render(&woven, &spec).unwrap(),
            _ => pipeline.render(&woven, &spec).unwrap(),
        };
        assert_eq!(today.deinterlaced, None);
        assert!(off.data() == today.data.as_slice(), "frame {n} differs");
        let auto = image_at(&path, n, Deinterlace::Auto);
        assert!(
            auto.data() != off.data(),
            "frame {n} is deinterlaced by default"
        );
    }
}

/// Progressive pictures are untouched whatever the setting.
#[test]
fn progressive_files_are_unchanged() {
    let _turn = gpu_turn();
    let path = common::readme::fixture_path("h264_bframes.mp4");
    for n in [0, 3, 7] {
        let auto = image_at(&path, n, Deinterlace::Auto);
        let off = image_at(&path, n, Deinterlace::Off);
        assert_eq!(auto.deinterlaced(), None);
        assert!(auto == off, "frame {n}");
        assert_eq!(read_code(&auto, Orientation::IDENTITY), Ok(n));
    }
}

/// Sets the MPEG-2 soft-telecine flags in an elementary stream FFmpeg's
/// encoder wrote progressive: the sequence extension's
/// `progressive_sequence` cleared, and in each picture coding extension
/// `progressive_frame` kept while `top_field_first` and
/// `repeat_first_field` follow the 3:2 cadence (TFF+RFF, BFF, BFF+RFF,
/// TFF), as a DVD of film carries it. Nothing else of the syntax depends
/// on them for progressive frame pictures.
fn soft_telecine(stream: &mut [u8]) -> usize {
    let mut picture = 0usize;
    let mut i = 0;
    while i + 9 < stream.len() {
        if stream[i..i + 4] != [0, 0, 1, 0xB5] {
            i += 1;
            continue;
        }
        match stream[i + 4] >> 4 {
            // Sequence extension: progressive_sequence is bit 3 of its
            // second byte.
            1 => stream[i + 5] &= !0x08,
            // Picture coding extension: byte 7 holds top_field_first
            // (0x80) and repeat_first_field (0x02); byte 8's top bit is
            // progressive_frame.
            8 => {
                assert!(stream[i + 8] & 0x80 != 0, "a progressive frame");
                let (tff, rff) =
                    [(true, true), (false, false), (false, true), (true, false)][picture % 4];
                let tff = if tff { 0x80 } else { 0 };
                let rff = if rff { 0x02 } else { 0 };
                stream[i + 7] = (stream[i + 7] & !0x82) | tff | rff;
                picture += 1;
            }
            _ => {}
        }
        i += 4;
    }
    picture
}

/// Soft telecine (progressive frames with repeated fields) is progressive:
/// untouched.
#[test]
fn soft_telecined_mpeg2_is_unchanged() {
    let _turn = gpu_turn();
    let scratch = Scratch::new("deint-telecine");
    let source = coded_interlaced_source("tff")
        .replace("interlace=scan=tff:lowpass=off,", "fps=24000/1001,");
    let es = scratch.path("film.m2v");
    ffmpeg_to_file(
        &[
            "-f",
            "lavfi",
            "-i",
            &source,
            "-c:v",
            "mpeg2video",
            "-q:v",
            "2",
            "-g",
            "6",
            "-bf",
            "0",
            "-f",
            "mpeg2video",
        ],
        &es,
    );
    let mut bytes = std::fs::read(&es).unwrap();
    assert!(soft_telecine(&mut bytes) >= 8);
    let telecined = scratch.write("telecined.m2v", &bytes);
    // In MPEG-TS, with timestamps that follow the repeated fields.
    let path = scratch.path("telecined.ts");
    ffmpeg_to_file(
        &[
            "-fflags",
            "+genpts",
            "-r",
            "24000/1001",
            "-i",
            telecined.to_str().unwrap(),
            "-c",
            "copy",
            "-f",
            "mpegts",
        ],
        &path,
    );
    // FFmpeg reads the flags: repeated fields, no interlaced frame.
    let flags = ffprobe(&[
        "-show_entries",
        "frame=interlaced_frame,repeat_pict",
        "-of",
        "csv=p=0",
        path.to_str().unwrap(),
    ]);
    assert!(flags.lines().any(|l| l.starts_with("0,1")), "{flags}");
    assert!(!flags.lines().any(|l| l.starts_with('1')), "{flags}");
    let asset = Asset::open(&path).unwrap();
    let timeline = asset
        .timeline(asset.default_video_track().unwrap())
        .unwrap()
        .expect("a timeline");
    let step = timeline.duration.seconds() / timeline.frame_count as f64;
    for k in [0, 1, 2, 3, 5, 8] {
        // Within the k-th frame's display on average: some frame, each of
        // its neighbours in the cadence shown for two or three fields.
        let at = Time::from_seconds(
            timeline.first_frame.seconds() + (k as f64 + 0.5) * step,
            90000,
        );
        let render = |deinterlace| {
            let generator = generator(&path, 1, |s| {
                s.set_exact();
                s.set_deinterlace(deinterlace);
            });
            generator.copy_image(at).unwrap().0
        };
        let (auto, off) = (render(Deinterlace::Auto), render(Deinterlace::Off));
        assert_eq!(auto.deinterlaced(), None);
        assert!(auto == off, "{at:?}");
        assert!(read_code(&auto, Orientation::IDENTITY).is_ok());
    }
}

/// `grab --deinterlace auto|off` reaches the setting, and `--json` says
/// which deinterlacer made each image: motion-adaptive where the picture
/// before was decoded on the way, spatial for the first after the seek.
#[test]
fn the_cli_deinterlaces_unless_told_not_to_and_says_so() {
    let _turn = gpu_turn();
    let scratch = Scratch::new("deint-cli");
    let movie = interlaced_fixture(&scratch, Codec::H264Mbaff, false);
    let movie = movie.to_str().expect("UTF-8 path");
    let out = scratch.path("out");
    let out = out.to_str().expect("UTF-8 path");
    let grab = |at: &str, extra: &[&str]| {
        let mut args = vec!["grab", movie, "--at", at, "--max-size", "180x0", "--json"];
        args.extend(["-o", out]);
        args.extend(extra);
        let run = common::cli::stills(&args, "");
        assert!(run.status.success(), "{}", run.stderr);
        let line: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
        line["deinterlaced"].clone()
    };
    // Exact: frame 2 comes after frame 1, decoded on the way from the
    // keyframe; frame 0 is the keyframe.
    assert_eq!(grab("0.1", &[]), "motion-adaptive");
    assert_eq!(grab("0.1", &["--deinterlace", "auto"]), "motion-adaptive");
    assert_eq!(grab("0", &[]), "spatial");
    assert_eq!(
        grab("0.1", &["--deinterlace", "off"]),
        serde_json::Value::Null
    );
    let bad = common::cli::stills(&["grab", movie, "--at", "0", "--deinterlace", "bob"], "");
    assert!(!bad.status.success());
}

/// The motion-adaptive filter on a synthetic interlaced picture: a still
/// band of one-line stripes (detail only the two fields together hold)
/// above a band whose fields differ, as something moving combs. After an
/// identical previous picture nothing moved: the image is the woven
/// picture's, exactly, stripes and all. After a previous picture that
/// differs in the lower band, that band is the spatial filter's (its
/// comb gone) while the still band stays woven.
#[test]
fn still_parts_are_woven_and_moving_parts_interpolated() {
    let _turn = gpu_turn();
    let (width, height) = (64u32, 64u32);
    let luma = |x: u32, y: u32| -> u8 {
        if y < 32 {
            // Still: stripes, and a ramp along the row.
            if y % 2 == 0 {
                40 + x as u8
            } else {
                200 - x as u8
            }
        } else if y % 2 == 0 {
            // Moving: the top field shows the object, the bottom field
            // what was there before it.
            200
        } else {
            50
        }
    };
    let frame = |luma: &dyn Fn(u32, u32) -> u8, scan: Scan| {
        let mut raw = Vec::new();
        for y in 0..height {
            raw.extend((0..width).map(|x| luma(x, y)));
        }
        raw.resize(raw.len() + 2 * (width * height / 4) as usize, 128);
        let mut picture = Picture::from_packed(width, height, DecodedFormat::Yuv420p, raw).unwrap();
        picture.desc.scan = scan;
        picture
    };
    let interlaced = Scan::Interlaced {
        top_field_first: true,
    };
    let picture = frame(&luma, interlaced);
    let same = frame(&luma, interlaced);
    // Before, the lower band was empty (black) in both fields.
    let before = frame(&|x, y| if y < 32 { luma(x, y) } else { 16 }, interlaced);
    let geometry = stills::render::SourceGeometry::default();
    let settings = RenderSettings::default();
    let spec = OutputSpec::new(&picture.desc, &geometry, &settings).unwrap();
    assert_eq!(spec.deinterlace, Some(Field::Top));
    let progressive = frame(&luma, Scan::Progressive);
    let woven_spec = OutputSpec::new(&progressive.desc, &geometry, &settings).unwrap();
    let mut pipeline = FramePipeline::new(common::gpu::context()).unwrap();
    let woven = pipeline.render(&progressive, &woven_spec).unwrap();
    let spatial = pipeline.render(&picture, &spec).unwrap();
    let still = pipeline.render_after(&picture, Some(&same), &spec).unwrap();
    let moved = pipeline
        .render_after(&picture, Some(&before), &spec)
        .unwrap();
    assert_eq!(woven.deinterlaced, None);
    assert_eq!(spatial.deinterlaced, Some(Deinterlacer::Spatial));
    assert_eq!(still.deinterlaced, Some(Deinterlacer::MotionAdaptive));
    assert_eq!(moved.deinterlaced, Some(Deinterlacer::MotionAdaptive));
    assert!(still.data == woven.data, "a still picture is woven");
    let rows = |image: &stills::gpu::RenderedImage, range: std::ops::Range<usize>| {
        image.data[range.start * image.stride..range.end * image.stride].to_vec()
    };
    // A few lines from the bands' edge, whose filters reach across it.
    let (still_band, moving_band) = (0..28, 36..64);
    assert!(rows(&moved, still_band.clone()) == rows(&woven, still_band.clone()));
    assert!(rows(&spatial, still_band.clone()) != rows(&woven, still_band));
    assert!(rows(&moved, moving_band.clone()) == rows(&spatial, moving_band.clone()));
    assert!(rows(&moved, moving_band.clone()) != rows(&woven, moving_band));
}

/// A request that takes the nearest keyframe decodes nothing before its
/// picture: spatial, whatever comes after it.
#[test]
fn keyframe_requests_are_deinterlaced_spatially() {
    let _turn = gpu_turn();
    let scratch = Scratch::new("deint-keyframe");
    let path = interlaced_fixture(&scratch, Codec::H264Mbaff, true);
    let generator = generator(&path, 1, |_| {});
    for n in [3, 7] {
        let (image, _) = generator
            .copy_image(Time::new(i64::from(n) * 2 + 1, 50))
            .unwrap();
        assert_eq!(
            image.deinterlaced(),
            Some(Deinterlacer::Spatial),
            "frame {n}"
        );
        let code = read_code(&image, Orientation::IDENTITY).unwrap();
        assert!(code % 5 == 0, "frame {n} was served by keyframe {code}");
    }
}
