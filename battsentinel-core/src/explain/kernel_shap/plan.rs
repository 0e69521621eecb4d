//! The coalition design of `shap.KernelExplainer`: Shapley-kernel size weights, complete enumeration of the
//! sizes that fit in the budget, paired sampling of the rest (seeded), and the kernel weight of every mask.

use std::collections::HashMap;

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::rng;

/// The coalitions (masks over the `m` players) evaluated for one instance and their kernel weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoalitionPlan {
    /// Number of players (varying features or groups).
    pub m: usize,
    /// Budget after capping at `max_samples` (shap's `nsamples`).
    pub nsamples: usize,
    /// `2^m − 2` (or `2^30` for `m > 30`).
    pub max_samples: usize,
    /// Normalised Shapley-kernel weight per subset size `s = 1..=num_subset_sizes` (paired sizes doubled).
    pub weight_vector: Vec<f64>,
    /// `ceil((m − 1) / 2)`.
    pub num_subset_sizes: usize,
    /// `floor((m − 1) / 2)`.
    pub num_paired_subset_sizes: usize,
    /// Number of sizes enumerated completely.
    pub num_full_subsets: usize,
    /// Number of masks from the complete enumeration.
    pub n_fixed_samples: usize,
    /// Kernel weight of each enumerated mask, per enumerated size.
    pub fixed_weight_per_size: Vec<f64>,
    /// Probability of each not-enumerated size in the sampled part (empty when exact).
    pub remaining_weight_vector: Vec<f64>,
    /// Total weight of the sampled part (0 when exact).
    pub weight_left: f64,
    /// Masks, row-major `n_masks × m`, 1 = the player takes the instance's value.
    pub masks: Vec<u8>,
    /// Kernel weight per mask; they sum to 1.
    pub kernel_weights: Vec<f64>,
}

/// `scipy.special.binom` for the small arguments used here (exact in f64 up to 2^53).
fn binom(n: usize, k: usize) -> f64 {
    let k = k.min(n - k);
    let mut r = 1.0f64;
    for i in 0..k {
        r = r * (n - i) as f64 / (i + 1) as f64;
    }
    r.round()
}

/// Default budget of shap's `nsamples="auto"`: `2m + 2048`.
pub fn auto_nsamples(m: usize) -> usize {
    2 * m + 2048
}

impl CoalitionPlan {
    /// Number of masks.
    pub fn n_masks(&self) -> usize {
        self.kernel_weights.len()
    }

    /// Mask `k` as a slice of `m` zeros and ones.
    pub fn mask(&self, k: usize) -> &[u8] {
        &self.masks[k * self.m..(k + 1) * self.m]
    }

    /// Whether every coalition is enumerated (deterministic, exact Shapley values).
    pub fn is_exact(&self) -> bool {
        self.num_full_subsets == self.num_subset_sizes
    }

    /// Builds the design for `m ≥ 2` players with budget `nsamples` (capped at `2^m − 2`), drawing the
    /// sampled part from a generator seeded with `seed`.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::explain::CoalitionPlan;
    /// let plan = CoalitionPlan::build(10, 2 * 10 + 2048, 0);
    /// assert!(plan.is_exact());
    /// assert_eq!(plan.n_masks(), 1022);
    /// ```
    pub fn build(m: usize, nsamples: usize, seed: u64) -> Self {
        let max_samples = if m <= 30 { (1usize << m) - 2 } else { 1usize << 30 };
        let nsamples = nsamples.min(max_samples);
        let num_subset_sizes = m.saturating_sub(1).div_ceil(2);
        let num_paired = m.saturating_sub(1) / 2;
        let mut wv: Vec<f64> =
            (1..=num_subset_sizes).map(|s| (m as f64 - 1.0) / ((s * (m - s)) as f64)).collect();
        for w in wv.iter_mut().take(num_paired) {
            *w *= 2.0;
        }
        let total: f64 = wv.iter().sum();
        for w in &mut wv {
            *w /= total;
        }

        let mut plan = CoalitionPlan {
            m,
            nsamples,
            max_samples,
            weight_vector: wv.clone(),
            num_subset_sizes,
            num_paired_subset_sizes: num_paired,
            num_full_subsets: 0,
            n_fixed_samples: 0,
            fixed_weight_per_size: Vec::new(),
            remaining_weight_vector: Vec::new(),
            weight_left: 0.0,
            masks: Vec::with_capacity(nsamples * m),
            kernel_weights: Vec::with_capacity(nsamples),
        };

        let mut left = nsamples as f64;
        let mut rwv = wv.clone();
        let mut mask = vec![0u8; m];
        for s in 1..=num_subset_sizes {
            let paired = s <= num_paired;
            let mut nsub = binom(m, s);
            if paired {
                nsub *= 2.0;
            }
            if left * rwv[s - 1] / nsub >= 1.0 - 1e-8 {
                plan.num_full_subsets += 1;
                left -= nsub;
                if rwv[s - 1] < 1.0 {
                    let d = 1.0 - rwv[s - 1];
                    for r in &mut rwv {
                        *r /= d;
                    }
                }
                let mut w = wv[s - 1] / binom(m, s);
                if paired {
                    w /= 2.0;
                }
                plan.fixed_weight_per_size.push(w);
                let mut idx: Vec<usize> = (0..s).collect();
                loop {
                    mask.iter_mut().for_each(|v| *v = 0);
                    for &i in &idx {
                        mask[i] = 1;
                    }
                    plan.push(&mask, w);
                    if paired {
                        let comp: Vec<u8> = mask.iter().map(|v| 1 - v).collect();
                        plan.push(&comp, w);
                    }
                    if !next_combination(&mut idx, m) {
                        break;
                    }
                }
            } else {
                break;
            }
        }
        plan.n_fixed_samples = plan.n_masks();

        let mut samples_left = nsamples - plan.n_fixed_samples;
        if plan.num_full_subsets != num_subset_sizes {
            let mut r = wv.clone();
            for v in r.iter_mut().take(num_paired) {
                *v /= 2.0;
            }
            let mut r: Vec<f64> = r[plan.num_full_subsets..].to_vec();
            let rs: f64 = r.iter().sum();
            for v in &mut r {
                *v /= rs;
            }
            let mut cdf = Vec::with_capacity(r.len());
            let mut acc = 0.0;
            for v in &r {
                acc += v;
                cdf.push(acc);
            }
            plan.remaining_weight_vector = r;
            let mut gen = rng::seeded(seed);
            let mut used: HashMap<Vec<u8>, usize> = HashMap::new();
            let mut perm: Vec<usize> = (0..m).collect();
            let max_draws = 4 * samples_left;
            let mut draws = 0;
            while samples_left > 0 && draws < max_draws {
                draws += 1;
                let u: f64 = gen.gen::<f64>() * acc;
                let k = cdf.iter().position(|&c| u < c).unwrap_or(cdf.len() - 1);
                let s = k + plan.num_full_subsets + 1;
                // Partial Fisher-Yates: the first s entries are a uniform random s-subset.
                for i in 0..s {
                    let j = crate::rng::index(&mut gen, i, m);
                    perm.swap(i, j);
                }
                mask.iter_mut().for_each(|v| *v = 0);
                for &i in &perm[..s] {
                    mask[i] = 1;
                }
                let new;
                let at;
                if let Some(&i) = used.get(&mask) {
                    plan.kernel_weights[i] += 1.0;
                    new = false;
                    at = i;
                } else {
                    at = plan.n_masks();
                    used.insert(mask.clone(), at);
                    samples_left -= 1;
                    plan.push(&mask, 1.0);
                    new = true;
                }
                if samples_left > 0 && s <= num_paired {
                    if new {
                        samples_left -= 1;
                        let comp: Vec<u8> = mask.iter().map(|v| 1 - v).collect();
                        plan.push(&comp, 1.0);
                    } else {
                        plan.kernel_weights[at + 1] += 1.0;
                    }
                }
            }
            let weight_left: f64 = wv[plan.num_full_subsets..].iter().sum();
            plan.weight_left = weight_left;
            let nf = plan.n_fixed_samples;
            let sum_sampled: f64 = plan.kernel_weights[nf..].iter().sum();
            if sum_sampled > 0.0 {
                let scale = weight_left / sum_sampled;
                for w in &mut plan.kernel_weights[nf..] {
                    *w *= scale;
                }
            }
        }
        plan
    }

    fn push(&mut self, mask: &[u8], w: f64) {
        self.masks.extend_from_slice(mask);
        self.kernel_weights.push(w);
    }
}

/// Advances `idx` (strictly increasing, values < n) to the next combination in lexicographic order.
fn next_combination(idx: &mut [usize], n: usize) -> bool {
    let k = idx.len();
    let mut i = k;
    while i > 0 {
        i -= 1;
        if idx[i] < n - k + i {
            idx[i] += 1;
            for j in (i + 1)..k {
                idx[j] = idx[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_design_weights_sum_to_one() {
        for m in 2..=11 {
            let p = CoalitionPlan::build(m, auto_nsamples(m), 0);
            assert!(p.is_exact());
            assert_eq!(p.n_masks(), (1 << m) - 2);
            let s: f64 = p.kernel_weights.iter().sum();
            assert!((s - 1.0).abs() < 1e-12, "m={m} sum={s}");
        }
    }

    #[test]
    fn sampled_design_has_budget_masks_and_unit_weight() {
        let p = CoalitionPlan::build(14, auto_nsamples(14), 3);
        assert!(!p.is_exact());
        assert_eq!(p.n_fixed_samples, 210);
        assert_eq!(p.n_masks(), p.nsamples);
        let s: f64 = p.kernel_weights.iter().sum();
        assert!((s - 1.0).abs() < 1e-12);
        let q = CoalitionPlan::build(14, auto_nsamples(14), 3);
        assert_eq!(p, q);
    }

    #[test]
    fn combinations_are_lexicographic() {
        let mut idx = vec![0, 1];
        let mut all = vec![idx.clone()];
        while next_combination(&mut idx, 4) {
            all.push(idx.clone());
        }
        assert_eq!(all, vec![vec![0, 1], vec![0, 2], vec![0, 3], vec![1, 2], vec![1, 3], vec![2, 3]]);
    }
}
