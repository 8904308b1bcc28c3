//! Window mode (SPEC "Which frame"): with tolerances, the frame returned
//! is displayed at some instant of `[t − before, t + after]`, and it is the
//! cheapest such frame to decode (a sync frame when the window holds one,
//! else the fewest packets from its sync frame, counted in the fixture
//! README's decode order), the closest to `t` among equals. The default,
//! infinite tolerances give the nearest sync frame; a window with no frame
//! gives `NoImageAtTime`; times that are not numbers give `InvalidTime`,
//! and the setters refuse tolerances that are not zero, positive or +∞.

mod common;

use common::facts::{fixture_path, Fixture, Frame};
use common::harness::{
    collect_stream, describe, generator, gpu_turn, is_no_image, read_code, DEADLINE,
};
use stills::asset::geometry::Orientation;
use stills::generator::ImageResult;
use stills::{Error, GeneratorSettings, Size, Time};

const SMALL: Size = Size::new(160, 0);

const TIMING_FIXTURES: [&str; 6] = [
    "h264_bframes.mp4",
    "vfr.mp4",
    "editlist_midgop.mp4",
    "editlist_empty.mp4",
    "mpegts_start.ts",
    "vp9.webm",
];

/// Tolerance pairs (before, after), in assorted timescales.
fn tolerances() -> Vec<(Time, Time)> {
    let inf = Time::POSITIVE_INFINITY;
    vec![
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
}

/// Every frame's pts (where windows start and stop holding frames) and a
/// grid every 1/15 s from half a second before the start to half a second
/// past the end.
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

/// The shown frame whose presentation time is `actual`.
fn frame_at(fx: &Fixture, actual: Time) -> Option<Frame> {
    fx.frames.iter().copied().find(|f| fx.time(f.pts) == actual)
}

/// Why `result` breaks window mode for `t`, if it does.
fn window_mismatch(
    fx: &Fixture,
    t: Time,
    (before, after): (Time, Time),
    result: &ImageResult,
) -> Option<String> {
    let best = fx.cheapest(t, before, after);
    let problem = match result {
        Err(e) if is_no_image(e) => (!best.is_empty()).then(|| "want a frame".to_string()),
        Err(_) => Some("want a frame or NoImageAtTime".to_string()),
        Ok((image, actual)) => match frame_at(fx, *actual) {
            None => Some("actual time is no frame's pts".into()),
            Some(frame) => {
                if read_code(image, Orientation::IDENTITY) != Ok(frame.code) {
                    Some(format!(
                        "the image is not frame {} of its actual time",
                        frame.code
                    ))
                } else if !fx.displayed_in(frame, t, before, after) {
                    Some(format!(
                        "frame {} is not displayed in the window",
                        frame.code
                    ))
                } else if !best.contains(&frame) {
                    let cost = fx.cost(frame);
                    Some(format!(
                        "frame {} ({} packets) is not the cheapest, want one of {:?} ({:?})",
                        frame.code,
                        cost.packets,
                        best.iter().map(|f| f.code).collect::<Vec<_>>(),
                        best.first().map(|f| fx.cost(*f).packets),
                    ))
                } else {
                    None
                }
            }
        },
    };
    problem.map(|p| {
        format!(
            "{} at {t:?} ({:.4} s), before {before:?}, after {after:?}: {p}; got {}",
            fx.name,
            t.seconds(),
            describe(result, Orientation::IDENTITY)
        )
    })
}

/// Asks `fx` for every time in one batch with the tolerances `pair`.
fn mismatches(fx: &Fixture, times: &[Time], pair: (Time, Time)) -> Vec<String> {
    let generator = generator(&fixture_path(&fx.name), 1, |s| {
        s.set_maximum_size(SMALL);
        s.set_tolerance_before(pair.0).unwrap();
        s.set_tolerance_after(pair.1).unwrap();
    });
    let items = collect_stream(generator.images(times.iter().copied()), DEADLINE)
        .unwrap_or_else(|e| panic!("{}: {e}", fx.name));
    let mut problems = Vec::new();
    if items.len() != times.len() {
        problems.push(format!(
            "{}: {} results for {} times",
            fx.name,
            items.len(),
            times.len()
        ));
    }
    for item in &items {
        problems.extend(window_mismatch(fx, item.requested, pair, &item.result));
    }
    problems
}

fn assert_none(problems: Vec<String>) {
    let shown: Vec<&String> = problems.iter().take(40).collect();
    assert!(
        problems.is_empty(),
        "{} wrong answers (first 40):\n{}",
        problems.len(),
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn oracle_picks_what_the_spec_says() {
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

#[test]
fn windows_return_a_frame_inside_and_the_cheapest() {
    let _turn = gpu_turn();
    let mut problems = Vec::new();
    for name in TIMING_FIXTURES {
        let fx = Fixture::load(name);
        let times = window_times(&fx);
        for pair in tolerances() {
            problems.extend(mismatches(&fx, &times, pair));
        }
    }
    assert_none(problems);
}

/// The open-GOP fixture on its own: the cheapest frame of windows at its
/// end is code 49, decoded from the I-frame 48 through its leading
/// B-frames, which FFmpeg flags as not recovered after a seek (regression
/// test for the decoder dropping them).
#[test]
fn windows_on_an_open_gop_stream() {
    let _turn = gpu_turn();
    let fx = Fixture::load("h264_opengop_pyramid.mkv");
    let times = window_times(&fx);
    let mut problems = Vec::new();
    for pair in tolerances() {
        problems.extend(mismatches(&fx, &times, pair));
    }
    assert_none(problems);
}

#[test]
fn default_tolerances_return_the_nearest_sync_frame() {
    let _turn = gpu_turn();
    let mut problems = Vec::new();
    for name in TIMING_FIXTURES
        .into_iter()
        .chain(["h264_opengop_pyramid.mkv"])
    {
        let fx = Fixture::load(name);
        let syncs = fx.sync_frames();
        let times = window_times(&fx);
        // Defaults, not set: the settings a new generator starts with.
        let generator = generator(&fixture_path(name), 1, |s| s.set_maximum_size(SMALL));
        let items = collect_stream(generator.images(times.iter().copied()), DEADLINE).unwrap();
        assert_eq!(items.len(), times.len(), "{name}");
        for item in &items {
            let t = item.requested;
            let found = match &item.result {
                Ok((_, actual)) => frame_at(&fx, *actual),
                Err(_) => None,
            };
            let nearest = syncs
                .iter()
                .map(|f| fx.time(f.pts))
                .map(|p| if p > t { p - t } else { t - p })
                .min()
                .expect("every fixture has a shown sync frame");
            let fine = found.is_some_and(|f| {
                let p = fx.time(f.pts);
                syncs.contains(&f) && (if p > t { p - t } else { t - p }) == nearest
            });
            if !fine {
                problems.push(format!(
                    "{name} at {t:?}: want the nearest sync frame of {:?}, got {}",
                    syncs.iter().map(|f| f.code).collect::<Vec<_>>(),
                    describe(&item.result, Orientation::IDENTITY)
                ));
            }
            problems.extend(window_mismatch(
                &fx,
                t,
                (Time::POSITIVE_INFINITY, Time::POSITIVE_INFINITY),
                &item.result,
            ));
        }
    }
    assert_none(problems);
}

/// Runs one request with the given tolerances.
fn ask(name: &str, t: Time, before: Time, after: Time) -> ImageResult {
    let generator = generator(&fixture_path(name), 1, |s| {
        s.set_maximum_size(SMALL);
        s.set_tolerance_before(before).unwrap();
        s.set_tolerance_after(after).unwrap();
    });
    generator.copy_image(t)
}

#[test]
fn windows_out_of_range_give_no_image_at_time() {
    let _turn = gpu_turn();
    let zero = Time::ZERO;
    let inf = Time::POSITIVE_INFINITY;
    // (fixture, t, before, after, expected code or None for NoImageAtTime)
    let cases: [(&str, Time, Time, Time, Option<u32>); 14] = [
        ("h264_bframes.mp4", Time::new(-1, 10), zero, zero, None),
        (
            "h264_bframes.mp4",
            Time::new(-1, 10),
            zero,
            Time::new(1, 20),
            None,
        ),
        (
            "h264_bframes.mp4",
            Time::new(-1, 10),
            zero,
            Time::new(1, 10),
            Some(0),
        ),
        ("h264_bframes.mp4", Time::new(2, 1), zero, zero, None),
        (
            "h264_bframes.mp4",
            Time::new(3, 1),
            Time::new(1, 1),
            zero,
            None,
        ),
        // [1.99 s, 3 s] holds only the last frame, shown until 2 s.
        (
            "h264_bframes.mp4",
            Time::new(3, 1),
            Time::new(101, 100),
            zero,
            Some(49),
        ),
        (
            "h264_bframes.mp4",
            Time::new(3, 1),
            Time::new(3, 2),
            zero,
            Some(48),
        ),
        ("h264_bframes.mp4", Time::new(3, 1), inf, zero, Some(48)),
        // The empty edit: nothing before 0.5 s.
        (
            "editlist_empty.mp4",
            Time::new(1, 5),
            Time::new(1, 5),
            Time::new(1, 5),
            None,
        ),
        (
            "editlist_empty.mp4",
            Time::new(1, 5),
            zero,
            Time::new(3, 10),
            Some(0),
        ),
        ("editlist_empty.mp4", Time::new(1, 5), inf, zero, None),
        // The transport stream's clock starts at 1.48 s; its timeline at 0.
        ("mpegts_start.ts", Time::new(-1, 100), zero, zero, None),
        (
            "mpegts_start.ts",
            Time::new(5, 2),
            Time::new(2, 5),
            zero,
            None,
        ),
        // [1.9 s, 2.5 s] holds codes 47, 48, 49 and no sync frame; 49 is
        // decoded before 47 and 48, so it is the cheapest.
        (
            "mpegts_start.ts",
            Time::new(5, 2),
            Time::new(3, 5),
            zero,
            Some(49),
        ),
    ];
    let mut problems = Vec::new();
    for (name, t, before, after, want) in cases {
        let result = ask(name, t, before, after);
        let got = match &result {
            Ok((image, _)) => read_code(image, Orientation::IDENTITY).ok(),
            Err(e) if is_no_image(e) => None,
            Err(_) => Some(u32::MAX),
        };
        let consistent = match (&result, want) {
            (Ok(_), Some(_)) | (Err(_), None) => got == want,
            _ => false,
        };
        if !consistent {
            problems.push(format!(
                "{name} at {t:?} [-{before:?}, +{after:?}]: want {}, got {}",
                want.map_or("NoImageAtTime".into(), |c| format!("code {c}")),
                describe(&result, Orientation::IDENTITY)
            ));
        }
    }
    assert_none(problems);
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
    assert_none(problems);
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
