"""A response shape to fit: a saturation component, optionally after an adstock.

The formulas stay in PyMC-Marketing: :class:`CurveShape` compiles the
component's own ``function`` once and evaluates it on numpy arrays, and knows
how each parameter changes when spend and response are rescaled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytensor.xtensor as ptx
from pymc_extras.prior import Prior
from pymc_marketing.mmm import (
    GeometricAdstock,
    HillSaturation,
    LogisticSaturation,
    MichaelisMentenSaturation,
)
from pymc_marketing.mmm.components.adstock import AdstockTransformation
from pymc_marketing.mmm.components.saturation import SaturationTransformation

from pymc_robust_alloc.views.curves import ADSTOCK_PREFIX, resolve_saturation

__all__ = ["CurveShape", "resolve_adstock"]

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


def resolve_adstock(adstock: str | Mapping | AdstockTransformation | None):
    """Return an adstock component from a name, a mapping or the component.

    Examples
    --------
    >>> resolve_adstock({"type": "geometric", "l_max": 4}).l_max
    4
    >>> resolve_adstock(None) is None
    True
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
    """A saturation curve, optionally preceded by an adstock, with its parameters.

    Parameters
    ----------
    saturation : str or SaturationTransformation, default "michaelis_menten"
        The saturation component (or its name, see :data:`SATURATIONS`).
    adstock : AdstockTransformation, optional
        Applied along ``date`` before the saturation; its parameters are named
        ``adstock_<parameter>`` as in :class:`~pymc_robust_alloc.CurveView`.

    Examples
    --------
    >>> import numpy as np
    >>> shape = CurveShape("michaelis_menten")
    >>> shape.params
    ('alpha', 'lam')
    >>> shape.evaluate(np.array([[1.0], [3.0]]), {"alpha": [2.0], "lam": [1.0]})
    array([[1. ],
           [1.5]])
    """

    saturation: SaturationTransformation | str = "michaelis_menten"
    adstock: AdstockTransformation | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "saturation", resolve_saturation(self.saturation))
        object.__setattr__(self, "adstock", resolve_adstock(self.adstock))

    @property
    def name(self) -> str:
        """Short description, e.g. ``'MichaelisMentenSaturation'``.

        Examples
        --------
        >>> CurveShape("hill").name
        'HillSaturation'
        >>> CurveShape(adstock={"type": "geometric", "l_max": 4}).name
        'GeometricAdstock(l_max=4) + MichaelisMentenSaturation'
        """
        name = type(self.saturation).__name__
        if self.adstock is not None:
            name = f"{type(self.adstock).__name__}(l_max={self.adstock.l_max}) + {name}"
        return name

    @property
    def saturation_params(self) -> tuple[str, ...]:
        """Parameters of the saturation component.

        Examples
        --------
        >>> CurveShape("hill").saturation_params
        ('slope', 'kappa', 'beta')
        """
        return tuple(self.saturation.default_priors)

    @property
    def adstock_params(self) -> tuple[str, ...]:
        """Parameters of the adstock component, named ``adstock_<parameter>``.

        Examples
        --------
        >>> CurveShape(adstock={"type": "geometric", "l_max": 4}).adstock_params
        ('adstock_alpha',)
        >>> CurveShape().adstock_params
        ()
        """
        if self.adstock is None:
            return ()
        return tuple(ADSTOCK_PREFIX + p for p in self.adstock.default_priors)

    @property
    def params(self) -> tuple[str, ...]:
        """All parameters, in the order the views store them.

        Examples
        --------
        >>> CurveShape("logistic", adstock={"type": "geometric", "l_max": 4}).params
        ('lam', 'beta', 'adstock_alpha')
        """
        return self.saturation_params + self.adstock_params

    def default_prior(self, param: str) -> Prior:
        """Return the component's default prior of ``param`` (on the scaled data).

        Examples
        --------
        >>> shape = CurveShape(adstock={"type": "geometric", "l_max": 4})
        >>> shape.default_prior("adstock_alpha")
        Prior("Beta", alpha=1, beta=3)
        >>> [shape.default_prior(p).distribution for p in shape.params]
        ['Gamma', 'HalfNormal', 'Beta']
        """
        if param in self.adstock_params:
            return self.adstock.default_priors[param.removeprefix(ADSTOCK_PREFIX)]
        return self.saturation.default_priors[param]

    def support(self, param: str) -> str:
        """``'positive'``, ``'unit'`` or ``'real'``, read from the default prior.

        Examples
        --------
        >>> shape = CurveShape(adstock={"type": "geometric", "l_max": 4})
        >>> shape.support("lam"), shape.support("adstock_alpha")
        ('positive', 'unit')
        """
        dist = self.default_prior(param).distribution
        if dist in UNIT_INTERVAL:
            return "unit"
        return "positive" if dist in POSITIVE else "real"

    def unit_powers(self, param: str) -> tuple[int, int]:
        """Powers of the spend and response scales in ``param``'s unit.

        Examples
        --------
        Michaelis-Menten's ``lam`` is a spend level; logistic's is per unit of spend.

        >>> CurveShape("michaelis_menten").unit_powers("lam")
        (1, 0)
        >>> CurveShape("logistic").unit_powers("lam")
        (-1, 0)
        """
        if param in self.adstock_params:
            return (0, 0)
        return UNIT_POWERS.get(type(self.saturation), {}).get(param, (0, 0))

    @property
    def rescalable(self) -> bool:
        """Whether the fit may run on data scaled to unit maxima.

        Examples
        --------
        >>> from pymc_marketing.mmm import TanhSaturation
        >>> CurveShape("hill").rescalable, CurveShape(TanhSaturation()).rescalable
        (True, False)
        """
        return type(self.saturation) in UNIT_POWERS

    def to_raw(self, param: str, value, spend_scale, response_scale):
        """Convert a parameter fitted on scaled data back to raw units.

        Examples
        --------
        Spend scaled by 100 and response by 10: a Michaelis-Menten fit's ``lam``
        of 0.5 is a raw spend of 50, its ``alpha`` of 0.5 a raw response of 5.

        >>> shape = CurveShape("michaelis_menten")
        >>> float(shape.to_raw("lam", 0.5, spend_scale=100.0, response_scale=10.0))
        50.0
        >>> float(shape.to_raw("alpha", 0.5, spend_scale=100.0, response_scale=10.0))
        5.0
        """
        p, q = self.unit_powers(param)
        return value * np.asarray(spend_scale, float) ** p * np.asarray(response_scale, float) ** q

    @cached_property
    def _compiled(self):
        spend = pt.dmatrix("spend")
        inputs = {p: pt.dvector(p) for p in self.params}
        x = ptx.as_xtensor(spend, dims=("date", "channel"))
        values = {p: ptx.as_xtensor(v, dims=("channel",)) for p, v in inputs.items()}
        if self.adstock is not None:
            lagged = {p.removeprefix(ADSTOCK_PREFIX): values[p] for p in self.adstock_params}
            x = self.adstock.function(x, dim="date", **lagged)
        out = self.saturation.function(x, **{p: values[p] for p in self.saturation_params})
        out = out.transpose("date", "channel").values
        fn = pytensor.function(
            [spend, *inputs.values()],
            out,
            mode="FAST_COMPILE",
            on_unused_input="ignore",
        )
        fn.trust_input = True
        return fn

    def evaluate(self, spend: np.ndarray, params: Mapping[str, np.ndarray]) -> np.ndarray:
        """Response per period of spend ``(date, channel)`` under ``params``.

        Parameters
        ----------
        spend : numpy.ndarray
            Spend, shape ``(n_dates, n_channels)``, in date order.
        params : mapping
            One array of shape ``(n_channels,)`` per parameter in :attr:`params`.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_dates, n_channels)``.

        Examples
        --------
        With a geometric adstock, spend in the first period still drives the
        response of the next two:

        >>> import numpy as np
        >>> shape = CurveShape(adstock={"type": "geometric", "l_max": 3})
        >>> params = {"alpha": [1.0], "lam": [1.0], "adstock_alpha": [0.5]}
        >>> shape.evaluate(np.array([[4.0], [0.0], [0.0]]), params).round(3)
        array([[0.696],
               [0.533],
               [0.364]])
        """
        spend = np.ascontiguousarray(spend, dtype=float)
        args = [np.ascontiguousarray(np.atleast_1d(params[p]), dtype=float) for p in self.params]
        return self._compiled(spend, *args)
