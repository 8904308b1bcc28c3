//! `stills probe FILE…`: one JSON document per file on stdout.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{json, Value};
use stills::asset::{Asset, TrackTimeline};
use stills::decode::backend_statuses;
use stills::Time;

#[derive(clap::Args)]
pub struct ProbeArgs {
    /// Video files (or URLs FFmpeg can read).
    #[arg(required = true)]
    files: Vec<String>,
    /// Pretty-print the JSON.
    #[arg(long)]
    pretty: bool,
}

/// Exit 0 when every file was described, 1 when any could not be (each
/// failure is one line on stderr naming the file and the cause).
pub fn run(args: ProbeArgs) -> ExitCode {
    let mut failed = false;
    let stdout = std::io::stdout();
    for file in &args.files {
        match describe(file) {
            Ok(doc) => {
                let text = if args.pretty {
                    serde_json::to_string_pretty(&doc)
                } else {
                    serde_json::to_string(&doc)
                }
                .expect("serde_json::Value always serialises");
                if writeln!(stdout.lock(), "{text}").is_err() {
                    return ExitCode::SUCCESS;
                }
            }
            Err(e) => {
                failed = true;
                eprintln!("stills: {e}");
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn open(file: &str) -> stills::Result<Asset> {
    if file.contains("://") {
        Asset::open_url(file)
    } else {
        Asset::open(PathBuf::from(file))
    }
}

fn describe(file: &str) -> stills::Result<Value> {
    let asset = open(file)?;
    let default_track = asset.default_video_track().ok().map(|t| t.index);
    let video_tracks: Vec<Value> = asset
        .video_tracks()
        .iter()
        .map(|track| {
            let mut v = serde_json::to_value(track).expect("track serialises");
            match asset.timeline(track) {
                Ok(Some(tl)) => v["timeline"] = timeline_json(&tl),
                Ok(None) => v["timeline"] = json!({ "frame_count": 0 }),
                Err(e) => v["timeline_error"] = json!(e.to_string()),
            }
            v["backends"] =
                serde_json::to_value(backend_statuses(Some(track))).expect("serialises");
            v
        })
        .collect();
    Ok(json!({
        "source": asset.name(),
        "container": asset.container(),
        "tracks": asset.tracks(),
        "default_video_track": default_track,
        "video_tracks": video_tracks,
        "backends": backend_statuses(None),
    }))
}

fn time_json(t: Time) -> Value {
    json!({ "seconds": t.seconds(), "value": t.value(), "timescale": t.timescale() })
}

fn timeline_json(tl: &TrackTimeline) -> Value {
    json!({
        "frame_count": tl.frame_count,
        "sync_frame_count": tl.sync_frame_count,
        "first_frame": time_json(tl.first_frame),
        "last_frame": time_json(tl.last_frame),
        "end": time_json(tl.end),
        "duration": time_json(tl.duration),
        "average_frame_rate": tl.average_frame_rate,
        "variable_frame_rate": tl.variable_frame_rate,
    })
}
