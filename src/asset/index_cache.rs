//! The persistent index: a track's whole frame index kept in a cache
//! directory, so that a file whose index takes a full scan (a raw stream)
//! or is otherwise read on demand (Matroska, MPEG-TS, fragmented MP4…) has
//! its whole index — its frame count and timeline included — at the cost of
//! reading one small file, on every later open. `stills probe --index`
//! writes it.
//!
//! An entry is keyed by the source's identity as the file system gives it:
//! its canonical path, size, modification time and inode. A file changed in
//! any of these is a different file, whose entry is simply not found (and
//! entries of files gone stay until the directory is cleaned). The entry
//! repeats its key, so that two keys with one file name are told apart.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::asset::index::{FrameIndex, IndexEntry};
use crate::ratio::Ratio;

/// The format's first bytes, with its version.
const MAGIC: &[u8; 8] = b"STILLSX1";

/// Where the persistent index is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexCache {
    dir: PathBuf,
}

impl IndexCache {
    /// A cache in `dir` (made when the first entry is written).
    pub fn new(dir: impl Into<PathBuf>) -> IndexCache {
        IndexCache { dir: dir.into() }
    }

    /// The cache [`Asset::open`](crate::Asset::open) reads and `stills
    /// probe --index` writes: `$STILLS_INDEX_CACHE` (set but empty: none),
    /// else `$XDG_CACHE_HOME/stills/index`, else `$HOME/.cache/stills/index`.
    pub fn from_env() -> Option<IndexCache> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(set) = std::env::var_os("STILLS_INDEX_CACHE") {
            return (!set.is_empty()).then(|| IndexCache::new(set));
        }
        let base = var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
        Some(IndexCache::new(base.join("stills").join("index")))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry for `stream` of the file `path` is, and its key; `None`
    /// when the file cannot be looked at.
    pub(super) fn entry(&self, path: &Path, stream: usize) -> Option<(PathBuf, String)> {
        let key = source_key(path)?;
        let name = format!("{:016x}-{stream}.stix", fnv1a(key.as_bytes()));
        Some((self.dir.join(name), key))
    }

    /// The index stored for `stream` of `path`, when there is one for the
    /// file as it is now.
    pub(super) fn load(&self, path: &Path, stream: usize) -> Option<(FrameIndex, PathBuf)> {
        let (entry, key) = self.entry(path, stream)?;
        let bytes = std::fs::read(&entry).ok()?;
        let index = decode(&bytes, &key, stream)?;
        Some((index, entry))
    }

    /// Stores `index` as `stream` of `path`; returns the entry's path.
    pub(super) fn store(
        &self,
        path: &Path,
        stream: usize,
        index: &FrameIndex,
    ) -> io::Result<PathBuf> {
        let (entry, key) = self
            .entry(path, stream)
            .ok_or_else(|| io::Error::other("the source's identity cannot be read"))?;
        std::fs::create_dir_all(&self.dir)?;
        // Written beside and renamed, so a reader never sees half an entry.
        let partial = entry.with_extension(format!("partial-{}", std::process::id()));
        let mut file = std::fs::File::create(&partial)?;
        file.write_all(&encode(index, &key, stream))?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&partial, &entry)?;
        Ok(entry)
    }
}

/// The source's identity: canonical path, size, modification time (ns)
/// and, on Unix, device and inode.
fn source_key(path: &Path) -> Option<String> {
    let canonical = std::fs::canonicalize(path).ok()?;
    let meta = std::fs::metadata(&canonical).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    #[cfg(unix)]
    let node = {
        use std::os::unix::fs::MetadataExt;
        format!("{}:{}", meta.dev(), meta.ino())
    };
    #[cfg(not(unix))]
    let node = String::new();
    Some(format!(
        "{}\n{}\n{modified}\n{node}",
        canonical.display(),
        meta.len()
    ))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Packet flags.
const SYNC: u8 = 1;
const SHOWN: u8 = 2;

fn encode(index: &FrameIndex, key: &str, stream: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + key.len() + index.packets.len() * 17);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(&(stream as u64).to_le_bytes());
    for v in [
        index.time_base.num,
        index.time_base.den,
        index.timeline_offset,
        index.end,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(index.packets.len() as u64).to_le_bytes());
    for p in &index.packets {
        out.extend_from_slice(&p.pts.unwrap_or(i64::MIN).to_le_bytes());
        out.extend_from_slice(&p.duration.to_le_bytes());
        out.push((u8::from(p.sync) * SYNC) | (u8::from(p.shown) * SHOWN));
    }
    out
}

/// Reads an entry back; `None` for another key, another stream, or bytes
/// that are not a whole entry.
fn decode(bytes: &[u8], key: &str, stream: usize) -> Option<FrameIndex> {
    let mut at = 0usize;
    let mut next = |n: usize| -> Option<&[u8]> {
        let slice = bytes.get(at..at.checked_add(n)?)?;
        at += n;
        Some(slice)
    };
    let u64_at = |s: &[u8]| u64::from_le_bytes(s.try_into().unwrap_or_default());
    let i64_at = |s: &[u8]| i64::from_le_bytes(s.try_into().unwrap_or_default());
    if next(8)? != MAGIC {
        return None;
    }
    let key_len = u32::from_le_bytes(next(4)?.try_into().ok()?) as usize;
    if next(key_len)? != key.as_bytes() || u64_at(next(8)?) != stream as u64 {
        return None;
    }
    let time_base = Ratio::new(i64_at(next(8)?), i64_at(next(8)?))?;
    let timeline_offset = i64_at(next(8)?);
    let end = i64_at(next(8)?);
    let count = usize::try_from(u64_at(next(8)?)).ok()?;
    // What is left must be exactly the packets.
    let header = MAGIC.len() + 4 + key_len + 8 * 6;
    if bytes.len().checked_sub(header)? != count.checked_mul(17)? {
        return None;
    }
    let packets = (0..count)
        .map(|_| {
            let pts = i64_at(next(8)?);
            let duration = i64_at(next(8)?);
            let flags = next(1)?[0];
            Some(IndexEntry {
                pts: (pts != i64::MIN).then_some(pts),
                duration,
                sync: flags & SYNC != 0,
                shown: flags & SHOWN != 0,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(crate::asset::index_build::with_end(
        packets,
        time_base,
        timeline_offset,
        end,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> FrameIndex {
        let packets = vec![
            IndexEntry {
                pts: Some(0),
                duration: 10,
                sync: true,
                shown: true,
            },
            IndexEntry {
                pts: Some(20),
                duration: 10,
                sync: false,
                shown: false,
            },
            IndexEntry {
                pts: None,
                duration: 0,
                sync: false,
                shown: false,
            },
            IndexEntry {
                pts: Some(10),
                duration: 10,
                sync: false,
                shown: true,
            },
        ];
        crate::asset::index_build::with_end(packets, Ratio::new(1, 90000).unwrap(), 1200, 30)
    }

    #[test]
    fn entries_read_back_for_their_own_key_and_stream_only() {
        let bytes = encode(&index(), "key", 3);
        assert_eq!(decode(&bytes, "key", 3), Some(index()));
        assert_eq!(decode(&bytes, "other", 3), None);
        assert_eq!(decode(&bytes, "key", 2), None);
        assert_eq!(decode(&bytes[..bytes.len() - 1], "key", 3), None);
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode(&longer, "key", 3), None);
        assert_eq!(decode(b"not an index", "key", 3), None);
    }

    #[test]
    fn a_changed_file_is_a_different_entry() {
        let dir = std::env::temp_dir().join(format!("stills-index-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let media = dir.join("media.bin");
        std::fs::write(&media, b"one").unwrap();
        let cache = IndexCache::new(dir.join("cache"));
        assert_eq!(cache.load(&media, 0), None);
        let entry = cache.store(&media, 0, &index()).unwrap();
        assert!(entry.starts_with(cache.dir()));
        assert_eq!(cache.load(&media, 0), Some((index(), entry)));
        assert_eq!(cache.load(&media, 1), None);
        // Another size (and modification time): not the same file.
        std::fs::write(&media, b"two!").unwrap();
        assert_eq!(cache.load(&media, 0), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
