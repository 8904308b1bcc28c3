use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::image::Deinterlacer;
use crate::picture::PictureDesc;
use crate::render::spec::{OutputEncoding, OutputSpec};
use crate::surface::{Picture, Surface};

use super::bands::{self, BandFrame, BandPlan, ByteRange, DeviceBounds};
use super::context::scoped;
use super::decimate::host_decimated;
use super::deinterlace::{pack_previous, usable_previous, DeinterlacePlan, PARAMS_STRIDE};
use super::frame_plan::FramePlan;
use super::input::{self, bind_images, bind_in_place, BoundInput, PlaneBinding, PlaneBindings};
use super::params::Params;
use super::taps::TapTables;
use super::upload::{InputKey, InputSet, MapState, PARAMS_SLOT};
use super::variants::{PAIR, PRIMARY_GROUP, SECONDARY_COLUMNS};
use super::{GpuContext, GpuError};

/// How many differently sized inputs (and outputs) stay allocated. A
/// generator usually serves one source at one output size; a few entries
/// cover a contact sheet mixing sizes without thrashing.
const CACHE_ENTRIES: usize = 3;

const WORKGROUP_SECONDARY: u32 = 8;

/// The final pixels of one frame, read back once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedImage {
    pub width: u32,
    pub height: u32,
    /// Bytes per row; rows are tightly packed (`width × 4` for 8-bit,
    /// `width × 8` for 16-bit).
    pub stride: usize,
    /// `Srgb8`: RGBA8, sRGB, BT.709. `Pq16`/`Hlg16`: RGBA16 little-endian in
    /// the source primaries and transfer. Alpha is straight, and opaque
    /// unless `alpha`.
    pub encoding: OutputEncoding,
    /// The picture carried alpha, and the pixels hold it.
    pub alpha: bool,
    /// How an interlaced picture was made progressive; `None` when it was
    /// read as it is (progressive, or deinterlacing off).
    pub deinterlaced: Option<Deinterlacer>,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WorkKey {
    width: u32,
    height: u32,
    blocks: [u32; 2],
    words_per_pixel: u32,
    tap_words: u32,
    /// Blocks of the component-0 buffer: component 0's, then alpha's.
    mid0_blocks: u32,
}

/// Intermediate, output and readback buffers for one output shape.
struct WorkSet {
    id: u64,
    key: WorkKey,
    mid0: wgpu::Buffer,
    mid12: wgpu::Buffer,
    out: wgpu::Buffer,
    readback: wgpu::Buffer,
    taps: wgpu::Buffer,
    /// The tables `taps` holds, so a stream of same-geometry frames uploads
    /// them once.
    taps_for: Option<TapTables>,
}

/// Where the last frame's time went on the pipeline's side, for
/// benchmarks and per-stage reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderTimings {
    /// Preparing host planes: decimating them first on a CPU adapter (see
    /// [`FramePipeline::set_host_decimation`]), and copying them into the
    /// staging buffer (zero for a picture already on the device).
    pub upload: Duration,
    /// From submitting the passes (and the copies they need) to their
    /// completion on the device.
    pub gpu: Duration,
    /// Waiting for the readback buffer's mapping and copying the pixels out.
    pub readback: Duration,
}

/// Runs frames through the fused GPU pass on one [`GpuContext`]. Holds the
/// per-shape resources, so keep one per worker thread and feed it many
/// frames: after the first frame of a shape, a frame allocates no device
/// memory.
pub struct FramePipeline {
    ctx: GpuContext,
    uniforms: wgpu::Buffer,
    inputs: Vec<InputSet>,
    work: Vec<WorkSet>,
    bind_groups: Vec<(u64, u64, wgpu::BindGroup)>,
    /// Host copy of the tap tables, kept for its capacity.
    tap_scratch: Vec<u32>,
    next_id: u64,
    timeout: Duration,
    /// Host planes are imported where they lie (see
    /// [`input::imports_host_memory`]) until an import fails.
    import_host: bool,
    /// Steep downscales of host pictures are box-averaged on the host
    /// first (`decimate.rs`); on by default on a CPU adapter only.
    decimate_host: bool,
    last_timings: RenderTimings,
    /// A cap below the device's on the storage bindings and buffers a
    /// frame's passes use, set by [`set_max_binding_size`](Self::set_max_binding_size).
    max_binding: Option<u64>,
    last_deinterlacer: Option<Deinterlacer>,
    /// The deinterlace stage's output (grown to the largest picture yet)
    /// and its uniform blocks, one slot per plane; made on the first
    /// interlaced picture.
    deinterlaced: Option<(wgpu::Buffer, wgpu::Buffer)>,
    /// The previous picture's planes for the motion-adaptive deinterlacer,
    /// laid out as the deinterlace stage's output (grown to the largest
    /// yet); made on the first picture that has one.
    previous: Option<wgpu::Buffer>,
    /// The CUDA context's imports of this pipeline's copy buffers and
    /// timeline, made on the first CUDA picture.
    #[cfg(feature = "nvdec")]
    cuda: Option<super::cuda_input::CudaInputs>,
}

impl std::fmt::Debug for FramePipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut f = f.debug_struct("FramePipeline");
        f.field("adapter", &self.ctx.info().name)
            .field("cached_inputs", &self.inputs.len())
            .field("cached_outputs", &self.work.len());
        #[cfg(feature = "nvdec")]
        f.field("cuda_ordering", &self.cuda.as_ref().map(|c| c.ordering()));
        f.finish_non_exhaustive()
    }
}

impl FramePipeline {
    pub fn new(ctx: &GpuContext) -> Result<FramePipeline, GpuError> {
        ctx.check_alive()?;
        let device = ctx.device();
        let uniforms = scoped(device, || {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("stills params"),
                size: std::mem::size_of::<Params>() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        })?;
        Ok(FramePipeline {
            ctx: ctx.clone(),
            uniforms,
            inputs: Vec::new(),
            work: Vec::new(),
            bind_groups: Vec::new(),
            tap_scratch: Vec::new(),
            next_id: 0,
            timeout: Duration::from_secs(60),
            import_host: input::imports_host_memory(ctx),
            decimate_host: ctx.info().is_software(),
            last_timings: RenderTimings::default(),
            max_binding: None,
            last_deinterlacer: None,
            deinterlaced: None,
            previous: None,
            #[cfg(feature = "nvdec")]
            cuda: None,
        })
    }

    /// The longest a frame may take on the device before it fails with
    /// [`GpuError::Timeout`] (default 60 s, generous for lavapipe).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Caps the storage bindings and working buffers a frame's passes use
    /// at `bytes`, below the device's own limits (`None`: the device's). A
    /// frame that needs more renders in bands of rows, each within the cap,
    /// with the same pixels; a server can use it to bound the device memory
    /// one frame takes, and tests to split small frames.
    pub fn set_max_binding_size(&mut self, bytes: Option<u64>) {
        self.max_binding = bytes;
    }

    /// Whether a steep downscale of a host picture is first averaged over
    /// whole boxes of texels on the host, leaving the passes a picture at
    /// least three times the output (`gpu::decimate`). On by default on a CPU
    /// adapter (lavapipe), where the first pass over the full frame is most
    /// of a thumbnail's cost, and off elsewhere; the parity tests turn it
    /// off to compare with the direct path.
    pub fn set_host_decimation(&mut self, on: bool) {
        self.decimate_host = on;
    }

    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// How many input or output buffer sets this pipeline has allocated so far.
    /// A stream of same-shaped frames stops increasing it after its first
    /// frame; a rising count in steady state means the cache is thrashing.
    pub fn resource_sets_created(&self) -> u64 {
        self.next_id
    }

    /// Where the last rendered frame's time went (upload, GPU work,
    /// readback).
    pub fn last_timings(&self) -> RenderTimings {
        self.last_timings
    }

    /// How the last rendered frame was deinterlaced, if it was.
    pub fn last_deinterlacer(&self) -> Option<Deinterlacer> {
        self.last_deinterlacer
    }

    /// Renders `picture` as `spec` describes.
    pub fn render(
        &mut self,
        picture: &Picture,
        spec: &OutputSpec,
    ) -> Result<RenderedImage, GpuError> {
        self.render_after(picture, None, spec)
    }

    /// Renders `picture` as `spec` describes, `previous` being the picture
    /// shown just before it where the decoder has it at hand: an interlaced
    /// picture that `spec` deinterlaces then gets the motion-adaptive
    /// filter ([`Deinterlacer::MotionAdaptive`]) when `previous` is a host
    /// picture of its format and size, else the spatial one. `previous` is
    /// read only then.
    pub fn render_after(
        &mut self,
        picture: &Picture,
        previous: Option<&Picture>,
        spec: &OutputSpec,
    ) -> Result<RenderedImage, GpuError> {
        let mut data = Vec::new();
        let size = self.render_frame(picture, previous, spec, &mut data)?;
        Ok(self.rendered(picture, spec, size, data))
    }

    /// [`render_after`](Self::render_after) with the host's part already
    /// done: `picture` and `spec` are what
    /// [`host_decimated`](super::host_decimated) made of them, or the
    /// originals where it made nothing, and render as they are. The
    /// pool's workers decimate before they take a pipeline, so that on a
    /// CPU adapter, which renders one picture at a time, one picture's
    /// box-averaging runs beside another's render.
    pub(crate) fn render_prepared(
        &mut self,
        picture: &Picture,
        previous: Option<&Picture>,
        spec: &OutputSpec,
    ) -> Result<RenderedImage, GpuError> {
        let mut data = Vec::new();
        let size = self.render_direct(picture, previous, spec, &mut data)?;
        Ok(self.rendered(picture, spec, size, data))
    }

    fn rendered(
        &self,
        picture: &Picture,
        spec: &OutputSpec,
        (width, height, stride): (u32, u32, usize),
        data: Vec<u8>,
    ) -> RenderedImage {
        RenderedImage {
            width,
            height,
            stride,
            encoding: spec.color.output,
            alpha: picture.desc.has_alpha(),
            deinterlaced: self.last_deinterlacer,
            data,
        }
    }

    /// Like [`render`](Self::render), writing the pixels into `dst` (cleared
    /// first, its capacity reused) and returning width, height and stride.
    pub fn render_into(
        &mut self,
        picture: &Picture,
        spec: &OutputSpec,
        dst: &mut Vec<u8>,
    ) -> Result<(u32, u32, usize), GpuError> {
        self.render_frame(picture, None, spec, dst)
    }

    /// [`render_into`](Self::render_into), with the previous picture of
    /// [`render_after`](Self::render_after).
    fn render_frame(
        &mut self,
        picture: &Picture,
        previous: Option<&Picture>,
        spec: &OutputSpec,
        dst: &mut Vec<u8>,
    ) -> Result<(u32, u32, usize), GpuError> {
        if self.decimate_host {
            let clock = Instant::now();
            if let Some((small, small_spec)) = host_decimated(picture, spec)? {
                let took = clock.elapsed();
                let size = self.render_direct(&small, None, &small_spec, dst)?;
                self.last_timings.upload += took;
                return Ok(size);
            }
        }
        self.render_direct(picture, previous, spec, dst)
    }

    /// [`render_frame`](Self::render_frame) on the picture as it is.
    fn render_direct(
        &mut self,
        picture: &Picture,
        previous: Option<&Picture>,
        spec: &OutputSpec,
        dst: &mut Vec<u8>,
    ) -> Result<(u32, u32, usize), GpuError> {
        self.ctx.check_alive()?;
        let result = self.bind_input(picture).and_then(|mut input| {
            // Deinterlacing reads planes bound as buffers; an imported
            // tiled image is read as it is (woven), and reported so.
            let mut previous_upload = Duration::ZERO;
            let deinterlace = match (spec.deinterlace, &input.bindings) {
                (Some(field), PlaneBindings::Buffers(_)) => {
                    let previous =
                        previous.and_then(|p| Some((p, usable_previous(&picture.desc, p)?)));
                    let deinterlacer = match previous {
                        Some(_) => Deinterlacer::MotionAdaptive,
                        None => Deinterlacer::Spatial,
                    };
                    let plan = DeinterlacePlan::new(&input.picture, field, deinterlacer)?;
                    let mut stage = self.deinterlace_into(&mut input, plan)?;
                    if let Some((previous, host)) = previous {
                        let clock = Instant::now();
                        stage.previous =
                            Some(self.upload_previous(&stage.plan, &previous.desc, host)?);
                        previous_upload = clock.elapsed();
                    }
                    Some(stage)
                }
                _ => None,
            };
            let plan = FramePlan::new(&input.picture, spec, input.bindings.kind())?;
            let bands = self.plan_bands(&input, &plan)?;
            self.run(picture, input, deinterlace.as_ref(), &plan, &bands, dst)?;
            self.last_timings.upload += previous_upload;
            self.last_deinterlacer = deinterlace.map(|stage| stage.plan.deinterlacer);
            Ok(plan)
        });
        match result {
            Ok(plan) => {
                let stride = plan.out_width as usize * plan.words_per_pixel as usize * 4;
                Ok((plan.out_width, plan.out_height, stride))
            }
            Err(e) => {
                // A failed frame may leave buffers mid-map or half-written:
                // start the next one from fresh resources.
                self.inputs.clear();
                self.work.clear();
                self.bind_groups.clear();
                Err(e)
            }
        }
    }

    /// The input stage, the only one that knows where a picture came from:
    /// uploads host planes, or binds a buffer already on the device. The
    /// passes after it see bindings and offsets only.
    fn bind_input(&mut self, picture: &Picture) -> Result<BoundInput, GpuError> {
        match &picture.surface {
            Surface::Host(host)
                if self.import_host && input::host_planes_word_aligned(&picture.desc, host) =>
            {
                match input::import_host(&self.ctx, &picture.desc, host) {
                    Ok(bound) => Ok(bound),
                    // Memory this device will not import (a type it cannot
                    // map): copy it, and stop trying.
                    Err(GpuError::Import(_)) => {
                        self.import_host = false;
                        self.bind_input(picture)
                    }
                    Err(e) => Err(e),
                }
            }
            Surface::Host(_) => {
                let index = self.input_set(&picture.desc)?;
                let set = &self.inputs[index];
                let binding = |component: usize| PlaneBinding {
                    buffer: set.planes.clone(),
                    offset: set.bindings[component].0,
                    size: set.bindings[component].1,
                };
                Ok(BoundInput {
                    bindings: PlaneBindings::Buffers([
                        binding(0),
                        binding(1),
                        binding(2),
                        binding(3),
                    ]),
                    picture: set.bound(&picture.desc),
                    upload: Some(index),
                    waits: Vec::new(),
                    timelines: Vec::new(),
                    acquire: None,
                })
            }
            Surface::Images(images) => bind_images(&picture.desc, &images.planes),
            Surface::Buffer(device_buffer) => {
                bind_in_place(&picture.desc, input::binding_alignment(&self.ctx), |_| {
                    &device_buffer.buffer
                })
            }
            Surface::DmaBuf(dma_buf) => input::import_dma_buf(&self.ctx, &picture.desc, dma_buf),
            #[cfg(feature = "nvdec")]
            Surface::Cuda(cuda) => {
                super::cuda_input::import_cuda(&self.ctx, &mut self.cuda, &picture.desc, cuda)
            }
            #[cfg(not(feature = "nvdec"))]
            other => Err(GpuError::UnsupportedSurface {
                kind: other.kind(),
                reason: "this build has no CUDA interop (Cargo feature 'nvdec')",
            }),
        }
    }

    /// The bands the frame renders in: the whole frame at once where its
    /// buffers and bindings fit the device (or the cap set with
    /// [`set_max_binding_size`](Self::set_max_binding_size)), else bands of
    /// rows that each fit.
    fn plan_bands(&self, input: &BoundInput, plan: &FramePlan) -> Result<BandPlan, GpuError> {
        let limits = self.ctx.device().limits();
        let cap = self.max_binding.unwrap_or(u64::MAX);
        let bounds = DeviceBounds {
            // The shaders address a binding's bytes with u32 offsets.
            binding: limits
                .max_storage_buffer_binding_size
                .min(u64::from(u32::MAX))
                .min(cap),
            buffer: limits.max_buffer_size.min(cap),
            alignment: u64::from(limits.min_storage_buffer_offset_alignment),
            workgroups: limits.max_compute_workgroups_per_dimension,
        };
        let taps = u64::from(plan.taps.words()) * 4;
        let storage = bounds.binding.min(bounds.buffer);
        if taps > storage {
            return Err(GpuError::TooLarge {
                what: "the filter tap tables",
                limit: "max_storage_buffer_binding_size",
                requested: taps,
                allowed: storage,
            });
        }
        let columns = [
            plan.out_width.div_ceil(PRIMARY_GROUP * PAIR),
            plan.out_width
                .div_ceil(WORKGROUP_SECONDARY * SECONDARY_COLUMNS),
        ];
        let most = columns.into_iter().max().unwrap_or(0);
        if most > bounds.workgroups {
            return Err(GpuError::TooLarge {
                what: "a dispatch",
                limit: "max_compute_workgroups_per_dimension",
                requested: u64::from(most),
                allowed: u64::from(bounds.workgroups),
            });
        }
        bands::plan_bands(&band_frame(input, plan), &bounds)
    }

    fn run(
        &mut self,
        picture: &Picture,
        mut input: BoundInput,
        deinterlace: Option<&Deinterlacing>,
        plan: &FramePlan,
        bands: &BandPlan,
        dst: &mut Vec<u8>,
    ) -> Result<(), GpuError> {
        let ctx = self.ctx.clone();
        let device = ctx.device();
        let mut timings = RenderTimings::default();
        let alpha_grids = [plan.primary[2].is_some(), plan.primary[3].is_some()];
        let (rows, blocks, mid0_blocks) = bands.largest(alpha_grids);
        let work = self.work_set(WorkKey {
            width: plan.out_width,
            height: rows,
            blocks,
            words_per_pixel: plan.words_per_pixel,
            tap_words: plan.taps.words(),
            mid0_blocks,
        });
        let bound = match &input.bindings {
            PlaneBindings::Buffers(buffers) => buffers.each_ref().map(|b| b.offset),
            PlaneBindings::Images(_) => [0; 4],
        };
        let row_bytes = u64::from(plan.out_width) * u64::from(plan.words_per_pixel) * 4;
        dst.clear();
        dst.reserve(row_bytes as usize * plan.out_height as usize);
        for (index, band) in bands.bands.iter().enumerate() {
            let readback_state = Arc::new(Mutex::new(MapState::Pending));
            let mut submitted = Instant::now();
            let band_bytes = row_bytes * band.rows.len() as u64;
            let submission = scoped(device, || -> Result<_, GpuError> {
                let tables = &mut self.work[work];
                if tables.taps_for != Some(plan.taps) {
                    plan.taps.write(&mut self.tap_scratch);
                    ctx.queue().write_buffer(
                        &tables.taps,
                        0,
                        bytemuck::cast_slice(&self.tap_scratch),
                    );
                    tables.taps_for = Some(plan.taps);
                }
                let per_frame_group;
                let bind_group = match (input.upload, bands.whole) {
                    (Some(set), true) if deinterlace.is_none() => {
                        let cached = self.bind_group(set, work);
                        &self.bind_groups[cached].2
                    }
                    _ => {
                        per_frame_group = self.create_bind_group(
                            &band_bindings(&input.bindings, band.inputs.as_ref()),
                            work,
                        );
                        &per_frame_group
                    }
                };
                let work = &self.work[work];

                let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("stills frame"),
                });
                let upload = match (input.upload, &picture.surface) {
                    (Some(set), Surface::Host(host)) if index == 0 => {
                        let set = &self.inputs[set];
                        let clock = Instant::now();
                        set.fill(&picture.desc, host, &plan.params)?;
                        timings.upload = clock.elapsed();
                        if bands.whole {
                            encoder.copy_buffer_to_buffer(
                                &set.upload,
                                0,
                                &self.uniforms,
                                0,
                                std::mem::size_of::<Params>() as u64,
                            );
                        }
                        encoder.copy_buffer_to_buffer(
                            &set.upload,
                            PARAMS_SLOT,
                            &set.planes,
                            PARAMS_SLOT,
                            set.size - PARAMS_SLOT,
                        );
                        Some(set)
                    }
                    _ => None,
                };
                if !bands.whole {
                    let inputs = band.inputs.map(|i| i.map(|r| r.offset));
                    let params = plan.band_params(band, bound, inputs);
                    ctx.queue()
                        .write_buffer(&self.uniforms, 0, bytemuck::bytes_of(&params));
                } else if upload.is_none() {
                    ctx.queue()
                        .write_buffer(&self.uniforms, 0, bytemuck::bytes_of(&plan.params));
                }
                if let Some(stage) = deinterlace.filter(|_| index == 0) {
                    encode_deinterlace(&ctx, &mut encoder, stage)?;
                }
                {
                    let pipelines = ctx.pipelines();
                    let kind = input.bindings.kind();
                    let primary = plan
                        .primary
                        .map(|v| v.map(|v| pipelines.primary(device, kind, v)));
                    let secondary = pipelines.secondary(device, kind, plan.secondary);
                    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: Some("stills resample"),
                        timestamp_writes: None,
                    });
                    pass.set_bind_group(0, bind_group, &[]);
                    let [b0, b1] = band.blocks.clone().map(|b| b.len() as u32);
                    for ((pipeline, variant), blocks) in
                        primary.iter().zip(plan.primary).zip([b0, b1, b0, b1])
                    {
                        if let (Some(pipeline), Some(variant)) = (pipeline, variant) {
                            pass.set_pipeline(pipeline);
                            pass.dispatch_workgroups(
                                plan.out_width.div_ceil(PRIMARY_GROUP * PAIR),
                                blocks.div_ceil(variant.blocks()),
                                1,
                            );
                        }
                    }
                    pass.set_pipeline(&secondary);
                    pass.dispatch_workgroups(
                        plan.out_width
                            .div_ceil(WORKGROUP_SECONDARY * SECONDARY_COLUMNS),
                        (band.entries.len() as u32).div_ceil(WORKGROUP_SECONDARY),
                        1,
                    );
                }
                encoder.copy_buffer_to_buffer(&work.out, 0, &work.readback, 0, band_bytes);
                submitted = Instant::now();
                let submission = input::submit(
                    &ctx,
                    encoder.finish(),
                    std::mem::take(&mut input.waits),
                    &input.timelines,
                    input.acquire.take(),
                )?;

                let state = Arc::clone(&readback_state);
                work.readback
                    .slice(..band_bytes)
                    .map_async(wgpu::MapMode::Read, move |r| set_state(&state, r));
                if let Some(set) = upload {
                    *lock(&set.upload_ready)? = MapState::Pending;
                    let state = Arc::clone(&set.upload_ready);
                    set.upload
                        .slice(..)
                        .map_async(wgpu::MapMode::Write, move |r| set_state(&state, r));
                }
                Ok(submission)
            })??;

            device
                .poll(wgpu::PollType::Wait {
                    submission_index: Some(submission),
                    timeout: Some(self.timeout),
                })
                .map_err(|e| match e {
                    wgpu::PollError::Timeout => GpuError::Timeout {
                        seconds: self.timeout.as_secs(),
                    },
                    other => GpuError::DeviceLost(other.to_string()),
                })?;
            timings.gpu += submitted.elapsed();
            self.ctx.check_alive()?;
            let clock = Instant::now();
            wait_mapped(device, &readback_state, self.timeout, "the readback buffer")?;
            let work = &self.work[work];
            scoped(device, || -> Result<(), GpuError> {
                {
                    let view = work
                        .readback
                        .slice(..band_bytes)
                        .get_mapped_range()
                        .map_err(|e| GpuError::Internal(e.to_string()))?;
                    dst.extend_from_slice(&view);
                }
                work.readback.unmap();
                Ok(())
            })??;
            timings.readback += clock.elapsed();
        }
        self.last_timings = timings;
        Ok(())
    }

    /// Plans the deinterlace stage of `input` and points `input` at the
    /// stage's output: the passes after it read one progressive picture
    /// from the deinterlaced planes (in bands, like any other), the stage
    /// itself the bindings `input` had.
    fn deinterlace_into(
        &mut self,
        input: &mut BoundInput,
        plan: DeinterlacePlan,
    ) -> Result<Deinterlacing, GpuError> {
        let limits = self.ctx.device().limits();
        let binding = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size)
            .min(u64::from(u32::MAX))
            .min(self.max_binding.unwrap_or(u64::MAX));
        let sources = match &input.bindings {
            PlaneBindings::Buffers(buffers) => buffers.each_ref().map(|b| b.size),
            PlaneBindings::Images(_) => [0; 4],
        };
        // The stage reads and writes whole planes: a picture too large for
        // that is not split (interlaced video stops at 1080 lines).
        let largest = sources.into_iter().max().unwrap_or(0).max(plan.bytes);
        if largest > binding {
            return Err(GpuError::TooLarge {
                what: "the deinterlaced planes",
                limit: "max_storage_buffer_binding_size",
                requested: largest,
                allowed: binding,
            });
        }
        let groups = plan.planes.iter().flat_map(|p| p.groups).max().unwrap_or(0);
        if groups > limits.max_compute_workgroups_per_dimension {
            return Err(GpuError::TooLarge {
                what: "a deinterlace dispatch",
                limit: "max_compute_workgroups_per_dimension",
                requested: u64::from(groups),
                allowed: u64::from(limits.max_compute_workgroups_per_dimension),
            });
        }
        let (planes, uniforms) = self.deinterlace_buffers(&plan)?;
        let whole = PlaneBinding {
            buffer: planes.clone(),
            offset: 0,
            size: plan.bytes,
        };
        let deinterlaced =
            PlaneBindings::Buffers([whole.clone(), whole.clone(), whole.clone(), whole]);
        let source = std::mem::replace(&mut input.bindings, deinterlaced);
        input.picture = plan.out;
        Ok(Deinterlacing {
            plan,
            source,
            planes,
            uniforms,
            previous: None,
        })
    }

    /// The buffer the motion-adaptive deinterlacer reads the previous
    /// picture from, `previous`'s planes (in `host`) written into it as
    /// `plan` lays the stage's output out (before the frame's commands run,
    /// as queue writes are).
    fn upload_previous(
        &mut self,
        plan: &DeinterlacePlan,
        previous: &PictureDesc,
        host: &crate::surface::HostPlanes,
    ) -> Result<wgpu::Buffer, GpuError> {
        let device = self.ctx.device();
        if self.previous.as_ref().is_none_or(|b| b.size() < plan.bytes) {
            self.previous = Some(device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("stills previous picture"),
                size: plan.bytes.max(16),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }));
        }
        let buffer = self
            .previous
            .clone()
            .ok_or_else(|| GpuError::Internal("the previous picture's buffer vanished".into()))?;
        let size = wgpu::BufferSize::new(plan.bytes)
            .ok_or_else(|| GpuError::Internal("an empty previous picture".into()))?;
        scoped(device, || -> Result<(), GpuError> {
            let mut view = self
                .ctx
                .queue()
                .write_buffer_with(&buffer, 0, size)
                .ok_or_else(|| GpuError::Internal("the previous picture's upload failed".into()))?;
            pack_previous(plan, previous, host, |at, row| {
                view.slice(at..at + row.len()).copy_from_slice(row)
            })
        })??;
        Ok(buffer)
    }

    /// The deinterlace stage's output buffer, at least `plan.bytes` long,
    /// and its uniform buffer with `plan`'s blocks written (before the
    /// frame's commands run, as queue writes are).
    fn deinterlace_buffers(
        &mut self,
        plan: &DeinterlacePlan,
    ) -> Result<(wgpu::Buffer, wgpu::Buffer), GpuError> {
        let device = self.ctx.device();
        let fits = |(planes, _): &(wgpu::Buffer, wgpu::Buffer)| planes.size() >= plan.bytes;
        if !self.deinterlaced.as_ref().is_some_and(fits) {
            let planes = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("stills deinterlaced planes"),
                size: plan.bytes.max(16),
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            });
            let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("stills deinterlace params"),
                size: PARAMS_STRIDE * crate::picture::MAX_PLANES as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            self.deinterlaced = Some((planes, uniforms));
        }
        let (planes, uniforms) = self
            .deinterlaced
            .clone()
            .ok_or_else(|| GpuError::Internal("deinterlace buffers vanished".into()))?;
        for (slot, job) in plan.planes.iter().enumerate() {
            self.ctx.queue().write_buffer(
                &uniforms,
                slot as u64 * PARAMS_STRIDE,
                bytemuck::bytes_of(&job.params),
            );
        }
        Ok((planes, uniforms))
    }

    /// Index of the upload set for `picture`'s shape, creating it if
    /// needed; the set used last is moved to the end.
    fn input_set(&mut self, picture: &PictureDesc) -> Result<usize, GpuError> {
        let key = InputKey::of(picture);
        let (device, next_id, bind_groups) =
            (self.ctx.device(), &mut self.next_id, &mut self.bind_groups);
        let Ok(index) = most_recent(
            &mut self.inputs,
            |s| s.key == key,
            || Ok::<_, std::convert::Infallible>(InputSet::new(device, picture, fresh_id(next_id))),
            |old| bind_groups.retain(|(input, _, _)| *input != old.id),
        );
        wait_mapped(
            self.ctx.device(),
            &self.inputs[index].upload_ready,
            self.timeout,
            "the upload buffer",
        )?;
        Ok(index)
    }

    fn work_set(&mut self, key: WorkKey) -> usize {
        let (device, next_id, bind_groups) =
            (self.ctx.device(), &mut self.next_id, &mut self.bind_groups);
        let Ok(index) = most_recent(
            &mut self.work,
            |s| s.key == key,
            || Ok::<_, std::convert::Infallible>(create_work_set(device, key, fresh_id(next_id))),
            |old| bind_groups.retain(|(_, work, _)| *work != old.id),
        );
        index
    }

    /// The cached bind group of upload set `input` with work set `work`.
    fn bind_group(&mut self, input: usize, work: usize) -> usize {
        let (input, work_id) = (&self.inputs[input], self.work[work].id);
        if let Some(pos) = self
            .bind_groups
            .iter()
            .position(|(i, w, _)| *i == input.id && *w == work_id)
        {
            return pos;
        }
        let id = input.id;
        let binding = |component: usize| PlaneBinding {
            buffer: input.planes.clone(),
            offset: input.bindings[component].0,
            size: input.bindings[component].1,
        };
        let bindings = PlaneBindings::Buffers([binding(0), binding(1), binding(2), binding(3)]);
        let group = self.create_bind_group(&bindings, work);
        self.bind_groups.push((id, work_id, group));
        self.bind_groups.len() - 1
    }

    fn create_bind_group(&self, planes: &PlaneBindings, work: usize) -> wgpu::BindGroup {
        let work = &self.work[work];
        let plane = |component: usize| match planes {
            PlaneBindings::Buffers(buffers) => {
                let binding = &buffers[component];
                wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &binding.buffer,
                    offset: binding.offset,
                    size: wgpu::BufferSize::new(binding.size),
                })
            }
            PlaneBindings::Images(views) => wgpu::BindingResource::TextureView(&views[component]),
        };
        let device = self.ctx.device();
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("stills frame"),
            layout: self.ctx.pipelines().layout(device, planes.kind()),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: self.uniforms.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: plane(0),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: plane(1),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: plane(2),
                },
                wgpu::BindGroupEntry {
                    binding: 4,
                    resource: work.mid0.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 5,
                    resource: work.mid12.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 6,
                    resource: work.out.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 7,
                    resource: work.taps.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 8,
                    resource: plane(3),
                },
            ],
        })
    }
}

/// A picture's deinterlace stage: its plan, the bindings it reads the
/// picture from, the buffers it writes the progressive planes to and
/// takes its uniform blocks from, and the previous picture's planes when
/// it is motion-adaptive.
struct Deinterlacing {
    plan: DeinterlacePlan,
    source: PlaneBindings,
    planes: wgpu::Buffer,
    uniforms: wgpu::Buffer,
    previous: Option<wgpu::Buffer>,
}

/// Records the deinterlace stage: one dispatch per plane, each reading the
/// plane from the input binding that holds it and writing its rows into
/// `planes`, with its uniform block at its slot of `uniforms`.
fn encode_deinterlace(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    stage: &Deinterlacing,
) -> Result<(), GpuError> {
    let Deinterlacing {
        plan,
        source,
        planes,
        uniforms,
        previous,
    } = stage;
    let PlaneBindings::Buffers(sources) = source else {
        return Err(GpuError::Internal(
            "deinterlacing was planned for planes not bound as buffers".into(),
        ));
    };
    let device = ctx.device();
    let stage = ctx.pipelines().deinterlace(device);
    let groups: Vec<wgpu::BindGroup> = plan
        .planes
        .iter()
        .map(|job| {
            let source = &sources[job.binding];
            let source = wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &source.buffer,
                offset: source.offset,
                size: wgpu::BufferSize::new(source.size),
            });
            // The spatial filter reads no previous picture: the binding
            // gets the source again, read-only as it is at binding 1.
            let previous = match previous {
                Some(buffer) => buffer.as_entire_binding(),
                None => source.clone(),
            };
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("stills deinterlace"),
                layout: &stage.layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                            buffer: uniforms,
                            offset: 0,
                            size: wgpu::BufferSize::new(std::mem::size_of_val(&job.params) as u64),
                        }),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: source,
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: planes.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: previous,
                    },
                ],
            })
        })
        .collect();
    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
        label: Some("stills deinterlace"),
        timestamp_writes: None,
    });
    pass.set_pipeline(&stage.pipeline);
    for (slot, (job, group)) in plan.planes.iter().zip(&groups).enumerate() {
        pass.set_bind_group(0, group, &[(slot as u64 * PARAMS_STRIDE) as u32]);
        pass.dispatch_workgroups(job.groups[0], job.groups[1], 1);
    }
    Ok(())
}

/// The next resource-set id.
fn fresh_id(next_id: &mut u64) -> u64 {
    *next_id += 1;
    *next_id
}

/// The index of the entry of `sets` that `matches` picks, moved to the end
/// (the most recently used), or else of a new one `make` puts there; a full
/// cache first drops its least recently used entry into `evicted`.
fn most_recent<S, E>(
    sets: &mut Vec<S>,
    matches: impl Fn(&S) -> bool,
    make: impl FnOnce() -> Result<S, E>,
    evicted: impl FnOnce(S),
) -> Result<usize, E> {
    if let Some(pos) = sets.iter().position(matches) {
        let set = sets.remove(pos);
        sets.push(set);
    } else {
        if sets.len() == CACHE_ENTRIES {
            evicted(sets.remove(0));
        }
        sets.push(make()?);
    }
    Ok(sets.len() - 1)
}

/// Waits until the map callback of a buffer has run. Another thread's
/// `poll` may have collected the callback (its submission being done) and
/// not run it yet when this thread's own poll returns, so `Pending` here
/// means "soon", not "failed".
fn wait_mapped(
    device: &wgpu::Device,
    state: &Mutex<MapState>,
    timeout: Duration,
    what: &str,
) -> Result<(), GpuError> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match *lock(state)? {
            MapState::Mapped => return Ok(()),
            MapState::Failed => {
                return Err(GpuError::DeviceLost(format!("{what} could not be mapped")))
            }
            MapState::Pending => {}
        }
        if std::time::Instant::now() >= deadline {
            return Err(GpuError::Timeout {
                seconds: timeout.as_secs(),
            });
        }
        device
            .poll(wgpu::PollType::Poll)
            .map_err(|e| GpuError::DeviceLost(e.to_string()))?;
        std::thread::yield_now();
    }
}

fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, GpuError> {
    m.lock()
        .map_err(|_| GpuError::Internal("map state poisoned".into()))
}

fn set_state(state: &Mutex<MapState>, result: Result<(), wgpu::BufferAsyncError>) {
    if let Ok(mut slot) = state.lock() {
        *slot = if result.is_ok() {
            MapState::Mapped
        } else {
            MapState::Failed
        };
    }
}

fn create_work_set(device: &wgpu::Device, key: WorkKey, id: u64) -> WorkSet {
    let width = u64::from(key.width);
    // Storage bindings must not be empty, even for a group with no lines.
    let storage = |label, size: u64, usage| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(16),
            usage: wgpu::BufferUsages::STORAGE | usage,
            mapped_at_creation: false,
        })
    };
    let out_bytes = width * u64::from(key.height) * u64::from(key.words_per_pixel) * 4;
    WorkSet {
        id,
        key,
        // With alpha, pass 1's alpha follows component 0's blocks (a
        // buffer of its own would pass WebGPU's default of eight storage
        // buffers per stage).
        mid0: storage(
            "stills pass-1 component 0",
            width * u64::from(key.mid0_blocks) * 16,
            wgpu::BufferUsages::empty(),
        ),
        mid12: storage(
            "stills pass-1 components 1-2",
            width * u64::from(key.blocks[1]) * 32,
            wgpu::BufferUsages::empty(),
        ),
        out: device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("stills output"),
            size: out_bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        }),
        readback: device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("stills readback"),
            size: out_bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        }),
        taps: storage(
            "stills filter taps",
            u64::from(key.tap_words) * 4,
            wgpu::BufferUsages::COPY_DST,
        ),
        taps_for: None,
    }
}

/// The frame as the band planner sees it: its plan and how its input is
/// bound.
fn band_frame(input: &BoundInput, plan: &FramePlan) -> BandFrame {
    plan.band_frame(match &input.bindings {
        PlaneBindings::Buffers(buffers) => Some(buffers.each_ref().map(|b| (b.offset, b.size))),
        PlaneBindings::Images(_) => None,
    })
}

/// The input bindings of one band: each buffer bound over the band's
/// range of it, images whole.
fn band_bindings(bindings: &PlaneBindings, inputs: Option<&[ByteRange; 4]>) -> PlaneBindings {
    match (bindings, inputs) {
        (PlaneBindings::Buffers(buffers), Some(inputs)) => {
            let mut k = 0;
            PlaneBindings::Buffers(buffers.each_ref().map(|b| {
                let range = inputs[k];
                k += 1;
                PlaneBinding {
                    buffer: b.buffer.clone(),
                    offset: range.offset,
                    size: range.size,
                }
            }))
        }
        (PlaneBindings::Buffers(buffers), None) => PlaneBindings::Buffers(buffers.clone()),
        (PlaneBindings::Images(views), _) => PlaneBindings::Images(views.clone()),
    }
}
