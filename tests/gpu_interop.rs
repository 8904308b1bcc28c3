//! `GpuContext`'s interop report through the public API, on whatever
//! Vulkan driver runs the tests (lavapipe in CI). The imports themselves are
//! crate-private and tested in `src/vulkan/tests.rs`.

use std::time::{Duration, Instant};

use stills::gpu::{AdapterPreference, GpuContext};

fn plain_device() -> (wgpu::Device, wgpu::Queue) {
    pollster::block_on(async {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions::default())
            .await
            .expect("adapter");
        adapter
            .request_device(&wgpu::DeviceDescriptor::default())
            .await
            .expect("device")
    })
}

#[test]
fn the_context_reports_what_its_vulkan_device_imports() {
    let ctx = GpuContext::new(AdapterPreference::Auto).expect("a GPU or lavapipe");
    let interop = ctx.interop();
    eprintln!("{:?}: {}", ctx.info().driver_info, interop.summary());
    if ctx.info().backend != wgpu::Backend::Vulkan {
        assert_eq!(interop, &stills::Interop::default());
        return eprintln!("SKIPPED: not a Vulkan adapter");
    }
    assert!(interop.device_uuid.is_some() && interop.driver_uuid.is_some());
    // Every Vulkan 1.2 driver wgpu opens has timeline semaphores (wgpu-hal's
    // own fences use them where they exist).
    assert!(interop.timeline_semaphores);
    if ctx.info().driver == "llvmpipe" {
        // lavapipe has had opaque fds and host pointers since Mesa 21.
        assert!(interop.opaque_fd_memory && interop.opaque_fd_memory_export);
        assert_eq!(interop.host_pointer_alignment, Some(4096));
        assert!(!interop.drm_format_modifiers && !interop.sync_fd_semaphores);
        let mesa_25 = ctx.info().driver_info.starts_with("Mesa 25");
        assert_eq!(
            interop.dma_buf_memory, mesa_25,
            "DMA-BUF import from Mesa 24"
        );
    }
    let json = serde_json::to_value(interop).expect("serialises");
    let uuid = json["device_uuid"].as_str().expect("a UUID string");
    assert_eq!(uuid.len(), 36, "{uuid}");
    assert_eq!(
        json["host_pointer_alignment"].as_u64(),
        interop.host_pointer_alignment
    );
}

/// A caller's own device reports what its enabled extensions allow. wgpu-hal
/// 30 enables the fd, DMA-BUF and DRM-modifier memory extensions by itself
/// wherever the adapter has them, but not host-memory import or semaphore
/// fds; it is the same physical device, with the same UUIDs.
#[test]
fn a_callers_device_reports_its_own_extensions() {
    let own = GpuContext::new(AdapterPreference::Auto).expect("a GPU or lavapipe");
    let (device, queue) = plain_device();
    let theirs = GpuContext::from_device(device, queue).expect("wraps");
    let (own, theirs) = (own.interop(), theirs.interop());
    eprintln!("own: {}\ntheirs: {}", own.summary(), theirs.summary());
    if own.device_uuid.is_none() {
        return eprintln!("SKIPPED: not a Vulkan adapter");
    }
    assert_eq!(theirs.device_uuid, own.device_uuid);
    assert_eq!(theirs.driver_uuid, own.driver_uuid);
    assert_eq!(theirs.timeline_semaphores, own.timeline_semaphores);
    assert_eq!(theirs.host_pointer_alignment, None);
    assert!(!theirs.sync_fd_semaphores && !theirs.opaque_fd_semaphores);
    assert_eq!(theirs.opaque_fd_memory, own.opaque_fd_memory);
    assert_eq!(theirs.dma_buf_memory, own.dma_buf_memory);
    assert_eq!(theirs.drm_format_modifiers, own.drm_format_modifiers);
}

/// Context creation time (instance, adapter, device, pipelines), the same
/// measurement before and after the device is opened through wgpu-hal:
/// `cargo test --release --test gpu_interop -- --ignored --nocapture`.
#[test]
#[ignore = "a timing, not a check"]
fn context_creation_time() {
    let rounds = 21;
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            let ctx = GpuContext::new(AdapterPreference::Auto).expect("a GPU or lavapipe");
            let elapsed = start.elapsed();
            drop(ctx);
            elapsed
        })
        .collect();
    times.sort();
    eprintln!(
        "GpuContext::new over {rounds} rounds: min {:.1} ms, median {:.1} ms, max {:.1} ms",
        times[0].as_secs_f64() * 1e3,
        times[rounds / 2].as_secs_f64() * 1e3,
        times[rounds - 1].as_secs_f64() * 1e3,
    );
}
