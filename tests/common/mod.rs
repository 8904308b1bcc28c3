//! Helpers shared by the integration tests. Every test binary compiles
//! this whole tree and uses only part of it, so what one binary leaves
//! unused is not dead code.
#![allow(dead_code)]

pub mod cli;
pub mod facts;
pub mod ffmpeg;
pub mod frame_check;
pub mod framecode;
pub mod gpu;
pub mod harness;
pub mod http;
pub mod media;
pub mod metrics;
pub mod pictures;
pub mod readme;
pub mod scratch;
