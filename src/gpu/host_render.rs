//! The frame passes on the CPU, for a machine whose only adapter is a CPU.
//!
//! On lavapipe every WGSL pass already runs on the host's cores, through a
//! Vulkan driver: a process pays for loading it, creating a device and
//! compiling the pipelines with LLVM (about 100 ms before its first image),
//! and every picture for the upload, the submission and the readback. This
//! module evaluates the same [`FramePlan`] — its tap tables, grids, matrices
//! and tone curve, resolved by the same code — in plain Rust on the
//! picture's host planes, so everything the plan decides (geometry,
//! orientation, crop, scaling filter, colour, tone mapping) is decided once
//! for both paths, and `tests/host_render.rs` holds the two to each other
//! (50 dB or better on every fixture, tone mapping included).
//!
//! It renders what lavapipe would with the arithmetic of the passes: pass 1
//! filters every usable line of each plane along the source axis output x
//! runs on, pass 2 filters those lines along the other axis, then the
//! colour stage of `color.wgsl` (`host_colour.rs`) and the unorm packing of
//! `resample.wgsl`.
//! Sums run in `f32` like the shaders', in another order, so a pixel can
//! differ by one code where a value lies on a rounding boundary.
//!
//! Pictures with alpha are filtered premultiplied, as `alpha_read.wgsl`
//! does; pictures to be deinterlaced go through `deinterlace.wgsl`'s
//! filters first (`host_deinterlace.rs`). Only pictures on a device stay
//! on the GPU path.

use std::sync::Arc;

use crate::picture::{ComponentSource, PictureDesc, PlaneDesc};
use crate::render::spec::OutputSpec;
use crate::surface::{HostPlanes, Picture, Surface};

use super::deinterlace::usable_previous;
use super::frame_plan::FramePlan;
use super::host_colour::Colour;
use super::host_deinterlace;
use super::params::Params;
use super::shaders::InputKind;
use super::taps::AxisTaps;
use super::{GpuError, RenderedImage};

/// Renders host pictures on the CPU with the frame passes' own plan. Keeps
/// its working lines between frames, so keep one per thread and feed it
/// many frames.
#[derive(Debug, Default)]
pub struct HostRenderer {
    /// Pass-1 output of component 0, 1 and 2, and of alpha on luma's grid
    /// and on the colour planes': one row of output columns per usable
    /// source line.
    mid: [Vec<f32>; 5],
    /// The taps of recent geometries, newest first: a stream of frames of
    /// one shape evaluates the Lanczos kernel once, not per frame.
    taps: Vec<(TapsKey, Arc<Taps>)>,
}

/// What [`Taps::of`] depends on.
type TapsKey = (AxisTaps, u32, i32);

/// Geometries whose taps a renderer keeps: both passes of both grids of
/// one shape, and a contact sheet's few.
const KEPT_TAPS: usize = 8;

/// The taps of every output sample of one pass along one axis: where each
/// output's first texel lies (relative to the axis' origin) and its
/// weights, which sum to one.
#[derive(Debug)]
struct Taps {
    spans: Vec<(usize, std::ops::Range<usize>)>,
    weights: Vec<f32>,
}

impl Taps {
    fn of(axis: &AxisTaps, outputs: u32, origin: i32) -> Taps {
        let mut spans = Vec::with_capacity(outputs as usize);
        let mut weights = Vec::new();
        let mut bits = Vec::new();
        for o in 0..outputs {
            let (first, last) = axis.span(o);
            let n = (last - first + 1) as usize;
            bits.clear();
            axis.write_weights(o, first - axis.origin(), n.div_ceil(4) as u32, &mut bits);
            let start = weights.len();
            weights.extend(bits[..n].iter().map(|&b| f32::from_bits(b)));
            spans.push(((first - origin) as usize, start..weights.len()));
        }
        Taps { spans, weights }
    }

    /// Output `o`'s first texel and weights.
    fn of_output(&self, o: usize) -> (usize, &[f32]) {
        let (first, range) = &self.spans[o];
        (*first, &self.weights[range.clone()])
    }
}

/// Where one component's samples lie in its host plane.
#[derive(Clone, Copy)]
pub(super) struct Samples<'a> {
    bytes: &'a [u8],
    offset: usize,
    pitch: usize,
    texel: usize,
    wide: bool,
}

/// What pass 1 reads along a line of a plane's grid.
trait Line: Sync {
    /// Texels `x0..x0 + out.len()` of row `y`.
    fn row(&self, x0: usize, y: usize, out: &mut [f32]);
}

/// Texels made one at a time from their coordinates: samples premultiplied
/// by alpha, and alpha on the colour planes' grid.
struct PerTexel<F>(F);

impl<F: Fn(i32, i32) -> f32 + Sync> Line for PerTexel<F> {
    fn row(&self, x0: usize, y: usize, out: &mut [f32]) {
        for (k, v) in out.iter_mut().enumerate() {
            *v = (self.0)((x0 + k) as i32, y as i32);
        }
    }
}

impl<'a> Samples<'a> {
    /// Component `index` of `picture` (3: alpha, as
    /// [`FormatDesc::component_or_alpha`](crate::picture::FormatDesc::component_or_alpha)
    /// numbers them), whose planes are `host`; `None` for a component
    /// without a plane.
    fn of(picture: &PictureDesc, host: &'a HostPlanes, index: usize) -> Option<Samples<'a>> {
        let format = picture.format.desc();
        let ComponentSource::Plane { plane, channel } = format.component_or_alpha(index) else {
            return None;
        };
        let layout = format.planes[usize::from(plane)];
        let bytes_per_sample = usize::from(layout.bytes_per_sample);
        let placed = picture.planes[usize::from(plane)];
        Some(Samples {
            bytes: &host.plane(usize::from(plane))[..],
            offset: placed.offset as usize + usize::from(channel) * bytes_per_sample,
            pitch: placed.pitch as usize,
            texel: bytes_per_sample * usize::from(layout.samples_per_texel),
            wide: bytes_per_sample == 2,
        })
    }

    /// Every sample of a plane placed at `placed` in `bytes`, channels
    /// interleaved: sample `s` of a row is "texel" `s`.
    pub(super) fn plane(
        placed: PlaneDesc,
        bytes: &'a [u8],
        bytes_per_sample: usize,
    ) -> Samples<'a> {
        Samples {
            bytes,
            offset: placed.offset as usize,
            pitch: placed.pitch as usize,
            texel: bytes_per_sample,
            wide: bytes_per_sample == 2,
        }
    }

    /// The sample of texel (`x`, `y`), as the integer it holds.
    pub(super) fn at(&self, x: i32, y: i32) -> f32 {
        let at = self.offset + y as usize * self.pitch + x as usize * self.texel;
        if self.wide {
            f32::from(u16::from_le_bytes([self.bytes[at], self.bytes[at + 1]]))
        } else {
            f32::from(self.bytes[at])
        }
    }
}

impl Line for Samples<'_> {
    /// Texels `x0..x0 + out.len()` of row `y`, as the integers they hold.
    fn row(&self, x0: usize, y: usize, out: &mut [f32]) {
        let start = self.offset + y * self.pitch + x0 * self.texel;
        let row = &self.bytes[start..];
        if self.wide {
            for (k, v) in out.iter_mut().enumerate() {
                let at = k * self.texel;
                *v = f32::from(u16::from_le_bytes([row[at], row[at + 1]]));
            }
        } else if self.texel == 1 {
            for (v, &b) in out.iter_mut().zip(row) {
                *v = f32::from(b);
            }
        } else {
            for (k, v) in out.iter_mut().enumerate() {
                *v = f32::from(row[k * self.texel]);
            }
        }
    }
}

impl HostRenderer {
    pub fn new() -> HostRenderer {
        HostRenderer::default()
    }

    /// [`Taps::of`], kept for the geometries seen last.
    fn taps_of(&mut self, axis: AxisTaps, outputs: u32, origin: i32) -> Arc<Taps> {
        let key = (axis, outputs, origin);
        let taps = match self.taps.iter().position(|(k, _)| *k == key) {
            Some(i) => self.taps.remove(i).1,
            None => Arc::new(Taps::of(&axis, outputs, origin)),
        };
        self.taps.truncate(KEPT_TAPS - 1);
        self.taps.insert(0, (key, Arc::clone(&taps)));
        taps
    }

    /// Whether [`render`](Self::render) takes `picture`: a host picture
    /// (one on a device stays there, for the GPU's passes).
    pub fn can_render(picture: &Picture) -> bool {
        matches!(picture.surface, Surface::Host(_))
    }

    /// Renders `picture` as `spec` describes, `previous` being the picture
    /// shown just before it where the decoder has it at hand: an interlaced
    /// picture that `spec` deinterlaces then gets the motion-adaptive
    /// filter when `previous` is a host picture of its format and size,
    /// else the spatial one, as
    /// [`FramePipeline::render_after`](super::FramePipeline::render_after)
    /// does.
    pub fn render_after(
        &mut self,
        picture: &Picture,
        previous: Option<&Picture>,
        spec: &OutputSpec,
    ) -> Result<RenderedImage, GpuError> {
        let (Some(field), Surface::Host(host)) = (spec.deinterlace, &picture.surface) else {
            return self.render_progressive(picture, spec);
        };
        let previous = previous.and_then(|p| Some((&p.desc, usable_previous(&picture.desc, p)?)));
        let (progressive, deinterlacer) =
            host_deinterlace::deinterlaced(&picture.desc, host, previous, field)?;
        let spec = OutputSpec {
            deinterlace: None,
            ..spec.clone()
        };
        let mut image = self.render_progressive(&progressive, &spec)?;
        image.deinterlaced = Some(deinterlacer);
        Ok(image)
    }

    /// Renders `picture` as `spec` describes, as
    /// [`FramePipeline::render`](super::FramePipeline::render) would on a
    /// host picture.
    pub fn render(
        &mut self,
        picture: &Picture,
        spec: &OutputSpec,
    ) -> Result<RenderedImage, GpuError> {
        self.render_after(picture, None, spec)
    }

    /// [`render`](Self::render) once the picture is progressive (or read
    /// woven).
    fn render_progressive(
        &mut self,
        picture: &Picture,
        spec: &OutputSpec,
    ) -> Result<RenderedImage, GpuError> {
        let Surface::Host(host) = &picture.surface else {
            return Err(GpuError::UnsupportedSpec(format!(
                "the CPU renderer reads host pictures, not {}",
                picture.surface.kind()
            )));
        };
        let plan = FramePlan::new(&picture.desc, spec, InputKind::Image)?;
        let p = &plan.params;
        let samples = |c: usize| Samples::of(&picture.desc, host, c);
        let premultiplied = samples(3)
            .filter(|_| picture.desc.has_alpha())
            .map(|alpha| Premultiplied { alpha, p });
        let out_w = plan.out_width as usize;
        let out_h = plan.out_height as usize;
        let primary_axis = p.out_size[2] as usize;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let bands = |values: usize| if values >= PARALLEL_VALUES { cores } else { 1 };
        let mut vertical = [None, None];
        for (group, down_taps) in vertical.iter_mut().enumerate() {
            if plan.primary[group].is_none() {
                continue;
            }
            let grid = &p.grid[group];
            let lo = [grid.size_lo[2], grid.size_lo[3]];
            let hi = [grid.hi_lines[0], grid.hi_lines[1]];
            let lines = grid.hi_lines[3] as usize;
            let across = plan.taps.axis(group).ok_or_else(missing_taps)?;
            let down = plan.taps.axis(2 + group).ok_or_else(missing_taps)?;
            let taps = self.taps_of(across, plan.out_width, lo[primary_axis]);
            // Colour components, then alpha on this grid where the picture
            // has it (`mid` 3: luma's grid, 4: the colour planes').
            let mut reads: Vec<(usize, Box<dyn Line + '_>)> = Vec::new();
            let components: &[usize] = if group == 0 { &[0] } else { &[1, 2] };
            for &c in components {
                let source = samples(c).ok_or_else(missing_plane)?;
                reads.push(match premultiplied {
                    None => (c, Box::new(source)),
                    Some(pm) if group == 0 => {
                        (c, Box::new(PerTexel(move |x, y| pm.luma(source, x, y))))
                    }
                    Some(pm) => (c, Box::new(PerTexel(move |x, y| pm.chroma(source, x, y)))),
                });
            }
            if let Some(pm) = premultiplied.filter(|_| plan.primary[2 + group].is_some()) {
                reads.push(match group {
                    0 => (3, Box::new(pm.alpha)),
                    _ => (4, Box::new(PerTexel(move |x, y| pm.mean_alpha(x, y)))),
                });
            }
            for (c, source) in &reads {
                let mid = &mut self.mid[*c];
                mid.clear();
                mid.resize(lines * out_w, 0.0);
                let pieces = bands(mid.len());
                in_bands(mid, out_w, pieces, |first, band| {
                    if primary_axis == 0 {
                        filter_rows(source.as_ref(), &taps, lo, hi, first, band, out_w);
                    } else {
                        filter_columns(source.as_ref(), &taps, lo, first, band, out_w);
                    }
                });
            }
            *down_taps = Some(self.taps_of(down, plan.out_height, lo[1 - primary_axis]));
        }

        let words = plan.words_per_pixel as usize;
        let stride = out_w * 4 * words;
        let mut data = vec![0u8; stride * out_h];
        let colour = Colour::new(p, plan.secondary.transfer, plan.secondary.flags);
        let secondary = Secondary {
            mid: &self.mid,
            vertical: &vertical,
            scale: p.sample[0],
            neutral: p.sample[1],
            alpha: premultiplied.map(|_| AlphaOut {
                scale: p.sample[2],
                centre: p.sample[3] * p.sample[0],
                own_grid: plan.primary[3].is_some(),
            }),
            out_w,
        };
        in_bands(&mut data, stride, bands(out_w * out_h), |first, band| {
            secondary.rows(&colour, first, band, words);
        });
        Ok(RenderedImage {
            width: plan.out_width,
            height: plan.out_height,
            stride,
            encoding: spec.color.output,
            alpha: premultiplied.is_some(),
            deinterlaced: None,
            data,
        })
    }
}

fn missing_plane() -> GpuError {
    GpuError::Internal("a frame plan reading a component its format has no plane for".into())
}

fn missing_taps() -> GpuError {
    GpuError::Internal("a frame plan without the taps of a plane it reads".into())
}

/// Output values from which a pass is split among the cores: below it,
/// starting the threads costs more than they save, and a batch's workers
/// already keep the cores busy with pictures of their own.
const PARALLEL_VALUES: usize = 1 << 18;

/// Runs `f` on `data` cut into at most `bands` pieces of whole `unit`-long
/// rows, side by side when there is more than one; `f` gets the index of a
/// piece's first row.
fn in_bands<T: Send>(
    data: &mut [T],
    unit: usize,
    bands: usize,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    let rows = data.len() / unit.max(1);
    if bands <= 1 || rows <= 1 {
        f(0, data);
        return;
    }
    let per = rows.div_ceil(bands);
    let pieces: std::sync::Mutex<Vec<(usize, &mut [T])>> = std::sync::Mutex::new(
        data.chunks_mut(per * unit)
            .enumerate()
            .map(|(k, piece)| (k * per, piece))
            .collect(),
    );
    // Every thread takes pieces until none are left, this one too: a
    // thread the system will not start leaves its share to the others.
    let work = || loop {
        let next = pieces.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match next {
            Some((start, piece)) => f(start, piece),
            None => break,
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..bands {
            let spawned = std::thread::Builder::new()
                .name("stills-render".into())
                .spawn_scoped(scope, work);
            if spawned.is_err() {
                break;
            }
        }
        work();
    });
}

/// Lines pass 1 along x filters together: their texels interleaved, so
/// that each tap is one weight times a vector of texels, and no output
/// ends in a horizontal sum.
const LINES_TOGETHER: usize = 8;

/// Pass 1 along x: usable lines `first..` of the plane (source rows), one
/// per row of `mid`.
fn filter_rows(
    source: &dyn Line,
    taps: &Taps,
    lo: [i32; 2],
    hi: [i32; 2],
    first: usize,
    mid: &mut [f32],
    out_w: usize,
) {
    const N: usize = LINES_TOGETHER;
    let width = (hi[0] - lo[0] + 1) as usize;
    let mut line = vec![0.0f32; width];
    // Texel x of line k at x * N + k.
    let mut lines = vec![0.0f32; width * N];
    for (b, out) in mid.chunks_mut(out_w * N).enumerate() {
        let count = out.len() / out_w;
        for k in 0..count {
            source.row(
                lo[0] as usize,
                lo[1] as usize + first + b * N + k,
                &mut line,
            );
            for (texels, &v) in lines.chunks_exact_mut(N).zip(&line) {
                texels[k] = v;
            }
        }
        for o in 0..out_w {
            let (start, weights) = taps.of_output(o);
            let texels = lines[start * N..(start + weights.len()) * N].chunks_exact(N);
            let mut sum = [0.0f32; N];
            for (&w, texel) in weights.iter().zip(texels) {
                for k in 0..N {
                    sum[k] += w * texel[k];
                }
            }
            for (k, &v) in sum.iter().enumerate().take(count) {
                out[k * out_w + o] = v;
            }
        }
    }
}

/// Pass 1 along y (output x runs down the source, a quarter turn): usable
/// lines `first..` of the plane are source columns, and output column `o`
/// of each is the weighted sum of the source rows `o` reads.
fn filter_columns(
    source: &dyn Line,
    taps: &Taps,
    lo: [i32; 2],
    first: usize,
    mid: &mut [f32],
    out_w: usize,
) {
    let lines = mid.len() / out_w;
    let mut line = vec![0.0f32; lines];
    let mut column = vec![0.0f32; lines];
    for o in 0..out_w {
        let (start, weights) = taps.of_output(o);
        column.iter_mut().for_each(|v| *v = 0.0);
        for (t, &w) in weights.iter().enumerate() {
            source.row(
                lo[0] as usize + first,
                lo[1] as usize + start + t,
                &mut line,
            );
            for (v, &s) in column.iter_mut().zip(&line) {
                *v += w * s;
            }
        }
        for (l, &v) in column.iter().enumerate() {
            mid[l * out_w + o] = v;
        }
    }
}

/// Samples of a picture with alpha as pass 1 filters them (`alpha_read.wgsl`):
/// colour premultiplied by alpha about the neutral, so transparent texels
/// add nothing to their neighbours, and alpha on the colour planes' grid.
#[derive(Clone, Copy)]
struct Premultiplied<'a> {
    alpha: Samples<'a>,
    p: &'a Params,
}

impl Premultiplied<'_> {
    /// Component 0 of a luma-grid texel, premultiplied.
    fn luma(&self, source: Samples<'_>, x: i32, y: i32) -> f32 {
        (source.at(x, y) - self.p.sample[3]) * self.alpha.at(x, y) * self.p.sample[2]
    }

    /// The mean alpha of the luma samples a colour texel covers.
    fn mean_alpha(&self, x: i32, y: i32) -> f32 {
        let g = &self.p.grid[1];
        let (sx, sy) = (g.sub_off[0] as i32, g.sub_off[1] as i32);
        let last = [self.p.grid[0].size_lo[0] - 1, self.p.grid[0].size_lo[1] - 1];
        let mut sum = 0.0;
        for dy in 0..sy {
            for dx in 0..sx {
                sum += self
                    .alpha
                    .at((x * sx + dx).min(last[0]), (y * sy + dy).min(last[1]));
            }
        }
        sum / (sx * sy) as f32
    }

    /// One colour-plane component of a texel premultiplied at luma
    /// resolution (`texel12_premultiplied_per_luma`): the texel times the
    /// mean alpha it covers, plus how alpha varies under the chroma
    /// interpolated at each luma sample.
    fn chroma(&self, source: Samples<'_>, x: i32, y: i32) -> f32 {
        let g = &self.p.grid[1];
        let (sx, sy) = (g.sub_off[0] as i32, g.sub_off[1] as i32);
        let last_luma = [self.p.grid[0].size_lo[0] - 1, self.p.grid[0].size_lo[1] - 1];
        let last = [g.size_lo[0] - 1, g.size_lo[1] - 1];
        let mean = self.mean_alpha(x, y);
        let mut spread = 0.0;
        for dy in 0..sy {
            for dx in 0..sx {
                let px = (x * sx + dx).min(last_luma[0]);
                let py = (y * sy + dy).min(last_luma[1]);
                let ax = (px as f32 - g.sub_off[2]) / g.sub_off[0];
                let ay = (py as f32 - g.sub_off[3]) / g.sub_off[1];
                let (bx, by) = (ax.floor(), ay.floor());
                let (fx, fy) = (ax - bx, ay - by);
                let (cx, cy) = (bx as i32, by as i32);
                let at = |dx: i32, dy: i32| {
                    source.at((cx + dx).clamp(0, last[0]), (cy + dy).clamp(0, last[1]))
                };
                let mix = |a: f32, b: f32, t: f32| a + (b - a) * t;
                let chroma = mix(mix(at(0, 0), at(1, 0), fx), mix(at(0, 1), at(1, 1), fx), fy);
                spread += (self.alpha.at(px, py) - mean) * chroma;
            }
        }
        let own = (source.at(x, y) - self.p.sample[3]) * mean;
        (own + spread / (sx * sy) as f32) * self.p.sample[2]
    }
}

/// How pass 2 turns premultiplied colour back into straight colour.
struct AlphaOut {
    /// Integer alpha → [0, 1].
    scale: f32,
    /// What colour was premultiplied about, as the filtered components
    /// hold it.
    centre: f32,
    /// Whether the colour planes have alpha on their own (subsampled) grid.
    own_grid: bool,
}

/// Pass 2 and the colour stage: pass 1's lines filtered into output rows,
/// converted and packed.
struct Secondary<'a> {
    mid: &'a [Vec<f32>; 5],
    vertical: &'a [Option<Arc<Taps>>; 2],
    scale: f32,
    neutral: f32,
    alpha: Option<AlphaOut>,
    out_w: usize,
}

impl Secondary<'_> {
    /// Output row `j` of pass-1 buffer `c` on the grid of `group` into
    /// `row`, times `scale`.
    fn filter(&self, c: usize, group: usize, j: usize, scale: f32, row: &mut [f32]) {
        let out_w = self.out_w;
        let Some(taps) = &self.vertical[group] else {
            row.fill(self.neutral);
            return;
        };
        row.fill(0.0);
        let (start, weights) = taps.of_output(j);
        for (l, &w) in weights.iter().enumerate() {
            let line = &self.mid[c][(start + l) * out_w..][..out_w];
            for (v, &m) in row.iter_mut().zip(line) {
                *v += w * m;
            }
        }
        row.iter_mut().for_each(|v| *v *= scale);
    }

    /// Output rows `first..` into `out`, `words` 32-bit words a pixel.
    fn rows(&self, colour: &Colour, first: usize, out: &mut [u8], words: usize) {
        let out_w = self.out_w;
        let mut rows: [Vec<f32>; 5] = std::array::from_fn(|_| vec![1.0f32; out_w]);
        for (k, out_row) in out.chunks_exact_mut(out_w * 4 * words).enumerate() {
            let j = first + k;
            let [r0, r1, r2, a0, a1] = &mut rows;
            self.filter(0, 0, j, self.scale, r0);
            self.filter(1, 1, j, self.scale, r1);
            self.filter(2, 1, j, self.scale, r2);
            if let Some(alpha) = &self.alpha {
                self.filter(3, 0, j, alpha.scale, a0);
                if alpha.own_grid {
                    self.filter(4, 1, j, alpha.scale, a1);
                } else {
                    a1.copy_from_slice(a0);
                }
                let inverse = |a: f32| if a > 1e-5 { 1.0 / a } else { 0.0 };
                for i in 0..out_w {
                    let (inv, inv12) = (inverse(a0[i]), inverse(a1[i]));
                    r0[i] = r0[i] * inv + alpha.centre;
                    r1[i] = r1[i] * inv12 + alpha.centre;
                    r2[i] = r2[i] * inv12 + alpha.centre;
                }
            }
            for (i, pixel) in out_row.chunks_exact_mut(4 * words).enumerate() {
                let rgb = colour.to_output(colour.yuv_to_rgb([r0[i], r1[i], r2[i]]));
                let a = a0[i].clamp(0.0, 1.0);
                if words == 1 {
                    pixel.copy_from_slice(&[
                        unorm8(rgb[0]),
                        unorm8(rgb[1]),
                        unorm8(rgb[2]),
                        unorm8(a),
                    ]);
                } else {
                    for (k, v) in rgb.into_iter().chain([a]).enumerate() {
                        pixel[2 * k..2 * k + 2].copy_from_slice(&unorm16(v).to_le_bytes());
                    }
                }
            }
        }
    }
}

/// WGSL's `pack4x8unorm` of one component.
fn unorm8(v: f32) -> u8 {
    (0.5 + 255.0 * v.clamp(0.0, 1.0)) as u8
}

/// WGSL's `pack2x16unorm` of one component.
fn unorm16(v: f32) -> u16 {
    (0.5 + 65535.0 * v.clamp(0.0, 1.0)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_filtered_together_are_each_their_own_weighted_sums() {
        // Texel (x, y) holds x + 100·y; output 0 is texels 1..=2 averaged,
        // output 1 is texels 3..=5 weighted 1:2:1.
        let source = PerTexel(|x, y| (x + 100 * y) as f32);
        let taps = Taps {
            spans: vec![(1, 0..2), (3, 2..5)],
            weights: vec![0.5, 0.5, 0.25, 0.5, 0.25],
        };
        // Eleven lines: a whole group of LINES_TOGETHER and a partial one,
        // from source row lo + first = 2 + 3.
        let lines = LINES_TOGETHER + 3;
        let mut mid = vec![f32::NAN; lines * 2];
        filter_rows(&source, &taps, [0, 2], [7, 40], 3, &mut mid, 2);
        for (l, row) in mid.chunks_exact(2).enumerate() {
            let y = (5 + l) as f32 * 100.0;
            assert_eq!(row, [y + 1.5, y + 4.0], "line {l}");
        }
    }

    #[test]
    fn unorm_packing_rounds_half_up_and_clamps() {
        assert_eq!(unorm8(0.5), 128);
        assert_eq!(unorm8(-1.0), 0);
        assert_eq!(unorm8(2.0), 255);
        assert_eq!(unorm16(1.0), 65535);
        assert_eq!(unorm16(0.5 / 65535.0), 1);
    }
}
