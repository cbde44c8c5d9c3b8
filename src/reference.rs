//! The brute-force reference kernel: every edge of every polygon, no index.
//!
//! It is slow on purpose and simple enough to check by eye; it is the oracle the global
//! index is tested against and is never on the hot path.

use crate::boundary::Boundary;
use crate::coords::{on_segment, ray_crosses, Point};
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
    let mut out: Vec<u32> = (0..zones.polygon_count())
        .filter(|&p| polygon_contains(zones, p, pt, boundary))
        .map(|p| zones.polygon_zone[p])
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// `zones_containing` that skips polygons whose bounds (from `polygon_bounds`) exclude
/// the point: exact, since a polygon contains nothing outside its bounds, and fast enough
/// to check the index on a million points.
pub fn zones_containing_bounded(zones: &ZoneGeometry, bounds: &[[i32; 4]], pt: Point, boundary: Boundary) -> Vec<u32> {
    let mut out: Vec<u32> = (0..zones.polygon_count())
        .filter(|&p| {
            let [x0, y0, x1, y1] = bounds[p];
            pt.x >= x0 && pt.x <= x1 && pt.y >= y0 && pt.y <= y1 && polygon_contains(zones, p, pt, boundary)
        })
        .map(|p| zones.polygon_zone[p])
        .collect();
    out.sort_unstable();
    out.dedup();
    out
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
