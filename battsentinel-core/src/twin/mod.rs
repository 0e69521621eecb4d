//! Digital twin: a Thevenin equivalent-circuit cell model equal to PyBaMM's
//! `pybamm.equivalent_circuit.Thevenin`, with 0–3 RC pairs, table parameters, entropic heat and a lumped
//! two-node (cell + jig) thermal model.
//!
//! - [`CellParams`] → [`CellParams::check`] → [`CellValidParams`]; [`CellParams::ecm_example`] is PyBaMM's
//!   `ECM_Example` set (tables embedded, BSD-3-Clause notice in `src/twin/data/LICENSE-PyBaMM.txt`).
//! - [`Simulator::step`] advances one sample (real-time use); [`simulate`] runs a [`Protocol`] and returns a
//!   columnar [`Trace`] with the columns of the PyBaMM reference traces.
//! - Identification: [`fit_hppc`] (OCV, R0, 1–2 RC pairs from an HPPC test), [`fit_eis`] (an
//!   `R0–(R1‖C1)–((R2–W)‖C2)` circuit from an impedance spectrum), [`fit_ageing`] and
//!   [`AgeingParams::project`] (capacity fade and resistance growth, SOH and end of life under a duty).
//!
//! Model (current `I` positive on discharge, temperatures in °C, `T_K = T + 273.15`):
//! - `dSoC/dt = −I / (3600·Q_Ah)`;
//! - `V = OCV(SoC[, T]) − I·R0(T, I, SoC) + Σ_j V_j`, `dV_j/dt = −V_j/(R_j C_j) − I/C_j`;
//! - heat `Q = I²·R0 − I·Σ_j V_j − I·T_K·dU/dT(OCV, T)` (W);
//! - `C_cell·dT_cell/dt = Q − k_cj·(T_cell − T_jig)`, `C_jig·dT_jig/dt = k_cj·(T_cell − T_jig) − k_ja·(T_jig − T_amb)`.
//!
//! Each step holds the current and the parameters at their start-of-step values and integrates the linear
//! RC, SoC and thermal equations exactly (zero-order hold); see [`Simulator`].

mod ageing;
mod eis;
mod ekf;
mod error;
pub mod faults;
mod hppc;
mod model;
mod pack;
mod params;
mod protocol;
mod table;
mod trace;

pub use ageing::{fit_ageing, AgeingFit, AgeingParams, AgeingPoint, AgeingProjection, DutyCycle};
pub use eis::{fit_eis, EisCircuit, EisFit, EisFitParams, Warburg};
pub use ekf::{Ekf, EkfParams, EkfSnapshot, SocEstimate};
pub use error::SimError;
pub use faults::{
    generate_labelled_logs, inject_sensor_fault, random_fault, simulate_fault, CyclingSchedule, Fault,
    FaultGenParams, FaultGenValidParams, FaultKind, LabelledLog, SensorChannel, SensorMode,
};
pub use hppc::{fit_hppc, HppcFit, HppcFitParams, HppcPoint};
pub use model::{InitialState, Input, Output, Simulator, State, MAX_RC};
pub use pack::{Pack, PackOutput, PackParams};
pub use params::{CellParams, CellValidParams, EntropicCoefficient, OcvTable, Param3, ThermalParams};
pub use protocol::{run, simulate, simulate_into, EndReason, Limits, Profile, Protocol, Step};
pub use table::{Table1, Table2, Table3};
pub use trace::{Event, Trace};
