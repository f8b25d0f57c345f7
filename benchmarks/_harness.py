"""Plumbing shared by benchmark scripts: worker subprocesses, facts, tables, ratios, JSON."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def peak_mb() -> float:
    """Peak resident memory of this process in MB (``ru_maxrss`` is in KiB on Linux).

    ``ru_maxrss`` survives fork + exec, so a worker's value is at least its parent's
    resident size at the fork: keep the parent that spawns workers light.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_env(compiledir: Path, blas_threads: int) -> dict[str, str]:
    """This environment with a PyTensor (and Numba) cache in ``compiledir`` and, if
    ``blas_threads`` > 0, that many BLAS / OpenMP threads."""
    env = os.environ | {
        "PYTENSOR_FLAGS": f"base_compiledir={compiledir}",
        "NUMBA_CACHE_DIR": str(compiledir / "numba"),
    }
    if blas_threads > 0:
        names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
        env |= dict.fromkeys(names, str(blas_threads))
    return env


def run_worker(
    script: str, args: Sequence[str], env: dict[str, str], out: Path, timeout: float
) -> dict[str, Any]:
    """Run ``script --worker ARGS --out OUT`` in a fresh interpreter; return OUT's JSON.

    A failure or timeout is returned as ``{"error": ...}`` (the stderr's tail).
    """
    cmd = [sys.executable, script, "--worker", *args, "--out", str(out)]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if proc.returncode != 0:
        return {"error": proc.stderr[-3000:]}
    return json.loads(out.read_text())


def spawn(
    script: str, args: Sequence[str], compiledir: Path, timeout: float, blas_threads: int = 0
) -> dict[str, Any]:
    """:func:`run_worker` on ``compiledir``, warnings off; raise if the worker failed.

    Adds ``process_seconds`` (interpreter start to exit) to the worker's report.
    """
    env = worker_env(compiledir, blas_threads) | {"PYTHONWARNINGS": "ignore"}
    out = compiledir / f"{'-'.join(args) or 'worker'}.json"
    start = time.perf_counter()
    report = run_worker(script, args, env, out, timeout)
    if "error" in report:
        raise RuntimeError(f"{Path(script).name} {' '.join(args)} failed:\n{report['error']}")
    return report | {"process_seconds": time.perf_counter() - start}


def cold_then_warm(
    script: str, args: Sequence[str], root: str, repeats: int, timeout: float
) -> dict[str, Any]:
    """One run on an empty compiledir (cold), then ``repeats`` runs on the filled one (warm)."""
    compiledir = Path(tempfile.mkdtemp(prefix=f"{'-'.join(args) or 'worker'}_", dir=root))
    label = " ".join(args)
    print(f"  {label}: cold ...", flush=True)
    cold = spawn(script, args, compiledir, timeout)
    print(f"    {cold['seconds']:.2f} s (+{cold['import_seconds']:.2f} s imports)", flush=True)
    warm = []
    for i in range(repeats):
        print(f"  {label}: warm {i + 1}/{repeats} ...", flush=True)
        warm.append(spawn(script, args, compiledir, timeout))
        print(f"    {warm[-1]['seconds']:.2f} s", flush=True)
    return {"cold": cold, "warm": warm}


def print_ratios(title: str, rows: dict[str, float], baseline: str, width: int = 58) -> None:
    """Seconds per row and each row's ratio to the ``baseline`` row, measured in the same run."""
    print(f"{title} (ratio to {baseline!r})")
    for label, seconds in rows.items():
        print(f"  {label:{width}s}{seconds:9.2f} s  x{seconds / rows[baseline]:6.2f}")


def facts(packages: Sequence[str] = ("pymc", "pymc-marketing", "pytensor", "numba", "numpy")):
    """What a result depends on: the commit, the machine and its load, package versions."""
    return {"git": git_state(), "machine": machine(), "versions": versions(packages)}


def write_json(name: str, payload: dict[str, Any], command: str) -> Path:
    """Write ``benchmarks/results/<name>.json`` with its command first; print where."""
    out = ROOT / "benchmarks" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": command, **payload}, indent=2, default=str) + "\n")
    print(f"Wrote {out.relative_to(ROOT)}")
    return out


def records(table: Any) -> Any:
    """A result table (a DataFrame, maybe with a repeated index) as JSON-ready records."""
    if table is None or not hasattr(table, "reset_index"):
        return None if table is None else str(table)
    return json.loads(table.reset_index().to_json(orient="records", default_handler=str))


def git_state(path: str = "pymc_robust_alloc") -> dict[str, Any]:
    """Commit of the repository and whether ``path`` has uncommitted changes."""

    def git(*args: str) -> str:
        run = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
        return run.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", path))}


def fmt(x: Any, spec: str = ".3f") -> str:
    """``x`` formatted, or ``-`` when missing."""
    return "-" if x is None else format(x, spec)


def print_table(header: Sequence[str], rows: Sequence[Sequence[Any]], width: int = 32) -> None:
    """Rows of a label then numbers (None prints ``-``), right-aligned under ``header``."""
    print("  " + " " * width + "".join(f"{h:>14s}" for h in header))
    for label, *values in rows:
        print(f"  {label:{width}s}" + "".join(f"{fmt(v):>14s}" for v in values))


def print_records(title: str, rows: Sequence[dict] | None, skip: Sequence[str] = ()) -> None:
    """A title with the column names, then one line of values per record."""
    columns = [k for k in (rows[0] if rows else {}) if k not in skip]
    print(f"  {title}: " + (", ".join(columns) or "none"))
    for row in rows or []:
        print("    " + "  ".join(str(row[k]) for k in columns))


def machine() -> dict[str, Any]:
    """Platform, Python, CPU count and load of this machine now."""
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_1_5_15": list(os.getloadavg()),
        "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
    }


def versions(packages: Sequence[str] = ("pymc", "pymc-marketing", "pytensor", "numba", "numpy")):
    """Installed versions of ``packages``."""
    from importlib.metadata import version

    return {p: version(p) for p in packages}
