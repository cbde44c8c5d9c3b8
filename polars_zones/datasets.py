"""Zone sets bundled with the package.

`countries-maritime-simplified.geojson`: 250 countries' maritime zones (land plus
territorial waters), property `A3` (ISO 3166-1 alpha-3), simplified at 0.01 degree from
the npm package @geo-maps/countries-maritime-10m 0.6.0 by `scripts/make_bundled_zones.py`.
© OpenStreetMap contributors, geo-maps; licensed under the Open Database License (ODbL)
1.0: see `data/LICENSE.md`.

`land-110m.geojson` (one zone, "land") and `sea-routes.json` (ports and the sea routes
between them, used by `polars_zones.tracks`): derived from Natural Earth 1:110m countries
(public domain) by `scripts/make_sea_data.py`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from polars_zones._zones import Zones

DATA = Path(__file__).parent / "data"
MARITIME_ZONES = DATA / "countries-maritime-simplified.geojson"
LAND = DATA / "land-110m.geojson"
SEA_ROUTES = DATA / "sea-routes.json"
ATTRIBUTION = "© OpenStreetMap contributors, geo-maps (ODbL 1.0)"


def maritime_zones_path() -> Path:
    """Path of the bundled GeoJSON (250 maritime zones, property `A3`)."""
    return MARITIME_ZONES


@lru_cache(maxsize=1)
def maritime_zones() -> Zones:
    """The bundled maritime zones, named by ISO 3166-1 alpha-3 code (built once)."""
    return Zones.from_geojson(MARITIME_ZONES, id_property="A3")


def land_path() -> Path:
    """Path of the bundled land layer (Natural Earth 1:110m countries dissolved, one feature)."""
    return LAND


@lru_cache(maxsize=1)
def land() -> Zones:
    """Land as one zone named "land" (Natural Earth 1:110m, public domain; built once)."""
    return Zones.from_geojson(LAND, id_property="name")


@lru_cache(maxsize=1)
def sea_routes() -> dict[str, Any]:
    """The ports and the sea routes between every pair of them (see scripts/make_sea_data.py):
    `ports` (name, zone, lon, lat of the anchorage), `waypoints` (lon, lat lists) and
    `routes` ([port a, port b, [waypoint indexes from a to b]])."""
    routes: dict[str, Any] = json.loads(SEA_ROUTES.read_text())
    return routes
