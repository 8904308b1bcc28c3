//! The compiled variants of both passes: the values of the shaders'
//! pipeline-overridable constants, and the workgroup shapes the host sizes
//! dispatches from. The shaders are specialised instead of branching
//! because lavapipe executes both sides of every branch, and a GPU pays for
//! the widest side's registers.

use super::params::{FLAG_PASSTHROUGH, TRANSFER_SDR};

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
    /// This component-0 variant filters the alpha plane (on the luma grid,
    /// with component 0's taps) instead of component 0.
    pub alpha: bool,
    /// Colour samples are premultiplied by their alpha before filtering,
    /// so transparent texels add nothing to their neighbours.
    pub premultiply: bool,
    /// The grid an `alpha` variant filters on: 0 alpha's own (luma's), 1
    /// the subsampled colour planes' (each colour texel's mean alpha).
    pub alpha_grid: u8,
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
    pub fn constants(&self) -> [(&'static str, f64); 8] {
        [
            ("GROUP", f64::from(self.group)),
            ("AXIS", f64::from(self.axis)),
            ("STAGED", f64::from(u8::from(self.staged))),
            ("WORD_QUADS", f64::from(u8::from(self.word_quads))),
            ("TWO_BLOCKS", f64::from(u8::from(self.two_blocks))),
            ("ALPHA", f64::from(u8::from(self.alpha))),
            ("PREMULTIPLY", f64::from(u8::from(self.premultiply))),
            ("ALPHA_GRID", f64::from(self.alpha_grid)),
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
    /// The picture carries alpha: unpremultiply the colour and store the
    /// filtered alpha.
    pub alpha: bool,
    /// Components 1 and 2 are subsampled: divide them by the alpha pass 1
    /// filtered on their grid.
    pub chroma_alpha: bool,
}

impl SecondaryVariant {
    /// What most streams need: SDR shown as it is.
    pub const PASSTHROUGH: SecondaryVariant = SecondaryVariant {
        transfer: TRANSFER_SDR,
        flags: FLAG_PASSTHROUGH,
        alpha: false,
        chroma_alpha: false,
    };

    /// The shader's override constants, by name.
    pub fn constants(&self) -> [(&'static str, f64); 4] {
        [
            ("TRANSFER", f64::from(self.transfer)),
            ("FLAGS", f64::from(self.flags)),
            ("ALPHA_OUT", f64::from(u8::from(self.alpha))),
            ("CHROMA_ALPHA", f64::from(u8::from(self.chroma_alpha))),
        ]
    }
}
