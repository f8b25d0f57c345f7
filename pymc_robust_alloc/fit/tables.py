"""Spend/response tables: read, reshape and validate before any fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from pymc_robust_alloc.views.shapes import CurveShape

__all__ = ["as_spend_response", "parse_dates", "read_table"]

#: Day-month orders tried on text dates that are not ISO 8601: (month first, day first).
_ORDERS = tuple((f"%m{sep}%d{sep}%Y", f"%d{sep}%m{sep}%Y") for sep in "/.-")


def read_table(path: str | Path) -> pd.DataFrame:
    r"""Read a ``.csv`` or ``.parquet`` file into a DataFrame, never modifying it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("channel,x\nsearch,1\n")
    >>> read_table(path).shape
    (1, 2)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: '{path}'. Check the path and try again.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except ImportError as err:
            raise ImportError(
                f"Reading '{path}' needs a Parquet engine: `pip install pyarrow`, or "
                "save the table as CSV."
            ) from err
    raise ValueError(f"Cannot read '{path}': expected a .csv or .parquet file, got '{suffix}'.")


def as_spend_response(
    table: pd.DataFrame | xr.Dataset,
    *,
    date: str = "date",
    channel: str = "channel",
    spend: str = "spend",
    response: str = "response",
    min_points: int = 1,
    date_format: str | None = None,
) -> xr.Dataset:
    """Validate a spend/response table and return it as ``(date, channel)`` arrays.

    **Long**: one row per date and channel, columns ``date, channel, spend,
    response``; **wide**: one row per date, columns such as ``search_spend``,
    ``search_response``.

    Parameters
    ----------
    table : pandas.DataFrame or xarray.Dataset
        The table (not modified), or this function's result (checked again
        against ``min_points`` and returned).
    date, channel, spend, response : str
        Column names (long) or suffixes after ``_`` (wide).
    min_points : int, default 1
        Least number of distinct positive spend levels per channel (see
        :func:`check_spend`).
    date_format : str, optional
        :func:`~datetime.datetime.strptime` format of text dates, e.g.
        ``"%d/%m/%Y"``; by default inferred (see :func:`parse_dates`).

    Returns
    -------
    xarray.Dataset
        ``spend`` and ``response``, dims ``("date", "channel")``, sorted by date.

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"date": [1, 2], "tv_spend": [1.0, 2.0],
    ...                      "tv_response": [0.5, 0.8]})
    >>> as_spend_response(wide)["spend"].dims
    ('date', 'channel')
    """
    if isinstance(table, xr.Dataset):
        check_spend(table["spend"], min_points=min_points)
        return table
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"Expected a pandas DataFrame of spend and response, got "
            f"{type(table).__name__}. Read files with `read_table(path)`."
        )
    if date not in table.columns:
        raise ValueError(
            f"The table has no {date!r} column (columns: {list(table.columns)}). "
            "Name the date column with `date=`."
        )
    long = (
        table if channel in table.columns else _wide_to_long(table, date, channel, spend, response)
    )
    check_columns(
        long,
        (spend, response),
        "The table",
        "A long table needs date, channel, spend and response columns; set "
        "their names with `spend=` and `response=`.",
    )
    long = long[[date, channel, spend, response]].copy()
    long[date] = parse_dates(long[date], date_format, column=date)
    duplicated = long.duplicated([date, channel])
    if duplicated.any():
        rows = long.loc[duplicated, [date, channel]].head(3).to_dict("records")
        raise ValueError(
            f"The table has {int(duplicated.sum())} duplicated (date, channel) rows, "
            f"e.g. {rows}. Aggregate them first, e.g. "
            "`table.groupby(['date', 'channel'], as_index=False).sum()`."
        )
    for column in (spend, response):
        values = pd.to_numeric(long[column], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.astype(float))
        if bad.any():
            rows = long.loc[bad, [date, channel]].head(3).to_dict("records")
            raise ValueError(
                f"{int(bad.sum())} rows have missing or non-numeric {column!r}, e.g. "
                f"{rows}. Fill them (a week without spend has spend 0) or drop them."
            )
    ds = (
        long.astype({spend: float, response: float})
        .set_index([date, channel])
        .to_xarray()
        .rename({date: "date", channel: "channel", spend: "spend", response: "response"})
        .sortby("date")
    )
    ds = ds.sel(channel=list(dict.fromkeys(long[channel])))
    if ds["spend"].isnull().any() or ds["response"].isnull().any():
        gaps = ds["spend"].isnull().sum("date").to_series()
        raise ValueError(
            "Every channel needs a row for every date; missing rows per channel: "
            f"{gaps[gaps > 0].to_dict()}. Add the missing rows (with spend 0 if "
            "nothing was spent)."
        )
    check_spend(ds["spend"], min_points=min_points)
    return ds


def parse_dates(
    values: pd.Series, date_format: str | None = None, *, column: str = "date"
) -> pd.Series:
    """Return text dates as datetimes, so that they sort in time, not as text.

    Numbers and datetimes are returned as they are; text is read with
    ``date_format``, else as ISO 8601, else month first or day first (an error
    asks for ``date_format`` when both orders read every value).

    ``date_format`` is a :func:`~datetime.datetime.strptime` format, e.g.
    ``"%m/%d/%Y"``; ``column`` names the column in messages.

    Examples
    --------
    >>> import pandas as pd
    >>> parse_dates(pd.Series(["12/18/2023", "01/08/2024"])).dt.date.tolist()
    [datetime.date(2023, 12, 18), datetime.date(2024, 1, 8)]
    >>> parse_dates(pd.Series(["01/08/2024", "02/08/2024"]))
    Traceback (most recent call last):
    ...
    ValueError: The dates of column 'date' can be read month first or day first ...
    """
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return values
    text = values.astype(str)
    if date_format is not None:
        try:
            return pd.to_datetime(text, format=date_format)
        except ValueError as err:
            raise ValueError(
                f"The dates of column {column!r} do not match date_format={date_format!r} "
                f"({err}). Pass the format of values like {text.iloc[0]!r}."
            ) from None
    try:
        return pd.to_datetime(text, format="ISO8601")
    except ValueError:
        pass
    for month_first, day_first in _ORDERS:
        readings = {}
        for fmt in (month_first, day_first):
            try:
                readings[fmt] = pd.to_datetime(text, format=fmt)
            except ValueError:
                continue
        if len(readings) == 2:
            raise ValueError(
                f"The dates of column {column!r} can be read month first or day first "
                f"(e.g. {text.iloc[0]!r}). Pass date_format={month_first!r} or "
                f"date_format={day_first!r}."
            )
        if readings:
            return next(iter(readings.values()))
    raise ValueError(
        f"Cannot read the dates of column {column!r} (e.g. {text.iloc[0]!r}). Pass their "
        "format as date_format, e.g. '%Y-%m-%d', or use period numbers."
    )


def check_spend(spend: xr.DataArray, *, min_points: int = 1) -> None:
    """Refuse negative spend, all-zero channels and too few spend levels.

    Examples
    --------
    >>> import xarray as xr
    >>> check_spend(xr.DataArray([[0.0], [0.0]], dims=("date", "channel"),
    ...                          coords={"channel": ["tv"]}))
    Traceback (most recent call last):
    ...
    ValueError: Channels ['tv'] have zero spend on every date: ...
    """
    negative = (spend < 0).any("date")
    if negative.any():
        names = spend["channel"].values[negative.values].tolist()
        raise ValueError(
            f"Spend must be non-negative, but channels {names} have negative "
            "values. Refunds or corrections belong in the response, not the spend."
        )
    zero = (spend == 0).all("date")
    if zero.any():
        names = spend["channel"].values[zero.values].tolist()
        raise ValueError(
            f"Channels {names} have zero spend on every date: their response curve "
            "cannot be identified from this table. Drop them from the table, or "
            "give them a view from another source (lift tests, prior draws)."
        )
    levels = {
        c: int(np.unique(spend.sel(channel=c).values[spend.sel(channel=c).values > 0]).size)
        for c in spend["channel"].values.tolist()
    }
    few = {c: n for c, n in levels.items() if n < min_points}
    if few:
        raise ValueError(
            f"Too few points for the shape: it needs at least {min_points} distinct "
            f"positive spend levels per channel, got {few}. Use a simpler shape "
            "(fewer parameters), a longer history, or another source for them."
        )


def _wide_to_long(table, date, channel, spend, response) -> pd.DataFrame:
    spend_cols = [c for c in table.columns if str(c).endswith(f"_{spend}")]
    channels = [str(c)[: -len(spend) - 1] for c in spend_cols]
    if not channels:
        raise ValueError(
            f"The table has neither a {channel!r} column (long layout) nor columns "
            f"named '<channel>_{spend}' (wide layout); columns: {list(table.columns)}."
        )
    absent = [f"{c}_{response}" for c in channels if f"{c}_{response}" not in table]
    if absent:
        raise ValueError(
            f"Wide table: spend columns without a matching response column {absent}. "
            f"Each channel needs '<channel>_{spend}' and '<channel>_{response}'."
        )
    frames = [
        pd.DataFrame(
            {
                date: table[date].to_numpy(),
                channel: c,
                spend: table[f"{c}_{spend}"].to_numpy(),
                response: table[f"{c}_{response}"].to_numpy(),
            }
        )
        for c in channels
    ]
    return pd.concat(frames, ignore_index=True)


def check_columns(frame: pd.DataFrame, columns, what: str, expected: str) -> None:
    """Refuse a table that lacks any of ``columns``; ``expected`` says what it needs."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what} lacks the columns {missing} (columns: {list(frame.columns)}). {expected}"
        )


def unit_maxima(shape: CurveShape, data: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    """Per-channel maxima of spend and of absolute response, the scales a fit runs on.

    Both are 1 for a shape whose parameters' units are unknown (not rescalable),
    and the response's is 1 for a channel whose response is zero throughout.
    """
    spend = data["spend"].max("date")
    response = abs(data["response"]).max("date")
    response = response.where(response > 0, 1.0)
    if not shape.rescalable:
        spend, response = xr.ones_like(spend), xr.ones_like(response)
    return spend.drop_vars("channel"), response.drop_vars("channel")
