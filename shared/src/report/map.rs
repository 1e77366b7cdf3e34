//! Maps: sweeps of one axis, one per value of a second axis, read together as a grid
//! (requests in flight down, CPU per request across, say). Each cell names the variant that
//! did best on the tables' primary measure, how far ahead of the runner-up it was by the
//! interval rule (or "too close to call"), its tail beside it, and whether that tail is over
//! twice the runner-up's. Where the winner changes along a row is a boundary, stated in
//! numbers. The grid, the boundaries and the heatmap are drawn from here, never typed.

use serde::{Deserialize, Serialize};

use crate::{
    model::{
        claims::Outcome,
        figure::{Better, Measure},
        format::{Format, format_count},
        plan::Table,
        variant::Model,
    },
    report::{Report, RowReport, sweep::separation},
};

/// A cell whose winner's tail is more than this many times the runner-up's says so.
pub const TAIL_FLAG: f64 = 2.0;

/// One map of a report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Map {
    pub id: String,
    /// The axis every table sweeps (across).
    pub x_axis: String,
    /// The axis that tells the tables apart (down).
    pub y_axis: String,
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    /// What the winner is judged by, and how it prints.
    pub measure: String,
    pub format: Format,
    pub cells: Vec<Cell>,
}

/// One point of the grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub x: f64,
    pub y: f64,
    pub table: String,
    /// Every variant that ran here with its value, best first.
    pub ranking: Vec<Entry>,
    /// The best variant, and whether it is clear of the runner-up.
    pub winner: Option<Entry>,
    pub runner_up: Option<Entry>,
    /// Winner over runner-up, run against run: held when the whole interval is above 1.
    pub separated: Outcome,
    /// `1.32x, 97% interval 1.20x to 1.41x, 6 runs`.
    pub margin: Option<String>,
    /// The winner's tail is over [`TAIL_FLAG`] times the runner-up's.
    pub tail_warning: bool,
}

/// A variant's showing in a cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub variant: String,
    pub model: Model,
    pub value: f64,
    /// The map's tail quantile, when the tables name one.
    pub tail: Option<f64>,
}

impl Cell {
    /// "hybrid by 1.32x", "too close to call (hybrid, threads)", or "–".
    pub fn verdict(&self) -> String {
        match (&self.winner, &self.runner_up, self.separated) {
            (None, _, _) => "–".into(),
            (Some(w), None, _) => format!("{} (alone)", w.variant),
            (Some(w), Some(r), Outcome::Held) => {
                format!("{} by {}", w.variant, Format::Ratio.show(ratio(w.value, r.value, self.better())))
            }
            (Some(w), Some(r), _) => format!("too close to call ({}, {})", w.variant, r.variant),
        }
    }

    fn better(&self) -> Better {
        match self.ranking.as_slice() {
            [a, b, ..] if a.value < b.value => Better::Lower,
            _ => Better::Higher,
        }
    }

    /// The winner when it is clear of the runner-up.
    pub fn clear_winner(&self) -> Option<&Entry> {
        (self.separated == Outcome::Held || self.runner_up.is_none()).then_some(self.winner.as_ref()).flatten()
    }
}

fn ratio(a: f64, b: f64, better: Better) -> f64 {
    better.gain(a, b)
}

/// Every map the report's tables form, in the order their first table appears.
pub fn maps(report: &Report) -> Vec<Map> {
    let mut ids: Vec<&str> = Vec::new();
    for table in &report.tables {
        if let Some(place) = &table.map
            && !ids.contains(&place.map.as_str())
        {
            ids.push(&place.map);
        }
    }
    ids.into_iter().filter_map(|id| map(report, id)).collect()
}

fn map(report: &Report, id: &str) -> Option<Map> {
    let tables: Vec<&Table> = report.tables.iter().filter(|t| t.map.as_ref().is_some_and(|m| m.map == id)).collect();
    let first = tables.first()?;
    let place = first.map.as_ref()?;
    let mut cells = Vec::new();
    let mut xs: Vec<f64> = Vec::new();
    let mut ys: Vec<f64> = Vec::new();
    for table in &tables {
        let y = table.map.as_ref()?.value;
        push_sorted(&mut ys, y);
        let tail = table.map.as_ref().and_then(|m| m.tail.clone());
        let mut at: Vec<f64> = report.ran_in(*table).filter_map(|r| r.axis_value).collect();
        at.sort_by(f64::total_cmp);
        at.dedup();
        for x in at {
            push_sorted(&mut xs, x);
            let rows: Vec<&RowReport> = report.ran_in(*table).filter(|r| r.axis_value == Some(x)).collect();
            cells.push(cell(table, x, y, &rows, tail.as_ref()));
        }
    }
    Some(Map {
        id: id.into(),
        x_axis: first.axis.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
        y_axis: place.axis.clone(),
        xs,
        ys,
        measure: first.primary.measure.name(),
        format: first.primary.measure.format(),
        cells,
    })
}

fn push_sorted(values: &mut Vec<f64>, value: f64) {
    if !values.contains(&value) {
        values.push(value);
        values.sort_by(f64::total_cmp);
    }
}

fn cell(table: &Table, x: f64, y: f64, rows: &[&RowReport], tail: Option<&Measure>) -> Cell {
    let (measure, better) = (&table.primary.measure, table.primary.better);
    let mut ranking: Vec<(&RowReport, Entry)> = rows
        .iter()
        .filter_map(|r| {
            let value = r.value(measure)?;
            let tail = tail.and_then(|t| r.value(t));
            Some((*r, Entry { variant: r.variant.clone(), model: r.model, value, tail }))
        })
        .collect();
    ranking.sort_by(|a, b| {
        let order = a.1.value.total_cmp(&b.1.value);
        if better == Better::Higher { order.reverse() } else { order }
    });
    let separation = match ranking.as_slice() {
        [(w, _), (r, _), ..] => Some(separation(w, r, measure, better)),
        _ => None,
    };
    let tail_warning = match ranking.as_slice() {
        [(_, w), (_, r), ..] => matches!((w.tail, r.tail), (Some(a), Some(b)) if b > 0.0 && a > TAIL_FLAG * b),
        _ => false,
    };
    let entries: Vec<Entry> = ranking.into_iter().map(|(_, e)| e).collect();
    Cell {
        x,
        y,
        table: table.id.clone(),
        winner: entries.first().cloned(),
        runner_up: entries.get(1).cloned(),
        separated: separation.as_ref().map(|d| d.outcome).unwrap_or(Outcome::Held),
        margin: separation.and_then(|d| d.describe()),
        tail_warning,
        ranking: entries,
    }
}

impl Map {
    pub fn cell(&self, x: f64, y: f64) -> Option<&Cell> {
        self.cells.iter().find(|c| c.x == x && c.y == y)
    }

    /// The grid as Markdown: the second axis down, the swept axis across, a verdict per cell.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("| {} \\ {} |", self.y_axis, self.x_axis);
        for x in &self.xs {
            out += &format!(" {} |", format_count(*x));
        }
        out += "\n|---|";
        out += &"---|".repeat(self.xs.len());
        out += "\n";
        for y in &self.ys {
            out += &format!("| {} |", format_count(*y));
            for x in &self.xs {
                let text = match self.cell(*x, *y) {
                    None => "not run".to_string(),
                    Some(cell) => {
                        let mut text = cell.verdict();
                        if let Some(tail) = cell.winner.as_ref().and_then(|w| w.tail) {
                            text += &format!(", tail {}", self.tail_format().show(tail));
                        }
                        if cell.tail_warning {
                            text += &format!(" (over {TAIL_FLAG:.0}x the runner-up's tail)");
                        }
                        text
                    }
                };
                out += &format!(" {text} |");
            }
            out += "\n";
        }
        out
    }

    /// How a cell's tail prints: the tail measure's format (latencies in µs, by the
    /// harness's convention for histograms).
    fn tail_format(&self) -> Format {
        Format::Micros
    }

    /// Where the winner changes along each row of the grid, in numbers: "at 4096 requests in
    /// flight: tokio-inline up to 100 µs, hybrid from 500". Cells too close to call are
    /// named as such, never given to either side.
    pub fn boundaries(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for y in &self.ys {
            let mut runs: Vec<(String, f64, f64)> = Vec::new();
            for x in &self.xs {
                let Some(cell) = self.cell(*x, *y) else { continue };
                let name = cell.clear_winner().map(|w| w.variant.clone()).unwrap_or_else(|| "too close to call".into());
                match runs.last_mut() {
                    Some((last, _, to)) if *last == name => *to = *x,
                    _ => runs.push((name, *x, *x)),
                }
            }
            let parts: Vec<String> = runs
                .iter()
                .map(|(name, from, to)| {
                    if from == to {
                        format!("{name} at {}", format_count(*from))
                    } else {
                        format!("{name} from {} to {}", format_count(*from), format_count(*to))
                    }
                })
                .collect();
            if !parts.is_empty() {
                lines.push(format!("at {} {}: {} ({})", format_count(*y), self.y_axis, parts.join("; "), self.x_axis));
            }
        }
        lines
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{
        CaseInfo, Row, Table, TableId,
        model::{
            figure::Figure,
            plan::{Axis, MapPlace, Primary},
        },
        testing::ReportBuilder,
    };

    crate::variants! {
        enum Way {
            Threads = "threads" (Threads): "",
            Tasks = "tasks" (Async): "",
        }
    }
    static INFO: CaseInfo = CaseInfo { name: "map", question: "?", claims: &[] };
    const RATE: Figure = Figure::new("requests_per_s", Format::Rate);
    const LOW: TableId = TableId::new("low");
    const HIGH: TableId = TableId::new("high");

    fn table(id: TableId, in_flight: f64) -> Table {
        let mut table = Table::new(id, id.as_str());
        table.axis = Some(Axis::new("CPU µs"));
        table.primary = Primary::higher(RATE);
        table.map = Some(MapPlace::new("mix", "in flight", in_flight));
        for way in [Way::Threads, Way::Tasks] {
            for cpu in [10.0, 100.0] {
                table.rows.push(Row::at(way, cpu, ()));
            }
        }
        table
    }

    /// Two sweeps of CPU per request, at 16 and 4096 in flight.
    pub(crate) fn report() -> crate::Report {
        ReportBuilder::new::<Way>(&INFO, &(), vec![table(LOW, 16.0), table(HIGH, 4096.0)])
            .figure(LOW, (Way::Threads, 10.0), RATE, &[100.0, 101.0, 99.0, 100.0, 102.0])
            .figure(LOW, (Way::Tasks, 10.0), RATE, &[150.0, 151.0, 149.0, 152.0, 150.0])
            .figure(LOW, (Way::Threads, 100.0), RATE, &[100.0, 90.0, 110.0, 95.0, 105.0])
            .figure(LOW, (Way::Tasks, 100.0), RATE, &[98.0, 102.0, 99.0, 104.0, 97.0])
            .figure(HIGH, (Way::Threads, 10.0), RATE, &[50.0, 51.0, 49.0, 50.0, 52.0])
            .figure(HIGH, (Way::Tasks, 10.0), RATE, &[150.0, 151.0, 149.0, 152.0, 150.0])
            .figure(HIGH, (Way::Threads, 100.0), RATE, &[200.0, 201.0, 199.0, 200.0, 202.0])
            .figure(HIGH, (Way::Tasks, 100.0), RATE, &[100.0, 101.0, 99.0, 100.0, 102.0])
            .build()
    }

    #[test]
    fn a_map_names_each_cells_winner_and_the_boundaries() {
        let report = report();
        let maps = maps(&report);
        assert_eq!(maps.len(), 1);
        let map = &maps[0];
        assert_eq!((map.xs.clone(), map.ys.clone()), (vec![10.0, 100.0], vec![16.0, 4096.0]));
        assert!(map.cell(10.0, 16.0).unwrap().verdict().starts_with("tasks by 1.50x"));
        assert!(map.cell(100.0, 16.0).unwrap().verdict().starts_with("too close to call"));
        assert_eq!(map.cell(100.0, 4096.0).unwrap().clear_winner().unwrap().variant, "threads");
        let grid = map.to_markdown();
        assert!(grid.starts_with("| in flight \\ CPU µs | 10 | 100 |"), "{grid}");
        assert_eq!(
            map.boundaries(),
            vec![
                "at 16 in flight: tasks at 10; too close to call at 100 (CPU µs)",
                "at 4096 in flight: tasks at 10; threads at 100 (CPU µs)",
            ]
        );
    }
}
