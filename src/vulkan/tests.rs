//! The imports, end to end on whatever Vulkan driver runs the tests
//! (lavapipe in CI): bytes written by the exporting device, or held in host
//! memory, must come back identical through wgpu. A test whose driver lacks
//! what it needs says so (`SKIPPED: …` on stderr) instead of passing
//! silently, and where the lack must show as a typed error, checks that
//! error.

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::exporter::{ExportError, Exporter};
use super::host;
use super::image::{self, DrmPlane, ImageDesc, Tiling, DRM_FORMAT_MOD_LINEAR};
use super::memory::{self, ExternalMemory, HandleType};
use super::semaphore::{self, SyncFile, Timeline};
use crate::gpu::{AdapterPreference, GpuContext, GpuError, ImportError, ImportKind};

fn context() -> &'static GpuContext {
    static CTX: OnceLock<GpuContext> = OnceLock::new();
    CTX.get_or_init(|| {
        let ctx = GpuContext::new(AdapterPreference::Auto).expect("a GPU or lavapipe adapter");
        eprintln!("adapter: {:?}\ninterop: {}", ctx.info(), ctx.interop());
        ctx
    })
}

fn skip(test: &str, reason: impl std::fmt::Display) {
    eprintln!("SKIPPED {test}: {reason}");
}

fn is_lavapipe(ctx: &GpuContext) -> bool {
    ctx.info().driver == "llvmpipe"
}

fn exporter(ctx: &GpuContext) -> Exporter {
    let uuid = ctx
        .interop()
        .device_uuid
        .expect("a Vulkan device has a UUID");
    Exporter::new(uuid.0).expect("an exporting device on the same GPU")
}

/// Bytes that differ from their neighbours and from other seeds.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3] ^ seed)
        .collect()
}

fn wait(ctx: &GpuContext) {
    ctx.device()
        .poll(wgpu::PollType::wait_indefinitely())
        .expect("the device finishes");
}

/// Copies `range` of `buffer` (offsets multiples of 4) to a mappable buffer
/// and reads it.
fn read_buffer(ctx: &GpuContext, buffer: &wgpu::Buffer, range: std::ops::Range<u64>) -> Vec<u8> {
    let len = range.end - range.start;
    let readback = ctx.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: len,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = ctx.device().create_command_encoder(&Default::default());
    encoder.copy_buffer_to_buffer(buffer, range.start, &readback, 0, len);
    ctx.queue().submit([encoder.finish()]);
    map_and_read(ctx, &readback)
}

fn map_and_read(ctx: &GpuContext, buffer: &wgpu::Buffer) -> Vec<u8> {
    buffer.map_async(wgpu::MapMode::Read, .., |r| r.expect("mapped"));
    wait(ctx);
    let bytes = buffer
        .get_mapped_range(..)
        .expect("a mapped range")
        .to_vec();
    buffer.unmap();
    bytes
}

/// The texels of `texture`, tightly packed, through a texture → buffer copy.
fn copy_texture(ctx: &GpuContext, texture: &wgpu::Texture, desc: ImageDesc) -> Vec<u8> {
    let row = desc.width as u64 * desc.bytes_per_texel().unwrap();
    let pitch = row.next_multiple_of(256);
    let readback = ctx.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("texture readback"),
        size: pitch * desc.height as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = ctx.device().create_command_encoder(&Default::default());
    encoder.copy_texture_to_buffer(
        texture.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &readback,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(pitch as u32),
                rows_per_image: None,
            },
        },
        texture.size(),
    );
    ctx.queue().submit([encoder.finish()]);
    map_and_read(ctx, &readback)
        .chunks(pitch as usize)
        .flat_map(|r| r[..row as usize].to_vec())
        .collect()
}

/// Every texel of `texture` as `textureLoad` returns it in a compute shader.
fn load_texture(ctx: &GpuContext, texture: &wgpu::Texture, desc: ImageDesc) -> Vec<[u32; 4]> {
    let device = ctx.device();
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("textureLoad"),
        source: wgpu::ShaderSource::Wgsl(
            "@group(0) @binding(0) var src: texture_2d<u32>;
             @group(0) @binding(1) var<storage, read_write> dst: array<vec4<u32>>;
             @compute @workgroup_size(8, 8)
             fn main(@builtin(global_invocation_id) id: vec3<u32>) {
                 let size = textureDimensions(src);
                 if (id.x >= size.x || id.y >= size.y) { return; }
                 dst[id.y * size.x + id.x] = textureLoad(src, vec2<i32>(id.xy), 0);
             }"
            .into(),
        ),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("textureLoad"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let size = 16 * desc.width as u64 * desc.height as u64;
    let out = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("texels"),
        size,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let view = texture.create_view(&Default::default());
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::TextureView(&view),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: out.as_entire_binding(),
            },
        ],
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(desc.width.div_ceil(8), desc.height.div_ceil(8), 1);
    }
    ctx.queue().submit([encoder.finish()]);
    read_buffer(ctx, &out, 0..size)
        .chunks_exact(16)
        .map(|t| {
            std::array::from_fn(|i| u32::from_le_bytes(t[4 * i..4 * i + 4].try_into().unwrap()))
        })
        .collect()
}

/// What `textureLoad` should return for the packed texel bytes `t`.
fn expected_texel(format: wgpu::TextureFormat, t: &[u8]) -> [u32; 4] {
    let u16_at = |i: usize| u32::from(u16::from_le_bytes([t[i], t[i + 1]]));
    match format {
        wgpu::TextureFormat::R8Uint => [t[0].into(), 0, 0, 1],
        wgpu::TextureFormat::Rg8Uint => [t[0].into(), t[1].into(), 0, 1],
        wgpu::TextureFormat::R16Uint => [u16_at(0), 0, 0, 1],
        wgpu::TextureFormat::Rg16Uint => [u16_at(0), u16_at(2), 0, 1],
        other => unreachable!("{other:?}"),
    }
}

/// A memfd holding `bytes`, padded with zeros to whole pages.
fn memfd(bytes: &[u8]) -> OwnedFd {
    // SAFETY: a NUL-terminated name and valid flags.
    let raw = unsafe { libc::memfd_create(c"stills-test".as_ptr(), libc::MFD_CLOEXEC) };
    assert!(
        raw >= 0,
        "memfd_create: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: memfd_create returned a new fd that we own.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut file = std::fs::File::from(fd);
    std::io::Write::write_all(&mut file, bytes).expect("write the memfd");
    file.set_len((bytes.len() as u64).next_multiple_of(4096))
        .expect("size the memfd");
    OwnedFd::from(file)
}

#[test]
fn host_memory_comes_back_through_a_copy() {
    let ctx = context();
    let Some(alignment) = ctx.interop().host_pointer_alignment else {
        return skip(
            "host import",
            "the device has no VK_EXT_external_memory_host",
        );
    };
    /// Bytes that start 13 bytes into a heap allocation, so the import
    /// needs the enclosing aligned range.
    struct Frame(Vec<u8>);
    impl AsRef<[u8]> for Frame {
        fn as_ref(&self) -> &[u8] {
            &self.0[13..]
        }
    }
    let bytes = pattern(3 * 4096 + 1000, 7);
    let frame = Frame([vec![0xee; 13], bytes.clone()].concat());
    let address = frame.as_ref().as_ptr() as u64;
    let imported = host::import(
        ctx,
        frame,
        wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::STORAGE,
    )
    .expect("host memory imports");
    assert_eq!(imported.offset, address % alignment);
    assert_eq!(imported.buffer.size() % alignment, 0);
    let all = read_buffer(ctx, &imported.buffer, 0..imported.buffer.size());
    let start = imported.offset as usize;
    assert_eq!(&all[start..start + bytes.len()], &bytes[..]);
}

#[test]
fn host_memory_keep_alive_is_dropped_only_after_the_buffer() {
    let ctx = context();
    if ctx.interop().host_pointer_alignment.is_none() {
        return skip(
            "host keep-alive",
            "the device has no VK_EXT_external_memory_host",
        );
    }
    struct Owner {
        bytes: Vec<u8>,
        dropped: Arc<AtomicBool>,
    }
    impl AsRef<[u8]> for Owner {
        fn as_ref(&self) -> &[u8] {
            &self.bytes
        }
    }
    impl Drop for Owner {
        fn drop(&mut self) {
            self.dropped.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let owner = Owner {
        bytes: pattern(5000, 3),
        dropped: Arc::clone(&dropped),
    };
    let imported = host::import(ctx, owner, wgpu::BufferUsages::COPY_SRC).expect("imports");
    let read = read_buffer(ctx, &imported.buffer, 0..imported.buffer.size());
    assert!(!dropped.load(Ordering::SeqCst), "alive while the buffer is");
    let start = imported.offset as usize;
    assert_eq!(&read[start..start + 5000], &pattern(5000, 3)[..]);
    drop(imported);
    wait(ctx);
    assert!(dropped.load(Ordering::SeqCst), "dropped with the buffer");
}

#[test]
fn empty_host_memory_is_refused() {
    let ctx = context();
    if ctx.interop().host_pointer_alignment.is_none() {
        return skip(
            "empty host memory",
            "the device has no VK_EXT_external_memory_host",
        );
    }
    let result = host::import(ctx, Vec::<u8>::new(), wgpu::BufferUsages::COPY_SRC);
    assert!(matches!(
        result,
        Err(GpuError::Import(ImportError::Layout {
            what: ImportKind::HostBuffer,
            ..
        }))
    ));
}

#[test]
fn opaque_fd_buffer_comes_back_through_a_copy() {
    let ctx = context();
    if !ctx.interop().opaque_fd_memory {
        return skip("opaque-fd buffer", "the device cannot import opaque fds");
    }
    let exporter = exporter(ctx);
    let bytes = pattern(65536 + 300, 11);
    let exported = exporter
        .buffer(HandleType::OpaqueFd, &bytes)
        .expect("the exporter exports opaque fds");
    // SAFETY: exported just now as an opaque fd, not dedicated, by a device
    // on the context's physical device (found by its UUID; same driver), with
    // this size and memory type; the exporter's writes are finished (mapped
    // host-coherent memory, unmapped).
    let memory =
        unsafe { ExternalMemory::opaque_fd(exported.fd, exported.size, exported.memory_type) };
    let size = (bytes.len() as u64).next_multiple_of(4);
    let buffer = memory::import_buffer(
        ctx,
        memory,
        size,
        wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::STORAGE,
    )
    .expect("the opaque fd imports");
    assert_eq!(
        &read_buffer(ctx, &buffer, 0..size)[..bytes.len()],
        &bytes[..]
    );
}

#[test]
fn exported_buffer_memory_holds_what_the_buffer_was_given() {
    let ctx = context();
    if !ctx.interop().opaque_fd_memory_export || !ctx.interop().opaque_fd_memory {
        return skip(
            "exported buffer",
            "the device cannot export and import opaque fds",
        );
    }
    let bytes = pattern(4096 * 3 + 64, 23);
    let size = bytes.len() as u64;
    let usage = wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::STORAGE;
    let exported = memory::export_buffer(ctx, size, usage).expect("the device exports opaque fds");
    assert!(exported.allocation_size >= size);
    ctx.queue().write_buffer(&exported.buffer, 0, &bytes);
    wait(ctx);
    if exported.dedicated {
        return skip(
            "exported buffer",
            "the driver exports buffers as dedicated allocations, which import only as their own buffer",
        );
    }
    // SAFETY: exported just now by this context's own device as an opaque
    // fd of this size and memory type, not dedicated; the write above is
    // finished.
    let memory = unsafe {
        ExternalMemory::opaque_fd(exported.fd, exported.allocation_size, exported.memory_type)
    };
    let imported = memory::import_buffer(ctx, memory, size, wgpu::BufferUsages::COPY_SRC)
        .expect("the exported fd imports");
    assert_eq!(read_buffer(ctx, &imported, 0..size), bytes);
}

#[test]
fn a_buffer_larger_than_the_memory_is_refused() {
    let ctx = context();
    if !ctx.interop().opaque_fd_memory {
        return skip("too-large buffer", "the device cannot import opaque fds");
    }
    let exported = exporter(ctx)
        .buffer(HandleType::OpaqueFd, &pattern(4096, 1))
        .expect("exports");
    let available = exported.size;
    // SAFETY: as in `opaque_fd_buffer_comes_back_through_a_copy`.
    let memory =
        unsafe { ExternalMemory::opaque_fd(exported.fd, exported.size, exported.memory_type) };
    let result = memory::import_buffer(ctx, memory, available + 4, wgpu::BufferUsages::COPY_SRC);
    assert_eq!(
        result.unwrap_err(),
        GpuError::Import(ImportError::TooSmall {
            what: ImportKind::OpaqueFdBuffer,
            needed: available + 4,
            available
        })
    );
}

#[test]
fn opaque_fd_images_come_back_through_copies_and_texture_loads() {
    let ctx = context();
    if !ctx.interop().opaque_fd_memory {
        return skip("opaque-fd image", "the device cannot import opaque fds");
    }
    let exporter = exporter(ctx);
    for (seed, format) in [
        wgpu::TextureFormat::R8Uint,
        wgpu::TextureFormat::Rg8Uint,
        wgpu::TextureFormat::R16Uint,
        wgpu::TextureFormat::Rg16Uint,
    ]
    .into_iter()
    .enumerate()
    {
        // Odd sizes: no row is a whole number of anything.
        let desc = ImageDesc {
            width: 37,
            height: 19,
            format,
        };
        let texel = desc.bytes_per_texel().unwrap() as usize;
        let texels = pattern(37 * 19 * texel, seed as u8);
        let exported = exporter
            .image(desc, &texels)
            .unwrap_or_else(|e| panic!("the exporter exports a {format:?} image: {e}"));
        // SAFETY: exported just now as an opaque fd of a dedicated
        // allocation for an image made with `desc.create_info`, left in
        // GENERAL layout after a fenced upload, by a device on the context's
        // physical device, with this size and memory type.
        let memory =
            unsafe { ExternalMemory::opaque_fd(exported.fd, exported.size, exported.memory_type) };
        let texture = image::import(ctx, memory, desc, Tiling::Optimal)
            .unwrap_or_else(|e| panic!("a {format:?} opaque-fd image imports: {e}"));
        assert_eq!(copy_texture(ctx, &texture, desc), texels, "{format:?} copy");
        let loaded = load_texture(ctx, &texture, desc);
        let expected: Vec<[u32; 4]> = texels
            .chunks_exact(texel)
            .map(|t| expected_texel(format, t))
            .collect();
        assert_eq!(loaded, expected, "{format:?} textureLoad");
    }
}

/// DMA-BUFs made by a Vulkan exporter. Mesa 25's lavapipe advertises
/// `VK_EXT_external_memory_dma_buf`, but llvmpipe makes a DMA-BUF by turning
/// a memfd into one through `/dev/udmabuf`: without that device it reports
/// DMA-BUF memory as import-only, and an exporting `vkAllocateMemory` fails
/// with `VK_ERROR_OUT_OF_DEVICE_MEMORY`.
#[test]
fn dma_buf_buffer_from_an_exporter_comes_back() {
    let ctx = context();
    if !ctx.interop().dma_buf_memory {
        return skip("exported DMA-BUF", "the device cannot import DMA-BUFs");
    }
    let exporter = exporter(ctx);
    let no_udmabuf = is_lavapipe(ctx) && !Path::new("/dev/udmabuf").exists();
    if !exporter.can_export_buffer(HandleType::DmaBuf) {
        return skip(
            "exported DMA-BUF",
            if no_udmabuf {
                "lavapipe exports DMA-BUFs only through /dev/udmabuf, absent here"
            } else {
                "the driver cannot export DMA-BUFs"
            },
        );
    }
    let bytes = pattern(8192 + 12, 5);
    let exported = match exporter.buffer(HandleType::DmaBuf, &bytes) {
        Ok(exported) => exported,
        Err(e @ ExportError::Vulkan { .. }) if no_udmabuf => {
            return skip(
                "exported DMA-BUF",
                format_args!("lavapipe exports DMA-BUFs through /dev/udmabuf, absent here ({e})"),
            );
        }
        Err(e) => panic!("the driver says it exports DMA-BUFs, but: {e}"),
    };
    let memory = ExternalMemory::dma_buf(exported.fd).expect("a DMA-BUF has a size");
    let size = (bytes.len() as u64).next_multiple_of(4);
    let buffer = memory::import_buffer(ctx, memory, size, wgpu::BufferUsages::COPY_SRC)
        .expect("the DMA-BUF imports");
    assert_eq!(
        &read_buffer(ctx, &buffer, 0..size)[..bytes.len()],
        &bytes[..]
    );
}

/// lavapipe's DMA-BUF import maps the fd's pages, whatever made them: a
/// memfd (what a udmabuf is made from) imports as a "DMA-BUF". This is how
/// the DMA-BUF import path runs without `/dev/udmabuf` or a GPU; real
/// drivers reject a memfd.
#[test]
fn lavapipe_imports_a_memfd_as_a_dma_buf() {
    let ctx = context();
    if !is_lavapipe(ctx) {
        return skip(
            "memfd as DMA-BUF",
            "only lavapipe takes a memfd for a DMA-BUF",
        );
    }
    if !ctx.interop().dma_buf_memory {
        return skip(
            "memfd as DMA-BUF",
            "this lavapipe has no VK_EXT_external_memory_dma_buf (Mesa < 24)",
        );
    }
    let bytes = pattern(3 * 4096 + 40, 9);
    let memory = ExternalMemory::dma_buf(memfd(&bytes)).expect("a memfd has a size");
    assert_eq!(memory.size(), 4 * 4096);
    let size = (bytes.len() as u64).next_multiple_of(4);
    let buffer = memory::import_buffer(
        ctx,
        memory,
        size,
        wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::STORAGE,
    )
    .expect("lavapipe imports the memfd");
    assert_eq!(
        &read_buffer(ctx, &buffer, 0..size)[..bytes.len()],
        &bytes[..]
    );
}

#[test]
fn drm_modifier_images_need_their_extensions() {
    let ctx = context();
    if ctx.interop().drm_format_modifiers {
        return skip(
            "DRM modifier image",
            "the device has DRM format modifiers; importing one needs a DMA-BUF producer",
        );
    }
    let desc = ImageDesc {
        width: 64,
        height: 16,
        format: wgpu::TextureFormat::R8Uint,
    };
    let memory = ExternalMemory::dma_buf(memfd(&pattern(64 * 16, 2))).expect("sized");
    let plane = DrmPlane {
        modifier: DRM_FORMAT_MOD_LINEAR,
        offset: 0,
        pitch: 64,
    };
    let missing = if ctx.interop().dma_buf_memory {
        "VK_EXT_image_drm_format_modifier"
    } else {
        "VK_EXT_external_memory_dma_buf"
    };
    assert_eq!(
        image::import(ctx, memory, desc, Tiling::Drm(plane)).unwrap_err(),
        GpuError::Import(ImportError::MissingExtension {
            what: ImportKind::DmaBufImage,
            extension: missing
        })
    );
}

#[test]
fn sync_fd_semaphores_need_their_extension() {
    let ctx = context();
    if ctx.interop().sync_fd_semaphores {
        return skip(
            "sync-fd semaphore",
            "the device imports sync_files; importing one needs a fence producer",
        );
    }
    let not_a_sync_file = memfd(b"x");
    let result = SyncFile::import(ctx, not_a_sync_file);
    assert_eq!(
        result.unwrap_err(),
        GpuError::Import(ImportError::MissingExtension {
            what: ImportKind::SyncFdSemaphore,
            extension: "VK_KHR_external_semaphore_fd"
        })
    );
}

#[test]
fn exportable_timeline_semaphores_export_an_fd_or_say_why_not() {
    let ctx = context();
    if !ctx.interop().opaque_fd_semaphores {
        let result = Timeline::exportable(ctx, 0);
        let error = result.unwrap_err();
        assert!(
            matches!(
                error,
                GpuError::Import(
                    ImportError::MissingExtension {
                        what: ImportKind::TimelineSemaphore,
                        ..
                    } | ImportError::NotImportable {
                        what: ImportKind::TimelineSemaphore
                    }
                )
            ),
            "{error:?}"
        );
        return skip("timeline export", error);
    }
    let semaphore = Timeline::exportable(ctx, 5).expect("creates");
    let fd = semaphore.export_opaque_fd(ctx).expect("exports");
    let file = std::fs::File::from(fd);
    assert!(file.metadata().is_ok(), "the exported fd is open");
    assert_eq!(semaphore.value().expect("value"), 5);
}

/// A submission that waits on a timeline value does not run before the value
/// is signalled, and signals its own semaphore when it has run: the path
/// DMA-BUF fences and the CUDA hand-over take.
#[test]
fn submissions_wait_for_and_signal_timeline_semaphores() {
    // Its own context: the queue's wait list is shared with every submission
    // on it, and the other tests submit on the shared context in parallel.
    let ctx = &GpuContext::new(AdapterPreference::Auto).expect("a second context");
    if !ctx.interop().timeline_semaphores {
        return skip(
            "timeline submission",
            "the device has no timeline semaphores",
        );
    }
    let gate = Timeline::new(ctx, 0).expect("a timeline semaphore");
    let done = Timeline::new(ctx, 0).expect("a timeline semaphore");
    let bytes = pattern(256, 4);
    let src = ctx.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("src"),
        size: 256,
        usage: wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    ctx.queue().write_buffer(&src, 0, &bytes);
    let dst = ctx.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("dst"),
        size: 256,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = ctx.device().create_command_encoder(&Default::default());
    encoder.copy_buffer_to_buffer(&src, 0, &dst, 0, 256);
    semaphore::submit(
        ctx,
        [encoder.finish()],
        Vec::new(),
        &[(&gate, 2)],
        &[(&done, 1)],
    )
    .expect("submits");
    assert!(
        !done.wait(1, Duration::from_millis(300)).expect("waits"),
        "the work ran before its wait was signalled"
    );
    gate.signal(2).expect("signals");
    assert!(
        done.wait(1, Duration::from_secs(10)).expect("waits"),
        "the work did not run after its wait was signalled"
    );
    assert_eq!(map_and_read(ctx, &dst), bytes);
    // This side may only signal upwards.
    assert_eq!(
        gate.signal(2).unwrap_err(),
        GpuError::Import(ImportError::SignalNotAbove { value: 2, above: 2 })
    );
    let empty = ctx
        .device()
        .create_command_encoder(&Default::default())
        .finish();
    assert_eq!(
        semaphore::submit(ctx, [empty], Vec::new(), &[], &[(&done, 1)]).unwrap_err(),
        GpuError::Import(ImportError::SignalNotAbove { value: 1, above: 1 })
    );
    // Both semaphores are still held by the submission until wgpu sees it
    // done; dropping ours here must not destroy them under it.
    drop((gate, done));
    wait(ctx);
}

// The frame pipeline's input stage over these imports: a picture whose
// planes arrive as foreign memory renders exactly what the upload of the
// same planes renders.

use crate::asset::color::{ColorInfo, HdrInfo};
use crate::gpu::FramePipeline;
use crate::picture::{DecodedFormat, PictureDesc, PlaneDesc};
use crate::render::{OutputSpec, RenderSettings, Size, SourceGeometry};
use crate::surface::{
    DeviceBuffer, DeviceImages, DmaBufObject, DmaBufSurface, KeepAlive, Picture, Surface,
};

/// Odd sizes, so no plane row is a whole number of words by accident.
const PICTURE: (u32, u32) = (150, 86);

/// The formats hardware decoders hand over.
const HARDWARE_FORMATS: [DecodedFormat; 2] = [DecodedFormat::Nv12, DecodedFormat::P010];

/// A picture of `format` as packed planes, with samples a decoder could
/// produce (P010's low six bits zero).
fn packed_picture(format: DecodedFormat, seed: u8) -> (PictureDesc, Vec<u8>) {
    let (w, h) = PICTURE;
    let desc = PictureDesc::packed(w, h, format, ColorInfo::BT709, HdrInfo::SDR).unwrap();
    let len = desc.planes().iter().enumerate().fold(0, |end, (i, p)| {
        end.max(p.offset + desc.plane_span(i).unwrap())
    });
    let mut bytes = pattern(len as usize, seed);
    if format.desc().bit_depth > 8 {
        for sample in bytes.chunks_exact_mut(2) {
            sample[0] &= 0xc0;
        }
    }
    (desc, bytes)
}

/// The planes re-laid as VA-API lays them out: rows padded to 64 bytes,
/// each plane starting on a 4096-byte boundary, in one object or one
/// object per plane ("separate layers").
fn va_layout(desc: &PictureDesc, packed: &[u8], separate: bool) -> (PictureDesc, Vec<Vec<u8>>) {
    let mut placed = *desc;
    let mut objects = vec![Vec::new()];
    for (index, plane) in desc.planes().iter().enumerate() {
        if separate && index > 0 {
            objects.push(Vec::new());
        }
        let object = objects.last_mut().unwrap();
        let (row, rows) = desc.plane_extent(index).unwrap();
        let pitch = row.next_multiple_of(64);
        object.resize(object.len().next_multiple_of(4096), 0x77);
        placed.planes[index] = PlaneDesc {
            offset: object.len() as u64,
            pitch,
        };
        for r in 0..u64::from(rows) {
            let start = (plane.offset + r * plane.pitch) as usize;
            object.extend_from_slice(&packed[start..start + row as usize]);
            object.resize(object.len() + (pitch - row) as usize, 0x33);
        }
    }
    (placed, objects)
}

fn specs(desc: &PictureDesc) -> Vec<OutputSpec> {
    [Size::NATIVE, Size::new(48, 0)]
        .into_iter()
        .map(|maximum_size| {
            let settings = RenderSettings {
                maximum_size,
                ..RenderSettings::default()
            };
            OutputSpec::new(desc, &SourceGeometry::default(), &settings).unwrap()
        })
        .collect()
}

/// Renders `picture` and the upload of `packed` with every spec, and
/// compares them; returns how many renders matched.
fn matches_upload(
    pipeline: &mut FramePipeline,
    picture: &Picture,
    format: DecodedFormat,
    packed: &[u8],
) -> usize {
    let (w, h) = PICTURE;
    let uploaded = Picture::from_packed(w, h, format, packed).unwrap();
    let mut compared = 0;
    for spec in specs(&picture.desc) {
        let want = pipeline.render(&uploaded, &spec).unwrap().data;
        let got = pipeline
            .render(picture, &spec)
            .unwrap_or_else(|e| panic!("{format:?} {}: {e}", picture.surface.kind()))
            .data;
        assert!(
            want == got,
            "{format:?} from {} at {}x{} differs from the upload",
            picture.surface.kind(),
            spec.width,
            spec.height
        );
        compared += 1;
    }
    compared
}

#[test]
fn an_opaque_fd_buffer_renders_like_the_upload() {
    let ctx = context();
    if !ctx.interop().opaque_fd_memory {
        return skip("opaque-fd picture", "the device cannot import opaque fds");
    }
    let exporter = exporter(ctx);
    let mut pipeline = FramePipeline::new(ctx).unwrap();
    let mut compared = 0;
    for (seed, format) in HARDWARE_FORMATS.into_iter().enumerate() {
        let (desc, packed) = packed_picture(format, seed as u8);
        let (placed, objects) = va_layout(&desc, &packed, false);
        let exported = exporter
            .buffer(HandleType::OpaqueFd, &objects[0])
            .expect("the exporter exports opaque fds");
        // SAFETY: as in `opaque_fd_buffer_comes_back_through_a_copy`.
        let memory =
            unsafe { ExternalMemory::opaque_fd(exported.fd, exported.size, exported.memory_type) };
        let size = (objects[0].len() as u64).next_multiple_of(4);
        let buffer = memory::import_buffer(ctx, memory, size, wgpu::BufferUsages::STORAGE).unwrap();
        let picture = Picture {
            desc: placed,
            surface: Surface::Buffer(DeviceBuffer {
                buffer,
                keep_alive: KeepAlive::NOTHING,
            }),
        };
        compared += matches_upload(&mut pipeline, &picture, format, &packed);
    }
    assert_eq!(compared, 4);
}

#[test]
fn opaque_fd_plane_images_render_like_the_upload() {
    let ctx = context();
    if !ctx.interop().opaque_fd_memory {
        return skip("opaque-fd images", "the device cannot import opaque fds");
    }
    let exporter = exporter(ctx);
    let mut pipeline = FramePipeline::new(ctx).unwrap();
    let mut compared = 0;
    for (seed, format) in HARDWARE_FORMATS.into_iter().enumerate() {
        let (desc, packed) = packed_picture(format, seed as u8 + 7);
        let (w, h) = PICTURE;
        let planes = desc
            .planes()
            .iter()
            .enumerate()
            .map(|(index, plane)| {
                let (pw, ph) = format.plane_size(index, w, h).unwrap();
                let image = ImageDesc {
                    width: pw,
                    height: ph,
                    format: crate::gpu::input_texel_format(format, index),
                };
                let (row, _) = desc.plane_extent(index).unwrap();
                let texels = &packed[plane.offset as usize..][..(row * u64::from(ph)) as usize];
                let exported = exporter.image(image, texels).expect("exports the plane");
                // SAFETY: as in
                // `opaque_fd_images_come_back_through_copies_and_texture_loads`.
                let memory = unsafe {
                    ExternalMemory::opaque_fd(exported.fd, exported.size, exported.memory_type)
                };
                image::import(ctx, memory, image, Tiling::Optimal).expect("the plane imports")
            })
            .collect();
        let picture = Picture {
            desc,
            surface: Surface::Images(DeviceImages {
                planes,
                keep_alive: KeepAlive::NOTHING,
            }),
        };
        compared += matches_upload(&mut pipeline, &picture, format, &packed);
    }
    assert_eq!(compared, 4);
}

/// VA-API's export through the pipeline: NV12 and P010 in one object (two
/// planes at offsets) and in two (separate layers), with 64-byte pitches.
/// The DMA-BUFs come from the exporting device where the driver can export
/// them; lavapipe cannot without `/dev/udmabuf`, and imports whatever fd it
/// is given, so there each object is a memfd.
#[test]
fn dma_buf_pictures_render_like_the_upload() {
    let ctx = context();
    if !ctx.interop().dma_buf_memory {
        return skip(
            "DMA-BUF pictures",
            "the device has no VK_EXT_external_memory_dma_buf (lavapipe before Mesa 24)",
        );
    }
    let exporter = exporter(ctx);
    let exports = exporter.can_export_buffer(HandleType::DmaBuf);
    if !exports && !is_lavapipe(ctx) {
        return skip(
            "DMA-BUF pictures",
            "nothing here exports a DMA-BUF, and only lavapipe imports a memfd",
        );
    }
    let dma_buf = |bytes: &[u8]| -> DmaBufObject {
        let fd = if exports {
            exporter
                .buffer(HandleType::DmaBuf, bytes)
                .expect("the exporter exports DMA-BUFs")
                .fd
        } else {
            memfd(bytes)
        };
        let size = ExternalMemory::dma_buf(fd.try_clone().unwrap())
            .unwrap()
            .size();
        DmaBufObject { fd, size }
    };
    let mut pipeline = FramePipeline::new(ctx).unwrap();
    let mut compared = 0;
    for (seed, format) in HARDWARE_FORMATS.into_iter().enumerate() {
        let (desc, packed) = packed_picture(format, seed as u8 + 3);
        for separate in [false, true] {
            let (placed, objects) = va_layout(&desc, &packed, separate);
            let picture = Picture {
                desc: placed,
                surface: Surface::DmaBuf(DmaBufSurface {
                    objects: objects.iter().map(|o| dma_buf(o)).collect(),
                    fourcc: crate::gpu::input_drm_fourcc(format).unwrap(),
                    modifier: DRM_FORMAT_MOD_LINEAR,
                    plane_objects: if separate { [0, 1, 2, 0] } else { [0; 4] },
                    ready: None,
                    keep_alive: KeepAlive::NOTHING,
                }),
            };
            compared += matches_upload(&mut pipeline, &picture, format, &packed);
        }
    }
    assert_eq!(compared, 8);
}
