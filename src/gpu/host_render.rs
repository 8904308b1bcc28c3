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
//! colour stage of `color.wgsl` and the unorm packing of `resample.wgsl`.
//! Sums run in `f32` like the shaders', in another order, so a pixel can
//! differ by one code where a value lies on a rounding boundary.
//!
//! Pictures with alpha are filtered premultiplied, as `alpha_read.wgsl`
//! does; pictures to be deinterlaced go through `deinterlace.wgsl`'s
//! filters first (`host_deinterlace.rs`). Only pictures on a device stay
//! on the GPU path.

use crate::picture::ComponentSource;
use crate::render::spec::OutputSpec;
use crate::surface::{Picture, Surface};

use super::deinterlace::usable_previous;
use super::frame_plan::FramePlan;
use super::host_deinterlace;
use super::params::{
    Params, FLAG_GAMUT, FLAG_PASSTHROUGH, FLAG_TONE_MAP, TRANSFER_HLG, TRANSFER_PQ, TRANSFER_SDR,
};
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
}

/// The taps of every output sample of one pass along one axis: where each
/// output's first texel lies (relative to the axis' origin) and its
/// weights, which sum to one.
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
struct Samples<'a> {
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

impl Samples<'_> {
    /// The sample of texel (`x`, `y`), as the integer it holds.
    fn at(&self, x: i32, y: i32) -> f32 {
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
        let desc = picture.desc.format.desc();
        let samples = |c: usize| -> Option<Samples<'_>> {
            let ComponentSource::Plane { plane, channel } = desc.components[c] else {
                return None;
            };
            let bytes_per_sample = usize::from(desc.planes[usize::from(plane)].bytes_per_sample);
            let placed = picture.desc.planes[usize::from(plane)];
            Some(Samples {
                bytes: &host.plane(usize::from(plane))[..],
                offset: placed.offset as usize + usize::from(channel) * bytes_per_sample,
                pitch: placed.pitch as usize,
                texel: p.texel_bytes[c] as usize,
                wide: bytes_per_sample == 2,
            })
        };
        let alpha = match desc.alpha {
            Some(ComponentSource::Plane { plane, channel }) if picture.desc.has_alpha() => {
                let bytes_per_sample =
                    usize::from(desc.planes[usize::from(plane)].bytes_per_sample);
                let placed = picture.desc.planes[usize::from(plane)];
                Some(Samples {
                    bytes: &host.plane(usize::from(plane))[..],
                    offset: placed.offset as usize + usize::from(channel) * bytes_per_sample,
                    pitch: placed.pitch as usize,
                    texel: p.alpha[2] as usize,
                    wide: bytes_per_sample == 2,
                })
            }
            _ => None,
        };
        let premultiplied = Premultiplied {
            alpha: alpha.unwrap_or(Samples {
                bytes: &[],
                offset: 0,
                pitch: 0,
                texel: 0,
                wide: false,
            }),
            p,
        };
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
            let taps = Taps::of(&across, plan.out_width, lo[primary_axis]);
            // Colour components, then alpha on this grid where the picture
            // has it (`mid` 3: luma's grid, 4: the colour planes').
            let mut reads: Vec<(usize, Box<dyn Line + '_>)> = Vec::new();
            let components: &[usize] = if group == 0 { &[0] } else { &[1, 2] };
            for &c in components {
                let source = samples(c).ok_or_else(missing_plane)?;
                reads.push(match alpha {
                    None => (c, Box::new(source)),
                    Some(_) if group == 0 => (
                        c,
                        Box::new(PerTexel(move |x, y| premultiplied.luma(source, x, y))),
                    ),
                    Some(_) => (
                        c,
                        Box::new(PerTexel(move |x, y| premultiplied.chroma(source, x, y))),
                    ),
                });
            }
            if let Some(a) = alpha.filter(|_| plan.primary[2 + group].is_some()) {
                reads.push(match group {
                    0 => (3, Box::new(a)),
                    _ => (
                        4,
                        Box::new(PerTexel(move |x, y| premultiplied.mean_alpha(x, y))),
                    ),
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
            *down_taps = Some(Taps::of(&down, plan.out_height, lo[1 - primary_axis]));
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
            alpha: alpha.map(|_| AlphaOut {
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
            alpha: alpha.is_some(),
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
    std::thread::scope(|scope| {
        for (k, piece) in data.chunks_mut(per * unit).enumerate() {
            let f = &f;
            scope.spawn(move || f(k * per, piece));
        }
    });
}

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
    let mut line = vec![0.0f32; (hi[0] - lo[0] + 1) as usize];
    for (l, out) in mid.chunks_exact_mut(out_w).enumerate() {
        source.row(lo[0] as usize, lo[1] as usize + first + l, &mut line);
        for (o, v) in out.iter_mut().enumerate() {
            let (start, weights) = taps.of_output(o);
            *v = dot(weights, &line[start..start + weights.len()]);
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
    vertical: &'a [Option<Taps>; 2],
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

/// A dot product in eight independent sums, which the compiler keeps in
/// vector registers.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (a8, a_rest) = a.split_at(a.len() / 8 * 8);
    let (b8, b_rest) = b.split_at(a8.len());
    for (x, y) in a8.chunks_exact(8).zip(b8.chunks_exact(8)) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f32 = a_rest.iter().zip(b_rest).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// WGSL's `pack4x8unorm` of one component.
fn unorm8(v: f32) -> u8 {
    (0.5 + 255.0 * v.clamp(0.0, 1.0)) as u8
}

/// WGSL's `pack2x16unorm` of one component.
fn unorm16(v: f32) -> u16 {
    (0.5 + 65535.0 * v.clamp(0.0, 1.0)) as u16
}

const PQ_M1: f32 = 0.159_301_76;
const PQ_M2: f32 = 78.84375;
const PQ_C1: f32 = 0.835_937_5;
const PQ_C2: f32 = 18.851_563;
const PQ_C3: f32 = 18.6875;
const HLG_A: f32 = 0.178_832_77;
const HLG_B: f32 = 0.284_668_92;
const HLG_C: f32 = 0.559_910_7;

/// The colour stage of `color.wgsl` and `resample_secondary`, function for
/// function, on the plan's uniforms.
struct Colour {
    p: Params,
    transfer: u32,
    flags: u32,
}

impl Colour {
    fn new(p: &Params, transfer: u32, flags: u32) -> Colour {
        Colour {
            p: *p,
            transfer,
            flags,
        }
    }

    fn yuv_to_rgb(&self, c: [f32; 3]) -> [f32; 3] {
        self.p
            .yuv
            .map(|row| row[0] * c[0] + row[1] * c[1] + row[2] * c[2] + row[3])
    }

    fn linearize(&self, rgb: [f32; 3]) -> [f32; 3] {
        let white = self.p.tone2[2];
        match self.transfer {
            TRANSFER_PQ => rgb.map(|v| pq_eotf(v) * 10000.0 / white),
            TRANSFER_HLG => {
                let scene = rgb.map(hlg_inverse_oetf);
                let l = self.p.luma_src;
                let ys = (l[0] * scene[0] + l[1] * scene[1] + l[2] * scene[2]).max(0.0);
                let gain = self.p.hlg[1] * ys.max(1e-6).powf(self.p.hlg[0] - 1.0);
                scene.map(|v| v * gain / white)
            }
            _ => rgb.map(bt1886_eotf),
        }
    }

    fn eetf(&self, nits: f32) -> f32 {
        let [black, peak, knee, max_lum] = self.p.tone;
        let min_lum = self.p.tone2[0];
        let e = pq_inverse_eotf(nits / 10000.0);
        let e1 = ((e - black) / (peak - black)).clamp(0.0, 1.0);
        let mut e2 = e1;
        if knee < 1.0 && e1 > knee {
            let t = (e1 - knee) / (1.0 - knee);
            let t2 = t * t;
            let t3 = t2 * t;
            e2 = (2.0 * t3 - 3.0 * t2 + 1.0) * knee
                + (t3 - 2.0 * t2 + t) * (1.0 - knee)
                + (-2.0 * t3 + 3.0 * t2) * max_lum;
        }
        let rest = (1.0 - e2).max(0.0);
        let e3 = e2 + min_lum * rest * rest * rest * rest;
        let e4 = e3 * (peak - black) + black;
        pq_eotf(e4) * 10000.0
    }

    fn tone_map(&self, lin: [f32; 3]) -> [f32; 3] {
        let target_black = self.p.tone2[1];
        let white = self.p.tone2[2];
        let m = lin[0].max(lin[1]).max(lin[2]);
        if m <= 0.0 {
            return [0.0; 3];
        }
        let mapped = (self.eetf(m * white) - target_black) / (white - target_black);
        lin.map(|v| v * (mapped.max(0.0) / m))
    }

    fn apply_gamut(&self, lin: [f32; 3]) -> [f32; 3] {
        self.p
            .gamut
            .map(|row| row[0] * lin[0] + row[1] * lin[1] + row[2] * lin[2])
    }

    fn clip_preserving_hue(&self, c: [f32; 3]) -> [f32; 3] {
        let clipped = c.map(|v| v.clamp(0.0, 1.0));
        let l = self.p.luma_out;
        let y = (l[0] * c[0] + l[1] * c[1] + l[2] * c[2]).clamp(0.0, 1.0);
        let excursion = (-c[0].min(c[1]).min(c[2])).max(c[0].max(c[1]).max(c[2]) - 1.0);
        let w = smoothstep(0.01, 0.05, excursion / y.max(1e-4));
        let mut t = 1.0f32;
        for v in c {
            if v > 1.0 {
                t = t.min((1.0 - y) / (v - y));
            } else if v < 0.0 {
                t = t.min(y / (y - v));
            }
        }
        std::array::from_fn(|k| {
            let desaturated = (y + t * (c[k] - y)).clamp(0.0, 1.0);
            clipped[k] + (desaturated - clipped[k]) * w
        })
    }

    fn to_output(&self, rgb: [f32; 3]) -> [f32; 3] {
        if self.flags & FLAG_PASSTHROUGH != 0 {
            return rgb.map(|v| v.clamp(0.0, 1.0));
        }
        let mut lin = self.linearize(rgb);
        if self.flags & FLAG_GAMUT != 0 {
            lin = self.apply_gamut(lin);
        }
        if self.flags & FLAG_TONE_MAP != 0 {
            lin = self.tone_map(lin);
        }
        lin = self.clip_preserving_hue(lin);
        if self.transfer == TRANSFER_SDR {
            return lin.map(|v| v.powf(1.0 / 2.4));
        }
        lin.map(srgb_oetf)
    }
}

/// Intervals of a [`Curve`] table.
const CURVE_STEPS: usize = 4096;

/// A smooth function on `[lo, hi]`, tabulated (in `f64`) at
/// [`CURVE_STEPS`] intervals and read with linear interpolation. A
/// tone-mapped pixel evaluates eleven powers through these curves, which
/// at libm's speed made the colour stage of a 4K picture most of its
/// cost. The curves tabulated are smooth on their range (bounded second
/// derivative there), so the interpolation stays within about 1e-6 of
/// white: a thousandth of an 8-bit code.
struct Curve {
    lo: f32,
    scale: f32,
    values: Box<[f32]>,
}

impl Curve {
    fn new(lo: f64, hi: f64, f: impl Fn(f64) -> f64) -> Curve {
        let step = (hi - lo) / CURVE_STEPS as f64;
        Curve {
            lo: lo as f32,
            scale: (1.0 / step) as f32,
            values: (0..=CURVE_STEPS)
                .map(|k| f(lo + k as f64 * step) as f32)
                .collect(),
        }
    }

    /// The function at `x`, clamped to the table's range.
    fn at(&self, x: f32) -> f32 {
        let t = ((x - self.lo) * self.scale).clamp(0.0, CURVE_STEPS as f32);
        let i = (t as usize).min(CURVE_STEPS - 1);
        let (a, b) = (self.values[i], self.values[i + 1]);
        a + (b - a) * (t - i as f32)
    }
}

/// The PQ EOTF on [0, 1], the BT.1886 curve on [0, 1], and the sRGB
/// OETF's power segment (of the square root of its input).
fn curves() -> &'static [Curve; 3] {
    static CURVES: std::sync::OnceLock<[Curve; 3]> = std::sync::OnceLock::new();
    CURVES.get_or_init(|| {
        let (m1, m2) = (f64::from(PQ_M1), f64::from(PQ_M2));
        let (c1, c2, c3) = (f64::from(PQ_C1), f64::from(PQ_C2), f64::from(PQ_C3));
        [
            Curve::new(0.0, 1.0, |e| {
                let p = e.powf(1.0 / m2);
                ((p - c1).max(0.0) / (c2 - c3 * p)).powf(1.0 / m1)
            }),
            Curve::new(0.0, 1.0, |v| v.powf(2.4)),
            // Over √l, where the power segment's steep start is smooth.
            Curve::new(SRGB_LINEAR_END.sqrt(), 1.0, |s| {
                1.055 * (s * s).powf(1.0 / 2.4) - 0.055
            }),
        ]
    })
}

/// Where the sRGB OETF's linear segment ends.
const SRGB_LINEAR_END: f64 = 0.003_130_8;

fn pq_eotf(e: f32) -> f32 {
    curves()[0].at(e.clamp(0.0, 1.0))
}

/// BT.1886 with a zero black level: tabulated over the signal range, the
/// rare excursion past white (filter overshoot) evaluated.
fn bt1886_eotf(v: f32) -> f32 {
    let v = v.max(0.0);
    if v <= 1.0 {
        curves()[1].at(v)
    } else {
        v.powf(2.4)
    }
}

fn pq_inverse_eotf(y: f32) -> f32 {
    let p = y.clamp(0.0, 1.0).powf(PQ_M1);
    ((PQ_C1 + PQ_C2 * p) / (1.0 + PQ_C3 * p)).powf(PQ_M2)
}

fn hlg_inverse_oetf(e: f32) -> f32 {
    let x = e.clamp(0.0, 1.0);
    if x <= 0.5 {
        x * x / 3.0
    } else {
        (((x - HLG_C) / HLG_A).exp() + HLG_B) / 12.0
    }
}

fn srgb_oetf(l: f32) -> f32 {
    if l <= SRGB_LINEAR_END as f32 {
        12.92 * l
    } else if l <= 1.0 {
        curves()[2].at(l.sqrt())
    } else {
        1.055 * l.powf(1.0 / 2.4) - 0.055
    }
}

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dot_product_sums_every_pair() {
        let a: Vec<f32> = (0..19).map(|k| k as f32).collect();
        let b = vec![2.0f32; 19];
        assert_eq!(dot(&a, &b), 2.0 * (0..19).sum::<i32>() as f32);
        assert_eq!(dot(&[], &[]), 0.0);
    }

    #[test]
    fn unorm_packing_rounds_half_up_and_clamps() {
        assert_eq!(unorm8(0.5), 128);
        assert_eq!(unorm8(-1.0), 0);
        assert_eq!(unorm8(2.0), 255);
        assert_eq!(unorm16(1.0), 65535);
        assert_eq!(unorm16(0.5 / 65535.0), 1);
    }

    #[test]
    fn the_tabulated_curves_follow_the_formulas() {
        let pq = |e: f32| {
            let p = e.powf(1.0 / PQ_M2);
            ((p - PQ_C1).max(0.0) / (PQ_C2 - PQ_C3 * p)).powf(1.0 / PQ_M1)
        };
        for k in 0..=1000 {
            let x = k as f32 / 1000.0;
            assert!(
                (pq_eotf(x) - pq(x)).abs() <= 2e-6 + pq(x) * 1e-4,
                "PQ at {x}"
            );
            assert!(
                (bt1886_eotf(x) - x.powf(2.4)).abs() <= 1e-6,
                "BT.1886 at {x}"
            );
            let l = x.max(0.0031308);
            let srgb = 1.055 * l.powf(1.0 / 2.4) - 0.055;
            assert!((srgb_oetf(l) - srgb).abs() <= 1e-6, "sRGB at {l}");
        }
        assert_eq!(bt1886_eotf(-0.5), 0.0);
        assert!((bt1886_eotf(1.1) - 1.1f32.powf(2.4)).abs() < 1e-6);
    }

    #[test]
    fn pq_curves_invert_each_other() {
        for nits in [0.01f32, 1.0, 100.0, 203.0, 1000.0, 10000.0] {
            let back = pq_eotf(pq_inverse_eotf(nits / 10000.0)) * 10000.0;
            assert!((back - nits).abs() <= nits * 1e-3, "{nits} -> {back}");
        }
    }

    #[test]
    fn the_hue_preserving_clip_keeps_in_gamut_colours() {
        let p = Params {
            luma_out: [0.2126, 0.7152, 0.0722, 0.0],
            ..bytemuck::Zeroable::zeroed()
        };
        let colour = Colour::new(&p, TRANSFER_SDR, 0);
        assert_eq!(colour.clip_preserving_hue([0.2, 0.5, 0.9]), [0.2, 0.5, 0.9]);
        let out = colour.clip_preserving_hue([1.5, 0.2, 0.1]);
        assert!(out.iter().all(|v| (0.0..=1.0).contains(v)), "{out:?}");
        assert!(
            out[0] > out[1] && out[1] > out[2],
            "hue order kept: {out:?}"
        );
    }
}
