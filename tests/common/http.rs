//! A local HTTP server for one file that honours byte ranges (`Range:
//! bytes=A-` and `bytes=A-B`, answered `206 Partial Content`) and counts
//! the bytes of file it sends, so a test can tell how much of a source a
//! reader fetched. Each response closes its connection, as FFmpeg's HTTP
//! client asks by default.
//!
//! The count is what was handed to the kernel: a client that closes a
//! connection early leaves what the socket buffers already held counted.
//! The server's send buffer is kept small, so that what it has written
//! runs ahead of what the client read by little more than the client's
//! receive buffer (about 128 KiB on Linux by default), not by the several
//! megabytes a loopback connection otherwise buffers.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Bytes written to a connection at a time.
const SLICE: usize = 16 * 1024;

/// The server's socket send buffer (Linux doubles what it is asked).
const SEND_BUFFER: usize = 16 * 1024;

pub struct RangeServer {
    port: u16,
    served: Arc<AtomicU64>,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RangeServer {
    /// Serves `file` at every path of `http://127.0.0.1:PORT/`.
    pub fn serve(file: Vec<u8>) -> RangeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let port = listener.local_addr().expect("bound").port();
        let file = Arc::new(file);
        let served = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (served, requests, stop) = (served.clone(), requests.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::Acquire) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (file, served, requests) = (file.clone(), served.clone(), requests.clone());
                    std::thread::spawn(move || {
                        requests.fetch_add(1, Ordering::Relaxed);
                        let _ = respond(stream, &file, &served);
                    });
                }
            })
        };
        RangeServer {
            port,
            served,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }

    /// Bytes of the file sent so far.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for RangeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wakes the accept loop to see the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The byte range a request asks for, inclusive, within `len` bytes.
fn range(header: &str, len: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let start: u64 = a.trim().parse().ok()?;
    let end = match b.trim() {
        "" => len.checked_sub(1)?,
        b => b.parse::<u64>().ok()?.min(len.checked_sub(1)?),
    };
    (start <= end).then_some((start, end))
}

fn respond(stream: TcpStream, file: &[u8], served: &AtomicU64) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut wanted = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("range") {
                wanted = range(value, file.len() as u64);
            }
        }
    }
    let mut out = stream;
    rustix::net::sockopt::set_socket_send_buffer_size(&out, SEND_BUFFER)?;
    let len = file.len() as u64;
    let (status, start, end) = match wanted {
        Some((start, end)) => ("206 Partial Content", start, end),
        None if len == 0 => ("200 OK", 0, 0),
        None => ("200 OK", 0, len - 1),
    };
    let body = if len == 0 {
        &[][..]
    } else {
        &file[start as usize..=end as usize]
    };
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nAccept-Ranges: bytes\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if wanted.is_some() {
        head.push_str(&format!("Content-Range: bytes {start}-{end}/{len}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.set_write_timeout(Some(Duration::from_secs(30)))?;
    for slice in body.chunks(SLICE) {
        out.write_all(slice)?;
        served.fetch_add(slice.len() as u64, Ordering::Relaxed);
    }
    out.flush()?;
    let _ = out.shutdown(Shutdown::Write);
    Ok(())
}

/// A server that accepts every connection and never answers: what a
/// stalled or hostile origin looks like to a client without timeouts.
/// Connections are held open until the server is dropped.
pub struct SilentServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentServer {
    pub fn start() -> SilentServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let port = listener.local_addr().expect("bound").port();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut held = Vec::new();
                for stream in listener.incoming() {
                    if stop.load(Ordering::Acquire) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        held.push(stream);
                    }
                }
            })
        };
        SilentServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
