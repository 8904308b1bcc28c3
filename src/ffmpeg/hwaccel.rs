//! FFmpeg's hardware decoding, the part every hwaccel backend shares: a
//! device context of one type, and a codec context set up to decode on it
//! with a `get_format` callback that takes the device's surface format —
//! and, when FFmpeg offers none (a profile the hardware does not decode) or
//! the hwaccel fails to start, takes a software format instead and records
//! why, so the request falls back to software with its reason rather than
//! failing.
// The NVDEC and VA-API backends are its users; the CUDA parts have none in
// a build without NVDEC.
#![cfg_attr(not(feature = "nvdec"), allow(dead_code))]

use std::ffi::CString;
use std::ptr::{self, NonNull};
use std::sync::{Arc, Mutex};

use super::{av, ffi};
use crate::error::FfmpegError;
use crate::picture::MAX_PLANES;

/// The hardware device types stills decodes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HwDeviceType {
    /// NVIDIA's NVDEC through CUDA: frames are `AV_PIX_FMT_CUDA`.
    Cuda,
    /// VA-API (Intel, AMD): frames are `AV_PIX_FMT_VAAPI`.
    Vaapi,
}

impl HwDeviceType {
    /// FFmpeg's name for the hwaccel, as messages say it.
    fn name(self) -> &'static str {
        match self {
            HwDeviceType::Cuda => "CUDA",
            HwDeviceType::Vaapi => "VAAPI",
        }
    }

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
    /// Read by the callback only, through the context's `opaque`.
    _wanted: Box<Wanted>,
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
    HwDecoding {
        _wanted: wanted,
        fallback,
    }
}

/// A hardware backend's device and the set-up of the codec contexts it
/// decodes with: what every hardware frame mapper keeps.
pub struct HwSession {
    device: HwDevice,
    /// The hardware set-up of the codec context the engine decodes with.
    decoding: Option<HwDecoding>,
    /// The set-up of the context before it: the engine configures a new
    /// context before it drops the decoder opened from the old one, whose
    /// `get_format` state must outlive it.
    previous: Option<HwDecoding>,
}

impl HwSession {
    pub fn new(device: HwDevice) -> HwSession {
        HwSession {
            device,
            decoding: None,
            previous: None,
        }
    }

    pub fn device(&self) -> &HwDevice {
        &self.device
    }

    /// Sets a new codec context up to decode on the device, with
    /// `extra_surfaces` beyond the decoder's references. One frame thread:
    /// the device decodes, so frame threads would only hold more surfaces.
    pub fn configure(&mut self, context: &mut av::codec::Context, extra_surfaces: i32) {
        context.set_threading(av::codec::threading::Config {
            kind: av::codec::threading::Type::Frame,
            count: 1,
            ..Default::default()
        });
        set_extra_hw_frames(context, extra_surfaces);
        let decoding = attach(context, &self.device);
        self.previous = self.decoding.replace(decoding);
    }

    /// Why a frame came back in host memory: the reason `get_format` gave,
    /// else that the hwaccel handed over a software picture.
    pub fn fallback_reason(&self) -> String {
        self.decoding
            .as_ref()
            .and_then(|d| d.fallback().reason())
            .unwrap_or_else(|| {
                format!(
                    "FFmpeg's {} hwaccel handed over a software picture",
                    self.device.kind.name()
                )
            })
    }
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
            wanted.kind.name()
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

/// The name of the decoder FFmpeg opens for `codec` (FFmpeg's codec
/// name) when it can decode on a device of `kind` through a hwaccel, or
/// why it cannot: no decoder, or the decoder FFmpeg prefers (an external
/// library such as libdav1d) has no hwaccel for the device.
pub fn decoder_with_hwaccel(codec: &str, kind: HwDeviceType) -> Result<String, String> {
    super::init();
    let Some(id) = super::codec_id_by_name(codec) else {
        return Err(format!("FFmpeg knows no codec '{codec}'"));
    };
    let Some(decoder) = av::decoder::find(id) else {
        return Err(format!("this FFmpeg has no decoder for '{codec}'"));
    };
    let name = decoder.name().to_string();
    let wanted = kind.ffi();
    for index in 0.. {
        // SAFETY: a valid decoder; FFmpeg returns a static config or null
        // past the last one.
        let config = unsafe { ffi::avcodec_get_hw_config(decoder.as_ptr(), index) };
        if config.is_null() {
            break;
        }
        // SAFETY: non-null, static.
        let config = unsafe { &*config };
        let by_device = config.methods & ffi::AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX as i32 != 0;
        if by_device && config.device_type == wanted {
            return Ok(name);
        }
    }
    Err(format!(
        "FFmpeg decodes '{codec}' with '{name}', which has no {} hwaccel in this build",
        match kind {
            HwDeviceType::Cuda => "CUDA",
            HwDeviceType::Vaapi => "VAAPI",
        }
    ))
}

/// A hardware frame's planes as device addresses (`AVFrame.data`) with
/// their pitches (`linesize`), for a frame of `kind`'s surface format.
pub fn device_planes(
    frame: &av::frame::Video,
    kind: HwDeviceType,
) -> Option<([u64; MAX_PLANES], [u64; MAX_PLANES])> {
    // SAFETY: reading fields of a valid AVFrame; the data pointers are
    // device addresses, copied as numbers and never dereferenced here.
    unsafe {
        let raw = &*frame.as_ptr();
        if raw.format != kind.surface_format() as i32 {
            return None;
        }
        let planes = std::array::from_fn(|i| raw.data[i] as u64);
        let pitches = std::array::from_fn(|i| u64::try_from(raw.linesize[i]).unwrap_or(0));
        Some((planes, pitches))
    }
}

/// The `(left, top)` crop of a hardware frame, which FFmpeg leaves to
/// whoever reads its surfaces (it crops hardware frames at the right and
/// bottom only).
pub fn crop_top_left(frame: &av::frame::Video) -> (u32, u32) {
    // SAFETY: reading two fields of a valid AVFrame.
    let (left, top) = unsafe { ((*frame.as_ptr()).crop_left, (*frame.as_ptr()).crop_top) };
    (
        u32::try_from(left).unwrap_or(u32::MAX),
        u32::try_from(top).unwrap_or(u32::MAX),
    )
}

/// Asks the codec context for `count` surfaces beyond those the decoder
/// needs (`extra_hw_frames`), for the pictures the pipeline still holds.
pub fn set_extra_hw_frames(context: &mut av::codec::Context, count: i32) {
    // SAFETY: the context is not opened yet (the engine calls the mapper's
    // `configure` before opening), so nothing reads the field concurrently.
    unsafe { (*context.as_mut_ptr()).extra_hw_frames = count };
}
