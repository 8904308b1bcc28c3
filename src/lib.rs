//! stills: still images from video at requested times — Apple's
//! `AVAssetImageGenerator` for Linux servers, on FFmpeg and wgpu.
//!
//! Open an [`Asset`], make an [`ImageGenerator`] over it, configure its
//! [`GeneratorSettings`] and ask for images: the exact frame at a time, or
//! the cheapest one inside a tolerance window, with the track's colours and
//! orientation, scaled to fit a box, decoded by the best backend this
//! machine has and rendered by WGSL compute shaders with one readback.
//!
//! ```
//! use stills::{Asset, ImageFormat, ImageGenerator, Size, Time};
//!
//! let asset = Asset::open(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/h264_bframes.mp4"))?;
//! let generator = ImageGenerator::new(asset);
//! generator.configure(|s| {
//!     s.set_exact(); // the frame displayed at the time, not a nearby keyframe
//!     s.set_maximum_size(Size::new(160, 0));
//!     s.set_applies_preferred_track_transform(true);
//! });
//! let (image, actual) = generator.copy_image("0.5".parse::<Time>()?)?;
//! assert_eq!(image.width(), 160);
//! println!("frame shown at {actual}s by the {} backend", image.backend().map_or("?", |b| b.backend.name()));
//! let png = image.encode(ImageFormat::Png)?;
//! assert!(png.starts_with(b"\x89PNG"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Module map
//!
//! The types above, the request forms of [`ImageGenerator`] (futures,
//! streams, callbacks, blocking) and [`Error`] are all most programs need;
//! they are re-exported here. The modules below are the layers under them,
//! public where a program may use a layer on its own:
//!
//! | module | job | may a program use it |
//! |---|---|---|
//! | [`asset`] | opening a source with FFmpeg; tracks, geometry, colour and HDR metadata; the frame index (MP4 sample tables, groups of pictures read where requests fall, the persistent [`IndexCache`](asset::IndexCache)) and timeline | yes: describing a file |
//! | [`compose`] | compositions of several tracks and assets, their validation and time maths, the [`VideoCompositor`](compose::VideoCompositor) seam and the [`CompositionGenerator`](compose::CompositionGenerator) | yes |
//! | `plan` | which frame answers each request and the decode runs that reach them (pure) | no |
//! | `decode` | the [`Backend`](backend_statuses) registry and the shared FFmpeg decode engine (software, VA-API, NVDEC) | through [`backend_statuses`] and [`BackendPreference`] |
//! | [`picture`] | the one description of a decoded picture: [`DecodedFormat`](picture::DecodedFormat), planes with offset and pitch, colour | yes, with [`gpu`] |
//! | [`surface`] | where a picture's pixels are: host planes, a device buffer or textures, DMA-BUF, CUDA memory | yes, with [`gpu`] |
//! | [`render`] | the pure geometry and colour maths that turn a picture and the settings into an [`OutputSpec`](render::OutputSpec) | yes, with [`gpu`] |
//! | [`gpu`] | [`GpuContext`] (an adapter, or the caller's own wgpu device) and [`FramePipeline`](gpu::FramePipeline): input stage, WGSL passes, one readback; [`HostRenderer`](gpu::HostRenderer), the same plan evaluated on the CPU where the only adapter is one | yes: rendering pictures a program decoded itself |
//! | `generator` | [`ImageGenerator`] and the [`GeneratorPool`] many generators share: settings snapshots, batches, workers, delivery, cancellation | through the re-exports |
//! | `image`, `time`, `ratio`, `error` | [`Image`] and its encoders, exact [`Time`], [`Ratio`], [`Error`] | through the re-exports |
//! | `ffmpeg`, `vulkan`, `va`, `cuda` | the FFI layers (FFmpeg, Vulkan, libva, the CUDA driver), the only modules with `unsafe` code | no |
//!
//! The behaviour follows `AVAssetImageGenerator` closely; the project's
//! SPEC fixes every decision, and the README lists the CLI built on this
//! library (`stills probe | grab | sheet | bench`).
#![deny(unsafe_code)]

pub mod asset;
pub mod compose;
#[cfg(feature = "nvdec")]
mod cuda;
mod decode;
mod error;
mod ffmpeg;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod generator;
pub mod gpu;
mod image;
mod limits;
pub mod picture;
mod plan;
mod ratio;
pub mod render;
pub mod surface;
mod time;
#[cfg(feature = "vaapi")]
mod va;
mod vulkan;

pub use asset::{Asset, VideoTrack};
pub use decode::{
    backend_statuses, nvdec_report, vaapi_devices, BackendChoice, BackendKind, BackendPreference,
    BackendStatus, ExportError, NvdecDevice, NvdecReport, VaEntrypoint, VaProfile, VaapiDevice,
    VaapiProfile,
};
pub use error::{DecodeError, Error, FfmpegError, IndexError, Result, Unsupported};
pub use generator::{
    GeneratedImage, GeneratorPool, GeneratorSettings, ImageFuture, ImageGenerator, ImageResult,
    ImageStream, Outcome, Renderer,
};
pub use gpu::{GpuContext, Interop};
pub use image::{
    ColorSpace, Deinterlacer, FrameTimings, Image, ImageFormat, PixelFormat, RenderedBy,
};
pub use limits::{Limit, Limits, OpenOptions, DEFAULT_TIMEOUT};
pub use ratio::Ratio;
pub use render::{ApertureMode, Deinterlace, DynamicRangePolicy, Size};
pub use time::{ParseTimeError, ParseTimeErrorKind, RoundingMethod, Time, TimeGrid};

/// The README's Rust example, compiled and run as a doctest so that what a
/// newcomer copies works.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
