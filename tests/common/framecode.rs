//! Reads the frame index that every fixture video draws into its own
//! pictures, so a test knows exactly which frame came back.
//!
//! The code (made by `tests/fixtures/make.sh`, described in its README):
//! a band across the top sixth of the *stored* picture holds 16 cells of
//! equal width. Cell 0 is white and cell 15 black; cells 1–12 hold bits 0–11
//! of the frame's index, least significant first, white for 1; cells 13 and
//! 14 hold bits 0 and 1 of (number of ones among those 12 bits) mod 4. The
//! cells are grey (neutral chroma), so they stay grey under any YUV matrix.
//!
//! The reader works on the picture *as shown*: possibly scaled, and turned
//! by the track's orientation, which the caller passes so the reader can
//! find the band where that orientation put it. A misread is reported, not
//! returned as a number: every sampled pixel of a cell must be clearly black
//! or clearly white and grey, the markers catch a reversed or misplaced
//! band, and the check bits catch a flipped data bit.

use stills::asset::geometry::Orientation;

/// Cells across the band.
pub const CELLS: usize = 16;
/// Bits of index the band holds.
pub const DATA_BITS: usize = 12;
/// The largest index the code can hold.
pub const MAX_INDEX: u32 = (1 << DATA_BITS) - 1;
/// The band covers this fraction of the stored picture's height.
const BAND_FRACTION: f64 = 1.0 / 6.0;
/// Levels (0 = black, 1 = white) a cell's pixels must stay below to read as
/// black, or above to read as white; anything between is a blur of two
/// cells or content that is not the band.
const BLACK_MAX: f64 = 0.3;
const WHITE_MIN: f64 = 0.7;
/// Largest spread between a pixel's R, G and B for it to count as grey.
const GREY_SPREAD_MAX: f64 = 0.2;
/// Only the middle of each cell is sampled, this fraction of it along the
/// band and across it, away from edges that scaling and coding blur.
const INNER_ALONG: (f64, f64) = (0.25, 0.75);
const INNER_ACROSS: (f64, f64) = (0.2, 0.8);
/// Smallest shown picture whose cells and band are still some pixels wide:
/// 2 pixels per cell along the band, 2 pixels across it.
const MIN_ALONG: u32 = 2 * CELLS as u32;
const MIN_ACROSS: u32 = 12;

/// How the pixels of the shown picture are laid out in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelLayout {
    /// 8-bit R, G, B.
    Rgb8,
    /// 8-bit R, G, B, A (alpha ignored).
    Rgba8,
    /// 16-bit native-endian R, G, B.
    Rgb16,
    /// 16-bit native-endian R, G, B, A (alpha ignored).
    Rgba16,
}

impl PixelLayout {
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelLayout::Rgb8 => 3,
            PixelLayout::Rgba8 => 4,
            PixelLayout::Rgb16 => 6,
            PixelLayout::Rgba16 => 8,
        }
    }

    /// The pixel's R, G, B scaled to 0..=1.
    fn rgb(self, px: &[u8]) -> [f64; 3] {
        match self {
            PixelLayout::Rgb8 | PixelLayout::Rgba8 => {
                [0, 1, 2].map(|i| f64::from(px[i]) / f64::from(u8::MAX))
            }
            PixelLayout::Rgb16 | PixelLayout::Rgba16 => [0, 1, 2].map(|i| {
                f64::from(u16::from_ne_bytes([px[2 * i], px[2 * i + 1]])) / f64::from(u16::MAX)
            }),
        }
    }
}

/// A shown picture: `height` rows of `width` pixels, rows `stride` bytes
/// apart.
#[derive(Debug, Clone, Copy)]
pub struct Picture<'a> {
    pub pixels: &'a [u8],
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub layout: PixelLayout,
}

/// Why no index could be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FrameCodeError {
    #[error("a {width}x{height} buffer with stride {stride} and {bytes_per_pixel} bytes per pixel needs {needed} bytes, got {len}")]
    Buffer {
        width: u32,
        height: u32,
        stride: usize,
        bytes_per_pixel: usize,
        needed: usize,
        len: usize,
    },
    #[error("a {width}x{height} picture is too small to hold a readable code (at least {MIN_ALONG} pixels along the band and {MIN_ACROSS} across)")]
    TooSmall { width: u32, height: u32 },
    #[error("cell {cell} is not clearly black or white: levels {min_level:.3}..{max_level:.3}, colour spread up to {max_spread:.3}")]
    Unclear {
        cell: usize,
        min_level: f64,
        max_level: f64,
        max_spread: f64,
    },
    #[error("rotation {rotation} is not 0, 90, 180 or 270 degrees")]
    Rotation { rotation: u16 },
    #[error("marker cell {cell} reads {found}, the wrong way round")]
    Marker { cell: usize, found: bool },
    #[error("index {index} read with check bits {found}, but its bits give {expected}")]
    Check { index: u32, expected: u8, found: u8 },
}

/// The index coded in `picture`, a frame shown after `orientation` was
/// applied to the stored picture (mirrored left-right if `mirror`, then
/// rotated clockwise), at any scale.
pub fn read_frame_code(
    picture: &Picture<'_>,
    orientation: Orientation,
) -> Result<u32, FrameCodeError> {
    check_buffer(picture)?;
    if !matches!(orientation.rotation, 0 | 90 | 180 | 270) {
        return Err(FrameCodeError::Rotation {
            rotation: orientation.rotation,
        });
    }
    let (along, across) = if orientation.swaps_axes() {
        (picture.height, picture.width)
    } else {
        (picture.width, picture.height)
    };
    if along < MIN_ALONG || across < MIN_ACROSS {
        return Err(FrameCodeError::TooSmall {
            width: picture.width,
            height: picture.height,
        });
    }
    let mut cells = [false; CELLS];
    for (cell, value) in cells.iter_mut().enumerate() {
        *value = read_cell(picture, orientation, cell)?;
    }
    decode(cells)
}

/// The index coded in the upright `w`×`h` region at (`x`, `y`) of an RGBA8
/// picture whose rows are `stride` bytes apart.
pub fn read_rgba8_region(
    pixels: &[u8],
    stride: usize,
    (x, y, w, h): (u32, u32, u32, u32),
) -> Result<u32, FrameCodeError> {
    let offset = y as usize * stride + x as usize * 4;
    read_frame_code(
        &Picture {
            pixels: pixels.get(offset..).unwrap_or_default(),
            width: w,
            height: h,
            stride,
            layout: PixelLayout::Rgba8,
        },
        Orientation::IDENTITY,
    )
}

/// The cells that code `index`, or `None` when it does not fit.
pub fn encode(index: u32) -> Option<[bool; CELLS]> {
    if index > MAX_INDEX {
        return None;
    }
    let mut cells = [false; CELLS];
    cells[0] = true;
    for (bit, cell) in cells[1..=DATA_BITS].iter_mut().enumerate() {
        *cell = (index >> bit) & 1 == 1;
    }
    let check = check_bits(index);
    cells[DATA_BITS + 1] = check & 1 == 1;
    cells[DATA_BITS + 2] = check & 2 == 2;
    Some(cells)
}

fn check_bits(index: u32) -> u8 {
    // At most 12 ones, so the count fits a u8 before taking it mod 4.
    (index.count_ones() % 4) as u8
}

fn decode(cells: [bool; CELLS]) -> Result<u32, FrameCodeError> {
    for (cell, expected) in [(0, true), (CELLS - 1, false)] {
        if cells[cell] != expected {
            return Err(FrameCodeError::Marker {
                cell,
                found: cells[cell],
            });
        }
    }
    let index = cells[1..=DATA_BITS]
        .iter()
        .enumerate()
        .fold(0u32, |acc, (bit, &on)| acc | u32::from(on) << bit);
    let found = u8::from(cells[DATA_BITS + 1]) | u8::from(cells[DATA_BITS + 2]) << 1;
    let expected = check_bits(index);
    if found != expected {
        return Err(FrameCodeError::Check {
            index,
            expected,
            found,
        });
    }
    Ok(index)
}

fn check_buffer(picture: &Picture<'_>) -> Result<(), FrameCodeError> {
    let bytes_per_pixel = picture.layout.bytes_per_pixel();
    let row = (picture.width as usize).checked_mul(bytes_per_pixel);
    let needed = row.and_then(|row| {
        if picture.stride < row || picture.width == 0 || picture.height == 0 {
            return None;
        }
        picture
            .stride
            .checked_mul(picture.height as usize - 1)?
            .checked_add(row)
    });
    match needed {
        Some(needed) if needed <= picture.pixels.len() => Ok(()),
        _ => Err(FrameCodeError::Buffer {
            width: picture.width,
            height: picture.height,
            stride: picture.stride,
            bytes_per_pixel,
            needed: needed.unwrap_or(usize::MAX),
            len: picture.pixels.len(),
        }),
    }
}

/// Where a point of the stored picture lands in the shown one, both in
/// coordinates normalised to 0..=1 (x right, y down). The rotation is one
/// of the four right angles, checked by the caller.
fn to_shown(orientation: Orientation, (u, v): (f64, f64)) -> (f64, f64) {
    let u = if orientation.mirror { 1.0 - u } else { u };
    match orientation.rotation {
        90 => (1.0 - v, u),
        180 => (1.0 - u, 1.0 - v),
        270 => (v, 1.0 - u),
        _ => (u, v),
    }
}

/// Pixels (by index) whose centres fall in `from..=to` of a `size`-pixel
/// axis, given in pixel units; when none does, the one pixel holding the
/// middle of the span, so a cell narrower than a pixel is still sampled.
fn pixels_in(from: f64, to: f64, size: u32) -> std::ops::RangeInclusive<u32> {
    let first = (from - 0.5).ceil().max(0.0);
    let last = (to - 0.5).floor().min(f64::from(size) - 1.0);
    if first <= last {
        // Both are whole numbers inside 0..size.
        first as u32..=last as u32
    } else {
        let middle = ((from + to) / 2.0)
            .floor()
            .clamp(0.0, f64::from(size) - 1.0) as u32;
        middle..=middle
    }
}

fn read_cell(
    picture: &Picture<'_>,
    orientation: Orientation,
    cell: usize,
) -> Result<bool, FrameCodeError> {
    let cells = CELLS as f64;
    let u = (
        (cell as f64 + INNER_ALONG.0) / cells,
        (cell as f64 + INNER_ALONG.1) / cells,
    );
    let v = (
        INNER_ACROSS.0 * BAND_FRACTION,
        INNER_ACROSS.1 * BAND_FRACTION,
    );
    let a = to_shown(orientation, (u.0, v.0));
    let b = to_shown(orientation, (u.1, v.1));
    let (w, h) = (f64::from(picture.width), f64::from(picture.height));
    let columns = pixels_in(a.0.min(b.0) * w, a.0.max(b.0) * w, picture.width);
    let rows = pixels_in(a.1.min(b.1) * h, a.1.max(b.1) * h, picture.height);
    let bytes_per_pixel = picture.layout.bytes_per_pixel();
    let (mut min_level, mut max_level, mut max_spread) = (f64::MAX, f64::MIN, 0.0f64);
    for y in rows {
        for x in columns.clone() {
            let at = y as usize * picture.stride + x as usize * bytes_per_pixel;
            let [r, g, b] = picture
                .layout
                .rgb(&picture.pixels[at..at + bytes_per_pixel]);
            let level = (r + g + b) / 3.0;
            min_level = min_level.min(level);
            max_level = max_level.max(level);
            max_spread = max_spread.max(r.max(g).max(b) - r.min(g).min(b));
        }
    }
    let grey = max_spread <= GREY_SPREAD_MAX;
    if grey && max_level <= BLACK_MAX {
        Ok(false)
    } else if grey && min_level >= WHITE_MIN {
        Ok(true)
    } else {
        Err(FrameCodeError::Unclear {
            cell,
            min_level,
            max_level,
            max_spread,
        })
    }
}
