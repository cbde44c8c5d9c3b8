//! Building the global zone index (`index`) from zones, in parallel.
//!
//! 1. Every edge is listed under each top cell it touches; the top grid has about one cell
//!    per edge or two (`BuildOptions`).
//! 2. Every top cell's reference corner gets the polygons that are odd there, from a sweep
//!    along each grid row (`top_corner_parities`).
//! 3. Each top cell that edges touch is refined on its own (rayon): split 4×4 while it has
//!    more than `leaf_max_edges` edges and splitting helps; children get their corner
//!    parities from their parent's by the path rule. Cells left without edges are resolved
//!    to the zones containing them; the others become leaf blocks.
//! 4. The subtrees are merged into one node array, with their zone sets interned.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::coords::{orient_xy, path_crosses, straddles_x, touches_rect, Point};
use crate::geometry::ZoneGeometry;
use crate::index::{leaf_base, set_leaf_base, write_leaf, Group, Node, TopGrid, ZoneIndex};

/// How finely the index is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuildOptions {
    /// A leaf holds at most this many edges unless its cell is too small to split.
    pub leaf_max_edges: usize,
    /// Top cells per edge (the grid is then rounded to a power-of-two cell size).
    pub edges_per_top_cell: i64,
}

impl BuildOptions {
    /// Up to this many edges, the index is first built with `SMALL`...
    pub const SMALL_MAX_EDGES: usize = 100_000;
    /// ... and kept if it stays this small; otherwise it is rebuilt with `LARGE`.
    pub const SMALL_MAX_BYTES: usize = 8 << 20;
    /// Chosen with `bench/leaf_sweep.py` (the README has its table): 4-edge leaves keep an
    /// index of up to ~100k edges at a few MB, within a core's L2 cache. Long edges are copied
    /// into every cell they cross, so a few of those can still make it large (a star of
    /// spikes), hence `SMALL_MAX_BYTES`.
    pub const SMALL: BuildOptions = BuildOptions { leaf_max_edges: 4, edges_per_top_cell: 1 };
    /// For more edges, finer leaves only grow the index out of cache.
    pub const LARGE: BuildOptions = BuildOptions { leaf_max_edges: 16, edges_per_top_cell: 2 };

    /// The options `build` starts from for a geometry with `edges` edges.
    pub fn for_edges(edges: usize) -> BuildOptions {
        if edges <= Self::SMALL_MAX_EDGES {
            Self::SMALL
        } else {
            Self::LARGE
        }
    }
}

/// The index with the options that suit the geometry (see `BuildOptions::SMALL`).
pub fn build(geometry: ZoneGeometry) -> ZoneIndex {
    unlimited(try_build(geometry, usize::MAX))
}

/// `build`, unless its index would pass `max_bytes` of node and leaf words: then it stops
/// splitting cells and gives up. An index grows with its edges times the cells each one
/// crosses, so edges long and packed close together (a comb of them; no real zone set) can
/// ask for more memory than a machine has, and would otherwise end the process.
pub fn try_build(geometry: ZoneGeometry, max_bytes: usize) -> Result<ZoneIndex, TooLarge> {
    if BuildOptions::for_edges(geometry.num_vertices()) == BuildOptions::SMALL {
        // Past `SMALL_MAX_BYTES` of words, the small build would be thrown away: it stops there.
        let limit = max_bytes.min(BuildOptions::SMALL_MAX_BYTES);
        if let Ok(small) = build_within(geometry.clone(), BuildOptions::SMALL, limit) {
            if small.array_bytes() <= BuildOptions::SMALL_MAX_BYTES {
                return Ok(small);
            }
        }
    }
    build_within(geometry, BuildOptions::LARGE, max_bytes)
}

/// A build that passed its limit (`try_build`).
#[derive(Debug, PartialEq, Eq)]
pub struct TooLarge;

/// The index of a build given no limit, which cannot pass it.
fn unlimited(built: Result<ZoneIndex, TooLarge>) -> ZoneIndex {
    match built {
        Ok(index) => index,
        Err(TooLarge) => unreachable!("a build without a limit always ends"),
    }
}

pub fn build_with(geometry: ZoneGeometry, options: BuildOptions) -> ZoneIndex {
    unlimited(build_within(geometry, options, usize::MAX))
}

fn build_within(geometry: ZoneGeometry, options: BuildOptions, max_bytes: usize) -> Result<ZoneIndex, TooLarge> {
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

    // The (top cell, edge) pairs are a list of their own, before any subtree: counted first
    // where their bound says they might not fit.
    let pairs_at_most = edge_list.iter().map(|&e| grid.cells_touched_at_most(geometry.edge(e))).sum::<usize>();
    if pairs_at_most.saturating_mul(8) > max_bytes && count_top_cell_pairs(&geometry, &edge_list, grid) * 8 > max_bytes
    {
        return Err(TooLarge);
    }
    let touching = edges_per_top_cell(&geometry, &edge_list, grid);
    let odd_at_corner = top_corner_parities(&geometry, &edge_list, &edge_polygon, grid);
    let words = AtomicUsize::new(0);
    let builder = Builder {
        geometry: &geometry,
        edge_polygon: &edge_polygon,
        leaf_max_edges: options.leaf_max_edges,
        words: &words,
        max_words: max_bytes / 4,
    };
    let subtrees = builder.refine_top_cells(&touching, &odd_at_corner, grid);
    if builder.over_limit() {
        return Err(TooLarge);
    }
    let (nodes, sets, leaf_data) = merge(&builder, &odd_at_corner, subtrees);
    Ok(ZoneIndex::from_parts(geometry, grid.top(), nodes, sets.offsets, sets.values, leaf_data))
}

/// How many (top cell, edge) pairs `edges_per_top_cell` lists.
fn count_top_cell_pairs(geometry: &ZoneGeometry, edge_list: &[u32], grid: Grid) -> usize {
    edge_list
        .par_iter()
        .map(|&e| {
            let (a, b) = geometry.edge(e);
            let mut cells = 0;
            grid.for_each_cell_touching(a, b, |_| cells += 1);
            cells
        })
        .sum()
}

/// (top cell, edge) for every top cell each edge touches, sorted: a deterministic order.
fn edges_per_top_cell(geometry: &ZoneGeometry, edge_list: &[u32], grid: Grid) -> Vec<(u32, u32)> {
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
    touching
}

/// One node array from the resolved top cells and the refined subtrees, zone sets interned.
fn merge(
    builder: &Builder,
    odd_at_corner: &[Vec<u32>],
    subtrees: Vec<(u32, Subtree)>,
) -> (Vec<u32>, SetTable, Vec<u32>) {
    let mut sets = SetTable::new();
    let mut nodes: Vec<u32> =
        odd_at_corner.iter().map(|odd| Node::Resolved(sets.intern(&builder.zones_of(odd))).encode()).collect();
    let mut leaf_data = Vec::new();
    for (cell, mut tree) in subtrees {
        let set_ids: Vec<u32> = tree.sets.iter().map(|s| sets.intern(s)).collect();
        let node_offset = nodes.len() as u32;
        let leaf_offset = leaf_data.len() as u32;
        let remap = |word: u32| {
            match Node::decode(word) {
                Node::Resolved(set) => Node::Resolved(set_ids[set as usize]),
                Node::Internal(child) => Node::Internal(child + node_offset),
                Node::Leaf(offset) => Node::Leaf(offset + leaf_offset),
            }
            .encode()
        };
        nodes.extend(tree.nodes.iter().map(|&w| remap(w)));
        nodes[cell as usize] = remap(tree.root);
        for &offset in &tree.leaf_offsets {
            let local = leaf_base(&tree.leaf_data, offset);
            set_leaf_base(&mut tree.leaf_data, offset, set_ids[local as usize]);
        }
        leaf_data.extend_from_slice(&tree.leaf_data);
    }
    (nodes, sets, leaf_data)
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

/// The top grid while it is built (signed sizes for the arithmetic).
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

    fn top(&self) -> TopGrid {
        TopGrid {
            origin_x: self.ox,
            origin_y: self.oy,
            shift: self.shift,
            cols: self.cols as u32,
            rows: self.rows as u32,
        }
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
    /// At least as many cells as `for_each_cell_touching` visits for the edge a–b: those its
    /// bounding box reaches, widened as that function widens its search.
    fn cells_touched_at_most(&self, (a, b): (Point, Point)) -> usize {
        let s = self.size();
        let span = |lo: i32, hi: i32, origin: i64| {
            ((hi as i64 - origin).div_euclid(s) - (lo as i64 - origin).div_euclid(s)) as usize + 3
        };
        span(a.y.min(b.y), a.y.max(b.y), self.oy).saturating_mul(span(a.x.min(b.x), a.x.max(b.x), self.ox))
    }

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
    /// Words written but not yet added to the build's count (`Builder::wrote`).
    uncounted: usize,
}

/// Words a subtree adds to the build's count at a time: the limit may be passed by this much
/// per thread.
const COUNTED_WORDS_BATCH: usize = 1 << 16;

impl Subtree {
    fn new(budget: usize) -> Self {
        // Local set 0 is the empty set: most resolved cells and leaf bases use it.
        Subtree {
            nodes: Vec::new(),
            sets: vec![Vec::new()],
            leaf_data: Vec::new(),
            leaf_offsets: Vec::new(),
            root: 0,
            budget,
            uncounted: 0,
        }
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
    /// Node and leaf words written so far, by all subtrees, and how many may be.
    words: &'a AtomicUsize,
    max_words: usize,
}

/// A cell being built: its lower left corner and size (2^shift units).
#[derive(Clone, Copy)]
struct Square {
    x0: i64,
    y0: i64,
    shift: u32,
}

impl Square {
    /// Its right side: the x of its reference corner (x1, y0).
    fn x1(&self) -> i64 {
        self.x0 + (1i64 << self.shift)
    }

    /// Child (i, j) of its 4×4 split.
    fn child(&self, i: i64, j: i64) -> Square {
        let cs = 1i64 << (self.shift - 2);
        Square { x0: self.x0 + i * cs, y0: self.y0 + j * cs, shift: self.shift - 2 }
    }
}

impl Builder<'_> {
    /// Whether the build has passed its limit: from then on, no cell is split.
    fn over_limit(&self) -> bool {
        self.words.load(Ordering::Relaxed) > self.max_words
    }

    /// Counts words a subtree wrote, adding them to the build's count in batches (the count is
    /// shared by the threads: updating it at every node would contend for its cache line).
    fn wrote(&self, tree: &mut Subtree, words: usize) {
        tree.uncounted += words;
        if tree.uncounted >= COUNTED_WORDS_BATCH {
            self.words.fetch_add(std::mem::take(&mut tree.uncounted), Ordering::Relaxed);
        }
    }

    fn zones_of(&self, polygons: &[u32]) -> Vec<u32> {
        let mut zones: Vec<u32> = polygons.iter().map(|&p| self.geometry.polygon_zone[p as usize]).collect();
        zones.sort_unstable();
        zones.dedup();
        zones
    }

    /// Refines every top cell that edges touch into its own subtree, in parallel.
    fn refine_top_cells(&self, touching: &[(u32, u32)], odd_at_corner: &[Vec<u32>], grid: Grid) -> Vec<(u32, Subtree)> {
        runs_by_key(touching)
            .par_iter()
            .map(|&(cell, i, j)| {
                let edges: Vec<u32> = touching[i..j].iter().map(|&(_, e)| e).collect();
                let (col, row) = (cell as i64 % grid.cols, cell as i64 / grid.cols);
                let mut tree = Subtree::new(WORDS_PER_EDGE * edges.len() + 256);
                let square =
                    Square { x0: grid.ox + col * grid.size(), y0: grid.oy + row * grid.size(), shift: grid.shift };
                tree.root = self.node(&mut tree, square, &edges, &odd_at_corner[cell as usize], usize::MAX);
                self.words.fetch_add(std::mem::take(&mut tree.uncounted), Ordering::Relaxed);
                (cell, tree)
            })
            .collect()
    }

    /// Builds the node for a cell, given its edges, the polygons odd at its reference corner,
    /// and how many edges its parent had; returns the node's word.
    fn node(&self, tree: &mut Subtree, cell: Square, edges: &[u32], odd: &[u32], parent_edges: usize) -> u32 {
        if edges.is_empty() {
            return Node::Resolved(tree.set_id(self.zones_of(odd))).encode();
        }
        // A cell that kept all its parent's edges would keep them at every level below (a
        // vertex where many edges meet, or edges overlapping along a shared border): splitting
        // it gains nothing, and splitting every such cell along a long border would not end.
        // Past its budget, a subtree stops splitting, so memory stays proportional to the edges.
        if edges.len() <= self.leaf_max_edges
            || cell.shift < 2
            || edges.len() >= parent_edges
            || tree.nodes.len() + tree.leaf_data.len() > tree.budget
            || self.over_limit()
        {
            return self.leaf(tree, edges, odd, cell.x1());
        }
        let child_edges = self.split_edges(cell, edges);
        // Edges much longer than the children (thousands of spikes crossing one area, say)
        // would be copied into most of them, at every level below: memory would grow with
        // the depth instead of the edges. Such a cell stays a leaf with many edges.
        let copies: usize = child_edges.iter().map(Vec::len).sum();
        if copies > MAX_COPIES_PER_SPLIT * edges.len() {
            return self.leaf(tree, edges, odd, cell.x1());
        }
        let block = tree.nodes.len();
        tree.nodes.extend_from_slice(&[0; 16]);
        self.wrote(tree, 16);
        for j in 0..4 {
            for i in 0..4 {
                let child = cell.child(i, j);
                let child_odd = self.child_parities(cell, child, edges, odd);
                let k = (j * 4 + i) as usize;
                tree.nodes[block + k] = self.node(tree, child, &child_edges[k], &child_odd, edges.len());
            }
        }
        Node::Internal(block as u32).encode()
    }

    /// Each child's edges: those its bounding box reaches (closed cells, so an edge on a
    /// shared side goes to both), confirmed by the exact test; order is kept.
    fn split_edges(&self, cell: Square, edges: &[u32]) -> [Vec<u32>; 16] {
        let cs = 1i64 << (cell.shift - 2);
        let mut child_edges: [Vec<u32>; 16] = Default::default();
        let span = |lo: i64, hi: i64, origin: i64| {
            (((lo - origin - 1).div_euclid(cs)).clamp(0, 3), ((hi - origin).div_euclid(cs)).clamp(0, 3))
        };
        for &e in edges {
            let (a, b) = self.geometry.edge(e);
            let (i0, i1) = span(a.x.min(b.x) as i64, a.x.max(b.x) as i64, cell.x0);
            let (j0, j1) = span(a.y.min(b.y) as i64, a.y.max(b.y) as i64, cell.y0);
            for j in j0..=j1 {
                for i in i0..=i1 {
                    let c = cell.child(i, j);
                    if touches_rect(a, b, c.x0, c.y0, c.x0 + cs, c.y0 + cs) {
                        child_edges[(j * 4 + i) as usize].push(e);
                    }
                }
            }
        }
        child_edges
    }

    /// The polygons odd at a child's reference corner, reached from the parent's (x1, y0)
    /// along the same kind of path as a query; the parent's set unless some edge crosses.
    fn child_parities<'o>(
        &self,
        parent: Square,
        child: Square,
        edges: &[u32],
        odd: &'o [u32],
    ) -> std::borrow::Cow<'o, [u32]> {
        let mut toggled: Vec<u32> = Vec::new();
        for &e in edges {
            let (a, b) = self.geometry.edge(e);
            if path_crosses(a, b, child.x1(), child.y0, parent.x1(), parent.y0) {
                toggle(&mut toggled, self.edge_polygon[e as usize]);
            }
        }
        if toggled.is_empty() {
            return odd.into();
        }
        let mut child_odd = odd.to_vec();
        for p in toggled {
            toggle(&mut child_odd, p);
        }
        child_odd.into()
    }

    /// A leaf block for a cell whose right side is x = x1 (see `index::write_leaf`).
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
        let sorted_edges: Vec<u32> = keyed.iter().map(|&(_, (_, e))| e).collect();
        let mut odd_without_edges: Vec<u32> = odd.to_vec();
        let groups: Vec<Group> = runs_by_key(&keyed)
            .into_iter()
            .map(|(poly, start, end)| {
                let odd_at_corner = match odd_without_edges.binary_search(&poly) {
                    Ok(i) => {
                        odd_without_edges.remove(i);
                        true
                    }
                    Err(_) => false,
                };
                let straddling = keyed[start..end].iter().take_while(|&&(_, (rest, _))| !rest).count();
                let zone = self.geometry.polygon_zone[poly as usize];
                Group { zone, odd_at_corner, straddling, edges: &sorted_edges[start..end] }
            })
            .collect();
        let base = tree.set_id(self.zones_of(&odd_without_edges));
        let offset = write_leaf(&mut tree.leaf_data, base, groups.into_iter());
        let words = tree.leaf_data.len() - offset as usize;
        self.wrote(tree, words);
        tree.leaf_offsets.push(offset);
        Node::Leaf(offset).encode()
    }
}

/// For every top cell, the sorted polygons whose parity is odd at the cell's reference
/// corner (x1, y0): swept row by row along the line y = y0 + ε².
fn top_corner_parities(geometry: &ZoneGeometry, edge_list: &[u32], edge_polygon: &[u32], grid: Grid) -> Vec<Vec<u32>> {
    let crossing = row_crossings(geometry, edge_list, grid);
    let mut row_ranges = vec![(0usize, 0usize); grid.rows as usize];
    for (row, i, j) in runs_by_key(&crossing) {
        row_ranges[row as usize] = (i, j);
    }
    let rows: Vec<Vec<Vec<u32>>> = row_ranges
        .par_iter()
        .enumerate()
        .map(|(row, &(i, j))| row_parities(geometry, &crossing[i..j], edge_polygon, grid, row as i64))
        .collect();
    rows.into_iter().flatten().collect()
}

/// (row, edge) for every edge crossing the row's bottom line y0 (ly <= y0 < hy), sorted.
fn row_crossings(geometry: &ZoneGeometry, edge_list: &[u32], grid: Grid) -> Vec<(u32, u32)> {
    let s = grid.size();
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
    crossing
}

/// The odd polygons at the corner of every cell of one row, from the edges crossing its
/// bottom line: each edge toggles its polygon at every corner left of where it crosses.
fn row_parities(
    geometry: &ZoneGeometry,
    crossing: &[(u32, u32)],
    edge_polygon: &[u32],
    grid: Grid,
    row: i64,
) -> Vec<Vec<u32>> {
    let s = grid.size();
    let y0 = grid.oy + row * s;
    let corner_x = |col: i64| grid.ox + (col + 1) * s;
    // For each edge: the last column whose corner lies left of the crossing (the edge is
    // then right of that corner and of every corner before it).
    let mut toggles: Vec<(i64, u32)> = Vec::with_capacity(crossing.len());
    for &(_, e) in crossing {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A comb: `n` edges 10 degrees long, 0.0001 degree apart, joined at alternate ends.
    fn comb(n: i32) -> ZoneGeometry {
        let mut ring: Vec<Point> =
            (0..n).map(|i| Point::new(if i % 2 == 0 { 0 } else { 100_000_000 }, 1_000 * i)).collect();
        ring.extend([Point::new(-10_000_000, 1_000 * n), Point::new(-10_000_000, 0)]);
        let mut g = ZoneGeometry::new(1, None);
        g.push_polygon(0, &[ring]);
        g
    }

    #[test]
    fn a_build_past_its_limit_gives_up_and_one_within_it_is_the_usual_index() {
        let g = comb(4_000);
        let index = build(g.clone());
        let bytes = 4 * (index.node_count() + index.leaf_words());
        assert!(bytes > 4 << 20, "the comb's index is large for its 4,000 edges: {bytes} bytes");
        assert_eq!(try_build(g.clone(), 1 << 20).err(), Some(TooLarge));
        let within = try_build(g, 2 * bytes).expect("within the limit");
        assert_eq!((within.node_count(), within.leaf_words()), (index.node_count(), index.leaf_words()));
    }

    #[test]
    fn the_bound_on_cells_touched_holds() {
        let mut g = comb(400);
        // And edges at every slope, over several cells.
        g.push_polygon(
            0,
            &[vec![Point::new(0, 0), Point::new(70_000_000, 3_000_000), Point::new(5_000_000, 90_000_000)]],
        );
        let edges: Vec<u32> = (0..g.polygon_count()).flat_map(|p| g.polygon_edges(p)).collect();
        for target_cells in [1, 100, 10_000] {
            let grid = Grid::over(g.bounds().unwrap(), target_cells);
            for &e in &edges {
                let (a, b) = g.edge(e);
                let mut cells = 0;
                grid.for_each_cell_touching(a, b, |_| cells += 1);
                assert!(cells <= grid.cells_touched_at_most((a, b)), "edge {e}: {cells} cells");
            }
        }
    }
}
