"""FitResult: typed fields per fit method, and its summary."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from pymc_robust_alloc.fit import fit_least_squares, fit_summary, r_squared, view_from_draws
from tests.fit.data import table


@pytest.fixture(scope="module")
def fit():
    return fit_least_squares(table(seed=3, n=20), n_draws=10, random_seed=0)


def test_least_squares_fields_hold_its_estimates_and_bootstrap(fit):
    assert fit.method == "least_squares" and fit.bootstrap == "residual"
    assert list(fit.estimate["channel"].values) == list(fit.view.channels)
    assert fit.idata is None and fit.model is None and fit.seconds > 0
    assert fit.shape is fit.view.shape


def test_result_is_frozen(fit):
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.method = "bayesian"


def test_summary_functions_and_methods_agree(fit):
    pd.testing.assert_frame_equal(fit_summary(fit, interval=0.8), fit.summary(interval=0.8))
    pd.testing.assert_series_equal(r_squared(fit), fit.r_squared())


def test_r_squared_matches_a_numpy_computation(fit):
    observed = fit.data["response"].transpose("date", "channel").values
    fitted = fit.fitted_response().values
    expected = 1 - ((observed - fitted) ** 2).sum(0) / ((observed - observed.mean(0)) ** 2).sum(0)
    np.testing.assert_allclose(fit.r_squared().values, expected)


def test_draws_have_no_table_to_score():
    frame = pd.DataFrame({"draw": [0, 1], "channel": "tv", "alpha": [1.0, 2.0], "lam": [1.0, 1.0]})
    result = view_from_draws(frame)
    assert result.method == "draws" and result.estimate is None
    with pytest.raises(ValueError, match="R\\^2 applies to fits of spend/response tables"):
        result.r_squared()
