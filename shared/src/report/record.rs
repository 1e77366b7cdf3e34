//! What one run of one row recorded: its figures, its latency histograms, its notes, its
//! answer. A child writes one; a load generator writes one that joins its run's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    model::figure::{Figure, Hist, Note},
    stats::latency,
};

/// One run's raw record, exactly as the report's JSON stores it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    pub figures: BTreeMap<String, f64>,
    /// HDR histograms, each base64 of its compressed V2 encoding.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub histograms: BTreeMap<String, String>,
    /// Short strings, every value recorded under each key, in order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notes: BTreeMap<String, Vec<String>>,
    pub digest: Option<String>,
    /// Set when the run found that its row cannot run here (it then measured nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

impl RunRecord {
    pub fn figure(&self, figure: Figure) -> Option<f64> {
        self.figures.get(figure.key).copied()
    }

    /// The run's histogram under `hist`, decoded; `None` if it recorded none.
    pub fn histogram(&self, hist: Hist) -> Option<hdrhistogram::Histogram<u64>> {
        self.histograms.get(hist.key).and_then(|text| latency::decode(text).ok())
    }

    pub fn notes(&self, note: Note) -> &[String] {
        self.notes.get(note.key).map(Vec::as_slice).unwrap_or_default()
    }

    /// Adds another record's figures, histograms and notes (a load generator's) to this one.
    /// A histogram under a key both have is merged; a figure both have is an error, since
    /// neither side's value would be honest.
    pub fn absorb(&mut self, other: RunRecord) -> anyhow::Result<()> {
        for (key, value) in other.figures {
            if self.figures.insert(key.clone(), value).is_some() {
                anyhow::bail!("figure '{key}' was recorded by both the run and its load generator");
            }
        }
        for (key, text) in other.histograms {
            let merged = match self.histograms.get(&key) {
                None => text,
                Some(mine) => {
                    let (a, b) = (latency::decode(mine)?, latency::decode(&text)?);
                    let merged = latency::merge([&a, &b]).ok_or_else(|| anyhow::anyhow!("cannot merge '{key}'"))?;
                    latency::encode(&merged)?
                }
            };
            self.histograms.insert(key, merged);
        }
        for (key, values) in other.notes {
            self.notes.entry(key).or_default().extend(values);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::format::Format;

    #[test]
    fn absorbing_merges_histograms_and_notes_and_refuses_clashing_figures() {
        let hist = Hist::micros("lat");
        let note = Note::new("error");
        let mut h = latency::histogram();
        h.record(10).unwrap();
        let mut mine = RunRecord::default();
        mine.figures.insert("a".into(), 1.0);
        mine.histograms.insert(hist.key.into(), latency::encode(&h).unwrap());
        mine.notes.insert(note.key.into(), vec!["timeout".into()]);
        let mut theirs = RunRecord::default();
        theirs.figures.insert("b".into(), 2.0);
        theirs.histograms.insert(hist.key.into(), latency::encode(&h).unwrap());
        theirs.notes.insert(note.key.into(), vec!["reset".into()]);
        mine.absorb(theirs.clone()).unwrap();
        assert_eq!(mine.figure(Figure::new("b", Format::Count)), Some(2.0));
        assert_eq!(mine.histogram(hist).unwrap().len(), 2);
        assert_eq!(mine.notes(note), ["timeout", "reset"]);
        assert!(mine.absorb(theirs).is_err(), "figure b twice");
    }
}
