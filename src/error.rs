//! The one error type of the library. Each variant is a distinct cause a
//! caller can act on; the messages are written for the person reading the
//! log, and name the input where there is one.

use std::path::PathBuf;
use std::sync::Arc;

/// Everything that can go wrong opening an asset or generating an image.
/// `Clone`, so one failure can be handed to every request that shared a
/// decode.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The source could not be read at all (missing file, permission).
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The bytes are not a container FFmpeg recognises (a text file, an
    /// image, random data).
    #[error("{source_name}: not a recognised video container ({reason})")]
    UnrecognizedFormat { source_name: String, reason: String },
    /// The container was recognised but its data ends early: the header or
    /// index declares more than the source holds.
    #[error("{source_name}: truncated {format} ({reason})")]
    Truncated {
        source_name: String,
        format: String,
        reason: String,
    },
    /// The container was recognised but is broken in a way other than
    /// truncation.
    #[error("{source_name}: malformed {format} ({reason})")]
    Malformed {
        source_name: String,
        format: String,
        reason: String,
    },
    /// The asset has no video track to take images from.
    #[error("{source_name}: no video track")]
    NoVideoTrack { source_name: String },
    /// No frame is displayed inside the requested window.
    #[error("no image at {requested}s: {reason}")]
    NoImageAtTime {
        requested: crate::time::Time,
        reason: String,
    },
    /// A time or tolerance that is not a usable number (NaN, indefinite,
    /// negative tolerance, unparsable text).
    #[error("invalid time: {0}")]
    InvalidTime(String),
    /// The decoder rejected the data (FFmpeg's message included).
    #[error("decoding failed: {0}")]
    DecodeFailed(String),
    /// A codec, pixel format, colour system or size stills does not handle.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A requested backend cannot serve this stream on this machine.
    #[error("backend {backend} unavailable: {reason}")]
    BackendUnavailable {
        backend: &'static str,
        reason: String,
    },
    /// The request was cancelled before its image was delivered.
    #[error("cancelled")]
    Cancelled,
    /// The GPU pipeline failed.
    #[error("GPU: {0}")]
    Gpu(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
