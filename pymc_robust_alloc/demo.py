"""The blog's example: three measurement systems that disagree."""

from __future__ import annotations

from pymc_robust_alloc.views.curves import CurveView

__all__ = ["CHANNELS", "DEMO_VIEWS", "SWEEP_ALPHA", "SWEEP_FACTORS", "demo_views"]

CHANNELS = ("search", "social", "display")

#: Michaelis-Menten estimates (alpha, lam per channel) and the LogNormal scale.
DEMO_VIEWS: dict[str, dict] = {
    "regression": {"alpha": (2.0, 1.2, 0.7), "lam": (5.0, 3.0, 4.0), "sigma": 0.25},
    "experiment": {"alpha": (0.8, 2.5, 1.3), "lam": (6.0, 3.0, 3.5), "sigma": 0.08},
    "attribution": {"alpha": (8.0, 5.0, 7.0), "lam": (2.5, 7.0, 3.0), "sigma": 0.6},
}
#: Attribution's alpha in the scale sweep, multiplied by each factor.
SWEEP_ALPHA = (2.5, 0.5, 1.8)
SWEEP_FACTORS = (1.0, 2.0, 3.0, 5.0, 7.0, 10.0)


def demo_views(draws: int = 500, random_seed: int = 42, attribution_alpha=None) -> list[CurveView]:
    """Build the three views of the demo, with seeded LogNormal draws.

    Parameters
    ----------
    draws : int, default 500
        Draws per view.
    random_seed : int, default 42
        Seed; view ``i`` uses ``random_seed + i``.
    attribution_alpha : sequence of float, optional
        Replace attribution's alpha (the sweep uses :data:`SWEEP_ALPHA`).

    Returns
    -------
    list of CurveView

    Examples
    --------
    >>> [v.name for v in demo_views(draws=10)]
    ['regression', 'experiment', 'attribution']
    """
    views = []
    for i, (name, spec) in enumerate(DEMO_VIEWS.items()):
        alpha = spec["alpha"]
        if name == "attribution" and attribution_alpha is not None:
            alpha = tuple(attribution_alpha)
        views.append(
            CurveView.from_estimates(
                name,
                {"alpha": alpha, "lam": spec["lam"]},
                sigma=spec["sigma"],
                channels=CHANNELS,
                draws=draws,
                random_seed=random_seed + i,
            )
        )
    return views
