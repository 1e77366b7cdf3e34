//! What a rule's outcome rests on: the estimate, its interval and the runs behind it.

use serde::{Deserialize, Serialize};

use super::interval::{MIN_RUNS, confidence};
use crate::model::format::Format;

/// What one rule saw: the estimate (the median), its interval, and over how many runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Basis {
    /// `paired ratio`, `median`, `runs that stopped in time`.
    pub what: String,
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    pub runs: usize,
    pub format: Format,
}

impl Basis {
    /// `a / b 1.80x, 97% interval 1.51x to 1.81x, 6 runs`, the interval's own coverage
    /// for that many runs (94% for five: their range); with fewer than [`MIN_RUNS`] runs
    /// the range covers too little to call it an interval, and it says so:
    /// `a / b 1.80x, range of 3 runs 1.51x to 1.81x`.
    pub fn describe(&self) -> String {
        let show = |v: f64| self.format.show(v);
        if self.runs < 2 {
            return format!("{} {}, {} run: no spread to judge by", self.what, show(self.estimate), self.runs);
        }
        if self.low == self.high {
            return format!("{} {}, {} runs", self.what, show(self.estimate), self.runs);
        }
        if self.runs < MIN_RUNS {
            return format!(
                "{} {}, range of {} runs {} to {}",
                self.what,
                show(self.estimate),
                self.runs,
                show(self.low),
                show(self.high)
            );
        }
        format!(
            "{} {}, {:.0}% interval {} to {}, {} runs",
            self.what,
            show(self.estimate),
            confidence(self.runs) * 100.0,
            show(self.low),
            show(self.high),
            self.runs
        )
    }
}
