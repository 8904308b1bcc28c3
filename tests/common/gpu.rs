//! Helpers shared by the GPU tests: the GPU context, FFmpeg's renderings
//! as the independent reference, hand-built output specs, and pictures
//! saved for a person to look at.

use std::path::Path;
use std::sync::OnceLock;

use stills::asset::color::ColorPrimaries;
use stills::gpu::{AdapterPreference, GpuContext};
use stills::render::spec::{
    Affine2, ColorSpec, OutputEncoding, OutputSpec, Rect, TransferFunction,
};

use super::ffmpeg::{ffmpeg, first_raw_frame};
use super::scratch::kept_path;

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

/// A raw frame of `pix_fmt` made by a lavfi source and filter chain.
pub fn lavfi_frame(source: &str, filters: &str, pix_fmt: &str) -> Vec<u8> {
    let vf = if filters.is_empty() {
        format!("format={pix_fmt}")
    } else {
        format!("{filters},format={pix_fmt}")
    };
    first_raw_frame(&["-f", "lavfi", "-i", source], &vf)
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
        deinterlace: None,
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
    let path = kept_path(&format!("{name}.png"));
    image::save_buffer(&path, rgb, width, height, image::ColorType::Rgb8).expect("save png");
}

/// libplacebo's SDR rendering (rgb24) of the first frame of `input`, on
/// FFmpeg's Vulkan device (lavapipe here): the tone-mapping reference.
pub fn libplacebo_rgb(input: &Path, options: &str) -> Vec<u8> {
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
