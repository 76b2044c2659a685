//! The plain scan: every node is filtered and scored, the best key wins.
//!
//! This is the scheduler's decision written the obvious way, linear in the
//! node count. The engine uses [`super::NodeIndex`]; the scan is the
//! reference the index is tested against, the baseline of the placement
//! benchmark, and the index's fallback for a required spread over one domain
//! kind ordered by another.

use super::{ClusterView, PodRequest, Strategy, feasible};
use crate::model::{AntiAffinity, NodeId};
use rand::{Rng, RngCore};

/// The key a node is ranked by for `pod` (higher is better): the preferred
/// topology spread (fewer replicas in the node's domain first, nodes without
/// the topology key last), then preferred anti-affinity (fewer replicas on
/// the node), then the strategy's score.
pub fn key(strategy: Strategy, view: &ClusterView, pod: &PodRequest, node: NodeId) -> (i64, i64, i64) {
    let prefer_apart = pod.app.anti_affinity == AntiAffinity::Preferred;
    let spread_kind = strategy.order_kind(pod.app, view.spread_kind);
    let apart = if prefer_apart { -(pod.siblings_on(node) as i64) } else { 0 };
    // A node without the topology key ranks last under a preferred spread,
    // as kube-scheduler's PodTopologySpread scores it.
    let spread = spread_kind.map_or(0, |kind| match view.topology[kind][node] {
        Some(_) => -(view.siblings_in_domain(kind, node, pod.siblings_on) as i64),
        None => i64::MIN / 4,
    });
    (spread, apart, strategy.score(view, pod, node))
}

/// The feasible node with the highest [`key`], ties broken uniformly at
/// random (reservoir sampling, one draw per tie), or `None` when no node is
/// feasible.
pub fn select(strategy: Strategy, view: &ClusterView, pod: &PodRequest, rng: &mut dyn RngCore) -> Option<NodeId> {
    let mut best: Option<((i64, i64, i64), NodeId)> = None;
    let mut ties = 0u32;
    for node in 0..view.nodes.len() {
        if !feasible(view, pod, node) {
            continue;
        }
        let key = key(strategy, view, pod, node);
        match best {
            Some((best_key, _)) if key < best_key => {}
            Some((best_key, _)) if key == best_key => {
                ties += 1;
                if rng.random_range(0..ties) == 0 {
                    best = Some((key, node));
                }
            }
            _ => {
                best = Some((key, node));
                ties = 1;
            }
        }
    }
    best.map(|(_, node)| node)
}
