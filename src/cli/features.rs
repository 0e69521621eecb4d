//! `battsentinel features …`: per-cycle table (`cycles`) and incremental capacity (`ica`) of a file.

use std::path::PathBuf;

use anyhow::Context as _;
use battsentinel_core::features::{
    cycle_summary, incremental_capacity, CycleFeatureParams, DcirParams, Direction, IcaParams,
};
use battsentinel_core::io::{read_path, ReadOptions};

/// Per-cycle health features of a cycler file.
#[derive(clap::Args)]
pub struct FeaturesArgs {
    #[command(subcommand)]
    command: FeaturesCommand,
}

#[derive(clap::Subcommand)]
enum FeaturesCommand {
    /// Per-cycle capacity, energy, efficiencies, V/T statistics, duration, DCIR and SOH.
    Cycles {
        /// Cycler export (any format `inspect` reads).
        file: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Reference capacity for SOH (Ah); default: the first full cycle's discharge capacity.
        #[arg(long)]
        nominal_ah: Option<f64>,
        /// DCIR read-out time after the current step (s).
        #[arg(long, default_value_t = 10.0)]
        dcir_delay_s: f64,
        /// Minimum |ΔI| of a current step used for DCIR (A).
        #[arg(long, default_value_t = 0.2)]
        dcir_min_step_a: f64,
    },
    /// Incremental capacity dQ/dV of one cycle's charge or discharge, with its peaks.
    Ica {
        /// Cycler export.
        file: PathBuf,
        /// Cycle number.
        #[arg(long)]
        cycle: u32,
        /// Use the charge segment instead of the discharge.
        #[arg(long)]
        charge: bool,
        /// Voltage grid step (V).
        #[arg(long, default_value_t = 0.002)]
        step_v: f64,
        /// Savitzky–Golay window (odd number of grid points).
        #[arg(long, default_value_t = 15)]
        window: usize,
        /// Print the whole curve as JSON instead of the peak table.
        #[arg(long)]
        json: bool,
    },
}

fn fmt(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "-".to_string()
    }
}

/// Runs `battsentinel features …`.
///
/// # Errors
/// Unreadable file, invalid parameters, or a cycle that is not in the file.
pub fn run(args: FeaturesArgs) -> anyhow::Result<()> {
    match args.command {
        FeaturesCommand::Cycles { file, json, nominal_ah, dcir_delay_s, dcir_min_step_a } => {
            let log = read_path(&file, &ReadOptions::default())
                .with_context(|| format!("reading {}", file.display()))?;
            let mut params = CycleFeatureParams::default()
                .dcir(DcirParams::default().delay_s(dcir_delay_s).min_delta_current_a(dcir_min_step_a));
            if let Some(q) = nominal_ah {
                params = params.nominal_capacity_ah(q);
            }
            let s = cycle_summary(&log, &params)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
                return Ok(());
            }
            println!(
                "{:>6} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {:>9} {:>9} {:>6}",
                "cycle",
                "Qchg_Ah",
                "Qdis_Ah",
                "Echg_Wh",
                "Edis_Wh",
                "CE",
                "EE",
                "Vmin",
                "Vmax",
                "Vmean",
                "Tmax",
                "Tmean",
                "dur_s",
                "DCIR_mΩ",
                "SOH"
            );
            for r in &s.cycles {
                println!(
                    "{:>6} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {:>9} {:>9} {:>6}",
                    r.cycle,
                    fmt(r.charge_capacity_ah, 4),
                    fmt(r.discharge_capacity_ah, 4),
                    fmt(r.charge_energy_wh, 3),
                    fmt(r.discharge_energy_wh, 3),
                    fmt(r.coulombic_efficiency, 4),
                    fmt(r.energy_efficiency, 4),
                    fmt(r.voltage_min_v, 3),
                    fmt(r.voltage_max_v, 3),
                    fmt(r.voltage_mean_v, 3),
                    fmt(r.temperature_max_c, 1),
                    fmt(r.temperature_mean_c, 1),
                    fmt(r.duration_s, 0),
                    fmt(r.dcir_ohm * 1000.0, 2),
                    fmt(r.soh, 3),
                );
            }
            for (k, v) in &s.meta.info {
                println!("# {k}: {v}");
            }
            for w in &s.meta.warnings {
                println!("# warning: {w}");
            }
            Ok(())
        }
        FeaturesCommand::Ica { file, cycle, charge, step_v, window, json } => {
            let log = read_path(&file, &ReadOptions::default())
                .with_context(|| format!("reading {}", file.display()))?;
            let dir = if charge { Direction::Charge } else { Direction::Discharge };
            let params = IcaParams::default().voltage_step_v(step_v).sg_window(window);
            let ic = incremental_capacity(&log, Some(cycle), dir, &params)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&ic)?);
                return Ok(());
            }
            println!(
                "cycle {cycle} {dir:?}: {} grid points {:.3}–{:.3} V, {} peaks",
                ic.voltage_v.len(),
                ic.voltage_v.first().copied().unwrap_or(f64::NAN),
                ic.voltage_v.last().copied().unwrap_or(f64::NAN),
                ic.peaks.len()
            );
            println!("{:>9} {:>14} {:>16}", "V", "dQdV_Ah_per_V", "prominence");
            for p in &ic.peaks {
                println!("{:>9.4} {:>14.4} {:>16.4}", p.voltage_v, p.height_ah_per_v, p.prominence_ah_per_v);
            }
            Ok(())
        }
    }
}
