//! SDR frames through the GPU pipeline on whatever adapter the machine has
//! (lavapipe in CI), compared with FFmpeg's zscale and swscale.

mod common;

use common::gpu::*;
use common::metrics::*;
use stills::asset::color::{ColorInfo, ColorPrimaries, HdrInfo};
use stills::asset::geometry::{CleanAperture, Orientation};
use stills::gpu::{FramePipeline, GpuContext, GpuError};
use stills::picture::{ColorModel, DecodedFormat, PictureDesc, PlaneDesc, SampleAlignment};
use stills::render::spec::{Affine2, OutputEncoding, OutputSpec, TransferFunction};
use stills::render::{ApertureMode, DynamicRangePolicy, RenderSettings, Size, SourceGeometry};
use stills::surface::Picture;
use stills::Ratio;

fn render_rgb(frame: &Picture, spec: &OutputSpec) -> Vec<u8> {
    let mut pipeline = FramePipeline::new(context()).expect("pipeline");
    let image = pipeline.render(frame, spec).expect("render");
    assert_eq!(image.stride, image.width as usize * 4);
    rgba_to_rgb(&image.data)
}

fn report(name: &str, psnr: f64, threshold: f64, w: u32, h: u32, ours: &[u8], reference: &[u8]) {
    eprintln!("{name}: PSNR {psnr:.2} dB (threshold {threshold})");
    if psnr < threshold {
        save_rgb(&format!("{name}_ours"), w, h, ours);
        save_rgb(&format!("{name}_reference"), w, h, reference);
    }
}

#[test]
fn yuv_to_rgb_matches_zscale_for_every_matrix_range_and_depth() {
    let (w, h) = (160, 120);
    let mut failures = Vec::new();
    for (layout, bits) in [
        (DecodedFormat::Yuv420p, 8u8),
        (DecodedFormat::Yuv420p10, 10),
    ] {
        for full in [false, true] {
            let range_filter = if full { "scale=out_range=full" } else { "" };
            let pix_fmt = layout.ffmpeg_name();
            let raw = lavfi_frame(&format!("testsrc2=s={w}x{h}:d=1"), range_filter, pix_fmt);
            let frame = Picture::from_packed(w, h, layout, &raw[..]).unwrap();
            for matrix in [Matrix::Bt601, Matrix::Bt709, Matrix::Bt2020] {
                let alignment = if bits == 8 {
                    Alignment::Full
                } else {
                    Alignment::Lsb
                };
                let spec = scale_spec(w, h, w, h, sdr_color(matrix, full, bits, alignment));
                let ours = render_rgb(&frame, &spec);
                let options = format!(
                    "min={}:rin={}:cin=left:f=lanczos",
                    matrix.zscale(),
                    if full { "full" } else { "limited" }
                );
                let reference = zscale_rgb(&raw, pix_fmt, w, h, &options);
                let psnr = psnr8(&ours, &reference);
                let name = format!(
                    "{pix_fmt}_{matrix:?}_{}",
                    if full { "full" } else { "limited" }
                );
                report(&name, psnr, 45.0, w, h, &ours, &reference);
                if psnr < 45.0 {
                    failures.push(name);
                }
            }
        }
    }
    assert!(failures.is_empty(), "below 45 dB: {failures:?}");
}

#[test]
fn every_layout_matches_zscale() {
    let (w, h) = (96, 64);
    let mut failures = Vec::new();
    for layout in DecodedFormat::ALL {
        let desc = layout.desc();
        let pix_fmt = layout.ffmpeg_name();
        let raw = lavfi_frame(&format!("testsrc2=s={w}x{h}:d=1"), "", pix_fmt);
        let frame = Picture::from_packed(w, h, layout, &raw[..]).unwrap();
        let alignment = match (desc.bit_depth, desc.alignment) {
            (8, _) | (16, _) => Alignment::Full,
            (_, SampleAlignment::Msb) => Alignment::Msb,
            (_, SampleAlignment::Lsb) => Alignment::Lsb,
        };
        let mut color = sdr_color(Matrix::Bt709, false, desc.bit_depth, alignment);
        let options = match desc.model {
            ColorModel::Yuv => "min=709:rin=limited:cin=left:f=lanczos",
            ColorModel::Gray => {
                color = sdr_color(Matrix::Bt709, true, desc.bit_depth, alignment);
                "min=709:rin=full:f=lanczos"
            }
            ColorModel::Rgb => {
                color.yuv_to_rgb = IDENTITY3;
                color.yuv_offset = [0.0; 3];
                "f=lanczos"
            }
        };
        let spec = scale_spec(w, h, w, h, color);
        let ours = render_rgb(&frame, &spec);
        let reference = zscale_rgb(&raw, pix_fmt, w, h, options);
        let psnr = psnr8(&ours, &reference);
        report(pix_fmt, psnr, 45.0, w, h, &ours, &reference);
        if psnr < 45.0 {
            failures.push(pix_fmt);
        }
    }
    assert!(failures.is_empty(), "below 45 dB: {failures:?}");
}

#[test]
fn odd_sized_yuv420p_matches_zscale_on_the_even_frame_around_it() {
    // zimg refuses odd 4:2:0 sizes. A 65×49 frame whose planes are the
    // 66×50 frame's, less the last luma column and row, has exactly the
    // same chroma planes (33×25, rounded up as FFmpeg does) and the same
    // usable chroma range, so its pixels are the even frame's, cropped.
    let (w, h) = (65u32, 49u32);
    let raw = lavfi_frame("testsrc2=s=66x50:d=1", "", "yuv420p");
    let (luma, chroma) = raw.split_at(66 * 50);
    let (cb, cr) = chroma.split_at(33 * 25);
    let planes = vec![luma.into(), cb.into(), cr.into()];
    let mut desc = PictureDesc::packed(
        w,
        h,
        DecodedFormat::Yuv420p,
        ColorInfo::UNSPECIFIED,
        HdrInfo::SDR,
    )
    .unwrap();
    desc.planes = [
        PlaneDesc {
            offset: 0,
            pitch: 66,
        },
        PlaneDesc {
            offset: 0,
            pitch: 33,
        },
        PlaneDesc {
            offset: 0,
            pitch: 33,
        },
        PlaneDesc::default(),
    ];
    let frame = Picture::host(desc, planes).unwrap();
    let spec = scale_spec(
        w,
        h,
        w,
        h,
        sdr_color(Matrix::Bt709, false, 8, Alignment::Full),
    );
    let ours = render_rgb(&frame, &spec);
    let even = zscale_rgb(
        &raw,
        "yuv420p",
        66,
        50,
        "min=709:rin=limited:cin=left:f=lanczos",
    );
    let reference: Vec<u8> = even
        .chunks_exact(66 * 3)
        .take(h as usize)
        .flat_map(|row| row[..w as usize * 3].to_vec())
        .collect();
    let psnr = psnr8(&ours, &reference);
    report("odd_yuv420p", psnr, 45.0, w, h, &ours, &reference);
    assert!(psnr >= 45.0, "PSNR {psnr:.2} dB");
}

/// Renders testsrc2 at 4K down to `ow`×`oh` and compares with zscale's
/// Lanczos.
fn downscale_4k_matches_zscale(name: &str, ow: u32, oh: u32) {
    let (w, h) = (3840, 2160);
    let raw = lavfi_frame(&format!("testsrc2=s={w}x{h}:d=1"), "", "yuv420p");
    let frame = Picture::from_packed(w, h, DecodedFormat::Yuv420p, &raw[..]).unwrap();
    let spec = scale_spec(
        w,
        h,
        ow,
        oh,
        sdr_color(Matrix::Bt709, false, 8, Alignment::Full),
    );
    let started = std::time::Instant::now();
    let ours = render_rgb(&frame, &spec);
    eprintln!("4K → {ow} render took {:?}", started.elapsed());
    let reference = zscale_rgb(
        &raw,
        "yuv420p",
        w,
        h,
        &format!("w={ow}:h={oh}:min=709:rin=limited:cin=left:f=lanczos"),
    );
    let psnr = psnr8(&ours, &reference);
    report(name, psnr, 38.0, ow, oh, &ours, &reference);
    assert!(psnr >= 38.0, "PSNR {psnr:.2} dB");
}

#[test]
fn downscale_4k_to_320_matches_zscale_lanczos() {
    downscale_4k_matches_zscale("downscale_4k_320", 320, 180);
}

/// At 40x each output's taps span far more source than a pass-1 workgroup
/// could stage in workgroup memory (it holds enough up to about 7x), so
/// every workgroup reads its taps straight from the planes: the widest
/// spans must still match the reference.
#[test]
fn downscale_4k_to_96_matches_zscale_lanczos_past_the_staging_limit() {
    downscale_4k_matches_zscale("downscale_4k_96", 96, 54);
}

/// Root-mean-square deviation from its own mean of the green channel over
/// the output pixels whose source radius lies in `[r0, r1]`.
fn ring_rms(rgb: &[u8], size: u32, scale: f64, centre: f64, r0: f64, r1: f64) -> f64 {
    let mut values = Vec::new();
    for y in 0..size {
        for x in 0..size {
            let sx = (f64::from(x) + 0.5) * scale - centre;
            let sy = (f64::from(y) + 0.5) * scale - centre;
            let r = (sx * sx + sy * sy).sqrt();
            if r >= r0 && r <= r1 {
                values.push(f64::from(rgb[((y * size + x) * 3 + 1) as usize]));
            }
        }
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
}

#[test]
fn zone_plate_downscale_does_not_alias() {
    // A zone plate whose local frequency k·r reaches the source's Nyquist
    // limit at the corners, shrunk 8×: beyond r ≈ 90 source pixels every
    // ring is above the output's Nyquist limit and must average to grey.
    let (size, out) = (1024u32, 128u32);
    let scale = f64::from(size) / f64::from(out);
    let centre = f64::from(size) / 2.0;
    let k = 0.5 / (centre * std::f64::consts::SQRT_2);
    let geq = format!(
        "geq=lum='128+100*cos(PI*{k}*((X+0.5-{centre})*(X+0.5-{centre})+(Y+0.5-{centre})*(Y+0.5-{centre})))':cb=128:cr=128"
    );
    let raw = lavfi_frame(
        &format!("color=c=gray:s={size}x{size}:d=1"),
        &geq,
        "yuv420p",
    );
    let frame = Picture::from_packed(size, size, DecodedFormat::Yuv420p, &raw[..]).unwrap();
    let spec = scale_spec(
        size,
        size,
        out,
        out,
        sdr_color(Matrix::Bt709, false, 8, Alignment::Full),
    );
    let ours = render_rgb(&frame, &spec);
    let reference = zscale_rgb(
        &raw,
        "yuv420p",
        size,
        size,
        &format!("w={out}:h={out}:min=709:rin=limited:cin=left:f=lanczos"),
    );
    // What a kernel taking one bilinear tap per output pixel would make.
    let luma = &raw[..(size * size) as usize];
    let mut bilinear = Vec::with_capacity((out * out * 3) as usize);
    for y in 0..out {
        for x in 0..out {
            let sx = (f64::from(x) + 0.5) * scale - 0.5;
            let sy = (f64::from(y) + 0.5) * scale - 0.5;
            let (x0, y0) = (sx.floor() as usize, sy.floor() as usize);
            let (fx, fy) = (sx - sx.floor(), sy - sy.floor());
            let at = |xx: usize, yy: usize| f64::from(luma[yy * size as usize + xx]);
            let v = (1.0 - fy) * ((1.0 - fx) * at(x0, y0) + fx * at(x0 + 1, y0))
                + fy * ((1.0 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
            let g = ((v - 16.0) * 255.0 / 219.0).round().clamp(0.0, 255.0) as u8;
            bilinear.extend_from_slice(&[g, g, g]);
        }
    }
    let (r0, r1) = (230.0, 500.0);
    let alias_ours = ring_rms(&ours, out, scale, centre, r0, r1);
    let alias_zscale = ring_rms(&reference, out, scale, centre, r0, r1);
    let alias_bilinear = ring_rms(&bilinear, out, scale, centre, r0, r1);
    // Below half the output's Nyquist frequency the rings must survive.
    let pass_ours = ring_rms(&ours, out, scale, centre, 0.0, 40.0);
    let pass_source = 100.0 * 255.0 / 219.0 / std::f64::consts::SQRT_2;
    eprintln!(
        "zone plate alias RMS: ours {alias_ours:.2}, zscale lanczos {alias_zscale:.2}, \
         single bilinear tap {alias_bilinear:.2}; pass-band RMS ours {pass_ours:.1} of {pass_source:.1}; \
         PSNR vs zscale {:.2} dB",
        psnr8(&ours, &reference)
    );
    save_rgb("zone_plate_ours", out, out, &ours);
    save_rgb("zone_plate_bilinear", out, out, &bilinear);
    assert!(
        alias_bilinear > 20.0,
        "the bilinear baseline should alias: {alias_bilinear}"
    );
    assert!(
        alias_ours < 0.1 * alias_bilinear,
        "{alias_ours} vs {alias_bilinear}"
    );
    assert!(
        alias_ours <= 1.5 * alias_zscale + 0.5,
        "{alias_ours} vs {alias_zscale}"
    );
    assert!(
        pass_ours > 0.8 * pass_source,
        "{pass_ours} vs {pass_source}"
    );
}

fn sdr_source(
    width: u32,
    height: u32,
    orientation: Orientation,
    clap: Option<CleanAperture>,
) -> (PictureDesc, SourceGeometry) {
    let color = ColorInfo::BT709;
    let picture =
        PictureDesc::packed(width, height, DecodedFormat::Yuv444p, color, HdrInfo::SDR).unwrap();
    let geometry = SourceGeometry {
        sample_aspect_ratio: None,
        clean_aperture: clap,
        orientation: Some(orientation),
    };
    (picture, geometry)
}

#[test]
fn orientations_and_crops_put_every_pixel_where_it_belongs() {
    let (w, h) = (48u32, 32u32);
    let raw = lavfi_frame(&format!("testsrc2=s={w}x{h}:d=1"), "", "yuv444p");
    let frame = Picture::from_packed(w, h, DecodedFormat::Yuv444p, &raw[..]).unwrap();
    let clap = CleanAperture {
        width: Ratio::new(30, 1).unwrap(),
        height: Ratio::new(20, 1).unwrap(),
        horizontal_offset: Ratio::new(-3, 1).unwrap(),
        vertical_offset: Ratio::new(2, 1).unwrap(),
    };
    let settings = RenderSettings {
        maximum_size: Size::NATIVE,
        applies_preferred_track_transform: true,
        aperture_mode: ApertureMode::CleanAperture,
        dynamic_range_policy: DynamicRangePolicy::ForceSdr,
        ..RenderSettings::default()
    };
    let mut pipeline = FramePipeline::new(context()).unwrap();
    let mut checked = 0;
    for crop in [None, Some((clap, "crop=30:20:6:8"))] {
        for rotation in [0u16, 90, 180, 270] {
            for mirror in [false, true] {
                let orientation = Orientation { rotation, mirror };
                let (picture, geometry) = sdr_source(w, h, orientation, crop.map(|c| c.0));
                let spec = OutputSpec::new(&picture, &geometry, &settings).unwrap();
                let image = pipeline.render(&frame, &spec).unwrap();
                let ours = rgba_to_rgb(&image.data);

                let mut chain: Vec<&str> = Vec::new();
                if let Some((_, filter)) = crop {
                    chain.push(filter);
                }
                if mirror {
                    chain.push("hflip");
                }
                chain.push(match rotation {
                    0 => "null",
                    90 => "transpose=clock",
                    180 => "hflip,vflip",
                    _ => "transpose=cclock",
                });
                chain.push("zscale=min=709:rin=limited:f=point:m=gbr:r=full,format=gbrp");
                let reference = ffmpeg_convert(&raw, "yuv444p", w, h, &chain.join(","), "rgb24");
                assert_eq!(
                    ours.len(),
                    reference.len(),
                    "{orientation:?} crop {}: size {}x{}",
                    crop.is_some(),
                    image.width,
                    image.height
                );
                let worst = ours
                    .iter()
                    .zip(&reference)
                    .map(|(a, b)| a.abs_diff(*b))
                    .max()
                    .unwrap_or(0);
                if worst > 1 {
                    let name = format!("orient_{rotation}_{mirror}_{}", crop.is_some());
                    save_rgb(&format!("{name}_ours"), image.width, image.height, &ours);
                    save_rgb(
                        &format!("{name}_ref"),
                        image.width,
                        image.height,
                        &reference,
                    );
                }
                assert!(
                    worst <= 1,
                    "{orientation:?} crop {}: a pixel is off by {worst}",
                    crop.is_some()
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 16);
}

#[test]
fn hdr_kept_as_hdr_is_the_source_signal_in_16_bits() {
    let (w, h) = (96, 64);
    let raw = lavfi_frame(&format!("testsrc2=s={w}x{h}:d=1"), "", "yuv420p10le");
    let frame = Picture::from_packed(w, h, DecodedFormat::Yuv420p10, &raw[..]).unwrap();
    let mut color = sdr_color(Matrix::Bt2020, false, 10, Alignment::Lsb);
    color.transfer = TransferFunction::Pq;
    color.source_primaries = ColorPrimaries::Bt2020;
    color.output = OutputEncoding::Pq16;
    let spec = scale_spec(w, h, w, h, color);
    let mut pipeline = FramePipeline::new(context()).unwrap();
    let image = pipeline.render(&frame, &spec).unwrap();
    assert_eq!(image.stride, w as usize * 8);
    let ours: Vec<u16> = image
        .data
        .chunks_exact(8)
        .flat_map(|p| {
            assert_eq!(&p[6..8], &[0xff, 0xff], "opaque alpha");
            [0, 2, 4].map(|i| u16::from_le_bytes([p[i], p[i + 1]]))
        })
        .collect();
    let reference: Vec<u16> = ffmpeg_convert(
        &raw,
        "yuv420p10le",
        w,
        h,
        "zscale=min=2020_ncl:rin=limited:cin=left:f=lanczos:m=gbr:r=full,format=gbrp16le",
        "rgb48le",
    )
    .chunks_exact(2)
    .map(|b| u16::from_le_bytes([b[0], b[1]]))
    .collect();
    assert_eq!(ours.len(), reference.len());
    let mse = ours
        .iter()
        .zip(&reference)
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum::<f64>()
        / ours.len() as f64;
    let psnr = 10.0 * (65535.0f64 * 65535.0 / mse.max(1e-9)).log10();
    eprintln!("PQ kept as PQ, RGBA16: PSNR {psnr:.2} dB");
    assert!(psnr >= 45.0, "PSNR {psnr:.2} dB");
}

#[test]
fn same_shaped_frames_reuse_every_resource() {
    let (w, h) = (64, 48);
    let raw_a = lavfi_frame(&format!("testsrc2=s={w}x{h}:d=1"), "", "yuv420p");
    let raw_b = lavfi_frame(&format!("smptehdbars=s={w}x{h}:d=1"), "", "yuv420p");
    let a = Picture::from_packed(w, h, DecodedFormat::Yuv420p, &raw_a[..]).unwrap();
    let b = Picture::from_packed(w, h, DecodedFormat::Yuv420p, &raw_b[..]).unwrap();
    let color = sdr_color(Matrix::Bt709, false, 8, Alignment::Full);
    let full = scale_spec(w, h, w, h, color.clone());
    let half = scale_spec(w, h, w / 2, h / 2, color);
    let ctx = context();
    let mut pipeline = FramePipeline::new(ctx).unwrap();
    let first_a = pipeline.render(&a, &full).unwrap();
    let created = pipeline.resource_sets_created();
    // Host planes are imported where they lie on a CPU adapter that can
    // (no upload set), uploaded through an input set elsewhere.
    let imported = ctx.info().is_software() && ctx.interop().host_pointer_alignment.is_some();
    let input_sets = if imported { 0 } else { 1 };
    assert_eq!(created, input_sets + 1, "input sets and one output set");
    let first_b = pipeline.render(&b, &full).unwrap();
    assert_eq!(pipeline.resource_sets_created(), created);
    assert_ne!(first_a.data, first_b.data);
    // A second output size adds only an output set, and going back to the
    // first reuses everything and gives the same pixels.
    let small = pipeline.render(&a, &half).unwrap();
    assert_eq!((small.width, small.height), (w / 2, h / 2));
    assert_eq!(pipeline.resource_sets_created(), created + 1);
    let again_a = pipeline.render(&a, &full).unwrap();
    assert_eq!(pipeline.resource_sets_created(), created + 1);
    assert_eq!(again_a, first_a);
}

#[test]
fn bad_input_gives_typed_errors_and_the_pipeline_carries_on() {
    let ctx = context();
    let mut pipeline = FramePipeline::new(ctx).unwrap();
    let color = sdr_color(Matrix::Bt709, true, 8, Alignment::Full);

    // Pass 1 runs one workgroup row per four source lines: a frame one
    // line taller than a dispatch reaches renders in bands of rows, each
    // within the limit.
    let max = ctx.device().limits().max_compute_workgroups_per_dimension;
    let tall = max * 4 + 1;
    let frame =
        Picture::from_packed(1, tall, DecodedFormat::Gray8, vec![128; tall as usize]).unwrap();
    let image = pipeline
        .render(&frame, &scale_spec(1, tall, 1, 100, color.clone()))
        .unwrap();
    assert_eq!((image.width, image.height), (1, 100));
    assert!(image
        .data
        .chunks_exact(4)
        .all(|p| p == [128, 128, 128, 255]));

    let small = Picture::from_packed(8, 8, DecodedFormat::Gray8, vec![200; 64]).unwrap();
    let mut sheared = scale_spec(8, 8, 8, 8, color.clone());
    sheared.out_to_src = Affine2 {
        m: [[1.0, 0.3], [0.0, 1.0]],
        t: [0.0, 0.0],
    };
    assert!(matches!(
        pipeline.render(&small, &sheared),
        Err(GpuError::UnsupportedSpec(_))
    ));

    let image = pipeline
        .render(&small, &scale_spec(8, 8, 8, 8, color))
        .unwrap();
    assert!(image
        .data
        .chunks_exact(4)
        .all(|p| p == [200, 200, 200, 255]));
}

/// The planes are read from storage buffers, so 16-bit input needs no
/// optional feature (such as `TEXTURE_FORMAT_16BIT_NORM`): a bare device
/// renders it exactly as the pipeline's own device does.
#[test]
fn a_callers_device_without_optional_features_renders_16_bit_input() {
    let (device, queue) = pollster::block_on(async {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions::default())
            .await
            .expect("adapter");
        adapter
            .request_device(&wgpu::DeviceDescriptor::default())
            .await
            .expect("device")
    });
    let ctx = GpuContext::from_device(device, queue).unwrap();
    let mut pipeline = FramePipeline::new(&ctx).unwrap();
    let codes: Vec<u8> = (0..16u16)
        .flat_map(|i| (64 + i * 56).to_le_bytes())
        .collect();
    let ten_bit = Picture::from_packed(4, 4, DecodedFormat::Gray10, &codes[..]).unwrap();
    let spec = scale_spec(
        4,
        4,
        4,
        4,
        sdr_color(Matrix::Bt709, true, 10, Alignment::Lsb),
    );
    let bare = pipeline.render(&ten_bit, &spec).unwrap();
    let own = FramePipeline::new(context())
        .unwrap()
        .render(&ten_bit, &spec)
        .unwrap();
    assert_eq!(bare, own);
    assert!(bare.data.chunks_exact(4).any(|p| p[0] > 200));
    let eight_bit = Picture::from_packed(4, 4, DecodedFormat::Gray8, vec![0; 16]).unwrap();
    let spec8 = scale_spec(
        4,
        4,
        4,
        4,
        sdr_color(Matrix::Bt709, true, 8, Alignment::Full),
    );
    assert!(pipeline.render(&eight_bit, &spec8).is_ok());
}

#[test]
fn sdr_gamut_conversion_moves_colours_but_not_greys() {
    let (w, h) = (64u32, 48u32);
    // A grey ramp beside saturated bars.
    let raw = lavfi_frame(
        &format!("testsrc2=s={w}x{h}:d=1"),
        "format=yuv444p,geq=lum='if(lt(Y,24),16+X*219/W,lum(X,Y))':cb='if(lt(Y,24),128,cb(X,Y))':cr='if(lt(Y,24),128,cr(X,Y))'",
        "yuv444p",
    );
    let frame = Picture::from_packed(w, h, DecodedFormat::Yuv444p, &raw[..]).unwrap();
    let settings = RenderSettings::default();
    let (bt709, mut geometry) = sdr_source(w, h, Orientation::IDENTITY, None);
    geometry.orientation = None;
    let mut bt2020 = bt709;
    bt2020.color.primaries = ColorPrimaries::Bt2020;
    let plain = OutputSpec::new(&bt709, &geometry, &settings).unwrap();
    let wide = OutputSpec::new(&bt2020, &geometry, &settings).unwrap();
    assert_ne!(wide.color.gamut, plain.color.gamut);
    let mut pipeline = FramePipeline::new(context()).unwrap();
    let plain_rgb = rgba_to_rgb(&pipeline.render(&frame, &plain).unwrap().data);
    let wide_rgb = rgba_to_rgb(&pipeline.render(&frame, &wide).unwrap().data);
    let grey_rows = 24 * w as usize * 3;
    let worst_grey = plain_rgb[..grey_rows]
        .iter()
        .zip(&wide_rgb[..grey_rows])
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap_or(0);
    let bars = psnr8(&plain_rgb[grey_rows..], &wide_rgb[grey_rows..]);
    eprintln!(
        "BT.2020 SDR vs BT.709 SDR: greys differ by at most {worst_grey}, bars PSNR {bars:.1} dB"
    );
    assert!(worst_grey <= 1, "a grey changed by {worst_grey}");
    assert!(bars < 30.0, "the bars should be more saturated in BT.2020");
}
