//! How far each point is from the zones, and which zone is nearest: a second index over the
//! zones' edges, built on first use, searched outward from each point.
//!
//! The edges. Each edge is straight in lon/lat (that is how tagging sees it), which is not a
//! great circle. Edges are cut into pieces short enough that each piece's great-circle arc
//! stays within `MAX_DEVIATION_M` of the lon/lat segment (from the geodesic curvature of a
//! lon/lat line: sin φ · |Δλ| · sqrt(Δλ² + Δφ²) / 4 over an edge, falling with the square
//! of the number of pieces), and no longer than a grid cell. Piece ends are interpolated in
//! integer units from both ends alike, so a border shared by two zones gives both the same
//! pieces. Each piece end is stored as a unit vector (`sphere`).
//!
//! The grid. Fine cells of 0.045° (8000 × 4000, so that a column index wraps exactly at
//! ±180) list the pieces whose bounding box meets them; coarse cells of 8 × 8 fine cells
//! are allocated only where there are pieces, and a table of prefix sums over the coarse
//! cells says in four loads whether any piece lies in a box.
//!
//! The search. Distances are squared chords. From a radius of one fine cell, the box of the
//! spherical cap around the point is scanned, each fine cell's lower bound (`sphere::
//! box_chord2_lower_bound`) compared with the best piece so far; the radius grows fourfold
//! (skipping radii whose box is empty, by the prefix sums) until a piece is found within it,
//! or the radius passes the largest distance asked for. Ties go to the lowest zone: zones
//! within `TIE_M` of the nearest distance tie, since a border two zones share, drawn with
//! different vertices or meeting at a corner, is cut into different pieces, whose arcs differ
//! by rounding (`Best`).

use rayon::prelude::*;

use crate::boundary::Boundary;
use crate::coords::{Point, HALF_TURN, TURN};
use crate::geometry::NO_ZONE;
use crate::index::ZoneIndex;
use crate::query::all_zones;
use crate::sphere::{box_chord2_lower_bound, cap_box, chord2_to_arc, unit, Vec3, EARTH_RADIUS_M};

/// How far a piece's great-circle arc may stray from its lon/lat segment, in metres.
const MAX_DEVIATION_M: f64 = 0.05;
/// Fine cells are this many units (1e-7 degree) square: 0.045°, 8000 to the full circle.
const FINE: i64 = 450_000;
const FINE_COLS: i64 = TURN / FINE;
const FINE_ROWS: i64 = HALF_TURN / FINE;
/// A coarse cell is this many fine cells square.
const PER_COARSE: i64 = 8;
const COARSE_COLS: i64 = FINE_COLS / PER_COARSE;
const COARSE_ROWS: i64 = FINE_ROWS / PER_COARSE;
const RADIANS_PER_UNIT: f64 = std::f64::consts::PI / HALF_TURN as f64;
const FINE_RADIANS: f64 = FINE as f64 * RADIANS_PER_UNIT;
/// Lower bounds are taken to cells widened by this angle, more than an arc's deviation from
/// its segment (`MAX_DEVIATION_M`), so that an arc bulging out of its cell is not missed.
const MARGIN_RADIANS: f64 = 2.0 * MAX_DEVIATION_M / EARTH_RADIUS_M;
const EMPTY: u32 = u32::MAX;
/// Zones this close to the nearest distance are tied with it: one border drawn twice (with
/// other vertices, or ending at a shared corner) is cut into other pieces, each within
/// `MAX_DEVIATION_M` of the line, so the two measures of it may differ by twice that.
const TIE_M: f64 = 2.0 * MAX_DEVIATION_M;
const TIE_CHORD: f64 = TIE_M / EARTH_RADIUS_M;

/// The edges of the zones as short arcs, in a two-level grid.
pub struct NearIndex {
    /// Piece ends as unit vectors, rings closed: piece k runs from `ends[k]` to `ends[k + 1]`.
    ends: Vec<Vec3>,
    /// The zone of piece k; `NO_ZONE` where k is the last end of a ring.
    piece_zone: Vec<u32>,
    /// Per coarse cell, the first of its 64 slots in `fine_starts`, or `EMPTY`.
    coarse: Vec<u32>,
    /// Per fine cell slot, where its pieces start in `cell_pieces` (one more than slots).
    fine_starts: Vec<u32>,
    cell_pieces: Vec<u32>,
    /// Prefix sums of allocated coarse cells: (COARSE_ROWS + 1) × (COARSE_COLS + 1).
    occupied: Vec<u32>,
    /// The allocated coarse columns of each coarse row, ascending: row r's are
    /// `row_columns[row_starts[r]..row_starts[r + 1]]`, so a scan walks only those.
    row_starts: Vec<u32>,
    row_columns: Vec<u16>,
    /// Per fine row, the smaller cosine of its two edge latitudes.
    row_cos_min: Vec<f64>,
}

/// The answer for one point: squared chord to the nearest zone and that zone, or none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Nearest {
    pub chord2: f64,
    pub zone: u32,
}

impl Nearest {
    pub const NONE: Nearest = Nearest { chord2: f64::NAN, zone: NO_ZONE };

    /// Metres, or NaN for none.
    pub fn metres(&self) -> f64 {
        if self.chord2.is_nan() {
            f64::NAN
        } else {
            crate::sphere::chord2_to_metres(self.chord2)
        }
    }
}

impl NearIndex {
    /// The edges of `index`'s zones, less the lines reading them made (`pieces`).
    pub fn build(index: &ZoneIndex) -> NearIndex {
        let (ends, piece_zone, points) = pieces(index);
        let mut pairs: Vec<(u32, u32)> = (0..piece_zone.len())
            .into_par_iter()
            .filter(|&k| piece_zone[k] != NO_ZONE)
            .flat_map_iter(|k| cells_of(points[k], points[k + 1]).map(move |cell| (cell, k as u32)))
            .collect();
        pairs.par_sort_unstable();
        let mut coarse = vec![EMPTY; (COARSE_COLS * COARSE_ROWS) as usize];
        let mut fine_starts = Vec::new();
        let mut cell_pieces = Vec::with_capacity(pairs.len());
        // Fine cells in order of (coarse cell, slot) would interleave rows; allocate blocks as
        // their coarse cells first appear, then fill the starts slot by slot.
        let mut slots: Vec<(u32, u32)> = pairs
            .iter()
            .map(|&(cell, piece)| {
                let (row, col) = ((cell as i64) / FINE_COLS, (cell as i64) % FINE_COLS);
                let c = ((row / PER_COARSE) * COARSE_COLS + col / PER_COARSE) as usize;
                if coarse[c] == EMPTY {
                    coarse[c] = fine_starts.len() as u32;
                    fine_starts.extend([0u32; (PER_COARSE * PER_COARSE) as usize]);
                }
                let slot = coarse[c] + ((row % PER_COARSE) * PER_COARSE + col % PER_COARSE) as u32;
                (slot, piece)
            })
            .collect();
        slots.par_sort_unstable();
        let mut counts = vec![0u32; fine_starts.len() + 1];
        for &(slot, piece) in &slots {
            counts[slot as usize + 1] += 1;
            cell_pieces.push(piece);
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        fine_starts = counts;
        let occupied = prefix_sums(&coarse);
        let mut row_starts = vec![0u32];
        let mut row_columns = Vec::new();
        for row in coarse.chunks(COARSE_COLS as usize) {
            row_columns.extend(row.iter().enumerate().filter(|(_, &b)| b != EMPTY).map(|(c, _)| c as u16));
            row_starts.push(row_columns.len() as u32);
        }
        let row_cos_min = (0..FINE_ROWS)
            .map(|row| {
                let (south, north) = (
                    row as f64 * FINE_RADIANS - std::f64::consts::FRAC_PI_2,
                    (row + 1) as f64 * FINE_RADIANS - std::f64::consts::FRAC_PI_2,
                );
                south.cos().min(north.cos()).max(0.0)
            })
            .collect();
        NearIndex { ends, piece_zone, coarse, fine_starts, cell_pieces, occupied, row_starts, row_columns, row_cos_min }
    }

    /// Bytes held by the arrays.
    pub fn heap_bytes(&self) -> usize {
        24 * self.ends.len()
            + 4 * (self.piece_zone.len()
                + self.coarse.len()
                + self.fine_starts.len()
                + self.cell_pieces.len()
                + self.occupied.len()
                + self.row_starts.len())
            + 2 * self.row_columns.len()
            + 8 * self.row_cos_min.len()
    }

    /// The nearest piece to `p` (snapped) within `max_chord2`, if any.
    pub fn search(&self, p: Point, max_chord2: f64) -> Nearest {
        let (lon, lat) = (p.x as f64 * RADIANS_PER_UNIT, p.y as f64 * RADIANS_PER_UNIT);
        let query = Query { unit: unit(lon, lat), lon, lat, cos_lat: lat.cos() };
        let max_angle = chord2_angle(max_chord2);
        // Most points far from every zone end here, with one box count.
        if max_angle < std::f64::consts::PI && !self.any_in_cap(&query, max_angle) {
            return Nearest::NONE;
        }
        let mut best = Best::new(max_chord2);
        let mut radius = FINE_RADIANS;
        loop {
            let scan = radius.min(chord2_angle(best.reach)).min(max_angle);
            if self.any_in_cap(&query, scan) {
                self.scan(&query, scan, &mut best);
            }
            if best.found() && chord2_angle(best.reach) <= scan {
                return best.answer();
            }
            if scan >= max_angle || radius >= std::f64::consts::PI {
                return best.answer();
            }
            radius *= 4.0;
            // Radii whose box holds no piece at all are skipped outright, and the first radius
            // whose box holds one is narrowed down (a few halvings of the last step), so that
            // a point far from every zone scans a box not much larger than it needs.
            if !self.any_in_cap(&query, radius) {
                let mut empty = radius;
                while radius < max_angle && radius < std::f64::consts::PI && !self.any_in_cap(&query, radius) {
                    empty = radius;
                    radius *= 4.0;
                }
                for _ in 0..4 {
                    let middle = (empty * radius).sqrt();
                    if self.any_in_cap(&query, middle) {
                        radius = middle;
                    } else {
                        empty = middle;
                    }
                }
            }
        }
    }

    /// Whether any coarse cell in the box of the cap of angle `d` around the point is allocated.
    fn any_in_cap(&self, q: &Query, d: f64) -> bool {
        let (rows, (first, n)) = cap_cells(q, d, PER_COARSE);
        let count = |c0: i64, c1: i64| -> u32 {
            let at = |r: i64, c: i64| self.occupied[(r * (COARSE_COLS + 1) + c) as usize];
            let (r0, r1) = (rows.0, rows.1 + 1);
            at(r1, c1 + 1) + at(r0, c0) - at(r0, c1 + 1) - at(r1, c0)
        };
        let start = first.rem_euclid(COARSE_COLS);
        let end = start + n - 1;
        if end < COARSE_COLS {
            count(start, end) > 0
        } else {
            count(start, COARSE_COLS - 1) > 0 || count(0, end - COARSE_COLS) > 0
        }
    }

    /// Every fine cell of the box of the cap of angle `d` whose lower bound beats `best`:
    /// its pieces are measured. Coarse cells first: the empty ones and those whose own bound
    /// is beaten are skipped, the others visited nearest first, so that `best` shrinks early.
    fn scan(&self, q: &Query, d: f64, best: &mut Best) {
        let (rows, (first, count)) = cap_cells(q, d, PER_COARSE);
        let fine = cap_cells(q, d, 1);
        // Columns are walked unwrapped, from `first` in the point's own frame, so the lon gap
        // of a cell needs no wrapping, unless the box goes all the way round.
        let all_round = count == COARSE_COLS;
        let size = FINE_RADIANS * PER_COARSE as f64;
        let mut cells: Candidates<(i64, i64), 32> = Candidates::new();
        for row in rows.0..=rows.1 {
            let south = row as f64 * size - std::f64::consts::FRAC_PI_2;
            let lat_gap = (band_gap(q.lat, south, size) - MARGIN_RADIANS).max(0.0);
            let cos_min = self.row_cos_min[(row * PER_COARSE) as usize]
                .min(self.row_cos_min[(row * PER_COARSE + PER_COARSE - 1) as usize]);
            let columns =
                &self.row_columns[self.row_starts[row as usize] as usize..self.row_starts[row as usize + 1] as usize];
            let start = first.rem_euclid(COARSE_COLS);
            // The allocated columns in [start, start + count), wrapping once at most.
            let from = columns.partition_point(|&c| (c as i64) < start);
            let wrapped = (start + count - COARSE_COLS).max(0);
            let within =
                columns[from..].iter().chain(columns[..columns.partition_point(|&c| (c as i64) < wrapped)].iter());
            for &column in within.take_while(|&&c| all_round || (c as i64 - start).rem_euclid(COARSE_COLS) < count) {
                let unwrapped =
                    if all_round { column as i64 } else { first + (column as i64 - start).rem_euclid(COARSE_COLS) };
                let west = unwrapped as f64 * size - std::f64::consts::PI;
                let lon_gap = (lon_gap(q.lon, west, size, all_round) - MARGIN_RADIANS).max(0.0);
                let bound = box_chord2_lower_bound(lat_gap, lon_gap, q.cos_lat, cos_min);
                if bound <= best.reach {
                    cells.push(bound, (row, unwrapped));
                }
            }
        }
        for &(bound, (row, unwrapped)) in cells.nearest_first() {
            if bound > best.reach {
                break;
            }
            self.scan_coarse(q, row, unwrapped, fine, all_round, best);
        }
    }

    /// The fine cells of one coarse cell (row, unwrapped column) that are in the fine box.
    fn scan_coarse(&self, q: &Query, row: i64, unwrapped: i64, fine: CapCells, all_round: bool, best: &mut Best) {
        let block = self.coarse[(row * COARSE_COLS + unwrapped.rem_euclid(COARSE_COLS)) as usize];
        let ((r0, r1), (c0, n)) = fine;
        let rows = (row * PER_COARSE).max(r0)..=(row * PER_COARSE + PER_COARSE - 1).min(r1);
        let (cols_from, cols_to) = if all_round {
            (unwrapped * PER_COARSE, unwrapped * PER_COARSE + PER_COARSE - 1)
        } else {
            ((unwrapped * PER_COARSE).max(c0), (unwrapped * PER_COARSE + PER_COARSE - 1).min(c0 + n - 1))
        };
        // Nearest fine cell first, as for coarse cells: far from every zone, `best` starts at
        // the antipode and only this order prunes a coastline's cells.
        let mut cells: Candidates<usize, 64> = Candidates::new();
        for fine_row in rows {
            let south = fine_row as f64 * FINE_RADIANS - std::f64::consts::FRAC_PI_2;
            let lat_gap = (band_gap(q.lat, south, FINE_RADIANS) - MARGIN_RADIANS).max(0.0);
            let cos_min = self.row_cos_min[fine_row as usize];
            for fine_col in cols_from..=cols_to {
                let slot =
                    (block + ((fine_row % PER_COARSE) * PER_COARSE + fine_col.rem_euclid(PER_COARSE)) as u32) as usize;
                if self.fine_starts[slot] == self.fine_starts[slot + 1] {
                    continue;
                }
                let west = fine_col as f64 * FINE_RADIANS - std::f64::consts::PI;
                let lon_gap = (lon_gap(q.lon, west, FINE_RADIANS, all_round) - MARGIN_RADIANS).max(0.0);
                let bound = box_chord2_lower_bound(lat_gap, lon_gap, q.cos_lat, cos_min);
                if bound <= best.reach {
                    cells.push(bound, slot);
                }
            }
        }
        for &(bound, slot) in cells.nearest_first() {
            if bound > best.reach {
                break;
            }
            for &k in &self.cell_pieces[self.fine_starts[slot] as usize..self.fine_starts[slot + 1] as usize] {
                let k = k as usize;
                let chord2 = chord2_to_arc(q.unit, self.ends[k], self.ends[k + 1]);
                if chord2 <= best.reach {
                    best.add(chord2, self.piece_zone[k]);
                }
            }
        }
    }
}

/// What a search has found: the least squared chord to a piece, and the zones with a piece
/// within a tie of it (`TIE_CHORD`). Its answer is that least distance and the lowest of those
/// zones. The zones are few (one, or the two or three that meet at a border); past `TIES` of
/// them, the lowest are kept.
struct Best {
    least: f64,
    /// Pieces farther than this (a squared chord) do not count: a tie beyond the least found,
    /// at most the largest distance asked for.
    reach: f64,
    limit: f64,
    /// (zone, its least squared chord), those within `reach`.
    ties: [(u32, f64); TIES],
    len: usize,
}

const TIES: usize = 8;

impl Best {
    fn new(limit: f64) -> Best {
        Best { least: f64::INFINITY, reach: limit, limit, ties: [(NO_ZONE, 0.0); TIES], len: 0 }
    }

    fn found(&self) -> bool {
        self.len > 0
    }

    /// A piece of `zone` at `chord2` (within `reach`).
    #[inline]
    fn add(&mut self, chord2: f64, zone: u32) {
        if let Some(tie) = self.ties[..self.len].iter_mut().find(|(z, _)| *z == zone) {
            tie.1 = tie.1.min(chord2);
        } else if self.len < TIES {
            self.ties[self.len] = (zone, chord2);
            self.len += 1;
        } else if let Some(highest) = self.ties.iter_mut().filter(|(z, _)| *z > zone).max_by_key(|(z, _)| *z) {
            *highest = (zone, chord2);
        }
        if chord2 < self.least {
            self.least = chord2;
            self.reach = (chord2.sqrt() + TIE_CHORD).powi(2).min(self.limit);
            let reach = self.reach;
            let mut kept = 0;
            for k in 0..self.len {
                if self.ties[k].1 <= reach {
                    self.ties[kept] = self.ties[k];
                    kept += 1;
                }
            }
            self.len = kept;
        }
    }

    fn answer(&self) -> Nearest {
        match self.ties[..self.len].iter().map(|&(zone, _)| zone).min() {
            Some(zone) => Nearest { chord2: self.least, zone },
            None => Nearest::NONE,
        }
    }
}

/// Cells to visit with their lower bounds, to be taken nearest first: on the stack while
/// they are few (as in most searches), so that a search allocates nothing.
struct Candidates<T: Copy + Default, const N: usize> {
    inline: [(f64, T); N],
    len: usize,
    spill: Vec<(f64, T)>,
}

impl<T: Copy + Default, const N: usize> Candidates<T, N> {
    fn new() -> Self {
        Candidates { inline: [(0.0, T::default()); N], len: 0, spill: Vec::new() }
    }

    #[inline(always)]
    fn push(&mut self, bound: f64, cell: T) {
        if self.len < N {
            self.inline[self.len] = (bound, cell);
            self.len += 1;
        } else {
            if self.spill.is_empty() {
                self.spill.extend_from_slice(&self.inline);
            }
            self.spill.push((bound, cell));
        }
    }

    fn nearest_first(&mut self) -> &[(f64, T)] {
        let cells = if self.spill.is_empty() { &mut self.inline[..self.len] } else { &mut self.spill[..] };
        if cells.len() > 1 {
            cells.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        }
        cells
    }
}

/// Rows and columns of a cap's box, as `cap_cells` gives them.
type CapCells = ((i64, i64), (i64, i64));

/// The latitude gap from `lat` to the band [south, south + size]: 0 inside it.
#[inline(always)]
fn band_gap(lat: f64, south: f64, size: f64) -> f64 {
    (south - lat).max(lat - south - size).max(0.0)
}

/// A query point in the forms the search uses.
struct Query {
    unit: Vec3,
    lon: f64,
    lat: f64,
    cos_lat: f64,
}

/// The angle of a squared chord (π for anything beyond the antipode).
fn chord2_angle(chord2: f64) -> f64 {
    if chord2 >= 4.0 {
        std::f64::consts::PI
    } else {
        2.0 * (chord2.sqrt() / 2.0).asin()
    }
}

/// The longitude gap from `lon` to the cell [west, west + size]: 0 inside it. Columns walked
/// from the point's own frame are less than half a turn away; `all_round`, they may be
/// anywhere, and the gap is taken the short way round.
#[inline(always)]
fn lon_gap(lon: f64, west: f64, size: f64, all_round: bool) -> f64 {
    if !all_round {
        return (west - lon).max(lon - west - size).max(0.0);
    }
    let turn = 2.0 * std::f64::consts::PI;
    let into = (lon - west).rem_euclid(turn);
    if into <= size {
        return 0.0;
    }
    // East of the cell by `into - size`, or west of it by `turn - into`.
    (into - size).min(turn - into)
}

/// The cells (of `per` fine cells square) of the box of the cap of angle `d`: the row range,
/// and the columns as (first, count), the first unwrapped (in the point's own frame; 0 when
/// the box goes all the way round) and the count at most all.
fn cap_cells(q: &Query, d: f64, per: i64) -> CapCells {
    let (cols, rows) = (FINE_COLS / per, FINE_ROWS / per);
    let size = FINE_RADIANS * per as f64;
    let (south, north, half_width) = cap_box(q.lat, d);
    let row = |lat: f64| (((lat + std::f64::consts::FRAC_PI_2) / size).floor() as i64).clamp(0, rows - 1);
    let (r0, r1) = (row(south - MARGIN_RADIANS), row(north + MARGIN_RADIANS));
    let Some(w) = half_width.map(|w| w + MARGIN_RADIANS).filter(|&w| w < std::f64::consts::PI) else {
        return ((r0, r1), (0, cols));
    };
    let col = |lon: f64| ((lon + std::f64::consts::PI) / size).floor() as i64;
    let (c0, c1) = (col(q.lon - w), col(q.lon + w));
    if c1 - c0 + 1 >= cols {
        return ((r0, r1), (0, cols));
    }
    ((r0, r1), (c0, c1 - c0 + 1))
}

/// Prefix sums of allocated coarse cells, for box counts in four loads.
fn prefix_sums(coarse: &[u32]) -> Vec<u32> {
    let (rows, cols) = (COARSE_ROWS as usize, COARSE_COLS as usize);
    let mut sums = vec![0u32; (rows + 1) * (cols + 1)];
    for r in 0..rows {
        for c in 0..cols {
            let here = (coarse[r * cols + c] != EMPTY) as u32;
            sums[(r + 1) * (cols + 1) + c + 1] =
                here + sums[r * (cols + 1) + c + 1] + sums[(r + 1) * (cols + 1) + c] - sums[r * (cols + 1) + c];
        }
    }
    sums
}

/// The fine cells a piece's bounding box meets (a piece spans at most one cell each way).
fn cells_of(a: Point, b: Point) -> impl Iterator<Item = u32> {
    let col = |x: i32| (x as i64 + HALF_TURN) / FINE;
    let row = |y: i32| ((y as i64 + HALF_TURN / 2) / FINE).min(FINE_ROWS - 1);
    let (c0, c1) = (col(a.x.min(b.x)), col(a.x.max(b.x)));
    let (r0, r1) = (row(a.y.min(b.y)), row(a.y.max(b.y)));
    (r0..=r1).flat_map(move |r| (c0..=c1).map(move |c| (r * FINE_COLS + c.rem_euclid(FINE_COLS)) as u32))
}

/// The pieces of every edge: their ends as unit vectors and as snapped points, rings closed,
/// and the zone of each piece (`NO_ZONE` at a ring's last end).
fn pieces(index: &ZoneIndex) -> (Vec<Vec3>, Vec<u32>, Vec<Point>) {
    let geometry = index.geometry();
    let mut points = Vec::with_capacity(geometry.vertices.len());
    let mut zones = Vec::with_capacity(geometry.vertices.len());
    let mut made = MadeLines::new(index);
    let push = |a: Point, b: Point, zone: u32, points: &mut Vec<Point>, zones: &mut Vec<u32>| {
        let n = pieces_of_edge(a, b);
        for k in 0..n {
            points.push(between(a, b, k, n));
            zones.push(zone);
        }
    };
    for p in 0..geometry.polygon_count() {
        let zone = geometry.polygon_zone[p];
        for r in geometry.polygon_rings[p] as usize..geometry.polygon_rings[p + 1] as usize {
            let ring = &geometry.vertices[geometry.ring_starts[r] as usize..geometry.ring_starts[r + 1] as usize];
            for w in ring.windows(2) {
                let (a, b) = (w[0], w[1]);
                if along_a_pole(a, b) {
                    // One point on the sphere, and a border only where other edges end there.
                    points.push(a);
                    zones.push(NO_ZONE);
                } else if may_be_made(a, b) {
                    // Its stretches in the zone (a cut through it: harmless, since no point
                    // outside is nearer to them than to the border) stay; the others go.
                    let cuts = made.cuts(zone, a, b);
                    for c in cuts.windows(2) {
                        if made.holds(zone, Point::new(c[0].x, ((c[0].y as i64 + c[1].y as i64) / 2) as i32)) {
                            push(c[0], c[1], zone, &mut points, &mut zones);
                        } else {
                            points.push(c[0]);
                            zones.push(NO_ZONE);
                        }
                    }
                } else {
                    push(a, b, zone, &mut points, &mut zones);
                }
            }
            points.push(*ring.last().expect("rings are closed"));
            zones.push(NO_ZONE);
        }
    }
    let ends = points.par_iter().map(|p| unit(p.x as f64 * RADIANS_PER_UNIT, p.y as f64 * RADIANS_PER_UNIT)).collect();
    (ends, zones, points)
}

// ---- Lines the reading made. Cutting a zone at the antimeridian (`antimeridian`) adds edges
// along ±180: where the zone lies on both sides of them, and where Sutherland–Hodgman bridged
// a bay that crosses the meridian, outside the zone. Closing a ring round a pole adds an edge
// along the pole's latitude and two along a meridian down to it, which may cross a hole.
// Tagging never sees them (the even-odd rule cancels them), but a distance to them would be a
// distance to nothing. An input may draw the same lines itself (a file cut at 180, Natural
// Earth's Antarctica closed along -90), and they may be true borders too (a zone that ends at
// 180). So an edge along ±180, or along a meridian to a pole, is kept where it lies in its
// zone's closure, by tagging beside the middle of each stretch between the places where the
// zone's edges meet its line; an edge along a pole's latitude is never kept.

const POLE: i64 = HALF_TURN / 2;

fn along_a_pole(a: Point, b: Point) -> bool {
    a.y == b.y && (a.y as i64).abs() == POLE
}

fn may_be_made(a: Point, b: Point) -> bool {
    a.x == b.x
        && a.y != b.y
        && ((a.x as i64).abs() == HALF_TURN || (a.y as i64).abs() == POLE || (b.y as i64).abs() == POLE)
}

/// The places where each zone's edges meet a meridian, found once per zone and meridian.
struct MadeLines<'a> {
    index: &'a ZoneIndex,
    /// The polygons of each zone (filled on first use).
    polygons_of_zone: Option<Vec<Vec<usize>>>,
    /// (zone, meridian x) -> latitudes where the zone's edges meet it, ascending.
    meetings: std::collections::HashMap<(u32, i32), Vec<i32>>,
    zones_here: Vec<u32>,
}

impl<'a> MadeLines<'a> {
    fn new(index: &'a ZoneIndex) -> Self {
        MadeLines { index, polygons_of_zone: None, meetings: Default::default(), zones_here: Vec::new() }
    }

    /// The ends of the stretches of vertical edge a–b between the places where its zone's
    /// edges meet its meridian, from a to b (a and b included).
    fn cuts(&mut self, zone: u32, a: Point, b: Point) -> Vec<Point> {
        // -180 and 180 are one meridian: the zone's edges on either side meet it.
        let line = if (a.x as i64).abs() == HALF_TURN { -HALF_TURN as i32 } else { a.x };
        let geometry = self.index.geometry();
        let polygons_of_zone = self.polygons_of_zone.get_or_insert_with(|| {
            let mut of = vec![Vec::new(); geometry.zone_count as usize];
            for (p, &z) in geometry.polygon_zone.iter().enumerate() {
                of[z as usize].push(p);
            }
            of
        });
        let meetings = self.meetings.entry((zone, line)).or_insert_with(|| {
            let xs: &[i64] = if line as i64 == -HALF_TURN { &[-HALF_TURN, HALF_TURN] } else { &[line as i64] };
            let mut ys = Vec::new();
            for &p in &polygons_of_zone[zone as usize] {
                let rings = geometry.polygon_rings[p] as usize..geometry.polygon_rings[p + 1] as usize;
                let edges = geometry.vertices
                    [geometry.ring_starts[rings.start] as usize..geometry.ring_starts[rings.end] as usize]
                    .windows(2);
                for w in edges {
                    let (u, v) = ((w[0].x as i64, w[0].y as i64), (w[1].x as i64, w[1].y as i64));
                    for &x in xs {
                        if (u.0 - x).signum() * (v.0 - x).signum() > 0 {
                            continue;
                        }
                        if u.0 == v.0 {
                            ys.extend([u.1 as i32, v.1 as i32]);
                        } else {
                            // Rounded to the nearest unit; the stretches are tested at their middles.
                            let t = (x - u.0) as f64 / (v.0 - u.0) as f64;
                            ys.push((u.1 as f64 + t * (v.1 - u.1) as f64).round() as i32);
                        }
                    }
                }
            }
            // (Windows over a polygon's rings also pair a ring's last vertex with the next
            // ring's first: a vertical pair at most adds a place, which only splits a stretch.)
            ys.sort_unstable();
            ys.dedup();
            ys
        });
        let (lo, hi) = (a.y.min(b.y), a.y.max(b.y));
        let from = meetings.partition_point(|&y| y <= lo);
        let to = meetings.partition_point(|&y| y < hi);
        let mut cuts: Vec<Point> = std::iter::once(lo)
            .chain(meetings[from..to].iter().copied())
            .chain(std::iter::once(hi))
            .map(|y| Point::new(a.x, y))
            .collect();
        if a.y > b.y {
            cuts.reverse();
        }
        cuts
    }

    /// Whether `p`, on a vertical edge of `zone`, lies in the zone's closure: whether the zone
    /// holds a point one unit beside it, on either side. (Not `p` itself under the inclusive
    /// rule: `p` lies on the made line, which is an edge to tagging.)
    fn holds(&mut self, zone: u32, p: Point) -> bool {
        [-1, 1].into_iter().any(|side| {
            let x = (p.x as i64 + side + HALF_TURN).rem_euclid(TURN) - HALF_TURN;
            self.zones_here.clear();
            all_zones(self.index, Point::new(x as i32, p.y), Boundary::HalfOpen, &mut self.zones_here);
            self.zones_here.contains(&zone)
        })
    }
}

/// How many pieces edge a–b is cut into (see the module's opening comment).
fn pieces_of_edge(a: Point, b: Point) -> i64 {
    let (dx, dy) = ((b.x as i64 - a.x as i64).abs(), (b.y as i64 - a.y as i64).abs());
    let (lon, lat) = (dx as f64 * RADIANS_PER_UNIT, dy as f64 * RADIANS_PER_UNIT);
    let sin_lat = (a.y.unsigned_abs().max(b.y.unsigned_abs()) as f64 * RADIANS_PER_UNIT).sin();
    let deviation = EARTH_RADIUS_M * sin_lat * lon * (lon * lon + lat * lat).sqrt() / 4.0;
    let for_deviation = (deviation / MAX_DEVIATION_M).sqrt().ceil() as i64;
    let for_cells = (dx.max(dy) + FINE - 1) / FINE;
    for_deviation.max(for_cells).max(1)
}

/// The point k/n of the way from a to b, rounded to the nearest unit; the same point whichever
/// way the edge runs (the sum (n - k)·a + k·b is symmetric).
fn between(a: Point, b: Point, k: i64, n: i64) -> Point {
    let mix = |u: i32, v: i32| -> i32 {
        let t = (n - k) as i128 * u as i128 + k as i128 * v as i128;
        let n = n as i128;
        ((2 * t + n).div_euclid(2 * n)) as i32
    };
    Point::new(mix(a.x, b.x), mix(a.y, b.y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boundary::Boundary;
    use crate::build::build;
    use crate::coords::snap_query;
    use crate::index::ZoneIndex;
    use crate::ingest::{zones_from_geojson, Grouping};
    use crate::query::nearest_slices;
    use crate::sphere::{chord2_to_metres, metres_to_chord2};

    fn zones(text: &str) -> ZoneIndex {
        build(zones_from_geojson(&[text], Grouping::FeaturesAreZones, None).unwrap().0)
    }

    /// Brute force, literally from the rule: the least squared chord to any piece within
    /// `limit`, and the lowest zone with a piece within `TIE_M` of it (and of `limit`).
    fn brute(near: &NearIndex, p: Point, limit: f64) -> (f64, u32) {
        let q = unit(p.x as f64 * RADIANS_PER_UNIT, p.y as f64 * RADIANS_PER_UNIT);
        let pieces: Vec<(f64, u32)> = (0..near.piece_zone.len())
            .filter(|&k| near.piece_zone[k] != NO_ZONE)
            .map(|k| (chord2_to_arc(q, near.ends[k], near.ends[k + 1]), near.piece_zone[k]))
            .filter(|&(c, _)| c <= limit)
            .collect();
        let Some(least) = pieces.iter().map(|&(c, _)| c).min_by(f64::total_cmp) else {
            return (f64::NAN, NO_ZONE);
        };
        let tie = (least.sqrt() + TIE_CHORD).powi(2);
        let zone = pieces.iter().filter(|&&(c, _)| c <= tie).map(|&(_, z)| z).min().unwrap();
        (least, zone)
    }

    const WORLD: &str = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[10,0],[20,0],[20,10],[10,10],[10,0]]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[175,-20],[185,-20],[185,-15],[175,-15],[175,-20]]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[-180,80],[180,80],[180,85],[-180,85],[-180,80]]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[40,-60],[41,-60],[40.5,-59.99],[40,-60]]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}}]}"#;

    #[test]
    fn the_grid_search_finds_what_brute_force_finds() {
        let index = zones(WORLD);
        let near = index.near();
        let mut seed = 3u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for i in 0..400 {
            let p = Point::new(((next() - 0.5) * 3.6e9) as i32, ((next() - 0.5) * 1.8e9) as i32);
            let (want, zone) = brute(near, p, 4.0);
            let got = near.search(p, 4.0);
            assert_eq!(got.chord2, want, "{p:?}");
            assert_eq!(got.zone, zone, "{p:?}");
            // Bounded searches give the same answer or none, exactly at the bound.
            let bound = [1e-6, 1e-4, 1e-2, want][i % 4];
            let bounded = near.search(p, bound);
            let (want, zone) = brute(near, p, bound);
            if zone == NO_ZONE {
                assert_eq!(bounded.zone, NO_ZONE);
            } else {
                assert_eq!((bounded.chord2, bounded.zone), (want, zone));
            }
        }
    }

    /// A FeatureCollection of one polygon per ring (GeoJSON coordinates), in zone order.
    fn collection(rings: &[&str]) -> String {
        let features: Vec<String> = rings
            .iter()
            .map(|ring| {
                format!(
                    r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"Polygon","coordinates":[{ring}]}}}}"#
                )
            })
            .collect();
        format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))
    }

    #[test]
    fn ties_at_a_shared_border_go_to_the_first_zone_whatever_its_vertices() {
        // The second zone draws the first's northern edge with a vertex on it: its pieces
        // differ, and so did their distances, by up to twice the pieces' deviation from the line.
        let first = "[[0,60],[10,60],[10,61],[0,61],[0,60]]";
        for x in ["3.3915", "1.25", "7.77", "9.99"] {
            let second = format!("[[0,60],[10,60],[10,61],[{x},61],[0,61],[0,60]]");
            for order in [[first, second.as_str()], [second.as_str(), first]] {
                let index = zones(&collection(&order));
                for lon in [0.5, 2.0, 3.3915, 5.0, 7.0, 9.5] {
                    let p = snap_query(61.001, lon).unwrap();
                    assert_eq!(index.near().search(p, 4.0).zone, 0, "{x} {lon}");
                    assert_eq!(brute(index.near(), p, 4.0).1, 0);
                }
            }
        }
        // Boxes meeting at a corner: due north of it, the corner is the nearest point of both.
        let boxes =
            collection(&["[[19,44],[20,44],[20,45],[19,45],[19,44]]", "[[20,44],[21,44],[21,45],[20,45],[20,44]]"]);
        let index = zones(&boxes);
        for lat in [45.001, 45.01, 45.3, 47.0] {
            assert_eq!(index.near().search(snap_query(lat, 20.0).unwrap(), 4.0).zone, 0, "{lat}");
        }
        // The pole is one point: at every longitude the same zone, the first of those that
        // reach it.
        let polar = collection(&["[[0,70],[90,70],[90,90],[0,90],[0,70]]", "[[100,80],[110,80],[110,90],[100,80]]"]);
        let index = zones(&polar);
        for lon in [-135.0, -45.0, 0.0, 45.0, 105.0, 180.0] {
            assert_eq!(index.near().search(snap_query(90.0, lon).unwrap(), 4.0).zone, 0, "{lon}");
        }
    }

    #[test]
    fn across_the_antimeridian_and_on_shared_borders() {
        let index = zones(WORLD);
        let near = index.near();
        // 179.99 is 0.01 degree (about 1.07 km at 17 S) from a zone beginning at -179.99... here
        // the zone spans 175..185, so a point just east of it at -174.99:
        let p = snap_query(-17.0, -174.99).unwrap();
        let got = chord2_to_metres(near.search(p, 4.0).chord2);
        let expected = 0.01f64.to_radians() * (17f64.to_radians()).cos() * EARTH_RADIUS_M;
        assert!((got - expected).abs() < 1.0, "{got} {expected}");
        // Zone 5 repeats zone 0: at equal distance the first zone wins.
        let p = snap_query(-0.5, 5.0).unwrap();
        assert_eq!(near.search(p, 4.0).zone, 0);
        // Max distance: null beyond it.
        assert_eq!(near.search(p, metres_to_chord2(1000.0)).zone, NO_ZONE);
    }

    /// Distances in km to the zones of `text` (one zone) from (lat, lon) points.
    fn km(text: &str, points: &[(f64, f64)]) -> Vec<f64> {
        let index = zones(text);
        let near = index.near();
        points
            .iter()
            .map(|&(lat, lon)| chord2_to_metres(near.search(snap_query(lat, lon).unwrap(), 4.0).chord2) / 1e3)
            .collect()
    }

    fn degrees_km(d: f64) -> f64 {
        d.to_radians() * EARTH_RADIUS_M / 1e3
    }

    /// The lines cutting and closing a zone made (a bridge along 180 across a bay, a ring's
    /// closure along a pole and down to it) are no border: nothing is measured to them where
    /// they lie outside the zone. Borders that lie on 180 are.
    #[test]
    fn lines_the_reading_made_are_not_borders() {
        // A C open to the east, written past 180: its bay (175..190, -10..10) is outside.
        let c = r#"{"type":"Polygon","coordinates":[[[170,-30],[190,-30],[190,-10],[175,-10],[175,10],[190,10],[190,30],[170,30],[170,-30]]]}"#;
        let got = km(c, &[(0.0, 180.0), (0.0, -179.99), (0.0, -175.0)]);
        for (g, want) in got.iter().zip([degrees_km(5.0), degrees_km(5.01), degrees_km(10.0)]) {
            assert!((g - want).abs() < 1.0, "{got:?}");
        }
        // A zone that ends at 180: its edge there is a border, seen from across the meridian.
        let east = r#"{"type":"Polygon","coordinates":[[[170,0],[180,0],[180,10],[170,10],[170,0]]]}"#;
        let got = km(east, &[(5.0, -179.0)]);
        let want = (5f64.to_radians().cos() * 1f64.to_radians().sin()).asin() * EARTH_RADIUS_M / 1e3;
        assert!((got[0] - want).abs() < 1.0, "{got:?} {want}");
        // The Southern Ocean between two rings round the pole (Antarctica the hole), starting at
        // different longitudes: from Antarctica, the distance to the coast at 70 S.
        let around = |start: f64, lat: f64| {
            let r: Vec<String> = (0..=36)
                .map(|k| format!("[{},{lat}]", ((start + 10.0 * (k % 36) as f64 + 180.0).rem_euclid(360.0) - 180.0)))
                .collect();
            format!("[{}]", r.join(","))
        };
        for (shell, hole) in [(-180.0, -180.0), (30.0, -150.0)] {
            let ocean =
                format!(r#"{{"type":"Polygon","coordinates":[{},{}]}}"#, around(shell, -60.0), around(hole, -70.0));
            let got = km(&ocean, &[(-80.0, -179.0), (-80.0, 175.0), (-89.0, 0.0)]);
            for (g, want) in got.iter().zip([degrees_km(10.0), degrees_km(10.0), degrees_km(19.0)]) {
                assert!((g - want).abs() < 1.0, "rings from {shell}, {hole}: {got:?}");
            }
        }
        // An island in a sea round the North Pole whose ring starts at 30 E, down the island.
        let sea = format!(
            r#"{{"type":"Polygon","coordinates":[{},[[25,78],[35,78],[35,80],[25,80],[25,78]]]}}"#,
            around(30.0, 70.0)
        );
        let got = km(&sea, &[(79.0, 32.0)]);
        let want = (79f64.to_radians().cos() * 3f64.to_radians().sin()).asin() * EARTH_RADIUS_M / 1e3;
        assert!((got[0] - want).abs() < 1.0, "{got:?} {want}");
    }

    #[test]
    fn long_parallel_edges_are_measured_as_drawn() {
        // The edge along 80 N from -180 to 180: a point at 79.9 N is 0.1 degree of latitude from
        // it anywhere, though a great circle between its ends would pass over the pole.
        let index = zones(WORLD);
        let near = index.near();
        for lon in [-120.0, 0.0, 33.3, 179.0] {
            let p = snap_query(79.9, lon).unwrap();
            let got = chord2_to_metres(near.search(p, 4.0).chord2);
            let expected = 0.1f64.to_radians() * EARTH_RADIUS_M;
            assert!((got - expected).abs() < 0.1, "{lon}: {got} {expected}");
        }
    }

    #[test]
    fn points_in_zones_are_at_zero_and_invalid_points_get_none() {
        let index = zones(WORLD);
        let lat = [5.0, 5.0, f64::NAN, 95.0, -17.0, 50.0];
        let lon = [5.0, 15.0, 0.0, 0.0, 179.5, 50.0];
        let mut out = vec![Nearest::NONE; lat.len()];
        nearest_slices(&index, &lat, &lon, Boundary::HalfOpen, 4.0, &mut out, false);
        assert_eq!((out[0].chord2, out[0].zone), (0.0, 0));
        assert_eq!((out[1].chord2, out[1].zone), (0.0, 1));
        assert_eq!(out[2].zone, NO_ZONE);
        assert!(out[2].chord2.is_nan() && out[3].chord2.is_nan());
        assert_eq!((out[4].chord2, out[4].zone), (0.0, 2));
        assert!(out[5].chord2 > 0.0 && out[5].zone != NO_ZONE);
    }

    #[test]
    fn points_on_borders_the_rule_leaves_outside_are_at_zero() {
        // a: (0, 0)-(1, 1); b east of it, sharing the edge x = 1 with a vertex of its own at
        // (1, 0.5): their pieces there differ, and measured, a point on it was nearer to b.
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{},"geometry":{"type":"Polygon",
             "coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
            {"type":"Feature","properties":{},"geometry":{"type":"Polygon",
             "coordinates":[[[1,0],[2,0],[2,1],[1,1],[1,0.5],[1,0]]]}}]}"#;
        let index = zones(text);
        // (lat, lon): on a's top edge (outside under both rules below), and on the shared edge.
        let (lat, lon) = ([1.0, 0.3], [0.5, 1.0]);
        for (boundary, zones) in [(Boundary::HalfOpen, [0, 1]), (Boundary::Exclusive, [0, 0])] {
            let mut out = vec![Nearest::NONE; 2];
            // Found within a largest distance of 0: exactly on the border.
            nearest_slices(&index, &lat, &lon, boundary, 0.0, &mut out, false);
            let got: Vec<(f64, u32)> = out.iter().map(|n| (n.chord2, n.zone)).collect();
            assert_eq!(got, vec![(0.0, zones[0]), (0.0, zones[1])], "{boundary:?}");
        }
    }

    #[test]
    fn shared_pieces_are_the_same_both_ways() {
        let (a, b) = (Point::new(-1_000_003, 7), Point::new(2_000_001, 900_000_013));
        let n = pieces_of_edge(a, b);
        assert_eq!(n, pieces_of_edge(b, a));
        for k in 0..=n {
            assert_eq!(between(a, b, k, n), between(b, a, n - k, n));
        }
    }
}
