"""Generate the example files shipped in ``pymc_robust_alloc/examples/``.

Three measurement systems describe the same three channels (search, social,
display) and disagree, as real ones do:

- ``attribution.csv``: a weekly attribution export (52 weeks, long layout:
  date, channel, spend, response = attributed conversions), generated from
  Michaelis-Menten curves plus noise. Attribution credits search generously.
- ``lift_tests.csv``: geo lift tests in PyMC-Marketing's schema (channel, x,
  delta_x, delta_y, sigma), generated from different curves under which
  social drives more incremental response.
- ``vendor_draws.csv``: a vendor's bootstrap of its own curve parameters
  (draw, channel, alpha, lam), 200 draws per channel.
- ``config.yaml``: the run that turns the three files into a robust plan.
- ``portfolio.yaml`` and ``markets/<market>/<view>_draws.csv``: a portfolio of
  8 decisions (4 markets x 2 budgets) for ``robust-alloc run-many``; each market
  has its own draws of the three systems' curves (200 draws per channel).

Everything is synthetic and seeded: rerunning the script reproduces the files
byte for byte. Run from the repository root::

    .venv/bin/python scripts/make_examples.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "pymc_robust_alloc" / "examples"
SEED = 20240601
CHANNELS = ["search", "social", "display"]
#: (alpha, lam) per channel and source: spend per week in k$, response in conversions.
ATTRIBUTION = {
    "search": (900.0, 20.0),
    "social": (400.0, 30.0),
    "display": (250.0, 25.0),
}
EXPERIMENT = {
    "search": (500.0, 18.0),
    "social": (800.0, 35.0),
    "display": (300.0, 30.0),
}
VENDOR = {"search": (650.0, 22.0), "social": (600.0, 28.0), "display": (350.0, 20.0)}

CONFIG = """\
# Robust allocation of 60 k$ per week over the next 8 weeks across three channels,
# from three measurement systems that disagree. Run it with
#     robust-alloc run pymc_robust_alloc/examples/config.yaml --output results
# or, from Python,
#     from pymc_robust_alloc.config import run_config
#     run_config("pymc_robust_alloc/examples/config.yaml", output_dir="results")
title: Robust allocation from attribution, lift tests and a vendor model
seed: 1
views:
  attribution:            # weekly attribution export, fitted by least squares
    source: table
    path: attribution.csv
    method: least_squares
    saturation: michaelis_menten
    bootstrap: residual
    n_draws: 200
  experiment:             # geo lift tests, fitted with PyMC
    source: lift_tests
    path: lift_tests.csv
    saturation: michaelis_menten
    draws: 200
    tune: 300
    chains: 1
  vendor:                 # a vendor's bootstrap draws, used as they are
    source: draws
    path: vendor_draws.csv
    saturation: michaelis_menten
budget:
  total: 60.0             # k$ per week
  num_periods: 8
  bounds:
    search: [5, 40]
    social: [5, 40]
    display: [0, 30]
  # With a second budget dim in the views (e.g. geo), bounds per cell:
  #   search: {north: [0, 20], south: [5, 30]}
  # Flighting (each week's share of the budget) and the price of a unit of spend:
  # budget_distribution_over_period: [0.2, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]
  # cost_per_unit: {search: 1.0, social: 1.2, display: 0.8}
candidates:
  current: {search: 30.0, social: 15.0, display: 15.0}
objectives:
  minimax: true
  risk_averse: {quantile: 0.1}
# Further linear constraints on every plan: spend per week summed over channels
# (min/max in k$, min_share/max_share of the budget), or a callable returning
# PyMC-Marketing Constraint objects ({function: "package.module:callable", ...}).
# constraints:
#   - {channels: [social, display], max_share: 0.5}
n_draws: 200
"""


#: Each market's size (alpha multiplier) per channel: markets differ in what works.
MARKETS = {
    "north": (1.0, 1.0, 1.0),
    "south": (0.7, 1.4, 1.0),
    "east": (1.3, 0.8, 1.2),
    "west": (0.9, 1.1, 0.6),
}
PORTFOLIO_BUDGETS = (40.0, 60.0)
PORTFOLIO = """\
# Eight decisions at once: four markets, each at two weekly budgets (k$ per week),
# from three measurement systems per market. Run it with
#     robust-alloc run-many pymc_robust_alloc/examples/portfolio.yaml --output results
# (a local cluster, one worker per core), or on a running Dask cluster with
#     robust-alloc run-many pymc_robust_alloc/examples/portfolio.yaml --output results \\
#         --scheduler tcp://scheduler-host:8786
# Every entry overrides the base below; {market} in a path is the entry's market.
title: Robust allocations of four markets
seed: 1
views:
  attribution: {source: draws, path: "markets/{market}/attribution_draws.csv"}
  experiment: {source: draws, path: "markets/{market}/experiment_draws.csv"}
  vendor: {source: draws, path: "markets/{market}/vendor_draws.csv"}
budget:
  total: 60.0
  num_periods: 8
  bounds:
    search: [5, 40]
    social: [5, 40]
    display: [0, 30]
objectives:
  minimax: true
n_draws: 200
portfolio:
"""


def michaelis_menten(x, alpha, lam):
    """Response per week of spend ``x``."""
    return alpha * x / (lam + x)


def attribution(rng: np.random.Generator) -> pd.DataFrame:
    """52 weeks of spend and attributed conversions per channel."""
    dates = pd.date_range("2024-01-01", periods=52, freq="W-MON")
    frames = []
    for channel, (alpha, lam) in ATTRIBUTION.items():
        spend = rng.uniform(0.2, 3.0, size=dates.size) * lam
        mean = michaelis_menten(spend, alpha, lam)
        response = mean * rng.lognormal(0.0, 0.08, size=dates.size)
        frames.append(
            pd.DataFrame(
                {
                    "date": dates.strftime("%Y-%m-%d"),
                    "channel": channel,
                    "spend": spend.round(3),
                    "response": response.round(2),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def lift_tests(rng: np.random.Generator) -> pd.DataFrame:
    """Three geo tests per channel at different spend levels."""
    rows = []
    for channel, (alpha, lam) in EXPERIMENT.items():
        for level, step in [(0.5, 0.5), (1.0, 0.7), (1.8, 1.0)]:
            x, delta_x = level * lam, step * lam
            lift = michaelis_menten(x + delta_x, alpha, lam) - michaelis_menten(x, alpha, lam)
            sigma = 0.08 * lift
            rows.append(
                {
                    "channel": channel,
                    "x": round(x, 3),
                    "delta_x": round(delta_x, 3),
                    "delta_y": round(lift + rng.normal(0.0, sigma), 2),
                    "sigma": round(sigma, 2),
                }
            )
    return pd.DataFrame(rows)


def vendor_draws(rng: np.random.Generator, n_draws: int = 200) -> pd.DataFrame:
    """Draw a vendor's parameters: LogNormal around its estimates."""
    frames = []
    for channel, (alpha, lam) in VENDOR.items():
        frames.append(
            pd.DataFrame(
                {
                    "draw": np.arange(n_draws),
                    "channel": channel,
                    "alpha": rng.lognormal(np.log(alpha), 0.1, n_draws).round(3),
                    "lam": rng.lognormal(np.log(lam), 0.15, n_draws).round(3),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def curve_draws(rng: np.random.Generator, curves: dict, size: tuple, n_draws: int = 200):
    """Draw a system's parameters (draw, channel, alpha, lam) in one market."""
    frames = []
    for (channel, (alpha, lam)), k in zip(curves.items(), size, strict=True):
        frames.append(
            pd.DataFrame(
                {
                    "draw": np.arange(n_draws),
                    "channel": channel,
                    "alpha": rng.lognormal(np.log(k * alpha), 0.1, n_draws).round(3),
                    "lam": rng.lognormal(np.log(lam), 0.15, n_draws).round(3),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def portfolio(rng: np.random.Generator) -> str:
    """Write every market's draws; return the portfolio config."""
    systems = {"attribution": ATTRIBUTION, "experiment": EXPERIMENT, "vendor": VENDOR}
    entries = []
    for market, size in MARKETS.items():
        folder = OUT / "markets" / market
        folder.mkdir(parents=True, exist_ok=True)
        for system, curves in systems.items():
            curve_draws(rng, curves, size).to_csv(folder / f"{system}_draws.csv", index=False)
        entries += [
            f"  - {{name: {market}-{budget:g}, market: {market}, scenario: base, "
            f"budget: {budget:g}}}\n"
            for budget in PORTFOLIO_BUDGETS
        ]
    return PORTFOLIO + "".join(entries)


def main() -> None:
    """Write the example files."""
    rng = np.random.default_rng(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    attribution(rng).to_csv(OUT / "attribution.csv", index=False)
    lift_tests(rng).to_csv(OUT / "lift_tests.csv", index=False)
    vendor_draws(rng).to_csv(OUT / "vendor_draws.csv", index=False)
    (OUT / "config.yaml").write_text(CONFIG)
    (OUT / "portfolio.yaml").write_text(portfolio(np.random.default_rng(SEED + 1)))
    print(f"wrote examples to {OUT}")


if __name__ == "__main__":
    main()
