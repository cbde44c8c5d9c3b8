//! The zones as flat arrays of snapped rings: what ingestion produces and every kernel reads.
//!
//! A zone is a set of polygons; a polygon is a set of rings (shell and holes are not told
//! apart: membership is the even-odd rule over all of a polygon's rings); a ring is stored
//! closed, its first vertex repeated at the end, so edge `i` of the whole array runs from
//! `vertices[i]` to `vertices[i + 1]` for every `i` that is not the last vertex of a ring.

use serde::{Deserialize, Serialize};

use crate::coords::Point;

/// "No zone", where an answer is a zone index.
pub const NO_ZONE: u32 = u32::MAX;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ZoneGeometry {
    /// Zone names, one per zone, when the input named them.
    pub ids: Option<Vec<String>>,
    pub zone_count: u32,
    /// The zone of each polygon.
    pub polygon_zone: Vec<u32>,
    /// Offsets into `ring_starts`, one more than there are polygons.
    pub polygon_rings: Vec<u32>,
    /// Offsets into `vertices`, one more than there are rings.
    pub ring_starts: Vec<u32>,
    pub vertices: Vec<Point>,
}

impl ZoneGeometry {
    pub fn new(zone_count: u32, ids: Option<Vec<String>>) -> Self {
        ZoneGeometry {
            ids,
            zone_count,
            polygon_zone: Vec::new(),
            polygon_rings: vec![0],
            ring_starts: vec![0],
            vertices: Vec::new(),
        }
    }

    /// Appends a polygon of `zone`; each ring is open (no repeated first vertex).
    pub fn push_polygon(&mut self, zone: u32, rings: &[Vec<Point>]) {
        for ring in rings {
            self.vertices.extend_from_slice(ring);
            self.vertices.push(ring[0]);
            self.ring_starts.push(self.vertices.len() as u32);
        }
        self.polygon_rings.push(self.ring_starts.len() as u32 - 1);
        self.polygon_zone.push(zone);
    }

    pub fn polygon_count(&self) -> usize {
        self.polygon_zone.len()
    }

    /// Vertices as the user counts them: the closing repeats are not counted.
    pub fn num_vertices(&self) -> usize {
        self.vertices.len() - (self.ring_starts.len() - 1)
    }

    /// The edges of polygon `p`, each as the index of its first vertex.
    pub fn polygon_edges(&self, p: usize) -> impl Iterator<Item = u32> + '_ {
        let rings = self.polygon_rings[p] as usize..self.polygon_rings[p + 1] as usize;
        rings.flat_map(move |r| self.ring_starts[r]..self.ring_starts[r + 1] - 1)
    }

    #[inline(always)]
    pub fn edge(&self, e: u32) -> (Point, Point) {
        // One bounds check for both ends.
        let ends: &[Point; 2] = self.vertices[e as usize..e as usize + 2].try_into().expect("two ends");
        (ends[0], ends[1])
    }

    /// (min x, min y, max x, max y) over all vertices, or None without vertices.
    pub fn bounds(&self) -> Option<[i32; 4]> {
        let first = self.vertices.first()?;
        let mut b = [first.x, first.y, first.x, first.y];
        for v in &self.vertices {
            b[0] = b[0].min(v.x);
            b[1] = b[1].min(v.y);
            b[2] = b[2].max(v.x);
            b[3] = b[3].max(v.y);
        }
        Some(b)
    }

    /// Bounds of one polygon.
    pub fn polygon_bounds(&self, p: usize) -> [i32; 4] {
        let start = self.ring_starts[self.polygon_rings[p] as usize] as usize;
        let end = self.ring_starts[self.polygon_rings[p + 1] as usize] as usize;
        let mut b = [i32::MAX, i32::MAX, i32::MIN, i32::MIN];
        for v in &self.vertices[start..end] {
            b[0] = b[0].min(v.x);
            b[1] = b[1].min(v.y);
            b[2] = b[2].max(v.x);
            b[3] = b[3].max(v.y);
        }
        b
    }
}
