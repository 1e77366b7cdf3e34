//! What a case declares: its variants, its sizes, and the tables it measures (rows, columns,
//! the figure each table is judged by, sweeps and their plots).

mod axis;
mod case;
mod column;
mod row;
mod table;

pub use axis::{Axis, AxisEnd, AxisMark, PlotSpec, SweepPoint};
pub use case::{CaseInfo, DEFAULT_STACK, Needs, Preset, UsageError, in_range};
pub use column::{Column, Primary};
pub use row::{Row, RowKey};
pub use table::{MapPlace, Plan, Point, Table, TableId};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::claims::ClaimId;
    use crate::model::figure::{self, Hist, Measure};

    crate::variants! {
        enum Two {
            A = "a" (Threads): "",
            B = "b" (Async): "",
        }
    }
    const T: TableId = TableId::new("t");

    #[test]
    fn skip_where_marks_only_matching_runnable_rows() {
        let mut table = Table::new(T, "t");
        table.rows = vec![Row::new(Two::A, ()), Row::new(Two::B, ()), Row::new(Two::B, ()).skip("earlier")];
        let mut plan = Plan { tables: vec![table] };
        assert!(plan.runs_variant(Two::B));
        assert_eq!(plan.skip_where(|_, r| r.variant == "b", "no b here"), 1);
        assert!(!plan.runs_variant(Two::B));
        assert_eq!(plan.tables[0].rows[2].skipped.as_deref(), Some("earlier"));
        assert_eq!(plan.tables[0].runnable().count(), 1);
    }

    #[test]
    fn declaration_mistakes_are_found() {
        let info = CaseInfo { name: "x", question: "?", claims: &[ClaimId::AsyncIo, ClaimId::AsyncIo] };
        assert_eq!(info.problems().len(), 1);
    }

    #[test]
    fn row_keys_name_a_variant_off_or_on_the_axis() {
        let on = Row::at(Two::A, 16.0, ());
        let off = Row::new(Two::A, ());
        assert!(on.is(&(Two::A, 16.0).into()) && !on.is(&Two::A.into()));
        assert!(off.is(&Two::A.into()) && !off.is(&(Two::A, 16.0).into()));
        assert_eq!(RowKey::from((Two::B, 4.0)).to_string(), "b @4");
    }

    #[test]
    fn a_scatter_keeps_its_point_through_a_saved_report() {
        // `--render` draws a saved report's plots, so a scatter must read back as written.
        let lateness = Measure::quantile(Hist::micros("lateness"), 0.99);
        for at in [SweepPoint::At(1000.0), SweepPoint::Largest] {
            let spec = PlotSpec::scatter(figure::CORES_BUSY, lateness.clone(), at);
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(serde_json::from_str::<PlotSpec>(&json).unwrap(), spec, "{json}");
        }
        let saved = r#"{"kind":"scatter","x":{"kind":"figure","key":"cores_busy","format":"cores"},"y":{"kind":"quantile","hist":"lateness","q":0.99,"format":"micros"},"at":{"at":1000.0}}"#;
        let spec = PlotSpec::scatter(figure::CORES_BUSY, lateness, SweepPoint::At(1000.0));
        assert_eq!(serde_json::from_str::<PlotSpec>(saved).unwrap(), spec);
    }
}
