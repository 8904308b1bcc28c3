//! The CLI's own speed, measured as a user runs it: cold `stills grab`
//! processes against `ffmpeg` processes, side by side in one run, on a
//! 1080p30 H.264 60 s file encoded with x264's defaults (scene-cut
//! keyframes, about 20 in 60 s, 3 B-frames), so that ten spread requests
//! land in ten different GOPs:
//!
//! - (a) 10 keyframe thumbnails 320 wide in one `stills grab --keyframe`
//!   against ten `ffmpeg -noaccurate_seek -ss T -i F -frames:v 1 -vf
//!   scale=320:-2` processes (target ≥ 10×);
//! - (b) 10 exact ones against the same loop with accurate seek (≥ 3×);
//! - (c) the first thumbnail of a cold process (target ≤ 150 ms), beside a
//!   bare `stills --version` (process start and dynamic linking alone);
//! - (d) 100 small files (the fixtures, repeated) in one `grab` process
//!   against 100 `grab` processes.
//!
//! Before the rounds it shows where a cold start's time goes, stage by
//! stage in one process: open, frame index, GPU context where `grab` would
//! bring one up (Vulkan loader and drivers, device, shader compilation;
//! none where the CPU renderer renders), first image.
//!
//! Run with `cargo bench --bench cli`; `STILLS_BENCH_ROUNDS` sets the
//! rounds (default 5). Needs the ffmpeg CLI. Ratios of medians within one
//! run are the result; absolute times vary with the machine and its load.

mod inputs;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use stills::gpu::{AdapterPreference, GpuContext};
use stills::{Asset, ImageGenerator, Size, Time};

const DEFAULT_ROUNDS: usize = 5;
const THUMBNAILS: i64 = 10;
const SMALL_FILES: usize = 100;

/// The fixtures the small-file case repeats: ones every build decodes.
const SMALL: &[&str] = &[
    "h264_bframes.mp4",
    "vp9.webm",
    "av1.mp4",
    "rot90.mp4",
    "sar_2_1.mp4",
    "yuv444p.mp4",
    "bt709_tagged_hd.mp4",
    "vfr.mp4",
    "editlist_midgop.mp4",
    "fullrange.mp4",
];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench cli: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let rounds = inputs::rounds(DEFAULT_ROUNDS)?;
    let file = inputs::ensure(&inputs::H264_1080P_X264_DEFAULTS)?;
    let stills = PathBuf::from(env!("CARGO_BIN_EXE_stills"));
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("stills-bench-cli-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let (duration_ms, keyframes) = {
        let asset = Asset::open(&file).map_err(|e| e.to_string())?;
        let track = asset.default_video_track().map_err(|e| e.to_string())?;
        let tl = asset
            .timeline(track)
            .map_err(|e| e.to_string())?
            .ok_or("no frames")?;
        ((tl.duration.seconds() * 1000.0) as i64, tl.sync_frame_count)
    };
    let times: Vec<String> = (0..THUMBNAILS)
        .map(|i| {
            let ms = duration_ms * (2 * i + 1) / (2 * THUMBNAILS);
            format!("{}.{:03}", ms / 1000, ms % 1000)
        })
        .collect();
    println!("input: {} ({keyframes} keyframes)", file.display());
    println!("{rounds} rounds; times: {}", times.join(","));

    cold_start_stages(&file)?;

    let small = small_files(&scratch)?;
    let list = scratch.join("small.list");
    std::fs::write(
        &list,
        small
            .iter()
            .map(|p| format!("{}\n", p.display()))
            .collect::<String>(),
    )
    .map_err(|e| e.to_string())?;

    let names = [
        "a  ffmpeg -noaccurate_seek loop, 10",
        "a  stills grab --keyframe, 10",
        "b  ffmpeg accurate-seek loop, 10",
        "b  stills grab --exact, 10",
        "c  stills grab, first keyframe thumbnail",
        "c  stills --version",
        "d  100 small files, 100 grab processes",
        "d  100 small files, one grab process",
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); names.len()];
    let out = scratch.join("out");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let grab = |extra: &[&str], at: &str| -> Result<Duration, String> {
        let mut cmd = Command::new(&stills);
        cmd.arg("grab")
            .arg(&file)
            .args(["--at", at, "--max-size", "320x0", "-o"])
            .arg(&out)
            .args(extra);
        timed(&mut cmd)
    };
    for round in 0..rounds {
        eprintln!("round {} of {rounds}", round + 1);
        samples[0].push(ffmpeg_loop(&file, &times, true, &out)?);
        samples[1].push(grab(&["--keyframe"], &times.join(","))?);
        samples[2].push(ffmpeg_loop(&file, &times, false, &out)?);
        samples[3].push(grab(&["--exact"], &times.join(","))?);
        samples[4].push(grab(&["--keyframe"], &times[THUMBNAILS as usize / 2])?);
        samples[5].push(timed(Command::new(&stills).arg("--version"))?);
        let t = Instant::now();
        for f in &small {
            let mut cmd = Command::new(&stills);
            cmd.arg("grab")
                .arg(f)
                .args(["--at", "0.1", "--keyframe", "--max-size", "160x0", "-o"])
                .arg(&out);
            timed(&mut cmd)?;
        }
        samples[6].push(t.elapsed());
        let mut cmd = Command::new(&stills);
        cmd.args([
            "grab",
            "--at",
            "0.1",
            "--keyframe",
            "--max-size",
            "160x0",
            "--files-from",
        ])
        .arg(&list)
        .arg("-o")
        .arg(&out);
        samples[7].push(timed(&mut cmd)?);
    }
    let med: Vec<Duration> = samples.iter().map(|s| median(s)).collect();
    println!();
    println!(
        "{:<46} {:>10} {:>10} {:>10}",
        "case", "median", "min", "max"
    );
    for (name, s) in names.iter().zip(&samples) {
        let lo = s.iter().min().copied().unwrap_or_default();
        let hi = s.iter().max().copied().unwrap_or_default();
        println!(
            "{name:<46} {:>10} {:>10} {:>10}",
            ms(median(s)),
            ms(lo),
            ms(hi)
        );
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!();
    let verdict = |r: f64, target: f64| if r >= target { "met" } else { "MISSED" };
    let a = ratio(med[0], med[1]);
    let b = ratio(med[2], med[3]);
    let d = ratio(med[6], med[7]);
    println!(
        "a keyframe: ffmpeg loop / stills grab = {a:.2}x (target >= 10x: {})",
        verdict(a, 10.0)
    );
    println!(
        "b exact:    ffmpeg loop / stills grab = {b:.2}x (target >= 3x: {})",
        verdict(b, 3.0)
    );
    let first = med[4].as_secs_f64() * 1000.0;
    println!(
        "c first thumbnail of a cold process: {first:.1} ms (target <= 150 ms: {}); process start alone {}",
        if first <= 150.0 { "met" } else { "MISSED" },
        ms(med[5])
    );
    println!("d 100 files: 100 processes / one process = {d:.2}x");
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// Where a cold start's time goes, in this process, once, before anything
/// here has touched the GPU.
fn cold_start_stages(file: &Path) -> Result<(), String> {
    let t = Instant::now();
    let asset = Asset::open(file).map_err(|e| e.to_string())?;
    let open = t.elapsed();
    let t = Instant::now();
    let track = asset
        .default_video_track()
        .map_err(|e| e.to_string())?
        .clone();
    asset.frame_index(&track).map_err(|e| e.to_string())?;
    let index = t.elapsed();
    // The GPU as `grab` brings it up: not at all on a machine without a
    // hardware adapter, where the CPU renderer renders.
    let t = Instant::now();
    let (generator, gpu_init) = if stills::Renderer::Auto.brings_up_gpu() {
        let gpu = GpuContext::new(AdapterPreference::default()).map_err(|e| e.to_string())?;
        (ImageGenerator::with_gpu(asset, gpu), ms(t.elapsed()))
    } else {
        (ImageGenerator::new(asset), "none".to_string())
    };
    generator.configure(|s| {
        s.set_maximum_size(Size::new(320, 0));
        let _ = s.set_tolerance_before(Time::POSITIVE_INFINITY);
        let _ = s.set_tolerance_after(Time::POSITIVE_INFINITY);
    });
    let t = Instant::now();
    let (image, _) = generator
        .copy_image(Time::new(30, 1))
        .map_err(|e| e.to_string())?;
    let first = t.elapsed();
    let stages = image.timings().copied().unwrap_or_default();
    let t = Instant::now();
    generator
        .copy_image(Time::new(40, 1))
        .map_err(|e| e.to_string())?;
    let second = t.elapsed();
    println!(
        "cold start in one process: open {} + index {} + GPU context {} + first keyframe thumbnail {} (of which demux {}, decode {}, upload {}, render {} on the {}, readback {}); a second thumbnail {}",
        ms(open), ms(index), gpu_init, ms(first),
        ms(stages.demux), ms(stages.decode), ms(stages.upload), ms(stages.gpu),
        image.rendered_by().map_or("?", stills::RenderedBy::name), ms(stages.readback),
        ms(second)
    );
    Ok(())
}

/// `SMALL_FILES` paths: the small fixtures copied under distinct names.
fn small_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let small = dir.join("small");
    std::fs::create_dir_all(&small).map_err(|e| e.to_string())?;
    (0..SMALL_FILES)
        .map(|i| {
            let name = SMALL[i % SMALL.len()];
            let ext = Path::new(name)
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("mp4");
            let to = small.join(format!("f{i:03}.{ext}"));
            std::fs::copy(fixtures.join(name), &to).map_err(|e| format!("{name}: {e}"))?;
            Ok(to)
        })
        .collect()
}

fn ffmpeg_loop(
    file: &Path,
    times: &[String],
    keyframe: bool,
    out: &Path,
) -> Result<Duration, String> {
    let t = Instant::now();
    for (k, at) in times.iter().enumerate() {
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"]);
        if keyframe {
            cmd.arg("-noaccurate_seek");
        }
        cmd.args(["-ss", at, "-i"])
            .arg(file)
            .args(["-frames:v", "1", "-vf", "scale=320:-2"]);
        cmd.arg(out.join(format!("ff{k}.png")));
        timed(&mut cmd)?;
    }
    Ok(t.elapsed())
}

fn timed(cmd: &mut Command) -> Result<Duration, String> {
    let t = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    let elapsed = t.elapsed();
    if !status.success() {
        return Err(format!("{cmd:?} failed: {status}"));
    }
    Ok(elapsed)
}

fn median(s: &[Duration]) -> Duration {
    let mut s = s.to_vec();
    s.sort();
    match s.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}ms", d.as_secs_f64() * 1000.0)
}
