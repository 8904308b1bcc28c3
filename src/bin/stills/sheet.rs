//! `stills sheet`: a contact sheet (or trickplay sprites) of a video, with
//! optional time labels and a WebVTT file that maps each time range to its
//! tile.
//!
//! Labels are drawn on the CPU with the `font8x8` glyphs, on the sheet
//! after the tiles are read back: the sheet is composed on the CPU anyway,
//! a label is a few hundred pixels, and text is the CLI's business, not the
//! GPU pipeline's (which stays one fused pass per frame, unchanged).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;

use serde_json::json;
use stills::{
    ColorSpace, Deinterlacer, GeneratorPool, Image, ImageFormat, ImageGenerator, Outcome,
    PixelFormat, RenderedBy, Size, Time,
};

use crate::common::{self, Backend, DynamicRange, RenderArgs, Ticks};

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("spacing").required(true).args(["count", "every"])))]
pub struct SheetArgs {
    /// The video file or URL.
    file: String,
    /// N tiles: tile i shows the middle of the i-th of N equal parts of the track.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    count: Option<u32>,
    /// A tile every S seconds: tile i shows the frame at first frame + i·S.
    #[arg(long, value_name = "S", value_parser = common::parse_step)]
    every: Option<Time>,
    /// Tiles per row.
    #[arg(long, value_name = "C", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    columns: u32,
    /// At most R rows per sheet; more tiles go on further sheets (default: as many as the image format allows).
    #[arg(long, value_name = "R", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    rows: Option<u32>,
    /// Each tile's box: the frame is fitted inside W×H; 0 leaves a side free.
    #[arg(long, value_name = "WxH", default_value = "320x0", value_parser = common::parse_size)]
    tile: Size,
    /// Draw each tile's frame time on it.
    #[arg(long)]
    labels: bool,
    #[command(flatten)]
    render: RenderArgs,
    #[command(flatten)]
    limits: common::LimitArgs,
    #[arg(long, value_enum, default_value = "auto")]
    backend: Backend,
    /// The sheet image (.jpg, .png or .webp). Several sheets are FILE's name with -1, -2… before the extension.
    #[arg(short, long, value_name = "FILE")]
    out: PathBuf,
    /// Also write a WebVTT file mapping each time range to its tile (sheet.jpg#xywh=x,y,w,h).
    #[arg(long, value_name = "FILE")]
    vtt: Option<PathBuf>,
    /// One JSON line per tile.
    #[arg(long)]
    json: bool,
}

/// One tile: the time it asks for and the timeline range it stands for.
struct Tile {
    time: Time,
    /// The range in whole milliseconds, for the WebVTT cue.
    cue: (i64, i64),
}

/// Where one tile's image went.
struct Placed {
    sheet: usize,
    rect: (u32, u32, u32, u32),
}

/// The largest side each format writes (JPEG's 16-bit header fields,
/// WebP's 14-bit ones; PNG is held to JPEG's for viewers' sake).
fn side_limit(format: ImageFormat) -> u32 {
    match format {
        ImageFormat::WebP => 16_383,
        _ => 65_535,
    }
}

fn format_of(path: &Path) -> Option<ImageFormat> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => Some(ImageFormat::Jpeg),
        "png" => Some(ImageFormat::Png),
        "webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

pub fn run(args: SheetArgs) -> ExitCode {
    let Some(format) = format_of(&args.out) else {
        return common::usage_error(&format!(
            "invalid value '{}' for '--out <FILE>': the sheet's name must end in .jpg, .png or .webp",
            args.out.display()
        ));
    };
    if args.tile.width == 0 && args.tile.height == 0 {
        return common::usage_error(
            "invalid value '0x0' for '--tile <WxH>': give a width or a height",
        );
    }
    if let DynamicRange::Source = args.render.dynamic_range {
        return common::usage_error(
            "'--dynamic-range source' does not apply to sheets: they are 8-bit SDR images",
        );
    }
    let pool = GeneratorPool::new().with_renderer(args.render.renderer());
    let exact = (Time::ZERO, Time::ZERO);
    let settings = args
        .render
        .settings(exact, Some(args.tile), args.backend, &args.limits);
    let asset = match common::open(&args.file, &args.limits) {
        Ok(a) => a,
        Err(e) => return whole_file_failure(&args, &e.to_string()),
    };
    let span = asset.image_track(settings.track()).and_then(|track| {
        let tb = track.time_base;
        asset.frame_span(track).map(|span| (span, tb))
    });
    let ticks = match span {
        Ok((Some(span), tb)) => match Ticks::of(span, tb) {
            Some(t) => t,
            None => return whole_file_failure(&args, "the timeline overflows"),
        },
        Ok((None, _)) => {
            return whole_file_failure(
                &args,
                &format!("{}: the video track has no frames", args.file),
            )
        }
        Err(e) => return whole_file_failure(&args, &e.to_string()),
    };
    let tiles = match (args.count, args.every) {
        (Some(n), _) => tiles_by_count(&ticks, n),
        (None, Some(every)) => match tiles_every(&ticks, every) {
            Ok(t) => t,
            Err(e) => return common::usage_error(&e),
        },
        (None, None) => unreachable!("clap requires --count or --every"),
    };
    let generator = ImageGenerator::with_pool(asset, &pool);
    generator.configure(|s| *s = settings);
    let bar = common::progress(tiles.len() as u64, "sheet", args.json);
    let (tx, rx) = mpsc::channel();
    let times: Vec<Time> = tiles.iter().map(|t| t.time).collect();
    generator.generate_images(times.clone(), move |requested, outcome| {
        let _ = tx.send((requested, outcome));
    });
    let mut results: Vec<Option<Result<(Image, Time), String>>> =
        (0..tiles.len()).map(|_| None).collect();
    for (requested, outcome) in rx.iter().take(tiles.len()) {
        bar.inc(1);
        let result = match outcome {
            Outcome::Succeeded { image, actual_time } => Ok((image, actual_time)),
            Outcome::Failed(e) => Err(e.to_string()),
            Outcome::Cancelled => Err("cancelled".into()),
        };
        // Tile times are distinct, so each outcome has one slot.
        if let Some(slot) = times
            .iter()
            .zip(&results)
            .position(|(&t, r)| t == requested && r.is_none())
        {
            results[slot] = Some(result);
        }
    }
    bar.finish_and_clear();
    let results: Vec<Result<(Image, Time), String>> = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("no outcome".into())))
        .collect();
    let Some(cell) = cell_size(args.tile, &results) else {
        let first = results.iter().find_map(|r| r.as_ref().err());
        eprintln!(
            "stills: {}: no tile could be made: {}",
            args.file,
            first.map_or("", String::as_str)
        );
        return ExitCode::FAILURE;
    };
    let limit = side_limit(format);
    let columns = args.columns.min(tiles.len() as u32).max(1);
    if u64::from(columns) * u64::from(cell.0) > u64::from(limit) {
        return common::usage_error(&format!(
            "{columns} columns of {}-pixel tiles are wider than a {} image can be ({limit} pixels): use fewer --columns or a smaller --tile",
            cell.0,
            format.extension()
        ));
    }
    let fit_rows = (limit / cell.1.max(1)).max(1);
    let rows = args.rows.unwrap_or(fit_rows).min(fit_rows);
    let per_sheet = (columns * rows) as usize;
    let sheet_count = tiles.len().div_ceil(per_sheet);
    let paths: Vec<PathBuf> = (0..sheet_count)
        .map(|k| sheet_path(&args.out, k, sheet_count))
        .collect();
    let long = ticks.time(ticks.end) >= Time::new(3600, 1);
    let mut placed = Vec::with_capacity(tiles.len());
    let mut failed = false;
    for (k, path) in paths.iter().enumerate() {
        let first = k * per_sheet;
        let last = (first + per_sheet).min(tiles.len());
        let sheet_rows = (last - first).div_ceil(columns as usize) as u32;
        let (width, height) = (columns * cell.0, sheet_rows * cell.1);
        let mut canvas = vec![0u8; width as usize * height as usize * 4];
        for (i, result) in results.iter().enumerate().take(last).skip(first) {
            let slot = (i - first) as u32;
            let (cx, cy) = ((slot % columns) * cell.0, (slot / columns) * cell.1);
            let rect = match result {
                Ok((image, actual)) => {
                    let (w, h) = (image.width().min(cell.0), image.height().min(cell.1));
                    let (x, y) = (cx + (cell.0 - w) / 2, cy + (cell.1 - h) / 2);
                    blit(&mut canvas, width, image, (x, y, w, h));
                    if args.labels {
                        let text = common::clock(common::millis(*actual), long);
                        draw_label(&mut canvas, width, (x, y, w, h), &text);
                    }
                    (x, y, w, h)
                }
                Err(_) => (cx, cy, cell.0, cell.1),
            };
            placed.push(Placed { sheet: k, rect });
        }
        let sheet = Image::new(
            width,
            height,
            width as usize * 4,
            PixelFormat::Rgba8,
            ColorSpace::SRGB,
            canvas,
        );
        let written = sheet
            .ok_or_else(|| "the sheet is empty".to_string())
            .and_then(|s| s.encode(format).map_err(|e| e.to_string()))
            .and_then(|bytes| common::write_atomic(path, &bytes).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("stills: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        if !args.json {
            println!(
                "{}  {}x{} tiles of {}x{}",
                path.display(),
                columns,
                sheet_rows,
                cell.0,
                cell.1
            );
        }
    }
    if let Some(vtt) = &args.vtt {
        let text = webvtt(&tiles, &placed, &paths, vtt);
        if let Err(e) = common::write_atomic(vtt, text.as_bytes()) {
            eprintln!("stills: {}: {e}", vtt.display());
            return ExitCode::FAILURE;
        }
        if !args.json {
            println!("{}  {} cues", vtt.display(), tiles.len());
        }
    }
    let mut noted = false;
    for (i, (result, place)) in results.iter().zip(&placed).enumerate() {
        let (x, y, w, h) = place.rect;
        match result {
            Ok((image, actual)) => {
                if args.json {
                    let (backend, passed_over) = common::backend_json(image.backend());
                    println!(
                        "{}",
                        json!({
                            "file": args.file, "tile": i, "requested": tiles[i].time.seconds(),
                            "actual": actual.seconds(), "sheet": paths[place.sheet].display().to_string(),
                            "x": x, "y": y, "width": w, "height": h,
                            "backend": backend, "passed_over": passed_over,
                            "renderer": image.rendered_by().map(RenderedBy::name),
                            "deinterlaced": image.deinterlaced().map(Deinterlacer::name), "error": null,
                        })
                    );
                } else if let Some(choice) = image
                    .backend()
                    .filter(|c| !noted && !c.passed_over.is_empty())
                {
                    noted = true;
                    eprintln!("stills: {}", common::backend_note(choice));
                }
            }
            Err(e) => {
                failed = true;
                if args.json {
                    println!(
                        "{}",
                        json!({
                            "file": args.file, "tile": i, "requested": tiles[i].time.seconds(),
                            "actual": null, "sheet": paths[place.sheet].display().to_string(),
                            "x": x, "y": y, "width": w, "height": h,
                            "backend": null, "passed_over": [], "error": e,
                        })
                    );
                } else {
                    eprintln!("stills: {}@{}: {e}", args.file, tiles[i].time);
                }
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Reports a file that could not be opened or indexed: one JSON line per
/// tile when their number is known (`--count`), else one.
fn whole_file_failure(args: &SheetArgs, message: &str) -> ExitCode {
    if args.json {
        let lines = args.count.unwrap_or(1);
        for i in 0..lines {
            let tile = args.count.map(|_| i);
            println!(
                "{}",
                json!({
                    "file": args.file, "tile": tile, "requested": null, "actual": null,
                    "sheet": null, "x": 0, "y": 0, "width": 0, "height": 0,
                    "backend": null, "passed_over": [], "error": message,
                })
            );
        }
    } else {
        eprintln!("stills: {message}");
    }
    ExitCode::FAILURE
}

/// `count` tiles: tile i covers [first + span·i/N, first + span·(i+1)/N)
/// and shows that range's middle. The first cue starts at 0 and the last
/// ends where the track does, so the cues cover the whole timeline.
fn tiles_by_count(ticks: &Ticks, count: u32) -> Vec<Tile> {
    let span = i128::from((ticks.end - ticks.first).max(0));
    let n = i128::from(count);
    let bound = |i: i128| ticks.first + (span * i / n) as i64;
    let times = ticks.spread(count);
    (0..n)
        .zip(times)
        .map(|(i, time)| Tile {
            time,
            cue: (
                cue_ms(ticks, bound(i), i == 0),
                cue_ms(ticks, bound(i + 1), false),
            ),
        })
        .collect()
}

/// A tile every `every` from the first frame while it is before the end.
fn tiles_every(ticks: &Ticks, every: Time) -> Result<Vec<Tile>, String> {
    const MAX_TILES: usize = 100_000;
    let (first, end) = (ticks.time(ticks.first), ticks.time(ticks.end));
    let starts: Vec<Time> = match Time::grid(first, end, every) {
        Some(grid) if grid.len() <= MAX_TILES => grid.collect(),
        _ => {
            return Err(format!(
                "invalid value '{every}' for '--every <S>': more than {MAX_TILES} tiles"
            ))
        }
    };
    let end_ms = common::millis(end);
    Ok(starts
        .iter()
        .enumerate()
        .map(|(i, &time)| Tile {
            time,
            cue: (
                if i == 0 { 0 } else { common::millis(time) },
                starts
                    .get(i + 1)
                    .map_or(end_ms, |&next| common::millis(next)),
            ),
        })
        .collect())
}

fn cue_ms(ticks: &Ticks, at: i64, from_zero: bool) -> i64 {
    if from_zero {
        0
    } else {
        common::millis(ticks.time(at))
    }
}

/// The cell every tile gets: the box when both sides are given, else the
/// largest image (all of one track's are the same size).
fn cell_size(tile: Size, results: &[Result<(Image, Time), String>]) -> Option<(u32, u32)> {
    let images = || results.iter().filter_map(|r| r.as_ref().ok());
    let widest = images().map(|(i, _)| i.width()).max()?;
    let tallest = images().map(|(i, _)| i.height()).max()?;
    Some(match (tile.width, tile.height) {
        (0, _) | (_, 0) => (widest, tallest),
        (w, h) => (w, h),
    })
}

/// The path of sheet `k` of `count`: `out` itself when there is one.
fn sheet_path(out: &Path, k: usize, count: usize) -> PathBuf {
    if count == 1 {
        return out.to_path_buf();
    }
    let stem = out.file_stem().unwrap_or_default().to_string_lossy();
    let ext = out.extension().unwrap_or_default().to_string_lossy();
    out.with_file_name(format!("{stem}-{}.{ext}", k + 1))
}

/// Copies `image` into the canvas at `rect` (the top-left `w×h` of it).
/// Sheets are rendered SDR, so every tile is 8-bit RGBA.
fn blit(canvas: &mut [u8], canvas_width: u32, image: &Image, rect: (u32, u32, u32, u32)) {
    if image.pixel_format() != PixelFormat::Rgba8 {
        return;
    }
    let (x0, y0, w, h) = rect;
    let (src, stride) = (image.data(), image.stride());
    let row_bytes = w as usize * 4;
    for y in 0..h as usize {
        let from = &src[y * stride..y * stride + row_bytes];
        let at = ((y0 as usize + y) * canvas_width as usize + x0 as usize) * 4;
        canvas[at..at + row_bytes].copy_from_slice(from);
    }
}

/// Draws `text` in white on a dark band at the bottom left of `rect`.
fn draw_label(canvas: &mut [u8], canvas_width: u32, rect: (u32, u32, u32, u32), text: &str) {
    let (x0, y0, w, h) = rect;
    let scale = (w / 160).clamp(1, 4);
    let glyph = 8 * scale;
    let pad = 2 * scale;
    let text_w = text.len() as u32 * glyph;
    let (bw, bh) = ((text_w + 2 * pad).min(w), (glyph + 2 * pad).min(h));
    let (bx, by) = (x0, y0 + h - bh);
    let mut put = |x: u32, y: u32, f: &dyn Fn(&mut [u8])| {
        let at = (y as usize * canvas_width as usize + x as usize) * 4;
        f(&mut canvas[at..at + 4]);
    };
    for y in by..by + bh {
        for x in bx..bx + bw {
            // Darken to 35 %: the label reads on white frames too.
            put(x, y, &|p: &mut [u8]| {
                for c in &mut p[..3] {
                    *c = (u16::from(*c) * 35 / 100) as u8;
                }
            });
        }
    }
    for (i, ch) in text.bytes().enumerate() {
        let bits = font8x8::legacy::BASIC_LEGACY
            .get(usize::from(ch))
            .copied()
            .unwrap_or([0; 8]);
        for (row, byte) in bits.iter().enumerate() {
            for col in 0..8u32 {
                if byte & (1 << col) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let x = bx + pad + i as u32 * glyph + col * scale + dx;
                        let y = by + pad + row as u32 * scale + dy;
                        if x < bx + bw && y < by + bh {
                            put(x, y, &|p: &mut [u8]| p[..3].fill(255));
                        }
                    }
                }
            }
        }
    }
}

/// The WebVTT text: one cue per tile, `start --> end` then the sheet's
/// path relative to the VTT file's folder with the tile's rectangle.
fn webvtt(tiles: &[Tile], placed: &[Placed], sheets: &[PathBuf], vtt: &Path) -> String {
    let refs: Vec<String> = sheets.iter().map(|s| relative_to(s, vtt)).collect();
    let mut text = String::from("WEBVTT\n");
    for (tile, place) in tiles.iter().zip(placed) {
        let (x, y, w, h) = place.rect;
        text.push_str(&format!(
            "\n{} --> {}\n{}#xywh={x},{y},{w},{h}\n",
            common::clock(tile.cue.0, true),
            common::clock(tile.cue.1, true),
            refs[place.sheet]
        ));
    }
    text
}

/// `target` as the VTT file at `from` should name it: relative to its
/// folder when inside it, else absolute.
fn relative_to(target: &Path, from: &Path) -> String {
    let abs = |p: &Path| {
        let parent = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        parent
            .canonicalize()
            .map(|d| d.join(p.file_name().unwrap_or_default()))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    let (target, from) = (abs(target), abs(from));
    let dir = from.parent().unwrap_or(Path::new("/"));
    match target.strip_prefix(dir) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => target.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stills::Ratio;

    fn ticks(first: i64, end: i64) -> Ticks {
        Ticks {
            time_base: Ratio::new(1, 1000).unwrap(),
            first,
            end,
        }
    }

    #[test]
    fn count_cues_cover_the_timeline_without_gaps() {
        let tiles = tiles_by_count(&ticks(40, 2000), 3);
        let cues: Vec<_> = tiles.iter().map(|t| t.cue).collect();
        assert_eq!(cues, [(0, 693), (693, 1346), (1346, 2000)]);
        let ms: Vec<_> = tiles.iter().map(|t| common::millis(t.time)).collect();
        assert_eq!(ms, [366, 1020, 1673]);
    }

    #[test]
    fn every_cues_end_with_the_track() {
        let tiles = tiles_every(&ticks(0, 2000), Time::new(3, 4)).unwrap();
        let cues: Vec<_> = tiles.iter().map(|t| t.cue).collect();
        assert_eq!(cues, [(0, 750), (750, 1500), (1500, 2000)]);
    }

    #[test]
    fn several_sheets_are_numbered() {
        let out = Path::new("out/sheet.jpg");
        assert_eq!(sheet_path(out, 0, 1), out);
        assert_eq!(sheet_path(out, 1, 3), Path::new("out/sheet-2.jpg"));
    }
}
