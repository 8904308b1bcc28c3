//! An asset: a video source opened with FFmpeg and described — its tracks,
//! their geometry, colour and HDR metadata, and (built on first need, by
//! demuxing only) each video track's frame index.

pub mod color;
pub mod geometry;
pub mod index;
mod index_build;
pub mod mp4;
pub mod track;

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::ffmpeg::{self, av, CodecParams, Demuxer, Source};
use crate::ratio::Ratio;
use crate::time::Time;
pub use index::FrameIndex;
pub use track::VideoTrack;

/// What kind of data a track carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackKind {
    Video,
    Audio,
    Subtitle,
    Data,
    Attachment,
    Unknown,
}

/// One track of the container, of any kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackSummary {
    pub index: usize,
    pub kind: TrackKind,
    pub codec: String,
}

/// How the container counts time, which decides where the asset timeline
/// starts (SPEC "the timeline").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimelineKind {
    /// MP4/MOV and Matroska/WebM: the container's presentation time after
    /// the edit list is the timeline; an empty edit moves the first frame.
    Presentation,
    /// MPEG-TS/PS, raw streams, IVF and the rest: timestamps are a transport
    /// clock, and the timeline starts at the container's start time.
    TransportClock,
}

/// Facts about the container as a whole.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerInfo {
    /// FFmpeg's demuxer name (`mov,mp4,m4a,3gp,3g2,mj2`).
    pub format: String,
    pub timeline: TimelineKind,
    /// The container's start time as FFmpeg reports it, in seconds.
    pub start_time: Option<f64>,
    /// The container's declared duration, in seconds.
    pub duration: Option<f64>,
    /// The data ends before the container says it does (an MP4 box runs
    /// past the end of the file).
    pub truncated: bool,
    /// Problems found that did not stop the asset from opening, e.g. a
    /// truncated `mdat`.
    pub warnings: Vec<String>,
}

/// A track's place on the asset timeline, from its frame index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackTimeline {
    /// Frames shown on the timeline.
    pub frame_count: usize,
    pub sync_frame_count: usize,
    /// Presentation time of the first and last shown frame.
    pub first_frame: Time,
    pub last_frame: Time,
    /// Where the last frame stops being displayed.
    pub end: Time,
    /// `end − first_frame`.
    pub duration: Time,
    /// Mean frames per second over the shown frames, exact.
    pub average_frame_rate: Option<Ratio>,
    /// Whether frame durations differ by more than timestamp rounding.
    pub variable_frame_rate: bool,
}

/// An opened video source. Cheap to share (`Arc`) and `Send + Sync`: every
/// reader of its packets opens its own demuxer.
#[derive(Debug)]
pub struct Asset {
    source: Source,
    name: String,
    container: ContainerInfo,
    tracks: Vec<TrackSummary>,
    video_tracks: Vec<VideoTrack>,
    indexes: Vec<OnceLock<Result<Arc<FrameIndex>, String>>>,
}

/// How many bytes are read to decide whether a file is a media container
/// at all.
const SNIFF_BYTES: usize = 4096;

impl Asset {
    /// Opens a local file.
    pub fn open(path: impl AsRef<Path>) -> Result<Asset> {
        let path = path.as_ref();
        let io_err = |source| Error::Io {
            path: path.to_path_buf(),
            source: Arc::new(source),
        };
        let mut file = File::open(path).map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        if len == 0 {
            return Err(Error::UnrecognizedFormat {
                source_name: path.display().to_string(),
                reason: "the file is empty".into(),
            });
        }
        let mut head = vec![0u8; SNIFF_BYTES.min(len as usize)];
        file.read_exact(&mut head).map_err(io_err)?;
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let mp4 = || {
            let mut f = File::open(path).ok()?;
            mp4::scan(&mut f, len).ok()
        };
        Asset::open_source(
            Source::Path(path.to_path_buf()),
            Some(&head),
            file_name.as_deref().unwrap_or(""),
            mp4,
        )
    }

    /// Opens anything FFmpeg's protocols can read (`https://…`, `file:…`).
    /// Clean apertures are read only from local files and bytes.
    pub fn open_url(url: &str) -> Result<Asset> {
        Asset::open_source(Source::Url(url.to_string()), None, url, || None)
    }

    /// Opens an in-memory file.
    pub fn from_bytes(bytes: impl Into<Arc<[u8]>>) -> Result<Asset> {
        let bytes: Arc<[u8]> = bytes.into();
        if bytes.is_empty() {
            return Err(Error::UnrecognizedFormat {
                source_name: Source::Bytes(bytes).display_name(),
                reason: "no bytes".into(),
            });
        }
        let head = bytes[..SNIFF_BYTES.min(bytes.len())].to_vec();
        let scan_bytes = bytes.clone();
        let mp4 =
            move || mp4::scan(&mut Cursor::new(&scan_bytes[..]), scan_bytes.len() as u64).ok();
        Asset::open_source(Source::Bytes(bytes), Some(&head), "", mp4)
    }

    fn open_source(
        source: Source,
        head: Option<&[u8]>,
        file_name: &str,
        mp4_scan: impl FnOnce() -> Option<mp4::Mp4Facts>,
    ) -> Result<Asset> {
        let name = source.display_name();
        let sniffed = head.map(|h| ffmpeg::probe_format(h, file_name));
        if let Some(None) = sniffed {
            return Err(Error::UnrecognizedFormat {
                source_name: name,
                reason: "no FFmpeg demuxer recognises its first bytes".into(),
            });
        }
        let is_mov = |f: &str| f.contains("mov") || f.contains("mp4");
        let sniffed_format = sniffed.flatten();
        let mp4_facts = if sniffed_format.as_deref().is_some_and(is_mov) {
            mp4_scan()
        } else {
            None
        };
        let demuxer = match Demuxer::open(&source) {
            Ok(d) => d,
            Err(failure) => {
                let format = sniffed_format.unwrap_or_else(|| "input".into());
                let reason = failure.code.to_string();
                if let Some(t) = mp4_facts.as_ref().and_then(|f| f.truncation.clone()) {
                    return Err(Error::Truncated {
                        source_name: name,
                        format,
                        reason: format!("{t}; FFmpeg: {reason}"),
                    });
                }
                return Err(match failure.code {
                    av::Error::Eof => Error::Truncated {
                        source_name: name,
                        format,
                        reason,
                    },
                    av::Error::Other { errno } if is_access_error(errno) => Error::Io {
                        path: name.into(),
                        source: Arc::new(std::io::Error::from_raw_os_error(errno)),
                    },
                    _ => Error::Malformed {
                        source_name: name,
                        format,
                        reason,
                    },
                });
            }
        };
        let format = demuxer.format_name();
        let timeline = if is_mov(&format) || format.contains("matroska") {
            TimelineKind::Presentation
        } else {
            TimelineKind::TransportClock
        };
        let mut warnings = Vec::new();
        let truncation = mp4_facts.as_ref().and_then(|f| f.truncation.as_ref());
        if let Some(t) = truncation {
            warnings.push(format!("truncated: {t}"));
        }
        let us = |v: i64| v as f64 / f64::from(ffmpeg::av::ffi::AV_TIME_BASE);
        let container = ContainerInfo {
            format,
            timeline,
            start_time: demuxer.start_time_us().map(us),
            duration: demuxer.duration_us().map(us),
            truncated: truncation.is_some(),
            warnings,
        };
        let mut tracks = Vec::new();
        let mut video_tracks = Vec::new();
        for stream in demuxer.input.streams() {
            let params = CodecParams::of(&stream);
            let kind = match stream.parameters().medium() {
                av::media::Type::Video => TrackKind::Video,
                av::media::Type::Audio => TrackKind::Audio,
                av::media::Type::Subtitle => TrackKind::Subtitle,
                av::media::Type::Data => TrackKind::Data,
                av::media::Type::Attachment => TrackKind::Attachment,
                _ => TrackKind::Unknown,
            };
            tracks.push(TrackSummary {
                index: stream.index(),
                kind,
                codec: params.codec_name.clone(),
            });
            if kind == TrackKind::Video {
                let clap = mp4_facts
                    .as_ref()
                    .and_then(|f| f.clean_apertures.get(&(stream.id() as u32)).copied());
                video_tracks.push(describe_video(&stream, params, clap));
            }
        }
        let indexes = video_tracks.iter().map(|_| OnceLock::new()).collect();
        Ok(Asset {
            source,
            name,
            container,
            tracks,
            video_tracks,
            indexes,
        })
    }

    /// How errors and reports name this asset (its path or URL).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn container(&self) -> &ContainerInfo {
        &self.container
    }

    /// Every track, in container order.
    pub fn tracks(&self) -> &[TrackSummary] {
        &self.tracks
    }

    pub fn video_tracks(&self) -> &[VideoTrack] {
        &self.video_tracks
    }

    /// The track images are taken from: the first video track that is not
    /// cover art and has frames, preferring one flagged default.
    pub fn default_video_track(&self) -> Result<&VideoTrack> {
        let candidates = || {
            self.video_tracks
                .iter()
                .filter(|t| !t.attached_picture && t.declared_frames != Some(0))
        };
        candidates()
            .find(|t| t.disposition_default)
            .or_else(|| candidates().next())
            .ok_or_else(|| Error::NoVideoTrack {
                source_name: self.name.clone(),
            })
    }

    /// The frame index of a video track, built by demuxing on first call and
    /// kept for the asset's lifetime.
    pub fn frame_index(&self, track: &VideoTrack) -> Result<Arc<FrameIndex>> {
        let slot = self
            .video_tracks
            .iter()
            .position(|t| t.index == track.index)
            .ok_or_else(|| Error::NoVideoTrack {
                source_name: self.name.clone(),
            })?;
        self.indexes[slot]
            .get_or_init(|| index_build::build(&self.source, track, &self.container).map(Arc::new))
            .clone()
            .map_err(|reason| Error::Malformed {
                source_name: self.name.clone(),
                format: self.container.format.clone(),
                reason,
            })
    }

    /// Where a track's frames lie on the asset timeline; `None` for a track
    /// with no frames to show (an empty track).
    pub fn timeline(&self, track: &VideoTrack) -> Result<Option<TrackTimeline>> {
        Ok(index_build::timeline(&*self.frame_index(track)?))
    }

    pub(crate) fn source(&self) -> &Source {
        &self.source
    }
}

/// Whether an errno from FFmpeg's I/O layer means the source could not be
/// reached at all, as opposed to being read and rejected.
fn is_access_error(errno: i32) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        std::io::Error::from_raw_os_error(errno).kind(),
        NotFound | PermissionDenied | ConnectionRefused | TimedOut | HostUnreachable
    )
}

fn describe_video(
    stream: &av::format::stream::Stream,
    params: CodecParams,
    clean_aperture: Option<geometry::CleanAperture>,
) -> VideoTrack {
    use av::packet::side_data::Type;
    let mut display_matrix = None;
    let mut hdr = color::HdrInfo::SDR;
    for sd in stream.side_data() {
        match sd.kind() {
            Type::DisplayMatrix => display_matrix = track::parse_display_matrix(sd.data()),
            Type::MasteringDisplayMetadata => {
                hdr.mastering_display = track::parse_mastering_display(sd.data())
            }
            Type::ContentLightLevel => {
                hdr.content_light_level = track::parse_content_light(sd.data())
            }
            Type::DOVI_CONF => hdr.dolby_vision = track::parse_dovi(sd.data()),
            _ => {}
        }
    }
    let color = track::color_info(
        params.color_primaries,
        params.color_trc,
        params.color_space,
        params.color_range,
        params.chroma_location,
    );
    hdr.format = color.transfer.hdr_format();
    let orientation = match display_matrix {
        Some(m) => m.orientation(),
        None => Some(geometry::Orientation::IDENTITY),
    };
    let shape = params.pixel_format.and_then(ffmpeg::pixel_format_shape);
    let tb = stream.time_base();
    let (bit_depth, subsampling) = shape.unwrap_or((8, (1, 1)));
    let description = crate::render::SourceDescription {
        width: params.width,
        height: params.height,
        sample_aspect_ratio: params.sample_aspect_ratio,
        clean_aperture,
        orientation,
        bit_depth,
        alignment: crate::render::SampleAlignment::Lsb,
        subsampling: crate::render::ChromaSubsampling {
            log2_x: subsampling.0,
            log2_y: subsampling.1,
        },
        layout: crate::render::PlaneLayout::Yuv,
        color,
        hdr,
    };
    // A clean aperture that does not fit the picture is ignored for the
    // reported size, as players do; rendering reports it as an error.
    let (display_width, display_height) = crate::render::geometry::display_size(&description)
        .or_else(|_| {
            crate::render::geometry::display_size(&crate::render::SourceDescription {
                clean_aperture: None,
                ..description
            })
        })
        .unwrap_or((params.width, params.height));
    let disposition = stream.disposition();
    VideoTrack {
        index: stream.index(),
        id: stream.id(),
        codec: params.codec_name,
        profile: params.profile,
        level: params.level,
        pixel_format: params
            .pixel_format
            .and_then(|p| p.descriptor().map(|d| d.name().to_string())),
        bit_depth: params.bits_per_raw_sample.or(shape.map(|s| s.0)),
        chroma_subsampling: shape.map(|s| s.1),
        coded_width: params.width,
        coded_height: params.height,
        display_width,
        display_height,
        time_base: Ratio::new(tb.numerator() as i64, tb.denominator() as i64).unwrap_or(Ratio::ONE),
        sample_aspect_ratio: params.sample_aspect_ratio,
        display_matrix,
        orientation,
        clean_aperture,
        interlaced: params.interlaced,
        color,
        hdr,
        declared_frames: (stream.frames() > 0).then_some(stream.frames() as u64),
        disposition_default: disposition.contains(av::format::stream::Disposition::DEFAULT),
        attached_picture: disposition.contains(av::format::stream::Disposition::ATTACHED_PIC),
    }
}
