//! The set-up: every inbox the selected rows read, generated once before any run, in the
//! directory the harness gives the case (and removes at the end, however the run ends).

use std::path::{Path, PathBuf};

use anyhow::Context;
use casebook::{Plan, Setup};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use crate::inbox::generate::{self, InboxSpec, Mix};
use crate::params::{InboxRole, Params, Spec};

/// Where the set-up put each inbox.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Shared {
    pub main: Option<PathBuf>,
    pub sweeps: Vec<(Mix, PathBuf)>,
}

impl Shared {
    pub fn inbox(&self, role: InboxRole) -> anyhow::Result<&Path> {
        match role {
            InboxRole::Main => self.main.as_deref(),
            InboxRole::Sweep(mix) => self.sweeps.iter().find(|(m, _)| *m == mix).map(|(_, p)| p.as_path()),
        }
        .with_context(|| format!("the set-up made no {role:?} inbox"))
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
    let write = |spec: &InboxSpec, name: &str| -> anyhow::Result<PathBuf> {
        let path = dir.join(name);
        generate::generate(&path, spec, &casebook::interrupted)
            .with_context(|| format!("cannot generate the {} inbox", spec.mix.name()))?;
        Ok(path)
    };
    let mut shared = Shared::default();
    if roles.contains(&InboxRole::Main) {
        shared.main = Some(write(&params.inbox, "inbox")?);
    }
    for &mix in Mix::value_variants() {
        if roles.contains(&InboxRole::Sweep(mix)) {
            shared.sweeps.push((mix, write(&params.sweep_spec(mix), &format!("sweep-{}", mix.name()))?));
        }
    }
    Ok(Setup::new(shared))
}
