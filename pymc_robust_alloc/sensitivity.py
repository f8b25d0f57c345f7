"""How plans move when one view's response is rescaled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import xarray as xr

from pymc_robust_alloc.allocator import RobustAllocator
from pymc_robust_alloc.names import AVERAGED, MINIMAX

__all__ = ["scale_sweep"]


def scale_sweep(
    allocator: RobustAllocator,
    view: str,
    factors: Sequence[float],
    total_budget: float,
    bounds: Mapping | xr.DataArray | None = None,
) -> xr.Dataset:
    r"""Re-solve with one view's response multiplied by each positive factor :math:`k`.

    The averaged plan drifts towards the scaled view, the minimax plan stays put
    (:doc:`/concepts`). Returns ``plans``, ``max_regret``, ``converged``, ``optima``, ``v_star``.

    Examples
    --------
    >>> sweep = scale_sweep(allocator, "attribution", [1, 10], 100.0, bounds)  # the demo's
    >>> moved = abs(sweep["plans"].sel(factor=10.0) - sweep["plans"].sel(factor=1.0))
    >>> bool(moved.sel(plan="averaged").max() > 1), bool(moved.sel(plan="minimax").max() < 0.1)
    (True, True)
    """
    if view not in allocator.views:
        raise ValueError(f"Unknown view {view!r}; views: {list(allocator.views)}.")
    factor_index = pd.Index([float(k) for k in factors], name="factor")
    plans, regret, converged, optima, v_star = [], [], [], [], []
    for k in factor_index:
        result = allocator.allocate(total_budget, bounds, response_scale={view: k})
        plans.append(result.plans.sel(plan=[AVERAGED, MINIMAX]))
        regret.append(result.regret_matrix["max regret"].loc[[AVERAGED, MINIMAX]].to_xarray())
        converged.append(result.converged)
        optima.append(result.plans.sel(plan=result.views).rename(plan="optimum"))
        v_star.append(result.v_star)
    return xr.Dataset(
        {
            "plans": xr.concat(plans, dim=factor_index),
            "max_regret": xr.concat(regret, dim=factor_index),
            "converged": ("factor", converged),
            "optima": xr.concat(optima, dim=factor_index),
            "v_star": xr.concat(v_star, dim=factor_index),
        },
        attrs={"view": view, "total_budget": float(total_budget)},
    )
