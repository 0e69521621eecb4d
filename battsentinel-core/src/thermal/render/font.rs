//! A 5×7 bitmap font for the scale bar and labels: digits, sign, decimal point, degree sign, `C`, `K`, `#`.

/// Glyph rows, top to bottom; bit 4 is the leftmost column.
fn glyph(ch: char) -> [u8; 7] {
    match ch {
        '0' => [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
        '1' => [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        '2' => [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
        '3' => [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110],
        '4' => [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
        '5' => [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
        '6' => [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
        '7' => [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
        '8' => [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
        '9' => [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
        '-' => [0, 0, 0, 0b11111, 0, 0, 0],
        '.' => [0, 0, 0, 0, 0, 0b01100, 0b01100],
        '°' => [0b01100, 0b10010, 0b10010, 0b01100, 0, 0, 0],
        'C' => [0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110],
        'K' => [0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001],
        '#' => [0b01010, 0b01010, 0b11111, 0b01010, 0b11111, 0b01010, 0b01010],
        _ => [0; 7],
    }
}

/// Advance per character (pixels at scale 1): 5 columns plus 1 of spacing.
pub(crate) const ADVANCE: usize = 6;
/// Glyph height (pixels at scale 1).
pub(crate) const HEIGHT: usize = 7;

/// Width of `text` at `scale` (pixels).
pub(crate) fn text_width(text: &str, scale: usize) -> usize {
    text.chars().count() * ADVANCE * scale
}

/// Calls `plot(x, y)` for every lit pixel of `text` drawn at (`x0`, `y0`) with integer `scale`.
pub(crate) fn draw_text(text: &str, x0: usize, y0: usize, scale: usize, mut plot: impl FnMut(usize, usize)) {
    for (k, ch) in text.chars().enumerate() {
        let rows = glyph(ch);
        for (gy, bits) in rows.iter().enumerate() {
            for gx in 0..5 {
                if bits & (0b10000 >> gx) != 0 {
                    for dy in 0..scale {
                        for dx in 0..scale {
                            plot(x0 + (k * ADVANCE + gx) * scale + dx, y0 + gy * scale + dy);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_drawn_where_expected() {
        let mut lit = Vec::new();
        draw_text("1", 10, 20, 1, |x, y| lit.push((x, y)));
        assert_eq!(lit.len(), 10);
        assert!(lit.contains(&(12, 20)));
        assert_eq!(text_width("12.5°C", 2), 72);
    }
}
