//! Making media at test time with the ffmpeg CLI (installed by
//! `platform/debian/setup.sh`), into a directory of each test's own under the
//! system's temporary directory.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A scratch directory for one test, removed when the test ends.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("stills-tests-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the ffmpeg CLI quietly with `args` and the output file `out`, and
/// returns what it wrote.
pub fn ffmpeg(args: &[&str], out: &Path) -> Vec<u8> {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .arg(out)
        .status()
        .unwrap_or_else(|e| {
            panic!("cannot run the ffmpeg CLI ({e}); install it with platform/debian/setup.sh")
        });
    assert!(
        status.success(),
        "ffmpeg {args:?} {} failed: {status}",
        out.display()
    );
    std::fs::read(out).unwrap_or_else(|e| panic!("{}: {e}", out.display()))
}
