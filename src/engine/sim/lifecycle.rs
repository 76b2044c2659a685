//! Failure domains, the control plane's quorum, the out-of-service taint,
//! and containers that crash or hang (domain.md sections 1, 3 and 4).

use super::{About, Event, EventId, Millis, NodeId, Phase, PodId, Sim};
use crate::metrics::TraceKind;
use crate::model::AppId;

/// One failure domain's state.
#[derive(Default)]
pub struct DomainState {
    down: bool,
    change_ev: Option<EventId>,
}

impl Sim<'_, '_> {
    // ---- failure domains ----

    pub(super) fn schedule_domain_failure(&mut self, domain: usize, now: Millis) {
        if let Some(dt) = self.sc.domains[domain].failure.sample(&mut self.domain_failure_rng[domain]) {
            let at = now.saturating_add(dt);
            if at <= self.failures_until_ms {
                let ev = self.queue.schedule(at, Event::DomainFail { domain, outage_ms: None });
                self.domains[domain].change_ev = Some(ev);
            }
        }
    }

    /// Every member node stops, whatever its own state; the domain's own
    /// repair is drawn (or fixed by a script).
    pub(super) fn fail_domain(&mut self, domain: usize, now: Millis, outage_ms: Option<Millis>) {
        if self.domains[domain].down {
            self.note(
                now,
                TraceKind::DomainFailIgnored,
                About::domain(domain),
                "scripted failure of a domain that is already down".into(),
            );
            return;
        }
        if let Some(ev) = self.domains[domain].change_ev.take() {
            self.queue.cancel(ev);
        }
        self.domains[domain].down = true;
        let outage = outage_ms.or_else(|| self.sc.domains[domain].repair.sample(&mut self.domain_repair_rng[domain]));
        if let Some(outage) = outage {
            let at = now.saturating_add(outage);
            if at <= self.sc.horizon_ms {
                self.domains[domain].change_ev = Some(self.queue.schedule(at, Event::DomainRepair { domain }));
            }
        }
        for &node in &self.sc.domains[domain].nodes {
            self.nodes[node].domains_down += 1;
            if self.nodes[node].domains_down == 1 && self.nodes[node].self_up && !self.nodes[node].in_maintenance {
                self.went_down(node, now);
            }
        }
    }

    pub(super) fn repair_domain(&mut self, domain: usize, now: Millis) {
        self.domains[domain].change_ev = None;
        self.domains[domain].down = false;
        self.schedule_domain_failure(domain, now);
        for &node in &self.sc.domains[domain].nodes {
            self.nodes[node].domains_down -= 1;
            if self.nodes[node].domains_down == 0 && self.nodes[node].self_up && !self.nodes[node].in_maintenance {
                self.came_up(node, now);
            }
        }
    }

    // ---- control plane ----

    /// etcd has a majority of its members (or there is no member to lose:
    /// a control plane outside the simulated nodes).
    pub(in crate::engine) fn quorum(&self) -> bool {
        self.cp_total == 0 || self.cp_up * 2 > self.cp_total
    }

    /// A control-plane node went down or came back. What that did to the
    /// quorum is told once the whole event is handled (`settle_quorum`), so
    /// that a rack taking several members down at once is one transition.
    pub(super) fn set_cp_up(&mut self, up: bool) {
        if up {
            self.cp_up += 1;
        } else {
            self.cp_up -= 1;
        }
    }

    /// After each event: a lost quorum is traced with the members still up,
    /// a regained one brings the controllers' catch-up (after every other
    /// change of the same instant).
    pub(super) fn settle_quorum(&mut self, now: Millis) {
        let quorum = self.quorum();
        if quorum == self.quorum_noted {
            return;
        }
        self.quorum_noted = quorum;
        if quorum {
            self.note(
                now,
                TraceKind::QuorumRegained,
                About::NOTHING,
                format!("{} of {} members up", self.cp_up, self.cp_total),
            );
            self.queue.schedule(now, Event::CatchUp);
        } else {
            self.note(
                now,
                TraceKind::QuorumLost,
                About::NOTHING,
                format!("{} of {} members up", self.cp_up, self.cp_total),
            );
        }
    }

    /// Quorum is back: the kubelets post what they could not (Ready marks,
    /// pods now started or ready), and the controllers act on what they
    /// find: the NotReady marks that were due come at the next monitor pass,
    /// overdue evictions and out-of-service taints at once, zone states are
    /// recomputed, and everything Pending is scheduled.
    pub(super) fn catch_up(&mut self, now: Millis) {
        if !self.quorum() {
            return;
        }
        let next_pass = self.pass_after(now);
        for node in 0..self.nodes.len() {
            if self.nodes[node].up && self.nodes[node].ready_overdue {
                self.kubelet_posts_ready(node, now);
            }
            let state = &self.nodes[node];
            if state.condition_ready && !state.ready && state.seen_ready_ev.is_none() {
                // Its Ready pass came while nothing could be written.
                self.nodes[node].seen_ready_ev = Some(self.queue.schedule(next_pass, Event::NodeSeenReady { node }));
            }
        }
        for node in 0..self.nodes.len() {
            if self.nodes[node].up {
                continue;
            }
            if std::mem::take(&mut self.nodes[node].notready_overdue) {
                self.nodes[node].notready_ev = Some(self.queue.schedule(next_pass, Event::NodeNotReady { node }));
            }
            if std::mem::take(&mut self.nodes[node].evict_overdue) {
                self.evict_pods(node, now);
            }
            if std::mem::take(&mut self.nodes[node].oos_overdue) {
                self.out_of_service(node, now);
            }
        }
        self.catch_up_pod_objects(now);
        self.catch_up_detaches(now);
        for pod in 0..self.pods.len() {
            match (self.pods[pod].phase, self.pods[pod].node) {
                (Phase::AwaitingApi, _) => self.become_running(pod, now),
                (Phase::AwaitingApiStart, Some(node)) if self.pods[pod].deleting => {
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
        self.end_pass_at(now);
        for app in 0..self.apps.len() {
            self.refresh_app(app, now);
        }
        self.schedule_pending(now);
    }

    // ---- the out-of-service taint ----

    /// The operator declares the NotReady node out of service (KEP-2268, GA
    /// in 1.28): its pods are evicted at once and PodGC force-deletes them
    /// at its next pass, after which their volumes are detached at once
    /// (`podgc.rs`).
    pub(super) fn out_of_service(&mut self, node: NodeId, now: Millis) {
        self.nodes[node].oos_ev = None;
        if self.nodes[node].up {
            return;
        }
        if !self.quorum() {
            self.nodes[node].oos_overdue = true;
            return;
        }
        self.taint_out_of_service(node, now);
    }

    // ---- containers ----

    /// The readiness probe passes: Running, unless there is no control
    /// plane to publish it.
    pub(super) fn pod_ready(&mut self, pod: PodId, now: Millis) {
        self.pods[pod].ready_ev = None;
        if self.quorum() || std::mem::take(&mut self.pods[pod].in_place) {
            self.become_running(pod, now);
        } else {
            self.pods[pod].phase = Phase::AwaitingApi;
        }
        self.refresh_app(self.pods[pod].app, now);
    }

    fn become_running(&mut self, pod: PodId, now: Millis) {
        self.pods[pod].phase = Phase::Running;
        self.pods[pod].planned = false;
        self.schedule_fault(pod, now);
    }

    /// Draws the Running container's next crash or hang, whichever first.
    pub(super) fn schedule_fault(&mut self, pod: PodId, now: Millis) {
        let app = &self.sc.apps[self.pods[pod].app];
        let rng = &mut self.crash_rng[pod];
        let crash = app.crash.sample(rng);
        let hang = app.hang.sample(rng);
        let next = match (crash, hang) {
            (Some(c), Some(h)) if h < c => Some((h, true)),
            (Some(c), _) => Some((c, false)),
            (None, Some(h)) => Some((h, true)),
            (None, None) => None,
        };
        if let Some((dt, hang)) = next {
            let at = now.saturating_add(dt);
            if at <= self.failures_until_ms {
                self.pods[pod].fault_ev = Some(self.queue.schedule(at, Event::ContainerFault { pod, hang }));
            }
        }
    }

    pub(super) fn cancel_container_events(&mut self, pod: PodId) {
        for ev in [self.pods[pod].ready_ev.take(), self.pods[pod].fault_ev.take()].into_iter().flatten() {
            self.queue.cancel(ev);
        }
    }

    pub(super) fn container_fault(&mut self, pod: PodId, hang: bool, now: Millis) {
        self.pods[pod].fault_ev = None;
        if hang {
            // Serving stops now; the liveness probe fails `failureThreshold`
            // times, one period apart, before the kubelet kills it.
            let kube = &self.sc.kube;
            let detect = kube.liveness_period_ms * u64::from(kube.liveness_failure_threshold);
            self.pods[pod].phase = Phase::Hung;
            self.pods[pod].ready_ev =
                Some(self.queue.schedule(now.saturating_add(detect), Event::HangDetected { pod }));
        } else {
            self.restart_after_backoff(pod, now);
        }
        self.refresh_app(self.pods[pod].app, now);
    }

    pub(super) fn hang_detected(&mut self, pod: PodId, now: Millis) {
        self.pods[pod].ready_ev = None;
        self.restart_after_backoff(pod, now);
        self.refresh_app(self.pods[pod].app, now);
    }

    /// A scripted crash: the first Ready pod of the app.
    pub(super) fn app_crash(&mut self, app: AppId, now: Millis) {
        let (first, last) = self.app_pods[app];
        let Some(pod) = (first..last).find(|&p| self.pods[p].phase == Phase::Running) else {
            self.note(
                now,
                TraceKind::AppCrashIgnored,
                About::app(app),
                "scripted crash of an app with no Ready pod".into(),
            );
            return;
        };
        if let Some(ev) = self.pods[pod].fault_ev.take() {
            self.queue.cancel(ev);
        }
        self.container_fault(pod, false, now);
    }

    /// CrashLoopBackOff as the kubelet keeps it (`doBackOff` in
    /// `pkg/kubelet/kuberuntime`, `flowcontrol.Backoff`): a container with no
    /// back-off entry, or whose entry expired (its crash came more than
    /// `backoff_reset` after its last restart), restarts at once and gets an
    /// entry of `backoff_initial`; otherwise it waits out the entry, which
    /// then doubles up to `backoff_max`. Restart delays: 0, 10 s, 20 s, ...
    fn restart_after_backoff(&mut self, pod: PodId, now: Millis) {
        let kube = &self.sc.kube;
        let p = &mut self.pods[pod];
        let expired = p.backoff_ms == 0 || now.saturating_sub(p.started_at) > kube.backoff_reset_ms;
        let delay = if expired {
            p.backoff_ms = kube.backoff_initial_ms;
            0
        } else {
            let wait = p.backoff_ms;
            p.backoff_ms = (p.backoff_ms * 2).min(kube.backoff_max_ms);
            wait
        };
        p.phase = Phase::BackOff;
        self.pods[pod].ready_ev = Some(self.queue.schedule(now.saturating_add(delay), Event::ContainerRestart { pod }));
        self.note(now, TraceKind::BackOff, About::pod(pod).on(self.pods[pod].node), format!("restart in {delay} ms"));
    }
}
