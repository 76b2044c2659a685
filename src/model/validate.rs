//! From a [`Spec`] to a validated [`Scenario`]: every rule and derived fact.
//!
//! The input layer (`crate::input`) deserializes a file into the [`Spec`],
//! whose types mirror the file and refuse unknown keys; quantities with units
//! are parsed there, so their errors carry the input's line and column.
//! [`Scenario::new`] then resolves references and checks what spans the
//! file (two nodes with one name, an app no node can run, more replicas than
//! nodes under required anti-affinity), pointing at the offending key
//! through the place each [`Located`] value carries. What is legal but
//! probably not meant becomes a warning in the model.

use super::spec::{AppSpec, Located, NodeSpec, Place, PoolSpec, Rate, Size, Spec, VolumeSpec};
use super::{limits, order};
use crate::dist::Dist;
use crate::error::{InputError, known_names};
use crate::model::Strategy;
use crate::model::{
    AntiAffinity, App, Backend, Class, Domain, GlusterQuorum, KUBE_VERSIONS, Kubernetes, Layout, Limits, Node, NodeId,
    Pool, Scenario, ScriptedEvent, SpreadMode, Target, Volume, VolumeId, Workload,
};
use crate::time::{MS_PER_YEAR, Millis, format_cpu, format_duration, format_size};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Default start-up time of a pod: the upper bound of the sig-scalability
/// pod start-up SLO (p99 within 5 s, image pull excluded).
pub const DEFAULT_STARTUP_MS: Millis = 5_000;
/// Defaults when the file does not say (documented in docs/scenario.md).
pub const DEFAULT_HORIZON_MS: Millis = 10 * MS_PER_YEAR;
pub const DEFAULT_REPLICATIONS: u32 = 1000;
pub const DEFAULT_SEED: u64 = 1;
/// Storage defaults. Disks: annualized failure rate 1.5 % (Backblaze Drive
/// Stats 2023-2025, 1.4-1.7 %), exponential.
pub const DEFAULT_DISK_MTTF_MS: f64 = MS_PER_YEAR as f64 / 0.015;
/// ASSUMPTION: a home lab without a hot spare gets a new disk in a day.
pub const DEFAULT_DISK_REPLACE_MS: Millis = 24 * crate::time::MS_PER_H;
/// ASSUMPTION: 100 MiB/s resilver over 1 TiB allocated (no authoritative default).
pub const DEFAULT_RESILVER_RATE_BYTES_PER_S: f64 = 100.0 * 1024.0 * 1024.0;
pub const DEFAULT_ALLOCATED_BYTES: u64 = 1 << 40;
/// ASSUMPTION: a day to restore a lost pool from backup, nightly backups.
pub const DEFAULT_RESTORE_MS: Millis = 24 * crate::time::MS_PER_H;
pub const DEFAULT_BACKUP_INTERVAL_MS: Millis = 24 * crate::time::MS_PER_H;
/// TrueNAS periodic snapshot tasks look hourly by default (unverified).
pub const DEFAULT_REPLICATION_INTERVAL_MS: Millis = crate::time::MS_PER_H;
/// ASSUMPTION: five minutes to promote the replica and re-point the volume.
pub const DEFAULT_ZFS_FAILOVER_MS: Millis = 5 * crate::time::MS_PER_MIN;
/// Gluster `network.ping-timeout` default.
pub const DEFAULT_PING_TIMEOUT_MS: Millis = 42_000;
/// Gluster `storage.health-check-interval` default (posix.c option table).
pub const DEFAULT_HEALTH_CHECK_INTERVAL_MS: Millis = 30_000;
/// ASSUMPTION: one self-heal thread heals about 50 MiB/s; 2 MiB/s written;
/// 100 GiB of data in a volume.
pub const DEFAULT_HEAL_RATE_BYTES_PER_S: f64 = 50.0 * 1024.0 * 1024.0;
pub const DEFAULT_WRITE_RATE_BYTES_PER_S: f64 = 2.0 * 1024.0 * 1024.0;
pub const DEFAULT_GLUSTER_SIZE_BYTES: u64 = 100 << 30;
/// Kubernetes `maxWaitForUnmountDuration`.
pub const DEFAULT_FORCE_DETACH_MS: Millis = 6 * crate::time::MS_PER_MIN;
/// The smallest eviction rate above zero: 1/rate is the wait between two
/// taints, which must stay below the 100000y duration limit.
pub const MIN_EVICTION_RATE_PER_S: f64 = 1e-12;

/// Where a [`Spec`] came from: the file as the user named it and its text,
/// kept for the reports and to turn the places of [`Located`] values into
/// lines and columns. A `Spec` built in code comes from [`Origin::code`]:
/// its errors name the key, with no line.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl<'a> Origin<'a> {
    /// A `Spec` built in code, named `name` in errors and reports.
    pub fn code(name: &'a str) -> Origin<'a> {
        Origin { file: name, text: "" }
    }
}

impl Scenario {
    /// Validates `spec` into a scenario: defaults, ranges, `count` expansion,
    /// references, feasibility, limits and warnings, then name order
    /// ([`order::by_name`]). The first rule broken is the error.
    pub fn new(spec: Spec, origin: Origin<'_>) -> Result<Scenario, InputError> {
        Validator {
            file: origin.file,
            text: origin.text,
            warnings: Vec::new(),
            labels: Vec::new(),
            replace_random: false,
            limits: Limits::default(),
        }
        .scenario(spec)
    }
}

/// How a count limit reads in a refusal: what is counted, the `[limits]`
/// key, its default and hard ceiling, why it exists and how to ask for less.
struct CountLimit {
    what: &'static str,
    key: &'static str,
    default: u64,
    hard: u64,
    why: &'static str,
    lower: &'static str,
}

const NODES_LIMIT: CountLimit = CountLimit {
    what: "nodes (after `count` expansion)",
    key: "max_nodes",
    default: limits::DEFAULT_MAX_NODES,
    hard: limits::HARD_MAX_NODES,
    why: "every engine thread holds them all, and each node's failures, repairs and lease passes are events",
    lower: "lower `count`",
};

const PODS_LIMIT: CountLimit = CountLimit {
    what: "pods in all (`replicas` summed over the apps after `count` expansion)",
    key: "max_pods",
    default: limits::DEFAULT_MAX_PODS,
    hard: limits::HARD_MAX_PODS,
    why: "every engine thread holds every pod, and each pod's crashes and moves are events",
    lower: "lower `replicas` or `count`",
};

pub(crate) struct Validator<'a> {
    file: &'a str,
    text: &'a str,
    warnings: Vec<String>,
    /// Each node's labels, for domain selectors.
    labels: Vec<std::collections::BTreeMap<String, String>>,
    /// A `[[replay]]` in mode `replace` turns the random failures off.
    replace_random: bool,
    /// The `[limits]` table, read first: node and pod counts are checked
    /// against it before they are expanded.
    limits: Limits,
}

/// A node after `count` expansion, with the span of the entry it came from.
struct Expanded<'r> {
    raw: &'r NodeSpec,
    name: String,
}

impl Validator<'_> {
    /// An error at `place` about `key`: at its line and column in the
    /// source text, at the flag that set it, or at the key alone.
    pub(crate) fn err(&self, place: impl Into<Place>, key: &str, message: impl Into<String>) -> InputError {
        InputError::placed(self.file, self.text, place.into(), key, message)
    }

    /// A duration that must not be zero (a period, an interval): its
    /// milliseconds, or "`what` must be longer than zero" at `key`.
    pub(super) fn nonzero_ms(
        &self,
        d: &Located<super::spec::Duration>,
        key: &str,
        what: &str,
    ) -> Result<Millis, InputError> {
        match d.get_ref().0 {
            0 => Err(self.err(d.span(), key, format!("{what} must be longer than zero"))),
            ms => Ok(ms),
        }
    }

    fn scenario(mut self, raw: Spec) -> Result<Scenario, InputError> {
        self.limits = self.parse_limits(&raw.limits)?;
        let name = match &raw.name {
            Some(name) if name.get_ref().trim().is_empty() => {
                return Err(self.err(name.span(), "name", "the scenario name is empty"));
            }
            Some(name) => name.get_ref().clone(),
            None => Path::new(self.file).file_stem().map_or("scenario".into(), |s| s.to_string_lossy().into_owned()),
        };
        let horizon_ms = match &raw.horizon {
            Some(h) => self.nonzero_ms(h, "horizon", "the horizon")?,
            None => DEFAULT_HORIZON_MS,
        };
        let replications = match &raw.replications {
            // The soft limit is checked with the others, after validation.
            Some(r) => self.count(r, "replications", 1, limits::HARD_MAX_REPLICATIONS as i64).map_err(|e| {
                if *r.get_ref() < 1 {
                    e
                } else {
                    self.err(r.span(), "replications", format!(
                        "{} replications is over the hard limit of {} (replication numbers are 32-bit), which cannot be raised: lower `replications` (the 95% interval narrows only with the square root of their number)",
                        r.get_ref(), limits::HARD_MAX_REPLICATIONS
                    ))
                }
            })? as u32,
            None => DEFAULT_REPLICATIONS,
        };
        let seed = match &raw.seed {
            Some(s) if *s.get_ref() < 0 => return Err(self.err(s.span(), "seed", "the seed must be zero or more")),
            Some(s) => *s.get_ref() as u64,
            None => DEFAULT_SEED,
        };
        let strategies = match &raw.strategies {
            Some(list) => self.strategies(list)?,
            None => vec![Strategy::Spread],
        };
        let kube = self.kubernetes(&raw)?;
        self.warn_written_traps(&raw);
        let mut nodes = self.nodes(&raw)?;
        let domains = self.domains(&raw, &mut nodes)?;
        let domain_kinds: Vec<String> = domains.iter().fold(Vec::new(), |mut kinds, d| {
            if !kinds.contains(&d.kind) {
                kinds.push(d.kind.clone());
            }
            kinds
        });
        let topology: Vec<Vec<Option<usize>>> = domain_kinds
            .iter()
            .map(|kind| {
                (0..nodes.len()).map(|n| nodes[n].domains.iter().copied().find(|&d| &domains[d].kind == kind)).collect()
            })
            .collect();
        let spread_kind = match &raw.placement.spread_kind {
            Some(k) => Some(domain_kinds.iter().position(|x| x == k.get_ref()).ok_or_else(|| {
                self.err(
                    k.span(),
                    "placement.spread_kind",
                    format!(
                        "no domain has kind `{}`: the kinds declared are [{}]",
                        k.get_ref(),
                        domain_kinds.join(", ")
                    ),
                )
            })?),
            None => domain_kinds.iter().position(|k| k == super::ZONE_KIND).or(if domain_kinds.is_empty() {
                None
            } else {
                Some(0)
            }),
        };
        if strategies.contains(&Strategy::DomainSpread) && spread_kind.is_none() {
            let span = raw.strategies.as_ref().map_or(Place::Code, |s| s.span());
            return Err(self.err(span, "strategies", "strategy `domain-spread` needs [[domains]] to spread over"));
        }
        let volumes = self.volumes(&raw.volumes, &nodes)?;
        let apps = self.apps(&raw.apps, &nodes, &volumes, &domain_kinds)?;
        let apps = self.dependencies(&raw.apps, apps)?;
        self.check_volume_users(&raw, &apps, &volumes)?;
        self.warn_block_waits_for_its_node(&kube, &apps, &volumes);
        self.warn_statefulset_waits_for_its_node(&kube, &apps, &nodes, &volumes);
        let events = self.events(&raw, &nodes, &domains, &apps)?;
        let replayed = self.replays(&raw, &nodes, &domains)?;
        let mut domains = domains;
        if self.replace_random {
            // The traces are the failure history: nodes and domains fail only there.
            nodes.iter_mut().for_each(|n| n.failure = Dist::Never);
            domains.iter_mut().for_each(|d| d.failure = Dist::Never);
        }
        let scenario = Scenario {
            name,
            source: self.file.to_string(),
            text: self.text.to_string(),
            horizon_ms,
            replications,
            seed,
            strategies,
            kube,
            nodes,
            apps,
            events,
            volumes,
            domains,
            domain_kinds,
            topology,
            spread_kind,
            replayed,
            maintenance: self.maintenance(&raw.maintenance)?,
            warnings: std::mem::take(&mut self.warnings),
            limits: self.limits.clone(),
        };
        limits::check_scenario(&scenario).map_err(|r| self.refusal(&raw, r))?;
        Ok(order::by_name(scenario))
    }

    /// A limit refusal at the key that asks for the most.
    fn refusal(&self, raw: &Spec, r: limits::Refusal) -> InputError {
        use limits::{Anchor, Source};
        // Raw entries expand with `count`: the entry of expanded item `i`.
        let origin = |counts: Vec<usize>, i: usize| {
            counts
                .iter()
                .scan(0, |end, c| {
                    *end += c;
                    Some(*end)
                })
                .position(|end| i < end)
        };
        let node_entry = |n: usize| {
            let counts = raw.nodes.iter().map(|x| x.count.as_ref().map_or(1, |c| *c.get_ref() as usize)).collect();
            origin(counts, n).map(|o| &raw.nodes[o])
        };
        let (span, key): (Option<Place>, String) = match r.anchor {
            Anchor::Replications => (raw.replications.as_ref().map(|x| x.span()), r.key),
            Anchor::Source(Source::Node(n)) => match node_entry(n).and_then(|e| e.failure.as_ref()) {
                Some(f) => (Some(f.span()), "nodes.failure".into()),
                None => (raw.node_defaults.failure.as_ref().map(|f| f.span()), "node_defaults.failure".into()),
            },
            Anchor::Source(Source::Disks(n)) => match node_entry(n).and_then(|e| e.pool.as_ref()) {
                Some(p) => (Some(p.span()), "pool.disk_failure".into()),
                None => (raw.node_defaults.pool.as_ref().map(|p| p.span()), "node_defaults.pool.disk_failure".into()),
            },
            Anchor::Source(Source::Domain(d)) => {
                (raw.domains.get(d).and_then(|x| x.failure.as_ref()).map(|f| f.span()), r.key)
            }
            Anchor::Source(Source::Containers(a)) => {
                let counts = raw.apps.iter().map(|x| x.count.as_ref().map_or(1, |c| *c.get_ref() as usize)).collect();
                let entry = origin(counts, a).map(|o| &raw.apps[o]);
                let field = if r.key == "apps.crash" {
                    entry.and_then(|e| e.crash.as_ref())
                } else {
                    entry.and_then(|e| e.hang.as_ref())
                };
                (field.map(|f| f.span()), r.key)
            }
            Anchor::Source(Source::Maintenance) => (raw.maintenance.as_ref().map(|m| m.get_ref().every.span()), r.key),
            Anchor::Source(Source::Scripted) => match (raw.events.first(), raw.replay.first()) {
                (Some(e), _) => (Some(e.fail.span()), "events.fail".into()),
                (None, Some(p)) => (Some(p.file.span()), "replay.file".into()),
                (None, None) => (None, r.key),
            },
            Anchor::Source(Source::Start) => (None, r.key),
        };
        match span {
            Some(span) => self.err(span, &key, r.message),
            None => InputError { file: self.file.to_string(), location: None, key: Some(key), message: r.message },
        }
    }

    /// A count over its limit: names the limit, the value asked and how to
    /// change it (or that it cannot be raised that far).
    fn over_limit(&self, span: Place, key: &str, asked: u64, l: CountLimit) -> InputError {
        let limit = match l.key {
            "max_nodes" => self.limits.max_nodes,
            _ => self.limits.max_pods,
        };
        let note = if limit == l.default { " (the default)" } else { "" };
        let how = if asked > l.hard {
            format!("{}: the limit can be raised to {} at most (a hard limit)", l.lower, l.hard)
        } else {
            format!("{}, or raise the limit with `[limits] {} = {asked}` (at most {})", l.lower, l.key, l.hard)
        };
        // The advice opens a sentence.
        let how = format!("{}{}", how[..1].to_uppercase(), &how[1..]);
        self.err(
            span,
            key,
            format!("{asked} {} is over the limit `{}` = {limit}{note}: {}. {how}", l.what, l.key, l.why),
        )
    }

    /// An integer key that must lie in `min..=max`.
    pub(crate) fn count(&self, value: &Located<i64>, key: &str, min: i64, max: i64) -> Result<i64, InputError> {
        let v = *value.get_ref();
        if v < min || v > max {
            let what = if v < min { format!("at least {min}") } else { format!("at most {max}") };
            return Err(self.err(value.span(), key, format!("{v} is out of range: `{key}` must be {what}")));
        }
        Ok(v)
    }

    fn strategies(&self, list: &Located<Vec<Located<String>>>) -> Result<Vec<Strategy>, InputError> {
        if list.get_ref().is_empty() {
            return Err(self.err(list.span(), "strategies", format!("name at least one of: {}", Strategy::names())));
        }
        let mut out = Vec::new();
        for name in list.get_ref() {
            let strategy = Strategy::parse(name.get_ref()).ok_or_else(|| {
                self.err(
                    name.span(),
                    "strategies",
                    format!("unknown strategy `{}`: use one of {}", name.get_ref(), Strategy::names()),
                )
            })?;
            if out.contains(&strategy) {
                return Err(self.err(
                    name.span(),
                    "strategies",
                    format!("strategy `{}` is listed twice", name.get_ref()),
                ));
            }
            out.push(strategy);
        }
        Ok(out)
    }

    fn kubernetes(&mut self, raw: &Spec) -> Result<Kubernetes, InputError> {
        let k = &raw.kubernetes;
        let mut kube = Kubernetes::default();
        if let Some(v) = &k.version {
            let minor = v
                .get_ref()
                .strip_prefix("1.")
                .and_then(|m| m.parse::<u32>().ok())
                .filter(|m| KUBE_VERSIONS.contains(m));
            let Some(minor) = minor else {
                return Err(self.err(
                    v.span(),
                    "kubernetes.version",
                    format!(
                        "unknown Kubernetes version `{}`: clustersim knows the defaults of 1.{} to 1.{}, written as a string such as \"1.{}\"",
                        v.get_ref(),
                        KUBE_VERSIONS.start(),
                        KUBE_VERSIONS.end(),
                        KUBE_VERSIONS.end()
                    ),
                ));
            };
            kube = Kubernetes { version_stated: true, ..Kubernetes::for_version(minor) };
        }
        if let Some(d) = k.node_monitor_grace_period {
            kube.node_monitor_grace_period_ms = d.0;
        }
        if let Some(d) = k.node_monitor_period {
            kube.node_monitor_period_ms = d.0;
        }
        if let Some(d) = &k.lease_renew_interval {
            kube.lease_renew_interval_ms =
                self.nonzero_ms(d, "kubernetes.lease_renew_interval", "the lease renewal interval")?;
        }
        if let Some(d) = k.eviction_toleration {
            kube.eviction_toleration_ms = d.0;
        }
        let rate = |v: &Option<Located<f64>>, key: &str, max: f64| -> Result<Option<f64>, InputError> {
            match v {
                Some(r) if !(r.get_ref().is_finite() && (0.0..=max).contains(r.get_ref())) => Err(self.err(
                    r.span(),
                    key,
                    format!("{} is out of range: `{key}` must be between 0 and {max}", r.get_ref()),
                )),
                Some(r) => Ok(Some(*r.get_ref())),
                None => Ok(None),
            }
        };
        // The engine waits 1/rate between two taints: a rate above zero must
        // keep that wait within the duration limit (proves `now + interval`
        // cannot overflow).
        let eviction_rate = |v: &Option<Located<f64>>, key: &str| -> Result<Option<f64>, InputError> {
            let r = rate(v, key, 1000.0)?;
            if let (Some(x), Some(spanned)) = (r, v)
                && x > 0.0
                && x < MIN_EVICTION_RATE_PER_S
            {
                return Err(self.err(
                    spanned.span(),
                    key,
                    format!("{x:e} is out of range: `{key}` must be 0 (no evictions) or at least {MIN_EVICTION_RATE_PER_S:e} nodes per second (one node in about 31700 years): the wait between two taints, 1/rate, must stay within the duration limit of 100000y"),
                ));
            }
            Ok(r)
        };
        if let Some(r) = eviction_rate(&k.eviction_rate, "kubernetes.eviction_rate")? {
            kube.eviction_rate_per_s = r;
        }
        if let Some(r) = eviction_rate(&k.secondary_eviction_rate, "kubernetes.secondary_eviction_rate")? {
            kube.secondary_eviction_rate_per_s = r;
        }
        if let Some(r) = rate(&k.unhealthy_zone_threshold, "kubernetes.unhealthy_zone_threshold", 1.0)? {
            kube.unhealthy_zone_threshold = r;
        }
        if let Some(n) = &k.large_cluster_size_threshold {
            kube.large_cluster_size_threshold =
                self.count(n, "kubernetes.large_cluster_size_threshold", 0, 1_000_000)? as u32;
        }
        for (value, field) in [
            (&k.out_of_service_after, &mut kube.out_of_service_after),
            (&k.pod_force_delete_after, &mut kube.pod_force_delete_after),
            (&k.node_delete_after, &mut kube.node_delete_after),
        ] {
            if let Some(d) = value {
                *field = d.get_ref().clone();
            }
        }
        if let Some(p) = &k.pod_gc_check_period {
            kube.pod_gc_check_period_ms =
                self.nonzero_ms(p, "kubernetes.pod_gc_check_period", "the PodGC check period")?;
        }
        if let Some(p) = &k.liveness_period {
            kube.liveness_period_ms = self.nonzero_ms(p, "kubernetes.liveness_period", "the probe period")?;
        }
        if let Some(t) = &k.liveness_failure_threshold {
            kube.liveness_failure_threshold = self.count(t, "kubernetes.liveness_failure_threshold", 1, 1000)? as u32;
        }
        if let Some(b) = &k.backoff {
            // KEP-4603: the opt-in reduced back-off starts at 1 s with a 60 s cap.
            match b.get_ref().as_str() {
                "legacy" => {}
                "reduced" => {
                    kube.backoff_initial_ms = 1_000;
                    kube.backoff_max_ms = 60_000;
                }
                other => {
                    return Err(self.err(
                        b.span(),
                        "kubernetes.backoff",
                        format!("unknown back-off `{other}`: use legacy (10s doubling to 300s) or reduced (1s doubling to 60s)"),
                    ));
                }
            }
        }
        for (value, key, field) in [
            (&k.backoff_initial, "kubernetes.backoff_initial", &mut kube.backoff_initial_ms),
            (&k.backoff_max, "kubernetes.backoff_max", &mut kube.backoff_max_ms),
            (&k.backoff_reset, "kubernetes.backoff_reset", &mut kube.backoff_reset_ms),
        ] {
            if let Some(v) = value {
                *field = self.nonzero_ms(v, key, "the back-off durations")?;
            }
        }
        if kube.backoff_initial_ms > kube.backoff_max_ms {
            // At the key written; `backoff_max` alone can undercut the default first delay.
            let (span, key) = match (&k.backoff_initial, &k.backoff_max) {
                (Some(i), _) => (i.span(), "kubernetes.backoff_initial"),
                (None, Some(m)) => (m.span(), "kubernetes.backoff_max"),
                (None, None) => (k.backoff.as_ref().map_or(Place::Code, |b| b.span()), "kubernetes.backoff"),
            };
            return Err(self.err(
                span,
                key,
                format!(
                    "`backoff_initial` ({}) is longer than `backoff_max` ({}): the first restart delay cannot exceed the cap",
                    crate::time::format_duration(kube.backoff_initial_ms),
                    crate::time::format_duration(kube.backoff_max_ms)
                ),
            ));
        }
        if kube.eviction_rate_per_s == 0.0 {
            self.warnings.push("kubernetes.eviction_rate is 0: no pod is ever evicted from a failed node".into());
        }
        if kube.lease_renew_interval_ms > kube.node_monitor_grace_period_ms {
            self.warnings.push("kubernetes.lease_renew_interval is longer than node_monitor_grace_period: a crashed node could be marked NotReady before the crash, which no real cluster does".into());
        }
        Ok(kube)
    }

    fn nodes(&mut self, raw: &Spec) -> Result<Vec<Node>, InputError> {
        if raw.nodes.is_empty() {
            return Err(InputError::new(self.file, "the scenario has no [[nodes]]: declare at least one node"));
        }
        let mut expanded: Vec<Expanded> = Vec::new();
        let mut seen = HashSet::new();
        for node in &raw.nodes {
            let base = node.name.get_ref();
            if base.trim().is_empty() {
                return Err(self.err(node.name.span(), "nodes.name", "the node name is empty"));
            }
            let names: Vec<String> = match &node.count {
                None => vec![base.clone()],
                Some(c) => {
                    let count = self.count(c, "nodes.count", 1, i64::MAX)? as u64;
                    let total = expanded.len() as u64 + count;
                    if total > self.limits.max_nodes {
                        return Err(self.over_limit(c.span(), "nodes.count", total, NODES_LIMIT));
                    }
                    (1..=count).map(|i| format!("{base}-{i}")).collect()
                }
            };
            for name in names {
                if !seen.insert(name.clone()) {
                    return Err(self.err(
                        node.name.span(),
                        "nodes.name",
                        format!("two nodes are named `{name}`: node names must be unique"),
                    ));
                }
                expanded.push(Expanded { raw: node, name });
            }
            if expanded.len() as u64 > self.limits.max_nodes {
                let span = node.count.as_ref().map_or(node.name.span(), |c| c.span());
                return Err(self.over_limit(span, "nodes.count", expanded.len() as u64, NODES_LIMIT));
            }
        }
        let defaults = &raw.node_defaults;
        let mut nodes = Vec::with_capacity(expanded.len());
        let mut labels = Vec::with_capacity(expanded.len());
        for Expanded { raw: node, name } in expanded {
            let missing = |key: &str| {
                self.err(
                    node.name.span(),
                    &format!("nodes.{key}"),
                    format!("node `{name}` has no `{key}`: set it on the node or in [node_defaults]"),
                )
            };
            let cpu = node.cpu.as_ref().or(defaults.cpu.as_ref()).ok_or_else(|| missing("cpu"))?;
            if cpu.get_ref().0 == 0 {
                return Err(self.err(
                    cpu.span(),
                    "cpu",
                    format!("node `{name}` has no CPU: `cpu` must be more than zero"),
                ));
            }
            let memory = node.memory.as_ref().or(defaults.memory.as_ref()).ok_or_else(|| missing("memory"))?;
            if memory.get_ref().0 == 0 {
                return Err(self.err(
                    memory.span(),
                    "memory",
                    format!("node `{name}` has no memory: `memory` must be more than zero"),
                ));
            }
            let failure = node.failure.as_ref().or(defaults.failure.as_ref()).ok_or_else(|| missing("failure"))?;
            if failure.get_ref().mean_ms() == Some(0.0) {
                return Err(self.err(
                    failure.span(),
                    "failure",
                    format!("node `{name}` would fail continuously: the time to failure must have a mean above zero"),
                ));
            }
            let repair = node.repair.as_ref().or(defaults.repair.as_ref()).ok_or_else(|| missing("repair"))?;
            let devices = match &node.devices {
                Some(list) => list.iter().map(|d| d.get_ref().clone()).collect(),
                None => defaults.devices.clone().unwrap_or_default(),
            };
            let pool = match node.pool.as_ref().or(defaults.pool.as_ref()) {
                Some(p) => Some(self.pool(p)?),
                None => None,
            };
            nodes.push(Node {
                name,
                cpu_m: cpu.get_ref().0,
                memory_bytes: memory.get_ref().0,
                devices,
                failure: failure.get_ref().clone(),
                repair: repair.get_ref().clone(),
                zone: 0,
                pool,
                control_plane: node.control_plane.unwrap_or(false),
                domains: Vec::new(),
                labels: node.labels.clone().unwrap_or_default(),
            });
            labels.push(node.labels.clone().unwrap_or_default());
        }
        self.labels = labels;
        Ok(nodes)
    }

    /// Failure domains; fills each node's `domains` and, for domains of kind
    /// `zone`, its zone for the zone disruption rule.
    fn domains(&mut self, raw: &Spec, nodes: &mut [Node]) -> Result<Vec<Domain>, InputError> {
        let mut domains = Vec::with_capacity(raw.domains.len());
        let mut seen = HashSet::new();
        for d in &raw.domains {
            let name = d.name.get_ref().clone();
            if name.trim().is_empty() {
                return Err(self.err(d.name.span(), "domains.name", "the domain name is empty"));
            }
            if !seen.insert(name.clone()) {
                return Err(self.err(d.name.span(), "domains.name", format!("two domains are named `{name}`")));
            }
            let kind = d.kind.get_ref().trim().to_string();
            if kind.is_empty() {
                return Err(self.err(
                    d.kind.span(),
                    "domains.kind",
                    "the domain kind is empty: write rack, power, switch, zone or any word",
                ));
            }
            let mut members = Vec::new();
            for n in d.nodes.iter().flatten() {
                let id = self.node_ref(n, nodes, "domains.nodes", &format!("domain `{name}`"))?;
                if !members.contains(&id) {
                    members.push(id);
                }
            }
            if let Some(selector) = &d.selector {
                for (id, labels) in self.labels.iter().enumerate() {
                    if selector.get_ref().iter().all(|(k, v)| labels.get(k) == Some(v)) && !members.contains(&id) {
                        members.push(id);
                    }
                }
            }
            if members.is_empty() {
                let span = d.selector.as_ref().map_or(d.name.span(), |s| s.span());
                return Err(self.err(span, "domains.nodes", format!(
                    "domain `{name}` has no member: list `nodes = [...]` or a `selector = {{ label = \"value\" }}` that matches node labels"
                )));
            }
            members.sort_unstable();
            let failure = d.failure.as_ref().map_or(Dist::Never, |f| f.get_ref().clone());
            if failure.mean_ms() == Some(0.0) {
                let span = d.failure.as_ref().map_or(d.name.span(), |f| f.span());
                return Err(self.err(
                    span,
                    "domains.failure",
                    format!("domain `{name}` would fail continuously: the time to failure must have a mean above zero"),
                ));
            }
            let repair = d.repair.as_ref().map_or(Dist::Never, |r| r.get_ref().clone());
            if failure != Dist::Never && repair == Dist::Never {
                self.warnings.push(format!(
                    "domain `{name}` fails but has no `repair`: after its first failure it never comes back"
                ));
            }
            let id = domains.len();
            for &m in &members {
                if kind == super::ZONE_KIND
                    && nodes[m]
                        .domains
                        .iter()
                        .any(|&o: &usize| domains.get(o).is_some_and(|x: &Domain| x.kind == super::ZONE_KIND))
                {
                    return Err(self.err(
                        d.name.span(),
                        "domains.nodes",
                        format!("node `{}` is in two zones: a node belongs to one zone at most", nodes[m].name),
                    ));
                }
                nodes[m].domains.push(id);
            }
            domains.push(Domain { name, kind, nodes: members, failure, repair });
        }
        order::assign_zones(nodes, &domains);
        Ok(domains)
    }

    /// `depends_on`: references to other apps, without cycles.
    fn dependencies(&mut self, raw: &[AppSpec], mut apps: Vec<App>) -> Result<Vec<App>, InputError> {
        // Raw apps expand with `count`; walk them in step. `written[r]`: the
        // dependencies of raw app `r` and where each is written.
        let mut index = 0;
        let mut origin = Vec::with_capacity(apps.len());
        let mut written = Vec::with_capacity(raw.len());
        for (r_index, r) in raw.iter().enumerate() {
            let copies = r.count.as_ref().map_or(1, |c| *c.get_ref() as usize);
            let mut deps = Vec::new();
            for d in r.depends_on.iter().flatten() {
                let id = apps.iter().position(|a| &a.name == d.get_ref()).ok_or_else(|| {
                    let counted = raw.iter().find(|x| x.name.get_ref() == d.get_ref()).and_then(|x| x.count.as_ref());
                    let why = match counted {
                        Some(c) => format!(
                            "which `count` expands `{0}` into `{0}-1` to `{0}-{1}`: name the copies it depends on",
                            d.get_ref(),
                            c.get_ref()
                        ),
                        None => "which no [[apps]] declares".to_string(),
                    };
                    self.err(
                        d.span(),
                        "apps.depends_on",
                        format!("app `{}` depends on `{}`, {why}", r.name.get_ref(), d.get_ref()),
                    )
                })?;
                deps.push((id, d.span()));
            }
            for app in &mut apps[index..index + copies] {
                app.depends_on = deps.iter().map(|(d, _)| *d).collect();
            }
            origin.extend(std::iter::repeat_n(r_index, copies));
            written.push(deps);
            index += copies;
        }
        // No app may depend on itself, directly or through others: a
        // depth-first walk in file order reports the first cycle it closes,
        // at the `depends_on` entry that closes it.
        const NEW: u8 = 0;
        const ON_PATH: u8 = 1;
        const DONE: u8 = 2;
        let mut state = vec![NEW; apps.len()];
        for root in 0..apps.len() {
            if state[root] != NEW {
                continue;
            }
            state[root] = ON_PATH;
            // (app, how many of its dependencies were followed)
            let mut path = vec![(root, 0usize)];
            while let Some((app, next)) = path.last_mut() {
                let app = *app;
                let Some(&dep) = apps[app].depends_on.get(*next) else {
                    state[app] = DONE;
                    path.pop();
                    continue;
                };
                *next += 1;
                match state[dep] {
                    NEW => {
                        state[dep] = ON_PATH;
                        path.push((dep, 0));
                    }
                    ON_PATH => {
                        let span = written[origin[app]]
                            .iter()
                            .find(|(d, _)| *d == dep)
                            .map_or(Place::Code, |(_, s)| s.clone());
                        let message = if dep == app {
                            format!("app `{}` depends on itself: remove it from its `depends_on`", apps[app].name)
                        } else {
                            let from = path.iter().position(|&(a, _)| a == dep).unwrap_or(0);
                            let cycle: Vec<&str> = path[from..]
                                .iter()
                                .map(|&(a, _)| apps[a].name.as_str())
                                .chain([apps[dep].name.as_str()])
                                .collect();
                            format!(
                                "app `{}` depends on `{}`, which closes the cycle {}: dependencies must not form a cycle",
                                apps[app].name,
                                apps[dep].name,
                                cycle.join(" -> ")
                            )
                        };
                        return Err(self.err(span, "apps.depends_on", message));
                    }
                    _ => {}
                }
            }
        }
        Ok(apps)
    }

    /// `[[replay]]`: failure traces replayed on top of, or instead of, the
    /// distributions.
    fn replays(&mut self, raw: &Spec, nodes: &[Node], domains: &[Domain]) -> Result<Vec<ScriptedEvent>, InputError> {
        let mut events = Vec::new();
        for r in &raw.replay {
            match r.mode.as_ref().map(|m| m.get_ref().as_str()) {
                None | Some("add") => {}
                Some("replace") => self.replace_random = true,
                Some(other) => {
                    let span = r.mode.as_ref().map_or(Place::Code, |m| m.span());
                    return Err(self.err(span, "replay.mode", format!("unknown replay mode `{other}`: use add (on top of the distributions) or replace (instead of them)")));
                }
            }
            let replay = match &r.trace {
                Some(Ok(replay)) => replay.clone(),
                Some(Err(e)) => return Err(e.clone()),
                None => {
                    return Err(self.err(
                        r.file.span(),
                        "replay.file",
                        format!(
                            "the failure trace `{}` was not read (a Spec built in code sets `trace`)",
                            r.file.get_ref()
                        ),
                    ));
                }
            };
            let path = r.trace_path(self.file);
            let names: Vec<&str> = match replay.kind {
                super::trace::ReplayKind::Node => nodes.iter().map(|n| n.name.as_str()).collect(),
                super::trace::ReplayKind::Domain => domains.iter().map(|d| d.name.as_str()).collect(),
            };
            super::trace::check_names(&path.display().to_string(), &replay, &names)?;
            // A failure that starts the very millisecond the previous one of
            // the same name ends continues it: merge them so the repair is
            // not taken for the end of the outage.
            let ids: HashMap<&str, usize> = names.iter().enumerate().map(|(i, &n)| (n, i)).collect();
            let mut records = replay.records;
            records.sort_by(|a, b| a.name.cmp(&b.name).then(a.fail_at_ms.cmp(&b.fail_at_ms)));
            let mut merged: Vec<super::trace::ReplayRecord> = Vec::with_capacity(records.len());
            for rec in records {
                match merged.last_mut() {
                    Some(last) if last.name == rec.name && last.repair_at_ms == Some(rec.fail_at_ms) => {
                        last.repair_at_ms = rec.repair_at_ms;
                    }
                    _ => merged.push(rec),
                }
            }
            for rec in &merged {
                let id = ids[rec.name.as_str()];
                let target = match replay.kind {
                    super::trace::ReplayKind::Node => Target::Node(id),
                    super::trace::ReplayKind::Domain => Target::Domain(id),
                };
                let duration_ms = match rec.repair_at_ms {
                    Some(repair) => Some(repair - rec.fail_at_ms),
                    None => Some(crate::time::MAX_DURATION_MS),
                };
                events.push(ScriptedEvent { at_ms: rec.fail_at_ms, target, duration_ms });
            }
        }
        events.sort_by_key(|e| e.at_ms);
        Ok(events)
    }

    fn pool(&self, raw: &Located<PoolSpec>) -> Result<Pool, InputError> {
        let p = raw.get_ref();
        let layout = p.layout.get_ref().parse::<Layout>().ok().ok_or_else(|| {
            self.err(
                p.layout.span(),
                "pool.layout",
                format!("unknown pool layout `{}`: use stripe, mirror, raidz1, raidz2 or raidz3", p.layout.get_ref()),
            )
        })?;
        let disks = self.count(&p.disks, "pool.disks", 1, 1000)? as u32;
        if disks < layout.min_disks() {
            return Err(self.err(
                p.disks.span(),
                "pool.disks",
                format!("a {} vdev needs at least {} disks, not {disks}", layout.name(), layout.min_disks()),
            ));
        }
        let disk_failure = p.disk_failure.clone().unwrap_or(Dist::Exponential { mean_ms: DEFAULT_DISK_MTTF_MS });
        if disk_failure.mean_ms() == Some(0.0) {
            return Err(self.err(
                raw.span(),
                "pool.disk_failure",
                "disks would fail continuously: the time to failure must have a mean above zero",
            ));
        }
        let rate = match &p.resilver_rate {
            Some(r) if r.get_ref().0 <= 0.0 => {
                return Err(self.err(r.span(), "pool.resilver_rate", "the resilver rate must be more than zero"));
            }
            Some(r) => r.get_ref().0,
            None => DEFAULT_RESILVER_RATE_BYTES_PER_S,
        };
        let allocated = p.allocated.map_or(DEFAULT_ALLOCATED_BYTES, |a| a.0);
        let backup_interval_ms = match &p.backup_interval {
            Some(b) => self.nonzero_ms(b, "pool.backup_interval", "the backup interval")?,
            None => DEFAULT_BACKUP_INTERVAL_MS,
        };
        Ok(Pool {
            layout,
            disks,
            disk_failure,
            replace_ms: p.replace.map_or(DEFAULT_DISK_REPLACE_MS, |d| d.0),
            resilver_ms: (allocated as f64 / rate * 1000.0).round().min(crate::time::MAX_DURATION_MS as f64) as Millis,
            restore_ms: p.restore.map_or(DEFAULT_RESTORE_MS, |d| d.0),
            backup_interval_ms,
        })
    }

    fn node_ref(&self, name: &Located<String>, nodes: &[Node], key: &str, what: &str) -> Result<NodeId, InputError> {
        nodes.iter().position(|n| &n.name == name.get_ref()).ok_or_else(|| {
            self.err(
                name.span(),
                key,
                format!("{what} names node `{}`, which the scenario does not declare", name.get_ref()),
            )
        })
    }

    fn volumes(&mut self, raw: &[VolumeSpec], nodes: &[Node]) -> Result<Vec<Volume>, InputError> {
        let mut seen = HashSet::new();
        let mut volumes = Vec::with_capacity(raw.len());
        for v in raw {
            let name = v.name.get_ref().clone();
            if name.trim().is_empty() {
                return Err(self.err(v.name.span(), "volumes.name", "the volume name is empty"));
            }
            if !seen.insert(name.clone()) {
                return Err(self.err(
                    v.name.span(),
                    "volumes.name",
                    format!("two volumes are named `{name}`: volume names must be unique"),
                ));
            }
            let backend = v.backend.get_ref().as_str();
            let allowed: &[&str] = match backend {
                "zfs-local" => &["node"],
                "zfs-replicated" => &["node", "replica_node", "interval", "failover"],
                "gluster" => &[
                    "replicas",
                    "arbiter",
                    "bricks",
                    "heal_rate",
                    "write_rate",
                    "size",
                    "ping_timeout",
                    "quorum",
                    "health_check_interval",
                ],
                "block" => &["force_detach"],
                _ => {
                    return Err(self.err(
                        v.backend.span(),
                        "volumes.backend",
                        format!("unknown backend `{backend}` for volume `{name}`: use zfs-local, zfs-replicated, gluster or block"),
                    ));
                }
            };
            // Where each key is written, to point at one the backend does not take.
            let present = [
                ("node", v.node.as_ref().map(Located::span)),
                ("replica_node", v.replica_node.as_ref().map(Located::span)),
                ("interval", v.interval.as_ref().map(Located::span)),
                ("failover", v.failover.as_ref().map(Located::span)),
                ("replicas", v.replicas.as_ref().map(Located::span)),
                ("arbiter", v.arbiter.as_ref().map(Located::span)),
                ("bricks", v.bricks.as_ref().map(Located::span)),
                ("heal_rate", v.heal_rate.as_ref().map(Located::span)),
                ("write_rate", v.write_rate.as_ref().map(Located::span)),
                ("size", v.size.as_ref().map(Located::span)),
                ("ping_timeout", v.ping_timeout.as_ref().map(Located::span)),
                ("quorum", v.quorum.as_ref().map(Located::span)),
                ("health_check_interval", v.health_check_interval.as_ref().map(Located::span)),
                ("force_detach", v.force_detach.as_ref().map(Located::span)),
            ];
            if let Some((key, Some(span))) = present.iter().find(|(k, span)| span.is_some() && !allowed.contains(k)) {
                return Err(self.err(
                    span.clone(),
                    &format!("volumes.{key}"),
                    format!("volume `{name}` is {backend}, which takes no `{key}` (it takes: {})", allowed.join(", ")),
                ));
            }
            let built = match backend {
                "zfs-local" => Backend::ZfsLocal {
                    node: match &v.node {
                        Some(n) => Some(self.node_ref(n, nodes, "volumes.node", &format!("volume `{name}`"))?),
                        None => None,
                    },
                },
                "zfs-replicated" => {
                    let need = |key: &str, what: &str| {
                        self.err(
                            v.name.span(),
                            &format!("volumes.{key}"),
                            format!("zfs-replicated volume `{name}` needs `{key}`, {what}"),
                        )
                    };
                    let node_name = v.node.as_ref().ok_or_else(|| need("node", "the node that holds the dataset"))?;
                    let replica_name = v
                        .replica_node
                        .as_ref()
                        .ok_or_else(|| need("replica_node", "the node its snapshots are sent to"))?;
                    let node = self.node_ref(node_name, nodes, "volumes.node", &format!("volume `{name}`"))?;
                    let replica =
                        self.node_ref(replica_name, nodes, "volumes.replica_node", &format!("volume `{name}`"))?;
                    if node == replica {
                        return Err(self.err(
                            replica_name.span(),
                            "volumes.replica_node",
                            format!(
                                "volume `{name}` replicates to its own node `{}`: the replica must be on another node",
                                replica_name.get_ref()
                            ),
                        ));
                    }
                    let interval_ms = match &v.interval {
                        Some(i) => self.nonzero_ms(i, "volumes.interval", "the replication interval")?,
                        None => DEFAULT_REPLICATION_INTERVAL_MS,
                    };
                    let failover_ms = v.failover.as_ref().map_or(DEFAULT_ZFS_FAILOVER_MS, |d| d.get_ref().0);
                    Backend::ZfsReplicated { node, replica, interval_ms, failover_ms }
                }
                "gluster" => self.gluster(v, &name, nodes)?,
                _ => Backend::Block {
                    force_detach_ms: match v.force_detach.as_ref().map(|d| d.get_ref()) {
                        None => Some(DEFAULT_FORCE_DETACH_MS),
                        Some(Dist::Never) => None,
                        Some(Dist::Fixed(ms)) => Some(*ms),
                        Some(_) => {
                            let span = v.force_detach.as_ref().map_or(v.name.span(), |d| d.span());
                            return Err(self.err(
                                span,
                                "volumes.force_detach",
                                "`force_detach` is a duration such as \"6m\", or \"never\"",
                            ));
                        }
                    },
                },
            };
            volumes.push(Volume { name, backend: built });
        }
        Ok(volumes)
    }

    fn gluster(&mut self, v: &VolumeSpec, name: &str, nodes: &[Node]) -> Result<Backend, InputError> {
        let arbiter = v.arbiter.as_ref().is_some_and(|a| *a.get_ref());
        let replicas = match &v.replicas {
            Some(r) => self.count(r, "volumes.replicas", 1, 64)? as u32,
            None => 3,
        };
        if arbiter && replicas != 2 {
            // At the replica count if written, else at the arbiter (the
            // default of 3 replicas is what clashes with it).
            let span = match (&v.replicas, &v.arbiter) {
                (Some(r), _) => r.span(),
                (None, Some(a)) => a.span(),
                (None, None) => v.name.span(),
            };
            return Err(self.err(
                span,
                "volumes.replicas",
                format!(
                    "volume `{name}` has an arbiter and {replicas} replicas{}: write replicas = 2 (two data bricks and the arbiter)",
                    if v.replicas.is_none() { " (the default)" } else { "" }
                ),
            ));
        }
        let bricks_total = replicas + u32::from(arbiter);
        let bricks = match &v.bricks {
            Some(list) => {
                let mut ids = Vec::new();
                for b in list.get_ref() {
                    let id = self.node_ref(b, nodes, "volumes.bricks", &format!("a brick of volume `{name}`"))?;
                    if ids.contains(&id) {
                        return Err(self.err(
                            b.span(),
                            "volumes.bricks",
                            format!(
                                "volume `{name}` has two bricks on node `{}`: bricks must be on distinct nodes",
                                b.get_ref()
                            ),
                        ));
                    }
                    ids.push(id);
                }
                if ids.len() as u32 != bricks_total {
                    return Err(self.err(
                        list.span(),
                        "volumes.bricks",
                        format!(
                            "volume `{name}` lists {} brick{} but needs {bricks_total} (replicas = {replicas}{}{})",
                            ids.len(),
                            if ids.len() == 1 { "" } else { "s" },
                            if v.replicas.is_none() { ", the default" } else { "" },
                            if arbiter { ", plus the arbiter" } else { "" }
                        ),
                    ));
                }
                Some(ids)
            }
            None => None,
        };
        if bricks_total as usize > nodes.len() {
            let span = v.replicas.as_ref().map_or(v.name.span(), |r| r.span());
            return Err(self.err(
                span,
                "volumes.replicas",
                format!(
                    "volume `{name}` needs {bricks_total} bricks on distinct nodes but the scenario has {} nodes",
                    nodes.len()
                ),
            ));
        }
        let rate = |r: &Option<Located<Rate>>, key: &str, default: f64| -> Result<f64, InputError> {
            match r {
                Some(x) if x.get_ref().0 <= 0.0 => Err(self.err(x.span(), key, "the rate must be more than zero")),
                Some(x) => Ok(x.get_ref().0),
                None => Ok(default),
            }
        };
        let heal = rate(&v.heal_rate, "volumes.heal_rate", DEFAULT_HEAL_RATE_BYTES_PER_S)?;
        let write = match &v.write_rate {
            Some(x) => x.get_ref().0,
            None => DEFAULT_WRITE_RATE_BYTES_PER_S,
        };
        let quorum = self.gluster_quorum(v, name, bricks_total)?;
        let health_check_interval_ms = match &v.health_check_interval {
            Some(d) if d.get_ref().0 % 1000 != 0 => {
                return Err(self.err(
                    d.span(),
                    "volumes.health_check_interval",
                    "`health_check_interval` is whole seconds (storage.health-check-interval), or \"0s\" to disable the check",
                ));
            }
            Some(d) => d.get_ref().0,
            None => DEFAULT_HEALTH_CHECK_INTERVAL_MS,
        };
        if replicas == 2 && !arbiter {
            self.warnings.push(match quorum {
                GlusterQuorum::None => format!(
                    "gluster volume `{name}` is replica 2 without an arbiter and client quorum `none` (the upstream default for two bricks): it is not HA against split-brain (either brick alone takes writes, so files can need a manual heal)"
                ),
                _ => format!(
                    "gluster volume `{name}` is replica 2 without an arbiter: it is not HA (client quorum needs the first brick, or both, so losing a node can stop the volume)"
                ),
            });
        }
        Ok(Backend::Gluster {
            replicas,
            arbiter,
            bricks,
            heal_rate_bytes_per_s: heal,
            write_rate_bytes_per_s: write,
            size_bytes: v.size.as_ref().map_or(DEFAULT_GLUSTER_SIZE_BYTES, |s| s.get_ref().0),
            ping_timeout_ms: v.ping_timeout.as_ref().map_or(DEFAULT_PING_TIMEOUT_MS, |d| d.get_ref().0),
            quorum,
            health_check_interval_ms,
        })
    }

    /// `quorum`: `"auto"`, `"none"` or a count of bricks (`quorum-type
    /// fixed` with `quorum-count`); by default upstream's choice for the
    /// brick count, the arbiter counted (afr.c `fix_quorum_options`).
    fn gluster_quorum(&self, v: &VolumeSpec, name: &str, bricks: u32) -> Result<GlusterQuorum, InputError> {
        let Some(q) = &v.quorum else { return Ok(GlusterQuorum::default_for(bricks)) };
        let key = "volumes.quorum";
        match q.get_ref() {
            super::spec::Quorum::Name(n) if n == "auto" => Ok(GlusterQuorum::Auto),
            super::spec::Quorum::Name(n) if n == "none" => Ok(GlusterQuorum::None),
            super::spec::Quorum::Name(n) if n == "fixed" => Err(self.err(
                q.span(),
                key,
                format!(
                    "write the count itself for a fixed quorum: `quorum = 2` (cluster.quorum-count), 1 to {bricks}"
                ),
            )),
            super::spec::Quorum::Name(n) => Err(self.err(
                q.span(),
                key,
                format!("unknown quorum `{n}` for volume `{name}`: use \"auto\", \"none\" or a number of bricks"),
            )),
            &super::spec::Quorum::Count(n) if n < 1 || n > i64::from(bricks) => Err(self.err(
                q.span(),
                key,
                format!(
                    "volume `{name}` has {bricks} bricks{}: a fixed quorum is 1 to {bricks} bricks, not {n}{}",
                    if v.arbiter.as_ref().is_some_and(|a| *a.get_ref()) { " (the arbiter counted)" } else { "" },
                    if n == 0 { " (for no quorum write \"none\")" } else { "" }
                ),
            )),
            &super::spec::Quorum::Count(n) => Ok(GlusterQuorum::Fixed(n as u32)),
        }
    }

    fn apps(
        &mut self,
        raw: &[AppSpec],
        nodes: &[Node],
        volumes: &[Volume],
        kinds: &[String],
    ) -> Result<Vec<App>, InputError> {
        if raw.is_empty() {
            return Err(InputError::new(self.file, "the scenario has no [[apps]]: declare at least one app"));
        }
        let mut seen = HashSet::new();
        let mut apps = Vec::with_capacity(raw.len());
        let mut pods = 0u64;
        for app in raw {
            let base = app.name.get_ref();
            if base.trim().is_empty() {
                return Err(self.err(app.name.span(), "apps.name", "the app name is empty"));
            }
            let names: Vec<String> = match &app.count {
                None => vec![base.clone()],
                Some(c) => {
                    let count = self.count(c, "apps.count", 1, i64::MAX)? as u64;
                    let total = pods + count;
                    if total > self.limits.max_pods {
                        return Err(self.over_limit(c.span(), "apps.count", total, PODS_LIMIT));
                    }
                    (1..=count).map(|i| format!("{base}-{i}")).collect()
                }
            };
            let built = self.app(app, base, nodes, volumes, kinds)?;
            for name in names {
                if !seen.insert(name.clone()) {
                    return Err(self.err(
                        app.name.span(),
                        "apps.name",
                        format!("two apps are named `{name}`: app names must be unique"),
                    ));
                }
                pods += u64::from(built.replicas);
                if pods > self.limits.max_pods {
                    let span = app.replicas.as_ref().or(app.count.as_ref()).map_or(app.name.span(), |r| r.span());
                    return Err(self.over_limit(span, "apps.replicas", pods, PODS_LIMIT));
                }
                apps.push(App { name, ..built.clone() });
            }
        }
        Ok(apps)
    }

    fn app(
        &mut self,
        app: &AppSpec,
        name: &str,
        nodes: &[Node],
        volumes: &[Volume],
        kinds: &[String],
    ) -> Result<App, InputError> {
        let workload = match app.kind.as_ref().map(|k| k.get_ref().as_str()) {
            None | Some("deployment") => Workload::Deployment,
            Some("statefulset") => Workload::StatefulSet,
            Some(other) => {
                let span = app.kind.as_ref().map_or(Place::Code, |k| k.span());
                return Err(self.err(
                    span,
                    "apps.kind",
                    format!("unknown kind `{other}` for app `{name}`: use deployment or statefulset"),
                ));
            }
        };
        let spread = match (&app.spread_over, &app.spread) {
            (None, None) => None,
            (None, Some(m)) => {
                return Err(self.err(
                    m.span(),
                    "apps.spread",
                    format!(
                        "app `{name}` sets `spread` without `spread_over = \"KIND\"`, the domain kind to spread over"
                    ),
                ));
            }
            (Some(k), mode) => {
                let kind = kinds.iter().position(|x| x == k.get_ref()).ok_or_else(|| {
                    self.err(
                        k.span(),
                        "apps.spread_over",
                        format!(
                            "app `{name}` spreads over `{}`, but no domain has that kind: the kinds declared are [{}]",
                            k.get_ref(),
                            kinds.join(", ")
                        ),
                    )
                })?;
                let mode = match mode.as_ref().map(|m| m.get_ref().as_str()) {
                    None | Some("preferred") => SpreadMode::Preferred,
                    Some("required") => SpreadMode::Required,
                    Some(other) => {
                        let span = mode.as_ref().map_or(Place::Code, |m| m.span());
                        return Err(self.err(
                            span,
                            "apps.spread",
                            format!("unknown spread `{other}`: use required or preferred"),
                        ));
                    }
                };
                Some((kind, mode))
            }
        };
        let crash = app.crash.as_ref().map_or(Dist::Never, |c| c.get_ref().clone());
        let hang = app.hang.as_ref().map_or(Dist::Never, |h| h.get_ref().clone());
        for (dist, field, key) in [(&crash, &app.crash, "apps.crash"), (&hang, &app.hang, "apps.hang")] {
            if dist.mean_ms() == Some(0.0) {
                let span = field.as_ref().map_or(Place::Code, |f| f.span());
                return Err(self.err(
                    span,
                    key,
                    format!(
                        "app `{name}` would fail continuously: the time between failures must have a mean above zero"
                    ),
                ));
            }
        }
        let class = Class::parse(app.class.get_ref()).ok_or_else(|| {
            self.err(
                app.class.span(),
                "apps.class",
                format!("unknown class `{}` for app `{name}`: use flexible, node-bound or ha", app.class.get_ref()),
            )
        })?;
        let replicas = match (&app.replicas, class) {
            (Some(r), Class::Ha) => {
                let n = self.count(r, "apps.replicas", 1, i64::MAX)? as u64;
                if n > self.limits.max_pods {
                    return Err(self.over_limit(r.span(), "apps.replicas", n, PODS_LIMIT));
                }
                n as u32
            }
            (None, Class::Ha) => {
                return Err(self.err(
                    app.class.span(),
                    "apps.replicas",
                    format!("ha app `{name}` needs `replicas`, the number of pods that run at once"),
                ));
            }
            (Some(r), _) if *r.get_ref() != 1 => {
                return Err(self.err(
                    r.span(),
                    "apps.replicas",
                    format!(
                        "{} app `{name}` runs one pod: `replicas` must be 1 (use class = \"ha\" for several)",
                        class.name()
                    ),
                ));
            }
            _ => 1,
        };
        let min_available = match &app.min_available {
            Some(m) if *m.get_ref() < 1 || *m.get_ref() > i64::from(replicas) => {
                return Err(self.err(
                    m.span(),
                    "apps.min_available",
                    format!("app `{name}` has {replicas} replicas: `min_available` must be between 1 and {replicas}, not {}", m.get_ref()),
                ));
            }
            Some(m) => *m.get_ref() as u32,
            None => 1,
        };
        let anti_affinity = match &app.anti_affinity {
            Some(a) => a.get_ref().parse::<AntiAffinity>().ok().ok_or_else(|| {
                self.err(
                    a.span(),
                    "apps.anti_affinity",
                    format!("unknown anti-affinity `{}`: use required, preferred or none", a.get_ref()),
                )
            })?,
            None => AntiAffinity::Preferred,
        };
        let node = match &app.node {
            Some(pin) => Some(nodes.iter().position(|n| &n.name == pin.get_ref()).ok_or_else(|| {
                self.err(
                    pin.span(),
                    "apps.node",
                    format!("app `{name}` is pinned to node `{}`, which the scenario does not declare", pin.get_ref()),
                )
            })?),
            None => None,
        };
        let mut requires = Vec::new();
        for device in app.requires.iter().flatten() {
            if !nodes.iter().any(|n| n.devices.contains(device.get_ref())) {
                return Err(self.err(
                    device.span(),
                    "apps.requires",
                    format!("app `{name}` requires device `{}`, which no node has", device.get_ref()),
                ));
            }
            requires.push(device.get_ref().clone());
        }
        let startup = match &app.startup {
            Some(s) if *s.get_ref() == Dist::Never => {
                return Err(self.err(
                    s.span(),
                    "apps.startup",
                    format!("app `{name}` would never start: `startup` cannot be never"),
                ));
            }
            Some(s) => s.get_ref().clone(),
            None => Dist::Fixed(DEFAULT_STARTUP_MS),
        };
        let mut node = node;
        let mut used = Vec::new();
        let mut zfs: Option<(VolumeId, &Located<String>)> = None;
        for v in app.volumes.iter().flatten() {
            let id = volumes.iter().position(|x| &x.name == v.get_ref()).ok_or_else(|| {
                self.err(
                    v.span(),
                    "apps.volumes",
                    format!("app `{name}` uses volume `{}`, which no [[volumes]] declares", v.get_ref()),
                )
            })?;
            if used.contains(&id) {
                return Err(self.err(
                    v.span(),
                    "apps.volumes",
                    format!("app `{name}` lists volume `{}` twice", v.get_ref()),
                ));
            }
            used.push(id);
            match &volumes[id].backend {
                Backend::ZfsLocal { .. } | Backend::ZfsReplicated { .. } => {
                    if let Some((other, _)) = zfs {
                        return Err(self.err(v.span(), "apps.volumes", format!(
                            "app `{name}` uses two ZFS volumes, `{}` and `{}`: a pod can follow one node-local dataset only",
                            volumes[other].name, v.get_ref()
                        )));
                    }
                    zfs = Some((id, v));
                }
                Backend::Block { .. } if replicas > 1 => {
                    return Err(self.err(v.span(), "apps.volumes", format!(
                        "block volume `{}` is ReadWriteOnce: it cannot serve the {replicas} replicas of app `{name}`", v.get_ref()
                    )));
                }
                _ => {}
            }
        }
        if let Some((id, span)) = zfs
            && replicas > 1
        {
            self.warnings.push(format!(
                "ha app `{name}` keeps its data on {} volume `{}`: all {replicas} replicas must run on that dataset's node and fail with it",
                volumes[id].backend.name(),
                span.get_ref()
            ));
        }
        if let Some((id, span)) = zfs {
            if let Backend::ZfsLocal { node: Some(at) } = volumes[id].backend {
                if let Some(pin) = node.filter(|&pin| pin != at) {
                    return Err(self.err(
                        span.span(),
                        "apps.volumes",
                        format!(
                            "app `{name}` is pinned to node `{}` but its zfs-local volume `{}` lives on node `{}`",
                            nodes[pin].name,
                            span.get_ref(),
                            nodes[at].name
                        ),
                    ));
                }
                node = Some(at);
            }
            if class == Class::Flexible {
                self.warnings.push(format!(
                    "flexible app `{name}` uses {} volume `{}`: its pods can only run where that dataset is, so it behaves as node-bound{}",
                    volumes[id].backend.name(),
                    span.get_ref(),
                    if matches!(volumes[id].backend, Backend::ZfsReplicated { .. }) { " until a failover" } else { "" }
                ));
            }
        }
        let built = App {
            name: name.to_string(),
            class,
            cpu_m: app.cpu.as_ref().map_or(0, |c| c.get_ref().0),
            memory_bytes: app.memory.as_ref().map_or(0, |m| m.get_ref().0),
            startup,
            replicas,
            min_available,
            anti_affinity,
            node,
            requires,
            volumes: used,
            kind: workload,
            depends_on: Vec::new(),
            spread,
            crash,
            hang,
            max_unavailable: match &app.max_unavailable {
                Some(m) => Some(self.count(m, "apps.max_unavailable", 0, i64::from(replicas))? as u32),
                None => None,
            },
        };
        let eligible = nodes.iter().enumerate().filter(|(i, n)| built.fits_statically(*i, n)).count();
        if eligible == 0 {
            let largest_cpu = nodes.iter().map(|n| n.cpu_m).max().unwrap_or(0);
            let largest_memory = nodes.iter().map(|n| n.memory_bytes).max().unwrap_or(0);
            let (span, key, why) = match (&app.cpu, &app.memory) {
                (Some(c), _) if c.get_ref().0 > largest_cpu => (
                    c.span(),
                    "apps.cpu",
                    format!(
                        "it requests {} CPU and the largest node has {}: lower `cpu` or declare a larger node",
                        format_cpu(c.get_ref().0),
                        format_cpu(largest_cpu)
                    ),
                ),
                (_, Some(m)) if m.get_ref().0 > largest_memory => (
                    m.span(),
                    "apps.memory",
                    format!(
                        "it requests {} of memory and the largest node has {}: lower `memory` or declare a larger node",
                        format_size(m.get_ref().0),
                        format_size(largest_memory)
                    ),
                ),
                _ => (app.name.span(), "apps.node", "no node has its pin, devices and room together".to_string()),
            };
            return Err(self.err(span, key, format!("no node can run app `{name}`: {why}")));
        }
        if class == Class::Ha && anti_affinity == AntiAffinity::Required && (replicas as usize) > eligible {
            let span = app.replicas.as_ref().map_or(app.name.span(), |r| r.span());
            return Err(self.err(span, "apps.replicas", format!(
                "ha app `{name}` wants {replicas} replicas under required anti-affinity but only {eligible} nodes can run it"
            )));
        }
        match class {
            Class::NodeBound
                if built.node.is_none()
                    && built.requires.is_empty()
                    && !built.volumes.iter().any(|&v| matches!(volumes[v].backend, Backend::ZfsLocal { .. })) =>
            {
                return Err(self.err(app.class.span(), "apps.class", format!(
                    "node-bound app `{name}` is bound to nothing: give it `node = \"...\"` or `requires = [\"device\"]`"
                )));
            }
            Class::NodeBound
                if eligible > 1
                    && !built.volumes.iter().any(|&v| matches!(volumes[v].backend, Backend::ZfsLocal { .. })) =>
            {
                self.warnings.push(format!(
                "node-bound app `{name}` can run on {eligible} nodes (its devices are on several): it can move like a flexible app"
                ))
            }
            // A zfs-local dataset's pin is warned about above.
            Class::Flexible | Class::Ha
                if built.eligible_nodes(nodes, volumes).len() == 1
                    && !built.volumes.iter().any(|&v| matches!(volumes[v].backend, Backend::ZfsLocal { .. })) =>
            {
                let warning = self.only_one_node(&built, nodes, volumes);
                self.warnings.push(warning)
            }
            Class::Ha if anti_affinity == AntiAffinity::None => self.warnings.push(format!(
                "ha app `{name}` has no anti-affinity: several replicas may share a node and fail together"
            )),
            Class::Ha if replicas == 1 => self.warnings.push(format!("ha app `{name}` has a single replica: it is no more available than a flexible app")),
            _ => {}
        }
        Ok(built)
    }

    /// The warning for a flexible or HA app that its rules together allow
    /// on one node only: each rule with the nodes it allows.
    fn only_one_node(&self, app: &App, nodes: &[Node], volumes: &[Volume]) -> String {
        let names = |ids: Vec<NodeId>| {
            let shown: Vec<&str> = ids.iter().take(4).map(|&n| nodes[n].name.as_str()).collect();
            let more = if ids.len() > 4 { format!(" and {} more", ids.len() - 4) } else { String::new() };
            format!("{}{more}", shown.join(", "))
        };
        let all = || 0..nodes.len();
        let mut rules = Vec::new();
        if let Some(pin) = app.node {
            rules.push(format!("`node = \"{}\"`", nodes[pin].name));
        }
        if !app.requires.is_empty() {
            let with = all().filter(|&n| app.requires.iter().all(|d| nodes[n].devices.contains(d))).collect();
            rules.push(format!("`requires = [{}]` (on {})", app.requires.join(", "), names(with)));
        }
        if app.cpu_m > 0 || app.memory_bytes > 0 {
            let big =
                all().filter(|&n| app.cpu_m <= nodes[n].cpu_m && app.memory_bytes <= nodes[n].memory_bytes).collect();
            rules.push(format!(
                "cpu {} and memory {} (room on {})",
                format_cpu(app.cpu_m),
                format_size(app.memory_bytes),
                names(big)
            ));
        }
        for &v in &app.volumes {
            match volumes[v].backend {
                Backend::ZfsLocal { node: Some(at) } => {
                    rules.push(format!("volume `{}` (zfs-local on {})", volumes[v].name, nodes[at].name))
                }
                Backend::ZfsReplicated { node, replica, .. } => rules.push(format!(
                    "volume `{}` (zfs-replicated on {} and {})",
                    volumes[v].name, nodes[node].name, nodes[replica].name
                )),
                _ => {}
            }
        }
        let only = names(app.eligible_nodes(nodes, volumes));
        let who = if app.class == Class::Ha {
            "all its replicas run there and fail with it"
        } else {
            "it is down whenever that node is"
        };
        format!(
            "{} app `{}` can run on node `{only}` only, by its rules together ({}): {who}; drop or widen a rule (or add a node that meets them all), or declare it `class = \"node-bound\"`",
            app.class.name(),
            app.name,
            rules.join("; ")
        )
    }

    /// The line of byte offset `at` in the file, for warnings.
    fn line(&self, at: usize) -> usize {
        self.text[..at.min(self.text.len())].matches('\n').count() + 1
    }

    /// Traps in what the file says, warned once per place written: a bare
    /// integer size below 1 MiB (bytes, not GiB), and a fixed failure time
    /// (every node or domain fails at the same instants).
    fn warn_written_traps(&mut self, raw: &Spec) {
        let mut sizes: Vec<(String, Size, Option<usize>)> = Vec::new();
        // Only a fixed failure time matters here: its milliseconds.
        let mut failures: Vec<(String, Option<Millis>, usize)> = Vec::new();
        let fixed = |f: &Located<Dist>| match f.get_ref() {
            Dist::Fixed(ms) => Some(*ms),
            _ => None,
        };
        let d = &raw.node_defaults;
        sizes.extend(
            d.memory.as_ref().map(|m| ("node_defaults.memory".to_string(), *m.get_ref(), Some(m.span().offset()))),
        );
        sizes.extend(d.pool.as_ref().and_then(|p| {
            p.get_ref().allocated.map(|a| ("node_defaults.pool.allocated".to_string(), a, Some(p.span().offset())))
        }));
        failures.extend(d.failure.as_ref().map(|f| ("node_defaults.failure".to_string(), fixed(f), f.span().offset())));
        for n in &raw.nodes {
            let of = format!("of node `{}`", n.name.get_ref());
            sizes.extend(
                n.memory.as_ref().map(|m| (format!("nodes.memory {of}"), *m.get_ref(), Some(m.span().offset()))),
            );
            sizes.extend(n.pool.as_ref().and_then(|p| {
                p.get_ref().allocated.map(|a| (format!("nodes.pool.allocated {of}"), a, Some(p.span().offset())))
            }));
            failures.extend(n.failure.as_ref().map(|f| (format!("nodes.failure {of}"), fixed(f), f.span().offset())));
        }
        for dom in &raw.domains {
            failures.extend(
                dom.failure.as_ref().map(|f| {
                    (format!("domains.failure of domain `{}`", dom.name.get_ref()), fixed(f), f.span().offset())
                }),
            );
        }
        for a in &raw.apps {
            sizes.extend(a.memory.as_ref().map(|m| {
                (format!("apps.memory of app `{}`", a.name.get_ref()), *m.get_ref(), Some(m.span().offset()))
            }));
        }
        for v in &raw.volumes {
            sizes.extend(v.size.as_ref().map(|m| {
                (format!("volumes.size of volume `{}`", v.name.get_ref()), *m.get_ref(), Some(m.span().offset()))
            }));
        }
        for (key, Size(bytes, bare), at) in sizes {
            if bare && bytes < 1 << 20 {
                let line = at.map_or(String::new(), |at| format!(" (line {})", self.line(at)));
                self.warnings.push(format!(
                    "`{key}`{line} is the bare number {bytes}, which is {bytes} bytes: write a quoted size with a unit, such as \"{bytes}Gi\" or \"{bytes}Mi\""
                ));
            }
        }
        for (key, fixed_ms, at) in failures {
            if let Some(ms) = fixed_ms {
                let t = format_duration(ms);
                self.warnings.push(format!(
                    "`{key}` (line {}) is \"{t}\", a fixed time to failure: it fails exactly {t} after the start and after each repair, at the same instants as everything else with it; for a mean time between failures write failure = {{ dist = \"exponential\", mean = \"{t}\" }} (or a weibull)",
                    self.line(at)
                ));
            }
        }
    }

    /// A single-pod StatefulSet that could run elsewhere but that nothing
    /// deletes from a failed node: the StatefulSet controller does not
    /// create its replacement while the old pod object exists, so the app is
    /// down until the node returns.
    fn warn_statefulset_waits_for_its_node(
        &mut self,
        kube: &Kubernetes,
        apps: &[App],
        nodes: &[Node],
        volumes: &[Volume],
    ) {
        let deleted = kube.out_of_service_after != Dist::Never
            || kube.pod_force_delete_after != Dist::Never
            || kube.node_delete_after != Dist::Never;
        if deleted {
            return;
        }
        for app in apps.iter().filter(|a| a.kind == Workload::StatefulSet && a.replicas == 1) {
            if app.eligible_nodes(nodes, volumes).len() > 1 {
                self.warnings.push(format!(
                    "single-pod statefulset app `{}` waits for its node after a crash: Kubernetes does not replace a StatefulSet pod while its object stays on the unreachable node, and nothing here deletes it; set kubernetes.out_of_service_after (such as \"15m\": an operator or fencing controller taints the dead node out-of-service) or kubernetes.pod_force_delete_after, or make it a deployment",
                    app.name
                ));
            }
        }
    }

    /// A block volume whose old pod object nothing deletes after a crash
    /// (no force delete, no Node deletion) or that nothing detaches once it
    /// is deleted (`force_detach = "never"`), and without the out-of-service
    /// taint, is released only when the crashed node returns.
    fn warn_block_waits_for_its_node(&mut self, kube: &Kubernetes, apps: &[App], volumes: &[Volume]) {
        if kube.out_of_service_after != Dist::Never {
            return;
        }
        let deleted = kube.pod_force_delete_after != Dist::Never || kube.node_delete_after != Dist::Never;
        for (id, volume) in volumes.iter().enumerate() {
            let Backend::Block { force_detach_ms } = volume.backend else { continue };
            if !apps.iter().any(|a| a.volumes.contains(&id)) {
                continue;
            }
            let why = match (deleted, force_detach_ms) {
                (false, _) => {
                    "no kubernetes.pod_force_delete_after or node_delete_after deletes the old pod, which stays Terminating on the dead node and keeps the attachment"
                }
                (true, None) => "its force_detach is \"never\" (--disable-force-detach-on-timeout)",
                (true, Some(_)) => continue,
            };
            self.warnings.push(format!(
                "block volume `{}` waits for its node after a crash: {why}, and kubernetes.out_of_service_after is \"never\"; its pod is back only when that node returns",
                volume.name
            ));
        }
    }

    /// Block volumes serve one pod; an unused volume is probably a mistake.
    fn check_volume_users(&mut self, raw: &Spec, apps: &[App], volumes: &[Volume]) -> Result<(), InputError> {
        for (id, volume) in volumes.iter().enumerate() {
            let pods: u32 = apps.iter().filter(|a| a.volumes.contains(&id)).map(|a| a.replicas).sum();
            if pods == 0 {
                self.warnings.push(format!("volume `{}` is used by no app", volume.name));
            }
            if matches!(volume.backend, Backend::Block { .. }) && pods > 1 {
                let span = raw
                    .apps
                    .iter()
                    .flat_map(|a| a.volumes.iter().flatten())
                    .filter(|v| v.get_ref() == &volume.name)
                    .nth(1)
                    .or_else(|| {
                        raw.apps.iter().flat_map(|a| a.volumes.iter().flatten()).find(|v| v.get_ref() == &volume.name)
                    })
                    .map_or(Place::Code, |v| v.span());
                return Err(self.err(
                    span,
                    "apps.volumes",
                    format!("block volume `{}` is ReadWriteOnce: {pods} pods use it, it can serve one", volume.name),
                ));
            }
        }
        Ok(())
    }

    fn events(
        &mut self,
        raw: &Spec,
        nodes: &[Node],
        domains: &[Domain],
        apps: &[App],
    ) -> Result<Vec<ScriptedEvent>, InputError> {
        let mut events = Vec::new();
        for event in &raw.events {
            let fail = event.fail.get_ref();
            let bad = |why: String| self.err(event.fail.span(), "events.fail", why);
            // The position of the entry named `name`, or an error listing
            // the names there are.
            let find = |kind: &str, plural: &str, name: &str, names: Vec<&str>| {
                names.iter().position(|n| *n == name).ok_or_else(|| {
                    bad(format!("no {kind} is named `{name}`: {}", known_names(plural, names.iter().copied())))
                })
            };
            let node_names = || nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>();
            let target = match fail.split_once(':') {
                Some(("app", name)) => {
                    Target::App(find("app", "apps", name, apps.iter().map(|a| a.name.as_str()).collect())?)
                }
                Some(("domain", name)) => {
                    Target::Domain(find("domain", "domains", name, domains.iter().map(|d| d.name.as_str()).collect())?)
                }
                Some(("node", name)) => Target::Node(find("node", "nodes", name, node_names())?),
                Some(("disk", rest)) => {
                    let (node_name, index) = rest
                        .rsplit_once(':')
                        .ok_or_else(|| bad(format!("`{fail}` is not a disk: write \"disk:NODE:N\" with N from 1")))?;
                    let node = find("node", "nodes", node_name, node_names())?;
                    let pool = nodes[node]
                        .pool
                        .as_ref()
                        .ok_or_else(|| bad(format!("node `{node_name}` declares no pool, so it has no disks")))?;
                    let index: u32 = index.parse().ok().filter(|&i| i >= 1 && i <= pool.disks).ok_or_else(|| {
                        bad(format!("node `{node_name}` has disks 1 to {}, not `{index}`", pool.disks))
                    })?;
                    Target::Disk(node, index - 1)
                }
                _ => {
                    return Err(self.err(
                        event.fail.span(),
                        "events.fail",
                        format!("`{fail}` is not a failure target: write \"node:NAME\", \"domain:NAME\", \"disk:NODE:N\" or \"app:NAME\""),
                    ));
                }
            };
            let at_ms = event.at.get_ref().0;
            let duration_ms = event.duration.as_ref().map(|d| d.get_ref().0);
            if let (Target::Disk(..) | Target::App(_), Some(d)) = (target, &event.duration) {
                return Err(self.err(
                    d.span(),
                    "events.duration",
                    "`duration` applies to node and domain failures only: a failed disk is replaced and resilvered as its pool says, a crashed container restarts with the kubelet's back-off",
                ));
            }
            events.push(ScriptedEvent { at_ms, target, duration_ms });
        }
        Ok(events)
    }
}
