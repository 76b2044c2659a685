//! The node lifecycle controller and the scheduler against the Kubernetes
//! source (issue 11, items 1 to 6): scripted failures whose timings follow
//! from `pkg/controller/nodelifecycle/node_lifecycle_controller.go`,
//! `pkg/controller/nodelifecycle/scheduler/rate_limited_queue.go`,
//! `pkg/controller/tainteviction/taint_eviction.go` and the kubelet's pod
//! sources (`pkg/kubelet/config`), exact to the millisecond. The derivations
//! are in each test's comment; `Passes` (common.rs) re-derives the monitor
//! passes.

use crate::common::{Passes, bin, members_and_workers, quiet_cluster, repo, scenario, traced, write};
use clustersim::metrics::{Cause, TraceRecord};
use clustersim::model::{Kubernetes, Scenario};
use clustersim::time::{MS_PER_H, MS_PER_MIN, MS_PER_S, Millis};

fn times(trace: &[TraceRecord], kind: &str, node: usize) -> Vec<Millis> {
    trace.iter().filter(|r| r.kind == kind && r.node == Some(node)).map(|r| r.time_ms).collect()
}

fn first(trace: &[TraceRecord], kind: &str, node: usize) -> Millis {
    *times(trace, kind, node).first().unwrap_or_else(|| panic!("no {kind} for node {node}"))
}

const T: Millis = 100 * MS_PER_H;

/// Three 4-CPU nodes and `body`, with a lease renewal every millisecond so
/// that the last renewal is the crash itself (only the passes remain).
fn exact_cluster(strategy: &str, nodes: u32, kube: &str, body: &str) -> Scenario {
    quiet_cluster(strategy, nodes, "", &format!("[kubernetes]\nlease_renew_interval = \"1ms\"\n{kube}\n{body}"))
}

/// The NotReady mark and the taint of a node that crashed at `crash`, its
/// zone's token being there: Unknown at the first pass at or after the
/// pass that saw the last renewal plus the grace period
/// (`tryUpdateNodeHealth`), queued and tainted at the next pass
/// (`processTaintBaseEviction` sees the Unknown condition only then).
fn mark_and_taint(passes: &Passes, crash: Millis) -> (Millis, Millis) {
    let mark = passes.not_ready(crash);
    (mark, passes.after(mark))
}

/// Item 1. kube-scheduler filters on taints (the TaintToleration and
/// NodeUnschedulable plugins), not on the Ready condition: n-2 crashes 20 s
/// before n-1's pod is evicted and is not NotReady yet, so first-fit binds the
/// replacement to n-2. It cannot start there; n-2 is marked, tainted (2 of 3
/// NotReady: Normal, token there) and its pods, this one included, are evicted
/// the toleration later (`tainteviction.processPodOnNode` schedules every pod
/// of the node from the taint). The pod then starts on n-3.
#[test]
fn a_pod_bound_to_a_crashed_node_before_its_not_ready_mark_waits_for_that_nodes_eviction() {
    let body = |n2_at: Millis| {
        format!(
            "[[apps]]\nname = \"a\"\nclass = \"flexible\"\nstartup = \"45s\"\n\
             [[events]]\nat = \"{T}ms\"\nfail = \"node:n-1\"\nduration = \"4h\"\n\
             [[events]]\nat = \"{n2_at}ms\"\nfail = \"node:n-2\"\nduration = \"4h\""
        )
    };
    let probe = exact_cluster("first-fit", 3, "", &body(T + 10 * MS_PER_H));
    let passes = Passes::of(&probe);
    let (_, taint1) = mark_and_taint(&passes, T);
    let evicted1 = taint1 + 300 * MS_PER_S;
    let n2_crash = evicted1 - 20 * MS_PER_S;
    let sc = exact_cluster("first-fit", 3, "", &body(n2_crash));
    let (outcome, trace) = traced(&sc);
    assert_eq!(first(&trace, "pod-evicted", 0), evicted1);
    let bound = trace.iter().find(|r| r.kind == "pod-scheduled" && r.time_ms == evicted1).expect("rescheduled");
    assert_eq!(bound.node, Some(1), "bound to the crashed n-2, still untainted");
    assert!(bound.detail.contains("down"), "{}", bound.detail);
    let (mark2, taint2) = mark_and_taint(&passes, n2_crash);
    assert!(mark2 > evicted1, "n-2 must not be NotReady yet at {evicted1}: {mark2}");
    assert_eq!(first(&trace, "taint", 1), taint2);
    let evicted2 = taint2 + 300 * MS_PER_S;
    assert_eq!(first(&trace, "pod-evicted", 1), evicted2);
    let last = trace.iter().rfind(|r| r.kind == "pod-scheduled").unwrap();
    assert_eq!((last.time_ms, last.node), (evicted2, Some(2)));
    assert_eq!(outcome.apps[0].downtime_ms, evicted2 + 45 * MS_PER_S - T);
}

/// Item 2. A returning kubelet posts Ready; the controller sees it at its
/// next pass (`markNodeAsReachable` in `processTaintBaseEviction`), which
/// lifts the NoExecute taint and cancels the evictions
/// (`tainteviction.handleNodeUpdate`). With a 302 s toleration the eviction
/// falls 2 s after a pass: a node back 3 s before it is seen Ready in time,
/// one back 1 s before is not, and its pod (already restarting there) is
/// evicted and bound again to n-1, whose NoSchedule taint went with the
/// kubelet's post. With passes at every instant both are in time.
#[test]
fn a_returning_node_is_seen_ready_at_the_next_pass_and_an_eviction_due_before_it_happens() {
    let body = |outage: Millis| {
        format!(
            "[[apps]]\nname = \"a\"\nclass = \"flexible\"\nstartup = \"45s\"\n\
             [[events]]\nat = \"{T}ms\"\nfail = \"node:n-1\"\nduration = \"{outage}ms\""
        )
    };
    for period in ["5s", "0s"] {
        let kube = format!("eviction_toleration = \"302s\"\nnode_monitor_period = \"{period}\"");
        let passes = Passes::of(&exact_cluster("first-fit", 3, &kube, &body(MS_PER_H)));
        let (_, taint) = mark_and_taint(&passes, T);
        let evict = taint + 302 * MS_PER_S;
        for back_before in [3 * MS_PER_S, MS_PER_S] {
            let back = evict - back_before;
            let sc = exact_cluster("first-fit", 3, &kube, &body(back - T));
            let (outcome, trace) = traced(&sc);
            let seen = passes.after(back);
            assert_eq!(first(&trace, "node-seen-ready", 0), seen, "period {period}");
            let evicted = !times(&trace, "pod-evicted", 0).is_empty();
            assert_eq!(evicted, seen > evict, "period {period}, back {back_before} ms early");
            let ready_at = if evicted { evict + 45 * MS_PER_S } else { back + 45 * MS_PER_S };
            assert_eq!(outcome.apps[0].downtime_ms, ready_at - T, "period {period}, back {back_before} ms early");
            if evicted {
                let last = trace.iter().rfind(|r| r.kind == "pod-scheduled").unwrap();
                assert_eq!((last.time_ms, last.node), (evict, Some(0)), "rebound to the returned node");
            }
        }
    }
}

/// Item 3, into PartialDisruption: a zone of 60 nodes (more than
/// `large_cluster_size_threshold`). n-1 is tainted at its pass and takes the
/// token (the next is 10 s later). 33 more nodes are marked at the next pass:
/// 34 of 60 NotReady is PartialDisruption, and `setLimiterInZone` swaps in
/// the secondary rate, 0.01/s. The old bucket has no token, so `SwapLimiter`
/// drains the new one: the next taint comes 100 s after the swap, not at the
/// old token 5 s later. Back to Normal when 20 of them return: the limiter
/// at 0.01/s is empty again, the new one at 0.1/s is drained, the next taint
/// 10 s after that pass instead of up to 100 s.
#[test]
fn a_zone_changing_state_swaps_its_limiter_as_swaplimiter_does() {
    let body = |early_back: Millis| {
        let mut body = String::from("[[apps]]\nname = \"a\"\nclass = \"flexible\"\n");
        body += &format!("[[events]]\nat = \"{T}ms\"\nfail = \"node:n-1\"\nduration = \"10h\"\n");
        for n in 2..=34 {
            let outage = if n <= 21 { early_back } else { MS_PER_H };
            body += &format!(
                "[[events]]\nat = \"{}ms\"\nfail = \"node:n-{n}\"\nduration = \"{outage}ms\"\n",
                T + 10 * MS_PER_S
            );
        }
        body
    };
    let passes = Passes::of(&exact_cluster("first-fit", 60, "", &body(10 * MS_PER_MIN)));
    // The early group's return must not fall on a pass, where a token could
    // come between the kubelet's post and the pass that sees it.
    let mut early_back = 10 * MS_PER_MIN;
    if passes.at_or_after(T + 10 * MS_PER_S + early_back) == T + 10 * MS_PER_S + early_back {
        early_back += 1;
    }
    let sc = exact_cluster("first-fit", 60, "", &body(early_back));
    let (_, trace) = traced(&sc);
    let (mark1, taint1) = mark_and_taint(&passes, T);
    assert_eq!(first(&trace, "taint", 0), taint1);
    let (mark_others, _) = mark_and_taint(&passes, T + 10 * MS_PER_S);
    assert_eq!(mark_others, mark1 + 10 * MS_PER_S);
    assert_eq!(mark_others, taint1 + 5 * MS_PER_S, "marked while n-1's token is spent");
    let mut taints: Vec<(Millis, usize)> =
        (1..34).flat_map(|n| times(&trace, "taint", n).into_iter().map(move |t| (t, n))).collect();
    taints.sort_unstable();
    let back_seen = passes.after(T + 10 * MS_PER_S + early_back);
    // Partial from `mark_others`: one taint every 100 s from 100 s after it,
    // in queue order (node order at one pass), until the early group is seen
    // back.
    let mut expected = Vec::new();
    let mut at = mark_others + 100 * MS_PER_S;
    let mut node = 1;
    while at < back_seen {
        expected.push((at, node));
        at += 100 * MS_PER_S;
        node += 1;
    }
    // Normal again at `back_seen` (14 of 60 NotReady): the queue's head is
    // n-22 (index 21), the early group having left it; 10 s, then 10 s each.
    let mut at = back_seen + 10 * MS_PER_S;
    for node in 21..34 {
        expected.push((at, node));
        at += 10 * MS_PER_S;
    }
    assert_eq!(taints, expected);
}

/// Item 3, the upstream quirk kept: the never-limiter of a rate-0 state
/// reports 1 QPS (`fakeNeverRateLimiter.QPS`), so with `eviction_rate = 1`
/// exactly, `SwapLimiter(1)` on leaving PartialDisruption changes nothing and
/// the zone never taints again; at any other rate the first taint comes
/// 1/rate after the swap.
#[test]
fn leaving_a_rate_0_state_taints_one_interval_later_except_at_exactly_one_per_second() {
    // 5 nodes: n-1..n-3 fail together (3 of 5: PartialDisruption, rate 0 at
    // 50 nodes or fewer), n-1 returns after 2 h.
    let body = "[[apps]]\nname = \"a\"\nclass = \"flexible\"\n\
                [[events]]\nat = \"100h\"\nfail = \"node:n-1\"\nduration = \"2h\"\n\
                [[events]]\nat = \"100h\"\nfail = \"node:n-2\"\nduration = \"20h\"\n\
                [[events]]\nat = \"100h\"\nfail = \"node:n-3\"\nduration = \"20h\"\n";
    for (rate, interval) in [(0.1, Some(10 * MS_PER_S)), (0.5, Some(2 * MS_PER_S)), (1.0, None)] {
        let sc = exact_cluster("first-fit", 5, &format!("eviction_rate = {rate}"), body);
        let passes = Passes::of(&sc);
        let (_, trace) = traced(&sc);
        assert!((0..3).all(|n| times(&trace, "taint", n).is_empty() || times(&trace, "taint", n)[0] > T + MS_PER_H));
        let swap = passes.after(T + 2 * MS_PER_H);
        let mut taints: Vec<Millis> = (1..3).flat_map(|n| times(&trace, "taint", n)).collect();
        taints.sort_unstable();
        match interval {
            Some(i) => assert_eq!(taints, vec![swap + i, swap + 2 * i], "rate {rate}"),
            None => assert!(taints.is_empty(), "rate 1: {taints:?}"),
        }
    }
}

/// `TestMonitorNodeHealthEvictPodsWithDisruption` in
/// `node_lifecycle_controller_test.go`, case by case: which zones are down
/// and whether the pods of the down nodes are evicted. Zones are `zone`
/// domains; `down` lists the nodes that fail at 100 h for 10 h, `back` a node
/// that returns at 101 h. Upstream's partial case overrides the reduced rate;
/// here the real `ReducedQPSFunc` applies (5 nodes: rate 0, no eviction).
#[test]
fn upstream_disruption_cases_evict_as_the_controller_does() {
    struct Case {
        name: &'static str,
        zones: &'static [(&'static str, u32)],
        down: &'static [&'static str],
        back: Option<&'static str>,
        evicted: bool,
    }
    let cases = [
        Case {
            name: "Network Disruption: Only zone is down - eviction shouldn't take place.",
            zones: &[("z1", 2)],
            down: &["z1-1", "z1-2"],
            back: None,
            evicted: false,
        },
        Case {
            name: "Network Disruption: Both zones down - eviction shouldn't take place.",
            zones: &[("z1", 1), ("z2", 1)],
            down: &["z1-1", "z2-1"],
            back: None,
            evicted: false,
        },
        Case {
            name: "Network Disruption: One zone is down - eviction should take place.",
            zones: &[("z1", 1), ("z2", 1)],
            down: &["z1-1"],
            back: None,
            evicted: true,
        },
        Case {
            name: "Initially both zones down, one comes back - eviction should take place",
            zones: &[("z1", 1), ("z2", 1)],
            down: &["z1-1", "z2-1"],
            back: Some("z2-1"),
            evicted: true,
        },
        Case {
            name: "Zone is partially disrupted (real reduced rate: 0 at 5 nodes)",
            zones: &[("z1", 5)],
            down: &["z1-1", "z1-2", "z1-3"],
            back: None,
            evicted: false,
        },
    ];
    for case in cases {
        // One lease renewal a millisecond: every node that fails is marked
        // at the same pass, as every condition changes in one pass upstream.
        let mut text = String::from(
            "horizon = \"30d\"\nreplications = 1\nstrategies = [\"first-fit\"]\n\
             [kubernetes]\nlease_renew_interval = \"1ms\"\n[node_defaults]\ncpu = 4\nmemory = \"8Gi\"\nfailure = \"never\"\nrepair = \"never\"\n",
        );
        for (zone, count) in case.zones {
            text += &format!("[[nodes]]\nname = \"{zone}\"\ncount = {count}\nlabels = {{ zone = \"{zone}\" }}\n");
            text += &format!("[[domains]]\nname = \"{zone}\"\nkind = \"zone\"\nselector = {{ zone = \"{zone}\" }}\n");
        }
        text += "[[apps]]\nname = \"a\"\nclass = \"flexible\"\n";
        for node in case.down {
            let duration = if case.back == Some(node) { "1h" } else { "10h" };
            text += &format!("[[events]]\nat = \"100h\"\nfail = \"node:{node}\"\nduration = \"{duration}\"\n");
        }
        let sc = scenario(&text);
        let (_, trace) = traced(&sc);
        let down: Vec<usize> = case.down.iter().map(|d| sc.nodes.iter().position(|n| n.name == *d).unwrap()).collect();
        let evicted = trace.iter().any(|r| {
            r.kind == "evict-pods"
                && r.node.is_some_and(|n| down.contains(&n) && Some(sc.nodes[n].name.as_str()) != case.back)
        });
        assert_eq!(evicted, case.evicted, "{}", case.name);
    }
}

/// Item 4: `kubernetes.version` sets the defaults of its release; a key set
/// by hand wins; without a version the newest release's apply, and
/// `validate` says which.
#[test]
fn the_version_sets_its_releases_defaults_and_validate_names_it() {
    let grace = |kube: &str| {
        let sc = quiet_cluster(
            "spread",
            1,
            "",
            &format!("[[apps]]\nname = \"a\"\nclass = \"flexible\"\n[kubernetes]\n{kube}"),
        );
        sc.kube.node_monitor_grace_period_ms / MS_PER_S
    };
    // PR 126287, CHANGELOG-1.32: 40 s up to 1.31, 50 s from 1.32.
    for (version, expected) in [("1.30", 40), ("1.31", 40), ("1.32", 50), ("1.33", 50), ("1.34", 50), ("1.35", 50)] {
        assert_eq!(grace(&format!("version = \"{version}\"")), expected, "{version}");
    }
    assert_eq!(grace(""), 50, "the newest release by default");
    assert_eq!(grace("version = \"1.31\"\nnode_monitor_grace_period = \"45s\""), 45, "a key set by hand wins");
    assert_eq!(Kubernetes::default().version(), "1.35");
    assert_eq!(Kubernetes::default().node_monitor_period_ms, 5 * MS_PER_S, "--node-monitor-period");
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(repo().join("tests/bad/an-unknown-kubernetes-key.toml")).unwrap();
    let base = base.replace("grace_period = \"40s\"", "");
    for (extra, says) in
        [("version = \"1.31\"", "kubernetes 1.31 defaults ("), ("", "kubernetes 1.35 defaults, the newest")]
    {
        let path = write(dir.path(), "v.toml", &format!("{base}{extra}\n"));
        let out = bin().arg("validate").arg(&path).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(says), "{stdout}");
        let grace = if extra.is_empty() { "grace period 50s" } else { "grace period 40s" };
        assert!(stdout.contains(grace), "{stdout}");
    }
}

/// The cluster of common.rs with three workers and one taint every 1000 s.
fn slow_members_and_workers(body: &str) -> Scenario {
    members_and_workers(3, &format!("[kubernetes]\neviction_rate = 0.001\n{body}"))
}

/// Item 5. The kubelet learns its pods from the API server (the `api` source
/// of `makePodSourceConfig`; only static pods come from files): w-1 reboots
/// at 1h40m while cp-1 and cp-2 are down (no quorum until 3 h), so Home
/// Assistant, pinned to w-1, starts only when quorum returns, and is Ready
/// its start-up time (30 s) later.
#[test]
fn a_node_rebooting_without_quorum_starts_its_pods_only_when_quorum_returns() {
    let sc = slow_members_and_workers(
        r#"
        [[apps]]
        name = "hass"
        class = "node-bound"
        node = "w-1"
        startup = "30s"
        [[events]]
        at = "1h"
        fail = "node:cp-1"
        duration = "2h"
        [[events]]
        at = "1h"
        fail = "node:cp-2"
        duration = "2h"
        [[events]]
        at = "1h30m"
        fail = "node:w-1"
        duration = "10m"
        "#,
    );
    let (outcome, trace) = traced(&sc);
    let pod_ready: Vec<Millis> = trace.iter().filter(|r| r.kind == "pod-ready").map(|r| r.time_ms).collect();
    assert_eq!(pod_ready, vec![3 * MS_PER_H + 30 * MS_PER_S], "started at the quorum's return, not at the reboot");
    let hass = &outcome.apps[0];
    assert_eq!(hass.downtime_ms, 90 * MS_PER_MIN + 30 * MS_PER_S);
    assert_eq!(hass.cause_ms[Cause::ControlPlane.index()], 80 * MS_PER_MIN, "from the reboot to the quorum");
    assert_eq!(hass.cause_ms[Cause::Startup.index()], 30 * MS_PER_S);
}

/// Item 6, first trace detail: the quorum's loss is told once the whole
/// event is handled, with the members then up: a rack taking all three is
/// "0 of 3" (it said "1 of 3", counting mid-way), one taking two is "1 of 3".
#[test]
fn regression_quorum_lost_counts_the_members_after_the_whole_failure() {
    let rack = slow_members_and_workers(
        "[[apps]]\nname = \"a\"\nclass = \"flexible\"\n[[events]]\nat = \"1h\"\nfail = \"domain:rack\"\nduration = \"1h\"",
    );
    let two = slow_members_and_workers(
        "[[apps]]\nname = \"a\"\nclass = \"flexible\"\n[[events]]\nat = \"1h\"\nfail = \"node:cp-1\"\nduration = \"1h\"\n\
         [[events]]\nat = \"1h\"\nfail = \"node:cp-2\"\nduration = \"1h\"",
    );
    for (sc, expected) in [(rack, "0 of 3 members up"), (two, "1 of 3 members up")] {
        let (_, trace) = traced(&sc);
        let lost: Vec<&str> = trace.iter().filter(|r| r.kind == "quorum-lost").map(|r| r.detail.as_str()).collect();
        assert_eq!(lost, vec![expected]);
        let regained: Vec<Millis> = trace.iter().filter(|r| r.kind == "quorum-regained").map(|r| r.time_ms).collect();
        assert_eq!(regained, vec![2 * MS_PER_H]);
    }
}

/// Item 6, second trace detail: w-2 is tainted at its NotReady mark and
/// takes the token (one every 1000 s); w-1, marked a minute later, waits in
/// the queue. Quorum is lost at 70 m (the rack of all three members fails);
/// w-1 returns at 81 m; when the rack returned at 100 m, the third member's
/// return (with quorum, before the catch-up) ran the taint queue without
/// looking at w-1's condition and tainted it, back for 19 minutes (the binary
/// before this fix did, on this scenario). `doNoExecuteTaintingPass` skips a node whose Ready condition is
/// True (spending the token), and the pass after the catch-up sees it Ready.
#[test]
fn regression_a_node_that_came_back_is_not_tainted_when_quorum_returns() {
    let sc = slow_members_and_workers(
        r#"
        [[apps]]
        name = "web"
        class = "flexible"
        [[events]]
        at = "1h"
        fail = "node:w-2"
        duration = "3h"
        [[events]]
        at = "1h1m"
        fail = "node:w-1"
        duration = "20m"
        [[events]]
        at = "1h10m"
        fail = "domain:rack"
        duration = "30m"
        "#,
    );
    let (_, trace) = traced(&sc);
    assert_eq!(times(&trace, "taint", 4).len(), 1, "w-2 tainted once");
    assert!(times(&trace, "node-not-ready", 3).len() == 1, "w-1 was NotReady");
    assert!(times(&trace, "taint", 3).is_empty(), "w-1 came back at 81 m and must not be tainted");
    let passes = Passes::of(&sc);
    assert_eq!(times(&trace, "node-seen-ready", 3), vec![passes.after(100 * MS_PER_MIN)]);
}

/// Review of item 2: an eviction that comes due after the node is back but
/// before the pass that sees it Ready finds a live kubelet, which stops the
/// pods and confirms their deletion. A StatefulSet pod is then replaced at
/// once (not left "terminating" on a live node), and a zfs-replicated volume
/// whose active side is that node is not promoted (its data is there).
#[test]
fn regression_an_eviction_on_a_node_back_but_not_yet_seen_ready_treats_it_as_alive() {
    let kube = "eviction_toleration = \"302s\"";
    let body = |app: &str, outage: Millis| {
        format!("{app}[[events]]\nat = \"{T}ms\"\nfail = \"node:n-1\"\nduration = \"{outage}ms\"\n")
    };
    let statefulset = "[[apps]]\nname = \"a\"\nclass = \"flexible\"\nkind = \"statefulset\"\nstartup = \"45s\"\n";
    let replicated = "[[volumes]]\nname = \"data\"\nbackend = \"zfs-replicated\"\nnode = \"n-1\"\nreplica_node = \"n-2\"\n\
                      [[apps]]\nname = \"a\"\nclass = \"flexible\"\nstartup = \"45s\"\nvolumes = [\"data\"]\n";
    for app in [statefulset, replicated] {
        let passes = Passes::of(&exact_cluster("first-fit", 3, kube, &body(app, MS_PER_H)));
        let (_, taint) = mark_and_taint(&passes, T);
        let evict = taint + 302 * MS_PER_S;
        let sc = exact_cluster("first-fit", 3, kube, &body(app, evict - MS_PER_S - T));
        let (outcome, trace) = traced(&sc);
        assert!(first(&trace, "node-seen-ready", 0) > evict, "the eviction comes first");
        assert_eq!(first(&trace, "pod-evicted", 0), evict);
        assert!(!trace.iter().any(|r| r.kind == "pod-terminating"), "left terminating on a live node");
        assert!(!trace.iter().any(|r| r.kind == "failover-start"), "promoted away from a live primary");
        assert_eq!(outcome.apps[0].data_loss_incidents, 0);
        // Replaced at once, on n-1 again (first-fit), Ready 45 s later.
        let last = trace.iter().rfind(|r| r.kind == "pod-scheduled").unwrap();
        assert_eq!((last.time_ms, last.node), (evict, Some(0)));
        assert_eq!(outcome.apps[0].downtime_ms, evict + 45 * MS_PER_S - T);
    }
}

/// Review of item 5: the attach-detach controller writes VolumeAttachments
/// through the API, so a detach that comes due without quorum waits for it.
/// w-1 fails at 1 h with a block volume; its pod is evicted at about 1h6m
/// and force-deleted a minute later; the force detach is due 6 minutes after
/// that, at about 1h13m, but quorum is lost from 1h10m to 2h10m: the volume
/// is detached at the catch-up and the replacement, waiting on w-2, is Ready
/// its 30 s start-up later.
#[test]
fn regression_a_detach_due_without_quorum_waits_for_it() {
    let sc = members_and_workers(
        3,
        r#"
        [kubernetes]
        pod_force_delete_after = "1m"
        [[volumes]]
        name = "data"
        backend = "block"
        [[apps]]
        name = "db"
        class = "flexible"
        cpu = 1
        startup = "30s"
        volumes = ["data"]
        [[events]]
        at = "1h"
        fail = "node:w-1"
        duration = "4h"
        [[events]]
        at = "1h10m"
        fail = "node:cp-1"
        duration = "1h"
        [[events]]
        at = "1h10m"
        fail = "node:cp-2"
        duration = "1h"
        "#,
    );
    let (outcome, trace) = traced(&sc);
    let evicted = first(&trace, "pod-evicted", 3);
    assert!(evicted + 7 * MS_PER_MIN > 70 * MS_PER_MIN, "the detach must come due without quorum");
    let detached: Vec<Millis> = trace.iter().filter(|r| r.kind == "volume-detached").map(|r| r.time_ms).collect();
    assert_eq!(detached, vec![130 * MS_PER_MIN]);
    assert_eq!(outcome.apps[0].downtime_ms, 130 * MS_PER_MIN + 30 * MS_PER_S - MS_PER_H);
}

/// Review of item 5: w-1 returns during a quorum outage, so it never posts
/// Ready and stays Unknown; when it fails again at 1h20m there is no new
/// NotReady mark, but the operator's out-of-service reaction (10 minutes)
/// starts again for this outage: at the catch-up (3h2m) the taint is added
/// and PodGC (within 20 s) deletes the StatefulSet pod, which is replaced on
/// w-2 and Ready 30 s later, instead of waiting for w-1 until 11h20m.
#[test]
fn regression_a_node_down_again_while_still_not_ready_gets_the_out_of_service_taint() {
    let sc = members_and_workers(
        3,
        r#"
        [kubernetes]
        out_of_service_after = "10m"
        [[apps]]
        name = "db"
        class = "flexible"
        kind = "statefulset"
        cpu = 1
        startup = "30s"
        [[events]]
        at = "1h"
        fail = "node:w-1"
        duration = "5m"
        [[events]]
        at = "1h2m"
        fail = "node:cp-1"
        duration = "2h"
        [[events]]
        at = "1h2m"
        fail = "node:cp-2"
        duration = "2h"
        [[events]]
        at = "1h20m"
        fail = "node:w-1"
        duration = "10h"
        "#,
    );
    let (outcome, trace) = traced(&sc);
    assert_eq!(times(&trace, "node-not-ready", 3).len(), 1, "one NotReady mark: it never posted Ready");
    let oos: Vec<Millis> = trace.iter().filter(|r| r.kind == "out-of-service").map(|r| r.time_ms).collect();
    assert_eq!(oos, vec![90 * MS_PER_MIN], "drawn again at the second failure");
    let downtime = outcome.apps[0].downtime_ms;
    let from_catch_up = 122 * MS_PER_MIN + 30 * MS_PER_S;
    assert!(
        (from_catch_up..=from_catch_up + 20 * MS_PER_S).contains(&downtime),
        "down {downtime} ms: until the catch-up, a PodGC pass and the start-up"
    );
}

/// Review of item 2: a node seen Ready leaves its zone's taint queue
/// (`markNodeAsReachable` calls `Remove`), so when it fails again it queues
/// at the back. n-1, n-2 and n-3 fail together: n-1 takes the token (one
/// every 1000 s), n-2 and n-3 wait in that order; n-3 is back at 1h5m
/// (seen Ready, behind n-2 in the queue); n-4 fails at 1h6m, n-3 again at
/// 1h8m. The tokens go to n-2, then n-4, then n-3 (4 of 10 NotReady: the
/// zone stays Normal).
#[test]
fn regression_a_node_seen_ready_leaves_the_taint_queue() {
    let sc = exact_cluster(
        "first-fit",
        10,
        "eviction_rate = 0.001",
        "[[apps]]\nname = \"a\"\nclass = \"flexible\"\n\
         [[events]]\nat = \"1h\"\nfail = \"node:n-1\"\nduration = \"10h\"\n\
         [[events]]\nat = \"1h\"\nfail = \"node:n-2\"\nduration = \"10h\"\n\
         [[events]]\nat = \"1h\"\nfail = \"node:n-3\"\nduration = \"5m\"\n\
         [[events]]\nat = \"1h6m\"\nfail = \"node:n-4\"\nduration = \"10h\"\n\
         [[events]]\nat = \"1h8m\"\nfail = \"node:n-3\"\nduration = \"10h\"",
    );
    let (_, trace) = traced(&sc);
    let taint1 = first(&trace, "taint", 0);
    assert_eq!(times(&trace, "taint", 1), vec![taint1 + 1000 * MS_PER_S]);
    assert_eq!(times(&trace, "taint", 3), vec![taint1 + 2000 * MS_PER_S]);
    assert_eq!(times(&trace, "taint", 2), vec![taint1 + 3000 * MS_PER_S]);
}
