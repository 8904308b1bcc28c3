//! The input stage: the only part of the pipeline that knows where a
//! picture came from. It turns each [`Surface`] into bindings the passes
//! read (three buffer ranges or three textures, one per component) and the
//! picture as seen through them, importing foreign memory without a copy:
//!
//! | surface | bound as |
//! |---|---|
//! | host planes | uploaded (`upload.rs`), or on a CPU adapter with `VK_EXT_external_memory_host` imported where they lie |
//! | a device buffer | bound in place |
//! | device textures | bound as they are |
//! | DMA-BUF, linear | each object imported as a buffer, bound in place |
//! | DMA-BUF, tiled | each plane imported as a texture with its DRM format modifier |
//!
//! A surface that the producer may still be writing (a DMA-BUF with a
//! fence) adds a wait to the frame's submission; DMA-BUF memory another
//! driver wrote is first acquired from its foreign queue family
//! ([`acquire`]), in a command buffer submitted ahead of the frame's.

use std::sync::Arc;

use crate::picture::{ComponentSource, DecodedFormat, PictureDesc, PlaneDesc};
use crate::surface::{DmaBufSurface, HostPlanes};
use crate::vulkan::{acquire, host, image, memory, semaphore};

use super::shaders::InputKind;
use super::{GpuContext, GpuError};

/// A picture's planes as the shaders will read them: for each component,
/// the buffer range its plane is bound from, and the picture as seen
/// through those bindings (each plane's offset inside its binding, and its
/// pitch).
pub(super) struct BoundInput {
    pub(super) bindings: PlaneBindings,
    pub(super) picture: PictureDesc,
    /// The upload set the planes were copied into, whose bind groups are
    /// cached; `None` for a surface bound where it is, per frame.
    pub(super) upload: Option<usize>,
    /// Fences the frame's submission must wait on.
    pub(super) waits: Vec<semaphore::SyncFile>,
    /// Timeline values the frame's submission must wait for (another API,
    /// CUDA, signals them when it has written the input).
    pub(super) timelines: Vec<(Arc<semaphore::Timeline>, u64)>,
    /// Commands that take imported memory over from the API that wrote it,
    /// to run before the frame's.
    pub(super) acquire: Option<wgpu::CommandBuffer>,
}

/// What each component's binding holds.
pub(super) enum PlaneBindings {
    /// A range of a buffer per component, then alpha's (component 0's
    /// when the format has none).
    Buffers([PlaneBinding; 4]),
    /// A texture per component, then alpha's.
    Images([wgpu::TextureView; 4]),
}

impl PlaneBindings {
    pub(super) fn kind(&self) -> InputKind {
        match self {
            PlaneBindings::Buffers(_) => InputKind::Buffer,
            PlaneBindings::Images(_) => InputKind::Image,
        }
    }
}

#[derive(Clone)]
pub(super) struct PlaneBinding {
    pub(super) buffer: wgpu::Buffer,
    pub(super) offset: u64,
    pub(super) size: u64,
}

/// Binds each component's plane where it lies: from its offset rounded
/// down to the device's binding alignment, the remainder going to the
/// shaders as the plane's offset in its binding. `buffer_of(plane)` is the
/// buffer holding a plane.
pub(super) fn bind_in_place<'a>(
    picture: &PictureDesc,
    alignment: u64,
    buffer_of: impl Fn(usize) -> &'a wgpu::Buffer,
) -> Result<BoundInput, GpuError> {
    let format = picture.format.desc();
    let mut bound = *picture;
    let mut planes = Vec::with_capacity(format.planes.len());
    for (index, plane) in picture.planes().iter().enumerate() {
        let buffer = buffer_of(index);
        let span = picture.plane_span(index).ok_or(GpuError::UnalignedPlane {
            plane: index,
            offset: plane.offset,
            pitch: plane.pitch,
        })?;
        let start = plane.offset - plane.offset % alignment.max(4);
        let inner = plane.offset - start;
        let size = (inner + span).div_ceil(4) * 4;
        if start + size > buffer.size() {
            return Err(GpuError::SurfaceTooSmall {
                plane: index,
                needed: start + size,
                size: buffer.size(),
            });
        }
        bound.planes[index] = PlaneDesc {
            offset: inner,
            pitch: plane.pitch,
        };
        planes.push(PlaneBinding {
            buffer: buffer.clone(),
            offset: start,
            size,
        });
    }
    let binding = |component: usize| match format.component_or_alpha(component) {
        ComponentSource::Plane { plane, .. } => planes[usize::from(plane)].clone(),
        // Read by no shader, but the binding must hold some buffer.
        ComponentSource::Neutral => planes[0].clone(),
    };
    Ok(BoundInput {
        bindings: PlaneBindings::Buffers([binding(0), binding(1), binding(2), binding(3)]),
        picture: bound,
        upload: None,
        waits: Vec::new(),
        timelines: Vec::new(),
        acquire: None,
    })
}

/// Binds each component's plane texture, after checking each is the size
/// of its plane and of the format that holds its texels.
pub(super) fn bind_images(
    picture: &PictureDesc,
    textures: &[wgpu::Texture],
) -> Result<BoundInput, GpuError> {
    let format = picture.format;
    let desc = format.desc();
    if textures.len() != desc.planes.len() {
        return Err(GpuError::PlaneImage {
            plane: textures.len().min(desc.planes.len()),
            problem: "the picture's format has a different number of planes",
        });
    }
    for (index, (plane, texture)) in desc.planes.iter().zip(textures).enumerate() {
        let expected = match (plane.bytes_per_sample, plane.samples_per_texel) {
            (1, 1) => wgpu::TextureFormat::R8Uint,
            (1, 2) => wgpu::TextureFormat::Rg8Uint,
            (1, 4) => wgpu::TextureFormat::Rgba8Uint,
            (2, 1) => wgpu::TextureFormat::R16Uint,
            (2, 2) => wgpu::TextureFormat::Rg16Uint,
            _ => wgpu::TextureFormat::Rgba16Uint,
        };
        if texture.format() != expected {
            return Err(GpuError::PlaneImage {
                plane: index,
                problem: "its texture format does not hold the plane's texels as unsigned integers",
            });
        }
        let size = format.plane_size(index, picture.width, picture.height);
        if size != Some((texture.width(), texture.height())) {
            return Err(GpuError::PlaneImage {
                plane: index,
                problem: "its texture is not the size of the plane",
            });
        }
    }
    let view = |component: usize| {
        let plane = match desc.component_or_alpha(component) {
            ComponentSource::Plane { plane, .. } => usize::from(plane),
            // Read by no shader, but the binding must hold some texture.
            ComponentSource::Neutral => 0,
        };
        textures[plane].create_view(&wgpu::TextureViewDescriptor::default())
    };
    Ok(BoundInput {
        bindings: PlaneBindings::Images([view(0), view(1), view(2), view(3)]),
        picture: *picture,
        upload: None,
        waits: Vec::new(),
        timelines: Vec::new(),
        acquire: None,
    })
}

/// Whether host planes are imported where they lie rather than copied: on a
/// CPU adapter (lavapipe), whose "device memory" is host memory anyway, the
/// copy is pure cost. A discrete GPU reading host memory would fetch every
/// tap across the bus, several times per texel when downscaling, where one
/// copy moves each byte once; so there the copy stays.
pub(super) fn imports_host_memory(ctx: &GpuContext) -> bool {
    ctx.info().is_software() && ctx.interop().host_pointer_alignment.is_some()
}

/// Whether the shaders can read `host`'s planes where they lie: each row
/// and each plane's first byte on a word boundary. (FFmpeg's buffers are;
/// a caller's tightly packed odd-width rows are not, and are uploaded.)
pub(super) fn host_planes_word_aligned(picture: &PictureDesc, host: &HostPlanes) -> bool {
    picture.planes().iter().enumerate().all(|(index, plane)| {
        let start = host.plane(index).as_ptr() as u64 + plane.offset;
        plane.pitch % 4 == 0 && start % 4 == 0
    })
}

/// Host planes imported where they lie, each plane's memory its own buffer.
pub(super) fn import_host(
    ctx: &GpuContext,
    picture: &PictureDesc,
    host: &HostPlanes,
) -> Result<BoundInput, GpuError> {
    let mut placed = *picture;
    let mut buffers = Vec::with_capacity(picture.planes().len());
    for (index, plane) in placed
        .planes
        .iter_mut()
        .enumerate()
        .take(picture.planes().len())
    {
        let imported = host::import(ctx, host.plane(index).clone(), wgpu::BufferUsages::STORAGE)?;
        plane.offset += imported.offset;
        buffers.push(imported.buffer);
    }
    bind_in_place(&placed, binding_alignment(ctx), |plane| &buffers[plane])
}

/// A DMA-BUF picture imported without a copy: linear objects as buffers
/// bound in place, tiled planes as textures. The fds are duplicated for
/// the import (Vulkan takes the duplicate), so the surface still owns and
/// closes its own; the fence, if any, becomes a wait of the submission.
pub(super) fn import_dma_buf(
    ctx: &GpuContext,
    picture: &PictureDesc,
    surface: &DmaBufSurface,
) -> Result<BoundInput, GpuError> {
    let format = picture.format;
    if surface.fourcc != drm_fourcc(format).unwrap_or(0) {
        return Err(GpuError::UnsupportedSurface {
            kind: "dma-buf",
            reason: "its DRM fourcc is not the picture's format",
        });
    }
    let object_of = |plane: usize| {
        surface
            .objects
            .get(surface.plane_objects[plane])
            .ok_or(GpuError::UnsupportedSurface {
                kind: "dma-buf",
                reason: "a plane names an object the surface does not have",
            })
    };
    let duplicate = |plane: usize| -> Result<memory::ExternalMemory, GpuError> {
        let fd = object_of(plane)?
            .fd
            .try_clone()
            .map_err(|_| GpuError::UnsupportedSurface {
                kind: "dma-buf",
                reason: "its fd could not be duplicated",
            })?;
        Ok(memory::ExternalMemory::dma_buf(fd)?)
    };
    let (mut bound, acquiring) = if surface.modifier == image::DRM_FORMAT_MOD_LINEAR {
        let mut buffers = Vec::with_capacity(surface.objects.len());
        for object in 0..surface.objects.len() {
            let plane = (0..picture.planes().len())
                .find(|&p| surface.plane_objects[p] == object)
                .ok_or(GpuError::UnsupportedSurface {
                    kind: "dma-buf",
                    reason: "an object holds none of the planes",
                })?;
            let size = object_of(plane)?.size;
            let memory = duplicate(plane)?;
            buffers.push(memory::import_buffer(
                ctx,
                memory,
                size,
                wgpu::BufferUsages::STORAGE,
            )?);
        }
        let bound = bind_in_place(picture, binding_alignment(ctx), |plane| {
            &buffers[surface.plane_objects[plane]]
        })?;
        let acquiring = acquire::foreign_acquire(ctx, &buffers.iter().collect::<Vec<_>>(), &[])?;
        (bound, acquiring)
    } else {
        let textures = picture
            .planes()
            .iter()
            .enumerate()
            .map(|(index, plane)| {
                let (width, height) = format
                    .plane_size(index, picture.width, picture.height)
                    .ok_or(GpuError::UnsupportedSurface {
                        kind: "dma-buf",
                        reason: "the format has fewer planes than the picture",
                    })?;
                let desc = image::ImageDesc {
                    width,
                    height,
                    format: texel_format(format, index),
                };
                let tiling = image::Tiling::Drm(image::DrmPlane {
                    modifier: surface.modifier,
                    offset: plane.offset,
                    pitch: plane.pitch,
                });
                image::import(ctx, duplicate(index)?, desc, tiling)
            })
            .collect::<Result<Vec<_>, GpuError>>()?;
        let bound = bind_images(picture, &textures)?;
        let acquiring = acquire::foreign_acquire(ctx, &[], &textures.iter().collect::<Vec<_>>())?;
        (bound, acquiring)
    };
    bound.acquire = Some(acquiring);
    if let Some(fence) = &surface.ready {
        let fd = fence
            .try_clone()
            .map_err(|_| GpuError::UnsupportedSurface {
                kind: "dma-buf",
                reason: "its fence fd could not be duplicated",
            })?;
        bound.waits.push(semaphore::SyncFile::import(ctx, fd)?);
    }
    Ok(bound)
}

/// The smallest storage-buffer binding offset step of the device.
pub(super) fn binding_alignment(ctx: &GpuContext) -> u64 {
    u64::from(ctx.device().limits().min_storage_buffer_offset_alignment)
}

/// The unsigned-integer texture format holding one texel of plane `index`
/// of `format`, as the image fetch reads it.
pub(crate) fn texel_format(format: DecodedFormat, index: usize) -> wgpu::TextureFormat {
    let plane = format.desc().planes[index];
    match (plane.bytes_per_sample, plane.samples_per_texel) {
        (1, 1) => wgpu::TextureFormat::R8Uint,
        (1, 2) => wgpu::TextureFormat::Rg8Uint,
        (1, _) => wgpu::TextureFormat::Rgba8Uint,
        (_, 1) => wgpu::TextureFormat::R16Uint,
        (_, 2) => wgpu::TextureFormat::Rg16Uint,
        _ => wgpu::TextureFormat::Rgba16Uint,
    }
}

/// The DRM fourcc (`drm_fourcc.h`) of a picture laid out as `format`, for
/// the formats a DMA-BUF exporter (VA-API) hands over.
pub(crate) fn drm_fourcc(format: DecodedFormat) -> Option<u32> {
    let code = |c: &[u8; 4]| u32::from_le_bytes(*c);
    Some(match format {
        DecodedFormat::Nv12 => code(b"NV12"),
        DecodedFormat::P010 => code(b"P010"),
        DecodedFormat::P016 => code(b"P016"),
        DecodedFormat::Yuv420p => code(b"YU12"),
        DecodedFormat::Yuv422p => code(b"YU16"),
        DecodedFormat::Yuv444p => code(b"YU24"),
        DecodedFormat::Gray8 => code(b"R8  "),
        DecodedFormat::Rgba8 => code(b"AB24"),
        DecodedFormat::Bgra8 => code(b"AR24"),
        _ => return None,
    })
}

/// Submits a frame's commands, after the fences and timeline values its
/// input waits on and its input's acquire commands. On a Vulkan device every submission of the
/// pipeline goes through one lock with the semaphore imports', so no other
/// submission can take a wait meant for this one.
pub(super) fn submit(
    ctx: &GpuContext,
    commands: wgpu::CommandBuffer,
    waits: Vec<semaphore::SyncFile>,
    timelines: &[(Arc<semaphore::Timeline>, u64)],
    acquire: Option<wgpu::CommandBuffer>,
) -> Result<wgpu::SubmissionIndex, GpuError> {
    let buffers = acquire.into_iter().chain([commands]);
    if ctx.vulkan().is_some() {
        let timelines: Vec<(&semaphore::Timeline, u64)> =
            timelines.iter().map(|(t, v)| (&**t, *v)).collect();
        semaphore::submit(ctx, buffers, waits, &timelines, &[])
    } else {
        Ok(ctx.queue().submit(buffers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourccs_are_drm_fourcc_h_codes() {
        // DRM_FORMAT_NV12 = fourcc_code('N', 'V', '1', '2') = 0x3231564e.
        assert_eq!(drm_fourcc(DecodedFormat::Nv12), Some(0x3231_564e));
        assert_eq!(drm_fourcc(DecodedFormat::P010), Some(0x3031_3050));
        assert_eq!(drm_fourcc(DecodedFormat::Yuv420p10), None);
    }

    #[test]
    fn texel_formats_hold_each_plane() {
        assert_eq!(
            texel_format(DecodedFormat::Nv12, 0),
            wgpu::TextureFormat::R8Uint
        );
        assert_eq!(
            texel_format(DecodedFormat::Nv12, 1),
            wgpu::TextureFormat::Rg8Uint
        );
        assert_eq!(
            texel_format(DecodedFormat::P010, 1),
            wgpu::TextureFormat::Rg16Uint
        );
        assert_eq!(
            texel_format(DecodedFormat::Rgba8, 0),
            wgpu::TextureFormat::Rgba8Uint
        );
    }
}
