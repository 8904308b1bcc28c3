//! The CUDA boundary: the driver API (`libcuda.so.1`) loaded at run time
//! through cudarc's raw bindings, so that a build with NVDEC runs, and
//! reports plainly, on machines without an NVIDIA driver.
//!
//! | module | job |
//! |---|---|
//! | [`device`] | the CUDA devices, their UUIDs, compute capabilities and names; which one is the GPU the pipeline renders on (pure) |
//! | [`interop`] | Vulkan memory and timeline semaphores imported into CUDA; plane copies device to device on FFmpeg's stream |
//!
//! Nothing here touches the driver until [`driver`] is asked, which loads
//! it once per process and initialises it (`cuInit`); every other entry
//! point goes through it. Unsafe code is confined to this module tree (and
//! the other FFI layers); each block says why it holds.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub(crate) mod device;
pub(crate) mod interop;

use std::ffi::CStr;
use std::sync::OnceLock;

use cudarc::driver::sys;
use thiserror::Error;

/// Why a CUDA operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CudaError {
    /// No usable driver: the library is missing or `cuInit` refused.
    #[error("no CUDA driver: {0}")]
    NoDriver(String),
    /// A driver call returned an error.
    #[error("{call} failed: {name} ({code})")]
    Call {
        call: &'static str,
        code: u32,
        name: String,
    },
    /// A copy would write past the end of the memory it targets.
    #[error("a plane copy of {needed} bytes does not fit the {size}-byte destination")]
    OutOfBounds { needed: u64, size: u64 },
}

/// Proof that the CUDA driver is loaded and initialised: only
/// [`driver`] makes one.
#[derive(Debug)]
pub(crate) struct Driver {
    /// `cuDriverGetVersion`: 12080 for CUDA 12.8.
    pub(crate) version: i32,
}

/// The CUDA driver, loaded and initialised once per process, or why it
/// cannot be.
pub(crate) fn driver() -> Result<&'static Driver, CudaError> {
    static DRIVER: OnceLock<Result<Driver, CudaError>> = OnceLock::new();
    DRIVER.get_or_init(load).as_ref().map_err(Clone::clone)
}

fn load() -> Result<Driver, CudaError> {
    // SAFETY: tries to open libcuda by its usual names and closes it again;
    // opening a shared library runs its initialisers, which the NVIDIA
    // driver's are written to allow.
    if !unsafe { sys::is_culib_present() } {
        return Err(CudaError::NoDriver(
            "libcuda.so.1 is not installed (no NVIDIA driver on this machine)".into(),
        ));
    }
    // SAFETY: the library is present (checked above), so `culib` loads it
    // rather than panicking; flags must be 0.
    check("cuInit", unsafe { sys::cuInit(0) }).map_err(|e| CudaError::NoDriver(e.to_string()))?;
    let mut version = 0;
    // SAFETY: a valid out pointer; the driver is initialised.
    check("cuDriverGetVersion", unsafe {
        sys::cuDriverGetVersion(&mut version)
    })?;
    Ok(Driver { version })
}

/// Whether NVIDIA's video decoding library (`libnvcuvid.so.1`, which
/// FFmpeg's CUDA hwaccel loads to drive NVDEC) can be loaded. Asked once
/// per process.
pub(crate) fn nvcuvid_present() -> bool {
    static PRESENT: OnceLock<bool> = OnceLock::new();
    *PRESENT.get_or_init(|| {
        // SAFETY: opening and closing the driver's own library, as FFmpeg
        // does before decoding; its initialisers allow that.
        unsafe { libloading::Library::new("libnvcuvid.so.1") }.is_ok()
    })
}

/// A driver call's result as a `Result`, naming the call.
pub(crate) fn check(call: &'static str, result: sys::CUresult) -> Result<(), CudaError> {
    if result == sys::CUresult::CUDA_SUCCESS {
        return Ok(());
    }
    let mut name: *const std::ffi::c_char = std::ptr::null();
    // SAFETY: a valid out pointer; the driver returns a static string or
    // leaves it null for a code it does not know.
    let named = unsafe { sys::cuGetErrorName(result, &mut name) };
    let name = if named == sys::CUresult::CUDA_SUCCESS && !name.is_null() {
        // SAFETY: a NUL-terminated static string from the driver.
        unsafe { CStr::from_ptr(name) }
            .to_string_lossy()
            .into_owned()
    } else {
        format!("{result:?}")
    };
    Err(CudaError::Call {
        call,
        code: result as u32,
        name,
    })
}
