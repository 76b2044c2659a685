//! The loop and what every component shares: [`Ctx`] (the scenario, the
//! event queue and its clock, the random streams, the trace) and [`Sim`],
//! the context and one part per component (`cluster.rs`,
//! `control_plane.rs`, `scheduler.rs`, `kubelet.rs`, `storage/`,
//! `maintenance.rs`, `podgc.rs`, `accounting.rs`). Here are the start, the
//! dispatch of every event to its handler, and the trace.
//!
//! The failure domains (`cluster.rs`), the control plane's quorum and the
//! out-of-service taint (`control_plane.rs`) and containers that crash or
//! hang (`kubelet.rs`) follow domain.md sections 1, 3 and 4.

use super::accounting::Accounting;
use super::cluster::Cluster;
use super::control_plane::ControlPlane;
use super::event::{Event, PodId};
use super::kubelet::{Kubelet, Phase};
use super::maintenance::MaintState;
use super::queue::EventQueue;
use super::scheduler::Scheduler;
use super::storage::Storage;
use crate::metrics::{ReplicationOutcome, TraceKind, TraceRecord};
use crate::model::{AppId, DomainId, NodeId, Scenario, VolumeId};
use crate::placement::Strategy;
use crate::rng::{Source, Streams};
use crate::time::Millis;
use rand::Rng;

/// Runs replication `replication` of `scenario` under `strategy`. With
/// `trace`, every event and every pod and app transition is appended to it.
pub fn simulate(
    scenario: &Scenario,
    strategy: Strategy,
    replication: u32,
    trace: Option<&mut Vec<TraceRecord>>,
) -> ReplicationOutcome {
    simulate_with(scenario, strategy, replication, trace, RunOptions::default())
}

/// How a test may change a run; the default is a plain run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// No failure begins after this time: no node, disk or domain failure,
    /// no container crash or hang, no scripted failure, and no maintenance
    /// round (a planned disturbance). Repairs, the round already running
    /// and everything else in flight go on. The draws are the same as
    /// without it (a failure is drawn as usual and then not scheduled), so
    /// a run is the plain run up to this time.
    pub failures_until_ms: Option<Millis>,
    /// Runs the invariant checker after every event in any build (debug
    /// and test builds always run it).
    pub check_invariants: bool,
}

/// [`simulate`] with [`RunOptions`].
pub fn simulate_with(
    scenario: &Scenario,
    strategy: Strategy,
    replication: u32,
    trace: Option<&mut Vec<TraceRecord>>,
    options: RunOptions,
) -> ReplicationOutcome {
    let mut sim = Sim::new(scenario, strategy, replication, trace);
    if let Some(until) = options.failures_until_ms {
        sim.ctx.failures_until_ms = sim.ctx.failures_until_ms.min(until);
    }
    sim.start();
    let horizon = scenario.horizon_ms;
    while let Some((now, event)) = sim.ctx.queue.pop_until(horizon) {
        sim.ctx.events += 1;
        sim.handle(now, event);
        sim.settle_quorum(now);
        if cfg!(debug_assertions) || options.check_invariants {
            super::check::check_invariants(&sim, now);
        }
    }
    sim.finish(horizon)
}

/// What a trace record is about: the node, pod, app, domain and volume it
/// names (the columns of events.csv).
#[derive(Clone, Copy)]
pub(in crate::engine) struct About {
    pub(in crate::engine) node: Option<NodeId>,
    pub(in crate::engine) pod: Option<PodId>,
    pub(in crate::engine) app: Option<AppId>,
    pub(in crate::engine) domain: Option<DomainId>,
    pub(in crate::engine) volume: Option<VolumeId>,
}

impl About {
    /// A record about the cluster as a whole (the control plane, a pass of
    /// a controller).
    pub(in crate::engine) const NOTHING: About = About { node: None, pod: None, app: None, domain: None, volume: None };

    pub(in crate::engine) fn node(node: NodeId) -> About {
        About { node: Some(node), ..About::NOTHING }
    }

    /// A pod (and so its app).
    pub(in crate::engine) fn pod(pod: PodId) -> About {
        About { pod: Some(pod), ..About::NOTHING }
    }

    pub(in crate::engine) fn app(app: AppId) -> About {
        About { app: Some(app), ..About::NOTHING }
    }

    pub(in crate::engine) fn domain(domain: DomainId) -> About {
        About { domain: Some(domain), ..About::NOTHING }
    }

    pub(in crate::engine) fn volume(volume: VolumeId) -> About {
        About { volume: Some(volume), ..About::NOTHING }
    }

    /// The same, on `node` (a pod's node, a brick's node).
    pub(in crate::engine) fn on(self, node: impl Into<Option<NodeId>>) -> About {
        About { node: node.into(), ..self }
    }
}

/// What every component shares: the read-only scenario, the clock and the
/// event queue, the replication's random streams and the trace.
pub(in crate::engine) struct Ctx<'a, 't> {
    pub(in crate::engine) sc: &'a Scenario,
    /// The last time a failure may begin: the horizon, or earlier by
    /// [`RunOptions::failures_until_ms`].
    pub(in crate::engine) failures_until_ms: Millis,
    pub(in crate::engine) queue: EventQueue<Event>,
    /// The replication's streams, for the sources drawn from once (brick
    /// placement).
    pub(in crate::engine) streams: Streams,
    trace: Option<&'t mut Vec<TraceRecord>>,
    /// Events handled so far.
    pub(in crate::engine) events: u64,
}

/// The state of one replication: the shared context and one part per
/// component. Handlers that touch several components are methods of `Sim`,
/// in the file of the component whose event they handle.
pub(in crate::engine) struct Sim<'a, 't> {
    pub(in crate::engine) ctx: Ctx<'a, 't>,
    pub(in crate::engine) cluster: Cluster,
    pub(in crate::engine) control_plane: ControlPlane,
    pub(in crate::engine) scheduler: Scheduler,
    pub(in crate::engine) kubelet: Kubelet,
    pub(in crate::engine) storage: Storage,
    pub(in crate::engine) maint: MaintState,
    pub(in crate::engine) accounting: Accounting,
}

impl<'a, 't> Sim<'a, 't> {
    fn new(sc: &'a Scenario, strategy: Strategy, rep: u32, trace: Option<&'t mut Vec<TraceRecord>>) -> Self {
        let streams = Streams::new(sc.seed, rep);
        let kubelet = Kubelet::new(sc, &streams);
        Sim {
            cluster: Cluster::new(sc, strategy, &streams),
            control_plane: ControlPlane::new(sc, &streams, rep),
            scheduler: Scheduler::new(sc, &streams, &kubelet),
            kubelet,
            storage: Storage::new(sc, &streams),
            maint: MaintState::default(),
            accounting: Accounting::new(sc),
            ctx: Ctx { sc, failures_until_ms: sc.horizon_ms, queue: EventQueue::default(), streams, trace, events: 0 },
        }
    }

    /// Appends a record to the trace, if there is one. `about` names the
    /// record's subjects; a pod's app is filled in from the pod.
    pub(in crate::engine) fn note(&mut self, now: Millis, kind: TraceKind, about: About, detail: String) {
        if let Some(trace) = self.ctx.trace.as_deref_mut() {
            let pod = about.pod.map(|p| (self.kubelet.pods[p].app, self.kubelet.pods[p].replica));
            trace.push(TraceRecord {
                time_ms: now,
                kind,
                node: about.node,
                app: about.app.or(pod.map(|(app, _)| app)),
                pod,
                domain: about.domain,
                volume: about.volume,
                detail,
            });
        }
    }

    /// What the trace record of a handled event names, and its detail. The
    /// match has no catch-all arm, so a new event must say what it is about.
    fn event_record(&self, event: Event) -> (About, String) {
        match event {
            Event::NodeFail { node, .. }
            | Event::NodeRepair { node }
            | Event::NodeNotReady { node }
            | Event::TaintQueue { node }
            | Event::NodeSeenReady { node }
            | Event::EvictPods { node }
            | Event::PoolRestored { node }
            | Event::OutOfService { node }
            | Event::PodForceDelete { node }
            | Event::NodeDeleted { node }
            | Event::MaintenanceEnd { node } => (About::node(node), String::new()),
            Event::DiskFail { node, disk } | Event::DiskReplaced { node, disk } => {
                // Numbered from 1, as a scenario's `disk:NODE:N` does.
                (About::node(node), format!("disk {}", disk + 1))
            }
            Event::PodReady { pod }
            | Event::ContainerFault { pod, .. }
            | Event::HangDetected { pod }
            | Event::ContainerRestart { pod } => (About::pod(pod).on(self.kubelet.pods[pod].node), String::new()),
            Event::FailoverDone { volume } | Event::StallEnd { volume } | Event::Detach { volume } => {
                (About::volume(volume), String::new())
            }
            Event::HealDone { volume, brick } | Event::HealthCheck { volume, brick } => {
                (About::volume(volume).on(self.brick_node(volume, brick)), format!("brick {}", brick + 1))
            }
            Event::DomainFail { domain, .. } | Event::DomainRepair { domain } => (About::domain(domain), String::new()),
            Event::AppCrash { app } => (About::app(app), String::new()),
            Event::TaintPass { zone } => self.zone_about(zone),
            Event::ZoneStates | Event::PodGc | Event::CatchUp | Event::MaintenanceRound | Event::MaintenancePoll => {
                (About::NOTHING, String::new())
            }
        }
    }

    /// Step 1 of the lifecycle: the steady state at time zero.
    fn start(&mut self) {
        for node in 0..self.cluster.nodes.len() {
            self.cluster.schedule_next_failure(&mut self.ctx, node, 0);
            self.start_pool(node, 0);
        }
        for domain in 0..self.cluster.domains.len() {
            self.cluster.schedule_domain_failure(&mut self.ctx, domain, 0);
        }
        self.schedule_first_round();
        for event in self.ctx.sc.events.iter().chain(&self.ctx.sc.replayed) {
            if event.at_ms > self.ctx.failures_until_ms {
                continue;
            }
            let scripted = match event.target {
                crate::model::Target::Node(node) => Event::NodeFail { node, outage_ms: event.duration_ms },
                crate::model::Target::Disk(node, disk) => Event::DiskFail { node, disk },
                crate::model::Target::Domain(domain) => Event::DomainFail { domain, outage_ms: event.duration_ms },
                crate::model::Target::App(app) => Event::AppCrash { app },
            };
            self.ctx.queue.schedule(event.at_ms, scripted);
        }
        self.place_storage();
        for pod in 0..self.kubelet.pods.len() {
            if !self.try_schedule(pod, 0, true) {
                self.scheduler.pending.push(pod);
            }
        }
        self.index_volumes();
        for volume in 0..self.storage.volumes.len() {
            self.refresh_volume(volume, 0);
        }
        for pod in 0..self.kubelet.pods.len() {
            if self.kubelet.pods[pod].phase == Phase::Running {
                self.kubelet.schedule_fault(&mut self.ctx, pod, 0);
            }
        }
        for app in 0..self.accounting.apps.len() {
            self.refresh_app(app, 0);
        }
    }

    fn handle(&mut self, now: Millis, event: Event) {
        if self.ctx.trace.is_some() {
            let (about, detail) = self.event_record(event);
            self.note(now, event.kind(), about, detail);
        }
        match event {
            Event::NodeFail { node, outage_ms } => self.fail_node(node, now, outage_ms),
            Event::NodeRepair { node } => self.repair_node(node, now),
            Event::NodeNotReady { node } => self.mark_not_ready(node, now),
            Event::TaintQueue { node } => self.queue_for_taint(node, now),
            Event::NodeSeenReady { node } => self.seen_ready(node),
            Event::ZoneStates => self.zone_states(now),
            Event::TaintPass { zone } => {
                self.control_plane.zones[zone].pass_ev = None;
                self.process_taints(now);
            }
            Event::EvictPods { node } => self.evict_pods(node, now),
            Event::PodReady { pod } => self.pod_ready(pod, now),
            Event::DiskFail { node, disk } => self.disk_fail(node, disk, now),
            Event::DiskReplaced { node, disk } => self.disk_replaced(node, disk, now),
            Event::PoolRestored { node } => self.pool_restored(node, now),
            Event::FailoverDone { volume } => self.failover_done(volume, now),
            Event::HealDone { volume, brick } => self.heal_done(volume, brick, now),
            Event::HealthCheck { volume, brick } => self.health_check(volume, brick, now),
            Event::StallEnd { volume } => {
                self.stall_ended(volume);
                self.refresh_volume(volume, now);
            }
            Event::Detach { volume } => self.detach(volume, now),
            Event::DomainFail { domain, outage_ms } => self.fail_domain(domain, now, outage_ms),
            Event::DomainRepair { domain } => self.repair_domain(domain, now),
            Event::OutOfService { node } => self.out_of_service(node, now),
            Event::PodForceDelete { node } => self.pod_force_delete(node, now),
            Event::NodeDeleted { node } => self.node_deleted(node, now),
            Event::PodGc => self.pod_gc(now),
            Event::ContainerFault { pod, hang } => self.container_fault(pod, hang, now),
            Event::AppCrash { app } => self.app_crash(app, now),
            Event::HangDetected { pod } => self.hang_detected(pod, now),
            Event::MaintenanceRound => self.maintenance_round(now),
            Event::CatchUp => self.catch_up(now),
            Event::MaintenancePoll => self.maintenance_poll(now),
            Event::MaintenanceEnd { node } => self.maintenance_end(node, now),
            Event::ContainerRestart { pod } => self.container_restart(pod, now),
        }
    }
}

/// The first of `phase + k x period` (k >= 0) at or after `t`: when a loop
/// that runs every `period` from `phase` next runs (the node controller's
/// monitor passes, PodGC's passes, a brick's health checks). `period` > 0.
pub(in crate::engine) fn next_on_grid(phase_ms: Millis, period_ms: Millis, t: Millis) -> Millis {
    if t <= phase_ms { phase_ms } else { phase_ms + (t - phase_ms).div_ceil(period_ms) * period_ms }
}

/// Where the node controller's monitor passes fall in replication
/// `replication`: at this phase plus multiples of `node_monitor_period`
/// (uniform over one period, from the controller's own stream).
pub fn monitor_phase_ms(scenario: &Scenario, replication: u32) -> Millis {
    let period = scenario.kube.node_monitor_period_ms;
    if period == 0 {
        return 0;
    }
    Streams::new(scenario.seed, replication).get(Source::NodeController).random_range(0..period)
}

/// Where the strategy places every pod at time zero (replication 0's
/// tie-breaks), and the CPU and memory then used on each node.
pub struct StartPlacement {
    /// Per pod slot: its app and its node (`None`: Pending).
    pub pods: Vec<(AppId, Option<NodeId>)>,
    /// Per node: (CPU millicores, memory bytes) requested by its pods.
    pub used: Vec<(u64, u64)>,
}

impl StartPlacement {
    /// The apps that have a pod the strategy cannot place in the empty
    /// cluster (a dry run of the initial placement).
    pub fn unplaced(&self) -> Vec<AppId> {
        let mut apps: Vec<AppId> = self.pods.iter().filter(|(_, n)| n.is_none()).map(|&(a, _)| a).collect();
        apps.dedup();
        apps
    }
}

pub fn start_placement(scenario: &Scenario, strategy: Strategy) -> StartPlacement {
    let mut sim = Sim::new(scenario, strategy, 0, None);
    sim.start();
    StartPlacement {
        pods: sim.kubelet.pods.iter().map(|p| (p.app, p.node)).collect(),
        used: sim.cluster.load.iter().map(|l| (l.cpu_used_m, l.memory_used_bytes)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::next_on_grid;

    #[test]
    fn the_next_run_is_the_first_multiple_of_the_period_from_the_phase_at_or_after_the_time() {
        for (phase, period, t, expected) in [
            (7_000, 20_000, 0, 7_000),
            (7_000, 20_000, 7_000, 7_000),
            (7_000, 20_000, 7_001, 27_000),
            (7_000, 20_000, 47_000, 47_000),
            (7_000, 20_000, 47_001 + 40_000, 107_000),
            (0, 1, 12_345, 12_345),
        ] {
            assert_eq!(next_on_grid(phase, period, t), expected, "phase {phase} period {period} t {t}");
        }
    }
}
