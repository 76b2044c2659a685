//! Limits instead of exhaustion: a scenario that asks for more work or memory
//! than a run can give is refused before anything runs, with the limit named
//! and the way to change it.
//!
//! 1. Hard limits are real bounds and cannot be raised: a duration is at most
//!    100000y ([`MAX_DURATION_MS`]), replication numbers are 32-bit, and the
//!    summary sums downtime over every replication and app in `u64`
//!    milliseconds, so `replications x apps x horizon` must fit in a `u64`
//!    ([`check_downtime_sum`]).
//! 2. Soft limits ([`Limits`], the `[limits]` table) bound the size of the
//!    cluster, the number of replications, the estimated events of one
//!    replication and of the whole run, and the estimated memory the results
//!    take. Each has a default and can be raised up to a hard ceiling.
//! 3. The parser checks them against the file ([`super::Validator`] points
//!    at the key that asks for the most); the command line checks them again
//!    after its overrides and its `--shard` ([`check_run`]).
//!
//! The event estimate is the expected number of events of one replication
//! from the distributions' means: per node, the horizon over the sum of the
//! mean time to failure and the mean repair gives its failures, each a
//! handful of events plus two per pod moved; per disk the same with replace
//! and resilver; per pod the container crashes and hangs, each cycle lasting
//! at least the restart back-off and the start-up; maintenance rounds;
//! scripted and replayed failures. It is an estimate (within a small factor
//! of the events a run reports, see tests/integration/limits.rs), which is
//! all a limit on work needs.

use super::spec::{Located, Size};
use super::validate::Validator;
use crate::dist::Dist;
use crate::error::InputError;
use crate::metrics::{AppOutcome, ReplicationOutcome, VolumeOutcome};
use crate::model::{AppId, DomainId, Limits, NodeId, Scenario};
use crate::time::{MAX_DURATION_MS, format_duration, format_size};
use serde::Deserialize;

/// Nodes after `count` expansion. Every placement decision scans all nodes
/// (benches/README.md: about 7,000 decisions per second at 10,000 nodes).
pub const DEFAULT_MAX_NODES: u64 = 100_000;
/// The model and every engine thread hold a few hundred bytes per node, and
/// placement is linear in nodes: a million nodes is beyond what one machine
/// simulates in any useful time.
pub const HARD_MAX_NODES: u64 = 1_000_000;
pub const DEFAULT_MAX_PODS: u64 = 1_000_000;
/// Pod counts (`replicas`, `min_available`) are 32-bit in the model; ten
/// million pods is gigabytes of engine state per thread already.
pub const HARD_MAX_PODS: u64 = 10_000_000;
pub const DEFAULT_MAX_REPLICATIONS: u64 = 10_000_000;
/// Replication numbers (and the random stream of each) are `u32`.
pub const HARD_MAX_REPLICATIONS: u64 = u32::MAX as u64;
/// ASSUMPTION: a realistic scenario runs at about 1 to 2 million events per
/// second per core (benches/README.md: 6 M/s for the bare up/down model,
/// less with placement and storage), so 10^8 events is one to two minutes
/// of one core for a single replication, which no thread count shortens.
pub const DEFAULT_MAX_EVENTS_PER_REPLICATION: u64 = 100_000_000;
/// ASSUMPTION: 10^10 events is one to three hours on the project's 2-core
/// machine at the rate above.
pub const DEFAULT_MAX_EVENTS: u64 = 10_000_000_000;
/// ASSUMPTION: the machine has 24 GiB; a third is left to the results,
/// the rest to the system, the engine threads and the transient copies of
/// the summary and the output files.
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 8 << 30;
/// Bytes a run keeps per app (and per volume), strategy and replication:
/// the downtime, for the percentiles and intervals. Everything else is
/// summed as the replications stream past (`summary::Accumulator`) and the
/// per-replication files are written row by row.
const STREAMED_ROW_BYTES: u64 = 8;

/// Events of one node failure besides its pods: the failure, NotReady, a
/// taint pass, the eviction, the repair, and slack for the out-of-service
/// taint and storage events.
const EVENTS_PER_NODE_FAILURE: f64 = 6.0;
/// Events per pod on a failed node: its replacement's start-up and its
/// restart or move back.
const EVENTS_PER_POD_MOVED: f64 = 2.0;
/// A container fault, its restart after the back-off, and its Ready.
const EVENTS_PER_CONTAINER_FAULT: f64 = 3.0;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_nodes: DEFAULT_MAX_NODES,
            max_pods: DEFAULT_MAX_PODS,
            max_replications: DEFAULT_MAX_REPLICATIONS,
            max_events_per_replication: DEFAULT_MAX_EVENTS_PER_REPLICATION,
            max_events: DEFAULT_MAX_EVENTS,
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
        }
    }
}

/// The `[limits]` table.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    pub max_nodes: Option<Located<i64>>,
    pub max_pods: Option<Located<i64>>,
    pub max_replications: Option<Located<i64>>,
    pub max_events_per_replication: Option<Located<i64>>,
    pub max_events: Option<Located<i64>>,
    pub max_memory: Option<Located<Size>>,
}

/// What a share of the events of a replication comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The pods' first start.
    Start,
    Node(NodeId),
    Domain(DomainId),
    Disks(NodeId),
    Containers(AppId),
    Maintenance,
    Scripted,
}

/// A share of the estimated events of one replication.
#[derive(Debug, Clone)]
pub struct Contribution {
    pub source: Source,
    pub events: f64,
}

/// A source of events in words, for the message: "node `a`'s failures
/// (exponential(mean 1ms), repair 1h)". Only the largest source of a
/// refused scenario is ever described.
fn describe(source: Source, sc: &Scenario) -> String {
    match source {
        Source::Start => "the pods' first start".into(),
        Source::Node(id) => {
            let node = &sc.nodes[id];
            format!("node `{}`'s failures ({}, repair {})", node.name, node.failure.describe(), node.repair.describe())
        }
        Source::Disks(id) => {
            let node = &sc.nodes[id];
            let pool = node.pool.as_ref().expect("a node with disk events has a pool");
            format!("node `{}`'s disk failures ({})", node.name, pool.disk_failure.describe())
        }
        Source::Domain(id) => {
            let domain = &sc.domains[id];
            format!("domain `{}`'s failures ({})", domain.name, domain.failure.describe())
        }
        Source::Containers(id) => {
            let app = &sc.apps[id];
            let which = match (app.crash.mean_ms(), app.hang.mean_ms()) {
                (Some(_), Some(_)) => format!("crashes ({}) and hangs ({})", app.crash.describe(), app.hang.describe()),
                (Some(_), None) => format!("crashes ({})", app.crash.describe()),
                _ => format!("hangs ({})", app.hang.describe()),
            };
            format!("app `{}`'s container {which}", app.name)
        }
        Source::Maintenance => {
            let every = sc.maintenance.as_ref().map_or(0, |m| m.every_ms);
            format!("maintenance every {}", format_duration(every))
        }
        Source::Scripted => format!("{} scripted and replayed failures", sc.events.len() + sc.replayed.len()),
    }
}

/// Expected failures of a renewal process over `horizon_ms`: up for `up`,
/// down for `down`. A process that never comes back fails at most once.
fn cycles(up: &Dist, down: Option<f64>, horizon_ms: f64) -> f64 {
    let Some(up_ms) = up.mean_ms() else { return 0.0 };
    match down {
        // Validation refuses a mean of zero; 1 ms is the floor of a draw.
        Some(down_ms) => horizon_ms / (up_ms + down_ms).max(1.0),
        None => (horizon_ms / up_ms.max(1.0)).min(1.0),
    }
}

/// The estimated events of one replication under one strategy, by source.
pub fn events_per_replication(sc: &Scenario) -> Vec<Contribution> {
    let h = sc.horizon_ms as f64;
    let pods: f64 = sc.apps.iter().map(|a| f64::from(a.replicas)).sum();
    let per_node = pods / sc.nodes.len().max(1) as f64;
    let node_failure = EVENTS_PER_NODE_FAILURE + EVENTS_PER_POD_MOVED * per_node;
    let mut out = vec![Contribution { source: Source::Start, events: pods }];
    for (id, node) in sc.nodes.iter().enumerate() {
        let n = cycles(&node.failure, node.repair.mean_ms(), h);
        out.push(Contribution { source: Source::Node(id), events: n * node_failure });
        if let Some(pool) = &node.pool {
            let down = (pool.replace_ms + pool.resilver_ms) as f64;
            let n = cycles(&pool.disk_failure, Some(down), h) * f64::from(pool.disks);
            out.push(Contribution { source: Source::Disks(id), events: n * 2.0 });
        }
    }
    for (id, domain) in sc.domains.iter().enumerate() {
        let n = cycles(&domain.failure, domain.repair.mean_ms(), h);
        out.push(Contribution {
            source: Source::Domain(id),
            events: n * (2.0 + domain.nodes.len() as f64 * node_failure),
        });
    }
    let k = &sc.kube;
    for (id, app) in sc.apps.iter().enumerate() {
        // The next fault is the sooner of a crash and a hang draw.
        let rate = [&app.crash, &app.hang].iter().filter_map(|d| d.mean_ms()).map(|m| 1.0 / m.max(1.0)).sum::<f64>();
        if rate == 0.0 {
            continue;
        }
        let running_ms = 1.0 / rate;
        let startup_ms = app.startup.mean_ms().unwrap_or(0.0);
        // A container that never runs `backoff_reset` cleanly climbs to the
        // cap of the back-off; one that does starts again at the first delay.
        let backoff_ms = if running_ms + startup_ms < k.backoff_reset_ms as f64 {
            k.backoff_max_ms as f64
        } else {
            k.backoff_initial_ms as f64
        };
        let hang_ms = if app.hang.mean_ms().is_some() {
            (k.liveness_period_ms * u64::from(k.liveness_failure_threshold)) as f64
        } else {
            0.0
        };
        let cycle_ms = (running_ms + startup_ms + backoff_ms + hang_ms).max(1.0);
        out.push(Contribution {
            source: Source::Containers(id),
            events: h / cycle_ms * f64::from(app.replicas) * EVENTS_PER_CONTAINER_FAULT,
        });
    }
    if let Some(m) = &sc.maintenance {
        let rounds = h / m.every_ms.max(1) as f64 + 1.0;
        out.push(Contribution {
            source: Source::Maintenance,
            events: rounds * sc.nodes.len() as f64 * (4.0 + EVENTS_PER_POD_MOVED * per_node),
        });
    }
    let scripted = sc.events.len() + sc.replayed.len();
    if scripted > 0 {
        out.push(Contribution { source: Source::Scripted, events: scripted as f64 * node_failure });
    }
    out
}

/// The estimated bytes the results of `replications` replications take in
/// memory. A run or a merge streams them ([`STREAMED_ROW_BYTES`] an app or
/// volume, strategy and replication); `compare`, `sweep` and `plan` keep
/// every outcome whole (`held`).
pub fn memory_bytes(sc: &Scenario, replications: u64, held: bool) -> f64 {
    let (per_app, per_volume, per_outcome) = if held {
        (
            std::mem::size_of::<AppOutcome>() as f64,
            std::mem::size_of::<VolumeOutcome>() as f64,
            std::mem::size_of::<ReplicationOutcome>() as f64,
        )
    } else {
        (STREAMED_ROW_BYTES as f64, STREAMED_ROW_BYTES as f64, 0.0)
    };
    let per_replication = per_outcome + sc.apps.len() as f64 * per_app + sc.volumes.len() as f64 * per_volume;
    replications as f64 * sc.strategies.len() as f64 * per_replication
}

/// The memory limit against the results of `reps` replications, `held` as in
/// [`memory_bytes`].
fn check_memory(sc: &Scenario, reps: u64, held: bool) -> Result<(), Refusal> {
    let limits = &sc.limits;
    let memory = memory_bytes(sc, reps, held);
    if memory <= limits.max_memory_bytes as f64 {
        return Ok(());
    }
    let (row, kept) = if held {
        (
            std::mem::size_of::<AppOutcome>() as u64,
            "compare, sweep and plan keep every replication's outcome until the end",
        )
    } else {
        (STREAMED_ROW_BYTES, "the downtime of each app and volume in each replication, kept for the percentiles")
    };
    Err(Refusal {
        anchor: Anchor::Replications,
        key: "replications".into(),
        message: format!(
            "the results would take about {} of memory ({reps} replications x {} strategies x ({} apps + {} volumes), {row} bytes a row: {kept}), over the limit `max_memory` = {}{}: lower `replications`, or raise the limit with `[limits] max_memory = \"{}\"` if the machine has that much memory (`--shard` does not help: `merge` keeps the same)",
            format_size(memory as u64),
            sc.strategies.len(),
            sc.apps.len(),
            sc.volumes.len(),
            format_size(limits.max_memory_bytes),
            if limits.max_memory_bytes == DEFAULT_MAX_MEMORY_BYTES {
                " (the default; ASSUMPTION: a third of a 24 GiB machine)"
            } else {
                ""
            },
            format_size(suggest(memory).next_multiple_of(1 << 30)),
        ),
    })
}

/// For the commands that keep every outcome whole (`compare`, `sweep`,
/// `plan`): their memory against the limit.
pub fn check_held(sc: &Scenario) -> Result<(), InputError> {
    check_memory(sc, u64::from(sc.replications), true).map_err(|r| InputError {
        file: sc.source.clone(),
        location: None,
        key: Some(r.key),
        message: r.message,
    })
}

/// Where a refusal belongs in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Replications,
    Source(Source),
}

/// A limit the run would exceed.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub anchor: Anchor,
    pub key: String,
    pub message: String,
}

/// "(the default)" when `limit` is the default, for messages.
fn default_note(limit: u64, default: u64) -> &'static str {
    if limit == default { " (the default)" } else { "" }
}

/// A number for a message: exact below a million, else in scientific form.
fn approx(x: f64) -> String {
    if x < 1e6 { format!("{}", x.round() as u64) } else { format!("{x:.1e}") }
}

/// The number to write in `[limits]` to let `asked` through: `asked`
/// rounded up to two significant digits.
fn suggest(asked: f64) -> u64 {
    if asked < 100.0 {
        return asked.ceil() as u64;
    }
    let scale = 10f64.powi(asked.log10().floor() as i32 - 1);
    ((asked / scale).ceil() * scale).min(i64::MAX as f64) as u64
}

/// The limits of `sc` that do not depend on how the run is split:
/// replications, memory, the downtime sum and the events of one replication.
/// Returns the estimated events of one replication under one strategy.
pub fn check_scenario(sc: &Scenario) -> Result<f64, Refusal> {
    let limits = &sc.limits;
    let reps = u64::from(sc.replications);
    if reps > limits.max_replications {
        return Err(Refusal {
            anchor: Anchor::Replications,
            key: "replications".into(),
            message: format!(
                "{reps} replications is over the limit `max_replications` = {}{}: lower `replications` (the 95% interval narrows only with the square root of their number), or raise the limit with `[limits] max_replications = {reps}` (at most {HARD_MAX_REPLICATIONS})",
                limits.max_replications,
                default_note(limits.max_replications, DEFAULT_MAX_REPLICATIONS)
            ),
        });
    }
    check_downtime_sum(sc)?;
    check_memory(sc, reps, false)?;
    let contributions = events_per_replication(sc);
    let total: f64 = contributions.iter().map(|c| c.events).sum();
    if total > limits.max_events_per_replication as f64 {
        let largest = contributions.iter().max_by(|a, b| a.events.total_cmp(&b.events)).expect("never empty");
        return Err(Refusal {
            anchor: Anchor::Source(largest.source),
            key: key_of(largest.source, sc).into(),
            message: format!(
                "one replication would simulate about {} events over the horizon of {} ({} make about {} of them), over the limit `max_events_per_replication` = {}{}: a replication runs on one thread and cannot be split. Check the unit of that distribution, shorten `horizon`, or raise the limit with `[limits] max_events_per_replication = {}`",
                approx(total),
                format_duration(sc.horizon_ms),
                describe(largest.source, sc),
                approx(largest.events),
                limits.max_events_per_replication,
                default_note(limits.max_events_per_replication, DEFAULT_MAX_EVENTS_PER_REPLICATION),
                suggest(total)
            ),
        });
    }
    Ok(total)
}

/// The summary adds up the downtime of every app in every replication in
/// `u64` milliseconds; each app is down at most the horizon per replication,
/// so `replications x apps x horizon_ms` below `u64::MAX` proves the sum
/// cannot overflow. A hard limit: no table raises it, and `--shard` does not
/// help because `merge` summarizes every replication.
pub fn check_downtime_sum(sc: &Scenario) -> Result<(), Refusal> {
    let product = u128::from(sc.replications) * sc.apps.len() as u128 * u128::from(sc.horizon_ms);
    if product > u128::from(u64::MAX) {
        let fit = u64::MAX / (sc.apps.len() as u64 * sc.horizon_ms).max(1);
        return Err(Refusal {
            anchor: Anchor::Replications,
            key: "replications".into(),
            message: format!(
                "{} replications x {} apps x a horizon of {} ({} ms) is {:.2e} ms of possible downtime, over the hard limit of {:.2e} ms (18446744073709551615, the summary adds downtime up in 64-bit milliseconds), which cannot be raised: with this horizon and these apps, run at most {fit} replications, or shorten `horizon`",
                sc.replications,
                sc.apps.len(),
                format_duration(sc.horizon_ms),
                sc.horizon_ms,
                product as f64,
                u64::MAX as f64,
            ),
        });
    }
    Ok(())
}

/// The key a source's refusal names.
fn key_of(source: Source, sc: &Scenario) -> &'static str {
    match source {
        Source::Start => "apps.replicas",
        Source::Node(_) => "nodes.failure",
        Source::Domain(_) => "domains.failure",
        Source::Disks(_) => "pool.disk_failure",
        Source::Containers(a) => {
            if sc.apps[a].crash.mean_ms().is_some() {
                "apps.crash"
            } else {
                "apps.hang"
            }
        }
        Source::Maintenance => "maintenance.every",
        Source::Scripted => "events",
    }
}

/// The replications shard `index` of `count` runs: those `r` with
/// `r mod count = index`.
pub fn shard_size(replications: u32, (index, count): (u32, u32)) -> u64 {
    let (whole, rest) = (u64::from(replications / count), replications % count);
    whole + u64::from(index < rest)
}

/// Checks every limit against the final run settings, after the command
/// line's overrides: those of [`check_scenario`], and the estimated events
/// of the whole run in this process (its shard's replications only).
/// Errors name the scenario file and the limit, without a line: the values
/// may come from flags.
pub fn check_run(sc: &Scenario, shard: Option<(u32, u32)>) -> Result<(), InputError> {
    let refuse =
        |key: String, message: String| InputError { file: sc.source.clone(), location: None, key: Some(key), message };
    let per_replication = check_scenario(sc).map_err(|r| refuse(r.key, r.message))?;
    let reps = shard.map_or(u64::from(sc.replications), |s| shard_size(sc.replications, s));
    let total = per_replication * reps as f64 * sc.strategies.len() as f64;
    let limits = &sc.limits;
    if total > limits.max_events as f64 {
        let shards = (total / limits.max_events as f64).ceil() as u64;
        return Err(refuse(
            "limits.max_events".into(),
            format!(
                "the run would simulate about {} events ({} per replication x {reps} replications{} x {} strategies) over the limit `max_events` = {}{}: lower `replications` or `horizon`, split the run into {shards} or more shards with `clustersim run --shard I/{shards}` (each shard counts its own replications), or raise the limit with `[limits] max_events = {}`",
                approx(total),
                approx(per_replication),
                if shard.is_some() { " in this shard" } else { "" },
                sc.strategies.len(),
                limits.max_events,
                default_note(limits.max_events, DEFAULT_MAX_EVENTS),
                suggest(total)
            ),
        ));
    }
    Ok(())
}

impl Validator<'_> {
    /// The `[limits]` table: each value at least 1 and at most its ceiling.
    pub(super) fn parse_limits(&self, raw: &Option<Located<LimitsSpec>>) -> Result<Limits, InputError> {
        let mut limits = Limits::default();
        let Some(raw) = raw else { return Ok(limits) };
        let r = raw.get_ref();
        let max = i64::MAX;
        for (value, key, ceiling, field) in [
            (&r.max_nodes, "limits.max_nodes", HARD_MAX_NODES as i64, &mut limits.max_nodes),
            (&r.max_pods, "limits.max_pods", HARD_MAX_PODS as i64, &mut limits.max_pods),
            (
                &r.max_replications,
                "limits.max_replications",
                HARD_MAX_REPLICATIONS as i64,
                &mut limits.max_replications,
            ),
            (
                &r.max_events_per_replication,
                "limits.max_events_per_replication",
                max,
                &mut limits.max_events_per_replication,
            ),
            (&r.max_events, "limits.max_events", max, &mut limits.max_events),
        ] {
            if let Some(v) = value {
                *field = self.count(v, key, 1, ceiling).map_err(|e| {
                    if *v.get_ref() > ceiling {
                        let why = match key {
                            "limits.max_nodes" | "limits.max_pods" => "the model and every engine thread hold them all",
                            _ => "replication numbers are 32-bit",
                        };
                        self.err(
                            v.span(),
                            key,
                            format!(
                                "{} is out of range: `{key}` must be at most {ceiling}, a hard limit ({why})",
                                v.get_ref()
                            ),
                        )
                    } else {
                        e
                    }
                })? as u64;
            }
        }
        if let Some(m) = &r.max_memory {
            if m.get_ref().0 == 0 {
                return Err(self.err(
                    m.span(),
                    "limits.max_memory",
                    "the memory limit must be more than zero: write a size such as \"16Gi\"",
                ));
            }
            limits.max_memory_bytes = m.get_ref().0;
        }
        Ok(limits)
    }
}

/// The largest horizon is the duration limit; checked here so that the
/// bound the engine relies on is stated once beside the others.
const _: () = assert!(MAX_DURATION_MS < u64::MAX / 4);
