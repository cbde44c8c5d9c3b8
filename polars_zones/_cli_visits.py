"""`polars-zones visits`: tag point files and build visits in one streaming query.

Memory: the visits need the positions sorted by vessel and time. Polars' streaming engine
sorts out of core: when the process nears its memory budget (a share of the machine's or the
cgroup's memory, or `POLARS_OOC_MEMORY_BUDGET_MB`), the sort spills its runs to files under
`POLARS_TEMP_DIR` (see the README for what was measured). For inputs much larger than memory
the command does not lean on that alone: with `--buckets N` (by default as many as the
estimated size of the sort needs) it first writes the tagged positions to N Parquet buckets by
a hash of the vessel key (one streaming pass), then builds the visits of each bucket on its
own, so that only one bucket is ever sorted at a time.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

import polars as pl

import polars_zones as pz
from polars_zones._cli_io import (
    POINT_FORMATS,
    UserError,
    check_columns,
    console,
    coordinates,
    empty_as_numbers,
    expand_points,
    load_zones,
    move_into_place,
    output_format,
    polars_message,
    scan_points,
    sink_with_progress,
    temporary_path,
)
from polars_zones._internal import points_seen
from polars_zones._report import visits_summary, visits_table
from polars_zones._visits import OUTPUT_COLUMNS, DurationLike

# Bytes per row a sort of (vessel, time, zone) holds, with its indexes and copies.
SORT_BYTES_PER_ROW = 64


def available_memory() -> int:
    """Memory this process may use: the smaller of MemAvailable and its cgroup's limit."""
    limits = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    for line in Path("/proc/self/cgroup").read_text().splitlines() if Path("/proc/self/cgroup").exists() else []:
        _, controllers, path = line.split(":", 2)
        for candidate in (
            Path("/sys/fs/cgroup" + path) / "memory.max",
            Path("/sys/fs/cgroup/memory" + path) / "memory.limit_in_bytes",
        ):
            if "memory" in controllers.split(",") or controllers == "":
                try:
                    text = candidate.read_text().strip()
                except OSError:
                    continue
                if text.isdigit() and int(text) < 1 << 60:
                    limits.append(int(text))
    return min(limits) if limits else 8 << 30


def estimated_rows(files: list[Path]) -> int:
    """Rows of the input: exact for Parquet (footers), from the file size otherwise."""
    parquet = [str(f) for f in files if POINT_FORMATS[f.suffix.lower()] == "parquet"]
    rows = pl.scan_parquet(parquet, glob=False).select(pl.len()).collect().item() if parquet else 0
    return rows + sum(f.stat().st_size // 40 for f in files if POINT_FORMATS[f.suffix.lower()] != "parquet")


def auto_buckets(rows: int) -> int:
    """One bucket while the sort fits a quarter of the available memory, else enough buckets
    that each one does."""
    budget = max(available_memory() // 4, 64 << 20)
    return max(1, math.ceil(rows * SORT_BYTES_PER_ROW / budget))


def threshold(value: str | None, option: str, dtype: pl.DataType) -> DurationLike:
    """A `--max-gap` / `--min-duration` value for a time column of `dtype`."""
    if value is None:
        return None
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        try:
            return pz.parse_duration(value)
        except ValueError as error:
            raise UserError(f"{option}: {error}") from None
    if dtype.is_integer():
        try:
            return int(value)  # exactly, beyond 2^53 too
        except ValueError:
            pass
    try:
        number = float(value)
    except ValueError:
        raise UserError(f"{option} {value!r}: the time column is {dtype}, so give a number in its units") from None
    return int(number) if number.is_integer() and dtype.is_integer() else number


def visits_files(
    points: list[str],
    zones_path: str,
    output: Path,
    *,
    time_column: str,
    by: list[str],
    id_property: str | None = None,
    lat: str | None = None,
    lon: str | None = None,
    boundary: str = "half-open",
    column: str = "zone",
    max_gap: str | None = None,
    min_points: int = 1,
    min_duration: str | None = None,
    buckets: int | None = None,
    top: int = 20,
    quiet: bool = False,
    zones_layer: str | None = None,
    zones_where: str | None = None,
) -> None:
    """`polars-zones visits`: `lat`/`lon` None are found among common names, as for `tag`."""
    files = expand_points(points, output, (column, *OUTPUT_COLUMNS))
    kind = output_format(output)
    zones = load_zones(zones_path, id_property, zones_layer, zones_where)
    try:
        lat, lon = coordinates(scan_points(files).collect_schema(), lat, lon)
        lf = scan_points(files, numbers=(lat, lon))
        lf = empty_as_numbers(lf, lf.collect_schema(), lat, lon)
        schema = lf.collect_schema()
    except pl.exceptions.PolarsError as error:
        raise UserError(f"cannot read the points: {polars_message(error)}") from None
    check_columns(schema, lat, lon, column)
    for role, name in [("time", time_column)] + [("vessel (--by)", b) for b in by]:
        if name not in schema:
            shown = ", ".join(list(schema.names())[:12])
            raise UserError(f"{role} column {name!r} not found; the points have columns: {shown}")
    roles = [time_column, *by]
    repeated = sorted({name for name in roles if roles.count(name) > 1})
    if repeated:
        raise UserError(f"column {repeated[0]!r} is given twice among --time and --by; each role needs its own column")
    time_expr = pl.col(time_column)
    if schema[time_column] == pl.String:  # CSV and NDJSON
        time_expr = iso_times(time_column)
    tag = pl.col(lat).zones.tag(lon, polygons=zones, boundary=boundary)  # type: ignore[attr-defined]
    tagged = lf.select(*by, time_expr, tag.alias(column))
    options: dict[str, Any] = dict(zone=column, time=time_column, by=by, min_points=min_points)
    time_dtype = tagged.collect_schema()[time_column]
    options["max_gap"] = threshold(max_gap, "--max-gap", time_dtype)
    options["min_duration"] = threshold(min_duration, "--min-duration", time_dtype)
    rows = estimated_rows(files)
    buckets = auto_buckets(rows) if buckets is None else buckets
    if buckets < 1:
        raise UserError("--buckets must be at least 1")
    try:
        plan = pz.visits(tagged, **options)
    except (pl.exceptions.PolarsError, ValueError, TypeError) as error:
        raise UserError(str(error).removeprefix("visits: ")) from None

    tmp = temporary_path(output)
    staging = output.with_name(tmp.name + ".staging")
    try:
        staging.mkdir()
    except OSError as error:
        raise UserError(f"cannot write {str(output)!r}: {error}") from None
    visits_parquet = staging / "visits.parquet"
    total = rows if all(POINT_FORMATS[f.suffix.lower()] == "parquet" for f in files) else None
    try:
        t, seen = time.perf_counter(), points_seen()
        try:
            if buckets == 1:
                sink_with_progress(plan, visits_parquet, "parquet", total, quiet)
            else:
                by_bucket(tagged, options, staging, visits_parquet, buckets, total, quiet)
            if kind == "csv":  # CSV has no duration type: ISO 8601 text (P2DT1H)
                durations = (
                    [pl.col("duration").dt.to_string()]
                    if time_dtype == pl.Date or isinstance(time_dtype, pl.Datetime)
                    else []
                )
                pl.scan_parquet(visits_parquet, glob=False).with_columns(*durations).sink_csv(tmp, engine="streaming")
            else:
                os.replace(visits_parquet, tmp)
        except pl.exceptions.PolarsError as error:
            message = polars_message(error).removeprefix("visits: ")  # the plan's own checks
            if schema[time_column] == pl.String and ("parse dates" in message or "from `str`" in message):
                message = f"cannot read time column {time_column!r} as ISO 8601 times: {message}"
                first = first_non_iso(lf, time_column)
                if first is not None and repr(first) not in message:
                    message += f" (the first that is not: {first!r})"
            raise UserError(f"visits failed: {message}") from None
        except OSError as error:
            raise UserError(f"cannot write {str(output)!r}: {error}") from None
        seconds = time.perf_counter() - t
        rows = points_seen() - seen  # every row goes through the tagging plugin once
        summary = None
        if not quiet:
            written = pl.scan_parquet(tmp if kind == "parquet" else visits_parquet, glob=False)
            summary = visits_summary(written, column, by)
        move_into_place(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    how = f"{buckets} buckets" if buckets > 1 else "one streaming query"
    if summary is not None:
        n = int(summary["visits"].sum())
        rate = rows / max(seconds, 1e-9) / 1e6
        title = f"{n:,} visits from {rows:,} rows in {seconds:.2f} s ({rate:.1f}M rows/s, {how})"
        console().print(visits_table(summary, column, title, top))
    print(f"wrote {output} ({kind}, one row per visit; {how})")


# An ISO 8601 time that ends in a UTC offset (Z, +02:00, +0200, -05) after its minutes or seconds.
_HAS_OFFSET = r":\d\d(?:[.,]\d+)?\s*(?:[Zz]|[+-]\d\d(?::?\d\d)?)$"
# An ISO 8601 date, or date and time (T or a space between, minutes or seconds, a fraction),
# with or without an offset: what `iso_times` reads.
_ISO_8601 = r"^\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:\s*(?:[Zz]|[+-]\d\d(?::?\d\d)?))?)?$"


def first_non_iso(points: pl.LazyFrame, column: str) -> str | None:
    """The first text of the time column that is not ISO 8601, for an error message (read up
    to it only)."""
    text = pl.col(column).str.strip_chars()
    try:
        found = points.select(column).filter(~text.str.contains(_ISO_8601)).head(1).collect()
    except pl.exceptions.PolarsError:
        return None
    return None if found.is_empty() else found.item()


def iso_times(column: str) -> pl.Expr:
    """A text column of ISO 8601 times as UTC Datetimes: each with an offset by its offset,
    each without as UTC, so a file may mix the two (one parse of the whole column infers one
    format from its first value and fails on the other kind). Polars would also guess other
    formats (01/02/2024 read day first, silently); a time that is not ISO 8601 is marked so
    that the strict parse fails (the command then names the first such time)."""
    text = pl.col(column).str.strip_chars()
    text = pl.when(text.str.contains(_ISO_8601)).then(text).otherwise(pl.lit("not ISO 8601: ") + text)
    offset = text.str.contains(_HAS_OFFSET)
    aware = pl.when(offset).then(text).str.to_datetime(time_unit="us", time_zone="UTC")
    naive = pl.when(~offset).then(text).str.to_datetime(time_unit="us").dt.replace_time_zone("UTC")
    return pl.when(offset).then(aware).otherwise(naive).alias(column)


def by_bucket(
    tagged: pl.LazyFrame,
    options: dict[str, Any],
    staging: Path,
    target: Path,
    buckets: int,
    total: int | None,
    quiet: bool,
) -> None:
    """Tagged positions to `buckets` Parquet buckets by a hash of the vessel key (one
    streaming pass), the visits of each bucket on its own, then all visits sorted into
    `target` (Parquet): only one bucket's positions are ever sorted at a time."""
    by = options["by"]
    key = pl.struct(by).hash(seed=0) % buckets if by else pl.lit(0, dtype=pl.UInt64)
    positions = staging / "positions"
    sink_with_progress(
        tagged, pl.PartitionBy(positions, key={"__visits_bucket": key}, include_key=False), "parquet", total, quiet
    )
    parts = []
    # No rows at all write no partition, and (Polars 2.1) not the directory either.
    written = sorted(p for p in positions.iterdir() if p.is_dir()) if positions.is_dir() else []
    for k, directory in enumerate(written):
        part = staging / f"visits-{k}.parquet"
        # Listed here, not by a Polars glob: the staging directory is named after the output,
        # which may hold "[" or "*".
        files = [str(f) for f in sorted(directory.rglob("*.parquet"))]
        pz.visits(pl.scan_parquet(files, glob=False), **options).sink_parquet(part, engine="streaming")
        parts.append(str(part))
    if not parts:  # no rows at all: the plan itself gives the empty frame with its schema
        parts_frame = pz.visits(tagged.head(0), **options)
    else:
        parts_frame = pl.scan_parquet(parts, glob=False).sort([*by, "enter"], maintain_order=True)
    parts_frame.sink_parquet(target, engine="streaming")
