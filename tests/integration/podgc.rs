//! Pod objects left on an unreachable node and PodGC: the cases of
//! pkg/controller/podgc/gc_controller_test.go (`TestGCTerminating`,
//! `TestGCOrphaned`) that a cluster of crashing nodes can reach, run as
//! scripted StatefulSet failures. A StatefulSet pod is replaced only once its
//! object is gone, so the replacement's scheduling time is the deletion time.

use crate::common::{quiet_cluster, traced};
use clustersim::metrics::TraceRecord;
use clustersim::time::{MS_PER_H, MS_PER_MIN, MS_PER_S, Millis};

const FAIL_AT: Millis = 100 * MS_PER_H;
const STARTUP_MS: Millis = 20 * MS_PER_S;
/// podgc `gcCheckPeriod` and `quarantineTime`.
const GC_PERIOD_MS: Millis = 20 * MS_PER_S;
const QUARANTINE_MS: Millis = 40 * MS_PER_S;

fn times(trace: &[TraceRecord], kind: &str) -> Vec<Millis> {
    trace.iter().filter(|r| r.kind == kind).map(|r| r.time_ms).collect()
}

fn first(trace: &[TraceRecord], kind: &str) -> Millis {
    *times(trace, kind).first().unwrap_or_else(|| panic!("no {kind} in the trace"))
}

/// The first PodGC pass at or after `t`, which must come within one period.
fn pass_after(trace: &[TraceRecord], t: Millis) -> Millis {
    let pass = *times(trace, "pod-gc").iter().find(|&&p| p >= t).expect("a PodGC pass");
    assert!(pass - t < GC_PERIOD_MS, "pass {pass} more than gcCheckPeriod after {t}");
    pass
}

/// When PodGC must delete the pod, from the run's trace; `None`: never (the
/// pod is replaced, or restarts, when n-1 returns).
type Deletion = Option<fn(&[TraceRecord]) -> Millis>;

struct Case {
    /// The upstream case it follows.
    name: &'static str,
    kube: &'static str,
    outage_ms: Millis,
    deletion: Deletion,
    /// Trace kinds that must appear.
    seen: &'static [&'static str],
}

/// One StatefulSet pod (20 s start) on n-1 of three nodes; n-1 crashes at
/// 100 h for `outage_ms`.
fn check(case: &Case) {
    let sc = quiet_cluster(
        "first-fit",
        3,
        "",
        &format!(
            "[[apps]]\nname = \"db\"\nclass = \"flexible\"\nkind = \"statefulset\"\nstartup = \"20s\"\n\
             [[events]]\nat = \"100h\"\nfail = \"node:n-1\"\nduration = \"{}ms\"\n[kubernetes]\n{}",
            case.outage_ms, case.kube
        ),
    );
    let (outcome, trace) = traced(&sc);
    for kind in case.seen {
        assert!(!times(&trace, kind).is_empty(), "{}: no {kind}", case.name);
    }
    let deleted = times(&trace, "pod-force-deleted");
    match case.deletion {
        Some(expected) => {
            let at = expected(&trace);
            assert_eq!(deleted, vec![at], "{}", case.name);
            assert_eq!(outcome.apps[0].downtime_ms, at + STARTUP_MS - FAIL_AT, "{}", case.name);
        }
        None => {
            assert!(deleted.is_empty(), "{}: deleted at {deleted:?}", case.name);
            assert_eq!(outcome.apps[0].downtime_ms, case.outage_ms + STARTUP_MS, "{}", case.name);
        }
    }
}

#[test]
fn podgc_deletes_terminating_pods_only_on_not_ready_nodes_with_the_out_of_service_taint() {
    // gc_controller.go `gcTerminating`: a pod with a deletionTimestamp on a
    // node that is not Ready and has the `node.kubernetes.io/out-of-service`
    // taint is force-deleted at the pass; the taint is NoExecute, so the
    // taint eviction controller has marked the pods for deletion at the
    // taint (TestGCTerminating keeps pods without a deletionTimestamp).
    let cases = [
        Case {
            name: "pods have deletion timestamp set and the corresponding nodes are not ready",
            kube: "",
            outage_ms: 4 * MS_PER_H,
            deletion: None,
            seen: &["pod-terminating"],
        },
        Case {
            name: "terminating pod on a not-ready node with the out-of-service taint (worker-0)",
            kube: "out_of_service_after = \"10m\"",
            outage_ms: 4 * MS_PER_H,
            deletion: Some(|t| pass_after(t, first(t, "node-not-ready") + 10 * MS_PER_MIN)),
            seen: &["pod-terminating", "out-of-service"],
        },
        Case {
            name: "a pod not yet marked for deletion is evicted by the NoExecute taint, then collected",
            kube: "out_of_service_after = \"0s\"",
            outage_ms: 4 * MS_PER_H,
            deletion: Some(|t| {
                let taint = first(t, "node-not-ready");
                assert_eq!(first(t, "pod-terminating"), taint, "evicted at the taint, not after the toleration");
                pass_after(t, taint)
            }),
            seen: &["out-of-service"],
        },
        Case {
            // Upstream's worker-2 (a Ready node) is not reached this way: the
            // taint is only added to a node still down. Here n-1 is back
            // before the taint, which is then never added.
            name: "a node back before its out-of-service taint: nothing is force-deleted",
            kube: "out_of_service_after = \"10m\"",
            outage_ms: 7 * MS_PER_MIN,
            deletion: None,
            seen: &["pod-terminating"],
        },
    ];
    for case in &cases {
        check(case);
    }
}

#[test]
fn podgc_deletes_the_pods_of_a_deleted_node_after_the_quarantine() {
    // gc_controller.go `gcOrphaned`: a pass finds the pod's node missing and
    // queues it for `quarantineTime` (40 s); a pass after that asks the API
    // server and, the node still gone, force-deletes its pods whatever their
    // phase. The Node object is deleted 1 min after NotReady here, before
    // the eviction (NotReady + 300 s): the pod is still "running".
    let cases = [
        Case {
            name: "no nodes, one running pod",
            kube: "node_delete_after = \"1m\"",
            outage_ms: 4 * MS_PER_H,
            deletion: Some(|t| {
                let deleted = first(t, "node-deleted");
                assert_eq!(deleted, first(t, "node-not-ready") + MS_PER_MIN);
                let queued = pass_after(t, deleted);
                assert_eq!(first(t, "pod-gc-quarantine"), queued);
                assert!(times(t, "pod-terminating").is_empty(), "deleted before its eviction");
                queued + QUARANTINE_MS
            }),
            seen: &["node-deleted"],
        },
        Case {
            // NotReady 40-55 s after the crash, the deletion 1 min later
            // (1m40s-1m55s), queued at the next pass (here before n-1
            // returns: the test sees the quarantine), the check 40 s after
            // that (after 2m20s): n-1 re-registers at 2m05s, the GET finds
            // it and nothing is deleted.
            name: "node added to client after quarantine / quarantine not finished",
            kube: "node_delete_after = \"1m\"",
            outage_ms: 2 * MS_PER_MIN + 5 * MS_PER_S,
            deletion: None,
            seen: &["node-deleted", "pod-gc-quarantine"],
        },
        Case {
            // The Node object is still there (n-1 is back at 5 min, before
            // its deletion at NotReady + 10 min): not orphaned, nothing
            // deleted; the pod restarts on n-1.
            name: "nodes present in lister",
            kube: "node_delete_after = \"10m\"",
            outage_ms: 5 * MS_PER_MIN,
            deletion: None,
            seen: &["node-not-ready"],
        },
    ];
    for case in &cases {
        check(case);
    }
}

#[test]
fn podgc_passes_are_one_period_apart_and_only_happen_when_needed() {
    // No node deletion and no out-of-service taint: PodGC has nothing to
    // look at and costs no event. With both, every pass lies on one grid of
    // `pod_gc_check_period` from the replication's phase.
    let quiet = quiet_cluster(
        "first-fit",
        3,
        "",
        "[[apps]]\nname = \"db\"\nclass = \"flexible\"\n[[events]]\nat = \"100h\"\nfail = \"node:n-1\"\nduration = \"4h\"",
    );
    assert!(times(&traced(&quiet).1, "pod-gc").is_empty());
    let busy = quiet_cluster(
        "first-fit",
        3,
        "",
        "[[apps]]\nname = \"db\"\nclass = \"flexible\"\nkind = \"statefulset\"\n\
         [[events]]\nat = \"100h\"\nfail = \"node:n-1\"\nduration = \"4h\"\n\
         [[events]]\nat = \"200h\"\nfail = \"node:n-2\"\nduration = \"4h\"\n\
         [kubernetes]\nnode_delete_after = \"1m\"\nout_of_service_after = \"3m\"\npod_gc_check_period = \"15s\"",
    );
    let passes = times(&traced(&busy).1, "pod-gc");
    assert!(passes.len() >= 4, "{passes:?}");
    assert!(passes.windows(2).all(|w| (w[1] - w[0]) % (15 * MS_PER_S) == 0), "{passes:?}");
}

#[test]
fn a_force_delete_that_comes_due_without_quorum_happens_at_the_catch_up() {
    // Three etcd members. n-1 (holding the StatefulSet pod) crashes at 100 h
    // and its pod is evicted about 5m35s later; the operator's force delete
    // is due 10 min after that, but n-2 crashed at 100h10m and 2 of 3
    // members are down until 101h10m: `kubectl delete` cannot be written
    // (no quorum, no API write). When n-2 is back the catch-up does it:
    // the pod object goes and the replacement is bound at 101h10m exactly.
    let sc = quiet_cluster(
        "first-fit",
        3,
        "",
        // The body opens inside the `[[nodes]]` table: all three hold a member.
        "control_plane = true\n[[apps]]\nname = \"db\"\nclass = \"flexible\"\nkind = \"statefulset\"\nstartup = \"20s\"\n\
         [[events]]\nat = \"100h\"\nfail = \"node:n-1\"\nduration = \"4h\"\n\
         [[events]]\nat = \"100h10m\"\nfail = \"node:n-2\"\nduration = \"1h\"\n\
         [kubernetes]\npod_force_delete_after = \"10m\"",
    );
    let (outcome, trace) = traced(&sc);
    let terminating = first(&trace, "pod-terminating");
    let quorum_back = FAIL_AT + 70 * MS_PER_MIN;
    assert_eq!(times(&trace, "pod-force-delete"), vec![terminating + 10 * MS_PER_MIN]);
    assert!(terminating + 10 * MS_PER_MIN < quorum_back);
    assert_eq!(times(&trace, "pod-force-deleted"), vec![quorum_back]);
    assert_eq!(outcome.apps[0].downtime_ms, quorum_back + STARTUP_MS - FAIL_AT);
}
