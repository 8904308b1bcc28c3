//! Where a decoded picture's pixels are. A decoder hands the pipeline a
//! [`Picture`]: its [`PictureDesc`] (what it is, where each plane lies) and
//! a [`Surface`] (the memory holding the planes), whichever way it arrived:
//! host memory from a software decoder, a buffer already on the pipeline's
//! device, DMA-BUF objects exported by VA-API, or CUDA memory from NVDEC.
//!
//! A surface owns (or keeps alive) the backend's frame until the pipeline
//! has finished reading it, so a decoder's pool cannot reuse a picture that
//! is still being read, and says how the GPU must wait for it where the
//! producer is still writing (a sync-file fence, a CUDA stream).

use std::any::Any;
use std::os::fd::OwnedFd;

use thiserror::Error;

use crate::asset::color::{ColorInfo, HdrInfo};
use crate::picture::{DecodedFormat, PictureDesc, MAX_PLANES};

/// The memory holding a picture's planes.
#[derive(Debug)]
pub enum Surface {
    /// Host memory: one buffer per plane, holding it from the offset its
    /// [`PlaneDesc`](crate::picture::PlaneDesc) gives. Uploaded by the
    /// pipeline, or imported without a copy where the device can.
    Host(HostPlanes),
    /// A buffer on the pipeline's own device holding every plane at the
    /// picture's offsets (a caller's own GPU decode, or a CUDA copy).
    Buffer(DeviceBuffer),
    /// Textures on the pipeline's own device, one per plane (an image
    /// another API wrote, imported).
    Images(DeviceImages),
    /// Linux DMA-BUF objects, as VA-API exports its surfaces (DRM PRIME).
    DmaBuf(DmaBufSurface),
    /// CUDA device memory, as NVDEC decodes into through FFmpeg.
    Cuda(CudaSurface),
}

impl Surface {
    /// How reports name where the picture was: `host`, `buffer`, `dma-buf`
    /// or `cuda`.
    pub fn kind(&self) -> &'static str {
        match self {
            Surface::Host(_) => "host",
            Surface::Buffer(_) => "buffer",
            Surface::Images(_) => "images",
            Surface::DmaBuf(_) => "dma-buf",
            Surface::Cuda(_) => "cuda",
        }
    }
}

/// Something a surface keeps alive until the pipeline is done with its
/// memory: the decoder's frame (an `AVFrame` reference holding its pool
/// buffer or hardware surface), never looked into.
pub struct KeepAlive(Option<Box<dyn Any + Send + Sync>>);

impl KeepAlive {
    pub fn new(owner: impl Any + Send + Sync) -> KeepAlive {
        KeepAlive(Some(Box::new(owner)))
    }

    /// Nothing to keep: the surface owns its memory outright.
    pub const NOTHING: KeepAlive = KeepAlive(None);
}

impl std::fmt::Debug for KeepAlive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "KeepAlive(..)"
        } else {
            "KeepAlive(nothing)"
        })
    }
}

/// One plane's bytes in host memory.
#[derive(Debug, Clone)]
pub struct HostPlanes {
    planes: Vec<PlaneBytes>,
}

impl HostPlanes {
    /// The bytes holding plane `index`, from offset 0 (the plane starts at
    /// its [`PlaneDesc::offset`](crate::picture::PlaneDesc::offset)).
    pub fn plane(&self, index: usize) -> &PlaneBytes {
        &self.planes[index]
    }
}

/// A buffer on the pipeline's device (it must be the device of the
/// [`GpuContext`](crate::gpu::GpuContext) that renders it), usable as a
/// storage buffer.
#[derive(Debug)]
pub struct DeviceBuffer {
    pub buffer: wgpu::Buffer,
    pub keep_alive: KeepAlive,
}

/// Textures on the pipeline's device, one per plane of the picture's
/// format, each of the plane's size and of the unsigned-integer format
/// holding its texel (`R8Uint` for an 8-bit plane, `Rg8Uint` for NV12's
/// chroma, `R16Uint` and `Rg16Uint` for 16-bit containers, `Rgba8Uint` for
/// packed RGBA), with `TEXTURE_BINDING` usage. Plane offsets and pitches
/// do not apply.
#[derive(Debug)]
pub struct DeviceImages {
    pub planes: Vec<wgpu::Texture>,
    pub keep_alive: KeepAlive,
}

/// One DMA-BUF object: an fd and the bytes it holds.
#[derive(Debug)]
pub struct DmaBufObject {
    pub fd: OwnedFd,
    pub size: u64,
}

/// A picture exported as DMA-BUF objects (`vaExportSurfaceHandle`,
/// `av_hwframe_map` to DRM PRIME): the planes' offsets and pitches are the
/// picture's [`PlaneDesc`](crate::picture::PlaneDesc)s, each in the object
/// `plane_objects` names.
#[derive(Debug)]
pub struct DmaBufSurface {
    pub objects: Vec<DmaBufObject>,
    /// The DRM fourcc of the whole picture (`NV12`, `P010`), which must be
    /// the picture's [`DecodedFormat`].
    pub fourcc: u32,
    /// The DRM format modifier of every plane: `0` (linear) is imported as
    /// a buffer, anything else as images with
    /// `VK_EXT_image_drm_format_modifier`.
    pub modifier: u64,
    /// Which object holds each plane.
    pub plane_objects: [usize; MAX_PLANES],
    /// A sync-file the GPU must wait on before reading (the decoder's
    /// fence), or `None` when the picture is complete already.
    pub ready: Option<OwnedFd>,
    pub keep_alive: KeepAlive,
}

/// A picture in CUDA device memory, one device pointer per plane (offsets
/// in the picture's [`PlaneDesc`](crate::picture::PlaneDesc)s are relative
/// to them), written on `stream` of `context`.
#[derive(Debug)]
pub struct CudaSurface {
    /// The `CUcontext` the pointers belong to.
    pub context: usize,
    /// The `CUstream` the decoder wrote on: copies out of the surface are
    /// ordered after it.
    pub stream: usize,
    pub planes: [u64; MAX_PLANES],
    pub keep_alive: KeepAlive,
}

/// A decoded picture: what it is and where it is.
#[derive(Debug)]
pub struct Picture {
    pub desc: PictureDesc,
    pub surface: Surface,
}

impl Picture {
    /// Another handle on a host picture's planes (shared, not copied);
    /// `None` for a picture on a device, which only one holder may own.
    pub(crate) fn share_host(&self) -> Option<Picture> {
        match &self.surface {
            Surface::Host(host) => Some(Picture {
                desc: self.desc,
                surface: Surface::Host(host.clone()),
            }),
            _ => None,
        }
    }

    /// A picture in host memory, checked against its description: one
    /// buffer per plane, each long enough for every row at its pitch from
    /// its offset (the last row may stop at its last sample, as FFmpeg's
    /// buffers may).
    pub fn host(desc: PictureDesc, planes: Vec<PlaneBytes>) -> Result<Picture, SurfaceError> {
        let (width, height) = (desc.width, desc.height);
        if width == 0 || height == 0 {
            return Err(SurfaceError::Empty { width, height });
        }
        let expected = desc.format.desc().planes.len();
        if planes.len() != expected {
            return Err(SurfaceError::PlaneCount {
                format: desc.format,
                expected,
                got: planes.len(),
            });
        }
        for (index, (plane, bytes)) in desc.planes().iter().zip(&planes).enumerate() {
            let overflow = SurfaceError::Overflow { width, height };
            let (row_bytes, _) = desc.plane_extent(index).ok_or(overflow.clone())?;
            if plane.pitch < row_bytes {
                return Err(SurfaceError::PitchTooSmall {
                    plane: index,
                    pitch: plane.pitch,
                    row_bytes,
                });
            }
            let needed = desc
                .plane_span(index)
                .and_then(|span| span.checked_add(plane.offset))
                .ok_or(overflow)?;
            if (bytes.len() as u64) < needed {
                return Err(SurfaceError::PlaneTooShort {
                    plane: index,
                    len: bytes.len() as u64,
                    needed,
                });
            }
        }
        Ok(Picture {
            desc,
            surface: Surface::Host(HostPlanes { planes }),
        })
    }

    /// A picture from one tightly packed buffer, planes back to back, as
    /// `ffmpeg -f rawvideo` writes them; colour untagged, no HDR.
    pub fn from_packed(
        width: u32,
        height: u32,
        format: DecodedFormat,
        data: impl Into<PlaneBytes>,
    ) -> Result<Picture, SurfaceError> {
        if width == 0 || height == 0 {
            return Err(SurfaceError::Empty { width, height });
        }
        let desc = PictureDesc::packed(width, height, format, ColorInfo::UNSPECIFIED, HdrInfo::SDR)
            .ok_or(SurfaceError::Overflow { width, height })?;
        let data = data.into();
        let planes = vec![data; format.desc().planes.len()];
        Picture::host(desc, planes)
    }
}

/// Where a plane's bytes live: any read-only buffer that can be shared
/// across threads. The decoder hands over its own picture buffers
/// (reference-counted, not copied), tests and callers hand over `Vec`s.
pub trait PlaneSource: Send + Sync {
    fn bytes(&self) -> &[u8];
}

impl PlaneSource for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// A plane's bytes, shared cheaply (`Clone` takes a reference).
#[derive(Clone)]
pub struct PlaneBytes(std::sync::Arc<dyn PlaneSource>);

impl PlaneBytes {
    pub fn new(source: impl PlaneSource + 'static) -> PlaneBytes {
        PlaneBytes(std::sync::Arc::new(source))
    }
}

impl From<Vec<u8>> for PlaneBytes {
    fn from(v: Vec<u8>) -> PlaneBytes {
        PlaneBytes::new(v)
    }
}

impl From<&[u8]> for PlaneBytes {
    fn from(v: &[u8]) -> PlaneBytes {
        PlaneBytes::new(v.to_vec())
    }
}

impl std::ops::Deref for PlaneBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.0.bytes()
    }
}

impl AsRef<[u8]> for PlaneBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl std::fmt::Debug for PlaneBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlaneBytes({} bytes)", self.len())
    }
}

/// Why a [`Picture`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SurfaceError {
    #[error("picture size {width}x{height} is empty")]
    Empty { width: u32, height: u32 },
    #[error("{format:?} needs {expected} planes, got {got}")]
    PlaneCount {
        format: DecodedFormat,
        expected: usize,
        got: usize,
    },
    #[error("plane {plane}: pitch {pitch} is shorter than a row of {row_bytes} bytes")]
    PitchTooSmall {
        plane: usize,
        pitch: u64,
        row_bytes: u64,
    },
    #[error("plane {plane}: {len} bytes cannot hold the plane ({needed} bytes needed)")]
    PlaneTooShort { plane: usize, len: u64, needed: u64 },
    #[error("picture size {width}x{height} overflows the address space")]
    Overflow { width: u32, height: u32 },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::picture::PlaneDesc;

    #[test]
    fn packed_sizes_match_ffmpeg_for_odd_frames() {
        // `av_image_get_buffer_size(fmt, 33, 17, 1)` for these formats.
        let cases = [
            (DecodedFormat::Yuv420p, 33 * 17 + 2 * 17 * 9),
            (DecodedFormat::Nv12, 33 * 17 + 34 * 9),
            (DecodedFormat::Yuv422p10, 2 * (33 * 17 + 2 * 17 * 17)),
            (DecodedFormat::P010, 2 * 33 * 17 + 4 * 17 * 9),
            (DecodedFormat::Rgba8, 4 * 33 * 17),
            (DecodedFormat::Gbrp10, 6 * 33 * 17),
            (DecodedFormat::Gray16, 2 * 33 * 17),
        ];
        for (format, expected) in cases {
            assert!(Picture::from_packed(33, 17, format, vec![0; expected]).is_ok());
            assert!(
                matches!(
                    Picture::from_packed(33, 17, format, vec![0; expected - 1]),
                    Err(SurfaceError::PlaneTooShort { .. })
                ),
                "{format:?}"
            );
        }
    }

    #[test]
    fn validation_names_the_fault() {
        let ok = Picture::from_packed(4, 2, DecodedFormat::Yuv420p, vec![0; 12]).unwrap();
        assert_eq!(ok.desc.planes().len(), 3);
        assert_eq!(
            Picture::from_packed(0, 2, DecodedFormat::Gray8, vec![]).unwrap_err(),
            SurfaceError::Empty {
                width: 0,
                height: 2
            }
        );
        let gray16 = |pitch| {
            let mut desc = PictureDesc::packed(
                4,
                2,
                DecodedFormat::Gray16,
                ColorInfo::UNSPECIFIED,
                HdrInfo::SDR,
            )
            .unwrap();
            desc.planes[0] = PlaneDesc { offset: 0, pitch };
            desc
        };
        assert_eq!(
            Picture::host(gray16(8), vec![]).unwrap_err(),
            SurfaceError::PlaneCount {
                format: DecodedFormat::Gray16,
                expected: 1,
                got: 0
            }
        );
        assert_eq!(
            Picture::host(gray16(7), vec![vec![0; 64].into()]).unwrap_err(),
            SurfaceError::PitchTooSmall {
                plane: 0,
                pitch: 7,
                row_bytes: 8
            }
        );
        // The last row may end at its last sample.
        assert!(Picture::host(gray16(16), vec![vec![0; 16 + 8].into()]).is_ok());
        assert_eq!(
            Picture::host(gray16(16), vec![vec![0; 16 + 7].into()]).unwrap_err(),
            SurfaceError::PlaneTooShort {
                plane: 0,
                len: 23,
                needed: 24
            }
        );
        assert!(matches!(
            Picture::from_packed(4, 2, DecodedFormat::Yuv420p, vec![0; 11]),
            Err(SurfaceError::PlaneTooShort { plane: 2, .. })
        ));
    }
}
