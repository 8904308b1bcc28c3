//! Helpers shared by the integration tests; not every test binary uses
//! every helper.
#![allow(dead_code)]

pub mod framecode;
pub mod media;
