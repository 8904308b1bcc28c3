//! Pictures and specs the renderer comparisons share (`tests/decimate.rs`,
//! `tests/host_render.rs`): test patterns in any decoded layout, fixture
//! frames as their decoder lays them out, and PSNR between two rendered
//! images.

use std::path::Path;

use stills::asset::color::{
    ChromaLocation, ColorInfo, ColorPrimaries, ColorRange, ContentLightLevel, HdrFormat, HdrInfo,
    MatrixCoefficients, TransferCharacteristic,
};
use stills::gpu::RenderedImage;
use stills::picture::{DecodedFormat, PictureDesc};
use stills::render::spec::OutputEncoding;
use stills::render::{RenderSettings, Size, SourceGeometry};
use stills::surface::Picture;
use stills::Asset;

use super::ffmpeg::ffmpeg;

/// Fit inside `width`×`height` (0: a free side), the track's transform
/// applied.
pub fn settings(width: u32, height: u32) -> RenderSettings {
    RenderSettings {
        maximum_size: Size::new(width, height),
        applies_preferred_track_transform: true,
        ..RenderSettings::default()
    }
}

/// A `width`×`height` testsrc2 frame of `format`, tagged `color`/`hdr`,
/// opaque (as the decoders hand over RGB converted to packed RGBA).
pub fn pattern(
    width: u32,
    height: u32,
    format: DecodedFormat,
    color: ColorInfo,
    hdr: HdrInfo,
) -> Picture {
    let raw = super::gpu::lavfi_frame(
        &format!("testsrc2=s={width}x{height}:d=1"),
        "",
        format.ffmpeg_name(),
    );
    let mut desc = PictureDesc::packed(width, height, format, color, hdr).unwrap();
    desc.alpha = false;
    Picture::host(desc, vec![raw.into(); format.desc().planes.len()]).unwrap()
}

/// A `width`×`height` testsrc2 frame of 8-bit 4:2:0, tagged as HD is.
pub fn sdr_pattern(width: u32, height: u32) -> Picture {
    pattern(
        width,
        height,
        DecodedFormat::Yuv420p,
        ColorInfo::BT709,
        HdrInfo::SDR,
    )
}

/// BT.2020 PQ, limited range, with a content light level.
pub fn hdr10() -> (ColorInfo, HdrInfo) {
    let color = ColorInfo {
        primaries: ColorPrimaries::Bt2020,
        transfer: TransferCharacteristic::Pq,
        matrix: MatrixCoefficients::Bt2020Ncl,
        range: ColorRange::Limited,
        chroma_location: ChromaLocation::Left,
    };
    let hdr = HdrInfo {
        format: Some(HdrFormat::Pq),
        content_light_level: Some(ContentLightLevel {
            max_cll: 1000,
            max_fall: 400,
        }),
        ..HdrInfo::SDR
    };
    (color, hdr)
}

/// The first frame of `path` in the layout its decoder gives (layouts with
/// alpha, and those the pipeline does not read, become planar 4:2:0 of
/// their depth), described with the track's tags; `None` for a file
/// without a video track stills opens.
pub fn fixture_frame(path: &Path) -> Option<(Picture, SourceGeometry)> {
    let asset = Asset::open(path).ok()?;
    let track = asset.default_video_track().ok()?.clone();
    let name = track.pixel_format.as_deref().unwrap_or("yuv420p");
    let deep = track.bit_depth.is_some_and(|bits| bits > 8);
    let (format, pix_fmt) = match name {
        // A full-range `yuvj420p` track stays as it is, tagged full range.
        "yuvj420p" => (DecodedFormat::Yuv420p, "yuvj420p"),
        _ => match DecodedFormat::from_ffmpeg_name(name) {
            Some(format) if format.desc().alpha.is_none() => (format, name),
            _ if deep => (DecodedFormat::Yuv420p10, "yuv420p10le"),
            _ => (DecodedFormat::Yuv420p, "yuv420p"),
        },
    };
    let raw = ffmpeg(
        &[
            "-i",
            path.to_str()?,
            "-map",
            "0:v:0",
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            pix_fmt,
            "-",
        ],
        None,
    );
    let (w, h) = (track.coded_width, track.coded_height);
    let desc = PictureDesc::packed(w, h, format, track.color, track.hdr)?;
    let picture = Picture::host(desc, vec![raw.into(); format.desc().planes.len()]).ok()?;
    Some((picture, track.geometry()))
}

/// PSNR over the colour samples (`alpha` false) or the alpha samples of
/// two rendered images, at their depth.
pub fn rendered_psnr(a: &RenderedImage, b: &RenderedImage, alpha: bool) -> f64 {
    let (samples_a, samples_b, peak): (Vec<f64>, Vec<f64>, f64) = match a.encoding {
        OutputEncoding::Srgb8 => (
            a.data.iter().map(|&v| f64::from(v)).collect(),
            b.data.iter().map(|&v| f64::from(v)).collect(),
            255.0,
        ),
        OutputEncoding::Pq16 | OutputEncoding::Hlg16 => {
            let wide = |d: &[u8]| {
                d.chunks_exact(2)
                    .map(|s| f64::from(u16::from_le_bytes([s[0], s[1]])))
                    .collect()
            };
            (wide(&a.data), wide(&b.data), 65535.0)
        }
    };
    let (mut total, mut count) = (0.0, 0usize);
    for (i, (x, y)) in samples_a.iter().zip(&samples_b).enumerate() {
        if (i % 4 == 3) == alpha {
            total += (x - y) * (x - y);
            count += 1;
        }
    }
    let mse = total / count as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (peak * peak / mse).log10()
    }
}
