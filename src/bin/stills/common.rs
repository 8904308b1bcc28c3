//! What the subcommands share: the settings flags and their second-stage
//! validation into `GeneratorSettings`, opening any source the library
//! takes, atomic file writes, progress bars and time formatting.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};
use stills::{
    ApertureMode, Asset, BackendChoice, BackendKind, BackendPreference, Deinterlace,
    DynamicRangePolicy, GeneratorSettings, ImageFormat, Limits, OpenOptions, Ratio, RoundingMethod,
    Size, Time,
};

/// Which frame each time asks for, and how the pictures are rendered: the
/// flags `grab`, `sheet` and `bench` share.
#[derive(clap::Args, Clone)]
#[command(group(clap::ArgGroup::new("mode").args(["exact", "keyframe", "tolerance", "before"])))]
pub struct RenderArgs {
    /// The exact frame displayed at each time.
    #[arg(long)]
    pub exact: bool,
    /// The nearest keyframe: infinite tolerance, one decode per image.
    #[arg(long)]
    pub keyframe: bool,
    /// Any frame within ± S seconds (or `inf`), the cheapest to decode.
    #[arg(long, value_name = "S", allow_hyphen_values = true, value_parser = parse_tolerance)]
    pub tolerance: Option<Time>,
    /// Tolerance before each time, in seconds or `inf` (with --after).
    #[arg(long, value_name = "S", requires = "after", allow_hyphen_values = true, value_parser = parse_tolerance)]
    pub before: Option<Time>,
    /// Tolerance after each time, in seconds or `inf` (with --before).
    #[arg(long, value_name = "S", requires = "before", allow_hyphen_values = true, value_parser = parse_tolerance)]
    pub after: Option<Time>,
    /// Do not apply the track's rotation/mirror.
    #[arg(long)]
    pub no_transform: bool,
    #[arg(long, value_enum, default_value = "clean")]
    pub aperture: Aperture,
    /// sdr: tone map HDR to SDR; source: keep HDR (16-bit PNG).
    #[arg(long, value_enum, default_value = "sdr")]
    pub dynamic_range: DynamicRange,
    /// The video track to take images from, by the stream index `stills
    /// probe` lists (default: the file's default video track).
    #[arg(long, value_name = "N")]
    pub track: Option<usize>,
    /// auto: deinterlace pictures the decoder reports as interlaced; off:
    /// keep their two fields woven, as stored.
    #[arg(long, value_enum, default_value = "auto")]
    pub deinterlace: DeinterlaceArg,
    /// What runs the colour, crop, rotation, scaling and tone-mapping passes:
    /// auto (the GPU's WGSL passes, or the CPU renderer where the only
    /// adapter is a CPU), gpu (the WGSL passes, on lavapipe if need be), cpu.
    #[arg(long, value_enum, default_value = "auto")]
    pub renderer: RendererArg,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum RendererArg {
    Auto,
    Gpu,
    Cpu,
}

impl RendererArg {
    pub fn library(self) -> stills::Renderer {
        match self {
            RendererArg::Auto => stills::Renderer::Auto,
            RendererArg::Gpu => stills::Renderer::Gpu,
            RendererArg::Cpu => stills::Renderer::Cpu,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum DeinterlaceArg {
    Auto,
    Off,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Aperture {
    Clean,
    Production,
    Encoded,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum DynamicRange {
    Sdr,
    Source,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Auto,
    Vaapi,
    Nvdec,
    Software,
}

impl Backend {
    pub fn preference(self) -> BackendPreference {
        match self {
            Backend::Auto => BackendPreference::Auto,
            Backend::Vaapi => BackendPreference::Only(BackendKind::Vaapi),
            Backend::Nvdec => BackendPreference::Only(BackendKind::Nvdec),
            Backend::Software => BackendPreference::Only(BackendKind::Software),
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Png,
    Jpeg,
    Webp,
}

impl Format {
    pub fn image_format(self) -> ImageFormat {
        match self {
            Format::Png => ImageFormat::Png,
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Webp => ImageFormat::WebP,
        }
    }
}

impl RenderArgs {
    /// The library's renderer for `--renderer`.
    pub fn renderer(&self) -> stills::Renderer {
        self.renderer.library()
    }

    /// The tolerances the mode flags ask for; `default` when none is given.
    pub fn tolerances(&self, default: (Time, Time)) -> (Time, Time) {
        if self.exact {
            (Time::ZERO, Time::ZERO)
        } else if self.keyframe {
            (Time::POSITIVE_INFINITY, Time::POSITIVE_INFINITY)
        } else if let Some(t) = self.tolerance {
            (t, t)
        } else if let (Some(b), Some(a)) = (self.before, self.after) {
            (b, a)
        } else {
            default
        }
    }

    /// The second stage of argument handling: the settings a generator
    /// takes. The tolerances were validated by their parsers, so the
    /// library accepts them.
    pub fn settings(
        &self,
        default_tolerances: (Time, Time),
        max_size: Option<Size>,
        backend: Backend,
        limits: &LimitArgs,
    ) -> GeneratorSettings {
        let mut s = GeneratorSettings::default();
        s.set_max_output_pixels(limits.max_output_pixels);
        s.set_max_request_bytes(limits.max_request_memory);
        let (before, after) = self.tolerances(default_tolerances);
        s.set_tolerance_before(before)
            .and_then(|()| s.set_tolerance_after(after))
            .expect("tolerance parsers accept only what the library does");
        if let Some(size) = max_size {
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
        s.set_deinterlace(match self.deinterlace {
            DeinterlaceArg::Auto => Deinterlace::Auto,
            DeinterlaceArg::Off => Deinterlace::Off,
        });
        s.set_backend(backend.preference());
        s.set_track(self.track);
        s
    }
}

/// A time as the user wrote it: seconds (`12.5`, `250ms`) or a clock time.
pub fn parse_time(s: &str) -> Result<Time, String> {
    s.trim().parse::<Time>().map_err(|e| e.to_string())
}

/// A grid step: a positive time (`1`, `0.5`, `250ms`).
pub fn parse_step(s: &str) -> Result<Time, String> {
    let t = parse_time(s)?;
    if t <= Time::ZERO {
        return Err("the step must be more than zero seconds".into());
    }
    Ok(t)
}

/// A rate in times a second (`1`, `0.5`, `29.97`, `30000/1001`), as the
/// step of its grid: exactly 1/R seconds.
pub fn parse_rate(s: &str) -> Result<Time, String> {
    let text = s.trim();
    let bad = || format!("'{text}' is not a rate such as 1, 0.5 or 30000/1001 a second");
    // R = num/den a second, so a step of den/num seconds.
    let (num, den): (i64, i64) = match text.split_once('/') {
        Some((n, d)) => (
            n.trim().parse().map_err(|_| bad())?,
            d.trim().parse().map_err(|_| bad())?,
        ),
        None => {
            let t: Time = text.parse().map_err(|_| bad())?;
            (t.value(), i64::from(t.timescale()))
        }
    };
    if num <= 0 || den <= 0 {
        return Err(format!("{} (it must be more than zero)", bad()));
    }
    let num = i32::try_from(num).map_err(|_| format!("{} (too fine a rate)", bad()))?;
    Ok(Time::new(den, num))
}

/// A tolerance: a time of zero or more seconds, or `inf`.
pub fn parse_tolerance(s: &str) -> Result<Time, String> {
    let text = s.trim();
    if ["inf", "infinity", "+inf", "∞"]
        .iter()
        .any(|w| text.eq_ignore_ascii_case(w))
    {
        return Ok(Time::POSITIVE_INFINITY);
    }
    let t = parse_time(text).map_err(|e| format!("{e} (a tolerance is seconds or `inf`)"))?;
    if t < Time::ZERO {
        return Err("a tolerance must be zero or more seconds, or `inf`".into());
    }
    Ok(t)
}

/// `WxH`, each side a whole number of pixels, 0 leaving that side free.
pub fn parse_size(s: &str) -> Result<Size, String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or("expected WIDTHxHEIGHT such as 320x0 (0 leaves a side free)")?;
    let side = |v: &str, name: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("the {name} '{v}' is not a whole number of pixels"))
    };
    Ok(Size {
        width: side(w, "width")?,
        height: side(h, "height")?,
    })
}

/// What opening a source and rendering its images may cost: the flags
/// every subcommand shares.
#[derive(clap::Args, Clone)]
pub struct LimitArgs {
    /// Seconds a network connect or read may wait before failing.
    #[arg(long, value_name = "S", default_value = "30", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// The most pixels a decoded picture may have: larger declared sizes
    /// are refused before decoding (default: 8192×8192).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_decoded_pixels)]
    pub max_decoded_pixels: u64,
    /// The most pixels an output image may have (default: 8192×8192).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_output_pixels)]
    pub max_output_pixels: u64,
    /// The most memory, in bytes, one request may hold: its decoded frame,
    /// the GPU buffers rendering it needs and its image (default: 5 GiB,
    /// enough for every real format up to 8192×8192).
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_request_bytes)]
    pub max_request_memory: u64,
}

impl LimitArgs {
    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            timeout: self.timeout,
            limits: Limits {
                max_decoded_pixels: self.max_decoded_pixels,
                max_output_pixels: self.max_output_pixels,
                max_request_bytes: self.max_request_memory,
            },
        }
    }
}

/// A timeout: a positive number of seconds.
fn parse_timeout(s: &str) -> Result<Duration, String> {
    let seconds: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= 1e9) {
        return Err("a timeout is more than 0 seconds".into());
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `RRGGBB` (a leading `#` allowed): an 8-bit sRGB colour.
pub fn parse_rgb(s: &str) -> Result<[u8; 3], String> {
    let hex = s.trim().trim_start_matches('#');
    let bad = || format!("'{s}' is not a colour written RRGGBB (000000 is black)");
    if hex.len() != 6 || !hex.is_ascii() {
        return Err(bad());
    }
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
    Ok([channel(0)?, channel(2)?, channel(4)?])
}

/// Whether `source` names a URL for FFmpeg's protocols rather than a path.
pub fn is_url(source: &str) -> bool {
    source.contains("://") || source.starts_with("file:")
}

/// Opens a path or a URL within the limits the flags set.
pub fn open(source: &str, limits: &LimitArgs) -> stills::Result<Asset> {
    let options = limits.open_options();
    if is_url(source) {
        Asset::open_url_with_options(source, &options)
    } else {
        Asset::open_with_options(PathBuf::from(source), &options)
    }
}

/// The name part of a source, without its extension, for output names:
/// `clip` for `/media/clip.mp4` or `https://host/v/clip.mp4?sig=…`.
pub fn stem(source: &str) -> String {
    let path = if is_url(source) {
        let no_query = source.split(['?', '#']).next().unwrap_or(source);
        no_query.rsplit('/').next().unwrap_or(no_query).to_string()
    } else {
        Path::new(source)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let stem = Path::new(&path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if stem.is_empty() {
        "image".into()
    } else {
        stem
    }
}

/// Writes `bytes` to `path` atomically (making its folder if needed): to a
/// temporary name in the same folder, then renamed, so an interrupted run never leaves a truncated
/// file under the final name.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(
        ".{name}.{}-{}.partial",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The backend an image was decoded with, and why better ones were passed
/// over, as JSON.
pub fn backend_json(choice: Option<&BackendChoice>) -> (Value, Value) {
    match choice {
        Some(c) => (
            json!(c.backend.name()),
            Value::Array(
                c.passed_over
                    .iter()
                    .map(|s| json!({ "backend": s.backend.name(), "reason": s.reason }))
                    .collect(),
            ),
        ),
        None => (Value::Null, json!([])),
    }
}

/// One line saying which backend decoded and why better ones were not
/// used, for stderr.
pub fn backend_note(choice: &BackendChoice) -> String {
    let mut line = format!("decoding with {}", choice.backend.name());
    if !choice.passed_over.is_empty() {
        let reasons: Vec<String> = choice
            .passed_over
            .iter()
            .map(|s| format!("{}: {}", s.backend.name(), s.reason))
            .collect();
        line.push_str(&format!(" (passed over {})", reasons.join("; ")));
    }
    line
}

/// A progress bar on stderr when it is a terminal and `quiet` is false;
/// otherwise one that draws nothing.
pub fn progress(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let style =
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed_precise} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}

/// Exact tick arithmetic on a track's timeline.
#[derive(Clone, Copy)]
pub struct Ticks {
    pub time_base: Ratio,
    /// The first shown frame and the end of the last one, in ticks.
    pub first: i64,
    pub end: i64,
}

impl Ticks {
    /// From the first shown frame and the track's end (as
    /// [`Asset::frame_span`] gives them, which on a track read on demand
    /// reads only its first and last groups of pictures).
    pub fn of((first, end): (Time, Time), time_base: Ratio) -> Option<Ticks> {
        let ticks = |t: Time| t.to_stream_ticks(time_base, RoundingMethod::RoundHalfAwayFromZero);
        Some(Ticks {
            time_base,
            first: ticks(first)?,
            end: ticks(end)?,
        })
    }

    pub fn time(&self, ticks: i64) -> Time {
        Time::from_stream_ticks(ticks, self.time_base).unwrap_or(Time::INVALID)
    }

    /// `count` times spread over the frames: first + span·(i + ½)/N.
    pub fn spread(&self, count: u32) -> Vec<Time> {
        let span = i128::from((self.end - self.first).max(0));
        (0..i128::from(count))
            .map(|i| {
                let offset = span * (2 * i + 1) / (2 * i128::from(count));
                self.time(self.first + offset as i64)
            })
            .collect()
    }
}

/// A time in whole milliseconds, rounded half away from zero.
pub fn millis(t: Time) -> i64 {
    let ms = Ratio::new(1, 1000).expect("1/1000 is a ratio");
    t.to_stream_ticks(ms, RoundingMethod::RoundHalfAwayFromZero)
        .unwrap_or(0)
}

/// `H:MM:SS.mmm` (hours only when there are any), as WebVTT and labels
/// write times.
pub fn clock(ms: i64, always_hours: bool) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    let (h, m, s, f) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if always_hours || h > 0 {
        format!("{sign}{h:02}:{m:02}:{s:02}.{f:03}")
    } else {
        format!("{sign}{m:02}:{s:02}.{f:03}")
    }
}

/// Peak resident memory of this process so far, from the kernel.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Starts counting peak memory afresh (Linux: `clear_refs` 5 resets
/// VmHWM), so each measured part reports its own peak.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Prints a usage error the way clap does and returns exit status 2.
pub fn usage_error(message: &str) -> std::process::ExitCode {
    eprintln!("error: {message}\n\nFor more information, try '--help'.");
    std::process::ExitCode::from(2)
}
