//! Placement strategies: where the scheduler puts a pod.
//!
//! Every strategy is a pure function of a read-only [`ClusterView`] and the
//! pod to place, behind the [`Placement`] trait, one file each. All of them
//! share the scheduler's filter ([`feasible`]): the node is Ready and
//! untainted, has room for the pod's CPU and memory requests, has the devices
//! the app requires, matches its node pin, and holds no other replica of the
//! app under required anti-affinity. They differ in the score, as
//! kube-scheduler's scoring plugins do. Ties go to a uniformly random node
//! among the best, drawn from the placement stream, as kube-scheduler's
//! `selectHost` does.

mod binpack;
mod domain_spread;
mod first_fit;
mod random;
mod spread;

use crate::model::{AntiAffinity, App, AppId, DomainId, Node, NodeId, SpreadMode};
use rand::{Rng, RngCore};

/// What the scheduler knows of one node's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeLoad {
    /// Ready and without the unreachable / not-ready taints.
    pub schedulable: bool,
    pub cpu_used_m: u64,
    pub memory_used_bytes: u64,
}

/// A read-only view of the cluster for one decision.
#[derive(Clone, Copy)]
pub struct ClusterView<'a> {
    pub nodes: &'a [Node],
    pub load: &'a [NodeLoad],
    /// `topology[k][n]`: the domain of kind `k` of node `n`.
    pub topology: &'a [Vec<Option<DomainId>>],
    /// The kind `domain-spread` spreads over.
    pub spread_kind: Option<usize>,
}

impl ClusterView<'_> {
    /// How many of `siblings` are in the same domain of kind `kind` as
    /// `node` (a node outside every domain of that kind shares with none).
    fn siblings_in_domain(&self, kind: usize, node: NodeId, siblings: &[NodeId]) -> usize {
        let topology = &self.topology[kind];
        match topology[node] {
            Some(domain) => siblings.iter().filter(|&&s| topology[s] == Some(domain)).count(),
            None => 0,
        }
    }
}

/// The pod to place.
#[derive(Clone, Copy)]
pub struct PodRequest<'a> {
    pub app_id: AppId,
    pub app: &'a App,
    /// Nodes that already hold a pod of this app (bound, whatever its phase).
    pub siblings_on: &'a [NodeId],
    /// The node its storage ties it to now (a node-local dataset, the active
    /// side of a replicated one), beyond the app's own pin.
    pub pin: Option<NodeId>,
}

impl PodRequest<'_> {
    fn siblings_on(&self, node: NodeId) -> usize {
        self.siblings_on.iter().filter(|&&n| n == node).count()
    }
}

/// A placement strategy: picks a feasible node, or `None` when none is.
pub trait Placement: Sync {
    fn select_node(&self, view: &ClusterView, pod: &PodRequest, rng: &mut dyn RngCore) -> Option<NodeId>;
}

/// The strategies a scenario can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Strategy {
    /// LeastAllocated: the node with the most free CPU and memory after placing.
    Spread,
    /// MostAllocated: the fullest node that still fits.
    Binpack,
    /// Uniform over feasible nodes.
    Random,
    /// The first feasible node in the scenario's order.
    FirstFit,
    /// Topology spread of each app's replicas and each volume's bricks over
    /// the domains of `[placement] spread_kind`, then least allocated.
    DomainSpread,
}

impl Strategy {
    pub const ALL: [Strategy; 5] =
        [Strategy::Spread, Strategy::Binpack, Strategy::Random, Strategy::FirstFit, Strategy::DomainSpread];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Spread => "spread",
            Strategy::Binpack => "binpack",
            Strategy::Random => "random",
            Strategy::FirstFit => "first-fit",
            Strategy::DomainSpread => "domain-spread",
        }
    }

    pub fn parse(text: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|s| s.name() == text)
    }

    /// The names, for error messages.
    pub fn names() -> String {
        Strategy::ALL.map(Strategy::name).join(", ")
    }

    pub fn placement(self) -> &'static dyn Placement {
        match self {
            Strategy::Spread => &spread::Spread,
            Strategy::Binpack => &binpack::Binpack,
            Strategy::Random => &random::Random,
            Strategy::FirstFit => &first_fit::FirstFit,
            Strategy::DomainSpread => &domain_spread::DomainSpread,
        }
    }
}

/// The scheduler's filter phase: can `pod` run on `node` now?
pub fn feasible(view: &ClusterView, pod: &PodRequest, node: NodeId) -> bool {
    let load = &view.load[node];
    let spec = &view.nodes[node];
    load.schedulable
        && pod.app.fits_statically(node, spec)
        && pod.pin.is_none_or(|pin| pin == node)
        && load.cpu_used_m + pod.app.cpu_m <= spec.cpu_m
        && load.memory_used_bytes + pod.app.memory_bytes <= spec.memory_bytes
        && !(pod.app.anti_affinity == AntiAffinity::Required && pod.siblings_on(node) > 0)
        && match pod.app.spread {
            // Required spread: the node must carry the topology key, and its
            // domain must hold no other replica.
            Some((kind, SpreadMode::Required)) => {
                view.topology[kind][node].is_some() && view.siblings_in_domain(kind, node, pod.siblings_on) == 0
            }
            _ => true,
        }
}

/// Requested fraction of each resource after placing the pod, in parts per
/// million, summed over CPU and memory. Integer arithmetic keeps ties exact.
fn allocated_ppm_after(view: &ClusterView, pod: &PodRequest, node: NodeId) -> i64 {
    let load = &view.load[node];
    let spec = &view.nodes[node];
    let cpu = (load.cpu_used_m + pod.app.cpu_m) as u128 * 1_000_000 / spec.cpu_m.max(1) as u128;
    let mem = (load.memory_used_bytes + pod.app.memory_bytes) as u128 * 1_000_000 / spec.memory_bytes.max(1) as u128;
    (cpu + mem) as i64
}

/// Picks the feasible node with the highest key, where the key is first the
/// preferred anti-affinity (fewer siblings is better) and then `score`; ties
/// are broken uniformly at random (reservoir sampling, one draw per tie).
fn select_best(
    view: &ClusterView,
    pod: &PodRequest,
    rng: &mut dyn RngCore,
    score: impl Fn(NodeId) -> i64,
) -> Option<NodeId> {
    select_best_spread(view, pod, rng, None, score)
}

/// `select_best`, with a preferred spread over domains of `extra_kind` on
/// top of the app's own (used by `domain-spread`).
fn select_best_spread(
    view: &ClusterView,
    pod: &PodRequest,
    rng: &mut dyn RngCore,
    extra_kind: Option<usize>,
    score: impl Fn(NodeId) -> i64,
) -> Option<NodeId> {
    let prefer_apart = pod.app.anti_affinity == AntiAffinity::Preferred;
    let spread_kind = match pod.app.spread {
        Some((kind, SpreadMode::Preferred)) => Some(kind),
        _ => extra_kind,
    };
    let mut best: Option<((i64, i64, i64), NodeId)> = None;
    let mut ties = 0u32;
    for node in 0..view.nodes.len() {
        if !feasible(view, pod, node) {
            continue;
        }
        let apart = if prefer_apart { -(pod.siblings_on(node) as i64) } else { 0 };
        // A node without the topology key ranks last under a preferred
        // spread, as kube-scheduler's PodTopologySpread scores it.
        let spread = spread_kind.map_or(0, |kind| match view.topology[kind][node] {
            Some(_) => -(view.siblings_in_domain(kind, node, pod.siblings_on) as i64),
            None => i64::MIN / 4,
        });
        let key = (spread, apart, score(node));
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

#[cfg(test)]
mod tests;
