//! Cell parameters of the Thevenin model: [`CellParams`] → [`CellParams::check`] → [`CellValidParams`].

use serde::{Deserialize, Serialize};

use std::sync::Arc;

use super::model::MAX_RC;
use super::table::{Grid3, Lin1, Lin2, Table1, Table2, Table3, MAX_SLOTS};
use crate::params::{positive, ParamError};

/// A resistance or capacitance: a constant, or a table over (temperature °C, current A, SoC).
///
/// In TOML either `r0_ohm = 0.0004` or `r0_ohm = { t_c = [..], current_a = [..], soc = [..], values = [..] }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Param3 {
    /// A constant value (Ω or F).
    Const(f64),
    /// A trilinear table over (T °C, I A, SoC).
    Table(Table3),
}

impl Param3 {
    /// Value at (T °C, I A, SoC).
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::twin::Param3;
    /// assert_eq!(Param3::Const(0.001).eval(25.0, 10.0, 0.5), 0.001);
    /// ```
    pub fn eval(&self, t_c: f64, current_a: f64, soc: f64) -> f64 {
        match self {
            Param3::Const(v) => *v,
            Param3::Table(t) => t.eval(t_c, current_a, soc),
        }
    }

    fn check_positive(&self, name: &str, allow_zero: bool) -> Result<(), ParamError> {
        let bad = |v: f64| !v.is_finite() || v < 0.0 || (!allow_zero && v == 0.0);
        let reason = if allow_zero { "must be finite and >= 0" } else { "must be finite and > 0" };
        match self {
            Param3::Const(v) if bad(*v) => Err(ParamError::invalid(name, v, reason)),
            Param3::Const(_) => Ok(()),
            Param3::Table(t) => {
                t.check(name)?;
                match t.values.iter().find(|v| bad(**v)) {
                    Some(v) => Err(ParamError::invalid(name, v, reason)),
                    None => Ok(()),
                }
            }
        }
    }
}

/// Open-circuit voltage as a function of SoC, optionally also of temperature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OcvTable {
    /// SoC breakpoints (fraction), strictly increasing.
    pub soc: Vec<f64>,
    /// Optional temperature axis (°C), strictly increasing. When set, `ocv_v` is temperature-major:
    /// `ocv_v[it * soc.len() + is]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_c: Option<Vec<f64>>,
    /// OCV values (V).
    pub ocv_v: Vec<f64>,
}

/// Entropic coefficient dU/dT (V/K): a constant or a table over (OCV V, T °C) as PyBaMM's ECM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EntropicCoefficient {
    /// A constant (V/K); `0` disables reversible heat.
    Const(f64),
    /// A bilinear table: `x1` = OCV (V), `x2` = temperature (°C).
    Table(Table2),
}

/// The lumped two-node thermal model: cell and jig, jig to ambient.
///
/// `C_cell·dT_cell/dt = Q − k_cj·(T_cell − T_jig)`, `C_jig·dT_jig/dt = k_cj·(T_cell − T_jig) − k_ja·(T_jig − T_amb)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThermalParams {
    /// Cell heat capacity (J/K).
    pub c_cell_j_per_k: f64,
    /// Jig heat capacity (J/K).
    pub c_jig_j_per_k: f64,
    /// Cell–jig conductance (W/K).
    pub k_cell_jig_w_per_k: f64,
    /// Jig–ambient conductance (W/K).
    pub k_jig_amb_w_per_k: f64,
    /// Ambient temperature (°C).
    pub t_amb_c: f64,
}

impl Default for ThermalParams {
    /// PyBaMM's `ECM_Example`: 1000 J/K, 500 J/K, 10 W/K, 10 W/K, 25 °C.
    fn default() -> Self {
        Self {
            c_cell_j_per_k: 1000.0,
            c_jig_j_per_k: 500.0,
            k_cell_jig_w_per_k: 10.0,
            k_jig_amb_w_per_k: 10.0,
            t_amb_c: 25.0,
        }
    }
}

/// Parameters of a Thevenin equivalent-circuit cell with 0–3 RC pairs (unchecked; see [`CellParams::check`]).
///
/// Terminal voltage `V = OCV(SoC[, T]) − I·R0 + Σ V_j`, `dV_j/dt = −V_j/(R_j C_j) − I/C_j`,
/// `dSoC/dt = −I/(3600·Q)`; heat `Q = I²R0 − I·ΣV_j − I·T_K·dU/dT`. Current positive on discharge.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::CellParams;
/// let p = CellParams::ecm_example();
/// assert_eq!(p.capacity_ah, 100.0);
/// let valid = p.check().unwrap();
/// assert_eq!(valid.n_rc(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellParams {
    /// Capacity (Ah).
    pub capacity_ah: f64,
    /// OCV table.
    pub ocv: OcvTable,
    /// Series resistance R0 (Ω).
    pub r0_ohm: Param3,
    /// First RC pair resistance (Ω); set together with `c1_farad`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r1_ohm: Option<Param3>,
    /// First RC pair capacitance (F).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c1_farad: Option<Param3>,
    /// Second RC pair resistance (Ω).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r2_ohm: Option<Param3>,
    /// Second RC pair capacitance (F).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c2_farad: Option<Param3>,
    /// Third RC pair resistance (Ω).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r3_ohm: Option<Param3>,
    /// Third RC pair capacitance (F).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c3_farad: Option<Param3>,
    /// Entropic coefficient dU/dT (V/K); default 0.
    #[serde(default = "zero_entropic")]
    pub dudt_v_per_k: EntropicCoefficient,
    /// Thermal model.
    #[serde(default)]
    pub thermal: ThermalParams,
    /// Lower voltage cut-off (V): the simulation stops there.
    pub v_min_v: f64,
    /// Upper voltage cut-off (V): the simulation stops there.
    pub v_max_v: f64,
}

fn zero_entropic() -> EntropicCoefficient {
    EntropicCoefficient::Const(0.0)
}

/// The `ECM_Example` tables as arrays, generated from the CSV files in `data/` (no parsing at run time).
#[rustfmt::skip]
#[path = "data/ecm_example.rs"]
mod ecm_example;

fn ecm_table3(values: &[f64]) -> Table3 {
    Table3 {
        t_c: ecm_example::RC_T_C.to_vec(),
        current_a: ecm_example::RC_CURRENT_A.to_vec(),
        soc: ecm_example::RC_SOC.to_vec(),
        values: values.to_vec(),
    }
}

impl CellParams {
    /// PyBaMM's `ECM_Example` parameter set (`pybamm/input/parameters/ecm/example_set.py`, PyBaMM 26.10,
    /// BSD-3-Clause; the tables are embedded): 100 Ah, OCV table of 110 points, R0/R1/C1 tables over
    /// (T, I, SoC), dU/dT table over (OCV, T), 1000/500 J/K, 10/10 W/K, 25 °C, cut-offs 3.2–4.2 V.
    pub fn ecm_example() -> Self {
        Self {
            r0_ohm: Param3::Table(ecm_table3(&ecm_example::R0_OHM)),
            r1_ohm: Some(Param3::Table(ecm_table3(&ecm_example::R1_OHM))),
            c1_farad: Some(Param3::Table(ecm_table3(&ecm_example::C1_FARAD))),
            dudt_v_per_k: EntropicCoefficient::Table(Table2 {
                x1: ecm_example::DUDT_OCV_V.to_vec(),
                x2: ecm_example::DUDT_T_C.to_vec(),
                values: ecm_example::DUDT_V_PER_K.to_vec(),
            }),
            ..Self::ecm_example_const(0.0, 0.0, 0.0)
        }
    }

    /// `ECM_Example` with constant R0, R1, C1 and no entropic heat (the `pybamm_thevenin_1C_constparams`
    /// configuration when called with 0.4 mΩ, 0.6 mΩ, 50 kF).
    pub fn ecm_example_const(r0_ohm: f64, r1_ohm: f64, c1_farad: f64) -> Self {
        Self {
            capacity_ah: 100.0,
            ocv: OcvTable {
                soc: ecm_example::OCV_SOC.to_vec(),
                t_c: None,
                ocv_v: ecm_example::OCV_V.to_vec(),
            },
            r0_ohm: Param3::Const(r0_ohm),
            r1_ohm: Some(Param3::Const(r1_ohm)),
            c1_farad: Some(Param3::Const(c1_farad)),
            r2_ohm: None,
            c2_farad: None,
            r3_ohm: None,
            c3_farad: None,
            dudt_v_per_k: EntropicCoefficient::Const(0.0),
            thermal: ThermalParams::default(),
            v_min_v: 3.2,
            v_max_v: 4.2,
        }
    }

    /// The RC pairs as `(R, C)`, in order.
    fn rc_pairs(&self) -> Result<Vec<(&Param3, &Param3)>, ParamError> {
        let slots = [
            (&self.r1_ohm, &self.c1_farad, 1),
            (&self.r2_ohm, &self.c2_farad, 2),
            (&self.r3_ohm, &self.c3_farad, 3),
        ];
        let mut out = Vec::new();
        let mut gap = false;
        for (r, c, j) in slots {
            match (r, c) {
                (Some(r), Some(c)) if !gap => {
                    r.check_positive(&format!("r{j}_ohm"), false)?;
                    c.check_positive(&format!("c{j}_farad"), false)?;
                    out.push((r, c));
                }
                (None, None) => gap = true,
                (Some(_), Some(_)) => {
                    return Err(ParamError::Inconsistent {
                        reason: format!("RC pair {j} is set but pair {} is not", j - 1),
                    })
                }
                _ => {
                    return Err(ParamError::Inconsistent {
                        reason: format!("r{j}_ohm and c{j}_farad must be set together"),
                    })
                }
            }
        }
        Ok(out)
    }

    fn validate(self) -> Result<CellValidParams, ParamError> {
        positive("capacity_ah", self.capacity_ah)?;
        let ocv = match &self.ocv.t_c {
            None => {
                let t = Table1 { x: self.ocv.soc.clone(), y: self.ocv.ocv_v.clone() };
                t.check("ocv.soc")?;
                Ocv::Soc(Lin1::new(&t))
            }
            Some(t_c) => {
                let t = Table2 { x1: t_c.clone(), x2: self.ocv.soc.clone(), values: self.ocv.ocv_v.clone() };
                t.check("ocv.soc")?;
                Ocv::SocT(Lin2::new(&t))
            }
        };
        self.r0_ohm.check_positive("r0_ohm", true)?;
        let rc = self.rc_pairs()?;
        let dudt = match &self.dudt_v_per_k {
            EntropicCoefficient::Const(v) if !v.is_finite() => {
                return Err(ParamError::invalid("dudt_v_per_k", v, "must be finite"))
            }
            EntropicCoefficient::Const(v) => Dudt::Const(*v),
            EntropicCoefficient::Table(t) => {
                t.check("dudt_v_per_k")?;
                Dudt::Table(Lin2::new(t))
            }
        };
        let th = &self.thermal;
        positive("thermal.c_cell_j_per_k", th.c_cell_j_per_k)?;
        positive("thermal.c_jig_j_per_k", th.c_jig_j_per_k)?;
        for (name, v) in [
            ("thermal.k_cell_jig_w_per_k", th.k_cell_jig_w_per_k),
            ("thermal.k_jig_amb_w_per_k", th.k_jig_amb_w_per_k),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(ParamError::invalid(name, v, "must be finite and >= 0"));
            }
        }
        if !th.t_amb_c.is_finite() || th.t_amb_c <= -273.15 {
            return Err(ParamError::invalid("thermal.t_amb_c", th.t_amb_c, "must be finite and above 0 K"));
        }
        if !(self.v_min_v.is_finite() && self.v_max_v.is_finite() && self.v_min_v < self.v_max_v) {
            return Err(ParamError::invalid(
                "v_min_v",
                (self.v_min_v, self.v_max_v),
                "cut-offs must be finite with v_min_v < v_max_v",
            ));
        }
        // R0, R1..R3, C1..C3 in slots 0, 1..3, 4..6; tables on identical axes share one interleaved grid (one
        // lookup per step for all of them).
        let mut slots: [Option<&Param3>; MAX_SLOTS] = [None; MAX_SLOTS];
        slots[0] = Some(&self.r0_ohm);
        for (j, (r, c)) in rc.iter().enumerate() {
            slots[1 + j] = Some(r);
            slots[1 + MAX_RC + j] = Some(c);
        }
        let mut consts = [0.0; MAX_SLOTS];
        let mut groups: Vec<(&Table3, Vec<(usize, &Table3)>)> = Vec::new();
        for (d, slot) in slots.iter().enumerate() {
            match slot {
                Some(Param3::Const(v)) => consts[d] = *v,
                Some(Param3::Table(t)) => match groups.iter_mut().find(|(g, _)| g.same_grid(t)) {
                    Some((_, members)) => members.push((d, t)),
                    None => groups.push((t, vec![(d, t)])),
                },
                None => {}
            }
        }
        let grids = groups
            .iter()
            .map(|(axes, members)| {
                let tables: Vec<&Table3> = members.iter().map(|(_, t)| *t).collect();
                let mut dest = [0; MAX_SLOTS];
                for (q, (d, _)) in members.iter().enumerate() {
                    dest[q] = *d;
                }
                (Grid3::new(axes, &tables), dest)
            })
            .collect();
        let n_rc = rc.len();
        let model = Model { ocv, dudt, n_rc, consts, grids };
        Ok(CellValidParams { raw: Arc::new(self), m: Arc::new(model) })
    }
}

/// The compiled OCV.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ocv {
    Soc(Lin1),
    SocT(Lin2),
}

impl Ocv {
    pub(crate) fn soc_range(&self) -> (f64, f64) {
        let s = match self {
            Ocv::Soc(t) => t.axis().points(),
            Ocv::SocT(t) => t.axis2().points(),
        };
        (s[0], s[s.len() - 1])
    }

    /// OCV (V) at (SoC, T °C), searching from `hint`.
    #[inline(always)]
    pub(crate) fn eval_hint(&self, soc: f64, t_c: f64, hint: &mut [usize; 2]) -> f64 {
        match self {
            Ocv::Soc(t) => t.eval_hint(soc, &mut hint[0]),
            Ocv::SocT(t) => t.eval_hint(t_c, soc, hint),
        }
    }
}

/// The compiled entropic coefficient.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Dudt {
    Const(f64),
    Table(Lin2),
}

impl Dudt {
    /// dU/dT (V/K) at (OCV V, T °C), searching from `hint`.
    #[inline(always)]
    pub(crate) fn eval_hint(&self, ocv: f64, t_c: f64, hint: &mut [usize; 2]) -> f64 {
        match self {
            Dudt::Const(v) => *v,
            Dudt::Table(t) => t.eval_hint(ocv, t_c, hint),
        }
    }
}

/// The compiled model: tables with reciprocal segment widths, the R/C tables interleaved on shared grids.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Model {
    pub(crate) ocv: Ocv,
    pub(crate) dudt: Dudt,
    pub(crate) n_rc: usize,
    /// Constant values of the slots R0, R1..R3, C1..C3 (0 where a table gives the value).
    pub(crate) consts: [f64; MAX_SLOTS],
    /// The grids and, per table on a grid, its slot.
    pub(crate) grids: Vec<(Grid3, [usize; MAX_SLOTS])>,
}

/// Validated cell parameters, ready to simulate. Obtain with [`CellParams::check`]. Cloning is cheap: the
/// parameters are shared, not copied.
#[derive(Debug, Clone, PartialEq)]
pub struct CellValidParams {
    pub(crate) raw: Arc<CellParams>,
    pub(crate) m: Arc<Model>,
}

impl CellValidParams {
    /// Number of RC pairs (0–3).
    pub fn n_rc(&self) -> usize {
        self.m.n_rc
    }

    /// The unchecked parameters these were built from.
    pub fn params(&self) -> &CellParams {
        &self.raw
    }

    /// The SoC range covered by the OCV table.
    pub fn soc_range(&self) -> (f64, f64) {
        self.m.ocv.soc_range()
    }
}

impl CellParams {
    /// Validates and compiles the parameters.
    ///
    /// # Errors
    /// [`ParamError`] naming the first bad parameter: negative or zero capacitance/capacity, negative
    /// resistance, unsorted or non-finite tables, RC resistance and capacitance not set together, cut-offs
    /// out of order.
    pub fn check(self) -> Result<CellValidParams, ParamError> {
        self.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecm_example_matches_the_documented_values() {
        let p = CellParams::ecm_example();
        // README: at 20 °C and SoC 0.5, R0 0.454–0.473 mΩ, R1 0.682–0.709 mΩ, C1 42–44 kF.
        let r0 = p.r0_ohm.eval(20.0, 100.0, 0.5);
        assert!((0.454e-3..=0.473e-3).contains(&r0), "{r0}");
        let r1 = p.r1_ohm.as_ref().unwrap().eval(20.0, 100.0, 0.5);
        assert!((0.682e-3..=0.709e-3).contains(&r1), "{r1}");
        let c1 = p.c1_farad.as_ref().unwrap().eval(20.0, 100.0, 0.5);
        assert!((42e3..=44e3).contains(&c1), "{c1}");
        let v = p.check().unwrap();
        assert_eq!(v.m.grids.len(), 1, "R0, R1, C1 share one grid");
        assert_eq!(v.soc_range(), (-0.05, 1.0400000000000003));
    }

    #[test]
    fn bad_parameters_are_typed_errors() {
        let mut p = CellParams::ecm_example_const(4e-4, 6e-4, -5.0);
        let e = p.clone().check().unwrap_err();
        assert!(e.to_string().contains("c1_farad"), "{e}");
        p.c1_farad = Some(Param3::Const(5e4));
        p.ocv.soc.swap(3, 4);
        assert!(p.clone().check().unwrap_err().to_string().contains("sorted"));
        let mut q = CellParams::ecm_example_const(4e-4, 6e-4, 5e4);
        q.c1_farad = None;
        assert_eq!(q.check().unwrap_err().code(), "inconsistent_params");
    }

    #[test]
    fn serde_round_trip_toml_and_json() {
        let p = CellParams::ecm_example_const(4e-4, 6e-4, 5e4);
        let s = toml::to_string(&p).unwrap();
        let back = toml::from_str::<CellParams>(&s).unwrap();
        // The toml crate's float parser is not always correctly rounded: compare to 1 ulp-ish.
        assert_eq!(back.r1_ohm, p.r1_ohm);
        for (a, b) in back.ocv.ocv_v.iter().chain(&back.ocv.soc).zip(p.ocv.ocv_v.iter().chain(&p.ocv.soc)) {
            assert!((a - b).abs() <= 1e-15 * b.abs().max(1e-3), "{a} {b}");
        }
        // serde_json's default float parser is not correctly rounded either (no `float_roundtrip`).
        let e = CellParams::ecm_example();
        let j: CellParams = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        let (a, b) = (j.r0_ohm.eval(23.0, 57.0, 0.33), e.r0_ohm.eval(23.0, 57.0, 0.33));
        assert!((a - b).abs() <= 1e-15 * b);
        assert_eq!(j.ocv.soc.len(), e.ocv.soc.len());
    }

    #[test]
    fn embedded_arrays_equal_the_csv_files() {
        use crate::twin::table::parse_csv_rows;
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<u64>>();
        let e = CellParams::ecm_example();
        let ocv = Table1::from_csv_str("ocv", include_str!("data/ecm_example_ocv.csv")).unwrap();
        assert_eq!(bits(&e.ocv.soc), bits(&ocv.x));
        assert_eq!(bits(&e.ocv.ocv_v), bits(&ocv.y));
        let rows = parse_csv_rows("dudt", include_str!("data/ecm_example_dudt.csv"), 3).unwrap();
        let rows: Vec<[f64; 3]> = rows.iter().map(|r| [r[0], r[1], r[2]]).collect();
        let dudt = Table2::from_rows("dudt", &rows).unwrap();
        let EntropicCoefficient::Table(t) = &e.dudt_v_per_k else { panic!("dU/dT is a table") };
        assert_eq!(
            (bits(&t.x1), bits(&t.x2), bits(&t.values)),
            (bits(&dudt.x1), bits(&dudt.x2), bits(&dudt.values))
        );
        let csv3 = [
            include_str!("data/ecm_example_r0.csv"),
            include_str!("data/ecm_example_r1.csv"),
            include_str!("data/ecm_example_c1.csv"),
        ];
        let params = [Some(&e.r0_ohm), e.r1_ohm.as_ref(), e.c1_farad.as_ref()];
        for (text, p) in csv3.iter().zip(params) {
            let rows = parse_csv_rows("rc", text, 4).unwrap();
            let rows: Vec<[f64; 4]> = rows.iter().map(|r| [r[0], r[1], r[2], r[3]]).collect();
            let csv = Table3::from_rows("rc", &rows).unwrap();
            let Some(Param3::Table(t)) = p else { panic!("R0, R1, C1 are tables") };
            assert_eq!(bits(&t.t_c), bits(&csv.t_c));
            assert_eq!(bits(&t.current_a), bits(&csv.current_a));
            assert_eq!(bits(&t.soc), bits(&csv.soc));
            assert_eq!(bits(&t.values), bits(&csv.values));
        }
    }
}
