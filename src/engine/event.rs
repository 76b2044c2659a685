//! The closed set of events the engine handles.

use crate::metrics::TraceKind;
use crate::model::{AppId, DomainId, NodeId, VolumeId};

/// Index of a pod slot: one per replica of each app, for the whole run. A
/// replacement pod reuses the slot of the pod it replaces.
pub type PodId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The node crashes (power loss, kernel panic: no graceful shutdown).
    /// `outage_ms` is the fixed length of a scripted outage; `None` draws the
    /// repair time from the node's repair distribution.
    NodeFail {
        node: NodeId,
        outage_ms: Option<u64>,
    },
    /// The node is back and its kubelet reports Ready.
    NodeRepair {
        node: NodeId,
    },
    /// The node controller sees no lease renewal for the grace period.
    NodeNotReady {
        node: NodeId,
    },
    /// The monitor pass after the NotReady mark, which sees the node's
    /// condition Unknown: it joins its zone's taint queue
    /// (`markNodeForTainting`).
    TaintQueue {
        node: NodeId,
    },
    /// The first monitor pass that sees the returned node's Ready condition:
    /// its NoExecute taint goes, with the evictions it had scheduled, and it
    /// leaves the taint queue (`markNodeAsReachable`).
    NodeSeenReady {
        node: NodeId,
    },
    /// The end of a monitor pass in which a node's Ready condition changed:
    /// zone states and their rate limiters (`handleDisruption`).
    ZoneStates,
    /// The zone's eviction rate limiter has a token again.
    TaintPass {
        zone: usize,
    },
    /// The taint's toleration has run out: the node's pods are evicted.
    EvictPods {
        node: NodeId,
    },
    /// The pod has started and passes its readiness probe.
    PodReady {
        pod: PodId,
    },
    /// A disk of the node's pool fails.
    DiskFail {
        node: NodeId,
        disk: u32,
    },
    /// A failed disk has been replaced and resilvered.
    DiskReplaced {
        node: NodeId,
        disk: u32,
    },
    /// A lost pool has been rebuilt and restored from backup.
    PoolRestored {
        node: NodeId,
    },
    /// A replicated ZFS volume's replica has been promoted.
    FailoverDone {
        volume: VolumeId,
    },
    /// A Gluster brick has healed.
    HealDone {
        volume: VolumeId,
        brick: usize,
    },
    /// The posix health check of a Gluster brick whose pool was lost while
    /// its server is up.
    HealthCheck {
        volume: VolumeId,
        brick: usize,
    },
    /// A Gluster volume's client I/O stall (ping timeout) is over.
    StallEnd {
        volume: VolumeId,
    },
    /// A ReadWriteOnce volume is detached from its failed node.
    Detach {
        volume: VolumeId,
    },
    /// A failure domain (rack, power feed, switch, zone) fails.
    DomainFail {
        domain: DomainId,
        outage_ms: Option<u64>,
    },
    DomainRepair {
        domain: DomainId,
    },
    /// The operator taints the NotReady node `node.kubernetes.io/out-of-service`.
    OutOfService {
        node: NodeId,
    },
    /// The operator force-deletes the pods left Terminating on the node.
    PodForceDelete {
        node: NodeId,
    },
    /// The node's Node object is deleted (a cloud node lifecycle controller).
    NodeDeleted {
        node: NodeId,
    },
    /// A PodGC pass (scheduled only when it has something to look at).
    PodGc,
    /// The pod's container crashes (`hang: false`) or hangs (`hang: true`).
    ContainerFault {
        pod: PodId,
        hang: bool,
    },
    /// A scripted crash of the app's first Ready pod.
    AppCrash {
        app: AppId,
    },
    /// The liveness probe has failed `failureThreshold` times: kill it.
    HangDetected {
        pod: PodId,
    },
    /// The restart back-off is over: the kubelet starts the container again.
    ContainerRestart {
        pod: PodId,
    },
    /// Quorum is back: the controllers catch up (after every other change of
    /// the same instant, such as the other members of a repaired rack).
    CatchUp,
    /// A rolling maintenance round starts.
    MaintenanceRound,
    /// Retry a blocked drain, or check the drained pods are back.
    MaintenancePoll,
    /// The node's maintenance window is over.
    MaintenanceEnd {
        node: NodeId,
    },
}

impl Event {
    /// The name used in traces.
    pub fn kind(&self) -> TraceKind {
        match self {
            Event::NodeFail { .. } => TraceKind::NodeFail,
            Event::NodeRepair { .. } => TraceKind::NodeRepair,
            Event::NodeNotReady { .. } => TraceKind::NodeNotReady,
            Event::TaintQueue { .. } => TraceKind::TaintQueue,
            Event::NodeSeenReady { .. } => TraceKind::NodeSeenReady,
            Event::ZoneStates => TraceKind::ZoneStates,
            Event::TaintPass { .. } => TraceKind::TaintPass,
            Event::EvictPods { .. } => TraceKind::EvictPods,
            Event::PodReady { .. } => TraceKind::PodReady,
            Event::DiskFail { .. } => TraceKind::DiskFail,
            Event::DiskReplaced { .. } => TraceKind::DiskReplaced,
            Event::PoolRestored { .. } => TraceKind::PoolRestored,
            Event::FailoverDone { .. } => TraceKind::FailoverDone,
            Event::HealDone { .. } => TraceKind::HealDone,
            Event::HealthCheck { .. } => TraceKind::HealthCheck,
            Event::StallEnd { .. } => TraceKind::StallEnd,
            Event::Detach { .. } => TraceKind::Detach,
            Event::DomainFail { .. } => TraceKind::DomainFail,
            Event::DomainRepair { .. } => TraceKind::DomainRepair,
            Event::OutOfService { .. } => TraceKind::OutOfService,
            Event::PodForceDelete { .. } => TraceKind::PodForceDelete,
            Event::NodeDeleted { .. } => TraceKind::NodeDeleted,
            Event::PodGc => TraceKind::PodGc,
            Event::ContainerFault { hang: false, .. } => TraceKind::ContainerCrash,
            Event::ContainerFault { hang: true, .. } => TraceKind::ContainerHang,
            Event::AppCrash { .. } => TraceKind::AppCrash,
            Event::HangDetected { .. } => TraceKind::LivenessFailed,
            Event::ContainerRestart { .. } => TraceKind::ContainerRestart,
            Event::MaintenanceRound => TraceKind::MaintenanceRound,
            Event::CatchUp => TraceKind::CatchUp,
            Event::MaintenancePoll => TraceKind::MaintenancePoll,
            Event::MaintenanceEnd { .. } => TraceKind::MaintenanceEnd,
        }
    }
}
