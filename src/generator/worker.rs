//! The generator's workers: persistent threads that plan batches, decode
//! planned runs with decoders they keep warm, and render each frame through
//! the GPU pipeline straight into the waiting requests.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Instant;

use crate::asset::{Asset, IndexSnapshot, VideoTrack};
use crate::decode::{self, BackendChoice, BackendKind, BackendStatus, DecodedFrame, Decoder};
use crate::error::{Error, Result};
use crate::generator::batch::Batch;
use crate::generator::render_slots::{RenderSlots, GPU_RENDERS_IN_FLIGHT};
use crate::generator::Renderer;
use crate::gpu::{FramePipeline, GpuContext, GpuError, HostRenderer, RenderTimings, RenderedImage};
use crate::image::{ColorSpace, FrameTimings, Image, PixelFormat, RenderedBy};
use crate::plan::{Choice, Request, RunShares, Target};
use crate::render::spec::OutputEncoding;
use crate::render::{Deinterlace, OutputSpec, Size};
use crate::surface::{Picture, Surface};
use crate::time::Time;

/// Decoders a worker keeps open between batches, so a request on a warm
/// generator pays for neither thread nor decoder start-up.
const WARM_DECODERS_PER_WORKER: usize = 2;

pub(crate) enum Job {
    Plan(Arc<Shared>, Arc<Batch>),
    /// One decoder's lane of a batch: it decodes runs from the batch's
    /// shares until none are left.
    Decode {
        shared: Arc<Shared>,
        batch: Arc<Batch>,
        work: Arc<BatchWork>,
        shares: Arc<Mutex<RunShares>>,
        lane: usize,
    },
    /// A decoded picture a lane handed to an idle worker, to render and
    /// hand over to the batch's requests `requests` while the lane decodes
    /// on (see [`Pool::offer`]).
    Render {
        shared: Arc<Shared>,
        batch: Arc<Batch>,
        work: Arc<BatchWork>,
        frame: Box<DecodedFrame>,
        requests: Vec<usize>,
    },
}

impl Job {
    fn batch(&self) -> &Arc<Batch> {
        match self {
            Job::Plan(_, b) | Job::Decode { batch: b, .. } | Job::Render { batch: b, .. } => b,
        }
    }

    fn generator(&self) -> u64 {
        match self {
            Job::Plan(s, _) | Job::Decode { shared: s, .. } | Job::Render { shared: s, .. } => s.id,
        }
    }
}

/// What every decode job of one batch shares.
pub(crate) struct BatchWork {
    track: VideoTrack,
    /// What the batch was planned over; its runs count packets in its parts.
    index: Arc<IndexSnapshot>,
    backend: BackendChoice,
    /// Batch position of each planner request id.
    request_ids: Vec<usize>,
    /// Frame threads each of the batch's decoders runs: the cores shared
    /// among its lanes, so a batch with a single run (one group of
    /// pictures: a short clip, every frame of one scene) decodes on every
    /// core rather than one.
    decoder_threads: usize,
}

/// What one generator's jobs share.
pub(crate) struct Shared {
    pub asset: Arc<Asset>,
    /// Tells this generator's warm decoders apart from other generators'
    /// on the same pool (an address could be reused after a drop).
    pub id: u64,
    /// How many decoders may work on one batch at once.
    pub workers: AtomicUsize,
}

impl Shared {
    pub fn new(asset: Arc<Asset>, workers: usize) -> Shared {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Shared {
            asset,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            workers: AtomicUsize::new(workers),
        }
    }
}

/// Worker threads' queue, the GPU and the one frame pipeline, shared by
/// every generator on the pool.
pub(crate) struct Pool {
    pub threads: AtomicUsize,
    gpu: GpuSource,
    /// The frame pipelines the pool's workers render on: as many renders
    /// in flight as the GPU overlaps usefully (see `render_slots`), so a
    /// pipeline's buffers exist once per render in flight, not per worker.
    pipelines: RenderSlots<FramePipeline>,
    /// The renderer asked for (`Auto` unless set before the first render).
    renderer: OnceLock<Renderer>,
    /// Whether host pictures render on the CPU renderer, decided on the
    /// first render.
    on_host: OnceLock<bool>,
    queue: Mutex<Queue>,
    ready: Condvar,
    pub shutdown: AtomicBool,
}

/// The pool's jobs, and how many workers wait for one.
#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    waiting: usize,
}

/// Where a pool's GPU comes from: the caller's, or the process-wide
/// default made on first use and shared by every pool.
pub(crate) enum GpuSource {
    Given(GpuContext),
    Default,
}

/// Renders in flight for pipelines on `pipeline`'s adapter: one on a CPU
/// adapter, which runs submissions on one queue thread anyway.
fn renders_in_flight(pipeline: &FramePipeline) -> usize {
    if pipeline.context().info().is_software() {
        1
    } else {
        GPU_RENDERS_IN_FLIGHT
    }
}

fn default_gpu() -> Result<GpuContext> {
    static DEFAULT: OnceLock<std::result::Result<GpuContext, GpuError>> = OnceLock::new();
    Ok(DEFAULT
        .get_or_init(|| GpuContext::new(crate::gpu::AdapterPreference::default()))
        .clone()?)
}

impl Pool {
    pub fn new(threads: usize, gpu: GpuSource) -> Pool {
        Pool {
            threads: AtomicUsize::new(threads),
            gpu,
            pipelines: RenderSlots::new(None),
            renderer: OnceLock::new(),
            on_host: OnceLock::new(),
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
            shutdown: AtomicBool::new(false),
        }
    }

    pub(crate) fn gpu(&self) -> Result<GpuContext> {
        match &self.gpu {
            GpuSource::Given(ctx) => Ok(ctx.clone()),
            GpuSource::Default => default_gpu(),
        }
    }

    /// Sets the renderer; `false` once the first render has decided.
    pub fn set_renderer(&self, renderer: Renderer) -> bool {
        self.on_host.get().is_none() && self.renderer.set(renderer).is_ok()
    }

    /// Whether host pictures render on the CPU renderer: with
    /// [`Renderer::Auto`], where the adapter would be a CPU. A machine
    /// without a device node a hardware driver could open has no other, so
    /// the default GPU is not even brought up there; otherwise it is, and
    /// its adapter decides.
    fn renders_on_host(&self) -> Result<bool> {
        if let Some(&on_host) = self.on_host.get() {
            return Ok(on_host);
        }
        let renderer = self.renderer.get().copied().unwrap_or_default();
        let on_host = match (renderer, &self.gpu) {
            (Renderer::Gpu, _) => false,
            (Renderer::Cpu, _) => true,
            (Renderer::Auto, GpuSource::Given(ctx)) => ctx.info().is_software(),
            (Renderer::Auto, GpuSource::Default) => {
                !renderer.brings_up_gpu() || default_gpu()?.info().is_software()
            }
        };
        Ok(*self.on_host.get_or_init(|| on_host))
    }

    /// Whether the pool renders on the host of a machine without a
    /// hardware adapter, where only pictures on a device (none without
    /// hardware decoding) would need a GPU.
    fn host_only(&self) -> Result<bool> {
        Ok(self.renders_on_host()? && !crate::gpu::hardware_adapter_possible())
    }

    /// Makes one pipeline ahead of the first render, if there is none yet
    /// and pictures will render on the GPU.
    pub fn prepare_pipeline(&self) {
        if self.renders_on_host().unwrap_or(false) {
            return;
        }
        let _ = self
            .pipelines
            .prepare(|| self.new_pipeline(), renders_in_flight);
    }

    /// Sets how many renders may be in flight at once (see
    /// [`GeneratorPool::with_renders_in_flight`](crate::GeneratorPool::with_renders_in_flight)).
    pub fn set_renders_in_flight(&self, renders: usize) {
        self.pipelines.set_limit(renders);
    }

    fn new_pipeline(&self) -> Result<FramePipeline> {
        Ok(FramePipeline::new(&self.gpu()?)?)
    }

    /// Renders one picture (after `previous`, see
    /// [`FramePipeline::render_after`]): on this thread's CPU renderer
    /// where the pool renders on the host and the renderer takes the
    /// picture, else on one of the pool's pipelines, waiting for one to be
    /// free when as many renders as allowed are in flight.
    fn render(
        &self,
        picture: &Picture,
        previous: Option<&Picture>,
        spec: &OutputSpec,
    ) -> Result<(RenderedImage, RenderTimings, RenderedBy)> {
        let on_host = self.renders_on_host()?;
        // Where the passes run on a CPU, a steep downscale's box-averaging
        // (see `gpu::host_decimated`) runs here, beside another worker's
        // render, rather than while holding a pipeline.
        let clock = Instant::now();
        let decimated = if on_host || self.gpu()?.info().is_software() {
            crate::gpu::host_decimated(picture, spec)?
        } else {
            None
        };
        let host = clock.elapsed();
        let (picture, previous, spec) = match &decimated {
            Some((small, small_spec)) => (small, None, small_spec),
            None => (picture, previous, spec),
        };
        if on_host && HostRenderer::can_render(picture) {
            let clock = Instant::now();
            let rendered =
                HOST_RENDERER.with(|r| r.borrow_mut().render_after(picture, previous, spec))?;
            let timings = RenderTimings {
                upload: host,
                gpu: clock.elapsed(),
                readback: std::time::Duration::ZERO,
            };
            return Ok((rendered, timings, RenderedBy::Cpu));
        }
        let mut slot = self
            .pipelines
            .take(|| self.new_pipeline(), renders_in_flight)?;
        let pipeline = slot.get();
        let rendered = pipeline.render_prepared(picture, previous, spec);
        let mut timings = pipeline.last_timings();
        timings.upload += host;
        // A failed render leaves its pipeline usable (its errors are
        // checked ones); only a panic unwinding through the slot drops it.
        slot.keep();
        Ok((rendered?, timings, RenderedBy::Gpu))
    }

    /// Drops the idle pipelines after a panic, so the next frames start
    /// from fresh GPU resources.
    fn reset_pipeline(&self) {
        self.pipelines.clear();
    }

    pub fn push(&self, job: Job) {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .jobs
            .push_back(job);
        self.ready.notify_one();
    }

    /// Queues the job `make` makes of `item` if a worker is waiting for
    /// work that no queued job will take; gives `item` back otherwise. A
    /// decode lane offers its pictures' renders this way, so that a worker
    /// the batch leaves idle (a batch of one run, say) renders beside the
    /// decoding, while a busy pool renders inline: pictures never wait in
    /// the queue, and at most one per idle worker is out of the lane at
    /// once.
    fn offer<T>(&self, item: T, make: impl FnOnce(T) -> Job) -> Option<T> {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if queue.waiting <= queue.jobs.len() || self.shutdown.load(Ordering::Acquire) {
            return Some(item);
        }
        queue.jobs.push_back(make(item));
        drop(queue);
        self.ready.notify_one();
        None
    }

    fn pop(&self) -> Option<Job> {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(job) = queue.jobs.pop_front() {
                return Some(job);
            }
            if self.shutdown.load(Ordering::Acquire) {
                return None;
            }
            queue.waiting += 1;
            queue = self.ready.wait(queue).unwrap_or_else(|p| p.into_inner());
            queue.waiting -= 1;
        }
    }

    /// Cancels the queued jobs of generator `id` (all generators' when
    /// `None`), taking them off the queue.
    pub fn cancel_queued(&self, id: Option<u64>) {
        let jobs: Vec<Job> = {
            let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            let (mine, others): (VecDeque<Job>, VecDeque<Job>) = queue
                .jobs
                .drain(..)
                .partition(|job| id.is_none_or(|id| job.generator() == id));
            queue.jobs = others;
            mine.into()
        };
        for job in jobs {
            job.batch().cancel();
        }
    }

    /// Wakes every worker to notice shutdown, and cancels what is queued.
    pub fn stop(&self) {
        self.shutdown.store(true, Ordering::Release);
        self.cancel_queued(None);
        self.ready.notify_all();
    }
}

thread_local! {
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
    /// Each worker's CPU renderer, whose working lines outlive a frame.
    static HOST_RENDERER: RefCell<HostRenderer> = RefCell::new(HostRenderer::new());
}

/// Whether the calling thread is one of a generator's workers (where
/// waiting for deliveries to finish would wait on itself).
pub(crate) fn on_worker_thread() -> bool {
    ON_WORKER.with(Cell::get)
}

/// Hands `result` to each of `requests`: duplicates get copies, the last
/// takes the image itself, so a lone request copies nothing.
fn resolve(batch: &Batch, requests: &[usize], result: Result<(Image, Time)>) {
    if let Some((&last, others)) = requests.split_last() {
        for &r in others {
            batch.resolve(r, result.clone());
        }
        batch.resolve(last, result);
    }
}

/// One worker thread's loop.
pub(crate) fn run_worker(pool: Arc<Pool>) {
    ON_WORKER.with(|w| w.set(true));
    let mut worker = Worker {
        pool: pool.clone(),
        decoders: Vec::new(),
    };
    while let Some(job) = pool.pop() {
        let batch = job.batch().clone();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| worker.run(job)));
        if let Err(payload) = outcome {
            // A bug must not lose requests: whatever this job owed fails,
            // and says it was a panic.
            batch.fail_all(&Error::Panicked {
                during: "generating images",
                message: panic_message(payload.as_ref()),
            });
            worker.decoders.clear();
            pool.reset_pipeline();
        }
    }
}

/// The text a panic was raised with (`panic!("...")` gives a `&str` or a
/// `String`), or a placeholder for a payload of another type.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// A warm decoder's key: generator, track, backend and frame threads.
type DecoderKey = (u64, usize, BackendKind, usize);

fn decoder_key(shared: &Shared, work: &BatchWork) -> DecoderKey {
    (
        shared.id,
        work.track.index,
        work.backend.backend,
        work.decoder_threads,
    )
}

struct Worker {
    pool: Arc<Pool>,
    decoders: Vec<(DecoderKey, Box<dyn Decoder>)>,
}

impl Worker {
    fn run(&mut self, job: Job) {
        match job {
            Job::Plan(shared, batch) => {
                if let Err(e) = self.plan(&shared, &batch) {
                    batch.fail_all(&e);
                }
            }
            Job::Decode {
                shared,
                batch,
                work,
                shares,
                lane,
            } => {
                if let Err(e) = self.decode(&shared, &batch, &work, &shares, lane) {
                    batch.fail_all(&e);
                }
            }
            Job::Render {
                batch,
                work,
                frame,
                requests,
                ..
            } => {
                if requests.iter().any(|&r| batch.is_pending(r)) {
                    self.render_requests(&work, &batch, &frame, &requests);
                }
            }
        }
    }

    fn plan(&mut self, shared: &Arc<Shared>, batch: &Arc<Batch>) -> Result<()> {
        let asset = &shared.asset;
        let track = asset.image_track(batch.settings.track)?.clone();
        // A hardware backend serves only where the GPU can import its
        // pictures: then the choice waits for the GPU context. A pool
        // rendering on the host of a machine without a hardware adapter
        // brings up no GPU: there is no hardware decoder either, and each
        // backend says what the machine lacks without one.
        let gpu = if decode::choice_needs_gpu() && !self.pool.host_only()? {
            Some(self.pool.gpu()?)
        } else {
            None
        };
        let backend = decode::choose_backend(
            batch.settings.backend,
            &track,
            gpu.as_ref().map(GpuContext::interop),
        )?;
        let tb = track.time_base;
        let (before, after) = (
            batch.settings.tolerance_before,
            batch.settings.tolerance_after,
        );
        let mut requests = Vec::new();
        let mut request_ids = Vec::new();
        for (i, &t) in batch.times.iter().enumerate() {
            match Request::from_times(t, before, after, tb) {
                Ok(r) => {
                    requests.push(r);
                    request_ids.push(i);
                }
                Err(e) => {
                    batch.resolve(i, Err(e));
                }
            }
        }
        let (index, plan) = asset.plan_requests(&track, &requests)?;
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
        let lanes = shared
            .workers
            .load(Ordering::Relaxed)
            .min(decoders_within_budget(&track));
        let shares = plan
            .decode
            .share(NonZeroUsize::new(lanes).unwrap_or(NonZeroUsize::MIN));
        let lanes = shares.lanes();
        let shares = Arc::new(Mutex::new(shares));
        // Lanes decode side by side: together they use each core once,
        // rather than every lane's frame threads fighting for all of them
        // (and each thread holding its own reference pictures).
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let work = Arc::new(BatchWork {
            track,
            index,
            backend,
            request_ids,
            decoder_threads: cores.div_ceil(lanes.max(1)),
        });
        for lane in 0..lanes {
            self.pool.push(Job::Decode {
                shared: shared.clone(),
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
    fn take_decoder(&mut self, shared: &Shared, work: &BatchWork) -> Result<Box<dyn Decoder>> {
        let key = decoder_key(shared, work);
        if let Some(pos) = self.decoders.iter().position(|(k, _)| *k == key) {
            return Ok(self.decoders.remove(pos).1);
        }
        let threads = work.decoder_threads;
        let gpu = match work.backend.backend {
            BackendKind::Software => None,
            _ => Some(self.pool.gpu()?),
        };
        decode::open_decoder(
            work.backend.backend,
            &shared.asset,
            &work.track,
            threads,
            gpu.as_ref().map(GpuContext::interop),
        )
    }

    fn keep_decoder(&mut self, shared: &Shared, work: &BatchWork, decoder: Box<dyn Decoder>) {
        if self.decoders.len() >= WARM_DECODERS_PER_WORKER {
            self.decoders.remove(0);
        }
        self.decoders.push((decoder_key(shared, work), decoder));
    }

    fn decode(
        &mut self,
        shared: &Arc<Shared>,
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
        let mut decoder = self.take_decoder(shared, work)?;
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
            let pool = self.pool.clone();
            let cancelled =
                || pool.shutdown.load(Ordering::Acquire) || !run.targets().iter().any(waiting);
            // Each picture is rendered and handed over as soon as it is
            // decoded: by a worker left idle, while this one decodes on,
            // else here, so a lane holds one decoded frame at a time.
            let mut deliver = |target: &Target, frame: Result<DecodedFrame>| {
                let requests: Vec<usize> = target
                    .requests
                    .iter()
                    .map(|&r| work.request_ids[r])
                    .collect();
                let frame = match frame {
                    // Host pictures only: a device's surfaces come from a
                    // small pool the decoder needs back.
                    Ok(frame) if matches!(frame.picture.surface, Surface::Host(_)) => {
                        let offered = self.pool.offer(frame, |frame| Job::Render {
                            shared: shared.clone(),
                            batch: batch.clone(),
                            work: work.clone(),
                            frame: Box::new(frame),
                            requests: requests.clone(),
                        });
                        match offered {
                            None => return,
                            Some(frame) => Ok(frame),
                        }
                    }
                    other => other,
                };
                match frame {
                    Ok(frame) => self.render_requests(work, batch, &frame, &requests),
                    Err(e) => resolve(batch, &requests, Err(e)),
                }
            };
            // The previous picture serves the motion-adaptive
            // deinterlacer only.
            let previous = batch.settings.deinterlace == Deinterlace::Auto;
            decoder.decode_run(&work.index, run, previous, &cancelled, &mut deliver);
        }
        self.keep_decoder(shared, work, decoder);
        Ok(())
    }

    /// Renders `frame` for `requests`: once for each size among them (one,
    /// unless the batch gives requests exact sizes of their own).
    fn render_requests(
        &mut self,
        work: &BatchWork,
        batch: &Batch,
        frame: &DecodedFrame,
        requests: &[usize],
    ) {
        let mut sizes: Vec<Size> = requests.iter().map(|&r| batch.exact_size(r)).collect();
        sizes.sort_unstable_by_key(|s| (s.width, s.height));
        sizes.dedup();
        for size in sizes {
            let group: Vec<usize> = requests
                .iter()
                .copied()
                .filter(|&r| batch.exact_size(r) == size && batch.is_pending(r))
                .collect();
            if !group.is_empty() {
                resolve(batch, &group, self.render(work, batch, frame, size));
            }
        }
    }

    /// Renders `frame` as the batch's settings say, at exactly
    /// `exact_size` unless that is [`Size::NATIVE`].
    fn render(
        &mut self,
        work: &BatchWork,
        batch: &Batch,
        frame: &DecodedFrame,
        exact_size: Size,
    ) -> Result<(Image, Time)> {
        let render = batch.settings.render();
        let spec = OutputSpec::new(&frame.picture.desc, &work.track.geometry(), &render)?;
        let spec = if exact_size == Size::NATIVE {
            spec
        } else {
            spec.resized(exact_size.width, exact_size.height)?
        };
        let pixels = u64::from(spec.width) * u64::from(spec.height);
        if pixels > batch.settings.max_output_pixels {
            return Err(Error::LimitExceeded {
                limit: crate::limits::Limit::MaxOutputPixels,
                what: format!("a {}×{} image", spec.width, spec.height),
                value: pixels,
                allowed: batch.settings.max_output_pixels,
            });
        }
        let memory = crate::gpu::frame_memory(&frame.picture.desc, &spec)?;
        if memory > batch.settings.max_request_bytes {
            return Err(Error::LimitExceeded {
                limit: crate::limits::Limit::MaxRequestMemory,
                what: format!(
                    "rendering a {}×{} picture into a {}×{} image",
                    frame.picture.desc.width, frame.picture.desc.height, spec.width, spec.height
                ),
                value: memory,
                allowed: batch.settings.max_request_bytes,
            });
        }
        let (rendered, gpu_timings, rendered_by) =
            self.pool
                .render(&frame.picture, frame.previous.as_ref(), &spec)?;
        let (alpha, deinterlaced) = (rendered.alpha, rendered.deinterlaced);
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
        .ok_or(GpuError::Internal(
            "the pipeline returned a short image".into(),
        ))?
        .with_alpha(alpha)
        .with_deinterlaced(deinterlaced)
        .with_rendered_by(rendered_by)
        .with_backend(served_by(&work.backend, frame.fallback.as_deref()))
        .with_timings(FrameTimings {
            demux: frame.demux,
            decode: frame.decode,
            upload: gpu_timings.upload,
            gpu: gpu_timings.gpu,
            readback: gpu_timings.readback,
        });
        let actual = Time::from_stream_ticks(frame.pts, work.index.time_base)
            .ok_or_else(|| Error::InvalidTime(format!("frame time {} overflows", frame.pts)))?;
        Ok((image, actual))
    }
}

/// The backend that really made a picture: the batch's choice, or software
/// when the chosen hardware backend fell back for this picture, with the
/// reason beside those of the backends passed over before it.
fn served_by(choice: &BackendChoice, fallback: Option<&str>) -> BackendChoice {
    match fallback {
        None => choice.clone(),
        Some(reason) => {
            let mut passed_over = choice.passed_over.clone();
            passed_over.push(BackendStatus {
                backend: choice.backend,
                available: false,
                reason: reason.to_string(),
            });
            BackendChoice {
                backend: BackendKind::Software,
                passed_over,
            }
        }
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
    let sub = track
        .chroma_subsampling
        .unwrap_or(crate::picture::ChromaSubsampling::YUV420);
    let (sx, sy) = (sub.log2_x, sub.log2_y);
    let luma = u64::from(track.coded_width) * u64::from(track.coded_height);
    let chroma = 2 * (luma >> (sx + sy));
    let picture = (luma + chroma) * bytes_per_sample;
    let per_decoder = (picture * PICTURES_PER_DECODER).max(1);
    usize::try_from(DECODE_MEMORY_BUDGET / per_decoder)
        .unwrap_or(usize::MAX)
        .max(1)
}

fn no_image_reason(index: &IndexSnapshot, t: Time, before: Time, after: Time) -> String {
    let tb = index.time_base;
    let (first, end) = index.known_bounds();
    let first = first.and_then(|p| Time::from_stream_ticks(p, tb));
    let end = end.and_then(|e| Time::from_stream_ticks(e, tb));
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
        (Some(first), None) => format!("{window}; the track's first frame is at {first}s"),
        (None, Some(end)) if !index.is_empty() => {
            format!("{window}; the track ends at {end}s")
        }
        _ => "the track shows no frames".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_job() -> Job {
        let asset = crate::Asset::open(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/h264_bframes.mp4"
        ))
        .unwrap();
        let settings = crate::GeneratorSettings::default();
        let batch = Batch::new(Vec::new(), settings, Box::new(|_, _| {}));
        Job::Plan(Arc::new(Shared::new(Arc::new(asset), 1)), Arc::new(batch))
    }

    /// A lane's render goes to the queue only for a worker waiting with
    /// nothing else to take: never to a busy pool, never twice for one
    /// waiting worker, never after shutdown.
    #[test]
    fn offers_are_queued_only_for_an_idle_worker() {
        let pool = Arc::new(Pool::new(1, GpuSource::Default));
        assert_eq!(pool.offer(1, |_| plan_job()), Some(1), "nobody waits");
        let waiter = {
            let pool = pool.clone();
            std::thread::spawn(move || pool.pop().is_some())
        };
        while pool.queue.lock().unwrap().waiting == 0 {
            std::thread::yield_now();
        }
        // One worker waits: the first offer is queued for it, and while it
        // is there (or taken), a second finds nobody free.
        assert_eq!(pool.offer(2, |_| plan_job()), None);
        assert_eq!(pool.offer(3, |_| plan_job()), Some(3));
        assert!(waiter.join().unwrap(), "the waiting worker took the job");
        pool.stop();
        assert_eq!(pool.offer(4, |_| plan_job()), Some(4), "after shutdown");
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
    fn a_picture_decoded_in_software_after_all_says_so() {
        let hardware = BackendChoice {
            backend: BackendKind::Nvdec,
            passed_over: vec![BackendStatus {
                backend: BackendKind::Vaapi,
                available: false,
                reason: "no render node".into(),
            }],
        };
        assert_eq!(served_by(&hardware, None), hardware);
        let fell_back = served_by(&hardware, Some("profile not decoded by NVDEC"));
        assert_eq!(fell_back.backend, BackendKind::Software);
        assert_eq!(
            fell_back
                .passed_over
                .iter()
                .map(|s| (s.backend, s.reason.as_str()))
                .collect::<Vec<_>>(),
            [
                (BackendKind::Vaapi, "no render node"),
                (BackendKind::Nvdec, "profile not decoded by NVDEC")
            ]
        );
    }
}
