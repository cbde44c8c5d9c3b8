//! The global zone index as data: its arrays, the layout of its node words and leaf blocks,
//! and the invariants every reader relies on. `build` makes one, `query` reads one,
//! `serialize` stores one; all three go through this module for the layout.
//!
//! A top grid of power-of-two cells covers the zones' bounds. A cell that no edge touches is
//! *resolved*: it stores the set of zones containing it, and a lookup there reads no
//! geometry at all. A cell that edges touch is split 4×4 until it holds at most a few edges
//! (or cannot be split further); that *leaf* stores, for each polygon with edges in it, that
//! polygon's even-odd parity at the leaf's reference corner R, and the zones of the other
//! polygons that contain R. A leaf is one contiguous block of `leaf_data`, so a lookup in it
//! touches one or two cache lines rather than an array each.
//!
//! A query point P in a leaf then only needs the leaf's edges: a polygon's parity at P is its
//! parity at R flipped once per edge that crosses the path P → (R.x, P.y) → R
//! (`coords::path_crosses`). The leaf's R is (x1, y0): the bottom left corner of the cell to
//! its right, the first x that is not in the leaf.
//!
//! A leaf names its edges by their first vertex, and in a large index those lie scattered over
//! megabytes of geometry. So a large index also keeps each leaf block again as a *record*
//! (`leaf_records`), with its edges' two ends in place of their names: a lookup then reads one
//! contiguous run of memory, which it can fetch ahead before reading any of it. The records
//! are derived, not stored (`LEAF_RECORDS_FROM_BYTES`).
//!
//! Everything is flat arrays of integers, so the index serializes as it is.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::coords::Point;
use crate::geometry::ZoneGeometry;
use crate::nearest::NearIndex;

/// What a node word says about its cell: two tag bits, then 30 value bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// No edge touches the cell: the zone set containing all of it (set 0 is the empty set).
    Resolved(u32),
    /// Split 4×4: the index in `nodes` of the first of its 16 children, row-major.
    Internal(u32),
    /// A leaf: the offset of its block in `leaf_data`.
    Leaf(u32),
}

const TAG_SHIFT: u32 = 30;
const VALUE_MASK: u32 = (1 << TAG_SHIFT) - 1;
const TAG_RESOLVED: u32 = 0;
const TAG_INTERNAL: u32 = 1;
const TAG_LEAF: u32 = 2;

impl Node {
    /// The largest value a node word can carry.
    pub const MAX_VALUE: u32 = VALUE_MASK;

    #[inline(always)]
    pub fn encode(self) -> u32 {
        match self {
            Node::Resolved(set) => (TAG_RESOLVED << TAG_SHIFT) | set,
            Node::Internal(child) => (TAG_INTERNAL << TAG_SHIFT) | child,
            Node::Leaf(offset) => (TAG_LEAF << TAG_SHIFT) | offset,
        }
    }

    /// Decodes a word of a checked index (`ZoneIndex::check` refused the fourth tag).
    #[inline(always)]
    pub fn decode(word: u32) -> Node {
        let value = word & VALUE_MASK;
        match word >> TAG_SHIFT {
            TAG_RESOLVED => Node::Resolved(value),
            TAG_INTERNAL => Node::Internal(value),
            _ => Node::Leaf(value),
        }
    }

    /// Whether the word of a descent's end (`ZoneIndex::descend_to_word`) is a leaf, and its
    /// value: the leaf's offset, or else the cell's zone set.
    #[inline(always)]
    pub fn leaf_or_set(word: u32) -> (bool, u32) {
        (word >> TAG_SHIFT == TAG_LEAF, word & VALUE_MASK)
    }

    fn try_decode(word: u32) -> Option<Node> {
        (word >> TAG_SHIFT != 3).then(|| Node::decode(word))
    }
}

/// From this size (`ZoneIndex::array_bytes`), an index keeps its leaf blocks again as records
/// (`LeafRecord`), with their edges' ends, which triples its memory. In a large index a leaf's
/// edges lie scattered over the vertices and each costs a cache miss; a smaller one stays in
/// cache, and the records would only crowd it (`bench/leaf_records.py` measures both ways on
/// each zone set: the 10 m zones gain; the others do not).
pub const LEAF_RECORDS_FROM_BYTES: usize = 16 << 20;
/// ... unless its leaves hold many times its edges (long edges copied into every cell they
/// cross, as in the star of spikes of `bench/scale_limits.py`), where records four times the
/// size of the leaf words would multiply that waste. Real zone sets stay far below this.
pub const LEAF_RECORDS_MAX_LEAF_WORDS_PER_VERTEX: usize = 8;

/// In a group's zone word, the high bit is the polygon's parity at the leaf's reference corner.
const PARITY_BIT: u32 = 1 << 31;

/// One polygon's part of a leaf block.
#[derive(Clone, Copy, Debug)]
pub struct Group<'a> {
    pub zone: u32,
    /// The polygon's even-odd parity at the leaf's reference corner.
    pub odd_at_corner: bool,
    /// How many of `edges` (the first ones) straddle the leaf's right side x = x1: only they
    /// can cross the vertical leg of a query's path.
    pub straddling: usize,
    /// Edges, each the index of its first vertex in the geometry.
    pub edges: &'a [u32],
}

/// The groups of a leaf block or of a leaf record, read the same way: each group's header
/// words (zone | parity, edge count, straddling count), then `WORDS_PER_EDGE` words per edge
/// (1 in a block, the edge's name; 4 in a record, its ends).
struct GroupWalk<'a, const WORDS_PER_EDGE: usize> {
    /// The words from the next group on.
    data: &'a [u32],
    left: u32,
}

impl<'a, const WORDS_PER_EDGE: usize> Iterator for GroupWalk<'a, WORDS_PER_EDGE> {
    /// Zone, parity at the corner, straddling count, the edges' words.
    type Item = (u32, bool, usize, &'a [u32]);

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let [zone_word, n, straddling, ref rest @ ..] = *self.data else {
            panic!("leaf group header past the end of its block or record (checked, or built whole)")
        };
        let (edges, after) = rest.split_at(WORDS_PER_EDGE * n as usize);
        self.data = after;
        Some((zone_word & !PARITY_BIT, zone_word & PARITY_BIT != 0, straddling as usize, edges))
    }
}

/// The groups of a leaf block, in order.
pub struct Groups<'a>(GroupWalk<'a, 1>);

impl<'a> Iterator for Groups<'a> {
    type Item = Group<'a>;

    #[inline(always)]
    fn next(&mut self) -> Option<Group<'a>> {
        let (zone, odd_at_corner, straddling, edges) = self.0.next()?;
        Some(Group { zone, odd_at_corner, straddling, edges })
    }
}

/// A leaf block again, laid out for lookups in a large index: the record of the block at
/// offset `o` of `leaf_data` starts at word 4·o of `leaf_records` (a block of n words needs at
/// most 4·n there). Four header words: the record's length in words, the base zone set, its
/// lowest zone (`u32::MAX` if empty), the number of groups; then per group the block's three
/// header words and, for each edge, its two ends (x, y, x, y as u32).
#[derive(Clone, Copy)]
pub struct LeafRecord<'a> {
    pub base_set: u32,
    /// The lowest zone of `base_set`: a first-zone lookup's answer unless a group's is lower.
    pub base_first_zone: u32,
    groups: u32,
    data: &'a [u32],
}

const RECORD_HEADER: usize = 4;

/// What the first prefetch of a leaf fetches (`ZoneIndex::leaf_address`), before its length
/// is known: two lines. (The 10 m zones' records are 149 bytes on average; fetching a third
/// line up front was no faster, in `bench/builds_ab.py`.)
pub const LEAF_HEAD_BYTES: usize = 128;

impl<'a> LeafRecord<'a> {
    pub fn groups(&self) -> RecordGroups<'a> {
        RecordGroups(GroupWalk { data: self.data, left: self.groups })
    }
}

/// One polygon's part of a leaf record: `Group`, its edges as their ends.
#[derive(Clone, Copy)]
pub struct RecordGroup<'a> {
    pub zone: u32,
    pub odd_at_corner: bool,
    pub straddling: usize,
    ends: &'a [[u32; 4]],
}

impl<'a> RecordGroup<'a> {
    /// The group's edges as (a, b), the straddling ones first.
    #[inline(always)]
    pub fn edges(&self) -> impl Iterator<Item = (Point, Point)> + Clone + 'a {
        let point = |x: u32, y: u32| Point::new(x as i32, y as i32);
        self.ends.iter().map(move |&[ax, ay, bx, by]| (point(ax, ay), point(bx, by)))
    }
}

/// The groups of a leaf record, in order.
pub struct RecordGroups<'a>(GroupWalk<'a, 4>);

impl<'a> Iterator for RecordGroups<'a> {
    type Item = RecordGroup<'a>;

    #[inline(always)]
    fn next(&mut self) -> Option<RecordGroup<'a>> {
        let (zone, odd_at_corner, straddling, ends) = self.0.next()?;
        Some(RecordGroup { zone, odd_at_corner, straddling, ends: bytemuck::cast_slice(ends) })
    }
}

/// Writes into `record` (the records' words from the block's record to the next block's) the
/// record of the leaf block at `offset`. None if the record does not fit there (it may not
/// where blocks overlap, which only a crafted index has: if `check` accepts it, it goes
/// without records) or the block names words or vertices that do not exist (an index `check`
/// refuses).
fn write_record(
    leaf_data: &[u32],
    vertices: &[Point],
    first_zone_of_set: &[u32],
    offset: usize,
    record: &mut [u32],
) -> Option<()> {
    let (&base_set, &groups) = (leaf_data.get(offset)?, leaf_data.get(offset + 1)?);
    let &base_first_zone = first_zone_of_set.get(base_set as usize)?;
    let mut at = offset + 2;
    let mut w = RECORD_HEADER;
    for _ in 0..groups {
        let header = leaf_data.get(at..at + 3)?;
        let edges = leaf_data.get(at + 3..at + 3 + header[1] as usize)?;
        record.get_mut(w..w + 3)?.copy_from_slice(header);
        w += 3;
        let slots: &mut [[u32; 4]] = bytemuck::cast_slice_mut(record.get_mut(w..w + 4 * edges.len())?);
        for (slot, &e) in slots.iter_mut().zip(edges) {
            let &[a, b] = vertices.get(e as usize..(e as usize).checked_add(2)?)? else { return None };
            *slot = [a.x as u32, a.y as u32, b.x as u32, b.y as u32];
        }
        w += 4 * edges.len();
        at += 3 + edges.len();
    }
    let words = u32::try_from(w).ok()?;
    record.get_mut(..RECORD_HEADER)?.copy_from_slice(&[words, base_set, base_first_zone, groups]);
    Some(())
}

/// The lowest zone of each zone set (`u32::MAX` for the empty set). Reads only bounds-checked
/// words, so it may run before `check` (a set out of order or range reads as empty).
fn first_zone_of_sets(set_offsets: &[u32], set_zones: &[u32]) -> Vec<u32> {
    let zones = |w: &[u32]| set_zones.get(w[0] as usize..w[1] as usize).unwrap_or_default();
    set_offsets.windows(2).map(|w| zones(w).first().copied().unwrap_or(u32::MAX)).collect()
}

/// Appends a leaf block to `leaf_data` and returns its offset. Layout: the zone set of the
/// polygons that contain R and have no edge in the leaf; the number of groups; then per
/// group: zone | parity at R (`PARITY_BIT`), the number of edges, how many of them straddle
/// x = x1 (those come first), and the edges.
pub fn write_leaf<'a>(
    leaf_data: &mut Vec<u32>,
    base_set: u32,
    groups: impl ExactSizeIterator<Item = Group<'a>>,
) -> u32 {
    let offset = leaf_data.len() as u32;
    leaf_data.extend_from_slice(&[base_set, groups.len() as u32]);
    for group in groups {
        let parity = if group.odd_at_corner { PARITY_BIT } else { 0 };
        leaf_data.extend_from_slice(&[group.zone | parity, group.edges.len() as u32, group.straddling as u32]);
        leaf_data.extend_from_slice(group.edges);
    }
    offset
}

/// Replaces the base zone set of the leaf block at `offset` (when sets are renumbered).
pub fn set_leaf_base(leaf_data: &mut [u32], offset: u32, set: u32) {
    leaf_data[offset as usize] = set;
}

/// The base zone set of the leaf block at `offset`.
pub fn leaf_base(leaf_data: &[u32], offset: u32) -> u32 {
    leaf_data[offset as usize]
}

/// The top grid: `cols` × `rows` cells of 2^shift units, from (origin_x, origin_y).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopGrid {
    pub origin_x: i64,
    pub origin_y: i64,
    pub shift: u32,
    pub cols: u32,
    pub rows: u32,
}

impl TopGrid {
    pub fn cell_size(&self) -> i64 {
        1 << self.shift
    }

    pub fn cells(&self) -> usize {
        self.cols as usize * self.rows as usize
    }
}

/// Where a point falls in the index.
#[derive(Clone, Copy, Debug)]
pub enum Cell {
    Outside,
    Resolved(u32),
    /// A leaf (its block's offset in `leaf_data`), with its reference corner (x1, y0).
    Leaf {
        leaf: u32,
        x1: i64,
        y0: i64,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneIndex {
    geometry: ZoneGeometry,
    grid: TopGrid,
    /// The top grid (rows × cols, row-major) followed by blocks of 16 children.
    nodes: Vec<u32>,
    /// Zone sets: set `s` is `set_zones[set_offsets[s]..set_offsets[s + 1]]`, ascending.
    set_offsets: Vec<u32>,
    set_zones: Vec<u32>,
    /// Leaf blocks (`write_leaf`).
    leaf_data: Vec<u32>,
    /// The lowest zone of each zone set (`u32::MAX` for the empty set): what a resolved cell
    /// answers for the first zone, in one load. Derived, so not serialized.
    #[serde(skip)]
    first_zone_of_set: Vec<u32>,
    /// In a large index, its leaf blocks as records (`LeafRecord`; empty in a small one, see
    /// `LEAF_RECORDS_FROM_BYTES`). Derived, so not serialized.
    #[serde(skip)]
    leaf_records: Vec<u32>,
    /// The index for distances (`nearest`), built on first use. Derived, so not serialized.
    #[serde(skip)]
    near: Near,
}

/// `NearIndex`, built once on first use and shared. Not part of an index's identity: two
/// indexes are equal whether or not either has built it.
#[derive(Default, Clone)]
struct Near(std::sync::OnceLock<std::sync::Arc<NearIndex>>);

impl PartialEq for Near {
    fn eq(&self, _: &Near) -> bool {
        true
    }
}

impl std::fmt::Debug for Near {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() { "Near(built)" } else { "Near(not built)" })
    }
}

impl ZoneIndex {
    /// Assembles an index from its arrays (the builder's output) and derives its tables.
    pub fn from_parts(
        geometry: ZoneGeometry,
        grid: TopGrid,
        nodes: Vec<u32>,
        set_offsets: Vec<u32>,
        set_zones: Vec<u32>,
        leaf_data: Vec<u32>,
    ) -> ZoneIndex {
        ZoneIndex::from_stored(geometry, grid, [nodes, set_offsets, set_zones, leaf_data]).with_derived_tables()
    }

    /// An index from its stored arrays (`stored_arrays` order) without its derived tables:
    /// decoded bytes, for `checked`.
    pub fn from_stored(geometry: ZoneGeometry, grid: TopGrid, arrays: [Vec<u32>; 4]) -> ZoneIndex {
        let [nodes, set_offsets, set_zones, leaf_data] = arrays;
        ZoneIndex {
            geometry,
            grid,
            nodes,
            set_offsets,
            set_zones,
            leaf_data,
            first_zone_of_set: Vec::new(),
            leaf_records: Vec::new(),
            near: Near::default(),
        }
    }

    /// The index's own arrays, beside its geometry and grid: nodes, zone set offsets, zone
    /// sets, leaf data.
    pub fn stored_arrays(&self) -> [&[u32]; 4] {
        [&self.nodes, &self.set_offsets, &self.set_zones, &self.leaf_data]
    }

    /// Fills in the tables derived from the stored arrays (after a build).
    pub fn with_derived_tables(self) -> Self {
        let tables = self.derived_tables();
        self.with_tables(tables)
    }

    /// `check`, then the derived tables: for decoded arrays, which `check` must pass first.
    /// The tables read only bounds-checked words, so they are made while `check` runs.
    pub fn checked(self) -> Result<Self, String> {
        let (checked, tables) = rayon::join(|| self.check(), || self.derived_tables());
        checked?;
        Ok(self.with_tables(tables))
    }

    /// The lowest zone of each zone set, and the leaf records if the index keeps them.
    fn derived_tables(&self) -> (Vec<u32>, Vec<u32>) {
        let first_zone_of_set = first_zone_of_sets(&self.set_offsets, &self.set_zones);
        let records = if self.keeps_leaf_records() { self.leaf_records(&first_zone_of_set) } else { Vec::new() };
        (first_zone_of_set, records)
    }

    fn with_tables(mut self, (first_zone_of_set, leaf_records): (Vec<u32>, Vec<u32>)) -> Self {
        self.first_zone_of_set = first_zone_of_set;
        self.leaf_records = leaf_records;
        self
    }

    /// Whether the index is large enough for leaf records (`LEAF_RECORDS_FROM_BYTES`) and its
    /// leaves few enough (`LEAF_RECORDS_MAX_LEAF_WORDS_PER_VERTEX`).
    fn keeps_leaf_records(&self) -> bool {
        self.array_bytes() >= LEAF_RECORDS_FROM_BYTES
            && self.leaf_data.len() <= LEAF_RECORDS_MAX_LEAF_WORDS_PER_VERTEX * self.geometry.vertices.len()
    }

    /// With leaf records or without, whatever the index's size (for tests and benchmarks).
    pub fn with_leaf_records(mut self, records: bool) -> Self {
        self.leaf_records = if records { self.leaf_records(&self.first_zone_of_set) } else { Vec::new() };
        self
    }

    /// The records of every leaf block (`LeafRecord`), written in parallel (scattered reads of
    /// the vertices). Reads only bounds-checked words, so it may run before `check`; empty
    /// where a record does not fit before the next block's or a block names what does not
    /// exist, which only a crafted index has.
    fn leaf_records(&self, first_zone_of_set: &[u32]) -> Vec<u32> {
        let mut offsets: Vec<u32> = self
            .nodes
            .par_iter()
            .filter_map(|&word| (word >> TAG_SHIFT == TAG_LEAF).then_some(word & VALUE_MASK))
            .collect();
        offsets.par_sort_unstable();
        offsets.dedup();
        let words = self.leaf_data.len();
        if offsets.last().is_some_and(|&o| o as usize >= words) {
            return Vec::new();
        }
        let mut records = bytemuck::zeroed_vec(4 * words);
        // Each block's record may use the words up to the next block's.
        let mut regions = Vec::with_capacity(offsets.len());
        let mut rest = &mut records[..];
        for (k, &offset) in offsets.iter().enumerate() {
            let end = offsets.get(k + 1).map_or(words, |&next| next as usize);
            let (region, tail) = rest.split_at_mut(4 * (end - offset as usize));
            regions.push((offset as usize, region));
            rest = tail;
        }
        let (leaf_data, vertices) = (&self.leaf_data[..], &self.geometry.vertices[..]);
        let written = regions
            .into_par_iter()
            .with_min_len(1 << 10)
            .all(|(offset, region)| write_record(leaf_data, vertices, first_zone_of_set, offset, region).is_some());
        if written {
            records
        } else {
            Vec::new()
        }
    }

    pub fn geometry(&self) -> &ZoneGeometry {
        &self.geometry
    }

    /// The index for distances and nearest zones, built on first use (by one thread; others
    /// wait for it). The build is parallel: the first call must not come from inside a rayon
    /// job that other jobs calling this may be stolen into (see `expressions`).
    pub fn near(&self) -> &NearIndex {
        self.near.0.get_or_init(|| std::sync::Arc::new(NearIndex::build(self)))
    }

    pub fn grid(&self) -> TopGrid {
        self.grid
    }

    /// The record of the leaf block at `offset`, if the index keeps records (a large one).
    #[inline(always)]
    pub fn leaf_record(&self, offset: u32) -> Option<LeafRecord<'_>> {
        if self.leaf_records.is_empty() {
            return None;
        }
        let at = 4 * offset as usize;
        let [words, base_set, base_first_zone, groups] = self.leaf_records[at..at + RECORD_HEADER] else {
            unreachable!()
        };
        let data = &self.leaf_records[at + RECORD_HEADER..at + words as usize];
        Some(LeafRecord { base_set, base_first_zone, groups, data })
    }

    /// Where a lookup in the leaf block at `offset` starts reading, for a prefetch of its first
    /// `LEAF_HEAD_BYTES`: its record, or else its block.
    #[inline(always)]
    pub fn leaf_address(&self, offset: u32) -> *const u8 {
        if self.leaf_records.is_empty() {
            self.leaf_data.as_ptr().wrapping_add(offset as usize).cast()
        } else {
            self.leaf_records.as_ptr().wrapping_add(4 * offset as usize).cast()
        }
    }

    /// What else a lookup in the leaf block at `offset` reads, for prefetches once its head
    /// (`leaf_address`) has arrived: the rest of its record, if any, or else the first vertex
    /// of its first edge (the other edges of a leaf are mostly near it).
    #[inline(always)]
    pub fn leaf_tail_address(&self, offset: u32) -> Option<(*const u8, usize)> {
        if self.leaf_records.is_empty() {
            let first = self.leaf_block(offset).1.next()?;
            let vertex = self.geometry.vertices.as_ptr().wrapping_add(first.edges.first().copied()? as usize);
            return Some((vertex.cast(), 1));
        }
        let at = 4 * offset as usize;
        let bytes = 4 * self.leaf_records[at] as usize;
        (bytes > LEAF_HEAD_BYTES)
            .then(|| (self.leaf_address(offset).wrapping_add(LEAF_HEAD_BYTES), bytes - LEAF_HEAD_BYTES))
    }

    pub fn zone_set(&self, set: u32) -> &[u32] {
        &self.set_zones[self.set_offsets[set as usize] as usize..self.set_offsets[set as usize + 1] as usize]
    }

    /// The lowest zone of a zone set, `u32::MAX` for the empty set.
    #[inline(always)]
    pub fn first_zone_of_set(&self, set: u32) -> u32 {
        self.first_zone_of_set[set as usize]
    }

    pub fn zone_set_count(&self) -> usize {
        self.set_offsets.len() - 1
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn leaf_words(&self) -> usize {
        self.leaf_data.len()
    }

    /// The leaf block at `offset`: its base zone set and its groups.
    #[inline(always)]
    pub fn leaf_block(&self, offset: u32) -> (u32, Groups<'_>) {
        let [base, groups, ref data @ ..] = self.leaf_data[offset as usize..] else {
            panic!("leaf block header past the end of leaf_data (the index was checked)")
        };
        (base, Groups(GroupWalk { data, left: groups }))
    }

    /// The word a descent from the top grid ends at (resolved or leaf), and the size of its
    /// cell (2^shift units); `None` outside the grid.
    #[inline(always)]
    pub fn descend(&self, p: Point) -> Option<(Node, u32)> {
        self.descend_to_word(p).map(|(word, shift)| (Node::decode(word), shift))
    }

    /// `descend`, its word not decoded: for a caller that reads it without branching on its
    /// kind (`Node::leaf_or_set`).
    #[inline(always)]
    pub fn descend_to_word(&self, p: Point) -> Option<(u32, u32)> {
        let dx = p.x as i64 - self.grid.origin_x;
        let dy = p.y as i64 - self.grid.origin_y;
        let mut shift = self.grid.shift;
        // Left of or below the grid, the shifted offsets are negative, so huge as u64.
        let (col, row) = ((dx >> shift) as u64, (dy >> shift) as u64);
        if col >= self.grid.cols as u64 || row >= self.grid.rows as u64 {
            return None;
        }
        let mut word = self.nodes[(row * self.grid.cols as u64 + col) as usize];
        while word >> TAG_SHIFT == TAG_INTERNAL {
            shift -= 2;
            let child = ((dy >> shift) & 3) * 4 + ((dx >> shift) & 3);
            word = self.nodes[(word & VALUE_MASK) as usize + child as usize];
        }
        Some((word, shift))
    }

    /// The cell a point falls in.
    #[inline(always)]
    pub fn locate(&self, p: Point) -> Cell {
        match self.descend(p) {
            None => Cell::Outside,
            Some((Node::Leaf(leaf), shift)) => {
                let (x1, y0) = self.leaf_corner(p, shift);
                Cell::Leaf { leaf, x1, y0 }
            }
            // (A descent never stops at an internal node.)
            Some((Node::Resolved(set) | Node::Internal(set), _)) => Cell::Resolved(set),
        }
    }

    /// The reference corner (x1, y0) of the cell 2^shift units wide that contains `p`.
    #[inline(always)]
    pub fn leaf_corner(&self, p: Point, shift: u32) -> (i64, i64) {
        let (ox, oy) = (self.grid.origin_x, self.grid.origin_y);
        let (dx, dy) = (p.x as i64 - ox, p.y as i64 - oy);
        let x0 = ox + ((dx >> shift) << shift);
        let y0 = oy + ((dy >> shift) << shift);
        (x0 + (1i64 << shift), y0)
    }

    /// Bytes of the serialized arrays (geometry included).
    pub fn array_bytes(&self) -> usize {
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

    /// Bytes of the index in memory: its arrays and the tables derived from them (not the
    /// distance index, built only on first use).
    pub fn heap_bytes(&self) -> usize {
        self.array_bytes() + 4 * self.first_zone_of_set.len() + 4 * self.leaf_records.len()
    }

    /// Checks every invariant the query kernel relies on for memory safety and termination:
    /// offsets in order and in range, every node word's tag known and its value in range,
    /// children after their parent and no deeper than the cells allow, and every leaf block
    /// inside `leaf_data` naming existing sets, zones and edges. A decoded index passes this
    /// before it is used.
    pub fn check(&self) -> Result<(), String> {
        let g = &self.geometry;
        let offsets_ok = |o: &[u32], end: usize, what: &str| -> Result<(), String> {
            if o.first() != Some(&0) || o.windows(2).any(|w| w[0] > w[1]) || *o.last().unwrap() as usize != end {
                return Err(format!("{what} offsets are inconsistent"));
            }
            Ok(())
        };
        offsets_ok(&g.ring_starts, g.vertices.len(), "ring")?;
        offsets_ok(&g.polygon_rings, g.ring_starts.len() - 1, "polygon")?;
        if g.polygon_rings.len() != g.polygon_zone.len() + 1 || g.polygon_zone.iter().any(|&z| z >= g.zone_count) {
            return Err("polygon zones out of range".into());
        }
        if g.ids.as_ref().is_some_and(|ids| ids.len() != g.zone_count as usize) {
            return Err("zone ids do not match the zone count".into());
        }
        offsets_ok(&self.set_offsets, self.set_zones.len(), "zone set")?;
        if self.set_zones.iter().any(|&z| z >= g.zone_count) {
            return Err("zone sets out of range".into());
        }
        self.check_nodes()
    }

    /// Children always lie after their parent and the shift must stay >= 0 down the tree:
    /// each block's depth is checked so a lookup can neither loop nor shift below zero.
    fn check_nodes(&self) -> Result<(), String> {
        let sets = self.zone_set_count() as u32;
        let top = self.grid.cells();
        let nodes = &self.nodes;
        if self.grid.shift > 40 || top == 0 || top > nodes.len() || (nodes.len() - top) % 16 != 0 {
            return Err("grid is inconsistent".into());
        }
        let mut depth = vec![0u32; nodes.len()];
        for i in 0..nodes.len() {
            match Node::try_decode(nodes[i]).ok_or("unknown node tag")? {
                Node::Internal(child) => {
                    let child = child as usize;
                    if child <= i.max(top - 1) || child + 16 > nodes.len() || (child - top) % 16 != 0 {
                        return Err("internal node points outside the node array".into());
                    }
                    let d = depth[i] + 1;
                    if 2 * d > self.grid.shift {
                        return Err("tree deeper than its cells allow".into());
                    }
                    depth[child..child + 16].fill(d);
                }
                Node::Leaf(offset) => self.check_leaf(offset as usize, sets)?,
                Node::Resolved(set) if set >= sets => return Err("zone set out of range".into()),
                Node::Resolved(_) => {}
            }
        }
        Ok(())
    }

    /// A leaf block must lie inside `leaf_data` and name only existing sets, zones and edges.
    fn check_leaf(&self, offset: usize, sets: u32) -> Result<(), String> {
        let data = &self.leaf_data;
        let word = |i: usize| data.get(i).copied().ok_or_else(|| "leaf block runs past the end".to_string());
        if word(offset)? >= sets {
            return Err("leaf zone set out of range".into());
        }
        let groups = word(offset + 1)?;
        let mut i = offset + 2;
        for _ in 0..groups {
            let (zone, n, straddling) = (word(i)? & !PARITY_BIT, word(i + 1)? as usize, word(i + 2)? as usize);
            if zone >= self.geometry.zone_count {
                return Err("leaf zone out of range".into());
            }
            if straddling > n {
                return Err("leaf group has more straddling edges than edges".into());
            }
            let edges = data.get(i + 3..i + 3 + n).ok_or("leaf block runs past the end")?;
            // The end vertex of each edge must exist.
            if edges.iter().any(|&e| e as usize + 1 >= self.geometry.vertices.len()) {
                return Err("edges out of range".into());
            }
            i += 3 + n;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_words_round_trip() {
        for node in [Node::Resolved(0), Node::Resolved(Node::MAX_VALUE), Node::Internal(17), Node::Leaf(123_456)] {
            assert_eq!(Node::decode(node.encode()), node);
        }
        assert_eq!(Node::try_decode(3 << TAG_SHIFT), None);
    }

    #[test]
    fn leaf_blocks_round_trip() {
        let mut data = vec![7, 7];
        let edges = [[3u32, 9, 12], [40, 41, 0]];
        let groups = [
            Group { zone: 5, odd_at_corner: true, straddling: 1, edges: &edges[0] },
            Group { zone: 0, odd_at_corner: false, straddling: 0, edges: &edges[1][..2] },
        ];
        let offset = write_leaf(&mut data, 2, groups.iter().copied());
        assert_eq!(offset, 2);
        set_leaf_base(&mut data, offset, 4);
        let index = ZoneIndex::from_parts(
            ZoneGeometry::new(6, None),
            TopGrid { origin_x: 0, origin_y: 0, shift: 2, cols: 1, rows: 1 },
            vec![0],
            vec![0],
            vec![],
            data,
        );
        let (base, read) = index.leaf_block(offset);
        assert_eq!(base, 4);
        let read: Vec<_> = read.map(|g| (g.zone, g.odd_at_corner, g.straddling, g.edges.to_vec())).collect();
        assert_eq!(read, vec![(5, true, 1, vec![3, 9, 12]), (0, false, 0, vec![40, 41])]);
    }

    /// A square zone and a leaf block naming its edges, with two leaf nodes pointing at it.
    fn one_leaf_index(leaf_offsets: [u32; 2]) -> ZoneIndex {
        let mut geometry = ZoneGeometry::new(2, None);
        let square = [(0, 0), (4, 0), (4, 4), (0, 4)].map(|(x, y)| Point::new(x, y)).to_vec();
        geometry.push_polygon(1, &[square]);
        let mut data = Vec::new();
        let (bottom_and_right, top) = ([0u32, 1], [2u32]);
        let groups = [
            Group { zone: 1, odd_at_corner: true, straddling: 1, edges: &bottom_and_right },
            Group { zone: 0, odd_at_corner: false, straddling: 0, edges: &top },
        ];
        assert_eq!(write_leaf(&mut data, 1, groups.iter().copied()), 0);
        let nodes = leaf_offsets.map(|o| Node::Leaf(o).encode()).to_vec();
        ZoneIndex::from_parts(
            geometry,
            TopGrid { origin_x: 0, origin_y: 0, shift: 2, cols: 2, rows: 1 },
            nodes,
            vec![0, 0, 1],
            vec![1],
            data,
        )
    }

    #[test]
    fn leaf_records_hold_the_blocks_with_their_edges_ends() {
        let index = one_leaf_index([0, 0]).with_leaf_records(true);
        let record = index.leaf_record(0).expect("records were made");
        assert_eq!((record.base_set, record.base_first_zone), (1, 1));
        let read: Vec<_> =
            record.groups().map(|g| (g.zone, g.odd_at_corner, g.straddling, g.edges().collect())).collect();
        let edge = |e| index.geometry().edge(e);
        let expected: Vec<(u32, bool, usize, Vec<_>)> =
            vec![(1, true, 1, vec![edge(0), edge(1)]), (0, false, 0, vec![edge(2)])];
        assert_eq!(read, expected);
        assert!(index.clone().with_leaf_records(false).leaf_record(0).is_none());
    }

    #[test]
    fn a_record_that_does_not_fit_before_the_next_block_leaves_them_all_out() {
        let index = one_leaf_index([0, 0]);
        let (data, vertices, first) = (&index.leaf_data, &index.geometry.vertices, &index.first_zone_of_set);
        // The block's record takes 4 + (3 + 4·2) + (3 + 4·1) = 22 words.
        let mut room = vec![0; 22];
        assert!(write_record(data, vertices, first, 0, &mut room).is_some());
        assert_eq!(room[0], 22);
        assert!(write_record(data, vertices, first, 0, &mut room[..21]).is_none());
        // A second leaf inside the first's block, as only a crafted index has: no records.
        assert!(one_leaf_index([0, 2]).with_leaf_records(true).leaf_record(0).is_none());
    }
}
