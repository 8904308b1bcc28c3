//! The picture size a stream's first sequence parameter set declares,
//! read from a source's first bytes before FFmpeg opens it: FFmpeg's
//! probing decodes the first pictures of an MPEG-TS or raw H.264/HEVC
//! stream to learn its parameters, and the decoders size their tables by
//! the declared size before any `max_pixels` check, so a stream declaring
//! 16384×16000 costs hundreds of megabytes to refuse unless it is refused
//! first.

/// The coded size of the first H.264 or HEVC sequence parameter set in
/// `bytes` (Annex B start codes, as in MPEG-TS payloads and raw streams)
/// that reads as one: every field within the ranges its standard allows,
/// so that bytes that merely look like a start code are not taken for one.
/// H.264 sizes are whole macroblocks. `None` when there is none.
pub fn first_sps_size(bytes: &[u8]) -> Option<(u32, u32)> {
    /// Far more than an SPS needs (scaling lists included).
    const SPS_BYTES: usize = 256;
    let mut from = 0;
    while let Some(found) = find_start_code(&bytes[from..]) {
        let at = from + found + 3;
        from = at;
        let Some(&header) = bytes.get(at) else {
            break;
        };
        let payload = |skip: usize| {
            let start = (at + skip).min(bytes.len());
            unescape(&bytes[start..(at + skip + SPS_BYTES).min(bytes.len())])
        };
        // H.264: forbidden_zero_bit 0, nal_ref_idc non-zero, nal_unit_type 7.
        let h264 = header & 0x9f == 7 && header & 0x60 != 0;
        // HEVC: forbidden_zero_bit 0, nal_unit_type 33, nuh_layer_id 0,
        // nuh_temporal_id_plus1 1.
        let hevc = header == 33 << 1 && bytes.get(at + 1) == Some(&1);
        let size = if h264 {
            h264_sps_size(&payload(1))
        } else if hevc {
            hevc_sps_size(&payload(2))
        } else {
            None
        };
        if size.is_some() {
            return size;
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

/// H.264 7.3.2.1.1 up to `frame_mbs_only_flag`.
fn h264_sps_size(rbsp: &[u8]) -> Option<(u32, u32)> {
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

/// H.265 7.3.2.2.1 up to `pic_height_in_luma_samples`, through the
/// profile, tier and level of every sub-layer (7.3.3).
fn hevc_sps_size(rbsp: &[u8]) -> Option<(u32, u32)> {
    /// A profile (general or sub-layer's) without its level: 88 bits.
    const PROFILE_BITS: usize = 88;
    let mut r = Bits::new(rbsp);
    r.bits(4)?;
    let sub_layers = r.bits(3)? as usize;
    if sub_layers > 6 {
        return None;
    }
    r.bits(1)?;
    r.skip(PROFILE_BITS + 8)?;
    let mut present = [(false, false); 7];
    for layer in present.iter_mut().take(sub_layers) {
        *layer = (r.bits(1)? == 1, r.bits(1)? == 1);
    }
    if sub_layers > 0 {
        r.skip(2 * (8 - sub_layers))?;
    }
    for &(profile, level) in &present[..sub_layers] {
        r.skip(if profile { PROFILE_BITS } else { 0 } + if level { 8 } else { 0 })?;
    }
    if r.ue()? > 15 {
        return None;
    }
    let chroma_format = r.ue()?;
    if chroma_format > 3 {
        return None;
    }
    if chroma_format == 3 {
        r.bits(1)?;
    }
    let (width, height) = (r.ue()?, r.ue()?);
    // Non-zero multiples of the smallest coding block (8).
    let whole = |n: u32| n > 0 && n % 8 == 0;
    (whole(width) && whole(height)).then_some((width, height))
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

/// A big-endian bit reader with the Exp-Golomb codes of H.264 and HEVC.
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

    /// Past `n` bits; `None` when fewer are left.
    fn skip(&mut self, n: usize) -> Option<()> {
        self.at = self.at.checked_add(n)?;
        (self.at <= self.bytes.len() * 8).then_some(())
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

    /// The SPS of `tests/fixtures/hevc_main10_hdr10.mp4` (Main 10, 320×240)
    /// in Annex B, followed by its PPS's start.
    const HEVC_SPS: &str = "00000142010102200000030090000003000003003ca00a080f136595964932bc05a848804820000003002000000303210000000144";

    /// The SPS x265 wrote for a 16384×16000 picture (level 8.5).
    const HEVC_BOMB_SPS: &str = "0000014201010160000003009000000300000300ffa00020008003e816595952930bc05a0200000300020000030032100000000144";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn reads_the_declared_size() {
        assert_eq!(first_sps_size(&hex(HIGH_SPS)), Some((320, 240)));
        assert_eq!(first_sps_size(&hex(BOMB_SPS)), Some((16384, 16000)));
        assert_eq!(first_sps_size(&hex(HEVC_SPS)), Some((320, 240)));
        assert_eq!(first_sps_size(&hex(HEVC_BOMB_SPS)), Some((16384, 16000)));
    }

    #[test]
    fn bytes_without_a_readable_sps_give_none() {
        assert_eq!(first_sps_size(&[]), None);
        assert_eq!(first_sps_size(&[0, 0, 1, 0x67]), None);
        let junk: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
            .collect();
        assert_eq!(first_sps_size(&junk), None);
        // A cut-short SPS is not read.
        let bomb = hex(BOMB_SPS);
        assert_eq!(first_sps_size(&bomb[..8]), None);
        let hevc = hex(HEVC_SPS);
        assert_eq!(first_sps_size(&hevc[..20]), None);
    }
}
