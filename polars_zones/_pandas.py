"""The drop-in for pandas filtering steps."""

from __future__ import annotations

from typing import Any

from polars_zones._types import Boundary
from polars_zones._zones import ZonesLike


def tag_pandas(
    df: Any, zones: ZonesLike, lat: str = "lat", lon: str = "lon", *, boundary: Boundary = "half-open"
) -> Any:
    """The zone of each row of a pandas DataFrame, as a Series aligned with `df.index`:
    categorical zone names when the zones are named (NaN for none), else nullable Int32
    zone indexes (<NA> for none). The coordinate columns must hold numbers (any float or
    integer dtype, nullable ones included): other dtypes are a TypeError.

    >>> import pandas as pd
    >>> import polars_zones as pz
    >>> square = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
    >>> df = pd.DataFrame({"lat": [1.0, 1.0, None], "lon": [1.0, 3.0, 1.0]}, index=[10, 20, 30])
    >>> pz.tag_pandas(df, square)
    10       0
    20    <NA>
    30    <NA>
    Name: zone, dtype: Int32
    """
    import numpy as np
    import pandas as pd

    from polars_zones._namespace import as_zones

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"tag_pandas takes a pandas DataFrame, not {type(df).__name__}")
    resolved = as_zones(zones)
    for role, column in (("latitude", lat), ("longitude", lon)):
        if column not in df.columns:
            raise ValueError(f"no column {column!r} in the frame")
        if isinstance(df[column], pd.DataFrame):
            raise ValueError(f"tag_pandas: the frame has {df[column].shape[1]} columns named {column!r}; rename them")
        dtype = df[column].dtype
        # As the expressions: numbers only (strings would be parsed, dates turned into NaN).
        if (
            not pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype)
            or pd.api.types.is_complex_dtype(dtype)
        ):
            raise TypeError(
                f"tag_pandas: the {role} column {column!r} has dtype {dtype}; expected a float or integer column"
            )
    codes = resolved.tag_numpy(
        df[lat].to_numpy(dtype=np.float64, na_value=np.nan),
        df[lon].to_numpy(dtype=np.float64, na_value=np.nan),
        boundary=boundary,
    )
    if resolved.ids is not None:
        values = pd.Categorical.from_codes(codes, categories=resolved.ids)
    else:
        values = pd.array(np.where(codes < 0, 0, codes), dtype="Int32")
        values[codes < 0] = pd.NA
    return pd.Series(values, index=df.index, name="zone")
