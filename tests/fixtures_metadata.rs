//! Metadata of every fixture in `tests/fixtures`, asserted exactly.
//!
//! The ground truth is `tests/fixtures/README.md`, which `describe.py`
//! writes from ffprobe 5.1 and the MP4 boxes; facts it does not print
//! (level, `nb_frames`, stream id, field order, disposition) come from
//! `ffprobe -show_streams` on the same files. Never from stills' output.
//!
//! Per-packet facts are read from the README at test time rather than copied
//! here: each video track's packets in decode order (pts, `K` sync flag, `D`
//! discard flag) must equal the frame index's packets one for one, and the
//! README's presentation list (`code:pts`) must equal the index's
//! presentation order. The table below holds the scalar facts, including the
//! packet counts, so a README line that failed to parse cannot pass.
//!
//! Naming as in `tests/media.rs`: ffprobe's colour "unknown" is H.273
//! "unspecified"; ffprobe's `rotation` is counter-clockwise degrees while
//! `Orientation::rotation` is the clockwise turn applied after the mirror;
//! display sizes scale the width by the pixel aspect ratio, then swap for
//! quarter turns.

mod common;

use std::path::{Path, PathBuf};

use stills::asset::color::{
    ChromaLocation, ColorInfo, ColorPrimaries as P, ColorRange, HdrFormat, HdrInfo,
    MatrixCoefficients as M, TransferCharacteristic as T,
};
use stills::asset::geometry::{CleanAperture, DisplayMatrix, Orientation};
use stills::asset::{TimelineKind, TrackKind};
use stills::ratio::Ratio;
use stills::{Asset, Error, Time};

const MOV: &str = "mov,mp4,m4a,3gp,3g2,mj2";
const MKV: &str = "matroska,webm";

/// What opening one fixture must give.
enum Expect {
    /// `Error::UnrecognizedFormat`.
    Unrecognized,
    /// `Error::Truncated`, whose reason starts with this text.
    Truncated(&'static str),
    Opens(Container),
}

struct Container {
    format: &'static str,
    timeline: TimelineKind,
    /// ffprobe's format `start_time` and `duration`, in microseconds.
    start_us: i64,
    duration_us: i64,
    /// Every stream in order: kind and codec.
    tracks: &'static [(TrackKind, &'static str)],
    warnings: &'static [&'static str],
    video: &'static [Video],
}

#[derive(Clone, Copy)]
struct Video {
    index: usize,
    /// The `tkhd` track ID or TS PID; `None` where ffprobe prints no id
    /// (Matroska), so there is nothing to compare with.
    id: Option<i32>,
    codec: &'static str,
    profile: &'static str,
    /// `None` where ffprobe says -99 (`FF_LEVEL_UNKNOWN`).
    level: Option<i32>,
    pixel_format: &'static str,
    /// ffprobe's `bits_per_raw_sample`, else the depth of its `pix_fmt`.
    bit_depth: u8,
    /// log2 of the chroma subsampling, horizontal and vertical.
    chroma: (u8, u8),
    coded: (u32, u32),
    display: (u32, u32),
    sar: (i64, i64),
    /// ffprobe's "Display Matrix" side data, row-major.
    display_matrix: Option<[i32; 9]>,
    orientation: Orientation,
    /// The `clap` box as `mp4edit.py dump` reads it: width, height,
    /// horizontal and vertical offset, each `num/den`.
    clean_aperture: Option<[(i64, i64); 4]>,
    color: ColorInfo,
    hdr: Option<HdrFormat>,
    /// Denominator of the time base (every time base here is 1/n).
    timescale: i64,
    /// ffprobe `nb_frames`.
    declared_frames: Option<u64>,
    default: bool,
    /// Where the README lists this track's packets.
    packets_from: Packets,
    /// Ticks subtracted from the container's pts to put them on the asset
    /// timeline: ffprobe's `start_pts` for MPEG-TS, 0 otherwise.
    timeline_offset: i64,
    frames: Frames,
}

#[derive(Clone, Copy)]
enum Packets {
    /// In this fixture's own section: its n-th decode-order line for its
    /// n-th video track, and its n-th `code:pts` line.
    Listed,
    /// A remux of another fixture with the same samples in the same order
    /// (checked with `ffprobe -show_packets`): the first `frames.packets` of
    /// that fixture's list. Its presentation order is those packets sorted by pts.
    SameAs(&'static str),
    /// Like `SameAs`, for a file cut inside its last packet: FFmpeg flags
    /// that packet corrupt, so it is indexed but never shown.
    CutFrom(&'static str),
}

/// The track's packets and timeline, times in ticks of its time base on the
/// asset timeline.
#[derive(Clone, Copy)]
struct Frames {
    packets: usize,
    shown: usize,
    /// Sync frames among the shown ones.
    sync: usize,
    first: i64,
    last: i64,
    end: i64,
    /// `(n − 1)` frame steps over `last − first`, reduced.
    rate: (i64, i64),
    vfr: bool,
}

/// `n` frames `step` ticks apart from `first`, all shown, the last one
/// displayed for one more step (for MP4 that is also the declared end).
const fn steady(n: usize, sync: usize, first: i64, step: i64, rate: (i64, i64)) -> Frames {
    let last = first + step * (n as i64 - 1);
    Frames {
        packets: n,
        shown: n,
        sync,
        first,
        last,
        end: last + step,
        rate,
        vfr: false,
    }
}

const UPRIGHT: Orientation = Orientation {
    rotation: 0,
    mirror: false,
};

const fn color(p: P, t: T, m: M, range: ColorRange, chroma: ChromaLocation) -> ColorInfo {
    ColorInfo {
        primaries: p,
        transfer: t,
        matrix: m,
        range,
        chroma_location: chroma,
    }
}

const UNTAGGED: ColorInfo = color(
    P::Unspecified,
    T::Unspecified,
    M::Unspecified,
    ColorRange::Unspecified,
    ChromaLocation::Left,
);
/// VP9 and AV1 headers carry the range; ffprobe shows nothing else.
const TV_ONLY: ColorInfo = color(
    P::Unspecified,
    T::Unspecified,
    M::Unspecified,
    ColorRange::Limited,
    ChromaLocation::Unspecified,
);
const BT601: ColorInfo = color(
    P::Smpte170M,
    T::Smpte170M,
    M::Smpte170M,
    ColorRange::Limited,
    ChromaLocation::Left,
);
const BT709: ColorInfo = color(
    P::Bt709,
    T::Bt709,
    M::Bt709,
    ColorRange::Limited,
    ChromaLocation::Left,
);

/// The common case: 1 s of 320x240 libx264 High 4:2:0 at 25 fps, MP4
/// timescale 12800, untagged.
const SD: Video = Video {
    index: 0,
    id: Some(1),
    codec: "h264",
    profile: "High",
    level: Some(13),
    pixel_format: "yuv420p",
    bit_depth: 8,
    chroma: (1, 1),
    coded: (320, 240),
    display: (320, 240),
    sar: (1, 1),
    display_matrix: None,
    orientation: UPRIGHT,
    clean_aperture: None,
    color: UNTAGGED,
    hdr: None,
    timescale: 12800,
    declared_frames: Some(25),
    default: true,
    packets_from: Packets::Listed,
    timeline_offset: 0,
    frames: steady(25, 1, 0, 512, (25, 1)),
};

const SD_2S: Video = Video {
    declared_frames: Some(50),
    frames: steady(50, 2, 0, 512, (25, 1)),
    ..SD
};

/// 0.4 s at 1280x720.
const HD: Video = Video {
    level: Some(31),
    coded: (1280, 720),
    display: (1280, 720),
    declared_frames: Some(10),
    frames: steady(10, 1, 0, 512, (25, 1)),
    ..SD
};

/// 2 s of `h264_bframes.mp4`: closed GOPs of 12, so 5 sync frames.
const BFRAMES: Video = Video {
    frames: steady(50, 5, 0, 512, (25, 1)),
    ..SD_2S
};

/// The 160x96 10 fps stream of the eight orientation files.
const ORIENTED: Video = Video {
    level: Some(10),
    coded: (160, 96),
    display: (160, 96),
    timescale: 10240,
    declared_frames: Some(10),
    frames: steady(10, 1, 0, 1024, (10, 1)),
    ..SD
};

const fn turned(rotation: u16, mirror: bool, matrix: [i32; 9]) -> Video {
    let display = if rotation % 180 == 90 {
        (96, 160)
    } else {
        (160, 96)
    };
    Video {
        display,
        display_matrix: Some(matrix),
        orientation: Orientation { rotation, mirror },
        ..ORIENTED
    }
}

const HEVC: Video = Video {
    codec: "hevc",
    profile: "Main 10",
    level: Some(60),
    pixel_format: "yuv420p10le",
    bit_depth: 10,
    ..SD_2S
};

/// VP9 and H.264 in Matroska/WebM: time base 1/1000, 25 fps, no declared
/// frame count, not flagged default.
const MATROSKA: Video = Video {
    // Each file's TrackNumber is 1, which `VideoTrack::id` is documented to
    // hold, but FFmpeg 5.1 leaves `AVStream.id` at 0 for Matroska (ffprobe
    // prints N/A) and stills reports that 0: not compared until they agree.
    id: None,
    timescale: 1000,
    declared_frames: None,
    default: false,
    ..SD
};

const VP9: Video = Video {
    codec: "vp9",
    profile: "Profile 0",
    level: None,
    color: TV_ONLY,
    ..MATROSKA
};

/// A whole one-track MP4 of 1 s starting at 0.
const MP4_1S: Container = Container {
    format: MOV,
    timeline: TimelineKind::Presentation,
    start_us: 0,
    duration_us: 1_000_000,
    tracks: &[(TrackKind::Video, "h264")],
    warnings: &[],
    video: &[],
};

const MP4_2S: Container = Container {
    duration_us: 2_000_000,
    ..MP4_1S
};

const WEBM: Container = Container {
    format: MKV,
    tracks: &[(TrackKind::Video, "vp9")],
    ..MP4_1S
};

const fn opens(video: &'static [Video]) -> Expect {
    Expect::Opens(Container { video, ..MP4_1S })
}

const fn opens_2s(video: &'static [Video]) -> Expect {
    Expect::Opens(Container { video, ..MP4_2S })
}

const FIXTURES: &[(&str, Expect)] = &[
    (
        "audio_only.mp4",
        Expect::Opens(Container {
            tracks: &[(TrackKind::Audio, "aac")],
            ..MP4_1S
        }),
    ),
    (
        "av1.mp4",
        Expect::Opens(Container {
            tracks: &[(TrackKind::Video, "av1")],
            video: &[Video {
                codec: "av1",
                profile: "Main",
                level: Some(0),
                color: TV_ONLY,
                ..SD_2S
            }],
            ..MP4_2S
        }),
    ),
    (
        "bt601_tagged_sd.mp4",
        opens(&[Video { color: BT601, ..SD }]),
    ),
    (
        "bt709_tagged_hd.mp4",
        Expect::Opens(Container {
            duration_us: 400_000,
            video: &[Video { color: BT709, ..HD }],
            ..MP4_1S
        }),
    ),
    (
        "clap_pasp.mp4",
        opens(&[Video {
            coded: (336, 256),
            // The 320x240 aperture widened by 4:3 is 426.67 wide (the tkhd
            // says 426.6667); a display size is whole pixels.
            display: (427, 240),
            sar: (4, 3),
            clean_aperture: Some([(320, 1), (240, 1), (-4, 1), (-2, 1)]),
            ..SD
        }]),
    ),
    (
        "corrupt_mdat.mp4",
        // Damaged sample data changes no container fact: ffprobe demuxes all
        // 50 packets, those of h264_bframes.mp4, and so must the index.
        opens_2s(&[Video {
            packets_from: Packets::SameAs("h264_bframes.mp4"),
            ..BFRAMES
        }]),
    ),
    (
        "crop_162x122_yuv420p.mp4",
        opens(&[Video {
            level: Some(11),
            coded: (162, 122),
            display: (162, 122),
            ..SD
        }]),
    ),
    (
        "editlist_empty.mp4",
        // The empty edit puts the first frame at 6400 ticks = 0.5 s; the
        // track ends at ffprobe's start_pts + duration_ts = 19200.
        Expect::Opens(Container {
            start_us: 500_000,
            duration_us: 1_500_000,
            video: &[Video {
                frames: steady(25, 1, 6400, 512, (25, 1)),
                ..SD
            }],
            ..MP4_1S
        }),
    ),
    (
        "editlist_midgop.mp4",
        // Codes 25..34 precede the edit (pts < 0, FFmpeg's discard flag):
        // decoded as references, the first of them a sync packet, but never
        // shown. The one shown sync frame is code 50.
        Expect::Opens(Container {
            duration_us: 1_600_000,
            video: &[Video {
                declared_frames: Some(50),
                frames: Frames {
                    packets: 50,
                    ..steady(40, 1, 0, 512, (25, 1))
                },
                ..SD
            }],
            ..MP4_1S
        }),
    ),
    (
        "fullrange.mp4",
        opens(&[Video {
            pixel_format: "yuvj420p",
            color: ColorInfo {
                range: ColorRange::Full,
                ..BT601
            },
            ..SD
        }]),
    ),
    ("h264_bframes.mp4", opens_2s(&[BFRAMES])),
    (
        "h264_opengop_pyramid.mkv",
        Expect::Opens(Container {
            format: MKV,
            video: &[Video {
                frames: steady(50, 5, 0, 40, (25, 1)),
                ..MATROSKA
            }],
            ..MP4_2S
        }),
    ),
    (
        "hevc_main10_hdr10.mp4",
        // The mastering display and MaxCLL/MaxFALL are in SEI only (FFmpeg
        // 5.1 writes no mdcv/clli box), and a track is described from the
        // container, so `HdrInfo` holds only the PQ transfer.
        Expect::Opens(Container {
            tracks: &[(TrackKind::Video, "hevc")],
            video: &[Video {
                color: color(
                    P::Bt2020,
                    T::Pq,
                    M::Bt2020Ncl,
                    ColorRange::Limited,
                    ChromaLocation::Left,
                ),
                hdr: Some(HdrFormat::Pq),
                ..HEVC
            }],
            ..MP4_2S
        }),
    ),
    (
        "hevc_main10_hlg.mp4",
        Expect::Opens(Container {
            tracks: &[(TrackKind::Video, "hevc")],
            video: &[Video {
                color: color(
                    P::Bt2020,
                    T::Hlg,
                    M::Bt2020Ncl,
                    ColorRange::Limited,
                    ChromaLocation::Left,
                ),
                hdr: Some(HdrFormat::Hlg),
                ..HEVC
            }],
            ..MP4_2S
        }),
    ),
    (
        "mirror_rot0.mp4",
        opens(&[turned(
            0,
            true,
            [-65536, 0, 0, 0, 65536, 0, 10485760, 0, 1 << 30],
        )]),
    ),
    (
        "mirror_rot180.mp4",
        opens(&[turned(
            180,
            true,
            [65536, 0, 0, 0, -65536, 0, 0, 6291456, 1 << 30],
        )]),
    ),
    (
        "mirror_rot270.mp4",
        opens(&[turned(270, true, [0, 65536, 0, 65536, 0, 0, 0, 0, 1 << 30])]),
    ),
    (
        "mirror_rot90.mp4",
        opens(&[turned(
            90,
            true,
            [0, -65536, 0, -65536, 0, 0, 6291456, 10485760, 1 << 30],
        )]),
    ),
    (
        "mpegts_start.ts",
        // The transport clock starts at 1.48 s (start_pts 133200); the asset
        // timeline counts from there, so the first frame is at 0.
        Expect::Opens(Container {
            format: "mpegts",
            timeline: TimelineKind::TransportClock,
            start_us: 1_480_000,
            video: &[Video {
                id: Some(0x100),
                timescale: 90000,
                declared_frames: None,
                default: false,
                timeline_offset: 133_200,
                frames: steady(50, 2, 0, 3600, (25, 1)),
                ..SD
            }],
            ..MP4_2S
        }),
    ),
    ("not_video.mp4", Expect::Unrecognized),
    (
        "odd_161x121_yuv420p.webm",
        Expect::Opens(Container {
            video: &[Video {
                coded: (161, 121),
                display: (161, 121),
                frames: steady(25, 1, 0, 40, (25, 1)),
                ..VP9
            }],
            ..WEBM
        }),
    ),
    (
        "odd_161x121_yuv444p.mp4",
        opens(&[Video {
            profile: "High 4:4:4 Predictive",
            level: Some(11),
            pixel_format: "yuv444p",
            chroma: (0, 0),
            coded: (161, 121),
            display: (161, 121),
            ..SD
        }]),
    ),
    ("rot0.mp4", opens(&[ORIENTED])),
    (
        "rot180.mp4",
        opens(&[turned(
            180,
            false,
            [-65536, 0, 0, 0, -65536, 0, 10485760, 6291456, 1 << 30],
        )]),
    ),
    (
        "rot270.mp4",
        opens(&[turned(
            270,
            false,
            [0, -65536, 0, 65536, 0, 0, 0, 10485760, 1 << 30],
        )]),
    ),
    (
        "rot90.mp4",
        opens(&[turned(
            90,
            false,
            [0, 65536, 0, -65536, 0, 0, 6291456, 0, 1 << 30],
        )]),
    ),
    (
        "sar_2_1.mp4",
        opens(&[Video {
            level: Some(12),
            coded: (160, 240),
            display: (320, 240),
            sar: (2, 1),
            ..SD
        }]),
    ),
    (
        "truncated_mdat.mp4",
        // ffprobe demuxes 30 packets, the first 30 of h264_bframes.mp4 (the
        // 30th cut short: "Packet corrupt", then "partial file"). Codes
        // 29..31 lie past the cut, so pts 14336 is followed by 16384: a gap
        // four steps long. The 30th packet (code 32) is cut short, so it is
        // not shown, and the track ends after the last whole frame rather
        // than where the truncated MP4 declares.
        Expect::Opens(Container {
            warnings: &["truncated: box 'mdat' at offset 1276 declares 48378 bytes \
                         but the file ends at 29792"],
            video: &[Video {
                packets_from: Packets::CutFrom("h264_bframes.mp4"),
                frames: Frames {
                    packets: 30,
                    shown: 29,
                    sync: 3,
                    first: 0,
                    last: 28 * 512,
                    end: 29 * 512,
                    rate: (25, 1),
                    vfr: false,
                },
                ..BFRAMES
            }],
            ..MP4_2S
        }),
    ),
    (
        "truncated_moov.mp4",
        Expect::Truncated(
            "box 'moov' at offset 48418 declares 1236 bytes but the file ends at 49036",
        ),
    ),
    (
        "two_video_tracks.mp4",
        Expect::Opens(Container {
            tracks: &[(TrackKind::Video, "h264"), (TrackKind::Video, "h264")],
            video: &[
                SD_2S,
                Video {
                    index: 1,
                    id: Some(2),
                    level: Some(10),
                    coded: (160, 120),
                    display: (160, 120),
                    timescale: 10240,
                    declared_frames: Some(20),
                    default: false,
                    frames: steady(20, 1, 0, 1024, (10, 1)),
                    ..SD
                },
            ],
            ..MP4_2S
        }),
    ),
    (
        "untagged_hd.mp4",
        Expect::Opens(Container {
            duration_us: 400_000,
            video: &[HD],
            ..MP4_1S
        }),
    ),
    ("untagged_sd.mp4", opens(&[SD])),
    (
        "vfr.mp4",
        // Durations cycle 20, 40, 100, 40, 300 ms. The last frame (2700)
        // lasts its packet's 20 ms: past ffprobe's stream duration (2640),
        // up to the container's 2.72 s. The rate is 29 steps over 2.7 s
        // (ffprobe's avg_frame_rate, 30 frames over 2.64 s, is 125/11).
        Expect::Opens(Container {
            duration_us: 2_720_000,
            video: &[Video {
                level: Some(21),
                timescale: 1000,
                declared_frames: Some(30),
                frames: Frames {
                    packets: 30,
                    shown: 30,
                    sync: 3,
                    first: 0,
                    last: 2700,
                    end: 2720,
                    rate: (29 * 1000, 2700),
                    vfr: true,
                },
                ..SD
            }],
            ..MP4_1S
        }),
    ),
    (
        "vp9.webm",
        // 54 VP9 frames in 50 packets: the 4 hidden alt-ref frames travel in
        // superframes with a shown frame, so every packet shows one frame
        // (FFmpeg decodes 50) and no packet is hidden.
        Expect::Opens(Container {
            duration_us: 2_000_000,
            video: &[Video {
                frames: steady(50, 2, 0, 40, (25, 1)),
                ..VP9
            }],
            ..WEBM
        }),
    ),
    (
        "yuv422p.mp4",
        opens(&[Video {
            profile: "High 4:2:2",
            pixel_format: "yuv422p",
            chroma: (1, 0),
            color: BT709,
            ..SD
        }]),
    ),
    (
        "yuv444p.mp4",
        opens(&[Video {
            profile: "High 4:4:4 Predictive",
            pixel_format: "yuv444p",
            chroma: (0, 0),
            color: BT709,
            ..SD
        }]),
    ),
];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn expectation(file: &str) -> &'static Expect {
    FIXTURES
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, e)| e)
        .unwrap_or_else(|| panic!("no expectation for {file}"))
}

/// One packet of a README decode-order list (`code@pts/dts` plus `K`, `D`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct ListedPacket {
    pts: i64,
    sync: bool,
    discard: bool,
}

/// The README's section for `file`: from its heading to the next one.
fn readme_section(readme: &str, file: &str) -> String {
    let heading = format!("\n### `{file}`\n");
    let start = readme
        .find(&heading)
        .unwrap_or_else(|| panic!("README has no section for {file}"))
        + heading.len();
    let rest = &readme[start..];
    rest[..rest.find("\n### ").unwrap_or(rest.len())].to_string()
}

/// The data of every line of `section` that starts with `prefix`: the text
/// after the line's parenthesised legend.
fn readme_lines<'a>(section: &'a str, prefix: &str) -> Vec<&'a str> {
    section
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| {
            l.split_once("): ")
                .unwrap_or_else(|| panic!("README line without data: {l}"))
                .1
        })
        .collect()
}

fn parse_int(text: &str, token: &str) -> i64 {
    text.parse()
        .unwrap_or_else(|e| panic!("README token {token:?}: {text:?}: {e}"))
}

fn parse_packet(token: &str) -> ListedPacket {
    let (_code, rest) = token
        .trim_start_matches('~')
        .split_once('@')
        .unwrap_or_else(|| panic!("README packet {token:?}"));
    let (pts, dts_and_flags) = rest
        .split_once('/')
        .unwrap_or_else(|| panic!("README packet {token:?}"));
    // The dts is digits, a sign or NOPTS, none of which is K or D.
    ListedPacket {
        pts: parse_int(pts, token),
        sync: dts_and_flags.contains('K'),
        discard: dts_and_flags.contains('D'),
    }
}

/// A track's packets in decode order and its shown pts in presentation
/// order, both in the container's ticks, as the README lists them.
fn readme_frames(file: &str, nth_video: usize, want: &Video) -> (Vec<ListedPacket>, Vec<i64>) {
    let path = fixtures_dir().join("README.md");
    let readme =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (source, nth) = match want.packets_from {
        Packets::Listed => (file, nth_video),
        Packets::SameAs(other) | Packets::CutFrom(other) => (other, 0),
    };
    let section = readme_section(&readme, source);
    let nth_line = |prefix: &str| -> String {
        let lines = readme_lines(&section, prefix);
        lines
            .get(nth)
            .unwrap_or_else(|| panic!("README {source}: no line {nth} starting {prefix:?}"))
            .to_string()
    };
    let mut packets: Vec<ListedPacket> = nth_line("- packets in decode order")
        .split_whitespace()
        .map(parse_packet)
        .collect();
    match want.packets_from {
        Packets::Listed => {
            let shown = nth_line("- code:pts of every shown frame")
                .split_whitespace()
                .map(|t| {
                    let (_code, pts) = t
                        .split_once(':')
                        .unwrap_or_else(|| panic!("README frame {t:?}"));
                    parse_int(pts, t)
                })
                .collect();
            (packets, shown)
        }
        Packets::SameAs(_) | Packets::CutFrom(_) => {
            assert!(
                packets.len() >= want.frames.packets,
                "{source} lists only {} packets",
                packets.len()
            );
            packets.truncate(want.frames.packets);
            if let (Packets::CutFrom(_), Some(last)) = (want.packets_from, packets.last_mut()) {
                last.discard = true;
            }
            let mut shown: Vec<i64> = packets
                .iter()
                .filter(|p| !p.discard)
                .map(|p| p.pts)
                .collect();
            shown.sort_unstable();
            (packets, shown)
        }
    }
}

/// Equal sequences, or a failure naming the first difference rather than
/// printing both lists whole.
fn assert_same<T: PartialEq + std::fmt::Debug>(at: &str, what: &str, got: &[T], want: &[T]) {
    if let Some(i) = (0..got.len().min(want.len())).find(|&i| got[i] != want[i]) {
        panic!(
            "{at}: {what} differ first at {i}: got {:?}, README {:?}",
            got[i], want[i]
        );
    }
    assert_eq!(got.len(), want.len(), "{at}: number of {what}");
}

/// Seconds of an FFmpeg `AV_TIME_BASE` value, back in whole microseconds.
fn micros(seconds: Option<f64>) -> Option<i64> {
    seconds.map(|s| (s * 1e6).round() as i64)
}

fn ratio((num, den): (i64, i64)) -> Ratio {
    Ratio::new(num, den).expect("non-zero denominator")
}

fn check(file: &str) {
    let path = fixtures_dir().join(file);
    let (want, asset) = match (expectation(file), Asset::open(&path)) {
        (Expect::Opens(want), Ok(asset)) => (want, asset),
        (Expect::Unrecognized, Err(Error::UnrecognizedFormat { source_name, .. })) => {
            assert_eq!(source_name, path.display().to_string(), "{file}: names it");
            return;
        }
        (
            Expect::Truncated(reason),
            Err(Error::Truncated {
                source_name,
                format,
                reason: got,
            }),
        ) => {
            assert_eq!(source_name, path.display().to_string(), "{file}: names it");
            assert_eq!(format, MOV, "{file}: format");
            assert!(got.starts_with(reason), "{file}: reason {got:?}");
            return;
        }
        (_, Ok(asset)) => panic!("{file}: opened, expected an error: {asset:?}"),
        (_, Err(e)) => panic!("{file}: unexpected error {e:?}"),
    };
    check_container(file, &asset, want);
    for (nth, video) in want.video.iter().enumerate() {
        check_video(file, &asset, nth, video);
    }
}

fn check_container(file: &str, asset: &Asset, want: &Container) {
    let c = asset.container();
    assert_eq!(c.format, want.format, "{file}: format");
    assert_eq!(c.timeline, want.timeline, "{file}: timeline kind");
    assert_eq!(micros(c.start_time), Some(want.start_us), "{file}: start");
    assert_eq!(
        micros(c.duration),
        Some(want.duration_us),
        "{file}: duration"
    );
    assert_eq!(c.warnings, want.warnings, "{file}: warnings");
    let tracks: Vec<(usize, TrackKind, &str)> = asset
        .tracks()
        .iter()
        .map(|t| (t.index, t.kind, t.codec.as_str()))
        .collect();
    let want_tracks: Vec<(usize, TrackKind, &str)> = want
        .tracks
        .iter()
        .enumerate()
        .map(|(i, &(kind, codec))| (i, kind, codec))
        .collect();
    assert_eq!(tracks, want_tracks, "{file}: tracks");
    let video: Vec<usize> = asset.video_tracks().iter().map(|t| t.index).collect();
    let want_video: Vec<usize> = want.video.iter().map(|v| v.index).collect();
    assert_eq!(video, want_video, "{file}: video tracks");
    // No fixture has cover art or an empty track, so images come from the
    // first video track (in two_video_tracks.mp4 also the one flagged
    // default); without one the error says so.
    match (asset.default_video_track(), want.video.first()) {
        (Ok(t), Some(first)) => assert_eq!(t.index, first.index, "{file}: default track"),
        (Err(Error::NoVideoTrack { .. }), None) => {}
        (got, _) => panic!("{file}: default video track: {got:?}"),
    }
}

fn check_video(file: &str, asset: &Asset, nth: usize, want: &Video) {
    let t = &asset.video_tracks()[nth];
    let at = format!("{file} track {}", want.index);
    if let Some(id) = want.id {
        assert_eq!(t.id, id, "{at}: id");
    }
    assert_eq!(t.codec, want.codec, "{at}: codec");
    assert_eq!(t.profile.as_deref(), Some(want.profile), "{at}: profile");
    assert_eq!(t.level, want.level, "{at}: level");
    assert_eq!(
        t.pixel_format.as_deref(),
        Some(want.pixel_format),
        "{at}: pixel format"
    );
    assert_eq!(t.bit_depth, Some(want.bit_depth), "{at}: bit depth");
    assert_eq!(t.chroma_subsampling, Some(want.chroma), "{at}: chroma");
    assert_eq!((t.coded_width, t.coded_height), want.coded, "{at}: coded");
    assert_eq!(
        (t.display_width, t.display_height),
        want.display,
        "{at}: display size"
    );
    assert_eq!(t.sample_aspect_ratio, Some(ratio(want.sar)), "{at}: SAR");
    assert_eq!(
        t.display_matrix,
        want.display_matrix.map(DisplayMatrix),
        "{at}: display matrix"
    );
    assert_eq!(t.orientation, Some(want.orientation), "{at}: orientation");
    let clap = want.clean_aperture.map(|[w, h, x, y]| CleanAperture {
        width: ratio(w),
        height: ratio(h),
        horizontal_offset: ratio(x),
        vertical_offset: ratio(y),
    });
    assert_eq!(t.clean_aperture, clap, "{at}: clean aperture");
    assert_eq!(
        t.interlaced,
        Some(false),
        "{at}: every fixture is progressive"
    );
    assert_eq!(t.color, want.color, "{at}: colour");
    let hdr = HdrInfo {
        format: want.hdr,
        ..HdrInfo::SDR
    };
    assert_eq!(t.hdr, hdr, "{at}: HDR");
    let time_base = ratio((1, want.timescale));
    assert_eq!(t.time_base, time_base, "{at}: time base");
    assert_eq!(t.declared_frames, want.declared_frames, "{at}: nb_frames");
    assert_eq!(t.disposition_default, want.default, "{at}: default flag");
    assert!(!t.attached_picture, "{at}: not cover art");

    let index = asset
        .frame_index(t)
        .unwrap_or_else(|e| panic!("{at}: frame index: {e}"));
    let f = &want.frames;
    assert_eq!(index.time_base, time_base, "{at}: index time base");
    assert_eq!(
        index.timeline_offset, want.timeline_offset,
        "{at}: timeline offset"
    );
    assert_eq!(index.packets.len(), f.packets, "{at}: packets");
    let (listed, presented) = readme_frames(file, nth, want);
    let got: Vec<(Option<i64>, bool, bool)> = index
        .packets
        .iter()
        .map(|p| (p.pts, p.sync, p.shown))
        .collect();
    let expected: Vec<(Option<i64>, bool, bool)> = listed
        .iter()
        .map(|p| (Some(p.pts - want.timeline_offset), p.sync, !p.discard))
        .collect();
    assert_same(&at, "packets (pts, sync, shown)", &got, &expected);
    let shown_pts: Vec<Option<i64>> = index
        .presentation
        .iter()
        .map(|&i| index.packets[i as usize].pts)
        .collect();
    let expected: Vec<Option<i64>> = presented
        .iter()
        .map(|pts| Some(pts - want.timeline_offset))
        .collect();
    assert_same(&at, "presented pts", &shown_pts, &expected);

    let tl = asset
        .timeline(t)
        .unwrap_or_else(|e| panic!("{at}: timeline: {e}"))
        .unwrap_or_else(|| panic!("{at}: no timeline"));
    let time = |ticks: i64| Time::new(ticks, want.timescale as i32);
    assert_eq!(tl.frame_count, f.shown, "{at}: shown frames");
    assert_eq!(tl.sync_frame_count, f.sync, "{at}: sync frames");
    assert_eq!(tl.first_frame, time(f.first), "{at}: first frame");
    assert_eq!(tl.last_frame, time(f.last), "{at}: last frame");
    assert_eq!(tl.end, time(f.end), "{at}: end");
    assert_eq!(tl.duration, time(f.end - f.first), "{at}: duration");
    assert_eq!(tl.average_frame_rate, Some(ratio(f.rate)), "{at}: rate");
    assert_eq!(tl.variable_frame_rate, f.vfr, "{at}: variable rate");
}

macro_rules! fixture_tests {
    ($($name:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                check($file);
            }
        )*
    };
}

fixture_tests! {
    audio_only => "audio_only.mp4",
    av1 => "av1.mp4",
    bt601_tagged_sd => "bt601_tagged_sd.mp4",
    bt709_tagged_hd => "bt709_tagged_hd.mp4",
    clap_pasp => "clap_pasp.mp4",
    corrupt_mdat => "corrupt_mdat.mp4",
    crop_162x122_yuv420p => "crop_162x122_yuv420p.mp4",
    editlist_empty => "editlist_empty.mp4",
    editlist_midgop => "editlist_midgop.mp4",
    fullrange => "fullrange.mp4",
    h264_bframes => "h264_bframes.mp4",
    h264_opengop_pyramid => "h264_opengop_pyramid.mkv",
    hevc_main10_hdr10 => "hevc_main10_hdr10.mp4",
    hevc_main10_hlg => "hevc_main10_hlg.mp4",
    mirror_rot0 => "mirror_rot0.mp4",
    mirror_rot180 => "mirror_rot180.mp4",
    mirror_rot270 => "mirror_rot270.mp4",
    mirror_rot90 => "mirror_rot90.mp4",
    mpegts_start => "mpegts_start.ts",
    not_video => "not_video.mp4",
    odd_161x121_yuv420p => "odd_161x121_yuv420p.webm",
    odd_161x121_yuv444p => "odd_161x121_yuv444p.mp4",
    rot0 => "rot0.mp4",
    rot180 => "rot180.mp4",
    rot270 => "rot270.mp4",
    rot90 => "rot90.mp4",
    sar_2_1 => "sar_2_1.mp4",
    truncated_mdat => "truncated_mdat.mp4",
    truncated_moov => "truncated_moov.mp4",
    two_video_tracks => "two_video_tracks.mp4",
    untagged_hd => "untagged_hd.mp4",
    untagged_sd => "untagged_sd.mp4",
    vfr => "vfr.mp4",
    vp9 => "vp9.webm",
    yuv422p => "yuv422p.mp4",
    yuv444p => "yuv444p.mp4",
}

/// Every media file in `tests/fixtures` has an entry above, and every entry
/// a file; the README and the scripts that make the fixtures are not media.
#[test]
fn every_fixture_is_covered() {
    let dir = fixtures_dir();
    let tooling = ["md", "py", "sh"];
    let files: Vec<String> = common::media::media_files(&dir)
        .into_iter()
        .filter(|f| {
            !f.extension()
                .is_some_and(|e| tooling.iter().any(|t| e == *t))
        })
        .map(|f| f.display().to_string())
        .collect();
    let mut listed: Vec<String> = FIXTURES.iter().map(|(f, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed, "tests/fixtures against the table");
}
