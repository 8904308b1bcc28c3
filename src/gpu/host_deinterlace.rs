//! The deinterlace stage of `deinterlace.wgsl` on the CPU, for the CPU
//! renderer: the same filters, sample for sample, writing a progressive
//! host picture that the renderer then reads like any other.
//!
//! The kept field's lines are copied; each missing line is made from the
//! kept field's lines only (edge-directed, yadif's spatial check, else
//! bwdif's four-tap vertical filter), or, where the picture shown before
//! is at hand, motion-adaptively: the mean of the other field and the
//! previous picture where nothing moved, the spatial prediction clamped
//! into what the captures allow elsewhere. `deinterlace.wgsl` explains
//! each rule; the functions here keep its names and its arithmetic, so
//! `tests/host_render.rs` can hold the two to each other.

use crate::image::Deinterlacer;
use crate::picture::{Field, PictureDesc, PlaneDesc, Scan};
use crate::surface::{HostPlanes, Picture, PlaneBytes};

use super::host_render::Samples;
use super::GpuError;

/// bwdif's spatial filter coefficients (of 8192) for the field's lines at
/// ±1 and ±3.
const NEAR: f32 = 5077.0 / 8192.0;
const FAR: f32 = 981.0 / 8192.0;

/// `picture` (its planes in `host`) made progressive from `field`, with
/// the previous picture's planes where the motion-adaptive filter can use
/// them (see `deinterlace::usable_previous`): the picture and the filter
/// that made it.
pub(super) fn deinterlaced(
    picture: &PictureDesc,
    host: &HostPlanes,
    previous: Option<(&PictureDesc, &HostPlanes)>,
    field: Field,
) -> Result<(Picture, Deinterlacer), GpuError> {
    let desc = picture.format.desc();
    let mut out = *picture;
    out.scan = Scan::Progressive;
    let mut planes = Vec::with_capacity(desc.planes.len());
    for (index, format) in desc.planes.iter().enumerate() {
        let (row_bytes, rows) = picture
            .plane_extent(index)
            .ok_or_else(|| GpuError::Internal(format!("plane {index} has no extent")))?;
        let bytes = usize::from(format.bytes_per_sample);
        let row_bytes = row_bytes as usize;
        let source = Samples::plane(picture.planes[index], host.plane(index), bytes);
        let prev = previous
            .map(|(desc, host)| Samples::plane(desc.planes[index], host.plane(index), bytes));
        let plane = PlaneFilter {
            src: source,
            prev,
            bytes,
            samples: row_bytes / bytes,
            rows: rows as usize,
            per_texel: usize::from(format.samples_per_texel),
            parity: field.parity() as usize,
        };
        let mut data = vec![0u8; row_bytes * rows as usize];
        for (y, row) in data.chunks_exact_mut(row_bytes).enumerate() {
            plane.row(y, row);
        }
        out.planes[index] = PlaneDesc {
            offset: 0,
            pitch: row_bytes as u64,
        };
        planes.push(PlaneBytes::from(data));
    }
    let deinterlacer = match previous {
        Some(_) => Deinterlacer::MotionAdaptive,
        None => Deinterlacer::Spatial,
    };
    let picture = Picture::host(out, planes)
        .map_err(|e| GpuError::Internal(format!("the deinterlaced picture: {e}")))?;
    Ok((picture, deinterlacer))
}

/// The stage's work on one plane.
struct PlaneFilter<'a> {
    src: Samples<'a>,
    prev: Option<Samples<'a>>,
    /// Bytes per sample (1 or 2).
    bytes: usize,
    /// Samples per row, rows, interleaved samples per texel.
    samples: usize,
    rows: usize,
    per_texel: usize,
    /// Parity of the kept field's lines (0 top, 1 bottom).
    parity: usize,
}

/// Texels t-3 to t+3 of one line (index 3 is texel t).
type Window = [f32; 7];

impl PlaneFilter<'_> {
    /// Row `y` of the progressive plane into `out`.
    fn row(&self, y: usize, out: &mut [u8]) {
        let bytes = self.bytes;
        // A plane with no line of the kept field (one row, bottom field
        // kept) is copied.
        let missing = (y & 1) != self.parity && self.rows > self.parity;
        let top = ((1u32 << (8 * bytes)) - 1) as f32;
        let texels = (self.samples / self.per_texel) as i32;
        for s in 0..self.samples {
            let t = (s / self.per_texel) as i32;
            let ch = s % self.per_texel;
            let mut v = self.sample(t, ch, y, texels);
            if missing {
                let p = match self.prev {
                    Some(prev) => self.motion_adaptive(prev, t, ch, y as i32, texels),
                    None => self.interpolate(t, ch, y as i32, texels),
                };
                v = p.round_ties_even().clamp(0.0, top);
            }
            let code = v as u32;
            out[s * bytes..(s + 1) * bytes].copy_from_slice(&code.to_le_bytes()[..bytes]);
        }
    }

    fn sample(&self, t: i32, ch: usize, row: usize, texels: i32) -> f32 {
        let t = t.clamp(0, texels - 1) as usize;
        self.src.at((t * self.per_texel + ch) as i32, row as i32)
    }

    fn previous(&self, prev: Samples<'_>, t: i32, ch: usize, row: usize) -> f32 {
        prev.at(t * self.per_texel as i32 + ch as i32, row as i32)
    }

    /// Row `r` of the parity of row `like`, clamped to the plane's lines of
    /// that parity.
    fn row_like(&self, r: i32, like: i32) -> usize {
        let parity = like & 1;
        let last = parity + 2 * ((self.rows as i32 - 1 - parity) / 2);
        r.clamp(parity, last) as usize
    }

    fn kept_row(&self, r: i32) -> usize {
        self.row_like(r, self.parity as i32)
    }

    fn window(&self, t: i32, ch: usize, row: usize, texels: i32) -> Window {
        std::array::from_fn(|k| self.sample(t + k as i32 - 3, ch, row, texels))
    }

    /// The missing sample of channel `ch` of texel `t` on row `y`.
    fn interpolate(&self, t: i32, ch: usize, y: i32, texels: i32) -> f32 {
        let a = self.window(t, ch, self.kept_row(y - 1), texels);
        let b = self.window(t, ch, self.kept_row(y + 1), texels);
        let far = self.sample(t, ch, self.kept_row(y - 3), texels)
            + self.sample(t, ch, self.kept_row(y + 3), texels);
        let mut pred = NEAR * (a[3] + b[3]) - FAR * far;
        // A slanted direction has to beat the vertical one by more than one
        // code, as in yadif, so flat noise does not pick directions.
        let mut best = mismatch(&a, &b, 0) - 1.0;
        let m1 = mismatch(&a, &b, -1);
        if m1 < best {
            best = m1;
            pred = 0.5 * (a[2] + b[4]);
            let m2 = mismatch(&a, &b, -2);
            if m2 < best {
                best = m2;
                pred = 0.5 * (a[1] + b[5]);
            }
        }
        let p1 = mismatch(&a, &b, 1);
        if p1 < best {
            best = p1;
            pred = 0.5 * (a[4] + b[2]);
            let p2 = mismatch(&a, &b, 2);
            if p2 < best {
                pred = 0.5 * (a[5] + b[1]);
            }
        }
        pred
    }

    /// The missing sample of channel `ch` of texel `t` on row `y`, from
    /// this picture and the previous one.
    fn motion_adaptive(&self, prev: Samples<'_>, t: i32, ch: usize, y: i32, texels: i32) -> f32 {
        let row = y as usize;
        let above = self.kept_row(y - 1);
        let below = self.kept_row(y + 1);
        let c = self.sample(t, ch, above, texels);
        let e = self.sample(t, ch, below, texels);
        let before = self.previous(prev, t, ch, row);
        let after = self.sample(t, ch, row, texels);
        let d = 0.5 * (before + after);
        // As bwdif's integer halvings: a change of one code is no motion.
        let across = (0.5 * (before - after).abs()).floor();
        let kept = (0.5
            * ((self.previous(prev, t, ch, above) - c).abs()
                + (self.previous(prev, t, ch, below) - e).abs()))
        .floor();
        let mut diff = across.max(kept);
        if diff == 0.0 {
            return d;
        }
        let up = self.row_like(y - 2, y);
        let down = self.row_like(y + 2, y);
        let b = 0.5 * (self.previous(prev, t, ch, up) + self.sample(t, ch, up, texels)) - c;
        let f = 0.5 * (self.previous(prev, t, ch, down) + self.sample(t, ch, down, texels)) - e;
        let hi = (d - e).max(d - c).max(b.min(f));
        let lo = (d - e).min(d - c).min(b.max(f));
        diff = diff.max(lo).max(-hi);
        self.interpolate(t, ch, y, texels).clamp(d - diff, d + diff)
    }
}

/// How badly the line above (at texel offset +j) and the line below (at
/// -j) disagree around the windows' centre.
fn mismatch(a: &Window, b: &Window, j: i32) -> f32 {
    let at = |w: &Window, k: i32| w[k as usize];
    (at(a, 2 + j) - at(b, 2 - j)).abs()
        + (at(a, 3 + j) - at(b, 3 - j)).abs()
        + (at(a, 4 + j) - at(b, 4 - j)).abs()
}
