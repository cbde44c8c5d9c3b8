"""The zones' attribute table (`Zones.properties`): one row per zone, in zone order, the id
column first, then the properties of the zone's first feature.

It travels with the index as Arrow IPC bytes (`ZoneIndex.with_properties`), opaque to Rust and
outside the fingerprint, so save/load, pickling and `to_bytes` keep it.
"""

from __future__ import annotations

import io
import json
import math
import warnings
from collections.abc import Sequence
from typing import Any

import polars as pl

from polars_zones._internal import ZonesWarning

UNNAMED_ID_COLUMN = "zone"


def id_series(name: str, ids: list[str] | None, zone_count: int) -> pl.Series:
    """The id column: the zone names as `pl.Enum(ids)` (the dtype `tag` returns, so the two
    join without a cast), or the 0-based zone index as UInt32 when the zones are unnamed."""
    if ids is None:
        return pl.Series(name, range(zone_count), dtype=pl.UInt32)
    return pl.Series(name, ids, dtype=pl.Enum(ids))


def attribute_table(
    attributes: pl.DataFrame | None, ids: list[str] | None, zone_count: int, id_column: str | None
) -> pl.DataFrame:
    """The id column (named `id_column`, or "zone") then `attributes` (one row per zone, in
    zone order; None for none). An attribute with the id column's name is the id itself, or,
    for unnamed zones, is shadowed by the zone index (with a warning)."""
    name = id_column or UNNAMED_ID_COLUMN
    columns = [id_series(name, ids, zone_count)]
    if attributes is not None and attributes.width:
        if attributes.height != zone_count:
            raise AssertionError(f"{attributes.height} attribute rows for {zone_count} zones")
        if name in attributes.columns and id_column is None:
            warnings.warn(
                f"a property is named {name!r} like the zone index column, which replaces it in "
                f"Zones.properties; name the zones by it with id_property={name!r}",
                ZonesWarning,
                stacklevel=4,
            )
        columns += [s for s in attributes.iter_columns() if s.name != name]
    return pl.DataFrame(columns)


def from_json_texts(texts: Sequence[str | None]) -> pl.DataFrame | None:
    """Properties given as one JSON object text per zone (None: no properties): one column per
    name, in order of first appearance (None when no zone has any); scalars typed by their
    kinds (booleans, integers: Int64 or UInt64, floats, strings; ints and floats together are
    Float64 while the ints are exact there, below 2^53; other mixtures, e.g. numbers and
    booleans or strings, are strings: each value's JSON text), objects and arrays as their JSON
    text, missing names null."""
    records = []
    for text in texts:
        value = json.loads(text) if text else None
        records.append(value if isinstance(value, dict) else {})
    names = dict.fromkeys(name for record in records for name in record)
    if not names:
        return None
    return pl.DataFrame([_column(name, [r.get(name) for r in records]) for name in names])


def _column(name: str, values: list[Any]) -> pl.Series:
    """One property's values, typed by the kinds present, whatever their order (polars' own
    inference made [1, True] Int64 [1, 1] but [True, 1] an error)."""
    values = [
        json.dumps(v, separators=(",", ":"), allow_nan=False) if isinstance(v, (dict, list)) else v for v in values
    ]
    present = [v for v in values if v is not None]
    kinds = {type(v) for v in present}
    if not kinds:
        return pl.Series(name, values)
    if kinds == {bool}:
        return pl.Series(name, values, dtype=pl.Boolean)
    if kinds == {str}:
        return pl.Series(name, values, dtype=pl.String)
    if kinds == {int}:
        for dtype in (pl.Int64, pl.UInt64):
            try:
                return pl.Series(name, values, dtype=dtype, strict=True)
            except (TypeError, OverflowError, pl.exceptions.PolarsError):
                pass
    elif kinds <= {int, float} and all(isinstance(v, float) or abs(v) < 2**53 for v in present):
        return pl.Series(name, [None if v is None else float(v) for v in values], dtype=pl.Float64)
    return pl.Series(name, [v if v is None or isinstance(v, str) else _json(v) for v in values], dtype=pl.String)


def _json(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return json.dumps(value, separators=(",", ":"))


def first_per_zone(attributes: pl.DataFrame, names: list[str] | None) -> pl.DataFrame:
    """One row per zone, in zone order, from one row per feature: the first feature of each
    name when the zones are named (zones keep the order in which names first appear)."""
    if names is None:
        return attributes
    key = "__polars_zones_name__"
    first = attributes.with_columns(pl.Series(key, names)).unique(subset=key, keep="first", maintain_order=True)
    return first.drop(key)


def to_blob(table: pl.DataFrame) -> bytes:
    return table.write_ipc(None).getvalue()


def from_blob(blob: bytes | None, ids: list[str] | None, zone_count: int) -> pl.DataFrame:
    """The stored table, its id column cast back to the zones' dtype; an index stored without
    one (from_shapely, or saved before properties existed) gives the id column alone."""
    if not blob:
        return attribute_table(None, ids, zone_count, None)
    table = pl.read_ipc(io.BytesIO(blob))
    first = table.columns[0]
    return table.with_columns(id_series(first, ids, zone_count))
