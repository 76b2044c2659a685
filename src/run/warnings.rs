//! Warnings that depend on the final run settings (after the command
//! line's overrides, or a merge's manifest), not on the scenario file
//! alone: few replications, scripted failures after the horizon, apps that
//! cannot all be placed at start, zfs-replicated failovers without room.
//! `cli` (run, validate) and `shard` (merge) both call [`run_warnings`];
//! it sits below both so neither imports the other for it.

use crate::model::Scenario;
use crate::placement::Strategy;
use crate::time::{format_cpu, format_duration};

/// Warnings that depend on the final run settings (after the command-line
/// overrides), not on the file alone.
pub fn run_warnings(scenario: &Scenario) -> Vec<String> {
    let mut warnings = scenario.warnings.clone();
    if scenario.replications < 30 {
        warnings.push(format!(
            "only {} replications: confidence intervals will be wide (30 or more is usual)",
            scenario.replications
        ));
    }
    for event in scenario.events.iter().filter(|e| e.at_ms > scenario.horizon_ms) {
        warnings.push(format!(
            "the scripted failure of `{}` at {} is after the horizon: it never happens",
            event.target.describe(scenario),
            format_duration(event.at_ms)
        ));
    }
    for &strategy in &scenario.strategies {
        let start = crate::engine::start_placement(scenario, strategy);
        warnings.extend(failover_without_room(scenario, strategy, &start));
        let unplaced = start.unplaced();
        if !unplaced.is_empty() {
            warnings.push(format!(
                "with strategy {}, these apps cannot all be placed at start and begin down: {}",
                strategy.name(),
                unplaced.iter().map(|&a| scenario.apps[a].name.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    warnings
}

/// A zfs-replicated volume's pods must fit on either side of it: after a
/// failover they can run only on the other side. Under `strategy`, with
/// the pods placed as at time zero, each side must have room for them
/// beside the other pods there; a side without it leaves them Pending
/// (`capacity`) after a failover to it.
fn failover_without_room(
    scenario: &Scenario,
    strategy: Strategy,
    start: &crate::engine::StartPlacement,
) -> Vec<String> {
    let mut out = Vec::new();
    for (v, volume) in scenario.volumes.iter().enumerate() {
        let crate::model::Backend::ZfsReplicated { node, replica, .. } = volume.backend else { continue };
        let users: Vec<usize> = (0..scenario.apps.len()).filter(|&a| scenario.apps[a].volumes.contains(&v)).collect();
        let need = users.iter().fold((0u64, 0u64), |(c, m), &a| {
            let app = &scenario.apps[a];
            (c + app.cpu_m * u64::from(app.replicas), m + app.memory_bytes * u64::from(app.replicas))
        });
        for side in [node, replica] {
            // What the other pods take on that side.
            let (mut cpu, mut mem) = start.used[side];
            for &(a, at) in &start.pods {
                if at == Some(side) && users.contains(&a) {
                    cpu -= scenario.apps[a].cpu_m;
                    mem -= scenario.apps[a].memory_bytes;
                }
            }
            let n = &scenario.nodes[side];
            let (free_cpu, free_mem) = (n.cpu_m.saturating_sub(cpu), n.memory_bytes.saturating_sub(mem));
            if free_cpu < need.0 || free_mem < need.1 {
                let apps: Vec<&str> = users.iter().map(|&a| scenario.apps[a].name.as_str()).collect();
                out.push(format!(
                    "zfs-replicated volume `{}` can fail over to `{}`, but under {} the other pods placed there leave {} CPU and {} memory free, less than the {} CPU and {} its pods ({}) request: after a failover to it they wait Pending (capacity); give `{}` more room (nodes.cpu, nodes.memory), lower the requests, or use another strategy",
                    volume.name,
                    n.name,
                    strategy.name(),
                    format_cpu(free_cpu),
                    crate::time::format_size(free_mem),
                    format_cpu(need.0),
                    crate::time::format_size(need.1),
                    apps.join(", "),
                    n.name
                ));
            }
        }
    }
    out
}
