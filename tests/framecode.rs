//! Tests of the frame-code reader: on pictures drawn here from the code's
//! definition, and on frames the ffmpeg CLI decodes from the fixtures,
//! scaled down and turned with its own filters (an independent reference
//! for scaling and orientation). The fixtures' frame lists are in
//! `tests/fixtures/README.md`.

mod common;

use common::ffmpeg::{ffmpeg, ffprobe};
use common::framecode::{
    encode, read_frame_code, FrameCodeError, Picture, PixelLayout, CELLS, MAX_INDEX,
};
use common::readme::fixture_path;
use stills::asset::geometry::{DisplayMatrix, Orientation};

const ORIENTATIONS: [Orientation; 8] = [
    orientation(0, false),
    orientation(90, false),
    orientation(180, false),
    orientation(270, false),
    orientation(0, true),
    orientation(90, true),
    orientation(180, true),
    orientation(270, true),
];

const fn orientation(rotation: u16, mirror: bool) -> Orientation {
    Orientation { rotation, mirror }
}

/// An owned RGB8 picture, for pictures drawn or decoded here.
#[derive(Debug, Clone)]
struct Rgb {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl Rgb {
    fn picture(&self) -> Picture<'_> {
        Picture {
            pixels: &self.data,
            width: self.width,
            height: self.height,
            stride: self.width as usize * 3,
            layout: PixelLayout::Rgb8,
        }
    }

    fn read(&self, orientation: Orientation) -> Result<u32, FrameCodeError> {
        read_frame_code(&self.picture(), orientation)
    }

    fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let at = (y * self.width + x) as usize * 3;
        [self.data[at], self.data[at + 1], self.data[at + 2]]
    }

    /// The picture turned by `orientation`, pixel by pixel: mirrored, then
    /// rotated clockwise a quarter turn at a time.
    fn oriented(&self, orientation: Orientation) -> Rgb {
        let mut out = self.clone();
        if orientation.mirror {
            out = out.remap(out.width, out.height, |x, y| (out.width - 1 - x, y));
        }
        for _ in 0..orientation.rotation / 90 {
            // Shown (x, y) of a clockwise quarter turn shows stored
            // (y, H - 1 - x).
            let h = out.height;
            out = out.remap(out.height, out.width, |x, y| (y, h - 1 - x));
        }
        out
    }

    fn remap(&self, width: u32, height: u32, source: impl Fn(u32, u32) -> (u32, u32)) -> Rgb {
        let mut data = Vec::with_capacity(width as usize * height as usize * 3);
        for y in 0..height {
            for x in 0..width {
                let (sx, sy) = source(x, y);
                data.extend_from_slice(&self.pixel(sx, sy));
            }
        }
        Rgb {
            width,
            height,
            data,
        }
    }
}

/// A stored picture with `index` coded as the fixtures code it: mid grey
/// below the band; in the band's top sixth, cell `c` spans
/// `c·W/16 ≤ x < (c+1)·W/16`; cell 0 white, bits 0–11 in cells 1–12,
/// popcount mod 4 in cells 13–14, cell 15 black.
fn drawn(index: u32, width: u32, height: u32) -> Rgb {
    let bits: Vec<bool> = (0..12).map(|b| (index >> b) & 1 == 1).collect();
    let ones = bits.iter().filter(|&&b| b).count();
    let mut cells = vec![true];
    cells.extend(&bits);
    cells.extend([ones % 2 == 1, (ones / 2) % 2 == 1, false]);
    let mut data = Vec::new();
    for y in 0..height {
        for x in 0..width {
            let value = if 6 * y < height {
                if cells[(x * 16 / width) as usize] {
                    255
                } else {
                    0
                }
            } else {
                128
            };
            data.extend([value; 3]);
        }
    }
    Rgb {
        width,
        height,
        data,
    }
}

#[test]
fn encode_matches_the_documented_layout() {
    assert_eq!(CELLS, 16);
    for index in 0..=MAX_INDEX {
        let picture = drawn(index, 16, 6);
        let expected: Vec<bool> = (0..16).map(|x| picture.pixel(x, 0)[0] == 255).collect();
        assert_eq!(
            encode(index).map(Vec::from),
            Some(expected),
            "index {index}"
        );
    }
    assert_eq!(encode(MAX_INDEX + 1), None);
}

#[test]
fn reads_every_index_drawn_upright() {
    for index in 0..=MAX_INDEX {
        assert_eq!(drawn(index, 64, 24).read(Orientation::IDENTITY), Ok(index));
    }
}

#[test]
fn reads_every_orientation_and_rejects_the_wrong_ones() {
    for index in [0, 1, 0b1010_0101_1010, MAX_INDEX] {
        // Odd sizes so no cell or band edge falls on a pixel boundary.
        let stored = drawn(index, 97, 43);
        for applied in ORIENTATIONS {
            let shown = stored.oriented(applied);
            for assumed in ORIENTATIONS {
                let read = shown.read(assumed);
                if assumed == applied {
                    assert_eq!(read, Ok(index), "{applied:?}");
                } else {
                    assert!(
                        read.is_err(),
                        "{applied:?} read as {assumed:?} gave {read:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn reads_rgba_with_padded_rows_and_16_bit_samples() {
    let rgb = drawn(1234, 80, 30);
    let stride = 80 * 4 + 12;
    let mut rgba = vec![0u8; stride * 30];
    let mut rgb16 = Vec::new();
    for (i, px) in rgb.data.chunks(3).enumerate() {
        let at = (i / 80) * stride + (i % 80) * 4;
        rgba[at..at + 3].copy_from_slice(px);
        for &c in px {
            rgb16.extend((u16::from(c) * 257).to_ne_bytes());
        }
    }
    let rgba_picture = Picture {
        pixels: &rgba,
        width: 80,
        height: 30,
        stride,
        layout: PixelLayout::Rgba8,
    };
    assert_eq!(
        read_frame_code(&rgba_picture, Orientation::IDENTITY),
        Ok(1234)
    );
    let rgb16_picture = Picture {
        pixels: &rgb16,
        width: 80,
        height: 30,
        stride: 80 * 6,
        layout: PixelLayout::Rgb16,
    };
    assert_eq!(
        read_frame_code(&rgb16_picture, Orientation::IDENTITY),
        Ok(1234)
    );
}

#[test]
fn a_band_that_is_not_black_and_white_is_unclear() {
    let mut grey = drawn(5, 64, 24);
    grey.data.fill(128);
    assert!(matches!(
        grey.read(Orientation::IDENTITY),
        Err(FrameCodeError::Unclear { cell: 0, .. })
    ));
    // Bright but coloured: not the band.
    let mut yellow = drawn(5, 64, 24);
    for px in yellow.data.chunks_mut(3) {
        px.copy_from_slice(&[255, 255, 0]);
    }
    assert!(matches!(
        yellow.read(Orientation::IDENTITY),
        Err(FrameCodeError::Unclear { cell: 0, .. })
    ));
    // Half of cell 3's sampled middle black, half white: a blur, not a bit.
    let mut split = drawn(0, 64, 24);
    for y in 0..4 {
        for x in 12..14 {
            let at = (y * 64 + x) * 3;
            split.data[at..at + 3].fill(255);
        }
    }
    assert!(matches!(
        split.read(Orientation::IDENTITY),
        Err(FrameCodeError::Unclear { cell: 3, .. })
    ));
}

#[test]
fn a_flipped_bit_fails_the_check() {
    for (index, cell) in [(0, 1), (7, 2), (MAX_INDEX, 12), (100, 13), (100, 14)] {
        let mut picture = drawn(index, 64, 24);
        for y in 0..4 {
            for x in cell * 4..cell * 4 + 4 {
                let at = (y * 64 + x) * 3;
                let flipped = 255 - picture.data[at];
                picture.data[at..at + 3].fill(flipped);
            }
        }
        assert!(
            matches!(
                picture.read(Orientation::IDENTITY),
                Err(FrameCodeError::Check { .. })
            ),
            "index {index}, cell {cell}"
        );
    }
}

#[test]
fn a_reversed_band_fails_the_markers() {
    let reversed = drawn(77, 64, 24).oriented(orientation(0, true));
    assert_eq!(
        reversed.read(Orientation::IDENTITY),
        Err(FrameCodeError::Marker {
            cell: 0,
            found: false
        })
    );
}

#[test]
fn bad_buffers_and_tiny_pictures_are_errors() {
    let rgb = drawn(3, 64, 24);
    let cases = [
        (rgb.data.len() - 1, 64, 24, 64 * 3),
        (rgb.data.len(), 64, 24, 64 * 3 - 1),
        (rgb.data.len(), 0, 24, 64 * 3),
        (rgb.data.len(), 64, 0, 64 * 3),
        (rgb.data.len(), u32::MAX, 24, usize::MAX),
    ];
    for (len, width, height, stride) in cases {
        let picture = Picture {
            pixels: &rgb.data[..len],
            width,
            height,
            stride,
            layout: PixelLayout::Rgb8,
        };
        assert!(
            matches!(
                read_frame_code(&picture, Orientation::IDENTITY),
                Err(FrameCodeError::Buffer { .. })
            ),
            "{len} bytes, {width}x{height}, stride {stride}"
        );
    }
    let narrow = drawn(3, 31, 24);
    assert!(matches!(
        narrow.read(Orientation::IDENTITY),
        Err(FrameCodeError::TooSmall { .. })
    ));
    let flat = drawn(3, 64, 11);
    assert!(matches!(
        flat.read(Orientation::IDENTITY),
        Err(FrameCodeError::TooSmall { .. })
    ));
    assert_eq!(
        rgb.read(orientation(45, false)),
        Err(FrameCodeError::Rotation { rotation: 45 })
    );
}

/// Every frame FFmpeg decodes from `name` (stream `map`, stored picture:
/// no autorotation unless `autorotate`), passed through the filter chain
/// `filters`, as 8-bit RGB; or with `deep`, as 16-bit native-endian RGB.
fn decode(name: &str, map: &str, filters: &str, autorotate: bool, deep: bool) -> Vec<Decoded> {
    let path = fixture_path(name);
    let mut args = Vec::new();
    if !autorotate {
        args.push("-noautorotate");
    }
    let pix_fmt = if deep { "rgb48be" } else { "rgb24" };
    args.extend(["-i", path.to_str().expect("a UTF-8 path")]);
    args.extend(["-map", map, "-vf", filters, "-fps_mode", "passthrough"]);
    args.extend(["-pix_fmt", pix_fmt, "-c:v", "ppm", "-f", "image2pipe", "-"]);
    parse_ppm_stream(&ffmpeg(&args, None))
}

/// A decoded frame: 8-bit RGB, or 16-bit native-endian RGB.
struct Decoded {
    width: u32,
    height: u32,
    layout: PixelLayout,
    data: Vec<u8>,
}

impl Decoded {
    fn read(&self, orientation: Orientation) -> Result<u32, FrameCodeError> {
        let picture = Picture {
            pixels: &self.data,
            width: self.width,
            height: self.height,
            stride: self.width as usize * self.layout.bytes_per_pixel(),
            layout: self.layout,
        };
        read_frame_code(&picture, orientation)
    }
}

/// Binary PPM images back to back, as FFmpeg's `ppm` encoder writes them
/// (`P6`, width, height, maxval, one whitespace byte, then samples; 16-bit
/// samples big-endian).
fn parse_ppm_stream(mut bytes: &[u8]) -> Vec<Decoded> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let mut fields = Vec::new();
        let mut at = 0;
        while fields.len() < 4 {
            while bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            let start = at;
            while !bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            fields.push(std::str::from_utf8(&bytes[start..at]).expect("PPM header"));
        }
        assert_eq!(fields[0], "P6", "not a binary PPM");
        let width: u32 = fields[1].parse().expect("PPM width");
        let height: u32 = fields[2].parse().expect("PPM height");
        let deep = fields[3] != "255";
        let sample = if deep { 2 } else { 1 };
        let len = width as usize * height as usize * 3 * sample;
        let body = &bytes[at + 1..at + 1 + len];
        let data = if deep {
            body.chunks(2)
                .flat_map(|c| u16::from_be_bytes([c[0], c[1]]).to_ne_bytes())
                .collect()
        } else {
            body.to_vec()
        };
        frames.push(Decoded {
            width,
            height,
            layout: if deep {
                PixelLayout::Rgb16
            } else {
                PixelLayout::Rgb8
            },
            data,
        });
        bytes = &bytes[at + 1 + len..];
    }
    frames
}

fn codes(frames: &[Decoded], orientation: Orientation) -> Vec<Result<u32, FrameCodeError>> {
    frames.iter().map(|f| f.read(orientation)).collect()
}

fn expect(range: std::ops::Range<u32>) -> Vec<Result<u32, FrameCodeError>> {
    range.map(Ok).collect()
}

/// FFmpeg filters that apply `orientation` to the stored picture.
fn orientation_filters(orientation: Orientation) -> String {
    let mut filters = Vec::new();
    if orientation.mirror {
        filters.push("hflip");
    }
    match orientation.rotation {
        90 => filters.push("transpose=clock"),
        180 => filters.extend(["hflip", "vflip"]),
        270 => filters.push("transpose=cclock"),
        _ => {}
    }
    if filters.is_empty() {
        filters.push("null");
    }
    filters.join(",")
}

#[test]
fn every_frame_of_a_b_frame_stream_at_full_size() {
    let frames = decode("h264_bframes.mp4", "0:v:0", "null", false, false);
    assert_eq!(codes(&frames, Orientation::IDENTITY), expect(0..50));
}

#[test]
fn every_frame_at_a_quarter_with_each_scaler() {
    let cases: [(&str, &str, std::ops::Range<u32>); 12] = [
        ("h264_bframes.mp4", "null", 0..50),
        ("h264_opengop_pyramid.mkv", "null", 0..50),
        ("vfr.mp4", "null", 0..30),
        ("editlist_midgop.mp4", "null", 35..75),
        ("vp9.webm", "null", 0..50),
        ("av1.mp4", "null", 0..50),
        ("odd_161x121_yuv420p.webm", "null", 0..25),
        ("yuv422p.mp4", "null", 0..25),
        ("fullrange.mp4", "null", 0..25),
        ("mpegts_start.ts", "null", 0..50),
        // The anamorphic ones as shown: SAR applied, and the clean
        // aperture (320x240 at x 4, y 6) cropped first.
        ("sar_2_1.mp4", "scale=iw*2:ih", 0..25),
        ("clap_pasp.mp4", "crop=320:240:4:6,scale=427:240", 0..25),
    ];
    for (name, shown, range) in cases {
        for flags in ["bicubic", "bilinear", "lanczos", "area", "neighbor"] {
            let filters = format!("{shown},scale=iw/4:ih/4:flags={flags}");
            let frames = decode(name, "0:v:0", &filters, false, false);
            assert_eq!(
                codes(&frames, Orientation::IDENTITY),
                expect(range.clone()),
                "{name} with {filters}"
            );
        }
    }
}

#[test]
fn each_track_of_a_two_track_file() {
    let first = decode(
        "two_video_tracks.mp4",
        "0:v:0",
        "scale=iw/4:ih/4",
        false,
        false,
    );
    assert_eq!(codes(&first, Orientation::IDENTITY), expect(0..50));
    let second = decode(
        "two_video_tracks.mp4",
        "0:v:1",
        "scale=iw/4:ih/4",
        false,
        false,
    );
    assert_eq!((second[0].width, second[0].height), (40, 30));
    assert_eq!(codes(&second, Orientation::IDENTITY), expect(0..20));
}

#[test]
fn ten_bit_hdr_frames_read_in_8_and_16_bits() {
    for name in ["hevc_main10_hdr10.mp4", "hevc_main10_hlg.mp4"] {
        for deep in [false, true] {
            let frames = decode(name, "0:v:0", "scale=iw/4:ih/4", false, deep);
            assert_eq!(
                frames[0].layout,
                if deep {
                    PixelLayout::Rgb16
                } else {
                    PixelLayout::Rgb8
                }
            );
            assert_eq!(
                codes(&frames, Orientation::IDENTITY),
                expect(0..50),
                "{name}"
            );
        }
    }
}

#[test]
fn frames_turned_by_ffmpeg_read_only_with_their_orientation() {
    for (name, map, range) in [
        ("h264_bframes.mp4", "0:v:0", 0..50),
        ("rot0.mp4", "0:v:0", 0..10),
        ("odd_161x121_yuv444p.mp4", "0:v:0", 0..25),
    ] {
        for applied in ORIENTATIONS {
            let filters = format!("{},scale=iw/4:ih/4", orientation_filters(applied));
            let frames = decode(name, map, &filters, false, false);
            assert_eq!(
                codes(&frames, applied),
                expect(range.clone()),
                "{name} turned by {applied:?}"
            );
            for assumed in ORIENTATIONS.into_iter().filter(|&o| o != applied) {
                for (frame, read) in codes(&frames, assumed).into_iter().enumerate() {
                    assert!(
                        read.is_err(),
                        "{name} frame {frame} turned by {applied:?} read as {assumed:?}: {read:?}"
                    );
                }
            }
        }
    }
}

/// The display matrix ffprobe reports for the first video stream; FFmpeg
/// exports none for an identity matrix.
fn probed_matrix(name: &str) -> DisplayMatrix {
    let path = fixture_path(name);
    let text = ffprobe(&[
        "-select_streams",
        "v:0",
        "-show_streams",
        path.to_str().expect("a UTF-8 path"),
    ]);
    // Three lines "0000000n: a b c" follow "displaymatrix=".
    let numbers: Vec<i32> = text
        .lines()
        .skip_while(|l| !l.starts_with("displaymatrix="))
        .skip(1)
        .take(3)
        .flat_map(|l| {
            l.split_whitespace()
                .skip(1)
                .map(|n| n.parse().expect("matrix entry"))
        })
        .collect();
    if numbers.is_empty() {
        return DisplayMatrix::IDENTITY;
    }
    DisplayMatrix(numbers.try_into().expect("nine matrix entries"))
}

#[test]
fn orientation_fixtures_carry_the_matrix_their_name_says() {
    for expected in ORIENTATIONS {
        let name = format!(
            "{}rot{}.mp4",
            if expected.mirror { "mirror_" } else { "" },
            expected.rotation
        );
        assert_eq!(probed_matrix(&name).orientation(), Some(expected), "{name}");
    }
}

#[test]
fn ffmpeg_autorotation_of_rotated_fixtures_reads_with_their_orientation() {
    // FFmpeg 5.1 turns pictures by the matrix's rotation only, so this
    // agrees with the matrix for the unmirrored cases alone.
    for rotation in [0, 90, 180, 270] {
        let name = format!("rot{rotation}.mp4");
        let frames = decode(&name, "0:v:0", "scale=iw/4:ih/4", true, false);
        let (w, h) = (frames[0].width, frames[0].height);
        assert_eq!(
            (w, h),
            if rotation % 180 == 90 {
                (24, 40)
            } else {
                (40, 24)
            }
        );
        assert_eq!(
            codes(&frames, orientation(rotation, false)),
            expect(0..10),
            "{name}"
        );
    }
}
