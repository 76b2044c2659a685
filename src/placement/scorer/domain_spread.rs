//! `domain-spread`: a preferred topology spread of each app's replicas (and
//! each Gluster volume's bricks) over the domains of `[placement]
//! spread_kind`, as `PodTopologySpread` with `ScheduleAnyway` ranks nodes,
//! then `spread`'s least-allocated score.

use super::Scorer;
use super::least_allocated::LeastAllocated;
use crate::model::{App, Node, NodeId};
use crate::placement::NodeLoad;

pub struct DomainSpread;

impl Scorer for DomainSpread {
    fn node_part(&self, n: NodeId, node: &Node, load: &NodeLoad) -> i64 {
        LeastAllocated.node_part(n, node, load)
    }

    fn request_part(&self, app: &App, cpu_m: u64, memory_bytes: u64) -> i64 {
        LeastAllocated.request_part(app, cpu_m, memory_bytes)
    }

    fn own_spread_kind(&self, spread_kind: Option<usize>) -> Option<usize> {
        spread_kind
    }
}
