//! The Thevenin cell simulator: exact zero-order-hold integration of the RC and thermal states.
//!
//! Over a step of length `h` with the current `I` and the parameters held at their values at the start of
//! the step (zero-order hold):
//! - RC pair j: `V_j ← V_j·e^(−h/τ_j) − I·R_j·(1 − e^(−h/τ_j))`, `τ_j = R_j·C_j` (exact);
//! - `SoC ← SoC − I·h/(3600·Q)` (exact);
//! - heat `Q = I²R0 − I·⟨ΣV_j⟩ − I·T_K·dU/dT(U, T)` with `⟨V_j⟩` the exact mean of `V_j` over the step;
//! - the linear two-node thermal system `dy/dt = A·y + b` (y = temperatures above ambient) is advanced with
//!   its exact propagator `y ← e^(Ah)·y + φ₁(Ah)·h·b`, computed from the 2×2 spectral decomposition and
//!   cached per step length.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::params::CellValidParams;
use super::table::GridHint;
use super::SimError;

/// Maximum number of RC pairs.
pub const MAX_RC: usize = 3;

const KELVIN: f64 = 273.15;

/// What drives a step: the current, the terminal voltage or the power.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::Input;
/// let i: Input = serde_json::from_str(r#"{"current_a": 100.0}"#).unwrap();
/// assert_eq!(i, Input::Current { current_a: 100.0 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Input {
    /// Current (A), positive = discharge.
    Current {
        /// Current (A), positive = discharge.
        current_a: f64,
    },
    /// Terminal voltage held (V): the current is solved so that the voltage at the end of the step is this.
    Voltage {
        /// Voltage (V).
        voltage_v: f64,
    },
    /// Power (W), positive = discharge: the current is solved so that `I·V` at the end of the step is this.
    Power {
        /// Power (W).
        power_w: f64,
    },
}

/// The state variables of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Simulation time (s).
    pub time_s: f64,
    /// State of charge (fraction).
    pub soc: f64,
    /// RC pair voltages (V); entries past the number of pairs are 0.
    pub v_rc_v: [f64; MAX_RC],
    /// Cell temperature (°C).
    pub t_cell_c: f64,
    /// Jig temperature (°C).
    pub t_jig_c: f64,
}

/// Initial conditions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialState {
    /// Initial SoC (fraction), inside the OCV table.
    pub soc: f64,
    /// Initial cell and jig temperature (°C); `None` = ambient.
    #[serde(default)]
    pub temperature_c: Option<f64>,
}

/// One output sample: the state plus the algebraic quantities (as the columns of a PyBaMM trace).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Output {
    /// Simulation time (s).
    pub time_s: f64,
    /// Current (A), positive = discharge.
    pub current_a: f64,
    /// Terminal voltage (V).
    pub voltage_v: f64,
    /// Open-circuit voltage (V).
    pub ocv_v: f64,
    /// SoC (fraction).
    pub soc: f64,
    /// R0 overpotential `−I·R0` (V).
    pub v_r0_v: f64,
    /// RC pair voltages (V).
    pub v_rc_v: [f64; MAX_RC],
    /// R0 in use (Ω).
    pub r0_ohm: f64,
    /// RC resistances in use (Ω).
    pub r_ohm: [f64; MAX_RC],
    /// RC capacitances in use (F).
    pub c_farad: [f64; MAX_RC],
    /// Cell temperature (°C).
    pub t_cell_c: f64,
    /// Jig temperature (°C).
    pub t_jig_c: f64,
    /// Total heat generation, irreversible + reversible (W).
    pub q_gen_w: f64,
    /// Electrical power `V·I` (W), positive = discharge.
    pub power_w: f64,
}

/// Parameter values at one (state, current).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Eval {
    ocv: f64,
    dudt: f64,
    r0: f64,
    r: [f64; MAX_RC],
    c: [f64; MAX_RC],
    tau: [f64; MAX_RC],
}

/// Segments found by the last table lookups (the search starts there; the state moves little per step), and
/// per (T, I, SoC) grid the cell corners interpolated in current (see [`GridHint`]).
#[derive(Debug, Clone, Default)]
struct Hints {
    ocv: [usize; 2],
    dudt: [usize; 2],
    grids: Box<[GridHint]>,
}

/// Exact propagator of the two-node thermal model for one step length.
#[derive(Debug, Clone, Copy)]
struct ThermalProp {
    h: f64,
    inv_h: f64,
    e: [[f64; 2]; 2],
    /// Response of (cell, jig) to 1 W in the cell over the step (K).
    g: [f64; 2],
}

/// Zero-order-hold coefficients of one RC pair for a step length and time constant: `decay = e^(−h/τ)` and
/// `frac = (1 − e^(−h/τ))·τ/h` (the mean of the step response over the step). Recomputed only when `h` or `τ`
/// change (never with constant parameters and a fixed step).
#[derive(Debug, Clone, Copy)]
struct Zoh {
    h: f64,
    tau: f64,
    decay: f64,
    frac: f64,
}

/// `(1 − e^(−x))/x = Σ_k (−x)^k/(k+1)!`: coefficients of the series, to degree 10.
const FRAC_SERIES: [f64; 11] = [
    1.0,
    -1.0 / 2.0,
    1.0 / 6.0,
    -1.0 / 24.0,
    1.0 / 120.0,
    -1.0 / 720.0,
    1.0 / 5040.0,
    -1.0 / 40320.0,
    1.0 / 362880.0,
    -1.0 / 3628800.0,
    1.0 / 39916800.0,
];

/// Below this `x = h/τ` the series gives `frac` to a relative 3e-19 (first omitted term `x¹¹/12!`).
const SERIES_MAX_X: f64 = 0.125;

impl Zoh {
    const EMPTY: Self = Self { h: f64::NAN, tau: f64::NAN, decay: 0.0, frac: 0.0 };

    #[inline(always)]
    fn new(h: f64, inv_h: f64, tau: f64) -> Self {
        let x = h / tau;
        if x <= SERIES_MAX_X {
            // The usual case (steps shorter than τ/8): the series in Estrin's form (short dependency chain:
            // with table parameters τ changes every step and this sits on the temperature feedback path),
            // then `e^(−x) = 1 − x·frac`. Agrees with `exp_m1` to about 1 ulp.
            let c = &FRAC_SERIES;
            let x2 = x * x;
            let x4 = x2 * x2;
            let x8 = x4 * x4;
            let p01 = c[0] + c[1] * x;
            let p23 = c[2] + c[3] * x;
            let p45 = c[4] + c[5] * x;
            let p67 = c[6] + c[7] * x;
            let p89 = c[8] + c[9] * x;
            let p03 = p01 + p23 * x2;
            let p47 = p45 + p67 * x2;
            let p8a = p89 + c[10] * x2;
            let frac = (p03 + p47 * x4) + p8a * x8;
            return Self { h, tau, decay: 1.0 - x * frac, frac };
        }
        let em1 = (-x).exp_m1();
        Self { h, tau, decay: 1.0 + em1, frac: -em1 * (tau * inv_h) }
    }
}

/// A real-time Thevenin cell: one sample in, state out.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::{CellParams, InitialState, Input, Simulator};
/// let params = CellParams::ecm_example().check().unwrap();
/// let mut sim = Simulator::new(params, InitialState { soc: 0.9, temperature_c: None }).unwrap();
/// let out = sim.step(Input::Current { current_a: 100.0 }, 1.0).unwrap();
/// assert!(out.voltage_v < out.ocv_v);
/// assert!((out.soc - (0.9 - 1.0 / 3600.0)).abs() < 1e-12);
/// ```
#[derive(Debug, Clone)]
pub struct Simulator {
    p: Arc<CellValidParams>,
    state: State,
    /// Current for which `cur` was evaluated.
    cur_i: f64,
    cur: Eval,
    hints: Hints,
    prop: ThermalProp,
    zoh: [Zoh; MAX_RC],
    /// SoC range of the OCV table.
    soc_range: (f64, f64),
    last_i: f64,
    /// Extra parallel leakage current drawn by an internal short (A per V of OCV).
    pub(crate) leak_siemens: f64,
    /// Capacity multiplier (per-cell spread, fade).
    pub(crate) cap_scale: f64,
    /// Resistance multiplier (R0 and R_j; C_j divided by it so τ is kept).
    pub(crate) r_scale: f64,
    inv_r_scale: f64,
    /// `1 / (3600·Q·capacity_scale)` (1/As).
    inv_charge_as: f64,
}

impl Simulator {
    /// A simulator at the given initial state.
    ///
    /// # Errors
    /// [`SimError::SocOutsideTable`] when the initial SoC is outside the OCV table;
    /// [`SimError::NonFiniteInput`] on a non-finite initial temperature.
    pub fn new(params: CellValidParams, init: InitialState) -> Result<Self, SimError> {
        Self::with_shared(Arc::new(params), init)
    }

    /// As [`Simulator::new`], sharing the parameters (packs of identical cells).
    ///
    /// # Errors
    /// As [`Simulator::new`].
    pub fn with_shared(params: Arc<CellValidParams>, init: InitialState) -> Result<Self, SimError> {
        let (min, max) = params.soc_range();
        if !(init.soc.is_finite() && (min..=max).contains(&init.soc)) {
            return Err(SimError::SocOutsideTable { soc: init.soc, min, max });
        }
        let t0 = init.temperature_c.unwrap_or(params.raw.thermal.t_amb_c);
        if !t0.is_finite() || t0 <= -KELVIN {
            return Err(SimError::NonFiniteInput { field: "temperature_c", value: t0, t_s: 0.0 });
        }
        let state = State { time_s: 0.0, soc: init.soc, v_rc_v: [0.0; MAX_RC], t_cell_c: t0, t_jig_c: t0 };
        let prop = ThermalProp::new(&params, 1.0);
        let inv_r_scale = 1.0;
        let capacity_ah = params.raw.capacity_ah;
        let hints =
            Hints { grids: vec![GridHint::default(); params.m.grids.len()].into(), ..Hints::default() };
        let mut sim = Self {
            p: params,
            state,
            cur_i: 0.0,
            cur: Eval::default(),
            hints,
            prop,
            zoh: [Zoh::EMPTY; MAX_RC],
            soc_range: (min, max),
            last_i: 0.0,
            leak_siemens: 0.0,
            cap_scale: 1.0,
            r_scale: 1.0,
            inv_r_scale,
            inv_charge_as: 1.0 / (3600.0 * capacity_ah),
        };
        sim.cur = sim.eval(&state, 0.0)?;
        Ok(sim)
    }

    /// The parameters.
    pub fn params(&self) -> &CellValidParams {
        &self.p
    }

    /// The current state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Sets the state (for example to start from a known SoC and RC voltages).
    ///
    /// # Errors
    /// [`SimError::SocOutsideTable`] when the SoC is outside the OCV table.
    pub fn set_state(&mut self, state: State) -> Result<(), SimError> {
        let (min, max) = self.p.soc_range();
        if !(state.soc.is_finite() && (min..=max).contains(&state.soc)) {
            return Err(SimError::SocOutsideTable { soc: state.soc, min, max });
        }
        self.state = state;
        self.cur = self.eval(&state, self.cur_i)?;
        Ok(())
    }

    /// The output (voltage, OCV, heat, …) at the current state for the last applied current.
    pub fn output(&self) -> Output {
        self.make_output(&self.state, &self.cur, self.cur_i)
    }

    /// Sets the per-cell multipliers: capacity × `capacity_scale`, R0 and R_j × `resistance_scale` (C_j ÷ it, so
    /// the time constants are kept), and a parallel leakage conductance (S) modelling an internal short.
    ///
    /// # Errors
    /// [`SimError::Params`] when a multiplier is not finite and > 0 or the leakage is negative.
    pub fn set_scales(
        &mut self,
        capacity_scale: f64,
        resistance_scale: f64,
        leak_siemens: f64,
    ) -> Result<(), SimError> {
        crate::params::positive("capacity_scale", capacity_scale)?;
        crate::params::positive("resistance_scale", resistance_scale)?;
        if !(leak_siemens.is_finite() && leak_siemens >= 0.0) {
            return Err(crate::params::ParamError::invalid(
                "leak_siemens",
                leak_siemens,
                "must be finite and >= 0",
            )
            .into());
        }
        self.cap_scale = capacity_scale;
        self.r_scale = resistance_scale;
        self.inv_r_scale = 1.0 / resistance_scale;
        self.inv_charge_as = 1.0 / (3600.0 * capacity_scale * self.p.raw.capacity_ah);
        self.leak_siemens = leak_siemens;
        let s = self.state;
        self.cur = self.eval(&s, self.cur_i)?;
        Ok(())
    }

    /// Linearised terminal behaviour over a coming step of `dt_s`: `V_end ≈ E − I·R_eff` with
    /// `E = OCV + Σ V_j e^(−h/τ_j)` and `R_eff = R0 + Σ R_j (1 − e^(−h/τ_j))` (parameters at the last current).
    pub fn thevenin(&self, dt_s: f64) -> (f64, f64) {
        let ev = &self.cur;
        let (mut e, mut r) = (ev.ocv, ev.r0);
        for j in 0..self.p.n_rc() {
            let d = (-dt_s / ev.tau[j]).exp();
            e += self.state.v_rc_v[j] * d;
            r += ev.r[j] * (1.0 - d);
        }
        (e, r)
    }

    /// The output at the current state if `current_a` were applied now (instantaneous response).
    ///
    /// # Errors
    /// [`SimError::ParamOutOfRange`] when a table gives an unusable value at that current.
    pub fn output_at_current(&mut self, current_a: f64) -> Result<Output, SimError> {
        let s = self.state;
        let ev = self.eval(&s, current_a)?;
        Ok(self.make_output(&s, &ev, current_a))
    }

    /// Advances by `dt_s` seconds under `input` and returns the output at the end of the step.
    ///
    /// # Errors
    /// [`SimError::InvalidDt`] when `dt_s` is not finite and > 0; [`SimError::NonFiniteInput`];
    /// [`SimError::NoSolution`] when a voltage or power set-point cannot be met;
    /// [`SimError::ParamOutOfRange`] when an extrapolated table gives a negative resistance or capacitance.
    /// On error the state is unchanged.
    #[inline]
    pub fn step(&mut self, input: Input, dt_s: f64) -> Result<Output, SimError> {
        let i = self.current_for(input, dt_s)?;
        self.advance_output(i, dt_s)
    }

    /// The end-of-step state for `input` over `dt_s`, without committing it.
    pub(crate) fn propose(&mut self, input: Input, dt_s: f64) -> Result<(State, Eval, f64), SimError> {
        let i = self.current_for(input, dt_s)?;
        let (s, ev) = self.advance(i, dt_s)?;
        Ok((s, ev, i))
    }

    /// Advances the committed state by `dt_s` at current `i` in place and returns the output at the end of
    /// the step (the result equals [`Simulator::propose`] followed by [`Simulator::commit`] and
    /// [`Simulator::output`], with the state kept in registers instead of moved through a `Result`). On error
    /// the state is unchanged.
    #[inline(always)]
    pub(crate) fn advance_output(&mut self, i: f64, dt_s: f64) -> Result<Output, SimError> {
        let (next, ev, ok) = self.advance_raw(i, dt_s);
        if !ok {
            return Err(self.advance_error(i, next));
        }
        // Field by field: a whole-struct assignment is lowered to a copy through the stack whose wide loads
        // cannot be forwarded from the narrow stores that wrote it (a stall of ~15 cycles per step).
        let st = &mut self.state;
        st.time_s = next.time_s;
        st.soc = next.soc;
        st.t_cell_c = next.t_cell_c;
        st.t_jig_c = next.t_jig_c;
        let cur = &mut self.cur;
        cur.ocv = ev.ocv;
        cur.dudt = ev.dudt;
        cur.r0 = ev.r0;
        for j in 0..MAX_RC {
            st.v_rc_v[j] = next.v_rc_v[j];
            cur.r[j] = ev.r[j];
            cur.c[j] = ev.c[j];
            cur.tau[j] = ev.tau[j];
        }
        self.cur_i = i;
        self.last_i = i;
        Ok(self.make_output(&next, &ev, i))
    }

    /// Restores the committed state to the one shown by `o` (an output of this simulator), with the
    /// previous current `cur_i` and secant start `last_i`.
    pub(crate) fn restore(&mut self, o: &Output, cur_i: f64, last_i: f64) -> Result<(), SimError> {
        let state = State {
            time_s: o.time_s,
            soc: o.soc,
            v_rc_v: o.v_rc_v,
            t_cell_c: o.t_cell_c,
            t_jig_c: o.t_jig_c,
        };
        self.cur = self.eval(&state, cur_i)?;
        self.state = state;
        self.cur_i = cur_i;
        self.last_i = last_i;
        Ok(())
    }

    /// The currents `(applied, secant start)` of the committed state.
    pub(crate) fn currents(&self) -> (f64, f64) {
        (self.cur_i, self.last_i)
    }

    /// The current for `input` over a step of `dt_s` (solved for a voltage or power set-point).
    #[inline(always)]
    pub(crate) fn current_for(&mut self, input: Input, dt_s: f64) -> Result<f64, SimError> {
        if !(dt_s.is_finite() && dt_s > 0.0) {
            return Err(SimError::InvalidDt { dt_s });
        }
        let i = match input {
            Input::Current { current_a } => {
                if !current_a.is_finite() {
                    return Err(self.non_finite("current_a", current_a));
                }
                current_a
            }
            Input::Voltage { voltage_v } => {
                if !voltage_v.is_finite() {
                    return Err(self.non_finite("voltage_v", voltage_v));
                }
                self.solve_current(dt_s, "voltage", voltage_v, |_, v| v - voltage_v)?
            }
            Input::Power { power_w } => {
                if !power_w.is_finite() {
                    return Err(self.non_finite("power_w", power_w));
                }
                self.solve_current(dt_s, "power", power_w, |i, v| (i * v - power_w) / v.max(1e-3))?
            }
        };
        Ok(i)
    }

    pub(crate) fn commit(&mut self, state: State, ev: Eval, i: f64) {
        self.state = state;
        self.cur = ev;
        self.cur_i = i;
        self.last_i = i;
    }

    fn non_finite(&self, field: &'static str, value: f64) -> SimError {
        SimError::NonFiniteInput { field, value, t_s: self.state.time_s }
    }

    /// Secant iteration on the current so that `f(I, V_end(I)) = 0`.
    fn solve_current(
        &mut self,
        h: f64,
        mode: &'static str,
        target: f64,
        f: impl Fn(f64, f64) -> f64,
    ) -> Result<f64, SimError> {
        let fail = |t_s| SimError::NoSolution { mode, target, t_s };
        let t_s = self.state.time_s;
        let resid = |sim: &mut Self, i: f64| -> Result<f64, SimError> {
            let (s, ev) = sim.advance(i, h).map_err(|_| fail(t_s))?;
            let v = sim.make_output(&s, &ev, i).voltage_v;
            Ok(f(i, v))
        };
        let mut i0 = self.last_i;
        let mut f0 = resid(self, i0)?;
        let mut i1 = i0 + 1e-3 * (1.0 + i0.abs());
        let mut f1 = resid(self, i1)?;
        for _ in 0..50 {
            if f1.abs() < 1e-12 {
                return Ok(i1);
            }
            let d = f1 - f0;
            if d == 0.0 || !d.is_finite() {
                return Err(fail(t_s));
            }
            let i2 = i1 - f1 * (i1 - i0) / d;
            if !i2.is_finite() {
                return Err(fail(t_s));
            }
            (i0, f0) = (i1, f1);
            i1 = i2;
            f1 = resid(self, i1)?;
            if (i1 - i0).abs() < 1e-12 * (1.0 + i1.abs()) {
                return Ok(i1);
            }
        }
        Err(fail(t_s))
    }

    /// The parameters at `s` with current `i`.
    #[inline(always)]
    fn eval(&mut self, s: &State, i: f64) -> Result<Eval, SimError> {
        let (ocv, dudt) = self.ocv_dudt(s);
        self.eval_rc(s, i, ocv, dudt)
    }

    /// The OCV and dU/dT at `s` (independent of the current).
    #[inline(always)]
    fn ocv_dudt(&mut self, s: &State) -> (f64, f64) {
        let m = &*self.p.m;
        let h = &mut self.hints;
        let ocv = m.ocv.eval_hint(s.soc, s.t_cell_c, &mut h.ocv);
        (ocv, m.dudt.eval_hint(ocv, s.t_cell_c, &mut h.dudt))
    }

    /// As [`Simulator::eval`] with the OCV and dU/dT (which do not depend on the current) already known.
    #[inline(always)]
    fn eval_rc(&mut self, s: &State, i: f64, ocv: f64, dudt: f64) -> Result<Eval, SimError> {
        let (ev, ok) = self.eval_parts(s, i, ocv, dudt);
        if !ok {
            return Err(self.out_of_range(s, i, &ev));
        }
        Ok(ev)
    }

    /// As [`Simulator::eval`], with a flag (false when a value is unusable) instead of a `Result`.
    #[inline(always)]
    fn eval_all(&mut self, s: &State, i: f64) -> (Eval, bool) {
        let (ocv, dudt) = self.ocv_dudt(s);
        self.eval_parts(s, i, ocv, dudt)
    }

    /// As [`Simulator::eval_rc`], with a flag (false when a value is unusable) instead of a `Result`.
    #[inline(always)]
    fn eval_parts(&mut self, s: &State, i: f64, ocv: f64, dudt: f64) -> (Eval, bool) {
        let m = &*self.p.m;
        let h = &mut self.hints;
        // Slots R0, R1..R3, C1..C3: the constants, then every grid's tables at (T, I, SoC).
        let mut v = m.consts;
        for (g, (grid, dest)) in m.grids.iter().enumerate() {
            grid.eval_into(s.t_cell_c, i, s.soc, &mut h.grids[g], dest, &mut v);
        }
        let (k, inv_k) = (self.r_scale, self.inv_r_scale);
        let r0 = k * v[0];
        let mut ok = r0 >= 0.0 && r0.is_finite() && ocv.is_finite() && dudt.is_finite();
        // All MAX_RC pairs (unused slots are 0) so that the arrays stay in registers.
        let (mut r, mut c, mut tau) = ([0.0; MAX_RC], [0.0; MAX_RC], [0.0; MAX_RC]);
        for j in 0..MAX_RC {
            let (rj, cj) = (v[1 + j], v[1 + MAX_RC + j]);
            r[j] = k * rj;
            c[j] = cj * inv_k;
            tau[j] = rj * cj;
            ok &= j >= m.n_rc || (rj > 0.0 && cj > 0.0 && tau[j].is_finite());
        }
        (Eval { ocv, dudt, r0, r, c, tau }, ok)
    }

    #[cold]
    fn out_of_range(&self, s: &State, i: f64, ev: &Eval) -> SimError {
        const R: [&str; MAX_RC] = ["r1_ohm", "r2_ohm", "r3_ohm"];
        const C: [&str; MAX_RC] = ["c1_farad", "c2_farad", "c3_farad"];
        let (param, value) = if !(ev.r0 >= 0.0 && ev.r0.is_finite()) {
            ("r0_ohm", ev.r0)
        } else if !ev.ocv.is_finite() {
            ("ocv_v", ev.ocv)
        } else if !ev.dudt.is_finite() {
            ("dudt_v_per_k", ev.dudt)
        } else {
            let j = (0..self.p.n_rc()).find(|&j| !(ev.r[j] > 0.0 && ev.tau[j].is_finite())).unwrap_or(0);
            if ev.r[j] > 0.0 {
                (C[j], ev.c[j])
            } else {
                (R[j], ev.r[j])
            }
        };
        SimError::ParamOutOfRange { param, value, t_s: s.time_s, t_c: s.t_cell_c, current_a: i, soc: s.soc }
    }

    /// Advances the committed state by `h` at current `i` (parameters at the start of the step).
    fn advance(&mut self, i: f64, h: f64) -> Result<(State, Eval), SimError> {
        let (next, ev, ok) = self.advance_raw(i, h);
        if !ok {
            return Err(self.advance_error(i, next));
        }
        Ok((next, ev))
    }

    /// The error of a step that [`Simulator::advance_raw`] flagged, in the order the checks apply: the
    /// parameters at the start for a new current, the SoC range, the parameters at the end.
    #[cold]
    #[inline(never)]
    fn advance_error(&mut self, i: f64, next: State) -> SimError {
        let s = self.state;
        if i != self.cur_i {
            if let Err(e) = self.eval_rc(&s, i, self.cur.ocv, self.cur.dudt) {
                return e;
            }
        }
        let (min, max) = self.soc_range;
        let outside = SimError::SocOutsideTable { soc: next.soc, min, max };
        if !(next.soc >= min && next.soc <= max) {
            return outside;
        }
        self.eval(&next, i).err().unwrap_or(outside)
    }

    /// The end-of-step state and parameters for current `i` over `h`, and whether they are valid (usable
    /// parameters at the start and the end, SoC inside the OCV table). Commits nothing.
    #[inline(always)]
    fn advance_raw(&mut self, i: f64, h: f64) -> (State, Eval, bool) {
        let s = self.state;
        // `cur` is the evaluation at the committed state for `cur_i`: a new current changes only R and C.
        let (ev, ok_start) = if i == self.cur_i {
            (self.cur, true)
        } else {
            self.eval_parts(&s, i, self.cur.ocv, self.cur.dudt)
        };
        if h != self.prop.h {
            self.prop = ThermalProp::new(&self.p, h);
        }
        let n = self.p.m.n_rc;
        let mut next = s;
        let mut sum_mean = 0.0;
        // A constant trip count (unused pairs skipped) keeps the state arrays in registers.
        for j in 0..MAX_RC {
            if j >= n {
                continue;
            }
            let z = &mut self.zoh[j];
            if z.tau != ev.tau[j] || z.h != h {
                *z = Zoh::new(h, self.prop.inv_h, ev.tau[j]);
            }
            let v_inf = -i * ev.r[j];
            let dv = s.v_rc_v[j] - v_inf;
            next.v_rc_v[j] = v_inf + dv * z.decay;
            // Exact mean over the step: v_inf + dv·(1 − e^−x)/x.
            sum_mean += v_inf + dv * z.frac;
        }
        let raw = &*self.p.raw;
        let leak = self.leak_siemens * ev.ocv;
        let i_total = i + leak;
        next.soc = s.soc - i_total * h * self.inv_charge_as;
        let t_k = s.t_cell_c + KELVIN;
        let q = i * i * ev.r0 - i * sum_mean - i * t_k * ev.dudt + leak * ev.ocv;
        let ta = raw.thermal.t_amb_c;
        let (yc, yj) = (s.t_cell_c - ta, s.t_jig_c - ta);
        let e = &self.prop.e;
        next.t_cell_c = ta + e[0][0] * yc + e[0][1] * yj + self.prop.g[0] * q;
        next.t_jig_c = ta + e[1][0] * yc + e[1][1] * yj + self.prop.g[1] * q;
        next.time_s = s.time_s + h;
        let (min, max) = self.soc_range;
        let inside = next.soc >= min && next.soc <= max;
        let (ev_next, ok_end) = self.eval_all(&next, i);
        (next, ev_next, ok_start & inside & ok_end)
    }

    #[inline(always)]
    pub(crate) fn output_of(&self, s: &State, ev: &Eval, i: f64) -> Output {
        self.make_output(s, ev, i)
    }

    #[inline(always)]
    fn make_output(&self, s: &State, ev: &Eval, i: f64) -> Output {
        let n = self.p.m.n_rc;
        let v_r0 = -i * ev.r0;
        let mut v = ev.ocv + v_r0;
        let mut irr = i * i * ev.r0;
        for j in 0..MAX_RC {
            if j >= n {
                continue;
            }
            v += s.v_rc_v[j];
            irr -= i * s.v_rc_v[j];
        }
        let leak = self.leak_siemens * ev.ocv;
        let q = irr - i * (s.t_cell_c + KELVIN) * ev.dudt + leak * ev.ocv;
        Output {
            time_s: s.time_s,
            current_a: i,
            voltage_v: v,
            ocv_v: ev.ocv,
            soc: s.soc,
            v_r0_v: v_r0,
            v_rc_v: s.v_rc_v,
            r0_ohm: ev.r0,
            r_ohm: ev.r,
            c_farad: ev.c,
            t_cell_c: s.t_cell_c,
            t_jig_c: s.t_jig_c,
            q_gen_w: q,
            power_w: v * i,
        }
    }
}

impl ThermalProp {
    fn new(p: &CellValidParams, h: f64) -> Self {
        let th = &p.raw.thermal;
        let (cc, cj, k1, k2) =
            (th.c_cell_j_per_k, th.c_jig_j_per_k, th.k_cell_jig_w_per_k, th.k_jig_amb_w_per_k);
        let a = [[-k1 / cc, k1 / cc], [k1 / cj, -(k1 + k2) / cj]];
        let e = mat_fn(a, h, |l| (l * h).exp(), |l| h * (l * h).exp());
        let phi = |l: f64| {
            let x = l * h;
            if x.abs() < 1e-8 {
                h * (1.0 + 0.5 * x)
            } else {
                x.exp_m1() / l
            }
        };
        let dphi = |l: f64| {
            let x = l * h;
            if x.abs() < 1e-5 {
                h * h * (0.5 + x / 3.0)
            } else {
                (h * x.exp() * l - x.exp_m1()) / (l * l)
            }
        };
        let gm = mat_fn(a, h, phi, dphi);
        Self { h, inv_h: 1.0 / h, e, g: [gm[0][0] / cc, gm[1][0] / cc] }
    }
}

/// `f(A)` for a 2×2 matrix with real eigenvalues (Sylvester's formula; confluent form when they coincide).
fn mat_fn(a: [[f64; 2]; 2], h: f64, f: impl Fn(f64) -> f64, df: impl Fn(f64) -> f64) -> [[f64; 2]; 2] {
    let tr = a[0][0] + a[1][1];
    let disc2 = 0.25 * (a[0][0] - a[1][1]).powi(2) + a[0][1] * a[1][0];
    let disc = disc2.max(0.0).sqrt();
    let (l1, l2) = (0.5 * tr + disc, 0.5 * tr - disc);
    let id = [[1.0, 0.0], [0.0, 1.0]];
    let comb = |c0: f64, c1: f64| {
        // c0·I + c1·A
        [[c0 * id[0][0] + c1 * a[0][0], c1 * a[0][1]], [c1 * a[1][0], c0 * id[1][1] + c1 * a[1][1]]]
    };
    if (disc * h) > 1e-6 {
        // f(A) = [f(l1)(A − l2 I) − f(l2)(A − l1 I)] / (l1 − l2)
        let (f1, f2) = (f(l1), f(l2));
        let c1 = (f1 - f2) / (l1 - l2);
        let c0 = (f2 * l1 - f1 * l2) / (l1 - l2);
        comb(c0, c1)
    } else {
        let l = 0.5 * tr;
        let (fl, dl) = (f(l), df(l));
        comb(fl - dl * l, dl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::twin::CellParams;
    use approx::assert_relative_eq;

    #[test]
    fn thermal_propagator_matches_fine_euler() {
        let p = CellParams::ecm_example_const(4e-4, 6e-4, 5e4).check().unwrap();
        let prop = ThermalProp::new(&p, 7.0);
        // 1 W in the cell for 7 s from equilibrium, integrated with tiny RK4 steps.
        let (cc, cj, k1, k2) = (1000.0, 500.0, 10.0, 10.0);
        let f = |y: [f64; 2]| [(1.0 - k1 * (y[0] - y[1])) / cc, (k1 * (y[0] - y[1]) - k2 * y[1]) / cj];
        let mut y = [0.0, 0.0];
        let dt = 1e-3;
        for _ in 0..7000 {
            let a = f(y);
            let b = f([y[0] + 0.5 * dt * a[0], y[1] + 0.5 * dt * a[1]]);
            let c = f([y[0] + 0.5 * dt * b[0], y[1] + 0.5 * dt * b[1]]);
            let d = f([y[0] + dt * c[0], y[1] + dt * c[1]]);
            for k in 0..2 {
                y[k] += dt / 6.0 * (a[k] + 2.0 * b[k] + 2.0 * c[k] + d[k]);
            }
        }
        assert_relative_eq!(prop.g[0], y[0], max_relative = 1e-10);
        assert_relative_eq!(prop.g[1], y[1], max_relative = 1e-9);
    }

    #[test]
    fn zoh_series_matches_exp_m1() {
        // Steps from far below to above the series range, and time constants around it.
        for &x in &[1e-14, 1e-9, 1e-5, 1e-3, 0.0333, 0.07, 0.1, 0.125, 0.1250001, 0.5, 3.0, 40.0] {
            let (h, tau) = (1.0, 1.0 / x);
            let z = Zoh::new(h, 1.0 / h, tau);
            let em1 = (-x).exp_m1();
            assert_relative_eq!(z.decay, 1.0 + em1, max_relative = 4e-16);
            assert_relative_eq!(z.frac, -em1 / x, max_relative = 4e-16);
        }
    }

    #[test]
    fn degenerate_thermal_system_is_finite() {
        let mut raw = CellParams::ecm_example_const(4e-4, 6e-4, 5e4);
        raw.thermal.k_cell_jig_w_per_k = 0.0;
        raw.thermal.k_jig_amb_w_per_k = 0.0;
        let p = raw.check().unwrap();
        let prop = ThermalProp::new(&p, 2.0);
        assert_relative_eq!(prop.g[0], 2.0 / 1000.0, max_relative = 1e-12);
        assert_eq!(prop.g[1], 0.0);
        assert_relative_eq!(prop.e[0][0], 1.0);
    }

    #[test]
    fn cv_solves_for_the_current() {
        let p = CellParams::ecm_example().check().unwrap();
        let mut sim = Simulator::new(p, InitialState { soc: 0.5, temperature_c: None }).unwrap();
        let out = sim.step(Input::Voltage { voltage_v: 3.6 }, 1.0).unwrap();
        assert_relative_eq!(out.voltage_v, 3.6, epsilon = 1e-9);
        assert!(out.current_a > 0.0);
        let out = sim.step(Input::Power { power_w: -200.0 }, 1.0).unwrap();
        assert_relative_eq!(out.power_w, -200.0, epsilon = 1e-7);
        assert_eq!(sim.step(Input::Current { current_a: 1.0 }, 0.0).unwrap_err().code(), "invalid_dt");
        assert_eq!(sim.step(Input::Power { power_w: 1e9 }, 1.0).unwrap_err().code(), "no_solution");
    }

    #[test]
    fn autotraits() {
        fn ok<T: Send + Sync + Clone + std::fmt::Debug>() {}
        ok::<Simulator>();
        ok::<Output>();
    }
}
