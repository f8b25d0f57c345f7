"""A self-contained HTML report of a robust allocation run."""

from __future__ import annotations

import html
from collections.abc import Mapping

import pandas as pd

__all__ = ["render_report"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em;
       color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; }
img { max-width: 100%; margin: 0.5em 0 1.5em; }
.note { color: #555; }
"""


def render_report(
    *,
    title: str,
    plans: pd.DataFrame,
    regret_matrix: pd.DataFrame,
    summaries: Mapping[str, pd.DataFrame],
    images: Mapping[str, str],
    settings: Mapping | None = None,
) -> str:
    """Render the report of a run as one HTML page.

    Parameters
    ----------
    title : str
        Page title.
    plans : pandas.DataFrame
        Spend per period, one row per plan.
    regret_matrix : pandas.DataFrame
        Regret of each plan (rows) under each view (columns), with ``max regret``.
    summaries : mapping of str to DataFrame
        Fit summary of each view.
    images : mapping of str to str
        Caption -> image path relative to the report.
    settings : mapping, optional
        Run settings shown at the top (budget, periods, ...).

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> import pandas as pd
    >>> page = render_report(title="Run", plans=pd.DataFrame({"tv": [1.0]}),
    ...                      regret_matrix=pd.DataFrame({"max regret": [0.1]}),
    ...                      summaries={}, images={})
    >>> page.startswith("<!DOCTYPE html>")
    True
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if settings:
        items = "".join(
            f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>"
            for k, v in settings.items()
        )
        parts.append(f"<ul>{items}</ul>")
    parts += [
        "<h2>Regret matrix</h2>",
        '<p class="note">Regret R(a, m) = 1 - V(a, m) / V*(m): the share of view '
        "m's best achievable increment that plan a gives up, judged within each "
        "view. The minimax plan keeps the largest of these small.</p>",
        regret_matrix.to_html(float_format=lambda v: f"{v:.1%}"),
        "<h2>Plans (spend per period)</h2>",
        plans.to_html(float_format=lambda v: f"{v:,.2f}"),
    ]
    for caption, src in images.items():
        parts.append(f"<h3>{html.escape(caption)}</h3>")
        parts.append(f'<img src="{html.escape(src)}" alt="{html.escape(caption)}">')
    if summaries:
        parts.append("<h2>Fitted views</h2>")
    for name, table in summaries.items():
        method = table.attrs.get("method", "")
        shape = table.attrs.get("shape", "")
        parts.append(f"<h3>{html.escape(name)}: {html.escape(f'{shape} ({method})')}</h3>")
        parts.append(table.to_html(float_format=lambda v: f"{v:.4g}"))
    parts.append("</body></html>")
    return "\n".join(parts)
