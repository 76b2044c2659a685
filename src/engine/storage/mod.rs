//! Storage: ZFS pools and their disks, node-local and replicated ZFS
//! datasets, Gluster replicated volumes, attachable ReadWriteOnce volumes
//! (domain.md sections 2, 5 and 6).
//!
//! A ReadWriteOnce block volume stays attached to a crashed node while a
//! pod object there still uses it, evicted or not (see `podgc.rs` for what
//! deletes those objects); a replacement elsewhere waits in Multi-Attach.
//!
//! A volume's availability is re-derived from the state of the nodes and
//! pools it lives on (`refresh_volume`) after every change to them, and the
//! apps that use it are refreshed in turn. Data loss is booked when it
//! happens: at a replica's promotion (writes since the last replicated
//! snapshot) or at the loss of a pool with no live copy elsewhere (writes
//! since the last backup).

use super::sim::{About, Phase, Sim};
use super::{Event, EventId};
use crate::metrics::TraceKind;
use crate::metrics::{Cause, VolumeOutcome};
use crate::model::{Backend, Pool, Volume};
use crate::model::{NodeId, VolumeId};
use crate::placement::{ClusterView, PodRequest};
use crate::time::Millis;
use crate::time::format_duration;

mod gluster;

use gluster::GlusterState;
pub use gluster::gluster_serves;

/// The state of a node's pool.
pub struct PoolState {
    disk_failed: Vec<bool>,
    /// Each disk's next failure, or its replacement while failed.
    disk_ev: Vec<Option<EventId>>,
    lost: bool,
}

impl PoolState {
    pub fn new(pool: &Pool) -> Self {
        let n = pool.disks as usize;
        PoolState { disk_failed: vec![false; n], disk_ev: vec![None; n], lost: false }
    }
}

/// The per-replication state of one volume.
pub struct VolState {
    /// Why the volume is unavailable now, or `None` when it is available.
    pub unavailable: Option<Cause>,
    down_since: Option<Millis>,
    reduced_since: Option<Millis>,
    pub outcome: VolumeOutcome,
    kind: Kind,
    /// A block volume whose detach came due without a control-plane quorum
    /// (the attach-detach controller writes VolumeAttachments through the
    /// API): done at the catch-up.
    detach_overdue: bool,
}

enum Kind {
    /// Bound to a node (from the file, or where its first pod was placed).
    Local {
        node: Option<NodeId>,
    },
    Replicated {
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
    },
    Gluster(GlusterState),
    Block {
        attached: Option<NodeId>,
        /// A pod object on the attached node still uses the volume (its
        /// pod, or the pod evicted from an unreachable node and left
        /// Terminating): the attach-detach controller keeps the volume in its
        /// desired state there and detaches nothing (`DetermineVolumeAction`).
        held: bool,
        /// The force-detach after `maxWaitForUnmountDuration`, once released.
        detach_ev: Option<EventId>,
    },
}

impl VolState {
    pub fn new(volume: &Volume) -> Self {
        let kind = match &volume.backend {
            Backend::ZfsLocal { node } => Kind::Local { node: *node },
            Backend::ZfsReplicated { node, replica, .. } => Kind::Replicated {
                active: *node,
                standby: *replica,
                failover_ev: None,
                awaiting: false,
                last_sync_ms: 0,
                both_up_since: Some(0),
                lost_at_ms: None,
                backup_loss_ms: None,
            },
            Backend::Gluster { .. } => Kind::Gluster(GlusterState::default()),
            Backend::Block { .. } => Kind::Block { attached: None, held: false, detach_ev: None },
        };
        VolState {
            unavailable: None,
            down_since: None,
            reduced_since: None,
            outcome: VolumeOutcome::default(),
            kind,
            detach_overdue: false,
        }
    }

    /// Closes the spans still open at the horizon.
    pub fn close(&mut self, horizon: Millis) {
        if let Some(since) = self.down_since.take() {
            self.outcome.downtime_ms += horizon - since;
            self.outcome.outages += u32::from(horizon > since);
        }
        if let Some(since) = self.reduced_since.take() {
            self.outcome.reduced_redundancy_ms += horizon - since;
        }
    }
}

impl Sim<'_, '_> {
    /// The node's datasets and bricks are reachable: the node is up and its
    /// pool (if it declares one) is not lost.
    fn storage_ok(&self, node: NodeId) -> bool {
        self.nodes[node].up && self.nodes[node].pool.as_ref().is_none_or(|p| !p.lost)
    }

    fn pool_lost(&self, node: NodeId) -> bool {
        self.nodes[node].pool.as_ref().is_some_and(|p| p.lost)
    }

    // ---- set-up ----

    pub(super) fn start_pool(&mut self, node: NodeId, now: Millis) {
        let disks = self.sc.nodes[node].pool.as_ref().map_or(0, |p| p.disks);
        for disk in 0..disks {
            self.schedule_disk_failure(node, disk, now);
        }
    }

    fn schedule_disk_failure(&mut self, node: NodeId, disk: u32, now: Millis) {
        let Some(pool) = &self.sc.nodes[node].pool else { return };
        if let Some(dt) = pool.disk_failure.sample(&mut self.disk_rng[node][disk as usize]) {
            let at = now.saturating_add(dt);
            if at <= self.failures_until_ms {
                let ev = self.queue.schedule(at, Event::DiskFail { node, disk });
                if let Some(p) = self.nodes[node].pool.as_mut() {
                    p.disk_ev[disk as usize] = Some(ev);
                }
            }
        }
    }

    /// Places the bricks of Gluster volumes that do not list them, with the
    /// strategy: a brick is a pod of no size under required anti-affinity.
    pub(super) fn place_bricks(&mut self) {
        let sc = self.sc;
        for (v, volume) in sc.volumes.iter().enumerate() {
            let Backend::Gluster { replicas, arbiter, bricks, .. } = &volume.backend else { continue };
            let total = (*replicas + u32::from(*arbiter)) as usize;
            let placed: Vec<NodeId> = match bricks {
                Some(list) => list.clone(),
                None => {
                    let brick = crate::model::App {
                        replicas: total as u32,
                        anti_affinity: crate::model::AntiAffinity::Required,
                        ..crate::model::App::new(volume.name.clone(), crate::model::Class::Ha)
                    };
                    let mut placed = Vec::new();
                    let mut rng = self.streams.get(crate::rng::Source::Bricks(&volume.name));
                    for _ in 0..total {
                        let view = ClusterView {
                            nodes: &sc.nodes,
                            load: &self.load,
                            topology: &sc.topology,
                            spread_kind: sc.spread_kind,
                        };
                        let request = PodRequest { app_id: usize::MAX, app: &brick, siblings_on: &placed, pin: None };
                        // Validation guarantees enough nodes, all up at time zero.
                        if let Some(node) = self.index.select(&view, &request, &mut rng) {
                            placed.push(node);
                        }
                    }
                    placed
                }
            };
            self.volumes[v].kind = Kind::Gluster(GlusterState::new(&placed));
            for (b, &node) in self.brick_nodes(v).iter().enumerate() {
                self.note(0, TraceKind::BrickPlaced, About::volume(v).on(node), format!("brick {}", b + 1));
            }
        }
    }

    /// The node of brick `b` of Gluster volume `v`.
    pub(super) fn brick_node(&self, v: VolumeId, b: usize) -> Option<NodeId> {
        match &self.volumes[v].kind {
            Kind::Gluster(g) => g.bricks.get(b).map(|brick| brick.node),
            _ => None,
        }
    }

    fn brick_nodes(&self, v: VolumeId) -> Vec<NodeId> {
        match &self.volumes[v].kind {
            Kind::Gluster(g) => g.bricks.iter().map(|b| b.node).collect(),
            _ => Vec::new(),
        }
    }

    /// Builds `node_volumes` once placement at time zero has bound every
    /// node-local volume it could.
    pub(super) fn index_volumes(&mut self) {
        for lists in &mut self.node_volumes {
            lists.clear();
        }
        for v in 0..self.volumes.len() {
            let nodes: Vec<NodeId> = match &self.volumes[v].kind {
                Kind::Local { node } => node.iter().copied().collect(),
                Kind::Replicated { active, standby, .. } => vec![*active, *standby],
                Kind::Gluster(_) => self.brick_nodes(v),
                Kind::Block { .. } => Vec::new(),
            };
            for node in nodes {
                if !self.node_volumes[node].contains(&v) {
                    self.node_volumes[node].push(v);
                }
            }
        }
    }

    // ---- what the scheduler must know ----

    /// The node the app's storage ties its pods to now, if any.
    pub(super) fn storage_pin(&self, app: usize) -> Option<NodeId> {
        self.sc.apps[app].volumes.iter().find_map(|&v| match &self.volumes[v].kind {
            Kind::Local { node } => *node,
            Kind::Replicated { active, .. } => Some(*active),
            _ => None,
        })
    }

    /// Records where a pod of `app` was bound: a node-local volume without a
    /// node is bound there (WaitForFirstConsumer), an unattached block volume
    /// is attached there.
    pub(super) fn bind_storage(&mut self, app: usize, node: NodeId) {
        for i in 0..self.sc.apps[app].volumes.len() {
            let v = self.sc.apps[app].volumes[i];
            match &mut self.volumes[v].kind {
                Kind::Local { node: bound @ None } => {
                    *bound = Some(node);
                    if !self.node_volumes[node].contains(&v) {
                        self.node_volumes[node].push(v);
                    }
                }
                Kind::Block { attached: attached @ None, held, .. } => {
                    *attached = Some(node);
                    *held = true;
                }
                _ => {}
            }
        }
    }

    /// The ReadWriteOnce volume that keeps a pod just bound to `node` from
    /// starting: still attached to another node that is down (Multi-Attach).
    /// An attachment to an up node is released at once (its old pod is gone).
    pub(super) fn blocking_attachment(&mut self, app: usize, node: NodeId, now: Millis) -> Option<VolumeId> {
        let mut blocking = None;
        for i in 0..self.sc.apps[app].volumes.len() {
            let v = self.sc.apps[app].volumes[i];
            let up = |n: NodeId| self.nodes[n].up;
            if let Kind::Block { attached: Some(old), .. } = self.volumes[v].kind
                && old != node
            {
                if up(old) {
                    self.set_attached(v, Some(node));
                } else {
                    blocking = Some(v);
                }
            }
        }
        if let Some(v) = blocking {
            self.note(
                now,
                TraceKind::MultiAttach,
                About { app: Some(app), ..About::volume(v).on(node) },
                String::new(),
            );
        }
        blocking
    }

    /// Attaches the volume to `to` for the pod bound there, or detaches it.
    fn set_attached(&mut self, v: VolumeId, to: Option<NodeId>) {
        if let Kind::Block { attached, held, detach_ev } = &mut self.volumes[v].kind {
            *attached = to;
            *held = to.is_some();
            if let Some(ev) = detach_ev.take() {
                self.queue.cancel(ev);
            }
        }
    }

    // ---- reacting to nodes ----

    /// A node failed or returned (or its pool was lost or restored): update
    /// every volume that depends on it.
    pub(super) fn storage_changed(&mut self, node: NodeId, now: Millis) {
        let ok = self.storage_ok(node);
        for v in self.node_volumes[node].clone() {
            self.advance_sync(v, now);
            match &self.volumes[v].kind {
                Kind::Replicated { active, standby, .. } => {
                    let (active, standby) = (*active, *standby);
                    if node == active && !ok {
                        // Only the first loss counts: a pool lost on a node
                        // that is already down changes nothing that was written.
                        if let Kind::Replicated { lost_at_ms: lost_at @ None, .. } = &mut self.volumes[v].kind {
                            *lost_at = Some(now);
                        }
                    } else if node == active && ok {
                        self.cancel_failover(v, now);
                        let mut restored = None;
                        if let Kind::Replicated { lost_at_ms, backup_loss_ms, .. } = &mut self.volumes[v].kind {
                            *lost_at_ms = None;
                            restored = backup_loss_ms.take();
                        }
                        if let Some(lost) = restored {
                            // Restored from backup before any promotion.
                            self.book_data_loss(v, lost, now);
                        }
                    } else if node == standby && ok && self.awaiting(v) && !self.storage_ok(active) {
                        self.start_failover(v, now);
                    }
                    let both = self.storage_ok(active) && self.storage_ok(standby);
                    if let Kind::Replicated { both_up_since, .. } = &mut self.volumes[v].kind {
                        match (both, *both_up_since) {
                            (true, None) => *both_up_since = Some(now),
                            (false, Some(_)) => *both_up_since = None,
                            _ => {}
                        }
                    }
                }
                Kind::Gluster(_) => {
                    // A server that dies is silent; a pool lost under a
                    // running server is not.
                    let silent = !self.nodes[node].up;
                    for (b, brick_node) in self.brick_nodes(v).into_iter().enumerate() {
                        if brick_node == node {
                            if ok { self.brick_up(v, b, now) } else { self.brick_down(v, b, silent, now) }
                        }
                    }
                }
                _ => {}
            }
            self.refresh_volume(v, now);
        }
        if self.nodes[node].up {
            // The node is up: the kubelet unmounts what its deleted pods
            // held, and their ReadWriteOnce attachments are released (its
            // pool does not matter: block storage lives elsewhere).
            for v in 0..self.volumes.len() {
                if let Kind::Block { attached: Some(at), .. } = self.volumes[v].kind
                    && at == node
                    && !self.nodes[node].pods.iter().any(|&p| self.sc.apps[self.pods[p].app].volumes.contains(&v))
                {
                    self.detach(v, now);
                }
            }
        }
    }

    /// After the pods of a failed node are evicted: the replicas of its
    /// replicated datasets are promoted (the operator or automation acts
    /// once Kubernetes has given up on the node), and the operator's force
    /// delete of the pods left Terminating is drawn. Its ReadWriteOnce
    /// volumes stay attached: the evicted pods still exist.
    pub(super) fn after_eviction(&mut self, node: NodeId, now: Millis) {
        for v in 0..self.volumes.len() {
            if let Kind::Replicated { active, failover_ev: None, .. } = self.volumes[v].kind
                && active == node
            {
                self.request_failover(v, now);
            }
        }
        self.schedule_force_delete(node, now);
    }

    /// The pod objects on the unreachable `node` are deleted, so the
    /// attach-detach controller no longer wants their volumes there and
    /// requests the detach (reconciler.go `reconcile`): at once if the node
    /// carries the out-of-service taint, else `force_detach` later with the
    /// node still unhealthy (`maxWaitForUnmountDuration`; a node that returns
    /// first releases it itself), or with `"never"` only then.
    pub(super) fn release_block_volumes(&mut self, node: NodeId, out_of_service: bool, now: Millis) {
        for v in 0..self.volumes.len() {
            if !matches!(self.volumes[v].kind, Kind::Block { attached: Some(at), held: true, .. } if at == node) {
                continue;
            }
            if out_of_service {
                self.detach(v, now);
                continue;
            }
            let timer = match self.sc.volumes[v].backend {
                Backend::Block { force_detach_ms: Some(wait) } => {
                    Some(self.queue.schedule(now.saturating_add(wait), Event::Detach { volume: v }))
                }
                _ => None,
            };
            if let Kind::Block { held, detach_ev, .. } = &mut self.volumes[v].kind {
                *held = false;
                *detach_ev = timer;
            }
        }
    }

    /// The out-of-service taint is added to `node`: the attachments no pod
    /// object holds any more are detached at once, without the
    /// `maxWaitForUnmountDuration` wait (reconciler.go `reconcile`,
    /// `hasOutOfServiceTaint`).
    pub(super) fn detach_released(&mut self, node: NodeId, now: Millis) {
        for v in 0..self.volumes.len() {
            if let Kind::Block { attached: Some(at), held: false, .. } = self.volumes[v].kind
                && at == node
            {
                self.detach(v, now);
            }
        }
    }

    // ---- replicated ZFS ----

    fn awaiting(&self, v: VolumeId) -> bool {
        matches!(self.volumes[v].kind, Kind::Replicated { awaiting: true, .. })
    }

    /// The replication schedule's snapshots land on the standby while both
    /// sides are up; bring `last_sync_ms` up to `now`.
    fn advance_sync(&mut self, v: VolumeId, now: Millis) {
        let Backend::ZfsReplicated { interval_ms, .. } = self.sc.volumes[v].backend else { return };
        if let Kind::Replicated { last_sync_ms, both_up_since: Some(since), .. } = &mut self.volumes[v].kind {
            let snapshot = now / interval_ms * interval_ms;
            if snapshot >= *since {
                *last_sync_ms = (*last_sync_ms).max(snapshot);
            }
        }
    }

    /// The active side is gone for good (evicted, or its pool lost): promote
    /// the standby now if it is there, or as soon as it is.
    fn request_failover(&mut self, v: VolumeId, now: Millis) {
        let Kind::Replicated { standby, .. } = self.volumes[v].kind else { return };
        if self.storage_ok(standby) {
            self.start_failover(v, now);
        } else if let Kind::Replicated { awaiting, .. } = &mut self.volumes[v].kind {
            *awaiting = true;
        }
    }

    fn start_failover(&mut self, v: VolumeId, now: Millis) {
        let Backend::ZfsReplicated { failover_ms, .. } = self.sc.volumes[v].backend else { return };
        let ev = self.queue.schedule(now.saturating_add(failover_ms), Event::FailoverDone { volume: v });
        if let Kind::Replicated { failover_ev, awaiting, .. } = &mut self.volumes[v].kind {
            *failover_ev = Some(ev);
            *awaiting = false;
        }
        self.note(now, TraceKind::FailoverStart, About::volume(v), String::new());
        self.refresh_volume(v, now);
    }

    /// The active side came back before the promotion finished: its data is
    /// intact, so the promotion is called off.
    fn cancel_failover(&mut self, v: VolumeId, now: Millis) {
        if let Kind::Replicated { failover_ev, awaiting, .. } = &mut self.volumes[v].kind {
            *awaiting = false;
            if let Some(ev) = failover_ev.take() {
                self.queue.cancel(ev);
                self.note(now, TraceKind::FailoverCancelled, About::volume(v), String::new());
            }
        }
    }

    /// The standby is the active side now; the writes since its last
    /// snapshot are lost; pods still on the old side move.
    pub(super) fn failover_done(&mut self, v: VolumeId, now: Millis) {
        let Kind::Replicated { active, standby, last_sync_ms, lost_at_ms, .. } = self.volumes[v].kind else { return };
        if let Kind::Replicated {
            active: a, standby: s, failover_ev, both_up_since, lost_at_ms, backup_loss_ms, ..
        } = &mut self.volumes[v].kind
        {
            *a = standby;
            *s = active;
            *failover_ev = None;
            *both_up_since = None;
            *lost_at_ms = None;
            // The promotion supersedes any restore of the old side.
            *backup_loss_ms = None;
        }
        self.book_data_loss(v, lost_at_ms.unwrap_or(now).saturating_sub(last_sync_ms), now);
        // Pods still bound to the old side (its pool was lost while the node
        // stayed up) are deleted and rescheduled onto the new active side.
        let stranded: Vec<_> = self.nodes[active]
            .pods
            .iter()
            .copied()
            .filter(|&p| self.sc.apps[self.pods[p].app].volumes.contains(&v))
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
        for app in self.volume_apps[v].clone() {
            self.refresh_app(app, now);
        }
    }

    fn book_data_loss(&mut self, v: VolumeId, lost_ms: Millis, now: Millis) {
        let outcome = &mut self.volumes[v].outcome;
        outcome.data_loss_incidents += 1;
        outcome.data_loss_ms = outcome.data_loss_ms.saturating_add(lost_ms);
        for app in self.volume_apps[v].clone() {
            let o = &mut self.apps[app].outcome;
            o.data_loss_incidents += 1;
            o.data_loss_ms = o.data_loss_ms.saturating_add(lost_ms);
        }
        self.note(now, TraceKind::DataLoss, About::volume(v), format!("{lost_ms} ms of writes lost"));
    }

    // ---- block ----

    /// The attachment is released: pods waiting for it start. Without
    /// quorum nothing can be written: it waits for the catch-up.
    pub(super) fn detach(&mut self, v: VolumeId, now: Millis) {
        if !self.quorum() {
            if let Kind::Block { detach_ev, .. } = &mut self.volumes[v].kind {
                *detach_ev = None;
            }
            self.volumes[v].detach_overdue = true;
            self.note(now, TraceKind::DetachDeferred, About::volume(v), "the detach waits for quorum".into());
            return;
        }
        self.volumes[v].detach_overdue = false;
        let from = match self.volumes[v].kind {
            Kind::Block { attached, .. } => attached,
            _ => None,
        };
        self.set_attached(v, None);
        self.note(now, TraceKind::VolumeDetached, About::volume(v).on(from), String::new());
        let waiting: Vec<_> = (0..self.pods.len()).filter(|&p| self.pods[p].phase == Phase::Attaching(v)).collect();
        for pod in waiting {
            let node = self.pods[pod].node.expect("an attaching pod is bound");
            self.set_attached(v, Some(node));
            self.start_pod(pod, now);
            self.refresh_app(self.pods[pod].app, now);
        }
    }

    /// The catch-up: the detaches that came due without quorum.
    pub(super) fn catch_up_detaches(&mut self, now: Millis) {
        for v in 0..self.volumes.len() {
            if self.volumes[v].detach_overdue {
                self.detach(v, now);
            }
        }
    }

    // ---- pools ----

    pub(super) fn disk_fail(&mut self, node: NodeId, disk: u32, now: Millis) {
        let Some(spec) = self.sc.nodes[node].pool.clone() else { return };
        let d = disk as usize;
        let Some(pool) = self.nodes[node].pool.as_mut() else { return };
        if pool.lost || pool.disk_failed[d] {
            return; // a scripted failure of a disk that is already out
        }
        if let Some(ev) = pool.disk_ev[d].take() {
            self.queue.cancel(ev);
        }
        pool.disk_failed[d] = true;
        let failed = pool.disk_failed.iter().filter(|&&f| f).count() as u32;
        if failed > spec.layout.tolerance(spec.disks) {
            self.lose_pool(node, now);
        } else {
            let at = now.saturating_add(spec.replace_ms).saturating_add(spec.resilver_ms);
            let ev = self.queue.schedule(at, Event::DiskReplaced { node, disk });
            if let Some(pool) = self.nodes[node].pool.as_mut() {
                pool.disk_ev[d] = Some(ev);
            }
            self.note(now, TraceKind::PoolDegraded, About::node(node), format!("{failed} disk(s) out"));
        }
    }

    pub(super) fn disk_replaced(&mut self, node: NodeId, disk: u32, now: Millis) {
        if let Some(pool) = self.nodes[node].pool.as_mut() {
            pool.disk_failed[disk as usize] = false;
            pool.disk_ev[disk as usize] = None;
        }
        self.schedule_disk_failure(node, disk, now);
    }

    /// A further failure in the vdev before the resilver ended: the pool and
    /// every dataset and brick on it are gone until restored from backup.
    fn lose_pool(&mut self, node: NodeId, now: Millis) {
        let Some(spec) = self.sc.nodes[node].pool.clone() else { return };
        if let Some(pool) = self.nodes[node].pool.as_mut() {
            pool.lost = true;
            for ev in pool.disk_ev.iter_mut() {
                if let Some(ev) = ev.take() {
                    self.queue.cancel(ev);
                }
            }
        }
        self.queue.schedule(now.saturating_add(spec.restore_ms), Event::PoolRestored { node });
        self.note(now, TraceKind::PoolLost, About::node(node), String::new());
        let since_backup = now % spec.backup_interval_ms;
        for v in self.node_volumes[node].clone() {
            let mut book = false;
            match &mut self.volumes[v].kind {
                Kind::Local { .. } => book = true,
                // Booked only if the pool is restored before a promotion.
                Kind::Replicated { active, backup_loss_ms, .. } if *active == node => {
                    *backup_loss_ms = Some(since_backup)
                }
                Kind::Gluster(_) => {
                    for (b, n) in self.brick_nodes(v).into_iter().enumerate() {
                        if n == node {
                            // No data brick holds the data any more: the
                            // backup is what is left.
                            book |= self.wipe_brick(v, b, now);
                        }
                    }
                }
                _ => {}
            }
            if book {
                self.book_data_loss(v, since_backup, now);
            }
        }
        self.storage_changed(node, now);
        for v in self.node_volumes[node].clone() {
            if let Kind::Replicated { active, failover_ev: None, .. } = self.volumes[v].kind
                && active == node
                && self.nodes[node].up
            {
                self.request_failover(v, now);
            }
        }
        self.refresh_apps_on(node, now);
    }

    pub(super) fn pool_restored(&mut self, node: NodeId, now: Millis) {
        if let Some(pool) = self.nodes[node].pool.as_mut() {
            pool.lost = false;
            pool.disk_failed.iter_mut().for_each(|f| *f = false);
        }
        self.start_pool(node, now);
        self.storage_changed(node, now);
        self.refresh_apps_on(node, now);
        self.schedule_pending(now);
    }

    fn refresh_apps_on(&mut self, node: NodeId, now: Millis) {
        for v in self.node_volumes[node].clone() {
            for app in self.volume_apps[v].clone() {
                self.refresh_app(app, now);
            }
        }
    }

    // ---- availability ----

    /// Re-derives the volume's availability and redundancy, books their
    /// spans, and refreshes the apps that use it.
    pub(super) fn refresh_volume(&mut self, v: VolumeId, now: Millis) {
        let (unavailable, reduced) = self.volume_health(v, now);
        let state = &mut self.volumes[v];
        match (state.down_since, unavailable) {
            (Some(since), None) => {
                state.outcome.downtime_ms += now - since;
                // Unavailable and back at one instant is no outage.
                state.outcome.outages += u32::from(now > since);
                state.down_since = None;
                self.note(
                    now,
                    TraceKind::VolumeUp,
                    About::volume(v),
                    format!("down for {}", format_duration(now - since)),
                );
            }
            (None, Some(cause)) => {
                state.down_since = Some(now);
                self.note(now, TraceKind::VolumeDown, About::volume(v), cause.name().into());
            }
            _ => {}
        }
        let state = &mut self.volumes[v];
        match (state.reduced_since, reduced) {
            (Some(since), false) => {
                state.outcome.reduced_redundancy_ms += now - since;
                state.reduced_since = None;
            }
            (None, true) => state.reduced_since = Some(now),
            _ => {}
        }
        let changed = state.unavailable != unavailable;
        state.unavailable = unavailable;
        if changed {
            for app in self.volume_apps[v].clone() {
                self.refresh_app(app, now);
            }
        }
    }

    /// Why the volume is unavailable (if it is) and whether it runs with
    /// less redundancy than configured.
    fn volume_health(&self, v: VolumeId, now: Millis) -> (Option<Cause>, bool) {
        match &self.volumes[v].kind {
            Kind::Local { node: None } => (None, false),
            Kind::Local { node: Some(n) } => {
                let why = if self.pool_lost(*n) {
                    Some(Cause::Restore)
                } else if !self.nodes[*n].up {
                    Some(Cause::Storage)
                } else {
                    None
                };
                (why, false)
            }
            Kind::Replicated { active, standby, failover_ev, .. } => {
                let why = if failover_ev.is_some() {
                    Some(Cause::Failover)
                } else if self.pool_lost(*active) && !self.storage_ok(*standby) {
                    Some(Cause::Restore)
                } else if !self.storage_ok(*active) {
                    Some(Cause::Storage)
                } else {
                    None
                };
                (why, !(self.storage_ok(*active) && self.storage_ok(*standby)))
            }
            Kind::Gluster(g) => {
                let Backend::Gluster { quorum, arbiter, .. } = self.sc.volumes[v].backend else { unreachable!() };
                g.health(quorum, arbiter, now)
            }
            Kind::Block { .. } => (None, false),
        }
    }
}
