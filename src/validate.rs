//! What is wrong with a zone's polygons, for users who want to know (`Zones.validate`).
//!
//! The index gives every input a defined answer (even-odd per polygon, union per zone), so
//! none of this is refused; it is reported. Works on the snapped coordinates the index uses,
//! as `WidePoint`s so that rings unwrapped past ±180 fit, with the predicates of `coords`.

use crate::coords::{on_segment, orient, ray_crosses, to_degrees, WidePoint};

/// A snapped vertex (lon, lat) in 1e-7 degree.
pub type Vertex = WidePoint;

#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub polygon: usize,
    pub ring: Option<usize>,
    pub vertex: Option<usize>,
    pub kind: &'static str,
    /// Where, in degrees.
    pub lon: f64,
    pub lat: f64,
    pub detail: String,
}

/// At most this many crossings are reported per feature (a shredded coastline can have
/// thousands; the first ones say enough).
const MAX_CROSSINGS: usize = 100;

fn degrees(v: Vertex) -> (f64, f64) {
    (to_degrees(v.x), to_degrees(v.y))
}

/// Whether segments a–b and c–d share a point, and one such point.
fn intersection(a: Vertex, b: Vertex, c: Vertex, d: Vertex) -> Option<Vertex> {
    let (d1, d2) = (orient(c, d, a), orient(c, d, b));
    let (d3, d4) = (orient(a, b, c), orient(a, b, d));
    if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
        // Proper crossing: the point, rounded, for the report.
        let t = d1 as f64 / (d1 - d2) as f64;
        return Some(WidePoint::new(
            (a.x as f64 + t * (b.x - a.x) as f64) as i64,
            (a.y as f64 + t * (b.y - a.y) as f64) as i64,
        ));
    }
    [(c, a, b), (d, a, b), (a, c, d), (b, c, d)].into_iter().find(|&(p, s, e)| on_segment(s, e, p)).map(|(p, _, _)| p)
}

/// Problems of the polygons of one feature. `polygons[p][r]` is a ring as read (closing
/// vertex included when the input had one).
pub fn feature_problems(polygons: &[Vec<Vec<Vertex>>]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let cleaned: Vec<Vec<Vec<Vertex>>> = polygons
        .iter()
        .enumerate()
        .map(|(p, rings)| rings.iter().enumerate().map(|(r, ring)| ring_problems(p, r, ring, &mut problems)).collect())
        .collect();
    crossings(&cleaned, &mut problems);
    holes_outside(&cleaned, &mut problems);
    problems
}

/// The problems of one ring on their own (unclosed, repeated vertices, degenerate, spikes);
/// returns the ring without its repeats, or empty when it is degenerate.
fn ring_problems(p: usize, r: usize, ring: &[Vertex], problems: &mut Vec<Problem>) -> Vec<Vertex> {
    let mut report = |vertex: Option<usize>, at: Vertex, kind, detail: &str| {
        let (lon, lat) = degrees(at);
        problems.push(Problem { polygon: p, ring: Some(r), vertex, kind, lon, lat, detail: detail.into() });
    };
    if let (Some(&first), Some(&last)) = (ring.first(), ring.last()) {
        if first != last {
            let detail = "the ring does not end where it starts (closed automatically)";
            report(Some(ring.len() - 1), last, "unclosed ring", detail);
        }
    }
    // Repeated vertices, then spikes on what remains.
    let mut distinct: Vec<(usize, Vertex)> = Vec::with_capacity(ring.len());
    for (v, &x) in ring.iter().enumerate() {
        if distinct.last().map(|&(_, y)| y) == Some(x) {
            if v + 1 != ring.len() || Some(x) != ring.first().copied() {
                report(Some(v), x, "repeated vertex", "the vertex repeats the previous one");
            }
        } else {
            distinct.push((v, x));
        }
    }
    if distinct.len() > 1 && distinct.first().map(|d| d.1) == distinct.last().map(|d| d.1) {
        distinct.pop();
    }
    let n = distinct.len();
    if n < 3 || distinct.iter().all(|&(_, x)| orient(distinct[0].1, distinct[1].1, x) == 0) {
        let detail = "fewer than 3 distinct vertices or all on one line: it contains nothing (dropped)";
        report(None, ring.first().copied().unwrap_or_default(), "degenerate ring", detail);
        return Vec::new();
    }
    for i in 0..n {
        let (a, (v, b), c) = (distinct[(i + n - 1) % n].1, distinct[i], distinct[(i + 1) % n].1);
        let backwards = (b.x - a.x) as i128 * (c.x - b.x) as i128 + (b.y - a.y) as i128 * (c.y - b.y) as i128;
        if orient(a, b, c) == 0 && backwards < 0 {
            report(Some(v), b, "spike", "the ring turns back on itself here (a zero-width spike)");
        }
    }
    distinct.into_iter().map(|(_, x)| x).collect()
}

/// An edge of a feature, for `crossings`.
struct Edge {
    polygon: usize,
    ring: usize,
    index: usize,
    len: usize,
    a: Vertex,
    b: Vertex,
}

/// Edges that meet other than at their shared vertex: within a ring (it crosses or touches
/// itself), between rings of a polygon (a hole crossing or touching its shell or another
/// hole), between polygons of the feature (overlapping or touching parts). A sweep over
/// the edges sorted by their west end.
fn crossings(polygons: &[Vec<Vec<Vertex>>], problems: &mut Vec<Problem>) {
    let mut edges = Vec::new();
    for (p, rings) in polygons.iter().enumerate() {
        for (r, ring) in rings.iter().enumerate() {
            for i in 0..ring.len() {
                let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
                edges.push(Edge { polygon: p, ring: r, index: i, len: ring.len(), a, b });
            }
        }
    }
    edges.sort_by_key(|e| e.a.x.min(e.b.x));
    let mut active: Vec<usize> = Vec::new();
    let mut found = 0;
    for i in 0..edges.len() {
        let e = &edges[i];
        let west = e.a.x.min(e.b.x);
        active.retain(|&j| edges[j].a.x.max(edges[j].b.x) >= west);
        for &j in &active {
            let f = &edges[j];
            let same_ring = f.polygon == e.polygon && f.ring == e.ring;
            let gap = (e.index + e.len - f.index) % e.len;
            // Neighbours share a vertex by construction (spikes are reported apart).
            let neighbours = same_ring && (gap == 1 || gap == e.len - 1);
            let apart = e.a.y.min(e.b.y) > f.a.y.max(f.b.y) || f.a.y.min(f.b.y) > e.a.y.max(e.b.y);
            if neighbours || apart {
                continue;
            }
            if let Some(at) = intersection(e.a, e.b, f.a, f.b) {
                problems.push(meeting(e, f, at));
                found += 1;
                if found >= MAX_CROSSINGS {
                    return;
                }
            }
        }
        active.push(i);
    }
}

/// The problem two edges meeting at `at` make: within a ring, between rings, between parts.
fn meeting(e: &Edge, f: &Edge, at: Vertex) -> Problem {
    let (lon, lat) = degrees(at);
    let polygon = f.polygon.min(e.polygon);
    let (kind, detail, ring) = if f.polygon == e.polygon && f.ring == e.ring {
        let (first, second) = (f.index.min(e.index), f.index.max(e.index));
        let detail = format!("the ring crosses or touches itself (edges from vertex {first} and vertex {second})");
        ("self-intersection", detail, Some(e.ring))
    } else if f.polygon == e.polygon {
        let (first, second) = (f.ring.min(e.ring), f.ring.max(e.ring));
        let detail = format!(
            "rings {first} and {second} cross or touch (a hole must lie strictly inside its shell, apart from other holes)"
        );
        ("rings meet", detail, Some(first))
    } else {
        let second = f.polygon.max(e.polygon);
        let detail = format!(
            "polygons {polygon} and {second} of the feature cross or touch (parts of a MultiPolygon must not overlap)"
        );
        ("parts meet", detail, None)
    };
    Problem { polygon, ring, vertex: None, kind, lon, lat, detail }
}

/// Even-odd membership of `p` in a ring, under the half-open rule (callers pass points off
/// the ring's boundary, or report them otherwise).
fn ring_contains(ring: &[Vertex], p: Vertex) -> bool {
    (0..ring.len()).fold(false, |odd, i| odd ^ ray_crosses(ring[i], ring[(i + 1) % ring.len()], p))
}

fn on_ring_boundary(ring: &[Vertex], p: Vertex) -> bool {
    (0..ring.len()).any(|i| on_segment(ring[i], ring[(i + 1) % ring.len()], p))
}

/// Holes whose first vertex is outside their shell, and polygons nested in another polygon
/// of the same feature (one part inside another: they overlap without their edges meeting).
fn holes_outside(polygons: &[Vec<Vec<Vertex>>], problems: &mut Vec<Problem>) {
    let boxes: Vec<Option<[i64; 4]>> = polygons
        .iter()
        .map(|rings| {
            let shell = rings.first().filter(|s| !s.is_empty())?;
            Some(shell.iter().fold([i64::MAX, i64::MAX, i64::MIN, i64::MIN], |b, v| {
                [b[0].min(v.x), b[1].min(v.y), b[2].max(v.x), b[3].max(v.y)]
            }))
        })
        .collect();
    for (p, rings) in polygons.iter().enumerate() {
        let Some(shell) = rings.first().filter(|s| !s.is_empty()) else { continue };
        for (r, hole) in rings.iter().enumerate().skip(1) {
            // A vertex of the hole off the shell's boundary (one on it is "rings meet").
            let off_boundary = hole.iter().copied().find(|&v| !on_ring_boundary(shell, v));
            if let Some(v) = off_boundary {
                if !ring_contains(shell, v) {
                    let (lon, lat) = degrees(v);
                    problems.push(Problem {
                        polygon: p,
                        ring: Some(r),
                        vertex: Some(0),
                        kind: "hole outside shell",
                        lon,
                        lat,
                        detail: "the hole is not inside its shell (the even-odd rule makes it an extra part)".into(),
                    });
                }
            }
        }
        let v = shell[0];
        for (q, other) in polygons.iter().enumerate() {
            let Some(b) = boxes[q] else { continue };
            if q == p || v.x < b[0] || v.x > b[2] || v.y < b[1] || v.y > b[3] {
                continue;
            }
            if ring_contains(&other[0], v) {
                let (lon, lat) = degrees(shell[0]);
                problems.push(Problem { polygon: p, ring: Some(0), vertex: Some(0), kind: "parts overlap", lon, lat, detail: format!("polygon {p} starts inside polygon {q} of the same feature (parts of a MultiPolygon must not overlap)") });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(points: &[(i64, i64)]) -> Vec<Vertex> {
        points.iter().map(|&(x, y)| WidePoint::new(x, y)).collect()
    }

    fn kinds(problems: &[Problem]) -> Vec<&'static str> {
        let mut k: Vec<_> = problems.iter().map(|p| p.kind).collect();
        k.sort();
        k.dedup();
        k
    }

    #[test]
    fn a_clean_polygon_with_a_hole_has_no_problems() {
        let shell = ring(&[(0, 0), (10, 0), (10, 10), (0, 10), (0, 0)]);
        let hole = ring(&[(2, 2), (4, 2), (4, 4), (2, 2)]);
        assert_eq!(feature_problems(&[vec![shell, hole]]), vec![]);
    }

    #[test]
    fn each_kind_of_problem_is_found_where_it_is() {
        let bowtie = ring(&[(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)]);
        let p = feature_problems(&[vec![bowtie]]);
        assert_eq!(kinds(&p), vec!["self-intersection"]);
        assert_eq!((p[0].lon * 1e7, p[0].lat * 1e7), (5.0, 5.0));

        let spiky = ring(&[(0, 0), (10, 0), (10, 10), (10, 20), (10, 10), (0, 10), (0, 0)]);
        assert!(kinds(&feature_problems(&[vec![spiky]])).contains(&"spike"));

        let repeated_unclosed = ring(&[(0, 0), (10, 0), (10, 0), (10, 10)]);
        assert_eq!(kinds(&feature_problems(&[vec![repeated_unclosed]])), vec!["repeated vertex", "unclosed ring"]);

        let flat = ring(&[(0, 0), (5, 0), (10, 0), (0, 0)]);
        assert_eq!(kinds(&feature_problems(&[vec![flat]])), vec!["degenerate ring"]);

        let shell = ring(&[(0, 0), (10, 0), (10, 10), (0, 10), (0, 0)]);
        let touching_hole = ring(&[(0, 5), (4, 4), (4, 6), (0, 5)]);
        assert_eq!(kinds(&feature_problems(&[vec![shell.clone(), touching_hole]])), vec!["rings meet"]);
        let outside_hole = ring(&[(20, 20), (24, 20), (24, 24), (20, 20)]);
        assert_eq!(kinds(&feature_problems(&[vec![shell.clone(), outside_hole]])), vec!["hole outside shell"]);

        let crossing_part = ring(&[(5, 5), (15, 5), (15, 15), (5, 5)]);
        // Its edges cross the first part's, and it starts inside it.
        assert_eq!(
            kinds(&feature_problems(&[vec![shell.clone()], vec![crossing_part]])),
            vec!["parts meet", "parts overlap"]
        );
        let nested_part = ring(&[(2, 2), (3, 2), (3, 3), (2, 2)]);
        let p = feature_problems(&[vec![shell], vec![nested_part]]);
        assert_eq!(kinds(&p), vec!["parts overlap"]);
        assert_eq!(p[0].polygon, 1);
    }
}
