"""The `polars-zones` command: tag point files, build and inspect saved indexes, run the demo.

    polars-zones tag points/*.parquet --zones zones.geojson --id-property A3 -o tagged.parquet
    polars-zones visits points/*.parquet --zones zones.pzi --time timestamp --by mmsi --max-gap 6h -o visits.parquet
    polars-zones tag ais.csv --zones zones.gpkg --id-property A3 --keep-properties NAME -o tagged.parquet
    polars-zones index build zones.geojson --id-property A3 -o zones.pzi
    polars-zones index info zones.pzi
    polars-zones demo

User mistakes (a missing file or column, bad GeoJSON, a damaged index) end with a one-line
`error: ...` on stderr and exit status 1 (2 for bad command-line usage), never a traceback,
and never leave a partial output file behind: output goes to a temporary file in the target
directory and is renamed into place only when complete.
"""

from __future__ import annotations

import enum
import os
import shutil
import signal
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, List, Optional

import polars as pl
import typer

import polars_zones as pz
from polars_zones._cli_io import (
    DISTANCE_COLUMN,
    POINT_FORMATS,
    UserError,
    check_columns,
    console,
    coordinates,
    detect_coordinates,
    empty_as_numbers,
    expand_points,
    join_properties,
    load_zones,
    move_into_place,
    note,
    output_format,
    parse_distance,
    polars_message,
    property_names,
    require_output_dir,
    scan_points,
    sink_with_progress,
    temporary_path,
)
from polars_zones._report import summary_table, zone_counts

if TYPE_CHECKING:
    from rich.table import Table

# `detect_coordinates` is the rule the README names for other commands, here as before.
__all__ = ["app", "detect_coordinates", "main"]

app = typer.Typer(
    help="Tag points with the polygon zone that contains them (a compiled Polars plugin).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def print_version(value: bool) -> None:
    if value:
        print(f"polars-zones {pz.__version__}")
        raise typer.Exit()


@app.callback()
def options(
    version: bool = typer.Option(
        False, "--version", callback=print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Tag points with the polygon zone that contains them (a compiled Polars plugin)."""


index_app = typer.Typer(help="Build and inspect saved zone indexes (.pzi files).", no_args_is_help=True)
app.add_typer(index_app, name="index")


class Engine(str, enum.Enum):
    polars = "polars"
    ray = "ray"


class Boundary(str, enum.Enum):
    half_open = "half-open"
    inclusive = "inclusive"
    exclusive = "exclusive"


# Arguments `tag` and `visits` share, declared once so their help cannot drift apart.
PointFiles = Annotated[
    List[str], typer.Argument(metavar="POINTS...", help="Point files (Parquet, CSV, NDJSON), globs or directories.")
]
ZonesSource = Annotated[
    str,
    typer.Option(
        "--zones",
        "-z",
        help="Zones: GeoJSON, GeoParquet, Shapefile, GeoPackage, FlatGeobuf, or a saved index (.pzi).",
    ),
]
IdProperty = Annotated[Optional[str], typer.Option(help="Feature property (attribute) that names the zones.")]
LatColumn = Annotated[
    Optional[str],
    # As show_default, not in the help text: rich reads "[...]" in help as markup and drops it.
    typer.Option(help="Latitude column.", show_default="found among lat, latitude, y, in any case"),
]
LonColumn = Annotated[
    Optional[str],
    typer.Option(help="Longitude column.", show_default="found among lon, lng, long, longitude, x, in any case"),
]
BoundaryRule = Annotated[Boundary, typer.Option(help="Where points exactly on a border go.")]
SummaryTop = Annotated[int, typer.Option(min=0, help="Zones listed in the summary.")]
Quiet = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="No progress bar and no summary: only the line naming the output (the summary reads the output back).",
    ),
]
ZonesLayer = Annotated[Optional[str], typer.Option(help="The layer of a multi-layer zones file (GeoPackage).")]
ZonesWhere = Annotated[Optional[str], typer.Option(help="Only the zone features matching this attribute filter (SQL).")]


def tag_files(
    points: list[str],
    zones_path: str,
    output: Path,
    *,
    id_property: str | None = None,
    lat: str | None = None,
    lon: str | None = None,
    boundary: str = "half-open",
    column: str = "zone",
    top: int = 20,
    quiet: bool = False,
    engine: str = "polars",
    address: str | None = None,
    keep_properties: Sequence[str] = (),
    zones_layer: str | None = None,
    zones_where: str | None = None,
    nearest: bool = False,
    max_distance: float | None = None,
) -> None:
    """`polars-zones tag`: `lat`/`lon` None are found among common names (`detect_coordinates`).
    With `nearest`, the zone column holds the nearest zone within `max_distance` metres and a
    `distance_m` column is added. With `quiet`, neither the progress bar nor the summary, so
    neither the row count it needs nor the second read of the output that counts the zones."""
    files = expand_points(points, output, (column,))
    if max_distance is not None and not nearest:
        raise UserError("--max-distance needs --nearest")
    if engine == "ray":
        if keep_properties or nearest:
            raise UserError("--keep-properties and --nearest are not available with --engine ray")
        return tag_files_ray(
            files,
            zones_path,
            output,
            id_property=id_property,
            lat=lat,
            lon=lon,
            boundary=boundary,
            column=column,
            top=top,
            quiet=quiet,
            address=address,
            layer=zones_layer,
            where=zones_where,
        )
    kind = output_format(output)
    zones = load_zones(zones_path, id_property, zones_layer, zones_where)
    try:
        lat, lon = coordinates(scan_points(files).collect_schema(), lat, lon)
        lf = scan_points(files, numbers=(lat, lon))
        schema = lf.collect_schema()
        lf = empty_as_numbers(lf, schema, lat, lon)
        schema = lf.collect_schema()
        total = None
        if not quiet and all(POINT_FORMATS[f.suffix.lower()] == "parquet" for f in files):
            total = scan_points(files).select(pl.len()).collect().item()  # Parquet: footers only
    except pl.exceptions.PolarsError as error:
        raise UserError(f"cannot read the points: {polars_message(error)}") from None
    check_columns(schema, lat, lon, column)
    if nearest and DISTANCE_COLUMN in schema:
        raise UserError(f"the points already have a column {DISTANCE_COLUMN!r}")

    if nearest:
        near = {"polygons": zones, "boundary": boundary, "max_distance": max_distance}
        namespace = pl.col(lat).zones  # type: ignore[attr-defined]
        tagged = lf.with_columns(
            namespace.nearest(lon, **near).alias(column), namespace.distance(lon, **near).alias(DISTANCE_COLUMN)
        )
    else:
        tag = pl.col(lat).zones.tag(lon, polygons=zones, boundary=boundary)  # type: ignore[attr-defined]
        tagged = lf.with_columns(tag.alias(column))
    if keep_properties:
        distance = [DISTANCE_COLUMN] if nearest else []
        tagged = join_properties(tagged, zones, column, list(keep_properties), schema, distance)
    tmp = temporary_path(output)
    try:
        t = time.perf_counter()
        try:
            # --nearest runs two plugin expressions on each row: nearest and distance.
            sink_with_progress(tagged, tmp, kind, total, quiet, calls_per_row=2 if nearest else 1)
        except pl.exceptions.PolarsError as error:
            raise UserError(f"tagging failed: {polars_message(error)}") from None
        except OSError as error:
            raise UserError(f"cannot write {str(output)!r}: {error}") from None
        seconds = time.perf_counter() - t
        counts = None
        if not quiet:
            if kind == "parquet":
                written = pl.scan_parquet(tmp, glob=False)
            else:
                written = pl.scan_csv(tmp, glob=False, schema_overrides={column: pl.String})
            counts = zone_counts(written, lat, lon, column)
        move_into_place(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    if counts is not None:
        console().print(summary_table(counts, int(counts["rows"].sum()), seconds, top))
    columns = (column, *((DISTANCE_COLUMN,) if nearest else ()), *keep_properties)
    added = ", ".join(repr(c) for c in columns)
    print(f"wrote {output} ({kind}, {'column' if len(columns) == 1 else 'columns'} {added} added)")


def tag_files_ray(
    files: list[Path],
    zones_path: str,
    output: Path,
    *,
    id_property: str | None,
    lat: str | None,
    lon: str | None,
    boundary: str,
    column: str,
    top: int,
    quiet: bool,
    address: str | None,
    layer: str | None,
    where: str | None,
) -> None:
    """`tag --engine ray`: Parquet files in, a folder of Parquet files out, on a Ray cluster."""
    from polars_zones import ray as zones_ray  # imports without Ray, and then refuses to run

    try:
        zones_ray._require_ray()
    except ImportError:
        raise UserError("--engine ray needs Ray Data: pip install 'polars-zones[ray]'") from None
    not_parquet = [str(f) for f in files if POINT_FORMATS[f.suffix.lower()] != "parquet"]
    if not_parquet:
        raise UserError(f"--engine ray reads Parquet only; not Parquet: {', '.join(not_parquet[:3])}")
    if output.exists():
        raise UserError(f"output {str(output)!r} already exists; --engine ray writes a new directory")
    require_output_dir(output)
    zones = load_zones(zones_path, id_property, layer, where)
    schema = scan_points(files).collect_schema()
    lat, lon = coordinates(schema, lat, lon)
    check_columns(schema, lat, lon, column)
    tmp = temporary_path(output)
    try:
        t = time.perf_counter()
        try:
            zones_ray.tag_parquet_files(
                [str(f) for f in files],
                zones,
                str(tmp),
                address=address,
                lat=lat,
                lon=lon,
                out=column,
                boundary=boundary,
                progress=not quiet,
            )
        except ConnectionError as error:
            raise UserError(f"cannot reach the Ray cluster: {error}") from None
        seconds = time.perf_counter() - t
        parts = [str(p) for p in sorted(tmp.glob("*.parquet"))]  # not a Polars glob: tmp may hold "["
        counts = None if quiet else zone_counts(pl.scan_parquet(parts, glob=False), lat, lon, column)
        os.replace(tmp, output)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if counts is not None:
        console().print(summary_table(counts, int(counts["rows"].sum()), seconds, top))
    print(f"wrote {output}/ (a folder of Parquet files, column {column!r} added)")


# ---- commands -----------------------------------------------------------------------------


@app.command("tag")
def tag_command(
    points: PointFiles,
    zones: ZonesSource,
    output: Path = typer.Option(..., "--output", "-o", help="Output file: .parquet or .csv."),
    id_property: IdProperty = None,
    lat: LatColumn = None,
    lon: LonColumn = None,
    boundary: BoundaryRule = Boundary.half_open,
    column: str = typer.Option("zone", help="Name of the added zone column."),
    top: SummaryTop = 20,
    quiet: Quiet = False,
    engine: Engine = typer.Option(
        Engine.polars,
        help="polars: one process, streaming. ray: Parquet in, a folder of Parquet out, on a Ray cluster.",
    ),
    address: Optional[str] = typer.Option(
        None,
        help="With --engine ray: the cluster to join (e.g. auto, or ray://host:10001); default: start a local one.",
    ),
    keep_properties: Optional[str] = typer.Option(
        None, help="Zone properties to add beside the zone column: NAME,NAME,..."
    ),
    zones_layer: ZonesLayer = None,
    zones_where: ZonesWhere = None,
    nearest: bool = typer.Option(
        False,
        "--nearest",
        help="The zone column holds the nearest zone (the zone containing the point, if any), "
        "and a distance_m column the distance to it in metres.",
    ),
    max_distance: Optional[str] = typer.Option(
        None,
        help="With --nearest: how far to look, e.g. 500m, 20km, 12nm (nautical miles); farther points get no zone.",
    ),
) -> None:
    """Add a zone column to point files, streaming: memory stays bounded whatever the input size."""
    tag_files(
        points,
        zones,
        output,
        id_property=id_property,
        lat=lat,
        lon=lon,
        boundary=boundary.value,
        column=column,
        top=top,
        quiet=quiet,
        engine=engine.value,
        address=address,
        keep_properties=property_names(keep_properties),
        zones_layer=zones_layer,
        zones_where=zones_where,
        nearest=nearest,
        max_distance=None if max_distance is None else parse_distance(max_distance),
    )


@app.command("visits")
def visits_command(
    points: PointFiles,
    zones: ZonesSource,
    time_column: str = typer.Option(..., "--time", help="Time column: Datetime, Date, numbers, or ISO 8601 text."),
    output: Path = typer.Option(..., "--output", "-o", help="Output file, one row per visit: .parquet or .csv."),
    by: Optional[List[str]] = typer.Option(
        None, "--by", help="Vessel column (repeat for several); default: one vessel."
    ),
    max_gap: Optional[str] = typer.Option(
        None, help="Positions further apart in time end a visit: 30s, 10m, 6h, 2d (a number for numeric times)."
    ),
    min_points: int = typer.Option(
        1, help="Runs of fewer positions are jitter: dropped, and the runs around them joined."
    ),
    min_duration: Optional[str] = typer.Option(None, help="Runs shorter in time are jitter too: 10m, 1h, ..."),
    buckets: Optional[int] = typer.Option(
        None, help="Sort in this many buckets by vessel (default: enough for the memory available)."
    ),
    id_property: IdProperty = None,
    lat: LatColumn = None,
    lon: LonColumn = None,
    boundary: BoundaryRule = Boundary.half_open,
    column: str = typer.Option("zone", help="Name of the zone column in the output."),
    top: SummaryTop = 20,
    quiet: Quiet = False,
    zones_layer: ZonesLayer = None,
    zones_where: ZonesWhere = None,
) -> None:
    """Tag point files and build each vessel's zone visits (enter, exit, duration), streaming."""
    from polars_zones._cli_visits import visits_files

    visits_files(
        points,
        zones,
        output,
        time_column=time_column,
        by=by or [],
        id_property=id_property,
        lat=lat,
        lon=lon,
        boundary=boundary.value,
        column=column,
        max_gap=max_gap,
        min_points=min_points,
        min_duration=min_duration,
        buckets=buckets,
        top=top,
        quiet=quiet,
        zones_layer=zones_layer,
        zones_where=zones_where,
    )


@index_app.command("build")
def index_build(
    zones: str = typer.Argument(
        ..., metavar="ZONES", help="A zone file: GeoJSON, GeoParquet, Shapefile, GeoPackage, FlatGeobuf."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Index file to write (.pzi)."),
    id_property: Optional[str] = typer.Option(None, help="Feature property that names the zones."),
    layer: Optional[str] = typer.Option(None, help="The layer of a multi-layer file (GeoPackage)."),
    where: Optional[str] = typer.Option(None, help="Only the features matching this attribute filter (SQL)."),
) -> None:
    """Build the index of a zone file once and save it (with the zones' properties)."""
    if output.is_dir():
        raise UserError(f"output {str(output)!r} is a directory; name a .pzi file")
    if Path(zones).exists() and Path(zones).resolve() == output.resolve():
        raise UserError(f"output {str(output)!r} is the zone file itself; write the index elsewhere")
    require_output_dir(output)
    t = time.perf_counter()
    built = load_zones(zones, id_property, layer, where)
    seconds = time.perf_counter() - t
    try:
        built.save(output)
    except OSError as error:
        raise UserError(f"cannot write {str(output)!r}: {error}") from None
    console().print(f"built {built!r} in {seconds:.2f} s")
    console().print(info_table(built, output))


def info_table(zones: pz.Zones, path: Path) -> Table:
    size = path.stat().st_size
    from rich.table import Table

    table = Table(title=str(path), show_header=False)
    table.add_column("field")
    table.add_column("value")
    ids = zones.ids
    table.add_row("zones", f"{len(zones):,}")
    table.add_row("names", "unnamed" if ids is None else ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else ""))
    table.add_row("vertices", f"{zones.num_vertices:,}")
    bounds = zones.bounds
    table.add_row(
        "bounds (lon, lat)", "none" if bounds is None else "({:.4f}, {:.4f}) to ({:.4f}, {:.4f})".format(*bounds)
    )
    table.add_row("file size", f"{size:,} bytes ({size / max(zones.num_vertices, 1):.1f} per vertex)")
    table.add_row("in memory", f"{zones.index_bytes:,} bytes")
    table.add_row("fingerprint", zones.fingerprint)
    return table


@index_app.command("info")
def index_info(path: Path = typer.Argument(..., metavar="ZONES.pzi", help="A saved index (.pzi).")) -> None:
    """Describe a saved index (checks it in full)."""
    zones = load_zones(str(path), None)
    console().print(info_table(zones, path))


@app.command("demo")
def demo_command(
    points: int = typer.Option(2_000_000, min=0, help="Synthetic vessel positions to tag (2,000 per vessel)."),
    seed: int = typer.Option(42, help="Seed of the generator (same seed, same points)."),
    png: Path = typer.Option(Path("polars-zones-demo.png"), help="Where to write the map."),
    no_map: bool = typer.Option(False, "--no-map", help="Draw no map (without matplotlib, the map is skipped anyway)."),
) -> None:
    """Tag synthetic vessel tracks with the bundled maritime zones; print positions and visits per zone, draw a map."""
    from polars_zones.demo import run_demo

    run_demo(points=points, seed=seed, png=None if no_map else png, console=console())


def interrupt_once(signum: int, frame: object) -> None:
    """SIGINT: a KeyboardInterrupt, unless one is already being handled. With Python's own
    handler, a Ctrl-C during a Polars query raised two (Polars' and then Python's), and the
    second landed in the `finally` that removes the temporary output, skipping it; with this
    handler Polars raises the handler's one, and the cleanup always runs to its end."""
    if not isinstance(sys.exc_info()[1], KeyboardInterrupt):
        raise KeyboardInterrupt


def plain_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> str:
    """A warning as one line, like the command's notes (Python's format adds the source line
    that raised it, which means nothing to a user of the command)."""
    return f"warning: {message}\n"


def main() -> None:
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not where SIGINT is ignored
        signal.signal(signal.SIGINT, interrupt_once)
    warnings.formatwarning = plain_warning
    try:
        app()
    except UserError as error:
        note(f"error: {error}")
        sys.exit(1)
    except MemoryError:
        note("error: out of memory")
        sys.exit(1)
    except KeyboardInterrupt:
        note("interrupted")
        sys.exit(130)
    except BaseException as error:  # a case no check foresaw: still one line
        # A Rust panic is a BaseException named PanicException, one class per copy of pyo3:
        # Polars' and this extension's are different classes, so it is known by its name.
        unforeseen = isinstance(error, Exception) or type(error).__name__ == "PanicException"
        if not unforeseen or os.environ.get("POLARS_ZONES_TRACEBACK", "0") not in ("", "0"):
            raise
        note(f"error: {type(error).__name__}: {error} (unexpected: POLARS_ZONES_TRACEBACK=1 shows where)")
        sys.exit(1)


if __name__ == "__main__":
    main()
