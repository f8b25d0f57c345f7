import matplotlib
import numpy as np
import pytest
import xarray as xr

from pymc_robust_alloc import CurveView, RobustAllocator
from pymc_robust_alloc.demo import CHANNELS, demo_views

matplotlib.use("Agg")

BUDGET = 100.0
PERIODS = 8
BOUNDS = {c: (0.0, 60.0) for c in CHANNELS}
DRAWS = 200


@pytest.fixture(scope="session")
def views():
    return demo_views(draws=DRAWS, random_seed=7)


@pytest.fixture(scope="session")
def allocator(views):
    return RobustAllocator(views, PERIODS)


@pytest.fixture(scope="session")
def result(allocator):
    return allocator.allocate(BUDGET, BOUNDS, weights={"experiment": 2.0}, quantile=0.1)


#: The reference plan of the success-probability tests, and the gain asked for.
REFERENCE = dict.fromkeys(CHANNELS, BUDGET / 3)
REQUIRED_GAIN = 0.002


@pytest.fixture(scope="session")
def success_result(allocator):
    return allocator.allocate(BUDGET, BOUNDS, reference_plan=REFERENCE, required_gain=REQUIRED_GAIN)


def numpy_responses(views, plan, periods=PERIODS):
    """Y_d(a, m) per draw d, recomputed with numpy from the Michaelis-Menten draws.

    Shape ``(view, *plan.shape[:-1], draw)``.
    """
    x = np.asarray(plan, dtype=float)[..., None, :]
    out = []
    for view in views:
        alpha = view.posterior["alpha"].sel(channel=list(CHANNELS)).values.reshape(-1, 3)
        lam = view.posterior["lam"].sel(channel=list(CHANNELS)).values.reshape(-1, 3)
        out.append(periods * (alpha * x / (lam + x)).sum(axis=-1))
    return np.array(out)


def numpy_values(views, plan, periods=PERIODS):
    """V(a, m) recomputed with numpy from the Michaelis-Menten draws."""
    return numpy_responses(views, plan, periods).mean(axis=-1)


#: Budget cells of the geo tests: two channels in two geos.
GEO_COORDS = {"channel": ["search", "social"], "geo": ["north", "south"]}


@pytest.fixture(scope="session")
def geo_allocator():
    """Two views that disagree on which channel works in which geo (20 draws, 2 periods)."""
    rng = np.random.default_rng(0)
    dims = ("chain", "draw", "channel", "geo")

    def view(name, alpha):
        draws = alpha * rng.lognormal(0, 0.1, (1, 20, 2, 2))
        lam = np.full((1, 20, 2, 2), 5.0)
        return CurveView(name, xr.Dataset({"alpha": (dims, draws), "lam": (dims, lam)}, GEO_COORDS))

    return RobustAllocator([view("a", np.eye(2) + 1), view("b", 2 - np.eye(2))], 2)
