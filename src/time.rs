// temporary until the real Time lands
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Time { pub value: i64, pub timescale: i32 }
impl Time {
    pub fn new(value: i64, timescale: i32) -> Time { Time { value, timescale } }
    pub fn from_stream_ticks(ticks: i64, tb: crate::ratio::Ratio) -> Time { Time { value: ticks * tb.num, timescale: tb.den as i32 } }
    pub fn seconds(&self) -> f64 { self.value as f64 / self.timescale as f64 }
}
impl std::fmt::Display for Time { fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { write!(f, "{}s", self.seconds()) } }
impl Time { pub const ZERO: Time = Time { value: 0, timescale: 1 }; }
