//! The simulation state and the handlers of every event: the node lifecycle,
//! the Kubernetes node controller (detection, zone disruption, rate-limited
//! taints, eviction), the scheduler and the kubelet's pod start.

use super::event::{Event, PodId};
use super::queue::{EventId, EventQueue};
use crate::metrics::{AppOutcome, Cause, ReplicationOutcome, TraceRecord};
use crate::model::{AppId, NodeId, Scenario};
use crate::placement::{ClusterView, NodeLoad, Placement, PodRequest, Strategy};
use crate::rng::{Source, stream};
use crate::time::{Millis, format_duration};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// Runs replication `replication` of `scenario` under `strategy`. With
/// `trace`, every event and every pod and app transition is appended to it.
pub fn simulate(
    scenario: &Scenario,
    strategy: Strategy,
    replication: u32,
    trace: Option<&mut Vec<TraceRecord>>,
) -> ReplicationOutcome {
    let mut sim = Sim::new(scenario, strategy, replication, trace);
    sim.start();
    let horizon = scenario.horizon_ms;
    while let Some((now, event)) = sim.queue.pop_until(horizon) {
        sim.events += 1;
        sim.handle(now, event);
        #[cfg(debug_assertions)]
        sim.check_invariants(now);
    }
    sim.finish(horizon)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Ready and serving.
    Running,
    /// Bound to a node, starting up.
    Starting,
    /// Bound to a node that has failed.
    Lost,
    /// Not bound to any node, for the reason given.
    Pending(Cause),
}

struct Pod {
    app: AppId,
    replica: u32,
    node: Option<NodeId>,
    phase: Phase,
    ready_ev: Option<EventId>,
}

#[derive(Default)]
struct NodeState {
    /// Physically running.
    up: bool,
    /// The node controller's Ready condition.
    ready: bool,
    /// Carries the NoExecute unreachable taint; its pods' eviction is pending.
    tainted: bool,
    /// Waiting in its zone's rate-limited taint queue.
    queued: bool,
    notready_ev: Option<EventId>,
    evict_ev: Option<EventId>,
    /// The node's next failure while up, its repair while down.
    change_ev: Option<EventId>,
    pods: Vec<PodId>,
}

/// The node lifecycle controller's view of one zone.
#[derive(Default)]
struct Zone {
    size: usize,
    not_ready: usize,
    queue: VecDeque<NodeId>,
    /// The eviction rate limiter (a token bucket of one) has a token from then.
    next_taint_ms: Millis,
    pass_ev: Option<EventId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ZoneHealth {
    Normal,
    PartialDisruption,
    FullDisruption,
}

struct AppState {
    down_since: Option<Millis>,
    cause: Cause,
    cause_since: Millis,
    outcome: AppOutcome,
}

struct Sim<'a, 't> {
    sc: &'a Scenario,
    placement: &'static dyn Placement,
    queue: EventQueue<Event>,
    nodes: Vec<NodeState>,
    load: Vec<NodeLoad>,
    pods: Vec<Pod>,
    /// The pod slots of each app: `pods[app_pods[a].0 .. app_pods[a].1]`.
    app_pods: Vec<(PodId, PodId)>,
    apps: Vec<AppState>,
    zones: Vec<Zone>,
    /// Pods awaiting a node, in the order they became Pending.
    pending: Vec<PodId>,
    /// Every zone is in FullDisruption: the controller stops all evictions.
    all_disrupted: bool,
    failure_rng: Vec<ChaCha8Rng>,
    repair_rng: Vec<ChaCha8Rng>,
    lease_rng: Vec<ChaCha8Rng>,
    startup_rng: Vec<ChaCha8Rng>,
    placement_rng: ChaCha8Rng,
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
                pods.push(Pod { app: a, replica, node: None, phase: Phase::Pending(Cause::NoNode), ready_ev: None });
            }
            app_pods.push((first, pods.len()));
        }
        let zone_count = sc.nodes.iter().map(|node| node.zone + 1).max().unwrap_or(1);
        let mut zones: Vec<Zone> = (0..zone_count).map(|_| Zone::default()).collect();
        for node in &sc.nodes {
            zones[node.zone].size += 1;
        }
        let streams = |f: fn(usize) -> Source, count: usize| (0..count).map(|i| stream(sc.seed, rep, f(i))).collect();
        Sim {
            sc,
            placement: strategy.placement(),
            queue: EventQueue::default(),
            nodes: (0..n).map(|_| NodeState { up: true, ready: true, ..NodeState::default() }).collect(),
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
            all_disrupted: false,
            failure_rng: streams(Source::NodeFailure, n),
            repair_rng: streams(Source::NodeRepair, n),
            lease_rng: streams(Source::NodeLease, n),
            startup_rng: streams(Source::Startup, sc.apps.len()),
            placement_rng: stream(sc.seed, rep, Source::Placement),
            trace,
            events: 0,
        }
    }

    fn note(&mut self, now: Millis, kind: &'static str, node: Option<NodeId>, pod: Option<PodId>, detail: String) {
        if let Some(trace) = self.trace.as_deref_mut() {
            let app = pod.map(|p| self.pods[p].app);
            trace.push(TraceRecord {
                time_ms: now,
                kind,
                node,
                app,
                pod: pod.map(|p| (self.pods[p].app, self.pods[p].replica)),
                detail,
            });
        }
    }

    fn note_app(&mut self, now: Millis, kind: &'static str, app: AppId, detail: String) {
        if let Some(trace) = self.trace.as_deref_mut() {
            trace.push(TraceRecord { time_ms: now, kind, node: None, app: Some(app), pod: None, detail });
        }
    }

    /// Step 1 of the lifecycle: the steady state at time zero.
    fn start(&mut self) {
        for node in 0..self.nodes.len() {
            self.schedule_next_failure(node, 0);
        }
        for event in &self.sc.events {
            let crate::model::Target::Node(node) = event.target;
            if event.at_ms <= self.sc.horizon_ms {
                self.queue.schedule(event.at_ms, Event::NodeFail { node, outage_ms: event.duration_ms });
            }
        }
        for pod in 0..self.pods.len() {
            if !self.try_schedule(pod, 0, true) {
                self.pending.push(pod);
            }
        }
        for app in 0..self.apps.len() {
            self.refresh_app(app, 0);
        }
    }

    fn handle(&mut self, now: Millis, event: Event) {
        if self.trace.is_some() {
            let node = match event {
                Event::NodeFail { node, .. }
                | Event::NodeRepair { node }
                | Event::NodeNotReady { node }
                | Event::EvictPods { node } => Some(node),
                Event::TaintPass { .. } | Event::PodReady { .. } => None,
            };
            let pod = if let Event::PodReady { pod } = event { Some(pod) } else { None };
            self.note(now, event.kind(), node, pod, String::new());
        }
        match event {
            Event::NodeFail { node, outage_ms } => self.fail_node(node, now, outage_ms),
            Event::NodeRepair { node } => self.repair_node(node, now),
            Event::NodeNotReady { node } => self.mark_not_ready(node, now),
            Event::TaintPass { zone } => {
                self.zones[zone].pass_ev = None;
                self.process_taints(now);
            }
            Event::EvictPods { node } => self.evict_pods(node, now),
            Event::PodReady { pod } => {
                self.pods[pod].ready_ev = None;
                self.pods[pod].phase = Phase::Running;
                self.refresh_app(self.pods[pod].app, now);
            }
        }
    }

    fn schedule_next_failure(&mut self, node: NodeId, now: Millis) {
        if let Some(dt) = self.sc.nodes[node].failure.sample(&mut self.failure_rng[node]) {
            let at = now.saturating_add(dt);
            if at <= self.sc.horizon_ms {
                self.nodes[node].change_ev = Some(self.queue.schedule(at, Event::NodeFail { node, outage_ms: None }));
            }
        }
    }

    /// The node crashes: its pods stop serving at once; the node controller
    /// notices `node_monitor_grace_period` after the kubelet's last lease
    /// renewal, which was up to one renewal interval before the crash.
    fn fail_node(&mut self, node: NodeId, now: Millis, outage_ms: Option<Millis>) {
        if !self.nodes[node].up {
            self.note(now, "ignored", Some(node), None, "scripted failure of a node that is already down".into());
            return;
        }
        if let Some(ev) = self.nodes[node].change_ev.take() {
            self.queue.cancel(ev);
        }
        self.nodes[node].up = false;
        self.load[node].schedulable = false;
        let bound = std::mem::take(&mut self.nodes[node].pods);
        for &pod in &bound {
            if let Some(ev) = self.pods[pod].ready_ev.take() {
                self.queue.cancel(ev);
            }
            self.pods[pod].phase = Phase::Lost;
        }
        for &pod in &bound {
            self.refresh_app(self.pods[pod].app, now);
        }
        self.nodes[node].pods = bound;

        let kube = &self.sc.kube;
        let lease_offset = if kube.lease_renew_interval_ms > 0 {
            self.lease_rng[node].random_range(0..kube.lease_renew_interval_ms)
        } else {
            0
        };
        let not_ready_at = (now + kube.node_monitor_grace_period_ms).saturating_sub(lease_offset).max(now);
        self.nodes[node].notready_ev = Some(self.queue.schedule(not_ready_at, Event::NodeNotReady { node }));

        let outage = outage_ms.or_else(|| self.sc.nodes[node].repair.sample(&mut self.repair_rng[node]));
        if let Some(outage) = outage {
            let at = now.saturating_add(outage);
            if at <= self.sc.horizon_ms {
                self.nodes[node].change_ev = Some(self.queue.schedule(at, Event::NodeRepair { node }));
            }
        }
    }

    fn set_ready(&mut self, node: NodeId, ready: bool) {
        if self.nodes[node].ready != ready {
            self.nodes[node].ready = ready;
            let zone = &mut self.zones[self.sc.nodes[node].zone];
            if ready {
                zone.not_ready -= 1;
            } else {
                zone.not_ready += 1;
            }
        }
    }

    /// Ready=Unknown: the node joins its zone's queue for the NoExecute taint.
    fn mark_not_ready(&mut self, node: NodeId, now: Millis) {
        self.nodes[node].notready_ev = None;
        self.set_ready(node, false);
        self.load[node].schedulable = false;
        let zone = self.sc.nodes[node].zone;
        self.nodes[node].queued = true;
        self.zones[zone].queue.push_back(node);
        self.process_taints(now);
    }

    /// `ComputeZoneState` of the node lifecycle controller.
    fn zone_health(&self, zone: &Zone) -> ZoneHealth {
        let ready = zone.size - zone.not_ready;
        if ready == 0 && zone.not_ready > 0 {
            ZoneHealth::FullDisruption
        } else if zone.not_ready > 2
            && zone.not_ready as f64 / zone.size as f64 >= self.sc.kube.unhealthy_zone_threshold
        {
            ZoneHealth::PartialDisruption
        } else {
            ZoneHealth::Normal
        }
    }

    /// Nodes tainted per second in a zone of this health: the primary rate,
    /// or in a partially disrupted zone nothing (small clusters) or the
    /// secondary rate (large ones).
    fn zone_rate(&self, zone: &Zone) -> f64 {
        let kube = &self.sc.kube;
        match self.zone_health(zone) {
            ZoneHealth::Normal | ZoneHealth::FullDisruption => kube.eviction_rate_per_s,
            ZoneHealth::PartialDisruption if zone.size as u64 > u64::from(kube.large_cluster_size_threshold) => {
                kube.secondary_eviction_rate_per_s
            }
            ZoneHealth::PartialDisruption => 0.0,
        }
    }

    /// Applies the taints the rate limiter and the zone disruption rule allow
    /// now, and schedules the next pass of each zone that still has a queue.
    fn process_taints(&mut self, now: Millis) {
        let all_full =
            self.zones.iter().filter(|z| z.size > 0).all(|z| self.zone_health(z) == ZoneHealth::FullDisruption);
        if all_full && !self.all_disrupted {
            // "Controller detected that all Nodes are not-Ready": every taint
            // is lifted and evictions stop until some node is Ready again.
            self.all_disrupted = true;
            self.note(now, "all-zones-disrupted", None, None, "evictions stopped".into());
            for node in 0..self.nodes.len() {
                if self.nodes[node].tainted {
                    self.untaint(node);
                    let zone = self.sc.nodes[node].zone;
                    self.nodes[node].queued = true;
                    self.zones[zone].queue.push_back(node);
                }
            }
        } else if !all_full && self.all_disrupted {
            self.all_disrupted = false;
            self.note(now, "zones-recovered", None, None, "evictions resume".into());
        }
        if self.all_disrupted {
            return;
        }
        for zone in 0..self.zones.len() {
            let rate = self.zone_rate(&self.zones[zone]);
            if rate <= 0.0 {
                continue;
            }
            let interval_ms = (1000.0 / rate).ceil() as Millis;
            while let Some(&node) = self.zones[zone].queue.front() {
                if !self.nodes[node].queued {
                    self.zones[zone].queue.pop_front();
                    continue;
                }
                let next = self.zones[zone].next_taint_ms;
                if now < next {
                    if self.zones[zone].pass_ev.is_none() {
                        self.zones[zone].pass_ev = Some(self.queue.schedule(next, Event::TaintPass { zone }));
                    }
                    break;
                }
                self.zones[zone].queue.pop_front();
                self.nodes[node].queued = false;
                self.zones[zone].next_taint_ms = now + interval_ms;
                self.taint(node, now);
            }
        }
    }

    fn taint(&mut self, node: NodeId, now: Millis) {
        self.nodes[node].tainted = true;
        let at = now + self.sc.kube.eviction_toleration_ms;
        self.nodes[node].evict_ev = Some(self.queue.schedule(at, Event::EvictPods { node }));
        self.note(now, "taint", Some(node), None, format!("pods evicted at {}", format_duration(at)));
    }

    fn untaint(&mut self, node: NodeId) {
        self.nodes[node].tainted = false;
        if let Some(ev) = self.nodes[node].evict_ev.take() {
            self.queue.cancel(ev);
        }
    }

    /// The toleration ran out: the pods get their deletion timestamp and
    /// their controllers create replacements at once (KEP-3973). The old pods
    /// stay Terminating on the dead node, which no one can schedule onto, so
    /// their requests are released here.
    fn evict_pods(&mut self, node: NodeId, now: Millis) {
        self.nodes[node].evict_ev = None;
        let evicted = std::mem::take(&mut self.nodes[node].pods);
        for &pod in &evicted {
            let app = &self.sc.apps[self.pods[pod].app];
            self.load[node].cpu_used_m -= app.cpu_m;
            self.load[node].memory_used_bytes -= app.memory_bytes;
            self.pods[pod].node = None;
            self.pods[pod].phase = Phase::Pending(Cause::NoNode);
            self.pending.push(pod);
            self.note(now, "pod-evicted", Some(node), Some(pod), String::new());
        }
        self.schedule_pending(now);
        for &pod in &evicted {
            self.refresh_app(self.pods[pod].app, now);
        }
    }

    /// The node is back: Ready again at once, its taint and pending evictions
    /// are lifted, and the pods still bound to it restart there.
    fn repair_node(&mut self, node: NodeId, now: Millis) {
        self.nodes[node].change_ev = None;
        self.nodes[node].up = true;
        if let Some(ev) = self.nodes[node].notready_ev.take() {
            self.queue.cancel(ev);
        }
        self.set_ready(node, true);
        self.untaint(node);
        self.nodes[node].queued = false;
        self.load[node].schedulable = true;
        let bound = self.nodes[node].pods.clone();
        for &pod in &bound {
            self.start_pod(pod, now);
        }
        self.schedule_next_failure(node, now);
        self.process_taints(now);
        self.schedule_pending(now);
        for &pod in &bound {
            self.refresh_app(self.pods[pod].app, now);
        }
    }

    fn start_pod(&mut self, pod: PodId, now: Millis) {
        let app = self.pods[pod].app;
        let startup = self.sc.apps[app].startup.sample(&mut self.startup_rng[app]).unwrap_or(0);
        self.pods[pod].phase = Phase::Starting;
        self.pods[pod].ready_ev = Some(self.queue.schedule(now.saturating_add(startup), Event::PodReady { pod }));
    }

    /// Offers every Pending pod to the scheduler, oldest first.
    fn schedule_pending(&mut self, now: Millis) {
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
        let app_id = self.pods[pod].app;
        let app = &sc.apps[app_id];
        let (first, last) = self.app_pods[app_id];
        let siblings: Vec<NodeId> = (first..last).filter(|&p| p != pod).filter_map(|p| self.pods[p].node).collect();
        let view = ClusterView { nodes: &sc.nodes, load: &self.load };
        let request = PodRequest { app_id, app, siblings_on: &siblings };
        match self.placement.select_node(&view, &request, &mut self.placement_rng) {
            Some(node) => {
                self.load[node].cpu_used_m += app.cpu_m;
                self.load[node].memory_used_bytes += app.memory_bytes;
                self.nodes[node].pods.push(pod);
                self.pods[pod].node = Some(node);
                if initial {
                    self.pods[pod].phase = Phase::Running;
                } else {
                    self.start_pod(pod, now);
                    self.refresh_app(app_id, now);
                }
                self.note(now, "pod-scheduled", Some(node), Some(pod), String::new());
                true
            }
            None => {
                // Capacity if a Ready node could take the pod but for its
                // free resources or anti-affinity; otherwise no node at all.
                let any_ready =
                    (0..sc.nodes.len()).any(|n| self.load[n].schedulable && app.fits_statically(n, &sc.nodes[n]));
                let cause = if any_ready { Cause::Capacity } else { Cause::NoNode };
                let changed = self.pods[pod].phase != Phase::Pending(cause);
                self.pods[pod].phase = Phase::Pending(cause);
                if changed {
                    self.note(now, "pod-pending", None, Some(pod), cause.name().into());
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
    fn refresh_app(&mut self, app: AppId, now: Millis) {
        let (first, last) = self.app_pods[app];
        let pods = &self.pods[first..last];
        let ready = pods.iter().filter(|p| p.phase == Phase::Running).count() as u32;
        let up = ready >= self.sc.apps[app].min_available;
        let cause = pods
            .iter()
            .filter_map(|p| match p.phase {
                Phase::Running => None,
                Phase::Lost => Some(Cause::Detection),
                Phase::Pending(cause) => Some(cause),
                Phase::Starting => Some(Cause::Startup),
            })
            .min()
            .unwrap_or(Cause::Startup);
        let state = &mut self.apps[app];
        match (state.down_since, up) {
            (Some(since), true) => {
                let outcome = &mut state.outcome;
                outcome.downtime_ms += now - since;
                outcome.cause_ms[state.cause.index()] += now - state.cause_since;
                outcome.outages += 1;
                outcome.longest_outage_ms = outcome.longest_outage_ms.max(now - since);
                state.down_since = None;
                self.note_app(now, "app-up", app, format!("down for {}", format_duration(now - since)));
            }
            (None, false) => {
                state.down_since = Some(now);
                state.cause = cause;
                state.cause_since = now;
                self.note_app(now, "app-down", app, cause.name().into());
            }
            (Some(_), false) if cause != state.cause => {
                state.outcome.cause_ms[state.cause.index()] += now - state.cause_since;
                state.cause = cause;
                state.cause_since = now;
            }
            _ => {}
        }
    }

    /// Step 3: closes the outages still open at the horizon.
    fn finish(mut self, horizon: Millis) -> ReplicationOutcome {
        for state in &mut self.apps {
            if let Some(since) = state.down_since.take() {
                state.outcome.downtime_ms += horizon - since;
                state.outcome.cause_ms[state.cause.index()] += horizon - state.cause_since;
                state.outcome.outages += 1;
                state.outcome.longest_outage_ms = state.outcome.longest_outage_ms.max(horizon - since);
            }
        }
        ReplicationOutcome { apps: self.apps.into_iter().map(|s| s.outcome).collect(), events: self.events }
    }

    /// The invariants that must hold after every event (debug and test
    /// builds): no serving pod on a down node, no node over capacity, loads
    /// that match the bound pods, required anti-affinity kept, pods and nodes
    /// agreeing on bindings, downtime never beyond the clock.
    #[cfg(debug_assertions)]
    fn check_invariants(&self, now: Millis) {
        let mut cpu = vec![0u64; self.nodes.len()];
        let mut mem = vec![0u64; self.nodes.len()];
        for (id, pod) in self.pods.iter().enumerate() {
            let app = &self.sc.apps[pod.app];
            match (pod.node, pod.phase) {
                (Some(node), phase) => {
                    assert!(self.nodes[node].pods.contains(&id), "pod {id} not listed on its node {node}");
                    let serving = matches!(phase, Phase::Running | Phase::Starting);
                    assert_eq!(serving, self.nodes[node].up, "pod {id} phase {phase:?} on node {node}");
                    assert!(app.fits_statically(node, &self.sc.nodes[node]), "pod {id} on a node it may not use");
                    cpu[node] += app.cpu_m;
                    mem[node] += app.memory_bytes;
                }
                (None, phase) => assert!(matches!(phase, Phase::Pending(_)), "unbound pod {id} in {phase:?}"),
            }
        }
        for (n, node) in self.sc.nodes.iter().enumerate() {
            assert_eq!(cpu[n], self.load[n].cpu_used_m, "cpu accounting of node {n}");
            assert_eq!(mem[n], self.load[n].memory_used_bytes, "memory accounting of node {n}");
            assert!(cpu[n] <= node.cpu_m && mem[n] <= node.memory_bytes, "node {n} over capacity");
            assert!(!self.load[n].schedulable || self.nodes[n].up, "down node {n} schedulable");
        }
        for (a, app) in self.sc.apps.iter().enumerate() {
            let (first, last) = self.app_pods[a];
            if app.anti_affinity == crate::model::AntiAffinity::Required {
                let mut used: Vec<NodeId> = self.pods[first..last].iter().filter_map(|p| p.node).collect();
                let before = used.len();
                used.sort_unstable();
                used.dedup();
                assert_eq!(before, used.len(), "required anti-affinity of app {a} broken");
            }
            let state = &self.apps[a];
            let ready = self.pods[first..last].iter().filter(|p| p.phase == Phase::Running).count() as u32;
            assert_eq!(state.down_since.is_none(), ready >= app.min_available, "app {a} up/down state");
            assert!(state.outcome.downtime_ms <= now, "app {a} downtime beyond the clock");
        }
        for (z, zone) in self.zones.iter().enumerate() {
            let counted = (0..self.nodes.len()).filter(|&n| self.sc.nodes[n].zone == z && !self.nodes[n].ready).count();
            assert_eq!(counted, zone.not_ready, "NotReady count of zone {z}");
        }
    }
}

/// The apps that have a pod the strategy cannot place in the empty cluster
/// at time zero (they start the run down), for `validate`.
pub fn unplaced_at_start(scenario: &Scenario, strategy: Strategy) -> Vec<AppId> {
    let mut sim = Sim::new(scenario, strategy, 0, None);
    sim.start();
    let mut apps: Vec<AppId> = sim.pending.iter().map(|&p| sim.pods[p].app).collect();
    apps.dedup();
    apps
}
