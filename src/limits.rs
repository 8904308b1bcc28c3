//! What one asset or request may cost, as the caller bounds it: a server
//! taking files from strangers sets these so that a file's claims (a
//! declared 16384×16000 picture) cannot make it allocate without bound.

use std::time::Duration;

use serde::Serialize;

/// The largest side of the pictures the defaults admit: every real format
/// up to 8192×8192 (8K, 360° and VR video) is decoded and rendered.
const DEFAULT_SIDE: u64 = 8192;

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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_decoded_pixels: DEFAULT_SIDE * DEFAULT_SIDE,
            max_output_pixels: DEFAULT_SIDE * DEFAULT_SIDE,
        }
    }
}

/// Which of the [`Limits`] a source or request went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Limit {
    MaxDecodedPixels,
    MaxOutputPixels,
}

impl Limit {
    /// The limit's name as the CLI flag spells it.
    pub fn name(self) -> &'static str {
        match self {
            Limit::MaxDecodedPixels => "max-decoded-pixels",
            Limit::MaxOutputPixels => "max-output-pixels",
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
