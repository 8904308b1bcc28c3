//! `stills grab`: images at requested times, written as files.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{mpsc, Arc, Mutex};

use serde_json::json;
use stills::asset::FrameIndex;
use stills::time::RoundingMethod;
use stills::{
    ApertureMode, Asset, BackendKind, BackendPreference, DynamicRangePolicy, GeneratorSettings,
    ImageFormat, ImageGenerator, Outcome, Size, Time,
};

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("times").required(true).args(["at", "count"])))]
#[command(group(clap::ArgGroup::new("mode").args(["exact", "keyframe", "tolerance", "before"])))]
pub struct GrabArgs {
    /// The video file.
    file: PathBuf,
    /// Times to grab: seconds (12.5, 250ms) or clock (1:02.5); comma-separated, repeatable.
    #[arg(long, value_delimiter = ',', value_parser = parse_time)]
    at: Vec<Time>,
    /// N evenly spaced times: frame span × (i + 0.5) / N, from the first frame.
    #[arg(long, conflicts_with = "at", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    count: Option<u32>,
    /// The exact frame displayed at each time (the default).
    #[arg(long)]
    exact: bool,
    /// The nearest keyframe: infinite tolerance, one decode per image.
    #[arg(long)]
    keyframe: bool,
    /// Any frame within ± S seconds, the cheapest to decode.
    #[arg(long, value_name = "S", value_parser = parse_time)]
    tolerance: Option<Time>,
    /// Tolerance before each time, in seconds (with --after).
    #[arg(long, value_name = "S", requires = "after", value_parser = parse_time)]
    before: Option<Time>,
    /// Tolerance after each time, in seconds (with --before).
    #[arg(long, value_name = "S", requires = "before", value_parser = parse_time)]
    after: Option<Time>,
    /// Fit inside W×H, never upscaling; 0 leaves a side free (320x0).
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    max_size: Option<Size>,
    /// Do not apply the track's rotation/mirror.
    #[arg(long)]
    no_transform: bool,
    #[arg(long, value_enum, default_value = "clean")]
    aperture: Aperture,
    /// sdr: tone map HDR to SDR; source: keep HDR (16-bit PNG).
    #[arg(long, value_enum, default_value = "sdr")]
    dynamic_range: DynamicRange,
    #[arg(long, value_enum, default_value = "auto")]
    backend: Backend,
    /// Directory for the images.
    #[arg(short, long, default_value = ".")]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "png")]
    format: Format,
    /// One JSON line per request, in completion order.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Aperture {
    Clean,
    Production,
    Encoded,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DynamicRange {
    Sdr,
    Source,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Backend {
    Auto,
    Vaapi,
    Nvdec,
    Software,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Png,
    Jpeg,
    Webp,
}

fn parse_time(s: &str) -> Result<Time, String> {
    s.trim().parse::<Time>().map_err(|e| e.to_string())
}

fn parse_size(s: &str) -> Result<Size, String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WxH such as 320x0, got {s:?}"))?;
    let side = |v: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("bad size {s:?}"))
    };
    Ok(Size {
        width: side(w)?,
        height: side(h)?,
    })
}

impl GrabArgs {
    /// The second stage of argument handling: the settings a generator
    /// takes, validated.
    fn settings(&self) -> Result<GeneratorSettings, String> {
        let mut s = GeneratorSettings::default();
        let tolerances = if self.keyframe {
            (Time::POSITIVE_INFINITY, Time::POSITIVE_INFINITY)
        } else if let Some(t) = self.tolerance {
            (t, t)
        } else if let (Some(b), Some(a)) = (self.before, self.after) {
            (b, a)
        } else {
            (Time::ZERO, Time::ZERO)
        };
        s.set_tolerance_before(tolerances.0)
            .map_err(|e| e.to_string())?;
        s.set_tolerance_after(tolerances.1)
            .map_err(|e| e.to_string())?;
        if let Some(size) = self.max_size {
            s.set_maximum_size(size);
        }
        s.set_applies_preferred_track_transform(!self.no_transform);
        s.set_aperture_mode(match self.aperture {
            Aperture::Clean => ApertureMode::CleanAperture,
            Aperture::Production => ApertureMode::ProductionAperture,
            Aperture::Encoded => ApertureMode::EncodedPixels,
        });
        s.set_dynamic_range_policy(match self.dynamic_range {
            DynamicRange::Sdr => DynamicRangePolicy::ForceSdr,
            DynamicRange::Source => DynamicRangePolicy::MatchSource,
        });
        s.set_backend(match self.backend {
            Backend::Auto => BackendPreference::Auto,
            Backend::Vaapi => BackendPreference::Only(BackendKind::Vaapi),
            Backend::Nvdec => BackendPreference::Only(BackendKind::Nvdec),
            Backend::Software => BackendPreference::Only(BackendKind::Software),
        });
        Ok(s)
    }

    fn image_format(&self) -> ImageFormat {
        match self.format {
            Format::Png => ImageFormat::Png,
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Webp => ImageFormat::WebP,
        }
    }
}

/// `count` times spread over the track's frames: first + span·(i + ½)/N,
/// in exact ticks.
fn spread(index: &FrameIndex, count: u32) -> Vec<Time> {
    let first = index.first_shown_pts().unwrap_or(0);
    let span = (index.end - first).max(0) as i128;
    (0..count as i128)
        .filter_map(|i| {
            let offset = span * (2 * i + 1) / (2 * count as i128);
            Time::from_stream_ticks(first + offset as i64, index.time_base)
        })
        .collect()
}

fn millis(t: Time) -> i64 {
    let ms = stills::ratio::Ratio::new(1, 1000).expect("1/1000");
    t.to_stream_ticks(ms, RoundingMethod::RoundHalfAwayFromZero)
        .unwrap_or(0)
}

pub fn run(args: GrabArgs) -> ExitCode {
    let settings = match args.settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("stills: {e}");
            return ExitCode::from(2);
        }
    };
    let file = args.file.display().to_string();
    let asset = match Asset::open(&args.file) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("stills: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Problems with the file as a whole are said once, not per time.
    let index = match asset
        .default_video_track()
        .and_then(|t| asset.frame_index(t))
    {
        Ok(index) => index,
        Err(e) => {
            eprintln!("stills: {e}");
            return ExitCode::FAILURE;
        }
    };
    let times = match args.count {
        Some(n) => spread(&index, n),
        None => args.at.clone(),
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("stills: {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    let stem = args
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".into());
    let generator = ImageGenerator::new(asset);
    generator.configure(|s| *s = settings);
    let format = args.image_format();
    let out = args.out.clone();
    let written = Arc::new(Mutex::new(HashSet::new()));
    let (tx, rx) = mpsc::channel();
    let total = times.len();
    // Encoding and writing happen in the callback, on the worker threads,
    // so they overlap with decoding; the main thread only reports.
    generator.generate_images(times, move |requested, outcome| {
        let report = match outcome {
            Outcome::Succeeded { image, actual_time } => {
                let path = out.join(format!(
                    "{stem}_{}.{}",
                    millis(requested),
                    format.extension()
                ));
                let first = written
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(path.clone());
                let saved = if first {
                    image.save(&path, format)
                } else {
                    Ok(())
                };
                let backend = image.backend().map_or("", |b| b.backend.name());
                match saved {
                    Ok(()) => Report {
                        requested,
                        actual: Some(actual_time),
                        path: Some(path),
                        size: (image.width(), image.height()),
                        backend,
                        error: None,
                    },
                    Err(e) => Report::failed(requested, e.to_string()),
                }
            }
            Outcome::Failed(e) => Report::failed(requested, e.to_string()),
            Outcome::Cancelled => Report::failed(requested, "cancelled".into()),
        };
        let _ = tx.send(report);
    });
    let mut failed = false;
    for report in rx.iter().take(total) {
        failed |= report.error.is_some();
        if args.json {
            println!(
                "{}",
                json!({
                    "requested": report.requested.seconds(),
                    "actual": report.actual.map(|t| t.seconds()),
                    "path": report.path.as_ref().map(|p| p.display().to_string()),
                    "width": report.size.0,
                    "height": report.size.1,
                    "backend": report.backend,
                    "error": report.error,
                })
            );
        } else if let Some(e) = &report.error {
            eprintln!("stills: {file}@{}: {e}", report.requested);
        } else if let (Some(path), Some(actual)) = (&report.path, report.actual) {
            println!(
                "{}  {}x{}  frame at {actual}s (asked {}s)",
                path.display(),
                report.size.0,
                report.size.1,
                report.requested
            );
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

struct Report {
    requested: Time,
    actual: Option<Time>,
    path: Option<PathBuf>,
    size: (u32, u32),
    backend: &'static str,
    error: Option<String>,
}

impl Report {
    fn failed(requested: Time, error: String) -> Report {
        Report {
            requested,
            actual: None,
            path: None,
            size: (0, 0),
            backend: "",
            error: Some(error),
        }
    }
}
