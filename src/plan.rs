//! Which frame answers each request, and the least decoding that produces
//! them (SPEC "Which frame", DESIGN point 2). Pure logic over a
//! [`FrameIndex`]: no I/O, no decoder. A track may be known in parts (its
//! index read a group of pictures at a time where requests fall):
//! [`TrackPlanner`] then chooses only what the known parts prove, and
//! otherwise says which group to read ([`Need`]); the reading is the
//! caller's.
//!
//! Everything here is in stream ticks on the asset timeline. The generator
//! converts requested times and tolerance bounds to ticks with floor rounding
//! before it asks; [`Window`] explains why that keeps the frame test exact.
//!
//! A shown frame with presentation time `p` is displayed over `[p, next_p)`,
//! where `next_p` is the presentation time of the next shown frame; the last
//! one is displayed until [`FrameIndex::end`]. A frame whose span is empty
//! (another shown frame has the same time and comes later in decode order,
//! or the track ends at or before it) is never displayed, so never chosen.
//!
//! # Where decoding starts
//!
//! A frame decodes correctly when decoding starts at a sync packet at or
//! before it in decode order *whose presentation time is not later than the
//! frame's*: that is the recovery guarantee of an open-GOP random-access point
//! (H.264 recovery point, HEVC CRA), and for closed GOPs (IDR) every later
//! frame already satisfies it. So a frame's start is the last such sync
//! packet. For an ordinary frame that is simply the last sync packet before
//! it; for a leading picture of an open GOP (presentation time earlier than
//! its sync packet's) it is the sync packet before that, because leading
//! pictures reference the previous GOP. Going further back when even that
//! one is later in presentation is the same rule, kept rather than trusting a
//! stream that breaks the usual structure. A sync packet without a
//! presentation time cannot be checked, so it is never used as a start.
//!
//! A frame with no such sync packet (a stream cut mid-GOP, leading pictures
//! of a first open GOP) can only be decoded from the first packet, with no
//! guarantee that it comes out right or at all ([`Frame::guaranteed`] is
//! false). A window prefers any guaranteed candidate to it, whatever the
//! cost; exact mode still returns it, being the only frame displayed at `t`.

use std::cmp::Reverse;
use std::collections::{BTreeMap, VecDeque};
use std::num::NonZeroUsize;
use std::ops::Range;

use crate::asset::FrameIndex;

#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod oracle;
mod times;

/// The part of the timeline a request accepts, in ticks, both ends included;
/// `None` leaves that side unbounded.
///
/// A frame is a candidate when its display span `[p, next_p)` meets the
/// window: `p ≤ hi` and `next_p > lo`. The bounds are the floors of the real
/// bounds `L ≤ H` (in ticks, possibly fractional), and `p`, `next_p` are
/// integers, so the test is exact: `p ≤ H ⇔ p ≤ ⌊H⌋`, and
/// `next_p > L ⇔ next_p ≥ ⌊L⌋ + 1 ⇔ next_p > ⌊L⌋`. A window with `lo > hi`
/// holds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub lo: Option<i64>,
    pub hi: Option<i64>,
}

#[cfg(test)]
impl Window {
    /// Infinite tolerances both ways (the default): any displayed frame.
    pub const ALL: Window = Window { lo: None, hi: None };

    /// Zero tolerances: only the frame displayed at `t`.
    pub fn exact(t: i64) -> Window {
        Window {
            lo: Some(t),
            hi: Some(t),
        }
    }
}

/// One requested time: the frames it accepts, and the time (the floor of the
/// requested time, in ticks) that ties are broken by closeness to. Closeness
/// is judged against that floor, so between two equally costly frames it can
/// prefer the earlier one by less than a tick; the window itself is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub window: Window,
    pub target: i64,
}

#[cfg(test)]
impl Request {
    /// The frame displayed at `t`.
    pub fn exact(t: i64) -> Request {
        Request {
            window: Window::exact(t),
            target: t,
        }
    }
}

/// The answer to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Frame(Frame),
    /// No frame is displayed anywhere in the request's window.
    NoImageAtTime,
}

/// A chosen frame and where its decoding starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// The part of the track's index it is in (see [`TrackPlanner`]); 0
    /// for a complete index.
    pub part: usize,
    /// Its packet, an index into that part's [`FrameIndex::packets`].
    pub packet: usize,
    /// Its presentation time: the request's actual time, in ticks.
    pub pts: i64,
    /// The packet decoding starts from (see the module docs).
    pub start: usize,
    /// Whether a sync packet guarantees that decoding from `start` gives this
    /// frame right; false only when decoding has to start at the first
    /// packet for want of one.
    pub guaranteed: bool,
}

impl Frame {
    /// Packets fed to the decoder to get this frame alone: 1 for a sync
    /// frame, otherwise everything from its start through itself.
    pub fn cost(&self) -> usize {
        self.packet.saturating_sub(self.start) + 1
    }
}

/// One shown frame with a non-empty display span, precomputed.
#[derive(Debug, Clone, Copy)]
struct Shown {
    frame: Frame,
    /// End of the display span (exclusive).
    until: i64,
}

impl Shown {
    /// Smaller is better: guaranteed first, then cheaper, then closer to
    /// `target`, then earlier. Unique per frame, because display spans are
    /// disjoint and non-empty, so no two frames share a `pts`.
    fn rank(&self, target: i64) -> (bool, usize, u64, i64) {
        let f = &self.frame;
        (!f.guaranteed, f.cost(), f.pts.abs_diff(target), f.pts)
    }

    fn pts(&self) -> i64 {
        self.frame.pts
    }
}

/// Chooses frames and plans decodes for one track. Build it once per index
/// (linear time) and reuse it for every batch.
#[derive(Debug, Clone)]
pub struct Planner {
    /// Displayed frames in presentation order; their spans are disjoint and
    /// increasing, so the candidates of a window are a contiguous slice.
    frames: Vec<Shown>,
    /// Positions in `frames` of the frames that cost one packet (guaranteed
    /// sync frames), so wide windows, whose best candidate is almost always
    /// one of these, are answered by binary search instead of a scan.
    keyframes: Vec<usize>,
}

impl Planner {
    /// A planner for a whole index (part 0).
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn new(index: &FrameIndex) -> Planner {
        Planner::for_part(index, 0)
    }

    /// A planner for one part of a track's index (see [`TrackPlanner`]):
    /// its frames name that part. Reads the index without trusting it:
    /// presentation entries that point past the packets, at a packet not
    /// marked shown, or at one without a presentation time are ignored,
    /// repeated entries count once, and the order is re-established by
    /// (time, decode order).
    pub fn for_part(index: &FrameIndex, part: usize) -> Planner {
        let packets = &index.packets;
        let mut order: Vec<(i64, usize)> = index
            .presentation
            .iter()
            .filter_map(|&i| {
                let i = usize::try_from(i).ok()?;
                let entry = packets.get(i)?;
                Some((entry.pts.filter(|_| entry.shown)?, i))
            })
            .collect();
        order.sort_unstable();
        order.dedup();

        let starts = decode_starts(index, &order);
        let mut frames = Vec::with_capacity(order.len());
        for (k, &(pts, packet)) in order.iter().enumerate() {
            let until = order.get(k + 1).map_or(index.end, |&(next, _)| next);
            if pts < until {
                let (start, guaranteed) = starts[k];
                frames.push(Shown {
                    frame: Frame {
                        part,
                        packet,
                        pts,
                        start,
                        guaranteed,
                    },
                    until,
                });
            }
        }
        let keyframes = frames
            .iter()
            .enumerate()
            .filter(|(_, s)| s.frame.guaranteed && s.frame.start == s.frame.packet)
            .map(|(k, _)| k)
            .collect();
        Planner { frames, keyframes }
    }

    /// The frame for one request: among the frames displayed somewhere in
    /// its window, a guaranteed one before one that is not, then the
    /// cheapest, then the closest to the target time, then the earlier. An
    /// exact window has a single candidate, the frame displayed at `t`; the
    /// infinite window's best is the sync frame nearest `t`.
    pub fn choose(&self, request: &Request) -> Choice {
        let Window { lo, hi } = request.window;
        let first = lo.map_or(0, |lo| self.frames.partition_point(|s| s.until <= lo));
        let past = hi.map_or(self.frames.len(), |hi| {
            self.frames.partition_point(|s| s.pts() <= hi)
        });
        if first >= past {
            return Choice::NoImageAtTime;
        }
        let target = request.target;
        let best = self
            .nearest_keyframe(first..past, target)
            .or_else(|| (first..past).min_by_key(|&k| self.frames[k].rank(target)));
        match best {
            Some(k) => Choice::Frame(self.frames[k].frame),
            None => Choice::NoImageAtTime,
        }
    }

    /// The one-packet frame within `range` (positions in `frames`) closest
    /// to `target`, the earlier on a tie; `None` if the range holds none.
    /// Such a frame ranks first among the range's candidates, because one
    /// packet is the least any frame costs.
    fn nearest_keyframe(&self, range: Range<usize>, target: i64) -> Option<usize> {
        let lo = self.keyframes.partition_point(|&k| k < range.start);
        let hi = self.keyframes.partition_point(|&k| k < range.end);
        let keys = &self.keyframes[lo..hi];
        let split = keys.partition_point(|&k| self.frames[k].pts() <= target);
        let before = split.checked_sub(1).map(|i| keys[i]);
        let after = keys.get(split).copied();
        match (before, after) {
            (Some(b), Some(a)) => {
                let distance = |k: usize| self.frames[k].pts().abs_diff(target);
                Some(if distance(a) < distance(b) { a } else { b })
            }
            (b, a) => b.or(a),
        }
    }

    /// Chooses a frame for every request and plans the decoding of all of
    /// them together. `Plan::choices[i]` answers `requests[i]`, and `i` is
    /// the id the decode plan delivers to.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn plan(&self, requests: &[Request]) -> Plan {
        let choices: Vec<Choice> = requests.iter().map(|r| self.choose(r)).collect();
        let decode = DecodePlan::new(&choices);
        Plan { choices, decode }
    }
}

/// How far one part of a track's index reaches. A part is whole groups of
/// pictures in decode order: from a sync packet (or the track's first
/// packet) to just before a sync packet (or the track's last packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartBounds {
    /// The part begins with the track's first packet.
    pub starts_track: bool,
    /// The part ends with the track's last packet, and its index's `end` is
    /// where the track ends; otherwise its `end` is one tick past its last
    /// frame (the frame is displayed at least that long).
    pub ends_track: bool,
}

/// What has to be read before a request can be answered exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// The group of pictures just before part `k`.
    Earlier(usize),
    /// The group of pictures just after part `k`.
    Later(usize),
    /// The groups of pictures around a time (in ticks) no part reaches.
    Around(i64),
}

/// Chooses frames over a track known in parts (a lazily read index): the
/// same choice as [`Planner`] over the whole index, made only when what is
/// known proves it, and otherwise the [`Need`] that would.
///
/// What a part proves rests on one property of coded video, which every
/// player's seeking relies on too: the frames of consecutive groups of
/// pictures are displayed in the order of the groups — each frame of a
/// group after every frame of the group before it (an open GOP's leading
/// pictures, shown before their sync frame, still follow the previous
/// group's frames). So frames outside a part are displayed before its
/// first frame or after its last, and the part's own frames are complete in
/// between, except the leading pictures of its first group, whose decoding
/// starts in the group before. The loader checks the property on every
/// pair of groups it reads and gives the track a full scan where it fails.
///
/// A part answers a request when the request's time lies in its *zone*
/// (from its first frame whose decoding starts inside it to its last
/// frame; without bound on a side where it reaches the track's start or
/// end) and nothing outside can be a better candidate: for an exact
/// request that is always so; for a window, either the choice is a sync
/// frame (one packet, the cheapest kind) closer to the time than anything
/// outside could be, or the window lies inside the zone.
#[derive(Debug, Clone)]
pub struct TrackPlanner {
    parts: Vec<PartPlanner>,
}

#[derive(Debug, Clone)]
struct PartPlanner {
    planner: Planner,
    /// The zone: the first presentation time a frame decoded from inside
    /// the part has, `None` when the part starts the track; `i64::MAX`
    /// when the part has no such frame (it proves nothing).
    zone_lo: Option<i64>,
    /// Its last frame's presentation time; `None` when the part ends the
    /// track.
    zone_hi: Option<i64>,
    /// The presentation time of its first packet (a sync packet) when the
    /// part does not start the track.
    first_sync: Option<i64>,
}

impl PartPlanner {
    fn holds(&self, t: i64) -> bool {
        self.zone_lo.is_none_or(|lo| lo <= t) && self.zone_hi.is_none_or(|hi| t <= hi)
    }
}

impl TrackPlanner {
    /// Plans over `parts`, numbered in the order given (the numbers the
    /// chosen frames and the runs carry).
    pub fn new<'a>(parts: impl IntoIterator<Item = (&'a FrameIndex, PartBounds)>) -> TrackPlanner {
        let parts = parts
            .into_iter()
            .enumerate()
            .map(|(k, (index, bounds))| {
                let planner = Planner::for_part(index, k);
                let zone_lo = (!bounds.starts_track).then(|| {
                    planner
                        .frames
                        .iter()
                        .find(|s| s.frame.guaranteed)
                        .map_or(i64::MAX, Shown::pts)
                });
                let zone_hi = (!bounds.ends_track)
                    .then(|| planner.frames.last().map_or(i64::MIN, Shown::pts));
                let first_sync = (!bounds.starts_track)
                    .then(|| index.packets.first().and_then(|p| p.pts))
                    .flatten();
                PartPlanner {
                    planner,
                    zone_lo,
                    zone_hi,
                    first_sync,
                }
            })
            .collect();
        TrackPlanner { parts }
    }

    /// The frame for one request (as [`Planner::choose`] over the whole
    /// track would choose it), or what to read first.
    pub fn choose(&self, request: &Request) -> Result<Choice, Need> {
        let t = request.target;
        let Some(k) = self.parts.iter().position(|p| p.holds(t)) else {
            // Between a part's first sync packet and its zone (its first
            // groups show nothing, or only leading pictures), what is
            // displayed comes from the groups before it.
            let leading = self.parts.iter().position(|p| {
                p.first_sync.is_some_and(|f| f <= t) && p.zone_lo.is_some_and(|lo| t < lo)
            });
            return Err(leading.map_or(Need::Around(t), Need::Earlier));
        };
        let part = &self.parts[k];
        let choice = part.planner.choose(request);
        let Window { lo, hi } = request.window;
        match choice {
            Choice::Frame(f) if f.guaranteed && f.start == f.packet => {
                // A sync frame: only a frame as close to `t` (or as close
                // and earlier) could rank before it. Unknown frames are
                // before `zone_lo` (so at least `t − zone_lo + 1` away, and
                // earlier) or after `zone_hi` (at least `zone_hi + 1 − t`
                // away, and later).
                let d = f.pts.abs_diff(t);
                if let Some(zlo) = part.zone_lo {
                    let reachable = lo.is_none_or(|lo| lo < zlo);
                    if reachable && f.pts > t && t.abs_diff(zlo) < d {
                        return Err(Need::Earlier(k));
                    }
                }
                if let Some(zhi) = part.zone_hi {
                    let reachable = hi.is_none_or(|hi| hi > zhi);
                    if reachable && f.pts < t && zhi.abs_diff(t) + 1 < d {
                        return Err(Need::Later(k));
                    }
                }
            }
            _ => {
                // Any other answer needs every candidate known: the window
                // must not reach a frame displayed before the zone, nor
                // one after it.
                if part.zone_lo.is_some_and(|zlo| lo.is_none_or(|lo| lo < zlo)) {
                    return Err(Need::Earlier(k));
                }
                if part.zone_hi.is_some_and(|zhi| hi.is_none_or(|hi| hi > zhi)) {
                    return Err(Need::Later(k));
                }
            }
        }
        Ok(choice)
    }

    /// Chooses a frame for every request and plans their decoding, as
    /// [`Planner::plan`] does; or, when any request needs more of the
    /// track, every distinct need.
    pub fn plan(&self, requests: &[Request]) -> Result<Plan, Vec<Need>> {
        let mut choices = Vec::with_capacity(requests.len());
        let mut needs = Vec::new();
        for request in requests {
            match self.choose(request) {
                Ok(choice) => choices.push(choice),
                Err(need) => needs.push(need),
            }
        }
        if !needs.is_empty() {
            needs.sort_unstable();
            needs.dedup();
            return Err(needs);
        }
        let decode = DecodePlan::new(&choices);
        Ok(Plan { choices, decode })
    }
}

/// For each frame of `order` (presentation time, packet), where its decoding
/// starts and whether that start is guaranteed: the last sync packet at or
/// before it in decode order with a presentation time not after its own, or
/// else the first packet, unguaranteed.
///
/// One pass in decode order keeps the sync packets that can still be an
/// answer: a sync packet is useless once a later one has an equal or earlier
/// presentation time, so the survivors increase in both decode order and
/// time, and the answer for time `p` is the last survivor at or before `p`,
/// found by binary search. Linearithmic even for hostile timestamps.
fn decode_starts(index: &FrameIndex, order: &[(i64, usize)]) -> Vec<(usize, bool)> {
    let mut by_decode: Vec<usize> = (0..order.len()).collect();
    by_decode.sort_unstable_by_key(|&k| order[k].1);
    let mut starts = vec![(0, false); order.len()];
    let mut survivors: Vec<(i64, usize)> = Vec::new();
    let mut next = 0;
    for (packet, entry) in index.packets.iter().enumerate() {
        if let (true, Some(pts)) = (entry.sync, entry.pts) {
            while survivors.last().is_some_and(|&(p, _)| p >= pts) {
                survivors.pop();
            }
            survivors.push((pts, packet));
        }
        while let Some(&k) = by_decode.get(next).filter(|&&k| order[k].1 == packet) {
            let at = survivors.partition_point(|&(p, _)| p <= order[k].0);
            if let Some(&(_, sync)) = at.checked_sub(1).and_then(|i| survivors.get(i)) {
                starts[k] = (sync, true);
            }
            next += 1;
        }
    }
    starts
}

/// Choices for a batch and the decoding that produces them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// One per request, in request order.
    pub choices: Vec<Choice>,
    pub decode: DecodePlan,
}

/// Chooses and plans a single batch; for several batches over one index,
/// build a [`Planner`] once instead.
#[cfg(test)]
pub fn plan(index: &FrameIndex, requests: &[Request]) -> Plan {
    Planner::new(index).plan(requests)
}

/// A frame to hand over, and the requests waiting for it (several when
/// requests chose the same frame: it is decoded once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub packet: usize,
    /// Its presentation time, to recognise it among the decoder's output.
    pub pts: i64,
    /// Indices into the batch's requests, ascending.
    pub requests: Vec<usize>,
}

/// One continuous stretch of decoding: seek to packet `start` (a sync packet,
/// or the first packet), feed every packet through `end` in decode order,
/// then drain the decoder, handing over the targets as they come out.
///
/// Landing on an earlier sync packet than `start` is harmless (it only costs
/// time); starting later is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    part: usize,
    start: usize,
    end: usize,
    targets: Vec<Target>,
    /// Packets where the run may be cut in two that feed the same packets:
    /// every target before one is fed by the packet before it, and every
    /// target from it on starts its decoding there (a sync packet). Every
    /// frame of a file is one run whose seams are its GOPs' starts.
    seams: Vec<usize>,
}

impl Run {
    /// The part of the track's index whose packets `start`, `end` and the
    /// targets count.
    pub fn part(&self) -> usize {
        self.part
    }

    /// The packet to seek to.
    pub fn start(&self) -> usize {
        self.start
    }

    /// The last packet to feed (the last target's), inclusive.
    pub fn end(&self) -> usize {
        self.end
    }

    /// Packets fed in all.
    pub fn packets(&self) -> usize {
        self.end - self.start + 1
    }

    /// The targets in decode order; the last one is at `end`.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// Where the run may be cut without feeding any packet twice.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn seams(&self) -> &[usize] {
        &self.seams
    }

    /// The run cut at every seam, in decode order: together the pieces
    /// feed exactly its packets and deliver exactly its targets, each
    /// piece one seek more.
    fn pieces(self) -> Vec<Run> {
        let mut pieces = Vec::with_capacity(self.seams.len() + 1);
        let mut targets = self.targets.into_iter().peekable();
        let mut start = self.start;
        for seam in self.seams.into_iter().chain([self.end + 1]) {
            let mut piece = Vec::new();
            while let Some(target) = targets.next_if(|t| t.packet < seam) {
                piece.push(target);
            }
            pieces.push(Run {
                part: self.part,
                start,
                end: seam - 1,
                targets: piece,
                seams: Vec::new(),
            });
            start = seam;
        }
        pieces
    }

    /// The run cut at its targets, in decode order. Each span's `lead`
    /// packets precede its target and are none of the run's targets, so
    /// their frames are wanted only as references: feed them with
    /// non-reference frames skipped (FFmpeg `skip_frame = AVDISCARD_NONREF`),
    /// then feed the target with nothing skipped. The index cannot tell
    /// which frames are references; the decoder can.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn spans(&self) -> impl Iterator<Item = Span<'_>> {
        let mut next = self.start;
        self.targets.iter().map(move |target| {
            let lead = next..target.packet;
            next = target.packet + 1;
            Span { lead, target }
        })
    }
}

/// Part of a [`Run`]: packets fed only for what they lead to, then a target.
#[cfg(any(test, feature = "fuzzing"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span<'a> {
    pub lead: Range<usize>,
    pub target: &'a Target,
}

/// All the decoding a batch needs: runs in decode order that share no
/// packet. Every chosen frame is a target of exactly one run, whose start is
/// at or before that frame's own start, so the run decodes it right.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodePlan {
    runs: Vec<Run>,
}

impl DecodePlan {
    /// Each chosen frame needs the packets from its start through itself.
    /// Taking those intervals by start and merging each into the previous
    /// run when it begins at or before the packet after that run's end
    /// yields the fewest packets fed (their union) and, among plans with
    /// that many, the fewest seeks: a frame reachable by feeding on is never
    /// reached by a new seek, frames of one GOP always share a run, and a
    /// run never steps back. Merging across a gap would feed packets nothing
    /// needs, so a gap means a new run.
    fn new(choices: &[Choice]) -> DecodePlan {
        let mut wanted: BTreeMap<(usize, usize), (usize, Target)> = BTreeMap::new();
        for (id, choice) in choices.iter().enumerate() {
            if let Choice::Frame(f) = choice {
                let (_, target) = wanted.entry((f.part, f.packet)).or_insert_with(|| {
                    let target = Target {
                        packet: f.packet,
                        pts: f.pts,
                        requests: Vec::new(),
                    };
                    (f.start, target)
                });
                target.requests.push(id);
            }
        }
        let mut wanted: Vec<(usize, usize, Target)> = wanted
            .into_iter()
            .map(|((part, _), (start, target))| (part, start, target))
            .collect();
        wanted.sort_by_key(|&(part, start, _)| (part, start));

        let mut runs: Vec<Run> = Vec::new();
        for (part, start, target) in wanted {
            match runs.last_mut() {
                Some(run) if run.part == part && start <= run.end + 1 => {
                    if start == run.end + 1 {
                        run.seams.push(start);
                    }
                    run.end = run.end.max(target.packet);
                    run.targets.push(target);
                }
                _ => runs.push(Run {
                    part,
                    start,
                    end: target.packet,
                    targets: vec![target],
                    seams: Vec::new(),
                }),
            }
        }
        for run in &mut runs {
            run.targets.sort_by_key(|t| t.packet);
        }
        DecodePlan { runs }
    }

    /// The runs in decode order.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    /// Packets fed in all.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn packets(&self) -> usize {
        self.runs.iter().map(Run::packets).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Shares the runs among at most `lanes` decoders (fewer when there
    /// are fewer runs), balanced by packets fed. Longest first to the least
    /// loaded lane (Graham's rule) can leave a lane a whole run behind —
    /// 240 170 130 against 210 200 100 90, where 570 against 570 exists —
    /// so moves and swaps between the most and the least loaded lane
    /// follow while they narrow the gap. Estimates are never exact, so
    /// lanes that run dry take work from the others as they go
    /// ([`RunShares::next`]).
    ///
    /// With more than one lane, runs are first cut at their seams: a run
    /// through many GOPs (every frame of a file, or one a second of a
    /// file with short GOPs) is then decoded by every lane side by side,
    /// for one seek per piece and no packet fed twice.
    pub fn share(self, lanes: NonZeroUsize) -> RunShares {
        let mut runs = if lanes.get() > 1 {
            self.runs.into_iter().flat_map(Run::pieces).collect()
        } else {
            self.runs
        };
        let count = lanes.get().min(runs.len());
        runs.sort_by_key(|run| (Reverse(run.packets()), run.part, run.start));
        let mut shares: Vec<Vec<Run>> = vec![Vec::new(); count];
        let mut load = vec![0usize; count];
        for run in runs {
            let lane = least(&load);
            load[lane] += run.packets();
            shares[lane].push(run);
        }
        if count > 1 {
            // Each step moves 0 < d < gap packets from the most to the least
            // loaded lane, which lowers the sum of squared loads by
            // 2·d·(gap − d): the loop ends. The bound only guards the time.
            for _ in 0..4 * shares.iter().map(Vec::len).sum::<usize>() {
                let (hi, lo) = (most(&load), least(&load));
                let Some((i, j, d)) = best_exchange(&shares[hi], &shares[lo], load[hi] - load[lo])
                else {
                    break;
                };
                let run = shares[hi].swap_remove(i);
                if let Some(j) = j {
                    let back = shares[lo].swap_remove(j);
                    shares[hi].push(back);
                }
                shares[lo].push(run);
                load[hi] -= d;
                load[lo] += d;
            }
        }
        RunShares(
            shares
                .into_iter()
                .map(|mut share| {
                    share.sort_by_key(|run| (Reverse(run.packets()), run.part, run.start));
                    share.into()
                })
                .collect(),
        )
    }
}

/// The move (run `i` of `hi`) or swap (with run `j` of `lo`) that shifts
/// `d` packets, `0 < d < gap`, closest to half the gap; among equals, the
/// first by `i`, a move before a swap, then the first by `j`. For each run
/// of `hi` only the two sizes of `lo` around the ideal partner can be best,
/// so a batch of many runs costs a sort and a search per run, not every pair.
fn best_exchange(hi: &[Run], lo: &[Run], gap: usize) -> Option<(usize, Option<usize>, usize)> {
    let mut partners: Vec<(usize, usize)> = lo
        .iter()
        .enumerate()
        .map(|(j, run)| (run.packets(), j))
        .collect();
    partners.sort_unstable();
    // The first run of `lo` with exactly `size` packets.
    let first_of = |size: usize| partners[partners.partition_point(|&(s, _)| s < size)].1;
    let mut best: Option<(usize, Option<usize>, usize)> = None;
    let mut consider = |i: usize, j: Option<usize>, d: usize| {
        if d > 0
            && d < gap
            && best.is_none_or(|(_, _, b)| d.abs_diff(gap - d) < b.abs_diff(gap - b))
        {
            best = Some((i, j, d));
        }
    };
    for (i, run) in hi.iter().enumerate() {
        let p = run.packets();
        consider(i, None, p);
        let ideal = p.saturating_sub(gap / 2);
        let k = partners.partition_point(|&(s, _)| s < ideal);
        let mut around: Vec<usize> = [k.checked_sub(1), Some(k)]
            .into_iter()
            .flatten()
            .filter_map(|k| partners.get(k))
            .map(|&(size, _)| first_of(size))
            .collect();
        around.sort_unstable();
        for j in around {
            if let Some(d) = p.checked_sub(lo[j].packets()) {
                consider(i, Some(j), d);
            }
        }
    }
    best
}

fn least(load: &[usize]) -> usize {
    (0..load.len()).min_by_key(|&i| load[i]).unwrap_or(0)
}

fn most(load: &[usize]) -> usize {
    (0..load.len()).max_by_key(|&i| load[i]).unwrap_or(0)
}

/// The runs of one batch as shared among its decoders, each share longest
/// first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunShares(Vec<VecDeque<Run>>);

impl RunShares {
    /// How many decoders share the runs.
    pub fn lanes(&self) -> usize {
        self.0.len()
    }

    /// The next run for `lane`: its own longest, or once it has none, the
    /// shortest of the lane with the most packets left — the least work
    /// that still evens out the end.
    pub fn next(&mut self, lane: usize) -> Option<Run> {
        if let Some(run) = self.0.get_mut(lane).and_then(VecDeque::pop_front) {
            return Some(run);
        }
        let left: Vec<usize> = self
            .0
            .iter()
            .map(|share| share.iter().map(Run::packets).sum())
            .collect();
        let victim = most(&left);
        self.0.get_mut(victim).and_then(VecDeque::pop_back)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::IndexEntry;
    use crate::ratio::Ratio;
    use proptest::prelude::*;

    /// Builds an index from packets in decode order, one token each: a kind
    /// letter then the presentation time (none when omitted). `I` is a shown
    /// sync frame, `P`/`B` shown non-sync frames; lowercase `i`/`p` are the
    /// same but hidden, and `-` is a hidden packet without a time.
    fn index(spec: &str, end: i64) -> FrameIndex {
        let packets = spec
            .split_whitespace()
            .map(|token| {
                let (kind, pts) = token.split_at(1);
                let pts = (!pts.is_empty()).then(|| pts.parse::<i64>().expect("test spec"));
                IndexEntry {
                    pts,
                    duration: 0,
                    sync: kind.eq_ignore_ascii_case("i"),
                    shown: kind.chars().all(|c| c.is_ascii_uppercase()) && pts.is_some(),
                }
            })
            .collect();
        with_presentation(packets, end)
    }

    fn with_presentation(packets: Vec<IndexEntry>, end: i64) -> FrameIndex {
        let mut presentation: Vec<u32> = (0..packets.len() as u32)
            .filter(|&i| packets[i as usize].shown)
            .collect();
        presentation.sort_by_key(|&i| packets[i as usize].pts);
        FrameIndex {
            time_base: Ratio {
                num: 1,
                den: 90_000,
            },
            timeline_offset: 0,
            packets,
            presentation,
            end,
        }
    }

    fn window(lo: Option<i64>, hi: Option<i64>, target: i64) -> Request {
        Request {
            window: Window { lo, hi },
            target,
        }
    }

    fn all(target: i64) -> Request {
        Request {
            window: Window::ALL,
            target,
        }
    }

    fn frame(planner: &Planner, request: Request) -> Option<Frame> {
        match planner.choose(&request) {
            Choice::Frame(f) => Some(f),
            Choice::NoImageAtTime => None,
        }
    }

    fn packet(planner: &Planner, request: Request) -> Option<usize> {
        frame(planner, request).map(|f| f.packet)
    }

    /// `(packet, cost)` of the exact frame at `t`.
    fn exact(planner: &Planner, t: i64) -> Option<(usize, usize)> {
        frame(planner, Request::exact(t)).map(|f| (f.packet, f.cost()))
    }

    /// Two closed GOPs of one P and two B frames each, 1 tick per frame.
    const CLOSED: &str = "I0 P3 B1 B2 P6 B4 B5 I7 P10 B8 B9";

    #[test]
    fn closed_gops_exact_frame_at_every_tick() {
        let planner = Planner::new(&index(CLOSED, 11));
        let expected = [
            (0, 1),
            (2, 3),
            (3, 4),
            (1, 2),
            (5, 6),
            (6, 7),
            (4, 5),
            (7, 1),
            (9, 3),
            (10, 4),
            (8, 2),
        ];
        for (t, &want) in expected.iter().enumerate() {
            assert_eq!(exact(&planner, t as i64), Some(want), "t = {t}");
        }
        for t in [-1, 11, 12, i64::MIN, i64::MAX] {
            assert_eq!(exact(&planner, t), None, "t = {t}");
        }
    }

    #[test]
    fn window_picks_cheapest_candidate() {
        let planner = Planner::new(&index(CLOSED, 11));
        // B1 (3 packets), B2 (4), P3 (2): P3 although farther from 2.
        assert_eq!(packet(&planner, window(Some(1), Some(3), 2)), Some(1));
        // B1 (3) beats B2 (4) even with the target on B2.
        assert_eq!(packet(&planner, window(Some(1), Some(2), 2)), Some(2));
        // P6 (5), I7 (1), B8 (3).
        assert_eq!(packet(&planner, window(Some(6), Some(8), 6)), Some(7));
        // B5 (7) and P6 (5).
        assert_eq!(packet(&planner, window(Some(5), Some(6), 5)), Some(4));
        // A lower bound inside B5's span still reaches B5: [5, 6) meets [5.x, ..].
        assert_eq!(packet(&planner, window(Some(5), Some(5), 5)), Some(6));
    }

    #[test]
    fn window_bounds_on_frame_boundaries() {
        let planner = Planner::new(&index(CLOSED, 11));
        // B2 is displayed over [2, 3): a window starting at 3 misses it.
        assert_eq!(packet(&planner, window(Some(3), Some(3), 3)), Some(1));
        assert_eq!(packet(&planner, window(Some(2), Some(2), 2)), Some(3));
        // Only the last frame reaches from 10 on; nothing from the end on.
        assert_eq!(packet(&planner, window(Some(10), None, 10)), Some(8));
        assert_eq!(packet(&planner, window(Some(11), None, 11)), None);
        // Nothing before the first frame.
        assert_eq!(packet(&planner, window(None, Some(-1), -1)), None);
        assert_eq!(packet(&planner, window(None, Some(0), -1)), Some(0));
        // An inverted window holds nothing.
        assert_eq!(packet(&planner, window(Some(5), Some(3), 4)), None);
    }

    #[test]
    fn infinite_window_gives_nearest_sync_frame() {
        let planner = Planner::new(&index(CLOSED, 11));
        assert_eq!(packet(&planner, all(5)), Some(7));
        assert_eq!(packet(&planner, all(3)), Some(0));
        assert_eq!(packet(&planner, all(-50)), Some(0));
        assert_eq!(packet(&planner, all(1_000)), Some(7));
        // Equally near: the earlier.
        let planner = Planner::new(&index("I0 P1 I2 P3", 4));
        assert_eq!(packet(&planner, all(1)), Some(0));
    }

    #[test]
    fn equally_costly_candidates_by_closeness_then_earlier() {
        // The hidden sync packet at 2 starts P3's decode, so P1 and P3 both
        // cost two packets.
        let planner = Planner::new(&index("I0 P1 i2 P3", 4));
        assert_eq!(exact(&planner, 2), Some((1, 2)));
        assert_eq!(exact(&planner, 3), Some((3, 2)));
        assert_eq!(packet(&planner, window(Some(1), Some(3), 2)), Some(1));
        assert_eq!(packet(&planner, window(Some(1), Some(3), 3)), Some(3));
        assert_eq!(packet(&planner, all(3)), Some(0));
    }

    /// A closed GOP, then an open one whose B4 and B5 lead its sync frame I6.
    const OPEN: &str = "I0 P3 B1 B2 I6 B4 B5 P9 B7 B8";

    #[test]
    fn open_gop_leading_pictures_start_at_previous_sync() {
        let planner = Planner::new(&index(OPEN, 10));
        let b4 = frame(&planner, Request::exact(4)).expect("B4");
        assert_eq!(
            (b4.packet, b4.start, b4.cost(), b4.guaranteed),
            (5, 0, 6, true)
        );
        assert_eq!(exact(&planner, 5), Some((6, 7)));
        assert_eq!(exact(&planner, 6), Some((4, 1)));
        // Trailing pictures start at their own sync frame.
        assert_eq!(exact(&planner, 7), Some((8, 5)));
        assert_eq!(exact(&planner, 9), Some((7, 4)));
        // I6 (1) beats the leading pictures; B4 (6) beats B5 (7); P3 (2)
        // beats both.
        assert_eq!(packet(&planner, window(Some(4), Some(6), 5)), Some(4));
        assert_eq!(packet(&planner, window(Some(4), Some(5), 5)), Some(5));
        assert_eq!(packet(&planner, window(Some(3), Some(5), 5)), Some(1));
    }

    #[test]
    fn leading_pictures_earlier_than_previous_gop_go_further_back() {
        let planner = Planner::new(&index("I0 P4 I10 P14 I20 B5", 25));
        let b5 = frame(&planner, Request::exact(5)).expect("B5");
        assert_eq!((b5.packet, b5.start, b5.guaranteed), (5, 0, true));
    }

    #[test]
    fn no_usable_sync_decodes_from_first_packet_as_last_resort() {
        // The first GOP is open: B0 and B1 have nothing to recover from.
        let planner = Planner::new(&index("I2 B0 B1 P5 B3 B4", 6));
        let b0 = frame(&planner, Request::exact(0)).expect("B0");
        assert_eq!((b0.packet, b0.start, b0.guaranteed), (1, 0, false));
        assert_eq!(packet(&planner, all(0)), Some(0));
        assert_eq!(packet(&planner, window(Some(0), Some(1), 1)), Some(1));
        let b3 = frame(&planner, Request::exact(3)).expect("B3");
        assert_eq!((b3.packet, b3.start, b3.guaranteed), (4, 0, true));

        // A stream cut mid-GOP: P0 is cheap and close but not guaranteed.
        let planner = Planner::new(&index("P0 P1 I2 P3", 4));
        assert_eq!(packet(&planner, all(0)), Some(2));
        assert_eq!(packet(&planner, window(Some(0), Some(1), 0)), Some(0));

        // No sync packet at all: the cheapest still wins.
        let planner = Planner::new(&index("P0 P1 P2", 3));
        assert_eq!(packet(&planner, all(2)), Some(0));
        let p2 = frame(&planner, Request::exact(2)).expect("P2");
        assert_eq!((p2.start, p2.cost(), p2.guaranteed), (0, 3, false));
    }

    #[test]
    fn sync_packet_without_time_is_not_a_start() {
        let planner = Planner::new(&index("I0 P1 I P2", 3));
        assert_eq!(exact(&planner, 2), Some((3, 4)));
    }

    #[test]
    fn variable_frame_rate() {
        let planner = Planner::new(&index("I0 P10 P15 P40 I41 P100", 130));
        assert_eq!(exact(&planner, 39), Some((2, 3)));
        assert_eq!(exact(&planner, 40), Some((3, 4)));
        assert_eq!(exact(&planner, 41), Some((4, 1)));
        assert_eq!(exact(&planner, 129), Some((5, 2)));
        assert_eq!(exact(&planner, 130), None);
        assert_eq!(packet(&planner, window(Some(20), Some(30), 25)), Some(2));
        assert_eq!(packet(&planner, window(Some(16), Some(45), 30)), Some(4));
        assert_eq!(packet(&planner, all(20)), Some(0));
        assert_eq!(packet(&planner, all(21)), Some(4));
    }

    #[test]
    fn single_frame() {
        let planner = Planner::new(&index("I5", 6));
        assert_eq!(exact(&planner, 5), Some((0, 1)));
        for t in [4, 6] {
            assert_eq!(exact(&planner, t), None);
        }
        assert_eq!(packet(&planner, window(Some(0), Some(4), 2)), None);
        assert_eq!(packet(&planner, window(Some(0), Some(5), 2)), Some(0));
        assert_eq!(packet(&planner, window(Some(5), None, 9)), Some(0));
        assert_eq!(packet(&planner, window(Some(6), None, 9)), None);
        assert_eq!(packet(&planner, window(None, Some(4), 0)), None);
        assert_eq!(packet(&planner, all(-100)), Some(0));
    }

    #[test]
    fn hidden_packets_are_fed_but_never_chosen() {
        let planner = Planner::new(&index("I0 - P2 p1 P3", 4));
        assert_eq!(exact(&planner, 1), Some((0, 1)));
        assert_eq!(exact(&planner, 2), Some((2, 3)));
        assert_eq!(exact(&planner, 3), Some((4, 5)));
        for t in -1..5 {
            for lo in [None, Some(t - 1), Some(t)] {
                for hi in [None, Some(t), Some(t + 1)] {
                    let chosen = packet(&planner, window(lo, hi, t));
                    assert!(!matches!(chosen, Some(1 | 3)), "{lo:?}..{hi:?} @ {t}");
                }
            }
        }
    }

    #[test]
    fn frames_never_displayed_are_never_chosen() {
        // Two frames at 1: the later in decode order replaces the earlier.
        let planner = Planner::new(&index("I0 P1 P1", 3));
        assert_eq!(exact(&planner, 1), Some((2, 3)));
        assert_eq!(packet(&planner, window(Some(0), Some(2), 1)), Some(0));
        assert_eq!(packet(&planner, window(Some(1), Some(2), 1)), Some(2));
        // The track ends at the last frame's time: it is never displayed.
        let planner = Planner::new(&index("I0 P5", 5));
        assert_eq!(exact(&planner, 4), Some((0, 1)));
        assert_eq!(exact(&planner, 5), None);
    }

    #[test]
    fn no_shown_frames_means_no_image_anywhere() {
        for index in [index("i0 p1 -", 2), index("", 0)] {
            let planner = Planner::new(&index);
            let requests = [Request::exact(0), all(0), window(Some(0), Some(1), 1)];
            let plan = planner.plan(&requests);
            assert_eq!(plan.choices, vec![Choice::NoImageAtTime; 3]);
            assert!(plan.decode.is_empty());
            assert_eq!(plan.decode.packets(), 0);
        }
    }

    #[test]
    fn inconsistent_presentation_is_cleaned_up() {
        let clean = Planner::new(&index("I0 p1 P2", 3));
        let mut messy = index("I0 p1 P2", 3);
        messy.presentation = vec![2, 1, 0, 7, 2, u32::MAX, 0];
        let messy = Planner::new(&messy);
        for t in -1..4 {
            for request in [Request::exact(t), all(t), window(Some(t), Some(t + 1), t)] {
                assert_eq!(messy.choose(&request), clean.choose(&request));
            }
        }
        assert_eq!(exact(&messy, 1), Some((0, 1)));
        // A shown packet without a time is not on the timeline.
        let mut timeless = index("I0 P1", 2);
        timeless.packets[1].pts = None;
        assert_eq!(exact(&Planner::new(&timeless), 1), Some((0, 1)));
    }

    #[test]
    fn duplicates_share_one_decode() {
        let plan = plan(
            &index(CLOSED, 11),
            &[
                Request::exact(2),
                Request::exact(2),
                all(0),
                Request::exact(0),
            ],
        );
        let chosen: Vec<_> = plan
            .choices
            .iter()
            .map(|c| match c {
                Choice::Frame(f) => Some(f.packet),
                Choice::NoImageAtTime => None,
            })
            .collect();
        assert_eq!(chosen, [Some(3), Some(3), Some(0), Some(0)]);
        let runs = plan.decode.runs();
        assert_eq!(runs.len(), 1);
        assert_eq!(
            (runs[0].start(), runs[0].end(), runs[0].packets()),
            (0, 3, 4)
        );
        let targets = runs[0].targets();
        assert_eq!(
            targets,
            [
                Target {
                    packet: 0,
                    pts: 0,
                    requests: vec![2, 3]
                },
                Target {
                    packet: 3,
                    pts: 2,
                    requests: vec![0, 1]
                },
            ]
        );
        let spans: Vec<_> = runs[0].spans().collect();
        assert_eq!(
            spans,
            [
                Span {
                    lead: 0..0,
                    target: &targets[0]
                },
                Span {
                    lead: 1..3,
                    target: &targets[1]
                },
            ]
        );
    }

    fn runs(index: &FrameIndex, requests: &[Request]) -> Vec<(usize, usize, Vec<usize>)> {
        plan(index, requests)
            .decode
            .runs()
            .iter()
            .map(|r| {
                let targets = r.targets().iter().map(|t| t.packet).collect();
                (r.start(), r.end(), targets)
            })
            .collect()
    }

    #[test]
    fn runs_extend_forward_and_split_at_gaps() {
        let closed = index(CLOSED, 11);
        // One GOP, targets out of request order: one run, decode order.
        assert_eq!(
            runs(
                &closed,
                &[Request::exact(5), Request::exact(0), Request::exact(3)]
            ),
            [(0, 6, vec![0, 1, 6])]
        );
        // A gap between the GOPs' needs: two runs.
        assert_eq!(
            runs(&closed, &[Request::exact(9), Request::exact(1)]),
            [(0, 2, vec![2]), (7, 10, vec![10])]
        );
        // The next start is the packet after the run's end: feed on.
        assert_eq!(
            runs(&closed, &[Request::exact(5), Request::exact(7)]),
            [(0, 7, vec![6, 7])]
        );
        // A leading picture's start lies inside the earlier run: one run.
        let open = index(OPEN, 10);
        assert_eq!(
            runs(&open, &[Request::exact(7), Request::exact(4)]),
            [(0, 8, vec![5, 8])]
        );
        assert_eq!(
            runs(&open, &[Request::exact(1), Request::exact(7)]),
            [(0, 2, vec![2]), (4, 8, vec![8])]
        );
    }

    #[test]
    fn later_frame_with_earlier_start_does_not_overlap_runs() {
        // B5 (packet 5) starts at packet 0, P11 (packet 3) at packet 2.
        let index = index("I0 P1 I10 P11 I20 B5", 30);
        assert_eq!(runs(&index, &[Request::exact(11)]), [(2, 3, vec![3])]);
        assert_eq!(
            runs(&index, &[Request::exact(11), Request::exact(5)]),
            [(0, 5, vec![3, 5])]
        );
    }

    #[test]
    fn unanswered_requests_are_not_planned() {
        let plan = plan(&index(CLOSED, 11), &[Request::exact(-1), Request::exact(9)]);
        assert_eq!(plan.choices[0], Choice::NoImageAtTime);
        let runs = plan.decode.runs();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].targets()[0].requests, [1]);
    }

    /// GOPs of the given sizes, a hidden packet between them so that each
    /// GOP's last frame makes a run of its own, and a request for each.
    fn gops(sizes: &[usize]) -> DecodePlan {
        let mut spec = Vec::new();
        let mut pts = 0;
        let mut requests = Vec::new();
        for &size in sizes {
            for k in 0..size {
                spec.push(format!("{}{pts}", if k == 0 { 'I' } else { 'P' }));
                pts += 1;
            }
            requests.push(Request::exact(pts - 1));
            spec.push("-".to_string());
        }
        plan(&index(&spec.join(" "), pts), &requests).decode
    }

    fn starts_and_lengths(plan: &DecodePlan) -> Vec<(usize, usize)> {
        plan.runs()
            .iter()
            .map(|r| (r.start(), r.packets()))
            .collect()
    }

    fn lengths(shares: &RunShares) -> Vec<Vec<usize>> {
        shares
            .0
            .iter()
            .map(|share| share.iter().map(Run::packets).collect())
            .collect()
    }

    #[test]
    fn shares_balance_whole_runs_longest_first() {
        let whole = gops(&[3, 10, 3, 1, 3]);
        assert_eq!(
            starts_and_lengths(&whole),
            [(0, 3), (4, 10), (15, 3), (19, 1), (21, 3)]
        );
        let two = NonZeroUsize::new(2).expect("2");
        assert_eq!(
            lengths(&whole.clone().share(two)),
            [vec![10], vec![3, 3, 3, 1]]
        );
        assert_eq!(
            lengths(&whole.clone().share(NonZeroUsize::MIN)),
            [vec![10, 3, 3, 3, 1]]
        );
        let many = NonZeroUsize::new(9).expect("9");
        assert_eq!(whole.share(many).lanes(), 5);
        assert_eq!(DecodePlan::default().share(two).lanes(), 0);
    }

    /// Every frame of four GOPs back to back (no packet between them) is
    /// one run with a seam at each later GOP's sync frame; two lanes get
    /// its GOPs, one lane the run whole.
    #[test]
    fn shares_cut_a_run_through_many_gops_at_its_seams() {
        let sizes = [4, 3, 5, 2];
        let mut spec = Vec::new();
        let mut requests = Vec::new();
        let mut pts = 0;
        for size in sizes {
            for k in 0..size {
                spec.push(format!("{}{pts}", if k == 0 { 'I' } else { 'P' }));
                requests.push(Request::exact(pts));
                pts += 1;
            }
        }
        let whole = plan(&index(&spec.join(" "), pts), &requests).decode;
        assert_eq!(starts_and_lengths(&whole), [(0, 14)]);
        assert_eq!(whole.runs()[0].seams(), [4, 7, 12]);
        assert_eq!(lengths(&whole.clone().share(NonZeroUsize::MIN)), [vec![14]]);
        let mut shares = whole.share(NonZeroUsize::new(2).expect("2"));
        assert_eq!(lengths(&shares), [vec![5, 2], vec![4, 3]]);
        let mut pieces = Vec::new();
        while let Some(run) = shares.next(pieces.len() % 2) {
            pieces.push((run.start(), run.end(), run.targets().len()));
        }
        pieces.sort_unstable();
        assert_eq!(pieces, [(0, 3, 4), (4, 6, 3), (7, 11, 5), (12, 13, 2)]);
    }

    #[test]
    fn shares_improve_on_longest_first_alone() {
        // Longest first alone gives 240 170 130 | 210 200 100 90 (540 | 600).
        let plan = gops(&[240, 210, 200, 170, 130, 100, 90]);
        let shares = plan.share(NonZeroUsize::new(2).expect("2"));
        let loads: Vec<usize> = lengths(&shares).iter().map(|s| s.iter().sum()).collect();
        assert_eq!(loads, [570, 570]);
    }

    #[test]
    fn a_lane_that_runs_dry_takes_the_shortest_run_of_the_busiest() {
        let plan = gops(&[9, 1, 5, 4, 3]);
        let mut shares = plan.share(NonZeroUsize::new(2).expect("2"));
        assert_eq!(lengths(&shares), [vec![9, 3], vec![5, 4, 1]]);
        let mut taken = Vec::new();
        while let Some(run) = shares.next(0) {
            taken.push(run.packets());
        }
        // Its own runs, then lane 1's, shortest first.
        assert_eq!(taken, [9, 3, 1, 4, 5]);
        assert_eq!(shares.next(1), None);
    }

    // ---- properties over random indexes ----

    /// A stream of GOPs in decode order: each GOP is mini-groups of an
    /// anchor (the sync frame for the first) followed in decode order by the
    /// B-frames displayed before it; an open GOP's first group has leading
    /// B-frames. Durations vary (0 gives equal times), some packets are
    /// hidden or have no time.
    fn structured_index() -> impl Strategy<Value = FrameIndex> {
        let gop = (any::<bool>(), prop::collection::vec(0usize..3, 1..5));
        (
            -20i64..20,
            prop::collection::vec(gop, 0..6),
            prop::collection::vec((0i64..4, 0u8..12), 80),
            0i64..4,
        )
            .prop_map(|(first, gops, pool, tail)| {
                let mut pool = pool.into_iter().cycle();
                let mut pts = first;
                let mut packets = Vec::new();
                for (open, groups) in gops {
                    for (g, &bs) in groups.iter().enumerate() {
                        let bs = if g == 0 && !open { 0 } else { bs };
                        let mut times = Vec::new();
                        for _ in 0..=bs {
                            times.push(pts);
                            pts += pool.next().map_or(1, |(d, _)| d);
                        }
                        times.rotate_right(1);
                        for (k, time) in times.into_iter().enumerate() {
                            let flag = pool.next().map_or(9, |(_, f)| f);
                            packets.push(IndexEntry {
                                pts: (flag != 0).then_some(time),
                                duration: 0,
                                sync: g == 0 && k == 0,
                                shown: flag > 1,
                            });
                        }
                    }
                }
                with_presentation(packets, pts + tail - 2)
            })
    }

    /// Anything at all: times in any order, sync anywhere.
    fn arbitrary_index() -> impl Strategy<Value = FrameIndex> {
        let packet = (
            prop::option::weighted(0.9, -10i64..30),
            any::<bool>(),
            0u8..4,
        )
            .prop_map(|(pts, sync, shown)| IndexEntry {
                pts,
                duration: 0,
                sync,
                shown: shown > 0 && pts.is_some(),
            });
        (prop::collection::vec(packet, 0..30), -10i64..40)
            .prop_map(|(packets, end)| with_presentation(packets, end))
    }

    fn request() -> impl Strategy<Value = Request> {
        let bound = prop::option::weighted(0.8, -30i64..60);
        prop_oneof![
            (-30i64..60).prop_map(Request::exact),
            (bound.clone(), bound, -30i64..60).prop_map(|(lo, hi, t)| window(lo, hi, t)),
            (-30i64..60, 0i64..8, 0i64..8).prop_map(|(t, before, after)| window(
                Some(t - before),
                Some(t + after),
                t
            )),
        ]
    }

    fn check(
        index: &FrameIndex,
        requests: &[Request],
        workers: usize,
    ) -> Result<(), TestCaseError> {
        oracle::check(index, requests, workers).map_err(TestCaseError::fail)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn structured_streams(
            index in structured_index(),
            requests in prop::collection::vec(request(), 0..12),
            workers in 1usize..5,
        ) {
            check(&index, &requests, workers)?;
        }

        #[test]
        fn arbitrary_streams(
            index in arbitrary_index(),
            requests in prop::collection::vec(request(), 0..12),
            workers in 1usize..5,
        ) {
            check(&index, &requests, workers)?;
        }

        #[test]
        fn streams_known_in_parts(
            index in structured_index(),
            requests in prop::collection::vec(request(), 1..8),
            known in prop::collection::vec(any::<bool>(), 12),
        ) {
            let groups = groups(&index);
            prop_assume!(displayed_in_group_order(&index, &groups));
            let loaded: Vec<bool> = (0..groups.len()).map(|g| known[g % known.len()]).collect();
            check_in_parts(&index, &groups, loaded, &requests)?;
        }
    }

    // ---- a track known in parts ----

    /// The groups of pictures of an index, as the on-demand reader splits
    /// a track: from each sync packet with a time to just before the next;
    /// the packets before the first such one make a group of their own.
    fn groups(index: &FrameIndex) -> Vec<Range<usize>> {
        let mut starts: Vec<usize> = (0..index.packets.len())
            .filter(|&i| index.packets[i].sync && index.packets[i].pts.is_some())
            .collect();
        if starts.first() != Some(&0) {
            starts.insert(0, 0);
        }
        let mut ends: Vec<usize> = starts[1..].to_vec();
        ends.push(index.packets.len());
        starts.into_iter().zip(ends).map(|(a, b)| a..b).collect()
    }

    fn shown_pts(index: &FrameIndex, group: &Range<usize>) -> Vec<i64> {
        index.packets[group.clone()]
            .iter()
            .filter(|p| p.shown)
            .filter_map(|p| p.pts)
            .collect()
    }

    /// The property parts rely on: every frame of a group is displayed
    /// after every frame of the groups before it.
    fn displayed_in_group_order(index: &FrameIndex, groups: &[Range<usize>]) -> bool {
        let mut before: Option<i64> = None;
        for g in groups {
            let pts = shown_pts(index, g);
            if let (Some(b), Some(&min)) = (before, pts.iter().min()) {
                if min <= b {
                    return false;
                }
            }
            before = before.max(pts.iter().max().copied());
        }
        true
    }

    /// The parts the loaded groups make: runs of consecutive loaded groups,
    /// each with its bounds and the position of its first packet.
    fn known_parts(
        index: &FrameIndex,
        groups: &[Range<usize>],
        loaded: &[bool],
    ) -> Vec<(FrameIndex, PartBounds, Range<usize>)> {
        let mut parts = Vec::new();
        let mut g = 0;
        while g < groups.len() {
            if !loaded[g] {
                g += 1;
                continue;
            }
            let first = g;
            while g + 1 < groups.len() && loaded[g + 1] {
                g += 1;
            }
            let packets = index.packets[groups[first].start..groups[g].end].to_vec();
            let bounds = PartBounds {
                starts_track: first == 0,
                ends_track: g + 1 == groups.len(),
            };
            let end = if bounds.ends_track {
                index.end
            } else {
                let last = packets
                    .iter()
                    .filter(|p| p.shown)
                    .filter_map(|p| p.pts)
                    .max();
                last.map_or(0, |l| l + 1)
            };
            parts.push((with_presentation(packets, end), bounds, first..g + 1));
            g += 1;
        }
        parts
    }

    /// Plans over the loaded groups, loading what the needs ask for as the
    /// on-demand reader does, until every request is answered; each answer
    /// must be the whole index's.
    fn check_in_parts(
        index: &FrameIndex,
        groups: &[Range<usize>],
        mut loaded: Vec<bool>,
        requests: &[Request],
    ) -> Result<(), TestCaseError> {
        let whole = Planner::new(index).plan(requests);
        let sync_pts = |g: usize| -> Option<i64> {
            let p = index.packets.get(groups[g].start)?;
            p.pts.filter(|_| p.sync)
        };
        for _ in 0..=2 * groups.len() + 2 {
            let parts = known_parts(index, groups, &loaded);
            let planner = TrackPlanner::new(parts.iter().map(|(i, b, _)| (i, *b)));
            let needs = match planner.plan(requests) {
                Ok(plan) => {
                    for (got, want) in plan.choices.iter().zip(&whole.choices) {
                        match (got, want) {
                            (Choice::Frame(f), Choice::Frame(w)) => {
                                let base = groups[parts[f.part].2.start].start;
                                prop_assert_eq!(
                                    (f.packet + base, f.start + base, f.pts, f.guaranteed),
                                    (w.packet, w.start, w.pts, w.guaranteed)
                                );
                            }
                            (got, want) => prop_assert_eq!(got, want),
                        }
                    }
                    for run in plan.decode.runs() {
                        let part = &parts[run.part()].0;
                        prop_assert!(run.end() < part.packets.len());
                    }
                    return Ok(());
                }
                Err(needs) => needs,
            };
            let before = loaded.clone();
            for need in needs {
                let load_from = |loaded: &mut Vec<bool>, mut g: usize| {
                    // As the reader: past groups already known, then two.
                    while g < groups.len() && loaded[g] {
                        g += 1;
                    }
                    let upto = (g + 2).min(groups.len());
                    loaded[g.min(upto)..upto].fill(true);
                };
                match need {
                    Need::Around(t) => {
                        let g = (0..groups.len())
                            .rev()
                            .find(|&g| sync_pts(g).is_some_and(|p| p <= t))
                            .unwrap_or(0);
                        load_from(&mut loaded, g);
                    }
                    Need::Earlier(k) => {
                        let first = parts[k].2.start;
                        prop_assert!(first > 0, "nothing is before the track's start");
                        loaded[first - 1] = true;
                    }
                    Need::Later(k) => load_from(&mut loaded, parts[k].2.end),
                }
            }
            prop_assert!(loaded != before, "a need loaded nothing");
        }
        Err(TestCaseError::fail("needs did not end"))
    }
}
