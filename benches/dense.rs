//! Dense sampling side by side with the FFmpeg CLI (issue 15): cold
//! `stills grab` processes against `ffmpeg` processes doing the same job,
//! interleaved round by round in one run, on
//!
//! - the CLI bench's 1080p30 H.264 60 s file (x264 defaults), and
//! - a 2160p30 HEVC Main10 HDR10 file, tone mapped to SDR by both sides
//!   (stills' default; FFmpeg through `zscale` and `tonemap`),
//!
//! each as
//!
//! - every frame as 160-px PNGs (target: stills at least as fast), and
//! - one frame a second as 320-px PNGs (target: stills at least 2× faster).
//!
//! Every command is printed as run. Run with `cargo bench --bench dense`;
//! `STILLS_BENCH_ROUNDS` sets the rounds (default 2) and the minimum of
//! each side is compared, since the machine's other load only ever adds
//! time. Absolute times vary with the machine; the ratios are the result.

mod inputs;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use stills::Asset;

const DEFAULT_ROUNDS: usize = 2;

/// FFmpeg's HDR10 to SDR chain before its scaler: PQ to linear light with
/// SDR white at 100 nits, BT.2020 to BT.709 primaries, Hable tone mapping,
/// then BT.709 transfer and matrix.
const FFMPEG_TONEMAP: &str = "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,\
tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p";

/// One job both tools do.
struct Case {
    name: String,
    stills: Vec<String>,
    ffmpeg: Vec<String>,
    /// How many times faster than FFmpeg stills must be.
    target: f64,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench dense: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let rounds = inputs::rounds(DEFAULT_ROUNDS)?;
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("stills-bench-dense-{}", std::process::id()));
    let stills_out = scratch.join("stills");
    let ffmpeg_out = scratch.join("ffmpeg");
    let mut cases = Vec::new();
    for (recipe, tonemap) in [
        (&inputs::H264_1080P_X264_DEFAULTS, None),
        (&inputs::HEVC_MAIN10_HDR10_2160P, Some(FFMPEG_TONEMAP)),
    ] {
        let file = inputs::ensure(recipe)?;
        cases.extend(cases_for(
            recipe.name,
            &file,
            tonemap,
            &stills_out,
            &ffmpeg_out,
        )?);
    }
    let mut stills_times: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    let mut ffmpeg_times: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    for round in 0..rounds {
        for (i, case) in cases.iter().enumerate() {
            eprintln!("round {} of {rounds}: {}", round + 1, case.name);
            fresh_dir(&ffmpeg_out)?;
            ffmpeg_times[i].push(timed(Command::new("ffmpeg").args(&case.ffmpeg))?);
            fresh_dir(&stills_out)?;
            stills_times[i].push(timed(
                Command::new(env!("CARGO_BIN_EXE_stills")).args(&case.stills),
            )?);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!();
    println!(
        "{:<44} {:>10} {:>10} {:>9} {:>7}",
        "case (min of rounds)", "stills", "ffmpeg", "speedup", "target"
    );
    let mut missed = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let ours = min(&stills_times[i]);
        let theirs = min(&ffmpeg_times[i]);
        let speedup = theirs.as_secs_f64() / ours.as_secs_f64();
        let verdict = if speedup >= case.target {
            "met"
        } else {
            missed.push(case.name.clone());
            "MISSED"
        };
        println!(
            "{:<44} {:>9.2}s {:>9.2}s {:>8.2}× {:>5.1}× {verdict}",
            case.name,
            ours.as_secs_f64(),
            theirs.as_secs_f64(),
            speedup,
            case.target
        );
    }
    println!();
    for case in &cases {
        println!("{}:", case.name);
        println!("  stills {}", case.stills.join(" "));
        println!("  ffmpeg {}", case.ffmpeg.join(" "));
    }
    if !missed.is_empty() {
        println!("\ntargets missed: {}", missed.join(", "));
    }
    Ok(())
}

/// The two dense jobs on one file: every frame 160 px wide, and one a
/// second 320 px wide.
fn cases_for(
    name: &str,
    file: &Path,
    tonemap: Option<&str>,
    stills_out: &Path,
    ffmpeg_out: &Path,
) -> Result<Vec<Case>, String> {
    let frames = {
        let asset = Asset::open(file).map_err(|e| e.to_string())?;
        let track = asset.default_video_track().map_err(|e| e.to_string())?;
        asset
            .timeline(track)
            .map_err(|e| e.to_string())?
            .ok_or("no frames")?
            .frame_count
    };
    let file = file.display().to_string();
    let (stills_out, ffmpeg_out) = (
        stills_out.display().to_string(),
        ffmpeg_out.join("out%04d.png").display().to_string(),
    );
    // FFmpeg's frame selection first, so it tone maps only the frames it
    // keeps, then tone mapping, then its scaler.
    let filters = |select: Option<&str>, scale: &str| {
        select
            .into_iter()
            .chain(tonemap)
            .chain([scale])
            .collect::<Vec<_>>()
            .join(",")
    };
    let ffmpeg = |vf: String| -> Vec<String> {
        [
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-y",
            "-i",
            &file,
            "-vf",
            &vf,
            &ffmpeg_out,
        ]
        .map(String::from)
        .to_vec()
    };
    let stills = |request: &[&str], size: &str| -> Vec<String> {
        let mut args = vec!["grab", &file];
        args.extend(request);
        args.extend(["--max-size", size, "-o", &stills_out]);
        args.into_iter().map(String::from).collect()
    };
    let count = frames.to_string();
    Ok(vec![
        Case {
            name: format!("{name}: every frame ({frames}), 160 px"),
            stills: stills(&["--count", &count, "--exact"], "160x0"),
            ffmpeg: ffmpeg(filters(None, "scale=160:-2")),
            target: 1.0,
        },
        Case {
            name: format!("{name}: one a second, 320 px"),
            stills: stills(&["--fps", "1"], "320x0"),
            ffmpeg: ffmpeg(filters(Some("fps=1"), "scale=320:-2")),
            target: 2.0,
        },
    ])
}

fn fresh_dir(dir: &PathBuf) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

/// Runs `cmd` to completion, its output discarded, and returns how long
/// it took; a failure is an error, so a broken side never looks fast.
fn timed(cmd: &mut Command) -> Result<Duration, String> {
    let start = Instant::now();
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    let took = start.elapsed();
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(took)
}

fn min(samples: &[Duration]) -> Duration {
    samples.iter().min().copied().unwrap_or_default()
}
