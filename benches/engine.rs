//! Engine throughput on the bundled scenarios: one replication of each under
//! each strategy, reported as simulated events per second.
//!
//! `cargo bench --bench engine` measures; `cargo bench --bench engine -- --test`
//! (what CI runs) only checks that every benchmark still runs.

use clustersim::engine::simulate;
use clustersim::scenario;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::Path;

fn bundled(c: &mut Criterion) {
    for file in ["scenarios/truecharts-homelab.toml", "scenarios/small-datacenter.toml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let sc = scenario::load(&path).expect("bundled scenario is valid");
        let mut group = c.benchmark_group(format!("replication/{}", sc.name));
        for &strategy in &sc.strategies {
            let events = simulate(&sc, strategy, 0, None).events;
            group.throughput(Throughput::Elements(events));
            group.bench_function(strategy.name(), |b| b.iter(|| simulate(&sc, strategy, 0, None)));
        }
        group.finish();
    }
}

criterion_group!(benches, bundled);
criterion_main!(benches);
