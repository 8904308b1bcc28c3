//! The input stage's copy path: planes in host memory are copied into a
//! persistent, already-mapped staging buffer laid out for the shaders (rows
//! padded to whole words, planes on 256-byte boundaries), then on the GPU
//! into the storage buffer they read. Mapped buffers cannot be bound for
//! storage (without a native-only feature), hence the second copy.

use std::sync::{Arc, Mutex};

use crate::picture::{ComponentSource, DecodedFormat, PictureDesc, PlaneDesc};
use crate::surface::HostPlanes;

use super::params::Params;
use super::GpuError;

/// Where each plane starts in the upload buffer and the plane buffer the
/// shaders read (the same bytes, copied once): a multiple of the largest
/// `min_storage_buffer_offset_alignment` WebGPU allows, so each plane can be
/// bound on its own.
const PLANE_ALIGNMENT: u64 = 256;

/// Bytes reserved at the start of each upload buffer for the uniform block;
/// the planes follow.
pub(super) const PARAMS_SLOT: u64 = 512;

/// One plane's bytes as uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PlaneSlot {
    pub offset: u64,
    /// Bytes from one row to the next: the row rounded up to whole 32-bit
    /// words, as the shaders load words.
    pub pitch: u64,
    pub rows: u32,
}

/// The slots of every plane of a `width`×`height` picture of `format`,
/// placed from byte `first` on, and the end of the last.
pub(super) fn plane_slots(
    format: DecodedFormat,
    width: u32,
    height: u32,
    first: u64,
) -> (Vec<PlaneSlot>, u64) {
    let planes = format.desc().planes.len();
    let mut offset = first;
    let mut slots = Vec::with_capacity(planes);
    for index in 0..planes {
        let (row, rows) = format.plane_extent(index, width, height).unwrap_or((0, 0));
        let pitch = row.div_ceil(4) * 4;
        offset = offset.div_ceil(PLANE_ALIGNMENT) * PLANE_ALIGNMENT;
        slots.push(PlaneSlot {
            offset,
            pitch,
            rows,
        });
        offset += pitch * u64::from(rows);
    }
    (slots, offset)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct InputKey {
    format: DecodedFormat,
    width: u32,
    height: u32,
}

impl InputKey {
    pub(super) fn of(picture: &PictureDesc) -> InputKey {
        InputKey {
            format: picture.format,
            width: picture.width,
            height: picture.height,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MapState {
    Pending,
    Mapped,
    Failed,
}

/// Upload staging plus the storage buffer the shaders read the planes from,
/// for one input shape. The upload buffer is kept mapped for writing between
/// frames: it is re-mapped as soon as a frame is submitted and is ready again
/// when that frame's readback is.
pub(super) struct InputSet {
    pub id: u64,
    pub key: InputKey,
    /// The planes at the same offsets as in `upload`.
    pub planes: wgpu::Buffer,
    /// Byte offset and length in `planes` of the plane each component reads
    /// (component k is bound as plane k; alpha as plane 3).
    pub bindings: [(u64, u64); 4],
    pub upload: wgpu::Buffer,
    pub upload_ready: Arc<Mutex<MapState>>,
    slots: Vec<PlaneSlot>,
    pub size: u64,
}

impl InputSet {
    pub(super) fn new(device: &wgpu::Device, picture: &PictureDesc, id: u64) -> InputSet {
        let format = picture.format;
        let (slots, size) = plane_slots(format, picture.width, picture.height, PARAMS_SLOT);
        let binding = |component: usize| match format.desc().component_or_alpha(component) {
            ComponentSource::Plane { plane, .. } => {
                let slot = slots[usize::from(plane)];
                (slot.offset, slot.pitch * u64::from(slot.rows))
            }
            // Unused by the shader (the component is a constant), but the
            // binding must hold some buffer.
            ComponentSource::Neutral => {
                (slots[0].offset, slots[0].pitch * u64::from(slots[0].rows))
            }
        };
        let bindings = [binding(0), binding(1), binding(2), binding(3)];
        let planes = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("stills input planes"),
            size,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let upload = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("stills upload"),
            size,
            usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: true,
        });
        InputSet {
            id,
            key: InputKey::of(picture),
            planes,
            bindings,
            upload,
            upload_ready: Arc::new(Mutex::new(MapState::Mapped)),
            slots,
            size,
        }
    }

    /// `picture` as the shaders see it once uploaded here: every plane
    /// bound from its own start, rows at the padded pitch.
    pub(super) fn bound(&self, picture: &PictureDesc) -> PictureDesc {
        let mut bound = *picture;
        for (plane, slot) in bound.planes.iter_mut().zip(&self.slots) {
            *plane = PlaneDesc {
                offset: 0,
                pitch: slot.pitch,
            };
        }
        bound
    }

    /// Copies the uniform block and every plane's rows into the mapped
    /// upload buffer, then unmaps it for the copy commands.
    pub(super) fn fill(
        &self,
        picture: &PictureDesc,
        host: &HostPlanes,
        params: &Params,
    ) -> Result<(), GpuError> {
        {
            let mut view = self
                .upload
                .slice(..)
                .get_mapped_range_mut()
                .map_err(|e| GpuError::Internal(e.to_string()))?;
            let bytes = bytemuck::bytes_of(params);
            view.slice(..bytes.len()).copy_from_slice(bytes);
            for (index, (slot, plane)) in self.slots.iter().zip(picture.planes()).enumerate() {
                let (row, _) = picture.plane_extent(index).unwrap_or((0, 0));
                let (row, pitch) = (row as usize, plane.pitch as usize);
                let data = &host.plane(index)[plane.offset as usize..];
                for r in 0..slot.rows as usize {
                    let start = (slot.offset + r as u64 * slot.pitch) as usize;
                    view.slice(start..start + row)
                        .copy_from_slice(&data[r * pitch..r * pitch + row]);
                }
            }
        }
        self.upload.unmap();
        Ok(())
    }
}
