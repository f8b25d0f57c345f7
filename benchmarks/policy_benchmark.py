"""Benchmark SuccessProbaMax against Algorithm 1 and the baselines (issue 3, part 1).

Run: .venv/bin/python benchmarks/policy_benchmark.py [--quick]
Writes benchmarks/results/policy_benchmark.json.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from pymc_robust_alloc.policy import (
    PolicyProblem,
    SuccessProbaMax,
    algorithm1,
    baseline_plans,
    log_success_probability,
    success_probability,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "success_proba_max"
OUT = ROOT / "benchmarks" / "results" / "policy_benchmark.json"
PAPER_JAX_SECONDS = {"private_1d": 0.3, "private_2d": 41.0, "criteo": 6.0}


def run_case(
    name, train, test, thresholds, test_thresholds, alg1_kwargs, n_random_check
):
    solver = SuccessProbaMax(train)
    rows, t_solver = [], []
    for thr, thr_test in zip(thresholds, test_thresholds, strict=True):
        res = solver.solve(thr)
        t_solver.append(res.wall_time)
        row = {"threshold": np.asarray(thr).tolist(), "methods": {}}
        plans = {"SuccessProbaMax": res.psi.values}
        for bname, psi in baseline_plans(train, thr).items():
            plans[bname] = psi
        # independent check: many random starts refined by SLSQP
        checker = SuccessProbaMax(train, n_random=n_random_check, n_local=6, seed=123)
        plans["RandomStartsCheck"] = checker.solve(thr).psi.values
        for mname, psi in plans.items():
            entry = {
                "C_train": float(success_probability(train, psi, thr)),
                "log_C_train": float(log_success_probability(train, psi, thr)),
            }
            if test is not None:
                entry["C_test"] = float(success_probability(test, psi, thr_test))
                if not np.allclose(thr_test, thr):
                    entry["C_test_train_threshold"] = float(
                        success_probability(test, psi, thr)
                    )
            row["methods"][mname] = entry
        row["methods"]["SuccessProbaMax"]["wall_time"] = res.wall_time
        row["flags"] = {
            "reachable": res.reachable,
            "beats_baselines": res.beats_baselines,
        }
        rows.append(row)
    # Algorithm 1, batched over thresholds
    t0 = time.perf_counter()
    alg = algorithm1(train, thresholds, **alg1_kwargs)
    alg_total = time.perf_counter() - t0
    for row, a, thr_test in zip(rows, alg, test_thresholds, strict=True):
        entry = {
            "C_train": a.C,
            "log_C_train": a.log_C,
            "wall_time": alg_total / len(rows),
            "message": a.message,
        }
        if test is not None:
            entry["C_test"] = float(success_probability(test, a.psi.values, thr_test))
        row["methods"]["Algorithm1"] = entry
    checks = []
    for row in rows:
        spm = row["methods"]["SuccessProbaMax"]
        for mname, e in row["methods"].items():
            if mname == "SuccessProbaMax":
                continue
            ok = spm["C_train"] >= e["C_train"] - 1e-9
            checks.append(ok)
            if not ok:
                print(
                    f"  !! {name} {row['threshold']}: {mname} C={e['C_train']:.12g} > "
                    f"SPM C={spm['C_train']:.12g}"
                )
    mean_solver = float(np.mean(t_solver))
    summary = {
        "n_thresholds": len(rows),
        "solver_seconds_per_threshold": mean_solver,
        "algorithm1_seconds_per_threshold": alg_total / len(rows),
        "algorithm1_settings": {k: v for k, v in alg1_kwargs.items()},
        "ratio_algorithm1_over_solver": alg_total / len(rows) / mean_solver,
        "all_checks_pass": bool(all(checks)),
    }
    ratio = summary["ratio_algorithm1_over_solver"]
    print(
        f"{name}: solver {mean_solver * 1e3:.1f} ms/threshold, Algorithm 1 "
        f"{alg_total / len(rows):.2f} s/threshold (x{ratio:.0f}),"
        f" checks pass: {summary['all_checks_pass']}"
    )
    for row in rows:
        cs = {m: round(e["C_train"], 6) for m, e in row["methods"].items()}
        print(f"   {row['threshold']}: {cs}")
    return {"summary": summary, "rows": rows}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    quick = args.quick
    out = {"quick": quick, "cases": {}}
    n_check = 30 if quick else 200
    # Table 1 (synthetic, 1-D)
    for size, f in (("large", 1.0), ("small", 0.01)):
        mu = np.array([[2, 1.9, 0], [2, 1, 0], [2, 1, 0]], float)
        var = f * np.array([[9, 1, 9], [9, 1, 9], [1, 1, 1]], float)
        p = PolicyProblem(mu, var)
        thr = np.linspace(0, 8, 9)
        out["cases"][f"table1_{size}"] = run_case(
            f"table1_{size}",
            p,
            None,
            thr,
            thr,
            dict(
                eta=0.01,
                n_steps=2000 if quick else 100_000,
                n_dirichlet=5000 if quick else 50_000,
            ),
            n_check,
        )
    # Table 2 (synthetic, 2-D, one bucket, two policies, rho = 0.5)
    for case, mu_c, var_c in (("i", [1, 1.5], [4, 1]), ("ii", [1, 0.5], [1, 1])):
        mu = np.stack([[2, 1], mu_c], axis=-1)[None].astype(float)
        var_v, var_c = np.array([9, 1.0]), np.array(var_c, float)
        cov = np.zeros((1, 2, 2, 2))
        cov[0, :, 0, 0], cov[0, :, 1, 1] = var_v, var_c
        cov[0, :, 0, 1] = cov[0, :, 1, 0] = 0.5 * np.sqrt(var_v * var_c)
        p = PolicyProblem(mu, cov)
        thr = np.array([[rv, rc] for rv in (0.0, 1.0, 2.0) for rc in (0.5, 1.0, 1.5)])
        out["cases"][f"table2_{case}"] = run_case(
            f"table2_{case}",
            p,
            None,
            thr,
            thr,
            dict(eta=1e-3, n_steps=2000 if quick else 100_000, n_dirichlet=1000),
            n_check,
        )
    if DATA.exists():
        f1 = DATA / "rtb_private_1d_9buckets_3policies.npz"
        tr, te = PolicyProblem.from_npz(f1, "train"), PolicyProblem.from_npz(f1, "test")
        thr = np.linspace(0.010, 0.0365, 12)
        out["cases"]["private_1d"] = run_case(
            "private_1d",
            tr,
            te,
            thr,
            thr,
            dict(
                eta=0.01,
                n_steps=5000 if quick else 100_000,
                n_dirichlet=5000 if quick else 50_000,
            ),
            n_check,
        )
        f2 = DATA / "rtb_private_2d_9buckets_3policies.npz"
        tr, te = PolicyProblem.from_npz(f2, "train"), PolicyProblem.from_npz(f2, "test")
        thr = [[rv, 0.0] for rv in np.linspace(0, 0.02, 5)]
        thr += [[0.0, rc] for rc in np.linspace(-0.03, 0.02, 6)]
        thr = np.array(thr)
        out["cases"]["private_2d"] = run_case(
            "private_2d",
            tr,
            te,
            thr,
            thr,
            dict(eta=1e-4, n_steps=2000 if quick else 200_000, n_dirichlet=1000),
            n_check,
        )
        f3 = DATA / "criteo_uplift_v2_2d_8buckets.npz"
        tr, te = PolicyProblem.from_npz(f3, "train"), PolicyProblem.from_npz(f3, "test")
        gains = np.array(
            [[gv, gc] for gv in np.linspace(0, 0.2, 5) for gc in np.linspace(0, 0.2, 5)]
        )
        thr = (1 + gains) * tr.reference_totals
        thr_test = (1 + gains) * te.reference_totals
        out["cases"]["criteo"] = run_case(
            "criteo",
            tr,
            te,
            thr,
            thr_test,
            dict(eta=1e-3, n_steps=2000 if quick else 100_000, n_dirichlet=1000),
            n_check,
        )
        for key, jax_s in PAPER_JAX_SECONDS.items():
            s = out["cases"][key]["summary"]
            s["paper_jax_seconds_per_threshold"] = jax_s
            s["speedup_vs_paper_jax"] = jax_s / s["solver_seconds_per_threshold"]
            print(
                f"{key}: x{s['speedup_vs_paper_jax']:.0f} faster than the paper's JAX "
                f"(issue author's timing, {jax_s} s)"
            )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
