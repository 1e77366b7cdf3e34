//! A table's columns and the measure it is judged by.

use serde::{Deserialize, Serialize};

use crate::model::figure::{self, Better, Figure, Hist, Measure, Note};

/// One column of a table: what it shows, how it is headed, whether it shows its spread.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub header: String,
    pub measure: Measure,
    /// Print `median ±spread` rather than the median alone.
    pub spread: bool,
}

impl Column {
    pub fn new(header: impl Into<String>, measure: impl Into<Measure>) -> Self {
        Column { header: header.into(), measure: measure.into(), spread: false }
    }
    /// A figure, headed by its key as a reader would name it.
    pub fn of(figure: Figure) -> Self {
        Column::new(figure::display_name(figure.key), figure)
    }
    pub fn with_spread(mut self) -> Self {
        self.spread = true;
        self
    }
    /// Quantile `q` of the row's histogram merged over its runs (`1.0` is the maximum).
    pub fn quantile(header: impl Into<String>, hist: Hist, q: f64) -> Self {
        Column::new(header, Measure::quantile(hist, q))
    }
    pub fn p50(hist: Hist) -> Self {
        Column::quantile(format!("{} p50", figure::display_name(hist.key)), hist, 0.50)
    }
    pub fn p99(hist: Hist) -> Self {
        Column::quantile(format!("{} p99", figure::display_name(hist.key)), hist, 0.99)
    }
    pub fn p999(hist: Hist) -> Self {
        Column::quantile(format!("{} p99.9", figure::display_name(hist.key)), hist, 0.999)
    }
    pub fn max(hist: Hist) -> Self {
        Column::quantile(format!("{} max", figure::display_name(hist.key)), hist, 1.0)
    }
    /// A note's distinct values with their counts over the runs.
    pub fn note(header: impl Into<String>, note: Note) -> Self {
        Column::new(header, Measure::Note { key: note.key.into() })
    }
    /// Wall time of the measured region, with its spread.
    pub fn wall() -> Self {
        Column::new("wall (median ±MAD)", figure::WALL).with_spread()
    }
    /// How many times better than the baseline on the table's primary measure, run by run.
    pub fn vs_baseline(header: impl Into<String>) -> Self {
        Column::new(header, Measure::VsBaseline)
    }
    /// [`Column::vs_baseline`] headed "speedup", for tables judged by wall time.
    pub fn speedup() -> Self {
        Column::vs_baseline("speedup")
    }
    pub fn cores_busy() -> Self {
        Column::new("cores busy", figure::CORES_BUSY)
    }
    pub fn peak_rss() -> Self {
        Column::new("peak RSS", figure::PEAK_RSS)
    }
    pub fn peak_threads() -> Self {
        Column::new("peak threads", figure::PEAK_THREADS)
    }
    pub fn voluntary_switches() -> Self {
        Column::new("vol. cs", figure::VOLUNTARY_CS)
    }
    pub fn involuntary_switches() -> Self {
        Column::new("invol. cs", figure::INVOLUNTARY_CS)
    }
    /// The standard set for a wall-time comparison.
    pub fn throughput_set() -> Vec<Column> {
        vec![
            Column::wall(),
            Column::speedup(),
            Column::cores_busy(),
            Column::peak_rss(),
            Column::peak_threads(),
            Column::voluntary_switches(),
            Column::involuntary_switches(),
        ]
    }
    /// What the load generators used, reported apart from the measured process.
    pub fn load_generator_set() -> Vec<Column> {
        vec![
            Column::new("load gen CPU", figure::LOADGEN_CPU),
            Column::new("load gen cores", figure::LOADGEN_CORES),
            Column::new("load gen RSS", figure::LOADGEN_PEAK_RSS),
        ]
    }
}

/// The measure a table is judged by and which way is better: what its verdict, its
/// baseline comparison and the cross-case summary use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Primary {
    pub measure: Measure,
    pub better: Better,
}

impl Primary {
    pub fn lower(measure: impl Into<Measure>) -> Primary {
        Primary { measure: measure.into(), better: Better::Lower }
    }
    pub fn higher(measure: impl Into<Measure>) -> Primary {
        Primary { measure: measure.into(), better: Better::Higher }
    }
}

impl Default for Primary {
    fn default() -> Primary {
        Primary::lower(figure::WALL)
    }
}
