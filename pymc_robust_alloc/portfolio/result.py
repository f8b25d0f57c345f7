"""A portfolio's results together: one labelled Dataset over problems, a table, a page."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from pymc_robust_alloc.names import MINIMAX
from pymc_robust_alloc.portfolio.problem import LABELS
from pymc_robust_alloc.report import _STYLE
from pymc_robust_alloc.result import AllocationResult

__all__ = ["PortfolioResult"]

#: The plan a problem recommends.
RECOMMENDED = MINIMAX
FILES = ("portfolio.nc", "summary.csv", "report.html")


@dataclass(frozen=True)
class PortfolioResult:
    """Every problem's outcome, labelled by problem (and market, brand, scenario, budget).

    Attributes
    ----------
    records : list of dict
        One per problem (its JSON file): ``name``, ``labels``, ``status``
        (``"converged"``, ``"not converged"``, ``"failed"``), ``error``, ``warnings``,
        ``compiled``, ``resumed``, ``seconds``, ``cpu_seconds`` and ``result``
        (:meth:`AllocationResult.to_dict <pymc_robust_alloc.AllocationResult.to_dict>`).
    dataset : xarray.Dataset
        ``plans``, ``value``, ``regret``, ``v_star``, ``max_regret``, ``converged``,
        ``status`` and ``error`` over ``problem``, with ``budget`` and the labels as
        coordinates; NaN where a problem failed or lacks a plan.

    Examples
    --------
    ``portfolio`` comes from :func:`~pymc_robust_alloc.portfolio.allocate_many`
    on two budgets of the demo.

    >>> portfolio.dataset["plans"].dims
    ('problem', 'plan', 'channel')
    >>> portfolio.summary[["budget", "status"]]
             budget     status
    problem
    demo-50    50.0  converged
    demo-100  100.0  converged
    """

    records: list[dict[str, Any]]
    dataset: xr.Dataset

    @classmethod
    def from_records(cls, records: Sequence[Mapping[str, Any]]) -> PortfolioResult:
        """Combine problem records (as :func:`allocate_many` writes them)."""
        records = [dict(r) for r in records]
        problems = [_problem_dataset(r) for r in records]
        dataset = xr.concat(problems, dim="problem", join="outer", coords="all")
        labels = [k for k in LABELS if any(k in r["labels"] for r in records)]
        dataset = dataset.assign_coords(
            problem=[r["name"] for r in records],
            **{k: ("problem", [str(r["labels"].get(k, "")) for r in records]) for k in labels},
        )
        return cls(records=records, dataset=dataset)

    @property
    def compiles(self) -> int:
        """Allocators this run compiled (one per group of problems sharing views, per worker)."""
        return sum(bool(r["compiled"]) and not r.get("resumed") for r in self.records)

    @property
    def failures(self) -> dict[str, str]:
        """``{problem: error}`` of the problems that failed."""
        return {r["name"]: r["error"] for r in self.records if r["status"] == "failed"}

    @property
    def summary(self) -> pd.DataFrame:
        """One row per problem: labels, budget, status, the minimax plan and its max regret."""
        ds = self.dataset
        table = pd.DataFrame(index=pd.Index(ds["problem"].values, name="problem"))
        for label in LABELS:
            if label in ds.coords:
                table[label] = ds[label].values
        table["budget"] = ds["budget"].values
        table["status"] = ds["status"].values
        if "plans" in ds:
            table["max regret"] = ds["max_regret"].sel(plan=RECOMMENDED).values
            plans = ds["plans"].sel(plan=RECOMMENDED)
            cells = plans.stack(cell=[d for d in plans.dims if d != "problem"])
            for i, cell in enumerate(cells["cell"].values):
                name = "/".join(map(str, cell)) if isinstance(cell, tuple) else str(cell)
                table[name] = cells.values[:, i]
        table["seconds"] = [r.get("seconds", np.nan) for r in self.records]
        table["error"] = ds["error"].values
        return table

    @property
    def results(self) -> dict[str, AllocationResult]:
        """Each solved problem's :class:`~pymc_robust_alloc.AllocationResult`, by name."""
        return {
            r["name"]: AllocationResult.from_dict(r["result"]) for r in self.records if r["result"]
        }

    def to_datatree(self) -> xr.DataTree:
        """Return the Dataset as group ``portfolio`` and each solved problem's result tree.

        ``problems/<name>`` is :meth:`AllocationResult.to_datatree
        <pymc_robust_alloc.AllocationResult.to_datatree>`, read back by ``from_datatree``.
        """
        trees = {f"/problems/{name}": r.to_datatree() for name, r in self.results.items()}
        # Siblings, not root and children: a child would inherit the root's coordinates.
        return xr.DataTree.from_dict({"/portfolio": self.dataset, **trees})

    def report(self, title: str = "Portfolio of robust allocations") -> str:
        """Render an HTML page listing every problem, its recommendation and any failure."""
        table = self.summary.drop(columns=["seconds"])
        ok = table["status"] != "failed"
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
            f"<p>{int(ok.sum())} of {len(table)} problems solved; "
            f"{int((table['status'] == 'converged').sum())} with every solve converged. "
            f"The recommendation is the {RECOMMENDED} plan (spend per period); max regret "
            "is its largest regret 1 - V/V* over the views.</p>",
            "<h2>Recommendations</h2>",
            table[ok].drop(columns=["error"]).to_html(float_format=lambda v: f"{v:,.4g}"),
        ]
        if not ok.all():
            parts += ["<h2>Failures</h2>", table.loc[~ok, ["status", "error"]].to_html()]
        warned = {r["name"]: r["warnings"] for r in self.records if r["warnings"]}
        if warned:
            items = "".join(
                f"<li><b>{html.escape(name)}</b>: {html.escape('; '.join(w))}</li>"
                for name, w in warned.items()
            )
            parts += ["<h2>Warnings</h2>", f"<ul>{items}</ul>"]
        parts.append("</body></html>")
        return "\n".join(parts)

    def save(self, folder: str | Path, *, overwrite: bool = False) -> list[Path]:
        """Write ``portfolio.nc`` (the DataTree), ``summary.csv`` and ``report.html``.

        Examples
        --------
        ``tmp_dir`` is a folder to write to.

        >>> [p.name for p in portfolio.save(tmp_dir)]
        ['portfolio.nc', 'summary.csv', 'report.html']
        """
        folder = Path(folder)
        targets = [folder / name for name in FILES]
        existing = [str(t) for t in targets if t.exists()]
        if existing and not overwrite:
            raise FileExistsError(
                f"Output files already exist: {existing}. Choose another folder or pass "
                "overwrite=True to replace them."
            )
        folder.mkdir(parents=True, exist_ok=True)
        self.to_datatree().to_netcdf(targets[0], engine="h5netcdf", mode="w")
        self.summary.to_csv(targets[1])
        targets[2].write_text(self.report())
        return targets


def _problem_dataset(record: Mapping[str, Any]) -> xr.Dataset:
    """One problem's record (its result's ``to_dict``) as a Dataset."""
    out = xr.Dataset(
        {
            "status": record["status"],
            "error": record["error"] or "",
            "converged": record["status"] == "converged",
        }
    )
    result = record["result"]
    if result is None:
        return out.assign_coords(budget=np.nan)
    dims = result["budget_dims"]
    shape = [len(v) for v in dims.values()]
    plan_names = list(result["plans"])

    def cells(plan: Any) -> np.ndarray:
        if isinstance(plan, Mapping):
            return np.array([plan[str(c)] for c in dims["channel"]], dtype=float)
        return np.asarray(plan, dtype=float).reshape(shape)

    out["plans"] = xr.DataArray(
        np.stack([cells(result["plans"][p]) for p in plan_names]),
        dims=("plan", *dims),
        coords={"plan": plan_names, **dims},
    )
    views = result["views"]
    for name in ("value", "regret", "success_probability"):
        if name in result:
            table = result[name]
            out[name] = xr.DataArray(
                [[table[p][v] for v in views] for p in table],
                dims=("plan", "view"),
                coords={"plan": list(table), "view": views},
            )
    out["v_star"] = xr.DataArray([result["v_star"][v] for v in views], dims="view")
    worst = result["max_regret"]
    out["max_regret"] = xr.DataArray(
        list(worst.values()), dims="plan", coords={"plan": list(worst)}
    )
    return out.assign_coords(view=views, budget=float(result["settings"]["total_budget"]))
