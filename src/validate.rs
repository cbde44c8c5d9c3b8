//! What is wrong with a zone's polygons, for users who want to know (`Zones.validate`).
//!
//! The index gives every input a defined answer (even-odd per polygon, union per zone), so
//! none of this is refused; it is reported. Works on the snapped coordinates the index uses,
//! as `WidePoint`s so that rings unwrapped past ±180 fit, with the predicates of `coords`.

use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, RTreeObject};

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
        let detail = if r == 0 {
            "fewer than 3 distinct vertices or all on one line: it contains nothing (dropped, with its polygon's holes)"
        } else {
            "fewer than 3 distinct vertices or all on one line: it contains nothing (dropped)"
        };
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
/// hole), between polygons of the feature (overlapping or touching parts). Each edge, in the
/// order of their west ends, is tested against the earlier edges whose boxes meet its box.
fn crossings(polygons: &[Vec<Vec<Vertex>>], problems: &mut Vec<Problem>) {
    crossings_with_budget(polygons, problems, SWEEP_PAIRS_PER_EDGE)
}

/// `crossings`, with the sweep's budget of pairs per edge (any budget, the same problems).
fn crossings_with_budget(polygons: &[Vec<Vec<Vertex>>], problems: &mut Vec<Problem>, pairs_per_edge: usize) {
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
    let mut found = 0;
    // Whether the pair is a problem, and whether enough have been found.
    let mut test = |e: &Edge, f: &Edge| {
        let same_ring = f.polygon == e.polygon && f.ring == e.ring;
        let gap = (e.index + e.len - f.index) % e.len;
        // Neighbours share a vertex by construction (spikes are reported apart).
        if !(same_ring && (gap == 1 || gap == e.len - 1)) {
            if let Some(at) = intersection(e.a, e.b, f.a, f.b) {
                problems.push(meeting(e, f, at));
                found += 1;
            }
        }
        found >= MAX_CROSSINGS
    };
    // A sweep over x first: the earlier edges that still span an edge's west end, of which
    // those whose latitudes overlap its own are tested. Few edges span any longitude of a
    // coastline, so this is the fastest way on real zones, but it is quadratic when many do
    // (parts stacked north to south): past a budget of pairs per edge, the R-tree takes over
    // from the edge the sweep stopped at.
    let budget = pairs_per_edge.saturating_mul(edges.len());
    let mut swept = 0;
    let mut active: Vec<usize> = Vec::new();
    for (i, e) in edges.iter().enumerate() {
        let west = e.a.x.min(e.b.x);
        active.retain(|&j| edges[j].a.x.max(edges[j].b.x) >= west);
        swept += active.len();
        if swept > budget {
            return crossings_from(&edges, i, test);
        }
        for &j in &active {
            let f = &edges[j];
            let apart = e.a.y.min(e.b.y) > f.a.y.max(f.b.y) || f.a.y.min(f.b.y) > e.a.y.max(e.b.y);
            if !apart && test(e, f) {
                return;
            }
        }
        active.push(i);
    }
}

/// Pairs of edges the sweep of `crossings` may test per edge, on average, before it hands
/// over to the R-tree, which costs more than that sweep on real zones but tests only the pairs
/// whose boxes meet (still quadratic where many boxes meet, as at the centre of a star of
/// spikes, where the sweep is too).
const SWEEP_PAIRS_PER_EDGE: usize = 64;

/// `crossings` from the edge at `start` on (those before it are done), with the earlier edges
/// whose boxes meet each edge's box found in an R-tree, in the same order as the sweep.
fn crossings_from(edges: &[Edge], start: usize, mut test: impl FnMut(&Edge, &Edge) -> bool) {
    let boxes = BoxTree::new(edges.iter().map(|e| Some(bounding_box([e.a, e.b].iter()))));
    let mut earlier = Vec::new();
    for (i, e) in edges.iter().enumerate().skip(start) {
        boxes.meeting(bounding_box([e.a, e.b].iter()), &mut earlier);
        earlier.retain(|&j| j < i);
        earlier.sort_unstable();
        for &j in &earlier {
            if test(e, &edges[j]) {
                return;
            }
        }
    }
}

/// The smallest box [west, south, east, north] holding the vertices.
fn bounding_box<'a>(vertices: impl Iterator<Item = &'a Vertex>) -> [i64; 4] {
    vertices.fold([i64::MAX, i64::MAX, i64::MIN, i64::MIN], |b, v| {
        [b[0].min(v.x), b[1].min(v.y), b[2].max(v.x), b[3].max(v.y)]
    })
}

/// Boxes (closed; by their position in a list) in an R-tree, for which of them meet a box.
/// Coordinates as f64, exact for snapped ones (below 2^53), so that no arithmetic of the
/// tree's can overflow.
struct BoxTree(RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>);

impl BoxTree {
    /// The boxes; `None` is a box that meets nothing.
    fn new(boxes: impl Iterator<Item = Option<[i64; 4]>>) -> BoxTree {
        let items = boxes.enumerate().filter_map(|(i, b)| Some(GeomWithData::new(rectangle(b?), i))).collect();
        BoxTree(RTree::bulk_load(items))
    }

    /// The positions of the boxes that meet `b` (touching included), in no order, into `out`.
    fn meeting(&self, b: [i64; 4], out: &mut Vec<usize>) {
        out.clear();
        out.extend(self.0.locate_in_envelope_intersecting(&rectangle(b).envelope()).map(|item| item.data));
    }
}

fn rectangle(b: [i64; 4]) -> Rectangle<[f64; 2]> {
    Rectangle::from_corners([b[0] as f64, b[1] as f64], [b[2] as f64, b[3] as f64])
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

/// A ring's edges by horizontal stripe (tg's "ystripes"), for many point-in-ring questions
/// about one ring: every hole of a shell, every part that may start inside another. Each
/// stripe lists the edges whose latitudes overlap it, so a question reads one stripe, not the
/// whole ring.
struct RingStripes<'a> {
    ring: &'a [Vertex],
    south: i64,
    height: i64,
    /// Stripe k's edges (by their first vertex) are `edges[starts[k]..starts[k + 1]]`.
    starts: Vec<usize>,
    edges: Vec<u32>,
}

/// Below this many vertices, a ring is read whole.
const STRIPES_FROM_VERTICES: usize = 64;
/// Stripe entries per edge at most: stripes are halved until the long edges fit.
const STRIPE_ENTRIES_PER_EDGE: usize = 8;

impl<'a> RingStripes<'a> {
    fn new(ring: &'a [Vertex]) -> RingStripes<'a> {
        let n = ring.len();
        let edge = |i: usize| (ring[i], ring[(i + 1) % n]);
        let (south, north) = ring.iter().fold((i64::MAX, i64::MIN), |(s, t), v| (s.min(v.y), t.max(v.y)));
        // The stripes an edge overlaps, first and last.
        let span = |i: usize, height: i64| {
            let (a, b) = edge(i);
            (((a.y.min(b.y) - south) / height) as usize, ((a.y.max(b.y) - south) / height) as usize)
        };
        let mut count = if n < STRIPES_FROM_VERTICES { 1 } else { n / 4 };
        let height = loop {
            let height = (north.saturating_sub(south) / count as i64).max(1) + 1;
            let entries: usize = (0..n).map(|i| span(i, height)).map(|(first, last)| last - first + 1).sum();
            if count == 1 || entries <= STRIPE_ENTRIES_PER_EDGE * n {
                break height;
            }
            count /= 2;
        };
        let stripes = ((north.saturating_sub(south)) / height) as usize + 1;
        let mut starts = vec![0usize; stripes + 1];
        for i in 0..n {
            let (first, last) = span(i, height);
            for k in first..=last {
                starts[k + 1] += 1;
            }
        }
        for k in 0..stripes {
            starts[k + 1] += starts[k];
        }
        let mut next = starts.clone();
        let mut edges = vec![0u32; starts[stripes]];
        for i in 0..n {
            let (first, last) = span(i, height);
            for k in first..=last {
                edges[next[k]] = i as u32;
                next[k] += 1;
            }
        }
        RingStripes { ring, south, height, starts, edges }
    }

    /// The edges that may meet latitude `y`.
    fn near(&self, y: i64) -> impl Iterator<Item = (Vertex, Vertex)> + '_ {
        let k = if y < self.south { None } else { Some(((y - self.south) / self.height) as usize) };
        let run = k.filter(|&k| k + 1 < self.starts.len()).map_or(0..0, |k| self.starts[k]..self.starts[k + 1]);
        let n = self.ring.len();
        self.edges[run].iter().map(move |&i| (self.ring[i as usize], self.ring[(i as usize + 1) % n]))
    }

    /// Even-odd membership of `p`, under the half-open rule (callers pass points off the
    /// ring's boundary, or report them otherwise).
    fn contains(&self, p: Vertex) -> bool {
        self.near(p.y).fold(false, |odd, (a, b)| odd ^ ray_crosses(a, b, p))
    }

    fn on_boundary(&self, p: Vertex) -> bool {
        self.near(p.y).any(|(a, b)| on_segment(a, b, p))
    }
}

/// Holes whose first vertex is outside their shell, holes inside another hole of their
/// polygon, and polygons nested in another polygon of the same feature (one part inside
/// another: they overlap without their edges meeting).
fn holes_outside(polygons: &[Vec<Vec<Vertex>>], problems: &mut Vec<Problem>) {
    let shell_box = |rings: &Vec<Vec<Vertex>>| rings.first().filter(|s| !s.is_empty()).map(|s| bounding_box(s.iter()));
    let shells = BoxTree::new(polygons.iter().map(shell_box));
    // Each shell's stripes, made when it is first asked about.
    let stripes: Vec<std::cell::OnceCell<RingStripes>> = polygons.iter().map(|_| std::cell::OnceCell::new()).collect();
    let stripes_of = |q: usize| stripes[q].get_or_init(|| RingStripes::new(&polygons[q][0]));
    let mut around = Vec::new();
    for (p, rings) in polygons.iter().enumerate() {
        let Some(shell) = rings.first().filter(|s| !s.is_empty()) else { continue };
        for (r, hole) in rings.iter().enumerate().skip(1) {
            // A vertex of the hole off the shell's boundary (one on it is "rings meet").
            let off_boundary = hole.iter().copied().find(|&v| !stripes_of(p).on_boundary(v));
            if let Some(v) = off_boundary {
                if !stripes_of(p).contains(v) {
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
        holes_nested(p, rings, problems);
        let v = shell[0];
        shells.meeting([v.x, v.y, v.x, v.y], &mut around);
        around.sort_unstable();
        for &q in &around {
            if q != p && stripes_of(q).contains(v) {
                let (lon, lat) = degrees(shell[0]);
                problems.push(Problem { polygon: p, ring: Some(0), vertex: Some(0), kind: "parts overlap", lon, lat, detail: format!("polygon {p} starts inside polygon {q} of the same feature (parts of a MultiPolygon must not overlap)") });
            }
        }
    }
}

/// Holes of polygon `p` lying inside another of its holes: the even-odd rule makes the inner
/// one part of the zone again (shapely: "Holes are nested").
fn holes_nested(p: usize, rings: &[Vec<Vertex>], problems: &mut Vec<Problem>) {
    let holes = &rings[1..];
    if holes.len() < 2 {
        return;
    }
    let boxes = BoxTree::new(holes.iter().map(|h| (!h.is_empty()).then(|| bounding_box(h.iter()))));
    let stripes: Vec<std::cell::OnceCell<RingStripes>> = holes.iter().map(|_| std::cell::OnceCell::new()).collect();
    let stripes_of = |j: usize| stripes[j].get_or_init(|| RingStripes::new(&holes[j]));
    let mut around = Vec::new();
    for (i, hole) in holes.iter().enumerate() {
        let Some(bounds) = (!hole.is_empty()).then(|| bounding_box(hole.iter())) else { continue };
        boxes.meeting(bounds, &mut around);
        around.sort_unstable();
        for &j in &around {
            // Every vertex of hole i off hole j's boundary inside it, and one at least (holes
            // that cross are "rings meet" alone, whichever vertex they start at).
            let inside = j != i && {
                let mut off = hole.iter().copied().filter(|&v| !stripes_of(j).on_boundary(v)).peekable();
                off.peek().is_some() && off.all(|v| stripes_of(j).contains(v))
            };
            if inside {
                let (lon, lat) = degrees(hole[0]);
                let detail = format!(
                    "hole {} lies inside hole {} of the same polygon (the even-odd rule makes it part of the zone again)",
                    i + 1,
                    j + 1
                );
                problems.push(Problem {
                    polygon: p,
                    ring: Some(i + 1),
                    vertex: Some(0),
                    kind: "holes nested",
                    lon,
                    lat,
                    detail,
                });
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
        let (outer, inner) =
            (ring(&[(1, 1), (9, 1), (9, 9), (1, 9), (1, 1)]), ring(&[(3, 3), (7, 3), (7, 7), (3, 7), (3, 3)]));
        let nested = feature_problems(&[vec![shell.clone(), outer.clone(), inner.clone()]]);
        assert_eq!(kinds(&nested), vec!["holes nested"]);
        assert_eq!(nested[0].ring, Some(2));
        assert_eq!(kinds(&feature_problems(&[vec![shell.clone(), inner, outer]])), vec!["holes nested"]);
        // Crossing holes meet; neither is inside the other, whichever vertex each starts at.
        let (a, b) = (ring(&[(1, 1), (5, 1), (5, 5), (1, 5), (1, 1)]), ring(&[(3, 3), (7, 3), (7, 7), (3, 7), (3, 3)]));
        let b_from_inside = ring(&[(3, 3), (7, 3), (7, 7), (3, 7), (3, 3)]);
        let b_from_outside = ring(&[(7, 7), (3, 7), (3, 3), (7, 3), (7, 7)]);
        for b in [b, b_from_inside, b_from_outside] {
            let problems = feature_problems(&[vec![shell.clone(), a.clone(), b]]);
            assert!(problems.iter().all(|p| p.kind == "rings meet"), "{problems:?}");
        }

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

    #[test]
    fn the_sweep_and_the_r_tree_find_the_same_crossings() {
        // Parts stacked north to south, each overlapping the next (many edges span every
        // longitude), and a bowtie among them.
        let mut feature: Vec<Vec<Vec<Vertex>>> = (0..300)
            .map(|k| vec![ring(&[(0, 8 * k), (10, 8 * k), (10, 8 * k + 10), (0, 8 * k + 10), (0, 8 * k)])])
            .collect();
        feature.insert(150, vec![ring(&[(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)])]);
        let found = |pairs_per_edge| {
            let mut problems = Vec::new();
            crossings_with_budget(&feature, &mut problems, pairs_per_edge);
            problems
        };
        let swept = found(usize::MAX);
        assert_eq!(swept.len(), MAX_CROSSINGS);
        assert!(kinds(&swept).contains(&"parts meet"));
        // From the first edge, or handed over part-way.
        assert_eq!(found(0), swept);
        assert_eq!(found(2), swept);
        // A budget the sweep stays within.
        assert_eq!(found(10_000), swept);
    }

    #[test]
    fn ring_stripes_answer_as_the_whole_ring_does() {
        // A star of 400 vertices, and a comb whose long teeth span every stripe.
        let star: Vec<Vertex> = (0..=400)
            .map(|i| {
                let (angle, radius) =
                    (i as f64 * std::f64::consts::TAU / 400.0, if i % 2 == 0 { 1000.0 } else { 400.0 });
                WidePoint::new((radius * angle.cos()).round() as i64, (radius * angle.sin()).round() as i64)
            })
            .collect();
        let mut comb = vec![WidePoint::new(0, 0)];
        for t in 0..100 {
            comb.extend([
                WidePoint::new(20 * t + 10, 0),
                WidePoint::new(20 * t + 10, 1000),
                WidePoint::new(20 * t + 20, 1000),
            ]);
            comb.push(WidePoint::new(20 * t + 20, 0));
        }
        comb.extend([WidePoint::new(2000, -10), WidePoint::new(0, -10), WidePoint::new(0, 0)]);
        for ring in [star, comb] {
            let stripes = RingStripes::new(&ring);
            assert!(stripes.starts.len() > 2, "more than one stripe");
            assert!(stripes.edges.len() <= STRIPE_ENTRIES_PER_EDGE * ring.len());
            let whole_contains =
                |p| (0..ring.len()).fold(false, |odd, i| odd ^ ray_crosses(ring[i], ring[(i + 1) % ring.len()], p));
            let whole_on = |p| (0..ring.len()).any(|i| on_segment(ring[i], ring[(i + 1) % ring.len()], p));
            let probes =
                (-1100..=2100).step_by(37).flat_map(|x| (-1100..=1100).step_by(23).map(move |y| WidePoint::new(x, y)));
            for p in probes.chain(ring.iter().copied()) {
                assert_eq!(stripes.contains(p), whole_contains(p), "{p:?}");
                assert_eq!(stripes.on_boundary(p), whole_on(p), "{p:?}");
            }
        }
    }
}
