//! What a VA-API driver can decode, and whether it can decode a track for
//! this pipeline: the pure half of the VA-API backend. The driver's answers
//! (profiles, entrypoints, maximum sizes, surface formats) are gathered by
//! `crate::va` through cros-libva into a [`VaapiDevice`]; the tables here
//! say which VA profile FFmpeg's VAAPI hwaccel asks for a stream (FFmpeg
//! 5.1's `vaapi_profile_map`), which surface format it decodes into, and
//! whether the pipeline can import that surface.
//!
//! | codec | FFmpeg profile | VA profile |
//! |---|---|---|
//! | `h264` | Constrained Baseline, Main, High | `H264ConstrainedBaseline`, `H264Main`, `H264High` |
//! | `hevc` | Main, Main Still Picture, Main 10, Rext (4:2:0 12-bit) | `HEVCMain`, `HEVCMain`, `HEVCMain10`, `HEVCMain12` |
//! | `vp8` | — | `VP8Version0_3` |
//! | `vp9` | Profile 0, 2 (1 and 3 are 4:2:2/4:4:4) | `VP9Profile0`, `VP9Profile2` |
//! | `av1` | Main | `AV1Profile0` |
//! | `mpeg2video` | Simple, Main | `MPEG2Simple`, `MPEG2Main` |
//!
//! VA-API decodes 4:2:0 into `NV12` (8-bit), `P010` (10-bit) or `P012`
//! (12-bit, read as `P016`: the same layout, samples in the high bits);
//! 4:2:2 and 4:4:4 come out packed (`YUY2`, `Y210`, `AYUV`, `Y410`), which
//! the pipeline does not import, so those streams stay in software.
#![cfg_attr(not(feature = "vaapi"), allow(dead_code))]

use serde::{Serialize, Serializer};

use crate::asset::VideoTrack;
use crate::gpu::Interop;
use crate::picture::{ChromaSubsampling, DecodedFormat};

/// Declares a C enum of `va.h` as a Rust enum with its values and names,
/// plus `Other` for values this table does not know.
macro_rules! va_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:expr),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value this build's table does not name (a newer libva).
            Other(i32),
        }

        impl $name {
            /// The value of `va.h`'s enum.
            pub fn raw(self) -> i32 {
                match self {
                    $($name::$variant => $value,)+
                    $name::Other(value) => value,
                }
            }

            pub fn from_raw(raw: i32) -> $name {
                match raw {
                    $(v if v == $value => $name::$variant,)+
                    other => $name::Other(other),
                }
            }

            /// `va.h`'s name without its `VAProfile`/`VAEntrypoint` prefix.
            pub fn name(self) -> String {
                match self {
                    $($name::$variant => stringify!($variant).to_string(),)+
                    $name::Other(value) => format!("{value}"),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.name())
            }
        }
    };
}

va_enum!(
    /// `VAProfile` (libva 2.17's values, which never change).
    VaProfile {
        MPEG2Simple = 0,
        MPEG2Main = 1,
        MPEG4Simple = 2,
        MPEG4AdvancedSimple = 3,
        MPEG4Main = 4,
        H264Baseline = 5,
        H264Main = 6,
        H264High = 7,
        VC1Simple = 8,
        VC1Main = 9,
        VC1Advanced = 10,
        H263Baseline = 11,
        JPEGBaseline = 12,
        H264ConstrainedBaseline = 13,
        VP8Version0_3 = 14,
        H264MultiviewHigh = 15,
        H264StereoHigh = 16,
        HEVCMain = 17,
        HEVCMain10 = 18,
        VP9Profile0 = 19,
        VP9Profile1 = 20,
        VP9Profile2 = 21,
        VP9Profile3 = 22,
        HEVCMain12 = 23,
        HEVCMain422_10 = 24,
        HEVCMain422_12 = 25,
        HEVCMain444 = 26,
        HEVCMain444_10 = 27,
        HEVCMain444_12 = 28,
        HEVCSccMain = 29,
        HEVCSccMain10 = 30,
        HEVCSccMain444 = 31,
        AV1Profile0 = 32,
        AV1Profile1 = 33,
        HEVCSccMain444_10 = 34,
        Protected = 35,
    }
);

va_enum!(
    /// `VAEntrypoint`: `VLD` is decoding.
    VaEntrypoint {
        VLD = 1,
        IZZ = 2,
        IDCT = 3,
        MoComp = 4,
        Deblocking = 5,
        EncSlice = 6,
        EncPicture = 7,
        EncSliceLP = 8,
        VideoProc = 10,
        FEI = 11,
        Stats = 12,
        ProtectedTEEComm = 13,
        ProtectedContent = 14,
    }
);

impl VaProfile {
    /// The FFmpeg codec a profile decodes, for the codecs the backend
    /// handles.
    pub fn codec(self) -> Option<&'static str> {
        use VaProfile::*;
        Some(match self {
            MPEG2Simple | MPEG2Main => "mpeg2video",
            H264Main | H264High | H264ConstrainedBaseline => "h264",
            HEVCMain | HEVCMain10 | HEVCMain12 => "hevc",
            VP8Version0_3 => "vp8",
            VP9Profile0 | VP9Profile2 => "vp9",
            AV1Profile0 => "av1",
            _ => return None,
        })
    }
}

/// `VA_RT_FORMAT_*` bits and their names, as `VAConfigAttribRTFormat`
/// reports the render-target formats of a decoder.
const RT_FORMATS: [(u32, &str); 14] = [
    (0x0000_0001, "yuv420"),
    (0x0000_0002, "yuv422"),
    (0x0000_0004, "yuv444"),
    (0x0000_0008, "yuv411"),
    (0x0000_0010, "yuv400"),
    (0x0000_0100, "yuv420_10"),
    (0x0000_0200, "yuv422_10"),
    (0x0000_0400, "yuv444_10"),
    (0x0000_1000, "yuv420_12"),
    (0x0000_2000, "yuv422_12"),
    (0x0000_4000, "yuv444_12"),
    (0x0001_0000, "rgb16"),
    (0x0002_0000, "rgb32"),
    (0x0010_0000, "rgb32_10"),
];

/// The names of the render-target format bits set in `bits`.
pub fn rt_format_names(bits: u32) -> Vec<&'static str> {
    RT_FORMATS
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|&(_, name)| name)
        .collect()
}

/// A fourcc (VA's or DRM's, both `'a' | 'b' << 8 | …`) as its four
/// characters, trailing spaces kept.
pub fn fourcc_name(fourcc: u32) -> String {
    fourcc
        .to_le_bytes()
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}

pub(crate) const fn fourcc(code: &[u8; 4]) -> u32 {
    u32::from_le_bytes(*code)
}

/// What one VA profile offers on a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VaapiProfile {
    pub profile: VaProfile,
    /// The FFmpeg codec it decodes, where the backend handles it.
    pub codec: Option<&'static str>,
    pub entrypoints: Vec<VaEntrypoint>,
    /// For the decode entrypoint (`VLD`), when the device has it: the
    /// largest picture (`VAConfigAttribMaxPictureWidth/Height`, else the
    /// surface attributes' maximum), where the driver says.
    pub max_width: Option<u32>,
    pub max_height: Option<u32>,
    /// The render-target formats of the decoder (`VAConfigAttribRTFormat`).
    #[serde(serialize_with = "serialize_rt_formats")]
    pub rt_formats: u32,
    /// The surface pixel formats it decodes into (`VASurfaceAttribPixelFormat`).
    #[serde(serialize_with = "serialize_fourccs")]
    pub surface_formats: Vec<u32>,
}

fn serialize_rt_formats<S: Serializer>(bits: &u32, s: S) -> Result<S::Ok, S::Error> {
    rt_format_names(*bits).serialize(s)
}

fn serialize_fourccs<S: Serializer>(list: &[u32], s: S) -> Result<S::Ok, S::Error> {
    list.iter()
        .map(|&f| fourcc_name(f))
        .collect::<Vec<_>>()
        .serialize(s)
}

impl VaapiProfile {
    pub fn decodes(&self) -> bool {
        self.entrypoints.contains(&VaEntrypoint::VLD)
    }
}

/// A DRM render node and what its VA-API driver offers, as `stills probe`
/// lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VaapiDevice {
    /// `/dev/dri/renderD128`.
    pub render_node: String,
    /// The kernel driver behind the node (`i915`, `xe`, `amdgpu`,
    /// `nvidia-drm`), from sysfs.
    pub kernel_driver: Option<String>,
    /// The driver's own description, name and version
    /// (`vaQueryVendorString`: `Intel iHD driver for Intel(R) Gen Graphics -
    /// 23.1.1 ()`, `Mesa Gallium driver 23.3.5 for AMD Radeon …`).
    pub driver: Option<String>,
    /// Why the node could not be used (it could not be opened, libva found
    /// no driver for it), or `None`.
    pub error: Option<String>,
    /// Every profile the driver lists, decoding or not.
    pub profiles: Vec<VaapiProfile>,
}

impl VaapiDevice {
    /// The decode capabilities of `profile`, if the driver decodes it.
    pub fn decoder(&self, profile: VaProfile) -> Option<&VaapiProfile> {
        self.profiles
            .iter()
            .find(|p| p.profile == profile && p.decodes())
    }

    /// One line naming the node and its driver.
    pub fn describe(&self) -> String {
        let mut line = self.render_node.clone();
        match (&self.driver, &self.kernel_driver) {
            (Some(driver), _) => line.push_str(&format!(" ({driver})")),
            (None, Some(kernel)) => line.push_str(&format!(" (kernel driver {kernel})")),
            (None, None) => {}
        }
        line
    }
}

/// The VA profile FFmpeg's VAAPI hwaccel decodes `track` with (its
/// `vaapi_profile_map`), or why it decodes none.
pub fn profile_for(track: &VideoTrack) -> Result<VaProfile, String> {
    use VaProfile::*;
    let profile = track.profile.as_deref();
    let unmapped = || {
        format!(
            "FFmpeg's VAAPI hwaccel does not decode {} profile '{}'",
            track.codec,
            profile.unwrap_or("unknown")
        )
    };
    Ok(match track.codec.as_str() {
        "h264" => match profile {
            Some("Constrained Baseline") => H264ConstrainedBaseline,
            Some("Main") => H264Main,
            Some("High") => H264High,
            _ => return Err(unmapped()),
        },
        "hevc" => match profile {
            Some("Main") | Some("Main Still Picture") => HEVCMain,
            Some("Main 10") => HEVCMain10,
            // Range extensions: FFmpeg picks the VA profile from the
            // stream's format; 4:2:0 12-bit is the one that decodes to a
            // surface the pipeline imports.
            Some("Rext") => match (track.bit_depth, track.chroma_subsampling) {
                (Some(12), Some(ChromaSubsampling::YUV420)) => HEVCMain12,
                _ => return Err(unmapped()),
            },
            _ => return Err(unmapped()),
        },
        "vp8" => VP8Version0_3,
        "vp9" => match profile {
            Some("Profile 0") => VP9Profile0,
            Some("Profile 2") => VP9Profile2,
            _ => return Err(unmapped()),
        },
        "av1" => match profile {
            Some("Main") => AV1Profile0,
            _ => return Err(unmapped()),
        },
        "mpeg2video" => match profile {
            Some("Simple") => MPEG2Simple,
            Some("Main") => MPEG2Main,
            _ => return Err(unmapped()),
        },
        other => {
            return Err(format!(
                "the VA-API backend decodes h264, hevc, vp8, vp9, av1 and mpeg2video, not {other}"
            ))
        }
    })
}

/// The surface format VA-API decodes `track` into and the pipeline reads it
/// as, with its VA fourcc, or why there is none it imports.
pub fn surface_format_for(track: &VideoTrack) -> Result<(DecodedFormat, u32), String> {
    let depth = track.bit_depth.unwrap_or(8);
    match track.chroma_subsampling {
        Some(ChromaSubsampling::YUV420) | None => {}
        Some(sub) => {
            return Err(format!(
                "VA-API decodes 4:{}:{} into packed surfaces (YUY2, Y210, AYUV, Y410) that the \
                 pipeline does not import",
                4 >> sub.log2_x,
                if sub.log2_y == 0 { 4 >> sub.log2_x } else { 0 }
            ))
        }
    }
    match depth {
        0..=8 => Ok((DecodedFormat::Nv12, fourcc(b"NV12"))),
        9..=10 => Ok((DecodedFormat::P010, fourcc(b"P010"))),
        11..=12 => Ok((DecodedFormat::P016, fourcc(b"P012"))),
        other => Err(format!("VA-API has no {other}-bit 4:2:0 surfaces")),
    }
}

/// Whether the pipeline's device can take a VA-API surface: DMA-BUFs at
/// all, and tiled ones (VA-API drivers allocate decode surfaces tiled).
pub fn interop_problem(gpu: Option<&Interop>) -> Option<&'static str> {
    let Some(gpu) = gpu else {
        return Some("no GPU context to import its DMA-BUF surfaces into");
    };
    if !gpu.dma_buf_memory {
        return Some("the GPU cannot import DMA-BUFs (no VK_EXT_external_memory_dma_buf)");
    }
    if !gpu.drm_format_modifiers {
        return Some(
            "the GPU imports only linear DMA-BUFs (no VK_EXT_image_drm_format_modifier), \
             and VA-API decodes into tiled surfaces",
        );
    }
    None
}

/// Which device decodes `track` (an index into `devices`) and a line
/// saying so, or why none does.
pub fn choose_device(
    devices: &[VaapiDevice],
    track: &VideoTrack,
) -> Result<(usize, String), String> {
    let profile = profile_for(track)?;
    let (format, surface_fourcc) = surface_format_for(track)?;
    if devices.is_empty() {
        return Err("no DRM render node on this machine (/dev/dri/renderD*)".into());
    }
    let mut refusals = Vec::new();
    for (index, device) in devices.iter().enumerate() {
        if let Some(error) = &device.error {
            refusals.push(format!("{}: {error}", device.render_node));
            continue;
        }
        let Some(decoder) = device.decoder(profile) else {
            refusals.push(format!(
                "{}: the driver does not decode {}",
                device.describe(),
                profile.name()
            ));
            continue;
        };
        let (width, height) = (track.coded_width, track.coded_height);
        if let (Some(max_w), Some(max_h)) = (decoder.max_width, decoder.max_height) {
            if width > max_w || height > max_h {
                refusals.push(format!(
                    "{}: {} decodes up to {max_w}x{max_h}, the track is {width}x{height}",
                    device.describe(),
                    profile.name()
                ));
                continue;
            }
        }
        // A driver that lists its surface formats must list the one the
        // stream decodes into; one that lists none is taken at its word.
        if !decoder.surface_formats.is_empty() && !decoder.surface_formats.contains(&surface_fourcc)
        {
            refusals.push(format!(
                "{}: {} decodes into {}, not {}",
                device.describe(),
                profile.name(),
                decoder
                    .surface_formats
                    .iter()
                    .map(|&f| fourcc_name(f))
                    .collect::<Vec<_>>()
                    .join(", "),
                fourcc_name(surface_fourcc)
            ));
            continue;
        }
        let limit = match (decoder.max_width, decoder.max_height) {
            (Some(w), Some(h)) => format!(" up to {w}x{h}"),
            _ => String::new(),
        };
        return Ok((
            index,
            format!(
                "VA-API on {}: {}{limit} into {} ({:?})",
                device.describe(),
                profile.name(),
                fourcc_name(surface_fourcc).trim_end(),
                format
            ),
        ));
    }
    Err(refusals.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::color::{ColorInfo, HdrInfo};
    use crate::ratio::Ratio;

    fn track(codec: &str, profile: Option<&str>, depth: u8, sub: ChromaSubsampling) -> VideoTrack {
        VideoTrack {
            index: 0,
            id: 1,
            codec: codec.into(),
            profile: profile.map(String::from),
            level: None,
            pixel_format: None,
            bit_depth: Some(depth),
            chroma_subsampling: Some(sub),
            coded_width: 1920,
            coded_height: 1080,
            display_width: 1920,
            display_height: 1080,
            time_base: Ratio::new(1, 25).unwrap(),
            sample_aspect_ratio: None,
            display_matrix: None,
            orientation: None,
            clean_aperture: None,
            interlaced: None,
            first_field: None,
            alpha: false,
            color: ColorInfo::UNSPECIFIED,
            hdr: HdrInfo::SDR,
            declared_frames: None,
            disposition_default: true,
            attached_picture: false,
        }
    }

    const YUV420: ChromaSubsampling = ChromaSubsampling::YUV420;

    fn decoder(profile: VaProfile, max: (u32, u32), formats: &[&[u8; 4]]) -> VaapiProfile {
        VaapiProfile {
            profile,
            codec: profile.codec(),
            entrypoints: vec![VaEntrypoint::VLD],
            max_width: Some(max.0),
            max_height: Some(max.1),
            rt_formats: 0x101,
            surface_formats: formats.iter().map(|f| fourcc(f)).collect(),
        }
    }

    fn device(node: &str, profiles: Vec<VaapiProfile>) -> VaapiDevice {
        VaapiDevice {
            render_node: node.into(),
            kernel_driver: Some("i915".into()),
            driver: Some("Intel iHD driver - 23.1.1".into()),
            error: None,
            profiles,
        }
    }

    #[test]
    fn profiles_follow_ffmpegs_vaapi_map() {
        use VaProfile::*;
        let cases = [
            (
                "h264",
                Some("Constrained Baseline"),
                8,
                H264ConstrainedBaseline,
            ),
            ("h264", Some("Main"), 8, H264Main),
            ("h264", Some("High"), 8, H264High),
            ("hevc", Some("Main"), 8, HEVCMain),
            ("hevc", Some("Main Still Picture"), 8, HEVCMain),
            ("hevc", Some("Main 10"), 10, HEVCMain10),
            ("hevc", Some("Rext"), 12, HEVCMain12),
            ("vp8", None, 8, VP8Version0_3),
            ("vp9", Some("Profile 0"), 8, VP9Profile0),
            ("vp9", Some("Profile 2"), 10, VP9Profile2),
            ("av1", Some("Main"), 10, AV1Profile0),
            ("mpeg2video", Some("Main"), 8, MPEG2Main),
        ];
        for (codec, profile, depth, want) in cases {
            let t = track(codec, profile, depth, YUV420);
            assert_eq!(profile_for(&t), Ok(want), "{codec} {profile:?}");
            assert_eq!(want.codec(), Some(codec));
        }
        for (codec, profile, depth) in [
            ("h264", Some("High 10"), 10),
            ("h264", Some("Baseline"), 8),
            ("hevc", Some("Rext"), 10),
            ("vp9", Some("Profile 1"), 8),
            ("av1", Some("High"), 8),
        ] {
            let reason = profile_for(&track(codec, profile, depth, YUV420)).unwrap_err();
            assert!(
                reason.starts_with("FFmpeg's VAAPI hwaccel does not decode"),
                "{reason}"
            );
            assert!(reason.contains(profile.unwrap()), "{reason}");
        }
        assert_eq!(
            profile_for(&track("prores", Some("HQ"), 10, ChromaSubsampling::YUV422)).unwrap_err(),
            "the VA-API backend decodes h264, hevc, vp8, vp9, av1 and mpeg2video, not prores"
        );
    }

    #[test]
    fn surfaces_are_nv12_p010_and_p012_read_as_p016() {
        let format = |depth, sub| surface_format_for(&track("hevc", None, depth, sub));
        assert_eq!(
            format(8, YUV420),
            Ok((DecodedFormat::Nv12, fourcc(b"NV12")))
        );
        assert_eq!(
            format(10, YUV420),
            Ok((DecodedFormat::P010, fourcc(b"P010")))
        );
        assert_eq!(
            format(12, YUV420),
            Ok((DecodedFormat::P016, fourcc(b"P012")))
        );
        assert!(format(16, YUV420).unwrap_err().contains("16-bit"));
        let packed = format(10, ChromaSubsampling::YUV422).unwrap_err();
        assert!(
            packed.starts_with("VA-API decodes 4:2:2 into packed"),
            "{packed}"
        );
        let packed = format(8, ChromaSubsampling::YUV444).unwrap_err();
        assert!(
            packed.starts_with("VA-API decodes 4:4:4 into packed"),
            "{packed}"
        );
    }

    #[test]
    fn the_enums_round_trip_and_name_unknown_values() {
        for raw in -1..40 {
            assert_eq!(VaProfile::from_raw(raw).raw(), raw);
            assert_eq!(VaEntrypoint::from_raw(raw).raw(), raw);
        }
        assert_eq!(VaProfile::from_raw(19), VaProfile::VP9Profile0);
        assert_eq!(VaProfile::from_raw(99).name(), "99");
        assert_eq!(VaEntrypoint::from_raw(1).name(), "VLD");
        assert_eq!(
            serde_json::to_string(&VaProfile::HEVCMain10).unwrap(),
            "\"HEVCMain10\""
        );
    }

    #[test]
    fn rt_formats_and_fourccs_have_names() {
        assert_eq!(
            rt_format_names(0x0000_1101),
            ["yuv420", "yuv420_10", "yuv420_12"]
        );
        assert!(rt_format_names(0x8000_0000).is_empty());
        assert_eq!(fourcc_name(fourcc(b"P010")), "P010");
        assert_eq!(fourcc_name(fourcc(b"R8  ")), "R8  ");
        assert_eq!(fourcc_name(0x0000_00ff), "????");
        let json =
            serde_json::to_value(decoder(VaProfile::HEVCMain10, (8192, 8192), &[b"P010"])).unwrap();
        assert_eq!(
            json["rt_formats"],
            serde_json::json!(["yuv420", "yuv420_10"])
        );
        assert_eq!(json["surface_formats"], serde_json::json!(["P010"]));
        assert_eq!(json["codec"], "hevc");
        assert_eq!(json["entrypoints"], serde_json::json!(["VLD"]));
    }

    #[test]
    fn a_device_serves_when_it_decodes_the_profile_size_and_format() {
        let h264 = track("h264", Some("High"), 8, YUV420);
        let intel = device(
            "/dev/dri/renderD128",
            vec![
                decoder(VaProfile::H264Main, (4096, 4096), &[b"NV12"]),
                decoder(VaProfile::H264High, (4096, 4096), &[b"NV12", b"P010"]),
            ],
        );
        let (index, reason) = choose_device(std::slice::from_ref(&intel), &h264).unwrap();
        assert_eq!(index, 0);
        assert_eq!(
            reason,
            "VA-API on /dev/dri/renderD128 (Intel iHD driver - 23.1.1): H264High up to \
             4096x4096 into NV12 (Nv12)"
        );
        // An encoder-only profile does not decode.
        let mut encoder_only = intel.clone();
        encoder_only.profiles[1].entrypoints = vec![VaEntrypoint::EncSlice];
        assert_eq!(
            choose_device(&[encoder_only], &h264).unwrap_err(),
            "/dev/dri/renderD128 (Intel iHD driver - 23.1.1): the driver does not decode H264High"
        );
        // Too large.
        let mut huge = h264.clone();
        huge.coded_width = 8192;
        assert_eq!(
            choose_device(std::slice::from_ref(&intel), &huge).unwrap_err(),
            "/dev/dri/renderD128 (Intel iHD driver - 23.1.1): H264High decodes up to 4096x4096, \
             the track is 8192x1080"
        );
        // A 10-bit stream on a driver whose profile lists only NV12.
        let hevc10 = track("hevc", Some("Main 10"), 10, YUV420);
        let nv12_only = device(
            "/dev/dri/renderD128",
            vec![decoder(VaProfile::HEVCMain10, (8192, 8192), &[b"NV12"])],
        );
        assert!(choose_device(&[nv12_only], &hevc10)
            .unwrap_err()
            .ends_with("HEVCMain10 decodes into NV12, not P010"));
    }

    #[test]
    fn the_first_device_that_serves_is_chosen_and_refusals_are_kept() {
        let vp9 = track("vp9", Some("Profile 2"), 10, YUV420);
        let mut broken = device("/dev/dri/renderD128", vec![]);
        broken.error = Some("libva found no driver (vaInitialize: unknown libva error)".into());
        let amd = device(
            "/dev/dri/renderD129",
            vec![decoder(VaProfile::VP9Profile2, (8192, 4352), &[b"P010"])],
        );
        let (index, _) = choose_device(&[broken.clone(), amd], &vp9).unwrap();
        assert_eq!(index, 1);
        let old = device(
            "/dev/dri/renderD129",
            vec![decoder(VaProfile::VP9Profile0, (4096, 4096), &[b"NV12"])],
        );
        assert_eq!(
            choose_device(&[broken, old], &vp9).unwrap_err(),
            "/dev/dri/renderD128: libva found no driver (vaInitialize: unknown libva error); \
             /dev/dri/renderD129 (Intel iHD driver - 23.1.1): the driver does not decode VP9Profile2"
        );
        assert_eq!(
            choose_device(&[], &vp9).unwrap_err(),
            "no DRM render node on this machine (/dev/dri/renderD*)"
        );
        // The stream's own refusal comes before any device's.
        let yuv444 = track("hevc", Some("Rext"), 8, ChromaSubsampling::YUV444);
        assert!(choose_device(&[], &yuv444)
            .unwrap_err()
            .starts_with("FFmpeg's VAAPI hwaccel does not decode hevc profile 'Rext'"));
    }

    #[test]
    fn the_gpu_must_import_tiled_dma_bufs() {
        assert_eq!(
            interop_problem(None),
            Some("no GPU context to import its DMA-BUF surfaces into")
        );
        let mut interop = Interop::default();
        assert!(interop_problem(Some(&interop))
            .unwrap()
            .contains("VK_EXT_external_memory_dma_buf"));
        interop.dma_buf_memory = true;
        assert!(interop_problem(Some(&interop))
            .unwrap()
            .contains("VK_EXT_image_drm_format_modifier"));
        interop.drm_format_modifiers = true;
        assert_eq!(interop_problem(Some(&interop)), None);
    }
}
