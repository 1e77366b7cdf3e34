//! The schedule: the systems one tick runs, in order, and the two executors that run it.
//!
//! ```text
//! (wander, steer) -> integrate -> build_collision_grid -> collide -> (sim_cost, build_view_grid -> snapshot)
//! ```
//! Systems in parentheses touch disjoint data, so Bevy's multi-threaded executor may run them
//! at once; inside a system, `par_iter` splits the loop over Bevy's compute pool when the
//! [`Parallel`] resource allows it. Every per-entity write depends only on that entity and on
//! data no system of the same step writes (the grid is rebuilt before collisions read it),
//! so the result is the same however the work is split.

use std::time::{Duration, Instant};

use bevy_ecs::{
    prelude::*,
    schedule::{MultiThreadedExecutor, SingleThreadedExecutor},
};
use serde::{Deserialize, Serialize};

use crate::{
    net::protocol::{EntityState, SnapshotHead, SnapshotWriter, bits},
    sim::{
        grid::{CollisionGrid, ViewGrid, build_collision_grid, build_view_grid},
        world::{
            Avatar, Bounds, Controls, Heat, Id, NPC_SPEED, Npc, Outbox, Parallel, Pos, SIZE, SPRINT_SPEED, SimCost,
            SimTick, Vel, WALK_SPEED, heading, mix,
        },
    },
};

/// Which of Bevy's executors runs the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Executor {
    /// Every system in turn on the calling thread: no hand-off cost per system.
    Single,
    /// Systems on Bevy's compute pool, independent ones at once: a hand-off per system.
    Multi,
}

// ANCHOR: schedule
/// Builds the tick's schedule on the chosen executor.
pub fn schedule(executor: Executor) -> Schedule {
    let mut schedule = Schedule::default();
    match executor {
        Executor::Single => schedule.set_executor(SingleThreadedExecutor::new()),
        Executor::Multi => schedule.set_executor(MultiThreadedExecutor::new()),
    };
    schedule.add_systems(
        ((wander, steer), integrate, build_collision_grid, collide, (sim_cost, (build_view_grid, snapshot).chain()))
            .chain(),
    );
    schedule
}
// ANCHOR_END: schedule

/// Non-player entities: disjoint from avatars by construction, so `wander` and `steer` may
/// run at once.
type Wanderers<'w, 's> = Query<'w, 's, (&'static Id, &'static mut Vel), (With<Npc>, Without<Avatar>)>;

/// Non-player entities change heading now and then, at ticks chosen by a hash of their id.
fn wander(tick: Res<SimTick>, parallel: Res<Parallel>, mut query: Wanderers) {
    let tick = u64::from(tick.0);
    let turn = move |(id, mut vel): (&Id, Mut<Vel>)| {
        let h = mix((u64::from(id.0) << 32) ^ tick);
        if h.is_multiple_of(128) {
            *vel = heading(h >> 8, NPC_SPEED);
        }
    };
    if parallel.0 { query.par_iter_mut().for_each(turn) } else { query.iter_mut().for_each(turn) }
}

/// Each avatar moves as its client's latest input says.
fn steer(mut query: Query<(&Controls, &mut Vel), With<Avatar>>) {
    for (controls, mut vel) in &mut query {
        let speed = if controls.bits & bits::SPRINT != 0 { SPRINT_SPEED } else { WALK_SPEED };
        let axis = |plus: u16, minus: u16| {
            i32::from(controls.bits & plus != 0) * speed - i32::from(controls.bits & minus != 0) * speed
        };
        *vel = Vel { x: axis(bits::RIGHT, bits::LEFT), y: axis(bits::DOWN, bits::UP) };
    }
}

/// Moves everything by its velocity, bouncing off the world's edges.
fn integrate(bounds: Res<Bounds>, parallel: Res<Parallel>, mut query: Query<(&mut Pos, &mut Vel)>) {
    let far = bounds.0 - SIZE;
    let step = move |(mut pos, mut vel): (Mut<Pos>, Mut<Vel>)| {
        let (x, vx) = bounce(pos.x + vel.x, vel.x, far);
        let (y, vy) = bounce(pos.y + vel.y, vel.y, far);
        *pos = Pos { x, y };
        if (vx, vy) != (vel.x, vel.y) {
            *vel = Vel { x: vx, y: vy };
        }
    };
    if parallel.0 { query.par_iter_mut().for_each(step) } else { query.iter_mut().for_each(step) }
}

fn bounce(at: i32, v: i32, far: i32) -> (i32, i32) {
    if at < 0 {
        (-at, -v)
    } else if at > far {
        (2 * far - at, -v)
    } else {
        (at, v)
    }
}

/// Pushes overlapping entities apart. Each entity computes its own push from the grid,
/// which holds everyone's position from before this system ran, so no entity's result
/// depends on whether a neighbour was moved first.
fn collide(grid: Res<CollisionGrid>, bounds: Res<Bounds>, parallel: Res<Parallel>, mut query: Query<(&Id, &mut Pos)>) {
    let far = bounds.0 - SIZE;
    let grid = &grid.0;
    let resolve = move |(id, mut pos): (&Id, Mut<Pos>)| {
        let me = *pos;
        let (mut px, mut py) = (0i32, 0i32);
        for row in grid.rows_around(grid.cell_of(me)) {
            for other in row {
                let (dx, dy) = (me.x - other.pos.x, me.y - other.pos.y);
                if dx.abs() >= SIZE || dy.abs() >= SIZE || other.id == id.0 {
                    continue;
                }
                // Apart along the shallower overlap, half of it each; a tie in position is
                // broken by id so that the two go opposite ways.
                let away = |d: i32| {
                    if d != 0 {
                        d.signum()
                    } else if id.0 < other.id {
                        -1
                    } else {
                        1
                    }
                };
                let (over_x, over_y) = (SIZE - dx.abs(), SIZE - dy.abs());
                if over_x < over_y {
                    px += away(dx) * (over_x / 2 + 1);
                } else {
                    py += away(dy) * (over_y / 2 + 1);
                }
            }
        }
        if (px, py) != (0, 0) {
            let limit = SIZE / 2;
            *pos = Pos {
                x: (me.x + px.clamp(-limit, limit)).clamp(0, far),
                y: (me.y + py.clamp(-limit, limit)).clamp(0, far),
            };
        }
    };
    if parallel.0 { query.par_iter_mut().for_each(resolve) } else { query.iter_mut().for_each(resolve) }
}

/// `--sim-cost`: rounds of integer mixing per entity, folded into its heat.
fn sim_cost(cost: Res<SimCost>, parallel: Res<Parallel>, mut query: Query<(&Pos, &mut Heat)>) {
    let rounds = cost.0;
    if rounds == 0 {
        return;
    }
    let work = move |(pos, mut heat): (&Pos, Mut<Heat>)| heat.0 = burn(heat.0, *pos, rounds);
    if parallel.0 { query.par_iter_mut().for_each(work) } else { query.iter_mut().for_each(work) }
}

/// The per-entity work of `--sim-cost`, also timed to calibrate it.
pub fn burn(heat: u64, pos: Pos, rounds: u32) -> u64 {
    let mut h = heat ^ ((pos.x as u32 as u64) << 32 | pos.y as u32 as u64);
    for round in 0..rounds {
        h = mix(h.wrapping_add(u64::from(round)));
    }
    h
}

/// Builds each client's snapshot: the entities in the avatar's cell and the eight around it,
/// nearest cells first, up to the protocol's limit.
fn snapshot(
    grid: Res<ViewGrid>,
    tick: Res<SimTick>,
    bounds: Res<Bounds>,
    parallel: Res<Parallel>,
    mut avatars: Query<(&Avatar, &Controls, &Pos, &mut Outbox)>,
) {
    let (grid, tick) = (&grid.0, tick.0);
    let far = i64::from((bounds.0 - SIZE).max(1));
    let quantize = move |v: i32| (i64::from(v) * 65535 / far).clamp(0, 65535) as u16;
    let build = move |(avatar, controls, pos, mut outbox): (&Avatar, &Controls, &Pos, Mut<Outbox>)| {
        let out = &mut outbox.0;
        out.clear();
        let mut writer = SnapshotWriter::begin(out, SnapshotHead { client: avatar.client, tick, ack: controls.ack });
        for item in grid.around(grid.cell_of(*pos)) {
            let state = EntityState {
                id: item.id,
                x: quantize(item.pos.x),
                y: quantize(item.pos.y),
                vx: item.vel.x.clamp(-128, 127) as i8,
                vy: item.vel.y.clamp(-128, 127) as i8,
            };
            if !writer.push(&state) {
                break;
            }
        }
        writer.finish();
    };
    if parallel.0 { avatars.par_iter_mut().for_each(build) } else { avatars.iter_mut().for_each(build) }
}

/// Rounds of `--sim-cost` work per entity that make one tick cost `cpu_per_tick` of CPU,
/// from the fastest of a few timings of the work itself on this machine.
pub fn calibrate_sim_cost(entities: u32, cpu_per_tick: Duration) -> u32 {
    const ROUNDS: u32 = 20_000;
    let fastest = (0..5u64)
        .map(|seed| {
            let start = Instant::now();
            std::hint::black_box(burn(seed, Pos { x: 1, y: 2 }, ROUNDS));
            start.elapsed()
        })
        .min()
        .unwrap_or(Duration::from_millis(1));
    let per_round_ns = (fastest.as_nanos() as f64 / f64::from(ROUNDS)).max(0.01);
    let rounds = cpu_per_tick.as_nanos() as f64 / per_round_ns / f64::from(entities.max(1));
    rounds.clamp(1.0, 1e7) as u32
}
