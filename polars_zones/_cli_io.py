"""What the commands share (`polars-zones tag` in `cli`, `visits` in `_cli_visits`): point
files and zone files in, coordinate columns found, output files written through a temporary
file by Polars' streaming sink with a progress bar, and the user errors they report.
"""

from __future__ import annotations

import glob
import math
import os
import re
import sys
import threading
import uuid
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

import polars_zones as pz
from polars_zones._internal import INDEX_MAGIC, points_seen
from polars_zones._namespace import PLUGIN_FAILED

if TYPE_CHECKING:
    from rich.console import Console


# rich is imported when a table or a progress bar is first drawn, not with the command:
# messages are plain lines, so a `tag -q` never needs it, and importing it takes tens of
# milliseconds of every command's start.
@cache
def console() -> Console:
    """Standard output, for tables. Without markup: a zone name or a path is printed as it is,
    brackets and all, where rich would read "[...]" as a style (or fail on "[/]")."""
    from rich.console import Console

    return Console(markup=False)


def note(line: str) -> None:
    """A line on standard error (notes and errors), printed as it is."""
    print(line, file=sys.stderr, flush=True)


# Column names taken as coordinates when --lat/--lon are not given (compared case-insensitively):
# the first group with a match wins, so `lat`/`lon` columns are preferred over `x`/`y` ones.
LATITUDE_NAMES = (("lat", "latitude"), ("y",))
LONGITUDE_NAMES = (("lon", "lng", "long", "longitude"), ("x",))

POINT_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}
OUTPUT_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


class UserError(Exception):
    """A mistake in what the user asked for: reported in one line, exit status 1."""


# ---- inputs ---------------------------------------------------------------------------


def expand_points(patterns: list[str], output: Path | None = None, output_columns: Sequence[str] = ()) -> list[Path]:
    """Files named by paths, globs or directories (their point files, sorted). Globs and
    directories leave out the output and its temporary files (a second run would read the
    first one's output), if the output there has `output_columns` (else it is a file of
    points that the output would replace: refused); an output named as an input is refused."""
    target = None if output is None else output.resolve()

    def left_out(path: Path) -> bool:
        """Whether a file a glob or directory names is the output (or its temporary file),
        refusing an output there that an earlier run did not write."""
        if not is_output(path):
            return False
        if path.resolve() == target and output_columns:
            try:
                names = scan_points([path]).collect_schema().names()
                missing = [c for c in output_columns if c not in names]
                why = f"it has no column {missing[0]!r}" if missing else None
            except (pl.exceptions.PolarsError, OSError):
                why = "it cannot be read"
            if why is not None:
                raise UserError(
                    f"output {str(output)!r} is one of the inputs {str(path.parent)!r} holds, and no earlier "
                    f"output ({why}): writing it would replace it; write the output elsewhere"
                )
        return True

    def is_output(path: Path) -> bool:
        if target is None:
            return False
        path = path.resolve()
        return (
            path == target
            or path.parent == target.parent
            and path.name.startswith(f".{target.name}.")
            and path.suffix == ".tmp"
        )

    def found(paths: list[Path], nothing: str) -> list[Path]:
        kept = [p for p in paths if not left_out(p)]
        if not kept:
            raise UserError(nothing + (" other than the output" if paths else ""))
        return kept

    files: list[Path] = []
    for pattern in patterns:
        # A file or directory that exists is that one, even if its name looks like a glob
        # ("pts[1].csv").
        if Path(pattern).is_file():
            if is_output(Path(pattern)):
                raise UserError(f"output {str(output)!r} is also an input; write the output elsewhere")
            files.append(Path(pattern))
        elif Path(pattern).is_dir():
            inside = sorted(p for p in Path(pattern).iterdir() if p.suffix.lower() in POINT_FORMATS)
            files.extend(found(inside, f"no Parquet, CSV or NDJSON file in directory {pattern!r}"))
        elif glob.has_magic(pattern):
            matches = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
            files.extend(found(matches, f"no file matches {pattern!r}"))
        elif Path(pattern).exists():
            raise UserError(f"{pattern!r} is not a regular file (a pipe or a device?); give a file")
        else:
            raise UserError(f"no such file: {pattern!r}")
    for f in files:
        if f.suffix.lower() not in POINT_FORMATS:
            raise UserError(f"{str(f)!r}: unknown point format {f.suffix!r} (use .parquet, .csv, .ndjson or .jsonl)")
    return files


def scan_points(files: list[Path], numbers: Sequence[str] = ()) -> pl.LazyFrame:
    """One lazy frame over exactly these files (their names are not globs: "b[1].csv" is that
    file), one scan per format. `numbers`: columns that text formats read as Float64 rather
    than as the type guessed from their first rows (integers, or empty cells, at the top of a
    CSV column of coordinates)."""
    by_format: dict[str, list[str]] = {}
    for f in files:
        by_format.setdefault(POINT_FORMATS[f.suffix.lower()], []).append(str(f))
    floats: dict[str, pl.DataType] = {name: pl.Float64() for name in numbers}
    scans: list[tuple[str, pl.LazyFrame]] = []
    for kind, paths in by_format.items():
        if kind == "parquet":
            scans.append((kind, pl.scan_parquet(paths, glob=False)))
        elif kind == "csv":
            scans.extend((kind, scan) for scan in scan_csvs(paths, floats))
        else:  # scan_ndjson always expands globs: escape them
            scans.append((kind, pl.scan_ndjson([glob.escape(p) for p in paths], schema_overrides=floats or None)))
    if len(scans) == 1:
        return scans[0][1]
    check_kinds_agree(scans)
    return pl.concat([scan for _, scan in scans], how="diagonal_relaxed")


def check_kinds_agree(scans: list[tuple[str, pl.LazyFrame]]) -> None:
    """Refuses a column that is a date or time in some inputs and a number in others: joining
    them by column name (`diagonal_relaxed`) would turn the dates into their raw integers,
    in another unit than the numbers (epoch seconds beside microseconds), silently."""
    temporal: dict[str, tuple[str, pl.DataType]] = {}
    numeric: dict[str, tuple[str, pl.DataType]] = {}
    for kind, scan in scans:
        for name, dtype in scan.collect_schema().items():
            if dtype.is_temporal():
                temporal.setdefault(name, (kind, dtype))
            elif dtype.is_numeric():
                numeric.setdefault(name, (kind, dtype))
    for name in temporal.keys() & numeric.keys():
        (t_kind, t_type), (n_kind, n_type) = temporal[name], numeric[name]
        raise UserError(
            f"column {name!r} is {t_type} in the {t_kind} input and {n_type} in the {n_kind} input: "
            "convert one so that all inputs give it the same kind of value"
        )


def scan_csvs(paths: list[str], floats: dict[str, pl.DataType]) -> list[pl.LazyFrame]:
    """CSV files as one scan when their headers agree, which Polars' multi-file scan needs;
    else one scan per file, for `scan_points` to join by column name as it joins formats
    (columns in another order, or only in some files, are no error)."""
    overrides = floats or None
    headers = {tuple(pl.scan_csv(p, glob=False, n_rows=0).collect_schema().names()) for p in paths}
    if len(headers) == 1:
        return [pl.scan_csv(paths, glob=False, schema_overrides=overrides)]
    return [pl.scan_csv(p, glob=False, schema_overrides=overrides) for p in paths]


def load_zones(path: str, id_property: str | None, layer: str | None = None, where: str | None = None) -> pz.Zones:
    """A saved index (recognized by its magic bytes), or a zone file of any format
    `Zones.from_file` reads (GeoJSON, GeoParquet, Shapefile, GeoPackage, FlatGeobuf)."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"no such zones file: {path!r}")
    head = b""
    if p.is_file():
        with p.open("rb") as f:
            head = f.read(len(INDEX_MAGIC))
    if head == INDEX_MAGIC and id_property is not None and layer is None and where is None:
        note(f"note: {path} is a saved index; its zone names are fixed, --id-property is ignored")
        id_property = None  # said here in the command's words, not as the library's warning
    try:
        return pz.Zones.from_file(p, id_property=id_property, layer=layer, where=where)
    except (ValueError, UnicodeDecodeError, ImportError, OSError) as error:
        # Named once: the library's own messages name the file when it matters to them.
        raise UserError(str(error) if repr(path) in str(error) else f"zones {path!r}: {error}") from None


def detect_coordinates(
    schema: pl.Schema | list[str], *, lat: str | None = None, lon: str | None = None
) -> tuple[str, str]:
    """The latitude and longitude columns: `lat` and `lon` when given, else found among common
    names (`lat`, `latitude`, then `y`; `lon`, `lng`, `long`, `longitude`, then `x`; compared
    case-insensitively, surrounding spaces ignored). No match, or more than one in the first
    group that has any, is a UserError listing the columns."""
    names = list(schema.names() if isinstance(schema, pl.Schema) else schema)
    shown = ", ".join(names[:30]) + (", ..." if len(names) > 30 else "")
    found = {}
    for role, option, given, groups in (
        ("latitude", "--lat", lat, LATITUDE_NAMES),
        ("longitude", "--lon", lon, LONGITUDE_NAMES),
    ):
        if given is not None:
            found[role] = given
            continue
        for group in groups:
            matches = [name for name in names if name.strip().lower() in group]
            if len(matches) > 1:
                raise UserError(
                    f"several columns look like the {role}: {', '.join(map(repr, matches))}; choose one with "
                    f"{option} (the points have columns: {shown})"
                )
            if matches:
                found[role] = matches[0]
                break
        else:
            common = ", ".join(name for group in groups for name in group)
            raise UserError(
                f"no {role} column among the common names ({common}, in any case); name it with {option} "
                f"(the points have columns: {shown})"
            )
    return found["latitude"], found["longitude"]


def coordinates(schema: pl.Schema, lat: str | None, lon: str | None) -> tuple[str, str]:
    """`detect_coordinates`, saying on stderr which columns it chose when it chose any."""
    chosen = detect_coordinates(schema, lat=lat, lon=lon)
    if lat is None or lon is None:
        note(
            f"note: coordinates from columns {chosen[0]!r} (latitude) and {chosen[1]!r} (longitude); "
            "choose others with --lat/--lon"
        )
    return chosen


def property_names(text: str | None) -> list[str]:
    """--keep-properties NAME,NAME,... as a list (empty entries dropped)."""
    return [] if text is None else [name.strip() for name in text.split(",") if name.strip()]


def join_properties(
    tagged: pl.LazyFrame, zones: pz.Zones, column: str, names: list[str], schema: pl.Schema, added: Sequence[str] = ()
) -> pl.LazyFrame:
    """The zones' properties `names` added beside the zone column, in the streaming plan: a left
    join on the zone (the properties' id column has the zone column's dtype), rows kept in order.
    `added`: the other columns the command adds (distance_m)."""
    table = zones.properties
    for name in names:
        if name not in table.columns:
            raise UserError(f"the zones have no property {name!r}; they have: {', '.join(table.columns)}")
        if name in schema:
            raise UserError(f"the points already have a column {name!r}; --keep-properties cannot add it")
        if name == column or name in added:
            raise UserError(f"the output already gets a column {name!r}; --keep-properties cannot add it")
    key = "__polars_zones_zone__"
    right = table.lazy().select(pl.col(table.columns[0]).alias(key), *names)
    return tagged.join(right, left_on=column, right_on=key, how="left", coalesce=True, maintain_order="left")


def empty_as_numbers(lf: pl.LazyFrame, schema: pl.Schema, lat: str, lon: str) -> pl.LazyFrame:
    """Polars reads the columns of a header-only CSV as String (it has nothing to infer from):
    when there are no rows, the coordinates are numbers, and the output is empty."""
    text = [name for name in (lat, lon) if schema.get(name) == pl.String]
    if text and lf.select(pl.len()).collect().item() == 0:
        return lf.with_columns(pl.col(text).cast(pl.Float64))
    return lf


DISTANCE_COLUMN = "distance_m"
DISTANCE_UNITS = {"m": 1.0, "km": 1000.0, "nm": 1852.0}


def parse_distance(text: str) -> float:
    """Metres from `500m`, `20km`, `12nm` (international nautical miles, 1,852 m) or a plain
    number of metres."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*", text)
    if not match:
        raise UserError(f"--max-distance {text!r}: expected a number and a unit, e.g. 500m, 20km, 12nm")
    number, unit = float(match.group(1)), match.group(2).lower()
    if unit and unit not in DISTANCE_UNITS:
        raise UserError(f"--max-distance {text!r}: unknown unit {match.group(2)!r} (use m, km or nm)")
    metres = number * DISTANCE_UNITS[unit or "m"]
    if not math.isfinite(metres):
        raise UserError(f"--max-distance {text!r}: too large to be a distance")
    return metres


def check_columns(schema: pl.Schema, lat: str, lon: str, column: str) -> None:
    names = list(schema.names())
    for role, name in (("latitude", lat), ("longitude", lon)):
        if name not in schema:
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise UserError(f"{role} column {name!r} not found; the points have columns: {shown}")
        if not (schema[name].is_numeric() or schema[name] == pl.Null):
            raise UserError(f"{role} column {name!r} has type {schema[name]}; expected numbers")
    if column in schema:
        raise UserError(f"the points already have a column {column!r}; name the output column with --column")


# ---- running with progress ---------------------------------------------------------------


def temporary_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")


def move_into_place(tmp: Path, output: Path) -> None:
    """Renames the finished temporary output to its name: the one moment the output appears."""
    try:
        os.replace(tmp, output)
    except OSError as error:
        raise UserError(f"cannot write {str(output)!r}: {error}") from None


def require_output_dir(path: Path) -> None:
    if not path.parent.is_dir():
        raise UserError(f"output {str(path)!r}: directory {str(path.parent)!r} does not exist")


def output_format(path: Path) -> str:
    if path.is_dir():
        raise UserError(f"output {str(path)!r} is a directory; name a .parquet or .csv file")
    kind = OUTPUT_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise UserError(f"output {str(path)!r}: unknown format {path.suffix!r} (use .parquet or .csv)")
    require_output_dir(path)
    return kind


def polars_message(error: Exception) -> str:
    """The first line of a Polars error, without its hints for Python callers (scan options)
    and without the words Polars puts before the plugin's own message."""
    first = str(error).splitlines()[0].removeprefix(PLUGIN_FAILED)
    return re.sub(r", hint: [^.]*\.", ".", first)


def sink_with_progress(
    lf: pl.LazyFrame,
    path: Path | pl.PartitionBy,
    kind: str,
    total: int | None,
    quiet: bool,
    calls_per_row: int = 1,
) -> None:
    """Runs the streaming sink on a worker thread and polls the plugin's point counter, so the
    progress bar costs the query nothing. The counter counts the points every plugin
    expression is handed: `calls_per_row` is how many of them the query runs on each row."""
    outcome: dict[str, BaseException] = {}

    def work() -> None:
        try:
            if kind == "parquet":
                lf.sink_parquet(path, engine="streaming")
            else:
                lf.sink_csv(path, engine="streaming")
        except BaseException as error:  # handed to the main thread
            outcome["error"] = error

    start = points_seen()
    worker = threading.Thread(target=work, name="polars-zones-sink", daemon=True)
    worker.start()
    if quiet:
        worker.join()
    else:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns = [
            SpinnerColumn(),
            TextColumn("tagging"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows"),
            TimeElapsedColumn(),
        ]
        with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
            task = progress.add_task("tagging", total=total)
            while worker.is_alive():
                worker.join(0.1)
                progress.update(task, completed=(points_seen() - start) // calls_per_row)
            progress.update(task, completed=(points_seen() - start) // calls_per_row if total is None else total)
    if "error" in outcome:
        raise outcome["error"]
