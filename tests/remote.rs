//! Sources read over HTTP (FFmpeg's HTTP client, byte-range requests to a
//! local server that counts what it sends): what an image costs is the
//! bytes of the frames it needs plus the container's index, not the file.
//! A 200-second file (ten copies of a 20-second 640x360 H.264 clip, joined
//! without re-encoding) as a faststart MP4, as Matroska and as a
//! fragmented MP4 with a `sidx`: one exact image in the middle must come
//! back right (the frame the full scan of the same file says is displayed
//! there) while the server sends under 5 % of the MP4 (its index is read
//! from `moov`) and under 10 % of the others (whose groups of pictures are
//! read where the request falls: the one asked for, and for the
//! fragmented file the one before it, where FFmpeg's seek lands), every
//! source opened three times (the asset, the on-demand index, the
//! decoder), each open probing the first frames.

mod common;

use common::ffmpeg::ffmpeg_to_file;
use common::harness::{gpu_turn, SMALL};
use common::http::RangeServer;
use common::scratch::Scratch;
use stills::asset::IndexMethod;
use stills::{Asset, ImageGenerator, Time};

/// The share of the file one image may fetch: from an MP4 indexed by its
/// sample tables, and from a file indexed on demand.
const SHARE_TABLES: f64 = 0.05;
const SHARE_ON_DEMAND: f64 = 0.10;

/// The three files, made from one encode.
fn media(scratch: &Scratch) -> Vec<(&'static str, std::path::PathBuf)> {
    let clip = scratch.path("clip.mp4");
    ffmpeg_to_file(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=640x360:r=25:d=20",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "4M",
            "-g",
            "50",
            "-bf",
            "2",
            "-pix_fmt",
            "yuv420p",
        ],
        &clip,
    );
    let list = scratch.write(
        "list.txt",
        format!("file '{}'\n", clip.display()).repeat(10).as_bytes(),
    );
    let list = list.to_str().expect("UTF-8");
    let concat = ["-f", "concat", "-safe", "0", "-i", list, "-c", "copy"];
    let mut made = Vec::new();
    for (name, extra) in [
        ("long.mp4", &["-movflags", "+faststart"][..]),
        ("long.mkv", &[][..]),
        (
            "long_fragmented.mp4",
            &[
                "-movflags",
                "frag_keyframe+empty_moov+default_base_moof+global_sidx",
            ][..],
        ),
    ] {
        let path = scratch.path(name);
        let mut args = concat.to_vec();
        args.extend_from_slice(extra);
        ffmpeg_to_file(&args, &path);
        made.push((name, path));
    }
    made
}

#[test]
fn one_image_over_http_fetches_a_small_part_of_the_file() {
    let scratch = Scratch::new("remote");
    let mut problems = Vec::new();
    for (name, path) in media(&scratch) {
        let bytes = std::fs::read(&path).expect("made");
        let len = bytes.len() as u64;
        // What the full scan of the same file says is displayed at `t`.
        let local = Asset::open_with_index_cache(&path, None).expect("opens");
        let track = local.default_video_track().expect("video").clone();
        let scan = local.full_scan(&track).expect("scanned");
        let t = Time::new(100_020, 1000);
        let tick = t
            .to_stream_ticks(
                scan.time_base,
                stills::RoundingMethod::RoundTowardNegativeInfinity,
            )
            .expect("in range");
        let shown = scan
            .presentation
            .iter()
            .filter_map(|&i| scan.packets[i as usize].pts)
            .filter(|&p| p <= tick)
            .max()
            .expect("a frame before t");
        let want = Time::from_stream_ticks(shown, scan.time_base).expect("a time");

        let server = RangeServer::serve(bytes);
        let asset = Asset::open_url(&server.url(name)).expect("opens over HTTP");
        let track = asset.default_video_track().expect("video").clone();
        let method = asset.index_method(&track).expect("a track");
        let expected_method = if name == "long.mp4" {
            "sample-tables"
        } else {
            "on-demand"
        };
        if method.name() != expected_method {
            problems.push(format!("{name}: indexed by {method:?}"));
        }
        let generator = ImageGenerator::new(asset).with_workers(1);
        generator.configure(|s| {
            s.set_exact();
            s.set_maximum_size(SMALL);
        });
        let result = {
            let _turn = gpu_turn();
            generator.copy_image(t)
        };
        match result {
            Ok((_, actual)) if actual == want => {}
            Ok((_, actual)) => problems.push(format!("{name}: frame at {actual}, want {want}")),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
        drop(generator);
        let served = server.served();
        eprintln!(
            "{name}: {served} of {len} bytes ({:.2} %) in {} requests",
            100.0 * served as f64 / len as f64,
            server.requests()
        );
        let share = if name == "long.mp4" {
            SHARE_TABLES
        } else {
            SHARE_ON_DEMAND
        };
        if served as f64 > share * len as f64 {
            problems.push(format!(
                "{name}: the server sent {served} of {len} bytes for one image"
            ));
        }
        assert!(!matches!(method, IndexMethod::FullScan { .. }), "{name}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
