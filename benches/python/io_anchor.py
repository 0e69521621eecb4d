"""Python anchor for benches/io.rs: time pandas.read_csv and polars.read_csv on the same Arbin-layout CSV.

Usage: io_anchor.py FILE [REPEATS]   -> prints one JSON line {"pandas_s": .., "polars_s": .., "rows": ..}
Best of REPEATS (default 3) wall-clock runs each, full parse into numeric columns (as the Rust reader does).
"""
import json
import sys
import time

import pandas as pd
import polars as pl


def best(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    pandas_s, df = best(lambda: pd.read_csv(path), repeats)
    rows = len(df)
    del df
    polars_s, pf = best(lambda: pl.read_csv(path), repeats)
    assert len(pf) == rows
    print(json.dumps({"pandas_s": pandas_s, "polars_s": polars_s, "rows": rows,
                      "pandas": pd.__version__, "polars": pl.__version__}))


if __name__ == "__main__":
    main()
