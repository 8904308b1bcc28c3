//! Geometry a track carries: display matrix, orientation, pixel aspect ratio
//! and clean aperture. Plain values, so the render maths can use them without
//! touching FFmpeg.

use serde::Serialize;

use crate::ratio::Ratio;

/// How the stored picture must be turned to be shown upright: a rotation
/// clockwise, applied after an optional horizontal mirror of the stored
/// picture. These eight cases are every matrix a container can express with
/// axis-aligned pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Orientation {
    /// Clockwise rotation in degrees: 0, 90, 180 or 270.
    pub rotation: u16,
    /// Mirror left-right before rotating.
    pub mirror: bool,
}

impl Orientation {
    pub const IDENTITY: Orientation = Orientation {
        rotation: 0,
        mirror: false,
    };

    /// Whether width and height trade places when shown.
    pub fn swaps_axes(self) -> bool {
        self.rotation % 180 == 90
    }
}

/// The track's display matrix as stored (`tkhd` in MP4/MOV, FFmpeg's
/// `AV_PKT_DATA_DISPLAYMATRIX`): a 3×3 row-major matrix where `a b c d` are
/// 16.16 fixed point and `u v w` are 2.30, mapping a stored point `(x, y)` to
/// `(a·x + c·y + tx, b·x + d·y + ty)`, the same convention as FFmpeg's
/// `display.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DisplayMatrix(pub [i32; 9]);

impl DisplayMatrix {
    pub const IDENTITY: DisplayMatrix =
        DisplayMatrix([0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000]);

    /// The orientation the matrix expresses, or `None` when it is not one of
    /// the eight axis-aligned rotations and mirrors (a zero matrix, a shear,
    /// a non-right angle): such a matrix cannot be honoured and is reported,
    /// not guessed.
    pub fn orientation(&self) -> Option<Orientation> {
        let [a, b, _, c, d, _, _, _, _] = self.0;
        let sign = |v: i32| -> Option<i32> {
            match v {
                0 => Some(0),
                v if v > 0 => Some(1),
                _ => Some(-1),
            }
        };
        let (a, b, c, d) = (sign(a)?, sign(b)?, sign(c)?, sign(d)?);
        // The stored matrix maps (x, y) → (a·x + c·y, b·x + d·y) in y-down
        // picture coordinates, so (0, 1, -1, 0) turns the x axis downwards:
        // a quarter turn clockwise, what an upright phone records. A mirrored
        // case is the rotation times the flip (-1, 0, 0, 1).
        let found = match (a, b, c, d) {
            (1, 0, 0, 1) => (0, false),
            (0, 1, -1, 0) => (90, false),
            (-1, 0, 0, -1) => (180, false),
            (0, -1, 1, 0) => (270, false),
            (-1, 0, 0, 1) => (0, true),
            (0, -1, -1, 0) => (90, true),
            (1, 0, 0, -1) => (180, true),
            (0, 1, 1, 0) => (270, true),
            _ => return None,
        };
        Some(Orientation {
            rotation: found.0,
            mirror: found.1,
        })
    }
}

/// The clean aperture of an MP4/MOV `clap` box: the region of the stored
/// picture meant to be shown, centred on the picture's centre plus an offset,
/// all in stored pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CleanAperture {
    pub width: Ratio,
    pub height: Ratio,
    pub horizontal_offset: Ratio,
    pub vertical_offset: Ratio,
}
