//! The frame index read without a full scan against the full scan itself
//! (`Asset::full_scan`, which demuxes every packet): on every fixture and
//! every real-world file in `../shared/media`, the index an MP4/MOV's sample
//! tables give must equal the full scan packet for packet (presentation
//! time, sync and shown flags, in decode order), in presentation order and
//! in where the track ends, and so must the timeline `stills probe`
//! reports. Tracks indexed where requests fall are compared part by part
//! by the crate's own tests (`asset::index_lazy`, on the same files); here
//! they are compared through the generator on files made at test time in
//! the containers the fixtures lack (fragmented MP4, MPEG-PS, IVF, FLV,
//! AVI, and MPEG-TS with B-frames): every frame asked for exactly must be
//! the one the full scan says is displayed. The persistent index must read
//! back the full scan.

mod common;

use std::path::{Path, PathBuf};

use common::ffmpeg::ffmpeg_to_file;
use common::harness::{collect_stream, gpu_turn, DEADLINE, SMALL};
use common::media::{media_dir, media_files};
use common::readme::fixtures_dir;
use common::scratch::Scratch;
use stills::asset::{FrameIndex, IndexCache, IndexMethod};
use stills::{Asset, ImageGenerator, Time};

/// Every fixture file that is a video container (the README and scripts
/// are not).
fn fixture_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.extension().is_some_and(|e| {
                ["mp4", "mkv", "webm", "ts", "mov"].contains(&&*e.to_string_lossy())
            })
        })
        .collect();
    files.sort();
    files
}

/// Each packet's presentation time, sync and shown flags, in decode order.
type PacketFacts = Vec<(Option<i64>, bool, bool)>;

/// What an index says about a track, in the terms the comparison uses:
/// its packets, its presentation order and where the track ends.
fn facts(index: &FrameIndex) -> (PacketFacts, Vec<u32>, i64) {
    (
        index
            .packets
            .iter()
            .map(|p| (p.pts, p.sync, p.shown))
            .collect(),
        index.presentation.clone(),
        index.end,
    )
}

/// Compares one file's tables-built indexes with its full scan; returns
/// the problems found and how many tracks were indexed from tables.
fn compare(path: &Path) -> (Vec<String>, usize) {
    let name = path.display().to_string();
    let Ok(asset) = Asset::open_with_index_cache(path, None) else {
        return (Vec::new(), 0);
    };
    let mut problems = Vec::new();
    let mut from_tables = 0;
    for track in asset.video_tracks() {
        let at = format!("{name} track {}", track.index);
        let method = asset.index_method(track).expect("a video track");
        let Ok(scan) = asset.full_scan(track) else {
            // A track the scan cannot index must not be indexed otherwise.
            if method == IndexMethod::SampleTables {
                problems.push(format!("{at}: tables gave an index, the scan fails"));
            }
            continue;
        };
        if method != IndexMethod::SampleTables {
            continue;
        }
        from_tables += 1;
        let tables = asset.frame_index(track).expect("built at open");
        if (tables.time_base, tables.timeline_offset) != (scan.time_base, scan.timeline_offset) {
            problems.push(format!("{at}: time base or offset differ"));
        }
        let (got, want) = (facts(&tables), facts(&scan));
        if got.0.len() != want.0.len() {
            problems.push(format!(
                "{at}: {} packets from the tables, {} from the scan",
                got.0.len(),
                want.0.len()
            ));
        } else if let Some(i) = (0..got.0.len()).find(|&i| got.0[i] != want.0[i]) {
            problems.push(format!(
                "{at}: packet {i} is {:?} from the tables, {:?} from the scan",
                got.0[i], want.0[i]
            ));
        }
        if got.1 != want.1 {
            problems.push(format!("{at}: presentation order differs"));
        }
        if got.2 != want.2 {
            problems.push(format!(
                "{at}: end {} from the tables, {} from the scan",
                got.2, want.2
            ));
        }
        let timeline = asset.timeline(track).expect("indexed");
        let scanned = Asset::open_with_index_cache(path, None)
            .and_then(|fresh| {
                let t = fresh.video_tracks()[track_position(&fresh, track.index)].clone();
                fresh.frame_index(&t)?;
                fresh.timeline(&t)
            })
            .expect("the same file opens again");
        if timeline != scanned {
            problems.push(format!("{at}: timeline {timeline:?}, scan's {scanned:?}"));
        }
    }
    (problems, from_tables)
}

fn track_position(asset: &Asset, index: usize) -> usize {
    asset
        .video_tracks()
        .iter()
        .position(|t| t.index == index)
        .expect("the track")
}

#[test]
fn sample_tables_equal_the_full_scan_on_every_fixture() {
    let mut problems = Vec::new();
    let mut from_tables = 0;
    for path in fixture_files() {
        let (p, n) = compare(&path);
        problems.extend(p);
        from_tables += n;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every MP4 fixture with a readable video track is indexed from its
    // tables (the fixtures have no fragmented or VP9-in-MP4 file).
    assert!(from_tables >= 25, "only {from_tables} tracks from tables");
}

#[test]
fn sample_tables_equal_the_full_scan_on_every_real_file() {
    let Some(dir) = media_dir() else {
        return;
    };
    let mut problems = Vec::new();
    let mut from_tables = 0;
    for rel in media_files(&dir) {
        let (p, n) = compare(&dir.join(rel));
        problems.extend(p);
        from_tables += n;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(from_tables >= 15, "only {from_tables} tracks from tables");
}

/// The persistent index reads back what the full scan found, for the
/// fixtures indexed on demand, and a later open uses it.
#[test]
fn the_persistent_index_reads_back_the_full_scan() {
    let scratch = Scratch::new("index-cache");
    let cache = IndexCache::new(scratch.path("cache"));
    for name in ["h264_opengop_pyramid.mkv", "vp9.webm", "mpegts_start.ts"] {
        let path = fixtures_dir().join(name);
        let asset = Asset::open_with_index_cache(&path, None).expect("opens");
        let track = asset.default_video_track().expect("video").clone();
        assert!(matches!(
            asset.index_method(&track),
            Ok(IndexMethod::OnDemand { .. })
        ));
        let written = asset.write_index_cache(&cache).expect("written");
        assert_eq!(written.len(), 1, "{name}");
        let scan = asset.full_scan(&track).expect("scanned");

        let again = Asset::open_with_index_cache(&path, Some(&cache)).expect("opens");
        let track = again.default_video_track().expect("video").clone();
        match again.index_method(&track).expect("a track") {
            IndexMethod::Cache { path } => assert_eq!(Path::new(&path), written[0]),
            other => panic!("{name}: {other:?}"),
        }
        assert!(again.has_complete_index(&track));
        let cached = again.frame_index(&track).expect("cached");
        assert_eq!(*cached, scan, "{name}");
    }
}

/// Asks `path`'s generator for every frame exactly (at its time and
/// half-way to the next, in one batch, and a few alone) and checks each
/// answer against the frame the full scan says is displayed there, and
/// that the track was read on demand throughout.
fn check_on_demand(name: &str, path: &Path, frames: usize, problems: &mut Vec<String>) {
    let asset = Asset::open_with_index_cache(path, None).expect("opens");
    let track = asset.default_video_track().expect("video").clone();
    let method = asset.index_method(&track).expect("a track");
    if method.name() != "on-demand" {
        problems.push(format!("{name}: indexed by {method:?}"));
        return;
    }
    let scan = asset.full_scan(&track).expect("scanned");
    let tb = scan.time_base;
    let shown: Vec<i64> = scan
        .presentation
        .iter()
        .filter_map(|&i| scan.packets[i as usize].pts)
        .collect();
    assert_eq!(shown.len(), frames, "{name}: frames shown");
    let time = |ticks: i64| Time::from_stream_ticks(ticks, tb).expect("a time");
    let mut asks: Vec<(Time, Time)> = Vec::new();
    for (k, &p) in shown.iter().enumerate() {
        let next = shown.get(k + 1).copied().unwrap_or(scan.end);
        let half_way = Time::new(
            p * tb.num * 2 + (next - p) * tb.num,
            i32::try_from(2 * tb.den).expect("a timescale"),
        );
        asks.push((time(p), time(p)));
        asks.push((half_way, time(p)));
    }
    let generator = ImageGenerator::new(asset).with_workers(2);
    generator.configure(|s| {
        s.set_exact();
        s.set_maximum_size(SMALL);
    });
    let _turn = gpu_turn();
    for k in [frames / 2, 5, frames - 7] {
        match generator.copy_image(asks[2 * k].0) {
            Ok((_, actual)) if actual == asks[2 * k].1 => {}
            other => problems.push(format!("{name}: frame {k} alone: {:?}", other.map(|r| r.1))),
        }
    }
    let items = collect_stream(generator.images(asks.iter().map(|a| a.0)), DEADLINE)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(items.len(), asks.len());
    for item in items {
        let want = asks
            .iter()
            .find(|a| a.0 == item.requested)
            .expect("asked")
            .1;
        match item.result {
            Ok((_, actual)) if actual == want => {}
            other => problems.push(format!(
                "{name} at {}: {:?}, want {want}",
                item.requested,
                other.map(|r| r.1)
            )),
        }
    }
    // Read where the requests fell, not by falling back to a scan.
    let method = generator.asset().index_method(&track).expect("a track");
    if method.name() != "on-demand" {
        problems.push(format!("{name}: ended indexed by {method:?}"));
    }
}

/// Eight seconds of 160x120 at 10 fps, groups of 20 pictures, encoded
/// with `codec` (and its B-frames) into `name` with `extra` options.
fn eight_seconds(scratch: &Scratch, name: &str, codec: &[&str], extra: &[&str]) -> PathBuf {
    let path = scratch.path(name);
    let mut args = vec!["-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=8"];
    args.extend_from_slice(codec);
    args.extend_from_slice(&["-g", "20", "-pix_fmt", "yuv420p"]);
    args.extend_from_slice(extra);
    ffmpeg_to_file(&args, &path);
    path
}

const H264: &[&str] = &["-c:v", "libx264", "-preset", "ultrafast", "-bf", "2"];

/// Fragmented MP4 — one fragment per group of pictures, with and without a
/// `sidx`, with B-frames — is read on demand and gives the frames the full
/// scan does.
#[test]
fn fragmented_mp4_read_on_demand_gives_the_frames_the_full_scan_does() {
    let scratch = Scratch::new("fragmented");
    let mut problems = Vec::new();
    for (name, flags) in [
        ("frag.mp4", "frag_keyframe+empty_moov+default_base_moof"),
        (
            "frag_sidx.mp4",
            "frag_keyframe+empty_moov+default_base_moof+global_sidx",
        ),
    ] {
        let path = eight_seconds(&scratch, name, H264, &["-movflags", flags]);
        check_on_demand(name, &path, 80, &mut problems);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The other containers stills reads on demand — MPEG-TS, MPEG-PS, IVF,
/// FLV and AVI, with B-frames in the first three H.264 or MPEG-2 ones —
/// give the frames the full scan does.
#[test]
fn other_containers_read_on_demand_give_the_frames_the_full_scan_does() {
    let scratch = Scratch::new("containers");
    let mut problems = Vec::new();
    let mpeg2: &[&str] = &["-c:v", "mpeg2video", "-bf", "2", "-b:v", "1M"];
    // AVI keeps decode times only; without B-frames they are the frames'.
    let mpeg4: &[&str] = &["-c:v", "mpeg4", "-bf", "0"];
    let vp8: &[&str] = &["-c:v", "libvpx", "-b:v", "500k"];
    // FFmpeg's MPEG-PS demuxer gives the last B-frame no time: the full
    // scan, like players, shows 79 of its 80 frames.
    for (name, codec, frames) in [
        ("h264.ts", H264, 80),
        ("mpeg2.mpg", mpeg2, 79),
        ("vp8.ivf", vp8, 80),
        ("h264.flv", H264, 80),
        ("mpeg4.avi", mpeg4, 80),
    ] {
        let path = eight_seconds(&scratch, name, codec, &[]);
        check_on_demand(name, &path, frames, &mut problems);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
