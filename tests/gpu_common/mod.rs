//! Helpers shared by the GPU tests: the FFmpeg CLI as the independent
//! reference, hand-built output specs, and image metrics.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use stills::asset::color::ColorPrimaries;
use stills::gpu::{AdapterPreference, GpuContext};
use stills::render::spec::{
    Affine2, ColorSpec, OutputEncoding, OutputSpec, Rect, TransferFunction,
};

/// One context per test binary: creating a device and compiling the
/// pipelines is the slow part on lavapipe.
pub fn context() -> &'static GpuContext {
    static CTX: OnceLock<GpuContext> = OnceLock::new();
    CTX.get_or_init(|| {
        let ctx = GpuContext::new(AdapterPreference::Auto).expect("a GPU or lavapipe adapter");
        eprintln!("adapter: {:?}", ctx.info());
        ctx
    })
}

/// Runs the ffmpeg CLI with `args` (stdin fed from `input`), returning
/// stdout. A missing ffmpeg is a test failure, not a skip: these tests
/// exist to compare against it.
pub fn ffmpeg(args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
    let mut command = Command::new("ffmpeg");
    command
        .args(["-hide_banner", "-nostdin", "-loglevel", "error"])
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
        panic!(
            "the ffmpeg CLI is required for these reference tests (FFmpeg 5.1 with zscale and \
             libplacebo; Debian: apt-get install ffmpeg): {e}"
        )
    });
    let writer = input.map(|data| {
        let mut stdin = child.stdin.take().expect("stdin");
        let data = data.to_vec();
        std::thread::spawn(move || stdin.write_all(&data))
    });
    let output = child.wait_with_output().expect("ffmpeg runs");
    if let Some(writer) = writer {
        writer.join().expect("writer").expect("stdin write");
    }
    assert!(
        output.status.success(),
        "ffmpeg {:?} failed: {}",
        args,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A raw frame of `pix_fmt` made by a lavfi source and filter chain.
pub fn lavfi_frame(source: &str, filters: &str, pix_fmt: &str) -> Vec<u8> {
    let vf = if filters.is_empty() {
        format!("format={pix_fmt}")
    } else {
        format!("{filters},format={pix_fmt}")
    };
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            source,
            "-vf",
            &vf,
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-",
        ],
        None,
    )
}

/// Converts a raw frame with an ffmpeg filter chain, returning raw output.
pub fn ffmpeg_convert(
    raw: &[u8],
    pix_fmt: &str,
    width: u32,
    height: u32,
    filters: &str,
    out_pix_fmt: &str,
) -> Vec<u8> {
    let size = format!("{width}x{height}");
    let vf = format!("{filters},format={out_pix_fmt}");
    ffmpeg(
        &[
            "-f",
            "rawvideo",
            "-pix_fmt",
            pix_fmt,
            "-s",
            &size,
            "-i",
            "-",
            "-vf",
            &vf,
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-",
        ],
        Some(raw),
    )
}

/// FFmpeg's R'G'B' (rgb24) of a raw frame through zscale with `options`
/// (input matrix, range, chroma siting, size, filter). zscale must produce
/// planar RGB itself (`m=gbr`, then `format=gbrp`), otherwise FFmpeg 5.1
/// negotiates a YUV output and swscale does the conversion.
pub fn zscale_rgb(raw: &[u8], pix_fmt: &str, width: u32, height: u32, options: &str) -> Vec<u8> {
    ffmpeg_convert(
        raw,
        pix_fmt,
        width,
        height,
        &format!("zscale={options}:m=gbr:r=full,format=gbrp"),
        "rgb24",
    )
}

/// Kr, Kb of the matrices under test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Matrix {
    Bt601,
    Bt709,
    Bt2020,
}

impl Matrix {
    pub fn coefficients(self) -> (f64, f64) {
        match self {
            Matrix::Bt601 => (0.299, 0.114),
            Matrix::Bt709 => (0.2126, 0.0722),
            Matrix::Bt2020 => (0.2627, 0.0593),
        }
    }

    /// zscale's name for it.
    pub fn zscale(self) -> &'static str {
        match self {
            Matrix::Bt601 => "470bg",
            Matrix::Bt709 => "709",
            Matrix::Bt2020 => "2020_ncl",
        }
    }
}

/// The YUV → R'G'B' matrix on normalised codes `code / (2^bits − 1)`, with
/// range expansion folded in, as `ColorSpec` wants it. Written out here
/// independently of the render module so the tests check the shader, not
/// one implementation against itself.
pub fn yuv_matrix(matrix: Matrix, full_range: bool, bits: u8) -> ([[f64; 3]; 3], [f64; 3]) {
    let (kr, kb) = matrix.coefficients();
    let kg = 1.0 - kr - kb;
    let rgb_from_ycc = [
        [1.0, 0.0, 2.0 * (1.0 - kr)],
        [
            1.0,
            -2.0 * kb * (1.0 - kb) / kg,
            -2.0 * kr * (1.0 - kr) / kg,
        ],
        [1.0, 2.0 * (1.0 - kb), 0.0],
    ];
    let max = f64::from((1u32 << bits) - 1);
    let unit = f64::from(1u32 << (bits - 8));
    // code = n · max; Y' = (code − y_off) / y_range, C' = (code − c_off) / c_range
    let (y_off, y_range, c_off, c_range) = if full_range {
        (0.0, max, f64::from(1u32 << (bits - 1)), max)
    } else {
        (16.0 * unit, 219.0 * unit, 128.0 * unit, 224.0 * unit)
    };
    let scale = [max / y_range, max / c_range, max / c_range];
    let shift = [-y_off / y_range, -c_off / c_range, -c_off / c_range];
    let mut m = [[0.0; 3]; 3];
    let mut offset = [0.0; 3];
    for r in 0..3 {
        for c in 0..3 {
            m[r][c] = rgb_from_ycc[r][c] * scale[c];
            offset[r] += rgb_from_ycc[r][c] * shift[c];
        }
    }
    (m, offset)
}

pub const IDENTITY3: [[f64; 3]; 3] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

/// An SDR colour spec for YUV input.
pub fn sdr_color(matrix: Matrix, full_range: bool, bits: u8, alignment: Alignment) -> ColorSpec {
    let (yuv_to_rgb, yuv_offset) = yuv_matrix(matrix, full_range, bits);
    ColorSpec {
        bit_depth: bits,
        sample_scale: sample_scale(bits, alignment),
        yuv_to_rgb,
        yuv_offset,
        chroma_offset: [0.0, 0.5],
        transfer: TransferFunction::Sdr,
        source_primaries: ColorPrimaries::Bt709,
        gamut: IDENTITY3,
        tone_map: None,
        output: OutputEncoding::Srgb8,
    }
}

/// How samples sit in their container.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Alignment {
    /// 8 in 8 or 16 in 16.
    Full,
    /// Low bits of a u16 (`yuv420p10le`).
    Lsb,
    /// High bits of a u16 (`p010le`).
    Msb,
}

/// Factor from a unorm read of the container to `code / (2^bits − 1)`.
pub fn sample_scale(bits: u8, alignment: Alignment) -> f64 {
    let max = f64::from((1u32 << bits) - 1);
    match alignment {
        Alignment::Full => 1.0,
        Alignment::Lsb => 65535.0 / max,
        Alignment::Msb => 65535.0 / (max * f64::from(1u32 << (16 - bits))),
    }
}

/// A spec that scales the whole `src_w`×`src_h` frame to `out_w`×`out_h`.
pub fn scale_spec(src_w: u32, src_h: u32, out_w: u32, out_h: u32, color: ColorSpec) -> OutputSpec {
    let sx = f64::from(src_w) / f64::from(out_w);
    let sy = f64::from(src_h) / f64::from(out_h);
    OutputSpec {
        width: out_w,
        height: out_h,
        out_to_src: Affine2 {
            m: [[sx, 0.0], [0.0, sy]],
            t: [0.0, 0.0],
        },
        source_rect: Rect {
            x0: 0.0,
            y0: 0.0,
            x1: f64::from(src_w),
            y1: f64::from(src_h),
        },
        scale: [sx, sy],
        color,
    }
}

/// PSNR over all samples of two equally sized buffers, for 8-bit data.
pub fn psnr8(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "buffers differ in size");
    let mse = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d
        })
        .sum::<f64>()
        / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

/// Drops the alpha of RGBA8 pixels.
pub fn rgba_to_rgb(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}

/// Saves an RGB8 image for a person to look at when a test fails.
pub fn save_rgb(name: &str, width: u32, height: u32, rgb: &[u8]) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("{name}.png"));
    image::save_buffer(&path, rgb, width, height, image::ColorType::Rgb8).expect("save png");
}

/// Runs ffmpeg writing to `output` (a file), for encodes the tests then
/// read back.
pub fn ffmpeg_to_file(args: &[&str], output: &std::path::Path) {
    let mut all: Vec<&str> = args.to_vec();
    let out = output.to_str().expect("utf-8 path");
    all.extend_from_slice(&["-y", out]);
    ffmpeg(&all, None);
}

/// A scratch path under Cargo's per-target temporary directory.
pub fn scratch(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// libplacebo's SDR rendering (rgb24) of the first frame of `input`, on
/// FFmpeg's Vulkan device (lavapipe here): the tone-mapping reference.
pub fn libplacebo_rgb(input: &std::path::Path, options: &str) -> Vec<u8> {
    let vf = format!(
        "hwupload,libplacebo=colorspace=bt709:color_primaries=bt709:color_trc=iec61966-2-1:\
         range=pc:format=rgba:peak_detect=0:dithering=none{options},hwdownload,format=rgba"
    );
    let rgba = ffmpeg(
        &[
            "-init_hw_device",
            "vulkan=vk",
            "-filter_hw_device",
            "vk",
            "-i",
            input.to_str().expect("utf-8 path"),
            "-vf",
            &vf,
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-",
        ],
        None,
    );
    rgba_to_rgb(&rgba)
}

fn srgb_to_lab(p: &[u8]) -> [f64; 3] {
    let lin = |c: u8| {
        let v = f64::from(c) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let (r, g, b) = (lin(p[0]), lin(p[1]), lin(p[2]));
    let x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
    let y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
    let z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883;
    let f = |t: f64| {
        if t > 216.0 / 24389.0 {
            t.cbrt()
        } else {
            (24389.0 / 27.0 * t + 16.0) / 116.0
        }
    };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// CIEDE2000 colour difference of two Lab colours.
pub fn delta_e2000(a: [f64; 3], b: [f64; 3]) -> f64 {
    use std::f64::consts::PI;
    let deg = |r: f64| r * 180.0 / PI;
    let rad = |d: f64| d * PI / 180.0;
    let c1 = a[1].hypot(a[2]);
    let c2 = b[1].hypot(b[2]);
    let cbar = (c1 + c2) / 2.0;
    let g = 0.5 * (1.0 - (cbar.powi(7) / (cbar.powi(7) + 25f64.powi(7))).sqrt());
    let a1 = a[1] * (1.0 + g);
    let a2 = b[1] * (1.0 + g);
    let c1p = a1.hypot(a[2]);
    let c2p = a2.hypot(b[2]);
    let hue = |bb: f64, aa: f64| {
        if bb == 0.0 && aa == 0.0 {
            0.0
        } else {
            let h = deg(bb.atan2(aa));
            if h < 0.0 {
                h + 360.0
            } else {
                h
            }
        }
    };
    let h1 = hue(a[2], a1);
    let h2 = hue(b[2], a2);
    let dl = b[0] - a[0];
    let dc = c2p - c1p;
    let mut dh = h2 - h1;
    if c1p * c2p == 0.0 {
        dh = 0.0;
    } else if dh > 180.0 {
        dh -= 360.0;
    } else if dh < -180.0 {
        dh += 360.0;
    }
    let dhh = 2.0 * (c1p * c2p).sqrt() * rad(dh / 2.0).sin();
    let lbar = (a[0] + b[0]) / 2.0;
    let cbarp = (c1p + c2p) / 2.0;
    let hbar = if c1p * c2p == 0.0 {
        h1 + h2
    } else if (h1 - h2).abs() <= 180.0 {
        (h1 + h2) / 2.0
    } else if h1 + h2 < 360.0 {
        (h1 + h2 + 360.0) / 2.0
    } else {
        (h1 + h2 - 360.0) / 2.0
    };
    let t = 1.0 - 0.17 * rad(hbar - 30.0).cos()
        + 0.24 * rad(2.0 * hbar).cos()
        + 0.32 * rad(3.0 * hbar + 6.0).cos()
        - 0.20 * rad(4.0 * hbar - 63.0).cos();
    let dtheta = 30.0 * (-((hbar - 275.0) / 25.0).powi(2)).exp();
    let rc = 2.0 * (cbarp.powi(7) / (cbarp.powi(7) + 25f64.powi(7))).sqrt();
    let sl = 1.0 + 0.015 * (lbar - 50.0).powi(2) / (20.0 + (lbar - 50.0).powi(2)).sqrt();
    let sc = 1.0 + 0.045 * cbarp;
    let sh = 1.0 + 0.015 * cbarp * t;
    let rt = -rad(2.0 * dtheta).sin() * rc;
    ((dl / sl).powi(2) + (dc / sc).powi(2) + (dhh / sh).powi(2) + rt * (dc / sc) * (dhh / sh))
        .sqrt()
}

/// Mean CIEDE2000 between two sRGB (rgb24) images.
pub fn mean_delta_e(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let n = a.len() / 3;
    a.chunks_exact(3)
        .zip(b.chunks_exact(3))
        .map(|(p, q)| delta_e2000(srgb_to_lab(p), srgb_to_lab(q)))
        .sum::<f64>()
        / n as f64
}
