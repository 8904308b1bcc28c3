//! The FFmpeg decode engine every FFmpeg-based backend shares: it opens the
//! track, seeks (falling back through earlier sync packets when the demuxer
//! overshoots, and to reading from the start when nothing else lands),
//! feeds each planned run in decode order with pictures nothing needs
//! skipped, and matches what comes out to the run's targets. Runs count
//! packets within one part of the track's index (the whole track, or a
//! stretch read where requests fell); the engine recognises where the
//! demuxer stands by the presentation times of that part's packets. A backend
//! supplies only a [`FrameMapper`]: how the codec context is set up for it
//! (a hardware device) and how a decoded `AVFrame` becomes a [`Picture`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::asset::color::{ColorInfo, HdrInfo};
use crate::asset::{FrameIndex, IndexSnapshot, VideoTrack};
use crate::decode::frame::DecodedFrame;
use crate::decode::Decoder;
use crate::error::{DecodeError, Error, FfmpegError, Result, Unsupported};
use crate::ffmpeg::{self, av, Demuxer, Source};
use crate::picture::Scan;
use crate::plan::{Run, Target};
use crate::surface::Picture;

/// A gap this small (in packets) between where the demuxer is and where the
/// next run starts is read through rather than sought across: demuxing a
/// few packets is cheaper than a seek.
const READ_THROUGH_PACKETS: usize = 48;

/// How many earlier sync packets a seek falls back through when the demuxer
/// keeps landing past the wanted one, before reading from the start.
const SEEK_ATTEMPTS: usize = 4;

/// How far before the earliest of those a seek then asks, in seconds, one
/// after another: a part read where requests fell may hold a single sync
/// packet, and a demuxer that seeks by decode time (MPEG-TS) can land a
/// few packets past it.
const SEEK_BACK_SECONDS: [i64; 3] = [1, 8, 64];

/// What one backend adds to the engine.
///
/// # For implementations
/// `configure` runs on every codec context before it is opened (the engine
/// opens a new one when it has to read from the start again); `map` is
/// called once per target picture, on the thread that owns the decoder, and
/// its [`Picture`] must keep whatever the frame's memory belongs to alive
/// (an `av_frame_ref`) for as long as the picture lives.
pub(crate) trait FrameMapper {
    /// Sets the codec context up for this backend before it is opened.
    fn configure(&mut self, _context: &mut av::codec::Context) -> Result<()> {
        Ok(())
    }

    /// Whether [`map`](Self::map) makes host pictures, cheap to hold: only
    /// then does the engine keep the picture shown before an interlaced
    /// target for the motion-adaptive deinterlacer (holding a hardware
    /// surface would take one from the decoder's fixed pool, and mapping
    /// it costs an export or a copy).
    fn host_pictures(&self) -> bool {
        false
    }

    /// Why `frame` was decoded in software although this backend is a
    /// hardware one (see [`DecodedFrame::fallback`]); `None` otherwise.
    fn software_fallback(&self, _frame: &av::frame::Video) -> Option<String> {
        None
    }

    /// The decoded picture `frame` holds, described with `color` and `hdr`
    /// (the track's, with the bitstream's HDR metadata merged in), progressive:
    /// the engine sets [`PictureDesc::scan`](crate::picture::PictureDesc::scan) from the frame.
    fn map(&mut self, frame: &av::frame::Video, color: ColorInfo, hdr: HdrInfo) -> Result<Picture>;
}

/// An FFmpeg decoder for one track, driven one planned run at a time.
pub(crate) struct Engine<M: FrameMapper> {
    source: Source,
    stream: usize,
    threads: usize,
    /// The part of the index positions count in (an empty one before the
    /// first run), and whether it begins with the track's first packet.
    part: Arc<FrameIndex>,
    part_starts_track: bool,
    color: ColorInfo,
    hdr: HdrInfo,
    demuxer: Demuxer,
    decoder: av::decoder::Video,
    /// Nothing has been read since the demuxer was opened: the next packet
    /// is the track's first.
    at_start: bool,
    /// Position in the part of the next packet `next_packet` returns;
    /// `None` right after a seek or a change of part, until a keyframe is
    /// recognised by its timestamp.
    position: Option<usize>,
    /// A packet read ahead while finding where a seek landed.
    pending: Option<(usize, av::Packet)>,
    /// Position in the part of each packet by its stream pts.
    by_pts: HashMap<i64, usize>,
    mapper: M,
    /// Time spent since the last picture handed over, charged to the next.
    spent: Spent,
}

/// Demuxing and decoding time not yet charged to a picture.
#[derive(Debug, Default, Clone, Copy)]
struct Spent {
    demux: Duration,
    decode: Duration,
}

impl<M: FrameMapper> Engine<M> {
    /// Opens a decoder for `track` with `threads` decoding threads (0 lets
    /// FFmpeg choose).
    pub fn open(
        source: &Source,
        track: &VideoTrack,
        threads: usize,
        mut mapper: M,
    ) -> Result<Engine<M>> {
        let (demuxer, decoder) = open_decoder(source, track.index, threads, &mut mapper)?;
        Ok(Engine {
            source: source.clone(),
            stream: track.index,
            threads,
            part: Arc::new(FrameIndex {
                time_base: track.time_base,
                timeline_offset: 0,
                packets: Vec::new(),
                presentation: Vec::new(),
                end: 0,
            }),
            part_starts_track: false,
            color: track.color,
            hdr: track.hdr,
            demuxer,
            decoder,
            at_start: true,
            position: None,
            pending: None,
            by_pts: HashMap::new(),
            mapper,
            spent: Spent::default(),
        })
    }

    /// Makes `part` the one positions count in. The demuxer's position is
    /// kept when the part is the same; in another part it is known only
    /// when nothing has been read yet and the part starts the track.
    fn enter(&mut self, part: &Arc<FrameIndex>, starts_track: bool) {
        if Arc::ptr_eq(&self.part, part) {
            return;
        }
        self.by_pts = part
            .packets
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((p.pts? + part.timeline_offset, i)))
            .collect();
        self.part = part.clone();
        self.part_starts_track = starts_track;
        self.pending = None;
        self.position = (self.at_start && starts_track).then_some(0);
    }

    fn index(&self) -> &FrameIndex {
        &self.part
    }

    /// The next packet of the track with its index position (`None` while
    /// the position is unknown after a seek).
    fn next_packet(&mut self) -> Result<Option<(Option<usize>, av::Packet)>> {
        if let Some((pos, packet)) = self.pending.take() {
            self.position = Some(pos + 1);
            return Ok(Some((Some(pos), packet)));
        }
        loop {
            let clock = Instant::now();
            let read = self.demuxer.read_packet();
            self.spent.demux += clock.elapsed();
            let read = read.map_err(|e| DecodeError::Demux(e.into()))?;
            let Some((info, packet)) = read else {
                return Ok(None);
            };
            if info.stream != self.stream {
                continue;
            }
            self.at_start = false;
            let pos = match self.position {
                Some(p) => Some(p),
                // Where a seek landed is told by a whole keyframe: a
                // demuxer that parses its stream (MPEG-PS) can hand out a
                // piece of a picture with that picture's time right after
                // a seek, and counting from it would be off by one.
                None => info
                    .pts
                    .filter(|_| info.key)
                    .and_then(|t| self.by_pts.get(&t).copied())
                    .filter(|&p| self.index().packets.get(p).is_some_and(|e| e.sync)),
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
        let index = self.index();
        let syncs: Vec<(usize, i64)> = (0..=target.min(index.packets.len().saturating_sub(1)))
            .rev()
            .filter_map(|i| {
                let p = index.packets[i];
                Some((i, p.pts.filter(|_| p.sync)? + index.timeline_offset))
            })
            .take(SEEK_ATTEMPTS)
            .collect();
        let ticks_per_second = (index.time_base.den / index.time_base.num.max(1)).max(1);
        let earliest = syncs.last().map(|&(_, ts)| ts);
        let back = SEEK_BACK_SECONDS
            .iter()
            .filter_map(|&s| Some(earliest?.saturating_sub(s * ticks_per_second)));
        let tries: Vec<i64> = syncs.iter().map(|&(_, ts)| ts).chain(back).collect();
        for ts in tries {
            let clock = Instant::now();
            let sought = self.demuxer.seek_stream(self.stream, ts);
            self.spent.demux += clock.elapsed();
            if sought.is_err() {
                break;
            }
            self.position = None;
            self.pending = None;
            if self.read_up_to(target)? {
                return Ok(());
            }
        }
        // Not seekable here, or every seek overshot: read from the start.
        let (demuxer, decoder) =
            open_decoder(&self.source, self.stream, self.threads, &mut self.mapper)?;
        self.demuxer = demuxer;
        self.decoder = decoder;
        self.at_start = true;
        self.position = self.part_starts_track.then_some(0);
        self.pending = None;
        if self.read_up_to(target)? {
            Ok(())
        } else {
            Err(DecodeError::PacketNotFound {
                track: self.stream,
                packet: target,
            }
            .into())
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
        index: &IndexSnapshot,
        run: &Run,
        previous: bool,
        cancelled: &dyn Fn() -> bool,
        delivered: &mut [bool],
        deliver: &mut dyn FnMut(&Target, Result<DecodedFrame>),
    ) -> Result<()> {
        self.spent = Spent::default();
        let part = index
            .parts
            .get(run.part())
            .ok_or(DecodeError::PacketNotFound {
                track: self.stream,
                packet: run.start(),
            })?;
        self.enter(&part.index, part.bounds.starts_track);
        self.position_at(run.start())?;
        let offset = self.index().timeline_offset;
        let by_pts: HashMap<i64, usize> = run
            .targets()
            .iter()
            .enumerate()
            .map(|(i, t)| (t.pts + offset, i))
            .collect();
        let target_packets: HashSet<usize> = run.targets().iter().map(|t| t.packet).collect();
        let mut before = Before::new(if previous && self.mapper.host_pictures() {
            shown_before(self.index(), run, offset)
        } else {
            vec![None; run.targets().len()]
        });
        let mut remaining = run.targets().len();
        let mut last_error: Option<FfmpegError> = None;
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
                let pts = self.index().packets.get(pos).and_then(|p| p.pts);
                packet.set_pts(pts.map(|p| p + offset));
            }
            let wanted = target_packets.contains(&pos);
            self.decoder.skip_frame(if wanted {
                av::Discard::Default
            } else {
                av::Discard::NonReference
            });
            let clock = Instant::now();
            let sent = self.decoder.send_packet(&packet);
            self.spent.decode += clock.elapsed();
            if let Err(e) = sent {
                last_error = Some(e.into());
            }
            remaining -= self.receive(&mut frame, &by_pts, run, &mut before, delivered, deliver);
        }
        if remaining > 0 {
            // The last targets are still in the decoder's reorder buffer.
            let clock = Instant::now();
            self.decoder.send_eof().ok();
            self.spent.decode += clock.elapsed();
            remaining -= self.receive(&mut frame, &by_pts, run, &mut before, delivered, deliver);
        }
        self.decoder.flush();
        if remaining > 0 {
            for (i, target) in run.targets().iter().enumerate() {
                if !delivered[i] {
                    delivered[i] = true;
                    let lost = DecodeError::NoPicture {
                        track: self.stream,
                        pts: target.pts,
                        cause: last_error.clone(),
                    };
                    deliver(target, Err(lost.into()));
                }
            }
        }
        Ok(())
    }

    /// Takes every picture the decoder has ready, handing over targets
    /// (each with the picture shown before it, where `before` kept it).
    /// Returns how many targets were delivered.
    fn receive(
        &mut self,
        frame: &mut av::frame::Video,
        by_pts: &HashMap<i64, usize>,
        run: &Run,
        before: &mut Before,
        delivered: &mut [bool],
        deliver: &mut dyn FnMut(&Target, Result<DecodedFrame>),
    ) -> usize {
        let mut count = 0;
        let mut clock = Instant::now();
        while self.decoder.receive_frame(frame).is_ok() {
            let Some(pts) = frame.pts().or(frame.timestamp()) else {
                continue;
            };
            let scan = ffmpeg::frame_scan(frame);
            let keep = before.wanted(pts, scan);
            let Some(&i) = by_pts.get(&pts).filter(|&&i| !delivered[i]) else {
                if keep {
                    // Shown just before a target: held (a reference to the
                    // decoder's buffer) until that target comes out.
                    let kept = self.mapper.map(frame, self.color, self.hdr).ok();
                    before.keep(pts, kept);
                }
                continue;
            };
            delivered[i] = true;
            count += 1;
            let target = &run.targets()[i];
            // The container's HDR metadata wins; the bitstream's fills the
            // gaps.
            let (mastering, light) = ffmpeg::frame_hdr_metadata(frame);
            let mut hdr = self.hdr;
            hdr.mastering_display = hdr.mastering_display.or(mastering);
            hdr.content_light_level = hdr.content_light_level.or(light);
            // Mappers describe the planes; whether this picture's fields
            // are of two instants is the decoder's word for each frame.
            let picture = self.mapper.map(frame, self.color, hdr).map(|mut p| {
                p.desc.scan = scan;
                p
            });
            let fallback = self.mapper.software_fallback(frame);
            self.spent.decode += clock.elapsed();
            let spent = std::mem::take(&mut self.spent);
            let previous = before.take(i, scan);
            if keep {
                before.keep(pts, picture.as_ref().ok().and_then(Picture::share_host));
            }
            let result = picture.map(|picture| DecodedFrame {
                pts: target.pts,
                picture,
                previous,
                demux: spent.demux,
                decode: spent.decode,
                fallback,
            });
            deliver(target, result);
            clock = Instant::now();
        }
        self.spent.decode += clock.elapsed();
        count
    }
}

impl<M: FrameMapper> Decoder for Engine<M> {
    fn decode_run(
        &mut self,
        index: &IndexSnapshot,
        run: &Run,
        previous: bool,
        cancelled: &dyn Fn() -> bool,
        deliver: &mut dyn FnMut(&Target, Result<DecodedFrame>),
    ) {
        let mut delivered = vec![false; run.targets().len()];
        if let Err(e) = self.run_inner(index, run, previous, cancelled, &mut delivered, deliver) {
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

/// The frame pts (on the decoder's clock: index pts plus `offset`) of the
/// picture shown just before each of `run`'s targets, where the run feeds
/// its packet: not the seek's sync packet's predecessors, nor packets past
/// the run's end. `None` for a target shown first after the seek (a
/// keyframe request) or whose predecessor lies outside the run. A fed
/// non-reference picture nothing targets is still skipped by the decoder:
/// nothing comes out at its time, and its target is deinterlaced
/// spatially.
fn shown_before(index: &FrameIndex, run: &Run, offset: i64) -> Vec<Option<i64>> {
    let pts_of = |i: &u32| index.packets.get(*i as usize).and_then(|p| p.pts);
    let fed = run.start()..=run.end();
    run.targets()
        .iter()
        .map(|target| {
            let at = index
                .presentation
                .partition_point(|i| pts_of(i).is_some_and(|pts| pts < target.pts));
            let &packet = index.presentation.get(at.checked_sub(1)?)?;
            fed.contains(&(packet as usize))
                .then(|| pts_of(&packet).map(|pts| pts + offset))
                .flatten()
        })
        .collect()
}

/// The picture shown before each target of a run, for the motion-adaptive
/// deinterlacer: which frames to keep, and the one kept. At most one
/// picture is held, the latest decoded that some target shows after; it is
/// handed to that target only if both are interlaced.
struct Before {
    /// By target: the frame pts of the picture shown before it.
    pts: Vec<Option<i64>>,
    kept: Option<(i64, Picture)>,
}

impl Before {
    fn new(pts: Vec<Option<i64>>) -> Before {
        Before { pts, kept: None }
    }

    /// Whether the frame at `pts`, of `scan`, is to be kept: shown just
    /// before a target, and interlaced.
    fn wanted(&self, pts: i64, scan: Scan) -> bool {
        scan.first_field().is_some() && self.pts.contains(&Some(pts))
    }

    /// Holds `picture` (at `pts`) in place of the one held, if any.
    fn keep(&mut self, pts: i64, picture: Option<Picture>) {
        self.kept = picture.map(|p| (pts, p));
    }

    /// The picture shown before target `i`, of `scan`, if it is held and
    /// the target is interlaced; it is released either way.
    fn take(&mut self, i: usize, scan: Scan) -> Option<Picture> {
        let wanted = self.pts.get(i).copied().flatten();
        let (pts, picture) = self.kept.take()?;
        (scan.first_field().is_some() && Some(pts) == wanted).then_some(picture)
    }
}

fn open_decoder(
    source: &Source,
    stream: usize,
    threads: usize,
    mapper: &mut impl FrameMapper,
) -> Result<(Demuxer, av::decoder::Video)> {
    let mut demuxer = Demuxer::open(source).map_err(|f| DecodeError::Reopen(f.code.into()))?;
    demuxer.discard_all_but(stream);
    let av_stream = demuxer
        .input
        .stream(stream)
        .ok_or(DecodeError::StreamVanished(stream))?;
    let alpha_decoder = ffmpeg::alpha_decoder(&av_stream);
    let params = av_stream.parameters();
    let codec = params.id();
    let mut context = av::codec::Context::from_parameters(params)
        .map_err(|e| DecodeError::OpenDecoder(e.into()))?;
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
    ffmpeg::limit_decoded_pixels(&mut context, source.bounds.max_decoded_pixels);
    mapper.configure(&mut context)?;
    let opened = match alpha_decoder {
        Some(alpha) => context.decoder().open_as(alpha).and_then(|d| d.video()),
        None => context.decoder().video(),
    };
    let decoder = opened.map_err(|e| match e {
        av::Error::DecoderNotFound => Error::from(Unsupported::NoDecoder {
            stream,
            codec: format!("{codec:?}").to_lowercase(),
        }),
        e => DecodeError::OpenDecoder(e.into()).into(),
    })?;
    Ok((demuxer, decoder))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::IndexEntry;
    use crate::plan::{Planner, Request};
    use crate::ratio::Ratio;

    /// Packets in decode order as (pts, sync), every one shown.
    fn index(packets: &[(i64, bool)]) -> FrameIndex {
        let packets: Vec<IndexEntry> = packets
            .iter()
            .map(|&(pts, sync)| IndexEntry {
                pts: Some(pts),
                duration: 1,
                sync,
                shown: true,
            })
            .collect();
        let mut presentation: Vec<u32> = (0..packets.len() as u32).collect();
        presentation.sort_by_key(|&i| packets[i as usize].pts);
        FrameIndex {
            time_base: Ratio { num: 1, den: 25 },
            timeline_offset: 0,
            end: packets.iter().filter_map(|p| p.pts).max().unwrap_or(0) + 1,
            packets,
            presentation,
        }
    }

    fn before(index: &FrameIndex, targets: &[i64], offset: i64) -> Vec<Vec<Option<i64>>> {
        let requests: Vec<Request> = targets.iter().map(|&t| Request::exact(t)).collect();
        Planner::new(index)
            .plan(&requests)
            .decode
            .runs()
            .iter()
            .map(|run| shown_before(index, run, offset))
            .collect()
    }

    #[test]
    fn the_picture_shown_before_a_target_is_one_the_run_decodes() {
        // I0 P3 B1 B2 | I6 P7: B-pictures decoded after the P-picture
        // they are shown before.
        let gop = index(&[
            (0, true),
            (3, false),
            (1, false),
            (2, false),
            (6, true),
            (7, false),
        ]);
        // The sync frame is shown first after its seek; a B-picture comes
        // after one the run feeds.
        assert_eq!(before(&gop, &[0], 0), [vec![None]]);
        assert_eq!(before(&gop, &[2], 0), [vec![Some(1)]]);
        // The P-picture is shown after B2, which is decoded after it: a
        // run for P3 alone stops before B2, one that goes on for B2 has it
        // (the targets in decode order: P3, B2).
        assert_eq!(before(&gop, &[3], 0), [vec![None]]);
        assert_eq!(before(&gop, &[3, 2], 0), [vec![Some(2), Some(1)]]);
        // On the decoder's clock.
        assert_eq!(before(&gop, &[1], 100), [vec![Some(100)]]);
        // A run from the second sync frame feeds nothing shown before
        // frame 6 (frame 3 is the first group's); frame 7 comes after 6.
        assert_eq!(before(&gop, &[6], 0), [vec![None]]);
        assert_eq!(before(&gop, &[7], 0), [vec![Some(6)]]);
    }

    #[test]
    fn one_picture_is_held_and_given_only_to_its_interlaced_target() {
        let interlaced = Scan::Interlaced {
            top_field_first: true,
        };
        let picture = || {
            Picture::from_packed(2, 2, crate::picture::DecodedFormat::Yuv444p, vec![0u8; 12])
                .unwrap()
        };
        let mut before = Before::new(vec![Some(4), Some(5)]);
        assert!(before.wanted(4, interlaced));
        assert!(!before.wanted(4, Scan::Progressive));
        assert!(!before.wanted(3, interlaced));
        before.keep(4, Some(picture()));
        // Target 0 (shown after 4) takes it; nothing is held after.
        assert!(before.take(0, interlaced).is_some());
        assert!(before.take(1, interlaced).is_none());
        // A held picture of another time is released, not given.
        before.keep(4, Some(picture()));
        assert!(before.take(1, interlaced).is_none());
        assert!(before.kept.is_none());
        // A progressive target gets none.
        before.keep(5, Some(picture()));
        assert!(before.take(1, Scan::Progressive).is_none());
    }
}
