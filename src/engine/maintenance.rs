//! Rolling planned maintenance: cordon, drain under PodDisruptionBudgets,
//! take the node down, bring it back, wait for the drained pods, next node.
//! It models the operator (or a reboot daemon such as kured) running
//! `kubectl cordon`, `kubectl drain` through the eviction API and
//! `kubectl uncordon` node after node; [`MaintState`] is where the current
//! round is.

use super::event::{Event, PodId};
use super::kubelet::Phase;
use super::queue::EventId;
use super::sim::{About, Sim};
use crate::metrics::TraceKind;
use crate::model::NodeId;
use crate::model::maintenance::DRAIN_RETRY_MS;
use crate::time::Millis;

/// Where the current round is.
#[derive(Default)]
pub struct MaintState {
    /// The node being maintained (index into the nodes), while a round runs.
    node: Option<NodeId>,
    step: Step,
    /// When the current drain or wait began, for the timeout.
    since_ms: Millis,
    poll_ev: Option<EventId>,
}

#[derive(Default, PartialEq, Eq, Clone, Copy)]
enum Step {
    #[default]
    Draining,
    Down,
    Waiting,
}

impl Sim<'_, '_> {
    pub(super) fn schedule_first_round(&mut self) {
        if let Some(m) = &self.ctx.sc.maintenance
            && m.start_ms <= self.ctx.sc.horizon_ms.min(self.ctx.failures_until_ms)
        {
            self.ctx.queue.schedule(m.start_ms, Event::MaintenanceRound);
        }
    }

    pub(super) fn maintenance_round(&mut self, now: Millis) {
        let Some(m) = self.ctx.sc.maintenance.clone() else { return };
        let next = now.saturating_add(m.every_ms);
        if next <= self.ctx.sc.horizon_ms.min(self.ctx.failures_until_ms) {
            self.ctx.queue.schedule(next, Event::MaintenanceRound);
        }
        if self.maint.node.is_some() {
            self.note(now, TraceKind::MaintenanceSkipped, About::NOTHING, "the previous round is still running".into());
            return;
        }
        self.begin_node(0, now);
    }

    /// Starts on the first node from `from` that is up: cordon and drain.
    fn begin_node(&mut self, from: NodeId, now: Millis) {
        let Some(node) = (from..self.cluster.nodes.len()).find(|&n| self.cluster.nodes[n].up) else {
            self.maint.node = None;
            return;
        };
        self.maint = MaintState { node: Some(node), step: Step::Draining, since_ms: now, poll_ev: None };
        self.set_cordoned(node, true);
        self.note(now, TraceKind::Cordon, About::node(node), String::new());
        self.drain_step(now);
    }

    /// `kubectl cordon` / `uncordon`: the scheduler's view follows.
    fn set_cordoned(&mut self, node: NodeId, cordoned: bool) {
        self.cluster.nodes[node].cordoned = cordoned;
        self.refresh_schedulable(node);
    }

    /// `kubectl uncordon` of a node the round is done with: the node is
    /// schedulable again, and kube-scheduler moves the pods it could not
    /// place back to its active queue on that Node update
    /// (`pkg/scheduler/eventhandlers.go`, `updateNodeInCache`: "only requeue
    /// unschedulable pods if the node became more schedulable", by
    /// `MoveAllToActiveOrBackoffQueue`), so they are offered now.
    fn uncordon(&mut self, node: NodeId, now: Millis) {
        self.set_cordoned(node, false);
        self.schedule_pending(now);
    }

    /// A pod may be evicted if its app's budget allows one more pod not Ready.
    fn budget_allows(&self, pod: PodId) -> bool {
        let app = self.kubelet.pods[pod].app;
        let Some(max_unavailable) = self.ctx.sc.apps[app].max_unavailable else { return true };
        if self.kubelet.pods[pod].phase != Phase::Running {
            return true;
        }
        let (first, last) = self.kubelet.app_pods[app];
        let not_ready = (first..last).filter(|&p| self.kubelet.pods[p].phase != Phase::Running).count() as u32;
        not_ready < max_unavailable
    }

    /// Evicts what the budgets allow; the node goes down once empty.
    fn drain_step(&mut self, now: Millis) {
        let Some(node) = self.maint.node else { return };
        if !self.cluster.nodes[node].up {
            // It failed meanwhile: nothing left to plan on it this round.
            self.uncordon(node, now);
            self.begin_node(node + 1, now);
            return;
        }
        for pod in self.cluster.nodes[node].pods.clone() {
            if self.budget_allows(pod) {
                // The eviction API: the pod leaves the endpoints at once and
                // its controller creates the replacement.
                self.unbind(pod);
                self.kubelet.pods[pod].planned = true;
                self.note(now, TraceKind::PodDrained, About::pod(pod).on(node), String::new());
                self.refresh_app(self.kubelet.pods[pod].app, now);
            }
        }
        self.schedule_pending(now);
        if self.cluster.nodes[node].pods.is_empty() {
            let Some(m) = &self.ctx.sc.maintenance else { return };
            let back = now.saturating_add(m.node_duration_ms);
            self.maint.step = Step::Down;
            self.cluster.nodes[node].in_maintenance = true;
            self.note(now, TraceKind::MaintenanceStart, About::node(node), String::new());
            self.went_down(node, now);
            self.ctx.queue.schedule(back, Event::MaintenanceEnd { node });
        } else if now.saturating_sub(self.maint.since_ms)
            >= self.ctx.sc.maintenance.as_ref().map_or(0, |m| m.drain_timeout_ms)
        {
            self.note(
                now,
                TraceKind::DrainTimeout,
                About::node(node),
                "a disruption budget blocks the drain: node skipped".into(),
            );
            self.uncordon(node, now);
            self.begin_node(node + 1, now);
        } else {
            self.maint.poll_ev = Some(self.ctx.queue.schedule(now + DRAIN_RETRY_MS, Event::MaintenancePoll));
        }
    }

    pub(super) fn maintenance_end(&mut self, node: NodeId, now: Millis) {
        self.cluster.nodes[node].in_maintenance = false;
        if self.cluster.nodes[node].self_up && self.cluster.nodes[node].domains_down == 0 {
            // Running again: `came_up` offers the Pending pods once the
            // kubelet is back.
            self.set_cordoned(node, false);
            self.came_up(node, now);
        } else {
            self.uncordon(node, now);
        }
        self.maint.step = Step::Waiting;
        self.maint.since_ms = now;
        self.maintenance_poll(now);
    }

    /// Retries a blocked drain, or checks whether the drained pods are all
    /// Ready again so that the next node can start.
    pub(super) fn maintenance_poll(&mut self, now: Millis) {
        self.maint.poll_ev = None;
        let Some(node) = self.maint.node else { return };
        match self.maint.step {
            Step::Draining => self.drain_step(now),
            Step::Down => {}
            Step::Waiting => {
                let waiting = self.kubelet.pods.iter().any(|p| p.planned);
                let timeout = self.ctx.sc.maintenance.as_ref().map_or(0, |m| m.drain_timeout_ms);
                if !waiting || now.saturating_sub(self.maint.since_ms) >= timeout {
                    self.begin_node(node + 1, now);
                } else {
                    self.maint.poll_ev = Some(self.ctx.queue.schedule(now + DRAIN_RETRY_MS, Event::MaintenancePoll));
                }
            }
        }
    }
}
