//! Decoding backends: the [`Backend`] trait, the registry of those this
//! build has, and the choice among them for a stream. A backend says
//! whether it can serve a track on this machine (and exactly why not) and
//! opens [`Decoder`]s; every FFmpeg-based backend is the shared
//! [engine](engine) plus a small mapper from decoded frames to
//! [`Picture`](crate::surface::Picture)s.
//!
//! | backend | decodes with | pictures arrive as | built |
//! |---|---|---|---|
//! | `software` | FFmpeg's own decoders | host planes | always |
//! | `vaapi` | FFmpeg's VAAPI hwaccel | DMA-BUF objects | feature `vaapi` |
//! | `nvdec` | FFmpeg's CUDA hwaccel | CUDA memory | feature `nvdec` |

pub(crate) mod engine;
mod frame;
#[cfg(feature = "nvdec")]
mod nvdec;
pub(crate) mod nvdec_caps;
pub(crate) mod prime;
mod software;
#[cfg(feature = "vaapi")]
mod vaapi;
pub(crate) mod vaapi_caps;

use std::path::Path;

use serde::Serialize;

use crate::asset::{Asset, IndexSnapshot, VideoTrack};
use crate::error::{Error, Result};
use crate::gpu::Interop;
use crate::plan::{Run, Target};
pub use frame::DecodedFrame;
pub use nvdec_caps::{NvdecDevice, NvdecReport};
pub use prime::ExportError;
pub use vaapi_caps::{VaEntrypoint, VaProfile, VaapiDevice, VaapiProfile};

/// A decoder instance for one track, driven one planned run at a time. A
/// decoder stays on the thread that opened it (hardware displays and
/// contexts are bound to theirs), so it need not be `Send`.
///
/// # For implementations
/// A run's packets are positions in one part of `index` (the snapshot the
/// run was planned over; later runs may come with a newer one).
/// `decode_run` must hand every target of the run to `deliver` exactly once
/// (a picture or the error that prevented it), check `cancelled` between
/// packets and stop early when it returns true (the remaining targets then
/// get `Error::Cancelled`), and leave the decoder ready for any later run,
/// whatever happened. With `previous`, each interlaced target comes with
/// the picture shown just before it where the run decodes that anyway
/// ([`DecodedFrame::previous`]); nothing extra is ever decoded for it.
pub trait Decoder {
    fn decode_run(
        &mut self,
        index: &IndexSnapshot,
        run: &Run,
        previous: bool,
        cancelled: &dyn Fn() -> bool,
        deliver: &mut dyn FnMut(&Target, Result<DecodedFrame>),
    );
}

/// Which backend a caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendPreference {
    /// The best available for the stream: VA-API, then NVDEC, then software.
    #[default]
    Auto,
    Only(BackendKind),
}

/// The backend chosen for a track, and why the better ones were not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackendChoice {
    pub backend: BackendKind,
    /// For each backend tried before the chosen one, why it was passed over.
    pub passed_over: Vec<BackendStatus>,
}

/// One way of decoding: what it can do here, and a factory for decoders.
///
/// # For implementations
/// `status` must not open devices for long or decode anything: `stills
/// probe` and every batch's backend choice call it. Its reason names what
/// was found (the device, library, decoder) or exactly what is missing. A
/// hardware backend serves only where its pictures can reach `gpu` without
/// a trip through host memory (its [`Interop`](crate::gpu::Interop)), so
/// with no GPU context to ask it is unavailable.
pub(crate) trait Backend: Sync {
    fn kind(&self) -> BackendKind;

    /// Whether this backend can decode `track` (or, without one, anything)
    /// on this machine for the pipeline on `gpu`.
    fn status(&self, track: Option<&VideoTrack>, gpu: Option<&Interop>) -> (bool, String);

    /// Opens a decoder for `track`, whose pictures the pipeline on `gpu`
    /// renders (a hardware backend decodes on that GPU).
    fn open(
        &self,
        asset: &Asset,
        track: &VideoTrack,
        threads: usize,
        gpu: Option<&Interop>,
    ) -> Result<Box<dyn Decoder>>;
}

/// The backends of this build, best first: hardware before software.
const REGISTRY: &[&dyn Backend] = &[
    #[cfg(feature = "vaapi")]
    &vaapi::Vaapi,
    #[cfg(feature = "nvdec")]
    &nvdec::Nvdec,
    &software::Software,
];

/// Whether this build has a backend that needs to know the GPU to say
/// whether it serves (every one but software), so that choosing a backend
/// must wait for the GPU context.
pub(crate) fn choice_needs_gpu() -> bool {
    REGISTRY.iter().any(|b| b.kind() != BackendKind::Software)
}

fn registered(kind: BackendKind) -> Option<&'static dyn Backend> {
    REGISTRY.iter().copied().find(|b| b.kind() == kind)
}

/// Picks the backend for `track` under `preference` for a pipeline whose
/// device imports what `gpu` says, or says exactly why the requested one
/// cannot serve.
pub(crate) fn choose_backend(
    preference: BackendPreference,
    track: &VideoTrack,
    gpu: Option<&Interop>,
) -> Result<BackendChoice> {
    let order: &[BackendKind] = match preference {
        BackendPreference::Auto => &BackendKind::ALL,
        BackendPreference::Only(kind) => match kind {
            BackendKind::Vaapi => &[BackendKind::Vaapi],
            BackendKind::Nvdec => &[BackendKind::Nvdec],
            BackendKind::Software => &[BackendKind::Software],
        },
    };
    let mut passed_over = Vec::new();
    for &kind in order {
        let s = status(kind, Some(track), gpu);
        if s.available {
            return Ok(BackendChoice {
                backend: kind,
                passed_over,
            });
        }
        passed_over.push(s);
    }
    let last = passed_over.pop().expect("at least one backend was tried");
    Err(Error::BackendUnavailable {
        backend: last.backend.name(),
        reason: last.reason,
    })
}

/// Opens a decoder of the chosen backend for `track`, for the pipeline on
/// `gpu`.
pub(crate) fn open_decoder(
    backend: BackendKind,
    asset: &Asset,
    track: &VideoTrack,
    threads: usize,
    gpu: Option<&Interop>,
) -> Result<Box<dyn Decoder>> {
    match registered(backend) {
        Some(b) => b.open(asset, track, threads, gpu),
        None => Err(Error::BackendUnavailable {
            backend: backend.name(),
            reason: not_built(backend),
        }),
    }
}

/// The decode paths stills knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Vaapi,
    Nvdec,
    Software,
}

impl BackendKind {
    pub const ALL: [BackendKind; 3] = [
        BackendKind::Vaapi,
        BackendKind::Nvdec,
        BackendKind::Software,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Vaapi => "vaapi",
            BackendKind::Nvdec => "nvdec",
            BackendKind::Software => "software",
        }
    }
}

/// Whether a backend can serve, and the reason when it cannot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackendStatus {
    pub backend: BackendKind,
    pub available: bool,
    /// What was found: the device, library or decoder that makes it usable,
    /// or exactly what is missing.
    pub reason: String,
}

/// What each backend can do on this machine, for `track` when given (codec
/// support) or in general, for a pipeline whose device imports what `gpu`
/// says (which hardware backends need to know: their pictures must be
/// importable there; see [`GpuContext::probe_adapter`](crate::gpu::GpuContext::probe_adapter)).
pub fn backend_statuses(track: Option<&VideoTrack>, gpu: Option<&Interop>) -> Vec<BackendStatus> {
    BackendKind::ALL
        .iter()
        .map(|&backend| status(backend, track, gpu))
        .collect()
}

fn status(
    backend: BackendKind,
    track: Option<&VideoTrack>,
    gpu: Option<&Interop>,
) -> BackendStatus {
    let (available, reason) = match registered(backend) {
        Some(b) => b.status(track, gpu),
        None => (false, not_built(backend)),
    };
    BackendStatus {
        backend,
        available,
        reason,
    }
}

/// The DRM render nodes of this machine and what each one's VA-API driver
/// offers (its description with name and version, profiles with their
/// entrypoints, maximum sizes, render-target and surface formats), asked
/// once per process; for `stills probe` and for choosing where VA-API
/// decodes. In a build without the `vaapi` feature, each node says so.
pub fn vaapi_devices() -> Vec<VaapiDevice> {
    #[cfg(feature = "vaapi")]
    {
        vaapi::devices().to_vec()
    }
    #[cfg(not(feature = "vaapi"))]
    {
        render_nodes()
            .into_iter()
            .map(|render_node| VaapiDevice {
                render_node,
                kernel_driver: None,
                driver: None,
                error: Some(not_built(BackendKind::Vaapi)),
                profiles: Vec::new(),
            })
            .collect()
    }
}

/// The CUDA driver, NVIDIA's video decoding library and the CUDA devices
/// with their NVDEC generations, asked once per process; for `stills
/// probe`. In a build without the `nvdec` feature, it says so.
pub fn nvdec_report() -> NvdecReport {
    #[cfg(feature = "nvdec")]
    {
        nvdec::report()
    }
    #[cfg(not(feature = "nvdec"))]
    {
        NvdecReport {
            cuda_driver: None,
            error: Some(not_built(BackendKind::Nvdec)),
            nvcuvid: false,
            devices: Vec::new(),
        }
    }
}

/// `/dev/dri/renderD*`, in order.
#[cfg(not(feature = "vaapi"))]
fn render_nodes() -> Vec<String> {
    let mut nodes: Vec<String> = std::fs::read_dir("/dev/dri")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("renderD"))
        .map(|n| format!("/dev/dri/{n}"))
        .collect();
    nodes.sort();
    nodes
}

/// Why a hardware backend this build lacks is unavailable, with what the
/// machine would offer it.
fn not_built(backend: BackendKind) -> String {
    let (feature, device) = match backend {
        BackendKind::Vaapi => (
            "vaapi",
            device_note("/dev/dri", "renderD", "DRM render node"),
        ),
        BackendKind::Nvdec => ("nvdec", device_note("/dev", "nvidia", "NVIDIA device")),
        BackendKind::Software => ("", String::new()),
    };
    format!("not built (Cargo feature '{feature}'); {device}")
}

/// Names the device nodes present under `dir` whose names start with
/// `prefix`, or says there are none.
fn device_note(dir: &str, prefix: &str, what: &str) -> String {
    let mut found: Vec<String> = std::fs::read_dir(Path::new(dir))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    found.sort();
    if found.is_empty() {
        format!("no {what} on this machine")
    } else {
        format!("{what} present: {}", found.join(", "))
    }
}
