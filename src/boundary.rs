//! What a point exactly on an edge counts as.
//!
//! The names ("half-open", "inclusive", "exclusive") are the whole interface: Python passes
//! them as they are, in the plugin's kwargs and to `tag_numpy`.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Boundary {
    /// The point is treated as nudged an infinitesimal right and up, so a point on a
    /// border shared by two zones belongs to exactly one of them (tilings stay tilings).
    #[default]
    HalfOpen,
    /// On an edge counts as inside (shapely `covers` / `intersects_xy`).
    Inclusive,
    /// On an edge counts as outside (shapely `contains_xy`).
    Exclusive,
}

impl FromStr for Boundary {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "half-open" => Ok(Boundary::HalfOpen),
            "inclusive" => Ok(Boundary::Inclusive),
            "exclusive" => Ok(Boundary::Exclusive),
            other => Err(format!("boundary must be \"half-open\", \"inclusive\" or \"exclusive\", not {other:?}")),
        }
    }
}

impl Boundary {
    /// Combines the half-open parity with whether the point lies on the polygon's boundary.
    #[inline(always)]
    pub fn resolve(self, odd_parity: bool, on_boundary: bool) -> bool {
        match self {
            Boundary::HalfOpen => odd_parity,
            Boundary::Inclusive => odd_parity || on_boundary,
            Boundary::Exclusive => odd_parity && !on_boundary,
        }
    }
}
