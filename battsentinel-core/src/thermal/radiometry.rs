//! Radiometric conversion between raw sensor counts and object temperature.
//!
//! A FLIR camera is calibrated against black bodies so that a black body at absolute temperature `T` (K)
//! produces the raw signal
//!
//! ```text
//! S(T) = R1 / (R2 · (exp(B / T) − F)) − O          (counts)
//! T(S) = B / ln(R1 / (R2 · (S + O)) + F)             (inverse)
//! ```
//!
//! The signal reaching the sensor mixes the object with its surroundings. With emissivity `ε`, the path split
//! in two halves around an optional external IR window of transmission `W` (window emissivity `1 − W`, no
//! window reflection), and atmospheric transmissions `τ1` (object → window) and `τ2` (window → camera):
//!
//! ```text
//! S_meas = τ2 · [ W · ( τ1 · (ε·S_obj + (1−ε)·S_refl) + (1−τ1)·S_atm ) + (1−W)·S_win ] + (1−τ2)·S_atm
//! ```
//!
//! where `S_refl`, `S_atm`, `S_win` are the black-body signals of the reflected apparent, atmospheric and
//! window temperatures. The relation is linear in `S_obj`, so the model keeps `gain = ε·τ1·W·τ2` and the
//! additive `offset`, and `S_obj = (S_meas − offset) / gain`.
//!
//! Atmospheric transmission over a distance `d` (m) follows FLIR's two-band model with the water content of
//! the air `h = RH · exp(1.5587 + 0.06939·t − 0.00027816·t² + 0.00000068455·t³)` (`t` the air temperature in
//! °C, `RH` relative humidity as a fraction):
//!
//! ```text
//! τ(d) = X·exp(−√d·(α1 + β1·√h)) + (1 − X)·exp(−√d·(α2 + β2·√h))
//! ```
//!
//! with `τ1 = τ2 = τ(d/2)`.

use serde::{Deserialize, Serialize};

use super::ThermalError;

/// Offset between °C and K.
pub const ZERO_CELSIUS_K: f64 = 273.15;

/// Calibration constants of a camera's Planck curve (`R1`, `R2`, `B`, `F`, `O`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlanckConstants {
    /// `R1` (counts·R2 units).
    pub r1: f64,
    /// `R2`.
    pub r2: f64,
    /// `B` (K).
    pub b: f64,
    /// `F` (dimensionless, usually 1).
    pub f: f64,
    /// `O` (counts offset).
    pub o: f64,
}

impl PlanckConstants {
    /// Raw counts produced by a black body at `t_k` kelvin.
    pub fn raw_from_kelvin(&self, t_k: f64) -> f64 {
        self.r1 / (self.r2 * ((self.b / t_k).exp() - self.f)) - self.o
    }

    /// Black-body temperature (K) producing `raw` counts; NaN outside the calibration's domain.
    pub fn kelvin_from_raw(&self, raw: f64) -> f64 {
        let arg = self.r1 / (self.r2 * (raw + self.o)) + self.f;
        if arg > 1.0 && arg.is_finite() {
            self.b / arg.ln()
        } else {
            f64::NAN
        }
    }
}

/// Coefficients of FLIR's two-band atmospheric transmission model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AtmosphereConstants {
    /// `α1` (1/√m).
    pub alpha1: f64,
    /// `α2` (1/√m).
    pub alpha2: f64,
    /// `β1` (1/√(m·g/m³)).
    pub beta1: f64,
    /// `β2` (1/√(m·g/m³)).
    pub beta2: f64,
    /// Band weight `X`.
    pub x: f64,
}

impl Default for AtmosphereConstants {
    /// The values written by most FLIR cameras: α1 = 0.006569, α2 = 0.01262, β1 = −0.002276, β2 = −0.00667,
    /// X = 1.9.
    fn default() -> Self {
        AtmosphereConstants { alpha1: 0.006569, alpha2: 0.01262, beta1: -0.002276, beta2: -0.00667, x: 1.9 }
    }
}

/// Everything needed to convert raw counts to object temperature.
///
/// `check()` validates it into a [`RadiometricModel`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RadiometricParams {
    /// The camera's Planck constants.
    pub planck: PlanckConstants,
    /// Atmospheric transmission coefficients.
    pub atmosphere: AtmosphereConstants,
    /// Object emissivity, in (0, 1].
    pub emissivity: f64,
    /// Object distance (m), ≥ 0.
    pub object_distance_m: f64,
    /// Reflected apparent temperature (°C).
    pub reflected_temp_c: f64,
    /// Atmospheric temperature (°C).
    pub atmospheric_temp_c: f64,
    /// External IR window temperature (°C).
    pub ir_window_temp_c: f64,
    /// External IR window transmission, in (0, 1] (1 = no window).
    pub ir_window_transmission: f64,
    /// Relative humidity as a fraction in [0, 1].
    pub relative_humidity: f64,
}

impl RadiometricParams {
    /// Parameters for a camera with the given Planck constants and the usual scene defaults: emissivity 0.95,
    /// 1 m, reflected and atmospheric temperature 20 °C, no IR window, 50 % relative humidity, default
    /// atmosphere.
    pub fn with_planck(planck: PlanckConstants) -> Self {
        RadiometricParams {
            planck,
            atmosphere: AtmosphereConstants::default(),
            emissivity: 0.95,
            object_distance_m: 1.0,
            reflected_temp_c: 20.0,
            atmospheric_temp_c: 20.0,
            ir_window_temp_c: 20.0,
            ir_window_transmission: 1.0,
            relative_humidity: 0.5,
        }
    }

    /// Validates the parameters and precomputes the conversion.
    ///
    /// # Errors
    /// [`ThermalError::BadMetadata`] naming the first absurd value: non-finite numbers, emissivity or window
    /// transmission outside (0, 1], humidity outside [0, 1], negative or > 100 km distance, temperatures below
    /// absolute zero or above 2000 °C, Planck constants that are not positive or give no usable curve.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::thermal::{PlanckConstants, RadiometricParams};
    /// let planck = PlanckConstants { r1: 14985.93, r2: 0.011283217, b: 1398.1, f: 1.0, o: -6233.0 };
    /// let model = RadiometricParams::with_planck(planck).check().unwrap();
    /// let raw = model.raw_from_celsius(30.0);
    /// assert!((model.celsius_from_raw(raw) - 30.0).abs() < 1e-9);
    /// ```
    pub fn check(&self) -> Result<RadiometricModel, ThermalError> {
        let bad = |field: &'static str, value: f64, reason: &'static str| ThermalError::BadMetadata {
            field,
            value,
            reason,
        };
        let p = &self.planck;
        for (field, value) in [("planck_r1", p.r1), ("planck_r2", p.r2), ("planck_b", p.b)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(bad(field, value, "must be finite and > 0"));
            }
        }
        if !(p.f.is_finite() && (0.0..=10.0).contains(&p.f)) {
            return Err(bad("planck_f", p.f, "must be in [0, 10]"));
        }
        if !(p.o.is_finite() && p.o.abs() <= 1e6) {
            return Err(bad("planck_o", p.o, "must be finite, |O| <= 1e6"));
        }
        let a = &self.atmosphere;
        for (field, value) in [
            ("atmospheric_trans_alpha1", a.alpha1),
            ("atmospheric_trans_alpha2", a.alpha2),
            ("atmospheric_trans_beta1", a.beta1),
            ("atmospheric_trans_beta2", a.beta2),
            ("atmospheric_trans_x", a.x),
        ] {
            if !(value.is_finite() && value.abs() <= 100.0) {
                return Err(bad(field, value, "must be finite, |value| <= 100"));
            }
        }
        if !(self.emissivity.is_finite() && self.emissivity > 0.0 && self.emissivity <= 1.0) {
            return Err(bad("emissivity", self.emissivity, "must be in (0, 1]"));
        }
        if !(self.object_distance_m.is_finite() && (0.0..=1e5).contains(&self.object_distance_m)) {
            return Err(bad("object_distance_m", self.object_distance_m, "must be in [0, 100000] m"));
        }
        if !(self.ir_window_transmission.is_finite()
            && self.ir_window_transmission > 0.0
            && self.ir_window_transmission <= 1.0)
        {
            return Err(bad("ir_window_transmission", self.ir_window_transmission, "must be in (0, 1]"));
        }
        if !(self.relative_humidity.is_finite() && (0.0..=1.0).contains(&self.relative_humidity)) {
            return Err(bad("relative_humidity", self.relative_humidity, "must be a fraction in [0, 1]"));
        }
        for (field, value) in [
            ("reflected_temp_c", self.reflected_temp_c),
            ("atmospheric_temp_c", self.atmospheric_temp_c),
            ("ir_window_temp_c", self.ir_window_temp_c),
        ] {
            if !(value.is_finite() && value > -ZERO_CELSIUS_K && value <= 2000.0) {
                return Err(bad(field, value, "must be in (-273.15, 2000] °C"));
            }
        }
        let tau = atmospheric_transmission(
            &self.atmosphere,
            self.object_distance_m / 2.0,
            self.atmospheric_temp_c,
            self.relative_humidity,
        );
        if !(tau.is_finite() && tau > 0.0 && tau <= 1.5) {
            return Err(bad(
                "atmospheric_transmission",
                tau,
                "the atmosphere constants give no usable transmission",
            ));
        }
        let s_refl = p.raw_from_kelvin(self.reflected_temp_c + ZERO_CELSIUS_K);
        let s_atm = p.raw_from_kelvin(self.atmospheric_temp_c + ZERO_CELSIUS_K);
        let s_win = p.raw_from_kelvin(self.ir_window_temp_c + ZERO_CELSIUS_K);
        for (field, value) in
            [("reflected_temp_c", s_refl), ("atmospheric_temp_c", s_atm), ("ir_window_temp_c", s_win)]
        {
            if !value.is_finite() {
                return Err(bad(field, value, "the Planck curve gives no finite signal at this temperature"));
            }
        }
        let (e, w) = (self.emissivity, self.ir_window_transmission);
        let gain = e * tau * w * tau;
        let offset = tau * (w * (tau * (1.0 - e) * s_refl + (1.0 - tau) * s_atm) + (1.0 - w) * s_win)
            + (1.0 - tau) * s_atm;
        if !(gain.is_finite() && gain > 0.0 && offset.is_finite()) {
            return Err(bad("emissivity", e, "the scene parameters give no usable signal gain"));
        }
        Ok(RadiometricModel { planck: *p, gain, offset, transmission: tau * tau })
    }
}

/// FLIR's two-band atmospheric transmission over `distance_m`, air at `air_temp_c` °C and relative humidity
/// `relative_humidity` (fraction).
pub fn atmospheric_transmission(
    atmosphere: &AtmosphereConstants,
    distance_m: f64,
    air_temp_c: f64,
    relative_humidity: f64,
) -> f64 {
    let t = air_temp_c;
    let h2o =
        relative_humidity * (1.5587 + 0.06939 * t - 0.00027816 * t * t + 0.00000068455 * t * t * t).exp();
    let sd = distance_m.max(0.0).sqrt();
    let sh = h2o.sqrt();
    let a = atmosphere;
    a.x * (-sd * (a.alpha1 + a.beta1 * sh)).exp() + (1.0 - a.x) * (-sd * (a.alpha2 + a.beta2 * sh)).exp()
}

/// A validated, precomputed raw ↔ temperature conversion (see the module docs for the equations).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RadiometricModel {
    planck: PlanckConstants,
    gain: f64,
    offset: f64,
    transmission: f64,
}

impl RadiometricModel {
    /// Object temperature (°C) for a measured raw signal; NaN where the signal is outside the calibration's
    /// domain (for example a dead pixel reading 0).
    #[inline]
    pub fn celsius_from_raw(&self, raw: f64) -> f64 {
        let s_obj = (raw - self.offset) / self.gain;
        self.planck.kelvin_from_raw(s_obj) - ZERO_CELSIUS_K
    }

    /// The raw signal the camera would measure for an object at `t_c` °C (inverse of
    /// [`RadiometricModel::celsius_from_raw`]).
    pub fn raw_from_celsius(&self, t_c: f64) -> f64 {
        self.planck.raw_from_kelvin(t_c + ZERO_CELSIUS_K) * self.gain + self.offset
    }

    /// Total atmospheric transmission object → camera (`τ1·τ2`).
    pub fn transmission(&self) -> f64 {
        self.transmission
    }

    /// Linear gain from object signal to measured signal (`ε·τ1·W·τ2`).
    pub fn gain(&self) -> f64 {
        self.gain
    }

    /// Additive signal from the surroundings (reflected, atmosphere, window).
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// Converts 16-bit raw counts to °C through a lookup table over the occupied count range: one Planck
    /// evaluation per distinct count instead of per pixel.
    pub fn celsius_from_counts(&self, counts: &[u16]) -> Vec<f64> {
        let Some((lo, hi)) = count_range(counts) else {
            return Vec::new();
        };
        let lut: Vec<f64> = (lo..=hi).map(|c| self.celsius_from_raw(f64::from(c))).collect();
        counts.iter().map(|&c| lut[usize::from(c - lo)]).collect()
    }
}

/// Smallest and largest of `counts` (`None` if empty). The counts are compared as `i16` after flipping the sign
/// bit (an order-preserving map): baseline x86-64 has packed minimum and maximum for signed 16-bit integers
/// only, and the plain integer reduction vectorises.
pub(crate) fn count_range(counts: &[u16]) -> Option<(u16, u16)> {
    let signed = |c: u16| (c ^ 0x8000) as i16;
    let first = signed(*counts.first()?);
    let lo = counts.iter().fold(first, |m, &c| m.min(signed(c)));
    let hi = counts.iter().fold(first, |m, &c| m.max(signed(c)));
    let unsigned = |v: i16| (v as u16) ^ 0x8000;
    Some((unsigned(lo), unsigned(hi)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn e60() -> PlanckConstants {
        PlanckConstants {
            r1: 14985.9296875,
            r2: 0.011283216997981071,
            b: 1398.0999755859375,
            f: 1.0,
            o: -6233.0,
        }
    }

    #[test]
    fn blackbody_at_zero_distance_is_pure_planck() {
        let mut p = RadiometricParams::with_planck(e60());
        p.emissivity = 1.0;
        p.object_distance_m = 0.0;
        let m = p.check().unwrap();
        assert_relative_eq!(m.transmission(), 1.0, epsilon = 1e-12);
        let raw = e60().raw_from_kelvin(300.0);
        assert_relative_eq!(m.celsius_from_raw(raw), 300.0 - ZERO_CELSIUS_K, epsilon = 1e-9);
    }

    #[test]
    fn round_trip_with_window_and_atmosphere() {
        let mut p = RadiometricParams::with_planck(e60());
        p.emissivity = 0.87;
        p.object_distance_m = 12.0;
        p.ir_window_transmission = 0.9;
        p.ir_window_temp_c = 35.0;
        p.reflected_temp_c = -5.0;
        p.relative_humidity = 0.8;
        let m = p.check().unwrap();
        assert!(m.transmission() < 1.0 && m.transmission() > 0.8);
        for t in [-20.0, 0.0, 25.0, 60.0, 150.0] {
            assert_relative_eq!(m.celsius_from_raw(m.raw_from_celsius(t)), t, epsilon = 1e-8);
        }
    }

    #[test]
    fn e60_transmission_and_spot() {
        // FLIR E60 constants; 1 m, 20 °C air, 50 % RH: the two half paths give τ = 0.99146.
        let mut p = RadiometricParams::with_planck(e60());
        p.reflected_temp_c = 293.14 - ZERO_CELSIUS_K;
        let m = p.check().unwrap();
        assert_relative_eq!(m.transmission(), 0.991_461_5, epsilon = 1e-6);
        assert_relative_eq!(m.celsius_from_raw(17796.0), 21.10186, epsilon = 1e-4);
    }

    #[test]
    fn absurd_values_are_rejected() {
        let base = RadiometricParams::with_planck(e60());
        let cases: Vec<(&str, RadiometricParams)> = vec![
            ("emissivity", RadiometricParams { emissivity: 0.0, ..base }),
            ("emissivity", RadiometricParams { emissivity: f64::NAN, ..base }),
            ("relative_humidity", RadiometricParams { relative_humidity: 50.0, ..base }),
            ("object_distance_m", RadiometricParams { object_distance_m: -1.0, ..base }),
            ("reflected_temp_c", RadiometricParams { reflected_temp_c: -300.0, ..base }),
            ("planck_r1", RadiometricParams { planck: PlanckConstants { r1: 0.0, ..e60() }, ..base }),
            ("planck_b", RadiometricParams { planck: PlanckConstants { b: f64::INFINITY, ..e60() }, ..base }),
        ];
        for (field, p) in cases {
            match p.check() {
                Err(ThermalError::BadMetadata { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn lut_matches_direct() {
        let m = RadiometricParams::with_planck(e60()).check().unwrap();
        let counts = [17034u16, 20324, 17796, 17034];
        let t = m.celsius_from_counts(&counts);
        for (c, t) in counts.iter().zip(&t) {
            assert_eq!(*t, m.celsius_from_raw(f64::from(*c)));
        }
        assert!(m.celsius_from_counts(&[]).is_empty());
    }

    #[test]
    fn count_range_over_the_whole_u16_scale() {
        assert_eq!(count_range(&[]), None);
        assert_eq!(count_range(&[7]), Some((7, 7)));
        let v: Vec<u16> =
            (0..100u16).map(|i| i.wrapping_mul(40_503)).chain([0, u16::MAX, 32_767, 32_768]).collect();
        assert_eq!(count_range(&v), Some((0, u16::MAX)));
        assert_eq!(
            count_range(&v[1..40]),
            Some((*v[1..40].iter().min().unwrap(), *v[1..40].iter().max().unwrap()))
        );
    }
}
