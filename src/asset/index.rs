//! The frame index of a video track: every packet in decode order with its
//! presentation time and sync flag, built without decoding. The planner
//! reads it to choose frames and plan decodes.
//!
//! A [`FrameIndex`] holds a whole track, or one stretch of it: an
//! [`IndexSnapshot`] is what is known of a track at one moment, one part
//! when the whole index is known (from MP4 sample tables, the persistent
//! index or a full scan) and possibly several when groups of pictures are
//! read where requests fall (`index_lazy`).

use std::sync::Arc;

use crate::plan::PartBounds;
use crate::ratio::Ratio;

/// One packet of the track, in decode order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    /// Presentation time on the asset timeline, in stream ticks
    /// (`time_base` units). `None` for packets that have none.
    pub pts: Option<i64>,
    /// Ticks this frame is displayed for, as the container says (0 when it
    /// does not say); the display span actually used is up to the next
    /// shown frame's pts.
    pub duration: i64,
    /// A random-access point: decoding may start here.
    pub sync: bool,
    /// Shown on the timeline. Packets outside the edit list (FFmpeg's
    /// discard flag) and packets with no presentation time are decoded as
    /// references but never shown.
    pub shown: bool,
}

/// A track's packets plus the order in which their frames are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameIndex {
    /// Seconds per tick.
    pub time_base: Ratio,
    /// Ticks subtracted from the stream's own timestamps to put them on the
    /// asset timeline (0 for MP4/MOV/Matroska; the container start time for
    /// transport-clock formats such as MPEG-TS).
    pub timeline_offset: i64,
    /// Every packet, in decode order.
    pub packets: Vec<IndexEntry>,
    /// Indices into `packets` of the shown frames, sorted by presentation
    /// time (ties keep decode order).
    pub presentation: Vec<u32>,
    /// Where the last shown frame stops being displayed, in ticks on the
    /// asset timeline: the track's end.
    pub end: i64,
}

impl FrameIndex {
    /// Presentation time of the first shown frame, in ticks on the asset
    /// timeline; `None` when nothing is shown.
    pub fn first_shown_pts(&self) -> Option<i64> {
        self.presentation
            .first()
            .and_then(|&i| self.packets.get(i as usize)?.pts)
    }
}

/// What is known of a track's index at one moment: parts of whole groups
/// of pictures, in decode order, none adjacent to another.
#[derive(Debug, Clone)]
pub(crate) struct IndexSnapshot {
    pub time_base: Ratio,
    pub parts: Vec<IndexPart>,
}

/// One known stretch of a track.
#[derive(Debug, Clone)]
pub(crate) struct IndexPart {
    pub index: Arc<FrameIndex>,
    pub bounds: PartBounds,
    /// The presentation time of the sync packet that follows the part,
    /// where the next read starts; `None` when the part ends the track.
    pub next_sync: Option<i64>,
}

impl IndexSnapshot {
    /// The snapshot of a track whose whole index is known.
    pub fn complete(index: Arc<FrameIndex>) -> IndexSnapshot {
        IndexSnapshot {
            time_base: index.time_base,
            parts: vec![IndexPart {
                index,
                bounds: PartBounds {
                    starts_track: true,
                    ends_track: true,
                },
                next_sync: None,
            }],
        }
    }

    /// Whether the parts show no frame at all.
    pub fn is_empty(&self) -> bool {
        self.parts.iter().all(|p| p.index.presentation.is_empty())
    }

    /// The first frame's presentation time and the track's end, in ticks,
    /// where the parts reach the track's start and end.
    pub fn known_bounds(&self) -> (Option<i64>, Option<i64>) {
        let first = self
            .parts
            .iter()
            .find(|p| p.bounds.starts_track)
            .and_then(|p| p.index.first_shown_pts());
        let end = self
            .parts
            .iter()
            .find(|p| p.bounds.ends_track)
            .map(|p| p.index.end);
        (first, end)
    }
}
