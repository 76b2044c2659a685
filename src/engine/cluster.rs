//! The cluster: the nodes and the failure domains they sit in, the load the
//! scheduler sees on each node and its placement index. It models the
//! machines, not Kubernetes: a node crashes and is repaired, a rack or zone
//! takes its member nodes down with it, and a
//! node's kubelet comes back when the node does. What Kubernetes makes of
//! that is the control plane's (`control_plane.rs`) and the kubelet's
//! (`kubelet.rs`).
//!
//! [`NodeState`] is one record per node that every component reads and
//! writes its own fields of (the control plane its Ready view and taints,
//! the storage its pool, maintenance its cordon), rather than a record per
//! component: the invariants compare them, and one record keeps a node's
//! state in one place.

use super::event::{Event, PodId};
use super::kubelet::Phase;
use super::queue::EventId;
use super::sim::{About, Ctx, Sim};
use super::storage::PoolState;
use crate::metrics::TraceKind;
use crate::model::{NodeId, Scenario};
use crate::placement::{NodeIndex, NodeLoad, Strategy};
use crate::rng::{Source, Streams};
use crate::time::Millis;
use rand_chacha::ChaCha8Rng;

/// The nodes and domains of one replication.
pub(in crate::engine) struct Cluster {
    pub(in crate::engine) nodes: Vec<NodeState>,
    pub(in crate::engine) load: Vec<NodeLoad>,
    /// The scheduler's view of `load`, kept in step by [`Cluster::change_load`].
    pub(in crate::engine) index: NodeIndex,
    pub(in crate::engine) domains: Vec<DomainState>,
    failure_rng: Vec<ChaCha8Rng>,
    repair_rng: Vec<ChaCha8Rng>,
    domain_failure_rng: Vec<ChaCha8Rng>,
    domain_repair_rng: Vec<ChaCha8Rng>,
}

impl Cluster {
    pub(in crate::engine) fn new(sc: &Scenario, strategy: Strategy, streams: &Streams) -> Self {
        let n = sc.nodes.len();
        let node_streams = |f: fn(&str) -> Source| sc.nodes.iter().map(|node| streams.get(f(&node.name))).collect();
        let domain_streams = |f: fn(&str) -> Source| sc.domains.iter().map(|d| streams.get(f(&d.name))).collect();
        Cluster {
            index: NodeIndex::new(
                strategy,
                &sc.nodes,
                &sc.topology,
                &NodeIndex::kinds_for(strategy, &sc.apps, sc.spread_kind),
                &vec![NodeLoad { schedulable: true, cpu_used_m: 0, memory_used_bytes: 0 }; n],
            ),
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
            domains: sc.domains.iter().map(|_| DomainState::default()).collect(),
            failure_rng: node_streams(|n| Source::NodeFailure(n)),
            repair_rng: node_streams(|n| Source::NodeRepair(n)),
            domain_failure_rng: domain_streams(|n| Source::DomainFailure(n)),
            domain_repair_rng: domain_streams(|n| Source::DomainRepair(n)),
        }
    }

    /// Changes node `node`'s load and tells the scheduler's index.
    pub(in crate::engine) fn change_load(&mut self, sc: &Scenario, node: NodeId, change: impl FnOnce(&mut NodeLoad)) {
        change(&mut self.load[node]);
        self.index.update(node, &sc.nodes[node], &self.load[node]);
    }

    pub(in crate::engine) fn schedule_next_failure(&mut self, ctx: &mut Ctx<'_, '_>, node: NodeId, now: Millis) {
        if let Some(dt) = ctx.sc.nodes[node].failure.sample(&mut self.failure_rng[node]) {
            let at = now.saturating_add(dt);
            if at <= ctx.failures_until_ms {
                self.nodes[node].change_ev = Some(ctx.queue.schedule(at, Event::NodeFail { node, outage_ms: None }));
            }
        }
    }

    pub(in crate::engine) fn schedule_domain_failure(&mut self, ctx: &mut Ctx<'_, '_>, domain: usize, now: Millis) {
        if let Some(dt) = ctx.sc.domains[domain].failure.sample(&mut self.domain_failure_rng[domain]) {
            let at = now.saturating_add(dt);
            if at <= ctx.failures_until_ms {
                let ev = ctx.queue.schedule(at, Event::DomainFail { domain, outage_ms: None });
                self.domains[domain].change_ev = Some(ev);
            }
        }
    }
}

#[derive(Default)]
pub(in crate::engine) struct NodeState {
    /// Running: the node itself and every domain it is in are up.
    pub(in crate::engine) up: bool,
    /// The node itself is up (its own failures and repairs).
    pub(in crate::engine) self_up: bool,
    /// How many of its domains are down.
    pub(in crate::engine) domains_down: u32,
    /// Control-plane writes that could not happen without quorum and are
    /// due when it returns: the NotReady mark, the eviction, the Ready mark
    /// after a repair, the out-of-service taint.
    pub(in crate::engine) notready_overdue: bool,
    pub(in crate::engine) evict_overdue: bool,
    pub(in crate::engine) ready_overdue: bool,
    pub(in crate::engine) oos_overdue: bool,
    pub(in crate::engine) oos_ev: Option<EventId>,
    /// Cordoned for maintenance: the scheduler does not use it.
    pub(in crate::engine) cordoned: bool,
    /// Down for planned maintenance.
    pub(in crate::engine) in_maintenance: bool,
    /// The node controller's view of its Ready condition, as of its last
    /// monitor pass (what the zone states count).
    pub(in crate::engine) ready: bool,
    /// The Ready condition in the API: set Unknown by the controller's mark,
    /// True again by the returned kubelet. While it is not True the node
    /// carries the `unreachable:NoSchedule` taint.
    pub(in crate::engine) condition_ready: bool,
    /// The monitor pass that will see the returned node Ready.
    pub(in crate::engine) seen_ready_ev: Option<EventId>,
    /// When its kubelet last started (its first lease renewal).
    pub(in crate::engine) up_since_ms: Millis,
    /// Carries the NoExecute unreachable taint; its pods' eviction is pending.
    pub(in crate::engine) tainted: bool,
    /// Waiting in its zone's rate-limited taint queue.
    pub(in crate::engine) queued: bool,
    pub(in crate::engine) notready_ev: Option<EventId>,
    pub(in crate::engine) evict_ev: Option<EventId>,
    /// The node's next failure while up, its repair while down.
    pub(in crate::engine) change_ev: Option<EventId>,
    pub(in crate::engine) pods: Vec<PodId>,
    pub(in crate::engine) pool: Option<PoolState>,
}

/// One failure domain's state.
#[derive(Default)]
pub struct DomainState {
    down: bool,
    change_ev: Option<EventId>,
}

impl Sim<'_, '_> {
    /// The node crashes: its pods stop serving at once; the node controller
    /// notices `node_monitor_grace_period` after the kubelet's last lease
    /// renewal, which was up to one renewal interval before the crash.
    pub(in crate::engine) fn fail_node(&mut self, node: NodeId, now: Millis, outage_ms: Option<Millis>) {
        if !self.cluster.nodes[node].self_up {
            self.note(
                now,
                TraceKind::NodeFailIgnored,
                About::node(node),
                "scripted failure of a node that is already down".into(),
            );
            return;
        }
        if let Some(ev) = self.cluster.nodes[node].change_ev.take() {
            self.ctx.queue.cancel(ev);
        }
        self.cluster.nodes[node].self_up = false;
        let outage = outage_ms.or_else(|| self.ctx.sc.nodes[node].repair.sample(&mut self.cluster.repair_rng[node]));
        if let Some(outage) = outage {
            let at = now.saturating_add(outage);
            if at <= self.ctx.sc.horizon_ms {
                self.cluster.nodes[node].change_ev = Some(self.ctx.queue.schedule(at, Event::NodeRepair { node }));
            }
        }
        if self.cluster.nodes[node].domains_down == 0 && !self.cluster.nodes[node].in_maintenance {
            self.went_down(node, now);
        }
    }

    /// The node stops (its own failure or its domain's): its pods stop
    /// serving at once. The scheduler keeps offering the node until the
    /// node controller marks it NotReady (`control_plane.rs`): it filters on
    /// taints, not on the Ready condition.
    pub(in crate::engine) fn went_down(&mut self, node: NodeId, now: Millis) {
        self.cluster.nodes[node].up = false;
        if self.ctx.sc.nodes[node].control_plane {
            self.control_plane.set_cp_up(false);
        }
        let bound = std::mem::take(&mut self.cluster.nodes[node].pods);
        for &pod in &bound {
            self.kubelet.cancel_container_events(&mut self.ctx.queue, pod);
            self.kubelet.pods[pod].phase = Phase::Lost;
        }
        self.cluster.nodes[node].pods = bound;
        self.storage_changed(node, now);
        for &pod in &self.cluster.nodes[node].pods.clone() {
            self.refresh_app(self.kubelet.pods[pod].app, now);
        }
        self.schedule_not_ready(node, now);
    }

    /// The node is back: Ready again at once, its taint and pending evictions
    /// are lifted, and the pods still bound to it restart there.
    pub(in crate::engine) fn repair_node(&mut self, node: NodeId, now: Millis) {
        self.cluster.nodes[node].change_ev = None;
        self.cluster.nodes[node].self_up = true;
        self.cluster.schedule_next_failure(&mut self.ctx, node, now);
        if self.cluster.nodes[node].domains_down == 0 && !self.cluster.nodes[node].in_maintenance {
            self.came_up(node, now);
        }
    }

    /// The node runs again: its kubelet posts Ready (once the control plane
    /// can take the write) and starts the pods still bound to it, which it
    /// learns from the API server: without quorum they wait for it. Deleted
    /// StatefulSet pods are replaced now.
    pub(in crate::engine) fn came_up(&mut self, node: NodeId, now: Millis) {
        self.cluster.nodes[node].up = true;
        self.cluster.nodes[node].up_since_ms = now;
        if let Some(ev) = self.cluster.nodes[node].notready_ev.take() {
            self.ctx.queue.cancel(ev);
        }
        if let Some(ev) = self.cluster.nodes[node].oos_ev.take() {
            self.ctx.queue.cancel(ev);
        }
        self.cluster.nodes[node].notready_overdue = false;
        self.cluster.nodes[node].oos_overdue = false;
        self.pod_objects_node_returned(node);
        let api = self.control_plane.quorum();
        if api {
            self.kubelet_posts_ready(node, now);
        } else {
            self.cluster.nodes[node].ready_overdue = true;
        }
        for pod in self.cluster.nodes[node].pods.clone() {
            if self.kubelet.pods[pod].deleting && api {
                // The kubelet finishes the deletion (without the API, at the
                // catch-up); the StatefulSet controller creates the
                // replacement.
                self.unbind(pod);
            }
        }
        let bound = self.cluster.nodes[node].pods.clone();
        for &pod in &bound {
            if api {
                self.start_bound_pod(pod, node, now);
            } else {
                // Only static pods come from local manifests: the kubelet
                // learns these from the API server, when there is one.
                self.kubelet.pods[pod].phase = Phase::AwaitingApiStart;
            }
        }
        self.storage_changed(node, now);
        self.schedule_pending(now);
        for &pod in &bound {
            self.refresh_app(self.kubelet.pods[pod].app, now);
        }
        // Last, once the node is fully back: its etcd member may restore
        // the quorum, and the controllers' catch-up sees the node as it is.
        if self.ctx.sc.nodes[node].control_plane {
            self.control_plane.set_cp_up(true);
        }
    }

    /// Every member node stops, whatever its own state; the domain's own
    /// repair is drawn (or fixed by a script).
    pub(super) fn fail_domain(&mut self, domain: usize, now: Millis, outage_ms: Option<Millis>) {
        if self.cluster.domains[domain].down {
            self.note(
                now,
                TraceKind::DomainFailIgnored,
                About::domain(domain),
                "scripted failure of a domain that is already down".into(),
            );
            return;
        }
        if let Some(ev) = self.cluster.domains[domain].change_ev.take() {
            self.ctx.queue.cancel(ev);
        }
        self.cluster.domains[domain].down = true;
        let outage = outage_ms
            .or_else(|| self.ctx.sc.domains[domain].repair.sample(&mut self.cluster.domain_repair_rng[domain]));
        if let Some(outage) = outage {
            let at = now.saturating_add(outage);
            if at <= self.ctx.sc.horizon_ms {
                self.cluster.domains[domain].change_ev =
                    Some(self.ctx.queue.schedule(at, Event::DomainRepair { domain }));
            }
        }
        for &node in &self.ctx.sc.domains[domain].nodes {
            self.cluster.nodes[node].domains_down += 1;
            if self.cluster.nodes[node].domains_down == 1
                && self.cluster.nodes[node].self_up
                && !self.cluster.nodes[node].in_maintenance
            {
                self.went_down(node, now);
            }
        }
    }

    pub(super) fn repair_domain(&mut self, domain: usize, now: Millis) {
        self.cluster.domains[domain].change_ev = None;
        self.cluster.domains[domain].down = false;
        self.cluster.schedule_domain_failure(&mut self.ctx, domain, now);
        for &node in &self.ctx.sc.domains[domain].nodes {
            self.cluster.nodes[node].domains_down -= 1;
            if self.cluster.nodes[node].domains_down == 0
                && self.cluster.nodes[node].self_up
                && !self.cluster.nodes[node].in_maintenance
            {
                self.came_up(node, now);
            }
        }
    }
}
