"""numpy/scipy anchor of `battsentinel_core::features::dqdv` on the bench's synthetic OCV segment.

Same input as `benches/features.rs::ocv_segment(n)` (Q linear, V by 60-step bisection of a two-logistic OCV),
same pipeline: uniform voltage grid (np.interp; the segment is monotone so this equals the first-crossing
resampling), `scipy.signal.savgol_filter(deriv=1, mode="interp")`, `scipy.signal.find_peaks(prominence=...)`.
Prints peaks (for the parity test) and the median time per call in milliseconds, one line per size.
"""
import sys
import timeit

import numpy as np
from scipy.signal import find_peaks, savgol_filter

STEP_V, WINDOW, ORDER, PROM = 0.001, 21, 3, 0.05


def q_of_v(v):
    return 0.1 * (v - 3.0) + 0.8 / (1.0 + np.exp(-(v - 3.45) / 0.02)) + 1.2 / (1.0 + np.exp(-(v - 3.9) / 0.025))


def ocv_segment(n):
    q0, q1 = q_of_v(3.1), q_of_v(4.2)
    q = q0 + (q1 - q0) * np.arange(n) / (n - 1)
    lo, hi = np.full(n, 2.5), np.full(n, 4.5)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = q_of_v(mid) < q
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi), q


def dqdv(v, q):
    m = int(np.floor((v.max() - v[0]) / STEP_V + 1e-9)) + 1
    grid = v[0] + np.arange(m) * STEP_V
    qg = np.interp(grid, v, q)
    d = savgol_filter(qg, WINDOW, ORDER, deriv=1, delta=STEP_V, mode="interp")
    peaks, props = find_peaks(d, prominence=PROM * d.max())
    return grid, d, peaks, props["prominences"]


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    for n in sizes:
        v, q = ocv_segment(n)
        grid, d, peaks, prom = dqdv(v, q)
        reps = timeit.repeat(lambda: dqdv(v, q), number=1, repeat=30)
        print(f"n={n} grid={len(grid)} peaks_v={[round(float(grid[p]), 6) for p in peaks]} "
              f"heights={[round(float(d[p]), 6) for p in peaks]} d[500]={d[500]:.12f} "
              f"median_ms={1e3 * float(np.median(reps)):.4f}")
