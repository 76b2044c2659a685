//! Accounting: whether each app is up and, while it is down, the cause its
//! downtime is booked to; at the horizon, the replication's outcome. An app
//! is up while enough of its pods are Ready, its volumes are available and
//! the apps it depends on are up; its downtime goes to the first cause in
//! `Cause`'s order that holds. Data loss is booked by the storage
//! (`storage/mod.rs`). No Kubernetes component does this: it is the
//! observer an SLO report would be, fed by every change of a pod, a volume
//! or a dependency (`refresh_app`).

use super::kubelet::Phase;
use super::sim::{About, Sim};
use crate::metrics::{AppOutcome, Cause, ReplicationOutcome, TraceKind};
use crate::model::{AppId, Scenario};
use crate::time::{Millis, format_duration};

/// The per-app books of one replication.
pub(in crate::engine) struct Accounting {
    pub(in crate::engine) apps: Vec<AppState>,
    /// The apps that depend on each app.
    dependents: Vec<Vec<AppId>>,
}

impl Accounting {
    pub(in crate::engine) fn new(sc: &Scenario) -> Self {
        let mut dependents = vec![Vec::new(); sc.apps.len()];
        for (a, app) in sc.apps.iter().enumerate() {
            for &d in &app.depends_on {
                dependents[d].push(a);
            }
        }
        Accounting {
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
            dependents,
        }
    }

    /// Books app `app` up or down at `now`, to `cause` while down: closes
    /// an outage (its downtime, its causes' shares, its length), opens one,
    /// or moves an open one to a new cause. Returns the trace record of an
    /// outage opened or closed.
    fn book(&mut self, app: AppId, up: bool, cause: Cause, now: Millis) -> Option<(TraceKind, String)> {
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
                Some((TraceKind::AppUp, format!("down for {}", format_duration(now - since))))
            }
            (None, false) => {
                state.down_since = Some(now);
                state.cause = cause;
                state.cause_since = now;
                Some((TraceKind::AppDown, cause.name().into()))
            }
            (Some(_), false) if cause != state.cause => {
                state.outcome.cause_ms[state.cause.index()] += now - state.cause_since;
                state.cause = cause;
                state.cause_since = now;
                None
            }
            _ => None,
        }
    }

    /// Closes the outages still open at the horizon: the apps' outcomes.
    fn close(self, horizon: Millis) -> Vec<AppOutcome> {
        let mut apps = self.apps;
        for state in &mut apps {
            if let Some(since) = state.down_since.take() {
                state.outcome.downtime_ms += horizon - since;
                state.outcome.cause_ms[state.cause.index()] += horizon - state.cause_since;
                state.outcome.outages += u32::from(horizon > since);
                state.outcome.longest_outage_ms = state.outcome.longest_outage_ms.max(horizon - since);
            }
        }
        apps.into_iter().map(|s| s.outcome).collect()
    }
}

/// One app's books: its open outage, if any, and the cause it is booked to
/// since when.
pub(in crate::engine) struct AppState {
    pub(in crate::engine) down_since: Option<Millis>,
    cause: Cause,
    cause_since: Millis,
    pub(in crate::engine) outcome: AppOutcome,
}

impl Sim<'_, '_> {
    /// Re-derives whether the app is up from its pods, and books downtime to
    /// the cause in force until now.
    pub(in crate::engine) fn refresh_app(&mut self, app: AppId, now: Millis) {
        let (first, last) = self.kubelet.app_pods[app];
        let pods = &self.kubelet.pods[first..last];
        let ready = pods.iter().filter(|p| p.phase == Phase::Running).count() as u32;
        let pods_up = ready >= self.ctx.sc.apps[app].min_available;
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
        let volume_cause =
            self.ctx.sc.apps[app].volumes.iter().filter_map(|&v| self.storage.volumes[v].unavailable).min();
        let dependency_down =
            self.ctx.sc.apps[app].depends_on.iter().any(|&d| self.accounting.apps[d].down_since.is_some());
        let up = pods_up && volume_cause.is_none() && !dependency_down;
        let cause = pod_cause
            .into_iter()
            .chain(volume_cause)
            .chain(dependency_down.then_some(Cause::Dependency))
            .min()
            .unwrap_or(Cause::Startup);
        let was_up = self.accounting.apps[app].down_since.is_none();
        if let Some((kind, detail)) = self.accounting.book(app, up, cause, now) {
            self.note(now, kind, About::app(app), detail);
        }
        // Apps that depend on this one follow it up and down.
        if was_up != up {
            for dependent in self.accounting.dependents[app].clone() {
                self.refresh_app(dependent, now);
            }
        }
    }

    /// Step 3: closes the outages still open at the horizon.
    pub(in crate::engine) fn finish(mut self, horizon: Millis) -> ReplicationOutcome {
        for &pod in &self.scheduler.pending {
            self.accounting.apps[self.kubelet.pods[pod].app].outcome.pending_at_horizon += 1;
        }
        let apps = self.accounting.close(horizon);
        for volume in &mut self.storage.volumes {
            volume.close(horizon);
        }
        ReplicationOutcome {
            apps,
            volumes: self.storage.volumes.into_iter().map(|v| v.outcome).collect(),
            events: self.ctx.events,
        }
    }
}
