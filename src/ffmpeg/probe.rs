//! What probing a source found, kept so that its later opens skip probing.
//!
//! `avformat_find_stream_info` decodes a stream's first pictures to complete
//! its codec parameters (pixel format, colour, reorder depth): for a 1080p
//! H.264 track 8–12 ms, paid again by every decoder a batch opens on the
//! same file. Where the container's header alone lays every stream out
//! (MP4/MOV, Matroska/WebM), a reopen takes the first probe's parameters
//! instead, and the demuxer the first probe chose.

use std::ffi::CStr;

use super::ffi;

/// The demuxers whose header names every stream with its codec and
/// timing, so that a reopen with the probed parameters demuxes exactly as
/// a probed open does. Formats whose streams appear as packets are read
/// (MPEG-TS/PS, raw elementary streams) are probed every time.
const HEADER_FORMATS: [&str; 2] = ["mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"];

/// A source's demuxer and each stream's codec parameters after probing.
pub struct Probe {
    format: *const ffi::AVInputFormat,
    streams: Vec<*mut ffi::AVCodecParameters>,
}

// SAFETY: `format` points at one of libavformat's static demuxer
// descriptions, immutable and alive for the whole process; `streams` are
// parameter sets this value alone owns, written once in `capture` and only
// read (copied from) afterwards, so sharing them between threads is sound.
unsafe impl Send for Probe {}
// SAFETY: as for `Send`: nothing reachable through `&Probe` is mutated.
unsafe impl Sync for Probe {}

impl Probe {
    /// What probing found in `ctx`, an input `avformat_find_stream_info`
    /// has just completed; `None` for a format every open must probe, or
    /// when a copy cannot be allocated.
    ///
    /// # Safety
    /// `ctx` must point at a live, opened input context.
    pub unsafe fn capture(ctx: *const ffi::AVFormatContext) -> Option<Probe> {
        let format = (*ctx).iformat;
        if format.is_null()
            || !HEADER_FORMATS.contains(&CStr::from_ptr((*format).name).to_str().ok()?)
        {
            return None;
        }
        let mut probe = Probe {
            format,
            streams: Vec::with_capacity((*ctx).nb_streams as usize),
        };
        for i in 0..(*ctx).nb_streams as usize {
            let copy = ffi::avcodec_parameters_alloc();
            if copy.is_null() {
                return None;
            }
            // Owned by `probe` from here on, freed by its `Drop`.
            probe.streams.push(copy);
            if ffi::avcodec_parameters_copy(copy, (**(*ctx).streams.add(i)).codecpar) < 0 {
                return None;
            }
        }
        Some(probe)
    }

    /// The demuxer the probe chose, to open the source with again.
    pub fn format(&self) -> *const ffi::AVInputFormat {
        self.format
    }

    /// Gives `ctx`, opened again on the probed source with its header read
    /// but not probed, the probed parameters. `false`, leaving it to be
    /// probed, when its streams are not the probed ones (the file changed)
    /// or the demuxer may add streams as it reads.
    ///
    /// # Safety
    /// `ctx` must point at a live input context `avformat_open_input` has
    /// just opened, from which nothing has been read.
    pub unsafe fn apply(&self, ctx: *mut ffi::AVFormatContext) -> bool {
        let streams = (*ctx).nb_streams as usize;
        if (*ctx).ctx_flags & ffi::AVFMTCTX_NOHEADER != 0 || streams != self.streams.len() {
            return false;
        }
        let par = |i: usize| (**(*ctx).streams.add(i)).codecpar;
        let same = self.streams.iter().enumerate().all(|(i, &probed)| {
            let (probed, opened) = (&*probed, &*par(i));
            probed.codec_type == opened.codec_type && probed.codec_id == opened.codec_id
        });
        same && self
            .streams
            .iter()
            .enumerate()
            .all(|(i, &probed)| ffi::avcodec_parameters_copy(par(i), probed) >= 0)
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        for params in &mut self.streams {
            // SAFETY: each was allocated by `avcodec_parameters_alloc` in
            // `capture`, is owned by this value alone and freed once here.
            unsafe { ffi::avcodec_parameters_free(params) };
        }
    }
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // SAFETY: `format` is one of libavformat's static descriptions,
        // whose `name` is a NUL-terminated static string.
        let name = unsafe { CStr::from_ptr((*self.format).name) };
        f.debug_struct("Probe")
            .field("format", &name)
            .field("streams", &self.streams.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;
    use std::path::Path;

    use super::*;
    use crate::ffmpeg::{Demuxer, Origin, ReadBounds, Source};

    fn fixture(name: &str) -> Source {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        Source::new(
            Origin::Path(path),
            ReadBounds {
                timeout: std::time::Duration::from_secs(5),
                max_decoded_pixels: 1 << 26,
            },
        )
    }

    /// The source's file opened with `avformat_open_input` alone (with
    /// `format` when not null): its header read, nothing probed.
    fn header_only(
        source: &Source,
        format: *const ffi::AVInputFormat,
    ) -> *mut ffi::AVFormatContext {
        let Origin::Path(path) = &source.origin else {
            unreachable!("fixtures are paths")
        };
        let url = CString::new(path.to_str().unwrap()).unwrap();
        let mut ctx = std::ptr::null_mut();
        // SAFETY: a null out-pointer for FFmpeg to fill, a NUL-terminated
        // path, a static demuxer or null, and no options.
        let opened = unsafe {
            ffi::avformat_open_input(&mut ctx, url.as_ptr(), format, std::ptr::null_mut())
        };
        assert!(opened >= 0, "{path:?} did not open");
        ctx
    }

    /// The first video stream's pixel format in `ctx`.
    fn pixel_format(ctx: *mut ffi::AVFormatContext) -> i32 {
        // SAFETY: `ctx` is an open input whose first stream is video.
        unsafe { (*(**(*ctx).streams).codecpar).format }
    }

    fn close(mut ctx: *mut ffi::AVFormatContext) {
        // SAFETY: `ctx` was opened by `header_only` and is closed once.
        unsafe { ffi::avformat_close_input(&mut ctx) };
    }

    #[test]
    fn a_reopen_takes_what_probing_found_in_place_of_probing() {
        for name in ["h264_bframes.mp4", "h264_opengop_pyramid.mkv", "vp9.webm"] {
            let source = fixture(name);
            let first = Demuxer::open(&source).expect("opens");
            let probe = source.probed.get().expect("probed once");
            let probed = first.input.stream(0).unwrap().parameters();
            // SAFETY: the stream's parameters are live while `first` is.
            let probed_format = unsafe { (*probed.as_ptr()).format };
            assert!(probed_format >= 0, "{name}: probing found the pixel format");

            let ctx = header_only(&source, std::ptr::null());
            // The header alone does not name the pixel format: only
            // decoding (probing) or the kept probe does.
            assert_eq!(pixel_format(ctx), -1, "{name}: the header names it");
            close(ctx);

            let ctx = header_only(&source, probe.format());
            // SAFETY: `ctx` was just opened and nothing was read from it.
            assert!(unsafe { probe.apply(ctx) }, "{name}: the probe applies");
            assert_eq!(pixel_format(ctx), probed_format, "{name}");
            close(ctx);

            let again = Demuxer::open(&source).expect("opens again");
            let reopened = again.input.stream(0).unwrap().parameters();
            // SAFETY: both parameter sets are live while their demuxers are.
            let (a, b) = unsafe { (&*probed.as_ptr(), &*reopened.as_ptr()) };
            assert_eq!(
                (
                    a.codec_id,
                    a.width,
                    a.height,
                    a.format,
                    a.video_delay,
                    a.color_range
                ),
                (
                    b.codec_id,
                    b.width,
                    b.height,
                    b.format,
                    b.video_delay,
                    b.color_range
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn an_in_memory_file_is_probed_once_too() {
        let Origin::Path(path) = fixture("h264_bframes.mp4").origin else {
            unreachable!("fixtures are paths")
        };
        let bytes: std::sync::Arc<[u8]> = std::fs::read(path).unwrap().into();
        let source = Source::new(Origin::Bytes(bytes), fixture("vp9.webm").bounds);
        let first = Demuxer::open(&source).expect("opens");
        assert!(source.probed.get().is_some());
        let again = Demuxer::open(&source).expect("opens again");
        let [a, b] = [&first, &again].map(|d| d.input.stream(0).unwrap().parameters());
        // SAFETY: both parameter sets are live while their demuxers are.
        let (a, b) = unsafe { (&*a.as_ptr(), &*b.as_ptr()) };
        assert!(a.format >= 0);
        assert_eq!(
            (a.codec_id, a.width, a.height, a.format, a.video_delay),
            (b.codec_id, b.width, b.height, b.format, b.video_delay)
        );
    }

    #[test]
    fn streams_that_appear_as_they_are_read_are_probed_every_time() {
        let source = fixture("mpegts_start.ts");
        Demuxer::open(&source).expect("opens");
        assert!(source.probed.get().is_none());
    }

    #[test]
    fn a_probe_of_other_streams_does_not_apply() {
        let two = fixture("two_video_tracks.mp4");
        Demuxer::open(&two).expect("opens");
        let probe = two.probed.get().expect("probed");
        let ctx = header_only(&fixture("h264_bframes.mp4"), probe.format());
        // SAFETY: `ctx` was just opened and nothing was read from it.
        assert!(!unsafe { probe.apply(ctx) });
        close(ctx);
    }
}
