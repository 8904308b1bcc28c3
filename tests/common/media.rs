//! Finding the real-world media that lives beside the checkout
//! (`../shared/media`, described by its MANIFEST.md). It is not part of the
//! crate, so a checkout without it skips these tests and says so; CI sets
//! `STILLS_REQUIRE_SHARED_MEDIA` so that a missing directory fails instead of
//! passing silently.

use std::path::{Path, PathBuf};

const MEDIA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/media");

/// The shared media directory, or `None` (after saying "skipped") when it is
/// absent and not required.
pub fn media_dir() -> Option<PathBuf> {
    let dir = Path::new(MEDIA_DIR);
    if dir.is_dir() {
        return Some(dir.to_path_buf());
    }
    if std::env::var_os("STILLS_REQUIRE_SHARED_MEDIA").is_some() {
        panic!(
            "STILLS_REQUIRE_SHARED_MEDIA is set but {} is not a directory",
            dir.display()
        );
    }
    eprintln!("skipped: ../shared/media not found");
    None
}

/// Every media file under `dir` (its subdirectories included), sorted, as
/// paths relative to `dir`; the manifest is not media.
pub fn media_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|n| n != "MANIFEST.md") {
                let rel = path.strip_prefix(dir).expect("walked from dir");
                files.push(rel.to_path_buf());
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "{} holds no media files", dir.display());
    files
}
