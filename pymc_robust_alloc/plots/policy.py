"""Figures of a policy problem: success probabilities against the threshold, and a plan."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from pymc_robust_alloc.plots.style import annotate_cells, panels, single

__all__ = ["plot_plan", "plot_success_curves"]

_TITLES = {
    "C_train": "train",
    "C_test": "test (same gain over the test reference)",
    "C_test_train_threshold": "test (train thresholds)",
    "log_failure_train": "train",
    "log_failure_test": "test (same gain over the test reference)",
    "log_failure_test_train_threshold": "test (train thresholds)",
}


def plot_success_curves(
    evaluation: xr.Dataset,
    variables: Sequence[str] = ("C_train", "C_test"),
    outcome: str | None = None,
    log_scale: bool = False,
    *,
    axes=None,
) -> Figure:
    """Plot the success probability of each plan against the threshold.

    The paper's figures: one panel per variable (train, test), one line per plan.

    Parameters
    ----------
    evaluation : xarray.Dataset
        The result of :func:`evaluate_plans`.
    variables : sequence of str, default ("C_train", "C_test")
        One panel each; ``log_failure_*`` is drawn as :math:`1 - C` on a log scale.
    outcome : {"value", "cost"}, optional
        For (value, cost) thresholds, the one on the x-axis, the other held at
        its first value. Default: the component that varies most.
    log_scale : bool, default False
        Plot C on a log scale (useful in the tails).
    axes : optional
        One axes per variable.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_robust_alloc.policy import PolicyProblem, evaluate_plans
    >>> train = PolicyProblem([[0.0, 0.02]], [[0.0, 1e-4]])
    >>> test = PolicyProblem([[0.0, 0.01]], [[0.0, 1e-4]])
    >>> plans = {"treat": np.array([[0.0, 1.0]]), "half": np.array([[0.5, 0.5]])}
    >>> ev = evaluate_plans(train, test, plans, np.linspace(0.0, 0.03, 7))
    >>> len(plot_success_curves(ev).axes)
    2
    """
    missing = [v for v in variables if v not in evaluation]
    if missing:
        raise ValueError(
            f"Variables {missing} are not in the evaluation; available: "
            f"{list(evaluation.data_vars)}."
        )
    x, xlabel, keep = _x_axis(evaluation, outcome)
    order = np.argsort(x[keep], kind="stable")
    fig, axes, _ = panels(axes, (1, len(variables)), (4.5 * len(variables), 3.5))
    for ax, var in zip(axes[0], variables, strict=True):
        failure = var.startswith("log_failure")
        for plan in evaluation["plan"].values:
            c = evaluation[var].sel(plan=plan).values[keep][order]
            ax.plot(x[keep][order], np.exp(c) if failure else c, marker="o", ms=3, label=str(plan))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("failure probability 1 - C" if failure else "success probability C")
        ax.set_title(_TITLES.get(var, var))
        if log_scale or failure:
            ax.set_yscale("log")
        else:
            ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0, -1].legend(fontsize="small")
    return fig


def plot_plan(psi: xr.DataArray, title: str | None = None, *, ax: Axes | None = None) -> Figure:
    r"""Heatmap of a plan :math:`\psi`: the share of each bucket given to each policy.

    ``psi`` has dims ``(bucket, policy)``, e.g. ``SuccessProbaResult.psi``;
    draws on ``ax`` if given, else on a new figure.

    Examples
    --------
    >>> from pymc_robust_alloc.policy import PolicyProblem, success_proba_max
    >>> mu, var = [[2.0, 1.9, 0.0], [2.0, 1.0, 0.0]], [[9, 1, 9], [9, 1, 9]]
    >>> fig = plot_plan(success_proba_max(PolicyProblem(mu, var), 3.0).psi)
    >>> fig.axes[0].get_ylabel()
    'bucket'
    """
    if not isinstance(psi, xr.DataArray) or set(psi.dims) != {"bucket", "policy"}:
        raise ValueError(
            "Expected psi as an xarray.DataArray with dims ('bucket', 'policy'), e.g. "
            "result.psi or problem.as_plan(array)."
        )
    psi = psi.transpose("bucket", "policy")
    values = psi.values
    fig, ax, _ = single(ax, (1.2 + 0.9 * values.shape[1], 1.0 + 0.45 * values.shape[0]))
    image = ax.imshow(values, vmin=0.0, vmax=1.0, cmap="Blues", aspect="auto")
    ax.set_xticks(range(values.shape[1]), [str(p) for p in psi["policy"].values])
    ax.set_yticks(range(values.shape[0]), [str(b) for b in psi["bucket"].values])
    ax.set_xlabel("policy")
    ax.set_ylabel("bucket")
    annotate_cells(ax, image, values, ".2f", fontsize="small")
    fig.colorbar(image, ax=ax, label="share of the bucket")
    if title:
        ax.set_title(title)
    return fig


def _x_axis(evaluation: xr.Dataset, outcome: str | None):
    r = evaluation["r_train"]
    if "outcome" not in r.dims:
        return r.values, "threshold r", np.ones(r.sizes["threshold"], dtype=bool)
    if outcome is None:
        spread = [np.unique(r.sel(outcome=o).values).size for o in r["outcome"].values]
        outcome = str(r["outcome"].values[int(np.argmax(spread))])
    if outcome not in r["outcome"].values:
        raise ValueError(f"outcome must be one of {list(r['outcome'].values)}, got {outcome!r}.")
    other = next(o for o in r["outcome"].values if o != outcome)
    fixed = r.sel(outcome=other).values
    # the curve is a cut through the threshold grid: the other threshold held fixed
    keep = fixed == fixed[0]
    label = f"threshold r_{outcome[0]} (r_{other[0]} = {fixed[0]:.4g})"
    return r.sel(outcome=outcome).values, label, keep
