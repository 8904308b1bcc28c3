//! The frame pipeline alone (upload, fused compute pass, one readback), on
//! whatever adapter `GpuContext` picks: a GPU where there is one, Mesa's
//! lavapipe (software Vulkan on the CPU) elsewhere. Two cases from the
//! issue: a 1080p 8-bit frame to a 320-wide thumbnail, and a 4K 10-bit PQ
//! frame tone mapped to a 4K SDR image; and the cost of carrying alpha:
//! the same 1080p frame with an alpha plane (`yuva420p`, premultiplied
//! resampling and a third pass-1 dispatch) to 320 and at native size,
//! beside the opaque frame at native size; and the cost of deinterlacing:
//! the same 1080p frame flagged interlaced (1080i, top field first), its
//! spatial deinterlace stage before the passes, to 320 and at native size,
//! and motion-adaptive, which adds the previous picture's upload and
//! reads: after an identical picture (still: every missing sample is
//! woven) and after another (moving everywhere: every missing sample takes
//! the spatial filter and the checks).
//!
//! `cargo bench --bench pipeline`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stills::asset::color::{
    ChromaLocation, ColorInfo, ColorPrimaries, ColorRange, HdrFormat, HdrInfo, MatrixCoefficients,
    TransferCharacteristic,
};
use stills::gpu::{AdapterPreference, FramePipeline, GpuContext};
use stills::picture::{DecodedFormat, PictureDesc, Scan};
use stills::render::{OutputSpec, RenderSettings, Size, SourceGeometry};
use stills::surface::Picture;
use stills::Deinterlacer;

/// A deterministic picture with detail in every plane, so the resampler
/// reads real data.
fn picture(
    width: u32,
    height: u32,
    format: DecodedFormat,
    color: ColorInfo,
    hdr: HdrInfo,
) -> Picture {
    seeded_picture(width, height, format, color, hdr, 0)
}

/// [`picture`] with other samples for another `seed`: another instant of
/// a scene where everything moves.
fn seeded_picture(
    width: u32,
    height: u32,
    format: DecodedFormat,
    color: ColorInfo,
    hdr: HdrInfo,
    seed: usize,
) -> Picture {
    let desc = format.desc();
    let planes = desc
        .planes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let w = width.div_ceil(1 << p.x_shift) as usize;
            let h = height.div_ceil(1 << p.y_shift) as usize;
            let bytes = p.bytes_per_sample as usize * p.samples_per_texel as usize;
            let stride = w * bytes;
            let max = (1u32 << desc.bit_depth) - 1;
            let mut data = Vec::with_capacity(stride * h);
            for y in 0..h {
                for x in 0..w * p.samples_per_texel as usize {
                    let v = (((x * 7 + y * 13 + i * 101 + seed * 31) as u32)
                        .wrapping_mul(2654435761)
                        >> 20)
                        % (max + 1);
                    match p.bytes_per_sample {
                        1 => data.push(v as u8),
                        _ => data.extend_from_slice(&(v as u16).to_le_bytes()),
                    }
                }
            }
            data.into()
        })
        .collect();
    let desc = PictureDesc::packed(width, height, format, color, hdr).expect("size");
    let desc = PictureDesc {
        planes: desc
            .planes
            .map(|p| stills::picture::PlaneDesc { offset: 0, ..p }),
        ..desc
    };
    Picture::host(desc, planes).expect("valid synthetic picture")
}

fn bench(c: &mut Criterion) {
    let gpu = GpuContext::new(AdapterPreference::Auto).expect("a GPU or lavapipe");
    eprintln!("adapter: {:?}", gpu.info());
    let mut pipeline = FramePipeline::new(&gpu).expect("pipeline");
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);

    let sdr = ColorInfo::BT709;
    let hd = picture(1920, 1080, DecodedFormat::Yuv420p, sdr, HdrInfo::SDR);
    let thumb = OutputSpec::new(
        &hd.desc,
        &SourceGeometry::default(),
        &RenderSettings {
            maximum_size: Size {
                width: 320,
                height: 0,
            },
            ..RenderSettings::default()
        },
    )
    .expect("spec");
    group.throughput(Throughput::Elements(1));
    group.bench_function("1080p 8-bit -> 320 thumbnail", |b| {
        b.iter(|| pipeline.render(&hd, &thumb).expect("render"))
    });
    let hd_alpha = picture(1920, 1080, DecodedFormat::Yuva420p, sdr, HdrInfo::SDR);
    assert!(hd_alpha.desc.has_alpha());
    group.bench_function("1080p 8-bit alpha -> 320 thumbnail", |b| {
        b.iter(|| pipeline.render(&hd_alpha, &thumb).expect("render"))
    });
    let native = OutputSpec::new(
        &hd.desc,
        &SourceGeometry::default(),
        &RenderSettings::default(),
    )
    .expect("spec");
    group.bench_function("1080p 8-bit native", |b| {
        b.iter(|| pipeline.render(&hd, &native).expect("render"))
    });
    group.bench_function("1080p 8-bit alpha native", |b| {
        b.iter(|| pipeline.render(&hd_alpha, &native).expect("render"))
    });

    let mut interlaced = picture(1920, 1080, DecodedFormat::Yuv420p, sdr, HdrInfo::SDR);
    interlaced.desc.scan = Scan::Interlaced {
        top_field_first: true,
    };
    let deinterlaced = |settings: &RenderSettings| {
        let spec =
            OutputSpec::new(&interlaced.desc, &SourceGeometry::default(), settings).expect("spec");
        assert!(spec.deinterlace.is_some(), "1080i is deinterlaced");
        spec
    };
    let thumb_1080i = deinterlaced(&RenderSettings {
        maximum_size: Size {
            width: 320,
            height: 0,
        },
        ..RenderSettings::default()
    });
    let native_1080i = deinterlaced(&RenderSettings::default());
    group.bench_function("1080i 8-bit deinterlaced -> 320 thumbnail", |b| {
        b.iter(|| pipeline.render(&interlaced, &thumb_1080i).expect("render"))
    });
    group.bench_function("1080i 8-bit deinterlaced native", |b| {
        b.iter(|| pipeline.render(&interlaced, &native_1080i).expect("render"))
    });
    let mut still = picture(1920, 1080, DecodedFormat::Yuv420p, sdr, HdrInfo::SDR);
    let mut moved = seeded_picture(1920, 1080, DecodedFormat::Yuv420p, sdr, HdrInfo::SDR, 1);
    still.desc.scan = interlaced.desc.scan;
    moved.desc.scan = interlaced.desc.scan;
    for (name, previous) in [("still", &still), ("moving", &moved)] {
        for (size, spec) in [
            ("-> 320 thumbnail", &thumb_1080i),
            ("native", &native_1080i),
        ] {
            group.bench_function(format!("1080i 8-bit motion-adaptive {name} {size}"), |b| {
                b.iter(|| {
                    let image = pipeline
                        .render_after(&interlaced, Some(previous), spec)
                        .expect("render");
                    assert_eq!(image.deinterlaced, Some(Deinterlacer::MotionAdaptive));
                    image
                })
            });
        }
    }

    let pq = ColorInfo {
        primaries: ColorPrimaries::Bt2020,
        transfer: TransferCharacteristic::Pq,
        matrix: MatrixCoefficients::Bt2020Ncl,
        range: ColorRange::Limited,
        chroma_location: ChromaLocation::TopLeft,
    };
    let hdr = HdrInfo {
        format: Some(HdrFormat::Pq),
        ..HdrInfo::SDR
    };
    let uhd = picture(3840, 2160, DecodedFormat::Yuv420p10, pq, hdr);
    let tone_mapped = OutputSpec::new(
        &uhd.desc,
        &SourceGeometry::default(),
        &RenderSettings::default(),
    )
    .expect("spec");
    group.bench_function("4K 10-bit PQ -> 4K SDR", |b| {
        b.iter(|| pipeline.render(&uhd, &tone_mapped).expect("render"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
