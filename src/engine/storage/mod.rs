//! Storage (domain.md sections 2, 5 and 6): ZFS pools and their disks, and
//! the volumes apps use.
//!
//! A volume is two parts that combine: its backend's own redundancy, where
//! its data lives and how many copies it keeps (one file each:
//! `zfs_local.rs`, `zfs_replicated.rs`, `gluster.rs`, and `block.rs` for a
//! block volume, whose data lives off the cluster's nodes), and, for a
//! ReadWriteOnce volume, its attachment to one node at a time
//! (`attachment.rs`: Multi-Attach, the attach-detach controller's detach).
//! A backend that has both (Longhorn, Ceph RBD) is a volume with an
//! attachment and a redundancy of its own.
//!
//! This file holds the pools (disk failures, replace and resilver, loss
//! beyond the vdev's tolerance, restore from backup), the [`Backend`] hooks
//! each backend implements, and the glue the rest of the engine calls, which
//! hands each volume to its backend: `BackendState::backend` is the one
//! place that maps a volume to its backend's code.
//!
//! A volume's availability is re-derived from the state of the nodes and
//! pools it lives on (`refresh_volume`) after every change to them, and the
//! apps that use it are refreshed in turn. Data loss is booked when it
//! happens: at a replica's promotion (writes since the last replicated
//! snapshot) or at the loss of a pool with no live copy elsewhere (writes
//! since the last backup).

use super::sim::{About, Sim};
use super::{Event, EventId};
use crate::metrics::TraceKind;
use crate::metrics::{Cause, VolumeOutcome};
use crate::model::{self, AppId, NodeId, Pool, Scenario, Volume, VolumeId};
use crate::rng::{Source, Streams};
use crate::time::{Millis, format_duration};
use rand_chacha::ChaCha8Rng;

mod attachment;
mod block;
mod gluster;
mod zfs_local;
mod zfs_replicated;

use attachment::Attachment;
pub use gluster::gluster_serves;

/// The storage of one replication: every volume's state, and which nodes
/// and apps each one concerns.
pub(in crate::engine) struct Storage {
    pub(in crate::engine) volumes: Vec<VolState>,
    /// The volumes whose availability depends on each node (dataset, active
    /// or standby side, brick).
    pub(in crate::engine) node_volumes: Vec<Vec<VolumeId>>,
    /// The apps that use each volume.
    pub(in crate::engine) volume_apps: Vec<Vec<AppId>>,
    /// `disk_rng[node][disk]`.
    pub(in crate::engine) disk_rng: Vec<Vec<ChaCha8Rng>>,
}

impl Storage {
    pub(in crate::engine) fn new(sc: &Scenario, streams: &Streams) -> Self {
        Storage {
            disk_rng: sc
                .nodes
                .iter()
                .map(|node| {
                    let disks = node.pool.as_ref().map_or(0, |p| p.disks);
                    (0..disks).map(|d| streams.get(Source::DiskFailure(&node.name, d))).collect()
                })
                .collect(),
            volumes: sc.volumes.iter().map(VolState::new).collect(),
            node_volumes: vec![Vec::new(); sc.nodes.len()],
            volume_apps: (0..sc.volumes.len())
                .map(|v| (0..sc.apps.len()).filter(|&a| sc.apps[a].volumes.contains(&v)).collect())
                .collect(),
        }
    }
}

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
    /// A ReadWriteOnce volume's attachment to one node at a time.
    attachment: Option<Attachment>,
    /// The backend's own state: where the data lives, its copies.
    data: BackendState,
}

/// Each backend's own state, one variant per backend.
enum BackendState {
    ZfsLocal(zfs_local::Dataset),
    ZfsReplicated(zfs_replicated::Replication),
    Gluster(gluster::GlusterState),
    /// A block volume keeps no copies on the nodes: all it has is its
    /// attachment.
    Block,
}

impl BackendState {
    /// The code of the volume's backend: the one `match` over backends.
    fn backend(&self) -> &'static dyn Backend {
        match self {
            BackendState::ZfsLocal(_) => &zfs_local::ZfsLocal,
            BackendState::ZfsReplicated(_) => &zfs_replicated::ZfsReplicated,
            BackendState::Gluster(_) => &gluster::Gluster,
            BackendState::Block => &block::Block,
        }
    }
}

/// What a backend does when the cluster changes under its volume `v`. Each
/// hook gets the whole `Sim`, because a backend's reaction schedules events,
/// books data loss and refreshes apps; it finds its own state in
/// `sim.storage.volumes[v].data`. The defaults are those of a volume that keeps
/// nothing on the nodes (a block volume).
trait Backend {
    /// At time zero, before any pod is placed (Gluster places its bricks).
    fn place(&self, _sim: &mut Sim, _v: VolumeId) {}

    /// The nodes whose state the volume's availability depends on (its
    /// dataset, its active and standby sides, its bricks).
    fn nodes(&self, _sim: &Sim, _v: VolumeId) -> Vec<NodeId> {
        Vec::new()
    }

    /// The node the volume ties its pods to now, if any.
    fn pin(&self, _sim: &Sim, _v: VolumeId) -> Option<NodeId> {
        None
    }

    /// A pod that uses the volume was bound to `node`.
    fn bind(&self, _sim: &mut Sim, _v: VolumeId, _node: NodeId) {}

    /// `node`, one of [`Backend::nodes`], failed or returned, or its pool was
    /// lost or restored.
    fn node_changed(&self, _sim: &mut Sim, _v: VolumeId, _node: NodeId, _now: Millis) {}

    /// The pool of `node`, one of [`Backend::nodes`], is lost, before the
    /// volume reacts to the node's change: whether no copy of the data is
    /// left, so the writes since the last backup (`since_backup`) are lost.
    fn pool_wiped(&self, _sim: &mut Sim, _v: VolumeId, _node: NodeId, _since_backup: Millis, _now: Millis) -> bool {
        false
    }

    /// What the volume holds on `node` is gone for good: Kubernetes evicted
    /// the pods of the failed node, or the pool was lost under the running
    /// node.
    fn gone_for_good(&self, _sim: &mut Sim, _v: VolumeId, _node: NodeId, _now: Millis) {}

    /// Why the volume is unavailable (if it is) and whether it runs with
    /// less redundancy than configured.
    fn health(&self, _sim: &Sim, _v: VolumeId, _now: Millis) -> (Option<Cause>, bool) {
        (None, false)
    }
}

impl VolState {
    /// The volume's state at time zero; the one `match` over the model's
    /// backends.
    pub fn new(volume: &Volume) -> Self {
        let (attachment, data) = match &volume.backend {
            model::Backend::ZfsLocal { node } => (None, BackendState::ZfsLocal(zfs_local::Dataset::new(*node))),
            model::Backend::ZfsReplicated { node, replica, .. } => {
                (None, BackendState::ZfsReplicated(zfs_replicated::Replication::new(*node, *replica)))
            }
            model::Backend::Gluster { .. } => (None, BackendState::Gluster(gluster::GlusterState::default())),
            model::Backend::Block { force_detach_ms } => (Some(Attachment::new(*force_detach_ms)), BackendState::Block),
        };
        VolState {
            unavailable: None,
            down_since: None,
            reduced_since: None,
            outcome: VolumeOutcome::default(),
            attachment,
            data,
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
    /// The code of volume `v`'s backend.
    fn backend(&self, v: VolumeId) -> &'static dyn Backend {
        self.storage.volumes[v].data.backend()
    }

    /// The node's datasets and bricks are reachable: the node is up and its
    /// pool (if it declares one) is not lost.
    fn storage_ok(&self, node: NodeId) -> bool {
        self.cluster.nodes[node].up && self.cluster.nodes[node].pool.as_ref().is_none_or(|p| !p.lost)
    }

    fn pool_lost(&self, node: NodeId) -> bool {
        self.cluster.nodes[node].pool.as_ref().is_some_and(|p| p.lost)
    }

    // ---- set-up ----

    pub(super) fn start_pool(&mut self, node: NodeId, now: Millis) {
        let disks = self.ctx.sc.nodes[node].pool.as_ref().map_or(0, |p| p.disks);
        for disk in 0..disks {
            self.schedule_disk_failure(node, disk, now);
        }
    }

    fn schedule_disk_failure(&mut self, node: NodeId, disk: u32, now: Millis) {
        let Some(pool) = &self.ctx.sc.nodes[node].pool else { return };
        if let Some(dt) = pool.disk_failure.sample(&mut self.storage.disk_rng[node][disk as usize]) {
            let at = now.saturating_add(dt);
            if at <= self.ctx.failures_until_ms {
                let ev = self.ctx.queue.schedule(at, Event::DiskFail { node, disk });
                if let Some(p) = self.cluster.nodes[node].pool.as_mut() {
                    p.disk_ev[disk as usize] = Some(ev);
                }
            }
        }
    }

    /// At time zero, before any pod is placed: what each backend places by
    /// itself (Gluster's bricks).
    pub(super) fn place_storage(&mut self) {
        for v in 0..self.storage.volumes.len() {
            self.backend(v).place(self, v);
        }
    }

    /// Builds `node_volumes` once placement at time zero has bound every
    /// node-local volume it could.
    pub(super) fn index_volumes(&mut self) {
        for lists in &mut self.storage.node_volumes {
            lists.clear();
        }
        for v in 0..self.storage.volumes.len() {
            for node in self.backend(v).nodes(self, v) {
                if !self.storage.node_volumes[node].contains(&v) {
                    self.storage.node_volumes[node].push(v);
                }
            }
        }
    }

    // ---- what the scheduler must know ----

    /// The node the app's storage ties its pods to now, if any.
    pub(super) fn storage_pin(&self, app: usize) -> Option<NodeId> {
        self.ctx.sc.apps[app].volumes.iter().find_map(|&v| self.backend(v).pin(self, v))
    }

    /// Records where a pod of `app` was bound: a node-local volume without a
    /// node is bound there (WaitForFirstConsumer), an unattached volume is
    /// attached there.
    pub(super) fn bind_storage(&mut self, app: usize, node: NodeId) {
        for i in 0..self.ctx.sc.apps[app].volumes.len() {
            let v = self.ctx.sc.apps[app].volumes[i];
            self.backend(v).bind(self, v, node);
            if let Some(attachment) = &mut self.storage.volumes[v].attachment {
                attachment.bind(node);
            }
        }
    }

    // ---- reacting to nodes ----

    /// A node failed or returned (or its pool was lost or restored): update
    /// every volume that depends on it.
    pub(super) fn storage_changed(&mut self, node: NodeId, now: Millis) {
        for v in self.storage.node_volumes[node].clone() {
            self.backend(v).node_changed(self, v, node, now);
            self.refresh_volume(v, now);
        }
        if self.cluster.nodes[node].up {
            self.detach_unused(node, now);
        }
    }

    /// After the pods of a failed node are evicted: the replicas of its
    /// replicated datasets are promoted (the operator or automation acts
    /// once Kubernetes has given up on the node), and the operator's force
    /// delete of the pods left Terminating is drawn. Its ReadWriteOnce
    /// volumes stay attached: the evicted pods still exist.
    pub(super) fn after_eviction(&mut self, node: NodeId, now: Millis) {
        for v in 0..self.storage.volumes.len() {
            self.backend(v).gone_for_good(self, v, node, now);
        }
        self.schedule_force_delete(node, now);
    }

    // ---- pools ----

    pub(super) fn disk_fail(&mut self, node: NodeId, disk: u32, now: Millis) {
        let Some(spec) = self.ctx.sc.nodes[node].pool.clone() else { return };
        let d = disk as usize;
        let Some(pool) = self.cluster.nodes[node].pool.as_mut() else { return };
        if pool.lost || pool.disk_failed[d] {
            return; // a scripted failure of a disk that is already out
        }
        if let Some(ev) = pool.disk_ev[d].take() {
            self.ctx.queue.cancel(ev);
        }
        pool.disk_failed[d] = true;
        let failed = pool.disk_failed.iter().filter(|&&f| f).count() as u32;
        if failed > spec.layout.tolerance(spec.disks) {
            self.lose_pool(node, now);
        } else {
            let at = now.saturating_add(spec.replace_ms).saturating_add(spec.resilver_ms);
            let ev = self.ctx.queue.schedule(at, Event::DiskReplaced { node, disk });
            if let Some(pool) = self.cluster.nodes[node].pool.as_mut() {
                pool.disk_ev[d] = Some(ev);
            }
            self.note(now, TraceKind::PoolDegraded, About::node(node), format!("{failed} disk(s) out"));
        }
    }

    pub(super) fn disk_replaced(&mut self, node: NodeId, disk: u32, now: Millis) {
        if let Some(pool) = self.cluster.nodes[node].pool.as_mut() {
            pool.disk_failed[disk as usize] = false;
            pool.disk_ev[disk as usize] = None;
        }
        self.schedule_disk_failure(node, disk, now);
    }

    /// A further failure in the vdev before the resilver ended: the pool and
    /// every dataset and brick on it are gone until restored from backup.
    fn lose_pool(&mut self, node: NodeId, now: Millis) {
        let Some(spec) = self.ctx.sc.nodes[node].pool.clone() else { return };
        if let Some(pool) = self.cluster.nodes[node].pool.as_mut() {
            pool.lost = true;
            for ev in pool.disk_ev.iter_mut() {
                if let Some(ev) = ev.take() {
                    self.ctx.queue.cancel(ev);
                }
            }
        }
        self.ctx.queue.schedule(now.saturating_add(spec.restore_ms), Event::PoolRestored { node });
        self.note(now, TraceKind::PoolLost, About::node(node), String::new());
        let since_backup = now % spec.backup_interval_ms;
        for v in self.storage.node_volumes[node].clone() {
            if self.backend(v).pool_wiped(self, v, node, since_backup, now) {
                self.book_data_loss(v, since_backup, now);
            }
        }
        self.storage_changed(node, now);
        for v in self.storage.node_volumes[node].clone() {
            // A pool lost under a down node changes nothing: its pods'
            // eviction says when its data is given up.
            if self.cluster.nodes[node].up {
                self.backend(v).gone_for_good(self, v, node, now);
            }
        }
        self.refresh_apps_on(node, now);
    }

    pub(super) fn pool_restored(&mut self, node: NodeId, now: Millis) {
        if let Some(pool) = self.cluster.nodes[node].pool.as_mut() {
            pool.lost = false;
            pool.disk_failed.iter_mut().for_each(|f| *f = false);
        }
        self.start_pool(node, now);
        self.storage_changed(node, now);
        self.refresh_apps_on(node, now);
        self.schedule_pending(now);
    }

    fn refresh_apps_on(&mut self, node: NodeId, now: Millis) {
        for v in self.storage.node_volumes[node].clone() {
            for app in self.storage.volume_apps[v].clone() {
                self.refresh_app(app, now);
            }
        }
    }

    // ---- data loss and availability ----

    /// Books the data loss of `lost_ms` of writes on the volume and its apps.
    fn book_data_loss(&mut self, v: VolumeId, lost_ms: Millis, now: Millis) {
        let outcome = &mut self.storage.volumes[v].outcome;
        outcome.data_loss_incidents += 1;
        outcome.data_loss_ms = outcome.data_loss_ms.saturating_add(lost_ms);
        for app in self.storage.volume_apps[v].clone() {
            let o = &mut self.accounting.apps[app].outcome;
            o.data_loss_incidents += 1;
            o.data_loss_ms = o.data_loss_ms.saturating_add(lost_ms);
        }
        self.note(now, TraceKind::DataLoss, About::volume(v), format!("{lost_ms} ms of writes lost"));
    }

    /// Re-derives the volume's availability and redundancy, books their
    /// spans, and refreshes the apps that use it.
    pub(super) fn refresh_volume(&mut self, v: VolumeId, now: Millis) {
        let (unavailable, reduced) = self.backend(v).health(self, v, now);
        let state = &mut self.storage.volumes[v];
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
        let state = &mut self.storage.volumes[v];
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
            for app in self.storage.volume_apps[v].clone() {
                self.refresh_app(app, now);
            }
        }
    }
}
