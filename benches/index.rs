//! Issue 13's comparison: a request's cost must grow with the request, not
//! with the file. Side by side in one run, on the 60 s 1080p H.264 input
//! and on ten copies of it joined without re-encoding (10 minutes):
//!
//! - a cold `stills grab` process for one keyframe thumbnail (in the
//!   middle of the file) and one for 10 exact thumbnails: the long file's
//!   time within 1.2× of the short one's. The exact times are spread over
//!   the short file (duration × (i + ½) / 10) and, on the long file, each
//!   moved into its own copy (+ 60 s × i): the same frames to decode,
//!   spread over the whole 10 minutes, so only the file's length differs;
//! - the keyframe thumbnail against one `ffmpeg -noaccurate_seek -ss T -i F
//!   -frames:v 1` process on the long file: stills faster;
//! - the bytes that keyframe process reads (`rchar` of `/proc/self/io`,
//!   which takes in the counts of the children this process has waited
//!   for): under 5 % of the long file;
//! - a cold `stills probe` process on the long file: under 50 ms, its
//!   frame count and timeline the full scan's (`tests/index.rs` checks
//!   that on every fixture and real file; here it is checked on these two).
//!
//! Beside them, once, in this process: opening each file and reading its
//! timeline from the sample tables, against the full demux scan that the
//! frame index took before (what a cold process paid per file); and the
//! start of the GPU context, which every image-making process pays before
//! its first image (on a machine without a GPU, Vulkan on lavapipe), and
//! `stills --version`, the process's start without any work.
//!
//! A custom harness like `generator`'s: every case runs once per round, the
//! rounds interleave the cases so the machine's noise hits all alike, and
//! medians are compared. Run with `cargo bench --bench index`;
//! `STILLS_BENCH_ROUNDS` sets the number of rounds (default 7). Needs the
//! ffmpeg CLI.

mod inputs;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use stills::gpu::{AdapterPreference, GpuContext};
use stills::{Asset, Time};

const DEFAULT_ROUNDS: usize = 7;
const COPIES: usize = 10;
const EXACT_THUMBNAILS: usize = 10;
const LONG_OVER_SHORT: f64 = 1.2;
const BYTES_SHARE: f64 = 0.05;
const PROBE_MS: f64 = 50.0;

fn main() -> ExitCode {
    // As the CLI does: Mesa's device-select layer has nothing to choose for
    // a process that picks its own adapter, and on a headless machine it
    // complains on stderr. Set before any thread exists.
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench index: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Requested times in milliseconds, exact in `Time` and in ffmpeg's `-ss`.
type Millis = i64;

/// One input and the times asked of it.
struct Input {
    label: &'static str,
    path: PathBuf,
    bytes: u64,
    first: Millis,
    end: Millis,
    middle: Millis,
    spread: Vec<Millis>,
}

impl Input {
    /// The input at `path`, asked for its middle and for the exact times
    /// of `spread_over`'s (its own when `None`), the i-th moved forward by
    /// i copies of that input.
    fn new(
        label: &'static str,
        path: PathBuf,
        spread_over: Option<&Input>,
    ) -> Result<Input, String> {
        let asset = Asset::open(&path).map_err(|e| e.to_string())?;
        let track = asset.default_video_track().map_err(|e| e.to_string())?;
        let timeline = asset
            .timeline(track)
            .map_err(|e| e.to_string())?
            .ok_or("no frames")?;
        let millis = |t: Time| (t.seconds() * 1000.0) as Millis;
        let (first, end) = (millis(timeline.first_frame), millis(timeline.end));
        let span = end - first;
        let n = EXACT_THUMBNAILS as i64;
        let bytes = std::fs::metadata(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        let spread = match spread_over {
            None => (0..n)
                .map(|i| first + span * (2 * i + 1) / (2 * n))
                .collect(),
            Some(part) => {
                let copy = part.end - part.first;
                (0..n).map(|i| part.spread[i as usize] + copy * i).collect()
            }
        };
        Ok(Input {
            label,
            path,
            bytes,
            first,
            end,
            middle: first + span / 2,
            spread,
        })
    }
}

fn run() -> Result<(), String> {
    let rounds = inputs::rounds(DEFAULT_ROUNDS)?;
    let short = Input::new("60 s", inputs::ensure(&inputs::H264_1080P_60S)?, None)?;
    let long = Input::new(
        "10 min",
        inputs::ensure_concatenation(&inputs::H264_1080P_60S, COPIES)?,
        Some(&short),
    )?;
    let stills = Path::new(env!("CARGO_BIN_EXE_stills"));
    let scratch = std::env::temp_dir().join(format!("stills-bench-index-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    println!(
        "inputs: {} ({} MB), {} ({} MB)",
        short.path.display(),
        short.bytes >> 20,
        long.path.display(),
        long.bytes >> 20
    );
    println!(
        "{rounds} rounds; {}",
        first_line(Command::new("ffmpeg").arg("-version"))?
    );

    let mut cases = vec![
        Case::new("ffmpeg -noaccurate_seek, 1 keyframe, 10 min", |out| {
            ffmpeg_keyframe(&long, out)
        }),
        Case::new("ffmpeg -noaccurate_seek, 1 keyframe, 60 s", |out| {
            ffmpeg_keyframe(&short, out)
        }),
        Case::new("stills grab --keyframe, 1, 60 s", |out| {
            grab(stills, &short, Mode::Keyframe, out)
        }),
        Case::new("stills grab --keyframe, 1, 10 min", |out| {
            grab(stills, &long, Mode::Keyframe, out)
        }),
        Case::new("stills grab --exact, 10, 60 s", |out| {
            grab(stills, &short, Mode::Exact, out)
        }),
        Case::new("stills grab --exact, 10, 10 min", |out| {
            grab(stills, &long, Mode::Exact, out)
        }),
        Case::new("stills probe, 60 s", |_| probe(stills, &short)),
        Case::new("stills probe, 10 min", |_| probe(stills, &long)),
        Case::new("stills --version (process start)", |_| {
            measure(Command::new(stills).arg("--version"), "stills --version")
        }),
    ];
    for round in 0..rounds {
        eprintln!("round {} of {rounds}", round + 1);
        for (k, case) in cases.iter_mut().enumerate() {
            let out = scratch.join(format!("case{k}"));
            std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
            let sample = (case.job)(&out)?;
            case.samples.push(sample);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);

    println!();
    println!(
        "{:<48} {:>9} {:>9} {:>9} {:>12}",
        "case (cold processes)", "median", "min", "max", "bytes read"
    );
    for case in &cases {
        let (lo, hi) = case.range();
        println!(
            "{:<48} {:>9} {:>9} {:>9} {:>12}",
            case.name,
            ms(case.median()),
            ms(lo),
            ms(hi),
            case.median_bytes() >> 10 << 10
        );
    }

    // In this process, once: what indexing each file costs now, and what
    // the full scan (the index before) costs.
    println!();
    for input in [&short, &long] {
        let t = Instant::now();
        let asset = Asset::open(&input.path).map_err(|e| e.to_string())?;
        let track = asset
            .default_video_track()
            .map_err(|e| e.to_string())?
            .clone();
        let method = asset.index_method(&track).map_err(|e| e.to_string())?;
        let timeline = asset.timeline(&track).map_err(|e| e.to_string())?;
        let open = t.elapsed();
        let t = Instant::now();
        let scan = asset.full_scan(&track).map_err(|e| e.to_string())?;
        let scanned = t.elapsed();
        let frames = timeline.map_or(0, |t| t.frame_count);
        if frames != scan.presentation.len() {
            return Err(format!(
                "{}: the timeline counts {frames} frames, the full scan {}",
                input.label,
                scan.presentation.len()
            ));
        }
        println!(
            "{:<6} open + timeline ({method:?}): {}, {frames} frames; full scan: {} ({} packets)",
            input.label,
            ms(open),
            ms(scanned),
            scan.packets.len()
        );
    }

    let t = Instant::now();
    let gpu = GpuContext::new(AdapterPreference::default()).map_err(|e| e.to_string())?;
    println!(
        "GPU context start ({}): {}",
        gpu.info().name,
        ms(t.elapsed())
    );

    let [ff_long, _ff_short, kf_short, kf_long, ex_short, ex_long, _pr_short, pr_long, _start] =
        &cases[..]
    else {
        return Err("cases changed without the verdicts".into());
    };
    println!();
    println!("verdicts:");
    let verdict = |name: &str, value: String, met: bool, target: String| {
        let state = if met { "met" } else { "MISSED" };
        println!("  {name:<52} {value:>10}  (target {target}: {state})");
    };
    let ratio = |a: &Case, b: &Case| a.median().as_secs_f64() / b.median().as_secs_f64();
    let r = ratio(kf_long, kf_short);
    verdict(
        "keyframe thumbnail, 10 min / 60 s",
        format!("{r:.2}x"),
        r <= LONG_OVER_SHORT,
        format!("<= {LONG_OVER_SHORT}x"),
    );
    let r = ratio(ex_long, ex_short);
    verdict(
        "10 exact thumbnails, 10 min / 60 s",
        format!("{r:.2}x"),
        r <= LONG_OVER_SHORT,
        format!("<= {LONG_OVER_SHORT}x"),
    );
    let r = ratio(kf_long, ff_long);
    verdict(
        "keyframe thumbnail, stills / ffmpeg, 10 min",
        format!("{r:.2}x"),
        r < 1.0,
        "< 1x".into(),
    );
    let share = kf_long.median_bytes() as f64 / long.bytes as f64;
    verdict(
        "bytes read for one thumbnail of the 10 min file",
        format!("{:.2}%", share * 100.0),
        share < BYTES_SHARE,
        format!("< {}%", BYTES_SHARE * 100.0),
    );
    let probe_ms = pr_long.median().as_secs_f64() * 1000.0;
    verdict(
        "stills probe, 10 min",
        format!("{probe_ms:.1}ms"),
        probe_ms < PROBE_MS,
        format!("< {PROBE_MS}ms"),
    );
    Ok(())
}

/// One timed process: its wall time and the bytes it read.
#[derive(Clone, Copy)]
struct Sample {
    time: Duration,
    bytes: u64,
}

type Job<'a> = Box<dyn FnMut(&Path) -> Result<Sample, String> + 'a>;

struct Case<'a> {
    name: &'static str,
    job: Job<'a>,
    samples: Vec<Sample>,
}

impl<'a> Case<'a> {
    fn new(name: &'static str, job: impl FnMut(&Path) -> Result<Sample, String> + 'a) -> Case<'a> {
        Case {
            name,
            job: Box::new(job),
            samples: Vec::new(),
        }
    }

    fn median(&self) -> Duration {
        median(self.samples.iter().map(|s| s.time).collect())
    }

    fn median_bytes(&self) -> u64 {
        median(self.samples.iter().map(|s| s.bytes).collect())
    }

    fn range(&self) -> (Duration, Duration) {
        let times = self.samples.iter().map(|s| s.time);
        (
            times.clone().min().unwrap_or_default(),
            times.max().unwrap_or_default(),
        )
    }
}

fn median<T: Ord + Copy + Default>(mut v: Vec<T>) -> T {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

#[derive(Clone, Copy)]
enum Mode {
    Keyframe,
    Exact,
}

fn seconds_arg(t: Millis) -> String {
    format!("{}.{:03}", t / 1000, t % 1000)
}

/// Bytes this process has read, counting the children it has waited for.
fn bytes_read() -> Result<u64, String> {
    let io = std::fs::read_to_string("/proc/self/io").map_err(|e| format!("/proc/self/io: {e}"))?;
    io.lines()
        .find_map(|l| l.strip_prefix("rchar:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| "/proc/self/io has no rchar".into())
}

/// Runs `cmd` to completion, timing it and counting what it read.
fn measure(cmd: &mut Command, what: &str) -> Result<Sample, String> {
    cmd.stdout(Stdio::null());
    let before = bytes_read()?;
    let start = Instant::now();
    let status = cmd.status().map_err(|e| format!("running {what}: {e}"))?;
    let time = start.elapsed();
    let bytes = bytes_read()?.saturating_sub(before);
    if !status.success() {
        return Err(format!("{what} failed: {status}"));
    }
    Ok(Sample { time, bytes })
}

fn ffmpeg_keyframe(input: &Input, out: &Path) -> Result<Sample, String> {
    let png = out.join("ffmpeg.png");
    let _ = std::fs::remove_file(&png);
    let sample = measure(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
            .args(["-noaccurate_seek", "-ss", &seconds_arg(input.middle), "-i"])
            .arg(&input.path)
            .args(["-frames:v", "1", "-vf", "scale=320:-2"])
            .arg(&png),
        "ffmpeg",
    )?;
    if !png.exists() {
        return Err(format!("ffmpeg wrote no image for {}", input.label));
    }
    Ok(sample)
}

fn grab(bin: &Path, input: &Input, mode: Mode, out: &Path) -> Result<Sample, String> {
    let times: Vec<String> = match mode {
        Mode::Keyframe => vec![seconds_arg(input.middle)],
        Mode::Exact => input.spread.iter().map(|&t| seconds_arg(t)).collect(),
    };
    let sample = measure(
        Command::new(bin)
            .arg("grab")
            .arg(&input.path)
            .arg("--at")
            .arg(times.join(","))
            .arg(match mode {
                Mode::Keyframe => "--keyframe",
                Mode::Exact => "--exact",
            })
            .args(["--max-size", "320x0", "-o"])
            .arg(out),
        "stills grab",
    )?;
    let written = std::fs::read_dir(out)
        .map_err(|e| format!("{}: {e}", out.display()))?
        .count();
    if written < times.len() {
        return Err(format!(
            "stills grab wrote {written} images of {} for {}",
            times.len(),
            input.label
        ));
    }
    Ok(sample)
}

fn probe(bin: &Path, input: &Input) -> Result<Sample, String> {
    measure(
        Command::new(bin).arg("probe").arg(&input.path),
        "stills probe",
    )
}

fn first_line(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("running ffmpeg: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string())
}

fn ms(d: Duration) -> String {
    format!("{:.1}ms", d.as_secs_f64() * 1000.0)
}
