"""Views defined by per-channel response curves with parameter uncertainty."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pymc.dims as pmd
import pytensor.xtensor as ptx
import xarray as xr
from pymc_marketing.mmm.components.adstock import AdstockTransformation
from pymc_marketing.mmm.components.saturation import SaturationTransformation

from pymc_robust_alloc.checks import as_posterior, check_count, check_finite, check_labels, is_real
from pymc_robust_alloc.evidence import as_evidence
from pymc_robust_alloc.views.base import CHANNEL_DATA, DATE, Horizon, View
from pymc_robust_alloc.views.shapes import SATURATIONS, CurveShape

__all__ = ["SATURATIONS", "CurveView"]


class CurveView(View):
    r"""A view whose response is a sum of per-channel saturation curves.

    The response of a plan over the horizon is

    .. math::

        Y = \sum_{t} \sum_{c} f_c\big(\mathrm{adstock}(x)_{t,c};\ \theta_c\big),

    the saturation :math:`f` and optional adstock of a
    :class:`~pymc_robust_alloc.CurveShape`, and :math:`\theta` drawn from the draws.

    Parameters
    ----------
    name : str
        The view's name (a Python identifier).
    draws : xarray.Dataset or xarray.DataTree
        Draws ``(chain, draw, "channel", ...)`` of each parameter in
        ``shape.params``; a ``DataTree`` is read from its ``posterior`` group.
    shape : CurveShape, str or SaturationTransformation, optional
        The curve shape, or its saturation (``"michaelis_menten"``, the default,
        ``"hill"``, ``"logistic"`` or a component; also accepted as ``saturation=``).
    adstock : AdstockTransformation, optional
        With a saturation as ``shape``: e.g. ``GeometricAdstock(l_max=4)``; its
        ``l_max`` periods of carry-over are added after the decision periods.
    evidence : mapping or DataArray, optional
        The spend per period the draws rest on, ``{channel: (lower, upper)}``
        (see :func:`~pymc_robust_alloc.evidence.as_evidence`); unknown by default.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from pymc_marketing.mmm import GeometricAdstock
    >>> dims, ones = ("chain", "draw", "channel"), np.ones((1, 4, 2))
    >>> draws = xr.Dataset(
    ...     {"alpha": (dims, 2 * ones), "lam": (dims, 5 * ones), "adstock_alpha": (dims, ones / 2)},
    ...     coords={"channel": ["search", "social"]},
    ... )
    >>> view = CurveView("experiment", draws, adstock=GeometricAdstock(l_max=3))
    >>> view.channels, view.adstock_periods, list(view.posterior.data_vars)
    (('search', 'social'), 3, ['alpha', 'lam', 'adstock_alpha'])
    """

    def __init__(
        self,
        name: str,
        draws: xr.Dataset | xr.DataTree,
        shape: CurveShape | str | SaturationTransformation | None = None,
        adstock: AdstockTransformation | None = None,
        *,
        saturation: str | SaturationTransformation | None = None,
        evidence: Mapping | xr.DataArray | None = None,
    ) -> None:
        super().__init__(name)
        owner = f"view {name!r}"
        if saturation is not None:
            if shape is not None:
                raise TypeError(
                    f"View {name!r}: pass the curve once, as `shape` or as `saturation` "
                    "(its former name), not both."
                )
            shape = saturation
        self.shape = CurveShape.of("michaelis_menten" if shape is None else shape, adstock)
        posterior = as_posterior(draws, owner=owner)
        expected = list(self.shape.params)
        missing = [p for p in expected if p not in posterior]
        if missing:
            raise ValueError(
                f"View {name!r}: the draws lack {missing}. A "
                f"{type(self.saturation).__name__} view needs draws of {expected}; "
                f"got {sorted(posterior.data_vars)}."
            )
        posterior = posterior[expected]
        if "channel" not in posterior.dims:
            raise ValueError(
                f"View {name!r}: the draws have no 'channel' dim (dims: "
                f"{list(posterior.dims)}). Give each parameter one value per channel."
            )
        budget_dims = [d for d in posterior.dims if d not in ("chain", "draw")]
        budget_dims.sort(key=lambda d: d != "channel")
        check_labels(posterior, budget_dims, owner=owner)
        check_finite(posterior, owner=owner)
        self.shape.check(posterior, owner)
        self._posterior = posterior
        self._budget_coords = {d: tuple(posterior[d].values.tolist()) for d in budget_dims}
        self._evidence = as_evidence(evidence, self._budget_coords, owner)

    @classmethod
    def from_estimates(
        cls,
        name: str,
        estimates: Mapping[str, Mapping[Any, float] | Sequence[float] | pd.Series],
        sigma: float | Mapping[str, float | Mapping[Any, float] | Sequence[float]],
        *,
        channels: Sequence[str] | None = None,
        saturation: CurveShape | str | SaturationTransformation = "michaelis_menten",
        draws: int = 500,
        random_seed: int | np.random.Generator | None = None,
        evidence: Mapping | xr.DataArray | None = None,
    ) -> CurveView:
        r"""Build a view from parameter estimates with LogNormal uncertainty.

        Each parameter :math:`\theta_c` is drawn as
        :math:`\log \theta_c \sim \mathrm{Normal}(\log \hat\theta_c, \sigma)`, so
        ``sigma`` is roughly the relative uncertainty of the estimate.

        Parameters
        ----------
        name : str
            The view's name.
        estimates : mapping
            Parameter name -> positive estimate per channel (a mapping or
            ``pandas.Series`` by channel, or a sequence in ``channels``' order).
        sigma : float or mapping
            Log-scale standard deviation: one for all, or per parameter (and channel).
        channels : sequence of str, optional
            Channel labels; required when estimates are plain sequences.
        saturation : CurveShape, str or SaturationTransformation, default "michaelis_menten"
            The curve shape; ``estimates`` must name exactly its parameters.
        draws : int, default 500
            Number of draws, seeded by ``random_seed`` (int or Generator).
        evidence : mapping or DataArray, optional
            As for :class:`CurveView`.

        Examples
        --------
        >>> view = CurveView.from_estimates(
        ...     "regression",
        ...     {"alpha": [2.0, 1.2, 0.7], "lam": [5.0, 3.0, 4.0]},
        ...     sigma=0.25,
        ...     channels=["search", "social", "display"],
        ...     random_seed=1,
        ... )
        >>> view.posterior["alpha"].sizes["draw"]
        500
        """
        shape = CurveShape.of(saturation)
        params = list(shape.params)
        if not isinstance(estimates, Mapping):
            raise TypeError(
                f"View {name!r}: estimates must be a mapping {{parameter: values}}, e.g. "
                f"{{{params[0]!r}: [...], ...}}, got {type(estimates).__name__}."
            )
        if sorted(estimates) != sorted(params):
            raise ValueError(
                f"View {name!r}: a {shape.name} curve has parameters "
                f"{params}, but estimates were given for {sorted(estimates)}."
            )
        draws = check_count(draws, "draws", minimum=2, example=500)
        rng = np.random.default_rng(random_seed)
        labels = _channel_labels(name, estimates, channels)
        data = {}
        for param in params:
            centre = _per_channel(name, param, estimates[param], labels)
            if np.any(centre <= 0) or not np.all(np.isfinite(centre)):
                raise ValueError(
                    f"View {name!r}: estimates of {param!r} must be positive and finite "
                    f"(LogNormal uncertainty), got {dict(zip(labels, centre, strict=True))}."
                )
            spread = sigma.get(param) if isinstance(sigma, Mapping) else sigma
            if spread is None:
                raise ValueError(f"View {name!r}: sigma lacks parameter {param!r}.")
            scale = _per_channel(name, f"sigma[{param}]", spread, labels)
            if np.any(scale < 0) or not np.all(np.isfinite(scale)):
                raise ValueError(
                    f"View {name!r}: sigma of {param!r} must be non-negative, got {scale}."
                )
            values = rng.lognormal(np.log(centre), scale, size=(1, int(draws), len(labels)))
            data[param] = (("chain", "draw", "channel"), values)
        posterior = xr.Dataset(
            data,
            coords={"chain": [0], "draw": np.arange(int(draws)), "channel": list(labels)},
        )
        return cls(name, posterior, shape, evidence=evidence)

    @property
    def saturation(self) -> SaturationTransformation:
        """The shape's saturation component."""
        return self.shape.saturation

    @property
    def adstock(self) -> AdstockTransformation | None:
        """The shape's adstock component, if any."""
        return self.shape.adstock

    @property
    def adstock_periods(self) -> int:  # noqa: D102
        return self.shape.adstock_periods

    @property
    def concave(self) -> bool:
        """See :meth:`CurveShape.concave <pymc_robust_alloc.views.shapes.CurveShape.concave>`."""
        return self.shape.concave(self._posterior)

    @property
    def separable_over_cells(self) -> bool:  # noqa: D102
        return True

    @property
    def separable_over_periods(self) -> bool:  # noqa: D102
        return self.shape.separable_over_periods

    def build(self, horizon: Horizon, budget_coords: Mapping[str, Sequence]) -> pm.Model:
        """Build the curves on ``horizon``, with one ``Flat`` placeholder per parameter.

        The placeholders are named as in :attr:`posterior`, to be replaced by
        the draws; the adstock, if any, runs along ``date``.
        """
        budget_dims = tuple(budget_coords)
        size = (horizon.length, *(len(v) for v in budget_coords.values()))
        coords = {DATE: list(horizon.dates), **{d: list(v) for d, v in budget_coords.items()}}
        with pm.Model(coords=coords) as model:
            spend = pmd.Data(CHANNEL_DATA, np.zeros(size), dims=(DATE, *budget_dims))
            params = {p: pmd.Flat(p, dims=self._param_dims(p)) for p in self.shape.params}
            contribution = self.shape.apply(spend, params, dim=DATE)
            pmd.Deterministic("channel_contribution", contribution.transpose(DATE, *budget_dims))
            pmd.Deterministic(self.response_variable, contribution.sum())
        return model

    def _param_dims(self, var: str) -> tuple[str, ...]:
        return tuple(d for d in self._posterior[var].dims if d not in ("chain", "draw"))

    def curves(self, spend: np.ndarray) -> xr.DataArray:
        """Per-period response at the ``spend`` levels, dims ``(chain, draw, spend, channel, ...)``.

        The saturation alone (steady spend, no adstock).

        Examples
        --------
        >>> view = CurveView.from_estimates(
        ...     "v", {"alpha": {"tv": 2.0}, "lam": {"tv": 1.0}}, sigma=0.0, draws=2
        ... )
        >>> float(view.curves([1.0]).sel(channel="tv", spend=1.0).isel(chain=0, draw=0))
        1.0
        """
        spend = np.asarray(spend, dtype=float)
        params = {
            p: ptx.as_xtensor(self._posterior[p].values, dims=self._posterior[p].dims)
            for p in self.shape.saturation_params
        }
        curve = self.shape.saturate(ptx.as_xtensor(spend, dims=("spend",)), params)
        values = xr.DataArray(curve.values.eval(), dims=curve.type.dims)
        coords = {d: self._posterior[d] for d in values.dims if d in self._posterior.coords}
        values = values.assign_coords(spend=spend, **coords)
        return values.transpose("chain", "draw", "spend", ...)


def _channel_labels(name, estimates, channels) -> tuple:
    keyed = [v for v in estimates.values() if isinstance(v, Mapping | pd.Series)]
    if channels is not None:
        return tuple(channels)
    if not keyed:
        raise ValueError(
            f"View {name!r}: estimates are plain sequences, so pass `channels=` to "
            "say which channel each value belongs to."
        )
    first = keyed[0]
    return tuple(first.index if isinstance(first, pd.Series) else first.keys())


def _per_channel(name, what, values, labels) -> np.ndarray:
    if isinstance(values, Mapping | pd.Series):
        keys = set(values.keys() if isinstance(values, Mapping) else values.index)
        if keys != set(labels):
            raise ValueError(
                f"View {name!r}: {what} is given for channels {sorted(map(str, keys))} "
                f"but the view's channels are {sorted(map(str, labels))}."
            )
        values = [values[c] for c in labels]
    elif np.ndim(values) == 0:
        values = [values] * len(labels)
    if not all(is_real(v) for v in np.ravel(np.asarray(values, dtype=object))):
        raise TypeError(
            f"View {name!r}: {what} must be numbers (one, or one per channel), got {values!r}."
        )
    values = np.asarray(values, dtype=float)
    if values.shape != (len(labels),):
        raise ValueError(
            f"View {name!r}: {what} has {values.size} values for {len(labels)} "
            f"channels {list(labels)}."
        )
    return values
