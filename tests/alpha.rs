//! Transparent video keeps its transparency: a VP9-alpha WebM (alpha in
//! Matroska's `BlockAdditional`, decoded with libvpx) and a ProRes 4444
//! movie, both made here with the ffmpeg CLI from a frame-coded test
//! pattern with a known alpha pattern. The alpha is checked against
//! FFmpeg's own decode at native size, and a thumbnail's semi-transparent
//! edges against FFmpeg's premultiplied scaling: resampling straight alpha
//! would bleed the colour hidden under transparent pixels into them.

mod common;

use std::path::Path;

use common::ffmpeg::{ffmpeg, ffmpeg_to_file};
use common::harness::{gpu_turn, read_code};
use common::scratch::Scratch;
use stills::asset::geometry::Orientation;
use stills::{Asset, GeneratorPool, Image, ImageFormat, ImageGenerator, Renderer, Size, Time};

/// The frame code of `tests/fixtures/make.sh`, with alpha: the code band is
/// opaque; below it an opaque disc in a clear area on the left that holds
/// saturated green (a keyed background: what a straight resample bleeds
/// into the disc's edge), and on the right a vertical ramp from clear to
/// opaque over the test pattern.
fn coded_alpha_source(size: &str, seconds: &str) -> String {
    let cell = "floor(X*16/W)";
    let bit = |k: u32| format!("mod(floor(N/pow(2,{k})),2)");
    let ones = (0..12).map(bit).collect::<Vec<_>>().join(" + ");
    let value = format!(
        "if(eq({cell},0),1,if(eq({cell},15),0,if(lt({cell},13),mod(floor(N/pow(2,{cell}-1)),2),mod(floor(mod({ones},4)/pow(2,{cell}-13)),2))))"
    );
    let clear = "gte(6*Y,H)*lt(X,W*0.6)*gte(hypot(X-W*0.3,Y-H*0.55),H*0.25)";
    let alpha = format!(
        "if(lt(6*Y,H),255,if({clear},0,if(lt(X,W*0.6),255,\
         clip(floor((Y-H/6)*255/(H*5/6)),0,255))))"
    );
    // BT.601 limited-range green: Y 145, Cb 54, Cr 34.
    format!(
        "testsrc2=size={size}:rate=25:duration={seconds},format=yuva444p,\
         geq=lum='if(lt(6*Y,H),255*{value},if({clear},145,lum(X,Y)))':\
         cb='if(lt(6*Y,H),128,if({clear},54,cb(X,Y)))':\
         cr='if(lt(6*Y,H),128,if({clear},34,cr(X,Y)))':a='{alpha}'"
    )
}

/// A 320×240 VP9 WebM with alpha, 25 frames.
fn vp9_alpha(scratch: &Scratch) -> std::path::PathBuf {
    let path = scratch.path("vp9_alpha.webm");
    let source = coded_alpha_source("320x240", "1");
    ffmpeg_to_file(
        &[
            "-f",
            "lavfi",
            "-i",
            &source,
            "-vf",
            "format=yuva420p",
            "-c:v",
            "libvpx-vp9",
            "-threads",
            "1",
            "-row-mt",
            "0",
            "-deadline",
            "good",
            "-cpu-used",
            "4",
            "-crf",
            "30",
            "-b:v",
            "0",
            "-g",
            "25",
            "-auto-alt-ref",
            "0",
            "-fflags",
            "+bitexact",
        ],
        &path,
    );
    path
}

/// A 192×144 ProRes 4444 movie (decoded as `yuva444p12le`), 8 frames.
fn prores_4444(scratch: &Scratch) -> std::path::PathBuf {
    let path = scratch.path("prores4444.mov");
    let source = coded_alpha_source("192x144", "0.32");
    ffmpeg_to_file(
        &[
            "-f",
            "lavfi",
            "-i",
            &source,
            "-vf",
            "format=yuva444p10le",
            "-c:v",
            "prores_ks",
            "-profile:v",
            "4444",
            "-qscale:v",
            "16",
            "-vendor",
            "apl0",
            "-fflags",
            "+bitexact",
        ],
        &path,
    );
    path
}

/// Frame `n` of `path` as FFmpeg decodes it (libvpx for VP9, which keeps
/// the alpha), through `filters`, as RGBA.
fn ffmpeg_frame(path: &Path, n: u32, filters: &str) -> Vec<u8> {
    let path = path.to_str().expect("UTF-8 path");
    let mut args = Vec::new();
    if path.ends_with(".webm") {
        args.extend(["-c:v", "libvpx-vp9"]);
    }
    let vf = format!("select=eq(n\\,{n}){filters}");
    args.extend([
        "-i",
        path,
        "-vf",
        &vf,
        "-frames:v",
        "1",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgba",
        "-",
    ]);
    ffmpeg(&args, None)
}

/// The image at frame `n`'s time (25 fps), exact, at most `size`.
fn image_at(path: &Path, n: u32, size: Option<Size>) -> Image {
    image_by(path, n, size, Renderer::Auto)
}

/// [`image_at`], rendered by `renderer`.
fn image_by(path: &Path, n: u32, size: Option<Size>, renderer: Renderer) -> Image {
    let asset = Asset::open(path).unwrap();
    let pool = GeneratorPool::new().with_workers(1).with_renderer(renderer);
    let generator = ImageGenerator::with_pool(asset, &pool);
    generator.configure(|s| {
        s.set_exact();
        if let Some(size) = size {
            s.set_maximum_size(size);
        }
    });
    let t = Time::new(i64::from(n) * 2 + 1, 50);
    let (image, _) = generator
        .copy_image(t)
        .unwrap_or_else(|e| panic!("{}: frame {n}: {e}", path.display()));
    image
}

fn channel(rgba: &[u8], c: usize) -> Vec<u8> {
    rgba.chunks_exact(4).map(|p| p[c]).collect()
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    common::metrics::psnr8(a, b)
}

fn mean(values: &[u8]) -> f64 {
    values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len() as f64
}

/// Checks frames `frames` of `path` at native size: the right frame, alpha
/// reported, and alpha within 40 dB of FFmpeg's.
fn check_native(path: &Path, frames: &[u32]) {
    let track = Asset::open(path).unwrap();
    let track = track.default_video_track().unwrap();
    assert!(
        track.alpha,
        "{}: the track reports its alpha",
        path.display()
    );
    // Both renderers: the CPU renderer where the only adapter is a CPU,
    // and the WGSL passes.
    for (&n, renderer) in frames
        .iter()
        .flat_map(|n| [(n, Renderer::Auto), (n, Renderer::Gpu)])
    {
        let image = image_by(path, n, None, renderer);
        assert!(image.has_alpha(), "{}: frame {n} has alpha", path.display());
        assert_eq!(read_code(&image, Orientation::IDENTITY), Ok(n));
        let ours = channel(image.data(), 3);
        let reference = channel(&ffmpeg_frame(path, n, ""), 3);
        let db = psnr(&ours, &reference);
        eprintln!(
            "{} frame {n}: alpha {db:.1} dB vs FFmpeg, mean {:.1} (FFmpeg {:.1})",
            path.display(),
            mean(&ours),
            mean(&reference)
        );
        assert!(db >= 40.0, "alpha {db:.1} dB < 40");
    }
}

#[test]
fn vp9_alpha_webm_keeps_its_alpha_at_native_size() {
    let _turn = gpu_turn();
    let scratch = Scratch::new("vp9-alpha");
    check_native(&vp9_alpha(&scratch), &[0, 13, 24]);
}

#[test]
fn prores_4444_keeps_its_alpha_at_native_size() {
    let _turn = gpu_turn();
    let scratch = Scratch::new("prores-4444");
    check_native(&prores_4444(&scratch), &[0, 5]);
}

/// PSNR over R, G, B of the pixels whose reference alpha is partial.
fn edge_psnr(ours: &[u8], reference: &[u8]) -> (f64, usize) {
    colour_psnr(ours, reference, 32..=223)
}

/// PSNR over R, G, B of the pixels whose reference alpha is in `alphas`.
fn colour_psnr(
    ours: &[u8],
    reference: &[u8],
    alphas: std::ops::RangeInclusive<u8>,
) -> (f64, usize) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (p, q) in ours.chunks_exact(4).zip(reference.chunks_exact(4)) {
        if alphas.contains(&q[3]) {
            a.extend_from_slice(&p[..3]);
            b.extend_from_slice(&q[..3]);
        }
    }
    (psnr(&a, &b), a.len() / 3)
}

/// The untagged SD sources as stills reads them (BT.601, limited range,
/// chroma co-sited left) to RGB with alpha at native size, the chroma
/// upsampled with Lanczos: zimg, as the colour tests' reference.
const TO_RGB: &str = ",zscale=min=470bg:rin=limited:cin=left:f=lanczos,format=gbrap";

/// Lanczos-3 weights of each output sample of an `inn` → `out` resample
/// along one axis: (first source sample, weights), edges repeated.
fn lanczos_taps(inn: usize, out: usize) -> Vec<Vec<(usize, f64)>> {
    let scale = inn as f64 / out as f64;
    let stretch = scale.max(1.0);
    let kernel = |x: f64| {
        if x.abs() < 1e-9 {
            1.0
        } else if x.abs() >= 3.0 {
            0.0
        } else {
            let px = std::f64::consts::PI * x;
            3.0 * px.sin() * (px / 3.0).sin() / (px * px)
        }
    };
    (0..out)
        .map(|o| {
            let centre = (o as f64 + 0.5) * scale - 0.5;
            let reach = 3.0 * stretch;
            let first = (centre - reach).floor() as i64;
            let last = (centre + reach).ceil() as i64;
            let mut taps: Vec<(usize, f64)> = (first..=last)
                .map(|i| {
                    let at = i.clamp(0, inn as i64 - 1) as usize;
                    (at, kernel((i as f64 - centre) / stretch))
                })
                .collect();
            let sum: f64 = taps.iter().map(|t| t.1).sum();
            taps.iter_mut().for_each(|t| t.1 /= sum);
            taps
        })
        .collect()
}

/// `rgba` (straight alpha, `w`×`h`) resampled to `ow`×`oh` with Lanczos-3
/// in floating point, premultiplied (the colour weighted by its alpha)
/// or straight.
fn lanczos_rgba(
    rgba: &[u8],
    w: usize,
    h: usize,
    ow: usize,
    oh: usize,
    premultiply: bool,
) -> Vec<u8> {
    let weight = |p: &[u8]| {
        if premultiply {
            f64::from(p[3]) / 255.0
        } else {
            1.0
        }
    };
    let source: Vec<[f64; 4]> = rgba
        .chunks_exact(4)
        .map(|p| {
            let a = weight(p);
            [
                f64::from(p[0]) * a,
                f64::from(p[1]) * a,
                f64::from(p[2]) * a,
                f64::from(p[3]),
            ]
        })
        .collect();
    let (tx, ty) = (lanczos_taps(w, ow), lanczos_taps(h, oh));
    let rows: Vec<[f64; 4]> = (0..h)
        .flat_map(|y| {
            let source = &source;
            tx.iter().map(move |taps| {
                let mut acc = [0.0; 4];
                for &(x, wt) in taps {
                    (0..4).for_each(|c| acc[c] += wt * source[y * w + x][c]);
                }
                acc
            })
        })
        .collect();
    let mut out = Vec::with_capacity(ow * oh * 4);
    for taps in &ty {
        for x in 0..ow {
            let mut acc = [0.0; 4];
            for &(y, wt) in taps {
                (0..4).for_each(|c| acc[c] += wt * rows[y * ow + x][c]);
            }
            let a = acc[3].clamp(0.0, 255.0);
            let divisor = if premultiply { a / 255.0 } else { 1.0 };
            for value in &acc[..3] {
                let straight = if divisor > 1e-6 { value / divisor } else { 0.0 };
                out.push(straight.round().clamp(0.0, 255.0) as u8);
            }
            out.push(a.round() as u8);
        }
    }
    out
}

/// At thumbnail size the semi-transparent edges carry the colour of their
/// opaque side, as a premultiplied Lanczos-3 gives; a straight one, shown
/// for scale, bleeds the hidden colours in.
fn check_thumbnail(
    path: &Path,
    n: u32,
    (w, h): (usize, usize),
    (ow, oh): (usize, usize),
    least_db: f64,
) {
    for renderer in [Renderer::Auto, Renderer::Gpu] {
        check_thumbnail_by(path, n, (w, h), (ow, oh), least_db, renderer);
    }
}

fn check_thumbnail_by(
    path: &Path,
    n: u32,
    (w, h): (usize, usize),
    (ow, oh): (usize, usize),
    least_db: f64,
    renderer: Renderer,
) {
    let image = image_by(path, n, Some(Size::new(ow as u32, 0)), renderer);
    assert_eq!((image.width(), image.height()), (ow as u32, oh as u32));
    assert_eq!(read_code(&image, Orientation::IDENTITY), Ok(n));
    let native = ffmpeg_frame(path, n, TO_RGB);
    let premultiplied = lanczos_rgba(&native, w, h, ow, oh, true);
    let straight = lanczos_rgba(&native, w, h, ow, oh, false);
    let scale = format!("{w}x{h} -> {ow}x{oh}");
    let (db, pixels) = edge_psnr(image.data(), &premultiplied);
    let (straight_db, _) = edge_psnr(&straight, &premultiplied);
    let alpha_db = psnr(&channel(image.data(), 3), &channel(&premultiplied, 3));
    let (opaque_db, _) = colour_psnr(image.data(), &premultiplied, 255..=255);
    eprintln!(
        "{} frame {n} at {scale} ({:?}): semi-transparent edge colour {db:.1} dB vs premultiplied \
         FFmpeg over {pixels} pixels (straight FFmpeg: {straight_db:.1} dB), alpha {alpha_db:.1} dB, \
         opaque colour {opaque_db:.1} dB",
        path.display(),
        image.rendered_by()
    );
    assert!(pixels > 100, "the pattern has semi-transparent edges");
    assert!(db >= least_db, "edge colour {db:.1} dB < {least_db}");
}

#[test]
fn vp9_alpha_thumbnails_have_no_fringes() {
    let _turn = gpu_turn();
    let scratch = Scratch::new("vp9-alpha-thumbs");
    // 4:2:0: the encoder's subsampling mixed the keyed green into the
    // chroma texels along the disc's edge. Premultiplying each texel by its
    // mean alpha kept that green at full weight on the opaque side (33.3
    // dB, no better than FFmpeg's straight resampling); premultiplying per
    // luma sample, as the reference does with RGB, lets the opaque side
    // take its opaque neighbours' chroma (36.5 dB).
    check_thumbnail(&vp9_alpha(&scratch), 7, (320, 240), (160, 120), 35.0);
}

#[test]
fn prores_4444_thumbnails_have_no_fringes() {
    let _turn = gpu_turn();
    let scratch = Scratch::new("prores-4444-thumbs");
    check_thumbnail(&prores_4444(&scratch), 2, (192, 144), (96, 72), 35.0);
}

#[test]
fn png_and_webp_keep_alpha_and_jpeg_composites_it() {
    let _turn = gpu_turn();
    let scratch = Scratch::new("alpha-encode");
    let image = image_at(&prores_4444(&scratch), 1, Some(Size::new(96, 0)));
    for format in [ImageFormat::Png, ImageFormat::WebP] {
        let back = image::load_from_memory(&image.encode(format).unwrap())
            .unwrap()
            .to_rgba8();
        assert_eq!(back.as_raw(), image.data(), "{format:?}");
    }
    let white = image::load_from_memory(&image.encode_on(ImageFormat::Jpeg, [255; 3]).unwrap())
        .unwrap()
        .to_rgb8();
    let black = image::load_from_memory(&image.encode(ImageFormat::Jpeg).unwrap())
        .unwrap()
        .to_rgb8();
    // A clear pixel (left, below the band and clear of the disc) is the
    // background in either JPEG.
    let (x, y) = (image.width() * 3 / 100 + 1, image.height() * 9 / 10);
    let rgba = &image.data()[(y * image.width() + x) as usize * 4..][..4];
    assert_eq!(rgba[3], 0, "the pattern is clear there");
    assert!(white.get_pixel(x, y).0.iter().all(|&v| v > 230));
    assert!(black.get_pixel(x, y).0.iter().all(|&v| v < 25));
}

#[test]
fn opaque_sources_stay_opaque_without_alpha() {
    let _turn = gpu_turn();
    let path = common::readme::fixture_path("h264_bframes.mp4");
    let asset = Asset::open(&path).unwrap();
    assert!(!asset.default_video_track().unwrap().alpha);
    let image = image_at(&path, 3, Some(Size::new(160, 0)));
    assert!(!image.has_alpha());
    assert!(channel(image.data(), 3).iter().all(|&a| a == 255));
}

#[test]
fn the_cli_probes_alpha_and_composites_jpeg_on_the_background_asked() {
    let _turn = gpu_turn();
    let scratch = Scratch::new("alpha-cli");
    let movie = vp9_alpha(&scratch);
    let movie = movie.to_str().expect("UTF-8 path");
    let probe = common::cli::stills(&["probe", movie], "");
    assert!(probe.status.success(), "{}", probe.stderr);
    let doc: serde_json::Value = serde_json::from_str(&probe.stdout).unwrap();
    assert_eq!(doc["video_tracks"][0]["alpha"], true);
    let out = scratch.path("out");
    let out = out.to_str().expect("UTF-8 path");
    let grab = |background: &str| {
        let run = common::cli::stills(
            &[
                "grab",
                movie,
                "--at",
                "0.3",
                "--max-size",
                "160x0",
                "--format",
                "jpeg",
                "--background",
                background,
                "-o",
                out,
            ],
            "",
        );
        assert!(run.status.success(), "{}", run.stderr);
        image::open(scratch.path("out/vp9_alpha_300.jpg"))
            .unwrap()
            .to_rgb8()
    };
    // Below the band, at the left edge: clear.
    let (x, y) = (2, 108);
    assert!(grab("ffffff").get_pixel(x, y).0.iter().all(|&v| v > 230));
    assert!(grab("000000").get_pixel(x, y).0.iter().all(|&v| v < 25));
    let bad = common::cli::stills(&["grab", movie, "--at", "0", "--background", "white"], "");
    assert!(!bad.status.success());
    assert!(bad.stderr.contains("RRGGBB"), "{}", bad.stderr);
}
