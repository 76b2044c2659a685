//! Replicated ZFS datasets (domain.md section 2): a dataset on an active
//! node, sent by periodic snapshots (`zfs send`/`receive` every `interval`)
//! to a standby node. Its pods are pinned to the active side. When the
//! active side is gone for good (Kubernetes evicted its pods, or its pool
//! was lost under the running node) the operator or automation promotes the
//! standby, which takes `failover`; the writes since its last snapshot are
//! lost. An active side that comes back before the promotion ends calls it
//! off, its data intact. There is no automatic fail-back: the old active
//! side is the standby from then on.

use super::{Backend, BackendState, Sim, VolState};
use crate::engine::Event;
use crate::engine::EventId;
use crate::engine::sim::About;
use crate::metrics::{Cause, TraceKind};
use crate::model::{self, NodeId, VolumeId};
use crate::time::Millis;

/// The zfs-replicated backend.
pub(super) struct ZfsReplicated;

/// A zfs-replicated volume's state.
pub(super) struct Replication {
    active: NodeId,
    standby: NodeId,
    failover_ev: Option<EventId>,
    /// The promotion must happen but the standby is not there yet.
    awaiting: bool,
    /// The last snapshot the standby received.
    last_sync_ms: Millis,
    /// Both sides up since then (`None`: replication interrupted).
    both_up_since: Option<Millis>,
    /// When the active side was lost (node or pool), while it is.
    lost_at_ms: Option<Millis>,
    /// The writes since the last backup, lost if the active side's pool
    /// is restored from backup before the replica is promoted.
    backup_loss_ms: Option<Millis>,
}

impl Replication {
    pub(super) fn new(active: NodeId, standby: NodeId) -> Self {
        Replication {
            active,
            standby,
            failover_ev: None,
            awaiting: false,
            last_sync_ms: 0,
            both_up_since: Some(0),
            lost_at_ms: None,
            backup_loss_ms: None,
        }
    }

    fn of(volume: &VolState) -> &Replication {
        let BackendState::ZfsReplicated(r) = &volume.data else {
            unreachable!("zfs-replicated code on another backend")
        };
        r
    }

    fn of_mut(volume: &mut VolState) -> &mut Replication {
        let BackendState::ZfsReplicated(r) = &mut volume.data else {
            unreachable!("zfs-replicated code on another backend")
        };
        r
    }
}

impl Backend for ZfsReplicated {
    fn nodes(&self, sim: &Sim, v: VolumeId) -> Vec<NodeId> {
        let r = Replication::of(&sim.storage.volumes[v]);
        vec![r.active, r.standby]
    }

    fn pin(&self, sim: &Sim, v: VolumeId) -> Option<NodeId> {
        Some(Replication::of(&sim.storage.volumes[v]).active)
    }

    fn node_changed(&self, sim: &mut Sim, v: VolumeId, node: NodeId, now: Millis) {
        let ok = sim.storage_ok(node);
        sim.advance_sync(v, now);
        let Replication { active, standby, .. } = *Replication::of(&sim.storage.volumes[v]);
        if node == active && !ok {
            // Only the first loss counts: a pool lost on a node that is
            // already down changes nothing that was written.
            let lost_at = &mut Replication::of_mut(&mut sim.storage.volumes[v]).lost_at_ms;
            if lost_at.is_none() {
                *lost_at = Some(now);
            }
        } else if node == active && ok {
            sim.cancel_failover(v, now);
            let r = Replication::of_mut(&mut sim.storage.volumes[v]);
            r.lost_at_ms = None;
            if let Some(lost) = r.backup_loss_ms.take() {
                // Restored from backup before any promotion.
                sim.book_data_loss(v, lost, now);
            }
        } else if node == standby && ok && Replication::of(&sim.storage.volumes[v]).awaiting && !sim.storage_ok(active)
        {
            sim.start_failover(v, now);
        }
        let both = sim.storage_ok(active) && sim.storage_ok(standby);
        let both_up_since = &mut Replication::of_mut(&mut sim.storage.volumes[v]).both_up_since;
        match (both, *both_up_since) {
            (true, None) => *both_up_since = Some(now),
            (false, Some(_)) => *both_up_since = None,
            _ => {}
        }
    }

    /// Booked only if the pool is restored before a promotion.
    fn pool_wiped(&self, sim: &mut Sim, v: VolumeId, node: NodeId, since_backup: Millis, _now: Millis) -> bool {
        let r = Replication::of_mut(&mut sim.storage.volumes[v]);
        if r.active == node {
            r.backup_loss_ms = Some(since_backup);
        }
        false
    }

    fn gone_for_good(&self, sim: &mut Sim, v: VolumeId, node: NodeId, now: Millis) {
        let r = Replication::of(&sim.storage.volumes[v]);
        if r.active == node && r.failover_ev.is_none() {
            sim.request_failover(v, now);
        }
    }

    fn health(&self, sim: &Sim, v: VolumeId, _now: Millis) -> (Option<Cause>, bool) {
        let Replication { active, standby, failover_ev, .. } = *Replication::of(&sim.storage.volumes[v]);
        let why = if failover_ev.is_some() {
            Some(Cause::Failover)
        } else if sim.pool_lost(active) && !sim.storage_ok(standby) {
            Some(Cause::Restore)
        } else if !sim.storage_ok(active) {
            Some(Cause::Storage)
        } else {
            None
        };
        (why, !(sim.storage_ok(active) && sim.storage_ok(standby)))
    }
}

impl Sim<'_, '_> {
    /// The replication schedule's snapshots land on the standby while both
    /// sides are up; bring `last_sync_ms` up to `now`.
    fn advance_sync(&mut self, v: VolumeId, now: Millis) {
        let model::Backend::ZfsReplicated { interval_ms, .. } = self.ctx.sc.volumes[v].backend else { return };
        let r = Replication::of_mut(&mut self.storage.volumes[v]);
        if let Some(since) = r.both_up_since {
            let snapshot = now / interval_ms * interval_ms;
            if snapshot >= since {
                r.last_sync_ms = r.last_sync_ms.max(snapshot);
            }
        }
    }

    /// The active side is gone for good (evicted, or its pool lost): promote
    /// the standby now if it is there, or as soon as it is.
    fn request_failover(&mut self, v: VolumeId, now: Millis) {
        let standby = Replication::of(&self.storage.volumes[v]).standby;
        if self.storage_ok(standby) {
            self.start_failover(v, now);
        } else {
            Replication::of_mut(&mut self.storage.volumes[v]).awaiting = true;
        }
    }

    fn start_failover(&mut self, v: VolumeId, now: Millis) {
        let model::Backend::ZfsReplicated { failover_ms, .. } = self.ctx.sc.volumes[v].backend else { return };
        let ev = self.ctx.queue.schedule(now.saturating_add(failover_ms), Event::FailoverDone { volume: v });
        let r = Replication::of_mut(&mut self.storage.volumes[v]);
        r.failover_ev = Some(ev);
        r.awaiting = false;
        self.note(now, TraceKind::FailoverStart, About::volume(v), String::new());
        self.refresh_volume(v, now);
    }

    /// The active side came back before the promotion finished: its data is
    /// intact, so the promotion is called off.
    fn cancel_failover(&mut self, v: VolumeId, now: Millis) {
        let r = Replication::of_mut(&mut self.storage.volumes[v]);
        r.awaiting = false;
        if let Some(ev) = r.failover_ev.take() {
            self.ctx.queue.cancel(ev);
            self.note(now, TraceKind::FailoverCancelled, About::volume(v), String::new());
        }
    }

    /// The standby is the active side now; the writes since its last
    /// snapshot are lost; pods still on the old side move.
    pub(in crate::engine) fn failover_done(&mut self, v: VolumeId, now: Millis) {
        let r = Replication::of_mut(&mut self.storage.volumes[v]);
        let (active, last_sync_ms, lost_at_ms) = (r.active, r.last_sync_ms, r.lost_at_ms);
        (r.active, r.standby) = (r.standby, r.active);
        r.failover_ev = None;
        r.both_up_since = None;
        r.lost_at_ms = None;
        // The promotion supersedes any restore of the old side.
        r.backup_loss_ms = None;
        self.book_data_loss(v, lost_at_ms.unwrap_or(now).saturating_sub(last_sync_ms), now);
        // Pods still bound to the old side (its pool was lost while the node
        // stayed up) are deleted and rescheduled onto the new active side.
        let stranded: Vec<_> = self.cluster.nodes[active]
            .pods
            .iter()
            .copied()
            .filter(|&p| self.ctx.sc.apps[self.kubelet.pods[p].app].volumes.contains(&v))
            .collect();
        for pod in &stranded {
            self.unbind(*pod);
            self.note(
                now,
                TraceKind::PodMoved,
                About { volume: Some(v), ..About::pod(*pod).on(active) },
                "replica promoted".into(),
            );
        }
        self.refresh_volume(v, now);
        self.schedule_pending(now);
        for app in self.storage.volume_apps[v].clone() {
            self.refresh_app(app, now);
        }
    }
}
