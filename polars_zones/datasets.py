"""Zone sets bundled with the package.

`countries-maritime-simplified.geojson`: 250 countries' maritime zones (land plus
territorial waters), property `A3` (ISO 3166-1 alpha-3), simplified at 0.01 degree from
the npm package @geo-maps/countries-maritime-10m 0.6.0 by `scripts/make_bundled_zones.py`.
© OpenStreetMap contributors, geo-maps; licensed under the Open Database License (ODbL)
1.0: see `data/LICENSE.md`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from polars_zones._zones import Zones

DATA = Path(__file__).parent / "data"
MARITIME_ZONES = DATA / "countries-maritime-simplified.geojson"
ATTRIBUTION = "© OpenStreetMap contributors, geo-maps (ODbL 1.0)"


def maritime_zones_path() -> Path:
    """Path of the bundled GeoJSON (250 maritime zones, property `A3`)."""
    return MARITIME_ZONES


@lru_cache(maxsize=1)
def maritime_zones() -> Zones:
    """The bundled maritime zones, named by ISO 3166-1 alpha-3 code (built once)."""
    return Zones.from_geojson(MARITIME_ZONES, id_property="A3")
