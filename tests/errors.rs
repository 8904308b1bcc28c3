//! Inputs that are not a usable video give the typed error that names their
//! cause, the same one whether the asset is opened from a path or from bytes,
//! and every message names the source and says what is wrong.

mod common;

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use common::ffmpeg::ffmpeg_to_file;
use common::scratch::Scratch;
use stills::asset::TrackKind;
use stills::{Asset, Error};

/// A one-second 64×48 MPEG-4 video at 10 fps with its `moov` first, so a
/// cut near the start lands inside it.
fn faststart_mp4(scratch: &Scratch) -> Vec<u8> {
    ffmpeg_to_file(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=s=64x48:r=10:d=1",
            "-c:v",
            "mpeg4",
            "-movflags",
            "+faststart",
        ],
        &scratch.path("faststart.mp4"),
    )
}

/// Offset and size of the first top-level box of type `kind`.
fn find_box(mp4: &[u8], kind: &[u8; 4]) -> (usize, usize) {
    let mut at = 0;
    while at + 8 <= mp4.len() {
        let size = u32::from_be_bytes(mp4[at..at + 4].try_into().expect("4 bytes")) as usize;
        assert!(size >= 8, "ffmpeg writes plain 32-bit box sizes");
        if &mp4[at + 4..at + 8] == kind {
            return (at, size);
        }
        at += size;
    }
    panic!("no top-level {kind:?} box")
}

/// Bytes no container starts with: a fixed-seed xorshift stream, so every
/// run tests the same input.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect()
}

/// Opens `bytes` both ways: as the file `path` (already holding them) and
/// from memory.
fn open_both(path: &Path, bytes: &[u8]) -> [(String, stills::Result<Asset>); 2] {
    [
        (path.display().to_string(), Asset::open(path)),
        (
            format!("{} bytes", bytes.len()),
            Asset::from_bytes(bytes.to_vec()),
        ),
    ]
}

/// Asserts that an error which carries a reason gives one: not empty, and
/// not a label with nothing after it (`"…; FFmpeg: "`).
fn assert_has_reason(e: &Error, what: &str) {
    let reason = match e {
        Error::UnrecognizedFormat { reason, .. }
        | Error::Truncated { reason, .. }
        | Error::Malformed { reason, .. } => reason.trim(),
        _ => return,
    };
    assert!(
        !reason.is_empty() && !reason.ends_with(':'),
        "{what}: {e} gives no reason ({reason:?})"
    );
}

/// Asserts that both ways of opening fail as `is_expected` says, with a
/// message that names the source.
fn assert_fails(path: &Path, bytes: &[u8], what: &str, is_expected: fn(&Error) -> bool) {
    for (name, result) in open_both(path, bytes) {
        match result {
            Err(e) if is_expected(&e) => {
                let message = e.to_string();
                assert!(
                    message.contains(&name),
                    "{what}: the message {message:?} does not name {name:?}"
                );
                assert_has_reason(&e, what);
            }
            Err(e) => panic!("{what} ({name}): unexpected error {e:?}"),
            Ok(asset) => panic!("{what} ({name}): opened as {:?}", asset.container()),
        }
    }
}

#[test]
fn missing_file_is_an_io_not_found_error() {
    let scratch = Scratch::new("missing");
    let path = scratch.path("no-such-video.mp4");
    match Asset::open(&path) {
        Err(e @ Error::Io { .. }) => {
            let Error::Io { path: p, source } = &e else {
                unreachable!("matched above")
            };
            assert_eq!(p, &path);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        }
        other => panic!("expected Error::Io, got {other:?}"),
    }
}

#[test]
fn text_file_is_unrecognized() {
    let scratch = Scratch::new("text");
    let text = b"This is a plain text file, not a video.\nIt has two lines.\n";
    let path = scratch.write("notes.mp4", text);
    assert_fails(&path, text, "text file", |e| {
        matches!(e, Error::UnrecognizedFormat { .. })
    });
}

#[test]
fn empty_file_is_unrecognized() {
    let scratch = Scratch::new("empty");
    let path = scratch.write("empty.mp4", b"");
    assert_fails(&path, b"", "empty file", |e| {
        matches!(e, Error::UnrecognizedFormat { .. })
    });
}

#[test]
fn random_bytes_are_unrecognized() {
    let scratch = Scratch::new("random");
    let bytes = noise(64 * 1024);
    let path = scratch.write("random.bin", &bytes);
    assert_fails(&path, &bytes, "random bytes", |e| {
        matches!(e, Error::UnrecognizedFormat { .. })
    });
}

#[test]
fn audio_only_file_opens_without_a_video_track() {
    let scratch = Scratch::new("audio");
    let path = scratch.path("tone.m4a");
    let bytes = ffmpeg_to_file(&["-f", "lavfi", "-i", "sine=d=0.5", "-c:a", "aac"], &path);
    for (name, result) in open_both(&path, &bytes) {
        let asset = result.unwrap_or_else(|e| panic!("audio-only ({name}) must open: {e}"));
        let kinds: Vec<TrackKind> = asset.tracks().iter().map(|t| t.kind).collect();
        assert_eq!(kinds, [TrackKind::Audio], "{name}");
        assert_eq!(asset.tracks()[0].codec, "aac", "{name}");
        assert!(asset.video_tracks().is_empty(), "{name}");
        match asset.default_video_track() {
            Err(e @ Error::NoVideoTrack { .. }) => {
                assert!(e.to_string().contains(&name), "{e} does not name {name}");
            }
            other => panic!("{name}: expected NoVideoTrack, got {other:?}"),
        }
    }
}

#[test]
fn mp4_cut_inside_its_moov_is_truncated() {
    let scratch = Scratch::new("moov");
    let whole = faststart_mp4(&scratch);
    let (moov, size) = find_box(&whole, b"moov");
    let cut = &whole[..moov + size / 2];
    let path = scratch.write("cut-in-moov.mp4", cut);
    assert_fails(&path, cut, "MP4 cut inside moov", |e| {
        matches!(e, Error::Truncated { .. })
    });
}

/// A whole MP4 without its `moov`: nothing is cut, the index is missing
/// (ffprobe: "moov atom not found", "Invalid data found when processing
/// input").
#[test]
fn mp4_without_moov_is_malformed() {
    let scratch = Scratch::new("no-moov");
    let whole = faststart_mp4(&scratch);
    let (moov, size) = find_box(&whole, b"moov");
    let mut bytes = whole[..moov].to_vec();
    bytes.extend_from_slice(&whole[moov + size..]);
    let path = scratch.write("no-moov.mp4", &bytes);
    assert_fails(&path, &bytes, "MP4 without moov", |e| {
        matches!(e, Error::Malformed { .. })
    });
}

/// A box whose 64-bit size, added to its offset, wraps around to 0: a box
/// walker that adds without checking panics (debug) or walks the file
/// forever (release). ffprobe: "moov atom not found". The open runs on its
/// own thread so that a hang fails the test instead of stalling the suite.
#[test]
fn box_size_that_wraps_the_offset_is_rejected() {
    let scratch = Scratch::new("wrap");
    let whole = faststart_mp4(&scratch);
    let (ftyp, ftyp_size) = find_box(&whole, b"ftyp");
    assert_eq!(ftyp, 0, "ffmpeg writes ftyp first");
    let mut bytes = whole[..ftyp_size].to_vec();
    bytes.extend_from_slice(&1u32.to_be_bytes());
    bytes.extend_from_slice(b"free");
    bytes.extend_from_slice(&(u64::MAX - ftyp_size as u64 + 1).to_be_bytes());
    bytes.extend_from_slice(&whole[ftyp_size..]);
    let path = scratch.write("wrapping-box.mp4", &bytes);
    let (done, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        for (name, result) in open_both(&path, &bytes) {
            let _ = done.send((name, result.map(|a| a.container().clone())));
        }
    });
    for _ in 0..2 {
        let (name, result) = outcome
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|e| match e {
                RecvTimeoutError::Disconnected => panic!("the open panicked"),
                RecvTimeoutError::Timeout => panic!("hang: the open ran past 60 s"),
            });
        match result {
            Err(e @ (Error::Malformed { .. } | Error::Truncated { .. })) => {
                assert!(e.to_string().contains(&name), "{e} does not name {name}");
            }
            other => panic!("{name}: expected Malformed or Truncated, got {other:?}"),
        }
    }
}

/// A cut inside `mdat` loses frames but not the header: the asset opens,
/// and says it is truncated.
#[test]
fn mp4_cut_inside_its_mdat_opens_with_a_warning() {
    let scratch = Scratch::new("mdat");
    let whole = faststart_mp4(&scratch);
    let (mdat, size) = find_box(&whole, b"mdat");
    let cut = &whole[..mdat + size / 2];
    let path = scratch.write("cut-in-mdat.mp4", cut);
    for (name, result) in open_both(&path, cut) {
        let asset = result.unwrap_or_else(|e| panic!("cut in mdat ({name}) must open: {e}"));
        let warnings = &asset.container().warnings;
        assert_eq!(warnings.len(), 1, "{name}: {warnings:?}");
        assert!(warnings[0].contains("mdat"), "{name}: {warnings:?}");
    }
}

/// The MANIFEST's "can't-open case": an MP4 cut to 10000 bytes inside its
/// `moov` (ffprobe: "error reading header").
#[test]
fn spliced_m4v_is_truncated() {
    let Some(dir) = common::media::media_dir() else {
        return;
    };
    let path = dir.join("isoboxer/spliced_10000.m4v");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_fails(&path, &bytes, "spliced_10000.m4v", |e| {
        matches!(e, Error::Truncated { .. })
    });
}

/// Reading from memory must describe every real-world file exactly as
/// reading it from disk does: same container, tracks and timelines, or the
/// same kind of error.
#[test]
fn bytes_and_path_agree_on_every_shared_file() {
    let Some(dir) = common::media::media_dir() else {
        return;
    };
    for rel in common::media::media_files(&dir) {
        let path = dir.join(&rel);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let at = rel.display();
        match (Asset::open(&path), Asset::from_bytes(bytes)) {
            (Ok(file), Ok(memory)) => {
                assert_eq!(file.container(), memory.container(), "{at}: container");
                assert_eq!(file.tracks(), memory.tracks(), "{at}: tracks");
                assert_eq!(file.video_tracks(), memory.video_tracks(), "{at}: video");
                for (f, m) in file.video_tracks().iter().zip(memory.video_tracks()) {
                    let timelines = (file.timeline(f), memory.timeline(m));
                    match timelines {
                        (Ok(a), Ok(b)) => assert_eq!(a, b, "{at} track {}: timeline", f.index),
                        (Err(a), Err(b)) => assert_eq!(
                            std::mem::discriminant(&a),
                            std::mem::discriminant(&b),
                            "{at} track {}: {a} / {b}",
                            f.index
                        ),
                        (a, b) => panic!("{at} track {}: {a:?} / {b:?}", f.index),
                    }
                }
            }
            (Err(a), Err(b)) => assert_eq!(
                std::mem::discriminant(&a),
                std::mem::discriminant(&b),
                "{at}: {a} / {b}"
            ),
            (a, b) => panic!(
                "{at}: from a path {:?}, from bytes {:?}",
                a.map(|x| x.container().clone()),
                b.map(|x| x.container().clone())
            ),
        }
    }
}
