"""The summary tables that `polars-zones tag`, `polars-zones visits` and the demo print:
rows per zone of a tagged frame, and visits per zone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from rich.table import Table


def zone_counts(tagged: pl.LazyFrame, lat: str, lon: str, column: str) -> pl.DataFrame:
    """Rows per (zone, coordinates valid) of a tagged frame, for `summary_table`."""
    valid = pl.col(lat).is_not_null() & pl.col(lon).is_not_null() & pl.col(lat).is_between(-90, 90)
    valid = valid & pl.col(lat).is_finite() & pl.col(lon).is_finite()
    return (
        tagged.group_by(zone=pl.col(column), valid=valid.fill_null(False))
        .agg(rows=pl.len())
        .collect(engine="streaming")
    )


def summary_table(counts: pl.DataFrame, rows: int, seconds: float, top: int) -> Table:
    """Rows per zone (the `top` largest, then the rest together), in no zone, invalid."""
    zoned = counts.filter(pl.col("zone").is_not_null() & pl.col("valid")).sort("rows", descending=True)
    outside = counts.filter(pl.col("zone").is_null() & pl.col("valid"))["rows"].sum()
    invalid = counts.filter(~pl.col("valid"))["rows"].sum()
    from rich.table import Table

    table = Table(title=f"{rows:,} rows in {seconds:.2f} s ({rows / max(seconds, 1e-9) / 1e6:.1f}M rows/s)")
    table.add_column("zone")
    table.add_column("rows", justify="right")
    table.add_column("share", justify="right")

    def add(label: str, n: float | Decimal, **style: Any) -> None:
        table.add_row(label, f"{n:,}", f"{n / max(rows, 1):.2%}", **style)

    for zone, n in zoned.head(top).select("zone", "rows").iter_rows():
        add(str(zone), n)
    if zoned.height > top:
        add(f"({zoned.height - top} other zones)", zoned["rows"][top:].sum(), style="dim")
    add("in no zone", outside, end_section=False)
    add("invalid coordinates", invalid)
    return table


def format_duration(value: dt.timedelta | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        days, rest = divmod(seconds, 86_400)
        hours, rest = divmod(rest, 3_600)
        minutes, seconds = divmod(rest, 60)
        parts = [
            f"{days}d" if days else "",
            f"{hours}h" if hours else "",
            f"{minutes}m" if minutes and not days else "",
            f"{seconds}s" if seconds and not days and not hours else "",
        ]
        return " ".join(p for p in parts if p) or "0s"
    return f"{value:,.6g}"


def visits_summary(visits: pl.LazyFrame, column: str, by: list[str]) -> pl.DataFrame:
    """Per zone: visits, vessels, median and total duration, points; most visited first."""
    vessels = pl.struct(by).n_unique() if by else pl.lit(1, dtype=pl.UInt32)
    return (
        visits.group_by(column)
        .agg(
            visits=pl.len(),
            vessels=vessels,
            median=pl.col("duration").median(),
            total=pl.col("duration").sum(),
            points=pl.col("points").sum(),
        )
        .sort(["visits", column], descending=[True, False])
        .collect(engine="streaming")
    )


def visits_table(summary: pl.DataFrame, column: str, title: str, top: int) -> Table:
    from rich.table import Table

    table = Table(title=title)
    for name in ("zone", "visits", "vessels", "median time in zone", "total time in zone", "positions"):
        table.add_column(name, justify="left" if name == "zone" else "right")
    for row in summary.head(top).iter_rows(named=True):
        table.add_row(
            str(row[column]),
            f"{row['visits']:,}",
            f"{row['vessels']:,}",
            format_duration(row["median"]),
            format_duration(row["total"]),
            f"{row['points']:,}",
        )
    if summary.height > top:
        rest = summary[top:]
        table.add_row(
            f"({rest.height} other zones)",
            f"{rest['visits'].sum():,}",
            "",
            "",
            "",
            f"{rest['points'].sum():,}",
            style="dim",
        )
    return table
