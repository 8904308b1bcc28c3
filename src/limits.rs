//! What one asset or request may cost, as the caller bounds it: a server
//! taking files from strangers sets these so that a file's claims (a
//! declared 16384×16000 picture) cannot make it allocate without bound.

use std::time::Duration;

use serde::Serialize;

/// The largest side of the pictures the defaults admit: every real format
/// up to 8192×8192 (8K, 360° and VR video) is decoded and rendered.
const DEFAULT_SIDE: u64 = 8192;

/// The most memory the defaults let one request hold: what the costliest
/// real format at 8192×8192 (16-bit 4:4:4 with alpha, kept as 16-bit
/// output at native size) needs, about 4 GiB, with room to spare
/// (`gpu::frame_memory`, and its test over every format).
const DEFAULT_REQUEST_BYTES: u64 = 5 << 30;

/// Bounds on the pictures one asset may decode and one request may render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most pixels (width × height) a decoded picture may have: checked
    /// against the container's and the codec's declared size when the
    /// asset opens, and given to FFmpeg's decoders (`max_pixels`) so that
    /// no larger picture is allocated.
    pub max_decoded_pixels: u64,
    /// The most pixels an output image may have.
    pub max_output_pixels: u64,
    /// The most memory, in bytes, one request may hold while its image is
    /// made: the decoded frame it renders, the GPU buffers its frame plan
    /// needs (input planes, working buffers, output and readback, as if
    /// rendered in one run: bands only shrink them) and the image. Checked
    /// before any of the GPU buffers are made.
    pub max_request_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_decoded_pixels: DEFAULT_SIDE * DEFAULT_SIDE,
            max_output_pixels: DEFAULT_SIDE * DEFAULT_SIDE,
            max_request_bytes: DEFAULT_REQUEST_BYTES,
        }
    }
}

/// Which of the [`Limits`] a source or request went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Limit {
    MaxDecodedPixels,
    MaxOutputPixels,
    MaxRequestMemory,
}

impl Limit {
    /// The limit's name as the CLI flag spells it.
    pub fn name(self) -> &'static str {
        match self {
            Limit::MaxDecodedPixels => "max-decoded-pixels",
            Limit::MaxOutputPixels => "max-output-pixels",
            Limit::MaxRequestMemory => "max-request-memory",
        }
    }

    /// What the limit counts.
    pub fn unit(self) -> &'static str {
        match self {
            Limit::MaxDecodedPixels | Limit::MaxOutputPixels => "pixels",
            Limit::MaxRequestMemory => "bytes",
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How long a network source may keep a connect or a read waiting before
/// it fails, unless the caller says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How an asset is opened: what reading it may wait for and allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// How long one network connect or read may wait (URLs only: local
    /// files that could block, FIFOs and devices, are refused instead).
    pub timeout: Duration,
    pub limits: Limits,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            timeout: DEFAULT_TIMEOUT,
            limits: Limits::default(),
        }
    }
}
