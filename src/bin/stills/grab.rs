//! `stills grab`: images at requested times from one or many sources, or
//! from one composition (`--composition FILE.json`), written as files, in
//! one process with one GPU context and worker pool.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use serde_json::json;
use stills::compose::{read_composition, CompositionGenerator};
use stills::{
    BackendChoice, Deinterlacer, Error, GeneratorPool, GeneratorSettings, ImageFormat,
    ImageGenerator, Outcome, Ratio, RenderedBy, Size, Time,
};

use crate::common::{self, Backend, Format, RenderArgs, Ticks};

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("times").required(true).args(["at", "count", "every", "fps"])))]
#[command(group(clap::ArgGroup::new("inputs").required(true).multiple(true).args(["files", "files_from", "composition"])))]
pub struct GrabArgs {
    /// Video files or URLs (http(s)://…, file:…).
    #[arg(value_name = "FILE")]
    files: Vec<String>,
    /// Also read sources from LIST, one path or URL a line (`-`: stdin).
    #[arg(long, value_name = "LIST")]
    files_from: Option<PathBuf>,
    /// Images of the composition FILE.json describes (its tracks drawn by
    /// its instructions; the README gives the form) instead of files.
    #[arg(long, value_name = "FILE.json", conflicts_with_all = ["files", "files_from", "track"])]
    composition: Option<PathBuf>,
    /// Times to grab: seconds (12.5, 250ms) or clock (1:02.5); comma-separated, repeatable.
    #[arg(long, value_name = "T", value_delimiter = ',', allow_hyphen_values = true, value_parser = common::parse_time)]
    at: Vec<Time>,
    /// N evenly spaced times per file: frame span × (i + 0.5) / N, from the first frame.
    #[arg(long, value_name = "N", conflicts_with = "at", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    count: Option<u32>,
    /// A time every S seconds from the first frame, before the track's end (`--every 0.5`).
    #[arg(long, value_name = "S", conflicts_with_all = ["at", "count"], allow_hyphen_values = true, value_parser = common::parse_step)]
    every: Option<Time>,
    /// R times a second from the first frame (`--fps 1`, `--fps 30000/1001`): steps of exactly 1/R s.
    #[arg(long, value_name = "R", conflicts_with_all = ["at", "count", "every"], allow_hyphen_values = true, value_parser = common::parse_rate)]
    fps: Option<Time>,
    #[command(flatten)]
    render: RenderArgs,
    #[command(flatten)]
    limits: common::LimitArgs,
    /// Fit inside W×H, never upscaling; 0 leaves a side free (320x0).
    #[arg(long, value_name = "WxH", value_parser = common::parse_size)]
    max_size: Option<Size>,
    #[arg(long, value_enum, default_value = "auto")]
    backend: Backend,
    /// Directory for the images.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "png")]
    format: Format,
    /// JPEG only (no alpha): the colour transparent video is composited on.
    /// PNG and WebP keep the alpha.
    #[arg(long, value_name = "RRGGBB", default_value = "000000", value_parser = common::parse_rgb)]
    background: [u8; 3],
    /// How many files are worked on at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    jobs: u32,
    /// One JSON line per (file, requested time), in completion order.
    #[arg(long)]
    json: bool,
}

/// What one requested time of one file came to.
struct Report {
    file: Arc<str>,
    /// Position among the file's requested times.
    request: usize,
    requested: Option<Time>,
    result: Result<Written, Failure>,
}

struct Written {
    actual: Time,
    path: PathBuf,
    size: (u32, u32),
    /// None for a composed image: its layers may have come from several.
    backend: Option<BackendChoice>,
    rendered_by: Option<RenderedBy>,
    deinterlaced: Option<Deinterlacer>,
}

struct Failure {
    message: String,
    /// The file as a whole failed (it could not be opened or indexed), so
    /// every one of its times carries the same message.
    whole_file: bool,
}

/// What every file's work needs.
struct Job {
    pool: GeneratorPool,
    /// Set by SIGINT or SIGTERM: no file is started after it, and the
    /// requests still pending are cancelled, so that every file written has
    /// its line and every line its file before the process exits.
    stop: Arc<AtomicBool>,
    settings: GeneratorSettings,
    times: Times,
    out: PathBuf,
    format: ImageFormat,
    limits: common::LimitArgs,
    bar: indicatif::ProgressBar,
    /// What JPEG composites an image with alpha on.
    background: [u8; 3],
}

#[derive(Clone)]
enum Times {
    At(Vec<Time>),
    Count(u32),
    /// A grid from the first frame with this step: how many times it holds
    /// is known once the file's timeline is.
    Every(Time),
}

/// The most times a grid may put on one file, as for `--count`.
const MOST_GRID_TIMES: usize = 1_000_000;

impl Times {
    /// How many times each file gets, when that is known before opening it.
    fn len(&self) -> Option<usize> {
        match self {
            Times::At(t) => Some(t.len()),
            Times::Count(n) => Some(*n as usize),
            Times::Every(_) => None,
        }
    }
}

pub fn run(args: GrabArgs) -> ExitCode {
    // A composition is one source, named by its JSON file.
    let sources = match &args.composition {
        Some(path) => vec![path.display().to_string()],
        None => match sources(&args.files, args.files_from.as_deref()) {
            Ok(s) if s.is_empty() => {
                return common::usage_error("no FILE given (the list was empty)")
            }
            Ok(s) => s,
            Err(e) => {
                eprintln!("stills: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let exact = (Time::ZERO, Time::ZERO);
    let settings = args
        .render
        .settings(exact, args.max_size, args.backend, &args.limits);
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("stills: {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    let times = match (args.count, args.every.or(args.fps)) {
        (Some(n), _) => Times::Count(n),
        (None, Some(step)) => Times::Every(step),
        (None, None) => Times::At(args.at.clone()),
    };
    let stop = match stop_on_signals() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("stills: cannot watch for SIGINT/SIGTERM: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A grid's length is added as each file's timeline is known.
    let per_file = times.len().unwrap_or(0);
    let bar = common::progress((sources.len() * per_file) as u64, "grab", args.json);
    let job = Arc::new(Job {
        bar: bar.clone(),
        stop: stop.clone(),
        pool: GeneratorPool::new().with_renderer(args.render.renderer()),
        settings,
        times,
        out: args.out.clone(),
        format: args.format.image_format(),
        limits: args.limits.clone(),
        background: args.background,
    });
    let stems = unique_stems(&sources);
    let files: Arc<Vec<(Arc<str>, String)>> = Arc::new(
        sources
            .into_iter()
            .map(Arc::from)
            .zip(stems)
            .collect::<Vec<_>>(),
    );
    let (tx, rx) = mpsc::channel();
    let next = Arc::new(AtomicUsize::new(0));
    let lanes = (args.jobs as usize).min(files.len());
    let mut threads = Vec::new();
    for _ in 0..lanes {
        let (job, files, next, tx) = (job.clone(), files.clone(), next.clone(), tx.clone());
        let composition = args.composition.clone();
        threads.push(std::thread::spawn(move || loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some((file, stem)) = files.get(i) else {
                break;
            };
            if job.stop.load(Ordering::Relaxed) {
                fail_all(&job, file, None, "cancelled".into(), &tx);
                continue;
            }
            match &composition {
                Some(path) => grab_composition(&job, file, stem, path, &tx),
                None => grab_file(&job, file, stem, &tx),
            }
        }));
    }
    drop(tx);
    let mut failed = false;
    let mut noted_backend = false;
    let mut said_whole_file: HashMap<Arc<str>, ()> = HashMap::new();
    let key = if args.composition.is_some() {
        "composition"
    } else {
        "file"
    };
    for report in rx {
        bar.inc(1);
        failed |= report.result.is_err();
        if args.json {
            bar.suspend(|| println!("{}", report_json(&report, key)));
            continue;
        }
        match &report.result {
            Ok(w) => {
                if let Some(backend) = w.backend.as_ref().filter(|b| !b.passed_over.is_empty()) {
                    if !noted_backend {
                        noted_backend = true;
                        bar.suspend(|| eprintln!("stills: {}", common::backend_note(backend)));
                    }
                }
                bar.suspend(|| {
                    println!(
                        "{}  {}x{}  frame at {}s (asked {}s)",
                        w.path.display(),
                        w.size.0,
                        w.size.1,
                        w.actual,
                        report.requested.map_or("?".into(), |t| t.to_string())
                    )
                });
            }
            Err(f) if f.whole_file => {
                if said_whole_file.insert(report.file.clone(), ()).is_none() {
                    bar.suspend(|| eprintln!("stills: {}", f.message));
                }
            }
            Err(f) => {
                let at = report.requested.map_or("?".into(), |t| t.to_string());
                bar.suspend(|| eprintln!("stills: {}@{at}: {}", report.file, f.message));
            }
        }
    }
    bar.finish_and_clear();
    for t in threads {
        let _ = t.join();
    }
    if stop.load(Ordering::Relaxed) {
        // 128 + SIGTERM/SIGINT's usual status, after a clean finish.
        return ExitCode::from(130);
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// One `--json` line; `key` names the source: `file`, or `composition`
/// for a composition's JSON file.
fn report_json(report: &Report, key: &str) -> serde_json::Value {
    let requested = report.requested.map(Time::seconds);
    let mut line = match &report.result {
        Ok(w) => {
            let (backend, passed_over) = common::backend_json(w.backend.as_ref());
            json!({
                "file": &*report.file,
                "request": report.request,
                "requested": requested,
                "actual": w.actual.seconds(),
                "path": w.path.display().to_string(),
                "width": w.size.0,
                "height": w.size.1,
                "backend": backend,
                "passed_over": passed_over,
                "renderer": w.rendered_by.map(RenderedBy::name),
                "deinterlaced": w.deinterlaced.map(Deinterlacer::name),
                "error": null,
            })
        }
        Err(f) => json!({
            "file": &*report.file,
            "request": report.request,
            "requested": requested,
            "actual": null,
            "path": null,
            "width": 0,
            "height": 0,
            "backend": null,
            "passed_over": [],
            "renderer": null,
            "deinterlaced": null,
            "error": f.message,
        }),
    };
    if key != "file" {
        if let Some(line) = line.as_object_mut() {
            if let Some(source) = line.remove("file") {
                line.insert(key.to_string(), source);
            }
        }
    }
    line
}

/// The sources named on the command line, then those of the list, each
/// once, in order.
fn sources(files: &[String], list: Option<&Path>) -> Result<Vec<String>, String> {
    let mut all: Vec<String> = files.to_vec();
    if let Some(list) = list {
        let lines: Vec<String> = if list == Path::new("-") {
            std::io::stdin()
                .lock()
                .lines()
                .collect::<Result<_, _>>()
                .map_err(|e| format!("--files-from -: reading stdin: {e}"))?
        } else {
            std::fs::read_to_string(list)
                .map_err(|e| format!("--files-from {}: {e}", list.display()))?
                .lines()
                .map(str::to_string)
                .collect()
        };
        all.extend(
            lines
                .into_iter()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty()),
        );
    }
    let mut seen = std::collections::HashSet::new();
    all.retain(|s| seen.insert(s.clone()));
    Ok(all)
}

/// One output stem per source: its file name without extension; sources
/// whose stems are equal (`a/clip.mp4`, `b/clip.mp4`) get `-2`, `-3`… after
/// the first, in input order, so no two sources share a file name.
fn unique_stems(sources: &[String]) -> Vec<String> {
    let mut used: HashMap<String, usize> = HashMap::new();
    sources
        .iter()
        .map(|s| {
            let stem = common::stem(s);
            let n = used.entry(stem.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                stem
            } else {
                format!("{stem}-{n}")
            }
        })
        .collect()
}

/// The file name of each requested time: `{stem}_{ms}.{ext}`, the time in
/// whole milliseconds (rounded half away from zero). Different times that
/// round to the same millisecond get `-2`, `-3`… after the earliest, in
/// time order, so two different times never share a file; the same time
/// asked twice shares one.
pub fn names(stem: &str, times: &[Time], extension: &str) -> Vec<String> {
    let mut by_ms: BTreeMap<i64, Vec<Time>> = BTreeMap::new();
    for &t in times {
        let group = by_ms.entry(common::millis(t)).or_default();
        if !group.contains(&t) {
            group.push(t);
        }
    }
    for group in by_ms.values_mut() {
        group.sort();
    }
    times
        .iter()
        .map(|&t| {
            let ms = common::millis(t);
            let rank = by_ms[&ms].iter().position(|&u| u == t).unwrap_or(0);
            if rank == 0 {
                format!("{stem}_{ms}.{extension}")
            } else {
                format!("{stem}_{ms}-{}.{extension}", rank + 1)
            }
        })
        .collect()
}

/// A flag set by the first SIGINT or SIGTERM; a second one ends the
/// process at once (the user insists).
fn stop_on_signals() -> std::io::Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 130, stop.clone())?;
        signal_hook::flag::register(signal, stop.clone())?;
    }
    Ok(stop)
}

/// Reports every requested time of `file` as failed with `message` (one
/// report for a grid whose times the file never gave).
fn fail_all(
    job: &Job,
    file: &Arc<str>,
    times: Option<&[Time]>,
    message: String,
    tx: &mpsc::Sender<Report>,
) {
    let reports = times.map_or(job.times.len().unwrap_or(1), <[Time]>::len);
    if job.times.len().is_none() {
        job.bar.inc_length(reports as u64);
    }
    for request in 0..reports {
        let _ = tx.send(Report {
            file: file.clone(),
            request,
            requested: times.map(|t| t[request]),
            result: Err(Failure {
                message: message.clone(),
                whole_file: true,
            }),
        });
    }
}

/// Opens one source, asks for its times on the shared pool and sends one
/// report per requested time.
fn grab_file(job: &Job, file: &Arc<str>, stem: &str, tx: &mpsc::Sender<Report>) {
    let fail_all =
        |times: Option<&[Time]>, message: String| fail_all(job, file, times, message, tx);
    let known = match &job.times {
        Times::At(t) => Some(t.as_slice()),
        Times::Count(_) | Times::Every(_) => None,
    };
    let asset = match common::open(file, &job.limits) {
        Ok(a) => a,
        Err(e) => return fail_all(known, e.to_string()),
    };
    // Problems with the file as a whole are found here, once, not per time;
    // the span reads no more of a track read on demand than its ends.
    let span = asset.image_track(job.settings.track()).and_then(|track| {
        let tb = track.time_base;
        asset.frame_span(track).map(|span| (span, tb))
    });
    let times = match (&job.times, span) {
        (_, Err(e)) => return fail_all(known, e.to_string()),
        (Times::At(t), Ok(_)) => t.clone(),
        (Times::Count(_) | Times::Every(_), Ok((Some(span), tb))) => {
            match spread(job, file, span, tb) {
                Ok(times) => times,
                Err(message) => return fail_all(None, message),
            }
        }
        (Times::Count(_) | Times::Every(_), Ok((None, _))) => {
            return fail_all(None, format!("{file}: the video track has no frames"))
        }
    };
    let generator = ImageGenerator::with_pool(asset, &job.pool);
    generator.configure(|s| *s = job.settings.clone());
    let (done_tx, done_rx) = mpsc::channel();
    generator.generate_images(
        times.clone(),
        writer(job, file, stem, &times, false, done_tx),
    );
    forward(job, times.len(), || generator.cancel_all(), &done_rx, tx);
}

/// Reads the composition at `path`, asks for its times on the shared pool
/// and sends one report per requested time, as `grab_file` does for a file;
/// `--count` and `--every` spread over the composition from 0 to its end.
fn grab_composition(
    job: &Job,
    file: &Arc<str>,
    stem: &str,
    path: &Path,
    tx: &mpsc::Sender<Report>,
) {
    let known = match &job.times {
        Times::At(t) => Some(t.as_slice()),
        Times::Count(_) | Times::Every(_) => None,
    };
    let generator =
        read_composition(path, &job.limits.open_options()).and_then(|(composition, video)| {
            CompositionGenerator::with_pool(composition, video, &job.pool)
        });
    let generator = match generator {
        Ok(g) => g,
        // The JSON file itself could not be read: the error names it.
        Err(e) if matches!(&e, Error::Io { path: p, .. } if p == path) => {
            return fail_all(job, file, known, e.to_string(), tx)
        }
        Err(e) => return fail_all(job, file, known, format!("{file}: {e}"), tx),
    };
    let duration = generator.composition().duration();
    let times = match &job.times {
        Times::At(t) => t.clone(),
        _ => {
            let span = (Time::ZERO, duration);
            let grid = Ratio::new(1, i64::from(duration.timescale()))
                .filter(|_| duration > Time::ZERO)
                .ok_or_else(|| format!("{file}: the composition is empty"))
                .and_then(|tick| spread(job, file, span, tick));
            match grid {
                Ok(times) => times,
                Err(message) => return fail_all(job, file, None, message, tx),
            }
        }
    };
    generator.configure(|s| *s = job.settings.clone());
    let (done_tx, done_rx) = mpsc::channel();
    generator.generate_images(
        times.clone(),
        writer(job, file, stem, &times, true, done_tx),
    );
    forward(job, times.len(), || generator.cancel_all(), &done_rx, tx);
}

/// The times `--count` or `--every`/`--fps` put on a span (first frame,
/// end) counted in ticks of `time_base`.
fn spread(
    job: &Job,
    file: &str,
    (first, end): (Time, Time),
    time_base: Ratio,
) -> Result<Vec<Time>, String> {
    match &job.times {
        Times::At(t) => Ok(t.clone()),
        Times::Count(n) => Ticks::of((first, end), time_base)
            .map(|ticks| ticks.spread(*n))
            .ok_or_else(|| format!("{file}: the timeline overflows")),
        Times::Every(step) => match Time::grid(first, end, *step) {
            Some(grid) if grid.len() <= MOST_GRID_TIMES => {
                job.bar.inc_length(grid.len() as u64);
                Ok(grid.collect())
            }
            _ => Err(format!(
                "{file}: a time every {step}s from {first}s to {end}s is more than {MOST_GRID_TIMES} times"
            )),
        },
    }
}

/// The handler of one source's outcomes, which sends one report per
/// outcome to `done`. Outcomes arrive one at a time (a generator delivers a
/// batch's outcomes in turn); each time's first delivery encodes and writes
/// its file under its name (`names`), and a duplicate reuses what that
/// write came to. An image of a file names its backend; a `composed` one
/// has none (its layers may have come from several).
fn writer(
    job: &Job,
    file: &Arc<str>,
    stem: &str,
    times: &[Time],
    composed: bool,
    done: mpsc::Sender<Report>,
) -> impl FnMut(Time, Outcome) + Send + 'static {
    let names = names(stem, times, job.format.extension());
    let mut positions: HashMap<Time, Vec<usize>> = HashMap::new();
    for (i, &t) in times.iter().enumerate() {
        positions.entry(t).or_default().push(i);
    }
    let mut written: HashMap<String, Result<(), String>> = HashMap::new();
    let (out, format, background) = (job.out.clone(), job.format, job.background);
    let file_name = file.clone();
    let mut next_of: HashMap<Time, usize> = HashMap::new();
    move |requested, outcome| {
        let k = next_of.entry(requested).or_insert(0);
        let request = positions[&requested][(*k).min(positions[&requested].len() - 1)];
        *k += 1;
        let name = &names[request];
        let result = match outcome {
            Outcome::Succeeded { image, actual_time } => {
                let path = out.join(name);
                let saved = written
                    .entry(name.clone())
                    .or_insert_with(|| {
                        image
                            .encode_on(format, background)
                            .map_err(|e| e.to_string())
                            .and_then(|bytes| {
                                common::write_atomic(&path, &bytes)
                                    .map_err(|e| format!("{}: {e}", path.display()))
                            })
                    })
                    .clone();
                match (saved, image.backend()) {
                    (Ok(()), backend) if backend.is_some() || composed => Ok(Written {
                        actual: actual_time,
                        path,
                        size: (image.width(), image.height()),
                        backend: backend.cloned(),
                        rendered_by: image.rendered_by(),
                        deinterlaced: image.deinterlaced(),
                    }),
                    (Ok(()), _) => Err("the image names no backend".to_string()),
                    (Err(e), _) => Err(e),
                }
            }
            Outcome::Failed(e) => Err(e.to_string()),
            Outcome::Cancelled => Err("cancelled".into()),
        };
        let _ = done.send(Report {
            file: file_name.clone(),
            request,
            requested: Some(requested),
            result: result.map_err(|message| Failure {
                message,
                whole_file: false,
            }),
        });
    }
}

/// Passes a source's `left` reports from `done` on to `tx`; once SIGINT or
/// SIGTERM asked to stop, `cancel`s its pending requests (they arrive as
/// cancelled outcomes, each still reported).
fn forward(
    job: &Job,
    mut left: usize,
    cancel: impl Fn(),
    done: &mpsc::Receiver<Report>,
    tx: &mpsc::Sender<Report>,
) {
    let mut cancelled = false;
    while left > 0 {
        if !cancelled && job.stop.load(Ordering::Relaxed) {
            cancelled = true;
            cancel();
        }
        match done.recv_timeout(Duration::from_millis(50)) {
            Ok(report) => {
                left -= 1;
                let _ = tx.send(report);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Time {
        s.parse().unwrap()
    }

    #[test]
    fn distinct_times_in_one_millisecond_get_distinct_names() {
        let times = [t("0.5204"), t("0.5196"), t("0.5204"), t("1")];
        assert_eq!(
            names("clip", &times, "png"),
            [
                "clip_520-2.png",
                "clip_520.png",
                "clip_520-2.png",
                "clip_1000.png"
            ]
        );
    }

    #[test]
    fn rates_are_the_exact_steps_of_their_grids() {
        use crate::common::{parse_rate, parse_step};
        assert_eq!(parse_rate("30000/1001"), Ok(Time::new(1001, 30_000)));
        assert_eq!(parse_rate("29.97"), Ok(Time::new(100, 2997)));
        assert_eq!(parse_rate("0.5"), Ok(t("2")));
        assert_eq!(parse_rate(" 1 "), Ok(t("1")));
        for bad in ["0", "-1", "1/0", "x", "3000000000/1", ""] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_step("250ms"), Ok(t("0.25")));
        assert!(parse_step("0").is_err() && parse_step("-1").is_err());
    }

    #[test]
    fn equal_stems_of_different_sources_are_numbered() {
        let sources = [
            "a/clip.mp4",
            "b/clip.mp4",
            "http://h/x/clip.mov?s=1",
            "c.mp4",
        ]
        .map(String::from);
        assert_eq!(unique_stems(&sources), ["clip", "clip-2", "clip-3", "c"]);
    }
}
