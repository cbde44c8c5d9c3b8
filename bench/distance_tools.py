"""One distance tool, one zone set, one points file: timed in a fresh process.

    python bench/distance_tools.py TOOL ZONES.geojson POINTS.parquet RUNS OUT.npz [SUBSAMPLE]

Prints one JSON line: {"tool", "seconds": [...], "points", "peak_rss", "first_call"} and saves
`distance` (metres, NaN where no zone is within the limit) and `zone` (the nearest zone's index
in the GeoJSON, -1 for none) to OUT.npz for the agreement check; a tool that answers only one of
the two saves only that one, one that answers neither `within` (a zone within the limit). The
limit is MAX_DISTANCE (50 km) except for "-unbounded" tools.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import polars as pl

from tools import load_points, peak_rss, sedonadb_context

MAX_DISTANCE = 50_000.0
# geopandas measures in the units of the CRS, so it needs a projected one; none keeps metres
# true worldwide. Web Mercator is the usual choice for global data (and the zones end at its
# latitude limit, 85.05°): its metres are ground metres only at the equator (÷ cos(latitude)
# elsewhere), and its distances are planar, not geodesic.
GEOPANDAS_CRS = "EPSG:3857"


def run_polars_zones(zones_path, df, runs, what, engine="in-memory"):
    """`pl.col("lat").zones.distance(...)` / `.nearest(...)` (or both) in a lazy select, zones
    built first; the nearest-edge structure is built on the first call (timed apart, on 1,000
    points, as `first_call`), so the timed runs reuse it as `tag` reuses its index."""
    import polars_zones as pz

    zones = pz.Zones.from_geojson(zones_path, id_property="A3")
    limit = None if what == "distance-unbounded" else MAX_DISTANCE
    lat = pl.col("lat").zones
    exprs = {
        "distance": lat.distance("lon", polygons=zones, max_distance=limit).alias("distance"),
        "zone": lat.nearest("lon", polygons=zones, max_distance=limit).alias("zone"),
    }
    if what != "distance+nearest":
        exprs.pop("distance" if what == "nearest" else "zone")
    t = time.perf_counter()
    df.head(1000).lazy().select(*exprs.values()).collect(engine=engine)
    first_call = time.perf_counter() - t
    lf = df.lazy().select(*exprs.values())
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = lf.collect(engine=engine)
        times.append(time.perf_counter() - t)
    result = {}
    if "distance" in out.columns:
        result["distance"] = out["distance"].fill_null(float("nan")).to_numpy()
    if "zone" in out.columns:
        result["zone"] = out["zone"].to_physical().cast(pl.Int32).fill_null(-1).to_numpy()
    return times, result, first_call


def run_geopandas(zones_path, df, runs):
    """geopandas `sjoin_nearest(how="left", max_distance=50 km, distance_col=...)` with points
    and zones reprojected to GEOPANDAS_CRS, as its docs tell users (distances are in CRS
    units). Timed: points_from_xy, to_crs of the points, the join; the zones are read and
    reprojected once, before. Ties (several zones at the same distance, such as a point in
    two zones): the first zone, as ours."""
    import geopandas as gpd

    zones = gpd.read_file(zones_path)[["geometry"]].to_crs(GEOPANDAS_CRS)
    lat, lon = df["lat"].to_numpy(), df["lon"].to_numpy()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(GEOPANDAS_CRS)
        joined = gpd.sjoin_nearest(points, zones, how="left", max_distance=MAX_DISTANCE, distance_col="distance")
        times.append(time.perf_counter() - t)
    first = (
        pl.DataFrame(
            {
                "pid": joined.index.to_numpy(),
                "zone": joined["index_right"].to_numpy(),
                "d": joined["distance"].to_numpy(),
            }
        )
        .drop_nans()
        .sort("pid", "zone")
        .group_by("pid", maintain_order=True)
        .first()
    )
    return times, scatter(df.height, first), None


def run_sedonadb(zones_path, df, runs, with_distance=True):
    """SedonaDB's geography join: points `ST_GeogPoint(lon, lat)`, zones cut into parts by
    `ST_Dump` (whole, s2geography misreads the data's invalid MultiPolygons, whose island
    shells nest in other shells: some then cover most of the sphere) and made
    `ST_ToGeography`; `JOIN ... ON ST_DWithin(p.g, z.g, 50000)` (metres on the sphere; the
    spatial join operator) with `ST_Distance(p.g, z.g)` per pair. 0.5 has no
    `ST_DistanceSphere`, and `ST_KNN` joins only planar geometry (degrees), without a limit.
    Timed: the query, collected to Arrow; the nearest pair per point is taken after. The join
    output carries each pair's zone geometry to ST_Distance, so batches are kept small
    (datafusion.execution.batch_size) to stay under Arrow's 2 GiB binary offsets (with the
    default 8,192 rows, 20,000 points failed with "Offset overflow"). ST_Distance dominates:
    on 2,000 points (3,477 pairs) the query took 18.2 s, the join alone 1.1 s (ad hoc).
    Without `with_distance`, the join alone: which points have a zone within 50 km."""
    con = sedonadb_context(zones_path, df)
    con.sql("SET datafusion.execution.batch_size = 256").execute()
    distance = ", ST_Distance(p.g, z.g) AS d" if with_distance else ""
    query = f"""
        SELECT p.pid, z.zid{distance}
        FROM (SELECT pid, ST_GeogPoint(lon, lat) AS g FROM pts_raw) p
        JOIN (SELECT zid, ST_ToGeography(get_field(unnest(ST_Dump(ST_GeomFromWKB(wkb))), 'geom')) AS g FROM zones_raw) z
        ON ST_DWithin(p.g, z.g, {MAX_DISTANCE})
    """
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        pairs = con.sql(query).to_arrow_table()
        times.append(time.perf_counter() - t)
    pairs = pl.from_arrow(pairs).rename({"zid": "zone"})
    if not with_distance:
        within = np.zeros(df.height, dtype=bool)
        within[pairs["pid"].to_numpy()] = True
        return times, {"within": within}, None
    best = pairs.sort("pid", "d", "zone").group_by("pid", maintain_order=True).first()
    return times, scatter(df.height, best), None


def scatter(n, best: pl.DataFrame) -> dict:
    """Per-point arrays from one (pid, zone, d) row per point that has a zone in reach."""
    zone = np.full(n, -1, dtype=np.int32)
    distance = np.full(n, np.nan)
    pid = best["pid"].cast(pl.Int64).to_numpy()
    zone[pid] = best["zone"].cast(pl.Int32).to_numpy()
    distance[pid] = best["d"].to_numpy()
    return {"zone": zone, "distance": distance}


TOOLS = {
    # The outer lambda's parameters bind this iteration's engine and what.
    f"polars-zones{suffix} {what}": (lambda engine, what: lambda z, d, r: run_polars_zones(z, d, r, what, engine))(  # noqa: B023
        engine, what
    )
    for suffix, engine in (("", "in-memory"), ("-streaming", "streaming"))
    for what in ("distance", "nearest", "distance+nearest", "distance-unbounded")
}
TOOLS["geopandas"] = run_geopandas
TOOLS["sedonadb"] = run_sedonadb
TOOLS["sedonadb-join-only"] = lambda z, d, r: run_sedonadb(z, d, r, with_distance=False)


def main() -> None:
    tool, zones_path, points_path, runs, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    subsample = int(sys.argv[6]) if len(sys.argv) > 6 else None
    df = load_points(points_path, subsample)
    times, result, first_call = TOOLS[tool](zones_path, df, runs)
    np.savez(out, **result)
    print(
        json.dumps(
            {"tool": tool, "seconds": times, "points": df.height, "peak_rss": peak_rss(), "first_call": first_call}
        )
    )


if __name__ == "__main__":
    main()
