//! A track's index read where requests fall, for containers without sample
//! tables: Matroska/WebM, MPEG-TS/PS, fragmented MP4, IVF and the rest.
//!
//! The index is kept as groups of pictures (GOPs): the packets from one
//! sync packet to just before the next, each keyed by its sync packet's
//! presentation time and linked to the next group's key. A request the
//! known groups cannot answer exactly (see [`crate::plan::TrackPlanner`])
//! names a time; the reader seeks there with FFmpeg — which lands on a
//! keyframe at or before it through what the container offers: Matroska
//! `Cues`, the fragment index of a fragmented MP4 (`sidx`), a bisection on
//! timestamps for MPEG-TS/PS, the index FFmpeg builds while reading for
//! the rest — and demuxes (never decodes) from the first sync packet at or
//! before the time to the next sync packet: the group the time falls in.
//! The planner asks for the group after it when its leading pictures or
//! its sync frame could be the answer. A seek that lands after the time is
//! retried further back, and reading from the first packet is the last
//! resort, so a read always learns something.
//!
//! Groups that follow each other form the parts the planner works on. On
//! every pair of consecutive groups read, the reader checks the property
//! the planner relies on (the frames of a group are all displayed after
//! those of the group before); a stream that breaks it is not read this
//! way (the track falls back to its full scan).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::asset::index::{IndexEntry, IndexPart, IndexSnapshot};
use crate::asset::index_build::{assemble, entry_of, with_end};
use crate::error::IndexError;
use crate::ffmpeg::{Demuxer, Source};
use crate::plan::{Need, PartBounds};
use crate::ratio::Ratio;

/// Seeks tried further and further back before reading from the start.
const SEEK_TRIES: usize = 6;

/// A track's index, read a few groups of pictures at a time.
pub(crate) struct OnDemandIndex {
    source: Source,
    stream: usize,
    time_base: Ratio,
    /// Ticks between the stream's timestamps and the asset timeline.
    offset: i64,
    /// Where the container says the track ends (MP4 only).
    declared_end: Option<i64>,
    is_vp9: bool,
    state: Mutex<State>,
}

/// A group of pictures' key: the packets before the track's first sync
/// packet (a stream cut mid-GOP) come first, then each sync packet's
/// presentation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum GopKey {
    Head,
    Sync(i64),
}

/// What follows a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Sync(i64),
    End,
}

#[derive(Debug, Clone, PartialEq)]
struct Gop {
    packets: Vec<IndexEntry>,
    next: Next,
    /// Its first packet is the track's first packet.
    first_of_track: bool,
}

impl Gop {
    fn shown_pts(&self) -> impl Iterator<Item = i64> + '_ {
        self.packets
            .iter()
            .filter(|p| p.shown)
            .filter_map(|p| p.pts)
    }
}

struct State {
    gops: BTreeMap<GopKey, Gop>,
    /// Kept open between reads: opening costs FFmpeg's stream probing.
    demuxer: Option<Demuxer>,
    snapshot: Arc<IndexSnapshot>,
}

/// A packet that starts a group: a sync packet with a presentation time.
fn boundary(entry: &IndexEntry) -> Option<i64> {
    entry.pts.filter(|_| entry.sync)
}

impl std::fmt::Debug for OnDemandIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnDemandIndex")
            .field("stream", &self.stream)
            .field("groups_known", &self.lock().gops.len())
            .finish_non_exhaustive()
    }
}

impl OnDemandIndex {
    pub fn new(
        source: Source,
        stream: usize,
        time_base: Ratio,
        offset: i64,
        declared_end: Option<i64>,
        is_vp9: bool,
    ) -> OnDemandIndex {
        OnDemandIndex {
            source,
            stream,
            time_base,
            offset,
            declared_end,
            is_vp9,
            state: Mutex::new(State {
                gops: BTreeMap::new(),
                demuxer: None,
                snapshot: Arc::new(IndexSnapshot {
                    time_base,
                    parts: Vec::new(),
                }),
            }),
        }
    }

    /// What is known now.
    pub fn snapshot(&self) -> Arc<IndexSnapshot> {
        self.lock().snapshot.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads what `needs` (raised against `known`) ask for and returns the
    /// new snapshot. Fails with [`IndexError::NotLocal`] when a read taught
    /// nothing new or broke the display-order property: the track then
    /// needs its full scan.
    pub fn load(
        &self,
        needs: &[Need],
        known: &IndexSnapshot,
    ) -> Result<Arc<IndexSnapshot>, IndexError> {
        let mut state = self.lock();
        let mut learned = false;
        for need in needs {
            let part = |k: usize| known.parts.get(k);
            let time = match *need {
                Need::Around(t) => Some(t),
                Need::Earlier(k) => part(k)
                    .and_then(|p| p.index.packets.first()?.pts)
                    .map(|first| first.saturating_sub(1)),
                Need::Later(k) => part(k).and_then(|p| p.next_sync),
            };
            if let Some(t) = time {
                learned |= self.load_around(&mut state, t)?;
            }
        }
        if !learned {
            return Err(IndexError::NotLocal(
                "reading where the requests fall taught nothing new".into(),
            ));
        }
        check_display_order(&state)?;
        state.snapshot = Arc::new(self.build_snapshot(&state));
        Ok(state.snapshot.clone())
    }

    /// Reads the track's first group of pictures and its last (unless
    /// known), where its first frame and its end are, and returns the new
    /// snapshot.
    pub fn load_ends(&self) -> Result<Arc<IndexSnapshot>, IndexError> {
        let mut state = self.lock();
        // A part whose groups show nothing reads on to the next (or the
        // previous) one; each read learns a group or the loop ends, so the
        // track's groups bound it.
        loop {
            let snapshot = Arc::new(self.build_snapshot(&state));
            let first = snapshot.parts.iter().find(|p| p.bounds.starts_track);
            let last = snapshot.parts.iter().find(|p| p.bounds.ends_track);
            let shows = |p: &IndexPart| !p.index.presentation.is_empty();
            let learned = match (first, last) {
                (None, _) => self.load_from_start(&mut state, i64::MIN)?,
                // A seek to the end lands on the last keyframe the
                // container knows, and the read goes on to the last packet.
                (_, None) => self.load_around(&mut state, i64::MAX)?,
                (Some(f), _) if !shows(f) && !f.bounds.ends_track => match f.next_sync {
                    Some(next) => self.load_around(&mut state, next)?,
                    None => false,
                },
                (_, Some(l)) if !shows(l) && !l.bounds.starts_track => {
                    match l.index.packets.first().and_then(|p| p.pts) {
                        Some(first) => self.load_around(&mut state, first.saturating_sub(1))?,
                        None => false,
                    }
                }
                _ => {
                    check_display_order(&state)?;
                    state.snapshot = snapshot;
                    return Ok(state.snapshot.clone());
                }
            };
            if !learned {
                return Err(IndexError::NotLocal(
                    "reading towards the track's first and last frames taught nothing new".into(),
                ));
            }
            check_display_order(&state)?;
        }
    }

    fn open(&self) -> Result<Demuxer, IndexError> {
        let mut demuxer =
            Demuxer::open(&self.source).map_err(|f| IndexError::Open(f.code.into()))?;
        demuxer.discard_all_but(self.stream);
        Ok(demuxer)
    }

    /// The next packet of the track.
    fn next_entry(&self, demuxer: &mut Demuxer) -> Result<Option<IndexEntry>, IndexError> {
        while let Some((info, packet)) = demuxer
            .read_packet()
            .map_err(|e| IndexError::Demux(e.into()))?
        {
            if info.stream == self.stream {
                return Ok(Some(entry_of(&info, &packet, self.offset, self.is_vp9)));
            }
        }
        Ok(None)
    }

    /// Where reading for time `t` starts: at `t`, unless the groups known
    /// around it already reach past it, in which case at the first unknown
    /// group after them (a time asked near known groups needs the next
    /// unknown one, where a seek to `t` would only land on known ones).
    fn read_start(&self, state: &State, t: i64) -> i64 {
        let Some((&start, _)) = state.gops.range(..=GopKey::Sync(t)).next_back() else {
            return t;
        };
        let mut key = start;
        for _ in 0..state.gops.len() {
            match state.gops.get(&key).map(|g| g.next) {
                Some(Next::Sync(n)) if state.gops.contains_key(&GopKey::Sync(n)) => {
                    key = GopKey::Sync(n);
                }
                Some(Next::Sync(n)) => return n.max(t),
                _ => return t,
            }
        }
        t
    }

    /// Reads the group of pictures whose sync packet is the last at or
    /// before `t`, or the first unknown one after the known groups around
    /// `t`. Returns whether anything new was learned.
    fn load_around(&self, state: &mut State, t: i64) -> Result<bool, IndexError> {
        let t = self.read_start(state, t);
        let ticks_per_second = (self.time_base.den / self.time_base.num.max(1)).max(1);
        let mut back = 0i64;
        for _ in 0..SEEK_TRIES {
            let target = t.saturating_sub(back);
            let mut demuxer = match state.demuxer.take() {
                Some(d) => d,
                None => self.open()?,
            };
            let ts = target.saturating_add(self.offset);
            if demuxer.seek_stream(self.stream, ts).is_err() {
                break;
            }
            let mut landed = None;
            while let Some(entry) = self.next_entry(&mut demuxer)? {
                if boundary(&entry).is_some() {
                    landed = Some(entry);
                    break;
                }
            }
            // No sync packet between where the seek landed and the end: it
            // landed inside the last group, after its sync packet.
            let sync = landed.as_ref().and_then(boundary).unwrap_or(i64::MAX);
            if sync > t {
                // Landed in the group after `t`'s (a demuxer seeking by
                // decode time, MPEG-TS, lands a few packets late). Its
                // start is about one group before `sync`: aim there, by
                // the longest group known, else twice as far back.
                state.demuxer = Some(demuxer);
                // Past the last sync packet, how far is unknown: step back
                // a second, then four times further each time.
                let aim = match (landed.is_some(), longest_group(state)) {
                    (true, Some(gop)) if back == 0 => {
                        let past = sync.saturating_sub(t);
                        gop.saturating_sub(past).saturating_add(gop / 8)
                    }
                    (true, _) => back
                        .saturating_mul(2)
                        .max(sync.saturating_sub(t).saturating_mul(2)),
                    (false, _) => back.saturating_mul(4).max(ticks_per_second),
                };
                back = aim.max(ticks_per_second / 4).max(1);
                continue;
            }
            let Some(first) = landed else {
                break;
            };
            let learned = self.read_groups(state, &mut demuxer, first, false, t);
            state.demuxer = Some(demuxer);
            return learned;
        }
        // Not seekable to before `t`: read from the first packet.
        self.load_from_start(state, t)
    }

    /// Reads from the track's first packet until a sync packet displayed
    /// after `t`, a known group or the end.
    fn load_from_start(&self, state: &mut State, t: i64) -> Result<bool, IndexError> {
        let mut demuxer = self.open()?;
        let learned = match self.next_entry(&mut demuxer)? {
            Some(first) => self.read_groups(state, &mut demuxer, first, true, t),
            None => Ok(store(
                state,
                GopKey::Head,
                Gop {
                    packets: Vec::new(),
                    next: Next::End,
                    first_of_track: true,
                },
            )?),
        };
        state.demuxer = Some(demuxer);
        learned
    }

    /// Reads whole groups from `first` (a sync packet, or the track's first
    /// packet when `from_start`) until a sync packet displayed after `t`
    /// (the next group's) or the track's end, or — after a seek, which can
    /// land again further on — a known group.
    fn read_groups(
        &self,
        state: &mut State,
        demuxer: &mut Demuxer,
        first: IndexEntry,
        from_start: bool,
        t: i64,
    ) -> Result<bool, IndexError> {
        let mut key = boundary(&first).map_or(GopKey::Head, GopKey::Sync);
        let mut first_of_track = from_start;
        let mut packets = vec![first];
        let mut learned = false;
        loop {
            let Some(entry) = self.next_entry(demuxer)? else {
                let gop = Gop {
                    packets,
                    next: Next::End,
                    first_of_track,
                };
                return Ok(learned | store(state, key, gop)?);
            };
            let Some(sync) = boundary(&entry) else {
                packets.push(entry);
                continue;
            };
            let gop = Gop {
                packets: std::mem::replace(&mut packets, vec![entry]),
                next: Next::Sync(sync),
                first_of_track,
            };
            learned |= store(state, key, gop)?;
            first_of_track = false;
            if sync > t || (!from_start && state.gops.contains_key(&GopKey::Sync(sync))) {
                return Ok(learned);
            }
            key = GopKey::Sync(sync);
        }
    }

    /// Chains the known groups into parts.
    fn build_snapshot(&self, state: &State) -> IndexSnapshot {
        let successors: std::collections::HashSet<i64> = state
            .gops
            .values()
            .filter_map(|g| match g.next {
                Next::Sync(n) => Some(n),
                Next::End => None,
            })
            .collect();
        let mut parts = Vec::new();
        for (&key, gop) in &state.gops {
            // A group that follows a known one is inside that one's part.
            if matches!(key, GopKey::Sync(k) if successors.contains(&k)) {
                continue;
            }
            let starts_track = key == GopKey::Head || gop.first_of_track;
            let mut packets = Vec::new();
            let mut current = gop;
            // Bounded, in case hostile timestamps link groups in a circle.
            let mut next_sync = None;
            for _ in 0..state.gops.len() {
                packets.extend_from_slice(&current.packets);
                match current.next {
                    Next::End => {
                        next_sync = None;
                        break;
                    }
                    Next::Sync(n) => match state.gops.get(&GopKey::Sync(n)) {
                        Some(g) => {
                            current = g;
                            next_sync = Some(n);
                        }
                        None => {
                            next_sync = Some(n);
                            break;
                        }
                    },
                }
            }
            let ends_track = next_sync.is_none();
            let index = if ends_track {
                assemble(packets, self.time_base, self.offset, self.declared_end)
            } else {
                let last = packets
                    .iter()
                    .filter(|p| p.shown)
                    .filter_map(|p| p.pts)
                    .max();
                let end = last.map_or(0, |l| l.saturating_add(1));
                with_end(packets, self.time_base, self.offset, end)
            };
            parts.push(IndexPart {
                index: Arc::new(index),
                bounds: PartBounds {
                    starts_track,
                    ends_track,
                },
                next_sync,
            });
        }
        IndexSnapshot {
            time_base: self.time_base,
            parts,
        }
    }
}

/// Checks, along every chain of known groups, that each group's frames
/// are all displayed after the frames of the groups before it.
fn check_display_order(state: &State) -> Result<(), IndexError> {
    for (key, gop) in &state.gops {
        let Next::Sync(next) = gop.next else {
            continue;
        };
        let Some(after) = state.gops.get(&GopKey::Sync(next)) else {
            continue;
        };
        if let (Some(last), Some(first)) = (gop.shown_pts().max(), after.shown_pts().min()) {
            if first <= last {
                return Err(IndexError::NotLocal(format!(
                    "a frame at {first} of the group of pictures at {next} is displayed before one at {last} of the group before it ({key:?})"
                )));
            }
        }
    }
    Ok(())
}

/// The longest span between two known sync packets that follow each other.
fn longest_group(state: &State) -> Option<i64> {
    state
        .gops
        .iter()
        .filter_map(|(key, gop)| match (key, gop.next) {
            (GopKey::Sync(k), Next::Sync(n)) => Some(n.saturating_sub(*k)),
            _ => None,
        })
        .filter(|&g| g > 0)
        .max()
}

/// Stores a group; returns whether it was new. A group read again must be
/// read the same (only learning that it starts the track).
fn store(state: &mut State, key: GopKey, gop: Gop) -> Result<bool, IndexError> {
    match state.gops.get_mut(&key) {
        None => {
            state.gops.insert(key, gop);
            Ok(true)
        }
        Some(known) if known.packets == gop.packets && known.next == gop.next => {
            let learned = gop.first_of_track && !known.first_of_track;
            known.first_of_track |= gop.first_of_track;
            Ok(learned)
        }
        Some(_) => Err(IndexError::NotLocal(format!(
            "the group of pictures at {key:?} read differently after another seek"
        ))),
    }
}

#[cfg(test)]
mod order_tests {
    use super::*;

    fn gop(pts: &[i64], next: Next) -> Gop {
        Gop {
            packets: pts
                .iter()
                .enumerate()
                .map(|(k, &p)| IndexEntry {
                    pts: Some(p),
                    duration: 0,
                    sync: k == 0,
                    shown: true,
                })
                .collect(),
            next,
            first_of_track: false,
        }
    }

    fn state(gops: Vec<(i64, Gop)>) -> State {
        State {
            gops: gops
                .into_iter()
                .map(|(k, g)| (GopKey::Sync(k), g))
                .collect(),
            demuxer: None,
            snapshot: Arc::new(IndexSnapshot {
                time_base: Ratio::ONE,
                parts: Vec::new(),
            }),
        }
    }

    #[test]
    fn groups_displayed_out_of_order_are_refused() {
        // Leading pictures (8, 9) of the second group follow the first's.
        let open_gop = state(vec![
            (0, gop(&[0, 3, 1, 2, 6, 4, 5, 7], Next::Sync(10))),
            (10, gop(&[10, 8, 9, 11], Next::End)),
        ]);
        assert!(check_display_order(&open_gop).is_ok());
        // A frame of the second group shown before one of the first.
        let crossed = state(vec![
            (0, gop(&[0, 3, 1, 2, 6], Next::Sync(10))),
            (10, gop(&[10, 5, 11], Next::End)),
        ]);
        assert!(matches!(
            check_display_order(&crossed),
            Err(IndexError::NotLocal(_))
        ));
        // Groups not known to follow each other are not compared.
        let apart = state(vec![
            (0, gop(&[0, 30], Next::Sync(5))),
            (10, gop(&[10, 11], Next::End)),
        ]);
        assert!(check_display_order(&apart).is_ok());
    }
}

#[cfg(test)]
mod tests {
    //! The index read where requests fall against the full scan, on every
    //! fixture and every real-world file indexed that way: the frame
    //! chosen for each request (exact and windowed, asked one at a time
    //! and all at once) must be the one the full index gives, with the
    //! same decode cost, without falling back to the scan; once every group
    //! has been read, the parts must join into the full index; and the
    //! span (first frame, end) read from the first and last groups alone
    //! must be the full index's.

    use std::path::{Path, PathBuf};

    use crate::asset::{Asset, IndexMethod, IndexSnapshot, TrackIndex};
    use crate::plan::{Choice, PartBounds, Request, TrackPlanner, Window};

    fn fixture_files() -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("fixtures")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        files
    }

    /// The shared real-world media (see `tests/common/media.rs`), or none
    /// when the directory is absent and not required.
    fn media_files() -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/media");
        if !dir.is_dir() {
            assert!(
                std::env::var_os("STILLS_REQUIRE_SHARED_MEDIA").is_none(),
                "STILLS_REQUIRE_SHARED_MEDIA is set but {} is missing",
                dir.display()
            );
            eprintln!("skipped: ../shared/media not found");
            return Vec::new();
        }
        let mut files = Vec::new();
        let mut pending = vec![dir];
        while let Some(d) = pending.pop() {
            for entry in std::fs::read_dir(&d).expect("media dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        files.sort();
        files
    }

    fn exact(t: i64) -> Request {
        Request {
            window: Window {
                lo: Some(t),
                hi: Some(t),
            },
            target: t,
        }
    }

    fn window(lo: Option<i64>, hi: Option<i64>, target: i64) -> Request {
        Request {
            window: Window { lo, hi },
            target,
        }
    }

    /// What a choice says, in terms both indexes share.
    fn outcome(choice: &Choice) -> Option<(i64, bool, usize)> {
        match choice {
            Choice::Frame(f) => Some((f.pts, f.guaranteed, f.cost())),
            Choice::NoImageAtTime => None,
        }
    }

    /// The requests asked of a track: exact at, just before and between
    /// frames, before the first and at the end, windows of a frame either
    /// side, open on one side and infinite.
    fn requests(full: &crate::asset::FrameIndex) -> Vec<Request> {
        let pts: Vec<i64> = full
            .presentation
            .iter()
            .filter_map(|&i| full.packets[i as usize].pts)
            .collect();
        let mut requests = Vec::new();
        for (k, &p) in pts.iter().enumerate() {
            let next = pts.get(k + 1).copied().unwrap_or(full.end);
            let step = (next - p).max(1);
            requests.push(exact(p));
            requests.push(exact(p - 1));
            requests.push(exact(p + step / 2));
            requests.push(window(Some(p - step), Some(p + step), p));
            requests.push(window(None, None, p + step / 3));
            if k % 3 == 0 {
                requests.push(window(Some(p), None, p));
                requests.push(window(None, Some(p), p));
            }
        }
        if let Some(&first) = pts.first() {
            requests.push(exact(first - 1));
        }
        requests.push(exact(full.end));
        requests
    }

    /// Opens without the persistent index, whatever the environment says.
    fn open(path: &Path) -> crate::Result<Asset> {
        Asset::open_with_index_cache(path, None)
    }

    fn on_demand_tracks(path: &Path) -> Vec<(Asset, usize)> {
        let Ok(asset) = open(path) else {
            return Vec::new();
        };
        let tracks: Vec<usize> = asset
            .video_tracks()
            .iter()
            .enumerate()
            .filter(|(_, t)| matches!(asset.index_method(t), Ok(IndexMethod::OnDemand { .. })))
            .map(|(k, _)| k)
            .collect();
        tracks
            .into_iter()
            .filter_map(|k| Some((open(path).ok()?, k)))
            .collect()
    }

    /// Checks one file; returns the problems and how many tracks it had.
    fn check(path: &Path) -> (Vec<String>, usize) {
        let mut problems = Vec::new();
        let tracks = on_demand_tracks(path);
        let count = tracks.len();
        for (reference, k) in tracks {
            let track = reference.video_tracks()[k].clone();
            let at = format!("{} track {}", path.display(), track.index);
            let Ok(full) = reference.full_scan(&track) else {
                continue;
            };
            let whole = IndexSnapshot::complete(std::sync::Arc::new(full.clone()));
            let planner = TrackPlanner::new(whole.parts.iter().map(|p| (&*p.index, p.bounds)));
            let requests = requests(&full);
            let want = planner.plan(&requests).expect("a whole index answers");

            // One at a time, on one asset, scattered so that knowledge
            // grows from everywhere; then all at once on a fresh asset.
            let alone = open(path).expect("opens again");
            let mut order: Vec<usize> = (0..requests.len()).collect();
            order.sort_by_key(|&i| (i * 7919) % requests.len().max(1));
            for i in order {
                match alone.plan_requests(&track, &requests[i..=i]) {
                    Ok((_, plan)) => {
                        let (got, wanted) = (outcome(&plan.choices[0]), outcome(&want.choices[i]));
                        if got != wanted {
                            problems.push(format!(
                                "{at}: {:?} alone gave {got:?}, the full index {wanted:?}",
                                requests[i]
                            ));
                        }
                    }
                    Err(e) => problems.push(format!("{at}: {:?} alone: {e}", requests[i])),
                }
            }
            let together = open(path).expect("opens again");
            match together.plan_requests(&track, &requests) {
                Ok((snapshot, plan)) => {
                    for (i, (got, wanted)) in plan.choices.iter().zip(&want.choices).enumerate() {
                        if outcome(got) != outcome(wanted) {
                            problems.push(format!(
                                "{at}: {:?} in a batch gave {:?}, the full index {:?}",
                                requests[i],
                                outcome(got),
                                outcome(wanted)
                            ));
                        }
                    }
                    // Everything was asked, the track's start and end
                    // included: one part, the full index.
                    let whole_part = PartBounds {
                        starts_track: true,
                        ends_track: true,
                    };
                    match snapshot.parts.as_slice() {
                        [part] if part.bounds == whole_part => {
                            let facts = |i: &crate::asset::FrameIndex| {
                                let packets: Vec<_> =
                                    i.packets.iter().map(|p| (p.pts, p.sync, p.shown)).collect();
                                (packets, i.presentation.clone(), i.end)
                            };
                            if facts(&part.index) != facts(&full) {
                                problems
                                    .push(format!("{at}: the joined parts differ from the scan"));
                            }
                        }
                        parts => problems
                            .push(format!("{at}: {} parts after every request", parts.len())),
                    }
                }
                Err(e) => problems.push(format!("{at}: batch: {e}")),
            }
            // The span alone reads the first and last groups.
            let spanned = open(path).expect("opens again");
            let time = |ticks| crate::Time::from_stream_ticks(ticks, full.time_base);
            let want = full
                .first_shown_pts()
                .and_then(|first| time(first).zip(time(full.end)));
            match spanned.frame_span(&track) {
                Ok(span) if span == want => {}
                got => problems.push(format!("{at}: span {got:?}, the full scan's {want:?}")),
            }
            for asset in [&alone, &together, &spanned] {
                let t = &asset.video_tracks()[k];
                if asset.has_complete_index(t) {
                    let method = asset.index_method(t);
                    problems.push(format!("{at}: fell back to the full scan: {method:?}"));
                }
                if !matches!(asset.track_index(t), Ok(TrackIndex::OnDemand(_))) {
                    problems.push(format!("{at}: not read on demand"));
                }
            }
        }
        (problems, count)
    }

    #[test]
    fn on_demand_index_chooses_as_the_full_scan_on_every_fixture() {
        let mut problems = Vec::new();
        let mut tracks = 0;
        for path in fixture_files() {
            let (p, n) = check(&path);
            problems.extend(p);
            tracks += n;
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        // The Matroska, WebM and MPEG-TS fixtures.
        assert_eq!(tracks, 4);
    }

    #[test]
    fn on_demand_index_chooses_as_the_full_scan_on_every_real_file() {
        let mut problems = Vec::new();
        let mut tracks = 0;
        for path in media_files() {
            let (p, n) = check(&path);
            problems.extend(p);
            tracks += n;
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        if !media_files().is_empty() {
            // Three WebM, one Matroska, one fragmented MP4.
            assert_eq!(tracks, 5);
        }
    }
}
