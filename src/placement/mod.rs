//! Placement strategies: where the scheduler puts a pod.
//!
//! All strategies share the scheduler's filter ([`feasible`]): the node is
//! Ready and untainted, has room for the pod's CPU and memory requests, has
//! the devices the app requires, matches its node pin, and holds no other
//! replica of the app under required anti-affinity. They differ in the score,
//! as kube-scheduler's scoring plugins do: one [`Scorer`] per strategy
//! (`scorer/`). Preferred
//! topology spread and preferred anti-affinity rank before the score. Ties go
//! to a uniformly random node among the best, drawn from the placement
//! stream, as kube-scheduler's `selectHost` does.
//!
//! The engine decides through [`NodeIndex`] (`index.rs`), which finds the
//! best node without scanning them all; [`scan::select`] (`scan.rs`) is the
//! plain scan over every node, kept as the reference the index is tested
//! against and as the fallback for the rare decisions the index does not
//! cover.

mod index;
pub mod scan;
mod scorer;

pub use index::NodeIndex;
pub use scorer::Scorer;

use crate::model::{AntiAffinity, App, AppId, DomainId, Node, NodeId, Scenario, SpreadMode};

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

impl<'a> ClusterView<'a> {
    /// The view of `scenario`'s nodes under `load`.
    pub fn of(scenario: &'a Scenario, load: &'a [NodeLoad]) -> ClusterView<'a> {
        ClusterView { nodes: &scenario.nodes, load, topology: &scenario.topology, spread_kind: scenario.spread_kind }
    }

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

pub use crate::model::Strategy;

/// The placement half of a strategy (the names are the model's): its score
/// through its [`Scorer`].
impl Strategy {
    /// The score's part that depends on the node and its load alone
    /// (higher is better). With [`Strategy::request_part`] it makes the
    /// score; the split lets the index order a shape's nodes once for all
    /// pods.
    pub fn node_part(self, n: NodeId, node: &Node, load: &NodeLoad) -> i64 {
        self.scorer().node_part(n, node, load)
    }

    /// The score's part that depends on the pod and the node's allocatable
    /// size alone.
    pub fn request_part(self, app: &App, cpu_m: u64, memory_bytes: u64) -> i64 {
        self.scorer().request_part(app, cpu_m, memory_bytes)
    }

    /// The strategy's score of `node` for `pod` (`scorer/`, one file per
    /// strategy).
    pub fn score(self, view: &ClusterView, pod: &PodRequest, node: NodeId) -> i64 {
        let spec = &view.nodes[node];
        self.node_part(node, spec, &view.load[node]) + self.request_part(pod.app, spec.cpu_m, spec.memory_bytes)
    }

    /// The domain kind the strategy itself spreads over (`domain-spread`).
    pub fn own_spread_kind(self, spread_kind: Option<usize>) -> Option<usize> {
        self.scorer().own_spread_kind(spread_kind)
    }

    /// The domain kind whose domains rank the nodes for `app` (fewest of its
    /// replicas first): the app's preferred spread, else the strategy's own
    /// (`spread_kind` is `[placement] spread_kind`).
    pub fn order_kind(self, app: &App, spread_kind: Option<usize>) -> Option<usize> {
        match app.spread {
            Some((kind, SpreadMode::Preferred)) => Some(kind),
            _ => self.own_spread_kind(spread_kind),
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

#[cfg(test)]
mod tests;
