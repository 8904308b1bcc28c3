//! The benchmark inputs: made on demand with the ffmpeg CLI, never
//! committed, and cached under Cargo's target tmp directory. Each file's
//! name carries a hash of the exact recipe, so changing the recipe makes a
//! new file instead of silently reusing a stale one.
//!
//! Each input is checked after it is found or made, through the library's
//! own frame index, against the structure the issue asks for (GOP length,
//! B-frames, size): a benchmark on the wrong kind of stream would measure
//! the wrong thing.
//!
//! Every bench compiles this module and uses part of it.
#![allow(dead_code)]

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
    /// Keyframes every `gop` frames in display order; ignored when
    /// `keyframes` is given.
    pub gop: usize,
    /// For encoders' own keyframe choice (scene cuts): how many keyframes
    /// the stream must have.
    pub keyframes: Option<std::ops::RangeInclusive<usize>>,
    /// The ffmpeg arguments between `-y` and the output path.
    pub args: &'static [&'static str],
}

/// 1080p30 H.264, 60 s, closed 250-frame GOPs, 3 B-frames: the timing
/// input of the generator and index benches. The x264 preset only changes
/// how long making it takes, not the stream structure the timings depend
/// on.
#[rustfmt::skip]
pub const H264_1080P_60S: Recipe = Recipe {
    name: "h264_1080p30_60s_gop250_bf3",
    codec: "h264",
    width: 1920,
    height: 1080,
    frames: 1800,
    gop: 250,
    keyframes: None,
    args: &[
        "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-t", "60",
        "-c:v", "libx264", "-preset", "veryfast",
        "-g", "250", "-keyint_min", "250", "-sc_threshold", "0", "-bf", "3",
        "-pix_fmt", "yuv420p", "-movflags", "+faststart",
    ],
};

/// 1080p30 H.264, 60 s, x264's defaults (preset medium, scene-cut
/// keyframes, 3 B-frames). testsrc2 has no cuts of its own: its picture is
/// inverted every 3.1 s (`negate` with a timeline), which x264's scene-cut
/// detection takes as a cut, as it would a film's.
#[rustfmt::skip]
pub const H264_1080P_X264_DEFAULTS: Recipe = Recipe {
    name: "h264_1080p30_60s_x264_defaults_scenecuts",
    codec: "h264",
    width: 1920,
    height: 1080,
    frames: 1800,
    gop: 0,
    keyframes: Some(15..=25),
    args: &[
        "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-t", "60",
        "-vf", "negate=enable='lt(mod(t,6.2),3.1)'",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
    ],
};

/// 2160p30 HEVC Main10 HDR10 (BT.2020, PQ, mastering display and light
/// level metadata), 2 s in one GOP with 3 B-frames: the
/// dense bench's HDR input, tone mapped by both sides. Short because x265
/// at 4K is slow to make.
#[rustfmt::skip]
pub const HEVC_MAIN10_HDR10_2160P: Recipe = Recipe {
    name: "hevc_main10_hdr10_2160p30_2s",
    codec: "hevc",
    width: 3840,
    height: 2160,
    frames: 60,
    gop: 250,
    keyframes: None,
    args: &[
        "-f", "lavfi", "-i", "testsrc2=size=3840x2160:rate=30", "-t", "2",
        "-c:v", "libx265", "-preset", "ultrafast",
        "-g", "250", "-keyint_min", "250", "-bf", "3",
        "-x265-params", "scenecut=0:log-level=error:hdr10=1:repeat-headers=1:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400",
        "-pix_fmt", "yuv420p10le", "-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc",
        "-tag:v", "hvc1", "-movflags", "+faststart",
    ],
};

/// How many rounds a bench runs: `STILLS_BENCH_ROUNDS`, else `default`.
pub fn rounds(default: usize) -> Result<usize, String> {
    match std::env::var("STILLS_BENCH_ROUNDS") {
        Ok(v) => v
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("STILLS_BENCH_ROUNDS must be a positive integer, not {v:?}")),
        Err(_) => Ok(default),
    }
}

fn input_dir() -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("stills-bench-inputs");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// The input's path, made first if it is not cached yet, and checked.
pub fn ensure(recipe: &Recipe) -> Result<PathBuf, String> {
    let path = input_dir()?.join(format!("{}_{:016x}.mp4", recipe.name, fnv1a(recipe.args)));
    if !path.exists() {
        make(recipe, &path)?;
    }
    let keyframes = fixed_keyframes(recipe, 1);
    check(recipe, recipe.frames, &keyframes, &path)?;
    Ok(path)
}

/// `copies` of a recipe's input one after another, remuxed without
/// re-encoding (`ffmpeg -f concat -c copy`, `moov` first): a long file with
/// the same stream structure, every copy starting with a keyframe.
pub fn ensure_concatenation(recipe: &Recipe, copies: usize) -> Result<PathBuf, String> {
    let part = ensure(recipe)?;
    let mut key: Vec<&str> = recipe.args.to_vec();
    let copies_text = copies.to_string();
    key.extend(["concat", &copies_text]);
    let path = input_dir()?.join(format!(
        "{}_x{copies}_{:016x}.mp4",
        recipe.name,
        fnv1a(&key)
    ));
    if !path.exists() {
        let list = path.with_extension("txt");
        let line = format!("file '{}'\n", part.display());
        std::fs::write(&list, line.repeat(copies))
            .map_err(|e| format!("{}: {e}", list.display()))?;
        let partial = path.with_extension("partial.mp4");
        eprintln!(
            "making {} copies of {} with ffmpeg -c copy (once)",
            copies, recipe.name
        );
        let status = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
            .args(["-f", "concat", "-safe", "0", "-i"])
            .arg(&list)
            .args(["-c", "copy", "-movflags", "+faststart"])
            .arg(&partial)
            .status()
            .map_err(|e| format!("running ffmpeg to concatenate {}: {e}", recipe.name))?;
        let _ = std::fs::remove_file(&list);
        if !status.success() {
            let _ = std::fs::remove_file(&partial);
            return Err(format!(
                "ffmpeg failed concatenating {}: {status}",
                recipe.name
            ));
        }
        std::fs::rename(&partial, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let keyframes = fixed_keyframes(recipe, copies);
    check(recipe, recipe.frames * copies, &keyframes, &path)?;
    Ok(path)
}

/// The display positions of the keyframes in `copies` of a recipe with
/// fixed GOPs; none for one that leaves them to the encoder (`gop` 0,
/// `keyframes` given), which `check` counts instead.
fn fixed_keyframes(recipe: &Recipe, copies: usize) -> Vec<usize> {
    if recipe.keyframes.is_some() || recipe.gop == 0 {
        return Vec::new();
    }
    (0..copies)
        .flat_map(|c| {
            (0..recipe.frames)
                .step_by(recipe.gop)
                .map(move |k| c * recipe.frames + k)
        })
        .collect()
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

/// Checks the stream's codec, size, frame count, keyframes (display
/// positions) and B-frames (packets whose presentation time goes back in
/// decode order).
fn check(recipe: &Recipe, frames: usize, keyframes: &[usize], path: &Path) -> Result<(), String> {
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
    if index.packets.len() != frames {
        return Err(fail(format!(
            "has {} packets, expected {frames}",
            index.packets.len()
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
    if let Some(range) = &recipe.keyframes {
        if !range.contains(&syncs.len()) {
            return Err(fail(format!(
                "has {} keyframes, expected {range:?}",
                syncs.len()
            )));
        }
    } else if syncs != keyframes {
        return Err(fail(format!(
            "has keyframes at display positions {syncs:?}, expected {keyframes:?}"
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
