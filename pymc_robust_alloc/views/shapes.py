"""One curve shape: a PyMC-Marketing saturation, optionally after an adstock.

:class:`CurveShape` is the single place that wires "adstock along ``date``, then
saturation" and names the adstock's parameters ``adstock_<parameter>``. Views
build their graphs with it, fits evaluate and rescale with it. The formulas
stay in PyMC-Marketing's components.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytensor.xtensor as ptx
import xarray as xr
from pymc_extras.prior import Prior
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

from pymc_robust_alloc.views.base import DATE
from pymc_robust_alloc.views.validation import Range, check_support

__all__ = ["ADSTOCK_PREFIX", "SATURATIONS", "CurveShape", "resolve_adstock", "resolve_saturation"]

#: Saturation shapes known by name; any PyMC-Marketing saturation component works.
SATURATIONS: dict[str, type[SaturationTransformation]] = {
    "michaelis_menten": MichaelisMentenSaturation,
    "hill": HillSaturation,
    "logistic": LogisticSaturation,
}

#: Prefix of the adstock's parameter names, as in PyMC-Marketing's MMM.
ADSTOCK_PREFIX = "adstock_"


def _positive(why: str = "") -> Range:
    return Range(0.0, open_low=True, why=why)


_AMPLITUDE = Range(0.0, why="a negative amplitude makes spend lower the response")
_RETENTION = Range(0.0, 1.0, why="the carry-over rate of each period is a fraction")
_FLIPS = "makes the curve flat or decreasing"

#: Parameter ranges on which each saturation is defined and nondecreasing from 0.
#: Keyed by exact class: a subclass may redefine its function, so is not checked.
SATURATION_SUPPORT: dict[type[SaturationTransformation], dict[str, Range]] = {
    MichaelisMentenSaturation: {
        "alpha": _AMPLITUDE,
        "lam": _positive("lam <= 0 puts a pole in the curve alpha x / (lam + x)"),
    },
    LogisticSaturation: {"lam": _positive(f"lam <= 0 {_FLIPS}"), "beta": _AMPLITUDE},
    InverseScaledLogisticSaturation: {
        "lam": _positive("lam, the half-saturation spend, must be positive"),
        "beta": _AMPLITUDE,
    },
    HillSaturation: {
        "slope": _positive(f"slope <= 0 {_FLIPS}"),
        "kappa": _positive("kappa, the half-saturation spend, is positive"),
        "beta": _AMPLITUDE,
    },
    HillSaturationSigmoid: {"sigma": _AMPLITUDE, "beta": _AMPLITUDE},
    TanhSaturation: {
        p: _positive(f"{p} <= 0 divides by zero or flips the curve") for p in ("b", "c")
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
    GeometricAdstock: {"alpha": _RETENTION, "halflife": _positive()},
    DelayedAdstock: {"alpha": _RETENTION, "halflife": _positive()},
    BinomialAdstock: {"alpha": _RETENTION},
    WeibullPDFAdstock: {"lam": _positive(), "k": _positive()},
    WeibullCDFAdstock: {"lam": _positive(), "k": _positive()},
}


def _always(draws: xr.Dataset) -> bool:
    return True


#: Saturations provably concave in spend >= 0, given their draws (within support).
CONCAVE_SATURATIONS: dict[type[SaturationTransformation], Callable[[xr.Dataset], bool]] = {
    # alpha x / (lam + x), alpha >= 0, lam > 0: second derivative -2 alpha lam / (lam + x)^3.
    MichaelisMentenSaturation: _always,
    # beta (1 - e^{-lam x}) / (1 + e^{-lam x}) = beta tanh(lam x / 2): concave for x >= 0.
    LogisticSaturation: _always,
    InverseScaledLogisticSaturation: _always,
    # beta x^s / (kappa^s + x^s): concave on x >= 0 iff s <= 1 (S-shaped above).
    HillSaturation: lambda d: bool((d["slope"] <= 1).all()),
    # sigma / (1 + e^{-beta (x - lam)}) - const: concave where x >= lam, so on x >= 0 if lam <= 0.
    HillSaturationSigmoid: lambda d: bool((d["lam"] <= 0).all()),
    # b tanh(x / (b c)), b, c > 0: concave for x >= 0.
    TanhSaturation: _always,
    # beta x^alpha, beta >= 0: concave on x >= 0 iff 0 <= alpha <= 1.
    RootSaturation: lambda d: bool((d["alpha"] <= 1).all()),
    # beta log(1 + x) and beta x, beta >= 0.
    LogSaturation: _always,
    NoSaturation: _always,
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

#: How each parameter scales with spend and response: ``theta_raw =
#: theta_scaled * spend_scale**p * response_scale**q`` for ``(p, q)``.
#: Parameters of a component not listed here are fitted on the raw scale.
UNIT_POWERS: dict[type, dict[str, tuple[int, int]]] = {
    MichaelisMentenSaturation: {"alpha": (0, 1), "lam": (1, 0)},
    HillSaturation: {"slope": (0, 0), "kappa": (1, 0), "beta": (0, 1)},
    LogisticSaturation: {"lam": (-1, 0), "beta": (0, 1)},
}

#: Prior distributions whose support is the positive half-line.
POSITIVE = {
    "Gamma",
    "HalfNormal",
    "HalfCauchy",
    "HalfStudentT",
    "LogNormal",
    "InverseGamma",
    "Exponential",
    "Weibull",
    "HalfFlat",
}
#: Prior distributions whose support is the unit interval.
UNIT_INTERVAL = {"Beta", "Kumaraswamy", "Uniform"}


def resolve_saturation(saturation: str | SaturationTransformation) -> SaturationTransformation:
    """Return a saturation component from its name or the component itself."""
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


def resolve_adstock(
    adstock: str | Mapping | AdstockTransformation | None,
) -> AdstockTransformation | None:
    """Return an adstock component from a name, a mapping or the component.

    Examples
    --------
    >>> resolve_adstock({"type": "geometric", "l_max": 4}).l_max
    4
    """
    if adstock is None or isinstance(adstock, AdstockTransformation):
        return adstock
    spec = {"type": adstock} if isinstance(adstock, str) else dict(adstock)
    kind = spec.pop("type", None)
    if kind != "geometric":
        raise ValueError(
            f"Unknown adstock {kind!r}. Use 'geometric' (with `l_max`, the number "
            "of carry-over periods) or pass a PyMC-Marketing adstock component, "
            "e.g. `GeometricAdstock(l_max=4)`."
        )
    if "l_max" not in spec:
        raise ValueError("A geometric adstock needs `l_max`, e.g. {'l_max': 4}.")
    return GeometricAdstock(**spec)


@dataclass(frozen=True)
class CurveShape:
    r"""A saturation curve, optionally preceded by an adstock along ``date``.

    The response per period is :math:`f(\mathrm{adstock}(x)_{t,c};\ \theta_c)`.
    Parameters are named as the components name them, the adstock's with the
    prefix ``adstock_`` (``adstock_alpha`` for geometric adstock).

    Parameters
    ----------
    saturation : str or SaturationTransformation, default "michaelis_menten"
        A component, or its name in :data:`SATURATIONS`.
    adstock : AdstockTransformation, str or mapping, optional
        E.g. ``GeometricAdstock(l_max=4)`` or ``{"type": "geometric", "l_max": 4}``.

    Examples
    --------
    >>> import numpy as np
    >>> shape = CurveShape("michaelis_menten", {"type": "geometric", "l_max": 3})
    >>> shape.params
    ('alpha', 'lam', 'adstock_alpha')
    >>> params = {"alpha": [1.0], "lam": [1.0], "adstock_alpha": [0.5]}
    >>> shape.evaluate(np.array([[4.0], [0.0], [0.0]]), params).round(3)
    array([[0.696],
           [0.533],
           [0.364]])
    """

    saturation: SaturationTransformation | str = "michaelis_menten"
    adstock: AdstockTransformation | str | Mapping | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "saturation", resolve_saturation(self.saturation))
        object.__setattr__(self, "adstock", resolve_adstock(self.adstock))

    @classmethod
    def of(
        cls,
        shape: CurveShape | str | SaturationTransformation,
        adstock: AdstockTransformation | str | Mapping | None = None,
    ) -> CurveShape:
        """Return ``shape`` itself, or the shape of a saturation and an adstock."""
        if not isinstance(shape, CurveShape):
            return cls(shape, adstock)
        if adstock is not None:
            raise TypeError(
                "Pass the adstock inside the CurveShape, e.g. "
                "CurveShape('hill', GeometricAdstock(l_max=4)), not beside it."
            )
        return shape

    @property
    def name(self) -> str:
        """Short description, e.g. ``'GeometricAdstock(l_max=4) + MichaelisMentenSaturation'``."""
        name = type(self.saturation).__name__
        if self.adstock is not None:
            name = f"{type(self.adstock).__name__}(l_max={self.adstock.l_max}) + {name}"
        return name

    @property
    def saturation_params(self) -> tuple[str, ...]:  # noqa: D102
        return tuple(self.saturation.default_priors)

    @property
    def adstock_params(self) -> tuple[str, ...]:
        """Parameters of the adstock, named ``adstock_<parameter>``."""
        if self.adstock is None:
            return ()
        return tuple(ADSTOCK_PREFIX + p for p in self.adstock.default_priors)

    @property
    def params(self) -> tuple[str, ...]:
        """All parameters: the saturation's, then the adstock's."""
        return self.saturation_params + self.adstock_params

    @property
    def adstock_periods(self) -> int:
        """Carry-over periods after the last spend: the adstock's ``l_max``, else 0."""
        return int(self.adstock.l_max) if self.adstock is not None else 0

    @property
    def separable_over_periods(self) -> bool:
        """Whether each period's response reads that period's spend alone."""
        return self.adstock is None or type(self.adstock) is NoAdstock

    def saturate(self, spend, params: Mapping):
        """Return the saturation of ``spend`` (an xtensor), parameters read from ``params``."""
        return self.saturation.function(spend, **{p: params[p] for p in self.saturation_params})

    def apply(self, spend, params: Mapping, dim: str = DATE):
        """Return the response per period: adstock along ``dim`` (if any), then saturation.

        ``spend`` and the values of ``params`` (one per name in :attr:`params`)
        are xtensors; the result is an xtensor with the dims of ``spend``.
        """
        if self.adstock is not None:
            lagged = {p.removeprefix(ADSTOCK_PREFIX): params[p] for p in self.adstock_params}
            spend = self.adstock.function(spend, dim=dim, **lagged)
        return self.saturate(spend, params)

    def check(self, draws: xr.Dataset, owner: str) -> None:
        """Refuse draws outside the ranges the components are defined on."""
        check_support(
            draws,
            SATURATION_SUPPORT.get(type(self.saturation), {}),
            owner=owner,
            component=type(self.saturation).__name__,
        )
        if self.adstock is not None:
            check_support(
                draws,
                ADSTOCK_SUPPORT.get(type(self.adstock), {}),
                owner=owner,
                component=type(self.adstock).__name__,
                prefix=ADSTOCK_PREFIX,
            )

    def concave(self, draws: xr.Dataset) -> bool:
        """Whether the response is provably concave in spend under every draw.

        A concave saturation of a linear, non-negative adstock is concave; any
        other component (including subclasses, which may redefine the curve) is
        not known to be.
        """
        rule = CONCAVE_SATURATIONS.get(type(self.saturation))
        if rule is None or not rule(draws):
            return False
        return self.adstock is None or type(self.adstock) in LINEAR_ADSTOCKS

    def default_prior(self, param: str) -> Prior:
        """Return the component's default prior of ``param`` (on data scaled to unit maxima)."""
        if param in self.adstock_params:
            return self.adstock.default_priors[param.removeprefix(ADSTOCK_PREFIX)]
        return self.saturation.default_priors[param]

    def support(self, param: str) -> str:
        """``'positive'``, ``'unit'`` or ``'real'``, read from the default prior."""
        dist = self.default_prior(param).distribution
        if dist in UNIT_INTERVAL:
            return "unit"
        return "positive" if dist in POSITIVE else "real"

    def unit_powers(self, param: str) -> tuple[int, int]:
        """Powers ``(p, q)`` of the spend and response scales in ``param``'s unit."""
        if param in self.adstock_params:
            return (0, 0)
        return UNIT_POWERS.get(type(self.saturation), {}).get(param, (0, 0))

    @property
    def rescalable(self) -> bool:
        """Whether a fit may run on data scaled to unit maxima (known units)."""
        return type(self.saturation) in UNIT_POWERS

    def to_raw(self, param: str, value, spend_scale, response_scale):
        """Convert a parameter fitted on scaled data back to raw units.

        Examples
        --------
        Spend scaled by 100: a Michaelis-Menten ``lam`` of 0.5 is a raw spend of 50.

        >>> float(CurveShape().to_raw("lam", 0.5, spend_scale=100.0, response_scale=10.0))
        50.0
        """
        p, q = self.unit_powers(param)
        return value * np.asarray(spend_scale, float) ** p * np.asarray(response_scale, float) ** q

    @cached_property
    def _compiled(self):
        spend = pt.dmatrix("spend")
        inputs = {p: pt.dvector(p) for p in self.params}
        x = ptx.as_xtensor(spend, dims=(DATE, "channel"))
        values = {p: ptx.as_xtensor(v, dims=("channel",)) for p, v in inputs.items()}
        out = self.apply(x, values).transpose(DATE, "channel").values
        fn = pytensor.function(
            [spend, *inputs.values()], out, mode="FAST_COMPILE", on_unused_input="ignore"
        )
        fn.trust_input = True
        return fn

    def evaluate(self, spend: np.ndarray, params: Mapping[str, np.ndarray]) -> np.ndarray:
        """Response per period of numpy spend ``(date, channel)`` under ``params``.

        ``params`` holds one array ``(channel,)`` per name in :attr:`params`.
        """
        spend = np.ascontiguousarray(spend, dtype=float)
        args = [np.ascontiguousarray(np.atleast_1d(params[p]), dtype=float) for p in self.params]
        return self._compiled(spend, *args)
