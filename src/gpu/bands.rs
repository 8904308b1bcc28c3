//! Splitting a frame's passes into bands of output rows, so a frame whose
//! working buffers or input planes exceed what the device binds (lavapipe:
//! 128 MiB per storage binding; an 8192×8192 frame's first-pass buffers
//! and output are 256 MiB each, a 16384×16000 luma plane 250 MiB) renders
//! as several smaller runs of the same passes, with the same pixels.
//!
//! A band is a run of pass-2 table entries (pairs of output rows). Its rows
//! read the blocks of pass-1 lines their taps name, so pass 1 produces just
//! those blocks, and the intermediate buffers hold one band's blocks; the
//! output buffer and readback hold one band's rows. Where pass 1 filters
//! along source x, its lines are source rows, so each input plane is bound
//! only over the rows the band's blocks read, from an offset rounded down
//! to the device's binding alignment. Every value a band computes is the
//! one the whole frame computes at the same place, from the same taps in
//! the same order, so the pixels are identical.
//!
//! Pure arithmetic: the pipeline describes the frame and the device's
//! bounds, and gets back the bands, or the limit that not even one pair of
//! rows fits in.

use std::ops::Range;

use super::variants::{LINE_BLOCK, PAIR};
use super::GpuError;

/// Bytes of one pass-1 block of one output column: a vec4 of four lines.
const MID0_BLOCK_BYTES: u64 = 16;
/// Components 1 and 2: two vec4s.
const MID12_BLOCK_BYTES: u64 = 32;

/// What the device allows the passes to bind and allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DeviceBounds {
    /// The largest storage binding (`max_storage_buffer_binding_size`, at
    /// most `u32::MAX`: the shaders address bytes with u32).
    pub binding: u64,
    /// The largest buffer (`max_buffer_size`).
    pub buffer: u64,
    /// `min_storage_buffer_offset_alignment`.
    pub alignment: u64,
    /// `max_compute_workgroups_per_dimension`.
    pub workgroups: u32,
}

/// Which plane rows a group's pass 1 reads for a run of its line blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RowsRead {
    /// Pass 1 filters along x: its lines are the plane's rows from
    /// `first_line` on, `lines` of them (a last block past them repeats
    /// the last).
    Lines { first_line: u32, lines: u32 },
    /// Pass 1 filters along y: every block reads these rows.
    Fixed { first: u32, last: u32 },
}

impl RowsRead {
    /// First and last plane row blocks `blocks` read.
    fn rows(self, blocks: &Range<u32>) -> (u32, u32) {
        match self {
            RowsRead::Lines { first_line, lines } => {
                let first = (blocks.start * LINE_BLOCK).min(lines.saturating_sub(1));
                let end = (blocks.end * LINE_BLOCK).min(lines).max(first + 1);
                (first_line + first, first_line + end - 1)
            }
            RowsRead::Fixed { first, last } => (first, last),
        }
    }
}

/// One component group (0: component 0; 1: components 1 and 2) as pass 2
/// reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GroupLines {
    /// The blocks of pass-1 lines each pass-2 table entry reads.
    pub entry_blocks: Vec<Range<u32>>,
    /// Blocks pass 1 produces for the whole frame.
    pub blocks: u32,
    pub rows: RowsRead,
}

/// One input binding (component 0, 1, 2, alpha) as a range of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BindingRows {
    /// Where the binding starts in its buffer, and its length.
    pub offset: u64,
    pub size: u64,
    /// Where row 0 of the plane starts, in the binding.
    pub plane_base: u64,
    pub pitch: u64,
    /// The groups whose rows it is read for, each with the plane rows per
    /// row of the group's grid (alpha on the luma grid is read for the
    /// subsampled colour grid too, two rows per line for 4:2:0); none for
    /// a binding no shader reads.
    pub reads: [Option<(usize, u32)>; 2],
}

/// The frame as the band planner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BandFrame {
    pub out_width: u32,
    pub out_height: u32,
    pub words_per_pixel: u32,
    /// `None` for a group without a plane (gray's chroma).
    pub groups: [Option<GroupLines>; 2],
    /// Pass 1 also filters alpha on group 0's grid, and on group 1's.
    pub alpha_grids: [bool; 2],
    /// The input bindings, when they are buffers; images are bound whole.
    pub bindings: Option<[BindingRows; 4]>,
}

/// A buffer range to bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ByteRange {
    pub offset: u64,
    pub size: u64,
}

/// One band: the output rows it renders and what they read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Band {
    /// Pass-2 table entries, [`PAIR`] output rows each.
    pub entries: Range<u32>,
    /// Output rows.
    pub rows: Range<u32>,
    /// Pass-1 blocks of group 0 and 1 (empty for a group without a plane).
    pub blocks: [Range<u32>; 2],
    /// The input bindings, when they are buffers.
    pub inputs: Option<[ByteRange; 4]>,
}

impl Band {
    /// Blocks of the component-0 buffer: component 0's, then alpha's on
    /// each grid that has it.
    pub fn mid0_blocks(&self, alpha_grids: [bool; 2]) -> u32 {
        let [n0, n1] = self.blocks.clone().map(|b| b.len() as u32);
        n0 + if alpha_grids[0] { n0 } else { 0 } + if alpha_grids[1] { n1 } else { 0 }
    }
}

/// The bands a frame renders in, in order from its top row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BandPlan {
    pub bands: Vec<Band>,
    /// The frame fits in one run with its bindings as they are: the path
    /// every frame within the device's limits takes.
    pub whole: bool,
}

impl BandPlan {
    /// The most output rows, blocks per group and component-0 blocks any
    /// band needs: what the working buffers are sized for.
    pub fn largest(&self, alpha_grids: [bool; 2]) -> (u32, [u32; 2], u32) {
        self.bands
            .iter()
            .fold((0, [0, 0], 0), |(rows, blocks, mid0), b| {
                (
                    rows.max(b.rows.len() as u32),
                    [
                        blocks[0].max(b.blocks[0].len() as u32),
                        blocks[1].max(b.blocks[1].len() as u32),
                    ],
                    mid0.max(b.mid0_blocks(alpha_grids)),
                )
            })
    }
}

/// Splits `frame` into as few bands as fit `bounds`: the whole frame with
/// its bindings as they are when it fits, else bands grown a pair of rows
/// at a time while they fit. Fails with the first limit a single pair of
/// rows exceeds.
pub(super) fn plan_bands(frame: &BandFrame, bounds: &DeviceBounds) -> Result<BandPlan, GpuError> {
    let entries = frame.out_height.div_ceil(PAIR);
    let whole = Band {
        entries: 0..entries,
        rows: 0..frame.out_height,
        blocks: frame
            .groups
            .each_ref()
            .map(|g| 0..g.as_ref().map_or(0, |g| g.blocks)),
        inputs: frame.bindings.map(|b| {
            b.map(|b| ByteRange {
                offset: b.offset,
                size: b.size,
            })
        }),
    };
    if check_band(frame, &whole, bounds).is_ok() {
        return Ok(BandPlan {
            bands: vec![whole],
            whole: true,
        });
    }
    let mut bands = Vec::new();
    let mut first = 0;
    while first < entries {
        let mut band = band_of(frame, first..first + 1, bounds);
        check_band(frame, &band, bounds)?;
        // Grow by halving steps: a band's needs grow with its entries, so
        // the largest that fits is found in O(log n) checks.
        let mut step = (entries - band.entries.end).next_power_of_two();
        while step > 0 {
            let end = band.entries.end + step;
            if end <= entries {
                let grown = band_of(frame, first..end, bounds);
                if check_band(frame, &grown, bounds).is_ok() {
                    band = grown;
                    continue;
                }
            }
            step /= 2;
        }
        first = band.entries.end;
        bands.push(band);
    }
    Ok(BandPlan {
        bands,
        whole: false,
    })
}

/// The band of pass-2 table entries `entries`.
fn band_of(frame: &BandFrame, entries: Range<u32>, bounds: &DeviceBounds) -> Band {
    let blocks = frame.groups.each_ref().map(|g| match g {
        Some(g) => {
            let spans = &g.entry_blocks[entries.start as usize..entries.end as usize];
            let start = spans.iter().map(|s| s.start).min().unwrap_or(0);
            let end = spans.iter().map(|s| s.end).max().unwrap_or(0);
            start..end.max(start)
        }
        None => 0..0,
    });
    let rows = entries.start * PAIR..(entries.end * PAIR).min(frame.out_height);
    let inputs = frame.bindings.map(|bindings| {
        let mut ranges = bindings.map(|b| input_range(frame, &b, &blocks, bounds.alignment));
        // A binding no shader reads holds component 0's range.
        for (range, binding) in ranges.iter_mut().zip(&bindings).skip(1) {
            if binding.reads.iter().all(Option::is_none) {
                *range = input_range(frame, &bindings[0], &blocks, bounds.alignment);
            }
        }
        ranges
    });
    Band {
        entries,
        rows,
        blocks,
        inputs,
    }
}

/// The part of `binding` the groups it is read for read for `blocks`: from
/// the first row's start rounded down to `alignment`, to the last row's end
/// (the binding's end for the plane's last row, which may be shorter than
/// the pitch).
fn input_range(
    frame: &BandFrame,
    binding: &BindingRows,
    blocks: &[Range<u32>; 2],
    alignment: u64,
) -> ByteRange {
    let rows = binding
        .reads
        .iter()
        .flatten()
        .filter_map(|&(group, per_line)| {
            let g = frame.groups[group].as_ref()?;
            let (first, last) = g.rows.rows(&blocks[group]);
            let per_line = u64::from(per_line.max(1));
            Some((
                u64::from(first) * per_line,
                (u64::from(last) + 1) * per_line,
            ))
        })
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)));
    let Some((first, end)) = rows else {
        return ByteRange {
            offset: binding.offset,
            size: binding.size,
        };
    };
    let binding_end = binding.offset + binding.size;
    let start = (binding.offset + binding.plane_base + first * binding.pitch).min(binding_end);
    let end = (binding.offset + binding.plane_base + end * binding.pitch).min(binding_end);
    let aligned = (start - start % alignment.max(4)).max(binding.offset);
    ByteRange {
        offset: aligned,
        size: (end - aligned).max(4),
    }
}

/// The first limit `band` exceeds.
fn check_band(frame: &BandFrame, band: &Band, bounds: &DeviceBounds) -> Result<(), GpuError> {
    let width = u64::from(frame.out_width);
    let storage = bounds.binding.min(bounds.buffer);
    let [n0, n1] = band.blocks.clone().map(|b| u64::from(b.len() as u32));
    let buffers = [
        (
            "the first-pass luma buffer",
            width * u64::from(band.mid0_blocks(frame.alpha_grids)) * MID0_BLOCK_BYTES,
        ),
        (
            "the first-pass chroma buffer",
            width * n1 * MID12_BLOCK_BYTES,
        ),
        (
            "the output buffer",
            width * band.rows.len() as u64 * u64::from(frame.words_per_pixel) * 4,
        ),
    ];
    for (what, size) in buffers {
        if size > storage {
            return Err(GpuError::TooLarge {
                what,
                limit: "max_storage_buffer_binding_size",
                requested: size,
                allowed: storage,
            });
        }
    }
    for range in band.inputs.iter().flatten() {
        if range.size > bounds.binding {
            return Err(GpuError::TooLarge {
                what: "an input plane",
                limit: "max_storage_buffer_binding_size",
                requested: range.size,
                allowed: bounds.binding,
            });
        }
    }
    let dispatches = [n0, n1, band.entries.len() as u64];
    let most = dispatches.into_iter().max().unwrap_or(0);
    if most > u64::from(bounds.workgroups) {
        return Err(GpuError::TooLarge {
            what: "a dispatch",
            limit: "max_compute_workgroups_per_dimension",
            requested: most,
            allowed: u64::from(bounds.workgroups),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOMY: DeviceBounds = DeviceBounds {
        binding: 1 << 40,
        buffer: 1 << 40,
        alignment: 256,
        workgroups: 65535,
    };

    /// A group of `lines` lines filtered to `outputs` rows: entry `e`
    /// (rows 2e, 2e+1) reads the blocks of the lines within Lanczos-3's
    /// reach of its rows' centres, clamped to the frame.
    fn group(lines: u32, outputs: u32) -> GroupLines {
        let blocks = lines.div_ceil(LINE_BLOCK);
        let ratio = f64::from(lines) / f64::from(outputs);
        let reach = 3.0 * ratio.max(1.0);
        GroupLines {
            entry_blocks: (0..outputs.div_ceil(PAIR))
                .map(|e| {
                    let centre = |row: u32| (f64::from(row) + 0.5) * ratio;
                    let first = (centre(2 * e) - reach).floor().max(0.0) as u32;
                    let last = ((centre(2 * e + 1) + reach).ceil() as u32).min(lines - 1);
                    first / LINE_BLOCK..last / LINE_BLOCK + 1
                })
                .collect(),
            blocks,
            rows: RowsRead::Lines {
                first_line: 0,
                lines,
            },
        }
    }

    /// A `side`² 4:2:0 frame at 1:1, uploaded as one buffer: luma rows of
    /// `side` bytes from 512, chroma planes after.
    fn yuv420(side: u32) -> BandFrame {
        let luma = u64::from(side) * u64::from(side);
        let chroma = luma / 4;
        let plane = |offset: u64, size: u64, pitch: u64, group: usize| BindingRows {
            offset,
            size,
            plane_base: 0,
            pitch,
            reads: [Some((group, 1)), None],
        };
        let half = u64::from(side / 2);
        let cb = plane(512 + luma, chroma, half, 1);
        let cr = plane(512 + luma + chroma, chroma, half, 1);
        let mut alpha = plane(512, luma, u64::from(side), 0);
        alpha.reads = [None, None];
        BandFrame {
            out_width: side,
            out_height: side,
            words_per_pixel: 1,
            groups: [Some(group(side, side)), Some(group(side / 2, side))],
            alpha_grids: [false, false],
            bindings: Some([plane(512, luma, u64::from(side), 0), cb, cr, alpha]),
        }
    }

    #[test]
    fn a_frame_that_fits_is_one_whole_band() {
        let frame = yuv420(64);
        let plan = plan_bands(&frame, &ROOMY).unwrap();
        assert!(plan.whole);
        assert_eq!(plan.bands.len(), 1);
        let band = &plan.bands[0];
        assert_eq!(band.rows, 0..64);
        assert_eq!(band.blocks, [0..16, 0..8]);
        assert_eq!(
            band.inputs.unwrap()[0],
            ByteRange {
                offset: 512,
                size: 64 * 64
            }
        );
    }

    #[test]
    fn bands_cover_every_row_once_and_fit() {
        let frame = yuv420(8192);
        let lavapipe = DeviceBounds {
            binding: 128 << 20,
            ..ROOMY
        };
        let plan = plan_bands(&frame, &lavapipe).unwrap();
        assert!(!plan.whole);
        assert!(plan.bands.len() >= 2, "{}", plan.bands.len());
        let mut next = 0;
        for band in &plan.bands {
            assert_eq!(band.rows.start, next);
            assert_eq!(band.rows.start, band.entries.start * PAIR);
            next = band.rows.end;
            check_band(&frame, band, &lavapipe).unwrap();
        }
        assert_eq!(next, 8192);
        let (rows, blocks, mid0) = plan.largest(frame.alpha_grids);
        assert!(u64::from(rows) * 8192 * 4 <= 128 << 20);
        assert!(u64::from(mid0) * 8192 * 16 <= 128 << 20);
        assert!(u64::from(blocks[1]) * 8192 * 32 <= 128 << 20);
    }

    #[test]
    fn each_band_reads_the_blocks_its_taps_name_and_their_rows() {
        let frame = yuv420(256);
        // Room for about 64 rows of output.
        let small = DeviceBounds {
            binding: 64 * 256 * 4,
            ..ROOMY
        };
        let plan = plan_bands(&frame, &small).unwrap();
        for band in &plan.bands {
            for (g, group) in frame.groups.iter().enumerate() {
                let group = group.as_ref().unwrap();
                for e in band.entries.clone() {
                    let needs = &group.entry_blocks[e as usize];
                    assert!(band.blocks[g].start <= needs.start && needs.end <= band.blocks[g].end);
                }
            }
            // Luma: the band's blocks' rows, from an aligned offset.
            let luma = band.inputs.unwrap()[0];
            assert_eq!(luma.offset % 256, 0);
            let first_row = 512 + u64::from(band.blocks[0].start * LINE_BLOCK) * 256;
            let last_row = (band.blocks[0].end * LINE_BLOCK).min(256) - 1;
            assert!(luma.offset <= first_row && first_row - luma.offset < 256);
            assert_eq!(luma.offset + luma.size, 512 + u64::from(last_row + 1) * 256);
            // The unread alpha binding holds luma's range.
            assert_eq!(band.inputs.unwrap()[3], luma);
        }
    }

    #[test]
    fn alpha_read_for_subsampled_colour_spans_both_grids_rows() {
        let mut frame = yuv420(256);
        let bindings = frame.bindings.as_mut().unwrap();
        bindings[3].reads = [Some((0, 1)), Some((1, 2))];
        frame.alpha_grids = [true, true];
        let band = band_of(&frame, 40..50, &ROOMY);
        let (l0, l1) = frame.groups[0].as_ref().unwrap().rows.rows(&band.blocks[0]);
        let (c0, c1) = frame.groups[1].as_ref().unwrap().rows.rows(&band.blocks[1]);
        let (first, end) = ((l0).min(2 * c0), (l1 + 1).max(2 * c1 + 2));
        let alpha = band.inputs.unwrap()[3];
        assert_eq!(alpha.offset, 512 + u64::from(first) * 256);
        assert_eq!(alpha.offset + alpha.size, 512 + u64::from(end) * 256);
        assert_eq!(
            band.mid0_blocks(frame.alpha_grids),
            2 * band.blocks[0].len() as u32 + band.blocks[1].len() as u32
        );
    }

    #[test]
    fn fixed_rows_are_read_whole_by_every_band() {
        let rows = RowsRead::Fixed { first: 3, last: 90 };
        assert_eq!(rows.rows(&(5..9)), (3, 90));
        let lines = RowsRead::Lines {
            first_line: 10,
            lines: 30,
        };
        assert_eq!(lines.rows(&(2..4)), (18, 25));
        // A last block past the lines reads the last one.
        assert_eq!(lines.rows(&(7..8)), (38, 39));
    }

    #[test]
    fn a_pair_of_rows_too_large_names_the_limit() {
        let frame = yuv420(8192);
        let tiny = DeviceBounds {
            binding: 4096,
            ..ROOMY
        };
        match plan_bands(&frame, &tiny) {
            Err(GpuError::TooLarge { what, allowed, .. }) => {
                assert_eq!(allowed, 4096);
                assert!(what.starts_with("the "), "{what}");
            }
            other => panic!("{other:?}"),
        }
    }
}
