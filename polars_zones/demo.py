"""The demo: synthetic ship positions tagged with the bundled maritime zones.

    python -m polars_zones.demo [--points N] [--seed S]
"""

from __future__ import annotations

import argparse
import time

import polars as pl

import polars_zones  # noqa: F401  (registers the `zones` namespace)
from polars_zones import datasets
from polars_zones.synthetic import ship_positions


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--points", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    t = time.perf_counter()
    zones = datasets.maritime_zones()
    built = time.perf_counter() - t
    print(f"zones: {zones!r}\n       built in {built:.2f} s; data {datasets.ATTRIBUTION}")

    positions = ship_positions(args.points, zones, seed=args.seed)
    print(f"points: {positions.height:,} synthetic ship positions (seed {args.seed}: coasts, lanes, open sea)")

    t = time.perf_counter()
    tagged = positions.lazy().with_columns(zone=pl.col("lat").zones.tag("lon", polygons=zones)).collect()
    took = time.perf_counter() - t
    print(f"tagged in {took:.3f} s ({positions.height / took / 1e6:.1f}M points/s, in-memory engine, lazy plan)\n")

    counts = (
        tagged.group_by("zone")
        .agg(points=pl.len())
        .with_columns(share=(pl.col("points") / positions.height * 100).round(2))
        .sort("points", descending=True)
    )
    in_zones = counts.filter(pl.col("zone").is_not_null())
    with pl.Config(tbl_rows=25, tbl_hide_dataframe_shape=True):
        print(f"points per zone (top 20 of {in_zones.height} zones with points):")
        print(in_zones.head(20))
    outside = counts.filter(pl.col("zone").is_null())["points"].sum()
    print(f"\nin no zone (open sea): {outside:,} points ({outside / positions.height:.1%})")


if __name__ == "__main__":
    main()
