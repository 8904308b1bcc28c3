//! [`CompositionGenerator`]: still images of a composition. A batch of
//! requests is mapped to composition frames, every layer's source frame is
//! asked of an ordinary [`ImageGenerator`] per source track (exact, so each
//! asset's groups of pictures are visited once per batch by the normal
//! planner and backends), and each frame is composed as soon as its layers
//! are in, then handed over.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};

use crate::error::{Error, Result};
use crate::generator::{
    Cancel, FutureSlot, GeneratedImage, GeneratorPool, GeneratorSettings, ImageFuture,
    ImageGenerator, ImageResult, ImageStream, Outcome, StreamQueue, SubmittedBatch,
};
use crate::gpu::compose::{read_composed, upload_layer, ComposedEncoding, LayerPixels};
use crate::image::{ColorSpace, Image, PixelFormat};
use crate::limits::DEFAULT_TIMEOUT;
use crate::ratio::Ratio;
use crate::render::{ApertureMode, DynamicRangePolicy, Size};
use crate::time::Time;

use super::compositor::{
    BuiltinCompositor, ComposedFrame, CompositionRequest, LayerFrame, LayerScale, VideoCompositor,
};
use super::light::{linear_bt2020, BT2100_PQ};
use super::model::{Composition, CropRect, Transform, VideoComposition};
use super::timeline::{frame_for, instruction_at, segment_at, source_time};

/// One source track of the composition and the generator that decodes it.
struct Source {
    asset: usize,
    stream: usize,
    time_base: Ratio,
    natural: (u32, u32),
    generator: ImageGenerator,
}

struct Shared {
    composition: Composition,
    video: VideoComposition,
    sources: Vec<Source>,
    /// Whose GPU the frames compose on.
    pool: GeneratorPool,
    /// Bumped by `cancel_all`: a batch started in an earlier epoch stops.
    epoch: AtomicU64,
    /// Batches not yet finished, and the signal that one finished.
    active: Mutex<usize>,
    quiet: Condvar,
}

/// Generates images of a [`Composition`] as a [`VideoComposition`] draws
/// it: `AVAssetImageGenerator` over a composition with its
/// `videoComposition` and, optionally, `customVideoCompositor` set.
///
/// Settings are [`GeneratorSettings`]: the tolerances choose among
/// composition frames (each is the frame displayed at its time, which lies
/// in every window), the maximum size bounds the output image, the backend
/// and deinterlacing apply to every source, and the preferred track
/// transform is ignored, as Apple does: the layer transforms place each
/// track.
pub struct CompositionGenerator {
    shared: Arc<Shared>,
    settings: Mutex<GeneratorSettings>,
    /// Taken by each batch when submitted, as the settings are.
    compositor: Mutex<Arc<dyn VideoCompositor>>,
}

impl CompositionGenerator {
    /// A generator with a pool of its own, composing on the process's
    /// default GPU (lavapipe where there is no other).
    pub fn new(composition: Composition, video: VideoComposition) -> Result<CompositionGenerator> {
        CompositionGenerator::with_pool(composition, video, &GeneratorPool::new())
    }

    /// A generator whose sources decode on `pool`, beside the work of every
    /// other generator on it, and whose frames compose on the pool's GPU
    /// (so layer textures are on the device its pipelines use).
    pub fn with_pool(
        composition: Composition,
        video: VideoComposition,
        pool: &GeneratorPool,
    ) -> Result<CompositionGenerator> {
        video
            .validate(&composition)
            .map_err(Error::InvalidComposition)?;
        let mut sources: Vec<Source> = Vec::new();
        for track in &composition.tracks {
            for s in track.segments.iter().filter_map(|s| s.source) {
                if sources
                    .iter()
                    .any(|x| (x.asset, x.stream) == (s.asset, s.stream))
                {
                    continue;
                }
                let asset = composition.assets[s.asset].clone();
                let video_track = asset.image_track(Some(s.stream))?;
                let (time_base, natural) = (
                    video_track.time_base,
                    (video_track.coded_width, video_track.coded_height),
                );
                sources.push(Source {
                    asset: s.asset,
                    stream: s.stream,
                    time_base,
                    natural,
                    generator: ImageGenerator::with_pool(asset, pool),
                });
            }
        }
        Ok(CompositionGenerator {
            shared: Arc::new(Shared {
                composition,
                video,
                sources,
                pool: pool.clone(),
                epoch: AtomicU64::new(0),
                active: Mutex::new(0),
                quiet: Condvar::new(),
            }),
            settings: Mutex::new(GeneratorSettings::default()),
            compositor: Mutex::new(Arc::new(BuiltinCompositor::new())),
        })
    }

    /// Composes with `compositor` instead of the built-in one.
    pub fn with_compositor(self, compositor: Arc<dyn VideoCompositor>) -> CompositionGenerator {
        *lock(&self.compositor) = compositor;
        self
    }

    pub fn composition(&self) -> &Composition {
        &self.shared.composition
    }

    pub fn video_composition(&self) -> &VideoComposition {
        &self.shared.video
    }

    /// Changes settings for requests submitted from now on.
    pub fn configure<R>(&self, change: impl FnOnce(&mut GeneratorSettings) -> R) -> R {
        change(&mut self.settings.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Generates images for `times` on a thread of the generator's, calling
    /// `handler` exactly once per requested time with its outcome, in the
    /// order the frames are composed.
    pub fn generate_images(
        &self,
        times: impl IntoIterator<Item = Time>,
        handler: impl FnMut(Time, Outcome) + Send + 'static,
    ) {
        let mut handler = handler;
        self.submit(times.into_iter().collect(), move |_, t, o| handler(t, o));
    }

    /// The image of the composition frame displayed at `t`. Works on any
    /// executor; dropping the future cancels the request.
    pub fn image_at(&self, t: Time) -> ImageFuture {
        let slot = FutureSlot::new();
        let mut fill = Some(slot.filler());
        let cancel = self.submit(vec![t], move |_, _, outcome| {
            if let Some(fill) = fill.take() {
                fill(result_of(outcome));
            }
        });
        slot.into_future(cancel)
    }

    /// Images for many times, as a stream of items keyed by requested time,
    /// in the order they are composed. Dropping the stream cancels what is
    /// pending.
    pub fn images(&self, times: impl IntoIterator<Item = Time>) -> ImageStream {
        let times: Vec<Time> = times.into_iter().collect();
        let queue = StreamQueue::new(times.len());
        let mut push = queue.pusher();
        let cancel = self.submit(times, move |_, requested, outcome| {
            push(GeneratedImage {
                requested,
                result: result_of(outcome),
            })
        });
        queue.into_stream(cancel)
    }

    /// Runs a batch for `times` on a thread of its own, handing `handler`
    /// each request's index, time and outcome exactly once.
    fn submit(
        &self,
        times: Vec<Time>,
        handler: impl FnMut(usize, Time, Outcome) + Send + 'static,
    ) -> Arc<BatchCancel> {
        let settings = lock(&self.settings).clone();
        let cancel = Arc::new(BatchCancel::default());
        let batch = BatchRun {
            shared: self.shared.clone(),
            compositor: lock(&self.compositor).clone(),
            settings,
            epoch: self.shared.epoch.load(Ordering::SeqCst),
            times,
            cancel: cancel.clone(),
            _active: ActiveBatch::start(&self.shared),
        };
        let handler = Arc::new(Mutex::new(handler));
        let (h, inline) = (handler.clone(), batch.clone_for_retry());
        let spawned = std::thread::Builder::new()
            .name("stills-compose".into())
            .spawn(move || batch.run(&mut |i, t, o| lock(&h)(i, t, o)));
        // Without a thread of its own the batch runs here: slower for the
        // caller, but every request is still answered.
        if spawned.is_err() {
            inline.run(&mut |i, t, o| lock(&handler)(i, t, o));
        }
        cancel
    }

    /// One image, blocking until it is composed.
    pub fn copy_image(&self, t: Time) -> ImageResult {
        let (tx, rx) = mpsc::channel();
        self.generate_images([t], move |_, outcome| {
            let _ = tx.send(outcome);
        });
        rx.recv().map_or(Err(Error::Cancelled), result_of)
    }

    /// Cancels every request not yet delivered: their handlers get
    /// `Cancelled`, the sources' decoding stops and the compositor is told.
    /// When it returns every cancelled request has been handed over, except
    /// when called from a handler of this generator: then it returns at
    /// once and the cancellations follow the running handler.
    pub fn cancel_all(&self) {
        self.shared.epoch.fetch_add(1, Ordering::SeqCst);
        for source in &self.shared.sources {
            source.generator.cancel_all();
        }
        lock(&self.compositor).cancel_all();
        if !ON_COMPOSE_THREAD.with(|c| c.get()) {
            let mut active = lock(&self.shared.active);
            while *active > 0 {
                active = self
                    .shared
                    .quiet
                    .wait(active)
                    .unwrap_or_else(|p| p.into_inner());
            }
        }
    }
}

impl Drop for CompositionGenerator {
    fn drop(&mut self) {
        self.cancel_all();
    }
}

fn result_of(outcome: Outcome) -> ImageResult {
    match outcome {
        Outcome::Succeeded { image, actual_time } => Ok((image, actual_time)),
        Outcome::Failed(e) => Err(e),
        Outcome::Cancelled => Err(Error::Cancelled),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Counts a generator's running batches, so that `cancel_all` can wait
/// for their cancellations to be handed over.
struct ActiveBatch(Arc<Shared>);

impl ActiveBatch {
    fn start(shared: &Arc<Shared>) -> ActiveBatch {
        *lock(&shared.active) += 1;
        ActiveBatch(shared.clone())
    }
}

impl Drop for ActiveBatch {
    fn drop(&mut self) {
        *lock(&self.0.active) -= 1;
        self.0.quiet.notify_all();
    }
}

thread_local! {
    static ON_COMPOSE_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A source frame a layer needs: which source, at what size, at what time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct LayerKey {
    source: usize,
    size: Size,
    time: Time,
}

/// How one layer of one frame is drawn, before its picture is in.
struct LayerPlan {
    layer: usize,
    track: u32,
    key: LayerKey,
    /// Source pixel coordinates → output pixel coordinates.
    to_output: Transform,
    opacity: f64,
    /// In source pixel coordinates.
    crop: Option<CropRect>,
}

struct FramePlan {
    instruction: usize,
    layers: Vec<LayerPlan>,
    /// Indices of the requests this frame answers.
    requests: Vec<usize>,
    pending: usize,
}

type Deliver<'a> = dyn FnMut(usize, Time, Outcome) + 'a;

/// What cancels one batch alone: set when the future or stream that asked
/// for it is dropped, with the source batches it started.
#[derive(Default)]
struct BatchCancel {
    cancelled: AtomicBool,
    sources: Mutex<Vec<SubmittedBatch>>,
}

impl Cancel for BatchCancel {
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        for source in lock(&self.sources).iter() {
            source.cancel();
        }
    }
}

struct BatchRun {
    shared: Arc<Shared>,
    compositor: Arc<dyn VideoCompositor>,
    settings: GeneratorSettings,
    epoch: u64,
    times: Vec<Time>,
    cancel: Arc<BatchCancel>,
    _active: ActiveBatch,
}

impl BatchRun {
    fn clone_for_retry(&self) -> BatchRun {
        BatchRun {
            shared: self.shared.clone(),
            compositor: self.compositor.clone(),
            settings: self.settings.clone(),
            epoch: self.epoch,
            times: self.times.clone(),
            cancel: self.cancel.clone(),
            _active: ActiveBatch::start(&self.shared),
        }
    }

    fn cancelled(&self) -> bool {
        self.shared.epoch.load(Ordering::SeqCst) != self.epoch
            || self.cancel.cancelled.load(Ordering::SeqCst)
    }

    /// Whether the output is HDR: a BT.2100 PQ composition asked for with
    /// the `MatchSource` policy. Otherwise it is sRGB, HDR layers tone
    /// mapped.
    fn keeps_hdr(&self) -> bool {
        self.shared.video.color_space == BT2100_PQ
            && self.settings.dynamic_range_policy() == DynamicRangePolicy::MatchSource
    }

    /// Output pixels per render coordinate: the render scale, shrunk so the
    /// image fits the maximum size.
    fn output_scale(&self) -> f64 {
        let video = &self.shared.video;
        let out = video.output_size();
        let max = self.settings.maximum_size();
        let fit = |limit: u32, side: u32| {
            if limit == 0 {
                1.0
            } else {
                (f64::from(limit) / f64::from(side)).min(1.0)
            }
        };
        video.render_scale * fit(max.width, out.width).min(fit(max.height, out.height))
    }

    fn run(self, deliver: &mut Deliver<'_>) {
        let was = ON_COMPOSE_THREAD.with(|c| c.replace(true));
        self.run_marked(deliver);
        ON_COMPOSE_THREAD.with(|c| c.set(was));
    }

    fn run_marked(&self, deliver: &mut Deliver<'_>) {
        let shared = self.shared.clone();
        let video = &shared.video;
        let scale = self.output_scale();
        let out_size = {
            let r = video.render_size;
            let side = |v: u32| (f64::from(v) * scale).round().max(1.0) as u32;
            Size::new(side(r.width), side(r.height))
        };
        let mut frames: BTreeMap<Time, FramePlan> = BTreeMap::new();
        for (i, &t) in self.times.iter().enumerate() {
            let frame = frame_for(
                t,
                self.settings.tolerance_before(),
                self.settings.tolerance_after(),
                video.frame_duration,
                shared.composition.duration(),
            );
            match frame {
                Err(e) => deliver(i, t, Outcome::Failed(e)),
                Ok(f) => match frames.get_mut(&f) {
                    Some(plan) => plan.requests.push(i),
                    None => match self.plan_frame(f, scale, out_size) {
                        Ok(mut plan) => {
                            plan.requests.push(i);
                            frames.insert(f, plan);
                        }
                        Err(e) => deliver(i, t, Outcome::Failed(e)),
                    },
                },
            }
        }

        // Ask each source for its frames in one batch: a frame two layers
        // draw at different sizes is decoded once.
        let mut requests: Vec<Vec<LayerKey>> = vec![Vec::new(); shared.sources.len()];
        let mut waiting: HashMap<LayerKey, Vec<Time>> = HashMap::new();
        for (&f, plan) in &frames {
            for layer in &plan.layers {
                let dependents = waiting.entry(layer.key).or_default();
                if dependents.is_empty() {
                    requests[layer.key.source].push(layer.key);
                }
                if dependents.last() != Some(&f) {
                    dependents.push(f);
                }
            }
        }
        let (tx, rx) = mpsc::channel::<(LayerKey, ImageResult)>();
        for (source, keys) in requests.into_iter().enumerate() {
            if keys.is_empty() {
                continue;
            }
            let src = &shared.sources[source];
            let mut settings = self.settings.clone();
            settings.set_exact();
            settings.set_applies_preferred_track_transform(false);
            settings.set_aperture_mode(ApertureMode::EncodedPixels);
            settings.set_dynamic_range_policy(if self.keeps_hdr() {
                DynamicRangePolicy::MatchSource
            } else {
                DynamicRangePolicy::ForceSdr
            });
            settings.set_track(Some(src.stream));
            let sized = keys.iter().map(|k| (k.time, k.size)).collect();
            let tx = tx.clone();
            let submitted = src
                .generator
                .generate_sized(settings, sized, move |i, result| {
                    let _ = tx.send((keys[i], result));
                });
            lock(&self.cancel.sources).push(submitted);
        }
        drop(tx);
        // A cancellation that came while the sources were being asked.
        if self.cancelled() {
            self.cancel.cancel();
        }

        let mut pictures: HashMap<LayerKey, std::result::Result<(Image, Time), Error>> =
            HashMap::new();
        let mut ready: Vec<Time> = frames
            .iter()
            .filter(|(_, p)| p.pending == 0)
            .map(|(&f, _)| f)
            .collect();
        loop {
            for f in ready.drain(..) {
                if let Some(plan) = frames.remove(&f) {
                    let outcome = if self.cancelled() {
                        Outcome::Cancelled
                    } else {
                        match self.compose(f, &plan, out_size, &pictures) {
                            Ok(image) => Outcome::Succeeded {
                                image,
                                actual_time: f,
                            },
                            Err(e) => Outcome::Failed(e),
                        }
                    };
                    self.hand_over(&plan.requests, outcome, deliver);
                    for layer in &plan.layers {
                        if let Some(dependents) = waiting.get_mut(&layer.key) {
                            dependents.retain(|&d| d != f);
                            if dependents.is_empty() {
                                pictures.remove(&layer.key);
                            }
                        }
                    }
                }
            }
            if frames.is_empty() {
                break;
            }
            let Ok((key, result)) = rx.recv() else {
                break;
            };
            pictures.insert(key, result);
            for f in waiting.get(&key).into_iter().flatten() {
                if let Some(plan) = frames.get_mut(f) {
                    plan.pending -= plan.layers.iter().filter(|l| l.key == key).count();
                    if plan.pending == 0 {
                        ready.push(*f);
                    }
                }
            }
        }
        // Only a source generator gone away leaves frames unanswered.
        for plan in std::mem::take(&mut frames).into_values() {
            self.hand_over(&plan.requests, Outcome::Cancelled, deliver);
        }
    }

    fn hand_over(&self, requests: &[usize], outcome: Outcome, deliver: &mut Deliver<'_>) {
        let outcome = if self.cancelled() {
            Outcome::Cancelled
        } else {
            outcome
        };
        for &i in requests {
            let copy = match &outcome {
                Outcome::Succeeded { image, actual_time } => Outcome::Succeeded {
                    image: image.clone(),
                    actual_time: *actual_time,
                },
                Outcome::Failed(e) => Outcome::Failed(e.clone()),
                Outcome::Cancelled => Outcome::Cancelled,
            };
            deliver(i, self.times[i], copy);
        }
    }

    /// What frame `f` draws: the instruction in force, and for each of its
    /// layers whose track shows something, the source frame and where it
    /// goes.
    fn plan_frame(&self, f: Time, scale: f64, out_size: Size) -> Result<FramePlan> {
        let shared = &self.shared;
        let index = instruction_at(&shared.video, f).ok_or_else(|| Error::NoImageAtTime {
            requested: f,
            reason: "no instruction covers it".into(),
        })?;
        let instruction = &shared.video.instructions[index];
        let as_drawn = self.compositor.layer_scale() == LayerScale::AsDrawn;
        let mut layers = Vec::new();
        for (j, layer) in instruction.layers.iter().enumerate() {
            let Some((start, segment)) = segment_at(&shared.composition, layer.track, f) else {
                continue;
            };
            let Some(source) = segment.source else {
                continue;
            };
            let index = shared
                .sources
                .iter()
                .position(|s| (s.asset, s.stream) == (source.asset, source.stream))
                .ok_or_else(|| Error::InvalidTime("a segment's source is not open".into()))?;
            let src = &shared.sources[index];
            let time =
                source_time(start, &segment, &source, f, src.time_base).ok_or_else(|| {
                    Error::InvalidTime(format!(
                        "composition time {f}s maps outside track {}'s timeline",
                        layer.track
                    ))
                })?;
            let to_output = layer.transform.at(f).then(&Transform::scale(scale, scale));
            let size = if as_drawn {
                drawn_size(&to_output, src.natural, out_size)
            } else {
                Size::NATIVE
            };
            layers.push(LayerPlan {
                layer: j,
                track: layer.track,
                key: LayerKey {
                    source: index,
                    size,
                    time,
                },
                to_output,
                opacity: layer.opacity.at(f),
                crop: layer.crop.map(|c| c.at(f)),
            });
        }
        Ok(FramePlan {
            instruction: index,
            pending: layers.len(),
            layers,
            requests: Vec::new(),
        })
    }

    fn compose(
        &self,
        f: Time,
        plan: &FramePlan,
        out_size: Size,
        pictures: &HashMap<LayerKey, std::result::Result<(Image, Time), Error>>,
    ) -> Result<Image> {
        let shared = &self.shared;
        let gpu = shared.pool.gpu()?;
        let host = self.compositor.wants_host_pixels();
        let hdr = self.keeps_hdr();
        let (color_space, format, encoding) = if hdr {
            (BT2100_PQ, PixelFormat::Rgba16, ComposedEncoding::Pq16)
        } else {
            (
                ColorSpace::SRGB,
                PixelFormat::Rgba8,
                ComposedEncoding::Srgb8,
            )
        };
        let mut frames = Vec::with_capacity(plan.layers.len());
        for layer in &plan.layers {
            let (image, actual) = match pictures.get(&layer.key) {
                Some(Ok(picture)) => picture,
                Some(Err(e)) => return Err(e.clone()),
                None => return Err(Error::Cancelled),
            };
            let (w, h) = shared.sources[layer.key.source].natural;
            let (tw, th) = (image.width(), image.height());
            let (sx, sy) = (f64::from(tw) / f64::from(w), f64::from(th) / f64::from(h));
            let texture = if hdr {
                let linear = linear_bt2020(image).ok_or_else(|| {
                    Error::Compositor(format!(
                        "track {}'s frame came in {:?}, which cannot be composed as HDR",
                        layer.track,
                        image.color_space()
                    ))
                })?;
                upload_layer(&gpu, (tw, th), LayerPixels::Linear(&linear))?
            } else if image.pixel_format() == PixelFormat::Rgba8 {
                let (stride, data) = (image.stride(), image.data());
                upload_layer(&gpu, (tw, th), LayerPixels::Srgb8 { stride, data })?
            } else {
                return Err(Error::Compositor(format!(
                    "track {}'s frame came as {:?}, not 8-bit RGBA",
                    layer.track,
                    image.pixel_format()
                )));
            };
            frames.push(LayerFrame {
                layer: layer.layer,
                track: layer.track,
                source_time: *actual,
                texture,
                pixels: host.then(|| image.clone()),
                to_output: Transform::scale(1.0 / sx, 1.0 / sy).then(&layer.to_output),
                opacity: layer.opacity,
                crop: layer.crop.map(|c| CropRect {
                    x: c.x * sx,
                    y: c.y * sy,
                    width: c.width * sx,
                    height: c.height * sy,
                }),
            });
        }
        let instruction = &shared.video.instructions[plan.instruction];
        let request = CompositionRequest {
            time: f,
            instruction,
            output_size: out_size,
            color_space,
            layers: &frames,
            gpu: &gpu,
        };
        let composed = self.compositor.compose(&request).map_err(|e| match e
            .downcast::<crate::gpu::GpuError>()
        {
            Ok(gpu) => Error::Gpu(*gpu),
            Err(other) => Error::Compositor(other.to_string()),
        })?;
        let image = match composed {
            ComposedFrame::Texture(texture) => {
                let size = texture.size();
                if (size.width, size.height) != (out_size.width, out_size.height) {
                    return Err(Error::Compositor(format!(
                        "the compositor returned a {}x{} texture for a {}x{} frame",
                        size.width, size.height, out_size.width, out_size.height
                    )));
                }
                let data = read_composed(&gpu, &texture, encoding, DEFAULT_TIMEOUT)?;
                Image::new(
                    size.width,
                    size.height,
                    size.width as usize * format.bytes_per_pixel(),
                    format,
                    color_space,
                    data,
                )
                .ok_or_else(|| Error::Compositor("the composed texture read back short".into()))?
            }
            ComposedFrame::Pixels(image) => {
                if (image.width(), image.height()) != (out_size.width, out_size.height)
                    || image.pixel_format() != format
                    || image.color_space() != color_space
                {
                    return Err(Error::Compositor(format!(
                        "the compositor returned a {}x{} {:?} {:?} image for a {}x{} {format:?} {color_space:?} frame",
                        image.width(),
                        image.height(),
                        image.pixel_format(),
                        image.color_space(),
                        out_size.width,
                        out_size.height
                    )));
                }
                image
            }
        };
        Ok(image.with_alpha(instruction.background[3] < 1.0))
    }
}

/// The size a source of `natural` size is drawn at by `to_output`: its
/// picture is rendered at exactly that size by the frame pipeline's
/// filters, larger or smaller, and placed by the compose pass without
/// resampling where the transform is a scale and a whole-pixel move.
/// [`Size::NATIVE`] (the source's own size) where that is the drawn size,
/// or where the drawn picture would hold more than four times the output's
/// pixels (a layer zoomed far past the frame, sampled from its source
/// instead).
fn drawn_size(to_output: &Transform, (w, h): (u32, u32), output: Size) -> Size {
    let sx = to_output.a.hypot(to_output.b);
    let sy = to_output.c.hypot(to_output.d);
    let side = |v: u32, s: f64| (f64::from(v) * s).round().max(1.0);
    let (dw, dh) = (side(w, sx), side(h, sy));
    let budget = 4.0 * f64::from(output.width) * f64::from(output.height);
    if (dw, dh) == (f64::from(w), f64::from(h)) || dw * dh > budget {
        return Size::NATIVE;
    }
    Size::new(dw as u32, dh as u32)
}
