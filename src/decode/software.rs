//! The software backend: FFmpeg's own decoders with frame threading, on
//! the shared [engine](super::engine). Decoded pictures are handed to the
//! pipeline in FFmpeg's buffers (referenced, not copied) when their pixel
//! format is one the pipeline reads, and converted by swscale otherwise.

use std::sync::Arc;

use crate::asset::color::{ColorInfo, ColorRange, HdrInfo};
use crate::asset::{Asset, VideoTrack};
use crate::decode::engine::{Engine, FrameMapper};
use crate::decode::{Backend, BackendKind, Decoder};
use crate::error::{DecodeError, Result, Unsupported};
use crate::ffmpeg::{self, av, FrameRef, Scaler};
use crate::gpu::Interop;
use crate::picture::{DecodedFormat, PictureDesc, PlaneDesc, Scan, MAX_PLANES};
use crate::surface::{Picture, PlaneBytes, PlaneSource};

/// The software backend's mapper: hands decoded pictures over in FFmpeg's
/// own buffers, converting formats the pipeline does not read with
/// swscale.
#[derive(Default)]
pub(crate) struct HostMapper {
    scaler: Option<(ScaleKey, Scaler)>,
}

type ScaleKey = (av::format::Pixel, u32, u32, DecodedFormat);

impl FrameMapper for HostMapper {
    fn host_pictures(&self) -> bool {
        true
    }

    fn map(
        &mut self,
        frame: &av::frame::Video,
        mut color: ColorInfo,
        hdr: HdrInfo,
    ) -> Result<Picture> {
        let format = frame.format();
        let name = format.descriptor().map(|d| d.name()).unwrap_or("none");
        let (width, height) = (frame.width(), frame.height());
        let alpha = crate::ffmpeg::pixel_format_flags(format).alpha;
        if let Some((direct, full_range)) = direct_format(name) {
            let held = FrameRef::new(frame).map_err(|e| DecodeError::Picture {
                what: "holding a decoded picture of",
                format: name.into(),
                cause: e.into(),
            })?;
            // A `yuvj` format is full range whatever the track says.
            if full_range {
                color.range = ColorRange::Full;
            }
            let alpha = alpha && direct.desc().alpha.is_some();
            return share_planes(held, width, height, direct, color, hdr, alpha);
        }
        let target =
            conversion_target(format).ok_or_else(|| Unsupported::PixelFormat(name.into()))?;
        let key = (format, width, height, target);
        let converted_error = |e: av::Error| DecodeError::Picture {
            what: "converting",
            format: name.into(),
            cause: e.into(),
        };
        let scaler = match &mut self.scaler {
            Some((k, scaler)) if *k == key => scaler,
            slot => {
                let dst = av::format::Pixel::from(pixel_of(target));
                let scaler =
                    Scaler::converter(format, dst, width, height).map_err(converted_error)?;
                &mut slot.insert((key, scaler)).1
            }
        };
        let mut converted = av::frame::Video::empty();
        scaler.run(frame, &mut converted).map_err(converted_error)?;
        share_planes(
            FrameRef::owned(converted),
            width,
            height,
            target,
            color,
            hdr,
            alpha && target.desc().alpha.is_some(),
        )
    }
}

/// Formats read as they are, and whether they are full range by their
/// name. JPEG-range `yuvj` formats have the same memory layout as their
/// `yuv` twins and only differ in range.
fn direct_format(name: &str) -> Option<(DecodedFormat, bool)> {
    let full = match name {
        "yuvj420p" => Some(DecodedFormat::Yuv420p),
        "yuvj422p" => Some(DecodedFormat::Yuv422p),
        "yuvj444p" => Some(DecodedFormat::Yuv444p),
        _ => None,
    };
    match full {
        Some(format) => Some((format, true)),
        None => DecodedFormat::from_ffmpeg_name(name).map(|f| (f, false)),
    }
}

/// The readable format closest to one the pipeline cannot read, keeping
/// alpha where the source has it.
fn conversion_target(format: av::format::Pixel) -> Option<DecodedFormat> {
    use DecodedFormat::*;
    let desc = format.descriptor()?;
    let depth = crate::ffmpeg::pixel_format_shape(format)?.0;
    let flags = crate::ffmpeg::pixel_format_flags(format);
    let components = desc.nb_components();
    Some(if flags.rgb || (flags.alpha && components == 2) {
        // RGB, and gray with alpha (`ya8`, `ya16`), which swscale widens
        // to RGB exactly.
        match (depth, flags.alpha) {
            (0..=8, _) => Rgba8,
            (_, true) => Gbrap16,
            (_, false) => Gbrp16,
        }
    } else if flags.alpha {
        let sub = (desc.log2_chroma_w(), desc.log2_chroma_h());
        match (depth, sub) {
            (0..=8, (1, 1)) => Yuva420p,
            (0..=8, (1, 0)) => Yuva422p,
            (0..=8, _) => Yuva444p,
            _ => Yuva444p16,
        }
    } else if components <= 2 {
        match depth {
            0..=8 => Gray8,
            9..=10 => Gray10,
            11..=12 => Gray12,
            _ => Gray16,
        }
    } else {
        let sub = (desc.log2_chroma_w(), desc.log2_chroma_h());
        match (depth, sub) {
            (0..=8, (1, 1)) => Yuv420p,
            (0..=8, (1, 0)) => Yuv422p,
            (0..=8, _) => Yuv444p,
            (9..=10, (1, 1)) => Yuv420p10,
            (9..=10, (1, 0)) => Yuv422p10,
            (9..=10, _) => Yuv444p10,
            (11..=12, (1, 1)) => Yuv420p12,
            (11..=12, (1, 0)) => Yuv422p12,
            (11..=12, _) => Yuv444p12,
            (_, (1, 1)) => Yuv420p16,
            (_, (1, 0)) => Yuv422p16,
            _ => Yuv444p16,
        }
    })
}

fn pixel_of(format: DecodedFormat) -> av::ffi::AVPixelFormat {
    crate::ffmpeg::pixel_by_name(format.ffmpeg_name())
}

/// The planes of one picture, handed over without copying its pixels.
struct FramePlane {
    frame: Arc<FrameRef>,
    index: usize,
}

impl PlaneSource for FramePlane {
    fn bytes(&self) -> &[u8] {
        self.frame.frame().data(self.index)
    }
}

fn share_planes(
    frame: FrameRef,
    width: u32,
    height: u32,
    format: DecodedFormat,
    color: ColorInfo,
    hdr: HdrInfo,
    alpha: bool,
) -> Result<Picture> {
    let count = format.desc().planes.len();
    let available = frame.frame().planes();
    if available < count {
        return Err(DecodeError::Picture {
            what: "reading the planes of",
            format: format.ffmpeg_name().into(),
            cause: av::Error::InvalidData.into(),
        }
        .into());
    }
    let mut planes = [PlaneDesc::default(); MAX_PLANES];
    for (index, plane) in planes.iter_mut().enumerate().take(count) {
        plane.pitch = frame.frame().stride(index) as u64;
    }
    let desc = PictureDesc {
        width,
        height,
        format,
        planes,
        color,
        hdr,
        alpha,
        scan: Scan::Progressive,
    };
    let frame = Arc::new(frame);
    let bytes = (0..count)
        .map(|index| {
            PlaneBytes::new(FramePlane {
                frame: frame.clone(),
                index,
            })
        })
        .collect();
    Ok(Picture::host(desc, bytes).map_err(DecodeError::from)?)
}

/// FFmpeg's software decoders: always built, serving every codec this
/// FFmpeg has a decoder for.
pub(crate) struct Software;

impl Backend for Software {
    fn kind(&self) -> BackendKind {
        BackendKind::Software
    }

    fn status(&self, track: Option<&VideoTrack>, _gpu: Option<&Interop>) -> (bool, String) {
        match track {
            Some(t) => match ffmpeg::decoder_name(&t.codec) {
                Some(name) => (true, format!("FFmpeg decoder '{name}'")),
                None => (
                    false,
                    format!("this FFmpeg has no decoder for '{}'", t.codec),
                ),
            },
            None => (true, format!("FFmpeg {}", ffmpeg::version())),
        }
    }

    fn open(
        &self,
        asset: &Asset,
        track: &VideoTrack,
        threads: usize,
        _gpu: Option<&Interop>,
    ) -> Result<Box<dyn Decoder>> {
        let engine = Engine::open(asset.source(), track, threads, HostMapper::default())?;
        Ok(Box::new(engine))
    }
}
