//! The benchmark inputs: made on demand with the ffmpeg CLI, never
//! committed, and cached under Cargo's target tmp directory. Each file's
//! name carries a hash of the exact recipe, so changing the recipe makes a
//! new file instead of silently reusing a stale one.
//!
//! Each input is checked after it is found or made, through the library's
//! own frame index, against the structure the issue asks for (GOP length,
//! B-frames, size): a benchmark on the wrong kind of stream would measure
//! the wrong thing.

use std::path::{Path, PathBuf};
use std::process::Command;

use stills::Asset;

/// A benchmark input: what it is called, how ffmpeg makes it, and what its
/// frame index must show.
pub struct Recipe {
    pub name: &'static str,
    pub codec: &'static str,
    pub width: u32,
    pub height: u32,
    pub frames: usize,
    pub gop: usize,
    /// The ffmpeg arguments between `-y` and the output path.
    pub args: &'static [&'static str],
}

/// The input's path, made first if it is not cached yet, and checked.
pub fn ensure(recipe: &Recipe) -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("stills-bench-inputs");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("{}_{:016x}.mp4", recipe.name, fnv1a(recipe.args)));
    if !path.exists() {
        make(recipe, &path)?;
    }
    check(recipe, &path)?;
    Ok(path)
}

fn make(recipe: &Recipe, path: &Path) -> Result<(), String> {
    eprintln!(
        "making {} with ffmpeg (once; cached in {})",
        recipe.name,
        path.parent()
            .map_or(String::new(), |p| p.display().to_string())
    );
    // Written beside the final name and renamed, so an interrupted run
    // leaves no half-made file that a later run would take as cached.
    let partial = path.with_extension("partial.mp4");
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(recipe.args)
        .arg(&partial)
        .status()
        .map_err(|e| format!("running ffmpeg to make {}: {e}", recipe.name))?;
    if !status.success() {
        let _ = std::fs::remove_file(&partial);
        return Err(format!("ffmpeg failed making {}: {status}", recipe.name));
    }
    std::fs::rename(&partial, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Checks the stream's codec, size, frame count, GOP length and B-frames
/// (packets whose presentation time goes back in decode order).
fn check(recipe: &Recipe, path: &Path) -> Result<(), String> {
    let fail = |what: String| format!("{}: {what}", path.display());
    let asset = Asset::open(path).map_err(|e| fail(e.to_string()))?;
    let track = asset
        .default_video_track()
        .map_err(|e| fail(e.to_string()))?;
    let index = asset.frame_index(track).map_err(|e| fail(e.to_string()))?;
    if track.codec != recipe.codec
        || (track.coded_width, track.coded_height) != (recipe.width, recipe.height)
    {
        return Err(fail(format!(
            "is {} {}x{}, expected {} {}x{}",
            track.codec,
            track.coded_width,
            track.coded_height,
            recipe.codec,
            recipe.width,
            recipe.height
        )));
    }
    if index.packets.len() != recipe.frames {
        return Err(fail(format!(
            "has {} packets, expected {}",
            index.packets.len(),
            recipe.frames
        )));
    }
    // GOP length in display order: with open GOPs (x265's default) a
    // keyframe's leading pictures follow it in decode order.
    let syncs: Vec<usize> = index
        .presentation
        .iter()
        .enumerate()
        .filter(|&(_, &i)| index.packets.get(i as usize).is_some_and(|p| p.sync))
        .map(|(rank, _)| rank)
        .collect();
    let expected: Vec<usize> = (0..recipe.frames).step_by(recipe.gop).collect();
    if syncs != expected {
        return Err(fail(format!(
            "has keyframes at display positions {syncs:?}, expected every {}",
            recipe.gop
        )));
    }
    let reordered = index
        .packets
        .windows(2)
        .any(|w| matches!((w[0].pts, w[1].pts), (Some(a), Some(b)) if b < a));
    if !reordered {
        return Err(fail("has no B-frames (no reordered packets)".into()));
    }
    Ok(())
}

/// FNV-1a over the arguments, separated, for the cache file name.
fn fnv1a(args: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in args.iter().flat_map(|a| a.bytes().chain([0])) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
