//! `first-fit`: the first feasible node in model order (name order,
//! `model::order`). The node index is a unique score, so no tie ever draws.

use super::Scorer;
use crate::model::{App, Node, NodeId};
use crate::placement::NodeLoad;

pub struct FirstFit;

impl Scorer for FirstFit {
    fn node_part(&self, n: NodeId, _node: &Node, _load: &NodeLoad) -> i64 {
        -(n as i64)
    }

    fn request_part(&self, _app: &App, _cpu_m: u64, _memory_bytes: u64) -> i64 {
        0
    }
}
