//! The FFmpeg boundary. Every call into libav* that needs `unsafe` lives in
//! this module, each with its `// SAFETY:` argument; the rest of the crate
//! sees plain Rust values.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;

mod avio;
pub(crate) mod hwaccel;
mod probe;
mod side_data;
#[cfg(feature = "vaapi")]
pub(crate) mod vaapi;

pub use ffmpeg_next as av;
use ffmpeg_next::ffi;

use crate::asset::color::{ContentLightLevel, MasteringDisplay};
use crate::picture::{Field, Scan};
use crate::ratio::Ratio;
pub(crate) use avio::UrlReader;
use probe::Probe;
pub(crate) use side_data::{
    parse_content_light, parse_display_matrix, parse_dovi, parse_mastering_display,
};

/// The HDR metadata a decoded picture carries in its frame side data (HEVC
/// and AV1 SEI/OBUs), for streams whose container does not repeat it.
pub fn frame_hdr_metadata(
    frame: &av::frame::Video,
) -> (Option<MasteringDisplay>, Option<ContentLightLevel>) {
    use av::frame::side_data::Type;
    (
        frame
            .side_data(Type::MasteringDisplayMetadata)
            .and_then(|d| parse_mastering_display(d.data())),
        frame
            .side_data(Type::ContentLightLevel)
            .and_then(|d| parse_content_light(d.data())),
    )
}

/// Whether a decoded frame's fields are of two instants, and which is
/// shown first, from the decoder's per-frame flags (FFmpeg 5.1's
/// `interlaced_frame` and `top_field_first`). A progressive frame of an
/// interlaced-tagged stream, and a soft-telecined one (MPEG-2
/// `progressive_frame` with `repeat_first_field`, H.264 `pic_struct`
/// pulldown), is not interlaced: its repeated field is a copy of the same
/// instant.
pub fn frame_scan(frame: &av::frame::Video) -> Scan {
    if frame.is_interlaced() {
        Scan::Interlaced {
            top_field_first: frame.is_top_first(),
        }
    } else {
        Scan::Progressive
    }
}

/// Where an asset's bytes come from, and the bounds every reader of them
/// keeps to.
#[derive(Debug, Clone)]
pub struct Source {
    pub origin: Origin,
    pub bounds: ReadBounds,
    /// What the first open's probing found, shared by every clone: later
    /// opens (each decoder's, the index's) take it instead of probing.
    probed: Arc<OnceLock<Probe>>,
}

/// Where the bytes are.
#[derive(Debug, Clone)]
pub enum Origin {
    Path(PathBuf),
    /// Anything FFmpeg's protocols read (`http://`, `file:`, `pipe:`…).
    Url(String),
    /// An in-memory file, read through a custom AVIO context.
    Bytes(Arc<[u8]>),
}

/// What one open of a source may wait for and allocate: every demuxer and
/// decoder opened on it, not only the first, so a worker reopening a URL
/// cannot hang and a decoder cannot allocate past the caller's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadBounds {
    /// How long a network connect or read may wait (FFmpeg's `rw_timeout`
    /// and the TCP protocol's `timeout`).
    pub timeout: Duration,
    /// The largest picture (width × height) a decoder may allocate,
    /// FFmpeg's `max_pixels`: probing and decoding refuse larger frames
    /// before allocating them.
    pub max_decoded_pixels: u64,
}

impl Source {
    pub fn new(origin: Origin, bounds: ReadBounds) -> Source {
        Source {
            origin,
            bounds,
            probed: Arc::default(),
        }
    }

    /// How errors and reports name the source.
    pub fn display_name(&self) -> String {
        match &self.origin {
            Origin::Path(p) => p.display().to_string(),
            Origin::Url(u) => u.clone(),
            Origin::Bytes(b) => format!("<{} bytes in memory>", b.len()),
        }
    }
}

fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // A library must not write to the caller's stderr; every failure
        // reaches the caller as a typed error instead.
        av::util::log::set_level(av::util::log::Level::Quiet);
        // ffmpeg-next fills in the text of its `Error` values here; without
        // it they all display as "".
        av::util::error::register_all();
    });
}

/// An open demuxer over a source. Each user (metadata, index, every decode
/// worker) opens its own, so none is shared between threads.
pub struct Demuxer {
    pub input: av::format::context::Input,
}

/// Why a source did not open, before it is turned into a crate `Error`
/// (which needs the source's name and a look at the bytes).
#[derive(Debug)]
pub struct OpenFailure {
    pub code: av::Error,
    /// A video stream whose container-declared picture is over
    /// [`ReadBounds::max_decoded_pixels`]: the source was closed before
    /// probing decoded any of it.
    pub oversized: Option<DeclaredSize>,
}

/// A stream's picture size as its container declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclaredSize {
    pub stream: usize,
    pub width: u32,
    pub height: u32,
}

impl Demuxer {
    pub fn open(source: &Source) -> Result<Demuxer, OpenFailure> {
        init();
        let bounds = source.bounds;
        let input = match &source.origin {
            Origin::Path(p) => open_input(Reader::Url(&p.to_string_lossy(), None), source),
            Origin::Url(u) => open_input(Reader::Url(u, Some(bounds.timeout)), source),
            Origin::Bytes(b) => open_input(Reader::Bytes(b.clone()), source),
        };
        input.map(|input| Demuxer { input })
    }

    /// FFmpeg's short name of the container format (`mov,mp4,m4a,3gp,3g2,mj2`).
    pub fn format_name(&self) -> String {
        self.input.format().name().to_string()
    }

    /// The container's start time in `AV_TIME_BASE` (µs), when known.
    pub fn start_time_us(&self) -> Option<i64> {
        // SAFETY: `as_ptr` points to the live AVFormatContext owned by
        // `self.input`; reading a plain integer field has no side effects.
        let t = unsafe { (*self.input.as_ptr()).start_time };
        (t != ffi::AV_NOPTS_VALUE).then_some(t)
    }

    /// The container's duration in `AV_TIME_BASE` (µs), when known.
    pub fn duration_us(&self) -> Option<i64> {
        // SAFETY: as in `start_time_us`.
        let d = unsafe { (*self.input.as_ptr()).duration };
        (d != ffi::AV_NOPTS_VALUE && d > 0).then_some(d)
    }
}

/// One entry of the index FFmpeg keeps for a stream (`AVIndexEntry`): for
/// MP4/MOV every sample of the track's sample tables as the demuxer laid
/// them out when it opened the file (after the edit list), for Matroska
/// the `Cues`, for other formats whatever seek points the demuxer has met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeekEntry {
    /// Byte offset of the packet in the file.
    pub pos: i64,
    /// The demuxer's timestamp for the entry: the decode time for MP4/MOV,
    /// the presentation time for Matroska.
    pub timestamp: i64,
    pub size: i32,
    /// `AVINDEX_KEYFRAME`.
    pub keyframe: bool,
    /// `AVINDEX_DISCARD_FRAME`: outside the edit list, decoded but not shown.
    pub discard: bool,
}

/// A stream's timing as the demuxer describes it after opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamTiming {
    /// `AVStream.start_time` and `duration`, in the stream's ticks.
    pub start: Option<i64>,
    pub duration: Option<i64>,
    /// `AVStream.r_frame_rate`, when known.
    pub real_frame_rate: Option<Ratio>,
}

impl Demuxer {
    /// The demuxer's index of `stream` as it stands now.
    pub fn seek_entries(&self, stream: usize) -> Vec<SeekEntry> {
        let Some(st) = self.stream_ptr(stream) else {
            return Vec::new();
        };
        // SAFETY: `st` is a live stream of the context `self.input` owns;
        // the index functions only read it, and each entry pointer is read
        // before the next call (which could reallocate the array).
        unsafe {
            let count = ffi::avformat_index_get_entries_count(st);
            (0..count)
                .filter_map(|i| {
                    let e = ffi::avformat_index_get_entry(st, i);
                    if e.is_null() {
                        return None;
                    }
                    let e = &*e;
                    let flags = e.flags();
                    Some(SeekEntry {
                        pos: e.pos,
                        timestamp: e.timestamp,
                        size: e.size(),
                        keyframe: flags & ffi::AVINDEX_KEYFRAME != 0,
                        discard: flags & ffi::AVINDEX_DISCARD_FRAME != 0,
                    })
                })
                .collect()
        }
    }

    /// The start, duration and frame rate FFmpeg settled on for `stream`.
    pub fn stream_timing(&self, stream: usize) -> Option<StreamTiming> {
        let s = self.input.stream(stream)?;
        let known = |v: i64| (v != ffi::AV_NOPTS_VALUE).then_some(v);
        let rate = s.rate();
        Some(StreamTiming {
            start: known(s.start_time()),
            duration: known(s.duration()).filter(|&d| d > 0),
            real_frame_rate: Ratio::new(rate.numerator() as i64, rate.denominator() as i64)
                .filter(|r| r.num > 0),
        })
    }

    /// Whether the source can seek by byte offset (a file, bytes in
    /// memory, an HTTP server that honours ranges), as FFmpeg found it.
    pub fn seekable(&self) -> bool {
        // SAFETY: the context is live; `pb` is null or the context's own
        // AVIOContext, whose `seekable` is a plain field.
        unsafe {
            let pb = (*self.input.as_ptr()).pb;
            !pb.is_null() && (*pb).seekable & ffi::AVIO_SEEKABLE_NORMAL != 0
        }
    }

    /// Whether the format is a raw elementary stream (FFmpeg's raw
    /// demuxers name the codec they read, `raw_codec_id`) or otherwise
    /// carries no timestamps (`AVFMT_NOTIMESTAMPS`).
    pub fn is_raw_stream(&self) -> bool {
        // SAFETY: a live context's `iformat` is a static AVInputFormat.
        let format = unsafe { &*(*self.input.as_ptr()).iformat };
        format.raw_codec_id != 0 || format.flags & ffi::AVFMT_NOTIMESTAMPS != 0
    }

    fn stream_ptr(&self, stream: usize) -> Option<*mut ffi::AVStream> {
        // SAFETY: the context is live; `streams` holds `nb_streams` valid
        // pointers.
        unsafe {
            let ctx = &*self.input.as_ptr();
            (stream < ctx.nb_streams as usize).then(|| *ctx.streams.add(stream))
        }
    }
}

/// FFmpeg's network options bounding each connect and read by `timeout`:
/// `rw_timeout` for every protocol's reads, and the TCP protocol's own
/// `timeout` (which an HTTP URL hands down to its connection) for its
/// connect and reads, both in microseconds.
pub(crate) fn timeout_options(timeout: Duration) -> av::Dictionary<'static> {
    let micros = timeout.as_micros().clamp(1, i64::MAX as u128).to_string();
    let mut options = av::Dictionary::new();
    options.set("rw_timeout", &micros);
    options.set("timeout", &micros);
    options
}

/// What [`open_input`] reads.
enum Reader<'a> {
    /// A path or URL, with a timeout on network I/O.
    Url(&'a str, Option<Duration>),
    /// An in-memory file, read through a custom AVIO context.
    Bytes(Arc<[u8]>),
}

/// `avformat_open_input` and `avformat_find_stream_info`, as
/// `av::format::input` and `input_from_stream` do, but with a timeout on
/// network I/O and `max_pixels` on the decoders probing opens, so that a
/// stream declaring a huge picture is refused before a frame of it is
/// allocated. What an earlier open of `source` found by probing stands in
/// for probing where it can; otherwise this open's probe is kept for the
/// next.
fn open_input(reader: Reader, source: &Source) -> Result<av::format::context::Input, OpenFailure> {
    let failed = |code| OpenFailure {
        code,
        oversized: None,
    };
    let (probed, bounds) = (&source.probed, source.bounds);
    let (url, timeout, mut io) = match reader {
        Reader::Url(url, timeout) => {
            let url = std::ffi::CString::new(url).map_err(|_| failed(av::Error::InvalidData))?;
            (Some(url), timeout, None)
        }
        Reader::Bytes(bytes) => {
            let io = av::format::context::StreamIo::from_read_seek(Cursor::new(SharedBytes(bytes)))
                .map_err(failed)?;
            (None, None, Some(io))
        }
    };
    let max_pixels = bounds.max_decoded_pixels.min(i64::MAX as u64).to_string();
    let max_pixels =
        std::ffi::CString::new(max_pixels).map_err(|_| failed(av::Error::InvalidData))?;
    let mut ctx = std::ptr::null_mut();
    if let Some(io) = &mut io {
        // SAFETY: a fresh context, null on allocation failure; `io` outlives
        // it (it is handed to the `Input` with it, or dropped after the
        // context is freed), and the custom-I/O flag keeps FFmpeg from
        // closing it.
        unsafe {
            ctx = ffi::avformat_alloc_context();
            if ctx.is_null() {
                return Err(failed(av::Error::Other { errno: ffi::ENOMEM }));
            }
            (*ctx).pb = io.as_mut_ptr();
            (*ctx).flags |= ffi::AVFMT_FLAG_CUSTOM_IO;
        }
    }
    let format_options = timeout.map(timeout_options).unwrap_or_default();
    // SAFETY: the dictionary's ownership passes to the raw pointer, freed
    // below with `av_dict_free`.
    let mut format_options = unsafe { format_options.disown() };
    let format = probed.get().map_or(std::ptr::null(), Probe::format);
    let url_ptr = url.as_ref().map_or(std::ptr::null(), |u| u.as_ptr());
    // SAFETY: `ctx` is null (FFmpeg allocates the context) or the context
    // made above for custom I/O (freed by FFmpeg if opening fails), `url_ptr`
    // is null or NUL-terminated and outlives the call, `format` is null or
    // one of libavformat's static demuxers, and `format_options` is a
    // dictionary we own, given back (with what the demuxer did not use) and
    // freed below.
    let opened =
        unsafe { ffi::avformat_open_input(&mut ctx, url_ptr, format, &mut format_options) };
    // SAFETY: `format_options` is null or a dictionary we own.
    unsafe { ffi::av_dict_free(&mut format_options) };
    if opened < 0 {
        return Err(failed(av::Error::from(opened)));
    }
    // The context, with the custom I/O it reads through, if any.
    // SAFETY: `ctx` is open and owned here; an `Input` made from it frees
    // it (and `io` after it) once.
    let wrap = |ctx| unsafe {
        match io {
            Some(io) => av::format::context::Input::wrap_with_custom_io(ctx, io),
            None => av::format::context::Input::wrap(ctx),
        }
    };
    // SAFETY: `ctx` is the context just opened; it holds `nb_streams`
    // streams, each with its codec parameters, read before probing decodes
    // anything, and nothing has been read from it when `apply` gives them
    // the kept probe's; `capture` copies them once probing completed them.
    // It is closed once on every failure. One codec-option dictionary per
    // stream is made, handed to `avformat_find_stream_info` (which reads
    // them) and freed after.
    unsafe {
        let streams = (*ctx).nb_streams as usize;
        for index in 0..streams {
            let par = &*(**(*ctx).streams.add(index)).codecpar;
            let (width, height) = (par.width.max(0) as u32, par.height.max(0) as u32);
            let is_video = par.codec_type == ffi::AVMediaType::AVMEDIA_TYPE_VIDEO;
            if is_video && u64::from(width) * u64::from(height) > bounds.max_decoded_pixels {
                ffi::avformat_close_input(&mut ctx);
                return Err(OpenFailure {
                    code: av::Error::InvalidData,
                    oversized: Some(DeclaredSize {
                        stream: index,
                        width,
                        height,
                    }),
                });
            }
        }
        if probed.get().is_some_and(|p| p.apply(ctx)) {
            return Ok(wrap(ctx));
        }
        let mut per_stream: Vec<*mut ffi::AVDictionary> = vec![std::ptr::null_mut(); streams];
        let key = c"max_pixels";
        for dict in per_stream.iter_mut() {
            ffi::av_dict_set(dict, key.as_ptr(), max_pixels.as_ptr(), 0);
        }
        let found = ffi::avformat_find_stream_info(ctx, per_stream.as_mut_ptr());
        for dict in per_stream.iter_mut() {
            ffi::av_dict_free(dict);
        }
        if found < 0 {
            ffi::avformat_close_input(&mut ctx);
            return Err(failed(av::Error::from(found)));
        }
        if probed.get().is_none() {
            if let Some(probe) = Probe::capture(ctx) {
                // Another open may have probed meanwhile: theirs is as good.
                let _ = probed.set(probe);
            }
        }
        Ok(wrap(ctx))
    }
}

/// Makes `context` refuse pictures larger than `max_pixels` (width ×
/// height) before allocating them, FFmpeg's `max_pixels`.
pub fn limit_decoded_pixels(context: &mut av::codec::Context, max_pixels: u64) {
    // SAFETY: the context is live and not yet opened; `max_pixels` is a
    // plain field the decoder reads when it sets its dimensions.
    unsafe {
        (*context.as_mut_ptr()).max_pixels = max_pixels.min(i64::MAX as u64) as i64;
    }
}

/// Read-only bytes shared with the AVIO callback thread-safely.
struct SharedBytes(Arc<[u8]>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// The score over which a demuxer is sure of a source's first bytes
/// (`AVPROBE_SCORE_RETRY`): more bytes would not change its mind.
pub const PROBE_SCORE_SURE: i32 = ffi::AVPROBE_SCORE_MAX / 4;

/// Asks FFmpeg's format probes what `head` (the first bytes of a source)
/// looks like. `None` when no demuxer claims it: the bytes are not a media
/// container FFmpeg knows. Unless `last` (all the bytes FFmpeg's probing
/// would read), a demuxer must be sure enough that more bytes would not
/// change its mind (`AVPROBE_SCORE_RETRY`), as in `av_probe_input_buffer2`.
/// Gives the demuxer's name and its score.
pub fn probe_format(head: &[u8], file_name: &str, last: bool) -> Option<(String, i32)> {
    init();
    let mut buf = Vec::with_capacity(head.len() + ffi::AVPROBE_PADDING_SIZE as usize);
    buf.extend_from_slice(head);
    buf.resize(head.len() + ffi::AVPROBE_PADDING_SIZE as usize, 0);
    let name = std::ffi::CString::new(file_name.replace('\0', "")).ok()?;
    let probe = ffi::AVProbeData {
        filename: name.as_ptr(),
        buf: buf.as_mut_ptr(),
        buf_size: head.len() as i32,
        mime_type: std::ptr::null(),
    };
    let mut score = 0;
    // SAFETY: `probe` points at a buffer of `buf_size` bytes followed by the
    // zeroed padding FFmpeg requires, and a NUL-terminated file name; both
    // outlive the call. The returned pointer is to a static AVInputFormat.
    let format = unsafe { ffi::av_probe_input_format3(&probe, 1, &mut score) };
    let min_score = if last { 0 } else { PROBE_SCORE_SURE };
    if format.is_null() || score <= min_score {
        return None;
    }
    // SAFETY: a non-null AVInputFormat has a static NUL-terminated name.
    Some((unsafe { cstr((*format).name) }, score))
}

/// Copies a C string FFmpeg owns into a `String`; null gives "".
///
/// # Safety
/// `p` is null or points to a NUL-terminated string valid for the call.
unsafe fn cstr(p: *const std::os::raw::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: the caller guarantees a valid NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// The fields of a stream's `AVCodecParameters` stills needs, copied out.
#[derive(Debug, Clone)]
pub struct CodecParams {
    pub codec_name: String,
    pub profile: Option<String>,
    pub level: Option<i32>,
    pub pixel_format: Option<av::format::Pixel>,
    pub bits_per_raw_sample: Option<u8>,
    pub width: u32,
    pub height: u32,
    pub sample_aspect_ratio: Option<Ratio>,
    pub interlaced: Option<bool>,
    /// The field shown first of an interlaced stream, from `field_order`
    /// (which FFmpeg sets from the first pictures it probes).
    pub first_field: Option<Field>,
    /// H.273 code points, as FFmpeg stores them.
    pub color_primaries: u8,
    pub color_trc: u8,
    pub color_space: u8,
    /// 0 unspecified, 1 limited, 2 full (`AVColorRange`).
    pub color_range: u8,
    /// `AVChromaLocation`: 0 unspecified, 1 left, 2 center, 3 top-left, …
    pub chroma_location: u8,
}

impl CodecParams {
    pub fn of(stream: &av::format::stream::Stream) -> CodecParams {
        let params = stream.parameters();
        // SAFETY: `params` borrows the stream's live AVCodecParameters; we
        // copy plain fields out and call FFmpeg's pure lookup functions,
        // which return static strings.
        unsafe {
            let p = &*params.as_ptr();
            let profile_name = ffi::avcodec_profile_name(p.codec_id, p.profile);
            // The container's ratio (MP4 `pasp`, Matroska display size)
            // wins over the bitstream's, as in `av_guess_sample_aspect_ratio`.
            let ratio =
                |r: ffi::AVRational| Ratio::new(r.num as i64, r.den as i64).filter(|r| r.num > 0);
            let sar = ratio((*stream.as_ptr()).sample_aspect_ratio)
                .or_else(|| ratio(p.sample_aspect_ratio));
            // `format` is a plain int; only values inside the enum's range
            // (generated from these same headers, contiguous from 0 to
            // AV_PIX_FMT_NB) may become an `AVPixelFormat`.
            let known = 0..ffi::AVPixelFormat::AV_PIX_FMT_NB as i32;
            let pixel_format = known.contains(&p.format).then(|| {
                av::format::Pixel::from(std::mem::transmute::<i32, ffi::AVPixelFormat>(p.format))
            });
            CodecParams {
                codec_name: cstr(ffi::avcodec_get_name(p.codec_id)),
                profile: (!profile_name.is_null()).then(|| cstr(profile_name)),
                level: (p.level >= 0).then_some(p.level),
                pixel_format,
                bits_per_raw_sample: (p.bits_per_raw_sample > 0)
                    .then_some(p.bits_per_raw_sample as u8),
                width: p.width.max(0) as u32,
                height: p.height.max(0) as u32,
                sample_aspect_ratio: sar,
                interlaced: match p.field_order {
                    ffi::AVFieldOrder::AV_FIELD_UNKNOWN => None,
                    ffi::AVFieldOrder::AV_FIELD_PROGRESSIVE => Some(false),
                    _ => Some(true),
                },
                first_field: match p.field_order {
                    // Top coded first and shown first, or bottom coded
                    // first and top shown first.
                    ffi::AVFieldOrder::AV_FIELD_TT | ffi::AVFieldOrder::AV_FIELD_BT => {
                        Some(Field::Top)
                    }
                    ffi::AVFieldOrder::AV_FIELD_BB | ffi::AVFieldOrder::AV_FIELD_TB => {
                        Some(Field::Bottom)
                    }
                    _ => None,
                },
                color_primaries: p.color_primaries as u8,
                color_trc: p.color_trc as u8,
                color_space: p.color_space as u8,
                color_range: p.color_range as u8,
                chroma_location: p.chroma_location as u8,
            }
        }
    }
}

/// Bit depth and chroma subsampling (log2 x, log2 y) of a pixel format.
pub fn pixel_format_shape(format: av::format::Pixel) -> Option<(u8, (u8, u8))> {
    let desc = format.descriptor()?;
    // SAFETY: a descriptor from `av_pix_fmt_desc_get` is static; `comp[0]`
    // exists for every format with at least one component.
    let depth = unsafe {
        let d = &*desc.as_ptr();
        if d.nb_components == 0 {
            return None;
        }
        d.comp[0].depth as u8
    };
    Some((depth, (desc.log2_chroma_w(), desc.log2_chroma_h())))
}

/// One demuxed packet, reduced to what the frame index keeps.
#[derive(Debug, Clone, Copy)]
pub struct PacketInfo {
    pub stream: usize,
    pub pts: Option<i64>,
    pub duration: i64,
    pub key: bool,
    /// FFmpeg's `AV_PKT_FLAG_DISCARD`: outside the edit list, decode but do
    /// not show.
    pub discard: bool,
    /// FFmpeg's `AV_PKT_FLAG_CORRUPT`: the demuxer knows the payload is
    /// damaged (e.g. cut short by the end of a truncated file).
    pub corrupt: bool,
}

/// Whether a demuxer's read error means the bytes ahead are damaged, rather
/// than that the source could not be read (a network error, a timeout).
fn ends_readable_data(e: av::Error) -> bool {
    match e {
        av::Error::InvalidData | av::Error::PatchWelcome | av::Error::Bug | av::Error::Bug2 => true,
        // A packet size made of garbage that FFmpeg cannot allocate.
        av::Error::Other { errno } => errno == ffi::ENOMEM,
        _ => false,
    }
}

/// How many read errors in a row end demuxing: a demuxer that can resync
/// does so within a few packets, and a hostile file must not spin forever.
const MAX_CONSECUTIVE_READ_ERRORS: usize = 64;

impl Demuxer {
    /// Reads the next packet of any stream, with its payload. `Ok(None)` at
    /// the end of the data; a truncated file simply ends early.
    pub fn read_packet(&mut self) -> Result<Option<(PacketInfo, av::Packet)>, av::Error> {
        let mut errors = 0;
        loop {
            let mut packet = av::Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) => {
                    // SAFETY: `packet` is a valid, filled AVPacket we own;
                    // `flags` is a plain integer field.
                    let flags = unsafe { (*av::packet::Ref::as_ptr(&packet)).flags };
                    let info = PacketInfo {
                        stream: packet.stream(),
                        pts: packet.pts(),
                        duration: packet.duration(),
                        key: flags & ffi::AV_PKT_FLAG_KEY != 0,
                        discard: flags & ffi::AV_PKT_FLAG_DISCARD != 0,
                        corrupt: flags & ffi::AV_PKT_FLAG_CORRUPT != 0,
                    };
                    return Ok(Some((info, packet)));
                }
                Err(av::Error::Eof) => return Ok(None),
                Err(av::Error::InvalidData) if errors < MAX_CONSECUTIVE_READ_ERRORS => {
                    errors += 1;
                }
                // Damage the demuxer cannot read past (a packet size made
                // of garbage it cannot allocate, no resync): the readable
                // data ends there, as it does for `ffmpeg`, and what was
                // read before stays good.
                Err(e) if ends_readable_data(e) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    /// Tells the demuxer to drop every stream but `keep`, so reading packets
    /// for one track does not copy the others' payloads.
    pub fn discard_all_but(&mut self, keep: usize) {
        // SAFETY: the context is live and owned by `self.input`; `streams`
        // holds `nb_streams` valid stream pointers, and `discard` is a plain
        // field the demuxer reads before each packet.
        unsafe {
            let ctx = &mut *self.input.as_mut_ptr();
            for i in 0..ctx.nb_streams as usize {
                if i != keep {
                    (**ctx.streams.add(i)).discard = ffi::AVDiscard::AVDISCARD_ALL;
                }
            }
        }
    }
}

/// Whether a stream's container says its pictures carry alpha beside the
/// codec's own bitstream: Matroska/WebM `AlphaMode` 1 (VP8/VP9 alpha in
/// `BlockAdditional`), which FFmpeg exposes as the `alpha_mode` tag.
pub fn stream_has_side_alpha(stream: &av::format::stream::Stream) -> bool {
    stream.metadata().get("alpha_mode") == Some("1")
}

/// The decoder that keeps a stream's side-carried alpha, where the default
/// one drops it: FFmpeg's native VP8 and VP9 decoders ignore the alpha
/// Matroska carries beside each block; libvpx's decode it into `yuva420p`.
/// `None` when the stream has no such alpha or this FFmpeg lacks libvpx.
pub fn alpha_decoder(stream: &av::format::stream::Stream) -> Option<av::Codec> {
    if !stream_has_side_alpha(stream) {
        return None;
    }
    let name = match stream.parameters().id() {
        av::codec::Id::VP9 => "libvpx-vp9",
        av::codec::Id::VP8 => "libvpx",
        _ => return None,
    };
    av::decoder::find_by_name(name)
}

/// The name of FFmpeg's default decoder for a codec name, if it has one.
pub fn decoder_name(codec: &str) -> Option<String> {
    init();
    av::decoder::find_by_name(codec)
        .or_else(|| {
            let id = codec_id_by_name(codec)?;
            av::decoder::find(id)
        })
        .map(|c| c.name().to_string())
}

pub(crate) fn codec_id_by_name(name: &str) -> Option<av::codec::Id> {
    let name = std::ffi::CString::new(name).ok()?;
    // SAFETY: `name` is NUL-terminated and lives through the call, which
    // only reads it; the descriptor returned is static.
    unsafe {
        let desc = ffi::avcodec_descriptor_get_by_name(name.as_ptr());
        (!desc.is_null()).then(|| av::codec::Id::from((*desc).id))
    }
}

/// The libavcodec version, as FFmpeg prints it (`59.37.100`).
pub fn version() -> String {
    let v = av::codec::version();
    format!("libavcodec {}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
}

impl Demuxer {
    /// Positions the demuxer at the last sync packet of `stream` whose
    /// timestamp is at or before `ts` (in the stream's time base).
    pub fn seek_stream(&mut self, stream: usize, ts: i64) -> Result<(), av::Error> {
        // SAFETY: the context is live and owned by `self.input`; the
        // stream index exists (the caller got it from this context), and
        // `avformat_seek_file` has no other preconditions.
        let ret = unsafe {
            ffi::avformat_seek_file(self.input.as_mut_ptr(), stream as i32, i64::MIN, ts, ts, 0)
        };
        if ret < 0 {
            Err(av::Error::from(ret))
        } else {
            Ok(())
        }
    }
}

/// The properties of a pixel format that decide how it is converted.
pub struct PixelFormatFlags {
    pub rgb: bool,
    /// The format stores alpha (`AV_PIX_FMT_FLAG_ALPHA`; palettes count).
    pub alpha: bool,
}

pub fn pixel_format_flags(format: av::format::Pixel) -> PixelFormatFlags {
    // SAFETY: descriptors from `av_pix_fmt_desc_get` are static.
    let flags = format
        .descriptor()
        .map_or(0, |d| unsafe { (*d.as_ptr()).flags });
    PixelFormatFlags {
        rgb: flags & ffi::AV_PIX_FMT_FLAG_RGB as u64 != 0,
        alpha: flags & ffi::AV_PIX_FMT_FLAG_ALPHA as u64 != 0,
    }
}

/// FFmpeg's pixel format of a name (`yuv420p10le`); `AV_PIX_FMT_NONE` when
/// unknown.
pub fn pixel_by_name(name: &str) -> ffi::AVPixelFormat {
    let Ok(name) = std::ffi::CString::new(name) else {
        return ffi::AVPixelFormat::AV_PIX_FMT_NONE;
    };
    // SAFETY: `name` is NUL-terminated and outlives the call.
    unsafe { ffi::av_get_pix_fmt(name.as_ptr()) }
}

/// A swscale context that converts pictures between pixel formats at one
/// size.
pub struct Scaler(av::software::scaling::Context);

// SAFETY: an SwsContext has no thread affinity; it is only unsafe to use
// from two threads at once, which `&mut self` on `run` already rules out.
unsafe impl Send for Scaler {}

impl Scaler {
    /// A format converter (no resizing) with exact rounding and full
    /// chroma interpolation, so the conversion adds no error of its own
    /// beyond quantisation.
    pub fn converter(
        from: av::format::Pixel,
        to: av::format::Pixel,
        width: u32,
        height: u32,
    ) -> Result<Scaler, av::Error> {
        use av::software::scaling::Flags;
        av::software::scaling::Context::get(
            from,
            width,
            height,
            to,
            width,
            height,
            Flags::POINT | Flags::ACCURATE_RND | Flags::FULL_CHR_H_INT | Flags::FULL_CHR_H_INP,
        )
        .map(Scaler)
    }

    pub fn run(
        &mut self,
        input: &av::frame::Video,
        output: &mut av::frame::Video,
    ) -> Result<(), av::Error> {
        self.0.run(input, output)
    }
}

/// For a stream whose packets carry no timestamps (a raw elementary
/// stream), the order in which its pictures are shown: decodes every packet
/// once, tagging each with its decode position as a timestamp, and reads the
/// tags back in output order. Returns decode positions in presentation
/// order; packets that yield no picture are absent.
pub fn presentation_order(source: &Source, stream: usize) -> Result<Vec<usize>, av::Error> {
    let mut demuxer = Demuxer::open(source).map_err(|f| f.code)?;
    demuxer.discard_all_but(stream);
    let params = demuxer
        .input
        .stream(stream)
        .ok_or(av::Error::StreamNotFound)?
        .parameters();
    let mut context = av::codec::Context::from_parameters(params)?;
    limit_decoded_pixels(&mut context, source.bounds.max_decoded_pixels);
    let mut decoder = context.decoder().video()?;
    let mut order = Vec::new();
    let mut frame = av::frame::Video::empty();
    let mut drain = |decoder: &mut av::decoder::Video, order: &mut Vec<usize>| {
        while decoder.receive_frame(&mut frame).is_ok() {
            if let Some(tag) = frame.pts() {
                order.push(tag as usize);
            }
        }
    };
    let mut position = 0i64;
    while let Some((info, mut packet)) = demuxer.read_packet()? {
        if info.stream != stream {
            continue;
        }
        packet.set_pts(Some(position));
        packet.set_dts(Some(position));
        position += 1;
        // A corrupt packet costs its own picture, not the ordering.
        let _ = decoder.send_packet(&packet);
        drain(&mut decoder, &mut order);
    }
    let _ = decoder.send_eof();
    drain(&mut decoder, &mut order);
    Ok(order)
}

/// A decoded picture held by reference (`av_frame_ref`): its buffers stay
/// alive, unchanged and uncopied, for as long as this lives, while the
/// decoder goes on with buffers of its own.
pub struct FrameRef(av::frame::Video);

impl FrameRef {
    pub fn new(frame: &av::frame::Video) -> Result<FrameRef, av::Error> {
        let mut held = av::frame::Video::empty();
        // SAFETY: both pointers are valid AVFrames we hold; `held` is empty
        // (fresh from `av_frame_alloc`), which `av_frame_ref` requires, and
        // on failure it is left empty and freed by its own `Drop`.
        let ret = unsafe { ffi::av_frame_ref(held.as_mut_ptr(), frame.as_ptr()) };
        if ret < 0 {
            return Err(av::Error::from(ret));
        }
        Ok(FrameRef(held))
    }

    /// Takes ownership of a picture nothing else refers to (a conversion
    /// result).
    pub fn owned(frame: av::frame::Video) -> FrameRef {
        FrameRef(frame)
    }

    pub fn frame(&self) -> &av::frame::Video {
        &self.0
    }
}
