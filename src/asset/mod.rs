//! An asset: a video source opened with FFmpeg and described — its tracks,
//! their geometry, colour and HDR metadata, and each video track's frame
//! index: read from the MP4/MOV sample tables when the asset opens, from
//! the persistent index where one was written, or read a few groups of
//! pictures at a time where requests fall; a full scan of the track's
//! packets only where nothing else is exact (raw elementary streams,
//! sources that cannot seek) or when asked for the whole index of a track
//! known only in parts.

pub mod color;
pub mod geometry;
mod index;
mod index_build;
mod index_cache;
mod index_lazy;
mod index_tables;
pub(crate) mod mp4;
pub(crate) mod param_sets;
mod track;

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::error::{Error, IndexError, Result};
use crate::ffmpeg::{self, av, CodecParams, Demuxer, Origin, ReadBounds, Source};
use crate::limits::{Limit, Limits, OpenOptions};
use crate::picture::ChromaSubsampling;
use crate::plan::{Plan, Request, TrackPlanner};
use crate::ratio::Ratio;
use crate::time::Time;
pub(crate) use index::IndexSnapshot;
#[doc(hidden)]
pub use index::{FrameIndex, IndexEntry};
pub use index_cache::IndexCache;
pub(crate) use index_lazy::OnDemandIndex;
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

/// How a track's frame index is known, as `stills probe` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum IndexMethod {
    /// Read from the MP4/MOV sample tables when the asset opened, without
    /// reading a sample.
    SampleTables,
    /// Read from the persistent index written by an earlier full scan.
    Cache { path: String },
    /// Read a few groups of pictures at a time, where requests fall; the
    /// whole index (the frame count of the timeline) takes a full scan.
    OnDemand { reason: String },
    /// Every packet demuxed before the first image: nothing else is exact.
    FullScan { reason: String },
}

impl IndexMethod {
    /// The method's name, as its JSON form tags it.
    pub fn name(&self) -> &'static str {
        match self {
            IndexMethod::SampleTables => "sample-tables",
            IndexMethod::Cache { .. } => "cache",
            IndexMethod::OnDemand { .. } => "on-demand",
            IndexMethod::FullScan { .. } => "full-scan",
        }
    }
}

/// A track's index state.
#[derive(Debug)]
struct TrackIndexState {
    /// The whole index: from the sample tables or the persistent index at
    /// open, otherwise built by a full scan on first need.
    complete: OnceLock<Result<Arc<FrameIndex>, IndexError>>,
    method: IndexMethod,
    on_demand: Option<OnDemandIndex>,
    /// Why reading on demand gave way to the full scan, once it did.
    gave_up: OnceLock<String>,
}

/// What the generator plans over: the whole index, or one read where
/// requests fall.
pub(crate) enum TrackIndex<'a> {
    Complete(Arc<IndexSnapshot>),
    OnDemand(&'a OnDemandIndex),
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
    indexes: Vec<TrackIndexState>,
}

impl Asset {
    /// Opens a local file, reading the persistent index where
    /// [`IndexCache::from_env`] keeps one for it.
    pub fn open(path: impl AsRef<Path>) -> Result<Asset> {
        Asset::open_with_options(path, &OpenOptions::default())
    }

    /// Opens a local file within `options`' limits, reading the persistent
    /// index where [`IndexCache::from_env`] keeps one for it.
    pub fn open_with_options(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Asset> {
        Asset::open_file(path.as_ref(), IndexCache::from_env().as_ref(), options)
    }

    /// Opens a local file, reading its whole frame index from `cache` when
    /// an entry for the file as it is now is there.
    pub fn open_with_index_cache(
        path: impl AsRef<Path>,
        cache: Option<&IndexCache>,
    ) -> Result<Asset> {
        Asset::open_file(path.as_ref(), cache, &OpenOptions::default())
    }

    fn open_file(path: &Path, cache: Option<&IndexCache>, options: &OpenOptions) -> Result<Asset> {
        let io_err = |source| Error::Io {
            path: path.to_path_buf(),
            source: Arc::new(source),
        };
        // Looked at before opening: opening a FIFO waits for a writer.
        let metadata = std::fs::metadata(path).map_err(io_err)?;
        if let Some(kind) = special_file_kind(&metadata.file_type()) {
            return Err(Error::NotAFile {
                path: path.to_path_buf(),
                kind,
            });
        }
        let mut file = File::open(path).map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        if len == 0 {
            return Err(Error::UnrecognizedFormat {
                source_name: path.display().to_string(),
                reason: "the file is empty".into(),
            });
        }
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let file_name = file_name.as_deref().unwrap_or("");
        let format = sniff(&mut file, len, file_name).map_err(io_err)?;
        let mp4 = || {
            let mut f = File::open(path).ok()?;
            Some((mp4::scan(&mut f, len).ok()?, Some(len)))
        };
        Asset::open_source(
            source(Origin::Path(path.to_path_buf()), options),
            Some(format),
            mp4,
            cache,
            options,
        )
    }

    /// Opens anything FFmpeg's protocols can read (`https://…`, `file:…`).
    /// Where the protocol can seek and knows the size, the first bytes are
    /// sniffed as from a local file, and an MP4/MOV's boxes (its sample
    /// tables, the `clap` clean aperture FFmpeg does not expose) are read
    /// through the protocol too, seeking past its sample data: from an
    /// HTTP server that honours byte ranges, only the bytes of `moov` and
    /// of the frames requested travel.
    pub fn open_url(url: &str) -> Result<Asset> {
        Asset::open_url_with_options(url, &OpenOptions::default())
    }

    /// Opens a URL within `options`' limits: each connect and read waits
    /// at most `options.timeout`.
    pub fn open_url_with_options(url: &str, options: &OpenOptions) -> Result<Asset> {
        if let Some(path) = url.strip_prefix("file:") {
            let path = Path::new(path.strip_prefix("//").unwrap_or(path));
            if let Ok(metadata) = std::fs::metadata(path) {
                if let Some(kind) = special_file_kind(&metadata.file_type()) {
                    return Err(Error::NotAFile {
                        path: path.to_path_buf(),
                        kind,
                    });
                }
            }
        }
        let file_name = url.rsplit('/').next().unwrap_or("");
        let file_name = file_name.split(['?', '#']).next().unwrap_or("");
        let reader = match ffmpeg::UrlReader::open(url, options.timeout) {
            Ok(reader) => Some(reader),
            // A server that cannot be reached (or timed out) would only
            // cost the same wait again when FFmpeg opens it.
            Err(av::Error::Other { errno }) if is_access_error(errno) => {
                return Err(Error::Io {
                    path: url.into(),
                    source: Arc::new(std::io::Error::from_raw_os_error(errno)),
                })
            }
            Err(_) => None,
        };
        let mut reader = reader.and_then(|mut r| r.len().map(|len| (r, len)));
        let format = reader
            .as_mut()
            .and_then(|(r, len)| sniff(r, *len, file_name).ok());
        let mp4 = move || {
            let (mut r, len) = reader?;
            Some((mp4::scan_remote(&mut r, len).ok()?, Some(len)))
        };
        Asset::open_source(
            source(Origin::Url(url.to_string()), options),
            format,
            mp4,
            None,
            options,
        )
    }

    /// Opens an in-memory file.
    pub fn from_bytes(bytes: impl Into<Arc<[u8]>>) -> Result<Asset> {
        Asset::from_bytes_with_options(bytes, &OpenOptions::default())
    }

    /// Opens an in-memory file within `options`' limits.
    pub fn from_bytes_with_options(
        bytes: impl Into<Arc<[u8]>>,
        options: &OpenOptions,
    ) -> Result<Asset> {
        let bytes: Arc<[u8]> = bytes.into();
        let origin = Origin::Bytes(bytes.clone());
        if bytes.is_empty() {
            return Err(Error::UnrecognizedFormat {
                source_name: source(origin, options).display_name(),
                reason: "no bytes".into(),
            });
        }
        let len = bytes.len() as u64;
        let format = sniff(&mut Cursor::new(&bytes[..]), len, "").ok();
        let mp4 = move || {
            Some((
                mp4::scan(&mut Cursor::new(&bytes[..]), len).ok()?,
                Some(len),
            ))
        };
        Asset::open_source(source(origin, options), format, mp4, None, options)
    }

    /// Opens `source`; `sniffed` is what FFmpeg's probes made of its first
    /// bytes, where they could be read (`Some(None)`: nothing FFmpeg
    /// knows); `mp4_scan` walks its boxes when it is an MP4/MOV and gives
    /// the source's length too; `cache` holds whole indexes of local files.
    fn open_source(
        source: Source,
        sniffed: Option<Option<Sniffed>>,
        mp4_scan: impl FnOnce() -> Option<(mp4::Mp4Facts, Option<u64>)>,
        cache: Option<&IndexCache>,
        options: &OpenOptions,
    ) -> Result<Asset> {
        let name = source.display_name();
        if let Some(None) = sniffed {
            return Err(Error::UnrecognizedFormat {
                source_name: name,
                reason: "no FFmpeg demuxer recognises its first bytes".into(),
            });
        }
        let is_mov = |f: &str| f.contains("mov") || f.contains("mp4");
        let guess = sniffed.clone().flatten();
        let sniffed_format = guess.clone().filter(|g| g.sure).map(|g| g.format);
        // Sniffed sources are walked before FFmpeg opens them, so that a
        // truncation explains FFmpeg's failure; URLs only once FFmpeg has
        // said what they are.
        if let Some((width, height)) = guess.as_ref().and_then(|g| g.sps_size) {
            let what =
                format!("{name}: the first sequence parameter set's {width}×{height} picture");
            check_pixels(what, width, height, &options.limits)?;
        }
        let mut mp4_scan = Some(mp4_scan);
        let mut mp4_facts = None;
        if sniffed_format.as_deref().is_some_and(is_mov) {
            mp4_facts = mp4_scan.take().and_then(|scan| scan());
        }
        let demuxer = match Demuxer::open(&source) {
            Ok(d) => d,
            Err(failure) => {
                if let Some(size) = failure.oversized {
                    let what = format!(
                        "{name}: track {}'s {}×{} picture",
                        size.stream, size.width, size.height
                    );
                    check_pixels(what, size.width, size.height, &options.limits)?;
                }
                if let Some(guess) = guess.filter(|g| !g.sure) {
                    return Err(Error::UnrecognizedFormat {
                        source_name: name,
                        reason: format!(
                            "no FFmpeg demuxer is sure of its first bytes; \
                             {} only guessed and could not open it ({})",
                            guess.format, failure.code
                        ),
                    });
                }
                let format = sniffed_format.unwrap_or_else(|| "input".into());
                let reason = failure.code.to_string();
                if let Some(t) = mp4_facts.as_ref().and_then(|(f, _)| f.truncation.clone()) {
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
                    code @ (av::Error::HttpBadRequest
                    | av::Error::HttpUnauthorized
                    | av::Error::HttpForbidden
                    | av::Error::HttpNotFound
                    | av::Error::HttpOther4xx
                    | av::Error::HttpServerError) => Error::Http {
                        source_name: name,
                        status: http_status(code),
                        reason,
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
        if sniffed.is_none() && is_mov(&format) {
            mp4_facts = mp4_scan.take().and_then(|scan| scan());
        }
        let (mp4_facts, source_len) = match mp4_facts {
            Some((facts, len)) => (Some(facts), len),
            None => (None, None),
        };
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
        let mut indexes = Vec::new();
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
                check_declared_size(&name, stream.index(), &params, &options.limits)?;
                let clap = mp4_facts
                    .as_ref()
                    .and_then(|f| f.clean_apertures.get(&(stream.id() as u32)).copied());
                let track = describe_video(&stream, params, clap);
                let facts = mp4_facts.as_ref();
                indexes.push(index_state(
                    &source, &demuxer, &container, &track, facts, source_len, cache,
                ));
                video_tracks.push(track);
            }
        }
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

    /// The track images are taken from: the video track with stream index
    /// `stream` (as `stills probe` lists them), or the default one.
    pub fn image_track(&self, stream: Option<usize>) -> Result<&VideoTrack> {
        let Some(stream) = stream else {
            return self.default_video_track();
        };
        self.video_tracks
            .iter()
            .find(|t| t.index == stream)
            .ok_or_else(|| Error::NoSuchTrack {
                source_name: self.name.clone(),
                stream,
                video_tracks: self.video_tracks.iter().map(|t| t.index).collect(),
            })
    }

    fn index_slot(&self, track: &VideoTrack) -> Result<&TrackIndexState> {
        self.video_tracks
            .iter()
            .position(|t| t.index == track.index)
            .map(|slot| &self.indexes[slot])
            .ok_or_else(|| Error::NoVideoTrack {
                source_name: self.name.clone(),
            })
    }

    /// The whole frame index of a video track, kept for the asset's
    /// lifetime: read from the sample tables or the persistent index when
    /// the asset opened, otherwise built by demuxing every packet of the
    /// track on first call (the generator does not need it: it reads such
    /// tracks where requests fall).
    pub fn frame_index(&self, track: &VideoTrack) -> Result<Arc<FrameIndex>> {
        self.index_slot(track)?
            .complete
            .get_or_init(|| {
                index_build::full_scan(&self.source, track, &self.container).map(Arc::new)
            })
            .clone()
            .map_err(|cause| Error::Index {
                source_name: self.name.clone(),
                track: track.index,
                cause,
            })
    }

    /// The track's index built by demuxing every packet, whatever else is
    /// known: the reference the other ways of indexing are checked
    /// against. Not kept.
    pub fn full_scan(&self, track: &VideoTrack) -> Result<FrameIndex> {
        self.index_slot(track)?;
        index_build::full_scan(&self.source, track, &self.container).map_err(|cause| Error::Index {
            source_name: self.name.clone(),
            track: track.index,
            cause,
        })
    }

    /// Writes the whole index of each video track not indexed from sample
    /// tables into `cache` (taking the full scan where it is not known yet),
    /// so that later opens of this file read it back instead. Only local
    /// files have a persistent index. Returns the entries written.
    pub fn write_index_cache(&self, cache: &IndexCache) -> Result<Vec<PathBuf>> {
        let Origin::Path(path) = &self.source.origin else {
            return Ok(Vec::new());
        };
        let mut written = Vec::new();
        for track in &self.video_tracks {
            if self.index_method(track)? == IndexMethod::SampleTables {
                continue;
            }
            let index = self.frame_index(track)?;
            let entry = cache
                .store(path, track.index, &index)
                .map_err(|e| Error::Index {
                    source_name: self.name.clone(),
                    track: track.index,
                    cause: IndexError::Cache {
                        path: cache.dir().display().to_string(),
                        cause: e.to_string(),
                    },
                })?;
            written.push(entry);
        }
        Ok(written)
    }

    /// How the track's index is known: what the generator reads before
    /// answering a request on it.
    pub fn index_method(&self, track: &VideoTrack) -> Result<IndexMethod> {
        let state = self.index_slot(track)?;
        Ok(match state.gave_up.get() {
            Some(why) => IndexMethod::FullScan {
                reason: format!("reading on demand failed: {why}"),
            },
            None => state.method.clone(),
        })
    }

    /// Whether the whole index of the track is at hand without a scan
    /// (from the tables, the persistent index, or a scan already made).
    pub fn has_complete_index(&self, track: &VideoTrack) -> bool {
        self.index_slot(track)
            .is_ok_and(|s| matches!(s.complete.get(), Some(Ok(_))))
    }

    /// What the generator plans over for `track`.
    pub(crate) fn track_index(&self, track: &VideoTrack) -> Result<TrackIndex<'_>> {
        let state = self.index_slot(track)?;
        if let (None, Some(on_demand)) = (state.complete.get(), &state.on_demand) {
            return Ok(TrackIndex::OnDemand(on_demand));
        }
        let index = self.frame_index(track)?;
        Ok(TrackIndex::Complete(Arc::new(IndexSnapshot::complete(
            index,
        ))))
    }

    /// Plans `requests` over what is known of `track`'s index, reading more
    /// of it where requests need; a track whose groups of pictures cannot
    /// be read that way takes its full scan.
    pub(crate) fn plan_requests(
        &self,
        track: &VideoTrack,
        requests: &[Request],
    ) -> Result<(Arc<IndexSnapshot>, Plan)> {
        let asset = self;
        let (mut snapshot, mut on_demand) = match self.track_index(track)? {
            TrackIndex::Complete(snapshot) => (snapshot, None),
            TrackIndex::OnDemand(index) => (index.snapshot(), Some(index)),
        };
        let index_error = |cause| Error::Index {
            source_name: asset.name().to_string(),
            track: track.index,
            cause,
        };
        for _ in 0..MAX_INDEX_READS {
            let planner = TrackPlanner::new(snapshot.parts.iter().map(|p| (&*p.index, p.bounds)));
            let needs = match planner.plan(requests) {
                Ok(plan) => return Ok((snapshot, plan)),
                Err(needs) => needs,
            };
            let Some(index) = on_demand else {
                // A complete index answers everything; this would be a bug.
                return Err(index_error(IndexError::NotLocal(
                    "the whole index left a request unanswered".into(),
                )));
            };
            match index.load(&needs, &snapshot) {
                Ok(next) => snapshot = next,
                Err(IndexError::NotLocal(why)) => {
                    let _ = asset.index_slot(track)?.gave_up.set(why);
                    snapshot = Arc::new(IndexSnapshot::complete(asset.frame_index(track)?));
                    on_demand = None;
                }
                Err(cause) => return Err(index_error(cause)),
            }
        }
        let _ = asset
            .index_slot(track)?
            .gave_up
            .set(format!("{MAX_INDEX_READS} reads left requests unanswered"));
        let whole = Arc::new(IndexSnapshot::complete(asset.frame_index(track)?));
        let planner = TrackPlanner::new(whole.parts.iter().map(|p| (&*p.index, p.bounds)));
        let plan = planner.plan(requests).map_err(|_| {
            index_error(IndexError::NotLocal(
                "the whole index left a request unanswered".into(),
            ))
        })?;
        Ok((whole, plan))
    }

    /// Where the track's first frame is shown and where the track ends, on
    /// the asset timeline, without counting its frames: for a track read on
    /// demand only its first and last groups of pictures are read (the
    /// [`timeline`](Asset::timeline) takes its full scan). `None` for a
    /// track with no frames to show.
    pub fn frame_span(&self, track: &VideoTrack) -> Result<Option<(Time, Time)>> {
        let tb = track.time_base;
        let bounds = match self.track_index(track)? {
            TrackIndex::Complete(snapshot) => snapshot.known_bounds(),
            TrackIndex::OnDemand(index) => match index.load_ends() {
                Ok(snapshot) => snapshot.known_bounds(),
                Err(IndexError::NotLocal(why)) => {
                    let _ = self.index_slot(track)?.gave_up.set(why);
                    IndexSnapshot::complete(self.frame_index(track)?).known_bounds()
                }
                Err(cause) => {
                    return Err(Error::Index {
                        source_name: self.name.clone(),
                        track: track.index,
                        cause,
                    })
                }
            },
        };
        let time = |ticks| Time::from_stream_ticks(ticks, tb);
        Ok(match bounds {
            (Some(first), Some(end)) => time(first).zip(time(end)),
            _ => None,
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

/// A source read within `options`' bounds.
fn source(origin: Origin, options: &OpenOptions) -> Source {
    Source::new(
        origin,
        ReadBounds {
            timeout: options.timeout,
            max_decoded_pixels: options.limits.max_decoded_pixels,
        },
    )
}

/// What kind of special file `file_type` is, where reading it could block
/// forever (a FIFO with no writer, a terminal) or never end (a device).
fn special_file_kind(file_type: &std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        Some("FIFO")
    } else if file_type.is_char_device() {
        Some("character device")
    } else if file_type.is_block_device() {
        Some("block device")
    } else if file_type.is_socket() {
        Some("socket")
    } else {
        None
    }
}

/// The demuxer FFmpeg's probes picked for a source's first bytes.
#[derive(Debug, Clone)]
struct Sniffed {
    format: String,
    /// Whether the demuxer is sure of it: a guess from the file name's
    /// extension alone (a text file named `.mp4`) is not, and when FFmpeg
    /// then fails to open the source it is not a container it knows.
    sure: bool,
    /// The coded size the first H.264 or HEVC sequence parameter set of an
    /// MPEG-TS or raw H.264/HEVC stream declares, where one is in its first
    /// bytes.
    sps_size: Option<(u32, u32)>,
}

/// How many first bytes of an MPEG-TS or raw H.264 stream are searched for
/// its first sequence parameter set (muxers put it in the first packets).
const PARAMETER_SET_BYTES: usize = 64 << 10;

/// The smallest and largest number of first bytes FFmpeg's probing reads
/// (`PROBE_BUF_MIN`, and `PROBE_BUF_MAX`, the default `formatprobesize`).
const PROBE_MIN: usize = 2048;
const PROBE_MAX: usize = 1 << 20;

/// Which demuxer FFmpeg's probes pick for the source's first bytes, read as
/// `av_probe_input_buffer2` does: 2 KiB, then twice as much each time no
/// demuxer is sure of it, up to 1 MiB or the end of the data, where any
/// demuxer's claim is taken. `None` when no demuxer claims it at all.
fn sniff(reader: &mut impl Read, len: u64, file_name: &str) -> std::io::Result<Option<Sniffed>> {
    let mut head = Vec::new();
    let mut size = PROBE_MIN;
    loop {
        let want = (size as u64).min(len);
        let have = head.len() as u64;
        reader.take(want - have).read_to_end(&mut head)?;
        let last = head.len() as u64 >= len || head.len() < want as usize || size >= PROBE_MAX;
        if let Some((format, score)) = ffmpeg::probe_format(&head, file_name, last) {
            let sure = score > ffmpeg::PROBE_SCORE_SURE;
            let sps_size = if matches!(format.as_str(), "mpegts" | "h264" | "hevc") {
                let want = (PARAMETER_SET_BYTES as u64).min(len);
                let have = head.len() as u64;
                reader
                    .take(want.saturating_sub(have))
                    .read_to_end(&mut head)?;
                param_sets::first_sps_size(&head)
            } else {
                None
            };
            return Ok(Some(Sniffed {
                format,
                sure,
                sps_size,
            }));
        }
        if last {
            return Ok(None);
        }
        size = (size * 2).min(PROBE_MAX);
    }
}

/// Refuses a picture of `width` × `height` over the decoded-pixel limit;
/// `what` names it in the error.
fn check_pixels(what: String, width: u32, height: u32, limits: &Limits) -> Result<()> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_decoded_pixels {
        return Err(Error::LimitExceeded {
            limit: Limit::MaxDecodedPixels,
            what,
            value: pixels,
            allowed: limits.max_decoded_pixels,
        });
    }
    Ok(())
}

/// Refuses a video track whose declared picture (the container's size, or
/// the first parameter set's where the container has none) is larger than
/// the caller allows, before any of its pictures is decoded.
fn check_declared_size(
    source_name: &str,
    stream: usize,
    params: &CodecParams,
    limits: &Limits,
) -> Result<()> {
    let what = format!(
        "{source_name}: track {stream}'s {}×{} picture",
        params.width, params.height
    );
    check_pixels(what, params.width, params.height, limits)
}

/// The HTTP status FFmpeg's error names, when it names one exactly (4xx
/// and 5xx other than 400, 401, 403 and 404 share a code).
fn http_status(code: av::Error) -> Option<u16> {
    match code {
        av::Error::HttpBadRequest => Some(400),
        av::Error::HttpUnauthorized => Some(401),
        av::Error::HttpForbidden => Some(403),
        av::Error::HttpNotFound => Some(404),
        _ => None,
    }
}

/// How many reads of a lazily indexed track one batch may make before the
/// track takes its full scan instead (each read learns at least one new
/// group of pictures, so this only bounds the work on hostile streams).
const MAX_INDEX_READS: usize = 64;

/// How `track`'s index will be known: from its sample tables (built here,
/// at open), read where requests fall, or by a full scan.
fn index_state(
    source: &Source,
    demuxer: &Demuxer,
    container: &ContainerInfo,
    track: &VideoTrack,
    mp4: Option<&mp4::Mp4Facts>,
    source_len: Option<u64>,
    cache: Option<&IndexCache>,
) -> TrackIndexState {
    let tb = track.time_base;
    let offset = index_build::timeline_offset(demuxer, container, tb);
    let timing = demuxer.stream_timing(track.index);
    let declared_end = timing.and_then(|t| index_build::declared_end(container, t, offset));
    let state = |method, on_demand| TrackIndexState {
        complete: OnceLock::new(),
        method,
        on_demand,
        gave_up: OnceLock::new(),
    };
    let why_not_tables = match (mp4, timing) {
        _ if !container.format.starts_with("mov,") => {
            format!("{} has no per-frame tables", container.format)
        }
        (None, _) | (_, None) => "the MP4 boxes could not be read".into(),
        (Some(facts), _) if facts.fragmented => {
            "a fragmented MP4 describes its samples fragment by fragment (moof)".into()
        }
        _ if track.codec == "vp9" => "whether a VP9 frame is shown is written in its packet".into(),
        (Some(facts), Some(timing)) => match facts.sample_tables.get(&(track.id as u32)) {
            None => "the track's sample tables are not ones FFmpeg reads as written".into(),
            Some(table) => {
                let tables = index_tables::TrackTables {
                    entries: &demuxer.seek_entries(track.index),
                    table,
                    timing,
                    time_base: tb,
                    source_len,
                    declared_end,
                };
                match index_tables::build(&tables) {
                    Ok(index) => {
                        let state = state(IndexMethod::SampleTables, None);
                        let _ = state.complete.set(Ok(Arc::new(index)));
                        return state;
                    }
                    Err(reason) => reason,
                }
            }
        },
    };
    let cached = match (cache, &source.origin) {
        (Some(cache), Origin::Path(path)) => cache.load(path, track.index),
        _ => None,
    };
    if let Some((index, entry)) = cached {
        let method = IndexMethod::Cache {
            path: entry.display().to_string(),
        };
        let state = state(method, None);
        let _ = state.complete.set(Ok(Arc::new(index)));
        return state;
    }
    if demuxer.is_raw_stream() {
        let reason = "a raw elementary stream has no timestamps to seek by: frame times come from decoding it in order";
        return state(
            IndexMethod::FullScan {
                reason: reason.into(),
            },
            None,
        );
    }
    if !demuxer.seekable() {
        let reason = "the source cannot seek";
        return state(
            IndexMethod::FullScan {
                reason: reason.into(),
            },
            None,
        );
    }
    let on_demand = OnDemandIndex::new(
        source.clone(),
        track.index,
        tb,
        offset,
        declared_end,
        track.codec == "vp9",
    );
    state(
        IndexMethod::OnDemand {
            reason: why_not_tables,
        },
        Some(on_demand),
    )
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
            Type::DisplayMatrix => display_matrix = ffmpeg::parse_display_matrix(sd.data()),
            Type::MasteringDisplayMetadata => {
                hdr.mastering_display = ffmpeg::parse_mastering_display(sd.data())
            }
            Type::ContentLightLevel => {
                hdr.content_light_level = ffmpeg::parse_content_light(sd.data())
            }
            Type::DOVI_CONF => hdr.dolby_vision = ffmpeg::parse_dovi(sd.data()),
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
    let geometry = crate::render::SourceGeometry {
        sample_aspect_ratio: params.sample_aspect_ratio,
        clean_aperture,
        orientation,
    };
    // A clean aperture that does not fit the picture is ignored for the
    // reported size, as players do; rendering reports it as an error.
    let display_size = |g: &crate::render::SourceGeometry| {
        crate::render::geometry::display_size(params.width, params.height, g)
    };
    let (display_width, display_height) = display_size(&geometry)
        .or_else(|_| {
            display_size(&crate::render::SourceGeometry {
                clean_aperture: None,
                ..geometry
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
        chroma_subsampling: shape.map(|(_, (log2_x, log2_y))| ChromaSubsampling { log2_x, log2_y }),
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
        first_field: params.first_field,
        alpha: params
            .pixel_format
            .is_some_and(|p| ffmpeg::pixel_format_flags(p).alpha)
            || ffmpeg::stream_has_side_alpha(stream),
        color,
        hdr,
        declared_frames: (stream.frames() > 0).then_some(stream.frames() as u64),
        disposition_default: disposition.contains(av::format::stream::Disposition::DEFAULT),
        attached_picture: disposition.contains(av::format::stream::Disposition::ATTACHED_PIC),
    }
}
