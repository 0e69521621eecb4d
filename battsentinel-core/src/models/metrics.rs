//! Evaluation metrics with scikit-learn's definitions.

use ndarray::{Array2, ArrayView1};

use super::validate::check_len;
use super::ModelError;

fn non_empty(n: usize) -> Result<(), ModelError> {
    if n == 0 {
        return Err(ModelError::EmptyData { n_rows: 0, n_cols: 1 });
    }
    Ok(())
}

/// Fraction of equal labels.
///
/// # Errors
/// [`ModelError::TargetLength`] on different lengths, [`ModelError::EmptyData`] if empty.
///
/// # Examples
/// ```
/// use battsentinel_core::models::metrics::accuracy;
/// use ndarray::array;
/// assert_eq!(accuracy(&array![0usize, 1, 1, 2].view(), &array![0usize, 1, 2, 2].view())?, 0.75);
/// # Ok::<(), battsentinel_core::models::ModelError>(())
/// ```
pub fn accuracy(y_true: &ArrayView1<usize>, y_pred: &ArrayView1<usize>) -> Result<f64, ModelError> {
    check_len(y_true.len(), y_pred.len())?;
    non_empty(y_true.len())?;
    let hits = y_true.iter().zip(y_pred).filter(|(a, b)| a == b).count();
    Ok(hits as f64 / y_true.len() as f64)
}

/// Sorted union of the labels in both vectors.
fn labels(y_true: &ArrayView1<usize>, y_pred: &ArrayView1<usize>) -> Vec<usize> {
    let mut l: Vec<usize> = y_true.iter().chain(y_pred.iter()).copied().collect();
    l.sort_unstable();
    l.dedup();
    l
}

/// Confusion matrix `C[i][j]` = rows with true label `labels[i]` predicted as `labels[j]`; `labels` is the
/// sorted union of both label sets (returned alongside).
///
/// # Errors
/// As [`accuracy`].
pub fn confusion_matrix(
    y_true: &ArrayView1<usize>,
    y_pred: &ArrayView1<usize>,
) -> Result<(Vec<usize>, Array2<usize>), ModelError> {
    check_len(y_true.len(), y_pred.len())?;
    non_empty(y_true.len())?;
    let l = labels(y_true, y_pred);
    let mut c = Array2::zeros((l.len(), l.len()));
    for (t, p) in y_true.iter().zip(y_pred) {
        let i = l.binary_search(t).unwrap_or(0);
        let j = l.binary_search(p).unwrap_or(0);
        c[[i, j]] += 1;
    }
    Ok((l, c))
}

/// Mean per-class recall over the classes present in `y_true`.
///
/// # Errors
/// As [`accuracy`].
pub fn balanced_accuracy(y_true: &ArrayView1<usize>, y_pred: &ArrayView1<usize>) -> Result<f64, ModelError> {
    let (_, c) = confusion_matrix(y_true, y_pred)?;
    let (mut sum, mut n) = (0.0, 0usize);
    for i in 0..c.nrows() {
        let support: usize = c.row(i).sum();
        if support > 0 {
            sum += c[[i, i]] as f64 / support as f64;
            n += 1;
        }
    }
    Ok(sum / n as f64)
}

/// Unweighted mean of the per-label F1 scores (labels of both vectors; 0 where undefined).
///
/// # Errors
/// As [`accuracy`].
pub fn macro_f1(y_true: &ArrayView1<usize>, y_pred: &ArrayView1<usize>) -> Result<f64, ModelError> {
    let (_, c) = confusion_matrix(y_true, y_pred)?;
    let k = c.nrows();
    let mut sum = 0.0;
    for i in 0..k {
        let tp = c[[i, i]] as f64;
        let fp = c.column(i).sum() as f64 - tp;
        let fn_ = c.row(i).sum() as f64 - tp;
        let denom = 2.0 * tp + fp + fn_;
        sum += if denom > 0.0 { 2.0 * tp / denom } else { 0.0 };
    }
    Ok(sum / k as f64)
}

/// Area under the ROC curve for binary labels (`true` = positive) and scores (ties count one half).
///
/// # Errors
/// As [`accuracy`]; [`ModelError::SingleClass`] if only one label is present.
pub fn roc_auc(y_true: &ArrayView1<bool>, scores: &ArrayView1<f64>) -> Result<f64, ModelError> {
    check_len(y_true.len(), scores.len())?;
    non_empty(y_true.len())?;
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // average ranks (1-based) with ties
    let mut ranks = vec![0.0; idx.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            ranks[k] = r;
        }
        i = j + 1;
    }
    let n_pos = y_true.iter().filter(|&&b| b).count();
    let n_neg = y_true.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return Err(ModelError::SingleClass { class: usize::from(n_pos > 0) });
    }
    let sum_pos: f64 = y_true.iter().zip(&ranks).filter(|(b, _)| **b).map(|(_, r)| r).sum();
    Ok((sum_pos - (n_pos * (n_pos + 1)) as f64 / 2.0) / (n_pos * n_neg) as f64)
}

fn pairs<'a>(
    y_true: &'a ArrayView1<f64>,
    y_pred: &'a ArrayView1<f64>,
) -> Result<impl Iterator<Item = (f64, f64)> + 'a, ModelError> {
    check_len(y_true.len(), y_pred.len())?;
    non_empty(y_true.len())?;
    Ok(y_true.iter().copied().zip(y_pred.iter().copied()))
}

/// Root mean squared error.
///
/// # Errors
/// As [`accuracy`].
pub fn rmse(y_true: &ArrayView1<f64>, y_pred: &ArrayView1<f64>) -> Result<f64, ModelError> {
    let n = y_true.len() as f64;
    Ok((pairs(y_true, y_pred)?.map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / n).sqrt())
}

/// Mean absolute error.
///
/// # Errors
/// As [`accuracy`].
pub fn mae(y_true: &ArrayView1<f64>, y_pred: &ArrayView1<f64>) -> Result<f64, ModelError> {
    let n = y_true.len() as f64;
    Ok(pairs(y_true, y_pred)?.map(|(a, b)| (a - b).abs()).sum::<f64>() / n)
}

/// Coefficient of determination R² (1 − SS_res/SS_tot; 1 for a perfect fit of constant targets, else 0
/// when SS_tot = 0, as scikit-learn).
///
/// # Errors
/// As [`accuracy`].
pub fn r2(y_true: &ArrayView1<f64>, y_pred: &ArrayView1<f64>) -> Result<f64, ModelError> {
    let n = y_true.len() as f64;
    let mean = pairs(y_true, y_pred)?.map(|(a, _)| a).sum::<f64>() / n;
    let ss_res: f64 = pairs(y_true, y_pred)?.map(|(a, b)| (a - b) * (a - b)).sum();
    let ss_tot: f64 = pairs(y_true, y_pred)?.map(|(a, _)| (a - mean) * (a - mean)).sum();
    Ok(if ss_tot > 0.0 {
        1.0 - ss_res / ss_tot
    } else if ss_res == 0.0 {
        1.0
    } else {
        0.0
    })
}

/// Spearman rank correlation (average ranks for ties).
///
/// # Errors
/// As [`accuracy`].
pub fn spearman(a: &ArrayView1<f64>, b: &ArrayView1<f64>) -> Result<f64, ModelError> {
    check_len(a.len(), b.len())?;
    non_empty(a.len())?;
    let ra = ranks(a);
    let rb = ranks(b);
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    Ok(if saa > 0.0 && sbb > 0.0 { sab / (saa * sbb).sqrt() } else { 0.0 })
}

fn ranks(v: &ArrayView1<f64>) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        for &k in &idx[i..=j] {
            r[k] = (i + j) as f64 / 2.0;
        }
        i = j + 1;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn known_values() {
        // sklearn: f1_score([0,0,1,1,2],[0,1,1,1,2], average='macro') = 0.8222222222
        let t = array![0usize, 0, 1, 1, 2];
        let p = array![0usize, 1, 1, 1, 2];
        assert_abs_diff_eq!(
            macro_f1(&t.view(), &p.view()).unwrap(),
            0.822_222_222_222_222_2,
            epsilon = 1e-12
        );
        // balanced_accuracy = (0.5 + 1 + 1)/3
        assert_abs_diff_eq!(balanced_accuracy(&t.view(), &p.view()).unwrap(), 2.5 / 3.0, epsilon = 1e-12);
        // roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.75
        let yb = array![false, false, true, true];
        let s = array![0.1, 0.4, 0.35, 0.8];
        assert_abs_diff_eq!(roc_auc(&yb.view(), &s.view()).unwrap(), 0.75, epsilon = 1e-12);
        // r2_score([3,-0.5,2,7],[2.5,0,2,8]) = 0.9486081370449679
        let yt = array![3.0, -0.5, 2.0, 7.0];
        let yp = array![2.5, 0.0, 2.0, 8.0];
        assert_abs_diff_eq!(r2(&yt.view(), &yp.view()).unwrap(), 0.948_608_137_044_967_9, epsilon = 1e-12);
        assert_abs_diff_eq!(mae(&yt.view(), &yp.view()).unwrap(), 0.5, epsilon = 1e-12);
        assert_abs_diff_eq!(rmse(&yt.view(), &yp.view()).unwrap(), 0.375f64.sqrt(), epsilon = 1e-12);
        assert!(accuracy(&t.view(), &array![0usize].view()).is_err());
    }
}
