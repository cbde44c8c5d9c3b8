//! What is wrong with a zone's polygons, for users who want to know (`Zones.validate`).
//!
//! The index gives every input a defined answer (even-odd per polygon, union per zone), so
//! none of this is refused; it is reported. Works on the snapped coordinates the index uses,
//! as i64 so that rings unwrapped past ±180 fit.

use crate::coords::UNITS_PER_DEGREE;

/// A snapped vertex (lon, lat) in 1e-7 degree.
pub type Vertex = (i64, i64);

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
    (v.0 as f64 / UNITS_PER_DEGREE, v.1 as f64 / UNITS_PER_DEGREE)
}

fn orient(a: Vertex, b: Vertex, p: Vertex) -> i128 {
    (b.0 - a.0) as i128 * (p.1 - a.1) as i128 - (b.1 - a.1) as i128 * (p.0 - a.0) as i128
}

fn on_segment(a: Vertex, b: Vertex, p: Vertex) -> bool {
    orient(a, b, p) == 0 && a.0.min(b.0) <= p.0 && p.0 <= a.0.max(b.0) && a.1.min(b.1) <= p.1 && p.1 <= a.1.max(b.1)
}

/// Whether segments a–b and c–d share a point, and one such point.
fn intersection(a: Vertex, b: Vertex, c: Vertex, d: Vertex) -> Option<Vertex> {
    let (d1, d2) = (orient(c, d, a), orient(c, d, b));
    let (d3, d4) = (orient(a, b, c), orient(a, b, d));
    if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
        // Proper crossing: the point, rounded, for the report.
        let t = d1 as f64 / (d1 - d2) as f64;
        return Some(((a.0 as f64 + t * (b.0 - a.0) as f64) as i64, (a.1 as f64 + t * (b.1 - a.1) as f64) as i64));
    }
    [(c, a, b), (d, a, b), (a, c, d), (b, c, d)].into_iter().find(|&(p, s, e)| on_segment(s, e, p)).map(|(p, _, _)| p)
}

/// Problems of the polygons of one feature. `polygons[p][r]` is a ring as read (closing
/// vertex included when the input had one).
pub fn feature_problems(polygons: &[Vec<Vec<Vertex>>]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut cleaned: Vec<Vec<Vec<Vertex>>> = Vec::with_capacity(polygons.len());
    for (p, rings) in polygons.iter().enumerate() {
        let mut kept = Vec::new();
        for (r, ring) in rings.iter().enumerate() {
            let report = |problems: &mut Vec<Problem>, vertex: Option<usize>, at: Vertex, kind, detail: String| {
                let (lon, lat) = degrees(at);
                problems.push(Problem { polygon: p, ring: Some(r), vertex, kind, lon, lat, detail });
            };
            if let (Some(&first), Some(&last)) = (ring.first(), ring.last()) {
                if first != last {
                    report(&mut problems, Some(ring.len() - 1), last, "unclosed ring", "the ring does not end where it starts (closed automatically)".into());
                }
            }
            // Repeated vertices, then spikes on what remains.
            let mut distinct: Vec<(usize, Vertex)> = Vec::with_capacity(ring.len());
            for (v, &x) in ring.iter().enumerate() {
                if distinct.last().map(|&(_, y)| y) == Some(x) {
                    if v + 1 != ring.len() || Some(x) != ring.first().copied() {
                        report(&mut problems, Some(v), x, "repeated vertex", "the vertex repeats the previous one".into());
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
                let at = ring.first().copied().unwrap_or((0, 0));
                report(&mut problems, None, at, "degenerate ring", "fewer than 3 distinct vertices or all on one line: it contains nothing (dropped)".into());
                kept.push(Vec::new());
                continue;
            }
            for i in 0..n {
                let (a, (v, b), c) = (distinct[(i + n - 1) % n].1, distinct[i], distinct[(i + 1) % n].1);
                let backwards = (b.0 - a.0) as i128 * (c.0 - b.0) as i128 + (b.1 - a.1) as i128 * (c.1 - b.1) as i128;
                if orient(a, b, c) == 0 && backwards < 0 {
                    report(&mut problems, Some(v), b, "spike", "the ring turns back on itself here (a zero-width spike)".into());
                }
            }
            kept.push(distinct.into_iter().map(|(_, x)| x).collect());
        }
        cleaned.push(kept);
    }
    crossings(&cleaned, &mut problems);
    holes_outside(&cleaned, &mut problems);
    problems
}

/// Edges that meet other than at their shared vertex: within a ring (it crosses or touches
/// itself), between rings of a polygon (a hole crossing or touching its shell or another
/// hole), between polygons of the feature (overlapping or touching parts). A sweep over
/// the edges sorted by their west end.
fn crossings(polygons: &[Vec<Vec<Vertex>>], problems: &mut Vec<Problem>) {
    struct Edge {
        polygon: usize,
        ring: usize,
        index: usize,
        len: usize,
        a: Vertex,
        b: Vertex,
    }
    let mut edges = Vec::new();
    for (p, rings) in polygons.iter().enumerate() {
        for (r, ring) in rings.iter().enumerate() {
            for i in 0..ring.len() {
                let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
                edges.push(Edge { polygon: p, ring: r, index: i, len: ring.len(), a, b });
            }
        }
    }
    edges.sort_by_key(|e| e.a.0.min(e.b.0));
    let mut active: Vec<usize> = Vec::new();
    let mut found = 0;
    for i in 0..edges.len() {
        let e = &edges[i];
        let west = e.a.0.min(e.b.0);
        active.retain(|&j| edges[j].a.0.max(edges[j].b.0) >= west);
        for &j in &active {
            let f = &edges[j];
            let same_ring = f.polygon == e.polygon && f.ring == e.ring;
            if same_ring {
                let gap = (e.index + e.len - f.index) % e.len;
                if gap == 1 || gap == e.len - 1 {
                    continue; // neighbours share a vertex by construction (spikes are reported apart)
                }
            }
            if e.a.1.min(e.b.1) > f.a.1.max(f.b.1) || f.a.1.min(f.b.1) > e.a.1.max(e.b.1) {
                continue;
            }
            if let Some(at) = intersection(e.a, e.b, f.a, f.b) {
                let (lon, lat) = degrees(at);
                let (kind, detail, ring) = if same_ring {
                    ("self-intersection", format!("the ring crosses or touches itself (edges from vertex {} and vertex {})", f.index.min(e.index), f.index.max(e.index)), Some(e.ring))
                } else if f.polygon == e.polygon {
                    ("rings meet", format!("rings {} and {} cross or touch (a hole must lie strictly inside its shell, apart from other holes)", f.ring.min(e.ring), f.ring.max(e.ring)), Some(f.ring.min(e.ring)))
                } else {
                    ("parts meet", format!("polygons {} and {} of the feature cross or touch (parts of a MultiPolygon must not overlap)", f.polygon.min(e.polygon), f.polygon.max(e.polygon)), None)
                };
                problems.push(Problem { polygon: f.polygon.min(e.polygon), ring, vertex: None, kind, lon, lat, detail });
                found += 1;
                if found >= MAX_CROSSINGS {
                    return;
                }
            }
        }
        active.push(i);
    }
}

/// Even-odd membership of `p` in a ring (boundary points count as outside).
fn ring_contains(ring: &[Vertex], p: Vertex) -> bool {
    let mut odd = false;
    for i in 0..ring.len() {
        let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
        if (a.1 > p.1) != (b.1 > p.1) {
            let side = orient(a, b, p);
            if (side > 0) == (b.1 > a.1) {
                odd = !odd;
            }
        }
    }
    odd
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
            Some(shell.iter().fold([i64::MAX, i64::MAX, i64::MIN, i64::MIN], |b, v| [b[0].min(v.0), b[1].min(v.1), b[2].max(v.0), b[3].max(v.1)]))
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
                    problems.push(Problem { polygon: p, ring: Some(r), vertex: Some(0), kind: "hole outside shell", lon, lat, detail: "the hole is not inside its shell (the even-odd rule makes it an extra part)".into() });
                }
            }
        }
        let v = shell[0];
        for (q, other) in polygons.iter().enumerate() {
            let Some(b) = boxes[q] else { continue };
            if q == p || v.0 < b[0] || v.0 > b[2] || v.1 < b[1] || v.1 > b[3] {
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
        points.to_vec()
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
        assert_eq!(kinds(&feature_problems(&[vec![shell.clone()], vec![crossing_part]])), vec!["parts meet", "parts overlap"]);
        let nested_part = ring(&[(2, 2), (3, 2), (3, 3), (2, 2)]);
        let p = feature_problems(&[vec![shell], vec![nested_part]]);
        assert_eq!(kinds(&p), vec!["parts overlap"]);
        assert_eq!(p[0].polygon, 1);
    }
}
