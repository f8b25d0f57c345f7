"""A self-contained HTML report of a robust allocation run."""

from __future__ import annotations

import base64
import hashlib
import html
import io
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from pymc_robust_alloc import __version__
from pymc_robust_alloc.formatting import number, percent
from pymc_robust_alloc.summary import (
    convergence_text,
    level,
    long_shot_text,
    outcome_frame,
    percent_html,
    recommendation_text,
    reference_note,
    spend_frame,
)

__all__ = ["file_checksum", "report_html"]

_STYLE = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --accent: #0b5cad;
        --good: #1a7f37; --warn: #9a6700; --warnbg: #fff8c5; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0 auto; padding: 1.2em 2em 3em; max-width: 84em; line-height: 1.45; }
header { display: flex; justify-content: space-between; align-items: baseline; flex-wrap: wrap;
         gap: 0.5em; border-bottom: 1px solid var(--line); padding-bottom: 0.4em; }
header h1 { font-size: 1.45em; margin: 0; }
.meta { color: var(--muted); font-size: 0.85em; }
.decision { background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
            padding: 0.9em 1.2em; margin: 1em 0; }
.decision h2 { margin: 0 0 0.3em; font-size: 1.25em; color: var(--accent); }
.decision p { margin: 0.35em 0; }
.warning { background: var(--warnbg); border: 1px solid #d4a72c; border-radius: 8px;
           padding: 0.7em 1.2em; margin: 1em 0; }
.grid { display: flex; flex-wrap: wrap; column-gap: 2em; align-items: flex-start; }
.grid > div { flex: 0 0 auto; max-width: 100%; overflow-x: auto; }
.grid p.note { max-width: 48em; }
@media (max-width: 1100px) { .grid { grid-template-columns: 1fr; } }
h2 { font-size: 1.15em; margin: 1.6em 0 0.4em; }
h3 { font-size: 1em; margin: 1.2em 0 0.3em; }
table { border-collapse: collapse; margin: 0.3em 0 1em; font-size: 0.9em;
        font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 0.28em 0.6em; text-align: right;
         white-space: nowrap; }
th { background: var(--panel); font-weight: 600; }
tbody th { text-align: left; }
tr.highlight td, tr.highlight th { background: #ddf4ff; font-weight: 600; }
.note { color: var(--muted); font-size: 0.88em; }
figure { margin: 0.5em 0 1.5em; }
figure img { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 0.85em; }
details { margin: 0.5em 0; }
code { font-size: 0.9em; }
"""


def file_checksum(path: str | Path) -> str:
    """Return the SHA-256 of a file's bytes (hex), to identify the inputs of a run."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _image(figure) -> str:
    """Embed a matplotlib figure as a PNG data URI: the page needs no other file."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"data:image/png;base64,{data}"


def report_html(
    result,
    *,
    title: str = "Robust budget allocation",
    figures: Mapping[str, Any] | None = None,
    diagnostics: Mapping[str, Any] | None = None,
    fits: Mapping[str, pd.DataFrame] | None = None,
    inputs: Mapping[str, str | Path] | None = None,
    settings: Mapping[str, Any] | None = None,
    interval: float = 0.9,
    created: datetime | None = None,
) -> str:
    """Write the report of a result as one self-contained HTML page.

    The first screen recommends a plan and says why, compares its spend with
    the current (reference) plan and gives the expected outcome under each view
    with a credible interval; then come the regret matrix, the success
    probabilities, the figures, and last the diagnostics (fits, convergence,
    certificate), the inputs' checksums and the settings. Figures are embedded
    as data URIs: the page needs no other file nor a network.

    Parameters
    ----------
    result : AllocationResult
        The allocation.
    title : str, default "Robust budget allocation"
        Page title.
    figures : mapping of str to matplotlib Figure, optional
        Caption -> figure, shown after the tables.
    diagnostics : mapping of str to matplotlib Figure, optional
        Caption -> figure, shown among the diagnostics (e.g. each view's fit).
    fits : mapping of str to DataFrame, optional
        Each view's fit summary.
    inputs : mapping of str to path, optional
        Input files, listed with their SHA-256.
    settings : mapping, optional
        Run settings to list (the result's own settings are listed too).
    interval : float, default 0.9
        Level of the outcomes' credible intervals.
    created : datetime, optional
        Date of the report (default: now, UTC).

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

    >>> page = report_html(result, title="Demo")
    >>> page.startswith("<!DOCTYPE html>"), "Recommendation:" in page, "http" in page
    (True, True, False)
    """
    created = created or datetime.now(UTC)
    esc = html.escape
    units = result.units
    spend_unit = f" ({esc(units['spend'])})" if units["spend"] else ""
    lines = recommendation_text(result, interval)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>",
        f'<header><h1>{esc(title)}</h1><span class="meta">{created:%Y-%m-%d %H:%M} UTC'
        f" · pymc-robust-alloc {esc(__version__)}</span></header>",
        '<section class="decision">',
        f"<h2>Recommendation: {esc(result.recommended)} plan</h2>",
        *(f"<p>{esc(line)}</p>" for line in lines if not line.startswith("Expected outcome")),
        "</section>",
    ]
    if result.long_shot:
        parts.append(
            f'<div class="warning"><b>No long shots.</b> {esc(long_shot_text(result))}</div>'
        )
    spend = spend_frame(result).map(number)
    parts += [
        '<div class="grid"><div>',
        f"<h2>Spend per period{spend_unit}</h2>",
        spend.to_html(border=0, index_names=False),
        '</div><div class="scroll">',
        f"<h2>Expected outcome over the horizon, per view ({level(interval)} interval)</h2>",
        outcome_frame(result, interval, markup=True).to_html(
            border=0, index_names=False, escape=False
        ),
        '<p class="note">Outcomes are increments over spending nothing. Each view counts its '
        "own outcome, so they are never added across views.</p>",
        "</div></div>",
        "<h2>Regret matrix: share of each view's achievable outcome a plan gives up</h2>",
        percent_html(result.regret_matrix, result.recommended),
        '<p class="note">Each row is a plan, each column a view: 0 % means the plan is that '
        "view's best; the last column is the worst case over the views. Each view's own plan "
        "is best for it and can be far from best for the others.</p>",
    ]
    success = result.success_matrix
    if success is not None:
        gain = float(result.settings.get("required_gain", 0.0))
        parts += [
            f"<h2>Probability of beating the reference plan by {esc(percent(gain))}</h2>",
            percent_html(success, "success"),
            f'<p class="note">{esc(long_shot_text(result))}</p>',
        ]
        note = reference_note(result)
        if note:
            parts.append(f'<p class="note">{esc(note)}</p>')
    for caption, figure in (figures or {}).items():
        parts.append(
            f'<figure><img src="{_image(figure)}" alt="{esc(caption)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>"
        )
    parts += [
        "<h2>Diagnostics</h2>",
        f"<p>{esc(convergence_text(result))}</p>",
        "<details><summary>Every solve</summary>",
        result.convergence[["objective", "success", "iterations", "value", "first_order"]].to_html(
            border=0, float_format=lambda v: f"{v:.3g}"
        ),
        "</details>",
    ]
    certificate = result.certificate
    if len(certificate):
        parts += [
            "<h3>Certificate of the minimax plans</h3>",
            certificate.to_html(border=0, index_names=False, float_format=lambda v: f"{v:.3g}"),
        ]
    for name, table in (fits or {}).items():
        shape = table.attrs.get("shape", "")
        method = table.attrs.get("method", "")
        parts.append(f"<h3>Fit of view {esc(name)}: {esc(f'{shape} ({method})')}</h3>")
        parts.append(table.to_html(border=0, index_names=False, float_format=lambda v: f"{v:.4g}"))
    for caption, figure in (diagnostics or {}).items():
        parts.append(
            f'<figure><img src="{_image(figure)}" alt="{esc(caption)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>"
        )
    if inputs:
        rows = "".join(
            f"<tr><th>{esc(name)}</th><td><code>{esc(str(path))}</code></td>"
            f"<td><code>{file_checksum(path)}</code></td></tr>"
            for name, path in inputs.items()
        )
        parts.append(
            "<h2>Inputs</h2><table><thead><tr><th>input</th><th>file</th><th>SHA-256</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    listed = {**(settings or {}), **_settings(result)}
    items = "".join(
        f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>" for k, v in listed.items()
    )
    parts.append(f"<h2>Settings</h2><table><tbody>{items}</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _settings(result) -> dict[str, Any]:
    keep = (
        "total_budget",
        "num_periods",
        "n_draws",
        "bounds",
        "weights",
        "quantile",
        "required_gain",
        "success_method",
        "n_starts",
        "random_seed",
    )
    return {k: result.settings[k] for k in keep if result.settings.get(k) is not None}
