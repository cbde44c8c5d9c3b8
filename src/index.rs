//! The global zone index: one grid over every zone, built once.
//!
//! A top grid of power-of-two cells covers the zones' bounds. A cell that no edge touches is
//! *resolved*: it stores the set of zones containing it, and a lookup there reads no
//! geometry at all. A cell that edges touch is split 4×4 until it holds at most
//! `leaf_max_edges` edges (or cannot be split further); that *leaf* stores, for each polygon
//! with edges in it, that polygon's even-odd parity at the leaf's reference corner R, and
//! the zones of the other polygons that contain R. A leaf is one contiguous block of
//! `leaf_data`, so a lookup in it touches one or two cache lines rather than an array each.
//!
//! A query point P in a leaf then only needs the leaf's edges: a polygon's parity at P is its
//! parity at R flipped once per edge that crosses the path P → (R.x, P.y) → R. Everything is
//! done on points perturbed by (+ε, +ε²) (the half-open rule of `coords::ray_crosses`), so
//! the path never runs through a vertex or along an edge and every crossing is decided by
//! exact integer orientation tests (`path_crosses`). The leaf's R is (x1, y0): the bottom
//! left corner of the cell to its right, the first x that is not in the leaf.
//!
//! Everything is flat arrays of integers, so the index serializes as it is.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::coords::{Point, orient_xy};
use crate::geometry::ZoneGeometry;

/// How finely the index is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuildOptions {
    /// A leaf holds at most this many edges unless its cell is too small to split.
    pub leaf_max_edges: usize,
    /// Top cells per edge (the grid is then rounded to a power-of-two cell size).
    pub edges_per_top_cell: i64,
}

impl BuildOptions {
    /// Up to this many edges, the index is first built with `SMALL`.
    pub const SMALL_MAX_EDGES: usize = 100_000;
    /// ... and kept if it stays this small; otherwise it is rebuilt with `LARGE`.
    pub const SMALL_MAX_BYTES: usize = 8 << 20;
    /// Chosen with `bench/leaf_sweep.py` (8M AIS-like points, `tag_numpy`, 2 threads). 4-edge
    /// leaves keep an index of up to ~100k edges at a few MB, within a core's L2 cache: the
    /// simplified zones (27.5k edges, 2.0 MB) then take 0.157 s instead of 0.209 s with 16-edge
    /// leaves. Long edges are copied into every cell they cross, so a few of those can still
    /// make it large (a star of 5,000 spikes: 46 MB for 10,000 edges), hence `SMALL_MAX_BYTES`.
    pub const SMALL: BuildOptions = BuildOptions { leaf_max_edges: 4, edges_per_top_cell: 1 };
    /// For more edges, finer leaves only grow the index out of cache: the 10 m zones took
    /// 0.257 s with 4-edge leaves (67.7 bytes/vertex), 0.208 s with 16 (23.5 bytes/vertex).
    pub const LARGE: BuildOptions = BuildOptions { leaf_max_edges: 16, edges_per_top_cell: 2 };

    /// The options `ZoneIndex::build` starts from for a geometry with `edges` edges.
    pub fn for_edges(edges: usize) -> BuildOptions {
        if edges <= Self::SMALL_MAX_EDGES {
            Self::SMALL
        } else {
            Self::LARGE
        }
    }
}

/// Node words: two tag bits, 30 value bits.
pub const TAG_SHIFT: u32 = 30;
pub const VALUE_MASK: u32 = (1 << TAG_SHIFT) - 1;
/// Value: a zone set id (0 is the empty set).
pub const TAG_RESOLVED: u32 = 0;
/// Value: index of the first of 16 children in `nodes`, row-major 4×4.
pub const TAG_INTERNAL: u32 = 1;
/// Value: the offset of the leaf's block in `leaf_data`.
pub const TAG_LEAF: u32 = 2;

/// In a group's zone word, the high bit is the polygon's parity at the leaf's reference corner.
pub const PARITY_BIT: u32 = 1 << 31;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneIndex {
    pub geometry: ZoneGeometry,
    /// Lower-left corner of the top grid.
    pub origin_x: i64,
    pub origin_y: i64,
    /// Top cells are 2^top_shift units wide and high.
    pub top_shift: u32,
    pub cols: u32,
    pub rows: u32,
    /// The top grid (rows × cols, row-major) followed by blocks of 16 children.
    pub nodes: Vec<u32>,
    /// Zone sets: set `s` is `set_zones[set_offsets[s]..set_offsets[s + 1]]`, ascending.
    pub set_offsets: Vec<u32>,
    pub set_zones: Vec<u32>,
    /// Leaf blocks, each: the zone set of the polygons that contain R and have no edge in
    /// the leaf; the number of groups; then per group (one polygon): zone | parity at R, the
    /// number of edges, how many of them straddle x = x1 (those come first: only they can
    /// cross the path's vertical leg), and the edges (as the index of their first vertex in
    /// `geometry.vertices`).
    pub leaf_data: Vec<u32>,
    /// The lowest zone of each zone set (`u32::MAX` for the empty set): what `first_zone`
    /// answers in a resolved cell, in one load. Derived, so not serialized.
    #[serde(skip)]
    pub first_zone_of_set: Vec<u32>,
}

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
    if (ay <= py) == (by <= py) {
        return false;
    }
    let (lx, ly, hx, hy) = if ay < by { (ax, ay, bx, by) } else { (bx, by, ax, ay) };
    let at_p = orient_xy(lx, ly, hx, hy, px, py);
    at_p > 0 && at_p - (hy - ly) as i128 * (x1 - px) as i128 <= 0
}

/// Whether edge a–b crosses the vertical leg at x1 + ε, from py + ε² down to y0 + ε². Only
/// an edge that straddles x = x1 (`straddles_x`) can. It crosses when Q' is above it and R'
/// is not; for a point on the edge's line the perturbation decides: the ε of x moves it
/// above a falling edge, the ε² of y above a horizontal one.
#[inline(always)]
fn crosses_vertical_leg(a: Point, b: Point, py: i64, x1: i64, y0: i64) -> bool {
    if !straddles_x(a, b, x1) {
        return false;
    }
    let (ax, ay, bx, by) = (a.x as i64, a.y as i64, b.x as i64, b.y as i64);
    let (lx, ly, rx, ry) = if ax < bx { (ax, ay, bx, by) } else { (bx, by, ax, ay) };
    let tie_above = ry <= ly;
    let at_q = orient_xy(lx, ly, rx, ry, x1, py);
    if !(at_q > 0 || (at_q == 0 && tie_above)) {
        return false;
    }
    let at_r = at_q - (rx - lx) as i128 * (py - y0) as i128;
    !(at_r > 0 || (at_r == 0 && tie_above))
}

/// Whether exactly one end of a–b has x <= x1: the edges that cross the line x = x1 + ε.
#[inline(always)]
pub fn straddles_x(a: Point, b: Point, x1: i64) -> bool {
    (a.x as i64 <= x1) != (b.x as i64 <= x1)
}

/// Whether segment a–b touches the closed rectangle [x0, x1] × [y0, y1].
#[inline]
fn touches_rect(a: Point, b: Point, x0: i64, y0: i64, x1: i64, y1: i64) -> bool {
    let (ax, ay, bx, by) = (a.x as i64, a.y as i64, b.x as i64, b.y as i64);
    if ax.max(bx) < x0 || ax.min(bx) > x1 || ay.max(by) < y0 || ay.min(by) > y1 {
        return false;
    }
    // The bounding boxes overlap: the segment misses the rectangle only if all four
    // corners lie strictly on one side of its line.
    let sides = [(x0, y0), (x1, y0), (x0, y1), (x1, y1)].map(|(x, y)| orient_xy(ax, ay, bx, by, x, y).signum());
    !(sides.iter().all(|&s| s > 0) || sides.iter().all(|&s| s < 0))
}

/// The runs of equal keys in pairs sorted by key: (key, start, end).
fn runs_by_key<T>(pairs: &[(u32, T)]) -> Vec<(u32, usize, usize)> {
    let mut runs = Vec::new();
    let mut start = 0;
    while start < pairs.len() {
        let key = pairs[start].0;
        let end = start + pairs[start..].iter().take_while(|(k, _)| *k == key).count();
        runs.push((key, start, end));
        start = end;
    }
    runs
}

/// Toggles `poly` in a sorted set.
fn toggle(set: &mut Vec<u32>, poly: u32) {
    match set.binary_search(&poly) {
        Ok(i) => {
            set.remove(i);
        }
        Err(i) => set.insert(i, poly),
    }
}

/// Geometry of the top grid.
#[derive(Clone, Copy)]
struct Grid {
    ox: i64,
    oy: i64,
    shift: u32,
    cols: i64,
    rows: i64,
}

impl Grid {
    fn size(&self) -> i64 {
        1 << self.shift
    }

    /// The smallest power-of-two cell size that keeps the grid near `target_cells`.
    fn over(bounds: [i32; 4], target_cells: i64) -> Grid {
        let (ox, oy) = (bounds[0] as i64, bounds[1] as i64);
        let (w, h) = (bounds[2] as i64 - ox + 1, bounds[3] as i64 - oy + 1);
        let mut shift = 0;
        loop {
            let size = 1i64 << shift;
            let (cols, rows) = ((w + size - 1) / size, (h + size - 1) / size);
            if cols * rows <= target_cells || shift >= 40 {
                return Grid { ox, oy, shift, cols, rows };
            }
            shift += 1;
        }
    }

    /// Calls `f(cell)` for every top cell whose closed rectangle the edge touches.
    fn for_each_cell_touching(&self, a: Point, b: Point, mut f: impl FnMut(u32)) {
        let s = self.size();
        let (ymin, ymax) = (a.y.min(b.y) as i64, a.y.max(b.y) as i64);
        let row_lo = ((ymin - self.oy + s - 1).div_euclid(s) - 1).max(0);
        let row_hi = (ymax - self.oy).div_euclid(s).min(self.rows - 1);
        let (xmin, xmax) = (a.x.min(b.x) as i64, a.x.max(b.x) as i64);
        for row in row_lo..=row_hi {
            let (y0, y1) = (self.oy + row * s, self.oy + (row + 1) * s);
            // The segment's x-range within this row's band, widened by a cell for rounding;
            // the exact test below decides.
            let (lo, hi) = if a.y == b.y {
                (xmin, xmax)
            } else {
                let x_at = |y: i64| {
                    let t = (y.clamp(ymin, ymax) - a.y as i64) as f64 / (b.y as i64 - a.y as i64) as f64;
                    a.x as f64 + t * (b.x as i64 - a.x as i64) as f64
                };
                let (xa, xb) = (x_at(y0), x_at(y1));
                (xa.min(xb).floor() as i64, xa.max(xb).ceil() as i64)
            };
            let col_lo = ((lo.max(xmin) - self.ox).div_euclid(s) - 1).max(0);
            let col_hi = ((hi.min(xmax) - self.ox).div_euclid(s) + 1).min(self.cols - 1);
            for col in col_lo..=col_hi {
                let x0 = self.ox + col * s;
                if touches_rect(a, b, x0, y0, x0 + s, y1) {
                    f((row * self.cols + col) as u32);
                }
            }
        }
    }
}

/// Interns sets of u32 (zone sets) into offset/value arrays; id 0 is the empty set.
#[derive(Default)]
struct SetTable {
    ids: HashMap<Vec<u32>, u32>,
    offsets: Vec<u32>,
    values: Vec<u32>,
}

impl SetTable {
    fn new() -> Self {
        let mut t = SetTable { offsets: vec![0], ..Default::default() };
        t.intern(&[]);
        t
    }

    fn intern(&mut self, set: &[u32]) -> u32 {
        if let Some(&id) = self.ids.get(set) {
            return id;
        }
        let id = self.offsets.len() as u32 - 1;
        self.values.extend_from_slice(set);
        self.offsets.push(self.values.len() as u32);
        self.ids.insert(set.to_vec(), id);
        id
    }
}

/// The refined part of one top cell, built independently and merged afterwards.
struct Subtree {
    /// Blocks of 16 child words; values are local (remapped when merged).
    nodes: Vec<u32>,
    /// Zone sets referred to by local resolved words and leaf bases.
    sets: Vec<Vec<u32>>,
    /// Leaf blocks; their first word is a local set id.
    leaf_data: Vec<u32>,
    /// Where each leaf block starts in `leaf_data`.
    leaf_offsets: Vec<u32>,
    /// The word for the top cell itself.
    root: u32,
    /// Words (`nodes` and `leaf_data`) this subtree may use before it stops splitting.
    budget: usize,
}

impl Subtree {
    fn new() -> Self {
        // Local set 0 is the empty set: most resolved cells and leaf bases use it.
        Subtree { nodes: Vec::new(), sets: vec![Vec::new()], leaf_data: Vec::new(), leaf_offsets: Vec::new(), root: 0, budget: usize::MAX }
    }

    /// A local id for a zone set, reusing the empty set and the previous set (neighbouring
    /// cells mostly repeat it) instead of storing a copy each time.
    fn set_id(&mut self, zones: Vec<u32>) -> u32 {
        if zones.is_empty() {
            return 0;
        }
        if self.sets.last() != Some(&zones) {
            self.sets.push(zones);
        }
        self.sets.len() as u32 - 1
    }
}

/// The words a top cell's subtree may take per edge of the cell before it stops splitting
/// (coastlines take about 4 on average; edges that overlap by the thousand would take
/// without bound).
const WORDS_PER_EDGE: usize = 16;

/// A split may put each edge into this many of the 16 children on average; more, and the
/// cell stays a leaf. Short coastline edges average under 1.5. (4 made a 5,000-spike star
/// 3x slower to query for half the memory; 8 only stops edges that cross most children.)
const MAX_COPIES_PER_SPLIT: usize = 8;

struct Builder<'a> {
    geometry: &'a ZoneGeometry,
    edge_polygon: &'a [u32],
    leaf_max_edges: usize,
}

impl Builder<'_> {
    fn zones_of(&self, polygons: &[u32]) -> Vec<u32> {
        let mut zones: Vec<u32> = polygons.iter().map(|&p| self.geometry.polygon_zone[p as usize]).collect();
        zones.sort_unstable();
        zones.dedup();
        zones
    }

    /// Builds the node for the cell [x0, x0 + 2^shift)², given its edges, the polygons odd
    /// at its reference corner, and how many edges its parent had; returns the node's word.
    #[allow(clippy::too_many_arguments)]
    fn node(&self, tree: &mut Subtree, x0: i64, y0: i64, shift: u32, edges: &[u32], odd: &[u32], parent_edges: usize) -> u32 {
        if edges.is_empty() {
            return (TAG_RESOLVED << TAG_SHIFT) | tree.set_id(self.zones_of(odd));
        }
        // A cell that kept all its parent's edges would keep them at every level below (a
        // vertex where many edges meet, or edges overlapping along a shared border): splitting
        // it gains nothing, and splitting every such cell along a long border would not end.
        let x1 = x0 + (1i64 << shift);
        if edges.len() <= self.leaf_max_edges || shift < 2 || edges.len() >= parent_edges {
            return self.leaf(tree, edges, odd, x1);
        }
        // Memory stays proportional to the edges: past its budget, a subtree stops splitting.
        if tree.nodes.len() + tree.leaf_data.len() > tree.budget {
            return self.leaf(tree, edges, odd, x1);
        }
        let child_shift = shift - 2;
        let cs = 1i64 << child_shift;
        // Each edge goes to the children its bounding box reaches (closed cells, so an edge on
        // a shared side goes to both), confirmed by the exact test; order is kept.
        let mut child_edges: [Vec<u32>; 16] = Default::default();
        let span = |lo: i64, hi: i64, origin: i64| {
            (((lo - origin - 1).div_euclid(cs)).clamp(0, 3), ((hi - origin).div_euclid(cs)).clamp(0, 3))
        };
        for &e in edges {
            let (a, b) = self.geometry.edge(e);
            let (i0, i1) = span(a.x.min(b.x) as i64, a.x.max(b.x) as i64, x0);
            let (j0, j1) = span(a.y.min(b.y) as i64, a.y.max(b.y) as i64, y0);
            for j in j0..=j1 {
                for i in i0..=i1 {
                    let (cx0, cy0) = (x0 + i * cs, y0 + j * cs);
                    if touches_rect(a, b, cx0, cy0, cx0 + cs, cy0 + cs) {
                        child_edges[(j * 4 + i) as usize].push(e);
                    }
                }
            }
        }
        // Edges much longer than the children (thousands of spikes crossing one area, say)
        // would be copied into most of them, at every level below: memory would grow with
        // the depth instead of the edges. Such a cell stays a leaf with many edges.
        let copies: usize = child_edges.iter().map(Vec::len).sum();
        if copies > MAX_COPIES_PER_SPLIT * edges.len() {
            return self.leaf(tree, edges, odd, x1);
        }
        let block = tree.nodes.len();
        tree.nodes.extend_from_slice(&[0; 16]);
        for j in 0..4 {
            for i in 0..4 {
                let (cx0, cy0) = (x0 + i * cs, y0 + j * cs);
                // The child's reference corner (cx0 + cs, cy0), reached from the parent's
                // (x1, y0) along the same kind of path as a query; copied only if it differs.
                let mut toggled: Vec<u32> = Vec::new();
                for &e in edges {
                    let (a, b) = self.geometry.edge(e);
                    if path_crosses(a, b, cx0 + cs, cy0, x1, y0) {
                        toggle(&mut toggled, self.edge_polygon[e as usize]);
                    }
                }
                let child_odd: std::borrow::Cow<[u32]> = if toggled.is_empty() {
                    odd.into()
                } else {
                    let mut child_odd = odd.to_vec();
                    for p in toggled {
                        toggle(&mut child_odd, p);
                    }
                    child_odd.into()
                };
                let word = self.node(tree, cx0, cy0, child_shift, &child_edges[(j * 4 + i) as usize], &child_odd, edges.len());
                tree.nodes[block + (j * 4 + i) as usize] = word;
            }
        }
        (TAG_INTERNAL << TAG_SHIFT) | block as u32
    }

    /// A leaf block for a cell whose right side is x = x1 (see `ZoneIndex::leaf_data`).
    fn leaf(&self, tree: &mut Subtree, edges: &[u32], odd: &[u32], x1: i64) -> u32 {
        // By polygon; within one, the edges that straddle x = x1 first: (polygon, (rest, edge)).
        let mut keyed: Vec<(u32, (bool, u32))> = edges
            .iter()
            .map(|&e| {
                let (a, b) = self.geometry.edge(e);
                (self.edge_polygon[e as usize], (!straddles_x(a, b, x1), e))
            })
            .collect();
        keyed.sort_unstable();
        let groups = runs_by_key(&keyed);
        let offset = tree.leaf_data.len() as u32;
        tree.leaf_offsets.push(offset);
        tree.leaf_data.extend_from_slice(&[0, groups.len() as u32]);
        let mut odd_without_edges: Vec<u32> = odd.to_vec();
        for (poly, start, end) in groups {
            let parity = match odd_without_edges.binary_search(&poly) {
                Ok(i) => {
                    odd_without_edges.remove(i);
                    PARITY_BIT
                }
                Err(_) => 0,
            };
            let straddling = keyed[start..end].iter().take_while(|&&(_, (rest, _))| !rest).count();
            tree.leaf_data.push(self.geometry.polygon_zone[poly as usize] | parity);
            tree.leaf_data.push((end - start) as u32);
            tree.leaf_data.push(straddling as u32);
            tree.leaf_data.extend(keyed[start..end].iter().map(|&(_, (_, e))| e));
        }
        tree.leaf_data[offset as usize] = tree.set_id(self.zones_of(&odd_without_edges));
        (TAG_LEAF << TAG_SHIFT) | offset
    }
}

impl ZoneIndex {
    /// The index with the options that suit the geometry (see `BuildOptions::SMALL`).
    pub fn build(geometry: ZoneGeometry) -> ZoneIndex {
        if BuildOptions::for_edges(geometry.num_vertices()) == BuildOptions::SMALL {
            let small = Self::build_with(geometry.clone(), BuildOptions::SMALL);
            if small.heap_bytes() <= BuildOptions::SMALL_MAX_BYTES {
                return small;
            }
        }
        Self::build_with(geometry, BuildOptions::LARGE)
    }

    pub fn build_with(geometry: ZoneGeometry, options: BuildOptions) -> ZoneIndex {
        // Which polygon each edge (by first vertex) belongs to.
        let mut edge_polygon = vec![u32::MAX; geometry.vertices.len()];
        let mut edge_list: Vec<u32> = Vec::with_capacity(geometry.vertices.len());
        for p in 0..geometry.polygon_count() {
            for e in geometry.polygon_edges(p) {
                edge_polygon[e as usize] = p as u32;
                edge_list.push(e);
            }
        }
        let bounds = geometry.bounds().unwrap_or([0, 0, 0, 0]);
        let target_cells = (edge_list.len() as i64 / options.edges_per_top_cell.max(1)).clamp(1, 1 << 22);
        let grid = Grid::over(bounds, target_cells);
        let cell_count = (grid.cols * grid.rows) as usize;

        // Edges per top cell, in a deterministic order.
        let mut touching: Vec<(u32, u32)> = edge_list
            .par_chunks(4096)
            .flat_map_iter(|chunk| {
                let mut pairs = Vec::new();
                for &e in chunk {
                    let (a, b) = geometry.edge(e);
                    grid.for_each_cell_touching(a, b, |cell| pairs.push((cell, e)));
                }
                pairs
            })
            .collect();
        touching.par_sort_unstable();

        let odd_at_corner = top_corner_parities(&geometry, &edge_list, &edge_polygon, grid);

        // Cells that edges touch are refined in parallel, each into its own subtree.
        let cell_ranges = runs_by_key(&touching);
        let builder = Builder { geometry: &geometry, edge_polygon: &edge_polygon, leaf_max_edges: options.leaf_max_edges };
        let subtrees: Vec<(u32, Subtree)> = cell_ranges
            .par_iter()
            .map(|&(cell, i, j)| {
                let edges: Vec<u32> = touching[i..j].iter().map(|&(_, e)| e).collect();
                let (col, row) = (cell as i64 % grid.cols, cell as i64 / grid.cols);
                let mut tree = Subtree::new();
                tree.budget = WORDS_PER_EDGE * edges.len() + 256;
                let odd = &odd_at_corner[cell as usize];
                tree.root = builder.node(
                    &mut tree,
                    grid.ox + col * grid.size(),
                    grid.oy + row * grid.size(),
                    grid.shift,
                    &edges,
                    odd,
                    usize::MAX,
                );
                (cell, tree)
            })
            .collect();

        // Merge: resolved top cells, then every subtree with its values offset.
        let mut sets = SetTable::new();
        let mut nodes = vec![0u32; cell_count];
        for (cell, odd) in odd_at_corner.iter().enumerate() {
            nodes[cell] = (TAG_RESOLVED << TAG_SHIFT) | sets.intern(&builder.zones_of(odd));
        }
        let mut leaf_data = Vec::new();
        for (cell, mut tree) in subtrees {
            let set_ids: Vec<u32> = tree.sets.iter().map(|s| sets.intern(s)).collect();
            let node_offset = nodes.len() as u32;
            let leaf_offset = leaf_data.len() as u32;
            let remap = |word: u32| {
                let value = word & VALUE_MASK;
                match word >> TAG_SHIFT {
                    TAG_RESOLVED => (TAG_RESOLVED << TAG_SHIFT) | set_ids[value as usize],
                    TAG_INTERNAL => (TAG_INTERNAL << TAG_SHIFT) | (value + node_offset),
                    _ => (TAG_LEAF << TAG_SHIFT) | (value + leaf_offset),
                }
            };
            nodes.extend(tree.nodes.iter().map(|&w| remap(w)));
            nodes[cell as usize] = remap(tree.root);
            for &offset in &tree.leaf_offsets {
                let base = &mut tree.leaf_data[offset as usize];
                *base = set_ids[*base as usize];
            }
            leaf_data.extend_from_slice(&tree.leaf_data);
        }

        ZoneIndex {
            geometry,
            origin_x: grid.ox,
            origin_y: grid.oy,
            top_shift: grid.shift,
            cols: grid.cols as u32,
            rows: grid.rows as u32,
            nodes,
            set_offsets: sets.offsets,
            set_zones: sets.values,
            leaf_data,
            first_zone_of_set: Vec::new(),
        }
        .with_derived_tables()
    }

    /// Fills in the tables derived from the serialized arrays (after a build or a decode).
    pub fn with_derived_tables(mut self) -> Self {
        self.first_zone_of_set = (0..self.set_offsets.len().saturating_sub(1) as u32)
            .map(|set| self.zone_set(set).first().copied().unwrap_or(u32::MAX))
            .collect();
        self
    }

    pub fn zone_set(&self, set: u32) -> &[u32] {
        &self.set_zones[self.set_offsets[set as usize] as usize..self.set_offsets[set as usize + 1] as usize]
    }

    /// Bytes of the index arrays in memory (geometry included).
    pub fn heap_bytes(&self) -> usize {
        let g = &self.geometry;
        4 * (self.nodes.len()
            + self.set_offsets.len()
            + self.set_zones.len()
            + self.leaf_data.len()
            + g.polygon_zone.len()
            + g.polygon_rings.len()
            + g.ring_starts.len())
            + 8 * g.vertices.len()
    }
}

/// For every top cell, the sorted polygons whose parity is odd at the cell's reference
/// corner (x1, y0): swept row by row along the line y = y0 + ε².
fn top_corner_parities(geometry: &ZoneGeometry, edge_list: &[u32], edge_polygon: &[u32], grid: Grid) -> Vec<Vec<u32>> {
    let s = grid.size();
    // (row, edge) for every edge crossing the row's bottom line.
    let mut crossing: Vec<(u32, u32)> = edge_list
        .par_chunks(4096)
        .flat_map_iter(|chunk| {
            let mut pairs = Vec::new();
            for &e in chunk {
                let (a, b) = geometry.edge(e);
                let (ly, hy) = (a.y.min(b.y) as i64, a.y.max(b.y) as i64);
                if ly == hy {
                    continue;
                }
                // Rows whose line y0 satisfies ly <= y0 < hy.
                let first = (ly - grid.oy + s - 1).div_euclid(s).max(0);
                let last = (hy - 1 - grid.oy).div_euclid(s).min(grid.rows - 1);
                for row in first..=last {
                    pairs.push((row as u32, e));
                }
            }
            pairs
        })
        .collect();
    crossing.par_sort_unstable();

    let mut row_ranges = vec![(0usize, 0usize); grid.rows as usize];
    for (row, i, j) in runs_by_key(&crossing) {
        row_ranges[row as usize] = (i, j);
    }

    let rows: Vec<Vec<Vec<u32>>> = row_ranges
        .par_iter()
        .enumerate()
        .map(|(row, &(i, j))| {
            let y0 = grid.oy + row as i64 * s;
            let corner_x = |col: i64| grid.ox + (col + 1) * s;
            // For each edge: the last column whose corner lies left of the crossing (the
            // edge is then right of that corner and of every corner before it).
            let mut toggles: Vec<(i64, u32)> = Vec::with_capacity(j - i);
            for &(_, e) in &crossing[i..j] {
                let (a, b) = geometry.edge(e);
                let (lo, hi) = if a.y < b.y { (a, b) } else { (b, a) };
                let (lx, ly, hx, hy) = (lo.x as i64, lo.y as i64, hi.x as i64, hi.y as i64);
                let left_of_edge = |col: i64| orient_xy(lx, ly, hx, hy, corner_x(col), y0) > 0;
                let xc = lx as f64 + (hx - lx) as f64 * (y0 - ly) as f64 / (hy - ly) as f64;
                let mut k = (((xc - grid.ox as f64) / s as f64).floor() as i64 - 1).clamp(-1, grid.cols - 1);
                while k + 1 < grid.cols && left_of_edge(k + 1) {
                    k += 1;
                }
                while k >= 0 && !left_of_edge(k) {
                    k -= 1;
                }
                if k >= 0 {
                    toggles.push((k, edge_polygon[e as usize]));
                }
            }
            toggles.sort_unstable_by(|a, b| b.cmp(a));
            let mut odd: Vec<u32> = Vec::new();
            let mut out = vec![Vec::new(); grid.cols as usize];
            let mut t = 0;
            for col in (0..grid.cols).rev() {
                while t < toggles.len() && toggles[t].0 >= col {
                    toggle(&mut odd, toggles[t].1);
                    t += 1;
                }
                if !odd.is_empty() {
                    out[col as usize] = odd.clone();
                }
            }
            out
        })
        .collect();
    rows.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
