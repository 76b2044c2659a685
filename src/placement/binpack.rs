//! `binpack`: NodeResourcesFit MostAllocated, which fills nodes before using
//! new ones.

use super::{ClusterView, Placement, PodRequest, allocated_ppm_after, select_best};
use crate::model::NodeId;
use rand::RngCore;

/// The node with the largest requested share of CPU and memory after placing.
pub struct Binpack;

impl Placement for Binpack {
    fn select_node(&self, view: &ClusterView, pod: &PodRequest, rng: &mut dyn RngCore) -> Option<NodeId> {
        select_best(view, pod, rng, |node| allocated_ppm_after(view, pod, node))
    }
}
