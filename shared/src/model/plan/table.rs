//! Tables, their ids and places on a map, and the plan of every table a run measures.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::{Axis, Column, PlotSpec, Primary, Row};
use crate::model::{figure::Measure, variant::VariantSet};

/// A table's id, declared once as a constant and used for planning and every lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId(&'static str);

impl TableId {
    pub const fn new(id: &'static str) -> TableId {
        TableId(id)
    }
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for TableId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl PartialEq<TableId> for String {
    fn eq(&self, other: &TableId) -> bool {
        self == other.0
    }
}

/// A group of rows measured and compared together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub id: String,
    pub title: String,
    /// What the figures cover, printed under the table.
    pub note: String,
    /// The sweep axis, when rows differ by `axis_value`.
    pub axis: Option<Axis>,
    pub rows: Vec<Row>,
    /// The variant every row is compared against; in a sweep, at the same axis value (or
    /// its row without an axis value, when it has no row there).
    pub baseline: Option<String>,
    pub columns: Vec<Column>,
    /// What the table is judged by.
    pub primary: Primary,
    /// Whether every row must report the same digest (the variants computed the same answer).
    pub digests_must_agree: bool,
    /// In a sweep whose axis changes the input (a file mix, a dataset size), whether digests
    /// must agree only among rows at the same axis value rather than across the table.
    #[serde(default)]
    pub digests_by_axis: bool,
    /// This table's default number of measured runs (sweeps use fewer); `--repeat` overrides it.
    pub repeat: Option<usize>,
    /// SVG plots `--plots` draws for this table.
    pub plots: Vec<PlotSpec>,
    /// Where this sweep sits on a map of two axes, with the other sweeps of that map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<MapPlace>,
}

/// A table's place on a map: sweeps of the same axis that share `map`, one per value of a
/// second axis, form a grid whose cells each name a winner ([`crate::report::map`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MapPlace {
    /// The map's id, shared by its tables.
    pub map: String,
    /// The map's second axis: what differs between its tables.
    pub axis: String,
    /// This table's value on it.
    pub value: f64,
    /// The latency quantile printed beside each cell's winner, and compared with the
    /// runner-up's (a winner whose tail is over twice the runner-up's is flagged).
    pub tail: Option<Measure>,
}

impl MapPlace {
    pub fn new(map: &str, axis: &str, value: f64) -> MapPlace {
        MapPlace { map: map.into(), axis: axis.into(), value, tail: None }
    }

    /// Compare the cell's winner and runner-up on this quantile too.
    pub fn with_tail(mut self, tail: impl Into<Measure>) -> MapPlace {
        self.tail = Some(tail.into());
        self
    }
}

impl Table {
    pub fn new(id: TableId, title: impl Into<String>) -> Self {
        Table {
            id: id.as_str().into(),
            title: title.into(),
            note: String::new(),
            axis: None,
            rows: Vec::new(),
            baseline: None,
            columns: Column::throughput_set(),
            primary: Primary::default(),
            digests_must_agree: true,
            digests_by_axis: false,
            repeat: None,
            plots: Vec::new(),
            map: None,
        }
    }

    /// Sets the baseline to `variant` if any row runs it.
    pub fn baseline_if_present(&mut self, variant: impl VariantSet) {
        let name = variant.name();
        self.baseline = self.rows.iter().any(|r| r.variant == name).then(|| name.to_string());
    }

    /// Whether this is the table `id` names.
    pub fn is(&self, id: TableId) -> bool {
        self.id == id.as_str()
    }

    /// The rows that run.
    pub fn runnable(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.skipped.is_none())
    }
}

/// What a child run is told to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub table: String,
    pub variant: String,
    pub label: String,
    pub axis_value: Option<f64>,
    pub point: serde_json::Value,
}

impl Point {
    /// The case-defined part of the point, decoded.
    pub fn decode<T: DeserializeOwned>(&self) -> anyhow::Result<T> {
        serde_json::from_value(self.point.clone())
            .map_err(|e| anyhow::anyhow!("bad point for {}/{}: {e}", self.table, self.label))
    }
}

/// The tables a run will measure, as `Case::setup` sees them: which variants were selected,
/// and the chance to skip rows that cannot run here.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub tables: Vec<Table>,
}

impl Plan {
    /// Whether any table has a row of `variant` that is not skipped.
    pub fn runs_variant(&self, variant: impl VariantSet) -> bool {
        self.rows().any(|(_, r)| r.skipped.is_none() && r.variant == variant.name())
    }

    /// Whether any row that is not skipped satisfies `f`.
    pub fn runs_any(&self, f: impl Fn(&Table, &Row) -> bool) -> bool {
        self.rows().any(|(t, r)| r.skipped.is_none() && f(t, r))
    }

    pub fn rows(&self) -> impl Iterator<Item = (&Table, &Row)> {
        self.tables.iter().flat_map(|t| t.rows.iter().map(move |r| (t, r)))
    }

    /// Skips every runnable row for which `f` says so, with `reason`; returns how many.
    pub fn skip_where(&mut self, f: impl Fn(&Table, &Row) -> bool, reason: &str) -> usize {
        let mut skipped = 0;
        for table in &mut self.tables {
            let snapshot = table.clone();
            for row in table.rows.iter_mut().filter(|r| r.skipped.is_none()) {
                if f(&snapshot, row) {
                    row.skipped = Some(reason.to_string());
                    skipped += 1;
                }
            }
        }
        skipped
    }
}
