//! Composition time maths, pure: which composition frame answers a
//! request, which instruction and segments hold at a frame, and which
//! source time each layer shows — exactly, in rationals, so that a frame on
//! a segment boundary or a time-scaled segment's edge lands on the right
//! source frame.

use crate::error::Error;
use crate::ratio::Ratio;
use crate::time::Time;

use super::model::{Composition, Segment, SegmentSource, VideoComposition};

/// A numeric time as an exact fraction of seconds, `num / den`, `den > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Q {
    num: i128,
    den: i128,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs().max(1)
}

impl Q {
    fn new(num: i128, den: i128) -> Q {
        let g = gcd(num, den) * den.signum();
        Q {
            num: num / g,
            den: den / g,
        }
    }

    fn of(t: Time) -> Q {
        Q::new(i128::from(t.value()), i128::from(t.timescale()))
    }

    fn add(self, o: Q) -> Q {
        Q::new(self.num * o.den + o.num * self.den, self.den * o.den)
    }

    fn sub(self, o: Q) -> Q {
        self.add(Q::new(-o.num, o.den))
    }

    fn mul(self, o: Q) -> Q {
        let (a, b) = (gcd(self.num, o.den), gcd(o.num, self.den));
        Q::new((self.num / a) * (o.num / b), (self.den / b) * (o.den / a))
    }

    fn div(self, o: Q) -> Q {
        self.mul(Q::new(o.den, o.num))
    }

    fn floor(self) -> i128 {
        self.num.div_euclid(self.den)
    }
}

/// The composition frame a request gets: the start of frame `k` on the
/// `frame_duration` grid. It is the frame displayed at `requested`, which
/// lies in every tolerance window; before 0 or at or after the end, the
/// first or last frame where the window reaches it.
pub(crate) fn frame_for(
    requested: Time,
    before: Time,
    after: Time,
    frame_duration: Time,
    duration: Time,
) -> Result<Time, Error> {
    if !requested.is_numeric() {
        return Err(Error::InvalidTime(format!(
            "{requested} is not a numeric time"
        )));
    }
    if duration <= Time::ZERO {
        return Err(Error::NoImageAtTime {
            requested,
            reason: "the composition is empty".into(),
        });
    }
    let step = Q::of(frame_duration);
    let frames = Q::of(duration).div(step);
    let last = if frames.num % frames.den == 0 {
        frames.floor() - 1
    } else {
        frames.floor()
    };
    let k = if requested < Time::ZERO {
        if requested + after < Time::ZERO {
            return Err(Error::NoImageAtTime {
                requested,
                reason: "before the composition starts, and the tolerance after does not reach it"
                    .into(),
            });
        }
        0
    } else if requested >= duration {
        if requested - before >= duration {
            return Err(Error::NoImageAtTime {
                requested,
                reason: format!(
                    "at or after the composition's end ({duration}s), and the tolerance before does not reach it"
                ),
            });
        }
        last
    } else {
        Q::of(requested).div(step).floor().min(last)
    };
    grid_time(frame_duration, k)
}

/// `k · step` as a [`Time`] on `step`'s timescale.
fn grid_time(step: Time, k: i128) -> Result<Time, Error> {
    i64::try_from(i128::from(step.value()) * k)
        .map(|v| Time::new(v, step.timescale()))
        .map_err(|_| Error::InvalidTime(format!("frame {k} of {step}s is out of range")))
}

/// The index of the instruction in force at `t`.
pub(crate) fn instruction_at(video: &VideoComposition, t: Time) -> Option<usize> {
    video
        .instructions
        .iter()
        .position(|i| i.time_range.contains(t))
}

/// The segment of track `id` holding composition time `t`, with the time
/// it starts at.
pub(crate) fn segment_at(composition: &Composition, id: u32, t: Time) -> Option<(Time, Segment)> {
    let track = composition.track(id)?;
    let mut start = Time::ZERO;
    for segment in &track.segments {
        let end = start + segment.duration;
        if start <= t && t < end {
            return Some((start, *segment));
        }
        start = end;
    }
    None
}

/// The time on the source track's timeline that composition time `t` shows
/// in a segment starting at `segment_start`, floored to a tick of the
/// source's `time_base` (the frame displayed at a time is the last one
/// starting at or before it).
pub(crate) fn source_time(
    segment_start: Time,
    segment: &Segment,
    source: &SegmentSource,
    t: Time,
    time_base: Ratio,
) -> Option<Time> {
    let offset = Q::of(t).sub(Q::of(segment_start));
    let speed = Q::of(source.range.duration).div(Q::of(segment.duration));
    let s = Q::of(source.range.start).add(offset.mul(speed));
    let ticks = s
        .div(Q::new(time_base.num.into(), time_base.den.into()))
        .floor();
    Time::from_stream_ticks(i64::try_from(ticks).ok()?, time_base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::model::{CompositionTrack, TimeRange};

    fn t(v: i64, s: i32) -> Time {
        Time::new(v, s)
    }

    #[test]
    fn a_request_gets_the_frame_displayed_at_it() {
        let step = t(1, 25);
        let d = t(2, 1);
        let inf = Time::POSITIVE_INFINITY;
        assert_eq!(
            frame_for(t(0, 1), Time::ZERO, Time::ZERO, step, d).unwrap(),
            t(0, 1)
        );
        assert_eq!(
            frame_for(t(1, 25), Time::ZERO, Time::ZERO, step, d).unwrap(),
            t(1, 25)
        );
        assert_eq!(
            frame_for(t(99, 2500), Time::ZERO, Time::ZERO, step, d).unwrap(),
            t(0, 1)
        );
        assert_eq!(
            frame_for(t(1999, 1000), Time::ZERO, Time::ZERO, step, d).unwrap(),
            t(49, 25)
        );
        // Past the end: the last frame where the window reaches back into it.
        assert_eq!(frame_for(t(3, 1), inf, inf, step, d).unwrap(), t(49, 25));
        assert!(frame_for(t(2, 1), Time::ZERO, Time::ZERO, step, d).is_err());
        assert!(frame_for(t(-1, 10), Time::ZERO, Time::ZERO, step, d).is_err());
        assert_eq!(
            frame_for(t(-1, 10), Time::ZERO, inf, step, d).unwrap(),
            t(0, 1)
        );
        // A duration off the grid: its last partial frame exists.
        assert_eq!(
            frame_for(t(2, 1), inf, inf, step, t(201, 100)).unwrap(),
            t(50, 25)
        );
    }

    #[test]
    fn a_time_scaled_segment_maps_exactly_at_its_edges() {
        let mut composition = Composition::new();
        let mut track = CompositionTrack::new(1);
        // 1 s of source from 0.5 s, played over 2 s, after 1 s of nothing.
        track
            .insert_empty(t(1, 1))
            .insert_scaled(0, 0, TimeRange::new(t(1, 2), t(1, 1)), t(2, 1));
        composition.tracks.push(track);
        let tb = Ratio::new(1, 12800).unwrap();
        assert!(segment_at(&composition, 1, t(999, 1000))
            .unwrap()
            .1
            .source
            .is_none());
        let (start, segment) = segment_at(&composition, 1, t(1, 1)).unwrap();
        let source = segment.source.unwrap();
        assert_eq!(start, t(1, 1));
        let at = |c: Time| source_time(start, &segment, &source, c, tb).unwrap();
        assert_eq!(at(t(1, 1)), t(1, 2));
        assert_eq!(at(t(2, 1)), t(1, 1));
        // 1/25 s of composition is 1/50 s of source: 256 ticks.
        assert_eq!(at(t(26, 25)), t(6656, 12800));
        // Floored to the tick at or before.
        assert_eq!(at(t(1_000_001, 1_000_000)), t(6400, 12800));
        assert!(segment_at(&composition, 1, t(3, 1)).is_none());
        assert!(segment_at(&composition, 2, t(1, 1)).is_none());
    }
}
