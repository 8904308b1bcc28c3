//! The uniform block both passes read, byte for byte the `Params` struct of
//! `shaders/params.wgsl`, and the flag and transfer codes its colour path is
//! specialised on.

use bytemuck::{Pod, Zeroable};

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
    /// Byte offset, in the binding of component 0, 1, 2, of the first row
    /// of its plane (0 for uploaded planes, each bound from its start; an
    /// imported plane's offset inside its buffer otherwise); `w`: where
    /// pass 1's alpha starts in the component-0 buffer, in vec4s.
    pub plane_base: [u32; 4],
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
    /// codes; neutral chroma as a normalised code; factor from integer
    /// alpha to [0, 1]; the integer colour is premultiplied about (neutral
    /// chroma for YUV, 0 for RGB).
    pub sample: [f32; 4],
    /// Offsets in the tap buffer, in vec4s, of the tables of pass 1 group
    /// 0, pass 1 group 1, pass 2 group 0, pass 2 group 1 (see
    /// [`TapTables`]); 0 for a group without a plane, which no pass reads.
    pub taps: [u32; 4],
    /// The alpha plane: channel (sample within the texel), bytes from row
    /// to row, bytes per texel, byte offset of the first row in its
    /// binding; zero without alpha.
    pub alpha: [u32; 4],
    /// The band of output rows this run renders (`bands.rs`): its first
    /// and end pass-2 table entry (all of them for a frame run whole).
    pub band: [u32; 4],
    /// The band's pass-1 blocks: first and end of group 0, then those of
    /// group 1. Pass 1 produces only these, and the intermediate buffers
    /// hold them from their start.
    pub blocks: [u32; 4],
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_layout_is_vec4_aligned() {
        assert_eq!(std::mem::size_of::<Grid>(), 48);
        assert_eq!(std::mem::size_of::<Params>() % 16, 0);
        assert_eq!(std::mem::size_of::<Params>(), 464);
    }
}
