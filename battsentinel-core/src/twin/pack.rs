//! Packs: `n_series` groups of `n_parallel` cells, with a seeded per-cell spread of capacity and resistance,
//! and optional passive balancing.
//!
//! Within a parallel group the current divides so that the cells share one terminal voltage at the end of the
//! step, using each cell's linearised response `V = E_k − I_k·R_eff,k` (see [`Simulator::thevenin`]):
//! `V = (Σ E_k/R_k − I_group) / Σ 1/R_k`, `I_k = (E_k − V)/R_k`. Every cell is then advanced exactly.
//! Passive balancing bleeds `V_cell / R_bleed` from every cell of a group whose voltage exceeds the lowest
//! group voltage by more than `balance_threshold_v`.

use std::sync::Arc;

use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::model::{InitialState, Input, Simulator};
use super::params::CellValidParams;
use super::SimError;
use crate::params::{positive, ParamError};

/// Pack layout, spread and balancing (unchecked; [`Pack::new`] validates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackParams {
    /// Series groups (≥ 1).
    pub n_series: usize,
    /// Cells in parallel per group (≥ 1).
    pub n_parallel: usize,
    /// Relative standard deviation of cell capacity (e.g. 0.01 = 1 %), truncated at ±3σ.
    #[serde(default)]
    pub capacity_spread: f64,
    /// Relative standard deviation of cell resistance.
    #[serde(default)]
    pub resistance_spread: f64,
    /// Standard deviation of the initial SoC (absolute).
    #[serde(default)]
    pub soc_spread: f64,
    /// Seed of the spread.
    #[serde(default)]
    pub seed: u64,
    /// Bleed resistor per cell for passive balancing (Ω); `None` = no balancing.
    #[serde(default)]
    pub balance_bleed_ohm: Option<f64>,
    /// Group-voltage excess above the lowest group at which bleeding starts (V).
    #[serde(default = "default_threshold")]
    pub balance_threshold_v: f64,
}

fn default_threshold() -> f64 {
    0.01
}

impl Default for PackParams {
    fn default() -> Self {
        Self {
            n_series: 1,
            n_parallel: 1,
            capacity_spread: 0.0,
            resistance_spread: 0.0,
            soc_spread: 0.0,
            seed: 0,
            balance_bleed_ohm: None,
            balance_threshold_v: default_threshold(),
        }
    }
}

/// One pack sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PackOutput {
    /// Time (s).
    pub time_s: f64,
    /// Pack current (A), positive = discharge.
    pub current_a: f64,
    /// Pack voltage (V).
    pub voltage_v: f64,
    /// Lowest and highest cell SoC.
    pub soc_min: f64,
    /// Highest cell SoC.
    pub soc_max: f64,
    /// Highest cell temperature (°C).
    pub t_max_c: f64,
    /// Lowest group voltage (V).
    pub v_group_min_v: f64,
    /// Highest group voltage (V).
    pub v_group_max_v: f64,
}

/// A pack of [`Simulator`] cells.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::{CellParams, InitialState, Pack, PackParams};
/// let cell = CellParams::ecm_example().check().unwrap();
/// let pp = PackParams { n_series: 4, n_parallel: 2, capacity_spread: 0.02, seed: 7, ..PackParams::default() };
/// let mut pack = Pack::new(cell, &pp, InitialState { soc: 0.8, temperature_c: None }).unwrap();
/// let out = pack.step(200.0, 1.0).unwrap();
/// assert!(out.voltage_v > 4.0 * 3.5);
/// ```
#[derive(Debug, Clone)]
pub struct Pack {
    cells: Vec<Simulator>,
    n_series: usize,
    n_parallel: usize,
    bleed_ohm: Option<f64>,
    threshold_v: f64,
    currents: Vec<f64>,
    group_v: Vec<f64>,
    scratch: Vec<(f64, f64)>,
}

impl Pack {
    /// Builds the pack; cell `s·n_parallel + p` is cell `p` of series group `s`.
    ///
    /// # Errors
    /// [`SimError::Params`] for zero sizes, negative spreads or a non-positive bleed resistor;
    /// [`SimError::SocOutsideTable`] when a spread initial SoC leaves the table.
    pub fn new(cell: CellValidParams, pp: &PackParams, init: InitialState) -> Result<Self, SimError> {
        if pp.n_series == 0 || pp.n_parallel == 0 {
            return Err(
                ParamError::invalid("n_series", (pp.n_series, pp.n_parallel), "sizes must be >= 1").into()
            );
        }
        for (name, v) in [
            ("capacity_spread", pp.capacity_spread),
            ("resistance_spread", pp.resistance_spread),
            ("soc_spread", pp.soc_spread),
        ] {
            if !(v.is_finite() && (0.0..0.3).contains(&v)) {
                return Err(ParamError::invalid(name, v, "must be in [0, 0.3)").into());
            }
        }
        if let Some(r) = pp.balance_bleed_ohm {
            positive("balance_bleed_ohm", r)?;
        }
        let shared = Arc::new(cell);
        let mut rng = crate::rng::seeded(pp.seed);
        let normal = Normal::new(0.0, 1.0).map_err(|_| ParamError::invalid("seed", pp.seed, "normal"))?;
        let mut draw = |sd: f64| sd * f64::clamp(normal.sample(&mut rng), -3.0, 3.0);
        let n = pp.n_series * pp.n_parallel;
        let mut cells = Vec::with_capacity(n);
        for _ in 0..n {
            let soc = init.soc + draw(pp.soc_spread);
            let mut sim = Simulator::with_shared(shared.clone(), InitialState { soc, ..init })?;
            let cap = 1.0 + draw(pp.capacity_spread);
            let res = 1.0 + draw(pp.resistance_spread);
            sim.set_scales(cap, res, 0.0)?;
            cells.push(sim);
        }
        Ok(Self {
            cells,
            n_series: pp.n_series,
            n_parallel: pp.n_parallel,
            bleed_ohm: pp.balance_bleed_ohm,
            threshold_v: pp.balance_threshold_v,
            currents: vec![0.0; n],
            group_v: vec![0.0; pp.n_series],
            scratch: Vec::with_capacity(pp.n_parallel),
        })
    }

    /// The cells (series-group-major).
    pub fn cells(&self) -> &[Simulator] {
        &self.cells
    }

    /// Mutable access to one cell (for example to inject a fault with [`Simulator::set_scales`]).
    pub fn cell_mut(&mut self, index: usize) -> Option<&mut Simulator> {
        self.cells.get_mut(index)
    }

    /// The last current of each cell (A).
    pub fn cell_currents(&self) -> &[f64] {
        &self.currents
    }

    /// Advances the pack by `dt_s` at pack current `current_a`.
    ///
    /// # Errors
    /// Any error of [`Simulator::step`] (the pack may then be partly advanced).
    pub fn step(&mut self, current_a: f64, dt_s: f64) -> Result<PackOutput, SimError> {
        if !(dt_s.is_finite() && dt_s > 0.0) {
            return Err(SimError::InvalidDt { dt_s });
        }
        let m = self.n_parallel;
        // Balancing decision from the group voltages of the previous step.
        let v_low = self.group_v.iter().copied().fold(f64::INFINITY, f64::min);
        let (mut v_pack, mut soc_min, mut soc_max, mut t_max) =
            (0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
        for s in 0..self.n_series {
            let group = &mut self.cells[s * m..(s + 1) * m];
            let bleed = match self.bleed_ohm {
                Some(r) if self.group_v[s] - v_low > self.threshold_v => Some(r),
                _ => None,
            };
            if m == 1 {
                self.currents[s] = current_a;
            } else {
                let (mut num, mut den) = (0.0, 0.0);
                self.scratch.clear();
                for c in group.iter() {
                    let (e, r) = c.thevenin(dt_s);
                    num += e / r;
                    den += 1.0 / r;
                    self.scratch.push((e, r));
                }
                let v = (num - current_a) / den;
                for (k, (e, r)) in self.scratch.iter().enumerate() {
                    self.currents[s * m + k] = (e - v) / r;
                }
            }
            let mut v_group = 0.0;
            for (k, c) in group.iter_mut().enumerate() {
                let mut i = self.currents[s * m + k];
                if let Some(r) = bleed {
                    i += c.output().voltage_v / r;
                }
                let o = c.step(Input::Current { current_a: i }, dt_s)?;
                v_group += o.voltage_v;
                soc_min = soc_min.min(o.soc);
                soc_max = soc_max.max(o.soc);
                t_max = t_max.max(o.t_cell_c);
            }
            v_group /= m as f64;
            self.group_v[s] = v_group;
            v_pack += v_group;
        }
        let (gmin, gmax) =
            self.group_v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
        Ok(PackOutput {
            time_s: self.cells[0].state().time_s,
            current_a,
            voltage_v: v_pack,
            soc_min,
            soc_max,
            t_max_c: t_max,
            v_group_min_v: gmin,
            v_group_max_v: gmax,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::twin::CellParams;

    #[test]
    fn parallel_currents_sum_and_series_voltage_adds() {
        let cell = CellParams::ecm_example().check().unwrap();
        let pp = PackParams {
            n_series: 3,
            n_parallel: 4,
            capacity_spread: 0.05,
            resistance_spread: 0.1,
            seed: 11,
            ..PackParams::default()
        };
        let mut pack = Pack::new(cell.clone(), &pp, InitialState { soc: 0.7, temperature_c: None }).unwrap();
        for _ in 0..100 {
            let out = pack.step(300.0, 1.0).unwrap();
            for s in 0..3 {
                let sum: f64 = pack.cell_currents()[s * 4..(s + 1) * 4].iter().sum();
                assert!((sum - 300.0).abs() < 1e-9);
                let v: Vec<f64> =
                    pack.cells()[s * 4..(s + 1) * 4].iter().map(|c| c.output().voltage_v).collect();
                let spread =
                    v.iter().cloned().fold(f64::MIN, f64::max) - v.iter().cloned().fold(f64::MAX, f64::min);
                assert!(spread < 2e-4, "parallel cells share a voltage: {spread}");
            }
            assert!(out.voltage_v > 3.0 * 3.4 && out.voltage_v < 3.0 * 4.2);
        }
        // Same seed, same pack.
        let mut a = Pack::new(cell.clone(), &pp, InitialState { soc: 0.7, temperature_c: None }).unwrap();
        let mut b = Pack::new(cell, &pp, InitialState { soc: 0.7, temperature_c: None }).unwrap();
        assert_eq!(a.step(100.0, 1.0).unwrap(), b.step(100.0, 1.0).unwrap());
    }

    #[test]
    fn balancing_narrows_the_soc_spread() {
        let cell = CellParams::ecm_example().check().unwrap();
        let init = InitialState { soc: 0.6, temperature_c: None };
        let base =
            PackParams { n_series: 6, n_parallel: 1, soc_spread: 0.03, seed: 3, ..PackParams::default() };
        let balanced =
            PackParams { balance_bleed_ohm: Some(0.5), balance_threshold_v: 0.002, ..base.clone() };
        let mut a = Pack::new(cell.clone(), &base, init).unwrap();
        let mut b = Pack::new(cell, &balanced, init).unwrap();
        let (mut oa, mut ob) = (a.step(0.0, 10.0).unwrap(), b.step(0.0, 10.0).unwrap());
        for _ in 0..600 {
            oa = a.step(0.0, 10.0).unwrap();
            ob = b.step(0.0, 10.0).unwrap();
        }
        assert!(ob.soc_max - ob.soc_min < 0.5 * (oa.soc_max - oa.soc_min), "{ob:?} vs {oa:?}");
    }
}
