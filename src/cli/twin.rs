//! `battsentinel twin …`: run the equivalent-circuit digital twin.

use std::path::PathBuf;

use anyhow::Context;
use battsentinel_core::twin::{simulate, CellParams, Protocol};

/// Equivalent-circuit (Thevenin) digital twin.
#[derive(clap::Args)]
pub struct TwinArgs {
    #[command(subcommand)]
    command: TwinCommand,
}

#[derive(clap::Subcommand)]
enum TwinCommand {
    /// Simulate a protocol (TOML or JSON) and write the trace as CSV (PyBaMM trace columns).
    Simulate {
        /// Protocol file (`.toml` or `.json`).
        protocol: PathBuf,
        /// Cell parameters (`.toml` or `.json`); default PyBaMM's ECM_Example.
        #[arg(long)]
        params: Option<PathBuf>,
        /// Output CSV; default standard output.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Write the built-in ECM_Example cell parameters (TOML) as a starting point.
    Params {
        /// Output file; default standard output.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
}

fn load<T: serde::de::DeserializeOwned>(path: &PathBuf) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    } else {
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

/// Runs the `twin` subcommand.
pub fn run(args: TwinArgs) -> anyhow::Result<()> {
    match args.command {
        TwinCommand::Simulate { protocol, params, output } => {
            let protocol: Protocol = load(&protocol)?;
            let cell = match params {
                Some(p) => load::<CellParams>(&p)?,
                None => CellParams::ecm_example(),
            };
            let cell = cell.check()?;
            let t0 = std::time::Instant::now();
            let trace = simulate(&cell, &protocol)?;
            let elapsed = t0.elapsed();
            match output {
                Some(path) => {
                    let f = std::fs::File::create(&path)
                        .with_context(|| format!("creating {}", path.display()))?;
                    trace.write_csv(std::io::BufWriter::new(f))?;
                }
                None => trace.write_csv(std::io::stdout().lock())?,
            }
            eprintln!(
                "{} rows, {:.1} s simulated in {:.3} ms, ended by {:?}; V {:.4} → {:.4} V, SoC {:.4} → {:.4}",
                trace.len(),
                trace.time_s.last().copied().unwrap_or(0.0),
                elapsed.as_secs_f64() * 1e3,
                trace.end_reason,
                trace.voltage_v.first().copied().unwrap_or(f64::NAN),
                trace.voltage_v.last().copied().unwrap_or(f64::NAN),
                trace.soc.first().copied().unwrap_or(f64::NAN),
                trace.soc.last().copied().unwrap_or(f64::NAN),
            );
            Ok(())
        }
        TwinCommand::Params { output } => {
            let text = toml::to_string(&CellParams::ecm_example())?;
            match output {
                Some(path) => {
                    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?
                }
                None => print!("{text}"),
            }
            Ok(())
        }
    }
}

/// Top-level twin commands: identification, state estimation, ageing.
#[derive(clap::Subcommand)]
pub enum TwinTopCommand {
    /// Identify a Thevenin cell (OCV, R0, 1–2 RC pairs over SoC) from an HPPC test; writes the cell TOML.
    FitEcm {
        /// HPPC log (any format `inspect` reads), current positive = discharge after import.
        file: PathBuf,
        /// Output cell parameters (`.toml` or `.json`); default standard output.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        /// Number of RC pairs (1 or 2).
        #[arg(long, default_value_t = 2)]
        rc_pairs: usize,
        /// Cell capacity (Ah); default: the charge moved between the fullest and emptiest points.
        #[arg(long)]
        capacity_ah: Option<f64>,
        /// Also write the fit report (per-level parameters, RMSE) as JSON here.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Estimate SoC along a log with an extended Kalman filter; writes CSV
    /// `time_s,voltage_v,current_a,soc,soc_std,innovation_v`.
    EstimateSoc {
        /// Log with voltage and current (temperature optional, 25 °C if absent).
        file: PathBuf,
        /// Cell parameters (`.toml` or `.json`), e.g. from `fit-ecm`.
        #[arg(long)]
        params: PathBuf,
        /// Initial SoC guess (the filter starts with ±0.3 uncertainty).
        #[arg(long, default_value_t = 0.5)]
        soc0: f64,
        /// Output CSV; default standard output.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Fit R0–(R1‖C1)–((R2–Wo)‖C2) to an impedance spectrum; prints the fit as JSON.
    FitEis {
        /// Spectrum (`freq,Z_real,Z_imag` CSV, EC-Lab `.mpt`, …).
        file: PathBuf,
        /// Fit without the Warburg element.
        #[arg(long)]
        no_warburg: bool,
    },
    /// Fit the ageing model to a per-cycle summary and project SOH to end of life; prints JSON.
    Ageing {
        /// Per-cycle summary (capacity per cycle).
        file: PathBuf,
        /// Equivalent full cycles per day of the projected duty.
        #[arg(long, default_value_t = 1.0)]
        cycles_per_day: f64,
        /// Depth of discharge of the projected duty.
        #[arg(long, default_value_t = 1.0)]
        dod: f64,
        /// C-rate of the projected duty.
        #[arg(long, default_value_t = 1.0)]
        c_rate: f64,
        /// Temperature of the projected duty (°C).
        #[arg(long, default_value_t = 25.0)]
        temperature_c: f64,
        /// End-of-life SOH.
        #[arg(long, default_value_t = 0.8)]
        eol_soh: f64,
        /// Projection horizon (days).
        #[arg(long, default_value_t = 36_500.0)]
        horizon_days: f64,
    },
}

fn write_out(output: Option<&PathBuf>, text: &str) -> anyhow::Result<()> {
    match output {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Runs a top-level twin command.
pub fn run_top(cmd: TwinTopCommand) -> anyhow::Result<()> {
    use battsentinel_core::io::{read_eis_path, read_path, read_summary_path, ReadOptions};
    use battsentinel_core::twin::{
        fit_ageing, fit_eis, fit_hppc, AgeingParams, DutyCycle, EisCircuit, EisFitParams, Ekf, EkfParams,
        HppcFitParams,
    };
    let opts = ReadOptions::default();
    match cmd {
        TwinTopCommand::FitEcm { file, output, rc_pairs, capacity_ah, report } => {
            let log = read_path(&file, &opts).with_context(|| format!("reading {}", file.display()))?;
            let fit = fit_hppc(&log, &HppcFitParams { rc_pairs, capacity_ah, ..HppcFitParams::default() })?;
            let text = if output.as_ref().is_some_and(|p| p.extension().is_some_and(|e| e == "json")) {
                serde_json::to_string_pretty(&fit.params)?
            } else {
                toml::to_string(&fit.params)?
            };
            write_out(output.as_ref(), &text)?;
            if let Some(path) = report {
                std::fs::write(&path, serde_json::to_string_pretty(&fit)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            for p in &fit.points {
                eprintln!(
                    "SoC {:.3}: OCV {:.4} V, R0 {:.3} mΩ, R1 {:.3} mΩ, C1 {:.0} F{}",
                    p.soc,
                    p.ocv_v,
                    p.r0_ohm * 1e3,
                    p.r1_ohm * 1e3,
                    p.c1_farad,
                    match (p.r2_ohm, p.c2_farad) {
                        (Some(r), Some(c)) => format!(", R2 {:.3} mΩ, C2 {c:.0} F", r * 1e3),
                        _ => String::new(),
                    }
                );
            }
            eprintln!(
                "capacity {:.3} Ah, tau {:?} s, whole-test RMSE {:.2} mV over {} samples (max {:.1} mV)",
                fit.capacity_ah,
                fit.tau_s.iter().map(|t| (t * 10.0).round() / 10.0).collect::<Vec<_>>(),
                fit.rmse_v * 1e3,
                fit.samples,
                fit.max_error_v * 1e3
            );
            Ok(())
        }
        TwinTopCommand::EstimateSoc { file, params, soc0, output } => {
            let log = read_path(&file, &opts).with_context(|| format!("reading {}", file.display()))?;
            let cell = load::<CellParams>(&params)?.check()?;
            let v = log.voltage_v.as_deref().context("the log has no voltage")?;
            let i = log.current_a.as_deref().context("the log has no current")?;
            let temp = log.temperature_c();
            let mut ekf = Ekf::new(cell, EkfParams::default(), soc0)?;
            let mut out = String::from("time_s,voltage_v,current_a,soc,soc_std,innovation_v\n");
            let (mut rows, mut last) = (0usize, None);
            for k in 1..log.len() {
                let dt = log.time_s[k] - log.time_s[k - 1];
                let t_c = temp.map_or(25.0, |t| if t[k].is_finite() { t[k] } else { 25.0 });
                if !(dt > 0.0 && v[k].is_finite() && i[k].is_finite()) {
                    continue;
                }
                let e = ekf.update(v[k], i[k], t_c, dt)?;
                out.push_str(&format!(
                    "{},{},{},{:.6},{:.6},{:.6}\n",
                    log.time_s[k], v[k], i[k], e.soc, e.soc_std, e.innovation_v
                ));
                rows += 1;
                last = Some(e);
            }
            write_out(output.as_ref(), &out)?;
            if let Some(e) = last {
                eprintln!("{rows} samples; final SoC {:.4} ± {:.4}", e.soc, e.soc_std);
            }
            Ok(())
        }
        TwinTopCommand::FitEis { file, no_warburg } => {
            let s = read_eis_path(&file, &opts).with_context(|| format!("reading {}", file.display()))?;
            let mut fp = EisFitParams::default();
            if no_warburg {
                fp.initial = EisCircuit { warburg: None, ..fp.initial };
            }
            let fit = fit_eis(&s, &fp)?;
            println!("{}", serde_json::to_string_pretty(&fit)?);
            Ok(())
        }
        TwinTopCommand::Ageing {
            file,
            cycles_per_day,
            dod,
            c_rate,
            temperature_c,
            eol_soh,
            horizon_days,
        } => {
            let s = read_summary_path(&file, &opts).with_context(|| format!("reading {}", file.display()))?;
            let fit = fit_ageing(&s, &AgeingParams::default())?;
            let duty = DutyCycle { cycles_per_day, dod, c_rate, temperature_c };
            let pr = fit.params.project(&[(1.0, duty)], horizon_days, eol_soh)?;
            let out = serde_json::json!({
                "params": fit.params,
                "rmse_ah": fit.rmse_ah,
                "max_rel_error": fit.max_rel_error,
                "points": fit.data.len(),
                "end_of_life_days": pr.end_of_life_days,
                "end_of_life_cycles": pr.end_of_life_cycles,
                "final_soh": pr.points.last().map(|p| p.soh),
                "final_resistance_factor": pr.points.last().map(|p| p.resistance_factor),
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(())
        }
    }
}
