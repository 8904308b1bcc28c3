//! What SPEC "Which frame" says a request should get from an index-coded
//! fixture, worked out from the facts its README records (see `readme`):
//! the time base, every packet in decode order, every shown frame with its
//! code and presentation time, and where the track ends. Nothing here asks
//! the library anything.

use std::cmp::Ordering;

use stills::asset::geometry::Orientation;
use stills::Time;

use super::readme::Section;
pub use super::readme::{Frame, Packet};

/// What decoding one frame alone takes (SPEC "Which frame", window mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    /// Whether a sync packet at or before the frame in decode order, and
    /// not after it in presentation, exists to start from; without one the
    /// frame can only be decoded from the first packet, unreliably.
    pub guaranteed: bool,
    /// Packets fed, from that start through the frame, in decode order.
    pub packets: usize,
}

/// One fixture's facts, with times on the asset timeline.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub name: String,
    /// Seconds per tick, as `(num, den)`.
    pub time_base: (i64, i64),
    /// Ticks subtracted from the stream's timestamps to put them on the
    /// asset timeline: the container's start for MPEG-TS, else 0.
    pub offset: i64,
    /// Every packet in decode order, pts on the asset timeline.
    pub packets: Vec<Packet>,
    /// Every shown frame in presentation order, pts on the asset timeline.
    pub frames: Vec<Frame>,
    /// Where the last frame stops being displayed.
    pub end: i64,
    /// The track's display matrix as an orientation (identity when the
    /// container has none).
    pub orientation: Orientation,
    /// What decoding each frame of `frames` alone costs.
    costs: Vec<Cost>,
}

/// An exact fraction, compared by cross-multiplication.
#[derive(Debug, Clone, Copy)]
struct Q {
    n: i128,
    d: i128,
}

impl Q {
    fn of_time(t: Time) -> Q {
        assert!(t.is_numeric(), "{t:?} is not a number of seconds");
        Q {
            n: i128::from(t.value()),
            d: i128::from(t.timescale()),
        }
    }

    fn cmp(self, other: Q) -> Ordering {
        (self.n * other.d).cmp(&(other.n * self.d))
    }

    fn abs_diff(self, other: Q) -> Q {
        Q {
            n: (self.n * other.d - other.n * self.d).abs(),
            d: self.d * other.d,
        }
    }
}

impl Fixture {
    /// The facts of `name`'s first video stream, read from the README.
    pub fn load(name: &str) -> Fixture {
        Fixture::from_readme(name).unwrap_or_else(|e| panic!("README facts of {name}: {e}"))
    }

    fn from_readme(name: &str) -> Result<Fixture, String> {
        let section = Section::of(name)?;
        let container = section.container()?;
        let stream = section.stream(0)?;
        let time_base = stream.time_base;
        let offset = if container.format == "mpegts" {
            stream.start_pts
        } else {
            0
        };
        let packets = section
            .packets(0)?
            .into_iter()
            .map(|p| Packet {
                pts: p.pts - offset,
                ..p
            })
            .collect();
        let frames: Vec<Frame> = section
            .shown_frames(0)?
            .into_iter()
            .map(|f| Frame {
                pts: f.pts - offset,
                ..f
            })
            .collect();
        let last = frames.last().ok_or("no frames")?.pts + offset;
        let end = match stream
            .duration
            .map(|d| stream.start_pts + d)
            .filter(|&e| e > last)
        {
            Some(e) => e,
            None => {
                // No stream duration, or one that stops before the last
                // frame (ffprobe's for vfr.mp4): the container's. Its
                // meaning differs between containers once the start is not
                // 0 (MP4 counts from 0, MPEG-TS from the start), so only a
                // start of 0 is taken.
                if container.start_us != 0 {
                    return Err(
                        "no usable stream duration and a container start other than 0".into(),
                    );
                }
                micros_to_ticks(container.duration_us, time_base)?
            }
        } - offset;
        let mut fixture = Fixture {
            name: name.to_string(),
            time_base,
            offset,
            packets,
            frames,
            end,
            orientation: section
                .tkhd_orientation(0)?
                .unwrap_or(Orientation::IDENTITY),
            costs: Vec::new(),
        };
        fixture.costs = fixture
            .frames
            .iter()
            .map(|&f| fixture.count_cost(f))
            .collect();
        Ok(fixture)
    }

    /// `ticks` of the time base as a time, in the time base's own scale.
    pub fn time(&self, ticks: i64) -> Time {
        let (num, den) = self.time_base;
        Time::new(
            ticks * num,
            i32::try_from(den).expect("time base fits a timescale"),
        )
    }

    /// `ticks + fraction_num / fraction_den` ticks, for times between ticks.
    pub fn time_between(&self, ticks: i64, fraction_num: i64, fraction_den: i64) -> Time {
        let (num, den) = self.time_base;
        Time::new(
            (ticks * fraction_den + fraction_num) * num,
            i32::try_from(den * fraction_den).expect("timescale fits"),
        )
    }

    fn tick_q(&self, ticks: i64) -> Q {
        let (num, den) = self.time_base;
        Q {
            n: i128::from(ticks) * i128::from(num),
            d: i128::from(den),
        }
    }

    /// The frame a player shows at `t`: the last with pts ≤ t, while t is
    /// before the track's end; `None` outside.
    pub fn displayed_at(&self, t: Time) -> Option<Frame> {
        let t = Q::of_time(t);
        let k = self
            .frames
            .partition_point(|f| self.tick_q(f.pts).cmp(t) != Ordering::Greater);
        let frame = *self.frames.get(k.checked_sub(1)?)?;
        (t.cmp(self.tick_q(self.end)) == Ordering::Less).then_some(frame)
    }

    /// Where frame `k` (presentation order) stops being displayed.
    pub fn until(&self, k: usize) -> i64 {
        self.frames.get(k + 1).map_or(self.end, |f| f.pts)
    }

    /// The frames displayed at some instant of `[t − before, t + after]`;
    /// an infinite tolerance leaves that side open.
    pub fn candidates(&self, t: Time, before: Time, after: Time) -> Vec<(usize, Frame)> {
        let lo = (!before.is_positive_infinity()).then(|| Q::of_time(t - before));
        let hi = (!after.is_positive_infinity()).then(|| Q::of_time(t + after));
        self.frames
            .iter()
            .enumerate()
            .filter(|&(k, f)| {
                let starts_in_time =
                    hi.is_none_or(|hi| self.tick_q(f.pts).cmp(hi) != Ordering::Greater);
                let lasts_long_enough =
                    lo.is_none_or(|lo| self.tick_q(self.until(k)).cmp(lo) == Ordering::Greater);
                starts_in_time && lasts_long_enough
            })
            .map(|(k, f)| (k, *f))
            .collect()
    }

    /// What decoding `frame` alone costs: packets from the last sync packet
    /// at or before it in decode order whose pts is not after its own (an
    /// open GOP's leading pictures need the GOP before), through it.
    pub fn cost(&self, frame: Frame) -> Cost {
        match self.frames.iter().position(|f| *f == frame) {
            Some(k) => self.costs[k],
            None => panic!("{}: {frame:?} is not a shown frame", self.name),
        }
    }

    fn count_cost(&self, frame: Frame) -> Cost {
        let at = self
            .packets
            .iter()
            .position(|p| p.pts == frame.pts && !p.discard)
            .unwrap_or_else(|| panic!("{}: no packet for frame {frame:?}", self.name));
        match (0..=at)
            .rev()
            .find(|&i| self.packets[i].sync && self.packets[i].pts <= frame.pts)
        {
            Some(start) => Cost {
                guaranteed: true,
                packets: at - start + 1,
            },
            None => Cost {
                guaranteed: false,
                packets: at + 1,
            },
        }
    }

    /// The frames window mode may return for `t` (SPEC "Which frame"): the
    /// cheapest candidates (a guaranteed start first), and among those the
    /// closest to `t`. Several only on an exact tie, which the SPEC leaves
    /// open. Empty when no frame is displayed in the window.
    pub fn cheapest(&self, t: Time, before: Time, after: Time) -> Vec<Frame> {
        let t_q = Q::of_time(t);
        let ranked: Vec<((bool, usize), Q, Frame)> = self
            .candidates(t, before, after)
            .into_iter()
            .map(|(k, f)| {
                let c = self.costs[k];
                (
                    (!c.guaranteed, c.packets),
                    self.tick_q(f.pts).abs_diff(t_q),
                    f,
                )
            })
            .collect();
        let Some(best_cost) = ranked.iter().map(|r| r.0).min() else {
            return Vec::new();
        };
        let cheapest: Vec<_> = ranked.into_iter().filter(|r| r.0 == best_cost).collect();
        let closest = cheapest
            .iter()
            .map(|r| r.1)
            .min_by(|a, b| a.cmp(*b))
            .expect("at least one candidate");
        cheapest
            .into_iter()
            .filter(|r| r.1.cmp(closest) == Ordering::Equal)
            .map(|r| r.2)
            .collect()
    }

    /// Whether `frame` is displayed at some instant of the window.
    pub fn displayed_in(&self, frame: Frame, t: Time, before: Time, after: Time) -> bool {
        self.candidates(t, before, after)
            .iter()
            .any(|(_, f)| *f == frame)
    }

    pub fn frame_with_code(&self, code: u32) -> Option<Frame> {
        self.frames.iter().copied().find(|f| f.code == code)
    }

    /// The shown sync frames nearest to `t`, several on a tie: what
    /// infinite tolerances give, worked out without the cost model.
    pub fn nearest_sync_frames(&self, t: Time) -> Vec<Frame> {
        let distance = |f: &Frame| {
            let p = self.time(f.pts);
            if p > t {
                p - t
            } else {
                t - p
            }
        };
        let syncs = self.sync_frames();
        let nearest = syncs
            .iter()
            .map(distance)
            .min()
            .expect("every fixture has a shown sync frame");
        syncs
            .into_iter()
            .filter(|f| distance(f) == nearest)
            .collect()
    }

    /// Shown frames that are sync packets.
    pub fn sync_frames(&self) -> Vec<Frame> {
        self.frames
            .iter()
            .copied()
            .filter(|f| {
                self.packets
                    .iter()
                    .any(|p| p.pts == f.pts && p.sync && !p.discard)
            })
            .collect()
    }
}

fn micros_to_ticks(us: i64, (num, den): (i64, i64)) -> Result<i64, String> {
    let scaled = i128::from(us) * i128::from(den);
    let per = 1_000_000 * i128::from(num);
    if scaled % per != 0 {
        return Err(format!("{us} µs is not a whole number of ticks"));
    }
    i64::try_from(scaled / per).map_err(|e| e.to_string())
}
