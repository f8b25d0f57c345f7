"""Bayesian fit of saturation curves to lift tests (PyMC-Marketing's schema)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from pymc_extras.prior import Prior
from pymc_marketing.mmm.lift_test import (
    add_lift_measurements_to_likelihood_from_saturation,
)

from pymc_robust_alloc.evidence import evidence_from_lift_tests
from pymc_robust_alloc.fit.bayesian import posterior_to_raw, resolve_priors
from pymc_robust_alloc.fit.result import FitResult
from pymc_robust_alloc.fit.sampling import sample
from pymc_robust_alloc.fit.tables import check_columns
from pymc_robust_alloc.views.curves import CurveView
from pymc_robust_alloc.views.shapes import CurveShape

__all__ = ["LIFT_TEST_COLUMNS", "check_lift_tests", "fit_lift_tests"]

#: Columns of PyMC-Marketing's lift-test table.
LIFT_TEST_COLUMNS = ("channel", "x", "delta_x", "delta_y", "sigma")


def check_lift_tests(lift_tests: pd.DataFrame) -> pd.DataFrame:
    """Validate a lift-test table and return a float copy of its columns.

    Examples
    --------
    >>> import pandas as pd
    >>> tests = pd.DataFrame({"channel": ["tv"], "x": [1.0], "delta_x": [0.0],
    ...                       "delta_y": [0.2], "sigma": [0.05]})
    >>> check_lift_tests(tests)
    Traceback (most recent call last):
    ...
    ValueError: Lift tests need delta_x > 0 ...
    """
    if not isinstance(lift_tests, pd.DataFrame):
        raise TypeError(
            f"Expected a pandas DataFrame of lift tests, got {type(lift_tests).__name__}."
        )
    check_columns(
        lift_tests,
        LIFT_TEST_COLUMNS,
        "The lift-test table",
        f"PyMC-Marketing's schema is {list(LIFT_TEST_COLUMNS)}: spend before the test, its "
        "change, the measured change in response, and the standard error of that change.",
    )
    if lift_tests.empty:
        raise ValueError("The lift-test table has no rows.")
    tests = lift_tests[list(LIFT_TEST_COLUMNS)].copy()
    for column in LIFT_TEST_COLUMNS[1:]:
        values = pd.to_numeric(tests[column], errors="coerce").astype(float)
        bad = ~np.isfinite(values)
        if bad.any():
            raise ValueError(
                f"Lift tests: column {column!r} has missing or non-numeric values in "
                f"rows {tests.index[bad].tolist()}."
            )
        tests[column] = values
    rules = {
        "sigma": (tests["sigma"] <= 0, "sigma > 0 (a standard error)"),
        "delta_x": (tests["delta_x"] <= 0, "delta_x > 0 (a spend increase)"),
        "x": (tests["x"] < 0, "x >= 0 (spend before the test)"),
    }
    for column, (bad, rule) in rules.items():
        if bad.any():
            raise ValueError(
                f"Lift tests need {rule}; rows {tests.index[bad].tolist()} have "
                f"{column} = {tests.loc[bad, column].tolist()}. A test that cut "
                "spend can be written as an increase from the lower level: "
                "x -> x + delta_x, delta_x -> -delta_x, delta_y -> -delta_y."
            )
    return tests


def fit_lift_tests(
    lift_tests: pd.DataFrame,
    name: str = "experiment",
    saturation="michaelis_menten",
    *,
    channels: Sequence[str] | None = None,
    priors: Mapping[str, Prior] | None = None,
    untested_priors: Mapping[str, Mapping[str, Prior]] | None = None,
    likelihood: Prior | None = None,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    random_seed: int | None = None,
    sample_kwargs: Mapping | None = None,
) -> FitResult:
    r"""Fit saturation curves to lift tests; their posterior is the view.

    Each test :math:`i` on channel :math:`c` contributes the likelihood

    .. math::

        \Delta y_i \sim \mathrm{Normal}\big(f(x_i + \Delta x_i; \theta_c)
        - f(x_i; \theta_c),\ \sigma_i\big),

    added with PyMC-Marketing's
    :func:`~pymc_marketing.mmm.lift_test.add_lift_measurements_to_likelihood_from_saturation`,
    on spend and response scaled per channel so that the default priors are
    weakly informative; the draws are converted back. Lift tests measure the
    response per period at steady spend, so the view has no adstock.

    Parameters
    ----------
    lift_tests : pandas.DataFrame
        Columns ``channel, x, delta_x, delta_y, sigma`` (not modified).
    name, saturation
        The view's name and saturation (see :class:`~pymc_robust_alloc.CurveShape`).
    channels : sequence of str, optional
        The view's channels (default: those tested and those in ``untested_priors``).
    priors : mapping of str to Prior, optional
        Overrides of the component's priors on the scaled tests.
    untested_priors : mapping, optional
        ``{channel: {parameter: Prior}}`` in raw units: the draws of untested channels.
    likelihood : Prior, optional
        ``Prior("Normal")`` (default), ``Prior("StudentT", nu=...)`` or
        ``Prior("Gamma")``; its ``sigma`` comes from the table.
    draws, tune, chains, random_seed, sample_kwargs
        Passed to :func:`pymc.sample`; ``random_seed`` also seeds the untested
        channels' draws.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import pandas as pd
    >>> tests = pd.DataFrame({"channel": ["tv"] * 3, "x": [1.0, 2.0, 4.0],
    ...                       "delta_x": [1.0, 1.0, 2.0],
    ...                       "delta_y": [0.5, 0.27, 0.27], "sigma": [0.05] * 3})
    >>> result = fit_lift_tests(tests, draws=100, tune=100, chains=1,
    ...                         random_seed=0)  # doctest: +SKIP
    >>> result.view.channels  # doctest: +SKIP
    ('tv',)
    """
    tests = check_lift_tests(lift_tests)
    shape = CurveShape(saturation)
    resolved = resolve_priors(shape, priors, noise=False)
    untested_priors = dict(untested_priors or {})
    tested = list(dict.fromkeys(tests["channel"].tolist()))
    if channels is None:
        channels = tested + [c for c in untested_priors if c not in tested]
    channels = list(channels)
    unknown = sorted(set(tested) - set(channels))
    if unknown:
        raise ValueError(
            f"Lift tests name channels {unknown} that are not among the view's "
            f"channels {channels}. Fix the labels or add the channels."
        )
    lacking = [c for c in channels if c not in tested and c not in untested_priors]
    if lacking:
        raise ValueError(
            f"View {name!r}: channels {lacking} have no lift test, so nothing in this "
            "view says how they respond. Give each a prior in raw units, e.g. "
            "`untested_priors={'"
            f"{lacking[0]}': "
            "{'alpha': Prior('Gamma', mu=100, sigma=50), 'lam': "
            "Prior('HalfNormal', sigma=50)}}`, or leave them out of `channels`."
        )
    tests = tests[tests["channel"].isin(channels)]
    tested = [c for c in channels if c in tested]
    start = time.perf_counter()
    parts = []
    idata, divergences = None, 0
    if tested:
        idata, divergences, part = _fit_tested(
            shape,
            tests,
            tested,
            resolved,
            likelihood,
            f"View {name!r}: the lift-test fit",
            draws=draws,
            tune=tune,
            chains=chains,
            random_seed=random_seed,
            sample_kwargs=sample_kwargs,
        )
        parts.append(part)
    untested = [c for c in channels if c not in tested]
    if untested:
        parts.append(_draw_untested(shape, untested, untested_priors, chains, draws, random_seed))
    posterior = xr.concat(parts, dim="channel").sel(channel=channels)
    evidence = evidence_from_lift_tests(tests, channels)
    return FitResult(
        view=CurveView(name, posterior, shape, evidence=evidence),
        method="lift_tests",
        data=tests,
        idata=idata,
        divergences=divergences,
        priors=resolved,
        untested=tuple(untested),
        seconds=time.perf_counter() - start,
    )


def _fit_tested(shape, tests, tested, resolved, likelihood, what, **sampler):
    after = tests["x"] + tests["delta_x"]
    spend_scale = after.groupby(tests["channel"]).max()
    lower = (tests["delta_y"].abs() * after / tests["delta_x"]).groupby(tests["channel"])
    response_scale = lower.max().where(lambda s: s > 0, 1.0)
    if not shape.rescalable:
        spend_scale[:] = 1.0
        response_scale[:] = 1.0
    s = tests["channel"].map(spend_scale)
    r = tests["channel"].map(response_scale)
    scaled = tests.assign(
        x=tests["x"] / s,
        delta_x=tests["delta_x"] / s,
        delta_y=tests["delta_y"] / r,
        sigma=tests["sigma"] / r,
    ).reset_index(drop=True)
    mapping = shape.saturation.variable_mapping
    with pm.Model(coords={"channel": tested}) as model:
        for param, variable in mapping.items():
            resolved[param].create_variable(variable, xdist=True)
        add_lift_measurements_to_likelihood_from_saturation(
            scaled, shape.saturation, model=model, likelihood=likelihood
        )
    idata, divergences = sample(model, what, stacklevel=4, **sampler)
    posterior = idata["posterior"].to_dataset()
    posterior = posterior[list(mapping.values())].rename({v: p for p, v in mapping.items()})
    to_da = {
        k: xr.DataArray(v.loc[tested].to_numpy(), dims="channel")
        for k, v in (("spend", spend_scale), ("response", response_scale))
    }
    raw = posterior_to_raw(shape, posterior, to_da["spend"], to_da["response"])
    raw = raw.assign_coords(channel=tested, chain=np.arange(raw.sizes["chain"]))
    return idata, divergences, raw.assign_coords(draw=np.arange(raw.sizes["draw"]))


def _draw_untested(shape, untested, untested_priors, chains, draws, seed) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    data = {p: np.empty((chains, draws, len(untested))) for p in shape.params}
    for j, channel in enumerate(untested):
        given = dict(untested_priors[channel])
        missing = [p for p in shape.params if p not in given]
        if missing:
            raise ValueError(
                f"untested_priors[{channel!r}] lacks priors for {missing}; "
                f"{shape.name} needs {list(shape.params)}."
            )
        with pm.Model():
            variables = [given[p].deepcopy().create_variable(p) for p in shape.params]
            values = pm.draw(variables, draws=chains * draws, random_seed=rng)
        for p, v in zip(shape.params, values, strict=True):
            data[p][:, :, j] = np.asarray(v).reshape(chains, draws)
    return xr.Dataset(
        {p: (("chain", "draw", "channel"), v) for p, v in data.items()},
        coords={
            "chain": np.arange(chains),
            "draw": np.arange(draws),
            "channel": untested,
        },
    )
