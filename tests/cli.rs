//! `stills grab`, `sheet` and `bench` as a user runs them: the frames they
//! write (read back through the frame codes), their JSON lines, their
//! usage errors, URL sources over a loopback HTTP server, and many files in
//! one process. Each test named after a defect of issue 16 failed on the
//! code before it.

mod common;

use std::path::Path;

use common::cli::{fixture, serve_fixtures, stills};
use common::framecode::read_rgba8_region;
use common::scratch::Scratch;
use serde_json::Value;

/// `h264_bframes.mp4`: 50 frames of 512 ticks at 1/12800 s (25 fps), each
/// frame's code its presentation index.
const BFRAMES_TICKS: i64 = 25_600;
const FRAME_TICKS: i64 = 512;

fn code_of(rgba: &image::RgbaImage, x: u32, y: u32, w: u32, h: u32) -> u32 {
    read_rgba8_region(rgba.as_raw(), rgba.width() as usize * 4, (x, y, w, h))
        .unwrap_or_else(|e| panic!("tile at {x},{y}: {e}"))
}

fn png_code(path: &Path) -> u32 {
    let rgba = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgba8();
    let (w, h) = rgba.dimensions();
    code_of(&rgba, 0, 0, w, h)
}

/// One parsed WebVTT cue: start and end in ms, the image and its rect.
type Cue = (i64, i64, String, [u32; 4]);

fn parse_vtt(text: &str) -> Vec<Cue> {
    let ms = |s: &str| -> i64 {
        let (hms, frac) = s.trim().split_once('.').expect("HH:MM:SS.mmm");
        let parts: Vec<i64> = hms.split(':').map(|p| p.parse().expect("digits")).collect();
        let secs = parts.iter().fold(0, |acc, p| acc * 60 + p);
        secs * 1000 + frac.parse::<i64>().expect("millis")
    };
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("WEBVTT"), "the header");
    let blocks: Vec<Vec<&str>> = text
        .split("\n\n")
        .skip(1)
        .map(|b| b.lines().filter(|l| !l.is_empty()).collect::<Vec<_>>())
        .filter(|b| !b.is_empty())
        .collect();
    blocks
        .iter()
        .map(|b| {
            assert_eq!(b.len(), 2, "a cue is a timing line and a payload: {b:?}");
            let (start, end) = b[0].split_once(" --> ").expect("timing line");
            let (file, xywh) = b[1].split_once("#xywh=").expect("a media fragment");
            let v: Vec<u32> = xywh
                .split(',')
                .map(|n| n.parse().expect("integer"))
                .collect();
            (
                ms(start),
                ms(end),
                file.to_string(),
                [v[0], v[1], v[2], v[3]],
            )
        })
        .collect()
}

/// The sheet: 3×3 of an index-coded fixture; 9 tiles of the right
/// size at the right places, each the right frame; the VTT covers the
/// duration without gaps or overlaps and points at each tile.
#[test]
fn a_three_by_three_sheet_has_the_right_frames_and_cues() {
    let dir = Scratch::new("sheet3x3");
    let sheet = dir.path("sheet.png");
    let vtt = dir.path("sprites.vtt");
    let run = stills(
        &[
            "sheet",
            &fixture("h264_bframes.mp4"),
            "--count",
            "9",
            "--columns",
            "3",
            "--tile",
            "160x0",
            "--labels",
            "-o",
            sheet.to_str().unwrap(),
            "--vtt",
            vtt.to_str().unwrap(),
        ],
        "",
    );
    assert!(run.status.success(), "{}", run.stderr);
    let rgba = image::open(&sheet).expect("the sheet decodes").to_rgba8();
    assert_eq!(rgba.dimensions(), (480, 360), "3×3 tiles of 160×120");
    let cues = parse_vtt(&std::fs::read_to_string(&vtt).expect("the VTT exists"));
    assert_eq!(cues.len(), 9);
    assert_eq!(cues[0].0, 0, "the first cue starts at 0");
    assert_eq!(cues[8].1, 2000, "the last cue ends with the track");
    for (i, cue) in cues.iter().enumerate() {
        assert!(cue.0 < cue.1, "cue {i} is not empty");
        if i > 0 {
            assert_eq!(cues[i - 1].1, cue.0, "no gap or overlap before cue {i}");
        }
        assert_eq!(cue.2, "sheet.png");
        let (x, y) = ((i as u32 % 3) * 160, (i as u32 / 3) * 120);
        assert_eq!(cue.3, [x, y, 160, 120], "tile {i}'s rectangle");
        // Tile i shows the frame displayed at span·(2i+1)/18.
        let t = BFRAMES_TICKS * (2 * i as i64 + 1) / 18;
        let frame = (t / FRAME_TICKS) as u32;
        assert_eq!(code_of(&rgba, x, y, 160, 120), frame, "tile {i}");
    }
}

#[test]
fn several_sheets_when_rows_are_limited_and_every_spacing() {
    let dir = Scratch::new("sheets");
    let out = dir.path("trick.jpg");
    let vtt = dir.path("trick.vtt");
    let run = stills(
        &[
            "sheet",
            &fixture("h264_bframes.mp4"),
            "--every",
            "0.5",
            "--columns",
            "2",
            "--rows",
            "1",
            "--tile",
            "96x0",
            "--keyframe",
            "-o",
            out.to_str().unwrap(),
            "--vtt",
            vtt.to_str().unwrap(),
            "--json",
        ],
        "",
    );
    assert!(run.status.success(), "{}", run.stderr);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 4, "tiles at 0, 0.5, 1 and 1.5 s");
    for name in ["trick-1.jpg", "trick-2.jpg"] {
        let img = image::open(dir.path(name)).expect("sheet decodes");
        assert_eq!((img.width(), img.height()), (192, 72), "{name}");
    }
    let cues = parse_vtt(&std::fs::read_to_string(&vtt).unwrap());
    let spans: Vec<(i64, i64)> = cues.iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(spans, [(0, 500), (500, 1000), (1000, 1500), (1500, 2000)]);
    assert_eq!(cues[2].2, "trick-2.jpg");
    assert_eq!(lines[3]["sheet"], dir.path("trick-2.jpg").to_str().unwrap());
}

#[test]
fn sheet_usage_errors_name_the_flag_and_value() {
    let f = fixture("h264_bframes.mp4");
    let run = stills(&["sheet", &f, "--count", "4", "-o", "sheet.gif"], "");
    assert_eq!(run.status.code(), Some(2));
    assert!(
        run.stderr.contains("'--out <FILE>'") && run.stderr.contains("sheet.gif"),
        "{}",
        run.stderr
    );
    let run = stills(
        &["sheet", &f, "--count", "4", "--tile", "0x0", "-o", "s.jpg"],
        "",
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(run.stderr.contains("--tile"), "{}", run.stderr);
    let run = stills(&["sheet", &f, "--every", "0", "-o", "s.jpg"], "");
    assert_eq!(run.status.code(), Some(2));
    assert!(
        run.stderr.contains("'0'") && run.stderr.contains("--every"),
        "{}",
        run.stderr
    );
}

/// Defect: two distinct times rounding to the same millisecond shared one
/// file, which held one of the two frames.
#[test]
fn r16_distinct_times_in_one_millisecond_get_their_own_files() {
    let dir = Scratch::new("samems");
    let run = stills(
        &[
            "grab",
            &fixture("h264_bframes.mp4"),
            "--at",
            "0.5196,0.5204,0.5204",
            "-o",
            dir.path("").to_str().unwrap(),
            "--json",
        ],
        "",
    );
    assert!(run.status.success(), "{}", run.stderr);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 3, "one line per requested time");
    let path = |i: usize| {
        lines.iter().find(|l| l["request"] == i).unwrap()["path"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(path(0), path(1), "different times, different files");
    assert_eq!(path(1), path(2), "a time asked twice gives one file");
    // 0.5196 s is inside frame 12 (0.48–0.52 s), 0.5204 s inside frame 13.
    assert_eq!(png_code(Path::new(&path(0))), 12);
    assert_eq!(png_code(Path::new(&path(1))), 13);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path(""))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "atomic writes leave no temporary files"
    );
}

/// Defect: `grab` could not open URLs; a URL source skipped the `clap`
/// box; an HTTP 404 was "malformed input".
#[test]
fn r16_grab_reads_urls_with_their_clean_aperture_and_reports_http_errors() {
    let base = serve_fixtures();
    let dir = Scratch::new("urls");
    let out = dir.path("");
    let url = format!("{base}/clap_pasp.mp4");
    let file_url = format!("file://{}", fixture("h264_bframes.mp4"));
    let run = stills(
        &[
            "grab",
            &url,
            &file_url,
            "--at",
            "0.5",
            "-o",
            out.to_str().unwrap(),
            "--json",
        ],
        "",
    );
    assert!(run.status.success(), "{}", run.stderr);
    let lines = run.json_lines();
    let of = |f: &str| lines.iter().find(|l| l["file"] == f).unwrap().clone();
    let clap = of(&url);
    assert_eq!(
        (clap["width"].as_u64(), clap["height"].as_u64()),
        (Some(427), Some(240))
    );
    assert_eq!(png_code(Path::new(clap["path"].as_str().unwrap())), 12);
    assert_eq!(of(&file_url)["error"], Value::Null);

    let missing = format!("{base}/no_such_clip.mp4");
    let run = stills(
        &["grab", &missing, "--at", "1", "-o", out.to_str().unwrap()],
        "",
    );
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("HTTP")
            && run.stderr.contains("404")
            && !run.stderr.contains("malformed"),
        "{}",
        run.stderr
    );
}

/// Defect: a whole-file failure printed no JSON at all.
#[test]
fn r16_json_has_a_line_per_requested_time_when_the_file_fails() {
    let dir = Scratch::new("wholefile");
    let out = dir.path("");
    let missing = dir.path("missing.mp4");
    let run = stills(
        &[
            "grab",
            missing.to_str().unwrap(),
            &fixture("audio_only.mp4"),
            "--at",
            "1,2,3",
            "-o",
            out.to_str().unwrap(),
            "--json",
        ],
        "",
    );
    assert_eq!(run.status.code(), Some(1));
    let lines = run.json_lines();
    assert_eq!(lines.len(), 6, "3 times × 2 files");
    for l in &lines {
        assert!(l["error"].as_str().is_some_and(|e| !e.is_empty()), "{l}");
        assert!(l["requested"].is_f64() && l["path"].is_null(), "{l}");
    }
    let run = stills(
        &[
            "grab",
            missing.to_str().unwrap(),
            "--count",
            "4",
            "-o",
            out.to_str().unwrap(),
            "--json",
        ],
        "",
    );
    let lines = run.json_lines();
    let requests: Vec<u64> = lines
        .iter()
        .map(|l| l["request"].as_u64().unwrap())
        .collect();
    assert_eq!(requests, [0, 1, 2, 3]);
}

/// Defect: `--tolerance -1` gave a debug-formatted message naming the
/// wrong flag, and `inf` was refused.
#[test]
fn r16_tolerance_errors_name_the_flag_and_inf_is_a_tolerance() {
    let f = fixture("h264_bframes.mp4");
    for flags in [
        &["--tolerance", "-1"][..],
        &["--before", "-1", "--after", "0"][..],
    ] {
        let mut args = vec!["grab", &f, "--at", "1"];
        args.extend_from_slice(flags);
        let run = stills(&args, "");
        assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("'{}", flags[0])),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("'-1'") && !run.stderr.contains("Time("),
            "{}",
            run.stderr
        );
    }
    let run = stills(&["grab", &f, "--at", "nonsense", "-o", "."], "");
    assert_eq!(run.status.code(), Some(2));
    assert!(
        run.stderr.contains("'nonsense'") && run.stderr.contains("--at"),
        "{}",
        run.stderr
    );

    let dir = Scratch::new("inf");
    let run = stills(
        &[
            "grab",
            &f,
            "--at",
            "1.3",
            "--before",
            "inf",
            "--after",
            "inf",
            "-o",
            dir.path("").to_str().unwrap(),
            "--json",
        ],
        "",
    );
    assert!(run.status.success(), "{}", run.stderr);
    let line = &run.json_lines()[0];
    // With infinite tolerance the frame is a keyframe (codes 0, 12, 24,
    // 36, 48 at 25 fps), never the exact frame at 1.3 s (code 32).
    let frame = line["actual"].as_f64().unwrap() * 25.0;
    assert!(
        [0.0, 12.0, 24.0, 36.0, 48.0].contains(&frame.round()),
        "{line}"
    );
}

/// Defect: why a better backend was passed over was not printed.
#[test]
fn r16_json_carries_the_backend_and_why_others_were_passed_over() {
    let dir = Scratch::new("passover");
    let run = stills(
        &[
            "grab",
            &fixture("h264_bframes.mp4"),
            "--at",
            "0.2",
            "-o",
            dir.path("").to_str().unwrap(),
            "--json",
        ],
        "",
    );
    assert!(run.status.success(), "{}", run.stderr);
    let line = &run.json_lines()[0];
    let interop = stills::GpuContext::probe_adapter(stills::gpu::AdapterPreference::Auto)
        .ok()
        .map(|(_, interop)| interop);
    let statuses = stills::backend_statuses(None, interop.as_ref());
    let chosen = statuses
        .iter()
        .find(|s| s.available)
        .expect("software is always there");
    assert_eq!(line["backend"], chosen.backend.name());
    let passed: Vec<&str> = line["passed_over"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["backend"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = statuses
        .iter()
        .take_while(|s| !s.available)
        .map(|s| s.backend.name())
        .collect();
    assert_eq!(passed, expected);
    assert!(line["passed_over"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["reason"].as_str().is_some_and(|r| !r.is_empty())));
    assert!(
        run.stderr.is_empty(),
        "--json keeps stderr quiet (no progress bar off a terminal): {}",
        run.stderr
    );
}

/// Many files in one process, from arguments and a list on stdin: one line
/// per (file, time), equal stems kept apart, a failing file reported
/// without stopping the others.
#[test]
fn many_files_in_one_grab_process() {
    let dir = Scratch::new("many");
    let copy = dir.path("sub");
    std::fs::create_dir_all(&copy).unwrap();
    let twin = copy.join("h264_bframes.mp4");
    std::fs::copy(fixture("h264_bframes.mp4"), &twin).unwrap();
    let list = format!(
        "{}\n\n{}\n{}\n",
        twin.display(),
        fixture("vp9.webm"),
        dir.path("missing.mp4").display()
    );
    let out = dir.path("out");
    let run = stills(
        &[
            "grab",
            &fixture("h264_bframes.mp4"),
            "--files-from",
            "-",
            "--at",
            "0.1,0.9",
            "--max-size",
            "160x0",
            "-o",
            out.to_str().unwrap(),
            "--json",
            "--jobs",
            "2",
        ],
        &list,
    );
    assert_eq!(run.status.code(), Some(1), "one file is missing");
    let lines = run.json_lines();
    assert_eq!(lines.len(), 8, "4 files × 2 times");
    let ok: Vec<&Value> = lines.iter().filter(|l| l["error"].is_null()).collect();
    assert_eq!(ok.len(), 6);
    let mut paths: Vec<&str> = ok.iter().map(|l| l["path"].as_str().unwrap()).collect();
    paths.sort();
    paths.dedup();
    assert_eq!(
        paths.len(),
        6,
        "no two files share an output name: {paths:?}"
    );
    for l in ok {
        let code = png_code(Path::new(l["path"].as_str().unwrap()));
        let t = l["requested"].as_f64().unwrap();
        if l["file"].as_str().unwrap().ends_with("h264_bframes.mp4") {
            assert_eq!(code, (t / 0.04).floor() as u32, "{l}");
        }
    }
}

/// `stills bench --json`: the documented fields, for each backend.
#[test]
fn bench_json_has_the_documented_fields() {
    let f = fixture("h264_bframes.mp4");
    let run = stills(
        &[
            "bench",
            &f,
            "--mode",
            "keyframe",
            "--count",
            "3",
            "--backend",
            "each",
            "--vs-ffmpeg",
            "--json",
        ],
        "",
    );
    assert!(run.status.success(), "{}", run.stderr);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 3, "one line per backend");
    let interop = stills::GpuContext::probe_adapter(stills::gpu::AdapterPreference::Auto)
        .ok()
        .map(|(_, interop)| interop);
    let statuses = stills::backend_statuses(None, interop.as_ref());
    for (line, status) in lines.iter().zip(&statuses) {
        assert_eq!(line["schema"], "stills-bench/1");
        assert_eq!(line["backend"], status.backend.name());
        assert_eq!(line["available"], status.available);
        if !status.available {
            assert!(line["reason"].as_str().is_some_and(|r| !r.is_empty()));
            continue;
        }
        assert_eq!(line["mode"], "keyframe");
        assert_eq!(line["requests"], 3);
        assert_eq!(line["throughput"]["images"], 3);
        assert_eq!(line["throughput"]["failed"], 0);
        assert!(line["throughput"]["fps"].as_f64().unwrap() > 0.0);
        for p in ["p50", "p95", "p99"] {
            assert!(line["latency_ms"][p].as_f64().unwrap() > 0.0, "{p}");
        }
        for s in ["demux", "decode", "upload", "gpu", "readback", "encode"] {
            assert!(line["stages_ms"][s].as_f64().unwrap() >= 0.0, "{s}");
        }
        assert!(line["stages_ms"]["gpu"].as_f64().unwrap() > 0.0);
        assert!(line["cold_ms"]["first_image"].as_f64().unwrap() > 0.0);
        assert!(line["peak_rss_bytes"].as_u64().unwrap() > 0);
        // What rendered, as `grab` would: the CPU renderer and no adapter
        // (none brought up) on a machine without a hardware GPU.
        if stills::gpu::hardware_adapter_possible() {
            assert!(line["adapter"]["name"].as_str().is_some());
            assert!(line["cold_ms"]["gpu_context"].as_f64().is_some());
        } else {
            assert_eq!(line["renderer"], "cpu");
            assert!(line["adapter"].is_null(), "{}", line["adapter"]);
            assert!(line["cold_ms"]["gpu_context"].is_null());
        }
        assert!(["cpu", "gpu"].contains(&line["renderer"].as_str().unwrap()));
        assert_eq!(line["track"]["frames"], 50);
        let ff = &line["ffmpeg"];
        assert_eq!(ff["processes"], 3);
        assert!(ff["ratio_warm"].as_f64().unwrap() > 0.0, "{ff}");
    }
}

/// Issue 12: tolerances and times beyond what a stream's ticks count
/// failed with "invalid time … out of the stream's range" (10^14 s worked,
/// 10^15 s did not; `--before`/`--after` of `i64::MAX`), and a far-future
/// keyframe request failed on one time base and gave the last keyframe on
/// another. Each now behaves as the infinite case does.
#[test]
fn r12_huge_tolerances_and_far_times_behave_as_infinite_ones() {
    let dir = Scratch::new("huge");
    let out = dir.path("").to_str().unwrap().to_string();
    let grab = |file: &str, extra: &[&str]| -> Value {
        let mut args = vec!["grab", file, "-o", &out, "--json", "--max-size", "64x0"];
        args.extend_from_slice(extra);
        let run = stills(&args, "");
        assert!(run.status.success(), "{extra:?}: {}", run.stderr);
        run.json_lines().remove(0)
    };
    let f = fixture("h264_bframes.mp4");
    let infinite = grab(&f, &["--at", "1.3", "--tolerance", "inf"]);
    for extra in [
        &["--at", "1.3", "--tolerance", "1000000000000000"][..],
        &[
            "--at",
            "1.3",
            "--before",
            "9223372036854775807",
            "--after",
            "9223372036854775807",
        ][..],
    ] {
        let line = grab(&f, extra);
        assert!(line["error"].is_null(), "{extra:?}: {line}");
        assert_eq!(line["actual"], infinite["actual"], "{extra:?}");
    }
    // Far past the end, keyframe mode: the last keyframe, as just past the
    // end gives it, on a 1/12800 time base and on MPEG-TS's 1/90000 alike.
    for file in ["h264_bframes.mp4", "mpegts_start.ts"] {
        let far = grab(
            &fixture(file),
            &["--at", "100000000000000000", "--keyframe"],
        );
        let past_end = grab(&fixture(file), &["--at", "10000", "--keyframe"]);
        assert!(far["error"].is_null(), "{file}: {far}");
        assert_eq!(far["actual"], past_end["actual"], "{file}");
    }
    let far = grab(&f, &["--at", "100000000000000000", "--keyframe"]);
    assert!(
        (far["actual"].as_f64().unwrap() - 1.92).abs() < 1e-9,
        "{far}"
    );
}

/// Issue 12: SIGTERM in the middle of a `grab` left 26 files but 25 JSON
/// lines. Now the pending requests are cancelled and reported, and the
/// process exits (130) only once every file written has its line, every
/// line that names a file has it, and every requested time has a line.
#[test]
fn r12_sigterm_mid_run_leaves_a_line_for_every_file_and_time() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = Scratch::new("sigterm");
    let out = dir.path("out");
    let f = fixture("h264_bframes.mp4");
    let count = 400;
    let mut child = Command::new(env!("CARGO_BIN_EXE_stills"))
        .args(["grab", &f, "--count", &count.to_string(), "--json", "-o"])
        .arg(&out)
        .args(["--max-size", "96x0", "--jobs", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stills runs");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let first = lines.next().expect("a first line").expect("UTF-8");
    // SAFETY-free: kill(1) sends SIGTERM like a service manager would.
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let mut all: Vec<Value> = vec![serde_json::from_str(&first).unwrap()];
    for line in lines {
        all.push(serde_json::from_str(&line.expect("UTF-8")).expect("JSON line"));
    }
    let status = child.wait().expect("exits");
    assert_eq!(status.code(), Some(130), "a clean finish after the signal");
    let mut requests: Vec<u64> = all.iter().map(|l| l["request"].as_u64().unwrap()).collect();
    requests.sort_unstable();
    assert_eq!(
        requests,
        (0..count).collect::<Vec<u64>>(),
        "a line per requested time"
    );
    let cancelled = all.iter().filter(|l| l["error"] == "cancelled").count();
    assert!(cancelled > 0, "the signal came mid-run");
    let named: std::collections::BTreeSet<String> = all
        .iter()
        .filter_map(|l| l["path"].as_str().map(String::from))
        .collect();
    let on_disk: std::collections::BTreeSet<String> = std::fs::read_dir(&out)
        .expect("the output folder")
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    assert_eq!(
        on_disk, named,
        "every file has its line and every line its file"
    );
}

/// `--fps R` and `--every S`: times on a grid from the first frame, each
/// answered by the frame displayed then (25 fps, 2 s: frame `k·25/R`).
#[test]
fn grids_of_times_give_the_frames_on_the_grid() {
    let f = fixture("h264_bframes.mp4");
    for (flags, frames) in [
        (
            &["--fps", "5"][..],
            (0..50).step_by(5).collect::<Vec<u32>>(),
        ),
        (&["--every", "0.4"][..], (0..50).step_by(10).collect()),
        (&["--fps", "25/2"][..], (0..50).step_by(2).collect()),
    ] {
        let dir = Scratch::new("grid");
        let out = dir.path("");
        let mut args = vec!["grab", &f, "-o", out.to_str().unwrap(), "--json"];
        args.extend(flags);
        let run = stills(&args, "");
        assert!(run.status.success(), "{flags:?}: {}", run.stderr);
        let mut lines = run.json_lines();
        lines.sort_by_key(|l| l["request"].as_u64());
        let codes: Vec<u32> = lines
            .iter()
            .map(|l| png_code(Path::new(l["path"].as_str().unwrap())))
            .collect();
        assert_eq!(codes, frames, "{flags:?}");
    }
    for (flags, complaint) in [
        (&["--every", "0"][..], "more than zero"),
        (&["--fps", "-2"][..], "more than zero"),
        (&["--fps", "abc"][..], "is not a rate"),
        (&["--fps", "1", "--count", "3"][..], "cannot be used with"),
    ] {
        let mut args = vec!["grab", &f];
        args.extend(flags);
        let run = stills(&args, "");
        assert_eq!(run.status.code(), Some(2), "{flags:?}");
        assert!(run.stderr.contains(complaint), "{flags:?}: {}", run.stderr);
    }
}

/// Issue 11: `--track N` takes images from the video track with that
/// stream index (`stills probe`'s), on `grab` and `sheet`; a stream that is
/// not a video track is an error naming the ones that are.
#[test]
fn r11_track_takes_images_from_another_video_track() {
    let dir = Scratch::new("track");
    let out = dir.path("");
    let out = out.to_str().unwrap();
    let file = fixture("two_video_tracks.mp4");
    // Stream 1: 160×120 at 10 fps; 0.75 s is inside its frame 7.
    let run = stills(
        &[
            "grab", &file, "--track", "1", "--at", "0.75", "--exact", "-o", out, "--json",
        ],
        "",
    );
    assert!(run.status.success(), "{}", run.stderr);
    let line = &run.json_lines()[0];
    assert_eq!(
        (&line["width"], &line["height"]),
        (&Value::from(160), &Value::from(120))
    );
    assert_eq!(png_code(Path::new(line["path"].as_str().unwrap())), 7);

    let sheet = dir.path("sheet.png");
    let run = stills(
        &[
            "sheet",
            &file,
            "--track",
            "1",
            "--count",
            "4",
            "--columns",
            "4",
            "--tile",
            "80x0",
            "-o",
            sheet.to_str().unwrap(),
        ],
        "",
    );
    assert!(run.status.success(), "{}", run.stderr);
    let rgba = image::open(&sheet).unwrap().to_rgba8();
    // Four 80×60 tiles of stream 1's 20 frames, spread over its 2 s.
    assert_eq!(
        rgba.dimensions().1 % 60,
        0,
        "tiles of stream 1's 4:3 frames"
    );
    let codes: Vec<u32> = (0..4).map(|i| code_of(&rgba, i * 80, 0, 80, 60)).collect();
    assert!(
        codes.windows(2).all(|w| w[0] < w[1]) && codes[3] < 20,
        "{codes:?}"
    );

    let run = stills(&["grab", &file, "--track", "3", "--at", "0", "-o", out], "");
    assert!(!run.status.success());
    assert!(
        run.stderr
            .contains("stream 3 is not a video track (video tracks: 0, 1)"),
        "{}",
        run.stderr
    );
}

/// `--renderer` picks what runs the frame passes and `--json` says which
/// did: `auto` is the CPU renderer on a machine without a hardware GPU;
/// both renderers give the same frame (the parity tests bound their
/// pixels, `tests/host_render.rs`).
#[test]
fn the_renderer_flag_chooses_what_renders_and_json_says_so() {
    let dir = Scratch::new("renderer");
    let f = fixture("h264_bframes.mp4");
    let grab = |renderer: &str| -> Value {
        let out = dir.path(renderer);
        let args = [
            "grab",
            &f,
            "--at",
            "1.3",
            "--max-size",
            "64x0",
            "--renderer",
            renderer,
            "-o",
            out.to_str().unwrap(),
            "--json",
        ];
        let run = stills(&args, "");
        assert!(run.status.success(), "{renderer}: {}", run.stderr);
        run.json_lines().remove(0)
    };
    let (gpu, cpu, auto) = (grab("gpu"), grab("cpu"), grab("auto"));
    assert_eq!(gpu["renderer"], "gpu");
    assert_eq!(cpu["renderer"], "cpu");
    if !stills::gpu::hardware_adapter_possible() {
        assert_eq!(auto["renderer"], "cpu");
    }
    for line in [&gpu, &cpu, &auto] {
        assert!(line["error"].is_null(), "{line}");
        assert_eq!(line["actual"], gpu["actual"]);
        assert_eq!(
            (&line["width"], &line["height"]),
            (&gpu["width"], &gpu["height"])
        );
    }
    let run = stills(&["grab", &f, "--renderer", "fast"], "");
    assert_eq!(run.status.code(), Some(2));
    assert!(run.stderr.contains("--renderer"), "{}", run.stderr);
}
