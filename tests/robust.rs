//! Damaged inputs through `probe` and `grab` (issue 12): seeded mutations
//! of the fixtures (truncation, byte flips, zeroed blocks, duplicated
//! chunks). Whatever the damage, each command ends by itself (no hang:
//! the runner fails a command past its deadline), exits with a status
//! rather than a signal (no crash), reports no panic, and answers every
//! file and every requested time with an image or an error.

mod common;

use std::path::PathBuf;

use common::cli::{fixture, stills};
use common::scratch::Scratch;

/// Small fixtures of every container and codec family the suite has.
const FIXTURES: &[&str] = &[
    "rot0.mp4",
    "h264_bframes.mp4",
    "h264_opengop_pyramid.mkv",
    "vp9.webm",
    "av1.mp4",
    "hevc_main10_hdr10.mp4",
    "mpegts_start.ts",
];

/// Seeds per fixture and kind of damage: the same files on every run.
const SEEDS: u64 = 6;

/// A small deterministic generator (xorshift64*), so a failure names a
/// file that can be made again.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    Truncate,
    FlipBytes,
    ZeroBlock,
    DuplicateChunk,
}

const DAMAGE: [Damage; 4] = [
    Damage::Truncate,
    Damage::FlipBytes,
    Damage::ZeroBlock,
    Damage::DuplicateChunk,
];

fn damage(bytes: &[u8], kind: Damage, rng: &mut Rng) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let len = bytes.len();
    match kind {
        Damage::Truncate => out.truncate(1 + rng.below(len - 1)),
        Damage::FlipBytes => {
            for _ in 0..1 + rng.below(32) {
                let at = rng.below(len);
                out[at] ^= 1 << rng.below(8);
            }
        }
        Damage::ZeroBlock => {
            let at = rng.below(len);
            let end = (at + 1 + rng.below(4096)).min(len);
            out[at..end].fill(0);
        }
        Damage::DuplicateChunk => {
            let at = rng.below(len);
            let end = (at + 1 + rng.below(8192)).min(len);
            let chunk = bytes[at..end].to_vec();
            let to = rng.below(len);
            out.splice(to..to, chunk);
        }
    }
    out
}

/// Every fixture with every kind of damage, `SEEDS` times each.
fn damaged_files(scratch: &Scratch) -> Vec<String> {
    let mut files = Vec::new();
    for name in FIXTURES {
        let bytes = std::fs::read(fixture(name)).expect("fixture");
        for (k, kind) in DAMAGE.iter().enumerate() {
            for seed in 0..SEEDS {
                let mut rng = Rng::new(seed * 31 + k as u64 + 1);
                let file = format!("{seed}_{kind:?}_{name}");
                let path: PathBuf = scratch.write(&file, &damage(&bytes, *kind, &mut rng));
                files.push(path.display().to_string());
            }
        }
    }
    files
}

#[test]
fn r12_damaged_fixtures_are_answered_without_panic_crash_or_hang() {
    let scratch = Scratch::new("robust");
    let files = damaged_files(&scratch);

    let mut probe = vec!["probe", "--no-gpu"];
    probe.extend(files.iter().map(String::as_str));
    let run = stills(&probe, "");
    assert!(run.status.code().is_some(), "probe died: {:?}", run.status);
    let described = run.stdout.lines().count();
    let refused = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("stills: "))
        .count();
    assert_eq!(described + refused, files.len(), "{}", run.stderr);
    assert!(!run.stdout.contains("internal panic"), "{}", run.stdout);
    assert!(!run.stderr.contains("internal panic"), "{}", run.stderr);

    let out = scratch.path("out");
    let times = ["0", "0.5", "1.5"];
    let mut grab = vec!["grab", "--json", "--max-size", "48x0", "-o"];
    let out = out.to_str().expect("UTF-8");
    grab.push(out);
    for t in times {
        grab.extend(["--at", t]);
    }
    grab.extend(files.iter().map(String::as_str));
    let run = stills(&grab, "");
    assert!(run.status.code().is_some(), "grab died: {:?}", run.status);
    let lines = run.json_lines();
    assert_eq!(lines.len(), files.len() * times.len(), "{}", run.stderr);
    for file in &files {
        let answered = lines.iter().filter(|l| l["file"] == file.as_str()).count();
        assert_eq!(answered, times.len(), "{file}");
    }
    let images = lines.iter().filter(|l| l["path"].is_string()).count();
    eprintln!(
        "{} damaged files: {described} described, {refused} refused; {images} of {} images",
        files.len(),
        lines.len()
    );
    assert!(images > 0, "damage this light leaves some frames readable");
    for line in &lines {
        let error = line["error"].as_str().unwrap_or("");
        assert!(!error.contains("internal panic"), "{line}");
        assert!(
            line["error"].is_string() || line["path"].is_string(),
            "{line}"
        );
    }
}
