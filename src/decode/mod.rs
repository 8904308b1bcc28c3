//! Decoding backends. This module says which backends this machine and
//! build can use for a stream, and why not the others; the decoders
//! themselves plug in behind the same names.

pub mod frame;
pub mod software;

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::asset::{Asset, FrameIndex, VideoTrack};
use crate::error::{Error, Result};
use crate::ffmpeg;
use crate::plan::{Run, Target};
pub use frame::{DecodedFrame, Surface};

/// A decoder instance for one track, driven one planned run at a time.
///
/// # For implementations
/// `decode_run` must hand every target of the run to `deliver` exactly once
/// (a picture or the error that prevented it), check `cancelled` between
/// packets and stop early when it returns true (the remaining targets then
/// get `Error::Cancelled`), and leave the decoder ready for any later run,
/// whatever happened.
pub trait Decoder: Send {
    fn backend(&self) -> BackendKind;

    fn decode_run(
        &mut self,
        run: &Run,
        cancelled: &dyn Fn() -> bool,
        deliver: &mut dyn FnMut(&Target, Result<DecodedFrame>),
    );
}

/// Which backend a caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendPreference {
    /// The best available for the stream: VA-API, then NVDEC, then software.
    #[default]
    Auto,
    Only(BackendKind),
}

/// The backend chosen for a track, and why the better ones were not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackendChoice {
    pub backend: BackendKind,
    /// For each backend tried before the chosen one, why it was passed over.
    pub passed_over: Vec<BackendStatus>,
}

/// Picks the backend for `track` under `preference`, or says exactly why
/// the requested one cannot serve.
pub fn choose_backend(preference: BackendPreference, track: &VideoTrack) -> Result<BackendChoice> {
    let order: &[BackendKind] = match preference {
        BackendPreference::Auto => &BackendKind::ALL,
        BackendPreference::Only(kind) => match kind {
            BackendKind::Vaapi => &[BackendKind::Vaapi],
            BackendKind::Nvdec => &[BackendKind::Nvdec],
            BackendKind::Software => &[BackendKind::Software],
        },
    };
    let mut passed_over = Vec::new();
    for &kind in order {
        let s = status(kind, Some(track));
        if s.available {
            return Ok(BackendChoice {
                backend: kind,
                passed_over,
            });
        }
        passed_over.push(s);
    }
    let last = passed_over.pop().expect("at least one backend was tried");
    Err(Error::BackendUnavailable {
        backend: last.backend.name(),
        reason: last.reason,
    })
}

/// Opens a decoder of the chosen backend for `track`.
pub fn open_decoder(
    backend: BackendKind,
    asset: &Asset,
    track: &VideoTrack,
    index: Arc<FrameIndex>,
    threads: usize,
) -> Result<Box<dyn Decoder>> {
    match backend {
        BackendKind::Software => Ok(Box::new(software::SoftwareDecoder::open(
            asset.source(),
            track,
            index,
            threads,
        )?)),
        other => Err(Error::BackendUnavailable {
            backend: other.name(),
            reason: status(other, Some(track)).reason,
        }),
    }
}

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
