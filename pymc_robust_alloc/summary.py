"""A result in plain words and readable tables, for a notebook and for the report."""

from __future__ import annotations

import html

import pandas as pd

from pymc_robust_alloc.formatting import number, percent, signed, signed_percent
from pymc_robust_alloc.result import LONG_SHOT, MAX_REGRET, AllocationResult

__all__ = [
    "convergence_text",
    "level",
    "long_shot_text",
    "outcome_frame",
    "percent_html",
    "recommendation_text",
    "reference_note",
    "result_html",
    "spend_frame",
]


def _unit(unit: str | None) -> str:
    return f" {unit}" if unit else ""


def level(interval: float) -> str:
    """Name a credible level, e.g. "90 %".

    Examples
    --------
    >>> level(0.9), level(0.975)
    ('90 %', '97.5 %')
    """
    return f"{100 * interval:g} %"


def recommendation_text(result: AllocationResult, interval: float = 0.9) -> list[str]:
    """Say which plan the result recommends and why, in plain sentences.

    Examples
    --------
    ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

    >>> print(recommendation_text(result)[0])  # doctest: +ELLIPSIS
    The weighted minimax plan keeps at least ... of the best achievable outcome: at worst
    it gives up ... of it, under the view 'regression' (with the views weighted as given:
    experiment 2, the others 1). ...
    """
    name = result.recommended
    regret = result.regret.sel(plan=name)
    worst = str(regret.idxmax().item())
    kept = 1 - float(regret.max())
    if name == "weighted minimax":
        weights = result.settings.get("weights") or {}
        given = ", ".join(f"{v} {w:g}" for v, w in weights.items())
        why = f"with the views weighted as given: {given}, the others 1"
    else:
        why = "with every view trusted alike"
    lines = [
        f"The {name} plan keeps at least {percent(kept)} of the "
        f"best achievable outcome: at worst it gives up {percent(float(regret.max()))} of it, "
        f"under the view {worst!r} ({why})."
    ]
    own = result.regret_matrix.loc[[v for v in result.views if v in result.regret_matrix.index]]
    if len(own):
        best = own[MAX_REGRET].idxmin()
        lines[0] += (
            f" By contrast, the best single view's plan ({best}) gives up up to "
            f"{percent(float(own.loc[best, MAX_REGRET]))} under some other view."
        )
    units = result.units
    if result.baseline is not None:
        spend = spend_frame(result).drop(index="total").groupby(level=0, sort=False).sum()
        moves = ", ".join(
            f"{c} {signed(float(spend.loc[c, 'change']))}"
            for c in spend["change"].abs().sort_values(ascending=False).index
        )
        unit = f" ({units['spend']})" if units["spend"] else ""
        line = f"Against the {result.baseline} plan it moves spend per period{unit}: {moves}."
        if result.increments is not None:
            out = result.outcomes()
            changes = ", ".join(
                f"{v} {signed_percent(float(out['change_share'].sel(plan=name, view=v)))}"
                for v in result.views
            )
            line += f" Expected outcome against it, per view: {changes}."
        lines.append(line)
    if result.increments is not None:
        out = result.outcomes(interval)
        parts = []
        for view in result.views:
            cell = out.sel(plan=name, view=view)
            text = (
                f"{view}: {number(cell['expected'])}{_unit(units['outcome'][view])} "
                f"({level(interval)} interval {number(cell['lower'])} to "
                f"{number(cell['upper'])})"
            )
            if "change" in out:
                text += (
                    f", {signed(float(cell['change']), float(cell['change_share']))} vs "
                    f"{result.baseline}"
                )
            parts.append(text)
        lines.append("Expected outcome over the horizon, per view: " + "; ".join(parts) + ".")
    if result.long_shot:
        lines.append(long_shot_text(result))
    return lines


def long_shot_text(result: AllocationResult) -> str:
    """Say that no plan is likely to reach the required gain, and what each view can reach."""
    gain = float(result.settings.get("required_gain", 0.0))
    best = result.success_probability.sel(plan="success")
    reach = result.reachable_gain
    reachable = ", ".join(f"{v}: {percent(float(reach.sel(view=v)))}" for v in result.views)
    if not result.long_shot:
        return (
            f"The required gain is within reach: the success plan beats the reference by "
            f"{percent(gain)} with probability at least {percent(float(best.min()))} under "
            f"every view."
        )
    return (
        f"No plan is likely to reach the required gain of {percent(gain)} over the reference: "
        f"the best plan succeeds with probability {percent(float(best.min()))} under the view "
        f"{str(best.idxmin().item())!r}, below {percent(LONG_SHOT)}, so the success plan is a "
        f"long shot, not a recommendation. The largest expected gain each view can reach "
        f"(its own optimum): {reachable}."
    )


def spend_frame(result: AllocationResult) -> pd.DataFrame:
    """Spend per period by budget cell: the recommended plan, the baseline plan and the change.

    Rows are channels, or (channel, geo, ...) cells when the views have more
    budget dims; the last row is the total.

    Examples
    --------
    ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

    >>> list(spend_frame(result).columns)
    ['weighted minimax', 'reference', 'change']
    """
    names = [result.recommended] + ([result.baseline] if result.baseline else [])
    plans = result.plans.sel(plan=names)
    cells = [d for d in plans.dims if d != "plan"]
    # Rows in the views' order of labels, one column per plan.
    table = plans.transpose(*cells, "plan").to_series().unstack("plan")
    order = pd.MultiIndex.from_product([plans.indexes[d] for d in cells], names=cells)
    table = table.reindex(order if len(cells) > 1 else order.get_level_values(0))[names]
    table.columns = [str(c) for c in table.columns]
    if result.baseline:
        table["change"] = table[result.recommended] - table[result.baseline]
    total = "total" if len(cells) == 1 else ("total", *[""] * (len(cells) - 1))
    table.loc[total, :] = table.sum()
    # Rounding of plans that spend the same budget is no change.
    return table.where(table.abs() > 1e-9 * float(table.iloc[-1].abs().max()), 0.0)


def outcome_frame(
    result: AllocationResult, interval: float = 0.9, *, markup: bool = False
) -> pd.DataFrame:
    """Outcomes of the recommended and baseline plans per view, formatted for reading.

    With ``markup``, view labels are HTML (the unit on a second line) and every
    other cell is escaped: render with ``to_html(escape=False)``.
    """
    out = result.outcomes(interval)
    name = f"{level(interval)} interval"
    rows = {}
    for view in result.views:
        unit = result.units["outcome"][view]
        label = f"{view} ({unit})" if unit else view
        if markup:
            label = html.escape(view) + (f"<br><small>{html.escape(unit)}</small>" if unit else "")
        for plan in [result.recommended] + ([result.baseline] if result.baseline else []):
            cell = out.sel(plan=plan, view=view)
            row = {
                "expected": number(cell["expected"]),
                name: f"{number(cell['lower'])} to {number(cell['upper'])}",
                "return per unit spend": number(cell["return_on_spend"]),
            }
            if "change" in out and plan != result.baseline:
                row[f"change vs {result.baseline}"] = signed(
                    float(cell["change"]), float(cell["change_share"])
                )
            rows[(label, plan)] = row
    frame = pd.DataFrame.from_dict(rows, orient="index").fillna("")
    if markup:
        frame = frame.map(html.escape)
    frame.index.names = ["view", "plan"]
    return frame


def percent_html(table: pd.DataFrame, highlight: str | None = None) -> str:
    """Render a table of shares as HTML with :func:`~pymc_robust_alloc.formatting.percent`."""
    body = table.map(percent)
    classes = "numbers"
    text = body.to_html(classes=classes, border=0, escape=True, index_names=False)
    if highlight is not None:
        row = f"<th>{html.escape(highlight)}</th>"
        text = text.replace(f"<tr>\n      {row}", f'<tr class="highlight">\n      {row}')
    return text


def convergence_text(result: AllocationResult) -> str:
    """Say in one line whether every solve converged and whether minimax is certified."""
    failed = [s.plan for s in result.solves if not s.success]
    text = (
        f"All {len(result.solves)} solves converged"
        if not failed
        else f"{len(failed)} of {len(result.solves)} solves did not converge ({', '.join(failed)})"
    )
    certificate = result.certificate
    if "minimax" in certificate.index and bool(certificate.loc["minimax", "certified"]):
        gap = float(certificate.loc["minimax", "gap"])
        shown = "0" if gap == 0 else percent(gap)
        text += f"; the minimax plan is certified optimal (max regret within {shown} of the bound)"
    elif "minimax" in certificate.index:
        text += "; no certificate (some view is not provably concave)"
    return text + "."


def result_html(result: AllocationResult, interval: float = 0.9) -> str:
    """Summarise a result in compact HTML: the recommendation, regret matrix, convergence."""
    parts = [
        '<div class="robust-alloc-result">',
        f"<b>AllocationResult</b>: {result.plans.sizes['plan']} plans under "
        f"{len(result.views)} views ({', '.join(map(html.escape, result.views))}).",
    ]
    parts.append(f"<p><b>Recommended plan: {html.escape(result.recommended)}</b></p>")
    parts += [f"<p>{html.escape(line)}</p>" for line in recommendation_text(result, interval)]
    spend = spend_frame(result).map(number)
    parts.append(f"<p>Spend per period by channel{_unit(result.units['spend'])}:</p>")
    parts.append(spend.to_html(border=0, index_names=False))
    parts.append("<p>Regret (share of each view's achievable outcome given up):</p>")
    parts.append(percent_html(result.regret_matrix, result.recommended))
    success = result.success_matrix
    if success is not None:
        gain = float(result.settings.get("required_gain", 0.0))
        parts.append(
            f"<p>Probability of beating the reference by {html.escape(percent(gain))}:</p>"
        )
        parts.append(percent_html(success))
        note = reference_note(result)
        if note:
            parts.append(f"<p><small>{html.escape(note)}</small></p>")
    parts.append(f"<p>{html.escape(convergence_text(result))}</p></div>")
    return "\n".join(parts)


def reference_note(result: AllocationResult) -> str | None:
    r"""Explain the reference plan's own success probability under the Gaussian approximation.

    Against itself, :math:`D_d = -r\, V_d(a_{ref})`: with :math:`r > 0` it is
    non-negative only in draws where the reference adds nothing. The Gaussian
    estimate :math:`\Phi(\bar D / s_D) = \Phi(-\bar V / s_V)` is the normal
    tail below zero of the reference's increment, not a chance that the plan
    beats itself; the draws count it exactly. ``None`` when there is nothing to
    explain.
    """
    success = result.success_probability
    if success is None or result.increments is None or "reference" not in success["plan"]:
        return None
    gain = float(result.settings.get("required_gain", 0.0))
    own = success.sel(plan="reference")
    if result.settings.get("success_method", "gaussian") != "gaussian" or gain <= 0:
        return None
    if float(own.max()) <= 0:
        return None
    counted = (result.increments.sel(plan="reference") <= 0).mean("sample")
    view = str(own.idxmax().item())
    return (
        f"The reference plan's own probability ({percent(float(own.max()))} under {view!r}) is "
        "an artefact of the Gaussian approximation: it is the normal tail below zero of the "
        "reference's increment, not a chance that the plan beats itself by the required gain. "
        f"Counted draw by draw it is {percent(float(counted.sel(view=view)))}."
    )
