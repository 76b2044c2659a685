//! `spread`: kube-scheduler's default NodeResourcesFit LeastAllocated score.

use super::{ClusterView, Placement, PodRequest, allocated_ppm_after, select_best};
use crate::model::NodeId;
use rand::RngCore;

/// The node with the largest free share of CPU and memory after placing.
pub struct Spread;

impl Placement for Spread {
    fn select_node(&self, view: &ClusterView, pod: &PodRequest, rng: &mut dyn RngCore) -> Option<NodeId> {
        select_best(view, pod, rng, |node| -allocated_ppm_after(view, pod, node))
    }
}
