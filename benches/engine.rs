//! Benchmarks (criterion). `cargo bench --bench engine` measures;
//! `cargo bench --bench engine -- --test` (what CI runs) only checks that
//! every benchmark still runs. benches/README.md explains each and keeps the
//! latest figures.
//!
//! 1. `up-down`: the event queue on the simplest node up/down model, next to
//!    a bare `BinaryHeap` loop of the same model in the same run (the
//!    baseline for the ratio).
//! 2. `replication/<scenario>`: one replication of the homelab, small and
//!    large bundled scenarios under each strategy, in simulated events per
//!    second.
//! 3. `threads/<n>`: eight replications of the large scenario streamed into
//!    the summary on 1 and on 2 worker threads, for the scaling ratio.
//! 4. `placement/<strategy>-<index|scan>/<nodes>`: placement decisions per
//!    second at 100, 1,000 and 10,000 nodes, to show how the cost grows: the
//!    engine's index (a decision plus the two index updates of binding and
//!    later unbinding the pod) next to the plain scan over every node.

use clustersim::engine::{EventQueue, simulate};
use clustersim::input;
use clustersim::model::{App, Class, Node};
use clustersim::placement::{ClusterView, NodeIndex, NodeLoad, PodRequest, Strategy, scan};
use clustersim::run::montecarlo;
use clustersim::run::summary::Accumulator;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::path::Path;

const NODES: u32 = 1000;
const EVENTS: u64 = 200_000;

/// Draws the up and down times of the model: exponential, means 1000 and 10.
struct Draws {
    rng: ChaCha8Rng,
    up: Exp<f64>,
    down: Exp<f64>,
}

impl Draws {
    fn new() -> Self {
        Draws {
            rng: ChaCha8Rng::seed_from_u64(1),
            up: Exp::new(1.0 / 1000.0).unwrap(),
            down: Exp::new(1.0 / 10.0).unwrap(),
        }
    }
    fn next(&mut self, going_up: bool) -> u64 {
        let d = if going_up { &self.down } else { &self.up };
        d.sample(&mut self.rng) as u64 + 1
    }
}

/// The baseline: a bare binary heap of (time, sequence, node, up).
fn heap_up_down() -> u64 {
    let mut draws = Draws::new();
    let mut heap = BinaryHeap::new();
    let mut seq = 0u64;
    for node in 0..NODES {
        heap.push(Reverse((draws.next(false), seq, node, false)));
        seq += 1;
    }
    let mut down_time = 0u64;
    for _ in 0..EVENTS {
        let Reverse((t, _, node, up)) = heap.pop().unwrap();
        if !up {
            down_time += 1;
        }
        heap.push(Reverse((t + draws.next(!up), seq, node, !up)));
        seq += 1;
    }
    down_time
}

/// The same model on clustersim's event queue (priority-queue, cancellable).
fn queue_up_down() -> u64 {
    let mut draws = Draws::new();
    let mut queue: EventQueue<(u32, bool)> = EventQueue::default();
    for node in 0..NODES {
        queue.schedule(draws.next(false), (node, false));
    }
    let mut down_time = 0u64;
    for _ in 0..EVENTS {
        let (t, (node, up)) = queue.pop_until(u64::MAX).unwrap();
        if !up {
            down_time += 1;
        }
        queue.schedule(t + draws.next(!up), (node, !up));
    }
    down_time
}

fn up_down(c: &mut Criterion) {
    let mut group = c.benchmark_group("up-down");
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_function("binary-heap baseline", |b| b.iter(|| black_box(heap_up_down())));
    group.bench_function("clustersim event queue", |b| b.iter(|| black_box(queue_up_down())));
    group.finish();
}

fn bundled(c: &mut Criterion) {
    for file in
        ["scenarios/truecharts-homelab.toml", "scenarios/small-datacenter.toml", "scenarios/large-datacenter.toml"]
    {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let sc = input::load(&path).expect("bundled scenario is valid");
        let mut group = c.benchmark_group(format!("replication/{}", sc.name));
        if sc.nodes.len() > 500 {
            // Half a second a replication: criterion's smallest sample.
            group.sample_size(10);
        }
        for &strategy in &sc.strategies {
            let events = simulate(&sc, strategy, 0, None).events;
            group.throughput(Throughput::Elements(events));
            group.bench_function(strategy.name(), |b| b.iter(|| simulate(&sc, strategy, 0, None)));
        }
        group.finish();
    }
}

/// Replications of the large scenario on 1 and 2 threads, folded into the
/// summary as a run does (the per-replication files left out: they are the
/// caller thread's work, measured with the whole command in benches/README.md).
fn threads(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/large-datacenter.toml");
    let sc = input::load(&path).expect("bundled scenario is valid");
    let replications: Vec<u32> = (0..8).collect();
    let mut group = c.benchmark_group("threads");
    group.sample_size(10);
    group.throughput(Throughput::Elements(replications.len() as u64));
    for n in [1usize, 2] {
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| {
                let mut acc = Accumulator::new(&sc, &sc.strategies);
                montecarlo::stream(&sc, &replications, Some(n), &|| (), &mut |_, outcomes| {
                    acc.add(&outcomes.iter().collect::<Vec<_>>());
                    Ok(())
                })
                .expect("runs");
                black_box(acc.events())
            })
        });
    }
    group.finish();
}

fn placement(c: &mut Criterion) {
    let app = App { cpu_m: 500, memory_bytes: 1 << 30, ..App::new("web", Class::Flexible) };
    let mut group = c.benchmark_group("placement");
    group.throughput(Throughput::Elements(1));
    for n in [100usize, 1000, 10_000] {
        let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
        let nodes: Vec<Node> = (0..n).map(|i| Node::new(format!("n{i}"), 16_000, 64 << 30)).collect();
        let load: Vec<NodeLoad> = (0..n)
            .map(|_| NodeLoad {
                schedulable: rng.random_bool(0.95),
                cpu_used_m: rng.random_range(0..15_000),
                memory_used_bytes: rng.random_range(0..(60u64 << 30)),
            })
            .collect();
        let view = ClusterView { nodes: &nodes, load: &load, topology: &[], spread_kind: None };
        let pod = PodRequest { app_id: 0, app: &app, siblings_on: &[], pin: None };
        for strategy in [Strategy::Spread, Strategy::Binpack, Strategy::FirstFit] {
            let mut index = NodeIndex::new(strategy, &nodes, &[], &[], &load);
            group.bench_with_input(BenchmarkId::new(format!("{}-index", strategy.name()), n), &n, |b, _| {
                b.iter(|| {
                    let chosen = index.select(&view, &pod, &mut rng);
                    if let Some(c) = chosen {
                        let bound = NodeLoad {
                            cpu_used_m: load[c].cpu_used_m + app.cpu_m,
                            memory_used_bytes: load[c].memory_used_bytes + app.memory_bytes,
                            ..load[c]
                        };
                        index.update(c, &nodes[c], &bound);
                        index.update(c, &nodes[c], &load[c]);
                    }
                    black_box(chosen)
                })
            });
            group.bench_with_input(BenchmarkId::new(format!("{}-scan", strategy.name()), n), &n, |b, _| {
                b.iter(|| black_box(scan::select(strategy, &view, &pod, &mut rng)))
            });
        }
    }
    group.finish();
}

// No HTML plots from criterion: plotters here is built with the embedded-font
// text renderer (ab_glyph) that clustersim's reports use, and criterion's
// plots would find no font registered for them.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = up_down, bundled, threads, placement
}
criterion_main!(benches);
