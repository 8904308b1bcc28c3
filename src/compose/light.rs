//! Layer pictures as linear light in a composition's output colour space,
//! pure: what the compose pass blends. An SDR composition needs nothing
//! here (its layers are sRGB textures the GPU linearises on load); an HDR
//! (BT.2100 PQ) one gets every layer as linear BT.2020 light scaled so that
//! 1.0 is SDR reference white (203 cd/m², BT.2408): PQ layers by their EOTF,
//! HLG layers through BT.2100's reference OOTF on a 1000 cd/m² display
//! (which puts HLG's 75 % reference white at 203 cd/m²), and SDR layers
//! with their white at reference white.

use std::sync::OnceLock;

use crate::asset::color::{ColorPrimaries, TransferCharacteristic};
use crate::image::{ColorSpace, Image, PixelFormat};
use crate::render::color::{gamut, gamut_matrix, hlg_system_gamma, Matrix3, SDR_WHITE};
use crate::render::tone::pq_decode;

/// BT.2100 PQ: the HDR output colour space compositions are composed in.
pub const BT2100_PQ: ColorSpace = ColorSpace {
    primaries: ColorPrimaries::Bt2020,
    transfer: TransferCharacteristic::Pq,
};

/// The nominal peak of the display HLG layers are shown on (BT.2100's
/// reference): its system gamma is 1.2.
const HLG_DISPLAY_PEAK: f64 = 1000.0;

/// A transfer curve layers are decoded with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Curve {
    Pq,
    Hlg,
    Srgb,
}

impl Curve {
    fn of(transfer: TransferCharacteristic) -> Option<Curve> {
        match transfer {
            TransferCharacteristic::Pq => Some(Curve::Pq),
            TransferCharacteristic::Hlg => Some(Curve::Hlg),
            TransferCharacteristic::Iec61966_2_1 => Some(Curve::Srgb),
            _ => None,
        }
    }

    /// The curve at every code of `format`, built once per process: a
    /// 16-bit table is 65536 evaluations, which every layer of every frame
    /// would otherwise repeat.
    fn table(self, format: PixelFormat) -> &'static [f32] {
        static TABLES: [OnceLock<Vec<f32>>; 6] = [const { OnceLock::new() }; 6];
        let (codes, slot) = match format {
            PixelFormat::Rgba8 => (256usize, 0),
            PixelFormat::Rgba16 => (65536, 3),
        };
        TABLES[slot + self as usize].get_or_init(|| {
            let max = (codes - 1) as f64;
            (0..codes)
                .map(|c| {
                    let signal = c as f64 / max;
                    (match self {
                        Curve::Pq => pq_decode(signal) / SDR_WHITE,
                        Curve::Hlg => hlg_inverse_oetf(signal),
                        Curve::Srgb => srgb_decode(signal),
                    }) as f32
                })
                .collect()
        })
    }
}

/// How an image's samples become linear BT.2020 light (1.0 = reference
/// white): a table per code value, then the gamut matrix.
struct Decode {
    table: &'static [f32],
    /// HLG: the OOTF's exponent on scene luminance, applied per pixel.
    hlg_gamma: Option<f64>,
    matrix: Matrix3,
}

impl Decode {
    fn of(space: ColorSpace, format: PixelFormat) -> Option<Decode> {
        let curve = Curve::of(space.transfer)?;
        let matrix = gamut_matrix(&gamut(space.primaries)?, &gamut(ColorPrimaries::Bt2020)?)?;
        Some(Decode {
            table: curve.table(format),
            hlg_gamma: (curve == Curve::Hlg).then(|| hlg_system_gamma(HLG_DISPLAY_PEAK)),
            matrix,
        })
    }

    fn pixel(&self, codes: [usize; 3]) -> [f32; 3] {
        let mut rgb = codes.map(|c| f64::from(self.table[c]));
        if let Some(gamma) = self.hlg_gamma {
            // BT.2100 OOTF: display light = peak · Ys^(γ−1) · scene light.
            let ys = 0.2627 * rgb[0] + 0.6780 * rgb[1] + 0.0593 * rgb[2];
            let gain = HLG_DISPLAY_PEAK / SDR_WHITE * ys.max(1e-9).powf(gamma - 1.0);
            rgb = rgb.map(|v| v * gain);
        }
        let m = &self.matrix;
        std::array::from_fn(|i| (m[i][0] * rgb[0] + m[i][1] * rgb[1] + m[i][2] * rgb[2]) as f32)
    }
}

/// `image` as straight-alpha RGBA of 32-bit floats, linear BT.2020 light
/// with 1.0 at reference white; `None` for a colour space it cannot read
/// (neither sRGB, PQ nor HLG, or primaries without a gamut).
pub(crate) fn linear_bt2020(image: &Image) -> Option<Vec<f32>> {
    let decode = Decode::of(image.color_space(), image.pixel_format())?;
    let (w, h) = (image.width() as usize, image.height() as usize);
    let mut out = Vec::with_capacity(w * h * 4);
    let full = |v: usize, bits: usize| v as f32 / ((1usize << bits) - 1) as f32;
    for y in 0..h {
        let row = image.row(y as u32);
        match image.pixel_format() {
            PixelFormat::Rgba8 => {
                for px in row.chunks_exact(4).take(w) {
                    let rgb = decode.pixel([px[0], px[1], px[2]].map(usize::from));
                    out.extend_from_slice(&[rgb[0], rgb[1], rgb[2], full(px[3].into(), 8)]);
                }
            }
            PixelFormat::Rgba16 => {
                for px in row.chunks_exact(8).take(w) {
                    let s = |i: usize| usize::from(u16::from_le_bytes([px[2 * i], px[2 * i + 1]]));
                    let rgb = decode.pixel([s(0), s(1), s(2)]);
                    out.extend_from_slice(&[rgb[0], rgb[1], rgb[2], full(s(3), 16)]);
                }
            }
        }
    }
    Some(out)
}

/// An sRGB-encoded background colour as premultiplied linear light in the
/// output colour space (`[r, g, b, a]`).
pub(crate) fn background(rgba: [f64; 4], output: ColorSpace) -> [f64; 4] {
    let linear = [rgba[0], rgba[1], rgba[2]].map(srgb_decode);
    let rgb = if output == BT2100_PQ {
        let to2020 = gamut(ColorPrimaries::Bt709)
            .zip(gamut(ColorPrimaries::Bt2020))
            .and_then(|(a, b)| gamut_matrix(&a, &b));
        match to2020 {
            Some(m) => std::array::from_fn(|i| {
                m[i][0] * linear[0] + m[i][1] * linear[1] + m[i][2] * linear[2]
            }),
            None => linear,
        }
    } else {
        linear
    };
    let a = rgba[3];
    [rgb[0] * a, rgb[1] * a, rgb[2] * a, a]
}

/// The sRGB EOTF (IEC 61966-2-1).
pub(crate) fn srgb_decode(v: f64) -> f64 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// BT.2100 HLG inverse OETF: signal to normalised scene light.
fn hlg_inverse_oetf(e: f64) -> f64 {
    const A: f64 = 0.178_832_77;
    const B: f64 = 1.0 - 4.0 * A;
    let c = 0.5 - A * (4.0 * A).ln();
    if e <= 0.5 {
        e * e / 3.0
    } else {
        (((e - c) / A).exp() + B) / 12.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::tone::pq_encode;

    fn one_pixel(format: PixelFormat, space: ColorSpace, rgba: [u16; 4]) -> Image {
        let data = match format {
            PixelFormat::Rgba8 => rgba.map(|v| v as u8).to_vec(),
            PixelFormat::Rgba16 => rgba.iter().flat_map(|v| v.to_le_bytes()).collect(),
        };
        Image::new(1, 1, format.bytes_per_pixel(), format, space, data).unwrap()
    }

    fn close(a: &[f32], b: &[f32], tolerance: f32) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tolerance)
    }

    #[test]
    fn reference_white_is_one_whatever_the_layer() {
        let sdr = one_pixel(PixelFormat::Rgba8, ColorSpace::SRGB, [255, 255, 255, 255]);
        assert!(close(
            &linear_bt2020(&sdr).unwrap(),
            &[1.0, 1.0, 1.0, 1.0],
            1e-5
        ));
        let code = (pq_encode(SDR_WHITE) * 65535.0).round() as u16;
        let pq = one_pixel(PixelFormat::Rgba16, BT2100_PQ, [code, code, code, 65535]);
        assert!(close(
            &linear_bt2020(&pq).unwrap(),
            &[1.0, 1.0, 1.0, 1.0],
            1e-3
        ));
        // HLG's reference white is its 75 % signal (BT.2408).
        let hlg_space = ColorSpace {
            transfer: TransferCharacteristic::Hlg,
            ..BT2100_PQ
        };
        let code = (0.75f64 * 65535.0).round() as u16;
        let hlg = one_pixel(PixelFormat::Rgba16, hlg_space, [code, code, code, 65535]);
        assert!(close(
            &linear_bt2020(&hlg).unwrap(),
            &[1.0, 1.0, 1.0, 1.0],
            5e-3
        ));
    }

    #[test]
    fn bt709_red_lies_inside_bt2020() {
        let red = one_pixel(PixelFormat::Rgba8, ColorSpace::SRGB, [255, 0, 0, 128]);
        let got = linear_bt2020(&red).unwrap();
        // BT.2087's matrix, first column.
        assert!(close(&got[..3], &[0.6274, 0.0691, 0.0164], 1e-3), "{got:?}");
        assert!((got[3] - 128.0 / 255.0).abs() < 1e-6);
    }

    #[test]
    fn backgrounds_are_premultiplied_linear_light() {
        let grey = background([0.5, 0.5, 0.5, 0.5], ColorSpace::SRGB);
        let l = srgb_decode(0.5);
        assert_eq!(grey, [l * 0.5, l * 0.5, l * 0.5, 0.5]);
        let white = background([1.0, 1.0, 1.0, 1.0], BT2100_PQ);
        assert!(white[..3].iter().all(|v| (v - 1.0).abs() < 1e-9));
    }
}
