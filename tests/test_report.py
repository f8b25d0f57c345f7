"""The HTML report: self-contained, recommending first, diagnostics last."""

import re

from matplotlib.figure import Figure

from pymc_robust_alloc.report import file_checksum, report_html


def test_report_is_self_contained_and_recommends_first(success_result, tmp_path):
    fig = Figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    page = report_html(
        success_result,
        title="Demo",
        figures={"A figure": fig},
        inputs={"regression": data},
    )
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)  # no external file or URL
    assert '<img src="data:image/png;base64,' in page
    order = [
        "Recommendation: minimax plan",
        "Spend per period",
        "Expected outcome over the horizon",
        "Regret matrix: share",
        "Probability of beating",
        "Diagnostics",
        "Inputs",
        "Settings",
    ]
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)
    assert file_checksum(data) in page
    assert "pymc-robust-alloc 0.1.0" in page
    assert not re.search(r"\de-\d", page.split("Diagnostics")[0])
