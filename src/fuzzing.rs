//! Entry points for the coverage-guided fuzz targets in `tests/fuzz`: each
//! takes the fuzzer's bytes, feeds one of the parsers or the planner, and
//! panics only where stills breaks a promise it makes, which is what the
//! fuzzer reports as a crash (with a panic, an abort on a huge allocation,
//! or a hang). Built with the `fuzzing` feature only; not part of the API.

use std::io::Cursor;

use crate::asset::{mp4, param_sets, FrameIndex, IndexEntry};
use crate::plan::{oracle, Request};
use crate::ratio::Ratio;
use crate::time::Time;

/// The ISO-BMFF box walker, as a local file and as a remote one, over any
/// bytes: it must end with facts or an error, and the sample tables it
/// returns must be as documented.
pub fn mp4_boxes(data: &[u8]) {
    let len = data.len() as u64;
    for remote in [false, true] {
        let mut reader = Cursor::new(data);
        let facts = if remote {
            mp4::scan_remote(&mut reader, len)
        } else {
            mp4::scan(&mut reader, len)
        };
        let Ok(facts) = facts else { continue };
        for (track, table) in &facts.sample_tables {
            assert!(
                table.offsets.is_sorted(),
                "track {track}: sample offsets out of order"
            );
            assert!(
                table.offsets.len() <= table.sample_count as usize,
                "track {track}: more samples laid out than declared"
            );
            if let Some(composition) = &table.composition {
                assert!(
                    composition.len() <= table.sample_count as usize,
                    "track {track}: more composition offsets than samples"
                );
            }
        }
    }
}

/// The parameter-set reader that sizes a stream before FFmpeg opens it:
/// whatever it finds is a size H.264 or HEVC can declare.
pub fn parameter_sets(data: &[u8]) {
    if let Some((width, height)) = param_sets::first_sps_size(data) {
        // Whole H.264 macroblocks or HEVC minimum coding blocks.
        assert!(
            width > 0 && height > 0,
            "an empty picture: {width}x{height}"
        );
        assert!(
            width % 8 == 0 && height % 8 == 0,
            "not whole coding blocks: {width}x{height}"
        );
    }
}

/// The time parser: whatever it accepts prints and parses back to the
/// same time (the promise of `Time`'s `Display`).
pub fn time_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(time) = text.parse::<Time>() else {
        return;
    };
    assert!(time.is_numeric(), "{text:?} parsed as {time:?}");
    let printed = time.to_string();
    let back: Time = printed
        .parse()
        .unwrap_or_else(|e| panic!("{text:?} -> {time:?} printed as {printed:?}: {e}"));
    assert_eq!(back, time, "{text:?} printed as {printed:?}");
}

/// The planner over an index and requests built from the bytes, extreme
/// times, tolerances and time bases included, held to its brute-force
/// definition (`plan::oracle`).
pub fn plan(data: &[u8]) {
    let mut bytes = Bytes(data);
    let time_base = Ratio {
        num: i64::from(bytes.u16()) + 1,
        den: i64::from(bytes.u32()) + 1,
    };
    let workers = usize::from(bytes.u8() % 4) + 1;
    let packet_count = usize::from(bytes.u8());
    let mut pts = i64::from(bytes.u16() as i16);
    let mut packets = Vec::with_capacity(packet_count);
    for _ in 0..packet_count {
        let flags = bytes.u8();
        let step = bytes.u8();
        pts = match flags >> 5 {
            // Far out on either side: streams whose ticks near the limits.
            0 => i64::MAX - i64::from(step),
            1 => i64::MIN + i64::from(step),
            // Back by up to 128 (reordered frames), else forward.
            2 => pts.saturating_sub(i64::from(step >> 1)),
            _ => pts.saturating_add(i64::from(step)),
        };
        let has_pts = flags & 4 == 0;
        packets.push(IndexEntry {
            pts: has_pts.then_some(pts),
            duration: 0,
            sync: flags & 1 != 0,
            shown: flags & 2 == 0 && has_pts,
        });
    }
    let end = pts.saturating_add(i64::from(bytes.u8()));
    let mut presentation: Vec<u32> = (0..packets.len() as u32)
        .filter(|&i| packets[i as usize].shown)
        .collect();
    presentation.sort_by_key(|&i| packets[i as usize].pts);
    let index = FrameIndex {
        time_base,
        timeline_offset: 0,
        packets,
        presentation,
        end,
    };

    let mut requests = Vec::new();
    while !bytes.0.is_empty() && requests.len() < 32 {
        let t = bytes.time();
        let (before, after) = (bytes.tolerance(), bytes.tolerance());
        let Ok(request) = Request::from_times(t, before, after, time_base) else {
            assert!(!t.is_numeric(), "{t:?} ±({before:?}, {after:?}) refused");
            continue;
        };
        let Request { window, target } = request;
        assert!(
            window.lo.is_none_or(|lo| lo <= target) && window.hi.is_none_or(|hi| target <= hi),
            "{t:?} ±({before:?}, {after:?}) on {time_base:?}: {request:?}"
        );
        requests.push(request);
    }
    if let Err(why) = oracle::check(&index, &requests, workers) {
        panic!("{why}\nindex: {index:?}\nrequests: {requests:?}");
    }
}

/// The fuzzer's bytes read front to back, zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }

    fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take())
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }

    fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.take())
    }

    /// A time on a common or an odd timescale; special values too.
    fn time(&mut self) -> Time {
        const SCALES: [i32; 8] = [1, 25, 600, 1000, 30_000, 90_000, 1_000_000_000, 7];
        let kind = self.u8();
        match kind >> 5 {
            0 => Time::INVALID,
            1 => Time::POSITIVE_INFINITY,
            2 => Time::new(self.i64(), SCALES[usize::from(kind & 7)]),
            _ => Time::new(i64::from(self.u16() as i16), SCALES[usize::from(kind & 7)]),
        }
    }

    /// Zero, infinite, small or anything up to `i64::MAX` seconds.
    fn tolerance(&mut self) -> Time {
        match self.u8() % 4 {
            0 => Time::ZERO,
            1 => Time::POSITIVE_INFINITY,
            2 => Time::new(i64::from(self.u8()), 25),
            _ => Time::new(self.i64().saturating_abs(), 1 + i32::from(self.u8())),
        }
    }
}
