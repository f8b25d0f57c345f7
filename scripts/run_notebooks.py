"""Execute the gallery notebooks top to bottom and save their outputs in place.

The notebooks in ``notebooks/`` are committed with their outputs, as
PyMC-Marketing's gallery is. Regenerate them after any change to a notebook or
to the package, from the repository root::

    .venv/bin/python scripts/run_notebooks.py                 # every notebook
    .venv/bin/python scripts/run_notebooks.py notebooks/mmm_robust_budget.ipynb
    .venv/bin/python scripts/run_notebooks.py --check         # run, write nothing

Each notebook runs in a fresh ``python3`` kernel started with this interpreter
(``jupyter_client`` replaces the kernelspec's ``python`` by ``sys.executable``),
with the notebook's folder as working directory, so run the script with the
project's virtual environment. A cell that raises stops the run with the
error and leaves the notebook file untouched. Cell timings are not recorded,
so that a rerun that changes nothing leaves the files unchanged.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
#: Seconds a single cell may take before the run is abandoned.
CELL_TIMEOUT = 600


def execute(path: Path, *, write: bool = True) -> float:
    """Execute one notebook; write its outputs back unless ``write`` is False.

    Parameters
    ----------
    path : pathlib.Path
        The ``.ipynb`` file.
    write : bool, default True
        Save the executed notebook over ``path``.

    Returns
    -------
    float
        Wall time of the execution in seconds (kernel start included).
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    if write:
        nbformat.write(notebook, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="notebooks to run (default: every notebooks/*.ipynb)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="execute without writing the outputs back",
    )
    args = parser.parse_args(argv)
    paths = args.paths or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print(f"No notebooks found in {NOTEBOOKS}.", file=sys.stderr)
        return 1
    total = 0.0
    for path in paths:
        print(f"{path} ...", flush=True)
        try:
            seconds = execute(path.resolve(), write=not args.check)
        except CellExecutionError as error:
            print(f"{path} failed:\n{error}", file=sys.stderr)
            return 1
        total += seconds
        print(f"  {seconds:.1f} s", flush=True)
    print(f"{len(paths)} notebook(s) in {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
