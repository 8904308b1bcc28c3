//! The FFmpeg side of VA-API decoding: where a decoded `AV_PIX_FMT_VAAPI`
//! frame's surface is (its `VASurfaceID` and the `VADisplay` of the device
//! FFmpeg decoded on). libva itself is called from `crate::va`.

use std::ffi::c_void;
use std::marker::PhantomData;

use super::{av, ffi};

/// A decoded frame's VA surface, on the display of the FFmpeg device that
/// decoded it: both stay valid while the frame is borrowed (the frame
/// references its frames context, which references the device).
#[derive(Debug, Clone, Copy)]
pub struct VaSurface<'frame> {
    display: *mut c_void,
    id: u32,
    _frame: PhantomData<&'frame av::frame::Video>,
}

impl<'frame> VaSurface<'frame> {
    /// The surface `frame` lies on, or `None` when it is not a VA-API
    /// frame (FFmpeg fell back to software).
    pub fn of(frame: &'frame av::frame::Video) -> Option<VaSurface<'frame>> {
        // SAFETY: reading fields of a valid AVFrame. For AV_PIX_FMT_VAAPI,
        // `data[3]` holds the VASurfaceID (hwcontext_vaapi.h) and
        // `hw_frames_ctx` an AVHWFramesContext whose device context's
        // `hwctx` is an AVVAAPIDeviceContext; both buffers are referenced by
        // the frame, so they live as long as it does.
        unsafe {
            let raw = frame.as_ptr();
            if (*raw).format != ffi::AVPixelFormat::AV_PIX_FMT_VAAPI as i32
                || (*raw).hw_frames_ctx.is_null()
            {
                return None;
            }
            let frames = (*(*raw).hw_frames_ctx).data as *const ffi::AVHWFramesContext;
            let device = (*frames).device_ctx;
            if device.is_null() || (*device).hwctx.is_null() {
                return None;
            }
            let vaapi = (*device).hwctx as *const ffi::AVVAAPIDeviceContext;
            Some(VaSurface {
                display: (*vaapi).display,
                id: (*raw).data[3] as usize as u32,
                _frame: PhantomData,
            })
        }
    }

    /// The `VADisplay` FFmpeg decoded on.
    pub fn display(&self) -> *mut c_void {
        self.display
    }

    /// The `VASurfaceID`.
    pub fn id(&self) -> u32 {
        self.id
    }
}

/// Whether `frame` is a VA-API hardware frame.
pub fn is_vaapi(frame: &av::frame::Video) -> bool {
    // SAFETY: reading one field of a valid AVFrame.
    unsafe { (*frame.as_ptr()).format == ffi::AVPixelFormat::AV_PIX_FMT_VAAPI as i32 }
}
