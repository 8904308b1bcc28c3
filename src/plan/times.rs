//! From requested times to the planner's requests: a time and its
//! tolerances, in seconds on any timescale, become a window of stream ticks.
//! Exact rational arithmetic, apart from the planner so that its edge cases
//! (huge tolerances, far-future times, odd time bases) are tested alone.

use super::{Request, Window};
use crate::error::{Error, Result};
use crate::ratio::Ratio;
use crate::time::Time;

impl Request {
    /// Turns a requested time and the tolerances into the planner's window in
    /// stream ticks. Bounds are floored: for a frame shown over `[p, next)`,
    /// `p ≤ hi` ⇔ `p ≤ ⌊hi⌋` and `next > lo` ⇔ `next > ⌊lo⌋`, so the test
    /// stays exact for times between ticks.
    ///
    /// The sums are taken exactly, as rationals, never through `Time`
    /// arithmetic (which rounds when a value overflows) or `i64` ticks (which
    /// would refuse them): a window reaching past what a stream can count is
    /// open on that side, so a tolerance of 10^15 s behaves as an infinite one
    /// and a time past the end asks for the last frame whatever its timescale.
    pub fn from_times(t: Time, before: Time, after: Time, tb: Ratio) -> Result<Request> {
        if !t.is_numeric() {
            return Err(Error::InvalidTime(format!(
                "requested time {t:?} is not a number of seconds"
            )));
        }
        let bad_base =
            || Error::InvalidTime(format!("the stream's time base {tb:?} is not usable"));
        let ticks = |offset: Option<(Time, i128)>| floor_ticks(t, offset, tb).ok_or_else(bad_base);
        let bound = |tolerance: Time, sign: i128| -> Result<Option<i128>> {
            if tolerance.is_positive_infinity() {
                return Ok(None);
            }
            ticks(Some((tolerance, sign))).map(Some)
        };
        let lo = bound(before, -1)?;
        let hi = bound(after, 1)?;
        let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        Ok(Request {
            window: Window {
                // Below everything a stream can count: no lower bound.
                lo: lo.filter(|&v| v >= i128::from(i64::MIN)).map(clamp),
                // Above everything: no upper bound.
                hi: hi.filter(|&v| v <= i128::from(i64::MAX)).map(clamp),
            },
            target: clamp(ticks(None)?),
        })
    }
}

/// `⌊(t + sign·offset) / tb⌋` exactly, saturated to `±2^100` where the
/// value is beyond any tick count (the caller only compares it with the
/// `i64` range); `None` for a time base that is not a positive ratio or
/// a non-numeric offset.
fn floor_ticks(t: Time, offset: Option<(Time, i128)>, tb: Ratio) -> Option<i128> {
    if tb.num <= 0 || tb.den <= 0 {
        return None;
    }
    let (value, scale) = (i128::from(t.value()), i128::from(t.timescale()));
    // (t + sign·o) as n / d seconds: |n| < 2^96, d < 2^62.
    let (n, d) = match offset {
        None => (value, scale),
        Some((o, sign)) => {
            if !o.is_numeric() {
                return None;
            }
            let (ov, os) = (i128::from(o.value()), i128::from(o.timescale()));
            (value * os + sign * ov * scale, scale * os)
        }
    };
    // Ticks are n·den / (d·num); d·num < 2^125.
    let divisor = d.checked_mul(i128::from(tb.num))?;
    const HUGE: i128 = 1 << 100;
    match n.checked_mul(i128::from(tb.den)) {
        Some(numerator) => Some(numerator.div_euclid(divisor).clamp(-HUGE, HUGE)),
        None => Some(if n > 0 { HUGE } else { -HUGE }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tb(num: i64, den: i64) -> Ratio {
        Ratio::new(num, den).unwrap()
    }

    #[test]
    fn exact_requests_floor_to_the_tick_at_or_before() {
        // 1/25 s ticks: 0.5 s is tick 12.5 → 12; the frame at tick 12 is
        // the one displayed at 0.5 s.
        let r = Request::from_times(Time::new(1, 2), Time::ZERO, Time::ZERO, tb(1, 25)).unwrap();
        assert_eq!(r.target, 12);
        assert_eq!((r.window.lo, r.window.hi), (Some(12), Some(12)));
        let on_tick =
            Request::from_times(Time::new(12, 25), Time::ZERO, Time::ZERO, tb(1, 25)).unwrap();
        assert_eq!(on_tick.target, 12);
        let negative =
            Request::from_times(Time::new(-1, 100), Time::ZERO, Time::ZERO, tb(1, 25)).unwrap();
        assert_eq!(negative.target, -1);
    }

    #[test]
    fn windows_are_floored_and_infinite_sides_unbounded() {
        let r = Request::from_times(
            Time::new(1, 1),
            Time::new(1, 10),
            Time::new(3, 100),
            tb(1, 25),
        )
        .unwrap();
        // [0.9, 1.03] s in 1/25 s ticks is [22.5, 25.75] → [22, 25].
        assert_eq!(
            (r.window.lo, r.window.hi, r.target),
            (Some(22), Some(25), 25)
        );
        let open = Request::from_times(
            Time::new(1, 1),
            Time::POSITIVE_INFINITY,
            Time::POSITIVE_INFINITY,
            tb(1, 25),
        )
        .unwrap();
        assert_eq!((open.window.lo, open.window.hi), (None, None));
    }

    #[test]
    fn non_numeric_times_are_invalid() {
        for t in [
            Time::INVALID,
            Time::INDEFINITE,
            Time::POSITIVE_INFINITY,
            Time::NEGATIVE_INFINITY,
            Time::from_seconds(f64::NAN, 600),
        ] {
            assert!(matches!(
                Request::from_times(t, Time::ZERO, Time::ZERO, tb(1, 25)),
                Err(Error::InvalidTime(_))
            ));
        }
    }

    /// Issue 12: tolerances and times past what a stream's ticks can count
    /// open the window on that side instead of failing, whatever the
    /// timescales.
    #[test]
    fn r12_huge_tolerances_open_the_window() {
        let one = Time::new(1, 1);
        for tb in [
            tb(1, 25),
            tb(1, 90_000),
            tb(1001, 30_000),
            tb(1, 1_000_000_000),
        ] {
            // 10^15 s and i64::MAX s: as wide as infinite, never an error.
            for huge in [
                Time::new(1_000_000_000_000_000, 1),
                Time::new(i64::MAX, 1),
                Time::new(i64::MAX, 7),
            ] {
                let r = Request::from_times(one, huge, huge, tb).unwrap();
                let frames = 1i64 << 40;
                assert!(
                    r.window.lo.is_none_or(|lo| lo <= -frames),
                    "{tb:?} {huge}: {r:?}"
                );
                assert!(
                    r.window.hi.is_none_or(|hi| hi >= frames),
                    "{tb:?} {huge}: {r:?}"
                );
            }
            // A time past every tick count asks for the end, on every
            // timescale alike.
            for far in [Time::new(i64::MAX, 1), Time::new(i64::MAX / 3, 3)] {
                let r =
                    Request::from_times(far, Time::POSITIVE_INFINITY, Time::POSITIVE_INFINITY, tb)
                        .unwrap();
                assert_eq!((r.window.lo, r.window.hi), (None, None));
                assert!(r.target > 1 << 40, "{tb:?}: {r:?}");
            }
        }
    }

    proptest::proptest! {
        /// The same instant on two timescales is the same request.
        #[test]
        fn requests_do_not_depend_on_the_timescale(
            value in -1_000_000_000_000i64..1_000_000_000_000,
            scale in 1i32..100_000,
            k in 1i32..1000,
            before in 0i64..1_000_000_000,
            after in 0i64..1_000_000_000,
            den in 1i64..1_000_000,
        ) {
            let tb = tb(1, den);
            let (tol_b, tol_a) = (Time::new(before, 1000), Time::new(after, 1000));
            let a = Request::from_times(Time::new(value, scale), tol_b, tol_a, tb).unwrap();
            if let (Some(v), Some(s)) = (value.checked_mul(i64::from(k)), scale.checked_mul(k)) {
                let b = Request::from_times(Time::new(v, s), tol_b, tol_a, tb).unwrap();
                proptest::prop_assert_eq!(a, b);
            }
            proptest::prop_assert!(a.window.lo.is_none_or(|lo| lo <= a.target));
            proptest::prop_assert!(a.window.hi.is_none_or(|hi| hi >= a.target));
        }
    }
}
