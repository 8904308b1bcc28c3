//! The full scan: a track's frame index built by demuxing every packet
//! (no decoding). It is the reference the other ways of knowing a track
//! are tested against (`tests/index.rs`), and the fallback where nothing
//! else is exact: raw elementary streams, whose frame times come from the
//! order a decoder shows their pictures in. Also the track's timeline read
//! off an index.

use crate::asset::index::{FrameIndex, IndexEntry};
use crate::asset::{ContainerInfo, TimelineKind, TrackTimeline, VideoTrack};
use crate::error::IndexError;
use crate::ffmpeg::{Demuxer, Source, StreamTiming};
use crate::ratio::Ratio;
use crate::time::Time;

/// Demuxes every packet of `track` and assembles its index.
pub(super) fn full_scan(
    source: &Source,
    track: &VideoTrack,
    container: &ContainerInfo,
) -> Result<FrameIndex, IndexError> {
    let mut demuxer = Demuxer::open(source).map_err(|f| IndexError::Open(f.code.into()))?;
    demuxer.discard_all_but(track.index);
    let tb = track.time_base;
    let offset = timeline_offset(&demuxer, container, tb);
    let declared_end = demuxer
        .stream_timing(track.index)
        .and_then(|timing| declared_end(container, timing, offset));
    let is_vp9 = track.codec == "vp9";
    let mut packets = Vec::new();
    while let Some((info, packet)) = demuxer
        .read_packet()
        .map_err(|e| IndexError::Demux(e.into()))?
    {
        if info.stream != track.index {
            continue;
        }
        packets.push(entry_of(&info, &packet, offset, is_vp9));
    }
    if !packets.is_empty() && packets.iter().all(|p| p.pts.is_none()) {
        time_by_decoding(source, track, &mut packets)?;
    }
    Ok(assemble(packets, tb, offset, declared_end))
}

/// Ticks subtracted from the stream's timestamps to put them on the asset
/// timeline: the container's start time for transport-clock formats, else
/// 0 (SPEC, "the timeline").
pub(super) fn timeline_offset(demuxer: &Demuxer, container: &ContainerInfo, tb: Ratio) -> i64 {
    match container.timeline {
        TimelineKind::Presentation => 0,
        TimelineKind::TransportClock => demuxer
            .start_time_us()
            .map(|us| rescale_us(us, tb))
            .unwrap_or(0),
    }
}

/// Where the container says a track ends, on the asset timeline. Only
/// MP4/MOV declare a track's end (its edit list or `mdhd`); for other
/// formats FFmpeg fills a stream's start and duration in from the
/// container's, which says nothing about where this track's frames stop
/// (a truncated Matroska file keeps its header's full duration). A
/// truncated file's declared end lies past its data.
pub(super) fn declared_end(
    container: &ContainerInfo,
    timing: StreamTiming,
    offset: i64,
) -> Option<i64> {
    let declares_end = container.format.starts_with("mov,") && !container.truncated;
    let (start, duration) = (timing.start?, timing.duration?);
    declares_end.then(|| start + duration - offset)
}

/// One demuxed packet as the index keeps it.
pub(super) fn entry_of(
    info: &crate::ffmpeg::PacketInfo,
    packet: &crate::ffmpeg::av::Packet,
    offset: i64,
    is_vp9: bool,
) -> IndexEntry {
    let hidden = is_vp9 && packet.data().is_some_and(|d| !vp9_shows_frame(d));
    let pts = info.pts.map(|p| p - offset);
    IndexEntry {
        pts,
        duration: info.duration.max(0),
        sync: info.key,
        // A damaged packet's picture is not what the file shows there.
        shown: pts.is_some() && !info.discard && !info.corrupt && !hidden,
    }
}

/// Gives the packets of a stream without timestamps (a raw elementary
/// stream) the times a player shows them at: the n-th picture in output
/// order at n frame durations. Only decoding reveals that order when
/// B-frames reorder pictures, so this decodes the stream once.
fn time_by_decoding(
    source: &Source,
    track: &VideoTrack,
    packets: &mut [IndexEntry],
) -> Result<(), IndexError> {
    let step = packets
        .iter()
        .map(|p| p.duration)
        .find(|&d| d > 0)
        .ok_or(IndexError::NoTiming)?;
    let order = crate::ffmpeg::presentation_order(source, track.index)
        .map_err(|e| IndexError::Ordering(e.into()))?;
    for p in packets.iter_mut() {
        p.shown = false;
    }
    for (n, &position) in order.iter().enumerate() {
        if let Some(p) = packets.get_mut(position) {
            p.pts = Some(n as i64 * step);
            p.shown = true;
        }
    }
    Ok(())
}

/// Converts microseconds to ticks of `tb`, rounding to nearest.
fn rescale_us(us: i64, tb: Ratio) -> i64 {
    let num = us as i128 * tb.den as i128;
    let den = 1_000_000i128 * tb.num as i128;
    if den == 0 {
        return 0;
    }
    ((2 * num + den) / (2 * den)) as i64
}

/// Orders the shown frames and finds where the last one ends: where the
/// container says the track ends (an MP4 edit list can cut the last frame
/// short), else after the last frame's own duration, else after a typical
/// frame gap.
pub(super) fn assemble(
    packets: Vec<IndexEntry>,
    time_base: Ratio,
    offset: i64,
    declared_end: Option<i64>,
) -> FrameIndex {
    let presentation = presentation_order(&packets);
    let end = match presentation.last() {
        None => 0,
        Some(&last) => {
            let last = packets[last as usize];
            let pts = last.pts.unwrap_or(0);
            if let Some(end) = declared_end.filter(|&e| e > pts) {
                return finish(packets, presentation, time_base, offset, end);
            }
            let step = if last.duration > 0 {
                last.duration
            } else {
                typical_step(&packets, &presentation).unwrap_or(1)
            };
            pts + step
        }
    };
    finish(packets, presentation, time_base, offset, end)
}

/// The index of `packets` with its end known (a part of a track read on
/// demand, or an index read back from the persistent index).
pub(super) fn with_end(
    packets: Vec<IndexEntry>,
    time_base: Ratio,
    offset: i64,
    end: i64,
) -> FrameIndex {
    let presentation = presentation_order(&packets);
    finish(packets, presentation, time_base, offset, end)
}

/// Indices of the shown packets, by presentation time (ties keep decode
/// order).
fn presentation_order(packets: &[IndexEntry]) -> Vec<u32> {
    let mut presentation: Vec<u32> = (0..packets.len() as u32)
        .filter(|&i| packets[i as usize].shown)
        .collect();
    presentation.sort_by_key(|&i| (packets[i as usize].pts, i));
    presentation
}

fn finish(
    packets: Vec<IndexEntry>,
    presentation: Vec<u32>,
    time_base: Ratio,
    timeline_offset: i64,
    end: i64,
) -> FrameIndex {
    FrameIndex {
        time_base,
        timeline_offset,
        packets,
        presentation,
        end,
    }
}

/// The median gap between consecutive shown frames.
fn typical_step(packets: &[IndexEntry], presentation: &[u32]) -> Option<i64> {
    let mut gaps: Vec<i64> = presentation
        .windows(2)
        .filter_map(|w| Some(packets[w[1] as usize].pts? - packets[w[0] as usize].pts?))
        .filter(|&g| g > 0)
        .collect();
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).copied()
}

/// Reads the track's timeline off its index; `None` when nothing is shown
/// (or, impossibly for real time bases, a time overflows).
pub(super) fn timeline(index: &FrameIndex) -> Option<TrackTimeline> {
    let pts = |i: u32| index.packets[i as usize].pts.unwrap_or(0);
    let first = index.first_shown_pts()?;
    let last = pts(*index.presentation.last()?);
    let tb = index.time_base;
    let t = |ticks: i64| Time::from_stream_ticks(ticks, tb);
    let gaps: Vec<i64> = index
        .presentation
        .windows(2)
        .map(|w| pts(w[1]) - pts(w[0]))
        .collect();
    let n = index.presentation.len();
    let average_frame_rate = (n > 1 && last > first)
        .then(|| Ratio::new((n as i64 - 1) * tb.den, (last - first).checked_mul(tb.num)?))
        .flatten();
    Some(TrackTimeline {
        frame_count: n,
        sync_frame_count: index
            .presentation
            .iter()
            .filter(|&&i| index.packets[i as usize].sync)
            .count(),
        first_frame: t(first)?,
        last_frame: t(last)?,
        end: t(index.end)?,
        duration: t(index.end - first)?,
        average_frame_rate,
        variable_frame_rate: is_variable(&gaps),
    })
}

/// Frame durations count as variable when they differ by more than timestamp
/// rounding can explain: more than 2 ticks and more than 1 % of the shortest.
/// Rounding jitter of ±1 tick (a 1/30 s frame in a 1/1000 time base) is not VFR.
fn is_variable(gaps: &[i64]) -> bool {
    let (Some(&min), Some(&max)) = (gaps.iter().min(), gaps.iter().max()) else {
        return false;
    };
    let spread = max - min;
    spread > 2 && spread * 100 > min
}

/// Whether a VP9 packet displays a frame. Alt-ref frames are coded with
/// `show_frame = 0` and never shown; a superframe (several frames in one
/// packet, marked by its last byte) always ends with a shown frame in
/// practice and counts as shown. Reads only the uncompressed header's first
/// bits (VP9 bitstream spec §6.2).
pub(crate) fn vp9_shows_frame(data: &[u8]) -> bool {
    let Some(&last) = data.last() else {
        return false;
    };
    if last & 0xe0 == 0xc0 {
        return true;
    }
    let b = data[0];
    if b >> 6 != 0b10 {
        return true;
    }
    let profile = ((b >> 5) & 1) | (((b >> 4) & 1) << 1);
    // Bit positions from the most significant bit of the first byte:
    // frame_marker (0–1), profile (2–3), a reserved zero in profile 3, then
    // show_existing_frame, frame_type and show_frame.
    let show_existing = if profile == 3 { 5 } else { 4 };
    let bit = |pos: u32| (b >> (7 - pos)) & 1 == 1;
    bit(show_existing) || bit(show_existing + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pts: i64, sync: bool) -> IndexEntry {
        IndexEntry {
            pts: Some(pts),
            duration: 0,
            sync,
            shown: true,
        }
    }

    #[test]
    fn presentation_order_and_end() {
        // I P B B in decode order, shown 0 3 1 2 (×10 ticks).
        let packets = vec![
            entry(0, true),
            entry(30, false),
            entry(10, false),
            entry(20, false),
        ];
        let index = assemble(packets, Ratio::new(1, 100).unwrap(), 0, None);
        assert_eq!(index.presentation, vec![0, 2, 3, 1]);
        assert_eq!(index.end, 40);
        let tl = timeline(&index).unwrap();
        assert_eq!(tl.frame_count, 4);
        assert_eq!(tl.sync_frame_count, 1);
        assert_eq!(tl.average_frame_rate, Ratio::new(10, 1));
        assert!(!tl.variable_frame_rate);
        assert_eq!(tl.duration.seconds(), 0.4);
    }

    #[test]
    fn hidden_and_discarded_frames_are_not_presented() {
        let mut hidden = entry(5, false);
        hidden.shown = false;
        let mut with_duration = entry(10, false);
        with_duration.duration = 7;
        let index = assemble(
            vec![entry(0, true), hidden, with_duration],
            Ratio::ONE,
            0,
            None,
        );
        assert_eq!(index.presentation, vec![0, 2]);
        assert_eq!(index.end, 17);
        let cut = assemble(index.packets.clone(), Ratio::ONE, 0, Some(12));
        assert_eq!(cut.end, 12);
        let before_last = assemble(index.packets, Ratio::ONE, 0, Some(10));
        assert_eq!(before_last.end, 17);
    }

    #[test]
    fn variable_rate_detection() {
        assert!(!is_variable(&[3000, 3001, 2999, 3000]));
        assert!(!is_variable(&[33, 34, 33]));
        assert!(is_variable(&[33, 66, 33]));
        assert!(is_variable(&[5, 1570]));
        assert!(!is_variable(&[]));
    }

    #[test]
    fn vp9_show_frame_bits() {
        // frame_marker 10, profile 0 (0,0), show_existing 0, frame_type 0,
        // show_frame 1 → 1000_0010.
        assert!(vp9_shows_frame(&[0b1000_0010, 0, 0]));
        // show_frame 0 → 1000_0000.
        assert!(!vp9_shows_frame(&[0b1000_0000, 0, 0]));
        // show_existing_frame 1.
        assert!(vp9_shows_frame(&[0b1000_1000, 0, 0]));
        // Profile 3 has a reserved bit: 1011_0 then show_existing 0, type 0,
        // show 0 → 1011_0000 / 0000_0000 → hidden.
        assert!(!vp9_shows_frame(&[0b1011_0000, 0b0000_0000, 0]));
        assert!(vp9_shows_frame(&[0b1011_0001, 0, 0]));
        // Superframe index marker in the last byte.
        assert!(vp9_shows_frame(&[0b1000_0000, 0, 0b1100_0001]));
        assert!(!vp9_shows_frame(&[]));
    }
}
