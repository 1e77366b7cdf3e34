//! The anchor row: `pgbench` running the same point read on the same table, with the same
//! client count, against the same server, in the same run.
//!
//! `pgbench -S` would read its own `pgbench_accounts`; a custom script (`-f`) reads ours
//! instead: `\set aid random(1, accounts)` and the variants' point-read statement, prepared
//! (`-M prepared`), as every variant's is. Its figure is what a C client with one connection
//! per client and no service in between gets out of this server: the ceiling the variants are
//! held against.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::store::postgres::{self, PgTarget};

/// What one `pgbench` run reported.
#[derive(Clone, Debug, PartialEq)]
pub struct PgbenchRun {
    /// Transactions (here: point reads) per second, without connection time.
    pub tps: f64,
    pub transactions: u64,
    pub latency_avg_ms: Option<f64>,
    pub failed: u64,
}

/// The script, derived from the variants' own statement so the two cannot drift apart.
pub fn script(accounts: i64) -> String {
    format!("\\set aid random(1, {accounts})\n{};\n", postgres::POINT.replace("$1", ":aid"))
}

/// Whether `pgbench` can be run here, and if not, why (for a skipped row).
pub fn available() -> Result<(), String> {
    match Command::new("pgbench").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("pgbench --version failed ({s})")),
        Err(_) => Err("no pgbench on PATH".into()),
    }
}

/// Transactions per client per second of a short run: `pgbench -T` counts whole seconds, so a
/// run shorter than one is given a transaction count instead, sized for a few hundred ms.
const SHORT_RUN_TPS_PER_CLIENT: f64 = 2000.0;

/// Runs `pgbench` for about `duration` with `clients` clients on `threads` threads: `-T`
/// whole seconds from one second up, `-t` transactions per client below. The script goes to
/// `dir`.
pub fn run(
    db: &PgTarget,
    accounts: i64,
    clients: usize,
    threads: usize,
    duration: Duration,
    dir: &Path,
) -> anyhow::Result<PgbenchRun> {
    let path: PathBuf = dir.join("point-read.pgbench");
    std::fs::write(&path, script(accounts)).with_context(|| format!("cannot write {}", path.display()))?;
    let length = if duration >= Duration::from_secs(1) {
        ["-T".to_string(), (duration.as_secs_f64().round() as u64).to_string()]
    } else {
        ["-t".to_string(), ((duration.as_secs_f64() * SHORT_RUN_TPS_PER_CLIENT).ceil().max(100.0) as u64).to_string()]
    };
    let mut command = Command::new("pgbench");
    command
        .args(["-n", "-M", "prepared", "-f"])
        .arg(&path)
        .args(["-c", &clients.to_string(), "-j", &threads.clamp(1, clients.max(1)).to_string()])
        .args(&length)
        .env("PGHOST", &db.host)
        .env("PGPORT", db.port.to_string())
        .env("PGUSER", &db.user)
        .env("PGDATABASE", &db.dbname)
        .env("PGAPPNAME", "casebook-db-queries-pgbench")
        // The variants' own settings, and no TLS, as theirs: the anchor is held to the same terms.
        .env("PGOPTIONS", db.options(db.statement_timeout))
        .env("PGSSLMODE", "disable")
        .env("PGCONNECT_TIMEOUT", postgres::CONNECT_TIMEOUT.as_secs().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = &db.password {
        command.env("PGPASSWORD", p);
    }
    // It dies with the run, however the run ends.
    casebook::run::process::tie_to_run(&mut command);
    let started = Instant::now();
    let child = command.spawn().context("cannot start pgbench")?;
    let output = child.wait_with_output().context("pgbench did not finish")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let why = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        bail!("pgbench failed after {:.1} s ({}): {why}", started.elapsed().as_secs_f64(), output.status);
    }
    parse(&stdout).with_context(|| format!("cannot read pgbench's output:\n{stdout}"))
}

/// Reads the summary `pgbench` prints.
pub fn parse(stdout: &str) -> anyhow::Result<PgbenchRun> {
    let after = |prefix: &str| stdout.lines().find_map(|l| l.trim().strip_prefix(prefix).map(str::trim));
    // `61234`, or `400/400` when run for a number of transactions.
    let first_number =
        |s: &str| s.split_whitespace().next().and_then(|w| w.split('/').next()).and_then(|w| w.parse::<f64>().ok());
    let tps = after("tps = ").and_then(first_number).context("no `tps = ` line")?;
    let transactions =
        after("number of transactions actually processed:").and_then(first_number).context("no transaction count")?;
    Ok(PgbenchRun {
        tps,
        transactions: transactions as u64,
        latency_avg_ms: after("latency average = ").and_then(first_number),
        failed: after("number of failed transactions:").and_then(first_number).unwrap_or(0.0) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_reads_our_table_with_our_statement() {
        assert_eq!(script(100), "\\set aid random(1, 100)\nSELECT id, owner, balance FROM accounts WHERE id = :aid;\n");
    }

    #[test]
    fn the_summary_parses() {
        let out = "transaction type: point-read.pgbench
scaling factor: 1
query mode: prepared
number of clients: 16
number of threads: 2
maximum number of tries: 1
duration: 2 s
number of transactions actually processed: 61234
number of failed transactions: 0 (0.000%)
latency average = 0.521 ms
initial connection time = 12.345 ms
tps = 30701.123456 (without initial connection time)
";
        let run = parse(out).unwrap();
        assert_eq!(run, PgbenchRun { tps: 30701.123456, transactions: 61234, latency_avg_ms: Some(0.521), failed: 0 });
        assert!(parse("nothing useful").is_err());
        let counted = out.replace("processed: 61234", "processed: 400/400");
        assert_eq!(parse(&counted).unwrap().transactions, 400);
    }
}
