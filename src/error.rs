//! The one error type of the library. Each variant is a distinct cause a
//! caller can act on, with its typed cause where there is one (FFmpeg's
//! error code, the GPU's error, the render maths' refusal); the messages are
//! written for the person reading the log, and name the input where there
//! is one.
//!
//! Which errors end what: `Io`, `Http`, `UnrecognizedFormat`, `Truncated`,
//! `Malformed`, `NoVideoTrack` and `NoSuchTrack` fail a whole asset; `NoImageAtTime` and
//! `InvalidTime` fail one request and no other; `DecodeFailed` fails the
//! requests that needed the pictures it lost (a later request of the same
//! generator may succeed); `Gpu` fails the request being rendered, and with
//! [`GpuError::DeviceLost`] every later one until a new context is made.

use std::path::PathBuf;
use std::sync::Arc;

use crate::gpu::GpuError;
use crate::render::RenderError;
use crate::surface::SurfaceError;

/// Everything that can go wrong opening an asset or generating an image.
/// `Clone`, so one failure can be handed to every request that shared a
/// decode.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path names something that is not a regular file (a FIFO, a
    /// device, a socket): reading it could wait forever, so it is refused
    /// before it is opened.
    #[error("{}: a {kind}, not a regular file (stills reads files, which cannot block)", .path.display())]
    NotAFile { path: PathBuf, kind: &'static str },
    /// A source or request goes past one of the caller's [`Limits`](crate::Limits):
    /// `limit` names which, `value` is what was asked (pixels or bytes, as
    /// [`Limit::unit`](crate::Limit::unit) says), `allowed` the limit's
    /// setting.
    #[error("{what} needs {value} {}, over the {limit} limit of {allowed}", .limit.unit())]
    LimitExceeded {
        limit: crate::Limit,
        what: String,
        value: u64,
        allowed: u64,
    },
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
    /// An HTTP(S) source answered with an error status (404 Not Found,
    /// 403 Forbidden, a server error…). `status` is the exact code where
    /// FFmpeg reports one (400, 401, 403, 404), else `None` (another 4xx or
    /// a 5xx, which `reason` tells apart).
    #[error("{source_name}: HTTP error ({reason})")]
    Http {
        source_name: String,
        status: Option<u16>,
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
    /// A video track's frame index could not be built.
    #[error("{source_name}: cannot index track {track}: {cause}")]
    Index {
        source_name: String,
        track: usize,
        cause: IndexError,
    },
    /// The asset has no video track to take images from.
    #[error("{source_name}: no video track")]
    NoVideoTrack { source_name: String },
    /// The track asked for (by stream index, as `stills probe` lists them)
    /// is not one of the asset's video tracks.
    #[error("{source_name}: stream {stream} is not a video track (video tracks: {})", list_streams(.video_tracks))]
    NoSuchTrack {
        source_name: String,
        stream: usize,
        /// The stream indices of the asset's video tracks.
        video_tracks: Vec<usize>,
    },
    /// A composition or video composition that cannot be generated from,
    /// refused when it is set, with the path of the field at fault.
    #[error("invalid composition: {0}")]
    InvalidComposition(crate::compose::CompositionError),
    /// A video compositor failed a frame (its own message).
    #[error("compositor: {0}")]
    Compositor(String),
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
    /// The decoder lost the picture (FFmpeg's error included).
    #[error("decoding failed: {0}")]
    DecodeFailed(DecodeError),
    /// A codec, pixel format, colour system or size stills does not handle.
    #[error("unsupported: {0}")]
    Unsupported(Unsupported),
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
    Gpu(#[from] GpuError),
    /// Code stills runs on its worker threads panicked (a bug in stills or
    /// in a library it calls). The requests it was serving fail; the
    /// generator goes on with the others.
    #[error("internal panic while {during}: {message}")]
    Panicked {
        during: &'static str,
        message: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error FFmpeg reported: its code (`AVERROR`) and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FfmpegError {
    pub code: i32,
    pub message: String,
}

impl From<ffmpeg_next::Error> for FfmpegError {
    fn from(e: ffmpeg_next::Error) -> FfmpegError {
        FfmpegError {
            code: i32::from(e),
            message: e.to_string(),
        }
    }
}

/// Why a decoder lost pictures.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The demuxer failed to read the next packet.
    #[error("reading packets: {0}")]
    Demux(FfmpegError),
    /// The source could not be opened again for a decoder.
    #[error("reopening the source: {0}")]
    Reopen(FfmpegError),
    /// The track is gone from the source opened again (it changed on disk).
    #[error("stream {0} vanished on reopening")]
    StreamVanished(usize),
    /// FFmpeg refused the track's codec parameters or the decoder.
    #[error("opening the decoder: {0}")]
    OpenDecoder(FfmpegError),
    /// A planned packet could not be found by reading the source again
    /// (the source changed, or its index lied).
    #[error("packet {packet} of track {track} was not found on re-reading the source")]
    PacketNotFound { track: usize, packet: usize },
    /// The decoder took the packets but gave no picture for this frame:
    /// FFmpeg's last complaint, when it had one.
    #[error("frame at tick {pts} of track {track}: {}", match .cause { Some(c) => c.to_string(), None => "the decoder produced no picture for it".to_string() })]
    NoPicture {
        track: usize,
        pts: i64,
        cause: Option<FfmpegError>,
    },
    /// Holding a decoded picture (`av_frame_ref`) or converting its pixel
    /// format failed.
    #[error("{what} '{format}': {cause}")]
    Picture {
        what: &'static str,
        format: String,
        cause: FfmpegError,
    },
    /// The decoder's picture does not match what it says it is.
    #[error("decoded picture: {0}")]
    Layout(#[from] SurfaceError),
    /// A hardware surface could not be exported for the pipeline (a libva
    /// call failed, or its layout is not one the pipeline imports).
    #[error("exporting the VA-API surface: {0}")]
    Export(crate::decode::ExportError),
}

/// Why a track's frame index could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The source could not be opened again to read its packets.
    #[error("reopening the source: {0}")]
    Open(FfmpegError),
    /// The demuxer failed part-way.
    #[error("reading packets: {0}")]
    Demux(FfmpegError),
    /// A raw stream whose packets carry neither times nor durations: there
    /// is no timeline to put its frames on.
    #[error("the track has neither timestamps nor frame durations")]
    NoTiming,
    /// Decoding a stream without timestamps, to learn its display order,
    /// failed.
    #[error("decoding to order a stream without timestamps: {0}")]
    Ordering(FfmpegError),
    /// The track cannot be indexed a few groups of pictures at a time (its
    /// groups are not displayed in order, or a seek learned nothing); it
    /// needs a full scan.
    #[error("indexing where the requests fall: {0}")]
    NotLocal(String),
    /// The persistent index could not be written.
    #[error("writing the persistent index {path}: {cause}")]
    Cache { path: String, cause: String },
}

/// What stills does not handle.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Unsupported {
    /// The render maths refused the picture (its size, matrix, primaries,
    /// aperture, orientation or Dolby Vision profile).
    #[error("{0}")]
    Picture(#[from] RenderError),
    /// This FFmpeg build has no decoder for the track's codec.
    #[error("this FFmpeg has no decoder for stream {stream} ({codec})")]
    NoDecoder { stream: usize, codec: String },
    /// A decoded pixel format no conversion path reaches.
    #[error("pixel format '{0}' has no conversion path")]
    PixelFormat(String),
    /// An image that cannot be written in the asked-for file format.
    #[error("a {bits}-bit {what}image can only be saved as PNG, not {format}")]
    ImageFormat {
        bits: u8,
        what: &'static str,
        format: &'static str,
    },
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Error {
        Error::DecodeFailed(e)
    }
}

impl From<Unsupported> for Error {
    fn from(e: Unsupported) -> Error {
        Error::Unsupported(e)
    }
}

impl From<RenderError> for Error {
    fn from(e: RenderError) -> Error {
        Error::Unsupported(Unsupported::Picture(e))
    }
}

/// Stream indices as `0, 2`, or `none`.
fn list_streams(streams: &[usize]) -> String {
    if streams.is_empty() {
        return "none".into();
    }
    streams
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
