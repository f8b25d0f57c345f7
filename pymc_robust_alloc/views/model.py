"""Views from any PyMC model written with :mod:`pymc.dims`, with its posterior."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import xarray as xr
from pymc.model.fgraph import clone_model
from pytensor.xtensor.type import XTensorType

from pymc_robust_alloc.evidence import as_evidence
from pymc_robust_alloc.views.base import CHANNEL_DATA, DATE, Horizon, View, free_posterior

__all__ = ["ModelView"]

_PMD_FIX = (
    "Write the spend-to-response path with `pymc.dims`: "
    "`pmd.Data('channel_data', x, dims=('date', 'channel'))`, `pmd.<Distribution>` "
    "priors (per-channel values as `pmd.as_xtensor(a, dims=('channel',))`) and "
    "`pmd.Deterministic` for the response. BudgetOptimizer substitutes an xtensor "
    "decision variable for the spend and cannot do so in a plain `pm.*` graph."
)


class ModelView(View):
    """A view from a PyMC model and its posterior.

    The model must read spend from ``channel_data`` (dims ``("date", "channel",
    ...)``) and expose a scalar response deterministic; both must be written with
    :mod:`pymc.dims`. The model is cloned and resized to the decision horizon,
    never modified.

    Parameters
    ----------
    name : str
        The view's name.
    model : pymc.Model
        The model, and ``idata`` its posterior (e.g. from ``pm.sample``).
    idata : xarray.DataTree
    response_variable : str
        Name of the scalar response deterministic (a total over the horizon).
    evidence : mapping or DataArray, optional
        As for :class:`~pymc_robust_alloc.CurveView`.

    Examples
    --------
    >>> import numpy as np, pymc as pm, pymc.dims as pmd, xarray as xr
    >>> coords = {"date": range(4), "channel": ["tv", "radio"]}
    >>> with pm.Model(coords=coords) as model:
    ...     x = pmd.Data("channel_data", np.ones((4, 2)), dims=("date", "channel"))
    ...     beta = pmd.HalfNormal("beta", dims="channel")
    ...     _ = pmd.Deterministic("total", (beta * pmd.math.log1p(x)).sum())
    >>> post = xr.Dataset(
    ...     {"beta": (("chain", "draw", "channel"), np.ones((1, 5, 2)))},
    ...     coords={"channel": ["tv", "radio"]},
    ... )
    >>> view = ModelView("platform", model, xr.DataTree.from_dict({"posterior": post}),
    ...                  response_variable="total")
    >>> view.channels
    ('tv', 'radio')
    """

    def __init__(
        self,
        name: str,
        model: pm.Model,
        idata: xr.DataTree,
        response_variable: str,
        *,
        evidence: Mapping | xr.DataArray | None = None,
    ) -> None:
        super().__init__(name)
        owner = f"view {name!r}"
        if not isinstance(model, pm.Model):
            raise TypeError(f"{owner}: expected a pymc.Model, got {type(model).__name__}.")
        channel_data_var = CHANNEL_DATA
        if channel_data_var not in model.named_vars:
            data_names = sorted(v.name for v in model.data_vars)
            raise ValueError(
                f"{owner}: the model has no spend input {channel_data_var!r} (its data "
                f"variables: {data_names}). Every view reads the same spend input, so "
                "name it `pmd.Data('channel_data', ..., dims=('date', 'channel'))`."
            )
        spend = model[channel_data_var]
        if not isinstance(spend.type, XTensorType):
            raise TypeError(
                f"{owner}: {channel_data_var!r} is a plain tensor (`pm.Data`). {_PMD_FIX}"
            )
        dims = tuple(model.named_vars_to_dims.get(channel_data_var, ()))
        if not dims or dims[0] != DATE or "channel" not in dims:
            raise ValueError(
                f"{owner}: {channel_data_var!r} must have dims ('date', 'channel', ...), "
                f"got {dims}."
            )
        if response_variable not in model.named_vars:
            raise ValueError(
                f"{owner}: no variable {response_variable!r} in the model. Deterministics "
                f"available: {sorted(d.name for d in model.deterministics)}."
            )
        response = model[response_variable]
        if not isinstance(response.type, XTensorType):
            raise TypeError(
                f"{owner}: the response {response_variable!r} is a plain tensor "
                f"(`pm.Deterministic`). {_PMD_FIX}"
            )
        if response.type.ndim != 0:
            raise ValueError(
                f"{owner}: the response {response_variable!r} must be a scalar (the total "
                f"over the horizon), it has dims {response.type.dims}. Register "
                "`pmd.Deterministic(name, contribution.sum())`."
            )
        self._posterior = free_posterior(
            idata, model, owner, "Pass the idata sampled from this model."
        )
        self.model = model
        self.response_variable = response_variable
        self._budget_dims = tuple(d for d in dims if d != DATE)
        self._budget_coords = {d: tuple(model.coords[d]) for d in self._budget_dims}
        self._evidence = as_evidence(evidence, self._budget_coords, owner)

    @classmethod
    def from_wrapper(cls, name: str, wrapper, response_variable: str) -> ModelView:
        """Build a view from a legacy ``CustomModelWrapper``: its ``base_model`` and ``idata``."""
        if wrapper.channel_data_var != CHANNEL_DATA:
            raise ValueError(
                f"view {name!r}: the wrapper's spend input is "
                f"{wrapper.channel_data_var!r}; every view must read 'channel_data'. "
                "Rename the `pmd.Data` variable in the base model."
            )
        return cls(name, wrapper.base_model, wrapper.idata, response_variable)

    def build(self, horizon: Horizon, budget_coords: Mapping[str, Sequence]) -> pm.Model:  # noqa: D102
        model = clone_model(self.model)
        shape = (horizon.length, *(len(v) for v in budget_coords.values()))
        coords = {DATE: list(horizon.dates), **{d: list(v) for d, v in budget_coords.items()}}
        pm.set_data({CHANNEL_DATA: np.zeros(shape)}, model=model, coords=coords)
        return model
