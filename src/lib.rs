#![deny(unsafe_code)]

pub mod asset;
pub mod decode;
pub mod error;
mod ffmpeg;
pub mod plan;
pub mod ratio;
pub mod render;
pub mod time;

pub use asset::Asset;
pub use error::{Error, Result};
pub use time::Time;
