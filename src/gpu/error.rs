use thiserror::Error;

/// Everything that can go wrong between a decoded frame and its pixels.
/// None of these is a panic: a bad spec, a frame too large for the device,
/// a lost device all come back here so one request fails and the rest go on.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum GpuError {
    /// No adapter at all, not even a software one (lavapipe missing).
    #[error("no GPU adapter found (is a Vulkan driver such as Mesa lavapipe installed?): {0}")]
    NoAdapter(String),
    /// The adapter refused to create a device.
    #[error("could not create a GPU device on {adapter}: {reason}")]
    DeviceCreation { adapter: String, reason: String },
    /// The device needs a feature the adapter lacks for this input.
    #[error("the GPU device lacks feature {feature}, needed for {needed_for}")]
    MissingFeature {
        feature: &'static str,
        needed_for: String,
    },
    /// A texture or buffer would exceed one of the device's limits.
    #[error("{what} needs {requested} but the device allows {allowed} ({limit})")]
    TooLarge {
        what: &'static str,
        limit: &'static str,
        requested: u64,
        allowed: u64,
    },
    /// The device reported out-of-memory while preparing or running a frame.
    #[error("the GPU ran out of memory: {0}")]
    OutOfMemory(String),
    /// The device is gone (driver reset, GPU removed, destroyed): build a new
    /// context.
    #[error("the GPU device was lost: {0}")]
    DeviceLost(String),
    /// The GPU did not finish a frame in time.
    #[error("the GPU did not finish the frame within {seconds} s")]
    Timeout { seconds: u64 },
    /// The output spec cannot be rendered as given (a non-axis-aligned map,
    /// a zero size, a combination of colour settings the shaders do not
    /// implement).
    #[error("unsupported output spec: {0}")]
    UnsupportedSpec(String),
    /// The spec was computed for a different input than the frame supplied.
    #[error("spec does not match the frame: {0}")]
    SpecMismatch(String),
    /// wgpu rejected a call: a bug in this module, reported rather than
    /// panicking.
    #[error("GPU validation error: {0}")]
    Validation(String),
    /// A driver-internal failure (for example a shader the driver could not
    /// compile).
    #[error("GPU internal error: {0}")]
    Internal(String),
}

impl GpuError {
    pub(crate) fn from_wgpu(error: wgpu::Error) -> GpuError {
        match error {
            wgpu::Error::OutOfMemory { .. } => GpuError::OutOfMemory(error.to_string()),
            wgpu::Error::Validation { description, .. } => {
                // wgpu reports work on a lost device as a validation error
                // ("Parent device is lost"); it has no variant of its own.
                if description.contains("lost") {
                    GpuError::DeviceLost(description)
                } else {
                    GpuError::Validation(description)
                }
            }
            wgpu::Error::Internal { description, .. } => GpuError::Internal(description),
        }
    }
}
