//! What every reader of zones shares (GeoJSON in `geojson_input`, WKB in `wkb_input`): where
//! in the input something is, the error that says so, and positions checked and snapped.

use std::fmt;

use crate::coords::{snap_wide, WidePoint, HALF_TURN};

/// A problem in the input, with where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestError(pub String);

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for IngestError {}

/// What to make of longitudes past ±180 and of jumps of more than 180° between vertices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Antimeridian {
    /// They cross the antimeridian: unwrap the ring and cut it at ±180 (see `antimeridian`).
    #[default]
    Split,
    /// Take coordinates literally; refuse longitudes outside [-180, 180].
    Planar,
}

/// Where in the input something is: the parts that apply, printed as "feature 3, polygon 0, ring 1, vertex 7".
#[derive(Clone, Debug, Default)]
pub struct Location {
    pub row: Option<usize>,
    pub element: Option<usize>,
    pub feature: Option<usize>,
    pub polygon: Option<usize>,
    pub ring: Option<usize>,
    pub vertex: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [
            ("row", self.row),
            ("element", self.element),
            ("feature", self.feature),
            ("polygon", self.polygon),
            ("ring", self.ring),
            ("vertex", self.vertex),
        ];
        let mut first = true;
        for (name, value) in parts {
            if let Some(v) = value {
                write!(f, "{}{name} {v}", if first { "" } else { ", " })?;
                first = false;
            }
        }
        if first {
            f.write_str("input")?;
        }
        Ok(())
    }
}

pub fn error(at: &Location, message: impl fmt::Display) -> IngestError {
    IngestError(format!("{at}: {message}"))
}

/// A position checked (finite, in range for the rule) and snapped; `at` names the vertex.
pub fn check_position(lon: f64, lat: f64, at: &Location, rule: Antimeridian) -> Result<WidePoint, IngestError> {
    if !lon.is_finite() || !lat.is_finite() {
        return Err(error(at, format!("coordinate ({lon}, {lat}) is not finite")));
    }
    // Compared on the snapped values; the float bound first keeps huge values from
    // overflowing the snap.
    let within = |degrees: f64, limit: i64| degrees.abs() < 1e4 && snap_wide(degrees).abs() <= limit;
    match rule {
        Antimeridian::Planar if !within(lon, HALF_TURN) => {
            return Err(error(
                at,
                format!(
                    "longitude {lon} is outside [-180, 180] (planar zones: with antimeridian=\"split\", \
                         the default, rings crossing 180 are unwrapped and cut)"
                ),
            ))
        }
        Antimeridian::Split if !within(lon, 3 * HALF_TURN) => {
            return Err(error(at, format!("longitude {lon} is outside [-540, 540]")))
        }
        _ => {}
    }
    if !within(lat, HALF_TURN / 2) {
        return Err(error(at, format!("latitude {lat} is outside [-90, 90]")));
    }
    let point = WidePoint::snap(lon, lat);
    Ok(point)
}
