//! The books every live run must balance, checked after the runs: nothing lost without being
//! counted, nothing counted twice, vanished clients gone, every malformed datagram counted.
//! Each returned line is a failure and fails the run.

use std::collections::BTreeSet;

use casebook::{Figure, Report, RowKey, VariantSet, report::record::RunRecord};

use crate::{
    figures::*,
    net::protocol::{DecodeError, Transport},
    params::Params,
    tables::{ABUSE, CLIENTS, HEAVY},
    variants::Variant,
};

pub fn check(params: &Params, report: &Report) -> Vec<String> {
    let mut failures = Vec::new();
    // Every client count a clients row can sit at: the sweep's (and `--clients`, for reports
    // from before the sweep held every row).
    let points: BTreeSet<u32> = params.sweep.iter().copied().chain([params.clients]).collect();
    for table in [CLIENTS, HEAVY, ABUSE] {
        for &variant in Variant::ALL {
            let keys: Vec<RowKey> = match table {
                CLIENTS => points.iter().map(|c| (variant, f64::from(*c)).into()).collect(),
                _ => vec![variant.into()],
            };
            for row in keys.into_iter().filter_map(|key| report.need(table, key).ok()) {
                for (i, run) in row.runs.iter().enumerate() {
                    let mut fail =
                        |what: String| failures.push(format!("{table} / {} run {}: {what}", row.label, i + 1));
                    if let Err(missing) = balance(run, table == ABUSE, variant.transport(), &mut fail) {
                        fail(format!("{} was not recorded", missing.key));
                    }
                }
            }
        }
    }
    failures
}

fn balance(run: &RunRecord, abuse: bool, transport: Transport, fail: &mut impl FnMut(String)) -> Result<(), Figure> {
    let get = |f: Figure| run.figure(f).ok_or(f);
    let (built, sent, dropped, errors) =
        (get(SNAPSHOTS_BUILT)?, get(SNAPSHOTS_SENT)?, get(SNAPSHOTS_DROPPED)?, get(SEND_ERRORS)?);
    if sent + dropped + errors > built {
        fail(format!("{sent} snapshots sent + {dropped} dropped + {errors} failed is more than the {built} built"));
    }
    let received = get(SNAPSHOTS_RECEIVED)?;
    if received > sent {
        fail(format!("the bots received {received} snapshots, more than the {sent} sent"));
    }
    let (bots, joined, vanished) = (get(BOTS)?, get(JOINED)?, get(VANISHED)?);
    let (timed_out, left) = (get(TIMED_OUT)?, get(LEFT)?);
    // A client the server dropped while it was still playing (an overloaded server missing
    // its inputs for the whole time-out) misses snapshots nobody built; only without such
    // drops must every gap be a counted drop.
    let lost = get(LOST)?;
    let explained = dropped + errors + run.figure(BOT_KERNEL_DROPS).unwrap_or(0.0);
    if timed_out <= vanished && lost > explained {
        fail(format!("the bots lost {lost} snapshots, but only {explained} drops were counted"));
    }
    if get(CONNECT_FAILURES)? > 0.0 {
        fail(format!("{} bots could not connect", get(CONNECT_FAILURES)?));
    }
    // A bot rejoins after the server dropped it: every join past the first needs a drop.
    if joined > bots + timed_out + left {
        fail(format!("{joined} clients joined, more than {bots} bots plus {} dropped and rejoined", timed_out + left));
    }
    if get(BOT_MALFORMED)? > 0.0 {
        fail(format!("the bots received {} snapshots that were malformed or not theirs", get(BOT_MALFORMED)?));
    }
    if !abuse {
        return Ok(());
    }
    // A silent client is dropped by whichever limit fires first: the simulation's time-out,
    // counted in ticks, or (TCP) the connection's silence limit, counted in wall time. The
    // second is set to twice the first, but when the ticks run late (a thread pair for each
    // of a thousand clients on two cores) the wall clock gets there first.
    let closed_silent = run.figure(CLOSED_SILENT).unwrap_or(0.0);
    if timed_out + closed_silent < vanished {
        fail(format!(
            "{vanished} bots vanished but only {timed_out} clients timed out and {closed_silent} connections were closed for silence"
        ));
    }
    if get(CLIENTS_AT_END)? > bots - vanished {
        fail(format!(
            "{} clients left at the end, more than the {} bots still there",
            get(CLIENTS_AT_END)?,
            bots - vanished
        ));
    }
    if run.figure(REPLAY_MATCHES) != Some(1.0) {
        fail("replaying the run's input log did not rebuild the world it ended with".into());
    }
    if transport == Transport::Udp {
        let flood = get(FLOOD_SENT)?;
        if flood == 0.0 {
            fail("no malformed datagram was sent".into());
        }
        for kind in DecodeError::KINDS {
            let (counted, sent) = (get(MALFORMED_BY_KIND[kind.index()])?, get(FLOOD_BY_KIND[kind.index()])?);
            if counted > sent {
                fail(format!("{counted} {} datagrams counted, but only {sent} sent", kind.name()));
            }
        }
        let counted = get(MALFORMED)? + run.figure(SERVER_KERNEL_DROPS).unwrap_or(0.0);
        if counted < flood {
            fail(format!("{flood} malformed datagrams sent, only {counted} counted or dropped by the kernel"));
        }
    }
    Ok(())
}
