//! Compositions: every layer's source frame checked by its frame code at
//! every composition frame boundary, the built-in compositor held to
//! FFmpeg filtergraphs (overlay, scale, blend in linear light, crop), a
//! custom compositor, and each refusal of an invalid composition.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::facts::Fixture;
use common::ffmpeg::ffmpeg;
use common::framecode::read_rgba8_region;
use common::harness::{block_on_timeout, collect_stream, gpu_turn, open_fixture, DEADLINE};
use common::metrics::psnr8;
use stills::compose::{
    ComposedFrame, Composition, CompositionError, CompositionGenerator, CompositionRequest,
    CompositionTrack, CompositorError, CropRect, Instruction, LayerInstruction, LayerScale, Ramp,
    TimeRange, Transform, VideoComposition, VideoCompositor,
};
use stills::{ColorSpace, Error, Image, Outcome, PixelFormat, Size, Time};

fn t(value: i64, scale: i32) -> Time {
    Time::new(value, scale)
}

fn fixture_path(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Composition tracks 1 and 2: the two video tracks of
/// `two_video_tracks.mp4` (320x240 at 25 fps, 160x120 at 10 fps, 2 s).
fn two_tracks() -> Composition {
    let mut composition = Composition::new();
    let a = composition.add_asset(open_fixture("two_video_tracks.mp4"));
    for stream in [0, 1] {
        let mut track = CompositionTrack::new(stream as u32 + 1);
        track.insert(a, stream, TimeRange::new(Time::ZERO, t(2, 1)));
        composition.tracks.push(track);
    }
    composition
}

fn video(size: (u32, u32), layers: Vec<LayerInstruction>, duration: Time) -> VideoComposition {
    VideoComposition {
        render_size: Size::new(size.0, size.1),
        frame_duration: t(1, 25),
        render_scale: 1.0,
        color_space: ColorSpace::SRGB,
        instructions: vec![Instruction {
            time_range: TimeRange::new(Time::ZERO, duration),
            background: [0.0, 0.0, 0.0, 1.0],
            layers,
        }],
    }
}

/// Track 2 (160x120, 10 fps) over the bottom-right quarter of track 1
/// (320x240, 25 fps), exact: track 1's code band (rows 0..40) stays
/// visible, and so does track 2's (rows 120..140, right half).
fn quarter_inset() -> CompositionGenerator {
    exact(CompositionGenerator::new(
        two_tracks(),
        video(
            (320, 240),
            vec![
                layer(2, Transform::translate(160.0, 120.0)),
                layer(1, Transform::IDENTITY),
            ],
            t(2, 1),
        ),
    ))
}

/// `generator`, made, asking for exact frames.
fn exact(generator: stills::Result<CompositionGenerator>) -> CompositionGenerator {
    let generator = generator.expect("a valid composition");
    generator.configure(|s| s.set_exact());
    generator
}

fn layer(track: u32, transform: Transform) -> LayerInstruction {
    LayerInstruction {
        transform: Ramp::Constant(transform),
        ..LayerInstruction::new(track)
    }
}

/// The frame code in the `w`×`h` region of `image` at (`x`, `y`).
fn code_in(image: &Image, region: (u32, u32, u32, u32)) -> Result<u32, String> {
    read_rgba8_region(image.data(), image.stride(), region).map_err(|e| e.to_string())
}

/// Every request's outcome, in request order.
fn outcomes(generator: &CompositionGenerator, times: &[Time]) -> Vec<Outcome> {
    let (tx, rx) = std::sync::mpsc::channel();
    generator.generate_images(times.to_vec(), move |time, outcome| {
        let _ = tx.send((time, outcome));
    });
    let mut got: Vec<Option<Outcome>> = times.iter().map(|_| None).collect();
    for _ in times {
        let (time, outcome) = rx
            .recv_timeout(DEADLINE)
            .expect("every request answered in time");
        let slot = times
            .iter()
            .zip(&got)
            .position(|(&asked, slot)| asked == time && slot.is_none())
            .expect("an answer for a requested time");
        got[slot] = Some(outcome);
    }
    got.into_iter().map(Option::unwrap).collect()
}

fn image_of(outcome: Outcome) -> (Image, Time) {
    match outcome {
        Outcome::Succeeded { image, actual_time } => (image, actual_time),
        other => panic!("expected an image, got {other:?}"),
    }
}

fn rgb(image: &Image) -> Vec<u8> {
    image
        .data()
        .chunks(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}

#[test]
fn each_layer_shows_its_own_frame_at_every_composition_frame_boundary() {
    let _turn = gpu_turn();
    let generator = quarter_inset();
    let mut times = Vec::new();
    for k in 0..50i64 {
        times.push(t(k, 25));
        if k > 0 {
            // Just before the boundary: still frame k − 1.
            times.push(t(k * 512 - 1, 12800));
        }
    }
    let results = outcomes(&generator, &times);
    let mut problems = Vec::new();
    for (time, outcome) in times.iter().zip(results) {
        let (image, actual) = image_of(outcome);
        let k = (time.seconds() * 25.0 + 1e-9).floor() as i64;
        assert_eq!(actual, t(k, 25), "actual time of {time}");
        let main = code_in(&image, (0, 0, 320, 240));
        let pip = code_in(&image, (160, 120, 160, 120));
        // Track 2 shows the frame displayed at the composition frame's
        // start: 10 fps, so frame ⌊k·10/25⌋.
        let want = (Ok(k as u32), Ok((k * 10 / 25) as u32));
        if (main.clone(), pip.clone()) != want {
            problems.push(format!(
                "at {time}: track 1 {main:?}, track 2 {pip:?}, want {want:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_cut_of_two_files_with_an_empty_and_a_time_scaled_segment() {
    let _turn = gpu_turn();
    let mut composition = Composition::new();
    let a = composition.add_asset(open_fixture("h264_bframes.mp4"));
    let b = composition.add_asset(open_fixture("untagged_sd.mp4"));
    let mut track = CompositionTrack::new(1);
    track
        .insert(a, 0, TimeRange::new(t(2, 10), t(8, 10)))
        .insert_empty(t(4, 10))
        // 0.4 s of the second file played over 0.8 s: half speed.
        .insert_scaled(b, 0, TimeRange::new(t(4, 10), t(4, 10)), t(8, 10));
    composition.tracks.push(track);
    assert_eq!(composition.duration(), t(2, 1));
    let generator = exact(CompositionGenerator::new(
        composition,
        video((320, 240), vec![layer(1, Transform::IDENTITY)], t(2, 1)),
    ));
    let (first, second) = (
        Fixture::load("h264_bframes.mp4"),
        Fixture::load("untagged_sd.mp4"),
    );
    let times: Vec<Time> = (0..50).map(|k| t(k, 25)).collect();
    let mut problems = Vec::new();
    for (k, outcome) in (0i64..).zip(outcomes(&generator, &times)) {
        let (image, _) = image_of(outcome);
        let c = t(k, 25);
        let got = code_in(&image, (0, 0, 320, 240));
        let want = if c < t(8, 10) {
            first.displayed_at(c + t(2, 10)).map(|f| f.code)
        } else if c < t(12, 10) {
            let brightest = image
                .data()
                .chunks(4)
                .map(|p| p[0].max(p[1]).max(p[2]))
                .max();
            if brightest != Some(0) {
                problems.push(format!(
                    "at {c}: the empty segment is not the black background"
                ));
            }
            continue;
        } else {
            // Source time 0.4 + (c − 1.2) / 2, exactly.
            second
                .displayed_at(t(4, 10) + t(k * 2 - 60, 100))
                .map(|f| f.code)
        };
        if got.as_ref().ok() != want.as_ref() {
            problems.push(format!("at {c}: code {got:?}, want {want:?}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// ffmpeg's picture from `inputs` through `graph` (whose output is
/// labelled `[out]`), as RGB8.
fn reference(inputs: &[&str], graph: &str) -> Vec<u8> {
    let mut args = Vec::new();
    for input in inputs {
        args.extend_from_slice(&["-i", input]);
    }
    args.extend_from_slice(&[
        "-filter_complex",
        graph,
        "-map",
        "[out]",
        "-frames:v",
        "1",
        "-pix_fmt",
        "rgb24",
        "-f",
        "rawvideo",
        "-",
    ]);
    ffmpeg(&args, None)
}

/// Frame `n` of input stream `stream` as R'G'B' through zscale (the
/// fixtures are untagged SD: BT.601, limited range, left chroma siting),
/// scaled with Lanczos to `size` where one is given.
fn frame(stream: &str, n: u32, size: Option<(u32, u32)>) -> String {
    let size = size.map_or(String::new(), |(w, h)| format!("w={w}:h={h}:"));
    format!(
        "[{stream}]select=eq(n\\,{n}),setpts=PTS-STARTPTS,\
         zscale={size}f=lanczos:min=170m:rin=limited:cin=left:m=gbr:r=full,format=gbrp,format=rgb24"
    )
}

fn compare(name: &str, image: &Image, want: &[u8]) {
    let got = rgb(image);
    if std::env::var_os("STILLS_COMPOSE_DUMP").is_some() {
        let (w, h) = (image.width(), image.height());
        for (tag, px) in [("got", &got[..]), ("want", want)] {
            image::RgbImage::from_raw(w, h, px.to_vec())
                .unwrap()
                .save(format!("/tmp/{}_{tag}.png", name.replace(' ', "_")))
                .unwrap();
        }
    }
    let db = psnr8(&got, want);
    eprintln!("{name}: {db:.2} dB against FFmpeg");
    assert!(db >= 35.0, "{name}: {db:.2} dB against FFmpeg, want ≥ 35");
}

#[test]
fn picture_in_picture_matches_ffmpeg_scale_and_overlay() {
    let _turn = gpu_turn();
    let pip = Transform::scale(0.5, 0.5).then(&Transform::translate(230.0, 170.0));
    let generator = exact(CompositionGenerator::new(
        two_tracks(),
        video(
            (320, 240),
            vec![layer(2, pip), layer(1, Transform::IDENTITY)],
            t(2, 1),
        ),
    ));
    let (image, _) = generator.copy_image(t(52, 100)).unwrap();
    let file = fixture_path("two_video_tracks.mp4");
    let want = reference(
        &[&file],
        &format!(
            "{}[m];{}[p];[m][p]overlay=230:170:format=rgb,format=rgb24[out]",
            frame("0:v:0", 13, None),
            frame("0:v:1", 5, Some((80, 60)))
        ),
    );
    compare("picture in picture", &image, &want);
}

#[test]
fn a_layer_drawn_larger_than_its_source_matches_ffmpeg_upscaling() {
    let _turn = gpu_turn();
    // Track 2, 160x120, twice as large over the whole 320x240 frame.
    let generator = exact(CompositionGenerator::new(
        two_tracks(),
        video(
            (320, 240),
            vec![layer(2, Transform::scale(2.0, 2.0))],
            t(2, 1),
        ),
    ));
    let (image, _) = generator.copy_image(t(52, 100)).unwrap();
    let file = fixture_path("two_video_tracks.mp4");
    let want = reference(
        &[&file],
        &format!("{},format=rgb24[out]", frame("0:v:1", 5, Some((320, 240)))),
    );
    compare("upscaled layer", &image, &want);
}

#[test]
fn a_cross_fade_at_its_midpoint_matches_ffmpeg_blend_in_linear_light() {
    let _turn = gpu_turn();
    let mut composition = Composition::new();
    for (id, name) in [(1, "h264_bframes.mp4"), (2, "untagged_sd.mp4")] {
        let a = composition.add_asset(open_fixture(name));
        let mut track = CompositionTrack::new(id);
        track.insert(a, 0, TimeRange::new(Time::ZERO, t(1, 1)));
        composition.tracks.push(track);
    }
    // Track 2 fades in over track 1 from 0.02 s to 0.98 s: half way at
    // 0.5 s, composition frame 12.
    let mut top = LayerInstruction::new(2);
    top.opacity = Ramp::Linear {
        from: 0.0,
        to: 1.0,
        range: TimeRange::new(t(2, 100), t(96, 100)),
    };
    let generator = exact(CompositionGenerator::new(
        composition,
        video((320, 240), vec![top, LayerInstruction::new(1)], t(1, 1)),
    ));
    let (image, _) = generator.copy_image(t(1, 2)).unwrap();
    let linear = "format=gbrpf32le,zscale=tin=iec61966-2-1:t=linear:pin=bt709:p=bt709";
    let (first, second) = (
        fixture_path("h264_bframes.mp4"),
        fixture_path("untagged_sd.mp4"),
    );
    let want = reference(
        &[&first, &second],
        &format!(
            "{},{linear}[a];{},{linear}[b];[b][a]blend=all_expr=A*0.5+B*0.5,\
             zscale=tin=linear:t=iec61966-2-1:pin=bt709:p=bt709,format=rgb24[out]",
            frame("0:v", 12, None),
            frame("1:v", 12, None)
        ),
    );
    compare("cross-fade", &image, &want);
}

#[test]
fn a_crop_ramp_matches_ffmpeg_crop_and_overlay() {
    let _turn = gpu_turn();
    let mut cropped = LayerInstruction::new(1);
    cropped.crop = Some(Ramp::Linear {
        from: CropRect {
            x: 0.0,
            y: 0.0,
            width: 320.0,
            height: 240.0,
        },
        to: CropRect {
            x: 80.0,
            y: 60.0,
            width: 160.0,
            height: 120.0,
        },
        range: TimeRange::new(Time::ZERO, t(2, 1)),
    });
    let generator = exact(CompositionGenerator::new(
        two_tracks(),
        video((320, 240), vec![cropped], t(2, 1)),
    ));
    // Half way: x 40, y 30, 240x180.
    let (image, _) = generator.copy_image(t(1, 1)).unwrap();
    let want = reference(
        &[&fixture_path("two_video_tracks.mp4")],
        &format!(
            "color=black:s=320x240,format=rgb24[bg];{},crop=240:180:40:30[c];\
             [bg][c]overlay=40:30:shortest=1:format=rgb,format=rgb24[out]",
            frame("0:v:0", 25, None)
        ),
    );
    compare("crop ramp", &image, &want);
}

/// A compositor that reads both layers' host pixels and writes their frame
/// codes as a flat colour: red the top layer's code, green the other's.
struct CodesAsColour {
    frames: AtomicUsize,
}

impl VideoCompositor for CodesAsColour {
    fn wants_host_pixels(&self) -> bool {
        true
    }

    fn compose(&self, request: &CompositionRequest<'_>) -> Result<ComposedFrame, CompositorError> {
        self.frames.fetch_add(1, Ordering::SeqCst);
        let mut codes = [0u8; 2];
        for layer in request.layers {
            let pixels = layer.pixels.as_ref().ok_or("no host pixels")?;
            let size = layer.texture.size();
            if (size.width, size.height) != (pixels.width(), pixels.height()) {
                return Err("texture and host pixels differ in size".into());
            }
            let code = code_in(pixels, (0, 0, pixels.width(), pixels.height()))?;
            codes[layer.layer] = u8::try_from(code)?;
        }
        let Size { width, height } = request.output_size;
        let data = [codes[0], codes[1], 0, 255].repeat((width * height) as usize);
        let image = Image::new(
            width,
            height,
            width as usize * 4,
            PixelFormat::Rgba8,
            ColorSpace::SRGB,
            data,
        )
        .ok_or("bad image")?;
        Ok(ComposedFrame::Pixels(image))
    }
}

#[test]
fn a_custom_compositor_reads_both_sources_and_its_result_is_the_image() {
    let _turn = gpu_turn();
    let compositor = Arc::new(CodesAsColour {
        frames: AtomicUsize::new(0),
    });
    let generator = exact(CompositionGenerator::new(
        two_tracks(),
        video(
            (64, 48),
            vec![layer(2, Transform::IDENTITY), layer(1, Transform::IDENTITY)],
            t(2, 1),
        ),
    ))
    .with_compositor(compositor.clone());
    let times: Vec<Time> = [0, 7, 24, 25, 49].map(|k| t(k, 25)).to_vec();
    for (k, outcome) in [0u32, 7, 24, 25, 49]
        .into_iter()
        .zip(outcomes(&generator, &times))
    {
        let (image, _) = image_of(outcome);
        assert_eq!((image.width(), image.height()), (64, 48));
        let want = [(k * 10 / 25) as u8, k as u8, 0, 255];
        assert!(
            image.data().chunks(4).all(|p| p == want),
            "frame {k}: {:?}, want {want:?}",
            &image.data()[..4]
        );
    }
    assert_eq!(compositor.frames.load(Ordering::SeqCst), 5);
}

struct Refuses;

impl VideoCompositor for Refuses {
    fn layer_scale(&self) -> LayerScale {
        LayerScale::Source
    }

    fn compose(&self, request: &CompositionRequest<'_>) -> Result<ComposedFrame, CompositorError> {
        Err(format!("no frame at {}", request.time).into())
    }
}

#[test]
fn a_compositor_error_fails_the_requests_of_its_frame() {
    let _turn = gpu_turn();
    let generator = CompositionGenerator::new(
        two_tracks(),
        video((32, 24), vec![layer(1, Transform::IDENTITY)], t(2, 1)),
    )
    .unwrap()
    .with_compositor(Arc::new(Refuses));
    match generator.copy_image(t(1, 1)) {
        Err(Error::Compositor(message)) => assert_eq!(message, "no frame at 1"),
        other => panic!("expected the compositor's error, got {other:?}"),
    }
}

#[test]
fn properties_of_an_asset_make_each_track_a_layer() {
    let composition = Composition::of_asset(open_fixture("two_video_tracks.mp4")).unwrap();
    let video = VideoComposition::properties_of(&composition).unwrap();
    assert_eq!(video.render_size, Size::new(320, 240));
    assert_eq!(video.frame_duration, t(1, 25));
    let tracks: Vec<u32> = video.instructions[0]
        .layers
        .iter()
        .map(|l| l.track)
        .collect();
    assert_eq!(tracks, [1, 2]);
    assert_eq!(video.validate(&composition), Ok(()));
}

fn refused(composition: Composition, video: VideoComposition) -> CompositionError {
    match CompositionGenerator::new(composition, video) {
        Err(Error::InvalidComposition(e)) => e,
        Err(other) => panic!("expected an invalid composition, got {other}"),
        Ok(_) => panic!("an invalid composition was accepted"),
    }
}

#[test]
fn invalid_compositions_are_refused_saying_what_and_where() {
    let base = || video((320, 240), vec![LayerInstruction::new(1)], t(2, 1));
    let split = |first: Time, second: (Time, Time)| {
        let mut v = base();
        v.instructions = vec![
            Instruction {
                time_range: TimeRange::new(Time::ZERO, first),
                background: [0.0, 0.0, 0.0, 1.0],
                layers: vec![],
            },
            Instruction {
                time_range: TimeRange::new(second.0, second.1),
                background: [0.0, 0.0, 0.0, 1.0],
                layers: vec![],
            },
        ];
        v
    };
    let cases: Vec<(VideoComposition, &str, &str)> = vec![
        (
            split(t(1, 1), (t(3, 2), t(1, 2))),
            "instructions[1]",
            "nothing covers 1s to 1.5s",
        ),
        (
            split(t(1, 1), (t(1, 2), t(3, 2))),
            "instructions[1]",
            "overlaps",
        ),
        (
            split(t(1, 1), (t(1, 1), t(1, 2))),
            "instructions[1]",
            "nothing covers 1.5s to 2s",
        ),
        (
            {
                let mut v = base();
                v.instructions[0].layers[0].track = 7;
                v
            },
            "instructions[0].layers[0].track",
            "no composition track has ID 7",
        ),
        (
            {
                let mut v = base();
                v.render_size = Size::new(0, 240);
                v
            },
            "render_size",
            "empty",
        ),
        (
            {
                let mut v = base();
                v.frame_duration = Time::ZERO;
                v
            },
            "frame_duration",
            "positive",
        ),
        (
            {
                let mut v = base();
                v.instructions[0].layers[0].opacity = Ramp::Constant(1.5);
                v
            },
            "instructions[0].layers[0].opacity",
            "outside 0..=1",
        ),
        (
            {
                let mut v = base();
                v.instructions[0].layers[0].transform = Ramp::Constant(Transform::scale(0.0, 1.0));
                v
            },
            "instructions[0].layers[0].transform",
            "not an invertible transform",
        ),
        (
            {
                let mut v = base();
                v.instructions.clear();
                v
            },
            "instructions",
            "none",
        ),
    ];
    for (video, at, says) in cases {
        let error = refused(two_tracks(), video);
        assert_eq!(error.at(), at, "{error}");
        let message = Error::InvalidComposition(error).to_string();
        assert!(message.contains(says), "{message:?} should say {says:?}");
        assert!(message.contains(at), "{message:?} should name {at:?}");
    }

    let mut unknown_asset = two_tracks();
    unknown_asset.tracks[0].insert(5, 0, TimeRange::new(Time::ZERO, t(1, 1)));
    let error = refused(unknown_asset, base());
    assert_eq!(error.at(), "tracks[0].segments[1].asset", "{error}");

    let mut no_stream = two_tracks();
    no_stream.tracks[1].segments[0]
        .source
        .as_mut()
        .unwrap()
        .stream = 4;
    let error = refused(no_stream, base());
    assert_eq!(error.at(), "tracks[1].segments[0].track", "{error}");

    let mut twice = two_tracks();
    twice.tracks[1].id = 1;
    let error = refused(twice, base());
    assert_eq!(error.at(), "tracks[1]", "{error}");
}

#[test]
fn requests_outside_the_composition_fail_alone() {
    let _turn = gpu_turn();
    let generator = exact(CompositionGenerator::new(
        two_tracks(),
        video((32, 24), vec![layer(1, Transform::IDENTITY)], t(2, 1)),
    ));
    let times = [t(-1, 1), t(1, 1), t(5, 1)];
    let results = outcomes(&generator, &times);
    assert!(
        matches!(results[0], Outcome::Failed(Error::NoImageAtTime { .. })),
        "{:?}",
        results[0]
    );
    assert!(
        matches!(results[1], Outcome::Succeeded { .. }),
        "{:?}",
        results[1]
    );
    assert!(
        matches!(results[2], Outcome::Failed(Error::NoImageAtTime { .. })),
        "{:?}",
        results[2]
    );
}

#[test]
fn an_hdr_layer_is_tone_mapped_as_the_single_track_path_does() {
    let _turn = gpu_turn();
    let asset = Arc::new(open_fixture("hevc_main10_hdr10.mp4"));
    let composition = Composition::of_asset(asset.clone()).unwrap();
    let video = VideoComposition::properties_of(&composition).unwrap();
    let generator = exact(CompositionGenerator::new(composition, video));
    let (composed, _) = generator.copy_image(t(1, 2)).unwrap();
    let single = stills::ImageGenerator::new(asset);
    single.configure(|s| s.set_exact());
    let (alone, _) = single.copy_image(t(1, 2)).unwrap();
    assert_eq!(
        alone.pixel_format(),
        PixelFormat::Rgba8,
        "tone mapped to SDR"
    );
    assert_eq!(
        (composed.width(), composed.height()),
        (alone.width(), alone.height())
    );
    let db = psnr8(&rgb(&composed), &rgb(&alone));
    assert!(db >= 50.0, "{db:.1} dB against the single-track image");
}

#[test]
fn cancel_all_answers_every_request_once() {
    let _turn = gpu_turn();
    let generator = quarter_inset();
    let times: Vec<Time> = (0..50).map(|k| t(k, 25)).collect();
    let (tx, rx) = std::sync::mpsc::channel();
    generator.generate_images(times.clone(), move |time, outcome| {
        let _ = tx.send((time, matches!(outcome, Outcome::Cancelled)));
    });
    generator.cancel_all();
    // cancel_all returned: every request has had its answer.
    let answers: Vec<(Time, bool)> = rx.try_iter().collect();
    assert_eq!(answers.len(), times.len(), "one answer per request");
    let mut answered: Vec<Time> = answers.iter().map(|a| a.0).collect();
    answered.sort();
    assert_eq!(answered, times);
    // A request after the cancellation is served.
    assert!(generator.copy_image(t(1, 1)).is_ok());
}

/// A compositor that renders on the GPU itself: the top layer's texture
/// copied into a texture of its own, returned as the composed frame.
struct CopiesTopLayer;

impl VideoCompositor for CopiesTopLayer {
    fn compose(&self, request: &CompositionRequest<'_>) -> Result<ComposedFrame, CompositorError> {
        let top = request.layers.first().ok_or("no layer")?;
        let device = request.gpu.device();
        let size = top.texture.size();
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("copied layer"),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8UnormSrgb,
            usage: wgpu::TextureUsages::COPY_DST | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let mut encoder = device.create_command_encoder(&Default::default());
        encoder.copy_texture_to_texture(top.texture.as_image_copy(), texture.as_image_copy(), size);
        request.gpu.queue().submit([encoder.finish()]);
        Ok(ComposedFrame::Texture(texture))
    }
}

#[test]
fn a_custom_compositor_may_return_a_texture_it_rendered() {
    let _turn = gpu_turn();
    let generator = exact(CompositionGenerator::new(
        two_tracks(),
        video((160, 120), vec![layer(2, Transform::IDENTITY)], t(2, 1)),
    ))
    .with_compositor(Arc::new(CopiesTopLayer));
    let (image, actual) = generator.copy_image(t(6, 5)).unwrap();
    assert_eq!(actual, t(6, 5));
    // Track 2 at 10 fps: frame 12, as the single-track path makes it.
    assert_eq!(code_in(&image, (0, 0, 160, 120)), Ok(12));
    let single = stills::ImageGenerator::new(open_fixture("two_video_tracks.mp4"));
    single.configure(|s| {
        s.set_exact();
        s.set_track(Some(1));
    });
    let (alone, _) = single.copy_image(t(6, 5)).unwrap();
    assert_eq!(image.data(), alone.data());
}

#[test]
fn derived_layer_transforms_show_each_track_upright() {
    let _turn = gpu_turn();
    for name in [
        "rot90.mp4",
        "rot180.mp4",
        "rot270.mp4",
        "mirror_rot0.mp4",
        "mirror_rot90.mp4",
        "mirror_rot270.mp4",
        "sar_2_1.mp4",
    ] {
        let asset = Arc::new(open_fixture(name));
        let composition = Composition::of_asset(asset.clone()).unwrap();
        let video = VideoComposition::properties_of(&composition).unwrap();
        let generator = exact(CompositionGenerator::new(composition, video));
        let (composed, _) = generator.copy_image(t(1, 2)).unwrap();
        let single = stills::ImageGenerator::new(asset.clone());
        single.configure(|s| {
            s.set_exact();
            s.set_applies_preferred_track_transform(true);
        });
        let (upright, _) = single.copy_image(t(1, 2)).unwrap();
        assert_eq!(
            (composed.width(), composed.height()),
            (upright.width(), upright.height()),
            "{name}"
        );
        // The code is drawn on the stored picture: read as the track shows it.
        let orientation = asset.default_video_track().unwrap().effective_orientation();
        let code = common::harness::read_code(&composed, orientation);
        let want = Fixture::load(name).displayed_at(t(1, 2)).map(|f| f.code);
        assert_eq!(code.ok(), want, "{name}: the frame shown at 0.5 s");
        if name == "sar_2_1.mp4" {
            // Stretched 2x along x by the layer transform: rendered at its
            // drawn size by the frame pipeline, as the single-track path
            // corrects the aspect ratio.
            let db = psnr8(&rgb(&composed), &rgb(&upright));
            assert!(
                db >= 50.0,
                "{name}: {db:.1} dB against the single-track image"
            );
        } else {
            // A quarter turn or a mirror moves pixels without resampling:
            // the same pixels as the single-track path's.
            assert_eq!(composed.data(), upright.data(), "{name}");
        }
    }
}

#[test]
fn an_hdr_composition_keeps_hdr_with_match_source() {
    let _turn = gpu_turn();
    // properties_of picks PQ for an HDR track.
    let composition = Composition::of_asset(open_fixture("hevc_main10_hdr10.mp4")).unwrap();
    let video = VideoComposition::properties_of(&composition).unwrap();
    assert_eq!(video.color_space, stills::compose::BT2100_PQ);
    let (composed, alone) = composed_in_pq("hevc_main10_hdr10.mp4");
    assert_eq!(composed.pixel_format(), PixelFormat::Rgba16);
    assert_eq!(composed.color_space(), stills::compose::BT2100_PQ);
    assert_eq!(alone.color_space(), composed.color_space());
    let (db, _) = psnr16_where(&samples16(&composed), &samples16(&alone), |_| true);
    eprintln!("HDR10 composed in PQ: {db:.1} dB against the single-track image");
    assert!(db >= 60.0, "{db:.1} dB against the single-track image");
}

/// zscale's BT.2100 PQ (BT.2020, 16-bit RGBA, little-endian) of an image
/// in `transfer` and `primaries`, with SDR white (or HLG's nominal
/// peak) at `npl` cd/m².
fn zscale_to_pq(image: &Image, transfer: &str, primaries: &str, npl: u32) -> Vec<u8> {
    let layout = match image.pixel_format() {
        PixelFormat::Rgba8 => "rgba",
        PixelFormat::Rgba16 => "rgba64le",
    };
    let size = format!("{}x{}", image.width(), image.height());
    ffmpeg(
        &[
            "-f", "rawvideo", "-pix_fmt", layout, "-s", &size, "-i", "-",
            "-vf",
            &format!(
                "zscale=tin={transfer}:pin={primaries}:t=smpte2084:p=bt2020:npl={npl}:min=gbr:m=gbr:rin=full:r=full,format=gbrp16le"
            ),
            "-pix_fmt", "rgba64le", "-f", "rawvideo", "-",
        ],
        Some(image.data()),
    )
}

/// The layer of `name` composed alone in BT.2100 PQ with `MatchSource`,
/// and the single-track image it was made from.
fn composed_in_pq(name: &str) -> (Image, Image) {
    let asset = Arc::new(open_fixture(name));
    let composition = Composition::of_asset(asset.clone()).unwrap();
    let mut video = VideoComposition::properties_of(&composition).unwrap();
    video.color_space = stills::compose::BT2100_PQ;
    let generator = CompositionGenerator::new(composition, video).unwrap();
    let policy = stills::DynamicRangePolicy::MatchSource;
    generator.configure(|s| {
        s.set_exact();
        s.set_dynamic_range_policy(policy);
    });
    let (composed, _) = generator.copy_image(t(1, 2)).unwrap();
    let single = stills::ImageGenerator::new(asset);
    single.configure(|s| {
        s.set_exact();
        s.set_dynamic_range_policy(policy);
    });
    let (alone, _) = single.copy_image(t(1, 2)).unwrap();
    assert_eq!(
        (composed.width(), composed.height()),
        (alone.width(), alone.height())
    );
    (composed, alone)
}

/// R, G, B of each pixel of an image of 16-bit RGBA (little-endian).
fn samples16(image: &Image) -> Vec<[f64; 3]> {
    samples16_of(image.data())
}

/// PSNR over the pixels `keep` picks, 16-bit scale.
fn psnr16_where(a: &[[f64; 3]], b: &[[f64; 3]], keep: impl Fn(usize) -> bool) -> (f64, usize) {
    let (mut sum, mut n) = (0.0, 0);
    for (_, (p, q)) in a.iter().zip(b).enumerate().filter(|(i, _)| keep(*i)) {
        sum += (0..3).map(|c| (p[c] - q[c]) * (p[c] - q[c])).sum::<f64>();
        n += 3;
    }
    let mse = sum / n.max(1) as f64;
    (
        10.0 * (65535.0f64 * 65535.0 / mse.max(1e-12)).log10(),
        n / 3,
    )
}

#[test]
fn an_sdr_layer_in_an_hdr_composition_matches_zscale() {
    let _turn = gpu_turn();
    let (composed, alone) = composed_in_pq("untagged_sd.mp4");
    // SDR white at reference white, 203 cd/m² (BT.2408).
    let want = zscale_to_pq(&alone, "iec61966-2-1", "bt709", 203);
    let (ours, theirs) = (samples16(&composed), samples16_of(&want));
    let (db, _) = psnr16_where(&ours, &theirs, |_| true);
    eprintln!("SDR layer in PQ: {db:.1} dB against zscale");
    assert!(db >= 45.0, "{db:.1} dB against zscale");
}

/// R, G, B of each pixel of 16-bit RGBA bytes (little-endian).
fn samples16_of(raw: &[u8]) -> Vec<[f64; 3]> {
    raw.chunks(8)
        .map(|p| std::array::from_fn(|c| f64::from(u16::from_le_bytes([p[2 * c], p[2 * c + 1]]))))
        .collect()
}

#[test]
fn an_hlg_layer_in_an_hdr_composition_follows_bt2100() {
    let _turn = gpu_turn();
    let (composed, alone) = composed_in_pq("hevc_main10_hlg.mp4");
    let ours = samples16(&composed);
    // BT.2100's reference OOTF on a 1000 cd/m² display, in f64: display
    // light = 1000 · Ys^0.2 · scene light, Ys the scene luminance.
    let (a, b) = (0.178_832_77, 1.0 - 4.0 * 0.178_832_77);
    let c = 0.5 - a * (4.0f64 * a).ln();
    let scene = |e: f64| {
        if e <= 0.5 {
            e * e / 3.0
        } else {
            (((e - c) / a).exp() + b) / 12.0
        }
    };
    let (m1, m2) = (2610.0 / 16384.0, 2523.0 / 4096.0 * 128.0);
    let (c1, c2, c3) = (
        3424.0 / 4096.0,
        2413.0 / 4096.0 * 32.0,
        2392.0 / 4096.0 * 32.0,
    );
    let pq = |nits: f64| {
        let y = (nits / 10000.0f64).clamp(0.0, 1.0).powf(m1);
        ((c1 + c2 * y) / (1.0 + c3 * y)).powf(m2) * 65535.0
    };
    let input = samples16(&alone);
    let bt2100: Vec<[f64; 3]> = input
        .iter()
        .map(|p| {
            let e = p.map(|v| scene(v / 65535.0));
            let ys = 0.2627 * e[0] + 0.6780 * e[1] + 0.0593 * e[2];
            let gain = 1000.0 * ys.max(1e-12).powf(0.2);
            e.map(|v| pq(gain * v))
        })
        .collect();
    let (db, _) = psnr16_where(&ours, &bt2100, |_| true);
    eprintln!("HLG layer in PQ: {db:.1} dB against BT.2100's OOTF");
    assert!(db >= 45.0, "{db:.1} dB against BT.2100's OOTF");
    // zscale applies HLG's OOTF to each component rather than through the
    // luminance, which agrees with BT.2100 on neutral colours only: there,
    // it is the independent reference.
    let theirs = samples16_of(&zscale_to_pq(&alone, "arib-std-b67", "bt2020", 1000));
    let neutral = |i: usize| {
        let p = input[i];
        let (lo, hi) = (p[0].min(p[1]).min(p[2]), p[0].max(p[1]).max(p[2]));
        hi - lo < 0.01 * 65535.0
    };
    let (db, pixels) = psnr16_where(&ours, &theirs, neutral);
    eprintln!("HLG layer in PQ, {pixels} neutral pixels: {db:.1} dB against zscale");
    assert!(pixels > 1000, "only {pixels} neutral pixels");
    assert!(db >= 45.0, "{db:.1} dB against zscale on neutral pixels");
}

#[test]
fn futures_and_streams_of_a_composition_and_their_cancellation() {
    let _turn = gpu_turn();
    let generator = quarter_inset();
    let (image, actual) = block_on_timeout(generator.image_at(t(1, 1)), DEADLINE)
        .expect("the future resolves")
        .unwrap();
    assert_eq!(
        (actual, code_in(&image, (0, 0, 320, 240))),
        (t(1, 1), Ok(25))
    );

    let times: Vec<Time> = (0..10).map(|k| t(k * 4, 25)).collect();
    let items = collect_stream(generator.images(times.clone()), DEADLINE).unwrap();
    let mut seen: Vec<Time> = items.iter().map(|i| i.requested).collect();
    seen.sort();
    assert_eq!(seen, times);
    for item in &items {
        let (image, actual) = item.result.as_ref().unwrap();
        assert_eq!(*actual, item.requested);
        let k = (actual.seconds() * 25.0).round() as u32;
        assert_eq!(code_in(image, (160, 120, 160, 120)), Ok(k * 10 / 25));
    }

    // Dropping a stream or a future cancels its requests and no other's;
    // the generator goes on.
    let (tx, rx) = std::sync::mpsc::channel();
    generator.generate_images([t(1, 2)], move |_, outcome| {
        let _ = tx.send(outcome);
    });
    drop(generator.images((0..50).map(|k| t(k, 25))));
    drop(generator.image_at(t(3, 2)));
    assert!(matches!(
        rx.recv_timeout(DEADLINE),
        Ok(Outcome::Succeeded { .. })
    ));
    assert!(generator.copy_image(t(1, 1)).is_ok());
}
