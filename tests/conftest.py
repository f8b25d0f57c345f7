import matplotlib
import numpy as np
import pytest

from pymc_robust_alloc import RobustAllocator
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
