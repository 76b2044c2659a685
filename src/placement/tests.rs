//! Property tests of the strategies: on any cluster state, every strategy
//! picks only a feasible node (schedulable, with room, with the devices and
//! the pin, apart from siblings under required anti-affinity), finds one
//! whenever one exists, and is deterministic for a given random stream; the
//! index picks a node exactly as good as the scan's, also after the loads
//! changed under it.

use super::*;
use crate::model::{App, Class, Node, SpreadMode};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn node(i: usize, cpu_m: u64, memory_bytes: u64, device: bool) -> Node {
    Node {
        devices: if device { vec!["usb".into()] } else { vec![] },
        ..Node::new(format!("n{i}"), cpu_m, memory_bytes)
    }
}

fn app(cpu_m: u64, memory_bytes: u64, anti: AntiAffinity, pin: Option<usize>, device: bool) -> App {
    App {
        cpu_m,
        memory_bytes,
        replicas: 3,
        anti_affinity: anti,
        node: pin,
        requires: if device { vec!["usb".into()] } else { vec![] },
        ..App::new("a", Class::Ha)
    }
}

prop_compose! {
    // Few sizes, so that the index's trees hold several nodes each.
    fn cluster()(specs in prop::collection::vec((prop::sample::select(vec![4u64, 8, 16]), prop::sample::select(vec![8u64, 32]), any::<bool>(), any::<bool>(), 0u64..100, 0u64..100), 1..24))
        -> (Vec<Node>, Vec<NodeLoad>) {
        let nodes = specs.iter().enumerate().map(|(i, s)| node(i, s.0 * 1000, s.1 << 30, s.2)).collect::<Vec<_>>();
        let load = specs.iter().zip(&nodes).map(|(s, n)| NodeLoad {
            schedulable: s.3,
            cpu_used_m: n.cpu_m * s.4 / 100,
            memory_used_bytes: n.memory_bytes * s.5 / 100,
        }).collect();
        (nodes, load)
    }
}

fn anti_affinity() -> impl proptest::strategy::Strategy<Value = AntiAffinity> {
    prop::sample::select(AntiAffinity::ALL.to_vec())
}

proptest! {
    #[test]
    fn strategies_pick_only_feasible_nodes_and_find_one_when_it_exists(
        (nodes, load) in cluster(),
        cpu in 0u64..8000,
        mem_gi in 0u64..32,
        anti in anti_affinity(),
        pin in prop::option::of(0usize..24),
        device in any::<bool>(),
        siblings in prop::collection::vec(0usize..24, 0..4),
        racks in prop::collection::vec(prop::option::of(0usize..3), 24),
        stale in prop::collection::vec((any::<bool>(), 0u64..100), 24),
        spread in prop::option::of(any::<bool>()),
        seed in any::<u64>(),
    ) {
        let pin = pin.filter(|&p| p < nodes.len());
        let siblings: Vec<usize> = siblings.into_iter().filter(|&s| s < nodes.len()).collect();
        let mut app = app(cpu, mem_gi << 30, anti, pin, device);
        app.spread = spread.map(|required| (0, if required { SpreadMode::Required } else { SpreadMode::Preferred }));
        let topology = vec![racks[..nodes.len()].to_vec()];
        let view = ClusterView { nodes: &nodes, load: &load, topology: &topology, spread_kind: Some(0) };
        let pod = PodRequest { app_id: 0, app: &app, siblings_on: &siblings, pin: None };
        let any_feasible = (0..nodes.len()).any(|n| feasible(&view, &pod, n));
        // The index starts from other loads and is brought up to date.
        let before: Vec<NodeLoad> = nodes.iter().zip(&stale).map(|(n, &(s, f))| NodeLoad {
            schedulable: s,
            cpu_used_m: n.cpu_m * f / 100,
            memory_used_bytes: n.memory_bytes * f / 100,
        }).collect();
        for strategy in super::Strategy::ALL {
            let mut index = NodeIndex::new(strategy, &nodes, &topology, &[0], &before);
            for (n, spec) in nodes.iter().enumerate() {
                index.update(n, spec, &load[n]);
            }
            prop_assert!(index.check(&nodes, &load).is_ok());
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let scanned = scan::select(strategy, &view, &pod, &mut rng);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let indexed = index.select(&view, &pod, &mut rng);
            prop_assert!(index.check(&nodes, &load).is_ok(), "a decision left the index changed");
            prop_assert_eq!(indexed.is_some(), scanned.is_some(), "{:?}", strategy);
            if let (Some(a), Some(b)) = (indexed, scanned) {
                prop_assert_eq!(scan::key(strategy, &view, &pod, a), scan::key(strategy, &view, &pod, b),
                    "{:?}: the index chose {} and the scan {}", strategy, a, b);
            }
            for chosen in [scanned, indexed] {
            prop_assert_eq!(chosen.is_some(), any_feasible, "{:?}", strategy);
            if let Some(n) = chosen {
                prop_assert!(load[n].schedulable, "{:?} chose an unschedulable node", strategy);
                prop_assert!(load[n].cpu_used_m + app.cpu_m <= nodes[n].cpu_m, "{:?} over CPU", strategy);
                prop_assert!(load[n].memory_used_bytes + app.memory_bytes <= nodes[n].memory_bytes, "{:?} over memory", strategy);
                prop_assert!(pin.is_none_or(|p| p == n));
                prop_assert!(!device || nodes[n].devices.contains(&"usb".to_string()));
                prop_assert!(anti != AntiAffinity::Required || !siblings.contains(&n), "{:?} broke anti-affinity", strategy);
                if app.spread == Some((0, SpreadMode::Required)) {
                    prop_assert!(topology[0][n].is_some(), "{:?} used a node outside every rack", strategy);
                    prop_assert!(!siblings.iter().any(|&s| topology[0][s] == topology[0][n]), "{:?} broke the required spread", strategy);
                }
                if anti == AntiAffinity::Preferred && app.spread.is_none() && strategy != super::Strategy::DomainSpread {
                    let count = |m: usize| siblings.iter().filter(|&&s| s == m).count();
                    let fewest = (0..nodes.len()).filter(|&m| feasible(&view, &pod, m)).map(count).min().unwrap();
                    prop_assert_eq!(count(n), fewest, "{:?} ignored preferred anti-affinity", strategy);
                }
            }
            }
            let mut again = ChaCha8Rng::seed_from_u64(seed);
            prop_assert_eq!(index.select(&view, &pod, &mut again), indexed);
        }
    }
}

#[test]
fn spread_takes_the_emptiest_node_and_binpack_the_fullest() {
    let nodes: Vec<Node> = (0..3).map(|i| node(i, 4000, 8 << 30, false)).collect();
    let load = [
        NodeLoad { schedulable: true, cpu_used_m: 1000, memory_used_bytes: 1 << 30 },
        NodeLoad { schedulable: true, cpu_used_m: 3000, memory_used_bytes: 6 << 30 },
        NodeLoad { schedulable: true, cpu_used_m: 0, memory_used_bytes: 0 },
    ];
    let view = ClusterView { nodes: &nodes, load: &load, topology: &[], spread_kind: None };
    let app = app(500, 1 << 30, AntiAffinity::None, None, false);
    let pod = PodRequest { app_id: 0, app: &app, siblings_on: &[], pin: None };
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (strategy, want) in
        [(super::Strategy::Spread, 2), (super::Strategy::Binpack, 1), (super::Strategy::FirstFit, 0)]
    {
        assert_eq!(scan::select(strategy, &view, &pod, &mut rng), Some(want), "{strategy:?}");
        let mut index = NodeIndex::new(strategy, &nodes, &[], &[], &load);
        assert_eq!(index.select(&view, &pod, &mut rng), Some(want), "{strategy:?}");
    }
}

#[test]
fn random_ties_cover_every_feasible_node() {
    let nodes: Vec<Node> = (0..4).map(|i| node(i, 4000, 8 << 30, false)).collect();
    let load = vec![NodeLoad { schedulable: true, ..NodeLoad::default() }; 4];
    let view = ClusterView { nodes: &nodes, load: &load, topology: &[], spread_kind: None };
    let app = app(0, 0, AntiAffinity::None, None, false);
    let pod = PodRequest { app_id: 0, app: &app, siblings_on: &[], pin: None };
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut index = NodeIndex::new(super::Strategy::Random, &nodes, &[], &[], &load);
    let (mut scanned, mut indexed) = ([0u32; 4], [0u32; 4]);
    for _ in 0..4000 {
        scanned[scan::select(super::Strategy::Random, &view, &pod, &mut rng).unwrap()] += 1;
        indexed[index.select(&view, &pod, &mut rng).unwrap()] += 1;
    }
    // Each count is binomial(4000, 1/4): mean 1000, sd 27.4; 5 sd either side.
    for counts in [scanned, indexed] {
        assert!(counts.iter().all(|&c| (863..=1137).contains(&c)), "{counts:?}");
    }
}
