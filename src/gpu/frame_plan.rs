//! Everything a frame needs besides its pixels, resolved on the host from
//! an [`OutputSpec`] and the picture as the input stage bound it: the
//! uniform block, the working buffer and dispatch sizes, the tap tables and
//! the variant of each pass. Pure arithmetic: every geometric and colour
//! decision is made here so it can be tested without a device, and the
//! shaders only evaluate it.

use bytemuck::Zeroable;

use crate::picture::{ColorModel, ComponentSource, PictureDesc, PlaneDesc};
use crate::render::spec::{Affine2, OutputEncoding, OutputSpec, Rect, TransferFunction};
use crate::render::tone::Eetf;

use super::bands::{Band, BandFrame, BindingRows, GroupLines, RowsRead};
use super::params::{
    Grid, Params, FLAG_GAMUT, FLAG_PASSTHROUGH, FLAG_TONE_MAP, TRANSFER_HLG, TRANSFER_PQ,
    TRANSFER_SDR,
};
use super::shaders::InputKind;
use super::taps::{AxisTaps, TapTables};
use super::upload::{plane_slots, PARAMS_SLOT};
use super::variants::{
    PrimaryVariant, SecondaryVariant, LINE_BLOCK, PAIR, STAGE_QUADS, TWO_BLOCK_QUADS,
};
use super::GpuError;

/// BT.709 luminance weights: the output primaries of every linearised path.
const LUMA_709: [f64; 3] = [0.2126, 0.7152, 0.0722];
/// BT.2408 reference white, used when HDR reaches SDR without a tone map.
const DEFAULT_SDR_WHITE: f64 = 203.0;
const DEFAULT_HLG_GAMMA: f64 = 1.2;
const DEFAULT_HLG_PEAK: f64 = 1000.0;

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
    /// The pass-1 variant of group 0 and 1, and of alpha on each group's
    /// grid (and line blocks); `None` for a group without a plane (gray's
    /// chroma), for a picture without alpha, and for alpha on group 1's
    /// grid where it is group 0's.
    pub primary: [Option<PrimaryVariant>; 4],
    pub secondary: SecondaryVariant,
}

impl FramePlan {
    /// Blocks of [`LINE_BLOCK`] lines pass 1 produces for group 0 and 1.
    pub fn line_blocks(&self) -> [u32; 2] {
        self.lines.map(|n| n.div_ceil(LINE_BLOCK))
    }

    /// Blocks of output columns the component-0 buffer holds: component
    /// 0's, then alpha's on each grid that has it.
    pub fn mid0_blocks(&self) -> u32 {
        let [b0, b1] = self.line_blocks();
        b0 + self.primary[2].map_or(0, |_| b0) + self.primary[3].map_or(0, |_| b1)
    }

    /// The frame as the band planner sees it, its input bound as the
    /// buffer ranges `bindings` (offset, size) of component 0, 1, 2 and
    /// alpha, or as images (`None`).
    pub fn band_frame(&self, bindings: Option<[(u64, u64); 4]>) -> BandFrame {
        let p = &self.params;
        let [b0, b1] = self.line_blocks();
        let groups = [0, 1].map(|g| {
            let grid = &p.grid[g];
            self.primary[g].map(|_| GroupLines {
                entry_blocks: self.taps.secondary_blocks(g).unwrap_or_default(),
                blocks: [b0, b1][g],
                rows: if p.out_size[2] == 0 {
                    RowsRead::Lines {
                        first_line: grid.hi_lines[2] as u32,
                        lines: grid.hi_lines[3] as u32,
                    }
                } else {
                    RowsRead::Fixed {
                        first: grid.size_lo[3] as u32,
                        last: grid.hi_lines[1] as u32,
                    }
                },
            })
        });
        let colour = self.primary[1].is_some();
        let alpha = self.primary[2].is_some();
        // Alpha on the luma grid is read for each colour texel of the
        // subsampled grid: `sub` rows per line.
        let sub = p.grid[1].sub_off[1].max(1.0) as u32;
        let reads = [
            [Some((0, 1)), None],
            [colour.then_some((1, 1)), None],
            [colour.then_some((1, 1)), None],
            if alpha {
                [Some((0, 1)), colour.then_some((1, sub))]
            } else {
                [None, None]
            },
        ];
        let bindings = bindings.map(|bindings| {
            let mut k = 0;
            bindings.map(|(offset, size)| {
                let (plane_base, pitch) = if k < 3 {
                    (p.plane_base[k], p.row_bytes[k])
                } else {
                    (p.alpha[3], p.alpha[1])
                };
                let rows = BindingRows {
                    offset,
                    size,
                    plane_base: u64::from(plane_base),
                    pitch: u64::from(pitch),
                    reads: reads[k],
                };
                k += 1;
                rows
            })
        });
        BandFrame {
            out_width: self.out_width,
            out_height: self.out_height,
            words_per_pixel: self.words_per_pixel,
            groups,
            alpha_grids: [alpha, self.primary[3].is_some()],
            bindings,
        }
    }

    /// The uniforms of one band (`bands.rs`) of this frame: its rows and
    /// blocks, alpha's place after its component-0 blocks, and, where its
    /// input bindings start at `inputs` instead of the frame's `bound`
    /// offsets, each plane's offset rebased onto them (modulo 2^32, as the
    /// shaders add rows to it).
    pub fn band_params(&self, band: &Band, bound: [u64; 4], inputs: Option<[u64; 4]>) -> Params {
        let mut params = self.params;
        let [b0, b1] = &band.blocks;
        params.band = [band.entries.start, band.entries.end, 0, 0];
        params.blocks = [b0.start, b0.end, b1.start, b1.end];
        if self.primary[2].is_some() {
            let blocks = b0.len() as u32;
            params.plane_base[3] = self.out_width * blocks;
            params.texel_bytes[3] = self.out_width * 2 * blocks;
        }
        if let Some(inputs) = inputs {
            let rebase =
                |base: u32, k: usize| (u64::from(base) + bound[k]).wrapping_sub(inputs[k]) as u32;
            for k in 0..3 {
                params.plane_base[k] = rebase(params.plane_base[k], k);
            }
            params.alpha[3] = rebase(params.alpha[3], 3);
        }
        params
    }

    /// Resolves `spec` against `picture` as the input stage bound it. For
    /// buffer input each plane's offset is its first byte in the binding of
    /// the components read from it, and its pitch the row step there; image
    /// input has neither.
    pub fn new(
        picture: &PictureDesc,
        spec: &OutputSpec,
        input: InputKind,
    ) -> Result<FramePlan, GpuError> {
        let (width, height, layout) = (picture.width, picture.height, picture.format);
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
        let mut variants = [None; 4];
        let sources = [desc.components[0], desc.components[1]];
        let alpha_source = if picture.alpha { desc.alpha } else { None };
        let mut alpha = [0u32; 4];
        if let Some(ComponentSource::Plane { plane, channel: ch }) = alpha_source {
            let format = desc.planes[usize::from(plane)];
            alpha[0] = u32::from(ch);
            alpha[2] = u32::from(format.bytes_per_sample) * u32::from(format.samples_per_texel);
            if input == InputKind::Buffer {
                (alpha[1], alpha[3]) = word_addressed(plane, picture.planes[usize::from(plane)])?;
            }
        }
        let premultiply = alpha_source.is_some();
        let mut channel = [0u32; 4];
        let bytes_per_sample = desc.planes[0].bytes_per_sample;
        let mut row_bytes = [0, 0, 0, u32::from(bytes_per_sample)];
        let mut texel_bytes = [0u32; 4];
        let mut plane_base = [0u32; 4];
        for (c, source) in desc.components.iter().enumerate() {
            if let ComponentSource::Plane { plane, channel: ch } = *source {
                let format = desc.planes[usize::from(plane)];
                channel[c] = u32::from(ch);
                texel_bytes[c] =
                    u32::from(format.bytes_per_sample) * u32::from(format.samples_per_texel);
                if input == InputKind::Image {
                    continue;
                }
                (row_bytes[c], plane_base[c]) =
                    word_addressed(plane, picture.planes[usize::from(plane)])?;
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
            // Premultiplying reads alpha beside each texel, which the
            // whole-word quads do not.
            let word_quads =
                input == InputKind::Buffer && primary == 0 && one_byte_texels && !premultiply;
            let staged = !word_quads
                && primary_taps.stage_quads() <= STAGE_QUADS / (LINE_BLOCK * (group as u32 + 1));
            let variant = PrimaryVariant {
                group: group as u8,
                axis: primary as u8,
                staged,
                word_quads,
                two_blocks: group == 0 && !staged && primary_taps.widest() >= TWO_BLOCK_QUADS,
                alpha: false,
                premultiply,
                alpha_grid: 0,
            };
            variants[group] = Some(variant);
            // Alpha on each grid the colour lies on, with the grid's taps:
            // luma's, and a subsampled colour grid's.
            let subsampled = format.x_shift > 0 || format.y_shift > 0;
            if premultiply && (group == 0 || subsampled) {
                variants[2 + group] = Some(PrimaryVariant {
                    group: 0,
                    two_blocks: group == 0 && variant.two_blocks,
                    alpha: true,
                    premultiply: false,
                    alpha_grid: group as u8,
                    ..variant
                });
            }
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
        // Colour is premultiplied about the neutral chroma as an integer in
        // its container (0 for RGB): the centre cancels out wherever the
        // colour and alpha share a grid, and where subsampled chroma does
        // not, grey is the least wrong guess.
        let premultiply_centre = match desc.model {
            ColorModel::Yuv if premultiply => neutral * container_max / color.sample_scale,
            _ => 0.0,
        };
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

        if premultiply {
            // Pass 1's alpha follows component 0's blocks in their buffer,
            // luma's grid first.
            let blocks = u64::from(lines[0].div_ceil(LINE_BLOCK));
            let base = |blocks: u64| {
                u32::try_from(u64::from(spec.width) * blocks).map_err(|_| GpuError::TooLarge {
                    what: "the first-pass luma buffer",
                    limit: "u32 offsets",
                    requested: u64::from(spec.width) * blocks,
                    allowed: u64::from(u32::MAX),
                })
            };
            plane_base[3] = base(blocks)?;
            texel_bytes[3] = base(2 * blocks)?;
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
            plane_base,
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
                (1.0 / (2f64.powi(depth) - 1.0)) as f32,
                premultiply_centre as f32,
            ],
            taps: taps.bases,
            alpha,
            band: [0, spec.height.div_ceil(PAIR), 0, 0],
            blocks: [
                0,
                lines[0].div_ceil(LINE_BLOCK),
                0,
                lines[1].div_ceil(LINE_BLOCK),
            ],
        };
        Ok(FramePlan {
            params,
            out_width: spec.width,
            out_height: spec.height,
            lines,
            words_per_pixel,
            taps,
            primary: variants,
            secondary: SecondaryVariant {
                transfer,
                flags,
                alpha: premultiply,
                chroma_alpha: variants[3].is_some(),
            },
        })
    }
}

/// The memory a request holds while `picture` is rendered as `spec`
/// describes, in bytes: the decoded frame, its planes uploaded (a staging
/// buffer and the storage buffer the shaders read), the pass-1 buffers,
/// the output and readback buffers, the tap tables and the image handed
/// back; to deinterlace, also the stage's output (the planes again) and
/// the previous picture the motion-adaptive filter reads (decoded, and
/// uploaded). The working buffers are counted as if the frame ran in one
/// band, an upper bound: bands only shrink them.
pub fn frame_memory(picture: &PictureDesc, spec: &OutputSpec) -> Result<u64, GpuError> {
    let format = picture.format;
    let decoded: u64 = (0..format.desc().planes.len())
        .filter_map(|index| picture.plane_extent(index))
        .map(|(row, rows)| row * u64::from(rows))
        .sum();
    let (slots, uploaded) = plane_slots(format, picture.width, picture.height, PARAMS_SLOT);
    let mut bound = *picture;
    for (plane, slot) in bound.planes.iter_mut().zip(&slots) {
        *plane = PlaneDesc {
            offset: 0,
            pitch: slot.pitch,
        };
    }
    let plan = FramePlan::new(&bound, spec, InputKind::Buffer)?;
    let width = u64::from(plan.out_width);
    let [_, b1] = plan.line_blocks();
    let image = width * u64::from(plan.out_height) * u64::from(plan.words_per_pixel) * 4;
    let working = width * u64::from(plan.mid0_blocks()) * 16
        + width * u64::from(b1) * 32
        + 2 * image
        + u64::from(plan.taps.words()) * 4;
    let deinterlacing = match spec.deinterlace {
        Some(_) => decoded.saturating_add(2 * uploaded),
        None => 0,
    };
    Ok(decoded
        .saturating_add(2 * uploaded)
        .saturating_add(working)
        .saturating_add(image)
        .saturating_add(deinterlacing))
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

/// A buffer-bound plane's pitch and offset as the shaders address it:
/// they load whole words and address bytes with u32.
fn word_addressed(plane: u8, bound: PlaneDesc) -> Result<(u32, u32), GpuError> {
    if bound.pitch % 4 != 0 || bound.offset % 4 != 0 {
        return Err(GpuError::UnalignedPlane {
            plane: plane.into(),
            offset: bound.offset,
            pitch: bound.pitch,
        });
    }
    let word_offset = |value: u64, what| {
        u32::try_from(value).map_err(|_| GpuError::TooLarge {
            what,
            limit: "u32 byte offsets",
            requested: value,
            allowed: u64::from(u32::MAX),
        })
    };
    Ok((
        word_offset(bound.pitch, "an input row")?,
        word_offset(bound.offset, "an input plane's offset")?,
    ))
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
pub(super) fn texel_range(u0: f64, u1: f64, sub: f64, offset: f64, size: u32) -> (i32, i32) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::color::{ColorInfo, HdrInfo};
    use crate::gpu::taps::lanczos3;
    use crate::picture::DecodedFormat;

    /// `spec` planned for a `width`×`height` picture of `format` bound as
    /// the upload path binds it: each plane from the start of its binding,
    /// rows padded to whole words.
    fn bound_plan(
        width: u32,
        height: u32,
        format: DecodedFormat,
        spec: &OutputSpec,
    ) -> Result<FramePlan, GpuError> {
        let mut picture =
            PictureDesc::packed(width, height, format, ColorInfo::UNSPECIFIED, HdrInfo::SDR)
                .unwrap();
        for plane in picture.planes.iter_mut() {
            *plane = PlaneDesc {
                offset: 0,
                pitch: plane.pitch.div_ceil(4) * 4,
            };
        }
        FramePlan::new(&picture, spec, InputKind::Buffer)
    }
    use crate::asset::color::ColorPrimaries;
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
            deinterlace: None,
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
    fn yuv420_grids_cover_the_planes() {
        let plan = bound_plan(
            33,
            17,
            DecodedFormat::Yuv420p,
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
        let plan = bound_plan(32, 16, DecodedFormat::Nv12, &spec(16, 8, affine, rect, 8)).unwrap();
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
        let plan = bound_plan(
            32,
            16,
            DecodedFormat::Yuv444p,
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
                alpha: false,
                premultiply: false,
                alpha_grid: 0,
            })
        };
        let thumb = downscale(1920, 1080, 320, 180, 8);
        let planar = bound_plan(1920, 1080, DecodedFormat::Yuv420p, &thumb).unwrap();
        assert_eq!(
            planar.primary,
            [
                variant(0, 0, false, true),
                variant(1, 0, false, true),
                None,
                None
            ]
        );
        // NV12's chroma texels are two bytes: only luma takes whole words,
        // read straight from the plane.
        let nv12 = bound_plan(1920, 1080, DecodedFormat::Nv12, &thumb).unwrap();
        assert_eq!(
            nv12.primary,
            [
                variant(0, 0, false, true),
                variant(1, 0, true, false),
                None,
                None
            ]
        );
        let deep = downscale(1920, 1080, 320, 180, 10);
        let p010 = bound_plan(1920, 1080, DecodedFormat::Yuv420p10, &deep).unwrap();
        assert_eq!(
            p010.primary,
            [
                variant(0, 0, true, false),
                variant(1, 0, true, false),
                None,
                None
            ]
        );
        // At 1:1 an entry holds two or three quads: one block at a time.
        let native = downscale(1920, 1080, 1920, 1080, 8);
        let native = bound_plan(1920, 1080, DecodedFormat::Yuv420p, &native).unwrap();
        assert_eq!(
            native.primary.map(|v| v.is_some_and(|v| v.two_blocks)),
            [false, false, false, false]
        );
        let gray = bound_plan(1920, 1080, DecodedFormat::Gray8, &thumb).unwrap();
        assert_eq!(gray.primary, [variant(0, 0, false, true), None, None, None]);
        // With alpha, colour is premultiplied (no whole words, which do
        // not read alpha) and a third variant filters alpha on luma's taps.
        let alpha = bound_plan(1920, 1080, DecodedFormat::Yuva420p, &thumb).unwrap();
        let premultiplied = |v: Option<PrimaryVariant>| {
            v.map(|v| PrimaryVariant {
                premultiply: true,
                ..v
            })
        };
        assert_eq!(
            alpha.primary,
            [
                premultiplied(variant(0, 0, true, false)),
                premultiplied(variant(1, 0, true, false)),
                variant(0, 0, true, false).map(|v| PrimaryVariant { alpha: true, ..v }),
                variant(0, 0, true, false).map(|v| PrimaryVariant {
                    alpha: true,
                    alpha_grid: 1,
                    ..v
                }),
            ]
        );
        assert!(alpha.secondary.chroma_alpha);
        assert_eq!(alpha.mid0_blocks(), 270 + 270 + 135);
        // 4:4:4's colour shares alpha's grid: one alpha variant.
        let whole = bound_plan(1920, 1080, DecodedFormat::Yuva444p, &thumb).unwrap();
        assert!(whole.primary[2].is_some() && whole.primary[3].is_none());
        assert!(!whole.secondary.chroma_alpha);
        assert!(alpha.secondary.alpha && !planar.secondary.alpha);
        assert_eq!(alpha.params.sample[2], 1.0 / 255.0);
        assert_eq!(alpha.params.sample[3], 128.0);
        // Its pass-1 output follows component 0's 270 blocks of 320.
        assert_eq!(alpha.params.plane_base[3], 320 * 270);
        assert_eq!(alpha.params.texel_bytes[3], 320 * 540);
        assert_eq!(planar.params.plane_base[3], 0);
        // A 40x downscale spans more than the stage holds.
        let steep = downscale(3840, 2160, 96, 54, 10);
        let steep = bound_plan(3840, 2160, DecodedFormat::Yuv420p10, &steep).unwrap();
        assert_eq!(
            steep.primary,
            [
                variant(0, 0, false, false),
                variant(1, 0, false, false),
                None,
                None
            ]
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
        let rotated = bound_plan(32, 16, DecodedFormat::Yuv420p, &rotated).unwrap();
        assert_eq!(
            rotated.primary,
            [
                variant(0, 1, true, false),
                variant(1, 1, true, false),
                None,
                None
            ]
        );
    }

    #[test]
    fn the_default_memory_limit_admits_every_format_at_8192_squared() {
        let allowed = crate::limits::Limits::default().max_request_bytes;
        let mut costliest = 0;
        for format in DecodedFormat::ALL {
            let bits = format.desc().bit_depth;
            let mut s = spec(8192, 8192, IDENTITY, full(8192.0, 8192.0), bits);
            if bits > 8 {
                // Kept as 16-bit HDR: twice the output of SDR.
                s.color.transfer = TransferFunction::Pq;
                s.color.output = OutputEncoding::Pq16;
            }
            let picture =
                PictureDesc::packed(8192, 8192, format, ColorInfo::UNSPECIFIED, HdrInfo::SDR)
                    .unwrap();
            let bytes = frame_memory(&picture, &s).unwrap();
            // At least the frame, twice uploaded, and the image, twice
            // read back.
            let decoded: u64 = (0..format.desc().planes.len())
                .map(|i| {
                    let (row, rows) = picture.plane_extent(i).unwrap();
                    row * u64::from(rows)
                })
                .sum();
            assert!(bytes > 3 * decoded + 2 * 8192 * 8192 * 4, "{format:?}");
            assert!(bytes <= allowed, "{format:?}: {bytes} > {allowed}");
            costliest = costliest.max(bytes);
        }
        // The default leaves no more than a quarter spare.
        assert!(costliest * 5 / 4 > allowed, "{costliest}");
    }

    #[test]
    fn deinterlacing_counts_the_stage_output_and_the_previous_picture() {
        let progressive = spec(720, 480, IDENTITY, full(720.0, 480.0), 8);
        let deinterlaced = OutputSpec {
            deinterlace: Some(crate::picture::Field::Top),
            ..progressive.clone()
        };
        let picture = PictureDesc::packed(
            720,
            480,
            DecodedFormat::Yuv420p,
            ColorInfo::UNSPECIFIED,
            HdrInfo::SDR,
        )
        .unwrap();
        let frame = 720 * 480 * 3 / 2;
        let extra = frame_memory(&picture, &deinterlaced).unwrap()
            - frame_memory(&picture, &progressive).unwrap();
        // The previous picture decoded, plus two uploads' worth (the
        // stage's output, the previous picture uploaded), rows padded.
        assert!(extra >= 3 * frame, "{extra}");
        assert!(extra < 3 * frame + 3 * 4 * 480 * 2, "{extra}");
    }

    #[test]
    fn a_bands_params_rebase_each_plane_onto_its_binding() {
        let s = spec(64, 64, IDENTITY, full(64.0, 64.0), 8);
        let plan = bound_plan(64, 64, DecodedFormat::Yuva420p, &s).unwrap();
        let band = Band {
            entries: 8..16,
            rows: 16..32,
            blocks: [2..10, 1..6],
            inputs: None,
        };
        // Luma and alpha bound from row 8 of their planes, chroma whole.
        let bound = [512, 4608, 5632, 6656];
        let inputs = [512 + 8 * 64, 4608, 5632, 6656 + 8 * 64];
        let p = plan.band_params(&band, bound, Some(inputs));
        assert_eq!(p.band, [8, 16, 0, 0]);
        assert_eq!(p.blocks, [2, 10, 1, 6]);
        // Row 8 is byte 0 of the band's binding: the offset wraps below 0.
        assert_eq!(p.plane_base[0].wrapping_add(8 * p.row_bytes[0]), 0);
        assert_eq!(p.alpha[3].wrapping_add(8 * p.alpha[1]), 0);
        assert_eq!(p.plane_base[1], plan.params.plane_base[1]);
        // Alpha follows the band's 8 blocks of component 0 in `mid0`.
        assert_eq!(p.plane_base[3], 64 * 8);
        assert_eq!(p.texel_bytes[3], 64 * 16);
        // The whole frame's band is the plan's own uniforms.
        let whole = Band {
            entries: 0..32,
            rows: 0..64,
            blocks: [0..16, 0..8],
            inputs: None,
        };
        assert_eq!(plan.band_params(&whole, bound, None), plan.params);
    }

    #[test]
    fn refuses_what_it_cannot_render() {
        let shear = Affine2 {
            m: [[1.0, 0.2], [0.0, 1.0]],
            t: [0.0, 0.0],
        };
        let bad = bound_plan(
            8,
            8,
            DecodedFormat::Gray8,
            &spec(8, 8, shear, full(8.0, 8.0), 8),
        );
        assert!(matches!(bad, Err(GpuError::UnsupportedSpec(_))));
        let outside = bound_plan(
            8,
            8,
            DecodedFormat::Gray8,
            &spec(8, 8, IDENTITY, full(9.0, 8.0), 8),
        );
        assert!(matches!(outside, Err(GpuError::SpecMismatch(_))));
        let depth = bound_plan(
            8,
            8,
            DecodedFormat::Gray10,
            &spec(8, 8, IDENTITY, full(8.0, 8.0), 8),
        );
        assert!(matches!(depth, Err(GpuError::SpecMismatch(_))));
        let mut hdr_out = spec(8, 8, IDENTITY, full(8.0, 8.0), 8);
        hdr_out.color.output = OutputEncoding::Pq16;
        assert!(matches!(
            bound_plan(8, 8, DecodedFormat::Gray8, &hdr_out),
            Err(GpuError::UnsupportedSpec(_))
        ));
    }

    #[test]
    fn gray_has_neutral_chroma() {
        let plan = bound_plan(
            8,
            8,
            DecodedFormat::Gray10,
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
        let plan = bound_plan(8, 8, DecodedFormat::Gray8, &base).unwrap();
        assert_eq!(plan.secondary.flags, FLAG_PASSTHROUGH);
        let mut wide = base.clone();
        wide.color.gamut[0][1] = 0.1;
        let plan = bound_plan(8, 8, DecodedFormat::Gray8, &wide).unwrap();
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
        let plan = bound_plan(1920, 1080, DecodedFormat::Yuv420p, &s).unwrap();
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
            bound_plan(16, 32, DecodedFormat::Gray8, &spec(16, 16, affine, rect, 8)).unwrap();
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
            bound_plan(8, 8, DecodedFormat::Gray8, &s),
            Err(GpuError::UnsupportedSpec(_))
        ));
        let mut far = spec(8, 8, IDENTITY, full(8.0, 8.0), 8);
        far.out_to_src.t = [1e12, 0.0];
        assert!(matches!(
            bound_plan(8, 8, DecodedFormat::Gray8, &far),
            Err(GpuError::UnsupportedSpec(_))
        ));
    }
}
