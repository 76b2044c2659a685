//! Independent replications, in parallel, in a fixed order.
//!
//! Replication `r` runs every strategy of the scenario on the same random
//! streams (common random numbers), so strategies are compared on the same
//! node failures. Results are collected in replication order whatever the
//! number of threads, which is what makes the outputs byte-identical for any
//! `--threads`.

use crate::engine::simulate;
use crate::metrics::{ReplicationOutcome, TraceRecord};
use crate::model::Scenario;
use crate::placement::Strategy;
use rayon::prelude::*;

/// The outcome of every replication under every strategy.
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
/// `None`); `progress` is called once per finished replication, from any
/// thread.
pub fn run(scenario: &Scenario, threads: Option<usize>, progress: &(dyn Fn() + Sync)) -> Result<RunResults, String> {
    let all: Vec<u32> = (0..scenario.replications).collect();
    run_replications(scenario, &all, threads, progress)
}

/// Runs the listed replications only (a shard of the run); `outcomes[s][i]`
/// belongs to replication `replications[i]`.
pub fn run_replications(
    scenario: &Scenario,
    replications: &[u32],
    threads: Option<usize>,
    progress: &(dyn Fn() + Sync),
) -> Result<RunResults, String> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        builder = builder.num_threads(n);
    }
    let pool = builder.build().map_err(|e| format!("cannot start the worker threads: {e}"))?;
    let per_replication: Vec<Vec<ReplicationOutcome>> = pool.install(|| {
        replications
            .par_iter()
            .map(|&rep| {
                let outcomes = scenario.strategies.iter().map(|&s| simulate(scenario, s, rep, None)).collect();
                progress();
                outcomes
            })
            .collect()
    });
    let mut outcomes: Vec<Vec<ReplicationOutcome>> =
        scenario.strategies.iter().map(|_| Vec::with_capacity(per_replication.len())).collect();
    for rep in per_replication {
        for (s, outcome) in rep.into_iter().enumerate() {
            outcomes[s].push(outcome);
        }
    }
    Ok(RunResults { strategies: scenario.strategies.clone(), outcomes })
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
