//! What a decoder hands to the frame pipeline.

use crate::asset::color::{ContentLightLevel, MasteringDisplay};
use crate::surface::HostFrame;

/// Where a decoded picture lives. Hardware backends add their own variants
/// (a DMA-BUF for VA-API, CUDA memory for NVDEC) so their surfaces reach the
/// pipeline without a trip through host memory.
#[derive(Debug)]
pub enum Surface {
    /// Planes in host memory, uploaded by the pipeline.
    Host(HostFrame),
}

/// One decoded picture, on the asset timeline.
#[derive(Debug)]
pub struct DecodedFrame {
    /// Presentation time on the asset timeline, in stream ticks.
    pub pts: i64,
    pub surface: Surface,
    /// The decoder's own range flag for this picture, which overrides an
    /// unspecified track tag (JPEG-style `yuvj` formats are full range).
    pub full_range: bool,
    /// HDR metadata the bitstream carries with the picture (HEVC/AV1 SEI
    /// and OBUs), for streams whose container does not repeat it.
    pub mastering_display: Option<MasteringDisplay>,
    pub content_light_level: Option<ContentLightLevel>,
}
