//! Scripted failures with outage lengths computable by hand: the Kubernetes
//! chain of domain.md section 1, the zone disruption rule and capacity.

use crate::common::{Passes, lease_offset_ms, quiet_cluster, scenario, traced};
use clustersim::metrics::{Cause, TraceRecord};
use clustersim::model::Scenario;
use clustersim::time::{MS_PER_H, MS_PER_MIN, MS_PER_S, Millis};

/// Time of the first trace record of `kind` about node `node` (index).
fn first(trace: &[TraceRecord], kind: &str, node: usize) -> Option<Millis> {
    trace.iter().find(|r| r.kind == kind && r.node == Some(node)).map(|r| r.time_ms)
}

fn all(trace: &[TraceRecord], kind: &str, node: usize) -> Vec<Millis> {
    trace.iter().filter(|r| r.kind == kind && r.node == Some(node)).map(|r| r.time_ms).collect()
}

/// Three nodes that never fail on their own; `extra` adds apps, events and
/// settings.
fn cluster(extra: &str) -> Scenario {
    quiet_cluster("first-fit", 3, "", extra)
}

const FAIL_AT: Millis = 100 * MS_PER_H;

/// The whole chain of a crashed node, to the millisecond, as the node
/// lifecycle controller (`pkg/controller/nodelifecycle/node_lifecycle_controller.go`)
/// runs it: the last lease renewal is seen at the next monitor pass
/// (`tryUpdateNodeHealth`: `probeTimestamp = nc.now()`); Ready=Unknown at the
/// first pass with `now.After(probeTimestamp + gracePeriod)`, the one at or
/// after probe + grace since the passes slide; the pass after
/// that observes Unknown and queues the node (`processTaintBaseEviction`,
/// `markNodeForTainting`), tainted at once with the zone's token
/// (`RateLimitedTimedQueue.Try`); the pods are evicted the toleration later
/// (`tainteviction.processPodOnNode`: `now + tolerationSeconds`) and the
/// replacement starts. Grace periods of 1.31 (40 s) and 1.32+ (50 s), and a
/// monitor period of 0 (every instant) for the limit without passes.
#[test]
fn flexible_outage_is_the_lease_seen_at_a_pass_plus_grace_a_pass_toleration_and_startup() {
    for (grace_s, period_s, toleration_s) in [(40, 5, 300), (50, 5, 60), (50, 0, 300), (43, 7, 300)] {
        let sc = cluster(&format!(
            r#"
            [kubernetes]
            node_monitor_grace_period = "{grace_s}s"
            node_monitor_period = "{period_s}s"
            eviction_toleration = "{toleration_s}s"
            [[apps]]
            name = "plex"
            class = "flexible"
            startup = "45s"
            [[events]]
            at = "100h"
            fail = "node:n-1"
            duration = "4h"
            "#
        ));
        let passes = Passes::of(&sc);
        let renewed = FAIL_AT - lease_offset_ms(&sc, 0, 0);
        let not_ready_at = passes.not_ready(renewed);
        let (outcome, trace) = traced(&sc);
        let case = format!("grace {grace_s} s, period {period_s} s");
        assert_eq!(first(&trace, "node-not-ready", 0), Some(not_ready_at), "{case}");
        let taint_at = passes.after(not_ready_at);
        assert_eq!(first(&trace, "taint", 0), Some(taint_at), "{case}: tainted at the pass after the mark");
        let evicted = first(&trace, "pod-evicted", 0).expect("the pod is evicted");
        assert_eq!(evicted, taint_at + toleration_s * MS_PER_S, "{case}");
        let app = &outcome.apps[0];
        assert_eq!(app.downtime_ms, evicted - FAIL_AT + 45 * MS_PER_S, "{case}");
        assert_eq!(app.outages, 1);
        assert_eq!(app.cause_ms[Cause::Detection.index()], evicted - FAIL_AT);
        assert_eq!(app.cause_ms[Cause::Startup.index()], 45 * MS_PER_S);
        // The replacement went to the next node and stays there after repair.
        let scheduled: Vec<_> = trace.iter().filter(|r| r.kind == "pod-scheduled").map(|r| r.node).collect();
        assert_eq!(scheduled, vec![Some(0), Some(1)]);
    }
}

#[test]
fn node_bound_app_is_down_for_the_outage_plus_startup_whenever_the_node_returns() {
    // Back before NotReady (20 s), between NotReady and eviction (2 min),
    // and after eviction (4 h): always outage + start-up, restarting on n-1.
    for outage in [20 * MS_PER_S, 2 * MS_PER_MIN, 4 * MS_PER_H] {
        let sc = cluster(&format!(
            r#"
            [[apps]]
            name = "zwavejs2mqtt"
            class = "node-bound"
            node = "n-1"
            startup = "15s"
            [[events]]
            at = "100h"
            fail = "node:n-1"
            duration = "{outage}ms"
            "#
        ));
        let (outcome, trace) = traced(&sc);
        assert_eq!(outcome.apps[0].downtime_ms, outage + 15 * MS_PER_S, "outage {outage} ms");
        let evicted = first(&trace, "pod-evicted", 0).is_some();
        assert_eq!(evicted, outage > 5 * MS_PER_MIN, "eviction only after the toleration, outage {outage} ms");
        assert_eq!(first(&trace, "node-not-ready", 0).is_some(), outage > 60 * MS_PER_S, "outage {outage} ms");
    }
}

#[test]
fn zone_disruption_stops_evictions_once_three_of_five_nodes_are_not_ready() {
    // One 3-CPU app per 8-CPU node; n-1 and n-2 fail together, n-3 an hour
    // later: 3 of 5 NotReady is PartialDisruption (more than 2 and at least
    // 55 %) in a cluster of 50 nodes or fewer, so n-3 is never tainted until
    // n-1 returns and the zone is Normal again.
    let mut apps = String::new();
    for i in 1..=5 {
        apps += &format!("[[apps]]\nname = \"app{i}\"\nclass = \"flexible\"\ncpu = 3\nstartup = \"10s\"\n");
    }
    let sc = scenario(&format!(
        r#"
        horizon = "30d"
        replications = 1
        strategies = ["spread"]
        [node_defaults]
        cpu = 8
        memory = "16Gi"
        failure = "never"
        repair = "never"
        [[nodes]]
        name = "n"
        count = 5
        {apps}
        [[events]]
        at = "1h"
        fail = "node:n-1"
        duration = "10h"
        [[events]]
        at = "1h"
        fail = "node:n-2"
        duration = "20h"
        [[events]]
        at = "2h"
        fail = "node:n-3"
        duration = "20h"
        "#
    ));
    let (outcome, trace) = traced(&sc);
    let taint1 = first(&trace, "taint", 0).expect("n-1 tainted");
    let taint2 = first(&trace, "taint", 1).expect("n-2 tainted");
    // The eviction rate limit: one node every 10 s in a healthy zone.
    assert!(taint1.abs_diff(taint2) >= 10 * MS_PER_S, "taints {taint1} and {taint2} closer than 10 s");
    assert!(first(&trace, "pod-evicted", 0).is_some() && first(&trace, "pod-evicted", 1).is_some());
    // n-3: NotReady about 2h + 55 s, but no taint or eviction while 3 of 5
    // are NotReady (the zone's limiter is swapped to rate 0). n-1 returns at
    // 11 h; the next monitor pass sees it Ready, the zone is Normal again and
    // gets a new limiter at 0.1/s, drained because the old one (rate 0)
    // refuses (`SwapLimiter`): n-3 is tainted 10 s after that pass.
    let passes = Passes::of(&sc);
    let not_ready3 = first(&trace, "node-not-ready", 2).expect("n-3 NotReady");
    assert_eq!(not_ready3, passes.not_ready(2 * MS_PER_H - lease_offset_ms(&sc, 2, 0)));
    let seen_ready1 = passes.after(11 * MS_PER_H);
    let taint3 = seen_ready1 + 10 * MS_PER_S;
    assert_eq!(all(&trace, "taint", 2), vec![taint3], "n-3 tainted only when n-1 is back");
    let evictions3 = all(&trace, "pod-evicted", 2);
    assert!(!evictions3.is_empty());
    assert!(evictions3.iter().all(|&t| t == taint3 + 300 * MS_PER_S), "{evictions3:?}");
    // The app that was on n-3 was down from 2 h until evicted and restarted.
    let on_n3 = trace
        .iter()
        .find(|r| r.kind == "pod-evicted" && r.node == Some(2))
        .and_then(|r| r.app)
        .expect("an app was on n-3");
    let downtime = outcome.apps[on_n3].downtime_ms;
    assert_eq!(downtime, taint3 + 300 * MS_PER_S + 10 * MS_PER_S - 2 * MS_PER_H);
}

#[test]
fn all_nodes_not_ready_is_full_disruption_and_nothing_is_evicted() {
    let sc = cluster(
        r#"
        [[apps]]
        name = "web"
        class = "flexible"
        [[events]]
        at = "1h"
        fail = "node:n-1"
        duration = "10h"
        [[events]]
        at = "1h"
        fail = "node:n-2"
        duration = "10h"
        [[events]]
        at = "1h"
        fail = "node:n-3"
        duration = "10h"
        "#,
    );
    let (_, trace) = traced(&sc);
    assert!(trace.iter().any(|r| r.kind == "all-zones-disrupted"));
    assert!(!trace.iter().any(|r| r.kind == "pod-evicted"), "no eviction with every node NotReady");
}

#[test]
fn a_pod_with_no_room_on_the_survivors_stays_pending_until_the_repair() {
    // Two 4-CPU nodes, two 3-CPU apps, one per node: when n-1 fails its app
    // has nowhere to go until n-1 is back.
    let sc = scenario(
        r#"
        horizon = "30d"
        replications = 1
        strategies = ["first-fit"]
        [node_defaults]
        cpu = 4
        memory = "8Gi"
        failure = "never"
        repair = "never"
        [[nodes]]
        name = "n"
        count = 2
        [[apps]]
        name = "a"
        class = "flexible"
        cpu = 3
        startup = "30s"
        [[apps]]
        name = "b"
        class = "flexible"
        cpu = 3
        startup = "30s"
        [[events]]
        at = "100h"
        fail = "node:n-1"
        duration = "10h"
        "#,
    );
    let (outcome, trace) = traced(&sc);
    let a = &outcome.apps[0];
    assert_eq!(a.downtime_ms, 10 * MS_PER_H + 30 * MS_PER_S);
    let evicted = first(&trace, "pod-evicted", 0).expect("evicted");
    assert_eq!(a.cause_ms[Cause::Detection.index()], evicted - FAIL_AT);
    assert_eq!(a.cause_ms[Cause::Capacity.index()], FAIL_AT + 10 * MS_PER_H - evicted);
    assert_eq!(a.cause_ms[Cause::Startup.index()], 30 * MS_PER_S);
    assert_eq!(outcome.apps[1].downtime_ms, 0);
}
