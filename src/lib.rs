//! stills: still images from video at requested times — Apple's
//! `AVAssetImageGenerator` for Linux servers, on FFmpeg and wgpu.
//!
//! ```no_run
//! use stills::{Asset, ImageGenerator, ImageFormat, Time};
//!
//! let generator = ImageGenerator::new(Asset::open("clip.mp4")?);
//! generator.configure(|s| {
//!     s.set_exact();
//!     s.set_maximum_size(stills::Size { width: 320, height: 0 });
//!     s.set_applies_preferred_track_transform(true);
//! });
//! let (image, actual) = generator.copy_image("12.5".parse()?)?;
//! println!("frame at {actual}s, {}x{}", image.width(), image.height());
//! image.save("thumb.png", ImageFormat::Png)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_code)]

pub mod asset;
pub mod decode;
pub mod error;
mod ffmpeg;
pub mod generator;
pub mod gpu;
pub mod image;
pub mod plan;
pub mod ratio;
pub mod render;
pub mod surface;
pub mod time;

pub use asset::Asset;
pub use decode::{BackendKind, BackendPreference};
pub use error::{Error, Result};
pub use generator::{GeneratedImage, GeneratorSettings, ImageGenerator, Outcome};
pub use image::{ColorSpace, Image, ImageFormat, PixelFormat};
pub use render::{ApertureMode, DynamicRangePolicy, Size};
pub use time::Time;
