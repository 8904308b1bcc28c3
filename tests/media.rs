//! Metadata of the real-world files in `../shared/media`, asserted exactly.
//!
//! Every expected value below comes from ffprobe 5.1 (`-show_streams
//! -show_packets -show_format`, plus `-show_frames` for VP9, whose hidden
//! alt-ref packets only a decode tells apart) and from the media MANIFEST,
//! never from stills' own output. Where stills and ffprobe name a value
//! differently the mapping is written beside it: ffprobe's colour "unknown"
//! is H.273 "unspecified", its `rotation` is counter-clockwise degrees while
//! `Orientation::rotation` is the clockwise turn that shows the picture
//! upright, and display sizes keep the height and scale the width by the
//! sample aspect ratio (AVFoundation's convention), then swap for quarter
//! turns.

mod common;

use std::path::Path;

use stills::asset::color::{
    ChromaLocation, Chromaticity, ColorInfo, ColorPrimaries as P, ColorRange, ContentLightLevel,
    DolbyVisionConfig, HdrFormat, HdrInfo, MasteringDisplay, MatrixCoefficients as M,
    TransferCharacteristic as T,
};
use stills::asset::geometry::{DisplayMatrix, Orientation};
use stills::asset::{TimelineKind, TrackKind};
use stills::ratio::Ratio;
use stills::{Asset, Error};

const MOV: &str = "mov,mp4,m4a,3gp,3g2,mj2";
const MKV: &str = "matroska,webm";

/// What opening one file must give.
enum Expect {
    Opens(Container),
    /// The open fails with `Error::Truncated`.
    Truncated,
}

struct Container {
    format: &'static str,
    timeline: TimelineKind,
    /// ffprobe's format `start_time` and `duration`, in microseconds (FFmpeg
    /// keeps both in `AV_TIME_BASE`, and ffprobe prints them to the µs).
    start_us: Option<i64>,
    duration_us: Option<i64>,
    /// Every stream in order: its kind and ffprobe's codec name (`None` where
    /// ffprobe says "unknown", as for the `mebx` data tracks).
    tracks: &'static [(TrackKind, Option<&'static str>)],
    /// Stream index of the track images are taken from.
    default_video: Option<usize>,
    /// ffprobe reports the data ending before the header says it does
    /// ("File ended prematurely"). stills checks only MP4 box sizes at open,
    /// so its warnings are compared only for files that are whole: none.
    ends_early: bool,
    video: &'static [Video],
}

struct Video {
    index: usize,
    /// The `tkhd` track ID; `None` where ffprobe does not show stream IDs
    /// (Matroska, raw streams), so there is nothing to compare with.
    id: Option<i32>,
    codec: &'static str,
    profile: Option<&'static str>,
    /// `None` where ffprobe says -99 (`FF_LEVEL_UNKNOWN`).
    level: Option<i32>,
    pixel_format: Option<&'static str>,
    /// ffprobe's `bits_per_raw_sample`, else the depth of its `pix_fmt`.
    bit_depth: Option<u8>,
    coded: (u32, u32),
    display: (u32, u32),
    sar: Option<(i64, i64)>,
    /// ffprobe's "Display Matrix" side data, row-major.
    display_matrix: Option<[i32; 9]>,
    orientation: Option<Orientation>,
    /// ffprobe `field_order`: progressive → false, tt/bb/… → true,
    /// unknown → `None`.
    interlaced: Option<bool>,
    color: ColorInfo,
    hdr: HdrInfo,
    /// Denominator of the time base (every time base here is 1/n).
    timescale: i64,
    /// ffprobe `nb_frames` (the container's declared count).
    declared_frames: Option<u64>,
    default: bool,
    /// Packets of the track, shown or not.
    packets: usize,
    timeline: Frames,
}

enum Frames {
    Shown(Timeline),
    /// A track with no frame to show: its timeline is `None`.
    Empty,
    /// ffprobe gives no frame list to compare with; the timeline must still
    /// be read without an error.
    NotCompared,
}

/// A track's timeline, times in ticks of its time base.
struct Timeline {
    frames: usize,
    sync: usize,
    first: i64,
    last: i64,
    /// For MP4/MOV, the track's declared end (ffprobe's stream start +
    /// duration, from `mdhd` and the edit list) when it lies after the last
    /// frame; otherwise the last frame's pts plus its packet duration.
    end: i64,
    average_rate: Option<(i64, i64)>,
    variable: bool,
}

const fn o(rotation: u16, mirror: bool) -> Option<Orientation> {
    Some(Orientation { rotation, mirror })
}

const UPRIGHT: Option<Orientation> = o(0, false);

const fn color(
    primaries: P,
    transfer: T,
    matrix: M,
    range: ColorRange,
    chroma_location: ChromaLocation,
) -> ColorInfo {
    ColorInfo {
        primaries,
        transfer,
        matrix,
        range,
        chroma_location,
    }
}

const UNTAGGED: ColorInfo = color(
    P::Unspecified,
    T::Unspecified,
    M::Unspecified,
    ColorRange::Unspecified,
    ChromaLocation::Left,
);

const BT709: ColorInfo = color(
    P::Bt709,
    T::Bt709,
    M::Bt709,
    ColorRange::Limited,
    ChromaLocation::Left,
);

const fn xy(x: f64, y: f64) -> Chromaticity {
    Chromaticity { x, y }
}

/// The decord phone clips: the same 568×320 Baseline stream, three matrices.
const fn decord(matrix: [i32; 9], orientation: Option<Orientation>, display: (u32, u32)) -> Video {
    Video {
        index: 0,
        id: Some(1),
        codec: "h264",
        profile: Some("Baseline"),
        level: Some(30),
        pixel_format: Some("yuv420p"),
        bit_depth: Some(8),
        coded: (568, 320),
        display,
        sar: None,
        display_matrix: Some(matrix),
        orientation,
        interlaced: Some(false),
        color: BT709,
        hdr: HdrInfo::SDR,
        timescale: 19200,
        declared_frames: Some(3),
        default: true,
        packets: 3,
        timeline: Frames::Shown(Timeline {
            frames: 3,
            sync: 1,
            first: 0,
            last: 1280,
            end: 1920,
            average_rate: Some((30, 1)),
            variable: false,
        }),
    }
}

const DECORD: Container = Container {
    format: MOV,
    timeline: TimelineKind::Presentation,
    start_us: Some(0),
    duration_us: Some(100_000),
    tracks: &[(TrackKind::Video, Some("h264"))],
    default_video: Some(0),
    ends_early: false,
    video: &[],
};

/// One entry per file under `../shared/media`, by path relative to it.
static MEDIA: &[(&str, Expect)] = &[
    (
        "androidx/bbb_800x640_768kbps_30fps_avc_2b_firstpts_10_sec.mp4",
        Expect::Opens(Container {
            format: MOV,
            timeline: TimelineKind::Presentation,
            start_us: Some(10_000_000),
            duration_us: Some(14_000_000),
            tracks: &[(TrackKind::Video, Some("h264"))],
            default_video: Some(0),
            ends_early: false,
            video: &[Video {
                index: 0,
                id: Some(1),
                codec: "h264",
                profile: Some("High"),
                level: Some(31),
                pixel_format: Some("yuv420p"),
                bit_depth: Some(8),
                coded: (800, 640),
                // 800 × 1137/800.
                display: (1137, 640),
                sar: Some((1137, 800)),
                display_matrix: None,
                orientation: UPRIGHT,
                interlaced: Some(false),
                color: UNTAGGED,
                hdr: HdrInfo::SDR,
                timescale: 15360,
                declared_frames: Some(120),
                default: true,
                packets: 120,
                // The empty edit of 10 s: 153600 / 15360.
                timeline: Frames::Shown(Timeline {
                    frames: 120,
                    sync: 1,
                    first: 153_600,
                    last: 214_528,
                    end: 215_040,
                    average_rate: Some((30, 1)),
                    variable: false,
                }),
            }],
        }),
    ),
    (
        "androidx/bear-vp9-odd-dimensions.webm",
        Expect::Opens(Container {
            format: MKV,
            timeline: TimelineKind::Presentation,
            start_us: Some(0),
            duration_us: Some(1_001_000),
            tracks: &[(TrackKind::Video, Some("vp9"))],
            default_video: Some(0),
            ends_early: false,
            video: &[Video {
                index: 0,
                id: None,
                codec: "vp9",
                profile: Some("Profile 0"),
                level: None,
                pixel_format: Some("yuv420p"),
                bit_depth: Some(8),
                coded: (161, 121),
                display: (161, 121),
                sar: Some((1, 1)),
                display_matrix: None,
                orientation: UPRIGHT,
                interlaced: None,
                color: color(
                    P::Unspecified,
                    T::Unspecified,
                    M::Unspecified,
                    ColorRange::Limited,
                    ChromaLocation::Unspecified,
                ),
                hdr: HdrInfo::SDR,
                timescale: 1000,
                declared_frames: None,
                default: true,
                packets: 30,
                // 33/34 ms gaps: 29.97 fps rounded to the ms, not VFR.
                timeline: Frames::Shown(Timeline {
                    frames: 30,
                    sync: 1,
                    first: 0,
                    last: 968,
                    end: 1001,
                    average_rate: Some((29 * 1000, 968)),
                    variable: false,
                }),
            }],
        }),
    ),
    (
        "androidx/dolbyVision-hdr.MOV",
        Expect::Opens(Container {
            format: MOV,
            timeline: TimelineKind::Presentation,
            start_us: Some(0),
            duration_us: Some(106_667),
            tracks: &[
                (TrackKind::Video, Some("hevc")),
                (TrackKind::Audio, Some("aac")),
                (TrackKind::Data, None),
                (TrackKind::Data, None),
                (TrackKind::Data, None),
            ],
            default_video: Some(0),
            ends_early: false,
            video: &[Video {
                index: 0,
                id: Some(1),
                codec: "hevc",
                profile: Some("Main 10"),
                level: Some(93),
                pixel_format: Some("yuv420p10le"),
                bit_depth: Some(10),
                coded: (1280, 720),
                display: (720, 1280),
                sar: None,
                // ffprobe rotation -90: a quarter turn clockwise.
                display_matrix: Some([0, 65536, 0, -65536, 0, 0, 47_185_920, 0, 1 << 30]),
                orientation: o(90, false),
                interlaced: None,
                color: color(
                    P::Bt2020,
                    T::Hlg,
                    M::Bt2020Ncl,
                    ColorRange::Limited,
                    ChromaLocation::Left,
                ),
                hdr: HdrInfo {
                    format: Some(HdrFormat::Hlg),
                    mastering_display: None,
                    content_light_level: None,
                    dolby_vision: Some(DolbyVisionConfig {
                        version_major: 1,
                        version_minor: 0,
                        profile: 8,
                        level: 2,
                        rpu_present: true,
                        el_present: false,
                        bl_present: true,
                        bl_signal_compatibility_id: 4,
                    }),
                },
                timescale: 600,
                declared_frames: Some(5),
                default: true,
                // The fifth packet lies past the edit list (flag D): 4 shown,
                // and the edit ends the track at 64/600 s, inside the last
                // frame's 20 ticks.
                packets: 5,
                timeline: Frames::Shown(Timeline {
                    frames: 4,
                    sync: 1,
                    first: 0,
                    last: 60,
                    end: 64,
                    average_rate: Some((30, 1)),
                    variable: false,
                }),
            }],
        }),
    ),
    (
        "androidx/invalid-bitstream.webm",
        Expect::Opens(Container {
            format: MKV,
            timeline: TimelineKind::Presentation,
            start_us: Some(0),
            duration_us: Some(2_000_000),
            tracks: &[(TrackKind::Video, Some("vp9"))],
            default_video: Some(0),
            ends_early: false,
            video: &[Video {
                index: 0,
                id: None,
                codec: "vp9",
                profile: Some("Profile 2"),
                level: None,
                // Nothing decodes, so ffprobe learns no pixel format.
                pixel_format: None,
                bit_depth: None,
                coded: (320, 240),
                display: (320, 240),
                sar: Some((1, 1)),
                display_matrix: None,
                orientation: UPRIGHT,
                interlaced: None,
                color: color(
                    P::Unspecified,
                    T::Unspecified,
                    M::Unspecified,
                    ColorRange::Unspecified,
                    ChromaLocation::Unspecified,
                ),
                hdr: HdrInfo::SDR,
                timescale: 1000,
                declared_frames: None,
                default: true,
                // 51 packets, each a keyframe with a timestamp. Their bytes
                // are VP8 frames (`9d 01 2a` start codes) under a VP9 codec
                // ID, so nothing decodes and ffprobe has no shown-frame count.
                packets: 51,
                timeline: Frames::NotCompared,
            }],
        }),
    ),
    (
        "androidx/roadtrip-vp92-10bit.webm",
        Expect::Opens(Container {
            format: MKV,
            timeline: TimelineKind::Presentation,
            start_us: Some(0),
            duration_us: Some(3_002_000),
            tracks: &[(TrackKind::Video, Some("vp9"))],
            default_video: Some(0),
            ends_early: false,
            video: &[Video {
                index: 0,
                id: None,
                codec: "vp9",
                profile: Some("Profile 2"),
                level: None,
                pixel_format: Some("yuv420p10le"),
                bit_depth: Some(10),
                coded: (426, 240),
                display: (426, 240),
                sar: Some((1, 1)),
                display_matrix: None,
                orientation: UPRIGHT,
                interlaced: None,
                color: color(
                    P::Unspecified,
                    T::Unspecified,
                    M::Bt2020Ncl,
                    ColorRange::Limited,
                    ChromaLocation::Unspecified,
                ),
                hdr: HdrInfo::SDR,
                timescale: 1000,
                declared_frames: None,
                default: true,
                // 80 packets, 72 decoded frames (`-count_frames`): 8 alt-refs
                // are never shown.
                packets: 80,
                timeline: Frames::Shown(Timeline {
                    frames: 72,
                    sync: 3,
                    first: 0,
                    last: 2961,
                    end: 3002,
                    average_rate: Some((71 * 1000, 2961)),
                    variable: false,
                }),
            }],
        }),
    ),
    (
        "androidx/sample_empty_track.mp4",
        Expect::Opens(Container {
            format: MOV,
            timeline: TimelineKind::Presentation,
            start_us: Some(0),
            duration_us: Some(1_065_600),
            tracks: &[
                (TrackKind::Video, Some("h264")),
                (TrackKind::Video, Some("h264")),
                (TrackKind::Audio, Some("aac")),
            ],
            default_video: Some(0),
            ends_early: false,
            video: &[
                Video {
                    index: 0,
                    id: Some(1),
                    codec: "h264",
                    profile: Some("High"),
                    level: Some(52),
                    pixel_format: Some("yuv420p"),
                    bit_depth: Some(8),
                    coded: (1080, 720),
                    display: (1080, 720),
                    sar: Some((1, 1)),
                    display_matrix: None,
                    orientation: UPRIGHT,
                    interlaced: Some(false),
                    color: BT709,
                    hdr: HdrInfo::SDR,
                    timescale: 90000,
                    declared_frames: Some(30),
                    default: true,
                    packets: 30,
                    // Gaps of 3002–3004 ticks: 29.97 fps with rounding
                    // jitter. The track's declared end (87086) is the last
                    // frame's pts, so the end is that frame's 3003 ticks on.
                    timeline: Frames::Shown(Timeline {
                        frames: 30,
                        sync: 1,
                        first: 0,
                        last: 87_086,
                        end: 90_089,
                        average_rate: Some((29 * 90000, 87_086)),
                        variable: false,
                    }),
                },
                Video {
                    index: 1,
                    id: Some(2),
                    codec: "h264",
                    profile: None,
                    level: None,
                    pixel_format: None,
                    bit_depth: None,
                    coded: (1080, 720),
                    display: (1080, 720),
                    sar: Some((1, 1)),
                    display_matrix: None,
                    orientation: UPRIGHT,
                    interlaced: None,
                    color: color(
                        P::Bt709,
                        T::Bt709,
                        M::Bt709,
                        ColorRange::Limited,
                        ChromaLocation::Unspecified,
                    ),
                    hdr: HdrInfo::SDR,
                    timescale: 90000,
                    declared_frames: None,
                    default: true,
                    packets: 0,
                    timeline: Frames::Empty,
                },
            ],
        }),
    ),
    (
        "androidx/sample_with_colr_mdcv_and_clli.mp4",
        Expect::Opens(Container {
            format: MOV,
            timeline: TimelineKind::Presentation,
            start_us: Some(0),
            duration_us: Some(1_022_000),
            tracks: &[
                (TrackKind::Video, Some("av1")),
                (TrackKind::Audio, Some("aac")),
            ],
            default_video: Some(0),
            ends_early: false,
            video: &[Video {
                index: 0,
                id: Some(1),
                codec: "av1",
                profile: Some("Main"),
                level: Some(9),
                pixel_format: Some("yuv420p10le"),
                bit_depth: Some(10),
                coded: (1920, 1080),
                display: (1920, 1080),
                sar: Some((1, 1)),
                display_matrix: None,
                orientation: UPRIGHT,
                interlaced: None,
                color: color(
                    P::Bt2020,
                    T::Pq,
                    M::Bt2020Ncl,
                    ColorRange::Limited,
                    ChromaLocation::Unspecified,
                ),
                hdr: HdrInfo {
                    format: Some(HdrFormat::Pq),
                    mastering_display: Some(MasteringDisplay {
                        primaries: Some([
                            xy(33899.0 / 50000.0, 16099.0 / 50000.0),
                            xy(12250.0 / 50000.0, 35150.0 / 50000.0),
                            xy(6899.0 / 50000.0, 2600.0 / 50000.0),
                        ]),
                        white_point: Some(xy(15634.0 / 50000.0, 16449.0 / 50000.0)),
                        min_luminance: Some(0.0),
                        max_luminance: Some(1000.0),
                    }),
                    content_light_level: Some(ContentLightLevel {
                        max_cll: 1100,
                        max_fall: 180,
                    }),
                    dolby_vision: None,
                },
                timescale: 60000,
                declared_frames: Some(60),
                default: true,
                packets: 60,
                timeline: Frames::Shown(Timeline {
                    frames: 60,
                    sync: 1,
                    first: 0,
                    last: 59_059,
                    end: 60_060,
                    average_rate: Some((60000, 1001)),
                    variable: false,
                }),
            }],
        }),
    ),
    (
        "croscodecs/test-25fps-interlaced.h264",
        Expect::Opens(Container {
            format: "h264",
            timeline: TimelineKind::TransportClock,
            start_us: None,
            duration_us: None,
            tracks: &[(TrackKind::Video, Some("h264"))],
            default_video: Some(0),
            ends_early: false,
            video: &[Video {
                index: 0,
                id: None,
                codec: "h264",
                profile: Some("High"),
                level: Some(21),
                pixel_format: Some("yuv420p"),
                bit_depth: Some(8),
                coded: (320, 240),
                display: (320, 240),
                sar: None,
                display_matrix: None,
                orientation: UPRIGHT,
                interlaced: Some(true),
                color: color(
                    P::Smpte170M,
                    T::Bt709,
                    M::Smpte170M,
                    ColorRange::Limited,
                    ChromaLocation::TopLeft,
                ),
                hdr: HdrInfo::SDR,
                timescale: 1_200_000,
                declared_frames: None,
                // Raw Annex B has no dispositions; it is still the only video.
                default: false,
                packets: 250,
                // 250 frames of 48000 ticks (25 fps), one IDR; but no packet
                // has a timestamp. See `raw_h264_timeline` below.
                timeline: Frames::Shown(Timeline {
                    frames: 250,
                    sync: 1,
                    first: 0,
                    last: 249 * 48000,
                    end: 250 * 48000,
                    average_rate: Some((25, 1)),
                    variable: false,
                }),
            }],
        }),
    ),
    (
        "decord/corrupted.mp4",
        Expect::Opens(Container {
            format: MOV,
            timeline: TimelineKind::Presentation,
            start_us: Some(0),
            duration_us: Some(5_000_000),
            tracks: &[(TrackKind::Video, Some("h264"))],
            default_video: Some(0),
            ends_early: false,
            video: &[Video {
                index: 0,
                id: Some(1),
                codec: "h264",
                profile: Some("High"),
                level: Some(31),
                pixel_format: Some("yuv420p"),
                bit_depth: Some(8),
                coded: (1280, 720),
                display: (1280, 720),
                sar: Some((1, 1)),
                display_matrix: None,
                orientation: UPRIGHT,
                interlaced: Some(false),
                color: UNTAGGED,
                hdr: HdrInfo::SDR,
                timescale: 10240,
                declared_frames: Some(50),
                default: true,
                packets: 50,
                timeline: Frames::Shown(Timeline {
                    frames: 50,
                    sync: 1,
                    first: 0,
                    last: 50_176,
                    end: 51_200,
                    average_rate: Some((10, 1)),
                    variable: false,
                }),
            }],
        }),
    ),
    (
        "decord/video_180.mov",
        Expect::Opens(Container {
            video: &[decord(
                // ffprobe rotation -180.
                [-65536, 0, 0, 0, -65536, 0, 37_224_448, 20_971_520, 1 << 30],
                o(180, false),
                (568, 320),
            )],
            ..DECORD
        }),
    ),
    (
        "decord/video_270.mov",
        Expect::Opens(Container {
            video: &[decord(
                // ffprobe rotation +90 (counter-clockwise): 270 clockwise.
                [0, -65536, 0, 65536, 0, 0, 0, 37_224_448, 1 << 30],
                o(270, false),
                (320, 568),
            )],
            ..DECORD
        }),
    ),
    (
        "decord/video_90.mov",
        Expect::Opens(Container {
            video: &[decord(
                // ffprobe rotation -90: 90 clockwise.
                [0, 65536, 0, -65536, 0, 0, 20_971_520, 0, 1 << 30],
                o(90, false),
                (320, 568),
            )],
            ..DECORD
        }),
    ),
    // Cut inside its `moov`: ffprobe "error reading header".
    ("isoboxer/spliced_10000.m4v", Expect::Truncated),
    (
        "jcodec/test.mkv",
        Expect::Opens(Container {
            format: MKV,
            timeline: TimelineKind::Presentation,
            start_us: Some(9_000),
            duration_us: Some(46_665_000),
            tracks: &[
                (TrackKind::Video, Some("h264")),
                (TrackKind::Audio, Some("aac")),
                (TrackKind::Subtitle, Some("subrip")),
                (TrackKind::Subtitle, Some("subrip")),
                (TrackKind::Subtitle, Some("subrip")),
                (TrackKind::Subtitle, Some("subrip")),
                (TrackKind::Subtitle, Some("subrip")),
                (TrackKind::Subtitle, Some("subrip")),
                (TrackKind::Audio, Some("aac")),
                (TrackKind::Subtitle, Some("subrip")),
                (TrackKind::Subtitle, Some("subrip")),
            ],
            default_video: Some(0),
            ends_early: true,
            video: &[Video {
                index: 0,
                id: None,
                codec: "h264",
                profile: Some("Main"),
                level: Some(31),
                pixel_format: Some("yuv420p"),
                bit_depth: Some(8),
                coded: (1024, 576),
                display: (1024, 576),
                sar: Some((1, 1)),
                display_matrix: None,
                orientation: UPRIGHT,
                interlaced: Some(false),
                color: color(
                    P::Smpte170M,
                    T::Bt709,
                    M::Smpte170M,
                    ColorRange::Limited,
                    ChromaLocation::TopLeft,
                ),
                hdr: HdrInfo::SDR,
                timescale: 1000,
                declared_frames: None,
                default: true,
                // Truncated at 100 KiB: one packet (pts 0, 41 ms) of a
                // declared 46.665 s. See `truncated_matroska_end` below.
                packets: 1,
                timeline: Frames::Shown(Timeline {
                    frames: 1,
                    sync: 1,
                    first: 0,
                    last: 0,
                    end: 41,
                    average_rate: None,
                    variable: false,
                }),
            }],
        }),
    ),
    (
        "jcodec/test.prores.mov",
        Expect::Opens(Container {
            format: MOV,
            timeline: TimelineKind::Presentation,
            start_us: Some(0),
            duration_us: Some(982_000),
            tracks: &[
                (TrackKind::Video, Some("prores")),
                (TrackKind::Audio, Some("aac")),
            ],
            default_video: Some(0),
            ends_early: false,
            video: &[Video {
                index: 0,
                id: Some(1),
                codec: "prores",
                profile: Some("Standard"),
                level: None,
                pixel_format: Some("yuv422p10le"),
                bit_depth: Some(10),
                coded: (180, 144),
                // 180 × 16/15.
                display: (192, 144),
                sar: Some((16, 15)),
                display_matrix: None,
                orientation: UPRIGHT,
                interlaced: Some(false),
                color: color(
                    P::Unspecified,
                    T::Unspecified,
                    M::Smpte170M,
                    ColorRange::Limited,
                    ChromaLocation::Unspecified,
                ),
                hdr: HdrInfo::SDR,
                timescale: 48000,
                declared_frames: Some(40),
                default: true,
                packets: 40,
                // Intra-only: every frame is a sync frame.
                timeline: Frames::Shown(Timeline {
                    frames: 40,
                    sync: 40,
                    first: 0,
                    last: 39_039,
                    end: 40_040,
                    average_rate: Some((48000, 1001)),
                    variable: false,
                }),
            }],
        }),
    ),
    (
        "mediabunny/cursed-vfr.mp4",
        Expect::Opens(Container {
            format: MOV,
            timeline: TimelineKind::Presentation,
            start_us: Some(0),
            duration_us: Some(8_725_503),
            tracks: &[(TrackKind::Video, Some("h264"))],
            default_video: Some(0),
            ends_early: false,
            video: &[Video {
                index: 0,
                id: Some(1),
                codec: "h264",
                profile: Some("High"),
                level: Some(50),
                pixel_format: Some("yuv420p"),
                bit_depth: Some(8),
                coded: (3026, 1386),
                display: (3026, 1386),
                sar: None,
                display_matrix: None,
                orientation: UPRIGHT,
                interlaced: Some(false),
                color: BT709,
                hdr: HdrInfo::SDR,
                timescale: 57600,
                declared_frames: Some(63),
                default: true,
                packets: 63,
                // Gaps from 305 to 90432 ticks, 59 distinct.
                timeline: Frames::Shown(Timeline {
                    frames: 63,
                    sync: 4,
                    first: 0,
                    last: 412_157,
                    end: 502_589,
                    average_rate: Some((62 * 57600, 412_157)),
                    variable: true,
                }),
            }],
        }),
    ),
    (
        "mediabunny/sar_2x1.mp4",
        Expect::Opens(Container {
            format: MOV,
            timeline: TimelineKind::Presentation,
            start_us: Some(0),
            duration_us: Some(5_000_000),
            tracks: &[(TrackKind::Video, Some("h264"))],
            default_video: Some(0),
            ends_early: false,
            video: &[Video {
                index: 0,
                id: Some(1),
                codec: "h264",
                profile: Some("High"),
                level: Some(30),
                pixel_format: Some("yuv420p"),
                bit_depth: Some(8),
                coded: (640, 360),
                display: (1280, 360),
                sar: Some((2, 1)),
                display_matrix: None,
                orientation: UPRIGHT,
                interlaced: Some(false),
                color: UNTAGGED,
                hdr: HdrInfo::SDR,
                timescale: 15360,
                declared_frames: Some(150),
                default: true,
                packets: 150,
                timeline: Frames::Shown(Timeline {
                    frames: 150,
                    sync: 1,
                    first: 0,
                    last: 76_288,
                    end: 76_800,
                    average_rate: Some((30, 1)),
                    variable: false,
                }),
            }],
        }),
    ),
    (
        "mp4parse/no_timescale.mp4",
        Expect::Opens(Container {
            format: MOV,
            timeline: TimelineKind::Presentation,
            start_us: Some(66_400),
            duration_us: Some(6_042_400),
            tracks: &[(TrackKind::Video, Some("h264"))],
            default_video: Some(0),
            ends_early: false,
            video: &[Video {
                index: 0,
                id: Some(1),
                codec: "h264",
                profile: Some("High"),
                level: Some(13),
                pixel_format: Some("yuv420p"),
                bit_depth: Some(8),
                coded: (320, 240),
                display: (320, 240),
                sar: Some((1, 1)),
                // All zero (ffprobe rotation INT64_MIN): no orientation.
                display_matrix: Some([0; 9]),
                orientation: None,
                interlaced: Some(false),
                color: UNTAGGED,
                hdr: HdrInfo::SDR,
                timescale: 2500,
                declared_frames: None,
                default: true,
                packets: 182,
                // No edit list; the first composition time is 166 ticks.
                timeline: Frames::Shown(Timeline {
                    frames: 182,
                    sync: 7,
                    first: 166,
                    last: 15_189,
                    end: 15_272,
                    average_rate: Some((2500, 83)),
                    variable: false,
                }),
            }],
        }),
    ),
    (
        "torchcodec/nasa_13013.mp4",
        Expect::Opens(Container {
            format: MOV,
            timeline: TimelineKind::Presentation,
            start_us: Some(0),
            duration_us: Some(16_570_000),
            tracks: &[
                (TrackKind::Video, Some("h264")),
                (TrackKind::Audio, Some("aac")),
                (TrackKind::Subtitle, Some("mov_text")),
                (TrackKind::Video, Some("h264")),
                (TrackKind::Audio, Some("aac")),
                (TrackKind::Subtitle, Some("mov_text")),
            ],
            default_video: Some(0),
            ends_early: false,
            video: &[
                Video {
                    index: 0,
                    id: Some(1),
                    codec: "h264",
                    profile: Some("High"),
                    level: Some(12),
                    pixel_format: Some("yuv420p"),
                    bit_depth: Some(8),
                    coded: (320, 180),
                    display: (320, 180),
                    sar: Some((1, 1)),
                    display_matrix: None,
                    orientation: UPRIGHT,
                    interlaced: Some(false),
                    color: BT709,
                    hdr: HdrInfo::SDR,
                    timescale: 12800,
                    declared_frames: Some(325),
                    default: true,
                    packets: 325,
                    timeline: Frames::Shown(Timeline {
                        frames: 325,
                        sync: 2,
                        first: 0,
                        last: 165_888,
                        end: 166_400,
                        average_rate: Some((25, 1)),
                        variable: false,
                    }),
                },
                Video {
                    index: 3,
                    id: Some(4),
                    codec: "h264",
                    profile: Some("High"),
                    level: Some(21),
                    pixel_format: Some("yuv420p"),
                    bit_depth: Some(8),
                    coded: (480, 270),
                    display: (480, 270),
                    sar: Some((1, 1)),
                    display_matrix: None,
                    orientation: UPRIGHT,
                    interlaced: Some(false),
                    color: BT709,
                    hdr: HdrInfo::SDR,
                    timescale: 30000,
                    declared_frames: Some(390),
                    default: true,
                    packets: 390,
                    timeline: Frames::Shown(Timeline {
                        frames: 390,
                        sync: 2,
                        first: 0,
                        last: 389_389,
                        end: 390_390,
                        average_rate: Some((30000, 1001)),
                        variable: false,
                    }),
                },
            ],
        }),
    ),
    (
        "torchcodec/test_non_zero_start.mp4",
        Expect::Opens(Container {
            format: MOV,
            timeline: TimelineKind::Presentation,
            start_us: Some(8_333_008),
            duration_us: Some(8_734_000),
            tracks: &[(TrackKind::Video, Some("h264"))],
            default_video: Some(0),
            ends_early: false,
            video: &[Video {
                index: 0,
                id: Some(1),
                codec: "h264",
                profile: Some("High"),
                level: Some(11),
                pixel_format: Some("yuv420p"),
                bit_depth: Some(8),
                coded: (200, 112),
                // 200 × 224/225 = 199.1.
                display: (199, 112),
                sar: Some((224, 225)),
                display_matrix: None,
                orientation: UPRIGHT,
                interlaced: Some(false),
                color: UNTAGGED,
                hdr: HdrInfo::SDR,
                timescale: 15360,
                declared_frames: Some(12),
                default: true,
                packets: 12,
                // The empty edit of 8.333 s: 127995 / 15360 = 8.3330078125.
                timeline: Frames::Shown(Timeline {
                    frames: 12,
                    sync: 1,
                    first: 127_995,
                    last: 133_627,
                    end: 134_139,
                    average_rate: Some((30, 1)),
                    variable: false,
                }),
            }],
        }),
    ),
];

fn expectation(rel: &str) -> &'static Expect {
    MEDIA
        .iter()
        .find(|(path, _)| *path == rel)
        .map(|(_, e)| e)
        .unwrap_or_else(|| panic!("no expectation for {rel}"))
}

/// Asserts everything known about one file; `with_timeline` also builds each
/// track's frame index and checks its timeline.
fn check(rel: &str, with_timeline: bool) {
    let Some(dir) = common::media::media_dir() else {
        return;
    };
    let path = dir.join(rel);
    match expectation(rel) {
        Expect::Truncated => match Asset::open(&path) {
            Err(Error::Truncated { .. }) => {}
            other => panic!("{rel}: expected Error::Truncated, got {other:?}"),
        },
        Expect::Opens(want) => {
            let asset = Asset::open(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
            check_container(rel, &asset, want);
            for v in want.video {
                check_video(rel, &asset, v, with_timeline);
            }
        }
    }
}

/// Seconds of an FFmpeg `AV_TIME_BASE` value, back in whole microseconds.
fn micros(seconds: Option<f64>) -> Option<i64> {
    seconds.map(|s| (s * 1e6).round() as i64)
}

fn check_container(rel: &str, asset: &Asset, want: &Container) {
    let c = asset.container();
    assert_eq!(c.format, want.format, "{rel}: format");
    assert_eq!(c.timeline, want.timeline, "{rel}: timeline kind");
    assert_eq!(micros(c.start_time), want.start_us, "{rel}: start time");
    assert_eq!(micros(c.duration), want.duration_us, "{rel}: duration");
    let kinds: Vec<TrackKind> = asset.tracks().iter().map(|t| t.kind).collect();
    let want_kinds: Vec<TrackKind> = want.tracks.iter().map(|t| t.0).collect();
    assert_eq!(kinds, want_kinds, "{rel}: track kinds");
    for (i, (track, (_, codec))) in asset.tracks().iter().zip(want.tracks).enumerate() {
        assert_eq!(track.index, i, "{rel}: track order");
        if let Some(codec) = codec {
            assert_eq!(track.codec, *codec, "{rel}: codec of track {i}");
        }
    }
    let video_indices: Vec<usize> = asset.video_tracks().iter().map(|t| t.index).collect();
    let want_indices: Vec<usize> = want.video.iter().map(|v| v.index).collect();
    assert_eq!(video_indices, want_indices, "{rel}: video tracks");
    if !want.ends_early {
        assert_eq!(c.warnings, Vec::<String>::new(), "{rel}: warnings");
    }
    let default = asset.default_video_track().ok().map(|t| t.index);
    assert_eq!(default, want.default_video, "{rel}: default video track");
}

fn check_video(rel: &str, asset: &Asset, want: &Video, with_timeline: bool) {
    let t = asset
        .video_tracks()
        .iter()
        .find(|t| t.index == want.index)
        .unwrap_or_else(|| panic!("{rel}: no video track {}", want.index));
    let at = format!("{rel} track {}", want.index);
    if let Some(id) = want.id {
        assert_eq!(t.id, id, "{at}: id");
    }
    assert_eq!(t.codec, want.codec, "{at}: codec");
    assert_eq!(t.profile.as_deref(), want.profile, "{at}: profile");
    assert_eq!(t.level, want.level, "{at}: level");
    assert_eq!(
        t.pixel_format.as_deref(),
        want.pixel_format,
        "{at}: pixel format"
    );
    assert_eq!(t.bit_depth, want.bit_depth, "{at}: bit depth");
    assert_eq!(
        (t.coded_width, t.coded_height),
        want.coded,
        "{at}: coded size"
    );
    assert_eq!(
        (t.display_width, t.display_height),
        want.display,
        "{at}: display size"
    );
    let sar = want.sar.map(|(n, d)| Ratio::new(n, d).expect("non-zero"));
    assert_eq!(t.sample_aspect_ratio, sar, "{at}: sample aspect ratio");
    assert_eq!(
        t.display_matrix,
        want.display_matrix.map(DisplayMatrix),
        "{at}: display matrix"
    );
    assert_eq!(t.orientation, want.orientation, "{at}: orientation");
    assert_eq!(t.clean_aperture, None, "{at}: no file here has a clap box");
    assert_eq!(t.interlaced, want.interlaced, "{at}: interlaced");
    assert_eq!(t.color, want.color, "{at}: colour");
    assert_eq!(t.hdr, want.hdr, "{at}: HDR");
    assert_eq!(
        t.time_base,
        Ratio::new(1, want.timescale).expect("non-zero"),
        "{at}: time base"
    );
    assert_eq!(
        t.declared_frames, want.declared_frames,
        "{at}: declared frames"
    );
    assert_eq!(
        t.disposition_default, want.default,
        "{at}: default disposition"
    );
    assert!(!t.attached_picture, "{at}: not cover art");
    if !with_timeline {
        return;
    }
    let index = asset
        .frame_index(t)
        .unwrap_or_else(|e| panic!("{at}: frame index: {e}"));
    assert_eq!(index.packets.len(), want.packets, "{at}: packets");
    let timeline = asset
        .timeline(t)
        .unwrap_or_else(|e| panic!("{at}: timeline: {e}"));
    match (timeline, &want.timeline) {
        (None, Frames::Empty) | (_, Frames::NotCompared) => {}
        (Some(tl), Frames::Shown(w)) => {
            let secs = |ticks: i64| ticks as f64 / want.timescale as f64;
            assert_eq!(tl.frame_count, w.frames, "{at}: shown frames");
            assert_eq!(tl.sync_frame_count, w.sync, "{at}: sync frames");
            assert_eq!(tl.first_frame.seconds(), secs(w.first), "{at}: first frame");
            assert_eq!(tl.last_frame.seconds(), secs(w.last), "{at}: last frame");
            assert_eq!(tl.end.seconds(), secs(w.end), "{at}: end");
            assert_eq!(
                tl.duration.seconds(),
                secs(w.end - w.first),
                "{at}: duration"
            );
            let rate = w
                .average_rate
                .map(|(n, d)| Ratio::new(n, d).expect("non-zero"));
            assert_eq!(tl.average_frame_rate, rate, "{at}: average frame rate");
            assert_eq!(
                tl.variable_frame_rate, w.variable,
                "{at}: variable frame rate"
            );
        }
        (Some(tl), Frames::Empty) => panic!("{at}: expected no frames, got {tl:?}"),
        (None, Frames::Shown(_)) => panic!("{at}: expected frames, got no timeline"),
    }
}

macro_rules! media_tests {
    ($($name:ident => $path:literal,)*) => {
        $(
            #[test]
            fn $name() {
                check($path, true);
            }
        )*
    };
}

media_tests! {
    bbb_anamorphic_empty_edit_10s => "androidx/bbb_800x640_768kbps_30fps_avc_2b_firstpts_10_sec.mp4",
    bear_vp9_odd_dimensions => "androidx/bear-vp9-odd-dimensions.webm",
    dolby_vision_hlg_rotated => "androidx/dolbyVision-hdr.MOV",
    invalid_vp9_bitstream => "androidx/invalid-bitstream.webm",
    roadtrip_vp9_10bit_hidden_frames => "androidx/roadtrip-vp92-10bit.webm",
    empty_second_video_track => "androidx/sample_empty_track.mp4",
    av1_hdr10_mdcv_clli => "androidx/sample_with_colr_mdcv_and_clli.mp4",
    corrupted_h264 => "decord/corrupted.mp4",
    rotated_180 => "decord/video_180.mov",
    rotated_270 => "decord/video_270.mov",
    rotated_90 => "decord/video_90.mov",
    spliced_inside_moov => "isoboxer/spliced_10000.m4v",
    prores_422 => "jcodec/test.prores.mov",
    extreme_vfr => "mediabunny/cursed-vfr.mp4",
    sar_2_to_1 => "mediabunny/sar_2x1.mp4",
    zero_display_matrix => "mp4parse/no_timescale.mp4",
    two_video_tracks => "torchcodec/nasa_13013.mp4",
    empty_edit_8_333s => "torchcodec/test_non_zero_start.mp4",
}

/// Metadata of the raw Annex B stream. Its timeline is checked separately
/// because stills refuses to index it (see `raw_h264_timeline`).
#[test]
fn raw_h264_interlaced_metadata() {
    check("croscodecs/test-25fps-interlaced.h264", false);
}

/// SPEC ("the timeline") lists raw elementary streams among the
/// transport-clock formats; ffprobe and ffmpeg read 250 frames of 48000
/// ticks each from this file, but no packet carries a timestamp, and the
/// frame index refuses such a track.
#[test]

fn raw_h264_timeline() {
    check("croscodecs/test-25fps-interlaced.h264", true);
}

/// Metadata of the Matroska file cut at 100 KiB; its timeline end is checked
/// separately (see `truncated_matroska_end`).
#[test]
fn truncated_matroska_metadata() {
    check("jcodec/test.mkv", false);
}

/// The one frame present is 41 ms long; the header's 46.665 s describes data
/// that is not there, so the track must not claim to show that frame for
/// 46 s.
#[test]
fn truncated_matroska_end() {
    check("jcodec/test.mkv", true);
}

/// Every file in the shared directory has an expectation above, so a file
/// added there cannot go untested.
#[test]
fn every_shared_file_is_covered() {
    let Some(dir) = common::media::media_dir() else {
        return;
    };
    let files = common::media::media_files(&dir);
    let listed: Vec<&Path> = MEDIA.iter().map(|(p, _)| Path::new(*p)).collect();
    for file in &files {
        assert!(
            listed.contains(&file.as_path()),
            "{} has no expectation in tests/media.rs",
            file.display()
        );
    }
    assert_eq!(files.len(), MEDIA.len(), "entries for files that are gone");
}
