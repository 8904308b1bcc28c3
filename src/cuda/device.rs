//! The CUDA devices of this machine, and which one is the GPU the
//! pipeline's Vulkan device runs on: CUDA's `cuDeviceGetUuid` and Vulkan's
//! `deviceUUID` give the same 16 bytes for the same physical GPU, and
//! memory or semaphores only move between the two APIs on one GPU.

use std::ffi::CStr;

use cudarc::driver::sys;
use serde::Serialize;

use super::{check, driver, CudaError};
use crate::vulkan::Uuid;

/// One CUDA device, as `stills probe` reports it and the NVDEC capability
/// tables read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CudaDevice {
    /// The CUDA ordinal (what FFmpeg's CUDA device is opened with).
    pub ordinal: i32,
    pub name: String,
    pub uuid: Uuid,
    /// Compute capability, major and minor (9.0 for Hopper): which NVDEC
    /// generation the chip has.
    pub compute_capability: (i32, i32),
}

/// Every CUDA device, in ordinal order.
pub(crate) fn devices() -> Result<Vec<CudaDevice>, CudaError> {
    driver()?;
    let mut count = 0;
    // SAFETY: a valid out pointer; the driver is initialised (`driver`).
    check("cuDeviceGetCount", unsafe {
        sys::cuDeviceGetCount(&mut count)
    })?;
    (0..count).map(describe).collect()
}

fn describe(ordinal: i32) -> Result<CudaDevice, CudaError> {
    let mut device: sys::CUdevice = 0;
    // SAFETY: a valid out pointer and an ordinal below the device count.
    check("cuDeviceGet", unsafe {
        sys::cuDeviceGet(&mut device, ordinal)
    })?;
    let mut uuid = sys::CUuuid { bytes: [0; 16] };
    // SAFETY: a valid out pointer and device handle.
    check("cuDeviceGetUuid_v2", unsafe {
        sys::cuDeviceGetUuid_v2(&mut uuid, device)
    })?;
    let mut name = [0 as std::ffi::c_char; 256];
    // SAFETY: the buffer holds `len` bytes; the driver NUL-terminates.
    check("cuDeviceGetName", unsafe {
        sys::cuDeviceGetName(name.as_mut_ptr(), name.len() as i32, device)
    })?;
    // SAFETY: NUL-terminated by the driver within the buffer.
    let name = unsafe { CStr::from_ptr(name.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    let attribute = |attribute| {
        let mut value = 0;
        // SAFETY: a valid out pointer, attribute and device handle.
        check("cuDeviceGetAttribute", unsafe {
            sys::cuDeviceGetAttribute(&mut value, attribute, device)
        })
        .map(|()| value)
    };
    let major = attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)?;
    let minor = attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)?;
    Ok(CudaDevice {
        ordinal,
        name,
        uuid: Uuid(uuid.bytes.map(|b| b as u8)),
        compute_capability: (major, minor),
    })
}

/// The CUDA device that is the physical GPU whose Vulkan `deviceUUID` is
/// `vulkan`, or a sentence saying why none is.
pub(crate) fn matching(
    devices: &[CudaDevice],
    vulkan: Option<Uuid>,
) -> Result<&CudaDevice, String> {
    let Some(vulkan) = vulkan else {
        return Err("the GPU reports no device UUID to match a CUDA device against".into());
    };
    if devices.is_empty() {
        return Err("the CUDA driver lists no device".into());
    }
    devices.iter().find(|d| d.uuid == vulkan).ok_or_else(|| {
        let listed: Vec<String> = devices
            .iter()
            .map(|d| format!("{} {} ({})", d.ordinal, d.name, d.uuid))
            .collect();
        format!(
            "no CUDA device is the GPU the pipeline renders on ({vulkan}); CUDA has {}",
            listed.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(ordinal: i32, first: u8) -> CudaDevice {
        let mut uuid = [0x11; 16];
        uuid[0] = first;
        CudaDevice {
            ordinal,
            name: format!("GPU {ordinal}"),
            uuid: Uuid(uuid),
            compute_capability: (9, 0),
        }
    }

    #[test]
    fn the_device_with_the_vulkan_uuid_is_chosen_whatever_its_ordinal() {
        let devices = [device(0, 0xa0), device(1, 0xb0), device(2, 0xc0)];
        let vulkan = devices[1].uuid;
        assert_eq!(matching(&devices, Some(vulkan)).unwrap().ordinal, 1);
    }

    #[test]
    fn no_match_names_what_cuda_has_and_what_was_wanted() {
        let devices = [device(0, 0xa0)];
        let wanted = Uuid([0x22; 16]);
        let reason = matching(&devices, Some(wanted)).unwrap_err();
        assert!(
            reason.contains("22222222-2222-2222-2222-222222222222"),
            "{reason}"
        );
        assert!(reason.contains("0 GPU 0 (a0111111-"), "{reason}");
        assert!(matching(&[], Some(wanted))
            .unwrap_err()
            .contains("lists no device"));
        assert!(matching(&devices, None)
            .unwrap_err()
            .contains("no device UUID"));
    }

    #[test]
    fn without_a_driver_listing_devices_says_so() {
        // On a machine with an NVIDIA driver this lists its GPUs instead;
        // either way it must not panic.
        match devices() {
            Ok(list) => {
                for d in &list {
                    eprintln!("CUDA device {} {} {}", d.ordinal, d.name, d.uuid);
                }
            }
            Err(e) => {
                eprintln!("skipped: {e}");
                assert!(matches!(e, CudaError::NoDriver(_)), "{e}");
            }
        }
    }
}
