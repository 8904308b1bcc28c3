//! The composition model, Apple's: a [`Composition`] is a timeline of video
//! tracks cut from source tracks (`AVMutableComposition`), and a
//! [`VideoComposition`] says how the tracks' frames become one picture at
//! each time (`AVMutableVideoComposition` with its instructions and layer
//! instructions). Both are plain data, checked as a whole by
//! [`VideoComposition::validate`] before a generator takes them, so that
//! what is wrong is said once, with where, instead of failing frames later.

use std::sync::Arc;

use crate::asset::Asset;
use crate::error::{Error, Result};
use crate::image::ColorSpace;
use crate::render::Size;
use crate::time::Time;

use super::light::BT2100_PQ;

/// A span of time: `start` and a positive `duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub start: Time,
    pub duration: Time,
}

impl TimeRange {
    pub fn new(start: Time, duration: Time) -> TimeRange {
        TimeRange { start, duration }
    }

    pub fn end(&self) -> Time {
        self.start + self.duration
    }

    /// Whether `t` lies in `[start, end)`.
    pub fn contains(&self, t: Time) -> bool {
        self.start <= t && t < self.end()
    }

    fn is_valid(&self) -> bool {
        self.start.is_numeric() && self.duration.is_numeric() && self.duration > Time::ZERO
    }
}

/// Where one stretch of a composition track comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentSource {
    /// Index of the asset in [`Composition::assets`].
    pub asset: usize,
    /// The video track of that asset: the stream index `stills probe`
    /// reports.
    pub stream: usize,
    /// The stretch of the source track's timeline.
    pub range: TimeRange,
}

/// One stretch of a composition track: `duration` of composition time
/// showing a source range (played faster or slower when the two durations
/// differ), or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub duration: Time,
    /// `None` for an empty segment: the track shows nothing there.
    pub source: Option<SegmentSource>,
}

/// A video track of a composition: segments one after another from time 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositionTrack {
    /// The ID layer instructions name the track by.
    pub id: u32,
    pub segments: Vec<Segment>,
}

impl CompositionTrack {
    pub fn new(id: u32) -> CompositionTrack {
        CompositionTrack {
            id,
            segments: Vec::new(),
        }
    }

    /// Appends `range` of `asset`'s track `stream`, played at its own speed
    /// (`insertTimeRange(_:of:at:)` at the track's end).
    pub fn insert(&mut self, asset: usize, stream: usize, range: TimeRange) -> &mut Self {
        self.insert_scaled(asset, stream, range, range.duration)
    }

    /// Appends `range` of `asset`'s track `stream`, stretched or squeezed
    /// to last `duration` (`insertTimeRange` then `scaleTimeRange`).
    pub fn insert_scaled(
        &mut self,
        asset: usize,
        stream: usize,
        range: TimeRange,
        duration: Time,
    ) -> &mut Self {
        self.segments.push(Segment {
            duration,
            source: Some(SegmentSource {
                asset,
                stream,
                range,
            }),
        });
        self
    }

    /// Appends `duration` showing nothing (`insertEmptyTimeRange`).
    pub fn insert_empty(&mut self, duration: Time) -> &mut Self {
        self.segments.push(Segment {
            duration,
            source: None,
        });
        self
    }

    /// The composition time where the track ends.
    pub fn duration(&self) -> Time {
        self.segments
            .iter()
            .fold(Time::ZERO, |end, segment| end + segment.duration)
    }
}

/// Assets and the tracks cut from them (`AVMutableComposition`).
#[derive(Debug, Clone, Default)]
pub struct Composition {
    pub assets: Vec<Arc<Asset>>,
    pub tracks: Vec<CompositionTrack>,
}

impl Composition {
    pub fn new() -> Composition {
        Composition::default()
    }

    /// Adds an asset and returns the index segments name it by.
    pub fn add_asset(&mut self, asset: impl Into<Arc<Asset>>) -> usize {
        self.assets.push(asset.into());
        self.assets.len() - 1
    }

    /// An asset's own video tracks as a composition: each track, from its
    /// first frame to its end, is composition track `stream + 1` (track IDs
    /// start at 1, as in a movie file).
    pub fn of_asset(asset: impl Into<Arc<Asset>>) -> Result<Composition> {
        let asset = asset.into();
        let mut composition = Composition::new();
        let spans: Vec<(usize, Option<(Time, Time)>)> = asset
            .video_tracks()
            .iter()
            .filter(|t| !t.attached_picture)
            .map(|t| Ok((t.index, asset.frame_span(t)?)))
            .collect::<Result<_>>()?;
        if spans.is_empty() {
            return Err(Error::NoVideoTrack {
                source_name: asset.name().to_string(),
            });
        }
        let a = composition.add_asset(asset);
        for (stream, span) in spans {
            let mut track = CompositionTrack::new(stream as u32 + 1);
            if let Some((first, end)) = span {
                track.insert(a, stream, TimeRange::new(first, end - first));
            }
            composition.tracks.push(track);
        }
        Ok(composition)
    }

    /// The composition time where the longest track ends.
    pub fn duration(&self) -> Time {
        self.tracks
            .iter()
            .map(CompositionTrack::duration)
            .max()
            .unwrap_or(Time::ZERO)
    }

    pub fn track(&self, id: u32) -> Option<&CompositionTrack> {
        self.tracks.iter().find(|t| t.id == id)
    }

    /// Checks the tracks: unique IDs, known assets and video streams,
    /// positive durations.
    pub fn validate(&self) -> std::result::Result<(), CompositionError> {
        for (i, track) in self.tracks.iter().enumerate() {
            let at = format!("tracks[{i}]");
            if self.tracks[..i].iter().any(|t| t.id == track.id) {
                return Err(CompositionError::DuplicateTrack { at, id: track.id });
            }
            for (j, segment) in track.segments.iter().enumerate() {
                let at = format!("{at}.segments[{j}]");
                if !(segment.duration.is_numeric() && segment.duration > Time::ZERO) {
                    return Err(CompositionError::InvalidRange {
                        at: format!("{at}.duration"),
                        problem: format!("must be a positive time, not {}", segment.duration),
                    });
                }
                let Some(source) = segment.source else {
                    continue;
                };
                let Some(asset) = self.assets.get(source.asset) else {
                    return Err(CompositionError::UnknownAsset {
                        at: format!("{at}.asset"),
                        asset: source.asset,
                        assets: self.assets.len(),
                    });
                };
                if asset
                    .video_tracks()
                    .iter()
                    .all(|t| t.index != source.stream || t.attached_picture)
                {
                    return Err(CompositionError::NoSuchStream {
                        at: format!("{at}.track"),
                        stream: source.stream,
                        asset: asset.name().to_string(),
                    });
                }
                if !source.range.is_valid() {
                    return Err(CompositionError::InvalidRange {
                        at: format!("{at}.source_duration"),
                        problem: format!(
                            "needs a start and a positive duration, not {} + {}",
                            source.range.start, source.range.duration
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

/// A 2-D affine map, `CGAffineTransform`'s: a point `(x, y)` goes to
/// `(a·x + c·y + tx, b·x + d·y + ty)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transform {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
    pub tx: f64,
    pub ty: f64,
}

impl Transform {
    pub const IDENTITY: Transform = Transform {
        a: 1.0,
        b: 0.0,
        c: 0.0,
        d: 1.0,
        tx: 0.0,
        ty: 0.0,
    };

    pub fn translate(tx: f64, ty: f64) -> Transform {
        Transform {
            tx,
            ty,
            ..Transform::IDENTITY
        }
    }

    pub fn scale(sx: f64, sy: f64) -> Transform {
        Transform {
            a: sx,
            d: sy,
            ..Transform::IDENTITY
        }
    }

    /// `self` then `next`.
    pub fn then(&self, next: &Transform) -> Transform {
        Transform {
            a: next.a * self.a + next.c * self.b,
            b: next.b * self.a + next.d * self.b,
            c: next.a * self.c + next.c * self.d,
            d: next.b * self.c + next.d * self.d,
            tx: next.a * self.tx + next.c * self.ty + next.tx,
            ty: next.b * self.tx + next.d * self.ty + next.ty,
        }
    }

    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.a * x + self.c * y + self.tx,
            self.b * x + self.d * y + self.ty,
        )
    }

    pub fn determinant(&self) -> f64 {
        self.a * self.d - self.b * self.c
    }

    /// The inverse map; `None` when the transform flattens the plane.
    pub fn inverse(&self) -> Option<Transform> {
        let det = self.determinant();
        if !det.is_finite() || det.abs() < 1e-12 {
            return None;
        }
        let (a, b, c, d) = (self.d / det, -self.b / det, -self.c / det, self.a / det);
        Some(Transform {
            a,
            b,
            c,
            d,
            tx: -(a * self.tx + c * self.ty),
            ty: -(b * self.tx + d * self.ty),
        })
    }

    fn is_finite(&self) -> bool {
        [self.a, self.b, self.c, self.d, self.tx, self.ty]
            .iter()
            .all(|v| v.is_finite())
    }
}

/// A rectangle in a track's pixel coordinates (`CGRect`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropRect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// A value that can change linearly over time.
pub trait Lerp: Copy {
    fn lerp(&self, to: &Self, f: f64) -> Self;
}

impl Lerp for f64 {
    fn lerp(&self, to: &f64, f: f64) -> f64 {
        self + (to - self) * f
    }
}

impl Lerp for Transform {
    fn lerp(&self, to: &Transform, f: f64) -> Transform {
        Transform {
            a: self.a.lerp(&to.a, f),
            b: self.b.lerp(&to.b, f),
            c: self.c.lerp(&to.c, f),
            d: self.d.lerp(&to.d, f),
            tx: self.tx.lerp(&to.tx, f),
            ty: self.ty.lerp(&to.ty, f),
        }
    }
}

impl Lerp for CropRect {
    fn lerp(&self, to: &CropRect, f: f64) -> CropRect {
        CropRect {
            x: self.x.lerp(&to.x, f),
            y: self.y.lerp(&to.y, f),
            width: self.width.lerp(&to.width, f),
            height: self.height.lerp(&to.height, f),
        }
    }
}

/// A layer property: constant, or a linear ramp over a time range (Apple's
/// `set…Ramp(fromStart…:toEnd…:timeRange:)`), holding its first value
/// before the range and its last after.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ramp<T> {
    Constant(T),
    Linear { from: T, to: T, range: TimeRange },
}

impl<T: Lerp> Ramp<T> {
    /// The value at composition time `t`.
    pub fn at(&self, t: Time) -> T {
        match self {
            Ramp::Constant(v) => *v,
            Ramp::Linear { from, to, range } => {
                let f = ((t - range.start).seconds() / range.duration.seconds()).clamp(0.0, 1.0);
                if f.is_nan() {
                    *from
                } else {
                    from.lerp(to, f)
                }
            }
        }
    }

    fn values(&self) -> Vec<T> {
        match self {
            Ramp::Constant(v) => vec![*v],
            Ramp::Linear { from, to, .. } => vec![*from, *to],
        }
    }

    fn range(&self) -> Option<TimeRange> {
        match self {
            Ramp::Constant(_) => None,
            Ramp::Linear { range, .. } => Some(*range),
        }
    }
}

/// How one composition track is drawn during an instruction
/// (`AVMutableVideoCompositionLayerInstruction`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerInstruction {
    /// The composition track's ID.
    pub track: u32,
    /// Track pixel coordinates → render coordinates (before the render
    /// scale).
    pub transform: Ramp<Transform>,
    /// 0 transparent … 1 opaque.
    pub opacity: Ramp<f64>,
    /// The part of the track's picture shown, in its pixel coordinates;
    /// `None` shows all of it.
    pub crop: Option<Ramp<CropRect>>,
}

impl LayerInstruction {
    /// The track drawn as it is: identity transform, opaque, uncropped.
    pub fn new(track: u32) -> LayerInstruction {
        LayerInstruction {
            track,
            transform: Ramp::Constant(Transform::IDENTITY),
            opacity: Ramp::Constant(1.0),
            crop: None,
        }
    }
}

/// What is drawn over one time range (`AVMutableVideoCompositionInstruction`).
#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    pub time_range: TimeRange,
    /// Straight RGBA, sRGB-encoded components in 0..=1, behind every layer.
    pub background: [f64; 4],
    /// Top layer first, as Apple orders them.
    pub layers: Vec<LayerInstruction>,
}

/// How a composition's tracks become one picture per frame
/// (`AVMutableVideoComposition`).
#[derive(Debug, Clone, PartialEq)]
pub struct VideoComposition {
    /// The picture's size in render coordinates.
    pub render_size: Size,
    /// The composition's frame grid: frame `k` starts at `k · frame_duration`.
    pub frame_duration: Time,
    /// Output pixels per render coordinate (the image is `render_size ·
    /// render_scale`, rounded).
    pub render_scale: f64,
    /// The output's colour space: [`ColorSpace::SRGB`], or BT.2100 PQ
    /// ([`BT2100_PQ`]) to keep HDR where the generator's dynamic range
    /// policy is `MatchSource` (with `ForceSdr` the output is sRGB, HDR
    /// layers tone mapped). Layers are converted to it and blended in its
    /// linear light.
    pub color_space: ColorSpace,
    /// Contiguous, from time 0 to at least the composition's end.
    pub instructions: Vec<Instruction>,
}

impl VideoComposition {
    /// What Apple's `videoComposition(propertiesOf:)` derives: each track a
    /// layer with its preferred transform (the first track on top), the
    /// render size the box of the tracks as shown, the frame duration the
    /// shortest of the tracks' mean frame durations, BT.2100 PQ where a
    /// track is HDR (else sRGB), one instruction over the whole composition
    /// on a black background.
    pub fn properties_of(composition: &Composition) -> Result<VideoComposition> {
        let mut layers = Vec::new();
        let (mut width, mut height) = (0.0f64, 0.0f64);
        let mut frame_duration: Option<Time> = None;
        let mut hdr = false;
        for track in &composition.tracks {
            let Some(source) = track.segments.iter().find_map(|s| s.source) else {
                continue;
            };
            let asset = composition.assets.get(source.asset).ok_or_else(|| {
                Error::InvalidComposition(CompositionError::UnknownAsset {
                    at: format!("tracks[id {}]", track.id),
                    asset: source.asset,
                    assets: composition.assets.len(),
                })
            })?;
            let video = asset.image_track(Some(source.stream))?;
            hdr |= video.color.transfer.hdr_format().is_some();
            let transform = preferred_transform(video);
            for (x, y) in [
                (0.0, 0.0),
                (f64::from(video.coded_width), 0.0),
                (0.0, f64::from(video.coded_height)),
                (f64::from(video.coded_width), f64::from(video.coded_height)),
            ] {
                let (x, y) = transform.apply(x, y);
                width = width.max(x);
                height = height.max(y);
            }
            if let Some(step) = mean_frame_duration(asset, video)? {
                frame_duration = Some(frame_duration.map_or(step, |d| d.min(step)));
            }
            let mut layer = LayerInstruction::new(track.id);
            layer.transform = Ramp::Constant(transform);
            layers.push(layer);
        }
        Ok(VideoComposition {
            render_size: Size::new(width.round() as u32, height.round() as u32),
            frame_duration: frame_duration.unwrap_or(Time::new(1, 30)),
            render_scale: 1.0,
            color_space: if hdr { BT2100_PQ } else { ColorSpace::SRGB },
            instructions: vec![Instruction {
                time_range: TimeRange::new(Time::ZERO, composition.duration()),
                background: [0.0, 0.0, 0.0, 1.0],
                layers,
            }],
        })
    }

    /// The output image's size: the render size times the render scale.
    pub fn output_size(&self) -> Size {
        let scale = |v: u32| (f64::from(v) * self.render_scale).round().max(1.0) as u32;
        Size::new(
            scale(self.render_size.width),
            scale(self.render_size.height),
        )
    }

    /// Checks the video composition against `composition`: a render size,
    /// frame duration and scale that make pictures, the SDR output colour
    /// space, instructions without gaps or overlaps covering the whole
    /// composition, layers naming its tracks, opacities in 0..=1,
    /// invertible transforms, crops with a positive size, ramps with
    /// positive durations.
    pub fn validate(&self, composition: &Composition) -> std::result::Result<(), CompositionError> {
        composition.validate()?;
        if self.render_size.width == 0 || self.render_size.height == 0 {
            return Err(CompositionError::EmptyRenderSize {
                width: self.render_size.width,
                height: self.render_size.height,
            });
        }
        if !(self.frame_duration.is_numeric() && self.frame_duration > Time::ZERO) {
            return Err(CompositionError::InvalidFrameDuration(self.frame_duration));
        }
        if !(self.render_scale.is_finite() && self.render_scale > 0.0) {
            return Err(CompositionError::InvalidRenderScale(self.render_scale));
        }
        let out = self.output_size();
        if u64::from(out.width) * u64::from(out.height) > MAX_OUTPUT_PIXELS {
            return Err(CompositionError::TooLarge {
                width: out.width,
                height: out.height,
            });
        }
        if self.color_space != ColorSpace::SRGB && self.color_space != BT2100_PQ {
            return Err(CompositionError::UnsupportedColorSpace(self.color_space));
        }
        let Some(first) = self.instructions.first() else {
            return Err(CompositionError::NoInstructions);
        };
        if first.time_range.start != Time::ZERO {
            return Err(CompositionError::Gap {
                at: "instructions[0]".into(),
                from: Time::ZERO,
                to: first.time_range.start,
            });
        }
        for (i, instruction) in self.instructions.iter().enumerate() {
            let at = format!("instructions[{i}]");
            if !instruction.time_range.is_valid() {
                return Err(CompositionError::InvalidRange {
                    at: format!("{at}.duration"),
                    problem: format!(
                        "needs a start and a positive duration, not {} + {}",
                        instruction.time_range.start, instruction.time_range.duration
                    ),
                });
            }
            if let Some(next) = self.instructions.get(i + 1) {
                let (end, start) = (instruction.time_range.end(), next.time_range.start);
                if start > end {
                    return Err(CompositionError::Gap {
                        at: format!("instructions[{}]", i + 1),
                        from: end,
                        to: start,
                    });
                }
                if start < end {
                    return Err(CompositionError::Overlap {
                        at: format!("instructions[{}]", i + 1),
                        from: start,
                        to: end,
                    });
                }
            }
            if instruction
                .background
                .iter()
                .any(|c| !(0.0..=1.0).contains(c))
            {
                return Err(CompositionError::OutOfRange {
                    at: format!("{at}.background"),
                    problem: "components must lie in 0..=1".into(),
                });
            }
            for (j, layer) in instruction.layers.iter().enumerate() {
                validate_layer(composition, layer, &format!("{at}.layers[{j}]"))?;
            }
        }
        let end = self
            .instructions
            .last()
            .map_or(Time::ZERO, |i| i.time_range.end());
        let duration = composition.duration();
        if end < duration {
            return Err(CompositionError::Gap {
                at: format!("instructions[{}]", self.instructions.len() - 1),
                from: end,
                to: duration,
            });
        }
        Ok(())
    }
}

/// A track's mean frame duration: from its frame index where that is
/// complete (MP4 sample tables, a persistent index), else from the frames
/// the container declares over the track's span, and only as a last resort
/// from a full scan, which a file read on demand would otherwise not need.
fn mean_frame_duration(asset: &Asset, track: &crate::asset::VideoTrack) -> Result<Option<Time>> {
    let declared = track
        .declared_frames
        .filter(|&n| n > 1 && n < i32::MAX as u64);
    let rate = if asset.has_complete_index(track) || declared.is_none() {
        asset.timeline(track)?.and_then(|t| t.average_frame_rate)
    } else {
        let span = asset.frame_span(track)?;
        span.zip(declared).and_then(|((first, end), frames)| {
            let ticks = (end - first).convert_scale(1_000_000, Default::default());
            crate::ratio::Ratio::new(frames as i64 * 1_000_000, ticks.value())
        })
    };
    Ok(rate
        .filter(|r| r.num > 0 && r.den > 0 && r.num <= i64::from(i32::MAX))
        .map(|r| Time::new(r.den, r.num as i32)))
}

/// A composed picture larger than this (a 16K square) is refused: the
/// layers and the accumulation buffer would need gigabytes.
const MAX_OUTPUT_PIXELS: u64 = 16384 * 16384;

fn validate_layer(
    composition: &Composition,
    layer: &LayerInstruction,
    at: &str,
) -> std::result::Result<(), CompositionError> {
    if composition.track(layer.track).is_none() {
        return Err(CompositionError::UnknownTrack {
            at: format!("{at}.track"),
            track: layer.track,
            tracks: composition.tracks.iter().map(|t| t.id).collect(),
        });
    }
    let ranges = [
        ("transform", layer.transform.range()),
        ("opacity", layer.opacity.range()),
        ("crop", layer.crop.and_then(|c| c.range())),
    ];
    for (field, range) in ranges {
        if range.is_some_and(|r| !r.is_valid()) {
            return Err(CompositionError::InvalidRange {
                at: format!("{at}.{field}"),
                problem: "a ramp needs a start and a positive duration".into(),
            });
        }
    }
    for t in layer.transform.values() {
        if !t.is_finite() || t.inverse().is_none() {
            return Err(CompositionError::OutOfRange {
                at: format!("{at}.transform"),
                problem: format!("{t:?} is not an invertible transform"),
            });
        }
    }
    for o in layer.opacity.values() {
        if !(0.0..=1.0).contains(&o) {
            return Err(CompositionError::OutOfRange {
                at: format!("{at}.opacity"),
                problem: format!("{o} is outside 0..=1"),
            });
        }
    }
    for c in layer.crop.map(|c| c.values()).unwrap_or_default() {
        let finite = [c.x, c.y, c.width, c.height].iter().all(|v| v.is_finite());
        if !finite || c.width <= 0.0 || c.height <= 0.0 {
            return Err(CompositionError::OutOfRange {
                at: format!("{at}.crop"),
                problem: format!("{c:?} needs a finite position and a positive size"),
            });
        }
    }
    Ok(())
}

/// The transform a track's display matrix asks for, as a layer transform
/// of its stored pixels: its orientation (mirror, then a quarter turn),
/// then the pixel aspect ratio along x.
pub(crate) fn preferred_transform(track: &crate::asset::VideoTrack) -> Transform {
    oriented(
        (track.coded_width, track.coded_height),
        track.effective_orientation(),
        track.sample_aspect_ratio,
    )
}

fn oriented(
    (width, height): (u32, u32),
    o: crate::asset::geometry::Orientation,
    sample_aspect_ratio: Option<crate::ratio::Ratio>,
) -> Transform {
    let (w, h) = (f64::from(width), f64::from(height));
    let mut t = if o.mirror {
        Transform {
            a: -1.0,
            tx: w,
            ..Transform::IDENTITY
        }
    } else {
        Transform::IDENTITY
    };
    let turn = match o.rotation {
        90 => Transform {
            a: 0.0,
            b: 1.0,
            c: -1.0,
            d: 0.0,
            tx: h,
            ty: 0.0,
        },
        180 => Transform {
            a: -1.0,
            b: 0.0,
            c: 0.0,
            d: -1.0,
            tx: w,
            ty: h,
        },
        270 => Transform {
            a: 0.0,
            b: -1.0,
            c: 1.0,
            d: 0.0,
            tx: 0.0,
            ty: w,
        },
        _ => Transform::IDENTITY,
    };
    t = t.then(&turn);
    if let Some(sar) = sample_aspect_ratio.filter(|r| r.num > 0 && r.den > 0) {
        let stretch = sar.to_f64();
        let sx = if o.swaps_axes() { 1.0 } else { stretch };
        let sy = if o.swaps_axes() { stretch } else { 1.0 };
        t = t.then(&Transform::scale(sx, sy));
    }
    t
}

/// What is wrong with a composition or video composition, and where: `at`
/// is the path of the offending field, as the JSON form of the composition
/// spells it (`instructions[1].layers[0].track`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CompositionError {
    #[error("render_size: {width}x{height} is empty; both sides must be at least 1")]
    EmptyRenderSize { width: u32, height: u32 },
    #[error("output of {width}x{height} pixels is too large to compose")]
    TooLarge { width: u32, height: u32 },
    #[error("frame_duration: must be a positive time, not {0}")]
    InvalidFrameDuration(Time),
    #[error("render_scale: must be a positive number, not {0}")]
    InvalidRenderScale(f64),
    #[error(
        "color_space: only sRGB (BT.709 primaries, sRGB transfer) output is composed; {0:?} is not"
    )]
    UnsupportedColorSpace(ColorSpace),
    #[error("instructions: there are none; at least one must cover the composition")]
    NoInstructions,
    #[error("{at}: nothing covers {from}s to {to}s (instructions must follow each other without gaps from 0 to the composition's end)")]
    Gap { at: String, from: Time, to: Time },
    #[error("{at}: overlaps the instruction before it from {from}s to {to}s")]
    Overlap { at: String, from: Time, to: Time },
    #[error("{at}: no composition track has ID {track} (IDs: {tracks:?})")]
    UnknownTrack {
        at: String,
        track: u32,
        tracks: Vec<u32>,
    },
    #[error("{at}: two tracks have ID {id}")]
    DuplicateTrack { at: String, id: u32 },
    #[error("{at}: no asset {asset} (the composition has {assets})")]
    UnknownAsset {
        at: String,
        asset: usize,
        assets: usize,
    },
    #[error("{at}: {asset} has no video track with stream index {stream}")]
    NoSuchStream {
        at: String,
        stream: usize,
        asset: String,
    },
    #[error("{at}: {problem}")]
    InvalidRange { at: String, problem: String },
    #[error("{at}: {problem}")]
    OutOfRange { at: String, problem: String },
    /// The JSON form of a composition could not be read.
    #[error("{at}: {problem}")]
    Json { at: String, problem: String },
}

impl CompositionError {
    /// The path of the offending field.
    pub fn at(&self) -> &str {
        match self {
            CompositionError::EmptyRenderSize { .. } | CompositionError::TooLarge { .. } => {
                "render_size"
            }
            CompositionError::InvalidFrameDuration(_) => "frame_duration",
            CompositionError::InvalidRenderScale(_) => "render_scale",
            CompositionError::UnsupportedColorSpace(_) => "color_space",
            CompositionError::NoInstructions => "instructions",
            CompositionError::Gap { at, .. }
            | CompositionError::Overlap { at, .. }
            | CompositionError::UnknownTrack { at, .. }
            | CompositionError::DuplicateTrack { at, .. }
            | CompositionError::UnknownAsset { at, .. }
            | CompositionError::NoSuchStream { at, .. }
            | CompositionError::InvalidRange { at, .. }
            | CompositionError::OutOfRange { at, .. }
            | CompositionError::Json { at, .. } => at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9
    }

    #[test]
    fn transforms_compose_and_invert() {
        let t = Transform::scale(0.5, 0.25).then(&Transform::translate(10.0, 20.0));
        assert!(close(t.apply(4.0, 8.0), (12.0, 22.0)));
        let back = t.inverse().unwrap();
        assert!(close(back.apply(12.0, 22.0), (4.0, 8.0)));
        assert!(Transform::scale(0.0, 1.0).inverse().is_none());
    }

    #[test]
    fn ramps_hold_their_ends_outside_their_range() {
        let ramp = Ramp::Linear {
            from: 0.0,
            to: 1.0,
            range: TimeRange::new(Time::new(1, 1), Time::new(2, 1)),
        };
        assert_eq!(ramp.at(Time::ZERO), 0.0);
        assert_eq!(ramp.at(Time::new(2, 1)), 0.5);
        assert_eq!(ramp.at(Time::new(5, 1)), 1.0);
    }

    #[test]
    fn a_preferred_transform_turns_the_stored_picture_upright() {
        use crate::asset::geometry::Orientation;
        let turned = |rotation: u16, mirror: bool| {
            oriented((160, 96), Orientation { rotation, mirror }, None)
        };
        // A quarter turn clockwise: the stored top-left corner goes to the
        // top-right of a 96-wide picture, the top-right to the bottom-right.
        let t = turned(90, false);
        assert!(close(t.apply(0.0, 0.0), (96.0, 0.0)));
        assert!(close(t.apply(160.0, 0.0), (96.0, 160.0)));
        let t = turned(270, false);
        assert!(close(t.apply(0.0, 0.0), (0.0, 160.0)));
        let t = turned(180, false);
        assert!(close(t.apply(0.0, 0.0), (160.0, 96.0)));
        let t = turned(0, true);
        assert!(close(t.apply(0.0, 0.0), (160.0, 0.0)));
        // Pixels twice as wide as tall are stretched along x.
        let wide = oriented(
            (160, 96),
            Orientation::IDENTITY,
            crate::ratio::Ratio::new(2, 1),
        );
        assert!(close(wide.apply(160.0, 96.0), (320.0, 96.0)));
    }
}
