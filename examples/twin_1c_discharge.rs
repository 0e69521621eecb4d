//! Run with: cargo run --release --example twin_1c_discharge
//!
//! A 1C discharge of PyBaMM's `ECM_Example` cell (100 Ah) from SoC 0.9999 to 3.2 V, compared with the PyBaMM
//! reference trace `shared/data/twin/pybamm_thevenin_1C.csv` when it is present, then written as CSV.

use battsentinel_core::twin::{simulate, CellParams, Protocol};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cell = CellParams::ecm_example().check()?;
    let protocol = Protocol::constant_current(0.9999, 100.0, 7200.0);
    let t0 = std::time::Instant::now();
    let trace = simulate(&cell, &protocol)?;
    let elapsed = t0.elapsed();
    let n = trace.len();
    println!(
        "simulated {:.2} s in {:.1} µs ({} rows): V {:.4} → {:.4} V, T_cell max {:.3} °C, end: {:?}",
        trace.time_s[n - 1],
        elapsed.as_secs_f64() * 1e6,
        n,
        trace.voltage_v[0],
        trace.voltage_v[n - 1],
        trace.t_cell_c.iter().cloned().fold(f64::MIN, f64::max),
        trace.end_reason
    );
    // Compare with PyBaMM when the shared data is next to the repository.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let reference = [root.join("../shared"), root.join("../../shared")]
        .into_iter()
        .map(|d| d.join("data/twin/pybamm_thevenin_1C.csv"))
        .find(|p| p.exists());
    if let Some(path) = reference {
        let text = std::fs::read_to_string(path)?;
        let mut max_dv: f64 = 0.0;
        for (k, line) in text.lines().skip(1).enumerate() {
            let cols: Vec<f64> = line.split(',').filter_map(|c| c.parse().ok()).collect();
            if k + 1 < n && cols.len() > 2 && cols[0] == trace.time_s[k] {
                max_dv = max_dv.max((cols[2] - trace.voltage_v[k]).abs());
            }
        }
        println!("max |V − V_PyBaMM| = {:.2} µV", max_dv * 1e6);
    }
    let out = std::env::temp_dir().join("twin_1c_discharge.csv");
    trace.write_csv(std::io::BufWriter::new(std::fs::File::create(&out)?))?;
    println!("trace written to {}", out.display());
    Ok(())
}
