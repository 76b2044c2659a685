//! The strategies' scores, one [`Scorer`] per strategy, as kube-scheduler
//! has one score plugin per policy (`pkg/scheduler/framework/plugins`).
//!
//! A score is split in two parts, so that the node index
//! (`placement/index.rs`) can order a node shape's nodes once for all pods:
//! the part that depends on the node and its load alone, and the part that
//! depends on the pod and the node's allocatable size alone. Adding a
//! strategy is a `model::Strategy` variant, its file here, and its arm in
//! [`Strategy::scorer`].

mod domain_spread;
mod first_fit;
mod least_allocated;
mod most_allocated;
mod random;

use super::NodeLoad;
use crate::model::{App, Node, NodeId, Strategy};

/// One strategy's score (higher is better).
pub trait Scorer {
    /// The part that depends on the node and its load alone.
    fn node_part(&self, n: NodeId, node: &Node, load: &NodeLoad) -> i64;

    /// The part that depends on the pod and the node's allocatable size
    /// alone.
    fn request_part(&self, app: &App, cpu_m: u64, memory_bytes: u64) -> i64;

    /// The domain kind the strategy itself spreads over, given
    /// `[placement] spread_kind`; none by default.
    fn own_spread_kind(&self, _spread_kind: Option<usize>) -> Option<usize> {
        None
    }
}

impl Strategy {
    /// The strategy's score: the one match from strategies to scorers.
    pub fn scorer(self) -> &'static dyn Scorer {
        match self {
            Strategy::Spread => &least_allocated::LeastAllocated,
            Strategy::Binpack => &most_allocated::MostAllocated,
            Strategy::Random => &random::Random,
            Strategy::FirstFit => &first_fit::FirstFit,
            Strategy::DomainSpread => &domain_spread::DomainSpread,
        }
    }
}

/// `part` of `whole` in parts per billion, rounded down.
fn ppb(part: u64, whole: u64) -> i64 {
    (part as u128 * 1_000_000_000 / whole.max(1) as u128) as i64
}

/// The requested share of CPU plus that of memory, in parts per billion
/// each. Node load and pod request are rounded separately, so that within
/// one node size the order of nodes does not depend on the pod.
fn allocated_ppb(cpu_m: u64, memory_bytes: u64, node: &Node) -> i64 {
    ppb(cpu_m, node.cpu_m) + ppb(memory_bytes, node.memory_bytes)
}

/// The pod's requested share of a node of that size, in the same units.
fn request_ppb(app: &App, cpu_m: u64, memory_bytes: u64) -> i64 {
    ppb(app.cpu_m, cpu_m) + ppb(app.memory_bytes, memory_bytes)
}
