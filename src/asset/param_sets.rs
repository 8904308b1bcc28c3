//! The picture size an H.264 stream's first sequence parameter set
//! declares, read from a source's first bytes before FFmpeg opens it:
//! FFmpeg's probing decodes the first pictures of an MPEG-TS or raw H.264
//! stream to learn its parameters, and the decoder sizes its tables by the
//! declared size before any `max_pixels` check, so a stream declaring
//! 16384×16000 costs hundreds of megabytes to refuse unless it is refused
//! first.

/// The coded size (whole macroblocks) of the first H.264 sequence
/// parameter set in `bytes` (Annex B start codes, as in MPEG-TS payloads
/// and raw streams) that reads as one: every field within the ranges
/// H.264 allows, so that bytes that merely look like a start code are not
/// taken for one. `None` when there is none.
pub fn first_h264_sps_size(bytes: &[u8]) -> Option<(u32, u32)> {
    /// Far more than an SPS needs (scaling lists included).
    const SPS_BYTES: usize = 256;
    let mut from = 0;
    while let Some(found) = find_start_code(&bytes[from..]) {
        let at = from + found + 3;
        from = at;
        let Some(&header) = bytes.get(at) else {
            break;
        };
        // forbidden_zero_bit 0, nal_ref_idc non-zero, nal_unit_type 7.
        if header & 0x9f != 7 || header & 0x60 == 0 {
            continue;
        }
        let end = (at + 1 + SPS_BYTES).min(bytes.len());
        if let Some(size) = sps_size(&unescape(&bytes[at + 1..end])) {
            return Some(size);
        }
    }
    None
}

fn find_start_code(bytes: &[u8]) -> Option<usize> {
    bytes.windows(3).position(|w| w == [0, 0, 1])
}

/// The RBSP of a NAL unit's payload: each emulation prevention byte
/// (`00 00 03`) removed.
fn unescape(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len());
    let mut zeros = 0;
    for &b in payload {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// The profiles whose SPS carries chroma format, bit depths and scaling
/// lists (H.264 7.3.2.1.1).
const HIGH_PROFILES: [u8; 13] = [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135];

fn sps_size(rbsp: &[u8]) -> Option<(u32, u32)> {
    let mut r = Bits::new(rbsp);
    let profile = r.bits(8)? as u8;
    r.bits(8)?;
    let level = r.bits(8)?;
    if level > 62 || r.ue()? > 31 {
        return None;
    }
    if HIGH_PROFILES.contains(&profile) {
        let chroma_format = r.ue()?;
        if chroma_format > 3 {
            return None;
        }
        if chroma_format == 3 {
            r.bits(1)?;
        }
        if r.ue()? > 6 || r.ue()? > 6 {
            return None;
        }
        r.bits(1)?;
        if r.bits(1)? == 1 {
            let lists = if chroma_format == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.bits(1)? == 1 {
                    skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    if r.ue()? > 12 {
        return None;
    }
    match r.ue()? {
        0 => {
            if r.ue()? > 12 {
                return None;
            }
        }
        1 => {
            r.bits(1)?;
            r.se()?;
            r.se()?;
            let cycle = r.ue()?;
            if cycle > 255 {
                return None;
            }
            for _ in 0..cycle {
                r.se()?;
            }
        }
        2 => {}
        _ => return None,
    }
    if r.ue()? > 16 {
        return None;
    }
    r.bits(1)?;
    let width_mbs = r.ue()?.checked_add(1)?;
    let height_units = r.ue()?.checked_add(1)?;
    let frame_mbs_only = r.bits(1)?;
    let width = width_mbs.checked_mul(16)?;
    let height = height_units.checked_mul(16 * (2 - frame_mbs_only))?;
    Some((width, height))
}

fn skip_scaling_list(r: &mut Bits, size: usize) -> Option<()> {
    let (mut last, mut next) = (8i64, 8i64);
    for _ in 0..size {
        if next != 0 {
            next = (last + r.se()? + 256) % 256;
        }
        if next != 0 {
            last = next;
        }
    }
    Some(())
}

/// A big-endian bit reader with H.264's Exp-Golomb codes.
struct Bits<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Bits<'a> {
    fn new(bytes: &'a [u8]) -> Bits<'a> {
        Bits { bytes, at: 0 }
    }

    fn bit(&mut self) -> Option<u32> {
        let byte = self.bytes.get(self.at / 8)?;
        let bit = (byte >> (7 - self.at % 8)) & 1;
        self.at += 1;
        Some(u32::from(bit))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0u32, |v, _| Some((v << 1) | self.bit()?))
    }

    /// `ue(v)`; codes longer than 32 bits are not H.264's.
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        ((1u64 << zeros) - 1 + u64::from(rest)).try_into().ok()
    }

    /// `se(v)`.
    fn se(&mut self) -> Option<i64> {
        let k = i64::from(self.ue()?);
        Some(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SPS of `tests/fixtures/mpegts_start.ts` (High profile, 320×240)
    /// and of a stream x264 wrote at 16384×16000 (Baseline), each behind a
    /// start code and followed by the next NAL unit's.
    const HIGH_SPS: &str = "0000016764000dacd94141fb011000000300100000030320f142996000000001";
    const BOMB_SPS: &str = "0000016742c03eda00100001f46c044000000300400000030083c2010a80000000";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn reads_the_declared_size() {
        assert_eq!(first_h264_sps_size(&hex(HIGH_SPS)), Some((320, 240)));
        assert_eq!(first_h264_sps_size(&hex(BOMB_SPS)), Some((16384, 16000)));
    }

    #[test]
    fn bytes_without_a_readable_sps_give_none() {
        assert_eq!(first_h264_sps_size(&[]), None);
        assert_eq!(first_h264_sps_size(&[0, 0, 1, 0x67]), None);
        let junk: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
            .collect();
        assert_eq!(first_h264_sps_size(&junk), None);
        // A cut-short SPS is not read.
        let bomb = hex(BOMB_SPS);
        assert_eq!(first_h264_sps_size(&bomb[..8]), None);
    }
}
