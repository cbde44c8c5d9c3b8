//! Distances on the sphere: the predicates the distance and nearest-zone kernel is built on.
//!
//! Points are unit vectors, so a great-circle arc is a plane through the centre and every
//! test is a few dot and cross products, with no seam at ±180 and no special case at the
//! poles. Distances are compared as squared chords (`chord² = 2 - 2 cos d`, monotonic in the
//! angle d), and turned into metres once, at the end.

/// The mean Earth radius (IUGG, R1), in metres: the sphere distances are measured on.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

pub type Vec3 = [f64; 3];

#[inline(always)]
fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[inline(always)]
fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

#[inline(always)]
fn chord2_between(a: Vec3, b: Vec3) -> f64 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    dot(d, d)
}

/// The unit vector of (lon, lat) in radians.
#[inline]
pub fn unit(lon: f64, lat: f64) -> Vec3 {
    let (sin_lat, cos_lat) = lat.sin_cos();
    let (sin_lon, cos_lon) = lon.sin_cos();
    [cos_lat * cos_lon, cos_lat * sin_lon, sin_lat]
}

/// sin² of the shortest arc measured as an arc (1e-12 radians, 6 µm); a shorter one is measured
/// as its ends. Its a × b is then mostly rounding error, and the great circle it gives is
/// arbitrary: two vertices at a pole (latitude 90 at two longitudes, as in a polar grid cell)
/// are the same point but for the 6e-17 that cos(π/2) leaves, and measured as an arc put every
/// point near one meridian at a distance of almost nothing.
const SHORTEST_ARC_SIN2: f64 = 1e-24;

/// The squared chord from `p` to the nearest point of the shorter great-circle arc a–b.
///
/// The foot of `p` on the arc's great circle lies between a and b when (a × p)·(a × b) and
/// (p × b)·(a × b) are both non-negative, and on the near side of the sphere when
/// p·(a + b) > 0; then sin d = |p·n| / |n| for n = a × b. Otherwise the nearest point of the
/// arc is an end. `chord² = 2 sin²d / (1 + cos d)` keeps precision for small d.
#[inline]
pub fn chord2_to_arc(p: Vec3, a: Vec3, b: Vec3) -> f64 {
    let (pa, pb, ab) = (dot(p, a), dot(p, b), dot(a, b));
    if pb - ab * pa >= 0.0 && pa - ab * pb >= 0.0 && pa + pb > 0.0 {
        let n = cross(a, b);
        let nn = dot(n, n);
        if nn > SHORTEST_ARC_SIN2 {
            let pn = dot(p, n);
            let sin2 = (pn * pn / nn).min(1.0);
            return 2.0 * sin2 / (1.0 + (1.0 - sin2).sqrt());
        }
    }
    chord2_between(p, a).min(chord2_between(p, b))
}

/// Metres along the sphere for a squared chord.
#[inline]
pub fn chord2_to_metres(chord2: f64) -> f64 {
    2.0 * EARTH_RADIUS_M * (chord2.max(0.0).sqrt() / 2.0).min(1.0).asin()
}

/// The squared chord of a distance in metres (at most half the circumference).
pub fn metres_to_chord2(metres: f64) -> f64 {
    let angle = (metres / EARTH_RADIUS_M).min(std::f64::consts::PI);
    let chord = 2.0 * (angle / 2.0).sin();
    chord * chord
}

/// The squared chord of an optional largest distance in metres: 4 (the antipode, everything)
/// for none; an error for a negative or non-finite one.
pub fn max_chord2(max_distance: Option<f64>) -> Result<f64, String> {
    match max_distance {
        None => Ok(4.0),
        Some(m) if m.is_finite() && m >= 0.0 => Ok(largest_chord2_within(m)),
        Some(m) => Err(format!("max_distance must be a finite number of metres >= 0, not {m}")),
    }
}

/// The largest squared chord whose distance (`chord2_to_metres`) is at most `metres`: the
/// bound a search keeps a piece within, so that a point exactly `max_distance` away, as
/// `chord2_to_metres` reports it, is kept. (`metres_to_chord2` alone can land an ulp or two
/// below that point's chord, the two conversions rounding differently.)
fn largest_chord2_within(metres: f64) -> f64 {
    let mut chord2 = metres_to_chord2(metres).min(4.0);
    // Both conversions are monotonic and within a few ulps of each other's inverse.
    for _ in 0..64 {
        if chord2 > 0.0 && chord2_to_metres(chord2) > metres {
            chord2 = adjacent(chord2, -1);
        } else {
            break;
        }
    }
    for _ in 0..64 {
        let up = adjacent(chord2, 1);
        if up <= 4.0 && chord2_to_metres(up) <= metres {
            chord2 = up;
        } else {
            break;
        }
    }
    chord2
}

/// The float next to `x` (>= 0, finite) upward (`step` 1) or downward (-1): `f64::next_up`
/// and `next_down`, which are newer than the crate's minimum Rust.
fn adjacent(x: f64, step: i64) -> f64 {
    f64::from_bits((x.to_bits() as i64 + step) as u64)
}

/// A lower bound of `sin²(x/2)` (the haversine of x) for |x| <= π, without trigonometry:
/// sin y >= y - y³/6 for y >= 0, so sin² y >= y²(1 - y²/3).
#[inline(always)]
fn haversine_lower_bound(x: f64) -> f64 {
    let y2 = x * x / 4.0;
    (y2 * (1.0 - y2 / 3.0)).max(0.0)
}

/// A lower bound of the squared chord from a point (its latitude's cosine `cos_lat`) to any
/// point of a lon/lat box, given the box's latitude and longitude gaps from the point (0
/// where the point is within that range, radians) and the smallest cosine of a latitude in
/// the box. From the haversine formula, hav d = hav Δφ + cos φ1 cos φ2 hav Δλ, each term
/// bounded below.
#[inline(always)]
pub fn box_chord2_lower_bound(lat_gap: f64, lon_gap: f64, cos_lat: f64, box_cos_min: f64) -> f64 {
    4.0 * (haversine_lower_bound(lat_gap) + cos_lat * box_cos_min * haversine_lower_bound(lon_gap))
}

/// The lon/lat box of a spherical cap of angular radius `d` around (lon, lat), radians: its
/// latitude range, and the half-width of its longitude range, `None` when the cap reaches
/// a pole (then every longitude).
pub fn cap_box(lat: f64, d: f64) -> (f64, f64, Option<f64>) {
    use std::f64::consts::FRAC_PI_2;
    let (south, north) = (lat - d, lat + d);
    if south <= -FRAC_PI_2 || north >= FRAC_PI_2 || d >= FRAC_PI_2 {
        return (south.max(-FRAC_PI_2), north.min(FRAC_PI_2), None);
    }
    // The widest longitude of a cap: sin Δλ = sin d / cos lat.
    let ratio = d.sin() / lat.cos();
    let half_width = if ratio >= 1.0 { None } else { Some(ratio.asin()) };
    (south, north, half_width)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deg(lon: f64, lat: f64) -> Vec3 {
        unit(lon.to_radians(), lat.to_radians())
    }

    /// Haversine distance in metres (a reference).
    fn haversine(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
        let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
        let (dp, dl) = (p2 - p1, (lon2 - lon1).to_radians());
        let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * h.sqrt().asin()
    }

    /// A point exactly `max_distance` away (as the distance reports it) is within it, and
    /// the next chord is not.
    #[test]
    fn the_largest_distance_bound_is_inclusive() {
        let mut checked = 0;
        for k in 0..20_000u32 {
            let metres = [1.0, 111_178.142_964_789_92, 20_015_114.0][k as usize % 3] * (1.0 + k as f64 * 1e-5);
            let chord2s = [metres_to_chord2(metres), adjacent(metres_to_chord2(metres), 1)];
            for chord2 in chord2s.into_iter().filter(|&c| c <= 4.0) {
                let exact = chord2_to_metres(chord2);
                let bound = max_chord2(Some(exact)).unwrap();
                assert!(chord2 <= bound, "{exact} m: chord² {chord2} beyond the bound {bound}");
                assert!(chord2_to_metres(bound) <= exact);
                assert!(bound == 4.0 || chord2_to_metres(adjacent(bound, 1)) > exact);
                checked += 1;
            }
        }
        assert_eq!(max_chord2(Some(0.0)).unwrap(), 0.0);
        assert_eq!(max_chord2(Some(1e9)).unwrap(), 4.0);
        assert!(checked > 0);
    }

    #[test]
    fn distances_to_ends_and_interiors_of_arcs() {
        // A meridian arc from (10, 0) to (10, 10): a point beside its middle, and beyond an end.
        let (a, b) = (deg(10.0, 0.0), deg(10.0, 10.0));
        let beside = chord2_to_metres(chord2_to_arc(deg(11.0, 5.0), a, b));
        let expected = EARTH_RADIUS_M * (5.0f64.to_radians().cos() * 1.0f64.to_radians().sin()).asin();
        assert!((beside - expected).abs() < 1e-6, "{beside} {expected}");
        let beyond = chord2_to_metres(chord2_to_arc(deg(10.0, 12.0), a, b));
        assert!((beyond - haversine(10.0, 12.0, 10.0, 10.0)).abs() < 1e-6);
        // On the arc: zero; across the antimeridian: short.
        assert!(chord2_to_metres(chord2_to_arc(deg(10.0, 3.0), a, b)) < 1e-6);
        let seam = chord2_to_metres(chord2_to_arc(deg(179.99, -17.0), deg(-179.99, -18.0), deg(-179.99, -16.0)));
        assert!((seam - haversine(179.99, -17.0, -179.99, -17.0)).abs() < 0.01, "{seam}");
        // The far side of the sphere: the ends, not the antipodal foot.
        let far = chord2_to_metres(chord2_to_arc(deg(-170.0, -5.0), a, b));
        assert!((far - haversine(-170.0, -5.0, 10.0, 0.0)).abs() < 1e-3, "{far}");
        // Small distances keep their precision.
        let centimetre = chord2_to_metres(chord2_to_arc(deg(10.0 + 1e-7, 5.0), a, b));
        assert!((centimetre - 0.011_08).abs() < 1e-4, "{centimetre}");
    }

    #[test]
    fn arcs_along_a_pole_are_the_pole() {
        // The edge (0, 90)–(10, 90) of a polar grid cell is a single point.
        let (a, b) = (deg(0.0, 90.0), deg(10.0, 90.0));
        for (lon, lat) in [(100.0, 45.0), (100.0, 89.9), (5.0, 85.0), (-170.0, 0.0)] {
            let got = chord2_to_metres(chord2_to_arc(deg(lon, lat), a, b));
            let pole = EARTH_RADIUS_M * (90.0 - lat).to_radians();
            assert!((got - pole).abs() < 1e-3, "({lon}, {lat}): {got} m, not {pole}");
        }
    }

    #[test]
    fn metres_and_chords_round_trip() {
        for m in [0.0, 1.0, 20_000.0, 5e6, 2e7] {
            assert!((chord2_to_metres(metres_to_chord2(m)) - m).abs() < 1e-6 * m.max(1.0));
        }
    }

    #[test]
    fn box_bounds_are_lower_bounds() {
        // Random points and boxes: the bound never exceeds the true distance to a box corner,
        // edge midpoint or centre.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..20_000 {
            let (plat, plon) = ((next() - 0.5) * 179.0, (next() - 0.5) * 359.0);
            let (lat0, lon0) = ((next() - 0.5) * 170.0, (next() - 0.5) * 350.0);
            let (lat1, lon1) = (lat0 + next() * 5.0, lon0 + next() * 5.0);
            let lat_gap = (lat0 - plat).max(plat - lat1).max(0.0).to_radians();
            let lon_gap = {
                let d = |x: f64| ((x - plon).rem_euclid(360.0)).min((plon - x).rem_euclid(360.0));
                if plon >= lon0 && plon <= lon1 {
                    0.0
                } else {
                    d(lon0).min(d(lon1)).to_radians()
                }
            };
            let cos_min = lat0.to_radians().cos().min(lat1.to_radians().cos());
            let bound = box_chord2_lower_bound(lat_gap, lon_gap, plat.to_radians().cos(), cos_min);
            for (x, y) in [(lon0, lat0), (lon1, lat1), (lon0, lat1), (lon1, lat0), ((lon0 + lon1) / 2.0, lat0)] {
                let truth = chord2_between(deg(plon, plat), deg(x, y));
                assert!(bound <= truth + 1e-15, "{bound} > {truth}");
            }
        }
    }

    #[test]
    fn cap_boxes_hold_their_caps() {
        let (s, n, w) = cap_box(60f64.to_radians(), 1f64.to_radians());
        assert!((n - s - 2f64.to_radians()).abs() < 1e-12);
        // sin Δλ = sin 1° / cos 60°.
        assert!((w.unwrap() - (1f64.to_radians().sin() / 0.5).asin()).abs() < 1e-12);
        assert_eq!(cap_box(89.5f64.to_radians(), 1f64.to_radians()).2, None);
    }
}
