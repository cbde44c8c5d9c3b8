"""One tool, one zone set, one points file: timed in a fresh process.

    python bench/tools.py TOOL ZONES.geojson POINTS.parquet RUNS ZONES_OUT.npy [SUBSAMPLE]

Prints one JSON line: {"tool", "seconds": [...], "points", "peak_rss"} and saves the first
zone index per point (-1 for none) to ZONES_OUT.npy for the agreement check.
Each tool is written the way its users write it (see the README's benchmark section).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import numpy as np
import polars as pl


def load_points(path: str, subsample: int | None):
    df = pl.read_parquet(path)
    if subsample:
        df = df.head(subsample)
    return df


def run_polars_zones(zones_path, df, runs, engine="in-memory"):
    import polars_zones as pz

    zones = pz.Zones.from_geojson(zones_path, id_property="A3")
    lf = df.lazy().select(pl.col("lat").zones.tag("lon", polygons=zones))
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = lf.collect(engine=engine)
        times.append(time.perf_counter() - t)
    codes = out.to_series().to_physical().cast(pl.Int32).fill_null(-1).to_numpy()
    return times, codes


def zone_geometries(zones_path):
    import shapely
    from shapely.geometry import shape

    features = json.loads(open(zones_path).read())["features"]
    geoms = np.array([shape(f["geometry"]) for f in features], dtype=object)
    return geoms, shapely


def run_shapely(zones_path, df, runs):
    """The usual shapely 2 loop: per zone, a bounding-box prefilter, then contains_xy on a
    prepared geometry; first zone wins."""
    geoms, shapely = zone_geometries(zones_path)
    shapely.prepare(geoms)
    bounds = shapely.bounds(geoms)
    lat, lon = df["lat"].to_numpy(), df["lon"].to_numpy()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        zone = np.full(len(lat), -1, dtype=np.int32)
        for i in range(len(geoms) - 1, -1, -1):  # reversed, so the first zone wins
            x0, y0, x1, y1 = bounds[i]
            cand = np.flatnonzero((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))
            inside = shapely.contains_xy(geoms[i], lon[cand], lat[cand])
            zone[cand[inside]] = i
        times.append(time.perf_counter() - t)
    return times, zone


def run_geopandas(zones_path, df, runs):
    """geopandas sjoin(predicate="within") of a points GeoDataFrame against the zones."""
    import geopandas as gpd

    zones = gpd.read_file(zones_path)
    lat, lon = df["lat"].to_numpy(), df["lon"].to_numpy()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=zones.crs)
        joined = gpd.sjoin(points, zones, how="left", predicate="within")
        times.append(time.perf_counter() - t)
    first = joined["index_right"].groupby(level=0).min()
    zone = first.fillna(-1).astype(np.int32).reindex(range(len(lat)), fill_value=-1).to_numpy()
    return times, zone


def run_matplotlib(zones_path, df, runs):
    """matplotlib Path.contains_points, one call per polygon part (holes as sub-paths)."""
    from matplotlib.path import Path
    from shapely.geometry import shape

    features = json.loads(open(zones_path).read())["features"]
    paths = []
    for i, f in enumerate(features):
        g = shape(f["geometry"])
        for part in getattr(g, "geoms", [g]):
            verts, codes = [], []
            for ring in [part.exterior, *part.interiors]:
                c = np.asarray(ring.coords)
                verts.append(c)
                codes.append([Path.MOVETO] + [Path.LINETO] * (len(c) - 2) + [Path.CLOSEPOLY])
            paths.append((i, Path(np.concatenate(verts), np.concatenate(codes))))
    pts = np.column_stack([df["lon"].to_numpy(), df["lat"].to_numpy()])
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        zone = np.full(len(pts), -1, dtype=np.int32)
        for i, path in reversed(paths):
            zone[path.contains_points(pts)] = i
        times.append(time.perf_counter() - t)
    return times, zone


def sedonadb_context(zones_path, df):
    """A SedonaDB context on all cores with two views: `pts_raw` (pid, lon, lat) and
    `zones_raw` (zid = the zone's index in the GeoJSON, wkb from shapely)."""
    import pyarrow as pa
    import sedonadb
    import shapely

    geoms, _ = zone_geometries(zones_path)
    con = sedonadb.connect()
    con.sql(f"SET datafusion.execution.target_partitions = {os.cpu_count()}").execute()
    wkb = pa.array(shapely.to_wkb(geoms).tolist(), pa.binary())
    con.create_data_frame(pa.table({"zid": pa.array(np.arange(len(geoms)), pa.int64()), "wkb": wkb})).to_view(
        "zones_raw"
    )
    points = df.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("pid"), "lon", "lat")
    con.create_data_frame(points).to_view("pts_raw")
    return con


def run_sedonadb(zones_path, df, runs, split=False):
    """SedonaDB's spatial join `ON ST_Contains(z.geom, p.geom)`, points from `ST_Point(lon,
    lat)`, zones from `ST_GeomFromWKB`; with `split`, MultiPolygons cut into their parts by
    `ST_Dump` first (in the query). The (point, zone) pairs are collected to Arrow in the
    timed part; the first zone per point is taken afterwards, as for geopandas."""
    con = sedonadb_context(zones_path, df)
    if split:
        zones = "SELECT zid, get_field(unnest(ST_Dump(ST_GeomFromWKB(wkb))), 'geom') AS geom FROM zones_raw"
    else:
        zones = "SELECT zid, ST_GeomFromWKB(wkb) AS geom FROM zones_raw"
    query = (
        "SELECT p.pid, z.zid FROM (SELECT pid, ST_Point(lon, lat) AS geom FROM pts_raw) p "
        f"JOIN ({zones}) z ON ST_Contains(z.geom, p.geom)"
    )
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        pairs = con.sql(query).to_arrow_table()
        times.append(time.perf_counter() - t)
    first = pl.from_arrow(pairs).group_by("pid").agg(pl.col("zid").min())
    zone = np.full(df.height, -1, dtype=np.int32)
    zone[first["pid"].to_numpy()] = first["zid"].to_numpy()
    return times, zone


def peak_rss() -> int:
    """This process's peak resident memory. Not ru_maxrss: Linux carries that across
    execve, so a child would report its parent's peak; VmHWM starts afresh."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


TOOLS = {
    "polars-zones": run_polars_zones,
    "polars-zones-streaming": lambda z, d, r: run_polars_zones(z, d, r, engine="streaming"),
    "shapely": run_shapely,
    "geopandas": run_geopandas,
    "matplotlib": run_matplotlib,
    "sedonadb": run_sedonadb,
    "sedonadb-split": lambda z, d, r: run_sedonadb(z, d, r, split=True),
}


def main() -> None:
    tool, zones_path, points_path, runs, zones_out = (
        sys.argv[1],
        sys.argv[2],
        sys.argv[3],
        int(sys.argv[4]),
        sys.argv[5],
    )
    subsample = int(sys.argv[6]) if len(sys.argv) > 6 else None
    df = load_points(points_path, subsample)
    times, zone = TOOLS[tool](zones_path, df, runs)
    np.save(zones_out, zone)
    peak = peak_rss()
    print(
        json.dumps(
            {
                "tool": tool,
                "seconds": times,
                "points": df.height,
                "peak_rss": peak,
            }
        )
    )


if __name__ == "__main__":
    main()
