//! The NVDEC backend (NVIDIA): FFmpeg's CUDA hwaccel on the shared
//! [engine](super::engine), each decoded picture handed to the pipeline as
//! CUDA memory, which its input stage copies device to device into memory
//! the pipeline's Vulkan device exported (no trip through the host).
//!
//! - **Which GPU**: the CUDA device whose UUID is the pipeline's Vulkan
//!   `deviceUUID` ([`crate::cuda::device::matching`]); where none is (or
//!   no NVIDIA driver, no `libnvcuvid`, no opaque-fd export on the GPU)
//!   the backend says so and `Auto` passes it over.
//! - **Capabilities**: FFmpeg's decoder for the codec must have a CUDA
//!   hwaccel (not so for libdav1d, which Debian's FFmpeg prefers for AV1),
//!   and [`nvdec_caps`](super::nvdec_caps) decides by the chip's NVDEC
//!   generation, the profile, depth, chroma and size.
//! - **Warm state**: one FFmpeg CUDA device (one CUDA context) per GPU for
//!   the whole process, shared by every decoder and generator on it.
//! - **Fallback**: where FFmpeg's `get_format` takes a software format (the
//!   hwaccel refused the stream or failed to start), the picture is mapped
//!   as the software backend maps it and carries the reason.

use std::sync::{Mutex, OnceLock};

use crate::asset::color::{ColorInfo, HdrInfo};
use crate::asset::{Asset, VideoTrack};
use crate::cuda::device::{self, CudaDevice};
use crate::cuda::{self, CudaError};
use crate::decode::engine::{Engine, FrameMapper};
use crate::decode::nvdec_caps::{self, NvdecDevice, NvdecGeneration, NvdecReport};
use crate::decode::software::HostMapper;
use crate::decode::{Backend, BackendKind, Decoder};
use crate::error::{DecodeError, Error, Result, Unsupported};
use crate::ffmpeg::hwaccel::{self, HwDevice, HwDeviceType, HwSession};
use crate::ffmpeg::{av, FrameRef};
use crate::gpu::Interop;
use crate::picture::{PictureDesc, PlaneDesc, Scan, MAX_PLANES};
use crate::surface::{CudaSurface, KeepAlive, Picture, Surface};

/// Surfaces FFmpeg allocates beyond the decoder's reference frames: the
/// picture the pipeline is copying out of, and slack for the next.
const EXTRA_SURFACES: i32 = 2;

/// The CUDA devices, asked once per process.
fn cuda_devices() -> &'static std::result::Result<Vec<CudaDevice>, CudaError> {
    static DEVICES: OnceLock<std::result::Result<Vec<CudaDevice>, CudaError>> = OnceLock::new();
    DEVICES.get_or_init(device::devices)
}

/// The CUDA device that decodes `track` (or, without one, that would
/// decode) for the pipeline on `gpu`, and a line saying so; or why none
/// does: the machine's lack (driver, `libnvcuvid`) is named before the
/// GPU's, so the reason is the same with or without a GPU context where
/// the machine has no NVDEC at all.
fn choose(
    track: Option<&VideoTrack>,
    gpu: Option<&Interop>,
) -> std::result::Result<(&'static CudaDevice, String), String> {
    let driver = cuda::driver().map_err(|e| e.to_string())?;
    if !cuda::nvcuvid_present() {
        return Err(
            "libnvcuvid.so.1 (the NVIDIA driver's video decoding library, which FFmpeg loads) \
             is not installed"
                .into(),
        );
    }
    let devices = cuda_devices().as_ref().map_err(|e| e.to_string())?;
    // What this machine lacks first, then what the rendering GPU lacks.
    let Some(gpu) = gpu else {
        return Err("no GPU context to copy CUDA pictures into".into());
    };
    if !gpu.opaque_fd_memory_export {
        return Err(
            "the GPU cannot export memory as opaque fds for CUDA to fill (VK_KHR_external_memory_fd)"
                .into(),
        );
    }
    let chosen = device::matching(devices, gpu.device_uuid)?;
    let (major, minor) = chosen.compute_capability;
    let generation = NvdecGeneration::of(chosen.compute_capability).ok_or_else(|| {
        format!(
            "CUDA device {} {} (compute {major}.{minor}) has no NVDEC that FFmpeg drives",
            chosen.ordinal, chosen.name
        )
    })?;
    let on = format!(
        "NVDEC on CUDA device {} {} ({} NVDEC, compute {major}.{minor}, driver CUDA {}.{}), \
         the GPU the pipeline renders on",
        chosen.ordinal,
        chosen.name,
        generation.name(),
        driver.version / 1000,
        driver.version % 1000 / 10
    );
    let Some(track) = track else {
        return Ok((chosen, on));
    };
    let decoder = hwaccel::decoder_with_hwaccel(&track.codec, HwDeviceType::Cuda)?;
    let support = nvdec_caps::check(track, generation)?;
    Ok((
        chosen,
        format!(
            "{on}: FFmpeg's '{decoder}' decodes it into {}",
            support.format.ffmpeg_name()
        ),
    ))
}

/// The CUDA driver, `libnvcuvid` and the CUDA devices with their NVDEC
/// generations, for `stills probe`.
pub(crate) fn report() -> NvdecReport {
    let (cuda_driver, error) = match cuda::driver() {
        Ok(d) => (
            Some(format!("{}.{}", d.version / 1000, d.version % 1000 / 10)),
            None,
        ),
        Err(e) => (None, Some(e.to_string())),
    };
    let (devices, error) = match (error, cuda_devices()) {
        (Some(e), _) => (Vec::new(), Some(e)),
        (None, Err(e)) => (Vec::new(), Some(e.to_string())),
        (None, Ok(devices)) => (
            devices
                .iter()
                .map(|d| NvdecDevice {
                    ordinal: d.ordinal,
                    name: d.name.clone(),
                    uuid: d.uuid,
                    compute_capability: format!(
                        "{}.{}",
                        d.compute_capability.0, d.compute_capability.1
                    ),
                    nvdec: NvdecGeneration::of(d.compute_capability).map(NvdecGeneration::name),
                })
                .collect(),
            None,
        ),
    };
    NvdecReport {
        cuda_driver,
        error,
        nvcuvid: cuda::nvcuvid_present(),
        devices,
    }
}

/// FFmpeg's CUDA device on `ordinal`, opened once per process and shared
/// by every decoder on that GPU (one CUDA context, created once).
fn warm_device(ordinal: i32) -> std::result::Result<HwDevice, String> {
    static OPENED: Mutex<Vec<(i32, HwDevice)>> = Mutex::new(Vec::new());
    let mut opened = OPENED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, device)) = opened.iter().find(|(o, _)| *o == ordinal) {
        return Ok(device.clone());
    }
    let device = HwDevice::create(HwDeviceType::Cuda, Some(&ordinal.to_string()))
        .map_err(|e| format!("FFmpeg could not open CUDA device {ordinal}: {e}"))?;
    opened.push((ordinal, device.clone()));
    Ok(device)
}

/// The NVDEC backend.
pub(crate) struct Nvdec;

impl Backend for Nvdec {
    fn kind(&self) -> BackendKind {
        BackendKind::Nvdec
    }

    fn status(&self, track: Option<&VideoTrack>, gpu: Option<&Interop>) -> (bool, String) {
        if track.is_some_and(|t| t.alpha) {
            return (
                false,
                "the track carries alpha, which NVDEC surfaces do not hold".into(),
            );
        }
        match choose(track, gpu) {
            Ok((_, reason)) => (true, reason),
            Err(reason) => (false, reason),
        }
    }

    fn open(
        &self,
        asset: &Asset,
        track: &VideoTrack,
        threads: usize,
        gpu: Option<&Interop>,
    ) -> Result<Box<dyn Decoder>> {
        let unavailable = |reason: String| Error::BackendUnavailable {
            backend: BackendKind::Nvdec.name(),
            reason,
        };
        let (chosen, _) = choose(Some(track), gpu).map_err(unavailable)?;
        let device = warm_device(chosen.ordinal).map_err(unavailable)?;
        let mapper = NvdecMapper {
            session: HwSession::new(device),
            host: HostMapper::default(),
        };
        let engine = Engine::open(asset.source(), track, threads, mapper)?;
        Ok(Box::new(engine))
    }
}

/// Maps CUDA frames to CUDA-memory pictures (and software frames, after a
/// fallback, as the software backend does).
struct NvdecMapper {
    session: HwSession,
    host: HostMapper,
}

impl FrameMapper for NvdecMapper {
    fn configure(&mut self, context: &mut av::codec::Context) -> Result<()> {
        self.session.configure(context, EXTRA_SURFACES);
        Ok(())
    }

    fn software_fallback(&self, frame: &av::frame::Video) -> Option<String> {
        if hwaccel::device_planes(frame, HwDeviceType::Cuda).is_some() {
            return None;
        }
        Some(self.session.fallback_reason())
    }

    fn map(&mut self, frame: &av::frame::Video, color: ColorInfo, hdr: HdrInfo) -> Result<Picture> {
        let Some((addresses, pitches)) = hwaccel::device_planes(frame, HwDeviceType::Cuda) else {
            return self.host.map(frame, color, hdr);
        };
        let sw_format = hwaccel::surface_sw_format(frame)
            .map(av::format::Pixel::from)
            .and_then(|p| p.descriptor())
            .map(|d| d.name())
            .unwrap_or("none");
        let format = nvdec_caps::surface_format(sw_format)
            .ok_or_else(|| Unsupported::PixelFormat(format!("cuda ({sw_format})")))?;
        let (context, stream) = self
            .session
            .device()
            .cuda()
            .expect("the NVDEC mapper's device is a CUDA device");
        let (left, top) = hwaccel::crop_top_left(frame);
        let shape = format.desc();
        let mut planes = [PlaneDesc::default(); MAX_PLANES];
        for (index, plane) in planes.iter_mut().enumerate().take(shape.planes.len()) {
            let plane_format = shape.planes[index];
            let texel = u64::from(plane_format.bytes_per_sample)
                * u64::from(plane_format.samples_per_texel);
            let pitch = pitches[index];
            plane.pitch = pitch;
            plane.offset = u64::from(top >> plane_format.y_shift) * pitch
                + u64::from(left >> plane_format.x_shift) * texel;
        }
        let held = FrameRef::new(frame).map_err(|e| DecodeError::Picture {
            what: "holding a decoded picture of",
            format: "cuda".into(),
            cause: e.into(),
        })?;
        Ok(Picture {
            desc: PictureDesc {
                width: frame.width(),
                height: frame.height(),
                format,
                planes,
                color,
                hdr,
                // NVDEC hands over no alpha plane; tracks with alpha are
                // left to the software backend (see `status`).
                alpha: false,
                scan: Scan::Progressive,
            },
            surface: Surface::Cuda(CudaSurface {
                context: context as usize,
                stream: stream as usize,
                planes: addresses,
                keep_alive: KeepAlive::new(held),
            }),
        })
    }
}
