//! The ffmpeg and ffprobe CLIs (FFmpeg 5.1 with zscale and libplacebo,
//! installed by `platform/debian/setup.sh`): the independent reference the
//! tests compare stills with, and the maker of media at test time. A
//! missing CLI is a test failure, not a skip: these tests exist to compare
//! against it.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the ffmpeg CLI quietly with `args` (stdin fed from `input`) and
/// returns what it wrote to stdout.
pub fn ffmpeg(args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
    run(
        "ffmpeg",
        &["-hide_banner", "-nostdin", "-loglevel", "error"],
        args,
        input,
    )
}

/// Runs the ffmpeg CLI quietly with `args` and the output file `output`
/// (overwritten), and returns what it wrote there.
pub fn ffmpeg_to_file(args: &[&str], output: &Path) -> Vec<u8> {
    let out = output.to_str().expect("a UTF-8 path");
    let mut all = args.to_vec();
    all.extend_from_slice(&["-y", out]);
    ffmpeg(&all, None);
    std::fs::read(output).unwrap_or_else(|e| panic!("{}: {e}", output.display()))
}

/// The first frame ffmpeg makes of `input` (its input options and `-i`)
/// through the filter chain `vf`, as raw video in the chain's last format.
pub fn first_raw_frame(input: &[&str], vf: &str) -> Vec<u8> {
    let mut args = input.to_vec();
    args.extend_from_slice(&["-vf", vf, "-frames:v", "1", "-f", "rawvideo", "-"]);
    ffmpeg(&args, None)
}

/// Runs the ffprobe CLI quietly with `args` and returns its stdout.
pub fn ffprobe(args: &[&str]) -> String {
    let stdout = run("ffprobe", &["-hide_banner", "-v", "error"], args, None);
    String::from_utf8(stdout).expect("ffprobe writes UTF-8")
}

/// How long a reference run may take. The slowest here (libplacebo tone
/// mapping on lavapipe) takes seconds.
const LIMIT: Duration = Duration::from_secs(120);

/// Runs `program`; a run that outlasts [`LIMIT`] is killed and run once
/// more. FFmpeg 5.1's libplacebo filter on Mesa 25's lavapipe was seen to
/// hang, very rarely, in a futex wait inside the reference process: that
/// is the reference tool's flake, not stills', and must neither hang nor
/// fail the suite unless it happens twice in a row.
fn run(program: &str, quiet: &[&str], args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
    match run_once(program, quiet, args, input) {
        Some(stdout) => stdout,
        None => {
            eprintln!("{program} {args:?} ran past {LIMIT:?}; killed it, running it again");
            run_once(program, quiet, args, input)
                .unwrap_or_else(|| panic!("{program} {args:?} ran past {LIMIT:?} twice in a row"))
        }
    }
}

/// One run of `program`: its stdout, or `None` when it ran past [`LIMIT`]
/// (and was killed).
fn run_once(program: &str, quiet: &[&str], args: &[&str], input: Option<&[u8]>) -> Option<Vec<u8>> {
    let mut command = Command::new(program);
    command
        .args(quiet)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // libplacebo (Vulkan) wants a runtime dir; lavapipe needs nothing else.
        .env("XDG_RUNTIME_DIR", std::env::temp_dir());
    let mut child = command.spawn().unwrap_or_else(|e| {
        panic!("cannot run the {program} CLI ({e}); install it with platform/debian/setup.sh")
    });
    // Fed and drained from their own threads so that a full pipe cannot
    // deadlock the run, and the wait below can give up.
    let writer = input.map(|data| {
        let mut stdin = child.stdin.take().expect("piped stdin");
        let data = data.to_vec();
        std::thread::spawn(move || stdin.write_all(&data))
    });
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        let mut pipe = pipe.expect("piped output");
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).map(|_| bytes)
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        match child
            .try_wait()
            .unwrap_or_else(|e| panic!("{program}: {e}"))
        {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    if let Some(writer) = writer {
        writer
            .join()
            .expect("the stdin writer thread")
            .unwrap_or_else(|e| panic!("{program} stdin: {e}"));
    }
    let stdout = stdout.join().expect("the stdout reader").expect("stdout");
    let stderr = stderr.join().expect("the stderr reader").expect("stderr");
    assert!(
        status.success(),
        "{program} {args:?} failed ({status}): {}",
        String::from_utf8_lossy(&stderr)
    );
    Some(stdout)
}
