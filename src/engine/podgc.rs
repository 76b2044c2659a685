//! Pod objects left on an unreachable node, and what deletes them
//! (domain.md sections 1 and 2; KEP-2268).
//!
//! An eviction only gives a pod its deletionTimestamp. With no kubelet to
//! confirm it, the pod stays Terminating with its containers last reported
//! running, so the attach-detach controller keeps its volumes in the desired
//! state of the node (`DetermineVolumeAction`, volume util
//! `IsPodTerminated`) and the StatefulSet controller creates no pod of the
//! same identity. The objects go, in the order a run may meet them:
//!
//! 1. the node returns: its kubelet finishes the deletion (`Sim::came_up`);
//! 2. an operator force-deletes them, `kubernetes.pod_force_delete_after`
//!    after the eviction;
//! 3. the Node object is deleted, `kubernetes.node_delete_after` after the
//!    NotReady mark (a cloud node lifecycle controller does it once the VM
//!    is gone): PodGC's `gcOrphaned` queues the missing node at its next
//!    pass and deletes its pods at the first pass after the 40 s quarantine;
//! 4. the out-of-service taint: the taint evicts the pods at once (NoExecute,
//!    tolerated by none) and PodGC's `gcTerminating` deletes the terminating
//!    pods of the NotReady tainted node at its next pass.
//!
//! Deleting them replaces the pods not replaced yet (StatefulSet pods, pods
//! not evicted yet) and releases their block volumes
//! (`Sim::release_block_volumes`). PodGC runs every `pod_gc_check_period`
//! (pkg/controller/podgc `gcCheckPeriod`, 20 s) at a phase drawn once per
//! replication from its own stream (the controller manager started at some
//! moment); a pass is an event only when some node needs one.

use super::event::Event;
use super::queue::{EventId, EventQueue};
use super::sim::{About, Ctx, Sim, next_on_grid};
use crate::dist::Dist;
use crate::metrics::TraceKind;
use crate::model::NodeId;
use crate::model::Scenario;
use crate::rng::{Source, Streams};
use crate::time::Millis;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// podgc `quarantineTime`: how long after a pass first finds a pod whose
/// node is missing it waits before it asks the API server whether the node
/// is really gone (a constant upstream, not a flag).
pub const POD_GC_QUARANTINE_MS: Millis = 40_000;

/// What deletes a node's pod objects, for the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deleter {
    Operator,
    Orphaned,
    OutOfService,
}

impl Deleter {
    fn name(self) -> &'static str {
        match self {
            Deleter::Operator => "operator force delete",
            Deleter::Orphaned => "PodGC: node deleted",
            Deleter::OutOfService => "PodGC: out-of-service",
        }
    }
}

/// A deletion someone outside the simulated controllers makes, at a time
/// drawn from the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// The operator's `kubectl delete pod --force`, drawn at the eviction.
    ForceDelete = 0,
    /// The Node object's deletion, drawn at the NotReady mark.
    NodeDelete = 1,
}

/// One node's pod objects and Node object, while the node is down.
#[derive(Default)]
struct NodeObjects {
    /// The pending [`Write`]s, by index.
    write_ev: [Option<EventId>; 2],
    /// Came due without a control-plane quorum: done at the catch-up.
    overdue: [bool; 2],
    /// The Node object is deleted (until the kubelet registers it again).
    deleted: bool,
    /// From this pass on PodGC's orphan check asks for the missing node:
    /// the pass that first found it missing plus the quarantine.
    orphan_check_ms: Option<Millis>,
    /// Carries the `node.kubernetes.io/out-of-service` taint.
    out_of_service: bool,
    /// PodGC still has this node's pods to delete.
    gc_due: bool,
}

/// The state of the pod-object lifecycle in one replication.
pub struct PodObjects {
    nodes: Vec<NodeObjects>,
    /// Per [`Write`], a stream per node; empty when the scenario never draws
    /// from them.
    write_rng: [Vec<ChaCha8Rng>; 2],
    /// PodGC passes run at `phase_ms + k x period`.
    phase_ms: Millis,
    period_ms: Millis,
    pass_ev: Option<(Millis, EventId)>,
}

impl PodObjects {
    pub fn new(sc: &Scenario, replication: &Streams) -> Self {
        let n = sc.nodes.len();
        let streams = |dist: &Dist, source: fn(&str) -> Source| -> Vec<ChaCha8Rng> {
            if *dist == Dist::Never {
                Vec::new()
            } else {
                sc.nodes.iter().map(|node| replication.get(source(&node.name))).collect()
            }
        };
        let period_ms = sc.kube.pod_gc_check_period_ms.max(1);
        PodObjects {
            nodes: (0..n).map(|_| NodeObjects::default()).collect(),
            write_rng: [
                streams(&sc.kube.pod_force_delete_after, |n| Source::ForceDelete(n)),
                streams(&sc.kube.node_delete_after, |n| Source::NodeDelete(n)),
            ],
            phase_ms: replication.get(Source::PodGc).random_range(0..period_ms),
            period_ms,
            pass_ev: None,
        }
    }

    /// The first PodGC pass at or after `t`.
    pub fn next_pass(&self, t: Millis) -> Millis {
        next_on_grid(self.phase_ms, self.period_ms, t)
    }

    /// Draws when `write` happens to `node`, unless one is pending already.
    fn schedule_write(&mut self, ctx: &mut Ctx<'_, '_>, node: NodeId, write: Write, now: Millis) {
        let i = write as usize;
        if self.nodes[node].write_ev[i].is_some() {
            return;
        }
        let Some(rng) = self.write_rng[i].get_mut(node) else { return };
        let dist = match write {
            Write::ForceDelete => &ctx.sc.kube.pod_force_delete_after,
            Write::NodeDelete => &ctx.sc.kube.node_delete_after,
        };
        if let Some(d) = dist.sample(rng) {
            let event = match write {
                Write::ForceDelete => Event::PodForceDelete { node },
                Write::NodeDelete => Event::NodeDeleted { node },
            };
            self.nodes[node].write_ev[i] = Some(ctx.queue.schedule(now.saturating_add(d), event));
        }
    }

    /// Makes sure a PodGC pass runs at the first pass time at or after `at`.
    fn schedule_pod_gc(&mut self, queue: &mut EventQueue<Event>, at: Millis) {
        let when = self.next_pass(at);
        match self.pass_ev {
            Some((t, _)) if t <= when => {}
            pending => {
                if let Some((_, ev)) = pending {
                    queue.cancel(ev);
                }
                self.pass_ev = Some((when, queue.schedule(when, Event::PodGc)));
            }
        }
    }
}

impl Sim<'_, '_> {
    /// At an eviction: the operator's force delete of the pods left
    /// Terminating on the node is drawn.
    pub(in crate::engine) fn schedule_force_delete(&mut self, node: NodeId, now: Millis) {
        self.control_plane.pod_objects.schedule_write(&mut self.ctx, node, Write::ForceDelete, now);
    }

    /// At a NotReady mark: when the Node object will be deleted.
    pub(super) fn schedule_node_deletion(&mut self, node: NodeId, now: Millis) {
        self.control_plane.pod_objects.schedule_write(&mut self.ctx, node, Write::NodeDelete, now);
    }

    /// `write` comes due for `node`: it applies if the node is still down
    /// and the API server can take it; without quorum it waits for the
    /// catch-up.
    fn write_due(&mut self, node: NodeId, write: Write) -> bool {
        self.control_plane.pod_objects.nodes[node].write_ev[write as usize] = None;
        if self.cluster.nodes[node].up {
            return false;
        }
        if !self.control_plane.quorum() {
            self.control_plane.pod_objects.nodes[node].overdue[write as usize] = true;
            return false;
        }
        true
    }

    /// `kubectl delete pod --grace-period=0 --force` on the node's pods.
    pub(super) fn pod_force_delete(&mut self, node: NodeId, now: Millis) {
        if self.write_due(node, Write::ForceDelete) {
            self.delete_pod_objects(node, Deleter::Operator, now);
        }
    }

    /// The Node object is deleted: PodGC will find its pods orphaned.
    pub(super) fn node_deleted(&mut self, node: NodeId, now: Millis) {
        if self.write_due(node, Write::NodeDelete) {
            let objects = &mut self.control_plane.pod_objects.nodes[node];
            objects.deleted = true;
            objects.gc_due = true;
            self.control_plane.pod_objects.schedule_pod_gc(&mut self.ctx.queue, now);
        }
    }

    /// The out-of-service taint is added to the NotReady `node` (the caller
    /// checked it is down and there is quorum). NoExecute and tolerated by
    /// no pod: the taint eviction controller evicts the pods not evicted yet
    /// at once; attachments already released are detached at once; PodGC
    /// deletes the terminating pods at its next pass.
    pub(super) fn taint_out_of_service(&mut self, node: NodeId, now: Millis) {
        self.control_plane.pod_objects.nodes[node].out_of_service = true;
        self.control_plane.pod_objects.nodes[node].gc_due = true;
        if self.cluster.nodes[node].pods.iter().any(|&p| !self.kubelet.pods[p].deleting) {
            // This eviction replaces the unreachable taint's, still pending.
            if let Some(ev) = self.cluster.nodes[node].evict_ev.take() {
                self.ctx.queue.cancel(ev);
            }
            self.evict_pods(node, now);
        }
        self.detach_released(node, now);
        self.control_plane.pod_objects.schedule_pod_gc(&mut self.ctx.queue, now);
    }

    /// A PodGC pass over the nodes that need one: `gcTerminating` (pods
    /// marked for deletion on a NotReady node with the out-of-service taint)
    /// and `gcOrphaned` (pods on a node whose object is gone, once the
    /// quarantine has run out). Without quorum nothing is deleted; the
    /// catch-up schedules the next pass.
    pub(super) fn pod_gc(&mut self, now: Millis) {
        self.control_plane.pod_objects.pass_ev = None;
        if !self.control_plane.quorum() {
            return;
        }
        for node in 0..self.cluster.nodes.len() {
            let objects = &self.control_plane.pod_objects.nodes[node];
            if !objects.gc_due || self.cluster.nodes[node].up {
                continue;
            }
            if objects.out_of_service && !self.cluster.nodes[node].ready {
                self.control_plane.pod_objects.nodes[node].gc_due = false;
                self.delete_pod_objects(node, Deleter::OutOfService, now);
            } else if objects.deleted {
                match objects.orphan_check_ms {
                    None => {
                        self.control_plane.pod_objects.nodes[node].orphan_check_ms = Some(now + POD_GC_QUARANTINE_MS);
                        self.note(now, TraceKind::PodGcQuarantine, About::node(node), "node object missing".into());
                    }
                    Some(check) if now >= check => {
                        self.control_plane.pod_objects.nodes[node].gc_due = false;
                        self.delete_pod_objects(node, Deleter::Orphaned, now);
                    }
                    Some(_) => {}
                }
            }
        }
        // Only nodes in quarantine can still be due.
        let next =
            self.control_plane.pod_objects.nodes.iter().filter(|o| o.gc_due).filter_map(|o| o.orphan_check_ms).min();
        if let Some(at) = next {
            self.control_plane.pod_objects.schedule_pod_gc(&mut self.ctx.queue, at);
        }
    }

    /// Every pod object on the down `node` is deleted: the pods not yet
    /// replaced are (their controllers create replacements now), and their
    /// block volumes are released.
    fn delete_pod_objects(&mut self, node: NodeId, by: Deleter, now: Millis) {
        self.note(now, TraceKind::PodObjectsDeleted, About::node(node), by.name().into());
        let out_of_service = self.control_plane.pod_objects.nodes[node].out_of_service;
        self.release_block_volumes(node, out_of_service, now);
        let pods = self.cluster.nodes[node].pods.clone();
        for &pod in &pods {
            self.unbind(pod);
            self.note(now, TraceKind::PodForceDeleted, About::pod(pod).on(node), by.name().into());
        }
        self.schedule_pending(now);
        for &pod in &pods {
            self.refresh_app(self.kubelet.pods[pod].app, now);
        }
    }

    /// The node is back (its kubelet registers the Node object again and
    /// finishes the deletions itself): pending deletions are called off and
    /// its taint is taken to be removed.
    pub(super) fn pod_objects_node_returned(&mut self, node: NodeId) {
        let objects = std::mem::take(&mut self.control_plane.pod_objects.nodes[node]);
        for ev in objects.write_ev.into_iter().flatten() {
            self.ctx.queue.cancel(ev);
        }
    }

    /// Quorum is back: the force deletes and Node deletions that came due
    /// meanwhile happen now, and PodGC looks again at its next pass.
    pub(super) fn catch_up_pod_objects(&mut self, now: Millis) {
        for node in 0..self.cluster.nodes.len() {
            if self.cluster.nodes[node].up {
                continue;
            }
            let [force_delete, node_delete] = std::mem::take(&mut self.control_plane.pod_objects.nodes[node].overdue);
            if node_delete {
                self.node_deleted(node, now);
            }
            if force_delete {
                self.pod_force_delete(node, now);
            }
        }
        if self.control_plane.pod_objects.nodes.iter().any(|o| o.gc_due) {
            self.control_plane.pod_objects.schedule_pod_gc(&mut self.ctx.queue, now);
        }
    }
}
