//! Host pre-decimation for CPU adapters: before a steep downscale, every
//! component of a host picture is averaged over `n`×`n` boxes of luma
//! samples, and the unchanged pipeline filters the smaller picture with
//! the spec mapped onto it.
//!
//! On a CPU adapter (lavapipe) the Lanczos pass over the full-size frame is
//! most of a thumbnail's cost: its work grows with the source lines times
//! the output columns times the taps, and the taps with the downscale
//! factor (1080p → 160: 1,080 lines × 160 columns × 72 taps for luma
//! alone). An area average costs one multiply-add per source sample and
//! leaves the pipeline a picture still at least [`MIN_RATIO`] times the
//! output along each axis, which it filters with the same Lanczos-3 and
//! colour stages as before. The box's blur is a small part of an output
//! pixel (at most `1 / MIN_RATIO` of it), so the result stays within the
//! parity `tests/decimate.rs` holds it to: 50 dB or better against the
//! direct path on every fixture, tone mapping, rotation and crops included.
//!
//! The decimated picture is what the direct path sees, averaged:
//!
//! - Boxes lie on the luma grid from the first usable luma texel, so the
//!   usable span must be a whole number of boxes.
//! - Chroma is averaged over the same boxes (the area of each chroma texel
//!   inside the box, in quarters of a texel, which every siting FFmpeg
//!   names gives), so the decimated picture is 4:4:4 with chroma co-sited
//!   on its luma: a subsampled plane averaged on its own grid would leave
//!   the pipeline half the texels per output pixel, and its blur would show.
//! - Every plane is read as the direct path reads it, each texel index
//!   clamped to the plane's usable texels (the edge repeats), and one box
//!   beyond the usable span on every side holds exactly that repeated
//!   edge. The decimated picture's usable rectangle takes those border
//!   boxes in, so the taps the direct path folds onto an edge texel read
//!   the same edge values here: only the boxes' blur differs.
//!
//! A picture with alpha (which the pipeline filters premultiplied), a
//! layout without a 4:4:4 twin of its depth and alignment (P010, packed
//! RGBA), or a span no factor divides keeps the direct path.

use crate::picture::{ComponentSource, DecodedFormat, PictureDesc, PlaneDesc};
use crate::render::spec::{Affine2, OutputSpec, Rect};
use crate::surface::{HostPlanes, Picture, PlaneBytes, Surface};

use super::frame_plan::texel_range;
use super::GpuError;

/// The least number of decimated texels per output pixel along each axis:
/// the box then spans at most a third of an output pixel, whose blur at
/// the output's Nyquist frequency is under 5 % (`sinc(1/6)`), where
/// Lanczos-3 passes little anyway. Luma alone, box then Lanczos against
/// Lanczos on the full frame (a float model of both): testsrc2 1080p →
/// 160, 61.0 dB at 4 texels per output pixel, 60.8 at 3, 52.6 at 2;
/// camera footage 1080×720 → 120, 58.9 at 4.5, 58.6 at 3.
pub const MIN_RATIO: f64 = 3.0;

/// The largest box side tried: beyond it the pipeline's own pass costs
/// little next to reading the frame.
const MOST_BOX: u32 = 64;

/// The fewest texels of a subsampled plane one box may span. A box's area
/// weights read a subsampled plane as constant over each texel, which
/// blurs it by up to a texel on top of the box: over a single texel that
/// doubles the blur, and 320×240 frame-code fixtures at 32 px fell to
/// 47 dB against the direct path; over two or more they stay above 50.
const LEAST_SUBSAMPLED_BOX: f64 = 2.0;

/// The shorter output side below which the direct path runs. Where an
/// output pixel spans whole features of the picture (320×240 frame-code
/// fixtures at 16 px, an iPhone clip at 34×60), where within a box an edge
/// lies is most of what the box loses: 46-48 dB against the direct path,
/// where 90 px and more stay above 55.
const MIN_OUTPUT_SIDE: u32 = 64;

/// Weights count quarters of a texel.
const QUARTERS: f64 = 4.0;

/// The texels one box covers along one axis (from the first usable one),
/// each with the quarters of it inside the box.
type BoxWeights = Vec<(usize, u32)>;

/// How one picture is decimated: the box side, where the box grid starts,
/// and the decimated picture's size and layout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Decimation {
    n: u32,
    /// Luma coordinate of the first box's left (top) edge: one box before
    /// the first usable luma texel.
    origin: [i64; 2],
    /// Boxes along x and y, the two border boxes included.
    size: [u32; 2],
    /// The 4:4:4 layout of the same depth the boxes are stored in.
    format: DecodedFormat,
}

/// `picture` box-averaged on the host for `spec`, with `spec` moved onto
/// the smaller picture, where [`Decimation::plan`] takes the pair; `None`
/// where the picture renders as it is: one not on the host, or one to be
/// deinterlaced (a box would mix its two fields).
pub(crate) fn host_decimated(
    picture: &Picture,
    spec: &OutputSpec,
) -> Result<Option<(Picture, OutputSpec)>, GpuError> {
    let Surface::Host(host) = &picture.surface else {
        return Ok(None);
    };
    if spec.deinterlace.is_some() {
        return Ok(None);
    }
    let Some(decimation) = Decimation::plan(&picture.desc, spec) else {
        return Ok(None);
    };
    let small = decimation.picture(&picture.desc, host, spec)?;
    Ok(Some((small, decimation.spec(spec))))
}

/// The 4:4:4 layout of `format`'s depth and sample alignment, with no
/// alpha; `None` where there is none (P010's high-bit samples, packed
/// RGBA).
fn full_chroma(format: DecodedFormat) -> Option<DecodedFormat> {
    use DecodedFormat::*;
    Some(match format {
        Yuv420p | Yuv422p | Yuv444p | Nv12 | Yuva420p | Yuva422p | Yuva444p => Yuv444p,
        Yuv420p10 | Yuv422p10 | Yuv444p10 | Yuva444p10 => Yuv444p10,
        Yuv420p12 | Yuv422p12 | Yuv444p12 | Yuva444p12 => Yuv444p12,
        Yuv420p16 | Yuv422p16 | Yuv444p16 | P016 | Yuva444p16 => Yuv444p16,
        Gray8 | Gray10 | Gray12 | Gray16 | Gbrp | Gbrp10 | Gbrp12 | Gbrp16 => format,
        Gbrap16 => Gbrp16,
        P010 | Rgba8 | Bgra8 => return None,
    })
}

/// Where plane texels lie along one axis, as the direct path places them.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PlaneAxis {
    /// Luma samples per texel (1 or 2).
    sub: f64,
    /// Siting: the first texel's centre, luma samples after the first luma
    /// sample's.
    offset: f64,
    /// First and last usable texel.
    lo: i64,
    hi: i64,
}

impl PlaneAxis {
    fn of(
        picture: &PictureDesc,
        spec: &OutputSpec,
        plane: usize,
        axis: usize,
    ) -> Option<PlaneAxis> {
        let format = picture.format.desc().planes.get(plane).copied()?;
        let (w, h) = picture
            .format
            .plane_size(plane, picture.width, picture.height)?;
        let shift = if axis == 0 {
            format.x_shift
        } else {
            format.y_shift
        };
        let sub = f64::from(1u32 << shift);
        // Siting only means something along a subsampled axis.
        let offset = if shift > 0 {
            spec.color.chroma_offset[axis]
        } else {
            0.0
        };
        let rect = &spec.source_rect;
        let (lo, hi) = if axis == 0 {
            texel_range(rect.x0, rect.x1, sub, offset, w)
        } else {
            texel_range(rect.y0, rect.y1, sub, offset, h)
        };
        Some(PlaneAxis {
            sub,
            offset,
            lo: i64::from(lo),
            hi: i64::from(hi),
        })
    }

    /// Plane coordinate (texel `k` spans `[k, k + 1]`) of luma coordinate
    /// `u`.
    fn plane_coordinate(&self, u: f64) -> f64 {
        (u - 0.5 - self.offset) / self.sub + 0.5
    }

    /// The texels box `j` (luma `[origin + j·n, origin + (j + 1)·n]`)
    /// covers, each clamped into the usable texels, with the quarters of
    /// it inside the box; `None` when the box's ends are not on quarter
    /// texels.
    fn box_weights(&self, origin: i64, n: u32, j: u32) -> Option<BoxWeights> {
        let start = origin + i64::from(j) * i64::from(n);
        let a = self.plane_coordinate(start as f64) * QUARTERS;
        let b = self.plane_coordinate((start + i64::from(n)) as f64) * QUARTERS;
        let exact = |v: f64| (v - v.round()).abs() < 1e-6;
        if !exact(a) || !exact(b) {
            return None;
        }
        let (a, b) = (a.round() as i64, b.round() as i64);
        let quarters = QUARTERS as i64;
        let mut weights: BoxWeights = Vec::new();
        let mut k = a.div_euclid(quarters);
        while k * quarters < b {
            let inside = (b.min((k + 1) * quarters) - a.max(k * quarters)) as u32;
            let texel = (k.clamp(self.lo, self.hi) - self.lo) as usize;
            match weights.last_mut() {
                Some(last) if last.0 == texel => last.1 += inside,
                _ => weights.push((texel, inside)),
            }
            k += 1;
        }
        Some(weights)
    }

    /// Every box's weights along this axis, `None` when a box's ends are
    /// not on quarter texels.
    fn weights(&self, origin: i64, n: u32, boxes: u32) -> Option<Vec<BoxWeights>> {
        (0..boxes).map(|j| self.box_weights(origin, n, j)).collect()
    }
}

impl Decimation {
    /// How `picture` rendered as `spec` is decimated, or `None` where the
    /// direct path applies: a downscale under `2 · MIN_RATIO`, an output
    /// under [`MIN_OUTPUT_SIDE`], alpha, a layout without a 4:4:4 twin, or
    /// no box side that divides the usable luma span and puts every
    /// plane's box ends on quarter texels.
    pub(super) fn plan(picture: &PictureDesc, spec: &OutputSpec) -> Option<Decimation> {
        if picture.has_alpha() || spec.width.min(spec.height) < MIN_OUTPUT_SIDE {
            return None;
        }
        let format = full_chroma(picture.format)?;
        let least = spec.scale[0].min(spec.scale[1]);
        if !least.is_finite() || least < 2.0 * MIN_RATIO {
            return None;
        }
        let most = (least / MIN_RATIO).floor().min(f64::from(MOST_BOX)) as u32;
        let luma = [
            PlaneAxis::of(picture, spec, 0, 0)?,
            PlaneAxis::of(picture, spec, 0, 1)?,
        ];
        let span = luma.map(|a| a.hi - a.lo + 1);
        (2..=most).rev().find_map(|n| {
            let wide = i64::from(n);
            if span.iter().any(|s| s % wide != 0) {
                return None;
            }
            let decimation = Decimation {
                n,
                origin: luma.map(|a| a.lo - wide),
                size: span.map(|s| (s / wide) as u32 + 2),
                format,
            };
            decimation.fits(picture, spec).then_some(decimation)
        })
    }

    /// Whether every plane's box ends fall on quarter texels, and every
    /// box spans at least [`LEAST_SUBSAMPLED_BOX`] texels of a subsampled
    /// plane.
    fn fits(&self, picture: &PictureDesc, spec: &OutputSpec) -> bool {
        (0..picture.format.desc().planes.len()).all(|plane| {
            (0..2).all(|axis| {
                PlaneAxis::of(picture, spec, plane, axis).is_some_and(|a| {
                    (a.sub == 1.0 || f64::from(self.n) / a.sub >= LEAST_SUBSAMPLED_BOX) &&
                    // The ends step by n / sub: the first two boxes settle
                    // every one.
                    (0..2).all(|j| a.box_weights(self.origin[axis], self.n, j).is_some())
                })
            })
        })
    }

    /// `spec` on the decimated picture: luma coordinates moved to the box
    /// grid's origin and divided by `n`, the usable rectangle the whole
    /// decimated picture (its border boxes hold the repeated edges), and
    /// chroma co-sited.
    pub(super) fn spec(&self, spec: &OutputSpec) -> OutputSpec {
        let k = f64::from(self.n);
        let origin = self.origin.map(|o| o as f64);
        let mut small = spec.clone();
        let Affine2 { m, t } = spec.out_to_src;
        small.out_to_src = Affine2 {
            m: [[m[0][0] / k, m[0][1] / k], [m[1][0] / k, m[1][1] / k]],
            t: [(t[0] - origin[0]) / k, (t[1] - origin[1]) / k],
        };
        small.source_rect = Rect {
            x0: 0.0,
            y0: 0.0,
            x1: f64::from(self.size[0]),
            y1: f64::from(self.size[1]),
        };
        small.scale = [spec.scale[0] / k, spec.scale[1] / k];
        small.color.chroma_offset = [0.0, 0.0];
        small
    }

    /// The decimated picture of `picture` (host planes) rendered as
    /// `spec`: each component's box means, rounded to the nearest code of
    /// its container, rows padded to whole words.
    pub(super) fn picture(
        &self,
        picture: &PictureDesc,
        host: &HostPlanes,
        spec: &OutputSpec,
    ) -> Result<Picture, GpuError> {
        let internal = |what: String| GpuError::Internal(format!("decimating: {what}"));
        let source = picture.format.desc();
        let target = self.format.desc();
        let [width, height] = self.size;
        let mut desc = *picture;
        desc.width = width;
        desc.height = height;
        desc.format = self.format;
        desc.alpha = false;
        let mut planes: Vec<PlaneBytes> = Vec::with_capacity(target.planes.len());
        let mut pitches = Vec::with_capacity(target.planes.len());
        for (component, (from, to)) in source.components.iter().zip(target.components).enumerate() {
            let (
                ComponentSource::Plane { plane, channel },
                ComponentSource::Plane {
                    plane: out_plane, ..
                },
            ) = (*from, to)
            else {
                continue;
            };
            let (plane, channel) = (usize::from(plane), usize::from(channel));
            if usize::from(out_plane) != planes.len() {
                return Err(internal(format!(
                    "component {component} goes to plane {out_plane}"
                )));
            }
            let axes = [
                PlaneAxis::of(picture, spec, plane, 0),
                PlaneAxis::of(picture, spec, plane, 1),
            ];
            let [Some(x), Some(y)] = axes else {
                return Err(internal(format!("no plane {plane}")));
            };
            let (Some(across), Some(down)) = (
                x.weights(self.origin[0], self.n, width),
                y.weights(self.origin[1], self.n, height),
            ) else {
                return Err(internal("box ends off quarter texels".into()));
            };
            let format = source.planes[plane];
            let layout = picture.planes[plane];
            let (bytes, pitch) = average(
                host.plane(plane),
                layout,
                usize::from(format.bytes_per_sample),
                usize::from(format.samples_per_texel),
                channel,
                (x, y),
                (&across, &down),
            )
            .ok_or_else(|| internal(format!("plane {plane} is shorter than its rows")))?;
            pitches.push(pitch);
            planes.push(PlaneBytes::from(bytes));
        }
        for (index, pitch) in pitches.into_iter().enumerate() {
            desc.planes[index] = PlaneDesc {
                offset: 0,
                pitch: pitch as u64,
            };
        }
        Picture::host(desc, planes).map_err(|e| internal(e.to_string()))
    }
}

/// One component's box means: `across[j]` and `down[i]` list the texels
/// (from the first usable one) and quarter weights of box column `j` and
/// row `i`. Returns the plane and its pitch; `None` when a row lies past
/// `bytes`.
fn average(
    bytes: &[u8],
    layout: PlaneDesc,
    bytes_per_sample: usize,
    samples_per_texel: usize,
    channel: usize,
    (x, y): (PlaneAxis, PlaneAxis),
    (across, down): (&[BoxWeights], &[BoxWeights]),
) -> Option<(Vec<u8>, usize)> {
    let texels = (x.hi - x.lo + 1) as usize;
    let texel_bytes = bytes_per_sample * samples_per_texel;
    let row_bytes = across.len() * bytes_per_sample;
    let pitch = row_bytes.div_ceil(4) * 4;
    let mut out = vec![0u8; pitch * down.len()];
    let total = |weights: &[(usize, u32)]| weights.iter().map(|w| u64::from(w.1)).sum::<u64>();
    let divisor = total(&across[0]) * total(&down[0]);
    let columns = Columns::new(across, divisor);
    // A box's vertical weights add up to 4 quarters per texel it spans, at
    // most 256 (MOST_BOX): 8-bit samples then sum in 16 bits, which SSE2
    // multiplies eight at a time (it has no 32-bit multiply).
    let narrow = bytes_per_sample == 1 && total(&down[0]) * 255 <= u64::from(u16::MAX);
    let mut wide = vec![0u32; if narrow { 0 } else { texels }];
    let mut short = vec![0u16; if narrow { texels } else { 0 }];
    for (row, weights) in down.iter().enumerate() {
        wide.iter_mut().for_each(|s| *s = 0);
        short.iter_mut().for_each(|s| *s = 0);
        for &(line, weight) in weights {
            let start = layout.offset as usize
                + (y.lo as usize + line) * layout.pitch as usize
                + x.lo as usize * texel_bytes
                + channel * bytes_per_sample;
            let samples =
                bytes.get(start..start + (texels - 1) * texel_bytes + bytes_per_sample)?;
            // Planar rows as plain slices, which the compiler vectorises.
            match (narrow, bytes_per_sample, texel_bytes == bytes_per_sample) {
                (true, _, true) => {
                    let weight = weight as u16;
                    short
                        .iter_mut()
                        .zip(samples)
                        .for_each(|(s, v)| *s += weight * u16::from(*v))
                }
                (true, _, false) => {
                    let weight = weight as u16;
                    short
                        .iter_mut()
                        .zip(samples.iter().step_by(texel_bytes))
                        .for_each(|(s, v)| *s += weight * u16::from(*v))
                }
                (false, 1, true) => wide
                    .iter_mut()
                    .zip(samples)
                    .for_each(|(s, v)| *s += weight * u32::from(*v)),
                (false, 1, false) => wide
                    .iter_mut()
                    .zip(samples.iter().step_by(texel_bytes))
                    .for_each(|(s, v)| *s += weight * u32::from(*v)),
                (false, _, true) => wide
                    .iter_mut()
                    .zip(samples.chunks_exact(2))
                    .for_each(|(s, v)| *s += weight * u32::from(u16::from_le_bytes([v[0], v[1]]))),
                (false, _, false) => wide
                    .iter_mut()
                    .zip(samples.chunks(texel_bytes))
                    .for_each(|(s, v)| *s += weight * u32::from(u16::from_le_bytes([v[0], v[1]]))),
            }
        }
        let dst = &mut out[row * pitch..row * pitch + row_bytes];
        if narrow {
            columns.mean_into(&short, dst, |d, m| d[0] = m as u8);
        } else if bytes_per_sample == 1 {
            columns.mean_into(&wide, dst, |d, m| d[0] = m as u8);
        } else {
            columns.mean_into(&wide, dst, |d, m| {
                d.copy_from_slice(&(m as u16).to_le_bytes())
            });
        }
    }
    Some((out, pitch))
}

/// The box columns of one plane, flattened: column `j`'s texels and
/// quarter weights are `texels[ends[j - 1]..ends[j]]`, and the divisor
/// that turns a box's weighted sum into its mean.
struct Columns {
    texels: Vec<(usize, u64)>,
    ends: Vec<usize>,
    divisor: u64,
    /// `x / divisor` rounded is `((x + divisor / 2) · reciprocal) >> 64`,
    /// exact for every `x` below 2^64 / divisor.
    reciprocal: u128,
}

impl Columns {
    fn new(across: &[BoxWeights], divisor: u64) -> Columns {
        let mut texels = Vec::new();
        let mut ends = Vec::with_capacity(across.len());
        for weights in across {
            texels.extend(weights.iter().map(|&(t, w)| (t, u64::from(w))));
            ends.push(texels.len());
        }
        Columns {
            texels,
            ends,
            divisor,
            reciprocal: u128::from(u64::MAX / divisor + 1),
        }
    }

    /// Each column's mean of the rows' weighted sums `sums`, written by
    /// `put` into its sample of `dst`.
    fn mean_into<T: Copy + Into<u64>>(
        &self,
        sums: &[T],
        dst: &mut [u8],
        put: impl Fn(&mut [u8], u64),
    ) {
        let size = dst.len() / self.ends.len().max(1);
        let mut from = 0;
        for (sample, &end) in dst.chunks_exact_mut(size).zip(&self.ends) {
            let sum: u64 = self.texels[from..end]
                .iter()
                .map(|&(texel, weight)| weight * sums[texel].into())
                .sum();
            from = end;
            put(
                sample,
                ((u128::from(sum + self.divisor / 2) * self.reciprocal) >> 64) as u64,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::color::{ColorInfo, ColorPrimaries, HdrInfo};
    use crate::render::spec::{ColorSpec, OutputEncoding, TransferFunction};
    use crate::surface::Surface;

    const IDENTITY3: [[f64; 3]; 3] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

    /// `rect` scaled to `w`×`h`, left-sited 4:2:0 chroma.
    fn downscale(w: u32, h: u32, rect: Rect) -> OutputSpec {
        let (a, b) = (
            (rect.x1 - rect.x0) / f64::from(w),
            (rect.y1 - rect.y0) / f64::from(h),
        );
        OutputSpec {
            width: w,
            height: h,
            out_to_src: Affine2 {
                m: [[a, 0.0], [0.0, b]],
                t: [rect.x0, rect.y0],
            },
            source_rect: rect,
            scale: [a, b],
            color: ColorSpec {
                bit_depth: 8,
                sample_scale: 1.0,
                yuv_to_rgb: IDENTITY3,
                yuv_offset: [0.0; 3],
                chroma_offset: [0.0, 0.5],
                transfer: TransferFunction::Sdr,
                source_primaries: ColorPrimaries::Bt709,
                gamut: IDENTITY3,
                tone_map: None,
                output: OutputEncoding::Srgb8,
            },
            deinterlace: None,
        }
    }

    fn full(w: u32, h: u32) -> Rect {
        Rect {
            x0: 0.0,
            y0: 0.0,
            x1: f64::from(w),
            y1: f64::from(h),
        }
    }

    fn desc(w: u32, h: u32, format: DecodedFormat) -> PictureDesc {
        PictureDesc::packed(w, h, format, ColorInfo::UNSPECIFIED, HdrInfo::SDR).unwrap()
    }

    fn box_side(picture: &PictureDesc, spec: &OutputSpec) -> Option<u32> {
        Decimation::plan(picture, spec).map(|d| d.n)
    }

    #[test]
    fn steep_downscales_take_the_largest_box_that_divides_the_span() {
        let hd = desc(1920, 1080, DecodedFormat::Yuv420p);
        // 12x: boxes of 4 leave 3 texels per output pixel.
        assert_eq!(
            box_side(&hd, &downscale(160, 90, full(1920, 1080))),
            Some(4)
        );
        // 6x: boxes of 2 would span a single 4:2:0 chroma texel, and boxes
        // of 4 leave under 3 texels per output pixel: the direct path.
        assert_eq!(box_side(&hd, &downscale(320, 180, full(1920, 1080))), None);
        // 4x is under twice the least ratio: the direct path.
        assert_eq!(box_side(&hd, &downscale(480, 270, full(1920, 1080))), None);
        // 4K 10-bit to 160: 24x, boxes of 8.
        let uhd = desc(3840, 2160, DecodedFormat::Yuv420p10);
        assert_eq!(
            box_side(&uhd, &downscale(160, 90, full(3840, 2160))),
            Some(8)
        );
        // 21.8x would take boxes of 7, which 3840 columns are not whole
        // boxes of.
        assert_eq!(
            box_side(&uhd, &downscale(176, 99, full(3840, 2160))),
            Some(6)
        );
        // Under 64 px on a side: the direct path.
        assert_eq!(box_side(&uhd, &downscale(96, 54, full(3840, 2160))), None);
        // A crop's usable span counts, wherever it starts; a span of 1901
        // columns (a prime) takes no box.
        let crop = Rect {
            x0: 12.0,
            y0: 6.0,
            x1: 1908.0,
            y1: 1074.0,
        };
        assert_eq!(box_side(&hd, &downscale(158, 89, crop)), Some(4));
        let prime = Rect { x0: 7.0, ..crop };
        assert_eq!(box_side(&hd, &downscale(158, 89, prime)), None);
        // Alpha is filtered premultiplied: the direct path; so is P010,
        // which has no 4:4:4 twin.
        let mut alpha = desc(1920, 1080, DecodedFormat::Yuva420p);
        alpha.alpha = true;
        assert_eq!(
            box_side(&alpha, &downscale(160, 90, full(1920, 1080))),
            None
        );
        let p010 = desc(1920, 1080, DecodedFormat::P010);
        assert_eq!(box_side(&p010, &downscale(160, 90, full(1920, 1080))), None);
    }

    #[test]
    fn the_spec_moves_to_the_box_grid_with_a_border_box() {
        let hd = desc(1920, 1080, DecodedFormat::Yuv420p);
        let spec = downscale(160, 90, full(1920, 1080));
        let plan = Decimation::plan(&hd, &spec).unwrap();
        assert_eq!(plan.size, [482, 272]);
        assert_eq!(plan.format, DecodedFormat::Yuv444p);
        let small = plan.spec(&spec);
        assert_eq!(small.scale, [3.0, 3.0]);
        assert_eq!(small.source_rect, full(482, 272));
        // Output pixel 0's centre, luma 6, is the middle of box 2 (box 0
        // is the border, box 1 luma 0 to 4).
        assert_eq!(small.out_to_src.apply([0.5, 0.5]), [2.5, 2.5]);
        assert_eq!(small.color.chroma_offset, [0.0, 0.0]);
    }

    #[test]
    fn chroma_boxes_take_the_quarters_of_each_texel_inside_them() {
        let hd = desc(1920, 1080, DecodedFormat::Yuv420p);
        let spec = downscale(160, 90, full(1920, 1080));
        let plan = Decimation::plan(&hd, &spec).unwrap();
        let x = PlaneAxis::of(&hd, &spec, 1, 0).unwrap();
        let y = PlaneAxis::of(&hd, &spec, 1, 1).unwrap();
        // Left siting: chroma texel k's centre is luma 2k + 0.5, so luma
        // box [0, 4] covers chroma [0.25, 2.25].
        assert_eq!(
            x.box_weights(plan.origin[0], 4, 1).unwrap(),
            [(0, 3), (1, 4), (2, 1)]
        );
        // Between the rows: luma rows [0, 4] are chroma rows [0, 2].
        assert_eq!(
            y.box_weights(plan.origin[1], 4, 1).unwrap(),
            [(0, 4), (1, 4)]
        );
        // The border boxes repeat the edge texels.
        assert_eq!(x.box_weights(plan.origin[0], 4, 0).unwrap(), [(0, 8)]);
        assert_eq!(x.box_weights(plan.origin[0], 4, 481).unwrap(), [(959, 8)]);
        // The last real box reaches a quarter past the last texel: its
        // quarter repeats the edge.
        assert_eq!(
            x.box_weights(plan.origin[0], 4, 480).unwrap(),
            [(958, 3), (959, 5)]
        );
    }

    /// A host picture of `format` from `bytes`, and its planes.
    fn host(w: u32, h: u32, format: DecodedFormat, bytes: Vec<u8>) -> Picture {
        Picture::from_packed(w, h, format, bytes).unwrap()
    }

    fn planes(picture: &Picture) -> &HostPlanes {
        match &picture.surface {
            Surface::Host(planes) => planes,
            _ => unreachable!(),
        }
    }

    /// Boxes of 2 over the whole `w`×`h` picture, stored as `format`.
    fn boxes_of_two(w: u32, h: u32, format: DecodedFormat) -> Decimation {
        Decimation {
            n: 2,
            origin: [-2, -2],
            size: [w / 2 + 2, h / 2 + 2],
            format,
        }
    }

    #[test]
    fn boxes_average_every_component_onto_the_luma_grid() {
        // 4:2:0 8-bit 12x8 in boxes of 2 (which the plan leaves to the
        // direct path; the averaging is the same at every size), with a
        // border box on every side.
        let (w, h) = (12u32, 8u32);
        let luma: Vec<u8> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (10 * x + y) as u8))
            .collect();
        let cb: Vec<u8> = (0..(w / 2) * (h / 2)).map(|i| 100 + i as u8).collect();
        let cr = vec![7u8; cb.len()];
        let picture = host(w, h, DecodedFormat::Yuv420p, [luma, cb, cr].concat());
        let spec = downscale(2, 1, full(w, h));
        let plan = boxes_of_two(w, h, DecodedFormat::Yuv444p);
        let small = plan
            .picture(&picture.desc, planes(&picture), &spec)
            .unwrap();
        assert_eq!(small.desc.format, DecodedFormat::Yuv444p);
        assert_eq!((small.desc.width, small.desc.height), (8, 6));
        let out = planes(&small);
        let pitch = small.desc.planes[0].pitch as usize;
        assert_eq!(pitch, 8);
        let y: &[u8] = out.plane(0);
        // Box (1, 1) holds luma (0..2, 0..2): 0, 10, 1, 11 → 5.5 → 6; the
        // border box (0, 0) repeats luma (0, 0); box (2, 1) holds 20, 30,
        // 21, 31 → 25.5 → 26.
        assert_eq!(y[pitch + 1], 6);
        assert_eq!(y[0], 0);
        assert_eq!(y[pitch + 2], 26);
        // The last border column repeats column 11: rows 0, 1 → 110.5 → 111.
        assert_eq!(y[pitch + 7], 111);
        // Chroma: box (1, 1) covers chroma x [0.25, 1.25] (3/4 of texel
        // 0, 1/4 of texel 1) and row 0 (between luma rows 0 and 1):
        // (3·100 + 1·101) / 4 = 100.25 → 100; box (2, 1): texels 1, 2 →
        // (3·101 + 102) / 4 = 101.25 → 101.
        let u: &[u8] = out.plane(1);
        assert_eq!(u[pitch + 1], 100);
        assert_eq!(u[pitch + 2], 101);
        let v: &[u8] = out.plane(2);
        assert!(v[..pitch * 6].iter().all(|&s| s == 7));
    }

    #[test]
    fn sixteen_bit_samples_average_in_their_container() {
        let (w, h) = (12u32, 8u32);
        let mut luma = vec![0u16; (w * h) as usize];
        luma[0] = 1023;
        luma[1] = 1022;
        luma[12] = 1021;
        luma[13] = 1020;
        let luma: Vec<u8> = luma.iter().flat_map(|v| v.to_le_bytes()).collect();
        let chroma = vec![0u8; 2 * 2 * (6 * 4)];
        let picture = host(w, h, DecodedFormat::Yuv420p10, [luma, chroma].concat());
        let mut spec = downscale(2, 1, full(w, h));
        spec.color.bit_depth = 10;
        let plan = boxes_of_two(w, h, DecodedFormat::Yuv444p10);
        let small = plan
            .picture(&picture.desc, planes(&picture), &spec)
            .unwrap();
        assert_eq!(small.desc.format, DecodedFormat::Yuv444p10);
        let y: &[u8] = planes(&small).plane(0);
        let pitch = small.desc.planes[0].pitch as usize;
        // (1023 + 1022 + 1021 + 1020) / 4 = 1021.5 → 1022 = 0x3fe.
        assert_eq!(&y[pitch + 2..pitch + 4], &[0xfe, 0x03]);
        // The border box repeats texel (0, 0).
        assert_eq!(&y[0..2], &[0xff, 0x03]);
    }
}
