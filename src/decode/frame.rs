//! What a decoder hands to the frame pipeline.

use std::time::Duration;

use crate::surface::Picture;

/// One decoded picture, on the asset timeline.
#[derive(Debug)]
pub struct DecodedFrame {
    /// Presentation time on the asset timeline, in stream ticks.
    pub pts: i64,
    pub picture: Picture,
    /// The picture shown just before this one, when this one is interlaced,
    /// the run was asked to keep it, and the decoder made it anyway on the
    /// way from the sync frame: the motion-adaptive deinterlacer's second
    /// input. Host pictures only.
    pub previous: Option<Picture>,
    /// Time spent reading and seeking to the packets this picture needed
    /// (since the decoder's previous picture of the same run).
    pub demux: Duration,
    /// Time spent in the decoder over the same span.
    pub decode: Duration,
    /// Why a hardware backend decoded this picture in software after all
    /// (FFmpeg's hwaccel refused the stream or failed to start), so the
    /// image reports the backend that really served it; `None` when the
    /// chosen backend did.
    pub fallback: Option<String>,
}
