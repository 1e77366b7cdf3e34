//! One measured row, and the key a lookup names it by.

use serde::{Deserialize, Serialize};

use super::AxisMark;
use crate::model::variant::VariantSet;

/// One measured row: a variant at one point of the case's parameter space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Unique within its table; the variant name, plus the sweep value in sweeps.
    pub label: String,
    pub variant: String,
    /// The sweep axis value this row sits at, if the table is a sweep.
    pub axis_value: Option<f64>,
    /// Where a row of a sweep sits when its point is no number on the axis (unbounded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub axis_mark: Option<AxisMark>,
    /// Case-defined: everything the child needs besides the case parameters.
    pub point: serde_json::Value,
    /// Why this row does not run here; a skipped row is reported, never counted as a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Why a run of this row failed, when one did: the row runs no more, the report keeps
    /// every other row and says what failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

impl Row {
    /// The variant's row, with everything else its run needs in `spec` (the case's
    /// [`crate::Case::Spec`]).
    pub fn new(variant: impl VariantSet, spec: impl Serialize) -> Self {
        Row {
            label: variant.name().to_string(),
            variant: variant.name().to_string(),
            axis_value: None,
            axis_mark: None,
            point: to_point(spec),
            skipped: None,
            failed: None,
        }
    }
    /// The variant's row at `axis_value` on the table's sweep axis.
    pub fn at(variant: impl VariantSet, axis_value: f64, spec: impl Serialize) -> Self {
        Row {
            label: format!("{} @{}", variant.name(), axis_value),
            axis_value: Some(axis_value),
            ..Row::new(variant, spec)
        }
    }
    /// The variant's row at a point of the sweep the axis cannot place as a number, labelled
    /// `<variant> <mark>`. It has no axis value, so a lookup names it by its variant alone.
    pub fn at_mark(variant: impl VariantSet, mark: AxisMark, spec: impl Serialize) -> Self {
        Row { label: format!("{} {}", variant.name(), mark.label), axis_mark: Some(mark), ..Row::new(variant, spec) }
    }
    /// Marks the row as one that cannot run here, with the reason a reader will see.
    pub fn skip(mut self, reason: impl Into<String>) -> Self {
        self.skipped = Some(reason.into());
        self
    }
    /// Whether this is the row [`RowKey`] names.
    pub fn is(&self, key: &RowKey) -> bool {
        key.matches(&self.variant, self.axis_value)
    }
}

/// Names one row of a table for a lookup: a variant (its row off any sweep axis), or a
/// variant at a value of the sweep axis, `(variant, value)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowKey {
    pub variant: &'static str,
    pub axis_value: Option<f64>,
}

impl RowKey {
    pub fn matches(&self, variant: &str, axis_value: Option<f64>) -> bool {
        self.variant == variant && self.axis_value == axis_value
    }
}

impl std::fmt::Display for RowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.axis_value {
            None => f.write_str(self.variant),
            Some(x) => write!(f, "{} @{x}", self.variant),
        }
    }
}

impl<V: VariantSet> From<V> for RowKey {
    fn from(variant: V) -> RowKey {
        RowKey { variant: variant.name(), axis_value: None }
    }
}

impl<V: VariantSet> From<(V, f64)> for RowKey {
    fn from((variant, axis_value): (V, f64)) -> RowKey {
        RowKey { variant: variant.name(), axis_value: Some(axis_value) }
    }
}

fn to_point(spec: impl Serialize) -> serde_json::Value {
    serde_json::to_value(spec).expect("a row spec serialises to JSON")
}
