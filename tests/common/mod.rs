//! Helpers shared by the integration tests; not every test binary uses
//! every helper.
#![allow(dead_code)]

pub mod facts;
pub mod framecode;
pub mod harness;
pub mod media;
