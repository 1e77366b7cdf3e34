//! The part of a server every variant shares: the simulation with its inbox, and the table
//! from client id to the route its snapshots take (an address for UDP, a connection's queue
//! for TCP). Variants differ in where this runs and how inputs reach it, not in what it does.

use std::{collections::HashMap, net::SocketAddr};

use crate::{
    net::protocol::Input,
    servers::spec::ServerSpec,
    sim::simulation::{Event, Inbox, Sim, SimConfig},
};

/// How a client's snapshots reach it, and whether two routes are the same one: a client id
/// belongs to the route it joined by, so that a datagram from another port (or a frame on
/// another connection) claiming that id cannot take the client's snapshots or its inputs.
pub trait ClientRoute {
    fn same(&self, other: &Self) -> bool;
}

impl ClientRoute for SocketAddr {
    fn same(&self, other: &Self) -> bool {
        self == other
    }
}

impl ClientRoute for flume::Sender<Vec<u8>> {
    fn same(&self, other: &Self) -> bool {
        self.same_channel(other)
    }
}

pub struct Host<R> {
    pub sim: Sim,
    inbox: Inbox<R>,
    routes: HashMap<u32, R>,
    fresh: Vec<(u32, R)>,
    events: Vec<Event>,
    /// Inputs and goodbyes that claimed a client id held by another route: dropped.
    pub wrong_route: u64,
}

impl<R: ClientRoute> Host<R> {
    /// Builds the world: before the measured region, so that no variant's figures carry it.
    pub fn new(spec: &ServerSpec, how: SimConfig) -> Self {
        let sim = Sim::new(spec.world, how, spec.record_log);
        let (routes, fresh, events) = (HashMap::new(), Vec::new(), Vec::new());
        Host { sim, inbox: Inbox::default(), routes, fresh, events, wrong_route: 0 }
    }

    /// Whether `route` may speak for `client`: it is the client's own, or the client has none.
    fn owns(&mut self, client: u32, route: &R) -> bool {
        let owns = self.routes.get(&client).is_none_or(|held| held.same(route));
        self.wrong_route += u64::from(!owns);
        owns
    }

    /// An input that arrived by `route`; the newest per client is applied at the next tick.
    pub fn input(&mut self, input: Input, route: R) {
        if self.owns(input.client, &route) {
            self.inbox.input(input, route);
        }
    }

    /// A connection that spoke for `client` closed.
    pub fn leave(&mut self, client: u32, route: &R) {
        if self.owns(client, route) {
            self.inbox.leave(client);
        }
    }

    /// Runs one tick and hands each client's snapshot to `send` with its route. A route is
    /// learnt only for a client the simulation let in, and forgotten when it leaves, so the
    /// table cannot grow past `max_clients` whatever ids arrive.
    pub fn tick(&mut self, mut send: impl FnMut(&R, Vec<u8>)) {
        let fresh = &mut self.fresh;
        self.inbox.take(&mut self.events, |client, route| fresh.push((client, route)));
        self.sim.step(&self.events);
        for (client, route) in self.fresh.drain(..) {
            if self.sim.has_client(client) {
                self.routes.entry(client).or_insert(route);
            }
        }
        for client in self.sim.take_departed() {
            self.routes.remove(&client);
        }
        let routes = &self.routes;
        self.sim.take_snapshots(|client, bytes| {
            if let Some(route) = routes.get(&client) {
                send(route, bytes);
            }
        });
    }

    /// Drops every route (for TCP, the connections' queue senders), so that whatever waits
    /// on them ends.
    pub fn forget_routes(&mut self) {
        self.routes.clear();
    }
}
