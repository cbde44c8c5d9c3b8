//! Polygons that cross the antimeridian, made planar.
//!
//! The index is planar in (lon, lat): a zone that crosses 180° must arrive as pieces inside
//! [-180, 180]. Files either cut it there already (RFC 7946: a MultiPolygon, nothing to do)
//! or they do not: longitudes run past ±180 (170..190), or consecutive vertices jump by more
//! than 180° (179 → -179). For those, each ring is *unwrapped* (every step between
//! consecutive vertices taken as the short way round, so longitudes become continuous), a
//! ring that goes once around a pole is closed along that pole's latitude, holes are moved
//! next to their shell, and the polygon is cut into the copies shifted by a multiple of 360°
//! that overlap [-180, 180]. Each ring is clipped on its own (Sutherland–Hodgman against the
//! two meridians); for the even-odd rule that is exact, since what a clip replaces is a loop
//! lying outside the window, which a ray from inside crosses an even number of times.
//! Clipping adds vertices exactly on ±180 (then snapped like every vertex).

/// (lon, lat) in degrees.
pub type Position = [f64; 2];

/// Whether a polygon (its rings) is written across the antimeridian: a longitude beyond ±180,
/// or consecutive vertices more than 180° of longitude apart, other than an edge from -180
/// to 180 (see `literal_step`).
pub fn crosses_antimeridian(rings: &[Vec<Position>]) -> bool {
    rings.iter().any(|ring| {
        ring.iter().any(|p| p[0].abs() > 180.0)
            || ring.windows(2).any(|w| (w[1][0] - w[0][0]).abs() > 180.0 && !literal_step(w[0], w[1]))
    })
}

/// An edge from exactly -180 to exactly 180 (or back) is how RFC 7946 and Natural Earth
/// files draw a zone that spans every longitude (Antarctica closed along -90, a polar cap
/// or band): it is taken as drawn, not as a step across the meridian.
fn literal_step(a: Position, b: Position) -> bool {
    a[0].abs() == 180.0 && b[0] == -a[0]
}

/// The polygon as pieces within [-180, 180]: each a list of rings (shell first), closed.
/// Pieces may contain rings that clipping left degenerate; the caller drops those.
pub fn split_polygon(rings: &[Vec<Position>]) -> Vec<Vec<Vec<Position>>> {
    let unwrapped = unwrap_polygon(rings);
    let Some(shell) = unwrapped.first() else { return Vec::new() };
    let (lo, hi) = lon_range(shell);

    let mut pieces = Vec::new();
    for k in -2..=2 {
        let shift = 360.0 * k as f64;
        if hi + shift <= -180.0 || lo + shift >= 180.0 {
            continue;
        }
        let piece: Vec<Vec<Position>> = unwrapped
            .iter()
            .map(|ring| {
                let moved: Vec<Position> = ring.iter().map(|p| [p[0] + shift, p[1]]).collect();
                clip_to_band(&moved, -180.0, 180.0)
            })
            .collect();
        if piece[0].len() >= 3 {
            pieces.push(piece);
        }
    }
    pieces
}

/// The polygon with continuous longitudes (possibly past ±180): rings unwrapped, closed
/// along a pole if they go round one, holes moved to the copy nearest their shell.
pub fn unwrap_polygon(rings: &[Vec<Position>]) -> Vec<Vec<Position>> {
    let Some(shell) = rings.first() else { return Vec::new() };
    let shell = unwrap_ring(shell);
    let (lo, hi) = lon_range(&shell);
    let centre = (lo + hi) / 2.0;
    let mut unwrapped = vec![shell];
    for hole in &rings[1..] {
        let hole = unwrap_ring(hole);
        let (hlo, hhi) = lon_range(&hole);
        let shift = ((centre - (hlo + hhi) / 2.0) / 360.0).round() * 360.0;
        unwrapped.push(hole.iter().map(|p| [p[0] + shift, p[1]]).collect());
    }
    unwrapped
}

/// Continuous longitudes: each step taken the short way round. A ring that comes back 360°
/// from where it started went around a pole; it is closed along that pole's latitude.
fn unwrap_ring(ring: &[Position]) -> Vec<Position> {
    let mut out: Vec<Position> = Vec::with_capacity(ring.len() + 2);
    for (i, &p) in ring.iter().enumerate() {
        let lon = match out.last() {
            None => p[0],
            Some(prev) => {
                let mut step = p[0] - ring[i - 1][0];
                if !literal_step(ring[i - 1], p) {
                    step -= 360.0 * (step / 360.0).round();
                }
                prev[0] + step
            }
        };
        out.push([lon, p[1]]);
    }
    let (Some(&first), Some(&last)) = (out.first(), out.last()) else { return out };
    if (last[0] - first[0]).abs() > 180.0 {
        // Around a pole: the nearer one, by the ring's mean latitude.
        let mean = out.iter().map(|p| p[1]).sum::<f64>() / out.len() as f64;
        let pole = if mean < 0.0 { -90.0 } else { 90.0 };
        out.push([last[0], pole]);
        out.push([first[0], pole]);
        out.push(first);
    } else if first != last {
        out.push(first);
    }
    out
}

fn lon_range(ring: &[Position]) -> (f64, f64) {
    ring.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p[0]), hi.max(p[0])))
}

/// The part of a closed ring with `west <= lon <= east`, closed.
fn clip_to_band(ring: &[Position], west: f64, east: f64) -> Vec<Position> {
    let (lo, hi) = lon_range(ring);
    if lo >= west && hi <= east {
        return ring.to_vec();
    }
    let clipped = clip(ring, west, |x| x >= west);
    clip(&clipped, east, |x| x <= east)
}

/// Sutherland–Hodgman against the meridian `x_edge`, keeping the side where `inside` holds.
/// Takes and returns closed rings (first vertex repeated last).
fn clip(ring: &[Position], x_edge: f64, inside: impl Fn(f64) -> bool) -> Vec<Position> {
    let mut out = Vec::with_capacity(ring.len() + 4);
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (a_in, b_in) = (inside(a[0]), inside(b[0]));
        if a_in != b_in {
            let t = (x_edge - a[0]) / (b[0] - a[0]);
            out.push([x_edge, a[1] + t * (b[1] - a[1])]);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Even-odd membership of a point in a polygon given as f64 rings (a test oracle).
    fn contains(rings: &[Vec<Position>], p: Position) -> bool {
        let mut odd = false;
        for ring in rings {
            for w in ring.windows(2) {
                let (a, b) = (w[0], w[1]);
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

    fn in_pieces(pieces: &[Vec<Vec<Position>>], p: Position) -> bool {
        pieces.iter().any(|piece| contains(piece, p))
    }

    fn ring(points: &[(f64, f64)]) -> Vec<Position> {
        points.iter().map(|&(x, y)| [x, y]).collect()
    }

    #[test]
    fn planar_polygons_are_left_alone() {
        let square = ring(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)]);
        assert!(!crosses_antimeridian(&[square.clone()]));
        let cut = ring(&[(170.0, 0.0), (180.0, 0.0), (180.0, 10.0), (170.0, 10.0), (170.0, 0.0)]);
        assert!(!crosses_antimeridian(&[cut]));
    }

    /// Fiji-like: the same zone written past 180, with a jump, and as RFC 7946 pieces.
    #[test]
    fn a_zone_across_180_in_every_encoding_contains_the_same_points() {
        let beyond = ring(&[(175.0, -20.0), (185.0, -20.0), (185.0, -15.0), (175.0, -15.0), (175.0, -20.0)]);
        let jump = ring(&[(175.0, -20.0), (-175.0, -20.0), (-175.0, -15.0), (175.0, -15.0), (175.0, -20.0)]);
        let beyond_west = ring(&[(-185.0, -20.0), (-175.0, -20.0), (-175.0, -15.0), (-185.0, -15.0), (-185.0, -20.0)]);
        for rings in [vec![beyond], vec![jump], vec![beyond_west]] {
            assert!(crosses_antimeridian(&rings));
            let pieces = split_polygon(&rings);
            assert_eq!(pieces.len(), 2, "{pieces:?}");
            for piece in &pieces {
                assert!(piece[0].iter().all(|p| (-180.0..=180.0).contains(&p[0])));
            }
            for (p, inside) in [
                ([179.0, -17.0], true),
                ([-179.0, -17.0], true),
                ([176.0, -19.9], true),
                ([-176.0, -15.1], true),
                ([174.0, -17.0], false),
                ([-174.0, -17.0], false),
                ([0.0, -17.0], false),
                ([179.0, -21.0], false),
            ] {
                assert_eq!(in_pieces(&pieces, p), inside, "{p:?} in {rings:?}");
            }
        }
    }

    #[test]
    fn holes_follow_their_shell() {
        // Shell 170..190, hole written on the other side of the meridian (-178..-176).
        let shell = ring(&[(170.0, 0.0), (190.0, 0.0), (190.0, 10.0), (170.0, 10.0), (170.0, 0.0)]);
        let hole = ring(&[(-178.0, 2.0), (-176.0, 2.0), (-176.0, 4.0), (-178.0, 4.0), (-178.0, 2.0)]);
        let pieces = split_polygon(&[shell, hole]);
        assert!(in_pieces(&pieces, [-179.0, 3.0]));
        assert!(!in_pieces(&pieces, [-177.0, 3.0]), "the hole");
        assert!(in_pieces(&pieces, [175.0, 3.0]));
        assert!(!in_pieces(&pieces, [-169.0, 3.0]));
    }

    #[test]
    fn edges_from_minus_180_to_180_are_taken_as_drawn() {
        // A band around the South Pole as RFC 7946 files draw it.
        let band = ring(&[(-180.0, -60.0), (180.0, -60.0), (180.0, -85.0), (-180.0, -85.0), (-180.0, -60.0)]);
        assert!(!crosses_antimeridian(&[band]));
    }

    #[test]
    fn a_ring_around_the_south_pole_is_closed_along_it() {
        // Antarctica-like coast going east all the way round, never closing along -90.
        let coast: Vec<Position> = (0..=36).map(|i| [-175.0 + 10.0 * i as f64 % 360.0, -70.0 - (i % 3) as f64]).collect();
        let mut coast = unwrap_free(&coast);
        coast.push(coast[0]);
        assert!(crosses_antimeridian(&[coast.clone()]));
        let pieces = split_polygon(&[coast]);
        for p in [[0.0, -89.9], [179.9, -80.0], [-179.9, -80.0], [45.0, -75.0], [5.0, -90.0]] {
            assert!(in_pieces(&pieces, p) || p[1] == -90.0, "{p:?}");
        }
        for p in [[0.0, -60.0], [90.0, -69.0], [0.0, 0.0]] {
            assert!(!in_pieces(&pieces, p), "{p:?}");
        }
    }

    /// Writes longitudes wrapped into [-180, 180), as a file would.
    fn unwrap_free(ring: &[Position]) -> Vec<Position> {
        ring.iter().map(|p| [(p[0] + 180.0).rem_euclid(360.0) - 180.0, p[1]]).collect()
    }
}
