//! The layouts of FFmpeg's side-data blobs: the structs FFmpeg hands over
//! as raw bytes (stream and frame side data), read field by field. Some are
//! not in ffmpeg-sys-next's bindings, so their C layout is written out here,
//! in the FFmpeg layer, beside the rest of what stills knows of FFmpeg's
//! structs.

use crate::asset::color::{Chromaticity, ContentLightLevel, DolbyVisionConfig, MasteringDisplay};
use crate::asset::geometry::DisplayMatrix;

fn ne_i32(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Decodes `AV_PKT_DATA_DISPLAYMATRIX`: nine native-endian `int32_t`.
pub(crate) fn parse_display_matrix(b: &[u8]) -> Option<DisplayMatrix> {
    if b.len() < 36 {
        return None;
    }
    let mut m = [0i32; 9];
    for (i, v) in m.iter_mut().enumerate() {
        *v = i32::from_ne_bytes(b[i * 4..i * 4 + 4].try_into().ok()?);
    }
    Some(DisplayMatrix(m))
}

fn rational_at(b: &[u8], at: usize) -> Option<f64> {
    let (num, den) = (ne_i32(b, at)?, ne_i32(b, at + 4)?);
    (den != 0).then(|| num as f64 / den as f64)
}

/// Decodes `AVMasteringDisplayMetadata` (libavutil/mastering_display_metadata.h):
/// `AVRational display_primaries[3][2], white_point[2], min_luminance,
/// max_luminance; int has_primaries, has_luminance;` — 88 bytes. The struct
/// is not in ffmpeg-sys-next's bindings, so its layout is read here.
pub(crate) fn parse_mastering_display(b: &[u8]) -> Option<MasteringDisplay> {
    if b.len() < 88 {
        return None;
    }
    let has_primaries = ne_i32(b, 80)? != 0;
    let has_luminance = ne_i32(b, 84)? != 0;
    let xy = |at: usize| -> Option<Chromaticity> {
        Some(Chromaticity {
            x: rational_at(b, at)?,
            y: rational_at(b, at + 8)?,
        })
    };
    let primaries = if has_primaries {
        Some([xy(0)?, xy(16)?, xy(32)?])
    } else {
        None
    };
    let white_point = if has_primaries { xy(48) } else { None };
    let (min_luminance, max_luminance) = if has_luminance {
        (rational_at(b, 64), rational_at(b, 72))
    } else {
        (None, None)
    };
    Some(MasteringDisplay {
        primaries,
        white_point,
        min_luminance,
        max_luminance,
    })
}

/// Decodes `AVContentLightMetadata`: `unsigned MaxCLL, MaxFALL`.
pub(crate) fn parse_content_light(b: &[u8]) -> Option<ContentLightLevel> {
    Some(ContentLightLevel {
        max_cll: ne_i32(b, 0)? as u32,
        max_fall: ne_i32(b, 4)? as u32,
    })
}

/// Decodes `AVDOVIDecoderConfigurationRecord`: eight `uint8_t` fields.
pub(crate) fn parse_dovi(b: &[u8]) -> Option<DolbyVisionConfig> {
    let b = b.get(..8)?;
    Some(DolbyVisionConfig {
        version_major: b[0],
        version_minor: b[1],
        profile: b[2],
        level: b[3],
        rpu_present: b[4] != 0,
        el_present: b[5] != 0,
        bl_present: b[6] != 0,
        bl_signal_compatibility_id: b[7],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::geometry::Orientation;

    fn rationals(v: &[(i32, i32)]) -> Vec<u8> {
        v.iter()
            .flat_map(|(n, d)| n.to_ne_bytes().into_iter().chain(d.to_ne_bytes()))
            .collect()
    }

    #[test]
    fn mastering_display_layout() {
        let mut b = rationals(&[
            (34000, 50000),
            (16000, 50000),
            (13250, 50000),
            (34500, 50000),
            (7500, 50000),
            (3000, 50000),
            (15635, 50000),
            (16450, 50000),
            (50, 10000),
            (1000, 1),
        ]);
        b.extend(1i32.to_ne_bytes());
        b.extend(1i32.to_ne_bytes());
        let md = parse_mastering_display(&b).unwrap();
        assert_eq!(md.max_luminance, Some(1000.0));
        assert_eq!(md.min_luminance, Some(0.005));
        let p = md.primaries.unwrap();
        assert_eq!((p[0].x, p[0].y), (0.68, 0.32));
        assert_eq!(md.white_point.unwrap().x, 0.3127);
    }

    #[test]
    fn mastering_display_flags_hide_absent_parts() {
        let mut b = rationals(&[(0, 1); 10]);
        b.extend(0i32.to_ne_bytes());
        b.extend(1i32.to_ne_bytes());
        let md = parse_mastering_display(&b).unwrap();
        assert_eq!(md.primaries, None);
        assert_eq!(md.max_luminance, Some(0.0));
        assert_eq!(parse_mastering_display(&b[..40]), None);
    }

    #[test]
    fn light_level_and_dovi() {
        let mut b = 1100u32.to_ne_bytes().to_vec();
        b.extend(180u32.to_ne_bytes());
        assert_eq!(
            parse_content_light(&b),
            Some(ContentLightLevel {
                max_cll: 1100,
                max_fall: 180
            })
        );
        let dv = parse_dovi(&[1, 0, 8, 4, 1, 0, 1, 4]).unwrap();
        assert_eq!(
            (dv.profile, dv.level, dv.bl_signal_compatibility_id),
            (8, 4, 4)
        );
        assert!(dv.rpu_present && dv.bl_present && !dv.el_present);
        assert_eq!(parse_dovi(&[1, 0]), None);
    }

    #[test]
    fn display_matrix_orientations() {
        let m = |a: i32, b: i32, c: i32, d: i32| {
            let v = [a, b, 0, c, d, 0, 0, 0, 1 << 30];
            let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_ne_bytes()).collect();
            parse_display_matrix(&bytes).unwrap().orientation()
        };
        let one = 0x10000;
        let o = |rotation, mirror| Some(Orientation { rotation, mirror });
        assert_eq!(m(one, 0, 0, one), o(0, false));
        assert_eq!(m(0, one, -one, 0), o(90, false));
        assert_eq!(m(-one, 0, 0, -one), o(180, false));
        assert_eq!(m(0, -one, one, 0), o(270, false));
        assert_eq!(m(-one, 0, 0, one), o(0, true));
        assert_eq!(m(0, one, one, 0), o(270, true));
        assert_eq!(m(0, 0, 0, 0), None);
        assert_eq!(m(one, one, 0, one), None);
    }
}
