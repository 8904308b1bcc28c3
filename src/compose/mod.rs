//! Compositions: several tracks and assets on one timeline, drawn into one
//! picture per frame — Apple's `AVMutableComposition`,
//! `AVMutableVideoComposition` and `AVVideoCompositing` — and the
//! [`CompositionGenerator`] that takes still images of them.
//!
//! | module | job |
//! |---|---|
//! | `model` | the composition and video composition, and their validation (pure) |
//! | `timeline` | which composition frame, instruction, segment and source time (pure, exact) |
//! | `light` | layers as linear light in the output colour space (pure) |
//! | `json` | the JSON form `stills grab --composition` reads |
//! | `compositor` | the [`VideoCompositor`] seam and the built-in WGSL compositor |
//! | `generator` | requests: source frames through ordinary generators, composing, delivery |

mod compositor;
mod generator;
mod json;
mod light;
mod model;
mod timeline;

pub use compositor::{
    BuiltinCompositor, ComposedFrame, CompositionRequest, CompositorError, LayerFrame, LayerScale,
    VideoCompositor,
};
pub use generator::CompositionGenerator;
pub use json::{parse_composition, read_composition};
pub use light::BT2100_PQ;
pub use model::{
    Composition, CompositionError, CompositionTrack, CropRect, Instruction, LayerInstruction, Lerp,
    Ramp, Segment, SegmentSource, TimeRange, Transform, VideoComposition,
};
