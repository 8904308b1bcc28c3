//! Exact mode (zero tolerances) on the index-coded fixtures: at every time
//! asked, the frame code read back from the image is the frame a player
//! shows at that time, and `actual_time` is that frame's presentation time,
//! compared as exact `Time` values. The expectation comes from the
//! fixtures' README (ffprobe's pts of every frame, with the code FFmpeg
//! decoded), never from the library.
//!
//! Each fixture is asked at every frame's pts (a boundary: that frame), one
//! tick and a seventh of a tick before it (the previous frame), half-way to
//! the next frame, on a 0.1 s grid in another timescale (600), and around
//! the start and the track's end. Everything is asked once as one batch
//! (planned and decoded together) and, for the timing-sensitive fixtures,
//! again one request at a time (each sought and decoded from its own
//! start). Generators have one worker here (see `harness::gpu_turn`);
//! `batches_split_over_several_workers` asks the batches again split over
//! three workers.

mod common;

use std::collections::HashMap;

use common::facts::Fixture;
use common::harness::{
    collect_stream, describe, generator, gpu_turn, is_no_image, read_code, DEADLINE,
};
use stills::asset::geometry::Orientation;
use stills::generator::ImageResult;
use stills::{DynamicRangePolicy, GeneratorSettings, PixelFormat, Size, Time};

/// Small enough to render quickly on lavapipe, large enough for the code
/// band's cells (10 pixels wide at 160).
const SMALL: Size = Size::new(160, 0);

/// The times worth asking a fixture, each once.
fn probe_times(fx: &Fixture) -> Vec<Time> {
    let mut times = Vec::new();
    for (k, frame) in fx.frames.iter().enumerate() {
        times.push(fx.time(frame.pts));
        times.push(fx.time(frame.pts - 1));
        times.push(fx.time_between(frame.pts - 1, 6, 7));
        let until = fx.until(k);
        if until - frame.pts >= 2 {
            times.push(fx.time((frame.pts + until) / 2));
        }
    }
    for ticks in [fx.end - 1, fx.end, fx.end + 1] {
        times.push(fx.time(ticks));
    }
    times.push(fx.time_between(fx.end - 1, 6, 7));
    times.extend([
        Time::new(-1, 600),
        Time::ZERO,
        fx.time(fx.end) + Time::new(1, 1),
    ]);
    let end_600 = fx.time(fx.end).value() * 600 / i64::from(fx.time(fx.end).timescale());
    times.extend((-60..=end_600 + 60).step_by(60).map(|v| Time::new(v, 600)));
    let mut unique = Vec::new();
    for t in times {
        if !unique.contains(&t) {
            unique.push(t);
        }
    }
    unique
}

/// Why `result` is not what exact mode owes the request at `t`, if it is
/// not.
fn exact_mismatch(
    fx: &Fixture,
    t: Time,
    result: &ImageResult,
    read_as: Orientation,
) -> Option<String> {
    let expected = fx.displayed_at(t);
    let ok = match (expected, result) {
        (Some(frame), Ok((image, actual))) => {
            read_code(image, read_as) == Ok(frame.code) && *actual == fx.time(frame.pts)
        }
        (None, Err(e)) => is_no_image(e),
        _ => false,
    };
    (!ok).then(|| {
        let wanted = match expected {
            Some(f) => format!("code {} at {:?}", f.code, fx.time(f.pts)),
            None => "NoImageAtTime".into(),
        };
        format!(
            "{} at {t:?} ({:.6} s): want {wanted}, got {}",
            fx.name,
            t.seconds(),
            describe(result, read_as)
        )
    })
}

/// Asks `fx` for every time of `times` in one batch, decoded by `workers`
/// workers, and returns what did not match exact mode's answer.
fn batch_mismatches(
    fx: &Fixture,
    times: &[Time],
    read_as: Orientation,
    workers: usize,
    configure: impl FnOnce(&mut GeneratorSettings),
) -> Vec<String> {
    let generator = generator(&common::facts::fixture_path(&fx.name), workers, |s| {
        s.set_maximum_size(SMALL);
        configure(s);
        s.set_exact();
    });
    let items = collect_stream(generator.images(times.iter().copied()), DEADLINE)
        .unwrap_or_else(|e| panic!("{}: {e}", fx.name));
    let mut seen: HashMap<Time, usize> = HashMap::new();
    let mut problems = Vec::new();
    for item in &items {
        *seen.entry(item.requested).or_default() += 1;
        problems.extend(exact_mismatch(fx, item.requested, &item.result, read_as));
    }
    for t in times {
        let n = seen.get(t).copied().unwrap_or(0);
        if n != 1 {
            problems.push(format!("{} at {t:?}: {n} results, want 1", fx.name));
        }
    }
    problems
}

/// Asks `fx` for each of `times` alone, one after another, on a generator
/// with one worker.
fn single_mismatches(fx: &Fixture, times: &[Time], read_as: Orientation) -> Vec<String> {
    let generator = generator(&common::facts::fixture_path(&fx.name), 1, |s| {
        s.set_maximum_size(SMALL);
        s.set_exact();
    });
    times
        .iter()
        .filter_map(|&t| exact_mismatch(fx, t, &generator.copy_image(t), read_as))
        .collect()
}

fn assert_none(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{} wrong answers:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Every probe time of fixture `name` as one batch.
fn check_batch(name: &str, workers: usize) -> Vec<String> {
    let fx = Fixture::load(name);
    batch_mismatches(
        &fx,
        &probe_times(&fx),
        Orientation::IDENTITY,
        workers,
        |_| {},
    )
}

/// Each frame's pts, and a seventh of a tick before it, one request at a
/// time, then the last tick before the end and the end.
fn check_singles(name: &str) -> Vec<String> {
    let fx = Fixture::load(name);
    let singles: Vec<Time> = fx
        .frames
        .iter()
        .flat_map(|f| [fx.time(f.pts), fx.time_between(f.pts - 1, 6, 7)])
        .chain([fx.time(fx.end - 1), fx.time(fx.end)])
        .collect();
    single_mismatches(&fx, &singles, Orientation::IDENTITY)
}

/// The whole check for a fixture whose timing is the point.
fn check_timing_fixture(name: &str) {
    let mut problems = check_batch(name, 1);
    problems.extend(check_singles(name));
    assert_none(problems);
}

#[test]
fn readme_facts_parse_as_documented() {
    // A few facts checked by hand against tests/fixtures/README.md, so a
    // parser slip cannot make every expectation wrong the same way.
    let b = Fixture::load("h264_bframes.mp4");
    assert_eq!(b.time_base, (1, 12800));
    assert_eq!((b.frames.len(), b.packets.len(), b.end), (50, 50, 25600));
    assert_eq!(b.frames[4].pts, 2048);
    assert_eq!(b.packets[1].code, 4);
    assert_eq!(
        b.sync_frames().iter().map(|f| f.code).collect::<Vec<_>>(),
        [0, 12, 24, 36, 48]
    );
    // Code 4 is the second packet after the IDR; code 3 the fifth.
    assert_eq!(b.cost(b.frames[4]).packets, 2);
    assert_eq!(b.cost(b.frames[3]).packets, 5);

    let ts = Fixture::load("mpegts_start.ts");
    assert_eq!((ts.offset, ts.frames[0].pts, ts.end), (133_200, 0, 180_000));
    assert_eq!(ts.frames[49].pts, 309_600 - 133_200);

    let vfr = Fixture::load("vfr.mp4");
    assert_eq!(
        vfr.end, 2720,
        "the container's end: ffprobe's stream duration stops before the last frame"
    );
    assert_eq!(vfr.frames[3].pts, 160);

    let open = Fixture::load("h264_opengop_pyramid.mkv");
    assert_eq!((open.time_base, open.end), ((1, 1000), 2000));
    // Code 10 (pts 400) is a leading B-frame of the GOP opened by code 12
    // (packet 9): it needs the GOP before, from packet 0 through packet 10.
    let ten = open.frame_with_code(10).unwrap();
    assert_eq!(open.cost(ten).packets, 11);
    assert_eq!(open.cost(open.frame_with_code(12).unwrap()).packets, 1);

    let mid = Fixture::load("editlist_midgop.mp4");
    assert_eq!((mid.frames[0].code, mid.frames[0].pts), (35, 0));
    assert!(mid.packets[0].sync && mid.packets[0].discard);
    assert_eq!(mid.cost(mid.frames[0]).packets, 12);

    let empty = Fixture::load("editlist_empty.mp4");
    assert_eq!((empty.frames[0].pts, empty.end), (6400, 19200));

    let mirrored = Fixture::load("mirror_rot90.mp4");
    assert_eq!(
        mirrored.orientation,
        Orientation {
            rotation: 90,
            mirror: true
        }
    );
    assert_eq!(Fixture::load("vp9.webm").orientation, Orientation::IDENTITY);
}

#[test]
fn oracle_answers_known_cases() {
    let b = Fixture::load("h264_bframes.mp4");
    let code_at = |t: Time| b.displayed_at(t).map(|f| f.code);
    assert_eq!(code_at(Time::ZERO), Some(0));
    assert_eq!(code_at(Time::new(511, 12800)), Some(0));
    assert_eq!(code_at(Time::new(512, 12800)), Some(1));
    assert_eq!(code_at(Time::new(-1, 12800)), None);
    assert_eq!(code_at(Time::new(25599, 12800)), Some(49));
    assert_eq!(code_at(Time::new(2, 1)), None);
}

#[test]
fn b_frame_reordering() {
    let _turn = gpu_turn();
    check_timing_fixture("h264_bframes.mp4");
}

#[test]
fn open_gop_with_b_pyramid() {
    let _turn = gpu_turn();
    assert_none(check_batch("h264_opengop_pyramid.mkv", 1));
}

/// Asked alone, a frame decoded after an open-GOP I-frame but before FFmpeg
/// has output that I-frame (codes 14 and 16 after the I-frame 12, and code
/// 49 after 48) is dropped by the H.264 decoder when the run ends with an
/// end-of-stream drain: FFmpeg marks it "not recovered" and, without
/// `AV_CODEC_FLAG_OUTPUT_CORRUPT`, discards it on draining.
#[test]
fn open_gop_with_b_pyramid_one_request_at_a_time() {
    let _turn = gpu_turn();
    assert_none(check_singles("h264_opengop_pyramid.mkv"));
}

#[test]
fn variable_frame_rate() {
    let _turn = gpu_turn();
    check_timing_fixture("vfr.mp4");
}

#[test]
fn edit_list_starting_mid_gop() {
    let _turn = gpu_turn();
    check_timing_fixture("editlist_midgop.mp4");
}

#[test]
fn empty_edit() {
    let _turn = gpu_turn();
    check_timing_fixture("editlist_empty.mp4");
}

/// The timing fixtures again, each batch split over three workers so runs
/// start mid-file and render at once.
#[test]
fn batches_split_over_several_workers() {
    let _turn = gpu_turn();
    let mut problems = Vec::new();
    for name in [
        "h264_bframes.mp4",
        "vfr.mp4",
        "editlist_midgop.mp4",
        "editlist_empty.mp4",
        "mpegts_start.ts",
        "vp9.webm",
        "av1.mp4",
        "hevc_main10_hdr10.mp4",
    ] {
        problems.extend(check_batch(name, 3));
    }
    assert_none(problems);
}

#[test]
fn nothing_is_shown_before_an_empty_edit_ends() {
    let _turn = gpu_turn();
    let fx = Fixture::load("editlist_empty.mp4");
    let generator = generator(&common::facts::fixture_path(&fx.name), 1, |s| {
        s.set_maximum_size(SMALL);
        s.set_exact();
    });
    for t in [Time::ZERO, Time::new(1, 4), Time::new(6399, 12800)] {
        match generator.copy_image(t) {
            Err(e) if is_no_image(&e) => {}
            other => panic!(
                "at {t:?}: want NoImageAtTime, got {}",
                describe(&other, Orientation::IDENTITY)
            ),
        }
    }
    let (image, actual) = generator.copy_image(Time::new(1, 2)).unwrap();
    assert_eq!(read_code(&image, Orientation::IDENTITY), Ok(0));
    assert_eq!(actual, Time::new(1, 2));
}

#[test]
fn transport_stream_timeline_starts_at_the_container_start() {
    let _turn = gpu_turn();
    check_timing_fixture("mpegts_start.ts");
}

#[test]
fn vp9_with_hidden_frames() {
    let _turn = gpu_turn();
    check_timing_fixture("vp9.webm");
}

#[test]
fn av1() {
    let _turn = gpu_turn();
    check_timing_fixture("av1.mp4");
}

#[test]
fn hevc_10_bit_hdr10_and_hlg() {
    let _turn = gpu_turn();
    check_timing_fixture("hevc_main10_hdr10.mp4");
    check_timing_fixture("hevc_main10_hlg.mp4");
}

#[test]
fn hevc_10_bit_kept_as_hdr() {
    let _turn = gpu_turn();
    let mut problems = Vec::new();
    for name in ["hevc_main10_hdr10.mp4", "hevc_main10_hlg.mp4"] {
        let fx = Fixture::load(name);
        let times: Vec<Time> = fx
            .frames
            .iter()
            .step_by(7)
            .map(|f| fx.time(f.pts + 1))
            .collect();
        let generator = generator(&common::facts::fixture_path(name), 1, |s| {
            s.set_maximum_size(SMALL);
            s.set_dynamic_range_policy(DynamicRangePolicy::MatchSource);
            s.set_exact();
        });
        let items = collect_stream(generator.images(times.iter().copied()), DEADLINE).unwrap();
        assert_eq!(items.len(), times.len());
        for item in &items {
            if let Ok((image, _)) = &item.result {
                assert_eq!(image.pixel_format(), PixelFormat::Rgba16, "{name}");
            }
            problems.extend(exact_mismatch(
                &fx,
                item.requested,
                &item.result,
                Orientation::IDENTITY,
            ));
        }
    }
    assert_none(problems);
}

#[test]
fn every_other_coded_fixture() {
    let _turn = gpu_turn();
    let mut problems = Vec::new();
    for name in [
        "bt601_tagged_sd.mp4",
        "bt709_tagged_hd.mp4",
        "clap_pasp.mp4",
        "crop_162x122_yuv420p.mp4",
        "fullrange.mp4",
        "odd_161x121_yuv420p.webm",
        "odd_161x121_yuv444p.mp4",
        "sar_2_1.mp4",
        "untagged_hd.mp4",
        "untagged_sd.mp4",
        "yuv422p.mp4",
        "yuv444p.mp4",
    ] {
        let fx = Fixture::load(name);
        problems.extend(batch_mismatches(
            &fx,
            &probe_times(&fx),
            Orientation::IDENTITY,
            1,
            |_| {},
        ));
    }
    assert_none(problems);
}

const ORIENTED: [&str; 8] = [
    "rot0.mp4",
    "rot90.mp4",
    "rot180.mp4",
    "rot270.mp4",
    "mirror_rot0.mp4",
    "mirror_rot90.mp4",
    "mirror_rot180.mp4",
    "mirror_rot270.mp4",
];

#[test]
fn rotated_and_mirrored_with_the_track_transform() {
    let _turn = gpu_turn();
    let mut problems = Vec::new();
    for name in ORIENTED {
        let fx = Fixture::load(name);
        problems.extend(batch_mismatches(
            &fx,
            &probe_times(&fx),
            fx.orientation,
            1,
            |s| s.set_applies_preferred_track_transform(true),
        ));
    }
    assert_none(problems);
}

#[test]
fn rotated_and_mirrored_without_the_track_transform() {
    let _turn = gpu_turn();
    let mut problems = Vec::new();
    for name in ORIENTED {
        let fx = Fixture::load(name);
        problems.extend(batch_mismatches(
            &fx,
            &probe_times(&fx),
            Orientation::IDENTITY,
            1,
            |s| s.set_applies_preferred_track_transform(false),
        ));
    }
    assert_none(problems);
}
