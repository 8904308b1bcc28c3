//! The software backend: FFmpeg's decoders with frame threading, fed one
//! planned run at a time.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::asset::index::FrameIndex;
use crate::asset::track::{parse_content_light, parse_mastering_display};
use crate::asset::VideoTrack;
use crate::decode::frame::{DecodedFrame, Surface};
use crate::decode::{BackendKind, Decoder};
use crate::error::{Error, Result};
use crate::ffmpeg::{av, Demuxer, FrameRef, Scaler, Source};
use crate::plan::{Run, Target};
use crate::surface::{HostFrame, PixelLayout, Plane, PlaneBytes, PlaneSource};

/// A gap this small (in packets) between where the demuxer is and where the
/// next run starts is read through rather than sought across: demuxing a
/// few packets is cheaper than a seek.
const READ_THROUGH_PACKETS: usize = 48;

/// How many earlier sync packets a seek falls back through when the demuxer
/// keeps landing past the wanted one, before reading from the start.
const SEEK_ATTEMPTS: usize = 4;

pub struct SoftwareDecoder {
    source: Source,
    stream: usize,
    threads: usize,
    index: Arc<FrameIndex>,
    demuxer: Demuxer,
    decoder: av::decoder::Video,
    /// Index position of the next packet `next_packet` returns; `None` right
    /// after a seek, until a packet is recognised by its timestamp.
    position: Option<usize>,
    /// A packet read ahead while finding where a seek landed.
    pending: Option<(usize, av::Packet)>,
    /// Decode position of each packet by its stream pts.
    by_pts: HashMap<i64, usize>,
    converter: Converter,
}

impl SoftwareDecoder {
    /// Opens a decoder for `track` with `threads` decoding threads (0 lets
    /// FFmpeg choose).
    pub fn open(
        source: &Source,
        track: &VideoTrack,
        index: Arc<FrameIndex>,
        threads: usize,
    ) -> Result<SoftwareDecoder> {
        let (demuxer, decoder) = open_decoder(source, track.index, threads)?;
        let by_pts = index
            .packets
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((p.pts? + index.timeline_offset, i)))
            .collect();
        Ok(SoftwareDecoder {
            source: source.clone(),
            stream: track.index,
            threads,
            index,
            demuxer,
            decoder,
            position: Some(0),
            pending: None,
            by_pts,
            converter: Converter::default(),
        })
    }

    /// The next packet of the track with its index position (`None` while
    /// the position is unknown after a seek).
    fn next_packet(&mut self) -> Result<Option<(Option<usize>, av::Packet)>> {
        if let Some((pos, packet)) = self.pending.take() {
            self.position = Some(pos + 1);
            return Ok(Some((Some(pos), packet)));
        }
        loop {
            let read = self
                .demuxer
                .read_packet()
                .map_err(|e| Error::DecodeFailed(format!("reading packets: {e}")))?;
            let Some((info, packet)) = read else {
                return Ok(None);
            };
            if info.stream != self.stream {
                continue;
            }
            let pos = match self.position {
                Some(p) => Some(p),
                None => info.pts.and_then(|t| self.by_pts.get(&t).copied()),
            };
            self.position = pos.map(|p| p + 1);
            return Ok(Some((pos, packet)));
        }
    }

    /// Arranges for the next packet returned to be the one at `target`.
    fn position_at(&mut self, target: usize) -> Result<()> {
        if let Some(pos) = self.position {
            if pos <= target && target - pos <= READ_THROUGH_PACKETS && self.read_up_to(target)? {
                return Ok(());
            }
        }
        let syncs: Vec<usize> = (0..=target)
            .rev()
            .filter(|&i| self.index.packets[i].sync && self.index.packets[i].pts.is_some())
            .take(SEEK_ATTEMPTS)
            .collect();
        for sync in syncs {
            let ts = self.index.packets[sync].pts.unwrap_or(0) + self.index.timeline_offset;
            if self.demuxer.seek_stream(self.stream, ts).is_err() {
                break;
            }
            self.position = None;
            self.pending = None;
            if self.read_up_to(target)? {
                return Ok(());
            }
        }
        // Not seekable here, or every seek overshot: read from the start.
        let (demuxer, decoder) = open_decoder(&self.source, self.stream, self.threads)?;
        self.demuxer = demuxer;
        self.decoder = decoder;
        self.position = Some(0);
        self.pending = None;
        if self.read_up_to(target)? {
            Ok(())
        } else {
            Err(Error::DecodeFailed(format!(
                "packet {target} of track {} was not found on re-reading the file",
                self.stream
            )))
        }
    }

    /// Reads packets until the next one is `target`; `false` when the
    /// demuxer is past it or the data ends first.
    fn read_up_to(&mut self, target: usize) -> Result<bool> {
        loop {
            match self.position {
                Some(p) if p == target => return Ok(true),
                Some(p) if p > target => return Ok(false),
                _ => {}
            }
            let Some((pos, packet)) = self.next_packet()? else {
                return Ok(false);
            };
            if pos == Some(target) {
                self.pending = Some((target, packet));
                self.position = Some(target);
                return Ok(true);
            }
            if pos.is_some_and(|p| p > target) {
                return Ok(false);
            }
        }
    }

    /// Decodes `run`, marking in `delivered` each target handed over, so
    /// that on an error the caller knows which targets still wait.
    fn run_inner(
        &mut self,
        run: &Run,
        cancelled: &dyn Fn() -> bool,
        delivered: &mut [bool],
        deliver: &mut dyn FnMut(&Target, Result<DecodedFrame>),
    ) -> Result<()> {
        self.position_at(run.start())?;
        let offset = self.index.timeline_offset;
        let by_pts: HashMap<i64, usize> = run
            .targets()
            .iter()
            .enumerate()
            .map(|(i, t)| (t.pts + offset, i))
            .collect();
        let target_packets: HashSet<usize> = run.targets().iter().map(|t| t.packet).collect();
        let mut remaining = run.targets().len();
        let mut last_error: Option<String> = None;
        let mut frame = av::frame::Video::empty();
        let mut fed = run.start();
        while fed <= run.end() && remaining > 0 {
            if cancelled() {
                return Err(Error::Cancelled);
            }
            let Some((pos, mut packet)) = self.next_packet()? else {
                break;
            };
            let pos = pos.unwrap_or(fed);
            fed = pos + 1;
            if packet.pts().is_none() {
                // A stream without timestamps (raw H.264) got its times from
                // the index; the decoder carries them to the picture.
                let pts = self.index.packets.get(pos).and_then(|p| p.pts);
                packet.set_pts(pts.map(|p| p + offset));
            }
            let wanted = target_packets.contains(&pos);
            self.decoder.skip_frame(if wanted {
                av::Discard::Default
            } else {
                av::Discard::NonReference
            });
            if let Err(e) = self.decoder.send_packet(&packet) {
                last_error = Some(e.to_string());
            }
            remaining -= self.receive(&mut frame, &by_pts, run, delivered, deliver);
        }
        if remaining > 0 {
            // The last targets are still in the decoder's reorder buffer.
            self.decoder.send_eof().ok();
            remaining -= self.receive(&mut frame, &by_pts, run, delivered, deliver);
        }
        self.decoder.flush();
        if remaining > 0 {
            let why = last_error.unwrap_or_else(|| "the decoder produced no picture for it".into());
            for (i, target) in run.targets().iter().enumerate() {
                if !delivered[i] {
                    delivered[i] = true;
                    deliver(
                        target,
                        Err(Error::DecodeFailed(format!(
                            "frame at tick {} of track {}: {why}",
                            target.pts, self.stream
                        ))),
                    );
                }
            }
        }
        Ok(())
    }

    /// Takes every picture the decoder has ready, handing over targets.
    /// Returns how many targets were delivered.
    fn receive(
        &mut self,
        frame: &mut av::frame::Video,
        by_pts: &HashMap<i64, usize>,
        run: &Run,
        delivered: &mut [bool],
        deliver: &mut dyn FnMut(&Target, Result<DecodedFrame>),
    ) -> usize {
        let mut count = 0;
        while self.decoder.receive_frame(frame).is_ok() {
            let Some(pts) = frame.pts().or(frame.timestamp()) else {
                continue;
            };
            let Some(&i) = by_pts.get(&pts) else {
                continue;
            };
            if delivered[i] {
                continue;
            }
            delivered[i] = true;
            count += 1;
            let target = &run.targets()[i];
            let result = self
                .converter
                .host_frame(frame)
                .map(|(host, full_range)| DecodedFrame {
                    pts: target.pts,
                    surface: Surface::Host(host),
                    full_range,
                    mastering_display: frame
                        .side_data(av::frame::side_data::Type::MasteringDisplayMetadata)
                        .and_then(|d| parse_mastering_display(d.data())),
                    content_light_level: frame
                        .side_data(av::frame::side_data::Type::ContentLightLevel)
                        .and_then(|d| parse_content_light(d.data())),
                });
            deliver(target, result);
        }
        count
    }
}

impl Decoder for SoftwareDecoder {
    fn backend(&self) -> BackendKind {
        BackendKind::Software
    }

    fn decode_run(
        &mut self,
        run: &Run,
        cancelled: &dyn Fn() -> bool,
        deliver: &mut dyn FnMut(&Target, Result<DecodedFrame>),
    ) {
        let mut delivered = vec![false; run.targets().len()];
        if let Err(e) = self.run_inner(run, cancelled, &mut delivered, deliver) {
            // Leave the decoder clean for the next run whatever happened.
            self.decoder.flush();
            self.position = None;
            self.pending = None;
            for (target, _) in run.targets().iter().zip(&delivered).filter(|(_, &d)| !d) {
                deliver(target, Err(e.clone()));
            }
        }
    }
}

fn open_decoder(
    source: &Source,
    stream: usize,
    threads: usize,
) -> Result<(Demuxer, av::decoder::Video)> {
    let failed = |what: &str, e: av::Error| Error::DecodeFailed(format!("{what}: {e}"));
    let mut demuxer = Demuxer::open(source).map_err(|f| failed("reopening the source", f.code))?;
    demuxer.discard_all_but(stream);
    let params = demuxer
        .input
        .stream(stream)
        .ok_or_else(|| Error::DecodeFailed(format!("stream {stream} vanished on reopening")))?
        .parameters();
    let mut context = av::codec::Context::from_parameters(params)
        .map_err(|e| failed("reading codec parameters", e))?;
    context.set_threading(av::codec::threading::Config {
        kind: av::codec::threading::Type::Frame,
        count: threads,
        ..Default::default()
    });
    // Output pictures the H.264 decoder has not marked "recovered": after
    // a seek to an open-GOP I-frame it marks every picture decoded before
    // that I-frame is output as not recovered, and drops them when a run
    // ends with a drain. The planner only targets frames whose start
    // guarantees a correct decode, so nothing broken reaches a caller.
    context.set_flags(av::codec::Flags::OUTPUT_CORRUPT);
    let decoder = context.decoder().video().map_err(|e| match e {
        av::Error::DecoderNotFound => {
            Error::Unsupported(format!("this FFmpeg has no decoder for stream {stream}"))
        }
        e => failed("opening the decoder", e),
    })?;
    Ok((demuxer, decoder))
}

/// Copies decoded pictures out of FFmpeg's buffers into a [`HostFrame`],
/// converting formats the pipeline does not read with swscale.
#[derive(Default)]
struct Converter {
    scaler: Option<(ScaleKey, Scaler)>,
}

type ScaleKey = (av::format::Pixel, u32, u32, PixelLayout);

impl Converter {
    /// The picture as host planes, and whether it is full range by its
    /// pixel format.
    fn host_frame(&mut self, frame: &av::frame::Video) -> Result<(HostFrame, bool)> {
        let format = frame.format();
        let name = format.descriptor().map(|d| d.name()).unwrap_or("none");
        let (width, height) = (frame.width(), frame.height());
        if let Some((layout, full_range)) = direct_layout(name) {
            let held = FrameRef::new(frame)
                .map_err(|e| Error::DecodeFailed(format!("holding a decoded picture: {e}")))?;
            return Ok((share_planes(held, width, height, layout)?, full_range));
        }
        let layout = conversion_target(format).ok_or_else(|| {
            Error::Unsupported(format!("pixel format '{name}' has no conversion path"))
        })?;
        let key = (format, width, height, layout);
        if self.scaler.as_ref().map(|(k, _)| *k) != Some(key) {
            let dst = av::format::Pixel::from(pixel_of(layout));
            let scaler = Scaler::converter(format, dst, width, height).map_err(|e| {
                Error::Unsupported(format!(
                    "converting '{name}' to {}: {e}",
                    layout.ffmpeg_name()
                ))
            })?;
            self.scaler = Some((key, scaler));
        }
        let (_, scaler) = self.scaler.as_mut().expect("scaler was just set");
        let mut converted = av::frame::Video::empty();
        scaler
            .run(frame, &mut converted)
            .map_err(|e| Error::DecodeFailed(format!("converting '{name}': {e}")))?;
        Ok((
            share_planes(FrameRef::owned(converted), width, height, layout)?,
            false,
        ))
    }
}

/// Formats read as they are. JPEG-range `yuvj` formats have the same memory
/// layout as their `yuv` twins and only differ in range.
fn direct_layout(name: &str) -> Option<(PixelLayout, bool)> {
    let full = match name {
        "yuvj420p" => Some(PixelLayout::Yuv420p),
        "yuvj422p" => Some(PixelLayout::Yuv422p),
        "yuvj444p" => Some(PixelLayout::Yuv444p),
        _ => None,
    };
    match full {
        Some(layout) => Some((layout, true)),
        None => PixelLayout::from_ffmpeg_name(name).map(|l| (l, false)),
    }
}

/// The readable layout closest to a format the pipeline cannot read.
fn conversion_target(format: av::format::Pixel) -> Option<PixelLayout> {
    use PixelLayout::*;
    let desc = format.descriptor()?;
    let depth = crate::ffmpeg::pixel_format_shape(format)?.0;
    let flags = crate::ffmpeg::pixel_format_flags(format);
    let components = desc.nb_components();
    Some(if flags.rgb {
        if depth <= 8 {
            Rgba8
        } else {
            Gbrp16
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

fn pixel_of(layout: PixelLayout) -> av::ffi::AVPixelFormat {
    crate::ffmpeg::pixel_by_name(layout.ffmpeg_name())
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
    layout: PixelLayout,
) -> Result<HostFrame> {
    let count = layout.desc().planes.len();
    let available = frame.frame().planes();
    if available < count {
        return Err(Error::DecodeFailed(format!(
            "decoded picture has {available} planes, {} needs {count}",
            layout.ffmpeg_name()
        )));
    }
    let strides: Vec<usize> = (0..count).map(|i| frame.frame().stride(i)).collect();
    let frame = Arc::new(frame);
    let planes = strides
        .into_iter()
        .enumerate()
        .map(|(index, stride)| Plane {
            data: PlaneBytes::new(FramePlane {
                frame: frame.clone(),
                index,
            }),
            stride,
        })
        .collect();
    HostFrame::new(width, height, layout, planes)
        .map_err(|e| Error::DecodeFailed(format!("decoded picture: {e}")))
}
