//! Polygons that cross the antimeridian, made planar.
//!
//! The index is planar in (lon, lat): a zone that crosses 180° must arrive as pieces inside
//! [-180, 180]. Real files write such zones in several ways, and each is read as its maker
//! meant:
//!
//! | encoding | example | how it is read |
//! |---|---|---|
//! | cut at ±180 (RFC 7946) | a MultiPolygon whose parts run along x = 180 and x = -180 | as it is: nothing to do |
//! | past ±180 | a ring from 170 to 190 | unwrapped, then cut |
//! | jumps | consecutive vertices 179 → -179 | each step the short way round, then cut |
//! | seams (TopoJSON, d3) | consecutive vertices at exactly -180 and exactly 180 | a step along the meridian: -180 and 180 are one line |
//! | round a pole | Antarctica, closed along -90 or left open | unwrapped; winding once round the pole, closed along it |
//! | the whole width | the box (-180,-90) (180,-90) (180,-60) (-180,-60) | read as seams it has no area, so it is read literally |
//!
//! The rule, top to bottom, on coordinates already snapped to integer units (so "exactly
//! ±180" survives float noise such as Natural Earth's 180.00000000000006):
//!
//! 1. A polygon comes here when a ring has a longitude beyond ±180 or a step of more than
//!    180° between consecutive vertices (a jump or a seam), the closing step included.
//! 2. Each ring is *unwrapped*: every step taken the short way round, a seam step taken as
//!    0° (along the meridian). Wrangel Island in the d3 world map starts at (-180, 70.99),
//!    goes round the island west of 180 and comes back through (180, 71.54): read so, it is
//!    the island, where a literal reading of the closing step (360° east) made the ring
//!    wind round the North Pole and tagged the whole Arctic as Russia.
//! 3. A ring that has no area read that way (it only ran along the meridian) is read
//!    literally instead, if read so it closes: seam steps as drawn (±360°), other steps the
//!    short way. That keeps boxes that mean "every longitude" working, and leaves a sliver
//!    with no area either way (its vertices on one line after snapping) without area, where
//!    the literal reading, winding once round the globe, was closed along a pole by rule 4.
//! 4. A ring whose unwrapped end lies 360° from its start winds once round a pole: it is
//!    closed along that pole's latitude (the nearer pole by mean latitude).
//! 5. Every copy of every ring shifted by a multiple of 360° that overlaps [-180, 180] is
//!    kept, clipped on its own (Sutherland–Hodgman against the two meridians), and all of
//!    them make one polygon, read by the even-odd rule. That is exact: what a clip replaces is
//!    a loop lying outside the window, which a ray from inside crosses an even number of
//!    times, and a point's parity over all the copies is its parity on the sphere, wherever a
//!    hole lies against its shell's copy. The cut adds vertices exactly on ±180.

use crate::coords::{WidePoint, HALF_TURN, TURN};

/// Whether a step from `a` to `b` is a seam: from exactly -180 to exactly 180, or back.
pub fn is_seam(a: WidePoint, b: WidePoint) -> bool {
    a.x.abs() == HALF_TURN && b.x == -a.x
}

/// Consecutive vertex pairs of a ring, with the closing step when the ring is not closed.
fn steps(ring: &[WidePoint]) -> impl Iterator<Item = (WidePoint, WidePoint)> + '_ {
    let closing = match (ring.first(), ring.last()) {
        (Some(&first), Some(&last)) if first != last => Some((last, first)),
        _ => None,
    };
    ring.windows(2).map(|w| (w[0], w[1])).chain(closing)
}

/// Whether a polygon (its rings) is written across the antimeridian: a longitude beyond
/// ±180, or consecutive vertices more than 180° of longitude apart (seams included).
pub fn crosses_antimeridian(rings: &[Vec<WidePoint>]) -> bool {
    rings.iter().any(|ring| {
        ring.iter().any(|p| p.x.abs() > HALF_TURN) || steps(ring).any(|(a, b)| (b.x - a.x).abs() > HALF_TURN)
    })
}

fn has_seam(ring: &[WidePoint]) -> bool {
    steps(ring).any(|(a, b)| is_seam(a, b))
}

/// What `Zones.validate` notes about a polygon written across the antimeridian: seams read
/// along the meridian (rule 2), or a ring past ±180 or with jumps, unwrapped and cut; nothing
/// for one whose only seams are read literally (rule 3: a box spanning every longitude).
pub fn note(rings: &[Vec<WidePoint>]) -> Option<&'static str> {
    if rings.iter().any(|ring| has_seam(ring) && !seams_are_literal(ring)) {
        return Some("antimeridian seam");
    }
    let crosses = |ring: &Vec<WidePoint>| {
        ring.iter().any(|p| p.x.abs() > HALF_TURN)
            || steps(ring).any(|(a, b)| (b.x - a.x).abs() > HALF_TURN && !is_seam(a, b))
    };
    rings.iter().any(crosses).then_some("crosses antimeridian")
}

/// Rule 3: read along the meridian, the ring has no area; read as drawn, it closes.
fn seams_are_literal(ring: &[WidePoint]) -> bool {
    if !has_seam(ring) || twice_area(&unwrap_steps(ring, Seam::AlongMeridian)) != 0 {
        return false;
    }
    let drawn = unwrap_steps(ring, Seam::AsDrawn);
    drawn.first().map(|p| p.x) == drawn.last().map(|p| p.x)
}

/// A polygon already unwrapped (`unwrap_polygon`) within [-180, 180]: every copy of every
/// ring, shifted by a multiple of 360°, that overlaps the window, each clipped to it. One polygon, read by the even-odd rule like
/// any other: the copies of a ring never overlap one another (a ring winding round a pole is
/// a strip one turn long, whose copies tile the band), so a point's parity is its parity on
/// the sphere. Cutting the shell into one polygon per copy, each with the copy of every hole
/// nearest it, was wrong where a hole straddled the end of its shell's copy (a hole in a
/// zone round a pole, or round the pole itself): the part of the hole beyond that copy was
/// inside no shell, and the even-odd rule counted it in the zone.
/// Clipping may leave degenerate rings; the caller drops those.
pub fn cut_to_window(unwrapped: &[Vec<WidePoint>]) -> Vec<Vec<WidePoint>> {
    let mut copies = Vec::new();
    for ring in unwrapped {
        let (lo, hi) = lon_range(ring);
        // The shifts k·360° that bring some of the ring strictly inside the window; at most
        // four turns either way, which a ring on the sphere never needs, so that a ring
        // written as a spiral of many turns costs a few copies, not one per turn.
        let first = ((-HALF_TURN - hi).div_euclid(TURN) + 1).max(-MAX_TURNS);
        let last = (HALF_TURN - lo - 1).div_euclid(TURN).min(MAX_TURNS);
        for k in first..=last {
            let shift = TURN * k;
            let moved: Vec<WidePoint> = ring.iter().map(|p| WidePoint::new(p.x + shift, p.y)).collect();
            copies.push(clip_to_band(&moved, -HALF_TURN, HALF_TURN));
        }
    }
    copies
}

/// The most copies either way of the window `cut_to_window` makes of a ring.
const MAX_TURNS: i64 = 4;

/// The polygon with continuous longitudes (possibly past ±180): rings unwrapped, closed
/// along a pole if they go round one, holes moved to the copy nearest their shell.
pub fn unwrap_polygon(rings: &[Vec<WidePoint>]) -> Vec<Vec<WidePoint>> {
    unwrap_polygon_noting_closures(rings).0
}

/// `unwrap_polygon`, and the longitudes of the meridians along which it closed rings round a
/// pole (rule 4: two per such ring, a turn apart): lines it drew, which `validate` does not
/// hold against the input where they cross a hole.
pub fn unwrap_polygon_noting_closures(rings: &[Vec<WidePoint>]) -> (Vec<Vec<WidePoint>>, Vec<i64>) {
    let Some(shell) = rings.first() else { return (Vec::new(), Vec::new()) };
    let (shell, mut closures) = unwrap_ring(shell);
    let (lo, hi) = lon_range(&shell);
    let centre = (lo + hi) / 2;
    let mut unwrapped = vec![shell];
    for hole in &rings[1..] {
        let (hole, hole_closures) = unwrap_ring(hole);
        let (hlo, hhi) = lon_range(&hole);
        let shift = TURN * div_round(i128::from(centre - (hlo + hhi) / 2), i128::from(TURN)) as i64;
        unwrapped.push(hole.iter().map(|p| WidePoint::new(p.x + shift, p.y)).collect());
        closures.extend(hole_closures.iter().map(|x| x + shift));
    }
    (unwrapped, closures)
}

/// What a seam step is taken as.
#[derive(Clone, Copy, PartialEq)]
enum Seam {
    /// 0°: a step along the meridian (rule 2).
    AlongMeridian,
    /// ±360°, as drawn (rule 3).
    AsDrawn,
}

/// Rules 2 to 4 for one ring: unwrapped, closed, and closed along a pole if it goes round one
/// (then with the longitudes of the two meridians it was closed along).
fn unwrap_ring(ring: &[WidePoint]) -> (Vec<WidePoint>, Vec<i64>) {
    let seam = if seams_are_literal(ring) { Seam::AsDrawn } else { Seam::AlongMeridian };
    let mut out = unwrap_steps(ring, seam);
    let (Some(&first), Some(&last)) = (out.first(), out.last()) else { return (out, Vec::new()) };
    if last.x == first.x {
        return (out, Vec::new());
    }
    // Around a pole: the nearer one, by the ring's mean latitude.
    let mean = out.iter().map(|p| i128::from(p.y)).sum::<i128>() / out.len() as i128;
    let pole = if mean < 0 { -HALF_TURN / 2 } else { HALF_TURN / 2 };
    out.extend([WidePoint::new(last.x, pole), WidePoint::new(first.x, pole), first]);
    (out, vec![first.x, last.x])
}

/// The ring with continuous longitudes, closed (its last vertex is its first, moved by the
/// net winding: a multiple of 360°).
fn unwrap_steps(ring: &[WidePoint], seam: Seam) -> Vec<WidePoint> {
    let Some(&first) = ring.first() else { return Vec::new() };
    let mut out = Vec::with_capacity(ring.len() + 4);
    out.push(first);
    let mut x = first.x;
    for (a, b) in steps(ring) {
        x += step(a, b, seam);
        out.push(WidePoint::new(x, b.y));
    }
    out
}

/// The longitude step from `a` to `b`: the short way round, or a seam as `seam` says.
fn step(a: WidePoint, b: WidePoint, seam: Seam) -> i64 {
    let d = b.x - a.x;
    if is_seam(a, b) {
        return if seam == Seam::AlongMeridian { 0 } else { d };
    }
    let short = d.rem_euclid(TURN);
    match short.cmp(&HALF_TURN) {
        std::cmp::Ordering::Less => short,
        std::cmp::Ordering::Greater => short - TURN,
        // Exactly half a turn either way: against the direction written.
        std::cmp::Ordering::Equal => -d.signum() * HALF_TURN,
    }
}

/// Twice the signed area of a closed ring (exact).
fn twice_area(ring: &[WidePoint]) -> i128 {
    ring.windows(2).map(|w| i128::from(w[0].x) * i128::from(w[1].y) - i128::from(w[1].x) * i128::from(w[0].y)).sum()
}

fn lon_range(ring: &[WidePoint]) -> (i64, i64) {
    ring.iter().fold((i64::MAX, i64::MIN), |(lo, hi), p| (lo.min(p.x), hi.max(p.x)))
}

/// The part of a closed ring with `west <= lon <= east`, closed.
fn clip_to_band(ring: &[WidePoint], west: i64, east: i64) -> Vec<WidePoint> {
    let (lo, hi) = lon_range(ring);
    if lo >= west && hi <= east {
        return ring.to_vec();
    }
    let clipped = clip(ring, west, |x| x >= west);
    clip(&clipped, east, |x| x <= east)
}

/// Sutherland–Hodgman against the meridian `x_edge`, keeping the side where `inside` holds.
/// Takes and returns closed rings (first vertex repeated last).
fn clip(ring: &[WidePoint], x_edge: i64, inside: impl Fn(i64) -> bool) -> Vec<WidePoint> {
    let mut out = Vec::with_capacity(ring.len() + 4);
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (a_in, b_in) = (inside(a.x), inside(b.x));
        if a_in != b_in {
            out.push(WidePoint::new(x_edge, lat_at(a, b, x_edge)));
        }
        if b_in {
            out.push(b);
        }
    }
    if let Some(&first) = out.first() {
        out.push(first);
    }
    out
}

/// The latitude where segment a–b meets the meridian `x` (between its ends), rounded to the
/// nearest unit; the same whichever way the segment runs, so that two rings sharing an edge
/// are cut at the same point.
fn lat_at(a: WidePoint, b: WidePoint, x: i64) -> i64 {
    let (w, e) = if (a.x, a.y) <= (b.x, b.y) { (a, b) } else { (b, a) };
    let t = i128::from(x - w.x) * i128::from(e.y - w.y);
    w.y + div_round(t, i128::from(e.x - w.x)) as i64
}

/// n / d rounded to the nearest integer (halves up); d != 0.
fn div_round(n: i128, d: i128) -> i128 {
    let (n, d) = if d < 0 { (-n, -d) } else { (n, d) };
    (2 * n + d).div_euclid(2 * d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The polygon as ingestion reads it: unwrapped, then cut.
    fn split_polygon(rings: &[Vec<WidePoint>]) -> Vec<Vec<WidePoint>> {
        cut_to_window(&unwrap_polygon(rings))
    }

    const DEG: f64 = 1e7;

    /// Even-odd membership of a point in a polygon given as rings (a test oracle).
    fn contains(rings: &[Vec<WidePoint>], p: [f64; 2]) -> bool {
        let mut odd = false;
        for ring in rings {
            for w in ring.windows(2) {
                let (a, b) = ([w[0].x as f64 / DEG, w[0].y as f64 / DEG], [w[1].x as f64 / DEG, w[1].y as f64 / DEG]);
                if (a[1] > p[1]) != (b[1] > p[1]) {
                    let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
                    if p[0] < x {
                        odd = !odd;
                    }
                }
            }
        }
        odd
    }

    fn ring(points: &[(f64, f64)]) -> Vec<WidePoint> {
        points.iter().map(|&(x, y)| WidePoint::snap(x, y)).collect()
    }

    /// Found by tests/test_antimeridian_real.py's random rings in the seams encoding: a piece
    /// whose three vertices snap onto one line of latitude, through a seam. Read as drawn it
    /// wound once round the globe and was closed along the North Pole.
    #[test]
    fn a_sliver_through_a_seam_contains_nothing() {
        let sliver = ring(&[(-179.992188, 1.684681), (180.0, 1.684681), (-180.0, 1.6846810384592663)]);
        let polygon = split_polygon(&[sliver]);
        for p in [[-179.97, 1.82], [179.42, 2.0], [0.0, 45.0], [-179.995, 1.6846811]] {
            assert!(!contains(&polygon, p), "{p:?} in {polygon:?}");
        }
    }

    #[test]
    fn planar_polygons_are_left_alone() {
        let square = ring(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)]);
        assert!(!crosses_antimeridian(&[square]));
        let cut = ring(&[(170.0, 0.0), (180.0, 0.0), (180.0, 10.0), (170.0, 10.0), (170.0, 0.0)]);
        assert!(!crosses_antimeridian(&[cut]));
    }

    /// Fiji-like: the same zone written past 180, with a jump, with seams, and as RFC 7946
    /// pieces.
    #[test]
    fn a_zone_across_180_in_every_encoding_contains_the_same_points() {
        let beyond = ring(&[(175.0, -20.0), (185.0, -20.0), (185.0, -15.0), (175.0, -15.0), (175.0, -20.0)]);
        let jump = ring(&[(175.0, -20.0), (-175.0, -20.0), (-175.0, -15.0), (175.0, -15.0), (175.0, -20.0)]);
        let beyond_west = ring(&[(-185.0, -20.0), (-175.0, -20.0), (-175.0, -15.0), (-185.0, -15.0), (-185.0, -20.0)]);
        // The eastern piece of the cut zone, its vertices on the meridian written as 180.
        let seamed_east =
            ring(&[(180.0, -20.0), (-175.0, -20.0), (-175.0, -15.0), (180.0, -15.0), (-180.0, -17.0), (180.0, -20.0)]);
        for rings in [vec![beyond], vec![jump], vec![beyond_west], vec![seamed_east.clone()]] {
            assert!(crosses_antimeridian(&rings));
            let polygon = split_polygon(&rings);
            for ring in &polygon {
                assert!(ring.iter().all(|p| (-HALF_TURN..=HALF_TURN).contains(&p.x)));
            }
            let seamed = rings[0] == seamed_east;
            for (p, inside) in [
                ([179.0, -17.0], !seamed),
                ([-179.0, -17.0], true),
                ([176.0, -19.9], !seamed),
                ([-176.0, -15.1], true),
                ([174.0, -17.0], false),
                ([-174.0, -17.0], false),
                ([0.0, -17.0], false),
                ([179.0, -21.0], false),
            ] {
                assert_eq!(contains(&polygon, p), inside, "{p:?} in {rings:?}");
            }
        }
    }

    #[test]
    fn holes_follow_their_shell() {
        // Shell 170..190, hole written on the other side of the meridian (-178..-176).
        let shell = ring(&[(170.0, 0.0), (190.0, 0.0), (190.0, 10.0), (170.0, 10.0), (170.0, 0.0)]);
        let hole = ring(&[(-178.0, 2.0), (-176.0, 2.0), (-176.0, 4.0), (-178.0, 4.0), (-178.0, 2.0)]);
        let polygon = split_polygon(&[shell, hole]);
        assert!(contains(&polygon, [-179.0, 3.0]));
        assert!(!contains(&polygon, [-177.0, 3.0]), "the hole");
        assert!(contains(&polygon, [175.0, 3.0]));
        assert!(!contains(&polygon, [-169.0, 3.0]));
    }

    /// A sea round the North Pole with an island hole, written starting at every longitude:
    /// the island is outside the zone whichever vertex the ring starts at. (With one polygon
    /// per copy of the shell, the part of the island beyond the shell's copy was inside.)
    #[test]
    fn a_hole_in_a_ring_round_a_pole_is_a_hole_wherever_the_ring_starts() {
        let island = ring(&[(25.0, 78.0), (35.0, 78.0), (35.0, 80.0), (25.0, 80.0), (25.0, 78.0)]);
        for start in (0..36).map(|k| -180.0 + 10.0 * k as f64) {
            let mut sea: Vec<(f64, f64)> =
                (0..36).map(|k| ((start + 10.0 * k as f64 + 180.0).rem_euclid(360.0) - 180.0, 70.0)).collect();
            sea.push(sea[0]);
            let polygon = split_polygon(&[ring(&sea), island.clone()]);
            for p in [[27.0, 79.0], [30.0, 79.0], [32.0, 79.0]] {
                assert!(!contains(&polygon, p), "{p:?} (the island), sea starting at {start}");
            }
            for p in [[32.0, 75.0], [30.0, 85.0], [-170.0, 75.0], [179.9, 89.0]] {
                assert!(contains(&polygon, p), "{p:?} (the sea), sea starting at {start}");
            }
        }
    }

    /// The Southern Ocean between two rings round the pole (Antarctica the hole), each
    /// starting at any longitude: nothing south of the inner ring is in it.
    #[test]
    fn a_hole_round_the_pole_inside_a_ring_round_it() {
        let around = |start: f64, lat: f64| {
            let mut r: Vec<(f64, f64)> =
                (0..36).map(|k| ((start + 10.0 * k as f64 + 180.0).rem_euclid(360.0) - 180.0, lat)).collect();
            r.push(r[0]);
            ring(&r)
        };
        for (shell_start, hole_start) in [(30.0, -150.0), (30.0, -170.0), (-180.0, -180.0), (30.0, 30.0), (175.0, -5.0)]
        {
            let polygon = split_polygon(&[around(shell_start, -60.0), around(hole_start, -70.0)]);
            for k in 0..36 {
                let lon = -175.0 + 10.0 * k as f64;
                assert!(!contains(&polygon, [lon, -80.0]), "{lon} at 80°S, rings from {shell_start}, {hole_start}");
                assert!(contains(&polygon, [lon, -65.0]), "{lon} at 65°S, rings from {shell_start}, {hole_start}");
                assert!(!contains(&polygon, [lon, -55.0]), "{lon} at 55°S, rings from {shell_start}, {hole_start}");
            }
        }
    }

    /// A box that means "every longitude" (the bundled Antarctica): read along the meridian it
    /// has no area, so it is read literally.
    #[test]
    fn a_box_spanning_every_longitude_is_read_literally() {
        let band = ring(&[(-180.0, -60.0), (180.0, -60.0), (180.0, -85.0), (-180.0, -85.0), (-180.0, -60.0)]);
        let polygon = split_polygon(&[band]);
        for p in [[0.0, -70.0], [179.9, -61.0], [-179.9, -84.0], [90.0, -75.0]] {
            assert!(contains(&polygon, p), "{p:?}");
        }
        for p in [[0.0, -59.0], [0.0, -86.0]] {
            assert!(!contains(&polygon, p), "{p:?}");
        }
    }

    /// The eastern part of Wrangel Island in the d3 world map (Natural Earth through
    /// TopoJSON): it starts on -180, goes round the island west of 180 and closes through
    /// +180. Read with the closing step literal, it wound round the North Pole.
    #[test]
    fn the_wrangel_ring_is_an_island_not_a_polar_cap() {
        let wrangel = ring(&[
            (-180.0, 70.99172),
            (179.874, 70.95964),
            (179.3, 70.88),
            (178.73, 71.1),
            (179.2, 71.45),
            (179.85, 71.55),
            (180.0, 71.53713),
            (-180.0, 70.99172),
        ]);
        assert!(crosses_antimeridian(std::slice::from_ref(&wrangel)));
        let polygon = split_polygon(&[wrangel]);
        assert!(contains(&polygon, [179.5, 71.2]), "the island");
        for p in [[-40.0, 72.0], [0.0, 85.0], [179.5, 80.0], [-179.5, 71.2]] {
            assert!(!contains(&polygon, p), "{p:?}");
        }
    }

    #[test]
    fn a_ring_around_the_south_pole_is_closed_along_it() {
        // Antarctica-like coast going east all the way round, never closing along -90.
        let coast: Vec<(f64, f64)> = (0..=36)
            .map(|i| ((-175.0 + 10.0 * i as f64 + 180.0).rem_euclid(360.0) - 180.0, -70.0 - (i % 3) as f64))
            .collect();
        let coast = ring(&coast);
        assert!(crosses_antimeridian(std::slice::from_ref(&coast)));
        let polygon = split_polygon(&[coast]);
        for p in [[0.0, -89.9], [179.9, -80.0], [-179.9, -80.0], [45.0, -75.0]] {
            assert!(contains(&polygon, p), "{p:?}");
        }
        for p in [[0.0, -60.0], [90.0, -69.0], [0.0, 0.0]] {
            assert!(!contains(&polygon, p), "{p:?}");
        }
    }

    /// Natural Earth's Antarctica: from (180, -84.7) down to the pole, along it to -180
    /// (a seam) and round the coast back to 180.
    #[test]
    fn a_ring_closed_along_the_pole_through_a_seam_is_the_polar_cap() {
        let mut points = vec![(180.0, -84.7), (180.0, -90.0), (-180.0, -90.0), (-180.0, -84.7)];
        points.extend((1..36).map(|i| (-180.0 + 10.0 * i as f64, -70.0 - (i % 3) as f64)));
        points.push((180.0, -84.7));
        let polygon = split_polygon(&[ring(&points)]);
        for p in [[0.0, -89.9], [179.9, -85.0], [-179.9, -85.0], [45.0, -75.0]] {
            assert!(contains(&polygon, p), "{p:?}");
        }
        for p in [[0.0, -60.0], [90.0, -68.0]] {
            assert!(!contains(&polygon, p), "{p:?}");
        }
    }

    #[test]
    fn cut_points_do_not_depend_on_edge_direction() {
        let (a, b) = (WidePoint::new(1_700_000_000, 3), WidePoint::new(1_900_000_000, 10));
        assert_eq!(lat_at(a, b, HALF_TURN), lat_at(b, a, HALF_TURN));
        assert_eq!(div_round(7, 2), 4);
        assert_eq!(div_round(-7, 2), -3);
        assert_eq!(div_round(7, -2), -3);
    }
}
