//! The description of one video track, and the decoding of the metadata
//! blobs FFmpeg hands over as raw side data.

use serde::Serialize;

use crate::asset::color::{
    ChromaLocation, Chromaticity, ColorInfo, ColorPrimaries, ColorRange, ContentLightLevel,
    DolbyVisionConfig, HdrInfo, MasteringDisplay, MatrixCoefficients, TransferCharacteristic,
};
use crate::asset::geometry::{CleanAperture, DisplayMatrix, Orientation};
use crate::ratio::Ratio;

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
    /// log2 of the chroma subsampling, horizontal and vertical (4:2:0 is
    /// `(1, 1)`).
    pub chroma_subsampling: Option<(u8, u8)>,
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
    pub interlaced: Option<bool>,
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

fn ne_i32(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Decodes `AV_PKT_DATA_DISPLAYMATRIX`: nine native-endian `int32_t`.
pub fn parse_display_matrix(b: &[u8]) -> Option<DisplayMatrix> {
    if b.len() < 36 {
        return None;
    }
    let mut m = [0i32; 9];
    for (i, v) in m.iter_mut().enumerate() {
        *v = i32::from_ne_bytes(b[i * 4..i * 4 + 4].try_into().ok()?);
    }
    Some(DisplayMatrix(m))
}

fn rational_at(b: &[u8], at: usize) -> Option<f64> {
    let (num, den) = (ne_i32(b, at)?, ne_i32(b, at + 4)?);
    (den != 0).then(|| num as f64 / den as f64)
}

/// Decodes `AVMasteringDisplayMetadata` (libavutil/mastering_display_metadata.h):
/// `AVRational display_primaries[3][2], white_point[2], min_luminance,
/// max_luminance; int has_primaries, has_luminance;` — 88 bytes. The struct
/// is not in ffmpeg-sys-next's bindings, so its layout is read here.
pub fn parse_mastering_display(b: &[u8]) -> Option<MasteringDisplay> {
    if b.len() < 88 {
        return None;
    }
    let has_primaries = ne_i32(b, 80)? != 0;
    let has_luminance = ne_i32(b, 84)? != 0;
    let xy = |at: usize| -> Option<Chromaticity> {
        Some(Chromaticity {
            x: rational_at(b, at)?,
            y: rational_at(b, at + 8)?,
        })
    };
    let primaries = if has_primaries {
        Some([xy(0)?, xy(16)?, xy(32)?])
    } else {
        None
    };
    let white_point = if has_primaries { xy(48) } else { None };
    let (min_luminance, max_luminance) = if has_luminance {
        (rational_at(b, 64), rational_at(b, 72))
    } else {
        (None, None)
    };
    Some(MasteringDisplay {
        primaries,
        white_point,
        min_luminance,
        max_luminance,
    })
}

/// Decodes `AVContentLightMetadata`: `unsigned MaxCLL, MaxFALL`.
pub fn parse_content_light(b: &[u8]) -> Option<ContentLightLevel> {
    Some(ContentLightLevel {
        max_cll: ne_i32(b, 0)? as u32,
        max_fall: ne_i32(b, 4)? as u32,
    })
}

/// Decodes `AVDOVIDecoderConfigurationRecord`: eight `uint8_t` fields.
pub fn parse_dovi(b: &[u8]) -> Option<DolbyVisionConfig> {
    let b = b.get(..8)?;
    Some(DolbyVisionConfig {
        version_major: b[0],
        version_minor: b[1],
        profile: b[2],
        level: b[3],
        rpu_present: b[4] != 0,
        el_present: b[5] != 0,
        bl_present: b[6] != 0,
        bl_signal_compatibility_id: b[7],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rationals(v: &[(i32, i32)]) -> Vec<u8> {
        v.iter()
            .flat_map(|(n, d)| n.to_ne_bytes().into_iter().chain(d.to_ne_bytes()))
            .collect()
    }

    #[test]
    fn mastering_display_layout() {
        let mut b = rationals(&[
            (34000, 50000),
            (16000, 50000),
            (13250, 50000),
            (34500, 50000),
            (7500, 50000),
            (3000, 50000),
            (15635, 50000),
            (16450, 50000),
            (50, 10000),
            (1000, 1),
        ]);
        b.extend(1i32.to_ne_bytes());
        b.extend(1i32.to_ne_bytes());
        let md = parse_mastering_display(&b).unwrap();
        assert_eq!(md.max_luminance, Some(1000.0));
        assert_eq!(md.min_luminance, Some(0.005));
        let p = md.primaries.unwrap();
        assert_eq!((p[0].x, p[0].y), (0.68, 0.32));
        assert_eq!(md.white_point.unwrap().x, 0.3127);
    }

    #[test]
    fn mastering_display_flags_hide_absent_parts() {
        let mut b = rationals(&[(0, 1); 10]);
        b.extend(0i32.to_ne_bytes());
        b.extend(1i32.to_ne_bytes());
        let md = parse_mastering_display(&b).unwrap();
        assert_eq!(md.primaries, None);
        assert_eq!(md.max_luminance, Some(0.0));
        assert_eq!(parse_mastering_display(&b[..40]), None);
    }

    #[test]
    fn light_level_and_dovi() {
        let mut b = 1100u32.to_ne_bytes().to_vec();
        b.extend(180u32.to_ne_bytes());
        assert_eq!(
            parse_content_light(&b),
            Some(ContentLightLevel {
                max_cll: 1100,
                max_fall: 180
            })
        );
        let dv = parse_dovi(&[1, 0, 8, 4, 1, 0, 1, 4]).unwrap();
        assert_eq!(
            (dv.profile, dv.level, dv.bl_signal_compatibility_id),
            (8, 4, 4)
        );
        assert!(dv.rpu_present && dv.bl_present && !dv.el_present);
        assert_eq!(parse_dovi(&[1, 0]), None);
    }

    #[test]
    fn display_matrix_orientations() {
        let m = |a: i32, b: i32, c: i32, d: i32| {
            let v = [a, b, 0, c, d, 0, 0, 0, 1 << 30];
            let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_ne_bytes()).collect();
            parse_display_matrix(&bytes).unwrap().orientation()
        };
        let one = 0x10000;
        let o = |rotation, mirror| Some(Orientation { rotation, mirror });
        assert_eq!(m(one, 0, 0, one), o(0, false));
        assert_eq!(m(0, one, -one, 0), o(90, false));
        assert_eq!(m(-one, 0, 0, -one), o(180, false));
        assert_eq!(m(0, -one, one, 0), o(270, false));
        assert_eq!(m(-one, 0, 0, one), o(0, true));
        assert_eq!(m(0, one, one, 0), o(270, true));
        assert_eq!(m(0, 0, 0, 0), None);
        assert_eq!(m(one, one, 0, one), None);
    }
}
