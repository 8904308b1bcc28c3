//! The uniform block the shaders read, built from an [`OutputSpec`] and the
//! frame's layout. Pure arithmetic: every geometric and colour decision is
//! resolved here so it can be tested without a device, and the shaders only
//! evaluate it.

use bytemuck::{Pod, Zeroable};

use crate::render::spec::{Affine2, OutputEncoding, OutputSpec, Rect, ToneMap, TransferFunction};
use crate::surface::{ComponentSource, PixelLayout};

use super::GpuError;

/// One sampling grid: the plane that feeds component 0 (group 0) or
/// components 1 and 2 (group 1). 48 bytes, a multiple of 16 as WGSL requires
/// for array elements in a uniform buffer.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct Grid {
    /// Plane width and height in texels; first usable texel x, y.
    pub size_lo: [i32; 4],
    /// Last usable texel x, y; first line pass 1 filters; line count (0 when
    /// the group has no plane, as gray's chroma).
    pub hi_lines: [i32; 4],
    /// Subsampling factor x, y; siting offset x, y in luma samples.
    pub sub_off: [f32; 4],
}

/// The uniform block, field for field the `Params` struct of
/// `shaders/params.wgsl`. Every member is 16 bytes or an array of 16-byte
/// rows, so the Rust and WGSL layouts agree without implicit padding (a
/// `vec3` would be 16-byte aligned in WGSL but 12 bytes here).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct Params {
    /// Output width, height; source axis pass 1 filters (0 = x, 1 = y);
    /// 32-bit words per output pixel (1 for RGBA8, 2 for RGBA16).
    pub out_size: [u32; 4],
    /// `src = a·(o + 0.5) + b` for pass 1 (`a`, `b` along output x) and pass 2
    /// (`a`, `b` along output y), in luma samples.
    pub map: [f32; 4],
    /// Source luma samples per output pixel along output x and y.
    pub scale: [f32; 4],
    pub grid: [Grid; 2],
    /// Channel (sample within the texel) of components 0, 1, 2; `w` = 1
    /// when components 1 and 2 are neutral (no chroma planes).
    pub channel: [u32; 4],
    /// Bytes from one row to the next of the plane each of components 0, 1,
    /// 2 reads, as uploaded; `w`: bytes per sample (1 or 2).
    pub row_bytes: [u32; 4],
    /// Bytes per texel of the plane each of components 0, 1, 2 reads.
    pub texel_bytes: [u32; 4],
    /// Rows of the YUV → R'G'B' matrix, offset in `w`.
    pub yuv: [[f32; 4]; 3],
    /// Rows of the linear-light gamut matrix.
    pub gamut: [[f32; 4]; 3],
    /// Relative luminance weights of the source RGB (after `yuv`).
    pub luma_src: [f32; 4],
    /// Relative luminance weights of the output RGB.
    pub luma_out: [f32; 4],
    /// PQ of the source black, PQ of the source peak, knee start `KS`,
    /// normalised target peak `maxLum` (BT.2390).
    pub tone: [f32; 4],
    /// Normalised target black `minLum`; target black and SDR white in
    /// cd/m² (the output signal spans black..white).
    pub tone2: [f32; 4],
    /// HLG system gamma; HLG nominal peak in cd/m².
    pub hlg: [f32; 4],
    /// Factor from the integer samples in their containers to normalised
    /// codes; neutral chroma as a normalised code.
    pub sample: [f32; 4],
    /// Offsets in the tap buffer, in vec4s, of the tables of pass 1 group
    /// 0, pass 1 group 1, pass 2 group 0, pass 2 group 1 (see
    /// [`TapTables`]); 0 for a group without a plane, which no pass reads.
    pub taps: [u32; 4],
}

/// R'G'B' goes straight to the output (SDR → SDR in the same primaries, or
/// HDR kept as HDR): FFmpeg's behaviour, and no round trip through linear.
pub const FLAG_PASSTHROUGH: u32 = 1;
/// Apply the BT.2390 EETF.
pub const FLAG_TONE_MAP: u32 = 2;
/// Apply the gamut matrix.
pub const FLAG_GAMUT: u32 = 4;

pub const TRANSFER_SDR: u32 = 0;
pub const TRANSFER_PQ: u32 = 1;
pub const TRANSFER_HLG: u32 = 2;

/// BT.709 luminance weights: the output primaries of every linearised path.
const LUMA_709: [f64; 3] = [0.2126, 0.7152, 0.0722];
/// BT.2408 reference white, used when HDR reaches SDR without a tone map.
const DEFAULT_SDR_WHITE: f64 = 203.0;
const DEFAULT_HLG_GAMMA: f64 = 1.2;
const DEFAULT_HLG_PEAK: f64 = 1000.0;

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

/// Where each plane starts in the upload buffer and the plane buffer the
/// shaders read (the same bytes, copied once): a multiple of the largest
/// `min_storage_buffer_offset_alignment` WebGPU allows, so each plane can be
/// bound on its own.
pub const PLANE_ALIGNMENT: u64 = 256;

/// One plane's bytes as uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaneSlot {
    pub offset: u64,
    /// Bytes from one row to the next: the row rounded up to whole 32-bit
    /// words, as the shaders load words.
    pub pitch: u64,
    pub rows: u32,
}

/// The slots of every plane of a `width`×`height` frame of `layout`, placed
/// from byte `first` on, and the end of the last.
pub fn plane_slots(
    layout: PixelLayout,
    width: u32,
    height: u32,
    first: u64,
) -> (Vec<PlaneSlot>, u64) {
    let desc = layout.desc();
    let mut offset = first;
    let mut slots = Vec::with_capacity(desc.planes.len());
    for (index, format) in desc.planes.iter().enumerate() {
        let (w, rows) = layout.plane_size(index, width, height).unwrap_or((0, 0));
        let row =
            u64::from(w) * u64::from(format.bytes_per_sample) * u64::from(format.samples_per_texel);
        let pitch = row.div_ceil(4) * 4;
        offset = offset.div_ceil(PLANE_ALIGNMENT) * PLANE_ALIGNMENT;
        slots.push(PlaneSlot {
            offset,
            pitch,
            rows,
        });
        offset += pitch * u64::from(rows);
    }
    (slots, offset)
}

/// Source lines one pass-1 invocation filters and one vec4 of the
/// intermediate buffers holds (`LINES` in `shaders/resample.wgsl`): pass 1
/// loads each weight quad once for four lines, pass 2 reads four lines per
/// load. Each group's lines are produced in whole blocks.
pub const LINE_BLOCK: u32 = 4;

/// Output columns of one pass-1 workgroup (`PRIMARY_GROUP` in
/// `shaders/resample.wgsl`).
pub const PRIMARY_GROUP: u32 = 64;

/// Neighbouring outputs one table entry covers and one invocation filters
/// together: columns in pass 1, rows in pass 2 (`PAIR` in
/// `shaders/resample.wgsl`). Their spans overlap by all but a step of the
/// scale, so each quad of texels (or lines) loaded serves both; the entry
/// covers the union of their spans with one weight vec4 per output per
/// quad.
pub const PAIR: u32 = 2;

/// Output columns of one pass-2 invocation (`COLUMNS` in
/// `shaders/resample.wgsl`), which share their row's weight loads.
pub const SECONDARY_COLUMNS: u32 = 4;

/// Texel quads of pass 1's workgroup stage (`STAGE_QUADS` in
/// `shaders/resample.wgsl`), shared by the lines and components of a block.
pub const STAGE_QUADS: u32 = 1024;

/// Which compiled variant of pass 1 filters one component group: the
/// values of the shader's pipeline-overridable constants. The shader is
/// specialised instead of branching because lavapipe executes both sides of
/// every branch, and a GPU pays for the widest side's registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrimaryVariant {
    /// 0: component 0; 1: components 1 and 2.
    pub group: u8,
    /// The source axis pass 1 filters (0 = x, 1 = y).
    pub axis: u8,
    /// The workgroup loads each texel once into workgroup memory and
    /// filters from there; otherwise each invocation reads its taps from the
    /// planes. Staged when every workgroup's taps fit the stage, except for
    /// whole-word quads: one word load per quad from the plane costs no more
    /// than one from the stage (on lavapipe both are a scalar load per lane,
    /// and a stage quad of `f32`s is four), so staging them only adds its
    /// copy and barrier (1080p → 320 on lavapipe: 22 → 15 ms of CPU per
    /// frame), while a GPU's cache serves the words neighbouring columns
    /// share.
    pub staged: bool,
    /// The group's planes hold one 8-bit sample per texel and pass 1 runs
    /// along x, so a quad of taps is one 32-bit word.
    pub word_quads: bool,
    /// Each invocation filters two blocks of lines, so each weight quad it
    /// loads serves eight lines: for the direct component-0 variant when
    /// its table entries reach [`TWO_BLOCK_QUADS`] quads (1080p → 320 on
    /// lavapipe: 9.5 → 8.75 ms of CPU per frame). Narrower spans lose more
    /// to the doubled accumulators than they save in loads, and the other
    /// variants keep one block (see `TWO_BLOCKS` in
    /// `shaders/resample.wgsl`).
    pub two_blocks: bool,
}

/// Quads in the widest pass-1 table entry from which the direct
/// component-0 variant filters two blocks per invocation: a 2× downscale's
/// entries hold four or five, 1:1's two or three.
pub const TWO_BLOCK_QUADS: u32 = 4;

impl PrimaryVariant {
    /// Blocks of [`LINE_BLOCK`] lines one invocation filters.
    pub fn blocks(&self) -> u32 {
        if self.two_blocks {
            2
        } else {
            1
        }
    }

    /// The shader's override constants, by name.
    pub fn constants(&self) -> [(&'static str, f64); 5] {
        [
            ("GROUP", f64::from(self.group)),
            ("AXIS", f64::from(self.axis)),
            ("STAGED", f64::from(u8::from(self.staged))),
            ("WORD_QUADS", f64::from(u8::from(self.word_quads))),
            ("TWO_BLOCKS", f64::from(u8::from(self.two_blocks))),
        ]
    }
}

/// Which compiled variant of pass 2 runs a frame: its colour path, as the
/// shader's override constants `TRANSFER` and `FLAGS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecondaryVariant {
    /// The source transfer (`TRANSFER_*`).
    pub transfer: u32,
    /// `FLAG_*` bits.
    pub flags: u32,
}

impl SecondaryVariant {
    /// What most streams need: SDR shown as it is.
    pub const PASSTHROUGH: SecondaryVariant = SecondaryVariant {
        transfer: TRANSFER_SDR,
        flags: FLAG_PASSTHROUGH,
    };

    /// The shader's override constants, by name.
    pub fn constants(&self) -> [(&'static str, f64); 2] {
        [
            ("TRANSFER", f64::from(self.transfer)),
            ("FLAGS", f64::from(self.flags)),
        ]
    }
}

/// Everything a frame needs besides its pixels: the uniforms, the sizes of
/// the working buffers and dispatches, and the pass-1 variant of each
/// group.
#[derive(Debug, Clone, PartialEq)]
pub struct FramePlan {
    pub params: Params,
    pub out_width: u32,
    pub out_height: u32,
    /// Lines pass 1 produces for group 0 and group 1.
    pub lines: [u32; 2],
    pub words_per_pixel: u32,
    /// The filter taps both passes read, built on the host once per
    /// geometry instead of once per line and tap on the device.
    pub taps: TapTables,
    /// The pass-1 variant of group 0 and 1; `None` for a group without a
    /// plane (gray's chroma).
    pub primary: [Option<PrimaryVariant>; 2],
    pub secondary: SecondaryVariant,
}

impl FramePlan {
    /// Blocks of [`LINE_BLOCK`] lines pass 1 produces for group 0 and 1.
    pub fn line_blocks(&self) -> [u32; 2] {
        self.lines.map(|n| n.div_ceil(LINE_BLOCK))
    }

    /// Resolves `spec` against a `width`×`height` frame of `layout`.
    pub fn new(
        width: u32,
        height: u32,
        layout: PixelLayout,
        spec: &OutputSpec,
    ) -> Result<FramePlan, GpuError> {
        if spec.width == 0 || spec.height == 0 {
            return Err(GpuError::UnsupportedSpec(format!(
                "output size {}x{} is empty",
                spec.width, spec.height
            )));
        }
        let desc = layout.desc();
        if spec.color.bit_depth != desc.bit_depth {
            return Err(GpuError::SpecMismatch(format!(
                "spec is for {}-bit samples, frame is {} ({}-bit)",
                spec.color.bit_depth,
                layout.ffmpeg_name(),
                desc.bit_depth
            )));
        }
        check_rect(&spec.source_rect, width, height)?;
        let axes = AxisMap::from_affine(&spec.out_to_src)?;
        let scale = spec.scale;
        if !scale.iter().all(|s| s.is_finite() && *s > 0.0) {
            return Err(GpuError::UnsupportedSpec(format!(
                "scale {scale:?} must be positive"
            )));
        }

        let chroma_offset = spec.color.chroma_offset;
        if !chroma_offset.iter().all(|o| o.is_finite()) {
            return Err(GpuError::UnsupportedSpec(
                "chroma offset is not finite".into(),
            ));
        }
        let secondary = 1 - axes.primary_axis;
        let mut grids = [Grid::zeroed(); 2];
        let mut lines = [0u32; 2];
        let mut axes_taps = [None; 4];
        let mut variants = [None; 2];
        let sources = [desc.components[0], desc.components[1]];
        let mut channel = [0u32; 4];
        let bytes_per_sample = desc.planes[0].bytes_per_sample;
        let mut row_bytes = [0, 0, 0, u32::from(bytes_per_sample)];
        let mut texel_bytes = [0u32; 4];
        let (slots, _) = plane_slots(layout, width, height, 0);
        for (c, source) in desc.components.iter().enumerate() {
            if let ComponentSource::Plane { plane, channel: ch } = *source {
                let format = desc.planes[usize::from(plane)];
                channel[c] = u32::from(ch);
                let pitch = slots[usize::from(plane)].pitch;
                row_bytes[c] = u32::try_from(pitch).map_err(|_| GpuError::TooLarge {
                    what: "an input row",
                    limit: "u32 byte offsets",
                    requested: pitch,
                    allowed: u64::from(u32::MAX),
                })?;
                texel_bytes[c] =
                    u32::from(format.bytes_per_sample) * u32::from(format.samples_per_texel);
            }
        }
        for (group, source) in sources.iter().enumerate() {
            let ComponentSource::Plane { plane, .. } = *source else {
                channel[3] = 1;
                continue;
            };
            let format = desc.planes[usize::from(plane)];
            let size = layout
                .plane_size(usize::from(plane), width, height)
                .ok_or_else(|| GpuError::Internal(format!("{layout:?} has no plane {plane}")))?;
            let sub = [
                f64::from(1u32 << format.x_shift),
                f64::from(1u32 << format.y_shift),
            ];
            // Siting only means something along a subsampled axis; a full
            // resolution axis is co-sited whatever the stream's tag says.
            let offset = [
                if format.x_shift > 0 {
                    chroma_offset[0]
                } else {
                    0.0
                },
                if format.y_shift > 0 {
                    chroma_offset[1]
                } else {
                    0.0
                },
            ];
            let rect = &spec.source_rect;
            let (lo_x, hi_x) = texel_range(rect.x0, rect.x1, sub[0], offset[0], size.0);
            let (lo_y, hi_y) = texel_range(rect.y0, rect.y1, sub[1], offset[1], size.1);
            let lo = [lo_x, lo_y];
            let hi = [hi_x, hi_y];
            let count = hi[secondary] - lo[secondary] + 1;
            lines[group] = count as u32;
            let primary = axes.primary_axis;
            let primary_taps = AxisTaps::new(
                spec.width,
                axes.primary,
                sub[primary],
                offset[primary],
                scale[0],
                (lo[primary], hi[primary]),
                0,
            )?
            .in_entries_of(PAIR);
            let one_byte_texels = (group..=2 * group).all(|c| texel_bytes[c] == 1);
            let word_quads = primary == 0 && one_byte_texels;
            let staged = !word_quads
                && primary_taps.stage_quads() <= STAGE_QUADS / (LINE_BLOCK * (group as u32 + 1));
            variants[group] = Some(PrimaryVariant {
                group: group as u8,
                axis: primary as u8,
                staged,
                word_quads,
                two_blocks: group == 0 && !staged && primary_taps.widest() >= TWO_BLOCK_QUADS,
            });
            axes_taps[group] = Some(primary_taps);
            axes_taps[2 + group] = Some(
                AxisTaps::new(
                    spec.height,
                    axes.secondary,
                    sub[secondary],
                    offset[secondary],
                    scale[1],
                    (lo[secondary], hi[secondary]),
                    lo[secondary],
                )?
                .in_entries_of(PAIR),
            );
            grids[group] = Grid {
                size_lo: [size.0 as i32, size.1 as i32, lo_x, lo_y],
                hi_lines: [hi_x, hi_y, lo[secondary], count],
                sub_off: [
                    sub[0] as f32,
                    sub[1] as f32,
                    offset[0] as f32,
                    offset[1] as f32,
                ],
            };
        }

        let color = &spec.color;
        let words_per_pixel = match color.output {
            OutputEncoding::Srgb8 => 1,
            OutputEncoding::Pq16 | OutputEncoding::Hlg16 => 2,
        };
        let gamut_identity = is_identity(&color.gamut);
        let passthrough = color.tone_map.is_none()
            && gamut_identity
            && matches!(
                (color.transfer, color.output),
                (TransferFunction::Sdr, OutputEncoding::Srgb8)
                    | (TransferFunction::Pq, OutputEncoding::Pq16)
                    | (TransferFunction::Hlg, OutputEncoding::Hlg16)
            );
        if !passthrough && color.output != OutputEncoding::Srgb8 {
            return Err(GpuError::UnsupportedSpec(format!(
                "{:?} output keeps the source signal, so it needs a matching transfer ({:?}), \
                 identity gamut and no tone map",
                color.output, color.transfer
            )));
        }
        let mut flags = 0;
        if passthrough {
            flags |= FLAG_PASSTHROUGH;
        }
        if !gamut_identity {
            flags |= FLAG_GAMUT;
        }
        let transfer = match color.transfer {
            TransferFunction::Sdr => TRANSFER_SDR,
            TransferFunction::Pq => TRANSFER_PQ,
            TransferFunction::Hlg => TRANSFER_HLG,
        };
        let mut tone = [0.0f32; 4];
        let mut tone2 = [0.0, 0.0, DEFAULT_SDR_WHITE as f32, 0.0];
        let mut hlg = [DEFAULT_HLG_GAMMA as f32, DEFAULT_HLG_PEAK as f32, 0.0, 0.0];
        if let Some(tm) = &color.tone_map {
            let curve = Eetf::new(tm)?;
            flags |= FLAG_TONE_MAP;
            tone = [
                curve.black_pq as f32,
                curve.peak_pq as f32,
                curve.knee as f32,
                curve.max_lum as f32,
            ];
            tone2 = [
                curve.min_lum as f32,
                curve.target_black as f32,
                tm.target_peak as f32,
                0.0,
            ];
            hlg = [tm.hlg_system_gamma as f32, tm.source_peak as f32, 0.0, 0.0];
        }

        let mut yuv = [[0.0f32; 4]; 3];
        let mut gamut = [[0.0f32; 4]; 3];
        for r in 0..3 {
            for c in 0..3 {
                yuv[r][c] = color.yuv_to_rgb[r][c] as f32;
                gamut[r][c] = color.gamut[r][c] as f32;
            }
            yuv[r][3] = color.yuv_offset[r] as f32;
        }
        let mut luma_src = [0.0f32; 4];
        for (j, weight) in luma_src.iter_mut().take(3).enumerate() {
            *weight = (0..3).map(|i| LUMA_709[i] * color.gamut[i][j]).sum::<f64>() as f32;
        }
        // The shaders read samples as integers; `sample_scale` expects them
        // as unorm of their container.
        let container_max = 2f64.powi(8 * i32::from(bytes_per_sample)) - 1.0;
        let depth = i32::from(desc.bit_depth);
        let neutral = f64::from(1u32 << (depth - 1)) / (2f64.powi(depth) - 1.0);
        let all_finite = color
            .yuv_to_rgb
            .iter()
            .chain(color.gamut.iter())
            .flatten()
            .chain(color.yuv_offset.iter())
            .all(|v| v.is_finite())
            && color.sample_scale.is_finite();
        if !all_finite {
            return Err(GpuError::UnsupportedSpec(
                "colour matrices must be finite".into(),
            ));
        }

        let taps = TapTables::new(axes_taps)?;
        let params = Params {
            out_size: [
                spec.width,
                spec.height,
                axes.primary_axis as u32,
                words_per_pixel,
            ],
            map: [
                axes.primary.0 as f32,
                axes.primary.1 as f32,
                axes.secondary.0 as f32,
                axes.secondary.1 as f32,
            ],
            scale: [scale[0] as f32, scale[1] as f32, 0.0, 0.0],
            grid: grids,
            channel,
            row_bytes,
            texel_bytes,
            yuv,
            gamut,
            luma_src,
            luma_out: [
                LUMA_709[0] as f32,
                LUMA_709[1] as f32,
                LUMA_709[2] as f32,
                0.0,
            ],
            tone,
            tone2,
            hlg,
            sample: [
                (color.sample_scale / container_max) as f32,
                neutral as f32,
                0.0,
                0.0,
            ],
            taps: taps.bases,
        };
        Ok(FramePlan {
            params,
            out_width: spec.width,
            out_height: spec.height,
            lines,
            words_per_pixel,
            taps,
            primary: variants,
            secondary: SecondaryVariant { transfer, flags },
        })
    }
}

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
    bases: [u32; 4],
    words: u32,
}

impl TapTables {
    fn new(axes: [Option<AxisTaps>; 4]) -> Result<TapTables, GpuError> {
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
struct AxisTaps {
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
    fn new(
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
    fn centre(&self, o: u32) -> f64 {
        let u = self.map.0 * (f64::from(o) + 0.5) + self.map.1;
        (u - 0.5 - self.offset) / self.sub + 0.5
    }

    /// First and last tap of output `o` before clamping.
    fn reach(&self, o: u32) -> (i64, i64) {
        let p = self.centre(o);
        let radius = LOBES * self.stretch;
        (
            (p - 0.5 - radius).ceil() as i64,
            (p - 0.5 + radius).floor() as i64,
        )
    }

    /// First and last texel output `o` reads.
    fn span(&self, o: u32) -> (i32, i32) {
        let (first, last) = self.reach(o);
        let clamp = |k: i64| k.clamp(i64::from(self.lo), i64::from(self.hi)) as i32;
        (clamp(first), clamp(last))
    }

    /// The same taps with `columns` neighbouring outputs per table entry.
    fn in_entries_of(self, columns: u32) -> AxisTaps {
        AxisTaps { columns, ..self }
    }

    /// Table entries: one per `columns` neighbouring outputs.
    fn entries(&self) -> u32 {
        self.outputs.div_ceil(self.columns)
    }

    /// The outputs of entry `e`.
    fn outputs_of(&self, e: u32) -> std::ops::Range<u32> {
        e * self.columns..((e + 1) * self.columns).min(self.outputs)
    }

    /// Where entry `e` starts, relative to `origin` and rounded down to a
    /// multiple of four, and how many weight quads reach past the last
    /// texel of any of its outputs.
    fn quads(&self, e: u32) -> (i32, u32) {
        let spans = self.outputs_of(e).map(|o| self.span(o));
        let (first, last) = spans.fold((i32::MAX, i32::MIN), |(f, l), (a, b)| (f.min(a), l.max(b)));
        // `first` is at or after `lo`, itself at or after `origin`.
        let start = (first - self.origin) & !3;
        (start, ((last - self.origin + 1 - start) as u32).div_ceil(4))
    }

    /// Quads in the widest entry.
    fn widest(&self) -> u32 {
        (0..self.entries())
            .map(|e| self.quads(e).1)
            .max()
            .unwrap_or(0)
    }

    /// The most texel quads one pass-1 workgroup spans (per line and
    /// component), as the shader bounds them: from the lower of its end
    /// entries' first quads to the further of their last. Spans move
    /// monotonically with the output, so the end entries bound the rest.
    fn stage_quads(&self) -> u32 {
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

    fn words(&self) -> u64 {
        let quads: u64 = (0..self.entries())
            .map(|e| u64::from(self.quads(e).1))
            .sum();
        4 * (u64::from(self.entries()) + u64::from(self.columns) * quads)
    }

    /// Headers, then per entry and quad one weight vec4 per column (zeros
    /// for a column past the last output).
    fn write(&self, out: &mut Vec<u32>) {
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
    fn write_weights(&self, o: u32, start: i32, quads: u32, out: &mut Vec<u32>) {
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

fn lanczos3(x: f64) -> f64 {
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

/// The two one-dimensional maps an axis-aligned affine splits into.
#[derive(Debug, Clone, Copy, PartialEq)]
struct AxisMap {
    /// The source axis (0 = x, 1 = y) that output x runs along.
    primary_axis: usize,
    /// `(a, b)` with `src[primary_axis] = a·(x + 0.5) + b`.
    primary: (f64, f64),
    /// `(a, b)` with `src[1 - primary_axis] = a·(y + 0.5) + b`.
    secondary: (f64, f64),
}

impl AxisMap {
    /// Splits `affine`, which must be one of the eight axis-aligned
    /// orientations times a scale: what makes two separable passes exact.
    fn from_affine(affine: &Affine2) -> Result<AxisMap, GpuError> {
        let [[m00, m01], [m10, m11]] = affine.m;
        let values = [m00, m01, m10, m11, affine.t[0], affine.t[1]];
        if !values.iter().all(|v| v.is_finite()) {
            return Err(GpuError::UnsupportedSpec(
                "the output → source map is not finite".into(),
            ));
        }
        let norm = m00.abs().max(m01.abs()).max(m10.abs()).max(m11.abs());
        let tiny = norm * 1e-9;
        if norm == 0.0 {
            return Err(GpuError::UnsupportedSpec(
                "the output → source map is singular".into(),
            ));
        }
        if m01.abs() <= tiny && m10.abs() <= tiny && m00.abs() > tiny && m11.abs() > tiny {
            Ok(AxisMap {
                primary_axis: 0,
                primary: (m00, affine.t[0]),
                secondary: (m11, affine.t[1]),
            })
        } else if m00.abs() <= tiny && m11.abs() <= tiny && m01.abs() > tiny && m10.abs() > tiny {
            Ok(AxisMap {
                primary_axis: 1,
                primary: (m10, affine.t[1]),
                secondary: (m01, affine.t[0]),
            })
        } else {
            Err(GpuError::UnsupportedSpec(format!(
                "the output → source map {:?} is not axis-aligned",
                affine.m
            )))
        }
    }
}

fn check_rect(rect: &Rect, width: u32, height: u32) -> Result<(), GpuError> {
    let slack = 1e-6;
    let ok = [rect.x0, rect.y0, rect.x1, rect.y1]
        .iter()
        .all(|v| v.is_finite())
        && rect.x0 >= -slack
        && rect.y0 >= -slack
        && rect.x1 <= f64::from(width) + slack
        && rect.y1 <= f64::from(height) + slack
        && rect.x0 < rect.x1
        && rect.y0 < rect.y1;
    if ok {
        Ok(())
    } else {
        Err(GpuError::SpecMismatch(format!(
            "source rectangle {rect:?} is not a non-empty part of the {width}x{height} frame"
        )))
    }
}

/// First and last texel of a plane whose centres lie inside `[u0, u1]` (luma
/// coordinates), for a plane subsampled by `sub` with its first sample
/// `offset` luma samples after the first luma sample. A rectangle thinner
/// than one texel keeps the texel nearest its middle.
fn texel_range(u0: f64, u1: f64, sub: f64, offset: f64, size: u32) -> (i32, i32) {
    let to_plane = |u: f64| (u - 0.5 - offset) / sub + 0.5;
    let last = f64::from(size) - 1.0;
    let lo = (to_plane(u0) - 0.5).ceil().clamp(0.0, last);
    let hi = (to_plane(u1) - 0.5).floor().clamp(0.0, last);
    if lo <= hi {
        (lo as i32, hi as i32)
    } else {
        let mid = (to_plane(0.5 * (u0 + u1)) - 0.5).round().clamp(0.0, last) as i32;
        (mid, mid)
    }
}

fn is_identity(m: &[[f64; 3]; 3]) -> bool {
    (0..3).all(|r| (0..3).all(|c| (m[r][c] - if r == c { 1.0 } else { 0.0 }).abs() < 1e-6))
}

/// SMPTE ST 2084 inverse EOTF: absolute luminance (cd/m²) to signal.
pub fn pq_encode(nits: f64) -> f64 {
    const M1: f64 = 2610.0 / 16384.0;
    const M2: f64 = 2523.0 / 4096.0 * 128.0;
    const C1: f64 = 3424.0 / 4096.0;
    const C2: f64 = 2413.0 / 4096.0 * 32.0;
    const C3: f64 = 2392.0 / 4096.0 * 32.0;
    let y = (nits / 10000.0).clamp(0.0, 1.0).powf(M1);
    ((C1 + C2 * y) / (1.0 + C3 * y)).powf(M2)
}

/// Where the EETF's roll-off starts: `KS = (1 + offset)·maxLum − offset`.
/// BT.2390 writes 0.5; libplacebo (the reference the render module's tone
/// mapping parameters follow) defaults to 1.0, a longer, gentler shoulder
/// that keeps more highlight detail when 1000 cd/m² meets a 203 cd/m² white.
pub const KNEE_OFFSET: f64 = 1.0;

/// Contrast of the SDR display tone mapping aims at (BT.1886's usual
/// 1000:1, libplacebo's `PL_COLOR_SDR_CONTRAST`). Its black is where the
/// EETF's black-level lift puts the source black, so shadow detail stays
/// above the display's black instead of being crushed into it.
pub const SDR_CONTRAST: f64 = 1000.0;

/// The BT.2390 EETF constants in the PQ domain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eetf {
    pub black_pq: f64,
    pub peak_pq: f64,
    /// Knee start `KS` (see [`KNEE_OFFSET`]); at or above 1 the curve is
    /// the identity (the target holds the whole source range).
    pub knee: f64,
    /// Target peak, normalised to the source range.
    pub max_lum: f64,
    /// Target black, normalised to the source range (0 when the source is
    /// darker than the target can show anyway).
    pub min_lum: f64,
    /// Target black in cd/m².
    pub target_black: f64,
}

impl Eetf {
    pub fn new(tm: &ToneMap) -> Result<Eetf, GpuError> {
        let valid = [
            tm.source_peak,
            tm.source_black,
            tm.target_peak,
            tm.hlg_system_gamma,
        ]
        .iter()
        .all(|v| v.is_finite())
            && tm.source_black >= 0.0
            && tm.source_peak > tm.source_black
            && tm.target_peak > 0.0
            && tm.hlg_system_gamma > 0.0;
        if !valid {
            return Err(GpuError::UnsupportedSpec(format!(
                "tone map parameters {tm:?} are out of range"
            )));
        }
        let black_pq = pq_encode(tm.source_black);
        let peak_pq = pq_encode(tm.source_peak);
        if peak_pq - black_pq < 1e-6 {
            return Err(GpuError::UnsupportedSpec(format!(
                "tone map source range {}–{} cd/m² is empty",
                tm.source_black, tm.source_peak
            )));
        }
        let normalise = |nits: f64| (pq_encode(nits) - black_pq) / (peak_pq - black_pq);
        let target_black = tm.target_peak / SDR_CONTRAST;
        let max_lum = normalise(tm.target_peak);
        Ok(Eetf {
            black_pq,
            peak_pq,
            knee: (1.0 + KNEE_OFFSET) * max_lum - KNEE_OFFSET,
            max_lum,
            min_lum: normalise(target_black).max(0.0),
            target_black,
        })
    }

    /// The curve on a normalised PQ value `e1` in `[0, 1]`, as the shader
    /// evaluates it (kept here so tests can pin its shape): the Hermite
    /// roll-off above the knee, then the black-level lift.
    pub fn apply_normalised(&self, e1: f64) -> f64 {
        let e2 = if e1 <= self.knee || self.knee >= 1.0 {
            e1
        } else {
            let t = (e1 - self.knee) / (1.0 - self.knee);
            let (t2, t3) = (t * t, t * t * t);
            (2.0 * t3 - 3.0 * t2 + 1.0) * self.knee
                + (t3 - 2.0 * t2 + t) * (1.0 - self.knee)
                + (-2.0 * t3 + 3.0 * t2) * self.max_lum
        };
        e2 + self.min_lum * (1.0 - e2).max(0.0).powi(4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::color::{ColorPrimaries, HdrFormat};
    use crate::render::spec::ColorSpec;

    fn spec(width: u32, height: u32, affine: Affine2, rect: Rect, bits: u8) -> OutputSpec {
        OutputSpec {
            width,
            height,
            out_to_src: affine,
            source_rect: rect,
            scale: [1.0, 1.0],
            color: ColorSpec {
                bit_depth: bits,
                sample_scale: 1.0,
                yuv_to_rgb: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
                yuv_offset: [0.0; 3],
                chroma_offset: [0.0, 0.5],
                transfer: TransferFunction::Sdr,
                source_primaries: ColorPrimaries::Bt709,
                gamut: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
                tone_map: None,
                output: OutputEncoding::Srgb8,
            },
        }
    }

    const IDENTITY: Affine2 = Affine2 {
        m: [[1.0, 0.0], [0.0, 1.0]],
        t: [0.0, 0.0],
    };

    fn full(width: f64, height: f64) -> Rect {
        Rect {
            x0: 0.0,
            y0: 0.0,
            x1: width,
            y1: height,
        }
    }

    #[test]
    fn params_layout_is_vec4_aligned() {
        assert_eq!(std::mem::size_of::<Grid>(), 48);
        assert_eq!(std::mem::size_of::<Params>() % 16, 0);
        assert_eq!(std::mem::size_of::<Params>(), 400);
    }

    #[test]
    fn yuv420_grids_cover_the_planes() {
        let plan = FramePlan::new(
            33,
            17,
            PixelLayout::Yuv420p,
            &spec(33, 17, IDENTITY, full(33.0, 17.0), 8),
        )
        .unwrap();
        let luma = plan.params.grid[0];
        assert_eq!(luma.size_lo, [33, 17, 0, 0]);
        assert_eq!(luma.hi_lines, [32, 16, 0, 17]);
        let chroma = plan.params.grid[1];
        assert_eq!(chroma.size_lo, [17, 9, 0, 0]);
        // Left siting: chroma row 8 sits at luma y 17.0, outside the last
        // luma centre 16.5 but inside the clamp to the plane.
        assert_eq!(chroma.hi_lines, [16, 8, 0, 9]);
        assert_eq!(chroma.sub_off, [2.0, 2.0, 0.0, 0.5]);
        assert_eq!(plan.lines, [17, 9]);
    }

    #[test]
    fn crop_limits_texels_and_lines() {
        let rect = Rect {
            x0: 4.0,
            y0: 2.0,
            x1: 20.0,
            y1: 10.0,
        };
        let affine = Affine2 {
            m: [[1.0, 0.0], [0.0, 1.0]],
            t: [4.0, 2.0],
        };
        let plan =
            FramePlan::new(32, 16, PixelLayout::Nv12, &spec(16, 8, affine, rect, 8)).unwrap();
        assert_eq!(plan.params.grid[0].size_lo, [32, 16, 4, 2]);
        assert_eq!(plan.params.grid[0].hi_lines, [19, 9, 2, 8]);
        assert_eq!(plan.params.grid[1].size_lo, [16, 8, 2, 1]);
        assert_eq!(plan.params.grid[1].hi_lines, [9, 4, 1, 4]);
    }

    #[test]
    fn rotation_swaps_the_filter_axes() {
        // 90° clockwise: output x runs down the source, output y runs right
        // to left.
        let affine = Affine2 {
            m: [[0.0, 1.0], [1.0, 0.0]],
            t: [0.0, 0.0],
        };
        let plan = FramePlan::new(
            32,
            16,
            PixelLayout::Yuv444p,
            &spec(16, 32, affine, full(32.0, 16.0), 8),
        )
        .unwrap();
        assert_eq!(plan.params.out_size, [16, 32, 1, 1]);
        // Pass 1 runs along source y, so its lines are source columns.
        assert_eq!(plan.lines, [32, 32]);
        assert_eq!(plan.params.grid[0].hi_lines, [31, 15, 0, 32]);
    }

    /// `spec` scaled: `width`×`height` output of the whole `sw`×`sh` frame.
    fn downscale(sw: u32, sh: u32, width: u32, height: u32, bits: u8) -> OutputSpec {
        let (a, b) = (
            f64::from(sw) / f64::from(width),
            f64::from(sh) / f64::from(height),
        );
        let mut s = spec(
            width,
            height,
            Affine2 {
                m: [[a, 0.0], [0.0, b]],
                t: [0.0, 0.0],
            },
            full(f64::from(sw), f64::from(sh)),
            bits,
        );
        s.scale = [a, b];
        s
    }

    #[test]
    fn pass_one_variants_follow_layout_axis_and_reach() {
        // Every direct component-0 variant here spans four quads or more.
        let variant = |group, axis, staged, word_quads| {
            Some(PrimaryVariant {
                group,
                axis,
                staged,
                word_quads,
                two_blocks: group == 0 && !staged,
            })
        };
        let thumb = downscale(1920, 1080, 320, 180, 8);
        let planar = FramePlan::new(1920, 1080, PixelLayout::Yuv420p, &thumb).unwrap();
        assert_eq!(
            planar.primary,
            [variant(0, 0, false, true), variant(1, 0, false, true)]
        );
        // NV12's chroma texels are two bytes: only luma takes whole words,
        // read straight from the plane.
        let nv12 = FramePlan::new(1920, 1080, PixelLayout::Nv12, &thumb).unwrap();
        assert_eq!(
            nv12.primary,
            [variant(0, 0, false, true), variant(1, 0, true, false)]
        );
        let deep = downscale(1920, 1080, 320, 180, 10);
        let p010 = FramePlan::new(1920, 1080, PixelLayout::Yuv420p10, &deep).unwrap();
        assert_eq!(
            p010.primary,
            [variant(0, 0, true, false), variant(1, 0, true, false)]
        );
        // At 1:1 an entry holds two or three quads: one block at a time.
        let native = downscale(1920, 1080, 1920, 1080, 8);
        let native = FramePlan::new(1920, 1080, PixelLayout::Yuv420p, &native).unwrap();
        assert_eq!(
            native.primary.map(|v| v.unwrap().two_blocks),
            [false, false]
        );
        let gray = FramePlan::new(1920, 1080, PixelLayout::Gray8, &thumb).unwrap();
        assert_eq!(gray.primary, [variant(0, 0, false, true), None]);
        // A 40x downscale spans more than the stage holds.
        let steep = downscale(3840, 2160, 96, 54, 10);
        let steep = FramePlan::new(3840, 2160, PixelLayout::Yuv420p10, &steep).unwrap();
        assert_eq!(
            steep.primary,
            [variant(0, 0, false, false), variant(1, 0, false, false)]
        );
        // Rotated, pass 1 runs along y: a word holds neighbouring lines,
        // not neighbouring taps.
        let rotated = spec(
            16,
            32,
            Affine2 {
                m: [[0.0, 1.0], [1.0, 0.0]],
                t: [0.0, 0.0],
            },
            full(32.0, 16.0),
            8,
        );
        let rotated = FramePlan::new(32, 16, PixelLayout::Yuv420p, &rotated).unwrap();
        assert_eq!(
            rotated.primary,
            [variant(0, 1, true, false), variant(1, 1, true, false)]
        );
    }

    #[test]
    fn refuses_what_it_cannot_render() {
        let shear = Affine2 {
            m: [[1.0, 0.2], [0.0, 1.0]],
            t: [0.0, 0.0],
        };
        let bad = FramePlan::new(
            8,
            8,
            PixelLayout::Gray8,
            &spec(8, 8, shear, full(8.0, 8.0), 8),
        );
        assert!(matches!(bad, Err(GpuError::UnsupportedSpec(_))));
        let outside = FramePlan::new(
            8,
            8,
            PixelLayout::Gray8,
            &spec(8, 8, IDENTITY, full(9.0, 8.0), 8),
        );
        assert!(matches!(outside, Err(GpuError::SpecMismatch(_))));
        let depth = FramePlan::new(
            8,
            8,
            PixelLayout::Gray10,
            &spec(8, 8, IDENTITY, full(8.0, 8.0), 8),
        );
        assert!(matches!(depth, Err(GpuError::SpecMismatch(_))));
        let mut hdr_out = spec(8, 8, IDENTITY, full(8.0, 8.0), 8);
        hdr_out.color.output = OutputEncoding::Pq16;
        assert!(matches!(
            FramePlan::new(8, 8, PixelLayout::Gray8, &hdr_out),
            Err(GpuError::UnsupportedSpec(_))
        ));
    }

    #[test]
    fn gray_has_neutral_chroma() {
        let plan = FramePlan::new(
            8,
            8,
            PixelLayout::Gray10,
            &spec(8, 8, IDENTITY, full(8.0, 8.0), 10),
        )
        .unwrap();
        assert_eq!(plan.lines, [8, 0]);
        assert_eq!(plan.params.channel[3], 1);
        assert!((plan.params.sample[1] - 512.0 / 1023.0).abs() < 1e-7);
    }

    #[test]
    fn passthrough_only_without_colour_work() {
        let base = spec(8, 8, IDENTITY, full(8.0, 8.0), 8);
        let plan = FramePlan::new(8, 8, PixelLayout::Gray8, &base).unwrap();
        assert_eq!(plan.secondary.flags, FLAG_PASSTHROUGH);
        let mut wide = base.clone();
        wide.color.gamut[0][1] = 0.1;
        let plan = FramePlan::new(8, 8, PixelLayout::Gray8, &wide).unwrap();
        assert_eq!(plan.secondary.flags, FLAG_GAMUT);
    }

    /// Reads the table at vec4 `base` of `words` back as (first texel,
    /// weights) per output, the way the shader walks it.
    /// Each output's first texel and weights from a table of entries of
    /// [`PAIR`] outputs.
    fn read_table(words: &[u32], base: u32, outputs: u32) -> Vec<(i32, Vec<f32>)> {
        let columns = PAIR as usize;
        (0..outputs as usize)
            .map(|o| {
                let (e, c) = (o / columns, o % columns);
                let h = 4 * (base as usize + e);
                let start = words[h + 1] as usize;
                let weights = (0..words[h + 2] as usize)
                    .flat_map(|t| {
                        let at = 4 * (start + t * columns + c);
                        words[at..at + 4].iter().map(|w| f32::from_bits(*w))
                    })
                    .collect();
                (words[h] as i32, weights)
            })
            .collect()
    }

    /// Index of the first and one past the last non-zero weight.
    fn support(weights: &[f32]) -> (usize, usize) {
        let first = weights.iter().position(|w| *w != 0.0).unwrap();
        let last = weights.iter().rposition(|w| *w != 0.0).unwrap();
        (first, last + 1)
    }

    /// The unclamped Lanczos-3 weights of the shader before the tables:
    /// texel index and weight, normalised by their sum.
    fn direct_taps(centre: f64, stretch: f64) -> Vec<(i64, f64)> {
        let radius = 3.0 * stretch;
        let first = (centre - 0.5 - radius).ceil() as i64;
        let last = (centre - 0.5 + radius).floor() as i64;
        let taps: Vec<_> = (first..=last)
            .map(|k| (k, lanczos3((k as f64 + 0.5 - centre) / stretch)))
            .collect();
        let total: f64 = taps.iter().map(|t| t.1).sum();
        taps.into_iter().map(|(k, w)| (k, w / total)).collect()
    }

    #[test]
    fn tap_tables_fold_edges_into_normalised_weights() {
        // 4:2:0, 1920 wide to 320 (6x): chroma taps widen by 3, luma by 6.
        let mut s = spec(320, 180, IDENTITY, full(1920.0, 1080.0), 8);
        s.out_to_src.m = [[6.0, 0.0], [0.0, 6.0]];
        s.scale = [6.0, 6.0];
        let plan = FramePlan::new(1920, 1080, PixelLayout::Yuv420p, &s).unwrap();
        let mut words = Vec::new();
        plan.taps.write(&mut words);
        assert_eq!(words.len(), plan.taps.words() as usize);
        assert_eq!(plan.params.taps, plan.taps.bases);
        assert_eq!(plan.params.taps[0], 0);

        // (table, outputs, plane extent, stretch, subsampling, siting)
        let cases = [
            (0, 320, 1920, 6.0, 1.0, 0.0),
            (1, 320, 960, 3.0, 2.0, 0.0),
            (2, 180, 1080, 6.0, 1.0, 0.0),
            (3, 180, 540, 3.0, 2.0, 0.5),
        ];
        for (table, outputs, extent, stretch, sub, off) in cases {
            // Outputs come in pairs: each one's weights span the pair's
            // union, a step of the scale (6 luma samples) more than its own.
            let slack = 4 + (PAIR as usize - 1) * (6.0 / sub) as usize;
            let rows = read_table(&words, plan.params.taps[table], outputs);
            for (o, (first, weights)) in rows.iter().enumerate() {
                let sum: f32 = weights.iter().sum();
                assert!((sum - 1.0).abs() < 1e-5, "table {table} output {o}: {sum}");
                // Whole quads from a multiple of four, less than a quad of
                // padding either side of the entry's span (plus an end tap
                // exactly three lobes out, which weighs zero), every
                // non-zero weight on the plane.
                let (lead, end) = support(weights);
                assert!(*first >= 0 && *first % 4 == 0 && weights.len() % 4 == 0);
                assert!(lead <= slack && weights.len() - end <= slack);
                assert!(*first as usize + end <= extent);
                // Every weight is the direct one, edges gathering what
                // lies beyond them.
                let centre = (6.0 * (o as f64 + 0.5) - 0.5 - off) / sub + 0.5;
                let mut expect = vec![0.0f64; weights.len()];
                for (k, w) in direct_taps(centre, stretch) {
                    let kc = k.clamp(0, extent as i64 - 1) - i64::from(*first);
                    expect[kc as usize] += w;
                }
                for (got, want) in weights.iter().zip(&expect) {
                    assert!(
                        (f64::from(*got) - want).abs() < 1e-6,
                        "table {table} output {o}"
                    );
                }
            }
            // Outputs at the edges read fewer texels than the kernel spans.
            let full_taps = 2 * (3.0 * stretch) as usize;
            let taps = |o: usize| {
                let (lead, end) = support(&rows[o].1);
                end - lead
            };
            let middle = taps(outputs as usize / 2);
            assert!(taps(0) < middle);
            // Less one when an end tap falls exactly on a lobe's zero.
            assert!(middle + 1 >= full_taps);
        }
    }

    #[test]
    fn second_pass_taps_count_from_the_first_line() {
        let rect = Rect {
            x0: 0.0,
            y0: 10.0,
            x1: 16.0,
            y1: 26.0,
        };
        let affine = Affine2 {
            m: [[1.0, 0.0], [0.0, 1.0]],
            t: [0.0, 10.0],
        };
        let plan =
            FramePlan::new(16, 32, PixelLayout::Gray8, &spec(16, 16, affine, rect, 8)).unwrap();
        let mut words = Vec::new();
        plan.taps.write(&mut words);
        let rows = read_table(&words, plan.params.taps[2], 16);
        // Output row 0 sits on source line 10, the first pass 1 produced:
        // its taps above the crop all repeat that line, index 0.
        assert_eq!(rows[0].0, 0);
        assert!((rows[0].1[0] - 1.0).abs() < 1e-6, "{:?}", rows[0].1);
        assert!(rows[0].1[1..].iter().all(|w| w.abs() < 1e-6));
        let (first, weights) = &rows[15];
        assert_eq!(*first as usize + weights.len(), 16);
    }

    #[test]
    fn absurd_filter_reach_is_refused() {
        let mut s = spec(8, 8, IDENTITY, full(8.0, 8.0), 8);
        s.scale = [1e9, 1.0];
        assert!(matches!(
            FramePlan::new(8, 8, PixelLayout::Gray8, &s),
            Err(GpuError::UnsupportedSpec(_))
        ));
        let mut far = spec(8, 8, IDENTITY, full(8.0, 8.0), 8);
        far.out_to_src.t = [1e12, 0.0];
        assert!(matches!(
            FramePlan::new(8, 8, PixelLayout::Gray8, &far),
            Err(GpuError::UnsupportedSpec(_))
        ));
    }

    #[test]
    fn pq_matches_st2084_anchor_points() {
        assert!((pq_encode(10000.0) - 1.0).abs() < 1e-12);
        assert!(pq_encode(0.0).abs() < 1e-6);
        // 100 cd/m² → 0.5081, 1000 cd/m² → 0.7518 (BT.2100 tables).
        assert!((pq_encode(100.0) - 0.5081).abs() < 1e-4);
        assert!((pq_encode(1000.0) - 0.7518).abs() < 1e-4);
    }

    #[test]
    fn eetf_rolls_off_above_the_knee_and_lifts_the_source_black() {
        let tm = ToneMap {
            format: HdrFormat::Pq,
            source_peak: 1000.0,
            source_black: 0.005,
            target_peak: 203.0,
            hlg_system_gamma: 1.2,
        };
        let curve = Eetf::new(&tm).unwrap();
        assert!(curve.knee > 0.0 && curve.knee < 1.0);
        assert!((curve.target_black - 0.203).abs() < 1e-12);
        assert!(curve.min_lum > 0.0 && curve.min_lum < 0.1);
        // The source black lands on the target black, the source peak on the
        // target peak (plus a lift of minLum·(1 − maxLum)⁴, far below a code).
        assert!((curve.apply_normalised(0.0) - curve.min_lum).abs() < 1e-12);
        let top = curve.apply_normalised(1.0) - curve.max_lum;
        assert!((0.0..1e-3).contains(&top), "{top}");
        // Below the knee only the lift, which fades towards the knee.
        let mid = curve.knee * 0.5;
        let lift = curve.apply_normalised(mid) - mid;
        assert!(lift > 0.0 && lift < curve.min_lum);
        let mut last = 0.0;
        for i in 0..=100 {
            let v = curve.apply_normalised(f64::from(i) / 100.0);
            assert!(v > last, "monotonic at {i}");
            last = v;
        }
        // A target brighter than the source needs no roll-off.
        let bright = Eetf::new(&ToneMap {
            target_peak: 2000.0,
            ..tm
        })
        .unwrap();
        assert!(bright.knee >= 1.0);
        assert!(Eetf::new(&ToneMap {
            source_peak: 0.0,
            ..tm
        })
        .is_err());
    }
}
