"""From tagged positions to visits: zone entries, exits and time in zone per vessel.

`visits` and `time_in_zone` are lazy Polars plans (sort, shift, cumulative sums, one small
group_by), so they run in the in-memory and the streaming engines alike. The rules, exactly
as the README states them and as the brute-force reference in tests/test_visits.py applies
them:

1. Rows whose time is null (or NaN, or infinite) are ignored. Positions are ordered by
   (`by`, time); ties keep input order.
2. Per vessel, a *run* is a maximal sequence of consecutive positions with the same zone
   value; null (in no zone, or an invalid point) is a value too.
3. With `max_gap`, two consecutive positions of a vessel more than `max_gap` apart in time
   always end the run before the gap (a *gap break*).
4. A run (null runs included) with fewer than `min_points` positions, or whose
   `exit - enter` is shorter than `min_duration`, is dropped. Then each remaining run joins
   the remaining run before it (of the same vessel) when both have the same zone and no gap
   break lies between them: none between the last position of the earlier run and the
   first position of the later one, the positions of dropped runs included.
5. Visits are the joined non-null runs: `enter` is the time of the first position, `exit`
   of the last, `points` counts the positions of the runs kept (dropped runs' positions are
   not counted).
"""

from __future__ import annotations

import datetime as dt
import decimal
import fractions
import math
import numbers
import re
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, Union, cast

import polars as pl
from polars.plugins import register_plugin_function

from polars_zones._namespace import PLUGIN_FAILED, PLUGIN_PATH
from polars_zones._types import is_real_number

# A DataFrame in gives a DataFrame out, a LazyFrame a LazyFrame.
FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)
DurationLike = Union[dt.timedelta, str, int, float, None]

OUTPUT_COLUMNS = ("enter", "exit", "duration", "points")
# The prefix of the helper columns of a visits query; no column it reads may start with it.
_HELPER = "__visits_"
# Microseconds per unit: a timedelta's resolution, so a duration is summed exactly in them.
_UNITS = {
    "w": 604_800_000_000,
    "d": 86_400_000_000,
    "h": 3_600_000_000,
    "m": 60_000_000,
    "s": 1_000_000,
    "ms": 1_000,
    "us": 1,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|us|w|d|h|m|s)")


def parse_duration(text: str) -> dt.timedelta:
    """`"6h"`, `"10m"`, `"30s"`, `"2d"`, `"1w"`, `"500ms"`, or several at once (`"1h30m"`).

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    """
    compact = text.strip().replace(" ", "")
    parts = _PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"cannot read {text!r} as a duration; write e.g. 30s, 10m, 6h, 2d or 1h30m")
    micro = sum((decimal.Decimal(n) * _UNITS[u] for n, u in parts), decimal.Decimal(0))
    if micro != micro.to_integral_value():
        # Rounded, "0.5us" was 0 and "59m59.9999999s" 1 h, against nanosecond times too.
        raise ValueError(f"duration {text!r} is finer than a microsecond, the finest a duration here holds")
    try:
        return dt.timedelta(microseconds=int(micro))
    except OverflowError:
        raise ValueError(f"duration {text!r} is too long: at most {dt.timedelta.max.days:,} days") from None


def _columns(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    if not isinstance(by, Sequence) or not all(isinstance(b, str) for b in by):
        raise TypeError(f"by must be a column name or a list of column names (not expressions), not {by!r}")
    return list(by)


def _missing(role: str, name: str, schema: pl.Schema, caller: str) -> pl.exceptions.ColumnNotFoundError:
    names = list(schema.names())
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return pl.exceptions.ColumnNotFoundError(
        f"{caller}: {role} column {name!r} not found; the frame has columns: {shown}"
    )


def _threshold(name: str, value: DurationLike, time: str, dtype: pl.DataType) -> tuple[pl.Expr, int | float] | None:
    """`max_gap` or `min_duration` as a literal comparable with differences of the time column,
    and as a number of their units (not capped to their type's range: `_compare`)."""
    if value is None:
        return None
    temporal = dtype == pl.Date or isinstance(dtype, pl.Datetime)
    if temporal:
        if isinstance(value, str):
            try:
                value = parse_duration(value)
            except ValueError as error:
                raise ValueError(f"{name}: {error}") from None
        if not isinstance(value, dt.timedelta):
            raise TypeError(
                f"{name} must be a duration (a timedelta or a string like '6h') since time column {time!r} is {dtype}, "
                f"not {value!r}"
            )
        if value < dt.timedelta(0):
            raise ValueError(f"{name} must not be negative, not {value}")
        # In the column's own unit (`_difference`), exactly: whole units, else a fraction of
        # one, compared as such (999 ms is less than 999.5). A pandas Timedelta also holds
        # nanoseconds, beyond a timedelta's microseconds.
        nanos = (value // dt.timedelta(microseconds=1)) * 1000 + int(getattr(value, "nanoseconds", 0))
        exact = nanos * _UNITS_PER_NANOSECOND[dtype.time_unit if isinstance(dtype, pl.Datetime) else "d"]
        units = int(exact) if exact.denominator == 1 else float(exact)
        # An Int64 difference never passes 2^63 - 1 unwrapped (`_compare` takes the wrapped ones).
        return pl.lit(min(units, 2**63 - 1)), units
    if not is_real_number(value):
        raise TypeError(f"{name} must be a number in the units of time column {time!r} ({dtype}), not {value!r}")
    value = int(value) if isinstance(value, numbers.Integral) else float(cast(numbers.Real, value))
    if math.isnan(value):
        raise ValueError(f"{name} must be a number, not NaN")
    if value < 0:
        raise ValueError(f"{name} must not be negative, not {value}")
    if isinstance(value, float) and value.is_integer() and not dtype.is_float():
        # Integer differences compared with a float are converted to it, inexact past 2^53.
        value = int(value)
    # No difference of integer times reaches 2^127 unwrapped (`_compare` takes the wrapped
    # ones), and Polars has no integer literal past it.
    return pl.lit(min(value, 2**127 - 1) if isinstance(value, int) else value), value


# A time column's unit per nanosecond, by Datetime unit, "d" for Date.
_UNITS_PER_NANOSECOND = {
    "ns": fractions.Fraction(1),
    "us": fractions.Fraction(1, 1000),
    "ms": fractions.Fraction(1, 10**6),
    "d": fractions.Fraction(1, 86_400 * 10**9),
}


def _difference(later: pl.Expr, earlier: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """later - earlier as a number in the column's own unit (days for a Date), which the
    thresholds are given in (`_threshold`). In a finer unit, a difference of times far apart
    did not fit (Date days in microseconds past 292,000 years were null, rows then lost)."""
    if dtype == pl.Date:
        return later.to_physical().cast(pl.Int64) - earlier.to_physical().cast(pl.Int64)
    if isinstance(dtype, pl.Datetime):
        return (later - earlier).to_physical()
    return later - earlier


def _check(schema: pl.Schema, zone: str, time: str, by: list[str], outputs: Sequence[str], caller: str) -> None:
    """Refuses columns the visits plan cannot read, in a message that starts with `caller`."""
    for role, name in [("zone", zone), ("time", time)]:
        if not isinstance(name, str):
            raise TypeError(f"{caller}: {role} must be a column name (not an expression), not {name!r}")
    for role, name in [("zone", zone), ("time", time)] + [("by", b) for b in by]:
        if name not in schema:
            raise _missing(role, name, schema, caller)
        if isinstance(schema[name], (pl.List, pl.Array, pl.Struct, pl.Object)):
            hint = (
                " (a list of zones: use tag, not tag_all)"
                if role == "zone" and isinstance(schema[name], pl.List)
                else ""
            )
            raise pl.exceptions.SchemaError(
                f"{caller}: {role} column {name!r} has type {schema[name]}{hint}; expected plain values"
            )
    dtype = schema[time]
    if not (dtype == pl.Date or isinstance(dtype, pl.Datetime) or dtype.is_numeric()):
        raise pl.exceptions.SchemaError(
            f"{caller}: time column {time!r} has type {dtype}; expected Datetime, Date or numbers"
        )
    if zone == time or zone in by or time in by or len(set(by)) != len(by):
        raise ValueError(f"{caller}: zone {zone!r}, time {time!r} and by {by!r} must be different columns")
    # The time column's values become `enter` and `exit` under the plan's own names, so it may
    # be called anything; the vessel and zone columns are in the output.
    clash = [c for c in [*by, zone] if c in outputs]
    if clash:
        raise ValueError(
            f"{caller}: column {clash[0]!r} would clash with an output column ({', '.join(outputs)}); rename it"
        )
    helper = [c for c in [*by, zone, time] if c.startswith(_HELPER)]
    if helper:
        raise ValueError(
            f"{caller}: column {helper[0]!r} starts with {_HELPER!r}, which its helper columns use; rename it"
        )


def _sort_key(by: list[str], time: str, schema: pl.Schema) -> tuple[pl.Expr, int | None] | None:
    """One Int128 key that orders rows by vessel, then time, when `by` is one integer (or
    Enum, Categorical, Boolean) column and the time is integer-based (Datetime, Date,
    integers), neither of 128 bits: vessel * 2^64 + time, each shifted into its 64 bits. A
    sort on it is several times faster than Polars' multi-column sort, which compares
    row-encoded bytes. Vessels need only be contiguous, not in `by` order (the visits are sorted again at the end), so
    Enum and Categorical vessels use their codes.

    A 64-bit vessel column fills all 2^64 places, so its null vessel shares the place of one
    value, returned as the second item (Int64: its minimum, UInt64: its maximum): a frame with
    both is refused (see `_sorted`) rather than sorted wrongly."""
    if len(by) != 1:
        return None
    vessel, when = schema[by[0]], schema[time]
    if pl.Int128 in (vessel, when) or pl.UInt128 in (vessel, when):
        return None  # values beyond 64 bits: no room in one Int128 (the multi-column sort)
    shared = None
    if vessel in (pl.Int64, pl.UInt64):
        shared = -(2**63) if vessel == pl.Int64 else 2**64 - 1
        b = pl.col(by[0]).fill_null(shared).cast(pl.Int128)
    elif vessel.is_integer() or vessel == pl.Boolean:
        b = pl.col(by[0]).cast(pl.Int128).fill_null(-(2**40))
    elif isinstance(vessel, (pl.Enum, pl.Categorical)):
        b = pl.col(by[0]).to_physical().cast(pl.Int128).fill_null(-1)
    else:
        return None
    if vessel.is_unsigned_integer():
        b = b - 2**63
    if when == pl.Date or isinstance(when, pl.Datetime) or when.is_signed_integer():
        t = pl.col(time).to_physical().cast(pl.Int128) + 2**63
    elif when.is_unsigned_integer():
        t = pl.col(time).cast(pl.Int128)
    else:
        return None
    return b * 2**64 + t, shared


def _sorted(
    lf: pl.LazyFrame, by: list[str], time: str, schema: pl.Schema, caller: str
) -> tuple[pl.LazyFrame, pl.Expr | None]:
    """Rows ordered by (`by`, time), ties in input order (rule 1); vessels contiguous. Also
    a check to add to the runs' `points` (0), when the sort key has a shared place: it fails
    the query if the null vessel and the value sharing its place are both present."""
    if not by:
        return lf.sort(time, maintain_order=True), None
    found = _sort_key(by, time, schema)
    if found is not None:
        key, shared = found
        check = None
        if shared is not None:
            both = pl.col(by[0]).is_null().any() & (pl.col(by[0]) == shared).any()
            problem = (
                f"{caller}: the vessel column {by[0]!r} holds both nulls and {shared}, which share a place in "
                "the sort key; fill the nulls or cast the column to String"
            )
            check = _fail_where(both, problem)
        return lf.sort(key, maintain_order=True), check
    # Otherwise stable sorts on one column at a time, the last key first. The projection
    # between them keeps Polars from fusing them into one (slower) multi-column sort.
    for column in [time, *reversed(by)]:
        lf = lf.sort(column, maintain_order=True).select(pl.all())
    return lf, None


def _changed(columns: list[str], before: list[str]) -> pl.Expr:
    """True where any of `columns` differs from its value in `before` (null equals null)."""
    out = pl.lit(False)
    for c, b in zip(columns, before):
        out = out | pl.col(c).ne_missing(pl.col(b))
    return out


def _with_previous(lf: pl.LazyFrame, columns: list[str]) -> tuple[pl.LazyFrame, list[str]]:
    """`lf` with each column's value in the row before, as `<_HELPER>prev_<i>` (one shift each)."""
    names = [f"{_HELPER}prev_{i}" for i in range(len(columns))]
    return lf.with_columns(pl.col(c).shift(1).alias(n) for c, n in zip(columns, names)), names


def _visits_lazy(
    lf: pl.LazyFrame,
    *,
    zone: str,
    time: str,
    by: list[str],
    max_gap: DurationLike,
    min_points: int,
    min_duration: DurationLike,
    outputs: Sequence[str] = OUTPUT_COLUMNS,
    names: Sequence[str] = OUTPUT_COLUMNS,
    caller: str = "visits",
) -> pl.LazyFrame:
    """The visits plan, its enter, exit, duration and points columns called `names`;
    `outputs`: the caller's output columns (refused as vessel or zone columns); `caller`: the
    function its messages name."""
    schema = lf.collect_schema()
    _check(schema, zone, time, by, outputs, caller)
    if not (is_real_number(min_points) and isinstance(min_points, numbers.Integral)) or min_points < 1:
        raise ValueError(f"min_points must be an integer >= 1, not {min_points!r}")
    min_points = int(min_points)
    gap_limit = _threshold("max_gap", max_gap, time, schema[time])
    min_length = _threshold("min_duration", min_duration, time, schema[time])

    t = pl.col(time)
    # The plan's own names for the columns it makes: the input's may be called like its output.
    enter, exit_, points = (f"{_HELPER}{name}" for name in ("enter", "exit", "points"))
    # Differences of signed times wrap around past the type's range (Int64 times 2^63 apart
    # give -2). Within a vessel a later time minus an earlier one is never negative, so a
    # negative difference is a wrapped one (`_compare`).
    bits = _wrapping_bits(schema[time])
    # A NaN or infinite time is no time, as a null is.
    known = t.is_finite() if schema[time].is_float() else t.is_not_null()
    ordered, check = _sorted(lf.select(*by, zone, time).filter(known), by, time, schema, caller)
    ordered, before = _with_previous(ordered, [time, *by, zone])
    prev = pl.col(before[0])
    # Times are never null after the filter, so a null previous time marks the first row.
    new_vessel = prev.is_null() | _changed(by, before[1:-1])
    gap = pl.lit(False)
    if gap_limit is not None:
        step = _difference(t, prev, schema[time])
        gap = ~new_vessel & _compare(step, gap_limit, bits, strict=True)
    start = new_vessel | _changed([zone], before[-1:]) | gap

    rows = (
        ordered.with_columns(start.alias(f"{_HELPER}start"), gap.alias(f"{_HELPER}gap"))
        .select(*by, zone, time, f"{_HELPER}start", f"{_HELPER}gap")
        .with_row_index(f"{_HELPER}i")
        .with_columns(pl.col(f"{_HELPER}start").shift(-1).fill_null(True).alias(f"{_HELPER}end"))
    )
    # Each run's first and last rows (one row when the run has one position): the last row
    # gives the exit time and the row count.
    single, row = pl.col(f"{_HELPER}end"), pl.col(f"{_HELPER}i")
    runs = (
        rows.filter(pl.col(f"{_HELPER}start") | pl.col(f"{_HELPER}end"))
        .with_columns(
            pl.when(single).then(t).otherwise(t.shift(-1)).alias(exit_),
            pl.when(single).then(1).otherwise(row.shift(-1) - row + 1).cast(pl.UInt32).alias(points),
        )
        .filter(pl.col(f"{_HELPER}start"))
        .rename({time: enter})
        # Gap breaks counted over every run, dropped ones included: two runs are separated
        # by a gap break exactly when their counts differ.
        .with_columns(pl.col(f"{_HELPER}gap").cum_sum().alias(f"{_HELPER}segment"))
    )
    if check is not None:
        runs = runs.with_columns((pl.col(points) + check).alias(points))
    keep = pl.col(points) >= min_points
    if min_length is not None:
        length = _difference(pl.col(exit_), pl.col(enter), schema[time])
        keep = keep & _compare(length, min_length, bits, strict=False)
    kept, before = _with_previous(runs.filter(keep), [enter, *by, zone, f"{_HELPER}segment"])
    duration = pl.col(exit_) - pl.col(enter)
    # Differences that can wrap can make a visit too long for its type: `_fits` refuses those.
    counted = pl.col(points) + _fits(duration, schema[time], caller) if bits is not None else pl.col(points)
    joined = pl.col(before[0]).is_null() | _changed([*by, zone, f"{_HELPER}segment"], before[1:])
    return (
        kept.with_columns(joined.cum_sum().alias(f"{_HELPER}visit"))
        .filter(pl.col(zone).is_not_null())
        .group_by(f"{_HELPER}visit", *by, zone)
        .agg(pl.col(enter).min(), pl.col(exit_).max(), pl.col(points).sum())
        .sort([*by, enter, f"{_HELPER}visit"])
        .select(
            *by,
            zone,
            pl.col(enter).alias(names[0]),
            pl.col(exit_).alias(names[1]),
            duration.alias(names[2]),
            counted.alias(names[3]),
        )
    )


def _wrapping_bits(dtype: pl.DataType) -> int | None:
    """The width of a time column's differences when they can wrap around (signed integers,
    Datetime), else None."""
    if isinstance(dtype, pl.Datetime):
        return 64
    widths = {pl.Int8: 8, pl.Int16: 16, pl.Int32: 32, pl.Int64: 64, pl.Int128: 128}
    return next((bits for kind, bits in widths.items() if dtype == kind), None)


def _compare(difference: pl.Expr, limit: tuple[pl.Expr, int | float], bits: int | None, *, strict: bool) -> pl.Expr:
    """`difference > limit` (`strict`) or `>=`, for differences of a later time and an earlier
    one. A negative one wrapped round its `bits`-wide type: it stands for difference + 2^bits,
    compared with the limit in units (which its literal may not hold)."""
    literal, units = limit
    plain = difference > literal if strict else difference >= literal
    if bits is None:
        return plain
    # difference + 2^bits > units  <=>  difference > units - 2^bits, for difference in [-2^(bits-1), 0).
    shifted = units - 2**bits
    if shifted < -(2 ** (bits - 1)):
        wrapped = pl.lit(True)
    elif shifted >= 0:
        wrapped = pl.lit(False)
    else:
        wrapped = difference > shifted if strict else difference >= shifted
    return pl.when(difference < 0).then(wrapped).otherwise(plain)


def _fail_where(condition: pl.Expr, message: str) -> pl.Expr:
    """0 (UInt32, to add to a count) where `condition` is false, failing the query with
    `message`, a ComputeError, where it is true (src/plan_checks.rs)."""
    return register_plugin_function(
        plugin_path=PLUGIN_PATH,
        function_name="fail_where",
        args=[condition],
        kwargs={"message": message},
        is_elementwise=True,
    )


def _fits(duration: pl.Expr, dtype: pl.DataType, caller: str) -> pl.Expr:
    """0 to add to the visits' `points`, failing the query where a visit's `duration` (exit -
    enter) does not fit the time column's type."""
    problem = (
        f"{caller}: a visit lasts longer than a difference of {dtype} times can hold (exit - enter wraps around); "
        "cast the time column to Float64 or to a coarser unit"
    )
    return _fail_where(duration < 0, problem)


def _run(frame: FrameT, build: Callable[[pl.LazyFrame], pl.LazyFrame]) -> FrameT:
    if isinstance(frame, pl.DataFrame):
        try:
            return build(frame.lazy()).collect()
        except pl.exceptions.ComputeError as error:
            # The plan's own checks (`_fail_where`): an eager call gives their message alone.
            # (A lazy frame's collect gives Polars' error, which starts with it.)
            first = str(error).splitlines()[0]
            if not first.startswith(PLUGIN_FAILED):
                raise
            raise pl.exceptions.ComputeError(first.removeprefix(PLUGIN_FAILED)) from None
    if isinstance(frame, pl.LazyFrame):
        return build(frame)
    kind = f"{type(frame).__module__.split('.')[0]}.{type(frame).__name__}"
    hint = "; convert it with pl.from_pandas(frame) first" if kind.startswith("pandas.") else ""
    raise TypeError(f"expected a polars DataFrame or LazyFrame, not a {kind}{hint}")


def visits(
    frame: FrameT,
    *,
    zone: str = "zone",
    time: str = "time",
    by: str | Sequence[str] | None = None,
    max_gap: DurationLike = None,
    min_points: int = 1,
    min_duration: DurationLike = None,
) -> FrameT:
    """One row per visit of a vessel to a zone: the `by` columns, the zone, `enter` and `exit`
    (times of the visit's first and last positions), `duration` (exit - enter) and `points`,
    sorted by `by` and `enter`. A LazyFrame gives a LazyFrame, a DataFrame a DataFrame.

    `frame` has a zone column (as `tag` makes it), a time column (Datetime, Date or numbers)
    and optionally the vessel column(s) `by`. `max_gap`: consecutive positions further apart
    in time end the visit (a timedelta or a string like "6h"; a number in the time column's
    units when the time is numeric). `min_points` / `min_duration`: runs of positions with
    fewer points or a shorter span are jitter, dropped before neighbouring runs of the same
    zone are joined. The exact rules are in this module's docstring and the README.

    Vessel 1 goes from zone "a" to zone "b" by way of no zone; vessel 2 reports from "a" twice,
    100 time units apart, more than `max_gap`, so that is two visits:

    >>> import polars as pl
    >>> import polars_zones as pz
    >>> positions = pl.DataFrame(
    ...     {
    ...         "mmsi": [1, 1, 1, 1, 1, 2, 2],
    ...         "time": [0, 10, 20, 30, 40, 0, 100],
    ...         "zone": ["a", "a", None, "b", "b", "a", "a"],
    ...     }
    ... )
    >>> per_visit = pz.visits(positions, by="mmsi", max_gap=50)
    >>> per_visit.columns
    ['mmsi', 'zone', 'enter', 'exit', 'duration', 'points']
    >>> per_visit.rows()
    [(1, 'a', 0, 10, 10, 2), (1, 'b', 30, 40, 10, 2), (2, 'a', 0, 0, 0, 1), (2, 'a', 100, 100, 0, 1)]
    """
    columns: list[str] = _columns(by)
    return _run(
        frame,
        lambda lf: _visits_lazy(
            lf, zone=zone, time=time, by=columns, max_gap=max_gap, min_points=min_points, min_duration=min_duration
        ),
    )


def time_in_zone(
    frame: FrameT,
    *,
    zone: str = "zone",
    time: str = "time",
    by: str | Sequence[str] | None = None,
    max_gap: DurationLike = None,
    min_points: int = 1,
    min_duration: DurationLike = None,
) -> FrameT:
    """One row per (`by`, zone): total `duration` of the visits, their count (`visits`) and
    their `points`, sorted by `by` and zone. Same arguments and rules as `visits`.

    One vessel (no `by`) visits zone "a" twice, from 0 to 10 and at 30, and zone "b" at 40:

    >>> import polars as pl
    >>> import polars_zones as pz
    >>> positions = pl.DataFrame({"time": [0, 10, 20, 30, 40], "zone": ["a", "a", None, "a", "b"]})
    >>> per_zone = pz.time_in_zone(positions)
    >>> per_zone.columns
    ['zone', 'duration', 'visits', 'points']
    >>> per_zone.rows()
    [('a', 10, 2, 3), ('b', 0, 1, 1)]
    """
    columns: list[str] = _columns(by)

    # The visits under the plan's own names, so that the vessel and zone columns may be called
    # like the visits' columns, which are not in this output.
    names = [f"{_HELPER}{name}" for name in OUTPUT_COLUMNS]

    def build(lf: pl.LazyFrame) -> pl.LazyFrame:
        per_visit = _visits_lazy(
            lf,
            zone=zone,
            time=time,
            by=columns,
            max_gap=max_gap,
            min_points=min_points,
            min_duration=min_duration,
            outputs=("duration", "visits", "points"),
            names=names,
            caller="time_in_zone",
        )
        return (
            per_visit.group_by(*columns, zone)
            .agg(duration=pl.col(names[2]).sum(), visits=pl.len(), points=pl.col(names[3]).sum())
            .sort([*columns, zone])
        )

    return _run(frame, build)


class _FrameVisits(Generic[FrameT]):
    def __init__(self, frame: FrameT) -> None:
        self._frame: FrameT = frame

    def visits(self, **kwargs: Any) -> FrameT:
        """`polars_zones.visits(frame, **kwargs)`."""
        return visits(self._frame, **kwargs)

    def time_in_zone(self, **kwargs: Any) -> FrameT:
        """`polars_zones.time_in_zone(frame, **kwargs)`."""
        return time_in_zone(self._frame, **kwargs)


@pl.api.register_lazyframe_namespace("zones")
class LazyZonesNamespace(_FrameVisits[pl.LazyFrame]):
    """`lf.zones.visits(...)` and `lf.zones.time_in_zone(...)` (lazy in, lazy out)."""


@pl.api.register_dataframe_namespace("zones")
class DataFrameZonesNamespace(_FrameVisits[pl.DataFrame]):
    """`df.zones.visits(...)` and `df.zones.time_in_zone(...)`."""
