//! Peak memory of `stills grab` on a 4K HEVC stream (target: under
//! 400 MB), for 10 exact times, at native size and as 320-wide thumbnails.
//!
//! Measured on the real CLI process with GNU time's maximum resident set
//! size (`/usr/bin/time`, Debian package `time`), so the figure is what a
//! user running `stills grab` sees. On a machine without a GPU the
//! pipeline runs on lavapipe, whose "device" memory is host memory and so
//! counts in the RSS; on a real GPU it would not.
//!
//! Run with `cargo bench --bench memory`. Needs the ffmpeg CLI (with
//! libx265) to make the input once.

mod inputs;

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

const TARGET_MB: f64 = 400.0;
const TIME_BINARY: &str = "/usr/bin/time";

/// 2160p30 HEVC, 10 s, 250-frame GOPs, 3 B-frames: the memory check's
/// input. Short because x265 at 4K is slow to make; the first GOP alone is
/// 250 frames, the longest decode an exact request can need.
#[rustfmt::skip]
const HEVC_2160P: inputs::Recipe = inputs::Recipe {
    name: "hevc_2160p30_10s_gop250_bf3",
    codec: "hevc",
    width: 3840,
    height: 2160,
    frames: 300,
    gop: 250,
    keyframes: None,
    args: &[
        "-f", "lavfi", "-i", "testsrc2=size=3840x2160:rate=30", "-t", "10",
        "-c:v", "libx265", "-preset", "ultrafast",
        "-g", "250", "-keyint_min", "250", "-bf", "3",
        "-x265-params", "scenecut=0:log-level=error",
        "-pix_fmt", "yuv420p", "-tag:v", "hvc1", "-movflags", "+faststart",
    ],
};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench memory: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    if !Path::new(TIME_BINARY).exists() {
        return Err(format!(
            "{TIME_BINARY} is missing: install the Debian package `time`"
        ));
    }
    let file = inputs::ensure(&HEVC_2160P)?;
    let bin = Path::new(env!("CARGO_BIN_EXE_stills"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("stills-bench-memory-{}", std::process::id()));
    // Ten exact times, one per second, mid-frame: the first GOP spans
    // 250 frames, so most of them need long decodes from its keyframe.
    let at: Vec<String> = (0..10).map(|s| format!("{s}.5")).collect();
    let at = at.join(",");
    println!("input: {}", file.display());
    for (label, size) in [("native 3840x2160", None), ("320 wide", Some("320x0"))] {
        let mut cmd = Command::new(TIME_BINARY);
        cmd.args(["-f", "%M %e"])
            .arg(bin)
            .arg("grab")
            .arg(&file)
            .args(["--exact", "--at", &at, "-o"])
            .arg(&out);
        if let Some(size) = size {
            cmd.args(["--max-size", size]);
        }
        let output = cmd
            .stdout(Stdio::null())
            .output()
            .map_err(|e| format!("running {TIME_BINARY}: {e}"))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(format!("stills grab ({label}) failed:\n{stderr}"));
        }
        let (kb, secs) = stderr
            .lines()
            .last()
            .and_then(|l| {
                let mut parts = l.split_whitespace();
                let kb = parts.next()?.parse::<f64>().ok()?;
                let secs = parts.next()?.parse::<f64>().ok()?;
                Some((kb, secs))
            })
            .ok_or_else(|| format!("no figures from {TIME_BINARY} in:\n{stderr}"))?;
        let mb = kb * 1024.0 / 1e6;
        let met = mb < TARGET_MB;
        println!(
            "stills grab --exact, 10 times, {label:<17} peak RSS {mb:>6.1} MB ({kb} KiB) in {secs:.2}s  (target < {TARGET_MB} MB: {})",
            if met { "met" } else { "MISSED" }
        );
    }
    let _ = std::fs::remove_dir_all(&out);
    Ok(())
}
