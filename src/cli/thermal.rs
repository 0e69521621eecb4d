//! `battsentinel thermal IMAGE [--grid 4x6] [--min C --max C] [-o out.png] [--json]`: decode a thermal image,
//! analyse it and optionally write an annotated PNG.

use std::path::PathBuf;

use anyhow::{bail, Context};
use battsentinel_core::thermal::{
    analyze, read_thermal_path, render_png, ColourScale, HotspotRule, IntegerScale, Palette,
    ReadThermalOptions, RenderOptions, ThermalAnalysisParams,
};

/// Arguments of `battsentinel thermal`.
#[derive(clap::Args, Debug)]
pub struct ThermalArgs {
    /// Thermal image: radiometric FLIR JPEG, FFF, or PNG/JPEG/TIFF with a scale.
    pub image: PathBuf,
    /// Cell grid of a pack image, ROWSxCOLS (e.g. 4x6).
    #[arg(long)]
    pub grid: Option<String>,
    /// Temperature of the coldest palette colour (°C), for non-radiometric images; also the render range.
    #[arg(long, allow_hyphen_values = true)]
    pub min: Option<f64>,
    /// Temperature of the hottest palette colour (°C), for non-radiometric images; also the render range.
    #[arg(long, allow_hyphen_values = true)]
    pub max: Option<f64>,
    /// Palette of a non-radiometric image (iron, rainbow, grey); detected when omitted.
    #[arg(long)]
    pub palette: Option<String>,
    /// 16-bit temperature images: °C per count (e.g. 0.01 for centi-kelvin, with --offset -273.15).
    #[arg(long, allow_hyphen_values = true)]
    pub gain: Option<f64>,
    /// 16-bit temperature images: °C at count 0.
    #[arg(long, allow_hyphen_values = true, default_value_t = -273.15)]
    pub offset: f64,
    /// Hotspot threshold (°C); default: median + 5 K.
    #[arg(long, allow_hyphen_values = true)]
    pub threshold: Option<f64>,
    /// Emissivity override for radiometric images.
    #[arg(long)]
    pub emissivity: Option<f64>,
    /// Write an annotated PNG here.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// Print the full report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_palette(name: &str) -> anyhow::Result<Palette> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "iron" | "ironbow" => Palette::Iron,
        "rainbow" => Palette::Rainbow,
        "grey" | "gray" => Palette::Grey,
        other => bail!("unknown palette `{other}` (iron, rainbow, grey)"),
    })
}

fn parse_grid(text: &str) -> anyhow::Result<(usize, usize)> {
    let (r, c) = text.split_once(['x', 'X']).with_context(|| format!("grid `{text}` is not ROWSxCOLS"))?;
    Ok((r.trim().parse()?, c.trim().parse()?))
}

/// Runs `battsentinel thermal`.
///
/// # Errors
/// Invalid arguments, unreadable or undecodable images, and analysis or rendering failures.
pub fn run(args: ThermalArgs) -> anyhow::Result<()> {
    let mut options = ReadThermalOptions::default();
    options.scene.emissivity = args.emissivity;
    if let Some(gain) = args.gain {
        options.integer_scale = Some(IntegerScale { gain, offset_c: args.offset });
    }
    if let (Some(min_c), Some(max_c)) = (args.min, args.max) {
        let mut scale = ColourScale::new(min_c, max_c);
        scale.palette = args.palette.as_deref().map(parse_palette).transpose()?;
        options.colour_scale = Some(scale);
    } else if args.min.is_some() || args.max.is_some() {
        bail!("--min and --max go together");
    }
    let img = read_thermal_path(&args.image, &options)
        .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))
        .with_context(|| format!("reading {}", args.image.display()))?;
    let mut params = ThermalAnalysisParams::new();
    if let Some(grid) = &args.grid {
        let (rows, cols) = parse_grid(grid)?;
        params = params.grid(rows, cols);
    }
    if let Some(threshold_c) = args.threshold {
        params = params.hotspot(HotspotRule::Absolute { threshold_c });
    }
    let report = analyze(&img, &params).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    if let Some(out) = &args.output {
        let render = RenderOptions { min_c: args.min, max_c: args.max, ..RenderOptions::default() };
        let png = render_png(&img, &report, &render).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
        std::fs::write(out, png).with_context(|| format!("writing {}", out.display()))?;
    }
    if args.json {
        let json = serde_json::json!({ "flir": img.flir, "source": img.source, "report": report });
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    let s = &report.stats;
    if let Some(m) = &img.flir {
        println!(
            "{} {}x{} raw {}–{} (ε {:.2}, {:.1} m, reflected {:.1} °C)",
            m.camera_model,
            img.width,
            img.height,
            m.raw_min,
            m.raw_max,
            m.radiometric.emissivity,
            m.radiometric.object_distance_m,
            m.radiometric.reflected_temp_c
        );
    } else {
        println!("{}x{}{}", img.width, img.height, if report.approximate { " (approximate)" } else { "" });
    }
    println!(
        "T min {:.2} °C  max {:.2} °C at (row {}, col {})  mean {:.2} °C  median {:.2} °C",
        s.min_c, s.max_c, s.max_at.row, s.max_at.col, s.mean_c, s.median_c
    );
    println!(
        "hotspots ≥ {:.2} °C: {} (background {:.2} °C, max ΔT {:.2} K); max gradient {:.2} K/px",
        report.hotspot_threshold_c,
        report.hotspots.len(),
        report.background_c,
        report.max_delta_t_c,
        report.gradient.max_c_per_px
    );
    for h in report.hotspots.iter().take(5) {
        println!(
            "  #{} peak {:.2} °C at (row {}, col {}), area {} px, mean {:.2} °C",
            h.id + 1,
            h.peak_c,
            h.peak_at.row,
            h.peak_at.col,
            h.area_px,
            h.mean_c
        );
    }
    if let Some(cells) = &report.cells {
        println!(
            "cells: {} (median of means {:.2} °C, spread {:.2} K), outliers: {:?}",
            cells.cells.len(),
            cells.median_of_means_c,
            cells.spread_c,
            cells.outliers.iter().map(|&i| cells.cells[i].label.as_str()).collect::<Vec<_>>()
        );
    }
    println!("risk: {}", report.risk.level.code());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_and_palette_parse() {
        assert_eq!(parse_grid("4x6").unwrap(), (4, 6));
        assert!(parse_grid("4-6").is_err());
        assert_eq!(parse_palette("Iron").unwrap(), Palette::Iron);
        assert!(parse_palette("viridis").is_err());
    }
}
