//! Integer coordinates and the exact predicates every kernel is built on.
//!
//! Longitudes and latitudes are snapped once to a grid of 1e-7 degree (the OpenStreetMap
//! convention: ~1 cm, and data with up to 7 decimals is represented exactly). Every
//! predicate after that is exact integer arithmetic, so no point is misclassified by
//! floating-point rounding near an edge.

use serde::{Deserialize, Serialize};

/// Grid units per degree.
pub const UNITS_PER_DEGREE: f64 = 1e7;

/// A snapped point: `x` is longitude, `y` latitude, both in 1e-7 degree. Plain old data (two
/// `i32`, no padding), so an array of them is stored as its bytes (`serialize`).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    Default,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(C)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

impl Point {
    pub const fn new(x: i32, y: i32) -> Self {
        Point { x, y }
    }
}

/// 180 degrees in grid units: the antimeridian is x = ±HALF_TURN.
pub const HALF_TURN: i64 = 1_800_000_000;
/// 360 degrees in grid units.
pub const TURN: i64 = 2 * HALF_TURN;

/// A snapped point whose longitude may lie past ±180: a ring written across the antimeridian
/// (up to ±540 degrees) or its unwrapped copy, before it is cut into `Point`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct WidePoint {
    pub x: i64,
    pub y: i64,
}

impl WidePoint {
    pub const fn new(x: i64, y: i64) -> Self {
        WidePoint { x, y }
    }

    /// Snaps (lon, lat) in degrees; the caller has checked the range (|lon| <= 540).
    pub fn snap(lon: f64, lat: f64) -> Self {
        WidePoint { x: snap_wide(lon), y: snap_wide(lat) }
    }
}

/// Snaps a degree value to grid units (nearest, halves away from zero). The caller has
/// checked the range.
#[inline(always)]
pub fn snap(degrees: f64) -> i32 {
    snap_wide(degrees) as i32
}

/// `snap` for values that may not fit an `i32` (longitudes up to ±540 degrees).
#[inline(always)]
pub fn snap_wide(degrees: f64) -> i64 {
    round_half_away(degrees * UNITS_PER_DEGREE)
}

/// `f64::round` without the libm call it compiles to on baseline x86-64 (no SSE4.1), which
/// would dominate the per-point cost: truncate, then correct by the exact remainder
/// (`t - trunc(t)` is exact for |t| < 2^52).
#[inline(always)]
fn round_half_away(t: f64) -> i64 {
    round_from(t, t as i64)
}

/// `round_half_away` of a finite `t` within ±2^62, which the caller has checked: without the
/// tests for NaN and overflow that `as` adds to each conversion, which every query point would
/// otherwise pay twice.
#[inline(always)]
fn round_half_away_bounded(t: f64) -> i64 {
    debug_assert!(t.abs() <= (1u64 << 62) as f64, "{t}");
    // SAFETY: `t` is finite and its truncation fits an i64 (the caller's bound).
    round_from(t, unsafe { t.to_int_unchecked::<i64>() })
}

/// Rounds `t` half away from zero, from its truncation `whole`.
#[inline(always)]
fn round_from(t: f64, whole: i64) -> i64 {
    let rest = t - whole as f64;
    whole + (rest >= 0.5) as i64 - (rest <= -0.5) as i64
}

/// Back to degrees (for messages and bounds).
pub fn to_degrees(units: impl Into<i64>) -> f64 {
    units.into() as f64 / UNITS_PER_DEGREE
}

/// Snaps a query point, or `None` when it cannot be in any zone: NaN, infinite, or a
/// latitude outside [-90, 90]. Longitudes outside [-180, 180] (0..360 data, for example)
/// are wrapped into [-180, 180).
///
/// The wrap is done after snapping, on the integer: a longitude that rounds to exactly ±180
/// (179.99999999, or -180.00000000000003) is then -180 like 180 itself, where zones cut at
/// the antimeridian resume. Wrapping the float first would leave 179.99999999 at +180, a
/// meridian no zone reaches from the west.
#[inline(always)]
pub fn snap_query(lat: f64, lon: f64) -> Option<Point> {
    if !(-90.0..=90.0).contains(&lat) {
        return None;
    }
    // Bring huge longitudes near the range first so the product fits (fmod is exact).
    let lon = if lon.abs() <= 720.0 {
        lon
    } else if lon.is_finite() {
        lon % 360.0
    } else {
        return None;
    };
    // Both are finite, |lat| <= 90 and |lon| <= 720: far within the bound.
    let mut x = round_half_away_bounded(lon * UNITS_PER_DEGREE);
    let y = round_half_away_bounded(lat * UNITS_PER_DEGREE);
    if !(-HALF_TURN..HALF_TURN).contains(&x) {
        x = (x + HALF_TURN).rem_euclid(TURN) - HALF_TURN;
    }
    Some(Point::new(x as i32, y as i32))
}

/// Whether points look like (lon, lat) passed as (lat, lon): among the first 1,000 with finite
/// coordinates, most latitudes are out of range while their longitudes would be valid
/// latitudes. A hint for a warning, never a reason to change an answer.
pub fn looks_swapped(lat: &[f64], lon: &[f64]) -> bool {
    let (mut seen, mut suspicious) = (0usize, 0usize);
    for (&la, &lo) in lat.iter().zip(lon).filter(|(la, lo)| la.is_finite() && lo.is_finite()).take(1000) {
        seen += 1;
        suspicious += (la.abs() > 90.0 && lo.abs() <= 90.0) as usize;
    }
    suspicious > 0 && 2 * suspicious > seen
}

/// Snapped coordinates, as every predicate below takes them: `Point` (within the range of
/// the index) and `WidePoint` (rings before they are cut at ±180, for `validate`).
pub trait Xy: Copy {
    fn xy(self) -> (i64, i64);
}

impl Xy for Point {
    #[inline(always)]
    fn xy(self) -> (i64, i64) {
        (self.x as i64, self.y as i64)
    }
}

impl Xy for WidePoint {
    #[inline(always)]
    fn xy(self) -> (i64, i64) {
        (self.x, self.y)
    }
}

/// Twice the signed area of triangle (a, b, p): positive when p is left of a→b.
/// Operands are up to 2^34 apart, so products need 128 bits.
#[inline(always)]
pub fn orient<P: Xy>(a: P, b: P, p: P) -> i128 {
    let ((ax, ay), (bx, by), (px, py)) = (a.xy(), b.xy(), p.xy());
    orient_xy(ax, ay, bx, by, px, py)
}

/// `orient` on loose coordinates (grid corners may lie past the i32 range).
#[inline(always)]
pub fn orient_xy(ax: i64, ay: i64, bx: i64, by: i64, px: i64, py: i64) -> i128 {
    (bx - ax) as i128 * (py - ay) as i128 - (by - ay) as i128 * (px - ax) as i128
}

/// Whether p lies on the closed segment a–b.
#[inline(always)]
pub fn on_segment<P: Xy>(a: P, b: P, p: P) -> bool {
    let ((ax, ay), (bx, by), (px, py)) = (a.xy(), b.xy(), p.xy());
    px >= ax.min(bx) && px <= ax.max(bx) && py >= ay.min(by) && py <= ay.max(by) && orient(a, b, p) == 0
}

/// Whether the rightward ray from the perturbed point p' = p + (ε, ε²) crosses edge a–b.
///
/// This is the "half-open" rule: the query point is treated as nudged an infinitesimal
/// right and, much less, up. p' then never lies on an edge, so a point on a border shared
/// by two zones falls in exactly one of them. The line y = p.y + ε² is crossed exactly when
/// one endpoint has y <= p.y and the other y > p.y, so horizontal edges never count; the
/// crossing lies right of p' exactly when p is strictly left of the upward edge (a point
/// on the edge is left of it only after the nudge, which moves it right).
#[inline(always)]
pub fn ray_crosses<P: Xy>(a: P, b: P, p: P) -> bool {
    let (ay, by, py) = (a.xy().1, b.xy().1, p.xy().1);
    if (ay <= py) == (by <= py) {
        return false;
    }
    let (lo, hi) = if ay < by { (a, b) } else { (b, a) };
    orient(lo, hi, p) > 0
}

// ---- The path rule of the index's leaves (see `index`): a query point P in a leaf is
// joined to the leaf's reference corner R = (x1, y0) by the path P → Q = (x1, P.y) → R, and a
// polygon's parity flips once per edge that crosses it. Every point is perturbed by
// (+ε, +ε²), as in `ray_crosses`, so each crossing is an exact orientation test.

/// Whether edge a–b crosses the path P' → Q' → R', where Q = (x1, P.y), R = (x1, y0) and
/// every point is perturbed by (+ε, +ε²). Needs P.x <= x1 and P.y >= y0.
#[inline(always)]
pub fn path_crosses(a: Point, b: Point, px: i64, py: i64, x1: i64, y0: i64) -> bool {
    crosses_horizontal_leg(a, b, px, py, x1) != crosses_vertical_leg(a, b, py, x1, y0)
}

/// Whether edge a–b crosses the horizontal leg at height py + ε², from px + ε to x1 + ε.
/// The edge crosses the line when exactly one endpoint has y <= py; right of P' when P is
/// strictly left of the upward edge, left of Q' when Q is not.
#[inline(always)]
pub fn crosses_horizontal_leg(a: Point, b: Point, px: i64, py: i64, x1: i64) -> bool {
    let (ax, ay, bx, by) = (a.x as i64, a.y as i64, b.x as i64, b.y as i64);
    // Every term is computed and the tests combined with `&`, not `&&`: which of them fail
    // depends on the point, so branches on them were mispredicted often.
    let crosses_line = (ay <= py) != (by <= py);
    let (lx, ly, hx, hy) = if ay < by { (ax, ay, bx, by) } else { (bx, by, ax, ay) };
    let at_p = orient_xy(lx, ly, hx, hy, px, py);
    crosses_line & (at_p > 0) & (at_p <= (hy - ly) as i128 * (x1 - px) as i128)
}

/// Whether edge a–b crosses the vertical leg at x1 + ε, from py + ε² down to y0 + ε². Only
/// an edge that straddles x = x1 (`straddles_x`) can. It crosses when Q' is above it and R'
/// is not; for a point on the edge's line the perturbation decides: the ε of x moves it
/// above a falling edge, the ε² of y above a horizontal one.
#[inline(always)]
fn crosses_vertical_leg(a: Point, b: Point, py: i64, x1: i64, y0: i64) -> bool {
    let (ax, ay, bx, by) = (a.x as i64, a.y as i64, b.x as i64, b.y as i64);
    // Branch-free, as `crosses_horizontal_leg`.
    let (lx, ly, rx, ry) = if ax < bx { (ax, ay, bx, by) } else { (bx, by, ax, ay) };
    let tie_above = ry <= ly;
    let at_q = orient_xy(lx, ly, rx, ry, x1, py);
    let at_r = at_q - (rx - lx) as i128 * (py - y0) as i128;
    let q_above = (at_q > 0) | ((at_q == 0) & tie_above);
    let r_above = (at_r > 0) | ((at_r == 0) & tie_above);
    straddles_x(a, b, x1) & q_above & !r_above
}

/// Whether exactly one end of a–b has x <= x1: the edges that cross the line x = x1 + ε.
#[inline(always)]
pub fn straddles_x(a: Point, b: Point, x1: i64) -> bool {
    (a.x as i64 <= x1) != (b.x as i64 <= x1)
}

/// Whether segment a–b touches the closed rectangle [x0, x1] × [y0, y1].
#[inline]
pub fn touches_rect(a: Point, b: Point, x0: i64, y0: i64, x1: i64, y1: i64) -> bool {
    let (ax, ay, bx, by) = (a.x as i64, a.y as i64, b.x as i64, b.y as i64);
    if ax.max(bx) < x0 || ax.min(bx) > x1 || ay.max(by) < y0 || ay.min(by) > y1 {
        return false;
    }
    // The bounding boxes overlap: the segment misses the rectangle only if all four
    // corners lie strictly on one side of its line.
    let sides = [(x0, y0), (x1, y0), (x0, y1), (x1, y1)].map(|(x, y)| orient_xy(ax, ay, bx, by, x, y).signum());
    !(sides.iter().all(|&s| s > 0) || sides.iter().all(|&s| s < 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapping_keeps_seven_decimals_exact() {
        assert_eq!(snap(-25.27691), -252_769_100);
        assert_eq!(snap(12.3456789), 123_456_789);
        assert_eq!(snap(-180.0), -1_800_000_000);
    }

    #[test]
    fn rounding_matches_f64_round() {
        let mut x = 0.123_456_789_f64;
        for i in 0..200_000 {
            x = (x * 1103.515245 + 0.12345).fract() * 3.6e9 - 1.8e9;
            for t in [x, x.trunc() + 0.5, x.trunc() - 0.5, 0.49999999999999994, -0.49999999999999994, i as f64 + 0.5] {
                assert_eq!(round_half_away(t), t.round() as i64, "{t}");
                assert_eq!(round_half_away_bounded(t), t.round() as i64, "{t}");
            }
        }
    }

    #[test]
    fn query_rejects_non_finite_and_out_of_range() {
        assert_eq!(snap_query(f64::NAN, 0.0), None);
        assert_eq!(snap_query(0.0, f64::INFINITY), None);
        assert_eq!(snap_query(90.5, 0.0), None);
        assert_eq!(snap_query(-90.0, 0.0), Some(Point::new(0, -900_000_000)));
    }

    #[test]
    fn query_wraps_longitude() {
        assert_eq!(snap_query(0.0, 190.0), Some(Point::new(-1_700_000_000, 0)));
        assert_eq!(snap_query(0.0, 360.0), Some(Point::new(0, 0)));
        assert_eq!(snap_query(0.0, -181.0), Some(Point::new(1_790_000_000, 0)));
        // Into [-180, 180): 180 is -180, where zones cut at the antimeridian resume.
        assert_eq!(snap_query(0.0, 180.0), Some(Point::new(-1_800_000_000, 0)));
        assert_eq!(snap_query(0.0, -180.0), Some(Point::new(-1_800_000_000, 0)));
        assert_eq!(snap_query(0.0, 540.0), Some(Point::new(-1_800_000_000, 0)));
        assert_eq!(snap_query(0.0, 1e300), snap_query(0.0, 1e300 % 360.0));
    }

    /// A longitude that snaps to ±180 is -180 whichever side it came from (the wrap happens
    /// on the snapped integer): 1 cm from the meridian is not in another world.
    #[test]
    fn longitudes_within_a_hair_of_180_wrap_after_snapping() {
        let minus_180 = Some(Point::new(-1_800_000_000, 0));
        for lon in [179.99999999, 179.99999995, 180.00000004, -180.00000000000003, -179.99999996, -180.00000004] {
            assert_eq!(snap_query(0.0, lon), minus_180, "{lon}");
        }
        assert_eq!(snap_query(0.0, 179.99999994), Some(Point::new(1_799_999_999, 0)));
        assert_eq!(snap_query(0.0, -179.99999994), Some(Point::new(-1_799_999_999, 0)));
        assert_eq!(snap_query(0.0, 180.00000006), Some(Point::new(-1_799_999_999, 0)));
    }

    #[test]
    fn orient_is_exact_on_extreme_coordinates() {
        let a = Point::new(-1_800_000_000, -900_000_000);
        let b = Point::new(1_800_000_000, 900_000_000);
        // (0, 0) is exactly on the diagonal; one unit off is not.
        assert_eq!(orient(a, b, Point::new(0, 0)), 0);
        assert!(orient(a, b, Point::new(0, 1)) > 0);
        assert!(orient(a, b, Point::new(0, -1)) < 0);
    }

    #[test]
    fn half_open_ray_counts_bottom_not_top() {
        let (a, b) = (Point::new(10, 0), Point::new(10, 10));
        assert!(ray_crosses(a, b, Point::new(0, 0)));
        assert!(!ray_crosses(a, b, Point::new(0, 10)));
        // On the edge: nudged right, so the edge is behind the point.
        assert!(!ray_crosses(a, b, Point::new(10, 5)));
        // Horizontal edges never count.
        assert!(!ray_crosses(Point::new(0, 0), Point::new(10, 0), Point::new(-5, 0)));
    }

    #[test]
    fn touches_rect_is_exact_on_corners_and_misses_near_diagonals() {
        let (a, b) = (Point::new(0, 0), Point::new(10, 10));
        assert!(touches_rect(a, b, 10, 10, 20, 20)); // end point on a corner
        assert!(touches_rect(a, b, 5, 0, 6, 5)); // through a corner (5, 5)
        assert!(!touches_rect(a, b, 6, 0, 7, 5)); // bbox overlaps, segment passes above
    }

    #[test]
    fn path_crossing_matches_parity_difference() {
        // Edge crossing the horizontal leg, the vertical leg, or neither.
        let p = (2i64, 5i64);
        let (x1, y0) = (10i64, 0i64);
        assert!(path_crosses(Point::new(5, 0), Point::new(5, 9), p.0, p.1, x1, y0));
        assert!(path_crosses(Point::new(8, 3), Point::new(12, 3), p.0, p.1, x1, y0));
        assert!(!path_crosses(Point::new(8, 6), Point::new(12, 6), p.0, p.1, x1, y0));
        // Crossing both legs: even.
        assert!(!path_crosses(Point::new(4, 9), Point::new(14, -1), p.0, p.1, x1, y0));
    }
}
