//! Metadata that the real-world media in `../shared/media` does not cover,
//! checked on files the ffmpeg CLI makes at test time: a clean aperture
//! (`clap`; no shared file has one) and an MPEG-TS transport clock (the only
//! shared transport-clock file is a raw stream without timestamps).

mod common;

use common::ffmpeg::ffmpeg_to_file;
use common::scratch::Scratch;
use stills::asset::geometry::CleanAperture;
use stills::asset::TimelineKind;
use stills::Asset;
use stills::Ratio;

fn ratio(num: i64, den: i64) -> Ratio {
    Ratio::new(num, den).expect("non-zero denominator")
}

/// A 64×48 QuickTime movie whose `clap` box says to show 60×44 of it,
/// shifted half a pixel left and one down. FFmpeg writes a full-frame `clap`
/// (64/1 × 48/1, offsets 0/1) for uncompressed 4:2:2 (`2vuy`); its eight
/// numbers are rewritten in place. `moov_first` moves the `moov` before the
/// `mdat` (`+faststart`); otherwise it ends the file.
fn movie_with_clean_aperture(scratch: &Scratch, moov_first: bool) -> Vec<u8> {
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc=s=64x48:r=10:d=0.3",
        "-c:v",
        "rawvideo",
        "-pix_fmt",
        "uyvy422",
    ];
    if moov_first {
        args.extend(["-movflags", "+faststart"]);
    }
    let mut movie = ffmpeg_to_file(&args, &scratch.path("full-clap.mov"));
    let at = movie
        .windows(4)
        .position(|w| w == b"clap")
        .expect("FFmpeg writes a clap box for 2vuy")
        + 4;
    let fields = |movie: &[u8]| -> Vec<i32> {
        movie[at..at + 32]
            .chunks(4)
            .map(|b| i32::from_be_bytes(b.try_into().expect("4 bytes")))
            .collect()
    };
    assert_eq!(fields(&movie), [64, 1, 48, 1, 0, 1, 0, 1], "FFmpeg's clap");
    let wanted: [i32; 8] = [60, 1, 44, 1, -1, 2, 1, 1];
    for (i, v) in wanted.iter().enumerate() {
        movie[at + 4 * i..at + 4 * i + 4].copy_from_slice(&v.to_be_bytes());
    }
    movie
}

fn check_clean_aperture(moov_first: bool) {
    let scratch = Scratch::new(if moov_first {
        "clap-first"
    } else {
        "clap-last"
    });
    let movie = movie_with_clean_aperture(&scratch, moov_first);
    let path = scratch.write("clap.mov", &movie);
    for asset in [Asset::open(&path), Asset::from_bytes(movie)] {
        let asset = asset.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let track = asset.default_video_track().expect("one video track");
        assert_eq!(
            track.clean_aperture,
            Some(CleanAperture {
                width: ratio(60, 1),
                height: ratio(44, 1),
                horizontal_offset: ratio(-1, 2),
                vertical_offset: ratio(1, 1),
            }),
            "{}",
            asset.name()
        );
        assert_eq!((track.coded_width, track.coded_height), (64, 48));
        assert_eq!((track.display_width, track.display_height), (60, 44));
    }
}

#[test]
fn clean_aperture_with_moov_first() {
    check_clean_aperture(true);
}

#[test]
fn clean_aperture_with_moov_last() {
    check_clean_aperture(false);
}

/// MPEG-TS timestamps are a transport clock: ffprobe gives a start time of
/// 1.4 s (FFmpeg's default mux delay) and ten packets at pts 126000 +
/// 9000·n in 1/90000, one keyframe. On the asset timeline the first frame is
/// at 0 and the last at 0.9 s.
#[test]
fn mpeg_ts_timeline_starts_at_its_start_time() {
    let scratch = Scratch::new("ts");
    let path = scratch.path("clock.ts");
    ffmpeg_to_file(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=s=64x48:r=10:d=1",
            "-c:v",
            "mpeg4",
        ],
        &path,
    );
    let asset = Asset::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let container = asset.container();
    assert_eq!(container.format, "mpegts");
    assert_eq!(container.timeline, TimelineKind::TransportClock);
    assert_eq!(container.start_time, Some(1.4));
    let track = asset.default_video_track().expect("one video track");
    assert_eq!(track.time_base, ratio(1, 90000));
    let index = asset.frame_index(track).expect("indexed");
    assert_eq!(index.packets.len(), 10);
    let timeline = asset
        .timeline(track)
        .expect("indexed")
        .expect("frames shown");
    assert_eq!(timeline.frame_count, 10);
    assert_eq!(timeline.sync_frame_count, 1);
    assert_eq!(timeline.first_frame.seconds(), 0.0);
    assert_eq!(timeline.last_frame.seconds(), 81000.0 / 90000.0);
    assert_eq!(timeline.end.seconds(), 1.0);
    assert_eq!(timeline.average_frame_rate, Some(ratio(10, 1)));
    assert!(!timeline.variable_frame_rate);
}
