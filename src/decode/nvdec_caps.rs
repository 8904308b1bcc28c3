//! What NVDEC decodes, per chip generation, and what FFmpeg 5.1's CUDA
//! hwaccel hands over for it: the pure half of the NVDEC backend. A
//! generation follows from the CUDA device's compute capability; the table
//! is NVIDIA's NVDEC support matrix (Video Codec SDK), cut to what FFmpeg
//! 5.1's `nvdec` hwaccels drive (4:2:0 and, for HEVC, 4:4:4: FFmpeg 5.1
//! has no 4:2:2 NVDEC path, and none for 10-bit H.264).
//!
//! | codec | profiles | from | max size |
//! |---|---|---|---|
//! | `h264` | Baseline, Constrained Baseline, Main, High (8-bit 4:2:0) | Maxwell | 4096×4096 |
//! | `hevc` | Main, Main Still Picture, Main 10; Rext 4:2:0 12-bit | Pascal | 8192×8192 |
//! | `hevc` | Rext 4:4:4 8/10/12-bit | Turing | 8192×8192 |
//! | `vp9` | Profile 0 (8-bit), Profile 2 (10/12-bit) | Pascal | 8192×8192 |
//! | `av1` | Main (8/10-bit 4:2:0) | Ampere GA10x, Ada, Hopper, Blackwell | 8192×8192 |
//! | `vp8` | — | Pascal | 4096×4096 |
//! | `mpeg2video` | Simple, Main | Maxwell | 4080×4080 |
//!
//! The decoded surface (`hw_frames_ctx`'s `sw_format`) is `nv12` for 8-bit
//! 4:2:0, `p010le` for 10-bit, `p016le` for 12-bit (samples in the high
//! bits, read as 16-bit), `yuv444p` for 8-bit 4:4:4 and `yuv444p16le` for
//! deeper 4:4:4 (FFmpeg's `ff_nvdec_frame_params`). FFmpeg's `get_format`
//! still has the last word: a stream this table passes but the chip
//! refuses falls back to software with the reason in the result.
#![cfg_attr(not(feature = "nvdec"), allow(dead_code))]

use serde::Serialize;

use crate::asset::VideoTrack;
use crate::picture::{ChromaSubsampling, DecodedFormat};
use crate::vulkan::Uuid;

/// What NVDEC has to work with on this machine, for `stills probe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NvdecReport {
    /// The CUDA driver's version (`12.8`), when it loaded.
    pub cuda_driver: Option<String>,
    /// Why there is no CUDA driver to use, or the build has no NVDEC.
    pub error: Option<String>,
    /// Whether `libnvcuvid.so.1`, which FFmpeg loads to drive NVDEC, is
    /// installed.
    pub nvcuvid: bool,
    pub devices: Vec<NvdecDevice>,
}

/// One CUDA device and its NVDEC generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NvdecDevice {
    pub ordinal: i32,
    pub name: String,
    /// The same bytes as the Vulkan `deviceUUID` of the same GPU.
    pub uuid: Uuid,
    pub compute_capability: String,
    /// The NVDEC generation, `None` for a chip without one FFmpeg drives.
    pub nvdec: Option<&'static str>,
}

/// NVDEC's hardware generations, as far as what they decode differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NvdecGeneration {
    /// Maxwell (compute 5.x): H.264, MPEG-2.
    Maxwell,
    /// Pascal and Volta (6.x, 7.0, 7.2): + HEVC 4:2:0 to 12-bit, VP9, VP8.
    Pascal,
    /// Turing and the A100 (7.5, 8.0): + HEVC 4:4:4.
    Turing,
    /// Ampere GA10x, Ada, Hopper, Blackwell (8.6 and later but 8.0): + AV1.
    Ampere,
}

impl NvdecGeneration {
    /// The generation of a chip of compute capability `major.minor`, or
    /// `None` for one without NVDEC as FFmpeg drives it (before Maxwell).
    pub fn of(compute_capability: (i32, i32)) -> Option<NvdecGeneration> {
        use NvdecGeneration::*;
        Some(match compute_capability {
            (major, _) if major < 5 => return None,
            (5, _) => Maxwell,
            (6, _) | (7, 0..=2) => Pascal,
            (7, _) | (8, 0) => Turing,
            _ => Ampere,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            NvdecGeneration::Maxwell => "Maxwell",
            NvdecGeneration::Pascal => "Pascal/Volta",
            NvdecGeneration::Turing => "Turing/A100",
            NvdecGeneration::Ampere => "Ampere/Ada/Hopper/Blackwell",
        }
    }
}

/// What the table says for one stream: the surface format it decodes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NvdecSupport {
    pub format: DecodedFormat,
    pub max_size: (u32, u32),
}

/// Whether a chip of `generation` decodes `track` through FFmpeg's CUDA
/// hwaccel, and into what; or why not, in a sentence.
pub fn check(track: &VideoTrack, generation: NvdecGeneration) -> Result<NvdecSupport, String> {
    use NvdecGeneration::*;
    let profile = track.profile.as_deref().unwrap_or("unknown");
    let depth = track.bit_depth.unwrap_or(8);
    let chroma = track
        .chroma_subsampling
        .unwrap_or(ChromaSubsampling::YUV420);
    let is_420 = chroma == ChromaSubsampling::YUV420;
    let is_444 = chroma == ChromaSubsampling::YUV444;
    let refuse = |why: &str| -> Result<NvdecSupport, String> {
        Err(format!(
            "NVDEC through FFmpeg 5.1 does not decode {} '{profile}' {}-bit {}: {why}",
            track.codec,
            depth,
            chroma_name(chroma)
        ))
    };
    // (first generation, maximum size, minimum size)
    let (from, max_size, min_size) = match track.codec.as_str() {
        "h264" => {
            let known = matches!(
                profile,
                "Baseline" | "Constrained Baseline" | "Main" | "High"
            );
            if !known || depth != 8 || !is_420 {
                return refuse("only 8-bit 4:2:0 H.264 (Baseline to High) is decoded");
            }
            (Maxwell, (4096, 4096), (48, 16))
        }
        "hevc" => {
            let from = match (profile, depth, is_420, is_444) {
                ("Main" | "Main Still Picture", 8, true, _) => Pascal,
                ("Main 10", 9..=10, true, _) => Pascal,
                ("Rext", 8..=12, true, _) => Pascal,
                ("Rext", 8..=12, _, true) => Turing,
                _ => {
                    return refuse(
                        "HEVC is decoded as Main, Main 10 and range extensions in 4:2:0 or 4:4:4 up to 12-bit",
                    )
                }
            };
            (from, (8192, 8192), (144, 144))
        }
        "vp9" => {
            match (profile, depth, is_420) {
                ("Profile 0", 8, true) | ("Profile 2", 10 | 12, true) => {}
                _ => return refuse("VP9 is decoded as Profile 0 and 2 (4:2:0)"),
            }
            (Pascal, (8192, 8192), (128, 128))
        }
        "av1" => {
            if profile != "Main" || depth > 10 || !is_420 {
                return refuse("AV1 is decoded as Main (8/10-bit 4:2:0)");
            }
            (Ampere, (8192, 8192), (128, 128))
        }
        "vp8" => {
            if depth != 8 || !is_420 {
                return refuse("VP8 is 8-bit 4:2:0");
            }
            (Pascal, (4096, 4096), (48, 16))
        }
        "mpeg2video" => {
            if !matches!(profile, "Simple" | "Main") || depth != 8 || !is_420 {
                return refuse("MPEG-2 is decoded as Simple and Main (8-bit 4:2:0)");
            }
            (Maxwell, (4080, 4080), (48, 16))
        }
        other => return Err(format!("NVDEC does not decode {other} (in FFmpeg 5.1)")),
    };
    if generation < from {
        return Err(format!(
            "{} '{profile}' {depth}-bit {} needs NVDEC of the {} generation or later; this GPU's is {}",
            track.codec,
            chroma_name(chroma),
            from.name(),
            generation.name()
        ));
    }
    let (width, height) = (track.coded_width, track.coded_height);
    if width > max_size.0 || height > max_size.1 {
        return Err(format!(
            "NVDEC decodes {} up to {}x{}, the track is {width}x{height}",
            track.codec, max_size.0, max_size.1
        ));
    }
    if width < min_size.0 || height < min_size.1 {
        return Err(format!(
            "NVDEC decodes {} from {}x{}, the track is {width}x{height}",
            track.codec, min_size.0, min_size.1
        ));
    }
    let format = match (is_444, depth) {
        (false, 0..=8) => DecodedFormat::Nv12,
        (false, 9..=10) => DecodedFormat::P010,
        (false, _) => DecodedFormat::P016,
        (true, 0..=8) => DecodedFormat::Yuv444p,
        (true, _) => DecodedFormat::Yuv444p16,
    };
    Ok(NvdecSupport { format, max_size })
}

fn chroma_name(chroma: ChromaSubsampling) -> &'static str {
    match (chroma.log2_x, chroma.log2_y) {
        (1, 1) => "4:2:0",
        (1, 0) => "4:2:2",
        (0, 0) => "4:4:4",
        _ => "subsampled",
    }
}

/// The picture format of a CUDA frame whose surfaces hold `sw_format`
/// (FFmpeg's pixel format name), as the pipeline reads it.
pub fn surface_format(sw_format: &str) -> Option<DecodedFormat> {
    Some(match sw_format {
        "nv12" => DecodedFormat::Nv12,
        "p010le" => DecodedFormat::P010,
        "p016le" => DecodedFormat::P016,
        "yuv444p" => DecodedFormat::Yuv444p,
        "yuv444p16le" => DecodedFormat::Yuv444p16,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::color::{ColorInfo, HdrInfo};
    use crate::ratio::Ratio;

    fn track(codec: &str, profile: &str, depth: u8, chroma: ChromaSubsampling) -> VideoTrack {
        VideoTrack {
            index: 0,
            id: 1,
            codec: codec.into(),
            profile: Some(profile.into()),
            level: None,
            pixel_format: None,
            bit_depth: Some(depth),
            chroma_subsampling: Some(chroma),
            coded_width: 1920,
            coded_height: 1080,
            display_width: 1920,
            display_height: 1080,
            time_base: Ratio::new(1, 90000).unwrap(),
            sample_aspect_ratio: None,
            display_matrix: None,
            orientation: None,
            clean_aperture: None,
            interlaced: None,
            first_field: None,
            color: ColorInfo::UNSPECIFIED,
            hdr: HdrInfo::SDR,
            declared_frames: None,
            disposition_default: true,
            attached_picture: false,
            alpha: false,
        }
    }

    const HOPPER: (i32, i32) = (9, 0);

    #[test]
    fn generations_follow_compute_capability() {
        use NvdecGeneration::*;
        assert_eq!(NvdecGeneration::of((3, 5)), None);
        assert_eq!(NvdecGeneration::of((5, 2)), Some(Maxwell));
        assert_eq!(NvdecGeneration::of((6, 1)), Some(Pascal));
        assert_eq!(NvdecGeneration::of((7, 0)), Some(Pascal));
        assert_eq!(NvdecGeneration::of((7, 5)), Some(Turing));
        assert_eq!(NvdecGeneration::of((8, 0)), Some(Turing));
        assert_eq!(NvdecGeneration::of((8, 6)), Some(Ampere));
        assert_eq!(NvdecGeneration::of((8, 9)), Some(Ampere));
        assert_eq!(NvdecGeneration::of(HOPPER), Some(Ampere));
        assert_eq!(NvdecGeneration::of((12, 0)), Some(Ampere));
    }

    #[test]
    fn hopper_decodes_the_fixture_codecs_into_the_formats_ffmpeg_uses() {
        let hopper = NvdecGeneration::of(HOPPER).unwrap();
        let y420 = ChromaSubsampling::YUV420;
        let cases = [
            (track("h264", "High", 8, y420), DecodedFormat::Nv12),
            (track("hevc", "Main 10", 10, y420), DecodedFormat::P010),
            (track("hevc", "Rext", 12, y420), DecodedFormat::P016),
            (
                track("hevc", "Rext", 8, ChromaSubsampling::YUV444),
                DecodedFormat::Yuv444p,
            ),
            (
                track("hevc", "Rext", 10, ChromaSubsampling::YUV444),
                DecodedFormat::Yuv444p16,
            ),
            (track("vp9", "Profile 2", 10, y420), DecodedFormat::P010),
            (track("av1", "Main", 10, y420), DecodedFormat::P010),
        ];
        for (track, format) in cases {
            let got = check(&track, hopper).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(got.format, format, "{} {:?}", track.codec, track.profile);
        }
    }

    #[test]
    fn refusals_name_the_profile_and_what_would_decode() {
        let hopper = NvdecGeneration::Ampere;
        let high444 = track(
            "h264",
            "High 4:4:4 Predictive",
            8,
            ChromaSubsampling::YUV444,
        );
        let why = check(&high444, hopper).unwrap_err();
        assert!(why.contains("'High 4:4:4 Predictive' 8-bit 4:4:4"), "{why}");
        let rext422 = track("hevc", "Rext", 10, ChromaSubsampling::YUV422);
        assert!(check(&rext422, hopper).unwrap_err().contains("4:2:2"));
        let prores = track("prores", "HQ", 10, ChromaSubsampling::YUV422);
        assert!(check(&prores, hopper)
            .unwrap_err()
            .contains("does not decode prores"));
    }

    #[test]
    fn older_generations_and_sizes_are_checked() {
        let av1 = track("av1", "Main", 8, ChromaSubsampling::YUV420);
        let why = check(&av1, NvdecGeneration::Turing).unwrap_err();
        assert!(why.contains("Ampere/Ada/Hopper/Blackwell"), "{why}");
        assert!(why.contains("Turing/A100"), "{why}");
        let hevc444 = track("hevc", "Rext", 8, ChromaSubsampling::YUV444);
        assert!(check(&hevc444, NvdecGeneration::Pascal).is_err());
        assert!(check(&hevc444, NvdecGeneration::Turing).is_ok());
        let mut huge = track("h264", "High", 8, ChromaSubsampling::YUV420);
        huge.coded_width = 7680;
        huge.coded_height = 4320;
        let why = check(&huge, NvdecGeneration::Ampere).unwrap_err();
        assert!(why.contains("up to 4096x4096"), "{why}");
        let mut tiny = track("hevc", "Main", 8, ChromaSubsampling::YUV420);
        tiny.coded_width = 128;
        tiny.coded_height = 72;
        assert!(check(&tiny, NvdecGeneration::Ampere)
            .unwrap_err()
            .contains("from 144x144"));
    }

    #[test]
    fn surface_formats_are_those_ffmpeg_allocates() {
        assert_eq!(surface_format("nv12"), Some(DecodedFormat::Nv12));
        assert_eq!(surface_format("p010le"), Some(DecodedFormat::P010));
        assert_eq!(
            surface_format("yuv444p16le"),
            Some(DecodedFormat::Yuv444p16)
        );
        assert_eq!(surface_format("yuv420p"), None);
    }
}
