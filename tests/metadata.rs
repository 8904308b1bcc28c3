//! Metadata of every bundled fixture (`tests/fixtures`) and every
//! real-world file in `../shared/media`, asserted exactly: one table of
//! expectations per directory, checked by one mechanism.
//!
//! Every expected value comes from ffprobe 5.1 (`-show_streams
//! -show_packets -show_format`, plus `-show_frames` for VP9, whose hidden
//! alt-ref packets only a decode tells apart), from the MP4 boxes as
//! `mp4edit.py dump` reads them, from `tests/fixtures/README.md` (which
//! `describe.py` writes from both) and from the media MANIFEST; never from
//! stills' own output.
//!
//! The fixtures' per-packet facts are read from their README at test time
//! rather than copied here: each video track's packets in decode order
//! (pts, `K` sync flag, `D` discard flag) must equal the frame index's
//! packets one for one, and the README's presentation list (`code:pts`)
//! must equal the index's presentation order. The tables hold the scalar
//! facts, including the packet counts, so a README line that failed to
//! parse cannot pass.
//!
//! Where stills and ffprobe name a value differently the mapping is written
//! beside it: ffprobe's colour "unknown" is H.273 "unspecified"; its
//! `rotation` is counter-clockwise degrees while `Orientation::rotation` is
//! the clockwise turn, applied after the mirror, that shows the picture
//! upright; display sizes keep the height and scale the width by the
//! sample aspect ratio (AVFoundation's convention), then swap for quarter
//! turns.

mod common;

use std::path::{Path, PathBuf};

use stills::asset::color::{
    ChromaLocation, Chromaticity, ColorInfo, ColorPrimaries as P, ColorRange, ContentLightLevel,
    DolbyVisionConfig, HdrFormat, HdrInfo, MasteringDisplay, MatrixCoefficients as M,
    TransferCharacteristic as T,
};
use stills::asset::geometry::{CleanAperture, DisplayMatrix, Orientation};
use stills::asset::{TimelineKind, TrackKind};
use stills::Ratio;
use stills::{Asset, Error, Time};

use common::readme::{Packet, Section};

const MOV: &str = "mov,mp4,m4a,3gp,3g2,mj2";
const MKV: &str = "matroska,webm";

/// What opening one file must give.
enum Expect {
    /// `Error::UnrecognizedFormat`, naming the file.
    Unrecognized,
    /// `Error::Truncated` from the MP4 demuxer, naming the file, with a
    /// reason that starts with this text where the table knows it.
    Truncated(Option<&'static str>),
    Opens(Container),
}

struct Container {
    format: &'static str,
    timeline: TimelineKind,
    /// ffprobe's format `start_time` and `duration`, in microseconds
    /// (FFmpeg keeps both in `AV_TIME_BASE`, and ffprobe prints them to the
    /// µs); `None` where ffprobe prints none.
    start_us: Option<i64>,
    duration_us: Option<i64>,
    /// Every stream in order: its kind and ffprobe's codec name (`None`
    /// where ffprobe says "unknown", as for the `mebx` data tracks, so
    /// there is nothing to compare with).
    tracks: &'static [(TrackKind, Option<&'static str>)],
    /// Stream index of the track images are taken from; `None` for a file
    /// without video, which must say so with `Error::NoVideoTrack`.
    default_video: Option<usize>,
    /// What stills warns of at open. `None` (not compared) where ffprobe
    /// reports the data ending before the header says it does ("File ended
    /// prematurely") in a container whose box sizes stills does not check
    /// at open (it checks only MP4's).
    warnings: Option<&'static [&'static str]>,
    video: &'static [Video],
}

struct Video {
    index: usize,
    /// The `tkhd` track ID or TS PID; `None` where ffprobe prints no
    /// stream ID (Matroska, raw streams), so there is nothing to compare
    /// with.
    id: Option<i32>,
    codec: &'static str,
    profile: Option<&'static str>,
    /// `None` where ffprobe says -99 (`FF_LEVEL_UNKNOWN`).
    level: Option<i32>,
    pixel_format: Option<&'static str>,
    /// ffprobe's `bits_per_raw_sample`, else the depth of its `pix_fmt`.
    bit_depth: Option<u8>,
    /// log2 of the chroma subsampling of ffprobe's `pix_fmt`, horizontal
    /// and vertical.
    chroma: Option<(u8, u8)>,
    coded: (u32, u32),
    display: (u32, u32),
    sar: Option<(i64, i64)>,
    /// ffprobe's "Display Matrix" side data, row-major.
    display_matrix: Option<[i32; 9]>,
    orientation: Option<Orientation>,
    /// The `clap` box as `mp4edit.py dump` reads it: width, height,
    /// horizontal and vertical offset, each `num/den`.
    clean_aperture: Option<[(i64, i64); 4]>,
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
    /// Which README list those packets must equal one for one.
    packet_list: PacketList,
    /// Ticks subtracted from the container's pts to put them on the asset
    /// timeline: ffprobe's `start_pts` for MPEG-TS, 0 otherwise.
    timeline_offset: i64,
    timeline: Frames,
}

#[derive(Clone, Copy)]
enum PacketList {
    /// None: the real-world media have no README, so only ffprobe's count
    /// is compared.
    CountOnly,
    /// In this fixture's own section: its n-th decode-order line for its
    /// n-th video track, and its n-th `code:pts` line.
    Listed,
    /// A remux of another fixture with the same samples in the same order
    /// (checked with `ffprobe -show_packets`): the first `packets` of that
    /// fixture's list. Its presentation order is those packets sorted by
    /// pts.
    SameAs(&'static str),
    /// Like `SameAs`, for a file cut inside its last packet: FFmpeg flags
    /// that packet corrupt, so it is indexed but never shown.
    CutFrom(&'static str),
}

enum Frames {
    Shown(Timeline),
    /// A track with no frame to show: its timeline is `None`.
    Empty,
    /// ffprobe gives no frame list to compare with; the timeline must still
    /// be read without an error.
    NotCompared,
}

/// A track's timeline, times in ticks of its time base on the asset
/// timeline.
struct Timeline {
    /// Shown frames.
    frames: usize,
    /// Sync frames among the shown ones.
    sync: usize,
    first: i64,
    last: i64,
    /// For MP4/MOV, the track's declared end (ffprobe's stream start +
    /// duration, from `mdhd` and the edit list) when it lies after the last
    /// frame; otherwise the last frame's pts plus its packet duration.
    end: i64,
    /// `(n − 1)` frame steps over `last − first`, reduced; `None` for a
    /// single frame.
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

/// Seconds of an FFmpeg `AV_TIME_BASE` value, back in whole microseconds.
fn micros(seconds: Option<f64>) -> Option<i64> {
    seconds.map(|s| (s * 1e6).round() as i64)
}

fn ratio((num, den): (i64, i64)) -> Ratio {
    Ratio::new(num, den).expect("non-zero denominator")
}

/// The expectation for `name` in `table`.
fn expectation<'a>(table: &'a [(&str, Expect)], name: &str) -> &'a Expect {
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, e)| e)
        .unwrap_or_else(|| panic!("no expectation for {name}"))
}

/// Asserts everything `want` says of the file at `path`, called `name` in
/// messages; `with_timeline` also builds each video track's frame index
/// and checks it and the track's timeline.
fn check(name: &str, path: &Path, want: &Expect, with_timeline: bool) {
    let (want, asset) = match (want, Asset::open(path)) {
        (Expect::Opens(want), Ok(asset)) => (want, asset),
        (Expect::Unrecognized, Err(Error::UnrecognizedFormat { source_name, .. })) => {
            assert_eq!(source_name, path.display().to_string(), "{name}: names it");
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
            assert_eq!(source_name, path.display().to_string(), "{name}: names it");
            assert_eq!(format, MOV, "{name}: format");
            if let Some(reason) = reason {
                assert!(got.starts_with(reason), "{name}: reason {got:?}");
            }
            return;
        }
        (_, Ok(asset)) => panic!("{name}: opened, expected an error: {asset:?}"),
        (_, Err(e)) => panic!("{name}: unexpected error {e:?}"),
    };
    check_container(name, &asset, want);
    for (nth, video) in want.video.iter().enumerate() {
        check_video(name, &asset, nth, video, with_timeline);
    }
}

fn check_container(name: &str, asset: &Asset, want: &Container) {
    let c = asset.container();
    assert_eq!(c.format, want.format, "{name}: format");
    assert_eq!(c.timeline, want.timeline, "{name}: timeline kind");
    assert_eq!(micros(c.start_time), want.start_us, "{name}: start time");
    assert_eq!(micros(c.duration), want.duration_us, "{name}: duration");
    if let Some(warnings) = want.warnings {
        assert_eq!(c.warnings, warnings, "{name}: warnings");
    }
    let kinds: Vec<TrackKind> = asset.tracks().iter().map(|t| t.kind).collect();
    let want_kinds: Vec<TrackKind> = want.tracks.iter().map(|t| t.0).collect();
    assert_eq!(kinds, want_kinds, "{name}: track kinds");
    for (i, (track, (_, codec))) in asset.tracks().iter().zip(want.tracks).enumerate() {
        assert_eq!(track.index, i, "{name}: track order");
        if let Some(codec) = codec {
            assert_eq!(track.codec, *codec, "{name}: codec of track {i}");
        }
    }
    let video: Vec<usize> = asset.video_tracks().iter().map(|t| t.index).collect();
    let want_video: Vec<usize> = want.video.iter().map(|v| v.index).collect();
    assert_eq!(video, want_video, "{name}: video tracks");
    match (asset.default_video_track(), want.default_video) {
        (Ok(t), Some(index)) => assert_eq!(t.index, index, "{name}: default video track"),
        (Err(Error::NoVideoTrack { .. }), None) => {}
        (got, _) => panic!("{name}: default video track: {got:?}"),
    }
}

/// Checks the `nth` video track of `want`'s list.
fn check_video(name: &str, asset: &Asset, nth: usize, want: &Video, with_timeline: bool) {
    let t = asset
        .video_tracks()
        .iter()
        .find(|t| t.index == want.index)
        .unwrap_or_else(|| panic!("{name}: no video track {}", want.index));
    let at = format!("{name} track {}", want.index);
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
        t.chroma_subsampling.map(|c| (c.log2_x, c.log2_y)),
        want.chroma,
        "{at}: chroma subsampling"
    );
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
    assert_eq!(
        t.sample_aspect_ratio,
        want.sar.map(ratio),
        "{at}: sample aspect ratio"
    );
    assert_eq!(
        t.display_matrix,
        want.display_matrix.map(DisplayMatrix),
        "{at}: display matrix"
    );
    assert_eq!(t.orientation, want.orientation, "{at}: orientation");
    let clean_aperture = want.clean_aperture.map(|[w, h, x, y]| CleanAperture {
        width: ratio(w),
        height: ratio(h),
        horizontal_offset: ratio(x),
        vertical_offset: ratio(y),
    });
    assert_eq!(t.clean_aperture, clean_aperture, "{at}: clean aperture");
    assert_eq!(t.interlaced, want.interlaced, "{at}: interlaced");
    assert_eq!(t.color, want.color, "{at}: colour");
    assert_eq!(t.hdr, want.hdr, "{at}: HDR");
    let time_base = ratio((1, want.timescale));
    assert_eq!(t.time_base, time_base, "{at}: time base");
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
    assert_eq!(index.time_base, time_base, "{at}: index time base");
    assert_eq!(
        index.timeline_offset, want.timeline_offset,
        "{at}: timeline offset"
    );
    assert_eq!(index.packets.len(), want.packets, "{at}: packets");
    if let Some((listed, presented)) = readme_packets(name, nth, want) {
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
    }

    let timeline = asset
        .timeline(t)
        .unwrap_or_else(|e| panic!("{at}: timeline: {e}"));
    let time = |ticks: i64| Time::new(ticks, i32::try_from(want.timescale).expect("a timescale"));
    match (timeline, &want.timeline) {
        (None, Frames::Empty) | (_, Frames::NotCompared) => {}
        (Some(tl), Frames::Shown(w)) => {
            assert_eq!(tl.frame_count, w.frames, "{at}: shown frames");
            assert_eq!(tl.sync_frame_count, w.sync, "{at}: sync frames");
            assert_eq!(tl.first_frame, time(w.first), "{at}: first frame");
            assert_eq!(tl.last_frame, time(w.last), "{at}: last frame");
            assert_eq!(tl.end, time(w.end), "{at}: end");
            assert_eq!(tl.duration, time(w.end - w.first), "{at}: duration");
            assert_eq!(
                tl.average_frame_rate,
                w.average_rate.map(ratio),
                "{at}: average frame rate"
            );
            assert_eq!(tl.variable_frame_rate, w.variable, "{at}: variable rate");
        }
        (Some(tl), Frames::Empty) => panic!("{at}: expected no frames, got {tl:?}"),
        (None, Frames::Shown(_)) => panic!("{at}: expected frames, got no timeline"),
    }
}

fn readme_fact<T>(name: &str, read: Result<T, String>) -> T {
    read.unwrap_or_else(|e| panic!("README facts of {name}: {e}"))
}

/// The `nth` video track's packets in decode order and its shown pts in
/// presentation order, both in the container's ticks, as the README lists
/// them; `None` for a file the README does not describe.
fn readme_packets(name: &str, nth: usize, want: &Video) -> Option<(Vec<Packet>, Vec<i64>)> {
    let (source, nth) = match want.packet_list {
        PacketList::CountOnly => return None,
        PacketList::Listed => (name, nth),
        PacketList::SameAs(other) | PacketList::CutFrom(other) => (other, 0),
    };
    let section = readme_fact(source, Section::of(source));
    let mut packets = readme_fact(source, section.packets(nth));
    if let PacketList::Listed = want.packet_list {
        let shown = readme_fact(source, section.shown_frames(nth))
            .iter()
            .map(|f| f.pts)
            .collect();
        return Some((packets, shown));
    }
    assert!(
        packets.len() >= want.packets,
        "{source} lists only {} packets",
        packets.len()
    );
    packets.truncate(want.packets);
    if let (PacketList::CutFrom(_), Some(last)) = (want.packet_list, packets.last_mut()) {
        last.discard = true;
    }
    let mut shown: Vec<i64> = packets
        .iter()
        .filter(|p| !p.discard)
        .map(|p| p.pts)
        .collect();
    shown.sort_unstable();
    Some((packets, shown))
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

/// Asserts that the media `files` found in a directory (paths relative to
/// it) are exactly the files `table` has an entry for, so that a file added
/// cannot go untested and an entry cannot outlive its file.
fn assert_table_covers(files: Vec<PathBuf>, table: &[(&str, Expect)], what: &str) {
    let mut found: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    found.sort();
    let mut listed: Vec<String> = table.iter().map(|(name, _)| name.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed, "{what} against its table");
}

/// A `#[test]` per file, each checking the file's whole entry.
macro_rules! file_tests {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check_file($file, true);
            }
        )*
    };
}

/// The fixtures in `tests/fixtures`, made by its `make.sh`. Facts ffprobe
/// prints but their README does not (level, `nb_frames`, stream id, field
/// order, disposition) come from `ffprobe -show_streams` on the same files.
mod fixtures {
    use super::*;
    use crate::common::media::media_files;
    use crate::common::readme::{fixture_path, fixtures_dir};

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

    const fn hdr(format: HdrFormat) -> HdrInfo {
        HdrInfo {
            format: Some(format),
            ..HdrInfo::SDR
        }
    }

    /// `n` frames `step` ticks apart from `first`, all shown, the last one
    /// displayed for one more step (for MP4 that is also the declared end).
    const fn steady(n: usize, sync: usize, first: i64, step: i64, rate: (i64, i64)) -> Frames {
        let last = first + step * (n as i64 - 1);
        Frames::Shown(Timeline {
            frames: n,
            sync,
            first,
            last,
            end: last + step,
            average_rate: Some(rate),
            variable: false,
        })
    }

    /// The common case: 1 s of 320x240 libx264 High 4:2:0 at 25 fps, MP4
    /// timescale 12800, untagged. Every fixture is progressive.
    const SD: Video = Video {
        index: 0,
        id: Some(1),
        codec: "h264",
        profile: Some("High"),
        level: Some(13),
        pixel_format: Some("yuv420p"),
        bit_depth: Some(8),
        chroma: Some((1, 1)),
        coded: (320, 240),
        display: (320, 240),
        sar: Some((1, 1)),
        display_matrix: None,
        orientation: UPRIGHT,
        clean_aperture: None,
        interlaced: Some(false),
        color: UNTAGGED,
        hdr: HdrInfo::SDR,
        timescale: 12800,
        declared_frames: Some(25),
        default: true,
        packets: 25,
        packet_list: PacketList::Listed,
        timeline_offset: 0,
        timeline: steady(25, 1, 0, 512, (25, 1)),
    };

    const SD_2S: Video = Video {
        declared_frames: Some(50),
        packets: 50,
        timeline: steady(50, 2, 0, 512, (25, 1)),
        ..SD
    };

    /// 0.4 s at 1280x720.
    const HD: Video = Video {
        level: Some(31),
        coded: (1280, 720),
        display: (1280, 720),
        declared_frames: Some(10),
        packets: 10,
        timeline: steady(10, 1, 0, 512, (25, 1)),
        ..SD
    };

    /// 2 s of `h264_bframes.mp4`: closed GOPs of 12, so 5 sync frames.
    const BFRAMES: Video = Video {
        timeline: steady(50, 5, 0, 512, (25, 1)),
        ..SD_2S
    };

    /// The 160x96 10 fps stream of the eight orientation files.
    const ORIENTED: Video = Video {
        level: Some(10),
        coded: (160, 96),
        display: (160, 96),
        timescale: 10240,
        declared_frames: Some(10),
        packets: 10,
        timeline: steady(10, 1, 0, 1024, (10, 1)),
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
            orientation: o(rotation, mirror),
            ..ORIENTED
        }
    }

    const HEVC: Video = Video {
        codec: "hevc",
        profile: Some("Main 10"),
        level: Some(60),
        pixel_format: Some("yuv420p10le"),
        bit_depth: Some(10),
        ..SD_2S
    };

    /// VP9 and H.264 in Matroska/WebM: time base 1/1000, 25 fps, no
    /// declared frame count, not flagged default.
    const MATROSKA: Video = Video {
        // Each file's TrackNumber is 1, which `VideoTrack::id` is documented
        // to hold, but FFmpeg 5.1 leaves `AVStream.id` at 0 for Matroska
        // (ffprobe prints N/A) and stills reports that 0: not compared until
        // they agree.
        id: None,
        timescale: 1000,
        declared_frames: None,
        default: false,
        ..SD
    };

    const VP9: Video = Video {
        codec: "vp9",
        profile: Some("Profile 0"),
        level: None,
        color: TV_ONLY,
        ..MATROSKA
    };

    /// A whole one-track MP4 of 1 s starting at 0.
    const MP4_1S: Container = Container {
        format: MOV,
        timeline: TimelineKind::Presentation,
        start_us: Some(0),
        duration_us: Some(1_000_000),
        tracks: &[(TrackKind::Video, Some("h264"))],
        // No fixture has cover art or an empty track, so images come from
        // the first video track (in two_video_tracks.mp4 also the one
        // flagged default).
        default_video: Some(0),
        warnings: Some(&[]),
        video: &[],
    };

    const MP4_2S: Container = Container {
        duration_us: Some(2_000_000),
        ..MP4_1S
    };

    const WEBM: Container = Container {
        format: MKV,
        tracks: &[(TrackKind::Video, Some("vp9"))],
        ..MP4_1S
    };

    const fn opens(video: &'static [Video]) -> Expect {
        Expect::Opens(Container { video, ..MP4_1S })
    }

    const fn opens_2s(video: &'static [Video]) -> Expect {
        Expect::Opens(Container { video, ..MP4_2S })
    }

    /// One entry per file in `tests/fixtures`.
    const FIXTURES: &[(&str, Expect)] = &[
        (
            "audio_only.mp4",
            Expect::Opens(Container {
                tracks: &[(TrackKind::Audio, Some("aac"))],
                default_video: None,
                ..MP4_1S
            }),
        ),
        (
            "av1.mp4",
            Expect::Opens(Container {
                tracks: &[(TrackKind::Video, Some("av1"))],
                video: &[Video {
                    codec: "av1",
                    profile: Some("Main"),
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
                duration_us: Some(400_000),
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
                sar: Some((4, 3)),
                clean_aperture: Some([(320, 1), (240, 1), (-4, 1), (-2, 1)]),
                ..SD
            }]),
        ),
        (
            "corrupt_mdat.mp4",
            // Damaged sample data changes no container fact: ffprobe demuxes all
            // 50 packets, those of h264_bframes.mp4, and so must the index.
            opens_2s(&[Video {
                packet_list: PacketList::SameAs("h264_bframes.mp4"),
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
                start_us: Some(500_000),
                duration_us: Some(1_500_000),
                video: &[Video {
                    timeline: steady(25, 1, 6400, 512, (25, 1)),
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
                duration_us: Some(1_600_000),
                video: &[Video {
                    declared_frames: Some(50),
                    packets: 50,
                    timeline: steady(40, 1, 0, 512, (25, 1)),
                    ..SD
                }],
                ..MP4_1S
            }),
        ),
        (
            "fullrange.mp4",
            opens(&[Video {
                pixel_format: Some("yuvj420p"),
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
                    packets: 50,
                    timeline: steady(50, 5, 0, 40, (25, 1)),
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
                tracks: &[(TrackKind::Video, Some("hevc"))],
                video: &[Video {
                    color: color(
                        P::Bt2020,
                        T::Pq,
                        M::Bt2020Ncl,
                        ColorRange::Limited,
                        ChromaLocation::Left,
                    ),
                    hdr: hdr(HdrFormat::Pq),
                    ..HEVC
                }],
                ..MP4_2S
            }),
        ),
        (
            "hevc_main10_hlg.mp4",
            Expect::Opens(Container {
                tracks: &[(TrackKind::Video, Some("hevc"))],
                video: &[Video {
                    color: color(
                        P::Bt2020,
                        T::Hlg,
                        M::Bt2020Ncl,
                        ColorRange::Limited,
                        ChromaLocation::Left,
                    ),
                    hdr: hdr(HdrFormat::Hlg),
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
                start_us: Some(1_480_000),
                video: &[Video {
                    id: Some(0x100),
                    timescale: 90000,
                    declared_frames: None,
                    default: false,
                    timeline_offset: 133_200,
                    packets: 50,
                    timeline: steady(50, 2, 0, 3600, (25, 1)),
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
                    timeline: steady(25, 1, 0, 40, (25, 1)),
                    ..VP9
                }],
                ..WEBM
            }),
        ),
        (
            "odd_161x121_yuv444p.mp4",
            opens(&[Video {
                profile: Some("High 4:4:4 Predictive"),
                level: Some(11),
                pixel_format: Some("yuv444p"),
                chroma: Some((0, 0)),
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
                sar: Some((2, 1)),
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
                warnings: Some(
                    &["truncated: box 'mdat' at offset 1276 declares 48378 bytes \
                         but the file ends at 29792"],
                ),
                video: &[Video {
                    packet_list: PacketList::CutFrom("h264_bframes.mp4"),
                    packets: 30,
                    timeline: Frames::Shown(Timeline {
                        frames: 29,
                        sync: 3,
                        first: 0,
                        last: 28 * 512,
                        end: 29 * 512,
                        average_rate: Some((25, 1)),
                        variable: false,
                    }),
                    ..BFRAMES
                }],
                ..MP4_2S
            }),
        ),
        (
            "truncated_moov.mp4",
            Expect::Truncated(Some(
                "box 'moov' at offset 48418 declares 1236 bytes but the file ends at 49036",
            )),
        ),
        (
            "two_video_tracks.mp4",
            Expect::Opens(Container {
                tracks: &[
                    (TrackKind::Video, Some("h264")),
                    (TrackKind::Video, Some("h264")),
                ],
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
                        packets: 20,
                        timeline: steady(20, 1, 0, 1024, (10, 1)),
                        ..SD
                    },
                ],
                ..MP4_2S
            }),
        ),
        (
            "untagged_hd.mp4",
            Expect::Opens(Container {
                duration_us: Some(400_000),
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
                duration_us: Some(2_720_000),
                video: &[Video {
                    level: Some(21),
                    timescale: 1000,
                    declared_frames: Some(30),
                    packets: 30,
                    timeline: Frames::Shown(Timeline {
                        frames: 30,
                        sync: 3,
                        first: 0,
                        last: 2700,
                        end: 2720,
                        average_rate: Some((29 * 1000, 2700)),
                        variable: true,
                    }),
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
                duration_us: Some(2_000_000),
                video: &[Video {
                    packets: 50,
                    timeline: steady(50, 2, 0, 40, (25, 1)),
                    ..VP9
                }],
                ..WEBM
            }),
        ),
        (
            "yuv422p.mp4",
            opens(&[Video {
                profile: Some("High 4:2:2"),
                pixel_format: Some("yuv422p"),
                chroma: Some((1, 0)),
                color: BT709,
                ..SD
            }]),
        ),
        (
            "yuv444p.mp4",
            opens(&[Video {
                profile: Some("High 4:4:4 Predictive"),
                pixel_format: Some("yuv444p"),
                chroma: Some((0, 0)),
                color: BT709,
                ..SD
            }]),
        ),
    ];
    fn check_file(file: &str, with_timeline: bool) {
        check(
            file,
            &fixture_path(file),
            expectation(FIXTURES, file),
            with_timeline,
        );
    }

    file_tests! {
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

    /// Every media file in `tests/fixtures` has an entry above, and every
    /// entry a file; the README and the scripts that make the fixtures are
    /// not media.
    #[test]
    fn every_fixture_is_covered() {
        let tooling = ["md", "py", "sh"];
        let files = media_files(&fixtures_dir())
            .into_iter()
            .filter(|f| {
                !f.extension()
                    .is_some_and(|e| tooling.iter().any(|t| e == *t))
            })
            .collect();
        assert_table_covers(files, FIXTURES, "tests/fixtures");
    }
}

/// The real-world files in `../shared/media` (see its MANIFEST.md). A
/// checkout without the directory skips these tests and says so, unless
/// `STILLS_REQUIRE_SHARED_MEDIA` is set.
mod shared_media {
    use super::*;
    use crate::common::media::{media_dir, media_files};

    const fn xy(x: f64, y: f64) -> Chromaticity {
        Chromaticity { x, y }
    }

    /// The decord phone clips: the same 568×320 Baseline stream, three matrices.
    const fn decord(
        matrix: [i32; 9],
        orientation: Option<Orientation>,
        display: (u32, u32),
    ) -> Video {
        Video {
            index: 0,
            id: Some(1),
            codec: "h264",
            profile: Some("Baseline"),
            level: Some(30),
            pixel_format: Some("yuv420p"),
            bit_depth: Some(8),
            chroma: Some((1, 1)),
            coded: (568, 320),
            display,
            sar: None,
            display_matrix: Some(matrix),
            orientation,
            clean_aperture: None,
            interlaced: Some(false),
            color: BT709,
            hdr: HdrInfo::SDR,
            timescale: 19200,
            declared_frames: Some(3),
            default: true,
            packets: 3,
            packet_list: PacketList::CountOnly,
            timeline_offset: 0,
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
        warnings: Some(&[]),
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
                warnings: Some(&[]),
                video: &[Video {
                    index: 0,
                    id: Some(1),
                    codec: "h264",
                    profile: Some("High"),
                    level: Some(31),
                    pixel_format: Some("yuv420p"),
                    bit_depth: Some(8),
                    chroma: Some((1, 1)),
                    coded: (800, 640),
                    // 800 × 1137/800.
                    display: (1137, 640),
                    sar: Some((1137, 800)),
                    display_matrix: None,
                    orientation: UPRIGHT,
                    clean_aperture: None,
                    interlaced: Some(false),
                    color: UNTAGGED,
                    hdr: HdrInfo::SDR,
                    timescale: 15360,
                    declared_frames: Some(120),
                    default: true,
                    packets: 120,
                    packet_list: PacketList::CountOnly,
                    timeline_offset: 0,
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
                warnings: Some(&[]),
                video: &[Video {
                    index: 0,
                    id: None,
                    codec: "vp9",
                    profile: Some("Profile 0"),
                    level: None,
                    pixel_format: Some("yuv420p"),
                    bit_depth: Some(8),
                    chroma: Some((1, 1)),
                    coded: (161, 121),
                    display: (161, 121),
                    sar: Some((1, 1)),
                    display_matrix: None,
                    orientation: UPRIGHT,
                    clean_aperture: None,
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
                    packet_list: PacketList::CountOnly,
                    timeline_offset: 0,
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
                warnings: Some(&[]),
                video: &[Video {
                    index: 0,
                    id: Some(1),
                    codec: "hevc",
                    profile: Some("Main 10"),
                    level: Some(93),
                    pixel_format: Some("yuv420p10le"),
                    bit_depth: Some(10),
                    chroma: Some((1, 1)),
                    coded: (1280, 720),
                    display: (720, 1280),
                    sar: None,
                    // ffprobe rotation -90: a quarter turn clockwise.
                    display_matrix: Some([0, 65536, 0, -65536, 0, 0, 47_185_920, 0, 1 << 30]),
                    orientation: o(90, false),
                    clean_aperture: None,
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
                    packet_list: PacketList::CountOnly,
                    timeline_offset: 0,
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
                warnings: Some(&[]),
                video: &[Video {
                    index: 0,
                    id: None,
                    codec: "vp9",
                    profile: Some("Profile 2"),
                    level: None,
                    // Nothing decodes, so ffprobe learns no pixel format.
                    pixel_format: None,
                    bit_depth: None,
                    chroma: None,
                    coded: (320, 240),
                    display: (320, 240),
                    sar: Some((1, 1)),
                    display_matrix: None,
                    orientation: UPRIGHT,
                    clean_aperture: None,
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
                    packet_list: PacketList::CountOnly,
                    timeline_offset: 0,
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
                warnings: Some(&[]),
                video: &[Video {
                    index: 0,
                    id: None,
                    codec: "vp9",
                    profile: Some("Profile 2"),
                    level: None,
                    pixel_format: Some("yuv420p10le"),
                    bit_depth: Some(10),
                    chroma: Some((1, 1)),
                    coded: (426, 240),
                    display: (426, 240),
                    sar: Some((1, 1)),
                    display_matrix: None,
                    orientation: UPRIGHT,
                    clean_aperture: None,
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
                    packet_list: PacketList::CountOnly,
                    timeline_offset: 0,
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
                warnings: Some(&[]),
                video: &[
                    Video {
                        index: 0,
                        id: Some(1),
                        codec: "h264",
                        profile: Some("High"),
                        level: Some(52),
                        pixel_format: Some("yuv420p"),
                        bit_depth: Some(8),
                        chroma: Some((1, 1)),
                        coded: (1080, 720),
                        display: (1080, 720),
                        sar: Some((1, 1)),
                        display_matrix: None,
                        orientation: UPRIGHT,
                        clean_aperture: None,
                        interlaced: Some(false),
                        color: BT709,
                        hdr: HdrInfo::SDR,
                        timescale: 90000,
                        declared_frames: Some(30),
                        default: true,
                        packets: 30,
                        packet_list: PacketList::CountOnly,
                        timeline_offset: 0,
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
                        chroma: None,
                        coded: (1080, 720),
                        display: (1080, 720),
                        sar: Some((1, 1)),
                        display_matrix: None,
                        orientation: UPRIGHT,
                        clean_aperture: None,
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
                        packet_list: PacketList::CountOnly,
                        timeline_offset: 0,
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
                warnings: Some(&[]),
                video: &[Video {
                    index: 0,
                    id: Some(1),
                    codec: "av1",
                    profile: Some("Main"),
                    level: Some(9),
                    pixel_format: Some("yuv420p10le"),
                    bit_depth: Some(10),
                    chroma: Some((1, 1)),
                    coded: (1920, 1080),
                    display: (1920, 1080),
                    sar: Some((1, 1)),
                    display_matrix: None,
                    orientation: UPRIGHT,
                    clean_aperture: None,
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
                    packet_list: PacketList::CountOnly,
                    timeline_offset: 0,
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
                warnings: Some(&[]),
                video: &[Video {
                    index: 0,
                    id: None,
                    codec: "h264",
                    profile: Some("High"),
                    level: Some(21),
                    pixel_format: Some("yuv420p"),
                    bit_depth: Some(8),
                    chroma: Some((1, 1)),
                    coded: (320, 240),
                    display: (320, 240),
                    sar: None,
                    display_matrix: None,
                    orientation: UPRIGHT,
                    clean_aperture: None,
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
                    packet_list: PacketList::CountOnly,
                    timeline_offset: 0,
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
                warnings: Some(&[]),
                video: &[Video {
                    index: 0,
                    id: Some(1),
                    codec: "h264",
                    profile: Some("High"),
                    level: Some(31),
                    pixel_format: Some("yuv420p"),
                    bit_depth: Some(8),
                    chroma: Some((1, 1)),
                    coded: (1280, 720),
                    display: (1280, 720),
                    sar: Some((1, 1)),
                    display_matrix: None,
                    orientation: UPRIGHT,
                    clean_aperture: None,
                    interlaced: Some(false),
                    color: UNTAGGED,
                    hdr: HdrInfo::SDR,
                    timescale: 10240,
                    declared_frames: Some(50),
                    default: true,
                    packets: 50,
                    packet_list: PacketList::CountOnly,
                    timeline_offset: 0,
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
        ("isoboxer/spliced_10000.m4v", Expect::Truncated(None)),
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
                warnings: None,
                video: &[Video {
                    index: 0,
                    id: None,
                    codec: "h264",
                    profile: Some("Main"),
                    level: Some(31),
                    pixel_format: Some("yuv420p"),
                    bit_depth: Some(8),
                    chroma: Some((1, 1)),
                    coded: (1024, 576),
                    display: (1024, 576),
                    sar: Some((1, 1)),
                    display_matrix: None,
                    orientation: UPRIGHT,
                    clean_aperture: None,
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
                    packet_list: PacketList::CountOnly,
                    timeline_offset: 0,
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
                warnings: Some(&[]),
                video: &[Video {
                    index: 0,
                    id: Some(1),
                    codec: "prores",
                    profile: Some("Standard"),
                    level: None,
                    pixel_format: Some("yuv422p10le"),
                    bit_depth: Some(10),
                    chroma: Some((1, 0)),
                    coded: (180, 144),
                    // 180 × 16/15.
                    display: (192, 144),
                    sar: Some((16, 15)),
                    display_matrix: None,
                    orientation: UPRIGHT,
                    clean_aperture: None,
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
                    packet_list: PacketList::CountOnly,
                    timeline_offset: 0,
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
                warnings: Some(&[]),
                video: &[Video {
                    index: 0,
                    id: Some(1),
                    codec: "h264",
                    profile: Some("High"),
                    level: Some(50),
                    pixel_format: Some("yuv420p"),
                    bit_depth: Some(8),
                    chroma: Some((1, 1)),
                    coded: (3026, 1386),
                    display: (3026, 1386),
                    sar: None,
                    display_matrix: None,
                    orientation: UPRIGHT,
                    clean_aperture: None,
                    interlaced: Some(false),
                    color: BT709,
                    hdr: HdrInfo::SDR,
                    timescale: 57600,
                    declared_frames: Some(63),
                    default: true,
                    packets: 63,
                    packet_list: PacketList::CountOnly,
                    timeline_offset: 0,
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
                warnings: Some(&[]),
                video: &[Video {
                    index: 0,
                    id: Some(1),
                    codec: "h264",
                    profile: Some("High"),
                    level: Some(30),
                    pixel_format: Some("yuv420p"),
                    bit_depth: Some(8),
                    chroma: Some((1, 1)),
                    coded: (640, 360),
                    display: (1280, 360),
                    sar: Some((2, 1)),
                    display_matrix: None,
                    orientation: UPRIGHT,
                    clean_aperture: None,
                    interlaced: Some(false),
                    color: UNTAGGED,
                    hdr: HdrInfo::SDR,
                    timescale: 15360,
                    declared_frames: Some(150),
                    default: true,
                    packets: 150,
                    packet_list: PacketList::CountOnly,
                    timeline_offset: 0,
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
                warnings: Some(&[]),
                video: &[Video {
                    index: 0,
                    id: Some(1),
                    codec: "h264",
                    profile: Some("High"),
                    level: Some(13),
                    pixel_format: Some("yuv420p"),
                    bit_depth: Some(8),
                    chroma: Some((1, 1)),
                    coded: (320, 240),
                    display: (320, 240),
                    sar: Some((1, 1)),
                    // All zero (ffprobe rotation INT64_MIN): no orientation.
                    display_matrix: Some([0; 9]),
                    orientation: None,
                    clean_aperture: None,
                    interlaced: Some(false),
                    color: UNTAGGED,
                    hdr: HdrInfo::SDR,
                    timescale: 2500,
                    declared_frames: None,
                    default: true,
                    packets: 182,
                    packet_list: PacketList::CountOnly,
                    timeline_offset: 0,
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
                warnings: Some(&[]),
                video: &[
                    Video {
                        index: 0,
                        id: Some(1),
                        codec: "h264",
                        profile: Some("High"),
                        level: Some(12),
                        pixel_format: Some("yuv420p"),
                        bit_depth: Some(8),
                        chroma: Some((1, 1)),
                        coded: (320, 180),
                        display: (320, 180),
                        sar: Some((1, 1)),
                        display_matrix: None,
                        orientation: UPRIGHT,
                        clean_aperture: None,
                        interlaced: Some(false),
                        color: BT709,
                        hdr: HdrInfo::SDR,
                        timescale: 12800,
                        declared_frames: Some(325),
                        default: true,
                        packets: 325,
                        packet_list: PacketList::CountOnly,
                        timeline_offset: 0,
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
                        chroma: Some((1, 1)),
                        coded: (480, 270),
                        display: (480, 270),
                        sar: Some((1, 1)),
                        display_matrix: None,
                        orientation: UPRIGHT,
                        clean_aperture: None,
                        interlaced: Some(false),
                        color: BT709,
                        hdr: HdrInfo::SDR,
                        timescale: 30000,
                        declared_frames: Some(390),
                        default: true,
                        packets: 390,
                        packet_list: PacketList::CountOnly,
                        timeline_offset: 0,
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
                warnings: Some(&[]),
                video: &[Video {
                    index: 0,
                    id: Some(1),
                    codec: "h264",
                    profile: Some("High"),
                    level: Some(11),
                    pixel_format: Some("yuv420p"),
                    bit_depth: Some(8),
                    chroma: Some((1, 1)),
                    coded: (200, 112),
                    // 200 × 224/225 = 199.1.
                    display: (199, 112),
                    sar: Some((224, 225)),
                    display_matrix: None,
                    orientation: UPRIGHT,
                    clean_aperture: None,
                    interlaced: Some(false),
                    color: UNTAGGED,
                    hdr: HdrInfo::SDR,
                    timescale: 15360,
                    declared_frames: Some(12),
                    default: true,
                    packets: 12,
                    packet_list: PacketList::CountOnly,
                    timeline_offset: 0,
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
    fn check_file(rel: &str, with_timeline: bool) {
        let Some(dir) = media_dir() else {
            return;
        };
        check(rel, &dir.join(rel), expectation(MEDIA, rel), with_timeline);
    }

    file_tests! {
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

    /// Metadata of the raw Annex B stream, apart from its timeline (see
    /// `raw_h264_timeline`), so that a failure says which of the two broke.
    #[test]
    fn raw_h264_interlaced_metadata() {
        check_file("croscodecs/test-25fps-interlaced.h264", false);
    }

    /// SPEC ("the timeline") lists raw elementary streams among the
    /// transport-clock formats; ffprobe and ffmpeg read 250 frames of 48000
    /// ticks each from this file, but no packet carries a timestamp, so the
    /// frame index times them by decoding the stream once, as a player
    /// shows them.
    #[test]
    fn raw_h264_timeline() {
        check_file("croscodecs/test-25fps-interlaced.h264", true);
    }

    /// Metadata of the Matroska file cut at 100 KiB; its timeline end is
    /// checked separately (see `truncated_matroska_end`).
    #[test]
    fn truncated_matroska_metadata() {
        check_file("jcodec/test.mkv", false);
    }

    /// The one frame present is 41 ms long; the header's 46.665 s describes
    /// data that is not there, so the track must not claim to show that
    /// frame for 46 s.
    #[test]
    fn truncated_matroska_end() {
        check_file("jcodec/test.mkv", true);
    }

    /// Every file in the shared directory has an entry above, and every
    /// entry a file.
    #[test]
    fn every_shared_file_is_covered() {
        let Some(dir) = media_dir() else {
            return;
        };
        assert_table_covers(media_files(&dir), MEDIA, "../shared/media");
    }
}
