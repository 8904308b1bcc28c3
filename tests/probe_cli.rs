//! `stills probe` as a user runs it: on every real-world file it ends in
//! time, and either prints one JSON document or fails with one line that
//! names the file and the cause; never a panic.

mod common;

use std::path::Path;

use common::cli::{stills_with_env, Run};
use serde_json::Value;

/// Runs `stills` with `args`, failing after `common::cli`'s hang limit.
fn stills(args: &[&str]) -> Run {
    stills_with_env(args, "", &[])
}

/// The JSON documents on `stdout`, each a whole value.
fn documents(stdout: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}"))
}

/// Checks the parts of a probe document every file must have, and that they
/// agree with each other.
fn check_document(doc: &Value, file: &str) {
    assert_eq!(doc["source"], file, "source names the file");
    assert!(doc["container"]["format"].is_string(), "{file}: format");
    let tracks = doc["tracks"].as_array().expect("tracks is an array");
    let videos = doc["video_tracks"].as_array().expect("video_tracks array");
    let video_count = tracks.iter().filter(|t| t["kind"] == "video").count();
    assert_eq!(videos.len(), video_count, "{file}: video tracks");
    for v in videos {
        let shown = &v["timeline"]["frame_count"];
        assert!(
            shown.is_u64() || v["timeline_error"].is_string(),
            "{file}: track {} has neither a timeline nor its error",
            v["index"]
        );
    }
    let default = &doc["default_video_track"];
    assert!(
        default.is_null() || videos.iter().any(|v| v["index"] == *default),
        "{file}: default track {default} is not a video track"
    );
}

/// `stills probe FILE` on every shared file: success is one JSON document
/// and a silent stderr; failure is exit 1 with one line naming the file.
/// Only the file ffprobe cannot open either may fail.
#[test]
fn probe_every_shared_file() {
    let Some(dir) = common::media::media_dir() else {
        return;
    };
    let mut failed = Vec::new();
    for rel in common::media::media_files(&dir) {
        let path = dir.join(&rel);
        let file = path.to_str().expect("UTF-8 path");
        let run = stills(&["probe", file]);
        assert!(!run.stderr.contains("panicked"), "{file}: {}", run.stderr);
        if run.status.success() {
            assert!(run.stderr.is_empty(), "{file}: stderr {:?}", run.stderr);
            let docs = documents(&run.stdout);
            assert_eq!(docs.len(), 1, "{file}: one document");
            check_document(&docs[0], file);
        } else {
            assert_eq!(run.status.code(), Some(1), "{file}: {}", run.stderr);
            assert!(run.stdout.is_empty(), "{file}: stdout {:?}", run.stdout);
            let lines: Vec<&str> = run.stderr.lines().collect();
            assert_eq!(lines.len(), 1, "{file}: stderr {:?}", run.stderr);
            let cause = lines[0]
                .split_once(file)
                .map(|(_, after)| after.trim_start_matches(':').trim());
            assert!(
                cause.is_some_and(|c| !c.is_empty()),
                "{file}: the line must name the file and a cause: {}",
                lines[0]
            );
            failed.push(rel);
        }
    }
    assert_eq!(failed, [Path::new("isoboxer/spliced_10000.m4v")]);
}

/// A few values of the documents against ffprobe: the 10 s empty edit, the
/// edit list that hides one of five packets, the 90° phone clip, and the two
/// video tracks of which one is empty.
#[test]
fn probe_reports_known_values() {
    let Some(dir) = common::media::media_dir() else {
        return;
    };
    let files = [
        "androidx/bbb_800x640_768kbps_30fps_avc_2b_firstpts_10_sec.mp4",
        "androidx/dolbyVision-hdr.MOV",
        "decord/video_90.mov",
        "androidx/sample_empty_track.mp4",
    ];
    let paths: Vec<String> = files
        .iter()
        .map(|f| dir.join(f).to_str().expect("UTF-8 path").to_string())
        .collect();
    let mut args = vec!["probe"];
    args.extend(paths.iter().map(String::as_str));
    let run = stills(&args);
    assert!(run.status.success(), "{}", run.stderr);
    let docs = documents(&run.stdout);
    assert_eq!(docs.len(), files.len(), "one document per file, in order");
    for (doc, path) in docs.iter().zip(&paths) {
        check_document(doc, path);
    }
    let v = |doc: usize, track: usize| &docs[doc]["video_tracks"][track];
    assert_eq!(v(0, 0)["timeline"]["first_frame"]["seconds"], 10.0);
    assert_eq!(v(0, 0)["timeline"]["frame_count"], 120);
    assert_eq!(v(1, 0)["timeline"]["frame_count"], 4);
    assert_eq!(v(1, 0)["hdr"]["dolby_vision"]["profile"], 8);
    assert_eq!(v(2, 0)["orientation"]["rotation"], 90);
    assert_eq!(v(2, 0)["display_width"], 320);
    assert_eq!(v(2, 0)["display_height"], 568);
    assert_eq!(v(3, 1)["timeline"]["frame_count"], 0);
    assert_eq!(docs[3]["default_video_track"], 0);
}

#[test]
fn probe_without_files_is_a_usage_error() {
    let run = stills(&["probe"]);
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("Usage"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn probe_of_a_missing_file_fails_with_one_line() {
    let missing = std::env::temp_dir().join(format!(
        "stills-probe-{}-no-such-video.mp4",
        std::process::id()
    ));
    let file = missing.to_str().expect("UTF-8 path");
    let run = stills(&["probe", file]);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{:?}", run.stderr);
    assert!(lines[0].contains(file), "{}", lines[0]);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// One bad file among good ones: the good ones are still described, and
/// the run exits 1 with one line for the bad one.
#[test]
fn probe_goes_on_after_a_failure() {
    let Some(dir) = common::media::media_dir() else {
        return;
    };
    let good = dir.join("decord/video_180.mov");
    let bad = dir.join("isoboxer/spliced_10000.m4v");
    let (good, bad) = (good.to_str().expect("UTF-8"), bad.to_str().expect("UTF-8"));
    let run = stills(&["probe", bad, good]);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    let docs = documents(&run.stdout);
    assert_eq!(docs.len(), 1);
    check_document(&docs[0], good);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{:?}", run.stderr);
    assert!(
        lines[0].contains(bad) && lines[0].contains("truncated"),
        "{}",
        lines[0]
    );
}

/// The GPU stills would render on is reported beside the backends: the
/// adapter, what it imports, and a one-line summary (by default only where
/// a hardware adapter may exist, with `--gpu` everywhere); `--no-gpu`
/// leaves it out without losing anything else. `renderer` says what
/// `grab` renders with.
#[test]
fn probe_reports_the_gpu_beside_the_backends() {
    let fixture = common::readme::fixture_path("h264_bframes.mp4");
    let fixture = fixture.to_str().expect("UTF-8 path");
    let run = stills(&["probe", "--gpu", fixture]);
    assert!(run.status.success(), "{}", run.stderr);
    let doc = &documents(&run.stdout)[0];
    let gpu = &doc["gpu"];
    assert!(gpu["adapter"].is_string(), "{gpu}");
    assert!(
        gpu["interop"]["host_pointer_alignment"].is_u64()
            || gpu["interop"]["host_pointer_alignment"].is_null()
    );
    for flag in [
        "opaque_fd_memory",
        "dma_buf_memory",
        "drm_format_modifiers",
        "timeline_semaphores",
    ] {
        assert!(gpu["interop"][flag].is_boolean(), "{flag} in {gpu}");
    }
    assert!(
        gpu["summary"].as_str().unwrap().starts_with("import: "),
        "{gpu}"
    );
    let backends = doc["backends"].as_array().unwrap();
    assert_eq!(backends.len(), 3);
    assert!(backends
        .iter()
        .all(|b| b["reason"].as_str().is_some_and(|r| !r.is_empty())));

    let software = gpu["device_type"] == "cpu";
    assert_eq!(doc["renderer"], if software { "cpu" } else { "gpu" });

    let run = stills(&["probe", fixture]);
    assert!(run.status.success(), "{}", run.stderr);
    let default = &documents(&run.stdout)[0];
    if stills::gpu::hardware_adapter_possible() {
        assert_eq!(default["gpu"], doc["gpu"]);
    } else {
        assert!(default["gpu"].is_null(), "{}", default["gpu"]);
        assert_eq!(default["renderer"], "cpu");
    }

    let run = stills(&["probe", "--no-gpu", fixture]);
    assert!(run.status.success(), "{}", run.stderr);
    let bare = &documents(&run.stdout)[0];
    assert!(bare["gpu"].is_null());
    assert_eq!(
        bare["video_tracks"][0]["timeline"],
        doc["video_tracks"][0]["timeline"]
    );
}

/// Every DRM render node is listed under `vaapi`, with its VA driver (name
/// and version) and profiles, or why libva could not use it; a machine
/// without one lists none.
#[test]
fn probe_lists_the_render_nodes_and_their_va_drivers() {
    let fixture = common::readme::fixture_path("h264_bframes.mp4");
    let run = stills(&["probe", "--no-gpu", fixture.to_str().expect("UTF-8 path")]);
    assert!(run.status.success(), "{}", run.stderr);
    let doc = &documents(&run.stdout)[0];
    let mut nodes: Vec<String> = std::fs::read_dir("/dev/dri")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("renderD"))
        .map(|n| format!("/dev/dri/{n}"))
        .collect();
    nodes.sort();
    let devices = doc["vaapi"].as_array().expect("a vaapi list");
    let listed: Vec<&str> = devices
        .iter()
        .map(|d| d["render_node"].as_str().expect("a node path"))
        .collect();
    assert_eq!(listed, nodes);
    for device in devices {
        assert!(
            device["driver"].is_string() || device["error"].is_string(),
            "{device}"
        );
        assert!(device["profiles"].is_array(), "{device}");
    }
    if nodes.is_empty() {
        eprintln!("no render node here: `vaapi` is empty");
    }
}

/// `frame_index` says how each track's index is known and how its timeline was
/// read; `--index` writes the persistent index of the tracks not indexed
/// from sample tables (into `$STILLS_INDEX_CACHE`), after which the file
/// opens with it — the same timeline, `cache` as the method — until the
/// file changes.
#[test]
fn probe_reports_the_index_and_writes_the_persistent_one() {
    let scratch = common::scratch::Scratch::new("probe-index");
    let cache = scratch.path("cache");
    let env = [("STILLS_INDEX_CACHE", cache.as_path())];
    let fixture = |name: &str| common::readme::fixture_path(name);
    let mkv = scratch.write(
        "open-gop.mkv",
        &std::fs::read(fixture("h264_opengop_pyramid.mkv")).expect("fixture"),
    );
    let mp4 = fixture("h264_bframes.mp4");
    let (mkv, mp4) = (mkv.to_str().expect("UTF-8"), mp4.to_str().expect("UTF-8"));
    let probe = |args: &[&str]| {
        let run = stills_with_env(args, "", &env);
        assert!(run.status.success(), "{}", run.stderr);
        documents(&run.stdout)
    };
    let index = |doc: &Value| doc["video_tracks"][0]["frame_index"].clone();

    let before = probe(&["probe", mkv, mp4]);
    assert_eq!(index(&before[0])["method"], "on-demand");
    assert_eq!(index(&before[0])["timeline_by"], "full-scan");
    assert!(index(&before[0])["reason"].is_string());
    assert_eq!(index(&before[1])["method"], "sample-tables");
    assert_eq!(index(&before[1])["timeline_by"], "sample-tables");
    assert!(before[0].get("index_written").is_none());

    let written = probe(&["probe", "--index", mkv, mp4]);
    let entries = written[0]["index_written"].as_array().expect("written");
    assert_eq!(entries.len(), 1);
    let entry = Path::new(entries[0].as_str().expect("a path"));
    assert!(entry.starts_with(&cache) && entry.is_file(), "{entry:?}");
    assert_eq!(written[1]["index_written"], serde_json::json!([]));

    let after = probe(&["probe", mkv]);
    assert_eq!(index(&after[0])["method"], "cache");
    assert_eq!(index(&after[0])["path"], entries[0]);
    assert_eq!(index(&after[0])["timeline_by"], "cache");
    let timeline = |doc: &Value| doc["video_tracks"][0]["timeline"].clone();
    assert_eq!(timeline(&after[0]), timeline(&before[0]));
    assert_eq!(timeline(&after[0])["frame_count"], 50);

    // Another file at that path (here one byte longer) is not the one
    // indexed.
    let mut bytes = std::fs::read(mkv).expect("copy");
    bytes.push(0);
    std::fs::write(mkv, bytes).expect("rewritten");
    let changed = probe(&["probe", mkv]);
    assert_eq!(index(&changed[0])["method"], "on-demand");
}
