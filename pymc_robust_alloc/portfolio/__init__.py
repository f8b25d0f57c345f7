"""Many allocation decisions at once: markets x brands x budgets x scenarios, on Dask.

Declare problems (:class:`Problem`, or config files read by
:func:`load_portfolio`), run them with :func:`allocate_many` on a laptop (a
local cluster of processes) or any Dask cluster, and get one labelled
:class:`PortfolioResult`.
"""

from pymc_robust_alloc.portfolio.load import ConfigViews, load_portfolio
from pymc_robust_alloc.portfolio.problem import Problem, ViewSource
from pymc_robust_alloc.portfolio.result import PortfolioResult
from pymc_robust_alloc.portfolio.run import allocate_many

__all__ = [
    "ConfigViews",
    "PortfolioResult",
    "Problem",
    "ViewSource",
    "allocate_many",
    "load_portfolio",
]
