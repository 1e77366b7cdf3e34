//! The game world: its size, its components, how it is seeded and how its state is hashed.
//!
//! Positions and velocities are fixed-point integers (1/256 of a metre), not floats. That is
//! what makes the simulation a pure function of its inputs whatever order a parallel system
//! visits entities in: integer sums are associative, so a collision push summed over
//! neighbours comes out the same in any order, on any thread. Deterministic lockstep games
//! choose fixed point for the same reason.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

/// World units per metre.
pub const UNIT: i32 = 256;
/// Each entity gets this many square metres of floor: the world's side grows with the
/// square root of the entity count, so density, and with it the work per entity and the
/// entities per snapshot, stays the same at every size.
pub const AREA_PER_ENTITY_M2: i64 = 16;
/// An entity is a 1 m square.
pub const SIZE: i32 = UNIT;
/// Speeds in units per tick at 64 Hz: 2 m/s for a wanderer, 4 m/s walking, 8 m/s sprinting.
pub const NPC_SPEED: i32 = 8;
pub const WALK_SPEED: i32 = 16;
pub const SPRINT_SPEED: i32 = 32;

/// The largest world the case accepts, in entities.
pub const MAX_ENTITIES: u32 = 1_000_000;

/// What the world is made of. Every variant builds the same world from the same config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldConfig {
    /// Non-player entities that wander and collide.
    pub entities: u32,
    pub seed: u64,
    /// Rounds of deterministic arithmetic per entity per tick (`--sim-cost`); 0 in the
    /// light mode.
    pub sim_cost: u32,
    /// Clients beyond this many are refused (counted), so a flood of client ids cannot
    /// grow the world without bound.
    pub max_clients: u32,
    /// Ticks without any input after which a client is dropped and its avatar removed.
    pub timeout_ticks: u32,
}

impl WorldConfig {
    /// The world's side in units: its area grows with the entity count.
    pub fn side(&self) -> i32 {
        let area = AREA_PER_ENTITY_M2 * i64::from(self.entities.max(1));
        let metres = (area as f64).sqrt().ceil() as i64;
        (metres * i64::from(UNIT)).clamp(i64::from(UNIT) * 16, i64::from(i32::MAX / 4)) as i32
    }

    /// The stable id of a client's avatar: after every non-player entity.
    pub fn avatar_id(&self, client: u32) -> u32 {
        self.entities.saturating_add(client)
    }
}

/// A stable id, the same in every run: Bevy's `Entity` values depend on spawn and despawn
/// order, so nothing that must be deterministic is keyed by them.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Id(pub u32);

#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    pub x: i32,
    pub y: i32,
}

/// Units per tick.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Vel {
    pub x: i32,
    pub y: i32,
}

/// What the `--sim-cost` work accumulates: part of the state, so it cannot be optimised away.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Heat(pub u64);

#[derive(Component, Clone, Copy, Debug)]
pub struct Npc;

#[derive(Component, Clone, Copy, Debug)]
pub struct Avatar {
    pub client: u32,
}

#[derive(Component, Clone, Copy, Debug, Default)]
pub struct Controls {
    pub bits: u16,
    /// The highest input sequence number applied so far: what snapshots acknowledge.
    pub ack: u32,
}

/// The snapshot built for this avatar's client in the current tick.
#[derive(Component, Debug, Default)]
pub struct Outbox(pub Vec<u8>);

#[derive(Resource, Clone, Copy, Debug, Default)]
pub struct SimTick(pub u32);

#[derive(Resource, Clone, Copy, Debug)]
pub struct Bounds(pub i32);

#[derive(Resource, Clone, Copy, Debug)]
pub struct SimCost(pub u32);

/// Whether the systems may split their loops over Bevy's compute pool (`par_iter`).
#[derive(Resource, Clone, Copy, Debug)]
pub struct Parallel(pub bool);

/// SplitMix64's finaliser: the source of every deterministic "random" choice in the simulation.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub fn heading(direction: u64, speed: i32) -> Vel {
    const DIRS: [(i32, i32); 8] = [(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)];
    let (x, y) = DIRS[(direction % 8) as usize];
    Vel { x: x * speed, y: y * speed }
}

/// Where a client's avatar appears: the same place for a client id in every run.
pub fn spawn_point(config: &WorldConfig, client: u32) -> Pos {
    let h = mix(config.seed ^ (u64::from(client) << 32) ^ 0xa5a5);
    let side = i64::from(config.side() - SIZE);
    Pos { x: ((h & 0xffff_ffff) as i64 % side) as i32, y: ((h >> 32) as i64 % side) as i32 }
}

pub fn populate(world: &mut World, config: &WorldConfig) {
    let mut rng = fastrand::Rng::with_seed(config.seed);
    let side = config.side() - SIZE;
    let bundles: Vec<_> = (0..config.entities)
        .map(|id| {
            let pos = Pos { x: rng.i32(0..side), y: rng.i32(0..side) };
            let vel = heading(rng.u64(..), NPC_SPEED);
            (Id(id), pos, vel, Heat(0), Npc)
        })
        .collect();
    world.spawn_batch(bundles);
}

/// The hash of everything the simulation decides: every entity's id, position, velocity
/// and heat in id order, each avatar's last applied input, and the tick. Equal digests mean
/// equal worlds.
pub fn digest(world: &mut World) -> u64 {
    type Row = (u32, Pos, Vel, u64, Option<(u32, u32, u16)>);
    let mut rows: Vec<Row> = world
        .query::<(&Id, &Pos, &Vel, Option<&Heat>, Option<(&Avatar, &Controls)>)>()
        .iter(world)
        .map(|(id, pos, vel, heat, avatar)| {
            (id.0, *pos, *vel, heat.map_or(0, |h| h.0), avatar.map(|(a, c)| (a.client, c.ack, c.bits)))
        })
        .collect();
    rows.sort_unstable_by_key(|row| row.0);
    let mut hasher = Xxh3::new();
    hasher.update(&world.resource::<SimTick>().0.to_le_bytes());
    for (id, pos, vel, heat, avatar) in rows {
        hasher.update(&id.to_le_bytes());
        for v in [pos.x, pos.y, vel.x, vel.y] {
            hasher.update(&v.to_le_bytes());
        }
        hasher.update(&heat.to_le_bytes());
        if let Some((client, ack, bits)) = avatar {
            hasher.update(&client.to_le_bytes());
            hasher.update(&ack.to_le_bytes());
            hasher.update(&bits.to_le_bytes());
        }
    }
    hasher.digest()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(entities: u32) -> WorldConfig {
        WorldConfig { entities, seed: 7, sim_cost: 0, max_clients: 100, timeout_ticks: 64 }
    }

    #[test]
    fn the_world_grows_with_the_entity_count_at_constant_density() {
        // 16 m² each: 10,000 entities on a 400 m square.
        assert_eq!(config(10_000).side(), 400 * UNIT);
        assert_eq!(config(40_000).side(), 800 * UNIT);
        // Never smaller than 16 m, so a tiny world still has room to move.
        assert_eq!(config(1).side(), 16 * UNIT);
    }

    #[test]
    fn the_same_seed_gives_the_same_world_and_another_seed_does_not() {
        let build = |seed| {
            let mut world = World::new();
            world.insert_resource(SimTick(0));
            populate(&mut world, &WorldConfig { seed, ..config(500) });
            digest(&mut world)
        };
        assert_eq!(build(1), build(1));
        assert_ne!(build(1), build(2));
    }

    #[test]
    fn spawn_points_are_inside_the_world() {
        let c = config(10);
        for client in 0..1000 {
            let p = spawn_point(&c, client);
            assert!((0..c.side()).contains(&p.x) && (0..c.side()).contains(&p.y), "{p:?}");
        }
    }
}
