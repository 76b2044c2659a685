//! `random`: uniform over the feasible nodes, a baseline without scoring.

use super::{ClusterView, Placement, PodRequest, select_best};
use crate::model::NodeId;
use rand::RngCore;

/// Every feasible node is equally likely (preferred anti-affinity still
/// narrows the choice to the nodes with the fewest replicas of the app).
pub struct Random;

impl Placement for Random {
    fn select_node(&self, view: &ClusterView, pod: &PodRequest, rng: &mut dyn RngCore) -> Option<NodeId> {
        select_best(view, pod, rng, |_| 0)
    }
}
