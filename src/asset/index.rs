//! The frame index of a video track: every packet in decode order with its
//! presentation time and sync flag, built by demuxing only (no decoding).
//! The planner reads it to choose frames and plan decodes.

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
