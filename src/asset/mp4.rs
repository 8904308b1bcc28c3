//! A small ISO-BMFF (MP4/MOV) box walker for the facts FFmpeg 5.1 does not
//! expose: the `clap` clean aperture of each track's sample entry, whether
//! a top-level box runs past the end of the file (truncation), and the
//! parts of each track's sample tables that FFmpeg keeps private — where
//! each sample lies (`stsz`/`stz2`, `stsc`, `stco`/`co64`) and its
//! composition offset (`ctts`) — from which the frame index is built
//! without reading any sample (see `index_tables`). Reads only box headers
//! and `moov`, never sample data.

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
    /// The sample tables of each track, by track ID, for tracks whose
    /// tables could be read as FFmpeg reads them (a track missing here has
    /// a table stills does not mirror, or a duplicated track ID).
    pub sample_tables: HashMap<u32, SampleTable>,
    /// The movie is fragmented (`moov` holds an `mvex`): its samples are
    /// described by `moof` boxes spread through the file, not by `moov`.
    pub fragmented: bool,
}

/// What a track's sample tables say about each sample that FFmpeg's own
/// index (`AVIndexEntry`) does not carry: which sample sits at each file
/// offset, and the composition offset FFmpeg adds to its decode time.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SampleTable {
    /// `(file offset, sample number)` of every sample, sorted by offset
    /// (then number), laid out by FFmpeg's walk of chunks and sizes.
    pub offsets: Vec<(u64, u32)>,
    /// Samples the size table declares (`stsz`/`stz2` sample_count).
    pub sample_count: u32,
    /// Each sample's composition offset, in sample order, as FFmpeg 5.1
    /// keeps them (`mov_read_ctts`: entries with a count of 0 or less
    /// skipped, expanded up to `sample_count`); `None` without a `ctts`,
    /// or where FFmpeg throws the table away as invalid.
    pub composition: Option<Vec<i32>>,
    /// FFmpeg's `dts_shift`: the largest negation of a negative composition
    /// offset, not counting the last two entries (its
    /// `mov_update_dts_shift`); FFmpeg lowers every decode time by it and
    /// adds it back to the presentation time.
    pub dts_shift: i64,
    /// Entries of the edit list (`elst`), 0 without one.
    pub edits: usize,
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
    walk(reader, len, false)
}

/// Walks the top-level boxes of a remote source: as [`scan`], but a
/// fragmented movie's walk stops at its first fragment (`moof`) after the
/// `moov`, since each box of a remote source costs a request; truncation
/// is then found only up to there.
pub fn scan_remote<R: Read + Seek>(reader: &mut R, len: u64) -> io::Result<Mp4Facts> {
    walk(reader, len, true)
}

fn walk<R: Read + Seek>(reader: &mut R, len: u64, remote: bool) -> io::Result<Mp4Facts> {
    let mut facts = Mp4Facts::default();
    let mut seen_moov = false;
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
        if remote && seen_moov && &kind == b"moof" {
            break;
        }
        if &kind == b"moov" {
            seen_moov = true;
            let body_len = (size - header_len).min(len - offset - header_len);
            if body_len <= MAX_MOOV_BYTES {
                let mut body = vec![0u8; body_len as usize];
                reader.seek(SeekFrom::Start(offset + header_len))?;
                reader.read_exact(&mut body)?;
                read_moov(&body, len, &mut facts);
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

fn read_moov(moov: &[u8], file_len: u64, facts: &mut Mp4Facts) {
    facts.fragmented = child(moov, b"mvex").is_some();
    let mut seen = HashMap::new();
    for (_, trak) in children(moov).filter(|(k, _)| k == b"trak") {
        let Some(track_id) = child(trak, b"tkhd").and_then(tkhd_track_id) else {
            continue;
        };
        *seen.entry(track_id).or_insert(0usize) += 1;
        let stbl = child(trak, b"mdia")
            .and_then(|b| child(b, b"minf"))
            .and_then(|b| child(b, b"stbl"));
        let entry = stbl
            .and_then(|b| child(b, b"stsd"))
            .and_then(first_sample_entry);
        if let Some(clap) = entry.and_then(visual_entry_clap) {
            facts.clean_apertures.insert(track_id, clap);
        }
        let edits = child(trak, b"edts")
            .and_then(|b| child(b, b"elst"))
            .and_then(|elst| be32(elst, 4))
            .unwrap_or(0) as usize;
        if let Some(mut table) = stbl.and_then(|stbl| sample_table(stbl, file_len)) {
            table.edits = edits;
            facts.sample_tables.insert(track_id, table);
        }
    }
    // Which of two tracks with one ID FFmpeg's stream is cannot be told.
    for (id, count) in seen {
        if count > 1 {
            facts.sample_tables.remove(&id);
        }
    }
}

/// The one child of `kind`, or `None` when there is none or more than one
/// (FFmpeg keeps the first of some duplicated tables and the last of
/// others; such a file is left to the full scan).
fn only_child<'a>(body: &'a [u8], kind: &[u8; 4]) -> Option<Option<&'a [u8]>> {
    let mut found = children(body).filter(|(k, _)| k == kind).map(|(_, b)| b);
    let first = found.next();
    match found.next() {
        Some(_) => None,
        None => Some(first),
    }
}

/// Reads the sample tables of one `stbl` as FFmpeg 5.1's `mov_read_stsz`,
/// `mov_read_stsc`, `mov_read_stco` and `mov_read_ctts` read them, and lays
/// the samples out as its `mov_build_index` does. `None` for any table
/// FFmpeg would read differently (duplicated, cut short, an `stsc` it has
/// to repair) — those tracks take the full scan — and for one whose
/// samples could not all lie in the file's `file_len` bytes: a table of
/// one size for every sample states its count in four bytes, and laying
/// out four billion samples a hostile file claims would exhaust memory.
fn sample_table(stbl: &[u8], file_len: u64) -> Option<SampleTable> {
    let sizes = match (only_child(stbl, b"stsz")?, only_child(stbl, b"stz2")?) {
        (Some(stsz), None) => sample_sizes(stsz, false)?,
        (None, Some(stz2)) => sample_sizes(stz2, true)?,
        _ => return None,
    };
    if let Sizes::Constant { size, count } = sizes {
        if u64::from(size) * u64::from(count) > file_len {
            return None;
        }
    }
    let chunk_offsets = match (only_child(stbl, b"stco")?, only_child(stbl, b"co64")?) {
        (Some(stco), None) => chunk_offsets(stco, false)?,
        (None, Some(co64)) => chunk_offsets(co64, true)?,
        (None, None) => Vec::new(),
        _ => return None,
    };
    let stsc = match only_child(stbl, b"stsc")? {
        Some(stsc) => sample_to_chunk(stsc)?,
        None => Vec::new(),
    };
    let (composition, dts_shift) = match only_child(stbl, b"ctts")? {
        Some(ctts) => composition_offsets(ctts, sizes.count())?,
        None => (None, 0),
    };
    let mut offsets = Vec::with_capacity(sizes.count() as usize);
    let mut sample = 0u32;
    let mut run = 0usize;
    'chunks: for (i, &chunk) in chunk_offsets.iter().enumerate() {
        // stsc `first` counts chunks from 1.
        while run + 1 < stsc.len() && i as u64 + 1 == u64::from(stsc[run + 1].0) {
            run += 1;
        }
        let Some(&(_, per_chunk)) = stsc.get(run) else {
            break;
        };
        let mut offset = chunk;
        for _ in 0..per_chunk {
            if sample >= sizes.count() {
                break 'chunks;
            }
            offsets.push((offset, sample));
            offset = offset.checked_add(u64::from(sizes.get(sample)))?;
            sample += 1;
        }
    }
    offsets.sort_unstable();
    Some(SampleTable {
        offsets,
        sample_count: sizes.count(),
        composition,
        dts_shift,
        edits: 0,
    })
}

/// A sample size table: one size for every sample, or one each.
enum Sizes {
    Constant { size: u32, count: u32 },
    Each(Vec<u32>),
}

impl Sizes {
    fn count(&self) -> u32 {
        match self {
            Sizes::Constant { count, .. } => *count,
            Sizes::Each(v) => v.len() as u32,
        }
    }

    fn get(&self, sample: u32) -> u32 {
        match self {
            Sizes::Constant { size, .. } => *size,
            Sizes::Each(v) => v.get(sample as usize).copied().unwrap_or(0),
        }
    }
}

/// `stsz` (32-bit sizes or one constant size) or `stz2` (4, 8 or 16-bit
/// sizes); `None` when the table is cut short.
fn sample_sizes(body: &[u8], compact: bool) -> Option<Sizes> {
    let count = be32(body, 8)?;
    let field_bits = if compact {
        u32::from(*body.get(7)?)
    } else {
        let constant = be32(body, 4)?;
        if constant > 0 {
            return Some(Sizes::Constant {
                size: constant,
                count,
            });
        }
        32
    };
    if !matches!(field_bits, 4 | 8 | 16 | 32) {
        return None;
    }
    let table = body.get(12..)?;
    let needed = (u64::from(count) * u64::from(field_bits)).div_ceil(8);
    if (table.len() as u64) < needed {
        return None;
    }
    let sizes = (0..count as usize)
        .map(|i| match field_bits {
            4 => {
                let byte = table[i / 2];
                u32::from(if i % 2 == 0 { byte >> 4 } else { byte & 0xf })
            }
            8 => u32::from(table[i]),
            16 => u32::from(u16::from_be_bytes([table[2 * i], table[2 * i + 1]])),
            _ => u32::from_be_bytes([
                table[4 * i],
                table[4 * i + 1],
                table[4 * i + 2],
                table[4 * i + 3],
            ]),
        })
        .collect::<Vec<u32>>();
    // FFmpeg refuses sizes that do not fit its signed int.
    if sizes.iter().any(|&s| s > i32::MAX as u32) {
        return None;
    }
    Some(Sizes::Each(sizes))
}

/// `stco` (32-bit) or `co64` (64-bit) chunk offsets.
fn chunk_offsets(body: &[u8], wide: bool) -> Option<Vec<u64>> {
    let count = be32(body, 4)? as usize;
    let width = if wide { 8 } else { 4 };
    let table = body.get(8..8 + count.checked_mul(width)?)?;
    Some(
        table
            .chunks_exact(width)
            .map(|c| {
                if wide {
                    let v = u64::from_be_bytes(c.try_into().unwrap_or_default());
                    // FFmpeg reads a negative 64-bit offset as 0.
                    if v > i64::MAX as u64 {
                        0
                    } else {
                        v
                    }
                } else {
                    u64::from(u32::from_be_bytes(c.try_into().unwrap_or_default()))
                }
            })
            .collect(),
    )
}

/// `stsc` as `(first chunk, samples per chunk)` runs; `None` for a table
/// FFmpeg would repair (first chunks not increasing from 1, a zero count or
/// description index), whose repaired layout is not mirrored here.
fn sample_to_chunk(body: &[u8]) -> Option<Vec<(u32, u32)>> {
    let count = be32(body, 4)? as usize;
    let table = body.get(8..8 + count.checked_mul(12)?)?;
    let runs: Vec<(u32, u32, u32)> = table
        .chunks_exact(12)
        .map(|c| {
            let v = |i: usize| u32::from_be_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
            (v(0), v(4), v(8))
        })
        .collect();
    let valid = runs.iter().enumerate().all(|(i, &(first, per_chunk, id))| {
        let increasing = i == 0 || first > runs[i - 1].0;
        // FFmpeg reads these fields as signed ints.
        increasing && first as i32 > i as i32 && per_chunk as i32 >= 1 && id as i32 >= 1
    });
    valid.then(|| runs.iter().map(|&(f, c, _)| (f, c)).collect())
}

/// `ctts` as FFmpeg 5.1 keeps it: entries with a count of 0 or less are
/// skipped, and a table with an offset beyond ±2^28 before its last two
/// entries is thrown away (the `dts_shift` found up to it stays). Returns
/// the offsets expanded per sample (at most `samples` of them) and the
/// `dts_shift`; `None` when the box is cut short, where FFmpeg fails.
fn composition_offsets(body: &[u8], samples: u32) -> Option<(Option<Vec<i32>>, i64)> {
    let entries = be32(body, 4)? as usize;
    let mut offsets: Vec<i32> = Vec::new();
    let mut dts_shift = 0i64;
    for i in 0..entries {
        let at = 8 + 8 * i;
        let count = be32(body, at)? as i32;
        let offset = be32(body, at + 4)? as i32;
        if count <= 0 {
            continue;
        }
        // FFNABS(offset) < -(1 << 28): |offset| > 2^28.
        if offset.unsigned_abs() > 1 << 28 && i + 2 < entries {
            return Some((None, dts_shift));
        }
        if i + 2 < entries && offset < 0 {
            let magnitude = if offset == i32::MIN {
                i32::MAX
            } else {
                -offset
            };
            dts_shift = dts_shift.max(i64::from(magnitude));
        }
        let room = (samples as usize).saturating_sub(offsets.len());
        offsets.extend(std::iter::repeat_n(offset, (count as usize).min(room)));
    }
    Some(((entries > 0).then_some(offsets), dts_shift))
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

    fn full(kind: &[u8; 4], fields: &[u32]) -> Vec<u8> {
        let mut body = vec![0u8; 4];
        body.extend(fields.iter().flat_map(|v| v.to_be_bytes()));
        boxed(kind, &body)
    }

    #[test]
    fn sample_tables_lay_samples_out_by_chunk() {
        // Three chunks: 2, 2 and 1 samples (stsc runs from chunks 1 and 3).
        let sizes = full(b"stsz", &[0, 5, 10, 11, 12, 13, 14]);
        let chunks = full(b"stco", &[3, 1000, 2000, 3000]);
        let stsc = full(b"stsc", &[2, 1, 2, 1, 3, 1, 1]);
        // Offsets 2, 2, -3 (a shift of 3: it is not among the last two
        // entries), 7, 7.
        let ctts = full(b"ctts", &[4, 2, 2, 1, (-3i32) as u32, 1, 7, 1, 7]);
        let mut stbl = sizes;
        stbl.extend(chunks);
        stbl.extend(stsc);
        stbl.extend(ctts);
        let table = sample_table(&stbl, 1 << 20).expect("readable");
        assert_eq!(table.sample_count, 5);
        assert_eq!(
            table.offsets,
            [(1000, 0), (1010, 1), (2000, 2), (2012, 3), (3000, 4)]
        );
        assert_eq!(table.composition, Some(vec![2, 2, -3, 7, 7]));
        assert_eq!(table.dts_shift, 3);
    }

    #[test]
    fn composition_offsets_as_ffmpeg_keeps_them() {
        // A count of 0 is skipped; the shift counts only entries before the
        // last two; expansion stops at the sample count.
        let ctts = |entries: &[(i32, i32)]| {
            let mut v = vec![0u8; 4];
            v.extend((entries.len() as u32).to_be_bytes());
            for &(c, o) in entries {
                v.extend(c.to_be_bytes());
                v.extend(o.to_be_bytes());
            }
            v
        };
        let (offsets, shift) =
            composition_offsets(&ctts(&[(0, -9), (2, -1), (1, -5), (9, -7)]), 4).unwrap();
        assert_eq!(offsets, Some(vec![-1, -1, -5, -7]));
        assert_eq!(shift, 1);
        // An offset beyond 2^28 before the last two entries: thrown away.
        let (offsets, _) = composition_offsets(&ctts(&[(1, 1 << 29), (1, 0), (1, 0)]), 3).unwrap();
        assert_eq!(offsets, None);
        // Cut short: FFmpeg fails to read it.
        assert_eq!(composition_offsets(&ctts(&[(1, 0)])[..12], 1), None);
    }

    #[test]
    fn compact_sizes_and_invalid_chunk_runs() {
        let mut stz2 = vec![0u8; 7];
        stz2.push(4);
        stz2.extend(3u32.to_be_bytes());
        stz2.extend([0x12, 0x30]);
        let Some(Sizes::Each(sizes)) = sample_sizes(&stz2, true) else {
            panic!("4-bit sizes");
        };
        assert_eq!(sizes, [1, 2, 3]);
        // First chunks must increase and start from at least 1; a zero
        // count is invalid.
        let stsc = |runs: &[u32]| full(b"stsc", runs)[8..].to_vec();
        assert!(sample_to_chunk(&stsc(&[2, 1, 5, 1, 3, 4, 1])).is_some());
        assert!(sample_to_chunk(&stsc(&[2, 0, 5, 1, 3, 4, 1])).is_none());
        assert!(sample_to_chunk(&stsc(&[2, 3, 5, 1, 3, 4, 1])).is_none());
        assert!(sample_to_chunk(&stsc(&[1, 1, 0, 1])).is_none());
    }

    #[test]
    fn a_remote_walk_stops_at_the_first_fragment() {
        let mut moov = boxed(b"mvex", &[]);
        moov.extend(boxed(b"trak", &[]));
        let mut file = boxed(b"ftyp", b"isom\0\0\0\0");
        file.extend(boxed(b"moov", &moov));
        file.extend(boxed(b"moof", &[0u8; 8]));
        file.extend(boxed(b"mdat", &[0u8; 8]));
        let mut cut = file.clone();
        cut.extend(&(100u32.to_be_bytes()));
        cut.extend(b"mdat");
        let local = scan(&mut Cursor::new(&cut), cut.len() as u64).unwrap();
        assert!(local.fragmented);
        assert_eq!(local.truncation.map(|t| t.offset), Some(file.len() as u64));
        let remote = scan_remote(&mut Cursor::new(&cut), cut.len() as u64).unwrap();
        assert!(remote.fragmented);
        assert_eq!(remote.truncation, None);
    }

    /// Issue 12: a 100-byte table claiming four billion one-byte samples
    /// in one chunk (with as many composition offsets) made the walk
    /// reserve 64 GB and abort the process.
    #[test]
    fn r12_a_sample_count_the_file_cannot_hold_is_not_laid_out() {
        let sizes = full(b"stsz", &[1, u32::MAX]);
        let chunks = full(b"stco", &[1, 0]);
        let stsc = full(b"stsc", &[1, 1, u32::MAX, 1]);
        let ctts = full(b"ctts", &[1, i32::MAX as u32, 1]);
        let mut stbl = sizes;
        stbl.extend(chunks);
        stbl.extend(stsc);
        stbl.extend(ctts);
        assert_eq!(sample_table(&stbl, 1 << 20), None);
        // The same table for samples that fit in the file is read.
        let sizes = full(b"stsz", &[1, 3]);
        let mut stbl = sizes;
        stbl.extend(full(b"stco", &[1, 0]));
        stbl.extend(full(b"stsc", &[1, 1, 3, 1]));
        let table = sample_table(&stbl, 3).expect("readable");
        assert_eq!(table.offsets, [(0, 0), (1, 1), (2, 2)]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Whatever counts the tables claim, the samples laid out (and the
        /// composition offsets expanded) are no more than the file's bytes
        /// or the tables' own entries could hold.
        #[test]
        fn r12_claimed_counts_do_not_size_the_layout(
            constant in 0u32..4,
            // Up to 4 times the largest file: a layout sized by the claim
            // fails the bound here without exhausting the test's memory.
            count in 0u32..1 << 22,
            chunks in 0u32..64,
            per_chunk in 1u32..1 << 22,
            ctts_count in 1u32..=i32::MAX as u32,
            file_len in 0u64..1 << 20,
        ) {
            let mut stbl = full(b"stsz", &[constant, count]);
            let mut stco = vec![chunks];
            stco.extend((0..chunks).map(|c| c * 100));
            stbl.extend(full(b"stco", &stco));
            stbl.extend(full(b"stsc", &[1, 1, per_chunk, 1]));
            stbl.extend(full(b"ctts", &[1, ctts_count, 0]));
            let bound = file_len.max(stbl.len() as u64);
            if let Some(table) = sample_table(&stbl, file_len) {
                proptest::prop_assert!(table.offsets.len() as u64 <= bound);
                let expanded = table.composition.map_or(0, |c| c.len());
                proptest::prop_assert!(expanded as u64 <= bound);
            }
        }
    }

    #[test]
    fn garbage_is_not_a_panic() {
        let junk: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
            .collect();
        let _ = scan(&mut Cursor::new(&junk), junk.len() as u64).unwrap();
    }
}
