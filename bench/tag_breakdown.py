"""Where the time of the 8M-point query goes: the kernel, the plugin call around it, the Enum.

    python bench/tag_breakdown.py                 # part of make bench
    perf record -g python bench/tag_breakdown.py  # the same runs, for a profile

On the 8M AIS-like points of bench/run.py (as read from Parquet: 65 chunks, and rechunked into
one) and the 10 m and simplified zones, in one process, rounds interleaved so that the
machine's noise falls on every variant alike (medians of 9 wall-clock times and of the
process's CPU time over each run):

- `tag_numpy`: the kernel alone, no Polars;
- the plugin expression with its UInt8 codes (no zone: a null over the code 0), without the
  cast to the Enum;
- `zones.tag(...)` as users write it (the codes cast to `pl.Enum(zones.ids)`), in-memory;
- the cast alone, on those codes (which Polars' cast walks row by row, for their nulls), and
  on the same codes with the code the Enum lacks for no zone and no null (a plain loop, but
  the nulls it makes hide that code, which Arrow IPC's reader refuses: what the plugin
  returned until it had to be readable back from pickle and IPC).

The differences between the rows are what Polars' side of the call costs.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import Callable

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from interleaved import interleaved_medians  # noqa: E402

import polars_zones as pz  # noqa: E402
from polars_zones._namespace import _call  # noqa: E402

from run import points_file, zone_set  # noqa: E402

ROUNDS = 9


def lacking(codes: pl.DataFrame, enum: pl.Enum) -> pl.DataFrame:
    """The non-strict cast of codes holding the code the Enum lacks: nulls over that code."""
    return codes.select(pl.all().cat.to(enum, strict=False))


def main() -> None:
    chunked = pl.read_parquet(points_file(8_000_000)).select("lat", "lon")
    one = chunked.rechunk()
    lat, lon = one["lat"].to_numpy(), one["lon"].to_numpy()
    print(f"{one.height:,} points; as read from Parquet, {chunked.n_chunks()} chunks")
    print("| zones | step | wall s (median) | CPU s (median) |")
    print("|---|---|---|---|")
    for name in ("10m", "simplified"):
        zones = pz.Zones.from_geojson(zone_set(name), id_property="A3")

        def codes(frame: pl.DataFrame) -> pl.DataFrame:
            expr = _call("zones_tag", pl.col("lat"), "lon", zones, "half-open", codes=pl.UInt8, enum_codes=True)  # noqa: B023
            return frame.lazy().select(expr).collect(engine="in-memory")

        def tag(frame: pl.DataFrame) -> pl.DataFrame:
            expr = pl.col("lat").zones.tag("lon", polygons=zones)  # noqa: B023
            return frame.lazy().select(expr).collect(engine="in-memory")

        as_codes = codes(one)
        as_lacking = as_codes.select(pl.all().fill_null(255))
        enum = pl.Enum(zones.ids)
        steps: dict[str, Callable[[], object]] = {
            "kernel alone (tag_numpy)": lambda: zones.tag_numpy(lat, lon),  # noqa: B023
            "plugin, UInt8 codes, 1 chunk": lambda: codes(one),  # noqa: B023
            "plugin, UInt8 codes, 65 chunks": lambda: codes(chunked),  # noqa: B023
            "zones.tag (codes cast to the Enum), 1 chunk": lambda: tag(one),  # noqa: B023
            "zones.tag (codes cast to the Enum), 65 chunks": lambda: tag(chunked),  # noqa: B023
            "the cast to the Enum alone": lambda: as_codes.select(pl.all().cat.to(enum)),  # noqa: B023
            "the cast, were no zone the code the Enum lacks": partial(lacking, as_lacking, enum),
        }
        for step in steps.values():
            step()
        for label, (wall, cpu) in interleaved_medians(steps, ROUNDS).items():
            print(f"| {name} | {label} | {wall:.3f} | {cpu:.2f} |", flush=True)


if __name__ == "__main__":
    main()
