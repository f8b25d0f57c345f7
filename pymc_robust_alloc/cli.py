"""Command line: ``robust-alloc demo``, ``robust-alloc run CONFIG`` and ``run-many``."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence

import pandas as pd

from pymc_robust_alloc.allocator import RobustAllocator
from pymc_robust_alloc.demo import CHANNELS, SWEEP_ALPHA, SWEEP_FACTORS, demo_views
from pymc_robust_alloc.formatting import percent
from pymc_robust_alloc.sensitivity import scale_sweep

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="robust-alloc",
        description="Robust budget allocation across disagreeing measurement systems.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="Run the three-view example (regression, experiment, attribution).",
        description=(
            "Three measurement systems disagree about three channels. Prints each "
            "view's optimal plan, the averaged-model plan, the minimax-regret plan and "
            "the regret matrix."
        ),
    )
    demo.add_argument("--budget", type=float, default=100.0, help="budget per period")
    demo.add_argument("--periods", type=int, default=8, help="number of periods")
    demo.add_argument("--draws", type=int, default=500, help="draws per view")
    demo.add_argument("--seed", type=int, default=42, help="random seed of the draws")
    demo.add_argument(
        "--max-share", type=float, default=60.0, help="upper bound per channel and period"
    )
    demo.add_argument(
        "--sweep",
        action="store_true",
        help="also rescale attribution's response by k = 1..10 and show the plans",
    )
    demo.add_argument(
        "--reference",
        default=None,
        metavar="PLAN",
        help="also maximise the robust probability of beating this plan: 'equal' "
        "(the budget split equally) or spend per period, e.g. "
        "'search=50,social=30,display=20'",
    )
    demo.add_argument(
        "--required-gain",
        type=float,
        default=0.0,
        help="relative gain over the reference's increment, e.g. 0.01",
    )
    demo.add_argument(
        "--regret",
        choices=["ratio", "relative"],
        default="ratio",
        help="ratio: 1 - V/V*; relative: (V* - V) / (V* - V(reference)), against "
        "--reference (required)",
    )
    demo.add_argument("--format", choices=["text", "json"], default="text")
    run = commands.add_parser("run", help="Run a decision described in a config file.")
    run.add_argument("config", help="YAML or TOML file")
    run.add_argument("--output", default=None, help="output folder")
    run.add_argument("--overwrite", action="store_true", help="replace existing output files")
    frontier = commands.add_parser(
        "frontier",
        help="Solve every plan family across total budgets (a budget frontier).",
        description=(
            "Fit the views of a config file and solve every plan family at each total "
            "budget; writes frontier.csv, frontier.nc and frontier.png."
        ),
    )
    frontier.add_argument("config", help="YAML or TOML file")
    frontier.add_argument(
        "--budgets",
        default=None,
        help="budgets per period, e.g. '40,60,80' (default: the config's frontier.budgets)",
    )
    frontier.add_argument("--output", default=None, help="output folder")
    frontier.add_argument("--overwrite", action="store_true", help="replace existing output files")
    _add_run_many(commands)
    return parser


def _budgets(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(b) for b in text.split(",")]
    except ValueError:
        raise SystemExit(f"--budgets: expected numbers like '40,60,80', got {text!r}.") from None


def _frontier(args: argparse.Namespace) -> None:
    from pymc_robust_alloc.config import run_frontier

    frontier = run_frontier(
        args.config, _budgets(args.budgets), output_dir=args.output, overwrite=args.overwrite
    )
    with pd.option_context("display.float_format", percent):
        print("Max regret of every plan family at each budget:")
        print(frontier.max_regret.to_pandas().to_string())


def _add_run_many(commands) -> None:
    many = commands.add_parser(
        "run-many",
        help="Run a portfolio of decisions in parallel on Dask.",
        description=(
            "Run every problem of a portfolio config (a `portfolio:` section) or of many "
            "config files, on a local cluster (one worker per core) or, with --scheduler, "
            "on a running Dask cluster. Writes problems/<name>.json as each finishes, then "
            "portfolio.nc, summary.csv and report.html."
        ),
    )
    many.add_argument("configs", nargs="+", help="config files, folders or glob patterns")
    many.add_argument("--output", default=None, help="output folder")
    many.add_argument(
        "--workers", type=int, default=None, help="local worker processes; 1 runs serially"
    )
    many.add_argument("--scheduler", default=None, metavar="ADDRESS", help="e.g. tcp://host:8786")
    many.add_argument("--timeout", type=float, default=10.0, help="seconds to reach the scheduler")
    many.add_argument("--resume", action="store_true", help="keep finished problems, run the rest")
    many.add_argument("--overwrite", action="store_true", help="replace existing results")
    many.add_argument("--no-progress", action="store_true", help="no progress bar")


def _run_many(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pymc_robust_alloc.config import ConfigError, load_config, output_folder
    from pymc_robust_alloc.portfolio import allocate_many, load_portfolio

    try:
        problems = load_portfolio(args.configs)
        output = args.output
        if output is None and len(args.configs) == 1 and Path(args.configs[0]).is_file():
            config, base = load_config(args.configs[0])
            output = output_folder(args.configs[0], config, base)
        result = allocate_many(
            problems,
            client=args.scheduler,
            workers=args.workers,
            output_dir=output or "portfolio_output",
            resume=args.resume,
            overwrite=args.overwrite,
            timeout=args.timeout,
            progress=not args.no_progress,
        )
    except (ConfigError, ConnectionError, FileExistsError, FileNotFoundError) as err:
        raise SystemExit(f"robust-alloc run-many: {err}") from None
    with pd.option_context("display.float_format", "{:,.4g}".format, "display.width", 120):
        print(result.summary.drop(columns=["error", "seconds"]).to_string())
    for name, error in result.failures.items():
        print(f"FAILED {name}: {error}")
    print(f"Results in {Path(output or 'portfolio_output').resolve()}")
    return 1 if result.failures else 0


def _reference(text: str | None, budget: float) -> dict[str, float] | None:
    if text is None:
        return None
    if text == "equal":
        return dict.fromkeys(CHANNELS, budget / len(CHANNELS))
    try:
        pairs = (item.split("=") for item in text.split(","))
        return {channel.strip(): float(spend) for channel, spend in pairs}
    except ValueError:
        raise SystemExit(
            f"--reference: expected 'equal' or 'channel=spend,...', got {text!r}."
        ) from None


def _demo(args: argparse.Namespace) -> dict:
    bounds = {c: (0.0, args.max_share) for c in CHANNELS}
    if args.regret == "relative" and args.reference is None:
        raise SystemExit(
            "--regret relative measures each view against a reference plan: add "
            "--reference equal, or --reference 'search=50,social=30,display=20'."
        )
    allocator = RobustAllocator(demo_views(args.draws, args.seed), args.periods)
    result = allocator.allocate(
        args.budget,
        bounds,
        reference_plan=_reference(args.reference, args.budget),
        required_gain=args.required_gain,
        regret=args.regret,
    )
    out = result.to_dict()
    out["settings"].update({"draws": args.draws, "seed": args.seed})
    out["channels"] = list(CHANNELS)
    out["text"] = {
        "plans": result.to_dataframe(),
        "regret": result.regret_matrix,
        "convergence": result.convergence[["success", "iterations"]],
        "success": result.success_matrix,
    }
    if result.success_probability is not None:
        from pymc_robust_alloc.summary import long_shot_text

        out["long_shot"] = result.long_shot
        out["text"]["long_shot"] = long_shot_text(result)
    if args.sweep:
        sweep_views = demo_views(args.draws, args.seed, attribution_alpha=SWEEP_ALPHA)
        sweep = scale_sweep(
            RobustAllocator(sweep_views, args.periods),
            "attribution",
            SWEEP_FACTORS,
            args.budget,
            bounds,
        )
        plans = sweep["plans"]
        out["sweep"] = {
            "view": "attribution",
            "alpha": list(SWEEP_ALPHA),
            "factors": [float(k) for k in sweep["factor"].values],
            "plans": {
                str(p): {
                    str(c): plans.sel(plan=p, channel=c).values.tolist()
                    for c in plans["channel"].values
                }
                for p in plans["plan"].values
            },
            "max_regret": {
                str(p): sweep["max_regret"].sel(plan=p).values.tolist()
                for p in sweep["plan"].values
            },
        }
        out["text"]["sweep"] = {str(p): plans.sel(plan=p).to_pandas() for p in plans["plan"].values}
    return out


def _print_text(out: dict) -> None:
    settings = out["settings"]
    print(
        f"Budget {settings['total_budget']:g} per period over "
        f"{settings['num_periods']} periods, {settings['n_draws']} draws per view."
    )
    print("\nV* (best expected response under each view):")
    for view, value in out["v_star"].items():
        print(f"  {view:<12} {value:10.3f}")
    with pd.option_context("display.float_format", "{:.2f}".format):
        print("\nPlans (spend per period):")
        print(out["text"]["plans"].to_string())
    formula = (
        "(V* - V) / (V* - V(reference))" if settings.get("regret") == "relative" else "1 - V/V*"
    )
    with pd.option_context("display.float_format", percent):
        print(f"\nRegret matrix ({formula}):")
        print(out["text"]["regret"].to_string())
    if out["text"]["success"] is not None:
        gain = out["settings"]["required_gain"]
        with pd.option_context("display.float_format", percent):
            print(f"\nSuccess probability P(V(a) >= {1 + gain:g} V(reference)):")
            print(out["text"]["success"].to_string())
        print(out["text"]["long_shot"])
    print("\nSolves converged:", bool(out["text"]["convergence"]["success"].all()))
    for plan, table in out["text"].get("sweep", {}).items():
        with pd.option_context("display.float_format", "{:.2f}".format):
            print(f"\nSweep, {plan} plan as attribution's response is scaled by k:")
            print(table.to_string())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``robust-alloc`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status.

    Examples
    --------
    From a shell: ``robust-alloc demo --format json``. From Python:

    >>> main(["demo", "--draws", "20", "--periods", "2"])  # doctest: +ELLIPSIS
    Budget 100 per period over 2 periods, 20 draws per view.
    ...
    Solves converged: True
    0
    """
    args = _parser().parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    if args.command == "run-many":
        return _run_many(args)
    if args.command == "run":
        from pymc_robust_alloc.config import run_config

        run_config(args.config, output_dir=args.output, overwrite=args.overwrite)
        return 0
    if args.command == "frontier":
        _frontier(args)
        return 0
    out = _demo(args)
    if args.format == "json":
        out.pop("text")
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        _print_text(out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
