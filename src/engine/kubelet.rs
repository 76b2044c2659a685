//! The kubelet: the pods bound to each node and their containers. It
//! starts a bound pod (after its start-up time, unless a ReadWriteOnce
//! volume is still attached elsewhere), publishes it Ready when its
//! readiness probe passes (through the API server: without quorum it waits),
//! and restarts a container that crashes or hangs (the liveness probe)
//! after the CrashLoopBackOff delay (`pkg/kubelet/kuberuntime`).

use super::event::{Event, PodId};
use super::queue::{EventId, EventQueue};
use super::sim::{About, Ctx, Sim};
use crate::metrics::{Cause, TraceKind};
use crate::model::{AppId, NodeId, Scenario, VolumeId};
use crate::rng::{Source, Streams};
use crate::time::Millis;
use rand_chacha::ChaCha8Rng;

/// The pods of one replication: a slot per replica of every app, whose
/// current pod the slot's replacements reuse.
pub(in crate::engine) struct Kubelet {
    pub(in crate::engine) pods: Vec<Pod>,
    /// The pod slots of each app: `pods[app_pods[a].0 .. app_pods[a].1]`.
    pub(in crate::engine) app_pods: Vec<(PodId, PodId)>,
    /// Per pod slot: its start-up draws.
    startup_rng: Vec<ChaCha8Rng>,
    /// Per pod slot: its container crashes and hangs.
    crash_rng: Vec<ChaCha8Rng>,
}

impl Kubelet {
    /// The nodes the other pods of `pod`'s app are bound to, whatever their
    /// phase (what anti-affinity and spread count).
    pub(in crate::engine) fn sibling_nodes(&self, pod: PodId) -> Vec<NodeId> {
        let (first, last) = self.app_pods[self.pods[pod].app];
        (first..last).filter(|&p| p != pod).filter_map(|p| self.pods[p].node).collect()
    }

    /// Every slot Pending and unbound; the start places them.
    pub(in crate::engine) fn new(sc: &Scenario, streams: &Streams) -> Self {
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
        let mut kubelet = Kubelet { pods, app_pods, startup_rng: Vec::new(), crash_rng: Vec::new() };
        kubelet.startup_rng = kubelet.slot_streams(sc, streams, |a, r| Source::Startup(a, r));
        kubelet.crash_rng = kubelet.slot_streams(sc, streams, |a, r| Source::Crash(a, r));
        kubelet
    }

    /// A stream per pod slot, named by its app and replica.
    pub(in crate::engine) fn slot_streams(
        &self,
        sc: &Scenario,
        streams: &Streams,
        f: fn(&str, u32) -> Source,
    ) -> Vec<ChaCha8Rng> {
        self.pods.iter().map(|p| streams.get(f(&sc.apps[p.app].name, p.replica))).collect()
    }

    pub(in crate::engine) fn start_pod(&mut self, ctx: &mut Ctx<'_, '_>, pod: PodId, now: Millis) {
        let app = self.pods[pod].app;
        let startup = ctx.sc.apps[app].startup.sample(&mut self.startup_rng[pod]).unwrap_or(0);
        debug_assert!(self.pods[pod].ready_ev.is_none(), "pod {pod} started twice at {now}");
        self.pods[pod].phase = Phase::Starting;
        self.pods[pod].started_at = now;
        self.pods[pod].ready_ev = Some(ctx.queue.schedule(now.saturating_add(startup), Event::PodReady { pod }));
    }

    pub(in crate::engine) fn become_running(&mut self, ctx: &mut Ctx<'_, '_>, pod: PodId, now: Millis) {
        self.pods[pod].phase = Phase::Running;
        self.pods[pod].planned = false;
        self.schedule_fault(ctx, pod, now);
    }

    /// Draws the Running container's next crash or hang, whichever first.
    pub(in crate::engine) fn schedule_fault(&mut self, ctx: &mut Ctx<'_, '_>, pod: PodId, now: Millis) {
        let app = &ctx.sc.apps[self.pods[pod].app];
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
            if at <= ctx.failures_until_ms {
                self.pods[pod].fault_ev = Some(ctx.queue.schedule(at, Event::ContainerFault { pod, hang }));
            }
        }
    }

    pub(in crate::engine) fn cancel_container_events(&mut self, queue: &mut EventQueue<Event>, pod: PodId) {
        for ev in [self.pods[pod].ready_ev.take(), self.pods[pod].fault_ev.take()].into_iter().flatten() {
            queue.cancel(ev);
        }
    }

    /// CrashLoopBackOff as the kubelet keeps it (`doBackOff` in
    /// `pkg/kubelet/kuberuntime`, `flowcontrol.Backoff`): a container with no
    /// back-off entry, or whose entry expired (its crash came more than
    /// `backoff_reset` after its last restart), restarts at once and gets an
    /// entry of `backoff_initial`; otherwise it waits out the entry, which
    /// then doubles up to `backoff_max`. Restart delays: 0, 10 s, 20 s, ...
    /// Schedules the restart and returns its delay.
    pub(in crate::engine) fn back_off(&mut self, ctx: &mut Ctx<'_, '_>, pod: PodId, now: Millis) -> Millis {
        let kube = &ctx.sc.kube;
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
        self.pods[pod].ready_ev = Some(ctx.queue.schedule(now.saturating_add(delay), Event::ContainerRestart { pod }));
        delay
    }
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
    pub(in crate::engine) replica: u32,
    pub(in crate::engine) node: Option<NodeId>,
    pub(in crate::engine) phase: Phase,
    /// Its next readiness, restart or liveness verdict.
    pub(in crate::engine) ready_ev: Option<EventId>,
    /// Its container's next crash or hang while Running.
    pub(in crate::engine) fault_ev: Option<EventId>,
    /// A StatefulSet pod evicted from an unreachable node: Terminating, and
    /// not replaced until its object is gone (the node returns, a force
    /// delete, PodGC; see `podgc.rs`).
    pub(in crate::engine) deleting: bool,
    /// The current restart back-off (0: none yet).
    pub(in crate::engine) backoff_ms: Millis,
    /// When its container last started, for the back-off reset.
    pub(in crate::engine) started_at: Millis,
    /// Drained for maintenance and not Ready again yet (planned downtime).
    pub(in crate::engine) planned: bool,
    /// Its container is restarting in place after a crash: the pod keeps its
    /// endpoints, so it serves again without a control-plane write.
    pub(in crate::engine) in_place: bool,
}

impl Sim<'_, '_> {
    /// The kubelet starts a pod bound to its node, unless a ReadWriteOnce
    /// volume is still attached elsewhere.
    pub(in crate::engine) fn start_bound_pod(&mut self, pod: PodId, node: NodeId, now: Millis) {
        match self.blocking_attachment(self.kubelet.pods[pod].app, node, now) {
            Some(volume) => self.kubelet.pods[pod].phase = Phase::Attaching(volume),
            None => self.kubelet.start_pod(&mut self.ctx, pod, now),
        }
    }

    /// The readiness probe passes: Running, unless there is no control
    /// plane to publish it.
    pub(super) fn pod_ready(&mut self, pod: PodId, now: Millis) {
        self.kubelet.pods[pod].ready_ev = None;
        if self.control_plane.quorum() || std::mem::take(&mut self.kubelet.pods[pod].in_place) {
            self.kubelet.become_running(&mut self.ctx, pod, now);
        } else {
            self.kubelet.pods[pod].phase = Phase::AwaitingApi;
        }
        self.refresh_app(self.kubelet.pods[pod].app, now);
    }

    pub(super) fn container_fault(&mut self, pod: PodId, hang: bool, now: Millis) {
        self.kubelet.pods[pod].fault_ev = None;
        if hang {
            // Serving stops now; the liveness probe fails `failureThreshold`
            // times, one period apart, before the kubelet kills it.
            let kube = &self.ctx.sc.kube;
            let detect = kube.liveness_period_ms * u64::from(kube.liveness_failure_threshold);
            self.kubelet.pods[pod].phase = Phase::Hung;
            self.kubelet.pods[pod].ready_ev =
                Some(self.ctx.queue.schedule(now.saturating_add(detect), Event::HangDetected { pod }));
        } else {
            self.restart_after_backoff(pod, now);
        }
        self.refresh_app(self.kubelet.pods[pod].app, now);
    }

    /// The back-off is over: the container starts again in place (the pod
    /// keeps its node and its endpoints).
    pub(super) fn container_restart(&mut self, pod: PodId, now: Millis) {
        self.kubelet.pods[pod].ready_ev = None;
        self.kubelet.start_pod(&mut self.ctx, pod, now);
        self.kubelet.pods[pod].in_place = true;
        self.refresh_app(self.kubelet.pods[pod].app, now);
    }

    pub(super) fn hang_detected(&mut self, pod: PodId, now: Millis) {
        self.kubelet.pods[pod].ready_ev = None;
        self.restart_after_backoff(pod, now);
        self.refresh_app(self.kubelet.pods[pod].app, now);
    }

    /// A scripted crash: the first Ready pod of the app.
    pub(super) fn app_crash(&mut self, app: AppId, now: Millis) {
        let (first, last) = self.kubelet.app_pods[app];
        let Some(pod) = (first..last).find(|&p| self.kubelet.pods[p].phase == Phase::Running) else {
            self.note(
                now,
                TraceKind::AppCrashIgnored,
                About::app(app),
                "scripted crash of an app with no Ready pod".into(),
            );
            return;
        };
        if let Some(ev) = self.kubelet.pods[pod].fault_ev.take() {
            self.ctx.queue.cancel(ev);
        }
        self.container_fault(pod, false, now);
    }

    /// A crashed or killed container waits out its back-off
    /// ([`Kubelet::back_off`]) before it restarts.
    fn restart_after_backoff(&mut self, pod: PodId, now: Millis) {
        let delay = self.kubelet.back_off(&mut self.ctx, pod, now);
        self.note(
            now,
            TraceKind::BackOff,
            About::pod(pod).on(self.kubelet.pods[pod].node),
            format!("restart in {delay} ms"),
        );
    }
}
