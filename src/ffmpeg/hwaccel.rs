//! FFmpeg's hardware decoding, the part every hwaccel backend shares: a
//! device context of one type, and a codec context set up to decode on it
//! with a `get_format` callback that takes the device's surface format —
//! and, when FFmpeg offers none (a profile the hardware does not decode) or
//! the hwaccel fails to start, takes a software format instead and records
//! why, so the request falls back to software with its reason rather than
//! failing.
// The NVDEC and VA-API backends (issues 9 and 10) are its users; the
// CUDA parts have none until NVDEC is built in.
#![cfg_attr(not(feature = "nvdec"), allow(dead_code))]

use std::ffi::CString;
use std::ptr::{self, NonNull};
use std::sync::{Arc, Mutex};

use super::{av, ffi};
use crate::error::FfmpegError;

/// The hardware device types stills decodes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HwDeviceType {
    /// NVIDIA's NVDEC through CUDA: frames are `AV_PIX_FMT_CUDA`.
    Cuda,
    /// VA-API (Intel, AMD): frames are `AV_PIX_FMT_VAAPI`.
    Vaapi,
}

impl HwDeviceType {
    fn ffi(self) -> ffi::AVHWDeviceType {
        match self {
            HwDeviceType::Cuda => ffi::AVHWDeviceType::AV_HWDEVICE_TYPE_CUDA,
            HwDeviceType::Vaapi => ffi::AVHWDeviceType::AV_HWDEVICE_TYPE_VAAPI,
        }
    }

    /// The pixel format of this device's decoded frames.
    pub fn surface_format(self) -> ffi::AVPixelFormat {
        match self {
            HwDeviceType::Cuda => ffi::AVPixelFormat::AV_PIX_FMT_CUDA,
            HwDeviceType::Vaapi => ffi::AVPixelFormat::AV_PIX_FMT_VAAPI,
        }
    }
}

/// A reference to an `AVHWDeviceContext` (an `AVBufferRef`): cloning takes
/// another reference, dropping releases one.
pub struct HwDevice {
    kind: HwDeviceType,
    buffer: NonNull<ffi::AVBufferRef>,
}

// SAFETY: an AVHWDeviceContext is reference counted with atomic counts and
// FFmpeg's hwcontexts are documented as usable from several threads (each
// decoder takes its own reference); stills reads the device's fields only.
unsafe impl Send for HwDevice {}
// SAFETY: as above; `&HwDevice` only reads or takes new references.
unsafe impl Sync for HwDevice {}

impl HwDevice {
    /// Opens a device of `kind`: `device` names which (a DRM render node
    /// for VA-API, a CUDA ordinal for CUDA), `None` takes FFmpeg's default.
    pub fn create(kind: HwDeviceType, device: Option<&str>) -> Result<HwDevice, FfmpegError> {
        super::init();
        let name = device
            .map(|d| CString::new(d.replace('\0', "")).expect("NULs removed"))
            .unwrap_or_default();
        let mut buffer: *mut ffi::AVBufferRef = ptr::null_mut();
        // SAFETY: `buffer` is a valid out pointer; the name is NUL-terminated
        // and outlives the call (or is null); no options dictionary.
        let ret = unsafe {
            ffi::av_hwdevice_ctx_create(
                &mut buffer,
                kind.ffi(),
                if device.is_some() {
                    name.as_ptr()
                } else {
                    ptr::null()
                },
                ptr::null_mut(),
                0,
            )
        };
        if ret < 0 {
            return Err(av::Error::from(ret).into());
        }
        let buffer = NonNull::new(buffer).ok_or(FfmpegError {
            code: 0,
            message: "FFmpeg made no device context".into(),
        })?;
        Ok(HwDevice { kind, buffer })
    }

    pub fn kind(&self) -> HwDeviceType {
        self.kind
    }

    /// The device type's own context (`AVHWDeviceContext.hwctx`: an
    /// `AVCUDADeviceContext`, an `AVVAAPIDeviceContext`).
    pub(crate) fn hwctx(&self) -> *mut std::ffi::c_void {
        // SAFETY: the buffer holds an AVHWDeviceContext for as long as this
        // reference lives; `hwctx` is set at creation and never changes.
        unsafe { (*((*self.buffer.as_ptr()).data as *mut ffi::AVHWDeviceContext)).hwctx }
    }

    /// The CUDA context and stream FFmpeg decodes on, for a CUDA device.
    pub(crate) fn cuda(&self) -> Option<(ffi::CUcontext, ffi::CUstream)> {
        (self.kind == HwDeviceType::Cuda).then(|| {
            // SAFETY: a CUDA device's hwctx is an AVCUDADeviceContext, set up
            // by `av_hwdevice_ctx_create`.
            let cuda = unsafe { &*(self.hwctx() as *const ffi::AVCUDADeviceContext) };
            (cuda.cuda_ctx, cuda.stream)
        })
    }
}

impl Clone for HwDevice {
    fn clone(&self) -> HwDevice {
        // SAFETY: a valid buffer reference; `av_buffer_ref` only fails on
        // allocation failure, where it returns null.
        let buffer = unsafe { ffi::av_buffer_ref(self.buffer.as_ptr()) };
        HwDevice {
            kind: self.kind,
            buffer: NonNull::new(buffer).expect("out of memory taking a buffer reference"),
        }
    }
}

impl Drop for HwDevice {
    fn drop(&mut self) {
        let mut buffer = self.buffer.as_ptr();
        // SAFETY: this value owns one reference, released exactly once here.
        unsafe { ffi::av_buffer_unref(&mut buffer) };
    }
}

impl std::fmt::Debug for HwDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HwDevice")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// What `get_format` chose for a codec context, shared with the decoder
/// that reads it.
#[derive(Debug, Default)]
struct Negotiation {
    /// Why the last negotiation took a software format, if it did.
    fallback: Option<String>,
}

/// Why a codec context fell back to software decoding, as its `get_format`
/// last decided (`None` while it decodes on the device).
#[derive(Debug, Clone, Default)]
pub struct HwFallback(Arc<Mutex<Negotiation>>);

impl HwFallback {
    pub fn reason(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .fallback
            .clone()
    }
}

/// What the callback reads through `AVCodecContext.opaque`.
struct Wanted {
    format: ffi::AVPixelFormat,
    kind: HwDeviceType,
    negotiation: HwFallback,
}

/// A codec context's hardware set-up: keeps the callback's state alive for
/// as long as the context may call it, so it must outlive the decoder
/// opened from the context (drop the decoder first).
pub struct HwDecoding {
    wanted: Box<Wanted>,
    fallback: HwFallback,
}

impl HwDecoding {
    pub fn fallback(&self) -> &HwFallback {
        &self.fallback
    }
}

/// Sets `context` up to decode on `device`: a reference to the device as
/// its `hw_device_ctx`, and a `get_format` that takes the device's surface
/// format when offered, else the best software format. Call before the
/// decoder is opened.
pub fn attach(context: &mut av::codec::Context, device: &HwDevice) -> HwDecoding {
    let fallback = HwFallback::default();
    let mut wanted = Box::new(Wanted {
        format: device.kind.surface_format(),
        kind: device.kind,
        negotiation: fallback.clone(),
    });
    // SAFETY: the context is not opened yet, so nothing reads these fields
    // concurrently. `hw_device_ctx` takes a new reference, which the context
    // releases when freed. `opaque` points into the box `HwDecoding` owns,
    // which the caller keeps alive past the decoder (the type's contract);
    // the box's heap address does not move when `HwDecoding` does.
    unsafe {
        let ctx = context.as_mut_ptr();
        (*ctx).hw_device_ctx = ffi::av_buffer_ref(device.buffer.as_ptr());
        (*ctx).opaque = (&mut *wanted as *mut Wanted).cast();
        (*ctx).get_format = Some(get_format);
    }
    HwDecoding { wanted, fallback }
}

/// FFmpeg's `get_format`: the wanted hardware format if `formats` (ended by
/// `AV_PIX_FMT_NONE`) holds it, else the first software one. FFmpeg calls
/// it again, without the hardware format, when the hwaccel fails to start.
unsafe extern "C" fn get_format(
    ctx: *mut ffi::AVCodecContext,
    formats: *const ffi::AVPixelFormat,
) -> ffi::AVPixelFormat {
    // SAFETY: FFmpeg passes the context being negotiated, whose `opaque` was
    // set by `attach` to a live `Wanted`, and a list ended by
    // AV_PIX_FMT_NONE.
    let (wanted, offered) = unsafe {
        let wanted = &*((*ctx).opaque as *const Wanted);
        let mut offered = Vec::new();
        let mut at = formats;
        while *at != ffi::AVPixelFormat::AV_PIX_FMT_NONE {
            offered.push(*at);
            at = at.add(1);
        }
        (wanted, offered)
    };
    let mut negotiation = wanted
        .negotiation
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if offered.contains(&wanted.format) {
        negotiation.fallback = None;
        return wanted.format;
    }
    let software = offered.iter().copied().find(|&f| !is_hardware(f));
    negotiation.fallback = Some(match software {
        Some(_) => format!(
            "FFmpeg's {} hwaccel does not decode this stream (its profile, size or format), \
             or failed to start",
            match wanted.kind {
                HwDeviceType::Cuda => "CUDA",
                HwDeviceType::Vaapi => "VAAPI",
            }
        ),
        None => "FFmpeg offered no software format either".into(),
    });
    software.unwrap_or(ffi::AVPixelFormat::AV_PIX_FMT_NONE)
}

fn is_hardware(format: ffi::AVPixelFormat) -> bool {
    // SAFETY: `av_pix_fmt_desc_get` returns a static descriptor or null.
    let desc = unsafe { ffi::av_pix_fmt_desc_get(format) };
    // SAFETY: a non-null descriptor is static.
    !desc.is_null() && unsafe { (*desc).flags } & ffi::AV_PIX_FMT_FLAG_HWACCEL as u64 != 0
}

/// The software pixel format of a hardware frame's surfaces (what its
/// planes hold: NV12, P010, YUV444P…), from its frames context.
pub fn surface_sw_format(frame: &av::frame::Video) -> Option<ffi::AVPixelFormat> {
    // SAFETY: a hardware frame's `hw_frames_ctx` is null or a buffer holding
    // an AVHWFramesContext, alive while the frame references it.
    unsafe {
        let frames = (*frame.as_ptr()).hw_frames_ctx;
        if frames.is_null() {
            return None;
        }
        Some((*((*frames).data as *const ffi::AVHWFramesContext)).sw_format)
    }
}

impl HwDecoding {
    /// The device type the codec context wants to decode on.
    pub fn kind(&self) -> HwDeviceType {
        self.wanted.kind
    }
}
