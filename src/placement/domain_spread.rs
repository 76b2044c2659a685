//! `domain-spread`: kube-scheduler's PodTopologySpread over the domains of
//! one kind (`[placement] spread_kind`, a zone by default), then
//! LeastAllocated among the nodes of the least used domains.

use super::{ClusterView, Placement, PodRequest, allocated_ppm_after, select_best_spread};
use crate::model::NodeId;
use rand::RngCore;

/// Replicas of an app (and bricks of a volume) go to the domain with the
/// fewest of them, then to the emptiest node there.
pub struct DomainSpread;

impl Placement for DomainSpread {
    fn select_node(&self, view: &ClusterView, pod: &PodRequest, rng: &mut dyn RngCore) -> Option<NodeId> {
        select_best_spread(view, pod, rng, view.spread_kind, |node| -allocated_ppm_after(view, pod, node))
    }
}
