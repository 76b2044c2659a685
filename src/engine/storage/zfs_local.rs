//! Node-local ZFS datasets (OpenEBS ZFS-LocalPV; domain.md section 2): a
//! dataset in one node's pool, so its pods are pinned to that node. A volume
//! the scenario does not bind is bound where its first pod is placed
//! (`volumeBindingMode: WaitForFirstConsumer`). It is there while its node
//! is up and its pool is not lost; the loss of the pool loses the writes
//! since the last backup, and the dataset is back when the pool is restored.

use super::{Backend, BackendState, Sim, VolState};
use crate::metrics::Cause;
use crate::model::{NodeId, VolumeId};
use crate::time::Millis;

/// The zfs-local backend.
pub(super) struct ZfsLocal;

/// A zfs-local volume's state.
pub(super) struct Dataset {
    /// Bound to a node (from the file, or where its first pod was placed).
    node: Option<NodeId>,
}

impl Dataset {
    pub(super) fn new(node: Option<NodeId>) -> Self {
        Dataset { node }
    }

    fn of(volume: &VolState) -> &Dataset {
        let BackendState::ZfsLocal(d) = &volume.data else { unreachable!("zfs-local code on another backend") };
        d
    }
}

impl Backend for ZfsLocal {
    fn nodes(&self, sim: &Sim, v: VolumeId) -> Vec<NodeId> {
        Dataset::of(&sim.storage.volumes[v]).node.into_iter().collect()
    }

    fn pin(&self, sim: &Sim, v: VolumeId) -> Option<NodeId> {
        Dataset::of(&sim.storage.volumes[v]).node
    }

    /// An unbound dataset is created on the node of its first pod.
    fn bind(&self, sim: &mut Sim, v: VolumeId, node: NodeId) {
        if let BackendState::ZfsLocal(Dataset { node: bound @ None }) = &mut sim.storage.volumes[v].data {
            *bound = Some(node);
            if !sim.storage.node_volumes[node].contains(&v) {
                sim.storage.node_volumes[node].push(v);
            }
        }
    }

    /// Its only copy was in the pool.
    fn pool_wiped(&self, _sim: &mut Sim, _v: VolumeId, _node: NodeId, _since_backup: Millis, _now: Millis) -> bool {
        true
    }

    fn health(&self, sim: &Sim, v: VolumeId, _now: Millis) -> (Option<Cause>, bool) {
        let why = match Dataset::of(&sim.storage.volumes[v]).node {
            None => None,
            Some(n) if sim.pool_lost(n) => Some(Cause::Restore),
            Some(n) if !sim.cluster.nodes[n].up => Some(Cause::Storage),
            Some(_) => None,
        };
        (why, false)
    }
}
