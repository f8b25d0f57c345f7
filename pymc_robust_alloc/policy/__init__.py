"""Success-probability maximisation for policy allocation (Betlei et al., AAAI-24)."""

from pymc_robust_alloc.plots.policy import plot_plan, plot_success_curves
from pymc_robust_alloc.policy.baselines import (
    baseline_plans,
    bruteforce_plan,
    greedy_plan,
    linprog_plan,
    mixed_int_plan,
)
from pymc_robust_alloc.policy.bvn import (
    BivariateNormalLogCDF,
    bvn_cdf,
    bvn_logcdf,
    bvn_logcdf_graph,
)
from pymc_robust_alloc.policy.criteria import log_success_probability_graph
from pymc_robust_alloc.policy.estimation import estimate_policy_problem, quantile_edges
from pymc_robust_alloc.policy.evaluation import evaluate_plans, transfer_threshold
from pymc_robust_alloc.policy.outcomes import (
    log_failure_probability,
    log_success_probability,
    success_probability,
)
from pymc_robust_alloc.policy.problem import PolicyProblem
from pymc_robust_alloc.policy.solvers import (
    SuccessProbaMax,
    SuccessProbaResult,
    algorithm1,
    project_rows_to_simplex,
    success_proba_max,
)

__all__ = [
    "BivariateNormalLogCDF",
    "PolicyProblem",
    "SuccessProbaMax",
    "SuccessProbaResult",
    "algorithm1",
    "baseline_plans",
    "bruteforce_plan",
    "bvn_cdf",
    "bvn_logcdf",
    "bvn_logcdf_graph",
    "estimate_policy_problem",
    "evaluate_plans",
    "greedy_plan",
    "linprog_plan",
    "log_failure_probability",
    "log_success_probability",
    "log_success_probability_graph",
    "mixed_int_plan",
    "plot_plan",
    "plot_success_curves",
    "project_rows_to_simplex",
    "quantile_edges",
    "success_proba_max",
    "success_probability",
    "transfer_threshold",
]
