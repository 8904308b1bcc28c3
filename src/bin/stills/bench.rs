//! `stills bench`: how fast this machine makes images from one file, per
//! backend: a cold first image with its start-up stages, warm throughput,
//! per-request latency, where each image's time goes, peak memory, and
//! optionally the FFmpeg CLI doing the same work. Its `--json` lines are a
//! stable interface (documented in the README, schema `stills-bench/1`):
//! the GPU checks of the hardware backends read them.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use std::sync::Arc;
use stills::gpu::{AdapterPreference, GpuContext};

use stills::{
    backend_statuses, Asset, BackendKind, BackendPreference, GeneratorPool, ImageGenerator,
    Outcome, RenderedBy, Size, Time,
};

use crate::common::{self, Format, Ticks};

/// The version of the JSON lines' shape; a change that removes or renames
/// a field bumps it.
const SCHEMA: &str = "stills-bench/1";

/// Requests timed one at a time for the latency percentiles, at most.
const LATENCY_SAMPLE: usize = 30;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// The video file or URL.
    file: String,
    /// keyframe: nearest keyframe; exact: the frame at each time; all: every frame in order.
    #[arg(long, value_enum, default_value = "exact")]
    mode: Mode,
    /// How many images (default 10; every frame for --mode all).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    count: Option<u32>,
    /// auto, one backend, or each backend this machine has, on the same requests.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BenchBackend,
    /// Fit inside W×H; 0 leaves a side free.
    #[arg(long, value_name = "WxH", default_value = "320x0", value_parser = common::parse_size)]
    max_size: Size,
    /// The encoding timed as the last stage.
    #[arg(long, value_enum, default_value = "png")]
    format: Format,
    /// Also run the FFmpeg CLI on the same times (one process per time; one
    /// process for --mode all) and print the ratio.
    #[arg(long)]
    vs_ffmpeg: bool,
    /// What runs the frame passes, as for `grab`: auto (the GPU's WGSL
    /// passes, or the CPU renderer where the only adapter is a CPU), gpu, cpu.
    #[arg(long, value_enum, default_value = "auto")]
    renderer: common::RendererArg,
    /// One JSON line per backend.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    limits: common::LimitArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Mode {
    Keyframe,
    Exact,
    All,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Keyframe => "keyframe",
            Mode::Exact => "exact",
            Mode::All => "all",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BenchBackend {
    Auto,
    Software,
    Vaapi,
    Nvdec,
    Each,
}

pub fn run(args: BenchArgs) -> ExitCode {
    let started = Instant::now();
    let t = Instant::now();
    let asset = match common::open(&args.file, &args.limits) {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("stills: {e}");
            return ExitCode::FAILURE;
        }
    };
    let open = t.elapsed();
    let t = Instant::now();
    let prepared = asset.default_video_track().and_then(|track| {
        let index = asset.frame_index(track)?;
        let timeline = asset.timeline(track)?;
        Ok((track.clone(), index, timeline))
    });
    let (track, index, timeline) = match prepared {
        Ok((track, index, Some(timeline))) => (track, index, timeline),
        Ok((_, _, None)) => {
            eprintln!("stills: {}: the video track has no frames", args.file);
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("stills: {e}");
            return ExitCode::FAILURE;
        }
    };
    let index_time = t.elapsed();
    let Some(ticks) = Ticks::of((timeline.first_frame, timeline.end), track.time_base) else {
        eprintln!("stills: {}: the timeline overflows", args.file);
        return ExitCode::FAILURE;
    };
    let times: Vec<Time> = match args.mode {
        Mode::Keyframe | Mode::Exact => ticks.spread(args.count.unwrap_or(10)),
        Mode::All => {
            let limit = args.count.map_or(usize::MAX, |n| n as usize);
            index
                .presentation
                .iter()
                .filter_map(|&i| index.packets.get(i as usize)?.pts)
                .take(limit)
                .map(|pts| ticks.time(pts))
                .collect()
        }
    };
    // The GPU is brought up as `grab` brings it up: not at all where the
    // CPU renderer renders for want of a hardware adapter.
    let renderer = args.renderer.library();
    let t = Instant::now();
    let gpu = match renderer
        .brings_up_gpu()
        .then(|| GpuContext::new(AdapterPreference::default()))
    {
        None => None,
        Some(Ok(gpu)) => Some(gpu),
        Some(Err(e)) => {
            eprintln!("stills: GPU: {e}");
            return ExitCode::FAILURE;
        }
    };
    let gpu_context = gpu.as_ref().map(|_| t.elapsed());
    let cold_setup = Cold {
        open,
        index: index_time,
        gpu_context,
        since_start: started.elapsed(),
    };
    let pool = match &gpu {
        Some(gpu) => GeneratorPool::with_gpu(gpu.clone()),
        None => GeneratorPool::new(),
    }
    .with_renderer(renderer);
    let kinds: Vec<(BackendPreference, Option<BackendKind>)> = match args.backend {
        BenchBackend::Auto => vec![(BackendPreference::Auto, None)],
        BenchBackend::Software => vec![only(BackendKind::Software)],
        BenchBackend::Vaapi => vec![only(BackendKind::Vaapi)],
        BenchBackend::Nvdec => vec![only(BackendKind::Nvdec)],
        BenchBackend::Each => BackendKind::ALL.iter().map(|&k| only(k)).collect(),
    };
    let statuses = backend_statuses(Some(&track), gpu.as_ref().map(GpuContext::interop));
    let ffmpeg = args.vs_ffmpeg.then(|| ffmpeg_run(&args, &times));
    let mut failed = false;
    let mut first_run = true;
    for (preference, kind) in kinds {
        let status = kind.and_then(|k| statuses.iter().find(|s| s.backend == k));
        if let Some(s) = status.filter(|s| !s.available) {
            let line = json!({
                "schema": SCHEMA, "source": args.file, "mode": args.mode.name(),
                "backend": s.backend.name(), "available": false, "reason": s.reason,
            });
            emit(&args, &line);
            if args.backend != BenchBackend::Each {
                failed = true;
            }
            continue;
        }
        // The first backend pays for the asset and GPU start-up; later
        // ones reuse them and report only their own first image.
        let cold = first_run.then_some(&cold_setup);
        let asset = asset_for(&args, first_run, asset.clone());
        first_run = false;
        match bench_backend(&args, &asset, &pool, preference, &times, cold) {
            Ok(mut line) => {
                line["track"] = json!({
                    "codec": track.codec, "width": track.coded_width,
                    "height": track.coded_height, "frames": timeline.frame_count,
                });
                line["adapter"] = gpu.as_ref().map_or(Value::Null, |gpu| {
                    json!({
                        "name": gpu.info().name,
                        "device_type": format!("{:?}", gpu.info().device_type).to_lowercase(),
                        "driver": gpu.info().driver,
                    })
                });
                if let Some(Ok(ff)) = &ffmpeg {
                    line["ffmpeg"] = ffmpeg_json(ff, &line);
                } else if let Some(Err(e)) = &ffmpeg {
                    line["ffmpeg"] = json!({ "error": e });
                    failed = true;
                }
                failed |= line["throughput"]["failed"].as_u64() != Some(0);
                emit(&args, &line);
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

fn only(kind: BackendKind) -> (BackendPreference, Option<BackendKind>) {
    (BackendPreference::Only(kind), Some(kind))
}

/// The asset for a backend's run: the first run uses the one opened (and
/// indexed) at start; later ones open it again, so no backend finds the
/// previous one's warm decoders.
fn asset_for(args: &BenchArgs, first_run: bool, first: Arc<Asset>) -> Arc<Asset> {
    if first_run {
        return first;
    }
    common::open(&args.file, &args.limits)
        .map(Arc::new)
        .unwrap_or(first)
}

/// Start-up stages measured once, before the first backend runs.
struct Cold {
    open: Duration,
    index: Duration,
    /// `None` where no GPU was brought up.
    gpu_context: Option<Duration>,
    since_start: Duration,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn bench_backend(
    args: &BenchArgs,
    asset: &Arc<Asset>,
    pool: &GeneratorPool,
    preference: BackendPreference,
    times: &[Time],
    cold: Option<&Cold>,
) -> Result<Value, String> {
    common::reset_peak_rss();
    let generator = ImageGenerator::with_pool(asset.clone(), pool);
    let format = args.format.image_format();
    generator.configure(|s| {
        match args.mode {
            Mode::Keyframe => {
                s.set_tolerance_before(Time::POSITIVE_INFINITY)
                    .and_then(|()| s.set_tolerance_after(Time::POSITIVE_INFINITY))
                    .expect("infinite tolerances are valid");
            }
            Mode::Exact | Mode::All => s.set_exact(),
        }
        s.set_maximum_size(args.max_size);
        s.set_backend(preference);
        s.set_max_output_pixels(args.limits.max_output_pixels);
        s.set_max_request_bytes(args.limits.max_request_memory);
    });
    // The first image: decoder start, pipeline buffers, first-use shader
    // variants, decode, render, encode.
    let t = Instant::now();
    let (first, _) = generator
        .copy_image(times[0])
        .map_err(|e| format!("{}@{}: {e}", args.file, times[0]))?;
    first.encode(format).map_err(|e| e.to_string())?;
    let first_image = t.elapsed();
    let backend = first.backend().cloned();
    let rendered_by = first.rendered_by().map(RenderedBy::name);

    // Throughput: every time as one batch, each image encoded on the
    // worker that made it, as `stills grab` does.
    let bar = common::progress(times.len() as u64, "bench", args.json);
    let (tx, rx) = mpsc::channel();
    let t = Instant::now();
    generator.generate_images(times.iter().copied(), move |_, outcome| {
        let result = match outcome {
            Outcome::Succeeded { image, .. } => {
                let clock = Instant::now();
                let encoded = image.encode(format);
                let encode = clock.elapsed();
                encoded
                    .map(|_| (image.timings().copied().unwrap_or_default(), encode))
                    .map_err(|e| e.to_string())
            }
            Outcome::Failed(e) => Err(e.to_string()),
            Outcome::Cancelled => Err("cancelled".into()),
        };
        let _ = tx.send(result);
    });
    let mut stage_sums = [Duration::ZERO; 6];
    let (mut made, mut errors) = (0u32, Vec::new());
    for result in rx.iter().take(times.len()) {
        bar.inc(1);
        match result {
            Ok((timings, encode)) => {
                made += 1;
                let stages = [
                    timings.demux,
                    timings.decode,
                    timings.upload,
                    timings.gpu,
                    timings.readback,
                    encode,
                ];
                for (sum, d) in stage_sums.iter_mut().zip(stages) {
                    *sum += d;
                }
            }
            Err(e) => errors.push(e),
        }
    }
    let wall = t.elapsed();
    bar.finish_and_clear();

    // Latency: requests one at a time, each waiting for the one before.
    let step = times.len().div_ceil(LATENCY_SAMPLE).max(1);
    let mut latencies: Vec<Duration> = Vec::new();
    for &time in times.iter().step_by(step) {
        let t = Instant::now();
        if generator.copy_image(time).is_ok() {
            latencies.push(t.elapsed());
        }
    }
    latencies.sort();
    let pct = |p: f64| -> Value {
        if latencies.is_empty() {
            return Value::Null;
        }
        let rank = ((p / 100.0) * latencies.len() as f64).ceil() as usize;
        json!(ms(latencies[rank.clamp(1, latencies.len()) - 1]))
    };
    let per = |d: Duration| {
        if made == 0 {
            Value::Null
        } else {
            json!(ms(d / made))
        }
    };
    let (backend_name, passed_over) = common::backend_json(backend.as_ref());
    let cold_json = match cold {
        Some(c) => json!({
            "open": ms(c.open), "index": ms(c.index), "gpu_context": c.gpu_context.map(ms),
            "first_image": ms(first_image), "total": ms(c.since_start + first_image),
        }),
        None => json!({
            "open": null, "index": null, "gpu_context": null,
            "first_image": ms(first_image), "total": null,
        }),
    };
    let setup = cold.map_or(Duration::ZERO, |c| {
        c.open + c.index + c.gpu_context.unwrap_or_default()
    });
    Ok(json!({
        "schema": SCHEMA,
        "source": args.file,
        "mode": args.mode.name(),
        "requests": times.len(),
        "max_size": format!("{}x{}", args.max_size.width, args.max_size.height),
        "format": format.extension(),
        "backend": backend_name,
        "available": true,
        "passed_over": passed_over,
        "renderer": rendered_by,
        "cold_ms": cold_json,
        "throughput": {
            "images": made,
            "failed": errors.len(),
            "first_error": errors.first(),
            "wall_ms": ms(wall),
            "fps": if wall.is_zero() { 0.0 } else { f64::from(made) / wall.as_secs_f64() },
        },
        "latency_ms": {
            "samples": latencies.len(),
            "p50": pct(50.0), "p95": pct(95.0), "p99": pct(99.0),
            "max": latencies.last().map(|&d| ms(d)),
        },
        "stages_ms": {
            "demux": per(stage_sums[0]), "decode": per(stage_sums[1]),
            "upload": per(stage_sums[2]), "gpu": per(stage_sums[3]),
            "readback": per(stage_sums[4]), "encode": per(stage_sums[5]),
        },
        "setup_ms": ms(setup),
        "peak_rss_bytes": common::peak_rss_bytes(),
    }))
}

/// The FFmpeg CLI's run over the same times.
struct FfmpegRun {
    command: String,
    processes: usize,
    images: usize,
    wall: Duration,
}

fn ffmpeg_json(ff: &FfmpegRun, stills: &Value) -> Value {
    let per_image = ff.wall.as_secs_f64() * 1e3 / ff.images.max(1) as f64;
    let made = stills["throughput"]["images"].as_f64().unwrap_or(0.0);
    let wall = stills["throughput"]["wall_ms"].as_f64().unwrap_or(0.0);
    let setup = stills["setup_ms"].as_f64().unwrap_or(0.0);
    let ratio = |stills_ms: f64| {
        if made > 0.0 && stills_ms > 0.0 {
            json!(per_image / (stills_ms / made))
        } else {
            Value::Null
        }
    };
    json!({
        "command": ff.command,
        "processes": ff.processes,
        "images": ff.images,
        "wall_ms": ms(ff.wall),
        "per_image_ms": per_image,
        "ratio_warm": ratio(wall),
        "ratio_with_startup": ratio(wall + setup),
    })
}

/// Runs the FFmpeg CLI on the same times: one process per time (keyframe:
/// `-noaccurate_seek`; exact: ffmpeg's accurate seek), or one process
/// decoding the first N frames (all), scaling as `--max-size` asks and
/// writing the same format.
fn ffmpeg_run(args: &BenchArgs, times: &[Time]) -> Result<FfmpegRun, String> {
    let dir = std::env::temp_dir().join(format!("stills-bench-ffmpeg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let scale = match (args.max_size.width, args.max_size.height) {
        (0, 0) => None,
        (w, 0) => Some(format!("scale={w}:-2")),
        (0, h) => Some(format!("scale=-2:{h}")),
        (w, h) => Some(format!(
            "scale={w}:{h}:force_original_aspect_ratio=decrease"
        )),
    };
    let ext = args.format.image_format().extension();
    let input = ffmpeg_input(&args.file);
    let base = |cmd: &mut Command| {
        cmd.args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"]);
    };
    let result = (|| {
        let t = Instant::now();
        let (command, processes) = match args.mode {
            Mode::All => {
                let mut cmd = Command::new("ffmpeg");
                base(&mut cmd);
                cmd.arg("-i").arg(&input);
                cmd.args([
                    "-frames:v",
                    &times.len().to_string(),
                    "-fps_mode",
                    "passthrough",
                ]);
                if let Some(s) = &scale {
                    cmd.args(["-vf", s]);
                }
                cmd.arg(dir.join(format!("%06d.{ext}")));
                run_ffmpeg(&mut cmd)?;
                (describe(&cmd), 1)
            }
            Mode::Keyframe | Mode::Exact => {
                let mut last = String::new();
                for (k, &time) in times.iter().enumerate() {
                    let mut cmd = Command::new("ffmpeg");
                    base(&mut cmd);
                    if args.mode == Mode::Keyframe {
                        cmd.arg("-noaccurate_seek");
                    }
                    cmd.arg("-ss")
                        .arg(format!("{time:.6}"))
                        .arg("-i")
                        .arg(&input);
                    cmd.args(["-frames:v", "1"]);
                    if let Some(s) = &scale {
                        cmd.args(["-vf", s]);
                    }
                    cmd.arg(dir.join(format!("{k}.{ext}")));
                    run_ffmpeg(&mut cmd)?;
                    last = describe(&cmd);
                }
                (last, times.len())
            }
        };
        Ok(FfmpegRun {
            command,
            processes,
            images: times.len(),
            wall: t.elapsed(),
        })
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// FFmpeg takes `file:` URLs and paths alike; a path that looks like an
/// option or a protocol is made explicit.
fn ffmpeg_input(file: &str) -> PathBuf {
    if common::is_url(file) {
        return PathBuf::from(file);
    }
    let path = Path::new(file);
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn run_ffmpeg(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("running ffmpeg (is the FFmpeg CLI installed?): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} failed: {}",
            describe(cmd),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Prints one result: a JSON line, or a short table.
fn emit(args: &BenchArgs, line: &Value) {
    if args.json {
        println!("{line}");
        return;
    }
    let backend = line["backend"].as_str().unwrap_or("?");
    if line["available"] == false {
        println!(
            "{backend}: unavailable ({})",
            line["reason"].as_str().unwrap_or("")
        );
        return;
    }
    let f = |v: &Value| v.as_f64().map_or("-".to_string(), |x| format!("{x:.1}"));
    println!(
        "{} on {}, {} mode, {} images of {} ({} {}x{})",
        backend,
        match line["renderer"].as_str() {
            Some("cpu") => "the CPU renderer".to_string(),
            _ => line["adapter"]["name"].as_str().unwrap_or("?").to_string(),
        },
        line["mode"].as_str().unwrap_or("?"),
        line["requests"],
        line["max_size"].as_str().unwrap_or("?"),
        line["track"]["codec"].as_str().unwrap_or("?"),
        line["track"]["width"],
        line["track"]["height"],
    );
    let c = &line["cold_ms"];
    println!(
        "  cold:       open {} + index {} + GPU context {} + first image {} = {} ms since start",
        f(&c["open"]),
        f(&c["index"]),
        f(&c["gpu_context"]),
        f(&c["first_image"]),
        f(&c["total"])
    );
    let t = &line["throughput"];
    println!(
        "  warm:       {} images in {} ms, {} images/s ({} failed)",
        t["images"],
        f(&t["wall_ms"]),
        f(&t["fps"]),
        t["failed"]
    );
    let l = &line["latency_ms"];
    println!(
        "  latency:    p50 {} p95 {} p99 {} ms (one request at a time, {} samples)",
        f(&l["p50"]),
        f(&l["p95"]),
        f(&l["p99"]),
        l["samples"]
    );
    let s = &line["stages_ms"];
    println!(
        "  per image:  demux {} decode {} upload {} render {} readback {} encode {} ms",
        f(&s["demux"]),
        f(&s["decode"]),
        f(&s["upload"]),
        f(&s["gpu"]),
        f(&s["readback"]),
        f(&s["encode"])
    );
    if let Some(peak) = line["peak_rss_bytes"].as_u64() {
        println!("  peak memory: {:.1} MiB", peak as f64 / (1 << 20) as f64);
    }
    if !line["ffmpeg"].is_null() {
        let ff = &line["ffmpeg"];
        if let Some(e) = ff["error"].as_str() {
            println!("  ffmpeg:     {e}");
        } else {
            println!(
                "  ffmpeg:     {} ms per image over {} process(es); stills is {}x faster warm, {}x with its start-up",
                f(&ff["per_image_ms"]),
                ff["processes"],
                f(&ff["ratio_warm"]),
                f(&ff["ratio_with_startup"])
            );
        }
    }
}
