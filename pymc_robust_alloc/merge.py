"""One PyTensor graph in which every view reads the same spend input."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pymc.dims as pmd
import pytensor.tensor as pt
import pytensor.xtensor as ptx
import xarray as xr
from pymc_marketing.mmm import merge_models_and_idata
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.replace import graph_replace
from pytensor.graph.traversal import ancestors

from pymc_robust_alloc.budget import as_plan
from pymc_robust_alloc.engine import code_version, graph_key
from pymc_robust_alloc.names import VIEW
from pymc_robust_alloc.success import check_success_arguments
from pymc_robust_alloc.views.base import CHANNEL_DATA, DATE, Horizon, View

__all__ = [
    "SUCCESS_MARGIN",
    "SUCCESS_PROBABILITY",
    "VIEW",
    "VIEW_RESPONSE",
    "MergedViews",
    "PreparedViews",
    "merge_views",
    "prepare_views",
]

#: Deterministic stacking each view's response, dims ``("view",)``.
VIEW_RESPONSE = "view_response"
#: Deterministic of the per-draw paired difference against a reference plan.
SUCCESS_MARGIN = "success_margin"
#: Deterministic of the per-draw success indicator against a reference plan.
SUCCESS_PROBABILITY = "success_probability"


@dataclass(frozen=True)
class MergedViews:
    r"""Views merged into one model on a shared ``channel_data`` input.

    The model holds each view's variables under the prefix ``<view>_`` and the
    deterministic ``view_response`` (dim ``view``), each view's response
    :math:`Y_m(a)`. With a ``reference_plan`` it also holds, paired per draw,
    ``success_margin`` :math:`D = V(a) - (1 + r) V(a_{ref})` and
    ``success_probability`` :math:`1[D \ge 0]` (see :doc:`/concepts`).

    Attributes
    ----------
    model : pymc.Model
        The merged model, ready for :class:`~pymc_marketing.mmm.BudgetOptimizer`.
    idata : xarray.DataTree
        The merged posterior, one chain; view ``m``'s own draws are the first
        ``view_draws[m]``, repeated to fill the chain (leave the repeats out).
    views : tuple of str
        View names, in the order of the ``view`` dim.
    horizon : Horizon
        The common date axis.
    budget_coords : dict
        Budget dims and labels of ``channel_data`` (all but ``date``).
    reference_plan : xarray.DataArray, optional
        The reference plan of the success deterministics.
    required_gain : float
        Their required relative gain :math:`r`.
    view_draws, available_draws : dict of str to int
        Draws each view contributes, and has.
    """

    model: object
    idata: xr.DataTree
    views: tuple[str, ...]
    horizon: Horizon
    budget_coords: dict[str, tuple]
    reference_plan: xr.DataArray | None = None
    required_gain: float = 0.0
    view_draws: dict[str, int] | None = None
    available_draws: dict[str, int] | None = None

    @property
    def n_draws(self) -> int:
        """Length of the merged chain: the most draws any view contributes."""
        return int(self.idata["posterior"].sizes["draw"])


def merge_views(
    views: Sequence[View],
    num_periods: int,
    *,
    n_draws: int | None = None,
    reference_plan: xr.DataArray | Mapping | None = None,
    required_gain: float = 0.0,
) -> MergedViews:
    """Merge views into one model whose views all read the same spend.

    Built on :func:`pymc_marketing.mmm.merge_models_and_idata`. Channels are
    aligned by label on the order of the view fixing the horizon (an MMM) if
    any, else the first view's, which also supplies the shared spend input. The
    views' own models and posteriors are not modified.

    Parameters
    ----------
    views : sequence of View
        At least two views with the same channels (and other budget dims).
    num_periods : int
        Number of decision periods.
    n_draws : int, optional
        Keep at most this many evenly spaced draws per view; default all.
    reference_plan : DataArray or mapping, optional
        Spend per period of a plan to beat: adds the success deterministics.
    required_gain : float, default 0
        Relative gain :math:`r > -1` over the reference's increment.

    Returns
    -------
    MergedViews

    Examples
    --------
    >>> from pymc_robust_alloc import CurveView
    >>> channels = ["search", "social"]
    >>> views = [
    ...     CurveView.from_estimates(name, {"alpha": a, "lam": [2.0, 3.0]}, 0.1,
    ...                              channels=channels, draws=50, random_seed=0)
    ...     for name, a in [("mmm", [1.0, 2.0]), ("lift", [2.0, 1.0])]
    ... ]
    >>> merged = merge_views(views, num_periods=4)
    >>> merged.views, merged.n_draws, merged.view_draws
    (('mmm', 'lift'), 50, {'mmm': 50, 'lift': 50})
    """
    check_success_arguments(None, required_gain, "gaussian", 1.0)
    return prepare_views(views, num_periods, n_draws=n_draws).merge(
        reference_plan=reference_plan, required_gain=required_gain
    )


@dataclass(frozen=True)
class PreparedViews:
    """Views checked and built on a common horizon, not yet merged.

    What :func:`merge_views` needs before PyMC-Marketing's merge: each view's
    own model and (thinned, one-chain) posterior, in merge order, and the
    layout every merged view shares. Cheap to make; :meth:`key` identifies the
    merged model without merging.
    """

    views: tuple[View, ...]
    horizon: Horizon
    budget_coords: dict[str, tuple]
    view_draws: dict[str, int]
    available_draws: dict[str, int]
    models: tuple[pm.Model, ...]
    trees: tuple[xr.DataTree, ...]
    order: tuple[int, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """View names, in the order of the ``view`` dim."""
        return tuple(v.name for v in self.views)

    @property
    def n_draws(self) -> int:
        """Length of the merged chain: the most draws any view contributes."""
        return max(self.view_draws.values())

    def key(self) -> str | None:
        """Digest of everything the merged model is made of, or ``None`` if some op is opaque.

        Each view's response graph (:func:`~pymc_robust_alloc.engine.graph_key`),
        the values of its data, its posterior draws and the layout, with the
        versions of the code that merges them (:func:`~pymc_robust_alloc.engine.code_version`).
        """
        digest = hashlib.sha256(
            repr((code_version(), self.horizon, self.budget_coords, self.view_draws)).encode()
        )
        for i, model, tree in zip(self.order, self.models, self.trees, strict=True):
            view = self.views[i]
            response = model[view.response_variable]
            graph = graph_key([response])
            if graph is None:
                return None
            digest.update(f"{type(view).__qualname__} {view.name} {graph}".encode())
            for shared in ancestors([response]):
                # Data, not random generators: those only seed sampling.
                value = shared.get_value() if isinstance(shared, SharedVariable) else None
                if isinstance(value, np.ndarray) and value.dtype != object:
                    digest.update(f"{shared.name}{value.dtype}{value.shape}".encode())
                    digest.update(np.ascontiguousarray(value).tobytes())
            posterior = tree["posterior"].to_dataset()
            for name in sorted(posterior.data_vars):
                values = posterior[name]
                digest.update(f"{name}{values.dims}{values.dtype}".encode())
                digest.update(np.ascontiguousarray(values.values).tobytes())
        return digest.hexdigest()

    def merge(
        self, reference_plan: xr.DataArray | Mapping | None = None, required_gain: float = 0.0
    ) -> MergedViews:
        """Merge the views with PyMC-Marketing's ``merge_models_and_idata``."""
        names = [self.views[i].name for i in self.order]
        with warnings.catch_warnings():
            # PyMC-Marketing's merge calls xr.merge with xarray's legacy defaults; the
            # posteriors here share no variable names, so the coming change is moot.
            warnings.filterwarnings(
                "ignore",
                message="In a future version of xarray the default value for (compat|join)",
                category=FutureWarning,
            )
            model, idata = merge_models_and_idata(
                list(self.models), list(self.trees), prefixes=names, merge_on=CHANNEL_DATA
            )
        model.add_coord(VIEW, list(self.names))
        with model:
            # sum_m Y_m e_m with e_m the unit vectors: the same vector as a concat of
            # the responses, whose lowering is several times slower to compile.
            unit = np.eye(len(self.views))
            response = sum(
                model[f"{v.name}_{v.response_variable}"] * ptx.as_xtensor(unit[m], dims=(VIEW,))
                for m, v in enumerate(self.views)
            )
            response = pmd.Deterministic(VIEW_RESPONSE, response)
        if reference_plan is not None:
            reference_plan = as_plan(reference_plan, self.budget_coords, "reference")
            _add_success(model, response, self.horizon, reference_plan, float(required_gain))
        return MergedViews(
            model=model,
            idata=idata,
            views=self.names,
            horizon=self.horizon,
            budget_coords=self.budget_coords,
            reference_plan=reference_plan,
            required_gain=float(required_gain),
            view_draws=dict(self.view_draws),
            available_draws=dict(self.available_draws),
        )


def prepare_views(
    views: Sequence[View], num_periods: int, *, n_draws: int | None = None
) -> PreparedViews:
    """Check ``views`` and build each on the common horizon, ready to merge.

    Channels are aligned by label on the order of the view fixing the horizon
    (an MMM) if any, else the first view's, which also supplies the shared
    spend input.
    """
    views = check_views(views)
    horizon = common_horizon(views, num_periods)
    available = {v.name: v.posterior.sizes["chain"] * v.posterior.sizes["draw"] for v in views}
    kept = draws_kept(available, n_draws)
    length = max(kept.values())

    order = sorted(range(len(views)), key=lambda i: views[i].horizon(num_periods) is None)
    budget_coords = views[order[0]].budget_coords
    models, trees = [], []
    constant = None
    for i in order:
        model = views[i].build(horizon, budget_coords)
        posterior = fill(thin(views[i].posterior, kept[views[i].name]), length)
        if constant is None:
            # The first model's spend (with any carry-in history) is the shared
            # input; every tree records that same spend, or the merge conflicts.
            spend = model[CHANNEL_DATA].get_value()
            constant = xr.Dataset(
                {CHANNEL_DATA: ((DATE, *budget_coords), spend)},
                coords={
                    DATE: list(horizon.dates),
                    **{d: list(v) for d, v in budget_coords.items()},
                },
            )
        models.append(model)
        trees.append(xr.DataTree.from_dict({"posterior": posterior, "constant_data": constant}))
    names = [v.name for v in views]
    return PreparedViews(
        views=tuple(views),
        horizon=horizon,
        budget_coords=budget_coords,
        view_draws={v: kept[v] for v in names},
        available_draws={v: available[v] for v in names},
        models=tuple(models),
        trees=tuple(trees),
        order=tuple(order),
    )


def _add_success(model, response, horizon: Horizon, plan: xr.DataArray, gain: float) -> None:
    """Add the success deterministics against ``plan``, evaluated on the same draw."""
    spend = model[CHANNEL_DATA]
    decisions = slice(horizon.carry_in_periods, horizon.carry_in_periods + horizon.num_periods)

    def at(per_period: np.ndarray):
        full = np.array(spend.get_value(), dtype=float)
        full[horizon.carry_in_periods :] = 0.0
        full[decisions] = per_period
        constant = ptx.as_xtensor(pt.as_tensor(full, dtype=spend.dtype), dims=spend.type.dims)
        return graph_replace(response, {spend: constant}, strict=False)

    zero = at(np.zeros_like(plan.values))
    margin = (response - zero) - (1 + gain) * (at(plan.values) - zero)
    with model:
        margin = pmd.Deterministic(SUCCESS_MARGIN, margin)
        pmd.Deterministic(SUCCESS_PROBABILITY, ptx.math.cast(margin >= 0, "float64"))


def check_views(views: Sequence[View]) -> list[View]:
    """Validate a collection of views for merging; return it as a list."""
    views = list(views)
    if len(views) < 2:
        raise ValueError(
            "At least two views are needed to compare plans across measurement "
            f"systems, got {len(views)}. With a single view, optimise it directly "
            "with pymc_marketing's BudgetOptimizer."
        )
    not_views = [type(v).__name__ for v in views if not isinstance(v, View)]
    if not_views:
        raise TypeError(
            f"Expected View objects, got {not_views}. Build views with CurveView, "
            "ModelView or MMMView."
        )
    names = [v.name for v in views]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(
            f"Duplicate view names {duplicated}: each view needs its own name, which "
            "labels its column of the regret matrix and prefixes its variables."
        )
    reference = views[0]
    for view in views[1:]:
        dims, ref_dims = set(view.budget_coords), set(reference.budget_coords)
        if dims != ref_dims:
            raise ValueError(
                f"Views {reference.name!r} and {view.name!r} disagree on the budget dims: "
                f"{sorted(ref_dims)} vs {sorted(dims)}. Every view must be defined over "
                "the same dims (e.g. all by channel, or all by channel and geo)."
            )
        for dim in ref_dims:
            ours, theirs = set(reference.budget_coords[dim]), set(view.budget_coords[dim])
            if ours != theirs:
                raise ValueError(
                    f"Views {reference.name!r} and {view.name!r} disagree on {dim!r}: "
                    f"only in {reference.name!r}: {sorted(map(str, ours - theirs))}; "
                    f"only in {view.name!r}: {sorted(map(str, theirs - ours))}. Give "
                    "every view the same labels (spelling included)."
                )
    return views


def common_horizon(views: Sequence[View], num_periods: int) -> Horizon:
    """Return the horizon of the view that fixes one (an MMM), else ``num_periods`` + carry-over."""
    imposed = {}
    for view in views:
        horizon = view.horizon(num_periods)
        if horizon is not None:
            imposed[view.name] = horizon
    if len({(h.dates, h.carry_in_periods, h.num_periods) for h in imposed.values()}) > 1:
        raise ValueError(
            f"Views {sorted(imposed)} fix different date axes. Build them on the same "
            "optimisation window (same start and end date)."
        )
    longest = max(v.adstock_periods for v in views)
    if imposed:
        horizon = next(iter(imposed.values()))
        if longest > horizon.adstock_periods:
            raise ValueError(
                f"A view needs {longest} carry-over periods but the window fixed by "
                f"{sorted(imposed)} has {horizon.adstock_periods}."
            )
        return horizon
    return Horizon(num_periods=num_periods, adstock_periods=longest)


def window_periods(views: Sequence[View], num_periods: int | None) -> int:
    """Return the number of decision periods: as given, else the window a view fixes."""
    if num_periods is not None:
        return num_periods
    for view in views:
        horizon = view.horizon(None) if isinstance(view, View) else None
        if horizon is not None:
            return horizon.num_periods
    raise ValueError(
        "num_periods is needed: no view fixes a window (only an MMMView, through its "
        "start and end dates, does). Pass the number of decision periods."
    )


def draws_kept(available: Mapping[str, int], n_draws: int | None) -> dict[str, int]:
    """Return the draws each view keeps: all, or at most ``n_draws``."""
    if n_draws is None:
        return dict(available)
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 2:
        raise ValueError(
            f"n_draws must be an integer of at least 2 (draws kept per view; per view "
            f"available: {dict(available)}), got {n_draws!r}. Leave it out to keep every draw."
        )
    return {name: min(int(n_draws), n) for name, n in available.items()}


def thin(posterior: xr.Dataset, n_draws: int) -> xr.Dataset:
    """Evenly spaced ``n_draws`` draws of ``posterior``, as one chain.

    Examples
    --------
    >>> ds = xr.Dataset({"a": (("chain", "draw"), np.arange(8.0).reshape(2, 4))})
    >>> thin(ds, 3)["a"].values.tolist()
    [[0.0, 4.0, 7.0]]
    """
    stacked = posterior.stack(sample=("chain", "draw"))
    keep = np.round(np.linspace(0, stacked.sizes["sample"] - 1, n_draws)).astype(int)
    picked = stacked.isel(sample=keep).drop_vars(["sample", "chain", "draw"])
    picked = picked.rename(sample="draw").assign_coords(draw=np.arange(n_draws))
    return picked.expand_dims(chain=[0]).transpose("chain", "draw", ...)


def fill(posterior: xr.Dataset, length: int) -> xr.Dataset:
    """Repeat a one-chain posterior's draws cyclically to ``length`` draws."""
    n = posterior.sizes["draw"]
    if n == length:
        return posterior
    repeated = posterior.isel(draw=np.arange(length) % n)
    return repeated.assign_coords(draw=np.arange(length))
