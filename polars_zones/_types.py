"""Type aliases of the public API (`ZonesLike`, which names `Zones`, is in `_zones`)."""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from typing import Any, Literal, Protocol, Union

# Where a point exactly on an edge or vertex goes (see the README's Semantics).
Boundary = Literal["half-open", "inclusive", "exclusive"]


class SupportsGeoInterface(Protocol):
    """A geometry with `__geo_interface__` (shapely, geojson and most geometry libraries)."""

    @property
    def __geo_interface__(self) -> dict[str, Any]: ...


# What `Zones.from_geojson` reads: a path, a GeoJSON text or dict, the bytes of a file (GeoJSON
# or a saved index), a geometry with `__geo_interface__`, or a list of these (one zone each).
GeoJSONSource = Union[str, bytes, os.PathLike[str], dict[str, Any], SupportsGeoInterface, Sequence[Any]]


def is_real_number(value: Any) -> bool:
    """A real number, numpy's scalars included, and not a boolean (Python's or numpy's): what a
    distance or a threshold may be."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and type(value).__name__ != "bool_"
