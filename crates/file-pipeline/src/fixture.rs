//! The set-up: every inbox the selected rows read, generated once before any run, in the
//! directory the harness gives the case (and removes at the end, however the run ends).

use std::path::{Path, PathBuf};

use anyhow::Context;
use casebook::{Plan, Setup};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use crate::inbox::generate::{self, Mix};
use crate::params::{InboxRole, Params, Spec};

/// Where the set-up put each inbox.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Shared(Vec<(InboxRole, PathBuf)>);

impl Shared {
    pub fn inbox(&self, role: InboxRole) -> anyhow::Result<&Path> {
        let found = self.0.iter().find(|(r, _)| *r == role).map(|(_, path)| path.as_path());
        found.with_context(|| format!("the set-up made no {role:?} inbox"))
    }
}

/// Generates the inboxes that the rows still to run need, and no other.
pub fn setup(params: &Params, plan: &Plan, dir: &Path) -> anyhow::Result<Setup<Shared>> {
    let roles: Vec<InboxRole> = plan
        .rows()
        .filter(|(_, row)| row.skipped.is_none())
        .filter_map(|(_, row)| serde_json::from_value::<Spec>(row.point.clone()).ok())
        .map(|spec| spec.inbox)
        .collect();
    let mut shared = Shared::default();
    let sweeps = Mix::value_variants().iter().map(|&mix| InboxRole::Sweep(mix));
    for role in std::iter::once(InboxRole::Main).chain(sweeps).filter(|role| roles.contains(role)) {
        let (spec, path) = match role {
            InboxRole::Main => (params.inbox, dir.join("inbox")),
            InboxRole::Sweep(mix) => (params.sweep_spec(mix), dir.join(format!("sweep-{}", mix.name()))),
        };
        generate::generate(&path, &spec, &casebook::interrupted)
            .with_context(|| format!("cannot generate the {} inbox", spec.mix.name()))?;
        shared.0.push((role, path));
    }
    Ok(Setup::new(shared))
}
