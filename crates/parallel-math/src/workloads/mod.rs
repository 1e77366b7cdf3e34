//! The scenario: two exact workloads, and the probe that ticks beside every run.
//!
//! A workload is a list of independent items (Mandelbrot rows, n-body accelerations). A
//! *pass* computes all of them; a [`Job`] is one or more passes (one render, several
//! simulation steps). The variants are passes ([`crate::variants`]); [`drive`] and
//! [`drive_async`] feed them a job's passes.

pub mod mandelbrot;
pub mod nbody;
pub mod probe;

use std::{future::Future, sync::Arc};

/// Independent items computed by a pure function of their index.
pub trait Workload: Send + Sync + 'static {
    type Item: Send + Default + Clone + 'static;
    fn item_count(&self) -> usize;
    fn compute(&self, index: usize) -> Self::Item;
}

/// Work made of passes: a render is one pass, a simulation is one pass per step.
pub trait Job {
    type W: Workload;
    /// The next pass's input, or `None` when the job is done.
    fn next_pass(&mut self) -> Option<Arc<Self::W>>;
    /// Takes a finished pass's items, in index order.
    fn absorb(&mut self, items: Vec<<Self::W as Workload>::Item>);
    /// The job's answer, for checking that every variant computed the same thing.
    fn digest(&self) -> String;
}

/// Drives a job with a blocking pass; returns each pass's item count.
pub fn drive<J: Job>(job: &mut J, mut pass: impl FnMut(Arc<J::W>) -> Vec<<J::W as Workload>::Item>) -> Vec<usize> {
    let mut passes = Vec::new();
    while let Some(input) = job.next_pass() {
        passes.push(input.item_count());
        let items = pass(input);
        job.absorb(items);
    }
    passes
}

/// Drives a job with an async pass, from inside a runtime; returns each pass's item count.
pub async fn drive_async<J, F>(job: &mut J, mut pass: impl FnMut(Arc<J::W>) -> F) -> anyhow::Result<Vec<usize>>
where
    J: Job,
    F: Future<Output = anyhow::Result<Vec<<J::W as Workload>::Item>>>,
{
    let mut passes = Vec::new();
    while let Some(input) = job.next_pass() {
        passes.push(input.item_count());
        let items = pass(input).await?;
        job.absorb(items);
    }
    Ok(passes)
}

/// Computes the items from `first` on into `out`.
pub fn fill<W: Workload>(workload: &W, first: usize, out: &mut [W::Item]) {
    for (offset, slot) in out.iter_mut().enumerate() {
        *slot = workload.compute(first + offset);
    }
}

/// The `count` items from `first` on, fewer at the end of the workload.
pub fn compute_range<W: Workload>(workload: &W, first: usize, count: usize) -> Vec<W::Item> {
    (first..(first + count).min(workload.item_count())).map(|i| workload.compute(i)).collect()
}
