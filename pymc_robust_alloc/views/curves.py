"""Views defined by per-channel response curves with parameter uncertainty."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pymc.dims as pmd
import pytensor.xtensor as ptx
import xarray as xr
from pymc_marketing.mmm.components.adstock import (
    AdstockTransformation,
    BinomialAdstock,
    DelayedAdstock,
    GeometricAdstock,
    NoAdstock,
    WeibullCDFAdstock,
    WeibullPDFAdstock,
)
from pymc_marketing.mmm.components.saturation import (
    HillSaturation,
    HillSaturationSigmoid,
    InverseScaledLogisticSaturation,
    LogisticSaturation,
    LogSaturation,
    MichaelisMentenSaturation,
    NoSaturation,
    RootSaturation,
    SaturationTransformation,
    TanhSaturation,
)

from pymc_robust_alloc.checks import as_posterior, check_count, check_finite, check_labels, is_real
from pymc_robust_alloc.evidence import as_evidence
from pymc_robust_alloc.views.base import CHANNEL_DATA, DATE, Horizon, View
from pymc_robust_alloc.views.validation import Range, check_support

__all__ = ["SATURATIONS", "CurveView"]

#: Saturation shapes known by name; any PyMC-Marketing saturation component works.
SATURATIONS: dict[str, type[SaturationTransformation]] = {
    "michaelis_menten": MichaelisMentenSaturation,
    "hill": HillSaturation,
    "logistic": LogisticSaturation,
}

ADSTOCK_PREFIX = "adstock_"

_POSITIVE = Range(0.0, open_low=True)
_AMPLITUDE = Range(0.0, why="a negative amplitude makes spend lower the response")
_RETENTION = Range(0.0, 1.0, why="the carry-over rate of each period is a fraction")

#: Parameter ranges on which each saturation is defined and nondecreasing from 0.
#: Keyed by exact class: a subclass may redefine its function, so is not checked.
SATURATION_SUPPORT: dict[type[SaturationTransformation], dict[str, Range]] = {
    MichaelisMentenSaturation: {
        "alpha": _AMPLITUDE,
        "lam": Range(
            0.0, open_low=True, why="lam <= 0 puts a pole in the curve alpha x / (lam + x)"
        ),
    },
    LogisticSaturation: {
        "lam": Range(0.0, open_low=True, why="lam <= 0 makes the curve flat or decreasing"),
        "beta": _AMPLITUDE,
    },
    InverseScaledLogisticSaturation: {
        "lam": Range(0.0, open_low=True, why="lam, the half-saturation spend, must be positive"),
        "beta": _AMPLITUDE,
    },
    HillSaturation: {
        "slope": Range(0.0, open_low=True, why="slope <= 0 makes the curve flat or decreasing"),
        "kappa": Range(0.0, open_low=True, why="kappa, the half-saturation spend, is positive"),
        "beta": _AMPLITUDE,
    },
    HillSaturationSigmoid: {"sigma": _AMPLITUDE, "beta": _AMPLITUDE},
    TanhSaturation: {
        "b": Range(0.0, open_low=True, why="b <= 0 divides by zero or flips the curve"),
        "c": Range(0.0, open_low=True, why="c <= 0 divides by zero or flips the curve"),
    },
    RootSaturation: {
        "alpha": Range(0.0, why="alpha < 0 puts a pole at zero spend in x ** alpha"),
        "beta": _AMPLITUDE,
    },
    LogSaturation: {"beta": _AMPLITUDE},
    NoSaturation: {"beta": _AMPLITUDE},
}

#: Parameter ranges of the adstocks, as PyMC-Marketing's own checks require.
ADSTOCK_SUPPORT: dict[type[AdstockTransformation], dict[str, Range]] = {
    GeometricAdstock: {"alpha": _RETENTION, "halflife": _POSITIVE},
    DelayedAdstock: {"alpha": _RETENTION, "halflife": _POSITIVE},
    BinomialAdstock: {"alpha": _RETENTION},
    WeibullPDFAdstock: {"lam": _POSITIVE, "k": _POSITIVE},
    WeibullCDFAdstock: {"lam": _POSITIVE, "k": _POSITIVE},
}

#: Saturations provably concave in spend >= 0, given their draws (within support).
CONCAVE_SATURATIONS: dict[type[SaturationTransformation], Callable[[xr.Dataset], bool]] = {
    # alpha x / (lam + x), alpha >= 0, lam > 0: second derivative -2 alpha lam / (lam + x)^3.
    MichaelisMentenSaturation: lambda d: True,
    # beta (1 - e^{-lam x}) / (1 + e^{-lam x}) = beta tanh(lam x / 2): concave for x >= 0.
    LogisticSaturation: lambda d: True,
    InverseScaledLogisticSaturation: lambda d: True,
    # beta x^s / (kappa^s + x^s): concave on x >= 0 iff s <= 1 (S-shaped above).
    HillSaturation: lambda d: bool((d["slope"] <= 1).all()),
    # sigma / (1 + e^{-beta (x - lam)}) - const: concave where x >= lam, so on x >= 0 if lam <= 0.
    HillSaturationSigmoid: lambda d: bool((d["lam"] <= 0).all()),
    # b tanh(x / (b c)), b, c > 0: concave for x >= 0.
    TanhSaturation: lambda d: True,
    # beta x^alpha, beta >= 0: concave on x >= 0 iff 0 <= alpha <= 1.
    RootSaturation: lambda d: bool((d["alpha"] <= 1).all()),
    # beta log(1 + x) and beta x, beta >= 0.
    LogSaturation: lambda d: True,
    NoSaturation: lambda d: True,
}

#: Adstocks linear in spend with non-negative weights (a convolution along date):
#: the adstocked spend stays >= 0 and affine in the plan, so concavity is kept.
LINEAR_ADSTOCKS: tuple[type[AdstockTransformation], ...] = (
    GeometricAdstock,
    DelayedAdstock,
    BinomialAdstock,
    WeibullPDFAdstock,
    WeibullCDFAdstock,
    NoAdstock,
)


def resolve_saturation(
    saturation: str | SaturationTransformation,
) -> SaturationTransformation:
    """Return a saturation component from its name or the component itself.

    Examples
    --------
    >>> sorted(resolve_saturation("michaelis_menten").default_priors)
    ['alpha', 'lam']
    """
    if isinstance(saturation, SaturationTransformation):
        return saturation
    try:
        return SATURATIONS[saturation]()
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown saturation {saturation!r}. Use one of {sorted(SATURATIONS)} or "
            "pass a PyMC-Marketing saturation component, e.g. "
            "`pymc_marketing.mmm.HillSaturation()`."
        ) from None


class CurveView(View):
    r"""A view whose response is a sum of per-channel saturation curves.

    The response of a plan over the horizon is

    .. math::

        Y = \sum_{t} \sum_{c} f_c\big(\mathrm{adstock}(x)_{t,c};\ \theta_c\big),

    with :math:`f` a PyMC-Marketing saturation component (Michaelis-Menten
    :math:`\alpha x / (\lambda + x)`, Hill, logistic, ...) and, optionally, a
    PyMC-Marketing adstock component applied along ``date`` first. The
    uncertainty about :math:`\theta` is carried by draws, used as the posterior.

    Parameters
    ----------
    name : str
        The view's name (a Python identifier).
    draws : xarray.Dataset or xarray.DataTree
        Parameter draws with dims ``(chain, draw, "channel", ...)``: one variable
        per parameter of ``saturation`` (``alpha``, ``lam`` for Michaelis-Menten)
        and, with ``adstock``, one per adstock parameter named
        ``adstock_<parameter>`` (``adstock_alpha`` for geometric adstock).
        A ``DataTree`` is read from its ``posterior`` group.
    saturation : str or SaturationTransformation, default "michaelis_menten"
        ``"michaelis_menten"``, ``"hill"``, ``"logistic"`` or a component.
    adstock : AdstockTransformation, optional
        E.g. ``GeometricAdstock(l_max=4)``; its ``l_max`` periods of carry-over
        are added after the decision periods.
    evidence : mapping or DataArray, optional
        The spend per period the draws' evidence covers, ``{channel: (lower,
        upper)}`` (see :func:`~pymc_robust_alloc.evidence.as_evidence`); unknown
        by default. The fitters of :mod:`pymc_robust_alloc.fit` set it.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> draws = xr.Dataset(
    ...     {
    ...         "alpha": (("chain", "draw", "channel"), np.full((1, 4, 2), 2.0)),
    ...         "lam": (("chain", "draw", "channel"), np.full((1, 4, 2), 5.0)),
    ...     },
    ...     coords={"channel": ["search", "social"]},
    ... )
    >>> CurveView("experiment", draws).channels
    ('search', 'social')
    """

    def __init__(
        self,
        name: str,
        draws: xr.Dataset | xr.DataTree,
        saturation: str | SaturationTransformation = "michaelis_menten",
        adstock: AdstockTransformation | None = None,
        *,
        evidence: Mapping | xr.DataArray | None = None,
    ) -> None:
        super().__init__(name)
        self.saturation = resolve_saturation(saturation)
        self.adstock = adstock
        posterior = as_posterior(draws, owner=f"view {name!r}")
        expected = list(self.saturation.default_priors) + [
            ADSTOCK_PREFIX + p for p in (adstock.default_priors if adstock else {})
        ]
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
        owner = f"view {name!r}"
        check_labels(posterior, budget_dims, owner=owner)
        check_finite(posterior, owner=owner)
        component = type(self.saturation)
        check_support(
            posterior,
            SATURATION_SUPPORT.get(component, {}),
            owner=owner,
            component=component.__name__,
        )
        if adstock is not None:
            check_support(
                posterior,
                ADSTOCK_SUPPORT.get(type(adstock), {}),
                owner=owner,
                component=type(adstock).__name__,
                prefix=ADSTOCK_PREFIX,
            )
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
        saturation: str | SaturationTransformation = "michaelis_menten",
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
            Parameter name -> positive estimate per channel: a mapping keyed by
            channel, a ``pandas.Series`` indexed by channel, or a sequence in the
            order of ``channels``.
        sigma : float or mapping
            Log-scale standard deviation: one number for every parameter, or per
            parameter (a number, or per channel).
        channels : sequence of str, optional
            Channel labels; required when estimates are plain sequences.
        saturation : str or SaturationTransformation, default "michaelis_menten"
            The curve shape; ``estimates`` must name exactly its parameters.
        draws : int, default 500
            Number of draws.
        random_seed : int or numpy.random.Generator, optional
            Seed of the draws.
        evidence : mapping or DataArray, optional
            The spend per period the estimates rest on, ``{channel: (lower,
            upper)}``; unknown by default.

        Returns
        -------
        CurveView

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
        component = resolve_saturation(saturation)
        params = list(component.default_priors)
        if not isinstance(estimates, Mapping):
            raise TypeError(
                f"View {name!r}: estimates must be a mapping {{parameter: values}}, e.g. "
                f"{{{params[0]!r}: [...], ...}}, got {type(estimates).__name__}."
            )
        if sorted(estimates) != sorted(params):
            raise ValueError(
                f"View {name!r}: a {type(component).__name__} curve has parameters "
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
        return cls(name, posterior, saturation=component, evidence=evidence)

    @property
    def budget_coords(self) -> dict[str, tuple]:
        """Labels of the budget dims: ``channel`` first, then the draws' other dims.

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> dims = ("chain", "draw", "channel", "geo")
        >>> draws = xr.Dataset(
        ...     {
        ...         "alpha": (dims, np.full((1, 4, 2, 2), 2.0)),
        ...         "lam": (dims, np.full((1, 4, 2, 2), 5.0)),
        ...     },
        ...     coords={"channel": ["search", "social"], "geo": ["north", "south"]},
        ... )
        >>> CurveView("experiment", draws).budget_coords
        {'channel': ('search', 'social'), 'geo': ('north', 'south')}
        """
        return dict(self._budget_coords)

    @property
    def posterior(self) -> xr.Dataset:
        """The curve parameters' draws, dims ``(chain, draw, channel, ...)``.

        Examples
        --------
        From a ``DataTree``, the view reads the ``posterior`` group and keeps only
        the curve's parameters:

        >>> import numpy as np, xarray as xr
        >>> dims = ("chain", "draw", "channel")
        >>> posterior = xr.Dataset(
        ...     {
        ...         "alpha": (dims, np.full((1, 4, 2), 2.0)),
        ...         "lam": (dims, np.full((1, 4, 2), 5.0)),
        ...         "y_sigma": (("chain", "draw"), np.ones((1, 4))),
        ...     },
        ...     coords={"channel": ["search", "social"]},
        ... )
        >>> view = CurveView("regression", xr.DataTree.from_dict({"posterior": posterior}))
        >>> list(view.posterior.data_vars), dict(view.posterior.sizes)
        (['alpha', 'lam'], {'chain': 1, 'draw': 4, 'channel': 2})
        """
        return self._posterior

    @property
    def adstock_periods(self) -> int:
        """Carry-over periods after the decisions: the adstock's ``l_max``, else 0.

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> from pymc_marketing.mmm import GeometricAdstock
        >>> dims, ones = ("chain", "draw", "channel"), np.ones((1, 4, 1))
        >>> draws = xr.Dataset(
        ...     {
        ...         "alpha": (dims, 2 * ones),
        ...         "lam": (dims, 5 * ones),
        ...         "adstock_alpha": (dims, ones / 2),
        ...     },
        ...     coords={"channel": ["tv"]},
        ... )
        >>> view = CurveView("experiment", draws, adstock=GeometricAdstock(l_max=3))
        >>> view.adstock_periods
        3
        """
        return int(self.adstock.l_max) if self.adstock is not None else 0

    @property
    def concave(self) -> bool:
        """Whether the view's value is provably concave in spend.

        True when the saturation is concave on non-negative spend in every draw
        and the adstock, if any, is linear in spend with non-negative weights:
        a concave curve of an affine, non-negative argument is concave, and so
        are sums and means of concave functions. Per saturation:
        Michaelis-Menten, logistic (also inverse-scaled), tanh, log and linear
        always (within the support checked at construction); Hill when
        ``slope <= 1`` in every draw; Hill sigmoid when ``lam <= 0`` in every
        draw; root when ``alpha <= 1`` in every draw. Any other saturation or
        adstock (including subclasses, which may redefine the curve): False.

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> dims, ones = ("chain", "draw", "channel"), np.ones((1, 4, 1))
        >>> hill = {"kappa": ones, "beta": ones}
        >>> def view(slope):
        ...     draws = xr.Dataset(
        ...         {k: (dims, v) for k, v in {**hill, "slope": slope * ones}.items()},
        ...         coords={"channel": ["tv"]},
        ...     )
        ...     return CurveView("v", draws, saturation="hill")
        >>> view(0.8).concave, view(2.0).concave
        (True, False)
        """
        rule = CONCAVE_SATURATIONS.get(type(self.saturation))
        if rule is None or not rule(self._posterior):
            return False
        return self.adstock is None or type(self.adstock) in LINEAR_ADSTOCKS

    @property
    def separable_over_cells(self) -> bool:
        """True: each cell's curve (and adstock) reads that cell's spend alone.

        Examples
        --------
        ``views`` is ``demo_views(draws=100)``: three :class:`~pymc_robust_alloc.CurveView`.

        >>> views[0].separable_over_cells
        True
        """
        return True

    @property
    def separable_over_periods(self) -> bool:
        """Whether each period's response depends only on that period's spend.

        True without adstock (or with ``NoAdstock``): the response is then a sum
        over periods of a function of each period's spend alone.

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> from pymc_marketing.mmm import GeometricAdstock
        >>> dims, ones = ("chain", "draw", "channel"), np.ones((1, 4, 1))
        >>> draws = xr.Dataset(
        ...     {"alpha": (dims, ones), "lam": (dims, ones), "adstock_alpha": (dims, ones / 2)},
        ...     coords={"channel": ["tv"]},
        ... )
        >>> CurveView("v", draws).separable_over_periods
        True
        >>> CurveView("v", draws, adstock=GeometricAdstock(l_max=3)).separable_over_periods
        False
        """
        return self.adstock is None or type(self.adstock) is NoAdstock

    def build(self, horizon: Horizon, budget_coords: Mapping[str, Sequence]) -> pm.Model:
        """Build the curves on ``horizon``, with one placeholder per parameter.

        The parameters are ``Flat`` variables named as in :attr:`posterior`,
        to be replaced by the draws; the adstock, if any, runs along ``date``.

        Parameters
        ----------
        horizon : Horizon
            The common date axis.
        budget_coords : mapping
            Budget dims and labels, in the order the merged model uses.

        Returns
        -------
        pymc.Model
            A new model.

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> from pymc_marketing.mmm import GeometricAdstock
        >>> dims, ones = ("chain", "draw", "channel"), np.ones((1, 4, 1))
        >>> draws = xr.Dataset(
        ...     {
        ...         "alpha": (dims, 2 * ones),
        ...         "lam": (dims, 5 * ones),
        ...         "adstock_alpha": (dims, ones / 2),
        ...     },
        ...     coords={"channel": ["tv"]},
        ... )
        >>> view = CurveView("experiment", draws, adstock=GeometricAdstock(l_max=3))
        >>> from pymc_robust_alloc import Horizon
        >>> horizon = Horizon(num_periods=2, adstock_periods=view.adstock_periods)
        >>> model = view.build(horizon, view.budget_coords)
        >>> [rv.name for rv in model.free_RVs], model.named_vars_to_dims["channel_contribution"]
        (['alpha', 'lam', 'adstock_alpha'], ('date', 'channel'))
        """
        budget_dims = tuple(budget_coords)
        shape = (horizon.length, *(len(v) for v in budget_coords.values()))
        coords = {DATE: list(horizon.dates), **{d: list(v) for d, v in budget_coords.items()}}
        with pm.Model(coords=coords) as model:
            spend = pmd.Data(CHANNEL_DATA, np.zeros(shape), dims=(DATE, *budget_dims))
            params = {
                p: pmd.Flat(p, dims=self._param_dims(p)) for p in self.saturation.default_priors
            }
            if self.adstock is not None:
                lagged = {
                    p: pmd.Flat(ADSTOCK_PREFIX + p, dims=self._param_dims(ADSTOCK_PREFIX + p))
                    for p in self.adstock.default_priors
                }
                spend = self.adstock.function(spend, dim=DATE, **lagged)
            contribution = self.saturation.function(spend, **params)
            pmd.Deterministic("channel_contribution", contribution.transpose(DATE, *budget_dims))
            pmd.Deterministic(self.response_variable, contribution.sum())
        return model

    def _param_dims(self, var: str) -> tuple[str, ...]:
        return tuple(d for d in self._posterior[var].dims if d not in ("chain", "draw"))

    def curves(self, spend: np.ndarray) -> xr.DataArray:
        """Per-period response of each channel at the given spend levels, per draw.

        Parameters
        ----------
        spend : array-like
            Spend levels per period.

        Returns
        -------
        xarray.DataArray
            Dims ``(chain, draw, spend, channel, ...)``, no adstock applied.

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
            p: ptx.as_xtensor(var.values, dims=var.dims)
            for p, var in self._posterior[list(self.saturation.default_priors)].items()
        }
        curve = self.saturation.function(ptx.as_xtensor(spend, dims=("spend",)), **params)
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
