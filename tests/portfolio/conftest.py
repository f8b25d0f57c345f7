import pytest

from pymc_robust_alloc import CurveView
from pymc_robust_alloc.portfolio import Problem
from pymc_robust_alloc.portfolio.run import CLUSTER_CONFIG

CHANNELS = ("search", "social")
#: (alpha per channel) of two views in each market: tiny, quick problems.
MARKETS = {
    "north": [(2.0, 1.0), (1.0, 2.0)],
    "south": [(1.5, 1.5), (3.0, 1.0)],
}


def market_views(market: str, seed: int = 0) -> list[CurveView]:
    return [
        CurveView.from_estimates(
            f"view{i}",
            {"alpha": alpha, "lam": (2.0, 3.0)},
            0.2,
            channels=CHANNELS,
            draws=20,
            random_seed=seed + i,
        )
        for i, alpha in enumerate(MARKETS[market])
    ]


def portfolio(budgets=(4.0, 6.0, 8.0)) -> list[Problem]:
    problems = []
    for market in MARKETS:
        views = market_views(market)
        problems += [
            Problem(
                f"{market}-{budget:g}",
                views,
                total_budget=budget,
                num_periods=2,
                labels={"market": market, "scenario": "base"},
            )
            for budget in budgets
        ]
    return problems


@pytest.fixture(scope="session")
def client():
    """A real 2-worker LocalCluster of processes, shared by the tests that need one."""
    distributed = pytest.importorskip("distributed")
    import dask

    with (
        dask.config.set(CLUSTER_CONFIG),  # as allocate_many's
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(__import__, "pymc_robust_alloc.portfolio")
        yield client
