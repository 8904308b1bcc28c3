//! Media time with the semantics of Apple's `CMTime`.
//!
//! A [`Time`] is an exact rational number of seconds, `value / timescale`,
//! with an `i64` value and a positive `i32` timescale, plus the non-numeric
//! states `CMTime` has: invalid, indefinite, and positive and negative
//! infinity. Requests arrive as text or seconds and frames carry stream
//! ticks; keeping all of them exact is what lets the planner pick *the*
//! frame displayed at a time instead of one a float rounding away.
//!
//! The rules follow the `CMTime.h` documentation: [`Time::from_seconds`] is
//! `CMTimeMakeWithSeconds`, [`Ord`] is `CMTimeCompare`, `+`/`-` are
//! `CMTimeAdd`/`CMTimeSubtract`, `* i32` is `CMTimeMultiply` and
//! [`Time::convert_scale`] is `CMTimeConvertScale`. `CMTime`'s epoch is left
//! out: every time here is on one timeline. Where Apple's documentation is
//! silent, the choice made is written on the item.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Add, AddAssign, Mul, Neg, Sub, SubAssign};
use std::str::FromStr;

use crate::ratio::Ratio;

/// The largest timescale, `kCMTimeMaxTimescale`.
const MAX_TIMESCALE: i32 = i32::MAX;

/// The most fraction digits the parser keeps: nanoseconds. More would need a
/// timescale beyond `i32`, so such input is refused rather than rounded.
const MAX_FRACTION_DIGITS: u32 = 9;

/// Which state a time is in. The variant order is `CMTimeCompare`'s order
/// between states, so deriving `Ord` gives the comparison between classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    NegativeInfinity,
    Numeric,
    Indefinite,
    PositiveInfinity,
    Invalid,
}

/// A point on (or a span of) a media timeline: `value / timescale` seconds,
/// or one of the non-numeric states of `CMTime`.
///
/// The fields stay private so a numeric time always has a positive
/// timescale. `CMTime`'s flags map onto the predicates: `kCMTimeFlags_Valid`
/// is [`is_valid`](Time::is_valid), the implied-value flags are
/// [`is_positive_infinity`](Time::is_positive_infinity),
/// [`is_negative_infinity`](Time::is_negative_infinity) and
/// [`is_indefinite`](Time::is_indefinite), and
/// `kCMTimeFlags_HasBeenRounded` is
/// [`has_been_rounded`](Time::has_been_rounded).
///
/// Equality and ordering are `CMTimeCompare`: numeric times compare by
/// exact value whatever their timescales (`1/2 == 300/600`) and ignore the
/// rounded flag; between states the order is
/// `-inf < numeric < indefinite < +inf < invalid`, each state equal to
/// itself. That is a total order, so times sort and key maps safely.
#[derive(Clone, Copy)]
pub struct Time {
    value: i64,
    timescale: i32,
    kind: Kind,
    /// Only ever set on numeric times, like `CMTIME_HAS_BEEN_ROUNDED`.
    rounded: bool,
}

/// How a value is rounded when it changes timescale: `CMTimeRoundingMethod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RoundingMethod {
    /// Round to nearest, halves away from zero (`kCMTimeRoundingMethod_Default`).
    #[default]
    RoundHalfAwayFromZero,
    /// Truncate.
    RoundTowardZero,
    /// Any fraction moves the value away from zero.
    RoundAwayFromZero,
    /// Toward zero when converting to a coarser scale, away from zero when
    /// converting to a finer one, and never round a negative time up to 0:
    /// the smallest negative value (`-1/new_timescale`) is returned instead.
    QuickTime,
    /// Ceiling.
    RoundTowardPositiveInfinity,
    /// Floor: the last tick at or before the time, which is what "the frame
    /// displayed at `t`" needs.
    RoundTowardNegativeInfinity,
}

impl Time {
    /// Zero seconds (`kCMTimeZero`).
    pub const ZERO: Time = Time::numeric(0, 1, false);
    /// Later than every numeric time (`kCMTimePositiveInfinity`); the default
    /// tolerances are this.
    pub const POSITIVE_INFINITY: Time = Time::special(Kind::PositiveInfinity);
    /// Earlier than every numeric time (`kCMTimeNegativeInfinity`).
    pub const NEGATIVE_INFINITY: Time = Time::special(Kind::NegativeInfinity);
    /// A valid but unknown time, such as the duration of a live stream
    /// (`kCMTimeIndefinite`).
    pub const INDEFINITE: Time = Time::special(Kind::Indefinite);
    /// Not a time at all (`kCMTimeInvalid`): the result of undefined
    /// arithmetic or of a bad timescale.
    pub const INVALID: Time = Time::special(Kind::Invalid);

    const fn numeric(value: i64, timescale: i32, rounded: bool) -> Time {
        Time {
            value,
            timescale,
            kind: Kind::Numeric,
            rounded,
        }
    }

    const fn special(kind: Kind) -> Time {
        Time {
            value: 0,
            timescale: 0,
            kind,
            rounded: false,
        }
    }

    /// `value / timescale` seconds (`CMTimeMake`); [`Time::INVALID`] when
    /// the timescale is not positive, since no such time exists.
    pub const fn new(value: i64, timescale: i32) -> Time {
        if timescale > 0 {
            Time::numeric(value, timescale, false)
        } else {
            Time::INVALID
        }
    }

    /// The time closest to `seconds` in `preferred_timescale`
    /// (`CMTimeMakeWithSeconds`).
    ///
    /// The product is rounded half away from zero from the exact value of
    /// the `f64`, not from a floating-point product. When the value does
    /// not fit an `i64`, the timescale is halved until it does; if it still
    /// does not at timescale 1 the result is an infinity of the same sign.
    /// NaN gives [`Time::INVALID`], the infinities give the infinities, and
    /// a timescale that is not positive gives [`Time::INVALID`].
    ///
    /// As in Core Media, the result is flagged as rounded when converting it
    /// back with [`Time::seconds`] does not give `seconds` again. So
    /// `from_seconds(0.1, 10)` is an exact `1/10`: the `f64` was the
    /// caller's spelling of a tenth, not a claim about its 55th binary digit.
    /// A result exactly equal to `seconds` is never flagged, even when it is
    /// too large for that conversion back to be exact.
    pub fn from_seconds(seconds: f64, preferred_timescale: i32) -> Time {
        if preferred_timescale <= 0 || seconds.is_nan() {
            return Time::INVALID;
        }
        if seconds.is_infinite() {
            return if seconds > 0.0 {
                Time::POSITIVE_INFINITY
            } else {
                Time::NEGATIVE_INFINITY
            };
        }
        let infinity = if seconds < 0.0 {
            Time::NEGATIVE_INFINITY
        } else {
            Time::POSITIVE_INFINITY
        };
        // seconds = ±mantissa · 2^exponent exactly.
        let bits = seconds.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let fraction = bits & ((1 << 52) - 1);
        let (mantissa, exponent) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1 << 52), biased - 1075)
        };
        let sign: i128 = if seconds < 0.0 { -1 } else { 1 };
        let time = if exponent >= 0 {
            // A normal mantissa is at least 2^52, so from 2^12 on the whole
            // seconds alone exceed i64 even at timescale 1.
            if exponent > 11 {
                return infinity;
            }
            scale_exact(
                sign * (i128::from(mantissa) << exponent),
                1,
                preferred_timescale,
            )
        } else if -exponent > 100 {
            // mantissa · timescale < 2^84, so divided by more than 2^100 it
            // rounds to zero at any timescale (±0.0 lands here too).
            Time::numeric(0, preferred_timescale, mantissa != 0)
        } else {
            scale_exact(
                sign * i128::from(mantissa),
                1 << -exponent,
                preferred_timescale,
            )
        };
        match time.kind {
            Kind::Numeric => Time {
                rounded: time.rounded && time.seconds() != seconds,
                ..time
            },
            _ => time,
        }
    }

    /// The time of `ticks` units of a stream time base (seconds per tick).
    ///
    /// Exact: the value is `ticks · num` over the timescale `den`, so the
    /// stream's own timescale is kept (`from_stream_ticks(3003, 1/30000)`
    /// is `3003/30000`). When that does not fit an `i64` value and an `i32`
    /// timescale, the fraction is reduced; `None` when it still does not
    /// fit, or when the time base is not positive. An `Option` rather than
    /// a rounded time because a presentation time that silently moved would
    /// name the wrong frame.
    pub fn from_stream_ticks(ticks: i64, time_base: Ratio) -> Option<Time> {
        let (num, den) = positive_ratio(time_base)?;
        let value = i128::from(ticks) * num;
        let (value, den) = if i64::try_from(value).is_ok() && den <= i128::from(MAX_TIMESCALE) {
            (value, den)
        } else {
            let g = gcd(value.unsigned_abs(), den.unsigned_abs()) as i128;
            (value / g, den / g)
        };
        Some(Time::numeric(
            i64::try_from(value).ok()?,
            i32::try_from(den).ok()?,
            false,
        ))
    }

    /// This time in ticks of a stream time base, rounded by `method`;
    /// `None` for a non-numeric time, a time base that is not positive, or
    /// a tick count beyond `i64`.
    ///
    /// The division is exact (`i128`), so
    /// [`RoundingMethod::RoundTowardNegativeInfinity`] gives the last tick
    /// at or before the time even when the time base is `1001/30000`.
    /// [`RoundingMethod::QuickTime`] counts the tick rate (`den / num`
    /// ticks per second) as the new scale.
    pub fn to_stream_ticks(self, time_base: Ratio, method: RoundingMethod) -> Option<i64> {
        if self.kind != Kind::Numeric {
            return None;
        }
        let (num, den) = positive_ratio(time_base)?;
        let numerator = i128::from(self.value) * den;
        let denominator = i128::from(self.timescale) * num;
        let (ticks, _) = div_round(numerator, denominator, method, den > denominator);
        i64::try_from(ticks).ok()
    }

    /// This time in `new_timescale` units (`CMTimeConvertScale`), flagged
    /// as rounded when the value had to be rounded (or already had been).
    ///
    /// A timescale that is not positive gives [`Time::INVALID`]; a
    /// non-numeric time is returned unchanged. Apple does not document
    /// overflow here; since the caller asked for this timescale, halving it
    /// as the arithmetic does would be wrong, so a value beyond `i64`
    /// becomes the infinity of its sign.
    pub fn convert_scale(self, new_timescale: i32, method: RoundingMethod) -> Time {
        if new_timescale <= 0 {
            return Time::INVALID;
        }
        if self.kind != Kind::Numeric {
            return self;
        }
        let (value, inexact) = div_round(
            i128::from(self.value) * i128::from(new_timescale),
            i128::from(self.timescale),
            method,
            new_timescale > self.timescale,
        );
        match i64::try_from(value) {
            Ok(value) => Time::numeric(value, new_timescale, self.rounded || inexact),
            Err(_) if value > 0 => Time::POSITIVE_INFINITY,
            Err(_) => Time::NEGATIVE_INFINITY,
        }
    }

    /// Seconds as `f64` (`CMTimeGetSeconds`): NaN for invalid and
    /// indefinite times, `±∞` for the infinities. For display and
    /// statistics only; every decision uses the exact value.
    pub fn seconds(self) -> f64 {
        match self.kind {
            Kind::Numeric => self.value as f64 / f64::from(self.timescale),
            Kind::PositiveInfinity => f64::INFINITY,
            Kind::NegativeInfinity => f64::NEG_INFINITY,
            Kind::Indefinite | Kind::Invalid => f64::NAN,
        }
    }

    /// The numerator; 0 for a non-numeric time.
    pub const fn value(self) -> i64 {
        self.value
    }

    /// The denominator, positive for a numeric time; 0 for a non-numeric
    /// time.
    pub const fn timescale(self) -> i32 {
        self.timescale
    }

    /// Anything but [`Time::INVALID`] (`CMTIME_IS_VALID`): the infinities
    /// and indefinite are valid.
    pub const fn is_valid(self) -> bool {
        !self.is_invalid()
    }

    /// `CMTIME_IS_INVALID`.
    pub const fn is_invalid(self) -> bool {
        matches!(self.kind, Kind::Invalid)
    }

    /// A usable value and timescale (`CMTIME_IS_NUMERIC`): valid, finite
    /// and not indefinite.
    pub const fn is_numeric(self) -> bool {
        matches!(self.kind, Kind::Numeric)
    }

    /// `CMTIME_IS_INDEFINITE`.
    pub const fn is_indefinite(self) -> bool {
        matches!(self.kind, Kind::Indefinite)
    }

    /// `CMTIME_IS_POSITIVE_INFINITY`.
    pub const fn is_positive_infinity(self) -> bool {
        matches!(self.kind, Kind::PositiveInfinity)
    }

    /// `CMTIME_IS_NEGATIVE_INFINITY`.
    pub const fn is_negative_infinity(self) -> bool {
        matches!(self.kind, Kind::NegativeInfinity)
    }

    /// Either infinity.
    pub const fn is_infinite(self) -> bool {
        matches!(self.kind, Kind::PositiveInfinity | Kind::NegativeInfinity)
    }

    /// A numeric time that is not exactly what was asked for because some
    /// conversion or arithmetic on the way rounded it
    /// (`CMTIME_HAS_BEEN_ROUNDED`). Results report it so a caller can tell
    /// an exact answer from a near one.
    pub const fn has_been_rounded(self) -> bool {
        self.rounded
    }

    /// `CMTimeAdd` when `sign` is 1, `CMTimeSubtract` when it is -1.
    fn add_signed(self, other: Time, sign: i128) -> Time {
        use Kind::*;
        let other_kind = match (other.kind, sign < 0) {
            (PositiveInfinity, true) => NegativeInfinity,
            (NegativeInfinity, true) => PositiveInfinity,
            (kind, _) => kind,
        };
        match (self.kind, other_kind) {
            (Invalid, _) | (_, Invalid) => Time::INVALID,
            (PositiveInfinity, NegativeInfinity) | (NegativeInfinity, PositiveInfinity) => {
                Time::INVALID
            }
            (kind @ (PositiveInfinity | NegativeInfinity), _)
            | (_, kind @ (PositiveInfinity | NegativeInfinity)) => Time::special(kind),
            (Indefinite, _) | (_, Indefinite) => Time::INDEFINITE,
            (Numeric, Numeric) => {
                let (a, b) = (i64::from(self.timescale), i64::from(other.timescale));
                // Both below 2^31, so the LCM is below 2^62 and every
                // product here stays far inside i128.
                let lcm = a / gcd(a.unsigned_abs().into(), b.unsigned_abs().into()) as i64 * b;
                let sum = i128::from(self.value) * i128::from(lcm / a)
                    + sign * i128::from(other.value) * i128::from(lcm / b);
                let start = i32::try_from(lcm).unwrap_or(MAX_TIMESCALE);
                let time = scale_exact(sum, i128::from(lcm), start);
                Time {
                    rounded: time.rounded || self.rounded || other.rounded,
                    ..time
                }
            }
        }
    }
}

/// Times on a regular grid, `start + k·step` for `k = 0, 1, …` while before
/// `end`: the dense request forms (one a second, every 1/30 s) without a
/// list of times. Each time is `start + step × k` by `Time`'s own
/// arithmetic, taken at once rather than by repeated addition, so no
/// rounding accumulates along a long grid (it is exact whenever the two
/// timescales' least common multiple fits a timescale). Made by
/// [`Time::grid`].
#[derive(Debug, Clone)]
pub struct TimeGrid {
    start: Time,
    step: Time,
    next: i32,
    len: i32,
}

impl Time {
    /// The grid of times from `start` every `step` before `end` (`start`
    /// itself included when it is before `end`); `None` unless all three
    /// are numeric and `step` is positive, or when the grid would hold more
    /// than `i32::MAX` times.
    pub fn grid(start: Time, end: Time, step: Time) -> Option<TimeGrid> {
        if !(start.is_numeric() && end.is_numeric() && step.is_numeric()) || step <= Time::ZERO {
            return None;
        }
        let (a, sa) = (i128::from(start.value), i128::from(start.timescale));
        let (b, sb) = (i128::from(end.value), i128::from(end.timescale));
        let (c, sc) = (i128::from(step.value), i128::from(step.timescale));
        // k·c/sc < b/sb − a/sa ⇔ k < (b·sa − a·sb)·sc / (sa·sb·c): every
        // product below 2^126.
        let span = (b * sa - a * sb) * sc;
        let unit = sa * sb * c;
        let len = if span <= 0 {
            0
        } else {
            i32::try_from((span + unit - 1) / unit).ok()?
        };
        Some(TimeGrid {
            start,
            step,
            next: 0,
            len,
        })
    }
}

impl Iterator for TimeGrid {
    type Item = Time;

    fn next(&mut self) -> Option<Time> {
        (self.next < self.len).then(|| {
            self.next += 1;
            self.start + self.step * (self.next - 1)
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.len - self.next) as usize;
        (left, Some(left))
    }
}

impl ExactSizeIterator for TimeGrid {}

/// `num / den` seconds (`den > 0`, `|num| < 2^95`) in `timescale` units,
/// rounded half away from zero; while the value overflows `i64` the
/// timescale is halved, and past timescale 1 the result is an infinity.
/// This is the overflow rule `CMTimeAdd`, `CMTimeMultiply` and
/// `CMTimeMakeWithSeconds` document.
fn scale_exact(num: i128, den: i128, mut timescale: i32) -> Time {
    loop {
        let (value, inexact) = div_round(
            num * i128::from(timescale),
            den,
            RoundingMethod::RoundHalfAwayFromZero,
            false,
        );
        if let Ok(value) = i64::try_from(value) {
            return Time::numeric(value, timescale, inexact);
        }
        if timescale == 1 {
            return if num > 0 {
                Time::POSITIVE_INFINITY
            } else {
                Time::NEGATIVE_INFINITY
            };
        }
        timescale /= 2;
    }
}

/// `n / d` for `d > 0`, rounded by `method`, and whether it had to be
/// rounded. `to_finer` says the target scale is finer than the source,
/// which only [`RoundingMethod::QuickTime`] looks at.
fn div_round(n: i128, d: i128, method: RoundingMethod, to_finer: bool) -> (i128, bool) {
    let (quotient, remainder) = (n / d, n % d);
    if remainder == 0 {
        return (quotient, false);
    }
    let away = quotient + n.signum();
    let rounded = match method {
        RoundingMethod::RoundHalfAwayFromZero => {
            // |remainder| ≥ d/2, written so that nothing can overflow.
            if remainder.abs() >= d - remainder.abs() {
                away
            } else {
                quotient
            }
        }
        RoundingMethod::RoundTowardZero => quotient,
        RoundingMethod::RoundAwayFromZero => away,
        RoundingMethod::RoundTowardPositiveInfinity if n > 0 => away,
        RoundingMethod::RoundTowardNegativeInfinity if n < 0 => away,
        RoundingMethod::RoundTowardPositiveInfinity
        | RoundingMethod::RoundTowardNegativeInfinity => quotient,
        RoundingMethod::QuickTime => match (to_finer, quotient) {
            (true, _) => away,
            (false, 0) if n < 0 => -1,
            (false, _) => quotient,
        },
    };
    (rounded, true)
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A time base as a reduced `(num, den)`, both positive; `None` otherwise,
/// since a tick that lasts no time or negative time orders nothing.
/// `Ratio`'s fields are public, so it may arrive unreduced.
fn positive_ratio(ratio: Ratio) -> Option<(i128, i128)> {
    if ratio.num <= 0 || ratio.den <= 0 {
        return None;
    }
    let (num, den) = (i128::from(ratio.num), i128::from(ratio.den));
    let g = gcd(num.unsigned_abs(), den.unsigned_abs()) as i128;
    Some((num / g, den / g))
}

impl PartialEq for Time {
    fn eq(&self, other: &Time) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Time {}

impl PartialOrd for Time {
    fn partial_cmp(&self, other: &Time) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Time {
    /// `CMTimeCompare`: numeric times by exact value (cross-multiplied in
    /// `i128`), otherwise `-inf < numeric < indefinite < +inf < invalid`.
    fn cmp(&self, other: &Time) -> Ordering {
        match (self.kind, other.kind) {
            (Kind::Numeric, Kind::Numeric) => {
                let left = i128::from(self.value) * i128::from(other.timescale);
                let right = i128::from(other.value) * i128::from(self.timescale);
                left.cmp(&right)
            }
            (a, b) => a.cmp(&b),
        }
    }
}

impl Hash for Time {
    /// Hashes the reduced fraction, so equal times with different
    /// timescales hash alike, as `Eq` requires.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
        if self.kind == Kind::Numeric {
            let g = gcd(
                u128::from(self.value.unsigned_abs()),
                self.timescale.unsigned_abs().into(),
            ) as i64;
            (self.value / g).hash(state);
            (i64::from(self.timescale) / g).hash(state);
        }
    }
}

impl Add for Time {
    type Output = Time;

    /// `CMTimeAdd`: the result has the operands' timescale, or their least
    /// common multiple when they differ; if that exceeds `i32::MAX` the
    /// timescale is `i32::MAX` and the value is rounded. A value beyond
    /// `i64` halves the timescale until it fits, and becomes an infinity if
    /// it does not fit at timescale 1. Invalid in gives invalid out;
    /// `+inf + -inf` is invalid; an infinity absorbs anything else; an
    /// indefinite operand with a numeric one gives indefinite.
    fn add(self, other: Time) -> Time {
        self.add_signed(other, 1)
    }
}

impl Sub for Time {
    type Output = Time;

    /// `CMTimeSubtract`: the rules of `+`, with `+inf - +inf` and
    /// `-inf - -inf` invalid, `+inf - -inf = +inf` and a numeric minus an
    /// infinity the opposite infinity.
    fn sub(self, other: Time) -> Time {
        self.add_signed(other, -1)
    }
}

impl AddAssign for Time {
    fn add_assign(&mut self, other: Time) {
        *self = *self + other;
    }
}

impl SubAssign for Time {
    fn sub_assign(&mut self, other: Time) {
        *self = *self - other;
    }
}

impl Mul<i32> for Time {
    type Output = Time;

    /// `CMTimeMultiply`: same timescale, halved while the value overflows,
    /// an infinity past timescale 1. An infinity takes the product's sign;
    /// an infinity times zero, which Apple leaves undefined, is invalid as
    /// in IEEE arithmetic.
    fn mul(self, multiplier: i32) -> Time {
        match self.kind {
            Kind::Numeric => {
                let time = scale_exact(
                    i128::from(self.value) * i128::from(multiplier),
                    i128::from(self.timescale),
                    self.timescale,
                );
                Time {
                    rounded: time.rounded || self.rounded,
                    ..time
                }
            }
            Kind::PositiveInfinity | Kind::NegativeInfinity => match multiplier.signum() {
                0 => Time::INVALID,
                1 => self,
                _ => -self,
            },
            Kind::Indefinite | Kind::Invalid => self,
        }
    }
}

impl Neg for Time {
    type Output = Time;

    /// Swaps the infinities and leaves indefinite and invalid alone.
    /// `-(i64::MIN / t)` does not fit; like `CMTimeMultiply` by -1 it then
    /// halves the timescale.
    fn neg(self) -> Time {
        match self.kind {
            Kind::PositiveInfinity => Time::NEGATIVE_INFINITY,
            Kind::NegativeInfinity => Time::POSITIVE_INFINITY,
            Kind::Numeric => self * -1,
            Kind::Indefinite | Kind::Invalid => self,
        }
    }
}

impl fmt::Display for Time {
    /// Decimal seconds with no unit, as `12.5`, `-0.25` or `3`: rounded
    /// half away from zero to the formatter's precision if it has one
    /// (`{:.3}` prints exactly three digits), else to nanoseconds with
    /// trailing zeros dropped. Every time that is a whole number of
    /// nanoseconds, which includes everything the parser accepts, prints
    /// exactly and parses back to an equal time; other times (`1/3`,
    /// `1001/30000`) print the nearest nanosecond and do not round-trip.
    /// Width, fill and `+` apply as for integers. Non-numeric times print
    /// `inf`, `-inf`, `indefinite` and `invalid`, which the parser refuses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Numeric => {}
            Kind::PositiveInfinity => return f.pad_integral(true, "", "inf"),
            Kind::NegativeInfinity => return f.pad_integral(false, "", "inf"),
            Kind::Indefinite => return f.pad_integral(true, "", "indefinite"),
            Kind::Invalid => return f.pad_integral(true, "", "invalid"),
        }
        let (digits, trim) = match f.precision() {
            Some(precision) => (precision, false),
            None => (MAX_FRACTION_DIGITS as usize, true),
        };
        let scale = u128::from(self.timescale.unsigned_abs());
        let magnitude = u128::from(self.value.unsigned_abs());
        let mut whole = magnitude / scale;
        let mut remainder = magnitude % scale;
        // Long division, so any precision is exact.
        let mut fraction: Vec<u8> = Vec::with_capacity(digits);
        for _ in 0..digits {
            remainder *= 10;
            fraction.push((remainder / scale) as u8);
            remainder %= scale;
        }
        if remainder >= scale - remainder {
            let carry = fraction.iter_mut().rev().all(|digit| {
                *digit = (*digit + 1) % 10;
                *digit == 0
            });
            if carry {
                whole += 1;
            }
        }
        if trim {
            while fraction.last() == Some(&0) {
                fraction.pop();
            }
        }
        let is_zero = whole == 0 && fraction.iter().all(|&digit| digit == 0);
        let mut text = whole.to_string();
        if !fraction.is_empty() {
            text.push('.');
            text.extend(fraction.iter().map(|&digit| char::from(b'0' + digit)));
        }
        // "-0" would claim a sign the rounded value does not have.
        f.pad_integral(self.value >= 0 || is_zero, "", &text)
    }
}

impl fmt::Debug for Time {
    /// The exact fraction, as `Time(125/10)`, `Time(1/3, rounded)`,
    /// `Time(+inf)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Numeric if self.rounded => {
                write!(f, "Time({}/{}, rounded)", self.value, self.timescale)
            }
            Kind::Numeric => write!(f, "Time({}/{})", self.value, self.timescale),
            Kind::PositiveInfinity => f.write_str("Time(+inf)"),
            Kind::NegativeInfinity => f.write_str("Time(-inf)"),
            Kind::Indefinite => f.write_str("Time(indefinite)"),
            Kind::Invalid => f.write_str("Time(invalid)"),
        }
    }
}

/// Why a string is not a time: the input, quoted, and what is wrong with
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseTimeError {
    input: String,
    kind: ParseTimeErrorKind,
}

/// What is wrong with a time string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseTimeErrorKind {
    /// The string is empty.
    Empty,
    /// The string is not in one of the accepted forms (this includes
    /// `NaN`, `inf`, exponents, spaces and units other than `s` and `ms`).
    Malformed,
    /// A minutes or seconds field of a clock time is 60 or more.
    FieldOutOfRange {
        /// `"minutes"` or `"seconds"`.
        field: &'static str,
        value: u32,
    },
    /// More than nine significant fraction digits: finer than a nanosecond,
    /// which would not be kept exactly.
    TooPrecise,
    /// The time does not fit a [`Time`] (about ±292 years at nanosecond
    /// precision, more at coarser precision).
    OutOfRange,
}

impl ParseTimeError {
    /// The text that failed to parse.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// What is wrong with it.
    pub fn kind(&self) -> ParseTimeErrorKind {
        self.kind
    }
}

impl fmt::Display for ParseTimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid time {:?}: ", self.input)?;
        match self.kind {
            ParseTimeErrorKind::Empty => f.write_str("empty string"),
            ParseTimeErrorKind::Malformed => f.write_str(
                "expected seconds (\"12.5\", \"12.5s\", \"250ms\") \
                 or a clock time (\"1:02.5\", \"00:01:02.500\")",
            ),
            ParseTimeErrorKind::FieldOutOfRange { field, value } => {
                write!(f, "{field} must be below 60, got {value}")
            }
            ParseTimeErrorKind::TooPrecise => write!(
                f,
                "more than {MAX_FRACTION_DIGITS} fraction digits (finer than a nanosecond)"
            ),
            ParseTimeErrorKind::OutOfRange => f.write_str("out of range"),
        }
    }
}

impl std::error::Error for ParseTimeError {}

impl FromStr for Time {
    type Err = ParseTimeError;

    /// Parses decimal seconds with an optional unit (`12`, `12.5`, `.5`,
    /// `12.5s`, `250ms`) or a clock time (`1:02.5` is minutes:seconds,
    /// `00:01:02.500` hours:minutes:seconds), with an optional leading `-`
    /// or `+` (negative times parse; whoever uses them decides whether they
    /// make sense).
    ///
    /// Exact, with no `f64` on the way: the timescale is 10 to the number
    /// of decimals of a second (`12.345` is `12345/1000`, `250ms` is
    /// `250/1000`, `1.5ms` is `15/10000`). Past nine decimals trailing zeros
    /// are dropped, and anything finer than a nanosecond is refused as
    /// [`ParseTimeErrorKind::TooPrecise`] rather than rounded. A point must
    /// be followed by a digit (`.5` parses, `5.` does not). In a clock time
    /// the first field is unbounded (`90:00` is 90 minutes), the later ones
    /// have one or two digits and are below 60, and no unit is allowed.
    /// Surrounding whitespace is not skipped: trim before parsing.
    fn from_str(input: &str) -> Result<Time, ParseTimeError> {
        parse(input).map_err(|kind| ParseTimeError {
            input: input.to_owned(),
            kind,
        })
    }
}

fn parse(input: &str) -> Result<Time, ParseTimeErrorKind> {
    if input.is_empty() {
        return Err(ParseTimeErrorKind::Empty);
    }
    let (negative, body) = match input.as_bytes()[0] {
        b'-' => (true, &input[1..]),
        b'+' => (false, &input[1..]),
        _ => (false, input),
    };
    let clock = body.contains(':');
    // Units belong to the plain-seconds form only.
    let (number, unit_decimals) = match body.strip_suffix("ms") {
        _ if clock => (body, 0),
        Some(number) => (number, 3),
        None => (body.strip_suffix('s').unwrap_or(body), 0),
    };
    let (integer, fraction) = match number.split_once('.') {
        Some((_, "")) => return Err(ParseTimeErrorKind::Malformed),
        Some(parts) => parts,
        None => (number, ""),
    };
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseTimeErrorKind::Malformed);
    }
    let whole = if clock {
        parse_clock(integer)?
    } else if integer.is_empty() && !fraction.is_empty() {
        0
    } else {
        parse_digits(integer)?
    };
    // Zeros past the ninth digit say nothing; anything else there would
    // need a timescale beyond i32.
    let mut fraction = fraction;
    while fraction.len() + unit_decimals > MAX_FRACTION_DIGITS as usize && fraction.ends_with('0') {
        fraction = &fraction[..fraction.len() - 1];
    }
    let decimals = fraction.len() + unit_decimals;
    if decimals > MAX_FRACTION_DIGITS as usize {
        return Err(ParseTimeErrorKind::TooPrecise);
    }
    let fraction_value = if fraction.is_empty() {
        0
    } else {
        parse_digits(fraction)?
    };
    let magnitude = whole
        .checked_mul(10_u128.pow(fraction.len() as u32))
        .and_then(|scaled| scaled.checked_add(fraction_value))
        .and_then(|magnitude| i128::try_from(magnitude).ok())
        .ok_or(ParseTimeErrorKind::OutOfRange)?;
    let value = i64::try_from(if negative { -magnitude } else { magnitude })
        .map_err(|_| ParseTimeErrorKind::OutOfRange)?;
    Ok(Time::numeric(value, 10_i32.pow(decimals as u32), false))
}

/// The whole seconds of `h:m:s` or `m:s` (the fraction already split off).
fn parse_clock(text: &str) -> Result<u128, ParseTimeErrorKind> {
    let mut fields = text.split(':');
    let mut whole = parse_digits(fields.next().unwrap_or_default())?;
    let rest: Vec<&str> = fields.collect();
    if !(1..=2).contains(&rest.len()) {
        return Err(ParseTimeErrorKind::Malformed);
    }
    for (position, field) in rest.iter().enumerate() {
        if !(1..=2).contains(&field.len()) {
            return Err(ParseTimeErrorKind::Malformed);
        }
        let value = parse_digits(field)?;
        if value >= 60 {
            return Err(ParseTimeErrorKind::FieldOutOfRange {
                field: if position + 1 == rest.len() {
                    "seconds"
                } else {
                    "minutes"
                },
                value: value as u32,
            });
        }
        whole = whole
            .checked_mul(60)
            .and_then(|scaled| scaled.checked_add(value))
            .ok_or(ParseTimeErrorKind::OutOfRange)?;
    }
    Ok(whole)
}

/// One or more ASCII digits.
fn parse_digits(text: &str) -> Result<u128, ParseTimeErrorKind> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseTimeErrorKind::Malformed);
    }
    text.bytes().try_fold(0_u128, |acc, b| {
        acc.checked_mul(10)
            .and_then(|acc| acc.checked_add(u128::from(b - b'0')))
            .ok_or(ParseTimeErrorKind::OutOfRange)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::hash_map::DefaultHasher;

    fn t(value: i64, timescale: i32) -> Time {
        Time::new(value, timescale)
    }

    /// Value, timescale and rounded flag: the representation, which `==`
    /// deliberately ignores.
    fn parts(time: Time) -> (i64, i32, bool) {
        (time.value(), time.timescale(), time.has_been_rounded())
    }

    fn hash_of(time: Time) -> u64 {
        let mut hasher = DefaultHasher::new();
        time.hash(&mut hasher);
        hasher.finish()
    }

    fn ratio(num: i64, den: i64) -> Ratio {
        Ratio::new(num, den).expect("non-zero denominator")
    }

    const METHODS: [RoundingMethod; 6] = [
        RoundingMethod::RoundHalfAwayFromZero,
        RoundingMethod::RoundTowardZero,
        RoundingMethod::RoundAwayFromZero,
        RoundingMethod::QuickTime,
        RoundingMethod::RoundTowardPositiveInfinity,
        RoundingMethod::RoundTowardNegativeInfinity,
    ];

    #[test]
    fn grids_run_from_start_by_step_before_end() {
        let grid: Vec<Time> = Time::grid(t(1, 2), t(3, 1), t(1, 1)).unwrap().collect();
        assert_eq!(grid, [t(1, 2), t(3, 2), t(5, 2)]);
        // `end` itself is not on the grid: it is where the frames stop.
        let one_a_second: Vec<Time> = Time::grid(Time::ZERO, t(3, 1), t(1, 1)).unwrap().collect();
        assert_eq!(one_a_second, [t(0, 1), t(1, 1), t(2, 1)]);
        assert_eq!(Time::grid(t(2, 1), t(2, 1), t(1, 1)).unwrap().len(), 0);
        assert_eq!(Time::grid(t(5, 1), t(2, 1), t(1, 1)).unwrap().len(), 0);
        assert_eq!(Time::grid(t(-1, 1), t(1, 1), t(1, 2)).unwrap().len(), 4);
    }

    #[test]
    fn long_grids_do_not_drift() {
        // 1001/30000 s a frame for an hour, from an offset in another
        // timescale: the last time is exactly start + step × (n − 1).
        let (start, step) = (t(7, 90_000), t(1001, 30_000));
        let grid = Time::grid(start, t(3600, 1), step).unwrap();
        let n = grid.len();
        assert_eq!(n, 107_893);
        let last = grid.last().unwrap();
        assert_eq!(last, start + step * (n as i32 - 1));
        assert!(!last.has_been_rounded());
        assert!(last < t(3600, 1) && last + step >= t(3600, 1));
    }

    #[test]
    fn grids_need_numeric_bounds_and_a_positive_step() {
        for step in [Time::ZERO, t(-1, 1), Time::INVALID, Time::POSITIVE_INFINITY] {
            assert!(Time::grid(Time::ZERO, t(1, 1), step).is_none(), "{step:?}");
        }
        for bound in [Time::INVALID, Time::INDEFINITE, Time::NEGATIVE_INFINITY] {
            assert!(Time::grid(bound, t(1, 1), t(1, 1)).is_none());
            assert!(Time::grid(Time::ZERO, bound, t(1, 1)).is_none());
        }
        // More than i32::MAX times is refused rather than truncated.
        assert!(Time::grid(Time::ZERO, t(i64::MAX, 1), t(1, 1)).is_none());
    }

    #[test]
    fn order_is_cmtimecompare() {
        let ascending = [
            Time::NEGATIVE_INFINITY,
            t(i64::MIN, 1),
            t(-1, 2),
            Time::ZERO,
            t(1, i32::MAX),
            t(1, 2),
            t(i64::MAX, 1),
            Time::INDEFINITE,
            Time::POSITIVE_INFINITY,
            Time::INVALID,
        ];
        for (i, a) in ascending.iter().enumerate() {
            for (j, b) in ascending.iter().enumerate() {
                assert_eq!(a.cmp(b), i.cmp(&j), "{a:?} vs {b:?}");
                assert_eq!(a == b, i == j, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn equal_values_in_different_timescales_are_equal_and_hash_alike() {
        let pairs = [
            (t(1, 2), t(300, 600)),
            (t(0, 1), t(0, 90000)),
            (t(-1, 3), t(-2, 6)),
            (t(i64::MIN, 2), t(i64::MIN / 2, 1)),
            (Time::from_seconds(0.123456789, 1000), t(123, 1000)),
        ];
        for (a, b) in pairs {
            assert_eq!(a, b);
            assert_eq!(a.cmp(&b), Ordering::Equal);
            assert_eq!(hash_of(a), hash_of(b), "{a:?} vs {b:?}");
        }
        assert_ne!(t(1, 3), t(333, 1000));
        assert!(t(1, 3) > t(333, 1000));
        assert!(t(1, 3) < t(334, 1000));
    }

    #[test]
    fn predicates_and_constants() {
        let table = [
            // valid, numeric, indefinite, +inf, -inf, seconds
            (Time::ZERO, [true, true, false, false, false]),
            (Time::INVALID, [false, false, false, false, false]),
            (Time::INDEFINITE, [true, false, true, false, false]),
            (Time::POSITIVE_INFINITY, [true, false, false, true, false]),
            (Time::NEGATIVE_INFINITY, [true, false, false, false, true]),
        ];
        for (time, expected) in table {
            let got = [
                time.is_valid(),
                time.is_numeric(),
                time.is_indefinite(),
                time.is_positive_infinity(),
                time.is_negative_infinity(),
            ];
            assert_eq!(got, expected, "{time:?}");
            assert_eq!(time.is_invalid(), !expected[0]);
            assert_eq!(time.is_infinite(), expected[3] || expected[4]);
            assert!(!time.has_been_rounded());
        }
        assert_eq!(parts(Time::ZERO), (0, 1, false));
        assert_eq!(Time::ZERO.seconds(), 0.0);
        assert_eq!(t(1, 4).seconds(), 0.25);
        assert_eq!(t(-3, 2).seconds(), -1.5);
        assert!(Time::INVALID.seconds().is_nan());
        assert!(Time::INDEFINITE.seconds().is_nan());
        assert_eq!(Time::POSITIVE_INFINITY.seconds(), f64::INFINITY);
        assert_eq!(Time::NEGATIVE_INFINITY.seconds(), f64::NEG_INFINITY);
    }

    #[test]
    fn new_refuses_non_positive_timescales() {
        assert!(t(5, 0).is_invalid());
        assert!(t(5, -1).is_invalid());
        assert!(t(5, i32::MIN).is_invalid());
        assert_eq!(parts(t(-7, 3)), (-7, 3, false));
    }

    #[test]
    fn from_seconds_follows_cmtimemakewithseconds() {
        assert_eq!(parts(Time::from_seconds(0.5, 600)), (300, 600, false));
        assert_eq!(parts(Time::from_seconds(0.1, 10)), (1, 10, false));
        assert_eq!(
            parts(Time::from_seconds(0.123456789, 1000)),
            (123, 1000, true)
        );
        assert_eq!(parts(Time::from_seconds(2.5, 1)), (3, 1, true));
        assert_eq!(parts(Time::from_seconds(-2.5, 1)), (-3, 1, true));
        assert_eq!(parts(Time::from_seconds(-2.4, 1)), (-2, 1, true));
        assert_eq!(parts(Time::from_seconds(-0.0, 7)), (0, 7, false));
        assert_eq!(parts(Time::from_seconds(5e-324, 600)), (0, 600, true));
        assert_eq!(parts(Time::from_seconds(-1e-300, 600)), (0, 600, true));
        // 1e17 s at 600 overflows; halving 600 → 300 → 150 → 75 fits.
        assert_eq!(
            parts(Time::from_seconds(1e17, 600)),
            (7_500_000_000_000_000_000, 75, false)
        );
        // Exact, though too large for the value to convert back to the same
        // f64: not rounded.
        assert_eq!(
            parts(Time::from_seconds(110_411_214.0, 1_305_346_072)),
            (144_124_844_499_651_408, 1_305_346_072, false)
        );
        assert_eq!(
            parts(Time::from_seconds(-9_223_372_036_854_775_808.0, 1)),
            (i64::MIN, 1, false)
        );
        assert!(Time::from_seconds(9_223_372_036_854_775_808.0, 1).is_positive_infinity());
        assert!(Time::from_seconds(1e19, 1).is_positive_infinity());
        assert!(Time::from_seconds(-1e19, 1000).is_negative_infinity());
        assert!(Time::from_seconds(1e300, 1000).is_positive_infinity());
        assert!(Time::from_seconds(f64::NAN, 600).is_invalid());
        assert!(Time::from_seconds(f64::INFINITY, 600).is_positive_infinity());
        assert!(Time::from_seconds(f64::NEG_INFINITY, 600).is_negative_infinity());
        assert!(Time::from_seconds(1.0, 0).is_invalid());
        assert!(Time::from_seconds(1.0, -600).is_invalid());
    }

    #[test]
    fn from_stream_ticks_is_exact() {
        let ntsc = ratio(1001, 30000);
        assert_eq!(
            parts(Time::from_stream_ticks(3, ntsc).unwrap()),
            (3003, 30000, false)
        );
        assert_eq!(
            parts(Time::from_stream_ticks(900_000, ratio(1, 90000)).unwrap()),
            (900_000, 90000, false)
        );
        // An unreduced time base is reduced, not refused.
        let unreduced = Ratio {
            num: 2,
            den: 180_000,
        };
        assert_eq!(
            parts(Time::from_stream_ticks(5, unreduced).unwrap()),
            (5, 90000, false)
        );
        // A denominator beyond i32 works when the time reduces.
        let fine = ratio(1, 1 << 32);
        assert_eq!(
            parts(Time::from_stream_ticks(1 << 10, fine).unwrap()),
            (1, 1 << 22, false)
        );
        assert_eq!(Time::from_stream_ticks(3, fine), None);
        assert_eq!(Time::from_stream_ticks(i64::MAX, ntsc), None);
        assert_eq!(Time::from_stream_ticks(1, Ratio { num: 0, den: 1 }), None);
        assert_eq!(Time::from_stream_ticks(1, Ratio { num: -1, den: 25 }), None);
        assert_eq!(Time::from_stream_ticks(1, Ratio { num: 1, den: 0 }), None);
        assert_eq!(Time::from_stream_ticks(1, Ratio { num: 1, den: -25 }), None);
    }

    #[test]
    fn to_stream_ticks_rounds_as_asked() {
        let ntsc = ratio(1001, 30000);
        for method in METHODS {
            assert_eq!(t(1001, 1000).to_stream_ticks(ntsc, method), Some(30));
        }
        // 1 s is 29.97 ticks. From timescale 1000 the tick rate (29.97/s) is
        // coarser, so QuickTime truncates; from timescale 1 it is finer, so
        // QuickTime rounds away from zero.
        let positive = [30, 29, 30, 29, 30, 29];
        let negative = [-30, -29, -30, -29, -29, -30];
        for (method, (up, down)) in METHODS.into_iter().zip(positive.into_iter().zip(negative)) {
            assert_eq!(
                t(1000, 1000).to_stream_ticks(ntsc, method),
                Some(up),
                "{method:?}"
            );
            assert_eq!(
                t(-1000, 1000).to_stream_ticks(ntsc, method),
                Some(down),
                "{method:?}"
            );
        }
        assert_eq!(
            t(1, 1).to_stream_ticks(ntsc, RoundingMethod::QuickTime),
            Some(30)
        );
        assert_eq!(
            t(-1, 1).to_stream_ticks(ntsc, RoundingMethod::QuickTime),
            Some(-30)
        );
        // QuickTime never rounds a negative time up to zero.
        assert_eq!(
            t(-1, 1000).to_stream_ticks(ratio(1, 25), RoundingMethod::QuickTime),
            Some(-1)
        );
        assert_eq!(
            t(1, 1000).to_stream_ticks(ratio(1, 25), RoundingMethod::QuickTime),
            Some(0)
        );
        // To a finer scale QuickTime rounds away from zero.
        assert_eq!(
            t(1, 3).to_stream_ticks(ratio(1, 10), RoundingMethod::QuickTime),
            Some(4)
        );
        let floor = RoundingMethod::RoundTowardNegativeInfinity;
        assert_eq!(Time::INDEFINITE.to_stream_ticks(ntsc, floor), None);
        assert_eq!(Time::POSITIVE_INFINITY.to_stream_ticks(ntsc, floor), None);
        assert_eq!(
            t(1, 1).to_stream_ticks(Ratio { num: 0, den: 1 }, floor),
            None
        );
        assert_eq!(t(i64::MAX, 1).to_stream_ticks(ratio(1, 90000), floor), None);
        assert_eq!(
            t(i64::MIN, 1).to_stream_ticks(ratio(2, 1), floor),
            Some(i64::MIN / 2)
        );
    }

    #[test]
    fn convert_scale_rounding_methods() {
        // (method, 0.5 → , -0.5 →, 0.1 →, -0.1 →) at timescale 1.
        let table = [
            (RoundingMethod::RoundHalfAwayFromZero, [1, -1, 0, 0]),
            (RoundingMethod::RoundTowardZero, [0, 0, 0, 0]),
            (RoundingMethod::RoundAwayFromZero, [1, -1, 1, -1]),
            (RoundingMethod::QuickTime, [0, -1, 0, -1]),
            (RoundingMethod::RoundTowardPositiveInfinity, [1, 0, 1, 0]),
            (RoundingMethod::RoundTowardNegativeInfinity, [0, -1, 0, -1]),
        ];
        for (method, expected) in table {
            let got = [t(5, 10), t(-5, 10), t(1, 10), t(-1, 10)]
                .map(|time| parts(time.convert_scale(1, method)));
            assert_eq!(got, expected.map(|value| (value, 1, true)), "{method:?}");
        }
        assert_eq!(
            parts(t(1, 3).convert_scale(10, RoundingMethod::QuickTime)),
            (4, 10, true)
        );
        assert_eq!(
            parts(t(-1, 3).convert_scale(10, RoundingMethod::QuickTime)),
            (-4, 10, true)
        );
        assert_eq!(
            parts(t(1, 3).convert_scale(10, RoundingMethod::default())),
            (3, 10, true)
        );
        assert_eq!(
            parts(t(1, 2).convert_scale(600, RoundingMethod::default())),
            (300, 600, false)
        );
        // An earlier rounding stays recorded through an exact conversion.
        let rounded = Time::from_seconds(0.123456789, 1000);
        assert_eq!(
            parts(rounded.convert_scale(2000, RoundingMethod::default())),
            (246, 2000, true)
        );
        assert!(t(1, 2)
            .convert_scale(0, RoundingMethod::default())
            .is_invalid());
        assert!(Time::INDEFINITE
            .convert_scale(600, RoundingMethod::default())
            .is_indefinite());
        assert!(Time::NEGATIVE_INFINITY
            .convert_scale(600, RoundingMethod::default())
            .is_negative_infinity());
        assert!(t(i64::MAX, 1)
            .convert_scale(2, RoundingMethod::default())
            .is_positive_infinity());
        assert!(t(i64::MIN, 1)
            .convert_scale(2, RoundingMethod::default())
            .is_negative_infinity());
    }

    #[test]
    fn numeric_addition_and_subtraction() {
        assert_eq!(parts(t(1, 2) + t(1, 3)), (5, 6, false));
        assert_eq!(parts(t(1, 2) - t(1, 3)), (1, 6, false));
        assert_eq!(parts(t(1, 600) + t(2, 600)), (3, 600, false));
        assert_eq!(parts(t(1001, 30000) + t(1, 90000)), (3004, 90000, false));
        // LCM beyond i32: timescale i32::MAX, rounded.
        assert_eq!(
            parts(t(1, i32::MAX) + t(1, i32::MAX - 1)),
            (2, i32::MAX, true)
        );
        // Value overflow halves the timescale.
        assert_eq!(parts(t(i64::MAX, 2) + t(i64::MAX, 2)), (i64::MAX, 1, false));
        assert_eq!(
            parts(t(i64::MAX, 3) + t(1, 3)),
            (3_074_457_345_618_258_603, 1, true)
        );
        assert!((t(i64::MAX, 1) + t(1, 1)).is_positive_infinity());
        assert!((t(i64::MIN, 1) - t(1, 1)).is_negative_infinity());
        assert_eq!(parts(t(i64::MIN, 1) + Time::ZERO), (i64::MIN, 1, false));
        // A rounded operand makes a rounded result.
        let rounded = Time::from_seconds(0.123456789, 1000);
        assert_eq!(parts(rounded + t(1, 1000)), (124, 1000, true));
        let mut sum = t(1, 4);
        sum += t(1, 4);
        assert_eq!(parts(sum), (2, 4, false));
        sum -= t(3, 4);
        assert_eq!(parts(sum), (-1, 4, false));
    }

    #[test]
    fn non_numeric_addition_and_subtraction() {
        use Time as T;
        let n = t(3, 2);
        let (inv, neg, pos, ind) = (
            T::INVALID,
            T::NEGATIVE_INFINITY,
            T::POSITIVE_INFINITY,
            T::INDEFINITE,
        );
        let operands = [inv, neg, n, ind, pos];
        // Rows: left operand; columns: right operand, in `operands` order.
        let sums = [
            [inv, inv, inv, inv, inv],
            [inv, neg, neg, neg, inv],
            [inv, neg, t(3, 1), ind, pos],
            [inv, neg, ind, ind, pos],
            [inv, inv, pos, pos, pos],
        ];
        let differences = [
            [inv, inv, inv, inv, inv],
            [inv, inv, neg, neg, neg],
            [inv, pos, T::ZERO, ind, neg],
            [inv, pos, ind, ind, neg],
            [inv, pos, pos, pos, inv],
        ];
        for (i, a) in operands.into_iter().enumerate() {
            for (j, b) in operands.into_iter().enumerate() {
                assert_eq!(a + b, sums[i][j], "{a:?} + {b:?}");
                assert_eq!(a - b, differences[i][j], "{a:?} - {b:?}");
            }
        }
    }

    #[test]
    fn multiplication_and_negation() {
        assert_eq!(parts(t(3, 600) * 4), (12, 600, false));
        assert_eq!(parts(t(3, 600) * -4), (-12, 600, false));
        assert_eq!(parts(t(i64::MAX, 2) * 2), (i64::MAX, 1, false));
        assert_eq!(
            parts(t(i64::MAX, 3) * 2),
            (6_148_914_691_236_517_205, 1, true)
        );
        assert!((t(i64::MAX, 1) * 2).is_positive_infinity());
        assert!((t(i64::MAX, 1) * -2).is_negative_infinity());
        let (pos, neg) = (Time::POSITIVE_INFINITY, Time::NEGATIVE_INFINITY);
        for (multiplier, of_pos, of_neg) in [
            (3, pos, neg),
            (-3, neg, pos),
            (0, Time::INVALID, Time::INVALID),
        ] {
            assert_eq!(pos * multiplier, of_pos, "+inf * {multiplier}");
            assert_eq!(neg * multiplier, of_neg, "-inf * {multiplier}");
        }
        assert!((Time::INDEFINITE * 5).is_indefinite());
        assert!((Time::INVALID * 1).is_invalid());
        assert_eq!(parts(-t(1, 2)), (-1, 2, false));
        assert_eq!(parts(-t(i64::MIN, 2)), (1 << 62, 1, false));
        assert!((-t(i64::MIN, 1)).is_positive_infinity());
        assert!((-Time::POSITIVE_INFINITY).is_negative_infinity());
        assert!((-Time::INDEFINITE).is_indefinite());
        assert!((-Time::INVALID).is_invalid());
    }

    #[test]
    fn parses_every_form_exactly() {
        let cases: [(&str, i64, i32); 26] = [
            ("12.5", 125, 10),
            ("12.5s", 125, 10),
            ("250ms", 250, 1000),
            ("1.5ms", 15, 10000),
            ("0.001ms", 1, 1_000_000),
            ("1:02.5", 625, 10),
            ("00:01:02.500", 62500, 1000),
            ("-1.5", -15, 10),
            ("-1:02.5", -625, 10),
            ("+3", 3, 1),
            ("12", 12, 1),
            ("12s", 12, 1),
            ("0", 0, 1),
            ("-0", 0, 1),
            (".5", 5, 10),
            ("12.345", 12345, 1000),
            ("12.340", 12340, 1000),
            ("90:00", 5400, 1),
            ("1:00:00", 3600, 1),
            ("0:0:0", 0, 1),
            ("123:59:59.999999999", 446_399_999_999_999, 1_000_000_000),
            ("1.123456789", 1_123_456_789, 1_000_000_000),
            ("1.1234567890000", 1_123_456_789, 1_000_000_000),
            ("0.000000001", 1, 1_000_000_000),
            ("9223372036854775807", i64::MAX, 1),
            ("-9223372036854775808", i64::MIN, 1),
        ];
        for (input, value, timescale) in cases {
            let time: Time = input
                .parse()
                .unwrap_or_else(|e| panic!("{input:?} failed: {e}"));
            assert_eq!(parts(time), (value, timescale, false), "{input:?}");
        }
    }

    #[test]
    fn refuses_bad_input_and_says_why() {
        use ParseTimeErrorKind::*;
        let malformed = [
            "abc", "NaN", "nan", "inf", "-inf", "infinity", "1e3", " 1", "1 ", "1.", ".", "-", "+",
            "s", "ms", "1.5.2", "12.5x", "12.5 s", "1:02.5s", "1::2", ":5", "1:", "1:2:3:4",
            "1:002", "--1", "+-1", "1,5", "0x10", "\u{0663}", "1:2.", "12.5ss",
        ];
        for input in malformed {
            let error = input.parse::<Time>().unwrap_err();
            assert_eq!(error.kind(), Malformed, "{input:?}");
            assert_eq!(error.input(), input);
        }
        let other = [
            ("", Empty),
            (
                "1:60",
                FieldOutOfRange {
                    field: "seconds",
                    value: 60,
                },
            ),
            (
                "1:60:00",
                FieldOutOfRange {
                    field: "minutes",
                    value: 60,
                },
            ),
            (
                "0:00:75",
                FieldOutOfRange {
                    field: "seconds",
                    value: 75,
                },
            ),
            ("1.0000000001", TooPrecise),
            ("1.0000001ms", TooPrecise),
            (
                "1.000000000000000000000000000000000000000000001",
                TooPrecise,
            ),
            ("9223372036854775808", OutOfRange),
            ("-9223372036854775809", OutOfRange),
            ("9223372036854775807.5", OutOfRange),
            ("99999999999999999999999999999999999999999", OutOfRange),
            ("2562047788015216:00:00", OutOfRange),
        ];
        for (input, kind) in other {
            assert_eq!(input.parse::<Time>().unwrap_err().kind(), kind, "{input:?}");
        }
    }

    #[test]
    fn error_messages_quote_the_input() {
        let message = |input: &str| input.parse::<Time>().unwrap_err().to_string();
        assert_eq!(message(""), "invalid time \"\": empty string");
        assert_eq!(
            message("1:75"),
            "invalid time \"1:75\": seconds must be below 60, got 75"
        );
        assert_eq!(
            message("12.5x"),
            "invalid time \"12.5x\": expected seconds (\"12.5\", \"12.5s\", \"250ms\") \
             or a clock time (\"1:02.5\", \"00:01:02.500\")"
        );
        assert_eq!(
            message("1.0000000001"),
            "invalid time \"1.0000000001\": more than 9 fraction digits (finer than a nanosecond)"
        );
        assert_eq!(
            message("99999999999999999999"),
            "invalid time \"99999999999999999999\": out of range"
        );
        let boxed: Box<dyn std::error::Error> = Box::new("x".parse::<Time>().unwrap_err());
        assert!(boxed.to_string().contains("\"x\""));
    }

    #[test]
    fn display_prints_decimal_seconds() {
        let cases = [
            (t(125, 10), "12.5"),
            (t(62500, 1000), "62.5"),
            (t(12, 1), "12"),
            (Time::ZERO, "0"),
            (t(-15, 10), "-1.5"),
            (t(1, 3), "0.333333333"),
            (t(2, 3), "0.666666667"),
            (t(-1, 3), "-0.333333333"),
            (t(1001, 30000), "0.033366667"),
            (t(1, 2_000_000_000), "0.000000001"),
            (t(-1, 2_000_000_000), "-0.000000001"),
            (t(1, 2_000_000_001), "0"),
            (t(-1, 2_000_000_001), "0"),
            (t(i64::MIN, 1), "-9223372036854775808"),
            (t(i64::MAX, 1_000_000_000), "9223372036.854775807"),
            (Time::POSITIVE_INFINITY, "inf"),
            (Time::NEGATIVE_INFINITY, "-inf"),
            (Time::INDEFINITE, "indefinite"),
            (Time::INVALID, "invalid"),
        ];
        for (time, text) in cases {
            assert_eq!(time.to_string(), text, "{time:?}");
        }
        assert_eq!(format!("{:.3}", t(1, 3)), "0.333");
        assert_eq!(format!("{:.1}", t(25, 100)), "0.3");
        assert_eq!(format!("{:.1}", t(-25, 100)), "-0.3");
        assert_eq!(format!("{:.0}", t(-1, 3)), "0");
        assert_eq!(format!("{:.0}", t(19, 2)), "10");
        assert_eq!(format!("{:.2}", t(9999, 1000)), "10.00");
        assert_eq!(format!("{:.2}", t(12, 1)), "12.00");
        assert_eq!(format!("{:.20}", t(1, 3)), "0.33333333333333333333");
        assert_eq!(format!("{:>8.2}", t(25, 2)), "   12.50");
        assert_eq!(format!("{:08.3}", t(-25, 2)), "-012.500");
        assert_eq!(format!("{:+}", t(25, 2)), "+12.5");
        assert_eq!(format!("{:>5}", Time::POSITIVE_INFINITY), "  inf");
    }

    #[test]
    fn debug_shows_the_fraction() {
        assert_eq!(format!("{:?}", t(125, 10)), "Time(125/10)");
        assert_eq!(
            format!("{:?}", Time::from_seconds(0.123456789, 1000)),
            "Time(123/1000, rounded)"
        );
        assert_eq!(format!("{:?}", Time::POSITIVE_INFINITY), "Time(+inf)");
        assert_eq!(format!("{:?}", Time::NEGATIVE_INFINITY), "Time(-inf)");
        assert_eq!(format!("{:?}", Time::INDEFINITE), "Time(indefinite)");
        assert_eq!(format!("{:?}", Time::INVALID), "Time(invalid)");
    }

    fn timescale() -> impl Strategy<Value = i32> {
        prop_oneof![
            prop::sample::select(vec![
                1,
                2,
                3,
                10,
                24,
                25,
                600,
                1000,
                1001,
                30000,
                44100,
                48000,
                90000,
                1_000_000_000,
                i32::MAX - 1,
                i32::MAX,
            ]),
            1..=i32::MAX,
        ]
    }

    fn numeric() -> impl Strategy<Value = Time> {
        (
            prop_oneof![
                any::<i64>(),
                -1_000_000_i64..=1_000_000,
                prop::sample::select(vec![i64::MIN, i64::MAX, 0]),
            ],
            timescale(),
        )
            .prop_map(|(value, timescale)| t(value, timescale))
    }

    fn any_time() -> impl Strategy<Value = Time> {
        prop_oneof![
            8 => numeric(),
            1 => Just(Time::INVALID),
            1 => Just(Time::INDEFINITE),
            1 => Just(Time::POSITIVE_INFINITY),
            1 => Just(Time::NEGATIVE_INFINITY),
        ]
    }

    /// Small values over timescales whose common multiples fit `i32`, so
    /// sums are exact.
    fn small() -> impl Strategy<Value = Time> {
        (
            -1_000_000_i64..=1_000_000,
            prop::sample::select(vec![1, 2, 3, 10, 600, 1000, 1001, 30000, 90000]),
        )
            .prop_map(|(value, timescale)| t(value, timescale))
    }

    fn time_base() -> impl Strategy<Value = Ratio> {
        prop::sample::select(vec![
            ratio(1, 1),
            ratio(1, 25),
            ratio(1, 1000),
            ratio(1, 48000),
            ratio(1, 90000),
            ratio(1001, 30000),
            ratio(1001, 24000),
            ratio(3, 7),
            ratio(1, 1 << 32),
        ])
    }

    /// `|a − b| · bound_den ≤ bound_num · …` in exact arithmetic: whether
    /// two numeric times are within `bound_num / bound_den` seconds.
    fn within(a: Time, b: Time, bound_num: i128, bound_den: i128) -> bool {
        let (a_ts, b_ts) = (i128::from(a.timescale()), i128::from(b.timescale()));
        let diff = (i128::from(a.value()) * b_ts - i128::from(b.value()) * a_ts).abs();
        diff * bound_den <= bound_num * a_ts * b_ts
    }

    proptest! {
        #[test]
        fn order_is_total_and_antisymmetric(a in any_time(), b in any_time()) {
            prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
            prop_assert_eq!(a.partial_cmp(&b), Some(a.cmp(&b)));
            prop_assert_eq!(a == b, a.cmp(&b) == Ordering::Equal);
            if a == b {
                prop_assert_eq!(hash_of(a), hash_of(b));
            }
        }

        #[test]
        fn sorted_times_are_pairwise_ordered(mut times in prop::collection::vec(any_time(), 0..24)) {
            times.sort();
            for i in 0..times.len() {
                for j in i..times.len() {
                    prop_assert!(times[i] <= times[j], "{:?} > {:?}", times[i], times[j]);
                }
            }
        }

        #[test]
        fn rescaled_fractions_are_equal(
            value in -1_000_000_000_i64..=1_000_000_000,
            timescale in 1..=1_000_000_i32,
            factor in 1..=2000_i32,
        ) {
            prop_assume!(timescale.checked_mul(factor).is_some());
            let a = t(value, timescale);
            let b = t(value * i64::from(factor), timescale * factor);
            prop_assert_eq!(a, b);
            prop_assert_eq!(hash_of(a), hash_of(b));
            let next = t(value * i64::from(factor) + 1, timescale * factor);
            prop_assert!(a < next);
            prop_assert!(next > b);
        }

        #[test]
        fn order_agrees_with_seconds(
            a_value in -(1_i64 << 53)..=(1 << 53), a_scale in timescale(),
            b_value in -(1_i64 << 53)..=(1 << 53), b_scale in timescale(),
        ) {
            // Below 2^53 the f64 conversion of the value is exact, so
            // seconds() is one correctly rounded division, hence monotone.
            let (a, b) = (t(a_value, a_scale), t(b_value, b_scale));
            if a < b {
                prop_assert!(a.seconds() <= b.seconds());
            }
            if a.seconds() < b.seconds() {
                prop_assert!(a < b);
            }
        }

        #[test]
        fn addition_commutes(a in any_time(), b in any_time()) {
            prop_assert_eq!(format!("{:?}", a + b), format!("{:?}", b + a));
        }

        #[test]
        fn subtraction_is_adding_the_negation(a in any_time(), b in any_time()) {
            prop_assume!(b.value() != i64::MIN);
            prop_assert_eq!(format!("{:?}", a - b), format!("{:?}", a + (-b)));
        }

        #[test]
        fn small_sums_are_exact(a in small(), b in small(), c in small()) {
            let sum = a + b;
            prop_assert!(!sum.has_been_rounded());
            // Compare with the sum worked out by cross-multiplication.
            let (a_ts, b_ts) = (i128::from(a.timescale()), i128::from(b.timescale()));
            let num = i128::from(a.value()) * b_ts + i128::from(b.value()) * a_ts;
            let den = a_ts * b_ts;
            prop_assert_eq!(
                i128::from(sum.value()) * den,
                num * i128::from(sum.timescale())
            );
            prop_assert_eq!((a + b) + c, a + (b + c));
            prop_assert!(!((a + b) + c).has_been_rounded());
            prop_assert_eq!(sum - b, a);
            prop_assert!(!(sum - b).has_been_rounded());
            prop_assert_eq!(a - a, Time::ZERO);
        }

        #[test]
        fn unrounded_round_trips_are_exact(a in numeric(), b in numeric()) {
            let sum = a + b;
            let back = sum - b;
            if back.is_numeric() && !back.has_been_rounded() && sum.is_numeric() {
                prop_assert_eq!(back, a);
            }
            if sum.is_numeric() && !sum.has_been_rounded() {
                prop_assert!(sum.cmp(&a) == b.cmp(&Time::ZERO));
            }
        }

        #[test]
        fn ticks_round_trip(ticks in -(1_i64 << 40)..=(1 << 40), base in time_base()) {
            let time = Time::from_stream_ticks(ticks, base);
            prop_assume!(base.den <= i64::from(i32::MAX) || ticks % (1 << 10) == 0);
            let time = time.expect("representable");
            for method in METHODS {
                prop_assert_eq!(time.to_stream_ticks(base, method), Some(ticks));
            }
        }

        #[test]
        fn floor_and_ceiling_ticks_bracket_the_time(
            value in -(1_i64 << 40)..=(1 << 40),
            scale in timescale(),
            base in time_base().prop_filter("i32 timescale", |b| b.den <= i64::from(i32::MAX)),
        ) {
            let time = t(value, scale);
            let tick = |n: i64| Time::from_stream_ticks(n, base).expect("representable");
            let floor = time
                .to_stream_ticks(base, RoundingMethod::RoundTowardNegativeInfinity)
                .expect("in range");
            prop_assert!(tick(floor) <= time && time < tick(floor + 1));
            let ceiling = time
                .to_stream_ticks(base, RoundingMethod::RoundTowardPositiveInfinity)
                .expect("in range");
            prop_assert!(tick(ceiling - 1) < time && time <= tick(ceiling));
            let nearest = time
                .to_stream_ticks(base, RoundingMethod::RoundHalfAwayFromZero)
                .expect("in range");
            prop_assert!(nearest == floor || nearest == ceiling);
        }

        #[test]
        fn convert_scale_agrees_with_ticks(time in numeric(), new_scale in timescale()) {
            let base = ratio(1, i64::from(new_scale));
            for method in METHODS {
                let converted = time.convert_scale(new_scale, method);
                match time.to_stream_ticks(base, method) {
                    Some(ticks) => {
                        prop_assert_eq!(converted.value(), ticks);
                        prop_assert_eq!(converted.timescale(), new_scale);
                        prop_assert_eq!(converted.has_been_rounded(), converted != time);
                    }
                    None => prop_assert!(converted.is_infinite()),
                }
            }
            let nearest = time.convert_scale(new_scale, RoundingMethod::default());
            if nearest.is_numeric() {
                prop_assert!(within(nearest, time, 1, 2 * i128::from(new_scale)));
            }
        }

        #[test]
        fn decimal_times_print_and_parse_back(value in any::<i64>(), decimals in 0..=9_u32) {
            let time = t(value, 10_i32.pow(decimals));
            let parsed: Time = time.to_string().parse().expect("parses");
            prop_assert_eq!(parsed, time);
            prop_assert!(!parsed.has_been_rounded());
        }

        #[test]
        fn other_times_print_to_the_nearest_nanosecond(
            // Beyond about 292 years nanoseconds no longer fit an i64.
            time in numeric().prop_filter("parsable", |t| t.seconds().abs() < 9e9),
        ) {
            let parsed: Time = time.to_string().parse().expect("parses");
            prop_assert!(within(parsed, time, 1, 2_000_000_000));
        }

        #[test]
        fn clock_times_parse_to_their_seconds(
            negative in any::<bool>(),
            hours in 0_i64..10_000,
            minutes in 0_i64..60,
            seconds in 0_i64..60,
            fraction in "[0-9]{0,9}",
        ) {
            let sign = if negative { "-" } else { "" };
            let point = if fraction.is_empty() { "" } else { "." };
            let text = format!("{sign}{hours}:{minutes:02}:{seconds:02}{point}{fraction}");
            let time: Time = text.parse().expect("parses");
            let scale = 10_i64.pow(fraction.len() as u32);
            let whole = (hours * 60 + minutes) * 60 + seconds;
            let magnitude = whole * scale + fraction.parse::<i64>().unwrap_or(0);
            let expected = if negative { -magnitude } else { magnitude };
            prop_assert_eq!(parts(time), (expected, scale as i32, false));
        }

        #[test]
        fn from_seconds_is_monotone(a in -1e12_f64..1e12, b in -1e12_f64..1e12, scale in timescale()) {
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(Time::from_seconds(low, scale) <= Time::from_seconds(high, scale));
        }

        #[test]
        fn from_seconds_keeps_whole_seconds_exact(seconds in -(1_i64 << 31)..(1 << 31), scale in timescale()) {
            let time = Time::from_seconds(seconds as f64, scale);
            prop_assert_eq!(parts(time), (seconds * i64::from(scale), scale, false));
        }

        #[test]
        fn from_seconds_is_nearest(seconds in -1e6_f64..1e6, scale in 1..=1_000_000_i32) {
            let time = Time::from_seconds(seconds, scale);
            prop_assert_eq!(time.timescale(), scale);
            let error = (time.value() as f64 - seconds * f64::from(scale)).abs();
            prop_assert!(error <= 0.5 + 1e-6, "{:?} for {}", time, seconds);
            prop_assert_eq!(time.has_been_rounded(), time.seconds() != seconds);
        }
    }
}
