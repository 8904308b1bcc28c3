//! Decoding backends. This module says which backends this machine and
//! build can use for a stream, and why not the others; the decoders
//! themselves plug in behind the same names.

use std::path::Path;

use serde::Serialize;

use crate::asset::VideoTrack;
use crate::ffmpeg;

/// The decode paths stills knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Vaapi,
    Nvdec,
    Software,
}

impl BackendKind {
    pub const ALL: [BackendKind; 3] = [
        BackendKind::Vaapi,
        BackendKind::Nvdec,
        BackendKind::Software,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Vaapi => "vaapi",
            BackendKind::Nvdec => "nvdec",
            BackendKind::Software => "software",
        }
    }
}

/// Whether a backend can serve, and the reason when it cannot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackendStatus {
    pub backend: BackendKind,
    pub available: bool,
    /// What was found: the device, library or decoder that makes it usable,
    /// or exactly what is missing.
    pub reason: String,
}

/// What each backend can do on this machine, for `track` when given (codec
/// support) or in general.
pub fn backend_statuses(track: Option<&VideoTrack>) -> Vec<BackendStatus> {
    BackendKind::ALL
        .iter()
        .map(|&backend| status(backend, track))
        .collect()
}

fn status(backend: BackendKind, track: Option<&VideoTrack>) -> BackendStatus {
    let (available, reason) = match backend {
        BackendKind::Software => match track {
            Some(t) => match ffmpeg::decoder_name(&t.codec) {
                Some(name) => (true, format!("FFmpeg decoder '{name}'")),
                None => (
                    false,
                    format!("this FFmpeg has no decoder for '{}'", t.codec),
                ),
            },
            None => (true, format!("FFmpeg {}", ffmpeg::version())),
        },
        BackendKind::Vaapi => (
            false,
            format!(
                "not implemented in this build yet; {}",
                device_note("/dev/dri", "renderD", "DRM render node")
            ),
        ),
        BackendKind::Nvdec => (
            false,
            format!(
                "not implemented in this build yet; {}",
                device_note("/dev", "nvidia", "NVIDIA device")
            ),
        ),
    };
    BackendStatus {
        backend,
        available,
        reason,
    }
}

/// Names the device nodes present under `dir` whose names start with
/// `prefix`, or says there are none.
fn device_note(dir: &str, prefix: &str, what: &str) -> String {
    let mut found: Vec<String> = std::fs::read_dir(Path::new(dir))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    found.sort();
    if found.is_empty() {
        format!("no {what} on this machine")
    } else {
        format!("{what} present: {}", found.join(", "))
    }
}
