//! Which frame a request gets, on the index-coded fixtures, in exact mode
//! and in tolerance-window mode (SPEC "Which frame"), every request checked
//! by `common::frame_check`: the frame code read back from the image, the
//! actual time, and whether that frame is the one wanted. What is wanted
//! comes from the fixtures' README (ffprobe's pts of every frame and packet,
//! with the code FFmpeg decoded), never from the library.
//!
//! Exact mode (zero tolerances): the frame is the one a player shows at
//! the time asked, and `actual_time` is its presentation time, compared as
//! exact `Time` values. Each fixture is asked at every frame's pts (a
//! boundary: that frame), one tick and a seventh of a tick before it (the
//! previous frame), half-way to the next frame, on a 0.1 s grid in another
//! timescale (600), and around the start and the track's end. Everything
//! is asked once as one batch (planned and decoded together) and, for the
//! timing-sensitive fixtures, again one request at a time (each sought and
//! decoded from its own start).
//!
//! Window mode: with tolerances, the frame is displayed at some instant of
//! `[t − before, t + after]`, and it is the cheapest such frame to decode
//! (a sync frame when the window holds one, else the fewest packets from
//! its sync frame, counted in the README's decode order), the closest to
//! `t` among equals. The default, infinite tolerances give the nearest
//! sync frame; a window with no frame gives `NoImageAtTime`; times that are
//! not numbers give `InvalidTime`, and the setters refuse tolerances that
//! are not zero, positive or +∞.
//!
//! Generators have one worker unless a test says otherwise (see
//! `harness::gpu_turn`).

mod common;

use common::facts::Fixture;
use common::frame_check::{assert_no_problems, Asking, FrameCheck, Tolerances, Want};
use common::harness::gpu_turn;
use stills::Time;

/// The oracle the checks rely on, against facts worked out by hand.
mod oracle {
    use super::*;
    use stills::asset::geometry::Orientation;

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
    fn exact_mode_answers_known_cases() {
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
    fn window_mode_picks_what_the_spec_says() {
        let b = Fixture::load("h264_bframes.mp4");
        let codes = |t: Time, before: Time, after: Time| -> Vec<u32> {
            b.cheapest(t, before, after)
                .iter()
                .map(|f| f.code)
                .collect()
        };
        // 0.5 s ± 40 ms holds frames 11, 12 (sync), 13: the sync frame.
        let w = Time::new(1, 25);
        assert_eq!(codes(Time::new(1, 2), w, w), [12]);
        // 0.3 s ± 40 ms holds frames 6..=8 only, no sync frame; code 8 is the
        // sixth packet from the IDR (0 4 1 2 3 8), codes 6 and 7 come after it.
        assert_eq!(codes(Time::new(3, 10), w, w), [8]);
        // Infinite tolerances: the nearest sync frame.
        let inf = Time::POSITIVE_INFINITY;
        assert_eq!(codes(Time::new(1, 1), inf, inf), [24]);
        assert_eq!(codes(Time::new(2, 10), inf, inf), [0]);
        // A window past the end holds nothing.
        assert!(codes(Time::new(3, 1), Time::new(1, 2), Time::ZERO).is_empty());
    }
}

/// Exact mode: the frame displayed at the time asked.
mod exact {
    use super::*;
    use stills::{DynamicRangePolicy, PixelFormat};

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

    /// Every probe time of fixture `name` as one batch over `workers`
    /// workers.
    fn batch(name: &str, workers: usize) -> Vec<String> {
        let check = FrameCheck::new(name).asking(Asking::Batch { workers });
        let times = probe_times(check.fixture());
        check.cases(times, Tolerances::Exact, Want::Spec).problems()
    }

    /// Each frame's pts, and a seventh of a tick before it, one request at
    /// a time, then the last tick before the end and the end.
    fn one_at_a_time(name: &str) -> Vec<String> {
        let check = FrameCheck::new(name).asking(Asking::OneAtATime);
        let fx = check.fixture();
        let times: Vec<Time> = fx
            .frames
            .iter()
            .flat_map(|f| [fx.time(f.pts), fx.time_between(f.pts - 1, 6, 7)])
            .chain([fx.time(fx.end - 1), fx.time(fx.end)])
            .collect();
        check.cases(times, Tolerances::Exact, Want::Spec).problems()
    }

    /// The whole check for a fixture whose timing is the point.
    fn check_timing_fixture(name: &str) {
        let mut problems = batch(name, 1);
        problems.extend(one_at_a_time(name));
        assert_no_problems(problems);
    }

    #[test]
    fn b_frame_reordering() {
        let _turn = gpu_turn();
        check_timing_fixture("h264_bframes.mp4");
    }

    #[test]
    fn open_gop_with_b_pyramid() {
        let _turn = gpu_turn();
        assert_no_problems(batch("h264_opengop_pyramid.mkv", 1));
    }

    /// Asked alone, a frame decoded after an open-GOP I-frame but before
    /// FFmpeg has output that I-frame (codes 14 and 16 after the I-frame 12,
    /// and code 49 after 48) is dropped by the H.264 decoder when the run
    /// ends with an end-of-stream drain: FFmpeg marks it "not recovered"
    /// and, without `AV_CODEC_FLAG_OUTPUT_CORRUPT`, discards it on draining.
    #[test]
    fn open_gop_with_b_pyramid_one_request_at_a_time() {
        let _turn = gpu_turn();
        assert_no_problems(one_at_a_time("h264_opengop_pyramid.mkv"));
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

    /// The timing fixtures again, each batch split over three workers so
    /// runs start mid-file and render at once; files with fewer groups of
    /// pictures than workers (yuv444p.mp4 is one) leave workers idle, which
    /// take the lanes' renders.
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
            "yuv444p.mp4",
        ] {
            problems.extend(batch(name, 3));
        }
        assert_no_problems(problems);
    }

    #[test]
    fn nothing_is_shown_before_an_empty_edit_ends() {
        let _turn = gpu_turn();
        let problems = FrameCheck::new("editlist_empty.mp4")
            .asking(Asking::OneAtATime)
            .cases(
                [Time::ZERO, Time::new(1, 4), Time::new(6399, 12800)],
                Tolerances::Exact,
                Want::NoImage,
            )
            .case(Time::new(1, 2), Tolerances::Exact, Want::Code(0))
            .problems();
        assert_no_problems(problems);
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

    /// Every seventh frame, a tick after its pts, as 16-bit images.
    #[test]
    fn hevc_10_bit_kept_as_hdr() {
        let _turn = gpu_turn();
        let mut problems = Vec::new();
        for name in ["hevc_main10_hdr10.mp4", "hevc_main10_hlg.mp4"] {
            let check = FrameCheck::new(name)
                .configure(|s| s.set_dynamic_range_policy(DynamicRangePolicy::MatchSource))
                .pixel_format(PixelFormat::Rgba16);
            let fx = check.fixture();
            let times: Vec<Time> = fx
                .frames
                .iter()
                .step_by(7)
                .map(|f| fx.time(f.pts + 1))
                .collect();
            problems.extend(check.cases(times, Tolerances::Exact, Want::Spec).problems());
        }
        assert_no_problems(problems);
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
            problems.extend(batch(name, 1));
        }
        assert_no_problems(problems);
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
            let check =
                FrameCheck::new(name).configure(|s| s.set_applies_preferred_track_transform(true));
            let times = probe_times(check.fixture());
            let orientation = check.fixture().orientation;
            let check = check.read_as(orientation);
            problems.extend(check.cases(times, Tolerances::Exact, Want::Spec).problems());
        }
        assert_no_problems(problems);
    }

    #[test]
    fn rotated_and_mirrored_without_the_track_transform() {
        let _turn = gpu_turn();
        let mut problems = Vec::new();
        for name in ORIENTED {
            let check =
                FrameCheck::new(name).configure(|s| s.set_applies_preferred_track_transform(false));
            let times = probe_times(check.fixture());
            problems.extend(check.cases(times, Tolerances::Exact, Want::Spec).problems());
        }
        assert_no_problems(problems);
    }
}

/// Window mode: the cheapest frame displayed in the window.
mod window {
    use super::*;
    use crate::common::harness::{collect_stream, describe, generator, DEADLINE, SMALL};
    use crate::common::readme::fixture_path;
    use stills::asset::geometry::Orientation;
    use stills::{Error, GeneratorSettings};

    const TIMING_FIXTURES: [&str; 6] = [
        "h264_bframes.mp4",
        "vfr.mp4",
        "editlist_midgop.mp4",
        "editlist_empty.mp4",
        "mpegts_start.ts",
        "vp9.webm",
    ];

    /// Tolerance pairs, in assorted timescales.
    fn windows() -> Vec<Tolerances> {
        let inf = Time::POSITIVE_INFINITY;
        [
            (Time::new(1, 25), Time::new(1, 25)),
            (Time::ZERO, Time::new(1, 10)),
            (Time::new(60, 600), Time::ZERO),
            (Time::new(3, 10), Time::new(3, 10)),
            (Time::new(1, 1000), Time::ZERO),
            (Time::ZERO, Time::new(1, 1000)),
            (Time::new(1, 2), Time::new(1, 2)),
            (inf, Time::ZERO),
            (Time::ZERO, inf),
        ]
        .map(|(before, after)| Tolerances::Window { before, after })
        .to_vec()
    }

    /// Every frame's pts (where windows start and stop holding frames) and
    /// a grid every 1/15 s from half a second before the start to half a
    /// second past the end.
    fn window_times(fx: &Fixture) -> Vec<Time> {
        let mut times: Vec<Time> = fx.frames.iter().map(|f| fx.time(f.pts)).collect();
        let end_15 = fx.time(fx.end).seconds() * 15.0;
        // Whole 15ths up to the end, plus 8 more: the end is under a minute.
        let last = end_15.ceil() as i64 + 8;
        times.extend((-8..=last).map(|k| Time::new(k, 15)));
        let mut unique = Vec::new();
        for t in times {
            if !unique.contains(&t) {
                unique.push(t);
            }
        }
        unique
    }

    /// Every window time of fixture `name` with every tolerance pair, one
    /// batch per pair.
    fn every_window(name: &str) -> Vec<String> {
        let mut check = FrameCheck::new(name);
        let times = window_times(check.fixture());
        for tolerances in windows() {
            check = check.cases(times.iter().copied(), tolerances, Want::Spec);
        }
        check.problems()
    }

    #[test]
    fn windows_return_a_frame_inside_and_the_cheapest() {
        let _turn = gpu_turn();
        let mut problems = Vec::new();
        for name in TIMING_FIXTURES {
            problems.extend(every_window(name));
        }
        assert_no_problems(problems);
    }

    /// The open-GOP fixture on its own: the cheapest frame of windows at its
    /// end is code 49, decoded from the I-frame 48 through its leading
    /// B-frames, which FFmpeg flags as not recovered after a seek
    /// (regression test for the decoder dropping them).
    #[test]
    fn windows_on_an_open_gop_stream() {
        let _turn = gpu_turn();
        assert_no_problems(every_window("h264_opengop_pyramid.mkv"));
    }

    /// Defaults, not set: the settings a new generator starts with.
    #[test]
    fn default_tolerances_return_the_nearest_sync_frame() {
        let _turn = gpu_turn();
        let mut problems = Vec::new();
        for name in TIMING_FIXTURES
            .into_iter()
            .chain(["h264_opengop_pyramid.mkv"])
        {
            let check = FrameCheck::new(name);
            let times = window_times(check.fixture());
            let check = check.cases(times, Tolerances::Default, Want::NearestSync);
            problems.extend(check.problems());
        }
        assert_no_problems(problems);
    }

    #[test]
    fn windows_out_of_range_give_no_image_at_time() {
        let _turn = gpu_turn();
        let zero = Time::ZERO;
        let inf = Time::POSITIVE_INFINITY;
        let window = |before, after| Tolerances::Window { before, after };
        let bframes = FrameCheck::new("h264_bframes.mp4")
            .case(Time::new(-1, 10), window(zero, zero), Want::NoImage)
            .case(
                Time::new(-1, 10),
                window(zero, Time::new(1, 20)),
                Want::NoImage,
            )
            .case(
                Time::new(-1, 10),
                window(zero, Time::new(1, 10)),
                Want::Code(0),
            )
            .case(Time::new(2, 1), window(zero, zero), Want::NoImage)
            .case(
                Time::new(3, 1),
                window(Time::new(1, 1), zero),
                Want::NoImage,
            )
            // [1.99 s, 3 s] holds only the last frame, shown until 2 s.
            .case(
                Time::new(3, 1),
                window(Time::new(101, 100), zero),
                Want::Code(49),
            )
            .case(
                Time::new(3, 1),
                window(Time::new(3, 2), zero),
                Want::Code(48),
            )
            .case(Time::new(3, 1), window(inf, zero), Want::Code(48));
        // The empty edit: nothing before 0.5 s.
        let empty_edit = FrameCheck::new("editlist_empty.mp4")
            .case(
                Time::new(1, 5),
                window(Time::new(1, 5), Time::new(1, 5)),
                Want::NoImage,
            )
            .case(
                Time::new(1, 5),
                window(zero, Time::new(3, 10)),
                Want::Code(0),
            )
            .case(Time::new(1, 5), window(inf, zero), Want::NoImage);
        // The transport stream's clock starts at 1.48 s; its timeline at 0.
        let transport = FrameCheck::new("mpegts_start.ts")
            .case(Time::new(-1, 100), window(zero, zero), Want::NoImage)
            .case(
                Time::new(5, 2),
                window(Time::new(2, 5), zero),
                Want::NoImage,
            )
            // [1.9 s, 2.5 s] holds codes 47, 48, 49 and no sync frame; 49 is
            // decoded before 47 and 48, so it is the cheapest.
            .case(
                Time::new(5, 2),
                window(Time::new(3, 5), zero),
                Want::Code(49),
            );
        let mut problems = Vec::new();
        for check in [bframes, empty_edit, transport] {
            problems.extend(check.asking(Asking::OneAtATime).problems());
        }
        assert_no_problems(problems);
    }

    #[test]
    fn times_that_are_not_numbers_give_invalid_time() {
        let _turn = gpu_turn();
        let bad = [
            Time::INVALID,
            Time::INDEFINITE,
            Time::from_seconds(f64::NAN, 600),
            Time::new(1, 0),
        ];
        let mut problems = Vec::new();
        for exact in [true, false] {
            let generator = generator(&fixture_path("h264_bframes.mp4"), 1, |s| {
                s.set_maximum_size(SMALL);
                if exact {
                    s.set_exact();
                }
            });
            for t in bad {
                let result = generator.copy_image(t);
                if !matches!(result, Err(Error::InvalidTime(_))) {
                    problems.push(format!(
                        "{t:?} (exact {exact}): want InvalidTime, got {}",
                        describe(&result, Orientation::IDENTITY)
                    ));
                }
            }
            // Mixed into a batch with good times, they fail alone.
            let mut times = bad.to_vec();
            times.push(Time::new(1, 2));
            let items = collect_stream(generator.images(times), DEADLINE).unwrap();
            assert_eq!(items.len(), bad.len() + 1);
            for item in items {
                let good = item.requested == Time::new(1, 2);
                let fine = match &item.result {
                    Ok(_) => good,
                    Err(Error::InvalidTime(_)) => !good,
                    Err(_) => false,
                };
                if !fine {
                    problems.push(format!(
                        "batch, {:?} (exact {exact}): got {}",
                        item.requested,
                        describe(&item.result, Orientation::IDENTITY)
                    ));
                }
            }
        }
        assert_no_problems(problems);
    }

    #[test]
    fn setters_refuse_tolerances_that_are_not_zero_positive_or_infinite() {
        let asset = stills::Asset::open(fixture_path("h264_bframes.mp4")).unwrap();
        let generator = stills::ImageGenerator::new(asset);
        let bad = [
            Time::new(-1, 600),
            Time::new(-1, 1_000_000_000),
            Time::INVALID,
            Time::INDEFINITE,
            Time::NEGATIVE_INFINITY,
            Time::from_seconds(f64::NAN, 600),
        ];
        generator.configure(|s| {
            s.set_tolerance_before(Time::new(1, 10)).unwrap();
            s.set_tolerance_after(Time::new(2, 10)).unwrap();
        });
        for t in bad {
            let refused = generator.configure(|s: &mut GeneratorSettings| {
                (s.set_tolerance_before(t), s.set_tolerance_after(t))
            });
            assert!(
                matches!(
                    refused,
                    (Err(Error::InvalidTime(_)), Err(Error::InvalidTime(_)))
                ),
                "{t:?} was not refused: {refused:?}"
            );
            let kept = generator.settings();
            assert_eq!(
                (kept.tolerance_before(), kept.tolerance_after()),
                (Time::new(1, 10), Time::new(2, 10)),
                "a refused {t:?} changed the setting"
            );
        }
        for good in [Time::ZERO, Time::new(1, 3), Time::POSITIVE_INFINITY] {
            generator.configure(|s| {
                s.set_tolerance_before(good).unwrap();
                s.set_tolerance_after(good).unwrap();
            });
            let s = generator.settings();
            assert_eq!((s.tolerance_before(), s.tolerance_after()), (good, good));
        }
    }
}
