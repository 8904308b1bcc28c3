//! The one reader of `tests/fixtures/README.md`, the facts `describe.py`
//! records about each fixture from ffprobe, the MP4 boxes and the codes
//! read out of FFmpeg's decode. Reading them at test time, rather than
//! copying their numbers into the tests, keeps the tests true when
//! `make.sh` regenerates the fixtures.
//!
//! Each fixture has a section headed ``### `name` ``. Its per-stream lines
//! (time base, packet list, shown frames, tkhd matrix) repeat once per
//! video stream in stream order, so the n-th line with a given prefix
//! belongs to the n-th video stream. Times are as the README lists them:
//! ticks of the stream's time base, before any container start is taken
//! off.

use std::path::PathBuf;
use std::sync::OnceLock;

use stills::asset::geometry::Orientation;

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn fixture_path(name: &str) -> PathBuf {
    fixtures_dir().join(name)
}

/// One packet of a stream, as its decode-order list gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    pub code: u32,
    pub pts: i64,
    pub sync: bool,
    /// FFmpeg's discard flag: decoded as a reference, never shown.
    pub discard: bool,
}

/// A shown frame, as the presentation list gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub code: u32,
    pub pts: i64,
}

/// What the `container:` line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainerLine {
    /// FFmpeg's demuxer name, e.g. `mpegts`.
    pub format: &'static str,
    /// ffprobe's format `start_time` and `duration`, in microseconds.
    pub start_us: i64,
    pub duration_us: i64,
}

/// What a stream's `time base` line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLine {
    /// Seconds per tick, as `(num, den)`.
    pub time_base: (i64, i64),
    pub start_pts: i64,
    /// ffprobe's stream duration in ticks, where it prints one.
    pub duration: Option<i64>,
}

/// The lines of one fixture's section.
#[derive(Debug, Clone)]
pub struct Section {
    name: String,
    lines: Vec<&'static str>,
}

fn readme() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let path = fixture_path("README.md");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}

impl Section {
    /// The section of fixture `name`.
    pub fn of(name: &str) -> Result<Section, String> {
        let heading = format!("### `{name}`");
        let lines: Vec<&str> = readme()
            .lines()
            .skip_while(|l| *l != heading)
            .skip(1)
            .take_while(|l| !l.starts_with("### "))
            .collect();
        if lines.is_empty() {
            return Err(format!("the README has no section for {name}"));
        }
        Ok(Section {
            name: name.to_string(),
            lines,
        })
    }

    /// The rest of the `nth` line that starts with `prefix`, if there is
    /// one.
    fn find(&self, prefix: &str, nth: usize) -> Option<&'static str> {
        self.lines
            .iter()
            .filter_map(|l| l.strip_prefix(prefix))
            .nth(nth)
    }

    fn line(&self, prefix: &str, nth: usize) -> Result<&'static str, String> {
        self.find(prefix, nth)
            .ok_or_else(|| format!("{}: no line {nth} starting {prefix:?}", self.name))
    }

    /// The entries of the `nth` list line starting with `prefix`: the
    /// words after its parenthesised legend.
    fn list(&self, prefix: &str, nth: usize) -> Result<Vec<&'static str>, String> {
        let line = self.line(prefix, nth)?;
        let (_, entries) = line
            .split_once("): ")
            .ok_or_else(|| format!("{}: {prefix:?} line without a list", self.name))?;
        Ok(entries.split_whitespace().collect())
    }

    pub fn container(&self) -> Result<ContainerLine, String> {
        let line = self.line("- container: ", 0)?;
        // The demuxer name holds commas of its own (`mov,mp4,…`).
        let (format, rest) = line
            .split_once(", start_time ")
            .ok_or_else(|| format!("container line {line}"))?;
        Ok(ContainerLine {
            format,
            start_us: micros(between(rest, "", " s")?)?,
            duration_us: micros(between(rest, "duration ", " s")?)?,
        })
    }

    /// The `nth` video stream's time base, start and duration.
    pub fn stream(&self, nth: usize) -> Result<StreamLine, String> {
        let line = self.line("- time base ", nth)?;
        let time_base = parse_ratio(line.split(';').next().unwrap_or_default().trim())?;
        let start_pts = between(line, "(start_pts ", ")")?
            .parse()
            .map_err(|e| format!("start_pts: {e}"))?;
        let duration = match between(line, "; duration ", " ticks)") {
            Ok(d) => Some(
                d.rsplit_once("s (")
                    .ok_or_else(|| format!("stream duration {d}"))?
                    .1
                    .parse::<i64>()
                    .map_err(|e| format!("stream duration {d}: {e}"))?,
            ),
            Err(_) => None,
        };
        Ok(StreamLine {
            time_base,
            start_pts,
            duration,
        })
    }

    /// The `nth` video stream's packets in decode order, each written
    /// `code@pts/dts` with flags `K` (sync) and `D` (discarded) after the
    /// dts; a leading `~` marks an inferred code, and dts may be `NOPTS`.
    pub fn packets(&self, nth: usize) -> Result<Vec<Packet>, String> {
        self.list("- packets in decode order", nth)?
            .into_iter()
            .map(|entry| {
                let body = entry.trim_start_matches('~');
                let (code, rest) = body
                    .split_once('@')
                    .ok_or_else(|| format!("packet {entry}: no '@'"))?;
                let (pts, dts_and_flags) = rest
                    .split_once('/')
                    .ok_or_else(|| format!("packet {entry}: no '/'"))?;
                let flags: String = dts_and_flags
                    .chars()
                    .rev()
                    .take_while(|c| *c == 'K' || *c == 'D')
                    .collect();
                Ok(Packet {
                    code: code.parse().map_err(|e| format!("{entry}: {e}"))?,
                    pts: pts.parse().map_err(|e| format!("{entry}: {e}"))?,
                    sync: flags.contains('K'),
                    discard: flags.contains('D'),
                })
            })
            .collect()
    }

    /// The `nth` video stream's shown frames in presentation order, each
    /// written `code:pts`.
    pub fn shown_frames(&self, nth: usize) -> Result<Vec<Frame>, String> {
        self.list("- code:pts of every shown frame", nth)?
            .into_iter()
            .map(|entry| {
                let (code, pts) = entry
                    .split_once(':')
                    .ok_or_else(|| format!("frame {entry}: no ':'"))?;
                Ok(Frame {
                    code: code.parse().map_err(|e| format!("{entry}: {e}"))?,
                    pts: pts.parse().map_err(|e| format!("{entry}: {e}"))?,
                })
            })
            .collect()
    }

    /// The orientation the `nth` video track's tkhd matrix stands for;
    /// `None` when the container has no tkhd.
    pub fn tkhd_orientation(&self, nth: usize) -> Result<Option<Orientation>, String> {
        let Some(line) = self.find("- tkhd matrix ", nth) else {
            return Ok(None);
        };
        let meaning = line.split_once('→').ok_or("tkhd meaning")?.1;
        let rotation = match meaning.split_once("rotate ") {
            Some((_, r)) => r
                .split('°')
                .next()
                .unwrap_or_default()
                .parse()
                .map_err(|e| format!("rotation: {e}"))?,
            None => 0,
        };
        Ok(Some(Orientation {
            rotation,
            mirror: meaning.contains("mirror left-right"),
        }))
    }
}

fn parse_ratio(s: &str) -> Result<(i64, i64), String> {
    let (n, d) = s.split_once('/').ok_or_else(|| format!("ratio {s}"))?;
    Ok((
        n.parse().map_err(|e| format!("{s}: {e}"))?,
        d.parse().map_err(|e| format!("{s}: {e}"))?,
    ))
}

/// The text between the first `open` in `s` and the next `close`.
fn between<'a>(s: &'a str, open: &str, close: &str) -> Result<&'a str, String> {
    let rest = s
        .split_once(open)
        .ok_or_else(|| format!("no {open:?} in {s}"))?
        .1;
    Ok(rest
        .split_once(close)
        .ok_or_else(|| format!("no {close:?} after {open:?}"))?
        .0)
}

/// Decimal seconds with up to 6 decimals, as whole microseconds.
fn micros(s: &str) -> Result<i64, String> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 6 {
        return Err(format!("{s}: more than microseconds"));
    }
    let whole: i64 = whole.parse().map_err(|e| format!("{s}: {e}"))?;
    let frac: i64 = format!("{frac:0<6}")
        .parse()
        .map_err(|e| format!("{s}: {e}"))?;
    Ok(whole * 1_000_000 + frac)
}
