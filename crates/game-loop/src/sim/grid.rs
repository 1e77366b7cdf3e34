//! The spatial grid: which entities are in which 8 m cell, for collisions and snapshots.
//!
//! It is rebuilt every tick by a counting sort on the cell, then each cell's few entries are
//! sorted by stable id. The result depends only on the entities' states, never on the order
//! a query visited them in, which is what lets the collision system read it from many
//! threads and still give every variant the same world.

use bevy_ecs::prelude::*;

use crate::sim::world::{Bounds, Id, Pos, UNIT, Vel};

/// A cell's side: 8 m, so a 1 m entity only ever touches entities in its own cell or the
/// eight around it.
pub const CELL: i32 = 8 * UNIT;

/// One entity as the grid saw it when it was built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    pub id: u32,
    pub pos: Pos,
    pub vel: Vel,
}

#[derive(Resource, Debug, Default)]
pub struct Grid {
    /// Cells along one side.
    side_cells: i32,
    /// `starts[c]..starts[c + 1]` are cell `c`'s entries in `items`.
    starts: Vec<u32>,
    items: Vec<Item>,
    /// Scratch for the sort, kept between ticks to avoid reallocating.
    unsorted: Vec<(u32, Item)>,
}

/// The order cells are visited around a centre: the centre first, so that when a snapshot
/// fills up, what it dropped is farther away than what it kept.
pub const AROUND: [(i32, i32); 9] = [(0, 0), (-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)];

impl Grid {
    /// The cell a position falls in, clamped to the grid.
    pub fn cell_of(&self, pos: Pos) -> (i32, i32) {
        let last = self.side_cells - 1;
        ((pos.x / CELL).clamp(0, last), (pos.y / CELL).clamp(0, last))
    }

    /// The entries of one cell, sorted by id; empty outside the grid.
    pub fn cell(&self, cx: i32, cy: i32) -> &[Item] {
        if !(0..self.side_cells).contains(&cx) || !(0..self.side_cells).contains(&cy) {
            return &[];
        }
        let c = (cy * self.side_cells + cx) as usize;
        &self.items[self.starts[c] as usize..self.starts[c + 1] as usize]
    }

    /// The entries of a cell and the eight around it, in [`AROUND`] order.
    pub fn around(&self, (cx, cy): (i32, i32)) -> impl Iterator<Item = &Item> {
        AROUND.iter().flat_map(move |(dx, dy)| self.cell(cx + dx, cy + dy))
    }

    /// The same nine cells as [`Grid::around`], as three runs of entries, one per row: a
    /// row's three cells are adjacent in the sorted entries. For work that does not care
    /// about order (collisions), this is much cheaper to walk.
    pub fn rows_around(&self, (cx, cy): (i32, i32)) -> impl Iterator<Item = &[Item]> {
        let last = self.side_cells - 1;
        let (left, right) = ((cx - 1).max(0), (cx + 1).min(last));
        ((cy - 1).max(0)..=(cy + 1).min(last)).map(move |row| {
            let first = (row * self.side_cells + left) as usize;
            let end = (row * self.side_cells + right) as usize + 1;
            &self.items[self.starts[first] as usize..self.starts[end] as usize]
        })
    }

    /// Rebuilds the grid for a world of side `side` units from entities given in any order.
    pub fn rebuild(&mut self, side: i32, entities: impl Iterator<Item = Item>) {
        self.side_cells = (side + CELL - 1) / CELL;
        let cells = (self.side_cells * self.side_cells) as usize;
        self.unsorted.clear();
        for item in entities {
            let (cx, cy) = self.cell_of(item.pos);
            self.unsorted.push(((cy * self.side_cells + cx) as u32, item));
        }
        // Counting sort by cell: count, prefix sums, scatter.
        self.starts.clear();
        self.starts.resize(cells + 1, 0);
        for (cell, _) in &self.unsorted {
            self.starts[*cell as usize + 1] += 1;
        }
        for c in 0..cells {
            self.starts[c + 1] += self.starts[c];
        }
        let mut next: Vec<u32> = self.starts[..cells].to_vec();
        let placeholder = Item { id: 0, pos: Pos::default(), vel: Vel::default() };
        self.items.clear();
        self.items.resize(self.unsorted.len(), placeholder);
        for (cell, item) in &self.unsorted {
            let slot = &mut next[*cell as usize];
            self.items[*slot as usize] = *item;
            *slot += 1;
        }
        // Within a cell, the scatter kept the query's order: sort by id to forget it.
        for c in 0..cells {
            self.items[self.starts[c] as usize..self.starts[c + 1] as usize].sort_unstable_by_key(|item| item.id);
        }
    }
}

/// The grid collisions read: built after movement, before the pushes.
#[derive(Resource, Debug, Default)]
pub struct CollisionGrid(pub Grid);

/// The grid snapshots read: built after the pushes, so it holds the tick's final state and a
/// snapshot needs no lookup per entity.
#[derive(Resource, Debug, Default)]
pub struct ViewGrid(pub Grid);

type Entities<'w, 's> = Query<'w, 's, (&'static Id, &'static Pos, &'static Vel)>;

fn items<'a>(query: &'a Entities) -> impl Iterator<Item = Item> + 'a {
    query.iter().map(|(id, pos, vel)| Item { id: id.0, pos: *pos, vel: *vel })
}

pub fn build_collision_grid(mut grid: ResMut<CollisionGrid>, bounds: Res<Bounds>, query: Entities) {
    grid.0.rebuild(bounds.0, items(&query));
}

pub fn build_view_grid(mut grid: ResMut<ViewGrid>, bounds: Res<Bounds>, query: Entities) {
    grid.0.rebuild(bounds.0, items(&query));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: u32, x: i32, y: i32) -> Item {
        Item { id, pos: Pos { x, y }, vel: Vel::default() }
    }

    #[test]
    fn the_grid_does_not_depend_on_the_order_it_was_fed() {
        let items: Vec<Item> =
            (0..500).map(|i| item(i, (i as i32 * 7919) % (64 * UNIT), (i as i32 * 104729) % (64 * UNIT))).collect();
        let mut forward = Grid::default();
        forward.rebuild(64 * UNIT, items.iter().copied());
        let mut backward = Grid::default();
        backward.rebuild(64 * UNIT, items.iter().rev().copied());
        assert_eq!(forward.items, backward.items);
        assert_eq!(forward.starts, backward.starts);
        assert_eq!(forward.items.len(), 500);
    }

    #[test]
    fn neighbours_come_centre_first_and_the_edges_are_clipped() {
        let mut grid = Grid::default();
        grid.rebuild(
            32 * UNIT,
            [item(1, 0, 0), item(2, CELL + 1, 0), item(3, 3 * CELL + 5, 3 * CELL + 5), item(4, 1, 1)].into_iter(),
        );
        let ids: Vec<u32> = grid.around((0, 0)).map(|i| i.id).collect();
        assert_eq!(ids, vec![1, 4, 2]);
        let mut by_rows: Vec<u32> = grid.rows_around((0, 0)).flatten().map(|i| i.id).collect();
        by_rows.sort_unstable();
        assert_eq!(by_rows, vec![1, 2, 4]);
        let centre: Vec<u32> = grid.rows_around((3, 3)).flatten().map(|i| i.id).collect();
        assert_eq!(centre, vec![3]);
        assert!(grid.cell(-1, 0).is_empty() && grid.cell(4, 0).is_empty());
        assert_eq!(grid.cell_of(Pos { x: 10 * CELL, y: -5 }), (3, 0), "clamped to the last cell");
    }
}
