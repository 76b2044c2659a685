//! Indexed node choice: the scheduler's decision without a scan of the nodes.
//!
//! Nodes are grouped into *shapes* (same allocatable CPU, memory and
//! devices). Within a shape every strategy's score is the node's own part
//! plus a part that depends only on the pod and the shape
//! ([`Strategy::node_part`], [`Strategy::request_part`]), so one ordering of
//! a shape's nodes serves every pod. Each shape (and, for topology spread,
//! each domain of the spread kind) gets a segment tree over its nodes that
//! keeps, per subtree, the best node part and how many nodes share it, the
//! number of schedulable nodes, and the largest and smallest free CPU and
//! memory. A decision asks each tree for the best node that has room: a
//! subtree where no node has room is skipped, one where every node has room
//! answers from its summary, and only subtrees that mix the two are opened,
//! best bound first. Ties across all trees are broken by one uniform draw,
//! and the chosen node is found by descending the counts. An update after a
//! load change touches one leaf-to-root path per tree family.
//!
//! With few shapes and the usual loads this is logarithmic in the node
//! count. Siblings under anti-affinity and spread are few: their nodes are
//! taken out of the trees for the decision and put back after it. The
//! decision is the same as the linear scan's ([`super::scan`]) up to the
//! choice among equally good nodes, which the tests check.

use super::{ClusterView, NodeLoad, PodRequest, Strategy, feasible, scan};
use crate::model::{AntiAffinity, App, DomainId, Node, NodeId, SpreadMode};
use rand::{Rng, RngCore};

/// A subtree's summary. Free CPU and memory count schedulable nodes only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Agg {
    best: i64,
    count: u32,
    live: u32,
    max_cpu: u64,
    max_mem: u64,
    min_cpu: u64,
    min_mem: u64,
}

const EMPTY: Agg =
    Agg { best: i64::MIN, count: 0, live: 0, max_cpu: 0, max_mem: 0, min_cpu: u64::MAX, min_mem: u64::MAX };

impl Agg {
    fn leaf(key: i64, free_cpu: u64, free_mem: u64) -> Agg {
        Agg { best: key, count: 1, live: 1, max_cpu: free_cpu, max_mem: free_mem, min_cpu: free_cpu, min_mem: free_mem }
    }

    fn merge(a: &Agg, b: &Agg) -> Agg {
        let (best, count) = match a.best.cmp(&b.best) {
            std::cmp::Ordering::Greater => (a.best, a.count),
            std::cmp::Ordering::Less => (b.best, b.count),
            std::cmp::Ordering::Equal => (a.best, a.count + b.count),
        };
        Agg {
            best,
            count,
            live: a.live + b.live,
            max_cpu: a.max_cpu.max(b.max_cpu),
            max_mem: a.max_mem.max(b.max_mem),
            min_cpu: a.min_cpu.min(b.min_cpu),
            min_mem: a.min_mem.min(b.min_mem),
        }
    }

    /// No schedulable node of the subtree has room for the request.
    fn none_fit(&self, cpu: u64, mem: u64) -> bool {
        self.live == 0 || self.max_cpu < cpu || self.max_mem < mem
    }

    /// Every schedulable node of the subtree has room for the request.
    fn all_fit(&self, cpu: u64, mem: u64) -> bool {
        self.min_cpu >= cpu && self.min_mem >= mem
    }
}

/// A segment tree over some nodes of one shape, in node order.
#[derive(Debug, Clone)]
struct Tree {
    shape: usize,
    nodes: Vec<NodeId>,
    /// Leaves start at `size`; node `i`'s children are `2i` and `2i + 1`.
    size: usize,
    agg: Vec<Agg>,
}

impl Tree {
    fn new(shape: usize, nodes: Vec<NodeId>) -> Tree {
        let size = nodes.len().next_power_of_two();
        Tree { shape, nodes, size, agg: vec![EMPTY; 2 * size] }
    }

    fn set(&mut self, pos: usize, leaf: Agg) {
        let mut i = self.size + pos;
        self.agg[i] = leaf;
        while i > 1 {
            i /= 2;
            self.agg[i] = Agg::merge(&self.agg[2 * i], &self.agg[2 * i + 1]);
        }
    }

    fn root(&self) -> &Agg {
        &self.agg[1]
    }

    /// The best node part among schedulable nodes with room, and how many
    /// nodes have it.
    fn best_fitting(&self, cpu: u64, mem: u64) -> Option<(i64, u32)> {
        self.best_below(1, cpu, mem)
    }

    fn best_below(&self, i: usize, cpu: u64, mem: u64) -> Option<(i64, u32)> {
        let a = &self.agg[i];
        if a.none_fit(cpu, mem) {
            return None;
        }
        if a.all_fit(cpu, mem) {
            return Some((a.best, a.count));
        }
        // A leaf is either schedulable with or without room, or not
        // schedulable: one of the two answers above. Open the child with
        // the better bound first; the other only if it can match.
        let (first, second) =
            if self.agg[2 * i].best >= self.agg[2 * i + 1].best { (2 * i, 2 * i + 1) } else { (2 * i + 1, 2 * i) };
        let found = self.best_below(first, cpu, mem);
        match found {
            Some((key, _)) if key > self.agg[second].best => found,
            _ => match (found, self.best_below(second, cpu, mem)) {
                (Some((k1, c1)), Some((k2, c2))) if k1 == k2 => Some((k1, c1 + c2)),
                (Some(a), Some(b)) => Some(if a.0 > b.0 { a } else { b }),
                (a, b) => a.or(b),
            },
        }
    }

    /// The position of the `r`-th (0-based, in node order) schedulable node
    /// with room whose node part is `key`; `r` is reduced by the nodes
    /// passed over when there is none.
    fn nth(&self, i: usize, key: i64, cpu: u64, mem: u64, r: &mut u32) -> Option<usize> {
        let a = &self.agg[i];
        if a.best < key || a.none_fit(cpu, mem) {
            return None;
        }
        if i >= self.size {
            // A fitting leaf whose key is at least the best fitting key.
            if *r == 0 {
                return Some(i - self.size);
            }
            *r -= 1;
            return None;
        }
        if a.best == key && a.all_fit(cpu, mem) && *r >= a.count {
            *r -= a.count;
            return None;
        }
        self.nth(2 * i, key, cpu, mem, r).or_else(|| self.nth(2 * i + 1, key, cpu, mem, r))
    }
}

/// Nodes of one allocatable size and device set.
#[derive(Debug, Clone, PartialEq)]
struct Shape {
    cpu_m: u64,
    memory_bytes: u64,
    devices: Vec<String>,
}

impl Shape {
    fn of(node: &Node) -> Shape {
        let mut devices = node.devices.clone();
        devices.sort();
        devices.dedup();
        Shape { cpu_m: node.cpu_m, memory_bytes: node.memory_bytes, devices }
    }

    /// The app may run on nodes of this shape, whatever their load.
    fn admits(&self, app: &App) -> bool {
        app.cpu_m <= self.cpu_m
            && app.memory_bytes <= self.memory_bytes
            && app.requires.iter().all(|d| self.devices.contains(d))
    }
}

/// The trees of one way of cutting the nodes: by the domains of one kind
/// (and the nodes outside all of them), or all nodes together.
#[derive(Debug, Clone)]
struct Partition {
    kind: Option<usize>,
    /// `buckets[b]`: the trees of bucket `b`, one per shape present.
    buckets: Vec<Vec<usize>>,
    /// The bucket of each domain of the kind (indexed by domain id).
    bucket_of_domain: Vec<Option<usize>>,
    /// The bucket of the nodes without a domain of the kind.
    none_bucket: Option<usize>,
    trees: Vec<Tree>,
    /// `slot[n]`: node `n`'s tree and leaf.
    slot: Vec<(usize, usize)>,
}

impl Partition {
    fn new(kind: Option<usize>, nodes: &[Node], shape_of: &[usize], topology: &[Vec<Option<DomainId>>]) -> Partition {
        let domain = |n: NodeId| kind.and_then(|k| topology[k][n]);
        let domains = (0..nodes.len()).filter_map(domain).max().map_or(0, |d| d + 1);
        let mut bucket_of_domain = vec![None; domains];
        let mut none_bucket = None;
        let mut members: Vec<Vec<NodeId>> = Vec::new();
        for n in 0..nodes.len() {
            let slot = match domain(n) {
                Some(d) => &mut bucket_of_domain[d],
                None => &mut none_bucket,
            };
            let b = *slot.get_or_insert_with(|| {
                members.push(Vec::new());
                members.len() - 1
            });
            members[b].push(n);
        }
        let mut buckets = Vec::with_capacity(members.len());
        let mut trees = Vec::new();
        let mut slot = vec![(0, 0); nodes.len()];
        for list in members {
            let mut ids = Vec::new();
            let mut shapes: Vec<usize> = list.iter().map(|&n| shape_of[n]).collect();
            shapes.sort_unstable();
            shapes.dedup();
            for shape in shapes {
                let of_shape: Vec<NodeId> = list.iter().copied().filter(|&n| shape_of[n] == shape).collect();
                for (pos, &n) in of_shape.iter().enumerate() {
                    slot[n] = (trees.len(), pos);
                }
                ids.push(trees.len());
                trees.push(Tree::new(shape, of_shape));
            }
            buckets.push(ids);
        }
        Partition { kind, buckets, bucket_of_domain, none_bucket, trees, slot }
    }

    fn bucket_of(&self, node: NodeId, topology: &[Vec<Option<DomainId>>]) -> usize {
        let domain = self.kind.and_then(|k| topology[k][node]);
        match domain {
            Some(d) => self.bucket_of_domain[d].expect("every domain of a node has a bucket"),
            None => self.none_bucket.expect("a node outside the kind's domains has the none bucket"),
        }
    }
}

/// The scheduler's index of the nodes for one strategy; see the module
/// documentation.
#[derive(Debug, Clone)]
pub struct NodeIndex {
    strategy: Strategy,
    shapes: Vec<Shape>,
    /// Partition 0 holds all nodes in one bucket; the others cut by the
    /// domain kinds that spread constraints use.
    partitions: Vec<Partition>,
}

impl NodeIndex {
    /// An index of `nodes` under `strategy` for decisions that spread over
    /// the domain kinds in `spread_kinds`, at the loads `load`.
    pub fn new(
        strategy: Strategy,
        nodes: &[Node],
        topology: &[Vec<Option<DomainId>>],
        spread_kinds: &[usize],
        load: &[NodeLoad],
    ) -> NodeIndex {
        let mut shapes: Vec<Shape> = Vec::new();
        let shape_of = nodes
            .iter()
            .map(|node| {
                let shape = Shape::of(node);
                shapes.iter().position(|s| *s == shape).unwrap_or_else(|| {
                    shapes.push(shape);
                    shapes.len() - 1
                })
            })
            .collect::<Vec<_>>();
        let mut kinds: Vec<usize> = spread_kinds.to_vec();
        kinds.sort_unstable();
        kinds.dedup();
        let partitions = std::iter::once(None)
            .chain(kinds.into_iter().map(Some))
            .map(|kind| Partition::new(kind, nodes, &shape_of, topology))
            .collect();
        let mut index = NodeIndex { strategy, shapes, partitions };
        for (n, node) in nodes.iter().enumerate() {
            index.update(n, node, &load[n]);
        }
        index
    }

    /// The spread kinds a run of `strategy` needs: those the apps spread
    /// over, and the strategy's own.
    pub fn kinds_for(strategy: Strategy, apps: &[App], spread_kind: Option<usize>) -> Vec<usize> {
        apps.iter().filter_map(|a| a.spread.map(|(k, _)| k)).chain(strategy.own_spread_kind(spread_kind)).collect()
    }

    fn leaf(&self, n: NodeId, node: &Node, load: &NodeLoad) -> Agg {
        if !load.schedulable {
            return EMPTY;
        }
        Agg::leaf(
            self.strategy.node_part(n, node, load),
            node.cpu_m.saturating_sub(load.cpu_used_m),
            node.memory_bytes.saturating_sub(load.memory_used_bytes),
        )
    }

    /// Records node `n`'s new load; to be called after every change of it.
    pub fn update(&mut self, n: NodeId, node: &Node, load: &NodeLoad) {
        let leaf = self.leaf(n, node, load);
        for part in &mut self.partitions {
            let (t, pos) = part.slot[n];
            part.trees[t].set(pos, leaf);
        }
    }

    /// Checks that every leaf agrees with `load` (the invariant checker).
    pub fn check(&self, nodes: &[Node], load: &[NodeLoad]) -> Result<(), String> {
        for (n, node) in nodes.iter().enumerate() {
            let want = self.leaf(n, node, &load[n]);
            for part in &self.partitions {
                let (t, pos) = part.slot[n];
                let tree = &part.trees[t];
                if tree.agg[tree.size + pos] != want {
                    return Err(format!("node {n}: the placement index is stale"));
                }
            }
        }
        Ok(())
    }

    /// Is some node Ready that could run the pod if it had room? (The
    /// scheduler's `capacity` versus `no-node` distinction.)
    pub fn any_schedulable(&self, view: &ClusterView, pod: &PodRequest) -> bool {
        let app = pod.app;
        if let Some(only) = app.node.or(pod.pin) {
            let load = &view.load[only];
            return load.schedulable
                && app.fits_statically(only, &view.nodes[only])
                && pod.pin.is_none_or(|p| p == only);
        }
        let part = &self.partitions[0];
        part.trees.iter().any(|t| t.root().live > 0 && self.shapes[t.shape].admits(app))
    }

    /// Picks the node for `pod` as [`scan::select`] would, up to the choice
    /// among equally good nodes.
    pub fn select(&mut self, view: &ClusterView, pod: &PodRequest, rng: &mut dyn RngCore) -> Option<NodeId> {
        let app = pod.app;
        if let Some(only) = app.node.or(pod.pin) {
            return feasible(view, pod, only).then_some(only);
        }
        let filter_kind = match app.spread {
            Some((kind, SpreadMode::Required)) => Some(kind),
            _ => None,
        };
        let order_kind = self.strategy.order_kind(app, view.spread_kind);
        let kind = match (filter_kind, order_kind) {
            // A required spread over one kind ordered by another: rare
            // enough for the scan.
            (Some(f), Some(o)) if f != o => return scan::select(self.strategy, view, pod, rng),
            (f, o) => f.or(o),
        };
        let Some(p) = self.partitions.iter().position(|part| part.kind == kind) else {
            return scan::select(self.strategy, view, pod, rng);
        };
        // Siblings' nodes leave the trees for this decision.
        let mut removed: Vec<(usize, usize, Agg)> = Vec::new();
        if app.anti_affinity != AntiAffinity::None {
            let part = &mut self.partitions[p];
            for &s in pod.siblings_on {
                let (t, pos) = part.slot[s];
                if !removed.iter().any(|&(rt, rp, _)| (rt, rp) == (t, pos)) {
                    let tree = &mut part.trees[t];
                    removed.push((t, pos, tree.agg[tree.size + pos]));
                    tree.set(pos, EMPTY);
                }
            }
        }
        let chosen = match kind {
            // Without a spread every node is in one bucket: one level, and
            // nothing to allocate for the common decision.
            None => self.pick_in(p, &[0], view, pod, rng),
            Some(_) => self
                .levels(p, view, pod, filter_kind.is_some())
                .iter()
                .find_map(|level| self.pick_in(p, level, view, pod, rng)),
        };
        let part = &mut self.partitions[p];
        for &(t, pos, leaf) in removed.iter().rev() {
            part.trees[t].set(pos, leaf);
        }
        chosen
    }

    /// The buckets of partition `p` in order of preference, grouped into
    /// levels of equal preference: fewest siblings in the domain first, the
    /// nodes outside the kind's domains last; under a required spread only
    /// the domains without a sibling. For a partition cut by a domain kind.
    fn levels(&self, p: usize, view: &ClusterView, pod: &PodRequest, required: bool) -> Vec<Vec<usize>> {
        let part = &self.partitions[p];
        let mut counts = vec![0u32; part.buckets.len()];
        for &s in pod.siblings_on {
            counts[part.bucket_of(s, view.topology)] += 1;
        }
        let domain_buckets = || (0..part.buckets.len()).filter(|&b| Some(b) != part.none_bucket);
        if required {
            return vec![domain_buckets().filter(|&b| counts[b] == 0).collect()];
        }
        let mut values: Vec<u32> = domain_buckets().map(|b| counts[b]).collect();
        values.sort_unstable();
        values.dedup();
        let mut levels: Vec<Vec<usize>> =
            values.into_iter().map(|c| domain_buckets().filter(|&b| counts[b] == c).collect()).collect();
        levels.extend(part.none_bucket.map(|b| vec![b]));
        levels
    }

    /// The node for `pod` among the given buckets (one level of
    /// preference): the best other than the siblings' own, or under
    /// preferred anti-affinity, when none will do, the best of those.
    fn pick_in(
        &self,
        p: usize,
        buckets: &[usize],
        view: &ClusterView,
        pod: &PodRequest,
        rng: &mut dyn RngCore,
    ) -> Option<NodeId> {
        self.best_in(p, buckets, pod.app, rng).or_else(|| match pod.app.anti_affinity {
            AntiAffinity::Preferred => self.best_sibling_in(p, buckets, view, pod, rng),
            _ => None,
        })
    }

    /// The best schedulable node with room in the given buckets, ties
    /// broken uniformly.
    fn best_in(&self, p: usize, buckets: &[usize], app: &App, rng: &mut dyn RngCore) -> Option<NodeId> {
        let part = &self.partitions[p];
        let (cpu, mem) = (app.cpu_m, app.memory_bytes);
        let mut best: Option<i64> = None;
        let mut ties: Vec<(usize, i64, u32)> = Vec::new();
        for &b in buckets {
            for &t in &part.buckets[b] {
                let tree = &part.trees[t];
                let shape = &self.shapes[tree.shape];
                if !shape.admits(app) {
                    continue;
                }
                let Some((node_part, count)) = tree.best_fitting(cpu, mem) else { continue };
                let key = node_part + self.strategy.request_part(app, shape.cpu_m, shape.memory_bytes);
                if best.is_none_or(|b| key > b) {
                    best = Some(key);
                    ties.clear();
                }
                if best == Some(key) {
                    ties.push((t, node_part, count));
                }
            }
        }
        let total: u32 = ties.iter().map(|&(_, _, c)| c).sum();
        if total == 0 {
            return None;
        }
        let mut r = if total > 1 { rng.random_range(0..total) } else { 0 };
        for (t, node_part, count) in ties {
            if r >= count {
                r -= count;
                continue;
            }
            let tree = &part.trees[t];
            let pos = tree.nth(1, node_part, cpu, mem, &mut r).expect("the counted node exists");
            return Some(tree.nodes[pos]);
        }
        unreachable!("r is below the total count")
    }

    /// Under preferred anti-affinity, when no other node of these buckets
    /// will do: the best of the siblings' own nodes, fewest siblings first.
    fn best_sibling_in(
        &self,
        p: usize,
        buckets: &[usize],
        view: &ClusterView,
        pod: &PodRequest,
        rng: &mut dyn RngCore,
    ) -> Option<NodeId> {
        let part = &self.partitions[p];
        let mut candidates: Vec<NodeId> = pod
            .siblings_on
            .iter()
            .copied()
            .filter(|&n| buckets.contains(&part.bucket_of(n, view.topology)) && feasible(view, pod, n))
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let key = |n: NodeId| (-(pod.siblings_on(n) as i64), self.strategy.score(view, pod, n));
        let best = candidates.iter().map(|&n| key(n)).max()?;
        let ties: Vec<NodeId> = candidates.into_iter().filter(|&n| key(n) == best).collect();
        let r = if ties.len() > 1 { rng.random_range(0..ties.len()) } else { 0 };
        Some(ties[r])
    }
}
