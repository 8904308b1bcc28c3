//! The filter tap tables both passes read: normalised Lanczos-3 weights
//! built on the host once per geometry, so the shaders only multiply and
//! add.

use super::variants::{LINE_BLOCK, PRIMARY_GROUP};
use super::GpuError;

/// Lanczos-3: the kernel is `sinc(x)·sinc(x/3)` on `|x| < 3`.
const LOBES: f64 = 3.0;

/// Widest filter reach accepted, in plane texels either side of a tap
/// centre. Downscaling a 16384-texel plane to one pixel needs 49152; a
/// `scale` beyond this cannot be meant, and the tables would take the CPU
/// seconds to build.
const MAX_RADIUS: f64 = 65536.0;

/// Furthest a tap centre may lie from the plane, in texels: keeps every tap
/// index well inside `i32` and `f32`'s exact integers.
const MAX_CENTRE: f64 = 1_048_576.0;

/// The normalised Lanczos-3 weights of every output sample of both passes,
/// in one buffer of `u32` words read as `vec4<u32>`s. Weights depend only on
/// the output index, never on the line being filtered, so building them here
/// replaces `lines × taps` kernel evaluations per output column on the device
/// with one each.
///
/// Each table (one per pass and group, starting at vec4 `Params::taps`)
/// holds one entry per [`PAIR`] neighbouring outputs in pass 1
/// and per output in pass 2: for entry `e`, a header vec4 at `base + e`: the
/// first texel any of its outputs reads, the vec4 index of its first weight
/// quad, the number of quads, 0. Weights are `f32` bits, one per
/// consecutive texel from the first, and each output's sum to one; a pass-1
/// entry interleaves its outputs' quads (quad `t` of column `c` at
/// `start + t · PAIR + c`), each zero outside its own span.
/// The first texel is rounded down to a multiple of four and the weights are
/// padded with zeros to whole quads, so the shaders take four taps per load
/// (and pass 2's line quads are the vec4s of its input). Taps beyond the
/// usable rectangle repeat its edge texels, so their weights are folded into
/// the edge texel's and only zero weights fall outside it. Pass 2 counts
/// texels from the first line pass 1 produced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TapTables {
    axes: [Option<AxisTaps>; 4],
    pub(super) bases: [u32; 4],
    words: u32,
}

impl TapTables {
    pub(super) fn new(axes: [Option<AxisTaps>; 4]) -> Result<TapTables, GpuError> {
        let mut bases = [0u32; 4];
        let mut words = 0u64;
        for (base, axis) in bases.iter_mut().zip(&axes) {
            if let Some(axis) = axis {
                *base = index_word(words / 4)?;
                words += axis.words();
            }
        }
        Ok(TapTables {
            axes,
            bases,
            words: index_word(words)?,
        })
    }

    /// The blocks of pass-1 lines each pass-2 table entry of `group` reads
    /// (`None` for a group without a plane).
    pub(super) fn secondary_blocks(&self, group: usize) -> Option<Vec<std::ops::Range<u32>>> {
        let axis = self.axes[2 + group]?;
        Some(
            (0..axis.entries())
                .map(|e| {
                    let (start, quads) = axis.quads(e);
                    let first = start as u32 / LINE_BLOCK;
                    first..first + quads
                })
                .collect(),
        )
    }

    /// The taps of pass 1 of group 0 and 1 (`k` 0, 1), then of pass 2.
    pub(super) fn axis(&self, k: usize) -> Option<AxisTaps> {
        self.axes[k]
    }

    /// Length of the buffer in 32-bit words.
    pub fn words(&self) -> u32 {
        self.words
    }

    /// Writes the tables into `out`, replacing its contents and reusing its
    /// capacity.
    pub fn write(&self, out: &mut Vec<u32>) {
        out.clear();
        out.reserve(self.words as usize);
        for axis in self.axes.iter().flatten() {
            axis.write(out);
        }
    }
}

/// A word offset into the tap buffer, which the shader indexes with `u32`.
fn index_word(words: u64) -> Result<u32, GpuError> {
    u32::try_from(words).map_err(|_| GpuError::TooLarge {
        what: "the filter tap tables",
        limit: "u32 word indices",
        requested: words.saturating_mul(4),
        allowed: u64::from(u32::MAX),
    })
}

/// Where the taps of one pass fall along one source axis of one group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct AxisTaps {
    outputs: u32,
    /// `src = a·(o + ½) + b` in luma samples.
    map: (f64, f64),
    /// Subsampling and siting offset (luma samples) of the plane.
    sub: f64,
    offset: f64,
    /// Filter scale: support widens by the downscale factor so nothing
    /// aliases.
    stretch: f64,
    /// First and last usable texel.
    lo: i32,
    hi: i32,
    /// Subtracted from texel indices as stored.
    origin: i32,
    /// Neighbouring outputs sharing one table entry.
    columns: u32,
}

impl AxisTaps {
    pub(super) fn new(
        outputs: u32,
        map: (f64, f64),
        sub: f64,
        offset: f64,
        scale: f64,
        (lo, hi): (i32, i32),
        origin: i32,
    ) -> Result<AxisTaps, GpuError> {
        let taps = AxisTaps {
            outputs,
            map,
            sub,
            offset,
            stretch: (scale / sub).max(1.0),
            lo,
            hi,
            origin,
            columns: 1,
        };
        if LOBES * taps.stretch > MAX_RADIUS {
            return Err(GpuError::UnsupportedSpec(format!(
                "scale {scale} widens the filter beyond {MAX_RADIUS} texels"
            )));
        }
        // The centre is linear in the output index, so the ends bound it.
        let ends = [taps.centre(0), taps.centre(outputs.saturating_sub(1))];
        if ends.iter().any(|c| c.abs() > MAX_CENTRE) {
            return Err(GpuError::UnsupportedSpec(
                "the output → source map puts taps far outside the plane".into(),
            ));
        }
        Ok(taps)
    }

    /// Centre of output `o` in plane texel coordinates (centres at
    /// `i + 0.5`).
    pub(super) fn centre(&self, o: u32) -> f64 {
        let u = self.map.0 * (f64::from(o) + 0.5) + self.map.1;
        (u - 0.5 - self.offset) / self.sub + 0.5
    }

    /// First and last tap of output `o` before clamping.
    pub(super) fn reach(&self, o: u32) -> (i64, i64) {
        let p = self.centre(o);
        let radius = LOBES * self.stretch;
        (
            (p - 0.5 - radius).ceil() as i64,
            (p - 0.5 + radius).floor() as i64,
        )
    }

    /// First and last texel output `o` reads.
    pub(super) fn span(&self, o: u32) -> (i32, i32) {
        let (first, last) = self.reach(o);
        let clamp = |k: i64| k.clamp(i64::from(self.lo), i64::from(self.hi)) as i32;
        (clamp(first), clamp(last))
    }

    /// The texel index table entries count from.
    pub(super) fn origin(&self) -> i32 {
        self.origin
    }

    /// The same taps with `columns` neighbouring outputs per table entry.
    pub(super) fn in_entries_of(self, columns: u32) -> AxisTaps {
        AxisTaps { columns, ..self }
    }

    /// Table entries: one per `columns` neighbouring outputs.
    pub(super) fn entries(&self) -> u32 {
        self.outputs.div_ceil(self.columns)
    }

    /// The outputs of entry `e`.
    pub(super) fn outputs_of(&self, e: u32) -> std::ops::Range<u32> {
        e * self.columns..((e + 1) * self.columns).min(self.outputs)
    }

    /// Where entry `e` starts, relative to `origin` and rounded down to a
    /// multiple of four, and how many weight quads reach past the last
    /// texel of any of its outputs.
    pub(super) fn quads(&self, e: u32) -> (i32, u32) {
        let spans = self.outputs_of(e).map(|o| self.span(o));
        let (first, last) = spans.fold((i32::MAX, i32::MIN), |(f, l), (a, b)| (f.min(a), l.max(b)));
        // `first` is at or after `lo`, itself at or after `origin`.
        let start = (first - self.origin) & !3;
        (start, ((last - self.origin + 1 - start) as u32).div_ceil(4))
    }

    /// Quads in the widest entry.
    pub(super) fn widest(&self) -> u32 {
        (0..self.entries())
            .map(|e| self.quads(e).1)
            .max()
            .unwrap_or(0)
    }

    /// The most texel quads one pass-1 workgroup spans (per line and
    /// component), as the shader bounds them: from the lower of its end
    /// entries' first quads to the further of their last. Spans move
    /// monotonically with the output, so the end entries bound the rest.
    pub(super) fn stage_quads(&self) -> u32 {
        let entries = self.entries();
        (0..entries.div_ceil(PRIMARY_GROUP))
            .map(|w| {
                let first = w * PRIMARY_GROUP;
                let (a, a_quads) = self.quads(first);
                let (b, b_quads) = self.quads((first + PRIMARY_GROUP - 1).min(entries - 1));
                let lo = a.min(b);
                ((a - lo) as u32 / 4 + a_quads).max((b - lo) as u32 / 4 + b_quads)
            })
            .max()
            .unwrap_or(0)
    }

    pub(super) fn words(&self) -> u64 {
        let quads: u64 = (0..self.entries())
            .map(|e| u64::from(self.quads(e).1))
            .sum();
        4 * (u64::from(self.entries()) + u64::from(self.columns) * quads)
    }

    /// Headers, then per entry and quad one weight vec4 per column (zeros
    /// for a column past the last output).
    pub(super) fn write(&self, out: &mut Vec<u32>) {
        let columns = self.columns as usize;
        let mut quad = out.len() / 4 + self.entries() as usize;
        for e in 0..self.entries() {
            let (start, quads) = self.quads(e);
            out.extend([start as u32, quad as u32, quads, 0]);
            quad += columns * quads as usize;
        }
        let mut column = Vec::new();
        for e in 0..self.entries() {
            let (start, quads) = self.quads(e);
            let begin = out.len();
            out.resize(begin + 4 * columns * quads as usize, 0);
            for (c, o) in self.outputs_of(e).enumerate() {
                column.clear();
                self.write_weights(o, start, quads, &mut column);
                for (t, weights) in column.chunks_exact(4).enumerate() {
                    let at = begin + 4 * (t * columns + c);
                    out[at..at + 4].copy_from_slice(weights);
                }
            }
        }
    }

    /// Appends output `o`'s weights for an entry starting at `start` with
    /// `quads` quads.
    pub(super) fn write_weights(&self, o: u32, start: i32, quads: u32, out: &mut Vec<u32>) {
        let p = self.centre(o);
        let (first, last) = self.span(o);
        let (reach_first, reach_last) = self.reach(o);
        let lead = (first - self.origin - start) as usize;
        let begin = out.len();
        out.resize(begin + 4 * quads as usize, 0);
        let slots = &mut out[begin + lead..begin + lead + (last - first + 1) as usize];
        let (lo, hi) = (i64::from(self.lo), i64::from(self.hi));
        let (mut total, mut below, mut above) = (0.0, 0.0, 0.0);
        for k in reach_first..=reach_last {
            let w = lanczos3((k as f64 + 0.5 - p) / self.stretch);
            total += w;
            if k <= lo {
                below += w;
            } else if k >= hi {
                above += w;
            } else {
                slots[(k - i64::from(first)) as usize] = (w as f32).to_bits();
            }
        }
        // The edges gather every tap beyond them; with one texel in reach
        // both land on it.
        let n = slots.len();
        let add = |slot: &mut u32, w: f64| {
            *slot = ((f64::from(f32::from_bits(*slot)) + w) as f32).to_bits();
        };
        add(&mut slots[0], below);
        add(&mut slots[n - 1], above);
        // At least six taps at stretch ≥ 1 cover a full kernel period, so
        // the total is close to the stretch and never near zero.
        for slot in slots.iter_mut() {
            *slot = ((f64::from(f32::from_bits(*slot)) / total) as f32).to_bits();
        }
    }
}

pub(super) fn lanczos3(x: f64) -> f64 {
    let ax = x.abs();
    if ax < 1e-5 {
        return 1.0;
    }
    if ax >= LOBES {
        return 0.0;
    }
    let px = std::f64::consts::PI * ax;
    LOBES * px.sin() * (px / LOBES).sin() / (px * px)
}
