//! Reading a URL's bytes through FFmpeg's protocols (`http(s)://`,
//! `file:`…), for what stills reads itself from sources that are not local
//! paths: the first bytes (to sniff the format) and an MP4's boxes (the
//! sample tables, the `clap` box). Each seek is one range request to an
//! HTTP server, so only the bytes read travel.

use std::ffi::CString;
use std::io::{self, Read, Seek, SeekFrom};

use std::time::Duration;

use super::{av, ffi, init, timeout_options};

/// An open `AVIOContext` for reading; closed on drop.
pub struct UrlReader {
    ctx: *mut ffi::AVIOContext,
}

// SAFETY: the context is owned by this value alone and FFmpeg's AVIO has no
// thread affinity; it is used from one thread at a time (`&mut self`).
unsafe impl Send for UrlReader {}

impl UrlReader {
    /// Opens `url` for reading, each connect and read waiting at most
    /// `timeout`.
    pub fn open(url: &str, timeout: Duration) -> Result<UrlReader, av::Error> {
        init();
        let c_url = CString::new(url).map_err(|_| av::Error::InvalidData)?;
        let mut ctx = std::ptr::null_mut();
        // SAFETY: the dictionary's ownership passes to the raw pointer,
        // freed below with `av_dict_free`.
        let mut options = unsafe { timeout_options(timeout).disown() };
        // SAFETY: `ctx` is a valid out-pointer, `c_url` a NUL-terminated
        // string that outlives the call, `options` a dictionary we own; a
        // null interrupt callback is allowed.
        let ret = unsafe {
            ffi::avio_open2(
                &mut ctx,
                c_url.as_ptr(),
                ffi::AVIO_FLAG_READ,
                std::ptr::null(),
                &mut options,
            )
        };
        // SAFETY: `options` is null or the dictionary we own.
        unsafe { ffi::av_dict_free(&mut options) };
        if ret < 0 || ctx.is_null() {
            return Err(av::Error::from(ret));
        }
        Ok(UrlReader { ctx })
    }

    /// The source's size in bytes, when the protocol knows it.
    pub fn len(&mut self) -> Option<u64> {
        // SAFETY: `self.ctx` is a live context owned by `self`.
        let size = unsafe { ffi::avio_size(self.ctx) };
        u64::try_from(size).ok().filter(|&n| n > 0)
    }
}

fn io_error(code: i32) -> io::Error {
    io::Error::other(av::Error::from(code))
}

impl Read for UrlReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min(i32::MAX as usize) as i32;
        // SAFETY: `buf` is valid for `want` bytes of writes and `self.ctx`
        // is a live context owned by `self`.
        let got = unsafe { ffi::avio_read(self.ctx, buf.as_mut_ptr(), want) };
        if got == ffi::AVERROR_EOF {
            return Ok(0);
        }
        usize::try_from(got).map_err(|_| io_error(got))
    }
}

impl Seek for UrlReader {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let (offset, whence) = match pos {
            SeekFrom::Start(o) => (
                i64::try_from(o).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
                ffi::SEEK_SET,
            ),
            SeekFrom::Current(o) => (o, ffi::SEEK_CUR),
            SeekFrom::End(o) => (o, ffi::SEEK_END),
        };
        // SAFETY: `self.ctx` is a live context owned by `self`.
        let at = unsafe { ffi::avio_seek(self.ctx, offset, whence) };
        u64::try_from(at).map_err(|_| io_error(at as i32))
    }
}

impl Drop for UrlReader {
    fn drop(&mut self) {
        // SAFETY: `self.ctx` was opened by `avio_open2` and is closed once,
        // here; `avio_closep` nulls the pointer.
        unsafe {
            ffi::avio_closep(&mut self.ctx);
        }
    }
}
