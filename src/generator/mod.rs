//! `ImageGenerator`: AVAssetImageGenerator's whole request surface over an
//! [`Asset`]. Every request snapshots the settings when submitted, is
//! planned with the others of its batch, decoded on worker threads that
//! stay warm, rendered on the GPU, and handed over exactly once — as a
//! future, a stream item, a callback or a blocking return.

mod batch;
mod delivery;
mod render_slots;
mod settings;
mod worker;

use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;

use crate::asset::Asset;
use crate::error::Error;
use crate::gpu::GpuContext;
use crate::image::Image;
use crate::time::Time;
pub use batch::ImageResult;
use batch::{Batch, Sink};
pub(crate) use delivery::{Cancel, FutureSlot, StreamQueue};
pub use delivery::{ImageFuture, ImageStream};
pub use settings::GeneratorSettings;
use worker::{GpuSource, Job, Pool, Shared};

/// How one request of [`ImageGenerator::generate_images`] ended.
#[derive(Debug)]
pub enum Outcome {
    Succeeded { image: Image, actual_time: Time },
    Failed(Error),
    Cancelled,
}

impl From<ImageResult> for Outcome {
    fn from(r: ImageResult) -> Outcome {
        match r {
            Ok((image, actual_time)) => Outcome::Succeeded { image, actual_time },
            Err(Error::Cancelled) => Outcome::Cancelled,
            Err(e) => Outcome::Failed(e),
        }
    }
}

/// One item of [`ImageGenerator::images`]: the time asked for and what came
/// of it.
#[derive(Debug)]
pub struct GeneratedImage {
    pub requested: Time,
    pub result: ImageResult,
}

/// Worker threads, a GPU context with its compiled pipelines, and one
/// frame pipeline with its buffers, shared by every generator made with
/// [`ImageGenerator::with_pool`]. A program that takes images from many
/// files (a media library, a dataset build) makes one pool and one
/// generator per file: the start-up (GPU device, shader compilation,
/// threads) is paid once, and the files' work shares the cores.
///
/// Cheap to clone; the threads stop when the last clone and the last
/// generator using it are dropped.
#[derive(Clone)]
pub struct GeneratorPool {
    owner: Arc<PoolOwner>,
}

impl GeneratorPool {
    /// A pool on the process-wide default GPU with one worker per core. It
    /// brings the GPU up (driver, device, shader compilation) on a thread of
    /// its own when the first generator is made with it, so that this
    /// overlaps with planning and decoding that generator's first requests,
    /// and a file refused when it is opened (a bomb over the limits, say)
    /// costs no GPU memory at all.
    pub fn new() -> GeneratorPool {
        GeneratorPool::build(GpuSource::Default)
    }

    /// A pool rendering on the caller's GPU context.
    pub fn with_gpu(gpu: GpuContext) -> GeneratorPool {
        GeneratorPool::build(GpuSource::Given(gpu))
    }

    fn build(gpu: GpuSource) -> GeneratorPool {
        let owner = Arc::new(PoolOwner::new(Pool::new(default_workers(), gpu)));
        GeneratorPool { owner }
    }

    /// Sets how many worker threads the pool runs (default: the number of
    /// cores). Takes effect before the first request.
    pub fn with_workers(self, workers: usize) -> GeneratorPool {
        self.owner
            .pool
            .threads
            .store(workers.max(1), std::sync::atomic::Ordering::Relaxed);
        self
    }

    /// Sets how many pictures may be rendered at once, each on a pipeline
    /// with its own buffers (default: 4 on a GPU, where one picture's
    /// readback then overlaps the next one's passes; 1 on a CPU adapter such
    /// as lavapipe, which runs one submission at a time anyway). More
    /// overlaps more; fewer holds less GPU memory.
    pub fn with_renders_in_flight(self, renders: usize) -> GeneratorPool {
        self.owner.pool.set_renders_in_flight(renders);
        self
    }

    /// Sets what runs the frame passes (default [`Renderer::Auto`]). Takes
    /// effect before the first render; later calls change nothing.
    pub fn with_renderer(self, renderer: Renderer) -> GeneratorPool {
        self.owner.pool.set_renderer(renderer);
        self
    }

    /// The pool's GPU context: the caller's, or the process's default one
    /// (brought up on first use).
    pub(crate) fn gpu(&self) -> crate::error::Result<GpuContext> {
        self.owner.pool.gpu()
    }

    /// How many worker threads the pool runs.
    pub fn workers(&self) -> usize {
        self.owner
            .pool
            .threads
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Default for GeneratorPool {
    fn default() -> GeneratorPool {
        GeneratorPool::new()
    }
}

impl std::fmt::Debug for GeneratorPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratorPool")
            .field("workers", &self.workers())
            .finish_non_exhaustive()
    }
}

/// What runs a pool's frame passes (colour, crop, rotation, scaling, tone
/// mapping): the WGSL passes on the GPU, or the same plan evaluated on the
/// host by the CPU renderer ([`HostRenderer`](crate::gpu::HostRenderer)),
/// held to the WGSL passes by parity tests (`tests/host_render.rs`: 76 dB
/// or better on every fixture, most of them bit for bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Renderer {
    /// The WGSL passes on a GPU; the CPU renderer where the adapter would be
    /// a CPU (lavapipe): on a machine without a hardware GPU, the
    /// passes cost the same arithmetic either way, and the CPU renderer
    /// skips the Vulkan driver's start (about 100 ms of a cold process,
    /// most of it compiling the pipelines with LLVM) and each picture's
    /// upload, submission and readback. Pictures on a device (hardware
    /// decoders') still render on the GPU.
    #[default]
    Auto,
    /// The WGSL passes for every picture, on lavapipe where there is no
    /// other adapter.
    Gpu,
    /// The CPU renderer for every picture it takes, whatever the adapter.
    Cpu,
}

impl Renderer {
    /// Whether a pool with this renderer on the process's default GPU
    /// brings that GPU up for the pictures a software decoder makes: never
    /// with `Cpu`, always with `Gpu`, and with `Auto` only where a hardware
    /// adapter may exist ([`hardware_adapter_possible`](crate::gpu::hardware_adapter_possible)),
    /// whose kind then decides.
    pub fn brings_up_gpu(self) -> bool {
        match self {
            Renderer::Cpu => false,
            Renderer::Gpu => true,
            Renderer::Auto => crate::gpu::hardware_adapter_possible(),
        }
    }
}

/// Owns a pool's threads; the last generator or pool handle to let go of
/// it stops and joins them.
struct PoolOwner {
    pool: Arc<Pool>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    gpu_start: Mutex<Option<JoinHandle<()>>>,
}

impl PoolOwner {
    fn new(pool: Pool) -> PoolOwner {
        PoolOwner {
            pool: Arc::new(pool),
            threads: Mutex::new(Vec::new()),
            gpu_start: Mutex::new(None),
        }
    }

    /// Brings the GPU up (driver load, shader compilation) on a thread of
    /// its own, once. Failure is left for the first render to report.
    fn start_gpu(&self) {
        let mut gpu_start = self.gpu_start.lock().unwrap_or_else(|p| p.into_inner());
        if gpu_start.is_none() {
            let pool = self.pool.clone();
            if let Ok(handle) = std::thread::Builder::new()
                .name("stills-gpu-start".into())
                .spawn(move || pool.prepare_pipeline())
            {
                *gpu_start = Some(handle);
            }
        }
    }

    /// Starts the worker threads on first use.
    fn ensure_threads(&self) {
        // Bringing the GPU up takes as long as decoding a few frames: do
        // it beside the first batch's planning and decoding rather than
        // before its first render.
        self.start_gpu();
        let mut threads = self.threads.lock().unwrap_or_else(|p| p.into_inner());
        let wanted = self.pool.threads.load(std::sync::atomic::Ordering::Relaxed);
        while threads.len() < wanted {
            let pool = self.pool.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("stills-worker-{}", threads.len()))
                .spawn(move || worker::run_worker(pool));
            match spawned {
                Ok(handle) => threads.push(handle),
                // With fewer threads the work still gets done; with none
                // the next submission tries again.
                Err(_) => break,
            }
        }
    }
}

impl Drop for PoolOwner {
    fn drop(&mut self) {
        self.pool.stop();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        let gpu_start = self
            .gpu_start
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        for t in threads.into_iter().chain(gpu_start) {
            let _ = t.join();
        }
    }
}

/// Generates images from an asset's default video track.
///
/// `Send + Sync`: share it (`Arc`) and submit from many threads. Dropping it
/// cancels whatever is still pending and, unless it runs on a shared
/// [`GeneratorPool`], stops its threads.
pub struct ImageGenerator {
    shared: Arc<Shared>,
    owner: Arc<PoolOwner>,
    /// Whether the pool is this generator's alone (so `with_workers` sizes
    /// it).
    own_pool: bool,
    settings: Mutex<GeneratorSettings>,
    live: Mutex<Vec<Weak<Batch>>>,
}

impl ImageGenerator {
    /// A generator over `asset`, rendering on the process-wide default GPU
    /// (a hardware adapter when there is one, else Mesa's lavapipe) with one
    /// worker per core.
    pub fn new(asset: impl Into<Arc<Asset>>) -> ImageGenerator {
        ImageGenerator::build(asset.into(), GpuSource::Default)
    }

    /// A generator rendering on the caller's GPU context (for instance one
    /// made from the caller's own `wgpu::Device`).
    pub fn with_gpu(asset: impl Into<Arc<Asset>>, gpu: GpuContext) -> ImageGenerator {
        ImageGenerator::build(asset.into(), GpuSource::Given(gpu))
    }

    /// A generator whose requests run on `pool`'s threads, GPU and frame
    /// pipeline, beside those of every other generator on it.
    pub fn with_pool(asset: impl Into<Arc<Asset>>, pool: &GeneratorPool) -> ImageGenerator {
        let owner = pool.owner.clone();
        owner.start_gpu();
        let workers = pool.workers();
        ImageGenerator::on(asset.into(), owner, workers, false)
    }

    /// Sets how many decoders may work at once on large batches (default:
    /// the number of cores, or the pool's workers). On a generator with its
    /// own threads this is also how many there are. Takes effect before the
    /// first request.
    pub fn with_workers(self, workers: usize) -> ImageGenerator {
        let workers = workers.max(1);
        self.shared
            .workers
            .store(workers, std::sync::atomic::Ordering::Relaxed);
        if self.own_pool {
            self.owner
                .pool
                .threads
                .store(workers, std::sync::atomic::Ordering::Relaxed);
        }
        self
    }

    fn build(asset: Arc<Asset>, gpu: GpuSource) -> ImageGenerator {
        let workers = default_workers();
        let owner = Arc::new(PoolOwner::new(Pool::new(workers, gpu)));
        ImageGenerator::on(asset, owner, workers, true)
    }

    fn on(
        asset: Arc<Asset>,
        owner: Arc<PoolOwner>,
        workers: usize,
        own_pool: bool,
    ) -> ImageGenerator {
        ImageGenerator {
            shared: Arc::new(Shared::new(asset, workers)),
            owner,
            own_pool,
            settings: Mutex::new(GeneratorSettings::default()),
            live: Mutex::new(Vec::new()),
        }
    }

    pub fn asset(&self) -> &Asset {
        &self.shared.asset
    }

    /// A copy of the current settings.
    pub fn settings(&self) -> GeneratorSettings {
        self.settings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Changes settings for requests submitted from now on; requests already
    /// submitted keep the settings they were submitted with.
    pub fn configure<R>(&self, change: impl FnOnce(&mut GeneratorSettings) -> R) -> R {
        change(&mut self.settings.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The image displayed at (or, with tolerances, near) `t`, and the time
    /// of the frame it came from. Works on any executor; dropping the future
    /// cancels the request.
    pub fn image_at(&self, t: Time) -> ImageFuture {
        let slot = FutureSlot::new();
        let mut fill = Some(slot.filler());
        let batch = self.submit(
            vec![t],
            Box::new(move |_, result| {
                if let Some(fill) = fill.take() {
                    fill(result);
                }
            }),
        );
        slot.into_future(batch)
    }

    /// Images for many times, as a stream of items keyed by requested time,
    /// in completion order. Dropping the stream cancels what is pending.
    pub fn images(&self, times: impl IntoIterator<Item = Time>) -> ImageStream {
        let times: Vec<Time> = times.into_iter().collect();
        let queue = StreamQueue::new(times.len());
        let mut push = queue.pusher();
        let requested = times.clone();
        let batch = self.submit(
            times,
            Box::new(move |i, result| {
                push(GeneratedImage {
                    requested: requested[i],
                    result,
                })
            }),
        );
        queue.into_stream(batch)
    }

    /// Generates one image and calls `handler` with it (on a worker thread).
    pub fn generate_image(&self, t: Time, handler: impl FnOnce(ImageResult) + Send + 'static) {
        let mut handler = Some(handler);
        self.submit(
            vec![t],
            Box::new(move |_, result| {
                if let Some(h) = handler.take() {
                    h(result);
                }
            }),
        );
    }

    /// Generates images for `times`, calling `handler` exactly once per
    /// requested time (duplicates included) with its outcome.
    pub fn generate_images(
        &self,
        times: impl IntoIterator<Item = Time>,
        mut handler: impl FnMut(Time, Outcome) + Send + 'static,
    ) {
        let times: Vec<Time> = times.into_iter().collect();
        let requested = times.clone();
        self.submit(
            times,
            Box::new(move |i, result| handler(requested[i], result.into())),
        );
    }

    /// Generates one image, blocking the calling thread until it is ready.
    /// Do not call it from inside one of this generator's own callbacks.
    pub fn copy_image(&self, t: Time) -> ImageResult {
        let (tx, rx) = std::sync::mpsc::channel();
        self.generate_image(t, move |r| {
            let _ = tx.send(r);
        });
        rx.recv().unwrap_or(Err(Error::Cancelled))
    }

    /// Cancels every request of this generator not yet delivered, from every
    /// API. When it returns, each of them has been handed `Cancelled` and no
    /// image is still being delivered. It may be called from any thread,
    /// from inside a handler of this generator too: then it returns at once,
    /// and the cancellations reach their handlers as soon as the running
    /// one returns.
    pub fn cancel_all(&self) {
        let batches: Vec<Arc<Batch>> = self
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for batch in &batches {
            batch.cancel();
        }
        // Inside a handler or on a worker, waiting for deliveries to finish
        // would wait on this very thread; the cancellations queued behind
        // the running handler are delivered as soon as it returns.
        if !worker::on_worker_thread() && !batch::in_delivery() {
            for batch in &batches {
                batch.wait_quiet();
            }
        }
    }

    /// Generates images for `requests`, each rendered at exactly its own
    /// size (or as `settings` fit it, for [`Size::NATIVE`](crate::Size)),
    /// with `settings` in place of the generator's: a frame several
    /// requests share is decoded once and rendered once per size. `handler`
    /// gets each request's index and outcome.
    pub(crate) fn generate_sized(
        &self,
        settings: GeneratorSettings,
        requests: Vec<(Time, crate::render::Size)>,
        handler: impl FnMut(usize, ImageResult) + Send + 'static,
    ) -> SubmittedBatch {
        let (times, sizes) = requests.into_iter().unzip();
        SubmittedBatch(
            self.submit_batch(Batch::new(times, settings, Box::new(handler)).with_sizes(sizes)),
        )
    }

    fn submit(&self, times: Vec<Time>, sink: Sink) -> Arc<Batch> {
        self.submit_batch(Batch::new(times, self.settings(), sink))
    }

    fn submit_batch(&self, batch: Batch) -> Arc<Batch> {
        let batch = Arc::new(batch);
        if batch.len() == 0 {
            return batch;
        }
        {
            let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
            live.retain(|w| w.upgrade().is_some_and(|b| !b.is_finished()));
            live.push(Arc::downgrade(&batch));
        }
        self.owner.ensure_threads();
        self.owner
            .pool
            .push(Job::Plan(self.shared.clone(), batch.clone()));
        batch
    }
}

impl Drop for ImageGenerator {
    fn drop(&mut self) {
        self.cancel_all();
        // Queued jobs of this generator go; a shared pool's other
        // generators keep theirs. The pool itself stops with its last owner.
        self.owner.pool.cancel_queued(Some(self.shared.id));
    }
}

/// A batch handed to a generator, for its submitter to cancel on its own.
#[must_use = "dropping it gives up the way to cancel the batch alone"]
pub(crate) struct SubmittedBatch(Arc<Batch>);

impl SubmittedBatch {
    /// Hands every request of the batch still pending `Cancelled`.
    pub(crate) fn cancel(&self) {
        self.0.cancel();
    }
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
