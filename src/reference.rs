//! The brute-force reference kernel: every edge of every polygon, no index.
//!
//! It is slow on purpose and simple enough to check by eye; it is the oracle the global
//! index is tested against and is never on the hot path.

use crate::boundary::Boundary;
use crate::coords::{on_segment, ray_crosses, Point, HALF_TURN};
use crate::geometry::ZoneGeometry;

/// Whether polygon `p` contains `pt`: even-odd over all its rings, then the boundary rule.
pub fn polygon_contains(zones: &ZoneGeometry, p: usize, pt: Point, boundary: Boundary) -> bool {
    let mut odd = false;
    let mut on_edge = false;
    for e in zones.polygon_edges(p) {
        let (a, b) = zones.edge(e);
        odd ^= ray_crosses(a, b, pt);
        on_edge |= boundary != Boundary::HalfOpen && on_segment(a, b, pt);
    }
    boundary.resolve(odd, on_edge)
}

/// Every zone that contains `pt`, ascending.
pub fn zones_containing(zones: &ZoneGeometry, pt: Point, boundary: Boundary) -> Vec<u32> {
    containing(zones, |_, _| true, pt, boundary)
}

/// `zones_containing` that skips polygons whose bounds (from `polygon_bounds`) exclude
/// the point: exact, since a polygon contains nothing outside its bounds, and fast enough
/// to check the index on a million points.
pub fn zones_containing_bounded(zones: &ZoneGeometry, bounds: &[[i32; 4]], pt: Point, boundary: Boundary) -> Vec<u32> {
    let near = |p: usize, pt: Point| {
        let [x0, y0, x1, y1] = bounds[p];
        pt.x >= x0 && pt.x <= x1 && pt.y >= y0 && pt.y <= y1
    };
    containing(zones, near, pt, boundary)
}

/// The zones of the polygons that `near` admits and that contain `pt`, ascending.
fn containing(zones: &ZoneGeometry, near: impl Fn(usize, Point) -> bool, pt: Point, boundary: Boundary) -> Vec<u32> {
    let mut out: Vec<u32> = (0..zones.polygon_count())
        .filter(|&p| {
            if boundary == Boundary::Inclusive && pt.x as i64 == -HALF_TURN {
                let twin = Point::new(HALF_TURN as i32, pt.y);
                (near(p, pt) && closes_on_meridian(zones, p, pt))
                    || (near(p, twin) && closes_on_meridian(zones, p, twin))
            } else {
                near(p, pt) && polygon_contains(zones, p, pt, boundary)
            }
        })
        .map(|p| zones.polygon_zone[p])
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A point at longitude ±180 (x = -HALF_TURN) has two places in the plane, x = ±HALF_TURN;
/// under the inclusive rule a polygon holds it when its closure holds either place. At a place
/// `q` on the meridian, the edges along the meridian may be left by cutting the polygon there,
/// with the polygon on neither side, so: `q` lies on one of its other edges, or the point beside
/// `q` on the inner side, nudged up or down, is inside, which is the parity of the edges along
/// the meridian that span it (a ray from there away from the meridian crosses only those).
fn closes_on_meridian(zones: &ZoneGeometry, p: usize, q: Point) -> bool {
    let (mut above, mut below, mut on_edge) = (false, false, false);
    for (a, b) in zones.polygon_edges(p).map(|e| zones.edge(e)) {
        if a.x == q.x && b.x == q.x {
            above ^= a.y.min(b.y) <= q.y && q.y < a.y.max(b.y);
            below ^= a.y.min(b.y) < q.y && q.y <= a.y.max(b.y);
        } else {
            on_edge |= on_segment(a, b, q);
        }
    }
    on_edge || above || below
}

/// The bounds of every polygon, for `zones_containing_bounded`.
pub fn polygon_bounds(zones: &ZoneGeometry) -> Vec<[i32; 4]> {
    (0..zones.polygon_count()).map(|p| zones.polygon_bounds(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{zones_from_geojson, Grouping};

    fn zones(text: &str) -> ZoneGeometry {
        zones_from_geojson(&[text], Grouping::FeaturesAreZones, None).unwrap().0
    }

    fn at(zones: &ZoneGeometry, x: i32, y: i32, b: Boundary) -> Vec<u32> {
        zones_containing(zones, Point::new(x, y), b)
    }

    /// Two unit squares side by side (sharing x = 1) and one above both (sharing y = 1);
    /// coordinates in degrees, queries in 1e-7 degree units.
    const TILES: &str = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[1,0],[2,0],[2,1],[1,1],[1,0]]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,1],[2,1],[2,2],[0,2],[0,1]]]}}]}"#;
    const U: i32 = 10_000_000;

    #[test]
    fn shared_borders_belong_to_exactly_one_tile_under_half_open() {
        let z = zones(TILES);
        for &(x, y) in &[(U, U / 2), (U / 2, U), (U, U), (0, 0), (U, 0), (2 * U - 1, U), (U / 3, U)] {
            assert_eq!(at(&z, x, y, Boundary::HalfOpen).len(), 1, "point ({x}, {y})");
        }
        // The nudge goes right and up.
        assert_eq!(at(&z, U, U / 2, Boundary::HalfOpen), vec![1]);
        assert_eq!(at(&z, U / 2, U, Boundary::HalfOpen), vec![2]);
        // The far edges of the tiling are outside.
        assert!(at(&z, 2 * U, U / 2, Boundary::HalfOpen).is_empty());
        assert!(at(&z, U / 2, 2 * U, Boundary::HalfOpen).is_empty());
    }

    #[test]
    fn inclusive_and_exclusive_on_shared_vertex() {
        let z = zones(TILES);
        assert_eq!(at(&z, U, U, Boundary::Inclusive), vec![0, 1, 2]);
        assert!(at(&z, U, U, Boundary::Exclusive).is_empty());
        assert_eq!(at(&z, U / 2, U / 2, Boundary::Exclusive), vec![0]);
    }

    #[test]
    fn holes_and_orientation_do_not_matter() {
        // Clockwise shell, counter-clockwise hole.
        let z = zones(
            r#"{"type":"Polygon","coordinates":[
            [[0,0],[0,4],[4,4],[4,0],[0,0]], [[1,1],[3,1],[3,3],[1,3],[1,1]]]}"#,
        );
        assert_eq!(at(&z, U / 2, U / 2, Boundary::HalfOpen), vec![0]);
        assert!(at(&z, 2 * U, 2 * U, Boundary::HalfOpen).is_empty());
        assert_eq!(at(&z, U, 2 * U, Boundary::Inclusive), vec![0]);
        assert!(at(&z, U, 2 * U, Boundary::Exclusive).is_empty());
    }

    #[test]
    fn collinear_point_outside_an_edge_is_not_on_it() {
        let z = zones(r#"{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,2],[0,0]]]}"#);
        // (3, 0) is on the line of the bottom edge but beyond it.
        assert!(at(&z, 3 * U, 0, Boundary::Inclusive).is_empty());
        // (3, 3) is on the line of the diagonal but beyond it.
        assert!(at(&z, 3 * U, 3 * U, Boundary::Inclusive).is_empty());
        assert_eq!(at(&z, U, U, Boundary::Inclusive), vec![0]);
        assert!(at(&z, U, U, Boundary::Exclusive).is_empty());
    }

    #[test]
    fn overlapping_parts_of_a_zone_do_not_cancel() {
        let z = zones(
            r#"{"type":"MultiPolygon","coordinates":[
            [[[0,0],[2,0],[2,2],[0,2],[0,0]]], [[[1,1],[3,1],[3,3],[1,3],[1,1]]]]}"#,
        );
        assert_eq!(at(&z, 3 * U / 2, 3 * U / 2, Boundary::HalfOpen), vec![0]);
    }
}
