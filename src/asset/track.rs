//! The description of one video track, and the decoding of the metadata
//! blobs FFmpeg hands over as raw side data.

use serde::Serialize;

use crate::asset::color::{
    ChromaLocation, ColorInfo, ColorPrimaries, ColorRange, HdrInfo, MatrixCoefficients,
    TransferCharacteristic,
};
use crate::asset::geometry::{CleanAperture, DisplayMatrix, Orientation};
use crate::picture::ChromaSubsampling;
use crate::ratio::Ratio;
use crate::render::SourceGeometry;

/// Everything stills knows about a video track before decoding it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoTrack {
    /// FFmpeg's stream index in the container.
    pub index: usize,
    /// The container's own track ID where FFmpeg reports one (MP4 `tkhd`
    /// track_ID, MPEG-TS PID); 0 for Matroska/WebM, whose track numbers
    /// FFmpeg 5.1 does not expose.
    pub id: i32,
    /// FFmpeg's codec name (`h264`, `hevc`, `vp9`, `av1`, `prores`…).
    pub codec: String,
    pub profile: Option<String>,
    pub level: Option<i32>,
    /// FFmpeg's pixel format name of the decoded picture (`yuv420p10le`).
    pub pixel_format: Option<String>,
    /// Bits per sample of the decoded picture.
    pub bit_depth: Option<u8>,
    /// The chroma subsampling of the decoded picture.
    pub chroma_subsampling: Option<ChromaSubsampling>,
    /// Size of the decoded picture.
    pub coded_width: u32,
    pub coded_height: u32,
    /// Size a player shows: clean aperture, pixel aspect ratio and display
    /// matrix applied.
    pub display_width: u32,
    pub display_height: u32,
    /// Seconds per tick of the track's timestamps.
    pub time_base: Ratio,
    /// Pixel aspect ratio; `None` when unknown or square by omission.
    pub sample_aspect_ratio: Option<Ratio>,
    /// The stored display matrix, when the container has one.
    pub display_matrix: Option<DisplayMatrix>,
    /// The rotation and mirror the matrix expresses; identity without a
    /// matrix, `None` when the matrix is not a rotation or mirror (reported
    /// rather than guessed).
    pub orientation: Option<Orientation>,
    pub clean_aperture: Option<CleanAperture>,
    /// Whether the stream says its pictures are interlaced (FFmpeg's
    /// `field_order`, from the first pictures): a summary only, as each
    /// picture says for itself whether it is (see [`Scan`](crate::picture::Scan)).
    pub interlaced: Option<bool>,
    /// The field shown first in an interlaced stream.
    pub first_field: Option<crate::picture::Field>,
    /// The pictures carry alpha: the decoded pixel format has it (ProRes
    /// 4444, QuickTime Animation and PNG with alpha, `rgba`), or the
    /// container carries it beside the codec's (WebM `alpha_mode`, VP8/VP9
    /// decoded with libvpx). Generated images then keep it.
    pub alpha: bool,
    pub color: ColorInfo,
    pub hdr: HdrInfo,
    /// The number of frames the container declares (0 or absent for many
    /// formats); the frame index counts the real number.
    pub declared_frames: Option<u64>,
    pub disposition_default: bool,
    /// A still image attached as cover art, not a video.
    pub attached_picture: bool,
}

impl VideoTrack {
    /// What turns the track's pictures into what a player shows.
    pub fn geometry(&self) -> SourceGeometry {
        SourceGeometry {
            sample_aspect_ratio: self.sample_aspect_ratio,
            clean_aperture: self.clean_aperture,
            orientation: self.orientation,
        }
    }

    /// The orientation to apply, treating an unreadable matrix as upright.
    pub fn effective_orientation(&self) -> Orientation {
        self.orientation.unwrap_or(Orientation::IDENTITY)
    }
}

/// Maps FFmpeg's `AVColorRange`.
pub fn color_range(code: u8) -> ColorRange {
    match code {
        1 => ColorRange::Limited,
        2 => ColorRange::Full,
        _ => ColorRange::Unspecified,
    }
}

/// Maps FFmpeg's `AVChromaLocation`.
pub fn chroma_location(code: u8) -> ChromaLocation {
    match code {
        1 => ChromaLocation::Left,
        2 => ChromaLocation::Center,
        3 => ChromaLocation::TopLeft,
        4 => ChromaLocation::Top,
        5 => ChromaLocation::BottomLeft,
        6 => ChromaLocation::Bottom,
        _ => ChromaLocation::Unspecified,
    }
}

pub fn color_info(primaries: u8, trc: u8, matrix: u8, range: u8, chroma: u8) -> ColorInfo {
    ColorInfo {
        primaries: ColorPrimaries::from_h273(primaries),
        transfer: TransferCharacteristic::from_h273(trc),
        matrix: MatrixCoefficients::from_h273(matrix),
        range: color_range(range),
        chroma_location: chroma_location(chroma),
    }
}
