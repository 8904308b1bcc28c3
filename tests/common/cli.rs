//! Running the `stills` binary as a user does, with a deadline, and a
//! small HTTP server on the loopback address for URL sources.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Far longer than any command here needs: reaching it means a hang.
const HANG: Duration = Duration::from_secs(300);

pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout's JSON lines, each a whole value.
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| {
                    panic!("not a JSON line ({e}): {l}\nstderr: {}", self.stderr)
                })
            })
            .collect()
    }
}

/// Runs `stills` with `args` and `stdin`, failing the test after `HANG`.
pub fn stills(args: &[&str], stdin: &str) -> Run {
    stills_with_env(args, stdin, &[])
}

/// Runs `stills` with `args`, `stdin` and the environment variables `env`
/// set, failing the test after `HANG`.
pub fn stills_with_env(args: &[&str], stdin: &str, env: &[(&str, &Path)]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stills"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the stills binary runs");
    let mut input = child.stdin.take().expect("piped");
    let text = stdin.to_string();
    let feeder = thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            pipe.read_to_string(&mut text).map(|_| text)
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waitable") {
            break status;
        }
        if started.elapsed() > HANG {
            child.kill().expect("killable");
            child.wait().expect("reaped");
            panic!("hang: `stills {}` ran past {HANG:?}", args.join(" "));
        }
        thread::sleep(Duration::from_millis(10));
    };
    let _ = feeder.join();
    let text = |h: thread::JoinHandle<std::io::Result<String>>| {
        h.join().expect("reader thread").expect("UTF-8 output")
    };
    let run = Run {
        status,
        stdout: text(stdout),
        stderr: text(stderr),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

/// A fixture's path as a string.
pub fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .to_str()
        .expect("UTF-8 path")
        .to_string()
}

/// Serves `tests/fixtures/` over HTTP/1.1 on 127.0.0.1 with byte ranges
/// (FFmpeg seeks with them), 404 for anything else. Returns the base URL.
/// It answers at most `MAX_REQUESTS` requests and stops after `LIFETIME`.
pub fn serve_fixtures() -> String {
    const MAX_REQUESTS: usize = 500;
    const LIFETIME: Duration = Duration::from_secs(240);
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("bound");
    listener.set_nonblocking(true).expect("non-blocking");
    thread::spawn(move || {
        let started = Instant::now();
        let mut served = 0;
        while served < MAX_REQUESTS && started.elapsed() < LIFETIME {
            match listener.accept() {
                Ok((stream, _)) => {
                    served += 1;
                    let _ = stream.set_nonblocking(false);
                    thread::spawn(move || answer(stream));
                }
                Err(_) => thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    format!("http://{addr}")
}

fn answer(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().expect("clonable"));
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("range: bytes=") {
            let (a, b) = v.trim().split_once('-').unwrap_or((v.trim(), ""));
            range = Some((a.parse::<u64>().unwrap_or(0), b.parse::<u64>().ok()));
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let name = path.trim_start_matches('/');
    let file = PathBuf::from(fixture(name));
    let bytes = match (!name.contains("..")).then(|| std::fs::read(&file)) {
        Some(Ok(b)) => b,
        _ => {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            return;
        }
    };
    let len = bytes.len() as u64;
    let (head, body) = match range {
        Some((start, end)) if start < len => {
            let end = end.unwrap_or(len - 1).min(len - 1);
            (
                format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{end}/{len}\r\nContent-Length: {}\r\n",
                    end - start + 1
                ),
                &bytes[start as usize..=end as usize],
            )
        }
        Some(_) => (
            format!("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\nContent-Length: 0\r\n"),
            &bytes[..0],
        ),
        None => (
            format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n"),
            &bytes[..],
        ),
    };
    let head = format!(
        "{head}Accept-Ranges: bytes\r\nContent-Type: video/mp4\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}
