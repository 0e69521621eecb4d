"""PyBaMM anchor for benches/twin.rs: the same 1C experiments, timed in the same run.

Prints one JSON object: for each case, the first call (model + parameters + simulation build + solve) and the
median of 3 warm re-solves of the built simulation, in seconds, plus the end time of the discharge.
Run with: /work/venvs/twin/bin/python benches/python/twin_anchor.py
"""

import json
import statistics
import time
import warnings

warnings.filterwarnings("ignore")

import pybamm  # noqa: E402

pybamm.set_logging_level("ERROR")


def build(case):
    model = pybamm.equivalent_circuit.Thevenin()
    pv = pybamm.ParameterValues("ECM_Example")
    if case == "constparams":
        pv["Initial SoC"] = 0.9999
        pv.update({"R0 [Ohm]": 0.4e-3, "R1 [Ohm]": 0.6e-3, "C1 [F]": 50000.0, "Entropic change [V/K]": 0.0})
    elif case == "tables":
        pv["Initial SoC"] = 0.9999
    # "soc50": ECM_Example as shipped.
    return pybamm.Simulation(model, parameter_values=pv, solver=pybamm.CasadiSolver(mode="safe"))


def main():
    out = {"pybamm": pybamm.__version__}
    for case in ["constparams", "tables", "soc50"]:
        t0 = time.perf_counter()
        sim = build(case)
        sol = sim.solve([0, 4000])
        first = time.perf_counter() - t0
        warm = []
        for _ in range(3):
            t0 = time.perf_counter()
            sol = sim.solve([0, 4000])
            warm.append(time.perf_counter() - t0)
        out[case] = {"first_s": first, "resolve_s": statistics.median(warm), "t_end_s": float(sol.t[-1])}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
