//! `--file-size-kib`: which model moved files of about that size fastest, read off
//! file-pipeline's file-size sweep (its small, mixed and large inboxes, each at its mean file
//! size): the variants at the nearest measured size, best first, the winner's lead over the
//! runner-up by the interval rule, and how far the nearest size is from the reader's.

use serde::Serialize;

use super::measure::{NEAR_FILE_SIZE, factor};
use crate::{
    model::{claims::Outcome, figure::Better, format::Format, plan::TableId, variant::Model},
    report::{Report, RowReport, sweep::separation},
};

/// file-pipeline's sweep over its inboxes' file sizes (axis: mean file size in KiB).
pub const TABLE: TableId = TableId::new("mix");

#[derive(Debug, Serialize)]
pub struct Ranked {
    pub variant: String,
    pub model: Model,
    pub value: f64,
    /// The value as the table prints it (`320.1 MiB/s`).
    pub shown: String,
}

/// The answer at the measured file size nearest the reader's.
#[derive(Debug, Serialize)]
pub struct FileSizeAdvice {
    pub file_size_kib: f64,
    pub nearest_kib: f64,
    /// How many times larger or smaller the nearest measured size is.
    pub factor: f64,
    /// Within [`NEAR_FILE_SIZE`].
    pub near: bool,
    /// Every measured size, for the reader whose size is far from all of them.
    pub measured_kib: Vec<f64>,
    /// What the variants are ranked by.
    pub measure: String,
    pub ranking: Vec<Ranked>,
    /// The winner when it is clear of the runner-up by the interval rule.
    pub choice: Option<String>,
    /// The winner over the runner-up, run against run.
    pub margin: Option<String>,
}

/// `None` when the report has no file-size sweep or nothing ran in it.
pub fn advise(report: &Report, file_size_kib: f64) -> Option<FileSizeAdvice> {
    let table = report.table(TABLE)?;
    let (measure, better) = (&table.primary.measure, table.primary.better);
    let mut measured_kib: Vec<f64> = report.ran_in(TABLE).filter_map(|r| r.axis_value).collect();
    measured_kib.sort_by(f64::total_cmp);
    measured_kib.dedup();
    let nearest_kib =
        measured_kib.iter().copied().min_by(|a, b| factor(*a, file_size_kib).total_cmp(&factor(*b, file_size_kib)))?;
    let mut rows: Vec<(&RowReport, f64)> = report
        .ran_in(TABLE)
        .filter(|r| r.axis_value == Some(nearest_kib))
        .filter_map(|r| Some((r, r.value(measure)?)))
        .collect();
    rows.sort_by(|a, b| {
        let order = a.1.total_cmp(&b.1);
        if better == Better::Higher { order.reverse() } else { order }
    });
    let format = measure.format();
    let decision = match rows.as_slice() {
        [(w, _), (r, _), ..] => Some(separation(w, r, measure, better)),
        _ => None,
    };
    let clear = decision.as_ref().is_none_or(|d| d.outcome == Outcome::Held);
    let choice = rows.first().filter(|_| clear).map(|(w, _)| w.variant.clone());
    let ranking = rows
        .iter()
        .map(|(r, v)| Ranked { variant: r.variant.clone(), model: r.model, value: *v, shown: format.show(*v) })
        .collect();
    let factor = factor(nearest_kib, file_size_kib);
    Some(FileSizeAdvice {
        file_size_kib,
        nearest_kib,
        factor,
        near: factor <= NEAR_FILE_SIZE,
        measured_kib,
        measure: measure.name(),
        ranking,
        choice,
        margin: decision.and_then(|d| d.describe()),
    })
}

/// The answer in lines of text, `from` (where the report was read) after the first.
pub fn text(a: &FileSizeAdvice, from: &str) -> String {
    let kib = |v: f64| format!("{} KiB", Format::Count.show(v));
    let mut out = format!(
        "Files of {}: the nearest size file-pipeline measured is {} ({:.1}x {}",
        kib(a.file_size_kib),
        kib(a.nearest_kib),
        a.factor,
        if a.nearest_kib >= a.file_size_kib { "larger" } else { "smaller" }
    );
    out += if a.near {
        ").\n"
    } else {
        "): not near. Its inboxes are fixed mixes (small, mixed, large), so no run measures other sizes: read this as the nearest evidence, not as your point.\n"
    };
    out += &format!("Read from {from}.\n");
    let runner = a.ranking.get(1);
    out += &match (&a.choice, a.ranking.first()) {
        (Some(choice), Some(best)) => format!(
            "Choose: {choice} ({}), {} by {}{}.\n",
            best.model,
            best.shown,
            a.measure,
            runner.map(|r| format!(" against {}'s {}", r.variant, r.shown)).unwrap_or_default()
        ),
        (None, Some(best)) => format!(
            "Too close to call between {} and {} by {}.\n",
            best.variant,
            runner.map(|r| r.variant.as_str()).unwrap_or("-"),
            a.measure
        ),
        (_, None) => "No variant ran at that size.\n".into(),
    };
    if let Some(margin) = &a.margin {
        out += &format!("Margin: {margin}.\n");
    }
    for r in &a.ranking {
        out += &format!("  {:<22} {:<10} {:>14}\n", r.variant, r.model.to_string(), r.shown);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Row, Table,
        model::plan::{Axis, Primary},
        report::verdicts::tests::{Demo, INFO, THROUGHPUT},
        testing::ReportBuilder,
    };

    /// Threads clearly ahead on small files, tasks clearly ahead on large ones.
    fn report() -> Report {
        let mut table = Table::new(TABLE, "mix");
        table.axis = Some(Axis::new("mean file size (KiB)").log());
        table.primary = Primary::higher(THROUGHPUT);
        for v in [Demo::Threads, Demo::Tasks] {
            for kib in [33.1, 8192.0] {
                table.rows.push(Row::at(v, kib, ()));
            }
        }
        ReportBuilder::new::<Demo>(&INFO, &(), vec![table])
            .figure(TABLE, (Demo::Threads, 33.1), THROUGHPUT, &[100.0, 101.0, 99.0, 100.0, 102.0])
            .figure(TABLE, (Demo::Tasks, 33.1), THROUGHPUT, &[50.0, 51.0, 49.0, 50.0, 52.0])
            .figure(TABLE, (Demo::Threads, 8192.0), THROUGHPUT, &[200.0, 201.0, 199.0, 200.0, 202.0])
            .figure(TABLE, (Demo::Tasks, 8192.0), THROUGHPUT, &[300.0, 301.0, 299.0, 300.0, 302.0])
            .build()
    }

    #[test]
    fn the_nearest_measured_size_answers_by_ratio_and_says_how_far_it_is() {
        let report = report();
        let small = advise(&report, 48.0).unwrap();
        assert_eq!((small.nearest_kib, small.near), (33.1, true));
        assert_eq!(small.choice.as_deref(), Some("threads"));
        assert!(small.margin.as_deref().is_some_and(|m| m.contains("interval")), "{:?}", small.margin);
        let large = advise(&report, 1024.0).unwrap();
        assert_eq!((large.nearest_kib, large.near, large.factor), (8192.0, false, 8.0));
        assert_eq!(large.choice.as_deref(), Some("tasks"));
        let said = text(&large, "the book");
        assert!(said.contains("not near") && said.contains("Choose: tasks"), "{said}");
    }

    #[test]
    fn a_report_without_the_sweep_has_no_answer() {
        assert!(advise(&crate::report::verdicts::tests::report(), 64.0).is_none());
    }
}
