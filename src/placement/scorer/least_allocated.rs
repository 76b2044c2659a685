//! `spread`: kube-scheduler's `NodeResourcesFit` with the `LeastAllocated`
//! scoring strategy, its default: the node with the smallest requested
//! share of CPU and memory after placing the pod.

use super::{Scorer, allocated_ppb, request_ppb};
use crate::model::{App, Node, NodeId};
use crate::placement::NodeLoad;

pub struct LeastAllocated;

impl Scorer for LeastAllocated {
    fn node_part(&self, _n: NodeId, node: &Node, load: &NodeLoad) -> i64 {
        -allocated_ppb(load.cpu_used_m, load.memory_used_bytes, node)
    }

    fn request_part(&self, app: &App, cpu_m: u64, memory_bytes: u64) -> i64 {
        -request_ppb(app, cpu_m, memory_bytes)
    }
}
