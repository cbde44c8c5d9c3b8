"""The fixed cost of one collect with a detailed index: a 1-row frame, so the kernel itself
costs nothing and what is left is planning, kwargs handling and the cache lookup. Measured
with Polars' default optimizations and with common-subexpression elimination off, because
that pass hashes every expression, the plugin's kwargs (the whole serialized index) included.

    python bench/call_overhead.py [ZONES.geojson]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import polars as pl

import polars_zones as pz

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "countries-maritime-10m.geojson"


def main() -> None:
    source = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    zones = pz.Zones.from_geojson(source, id_property="A3")
    print(f"{zones!r}: serialized index {len(zones.to_bytes()) / 1e6:.1f} MB")
    one_row = pl.DataFrame({"lat": [1.0], "lon": [2.0]}).lazy()
    settings = {
        "default optimizations": pl.QueryOptFlags(),
        "comm_subexpr_elim=False": pl.QueryOptFlags(comm_subexpr_elim=False),
    }
    lat = pl.col("lat").zones
    expressions = {
        "tag": lat.tag("lon", polygons=zones),
        "tag_all": lat.tag_all("lon", polygons=zones),
        "within": lat.within("lon", polygons=zones),
        # The plugin call under another expression: the pass hashes it once more.
        'tag == "NOR"': lat.tag("lon", polygons=zones) == "NOR",
        "within.not_()": lat.within("lon", polygons=zones).not_(),
    }
    for name, expression in expressions.items():
        lf = one_row.select(expression)
        for label, flags in settings.items():
            times = []
            for _ in range(9):
                t = time.perf_counter()
                lf.collect(optimizations=flags)
                times.append(time.perf_counter() - t)
            print(f"{name}, {label}: {statistics.median(times) * 1000:.1f} ms per collect (median of 9)")


if __name__ == "__main__":
    main()
