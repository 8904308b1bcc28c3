//! The generated image: pixels read back once from the GPU (or made by the
//! CPU renderer), with what they mean (format and colour space),
//! convertible to the `image` crate's buffers and savable as PNG, JPEG or
//! WebP.

use std::io::{BufWriter, Write};

use image::{ExtendedColorType, ImageEncoder};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::asset::color::{ColorPrimaries, TransferCharacteristic};
use crate::decode::BackendChoice;
use crate::error::{Error, Result, Unsupported};

/// How the pixel bytes are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// 4 × 8 bits per pixel, R G B A.
    Rgba8,
    /// 4 × 16 bits per pixel, R G B A, each little-endian.
    Rgba16,
}

impl PixelFormat {
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Rgba8 => 4,
            PixelFormat::Rgba16 => 8,
        }
    }
}

/// What the pixel values mean: primaries and transfer of RGB, full range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ColorSpace {
    pub primaries: ColorPrimaries,
    pub transfer: TransferCharacteristic,
}

impl ColorSpace {
    /// BT.709 primaries with the sRGB transfer: what every SDR image is.
    pub const SRGB: ColorSpace = ColorSpace {
        primaries: ColorPrimaries::Bt709,
        transfer: TransferCharacteristic::Iec61966_2_1,
    };

    /// Whether the pixels are high dynamic range (PQ or HLG).
    pub fn is_hdr(&self) -> bool {
        self.transfer.hdr_format().is_some()
    }
}

/// Encodings `Image::save` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Png,
    Jpeg,
    /// Lossless WebP.
    WebP,
}

impl ImageFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::WebP => "webp",
        }
    }
}

/// Where one generated image's time went, stage by stage: wall-clock time
/// on the thread that did each stage. Decoding serves several requests at
/// once, so `demux` and `decode` are what this image's decoder spent since
/// the previous image it delivered from the same decode run (for the first
/// image of a run, since the run began, seek included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FrameTimings {
    /// Reading and seeking to packets.
    pub demux: Duration,
    /// Decoding them (and mapping the decoded picture).
    pub decode: Duration,
    /// Copying host planes to the GPU's staging buffer; zero when the
    /// picture was already on the device. Where the passes run on a CPU (a
    /// CPU adapter, or the CPU renderer), also box-averaging the planes
    /// first for a steep downscale.
    pub upload: Duration,
    /// The frame passes: on the GPU from submission to completion, or the
    /// CPU renderer's run (see [`Image::rendered_by`]).
    pub gpu: Duration,
    /// Mapping the readback buffer and copying the pixels out.
    pub readback: Duration,
}

/// What ran the frame passes (colour, crop, rotation, scaling, tone
/// mapping) of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RenderedBy {
    /// The WGSL passes on the pool's GPU adapter (lavapipe included).
    Gpu,
    /// The CPU renderer ([`HostRenderer`](crate::gpu::HostRenderer)): the
    /// same plan evaluated on the host, where the only adapter is a CPU.
    Cpu,
}

impl RenderedBy {
    /// The name `grab --json` and the docs use.
    pub fn name(self) -> &'static str {
        match self {
            RenderedBy::Gpu => "gpu",
            RenderedBy::Cpu => "cpu",
        }
    }
}

/// How an interlaced picture was made progressive for its image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deinterlacer {
    /// Edge-directed interpolation of one field, before resampling: the
    /// field shown first is kept (the picture's instant), and each missing
    /// line is made from that field's lines only, along
    /// the direction in which the lines above and below match best
    /// (yadif's spatial check), else with bwdif's four-tap vertical
    /// filter. It needs no other picture, so it costs no extra decoding,
    /// whatever the request's tolerances: what a picture gets when it was
    /// the first decoded after the seek (a keyframe or window request
    /// served by a sync frame), or when the picture before it is not at
    /// hand in host memory.
    Spatial,
    /// Yadif/bwdif-style temporal check against the picture shown just
    /// before, which the decoder made anyway on its way from the sync frame
    /// to this one (exact requests past the sync frame): where the other
    /// field and the previous picture agree that nothing moved, the
    /// missing lines are woven from the other field (the mean of its two
    /// captures), keeping the still parts' full vertical resolution; where
    /// something moved, the spatial interpolation, kept within the range
    /// the captures allow. Software-decoded (host) pictures only.
    MotionAdaptive,
}

impl Deinterlacer {
    /// The name `grab --json` and the docs use.
    pub fn name(self) -> &'static str {
        match self {
            Deinterlacer::Spatial => "spatial",
            Deinterlacer::MotionAdaptive => "motion-adaptive",
        }
    }
}

/// What an image with alpha is composited on for JPEG unless the caller
/// says otherwise: black, as FFmpeg's JPEG encoders and most players show
/// a transparent video.
pub const JPEG_BACKGROUND: [u8; 3] = [0, 0, 0];

/// JPEG quality used by `save`: high enough that thumbnails show no
/// blocking, as ffmpegthumbnailer's default of 8/10 does.
const JPEG_QUALITY: u8 = 90;

/// An image generated from a video frame. Two images are equal when their
/// pixels, meaning and backend are; how long each took does not count.
#[derive(Debug, Clone)]
pub struct Image {
    width: u32,
    height: u32,
    stride: usize,
    format: PixelFormat,
    color_space: ColorSpace,
    data: Vec<u8>,
    /// Whether the alpha samples mean transparency (straight alpha); when
    /// not, they are opaque.
    alpha: bool,
    /// How the picture was deinterlaced; `None` when it was not.
    deinterlaced: Option<Deinterlacer>,
    backend: Option<BackendChoice>,
    rendered_by: Option<RenderedBy>,
    timings: Option<FrameTimings>,
}

impl PartialEq for Image {
    fn eq(&self, other: &Image) -> bool {
        (
            self.width,
            self.height,
            self.stride,
            self.format,
            self.color_space,
            &self.data,
            self.alpha,
            self.deinterlaced,
            &self.backend,
        ) == (
            other.width,
            other.height,
            other.stride,
            other.format,
            other.color_space,
            &other.data,
            other.alpha,
            other.deinterlaced,
            &other.backend,
        )
    }
}

impl Eq for Image {}

impl Image {
    /// Wraps pixel bytes; `None` when `data` cannot hold `height` rows of
    /// `stride` bytes or a row does not fit in `stride`.
    pub fn new(
        width: u32,
        height: u32,
        stride: usize,
        format: PixelFormat,
        color_space: ColorSpace,
        data: Vec<u8>,
    ) -> Option<Image> {
        let row = (width as usize).checked_mul(format.bytes_per_pixel())?;
        let need = stride.checked_mul(height as usize)?;
        (width > 0 && height > 0 && row <= stride && data.len() >= need).then_some(Image {
            width,
            height,
            stride,
            format,
            color_space,
            data,
            alpha: false,
            deinterlaced: None,
            backend: None,
            rendered_by: None,
            timings: None,
        })
    }

    /// Whether the image has transparency: its alpha samples are straight
    /// alpha from the source (a VP9-alpha WebM, ProRes 4444, RGBA PNG in
    /// MOV). Without, every alpha sample is opaque.
    pub fn has_alpha(&self) -> bool {
        self.alpha
    }

    /// Marks the alpha samples as meaning transparency (or not).
    pub fn with_alpha(mut self, alpha: bool) -> Image {
        self.alpha = alpha;
        self
    }

    /// How the source picture was deinterlaced: `None` for a progressive
    /// picture, with deinterlacing off, and for an interlaced picture a
    /// hardware decoder handed over as a tiled image (VA-API), which is
    /// read woven.
    pub fn deinterlaced(&self) -> Option<Deinterlacer> {
        self.deinterlaced
    }

    pub(crate) fn with_deinterlaced(mut self, d: Option<Deinterlacer>) -> Image {
        self.deinterlaced = d;
        self
    }

    /// What ran the frame passes of this image; `None` for an image not
    /// made by a generator.
    pub fn rendered_by(&self) -> Option<RenderedBy> {
        self.rendered_by
    }

    pub(crate) fn with_rendered_by(mut self, by: RenderedBy) -> Image {
        self.rendered_by = Some(by);
        self
    }

    /// Which decode backend made this image, and why better ones were
    /// passed over; `None` for images not made by a generator.
    pub fn backend(&self) -> Option<&BackendChoice> {
        self.backend.as_ref()
    }

    pub(crate) fn with_backend(mut self, backend: BackendChoice) -> Image {
        self.backend = Some(backend);
        self
    }

    /// Where this image's time went, stage by stage; `None` for images not
    /// made by a generator.
    pub fn timings(&self) -> Option<&FrameTimings> {
        self.timings.as_ref()
    }

    pub(crate) fn with_timings(mut self, timings: FrameTimings) -> Image {
        self.timings = Some(timings);
        self
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes from the start of one row to the next.
    pub fn stride(&self) -> usize {
        self.stride
    }

    pub fn pixel_format(&self) -> PixelFormat {
        self.format
    }

    pub fn color_space(&self) -> ColorSpace {
        self.color_space
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// The pixels of row `y`, without stride padding.
    pub fn row(&self, y: u32) -> &[u8] {
        let start = y as usize * self.stride;
        &self.data[start..start + self.width as usize * self.format.bytes_per_pixel()]
    }

    fn packed(&self) -> Vec<u8> {
        (0..self.height)
            .flat_map(|y| self.row(y).iter().copied())
            .collect()
    }

    /// The pixels without row padding, borrowed when there is none (the
    /// pipeline's images have none), so encoding a large image does not
    /// copy it first.
    fn tight(&self) -> std::borrow::Cow<'_, [u8]> {
        let row = self.width as usize * self.format.bytes_per_pixel();
        if self.stride == row {
            std::borrow::Cow::Borrowed(&self.data[..row * self.height as usize])
        } else {
            std::borrow::Cow::Owned(self.packed())
        }
    }

    /// As an 8-bit `image` buffer; `None` for 16-bit (HDR) images.
    pub fn to_rgba8(&self) -> Option<image::RgbaImage> {
        match self.format {
            PixelFormat::Rgba8 => {
                image::RgbaImage::from_raw(self.width, self.height, self.packed())
            }
            PixelFormat::Rgba16 => None,
        }
    }

    /// As a 16-bit `image` buffer (8-bit images are widened exactly).
    pub fn to_rgba16(&self) -> image::ImageBuffer<image::Rgba<u16>, Vec<u16>> {
        let samples: Vec<u16> = match self.format {
            PixelFormat::Rgba8 => self.packed().iter().map(|&v| u16::from(v) * 257).collect(),
            PixelFormat::Rgba16 => self
                .packed()
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect(),
        };
        image::ImageBuffer::from_raw(self.width, self.height, samples)
            .expect("sample count matches the size")
    }

    /// Encodes the image. HDR images are written only as 16-bit PNG with a
    /// `cICP` chunk naming their primaries and transfer, so HDR-aware
    /// viewers show them as HDR; JPEG and WebP would silently clip them.
    /// PNG and WebP keep alpha (straight); JPEG has none, so an image with
    /// alpha is composited on black ([`encode_on`](Self::encode_on) picks
    /// the colour).
    pub fn encode(&self, format: ImageFormat) -> Result<Vec<u8>> {
        self.encode_on(format, JPEG_BACKGROUND)
    }

    /// Like [`encode`](Self::encode), compositing an image with alpha on
    /// `background` (8-bit R, G, B in the image's colour space) where the
    /// format has no alpha (JPEG).
    pub fn encode_on(&self, format: ImageFormat, background: [u8; 3]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let encode_err = |e: image::ImageError| Error::Io {
            path: format!("<{} encoder>", format.extension()).into(),
            source: Arc::new(std::io::Error::other(e)),
        };
        match (self.format, format) {
            (PixelFormat::Rgba16, ImageFormat::Png) => self.write_png16(&mut out)?,
            (PixelFormat::Rgba16, _) => {
                return Err(Unsupported::ImageFormat {
                    bits: 16,
                    what: if self.color_space.is_hdr() {
                        "HDR "
                    } else {
                        ""
                    },
                    format: format.extension(),
                }
                .into())
            }
            (PixelFormat::Rgba8, ImageFormat::Png) => {
                image::codecs::png::PngEncoder::new(&mut out)
                    .write_image(
                        &self.tight(),
                        self.width,
                        self.height,
                        ExtendedColorType::Rgba8,
                    )
                    .map_err(encode_err)?;
            }
            (PixelFormat::Rgba8, ImageFormat::Jpeg) => {
                let rgb = self.composited(background);
                let encoder =
                    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
                rgb.write_with_encoder(encoder).map_err(encode_err)?;
            }
            (PixelFormat::Rgba8, ImageFormat::WebP) => {
                image::codecs::webp::WebPEncoder::new_lossless(&mut out)
                    .write_image(
                        &self.tight(),
                        self.width,
                        self.height,
                        ExtendedColorType::Rgba8,
                    )
                    .map_err(encode_err)?;
            }
        }
        Ok(out)
    }

    /// The 8-bit colour over `background` where the image has alpha (the
    /// straight colour blended in the encoded values, as browsers
    /// composite), or the colour as it is.
    fn composited(&self, background: [u8; 3]) -> image::RgbImage {
        let mut rgb = image::RgbImage::new(self.width, self.height);
        for (y, row) in rgb.rows_mut().enumerate() {
            for (pixel, rgba) in row.zip(self.row(y as u32).chunks_exact(4)) {
                let a = if self.alpha { u32::from(rgba[3]) } else { 255 };
                for c in 0..3 {
                    let over = u32::from(rgba[c]) * a + u32::from(background[c]) * (255 - a);
                    pixel.0[c] = ((over + 127) / 255) as u8;
                }
            }
        }
        rgb
    }

    /// Writes the encoded image to `path`.
    pub fn save(&self, path: impl AsRef<Path>, format: ImageFormat) -> Result<()> {
        self.save_on(path, format, JPEG_BACKGROUND)
    }

    /// Like [`save`](Self::save), compositing on `background` where the
    /// format has no alpha (see [`encode_on`](Self::encode_on)).
    pub fn save_on(
        &self,
        path: impl AsRef<Path>,
        format: ImageFormat,
        background: [u8; 3],
    ) -> Result<()> {
        let path = path.as_ref();
        let bytes = self.encode_on(format, background)?;
        let io_err = |source| Error::Io {
            path: path.to_path_buf(),
            source: Arc::new(source),
        };
        let mut file = BufWriter::new(std::fs::File::create(path).map_err(io_err)?);
        file.write_all(&bytes).map_err(io_err)?;
        file.flush().map_err(io_err)
    }

    fn write_png16(&self, out: &mut Vec<u8>) -> Result<()> {
        let png_err = |e: png::EncodingError| Error::Io {
            path: "<png encoder>".into(),
            source: Arc::new(std::io::Error::other(e)),
        };
        let mut encoder = png::Encoder::new(&mut *out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Sixteen);
        let mut writer = encoder.write_header().map_err(png_err)?;
        if let Some(cicp) = cicp(self.color_space) {
            writer
                .write_chunk(png::chunk::ChunkType(*b"cICP"), &cicp)
                .map_err(png_err)?;
        }
        // PNG stores 16-bit samples big-endian.
        let be: Vec<u8> = self
            .packed()
            .chunks_exact(2)
            .flat_map(|b| [b[1], b[0]])
            .collect();
        writer.write_image_data(&be).map_err(png_err)?;
        writer.finish().map_err(png_err)
    }
}

/// The PNG `cICP` chunk (H.273 code points: primaries, transfer, matrix 0 =
/// RGB, full range) for a colour space, when it has code points.
fn cicp(cs: ColorSpace) -> Option<[u8; 4]> {
    let primaries = match cs.primaries {
        ColorPrimaries::Bt709 => 1,
        ColorPrimaries::Bt2020 => 9,
        ColorPrimaries::Smpte432 => 12,
        _ => return None,
    };
    let transfer = match cs.transfer {
        TransferCharacteristic::Iec61966_2_1 => 13,
        TransferCharacteristic::Pq => 16,
        TransferCharacteristic::Hlg => 18,
        _ => return None,
    };
    Some([primaries, transfer, 0, 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(format: PixelFormat, cs: ColorSpace) -> Image {
        let (w, h) = (5u32, 3u32);
        let bpp = format.bytes_per_pixel();
        let stride = w as usize * bpp + 3;
        let data = (0..stride * h as usize)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        Image::new(w, h, stride, format, cs, data).unwrap()
    }

    #[test]
    fn rejects_short_buffers() {
        assert!(Image::new(4, 4, 16, PixelFormat::Rgba8, ColorSpace::SRGB, vec![0; 63]).is_none());
        assert!(Image::new(4, 4, 15, PixelFormat::Rgba8, ColorSpace::SRGB, vec![0; 64]).is_none());
        assert!(Image::new(0, 4, 16, PixelFormat::Rgba8, ColorSpace::SRGB, vec![]).is_none());
    }

    #[test]
    fn png_round_trip_drops_stride_padding() {
        let img = gradient(PixelFormat::Rgba8, ColorSpace::SRGB);
        let png = img.encode(ImageFormat::Png).unwrap();
        let back = image::load_from_memory(&png).unwrap().to_rgba8();
        assert_eq!(back, img.to_rgba8().unwrap());
        assert_eq!(back.get_pixel(1, 2).0.to_vec(), img.row(2)[4..8].to_vec());
    }

    #[test]
    fn tightly_packed_images_encode_without_a_copy_and_round_trip() {
        let data: Vec<u8> = (0..4 * 6 * 2).map(|i| (i * 11 % 256) as u8).collect();
        let img = Image::new(6, 2, 24, PixelFormat::Rgba8, ColorSpace::SRGB, data.clone()).unwrap();
        assert!(matches!(img.tight(), std::borrow::Cow::Borrowed(_)));
        for f in [ImageFormat::Png, ImageFormat::WebP] {
            let back = image::load_from_memory(&img.encode(f).unwrap())
                .unwrap()
                .to_rgba8();
            assert_eq!(back.into_raw(), data, "{f:?}");
        }
    }

    #[test]
    fn hdr_png_is_16_bit_with_cicp() {
        let cs = ColorSpace {
            primaries: ColorPrimaries::Bt2020,
            transfer: TransferCharacteristic::Pq,
        };
        let img = gradient(PixelFormat::Rgba16, cs);
        let png = img.encode(ImageFormat::Png).unwrap();
        let at = png
            .windows(4)
            .position(|w| w == b"cICP")
            .expect("cICP chunk");
        assert_eq!(&png[at + 4..at + 8], &[9, 16, 0, 1]);
        assert!(at < png.windows(4).position(|w| w == b"IDAT").unwrap());
        let back = image::load_from_memory(&png).unwrap().to_rgba16();
        assert_eq!(back, img.to_rgba16());
        assert!(matches!(
            img.encode(ImageFormat::Jpeg),
            Err(Error::Unsupported(_))
        ));
    }

    #[test]
    fn alpha_survives_png_and_webp_and_jpeg_composites_on_the_background() {
        // One opaque red pixel, one half-transparent green, one clear blue.
        let data = vec![255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0];
        let img = Image::new(3, 1, 12, PixelFormat::Rgba8, ColorSpace::SRGB, data.clone())
            .unwrap()
            .with_alpha(true);
        assert!(img.has_alpha());
        for f in [ImageFormat::Png, ImageFormat::WebP] {
            let back = image::load_from_memory(&img.encode(f).unwrap())
                .unwrap()
                .to_rgba8();
            assert_eq!(back.into_raw(), data, "{f:?} keeps straight alpha");
        }
        assert_eq!(
            img.composited([0, 0, 0]).into_raw(),
            [255, 0, 0, 0, 128, 0, 0, 0, 0]
        );
        assert_eq!(
            img.composited([255, 255, 255]).into_raw(),
            [255, 0, 0, 127, 255, 127, 255, 255, 255]
        );
        // Without alpha the samples are opaque filler and JPEG ignores them.
        let opaque = img.clone().with_alpha(false);
        assert_eq!(
            opaque.composited([255, 255, 255]).into_raw(),
            [255, 0, 0, 0, 255, 0, 0, 0, 255]
        );
        let jpeg = image::load_from_memory(&img.encode_on(ImageFormat::Jpeg, [255; 3]).unwrap())
            .unwrap()
            .to_rgb8();
        assert!(
            jpeg.get_pixel(2, 0).0.iter().all(|&v| v > 200),
            "clear is the background"
        );
    }

    #[test]
    fn jpeg_and_webp_decode() {
        let img = gradient(PixelFormat::Rgba8, ColorSpace::SRGB);
        for f in [ImageFormat::Jpeg, ImageFormat::WebP] {
            let bytes = img.encode(f).unwrap();
            let back = image::load_from_memory(&bytes).unwrap();
            assert_eq!((back.width(), back.height()), (5, 3));
        }
        let webp = image::load_from_memory(&img.encode(ImageFormat::WebP).unwrap())
            .unwrap()
            .to_rgba8();
        assert_eq!(webp, img.to_rgba8().unwrap(), "WebP is lossless");
    }
}
