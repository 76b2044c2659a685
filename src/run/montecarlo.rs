//! Independent replications, in parallel, delivered in a fixed order.
//!
//! Replication `r` runs every strategy of the scenario on the same random
//! streams (common random numbers), so strategies are compared on the same
//! node failures. Worker threads take the next replication from a shared
//! counter; the caller's thread receives the outcomes and hands them on in
//! replication order whatever the number of threads, which is what makes
//! the outputs byte-identical for any `--threads`. Nothing is kept once
//! handed on: a run's memory does not grow with its replications (streaming
//! aggregation is [`crate::run::summary::Accumulator`]'s job).

use crate::engine::simulate;
use crate::error::Error;
use crate::metrics::{ReplicationOutcome, TraceRecord};
use crate::model::Scenario;
use crate::placement::Strategy;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// The outcome of every replication under every strategy, for the commands
/// that need them all at once (compare, sweep, plan, tests).
#[derive(Debug, Clone, PartialEq)]
pub struct RunResults {
    pub strategies: Vec<Strategy>,
    /// `outcomes[s][r]`: strategy `s` (in the order of `strategies`), replication `r`.
    pub outcomes: Vec<Vec<ReplicationOutcome>>,
}

impl RunResults {
    pub fn replications(&self) -> usize {
        self.outcomes.first().map_or(0, Vec::len)
    }

    pub fn events(&self) -> u64 {
        self.outcomes.iter().flatten().map(|o| o.events).sum()
    }
}

/// Runs all replications of `scenario` on `threads` threads (all cores when
/// `None`) and keeps every outcome; `progress` is called once per finished
/// replication, from any thread.
pub fn run(scenario: &Scenario, threads: Option<usize>, progress: &(dyn Fn() + Sync)) -> Result<RunResults, String> {
    let all: Vec<u32> = (0..scenario.replications).collect();
    let mut outcomes: Vec<Vec<ReplicationOutcome>> =
        scenario.strategies.iter().map(|_| Vec::with_capacity(all.len())).collect();
    stream(scenario, &all, threads, progress, &mut |_, per_strategy| {
        for (s, outcome) in per_strategy.into_iter().enumerate() {
            outcomes[s].push(outcome);
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    Ok(RunResults { strategies: scenario.strategies.clone(), outcomes })
}

/// Runs the listed replications on `threads` threads (all cores when
/// `None`) and calls `sink` with each replication's number and its outcomes
/// (one per strategy, in the scenario's order), in the order of
/// `replications`. The first error of `sink` stops the run and is returned.
///
/// Outcomes that finish ahead of an earlier replication wait for it; with
/// replications of similar cost that is about one per thread.
pub fn stream(
    scenario: &Scenario,
    replications: &[u32],
    threads: Option<usize>,
    progress: &(dyn Fn() + Sync),
    sink: &mut dyn FnMut(u32, Vec<ReplicationOutcome>) -> Result<(), Error>,
) -> Result<(), Error> {
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, replications.len().max(1));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<(usize, Vec<ReplicationOutcome>)>(threads);
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, stop) = (&next, &stop);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&rep) = replications.get(i) else { break };
                    let outcomes = scenario.strategies.iter().map(|&s| simulate(scenario, s, rep, None)).collect();
                    progress();
                    if tx.send((i, outcomes)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut waiting: BTreeMap<usize, Vec<ReplicationOutcome>> = BTreeMap::new();
        let mut due = 0;
        let mut result = Ok(());
        for (i, outcomes) in rx {
            waiting.insert(i, outcomes);
            while let Some(outcomes) = waiting.remove(&due) {
                if result.is_ok() {
                    result = sink(replications[due], outcomes);
                    if result.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                due += 1;
            }
        }
        result
    })
}

/// Replays replication `replication` of each strategy with the event trace on.
pub fn trace(scenario: &Scenario, replication: u32) -> Vec<(Strategy, Vec<TraceRecord>)> {
    scenario
        .strategies
        .iter()
        .map(|&s| {
            let mut records = Vec::new();
            simulate(scenario, s, replication, Some(&mut records));
            (s, records)
        })
        .collect()
}
