//! `casebook summary`: one screen over every case's report: did its checks pass, who was
//! fastest against the baseline (or the case's first verdict), how the claims came out.

use comfy_table::{ContentArrangement, Table, presets};

use crate::{model::format::format_value, report::Report};

pub fn summary(reports: &[Report]) -> String {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    table.set_header(vec!["case", "run", "checks", "headline", "claims"]);
    for report in reports {
        let fastest: Vec<String> = report
            .tables
            .iter()
            // Only tables that race variants against a baseline have a meaningful "best".
            .filter(|t| t.axis.is_none() && t.baseline.is_some())
            .filter_map(|t| {
                let (measure, better) = (&t.primary.measure, t.primary.better);
                let best = report
                    .ran_in(t)
                    .filter_map(|r| Some((r, r.value(measure)?)))
                    .reduce(|a, b| if better.prefers(b.1, a.1) { b } else { a })?;
                let versus = report
                    .baseline_of(best.0)
                    .and_then(|b| b.value(measure))
                    .map(|b| format!(", {:.2}x the baseline", better.gain(best.1, b)))
                    .unwrap_or_default();
                Some(format!("{}: {} {}{versus}", t.id, best.0.label, format_value(best.1, measure.format())))
            })
            .collect();
        // Cases that measure costs or accounting rather than speed lead with their first verdict.
        let headline = if fastest.is_empty() {
            // An accounting line only says the books balanced (the checks column says that too).
            let mut verdicts = report.verdicts.iter();
            let first = verdicts.clone().find(|v| !v.starts_with("accounting")).or(verdicts.next());
            first.map(|v| shorten(v, 110)).unwrap_or_default()
        } else {
            fastest.join("\n")
        };
        let (held, not, unsure) = report.claim_counts();
        table.add_row(vec![
            report.case.clone(),
            format!("{}, {} runs/row, {}", report.preset, report.repeat, report.env.commit),
            if report.correctness.ok { "passed".to_string() } else { "FAILED".to_string() },
            headline,
            format!("{held} held, {not} did not, {unsure} inconclusive"),
        ]);
    }
    // Reports from different machines or commits must not hide under one machine line.
    let mut machines: Vec<String> = reports.iter().map(|r| r.env.line_without_date()).collect();
    machines.dedup();
    let header = if machines.len() == 1 {
        format!("machine: {}", machines[0])
    } else {
        reports
            .iter()
            .map(|r| format!("machine ({}): {}", r.case, r.env.line_without_date()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!("{header}\n{table}\n")
}

fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(limit).collect::<String>())
    }
}
