//! What one replication measures, and why an app was down.

use crate::ids::{AppId, DomainId, NodeId, VolumeId};
use crate::time::Millis;

/// Why an app was down, attributed from the state of its pods that are not
/// Ready (the most upstream reason wins when several pods are out).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::EnumCount,
    strum::VariantArray,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Cause {
    /// A pod is on a node that has failed and Kubernetes has not yet evicted
    /// it: the detection delay plus the eviction toleration, or the whole
    /// outage for a pod that is restarted in place when its node returns.
    Detection,
    /// Planned: a pod drained for maintenance is not Ready again yet, or its
    /// node is down for maintenance.
    Maintenance,
    /// A volume's pool was lost; its data is being restored from backup.
    Restore,
    /// A replicated ZFS volume's replica is being promoted.
    Failover,
    /// A pod is Pending because every node it may run on (by pin, devices,
    /// size, storage) is down or NotReady.
    NoNode,
    /// The control plane has no quorum: nothing is scheduled, started or
    /// published as Ready.
    ControlPlane,
    /// A volume is unavailable: its node is down, or a Gluster volume lost
    /// client quorum or every brick with good data.
    Storage,
    /// A Gluster brick went away and client I/O stalls for the ping timeout.
    IoStall,
    /// A pod is Pending because the Ready nodes it may run on lack free CPU or
    /// memory, or already hold a replica under required anti-affinity.
    Capacity,
    /// A replacement pod waits for its ReadWriteOnce volume to be detached
    /// from the failed node (Multi-Attach).
    DetachWait,
    /// A container crashed or hung: liveness detection and the kubelet's
    /// restart back-off (CrashLoopBackOff).
    Crash,
    /// A pod is scheduled and starting (image pull, start, readiness).
    Startup,
    /// An app it depends on is down.
    Dependency,
}

impl Cause {
    pub const COUNT: usize = <Cause as strum::EnumCount>::COUNT;

    /// Every cause, in declaration order (the order of the causes' columns).
    pub const ALL: [Cause; Cause::COUNT] = all_variants!(Cause);

    /// The cause's name in the result files (kebab-case: `no-node`).
    pub fn name(self) -> &'static str {
        self.into()
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_name(name: &str) -> Option<Cause> {
        name.parse().ok()
    }

    /// What the cause means, in a planner's words: the glossary of the
    /// report and the verdict.
    pub fn meaning(self) -> &'static str {
        match self {
            Cause::Detection => {
                "a pod is on a failed node that Kubernetes has not yet given up on: the node's NotReady mark (node-monitor-grace-period), the eviction toleration (5 min by default), or, for a pod restarted in place, the whole outage"
            }
            Cause::Maintenance => "planned: a node is down for maintenance or its drained pods are not Ready again yet",
            Cause::Restore => "a ZFS pool was lost and its data is being restored from backup",
            Cause::Failover => "a replicated ZFS dataset's replica is being promoted on the other node",
            Cause::NoNode => {
                "the pod is Pending because every node it may run on (its pin, devices, size or local storage) is down"
            }
            Cause::ControlPlane => "the control plane has no quorum: nothing is scheduled, started or marked Ready",
            Cause::Storage => {
                "a volume is unavailable: its node is down, or a Gluster volume lost client quorum or every brick with good data"
            }
            Cause::IoStall => {
                "a Gluster brick's server died and client I/O hangs for the ping timeout (42 s by default)"
            }
            Cause::Capacity => {
                "the pod is Pending because the Ready nodes it may run on lack free CPU or memory (or hold a replica under required anti-affinity)"
            }
            Cause::DetachWait => {
                "the replacement pod waits for its ReadWriteOnce volume to be detached from the failed node (Multi-Attach)"
            }
            Cause::Crash => "a container crashed or hung: liveness detection and the kubelet's restart back-off",
            Cause::Startup => "a pod is scheduled and starting: image pull, start, readiness probe",
            Cause::Dependency => "an app it depends on (depends_on) is down",
        }
    }
}

/// One app in one replication under one strategy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppOutcome {
    pub downtime_ms: Millis,
    pub outages: u32,
    /// Downtime split by [`Cause`], indexed by [`Cause::index`].
    pub cause_ms: [Millis; Cause::COUNT],
    pub longest_outage_ms: Millis,
    /// Incidents that lost written data (a replica promoted, a pool restored
    /// from backup), and the span of writes lost, summed.
    pub data_loss_incidents: u32,
    pub data_loss_ms: Millis,
    /// Its pods still Pending at the horizon: no node would take them (the
    /// engine's checker asserts that no Pending pod has a node that fits).
    pub pending_at_horizon: u32,
}

/// One volume in one replication under one strategy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeOutcome {
    pub downtime_ms: Millis,
    pub outages: u32,
    /// Time with fewer healthy copies than configured (a Gluster brick away
    /// or healing, one side of a replicated dataset unavailable).
    pub reduced_redundancy_ms: Millis,
    pub data_loss_incidents: u32,
    pub data_loss_ms: Millis,
    /// Gluster split-brains: two data bricks back together that each took
    /// writes the other lacks. Files that need a manual heal (data at
    /// risk), not downtime.
    pub split_brain_incidents: u32,
}

/// Everything one replication under one strategy measured, apps in scenario
/// order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicationOutcome {
    pub apps: Vec<AppOutcome>,
    pub volumes: Vec<VolumeOutcome>,
    pub events: u64,
}

/// The kind of a trace record: what happened. Each variant's name in
/// `events.csv` is its kebab-case form (`NodeFail` is `node-fail`), declared
/// here once for the engine that writes it, the report that reads it back
/// and the test that keeps docs/events.md complete; docs/events.md says
/// what each means and which subjects it names.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::Display,
    strum::EnumString,
    strum::EnumIter,
)]
#[strum(serialize_all = "kebab-case")]
pub enum TraceKind {
    AllZonesDisrupted,
    AppCrash,
    AppCrashIgnored,
    AppDown,
    AppUp,
    BackOff,
    BrickDisconnected,
    BrickPlaced,
    CatchUp,
    ContainerCrash,
    ContainerHang,
    ContainerRestart,
    Cordon,
    DataLoss,
    Detach,
    DetachDeferred,
    DiskFail,
    DiskReplaced,
    DomainFail,
    DomainFailIgnored,
    DomainRepair,
    DrainTimeout,
    EvictPods,
    FailoverCancelled,
    FailoverDone,
    FailoverStart,
    HealDone,
    HealthCheck,
    LivenessFailed,
    MaintenanceEnd,
    MaintenancePoll,
    MaintenanceRound,
    MaintenanceSkipped,
    MaintenanceStart,
    MultiAttach,
    NodeDeleted,
    NodeFail,
    NodeFailIgnored,
    NodeNotReady,
    NodeRepair,
    NodeSeenReady,
    NotReadyDeferred,
    OutOfService,
    PodDeleted,
    PodDrained,
    PodEvicted,
    PodForceDelete,
    PodForceDeleted,
    PodGc,
    PodGcQuarantine,
    PodMoved,
    PodObjectsDeleted,
    PodPending,
    PodReady,
    PodScheduled,
    PodTerminating,
    PoolDegraded,
    PoolLost,
    PoolRestored,
    QuorumLost,
    QuorumRegained,
    RateLimiter,
    SplitBrain,
    StallEnd,
    Taint,
    TaintPass,
    TaintQueue,
    TaintSkipped,
    VolumeDetached,
    VolumeDown,
    VolumeUp,
    ZoneStates,
    ZonesRecovered,
}

impl TraceKind {
    /// The kind's name in `events.csv`.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// A kind equals its name in `events.csv` (for the tests' lookups by name).
impl PartialEq<&str> for TraceKind {
    fn eq(&self, name: &&str) -> bool {
        self.name() == *name
    }
}

/// One line of an `events.csv` trace: what happened (`kind`, listed with
/// the subjects each kind names in docs/events.md), when, and what it is
/// about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRecord {
    pub time_ms: Millis,
    pub kind: TraceKind,
    pub node: Option<NodeId>,
    pub app: Option<AppId>,
    /// `app-replica`, the pod slot, when the event concerns one pod.
    pub pod: Option<(AppId, u32)>,
    pub domain: Option<DomainId>,
    pub volume: Option<VolumeId>,
    /// Further human text (a cause, a count); never the only place a
    /// subject is named.
    pub detail: String,
}
