"""Command line: ``robust-alloc demo``, ``run CONFIG``, ``frontier CONFIG`` and ``run-many``.

Only the standard library (and :mod:`.formatting`) is imported at start-up, so
``--help`` answers at once; each command imports what it needs. A user error (bad input, a missing
file, existing output) prints one message and exits with status 2; ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pymc_robust_alloc.formatting import percent

__all__ = ["main"]

#: Exit status of a user error (as argparse's own usage errors).
USAGE_ERROR = 2
#: Exceptions that carry a message for the user; anything else is a bug and keeps its traceback.
USER_ERRORS = (ValueError, TypeError, OSError, NotImplementedError)


class _Formatter(argparse.HelpFormatter):
    """Show each option's default, unless it is off or unset."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and action.option_strings:
            text += " (default: %(default)s)"
        return text


_COMMON = argparse.ArgumentParser(add_help=False)
_COMMON.add_argument(
    "--debug",
    action="store_true",
    default=argparse.SUPPRESS,
    help="show the full traceback of an error",
)


def _command(commands, name: str, help: str, description: str) -> argparse.ArgumentParser:
    return commands.add_parser(
        name, parents=[_COMMON], formatter_class=_Formatter, help=help, description=description
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="robust-alloc",
        description="Robust budget allocation across disagreeing measurement systems.",
        parents=[_COMMON],
        formatter_class=_Formatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = _command(
        commands,
        "demo",
        "Run the three-view example (regression, experiment, attribution).",
        "Three measurement systems disagree about three channels. Prints each view's "
        "optimal plan, the averaged-model plan, the minimax-regret plan and the regret matrix.",
    )
    demo.add_argument("--budget", type=float, default=100.0, help="budget per period")
    demo.add_argument("--periods", type=int, default=8, help="number of periods")
    demo.add_argument("--draws", type=int, default=500, help="draws per view")
    demo.add_argument("--seed", type=int, default=42, help="random seed of the draws")
    demo.add_argument(
        "--max-share",
        type=float,
        default=0.6,
        help="upper bound of each channel, as a share of the budget per period",
    )
    demo.add_argument(
        "--flighting",
        default=None,
        metavar="SHARES",
        help="share of the budget in each period, summing to 1, e.g. '0.4,0.3,0.2,0.1' "
        "with --periods 4 (default: even)",
    )
    demo.add_argument(
        "--cost-per-unit",
        default=None,
        metavar="PRICES",
        help="price of a unit of the views' spend input, per channel ('search=2,social=1') "
        "or per period ('1,1.2,0.9,1' with --periods 4) (default: 1)",
    )
    demo.add_argument(
        "--sweep",
        action="store_true",
        help="also rescale attribution's response by k = 1..10 and show the plans "
        "(on a different base curve for attribution, so its k = 1 row differs from "
        "the main table)",
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
    demo.add_argument("--format", choices=["text", "json"], default="text", help="output format")
    run = _command(
        commands,
        "run",
        "Run a decision described in a config file.",
        "Fit the views of a YAML or TOML config, allocate, and write the plans, the regret "
        "matrix, plots and an HTML report to a folder.",
    )
    run.add_argument("config", help="YAML or TOML file")
    run.add_argument(
        "--output",
        default=None,
        help="output folder (default: the config's `output` key, else <config>_output "
        "next to the config)",
    )
    run.add_argument("--overwrite", action="store_true", help="replace existing output files")
    run.add_argument("--quiet", action="store_true", help="print only where the files went")
    frontier = _command(
        commands,
        "frontier",
        "Solve every plan family across total budgets (a budget frontier).",
        "Fit the views of a config file and solve every plan family at each total budget; "
        "writes frontier.csv, frontier.nc and frontier.png.",
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


def _numbers(flag: str, text: str | None, example: str) -> list[float] | None:
    """Parse ``'40,60,80'``; None stays None."""
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise ValueError(f"{flag}: expected numbers like {example!r}, got {text!r}.") from None


def _by_channel(flag: str, text: str, example: str) -> dict[str, float]:
    """Parse ``'search=50,social=30'``."""
    try:
        pairs = (item.split("=") for item in text.split(","))
        return {channel.strip(): float(value) for channel, value in pairs}
    except ValueError:
        raise ValueError(f"{flag}: expected {example!r}, got {text!r}.") from None


def _frontier(args: argparse.Namespace) -> None:
    import pandas as pd

    from pymc_robust_alloc.config import run_frontier

    frontier = run_frontier(
        args.config,
        _numbers("--budgets", args.budgets, "40,60,80"),
        output_dir=args.output,
        overwrite=args.overwrite,
    )
    with pd.option_context("display.float_format", percent):
        print("Max regret of every plan family at each budget:")
        print(frontier.max_regret.to_pandas().to_string())


def _add_run_many(commands) -> None:
    many = _command(
        commands,
        "run-many",
        "Run a portfolio of decisions in parallel on Dask.",
        "Run every problem of a portfolio config (a `portfolio:` section) or of many config "
        "files, on a local cluster (one worker per core) or, with --scheduler, on a running "
        "Dask cluster. Writes problems/<name>.json as each finishes, then portfolio.nc, "
        "summary.csv and report.html.",
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
    import pandas as pd

    from pymc_robust_alloc.config import load_config, output_folder
    from pymc_robust_alloc.portfolio import allocate_many, load_portfolio

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
    with pd.option_context("display.float_format", "{:,.4g}".format, "display.width", 120):
        print(result.summary.drop(columns=["error", "seconds"]).to_string())
    for name, error in result.failures.items():
        print(f"FAILED {name}: {error}")
    print(f"Results in {Path(output or 'portfolio_output').resolve()}")
    return 1 if result.failures else 0


def _reference(text: str | None, budget: float, channels: Sequence[str]) -> dict | None:
    if text is None:
        return None
    if text == "equal":
        return dict.fromkeys(channels, budget / len(channels))
    return _by_channel("--reference", text, "equal' or 'channel=spend,...")


def _cost_per_unit(text: str | None) -> dict | list | None:
    if text is None or "=" not in text:
        return _numbers("--cost-per-unit", text, "1,1.2,0.9")
    return _by_channel("--cost-per-unit", text, "search=2,social=1,display=1")


def _demo_bounds(args: argparse.Namespace, channels: Sequence[str]) -> dict:
    share = args.max_share
    if not 0 < share <= 1 or share * len(channels) < 1:
        raise ValueError(
            f"--max-share must be a share of the budget between {1 / len(channels):.3g} "
            f"(the {len(channels)} channels must be able to spend it all) and 1, got {share:g}."
        )
    return {c: (0.0, share * args.budget) for c in channels}


def _demo(args: argparse.Namespace) -> dict:
    from pymc_robust_alloc.allocator import RobustAllocator
    from pymc_robust_alloc.demo import CHANNELS, SWEEP_ALPHA, SWEEP_FACTORS, demo_views
    from pymc_robust_alloc.sensitivity import scale_sweep

    bounds = _demo_bounds(args, CHANNELS)
    if args.regret == "relative" and args.reference is None:
        raise ValueError(
            "--regret relative measures each view against a reference plan: add "
            "--reference equal, or --reference 'search=50,social=30,display=20'."
        )
    allocator = RobustAllocator(
        demo_views(args.draws, args.seed),
        args.periods,
        budget_distribution_over_period=_numbers("--flighting", args.flighting, "0.4,0.3,0.3"),
        cost_per_unit=_cost_per_unit(args.cost_per_unit),
    )
    result = allocator.allocate(
        args.budget,
        bounds,
        reference_plan=_reference(args.reference, args.budget, CHANNELS),
        required_gain=args.required_gain,
        regret=args.regret,
    )
    out = result.to_dict()
    out["settings"].update({"draws": args.draws, "seed": args.seed, "max_share": args.max_share})
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
    import pandas as pd

    settings = out["settings"]
    counts = settings.get("view_draws") or {}
    draws = (
        f"{settings['n_draws']} draws per view"
        if len(set(counts.values())) <= 1
        else "draws per view: " + ", ".join(f"{v} {n}" for v, n in counts.items())
    )
    print(
        f"Budget {settings['total_budget']:g} per period over "
        f"{settings['num_periods']} periods, {draws}."
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
    if "sweep" in out:
        alpha = ", ".join(f"{a:g}" for a in out["sweep"]["alpha"])
        print(
            f"\nScale sweep: attribution's response on its base curve (alpha = {alpha}, "
            "not the curve of the tables above, so k = 1 differs from them), times k:"
        )
    for plan, table in out["text"].get("sweep", {}).items():
        with pd.option_context("display.float_format", "{:.2f}".format):
            print(f"\nSweep, {plan} plan as attribution's response is scaled by k:")
            print(table.to_string())


def _run(args: argparse.Namespace) -> None:
    started = time.perf_counter()

    def echo(message: str) -> None:
        print(f"[{time.perf_counter() - started:5.1f} s] {message}", file=sys.stderr, flush=True)

    from pymc_robust_alloc.config import load_config

    load_config(args.config)  # a bad config fails before PyMC is loaded
    if not args.quiet:
        echo("Loading PyMC and PyMC-Marketing ...")
    from pymc_robust_alloc.config import run_config

    run = run_config(
        args.config,
        output_dir=args.output,
        overwrite=args.overwrite,
        progress=not args.quiet,
        echo=None if args.quiet else echo,
    )
    folder = Path(run.files[0]).parent if run.files else Path(args.output or ".")
    print(f"Wrote {len(run.files)} files to {folder}:")
    for path in run.files:
        print(f"  {Path(path).name}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``robust-alloc`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0, or 2 after a user error (its message on stderr).

    Examples
    --------
    From a shell: ``robust-alloc demo --format json``. From Python:

    >>> main(["demo", "--draws", "20", "--periods", "2"])  # doctest: +ELLIPSIS
    Budget 100 per period over 2 periods, 20 draws per view.
    ...
    Solves converged: True
    0

    A user error prints one line on stderr (``robust-alloc: error: --max-share must
    be a share of the budget between 0.333 ...``) and returns 2:

    >>> main(["demo", "--max-share", "0.2"])
    2
    """
    args = _parser().parse_args(argv)
    try:
        if args.command == "run-many":
            return _run_many(args)
        if args.command == "run":
            _run(args)
            return 0
        if args.command == "frontier":
            _frontier(args)
            return 0
        out = _demo(args)
    except USER_ERRORS as err:
        if getattr(args, "debug", False):
            raise
        print(f"robust-alloc: error: {err}", file=sys.stderr)
        return USAGE_ERROR
    if args.format == "json":
        out.pop("text")
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        _print_text(out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
