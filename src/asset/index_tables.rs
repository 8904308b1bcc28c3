//! The frame index of an MP4/MOV track without reading a sample.
//!
//! FFmpeg reads a track's sample tables when it opens the file (`stts`,
//! `stss`, `stsz`, `stsc`, `stco`/`co64`, the `sdtp`/`sbgp` sync hints and
//! the edit list) and keeps the result as its stream index
//! (`AVIndexEntry`): for every packet it will return, in order, the decode
//! time, the sync and discard flags, the byte offset and the size — after
//! its edit-list handling (`mov_fix_index`: pre-roll from the keyframe
//! before an edit starts, discarded samples, decode times rebased so that
//! the first shown frame is at 0). Only the composition offsets (`ctts`)
//! and the decode-time shift it derives from them stay private, so
//! [`super::mp4`] reads those from `moov`, with each sample's offset to
//! tell which sample an index entry is.
//!
//! Reusing FFmpeg's entries rather than re-deriving them from the tables
//! keeps the times identical to the packets the decoder later receives
//! (the engine recognises pictures by those times), edit-list quirks
//! included; `tests/index.rs` checks the result against the full demux of
//! every fixture and every shared real-world file.
//!
//! Why not Mozilla's `mp4parse` for the tables: it would parse `moov` a
//! third time (FFmpeg already has, and our reader walks it for `clap`)
//! only to hand back the raw tables, leaving FFmpeg's edit-list
//! arithmetic to be re-derived — the part that decides whether the times
//! match the decoder's; and it does not read fragments (Firefox reads
//! `moof` with its own C++ `MoofParser`), which stills leaves to FFmpeg's
//! fragment index and reads on demand. What FFmpeg keeps private is two
//! small tables, which our box reader reads in a few dozen lines.

use crate::asset::index::{FrameIndex, IndexEntry};
use crate::asset::index_build::assemble;
use crate::asset::mp4::SampleTable;
use crate::ffmpeg::{SeekEntry, StreamTiming};
use crate::ratio::Ratio;

/// What the table reader needs about one track.
pub(super) struct TrackTables<'a> {
    /// FFmpeg's index of the track, in the order it returns packets.
    pub entries: &'a [SeekEntry],
    pub table: &'a SampleTable,
    pub timing: StreamTiming,
    pub time_base: Ratio,
    /// The source's length in bytes, when known: FFmpeg's demuxer stops at
    /// the first sample that starts past it and flags one cut short as
    /// corrupt.
    pub source_len: Option<u64>,
    /// Where the container says the track ends, on the asset timeline.
    pub declared_end: Option<i64>,
}

/// Builds the index, or says why the tables cannot give the one the full
/// scan would (such tracks are scanned instead).
pub(super) fn build(track: &TrackTables) -> Result<FrameIndex, String> {
    let table = track.table;
    if track.entries.is_empty() {
        if table.sample_count == 0 {
            // An empty track: nothing to index, as the scan finds.
            return Ok(assemble(Vec::new(), track.time_base, 0, track.declared_end));
        }
        return Err("FFmpeg's index of the track is empty".into());
    }
    let composition = table.composition.as_deref();
    if let Some(c) = composition {
        // FFmpeg pairs its rebuilt composition table with packets in order;
        // that pairing is a sample's own offset only while every sample
        // has one, or while one edit keeps the samples in order.
        if c.len() < table.sample_count as usize && table.edits > 1 {
            return Err(format!(
                "the composition offsets cover {} of {} samples in a {}-entry edit list",
                c.len(),
                table.sample_count,
                table.edits
            ));
        }
    }
    let fill = filled_duration(track.timing.real_frame_rate, track.time_base);
    let mut packets = Vec::with_capacity(track.entries.len());
    for (k, entry) in track.entries.iter().enumerate() {
        let pos = u64::try_from(entry.pos)
            .map_err(|_| format!("index entry {k} has a negative offset"))?;
        if entry.size <= 0 {
            return Err(format!("sample at byte {pos} is empty"));
        }
        let corrupt = match track.source_len {
            Some(len) if pos >= len => break,
            Some(len) => pos + entry.size as u64 > len,
            None => false,
        };
        let sample = sample_at(table, pos)
            .ok_or_else(|| format!("index entry at byte {pos} matches no sample of the tables"))?;
        let offset = composition.and_then(|c| c.get(sample as usize).copied());
        let (pts, duration) = match offset {
            Some(ctts) => {
                let pts = entry
                    .timestamp
                    .saturating_add(table.dts_shift.saturating_add(i64::from(ctts)));
                // FFmpeg's mov demuxer leaves the duration of such packets
                // to the generic layer, which takes it from the frame rate.
                (pts, fill)
            }
            None => {
                let next = track
                    .entries
                    .get(k + 1)
                    .map(|e| e.timestamp)
                    .or(track.timing.duration);
                let own = next
                    .filter(|&n| n >= entry.timestamp)
                    .map_or(0, |n| n - entry.timestamp);
                (entry.timestamp, if own > 0 { own } else { fill })
            }
        };
        packets.push(IndexEntry {
            pts: Some(pts),
            duration,
            sync: entry.keyframe,
            shown: !entry.discard && !corrupt,
        });
    }
    Ok(assemble(packets, track.time_base, 0, track.declared_end))
}

/// The sample whose data starts at `pos`; `None` when no sample does, or
/// when two samples start there with different composition offsets.
fn sample_at(table: &SampleTable, pos: u64) -> Option<u32> {
    let first = table.offsets.partition_point(|&(o, _)| o < pos);
    let &(at, sample) = table.offsets.get(first)?;
    if at != pos {
        return None;
    }
    let offset_of = |s: u32| table.composition.as_ref().and_then(|c| c.get(s as usize));
    let ambiguous = table.offsets[first + 1..]
        .iter()
        .take_while(|&&(o, _)| o == pos)
        .any(|&(_, other)| offset_of(other) != offset_of(sample));
    (!ambiguous).then_some(sample)
}

/// The duration FFmpeg's generic layer gives a video packet its demuxer
/// left without one (`compute_frame_duration`): one frame at the stream's
/// real frame rate, else one tick of a coarse time base, else unknown (0).
fn filled_duration(real_frame_rate: Option<Ratio>, tb: Ratio) -> i64 {
    if let Some(rate) = real_frame_rate {
        let num = i128::from(rate.den) * i128::from(tb.den);
        let den = i128::from(rate.num) * i128::from(tb.num);
        if den > 0 {
            return i64::try_from(num / den).unwrap_or(0);
        }
    }
    if tb.num * 1000 > tb.den {
        return 1;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pos: i64, timestamp: i64, keyframe: bool) -> SeekEntry {
        SeekEntry {
            pos,
            timestamp,
            size: 10,
            keyframe,
            discard: false,
        }
    }

    fn table(offsets: &[u64], composition: Option<Vec<i32>>, dts_shift: i64) -> SampleTable {
        let mut offsets: Vec<(u64, u32)> = offsets
            .iter()
            .enumerate()
            .map(|(i, &o)| (o, i as u32))
            .collect();
        offsets.sort_unstable();
        SampleTable {
            sample_count: offsets.len() as u32,
            offsets,
            composition,
            dts_shift,
            edits: 0,
        }
    }

    fn tracks<'a>(entries: &'a [SeekEntry], table: &'a SampleTable) -> TrackTables<'a> {
        TrackTables {
            entries,
            table,
            timing: StreamTiming {
                start: Some(0),
                duration: Some(40),
                real_frame_rate: Ratio::new(25, 1),
            },
            time_base: Ratio::new(1, 250).unwrap(),
            source_len: None,
            declared_end: Some(40),
        }
    }

    #[test]
    fn composition_offsets_are_added_by_sample_not_by_entry_order() {
        // I P B B in decode order (10 ticks a frame), the B-frames shown
        // first: composition offsets 10 30 0 0 after a dts shift of 10.
        let entries = [
            entry(100, -10, true),
            entry(110, 0, false),
            entry(120, 10, false),
            entry(130, 20, false),
        ];
        let t = table(&[100, 110, 120, 130], Some(vec![10, 30, 0, 0]), 10);
        let index = build(&tracks(&entries, &t)).unwrap();
        let pts: Vec<_> = index.packets.iter().map(|p| p.pts.unwrap()).collect();
        assert_eq!(pts, [10, 40, 20, 30]);
        assert_eq!(index.presentation, [0, 2, 3, 1]);
        // Frame durations from the 25 fps rate in 1/250 s ticks.
        assert!(index.packets.iter().all(|p| p.duration == 10));
    }

    #[test]
    fn entries_past_the_end_of_the_source_stop_the_index() {
        let entries = [
            entry(0, 0, true),
            entry(10, 10, false),
            entry(20, 20, false),
        ];
        let t = table(&[0, 10, 20], None, 0);
        let mut track = tracks(&entries, &t);
        track.source_len = Some(15);
        let index = build(&track).unwrap();
        assert_eq!(index.packets.len(), 2);
        assert!(index.packets[0].shown);
        assert!(!index.packets[1].shown, "cut short: corrupt");
        // Without composition offsets, each duration runs to the next
        // decode time, the last to the stream's duration.
        track.source_len = None;
        let whole = build(&track).unwrap();
        let durations: Vec<_> = whole.packets.iter().map(|p| p.duration).collect();
        assert_eq!(durations, [10, 10, 20]);
    }

    #[test]
    fn entries_that_match_no_sample_refuse_the_tables() {
        let entries = [entry(0, 0, true), entry(11, 10, false)];
        let t = table(&[0, 10], None, 0);
        assert!(build(&tracks(&entries, &t))
            .unwrap_err()
            .contains("matches no sample"));
        // Two samples at one offset with different composition offsets.
        let t = table(&[0, 0], Some(vec![0, 5]), 0);
        assert!(build(&tracks(&entries[..1], &t)).is_err());
    }

    #[test]
    fn frame_duration_fill() {
        let tb = Ratio::new(1, 12800).unwrap();
        assert_eq!(filled_duration(Ratio::new(25, 1), tb), 512);
        assert_eq!(filled_duration(Ratio::new(30000, 1001), tb), 427);
        assert_eq!(filled_duration(None, Ratio::new(1, 25).unwrap()), 1);
        assert_eq!(filled_duration(None, tb), 0);
    }
}
