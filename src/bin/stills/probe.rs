//! `stills probe FILE…`: one JSON document per file on stdout.

use std::io::Write;
use std::process::ExitCode;

use serde_json::{json, Value};
use stills::asset::{Asset, IndexCache, TrackTimeline};
use stills::gpu::{AdapterInfo, AdapterPreference, GpuContext, GpuError, Interop};
use stills::Time;
use stills::{backend_statuses, nvdec_report, vaapi_devices, NvdecReport, VaapiDevice};

#[derive(clap::Args)]
pub struct ProbeArgs {
    /// Video files (or URLs FFmpeg can read).
    #[arg(required = true)]
    files: Vec<String>,
    /// Pretty-print the JSON.
    #[arg(long)]
    pretty: bool,
    /// Ask the Vulkan driver for the adapter and what it imports even on a
    /// machine without a hardware GPU (where it is lavapipe, and the CPU
    /// renderer renders instead). By default the driver is asked only where
    /// a hardware adapter may exist: loading lavapipe costs tens of
    /// milliseconds.
    #[arg(long, conflicts_with = "no_gpu")]
    gpu: bool,
    /// Leave out the GPU (adapter and what it imports) everywhere, for
    /// scripts probing many files one process each. Hardware backends are
    /// then reported without it.
    #[arg(long)]
    no_gpu: bool,
    /// Write each video track's whole frame index to the persistent index
    /// ($STILLS_INDEX_CACHE, else ~/.cache/stills/index), so that later
    /// opens of the file read it instead of scanning or reading on demand.
    #[arg(long)]
    index: bool,
    #[command(flatten)]
    limits: crate::common::LimitArgs,
}

/// Exit 0 when every file was described, 1 when any could not be (each
/// failure is one line on stderr naming the file and the cause).
pub fn run(args: ProbeArgs) -> ExitCode {
    let mut failed = false;
    let stdout = std::io::stdout();
    let cache = IndexCache::from_env();
    if args.index && cache.is_none() {
        eprintln!("stills: --index: no cache directory (set STILLS_INDEX_CACHE or HOME)");
        return ExitCode::FAILURE;
    }
    let write_to = cache.as_ref().filter(|_| args.index);
    // The driver loads on its own thread while the first file is opened.
    let hardware = stills::gpu::hardware_adapter_possible();
    let ask_gpu = args.gpu || (hardware && !args.no_gpu);
    let mut probing =
        ask_gpu.then(|| std::thread::spawn(|| GpuContext::probe_adapter(AdapterPreference::Auto)));
    let mut gpu: GpuReport = None;
    // Render nodes and their VA-API drivers, asked once for every file.
    let vaapi = vaapi_devices();
    // The CUDA driver, libnvcuvid and CUDA devices, likewise.
    let nvdec = nvdec_report();
    for file in &args.files {
        let asset = crate::common::open(file, &args.limits);
        if let Some(probe) = probing.take() {
            gpu =
                Some(probe.join().unwrap_or_else(|_| {
                    Err(GpuError::NoAdapter("the adapter probe panicked".into()))
                }));
        }
        match asset.and_then(|asset| describe(&asset, &gpu, &vaapi, &nvdec, write_to)) {
            Ok(mut doc) => {
                doc["renderer"] = renderer_json(hardware, &gpu);
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

/// The adapter stills would render on and what it imports (asked without
/// opening a device), or why there is none; `None` with `--no-gpu`.
type GpuReport = Option<Result<(AdapterInfo, Interop), GpuError>>;

/// What `grab` renders with by default (`--renderer auto`): the CPU
/// renderer where the only adapter is a CPU, the GPU's WGSL passes
/// otherwise; null where the adapter was not asked for (`--no-gpu`).
fn renderer_json(hardware: bool, gpu: &GpuReport) -> Value {
    match gpu {
        _ if !hardware => json!("cpu"),
        Some(Ok((adapter, _))) if adapter.is_software() => json!("cpu"),
        Some(Ok(_)) => json!("gpu"),
        Some(Err(_)) | None => Value::Null,
    }
}

fn gpu_json(gpu: &GpuReport) -> Value {
    match gpu {
        None => Value::Null,
        Some(Ok((adapter, interop))) => json!({
            "adapter": adapter.name,
            "device_type": format!("{:?}", adapter.device_type).to_lowercase(),
            "driver": adapter.driver_info,
            "interop": interop,
            "summary": interop.summary(),
        }),
        Some(Err(e)) => json!({ "error": e.to_string() }),
    }
}

fn describe(
    asset: &Asset,
    gpu: &GpuReport,
    vaapi: &[VaapiDevice],
    nvdec: &NvdecReport,
    write_index: Option<&IndexCache>,
) -> stills::Result<Value> {
    let interop = gpu
        .as_ref()
        .and_then(|r| r.as_ref().ok())
        .map(|(_, interop)| interop);
    let default_track = asset.default_video_track().ok().map(|t| t.index);
    let video_tracks: Vec<Value> = asset
        .video_tracks()
        .iter()
        .map(|track| {
            let mut v = serde_json::to_value(track).expect("track serialises");
            if let Ok(method) = asset.index_method(track) {
                // Reported before the timeline, which takes a full scan
                // where the whole index is not at hand.
                let timeline_by = if asset.has_complete_index(track) {
                    method.name()
                } else {
                    "full-scan"
                };
                let mut index = serde_json::to_value(&method).expect("method serialises");
                index["timeline_by"] = json!(timeline_by);
                v["frame_index"] = index;
            }
            match asset.timeline(track) {
                Ok(Some(tl)) => v["timeline"] = timeline_json(&tl),
                Ok(None) => v["timeline"] = json!({ "frame_count": 0 }),
                Err(e) => v["timeline_error"] = json!(e.to_string()),
            }
            v["backends"] =
                serde_json::to_value(backend_statuses(Some(track), interop)).expect("serialises");
            v
        })
        .collect();
    let written: Vec<String> = match write_index {
        Some(cache) => asset
            .write_index_cache(cache)?
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        None => Vec::new(),
    };
    let mut doc = json!({
        "source": asset.name(),
        "container": asset.container(),
        "tracks": asset.tracks(),
        "default_video_track": default_track,
        "video_tracks": video_tracks,
        "gpu": gpu_json(gpu),
        "vaapi": vaapi,
        "nvdec": nvdec,
        "backends": backend_statuses(None, interop),
    });
    if write_index.is_some() {
        doc["index_written"] = json!(written);
    }
    Ok(doc)
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
