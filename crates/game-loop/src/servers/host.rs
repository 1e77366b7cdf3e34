//! The part of a server every variant shares: the simulation with its inbox, and the table
//! from client id to the route its snapshots take (an address for UDP, a connection's queue
//! for TCP). Variants differ in where this runs and how inputs reach it, not in what it does.

use std::collections::HashMap;

use crate::{
    net::protocol::Input,
    servers::spec::ServerSpec,
    sim::simulation::{Event, Inbox, Sim, SimConfig},
};

pub struct Host<R> {
    pub sim: Sim,
    inbox: Inbox<R>,
    routes: HashMap<u32, R>,
    fresh: Vec<(u32, R)>,
    events: Vec<Event>,
}

impl<R> Host<R> {
    pub fn new(spec: &ServerSpec, how: SimConfig) -> Self {
        let sim = Sim::new(spec.world, how, spec.record_log);
        Host { sim, inbox: Inbox::default(), routes: HashMap::new(), fresh: Vec::new(), events: Vec::new() }
    }

    /// An input that arrived by `route`; the newest per client is applied at the next tick.
    pub fn input(&mut self, input: Input, route: R) {
        self.inbox.input(input, route);
    }

    pub fn leave(&mut self, client: u32) {
        self.inbox.leave(client);
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
                self.routes.insert(client, route);
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
