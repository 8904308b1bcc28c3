//! The VA-API backend (Intel, AMD): FFmpeg's VAAPI hwaccel on the shared
//! [engine](super::engine), each decoded surface exported as DRM PRIME and
//! handed to the pipeline as DMA-BUF objects, which its input stage imports
//! without a copy (linear as buffers, tiled as DRM-modifier images, after a
//! foreign-queue acquire).
//!
//! - **Capabilities**: the render nodes and what their drivers decode are
//!   asked once per process through cros-libva (`crate::va::probe`); the
//!   tables of [`vaapi_caps`](super::vaapi_caps) decide per track.
//! - **Decoding**: on an FFmpeg VAAPI device opened on the chosen render
//!   node, one decoding thread (the hardware decodes; frame threads would
//!   only hold more surfaces), a few surfaces beyond the decoder's own for
//!   the picture the pipeline holds.
//! - **Hand-over**: `vaSyncSurface`, then `vaExportSurfaceHandle` with one
//!   layer per plane; the picture owns every exported fd and holds the
//!   frame (so its surface cannot be decoded into again) until the pipeline
//!   drops it, after the render's readback.
//! - **Fallback**: where FFmpeg's `get_format` takes a software format (the
//!   hwaccel refused the stream or failed to start), the picture is mapped
//!   as the software backend maps it and carries the reason.

use std::sync::OnceLock;

use crate::asset::color::{ColorInfo, HdrInfo};
use crate::asset::{Asset, VideoTrack};
use crate::decode::engine::{Engine, FrameMapper};
use crate::decode::software::HostMapper;
use crate::decode::vaapi_caps::{choose_device, interop_problem, VaapiDevice};
use crate::decode::{Backend, BackendKind, Decoder};
use crate::error::{DecodeError, Error, Result};
use crate::ffmpeg::hwaccel::{crop_top_left, HwDevice, HwDeviceType, HwSession};
use crate::ffmpeg::vaapi::{is_vaapi, VaSurface};
use crate::ffmpeg::{av, FrameRef};
use crate::gpu::Interop;
use crate::surface::{KeepAlive, Picture};

/// Surfaces FFmpeg allocates beyond the decoder's reference frames: the
/// picture the pipeline is rendering, and slack for the one being output.
const EXTRA_SURFACES: i32 = 4;

/// The render nodes and their drivers' capabilities, asked once per
/// process (render nodes do not come and go while it runs).
pub(crate) fn devices() -> &'static [VaapiDevice] {
    static DEVICES: OnceLock<Vec<VaapiDevice>> = OnceLock::new();
    DEVICES.get_or_init(crate::va::probe)
}

/// The VA-API backend.
pub(crate) struct Vaapi;

impl Backend for Vaapi {
    fn kind(&self) -> BackendKind {
        BackendKind::Vaapi
    }

    fn status(&self, track: Option<&VideoTrack>, gpu: Option<&Interop>) -> (bool, String) {
        let devices = devices();
        if devices.is_empty() {
            return (
                false,
                "no DRM render node on this machine (/dev/dri/renderD*)".into(),
            );
        }
        let usable: Vec<&VaapiDevice> = devices.iter().filter(|d| d.error.is_none()).collect();
        if usable.is_empty() {
            let errors: Vec<String> = devices
                .iter()
                .map(|d| format!("{}: {}", d.render_node, d.error.as_deref().unwrap_or("")))
                .collect();
            return (false, errors.join("; "));
        }
        let found = usable
            .iter()
            .map(|d| d.describe())
            .collect::<Vec<_>>()
            .join(", ");
        if let Some(problem) = interop_problem(gpu) {
            return (false, format!("VA-API on {found}, but {problem}"));
        }
        match track {
            None => (true, format!("VA-API on {found}")),
            // Hardware decoders hand over no alpha plane.
            Some(track) if track.alpha => (
                false,
                "the track carries alpha, which VA-API surfaces do not hold".into(),
            ),
            Some(track) => match choose_device(devices, track) {
                Ok((_, reason)) => (true, reason),
                Err(reason) => (false, reason),
            },
        }
    }

    fn open(
        &self,
        asset: &Asset,
        track: &VideoTrack,
        threads: usize,
        _gpu: Option<&Interop>,
    ) -> Result<Box<dyn Decoder>> {
        let unavailable = |reason: String| Error::BackendUnavailable {
            backend: BackendKind::Vaapi.name(),
            reason,
        };
        let devices = devices();
        let (chosen, _) = choose_device(devices, track).map_err(unavailable)?;
        let node = &devices[chosen].render_node;
        let device = HwDevice::create(HwDeviceType::Vaapi, Some(node))
            .map_err(|e| unavailable(format!("FFmpeg could not open VA-API on {node}: {e}")))?;
        let mapper = VaapiMapper {
            session: HwSession::new(device),
            host: HostMapper::default(),
        };
        let engine = Engine::open(asset.source(), track, threads, mapper)?;
        Ok(Box::new(engine))
    }
}

/// Maps VA-API frames to DMA-BUF pictures (and software frames, after a
/// fallback, as the software backend does).
struct VaapiMapper {
    session: HwSession,
    host: HostMapper,
}

impl FrameMapper for VaapiMapper {
    fn configure(&mut self, context: &mut av::codec::Context) -> Result<()> {
        self.session.configure(context, EXTRA_SURFACES);
        Ok(())
    }

    fn software_fallback(&self, frame: &av::frame::Video) -> Option<String> {
        if is_vaapi(frame) {
            return None;
        }
        Some(self.session.fallback_reason())
    }

    fn map(&mut self, frame: &av::frame::Video, color: ColorInfo, hdr: HdrInfo) -> Result<Picture> {
        let Some(surface) = VaSurface::of(frame) else {
            return self.host.map(frame, color, hdr);
        };
        let prime = crate::va::export(&surface).map_err(DecodeError::Export)?;
        let held = FrameRef::new(frame).map_err(|e| DecodeError::Picture {
            what: "holding a decoded picture of",
            format: "vaapi".into(),
            cause: e.into(),
        })?;
        let picture = prime
            .into_picture(
                frame.width(),
                frame.height(),
                crop_top_left(frame),
                color,
                hdr,
                KeepAlive::new(held),
            )
            .map_err(DecodeError::Export)?;
        Ok(picture)
    }
}
