//! The invariant checker: an observer that reads the simulation state after
//! every event and asserts what must hold (debug and test builds, and runs
//! with `RunOptions::check_invariants`). It changes nothing, so a run with
//! it is the run without it.

use super::kubelet::Phase;
use super::sim::Sim;
use crate::model::NodeId;
use crate::placement::{ClusterView, PodRequest};
use crate::time::Millis;

/// The invariants that must hold after every event (debug and test
/// builds): no serving pod on a down node, no node over capacity, loads
/// that match the bound pods, required anti-affinity kept, pods and nodes
/// agreeing on bindings, downtime never beyond the clock.
pub(super) fn check_invariants(sim: &Sim, now: Millis) {
    let mut cpu = vec![0u64; sim.cluster.nodes.len()];
    let mut mem = vec![0u64; sim.cluster.nodes.len()];
    for (id, pod) in sim.kubelet.pods.iter().enumerate() {
        let app = &sim.ctx.sc.apps[pod.app];
        match (pod.node, pod.phase) {
            (Some(node), phase) => {
                assert!(sim.cluster.nodes[node].pods.contains(&id), "pod {id} not listed on its node {node}");
                let serving = !matches!(phase, Phase::Lost | Phase::Pending(_));
                assert_eq!(serving, sim.cluster.nodes[node].up, "pod {id} phase {phase:?} on node {node}");
                assert!(app.fits_statically(node, &sim.ctx.sc.nodes[node]), "pod {id} on a node it may not use");
                cpu[node] += app.cpu_m;
                mem[node] += app.memory_bytes;
            }
            (None, phase) => {
                assert!(matches!(phase, Phase::Pending(_)), "unbound pod {id} in {phase:?}");
                assert!(sim.scheduler.pending.contains(&id), "Pending pod {id} not in the scheduler's queue");
            }
        }
    }
    for (n, node) in sim.ctx.sc.nodes.iter().enumerate() {
        assert_eq!(cpu[n], sim.cluster.load[n].cpu_used_m, "cpu accounting of node {n}");
        assert_eq!(mem[n], sim.cluster.load[n].memory_used_bytes, "memory accounting of node {n}");
        assert!(cpu[n] <= node.cpu_m && mem[n] <= node.memory_bytes, "node {n} over capacity");
        let state = &sim.cluster.nodes[n];
        assert_eq!(
            sim.cluster.load[n].schedulable,
            state.condition_ready && !state.cordoned,
            "node {n}: schedulable unless tainted NoSchedule or cordoned"
        );
    }
    if let Err(stale) = sim.cluster.index.check(&sim.ctx.sc.nodes, &sim.cluster.load) {
        panic!("{stale}");
    }
    for (a, app) in sim.ctx.sc.apps.iter().enumerate() {
        let (first, last) = sim.kubelet.app_pods[a];
        if app.anti_affinity == crate::model::AntiAffinity::Required {
            let mut used: Vec<NodeId> = sim.kubelet.pods[first..last].iter().filter_map(|p| p.node).collect();
            let before = used.len();
            used.sort_unstable();
            used.dedup();
            assert_eq!(before, used.len(), "required anti-affinity of app {a} broken");
        }
        let state = &sim.accounting.apps[a];
        let ready = sim.kubelet.pods[first..last].iter().filter(|p| p.phase == Phase::Running).count() as u32;
        let volumes_up = app.volumes.iter().all(|&v| sim.storage.volumes[v].unavailable.is_none());
        let dependencies_up = app.depends_on.iter().all(|&d| sim.accounting.apps[d].down_since.is_none());
        assert_eq!(
            state.down_since.is_none(),
            ready >= app.min_available && volumes_up && dependencies_up,
            "app {a} up/down state"
        );
        assert!(state.outcome.downtime_ms <= now, "app {a} downtime beyond the clock");
    }
    // The scheduler misses no chance: with the control plane up, no
    // Pending pod has a node that would take it now (every change that
    // frees room or a node offers the Pending pods again, as
    // kube-scheduler's queue moves its unschedulable pods on those
    // cluster events). So a pod still Pending once failures stop is
    // one no node fits, not one that was forgotten. Checked once the
    // instant is over: an event due now (the catch-up after quorum
    // returns) may still be on its way.
    if sim.control_plane.quorum() && sim.ctx.queue.next_time().is_none_or(|t| t > now) {
        let view = ClusterView::of(sim.ctx.sc, &sim.cluster.load);
        for &pod in &sim.scheduler.pending {
            let app_id = sim.kubelet.pods[pod].app;
            let siblings = sim.kubelet.sibling_nodes(pod);
            let request = PodRequest {
                app_id,
                app: &sim.ctx.sc.apps[app_id],
                siblings_on: &siblings,
                pin: sim.storage_pin(app_id),
            };
            let fits = (0..sim.cluster.nodes.len()).find(|&n| crate::placement::feasible(&view, &request, n));
            assert!(fits.is_none(), "pod {pod} Pending at {now} ms while node {fits:?} would take it");
        }
    }
    for (z, zone) in sim.control_plane.zones.iter().enumerate() {
        let counted = (0..sim.cluster.nodes.len())
            .filter(|&n| sim.ctx.sc.nodes[n].zone == z && !sim.cluster.nodes[n].ready)
            .count();
        assert_eq!(counted, zone.not_ready, "NotReady count of zone {z}");
    }
}
