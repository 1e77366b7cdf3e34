//! The simulation as every variant drives it: a Bevy `World`, its schedule, the clients'
//! sessions, and the log of what was applied at which tick.
//!
//! A variant's network code delivers inputs into an [`Inbox`] between ticks; at the start of
//! a tick the inbox is emptied into a list of [`Event`]s sorted by client id, and
//! [`Sim::step`] applies them. The world after `n` steps is a pure function of the seed and
//! those per-tick lists, which is what [`replay`] checks: the same log through any executor,
//! on any thread, gives the same digest.

use std::collections::{BTreeMap, HashMap};

use bevy_ecs::prelude::*;
use bevy_tasks::{ComputeTaskPool, TaskPoolBuilder};
use casebook::host::cpus::usable_cores;
use serde::{Deserialize, Serialize};

use crate::{
    net::protocol::Input,
    sim::{
        grid::{CollisionGrid, ViewGrid},
        systems::{Executor, schedule},
        world::{
            Avatar, Bounds, Controls, Id, Outbox, Parallel, SimCost, SimTick, Vel, WorldConfig, digest, populate,
            spawn_point,
        },
    },
};

/// How a variant runs the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimConfig {
    pub executor: Executor,
    /// Whether systems split their loops over Bevy's compute pool.
    pub parallel: bool,
}

/// Something that happened to one client, applied at the start of a tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Event {
    /// The client's latest input since the last tick (older ones were superseded).
    Input { client: u32, seq: u32, bits: u16 },
    /// The client closed its connection (TCP); UDP clients only ever time out.
    Leave { client: u32 },
}

impl Event {
    pub fn client(&self) -> u32 {
        match *self {
            Event::Input { client, .. } | Event::Leave { client } => client,
        }
    }
}

/// What arrived since the last tick, with the route (an address, a connection) each
/// client's latest input came by. Only each client's newest input survives to the tick, so
/// the events a tick applies do not depend on the order datagrams arrived in.
#[derive(Debug)]
pub struct Inbox<R = ()> {
    latest: HashMap<u32, (u32, u16, R)>,
    leaves: Vec<u32>,
    /// Inputs replaced by a newer one from the same client before a tick applied them.
    pub superseded: u64,
}

impl<R> Default for Inbox<R> {
    fn default() -> Self {
        Inbox { latest: HashMap::new(), leaves: Vec::new(), superseded: 0 }
    }
}

impl<R> Inbox<R> {
    pub fn input(&mut self, input: Input, route: R) {
        match self.latest.get_mut(&input.client) {
            Some(held) => {
                self.superseded += 1;
                if input.seq > held.0 {
                    *held = (input.seq, input.bits, route);
                }
            }
            None => {
                self.latest.insert(input.client, (input.seq, input.bits, route));
            }
        }
    }

    pub fn leave(&mut self, client: u32) {
        self.leaves.push(client);
    }

    // ANCHOR: take
    /// Moves everything held into `events`, sorted by (client id, inputs before leaves),
    /// and each input's route to `route`.
    pub fn take(&mut self, events: &mut Vec<Event>, mut route: impl FnMut(u32, R)) {
        events.clear();
        for (client, (seq, bits, via)) in self.latest.drain() {
            events.push(Event::Input { client, seq, bits });
            route(client, via);
        }
        events.extend(self.leaves.drain(..).map(|client| Event::Leave { client }));
        events.sort_unstable_by_key(|e| (e.client(), matches!(e, Event::Leave { .. })));
        events.dedup();
    }
    // ANCHOR_END: take
}

/// Everything a run applied, tick by tick: enough to rebuild its world exactly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InputLog {
    pub ticks: u32,
    /// (tick, event), ordered by tick and, within a tick, by client id.
    pub entries: Vec<(u32, Event)>,
}

/// What the simulation counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimCounts {
    pub joined: u64,
    /// Clients that closed their connection.
    pub left: u64,
    /// Clients dropped after `timeout_ticks` without an input.
    pub timed_out: u64,
    /// Inputs from clients refused because `max_clients` were already in.
    pub refused: u64,
    /// Inputs older than one already applied (reordered or duplicated).
    pub stale: u64,
    pub applied: u64,
    /// Snapshots built and handed to the network.
    pub snapshots: u64,
    /// The most clients in at once.
    pub peak_clients: u64,
}

struct Session {
    entity: Entity,
    last_seq: u32,
    last_heard: u32,
}

pub struct Sim {
    config: WorldConfig,
    world: World,
    schedule: Schedule,
    outboxes: QueryState<(&'static Avatar, &'static mut Outbox)>,
    sessions: BTreeMap<u32, Session>,
    departed: Vec<u32>,
    counts: SimCounts,
    log: Option<InputLog>,
}

impl Sim {
    /// A fresh world from `config`, run as `how` says. With `record`, every applied event is
    /// kept for [`Sim::take_log`]; without, only the log's hash is.
    pub fn new(config: WorldConfig, how: SimConfig, record: bool) -> Sim {
        if how.executor == Executor::Multi || how.parallel {
            // Bevy's default, one pool thread per core: the cores this run may use.
            ComputeTaskPool::get_or_init(|| TaskPoolBuilder::new().num_threads(usable_cores()).build());
        }
        let mut world = World::new();
        world.insert_resource(SimTick(0));
        world.insert_resource(Bounds(config.side()));
        world.insert_resource(SimCost(config.sim_cost));
        world.insert_resource(Parallel(how.parallel));
        world.insert_resource(CollisionGrid::default());
        world.insert_resource(ViewGrid::default());
        populate(&mut world, &config);
        let outboxes = world.query::<(&Avatar, &mut Outbox)>();
        Sim {
            config,
            world,
            schedule: schedule(how.executor),
            outboxes,
            sessions: BTreeMap::new(),
            departed: Vec::new(),
            counts: SimCounts::default(),
            log: record.then(InputLog::default),
        }
    }

    /// The next tick to run, which is also the number run so far.
    pub fn tick(&self) -> u32 {
        self.world.resource::<SimTick>().0
    }

    pub fn clients(&self) -> usize {
        self.sessions.len()
    }

    pub fn has_client(&self, client: u32) -> bool {
        self.sessions.contains_key(&client)
    }

    pub fn counts(&self) -> SimCounts {
        self.counts
    }

    /// Runs one tick: applies `events` (sorted by client, as [`Inbox::take`] leaves them),
    /// drops clients that went quiet, then runs the schedule.
    pub fn step(&mut self, events: &[Event]) {
        let tick = self.tick();
        for event in events {
            if let Some(log) = &mut self.log {
                log.entries.push((tick, *event));
            }
            match *event {
                Event::Input { client, seq, bits } => self.apply(tick, client, seq, bits),
                Event::Leave { client } => {
                    if self.remove(client) {
                        self.counts.left += 1;
                    }
                }
            }
        }
        let quiet: Vec<u32> = self
            .sessions
            .iter()
            .filter(|(_, s)| tick - s.last_heard >= self.config.timeout_ticks)
            .map(|(client, _)| *client)
            .collect();
        for client in quiet {
            self.remove(client);
            self.counts.timed_out += 1;
        }
        self.schedule.run(&mut self.world);
        self.world.resource_mut::<SimTick>().0 = tick + 1;
        if let Some(log) = &mut self.log {
            log.ticks = tick + 1;
        }
    }

    fn apply(&mut self, tick: u32, client: u32, seq: u32, bits: u16) {
        if !self.sessions.contains_key(&client) {
            if self.sessions.len() >= self.config.max_clients as usize {
                self.counts.refused += 1;
                return;
            }
            let entity = self
                .world
                .spawn((
                    Id(self.config.avatar_id(client)),
                    spawn_point(&self.config, client),
                    Vel::default(),
                    Avatar { client },
                    Controls::default(),
                    Outbox::default(),
                ))
                .id();
            self.sessions.insert(client, Session { entity, last_seq: 0, last_heard: tick });
            self.counts.joined += 1;
            self.counts.peak_clients = self.counts.peak_clients.max(self.sessions.len() as u64);
        }
        let Some(session) = self.sessions.get_mut(&client) else { return };
        // Any datagram proves the client is alive, even an old one. Sequence numbers start
        // at 1, so 0 is never applied.
        session.last_heard = tick;
        if seq <= session.last_seq {
            self.counts.stale += 1;
            return;
        }
        session.last_seq = seq;
        self.counts.applied += 1;
        if let Some(mut controls) = self.world.get_mut::<Controls>(session.entity) {
            *controls = Controls { bits, ack: seq };
        }
    }

    fn remove(&mut self, client: u32) -> bool {
        let session = self.sessions.remove(&client);
        if let Some(session) = &session {
            self.world.despawn(session.entity);
            self.departed.push(client);
        }
        session.is_some()
    }

    /// Hands each client's snapshot from the last tick to `send`, moving the bytes out.
    pub fn take_snapshots(&mut self, mut send: impl FnMut(u32, Vec<u8>)) {
        for (avatar, mut outbox) in self.outboxes.iter_mut(&mut self.world) {
            if !outbox.0.is_empty() {
                self.counts.snapshots += 1;
                send(avatar.client, std::mem::take(&mut outbox.0));
            }
        }
    }

    /// Clients removed since the last call (timed out or left): their routes can go.
    pub fn take_departed(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.departed)
    }

    pub fn digest(&mut self) -> u64 {
        digest(&mut self.world)
    }

    pub fn take_log(&mut self) -> Option<InputLog> {
        self.log.take()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const CONFIG: WorldConfig =
        WorldConfig { entities: 3000, seed: 11, sim_cost: 3, max_clients: 40, timeout_ticks: 20 };
    /// Every way of running the schedule.
    pub(crate) const HOWS: [SimConfig; 4] = [
        SimConfig { executor: Executor::Single, parallel: false },
        SimConfig { executor: Executor::Single, parallel: true },
        SimConfig { executor: Executor::Multi, parallel: false },
        SimConfig { executor: Executor::Multi, parallel: true },
    ];

    #[test]
    fn clients_join_time_out_leave_and_are_refused_past_the_cap() {
        let mut sim = Sim::new(CONFIG, HOWS[3], false);
        let mut inbox = Inbox::default();
        let mut events = Vec::new();
        for client in 0..45 {
            inbox.input(Input { client, seq: 1, bits: 0 }, ());
        }
        inbox.take(&mut events, |_, _| {});
        sim.step(&events);
        assert_eq!((sim.counts().joined, sim.counts().refused, sim.clients()), (40, 5, 40));
        let mut snapshots = 0;
        sim.take_snapshots(|_, bytes| {
            assert!(crate::net::protocol::decode_snapshot(&bytes).is_ok());
            snapshots += 1;
        });
        assert_eq!(snapshots, 40);
        inbox.leave(0);
        // Client 1 keeps talking (with one stale, reordered input); everyone else goes quiet.
        for seq in [3, 2] {
            inbox.input(Input { client: 1, seq, bits: 0 }, ());
        }
        inbox.take(&mut events, |_, _| {});
        sim.step(&events);
        assert_eq!((sim.counts().left, sim.counts().stale), (1, 0));
        assert_eq!(inbox.superseded, 1);
        for tick in 2..=CONFIG.timeout_ticks {
            inbox.input(Input { client: 1, seq: 10 + tick, bits: 0 }, ());
            inbox.take(&mut events, |_, _| {});
            sim.step(&events);
        }
        assert_eq!(sim.counts().timed_out, 38);
        assert_eq!(sim.clients(), 1);
        let mut departed = sim.take_departed();
        departed.sort_unstable();
        assert_eq!(departed.len(), 39);
        assert!(!departed.contains(&1));
    }
}
