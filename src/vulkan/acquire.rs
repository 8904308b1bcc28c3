//! Taking imported memory over from the API that wrote it. A DMA-BUF that
//! another driver (a VA-API decoder) filled belongs to a queue outside this
//! device; Vulkan's rule for external memory is that the importing queue
//! acquires it first with a queue-family ownership transfer from
//! `VK_QUEUE_FAMILY_FOREIGN_EXT` (`VK_EXT_queue_family_foreign`), or, on a
//! device without that extension, `VK_QUEUE_FAMILY_EXTERNAL`. Drivers that
//! compress or cache surfaces resolve them here; on others it is free.
//!
//! wgpu's own barriers never name another queue family, so the acquire is
//! recorded through wgpu-hal into a command buffer of its own, submitted
//! ahead of the frame's work in the same submission.

use ash::vk;

use super::memory::vulkan_of;
use super::Vk;
use crate::gpu::{GpuContext, GpuError, ImportError, ImportKind};

/// A command buffer that acquires `buffers` and `textures` (imported
/// DMA-BUF memory, textures in `GENERAL` layout as [`super::image`] leaves
/// them) for this device's queue family. Submit it before the work that
/// reads them.
pub(crate) fn foreign_acquire(
    ctx: &GpuContext,
    buffers: &[&wgpu::Buffer],
    textures: &[&wgpu::Texture],
) -> Result<wgpu::CommandBuffer, GpuError> {
    let what = ImportKind::DmaBufBuffer;
    let vulkan = vulkan_of(ctx, what)?;
    let device = ctx.device();
    // SAFETY: only the queue family index is read.
    let family = match unsafe { device.as_hal::<Vk>() } {
        Some(hal) => hal.queue_family_index(),
        None => return Err(ImportError::NotVulkan { what }.into()),
    };
    let source = if vulkan.queue_family_foreign {
        vk::QUEUE_FAMILY_FOREIGN_EXT
    } else {
        vk::QUEUE_FAMILY_EXTERNAL
    };
    let access = vk::AccessFlags::SHADER_READ | vk::AccessFlags::TRANSFER_READ;
    let mut buffer_barriers = Vec::with_capacity(buffers.len());
    for buffer in buffers {
        // SAFETY: the raw handle is only recorded into the barrier below;
        // the wgpu buffer outlives the submission (the caller binds it).
        let raw = unsafe { buffer.as_hal::<Vk>().map(|b| b.raw_handle()) }
            .ok_or(ImportError::NotVulkan { what })?;
        buffer_barriers.push(
            vk::BufferMemoryBarrier::default()
                .src_access_mask(vk::AccessFlags::empty())
                .dst_access_mask(access)
                .src_queue_family_index(source)
                .dst_queue_family_index(family)
                .buffer(raw)
                .offset(0)
                .size(vk::WHOLE_SIZE),
        );
    }
    let mut image_barriers = Vec::with_capacity(textures.len());
    for texture in textures {
        // SAFETY: as for the buffers.
        let raw = unsafe { texture.as_hal::<Vk>().map(|t| t.raw_handle()) }
            .ok_or(ImportError::NotVulkan { what })?;
        image_barriers.push(
            vk::ImageMemoryBarrier::default()
                .src_access_mask(vk::AccessFlags::empty())
                .dst_access_mask(access)
                .old_layout(vk::ImageLayout::GENERAL)
                .new_layout(vk::ImageLayout::GENERAL)
                .src_queue_family_index(source)
                .dst_queue_family_index(family)
                .image(raw)
                .subresource_range(vk::ImageSubresourceRange {
                    aspect_mask: vk::ImageAspectFlags::COLOR,
                    base_mip_level: 0,
                    level_count: 1,
                    base_array_layer: 0,
                    layer_count: 1,
                }),
        );
    }
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("stills foreign acquire"),
    });
    // SAFETY: the encoder is used only through the hal here (wgpu forbids
    // mixing the two on one encoder, and nothing else records into it); the
    // command buffer is left open for `finish`; the barriers name resources
    // of this device that outlive the submission.
    let recorded = unsafe {
        encoder.as_hal_mut::<Vk, _, _>(|hal| {
            let hal = hal?;
            vulkan.device.cmd_pipeline_barrier(
                hal.raw_handle(),
                vk::PipelineStageFlags::TOP_OF_PIPE,
                vk::PipelineStageFlags::COMPUTE_SHADER | vk::PipelineStageFlags::TRANSFER,
                vk::DependencyFlags::empty(),
                &[],
                &buffer_barriers,
                &image_barriers,
            );
            Some(())
        })
    };
    recorded.ok_or(ImportError::NotVulkan { what })?;
    Ok(encoder.finish())
}
