//! The validated model of a scenario: what the engine runs.
//!
//! [`Spec`] is the input as plain data; [`Scenario::new`] validates it into a
//! [`Scenario`], whose every value is known to be valid: references
//! are indices, quantities carry their unit in their name, and the
//! constraints the engine relies on hold (every app fits on some node, an HA
//! app under required anti-affinity has enough eligible nodes, failure
//! distributions have a positive mean).

pub mod limits;
pub mod maintenance;
pub mod order;
pub mod spec;
pub mod trace;
pub mod validate;

pub use spec::{Located, Place, Spec};
pub use validate::Origin;

use crate::dist::Dist;
use crate::time::Millis;

pub use crate::ids::{AppId, DomainId, NodeId, VolumeId};

#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario's `name`, as written.
    pub name: String,
    /// The file it came from, as the user named it.
    pub source: String,
    /// The text of that file, kept for the reports.
    pub text: String,
    pub horizon_ms: Millis,
    pub replications: u32,
    pub seed: u64,
    pub strategies: Vec<Strategy>,
    pub kube: Kubernetes,
    pub nodes: Vec<Node>,
    pub apps: Vec<App>,
    pub events: Vec<ScriptedEvent>,
    pub volumes: Vec<Volume>,
    pub domains: Vec<Domain>,
    /// The distinct domain kinds, in order of first appearance.
    pub domain_kinds: Vec<String>,
    /// `topology[k][n]`: the domain of kind `k` that node `n` belongs to.
    pub topology: Vec<Vec<Option<DomainId>>>,
    /// The kind `domain-spread` spreads over (`[placement] spread_kind`).
    pub spread_kind: Option<usize>,
    /// Failures replayed from traces, in time order.
    pub replayed: Vec<ScriptedEvent>,
    /// Rolling planned maintenance, if any.
    pub maintenance: Option<Maintenance>,
    /// Legal but probably unintended things, for `validate` and the reports.
    pub warnings: Vec<String>,
    /// The work and memory a run may ask for (`[limits]`, defaults in
    /// `scenario::limits`).
    pub limits: Limits,
}

/// Soft limits on the size of a run: a scenario that asks for more is
/// refused before anything runs, with the limit named. Each can be raised in
/// the scenario's `[limits]` table up to a hard ceiling
/// (`scenario::limits::HARD_*`).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Nodes after `count` expansion.
    pub max_nodes: u64,
    /// Pods in all: the sum of `replicas` over the expanded apps.
    pub max_pods: u64,
    pub max_replications: u64,
    /// Estimated events of one replication under one strategy (a replication
    /// runs on one thread and cannot be split).
    pub max_events_per_replication: u64,
    /// Estimated events of the whole run in one process (replications of
    /// this shard x strategies x events per replication).
    pub max_events: u64,
    /// Estimated memory the per-replication results take until they are
    /// summarized and written.
    pub max_memory_bytes: u64,
}

/// The Kubernetes minor releases whose defaults clustersim knows, oldest
/// first (`kubernetes.version`). The newest is the default. Every default
/// that differs between them is set in [`Kubernetes::for_version`].
pub const KUBE_VERSIONS: std::ops::RangeInclusive<u32> = 30..=35;

/// Control-plane timings, defaulting to upstream Kubernetes (domain.md §1).
#[derive(Debug, Clone, PartialEq)]
pub struct Kubernetes {
    /// The minor release (`1.N`) whose defaults are in force.
    pub version_minor: u32,
    /// The scenario named the release (`kubernetes.version`).
    pub version_stated: bool,
    /// `--node-monitor-grace-period`: 40 s up to 1.31, 50 s from 1.32.
    pub node_monitor_grace_period_ms: Millis,
    /// `--node-monitor-period` (5 s): the node controller looks at leases and
    /// conditions at passes this far apart; 0 means at every instant.
    pub node_monitor_period_ms: Millis,
    /// The kubelet renews its node Lease this often (10 s).
    pub lease_renew_interval_ms: Millis,
    /// DefaultTolerationSeconds for the unreachable / not-ready taints (300 s).
    pub eviction_toleration_ms: Millis,
    /// `--node-eviction-rate`, nodes tainted per second in a healthy zone (0.1).
    pub eviction_rate_per_s: f64,
    /// `--secondary-node-eviction-rate`, for a partially disrupted large zone (0.01).
    pub secondary_eviction_rate_per_s: f64,
    /// `--unhealthy-zone-threshold`, the NotReady fraction of PartialDisruption (0.55).
    pub unhealthy_zone_threshold: f64,
    /// `--large-cluster-size-threshold` (50): at or below it a partially
    /// disrupted zone stops evicting.
    pub large_cluster_size_threshold: u32,
    /// The operator adds the `node.kubernetes.io/out-of-service` taint this
    /// long after a node goes NotReady: its pods are evicted at once and
    /// PodGC force-deletes them at its next pass (`gcTerminating`); `Never`
    /// by default.
    pub out_of_service_after: Dist,
    /// An operator force-deletes (`kubectl delete pod --force`) the pods left
    /// Terminating on an unreachable node this long after their eviction;
    /// `Never` by default.
    pub pod_force_delete_after: Dist,
    /// The Node object of a NotReady node is deleted this long after its
    /// NotReady mark (a cloud node lifecycle controller does it once the VM
    /// is gone); PodGC then deletes its pods (`gcOrphaned`). `Never` by
    /// default.
    pub node_delete_after: Dist,
    /// PodGC's `gcCheckPeriod` (20 s): how often it looks for pods to delete.
    pub pod_gc_check_period_ms: Millis,
    /// Liveness probe: a hung container is restarted after period x threshold.
    pub liveness_period_ms: Millis,
    pub liveness_failure_threshold: u32,
    /// CrashLoopBackOff: the first crash restarts at once, the next wait
    /// `backoff_initial`, doubling up to the cap; a crash more than
    /// `backoff_reset` after the last restart starts over.
    pub backoff_initial_ms: Millis,
    pub backoff_max_ms: Millis,
    pub backoff_reset_ms: Millis,
}

impl Kubernetes {
    /// The upstream defaults of release `1.minor` (`minor` in
    /// [`KUBE_VERSIONS`]). Only the grace period differs between 1.30 and
    /// 1.35: PR 126287 raised it from 40 s to 50 s in 1.32
    /// (`pkg/controller/nodelifecycle/config/v1alpha1/defaults.go`). The
    /// kubelet's back-off (`pkg/kubelet/kubelet.go`) is 10 s doubling to
    /// 300 s in all of them: `ReduceDefaultCrashLoopBackOffDecay` is alpha
    /// (off) since 1.33 and `KubeletCrashLoopBackOffMax` (beta, on, in 1.35)
    /// changes nothing unless a node sets its own maximum.
    pub fn for_version(minor: u32) -> Kubernetes {
        Kubernetes {
            version_minor: minor,
            version_stated: false,
            node_monitor_grace_period_ms: if minor >= 32 { 50_000 } else { 40_000 },
            node_monitor_period_ms: 5_000,
            lease_renew_interval_ms: 10_000,
            eviction_toleration_ms: 300_000,
            eviction_rate_per_s: 0.1,
            secondary_eviction_rate_per_s: 0.01,
            unhealthy_zone_threshold: 0.55,
            large_cluster_size_threshold: 50,
            out_of_service_after: Dist::Never,
            pod_force_delete_after: Dist::Never,
            node_delete_after: Dist::Never,
            pod_gc_check_period_ms: 20_000,
            liveness_period_ms: 10_000,
            liveness_failure_threshold: 3,
            backoff_initial_ms: 10_000,
            backoff_max_ms: 300_000,
            backoff_reset_ms: 600_000,
        }
    }

    /// `1.N`, as the scenario writes it.
    pub fn version(&self) -> String {
        format!("1.{}", self.version_minor)
    }
}

impl Default for Kubernetes {
    /// The newest release's defaults.
    fn default() -> Self {
        Kubernetes::for_version(*KUBE_VERSIONS.end())
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub cpu_m: u64,
    pub memory_bytes: u64,
    pub devices: Vec<String>,
    pub failure: Dist,
    pub repair: Dist,
    /// Index of the node's zone for the zone disruption rule. Every node is in
    /// zone 0 until failure domains of kind `zone` exist.
    pub zone: usize,
    /// The ZFS pool that holds the node's datasets and bricks; `None` is a
    /// pool that never fails.
    pub pool: Option<Pool>,
    /// Holds an etcd member (or is the single k3s server).
    pub control_plane: bool,
    /// The failure domains the node belongs to.
    pub domains: Vec<DomainId>,
    /// Its labels as written (domain selectors match them).
    pub labels: std::collections::BTreeMap<String, String>,
}

impl Node {
    /// A node built in code rather than read from a file (benchmarks,
    /// tests): no devices, pool, domains or control plane, and it never
    /// fails. Callers set what they need with struct update syntax.
    pub fn new(name: impl Into<String>, cpu_m: u64, memory_bytes: u64) -> Node {
        Node {
            name: name.into(),
            cpu_m,
            memory_bytes,
            devices: vec![],
            failure: Dist::Never,
            repair: Dist::Never,
            zone: 0,
            pool: None,
            control_plane: false,
            domains: vec![],
            labels: Default::default(),
        }
    }
}

/// The domain kind the node lifecycle controller groups nodes by: a
/// `[[domains]]` entry of this kind is a zone (the
/// `topology.kubernetes.io/zone` label upstream), with its own disruption
/// state and eviction rate limiter.
pub const ZONE_KIND: &str = "zone";

/// A failure domain: a rack, a power feed, a switch, a zone. A node is up
/// only while it and every domain it belongs to are up.
#[derive(Debug, Clone)]
pub struct Domain {
    pub name: String,
    pub kind: String,
    pub nodes: Vec<NodeId>,
    pub failure: Dist,
    pub repair: Dist,
}

/// The layout of a pool's single vdev.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::EnumCount, strum::VariantArray,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Layout {
    Stripe,
    Mirror,
    Raidz1,
    Raidz2,
    Raidz3,
}

impl Layout {
    pub const ALL: [Layout; <Layout as strum::EnumCount>::COUNT] = all_variants!(Layout);

    /// The layout's name in scenario files (`raidz1`).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The fewest disks the layout takes.
    pub fn min_disks(self) -> u32 {
        match self {
            Layout::Stripe => 1,
            Layout::Mirror => 2,
            Layout::Raidz1 => 3,
            Layout::Raidz2 => 4,
            Layout::Raidz3 => 5,
        }
    }

    /// How many failed disks the vdev survives.
    pub fn tolerance(self, disks: u32) -> u32 {
        match self {
            Layout::Stripe => 0,
            Layout::Mirror => disks - 1,
            Layout::Raidz1 => 1,
            Layout::Raidz2 => 2,
            Layout::Raidz3 => 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    pub layout: Layout,
    pub disks: u32,
    /// Time to failure of each disk.
    pub disk_failure: Dist,
    /// From a disk failure until a new disk is in (0 with a hot spare).
    pub replace_ms: Millis,
    /// The resilver that follows: allocated data / resilver rate.
    pub resilver_ms: Millis,
    /// From the loss of the pool until its data is restored from backup.
    pub restore_ms: Millis,
    /// Backups are taken at multiples of this; a restore loses what was
    /// written since the last one.
    pub backup_interval_ms: Millis,
}

#[derive(Debug, Clone)]
pub struct Volume {
    pub name: String,
    pub backend: Backend,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    /// A dataset in one node's pool (OpenEBS ZFS-LocalPV): its pods are pinned
    /// to that node. `None`: bound where the first pod using it is placed.
    ZfsLocal { node: Option<NodeId> },
    /// A dataset on `node` replicated by periodic snapshots to `replica`.
    ZfsReplicated { node: NodeId, replica: NodeId, interval_ms: Millis, failover_ms: Millis },
    /// A Gluster replicated volume: `replicas` bricks on distinct nodes, the
    /// last of them an arbiter when `arbiter`.
    Gluster {
        replicas: u32,
        arbiter: bool,
        /// Listed bricks; `None` places them with the strategy at start.
        bricks: Option<Vec<NodeId>>,
        heal_rate_bytes_per_s: f64,
        write_rate_bytes_per_s: f64,
        size_bytes: u64,
        ping_timeout_ms: Millis,
        /// Client quorum (`cluster.quorum-type`, `cluster.quorum-count`).
        quorum: GlusterQuorum,
        /// The posix health check's period (`storage.health-check-interval`);
        /// 0 disables it, as upstream.
        health_check_interval_ms: Millis,
    },
    /// An attachable ReadWriteOnce block volume (iSCSI, Ceph RBD, Longhorn).
    Block {
        /// `maxWaitForUnmountDuration`: force-detach from an unhealthy node
        /// this long after the old pod object is deleted (force delete or
        /// PodGC); `None` (`--disable-force-detach-on-timeout`) waits until
        /// the old node returns or is tainted out of service.
        force_detach_ms: Option<Millis>,
    },
}

/// Gluster client quorum: how many bricks (the arbiter included) must be
/// up for writes (afr-common.c `afr_has_quorum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlusterQuorum {
    /// More than half of the bricks, or exactly half including the first.
    Auto,
    /// No client quorum: any brick up takes writes (split-brain possible).
    None,
    /// `quorum-type fixed` with this `quorum-count`, 1 to the brick count.
    Fixed(u32),
}

impl GlusterQuorum {
    /// Upstream's default by brick count (afr.c `fix_quorum_options`):
    /// `auto` for more than two bricks, `none` for two or fewer.
    pub fn default_for(bricks: u32) -> GlusterQuorum {
        if bricks > 2 { GlusterQuorum::Auto } else { GlusterQuorum::None }
    }

    /// Whether the bricks `up` (first brick first) make quorum.
    pub fn met(self, up: &[bool]) -> bool {
        let count = up.iter().filter(|&&u| u).count();
        match self {
            GlusterQuorum::Auto => count * 2 > up.len() || (count * 2 == up.len() && up.first() == Some(&true)),
            GlusterQuorum::None => true,
            GlusterQuorum::Fixed(n) => count >= n as usize,
        }
    }
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::ZfsLocal { .. } => "zfs-local",
            Backend::ZfsReplicated { .. } => "zfs-replicated",
            Backend::Gluster { .. } => "gluster",
            Backend::Block { .. } => "block",
        }
    }
}

/// The three availability classes of the seed document.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::EnumCount,
    strum::VariantArray,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Class {
    Flexible,
    NodeBound,
    Ha,
}

impl Class {
    pub const ALL: [Class; <Class as strum::EnumCount>::COUNT] = all_variants!(Class);

    /// The class's name in scenario and result files (`node-bound`).
    pub fn name(self) -> &'static str {
        self.into()
    }

    pub fn parse(text: &str) -> Option<Class> {
        text.parse().ok()
    }
}

/// Pod anti-affinity between the replicas of one app, on the hostname topology.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::EnumCount, strum::VariantArray,
)]
#[strum(serialize_all = "kebab-case")]
pub enum AntiAffinity {
    /// `requiredDuringSchedulingIgnoredDuringExecution`: never two on a node.
    Required,
    /// `preferredDuring...`, and the scheduler's default hostname spreading:
    /// avoid sharing a node when another fits.
    Preferred,
    None,
}

impl AntiAffinity {
    pub const ALL: [AntiAffinity; <AntiAffinity as strum::EnumCount>::COUNT] = all_variants!(AntiAffinity);

    /// Its name in scenario files (`preferred`).
    pub fn name(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone)]
pub struct App {
    pub name: String,
    pub class: Class,
    /// Requests per pod.
    pub cpu_m: u64,
    pub memory_bytes: u64,
    /// From scheduling to Ready (image pull, start, readiness probe).
    pub startup: Dist,
    pub replicas: u32,
    /// The app is up while at least this many of its pods are Ready.
    pub min_available: u32,
    pub anti_affinity: AntiAffinity,
    /// Pinned by node name (nodeSelector on `kubernetes.io/hostname`).
    pub node: Option<NodeId>,
    /// Devices every node that runs it must have.
    pub requires: Vec<String>,
    /// The volumes its pods mount; the app is up only while all are available.
    pub volumes: Vec<VolumeId>,
    /// Deployment or StatefulSet.
    pub kind: Workload,
    /// Apps that must be up for this one to be up.
    pub depends_on: Vec<AppId>,
    /// Topology spread of its replicas over the domains of one kind.
    pub spread: Option<(usize, SpreadMode)>,
    /// Time between container crashes (restarted in place with back-off).
    pub crash: Dist,
    /// Time between hangs (restarted once the liveness probe fails).
    pub hang: Dist,
    /// PodDisruptionBudget `maxUnavailable`: a drain evicts a pod only while
    /// at most this many of the app's pods are not Ready. `None`: no budget.
    pub max_unavailable: Option<u32>,
}

/// Rolling maintenance: every `every_ms` from `start_ms`, the nodes one at a
/// time in model (name) order are drained (respecting PodDisruptionBudgets), taken
/// down for `node_duration_ms`, brought back, and the next node waits until
/// the drained pods are Ready again.
#[derive(Debug, Clone, PartialEq)]
pub struct Maintenance {
    pub every_ms: Millis,
    pub start_ms: Millis,
    pub node_duration_ms: Millis,
    /// A drain still blocked by a budget after this long skips the node.
    pub drain_timeout_ms: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    Deployment,
    StatefulSet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpreadMode {
    /// `whenUnsatisfiable: DoNotSchedule` with maxSkew 1 counted per domain:
    /// never two replicas in one domain.
    Required,
    /// `ScheduleAnyway`: prefer the domain with the fewest replicas.
    Preferred,
}

impl App {
    /// An app built in code rather than read from a file: one replica with
    /// no requests and no constraints, that starts at once and never fails.
    /// Callers set what they need with struct update syntax.
    pub fn new(name: impl Into<String>, class: Class) -> App {
        App {
            name: name.into(),
            class,
            cpu_m: 0,
            memory_bytes: 0,
            startup: Dist::Fixed(0),
            replicas: 1,
            min_available: 1,
            anti_affinity: AntiAffinity::None,
            node: None,
            requires: Vec::new(),
            volumes: Vec::new(),
            kind: Workload::Deployment,
            depends_on: Vec::new(),
            spread: None,
            crash: Dist::Never,
            hang: Dist::Never,
            max_unavailable: None,
        }
    }

    /// The nodes its pods may run on by every rule at once: the static
    /// constraints (pin, devices, size) and its volumes (a bound zfs-local
    /// dataset's node, a zfs-replicated dataset's two sides).
    pub fn eligible_nodes(&self, nodes: &[Node], volumes: &[Volume]) -> Vec<NodeId> {
        let allowed = |n: NodeId| {
            self.volumes.iter().all(|&v| match volumes[v].backend {
                Backend::ZfsLocal { node: Some(at) } => at == n,
                Backend::ZfsReplicated { node, replica, .. } => n == node || n == replica,
                _ => true,
            })
        };
        (0..nodes.len()).filter(|&n| self.fits_statically(n, &nodes[n]) && allowed(n)).collect()
    }

    /// Whether `node` satisfies the app's static constraints (pin, devices,
    /// size); liveness and anti-affinity are the scheduler's business.
    pub fn fits_statically(&self, id: NodeId, node: &Node) -> bool {
        self.node.is_none_or(|pin| pin == id)
            && self.requires.iter().all(|d| node.devices.contains(d))
            && self.cpu_m <= node.cpu_m
            && self.memory_bytes <= node.memory_bytes
    }
}

/// What a scripted event fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Node(NodeId),
    /// Disk `.1` (0-based) of the pool of node `.0`.
    Disk(NodeId, u32),
    Domain(DomainId),
    /// A crash of the app's first Ready pod.
    App(AppId),
}

impl Target {
    /// How the scenario file writes the target: `node:NAME` or `disk:NODE:N`.
    pub fn describe(self, sc: &Scenario) -> String {
        match self {
            Target::Node(n) => format!("node:{}", sc.nodes[n].name),
            Target::Disk(n, d) => format!("disk:{}:{}", sc.nodes[n].name, d + 1),
            Target::Domain(d) => format!("domain:{}", sc.domains[d].name),
            Target::App(a) => format!("app:{}", sc.apps[a].name),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScriptedEvent {
    pub at_ms: Millis,
    pub target: Target,
    /// Fixed outage length; `None` draws the repair from the node's repair
    /// distribution.
    pub duration_ms: Option<Millis>,
}

/// The strategies a scenario can name.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::EnumCount,
    strum::VariantArray,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Strategy {
    /// LeastAllocated: the node with the most free CPU and memory after placing.
    Spread,
    /// MostAllocated: the fullest node that still fits.
    Binpack,
    /// Uniform over feasible nodes.
    Random,
    /// The first feasible node in the scenario's order.
    FirstFit,
    /// Topology spread of each app's replicas and each volume's bricks over
    /// the domains of `[placement] spread_kind`, then least allocated.
    DomainSpread,
}

impl Strategy {
    pub const ALL: [Strategy; <Strategy as strum::EnumCount>::COUNT] = all_variants!(Strategy);

    /// The strategy's name in scenario and result files (`first-fit`).
    pub fn name(self) -> &'static str {
        self.into()
    }

    pub fn parse(text: &str) -> Option<Strategy> {
        text.parse().ok()
    }

    /// The names, for error messages.
    pub fn names() -> String {
        Strategy::ALL.map(Strategy::name).join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names scenario and result files use are a contract: strum's
    /// kebab-case derives must give exactly these, and parse them back.
    #[test]
    fn the_enums_names_are_the_files_names_and_parse_back() {
        assert_eq!(Strategy::ALL.map(Strategy::name), ["spread", "binpack", "random", "first-fit", "domain-spread"]);
        assert_eq!(Class::ALL.map(Class::name), ["flexible", "node-bound", "ha"]);
        assert_eq!(Layout::ALL.map(Layout::name), ["stripe", "mirror", "raidz1", "raidz2", "raidz3"]);
        assert_eq!(AntiAffinity::ALL.map(AntiAffinity::name), ["required", "preferred", "none"]);
        for s in Strategy::ALL {
            assert_eq!(Strategy::parse(s.name()), Some(s));
        }
        for c in Class::ALL {
            assert_eq!(Class::parse(c.name()), Some(c));
        }
        assert_eq!(Strategy::parse("Spread"), None, "names are case-sensitive");
        assert_eq!("raidz2".parse::<Layout>().ok(), Some(Layout::Raidz2));
    }
}
