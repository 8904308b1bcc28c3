use thiserror::Error;

/// Everything that can go wrong between a decoded frame and its pixels.
/// None of these is a panic: a bad spec, a frame too large for the device,
/// a lost device all come back here so one request fails and the rest go on.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum GpuError {
    /// A CUDA call of the NVDEC hand-over failed (importing the pipeline's
    /// memory or semaphore into CUDA, or copying a picture into it).
    #[error("CUDA: {0}")]
    Cuda(String),
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
    /// The spec's tone-mapping parameters describe no curve.
    #[error(transparent)]
    InvalidToneMap(#[from] crate::render::tone::InvalidToneMap),
    /// A plane's offset or pitch in its binding is not a whole number of
    /// 32-bit words, which the shaders load.
    #[error("plane {plane} at offset {offset} with pitch {pitch} is not word-aligned")]
    UnalignedPlane {
        plane: usize,
        offset: u64,
        pitch: u64,
    },
    /// A plane of a surface bound where it lies reaches past the end of its
    /// buffer.
    #[error("plane {plane} needs {needed} bytes of a buffer of {size}")]
    SurfaceTooSmall {
        plane: usize,
        needed: u64,
        size: u64,
    },
    /// A plane texture of an image surface does not match its plane.
    #[error("plane {plane} of an image surface: {problem}")]
    PlaneImage { plane: usize, problem: &'static str },
    /// The pipeline cannot read a picture from this kind of surface on this
    /// device.
    #[error("cannot read a {kind} surface: {reason}")]
    UnsupportedSurface {
        kind: &'static str,
        reason: &'static str,
    },
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
    /// Foreign memory, an image or a semaphore could not be imported.
    #[error(transparent)]
    Import(#[from] ImportError),
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

/// A Vulkan result code (`VkResult`), kept as its raw value so that the
/// public API does not expose the Vulkan bindings; shown by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VkResultCode(pub i32);

impl std::fmt::Display for VkResultCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VK_{:?}", ash::vk::Result::from_raw(self.0))
    }
}

impl From<ash::vk::Result> for VkResultCode {
    fn from(result: ash::vk::Result) -> VkResultCode {
        VkResultCode(result.as_raw())
    }
}

/// What an import was bringing into the device when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImportKind {
    /// Host memory (`VK_EXT_external_memory_host`) as a buffer.
    HostBuffer,
    /// An opaque file descriptor (Vulkan or CUDA export) as a buffer.
    OpaqueFdBuffer,
    /// A DMA-BUF as a linear buffer.
    DmaBufBuffer,
    /// An opaque file descriptor as an optimally tiled image.
    OpaqueFdImage,
    /// A buffer whose memory is exported as an opaque fd (for CUDA).
    OpaqueFdExport,
    /// A DMA-BUF plane as an image with an explicit DRM format modifier.
    DmaBufImage,
    /// A `sync_file` (a DMA-BUF fence) as a binary semaphore.
    SyncFdSemaphore,
    /// A timeline semaphore (local, or to be exported as an opaque fd).
    TimelineSemaphore,
}

impl std::fmt::Display for ImportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ImportKind::HostBuffer => "import of host memory as a buffer",
            ImportKind::OpaqueFdBuffer => "import of an opaque fd as a buffer",
            ImportKind::DmaBufBuffer => "import of a DMA-BUF as a buffer",
            ImportKind::OpaqueFdImage => "import of an opaque fd as an image",
            ImportKind::OpaqueFdExport => "export of a buffer as an opaque fd",
            ImportKind::DmaBufImage => "import of a DMA-BUF plane as an image",
            ImportKind::SyncFdSemaphore => "import of a sync_file as a semaphore",
            ImportKind::TimelineSemaphore => "timeline semaphore",
        })
    }
}

/// Why a plane layout given for an import cannot describe the memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// A row of the image needs more bytes than the pitch leaves.
    #[error("a row needs {row_bytes} bytes but the pitch is {pitch}")]
    PitchTooSmall { row_bytes: u64, pitch: u64 },
    /// The plane ends past the end of the memory.
    #[error("the plane ends at byte {end} but the memory holds {size}")]
    PastEnd { end: u64, size: u64 },
    /// A width, height or size of zero.
    #[error("the image or memory is empty")]
    Empty,
    /// The sizes overflow 64 bits.
    #[error("the plane's extent overflows")]
    Overflow,
}

/// Why memory, an image or a semaphore from outside could not be brought
/// into the device. Each names what was being imported.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The context's device is not a Vulkan device (imports are Vulkan only).
    #[error("{what}: the GPU device is not a Vulkan device")]
    NotVulkan { what: ImportKind },
    /// The device was opened without the extension the import needs (the
    /// driver lacks it, or a caller's device did not enable it).
    #[error("{what}: the device has no {extension}")]
    MissingExtension {
        what: ImportKind,
        extension: &'static str,
    },
    /// The driver says it cannot import this handle type for this resource.
    #[error("{what}: the driver does not support it here")]
    NotImportable { what: ImportKind },
    /// A Vulkan call failed.
    #[error("{what}: {call} failed with {result}")]
    Vulkan {
        what: ImportKind,
        call: &'static str,
        result: VkResultCode,
    },
    /// No memory type is allowed both by the resource and by the handle.
    #[error(
        "{what}: no memory type suits both the resource (types {resource:#x}) \
         and the handle (types {handle:#x})"
    )]
    NoMemoryType {
        what: ImportKind,
        resource: u32,
        handle: u32,
    },
    /// The resource needs more memory than the handle holds.
    #[error("{what}: it needs {needed} bytes but the memory holds {available}")]
    TooSmall {
        what: ImportKind,
        needed: u64,
        available: u64,
    },
    /// Only single-plane unsigned-integer formats are imported as images.
    #[error(
        "{what}: {format:?} is not importable (R8Uint, Rg8Uint, R16Uint or \
         Rg16Uint)"
    )]
    UnsupportedFormat {
        what: ImportKind,
        format: wgpu::TextureFormat,
    },
    /// Imported buffers cannot be mapped by wgpu.
    #[error("{what}: imported buffers cannot have usage {usage:?}")]
    UnsupportedUsage {
        what: ImportKind,
        usage: wgpu::BufferUsages,
    },
    /// The driver cannot use this DRM format modifier for this format.
    #[error("{what}: the driver has no modifier {modifier:#x} for {format:?}")]
    UnsupportedModifier {
        what: ImportKind,
        format: wgpu::TextureFormat,
        modifier: u64,
    },
    /// The plane layout given does not fit the memory.
    #[error("{what}: {reason}")]
    Layout {
        what: ImportKind,
        reason: LayoutError,
    },
    /// A timeline semaphore was to be signalled to a value not above its
    /// current one or one signalled before.
    #[error("a timeline semaphore cannot be signalled to {value}: it is at or bound for {above}")]
    SignalNotAbove { value: u64, above: u64 },
    /// The size of the memory behind a file descriptor could not be read.
    #[error("{what}: the size of its file descriptor is unknown ({kind})")]
    FdSize {
        what: ImportKind,
        kind: std::io::ErrorKind,
    },
}
