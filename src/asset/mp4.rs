//! A small ISO-BMFF (MP4/MOV) box walker for the facts FFmpeg 5.1 does not
//! expose: the `clap` clean aperture of each track's sample entry, and
//! whether a top-level box runs past the end of the file (truncation).
//! Reads only box headers and the few boxes it needs, never sample data.

use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom};

use crate::asset::geometry::CleanAperture;
use crate::ratio::Ratio;

/// The most `moov` this reader will load; real ones are a few MB even for
/// hour-long files, so anything larger is treated as hostile.
const MAX_MOOV_BYTES: u64 = 256 << 20;

/// What the box walk found.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Mp4Facts {
    /// Clean aperture of the first sample entry, by track ID (`tkhd`).
    pub clean_apertures: HashMap<u32, CleanAperture>,
    /// Set when a top-level box declares more bytes than the file holds,
    /// e.g. "box 'mdat' at offset 48 declares 90000 bytes but the file ends at 20000".
    pub truncation: Option<Truncation>,
}

/// A top-level box cut short by the end of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    pub box_type: String,
    pub offset: u64,
    pub declared: u64,
    pub file_len: u64,
}

impl std::fmt::Display for Truncation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "box '{}' at offset {} declares {} bytes but the file ends at {}",
            self.box_type, self.offset, self.declared, self.file_len
        )
    }
}

/// Walks the top-level boxes of `reader` (`len` bytes long).
pub fn scan<R: Read + Seek>(reader: &mut R, len: u64) -> io::Result<Mp4Facts> {
    let mut facts = Mp4Facts::default();
    let mut offset = 0u64;
    while offset + 8 <= len {
        reader.seek(SeekFrom::Start(offset))?;
        let mut header = [0u8; 16];
        let avail = (len - offset).min(16) as usize;
        reader.read_exact(&mut header[..avail])?;
        let Some((size, kind, header_len)) = parse_header(&header[..avail], len - offset) else {
            break;
        };
        // A hostile 64-bit size can wrap `offset + size` around to a small
        // number; such a box runs past the end of any file.
        let end = offset.checked_add(size).filter(|&end| end <= len);
        if end.is_none() {
            facts.truncation = Some(Truncation {
                box_type: fourcc(kind),
                offset,
                declared: size,
                file_len: len,
            });
        }
        if &kind == b"moov" {
            let body_len = (size - header_len).min(len - offset - header_len);
            if body_len <= MAX_MOOV_BYTES {
                let mut body = vec![0u8; body_len as usize];
                reader.seek(SeekFrom::Start(offset + header_len))?;
                reader.read_exact(&mut body)?;
                read_moov(&body, &mut facts);
            }
        }
        match end {
            Some(end) => offset = end,
            None => break,
        }
    }
    Ok(facts)
}

/// `(box size, type, header length)`; a size of 0 means "to the end".
fn parse_header(b: &[u8], remaining: u64) -> Option<(u64, [u8; 4], u64)> {
    if b.len() < 8 {
        return None;
    }
    let size32 = u32::from_be_bytes(b[0..4].try_into().ok()?);
    let kind: [u8; 4] = b[4..8].try_into().ok()?;
    let (size, header_len) = match size32 {
        0 => (remaining, 8),
        1 => (u64::from_be_bytes(b.get(8..16)?.try_into().ok()?), 16),
        n => (n as u64, 8),
    };
    (size >= header_len).then_some((size, kind, header_len))
}

fn fourcc(kind: [u8; 4]) -> String {
    kind.iter()
        .map(|&c| if c.is_ascii_graphic() { c as char } else { '?' })
        .collect()
}

/// Iterates the child boxes of a body held in memory, stopping at the first
/// malformed header.
fn children(body: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let rest = body.get(pos..)?;
        let (size, kind, header_len) = parse_header(rest, rest.len() as u64)?;
        let size = usize::try_from(size).ok()?;
        let child = rest.get(header_len as usize..size)?;
        pos += size;
        Some((kind, child))
    })
}

fn child<'a>(body: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(body).find(|(k, _)| k == kind).map(|(_, b)| b)
}

fn read_moov(moov: &[u8], facts: &mut Mp4Facts) {
    for (_, trak) in children(moov).filter(|(k, _)| k == b"trak") {
        let Some(track_id) = child(trak, b"tkhd").and_then(tkhd_track_id) else {
            continue;
        };
        let entry = child(trak, b"mdia")
            .and_then(|b| child(b, b"minf"))
            .and_then(|b| child(b, b"stbl"))
            .and_then(|b| child(b, b"stsd"))
            .and_then(first_sample_entry);
        if let Some(clap) = entry.and_then(visual_entry_clap) {
            facts.clean_apertures.insert(track_id, clap);
        }
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn tkhd_track_id(tkhd: &[u8]) -> Option<u32> {
    // Full box: version (1 byte) + flags (3); then creation and
    // modification times (4 bytes each in version 0, 8 in version 1).
    match tkhd.first()? {
        0 => be32(tkhd, 12),
        1 => be32(tkhd, 20),
        _ => None,
    }
}

/// The body of the first sample entry of an `stsd` (after its box header).
fn first_sample_entry(stsd: &[u8]) -> Option<&[u8]> {
    // version + flags (4) + entry_count (4), then the entries as boxes.
    children(stsd.get(8..)?).next().map(|(_, body)| body)
}

/// A VisualSampleEntry has 78 bytes of fixed fields before its child boxes.
const VISUAL_SAMPLE_ENTRY_FIELDS: usize = 78;

fn visual_entry_clap(entry: &[u8]) -> Option<CleanAperture> {
    let clap = child(entry.get(VISUAL_SAMPLE_ENTRY_FIELDS..)?, b"clap")?;
    let u = |i: usize| be32(clap, i * 4).map(|v| v as i64);
    // ISO/IEC 14496-12 §12.1.4: the offsets are signed fractions.
    let s = |i: usize| be32(clap, i * 4).map(|v| v as i32 as i64);
    Some(CleanAperture {
        width: Ratio::new(u(0)?, u(1)?)?,
        height: Ratio::new(u(2)?, u(3)?)?,
        horizontal_offset: Ratio::new(s(4)?, u(5)?)?,
        vertical_offset: Ratio::new(s(6)?, u(7)?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    fn clap_box(vals: [i32; 8]) -> Vec<u8> {
        let body: Vec<u8> = vals.iter().flat_map(|v| v.to_be_bytes()).collect();
        boxed(b"clap", &body)
    }

    fn file_with_clap(track_id: u32, clap: Option<Vec<u8>>) -> Vec<u8> {
        let mut tkhd = vec![0u8; 84];
        tkhd[12..16].copy_from_slice(&track_id.to_be_bytes());
        let mut entry = vec![0u8; VISUAL_SAMPLE_ENTRY_FIELDS];
        entry.extend(boxed(b"avcC", &[1, 2, 3]));
        if let Some(c) = clap {
            entry.extend(c);
        }
        let mut stsd = vec![0, 0, 0, 0, 0, 0, 0, 1];
        stsd.extend(boxed(b"avc1", &entry));
        let stbl = boxed(b"stbl", &boxed(b"stsd", &stsd));
        let mdia = boxed(b"mdia", &boxed(b"minf", &stbl));
        let mut trak = boxed(b"tkhd", &tkhd);
        trak.extend(mdia);
        let mut file = boxed(b"ftyp", b"isom\0\0\0\0");
        file.extend(boxed(b"moov", &boxed(b"trak", &trak)));
        file.extend(boxed(b"mdat", &[0u8; 32]));
        file
    }

    #[test]
    fn reads_clap_with_signed_offsets() {
        let file = file_with_clap(2, Some(clap_box([300, 1, 200, 1, -7, 2, 3, 1])));
        let facts = scan(&mut Cursor::new(&file), file.len() as u64).unwrap();
        let clap = facts.clean_apertures[&2];
        assert_eq!(clap.width, Ratio::new(300, 1).unwrap());
        assert_eq!(clap.height, Ratio::new(200, 1).unwrap());
        assert_eq!(clap.horizontal_offset, Ratio::new(-7, 2).unwrap());
        assert_eq!(clap.vertical_offset, Ratio::new(3, 1).unwrap());
        assert_eq!(facts.truncation, None);
    }

    #[test]
    fn no_clap_gives_none() {
        let file = file_with_clap(1, None);
        let facts = scan(&mut Cursor::new(&file), file.len() as u64).unwrap();
        assert!(facts.clean_apertures.is_empty());
    }

    #[test]
    fn zero_denominator_is_ignored_not_a_panic() {
        let file = file_with_clap(1, Some(clap_box([300, 0, 200, 1, 0, 1, 0, 1])));
        let facts = scan(&mut Cursor::new(&file), file.len() as u64).unwrap();
        assert!(facts.clean_apertures.is_empty());
    }

    #[test]
    fn detects_truncated_top_level_box() {
        let file = file_with_clap(1, None);
        let cut = &file[..file.len() - 10];
        let facts = scan(&mut Cursor::new(cut), cut.len() as u64).unwrap();
        let t = facts.truncation.expect("truncation found");
        assert_eq!(t.box_type, "mdat");
        assert_eq!(t.declared, 40);
        assert_eq!(t.file_len, cut.len() as u64);
    }

    #[test]
    fn truncated_moov_is_reported_and_walk_survives() {
        let file = file_with_clap(1, Some(clap_box([1, 1, 1, 1, 0, 1, 0, 1])));
        let cut = &file[..40];
        let facts = scan(&mut Cursor::new(cut), cut.len() as u64).unwrap();
        assert_eq!(facts.truncation.unwrap().box_type, "moov");
    }

    #[test]
    fn garbage_is_not_a_panic() {
        let junk: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
            .collect();
        let _ = scan(&mut Cursor::new(&junk), junk.len() as u64).unwrap();
    }
}
