//! Real-world files from `../shared/media` (see its MANIFEST.md): at
//! several times per file, in exact mode, the image returned is closer to
//! FFmpeg's decode of the frame a player shows at that time than to FFmpeg's
//! decode of that frame's neighbours.
//!
//! The frame shown at each time comes from ffprobe's timestamps of every
//! frame FFmpeg outputs; the reference pictures from one `ffmpeg` run that
//! decodes every frame (`-fps_mode passthrough`, so the n-th picture out is
//! the n-th frame ffprobe lists), autorotated as FFmpeg does by default,
//! and scaled with Lanczos to exactly the size of our image. Decoding every
//! frame once, rather than seeking to each, gives the neighbours for free
//! and leaves no seek rounding to doubt.
//!
//! Closeness is PSNR over RGB. For HDR files (PQ, HLG) FFmpeg's default
//! conversion does not tone map while stills does, so the colours differ by
//! design; for those only the frame's identity is checked, by the same
//! closer-than-its-neighbours rule on the ranks of luma values within each
//! picture, which no monotonic tone curve changes. A frame whose reference
//! is nearly the same picture as a neighbour's cannot be told apart from it
//! and is not used.
//!
//! Without the directory the test is skipped with a message, unless
//! `STILLS_REQUIRE_SHARED_MEDIA` is set.

mod common;

use std::path::Path;

use common::ffmpeg::{ffmpeg, ffprobe};
use common::harness::{collect_stream, generator, gpu_turn, DEADLINE};
use common::media::media_dir as shared_media;
use common::metrics::psnr8;
use stills::{Asset, Image, Size, Time};

/// A file, and whether its colours are HDR (compared on luma only).
struct RealFile {
    path: &'static str,
    hdr: bool,
}

const FILES: [RealFile; 13] = [
    sdr("decord/video_90.mov"),
    sdr("decord/video_180.mov"),
    sdr("decord/video_270.mov"),
    sdr("androidx/bbb_800x640_768kbps_30fps_avc_2b_firstpts_10_sec.mp4"),
    sdr("torchcodec/test_non_zero_start.mp4"),
    sdr("mediabunny/cursed-vfr.mp4"),
    sdr("mediabunny/sar_2x1.mp4"),
    sdr("androidx/bear-vp9-odd-dimensions.webm"),
    sdr("androidx/roadtrip-vp92-10bit.webm"),
    sdr("torchcodec/nasa_13013.mp4"),
    sdr("jcodec/test.prores.mov"),
    RealFile {
        path: "androidx/sample_with_colr_mdcv_and_clli.mp4",
        hdr: true,
    },
    RealFile {
        path: "androidx/dolbyVision-hdr.MOV",
        hdr: true,
    },
];

const fn sdr(path: &'static str) -> RealFile {
    RealFile { path, hdr: false }
}

/// Frames checked per file, spread over it.
const SAMPLES: usize = 6;
/// Two references closer than this (in dB) are the same picture for this
/// test: no image could be told to be one and not the other.
const SAME_PICTURE_DB: f64 = 45.0;
/// The box images are fitted into: small, for lavapipe and for FFmpeg's
/// scaler and ours to agree.
const BOX: Size = Size::new(160, 160);

/// A stream's frames as FFmpeg outputs them.
struct Frames {
    /// Seconds per tick.
    time_base: (i64, i64),
    /// Presentation time of each frame, in output order, in ticks.
    pts: Vec<i64>,
}

fn probe_frames(path: &Path, stream: usize) -> Frames {
    let stream = stream.to_string();
    let path = path.to_str().expect("a UTF-8 path");
    let text = |entries: &str| {
        ffprobe(&[
            "-select_streams",
            &stream,
            "-show_entries",
            entries,
            "-of",
            "csv=p=0",
            path,
        ])
    };
    let tb = text("stream=time_base");
    // Side data, when the stream has some, prints as more fields.
    let tb = tb.split([',', '\n']).next().unwrap_or_default();
    let (num, den) = tb.trim().split_once('/').expect("a time base");
    let listing = text("frame=best_effort_timestamp");
    // Side data of some frames prints as lines of its own; frames are the
    // lines that are a bare timestamp.
    let pts: Vec<i64> = listing
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
        .collect();
    Frames {
        time_base: (num.parse().unwrap(), den.parse().unwrap()),
        pts,
    }
}

/// Every frame FFmpeg decodes from `stream`, autorotated, scaled to
/// `width`×`height`, as RGB8.
fn reference_frames(path: &Path, stream: usize, width: u32, height: u32) -> Vec<Vec<u8>> {
    let bytes = ffmpeg(
        &[
            "-i",
            path.to_str().expect("a UTF-8 path"),
            "-map",
            &format!("0:{stream}"),
            "-fps_mode",
            "passthrough",
            "-vf",
            &format!("scale={width}:{height}:flags=lanczos"),
            "-pix_fmt",
            "rgb24",
            "-f",
            "rawvideo",
            "-",
        ],
        None,
    );
    let size = width as usize * height as usize * 3;
    assert_eq!(bytes.len() % size, 0, "{}: partial frame", path.display());
    bytes.chunks(size).map(<[u8]>::to_vec).collect()
}

/// Our 8-bit image as packed RGB8.
fn rgb(image: &Image) -> Vec<u8> {
    let rgba = image.to_rgba8().expect("ForceSdr images are 8-bit");
    rgba.pixels().flat_map(|p| [p[0], p[1], p[2]]).collect()
}

/// Luma of an RGB8 picture replaced by its rank among the picture's
/// pixels (0 for the darkest, 1 for the brightest): any tone curve keeps
/// the order of brightness, so two renderings of one frame through
/// different curves rank alike, while another frame does not.
fn luma_ranks(rgb: &[u8]) -> Vec<f64> {
    let y: Vec<f64> = rgb
        .chunks(3)
        .map(|p| 0.2126 * f64::from(p[0]) + 0.7152 * f64::from(p[1]) + 0.0722 * f64::from(p[2]))
        .collect();
    let mut order: Vec<usize> = (0..y.len()).collect();
    order.sort_by(|&a, &b| y[a].total_cmp(&y[b]));
    let mut ranks = vec![0.0; y.len()];
    let top = (y.len().max(2) - 1) as f64;
    // Equal values share the mean of their ranks.
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && y[order[j + 1]] == y[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 / top;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    ranks
}

/// Closeness of two pictures, higher is closer, in dB: PSNR over RGB, or
/// for HDR a PSNR over luma ranks (peak 1).
fn closeness(a: &[u8], b: &[u8], hdr: bool) -> f64 {
    if !hdr {
        return psnr8(a, b);
    }
    let (la, lb) = (luma_ranks(a), luma_ranks(b));
    let mse = la
        .iter()
        .zip(&lb)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        / la.len() as f64;
    -10.0 * mse.log10()
}

/// Frames (output order) whose reference differs from every neighbour's,
/// up to `SAMPLES` of them spread over the file.
fn distinct_samples(refs: &[Vec<u8>], hdr: bool) -> Vec<usize> {
    let distinct: Vec<usize> = (0..refs.len())
        .filter(|&k| {
            let neighbours = [k.checked_sub(1), Some(k + 1).filter(|&n| n < refs.len())];
            neighbours
                .into_iter()
                .flatten()
                .all(|n| closeness(&refs[k], &refs[n], hdr) < SAME_PICTURE_DB)
        })
        .collect();
    if distinct.len() <= SAMPLES {
        return distinct;
    }
    (0..SAMPLES)
        .map(|i| distinct[i * (distinct.len() - 1) / (SAMPLES - 1)])
        .collect()
}

/// Checks one file; returns what went wrong.
fn check(file: &RealFile, dir: &Path) -> Vec<String> {
    let path = dir.join(file.path);
    let asset = Asset::open(&path).unwrap_or_else(|e| panic!("{}: {e}", file.path));
    let stream = asset
        .default_video_track()
        .unwrap_or_else(|e| panic!("{}: {e}", file.path))
        .index;
    let frames = probe_frames(&path, stream);
    let (num, den) = frames.time_base;
    let time = |ticks: i64| Time::new(ticks * num, i32::try_from(den).unwrap());
    assert!(
        frames.pts.windows(2).all(|w| w[0] < w[1]),
        "{}: ffprobe's frame times are not increasing",
        file.path
    );
    let n = frames.pts.len();
    // The first frame at its pts, and later ones too, tell us the size.
    let generator = generator(&path, 1, |s| {
        s.set_exact();
        s.set_maximum_size(BOX);
        s.set_applies_preferred_track_transform(true);
    });
    let (first, _) = generator
        .copy_image(time(frames.pts[0]))
        .unwrap_or_else(|e| panic!("{}: first frame: {e}", file.path));
    let (width, height) = (first.width(), first.height());
    let refs = reference_frames(&path, stream, width, height);
    assert_eq!(
        refs.len(),
        n,
        "{}: ffmpeg output {} frames, ffprobe listed {n}",
        file.path,
        refs.len()
    );
    let samples = distinct_samples(&refs, file.hdr);
    assert!(
        !samples.is_empty(),
        "{}: no frame differs from its neighbours enough to test",
        file.path
    );

    // Each sampled frame at its pts and half-way to the next (the last
    // frame one tick after its pts).
    let mut asks: Vec<(Time, usize)> = Vec::new();
    for &k in &samples {
        asks.push((time(frames.pts[k]), k));
        let later = match frames.pts.get(k + 1) {
            Some(&next) => Time::new(
                frames.pts[k] * num + next * num,
                i32::try_from(2 * den).unwrap(),
            ),
            None => time(frames.pts[k] + 1),
        };
        asks.push((later, k));
    }
    let items = collect_stream(generator.images(asks.iter().map(|a| a.0)), DEADLINE)
        .unwrap_or_else(|e| panic!("{}: {e}", file.path));
    assert_eq!(items.len(), asks.len(), "{}", file.path);

    let mut problems = Vec::new();
    for item in items {
        let t = item.requested;
        let k = asks.iter().find(|a| a.0 == t).expect("a requested time").1;
        let (image, actual) = match item.result {
            Ok(pair) => pair,
            Err(e) => {
                problems.push(format!("{} at {t:?}: {e}", file.path));
                continue;
            }
        };
        if actual != time(frames.pts[k]) {
            problems.push(format!(
                "{} at {t:?}: actual {actual:?}, want frame {k} at {:?}",
                file.path,
                time(frames.pts[k])
            ));
        }
        if (image.width(), image.height()) != (width, height) {
            problems.push(format!(
                "{} at {t:?}: {}x{}, the first frame was {width}x{height}",
                file.path,
                image.width(),
                image.height()
            ));
            continue;
        }
        let ours = rgb(&image);
        let own = closeness(&ours, &refs[k], file.hdr);
        for n in [k.checked_sub(1), Some(k + 1).filter(|&n| n < refs.len())]
            .into_iter()
            .flatten()
        {
            let other = closeness(&ours, &refs[n], file.hdr);
            if other >= own {
                problems.push(format!(
                    "{} at {t:?}: closer to frame {n} ({other:.2} dB) than to frame {k} ({own:.2} dB)",
                    file.path
                ));
            }
        }
    }
    problems
}

#[test]
fn images_match_ffmpegs_decode_of_the_frame_shown() {
    let Some(dir) = shared_media() else {
        return;
    };
    let _turn = gpu_turn();
    let problems: Vec<String> = FILES.iter().flat_map(|f| check(f, &dir)).collect();
    assert!(
        problems.is_empty(),
        "{} wrong images:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
