//! Memory behind a file descriptor as a single-plane `wgpu::Texture` in a
//! format the shaders read as unsigned integers (`textureLoad` of a
//! `texture_2d<u32>`): `R8Uint`, `Rg8Uint`, `R16Uint`, `Rg16Uint` — one
//! plane of NV12/P010 each.
//!
//! Two layouts:
//!
//! - [`Tiling::Optimal`]: an opaque fd exported for an image created with
//!   the same parameters ([`ImageDesc::create_info`]) on a device with the
//!   same UUIDs (Vulkan or CUDA): the layout is the driver's own.
//! - [`Tiling::Drm`]: a DMA-BUF plane whose layout a DRM format modifier,
//!   offset and pitch describe (VA-API's export), through
//!   `VK_EXT_image_drm_format_modifier`.
//!
//! Images arrive in `VK_IMAGE_LAYOUT_GENERAL`: wgpu is told so, and moves
//! them from there. (Its barriers do not acquire from
//! `VK_QUEUE_FAMILY_EXTERNAL`; drivers that need that acquisition would need
//! it added here.) The imported texture's usage is `TEXTURE_BINDING |
//! COPY_SRC`.

use ash::vk;

use super::device::{failed, VulkanDevice};
use super::memory::{vulkan_of, ExternalMemory, HandleType};
use super::Vk;
use crate::gpu::{scoped, GpuContext, GpuError, ImportError, ImportKind, LayoutError};

/// `DRM_FORMAT_MOD_LINEAR`.
pub(crate) const DRM_FORMAT_MOD_LINEAR: u64 = 0;

/// The size and format of a single-plane image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ImageDesc {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) format: wgpu::TextureFormat,
}

/// Vulkan usage of an opaque-fd image, the same on both sides (the exporter
/// writes it, the importer reads it).
pub(crate) const OPAQUE_IMAGE_USAGE: vk::ImageUsageFlags = vk::ImageUsageFlags::from_raw(
    vk::ImageUsageFlags::SAMPLED.as_raw()
        | vk::ImageUsageFlags::TRANSFER_SRC.as_raw()
        | vk::ImageUsageFlags::TRANSFER_DST.as_raw(),
);

/// Vulkan usage of a DMA-BUF image: read only.
const DMA_BUF_IMAGE_USAGE: vk::ImageUsageFlags = vk::ImageUsageFlags::from_raw(
    vk::ImageUsageFlags::SAMPLED.as_raw() | vk::ImageUsageFlags::TRANSFER_SRC.as_raw(),
);

impl ImageDesc {
    /// The Vulkan format, for the four importable formats.
    pub(crate) fn vk_format(&self) -> Option<vk::Format> {
        Some(match self.format {
            wgpu::TextureFormat::R8Uint => vk::Format::R8_UINT,
            wgpu::TextureFormat::Rg8Uint => vk::Format::R8G8_UINT,
            wgpu::TextureFormat::R16Uint => vk::Format::R16_UINT,
            wgpu::TextureFormat::Rg16Uint => vk::Format::R16G16_UINT,
            _ => return None,
        })
    }

    /// Bytes per texel of the four importable formats.
    pub(crate) fn bytes_per_texel(&self) -> Option<u64> {
        Some(match self.format {
            wgpu::TextureFormat::R8Uint => 1,
            wgpu::TextureFormat::Rg8Uint | wgpu::TextureFormat::R16Uint => 2,
            wgpu::TextureFormat::Rg16Uint => 4,
            _ => return None,
        })
    }

    /// The create info of an opaque-fd image: exporter and importer both
    /// build theirs here, so that the parameters match as the import needs
    /// (the caller chains `VkExternalMemoryImageCreateInfo`).
    pub(crate) fn create_info(
        &self,
        what: ImportKind,
    ) -> Result<vk::ImageCreateInfo<'static>, ImportError> {
        self.info(what, vk::ImageTiling::OPTIMAL, OPAQUE_IMAGE_USAGE)
    }

    fn info(
        &self,
        what: ImportKind,
        tiling: vk::ImageTiling,
        usage: vk::ImageUsageFlags,
    ) -> Result<vk::ImageCreateInfo<'static>, ImportError> {
        let format = self.vk_format().ok_or(ImportError::UnsupportedFormat {
            what,
            format: self.format,
        })?;
        if self.width == 0 || self.height == 0 {
            return Err(ImportError::Layout {
                what,
                reason: LayoutError::Empty,
            });
        }
        Ok(vk::ImageCreateInfo::default()
            .image_type(vk::ImageType::TYPE_2D)
            .format(format)
            .extent(vk::Extent3D {
                width: self.width,
                height: self.height,
                depth: 1,
            })
            .mip_levels(1)
            .array_layers(1)
            .samples(vk::SampleCountFlags::TYPE_1)
            .tiling(tiling)
            .usage(usage)
            .sharing_mode(vk::SharingMode::EXCLUSIVE)
            .initial_layout(vk::ImageLayout::UNDEFINED))
    }
}

/// Where a DMA-BUF plane's texels are: its DRM format modifier, and for
/// its (only) memory plane the offset and row pitch in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DrmPlane {
    pub(crate) modifier: u64,
    pub(crate) offset: u64,
    pub(crate) pitch: u64,
}

impl DrmPlane {
    /// Checks the plane against the image and the memory's `size`. Exact
    /// for linear planes; a tiled plane's extent is the driver's to know, so
    /// only its start is checked.
    pub(crate) fn check(&self, desc: &ImageDesc, size: u64) -> Result<(), LayoutError> {
        if desc.width == 0 || desc.height == 0 || size == 0 {
            return Err(LayoutError::Empty);
        }
        let texel = desc.bytes_per_texel().unwrap_or(1);
        let row_bytes = u64::from(desc.width)
            .checked_mul(texel)
            .ok_or(LayoutError::Overflow)?;
        if self.modifier != DRM_FORMAT_MOD_LINEAR {
            return if self.offset < size {
                Ok(())
            } else {
                Err(LayoutError::PastEnd {
                    end: self.offset,
                    size,
                })
            };
        }
        if self.pitch < row_bytes {
            return Err(LayoutError::PitchTooSmall {
                row_bytes,
                pitch: self.pitch,
            });
        }
        let end = self
            .pitch
            .checked_mul(u64::from(desc.height) - 1)
            .and_then(|rows| rows.checked_add(row_bytes))
            .and_then(|plane| plane.checked_add(self.offset))
            .ok_or(LayoutError::Overflow)?;
        if end > size {
            return Err(LayoutError::PastEnd { end, size });
        }
        Ok(())
    }
}

/// The format of a single-plane DRM fourcc that the shaders read as
/// unsigned integers: `R8`, `GR88` (byte 0 R), `R16`, `GR1616` (`GR32`) —
/// the layers VA-API exports NV12 and P010 as.
pub(crate) fn format_from_drm_fourcc(fourcc: u32) -> Option<wgpu::TextureFormat> {
    let code = |s: &[u8; 4]| u32::from_le_bytes(*s);
    Some(match fourcc {
        f if f == code(b"R8  ") => wgpu::TextureFormat::R8Uint,
        f if f == code(b"GR88") => wgpu::TextureFormat::Rg8Uint,
        f if f == code(b"R16 ") => wgpu::TextureFormat::R16Uint,
        f if f == code(b"GR32") => wgpu::TextureFormat::Rg16Uint,
        _ => return None,
    })
}

/// Whether `modifier` is in the driver's list for a format with one memory
/// plane and sampled-image support.
pub(crate) fn modifier_usable(list: &[vk::DrmFormatModifierPropertiesEXT], modifier: u64) -> bool {
    list.iter().any(|m| {
        m.drm_format_modifier == modifier
            && m.drm_format_modifier_plane_count == 1
            && m.drm_format_modifier_tiling_features
                .contains(vk::FormatFeatureFlags::SAMPLED_IMAGE)
    })
}

/// How the texels lie in the memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tiling {
    /// The driver's optimal tiling (an opaque fd).
    Optimal,
    /// A DMA-BUF plane with an explicit DRM format modifier.
    Drm(DrmPlane),
}

/// Imports `memory` as a texture of `desc` laid out as `tiling`: optimal
/// for an opaque fd, DRM for a DMA-BUF.
pub(crate) fn import(
    ctx: &GpuContext,
    memory: ExternalMemory,
    desc: ImageDesc,
    tiling: Tiling,
) -> Result<wgpu::Texture, GpuError> {
    let what = match memory.handle() {
        HandleType::OpaqueFd => ImportKind::OpaqueFdImage,
        HandleType::DmaBuf => ImportKind::DmaBufImage,
    };
    let vulkan = vulkan_of(ctx, what)?;
    vulkan.memory_fd(what)?;
    if what == ImportKind::DmaBufImage {
        for (has, extension) in [
            (vulkan.dma_buf, "VK_EXT_external_memory_dma_buf"),
            (vulkan.drm_modifier, "VK_EXT_image_drm_format_modifier"),
        ] {
            if !has {
                return Err(ImportError::MissingExtension { what, extension }.into());
            }
        }
    }
    let (vk_tiling, usage, plane) = match (memory.handle(), tiling) {
        (HandleType::OpaqueFd, Tiling::Optimal) => {
            (vk::ImageTiling::OPTIMAL, OPAQUE_IMAGE_USAGE, None)
        }
        (HandleType::DmaBuf, Tiling::Drm(plane)) => (
            vk::ImageTiling::DRM_FORMAT_MODIFIER_EXT,
            DMA_BUF_IMAGE_USAGE,
            Some(plane),
        ),
        // A DMA-BUF's layout is only ever described by a modifier, and
        // modifiers only describe DMA-BUFs.
        _ => return Err(ImportError::NotImportable { what }.into()),
    };
    let mut info = desc.info(what, vk_tiling, usage)?;
    if let Some(plane) = plane {
        plane
            .check(&desc, memory.size())
            .map_err(|reason| ImportError::Layout { what, reason })?;
        if !modifier_usable(&drm_modifiers(vulkan, info.format), plane.modifier) {
            return Err(ImportError::UnsupportedModifier {
                what,
                format: desc.format,
                modifier: plane.modifier,
            }
            .into());
        }
    }
    check_importable(vulkan, what, &info, memory.handle(), plane)?;

    let layouts = plane.map(|p| {
        [vk::SubresourceLayout {
            offset: p.offset,
            size: 0,
            row_pitch: p.pitch,
            array_pitch: 0,
            depth_pitch: 0,
        }]
    });
    let mut explicit = vk::ImageDrmFormatModifierExplicitCreateInfoEXT::default();
    if let (Some(plane), Some(layouts)) = (plane, layouts.as_ref()) {
        explicit = explicit
            .drm_format_modifier(plane.modifier)
            .plane_layouts(layouts);
        info = info.push_next(&mut explicit);
    }
    let mut external =
        vk::ExternalMemoryImageCreateInfo::default().handle_types(memory.handle().vk());
    info = info.push_next(&mut external);
    let image = ImageGuard {
        device: &vulkan.device,
        // SAFETY: a valid create info, checked importable above; the image
        // is owned by the guard.
        image: unsafe { vulkan.device.create_image(&info, None) }
            .map_err(failed(what, "vkCreateImage"))?,
    };
    // SAFETY: the image was just created on this device.
    let required = unsafe { vulkan.device.get_image_memory_requirements(image.image) };
    let memory = memory.allocate(vulkan, what, &required, Some(image.image))?;
    // SAFETY: image and memory are ours and unbound; the memory is a
    // dedicated allocation for this image of at least `required.size` bytes.
    if let Err(e) = unsafe { vulkan.device.bind_image_memory(image.image, memory, 0) } {
        // SAFETY: the memory is ours and unused.
        unsafe { vulkan.device.free_memory(memory, None) };
        return Err(failed(what, "vkBindImageMemory")(e).into());
    }
    let raw = image.release();

    let size = wgpu::Extent3d {
        width: desc.width,
        height: desc.height,
        depth_or_array_layers: 1,
    };
    let hal_desc = wgpu::hal::TextureDescriptor {
        label: Some("stills imported image"),
        size,
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: desc.format,
        usage: wgpu::TextureUses::RESOURCE | wgpu::TextureUses::COPY_SRC,
        memory_flags: wgpu::hal::MemoryFlags::empty(),
        view_formats: Vec::new(),
    };
    let device = ctx.device();
    // SAFETY: only used to wrap `raw` below.
    let Some(hal_device) = (unsafe { device.as_hal::<Vk>() }) else {
        // SAFETY: ours, never used: nothing references them.
        unsafe {
            vulkan.device.destroy_image(raw, None);
            vulkan.device.free_memory(memory, None);
        }
        return Err(ImportError::NotVulkan { what }.into());
    };
    // SAFETY: `raw` was created on this device respecting `hal_desc` (2D,
    // one mip and layer, the format's Vulkan format, sampled and
    // transfer-source usage, no MUTABLE_FORMAT and no view formats); with no
    // drop callback and dedicated memory, wgpu-hal owns both from here and
    // destroys the image and frees the memory.
    let hal_texture = unsafe {
        hal_device.texture_from_raw(
            raw,
            &hal_desc,
            None,
            wgpu::hal::vulkan::TextureMemory::Dedicated(memory),
        )
    };
    drop(hal_device);
    let wgpu_desc = wgpu::TextureDescriptor {
        label: Some("stills imported image"),
        size,
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: desc.format,
        usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    };
    // SAFETY: the texture was made on this device, respects `wgpu_desc` (its
    // usages are within the image's), is bound to memory whose contents the
    // exporter wrote, and is in GENERAL layout (the import contract), which
    // is the layout wgpu-hal derives for STORAGE_READ_ONLY.
    scoped(device, || unsafe {
        device.create_texture_from_hal::<Vk>(
            hal_texture,
            &wgpu_desc,
            wgpu::TextureUses::STORAGE_READ_ONLY,
        )
    })
}

/// Destroys an image unless released.
struct ImageGuard<'a> {
    device: &'a ash::Device,
    image: vk::Image,
}

impl ImageGuard<'_> {
    fn release(self) -> vk::Image {
        let image = self.image;
        std::mem::forget(self);
        image
    }
}

impl Drop for ImageGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the image is ours and was never used by the GPU.
        unsafe { self.device.destroy_image(self.image, None) };
    }
}

/// The driver's modifiers for `format` (`VK_EXT_image_drm_format_modifier`).
fn drm_modifiers(
    vulkan: &VulkanDevice,
    format: vk::Format,
) -> Vec<vk::DrmFormatModifierPropertiesEXT> {
    let mut list = vk::DrmFormatModifierPropertiesListEXT::default();
    let mut properties = vk::FormatProperties2::default().push_next(&mut list);
    // SAFETY: first call: counts only (no array given).
    unsafe {
        vulkan.instance.get_physical_device_format_properties2(
            vulkan.physical,
            format,
            &mut properties,
        )
    };
    let count = list.drm_format_modifier_count as usize;
    let mut modifiers = vec![vk::DrmFormatModifierPropertiesEXT::default(); count];
    let mut list = vk::DrmFormatModifierPropertiesListEXT::default()
        .drm_format_modifier_properties(&mut modifiers);
    let mut properties = vk::FormatProperties2::default().push_next(&mut list);
    // SAFETY: second call: the array holds `count` elements, as the list
    // says.
    unsafe {
        vulkan.instance.get_physical_device_format_properties2(
            vulkan.physical,
            format,
            &mut properties,
        )
    };
    let written = list.drm_format_modifier_count as usize;
    modifiers.truncate(written);
    modifiers
}

/// Asks the driver whether an image of `info` can be imported from
/// `handle` (and with `plane`'s modifier).
fn check_importable(
    vulkan: &VulkanDevice,
    what: ImportKind,
    info: &vk::ImageCreateInfo<'_>,
    handle: HandleType,
    plane: Option<DrmPlane>,
) -> Result<(), ImportError> {
    let mut external_info =
        vk::PhysicalDeviceExternalImageFormatInfo::default().handle_type(handle.vk());
    let mut modifier_info = vk::PhysicalDeviceImageDrmFormatModifierInfoEXT::default()
        .sharing_mode(vk::SharingMode::EXCLUSIVE);
    let mut query = vk::PhysicalDeviceImageFormatInfo2::default()
        .format(info.format)
        .ty(info.image_type)
        .tiling(info.tiling)
        .usage(info.usage)
        .flags(info.flags)
        .push_next(&mut external_info);
    if let Some(plane) = plane {
        modifier_info = modifier_info.drm_format_modifier(plane.modifier);
        query = query.push_next(&mut modifier_info);
    }
    let mut external = vk::ExternalImageFormatProperties::default();
    let mut out = vk::ImageFormatProperties2::default().push_next(&mut external);
    // SAFETY: valid structs; the modifier struct is only chained when its
    // extension is enabled.
    let result = unsafe {
        vulkan
            .instance
            .get_physical_device_image_format_properties2(vulkan.physical, &query, &mut out)
    };
    match result {
        Ok(()) => {}
        Err(vk::Result::ERROR_FORMAT_NOT_SUPPORTED) => {
            return Err(ImportError::NotImportable { what })
        }
        Err(e) => return Err(failed(what, "vkGetPhysicalDeviceImageFormatProperties2")(e)),
    }
    let features = external.external_memory_properties.external_memory_features;
    if !features.contains(vk::ExternalMemoryFeatureFlags::IMPORTABLE) {
        return Err(ImportError::NotImportable { what });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(format: wgpu::TextureFormat) -> ImageDesc {
        ImageDesc {
            width: 1920,
            height: 1080,
            format,
        }
    }

    fn linear(offset: u64, pitch: u64) -> DrmPlane {
        DrmPlane {
            modifier: DRM_FORMAT_MOD_LINEAR,
            offset,
            pitch,
        }
    }

    #[test]
    fn the_four_plane_formats_map_to_vulkan_and_texel_sizes() {
        for (format, vk_format, bytes) in [
            (wgpu::TextureFormat::R8Uint, vk::Format::R8_UINT, 1),
            (wgpu::TextureFormat::Rg8Uint, vk::Format::R8G8_UINT, 2),
            (wgpu::TextureFormat::R16Uint, vk::Format::R16_UINT, 2),
            (wgpu::TextureFormat::Rg16Uint, vk::Format::R16G16_UINT, 4),
        ] {
            assert_eq!(desc(format).vk_format(), Some(vk_format));
            assert_eq!(desc(format).bytes_per_texel(), Some(bytes));
        }
        assert_eq!(desc(wgpu::TextureFormat::Rgba8Unorm).vk_format(), None);
        assert_eq!(
            desc(wgpu::TextureFormat::R8Unorm)
                .create_info(ImportKind::OpaqueFdImage)
                .unwrap_err(),
            ImportError::UnsupportedFormat {
                what: ImportKind::OpaqueFdImage,
                format: wgpu::TextureFormat::R8Unorm
            }
        );
    }

    #[test]
    fn nv12_and_p010_layers_map_from_their_fourccs() {
        let fourcc = |s: &[u8; 4]| u32::from_le_bytes(*s);
        assert_eq!(
            format_from_drm_fourcc(fourcc(b"R8  ")),
            Some(wgpu::TextureFormat::R8Uint)
        );
        assert_eq!(
            format_from_drm_fourcc(fourcc(b"GR88")),
            Some(wgpu::TextureFormat::Rg8Uint)
        );
        assert_eq!(
            format_from_drm_fourcc(fourcc(b"R16 ")),
            Some(wgpu::TextureFormat::R16Uint)
        );
        assert_eq!(
            format_from_drm_fourcc(fourcc(b"GR32")),
            Some(wgpu::TextureFormat::Rg16Uint)
        );
        // RG88 has its bytes the other way round; NV12 is not one plane.
        assert_eq!(format_from_drm_fourcc(fourcc(b"RG88")), None);
        assert_eq!(format_from_drm_fourcc(fourcc(b"NV12")), None);
    }

    #[test]
    fn a_linear_nv12_chroma_plane_fits_after_its_luma() {
        // 1920x1080 NV12 with a 2048-byte pitch: luma 2048 * 1080 bytes,
        // then 960x540 GR88 chroma, whose last row needs 1920 of its 2048.
        let chroma = ImageDesc {
            width: 960,
            height: 540,
            format: wgpu::TextureFormat::Rg8Uint,
        };
        let size = 2048 * 1620;
        assert_eq!(linear(2048 * 1080, 2048).check(&chroma, size), Ok(()));
        assert_eq!(linear(2048 * 1080 + 128, 2048).check(&chroma, size), Ok(()));
        assert_eq!(
            linear(2048 * 1080 + 129, 2048).check(&chroma, size),
            Err(LayoutError::PastEnd {
                end: size + 1,
                size
            })
        );
    }

    #[test]
    fn linear_planes_are_checked_against_pitch_and_size() {
        let luma = desc(wgpu::TextureFormat::R8Uint);
        assert_eq!(
            linear(0, 1919).check(&luma, 1 << 30),
            Err(LayoutError::PitchTooSmall {
                row_bytes: 1920,
                pitch: 1919
            })
        );
        // The last row needs only its texels, not a whole pitch.
        let exact = 2048 * 1079 + 1920;
        assert_eq!(linear(0, 2048).check(&luma, exact), Ok(()));
        assert_eq!(
            linear(0, 2048).check(&luma, exact - 1),
            Err(LayoutError::PastEnd {
                end: exact,
                size: exact - 1
            })
        );
        assert_eq!(
            linear(u64::MAX - 10, 2048).check(&luma, u64::MAX),
            Err(LayoutError::Overflow)
        );
        assert_eq!(linear(0, 2048).check(&luma, 0), Err(LayoutError::Empty));
    }

    #[test]
    fn tiled_planes_only_need_to_start_inside_the_memory() {
        let luma = desc(wgpu::TextureFormat::R8Uint);
        let y_tiled = DrmPlane {
            modifier: 0x0100_0000_0000_0002, // I915_FORMAT_MOD_Y_TILED
            offset: 4096,
            pitch: 2048,
        };
        assert_eq!(y_tiled.check(&luma, 8192), Ok(()));
        assert_eq!(
            y_tiled.check(&luma, 4096),
            Err(LayoutError::PastEnd {
                end: 4096,
                size: 4096
            })
        );
    }

    #[test]
    fn a_modifier_is_usable_only_single_plane_and_sampled() {
        let entry = |modifier, planes, features| vk::DrmFormatModifierPropertiesEXT {
            drm_format_modifier: modifier,
            drm_format_modifier_plane_count: planes,
            drm_format_modifier_tiling_features: features,
        };
        let sampled = vk::FormatFeatureFlags::SAMPLED_IMAGE | vk::FormatFeatureFlags::TRANSFER_SRC;
        let list = [
            entry(DRM_FORMAT_MOD_LINEAR, 1, sampled),
            entry(7, 2, sampled),
            entry(9, 1, vk::FormatFeatureFlags::TRANSFER_SRC),
        ];
        assert!(modifier_usable(&list, DRM_FORMAT_MOD_LINEAR));
        assert!(
            !modifier_usable(&list, 7),
            "two memory planes (a CCS modifier)"
        );
        assert!(!modifier_usable(&list, 9), "not sampleable");
        assert!(!modifier_usable(&list, 11), "not listed");
    }
}
