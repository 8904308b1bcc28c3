//! HDR → SDR tone mapping on the GPU compared with libplacebo
//! (`ffmpeg -vf libplacebo`, which runs on lavapipe too).

mod common;

use common::ffmpeg::{ffmpeg, ffmpeg_to_file};
use common::gpu::*;
use common::metrics::*;
use common::scratch::kept_path;
use stills::asset::color::{
    ChromaLocation, Chromaticity, ColorInfo, ColorPrimaries, ColorRange, ContentLightLevel,
    HdrFormat, HdrInfo, MasteringDisplay, MatrixCoefficients, TransferCharacteristic,
};
use stills::gpu::FramePipeline;
use stills::picture::{DecodedFormat, PictureDesc};
use stills::render::spec::OutputSpec;
use stills::render::{RenderSettings, SourceGeometry};
use stills::surface::Picture;

const W: u32 = 160;
const H: u32 = 120;

fn source(transfer: TransferCharacteristic, hdr: HdrInfo) -> PictureDesc {
    let color = ColorInfo {
        primaries: ColorPrimaries::Bt2020,
        transfer,
        matrix: MatrixCoefficients::Bt2020Ncl,
        range: ColorRange::Limited,
        chroma_location: ChromaLocation::Left,
    };
    PictureDesc::packed(W, H, DecodedFormat::Yuv420p10, color, hdr).unwrap()
}

fn spec_for(picture: &PictureDesc) -> OutputSpec {
    OutputSpec::new(
        picture,
        &SourceGeometry::default(),
        &RenderSettings::default(),
    )
    .unwrap()
}

/// Encodes `filters` applied to an SDR test pattern as lossless 10-bit HEVC
/// with `x265_params` (colour tags, HDR metadata) and returns the file and
/// its decoded first frame.
fn hdr_clip(
    name: &str,
    pattern: &str,
    filters: &str,
    x265_params: &str,
) -> (std::path::PathBuf, Vec<u8>) {
    let path = kept_path(&format!("{name}.mkv"));
    let vf = format!("{filters},format=yuv420p10le");
    let params = format!("lossless=1:log-level=error:{x265_params}");
    ffmpeg_to_file(
        &[
            "-f",
            "lavfi",
            "-i",
            pattern,
            "-vf",
            &vf,
            "-frames:v",
            "1",
            "-c:v",
            "libx265",
            "-x265-params",
            &params,
        ],
        &path,
    );
    let raw = ffmpeg(
        &[
            "-i",
            path.to_str().unwrap(),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p10le",
            "-",
        ],
        None,
    );
    (path, raw)
}

fn compare(name: &str, ours: &[u8], reference: &[u8]) -> (f64, f64) {
    let psnr = psnr8(ours, reference);
    let de = mean_delta_e(ours, reference);
    eprintln!("{name}: PSNR {psnr:.2} dB, mean ΔE2000 {de:.2}");
    (psnr, de)
}

fn render(raw: &[u8], spec: &OutputSpec) -> Vec<u8> {
    let frame = Picture::from_packed(W, H, DecodedFormat::Yuv420p10, raw).unwrap();
    let mut pipeline = FramePipeline::new(context()).unwrap();
    rgba_to_rgb(&pipeline.render(&frame, spec).unwrap().data)
}

fn bt2020_mastering(max: f64, min: f64) -> MasteringDisplay {
    let xy = |x: f64, y: f64| Chromaticity { x, y };
    MasteringDisplay {
        primaries: Some([xy(0.68, 0.32), xy(0.265, 0.69), xy(0.15, 0.06)]),
        white_point: Some(xy(0.3127, 0.329)),
        min_luminance: Some(min),
        max_luminance: Some(max),
    }
}

/// The libplacebo options that describe what our shader does: BT.2390 on
/// static metadata (no peak detection), one gain per pixel from the largest
/// channel (`max`, no crosstalk), Lanczos chroma upsampling, no dithering.
const LIBPLACEBO_LIKE_OURS: &str =
    ":tonemapping=bt.2390:tonemapping_mode=max:tonemapping_crosstalk=0:upscaler=lanczos";

const PATTERNS: [&str; 2] = ["testsrc2", "smptehdbars"];

/// SDR test patterns lifted to HDR by zscale: 709 content, BT.2020
/// container, SDR white at 1000 cd/m², so the EETF's whole roll-off is used.
fn lift_to_hdr(transfer: &str) -> String {
    format!(
        "zscale=tin=709:pin=709:min=709:rin=limited:t={transfer}:p=2020:m=2020_ncl:r=limited:npl=1000"
    )
}

fn check_against_libplacebo(
    label: &str,
    path: &std::path::Path,
    raw: &[u8],
    spec: &OutputSpec,
) -> (f64, f64) {
    let ours = render(raw, spec);
    let reference = libplacebo_rgb(path, LIBPLACEBO_LIKE_OURS);
    let (psnr, de) = compare(label, &ours, &reference);
    if psnr < 30.0 {
        save_rgb(&format!("{label}_ours"), W, H, &ours);
        save_rgb(&format!("{label}_libplacebo"), W, H, &reference);
    }
    // For the record: libplacebo's own defaults (luminance-based mode,
    // crosstalk, per-channel gamut clip) differ by design.
    let defaults = libplacebo_rgb(path, ":tonemapping=bt.2390");
    compare(
        &format!("{label} (libplacebo defaults, informational)"),
        &ours,
        &defaults,
    );
    (psnr, de)
}

#[test]
fn pq_tone_mapping_matches_libplacebo() {
    let hdr = HdrInfo {
        format: Some(HdrFormat::Pq),
        mastering_display: Some(bt2020_mastering(1000.0, 0.005)),
        content_light_level: Some(ContentLightLevel {
            max_cll: 1000,
            max_fall: 400,
        }),
        ..HdrInfo::SDR
    };
    let spec = spec_for(&source(TransferCharacteristic::Pq, hdr));
    let mut failures = Vec::new();
    for pattern in PATTERNS {
        let (path, raw) = hdr_clip(
            &format!("pq_{pattern}"),
            &format!("{pattern}=s={W}x{H}:d=1"),
            &lift_to_hdr("smpte2084"),
            "colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:\
             master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,50):\
             max-cll=1000,400",
        );
        let label = format!("PQ {pattern}");
        let (psnr, de) = check_against_libplacebo(&label, &path, &raw, &spec);
        if psnr < 30.0 || de > 3.0 {
            failures.push(label);
        }
    }
    assert!(
        failures.is_empty(),
        "below 30 dB or above ΔE 3: {failures:?}"
    );
}

#[test]
fn hlg_tone_mapping_matches_libplacebo() {
    let hdr = HdrInfo {
        format: Some(HdrFormat::Hlg),
        ..HdrInfo::SDR
    };
    let spec = spec_for(&source(TransferCharacteristic::Hlg, hdr));
    let mut failures = Vec::new();
    for pattern in PATTERNS {
        let (path, raw) = hdr_clip(
            &format!("hlg_{pattern}"),
            &format!("{pattern}=s={W}x{H}:d=1"),
            &lift_to_hdr("arib-std-b67"),
            "colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc",
        );
        let label = format!("HLG {pattern}");
        let (psnr, de) = check_against_libplacebo(&label, &path, &raw, &spec);
        if psnr < 30.0 || de > 3.0 {
            failures.push(label);
        }
    }
    assert!(
        failures.is_empty(),
        "below 30 dB or above ΔE 3: {failures:?}"
    );
}

/// CAM16 hue angle (Li et al. 2017) of an XYZ colour (white Y = 1) under
/// D65, average surround, 40 cd/m² adapting luminance: a hue model
/// independent of both the shader's desaturation and CIELAB's known bend
/// in the blues.
fn cam16_hue(xyz: [f64; 3]) -> f64 {
    const M16: [[f64; 3]; 3] = [
        [0.401288, 0.650173, -0.051461],
        [-0.250268, 1.204414, 0.045854],
        [-0.002079, 0.048952, 0.953127],
    ];
    let white = mul(&M16, [95.047, 100.0, 108.883]);
    let la: f64 = 40.0;
    let d = (1.0 - (1.0 / 3.6) * ((-la - 42.0) / 92.0).exp()).clamp(0.0, 1.0);
    let k = 1.0 / (5.0 * la + 1.0);
    let fl = 0.2 * k.powi(4) * (5.0 * la) + 0.1 * (1.0 - k.powi(4)).powi(2) * (5.0 * la).cbrt();
    let rgb = mul(&M16, xyz.map(|v| v * 100.0));
    let adapted: [f64; 3] = std::array::from_fn(|i| {
        let c = (d * 100.0 / white[i] + 1.0 - d) * rgb[i];
        let p = (fl * c.abs() / 100.0).powf(0.42);
        400.0 * c.signum() * p / (p + 27.13)
    });
    let a = adapted[0] - 12.0 * adapted[1] / 11.0 + adapted[2] / 11.0;
    let b = (adapted[0] + adapted[1] - 2.0 * adapted[2]) / 9.0;
    b.atan2(a).to_degrees()
}

fn mul(m: &[[f64; 3]; 3], v: [f64; 3]) -> [f64; 3] {
    std::array::from_fn(|r| (0..3).map(|c| m[r][c] * v[c]).sum())
}

fn hue_error(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

#[test]
fn wide_gamut_colours_keep_their_hue() {
    use stills::render::color::{gamut, rgb_to_xyz};
    // BT.2020 primaries, secondaries, an orange and an azure at up to
    // 100 cd/m², all far outside BT.709, as PQ-coded 10-bit planar RGB.
    let patches: [[f64; 3]; 8] = [
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
        [0.0, 1.0, 1.0],
        [1.0, 0.0, 1.0],
        [1.0, 1.0, 0.0],
        [1.0, 0.5, 0.0],
        [0.0, 0.5, 1.0],
    ];
    let nits = 100.0;
    let side = 4usize;
    let width = side * patches.len();
    let code = |v: f64| (stills::render::tone::pq_encode(v * nits) * 1023.0).round() as u16;
    let plane = |channel: usize| {
        let mut data = Vec::with_capacity(width * side * 2);
        for _ in 0..side {
            for patch in &patches {
                for _ in 0..side {
                    data.extend_from_slice(&code(patch[channel]).to_le_bytes());
                }
            }
        }
        data
    };
    let mut description = source(
        TransferCharacteristic::Pq,
        HdrInfo {
            format: Some(HdrFormat::Pq),
            mastering_display: Some(bt2020_mastering(1000.0, 0.005)),
            ..HdrInfo::SDR
        },
    );
    description.color.matrix = MatrixCoefficients::Rgb;
    description.color.range = ColorRange::Full;
    let description = PictureDesc::packed(
        width as u32,
        side as u32,
        DecodedFormat::Gbrp10,
        description.color,
        description.hdr,
    )
    .unwrap();
    // gbrp stores G, B, R, each plane from its own offset 0.
    let mut unpacked = description;
    for plane in unpacked.planes.iter_mut() {
        plane.offset = 0;
    }
    let frame = Picture::host(
        unpacked,
        vec![plane(1).into(), plane(2).into(), plane(0).into()],
    )
    .unwrap();
    let spec = spec_for(&description);
    let mut pipeline = FramePipeline::new(context()).unwrap();
    let image = pipeline.render(&frame, &spec).unwrap();

    let to_xyz_2020 = rgb_to_xyz(&gamut(ColorPrimaries::Bt2020).unwrap()).unwrap();
    let to_xyz_709 = rgb_to_xyz(&gamut(ColorPrimaries::Bt709).unwrap()).unwrap();
    let srgb_to_linear = |c: u8| {
        let v = f64::from(c) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let (mut ours_total, mut clip_total, mut ours_worst) = (0.0, 0.0, 0.0f64);
    for (i, patch) in patches.iter().enumerate() {
        let x = i * side + side / 2;
        let p = &image.data[(side / 2 * width + x) * 4..][..3];
        let ours = cam16_hue(mul(&to_xyz_709, [0, 1, 2].map(|c| srgb_to_linear(p[c]))));
        let wanted = cam16_hue(mul(&to_xyz_2020, *patch));
        // What clipping each BT.709 channel to [0, 1] would show.
        let in_709 = mul(&spec.color.gamut, *patch);
        let clipped = cam16_hue(mul(&to_xyz_709, in_709.map(|v| v.clamp(0.0, 1.0))));
        let (ours_error, clip_error) = (hue_error(ours, wanted), hue_error(clipped, wanted));
        eprintln!(
            "BT.2020 {patch:?}: CAM16 hue {wanted:.1}°, ours {ours:.1}° (off {ours_error:.1}°), \
             channel clip {clipped:.1}° (off {clip_error:.1}°), pixel {p:?}"
        );
        ours_total += ours_error;
        clip_total += clip_error;
        ours_worst = ours_worst.max(ours_error);
    }
    let n = patches.len() as f64;
    eprintln!(
        "mean CAM16 hue error: ours {:.1}°, channel clip {:.1}°; ours at worst {ours_worst:.1}°",
        ours_total / n,
        clip_total / n
    );
    assert!(
        ours_total < clip_total,
        "hue kept worse than a channel clip"
    );
    assert!(ours_worst < 8.0, "a hue turned by {ours_worst:.1}°");
}

#[test]
fn delta_e2000_matches_sharma_reference_pairs() {
    // Pairs 1, 7 and 17 of Sharma, Wu & Dalal (2005), Table 1.
    let cases = [
        ([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485], 2.0425),
        ([50.0, 0.0, 0.0], [50.0, -1.0, 2.0], 2.3669),
        ([50.0, 2.5, 0.0], [73.0, 25.0, -18.0], 27.1492),
    ];
    for (a, b, expected) in cases {
        assert!((delta_e2000(a, b) - expected).abs() < 1e-4, "{a:?} {b:?}");
    }
}
