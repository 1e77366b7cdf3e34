//! `casebook claims`: every framework claim with its outcome in each case that tests it, and
//! the combined outcome: the table the book's claims page is.

use crate::{model::claims::ClaimId, report::Report, tool::book::claims::combined};

pub fn claims_table(reports: &[Report]) -> String {
    let mut out = String::from("| id | claim | outcome here | per case |\n|---|---|---|---|\n");
    for id in ClaimId::ALL {
        let mut outcomes = Vec::new();
        let mut per_case = Vec::new();
        for report in reports {
            for claim in report.claims.iter().filter(|c| c.id == *id) {
                outcomes.push(claim.outcome);
                let reading = claim.reading.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
                per_case.push(format!("[{}](cases/{}.md){reading}: {}", report.case, report.case, claim.outcome));
            }
        }
        let per_case = if per_case.is_empty() { "not tested yet".to_string() } else { per_case.join("; ") };
        out += &format!("| `{id}` | {} | {} | {per_case} |\n", id.text(), combined(&outcomes));
    }
    out
}
