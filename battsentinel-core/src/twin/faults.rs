//! Fault injection on the twin and a seeded generator of labelled [`BatteryLog`]s for the fault models.
//!
//! # Faults ([`Fault`])
//! Each fault acts on the Thevenin cell of [`Simulator`] (current positive on discharge):
//! - **internal short** — a parallel leakage resistance `R_leak`: an extra current `OCV/R_leak` drains the
//!   cell (`dSoC/dt = −(I + OCV/R_leak)/(3600·Q)`) and heats it by `OCV²/R_leak`, also at rest;
//! - **capacity loss** — capacity × `(1 − fraction)`;
//! - **resistance rise** (contact / ohmic) — R0 and every R_j × `factor` (C_j ÷ `factor`, time constants kept);
//! - **cooling failure** — the jig-to-ambient conductance × `factor` (< 1);
//! - **thermal-runaway precursor** — exothermic self-heating `q = k·(T_cell − T_onset)` (W) above
//!   `onset_c`, drawn as a leakage (so side reactions also consume charge); with `k` near or above the
//!   cell's cooling conductance the temperature accelerates. The log ends when the cell reaches
//!   `onset_c + 40 K` (a BMS would trip there);
//! - **over-charge / over-discharge** — a faulty charger or load control that ends the charge (discharge) at
//!   `v_end_v` instead of the cell's cut-off;
//! - **sensor faults** ([`SensorMode`]) on the voltage, current or temperature channel, applied to the
//!   measured log: offset, stuck value, noise, dropout (missing values) and spikes (impossible readings);
//! - **cell imbalance** — in a series pack ([`Pack`]), one cell starts `soc_offset` below the others and has
//!   `capacity_loss` less capacity; the log then carries per-cell voltages.
//!
//! # Cycling schedule ([`CyclingSchedule`])
//! Every simulated log repeats `cycles` times: rest, constant-current discharge to the lower cut-off, rest,
//! constant-current charge to the upper cut-off (a pack stops at the first cell to reach a cut-off, as a BMS
//! does). Measurements are quantised and lightly noisy (1 mV, 0.05 K, 0.2 % of current) like a cycler's.
//!
//! # Labelled logs ([`generate_labelled_logs`])
//! [`FaultGenParams`] draws, for every class of [`FaultKind`], `logs_per_class` scenarios: a cell with a
//! random capacity / resistance spread, ambient temperature and C-rates, and a fault of random severity.
//! The logs carry `capacity_ah`, `v_min_v`, `v_max_v` and `n_series` in `meta.info`, so consumers can
//! normalise them. The same seed gives the same logs on every platform.

use std::collections::BTreeMap;

use rand::Rng as _;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::model::{InitialState, Simulator};
use super::pack::{Pack, PackParams};
use super::params::{CellParams, CellValidParams};
use super::SimError;
use crate::data::{BatteryLog, Channel, StepKind};
use crate::params::{in_range, positive, ParamError, ParamGuard};
use crate::rng;

/// The classes of the fault models: what is wrong with a cell (or its measurement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultKind {
    /// Healthy cell, healthy sensors.
    Normal,
    /// Capacity lower than nominal.
    CapacityFade,
    /// Internal (ohmic) or contact resistance higher than nominal.
    ResistanceRise,
    /// Internal short / excessive self-discharge (parallel leakage).
    InternalShort,
    /// Charged above the upper voltage limit.
    Overcharge,
    /// Discharged below the lower voltage limit.
    Overdischarge,
    /// Overheating from a loss of cooling.
    CoolingFailure,
    /// Self-heating above an onset temperature.
    ThermalRunawayPrecursor,
    /// A voltage, current or temperature sensor reading wrongly.
    SensorFault,
    /// Cells of a series pack out of balance.
    CellImbalance,
}

impl FaultKind {
    /// Every class, in index order.
    pub const ALL: [FaultKind; 10] = [
        FaultKind::Normal,
        FaultKind::CapacityFade,
        FaultKind::ResistanceRise,
        FaultKind::InternalShort,
        FaultKind::Overcharge,
        FaultKind::Overdischarge,
        FaultKind::CoolingFailure,
        FaultKind::ThermalRunawayPrecursor,
        FaultKind::SensorFault,
        FaultKind::CellImbalance,
    ];

    /// Stable snake_case name (as in JSON).
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::twin::FaultKind;
    /// assert_eq!(FaultKind::InternalShort.as_str(), "internal_short");
    /// assert_eq!(FaultKind::from_name("internal_short"), Some(FaultKind::InternalShort));
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Normal => "normal",
            FaultKind::CapacityFade => "capacity_fade",
            FaultKind::ResistanceRise => "resistance_rise",
            FaultKind::InternalShort => "internal_short",
            FaultKind::Overcharge => "overcharge",
            FaultKind::Overdischarge => "overdischarge",
            FaultKind::CoolingFailure => "cooling_failure",
            FaultKind::ThermalRunawayPrecursor => "thermal_runaway_precursor",
            FaultKind::SensorFault => "sensor_fault",
            FaultKind::CellImbalance => "cell_imbalance",
        }
    }

    /// The class of a snake_case name (trimmed, case-insensitive); `None` when unknown.
    pub fn from_name(name: &str) -> Option<FaultKind> {
        let n = name.trim().to_ascii_lowercase();
        FaultKind::ALL.into_iter().find(|k| k.as_str() == n)
    }

    /// Position in [`FaultKind::ALL`].
    pub fn index(self) -> usize {
        FaultKind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }

    /// True for faults of the cell itself (not of its measurement, not normal).
    pub fn is_cell_fault(self) -> bool {
        !matches!(self, FaultKind::Normal | FaultKind::SensorFault)
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A measured channel of a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorChannel {
    /// Terminal voltage.
    Voltage,
    /// Current.
    Current,
    /// The (first) temperature channel.
    Temperature,
}

/// How a faulty sensor misreads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SensorMode {
    /// Adds a constant (V, A or K).
    Offset {
        /// The offset, in the channel's unit.
        offset: f64,
    },
    /// Holds the value read at the start of the stuck span, for `fraction` of each cycle.
    Stuck {
        /// Fraction of each cycle (0–1].
        fraction: f64,
    },
    /// Adds Gaussian noise.
    Noise {
        /// Standard deviation, in the channel's unit.
        sd: f64,
    },
    /// Missing values (NaN) in runs covering `fraction` of the rows; 1.0 = disconnected.
    Dropout {
        /// Fraction of rows lost (0–1].
        fraction: f64,
    },
    /// Isolated impossible readings equal to `value`, at `fraction` of the rows.
    Spikes {
        /// Fraction of rows (0–1].
        fraction: f64,
        /// The reading (for example −1 V).
        value: f64,
    },
}

/// A fault injected into a simulated log.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// No fault.
    None,
    /// Internal short: parallel leakage resistance (Ω).
    InternalShort {
        /// Leakage resistance (Ω), > 0.
        leak_ohm: f64,
    },
    /// Capacity loss.
    CapacityLoss {
        /// Lost fraction of the capacity, in [0, 0.9].
        fraction: f64,
    },
    /// Ohmic / contact resistance rise.
    ResistanceRise {
        /// Multiplier of R0 and R_j, ≥ 1.
        factor: f64,
    },
    /// Loss of cooling.
    CoolingFailure {
        /// Multiplier of the jig–ambient conductance, in (0, 1].
        factor: f64,
    },
    /// Exothermic self-heating above an onset temperature.
    ThermalRunawayPrecursor {
        /// Onset temperature (°C).
        onset_c: f64,
        /// Self-heating per kelvin above the onset (W/K), > 0.
        self_heating_w_per_k: f64,
    },
    /// A charger that ends the charge at `v_end_v` (per cell) instead of the upper cut-off.
    Overcharge {
        /// End-of-charge voltage (V per cell).
        v_end_v: f64,
    },
    /// A load that ends the discharge at `v_end_v` (per cell) instead of the lower cut-off.
    Overdischarge {
        /// End-of-discharge voltage (V per cell).
        v_end_v: f64,
    },
    /// A faulty sensor.
    Sensor {
        /// Which channel.
        channel: SensorChannel,
        /// How it misreads (`{"kind": "noise", "sd": 0.02}`, …).
        mode: SensorMode,
    },
    /// One cell of a series pack out of balance (needs `n_series ≥ 2`).
    CellImbalance {
        /// SoC deficit of the weak cell at the start (fraction), in [0, 0.5].
        soc_offset: f64,
        /// Capacity deficit of the weak cell (fraction), in [0, 0.9].
        capacity_loss: f64,
    },
}

impl Fault {
    /// The class this fault is labelled with.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::twin::{Fault, FaultKind};
    /// assert_eq!(Fault::InternalShort { leak_ohm: 5.0 }.kind(), FaultKind::InternalShort);
    /// ```
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::None => FaultKind::Normal,
            Fault::InternalShort { .. } => FaultKind::InternalShort,
            Fault::CapacityLoss { .. } => FaultKind::CapacityFade,
            Fault::ResistanceRise { .. } => FaultKind::ResistanceRise,
            Fault::CoolingFailure { .. } => FaultKind::CoolingFailure,
            Fault::ThermalRunawayPrecursor { .. } => FaultKind::ThermalRunawayPrecursor,
            Fault::Overcharge { .. } => FaultKind::Overcharge,
            Fault::Overdischarge { .. } => FaultKind::Overdischarge,
            Fault::Sensor { .. } => FaultKind::SensorFault,
            Fault::CellImbalance { .. } => FaultKind::CellImbalance,
        }
    }

    /// Checks the fault's parameters.
    ///
    /// # Errors
    /// [`ParamError`] naming the first bad parameter.
    pub fn check(&self) -> Result<(), ParamError> {
        match *self {
            Fault::None => Ok(()),
            Fault::InternalShort { leak_ohm } => positive("leak_ohm", leak_ohm),
            Fault::CapacityLoss { fraction } => in_range("fraction", fraction, 0.0, 0.9),
            Fault::ResistanceRise { factor } => in_range("factor", factor, 1.0, 1e3),
            Fault::CoolingFailure { factor } => {
                positive("factor", factor)?;
                in_range("factor", factor, 0.0, 1.0)
            }
            Fault::ThermalRunawayPrecursor { onset_c, self_heating_w_per_k } => {
                in_range("onset_c", onset_c, -50.0, 200.0)?;
                positive("self_heating_w_per_k", self_heating_w_per_k)
            }
            Fault::Overcharge { v_end_v } | Fault::Overdischarge { v_end_v } => positive("v_end_v", v_end_v),
            Fault::Sensor { mode, .. } => match mode {
                SensorMode::Offset { offset } => in_range("offset", offset, -1e3, 1e3),
                SensorMode::Stuck { fraction } | SensorMode::Dropout { fraction } => {
                    positive("fraction", fraction)?;
                    in_range("fraction", fraction, 0.0, 1.0)
                }
                SensorMode::Noise { sd } => positive("sd", sd),
                SensorMode::Spikes { fraction, value } => {
                    positive("fraction", fraction)?;
                    in_range("fraction", fraction, 0.0, 1.0)?;
                    in_range("value", value, -1e4, 1e4)
                }
            },
            Fault::CellImbalance { soc_offset, capacity_loss } => {
                in_range("soc_offset", soc_offset, 0.0, 0.5)?;
                in_range("capacity_loss", capacity_loss, 0.0, 0.9)
            }
        }
    }
}

/// The repeated test a simulated log follows (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CyclingSchedule {
    /// Number of discharge/charge cycles (≥ 1).
    pub cycles: usize,
    /// Sample period (s).
    pub dt_s: f64,
    /// Discharge C-rate (1/h), > 0.
    pub discharge_c_rate: f64,
    /// Charge C-rate (1/h), > 0.
    pub charge_c_rate: f64,
    /// Length of each rest (s).
    pub rest_s: f64,
    /// Initial SoC (fraction).
    pub initial_soc: f64,
    /// Cells in series (1 = a single cell; ≥ 2 adds per-cell voltage channels).
    pub n_series: usize,
    /// Ambient (and initial) temperature (°C).
    pub ambient_c: f64,
    /// Capacity multiplier of the cell(s) (manufacturing spread), > 0.
    pub capacity_scale: f64,
    /// Resistance multiplier of the cell(s), > 0.
    pub resistance_scale: f64,
    /// Whether the log keeps its temperature channel.
    pub with_temperature: bool,
    /// Seed of the measurement noise and of random sensor faults.
    pub seed: u64,
}

impl Default for CyclingSchedule {
    /// 2 cycles at 10 s, 0.5C discharge and charge, 30 min rests, from 95 % SoC, one cell at 25 °C.
    fn default() -> Self {
        Self {
            cycles: 2,
            dt_s: 10.0,
            discharge_c_rate: 0.5,
            charge_c_rate: 0.5,
            rest_s: 1800.0,
            initial_soc: 0.95,
            n_series: 1,
            ambient_c: 25.0,
            capacity_scale: 1.0,
            resistance_scale: 1.0,
            with_temperature: true,
            seed: 0,
        }
    }
}

impl CyclingSchedule {
    /// Checks the duty cycle.
    ///
    /// # Errors
    /// [`ParamError`] naming the first bad field.
    pub fn check(&self) -> Result<(), ParamError> {
        if !(1..=1000).contains(&self.cycles) {
            return Err(ParamError::invalid("cycles", self.cycles, "must be in 1..=1000"));
        }
        if !(1..=64).contains(&self.n_series) {
            return Err(ParamError::invalid("n_series", self.n_series, "must be in 1..=64"));
        }
        positive("dt_s", self.dt_s)?;
        in_range("discharge_c_rate", self.discharge_c_rate, 1e-3, 10.0)?;
        in_range("charge_c_rate", self.charge_c_rate, 1e-3, 10.0)?;
        in_range("rest_s", self.rest_s, 0.0, 1e7)?;
        in_range("initial_soc", self.initial_soc, 0.0, 1.0)?;
        in_range("ambient_c", self.ambient_c, -40.0, 80.0)?;
        positive("capacity_scale", self.capacity_scale)?;
        positive("resistance_scale", self.resistance_scale)
    }
}

const NOISE_V: f64 = 0.0005;
const NOISE_T: f64 = 0.05;
const NOISE_I_REL: f64 = 0.002;
const RUNAWAY_STOP_K: f64 = 40.0;

/// Simulates `cell` under `duty` with `fault` injected and returns the measured log.
///
/// The log has time, voltage (pack voltage when `n_series ≥ 2`), current, the hottest cell's temperature
/// (channel `"cell"`, unless `with_temperature` is off), cycle and step indices, step kinds, per-cycle
/// cumulative charge/discharge capacity, per-cell voltages (`"cell_1_v"`, …) for packs, and `meta.info` keys
/// `capacity_ah`, `v_min_v`, `v_max_v` (per cell), `n_series` and `fault`.
///
/// # Errors
/// [`SimError::Params`] for invalid cell parameters, duty cycle or fault (a [`Fault::CellImbalance`] needs
/// `n_series ≥ 2`). A simulation that leaves the model's range (for example an over-discharge beyond the
/// OCV table) ends the log there instead of failing.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::{simulate_fault, CellParams, CyclingSchedule, Fault};
/// let log = simulate_fault(&CellParams::ecm_example(), &Fault::None, &CyclingSchedule::default())?;
/// assert!(log.len() > 1000);
/// assert_eq!(log.meta.info["fault"], "normal");
/// # Ok::<(), battsentinel_core::twin::SimError>(())
/// ```
pub fn simulate_fault(
    cell: &CellParams,
    fault: &Fault,
    duty: &CyclingSchedule,
) -> Result<BatteryLog, SimError> {
    duty.check()?;
    fault.check()?;
    if matches!(fault, Fault::CellImbalance { .. }) && duty.n_series < 2 {
        return Err(ParamError::Inconsistent { reason: "cell imbalance needs n_series >= 2".into() }.into());
    }
    let mut raw = cell.clone();
    raw.thermal.t_amb_c = duty.ambient_c;
    if let Fault::CoolingFailure { factor } = *fault {
        raw.thermal.k_jig_amb_w_per_k *= factor;
    }
    let valid: CellValidParams = raw.clone().check()?;
    let (soc_lo, soc_hi) = valid.soc_range();
    let q_ah = raw.capacity_ah * duty.capacity_scale;
    let pp = PackParams { n_series: duty.n_series, n_parallel: 1, ..PackParams::default() };
    let init = InitialState { soc: duty.initial_soc, temperature_c: Some(duty.ambient_c) };
    let mut pack = Pack::new(valid, &pp, init)?;
    for k in 0..duty.n_series {
        let (mut cap, mut leak) = (duty.capacity_scale, 0.0);
        let mut res = duty.resistance_scale;
        match *fault {
            Fault::InternalShort { leak_ohm } if k == 0 => leak = 1.0 / leak_ohm,
            Fault::CapacityLoss { fraction } => cap *= 1.0 - fraction,
            Fault::ResistanceRise { factor } => res *= factor,
            Fault::CellImbalance { capacity_loss, .. } if k == 0 => cap *= 1.0 - capacity_loss,
            _ => {}
        }
        let c = cell_of(&mut pack, k)?;
        c.set_scales(cap, res, leak)?;
        if let Fault::CellImbalance { soc_offset, .. } = *fault {
            if k == 0 {
                let mut s = *c.state();
                s.soc = (s.soc - soc_offset).max(soc_lo);
                c.set_state(s)?;
            }
        }
    }
    let (v_lo, v_hi) = match *fault {
        Fault::Overcharge { v_end_v } => (raw.v_min_v, v_end_v),
        Fault::Overdischarge { v_end_v } => (v_end_v, raw.v_max_v),
        _ => (raw.v_min_v, raw.v_max_v),
    };
    let mut rec = Recorder::new(duty.n_series);
    let h = duty.dt_s;
    let i_dis = duty.discharge_c_rate * q_ah;
    let i_chg = -duty.charge_c_rate * q_ah;
    let rest_steps = (duty.rest_s / h).round() as usize;
    let max_steps = |c_rate: f64| ((1.3 / c_rate) * 3600.0 / h).ceil() as usize + 1;
    rec.push(&pack, 0.0, 1, 1);
    'cycles: for cyc in 1..=duty.cycles as u32 {
        // (current, steps, stop test) per segment: rest, discharge, rest, charge.
        let segments: [(f64, usize, u32); 4] = [
            (0.0, rest_steps, 1),
            (i_dis, max_steps(duty.discharge_c_rate), 2),
            (0.0, rest_steps, 3),
            (i_chg, max_steps(duty.charge_c_rate), 4),
        ];
        for (i, steps, step_no) in segments {
            for _ in 0..steps {
                if let Fault::ThermalRunawayPrecursor { onset_c, self_heating_w_per_k } = *fault {
                    let c = cell_of(&mut pack, 0)?;
                    let t = c.state().t_cell_c;
                    if t > onset_c + RUNAWAY_STOP_K {
                        break 'cycles;
                    }
                    let ocv = c.output().ocv_v.max(0.5);
                    let heat = self_heating_w_per_k * (t - onset_c).max(0.0);
                    let (cap, res) = (c.cap_scale, c.r_scale);
                    c.set_scales(cap, res, heat / (ocv * ocv))?;
                }
                if pack.step(i, h).is_err() {
                    break 'cycles;
                }
                rec.push(&pack, i, cyc, step_no);
                let (vmin, vmax, smin, smax) = cell_extremes(&pack);
                let stop = if i > 0.0 {
                    vmin <= v_lo || smin <= soc_lo + 0.01
                } else if i < 0.0 {
                    vmax >= v_hi || smax >= soc_hi - 0.01
                } else {
                    false
                };
                if stop {
                    break;
                }
            }
        }
    }
    let mut log = rec.finish(duty, q_ah, raw.v_min_v, raw.v_max_v, fault);
    if let Fault::Sensor { channel, mode } = *fault {
        inject_sensor_fault(&mut log, channel, mode, duty.seed ^ 0x5e_5a_0f)?;
    }
    Ok(log)
}

fn cell_of(pack: &mut Pack, k: usize) -> Result<&mut Simulator, SimError> {
    pack.cell_mut(k).ok_or_else(|| ParamError::invalid("n_series", k, "cell index out of range").into())
}

fn cell_extremes(pack: &Pack) -> (f64, f64, f64, f64) {
    let mut r = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for c in pack.cells() {
        let o = c.output();
        r = (r.0.min(o.voltage_v), r.1.max(o.voltage_v), r.2.min(o.soc), r.3.max(o.soc));
    }
    r
}

/// Collects the true (noise-free) samples; noise and quantisation are added in `finish`.
struct Recorder {
    t: Vec<f64>,
    v: Vec<f64>,
    i: Vec<f64>,
    temp: Vec<f64>,
    cells: Vec<Vec<f64>>,
    cycle: Vec<u32>,
    step: Vec<u32>,
}

impl Recorder {
    fn new(n: usize) -> Self {
        Self {
            t: Vec::new(),
            v: Vec::new(),
            i: Vec::new(),
            temp: Vec::new(),
            cells: vec![Vec::new(); if n > 1 { n } else { 0 }],
            cycle: Vec::new(),
            step: Vec::new(),
        }
    }

    fn push(&mut self, pack: &Pack, i: f64, cycle: u32, step: u32) {
        let cells = pack.cells();
        let (mut v, mut t) = (0.0, f64::NEG_INFINITY);
        for (k, c) in cells.iter().enumerate() {
            let o = c.output();
            v += o.voltage_v;
            t = t.max(o.t_cell_c);
            if let Some(col) = self.cells.get_mut(k) {
                col.push(o.voltage_v);
            }
        }
        self.t.push(cells[0].state().time_s);
        self.v.push(v);
        self.i.push(i);
        self.temp.push(t);
        self.cycle.push(cycle);
        self.step.push(step);
    }

    fn finish(self, duty: &CyclingSchedule, q_ah: f64, v_min: f64, v_max: f64, fault: &Fault) -> BatteryLog {
        let mut r = rng::seeded(duty.seed);
        let mut noise = |sd: f64| -> f64 { Normal::new(0.0, sd).map(|d| d.sample(&mut r)).unwrap_or(0.0) };
        let quant = |x: f64, q: f64| (x / q).round() * q;
        let n = self.t.len();
        let mut log = BatteryLog::with_time(self.t.clone());
        log.voltage_v = Some(self.v.iter().map(|&v| quant(v + noise(NOISE_V), 1e-4)).collect());
        log.current_a = Some(self.i.iter().map(|&i| quant(i * (1.0 + noise(NOISE_I_REL)), 1e-3)).collect());
        if duty.with_temperature {
            let t = self.temp.iter().map(|&t| quant(t + noise(NOISE_T), 0.01)).collect();
            log.temperatures_c.push(Channel::new("cell", "°C", t));
        }
        for (k, col) in self.cells.iter().enumerate() {
            let v = col.iter().map(|&v| quant(v + noise(NOISE_V), 1e-4)).collect();
            log.extra.push(Channel::new(format!("cell_{}_v", k + 1), "V", v));
        }
        log.cycle_index = Some(self.cycle.iter().map(|&c| Some(c)).collect());
        log.step_index = Some(self.step.iter().map(|&s| Some(s)).collect());
        log.step_kind = Some(
            self.i
                .iter()
                .map(|&i| {
                    Some(if i > 0.0 {
                        StepKind::Discharge
                    } else if i < 0.0 {
                        StepKind::Charge
                    } else {
                        StepKind::Rest
                    })
                })
                .collect(),
        );
        let (mut qc, mut qd) = (vec![0.0; n], vec![0.0; n]);
        for k in 1..n {
            let (mut c, mut d) = (qc[k - 1], qd[k - 1]);
            if self.cycle[k] != self.cycle[k - 1] {
                (c, d) = (0.0, 0.0);
            }
            let dq = self.i[k] * (self.t[k] - self.t[k - 1]) / 3600.0;
            qd[k] = d + dq.max(0.0);
            qc[k] = c + (-dq).max(0.0);
        }
        log.charge_capacity_ah = Some(qc);
        log.discharge_capacity_ah = Some(qd);
        let mut info = BTreeMap::new();
        info.insert("capacity_ah".to_string(), format!("{q_ah}"));
        info.insert("v_min_v".to_string(), format!("{v_min}"));
        info.insert("v_max_v".to_string(), format!("{v_max}"));
        info.insert("n_series".to_string(), format!("{}", duty.n_series));
        info.insert("fault".to_string(), fault.kind().as_str().to_string());
        log.meta.info = info;
        log.meta.format = "battsentinel_twin".to_string();
        log.meta.current_sign = "positive = discharge (simulated)".to_string();
        log.quality.rows_read = n;
        log.quality.rows_kept = n;
        log
    }
}

/// Applies a sensor fault to a measured log, in place (seeded). Stuck spans, dropouts and spikes are drawn
/// in every cycle (or over the whole log when it has no cycle index).
///
/// # Errors
/// [`SimError::Params`] for invalid mode parameters or when the log lacks the channel.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::{inject_sensor_fault, SensorChannel, SensorMode};
/// use battsentinel_core::BatteryLog;
/// let mut log = BatteryLog::with_time((0..100).map(f64::from).collect());
/// log.voltage_v = Some(vec![3.7; 100]);
/// inject_sensor_fault(&mut log, SensorChannel::Voltage, SensorMode::Offset { offset: 0.1 }, 1)?;
/// assert!((log.voltage_v.as_ref().unwrap()[5] - 3.8).abs() < 1e-12);
/// # Ok::<(), battsentinel_core::twin::SimError>(())
/// ```
pub fn inject_sensor_fault(
    log: &mut BatteryLog,
    channel: SensorChannel,
    mode: SensorMode,
    seed: u64,
) -> Result<(), SimError> {
    Fault::Sensor { channel, mode }.check()?;
    // Cycle spans.
    let n = log.len();
    let mut spans = Vec::new();
    if let Some(c) = &log.cycle_index {
        let mut start = 0;
        for k in 1..=n {
            if k == n || c[k] != c[start] {
                spans.push((start, k));
                start = k;
            }
        }
    } else if n > 0 {
        spans.push((0, n));
    }
    let values: &mut Vec<f64> = match channel {
        SensorChannel::Voltage => log.voltage_v.as_mut(),
        SensorChannel::Current => log.current_a.as_mut(),
        SensorChannel::Temperature => log.temperatures_c.first_mut().map(|c| &mut c.values),
    }
    .ok_or_else(|| ParamError::invalid("channel", channel, "the log has no such channel"))?;
    let mut r = rng::seeded(seed);
    match mode {
        SensorMode::Offset { offset } => values.iter_mut().for_each(|x| *x += offset),
        SensorMode::Noise { sd } => {
            let d = Normal::new(0.0, sd).map_err(|_| ParamError::invalid("sd", sd, "must be > 0"))?;
            values.iter_mut().for_each(|x| *x += d.sample(&mut r));
        }
        SensorMode::Stuck { fraction } | SensorMode::Dropout { fraction } => {
            for &(a, b) in &spans {
                let len = b - a;
                let m = ((fraction * len as f64).round() as usize).clamp(1, len);
                let start = a + rng::index(&mut r, 0, len - m + 1);
                let held = values[start];
                for x in &mut values[start..start + m] {
                    *x = if matches!(mode, SensorMode::Stuck { .. }) { held } else { f64::NAN };
                }
            }
        }
        SensorMode::Spikes { fraction, value } => {
            for x in values.iter_mut() {
                if r.gen::<f64>() < fraction {
                    *x = value;
                }
            }
        }
    }
    Ok(())
}

/// A simulated log with its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledLog {
    /// The class.
    pub label: FaultKind,
    /// The injected fault with its severity.
    pub fault: Fault,
    /// The duty cycle it ran.
    pub duty: CyclingSchedule,
    /// The measured log.
    pub log: BatteryLog,
}

/// Validated generator parameters; build them with [`FaultGenParams`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultGenValidParams {
    /// Logs per class (≥ 1).
    pub logs_per_class: usize,
    /// Cycles per log (≥ 1).
    pub cycles_per_log: usize,
    /// Sample period range (s), drawn uniformly.
    pub dt_s: (f64, f64),
    /// Discharge C-rate range (1/h).
    pub discharge_c_rate: (f64, f64),
    /// Charge C-rate range (1/h).
    pub charge_c_rate: (f64, f64),
    /// Ambient temperature range (°C).
    pub ambient_c: (f64, f64),
    /// Relative spread (standard deviation) of capacity between logs.
    pub capacity_spread: f64,
    /// Relative spread (standard deviation) of resistance between logs.
    pub resistance_spread: f64,
    /// Fraction of the non-imbalance logs simulated as a series pack with per-cell voltages.
    pub pack_fraction: f64,
    /// Cells in series in the pack logs (≥ 2).
    pub n_series: usize,
    /// Fraction of logs without a temperature channel (never for thermal classes).
    pub no_temperature_fraction: f64,
    /// Master seed.
    pub seed: u64,
}

impl Default for FaultGenValidParams {
    fn default() -> Self {
        Self {
            logs_per_class: 30,
            cycles_per_log: 2,
            dt_s: (5.0, 20.0),
            discharge_c_rate: (0.3, 1.0),
            charge_c_rate: (0.3, 0.7),
            ambient_c: (15.0, 35.0),
            capacity_spread: 0.03,
            resistance_spread: 0.1,
            pack_fraction: 0.25,
            n_series: 4,
            no_temperature_fraction: 0.1,
            seed: 0,
        }
    }
}

/// Parameters of [`generate_labelled_logs`] (unchecked). Defaults: 30 logs per class of 2 cycles, sample
/// period 5–20 s, discharge 0.3–1C, charge 0.3–0.7C, ambient 15–35 °C, 3 % capacity and 10 % resistance
/// spread, a quarter of the logs as 4-cell series packs, 10 % without temperature, seed 0.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::FaultGenParams;
/// use battsentinel_core::ParamGuard;
/// let p = FaultGenParams::default().logs_per_class(2).seed(7);
/// assert!(p.check_ref().is_ok());
/// assert!(FaultGenParams::default().logs_per_class(0).check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FaultGenParams(pub FaultGenValidParams);

impl FaultGenParams {
    /// Logs per class.
    pub fn logs_per_class(mut self, n: usize) -> Self {
        self.0.logs_per_class = n;
        self
    }
    /// Cycles per log.
    pub fn cycles_per_log(mut self, n: usize) -> Self {
        self.0.cycles_per_log = n;
        self
    }
    /// Master seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }
}

impl ParamGuard for FaultGenParams {
    type Checked = FaultGenValidParams;

    fn check_ref(&self) -> Result<&FaultGenValidParams, ParamError> {
        let p = &self.0;
        if !(1..=10_000).contains(&p.logs_per_class) {
            return Err(ParamError::invalid("logs_per_class", p.logs_per_class, "must be in 1..=10000"));
        }
        if !(1..=100).contains(&p.cycles_per_log) {
            return Err(ParamError::invalid("cycles_per_log", p.cycles_per_log, "must be in 1..=100"));
        }
        if !(2..=64).contains(&p.n_series) {
            return Err(ParamError::invalid("n_series", p.n_series, "must be in 2..=64"));
        }
        for (name, (lo, hi), min, max) in [
            ("dt_s", p.dt_s, 0.1, 600.0),
            ("discharge_c_rate", p.discharge_c_rate, 0.05, 5.0),
            ("charge_c_rate", p.charge_c_rate, 0.05, 5.0),
            ("ambient_c", p.ambient_c, -30.0, 60.0),
        ] {
            if !(lo.is_finite() && hi.is_finite() && min <= lo && lo <= hi && hi <= max) {
                return Err(ParamError::invalid(
                    name,
                    (lo, hi),
                    &format!("must be lo <= hi within [{min}, {max}]"),
                ));
            }
        }
        in_range("capacity_spread", p.capacity_spread, 0.0, 0.2)?;
        in_range("resistance_spread", p.resistance_spread, 0.0, 0.3)?;
        in_range("pack_fraction", p.pack_fraction, 0.0, 1.0)?;
        in_range("no_temperature_fraction", p.no_temperature_fraction, 0.0, 1.0)?;
        Ok(p)
    }

    fn check(self) -> Result<FaultGenValidParams, ParamError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl ParamGuard for FaultGenValidParams {
    type Checked = FaultGenValidParams;

    fn check_ref(&self) -> Result<&FaultGenValidParams, ParamError> {
        Ok(self)
    }

    fn check(self) -> Result<FaultGenValidParams, ParamError> {
        Ok(self)
    }
}

/// Draws a fault of class `kind` with a random severity (the ranges the default detector is trained on).
///
/// Severities: internal short `R_leak` = (2–20 h)·OCV/Q (a leakage current of C/2 … C/20… for a 100 Ah cell
/// 0.7–7.4 Ω); capacity loss 12–40 %; resistance × 1.8–4; cooling × 0.02–0.15; self-heating 5.5–9 W/K (above
/// the `ECM_Example` cooling conductance of 5 W/K, so it accelerates) from an onset 0.5–3 K below ambient; over-charge to +0.08–0.2 V above the upper cut-off; over-discharge to 0.25–0.6 V below the
/// lower one; sensor faults of every mode on voltage or temperature; imbalance 8–25 % SoC and 0–20 %
/// capacity.
pub fn random_fault(kind: FaultKind, cell: &CellParams, ambient_c: f64, r: &mut rng::Rng) -> Fault {
    let u = |r: &mut rng::Rng, lo: f64, hi: f64| lo + (hi - lo) * r.gen::<f64>();
    match kind {
        FaultKind::Normal => Fault::None,
        FaultKind::CapacityFade => Fault::CapacityLoss { fraction: u(r, 0.12, 0.4) },
        FaultKind::ResistanceRise => Fault::ResistanceRise { factor: u(r, 1.8, 4.0) },
        FaultKind::InternalShort => {
            let hours = u(r, 2.0, 20.0);
            Fault::InternalShort { leak_ohm: hours * 3.7 / cell.capacity_ah }
        }
        FaultKind::Overcharge => Fault::Overcharge { v_end_v: cell.v_max_v + u(r, 0.08, 0.2) },
        FaultKind::Overdischarge => Fault::Overdischarge { v_end_v: cell.v_min_v - u(r, 0.25, 0.6) },
        FaultKind::CoolingFailure => Fault::CoolingFailure { factor: u(r, 0.02, 0.15) },
        FaultKind::ThermalRunawayPrecursor => Fault::ThermalRunawayPrecursor {
            onset_c: ambient_c - u(r, 0.5, 3.0),
            self_heating_w_per_k: u(r, 5.5, 9.0),
        },
        FaultKind::SensorFault => {
            let channel = if r.gen::<bool>() { SensorChannel::Voltage } else { SensorChannel::Temperature };
            let volt = channel == SensorChannel::Voltage;
            let mode = match r.gen_range(0..4) {
                0 => SensorMode::Stuck { fraction: u(r, 0.3, 0.7) },
                1 => SensorMode::Noise { sd: if volt { u(r, 0.02, 0.08) } else { u(r, 2.0, 6.0) } },
                // A temperature sensor may be disconnected for the whole log; the voltage never is.
                2 => SensorMode::Dropout {
                    fraction: if !volt && r.gen::<bool>() { 1.0 } else { u(r, 0.1, 0.6) },
                },
                _ => SensorMode::Spikes {
                    fraction: u(r, 0.005, 0.05),
                    value: if volt { u(r, -2.0, 0.0) } else { u(r, -300.0, -50.0) },
                },
            };
            Fault::Sensor { channel, mode }
        }
        FaultKind::CellImbalance => {
            Fault::CellImbalance { soc_offset: u(r, 0.08, 0.25), capacity_loss: u(r, 0.0, 0.2) }
        }
    }
}

/// Generates labelled logs: `logs_per_class` for every class of [`FaultKind::ALL`], from the twin cell
/// `cell` (for example [`CellParams::ecm_example`]). Deterministic for a seed.
///
/// # Errors
/// [`SimError::Params`] for invalid generator or cell parameters.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::{generate_labelled_logs, CellParams, FaultGenParams, FaultKind};
/// let logs = generate_labelled_logs(&CellParams::ecm_example(), &FaultGenParams::default().logs_per_class(1))?;
/// assert_eq!(logs.len(), FaultKind::ALL.len());
/// assert!(logs.iter().any(|l| l.label == FaultKind::InternalShort));
/// # Ok::<(), battsentinel_core::twin::SimError>(())
/// ```
pub fn generate_labelled_logs<P: ParamGuard<Checked = FaultGenValidParams>>(
    cell: &CellParams,
    params: &P,
) -> Result<Vec<LabelledLog>, SimError> {
    let p = params.check_ref()?;
    let mut r = rng::seeded(p.seed);
    let normal = Normal::new(0.0, 1.0).map_err(|_| ParamError::invalid("seed", p.seed, "normal"))?;
    let mut out = Vec::with_capacity(p.logs_per_class * FaultKind::ALL.len());
    for _ in 0..p.logs_per_class {
        for kind in FaultKind::ALL {
            let u = |r: &mut rng::Rng, (lo, hi): (f64, f64)| lo + (hi - lo) * r.gen::<f64>();
            let ambient_c = u(&mut r, p.ambient_c);
            let fault = random_fault(kind, cell, ambient_c, &mut r);
            let thermal = matches!(kind, FaultKind::CoolingFailure | FaultKind::ThermalRunawayPrecursor);
            let sensor_t = matches!(fault, Fault::Sensor { channel: SensorChannel::Temperature, .. });
            let pack = kind == FaultKind::CellImbalance || r.gen::<f64>() < p.pack_fraction;
            let no_t = r.gen::<f64>() < p.no_temperature_fraction;
            let mut draw = |sd: f64| 1.0 + sd * f64::clamp(normal.sample(&mut r), -3.0, 3.0);
            let capacity_scale = draw(p.capacity_spread);
            let resistance_scale = draw(p.resistance_spread);
            let duty = CyclingSchedule {
                cycles: p.cycles_per_log,
                dt_s: u(&mut r, p.dt_s).round().max(1.0),
                discharge_c_rate: u(&mut r, p.discharge_c_rate),
                charge_c_rate: u(&mut r, p.charge_c_rate),
                rest_s: u(&mut r, (1200.0, 2400.0)),
                initial_soc: u(&mut r, (0.85, 0.97)),
                n_series: if pack { p.n_series } else { 1 },
                ambient_c,
                capacity_scale,
                resistance_scale,
                with_temperature: thermal || sensor_t || !no_t,
                seed: r.gen(),
            };
            let log = simulate_fault(cell, &fault, &duty)?;
            out.push(LabelledLog { label: kind, fault, duty, log });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn leakage_drains_soc_at_rest_at_v_over_r() {
        let cell = CellParams::ecm_example().check().unwrap();
        let mut sim = Simulator::new(cell, InitialState { soc: 0.6, temperature_c: None }).unwrap();
        let r_leak = 2.0;
        sim.set_scales(1.0, 1.0, 1.0 / r_leak).unwrap();
        let ocv = sim.output().ocv_v;
        for _ in 0..60 {
            sim.step(super::super::Input::Current { current_a: 0.0 }, 1.0).unwrap();
        }
        let expected = 0.6 - ocv / r_leak * 60.0 / (3600.0 * 100.0);
        assert_relative_eq!(sim.state().soc, expected, max_relative = 1e-6);
    }

    #[test]
    fn every_fault_simulates_and_is_labelled() {
        let cell = CellParams::ecm_example();
        let mut r = rng::seeded(3);
        for kind in FaultKind::ALL {
            let f = random_fault(kind, &cell, 25.0, &mut r);
            assert_eq!(f.kind(), kind);
            f.check().unwrap();
            let duty = CyclingSchedule {
                n_series: if kind == FaultKind::CellImbalance { 3 } else { 1 },
                ..CyclingSchedule::default()
            };
            let log = simulate_fault(&cell, &f, &duty).unwrap();
            log.validate().unwrap();
            // A runaway precursor ends at the temperature cut-off: ~200 rows for the strongest self-heating drawn.
            assert!(log.len() > 150, "{kind}: {} rows", log.len());
            assert_eq!(log.meta.info["fault"], kind.as_str());
        }
    }

    #[test]
    fn autotraits() {
        fn ok<T: Send + Sync + Clone + std::fmt::Debug>() {}
        ok::<LabelledLog>();
        ok::<Fault>();
    }
}
