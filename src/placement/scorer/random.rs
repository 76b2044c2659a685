//! `random`: no score, so every feasible node ties and the scheduler's
//! tie-break (a uniform draw, as `selectHost` does) picks one.

use super::Scorer;
use crate::model::{App, Node, NodeId};
use crate::placement::NodeLoad;

pub struct Random;

impl Scorer for Random {
    fn node_part(&self, _n: NodeId, _node: &Node, _load: &NodeLoad) -> i64 {
        0
    }

    fn request_part(&self, _app: &App, _cpu_m: u64, _memory_bytes: u64) -> i64 {
        0
    }
}
