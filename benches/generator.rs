//! The timing comparison, stills against the ffmpeg CLI side by
//! side in one run, on a 1080p H.264 60 s file with 250-frame GOPs and
//! B-frames:
//!
//! - (a) 10 thumbnails 320 wide in keyframe mode against ten
//!   `ffmpeg -noaccurate_seek -ss T -i F -frames:v 1 -vf scale=320:-2`
//!   processes (target ≥ 10×);
//! - (b) 10 exact thumbnails against the same loop without
//!   `-noaccurate_seek` (target ≥ 3×);
//! - (c) 100 exact random times (fixed seed) against that loop's cost per
//!   frame, measured on the first 10 of the 100 times (target ≥ 2×).
//!
//! (a') is a reference beside (a): with FFmpeg 5.1 the keyframe
//! command still decodes every frame up to T, because the PNG muxer's
//! constant-frame-rate handling drops the frames from the keyframe up to T
//! (their timestamps are negative after the seek) and writes the one at T.
//! `-fps_mode passthrough` makes it write the keyframe itself, which is
//! what a keyframe thumbnail needs; it has no target.
//!
//! A custom harness rather than criterion: one ffmpeg loop takes seconds,
//! and criterion's ten-sample minimum plus warm-up per case would take far
//! longer than the comparison needs. Instead every case runs once per
//! round, the cases interleaved so that the machine's noise hits all of
//! them alike, and medians are compared. Ratios within one run are the
//! result; absolute times vary with the machine and its load.
//!
//! The stills side writes PNG files like ffmpeg does. "Warm" is one
//! generator kept across rounds (asset opened, index built, GPU and
//! decoders ready); "cold" is a `stills grab` process per batch, paying for
//! everything a lone ffmpeg process pays for and more (GPU start-up).
//!
//! Run with `cargo bench --bench generator`; `STILLS_BENCH_ROUNDS` sets
//! the number of rounds (default 5). Needs the ffmpeg CLI.

mod inputs;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use stills::gpu::{AdapterPreference, GpuContext};
use stills::{Asset, ImageFormat, ImageGenerator, Outcome, Size, Time};

const THUMB_WIDTH: u32 = 320;
const THUMBNAILS: usize = 10;
const RANDOM_TIMES: usize = 100;
/// How many of the random times the ffmpeg loop runs to price one frame.
const RANDOM_FFMPEG_SUBSET: usize = 10;
const RANDOM_SEED: u64 = 0x5715_0001;
const DEFAULT_ROUNDS: usize = 5;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench generator: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Requested times in milliseconds: exact in a `Time` with timescale 1000
/// and in ffmpeg's `-ss` alike.
type Millis = i64;

/// The timeline facts the checks need, from the library's frame index.
struct Timeline {
    duration: Millis,
    /// Presentation times of the sync frames, in seconds.
    keyframes: Vec<f64>,
    /// One frame's display time, in seconds.
    frame: f64,
}

fn timeline(path: &Path) -> Result<Timeline, String> {
    let asset = Asset::open(path).map_err(|e| e.to_string())?;
    let track = asset.default_video_track().map_err(|e| e.to_string())?;
    let index = asset.frame_index(track).map_err(|e| e.to_string())?;
    let seconds = |ticks: i64| {
        Time::from_stream_ticks(ticks, index.time_base)
            .map(Time::seconds)
            .ok_or_else(|| format!("tick {ticks} overflows"))
    };
    let keyframes = index
        .packets
        .iter()
        .filter(|p| p.sync)
        .filter_map(|p| p.pts)
        .map(seconds)
        .collect::<Result<Vec<f64>, String>>()?;
    let end = seconds(index.end)?;
    Ok(Timeline {
        duration: (end * 1000.0) as Millis,
        keyframes,
        frame: end / index.packets.len() as f64,
    })
}

fn run() -> Result<(), String> {
    let rounds = inputs::rounds(DEFAULT_ROUNDS)?;
    let file = inputs::ensure(&inputs::H264_1080P_60S)?;
    let line = timeline(&file)?;
    let thumbs = spread(line.duration, THUMBNAILS);
    let random = random_times(line.duration, RANDOM_TIMES, RANDOM_SEED);
    let random_subset = &random[..RANDOM_FFMPEG_SUBSET];
    let scratch = Scratch::new()?;

    println!("input: {}", file.display());
    println!(
        "{} rounds; ffmpeg: {}",
        rounds,
        first_line(Command::new("ffmpeg").arg("-version"))?
    );

    // Measured once, first, while nothing in this process has touched the
    // GPU: where a cold start's time goes.
    let t = Instant::now();
    let asset = Asset::open(&file).map_err(|e| e.to_string())?;
    let open = t.elapsed();
    let t = Instant::now();
    let track = asset.default_video_track().map_err(|e| e.to_string())?;
    asset.frame_index(track).map_err(|e| e.to_string())?;
    let index = t.elapsed();
    let t = Instant::now();
    let gpu = GpuContext::new(AdapterPreference::default()).map_err(|e| e.to_string())?;
    let gpu_init = t.elapsed();
    let adapter = gpu.info().name.clone();
    let generator = ImageGenerator::with_gpu(asset, gpu);
    let t = Instant::now();
    stills_batch(
        &generator,
        Mode::Keyframe,
        &thumbs[..1],
        &scratch.dir("first"),
        &line,
    )?;
    let first = t.elapsed();
    let t = Instant::now();
    stills_batch(
        &generator,
        Mode::Keyframe,
        &thumbs[1..2],
        &scratch.dir("first"),
        &line,
    )?;
    let second = t.elapsed();
    println!("GPU adapter: {adapter}");
    println!(
        "cold start, in process: open {} + index {} + GPU context {} + first keyframe thumbnail {} (decoder, pipeline, decode, render, PNG); a second one: {}",
        ms(open),
        ms(index),
        ms(gpu_init),
        ms(first),
        ms(second)
    );
    // One un-timed exact batch so that every warm case starts warm.
    stills_batch(
        &generator,
        Mode::Exact,
        &thumbs,
        &scratch.dir("first"),
        &line,
    )?;

    let env = Env {
        file: &file,
        stills: Path::new(env!("CARGO_BIN_EXE_stills")),
        generator: &generator,
        line: &line,
    };
    let passthrough: &[&str] = &["-fps_mode", "passthrough"];
    let mut cases = [
        Case::new(
            "a  ffmpeg -noaccurate_seek loop, 10 thumbnails",
            Job::Ffmpeg(Seek::Keyframe, &thumbs, &[]),
        ),
        Case::new(
            "a' same + -fps_mode passthrough (reference)",
            Job::Ffmpeg(Seek::Keyframe, &thumbs, passthrough),
        ),
        Case::new(
            "a  stills keyframe, warm generator, 10",
            Job::Warm(Mode::Keyframe, &thumbs),
        ),
        Case::new(
            "a  stills grab --keyframe, cold process, 10",
            Job::Cold(Mode::Keyframe, &thumbs),
        ),
        Case::new(
            "b  ffmpeg accurate-seek loop, 10 thumbnails",
            Job::Ffmpeg(Seek::Accurate, &thumbs, &[]),
        ),
        Case::new(
            "b  stills exact, warm generator, 10",
            Job::Warm(Mode::Exact, &thumbs),
        ),
        Case::new(
            "b  stills grab --exact, cold process, 10",
            Job::Cold(Mode::Exact, &thumbs),
        ),
        Case::new(
            "c  ffmpeg accurate-seek loop, 10 of the random times",
            Job::Ffmpeg(Seek::Accurate, random_subset, &[]),
        ),
        Case::new(
            "c  stills exact, warm generator, 100 random",
            Job::Warm(Mode::Exact, &random),
        ),
        Case::new(
            "c  stills grab --exact, cold process, 100 random",
            Job::Cold(Mode::Exact, &random),
        ),
    ];
    for round in 0..rounds {
        eprintln!("round {} of {rounds}", round + 1);
        for (k, case) in cases.iter_mut().enumerate() {
            let elapsed = case.job.run(&env, &scratch.dir(&format!("case{k}")))?;
            case.samples.push(elapsed);
        }
    }

    println!();
    println!(
        "{:<56} {:>9} {:>9} {:>9} {:>10}",
        "case", "median", "min", "max", "per frame"
    );
    for case in &cases {
        let (lo, hi) = case.range();
        println!(
            "{:<56} {:>9} {:>9} {:>9} {:>10}",
            case.name,
            ms(case.median()),
            ms(lo),
            ms(hi),
            ms(case.per_frame())
        );
    }
    println!();
    println!("ratios of medians (ffmpeg per frame / stills per frame):");
    let [a_ff, a_pass, a_warm, a_cold, b_ff, b_warm, b_cold, c_ff, c_warm, c_cold] = &cases;
    let verdicts = [
        ("a keyframe, warm", a_ff.ratio(a_warm), Some(10.0)),
        ("a keyframe, cold", a_ff.ratio(a_cold), Some(10.0)),
        (
            "a' keyframe vs passthrough, warm",
            a_pass.ratio(a_warm),
            None,
        ),
        (
            "a' keyframe vs passthrough, cold",
            a_pass.ratio(a_cold),
            None,
        ),
        ("b exact, warm", b_ff.ratio(b_warm), Some(3.0)),
        ("b exact, cold", b_ff.ratio(b_cold), Some(3.0)),
        ("c random exact, warm", c_ff.ratio(c_warm), Some(2.0)),
        ("c random exact, cold", c_ff.ratio(c_cold), Some(2.0)),
    ];
    for (name, r, target) in verdicts {
        let verdict = match target {
            Some(t) if r >= t => format!("target >= {t}x: met"),
            Some(t) => format!("target >= {t}x: MISSED"),
            None => "reference".to_string(),
        };
        println!("  {name:<34} {r:>7.2}x  ({verdict})");
    }
    Ok(())
}

/// What the jobs run on.
struct Env<'a> {
    file: &'a Path,
    stills: &'a Path,
    generator: &'a ImageGenerator,
    line: &'a Timeline,
}

/// One timed batch of images.
enum Job<'a> {
    /// One ffmpeg process per time, with extra output options.
    Ffmpeg(Seek, &'a [Millis], &'a [&'a str]),
    /// One batch on the warm generator.
    Warm(Mode, &'a [Millis]),
    /// One `stills grab` process.
    Cold(Mode, &'a [Millis]),
}

impl Job<'_> {
    fn frames(&self) -> usize {
        match self {
            Job::Ffmpeg(_, times, _) | Job::Warm(_, times) | Job::Cold(_, times) => times.len(),
        }
    }

    fn run(&self, env: &Env, out: &Path) -> Result<Duration, String> {
        match *self {
            Job::Ffmpeg(seek, times, extra) => ffmpeg_loop(env.file, times, seek, extra, out),
            Job::Warm(mode, times) => stills_batch(env.generator, mode, times, out, env.line),
            Job::Cold(mode, times) => stills_grab(env.stills, env.file, mode, times, out),
        }
    }
}

struct Case<'a> {
    name: &'static str,
    job: Job<'a>,
    samples: Vec<Duration>,
}

impl<'a> Case<'a> {
    fn new(name: &'static str, job: Job<'a>) -> Case<'a> {
        Case {
            name,
            job,
            samples: Vec::new(),
        }
    }

    fn median(&self) -> Duration {
        let mut s = self.samples.clone();
        s.sort();
        match s.len() {
            0 => Duration::ZERO,
            n if n % 2 == 1 => s[n / 2],
            n => (s[n / 2 - 1] + s[n / 2]) / 2,
        }
    }

    fn range(&self) -> (Duration, Duration) {
        let lo = self.samples.iter().min().copied().unwrap_or_default();
        let hi = self.samples.iter().max().copied().unwrap_or_default();
        (lo, hi)
    }

    fn per_frame(&self) -> Duration {
        self.median() / self.job.frames() as u32
    }

    /// How many times faster per frame `other` is than this case.
    fn ratio(&self, other: &Case) -> f64 {
        self.per_frame().as_secs_f64() / other.per_frame().as_secs_f64()
    }
}

#[derive(Clone, Copy)]
enum Mode {
    Keyframe,
    Exact,
}

#[derive(Clone, Copy)]
enum Seek {
    /// `-noaccurate_seek`: the demuxer's seek to the keyframe at or before.
    Keyframe,
    /// ffmpeg's default: decode from that keyframe up to the time.
    Accurate,
}

/// `n` times spread over the duration: duration × (i + ½) / n, as
/// `stills grab --count` spreads them.
fn spread(duration: Millis, n: usize) -> Vec<Millis> {
    let n = n as i64;
    (0..n).map(|i| duration * (2 * i + 1) / (2 * n)).collect()
}

/// `n` distinct times in `[0, duration)`, from SplitMix64 with `seed`, so
/// every run asks for the same ones.
fn random_times(duration: Millis, n: usize, seed: u64) -> Vec<Millis> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut times = Vec::with_capacity(n);
    while times.len() < n {
        let t = (next() % duration as u64) as Millis;
        if !times.contains(&t) {
            times.push(t);
        }
    }
    times
}

fn seconds_arg(t: Millis) -> String {
    format!("{}.{:03}", t / 1000, t % 1000)
}

/// Runs one ffmpeg process per time, one after another, as a shell loop
/// would.
fn ffmpeg_loop(
    file: &Path,
    times: &[Millis],
    seek: Seek,
    extra: &[&str],
    out: &Path,
) -> Result<Duration, String> {
    let start = Instant::now();
    for &t in times {
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"]);
        if let Seek::Keyframe = seek {
            cmd.arg("-noaccurate_seek");
        }
        cmd.arg("-ss").arg(seconds_arg(t)).arg("-i").arg(file);
        cmd.args(["-frames:v", "1", "-vf", "scale=320:-2"]);
        cmd.args(extra);
        let png = out.join(format!("{t}.png"));
        let _ = std::fs::remove_file(&png);
        cmd.arg(&png);
        let status = cmd.status().map_err(|e| format!("running ffmpeg: {e}"))?;
        // ffmpeg exits 0 without writing anything when no frame came out.
        if !status.success() || !png.exists() {
            return Err(format!(
                "ffmpeg at {}s wrote no image: {status}",
                seconds_arg(t)
            ));
        }
    }
    Ok(start.elapsed())
}

/// One batch on a warm generator: submitted together, each image saved as
/// PNG on the worker that made it (as `stills grab` does), timed until the
/// last one is written. Every image is checked.
fn stills_batch(
    generator: &ImageGenerator,
    mode: Mode,
    times: &[Millis],
    out: &Path,
    line: &Timeline,
) -> Result<Duration, String> {
    generator
        .configure(|s| {
            s.set_maximum_size(Size {
                width: THUMB_WIDTH,
                height: 0,
            });
            match mode {
                Mode::Keyframe => s
                    .set_tolerance_before(Time::POSITIVE_INFINITY)
                    .and_then(|()| s.set_tolerance_after(Time::POSITIVE_INFINITY)),
                Mode::Exact => {
                    s.set_exact();
                    Ok(())
                }
            }
        })
        .map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::channel();
    let dir = out.to_path_buf();
    let start = Instant::now();
    generator.generate_images(
        times.iter().map(|&t| Time::new(t, 1000)),
        move |requested, outcome| {
            let result = match outcome {
                Outcome::Succeeded { image, actual_time } => {
                    let path = dir.join(format!("{}.png", requested.value()));
                    image
                        .save(&path, ImageFormat::Png)
                        .map(|()| (requested, actual_time, image.width()))
                        .map_err(|e| e.to_string())
                }
                Outcome::Failed(e) => Err(format!("{requested}: {e}")),
                Outcome::Cancelled => Err(format!("{requested}: cancelled")),
            };
            let _ = tx.send(result);
        },
    );
    let mut made = Vec::with_capacity(times.len());
    for _ in 0..times.len() {
        made.push(
            rx.recv()
                .map_err(|_| "the generator dropped a request".to_string())??,
        );
    }
    let elapsed = start.elapsed();
    for (requested, actual, width) in made {
        check_image(mode, requested, actual, width, line)?;
    }
    Ok(elapsed)
}

/// Checks one image: 320 wide, and the frame its mode asks for, so that a
/// fast wrong answer cannot pass for a fast right one.
fn check_image(
    mode: Mode,
    requested: Time,
    actual: Time,
    width: u32,
    line: &Timeline,
) -> Result<(), String> {
    if width != THUMB_WIDTH {
        return Err(format!(
            "{requested}: image is {width} wide, not {THUMB_WIDTH}"
        ));
    }
    let (r, a) = (requested.seconds(), actual.seconds());
    let right = match mode {
        Mode::Keyframe => line.keyframes.iter().any(|&k| (k - a).abs() < 1e-6),
        Mode::Exact => a <= r + 1e-9 && r - a < line.frame + 1e-9,
    };
    if right {
        Ok(())
    } else {
        Err(format!(
            "{requested}: got the frame at {actual}, which is not the {} frame",
            match mode {
                Mode::Keyframe => "keyframe",
                Mode::Exact => "displayed",
            }
        ))
    }
}

/// One `stills grab` process for the whole batch.
fn stills_grab(
    bin: &Path,
    file: &Path,
    mode: Mode,
    times: &[Millis],
    out: &Path,
) -> Result<Duration, String> {
    let at: Vec<String> = times.iter().map(|&t| seconds_arg(t)).collect();
    let start = Instant::now();
    let status = Command::new(bin)
        .arg("grab")
        .arg(file)
        .arg("--at")
        .arg(at.join(","))
        .arg(match mode {
            Mode::Keyframe => "--keyframe",
            Mode::Exact => "--exact",
        })
        .args(["--max-size", "320x0", "-o"])
        .arg(out)
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("running {}: {e}", bin.display()))?;
    let elapsed = start.elapsed();
    if !status.success() {
        return Err(format!("stills grab failed: {status}"));
    }
    Ok(elapsed)
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

/// A directory for the images, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, String> {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("stills-bench-out-{}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Scratch(path))
    }

    fn dir(&self, name: &str) -> PathBuf {
        let dir = self.0.join(name);
        // A failure here shows up as the first write into it failing.
        let _ = std::fs::create_dir_all(&dir);
        dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
