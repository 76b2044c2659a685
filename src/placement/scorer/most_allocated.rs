//! `binpack`: `NodeResourcesFit` with the `MostAllocated` scoring strategy:
//! the fullest node that still fits the pod.

use super::{Scorer, allocated_ppb, request_ppb};
use crate::model::{App, Node, NodeId};
use crate::placement::NodeLoad;

pub struct MostAllocated;

impl Scorer for MostAllocated {
    fn node_part(&self, _n: NodeId, node: &Node, load: &NodeLoad) -> i64 {
        allocated_ppb(load.cpu_used_m, load.memory_used_bytes, node)
    }

    fn request_part(&self, app: &App, cpu_m: u64, memory_bytes: u64) -> i64 {
        request_ppb(app, cpu_m, memory_bytes)
    }
}
