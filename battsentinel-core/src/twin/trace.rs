//! The columnar simulation result and its conversions (CSV with the PyBaMM trace columns, `BatteryLog`).

use serde::{Deserialize, Serialize};

use super::model::{Output, MAX_RC};
use super::protocol::EndReason;
use crate::data::{BatteryLog, Channel, StepKind};

/// A cut-off met during a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Time (s).
    pub time_s: f64,
    /// Index of the (expanded) protocol step.
    pub step: usize,
    /// Which cut-off.
    pub reason: EndReason,
}

/// A simulation trace in columns (one entry per row in every column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// Number of RC pairs (length of `v_rc_v`, `r_ohm`, `c_farad`).
    pub n_rc: usize,
    /// Time (s).
    pub time_s: Vec<f64>,
    /// Current (A), positive = discharge.
    pub current_a: Vec<f64>,
    /// Terminal voltage (V).
    pub voltage_v: Vec<f64>,
    /// OCV (V).
    pub ocv_v: Vec<f64>,
    /// SoC.
    pub soc: Vec<f64>,
    /// R0 overpotential (V).
    pub v_r0_v: Vec<f64>,
    /// RC voltages (V), one column per pair.
    pub v_rc_v: Vec<Vec<f64>>,
    /// R0 (Ω).
    pub r0_ohm: Vec<f64>,
    /// RC resistances (Ω), one column per pair.
    pub r_ohm: Vec<Vec<f64>>,
    /// RC capacitances (F), one column per pair.
    pub c_farad: Vec<Vec<f64>>,
    /// Cell temperature (°C).
    pub t_cell_c: Vec<f64>,
    /// Jig temperature (°C).
    pub t_jig_c: Vec<f64>,
    /// Heat generation (W).
    pub q_gen_w: Vec<f64>,
    /// Power (W).
    pub power_w: Vec<f64>,
    /// Protocol step index of each row.
    pub step: Vec<u32>,
    /// Cut-offs met, in order.
    pub events: Vec<Event>,
    /// Why the run ended.
    pub end_reason: EndReason,
}

impl Trace {
    /// An empty trace with room for `rows` rows.
    pub fn with_capacity(n_rc: usize, rows: usize) -> Self {
        let col = || Vec::with_capacity(rows);
        Self {
            n_rc,
            time_s: col(),
            current_a: col(),
            voltage_v: col(),
            ocv_v: col(),
            soc: col(),
            v_r0_v: col(),
            v_rc_v: (0..n_rc).map(|_| col()).collect(),
            r0_ohm: col(),
            r_ohm: (0..n_rc).map(|_| col()).collect(),
            c_farad: (0..n_rc).map(|_| col()).collect(),
            t_cell_c: col(),
            t_jig_c: col(),
            q_gen_w: col(),
            power_w: col(),
            step: Vec::with_capacity(rows),
            events: Vec::new(),
            end_reason: EndReason::Duration,
        }
    }

    /// Empties the trace for `n_rc` pairs and reserves `rows` rows, keeping the allocated columns.
    pub(crate) fn reset(&mut self, n_rc: usize, rows: usize) {
        self.n_rc = n_rc;
        for cols in [&mut self.v_rc_v, &mut self.r_ohm, &mut self.c_farad] {
            cols.resize_with(n_rc, Vec::new);
        }
        let mut cols: Vec<&mut Vec<f64>> = vec![
            &mut self.time_s,
            &mut self.current_a,
            &mut self.voltage_v,
            &mut self.ocv_v,
            &mut self.soc,
            &mut self.v_r0_v,
            &mut self.r0_ohm,
            &mut self.t_cell_c,
            &mut self.t_jig_c,
            &mut self.q_gen_w,
            &mut self.power_w,
        ];
        cols.extend(self.v_rc_v.iter_mut().chain(&mut self.r_ohm).chain(&mut self.c_farad));
        for c in cols {
            c.clear();
            c.reserve(rows);
        }
        self.step.clear();
        self.step.reserve(rows);
        self.events.clear();
        self.end_reason = EndReason::Duration;
    }

    /// Appends one row.
    #[inline(always)]
    pub fn push(&mut self, o: &Output, step: u32) {
        self.time_s.push(o.time_s);
        self.current_a.push(o.current_a);
        self.voltage_v.push(o.voltage_v);
        self.ocv_v.push(o.ocv_v);
        self.soc.push(o.soc);
        self.v_r0_v.push(o.v_r0_v);
        for j in 0..self.n_rc.min(MAX_RC) {
            self.v_rc_v[j].push(o.v_rc_v[j]);
            self.r_ohm[j].push(o.r_ohm[j]);
            self.c_farad[j].push(o.c_farad[j]);
        }
        self.r0_ohm.push(o.r0_ohm);
        self.t_cell_c.push(o.t_cell_c);
        self.t_jig_c.push(o.t_jig_c);
        self.q_gen_w.push(o.q_gen_w);
        self.power_w.push(o.power_w);
        self.step.push(step);
    }

    /// The last row as an [`Output`] (entries past `n_rc` are 0); the zero output when the trace is empty.
    pub(crate) fn last_output(&self) -> Output {
        let k = self.len().wrapping_sub(1);
        let at = |c: &Vec<f64>| c.get(k).copied().unwrap_or(0.0);
        let mut o = Output {
            time_s: at(&self.time_s),
            current_a: at(&self.current_a),
            voltage_v: at(&self.voltage_v),
            ocv_v: at(&self.ocv_v),
            soc: at(&self.soc),
            v_r0_v: at(&self.v_r0_v),
            v_rc_v: [0.0; MAX_RC],
            r0_ohm: at(&self.r0_ohm),
            r_ohm: [0.0; MAX_RC],
            c_farad: [0.0; MAX_RC],
            t_cell_c: at(&self.t_cell_c),
            t_jig_c: at(&self.t_jig_c),
            q_gen_w: at(&self.q_gen_w),
            power_w: at(&self.power_w),
        };
        for j in 0..self.n_rc.min(MAX_RC) {
            o.v_rc_v[j] = at(&self.v_rc_v[j]);
            o.r_ohm[j] = at(&self.r_ohm[j]);
            o.c_farad[j] = at(&self.c_farad[j]);
        }
        o
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.time_s.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.time_s.is_empty()
    }

    /// Column names, as the PyBaMM reference traces: `time_s,current_A,voltage_V,ocv_V,soc,v_r0_V,
    /// v_rc1_V,…,r0_ohm,r1_ohm,…,c1_F,…,t_cell_C,t_jig_C,q_gen_W,power_W`.
    pub fn columns(&self) -> Vec<String> {
        let mut c: Vec<String> = ["time_s", "current_A", "voltage_V", "ocv_V", "soc", "v_r0_V"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        c.extend((1..=self.n_rc).map(|j| format!("v_rc{j}_V")));
        c.push("r0_ohm".into());
        for j in 1..=self.n_rc {
            c.push(format!("r{j}_ohm"));
            c.push(format!("c{j}_F"));
        }
        c.extend(["t_cell_C", "t_jig_C", "q_gen_W", "power_W"].iter().map(|s| s.to_string()));
        c
    }

    /// Writes the trace as CSV with the [`Trace::columns`] header.
    ///
    /// # Errors
    /// Any error of the writer.
    pub fn write_csv<W: std::io::Write>(&self, mut w: W) -> std::io::Result<()> {
        writeln!(w, "{}", self.columns().join(","))?;
        for k in 0..self.len() {
            let mut row: Vec<f64> = vec![
                self.time_s[k],
                self.current_a[k],
                self.voltage_v[k],
                self.ocv_v[k],
                self.soc[k],
                self.v_r0_v[k],
            ];
            row.extend(self.v_rc_v.iter().map(|c| c[k]));
            row.push(self.r0_ohm[k]);
            for j in 0..self.n_rc {
                row.push(self.r_ohm[j][k]);
                row.push(self.c_farad[j][k]);
            }
            row.extend([self.t_cell_c[k], self.t_jig_c[k], self.q_gen_w[k], self.power_w[k]]);
            let line: Vec<String> = row.iter().map(|v| format!("{v}")).collect();
            writeln!(w, "{}", line.join(","))?;
        }
        Ok(())
    }

    /// The trace as a [`BatteryLog`]: time, voltage, current (positive = discharge), the cell temperature
    /// as channel `"cell"` (°C) and the jig as `"jig"`, step index and kind, cumulative charge/discharge
    /// capacity and energy; SoC, OCV and heat as extra channels.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::twin::{simulate, CellParams, Protocol};
    /// let cell = CellParams::ecm_example().check().unwrap();
    /// let log = simulate(&cell, &Protocol::constant_current(0.5, 100.0, 60.0)).unwrap().to_battery_log();
    /// assert!((log.discharge_capacity_ah.as_ref().unwrap()[60] - 100.0 / 60.0).abs() < 1e-9);
    /// ```
    pub fn to_battery_log(&self) -> BatteryLog {
        let n = self.len();
        let mut log = BatteryLog::with_time(self.time_s.clone());
        log.voltage_v = Some(self.voltage_v.clone());
        log.current_a = Some(self.current_a.clone());
        log.temperatures_c = vec![
            Channel::new("cell", "°C", self.t_cell_c.clone()),
            Channel::new("jig", "°C", self.t_jig_c.clone()),
        ];
        log.step_index = Some(self.step.iter().map(|s| Some(*s)).collect());
        log.step_kind = Some(
            self.current_a
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
        let (mut qc, mut qd, mut ec, mut ed) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        for k in 1..n {
            let dt = self.time_s[k] - self.time_s[k - 1];
            // Current held over the step (the value of the row that ends it); energy from the mean power.
            let i = self.current_a[k];
            let p = 0.5 * (self.voltage_v[k - 1] + self.voltage_v[k]) * i;
            let (dq, de) = (i * dt / 3600.0, p * dt / 3600.0);
            qd[k] = qd[k - 1] + dq.max(0.0);
            qc[k] = qc[k - 1] + (-dq).max(0.0);
            ed[k] = ed[k - 1] + de.max(0.0);
            ec[k] = ec[k - 1] + (-de).max(0.0);
        }
        log.charge_capacity_ah = Some(qc);
        log.discharge_capacity_ah = Some(qd);
        log.charge_energy_wh = Some(ec);
        log.discharge_energy_wh = Some(ed);
        log.extra = vec![
            Channel::new("soc", "", self.soc.clone()),
            Channel::new("ocv", "V", self.ocv_v.clone()),
            Channel::new("q_gen", "W", self.q_gen_w.clone()),
        ];
        log.meta.format = "battsentinel_twin".to_string();
        log.meta.current_sign = "positive = discharge (simulated)".to_string();
        log.quality.rows_read = n;
        log.quality.rows_kept = n;
        log
    }
}
