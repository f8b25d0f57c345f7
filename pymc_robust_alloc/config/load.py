"""Read a YAML or TOML config, validate it and name the line of every error."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml
from pydantic import ValidationError

from pymc_robust_alloc.checks import check_units
from pymc_robust_alloc.config.schema import (
    OBJECTIVE_MODELS,
    SECTIONS,
    ConfigError,
    PortfolioEntry,
    RunConfig,
    entry_path,
)

__all__ = ["load_config", "output_folder"]

Lines = dict[tuple, int]


def load_config(path: str | Path) -> tuple[RunConfig, Path]:
    """Read and validate a YAML or TOML config; check that its files exist.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.yaml``/``.yml`` or ``.toml`` file.

    Returns
    -------
    (RunConfig, pathlib.Path)
        The config and the folder its relative paths start from.

    Raises
    ------
    ConfigError
        Unknown or invalid keys and missing files, naming the key and its line.

    Examples
    --------
    >>> from importlib.resources import files
    >>> example = files("pymc_robust_alloc") / "examples" / "config.yaml"
    >>> config, base = load_config(example)
    >>> sorted(config.views)
    ['attribution', 'experiment', 'vendor']
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such config file: '{path}'.")
    raw, lines = _parse(path)

    def where(loc: tuple) -> str:
        key = ".".join(str(p) for p in loc)
        line = _line_of(lines, loc)
        return f"{path.name}, line {line}: {key!r}" if line else f"{path.name}: {key!r}"

    errors = _objective_errors(raw.get("objectives"))
    try:
        config = None if errors else RunConfig.model_validate(raw)
    except ValidationError as err:
        errors = [(tuple(e["loc"]), e["type"], e["msg"]) for e in err.errors()]
    if errors:
        messages = [_message(raw, loc, kind, msg, where(_key(loc))) for loc, kind, msg in errors]
        raise ConfigError("Invalid config:\n  " + "\n  ".join(messages))
    if config.units is not None:
        try:
            check_units(config.units, list(config.views))
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{where(('units',))}: {err}") from None
    _check_portfolio(config, path.parent, where)
    return config, path.parent


def output_folder(path: str | Path, config: RunConfig, base: Path) -> Path:
    """Where a run writes by default: the config's ``output``, else ``<stem>_output``.

    Examples
    --------
    >>> config = RunConfig.model_validate({"views": {}, "budget": {"total": 1, "num_periods": 1}})
    >>> output_folder("runs/plan.yaml", config, Path("runs")).as_posix()
    'runs/plan_output'
    """
    return base / config.output if config.output else base / f"{Path(path).stem}_output"


def _parse(path: Path) -> tuple[dict, Lines]:
    text = path.read_text()
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            raw, lines = yaml.safe_load(text), _yaml_lines(text)
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML: {err}") from None
    elif suffix == ".toml":
        try:
            raw, lines = tomllib.loads(text), _toml_lines(text)
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: not valid TOML: {err}") from None
    else:
        raise ConfigError(f"{path}: expected a .yaml, .yml or .toml config, got '{suffix}'.")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the config must be a mapping of keys, got {raw!r}.")
    return raw, lines


def _objective_errors(objectives) -> list[tuple[tuple, str, str]]:
    """Validate each objective with its own model, so an error names the objective's key."""
    if not isinstance(objectives, Mapping):
        return []
    errors = []
    for name, spec in objectives.items():
        prefix = ("objectives", name)
        if name not in OBJECTIVE_MODELS:
            errors.append((prefix, "unknown_objective", ""))
        elif spec is not True and spec is not False:
            try:
                OBJECTIVE_MODELS[name].model_validate(spec)
            except ValidationError as err:
                errors += [((*prefix, *e["loc"]), e["type"], e["msg"]) for e in err.errors()]
    return errors


def _key(loc: tuple) -> tuple:
    """Drop the union tags pydantic inserts in a location (``constraints.0.linear.max``)."""
    if len(loc) > 2 and loc[0] == "constraints" and loc[2] in ("linear", "function"):
        return (*loc[:2], *loc[3:])
    return loc


def _message(raw: Mapping, loc: tuple, kind: str, msg: str, where: str) -> str:
    loc = _key(loc)
    if kind == "unknown_objective":
        return f"{where} is not a known objective; known: {sorted(OBJECTIVE_MODELS)}."
    if kind == "extra_forbidden" and loc[0] == "portfolio" and len(loc) == 3:
        entry = raw["portfolio"][loc[1]]
        name = entry.get("name", f"#{loc[1] + 1}") if isinstance(entry, Mapping) else loc[1]
        return (
            f"{where.rsplit(':', 1)[0]}: portfolio entry {name!r} overrides {loc[2]!r}, which "
            f"is not a key an entry can set. Keys: {sorted(PortfolioEntry.model_fields)}."
        )
    if kind == "extra_forbidden":
        return f"{where} is not a known key. {_known(loc[:-1])}".rstrip()
    if kind == "missing":
        return f"{where} is required here. {_known(loc[:-1])}".rstrip()
    return f"{where}: {msg}"


def _known(parent: tuple) -> str:
    for section, model in SECTIONS.items():
        if len(section) == len(parent) and all(
            s in ("*", p) for s, p in zip(section, parent, strict=True)
        ):
            return f"Known keys here: {sorted(model.model_fields)}."
    return ""


def _check_portfolio(config: RunConfig, base: Path, where) -> None:
    """Entry names are unique and every entry's view files exist."""
    entries = config.portfolio or []
    names = [e.name for e in entries]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ConfigError(
                f"{where(('portfolio', i, 'name'))}: two portfolio entries are named "
                f"{name!r}; give every entry its own name."
            )
    for name, view in config.views.items():
        for entry in entries or [None]:
            try:
                file = entry_path(view.path, entry)
            except KeyError as err:
                raise ConfigError(
                    f"{where(('views', name, 'path'))}: the path uses {{{err.args[0]}}} but "
                    f"portfolio entry {entry.name!r} sets no {err.args[0]}."
                ) from None
            if not (base / file).exists():
                raise ConfigError(
                    f"{where(('views', name, 'path'))}: file '{file}' not found "
                    f"(looked in '{base.resolve()}'; paths are relative to the config file)."
                )


def _yaml_lines(text: str) -> Lines:
    """Line of every key and list item, from the YAML node tree."""
    lines: Lines = {}

    def walk(node, prefix: tuple) -> None:
        items: Iterable = ()
        if isinstance(node, yaml.MappingNode):
            items = ((key.value, key, value) for key, value in node.value)
        elif isinstance(node, yaml.SequenceNode):
            items = ((i, value, value) for i, value in enumerate(node.value))
        for name, marked, value in items:
            lines[(*prefix, name)] = marked.start_mark.line + 1
            walk(value, (*prefix, name))

    walk(yaml.compose(text), ())
    return lines


_HEADER = re.compile(r"^\s*(\[\[?)([^\[\]]+)\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")


def _toml_lines(text: str) -> Lines:
    """Line of every table header and key (``tomllib`` keeps no positions).

    Array-of-tables headers (``[[portfolio]]``) count their entries.
    """
    lines: Lines = {}
    table: tuple = ()
    counts: dict[tuple, int] = {}

    def split(key: str) -> tuple:
        return tuple(p.strip().strip("\"'") for p in key.split("."))

    for number, line in enumerate(text.splitlines(), start=1):
        if match := _HEADER.match(line):
            table = split(match.group(2))
            if match.group(1) == "[[":
                counts[table] = counts.get(table, -1) + 1
                table = (*table, counts[table])
            for i in range(1, len(table) + 1):
                lines.setdefault(table[:i], number)
        elif match := _ASSIGN.match(line):
            lines.setdefault((*table, *split(match.group(1))), number)
    return lines


def _line_of(lines: Mapping[tuple, int], loc: tuple) -> int | None:
    loc = tuple(loc)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return None
