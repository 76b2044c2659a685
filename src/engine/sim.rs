//! The simulation state and the handlers of every event: the node lifecycle,
//! the Kubernetes node controller (detection, zone disruption, rate-limited
//! taints, eviction), the scheduler and the kubelet's pod start.

mod controller;
mod lifecycle;
mod maintenance;
mod podgc;
pub use podgc::POD_GC_QUARANTINE_MS;

use super::event::{Event, PodId};
use super::queue::{EventId, EventQueue};
use super::storage::{PoolState, VolState};
use crate::metrics::{AppOutcome, Cause, ReplicationOutcome, TraceKind, TraceRecord};
use crate::model::{AppId, DomainId, NodeId, Scenario, VolumeId};
use crate::placement::{ClusterView, NodeIndex, NodeLoad, PodRequest, Strategy};
use crate::rng::{Source, Streams};
use crate::time::{Millis, format_duration};
use controller::{Limiter, Zone, ZoneHealth};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

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
        sim.failures_until_ms = sim.failures_until_ms.min(until);
    }
    sim.start();
    let horizon = scenario.horizon_ms;
    while let Some((now, event)) = sim.queue.pop_until(horizon) {
        sim.events += 1;
        sim.handle(now, event);
        sim.settle_quorum(now);
        if cfg!(debug_assertions) || options.check_invariants {
            super::check::check_invariants(&sim, now);
        }
    }
    sim.finish(horizon)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::engine) enum Phase {
    /// Ready and serving.
    Running,
    /// Bound to a node, starting up.
    Starting,
    /// Bound to a node that has failed.
    Lost,
    /// Not bound to any node, for the reason given.
    Pending(Cause),
    /// Bound to an up node, waiting for its ReadWriteOnce volume to be
    /// detached from the node it was attached to.
    Attaching(VolumeId),
    /// Its container crashed (or hung and was killed) and waits out the
    /// restart back-off.
    BackOff,
    /// Its container hangs; the liveness probe has not failed enough yet.
    Hung,
    /// Started and ready on its node, but without a control-plane quorum
    /// nothing publishes it as Ready.
    AwaitingApi,
    /// Bound to a node whose kubelet restarted while the control plane had
    /// no quorum: it cannot learn its pods, so this one has not started.
    AwaitingApiStart,
}

pub(in crate::engine) struct Pod {
    pub(in crate::engine) app: AppId,
    replica: u32,
    pub(in crate::engine) node: Option<NodeId>,
    pub(in crate::engine) phase: Phase,
    /// Its next readiness, restart or liveness verdict.
    ready_ev: Option<EventId>,
    /// Its container's next crash or hang while Running.
    fault_ev: Option<EventId>,
    /// A StatefulSet pod evicted from an unreachable node: Terminating, and
    /// not replaced until its object is gone (the node returns, a force
    /// delete, PodGC; see `podgc.rs`).
    deleting: bool,
    /// The current restart back-off (0: none yet).
    backoff_ms: Millis,
    /// When its container last started, for the back-off reset.
    started_at: Millis,
    /// Drained for maintenance and not Ready again yet (planned downtime).
    planned: bool,
    /// Its container is restarting in place after a crash: the pod keeps its
    /// endpoints, so it serves again without a control-plane write.
    in_place: bool,
}

#[derive(Default)]
pub(in crate::engine) struct NodeState {
    /// Running: the node itself and every domain it is in are up.
    pub(in crate::engine) up: bool,
    /// The node itself is up (its own failures and repairs).
    self_up: bool,
    /// How many of its domains are down.
    domains_down: u32,
    /// Control-plane writes that could not happen without quorum and are
    /// due when it returns: the NotReady mark, the eviction, the Ready mark
    /// after a repair, the out-of-service taint.
    notready_overdue: bool,
    evict_overdue: bool,
    ready_overdue: bool,
    oos_overdue: bool,
    oos_ev: Option<EventId>,
    /// Cordoned for maintenance: the scheduler does not use it.
    pub(in crate::engine) cordoned: bool,
    /// Down for planned maintenance.
    in_maintenance: bool,
    /// The node controller's view of its Ready condition, as of its last
    /// monitor pass (what the zone states count).
    pub(in crate::engine) ready: bool,
    /// The Ready condition in the API: set Unknown by the controller's mark,
    /// True again by the returned kubelet. While it is not True the node
    /// carries the `unreachable:NoSchedule` taint.
    pub(in crate::engine) condition_ready: bool,
    /// The monitor pass that will see the returned node Ready.
    seen_ready_ev: Option<EventId>,
    /// When its kubelet last started (its first lease renewal).
    up_since_ms: Millis,
    /// Carries the NoExecute unreachable taint; its pods' eviction is pending.
    tainted: bool,
    /// Waiting in its zone's rate-limited taint queue.
    queued: bool,
    notready_ev: Option<EventId>,
    evict_ev: Option<EventId>,
    /// The node's next failure while up, its repair while down.
    change_ev: Option<EventId>,
    pub(in crate::engine) pods: Vec<PodId>,
    pub(in crate::engine) pool: Option<PoolState>,
}

pub(in crate::engine) struct AppState {
    pub(in crate::engine) down_since: Option<Millis>,
    cause: Cause,
    cause_since: Millis,
    pub(in crate::engine) outcome: AppOutcome,
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
    const NOTHING: About = About { node: None, pod: None, app: None, domain: None, volume: None };

    pub(in crate::engine) fn node(node: NodeId) -> About {
        About { node: Some(node), ..About::NOTHING }
    }

    /// A pod (and so its app).
    pub(in crate::engine) fn pod(pod: PodId) -> About {
        About { pod: Some(pod), ..About::NOTHING }
    }

    fn app(app: AppId) -> About {
        About { app: Some(app), ..About::NOTHING }
    }

    fn domain(domain: DomainId) -> About {
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

pub(in crate::engine) struct Sim<'a, 't> {
    pub(in crate::engine) sc: &'a Scenario,
    /// The last time a failure may begin: the horizon, or earlier by
    /// [`RunOptions::failures_until_ms`].
    pub(in crate::engine) failures_until_ms: Millis,
    /// The scheduler's view of `load`, kept in step by [`Sim::change_load`].
    pub(in crate::engine) index: NodeIndex,
    pub(in crate::engine) queue: EventQueue<Event>,
    pub(in crate::engine) nodes: Vec<NodeState>,
    pub(in crate::engine) load: Vec<NodeLoad>,
    pub(in crate::engine) pods: Vec<Pod>,
    /// The pod slots of each app: `pods[app_pods[a].0 .. app_pods[a].1]`.
    pub(in crate::engine) app_pods: Vec<(PodId, PodId)>,
    pub(in crate::engine) apps: Vec<AppState>,
    pub(in crate::engine) zones: Vec<Zone>,
    /// Pods awaiting a node, in the order they became Pending.
    pub(in crate::engine) pending: Vec<PodId>,
    /// Where the node controller's monitor passes fall: at this phase plus
    /// multiples of `node_monitor_period`.
    monitor_phase_ms: Millis,
    /// The end of the current pass, when zone states are computed.
    zone_states_ev: Option<EventId>,
    failure_rng: Vec<ChaCha8Rng>,
    repair_rng: Vec<ChaCha8Rng>,
    lease_rng: Vec<ChaCha8Rng>,
    /// Per pod slot: its start-up draws.
    startup_rng: Vec<ChaCha8Rng>,
    /// Per pod slot: the ties the scheduler breaks for it.
    placement_rng: Vec<ChaCha8Rng>,
    /// The replication's streams, for the sources drawn from once (brick
    /// placement).
    pub(in crate::engine) streams: Streams,
    /// `disk_rng[node][disk]`.
    pub(in crate::engine) disk_rng: Vec<Vec<ChaCha8Rng>>,
    pub(in crate::engine) volumes: Vec<VolState>,
    /// The volumes whose availability depends on each node (dataset, active
    /// or standby side, brick).
    pub(in crate::engine) node_volumes: Vec<Vec<VolumeId>>,
    /// The apps that use each volume.
    pub(in crate::engine) volume_apps: Vec<Vec<AppId>>,
    domains: Vec<lifecycle::DomainState>,
    domain_failure_rng: Vec<ChaCha8Rng>,
    domain_repair_rng: Vec<ChaCha8Rng>,
    /// Per pod slot: its container crashes and hangs.
    crash_rng: Vec<ChaCha8Rng>,
    oos_rng: Vec<ChaCha8Rng>,
    /// Pod objects left on unreachable nodes: force deletes, Node deletions,
    /// PodGC.
    pod_objects: podgc::PodObjects,
    /// Control-plane members and how many are up.
    cp_total: usize,
    cp_up: usize,
    /// Whether the trace last said the control plane has quorum.
    quorum_noted: bool,
    /// The apps that depend on each app.
    dependents: Vec<Vec<AppId>>,
    maint: maintenance::MaintState,
    trace: Option<&'t mut Vec<TraceRecord>>,
    events: u64,
}

impl<'a, 't> Sim<'a, 't> {
    fn new(sc: &'a Scenario, strategy: Strategy, rep: u32, trace: Option<&'t mut Vec<TraceRecord>>) -> Self {
        let n = sc.nodes.len();
        let mut pods = Vec::new();
        let mut app_pods = Vec::with_capacity(sc.apps.len());
        for (a, app) in sc.apps.iter().enumerate() {
            let first = pods.len();
            for replica in 0..app.replicas {
                pods.push(Pod {
                    app: a,
                    replica,
                    node: None,
                    phase: Phase::Pending(Cause::NoNode),
                    ready_ev: None,
                    fault_ev: None,
                    deleting: false,
                    backoff_ms: 0,
                    started_at: 0,
                    planned: false,
                    in_place: false,
                });
            }
            app_pods.push((first, pods.len()));
        }
        let zone_count = sc.nodes.iter().map(|node| node.zone + 1).max().unwrap_or(1);
        let mut zones: Vec<Zone> = (0..zone_count)
            .map(|_| Zone {
                size: 0,
                not_ready: 0,
                queue: Default::default(),
                limiter: Limiter::new(sc.kube.eviction_rate_per_s, 0),
                health: ZoneHealth::Normal,
                pass_ev: None,
            })
            .collect();
        for node in &sc.nodes {
            zones[node.zone].size += 1;
        }
        let streams = Streams::new(sc.seed, rep);
        let node_streams = |f: fn(&str) -> Source| sc.nodes.iter().map(|node| streams.get(f(&node.name))).collect();
        let domain_streams = |f: fn(&str) -> Source| sc.domains.iter().map(|d| streams.get(f(&d.name))).collect();
        let slots: Vec<(&str, u32)> = pods.iter().map(|p| (sc.apps[p.app].name.as_str(), p.replica)).collect();
        let pod_streams = |f: fn(&str, u32) -> Source| slots.iter().map(|&(a, r)| streams.get(f(a, r))).collect();
        Sim {
            sc,
            failures_until_ms: sc.horizon_ms,
            index: NodeIndex::new(
                strategy,
                &sc.nodes,
                &sc.topology,
                &NodeIndex::kinds_for(strategy, &sc.apps, sc.spread_kind),
                &vec![NodeLoad { schedulable: true, cpu_used_m: 0, memory_used_bytes: 0 }; n],
            ),
            queue: EventQueue::default(),
            nodes: sc
                .nodes
                .iter()
                .map(|node| NodeState {
                    up: true,
                    self_up: true,
                    ready: true,
                    condition_ready: true,
                    pool: node.pool.as_ref().map(PoolState::new),
                    ..NodeState::default()
                })
                .collect(),
            load: vec![NodeLoad { schedulable: true, cpu_used_m: 0, memory_used_bytes: 0 }; n],
            pods,
            app_pods,
            apps: sc
                .apps
                .iter()
                .map(|_| AppState {
                    down_since: None,
                    cause: Cause::Startup,
                    cause_since: 0,
                    outcome: AppOutcome::default(),
                })
                .collect(),
            zones,
            pending: Vec::new(),
            monitor_phase_ms: monitor_phase_ms(sc, rep),
            zone_states_ev: None,
            failure_rng: node_streams(|n| Source::NodeFailure(n)),
            repair_rng: node_streams(|n| Source::NodeRepair(n)),
            lease_rng: node_streams(|n| Source::NodeLease(n)),
            startup_rng: pod_streams(|a, r| Source::Startup(a, r)),
            placement_rng: pod_streams(|a, r| Source::Placement(a, r)),
            disk_rng: sc
                .nodes
                .iter()
                .map(|node| {
                    let disks = node.pool.as_ref().map_or(0, |p| p.disks);
                    (0..disks).map(|d| streams.get(Source::DiskFailure(&node.name, d))).collect()
                })
                .collect(),
            volumes: sc.volumes.iter().map(VolState::new).collect(),
            node_volumes: vec![Vec::new(); n],
            volume_apps: (0..sc.volumes.len())
                .map(|v| (0..sc.apps.len()).filter(|&a| sc.apps[a].volumes.contains(&v)).collect())
                .collect(),
            domains: sc.domains.iter().map(|_| lifecycle::DomainState::default()).collect(),
            domain_failure_rng: domain_streams(|n| Source::DomainFailure(n)),
            domain_repair_rng: domain_streams(|n| Source::DomainRepair(n)),
            crash_rng: pod_streams(|a, r| Source::Crash(a, r)),
            oos_rng: node_streams(|n| Source::OutOfService(n)),
            pod_objects: podgc::PodObjects::new(sc, &streams),
            cp_total: sc.nodes.iter().filter(|n| n.control_plane).count(),
            cp_up: sc.nodes.iter().filter(|n| n.control_plane).count(),
            quorum_noted: true,
            maint: maintenance::MaintState::default(),
            dependents: {
                let mut dependents = vec![Vec::new(); sc.apps.len()];
                for (a, app) in sc.apps.iter().enumerate() {
                    for &d in &app.depends_on {
                        dependents[d].push(a);
                    }
                }
                dependents
            },
            trace,
            events: 0,
            streams,
        }
    }

    /// Appends a record to the trace, if there is one. `about` names the
    /// record's subjects; a pod's app is filled in from the pod.
    pub(in crate::engine) fn note(&mut self, now: Millis, kind: TraceKind, about: About, detail: String) {
        if let Some(trace) = self.trace.as_deref_mut() {
            let pod = about.pod.map(|p| (self.pods[p].app, self.pods[p].replica));
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
            | Event::ContainerRestart { pod } => (About::pod(pod).on(self.pods[pod].node), String::new()),
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
        for node in 0..self.nodes.len() {
            self.schedule_next_failure(node, 0);
            self.start_pool(node, 0);
        }
        for domain in 0..self.domains.len() {
            self.schedule_domain_failure(domain, 0);
        }
        self.schedule_first_round();
        for event in self.sc.events.iter().chain(&self.sc.replayed) {
            if event.at_ms > self.failures_until_ms {
                continue;
            }
            let scripted = match event.target {
                crate::model::Target::Node(node) => Event::NodeFail { node, outage_ms: event.duration_ms },
                crate::model::Target::Disk(node, disk) => Event::DiskFail { node, disk },
                crate::model::Target::Domain(domain) => Event::DomainFail { domain, outage_ms: event.duration_ms },
                crate::model::Target::App(app) => Event::AppCrash { app },
            };
            self.queue.schedule(event.at_ms, scripted);
        }
        self.place_storage();
        for pod in 0..self.pods.len() {
            if !self.try_schedule(pod, 0, true) {
                self.pending.push(pod);
            }
        }
        self.index_volumes();
        for volume in 0..self.volumes.len() {
            self.refresh_volume(volume, 0);
        }
        for pod in 0..self.pods.len() {
            if self.pods[pod].phase == Phase::Running {
                self.schedule_fault(pod, 0);
            }
        }
        for app in 0..self.apps.len() {
            self.refresh_app(app, 0);
        }
    }

    fn handle(&mut self, now: Millis, event: Event) {
        if self.trace.is_some() {
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
                self.zones[zone].pass_ev = None;
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
            Event::ContainerRestart { pod } => {
                self.pods[pod].ready_ev = None;
                self.start_pod(pod, now);
                self.pods[pod].in_place = true;
                self.refresh_app(self.pods[pod].app, now);
            }
        }
    }

    fn schedule_next_failure(&mut self, node: NodeId, now: Millis) {
        if let Some(dt) = self.sc.nodes[node].failure.sample(&mut self.failure_rng[node]) {
            let at = now.saturating_add(dt);
            if at <= self.failures_until_ms {
                self.nodes[node].change_ev = Some(self.queue.schedule(at, Event::NodeFail { node, outage_ms: None }));
            }
        }
    }

    /// The node crashes: its pods stop serving at once; the node controller
    /// notices `node_monitor_grace_period` after the kubelet's last lease
    /// renewal, which was up to one renewal interval before the crash.
    fn fail_node(&mut self, node: NodeId, now: Millis, outage_ms: Option<Millis>) {
        if !self.nodes[node].self_up {
            self.note(
                now,
                TraceKind::NodeFailIgnored,
                About::node(node),
                "scripted failure of a node that is already down".into(),
            );
            return;
        }
        if let Some(ev) = self.nodes[node].change_ev.take() {
            self.queue.cancel(ev);
        }
        self.nodes[node].self_up = false;
        let outage = outage_ms.or_else(|| self.sc.nodes[node].repair.sample(&mut self.repair_rng[node]));
        if let Some(outage) = outage {
            let at = now.saturating_add(outage);
            if at <= self.sc.horizon_ms {
                self.nodes[node].change_ev = Some(self.queue.schedule(at, Event::NodeRepair { node }));
            }
        }
        if self.nodes[node].domains_down == 0 && !self.nodes[node].in_maintenance {
            self.went_down(node, now);
        }
    }

    /// The node stops (its own failure or its domain's): its pods stop
    /// serving at once. The scheduler keeps offering the node until the
    /// node controller marks it NotReady (`controller.rs`): it filters on
    /// taints, not on the Ready condition.
    fn went_down(&mut self, node: NodeId, now: Millis) {
        self.nodes[node].up = false;
        if self.sc.nodes[node].control_plane {
            self.set_cp_up(false);
        }
        let bound = std::mem::take(&mut self.nodes[node].pods);
        for &pod in &bound {
            self.cancel_container_events(pod);
            self.pods[pod].phase = Phase::Lost;
        }
        self.nodes[node].pods = bound;
        self.storage_changed(node, now);
        for &pod in &self.nodes[node].pods.clone() {
            self.refresh_app(self.pods[pod].app, now);
        }
        self.schedule_not_ready(node, now);
    }

    /// The toleration ran out: the pods get their deletion timestamp and
    /// their controllers create replacements at once (KEP-3973). The old pods
    /// stay Terminating on the dead node, which no one can schedule onto, so
    /// their requests are released here.
    fn evict_pods(&mut self, node: NodeId, now: Millis) {
        self.nodes[node].evict_ev = None;
        if !self.quorum() {
            self.nodes[node].evict_overdue = true;
            return;
        }
        let evicted = self.nodes[node].pods.clone();
        // Back, but not yet seen Ready by the controller (its NoExecute taint
        // lasts until the next monitor pass), the node's live kubelet stops
        // the pods and confirms their deletion: every one, StatefulSet pods
        // too, is replaced now, and nothing treats the node as gone (no
        // promotion, no force delete, no held volume).
        let alive = self.nodes[node].up;
        for &pod in &evicted {
            if !alive && self.sc.apps[self.pods[pod].app].kind == crate::model::Workload::StatefulSet {
                // The StatefulSet controller creates no pod with the same
                // identity while the old one still exists on the
                // unreachable node.
                self.pods[pod].deleting = true;
                self.note(
                    now,
                    TraceKind::PodTerminating,
                    About::pod(pod).on(node),
                    "statefulset: no replacement".into(),
                );
            } else {
                self.unbind(pod);
                let detail = if alive { "node back, not yet seen Ready" } else { "" };
                self.note(now, TraceKind::PodEvicted, About::pod(pod).on(node), detail.into());
            }
        }
        if !alive {
            self.after_eviction(node, now);
        }
        self.schedule_pending(now);
        for &pod in &evicted {
            self.refresh_app(self.pods[pod].app, now);
        }
    }

    /// Deletes a bound pod: its requests are released and its replacement
    /// (the same slot) is Pending.
    pub(in crate::engine) fn unbind(&mut self, pod: PodId) {
        let Some(node) = self.pods[pod].node.take() else { return };
        self.cancel_container_events(pod);
        self.pods[pod].deleting = false;
        // The replacement is a new pod: no back-off history.
        self.pods[pod].backoff_ms = 0;
        self.pods[pod].in_place = false;
        let app = &self.sc.apps[self.pods[pod].app];
        let (cpu, memory) = (app.cpu_m, app.memory_bytes);
        self.change_load(node, |l| {
            l.cpu_used_m -= cpu;
            l.memory_used_bytes -= memory;
        });
        self.nodes[node].pods.retain(|&p| p != pod);
        self.pods[pod].phase = Phase::Pending(Cause::NoNode);
        self.pending.push(pod);
    }

    /// The node is back: Ready again at once, its taint and pending evictions
    /// are lifted, and the pods still bound to it restart there.
    fn repair_node(&mut self, node: NodeId, now: Millis) {
        self.nodes[node].change_ev = None;
        self.nodes[node].self_up = true;
        self.schedule_next_failure(node, now);
        if self.nodes[node].domains_down == 0 && !self.nodes[node].in_maintenance {
            self.came_up(node, now);
        }
    }

    /// The node runs again: its kubelet posts Ready (once the control plane
    /// can take the write) and starts the pods still bound to it, which it
    /// learns from the API server: without quorum they wait for it. Deleted
    /// StatefulSet pods are replaced now.
    fn came_up(&mut self, node: NodeId, now: Millis) {
        self.nodes[node].up = true;
        self.nodes[node].up_since_ms = now;
        if let Some(ev) = self.nodes[node].notready_ev.take() {
            self.queue.cancel(ev);
        }
        if let Some(ev) = self.nodes[node].oos_ev.take() {
            self.queue.cancel(ev);
        }
        self.nodes[node].notready_overdue = false;
        self.nodes[node].oos_overdue = false;
        self.pod_objects_node_returned(node);
        let api = self.quorum();
        if api {
            self.kubelet_posts_ready(node, now);
        } else {
            self.nodes[node].ready_overdue = true;
        }
        for pod in self.nodes[node].pods.clone() {
            if self.pods[pod].deleting && api {
                // The kubelet finishes the deletion (without the API, at the
                // catch-up); the StatefulSet controller creates the
                // replacement.
                self.unbind(pod);
            }
        }
        let bound = self.nodes[node].pods.clone();
        for &pod in &bound {
            if api {
                self.start_bound_pod(pod, node, now);
            } else {
                // Only static pods come from local manifests: the kubelet
                // learns these from the API server, when there is one.
                self.pods[pod].phase = Phase::AwaitingApiStart;
            }
        }
        self.storage_changed(node, now);
        self.schedule_pending(now);
        for &pod in &bound {
            self.refresh_app(self.pods[pod].app, now);
        }
        // Last, once the node is fully back: its etcd member may restore
        // the quorum, and the controllers' catch-up sees the node as it is.
        if self.sc.nodes[node].control_plane {
            self.set_cp_up(true);
        }
    }

    /// The kubelet starts a pod bound to its node, unless a ReadWriteOnce
    /// volume is still attached elsewhere.
    fn start_bound_pod(&mut self, pod: PodId, node: NodeId, now: Millis) {
        match self.blocking_attachment(self.pods[pod].app, node, now) {
            Some(volume) => self.pods[pod].phase = Phase::Attaching(volume),
            None => self.start_pod(pod, now),
        }
    }

    /// Changes node `node`'s load and tells the scheduler's index.
    pub(super) fn change_load(&mut self, node: NodeId, change: impl FnOnce(&mut NodeLoad)) {
        change(&mut self.load[node]);
        self.index.update(node, &self.sc.nodes[node], &self.load[node]);
    }

    pub(in crate::engine) fn start_pod(&mut self, pod: PodId, now: Millis) {
        let app = self.pods[pod].app;
        let startup = self.sc.apps[app].startup.sample(&mut self.startup_rng[pod]).unwrap_or(0);
        debug_assert!(self.pods[pod].ready_ev.is_none(), "pod {pod} started twice at {now}");
        self.pods[pod].phase = Phase::Starting;
        self.pods[pod].started_at = now;
        self.pods[pod].ready_ev = Some(self.queue.schedule(now.saturating_add(startup), Event::PodReady { pod }));
    }

    /// Offers every Pending pod to the scheduler, oldest first.
    pub(in crate::engine) fn schedule_pending(&mut self, now: Millis) {
        if self.pending.is_empty() {
            return;
        }
        let waiting = std::mem::take(&mut self.pending);
        for pod in waiting {
            if !self.try_schedule(pod, now, false) {
                self.pending.push(pod);
            }
        }
    }

    /// Runs the placement strategy for one pod and binds it on success; at
    /// time zero (`initial`) a bound pod is Running at once.
    fn try_schedule(&mut self, pod: PodId, now: Millis, initial: bool) -> bool {
        let sc = self.sc;
        if !self.quorum() {
            // Neither the scheduler nor the controllers can write a binding.
            if self.pods[pod].phase != Phase::Pending(Cause::ControlPlane) {
                self.pods[pod].phase = Phase::Pending(Cause::ControlPlane);
                self.refresh_app(self.pods[pod].app, now);
            }
            return false;
        }
        let app_id = self.pods[pod].app;
        let app = &sc.apps[app_id];
        let (first, last) = self.app_pods[app_id];
        let siblings: Vec<NodeId> = (first..last).filter(|&p| p != pod).filter_map(|p| self.pods[p].node).collect();
        let pin = self.storage_pin(app_id);
        let view =
            ClusterView { nodes: &sc.nodes, load: &self.load, topology: &sc.topology, spread_kind: sc.spread_kind };
        let request = PodRequest { app_id, app, siblings_on: &siblings, pin };
        match self.index.select(&view, &request, &mut self.placement_rng[pod]) {
            Some(node) => {
                self.change_load(node, |l| {
                    l.cpu_used_m += app.cpu_m;
                    l.memory_used_bytes += app.memory_bytes;
                });
                self.nodes[node].pods.push(pod);
                self.pods[pod].node = Some(node);
                self.bind_storage(app_id, node);
                let detail = if initial {
                    self.pods[pod].phase = Phase::Running;
                    String::new()
                } else if !self.nodes[node].up {
                    // Not yet NotReady, so not yet tainted: the pod is bound
                    // to a dead node, does not start, and goes with the
                    // node's other pods when they are evicted.
                    self.pods[pod].phase = Phase::Lost;
                    self.refresh_app(app_id, now);
                    "bound to a node that is down and not yet NotReady".into()
                } else {
                    self.start_bound_pod(pod, node, now);
                    self.refresh_app(app_id, now);
                    String::new()
                };
                self.note(now, TraceKind::PodScheduled, About::pod(pod).on(node), detail);
                true
            }
            None => {
                // Capacity if a Ready node could take the pod but for its
                // free resources or anti-affinity; otherwise no node at all.
                let any_ready = self.index.any_schedulable(&view, &request);
                let cause = if any_ready { Cause::Capacity } else { Cause::NoNode };
                let changed = self.pods[pod].phase != Phase::Pending(cause);
                self.pods[pod].phase = Phase::Pending(cause);
                if changed {
                    self.note(now, TraceKind::PodPending, About::pod(pod), cause.name().into());
                    if !initial {
                        self.refresh_app(app_id, now);
                    }
                }
                false
            }
        }
    }

    /// Re-derives whether the app is up from its pods, and books downtime to
    /// the cause in force until now.
    pub(in crate::engine) fn refresh_app(&mut self, app: AppId, now: Millis) {
        let (first, last) = self.app_pods[app];
        let pods = &self.pods[first..last];
        let ready = pods.iter().filter(|p| p.phase == Phase::Running).count() as u32;
        let pods_up = ready >= self.sc.apps[app].min_available;
        let pod_cause = pods
            .iter()
            .filter_map(|p| match p.phase {
                Phase::Running => None,
                Phase::Pending(_) | Phase::Starting | Phase::Attaching(_) if p.planned => Some(Cause::Maintenance),
                Phase::Lost => Some(Cause::Detection),
                Phase::Pending(cause) => Some(cause),
                Phase::Starting => Some(Cause::Startup),
                Phase::Attaching(_) => Some(Cause::DetachWait),
                Phase::BackOff | Phase::Hung => Some(Cause::Crash),
                Phase::AwaitingApi | Phase::AwaitingApiStart => Some(Cause::ControlPlane),
            })
            .min()
            .filter(|_| !pods_up);
        let volume_cause = self.sc.apps[app].volumes.iter().filter_map(|&v| self.volumes[v].unavailable).min();
        let dependency_down = self.sc.apps[app].depends_on.iter().any(|&d| self.apps[d].down_since.is_some());
        let up = pods_up && volume_cause.is_none() && !dependency_down;
        let cause = pod_cause
            .into_iter()
            .chain(volume_cause)
            .chain(dependency_down.then_some(Cause::Dependency))
            .min()
            .unwrap_or(Cause::Startup);
        let was_up = self.apps[app].down_since.is_none();
        let state = &mut self.apps[app];
        match (state.down_since, up) {
            (Some(since), true) => {
                let outcome = &mut state.outcome;
                outcome.downtime_ms += now - since;
                outcome.cause_ms[state.cause.index()] += now - state.cause_since;
                // Down and up at one instant (within one event) is no outage.
                outcome.outages += u32::from(now > since);
                outcome.longest_outage_ms = outcome.longest_outage_ms.max(now - since);
                state.down_since = None;
                self.note(now, TraceKind::AppUp, About::app(app), format!("down for {}", format_duration(now - since)));
            }
            (None, false) => {
                state.down_since = Some(now);
                state.cause = cause;
                state.cause_since = now;
                self.note(now, TraceKind::AppDown, About::app(app), cause.name().into());
            }
            (Some(_), false) if cause != state.cause => {
                state.outcome.cause_ms[state.cause.index()] += now - state.cause_since;
                state.cause = cause;
                state.cause_since = now;
            }
            _ => {}
        }
        // Apps that depend on this one follow it up and down.
        if was_up != up {
            for dependent in self.dependents[app].clone() {
                self.refresh_app(dependent, now);
            }
        }
    }

    /// Step 3: closes the outages still open at the horizon.
    fn finish(mut self, horizon: Millis) -> ReplicationOutcome {
        for &pod in &self.pending {
            self.apps[self.pods[pod].app].outcome.pending_at_horizon += 1;
        }
        for state in &mut self.apps {
            if let Some(since) = state.down_since.take() {
                state.outcome.downtime_ms += horizon - since;
                state.outcome.cause_ms[state.cause.index()] += horizon - state.cause_since;
                state.outcome.outages += u32::from(horizon > since);
                state.outcome.longest_outage_ms = state.outcome.longest_outage_ms.max(horizon - since);
            }
        }
        for volume in &mut self.volumes {
            volume.close(horizon);
        }
        ReplicationOutcome {
            apps: self.apps.into_iter().map(|s| s.outcome).collect(),
            volumes: self.volumes.into_iter().map(|v| v.outcome).collect(),
            events: self.events,
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
        pods: sim.pods.iter().map(|p| (p.app, p.node)).collect(),
        used: sim.load.iter().map(|l| (l.cpu_used_m, l.memory_used_bytes)).collect(),
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
