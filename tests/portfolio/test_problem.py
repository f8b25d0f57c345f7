from pymc_robust_alloc.portfolio.problem import problem_seed


def test_problem_seed_depends_on_the_portfolio_seed_and_the_name_only():
    assert problem_seed(0, "FR-100") == problem_seed(0, "FR-100")
    assert problem_seed(0, "FR-100") != problem_seed(1, "FR-100")
    assert problem_seed(0, "FR-100") != problem_seed(0, "FR-120")
