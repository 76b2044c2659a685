//! The scheduler: the queue of Pending pods and the binding of a pod to the
//! node the placement strategy picks (`crate::placement`), as kube-scheduler
//! does it: a pod it cannot place waits in its queue, and every change that
//! frees room or a node offers the Pending pods again (the cluster events
//! that move unschedulable pods back to the active queue). Without a
//! control-plane quorum nothing can be bound.

use super::cluster::Cluster;
use super::event::PodId;
use super::kubelet::{Kubelet, Phase};
use super::sim::{About, Sim};
use crate::metrics::{Cause, TraceKind};
use crate::model::{NodeId, Scenario};
use crate::placement::{ClusterView, PodRequest};
use crate::rng::{Source, Streams};
use crate::time::Millis;
use rand_chacha::ChaCha8Rng;

/// The scheduler's queue and its tie-breaks.
pub(in crate::engine) struct Scheduler {
    /// Pods awaiting a node, in the order they became Pending.
    pub(in crate::engine) pending: Vec<PodId>,
    /// Per pod slot: the ties the scheduler breaks for it.
    placement_rng: Vec<ChaCha8Rng>,
}

impl Scheduler {
    pub(in crate::engine) fn new(sc: &Scenario, streams: &Streams, kubelet: &Kubelet) -> Self {
        Scheduler {
            pending: Vec::new(),
            placement_rng: kubelet.slot_streams(sc, streams, |a, r| Source::Placement(a, r)),
        }
    }

    /// Runs the placement strategy for pod slot `pod` (its ties broken from
    /// the slot's own stream): the node it picks, or why there is none:
    /// Capacity if a Ready node could take the pod but for its free
    /// resources or anti-affinity, otherwise no node at all.
    pub(in crate::engine) fn place(
        &mut self,
        sc: &Scenario,
        cluster: &mut Cluster,
        pod: PodId,
        request: &PodRequest,
    ) -> Result<NodeId, Cause> {
        let view = ClusterView::of(sc, &cluster.load);
        match cluster.index.select(&view, request, &mut self.placement_rng[pod]) {
            Some(node) => Ok(node),
            None if cluster.index.any_schedulable(&view, request) => Err(Cause::Capacity),
            None => Err(Cause::NoNode),
        }
    }
}

impl Sim<'_, '_> {
    /// Offers every Pending pod to the scheduler, oldest first.
    pub(in crate::engine) fn schedule_pending(&mut self, now: Millis) {
        if self.scheduler.pending.is_empty() {
            return;
        }
        let waiting = std::mem::take(&mut self.scheduler.pending);
        for pod in waiting {
            if !self.try_schedule(pod, now, false) {
                self.scheduler.pending.push(pod);
            }
        }
    }

    /// Runs the placement strategy for one pod and binds it on success; at
    /// time zero (`initial`) a bound pod is Running at once.
    pub(in crate::engine) fn try_schedule(&mut self, pod: PodId, now: Millis, initial: bool) -> bool {
        let sc = self.ctx.sc;
        if !self.control_plane.quorum() {
            // Neither the scheduler nor the controllers can write a binding.
            if self.kubelet.pods[pod].phase != Phase::Pending(Cause::ControlPlane) {
                self.kubelet.pods[pod].phase = Phase::Pending(Cause::ControlPlane);
                self.refresh_app(self.kubelet.pods[pod].app, now);
            }
            return false;
        }
        let app_id = self.kubelet.pods[pod].app;
        let app = &sc.apps[app_id];
        let siblings = self.kubelet.sibling_nodes(pod);
        let pin = self.storage_pin(app_id);
        let request = PodRequest { app_id, app, siblings_on: &siblings, pin };
        match self.scheduler.place(sc, &mut self.cluster, pod, &request) {
            Ok(node) => {
                self.cluster.change_load(self.ctx.sc, node, |l| {
                    l.cpu_used_m += app.cpu_m;
                    l.memory_used_bytes += app.memory_bytes;
                });
                self.cluster.nodes[node].pods.push(pod);
                self.kubelet.pods[pod].node = Some(node);
                self.bind_storage(app_id, node);
                let detail = if initial {
                    self.kubelet.pods[pod].phase = Phase::Running;
                    String::new()
                } else if !self.cluster.nodes[node].up {
                    // Not yet NotReady, so not yet tainted: the pod is bound
                    // to a dead node, does not start, and goes with the
                    // node's other pods when they are evicted.
                    self.kubelet.pods[pod].phase = Phase::Lost;
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
            Err(cause) => {
                let changed = self.kubelet.pods[pod].phase != Phase::Pending(cause);
                self.kubelet.pods[pod].phase = Phase::Pending(cause);
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

    /// Deletes a bound pod: its requests are released and its replacement
    /// (the same slot) is Pending.
    pub(in crate::engine) fn unbind(&mut self, pod: PodId) {
        let Some(node) = self.kubelet.pods[pod].node.take() else { return };
        self.kubelet.cancel_container_events(&mut self.ctx.queue, pod);
        self.kubelet.pods[pod].deleting = false;
        // The replacement is a new pod: no back-off history.
        self.kubelet.pods[pod].backoff_ms = 0;
        self.kubelet.pods[pod].in_place = false;
        let app = &self.ctx.sc.apps[self.kubelet.pods[pod].app];
        let (cpu, memory) = (app.cpu_m, app.memory_bytes);
        self.cluster.change_load(self.ctx.sc, node, |l| {
            l.cpu_used_m -= cpu;
            l.memory_used_bytes -= memory;
        });
        self.cluster.nodes[node].pods.retain(|&p| p != pod);
        self.kubelet.pods[pod].phase = Phase::Pending(Cause::NoNode);
        self.scheduler.pending.push(pod);
    }
}
