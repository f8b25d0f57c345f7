"""The config file's schema: one pydantic model per section and per objective."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

__all__ = [
    "OBJECTIVES",
    "OBJECTIVE_MODELS",
    "BudgetConfig",
    "ConfigError",
    "FrontierConfig",
    "FunctionConstraint",
    "LinearConstraint",
    "Minimax",
    "Objective",
    "PortfolioEntry",
    "RiskAverse",
    "RunConfig",
    "Success",
    "ViewConfig",
    "Weighted",
    "entry_path",
]

Pair = tuple[float, float]


class ConfigError(ValueError):
    """A config file that cannot be run; the message names the key and its line.

    Examples
    --------
    ``tmp_dir`` is a folder to write to.

    >>> from pymc_robust_alloc.config import load_config
    >>> bad = tmp_dir / "bad.yaml"
    >>> _ = bad.write_text("{views: {}, budget: {total: 60, num_periods: 4, bound: {}}}")
    >>> try:
    ...     load_config(bad)
    ... except ConfigError as err:
    ...     print(err)
    Invalid config:
      bad.yaml, line 1: 'budget.bound' is not a known key. Known keys here: ['bounds', ...].
    """


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ViewConfig(_Strict):
    """One view: where its data are and how to turn them into a view."""

    source: Literal["table", "lift_tests", "draws", "posterior", "mmm"] = Field(
        description="table: spend/response table to fit; lift_tests: PyMC-Marketing "
        "lift-test table; draws: a table of parameter draws; posterior: NetCDF/Zarr "
        "with a posterior group of parameter draws; mmm: a PyMC-Marketing MMM saved "
        "with `mmm.save(path)`, viewed from start_date to end_date."
    )
    path: str = Field(description="File, relative to the config file.")
    start_date: datetime.date | str | None = Field(
        None, description="mmm: first decision period (inclusive)."
    )
    end_date: datetime.date | str | None = Field(
        None, description="mmm: last decision period (inclusive)."
    )
    method: Literal["least_squares", "bayesian"] = Field(
        "least_squares", description="Fit of a table source."
    )
    saturation: str = "michaelis_menten"
    adstock: dict[str, Any] | None = Field(
        None, description="e.g. {type: geometric, l_max: 4} (table and draws sources)."
    )
    bootstrap: Literal["residual", "case"] = "residual"
    n_draws: int = Field(200, ge=2, description="Bootstrap draws (least squares).")
    draws: int = Field(500, ge=1, description="Posterior draws per chain (PyMC).")
    tune: int = Field(500, ge=0)
    chains: int = Field(2, ge=1)
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Column names: date, channel, spend, response.",
    )
    date_format: str | None = Field(
        None, description="Format of text dates, e.g. '%d/%m/%Y' (table sources)."
    )
    priors: dict[str, dict[str, Any]] | None = Field(
        None, description="{parameter: {distribution: Gamma, mu: 2, sigma: 1}}."
    )
    untested_priors: dict[str, dict[str, dict[str, Any]]] | None = Field(
        None, description="Lift tests: {channel: {parameter: prior}} in raw units."
    )
    seed: int | None = None
    evidence: dict[str, Pair] | None = Field(
        None,
        description="draws and posterior sources: {channel: [lower, upper]}, the spend per "
        "period the draws' evidence covers (default unknown). Table and lift-test "
        "sources know theirs: the observed spend, the tested spend.",
    )

    @model_validator(mode="after")
    def _window(self) -> ViewConfig:
        dated = self.start_date is not None or self.end_date is not None
        if self.source == "mmm" and (self.start_date is None or self.end_date is None):
            raise ValueError(
                "an mmm view needs `start_date` and `end_date`, the first and last "
                "decision period, e.g. start_date: 2024-09-02"
            )
        if self.source != "mmm" and dated:
            raise ValueError("start_date and end_date apply to `source: mmm` only")
        return self


class BudgetConfig(_Strict):
    """The decision: budget per period, periods and bounds per channel (or per cell)."""

    total: float = Field(gt=0, description="Budget per period.")
    num_periods: int | None = Field(
        None, ge=1, description="Decision periods; an mmm view's window fixes them."
    )
    bounds: dict[str, Pair | dict[str, Pair]] | None = Field(
        None,
        description="{channel: [low, high]} per period, or, when the views have a second "
        "budget dim (e.g. geo), {channel: {geo: [low, high]}} per cell.",
    )
    budget_distribution_over_period: list[float] | dict[str, list[float]] | None = Field(
        None,
        description="Flighting: each period's share of the budget (summing to 1), for "
        "every channel or per channel.",
    )
    cost_per_unit: list[float] | dict[str, float | list[float]] | None = Field(
        None, description="Price of a unit of the views' spend input, per period or channel."
    )


class FrontierConfig(_Strict):
    """A budget frontier: every plan family solved at each total budget."""

    budgets: list[float] = Field(
        min_length=1, description="Budgets per period, positive and increasing."
    )
    plan: str | None = Field(None, description="Plan family of the frontier plot.")
    risk_averse: bool = Field(
        False,
        description="Also solve the risk-averse plans at every budget (with the "
        "risk_averse objective; several times slower).",
    )


class LinearConstraint(_Strict):
    """Bounds on the spend per period summed over some channels (and every other cell)."""

    channels: list[str] = Field(min_length=1, description="Channels whose spend is summed.")
    min: float | None = Field(None, ge=0, description="Least spend per period.")
    max: float | None = Field(None, ge=0, description="Most spend per period.")
    min_share: float | None = Field(None, ge=0, le=1, description="Least share of the budget.")
    max_share: float | None = Field(None, ge=0, le=1, description="Largest share of the budget.")
    name: str | None = Field(None, description="Key of the constraint (default: generated).")

    @model_validator(mode="after")
    def _bounded(self) -> LinearConstraint:
        given = {k: getattr(self, k) for k in ("min", "max", "min_share", "max_share")}
        if all(v is None for v in given.values()):
            raise ValueError("give at least one of min, max, min_share, max_share")
        for low, high in (("min", "max"), ("min_share", "max_share")):
            if None not in (given[low], given[high]) and given[low] > given[high]:
                raise ValueError(f"{low} ({given[low]:g}) exceeds {high} ({given[high]:g})")
        return self


class FunctionConstraint(BaseModel):
    """A callable, by import path, returning PyMC-Marketing ``Constraint`` objects.

    The entry's other keys are passed to it as keyword arguments.
    """

    model_config = ConfigDict(extra="allow")

    function: str = Field(
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="'package.module:callable', returning a Constraint or a list of them.",
    )


def _constraint_kind(entry: Any) -> str:
    return "function" if isinstance(entry, Mapping) and "function" in entry else "linear"


ConstraintConfig = Annotated[
    Annotated[LinearConstraint, Tag("linear")] | Annotated[FunctionConstraint, Tag("function")],
    Discriminator(_constraint_kind),
]


class PortfolioEntry(_Strict):
    """One problem of a portfolio: its name and what it changes in the shared base.

    A view's ``path`` may contain ``{market}`` and ``{brand}``: each entry reads
    the files of its own market and brand, and entries of the same market and
    brand share the fitted views.
    """

    name: str = Field(description="Unique problem name; names its result file.")
    market: str | None = None
    brand: str | None = None
    scenario: str | None = Field(None, description="Scenario label, e.g. 'cautious'.")
    budget: float | None = Field(None, gt=0, description="Budget per period (budget.total).")
    bounds: dict[str, Pair] | None = Field(None, description="budget.bounds.")
    weights: dict[str, float] | None = Field(
        None, description="View weights: asks for the weighted minimax plan."
    )
    reference: dict[str, float] | None = Field(
        None, description="Reference plan {channel: spend per period}: asks for the success plan."
    )


def entry_path(path: str, entry: PortfolioEntry | None) -> str:
    """Fill a portfolio entry's ``{market}`` and ``{brand}`` into a view's path.

    Raises ``KeyError`` naming a placeholder the entry does not set.
    """
    if entry is None:
        return path
    fill = {k: v for k, v in {"market": entry.market, "brand": entry.brand}.items() if v}
    return path.format_map(fill)


class Objective(_Strict):
    """Settings of one objective; their ``model_dump()`` are keywords of ``allocate``."""

    #: How to write the settings, for an error message.
    example: ClassVar[str] = ""


class Minimax(Objective):
    """``minimax: true``: the minimax-regret plan (always solved)."""


class Weighted(Objective):
    """``weighted: {weights: {view: weight}}``: the weighted minimax plan."""

    example: ClassVar[str] = "`weights: {view: weight, ...}`"
    weights: dict[str, float]


class RiskAverse(Objective):
    """``risk_averse: {quantile: 0.1}``: minimax of each view's regret quantile."""

    example: ClassVar[str] = "`quantile`, e.g. 0.1"
    quantile: float = Field(gt=0, lt=1)


class Success(Objective):
    """``success: {reference_plan: {...}, required_gain: 0.05}``: beat a reference plan."""

    example: ClassVar[str] = (
        "`reference_plan: {channel: spend per period, ...}` and optionally "
        "`required_gain`, e.g. 0.05"
    )
    reference_plan: dict[str, float]
    required_gain: float = 0.0


#: Objective name -> model of its settings. Register a new objective here and
#: the config accepts it.
OBJECTIVE_MODELS: dict[str, type[Objective]] = {
    "minimax": Minimax,
    "weighted": Weighted,
    "risk_averse": RiskAverse,
    "success": Success,
}


def _settings(name: str, model: type[Objective]) -> Callable[[Any], dict]:
    def settings(spec: Any) -> dict:
        if spec is True:
            spec = {}
        try:
            return model.model_validate(spec).model_dump()
        except ValidationError as err:
            errors = err.errors()
            unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
            if unknown:
                raise ValueError(
                    f"objective {name!r} has unknown keys {unknown}; known: "
                    f"{', '.join(model.model_fields)}."
                ) from None
            raise ValueError(f"objective {name!r} needs {model.example}.") from None

    return settings


#: Objective name -> function of its settings returning keyword arguments of
#: :func:`~pymc_robust_alloc.allocate`.
OBJECTIVES: dict[str, Callable[[Any], dict]] = {
    name: _settings(name, model) for name, model in OBJECTIVE_MODELS.items()
}


class RunConfig(_Strict):
    """A whole run; ``objectives`` maps an objective name to its settings.

    Examples
    --------
    >>> config = RunConfig.model_validate({
    ...     "views": {"vendor": {"source": "draws", "path": "vendor_draws.csv"}},
    ...     "budget": {"total": 60.0, "num_periods": 8},
    ... })
    >>> config.objectives, config.views["vendor"].saturation
    ({'minimax': True}, 'michaelis_menten')
    """

    views: dict[str, ViewConfig]
    budget: BudgetConfig
    objectives: dict[str, dict[str, Any] | bool] = Field(default_factory=lambda: {"minimax": True})
    constraints: list[ConstraintConfig] = Field(
        default_factory=list,
        description="Further linear constraints on every plan: {channels: [...], max_share: "
        "0.4} or {channels: [...], min: 10, max: 50}, or {function: 'module:callable'}.",
    )
    candidates: dict[str, dict[str, float]] | None = None
    n_draws: int | None = Field(None, description="Draws per view in the allocation.")
    regret: Literal["ratio", "relative"] = Field(
        "ratio",
        description="ratio: 1 - V/V*; relative: (V* - V) / (V* - V(reference)), against "
        "`reference_plan` (or the success objective's).",
    )
    reference_plan: dict[str, float] | None = Field(
        None, description="{channel: spend per period}: the plan relative regret is measured on."
    )
    extrapolation_threshold: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Warn when more than this share of a view's V* or of the minimax "
        "plan's value comes from spend outside the view's evidence.",
    )
    seed: int = 0
    output: str | None = Field(None, description="Output folder, relative to the file.")
    title: str = "Robust budget allocation"
    units: dict[str, Any] | None = Field(
        None,
        description="Names of the units: {spend: 'k$/week', outcome: {view: 'sales (k$)'}}.",
    )
    interval: float = Field(
        0.9, gt=0, lt=1, description="Level of the outcomes' credible intervals."
    )
    frontier: FrontierConfig | None = Field(
        None, description="Also solve every plan family across these total budgets."
    )
    portfolio: list[PortfolioEntry] | None = Field(
        None,
        description="Many problems at once (robust-alloc run-many); each entry overrides "
        "the base above.",
    )

    @model_validator(mode="after")
    def _objectives(self) -> RunConfig:
        for name, spec in self.objectives.items():
            if name not in OBJECTIVES:
                raise ValueError(f"{name!r} is not a known objective; known: {sorted(OBJECTIVES)}")
            if spec is not False:
                OBJECTIVES[name](spec)
        return self

    @property
    def chosen(self) -> list[str]:
        """Names of the objectives the run solves."""
        return [k for k, v in self.objectives.items() if v is not False]


#: Section path -> its model, for the "known keys" of an error message.
SECTIONS: dict[tuple, type[BaseModel]] = {
    (): RunConfig,
    ("budget",): BudgetConfig,
    ("frontier",): FrontierConfig,
    ("views", "*"): ViewConfig,
    ("portfolio", "*"): PortfolioEntry,
    ("constraints", "*"): LinearConstraint,
    **{("objectives", name): model for name, model in OBJECTIVE_MODELS.items()},
}
