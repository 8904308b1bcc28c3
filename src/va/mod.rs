//! The libva boundary (feature `vaapi`), through cros-libva:
//!
//! - [`probe`]: cros-libva finds the render nodes and opens each one's VA
//!   display, and its safe API answers what the VA-API backend and `stills
//!   probe` ask (the driver's description, profiles, entrypoints, maximum
//!   sizes, render-target and surface formats). The display is closed
//!   again: only the answers are kept.
//! - [`export`]: a decoded surface exported as DRM PRIME
//!   (`vaExportSurfaceHandle`) on the display FFmpeg decoded on.
//!
//! FFmpeg decodes on a display of its own, opened on the same render node
//! (`av_hwdevice_ctx_create`), not on cros-libva's: cros-libva 0.0.13 keeps
//! its `Display`'s raw `VADisplay` private, so there is no handle to give
//! FFmpeg's `AVVAAPIDeviceContext`. A DMA-BUF does not belong to a display,
//! so the surfaces are the same whichever display exports them; the cost is
//! one more driver instance while the capabilities are asked, once per
//! process. The raw entry points cros-libva re-exports (`vaSyncSurface`,
//! `vaExportSurfaceHandle`) are called here on FFmpeg's display; this is
//! the only module that calls libva outside cros-libva's safe API.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

use std::ffi::CStr;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;

use cros_libva as va;

use crate::decode::prime::{ExportError, PrimeLayer, PrimeObject, PrimePlane, PrimeSurface};
use crate::decode::vaapi_caps::{VaEntrypoint, VaProfile, VaapiDevice, VaapiProfile};
use crate::ffmpeg::vaapi::VaSurface;

/// Every render node cros-libva finds (`/dev/dri/renderD128` on), with
/// what its driver offers.
pub(crate) fn probe() -> Vec<VaapiDevice> {
    va::DrmDeviceIterator::default()
        .map(|node| probe_node(&node))
        .collect()
}

/// What the VA-API driver of `node` offers, or why it could not be asked.
pub(crate) fn probe_node(node: &Path) -> VaapiDevice {
    let mut device = VaapiDevice {
        render_node: node.display().to_string(),
        kernel_driver: kernel_driver(node),
        driver: None,
        error: None,
        profiles: Vec::new(),
    };
    let display = match va::Display::open_drm_display(node) {
        Ok(display) => display,
        Err(e) => {
            device.error = Some(format!("libva could not open it: {e}"));
            return device;
        }
    };
    device.driver = display.query_vendor_string().ok();
    let profiles = match display.query_config_profiles() {
        Ok(profiles) => profiles,
        Err(e) => {
            device.error = Some(format!("vaQueryConfigProfiles: {e}"));
            return device;
        }
    };
    for raw in profiles {
        let profile = VaProfile::from_raw(raw);
        let entrypoints: Vec<VaEntrypoint> = display
            .query_config_entrypoints(raw)
            .unwrap_or_default()
            .into_iter()
            .map(|e| VaEntrypoint::from_raw(e as i32))
            .collect();
        let mut caps = VaapiProfile {
            profile,
            codec: profile.codec(),
            entrypoints,
            max_width: None,
            max_height: None,
            rt_formats: 0,
            surface_formats: Vec::new(),
        };
        if caps.decodes() {
            decoder_caps(&display, raw, &mut caps);
        }
        device.profiles.push(caps);
    }
    device
}

/// The decode entrypoint's limits and formats for `profile`.
fn decoder_caps(display: &std::rc::Rc<va::Display>, profile: i32, caps: &mut VaapiProfile) {
    let vld = VaEntrypoint::VLD.raw() as va::VAEntrypoint::Type;
    let mut attributes = [
        va::VAConfigAttribType::VAConfigAttribRTFormat,
        va::VAConfigAttribType::VAConfigAttribMaxPictureWidth,
        va::VAConfigAttribType::VAConfigAttribMaxPictureHeight,
    ]
    .map(|type_| va::VAConfigAttrib { type_, value: 0 });
    let known = |value: u32| (value != va::VA_ATTRIB_NOT_SUPPORTED).then_some(value);
    if display
        .get_config_attributes(profile, vld, &mut attributes)
        .is_ok()
    {
        caps.rt_formats = known(attributes[0].value).unwrap_or(0);
        caps.max_width = known(attributes[1].value).filter(|&w| w > 0);
        caps.max_height = known(attributes[2].value).filter(|&h| h > 0);
    }
    let Ok(mut config) = display.create_config(Vec::new(), profile, vld) else {
        return;
    };
    let mut integers = |attribute| -> Vec<i32> {
        config
            .query_surface_attributes_by_type(attribute)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|value| match value {
                va::GenericValue::Integer(i) => Some(i),
                _ => None,
            })
            .collect()
    };
    use va::VASurfaceAttribType::{
        VASurfaceAttribMaxHeight, VASurfaceAttribMaxWidth, VASurfaceAttribPixelFormat,
    };
    caps.surface_formats = integers(VASurfaceAttribPixelFormat)
        .into_iter()
        .map(|f| f as u32)
        .collect();
    let first = |list: Vec<i32>| list.first().and_then(|&v| u32::try_from(v).ok());
    if caps.max_width.is_none() {
        caps.max_width = first(integers(VASurfaceAttribMaxWidth));
    }
    if caps.max_height.is_none() {
        caps.max_height = first(integers(VASurfaceAttribMaxHeight));
    }
}

/// The kernel driver bound to a render node (`i915`, `amdgpu`), from
/// `/sys/class/drm/renderD*/device/driver`.
fn kernel_driver(node: &Path) -> Option<String> {
    let name = node.file_name()?;
    let link = Path::new("/sys/class/drm")
        .join(name)
        .join("device/driver")
        .read_link()
        .ok()?;
    Some(link.file_name()?.to_string_lossy().into_owned())
}

/// libva's message for a status.
fn va_message(status: va::VAStatus) -> String {
    // SAFETY: vaErrorStr returns a pointer to a static NUL-terminated
    // string for any status, never null.
    unsafe { CStr::from_ptr(va::vaErrorStr(status)) }
        .to_string_lossy()
        .into_owned()
}

fn check(call: &'static str, status: va::VAStatus) -> Result<(), ExportError> {
    if status == va::VA_STATUS_SUCCESS as va::VAStatus {
        Ok(())
    } else {
        Err(ExportError::Va {
            call,
            status,
            message: va_message(status),
        })
    }
}

/// Waits for the decode of `surface` to finish, then exports it as DRM
/// PRIME with one layer per plane, read-only. Every fd the export returns
/// is owned by the result from here on, whatever happens later.
pub(crate) fn export(surface: &VaSurface<'_>) -> Result<PrimeSurface, ExportError> {
    let (display, id) = (surface.display(), surface.id());
    // SAFETY: `display` is the initialised VADisplay of FFmpeg's device and
    // `id` a surface of it, both alive while the frame `surface` borrows is
    // (VaSurface's contract). FFmpeg's hwaccel ends each picture with
    // vaEndPicture; this waits for the decode to complete, as FFmpeg's own
    // mapping does before handing a surface on.
    check("vaSyncSurface", unsafe { va::vaSyncSurface(display, id) })?;
    let mut descriptor = va::VADRMPRIMESurfaceDescriptor::default();
    // SAFETY: as above; the descriptor is the struct DRM_PRIME_2 exports
    // write, and lives across the call.
    let status = unsafe {
        va::vaExportSurfaceHandle(
            display,
            id,
            va::VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2,
            va::VA_EXPORT_SURFACE_READ_ONLY | va::VA_EXPORT_SURFACE_SEPARATE_LAYERS,
            (&mut descriptor as *mut va::VADRMPRIMESurfaceDescriptor).cast(),
        )
    };
    check("vaExportSurfaceHandle", status)?;
    let objects = descriptor
        .objects
        .iter()
        .take(descriptor.num_objects as usize)
        .map(|object| PrimeObject {
            // SAFETY: a successful export returns a new fd per object, owned
            // by the caller (va_drmcommon.h); each is wrapped exactly once.
            fd: unsafe { OwnedFd::from_raw_fd(object.fd) },
            size: object.size,
            modifier: object.drm_format_modifier,
        })
        .collect();
    let layers = descriptor
        .layers
        .iter()
        .take(descriptor.num_layers as usize)
        .map(|layer| PrimeLayer {
            drm_format: layer.drm_format,
            planes: (0..(layer.num_planes as usize).min(4))
                .map(|p| PrimePlane {
                    object: layer.object_index[p],
                    offset: layer.offset[p],
                    pitch: layer.pitch[p],
                })
                .collect(),
        })
        .collect();
    Ok(PrimeSurface {
        fourcc: descriptor.fourcc,
        objects,
        layers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables in `vaapi_caps` carry libva's values themselves (so they
    /// build without libva): they must be the values of the va.h this build
    /// was generated from.
    #[test]
    fn the_tables_match_this_libva() {
        use va::{VAEntrypoint as E, VAProfile as P};
        let profiles = [
            (VaProfile::MPEG2Main, P::VAProfileMPEG2Main),
            (
                VaProfile::H264ConstrainedBaseline,
                P::VAProfileH264ConstrainedBaseline,
            ),
            (VaProfile::H264Main, P::VAProfileH264Main),
            (VaProfile::H264High, P::VAProfileH264High),
            (VaProfile::VP8Version0_3, P::VAProfileVP8Version0_3),
            (VaProfile::HEVCMain, P::VAProfileHEVCMain),
            (VaProfile::HEVCMain10, P::VAProfileHEVCMain10),
            (VaProfile::HEVCMain12, P::VAProfileHEVCMain12),
            (VaProfile::VP9Profile0, P::VAProfileVP9Profile0),
            (VaProfile::VP9Profile2, P::VAProfileVP9Profile2),
            (VaProfile::AV1Profile0, P::VAProfileAV1Profile0),
            (VaProfile::AV1Profile1, P::VAProfileAV1Profile1),
            (VaProfile::HEVCSccMain444_10, P::VAProfileHEVCSccMain444_10),
            (VaProfile::Protected, P::VAProfileProtected),
        ];
        for (ours, theirs) in profiles {
            assert_eq!(ours.raw(), theirs, "{ours:?}");
        }
        assert_eq!(VaEntrypoint::VLD.raw(), E::VAEntrypointVLD as i32);
        assert_eq!(
            VaEntrypoint::EncSliceLP.raw(),
            E::VAEntrypointEncSliceLP as i32
        );
        assert_eq!(
            VaEntrypoint::VideoProc.raw(),
            E::VAEntrypointVideoProc as i32
        );
        assert_eq!(
            VaEntrypoint::ProtectedContent.raw(),
            E::VAEntrypointProtectedContent as i32
        );
        assert_eq!(va::VA_RT_FORMAT_YUV420_10, 0x100);
        assert_eq!(va::VA_RT_FORMAT_YUV420_12, 0x1000);
        assert_eq!(
            va::VA_FOURCC_P010,
            crate::decode::vaapi_caps::fourcc(b"P010")
        );
    }

    /// On a machine with render nodes, each is described: its driver, or
    /// why libva could not open it. Without one, says so.
    #[test]
    fn render_nodes_are_probed() {
        let devices = probe();
        if devices.is_empty() {
            eprintln!("SKIPPED render_nodes_are_probed: no DRM render node (/dev/dri/renderD*)");
            return;
        }
        for device in &devices {
            assert!(device.render_node.starts_with("/dev/dri/renderD"));
            assert!(
                device.error.is_some() || device.driver.is_some(),
                "{device:?}"
            );
            eprintln!("{}: {:?}", device.describe(), device.error);
            for p in device.profiles.iter().filter(|p| p.decodes()) {
                eprintln!(
                    "  {} {:?}x{:?} {:?}",
                    p.profile.name(),
                    p.max_width,
                    p.max_height,
                    p.surface_formats
                );
            }
        }
    }
}
