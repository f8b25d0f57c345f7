"""Synthetic data from known curves, shared by the fit tests."""

import numpy as np
import pandas as pd

TRUE = {"search": (3.0, 2.0), "social": (2.0, 4.0), "display": (1.0, 1.5)}


def mm(x, alpha, lam):
    return alpha * x / (lam + x)


def table(seed: int, n: int = 52, noise: float = 0.05) -> pd.DataFrame:
    """Long spend/response table drawn from the Michaelis-Menten curves in TRUE."""
    rng = np.random.default_rng(seed)
    frames = []
    for channel, (alpha, lam) in TRUE.items():
        spend = rng.uniform(0.1, 3.0, n) * lam
        response = mm(spend, alpha, lam) + rng.normal(0.0, noise * alpha, n)
        frames.append(
            pd.DataFrame(
                {
                    "date": np.arange(n),
                    "channel": channel,
                    "spend": spend,
                    "response": response,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def lift_tests(seed: int, channels=("search", "social"), rel_sigma: float = 0.05) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for channel in channels:
        alpha, lam = TRUE[channel]
        for level, step in [(0.25, 0.25), (0.5, 0.5), (1.0, 0.7), (2.0, 1.0)]:
            x, dx = level * lam, step * lam
            lift = mm(x + dx, alpha, lam) - mm(x, alpha, lam)
            sigma = rel_sigma * lift
            rows.append(
                dict(
                    channel=channel,
                    x=x,
                    delta_x=dx,
                    delta_y=lift + rng.normal(0, sigma),
                    sigma=sigma,
                )
            )
    return pd.DataFrame(rows)


def covered(posterior, interval: float = 0.9, channels=None) -> dict:
    """Whether each true parameter lies in the central interval of the draws."""
    low, high = (1 - interval) / 2, (1 + interval) / 2
    q = posterior.quantile([low, high], dim=("chain", "draw"))
    out = {}
    for channel in channels or TRUE:
        for i, p in enumerate(("alpha", "lam")):
            lo, hi = q[p].sel(channel=channel).values
            out[(channel, p)] = bool(lo <= TRUE[channel][i] <= hi)
    return out
