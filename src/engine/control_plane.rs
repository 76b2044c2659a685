//! The Kubernetes node lifecycle controller (domain.md section 1), as
//! `pkg/controller/nodelifecycle/node_lifecycle_controller.go` runs it:
//!
//! 1. Monitor passes every `node-monitor-period` (a phase per replication).
//!    A pass records a lease renewal it sees (`probeTimestamp`, the pass's
//!    own time) and marks a node Ready=Unknown at the first pass for which
//!    `now.After(probeTimestamp + grace period)` (`tryUpdateNodeHealth`);
//!    the passes slide, so that is the pass at or after it on the grid.
//! 2. The Unknown mark brings the `unreachable:NoSchedule` taint at once
//!    (`doNoScheduleTaintingPass`, driven by the node update): from then on
//!    the scheduler leaves the node alone. Until then a crashed node is as
//!    schedulable as any other.
//! 3. The next pass, which observes the condition Unknown, puts the node in
//!    its zone's taint queue (`processTaintBaseEviction`,
//!    `markNodeForTainting`).
//! 4. At the end of every pass the zones' states are computed
//!    (`ComputeZoneState`) and a zone that changed state gets the rate
//!    limiter of its new state (`handleDisruption`, `setLimiterInZone`,
//!    `SwapLimiter`); with every zone fully disrupted, all NoExecute taints
//!    are lifted and evictions stop.
//! 5. The taint loop takes nodes off the queue as the zone's token bucket
//!    (burst 1) allows (`doNoExecuteTaintingPass`, `RateLimitedTimedQueue.Try`);
//!    a node whose Ready condition is True again spends its token and is not
//!    tainted. A taint schedules the node's pods' eviction after the
//!    toleration (the taint eviction controller).
//! 6. A returning kubelet posts Ready at once (the NoSchedule taint goes);
//!    the next pass sees it Ready (`markNodeAsReachable`): its NoExecute
//!    taint and pending evictions go and it counts as Ready in its zone.
//!
//! Without an etcd quorum no write happens; the controller's marks wait for
//! `catch_up`. The 100 ms period of the taint loop (`NodeEvictionPeriod`)
//! is treated as continuous.
//!
//! This file also holds the rest of the control plane: etcd's quorum over the control-plane nodes and the catch-up of
//! every write that waited for it, the taint eviction controller's eviction
//! of a tainted node's pods (KEP-3973), and the operator's out-of-service
//! taint (KEP-2268, handed to `podgc.rs`).

use super::event::Event;
use super::kubelet::Phase;
use super::podgc::PodObjects;
use super::queue::{EventId, EventQueue};
use super::sim::{About, Sim, monitor_phase_ms, next_on_grid};
use crate::metrics::TraceKind;
use crate::model::{Kubernetes, NodeId, Scenario};
use crate::rng::{Source, Streams};
use crate::time::Millis;
use crate::time::format_instant;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// The control plane of one replication: the node lifecycle controller's
/// zones and monitor passes, etcd's quorum, and the pod objects PodGC and
/// operators delete.
pub(in crate::engine) struct ControlPlane {
    pub(in crate::engine) zones: Vec<Zone>,
    /// Where the node controller's monitor passes fall: at this phase plus
    /// multiples of `node_monitor_period`.
    monitor_phase_ms: Millis,
    /// The end of the current pass, when zone states are computed.
    zone_states_ev: Option<EventId>,
    lease_rng: Vec<ChaCha8Rng>,
    oos_rng: Vec<ChaCha8Rng>,
    /// Pod objects left on unreachable nodes: force deletes, Node deletions,
    /// PodGC.
    pub(in crate::engine) pod_objects: PodObjects,
    /// Control-plane members and how many are up.
    cp_total: usize,
    cp_up: usize,
    /// Whether the trace last said the control plane has quorum.
    quorum_noted: bool,
}

impl ControlPlane {
    pub(in crate::engine) fn new(sc: &Scenario, streams: &Streams, replication: u32) -> Self {
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
        let node_streams = |f: fn(&str) -> Source| sc.nodes.iter().map(|node| streams.get(f(&node.name))).collect();
        let members = sc.nodes.iter().filter(|n| n.control_plane).count();
        ControlPlane {
            zones,
            monitor_phase_ms: monitor_phase_ms(sc, replication),
            zone_states_ev: None,
            lease_rng: node_streams(|n| Source::NodeLease(n)),
            oos_rng: node_streams(|n| Source::OutOfService(n)),
            pod_objects: PodObjects::new(sc, streams),
            cp_total: members,
            cp_up: members,
            quorum_noted: true,
        }
    }

    /// The first monitor pass at or after `t`.
    pub(in crate::engine) fn pass_at_or_after(&self, sc: &Scenario, t: Millis) -> Millis {
        match sc.kube.node_monitor_period_ms {
            0 => t,
            period => next_on_grid(self.monitor_phase_ms, period, t),
        }
    }

    /// The first monitor pass strictly after `t` (at `t` with passes at
    /// every instant).
    pub(in crate::engine) fn pass_after(&self, sc: &Scenario, t: Millis) -> Millis {
        if sc.kube.node_monitor_period_ms == 0 { t } else { self.pass_at_or_after(sc, t + 1) }
    }

    /// Schedules the end of the monitor pass running now (once per instant):
    /// zone states, then the taint loop's next tick, which sees the limiters
    /// the pass has just swapped (the 100 ms tick is treated as the instant
    /// after the pass).
    pub(in crate::engine) fn end_pass_at(&mut self, queue: &mut EventQueue<Event>, now: Millis) {
        if self.zone_states_ev.is_none() {
            self.zone_states_ev = Some(queue.schedule(now, Event::ZoneStates));
        }
    }

    /// etcd has a majority of its members (or there is no member to lose:
    /// a control plane outside the simulated nodes).
    pub(in crate::engine) fn quorum(&self) -> bool {
        self.cp_total == 0 || self.cp_up * 2 > self.cp_total
    }

    /// A control-plane node went down or came back. What that did to the
    /// quorum is told once the whole event is handled (`settle_quorum`), so
    /// that a rack taking several members down at once is one transition.
    pub(in crate::engine) fn set_cp_up(&mut self, up: bool) {
        if up {
            self.cp_up += 1;
        } else {
            self.cp_up -= 1;
        }
    }
}

/// The node lifecycle controller's view of one zone.
pub struct Zone {
    pub size: usize,
    /// Nodes whose Ready condition the controller has last seen not True.
    pub not_ready: usize,
    pub queue: VecDeque<NodeId>,
    pub limiter: Limiter,
    pub health: ZoneHealth,
    /// The pending `TaintPass` and its time.
    pub pass_ev: Option<(EventId, Millis)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneHealth {
    Normal,
    PartialDisruption,
    FullDisruption,
}

/// `ComputeZoneState`: a zone with no Ready node is fully disrupted; one with
/// more than two NotReady nodes and at least `threshold` of them NotReady
/// (compared in `float32`, as upstream) is partially disrupted.
pub fn compute_zone_state(ready: usize, not_ready: usize, threshold: f64) -> ZoneHealth {
    if ready == 0 && not_ready > 0 {
        ZoneHealth::FullDisruption
    } else if not_ready > 2 && not_ready as f32 / (not_ready + ready) as f32 >= threshold as f32 {
        ZoneHealth::PartialDisruption
    } else {
        ZoneHealth::Normal
    }
}

/// Nodes tainted per second in a zone of this state (`setLimiterInZone`):
/// the primary rate when Normal or fully disrupted (`HealthyQPSFunc`),
/// and when partially disrupted the secondary rate above
/// `large_cluster_size_threshold` nodes, else none (`ReducedQPSFunc`).
fn zone_rate(kube: &Kubernetes, size: usize, health: ZoneHealth) -> f64 {
    match health {
        ZoneHealth::Normal | ZoneHealth::FullDisruption => kube.eviction_rate_per_s,
        ZoneHealth::PartialDisruption if size as u64 > u64::from(kube.large_cluster_size_threshold) => {
            kube.secondary_eviction_rate_per_s
        }
        ZoneHealth::PartialDisruption => 0.0,
    }
}

/// Whether every zone that has nodes is fully disrupted (and one has).
fn all_fully_disrupted<'z>(states: impl Iterator<Item = (&'z Zone, ZoneHealth)>) -> bool {
    let mut any = false;
    for (zone, health) in states {
        if zone.size > 0 {
            any = true;
            if health != ZoneHealth::FullDisruption {
                return false;
            }
        }
    }
    any
}

/// A zone's eviction rate limiter: `flowcontrol.NewTokenBucketRateLimiter`
/// with burst 1 (`EvictionRateLimiterBurst`), or for a rate of zero the
/// `fakeNeverRateLimiter`, which never accepts and reports 1 QPS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limiter {
    /// Nodes per second; 0 never accepts.
    qps: f64,
    /// When the bucket holds its token (it starts full).
    token_at_ms: Millis,
}

impl Limiter {
    pub fn new(qps: f64, now: Millis) -> Limiter {
        Limiter { qps, token_at_ms: now }
    }

    /// `QPS()`, in the controller's `float32`: the never-limiter reports 1.
    pub fn reported_qps(&self) -> f32 {
        if self.qps > 0.0 { self.qps as f32 } else { 1.0 }
    }

    /// The wait for the next token after one is taken, in whole
    /// milliseconds (from the scenario's rate, not its `float32` rounding,
    /// which would put 0.01/s at 100.000002 s).
    fn interval_ms(&self) -> Millis {
        (1000.0 / self.qps).ceil() as Millis
    }

    /// `TryAccept`: takes the token if the bucket has it.
    pub fn try_accept(&mut self, now: Millis) -> bool {
        if self.qps > 0.0 && now >= self.token_at_ms {
            self.token_at_ms = now.saturating_add(self.interval_ms());
            true
        } else {
            false
        }
    }

    /// When the bucket has a token, if it ever will.
    pub fn next_token_ms(&self) -> Option<Millis> {
        (self.qps > 0.0).then_some(self.token_at_ms)
    }

    /// `SwapLimiter`: nothing if the new rate equals the reported one (in
    /// `float32`); otherwise a new bucket, full unless the old one had no
    /// token, in which case its token is taken at once.
    pub fn swap(&mut self, qps: f64, now: Millis) {
        if self.reported_qps() == qps as f32 {
            return;
        }
        // At a rate of 0 this is the never-limiter, whose token nothing takes.
        let mut new = Limiter::new(qps, now);
        if !self.try_accept(now) {
            new.try_accept(now);
        }
        *self = new;
    }
}

impl Sim<'_, '_> {
    /// The node stopped: the controller marks it Unknown at the first pass
    /// at or after the one that saw its last lease renewal plus the grace
    /// period. The last renewal was up to one renewal interval before the
    /// crash, and not before the kubelet last started.
    pub(super) fn schedule_not_ready(&mut self, node: NodeId, now: Millis) {
        let kube = &self.ctx.sc.kube;
        let lease_offset = if kube.lease_renew_interval_ms > 0 {
            self.control_plane.lease_rng[node].random_range(0..kube.lease_renew_interval_ms)
        } else {
            0
        };
        if !self.cluster.nodes[node].condition_ready {
            // Still Unknown from an earlier outage (it came back without
            // quorum and never posted Ready): nothing to mark, but the
            // operator's and the cloud's reactions to a NotReady node start
            // again for this outage.
            self.react_to_not_ready(node, now);
            return;
        }
        let renewed = now.saturating_sub(lease_offset).max(self.cluster.nodes[node].up_since_ms);
        let probe = self.control_plane.pass_at_or_after(self.ctx.sc, renewed);
        // `now.After(probeTimestamp + gracePeriod)` is strict, but the passes
        // slide (`wait.UntilWithContext` waits a period after each pass
        // ends): the pass `grace / period` passes after the probe comes a
        // few milliseconds past probe + grace, so it is the one that marks.
        let at = self.control_plane.pass_at_or_after(self.ctx.sc, probe + kube.node_monitor_grace_period_ms).max(now);
        self.cluster.nodes[node].notready_ev = Some(self.ctx.queue.schedule(at, Event::NodeNotReady { node }));
    }

    /// The pass that finds the grace period run out: Ready=Unknown, and the
    /// NoSchedule taint with it. The node is queued for the NoExecute taint
    /// at the next pass.
    pub(super) fn mark_not_ready(&mut self, node: NodeId, now: Millis) {
        self.cluster.nodes[node].notready_ev = None;
        if self.cluster.nodes[node].up {
            return;
        }
        if !self.control_plane.quorum() {
            // No write reaches etcd: the node is not marked until quorum.
            self.cluster.nodes[node].notready_overdue = true;
            self.note(now, TraceKind::NotReadyDeferred, About::node(node), "the NotReady mark waits for quorum".into());
            return;
        }
        self.react_to_not_ready(node, now);
        self.cluster.nodes[node].condition_ready = false;
        self.refresh_schedulable(node);
        self.set_ready(node, false);
        let next = self.control_plane.pass_after(self.ctx.sc, now);
        self.ctx.queue.schedule(next, Event::TaintQueue { node });
    }

    /// What a NotReady node sets going outside the controller: the
    /// operator's out-of-service taint and the Node object's deletion.
    fn react_to_not_ready(&mut self, node: NodeId, now: Millis) {
        if let Some(d) = self.ctx.sc.kube.out_of_service_after.sample(&mut self.control_plane.oos_rng[node]) {
            self.cluster.nodes[node].oos_ev =
                Some(self.ctx.queue.schedule(now.saturating_add(d), Event::OutOfService { node }));
        }
        self.schedule_node_deletion(node, now);
    }

    /// `markNodeForTainting`: the pass observes the node Unknown and queues
    /// it, unless its kubelet has posted Ready meanwhile.
    pub(super) fn queue_for_taint(&mut self, node: NodeId, now: Millis) {
        let state = &self.cluster.nodes[node];
        if state.condition_ready || state.tainted || state.queued {
            return;
        }
        self.enqueue(node);
        self.control_plane.end_pass_at(&mut self.ctx.queue, now);
    }

    /// What a trace record about zone `z` names: its domain of kind
    /// `zone`; the zone of the nodes in no such domain has none, and says
    /// so in the detail.
    pub(super) fn zone_about(&self, z: usize) -> (About, String) {
        match self.ctx.sc.domains.iter().enumerate().filter(|(_, d)| d.kind == crate::model::ZONE_KIND).nth(z) {
            Some((domain, _)) => (About::domain(domain), String::new()),
            None => (About::NOTHING, "the nodes in no zone".into()),
        }
    }

    /// Puts the node at the back of its zone's taint queue.
    fn enqueue(&mut self, node: NodeId) {
        self.cluster.nodes[node].queued = true;
        self.control_plane.zones[self.ctx.sc.nodes[node].zone].queue.push_back(node);
    }

    /// The kubelet of a returned node posts Ready (it needs the API): the
    /// NoSchedule taint goes at once; the controller sees the node Ready at
    /// its next pass.
    pub(super) fn kubelet_posts_ready(&mut self, node: NodeId, now: Millis) {
        self.cluster.nodes[node].ready_overdue = false;
        if self.cluster.nodes[node].condition_ready {
            return;
        }
        self.cluster.nodes[node].condition_ready = true;
        self.refresh_schedulable(node);
        if self.cluster.nodes[node].seen_ready_ev.is_none() {
            let at = self.control_plane.pass_after(self.ctx.sc, now);
            self.cluster.nodes[node].seen_ready_ev = Some(self.ctx.queue.schedule(at, Event::NodeSeenReady { node }));
        }
    }

    /// `markNodeAsReachable` at the pass that observes Ready=True.
    pub(super) fn seen_ready(&mut self, node: NodeId) {
        self.cluster.nodes[node].seen_ready_ev = None;
        if !self.cluster.nodes[node].condition_ready || self.cluster.nodes[node].ready {
            return;
        }
        if !self.control_plane.quorum() {
            // catch_up schedules the pass again.
            return;
        }
        self.untaint(node);
        if std::mem::take(&mut self.cluster.nodes[node].queued) {
            // `Remove`: out of the queue, so that a later failure queues it
            // at the back.
            self.control_plane.zones[self.ctx.sc.nodes[node].zone].queue.retain(|&n| n != node);
        }
        self.cluster.nodes[node].evict_overdue = false;
        self.set_ready(node, true);
    }

    /// The node controller's Ready view changes the zone's count; the pass
    /// ends with the zone states (one `ZoneStates` per instant).
    pub(super) fn set_ready(&mut self, node: NodeId, ready: bool) {
        if self.cluster.nodes[node].ready == ready {
            return;
        }
        self.cluster.nodes[node].ready = ready;
        let zone = &mut self.control_plane.zones[self.ctx.sc.nodes[node].zone];
        if ready {
            zone.not_ready -= 1;
        } else {
            zone.not_ready += 1;
        }
        let now = self.ctx.queue.now();
        self.control_plane.end_pass_at(&mut self.ctx.queue, now);
    }

    /// The scheduler may use the node while its Ready condition carries no
    /// NoSchedule taint and it is not cordoned.
    pub(super) fn refresh_schedulable(&mut self, node: NodeId) {
        let schedulable = self.cluster.nodes[node].condition_ready && !self.cluster.nodes[node].cordoned;
        if self.cluster.load[node].schedulable != schedulable {
            self.cluster.change_load(self.ctx.sc, node, |l| l.schedulable = schedulable);
        }
    }

    /// `handleDisruption` at the end of a pass.
    pub(super) fn zone_states(&mut self, now: Millis) {
        self.control_plane.zone_states_ev = None;
        if !self.control_plane.quorum() {
            return;
        }
        let threshold = self.ctx.sc.kube.unhealthy_zone_threshold;
        let new: Vec<ZoneHealth> = self
            .control_plane
            .zones
            .iter()
            .map(|z| compute_zone_state(z.size - z.not_ready, z.not_ready, threshold))
            .collect();
        let all_were = all_fully_disrupted(self.control_plane.zones.iter().map(|z| (z, z.health)));
        let all_are = all_fully_disrupted(self.control_plane.zones.iter().zip(new.iter().copied()));
        if all_are && !all_were {
            // "Controller detected that all Nodes are not-Ready": every
            // NoExecute taint is lifted and every limiter stopped.
            self.note(now, TraceKind::AllZonesDisrupted, About::NOTHING, "evictions stopped".into());
            for node in 0..self.cluster.nodes.len() {
                if self.cluster.nodes[node].tainted {
                    self.untaint(node);
                    if !self.cluster.nodes[node].condition_ready && !self.cluster.nodes[node].queued {
                        // The next pass queues it again; it waits there.
                        self.enqueue(node);
                    }
                }
            }
            for zone in &mut self.control_plane.zones {
                zone.limiter.swap(0.0, now);
                zone.health = ZoneHealth::FullDisruption;
            }
        } else if !all_are {
            if all_were {
                self.note(now, TraceKind::ZonesRecovered, About::NOTHING, "evictions resume".into());
            }
            for (z, &health) in new.iter().enumerate() {
                // Leaving the all-disrupted mode resets every zone's limiter.
                if all_were || self.control_plane.zones[z].health != health {
                    let rate = zone_rate(&self.ctx.sc.kube, self.control_plane.zones[z].size, health);
                    let before = self.control_plane.zones[z].limiter;
                    self.control_plane.zones[z].limiter.swap(rate, now);
                    if before != self.control_plane.zones[z].limiter {
                        let (about, zone) = self.zone_about(z);
                        let detail = if zone.is_empty() { String::new() } else { format!("{zone}: ") };
                        self.note(now, TraceKind::RateLimiter, about, format!("{detail}{rate} nodes/s"));
                    }
                    self.control_plane.zones[z].health = health;
                }
            }
        }
        self.process_taints(now);
    }

    /// The taint loop: in each zone, while the limiter gives a token, the
    /// node at the head of the queue is tainted (or, if Ready again,
    /// dropped: its token is spent all the same). A zone that still has a
    /// queue retries when its limiter next has a token.
    pub(super) fn process_taints(&mut self, now: Millis) {
        if !self.control_plane.quorum() {
            return;
        }
        for zone in 0..self.control_plane.zones.len() {
            while let Some(&node) = self.control_plane.zones[zone].queue.front() {
                if !self.cluster.nodes[node].queued {
                    self.control_plane.zones[zone].queue.pop_front();
                    continue;
                }
                if !self.control_plane.zones[zone].limiter.try_accept(now) {
                    // Retry at the next token; a swapped limiter may have
                    // moved it either way.
                    let next = self.control_plane.zones[zone].limiter.next_token_ms();
                    let pending = self.control_plane.zones[zone].pass_ev;
                    if pending.map(|(_, at)| at) != next {
                        if let Some((ev, _)) = pending {
                            self.ctx.queue.cancel(ev);
                        }
                        self.control_plane.zones[zone].pass_ev =
                            next.map(|at| (self.ctx.queue.schedule(at, Event::TaintPass { zone }), at));
                    }
                    break;
                }
                self.control_plane.zones[zone].queue.pop_front();
                self.cluster.nodes[node].queued = false;
                if self.cluster.nodes[node].condition_ready {
                    self.note(now, TraceKind::TaintSkipped, About::node(node), "Ready again: token spent".into());
                } else {
                    self.taint(node, now);
                }
            }
        }
    }

    fn taint(&mut self, node: NodeId, now: Millis) {
        self.cluster.nodes[node].tainted = true;
        let at = now + self.ctx.sc.kube.eviction_toleration_ms;
        self.cluster.nodes[node].evict_ev = Some(self.ctx.queue.schedule(at, Event::EvictPods { node }));
        self.note(now, TraceKind::Taint, About::node(node), format!("pods evicted at {}", format_instant(at)));
    }

    pub(super) fn untaint(&mut self, node: NodeId) {
        self.cluster.nodes[node].tainted = false;
        if let Some(ev) = self.cluster.nodes[node].evict_ev.take() {
            self.ctx.queue.cancel(ev);
        }
    }
}

impl Sim<'_, '_> {
    /// After each event: a lost quorum is traced with the members still up,
    /// a regained one brings the controllers' catch-up (after every other
    /// change of the same instant).
    pub(super) fn settle_quorum(&mut self, now: Millis) {
        let quorum = self.control_plane.quorum();
        if quorum == self.control_plane.quorum_noted {
            return;
        }
        self.control_plane.quorum_noted = quorum;
        if quorum {
            self.note(
                now,
                TraceKind::QuorumRegained,
                About::NOTHING,
                format!("{} of {} members up", self.control_plane.cp_up, self.control_plane.cp_total),
            );
            self.ctx.queue.schedule(now, Event::CatchUp);
        } else {
            self.note(
                now,
                TraceKind::QuorumLost,
                About::NOTHING,
                format!("{} of {} members up", self.control_plane.cp_up, self.control_plane.cp_total),
            );
        }
    }

    /// Quorum is back: the kubelets post what they could not (Ready marks,
    /// pods now started or ready), and the controllers act on what they
    /// find: the NotReady marks that were due come at the next monitor pass,
    /// overdue evictions and out-of-service taints at once, zone states are
    /// recomputed, and everything Pending is scheduled.
    pub(super) fn catch_up(&mut self, now: Millis) {
        if !self.control_plane.quorum() {
            return;
        }
        let next_pass = self.control_plane.pass_after(self.ctx.sc, now);
        for node in 0..self.cluster.nodes.len() {
            if self.cluster.nodes[node].up && self.cluster.nodes[node].ready_overdue {
                self.kubelet_posts_ready(node, now);
            }
            let state = &self.cluster.nodes[node];
            if state.condition_ready && !state.ready && state.seen_ready_ev.is_none() {
                // Its Ready pass came while nothing could be written.
                self.cluster.nodes[node].seen_ready_ev =
                    Some(self.ctx.queue.schedule(next_pass, Event::NodeSeenReady { node }));
            }
        }
        for node in 0..self.cluster.nodes.len() {
            if self.cluster.nodes[node].up {
                continue;
            }
            if std::mem::take(&mut self.cluster.nodes[node].notready_overdue) {
                self.cluster.nodes[node].notready_ev =
                    Some(self.ctx.queue.schedule(next_pass, Event::NodeNotReady { node }));
            }
            if std::mem::take(&mut self.cluster.nodes[node].evict_overdue) {
                self.evict_pods(node, now);
            }
            if std::mem::take(&mut self.cluster.nodes[node].oos_overdue) {
                self.out_of_service(node, now);
            }
        }
        self.catch_up_pod_objects(now);
        self.catch_up_detaches(now);
        for pod in 0..self.kubelet.pods.len() {
            match (self.kubelet.pods[pod].phase, self.kubelet.pods[pod].node) {
                (Phase::AwaitingApi, _) => self.kubelet.become_running(&mut self.ctx, pod, now),
                (Phase::AwaitingApiStart, Some(node)) if self.kubelet.pods[pod].deleting => {
                    // Its returned kubelet finishes the deletion now.
                    self.unbind(pod);
                    self.note(
                        now,
                        TraceKind::PodDeleted,
                        About::pod(pod).on(node),
                        "deletion confirmed at the catch-up".into(),
                    );
                }
                (Phase::AwaitingApiStart, Some(node)) => self.start_bound_pod(pod, node, now),
                _ => {}
            }
        }
        // The zone states and the taint loop, once this instant's changes
        // are all in.
        self.control_plane.end_pass_at(&mut self.ctx.queue, now);
        for app in 0..self.accounting.apps.len() {
            self.refresh_app(app, now);
        }
        self.schedule_pending(now);
    }

    /// The operator declares the NotReady node out of service (KEP-2268, GA
    /// in 1.28): its pods are evicted at once and PodGC force-deletes them
    /// at its next pass, after which their volumes are detached at once
    /// (`podgc.rs`).
    pub(super) fn out_of_service(&mut self, node: NodeId, now: Millis) {
        self.cluster.nodes[node].oos_ev = None;
        if self.cluster.nodes[node].up {
            return;
        }
        if !self.control_plane.quorum() {
            self.cluster.nodes[node].oos_overdue = true;
            return;
        }
        self.taint_out_of_service(node, now);
    }

    /// The toleration ran out: the pods get their deletion timestamp and
    /// their controllers create replacements at once (KEP-3973). The old pods
    /// stay Terminating on the dead node, which no one can schedule onto, so
    /// their requests are released here.
    pub(in crate::engine) fn evict_pods(&mut self, node: NodeId, now: Millis) {
        self.cluster.nodes[node].evict_ev = None;
        if !self.control_plane.quorum() {
            self.cluster.nodes[node].evict_overdue = true;
            return;
        }
        let evicted = self.cluster.nodes[node].pods.clone();
        // Back, but not yet seen Ready by the controller (its NoExecute taint
        // lasts until the next monitor pass), the node's live kubelet stops
        // the pods and confirms their deletion: every one, StatefulSet pods
        // too, is replaced now, and nothing treats the node as gone (no
        // promotion, no force delete, no held volume).
        let alive = self.cluster.nodes[node].up;
        for &pod in &evicted {
            if !alive && self.ctx.sc.apps[self.kubelet.pods[pod].app].kind == crate::model::Workload::StatefulSet {
                // The StatefulSet controller creates no pod with the same
                // identity while the old one still exists on the
                // unreachable node.
                self.kubelet.pods[pod].deleting = true;
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
            self.refresh_app(self.kubelet.pods[pod].app, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Limiter, ZoneHealth, compute_zone_state};
    use ZoneHealth::{FullDisruption as Full, Normal, PartialDisruption as Partial};

    /// The zones of `TestMonitorNodeHealth` in
    /// `pkg/controller/nodelifecycle/node_lifecycle_controller_test.go`, as
    /// (Ready, not Ready) counts before and after its second pass, with the
    /// default `--unhealthy-zone-threshold` 0.55. A node without a Ready
    /// condition counts as not Ready.
    #[test]
    fn compute_zone_state_follows_the_upstream_cases() {
        let cases: &[(&str, (usize, usize), ZoneHealth)] = &[
            ("No Disruption: Node created recently without failure domain labels", (1, 0), Normal),
            ("No Disruption: Initially both zones down, one comes back (z1)", (0, 1), Full),
            ("No Disruption: Initially both zones down, one comes back (z2 after)", (1, 0), Normal),
            ("Partial Disruption: Nodes created recently without status conditions (before)", (0, 4), Full),
            ("Partial Disruption: Nodes created recently without status conditions (after)", (1, 3), Partial),
            ("Partial Disruption: one Node failed ... exceed the configured threshold (before)", (3, 2), Normal),
            ("Partial Disruption: one Node failed ... exceed the configured threshold (after)", (2, 3), Partial),
            ("Full Disruption: ... the last healthy Node has failed (before)", (1, 2), Normal),
            ("Full Disruption: ... the last healthy Node has failed (after)", (0, 3), Full),
            ("Full Disruption: all the Nodes in one zone are down (z1)", (0, 1), Full),
            ("Full Disruption: all the Nodes in one zone are down (z2)", (1, 0), Normal),
            ("Full Disruption: Ready condition removed from the Node (after)", (0, 1), Full),
            // Boundaries of the rule: more than 2 NotReady, and the float32
            // fraction at least the threshold.
            ("two NotReady are never partial", (0, 2), Full),
            ("two NotReady of three", (1, 2), Normal),
            ("11 of 20 is exactly 0.55", (9, 11), Partial),
            ("10 of 20", (10, 10), Normal),
            ("an empty zone", (0, 0), Normal),
        ];
        for (name, (ready, not_ready), expected) in cases {
            assert_eq!(compute_zone_state(*ready, *not_ready, 0.55), *expected, "{name}");
        }
    }

    /// `TestSwapLimiter` in `scheduler/rate_limited_queue_test.go`, and the
    /// bucket semantics of `SwapLimiter`: a swap to rate 0 gives the
    /// never-limiter, which reports 1 QPS; a swap to the reported rate keeps
    /// the limiter as it is; otherwise the new bucket (burst 1) is full unless
    /// the old one could not give a token.
    #[test]
    fn swap_limiter_follows_the_upstream_semantics() {
        // TestSwapLimiter: QPS 1 -> swap(0) reports 1 -> swap(5.5) reports
        // 5.5 -> swap(5.5) is the same limiter.
        let mut limiter = Limiter::new(1.0, 0);
        assert_eq!(limiter.reported_qps(), 1.0);
        limiter.swap(0.0, 0);
        assert_eq!(limiter.reported_qps(), 1.0);
        assert!(!limiter.try_accept(1_000_000), "the never-limiter never accepts");
        limiter.swap(5.5, 10);
        assert_eq!(limiter.reported_qps(), 5.5);
        let before = limiter;
        limiter.swap(5.5, 20);
        assert_eq!(limiter, before, "same QPS: no swap");

        // (rate before, token there at the swap?, rate after) -> the first
        // token after a swap at t = 1000 s.
        let t = 1_000_000;
        let cases: &[(&str, f64, bool, f64, Option<u64>)] = &[
            ("full bucket: the new one is full", 0.1, true, 0.01, Some(t)),
            ("empty bucket: the new one is drained", 0.1, false, 0.01, Some(t + 100_000)),
            ("back to the primary rate from an empty bucket", 0.01, false, 0.1, Some(t + 10_000)),
            ("leaving rate 0: the never-limiter refuses, so drained", 0.0, false, 0.1, Some(t + 10_000)),
            ("to rate 0", 0.1, true, 0.0, None),
            ("never-limiter to exactly 1/s: QPS() is 1, no swap", 0.0, false, 1.0, None),
            ("same rate: kept, token and all", 0.1, false, 0.1, Some(t + 5_000)),
        ];
        for (name, before, full, after, first) in cases {
            let mut limiter = Limiter::new(*before, 0);
            if *before > 0.0 && !full {
                // Take the token 5 s before the swap.
                assert!(limiter.try_accept(t - 5_000));
            }
            limiter.swap(*after, t);
            assert_eq!(limiter.next_token_ms(), *first, "{name}");
        }
    }
}
