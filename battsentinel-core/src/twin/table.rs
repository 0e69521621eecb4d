//! Linear interpolation tables in one, two and three dimensions, with a cached segment index.
//!
//! Interpolation is (multi-)linear inside the grid and **linear extrapolation** outside it, as CasADi's
//! `"linear"` interpolant that PyBaMM uses. Grids are strictly increasing with at least two points.

use serde::{Deserialize, Serialize};

use crate::params::ParamError;

/// Finds the segment `i` with `grid[i] <= x < grid[i + 1]` (clamped to the first/last segment, which gives
/// linear extrapolation) starting from the hint of the previous call, and returns `(i, weight)` where
/// `weight = (x − grid[i]) / (grid[i+1] − grid[i])`.
#[inline(always)]
pub(crate) fn locate(grid: &[f64], x: f64, hint: &mut usize) -> (usize, f64) {
    let last = grid.len() - 2;
    let mut i = (*hint).min(last);
    if x < grid[i] {
        while i > 0 && x < grid[i] {
            i -= 1;
        }
    } else {
        while i < last && x >= grid[i + 1] {
            i += 1;
        }
    }
    *hint = i;
    let (a, b) = (grid[i], grid[i + 1]);
    (i, (x - a) / (b - a))
}

/// A validated interpolation axis with the reciprocal of every segment width, so that locating a point costs
/// a multiplication instead of a division. An evenly spaced axis (detected when it is built) is located in
/// O(1) from `(v − x₀)/Δx`, without a search.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    x: Vec<f64>,
    inv_dx: Vec<f64>,
    /// `(x₀, 1/Δx)` when the breakpoints are evenly spaced (to 1e-6 of a step).
    uniform: Option<(f64, f64)>,
}

impl Axis {
    /// The axis of a checked grid (strictly increasing, at least two points).
    pub(crate) fn new(x: &[f64]) -> Self {
        let n = x.len();
        let step = (x[n - 1] - x[0]) / (n - 1) as f64;
        let even = x.iter().enumerate().all(|(k, &v)| (v - (x[0] + k as f64 * step)).abs() <= 1e-6 * step);
        Self {
            x: x.to_vec(),
            inv_dx: x.windows(2).map(|w| 1.0 / (w[1] - w[0])).collect(),
            uniform: even.then(|| (x[0], 1.0 / step)),
        }
    }

    /// The breakpoints.
    pub(crate) fn points(&self) -> &[f64] {
        &self.x
    }

    /// Number of breakpoints.
    pub(crate) fn len(&self) -> usize {
        self.x.len()
    }

    /// As [`locate`]: the segment of `v` (clamped to the first/last one) found from `hint`, and the weight.
    #[inline(always)]
    pub(crate) fn locate(&self, v: f64, hint: &mut usize) -> (usize, f64) {
        let i = self.segment(v, hint);
        (i, (v - self.x[i]) * self.inv_dx[i])
    }

    /// The weight of `v` in segment `i` (0 at `x[i]`, 1 at `x[i + 1]`).
    #[inline(always)]
    pub(crate) fn weight(&self, v: f64, i: usize) -> f64 {
        (v - self.x[i]) * self.inv_dx[i]
    }

    /// The segment of `v` only: the last `i ≤ len − 2` with `x[i] ≤ v` (0 below the axis). The segment of
    /// the previous call (`hint`) is tried first (a slowly moving value stays in it, and the branch is
    /// predicted, so the index does not wait for `v`); otherwise an even axis computes the segment and any
    /// other searches from the hint. Both then step to the exact segment, so the result does not depend on
    /// the start.
    #[inline(always)]
    pub(crate) fn segment(&self, v: f64, hint: &mut usize) -> usize {
        let x = &self.x[..];
        let last = x.len() - 2;
        let mut i = (*hint).min(last);
        if v >= x[i] && (v < x[i + 1] || i == last) {
            return i;
        }
        if let Some((x0, inv_step)) = self.uniform {
            let f = (v - x0) * inv_step;
            // `as` saturates; NaN and negative values give 0.
            i = if f > 0.0 { (f as usize).min(last) } else { 0 };
        }
        if v < x[i] {
            while i > 0 && v < x[i] {
                i -= 1;
            }
        } else {
            while i < last && v >= x[i + 1] {
                i += 1;
            }
        }
        *hint = i;
        i
    }
}

/// A compiled 1-D table: `y(v) = y[i] + (v − x[i])·slope[i]` on the located segment (linear extrapolation).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lin1 {
    axis: Axis,
    y: Vec<f64>,
    slope: Vec<f64>,
}

impl Lin1 {
    /// Compiles a checked table.
    pub(crate) fn new(t: &Table1) -> Self {
        let axis = Axis::new(&t.x);
        let slope = t.y.windows(2).zip(&axis.inv_dx).map(|(w, r)| (w[1] - w[0]) * r).collect();
        Self { axis, y: t.y.clone(), slope }
    }

    /// The axis.
    pub(crate) fn axis(&self) -> &Axis {
        &self.axis
    }

    #[inline(always)]
    pub(crate) fn eval_hint(&self, v: f64, hint: &mut usize) -> f64 {
        let i = self.axis.segment(v, hint);
        self.y[i] + (v - self.axis.x[i]) * self.slope[i]
    }
}

/// A compiled 2-D table (bilinear, `x1`-major values, linear extrapolation).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lin2 {
    a1: Axis,
    a2: Axis,
    values: Vec<f64>,
}

impl Lin2 {
    /// Compiles a checked table.
    pub(crate) fn new(t: &Table2) -> Self {
        Self { a1: Axis::new(&t.x1), a2: Axis::new(&t.x2), values: t.values.clone() }
    }

    /// The second axis.
    pub(crate) fn axis2(&self) -> &Axis {
        &self.a2
    }

    #[inline(always)]
    pub(crate) fn eval_hint(&self, x1: f64, x2: f64, hint: &mut [usize; 2]) -> f64 {
        let (i, a) = self.a1.locate(x1, &mut hint[0]);
        let (j, b) = self.a2.locate(x2, &mut hint[1]);
        let n2 = self.a2.len();
        let v = &self.values[i * n2 + j..(i + 1) * n2 + j + 2];
        let r0 = v[0] + b * (v[1] - v[0]);
        let r1 = v[n2] + b * (v[n2 + 1] - v[n2]);
        r0 + a * (r1 - r0)
    }
}

/// Largest number of tables that can share one [`Grid3`].
pub(crate) const MAX_SLOTS: usize = 7;

/// Several 3-D tables on one (T, I, SoC) grid, values interleaved per node (`values[node·k + slot]`), so one
/// located point serves them all and the eight corners of a cell are eight short contiguous reads.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grid3 {
    t: Axis,
    i: Axis,
    s: Axis,
    k: usize,
    values: Vec<f64>,
}

impl Grid3 {
    /// Interleaves checked tables that share `axes`' grid (1 to [`MAX_SLOTS`] of them).
    pub(crate) fn new(axes: &Table3, tables: &[&Table3]) -> Self {
        let k = tables.len();
        let nodes = axes.t_c.len() * axes.current_a.len() * axes.soc.len();
        let mut values = Vec::with_capacity(nodes * k);
        for n in 0..nodes {
            values.extend(tables.iter().map(|t| t.values[n]));
        }
        Self { t: Axis::new(&axes.t_c), i: Axis::new(&axes.current_a), s: Axis::new(&axes.soc), k, values }
    }

    /// Trilinear interpolation of every table at (T, I, SoC): slot `q` goes to `out[dest[q]]`.
    ///
    /// The tables are first interpolated in current at the four (T, SoC) corners of the located cell, then
    /// bilinearly in (T, SoC). The corners are kept in `hint` and reused while the current (bit for bit) and
    /// the T and SoC segments are unchanged, as in a constant-current step, so the result does not depend
    /// on whether they were reused.
    #[inline(always)]
    pub(crate) fn eval_into(
        &self,
        t_c: f64,
        current_a: f64,
        soc: f64,
        hint: &mut GridHint,
        dest: &[usize; MAX_SLOTS],
        out: &mut [f64; MAX_SLOTS],
    ) {
        let it = self.t.segment(t_c, &mut hint.seg[0]);
        let is = self.s.segment(soc, &mut hint.seg[2]);
        let key = (it, is, current_a.to_bits());
        let lerp = |a: f64, c: f64, w: f64| a + w * (c - a);
        let k = self.k.min(MAX_SLOTS);
        if hint.key != key {
            let (ii, wi) = self.i.locate(current_a, &mut hint.seg[1]);
            let si = self.s.len() * self.k;
            let st = self.i.len() * si;
            let base = it * st + ii * si + is * self.k;
            // The two current nodes of each (T, SoC) corner, as slices of the `k` tables (one bounds check
            // each, none per table).
            let node = |o: usize| &self.values[base + o..base + o + k];
            let corner = |o: usize| (node(o), node(o + si));
            let pairs = [corner(0), corner(self.k), corner(st), corner(st + self.k)];
            for q in 0..k {
                hint.corners[q] = pairs.map(|(lo, hi)| lerp(lo[q], hi[q], wi));
            }
            hint.key = key;
        }
        let wt = self.t.weight(t_c, it);
        let ws = self.s.weight(soc, is);
        for (q, c) in hint.corners.iter().enumerate().take(k) {
            out[dest[q]] = lerp(lerp(c[0], c[1], ws), lerp(c[2], c[3], ws), wt);
        }
    }
}

/// The state of one [`Grid3`]'s lookups: the segments found last, and the tables interpolated in current at
/// the four (T, SoC) corners of the located cell, for `key` = (T segment, SoC segment, current bits).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GridHint {
    seg: [usize; 3],
    key: (usize, usize, u64),
    corners: [[f64; 4]; MAX_SLOTS],
}

impl Default for GridHint {
    fn default() -> Self {
        Self { seg: [0; 3], key: (usize::MAX, usize::MAX, 0), corners: [[0.0; 4]; MAX_SLOTS] }
    }
}

/// Checks that a grid is finite, strictly increasing and has at least two points.
pub(crate) fn check_grid(name: &str, grid: &[f64]) -> Result<(), ParamError> {
    if grid.len() < 2 {
        return Err(ParamError::invalid(name, grid.len(), "a table axis needs at least 2 points"));
    }
    if let Some(v) = grid.iter().find(|v| !v.is_finite()) {
        return Err(ParamError::invalid(name, v, "table axis values must be finite"));
    }
    if let Some(w) = grid.windows(2).find(|w| w[1] <= w[0]) {
        return Err(ParamError::invalid(name, (w[0], w[1]), "table axis must be sorted strictly increasing"));
    }
    Ok(())
}

fn check_values(name: &str, values: &[f64], expected: usize) -> Result<(), ParamError> {
    if values.len() != expected {
        return Err(ParamError::invalid(
            name,
            values.len(),
            &format!("table needs {expected} values (product of the axis lengths)"),
        ));
    }
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(ParamError::invalid(name, v, "table values must be finite"));
    }
    Ok(())
}

/// A 1-D table `y(x)`.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::Table1;
/// let t = Table1 { x: vec![0.0, 1.0], y: vec![3.0, 4.0] };
/// assert_eq!(t.eval(0.25), 3.25);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table1 {
    /// Breakpoints, strictly increasing.
    pub x: Vec<f64>,
    /// Values at the breakpoints.
    pub y: Vec<f64>,
}

impl Table1 {
    /// Validates the table; `name` is used in the error.
    ///
    /// # Errors
    /// [`ParamError::Invalid`] on an unsorted axis, a length mismatch or a non-finite value.
    pub fn check(&self, name: &str) -> Result<(), ParamError> {
        check_grid(name, &self.x)?;
        check_values(name, &self.y, self.x.len())
    }

    /// Linear interpolation (linear extrapolation outside the axis). The table must be valid.
    pub fn eval(&self, x: f64) -> f64 {
        let mut h = 0;
        self.eval_hint(x, &mut h)
    }

    #[inline(always)]
    pub(crate) fn eval_hint(&self, x: f64, hint: &mut usize) -> f64 {
        let (i, w) = locate(&self.x, x, hint);
        self.y[i] + w * (self.y[i + 1] - self.y[i])
    }

    /// Parses a two-column CSV (`x,y`), skipping lines that start with `#` and a non-numeric header.
    ///
    /// # Errors
    /// [`ParamError::Invalid`] naming the line that does not parse.
    pub fn from_csv_str(name: &str, text: &str) -> Result<Self, ParamError> {
        let rows = parse_csv_rows(name, text, 2)?;
        Ok(Self { x: rows.iter().map(|r| r[0]).collect(), y: rows.iter().map(|r| r[1]).collect() })
    }
}

/// A 2-D table `v(x1, x2)`, values stored `x1`-major: `values[i1 * x2.len() + i2]`.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::Table2;
/// let t = Table2 { x1: vec![0.0, 1.0], x2: vec![0.0, 1.0], values: vec![0.0, 1.0, 2.0, 3.0] };
/// assert_eq!(t.eval(0.5, 0.5), 1.5);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table2 {
    /// First axis, strictly increasing.
    pub x1: Vec<f64>,
    /// Second axis, strictly increasing.
    pub x2: Vec<f64>,
    /// Values, `x1`-major.
    pub values: Vec<f64>,
}

impl Table2 {
    /// Validates the table.
    ///
    /// # Errors
    /// [`ParamError::Invalid`] on an unsorted axis, a length mismatch or a non-finite value.
    pub fn check(&self, name: &str) -> Result<(), ParamError> {
        check_grid(name, &self.x1)?;
        check_grid(name, &self.x2)?;
        check_values(name, &self.values, self.x1.len() * self.x2.len())
    }

    /// Bilinear interpolation (linear extrapolation outside). The table must be valid.
    pub fn eval(&self, x1: f64, x2: f64) -> f64 {
        let mut h = [0; 2];
        self.eval_hint(x1, x2, &mut h)
    }

    #[inline(always)]
    pub(crate) fn eval_hint(&self, x1: f64, x2: f64, hint: &mut [usize; 2]) -> f64 {
        let (i, a) = locate(&self.x1, x1, &mut hint[0]);
        let (j, b) = locate(&self.x2, x2, &mut hint[1]);
        let n2 = self.x2.len();
        let v = &self.values;
        let r0 = v[i * n2 + j] + b * (v[i * n2 + j + 1] - v[i * n2 + j]);
        let r1 = v[(i + 1) * n2 + j] + b * (v[(i + 1) * n2 + j + 1] - v[(i + 1) * n2 + j]);
        r0 + a * (r1 - r0)
    }

    /// Builds a table from scattered `(x1, x2, value)` rows that cover a full grid (any row order), as
    /// PyBaMM's `process_2D_data_csv` files.
    ///
    /// # Errors
    /// [`ParamError::Invalid`] when the rows do not form a complete grid.
    pub fn from_rows(name: &str, rows: &[[f64; 3]]) -> Result<Self, ParamError> {
        let x1 = unique_sorted(rows.iter().map(|r| r[0]));
        let x2 = unique_sorted(rows.iter().map(|r| r[1]));
        let mut values = vec![f64::NAN; x1.len() * x2.len()];
        for r in rows {
            let i = position(&x1, r[0]);
            let j = position(&x2, r[1]);
            values[i * x2.len() + j] = r[2];
        }
        if values.iter().any(|v| v.is_nan()) || rows.len() != values.len() {
            return Err(ParamError::invalid(name, rows.len(), "rows do not form one complete grid"));
        }
        let t = Self { x1, x2, values };
        t.check(name)?;
        Ok(t)
    }
}

/// A 3-D table over (temperature °C, current A, SoC), values stored `t`-major then current then SoC:
/// `values[(it * current_a.len() + ii) * soc.len() + is]`. Trilinear interpolation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table3 {
    /// Temperature axis (°C), strictly increasing.
    pub t_c: Vec<f64>,
    /// Current axis (A, positive = discharge), strictly increasing.
    pub current_a: Vec<f64>,
    /// SoC axis (fraction), strictly increasing.
    pub soc: Vec<f64>,
    /// Values.
    pub values: Vec<f64>,
}

impl Table3 {
    /// Validates the table.
    ///
    /// # Errors
    /// [`ParamError::Invalid`] on an unsorted axis, a length mismatch or a non-finite value.
    pub fn check(&self, name: &str) -> Result<(), ParamError> {
        check_grid(name, &self.t_c)?;
        check_grid(name, &self.current_a)?;
        check_grid(name, &self.soc)?;
        check_values(name, &self.values, self.t_c.len() * self.current_a.len() * self.soc.len())
    }

    /// Trilinear interpolation (linear extrapolation outside). The table must be valid.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::twin::Table3;
    /// let t = Table3 {
    ///     t_c: vec![0.0, 10.0],
    ///     current_a: vec![0.0, 1.0],
    ///     soc: vec![0.0, 1.0],
    ///     values: vec![1.0; 8],
    /// };
    /// assert_eq!(t.eval(5.0, 0.5, 0.5), 1.0);
    /// ```
    pub fn eval(&self, t_c: f64, current_a: f64, soc: f64) -> f64 {
        let w = Weights3::locate(self, t_c, current_a, soc, &mut [0; 3]);
        w.blend(&self.values)
    }

    /// True when both tables use the same three axes.
    pub(crate) fn same_grid(&self, other: &Table3) -> bool {
        self.t_c == other.t_c && self.current_a == other.current_a && self.soc == other.soc
    }

    /// Builds a table from scattered `(T, I, SoC, value)` rows covering a complete grid.
    ///
    /// # Errors
    /// [`ParamError::Invalid`] when the rows do not form a complete grid.
    pub fn from_rows(name: &str, rows: &[[f64; 4]]) -> Result<Self, ParamError> {
        let t_c = unique_sorted(rows.iter().map(|r| r[0]));
        let current_a = unique_sorted(rows.iter().map(|r| r[1]));
        let soc = unique_sorted(rows.iter().map(|r| r[2]));
        let (ni, ns) = (current_a.len(), soc.len());
        let mut values = vec![f64::NAN; t_c.len() * ni * ns];
        for r in rows {
            let idx = (position(&t_c, r[0]) * ni + position(&current_a, r[1])) * ns + position(&soc, r[2]);
            values[idx] = r[3];
        }
        if values.iter().any(|v| v.is_nan()) || rows.len() != values.len() {
            return Err(ParamError::invalid(name, rows.len(), "rows do not form one complete grid"));
        }
        let t = Self { t_c, current_a, soc, values };
        t.check(name)?;
        Ok(t)
    }
}

/// Located corner indices and weights on a 3-D grid, reusable by every table sharing the grid.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Weights3 {
    base: usize,
    stride_t: usize,
    stride_i: usize,
    wt: f64,
    wi: f64,
    ws: f64,
}

impl Weights3 {
    #[inline(always)]
    pub(crate) fn locate(grid: &Table3, t_c: f64, current_a: f64, soc: f64, hint: &mut [usize; 3]) -> Self {
        let (it, wt) = locate(&grid.t_c, t_c, &mut hint[0]);
        let (ii, wi) = locate(&grid.current_a, current_a, &mut hint[1]);
        let (is, ws) = locate(&grid.soc, soc, &mut hint[2]);
        let ns = grid.soc.len();
        let stride_i = ns;
        let stride_t = grid.current_a.len() * ns;
        Self { base: it * stride_t + ii * stride_i + is, stride_t, stride_i, wt, wi, ws }
    }

    #[inline(always)]
    pub(crate) fn blend(&self, v: &[f64]) -> f64 {
        let b = self.base;
        let lerp = |a: f64, c: f64, w: f64| a + w * (c - a);
        let s = |k: usize| lerp(v[k], v[k + 1], self.ws);
        let c00 = s(b);
        let c01 = s(b + self.stride_i);
        let c10 = s(b + self.stride_t);
        let c11 = s(b + self.stride_t + self.stride_i);
        lerp(lerp(c00, c01, self.wi), lerp(c10, c11, self.wi), self.wt)
    }
}

fn unique_sorted(it: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = it.collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

fn position(grid: &[f64], x: f64) -> usize {
    grid.partition_point(|g| *g < x)
}

/// Parses numeric CSV rows of exactly `ncol` columns; `#` lines and one non-numeric header are skipped.
pub(crate) fn parse_csv_rows(name: &str, text: &str, ncol: usize) -> Result<Vec<Vec<f64>>, ParamError> {
    let mut rows = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed: Result<Vec<f64>, _> = line.split(',').map(|c| c.trim().parse::<f64>()).collect();
        match parsed {
            Ok(r) if r.len() == ncol => rows.push(r),
            Ok(r) => {
                return Err(ParamError::invalid(
                    name,
                    format!("line {}: {} columns", k + 1, r.len()),
                    &format!("expected {ncol} numeric columns"),
                ))
            }
            Err(_) if rows.is_empty() => continue, // header line
            Err(_) => {
                return Err(ParamError::invalid(name, format!("line {}: {line}", k + 1), "not a number"))
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn locate_with_hint_and_extrapolation() {
        let g = [0.0, 1.0, 2.0, 4.0];
        let mut h = 2;
        assert_eq!(locate(&g, 0.5, &mut h), (0, 0.5));
        assert_eq!(locate(&g, 3.0, &mut h), (2, 0.5));
        assert_eq!(locate(&g, 6.0, &mut h), (2, 2.0));
        assert_eq!(locate(&g, -1.0, &mut h), (0, -1.0));
        let t = Table1 { x: g.to_vec(), y: vec![0.0, 1.0, 2.0, 4.0] };
        assert_relative_eq!(t.eval(5.0), 5.0);
    }

    #[test]
    fn trilinear_reproduces_a_linear_function() {
        let t_c = vec![-10.0, 0.0, 25.0];
        let current_a = vec![-5.0, 0.0, 5.0, 10.0];
        let soc = vec![0.0, 0.3, 1.0];
        let f = |t: f64, i: f64, s: f64| 1.0 + 0.1 * t - 0.2 * i + 3.0 * s;
        let mut values = vec![];
        for &t in &t_c {
            for &i in &current_a {
                for &s in &soc {
                    values.push(f(t, i, s));
                }
            }
        }
        let tab = Table3 { t_c, current_a, soc, values };
        tab.check("x").unwrap();
        for (t, i, s) in [(3.0, 1.5, 0.45), (-10.0, 10.0, 1.0), (30.0, -6.0, 0.1)] {
            assert_relative_eq!(tab.eval(t, i, s), f(t, i, s), epsilon = 1e-12);
        }
    }

    #[test]
    fn unsorted_axis_is_an_error() {
        let t = Table1 { x: vec![0.0, 2.0, 1.0], y: vec![0.0; 3] };
        assert_eq!(t.check("ocv").unwrap_err().code(), "invalid_param");
    }
}
