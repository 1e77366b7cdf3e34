//! The load generator, in a process of its own: the audit's snapshot, every client
//! connected, then (when told to go) the load, then the audit's reconciliation.
//!
//! [`driver`]: the clients, closed and open loop, checking every reply. [`audit`]: the
//! books on writes, lost and doubled.

pub mod audit;
pub mod driver;

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpStream;

use crate::{
    load::{
        audit::{AuditDb, Reconciliation, Snapshot},
        driver::{Driven, LoadPlan, connect, drive},
    },
    store::fixture::Target,
    workload::{Mix, Workload, dataset::Dataset},
};

/// The load generator's whole life: audit, connect, (wait to be told to go), load, audit.
pub struct Generator {
    runtime: tokio::runtime::Runtime,
    audit: AuditDb,
    snapshot: Snapshot,
    workload: Workload,
    plan: LoadPlan,
    streams: Vec<TcpStream>,
}

/// What a load generator reports.
#[derive(Debug)]
pub struct LoadReport {
    pub driven: Driven,
    pub audit: Reconciliation,
}

impl Generator {
    /// Takes the audit's snapshot and opens every connection, so that the load, when it
    /// starts, is all load.
    pub fn prepare(
        addr: SocketAddr,
        target: &Target,
        dataset: Dataset,
        mix: Mix,
        plan: LoadPlan,
    ) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let mut audit = AuditDb::open(target)?;
        let snapshot = audit.begin().context("audit: cannot take the snapshot")?;
        let workload = Workload { dataset, mix, run_tag: snapshot.run_tag };
        let streams = runtime.block_on(connect(addr, plan.connections))?;
        Ok(Generator { runtime, audit, snapshot, workload, plan, streams })
    }

    /// Offers the load, then reconciles the writes.
    pub fn run(self) -> anyhow::Result<LoadReport> {
        let Generator { runtime, mut audit, snapshot, workload, plan, streams } = self;
        let driven = runtime.block_on(drive(streams, workload, plan));
        // Close every client connection before the audit: the server sees its load end.
        drop(runtime);
        let reconciliation =
            audit.reconcile(&snapshot, &workload, &driven.acked).context("audit: cannot reconcile the writes")?;
        Ok(LoadReport { driven, audit: reconciliation })
    }
}
