//! The case's options, the sizes they resolve to for every run, and what a row runs besides
//! its variant ([`Spec`]).

use casebook::{Preset, UsageError, model::plan::in_range};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use crate::inbox::generate::{InboxSpec, Mix};
use crate::pipelines::{Capacity, Settings};
use crate::work::Work;

/// The tables a run can measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TableKind {
    /// Batch mode at `--work`: throughput, memory, threads, CPU.
    Batch,
    /// Batch mode hashing only, beside `b3sum`.
    Hash,
    /// Watch mode: a producer at `--watch-rate`, latency to the manifest.
    Watch,
    /// The channel capacity sweep (threads, hybrid).
    Capacity,
    /// The file size mix sweep (every variant, each mix).
    Mix,
}

/// Options of this case, on top of the harness's own.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Args {
    /// What to do to each file in the batch, watch and sweep tables [default: both].
    #[arg(long, value_name = "hash|compress|both", help_heading = "Case")]
    pub work: Option<Work>,
    /// The inbox's file sizes: small (4-64 KiB), large (1-16 MiB) or mixed (half the bytes
    /// each) [default: mixed].
    #[arg(long, value_name = "small|large|mixed", help_heading = "Case")]
    pub mix: Option<Mix>,
    /// Size of the inbox, in MiB [default: quick 4, default 96, full 2048].
    #[arg(long, value_name = "MIB", help_heading = "Case")]
    pub inbox_mib: Option<u64>,
    /// Size of each sweep inbox, in MiB [default: quick 2, default 24, full 512].
    #[arg(long, value_name = "MIB", help_heading = "Case")]
    pub sweep_mib: Option<u64>,
    /// Seed of the generated inboxes [default: 1].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub seed: Option<u64>,
    /// Capacity of the channels between stages outside the capacity sweep: a number, or
    /// `unbounded` [default: 16].
    #[arg(long, value_name = "N|unbounded", help_heading = "Case")]
    pub capacity: Option<Capacity>,
    /// Capacities the sweep measures [default: 0,1,16,256,unbounded].
    #[arg(long, value_delimiter = ',', value_name = "LIST", help_heading = "Case")]
    pub capacities: Option<Vec<Capacity>>,
    /// Files an async coordinator works on at once [default: 16].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub in_flight: Option<usize>,
    /// Files per second the watch-mode producer writes [default: 500].
    #[arg(long, value_name = "FILES_PER_S", help_heading = "Case")]
    pub watch_rate: Option<f64>,
    /// Files the producer writes per watch run [default: quick 40, default 250, full 5000].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub watch_files: Option<usize>,
    /// Which tables to measure [default: all].
    #[arg(long, value_enum, value_delimiter = ',', value_name = "LIST", help_heading = "Case")]
    pub tables: Option<Vec<TableKind>>,
}

/// The resolved sizes every child run receives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub inbox: InboxSpec,
    /// Files the main inbox holds (known from the seed before it is written).
    pub files: usize,
    /// One inbox per mix for the mix sweep; the capacity sweep uses the one of `inbox.mix`.
    pub sweep_bytes: u64,
    pub settings: Settings,
    pub capacities: Vec<Capacity>,
    pub watch_rate: f64,
    pub watch_files: usize,
    pub tables: Vec<TableKind>,
    /// Measured runs per row: the batch table, the hash table (its runs are a tenth of a
    /// second from the page cache, so a few more of them steady the paired ratios that
    /// `async-io` reads at little cost), the capacity sweep (its claims pair runs, so at least
    /// two by default), the mix sweep (read for its leaders only) and the watch table (whose
    /// runs last as long as the producer does).
    pub repeat: usize,
    pub hash_repeat: usize,
    pub sweep_repeat: usize,
    pub mix_repeat: usize,
    pub watch_repeat: usize,
}

impl Params {
    pub fn runs(&self, table: TableKind) -> bool {
        self.tables.contains(&table)
    }

    pub fn sweep_spec(&self, mix: Mix) -> InboxSpec {
        InboxSpec { seed: self.inbox.seed, total_bytes: self.sweep_bytes, mix }
    }

    /// A row at the run's work and capacity: a table's rows differ from it in one thing at most.
    pub fn spec(&self, mode: Mode, inbox: InboxRole) -> Spec {
        Spec { mode, work: self.settings.work, capacity: self.settings.capacity, inbox }
    }
}

/// What one row runs besides its variant.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub mode: Mode,
    pub work: Work,
    pub capacity: Capacity,
    /// Which generated inbox: the main one, or the sweep inbox of a mix.
    pub inbox: InboxRole,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Batch,
    Watch,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InboxRole {
    Main,
    Sweep(Mix),
}

const MIB: u64 = 1 << 20;
const MAX_MIB: u64 = 64 * 1024;

pub fn resolve(args: &Args, preset: Preset) -> Result<Params, UsageError> {
    let (inbox_mib, sweep_mib, watch_files, repeat, hash_repeat, sweep_repeat, mix_repeat, watch_repeat) = match preset
    {
        Preset::Quick => (4, 2, 40, 2, 2, 1, 1, 1),
        // Sized so that the default run fits three minutes on 2 cores, the slower AMD EPYC VM
        // included. The tables the claims read take 9 runs, the fewest whose interval leaves
        // out the outermost run at each end, so that one run slowed by the host cannot
        // straddle the line on its own. With 5 runs, watch readings near their line moved
        // between two default runs in a row (spawn-blocking's watch ratio went from 5.39x,
        // 94% interval 1.82x to 9.44x, to 3.13x, 1.17x to 6.22x). A batch run lasts under a
        // second; a watch run of 320 files at 500 files/s lasts 0.64 s, and its p99 is its
        // four latest files. A hash-only run reads the inbox from the page cache in about
        // 30 ms, too short for one run to be steady (threads' rate moved by a fifth from run
        // to run on an Intel Xeon VM), so that table takes 19 runs, whose interval leaves out
        // the four outermost at each end: with 9, tokio::fs's hash-only reading moved between
        // did not hold and inconclusive in two default runs in a row.
        Preset::Default => (48, 24, 320, 9, 19, 3, 3, 9),
        Preset::Full => (2048, 512, 5000, 5, 9, 3, 3, 5),
    };
    let inbox_bytes = in_range("inbox-mib", args.inbox_mib.unwrap_or(inbox_mib), 1, MAX_MIB)? * MIB;
    let sweep_bytes = in_range("sweep-mib", args.sweep_mib.unwrap_or(sweep_mib), 1, MAX_MIB)? * MIB;
    let inbox =
        InboxSpec { seed: args.seed.unwrap_or(1), total_bytes: inbox_bytes, mix: args.mix.unwrap_or(Mix::Mixed) };
    let files = inbox.sizes().len();
    let in_flight = in_range("in-flight", args.in_flight.unwrap_or(16) as u64, 1, 4096)? as usize;
    let capacity = args.capacity.unwrap_or(Capacity::Bounded(16));
    let capacities = args
        .capacities
        .clone()
        .unwrap_or_else(|| [0, 1, 16, 256].map(Capacity::Bounded).into_iter().chain([Capacity::Unbounded]).collect());
    for c in capacities.iter().chain([&capacity]) {
        if let Capacity::Bounded(n) = c {
            in_range("capacity", *n as u64, 0, 1 << 20)?;
        }
    }
    let watch_rate = args.watch_rate.unwrap_or(500.0);
    if !(1.0..=100_000.0).contains(&watch_rate) {
        return Err(UsageError::new(format!("--watch-rate must be between 1 and 100000 files/s, got {watch_rate}")));
    }
    let watch_files = in_range("watch-files", args.watch_files.unwrap_or(watch_files) as u64, 1, 1_000_000)? as usize;
    let mut tables = args.tables.clone().unwrap_or_else(|| TableKind::value_variants().to_vec());
    tables.dedup();
    if watch_files > files && tables.contains(&TableKind::Watch) {
        return Err(UsageError::new(format!(
            "--watch-files {watch_files} is more than the {files} files of the inbox; raise --inbox-mib or lower it"
        )));
    }
    let settings = Settings {
        work: args.work.unwrap_or(Work::Both),
        capacity,
        in_flight,
        // Watch mode: a second's worth of files at the set rate may wait for the pipeline.
        intake: (watch_rate.ceil() as usize).max(64),
        ..Settings::default()
    };
    Ok(Params {
        inbox,
        files,
        sweep_bytes,
        settings,
        capacities,
        watch_rate,
        watch_files,
        tables,
        repeat,
        hash_repeat,
        sweep_repeat,
        mix_repeat,
        watch_repeat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_resolve_and_bad_sizes_are_usage_errors() {
        let quick = resolve(&Args::default(), Preset::Quick).expect("quick");
        assert_eq!((quick.inbox.total_bytes, quick.inbox.mix, quick.settings.work), (4 * MIB, Mix::Mixed, Work::Both));
        assert!(quick.files > quick.watch_files);
        assert_eq!(quick.tables, TableKind::value_variants());
        let default = resolve(&Args::default(), Preset::Default).expect("default");
        assert_eq!(default.inbox.total_bytes, 48 * MIB);
        assert!(default.files > default.watch_files, "the watch table copies part of the inbox");
        assert_eq!(default.capacities.len(), 5);
        let bad = |args: Args| resolve(&args, Preset::Quick).expect_err("a usage error").0;
        assert!(bad(Args { inbox_mib: Some(0), ..Args::default() }).contains("--inbox-mib"));
        assert!(bad(Args { watch_files: Some(1_000_000), ..Args::default() }).contains("more than the"));
        assert!(
            bad(Args { mix: Some(Mix::Large), inbox_mib: Some(1), ..Args::default() })
                .contains("more than the 1 files")
        );
        assert!(bad(Args { watch_rate: Some(0.0), ..Args::default() }).contains("--watch-rate"));
        assert!(bad(Args { in_flight: Some(0), ..Args::default() }).contains("--in-flight"));
    }
}
