//! Failure domains, the control plane, container crashes, StatefulSets and
//! dependencies (issue 4), against closed forms and hand-computed timings.

use crate::common::{
    Passes, app_id, app_unavailability, assert_in_interval, members_and_workers, quiet_cluster, scenario, traced,
};
use clustersim::engine::simulate;
use clustersim::metrics::{Cause, TraceRecord};
use clustersim::model::Scenario;
use clustersim::run::summary::mean;
use clustersim::time::{MS_PER_H, MS_PER_MIN, MS_PER_S, Millis};

fn times(trace: &[TraceRecord], kind: &str) -> Vec<Millis> {
    trace.iter().filter(|r| r.kind == kind).map(|r| r.time_ms).collect()
}

#[test]
fn a_node_in_a_domain_is_up_when_both_are() {
    let sc = scenario(
        r#"
        horizon = "10y"
        replications = 400
        seed = 31
        [node_defaults]
        cpu = 4
        memory = "8Gi"
        failure = { dist = "exponential", mean = "1000h" }
        repair = { dist = "exponential", mean = "10h" }
        [[nodes]]
        name = "n1"
        labels = { rack = "r1" }
        [[domains]]
        name = "rack-1"
        kind = "rack"
        selector = { rack = "r1" }
        failure = { dist = "exponential", mean = "2000h" }
        repair = { dist = "exponential", mean = "30h" }
        [[apps]]
        name = "bound"
        class = "node-bound"
        node = "n1"
        startup = "0s"
        "#,
    );
    let a = (1000.0 / 1010.0) * (2000.0 / 2030.0);
    assert_in_interval("node x domain", &app_unavailability(&sc, 0), 1.0 - a);
}

/// Two power domains of two nodes each; nodes never fail on their own.
fn power_domains(app: &str) -> Scenario {
    scenario(&format!(
        r#"
        horizon = "10y"
        replications = 400
        seed = 32
        [node_defaults]
        cpu = 4
        memory = "8Gi"
        failure = "never"
        repair = "never"
        [[nodes]]
        name = "a"
        count = 2
        labels = {{ power = "a" }}
        devices = ["feed-a"]
        [[nodes]]
        name = "b"
        count = 2
        labels = {{ power = "b" }}
        [[domains]]
        name = "ups-a"
        kind = "power"
        selector = {{ power = "a" }}
        failure = {{ dist = "exponential", mean = "500h" }}
        repair = {{ dist = "exponential", mean = "25h" }}
        [[domains]]
        name = "ups-b"
        kind = "power"
        selector = {{ power = "b" }}
        failure = {{ dist = "exponential", mean = "500h" }}
        repair = {{ dist = "exponential", mean = "25h" }}
        [[apps]]
        name = "traefik"
        class = "ha"
        replicas = 2
        min_available = 1
        anti_affinity = "required"
        startup = "0s"
        {app}
        "#
    ))
}

#[test]
fn ha_replicas_spread_over_two_power_domains_beat_replicas_sharing_one() {
    let a = 500.0 / 525.0;
    let shared = app_unavailability(&power_domains("requires = [\"feed-a\"]"), 0);
    let spread = app_unavailability(&power_domains("spread_over = \"power\"\nspread = \"required\""), 0);
    assert_in_interval("replicas on one power domain", &shared, 1.0 - a);
    assert_in_interval("replicas over two power domains", &spread, (1.0 - a) * (1.0 - a));
    assert!(mean(&spread) < mean(&shared) / 10.0);
}

#[test]
fn without_etcd_quorum_nothing_is_marked_evicted_or_scheduled_and_the_catch_up_is_exact() {
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
        name = "cp"
        count = 3
        control_plane = true
        cpu = "100m"
        [[nodes]]
        name = "w"
        count = 2
        [[apps]]
        name = "web"
        class = "flexible"
        cpu = 1
        startup = "30s"
        [[events]]
        at = "100h"
        fail = "node:cp-1"
        duration = "1h"
        [[events]]
        at = "100h"
        fail = "node:cp-2"
        duration = "2h"
        [[events]]
        at = "100h"
        fail = "node:w-1"
        duration = "10h"
        "#,
    );
    let (outcome, trace) = traced(&sc);
    assert_eq!(times(&trace, "quorum-lost"), vec![100 * MS_PER_H]);
    assert_eq!(times(&trace, "quorum-regained"), vec![101 * MS_PER_H]);
    // Nothing happened in between: no taint, no eviction, no scheduling.
    for kind in ["taint", "pod-evicted", "pod-scheduled"] {
        assert!(
            trace.iter().filter(|r| r.kind == kind).all(|r| r.time_ms == 0 || r.time_ms >= 101 * MS_PER_H),
            "{kind} without quorum"
        );
    }
    // At 101 h the controller finds cp-2 (index 1) and w-1 (index 3)
    // overdue: both marked NotReady at its next monitor pass, queued at the
    // pass after, and tainted one every 10 s (cp-2 first, in node order).
    let passes = Passes::of(&sc);
    let marked = passes.after(101 * MS_PER_H);
    assert_eq!(times(&trace, "node-not-ready").iter().filter(|&&t| t >= 101 * MS_PER_H).count(), 2);
    assert!(trace.iter().any(|r| r.kind == "node-not-ready" && r.node == Some(3) && r.time_ms == marked));
    let w1_taint = trace.iter().find(|r| r.kind == "taint" && r.node == Some(3)).unwrap().time_ms;
    assert_eq!(w1_taint, passes.after(marked) + 10 * MS_PER_S);
    let evicted = trace.iter().find(|r| r.kind == "pod-evicted" && r.node == Some(3)).unwrap().time_ms;
    assert_eq!(evicted, w1_taint + 300 * MS_PER_S);
    let web = &outcome.apps[0];
    assert_eq!(web.downtime_ms, evicted + 30 * MS_PER_S - 100 * MS_PER_H);
}

#[test]
/// The kubelet's CrashLoopBackOff (`doBackOff` in
/// `pkg/kubelet/kuberuntime/kuberuntime_manager.go`, `flowcontrol.Backoff`
/// `IsInBackOffSince` / `Next`, the 600 s `HasExpiredFunc` of
/// `pkg/kubelet/kubelet.go`): a container with no back-off entry restarts at
/// once and gets one of 10 s; later crashes wait the entry out, which then
/// doubles; a crash more than 10 minutes after the last restart finds the
/// entry expired and restarts at once again.
fn crash_back_off_restarts_at_once_then_doubles_from_10_s_and_resets_after_10_minutes() {
    let sc = scenario(
        r#"
        horizon = "30d"
        replications = 1
        [node_defaults]
        cpu = 4
        memory = "8Gi"
        failure = "never"
        repair = "never"
        [[nodes]]
        name = "n"
        [[apps]]
        name = "sonarr"
        class = "flexible"
        startup = "5s"
        [[events]]
        at = "100h"
        fail = "app:sonarr"
        [[events]]
        at = "100h1m"
        fail = "app:sonarr"
        [[events]]
        at = "100h2m"
        fail = "app:sonarr"
        [[events]]
        at = "100h30m"
        fail = "app:sonarr"
        "#,
    );
    let (outcome, trace) = traced(&sc);
    let delays: Vec<&str> = trace.iter().filter(|r| r.kind == "back-off").map(|r| r.detail.as_str()).collect();
    assert_eq!(delays, vec!["restart in 0 ms", "restart in 10000 ms", "restart in 20000 ms", "restart in 0 ms"]);
    let app = &outcome.apps[0];
    // Each crash: the back-off, then 5 s to start.
    assert_eq!(app.downtime_ms, (5 + 15 + 25 + 5) * MS_PER_S);
    assert_eq!(app.cause_ms[Cause::Crash.index()], (10 + 20) * MS_PER_S);
    assert_eq!(app.outages, 4);
}

#[test]
fn a_hung_container_is_restarted_after_the_liveness_probe_fails_three_times() {
    let sc = scenario(
        r#"
        horizon = "1000h"
        replications = 1
        [node_defaults]
        cpu = 4
        memory = "8Gi"
        failure = "never"
        repair = "never"
        [[nodes]]
        name = "n"
        [[apps]]
        name = "plex"
        class = "flexible"
        startup = "5s"
        hang = "100h"
        "#,
    );
    let (outcome, trace) = traced(&sc);
    let hangs = times(&trace, "container-hang");
    assert!(!hangs.is_empty());
    assert_eq!(times(&trace, "liveness-failed")[0], hangs[0] + 30 * MS_PER_S, "period 10 s x threshold 3");
    // Every hang costs 30 s of detection, the back-off and the start.
    assert_eq!(outcome.apps[0].downtime_ms % MS_PER_S, 0);
    assert!(outcome.apps[0].cause_ms[Cause::Crash.index()] >= 40 * MS_PER_S);
}

fn statefulset_or_deployment(kind: &str, extra: &str) -> Scenario {
    let body = format!(
        "[[apps]]\nname = \"db\"\nclass = \"flexible\"\nkind = \"{kind}\"\nstartup = \"20s\"\n\
         [[events]]\nat = \"100h\"\nfail = \"node:n-1\"\nduration = \"4h\"\n[kubernetes]\n{extra}"
    );
    quiet_cluster("first-fit", 3, "", &body)
}

#[test]
fn a_statefulset_pod_is_not_replaced_while_its_node_is_unreachable() {
    let (deployment, trace) = traced(&statefulset_or_deployment("deployment", ""));
    let tainted = times(&trace, "taint")[0];
    assert_eq!(deployment.apps[0].downtime_ms, tainted - 100 * MS_PER_H + 300 * MS_PER_S + 20 * MS_PER_S);
    let (statefulset, trace) = traced(&statefulset_or_deployment("statefulset", ""));
    assert!(times(&trace, "pod-terminating").len() == 1);
    assert_eq!(statefulset.apps[0].downtime_ms, 4 * MS_PER_H + 20 * MS_PER_S, "replaced only when n-1 returns");
    // With the operator's out-of-service taint 10 minutes after NotReady,
    // PodGC force-deletes the Terminating pod at its first pass after the
    // taint (podgc `gcTerminating`, every `gcCheckPeriod` of 20 s), and the
    // StatefulSet controller replaces it then.
    let (tainted, trace) = traced(&statefulset_or_deployment("statefulset", "out_of_service_after = \"10m\""));
    let not_ready = times(&trace, "node-not-ready")[0];
    let taint = not_ready + 10 * MS_PER_MIN;
    let pass = *times(&trace, "pod-gc").iter().find(|&&t| t >= taint).expect("a PodGC pass after the taint");
    assert!(pass - taint < 20 * MS_PER_S, "pass {pass} taint {taint}");
    assert_eq!(times(&trace, "pod-force-deleted"), vec![pass]);
    assert_eq!(tainted.apps[0].downtime_ms, pass - 100 * MS_PER_H + 20 * MS_PER_S);
}

#[test]
fn an_app_is_never_up_while_an_app_it_depends_on_is_down() {
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
        name = "postgres"
        class = "node-bound"
        node = "n-1"
        startup = "10s"
        [[apps]]
        name = "nextcloud"
        class = "flexible"
        node = "n-2"
        startup = "10s"
        depends_on = ["postgres"]
        [[events]]
        at = "100h"
        fail = "node:n-1"
        duration = "3h"
        "#,
    );
    let (outcome, _) = traced(&sc);
    let db = &outcome.apps[app_id(&sc, "postgres")];
    let web = &outcome.apps[app_id(&sc, "nextcloud")];
    assert_eq!(db.downtime_ms, 3 * MS_PER_H + 10 * MS_PER_S);
    assert_eq!(web.downtime_ms, db.downtime_ms);
    assert_eq!(web.cause_ms[Cause::Dependency.index()], web.downtime_ms);
}

#[test]
fn a_hand_written_trace_replays_to_the_downtime_computed_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nodes.csv"),
        "# n-1 twice, the second time in two touching pieces\nnode,fail_at,repair_at\nn-1,100h,104h\nn-1,200h,200h30m\nn-1,200h30m,201h\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("racks.csv"), "domain,fail_at,repair_at\nrack-1,300h,302h\n").unwrap();
    let scenario_path = dir.path().join("replay.toml");
    std::fs::write(
        &scenario_path,
        r#"
        horizon = "30d"
        replications = 3
        [node_defaults]
        cpu = 4
        memory = "8Gi"
        failure = { dist = "exponential", mean = "50h" }
        repair = "1h"
        [[nodes]]
        name = "n"
        count = 2
        [[domains]]
        name = "rack-1"
        kind = "rack"
        nodes = ["n-1"]
        failure = { dist = "exponential", mean = "100h" }
        repair = "1h"
        [[apps]]
        name = "zwave"
        class = "node-bound"
        node = "n-1"
        startup = "10s"
        [[replay]]
        file = "nodes.csv"
        mode = "replace"
        [[replay]]
        file = "racks.csv"
        "#,
    )
    .unwrap();
    let sc = clustersim::input::load(&scenario_path).unwrap();
    // mode = "replace": the random failures are off, the trace is the history.
    assert_eq!(sc.nodes[0].failure, clustersim::dist::Dist::Never);
    assert_eq!(sc.domains[0].failure, clustersim::dist::Dist::Never);
    for r in 0..3 {
        let outcome = simulate(&sc, sc.strategies[0], r, None);
        let expected = 4 * MS_PER_H + MS_PER_H + 2 * MS_PER_H + 3 * 10 * MS_PER_S;
        assert_eq!(outcome.apps[0].downtime_ms, expected, "replication {r}");
        assert_eq!(outcome.apps[0].outages, 3);
    }
}

#[test]
fn a_bad_trace_row_is_reported_with_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.csv"), "node,fail_at,repair_at\nn-1,100h,99h\n").unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(
        &path,
        "[node_defaults]\ncpu = 1\nmemory = \"1Gi\"\nfailure = \"never\"\nrepair = \"1h\"\n[[nodes]]\nname = \"n-1\"\n\
         [[apps]]\nname = \"a\"\nclass = \"flexible\"\n[[replay]]\nfile = \"t.csv\"\n",
    )
    .unwrap();
    let out = crate::common::run_in(dir.path(), &["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("t.csv:2:10") && err.contains("repair_at"), "{err}");
}

fn maintained(apps: &str) -> Scenario {
    quiet_cluster("spread", 4, "", &format!("{apps}\n[maintenance]\nevery = \"7d\"\nduration = \"1h\""))
}

#[test]
fn a_rolling_maintenance_with_a_budget_never_takes_an_ha_app_below_min_available() {
    let sc = maintained(
        r#"[[apps]]
        name = "traefik"
        class = "ha"
        replicas = 3
        min_available = 2
        max_unavailable = 1
        anti_affinity = "required"
        startup = "20s""#,
    );
    let (outcome, trace) = traced(&sc);
    // Four rounds (7, 14, 21, 28 d), every node drained in each.
    assert_eq!(times(&trace, "cordon").len(), 16);
    assert_eq!(times(&trace, "maintenance-end").len(), 16);
    assert_eq!(outcome.apps[0].downtime_ms, 0, "never below min_available");
    // The budget let one replica go at a time.
    assert!(times(&trace, "pod-drained").len() >= 4);
}

#[test]
fn a_drained_single_pod_app_is_down_for_its_start_up_as_planned_downtime() {
    let sc = maintained(
        r#"[[apps]]
        name = "sonarr"
        class = "flexible"
        startup = "20s""#,
    );
    let (outcome, trace) = traced(&sc);
    let drains = times(&trace, "pod-drained").len() as u64;
    assert!(drains >= 4, "drained at least once per round");
    let app = &outcome.apps[0];
    // Each drain: the pod leaves the endpoints, its replacement starts on
    // another node in 20 s. All of it is planned.
    assert_eq!(app.downtime_ms, drains * 20 * MS_PER_S);
    assert_eq!(app.cause_ms[Cause::Maintenance.index()], app.downtime_ms);
}

#[test]
fn a_node_bound_app_is_down_for_the_whole_window_of_its_node() {
    let sc = maintained(
        r#"[[apps]]
        name = "zwave"
        class = "node-bound"
        node = "n-2"
        startup = "10s""#,
    );
    let (outcome, _) = traced(&sc);
    // Four rounds, each: drained, n-2 down for 1 h, back, restarted (10 s).
    assert_eq!(outcome.apps[0].downtime_ms, 4 * (MS_PER_H + 10 * MS_PER_S));
    assert_eq!(outcome.apps[0].cause_ms[Cause::Maintenance.index()], outcome.apps[0].downtime_ms);
}

#[test]
fn a_budget_that_allows_no_disruption_blocks_the_drain_until_the_timeout() {
    let sc = maintained(
        r#"[[apps]]
        name = "etcd-like"
        class = "ha"
        replicas = 2
        min_available = 2
        max_unavailable = 0
        anti_affinity = "required"
        startup = "20s""#,
    );
    let (outcome, trace) = traced(&sc);
    // The two nodes holding a replica are skipped after the one-hour drain
    // timeout in each of the four rounds; the app never goes down.
    assert_eq!(times(&trace, "drain-timeout").len(), 8);
    assert!(times(&trace, "pod-drained").is_empty());
    assert_eq!(outcome.apps[0].downtime_ms, 0);
}

/// Regression (issue 13's liveness check found it): a node the round skips
/// after a drain timeout is uncordoned, and the pod that could not be placed
/// while it was cordoned goes there at once, as kube-scheduler requeues its
/// unschedulable pods on that Node update (`pkg/scheduler/eventhandlers.go`,
/// `updateNodeInCache`). Before, it stayed Pending until some node next
/// became Ready.
#[test]
fn a_pod_pending_while_its_node_was_cordoned_goes_back_when_the_drain_times_out() {
    // Two nodes of 1 CPU: the budget of `db` (a replica on each node, none
    // may go) blocks every drain; `web` and `cache` (800m each) fill one
    // node each, so the one drained off the cordoned node fits nowhere.
    let sc = quiet_cluster(
        "spread",
        2,
        "",
        r#"cpu = 1
        [[apps]]
        name = "db"
        class = "ha"
        replicas = 2
        min_available = 2
        max_unavailable = 0
        anti_affinity = "required"
        cpu = "100m"
        [[apps]]
        name = "web"
        class = "flexible"
        cpu = "800m"
        startup = "20s"
        [[apps]]
        name = "cache"
        class = "flexible"
        cpu = "800m"
        startup = "20s"
        [maintenance]
        every = "7d"
        duration = "1h"
        drain_timeout = "1h""#,
    );
    let (outcome, trace) = traced(&sc);
    // Four rounds, both nodes skipped in each; each node's single-pod app
    // drained off it and back on it at the timeout. The round's last node
    // is the case that stayed Pending: for the first, the next node's drain
    // offered the Pending pods anyway.
    assert_eq!(times(&trace, "drain-timeout").len(), 8, "both nodes skipped in each round");
    let drains: Vec<_> = trace.iter().filter(|r| r.kind == "pod-drained").collect();
    assert_eq!(drains.len(), 8);
    for drained in drains {
        let timeout = trace
            .iter()
            .find(|r| r.kind == "drain-timeout" && r.node == drained.node && r.time_ms > drained.time_ms)
            .expect("the budget blocks the drain");
        assert_eq!(timeout.time_ms - drained.time_ms, MS_PER_H, "the drain timeout");
        let back = trace
            .iter()
            .find(|r| r.kind == "pod-scheduled" && r.pod == drained.pod && r.time_ms > drained.time_ms)
            .expect("the drained pod is placed again");
        assert_eq!((back.time_ms, back.node), (timeout.time_ms, timeout.node), "at the uncordon, on that node");
    }
    // Each app: down from its drain to the timeout, then for its start-up,
    // in each round; all of it planned.
    for app in ["web", "cache"].map(|name| &outcome.apps[app_id(&sc, name)]) {
        assert_eq!(app.downtime_ms, 4 * (MS_PER_H + 20 * MS_PER_S));
        assert_eq!(app.cause_ms[Cause::Maintenance.index()], app.downtime_ms);
    }
}

#[test]
fn zones_come_from_zone_domains_and_each_follows_the_disruption_rule_on_its_own() {
    // zone-a: a-1..a-3, zone-b: b-1..b-5. Three of zone-b's five nodes go
    // (PartialDisruption there: no taint in a zone of 50 nodes or fewer),
    // while a-1's failure in the healthy zone-a is handled normally. A
    // scripted domain failure of zone-a afterwards (every node of the zone
    // down while zone-b has Ready nodes: FullDisruption of one zone only)
    // still evicts at the normal rate.
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
        name = "a"
        count = 3
        labels = { zone = "a" }
        [[nodes]]
        name = "b"
        count = 5
        labels = { zone = "b" }
        [[domains]]
        name = "zone-a"
        kind = "zone"
        selector = { zone = "a" }
        [[domains]]
        name = "zone-b"
        kind = "zone"
        selector = { zone = "b" }
        [[apps]]
        name = "web"
        class = "flexible"
        count = 8
        cpu = 3
        [[events]]
        at = "10h"
        fail = "node:b-1"
        duration = "5h"
        [[events]]
        at = "10h"
        fail = "node:b-2"
        duration = "5h"
        [[events]]
        at = "10h"
        fail = "node:b-3"
        duration = "5h"
        [[events]]
        at = "10h"
        fail = "node:a-1"
        duration = "5h"
        [[events]]
        at = "20h"
        fail = "domain:zone-a"
        duration = "5h"
        "#,
    );
    assert_eq!(sc.nodes.iter().map(|n| n.zone).collect::<Vec<_>>(), vec![0, 0, 0, 1, 1, 1, 1, 1]);
    let (_, trace) = traced(&sc);
    let tainted = |node: usize| {
        trace.iter().filter(|r| r.kind == "taint" && r.node == Some(node)).map(|r| r.time_ms).collect::<Vec<_>>()
    };
    assert_eq!(tainted(0).len(), 2, "a-1 tainted at 10 h and again when zone-a fails at 20 h");
    // In zone-b two NotReady nodes are not "more than 2"; the third mark
    // makes the zone PartialDisruption at the end of its pass, and its
    // limiter rate 0 (5 nodes, at most `large_cluster_size_threshold`). A
    // node is queued at the pass after its mark and tainted then if its
    // zone's token is there (10 s apart) before that third mark's pass.
    let passes = Passes::of(&sc);
    let not_ready =
        |node: usize| trace.iter().find(|r| r.kind == "node-not-ready" && r.node == Some(node)).unwrap().time_ms;
    let mut order: Vec<usize> = (3..6).collect();
    order.sort_by_key(|&n| not_ready(n));
    let partial_at = not_ready(order[2]);
    let mut token_at = 0;
    for &node in &order[..2] {
        let at = passes.after(not_ready(node)).max(token_at);
        if at < partial_at {
            assert_eq!(tainted(node), vec![at], "node {node}");
            token_at = at + 10 * MS_PER_S;
        } else {
            assert!(tainted(node).iter().all(|&t| t >= 15 * MS_PER_H), "node {node} tainted while partially disrupted");
        }
    }
    assert!(tainted(order[2]).iter().all(|&t| t >= 15 * MS_PER_H), "tainted in a partially disrupted zone");
    // zone-a fully down while zone-b is healthy: its nodes are tainted at
    // the primary rate, 10 s apart.
    let mut zone_a: Vec<Millis> = (0..3).flat_map(tainted).filter(|&t| t >= 20 * MS_PER_H).collect();
    zone_a.sort_unstable();
    assert_eq!(zone_a.len(), 3);
    assert!(zone_a.windows(2).all(|w| w[1] - w[0] >= 10 * MS_PER_S), "{zone_a:?}");
}

fn three_members_and_workers(extra: &str) -> Scenario {
    members_and_workers(
        2,
        &format!("[[apps]]\nname = \"web\"\nclass = \"flexible\"\ncpu = 1\nstartup = \"20s\"\n{extra}"),
    )
}

#[test]
fn regression_members_back_together_are_not_tainted_by_the_catch_up() {
    let sc = three_members_and_workers("[[events]]\nat = \"100h\"\nfail = \"domain:rack\"\nduration = \"1h\"");
    let (_, trace) = traced(&sc);
    assert_eq!(times(&trace, "quorum-regained"), vec![101 * MS_PER_H]);
    assert!(
        !trace.iter().any(|r| r.kind == "taint" && r.node.is_some_and(|n| n < 3)),
        "a member that came back in the same instant was tainted"
    );
}

#[test]
fn regression_a_container_restarted_in_place_serves_without_quorum() {
    let sc = three_members_and_workers(
        "[[events]]\nat = \"100h\"\nfail = \"node:cp-1\"\nduration = \"2h\"\n\
         [[events]]\nat = \"100h\"\nfail = \"node:cp-2\"\nduration = \"2h\"\n\
         [[events]]\nat = \"101h\"\nfail = \"app:web\"",
    );
    let (outcome, _) = traced(&sc);
    // The kubelet restarts it at once (its first crash: no back-off entry);
    // it starts in 20 s and keeps its endpoints: no control-plane write is
    // needed.
    assert_eq!(outcome.apps[0].downtime_ms, 20 * MS_PER_S);
}

#[test]
fn regression_a_replacement_pod_starts_without_the_old_pods_back_off() {
    let text = r#"
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
        [kubernetes]
        eviction_toleration = "30s"
        [[apps]]
        name = "db"
        class = "flexible"
        startup = "20s"
        [[events]]
        at = "100h"
        fail = "app:db"
        [[events]]
        at = "100h5m"
        fail = "node:n-1"
        duration = "4h"
        [[events]]
        at = "100h8m"
        fail = "app:db"
        "#;
    let (_, trace) = traced(&scenario(text));
    // The replacement is running by about 100h6m50s. Had it inherited the
    // old pod's entry (last restart at 100 h, not expired at 100h8m), its
    // crash would wait 10 s; as a new pod it restarts at once.
    assert!(times(&trace, "pod-evicted")[0] < 100 * MS_PER_H + 7 * MS_PER_MIN);
    let delays: Vec<&str> = trace.iter().filter(|r| r.kind == "back-off").map(|r| r.detail.as_str()).collect();
    assert_eq!(delays, vec!["restart in 0 ms", "restart in 0 ms"]);
}
