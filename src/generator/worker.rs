//! The generator's workers: persistent threads that plan batches, decode
//! planned runs with decoders they keep warm, and render each frame through
//! the GPU pipeline straight into the waiting requests.

use std::cell::Cell;
use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use crate::asset::{Asset, FrameIndex, VideoTrack};
use crate::decode::{self, BackendChoice, BackendKind, DecodedFrame, Decoder, Surface};
use crate::error::{Error, Result};
use crate::generator::batch::Batch;
use crate::gpu::{FramePipeline, GpuContext, RenderedImage};
use crate::image::{ColorSpace, Image, PixelFormat};
use crate::plan::{Choice, Planner, Request, RunShares, Target, Window};
use crate::render::spec::OutputEncoding;
use crate::render::{
    ChromaSubsampling, OutputSpec, PlaneLayout, SampleAlignment, SourceDescription,
};
use crate::surface::{ColorModel, HostFrame};
use crate::time::{RoundingMethod, Time};

/// Decoders a worker keeps open between batches, so a request on a warm
/// generator pays for neither thread nor decoder start-up.
const WARM_DECODERS_PER_WORKER: usize = 2;

pub(crate) enum Job {
    Plan(Arc<Batch>),
    /// One decoder's lane of a batch: it decodes runs from the batch's
    /// shares until none are left.
    Decode {
        batch: Arc<Batch>,
        work: Arc<BatchWork>,
        shares: Arc<Mutex<RunShares>>,
        lane: usize,
    },
}

/// What every decode job of one batch shares.
pub(crate) struct BatchWork {
    track: VideoTrack,
    index: Arc<FrameIndex>,
    backend: BackendChoice,
    /// Batch position of each planner request id.
    request_ids: Vec<usize>,
}

/// State shared by the generator handle and its worker threads.
pub(crate) struct Shared {
    pub asset: Arc<Asset>,
    pub workers: AtomicUsize,
    gpu: GpuSource,
    /// One pipeline for all of this generator's workers: they decode side
    /// by side and take turns on the GPU, so its buffers exist once.
    pipeline: Mutex<Option<FramePipeline>>,
    queue: Mutex<VecDeque<Job>>,
    ready: Condvar,
    pub shutdown: AtomicBool,
}

/// Where a generator's GPU comes from: the caller's, or the process-wide
/// default made on first use and shared by every generator.
pub(crate) enum GpuSource {
    Given(GpuContext),
    Default,
}

fn default_gpu() -> Result<GpuContext> {
    static DEFAULT: OnceLock<std::result::Result<GpuContext, String>> = OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            GpuContext::new(crate::gpu::AdapterPreference::default()).map_err(|e| e.to_string())
        })
        .clone()
        .map_err(Error::Gpu)
}

impl Shared {
    pub fn new(asset: Arc<Asset>, workers: usize, gpu: GpuSource) -> Shared {
        Shared {
            asset,
            workers: AtomicUsize::new(workers),
            gpu,
            pipeline: Mutex::new(None),
            queue: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
            shutdown: AtomicBool::new(false),
        }
    }

    fn gpu(&self) -> Result<GpuContext> {
        match &self.gpu {
            GpuSource::Given(ctx) => Ok(ctx.clone()),
            GpuSource::Default => default_gpu(),
        }
    }

    /// Makes the generator's pipeline if there is none yet.
    pub fn prepare_pipeline(&self) {
        let mut pipeline = self.pipeline.lock().unwrap_or_else(|p| p.into_inner());
        let _ = self.make_pipeline(&mut pipeline);
    }

    fn make_pipeline<'a>(
        &self,
        pipeline: &'a mut Option<FramePipeline>,
    ) -> Result<&'a mut FramePipeline> {
        let made = match pipeline.take() {
            Some(made) => made,
            None => FramePipeline::new(&self.gpu()?).map_err(|e| Error::Gpu(e.to_string()))?,
        };
        Ok(pipeline.insert(made))
    }

    /// Renders one frame on the generator's pipeline, made on first use.
    fn render(&self, frame: &HostFrame, spec: &OutputSpec) -> Result<RenderedImage> {
        let mut pipeline = self.pipeline.lock().unwrap_or_else(|p| p.into_inner());
        self.make_pipeline(&mut pipeline)?
            .render(frame, spec)
            .map_err(|e| Error::Gpu(e.to_string()))
    }

    /// Drops the pipeline after a failure inside it, so the next frame
    /// starts from fresh GPU resources.
    fn reset_pipeline(&self) {
        *self.pipeline.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub fn push(&self, job: Job) {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(job);
        self.ready.notify_one();
    }

    fn pop(&self) -> Option<Job> {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(job) = queue.pop_front() {
                return Some(job);
            }
            if self.shutdown.load(Ordering::Acquire) {
                return None;
            }
            queue = self.ready.wait(queue).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Wakes every worker to notice shutdown, and cancels what is queued.
    pub fn stop(&self) {
        self.shutdown.store(true, Ordering::Release);
        let jobs: Vec<Job> = self
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for job in jobs {
            match job {
                Job::Plan(batch) | Job::Decode { batch, .. } => batch.cancel(),
            }
        }
        self.ready.notify_all();
    }
}

thread_local! {
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling thread is one of a generator's workers (where
/// waiting for deliveries to finish would wait on itself).
pub(crate) fn on_worker_thread() -> bool {
    ON_WORKER.with(Cell::get)
}

/// One worker thread's loop.
pub(crate) fn run_worker(shared: Arc<Shared>) {
    ON_WORKER.with(|w| w.set(true));
    let mut worker = Worker {
        shared: shared.clone(),
        decoders: Vec::new(),
    };
    while let Some(job) = shared.pop() {
        let batch = match &job {
            Job::Plan(b) | Job::Decode { batch: b, .. } => b.clone(),
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| worker.run(job)));
        if outcome.is_err() {
            // A bug must not lose requests: whatever this job owed fails.
            batch.fail_all(&Error::DecodeFailed(
                "internal error while generating (a bug in stills)".into(),
            ));
            worker.decoders.clear();
            shared.reset_pipeline();
        }
    }
}

struct Worker {
    shared: Arc<Shared>,
    decoders: Vec<((usize, BackendKind), Box<dyn Decoder>)>,
}

impl Worker {
    fn run(&mut self, job: Job) {
        match job {
            Job::Plan(batch) => {
                if let Err(e) = self.plan(&batch) {
                    batch.fail_all(&e);
                }
            }
            Job::Decode {
                batch,
                work,
                shares,
                lane,
            } => {
                if let Err(e) = self.decode(&batch, &work, &shares, lane) {
                    batch.fail_all(&e);
                }
            }
        }
    }

    fn plan(&mut self, batch: &Arc<Batch>) -> Result<()> {
        let asset = &self.shared.asset;
        let track = asset.default_video_track()?.clone();
        let index = asset.frame_index(&track)?;
        let backend = decode::choose_backend(batch.settings.backend, &track)?;
        let tb = index.time_base;
        let (before, after) = (
            batch.settings.tolerance_before,
            batch.settings.tolerance_after,
        );
        let mut requests = Vec::new();
        let mut request_ids = Vec::new();
        for (i, &t) in batch.times.iter().enumerate() {
            match planner_request(t, before, after, tb) {
                Ok(r) => {
                    requests.push(r);
                    request_ids.push(i);
                }
                Err(e) => {
                    batch.resolve(i, Err(e));
                }
            }
        }
        let plan = Planner::new(&index).plan(&requests);
        for (k, choice) in plan.choices.iter().enumerate() {
            if let Choice::NoImageAtTime = choice {
                let i = request_ids[k];
                batch.resolve(
                    i,
                    Err(Error::NoImageAtTime {
                        requested: batch.times[i],
                        reason: no_image_reason(&index, batch.times[i], before, after),
                    }),
                );
            }
        }
        if plan.decode.is_empty() {
            return Ok(());
        }
        let work = Arc::new(BatchWork {
            track,
            index,
            backend,
            request_ids,
        });
        let lanes = self
            .shared
            .workers
            .load(Ordering::Relaxed)
            .min(decoders_within_budget(&work.track));
        let shares = plan
            .decode
            .share(NonZeroUsize::new(lanes).unwrap_or(NonZeroUsize::MIN));
        let lanes = shares.lanes();
        let shares = Arc::new(Mutex::new(shares));
        for lane in 0..lanes {
            self.shared.push(Job::Decode {
                batch: batch.clone(),
                work: work.clone(),
                shares: shares.clone(),
                lane,
            });
        }
        Ok(())
    }

    /// Takes this worker's warm decoder for the batch's track and backend
    /// (opening one if needed); `keep_decoder` puts it back.
    fn take_decoder(&mut self, work: &BatchWork) -> Result<Box<dyn Decoder>> {
        let key = (work.track.index, work.backend.backend);
        if let Some(pos) = self.decoders.iter().position(|(k, _)| *k == key) {
            return Ok(self.decoders.remove(pos).1);
        }
        // Workers decode side by side: together they use each core once,
        // rather than every worker's frame threads fighting for all of them
        // (and each thread holding its own reference pictures).
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = self.shared.workers.load(Ordering::Relaxed).max(1);
        let threads = cores.div_ceil(workers);
        decode::open_decoder(
            work.backend.backend,
            &self.shared.asset,
            &work.track,
            work.index.clone(),
            threads,
        )
    }

    fn keep_decoder(&mut self, work: &BatchWork, decoder: Box<dyn Decoder>) {
        if self.decoders.len() >= WARM_DECODERS_PER_WORKER {
            self.decoders.remove(0);
        }
        self.decoders
            .push(((work.track.index, work.backend.backend), decoder));
    }

    fn decode(
        &mut self,
        batch: &Arc<Batch>,
        work: &Arc<BatchWork>,
        shares: &Mutex<RunShares>,
        lane: usize,
    ) -> Result<()> {
        let next = || shares.lock().unwrap_or_else(|p| p.into_inner()).next(lane);
        // A decoder whose share the others already took opens nothing.
        let Some(first) = next() else {
            return Ok(());
        };
        let mut decoder = self.take_decoder(work)?;
        let waiting = |t: &Target| {
            t.requests
                .iter()
                .any(|&r| batch.is_pending(work.request_ids[r]))
        };
        for run in std::iter::once(first).chain(std::iter::from_fn(next)) {
            let run = &run;
            if !run.targets().iter().any(waiting) {
                continue;
            }
            let shared = self.shared.clone();
            let cancelled =
                || shared.shutdown.load(Ordering::Acquire) || !run.targets().iter().any(waiting);
            // Each picture is rendered and handed over as soon as it is
            // decoded, so a worker holds one decoded frame at a time.
            let mut deliver = |target: &Target, frame: Result<DecodedFrame>| {
                let result = frame.and_then(|f| self.render(work, batch, f));
                // Duplicates get copies; the last request takes the image
                // itself, so a lone request copies nothing.
                if let Some((&last, others)) = target.requests.split_last() {
                    for &r in others {
                        batch.resolve(work.request_ids[r], result.clone());
                    }
                    batch.resolve(work.request_ids[last], result);
                }
            };
            decoder.decode_run(run, &cancelled, &mut deliver);
        }
        self.keep_decoder(work, decoder);
        Ok(())
    }

    fn render(
        &mut self,
        work: &BatchWork,
        batch: &Batch,
        frame: DecodedFrame,
    ) -> Result<(Image, Time)> {
        let Surface::Host(host) = &frame.surface;
        let source = source_description(&work.track, host, &frame);
        let spec = OutputSpec::new(&source, &batch.settings.render())
            .map_err(|e| Error::Unsupported(e.to_string()))?;
        let rendered = self.shared.render(host, &spec)?;
        let (format, color_space) = match rendered.encoding {
            OutputEncoding::Srgb8 => (PixelFormat::Rgba8, ColorSpace::SRGB),
            OutputEncoding::Pq16 => (
                PixelFormat::Rgba16,
                ColorSpace {
                    primaries: spec.color.source_primaries,
                    transfer: crate::asset::color::TransferCharacteristic::Pq,
                },
            ),
            OutputEncoding::Hlg16 => (
                PixelFormat::Rgba16,
                ColorSpace {
                    primaries: spec.color.source_primaries,
                    transfer: crate::asset::color::TransferCharacteristic::Hlg,
                },
            ),
        };
        let image = Image::new(
            rendered.width,
            rendered.height,
            rendered.stride,
            format,
            color_space,
            rendered.data,
        )
        .ok_or_else(|| Error::Gpu("the pipeline returned a short image".into()))?
        .with_backend(work.backend.clone());
        let actual = Time::from_stream_ticks(frame.pts, work.index.time_base)
            .ok_or_else(|| Error::InvalidTime(format!("frame time {} overflows", frame.pts)))?;
        Ok((image, actual))
    }
}

/// How much memory the decoders of one batch may hold in pictures. Each
/// decoder keeps a few reference pictures plus those in flight; at 4K 10-bit
/// (25 MB a picture) two decoders alone would pass 400 MB, so large
/// streams get fewer decoders side by side and small ones as many as there
/// are workers.
const DECODE_MEMORY_BUDGET: u64 = 256 << 20;

/// Pictures one decoder holds at once, as planned for: H.264/HEVC keep up
/// to a handful of references, plus the picture being decoded and the
/// reorder delay.
const PICTURES_PER_DECODER: u64 = 8;

/// How many decoders of `track` fit in [`DECODE_MEMORY_BUDGET`] (at least
/// one).
fn decoders_within_budget(track: &VideoTrack) -> usize {
    let bytes_per_sample = if track.bit_depth.unwrap_or(8) > 8 {
        2
    } else {
        1
    };
    let (sx, sy) = track.chroma_subsampling.unwrap_or((1, 1));
    let luma = u64::from(track.coded_width) * u64::from(track.coded_height);
    let chroma = 2 * (luma >> (sx + sy));
    let picture = (luma + chroma) * bytes_per_sample;
    let per_decoder = (picture * PICTURES_PER_DECODER).max(1);
    usize::try_from(DECODE_MEMORY_BUDGET / per_decoder)
        .unwrap_or(usize::MAX)
        .max(1)
}

/// Turns a requested time and the tolerances into the planner's window in
/// stream ticks. Bounds are floored: for a frame shown over `[p, next)`,
/// `p ≤ hi` ⇔ `p ≤ ⌊hi⌋` and `next > lo` ⇔ `next > ⌊lo⌋`, so the test
/// stays exact for times between ticks.
fn planner_request(t: Time, before: Time, after: Time, tb: crate::ratio::Ratio) -> Result<Request> {
    if !t.is_numeric() {
        return Err(Error::InvalidTime(format!(
            "requested time {t:?} is not a number of seconds"
        )));
    }
    let floor = |x: Time| -> Result<Option<i64>> {
        if x.is_negative_infinity() || x.is_positive_infinity() {
            return Ok(None);
        }
        x.to_stream_ticks(tb, RoundingMethod::RoundTowardNegativeInfinity)
            .map(Some)
            .ok_or_else(|| Error::InvalidTime(format!("{t} is out of the stream's range")))
    };
    let target = floor(t)?.ok_or_else(|| Error::InvalidTime(format!("{t:?}")))?;
    Ok(Request {
        window: Window {
            lo: floor(t - before)?,
            hi: floor(t + after)?,
        },
        target,
    })
}

fn no_image_reason(index: &FrameIndex, t: Time, before: Time, after: Time) -> String {
    let tb = index.time_base;
    let first = index
        .first_shown_pts()
        .and_then(|p| Time::from_stream_ticks(p, tb));
    let end = Time::from_stream_ticks(index.end, tb);
    let window = if before == Time::ZERO && after == Time::ZERO {
        "no frame is displayed at that time".to_string()
    } else {
        format!(
            "no frame is displayed between {}s and {}s",
            t - before,
            t + after
        )
    };
    match (first, end) {
        (Some(first), Some(end)) => {
            format!("{window}; the track shows frames from {first}s to {end}s")
        }
        _ => "the track shows no frames".into(),
    }
}

/// What the render stage needs to know: the track's geometry and colour
/// tags, and the decoded picture's actual layout.
fn source_description(
    track: &VideoTrack,
    frame: &HostFrame,
    decoded: &DecodedFrame,
) -> SourceDescription {
    let desc = frame.layout().desc();
    let subsampling = desc
        .planes
        .get(1)
        .filter(|_| desc.model == ColorModel::Yuv)
        .map_or(ChromaSubsampling::YUV444, |p| ChromaSubsampling {
            log2_x: p.x_shift,
            log2_y: p.y_shift,
        });
    let mut color = track.color;
    if decoded.full_range {
        color.range = crate::asset::color::ColorRange::Full;
    }
    // The container's HDR metadata wins; the bitstream's fills the gaps.
    let mut hdr = track.hdr;
    hdr.mastering_display = hdr.mastering_display.or(decoded.mastering_display);
    hdr.content_light_level = hdr.content_light_level.or(decoded.content_light_level);
    SourceDescription {
        width: frame.width(),
        height: frame.height(),
        sample_aspect_ratio: track.sample_aspect_ratio,
        clean_aperture: track.clean_aperture,
        orientation: track.orientation,
        bit_depth: desc.bit_depth,
        alignment: if desc.msb_aligned {
            SampleAlignment::Msb
        } else {
            SampleAlignment::Lsb
        },
        subsampling,
        layout: match desc.model {
            ColorModel::Yuv => PlaneLayout::Yuv,
            ColorModel::Gray => PlaneLayout::Gray,
            ColorModel::Rgb => PlaneLayout::Rgb,
        },
        color,
        hdr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratio::Ratio;

    fn tb(num: i64, den: i64) -> Ratio {
        Ratio::new(num, den).unwrap()
    }

    #[test]
    fn exact_requests_floor_to_the_tick_at_or_before() {
        // 1/25 s ticks: 0.5 s is tick 12.5 → 12; the frame at tick 12 is
        // the one displayed at 0.5 s.
        let r = planner_request(Time::new(1, 2), Time::ZERO, Time::ZERO, tb(1, 25)).unwrap();
        assert_eq!(r.target, 12);
        assert_eq!((r.window.lo, r.window.hi), (Some(12), Some(12)));
        let on_tick =
            planner_request(Time::new(12, 25), Time::ZERO, Time::ZERO, tb(1, 25)).unwrap();
        assert_eq!(on_tick.target, 12);
        let negative =
            planner_request(Time::new(-1, 100), Time::ZERO, Time::ZERO, tb(1, 25)).unwrap();
        assert_eq!(negative.target, -1);
    }

    #[test]
    fn windows_are_floored_and_infinite_sides_unbounded() {
        let r = planner_request(
            Time::new(1, 1),
            Time::new(1, 10),
            Time::new(3, 100),
            tb(1, 25),
        )
        .unwrap();
        // [0.9, 1.03] s in 1/25 s ticks is [22.5, 25.75] → [22, 25].
        assert_eq!(
            (r.window.lo, r.window.hi, r.target),
            (Some(22), Some(25), 25)
        );
        let open = planner_request(
            Time::new(1, 1),
            Time::POSITIVE_INFINITY,
            Time::POSITIVE_INFINITY,
            tb(1, 25),
        )
        .unwrap();
        assert_eq!((open.window.lo, open.window.hi), (None, None));
    }

    #[test]
    fn large_streams_get_fewer_decoders() {
        let asset = crate::Asset::open(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/h264_bframes.mp4"
        ))
        .unwrap();
        let mut track = asset.default_video_track().unwrap().clone();
        assert!(decoders_within_budget(&track) > 100, "320x240 8-bit");
        (track.coded_width, track.coded_height) = (1920, 1080);
        assert_eq!(decoders_within_budget(&track), 10);
        (track.coded_width, track.coded_height, track.bit_depth) = (3840, 2160, Some(10));
        assert_eq!(decoders_within_budget(&track), 1);
        (track.coded_width, track.coded_height) = (16384, 16384);
        assert_eq!(decoders_within_budget(&track), 1);
    }

    #[test]
    fn non_numeric_times_are_invalid() {
        for t in [
            Time::INVALID,
            Time::INDEFINITE,
            Time::POSITIVE_INFINITY,
            Time::NEGATIVE_INFINITY,
            Time::from_seconds(f64::NAN, 600),
        ] {
            assert!(matches!(
                planner_request(t, Time::ZERO, Time::ZERO, tb(1, 25)),
                Err(Error::InvalidTime(_))
            ));
        }
    }
}
