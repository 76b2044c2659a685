//! `first-fit`: the first feasible node in the order of the scenario file.

use super::{ClusterView, Placement, PodRequest, select_best};
use crate::model::NodeId;
use rand::RngCore;

/// Deterministic and cheap; it piles pods onto the first nodes, like a
/// bin-packer without scoring.
pub struct FirstFit;

impl Placement for FirstFit {
    fn select_node(&self, view: &ClusterView, pod: &PodRequest, rng: &mut dyn RngCore) -> Option<NodeId> {
        // The node index is a unique score, so no tie ever draws from `rng`.
        select_best(view, pod, rng, |node| -(node as i64))
    }
}
