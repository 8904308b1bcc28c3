//! Inputs a server taking files from strangers meets (issue 12): special
//! files and silent servers that would make a read wait forever, readable
//! files with damage or odd starts that must not be refused as a whole,
//! and pictures whose declared size goes past the caller's limits.

mod common;

use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use common::cli::{fixture, stills};
use common::ffmpeg::ffmpeg_to_file;
use common::harness::{gpu_turn, SMALL};
use common::http::SilentServer;
use common::scratch::Scratch;
use stills::{Asset, Error, ImageGenerator, Limit, Limits, OpenOptions, Time};

/// Far longer than any of these opens needs: reaching it means the call
/// would have waited forever.
const HANG: Duration = Duration::from_secs(60);

/// Runs `f` on a thread of its own and fails the test if it has not
/// returned within [`HANG`], so that a hang fails rather than hangs.
fn answers<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(HANG)
        .unwrap_or_else(|_| panic!("{what}: no answer within {HANG:?}"))
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture")
}

/// The frames a full scan finds displayed in `asset`'s default track.
fn frame_count(asset: &Asset) -> usize {
    let track = asset.default_video_track().expect("a video track").clone();
    asset
        .timeline(&track)
        .expect("a timeline")
        .expect("frames")
        .frame_count
}

#[test]
fn r12_a_fifo_with_no_writer_is_refused_at_once() {
    let scratch = Scratch::new("fifo");
    let fifo = scratch.path("clip.mp4");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let path = fifo.clone();
    match answers("opening a FIFO", move || Asset::open(path)) {
        Err(Error::NotAFile { kind: "FIFO", .. }) => {}
        other => panic!("{other:?}"),
    }
    let url = format!("file:{}", fifo.display());
    match answers("opening a FIFO by URL", move || Asset::open_url(&url)) {
        Err(Error::NotAFile { kind: "FIFO", .. }) => {}
        other => panic!("{other:?}"),
    }
    let run = stills(&["probe", "--no-gpu", fifo.to_str().expect("UTF-8")], "");
    assert!(!run.status.success());
    assert!(
        run.stderr.contains("a FIFO, not a regular file"),
        "{}",
        run.stderr
    );
}

#[test]
fn r12_a_character_device_is_refused() {
    match answers("opening /dev/zero", || Asset::open("/dev/zero")) {
        Err(Error::NotAFile {
            kind: "character device",
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn r12_a_server_that_never_answers_times_out() {
    let server = SilentServer::start();
    let url = server.url("clip.mp4");
    let options = OpenOptions {
        timeout: Duration::from_secs(1),
        ..OpenOptions::default()
    };
    let opened = answers("opening a silent URL", move || {
        Asset::open_url_with_options(&url, &options)
    });
    match opened {
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::TimedOut => {}
        other => panic!("{other:?}"),
    }
    let run = stills(
        &["probe", "--no-gpu", "--timeout", "1", &server.url("x.mp4")],
        "",
    );
    assert!(!run.status.success());
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);
}

#[test]
fn r12_mpegts_behind_8_kib_of_zeros_opens_with_every_frame() {
    let ts = fixture_bytes("mpegts_start.ts");
    let mut padded = vec![0u8; 8192];
    padded.extend_from_slice(&ts);
    let scratch = Scratch::new("zeros_ts");
    let path = scratch.write("padded.ts", &padded);
    let plain = Asset::open(fixture("mpegts_start.ts")).expect("the fixture opens");
    for asset in [
        Asset::open(&path).expect("opens from a file"),
        Asset::from_bytes(padded.clone()).expect("opens from bytes"),
    ] {
        assert_eq!(asset.container().format, "mpegts");
        assert_eq!(frame_count(&asset), frame_count(&plain));
    }
}

#[test]
fn r12_mpegts_with_a_zeroed_range_gives_the_frames_that_decode() {
    let mut ts = fixture_bytes("mpegts_start.ts");
    ts[188..188 + 4096].fill(0);
    let scratch = Scratch::new("zeroed_ts");
    let path = scratch.write("zeroed.ts", &ts);
    let asset = Asset::open(&path).expect("opens");
    assert!(frame_count(&asset) > 0);
    let generator = ImageGenerator::new(asset).with_workers(1);
    generator.configure(|s| s.set_maximum_size(SMALL));
    let _turn = gpu_turn();
    generator
        .copy_image(Time::new(3, 2))
        .expect("a frame after the damage decodes");
}

#[test]
fn r12_ivf_vp9_with_a_zeroed_block_gives_the_frames_before_it() {
    let scratch = Scratch::new("zeroed_ivf");
    let ivf = ffmpeg_to_file(
        &["-i", &fixture("vp9.webm"), "-c", "copy"],
        &scratch.path("whole.ivf"),
    );
    let whole = Asset::open(scratch.path("whole.ivf")).expect("opens");
    let mut damaged = ivf.clone();
    damaged[10_000..10_000 + 4096].fill(0);
    let path = scratch.write("damaged.ivf", &damaged);
    let asset = Asset::open(&path).expect("opens");
    let kept = frame_count(&asset);
    assert!(kept > 0 && kept < frame_count(&whole), "{kept} frames");
    let generator = ImageGenerator::new(asset).with_workers(1);
    generator.configure(|s| {
        s.set_exact();
        s.set_maximum_size(SMALL);
    });
    let _turn = gpu_turn();
    let (_, at) = generator
        .copy_image(Time::new(40, 1000))
        .expect("a frame before the damage");
    assert_eq!(at, Time::new(40, 1000));
    assert!(matches!(
        generator.copy_image(Time::new(3, 2)),
        Err(Error::NoImageAtTime { .. })
    ));
}

/// A declared size over the limit, in the container and in the stream's
/// parameter sets, is refused when the asset opens, naming the limit.
#[test]
fn r12_pictures_over_the_decoded_pixel_limit_are_refused_at_open() {
    let path = fixture("rot0.mp4");
    let plain = Asset::open(&path).expect("opens");
    let track = plain.default_video_track().expect("video");
    let pixels = u64::from(track.coded_width) * u64::from(track.coded_height);
    let tight = OpenOptions {
        limits: Limits {
            max_decoded_pixels: pixels - 1,
            ..Limits::default()
        },
        ..OpenOptions::default()
    };
    match Asset::open_with_options(&path, &tight) {
        Err(Error::LimitExceeded {
            limit: Limit::MaxDecodedPixels,
            value,
            ..
        }) => assert_eq!(value, pixels),
        other => panic!("{other:?}"),
    }
    let exact = OpenOptions {
        limits: Limits {
            max_decoded_pixels: pixels,
            ..Limits::default()
        },
        ..OpenOptions::default()
    };
    Asset::open_with_options(&path, &exact).expect("a picture at the limit opens");
    let limit = (pixels - 1).to_string();
    let run = stills(
        &["probe", "--no-gpu", "--max-decoded-pixels", &limit, &path],
        "",
    );
    assert!(!run.status.success());
    assert!(run.stderr.contains("max-decoded-pixels"), "{}", run.stderr);
}

#[test]
fn r12_an_image_over_the_output_pixel_limit_fails_its_request() {
    let generator = ImageGenerator::new(Asset::open(fixture("rot0.mp4")).expect("opens"));
    generator.configure(|s| {
        s.set_maximum_size(stills::Size::new(64, 0));
        s.set_max_output_pixels(64 * 16);
    });
    let _turn = gpu_turn();
    match generator.copy_image(Time::ZERO) {
        Err(Error::LimitExceeded {
            limit: Limit::MaxOutputPixels,
            allowed,
            ..
        }) => assert_eq!(allowed, 64 * 16),
        other => panic!("{:?}", other.map(|(_, t)| t)),
    }
}

/// A small file whose container declares 16384×16000 pictures (its `avc1`
/// sample entry patched) is refused by the default limits before FFmpeg's
/// probing decodes any of it.
#[test]
fn r12_a_declared_16384x16000_picture_is_refused_with_default_limits() {
    let mut mp4 = fixture_bytes("rot0.mp4");
    let stsd = mp4
        .windows(4)
        .position(|w| w == b"stsd")
        .expect("a sample description box");
    let at = stsd
        + mp4[stsd..]
            .windows(4)
            .position(|w| w == b"avc1")
            .expect("an avc1 sample entry");
    // After the type: 6 reserved bytes, the data reference index, 16 bytes
    // of pre-defined and reserved fields, then width and height.
    let size = at + 4 + 6 + 2 + 16;
    mp4[size..size + 2].copy_from_slice(&16384u16.to_be_bytes());
    mp4[size + 2..size + 4].copy_from_slice(&16000u16.to_be_bytes());
    let scratch = Scratch::new("declared_bomb");
    let path = scratch.write("bomb.mp4", &mp4);
    match Asset::open(&path) {
        Err(Error::LimitExceeded {
            limit: Limit::MaxDecodedPixels,
            value,
            allowed,
            ..
        }) => {
            assert_eq!(value, 16384 * 16000);
            assert_eq!(allowed, 8192 * 8192);
        }
        other => panic!("{other:?}"),
    }
}

/// An MP4 box of `kind` around `body`.
fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = (8 + body.len() as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

/// A full box (version and flags 0) of big-endian 32-bit fields.
fn mp4_full_box(kind: &[u8; 4], fields: &[u32]) -> Vec<u8> {
    let mut body = vec![0u8; 4];
    body.extend(fields.iter().flat_map(|v| v.to_be_bytes()));
    mp4_box(kind, &body)
}

/// A 292-byte MP4 whose sample tables claim four billion one-byte samples,
/// two billion of them in one chunk, made `stills probe` reserve 64 GB
/// and abort (or be killed for memory).
#[test]
fn r12_a_sample_table_claiming_billions_of_samples_costs_nothing() {
    let mut tkhd = vec![0u8; 84];
    tkhd[12..16].copy_from_slice(&1u32.to_be_bytes());
    let mut stbl = mp4_full_box(b"stsz", &[1, u32::MAX]);
    stbl.extend(mp4_full_box(b"stco", &[1, 0]));
    stbl.extend(mp4_full_box(b"stsc", &[1, 1, i32::MAX as u32, 1]));
    let stbl = mp4_box(b"stbl", &stbl);
    let mut trak = mp4_box(b"tkhd", &tkhd);
    trak.extend(mp4_box(b"mdia", &mp4_box(b"minf", &stbl)));
    let mut file = mp4_box(b"ftyp", b"isom\0\0\0\0isom");
    file.extend(mp4_box(b"moov", &mp4_box(b"trak", &trak)));
    file.extend(mp4_box(b"mdat", &[0u8; 64]));
    let scratch = Scratch::new("stsz_bomb");
    let path = scratch.write("bomb.mp4", &file);
    let run = stills(&["probe", "--no-gpu", path.to_str().expect("UTF-8")], "");
    assert!(run.status.code().is_some(), "probe died: {:?}", run.status);
}

/// A raw HEVC stream whose sequence parameter set declares 16384×16000
/// (the fixture's SPS replaced by one x265 wrote at that size) is refused
/// from its first bytes, as the H.264 one below.
#[test]
fn r12_an_hevc_stream_whose_parameter_set_declares_16384x16000_is_refused_before_probing() {
    const BOMB_SPS: &str = "0000014201010160000003009000000300000300ffa00020008003e816595952930bc05a020000030002000003003210";
    let scratch = Scratch::new("hevc_bomb");
    let stream = ffmpeg_to_file(
        &[
            "-i",
            &fixture("hevc_main10_hdr10.mp4"),
            "-c:v",
            "copy",
            "-bsf:v",
            "hevc_mp4toannexb",
            "-f",
            "hevc",
        ],
        &scratch.path("stream.hevc"),
    );
    let sps = stream
        .windows(5)
        .position(|w| w == [0, 0, 1, 0x42, 0x01])
        .expect("the fixture's SPS");
    let next = sps
        + 3
        + stream[sps + 3..]
            .windows(3)
            .position(|w| w == [0, 0, 1])
            .expect("a NAL unit after the SPS");
    let mut bomb: Vec<u8> = stream[..sps].to_vec();
    bomb.extend(
        (0..BOMB_SPS.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&BOMB_SPS[i..i + 2], 16).expect("hex")),
    );
    bomb.extend_from_slice(&stream[next..]);
    refused_as_16384x16000(&scratch, "bomb.hevc", bomb);
}

/// An MPEG-TS whose first H.264 parameter set declares 16384×16000 (the
/// fixture's SPS overwritten with one x264 wrote at that size) is refused
/// from its first bytes: FFmpeg's probing would otherwise size the
/// decoder's tables for it before any picture-size check.
#[test]
fn r12_a_ts_whose_parameter_set_declares_16384x16000_is_refused_before_probing() {
    const BOMB_SPS: [u8; 20] = [
        0x67, 0x42, 0xc0, 0x3e, 0xda, 0x00, 0x10, 0x00, 0x01, 0xf4, 0x6c, 0x04, 0x40, 0x00, 0x00,
        0x03, 0x00, 0x40, 0x00, 0x00,
    ];
    let mut ts = fixture_bytes("mpegts_start.ts");
    let sps = ts
        .windows(4)
        .position(|w| w == [0, 0, 1, 0x67])
        .expect("the fixture's SPS")
        + 3;
    ts[sps..sps + BOMB_SPS.len()].copy_from_slice(&BOMB_SPS);
    let scratch = Scratch::new("ts_bomb");
    refused_as_16384x16000(&scratch, "bomb.ts", ts);
}

/// `bytes` opened as a file (named `name`) and from memory are both
/// refused as a 16384×16000 picture over the decoded-pixel limit.
fn refused_as_16384x16000(scratch: &Scratch, name: &str, bytes: Vec<u8>) {
    let path = scratch.write(name, &bytes);
    for opened in [Asset::open(&path), Asset::from_bytes(bytes)] {
        match opened {
            Err(Error::LimitExceeded {
                limit: Limit::MaxDecodedPixels,
                value,
                ..
            }) => assert_eq!(value, 16384 * 16000),
            other => panic!("{name}: {other:?}"),
        }
    }
}
