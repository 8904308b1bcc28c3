//! A decoded VA-API surface exported as DRM PRIME (`vaExportSurfaceHandle`
//! with `VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2`) turned into the
//! pipeline's [`Picture`]: a [`PictureDesc`] whose planes carry the
//! export's offsets and pitches, on a [`DmaBufSurface`] that owns the
//! exported fds. Pure: no libva here, only its descriptor's contents.
//!
//! A driver describes a 4:2:0 surface in one of two ways, and either may
//! put both planes in one object (Intel) or one object per plane (AMD):
//!
//! | export flag | layers | NV12 | P010 / P012 / P016 |
//! |---|---|---|---|
//! | `SEPARATE_LAYERS` | one per plane | `R8`, `GR88` | `R16`, `GR32` (`GR1616`) |
//! | `COMPOSED_LAYERS` | one with two planes | `NV12` | `P010`, `P012`, `P016` |
//!
//! `P012` holds its 12-bit samples in the high bits of 16, exactly as
//! `P016` does, so it is read as [`DecodedFormat::P016`]. A picture that
//! the codec crops at its top or left starts inside the surface: for a
//! linear surface the plane offsets move; a tiled one cannot start
//! mid-tile, and is refused.
//!
//! # Ownership
//!
//! Every exported fd is an [`OwnedFd`] from the moment it leaves libva
//! (`crate::va`); here it moves into the surface, which closes it when the
//! picture is dropped. An object no plane refers to is closed at once.
#![cfg_attr(not(feature = "vaapi"), allow(dead_code))]

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::fd::OwnedFd;

use thiserror::Error;

use crate::asset::color::{ColorInfo, HdrInfo};
use crate::decode::vaapi_caps::{fourcc, fourcc_name};
use crate::picture::{DecodedFormat, PictureDesc, PlaneDesc, Scan, MAX_PLANES};
use crate::surface::{DmaBufObject, DmaBufSurface, KeepAlive, Picture, Surface};

/// `DRM_FORMAT_MOD_LINEAR`.
pub const DRM_FORMAT_MOD_LINEAR: u64 = 0;

/// One exported DMA-BUF object.
#[derive(Debug)]
pub struct PrimeObject {
    pub fd: OwnedFd,
    /// Its size in bytes as the driver reports it (0 when it does not say,
    /// in which case the fd's own size is asked).
    pub size: u32,
    pub modifier: u64,
}

/// Where one plane of a layer lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrimePlane {
    /// Index into [`PrimeSurface::objects`].
    pub object: u32,
    pub offset: u32,
    pub pitch: u32,
}

/// One layer: a DRM format and its planes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimeLayer {
    pub drm_format: u32,
    pub planes: Vec<PrimePlane>,
}

/// A surface as `VADRMPRIMESurfaceDescriptor` describes it, its fds owned.
#[derive(Debug)]
pub struct PrimeSurface {
    /// The VA fourcc of the surface (`NV12`, `P010`, …).
    pub fourcc: u32,
    pub objects: Vec<PrimeObject>,
    pub layers: Vec<PrimeLayer>,
}

/// Why a decoded VA-API surface could not become a picture.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A libva call failed.
    #[error("{call}: {message} (VA status {status})")]
    Va {
        call: &'static str,
        status: i32,
        message: String,
    },
    /// FFmpeg handed over a frame that is not on a VA surface.
    #[error("the decoder's frame holds no VA surface")]
    NotVaapi,
    /// The surface's format is not one the pipeline imports.
    #[error("surface format {} is not one the pipeline imports (NV12, P010, P012, P016)", fourcc_name(*.0))]
    Format(u32),
    /// The layers are neither one per plane nor one of both planes.
    #[error("layers [{found}] do not lay out {format} as separate or composed layers")]
    Layers { format: String, found: String },
    /// A plane names an object the export does not have.
    #[error("plane {plane} lies in object {object}, but the export has {objects}")]
    Object {
        plane: usize,
        object: u32,
        objects: usize,
    },
    /// The planes' objects have different modifiers (one picture is
    /// imported with one).
    #[error("its objects have different format modifiers ({first:#x} and {other:#x})")]
    Modifiers { first: u64, other: u64 },
    /// A linear plane whose rows overlap.
    #[error("plane {plane}: pitch {pitch} is shorter than a row of {row_bytes} bytes")]
    Pitch {
        plane: usize,
        pitch: u64,
        row_bytes: u64,
    },
    /// A plane that runs past the end of its object.
    #[error("plane {plane} ends at byte {end} of an object of {size} bytes")]
    PastEnd { plane: usize, end: u64, size: u64 },
    /// An object whose size could not be found.
    #[error("object {object}: its size is unknown ({reason})")]
    Size { object: usize, reason: String },
    /// A picture cropped at its top or left on a tiled surface.
    #[error(
        "the picture is cropped by ({left}, {top}) at its top left, which a tiled surface \
         (modifier {modifier:#x}) cannot start at"
    )]
    TiledCrop { left: u32, top: u32, modifier: u64 },
    /// A top-left crop that splits 4:2:0 chroma samples.
    #[error("the picture is cropped by an odd ({left}, {top}) at its top left, splitting chroma samples")]
    OddCrop { left: u32, top: u32 },
}

/// The format a VA fourcc is read as, and the DRM fourccs of its composed
/// layer and of its two separate layers.
fn layout_of(va_fourcc: u32) -> Option<(DecodedFormat, [u32; 3])> {
    let eight = [fourcc(b"R8  "), fourcc(b"GR88")];
    let sixteen = [fourcc(b"R16 "), fourcc(b"GR32")];
    let (format, composed, [y, uv]) = match &va_fourcc.to_le_bytes() {
        b"NV12" => (DecodedFormat::Nv12, fourcc(b"NV12"), eight),
        b"P010" => (DecodedFormat::P010, fourcc(b"P010"), sixteen),
        b"P012" => (DecodedFormat::P016, fourcc(b"P012"), sixteen),
        b"P016" => (DecodedFormat::P016, fourcc(b"P016"), sixteen),
        _ => return None,
    };
    Some((format, [composed, y, uv]))
}

/// The DRM fourcc the input stage expects for a picture of `format`
/// (`drm_fourcc.h`).
fn drm_fourcc(format: DecodedFormat) -> u32 {
    match format {
        DecodedFormat::Nv12 => fourcc(b"NV12"),
        DecodedFormat::P010 => fourcc(b"P010"),
        _ => fourcc(b"P016"),
    }
}

impl PrimeSurface {
    /// The picture of `width`×`height` (the frame's size, cropped at the
    /// right and bottom already) that starts `crop` = (left, top) samples
    /// into the surface, with `color` and `hdr`; `keep_alive` holds the VA
    /// surface (the decoder's frame) until the picture is dropped.
    pub fn into_picture(
        self,
        width: u32,
        height: u32,
        crop: (u32, u32),
        color: ColorInfo,
        hdr: HdrInfo,
        keep_alive: KeepAlive,
    ) -> Result<Picture, ExportError> {
        let (format, [composed, y_layer, uv_layer]) =
            layout_of(self.fourcc).ok_or(ExportError::Format(self.fourcc))?;
        let planes: [PrimePlane; 2] = match self.layers.as_slice() {
            [one] if one.drm_format == composed && one.planes.len() == 2 => {
                [one.planes[0], one.planes[1]]
            }
            [y, uv]
                if y.drm_format == y_layer
                    && uv.drm_format == uv_layer
                    && y.planes.len() == 1
                    && uv.planes.len() == 1 =>
            {
                [y.planes[0], uv.planes[0]]
            }
            layers => {
                let found = layers
                    .iter()
                    .map(|l| format!("{} ({} planes)", fourcc_name(l.drm_format), l.planes.len()))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(ExportError::Layers {
                    format: fourcc_name(self.fourcc),
                    found,
                });
            }
        };
        let count = self.objects.len();
        for (plane, p) in planes.iter().enumerate() {
            if p.object as usize >= count {
                return Err(ExportError::Object {
                    plane,
                    object: p.object,
                    objects: count,
                });
            }
        }
        // Keep only the objects a plane lies in, in their order; the others
        // are closed here.
        let mut kept: Vec<(usize, PrimeObject)> = self
            .objects
            .into_iter()
            .enumerate()
            .filter(|(index, _)| planes.iter().any(|p| p.object as usize == *index))
            .collect();
        let modifier = kept[0].1.modifier;
        if let Some((_, other)) = kept.iter().find(|(_, o)| o.modifier != modifier) {
            return Err(ExportError::Modifiers {
                first: modifier,
                other: other.modifier,
            });
        }
        let (left, top) = crop;
        if (left, top) != (0, 0) {
            if modifier != DRM_FORMAT_MOD_LINEAR {
                return Err(ExportError::TiledCrop {
                    left,
                    top,
                    modifier,
                });
            }
            if left % 2 != 0 || top % 2 != 0 {
                return Err(ExportError::OddCrop { left, top });
            }
        }
        let mut desc = PictureDesc {
            width,
            height,
            format,
            planes: [PlaneDesc::default(); MAX_PLANES],
            color,
            hdr,
            alpha: false,
            scan: Scan::Progressive,
        };
        let shape = format.desc();
        let mut plane_objects = [0usize; MAX_PLANES];
        for (index, p) in planes.iter().enumerate() {
            let plane_format = shape.planes[index];
            let texel = u64::from(plane_format.bytes_per_sample)
                * u64::from(plane_format.samples_per_texel);
            let (x, y) = (
                u64::from(left >> plane_format.x_shift),
                u64::from(top >> plane_format.y_shift),
            );
            desc.planes[index] = PlaneDesc {
                offset: u64::from(p.offset) + y * u64::from(p.pitch) + x * texel,
                pitch: u64::from(p.pitch),
            };
            plane_objects[index] = kept
                .iter()
                .position(|(original, _)| *original == p.object as usize)
                .expect("every plane's object was kept");
        }
        let mut objects = Vec::with_capacity(kept.len());
        for (position, (_, object)) in kept.drain(..).enumerate() {
            let size = match object.size {
                0 => fd_size(&object.fd).map_err(|reason| ExportError::Size {
                    object: position,
                    reason,
                })?,
                size => u64::from(size),
            };
            objects.push(DmaBufObject {
                fd: object.fd,
                size,
            });
        }
        for (index, plane) in desc.planes().iter().enumerate() {
            let size = objects[plane_objects[index]].size;
            if modifier != DRM_FORMAT_MOD_LINEAR {
                // A tiled plane's extent is the driver's to know.
                if plane.offset >= size {
                    return Err(ExportError::PastEnd {
                        plane: index,
                        end: plane.offset,
                        size,
                    });
                }
                continue;
            }
            let (row_bytes, _) = desc.plane_extent(index).unwrap_or((u64::MAX, 0));
            if plane.pitch < row_bytes {
                return Err(ExportError::Pitch {
                    plane: index,
                    pitch: plane.pitch,
                    row_bytes,
                });
            }
            let end = desc
                .plane_span(index)
                .and_then(|span| span.checked_add(plane.offset))
                .unwrap_or(u64::MAX);
            if end > size {
                return Err(ExportError::PastEnd {
                    plane: index,
                    end,
                    size,
                });
            }
        }
        Ok(Picture {
            desc,
            surface: Surface::DmaBuf(DmaBufSurface {
                objects,
                fourcc: drm_fourcc(format),
                modifier,
                plane_objects,
                ready: None,
                keep_alive,
            }),
        })
    }
}

/// The size of the memory behind `fd` (a DMA-BUF's size is where `lseek`
/// to the end lands).
fn fd_size(fd: &OwnedFd) -> Result<u64, String> {
    let mut file = File::from(fd.try_clone().map_err(|e| e.to_string())?);
    file.seek(SeekFrom::End(0)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixStream;

    /// A connected socket pair: one end to hand out as an object's fd, and
    /// the other, which reads end-of-file once every copy of the first is
    /// closed (and would block before: it does not block, so a test whose
    /// fd is still open fails rather than hangs).
    fn pipe() -> (OwnedFd, UnixStream) {
        let (ours, theirs) = UnixStream::pair().unwrap();
        theirs.set_nonblocking(true).unwrap();
        (OwnedFd::from(ours), theirs)
    }

    /// End-of-file (every copy of the other end closed), not "would block".
    fn closed(reader: &mut UnixStream) -> bool {
        let mut byte = [0u8; 1];
        matches!(reader.read(&mut byte), Ok(0))
    }

    fn object(size: u32, modifier: u64) -> (PrimeObject, UnixStream) {
        let (fd, reader) = pipe();
        (PrimeObject { fd, size, modifier }, reader)
    }

    fn plane(object: u32, offset: u32, pitch: u32) -> PrimePlane {
        PrimePlane {
            object,
            offset,
            pitch,
        }
    }

    fn layer(code: &[u8; 4], planes: &[PrimePlane]) -> PrimeLayer {
        PrimeLayer {
            drm_format: fourcc(code),
            planes: planes.to_vec(),
        }
    }

    fn surface(va: &[u8; 4], objects: Vec<PrimeObject>, layers: Vec<PrimeLayer>) -> PrimeSurface {
        PrimeSurface {
            fourcc: fourcc(va),
            objects,
            layers,
        }
    }

    fn picture(s: PrimeSurface, crop: (u32, u32)) -> Result<Picture, ExportError> {
        s.into_picture(
            1920,
            1080,
            crop,
            ColorInfo::UNSPECIFIED,
            HdrInfo::SDR,
            KeepAlive::NOTHING,
        )
    }

    fn dma_buf(p: &Picture) -> &DmaBufSurface {
        match &p.surface {
            Surface::DmaBuf(d) => d,
            other => panic!("not a DMA-BUF: {other:?}"),
        }
    }

    fn planes(p: &Picture) -> Vec<(u64, u64)> {
        p.desc
            .planes()
            .iter()
            .map(|x| (x.offset, x.pitch))
            .collect()
    }

    const Y_TILED: u64 = 0x0100_0000_0000_0002;

    #[test]
    fn separate_layers_in_one_tiled_object_as_intel_exports_nv12() {
        let (obj, mut reader) = object(2048 * 1088 * 3 / 2, Y_TILED);
        let s = surface(
            b"NV12",
            vec![obj],
            vec![
                layer(b"R8  ", &[plane(0, 0, 2048)]),
                layer(b"GR88", &[plane(0, 2048 * 1088, 2048)]),
            ],
        );
        let p = picture(s, (0, 0)).unwrap();
        assert_eq!(p.desc.format, DecodedFormat::Nv12);
        assert_eq!((p.desc.width, p.desc.height), (1920, 1080));
        assert_eq!(planes(&p), [(0, 2048), (2048 * 1088, 2048)]);
        let d = dma_buf(&p);
        assert_eq!(
            d.fourcc,
            crate::gpu::input_drm_fourcc(DecodedFormat::Nv12).unwrap()
        );
        assert_eq!((d.modifier, d.objects.len()), (Y_TILED, 1));
        assert_eq!(d.objects[0].size, 2048 * 1088 * 3 / 2);
        assert_eq!(d.plane_objects[..2], [0, 0]);
        assert!(d.ready.is_none());
        // The surface owns the fd: dropping the picture closes it.
        drop(p);
        assert!(closed(&mut reader));
    }

    #[test]
    fn separate_layers_in_two_linear_objects_as_amd_exports_p010() {
        let (y, _r0) = object(4096 * 1088, DRM_FORMAT_MOD_LINEAR);
        let (uv, _r1) = object(4096 * 544, DRM_FORMAT_MOD_LINEAR);
        let s = surface(
            b"P010",
            vec![y, uv],
            vec![
                layer(b"R16 ", &[plane(0, 0, 4096)]),
                layer(b"GR32", &[plane(1, 0, 4096)]),
            ],
        );
        let p = picture(s, (0, 0)).unwrap();
        assert_eq!(p.desc.format, DecodedFormat::P010);
        assert_eq!(planes(&p), [(0, 4096), (0, 4096)]);
        let d = dma_buf(&p);
        assert_eq!(
            d.fourcc,
            crate::gpu::input_drm_fourcc(DecodedFormat::P010).unwrap()
        );
        assert_eq!(d.plane_objects[..2], [0, 1]);
        assert_eq!(
            d.objects.iter().map(|o| o.size).collect::<Vec<_>>(),
            [4096 * 1088, 4096 * 544]
        );
    }

    #[test]
    fn a_composed_layer_holds_both_planes() {
        let (obj, _r) = object(2048 * 1088 * 3 / 2, DRM_FORMAT_MOD_LINEAR);
        let s = surface(
            b"NV12",
            vec![obj],
            vec![layer(
                b"NV12",
                &[plane(0, 0, 2048), plane(0, 2048 * 1088, 2048)],
            )],
        );
        let p = picture(s, (0, 0)).unwrap();
        assert_eq!(planes(&p), [(0, 2048), (2048 * 1088, 2048)]);
    }

    #[test]
    fn p012_is_read_as_p016() {
        for (composed, layers) in [
            (
                true,
                vec![layer(
                    b"P012",
                    &[plane(0, 0, 4096), plane(0, 4096 * 1088, 4096)],
                )],
            ),
            (
                false,
                vec![
                    layer(b"R16 ", &[plane(0, 0, 4096)]),
                    layer(b"GR32", &[plane(0, 4096 * 1088, 4096)]),
                ],
            ),
        ] {
            let (obj, _r) = object(4096 * 1088 * 3 / 2, DRM_FORMAT_MOD_LINEAR);
            let p = picture(surface(b"P012", vec![obj], layers), (0, 0)).unwrap();
            assert_eq!(p.desc.format, DecodedFormat::P016, "composed {composed}");
            assert_eq!(
                dma_buf(&p).fourcc,
                crate::gpu::input_drm_fourcc(DecodedFormat::P016).unwrap()
            );
        }
    }

    #[test]
    fn an_object_no_plane_uses_is_closed_and_the_rest_renumbered() {
        let (unused, mut unused_reader) = object(4096, DRM_FORMAT_MOD_LINEAR);
        let (y, mut y_reader) = object(2048 * 1080, DRM_FORMAT_MOD_LINEAR);
        let (uv, _r) = object(2048 * 540, DRM_FORMAT_MOD_LINEAR);
        let s = surface(
            b"NV12",
            vec![unused, y, uv],
            vec![
                layer(b"R8  ", &[plane(1, 0, 2048)]),
                layer(b"GR88", &[plane(2, 0, 2048)]),
            ],
        );
        let p = picture(s, (0, 0)).unwrap();
        assert!(
            closed(&mut unused_reader),
            "the unused object's fd is closed"
        );
        let d = dma_buf(&p);
        assert_eq!(d.objects.len(), 2);
        assert_eq!(d.plane_objects[..2], [0, 1]);
        drop(p);
        assert!(closed(&mut y_reader));
    }

    #[test]
    fn a_linear_picture_cropped_at_its_top_left_starts_inside_the_planes() {
        let (obj, _r) = object(2048 * 1088 * 3 / 2, DRM_FORMAT_MOD_LINEAR);
        let s = surface(
            b"NV12",
            vec![obj],
            vec![
                layer(b"R8  ", &[plane(0, 0, 2048)]),
                layer(b"GR88", &[plane(0, 2048 * 1088, 2048)]),
            ],
        );
        let p = picture(s, (6, 4)).unwrap();
        // Luma: 4 rows and 6 bytes in; chroma: 2 rows and 3 texels of 2 bytes.
        assert_eq!(
            planes(&p),
            [(4 * 2048 + 6, 2048), (2048 * 1088 + 2 * 2048 + 6, 2048)]
        );
        let (obj, _r) = object(4096 * 1088 * 3 / 2, DRM_FORMAT_MOD_LINEAR);
        let s = surface(
            b"P010",
            vec![obj],
            vec![layer(
                b"P010",
                &[plane(0, 0, 4096), plane(0, 4096 * 1088, 4096)],
            )],
        );
        let p = picture(s, (2, 2)).unwrap();
        assert_eq!(
            planes(&p),
            [(2 * 4096 + 4, 4096), (4096 * 1088 + 4096 + 4, 4096)]
        );
    }

    #[test]
    fn each_fault_is_named() {
        let nv12 = |objects: Vec<PrimeObject>, y: PrimePlane, uv: PrimePlane| {
            surface(
                b"NV12",
                objects,
                vec![layer(b"R8  ", &[y]), layer(b"GR88", &[uv])],
            )
        };
        let linear = |size| object(size, DRM_FORMAT_MOD_LINEAR).0;
        let big = 2048 * 1088 * 3 / 2;

        let (yuy2, _r) = object(big, 0);
        assert_eq!(
            picture(surface(b"YUY2", vec![yuy2], vec![]), (0, 0)).unwrap_err(),
            ExportError::Format(fourcc(b"YUY2"))
        );
        let wrong = surface(
            b"NV12",
            vec![linear(big)],
            vec![
                layer(b"R16 ", &[plane(0, 0, 2048)]),
                layer(b"GR88", &[plane(0, 0, 2048)]),
            ],
        );
        assert_eq!(
            picture(wrong, (0, 0)).unwrap_err().to_string(),
            "layers [R16  (1 planes), GR88 (1 planes)] do not lay out NV12 as separate or \
             composed layers"
        );
        assert_eq!(
            picture(
                nv12(vec![linear(big)], plane(0, 0, 2048), plane(1, 0, 2048)),
                (0, 0)
            )
            .unwrap_err(),
            ExportError::Object {
                plane: 1,
                object: 1,
                objects: 1
            }
        );
        let mixed = vec![linear(big), object(big, Y_TILED).0];
        assert_eq!(
            picture(nv12(mixed, plane(0, 0, 2048), plane(1, 0, 2048)), (0, 0)).unwrap_err(),
            ExportError::Modifiers {
                first: 0,
                other: Y_TILED
            }
        );
        assert_eq!(
            picture(
                nv12(vec![linear(big)], plane(0, 0, 1900), plane(0, 0, 2048)),
                (0, 0)
            )
            .unwrap_err(),
            ExportError::Pitch {
                plane: 0,
                pitch: 1900,
                row_bytes: 1920
            }
        );
        // Chroma placed so that its last row ends one byte past the object.
        let end = 2048 * 1088 + 2048 * 539 + 1920;
        let size = end - 1;
        assert_eq!(
            picture(
                nv12(
                    vec![linear(size)],
                    plane(0, 0, 2048),
                    plane(0, 2048 * 1088, 2048)
                ),
                (0, 0)
            )
            .unwrap_err(),
            ExportError::PastEnd {
                plane: 1,
                end: u64::from(end),
                size: u64::from(size)
            }
        );
        let tiled = vec![object(big, Y_TILED).0];
        assert_eq!(
            picture(
                nv12(tiled, plane(0, 0, 2048), plane(0, 2048 * 1088, 2048)),
                (2, 2)
            )
            .unwrap_err(),
            ExportError::TiledCrop {
                left: 2,
                top: 2,
                modifier: Y_TILED
            }
        );
        assert_eq!(
            picture(
                nv12(
                    vec![linear(big)],
                    plane(0, 0, 2048),
                    plane(0, 2048 * 1088, 2048)
                ),
                (1, 0)
            )
            .unwrap_err(),
            ExportError::OddCrop { left: 1, top: 0 }
        );
        let tiled = vec![object(4096, Y_TILED).0];
        assert_eq!(
            picture(nv12(tiled, plane(0, 0, 2048), plane(0, 8192, 2048)), (0, 0)).unwrap_err(),
            ExportError::PastEnd {
                plane: 1,
                end: 8192,
                size: 4096
            }
        );
    }

    #[test]
    fn an_object_of_unreported_size_is_measured() {
        let len: u32 = 2048 * 1088 * 3 / 2;
        // A file stands in for the DMA-BUF: lseek to its end gives its size
        // as it does a DMA-BUF's. Unlinked at once; the fd keeps it.
        let path = std::env::temp_dir().join(format!("stills-prime-{}", std::process::id()));
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        file.set_len(u64::from(len)).unwrap();
        let fd = OwnedFd::from(file);
        let s = surface(
            b"NV12",
            vec![PrimeObject {
                fd,
                size: 0,
                modifier: DRM_FORMAT_MOD_LINEAR,
            }],
            vec![
                layer(b"R8  ", &[plane(0, 0, 2048)]),
                layer(b"GR88", &[plane(0, 2048 * 1088, 2048)]),
            ],
        );
        let p = picture(s, (0, 0)).unwrap();
        assert_eq!(dma_buf(&p).objects[0].size, u64::from(len));
    }
}
