//! Plots as self-contained SVG strings (no external crates), in the style shap and lime users know:
//! waterfall, force, bar (global importance), beeswarm summary, and LIME's weight bar chart.
//! Output is deterministic (fixed number formatting, stable ordering), so it can be snapshot-tested.

use std::fmt::Write as _;

use super::{ExplainError, Explanation, ExplanationSet, LimeExplanation};

const RED: &str = "#ff0051";
const BLUE: &str = "#008bfb";
const FONT: &str = "font-family=\"Helvetica, Arial, sans-serif\"";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn header(w: f64, h: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    )
}

/// Short number formatting as shap prints it on plots.
fn num(v: f64) -> String {
    if v == 0.0 {
        "0".to_string()
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else if v.abs() >= 0.01 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    }
}

fn check_output(d: usize, output: usize) -> Result<(), ExplainError> {
    if output >= d {
        Err(ExplainError::OutputOutOfRange { output, n_outputs: d })
    } else {
        Ok(())
    }
}

/// Tick label with as many decimals as the tick step needs.
fn tick_label(t: f64, ticks: &[f64]) -> String {
    let step = if ticks.len() > 1 { (ticks[1] - ticks[0]).abs() } else { 1.0 };
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{t:.decimals$}")
}

/// Axis ticks: about five "nice" values spanning `[lo, hi]`.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).abs().max(1e-12);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + 1e-9 * step {
        out.push(if t.abs() < 1e-12 * step { 0.0 } else { t });
        t += step;
    }
    out
}

/// Feature label with its value, as shap's waterfall prints it (`"1.23 = name"`).
fn feature_label(e: &Explanation, j: usize) -> String {
    match e.instance.get(j) {
        Some(v) if e.feature_names.len() == e.instance.len() => {
            format!("{} = {}", num(*v), e.feature_names[j])
        }
        _ => e.feature_names[j].clone(),
    }
}

/// Waterfall plot of one explanation and output: from E[f(X)] at the bottom to f(x) at the top, the
/// `max_display − 1` largest contributions as red (positive) / blue (negative) arrows, the rest summed.
///
/// # Errors
/// [`ExplainError::OutputOutOfRange`].
pub fn waterfall_svg(e: &Explanation, output: usize, max_display: usize) -> Result<String, ExplainError> {
    check_output(e.n_outputs(), output)?;
    let vals = e.output_values(output);
    let mut order: Vec<usize> = (0..vals.len()).collect();
    order.sort_by(|&a, &b| vals[b].abs().total_cmp(&vals[a].abs()).then(a.cmp(&b)));
    let max_display = max_display.max(2);
    let mut rows: Vec<(String, f64)> = Vec::new();
    if order.len() > max_display {
        let rest: f64 = order[max_display - 1..].iter().map(|&j| vals[j]).sum();
        for &j in &order[..max_display - 1] {
            rows.push((feature_label(e, j), vals[j]));
        }
        rows.push((format!("{} other features", order.len() - max_display + 1), rest));
    } else {
        for &j in &order {
            rows.push((feature_label(e, j), vals[j]));
        }
    }
    let base = e.base_values[output];
    let fx = e.model_output[output];
    // Bars are drawn bottom-up: the last row starts at the base value.
    let mut starts = vec![0.0; rows.len()];
    let mut acc = base;
    for i in (0..rows.len()).rev() {
        starts[i] = acc;
        acc += rows[i].1;
    }
    let (mut lo, mut hi) = (base.min(fx), base.max(fx));
    for (i, (_, v)) in rows.iter().enumerate() {
        lo = lo.min(starts[i]).min(starts[i] + v);
        hi = hi.max(starts[i]).max(starts[i] + v);
    }
    let pad = (hi - lo).max(1e-12) * 0.08;
    let (lo, hi) = (lo - pad, hi + pad);
    let (left, width, row_h, top) = (260.0, 420.0, 28.0, 40.0);
    let h = top + rows.len() as f64 * row_h + 60.0;
    let sx = |v: f64| left + (v - lo) / (hi - lo) * width;
    let mut s = header(left + width + 40.0, h);
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"20\" {FONT} font-size=\"12\" text-anchor=\"middle\">f(x) = {}</text>",
        sx(fx),
        num(fx)
    );
    let _ = writeln!(s, "<line x1=\"{0:.1}\" y1=\"26\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"#bbb\" stroke-dasharray=\"3,3\"/>", sx(fx), top + rows.len() as f64 * row_h);
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let (a, b) = (starts[i], starts[i] + v);
        let (x0, x1) = (sx(a.min(b)), sx(a.max(b)));
        let colour = if *v >= 0.0 { RED } else { BLUE };
        let tip = 6.0f64.min((x1 - x0).max(0.0));
        let points = if *v >= 0.0 {
            format!(
                "{x0:.1},{:.1} {:.1},{:.1} {x1:.1},{:.1} {:.1},{:.1} {x0:.1},{:.1}",
                y + 4.0,
                x1 - tip,
                y + 4.0,
                y + 14.0,
                x1 - tip,
                y + 24.0,
                y + 24.0
            )
        } else {
            format!(
                "{x1:.1},{:.1} {:.1},{:.1} {x0:.1},{:.1} {:.1},{:.1} {x1:.1},{:.1}",
                y + 4.0,
                x0 + tip,
                y + 4.0,
                y + 14.0,
                x0 + tip,
                y + 24.0,
                y + 24.0
            )
        };
        let _ = writeln!(s, "<polygon points=\"{points}\" fill=\"{colour}\"/>");
        let _ = writeln!(s, "<text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"12\" text-anchor=\"end\" fill=\"#333\">{}</text>", left - 8.0, y + 18.0, esc(label));
        let sign = if *v >= 0.0 { "+" } else { "" };
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"11\" fill=\"{colour}\">{sign}{}</text>",
            x1 + 4.0,
            y + 18.0,
            num(*v)
        );
    }
    let axis_y = top + rows.len() as f64 * row_h + 4.0;
    let _ = writeln!(
        s,
        "<line x1=\"{left:.1}\" y1=\"{axis_y:.1}\" x2=\"{:.1}\" y2=\"{axis_y:.1}\" stroke=\"#333\"/>",
        left + width
    );
    let tk = ticks(lo, hi);
    for &t in &tk {
        let _ = writeln!(s, "<text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"10\" text-anchor=\"middle\" fill=\"#333\">{}</text>", sx(t), axis_y + 14.0, tick_label(t, &tk));
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"12\" text-anchor=\"middle\">E[f(X)] = {}</text>",
        sx(base),
        axis_y + 32.0,
        num(base)
    );
    s.push_str("</svg>\n");
    Ok(s)
}

/// Force plot (shap's additive force layout, static): red segments push the output up from the base value,
/// blue segments push it down, meeting at f(x).
///
/// # Errors
/// [`ExplainError::OutputOutOfRange`].
pub fn force_svg(e: &Explanation, output: usize) -> Result<String, ExplainError> {
    check_output(e.n_outputs(), output)?;
    let vals = e.output_values(output);
    let base = e.base_values[output];
    let fx = e.model_output[output];
    let pos: f64 = vals.iter().filter(|v| **v > 0.0).sum();
    let neg: f64 = vals.iter().filter(|v| **v < 0.0).sum();
    let (lo, hi) = (base.min(base + neg).min(fx), base.max(base + pos).max(fx));
    let pad = (hi - lo).max(1e-12) * 0.12;
    let (lo, hi) = (lo - pad, hi + pad);
    let (left, width) = (20.0, 760.0);
    let sx = |v: f64| left + (v - lo) / (hi - lo) * width;
    let mut s = header(800.0, 150.0);
    let _ = writeln!(s, "<text x=\"{:.1}\" y=\"22\" {FONT} font-size=\"13\" font-weight=\"bold\" text-anchor=\"middle\">f(x) = {}</text>", sx(fx), num(fx));
    let _ = writeln!(s, "<text x=\"{:.1}\" y=\"38\" {FONT} font-size=\"11\" text-anchor=\"middle\" fill=\"#666\">base value = {}</text>", sx(base), num(base));
    // Positive contributions stacked leftwards from f(x), negative rightwards from f(x).
    let mut order: Vec<usize> = (0..vals.len()).filter(|&j| vals[j] != 0.0).collect();
    order.sort_by(|&a, &b| vals[b].abs().total_cmp(&vals[a].abs()).then(a.cmp(&b)));
    let mut right_edge = fx;
    let mut left_edge = fx;
    for &j in &order {
        let v = vals[j];
        let (a, b, colour) = if v > 0.0 {
            let a = right_edge - v;
            let r = (a, right_edge, RED);
            right_edge = a;
            r
        } else {
            let b = left_edge - v;
            let r = (left_edge, b, BLUE);
            left_edge = b;
            r
        };
        let (x0, x1) = (sx(a), sx(b));
        let _ = writeln!(s, "<rect x=\"{x0:.1}\" y=\"50\" width=\"{:.1}\" height=\"24\" fill=\"{colour}\" stroke=\"white\" stroke-width=\"1\"/>", (x1 - x0).max(0.0));
        if x1 - x0 > 40.0 {
            let _ = writeln!(s, "<text x=\"{:.1}\" y=\"92\" {FONT} font-size=\"10\" text-anchor=\"middle\" fill=\"{colour}\">{}</text>", (x0 + x1) / 2.0, esc(&feature_label(e, j)));
        }
    }
    let _ = writeln!(
        s,
        "<line x1=\"{0:.1}\" y1=\"44\" x2=\"{0:.1}\" y2=\"80\" stroke=\"#333\" stroke-width=\"2\"/>",
        sx(fx)
    );
    let _ = writeln!(
        s,
        "<line x1=\"{left:.1}\" y1=\"110\" x2=\"{:.1}\" y2=\"110\" stroke=\"#333\"/>",
        left + width
    );
    let tk = ticks(lo, hi);
    for &t in &tk {
        let _ = writeln!(s, "<text x=\"{:.1}\" y=\"126\" {FONT} font-size=\"10\" text-anchor=\"middle\" fill=\"#333\">{}</text>", sx(t), tick_label(t, &tk));
    }
    let _ = writeln!(s, "<text x=\"20\" y=\"145\" {FONT} font-size=\"10\" fill=\"{RED}\">higher</text><text x=\"780\" y=\"145\" {FONT} font-size=\"10\" text-anchor=\"end\" fill=\"{BLUE}\">lower</text>");
    s.push_str("</svg>\n");
    Ok(s)
}

/// Horizontal bar chart of named values sorted by magnitude (used for global importance).
fn bars(title: &str, items: &[(String, f64)], signed: bool) -> String {
    let (left, width, row_h, top) = (260.0, 380.0, 26.0, 40.0);
    let h = top + items.len() as f64 * row_h + 40.0;
    let maxabs = items.iter().map(|(_, v)| v.abs()).fold(0.0, f64::max).max(1e-300);
    let (lo, hi) = if signed { (-1.2 * maxabs, 1.2 * maxabs) } else { (0.0, 1.15 * maxabs) };
    let sx = |v: f64| left + (v - lo) / (hi - lo) * width;
    let mut s = header(left + width + 80.0, h);
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"22\" {FONT} font-size=\"13\" text-anchor=\"middle\">{}</text>",
        left + width / 2.0,
        esc(title)
    );
    let zero = sx(0.0);
    for (i, (name, v)) in items.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let (x0, x1) = if *v >= 0.0 { (zero, sx(*v)) } else { (sx(*v), zero) };
        let colour = if signed && *v < 0.0 { BLUE } else { RED };
        let colour = if signed && *v >= 0.0 {
            "#ff7f0e"
        } else if signed {
            "#1f77b4"
        } else {
            colour
        };
        let _ = writeln!(
            s,
            "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"18\" fill=\"{colour}\"/>",
            y + 3.0,
            (x1 - x0).max(0.0)
        );
        let _ = writeln!(s, "<text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"12\" text-anchor=\"end\" fill=\"#333\">{}</text>", left - 8.0, y + 16.0, esc(name));
        let tx = if *v >= 0.0 { x1 + 4.0 } else { x0 - 4.0 };
        let anchor = if *v >= 0.0 { "start" } else { "end" };
        let _ = writeln!(s, "<text x=\"{tx:.1}\" y=\"{:.1}\" {FONT} font-size=\"11\" text-anchor=\"{anchor}\" fill=\"{colour}\">{}</text>", y + 16.0, num(*v));
    }
    let _ = writeln!(
        s,
        "<line x1=\"{zero:.1}\" y1=\"{top:.1}\" x2=\"{zero:.1}\" y2=\"{:.1}\" stroke=\"#333\"/>",
        top + items.len() as f64 * row_h
    );
    s.push_str("</svg>\n");
    s
}

/// shap's bar plot: mean |φ| per feature over the set, largest first.
///
/// # Errors
/// [`ExplainError::OutputOutOfRange`].
pub fn bar_svg(set: &ExplanationSet, output: usize) -> Result<String, ExplainError> {
    let imp = set.mean_abs(output)?;
    let mut items: Vec<(String, f64)> = set.feature_names.iter().cloned().zip(imp).collect();
    items.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(bars("mean(|SHAP value|)", &items, false))
}

/// LIME's weight chart (`as_pyplot_figure`): one bar per selected feature condition, green positive
/// and red negative in lime; here orange/blue as lime's HTML view.
pub fn lime_bar_svg(e: &LimeExplanation) -> String {
    let items = e.as_list();
    let title = match e.models.first() {
        Some(m) => format!("Local explanation (label {})", m.label),
        None => "Local explanation".to_string(),
    };
    bars(&title, &items, true)
}

/// shap's beeswarm summary: one row per feature (by mean |φ|), one dot per instance at its φ, coloured
/// from blue (low feature value) to red (high), stacked vertically where dots crowd.
///
/// # Errors
/// [`ExplainError::OutputOutOfRange`].
pub fn beeswarm_svg(set: &ExplanationSet, output: usize, max_display: usize) -> Result<String, ExplainError> {
    let imp = set.mean_abs(output)?;
    let mut order: Vec<usize> = (0..imp.len()).collect();
    order.sort_by(|&a, &b| imp[b].total_cmp(&imp[a]).then(a.cmp(&b)));
    order.truncate(max_display.max(1));
    let n = set.len();
    let (left, width, row_h, top) = (220.0, 440.0, 36.0, 30.0);
    let h = top + order.len() as f64 * row_h + 50.0;
    let mut lo = 0.0f64;
    let mut hi = 0.0f64;
    for &j in &order {
        for i in 0..n {
            let v = set.values[[i, j, output]];
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    let pad = (hi - lo).max(1e-12) * 0.05;
    let (lo, hi) = (lo - pad, hi + pad);
    let sx = |v: f64| left + (v - lo) / (hi - lo) * width;
    let mut s = header(left + width + 60.0, h);
    let _ = writeln!(
        s,
        "<line x1=\"{0:.1}\" y1=\"{top:.1}\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"#999\"/>",
        sx(0.0),
        top + order.len() as f64 * row_h
    );
    for (r, &j) in order.iter().enumerate() {
        let yc = top + r as f64 * row_h + row_h / 2.0;
        let _ = writeln!(s, "<text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"12\" text-anchor=\"end\" fill=\"#333\">{}</text>", left - 8.0, yc + 4.0, esc(&set.feature_names[j]));
        // Colour by the feature value's rank among the instances (when the player is a single column).
        let fv: Vec<f64> = if set.instances.ncols() == set.feature_names.len() {
            set.instances.column(j).to_vec()
        } else {
            vec![0.0; n]
        };
        let (fmin, fmax) =
            fv.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&a, &b| {
            set.values[[a, j, output]].total_cmp(&set.values[[b, j, output]]).then(a.cmp(&b))
        });
        let mut last_x = f64::NEG_INFINITY;
        let mut stack = 0i32;
        for &i in &idx {
            let x = sx(set.values[[i, j, output]]);
            if x - last_x < 3.0 {
                stack += 1;
            } else {
                stack = 0;
                last_x = x;
            }
            let off = if stack % 2 == 0 { 1.0 } else { -1.0 } * ((stack + 1) / 2) as f64 * 2.5;
            let off = off.clamp(-row_h / 2.0 + 3.0, row_h / 2.0 - 3.0);
            let t = if fmax > fmin { (fv[i] - fmin) / (fmax - fmin) } else { 0.5 };
            let (rr, gg, bb) = (lerp(0x00, 0xff, t), lerp(0x8b, 0x00, t), lerp(0xfb, 0x51, t));
            let _ = writeln!(
                s,
                "<circle cx=\"{x:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#{rr:02x}{gg:02x}{bb:02x}\"/>",
                yc + off
            );
        }
    }
    let axis_y = top + order.len() as f64 * row_h + 4.0;
    let _ = writeln!(
        s,
        "<line x1=\"{left:.1}\" y1=\"{axis_y:.1}\" x2=\"{:.1}\" y2=\"{axis_y:.1}\" stroke=\"#333\"/>",
        left + width
    );
    let tk = ticks(lo, hi);
    for &t in &tk {
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"10\" text-anchor=\"middle\">{}</text>",
            sx(t),
            axis_y + 14.0,
            tick_label(t, &tk)
        );
    }
    let _ = writeln!(s, "<text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"12\" text-anchor=\"middle\">SHAP value (impact on model output)</text>", left + width / 2.0, axis_y + 32.0);
    let _ = writeln!(s, "<text x=\"{:.1}\" y=\"{top:.1}\" {FONT} font-size=\"10\" fill=\"{RED}\">High</text><text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"10\" fill=\"{BLUE}\">Low</text>", left + width + 10.0, left + width + 10.0, axis_y - 4.0);
    s.push_str("</svg>\n");
    Ok(s)
}

fn lerp(a: u8, b: u8, t: f64) -> u8 {
    (f64::from(a) + (f64::from(b) - f64::from(a)) * t.clamp(0.0, 1.0)).round() as u8
}
