"""What an allocation returns: plans, values, regret, and how every solve went."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from pymc_robust_alloc import __version__
from pymc_robust_alloc.checks import check_interval

__all__ = ["AllocationResult", "SolveReport"]

MAX_REGRET = "max regret"
MIN_SUCCESS = "min"
#: Below this robust success probability, no plan is presented as likely to reach the
#: required gain: the success plan is a long shot, not a recommendation.
LONG_SHOT = 0.05
#: What a saved result says it is (root attribute ``kind`` of its NetCDF file).
KIND = "pymc_robust_alloc.AllocationResult"
#: Version of the saved layout.
FORMAT_VERSION = 1
#: The fields holding arrays, each saved as one group of the DataTree.
_ARRAYS = (
    "plans",
    "value",
    "v_star",
    "regret",
    "quantile_regret",
    "success_probability",
    "quantile_optima",
    "quantile_v_star",
    "increments",
    "contribution",
    "reference_value",
    "evidence",
    "extrapolation",
    "v_star_extrapolation",
)


@dataclass(frozen=True)
class SolveReport:
    """How one optimisation went, and the checks its verdict rests on.

    ``success`` only if SciPy converged (``scipy_success``), the plan is feasible
    (``violation``, relative to the budget, at most ``1e-9``) and ``first_order``
    (the relative Frank-Wolfe gap, or for a minimax the gap to the linearised
    problem's bound) is at most ``tolerance``. A ``certified`` solve carries a
    proven ``bound`` on the optimal objective and ``gap = |bound - value|`` (NaN
    without a certificate); see :doc:`/concepts`.

    Attributes
    ----------
    plan, objective, message : str
        The plan produced, what was optimised (in words), SciPy's message.
    success, scipy_success, certified : bool
        The verdicts described above.
    iterations, evaluations, starts, local_optima : int
        SLSQP iterations and objective evaluations (of the best start), starts
        tried, distinct local optima found.
    value, violation, first_order, tolerance, bound, gap, spread : float
        As described above; ``spread`` is the objective's range over the local optima.
    """

    plan: str
    objective: str
    success: bool
    message: str
    iterations: int
    scipy_success: bool = True
    evaluations: int = 0
    value: float = float("nan")
    violation: float = 0.0
    first_order: float = float("nan")
    tolerance: float = float("nan")
    certified: bool = False
    bound: float = float("nan")
    gap: float = float("nan")
    starts: int = 1
    local_optima: int = 1
    spread: float = 0.0

    @classmethod
    def from_solve(cls, plan: str, objective: str, solve) -> SolveReport:
        """Report an :class:`~pymc_robust_alloc.engine.Solve`."""
        return cls(
            plan=plan,
            objective=objective,
            success=bool(solve.converged),
            message=solve.message,
            iterations=solve.iterations,
            scipy_success=solve.scipy_success,
            evaluations=solve.evaluations,
            value=float(solve.objective),
            violation=float(solve.violation),
            first_order=float(solve.first_order),
            tolerance=float(solve.tolerance),
            certified=bool(solve.certified),
            bound=float(solve.bound) if solve.certified else float("nan"),
            gap=float(solve.gap),
            starts=int(solve.starts),
            local_optima=int(solve.local_optima),
            spread=float(solve.spread),
        )


@dataclass(frozen=True)
class AllocationResult:
    r"""Candidate plans and how each view judges them.

    Attributes
    ----------
    plans : xarray.DataArray
        Spend per period, dims ``("plan", *budget_dims)``: each view's optimum,
        ``"averaged"``, ``"minimax"`` and, when asked for, the weighted,
        risk-averse, success and caller's plans.
    value : xarray.DataArray
        :math:`V(a, m)`, expected increment over the zero plan, dims ``("plan", "view")``.
    v_star : xarray.DataArray
        :math:`V^*(m)`, each view's best value.
    regret : xarray.DataArray
        :math:`R(a, m)`, ratio or relative (``settings["regret"]``), dims ``("plan", "view")``.
    solves : list of SolveReport
        Every optimisation run, in order.
    settings : dict
        The inputs: total budget, periods, bounds, draws, weights, quantile.
    quantile_regret, quantile_optima, quantile_v_star : xarray.DataArray, optional
        The same at the ``quantile`` of the draws (risk-averse runs).
    success_probability : xarray.DataArray, optional
        :math:`P_m(V(a) \ge (1 + r)\, V(a_{ref}))`, dims ``("plan", "view")``.
    increments : xarray.DataArray, optional
        Increments per draw, dims ``("plan", "view", "sample")``.
    contribution : xarray.DataArray, optional
        Each channel's contribution to ``value``, dims ``("plan", "view", "channel")``.
    reference_value : xarray.DataArray, optional
        :math:`V(ref, m)` (relative regret only).
    evidence, extrapolation, v_star_extrapolation : xarray.DataArray, optional
        Evidence ranges and the share of :math:`V(a, m)` and :math:`V^*(m)` from
        spend outside them (see :mod:`pymc_robust_alloc.evidence`).

    Examples
    --------
    ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

    >>> result.regret.dims
    ('plan', 'view')
    """

    plans: xr.DataArray
    value: xr.DataArray
    v_star: xr.DataArray
    regret: xr.DataArray
    solves: list[SolveReport]
    settings: dict[str, Any] = field(default_factory=dict)
    quantile_regret: xr.DataArray | None = None
    success_probability: xr.DataArray | None = None
    quantile_optima: xr.DataArray | None = None
    quantile_v_star: xr.DataArray | None = None
    increments: xr.DataArray | None = None
    contribution: xr.DataArray | None = None
    reference_value: xr.DataArray | None = None
    evidence: xr.DataArray | None = None
    extrapolation: xr.DataArray | None = None
    v_star_extrapolation: xr.DataArray | None = None

    @property
    def views(self) -> list[str]:
        """View names."""
        return [str(v) for v in self.v_star["view"].values]

    @property
    def certificate(self) -> pd.DataFrame:
        """Every minimax-type plan's objective, proven lower bound and gap.

        The bound holds when ``certified`` is True (every view provably concave);
        otherwise no certificate exists and bound and gap are NaN.
        """
        rows = {
            s.plan: {
                MAX_REGRET: s.value,
                "lower bound": s.bound,
                "gap": s.gap,
                "certified": s.certified,
            }
            for s in self.solves
            if s.objective.startswith(("minimise", "maximise min"))
        }
        table = pd.DataFrame.from_dict(
            rows, orient="index", columns=[MAX_REGRET, "lower bound", "gap", "certified"]
        )
        table.index.name = "plan"
        return table

    @property
    def weighted_max_regret(self) -> pd.Series | None:
        r""":math:`\max_m w_m R(a, m)` of every plan, with the weights as given.

        ``None`` unless ``weights`` were given; views left out have weight 1.
        The weighted minimax plan minimises it.
        """
        given = self.settings.get("weights")
        if given is None:
            return None
        w = xr.DataArray([float(given.get(v, 1.0)) for v in self.views], dims="view")
        weighted = (self.regret * w.assign_coords(view=self.v_star["view"])).max("view")
        return weighted.to_series().rename("weighted max regret")

    @property
    def user_plans(self) -> pd.DataFrame:
        """The caller's plans (candidates, reference): feasible or not, and by how much."""
        table = pd.DataFrame.from_dict(
            self.settings.get("user_plans", {}), orient="index", columns=["feasible", "violation"]
        )
        table.index.name = "plan"
        return table

    @property
    def converged(self) -> bool:
        """Whether every solve converged."""
        return all(s.success for s in self.solves)

    @property
    def regret_matrix(self) -> pd.DataFrame:
        """Regret of every plan (rows) under every view (columns), plus the max."""
        table = self.regret.to_pandas()
        table.columns = [str(c) for c in table.columns]
        table[MAX_REGRET] = table.max(axis=1)
        table.index.name = "plan"
        return table

    @property
    def success_matrix(self) -> pd.DataFrame | None:
        """Success probability of every plan (rows) under every view, plus the min.

        ``None`` unless a reference plan was given. The row ``"reference"`` is the
        reference plan itself, ``"success"`` the plan maximising the minimum.
        """
        if self.success_probability is None:
            return None
        table = self.success_probability.to_pandas()
        table.columns = [str(c) for c in table.columns]
        table[MIN_SUCCESS] = table.min(axis=1)
        table.index.name = "plan"
        return table

    @property
    def convergence(self) -> pd.DataFrame:
        """One row per solve: what was solved, whether it converged, and the checks.

        Columns are the fields of :class:`SolveReport`.
        """
        return pd.DataFrame([vars(s) for s in self.solves]).set_index("plan")

    def plan(self, name: str = "minimax") -> xr.DataArray:
        """One plan's spend per period (``name`` in the ``plan`` dim), by the budget dims."""
        if name not in self.plans["plan"].values:
            raise KeyError(f"No plan {name!r}; plans are {list(self.plans['plan'].values)}.")
        return self.plans.sel(plan=name, drop=True)

    def to_dataframe(self) -> pd.DataFrame:
        """Plans as a table: one row per plan, one column per budget cell."""
        stacked = self.plans
        extra = [d for d in stacked.dims if d != "plan"]
        if len(extra) > 1:
            stacked = stacked.stack(cell=extra)
        table = stacked.to_pandas()
        table.columns = [
            c if not isinstance(c, tuple) else "/".join(map(str, c)) for c in table.columns
        ]
        return table

    @property
    def units(self) -> dict[str, Any]:
        """Units named by the user: ``{"spend": str | None, "outcome": {view: str | None}}``."""
        given = self.settings.get("units") or {}
        outcome = given.get("outcome") or {}
        return {"spend": given.get("spend"), "outcome": {v: outcome.get(v) for v in self.views}}

    @property
    def recommended(self) -> str:
        """The plan the result recommends: weighted minimax when weights were given, else minimax.

        Minimax regret keeps the share of achievable value lost small under every
        view at once; weights say how much the user trusts each view.
        """
        names = [str(p) for p in self.plans["plan"].values]
        for name in ("weighted minimax", "minimax"):
            if name in names:
                return name
        return names[0]

    @property
    def baseline(self) -> str | None:
        """The plan changes are measured against: ``"reference"``, else ``"current"``."""
        names = [str(p) for p in self.plans["plan"].values]
        return next((n for n in ("reference", "current") if n in names), None)

    def _spend(self, keep: tuple[str, ...] = ()) -> xr.DataArray:
        """Spend over the horizon (per period times periods), summed over the other budget dims."""
        dims = [d for d in self.plans.dims if d != "plan" and d not in keep]
        return self.plans.sum(dims) * float(self.settings.get("num_periods", 1))

    def outcomes(self, interval: float = 0.9) -> xr.Dataset:
        r"""Return the expected outcome of every plan under every view, in its own units.

        Increments over the zero plan over the horizon (the :math:`V(a, m)` of
        regret), never added across views. Returns an :class:`xarray.Dataset`:
        ``expected``, ``lower``, ``upper`` (``interval`` credible interval),
        ``spend``, ``return_on_spend``, ``cost_per_outcome``, ``channel_spend``,
        ``channel_return`` and, with a baseline plan (:attr:`baseline`),
        ``change`` and ``change_share``; units in ``outcome_unit`` and ``spend_unit``.

        Examples
        --------
        ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

        >>> out = result.outcomes(interval=0.9)
        >>> float(out["change"].sel(plan="reference", view="experiment"))
        0.0
        """
        level = check_interval(interval)
        if self.increments is None:
            raise ValueError(
                "This result holds no posterior draws of the outcomes, so it has no "
                "credible intervals; results of RobustAllocator.allocate hold them."
            )
        tails = self.increments.quantile([(1 - level) / 2, (1 + level) / 2], dim="sample")
        out = xr.Dataset(
            {
                "expected": self.value,
                "lower": tails.isel(quantile=0, drop=True),
                "upper": tails.isel(quantile=1, drop=True),
            }
        )
        spend = self._spend()
        out["spend"] = spend
        out["return_on_spend"] = self.value / spend.where(spend > 0)
        out["cost_per_outcome"] = spend / self.value.where(self.value > 0)
        if self.contribution is not None:
            channel_spend = self._spend(("channel",))
            out["channel_spend"] = channel_spend
            out["channel_return"] = self.contribution / channel_spend.where(channel_spend > 0)
        if self.baseline is not None:
            base = self.value.sel(plan=self.baseline, drop=True)
            out["change"] = self.value - base
            out["change_share"] = out["change"] / base.where(base != 0)
        units = self.units
        out = out.assign_coords(
            outcome_unit=("view", [units["outcome"][v] or "" for v in self.views])
        )
        out.attrs.update(
            interval=level, spend_unit=units["spend"] or "", baseline=self.baseline or ""
        )
        return out

    def outcome_table(self, interval: float = 0.9) -> pd.DataFrame:
        """Return :meth:`outcomes` as a tidy table: one row per plan and view."""
        out = self.outcomes(interval)
        names = ["expected", "lower", "upper"]
        names += [n for n in ("change", "change_share") if n in out]
        table = out[[*names, "return_on_spend", "cost_per_outcome"]].to_dataframe()
        table = table.drop(columns="outcome_unit", errors="ignore")
        table.insert(3, "unit", [self.units["outcome"][v] or "" for _, v in table.index])
        table.insert(
            4, "spend", out["spend"].to_series().reindex(table.index.get_level_values(0)).values
        )
        return table

    def channel_table(self) -> pd.DataFrame:
        """Return spend, contribution and return per plan, view and channel, as a tidy table."""
        if self.contribution is None:
            raise ValueError("This result holds no channel contributions.")
        spend = self._spend(("channel",))
        table = xr.Dataset(
            {
                "spend": spend.broadcast_like(self.contribution),
                "contribution": self.contribution,
                "return_on_spend": self.contribution / spend.where(spend > 0),
            }
        ).to_dataframe(dim_order=["plan", "view", "channel"])
        return table[["spend", "contribution", "return_on_spend"]]

    @property
    def long_shot(self) -> bool:
        """Whether the required gain is out of reach: the success plan's robust probability < 5 %.

        Then no plan is likely to reach the gain and the success plan is no
        recommendation; :attr:`reachable_gain` says what each view can reach.
        False without a reference plan.
        """
        if self.success_probability is None or "success" not in self.plans["plan"].values:
            return False
        return float(self.success_probability.sel(plan="success").min()) < LONG_SHOT

    @property
    def reachable_gain(self) -> xr.DataArray | None:
        r"""Largest expected gain over the reference each view can reach.

        :math:`V^*(m) / V(a_{ref}, m) - 1`, the gain of view :math:`m`'s own optimum.
        ``None`` without a reference plan.
        """
        if "reference" not in self.plans["plan"].values:
            return None
        return self.v_star / self.value.sel(plan="reference", drop=True) - 1

    def _repr_html_(self) -> str:
        # summary reads results: imported here to keep the import graph one-way.
        from pymc_robust_alloc.summary import result_html

        return result_html(self)

    def equals(self, other: AllocationResult) -> bool:
        """Whether two results hold the same plans, numbers, settings and solves."""
        if not isinstance(other, AllocationResult):
            return False
        for name in _ARRAYS:
            mine, theirs = getattr(self, name), getattr(other, name)
            if (mine is None) != (theirs is None):
                return False
            if mine is not None and not mine.equals(theirs):
                return False
        same_settings = _canonical(self.settings) == _canonical(other.settings)
        return same_settings and _canonical([vars(s) for s in self.solves]) == _canonical(
            [vars(s) for s in other.solves]
        )

    def to_datatree(self) -> xr.DataTree:
        """Everything as an :class:`xarray.DataTree`: one group per array, settings as JSON."""
        groups = {
            f"/{name}": xr.Dataset({name: getattr(self, name).drop_attrs()})
            for name in _ARRAYS
            if getattr(self, name) is not None
        }
        solves = pd.DataFrame(
            [vars(s) for s in self.solves], columns=[f.name for f in fields(SolveReport)]
        )
        groups["/solves"] = xr.Dataset.from_dataframe(solves.rename_axis("solve"))
        root = xr.Dataset(
            attrs={
                "kind": KIND,
                "format_version": FORMAT_VERSION,
                "package_version": __version__,
                "settings": json.dumps(_plain(self.settings)),
            }
        )
        return xr.DataTree.from_dict({"/": root, **groups})

    @classmethod
    def from_datatree(cls, tree: xr.DataTree, source: str = "the tree") -> AllocationResult:
        """Rebuild a result from :meth:`to_datatree`; no views or models needed."""
        if tree.attrs.get("kind") != KIND:
            raise ValueError(f"{source} is not a saved AllocationResult: {_describe(tree)}")
        arrays = {
            name: tree[name].to_dataset()[name].rename(None)
            for name in _ARRAYS
            if name in tree.children
        }
        table = tree["solves"].to_dataset().to_dataframe()
        solves = [
            SolveReport(**{k: _python(v) for k, v in row.items()})
            for row in table.to_dict(orient="records")
        ]
        return cls(solves=solves, settings=json.loads(tree.attrs["settings"]), **arrays)

    def to_netcdf(self, path: str | Path, overwrite: bool = False) -> Path:
        """Save as NetCDF (h5netcdf); ``overwrite`` replaces a file; see :meth:`from_netcdf`."""
        path = _new_file(path, overwrite)
        self.to_datatree().to_netcdf(path, engine="h5netcdf", mode="w")
        return path

    @classmethod
    def from_netcdf(cls, path: str | Path) -> AllocationResult:
        """Load a result saved by :meth:`to_netcdf`."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"No such file: '{path}'.")
        try:
            with xr.open_datatree(path, engine="h5netcdf") as tree:
                tree = tree.load()
        except Exception as err:  # h5py and xarray raise several kinds on foreign files
            raise ValueError(
                f"'{path}' is not a saved AllocationResult: it is not a NetCDF-4/HDF5 file "
                f"({type(err).__name__}: {err}). Save results with result.to_netcdf(path)."
            ) from None
        return cls.from_datatree(tree, source=f"'{path}'")

    def to_json(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write :meth:`to_dict` as a JSON file; load it with :meth:`from_json`."""
        path = _new_file(path, overwrite)
        path.write_text(json.dumps(self.to_dict(), indent=2))
        return path

    @classmethod
    def from_json(cls, path: str | Path) -> AllocationResult:
        """Load a result written by :meth:`to_json` (or ``json.dump(result.to_dict())``)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"'{path}' is not a JSON file: {err}.") from None
        if not isinstance(data, dict) or data.get("kind") != KIND:
            keys = sorted(data)[:8] if isinstance(data, dict) else type(data).__name__
            raise ValueError(
                f"'{path}' is not a saved AllocationResult: it is JSON with keys {keys}. "
                "Save results with result.to_json(path)."
            )
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AllocationResult:
        """Rebuild a result from :meth:`to_dict`."""
        views = list(data["views"])
        dims = {str(d): list(labels) for d, labels in data["budget_dims"].items()}

        def plans(specs: dict) -> xr.DataArray:
            rows = [
                [spec[str(c)] for c in next(iter(dims.values()))]
                if isinstance(spec, dict)
                else spec
                for spec in specs.values()
            ]
            return xr.DataArray(
                np.array(rows, dtype=float),
                dims=("plan", *dims),
                coords={"plan": list(specs), **dims},
            )

        names = list(data["plans"])

        def table(key: str, rows: list[str] | None = None) -> xr.DataArray | None:
            if key not in data:
                return None
            t = data[key]
            rows = rows or list(t)
            return xr.DataArray(
                np.array([[t[p][v] for v in views] for p in rows], dtype=float),
                dims=("plan", "view"),
                coords={"plan": rows, "view": views},
            )

        def by_view(key: str) -> xr.DataArray | None:
            if key not in data:
                return None
            return xr.DataArray(
                np.array([data[key][v] for v in views], dtype=float),
                dims="view",
                coords={"view": views},
            )

        extra: dict[str, Any] = {}
        if "increments" in data:
            draws = data["increments"]
            values = np.array([[draws[p][v] for v in views] for p in draws], dtype=float)
            extra["increments"] = xr.DataArray(
                values,
                dims=("plan", "view", "sample"),
                coords={"plan": list(draws), "view": views, "sample": data["samples"]},
            )
        if "contribution" in data:
            c = data["contribution"]
            channels = dims["channel"]
            extra["contribution"] = xr.DataArray(
                np.array([[[c[p][v][str(k)] for k in channels] for v in views] for p in c]),
                dims=("plan", "view", "channel"),
                coords={"plan": list(c), "view": views, "channel": channels},
            )
        if "quantile_optima" in data:
            extra["quantile_optima"] = plans(data["quantile_optima"])
        if "evidence" in data:
            e = data["evidence"]
            extra["evidence"] = xr.DataArray(
                np.array(e["values"], dtype=float), dims=e["dims"], coords=e["coords"]
            )
        if "extrapolation" in data:
            extra["extrapolation"] = table("extrapolation", names)
            extra["v_star_extrapolation"] = by_view("v_star_extrapolation")
        if "reference_value" in data:
            extra["reference_value"] = by_view("reference_value")
        return cls(
            plans=plans(data["plans"]),
            value=table("value", names),
            v_star=by_view("v_star"),
            regret=table("regret", names),
            solves=[SolveReport(**s) for s in data["solves"]],
            settings=data["settings"],
            quantile_regret=table("quantile_regret"),
            success_probability=table("success_probability"),
            quantile_v_star=by_view("quantile_v_star"),
            **extra,
        )

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON-able Python objects."""
        out = {
            "kind": KIND,
            "settings": _plain(self.settings),
            "views": self.views,
            "budget_dims": {
                d: [_plain(v) for v in self.plans[d].values] for d in self.plans.dims if d != "plan"
            },
            "v_star": dict(zip(self.views, _plain(self.v_star.values), strict=True)),
            "plans": _plans(self.plans),
            "value": _table(self.value),
            "regret": _table(self.regret),
            "max_regret": _plain(self.regret_matrix[MAX_REGRET].to_dict()),
            "solves": [_plain(vars(s)) for s in self.solves],
        }
        if self.quantile_regret is not None:
            out["quantile_regret"] = _table(self.quantile_regret)
            out["quantile_v_star"] = dict(
                zip(self.views, _plain(self.quantile_v_star.values), strict=True)
            )
        if self.reference_value is not None:
            out["reference_value"] = dict(
                zip(self.views, _plain(self.reference_value.values), strict=True)
            )
        if self.extrapolation is not None:  # NaN (unknown evidence) as null
            shares = self.extrapolation.to_pandas().astype(object)
            out["extrapolation"] = _plain(shares.where(shares.notna(), None).T.to_dict())
            out["v_star_extrapolation"] = {
                v: (None if np.isnan(x) else float(x))
                for v, x in zip(self.views, self.v_star_extrapolation.values, strict=True)
            }
        if self.success_probability is not None:
            out["success_probability"] = _table(self.success_probability)
            out["min_success_probability"] = _plain(self.success_matrix[MIN_SUCCESS].to_dict())
        if self.quantile_optima is not None:
            out["quantile_optima"] = _plans(self.quantile_optima)
        if self.evidence is not None:
            out["evidence"] = {
                "dims": list(self.evidence.dims),
                "coords": {d: _plain(self.evidence[d].values) for d in self.evidence.dims},
                "values": _plain(
                    np.where(np.isnan(self.evidence.values), None, self.evidence.values)
                ),
            }
        if self.increments is not None:
            out["samples"] = _plain(self.increments["sample"].values)
            out["increments"] = {
                str(p): {
                    str(v): _plain(self.increments.sel(plan=p, view=v).values) for v in self.views
                }
                for p in self.increments["plan"].values
            }
        if self.contribution is not None:
            out["contribution"] = {
                str(p): {
                    str(v): _plain(self.contribution.sel(plan=p, view=v).to_pandas().to_dict())
                    for v in self.views
                }
                for p in self.contribution["plan"].values
            }
        return out


def _new_file(path: str | Path, overwrite: bool) -> Path:
    """Return ``path``, refusing to replace an existing file unless ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"'{path}' already exists. Pass overwrite=True to replace it, or choose another path."
        )
    return path


def _plans(plans: xr.DataArray) -> dict:
    return {
        str(name): _plain(plans.sel(plan=name).to_pandas().to_dict())
        if plans.ndim == 2
        else _plain(plans.sel(plan=name).values)
        for name in plans["plan"].values
    }


def _canonical(value: Any) -> str:
    """Return a JSON string, equal for equal contents (NaN equal to NaN, tuples as lists)."""
    return json.dumps(_plain(value), sort_keys=True)


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _describe(tree: xr.DataTree) -> str:
    """Say what a foreign DataTree holds, in one sentence."""
    groups = sorted(tree.children)
    variables = sorted(map(str, tree.to_dataset().data_vars))
    what = f"it holds groups {groups} and variables {variables}"
    if {"posterior"} & set(groups):
        what += " (it looks like an ArviZ InferenceData or a posterior)"
    return what + ". Save results with result.to_netcdf(path)."


def _table(array: xr.DataArray) -> dict[str, dict[str, float]]:
    frame = array.to_pandas()
    return {
        str(row): {str(col): float(frame.loc[row, col]) for col in frame.columns}
        for row in frame.index
    }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, xr.DataArray):
        return _plain(value.values)
    return value
