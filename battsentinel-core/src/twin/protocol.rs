//! Test protocols (serde, TOML or JSON) and the batch runner [`simulate`].
//!
//! A protocol is a list of [`Step`]s run in order at a fixed output step `dt_s`. Each step ends at its
//! duration or at the first of its own cut-offs ([`Limits`]); the whole run ends at the cell's voltage
//! cut-offs (`v_min_v`/`v_max_v`, not applied during a voltage hold), at SoC 0 or 1, or at the protocol's
//! `limits`. Every cut-off is located inside the step (Illinois root finding on the sub-step length, to
//! 1e-9 s), so no trace overshoots it.
//!
//! ```toml
//! dt_s = 1.0
//! initial = { soc = 0.9999 }
//! [[steps]]
//! kind = "cc"
//! current_a = 100.0
//! duration_s = 7200.0
//! ```

use serde::{Deserialize, Serialize};

use super::model::{InitialState, Input, Output, Simulator};
use super::params::CellValidParams;
use super::trace::Trace;
use super::SimError;

/// Cut-off conditions. Every field is optional; a step ends at the first one met.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Ends when the terminal voltage falls to this (V).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voltage_below_v: Option<f64>,
    /// Ends when the terminal voltage rises to this (V).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voltage_above_v: Option<f64>,
    /// Ends when SoC falls to this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soc_below: Option<f64>,
    /// Ends when SoC rises to this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soc_above: Option<f64>,
    /// Ends when the cell temperature rises to this (°C).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature_above_c: Option<f64>,
    /// Ends when |current| falls to this (A) — the end of a CV hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_below_a: Option<f64>,
    /// Ends at this total simulated time (s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_s: Option<f64>,
}

/// Why a step or the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EndReason {
    /// The step ran its full duration (or the protocol completed).
    Duration,
    /// Voltage fell to a lower cut-off.
    VoltageBelow,
    /// Voltage rose to an upper cut-off.
    VoltageAbove,
    /// SoC fell to a limit.
    SocBelow,
    /// SoC rose to a limit.
    SocAbove,
    /// Temperature rose to a limit.
    TemperatureAbove,
    /// |Current| fell to a limit.
    CurrentBelow,
    /// The total time limit.
    Time,
}

/// A drive-cycle (time/current) table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Times (s), strictly increasing, starting anywhere (shifted to start at the step's start).
    pub time_s: Vec<f64>,
    /// Currents (A), positive = discharge.
    pub current_a: Vec<f64>,
}

impl Profile {
    /// Parses a `time,current` CSV such as PyBaMM's drive cycles (`#` lines and a header skipped).
    ///
    /// # Errors
    /// [`SimError::Params`] naming the line that does not parse.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::twin::Profile;
    /// let p = Profile::from_csv_str("# time [s],current [A]\n0,1\n1,2\n").unwrap();
    /// assert_eq!(p.current_a, vec![1.0, 2.0]);
    /// ```
    pub fn from_csv_str(text: &str) -> Result<Self, SimError> {
        let rows = super::table::parse_csv_rows("profile", text, 2)?;
        Ok(Self {
            time_s: rows.iter().map(|r| r[0]).collect(),
            current_a: rows.iter().map(|r| r[1]).collect(),
        })
    }

    /// Current at `t` (s from the profile start), linear between points, held after the end.
    fn current_at(&self, t: f64, hint: &mut usize) -> f64 {
        let t0 = self.time_s[0];
        let (i, w) = super::table::locate(&self.time_s, t + t0, hint);
        let w = w.clamp(0.0, 1.0);
        self.current_a[i] + w * (self.current_a[i + 1] - self.current_a[i])
    }

    fn duration_s(&self) -> f64 {
        self.time_s[self.time_s.len() - 1] - self.time_s[0]
    }
}

/// One protocol step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Step {
    /// Open circuit.
    Rest {
        /// Duration (s).
        duration_s: f64,
        /// Cut-offs.
        #[serde(default)]
        until: Limits,
    },
    /// Constant current (A, positive = discharge).
    Cc {
        /// Current (A).
        current_a: f64,
        /// Maximum duration (s).
        duration_s: f64,
        /// Cut-offs.
        #[serde(default)]
        until: Limits,
    },
    /// Constant voltage hold; the current is solved each step.
    Cv {
        /// Voltage (V).
        voltage_v: f64,
        /// Maximum duration (s).
        duration_s: f64,
        /// Cut-offs (typically `current_below_a`).
        #[serde(default)]
        until: Limits,
    },
    /// Constant current to `voltage_v`, then a hold at `voltage_v` until |I| ≤ `cutoff_current_a`.
    Cccv {
        /// CC current (A): negative charges, positive discharges.
        current_a: f64,
        /// CV voltage (V).
        voltage_v: f64,
        /// End-of-hold current (A, magnitude).
        cutoff_current_a: f64,
        /// Maximum duration of each phase (s).
        duration_s: f64,
    },
    /// Constant power (W, positive = discharge).
    Power {
        /// Power (W).
        power_w: f64,
        /// Maximum duration (s).
        duration_s: f64,
        /// Cut-offs.
        #[serde(default)]
        until: Limits,
    },
    /// `count` current pulses, each followed by a rest.
    Pulses {
        /// Pulse current (A).
        current_a: f64,
        /// Pulse length (s).
        pulse_s: f64,
        /// Rest after each pulse (s).
        rest_s: f64,
        /// Number of pulses.
        count: u32,
    },
    /// Hybrid pulse power characterisation: at each of `levels` SoC levels, a discharge pulse, a rest, a
    /// charge pulse, then a CC discharge of `soc_step` and a long rest.
    Hppc {
        /// Discharge pulse current (A).
        pulse_current_a: f64,
        /// Charge pulse current (A, negative).
        charge_pulse_current_a: f64,
        /// Pulse length (s).
        pulse_s: f64,
        /// Rest between the pulses (s).
        pulse_rest_s: f64,
        /// Current of the discharge between levels (A).
        discharge_current_a: f64,
        /// SoC removed between levels.
        soc_step: f64,
        /// Rest after each discharge (s).
        rest_s: f64,
        /// Number of levels.
        levels: u32,
    },
    /// A time/current table (drive cycle), linear between points.
    DriveCycle {
        /// The table.
        profile: Profile,
        /// Multiplier applied to the current.
        #[serde(default = "one")]
        scale: f64,
        /// Cut-offs.
        #[serde(default)]
        until: Limits,
    },
    /// The inner steps, `count` times.
    Repeat {
        /// Repetitions.
        count: u32,
        /// Steps.
        steps: Vec<Step>,
    },
}

fn one() -> f64 {
    1.0
}

fn default_dt() -> f64 {
    1.0
}

/// A test protocol: initial state, output step, steps and run-level cut-offs.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::Protocol;
/// let p: Protocol = toml::from_str(r#"
/// initial = { soc = 0.9 }
/// [[steps]]
/// kind = "cc"
/// current_a = 100.0
/// duration_s = 600.0
/// "#).unwrap();
/// assert_eq!(p.dt_s, 1.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// Output (and integration) step (s); default 1.
    #[serde(default = "default_dt")]
    pub dt_s: f64,
    /// Initial state.
    pub initial: InitialState,
    /// Run-level cut-offs (besides the cell's voltage cut-offs and SoC 0/1).
    #[serde(default)]
    pub limits: Limits,
    /// Steps, in order.
    pub steps: Vec<Step>,
}

impl Protocol {
    /// A constant-current discharge (or charge, for negative current) from `soc` to the cell's cut-offs,
    /// as PyBaMM's default experiment.
    pub fn constant_current(soc: f64, current_a: f64, max_duration_s: f64) -> Self {
        Self {
            dt_s: 1.0,
            initial: InitialState { soc, temperature_c: None },
            limits: Limits::default(),
            steps: vec![Step::Cc { current_a, duration_s: max_duration_s, until: Limits::default() }],
        }
    }
}

/// A flat step after expansion of the composite ones.
#[derive(Debug, Clone)]
enum Flat<'a> {
    Fixed {
        input: Input,
        duration_s: f64,
        until: Limits,
    },
    /// Constant current until `soc` has been removed (HPPC inter-level discharge).
    SocDrop {
        current_a: f64,
        soc: f64,
    },
    Drive {
        profile: &'a Profile,
        scale: f64,
        until: Limits,
    },
}

fn lim_v_above(v: f64) -> Limits {
    Limits { voltage_above_v: Some(v), ..Limits::default() }
}

fn lim_v_below(v: f64) -> Limits {
    Limits { voltage_below_v: Some(v), ..Limits::default() }
}

fn flatten<'a>(steps: &'a [Step], out: &mut Vec<Flat<'a>>) {
    for st in steps {
        let fixed = |i: Input, d: f64, u: Limits| Flat::Fixed { input: i, duration_s: d, until: u };
        let cc = |i: f64, d: f64, u: Limits| fixed(Input::Current { current_a: i }, d, u);
        match st {
            Step::Rest { duration_s, until } => out.push(cc(0.0, *duration_s, *until)),
            Step::Cc { current_a, duration_s, until } => out.push(cc(*current_a, *duration_s, *until)),
            Step::Cv { voltage_v, duration_s, until } => {
                out.push(fixed(Input::Voltage { voltage_v: *voltage_v }, *duration_s, *until))
            }
            Step::Power { power_w, duration_s, until } => {
                out.push(fixed(Input::Power { power_w: *power_w }, *duration_s, *until))
            }
            Step::Cccv { current_a, voltage_v, cutoff_current_a, duration_s } => {
                let u = if *current_a < 0.0 { lim_v_above(*voltage_v) } else { lim_v_below(*voltage_v) };
                out.push(cc(*current_a, *duration_s, u));
                let u = Limits { current_below_a: Some(cutoff_current_a.abs()), ..Limits::default() };
                out.push(fixed(Input::Voltage { voltage_v: *voltage_v }, *duration_s, u));
            }
            Step::Pulses { current_a, pulse_s, rest_s, count } => {
                for _ in 0..*count {
                    out.push(cc(*current_a, *pulse_s, Limits::default()));
                    out.push(cc(0.0, *rest_s, Limits::default()));
                }
            }
            Step::Hppc {
                pulse_current_a,
                charge_pulse_current_a,
                pulse_s,
                pulse_rest_s,
                discharge_current_a,
                soc_step,
                rest_s,
                levels,
            } => {
                for _ in 0..*levels {
                    out.push(cc(*pulse_current_a, *pulse_s, Limits::default()));
                    out.push(cc(0.0, *pulse_rest_s, Limits::default()));
                    out.push(cc(*charge_pulse_current_a, *pulse_s, Limits::default()));
                    out.push(cc(0.0, *pulse_rest_s, Limits::default()));
                    out.push(Flat::SocDrop { current_a: *discharge_current_a, soc: *soc_step });
                    out.push(cc(0.0, *rest_s, Limits::default()));
                }
            }
            Step::DriveCycle { profile, scale, until } => {
                out.push(Flat::Drive { profile, scale: *scale, until: *until })
            }
            Step::Repeat { count, steps } => {
                for _ in 0..*count {
                    flatten(steps, out);
                }
            }
        }
    }
}

/// One cut-off as a signed distance: `>= 0` inside, `< 0` crossed.
#[derive(Debug, Clone, Copy)]
struct Check {
    reason: EndReason,
    run_level: bool,
    threshold: f64,
}

impl Check {
    /// Signed distance of `o` from the cut-off: `>= 0` inside, `< 0` crossed.
    #[inline(always)]
    fn f(&self, o: &Output) -> f64 {
        let x = self.threshold;
        match self.reason {
            EndReason::VoltageBelow => o.voltage_v - x,
            EndReason::VoltageAbove => x - o.voltage_v,
            EndReason::SocBelow => o.soc - x,
            EndReason::SocAbove => x - o.soc,
            EndReason::TemperatureAbove => x - o.t_cell_c,
            EndReason::CurrentBelow => o.current_a.abs() - x,
            EndReason::Time => x - o.time_s,
            EndReason::Duration => 1.0,
        }
    }
}

/// The checks of a step folded into one interval per quantity, as a cheap per-row pre-test: a row is outside
/// when some check has `f(row) < 0` (the same comparisons as [`Check::f`]); only then is
/// [`first_crossing`] evaluated.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    v_lo: f64,
    v_hi: f64,
    soc_lo: f64,
    soc_hi: f64,
    t_hi: f64,
    i_lo: f64,
    time_hi: f64,
}

impl Bounds {
    fn of(checks: &[Check]) -> Self {
        let (lo, hi) = (f64::NEG_INFINITY, f64::INFINITY);
        let mut b = Self { v_lo: lo, v_hi: hi, soc_lo: lo, soc_hi: hi, t_hi: hi, i_lo: lo, time_hi: hi };
        for c in checks {
            // `f64::max`/`min` ignore a NaN threshold, as `Check::f` (a NaN distance is never `< 0`).
            let x = c.threshold;
            match c.reason {
                EndReason::VoltageBelow => b.v_lo = b.v_lo.max(x),
                EndReason::VoltageAbove => b.v_hi = b.v_hi.min(x),
                EndReason::SocBelow => b.soc_lo = b.soc_lo.max(x),
                EndReason::SocAbove => b.soc_hi = b.soc_hi.min(x),
                EndReason::TemperatureAbove => b.t_hi = b.t_hi.min(x),
                EndReason::CurrentBelow => b.i_lo = b.i_lo.max(x),
                EndReason::Time => b.time_hi = b.time_hi.min(x),
                EndReason::Duration => {}
            }
        }
        b
    }

    /// True when some check has `f(o) < 0` (`a − b < 0` exactly when `a < b` for finite values; a NaN
    /// quantity fails every comparison in both forms).
    #[inline(always)]
    fn outside(&self, o: &Output) -> bool {
        (o.voltage_v < self.v_lo)
            | (o.voltage_v > self.v_hi)
            | (o.soc < self.soc_lo)
            | (o.soc > self.soc_hi)
            | (o.t_cell_c > self.t_hi)
            | (o.current_a.abs() < self.i_lo)
            | (o.time_s > self.time_hi)
    }
}

fn checks_of(l: &Limits, run_level: bool, out: &mut Vec<Check>) {
    let mut add = |v: Option<f64>, reason| {
        if let Some(threshold) = v {
            out.push(Check { reason, run_level, threshold });
        }
    };
    add(l.voltage_below_v, EndReason::VoltageBelow);
    add(l.voltage_above_v, EndReason::VoltageAbove);
    add(l.soc_below, EndReason::SocBelow);
    add(l.soc_above, EndReason::SocAbove);
    add(l.temperature_above_c, EndReason::TemperatureAbove);
    add(l.current_below_a, EndReason::CurrentBelow);
    add(l.time_s, EndReason::Time);
}

/// Runs `protocol` on a cell and returns the trace (one row at t = 0, one per `dt_s`, one at each step end
/// and cut-off).
///
/// # Errors
/// [`SimError::InvalidDt`] for `dt_s` ≤ 0; [`SimError::SocOutsideTable`] for an initial SoC outside the OCV
/// table; [`SimError::InvalidProtocol`] for a negative duration, an empty or unsorted drive cycle;
/// any error of [`Simulator::step`].
///
/// # Examples
/// ```
/// use battsentinel_core::twin::{simulate, CellParams, Protocol};
/// let cell = CellParams::ecm_example_const(4e-4, 6e-4, 5e4).check().unwrap();
/// let trace = simulate(&cell, &Protocol::constant_current(0.9999, 100.0, 7200.0)).unwrap();
/// let t_end = *trace.time_s.last().unwrap();
/// assert!((t_end - 3556.96).abs() < 0.1); // PyBaMM: 3 556.96 s at 3.2 V
/// ```
pub fn simulate(params: &CellValidParams, protocol: &Protocol) -> Result<Trace, SimError> {
    let sim = Simulator::new(params.clone(), protocol.initial)?;
    run(sim, protocol)
}

/// As [`simulate`], writing into `trace` (cleared first) and reusing its columns' memory: repeated runs
/// (parameter sweeps, fitting) then allocate nothing.
///
/// # Errors
/// As [`simulate`]; on error `trace` holds the rows up to the failing step.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::{simulate, simulate_into, CellParams, Protocol, Trace};
/// let cell = CellParams::ecm_example_const(4e-4, 6e-4, 5e4).check().unwrap();
/// let protocol = Protocol::constant_current(0.9, 100.0, 600.0);
/// let mut trace = Trace::with_capacity(1, 0);
/// for _ in 0..2 {
///     simulate_into(&cell, &protocol, &mut trace).unwrap();
/// }
/// assert_eq!(trace, simulate(&cell, &protocol).unwrap());
/// ```
pub fn simulate_into(
    params: &CellValidParams,
    protocol: &Protocol,
    trace: &mut Trace,
) -> Result<(), SimError> {
    let sim = Simulator::new(params.clone(), protocol.initial)?;
    run_into(sim, protocol, trace)
}

/// As [`simulate`], from an existing simulator (its state is the initial state; `protocol.initial` is
/// ignored).
///
/// # Errors
/// As [`simulate`].
pub fn run(sim: Simulator, protocol: &Protocol) -> Result<Trace, SimError> {
    let mut trace = Trace::with_capacity(sim.params().n_rc(), 0);
    run_into(sim, protocol, &mut trace)?;
    Ok(trace)
}

fn run_into(mut sim: Simulator, protocol: &Protocol, trace: &mut Trace) -> Result<(), SimError> {
    let dt = protocol.dt_s;
    if !(dt.is_finite() && dt > 0.0) {
        return Err(SimError::InvalidDt { dt_s: dt });
    }
    let mut flat = Vec::new();
    flatten(&protocol.steps, &mut flat);
    let cell = sim.params().params();
    let capacity_ah = cell.capacity_ah;
    let mut run_checks = Vec::new();
    checks_of(&protocol.limits, true, &mut run_checks);
    let cell_v = Limits {
        voltage_below_v: Some(cell.v_min_v),
        voltage_above_v: Some(cell.v_max_v),
        soc_below: Some(0.0),
        soc_above: Some(1.0),
        ..Limits::default()
    };
    let (min_soc, max_soc) = sim.params().soc_range();
    // SoC 0 and 1 stop the run (as PyBaMM's events) only when the OCV table reaches them.
    let mut cell_checks = Vec::new();
    checks_of(&cell_v, true, &mut cell_checks);
    cell_checks.retain(|c| match c.reason {
        EndReason::SocBelow => min_soc <= 0.0,
        EndReason::SocAbove => max_soc >= 1.0,
        _ => true,
    });
    let est_rows = estimate_rows(&flat, dt, capacity_ah);
    trace.reset(sim.params().n_rc(), est_rows);
    let first = match flat.first() {
        Some(Flat::Fixed { input: Input::Current { current_a }, .. })
        | Some(Flat::SocDrop { current_a, .. }) => sim.output_at_current(*current_a)?,
        _ => sim.output(),
    };
    trace.push(&first, 0);
    // The last row is the committed state: rebuilt from the trace when a check needs it, so the rows are not
    // also copied into a `last` output every step.
    let mut t_last = first.time_s;
    let mut checks: Vec<Check> = Vec::with_capacity(16);
    for (k, st) in flat.iter().enumerate() {
        let (duration, until) = match st {
            Flat::SocDrop { current_a, soc } => {
                if !(*current_a > 0.0 && *soc >= 0.0) {
                    return Err(invalid(
                        k,
                        "discharge_current_a",
                        (current_a, soc),
                        "must be > 0 with soc_step >= 0",
                    ));
                }
                (soc * 3600.0 * capacity_ah / current_a, Limits::default())
            }
            Flat::Fixed { duration_s, until, .. } => (*duration_s, *until),
            Flat::Drive { profile, until, .. } => {
                check_profile(k, profile)?;
                (profile.duration_s(), *until)
            }
        };
        if !(duration.is_finite() && duration >= 0.0) {
            return Err(invalid(k, "duration_s", duration, "must be finite and >= 0"));
        }
        let is_cv = matches!(st, Flat::Fixed { input: Input::Voltage { .. }, .. });
        checks.clear();
        checks_of(&until, false, &mut checks);
        checks.extend(run_checks.iter().copied());
        checks.extend(
            cell_checks.iter().copied().filter(|c| {
                !(is_cv && matches!(c.reason, EndReason::VoltageBelow | EndReason::VoltageAbove))
            }),
        );
        // A run starting beyond a run-level cut-off stops at once (as PyBaMM refuses to start).
        let last = trace.last_output();
        if k == 0 {
            if let Some(c) = checks.iter().find(|c| c.run_level && c.f(&last) < 0.0) {
                trace.events.push(super::trace::Event { time_s: last.time_s, step: k, reason: c.reason });
                trace.end_reason = c.reason;
                return Ok(());
            }
        }
        // A step already at one of its own cut-offs is skipped (as a cycler would).
        if checks.iter().any(|c| !c.run_level && c.f(&last) <= 0.0) {
            continue;
        }
        let bounds = Bounds::of(&checks);
        let t_start = t_last;
        let t_end = t_start + duration;
        let mut hint = 0usize;
        let mut ended_run = false;
        while t_last < t_end - 1e-9 {
            let h = (t_end - t_last).min(dt);
            let h = if t_end - (t_last + h) < 1e-9 { t_end - t_last } else { h };
            let input = match st {
                Flat::Fixed { input, .. } => *input,
                Flat::SocDrop { current_a, .. } => Input::Current { current_a: *current_a },
                Flat::Drive { profile, scale, .. } => {
                    // Mean of the piecewise-linear current over the step (midpoint rule).
                    let tm = t_last - t_start + 0.5 * h;
                    Input::Current { current_a: scale * profile.current_at(tm, &mut hint) }
                }
            };
            // Step in place; a step that crosses a cut-off is undone and located inside.
            let (cur_i, last_i) = sim.currents();
            let i = sim.current_for(input, h)?;
            let out = sim.advance_output(i, h)?;
            let crossed =
                bounds.outside(&out) && first_crossing(&checks, &trace.last_output(), &out).is_some();
            if !crossed {
                trace.push(&out, k as u32);
                t_last = out.time_s;
                continue;
            }
            let last = trace.last_output();
            sim.restore(&last, cur_i, last_i)?;
            let (out, c) = locate_event(&mut sim, &checks, &last, input, h)?;
            trace.push(&out, k as u32);
            t_last = out.time_s;
            trace.events.push(super::trace::Event { time_s: out.time_s, step: k, reason: c.reason });
            ended_run = c.run_level;
            break;
        }
        if ended_run {
            trace.end_reason = trace.events.last().map_or(EndReason::Duration, |e| e.reason);
            return Ok(());
        }
    }
    trace.end_reason = EndReason::Duration;
    Ok(())
}

fn invalid(step: usize, field: &'static str, value: impl std::fmt::Debug, reason: &'static str) -> SimError {
    SimError::InvalidProtocol { step, field, value: format!("{value:?}"), reason }
}

fn check_profile(k: usize, p: &Profile) -> Result<(), SimError> {
    if p.time_s.len() < 2 || p.time_s.len() != p.current_a.len() {
        return Err(invalid(k, "profile", p.time_s.len(), "needs >= 2 rows and equal-length columns"));
    }
    if p.time_s.windows(2).any(|w| w[1].partial_cmp(&w[0]) != Some(std::cmp::Ordering::Greater))
        || p.current_a.iter().any(|v| !v.is_finite())
    {
        return Err(invalid(k, "profile.time_s", "", "times must be strictly increasing, currents finite"));
    }
    Ok(())
}

fn estimate_rows(flat: &[Flat], dt: f64, capacity_ah: f64) -> usize {
    let mut total = 0.0;
    for f in flat {
        total += match f {
            Flat::SocDrop { current_a, soc } if *current_a > 0.0 => soc * 3600.0 * capacity_ah / current_a,
            Flat::SocDrop { .. } => 0.0,
            Flat::Fixed { duration_s, .. } => duration_s.max(0.0),
            Flat::Drive { profile, .. } => profile.time_s.last().copied().unwrap_or(0.0),
        } / dt
            + 1.0;
    }
    (total.min(1e7) as usize).saturating_add(2)
}

fn first_crossing<'c>(checks: &'c [Check], before: &Output, after: &Output) -> Option<&'c Check> {
    checks.iter().find(|c| c.f(after) < 0.0 && c.f(before) >= 0.0)
}

/// Finds the earliest crossing inside a step of length `h` from the committed state `last`.
fn locate_event(
    sim: &mut Simulator,
    checks: &[Check],
    last: &Output,
    input: Input,
    h: f64,
) -> Result<(Output, Check), SimError> {
    // Earliest crossing over all checks that cross within h.
    let mut best: Option<(f64, Output, Check)> = None;
    let (s1, e1, i1) = sim.propose(input, h)?;
    let end = sim.output_of(&s1, &e1, i1);
    for c in checks.iter().filter(|c| c.f(&end) < 0.0 && c.f(last) >= 0.0) {
        let g = |sim: &mut Simulator, x: f64| -> Result<(f64, Output), SimError> {
            let (s, e, i) = sim.propose(input, x)?;
            let o = sim.output_of(&s, &e, i);
            Ok((c.f(&o), o))
        };
        // Illinois on [a, b] with g(a) >= 0 > g(b).
        let (mut a, mut ga) = (0.0, c.f(last));
        let (mut b, mut gb) = (h, c.f(&end));
        let mut ob = end;
        let mut side = 0i32;
        for _ in 0..100 {
            if b - a <= 1e-9 {
                break;
            }
            let mut x = (a * gb - b * ga) / (gb - ga);
            if !(x > a && x < b) {
                x = 0.5 * (a + b);
            }
            let (gx, ox) = g(sim, x)?;
            if gx < 0.0 {
                (b, gb, ob) = (x, gx, ox);
                if side == -1 {
                    ga *= 0.5;
                }
                side = -1;
            } else {
                (a, ga) = (x, gx);
                if side == 1 {
                    gb *= 0.5;
                }
                side = 1;
                if gx == 0.0 {
                    (b, ob) = (x, ox);
                    break;
                }
            }
        }
        if best.as_ref().is_none_or(|(t, _, _)| b < *t) {
            best = Some((b, ob, *c));
        }
    }
    let (b, _, c) = best.ok_or(SimError::InvalidDt { dt_s: h })?;
    let (s, e, i) = sim.propose(input, b)?;
    sim.commit(s, e, i);
    Ok((sim.output(), c))
}
