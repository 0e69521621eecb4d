//! Reading a generated Arbin-layout CSV of at least 200 MB into a `BatteryLog` (streamed, never held whole).
//!
//! Run with: `cargo bench --bench io` (or `benches/compare_io.sh` for the pandas / polars ratios).
//! The file is generated once (seeded, deterministic) at `$BATTSENTINEL_IO_BENCH_FILE`, default
//! `target/bench-data/arbin_io_bench.csv`; it is not committed.
// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use battsentinel_core::io::{read_path, ReadOptions};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::Rng;
use rand::SeedableRng;
use std::io::Write;
use std::path::PathBuf;

/// Size of the generated file.
const TARGET_BYTES: u64 = 210 * 1024 * 1024;

fn bench_file() -> PathBuf {
    std::env::var_os("BATTSENTINEL_IO_BENCH_FILE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/arbin_io_bench.csv")
    })
}

/// Writes an Arbin-layout CSV (same 15 columns as `cyclers/arbin_example.csv`) of about `bytes` bytes:
/// 1 C charge / discharge cycles of a 1.1 Ah LFP cell sampled every 5 s, with seeded noise.
fn generate(path: &PathBuf, bytes: u64) -> std::io::Result<()> {
    if std::fs::metadata(path).map(|m| m.len() >= bytes).unwrap_or(false) {
        return Ok(());
    }
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let tmp = path.with_extension("partial");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2024);
    writeln!(w, "Data_Point,Test_Time,DateTime,Step_Time,Step_Index,Cycle_Index,Current,Voltage,Charge_Capacity,Discharge_Capacity,Charge_Energy,Discharge_Energy,dV/dt,Internal_Resistance,Temperature\r")?;
    let (mut written, mut i, mut t) = (0u64, 0u64, 0.0f64);
    let (mut qc, mut qd, mut ec, mut ed) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let mut line = String::with_capacity(256);
    while written < bytes {
        let cycle = 1 + (i / 1440);
        let phase = i % 1440;
        let charging = phase < 720;
        let step = if charging { 2 } else { 4 };
        let step_t = (phase % 720) as f64 * 5.0;
        let x = (phase % 720) as f64 / 720.0;
        let noise: f64 = rng.gen_range(-1e-4..1e-4);
        let (cur, v) = if charging {
            (1.1 + noise, 3.2 + 0.35 * x + noise)
        } else {
            (-1.1 + noise, 3.35 - 0.4 * x + noise)
        };
        if charging {
            qc += 1.1 * 5.0 / 3600.0;
            ec += 1.1 * v * 5.0 / 3600.0;
        } else {
            qd += 1.1 * 5.0 / 3600.0;
            ed += 1.1 * v * 5.0 / 3600.0;
        }
        let temp = 29.0 + 2.0 * x + rng.gen_range(-0.05..0.05);
        line.clear();
        use std::fmt::Write as _;
        let _ = write!(
            line,
            "{},{:.4},{},{:.4},{},{},{:.7},{:.7},{:.8},{:.8},{:.7},{:.7},{:.6e},{:.9},{:.6}\r\n",
            i + 1,
            t,
            1_499_006_353 + t as u64,
            step_t,
            step,
            cycle,
            cur,
            v,
            qc,
            qd,
            ec,
            ed,
            noise * 10.0,
            0.0171 + noise,
            temp
        );
        w.write_all(line.as_bytes())?;
        written += line.len() as u64;
        i += 1;
        t += 5.0 + rng.gen_range(0.0..0.01);
    }
    w.flush()?;
    drop(w);
    std::fs::rename(tmp, path)
}

fn read_large(c: &mut Criterion) {
    let path = bench_file();
    generate(&path, TARGET_BYTES).expect("generate the benchmark file");
    let len = std::fs::metadata(&path).expect("bench file").len();
    let mut g = c.benchmark_group("io_read");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(len));
    g.bench_with_input(BenchmarkId::from_parameter(format!("arbin_{}MB", len / 1_000_000)), &path, |b, p| {
        b.iter(|| {
            let log = read_path(p, &ReadOptions::default()).expect("read");
            assert!(log.len() > 1_000_000);
            log
        })
    });
    g.finish();
}

fn read_small_ci(c: &mut Criterion) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/io/arbin_example.csv");
    let bytes = std::fs::read(&path).expect("example file");
    let mut g = c.benchmark_group("io_read_ci");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_with_input(BenchmarkId::from_parameter("arbin_example"), &bytes, |b, data| {
        b.iter(|| battsentinel_core::io::read_bytes(data, &ReadOptions::default()).expect("read"))
    });
    g.finish();
}

criterion_group!(benches, read_small_ci, read_large);
criterion_main!(benches);
