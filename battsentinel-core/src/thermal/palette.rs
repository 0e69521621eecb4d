//! Colour palettes: temperature → colour for rendering, and colour → temperature for non-radiometric images.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// A thermal colour palette. Each is a 256-entry table built from linear ramps between control colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Palette {
    /// "Iron" / "ironbow": black → indigo → magenta → red → orange → yellow → white.
    Iron,
    /// Rainbow: dark blue → blue → cyan → green → yellow → red.
    Rainbow,
    /// Grey: black → white.
    Grey,
}

impl Palette {
    /// All palettes, in the order tried by automatic detection.
    pub const ALL: [Palette; 3] = [Palette::Iron, Palette::Rainbow, Palette::Grey];

    fn stops(self) -> &'static [(f64, [u8; 3])] {
        match self {
            Palette::Iron => &[
                (0.0, [0, 0, 0]),
                (0.15, [32, 0, 140]),
                (0.35, [150, 0, 155]),
                (0.55, [225, 45, 40]),
                (0.75, [255, 145, 0]),
                (0.9, [255, 225, 40]),
                (1.0, [255, 255, 255]),
            ],
            Palette::Rainbow => &[
                (0.0, [0, 0, 128]),
                (0.15, [0, 0, 255]),
                (0.35, [0, 255, 255]),
                (0.55, [0, 255, 0]),
                (0.75, [255, 255, 0]),
                (1.0, [255, 0, 0]),
            ],
            Palette::Grey => &[(0.0, [0, 0, 0]), (1.0, [255, 255, 255])],
        }
    }

    /// The 256-entry colour table (index 0 = coldest).
    pub fn table(self) -> [[u8; 3]; 256] {
        let stops = self.stops();
        let mut t = [[0u8; 3]; 256];
        for (i, entry) in t.iter_mut().enumerate() {
            let x = i as f64 / 255.0;
            let k = stops.windows(2).position(|w| x <= w[1].0).unwrap_or(stops.len() - 2);
            let (x0, c0) = stops[k];
            let (x1, c1) = stops[k + 1];
            let f = ((x - x0) / (x1 - x0)).clamp(0.0, 1.0);
            for ch in 0..3 {
                entry[ch] = (f64::from(c0[ch]) + f * (f64::from(c1[ch]) - f64::from(c0[ch]))).round() as u8;
            }
        }
        t
    }
}

/// Maps colours back to palette positions, memoising each distinct colour.
pub(crate) struct InverseLut {
    table: [[u8; 3]; 256],
    memo: HashMap<[u8; 3], (u8, f64)>,
}

impl InverseLut {
    pub(crate) fn new(palette: Palette) -> Self {
        InverseLut { table: palette.table(), memo: HashMap::new() }
    }

    /// Nearest palette index and its Euclidean RGB distance.
    pub(crate) fn lookup(&mut self, rgb: [u8; 3]) -> (u8, f64) {
        let table = &self.table;
        *self.memo.entry(rgb).or_insert_with(|| {
            let mut best = (0u8, i32::MAX);
            for (i, c) in table.iter().enumerate() {
                let d: i32 = (0..3).map(|k| (i32::from(c[k]) - i32::from(rgb[k])).pow(2)).sum();
                if d < best.1 {
                    best = (i as u8, d);
                }
            }
            (best.0, f64::from(best.1).sqrt())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_span_their_ends() {
        assert_eq!(Palette::Grey.table()[0], [0, 0, 0]);
        assert_eq!(Palette::Grey.table()[255], [255, 255, 255]);
        assert_eq!(Palette::Grey.table()[128], [128, 128, 128]);
        assert_eq!(Palette::Iron.table()[255], [255, 255, 255]);
        assert_eq!(Palette::Rainbow.table()[255], [255, 0, 0]);
    }

    #[test]
    fn inverse_recovers_every_index_of_every_palette() {
        for p in Palette::ALL {
            let mut inv = InverseLut::new(p);
            let t = p.table();
            for (i, c) in t.iter().enumerate() {
                let (j, d) = inv.lookup(*c);
                // Neighbouring entries may share a colour after rounding; the match is exact in colour.
                assert_eq!(d, 0.0, "{p:?} {i}");
                assert!((i as i32 - j as i32).abs() <= 1, "{p:?} {i} -> {j}");
            }
        }
    }
}
