"""Every gallery notebook runs top to bottom without an error.

Each notebook is executed in a fresh ``python3`` kernel of this interpreter
(``jupyter_client`` starts ``sys.executable`` for the kernelspec's ``python``),
in the notebook's folder, and nothing is written back: the committed outputs are
refreshed with ``scripts/run_notebooks.py``.
"""

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_the_gallery_has_its_three_notebooks():
    assert {p.name for p in PATHS} >= {
        "decision_making_under_contradictions.ipynb",
        "success_probability_allocation.ipynb",
        "mmm_robust_budget.ipynb",
    }


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs_top_to_bottom(path):
    notebook = nbformat.read(path, as_version=4)
    # A first cell that reports the kernel's interpreter: it must be this venv's.
    probe = nbformat.v4.new_code_cell("import sys; print(sys.executable)")
    notebook.cells.insert(0, probe)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=600,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    executable = notebook.cells[0].outputs[0]["text"].strip()
    assert executable == sys.executable
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors


def test_readme_example_in_a_new_notebook_prints_no_warning():
    """A user's own notebook has no cell of warning filters: the example must be quiet."""
    readme = (NOTEBOOKS.parent / "README.md").read_text()
    example = readme.split("```python\n", 1)[1].split("```", 1)[0]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(example)]
    NotebookClient(notebook, kernel_name="python3", timeout=600).execute()
    streams = [
        output.get("text", "")
        for output in notebook.cells[0].outputs
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    ]
    assert streams == []
