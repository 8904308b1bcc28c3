use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::picture::PictureDesc;
use crate::render::spec::{OutputEncoding, OutputSpec};
use crate::surface::{Picture, Surface};

use super::context::scoped;
use super::decimate::Decimation;
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
    out_bytes: u64,
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
            #[cfg(feature = "nvdec")]
            cuda: None,
        })
    }

    /// The longest a frame may take on the device before it fails with
    /// [`GpuError::Timeout`] (default 60 s, generous for lavapipe).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
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

    /// Renders `picture` as `spec` describes.
    pub fn render(
        &mut self,
        picture: &Picture,
        spec: &OutputSpec,
    ) -> Result<RenderedImage, GpuError> {
        let mut data = Vec::new();
        let (width, height, stride) = self.render_into(picture, spec, &mut data)?;
        Ok(RenderedImage {
            width,
            height,
            stride,
            encoding: spec.color.output,
            alpha: picture.desc.has_alpha(),
            data,
        })
    }

    /// Like [`render`](Self::render), writing the pixels into `dst` (cleared
    /// first, its capacity reused) and returning width, height and stride.
    pub fn render_into(
        &mut self,
        picture: &Picture,
        spec: &OutputSpec,
        dst: &mut Vec<u8>,
    ) -> Result<(u32, u32, usize), GpuError> {
        if let (true, Surface::Host(host)) = (self.decimate_host, &picture.surface) {
            if let Some(decimation) = Decimation::plan(&picture.desc, spec) {
                let clock = Instant::now();
                let small = decimation.picture(&picture.desc, host, spec)?;
                let small_spec = decimation.spec(spec);
                let took = clock.elapsed();
                let size = self.render_direct(&small, &small_spec, dst)?;
                self.last_timings.upload += took;
                return Ok(size);
            }
        }
        self.render_direct(picture, spec, dst)
    }

    /// [`render_into`](Self::render_into) on the picture as it is.
    fn render_direct(
        &mut self,
        picture: &Picture,
        spec: &OutputSpec,
        dst: &mut Vec<u8>,
    ) -> Result<(u32, u32, usize), GpuError> {
        self.ctx.check_alive()?;
        let result = self.bind_input(picture).and_then(|input| {
            let plan = FramePlan::new(&input.picture, spec, input.bindings.kind())?;
            self.check_device_can(&input, &plan)?;
            self.run(picture, input, &plan, dst)?;
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

    fn check_device_can(&self, input: &BoundInput, plan: &FramePlan) -> Result<(), GpuError> {
        let device = self.ctx.device();
        let limits = device.limits();
        // The shaders address a plane's bytes with u32 offsets.
        let binding_limit = limits
            .max_storage_buffer_binding_size
            .min(u64::from(u32::MAX));
        let buffers = match &input.bindings {
            PlaneBindings::Buffers(buffers) => &buffers[..],
            PlaneBindings::Images(_) => &[],
        };
        for binding in buffers {
            if binding.size > binding_limit {
                return Err(GpuError::TooLarge {
                    what: "an input plane",
                    limit: "max_storage_buffer_binding_size",
                    requested: binding.size,
                    allowed: binding_limit,
                });
            }
        }
        let width = u64::from(plan.out_width);
        let blocks = plan.line_blocks();
        let buffers = [
            (
                "the first-pass luma buffer",
                width * u64::from(plan.mid0_blocks()) * 16,
            ),
            (
                "the first-pass chroma buffer",
                width * u64::from(blocks[1]) * 32,
            ),
            (
                "the output buffer",
                width * u64::from(plan.out_height) * u64::from(plan.words_per_pixel) * 4,
            ),
            ("the filter tap tables", u64::from(plan.taps.words()) * 4),
        ];
        for (what, size) in buffers {
            let allowed = limits
                .max_storage_buffer_binding_size
                .min(limits.max_buffer_size);
            if size > allowed {
                return Err(GpuError::TooLarge {
                    what,
                    limit: "max_storage_buffer_binding_size",
                    requested: size,
                    allowed,
                });
            }
        }
        let groups = [
            plan.out_width.div_ceil(PRIMARY_GROUP * PAIR),
            blocks[0].max(blocks[1]),
            plan.out_width
                .div_ceil(WORKGROUP_SECONDARY * SECONDARY_COLUMNS),
            plan.out_height.div_ceil(WORKGROUP_SECONDARY * PAIR),
        ];
        let most = groups.into_iter().max().unwrap_or(0);
        if most > limits.max_compute_workgroups_per_dimension {
            return Err(GpuError::TooLarge {
                what: "a dispatch",
                limit: "max_compute_workgroups_per_dimension",
                requested: u64::from(most),
                allowed: u64::from(limits.max_compute_workgroups_per_dimension),
            });
        }
        Ok(())
    }

    fn run(
        &mut self,
        picture: &Picture,
        mut input: BoundInput,
        plan: &FramePlan,
        dst: &mut Vec<u8>,
    ) -> Result<(), GpuError> {
        let ctx = self.ctx.clone();
        let device = ctx.device();
        let readback_state = Arc::new(Mutex::new(MapState::Pending));
        let mut timings = RenderTimings::default();
        let mut submitted = Instant::now();
        let submission = scoped(device, || -> Result<_, GpuError> {
            let work = self.work_set(plan);
            let tables = &mut self.work[work];
            if tables.taps_for != Some(plan.taps) {
                plan.taps.write(&mut self.tap_scratch);
                ctx.queue()
                    .write_buffer(&tables.taps, 0, bytemuck::cast_slice(&self.tap_scratch));
                tables.taps_for = Some(plan.taps);
            }
            let per_frame_group;
            let bind_group = match input.upload {
                Some(set) => {
                    let cached = self.bind_group(set, work);
                    &self.bind_groups[cached].2
                }
                None => {
                    per_frame_group = self.create_bind_group(&input.bindings, work);
                    &per_frame_group
                }
            };
            let work = &self.work[work];

            let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("stills frame"),
            });
            let upload = match (input.upload, &picture.surface) {
                (Some(set), Surface::Host(host)) => {
                    let set = &self.inputs[set];
                    let clock = Instant::now();
                    set.fill(&picture.desc, host, &plan.params)?;
                    timings.upload = clock.elapsed();
                    encoder.copy_buffer_to_buffer(
                        &set.upload,
                        0,
                        &self.uniforms,
                        0,
                        std::mem::size_of::<Params>() as u64,
                    );
                    encoder.copy_buffer_to_buffer(
                        &set.upload,
                        PARAMS_SLOT,
                        &set.planes,
                        PARAMS_SLOT,
                        set.size - PARAMS_SLOT,
                    );
                    Some(set)
                }
                _ => {
                    ctx.queue()
                        .write_buffer(&self.uniforms, 0, bytemuck::bytes_of(&plan.params));
                    None
                }
            };
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
                let blocks = plan.variant_blocks();
                for ((pipeline, variant), blocks) in primary.iter().zip(plan.primary).zip(blocks) {
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
                    plan.out_height.div_ceil(WORKGROUP_SECONDARY * PAIR),
                    1,
                );
            }
            encoder.copy_buffer_to_buffer(&work.out, 0, &work.readback, 0, work.out_bytes);
            submitted = Instant::now();
            let index = input::submit(
                &ctx,
                encoder.finish(),
                std::mem::take(&mut input.waits),
                &input.timelines,
                input.acquire.take(),
            )?;

            let state = Arc::clone(&readback_state);
            work.readback
                .slice(..work.out_bytes)
                .map_async(wgpu::MapMode::Read, move |r| set_state(&state, r));
            if let Some(set) = upload {
                *lock(&set.upload_ready)? = MapState::Pending;
                let state = Arc::clone(&set.upload_ready);
                set.upload
                    .slice(..)
                    .map_async(wgpu::MapMode::Write, move |r| set_state(&state, r));
            }
            Ok(index)
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
        timings.gpu = submitted.elapsed();
        self.ctx.check_alive()?;
        let clock = Instant::now();
        wait_mapped(device, &readback_state, self.timeout, "the readback buffer")?;
        let work = self
            .work
            .last()
            .ok_or_else(|| GpuError::Internal("work set vanished".into()))?;
        scoped(device, || -> Result<(), GpuError> {
            {
                let view = work
                    .readback
                    .slice(..work.out_bytes)
                    .get_mapped_range()
                    .map_err(|e| GpuError::Internal(e.to_string()))?;
                dst.clear();
                dst.extend_from_slice(&view);
            }
            work.readback.unmap();
            Ok(())
        })??;
        timings.readback = clock.elapsed();
        self.last_timings = timings;
        Ok(())
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

    fn work_set(&mut self, plan: &FramePlan) -> usize {
        let key = WorkKey {
            width: plan.out_width,
            height: plan.out_height,
            blocks: plan.line_blocks(),
            words_per_pixel: plan.words_per_pixel,
            tap_words: plan.taps.words(),
            mid0_blocks: plan.mid0_blocks(),
        };
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
        out_bytes,
        taps: storage(
            "stills filter taps",
            u64::from(key.tap_words) * 4,
            wgpu::BufferUsages::COPY_DST,
        ),
        taps_for: None,
    }
}
