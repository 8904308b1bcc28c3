//! `stills grab --composition FILE.json` as a user runs it: a
//! picture-in-picture composition written to a file (its layers read back
//! through their frame codes), and the mistakes a composition file can
//! hold, each named by its JSON path, and the usage error of giving files
//! too.

mod common;

use std::path::Path;

use common::cli::{fixture, stills};
use common::framecode::read_rgba8_region;
use common::scratch::Scratch;
use serde_json::{json, Value};

/// Track 2 (stream 1 of `two_video_tracks.mp4`, 160x120 at 10 fps) at
/// (160, 120) over track 1 (stream 0, 320x240 at 25 fps): the bottom-right
/// quarter, so each track's frame code stays visible.
fn picture_in_picture() -> Value {
    json!({
        "assets": [fixture("two_video_tracks.mp4")],
        "tracks": [
            {"id": 1, "segments": [
                {"asset": 0, "track": 0, "source_start": "0", "source_duration": "2"}
            ]},
            {"id": 2, "segments": [
                {"asset": 0, "track": 1, "source_start": "0", "source_duration": "2"}
            ]}
        ],
        "render_size": [320, 240],
        "frame_duration": "1/25",
        "instructions": [
            {"start": "0", "duration": "2", "layers": [
                {"track": 2, "transform": [1, 0, 0, 1, 160, 120]},
                {"track": 1}
            ]}
        ]
    })
}

fn write(dir: &Scratch, name: &str, document: &Value) -> String {
    let path = dir.write(name, document.to_string().as_bytes());
    path.to_str().expect("UTF-8 path").to_string()
}

/// `stills grab --composition COMPOSITION --at AT [extra…] -o OUT`.
fn grab(composition: &str, at: &str, extra: &[&str], out: &Path) -> common::cli::Run {
    let mut args = vec!["grab", "--composition", composition, "--at", at];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-o", out.to_str().expect("UTF-8 path")]);
    stills(&args, "")
}

/// The frame code in the `w`×`h` region at (`x`, `y`) of a PNG.
fn code_in(path: &Path, region: (u32, u32, u32, u32)) -> u32 {
    let rgba = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgba8();
    read_rgba8_region(rgba.as_raw(), rgba.width() as usize * 4, region)
        .unwrap_or_else(|e| panic!("region {region:?}: {e}"))
}

#[test]
fn a_composition_file_is_grabbed_like_a_video() {
    let dir = Scratch::new("compose-pip");
    let composition = write(&dir, "pip.json", &picture_in_picture());
    let out = dir.path("out");
    let run = grab(&composition, "0.5", &["--json"], &out);
    assert!(run.status.success(), "{}", run.stderr);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    let line = &lines[0];
    assert_eq!(line["error"], Value::Null, "{line}");
    assert_eq!(line["composition"], composition.as_str());
    assert_eq!(line["requested"], 0.5);
    // The frame displayed at 0.5 s on the 1/25 s grid starts at 12/25 s.
    assert_eq!(line["actual"], 0.48);
    assert_eq!(
        (&line["width"], &line["height"]),
        (&json!(320), &json!(240))
    );
    // Named after the JSON file, as a file's images are after the file.
    let path = out.join("pip_500.png");
    assert_eq!(line["path"], path.to_str().unwrap());
    let (w, h) = image::image_dimensions(&path).expect("the image was written");
    assert_eq!((w, h), (320, 240));
    // Frame 12 of track 1 under frame ⌊12·10/25⌋ = 4 of track 2.
    assert_eq!(code_in(&path, (0, 0, 320, 240)), 12);
    assert_eq!(code_in(&path, (160, 120, 160, 120)), 4);
}

#[test]
fn a_bad_field_is_named_by_its_json_path() {
    let dir = Scratch::new("compose-bad-field");
    let mut document = picture_in_picture();
    document["instructions"][0]["layers"][1]["opacity"] = json!("x");
    let composition = write(&dir, "bad.json", &document);
    let out = dir.path("out");
    let run = grab(&composition, "0.5", &[], &out);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("instructions[0].layers[1].opacity: expected an opacity"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(&composition), "{}", run.stderr);
    assert!(!out.join("bad_500.png").exists());

    // With --json, one failed line per requested time, as for a file that
    // cannot be opened.
    let run = grab(&composition, "0.5,1", &["--json"], &out);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    for line in &lines {
        let error = line["error"].as_str().expect("an error");
        assert!(
            error.contains("instructions[0].layers[1].opacity"),
            "{error}"
        );
    }
}

#[test]
fn an_instruction_gap_names_the_instruction_and_the_times() {
    let dir = Scratch::new("compose-gap");
    let mut document = picture_in_picture();
    document["instructions"] = json!([
        {"start": "0", "duration": "1", "layers": [{"track": 1}]},
        {"start": "1.5", "duration": "0.5", "layers": [{"track": 1}]}
    ]);
    let composition = write(&dir, "gap.json", &document);
    let out = dir.path("out");
    let run = grab(&composition, "0.5", &[], &out);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("instructions[1]: nothing covers 1s to 1.5s"),
        "{}",
        run.stderr
    );
}

#[test]
fn composition_and_files_together_are_a_usage_error() {
    let dir = Scratch::new("compose-usage");
    let composition = write(&dir, "pip.json", &picture_in_picture());
    let file = fixture("two_video_tracks.mp4");
    let out = dir.path("out");
    let out = out.to_str().unwrap();
    for args in [
        vec![
            "grab",
            "--composition",
            &composition,
            &file,
            "--at",
            "0.5",
            "-o",
            out,
        ],
        vec![
            "grab",
            "--composition",
            &composition,
            "--track",
            "1",
            "--at",
            "0.5",
            "-o",
            out,
        ],
    ] {
        let run = stills(&args, "");
        assert_eq!(run.status.code(), Some(2), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("'--composition <FILE.json>' cannot be used with"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert!(!Path::new(out).exists(), "nothing written on a usage error");
}
