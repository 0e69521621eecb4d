//! Annotated PNG: colour-mapped temperatures, hotspot outlines with their rank, cell grid with outlier cells,
//! and a scale bar with labelled ticks (drawn with a built-in bitmap font).

mod font;

use serde::{Deserialize, Serialize};

use super::analysis::{find_hotspots, ThermalReport};
use super::palette::Palette;
use super::{ThermalError, ThermalImage};

/// Options of [`render_png`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderOptions {
    /// Colour palette (default iron).
    pub palette: Palette,
    /// Integer magnification; 0 picks one that makes the image at least 480 px wide (at most 8).
    pub scale: usize,
    /// Temperature at the coldest colour (°C); default the image minimum.
    pub min_c: Option<f64>,
    /// Temperature at the hottest colour (°C); default the image maximum.
    pub max_c: Option<f64>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions { palette: Palette::Iron, scale: 0, min_c: None, max_c: None }
    }
}

const BACKGROUND: [u8; 3] = [24, 24, 28];
const MISSING: [u8; 3] = [90, 90, 90];
const TEXT: [u8; 3] = [240, 240, 240];
const HOTSPOT: [u8; 3] = [0, 255, 255];
const CELL: [u8; 3] = [170, 170, 170];
const OUTLIER: [u8; 3] = [60, 255, 60];

struct Canvas {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    fn set(&mut self, x: usize, y: usize, c: [u8; 3]) {
        if x < self.w && y < self.h {
            let i = 3 * (y * self.w + x);
            self.rgb[i..i + 3].copy_from_slice(&c);
        }
    }

    fn rect_outline(&mut self, x0: usize, y0: usize, x1: usize, y1: usize, thick: usize, c: [u8; 3]) {
        for t in 0..thick {
            for x in x0..=x1 {
                self.set(x, y0 + t, c);
                self.set(x, y1.saturating_sub(t), c);
            }
            for y in y0..=y1 {
                self.set(x0 + t, y, c);
                self.set(x1.saturating_sub(t), y, c);
            }
        }
    }

    fn text(&mut self, s: &str, x: usize, y: usize, scale: usize, c: [u8; 3]) {
        let mut lit = Vec::new();
        font::draw_text(s, x, y, scale, |px, py| lit.push((px, py)));
        for (px, py) in lit {
            self.set(px, py, c);
        }
    }

    /// Text on a dark box, for legibility over the image.
    fn label(&mut self, s: &str, x: usize, y: usize, scale: usize, c: [u8; 3]) {
        let (tw, th) = (font::text_width(s, scale), font::HEIGHT * scale);
        for yy in y.saturating_sub(1)..y + th + 1 {
            for xx in x.saturating_sub(1)..x + tw {
                self.set(xx, yy, BACKGROUND);
            }
        }
        self.text(s, x, y, scale, c);
    }
}

fn format_c(t: f64) -> String {
    format!("{t:.1}°C")
}

/// Renders the image with the report's annotations as PNG bytes.
///
/// # Errors
/// [`ThermalError::BadDimensions`] if the report does not belong to the image;
/// [`ThermalError::Params`] for an invalid temperature range; [`ThermalError::Encode`] if PNG encoding fails.
///
/// # Examples
/// ```
/// use battsentinel_core::thermal::{analyze, render_png, RenderOptions, ThermalAnalysisParams, ThermalImage};
/// let t: Vec<f64> = (0..64 * 48).map(|i| 20.0 + (i % 64) as f64 * 0.2).collect();
/// let img = ThermalImage::from_celsius(64, 48, t).unwrap();
/// let report = analyze(&img, &ThermalAnalysisParams::new().grid(2, 2)).unwrap();
/// let png = render_png(&img, &report, &RenderOptions::default()).unwrap();
/// assert!(png.starts_with(b"\x89PNG"));
/// ```
pub fn render_png(
    img: &ThermalImage,
    report: &ThermalReport,
    opts: &RenderOptions,
) -> Result<Vec<u8>, ThermalError> {
    let (w, h) = (img.width, img.height);
    crate::thermal::flir::check_dimensions(w, h)?;
    if (report.width, report.height) != (w, h) || img.temperatures_c.len() != w * h {
        return Err(ThermalError::BadDimensions {
            width: w as u64,
            height: h as u64,
            reason: "report and image sizes differ",
        });
    }
    let lo = opts.min_c.unwrap_or(report.stats.min_c);
    let hi = opts.max_c.unwrap_or(report.stats.max_c);
    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
        return Err(crate::params::ParamError::Inconsistent {
            reason: format!("render range needs finite min_c <= max_c, got {lo} and {hi}"),
        }
        .into());
    }
    let s = if opts.scale == 0 { 480usize.div_ceil(w).clamp(1, 8) } else { opts.scale.min(16) };
    let fs = ((h * s) / 200).clamp(1, 3);
    let pad = 8 * fs;
    let (img_w, img_h) = (w * s, h * s);
    let bar_w = 14 * fs;
    let label_w = font::text_width(&format_c(-99.9), fs).max(font::text_width(&format_c(hi), fs));
    let cw = pad + img_w + pad + bar_w + 4 * fs + label_w + pad;
    let ch = pad + img_h + pad;
    let mut cv = Canvas { w: cw, h: ch, rgb: BACKGROUND.iter().copied().cycle().take(3 * cw * ch).collect() };
    let table = opts.palette.table();
    let span = (hi - lo).max(1e-9);
    let colour = |t: f64| {
        if t.is_finite() {
            table[(((t - lo) / span).clamp(0.0, 1.0) * 255.0).round() as usize]
        } else {
            MISSING
        }
    };
    // Temperatures.
    for r in 0..h {
        for c in 0..w {
            let col = colour(img.temperatures_c[r * w + c]);
            for dy in 0..s {
                let y = pad + r * s + dy;
                let row = 3 * (y * cw + pad + c * s);
                for dx in 0..s {
                    cv.rgb[row + 3 * dx..row + 3 * dx + 3].copy_from_slice(&col);
                }
            }
        }
    }
    // Cells: grid lines, outliers outlined thicker.
    if let Some(cells) = &report.cells {
        for cell in &cells.cells {
            let r = cell.rect;
            if r.row_max >= h || r.col_max >= w || r.row_min > r.row_max || r.col_min > r.col_max {
                continue;
            }
            let (x0, y0) = (pad + r.col_min * s, pad + r.row_min * s);
            let (x1, y1) = (pad + (r.col_max + 1) * s - 1, pad + (r.row_max + 1) * s - 1);
            if cell.outlier {
                cv.rect_outline(x0, y0, x1, y1, 2 * fs, OUTLIER);
            } else {
                cv.rect_outline(x0, y0, x1, y1, 1, CELL);
            }
        }
    }
    // Hotspots: outline the boundary of each reported component.
    if !report.hotspots.is_empty() {
        let map = find_hotspots(
            &img.temperatures_c,
            w,
            h,
            report.hotspot_threshold_c,
            1,
            usize::MAX,
            1,
            true,
            |_| f64::NAN,
        );
        let mut wanted = vec![false; map.hotspot_labels.iter().copied().max().unwrap_or(0) as usize + 1];
        for hs in report.hotspots.iter().filter(|hs| hs.peak_at.row < h && hs.peak_at.col < w) {
            let l = map.labels[hs.peak_at.row * w + hs.peak_at.col] as usize;
            if l < wanted.len() {
                wanted[l] = l != 0;
            }
        }
        let thick = (s / 3).max(1);
        let lab = |r: isize, c: isize| {
            if r < 0 || c < 0 || r >= h as isize || c >= w as isize {
                0
            } else {
                map.labels[r as usize * w + c as usize]
            }
        };
        for r in 0..h {
            for c in 0..w {
                let l = map.labels[r * w + c];
                if l == 0 || !wanted[l as usize] {
                    continue;
                }
                let (ri, ci) = (r as isize, c as isize);
                let (x0, y0) = (pad + c * s, pad + r * s);
                for t in 0..thick.min(s) {
                    for k in 0..s {
                        if lab(ri - 1, ci) != l {
                            cv.set(x0 + k, y0 + t, HOTSPOT);
                        }
                        if lab(ri + 1, ci) != l {
                            cv.set(x0 + k, y0 + s - 1 - t, HOTSPOT);
                        }
                        if lab(ri, ci - 1) != l {
                            cv.set(x0 + t, y0 + k, HOTSPOT);
                        }
                        if lab(ri, ci + 1) != l {
                            cv.set(x0 + s - 1 - t, y0 + k, HOTSPOT);
                        }
                    }
                }
            }
        }
        // Rank labels beside each box, moved down while they would cover an earlier label.
        let mut placed: Vec<(usize, usize, usize, usize)> = Vec::new();
        for hs in report.hotspots.iter().take(9) {
            let text = format!("#{}", hs.id + 1);
            let (tw, th) = (font::text_width(&text, fs), font::HEIGHT * fs + 2);
            let x = (pad + hs.bbox.col_max.min(w - 1) * s + s + fs).min(cw - tw);
            let mut y = pad + hs.bbox.row_min.min(h - 1) * s;
            while placed
                .iter()
                .any(|&(px, py, pw, ph)| x < px + pw && px < x + tw && y < py + ph && py < y + th)
            {
                y += th;
            }
            let y = y.min(ch - th);
            placed.push((x, y, tw, th));
            cv.label(&text, x, y, fs, HOTSPOT);
        }
    }
    // Scale bar, hottest at the top, with five labelled ticks.
    let bx = pad + img_w + pad;
    for y in 0..img_h {
        let f = 1.0 - y as f64 / (img_h - 1).max(1) as f64;
        let col = table[(f * 255.0).round() as usize];
        for x in 0..bar_w {
            cv.set(bx + x, pad + y, col);
        }
    }
    cv.rect_outline(bx, pad, bx + bar_w - 1, pad + img_h - 1, 1, TEXT);
    for k in 0..5 {
        let f = k as f64 / 4.0;
        let y = pad + ((1.0 - f) * (img_h - 1) as f64).round() as usize;
        // Tick: a notch inside the bar's right edge (outside it would read as a minus sign).
        for x in bar_w - 4 * fs..bar_w {
            cv.set(bx + x, y, TEXT);
        }
        let ty = y.saturating_sub(font::HEIGHT * fs / 2).clamp(pad / 2, ch - font::HEIGHT * fs - 1);
        cv.text(&format_c(lo + f * (hi - lo)), bx + bar_w + 4 * fs, ty, fs, TEXT);
    }
    let buf = image::RgbImage::from_raw(cw as u32, ch as u32, cv.rgb).ok_or(ThermalError::BadDimensions {
        width: cw as u64,
        height: ch as u64,
        reason: "canvas size",
    })?;
    // The PNG encoder itself: `DynamicImage::write_to(.., ImageFormat)` dispatches on the format at run time
    // and so links every enabled encoder (TIFF, JPEG) into the WASM module.
    let mut out = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut out),
        buf.as_raw(),
        buf.width(),
        buf.height(),
        image::ExtendedColorType::Rgb8,
    )
    .map_err(|source| ThermalError::Encode { format: "png", source })?;
    Ok(out)
}
