//! The JSON form of a composition and its video composition, which `stills
//! grab --composition FILE.json` reads. One object whose field names are
//! the model's, so that the paths [`VideoComposition::validate`] reports
//! (`instructions[1].layers[0].track`) are the document's own:
//!
//! ```json
//! {
//!   "assets": ["a.mp4", "https://host/b.mp4"],
//!   "tracks": [
//!     {"id": 1, "segments": [
//!       {"asset": 0, "track": 0, "source_start": "0.5", "source_duration": "1", "duration": "2"},
//!       {"duration": "0.5"}
//!     ]}
//!   ],
//!   "render_size": [640, 360],
//!   "frame_duration": "1/25",
//!   "instructions": [
//!     {"start": "0", "duration": "2.5", "background": [0, 0, 0, 1],
//!      "layers": [{"track": 1, "opacity": {"from": 0, "to": 1, "start": "0", "duration": "1"}}]}
//!   ]
//! }
//! ```
//!
//! The document is parsed as a [`serde_json::Value`] and walked by hand, so
//! that every mistake is a [`CompositionError::Json`] naming the JSON path
//! of the field at fault and saying what was expected and what was found;
//! unknown fields are mistakes too. Then the assets are opened and the
//! whole is checked by [`VideoComposition::validate`].

use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::asset::Asset;
use crate::error::Error;
use crate::image::ColorSpace;
use crate::limits::OpenOptions;
use crate::render::Size;
use crate::time::{ParseTimeErrorKind, Time};

use super::light::BT2100_PQ;
use super::model::{
    Composition, CompositionError, CompositionTrack, CropRect, Instruction, LayerInstruction, Ramp,
    Segment, SegmentSource, TimeRange, Transform, VideoComposition,
};

type Parsed<T> = std::result::Result<T, CompositionError>;

/// Reads the composition in the JSON file at `path`: relative asset paths
/// are taken from the file's own folder, and every asset is opened with
/// `options` (its timeout and limits).
pub fn read_composition(
    path: &Path,
    options: &OpenOptions,
) -> Result<(Composition, VideoComposition), Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source: Arc::new(source),
    })?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    parse_composition(&text, base, options)
}

/// Parses a composition's JSON form, opening its assets with `options`
/// (URLs, the strings with `://`, as they are; paths relative to `base`),
/// and validates it.
pub fn parse_composition(
    text: &str,
    base: &Path,
    options: &OpenOptions,
) -> Result<(Composition, VideoComposition), Error> {
    let document = parse_document(text).map_err(Error::InvalidComposition)?;
    let mut composition = Composition::new();
    for source in &document.assets {
        let asset = if source.contains("://") {
            Asset::open_url_with_options(source, options)?
        } else {
            Asset::open_with_options(base.join(source), options)?
        };
        composition.add_asset(asset);
    }
    composition.tracks = document.tracks;
    composition.validate().map_err(Error::InvalidComposition)?;
    let video = match document.video {
        VideoFields::Complete(video) => video,
        VideoFields::Derived {
            render_size,
            frame_duration,
            render_scale,
            color_space,
        } => {
            let mut video = VideoComposition::properties_of(&composition)?;
            if let Some(space) = color_space {
                video.color_space = space;
            }
            if let Some(size) = render_size {
                video.render_size = size;
            }
            if let Some(step) = frame_duration {
                video.frame_duration = step;
            }
            if let Some(scale) = render_scale {
                video.render_scale = scale;
            }
            video
        }
    };
    video
        .validate(&composition)
        .map_err(Error::InvalidComposition)?;
    Ok((composition, video))
}

/// What the document says, before its assets are opened.
struct Document {
    assets: Vec<String>,
    tracks: Vec<CompositionTrack>,
    video: VideoFields,
}

enum VideoFields {
    /// `instructions` given: the video composition as written.
    Complete(VideoComposition),
    /// No `instructions`: the one `properties_of` derives, with these
    /// overrides.
    Derived {
        render_size: Option<Size>,
        frame_duration: Option<Time>,
        render_scale: Option<f64>,
        color_space: Option<ColorSpace>,
    },
}

const ROOT_FIELDS: &[&str] = &[
    "assets",
    "tracks",
    "render_size",
    "frame_duration",
    "render_scale",
    "color_space",
    "instructions",
];
const TRACK_FIELDS: &[&str] = &["id", "segments"];
const SEGMENT_FIELDS: &[&str] = &[
    "asset",
    "track",
    "source_start",
    "source_duration",
    "duration",
];
const INSTRUCTION_FIELDS: &[&str] = &["start", "duration", "background", "layers"];
const LAYER_FIELDS: &[&str] = &["track", "transform", "opacity", "crop"];
const RAMP_FIELDS: &[&str] = &["from", "to", "start", "duration"];

const A_TIME: &str = "a time (\"1.5\", \"1/25\" or a number of seconds)";
const A_TRANSFORM: &str = "a transform [a, b, c, d, tx, ty]";
const AN_OPACITY: &str = "an opacity (a number from 0 to 1)";
const A_CROP: &str = "a crop [x, y, width, height]";
const A_RAMP: &str = "a ramp {\"from\", \"to\", \"start\", \"duration\"}";

fn parse_document(text: &str) -> Parsed<Document> {
    let root: Value = serde_json::from_str(text).map_err(|e| CompositionError::Json {
        at: format!("line {}, column {}", e.line(), e.column()),
        problem: syntax_problem(&e),
    })?;
    let root = Object::of(&root, "", "a composition object", ROOT_FIELDS)?;
    let assets = root
        .require("assets", "an array of asset paths or URLs")?
        .each(|v, at| match v.as_str() {
            Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
            _ => Err(expected(at, "an asset path or URL (a string)", v)),
        })?;
    let tracks = root.require("tracks", "an array of tracks")?.each(track)?;
    let render_size = root.optional("render_size").map(size).transpose()?;
    let frame_duration = root.optional("frame_duration").map(time).transpose()?;
    let render_scale = root
        .optional("render_scale")
        .map(|f| f.number("a render scale (a positive number)"))
        .transpose()?;
    let color_space = root.optional("color_space").map(color_space).transpose()?;
    let video = match root.optional("instructions") {
        None => VideoFields::Derived {
            render_size,
            frame_duration,
            render_scale,
            color_space,
        },
        Some(instructions) => {
            let required = "required when `instructions` is given";
            VideoFields::Complete(VideoComposition {
                render_size: render_size
                    .ok_or_else(|| missing("render_size", "a size [width, height]", required))?,
                frame_duration: frame_duration
                    .ok_or_else(|| missing("frame_duration", A_TIME, required))?,
                render_scale: render_scale.unwrap_or(1.0),
                color_space: color_space.unwrap_or(ColorSpace::SRGB),
                instructions: instructions.each(instruction)?,
            })
        }
    };
    Ok(Document {
        assets,
        tracks,
        video,
    })
}

fn track(v: &Value, at: &str) -> Parsed<CompositionTrack> {
    let o = Object::of(v, at, "a track {\"id\", \"segments\"}", TRACK_FIELDS)?;
    let id = o.require("id", "a track ID")?.whole::<u32>("a track ID")?;
    let segments = o
        .require("segments", "an array of segments")?
        .each(|v, at| {
            let s = Object::of(v, at, "a segment", SEGMENT_FIELDS)?;
            let duration = s.optional("duration").map(time).transpose()?;
            let Some(asset) = s.optional("asset") else {
                // An empty segment: nothing but its duration.
                for name in ["track", "source_start", "source_duration"] {
                    if let Some(f) = s.optional(name) {
                        return Err(CompositionError::Json {
                            at: f.at,
                            problem: "only a segment with an \"asset\" shows a source; \
                                      an empty segment has just a \"duration\""
                                .into(),
                        });
                    }
                }
                let duration = duration.ok_or_else(|| {
                    missing(
                        &s.field_at("duration"),
                        A_TIME,
                        "an empty segment (one without \"asset\") needs its duration",
                    )
                })?;
                return Ok(Segment {
                    duration,
                    source: None,
                });
            };
            let asset = asset.whole::<usize>("an asset index")?;
            let stream = s
                .require("track", "a stream index")?
                .whole::<usize>("a stream index (as `stills probe` lists it)")?;
            let start = time(s.require("source_start", A_TIME)?)?;
            let source_duration = time(s.require("source_duration", A_TIME)?)?;
            Ok(Segment {
                duration: duration.unwrap_or(source_duration),
                source: Some(SegmentSource {
                    asset,
                    stream,
                    range: TimeRange::new(start, source_duration),
                }),
            })
        })?;
    Ok(CompositionTrack { id, segments })
}

fn instruction(v: &Value, at: &str) -> Parsed<Instruction> {
    let o = Object::of(
        v,
        at,
        "an instruction {\"start\", \"duration\", \"background\", \"layers\"}",
        INSTRUCTION_FIELDS,
    )?;
    let start = time(o.require("start", A_TIME)?)?;
    let duration = time(o.require("duration", A_TIME)?)?;
    let background = match o.optional("background") {
        Some(f) => {
            let c = f.numbers::<4>("a colour [r, g, b, a], each from 0 to 1")?;
            [c[0], c[1], c[2], c[3]]
        }
        None => [0.0, 0.0, 0.0, 1.0],
    };
    let layers = match o.optional("layers") {
        Some(f) => f.each(layer)?,
        None => Vec::new(),
    };
    Ok(Instruction {
        time_range: TimeRange::new(start, duration),
        background,
        layers,
    })
}

fn layer(v: &Value, at: &str) -> Parsed<LayerInstruction> {
    let o = Object::of(
        v,
        at,
        "a layer {\"track\", \"transform\", \"opacity\", \"crop\"}",
        LAYER_FIELDS,
    )?;
    let track = o
        .require("track", "a composition track ID")?
        .whole::<u32>("a composition track ID")?;
    let mut layer = LayerInstruction::new(track);
    if let Some(f) = o.optional("transform") {
        layer.transform = ramp(f, A_TRANSFORM, |f| {
            let [a, b, c, d, tx, ty] = f.numbers::<6>(A_TRANSFORM)?;
            Ok(Transform { a, b, c, d, tx, ty })
        })?;
    }
    if let Some(f) = o.optional("opacity") {
        layer.opacity = ramp(f, AN_OPACITY, |f| f.number(AN_OPACITY))?;
    }
    if let Some(f) = o.optional("crop") {
        layer.crop = Some(ramp(f, A_CROP, |f| {
            let [x, y, width, height] = f.numbers::<4>(A_CROP)?;
            Ok(CropRect {
                x,
                y,
                width,
                height,
            })
        })?);
    }
    Ok(layer)
}

/// A constant, or a ramp object `{from, to, start, duration}`.
fn ramp<T>(f: Field<'_>, what: &str, constant: impl Fn(Field<'_>) -> Parsed<T>) -> Parsed<Ramp<T>> {
    if !f.value.is_object() {
        return match constant(f.clone()) {
            // A value of the wrong kind altogether: say that a ramp would
            // do too.
            Err(_) if !f.value.is_array() && !f.value.is_number() => {
                Err(expected(&f.at, &format!("{what} or {A_RAMP}"), f.value))
            }
            other => other.map(Ramp::Constant),
        };
    }
    let o = Object::of(f.value, &f.at, A_RAMP, RAMP_FIELDS)?;
    let from = constant(o.require("from", what)?)?;
    let to = constant(o.require("to", what)?)?;
    let start = time(o.require("start", A_TIME)?)?;
    let duration = time(o.require("duration", A_TIME)?)?;
    Ok(Ramp::Linear {
        from,
        to,
        range: TimeRange::new(start, duration),
    })
}

fn size(f: Field<'_>) -> Parsed<Size> {
    const WHAT: &str = "a size [width, height] in whole pixels";
    let Some([w, h]) = f
        .value
        .as_array()
        .and_then(|a| <&[Value; 2]>::try_from(&a[..]).ok())
    else {
        return Err(expected(&f.at, WHAT, f.value));
    };
    let side = |v: &Value, i: usize| {
        Field {
            value: v,
            at: format!("{}[{i}]", f.at),
        }
        .whole::<u32>("a whole number of pixels")
    };
    Ok(Size::new(side(w, 0)?, side(h, 1)?))
}

fn color_space(f: Field<'_>) -> Parsed<ColorSpace> {
    match f.value.as_str() {
        Some(s) if s.eq_ignore_ascii_case("srgb") => Ok(ColorSpace::SRGB),
        Some(s) if s.eq_ignore_ascii_case("bt2100-pq") => Ok(BT2100_PQ),
        Some(_) => Err(CompositionError::Json {
            at: f.at,
            problem: format!(
                "{} is not supported; the output colour spaces are \"srgb\" and \"bt2100-pq\"",
                found(f.value)
            ),
        }),
        None => Err(expected(&f.at, "\"srgb\" or \"bt2100-pq\"", f.value)),
    }
}

/// A time: a string `Time` parses (`"1.5"`, `"250ms"`, `"0:01.5"`), a
/// rational string `"n/d"` (exact, for frame durations such as
/// `"1001/30000"`), or a number of seconds.
fn time(f: Field<'_>) -> Parsed<Time> {
    let bad = |detail: Option<String>| {
        let mut problem = format!("expected {A_TIME}, found {}", found(f.value));
        if let Some(detail) = detail {
            problem.push_str(&format!(" ({detail})"));
        }
        CompositionError::Json {
            at: f.at.clone(),
            problem,
        }
    };
    match f.value {
        Value::String(s) => {
            let s = s.trim();
            if let Some((n, d)) = s.split_once('/') {
                let n: i64 = n.trim().parse().map_err(|_| bad(None))?;
                let d: i32 = d.trim().parse().map_err(|_| {
                    bad(Some(
                        "the denominator must be a whole number from 1 to 2147483647".into(),
                    ))
                })?;
                if d <= 0 {
                    return Err(bad(Some("the denominator must be positive".into())));
                }
                return Ok(Time::new(n, d));
            }
            s.parse::<Time>().map_err(|e| match e.kind() {
                ParseTimeErrorKind::Empty | ParseTimeErrorKind::Malformed => bad(None),
                _ => bad(Some(e.to_string())),
            })
        }
        Value::Number(n) => {
            let t = n
                .as_f64()
                .filter(|x| x.is_finite())
                .map(|x| Time::from_seconds(x, 1_000_000))
                .filter(|t| t.is_numeric());
            t.ok_or_else(|| bad(Some("out of range".into())))
        }
        _ => Err(bad(None)),
    }
}

/// A field's value and its JSON path.
#[derive(Clone)]
struct Field<'a> {
    value: &'a Value,
    at: String,
}

impl<'a> Field<'a> {
    fn number(&self, what: &str) -> Parsed<f64> {
        self.value
            .as_f64()
            .filter(|x| x.is_finite())
            .ok_or_else(|| expected(&self.at, what, self.value))
    }

    fn whole<T: TryFrom<u64>>(&self, what: &str) -> Parsed<T> {
        self.value
            .as_u64()
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| expected(&self.at, what, self.value))
    }

    /// An array of exactly `N` numbers.
    fn numbers<const N: usize>(&self, what: &str) -> Parsed<[f64; N]> {
        let Some(items) = self.value.as_array().filter(|a| a.len() == N) else {
            return Err(expected(&self.at, what, self.value));
        };
        let mut out = [0.0; N];
        for (i, v) in items.iter().enumerate() {
            out[i] = Field {
                value: v,
                at: format!("{}[{i}]", self.at),
            }
            .number("a number")?;
        }
        Ok(out)
    }

    /// Each element of an array, parsed with its own path.
    fn each<T>(&self, parse: impl Fn(&'a Value, &str) -> Parsed<T>) -> Parsed<Vec<T>> {
        let Some(items) = self.value.as_array() else {
            return Err(expected(&self.at, "an array", self.value));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| parse(v, &format!("{}[{i}]", self.at)))
            .collect()
    }
}

/// An object whose keys have been checked against the ones it may have.
struct Object<'a> {
    map: &'a Map<String, Value>,
    at: String,
}

impl<'a> Object<'a> {
    fn of(value: &'a Value, at: &str, what: &str, fields: &[&str]) -> Parsed<Object<'a>> {
        let Some(map) = value.as_object() else {
            let at = if at.is_empty() { "(document)" } else { at };
            return Err(expected(at, what, value));
        };
        let object = Object {
            map,
            at: at.to_string(),
        };
        if let Some(key) = map.keys().find(|k| !fields.contains(&k.as_str())) {
            let names: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
            return Err(CompositionError::Json {
                at: object.field_at(key),
                problem: format!(
                    "unknown field `{key}`; expected one of {}",
                    names.join(", ")
                ),
            });
        }
        Ok(object)
    }

    fn field_at(&self, name: &str) -> String {
        if self.at.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.at)
        }
    }

    fn optional(&self, name: &str) -> Option<Field<'a>> {
        self.map.get(name).map(|value| Field {
            value,
            at: self.field_at(name),
        })
    }

    fn require(&self, name: &str, what: &str) -> Parsed<Field<'a>> {
        self.optional(name)
            .ok_or_else(|| missing(&self.field_at(name), what, "required"))
    }
}

fn missing(at: &str, what: &str, why: &str) -> CompositionError {
    CompositionError::Json {
        at: at.to_string(),
        problem: format!("missing ({why}); expected {what}"),
    }
}

fn expected(at: &str, what: &str, value: &Value) -> CompositionError {
    CompositionError::Json {
        at: at.to_string(),
        problem: format!("expected {what}, found {}", found(value)),
    }
}

/// A short description of a JSON value for an error message.
fn found(value: &Value) -> String {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::String(s) => {
            let mut shown: String = s.chars().take(40).collect();
            if shown.len() < s.len() {
                shown.push('…');
            }
            Value::String(shown).to_string()
        }
        Value::Array(a) if a.is_empty() => "an empty array".into(),
        Value::Array(a) => format!("an array of {}", a.len()),
        Value::Object(_) => "an object".into(),
    }
}

/// serde_json's message without its own ` at line L column C` (the path
/// says where).
fn syntax_problem(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let problem = message.strip_suffix(&suffix).unwrap_or(&message);
    format!("not valid JSON: {problem}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
    }

    fn t(s: &str) -> Time {
        s.parse().unwrap()
    }

    /// The error a document without assets gives, as `(at, problem)`.
    fn json_error(text: &str) -> (String, String) {
        match parse_composition(text, Path::new("/nonexistent"), &OpenOptions::default()) {
            Err(Error::InvalidComposition(CompositionError::Json { at, problem })) => (at, problem),
            Err(other) => panic!("not a JSON error: {other}"),
            Ok(_) => panic!("parsed: {text}"),
        }
    }

    fn validation_error(text: &str) -> CompositionError {
        match parse_composition(text, Path::new("/nonexistent"), &OpenOptions::default()) {
            Err(Error::InvalidComposition(e)) => e,
            Err(other) => panic!("not a composition error: {other}"),
            Ok(_) => panic!("parsed: {text}"),
        }
    }

    /// A valid document without assets (one track of nothing, 2 s), with
    /// `layer` as instructions[0].layers[0].
    fn with_layer(layer: &str) -> String {
        format!(
            r#"{{"assets": [], "tracks": [{{"id": 1, "segments": [{{"duration": 2}}]}}],
                "render_size": [64, 48], "frame_duration": "1/25",
                "instructions": [{{"start": 0, "duration": 2, "layers": [{layer}]}}]}}"#
        )
    }

    const FULL: &str = r#"{
      "assets": ["two_video_tracks.mp4"],
      "tracks": [
        {"id": 1, "segments": [
          {"asset": 0, "track": 0, "source_start": "0.5", "source_duration": "1", "duration": "2"},
          {"duration": "0.5"}
        ]},
        {"id": 2, "segments": [
          {"asset": 0, "track": 1, "source_start": 0, "source_duration": "2500ms"}
        ]}
      ],
      "render_size": [640, 360],
      "frame_duration": "1001/30000",
      "render_scale": 0.5,
      "color_space": "srgb",
      "instructions": [
        {"start": "0", "duration": "1", "background": [0, 0, 0.5, 1],
         "layers": [
           {"track": 2, "transform": [1, 0, 0, 1, 0, 0], "opacity": 0.75, "crop": [0, 0, 80, 60]},
           {"track": 1, "opacity": {"from": 0, "to": 1, "start": "0.5", "duration": "0.5"},
            "transform": {"from": [1,0,0,1,0,0], "to": [0.5,0,0,0.5,160,120], "start": "0", "duration": "1"}}
         ]},
        {"start": "1", "duration": "0:01.5", "layers": [{"track": 1}]}
      ]
    }"#;

    #[test]
    fn a_full_document_becomes_the_model_it_describes() {
        let (composition, video) =
            parse_composition(FULL, &fixtures(), &OpenOptions::default()).unwrap();
        assert_eq!(composition.assets.len(), 1);
        assert!(composition.assets[0]
            .name()
            .ends_with("two_video_tracks.mp4"));
        let one = &composition.tracks[0];
        assert_eq!(one.id, 1);
        assert_eq!(one.segments.len(), 2);
        let source = one.segments[0].source.unwrap();
        assert_eq!((source.asset, source.stream), (0, 0));
        assert_eq!(source.range, TimeRange::new(t("0.5"), t("1")));
        assert_eq!(one.segments[0].duration, t("2"));
        assert_eq!(one.segments[1].duration, t("0.5"));
        assert!(one.segments[1].source.is_none());
        let two = &composition.tracks[1];
        let source = two.segments[0].source.unwrap();
        assert_eq!(source.stream, 1);
        assert_eq!(source.range, TimeRange::new(Time::ZERO, t("2.5")));
        // The duration defaults to the source's.
        assert_eq!(two.segments[0].duration, t("2.5"));
        assert_eq!(composition.duration(), t("2.5"));

        assert_eq!(video.render_size, Size::new(640, 360));
        assert_eq!(video.frame_duration, Time::new(1001, 30_000));
        assert_eq!(video.render_scale, 0.5);
        assert_eq!(video.color_space, ColorSpace::SRGB);
        assert_eq!(video.instructions.len(), 2);
        let first = &video.instructions[0];
        assert_eq!(first.time_range, TimeRange::new(Time::ZERO, t("1")));
        assert_eq!(first.background, [0.0, 0.0, 0.5, 1.0]);
        let top = &first.layers[0];
        assert_eq!(top.track, 2);
        assert_eq!(top.transform, Ramp::Constant(Transform::IDENTITY));
        assert_eq!(top.opacity, Ramp::Constant(0.75));
        assert_eq!(
            top.crop,
            Some(Ramp::Constant(CropRect {
                x: 0.0,
                y: 0.0,
                width: 80.0,
                height: 60.0
            }))
        );
        let below = &first.layers[1];
        assert_eq!(
            below.opacity,
            Ramp::Linear {
                from: 0.0,
                to: 1.0,
                range: TimeRange::new(t("0.5"), t("0.5"))
            }
        );
        assert_eq!(
            below.transform,
            Ramp::Linear {
                from: Transform::IDENTITY,
                to: Transform {
                    a: 0.5,
                    d: 0.5,
                    tx: 160.0,
                    ty: 120.0,
                    ..Transform::IDENTITY
                },
                range: TimeRange::new(Time::ZERO, t("1"))
            }
        );
        assert_eq!(below.crop, None);
        let second = &video.instructions[1];
        assert_eq!(second.time_range, TimeRange::new(t("1"), t("1.5")));
        // Defaults: black, opaque background; identity, opaque, uncropped.
        assert_eq!(second.background, [0.0, 0.0, 0.0, 1.0]);
        assert_eq!(second.layers, [LayerInstruction::new(1)]);
    }

    #[test]
    fn without_instructions_the_video_composition_is_derived() {
        let text = r#"{"assets": ["two_video_tracks.mp4"],
            "tracks": [
              {"id": 1, "segments": [{"asset": 0, "track": 0, "source_start": 0, "source_duration": 2}]},
              {"id": 2, "segments": [{"asset": 0, "track": 1, "source_start": 0, "source_duration": 2}]}
            ],
            "frame_duration": "1/50"}"#;
        let (composition, video) =
            parse_composition(text, &fixtures(), &OpenOptions::default()).unwrap();
        let derived = VideoComposition::properties_of(&composition).unwrap();
        assert_eq!(video.render_size, derived.render_size);
        assert_eq!(video.render_size, Size::new(320, 240));
        assert_eq!(video.frame_duration, Time::new(1, 50));
        assert_eq!(video.instructions, derived.instructions);
        let tracks: Vec<u32> = video.instructions[0]
            .layers
            .iter()
            .map(|l| l.track)
            .collect();
        assert_eq!(tracks, [1, 2]);

        let text = text.replace(r#""frame_duration": "1/50""#, r#""render_size": [32, 24]"#);
        let (_, video) = parse_composition(&text, &fixtures(), &OpenOptions::default()).unwrap();
        assert_eq!(video.render_size, Size::new(32, 24));
        assert_eq!(video.frame_duration, Time::new(1, 25));
    }

    #[test]
    fn times_are_decimal_clock_rational_or_seconds() {
        let at = |v: Value| {
            time(Field {
                value: &v,
                at: "x".into(),
            })
        };
        assert_eq!(at("1001/30000".into()), Ok(Time::new(1001, 30_000)));
        assert_eq!(at("1001/30000".into()).unwrap().timescale(), 30_000);
        assert_eq!(at(" 1 / 25 ".into()), Ok(Time::new(1, 25)));
        assert_eq!(at("-1/2".into()), Ok(t("-0.5")));
        assert_eq!(at("1.5".into()), Ok(t("1.5")));
        assert_eq!(at("250ms".into()), Ok(t("0.25")));
        assert_eq!(at("0:01.5".into()), Ok(t("1.5")));
        assert_eq!(at(serde_json::json!(0.04)), Ok(Time::new(1, 25)));
        assert_eq!(at(serde_json::json!(2)), Ok(t("2")));
        for bad in [
            Value::from("1/0"),
            Value::from("1/-25"),
            Value::from("x/25"),
            Value::from("1/x"),
            Value::from("1.5.3"),
            Value::from(""),
            Value::from(true),
            Value::Null,
            serde_json::json!([1]),
            serde_json::json!(1e300),
        ] {
            let Err(CompositionError::Json { at: path, problem }) = at(bad.clone()) else {
                panic!("{bad} parsed");
            };
            assert_eq!(path, "x");
            assert!(problem.starts_with("expected a time"), "{bad}: {problem}");
        }
        let (_, problem) = json_error(&with_layer(
            r#"{"track": 1, "opacity": {"from": 0, "to": 1, "start": true, "duration": 1}}"#,
        ));
        assert_eq!(
            problem,
            r#"expected a time ("1.5", "1/25" or a number of seconds), found true"#
        );
        // The parser's own reason where it has one.
        let (_, problem) = json_error(&with_layer(
            r#"{"track": 1, "opacity": {"from": 0, "to": 1, "start": "0:75", "duration": 1}}"#,
        ));
        assert!(problem.contains("seconds must be below 60"), "{problem}");
    }

    #[test]
    fn each_mistake_names_its_json_path() {
        let cases: &[(&str, &str, &str)] = &[
            // Syntax: where, not what field.
            (
                "{\"assets\": [],\n \"tracks\": [,]}",
                "line 2, column 13",
                "not valid JSON",
            ),
            (
                "[]",
                "(document)",
                "expected a composition object, found an empty array",
            ),
            (r#"{"tracks": []}"#, "assets", "missing (required)"),
            (
                r#"{"assets": [], "tracks": [], "colour": 1}"#,
                "colour",
                "unknown field `colour`; expected one of `assets`, `tracks`",
            ),
            (
                r#"{"assets": ["a.mp4", "b.mp4", 3], "tracks": []}"#,
                "assets[2]",
                "expected an asset path or URL (a string), found 3",
            ),
            (
                r#"{"assets": [], "tracks": {}}"#,
                "tracks",
                "expected an array, found an object",
            ),
            (
                r#"{"assets": [], "tracks": [{"id": -1, "segments": []}]}"#,
                "tracks[0].id",
                "expected a track ID, found -1",
            ),
            (
                r#"{"assets": [], "tracks": [{"id": 1, "segments": [{"duration": 1}, {"asset": 0, "track": 0, "source_start": "soon", "source_duration": 1}]}]}"#,
                "tracks[0].segments[1].source_start",
                r#"found "soon""#,
            ),
            (
                r#"{"assets": [], "tracks": [{"id": 1, "segments": [{"asset": 0, "track": 0, "source_start": 0}]}]}"#,
                "tracks[0].segments[0].source_duration",
                "missing (required)",
            ),
            (
                r#"{"assets": [], "tracks": [{"id": 1, "segments": [{"source_start": 0, "duration": 1}]}]}"#,
                "tracks[0].segments[0].source_start",
                "an empty segment has just a \"duration\"",
            ),
            (
                r#"{"assets": [], "tracks": [{"id": 1, "segments": [{}]}]}"#,
                "tracks[0].segments[0].duration",
                "missing (an empty segment",
            ),
            (
                r#"{"assets": [], "tracks": [{"id": 1, "segments": [{"duration": 1, "speed": 2}]}]}"#,
                "tracks[0].segments[0].speed",
                "unknown field `speed`",
            ),
            (
                r#"{"assets": [], "tracks": [], "instructions": []}"#,
                "render_size",
                "missing (required when `instructions` is given)",
            ),
            (
                r#"{"assets": [], "tracks": [], "render_size": [1, 1], "instructions": []}"#,
                "frame_duration",
                "missing (required when `instructions` is given)",
            ),
            (
                r#"{"assets": [], "tracks": [], "render_size": [640], "frame_duration": 1, "instructions": []}"#,
                "render_size",
                "expected a size [width, height] in whole pixels, found an array of 1",
            ),
            (
                r#"{"assets": [], "tracks": [], "render_size": [640, 1.5], "frame_duration": 1, "instructions": []}"#,
                "render_size[1]",
                "expected a whole number of pixels, found 1.5",
            ),
            (
                r#"{"assets": [], "tracks": [], "color_space": "bt2020"}"#,
                "color_space",
                r#""bt2020" is not supported; the output colour spaces are "srgb" and "bt2100-pq""#,
            ),
            (
                r#"{"assets": [], "tracks": [], "render_scale": "2"}"#,
                "render_scale",
                "expected a render scale",
            ),
        ];
        for (text, at, problem) in cases {
            let (got_at, got_problem) = json_error(text);
            assert_eq!(&got_at, at, "{text}: {got_problem}");
            assert!(got_problem.contains(problem), "{text}: {got_problem}");
        }
        let layer_cases: &[(&str, &str, &str)] = &[
            (
                r#"{"track": 1, "opacty": 1}"#,
                "instructions[0].layers[1].opacty",
                "unknown field `opacty`; expected one of `track`, `transform`, `opacity`, `crop`",
            ),
            (
                r#"{"track": 1, "opacity": "x"}"#,
                "instructions[0].layers[1].opacity",
                r#"expected an opacity (a number from 0 to 1) or a ramp {"from", "to", "start", "duration"}, found "x""#,
            ),
            (
                r#"{"track": 1, "transform": [1, 0, 0, 1, 0]}"#,
                "instructions[0].layers[1].transform",
                "expected a transform [a, b, c, d, tx, ty], found an array of 5",
            ),
            (
                r#"{"track": 1, "transform": [1, 0, "0", 1, 0, 0]}"#,
                "instructions[0].layers[1].transform[2]",
                r#"expected a number, found "0""#,
            ),
            (
                r#"{"track": 1, "crop": {"from": [0, 0, 1, 1], "to": [0, 0, 2], "start": 0, "duration": 1}}"#,
                "instructions[0].layers[1].crop.to",
                "expected a crop [x, y, width, height], found an array of 3",
            ),
            (
                r#"{"track": 1, "opacity": {"from": 0, "to": 1, "start": 0}}"#,
                "instructions[0].layers[1].opacity.duration",
                "missing (required)",
            ),
            (
                r#"{"track": 1, "opacity": {"from": 0, "to": 1, "start": 0, "duration": 1, "ease": 1}}"#,
                "instructions[0].layers[1].opacity.ease",
                "unknown field `ease`",
            ),
            (
                r#"{"opacity": 1}"#,
                "instructions[0].layers[1].track",
                "missing (required)",
            ),
            (r#"7"#, "instructions[0].layers[1]", "expected a layer"),
        ];
        for (layer, at, problem) in layer_cases {
            let text = with_layer(&format!(r#"{{"track": 1}}, {layer}"#));
            let (got_at, got_problem) = json_error(&text);
            assert_eq!(&got_at, at, "{layer}: {got_problem}");
            assert!(got_problem.contains(problem), "{layer}: {got_problem}");
        }
        // The message is the path, then the problem.
        let e = validation_error(&with_layer(r#"{"track": 1, "opacity": "x"}"#));
        assert!(
            e.to_string()
                .starts_with("instructions[0].layers[0].opacity: expected an opacity"),
            "{e}"
        );
    }

    #[test]
    fn the_models_own_checks_name_json_paths_too() {
        // A gap between instructions, found by `validate`.
        let text = r#"{"assets": [], "tracks": [{"id": 1, "segments": [{"duration": 2}]}],
            "render_size": [64, 48], "frame_duration": "1/25",
            "instructions": [{"start": 0, "duration": 1}, {"start": "1.5", "duration": "0.5"}]}"#;
        let e = validation_error(text);
        assert_eq!(
            e,
            CompositionError::Gap {
                at: "instructions[1]".into(),
                from: t("1"),
                to: t("1.5")
            }
        );
        let e = validation_error(&with_layer(r#"{"track": 7}"#));
        assert_eq!(e.at(), "instructions[0].layers[0].track");
        let e = validation_error(&with_layer(r#"{"track": 1, "opacity": 1.5}"#));
        assert_eq!(e.at(), "instructions[0].layers[0].opacity");
        let text = r#"{"assets": [], "tracks": [{"id": 1, "segments": [{"asset": 0, "track": 0, "source_start": 0, "source_duration": 1}]}]}"#;
        assert_eq!(validation_error(text).at(), "tracks[0].segments[0].asset");
    }

    #[test]
    fn assets_open_from_the_documents_folder_and_say_which_failed() {
        let text = r#"{"assets": ["two_video_tracks.mp4", "missing.mp4"], "tracks": []}"#;
        match parse_composition(text, &fixtures(), &OpenOptions::default()) {
            Err(Error::Io { path, .. }) => assert_eq!(path, fixtures().join("missing.mp4")),
            Err(other) => panic!("not the missing asset's error: {other}"),
            Ok(_) => panic!("a missing asset opened"),
        }
        let text = r#"{"assets": ["two_video_tracks.mp4"], "tracks": [
            {"id": 1, "segments": [{"asset": 0, "track": 5, "source_start": 0, "source_duration": 1}]}]}"#;
        let Err(Error::InvalidComposition(e)) =
            parse_composition(text, &fixtures(), &OpenOptions::default())
        else {
            panic!("stream 5 accepted");
        };
        assert_eq!(e.at(), "tracks[0].segments[0].track");
    }

    /// The README's example document, with its two sources replaced by
    /// fixtures that have the video tracks it names.
    #[test]
    fn the_readme_example_is_a_valid_composition() {
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
                .unwrap();
        let section = readme
            .split("#### Compositions: `--composition FILE.json`")
            .nth(1)
            .expect("the README documents compositions");
        let example = section
            .split("```json\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("the section has a JSON example");
        let text = example
            .replace("interview.mp4", "two_video_tracks.mp4")
            .replace("https://example.com/broll.mp4", "h264_bframes.mp4");
        let (composition, video) =
            parse_composition(&text, &fixtures(), &OpenOptions::default()).unwrap();
        assert_eq!(composition.duration(), t("6"));
        assert_eq!(video.output_size(), Size::new(640, 360));
        assert_eq!(video.frame_duration, Time::new(1001, 30_000));
    }

    #[test]
    fn read_composition_resolves_assets_next_to_the_file() {
        let dir = std::env::temp_dir().join(format!("stills-json-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            fixtures().join("two_video_tracks.mp4"),
            dir.join("clip.mp4"),
        )
        .unwrap();
        let file = dir.join("c.json");
        std::fs::write(
            &file,
            r#"{"assets": ["clip.mp4"], "tracks": [{"id": 1, "segments": [
                {"asset": 0, "track": 1, "source_start": 0, "source_duration": 1}]}]}"#,
        )
        .unwrap();
        let read = read_composition(&file, &OpenOptions::default());
        let missing = read_composition(&dir.join("none.json"), &OpenOptions::default());
        let _ = std::fs::remove_dir_all(&dir);
        let (composition, video) = read.unwrap();
        assert_eq!(composition.assets.len(), 1);
        assert_eq!(video.render_size, Size::new(160, 120));
        assert_eq!(video.frame_duration, Time::new(1, 10));
        match missing {
            Err(Error::Io { path, .. }) => assert_eq!(path, dir.join("none.json")),
            _ => panic!("a missing file read"),
        }
    }
}
