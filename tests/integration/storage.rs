//! Storage backends against closed forms and hand-computed scripted cases
//! (domain.md sections 2, 5, 6 and 8).

use crate::common::{app_unavailability, assert_in_interval, quiet_cluster, scenario, traced, unavailability};
use clustersim::engine::{gluster_serves, simulate};
use clustersim::metrics::{Cause, TraceRecord};
use clustersim::model::GlusterQuorum;
use clustersim::model::Scenario;
use clustersim::placement::Strategy;
use clustersim::time::{MS_PER_H, MS_PER_MIN, MS_PER_S, Millis};

fn volume_unavailability(sc: &Scenario, volume: usize) -> Vec<f64> {
    unavailability(sc, |o| o.volumes[volume].downtime_ms)
}

/// Three nodes (exponential failures, mean 100 h; repairs mean 20 h) and a
/// Gluster volume with no heal debt and no ping-timeout stall, so its
/// availability is the quorum rule over independent bricks.
fn gluster_cluster(volume: &str) -> Scenario {
    scenario(&format!(
        r#"
        horizon = "10y"
        replications = 300
        seed = 21
        [node_defaults]
        cpu = 4
        memory = "8Gi"
        failure = {{ dist = "exponential", mean = "100h" }}
        repair = {{ dist = "exponential", mean = "20h" }}
        [[nodes]]
        name = "n"
        count = 3
        [[volumes]]
        name = "media"
        backend = "gluster"
        write_rate = "0B/s"
        ping_timeout = "0s"
        {volume}
        [[apps]]
        name = "plex"
        class = "flexible"
        volumes = ["media"]
        "#
    ))
}

const A: f64 = 100.0 / 120.0;

#[test]
fn gluster_replica_3_has_the_two_of_three_availability() {
    let sc = gluster_cluster("replicas = 3");
    let available = A.powi(3) + 3.0 * A * A * (1.0 - A);
    assert_in_interval("gluster replica 3", &volume_unavailability(&sc, 0), 1.0 - available);
}

#[test]
fn gluster_replica_2_with_arbiter_needs_two_of_its_three_bricks() {
    let sc = gluster_cluster("replicas = 2\n        arbiter = true");
    // Quorum auto is forced with an arbiter: two of the three bricks, and
    // any two include a data brick.
    let available = A.powi(3) + 3.0 * A * A * (1.0 - A);
    assert_in_interval("gluster replica 2 + arbiter", &volume_unavailability(&sc, 0), 1.0 - available);
}

#[test]
fn gluster_replica_2_under_quorum_auto_is_no_better_than_its_first_brick() {
    // Quorum auto must be asked for on replica 2 (its default is none).
    let sc = gluster_cluster("replicas = 2\n        quorum = \"auto\"");
    assert!(sc.warnings.iter().any(|w| w.contains("not HA")), "{:?}", sc.warnings);
    // Exactly half the bricks keep quorum only with the first brick: the
    // volume is up exactly when the first brick's node is.
    assert_in_interval("gluster replica 2 auto", &volume_unavailability(&sc, 0), 1.0 - A);
}

#[test]
fn gluster_replica_2_defaults_to_quorum_none_and_serves_while_either_brick_is_up() {
    // afr.c `fix_quorum_options`: without `quorum-type`, auto only for more
    // than two bricks. Nothing is written here, so no brick ever lacks
    // data: the volume is up unless both bricks are down, 1 - (1 - a)^2.
    let sc = gluster_cluster("replicas = 2");
    assert!(sc.warnings.iter().any(|w| w.contains("not HA") && w.contains("split-brain")), "{:?}", sc.warnings);
    assert_in_interval("gluster replica 2 none", &volume_unavailability(&sc, 0), (1.0 - A) * (1.0 - A));
}

#[test]
fn a_flexible_app_on_zfs_local_has_the_availability_of_its_node() {
    let sc = scenario(
        r#"
        horizon = "10y"
        replications = 400
        seed = 22
        [node_defaults]
        cpu = 4
        memory = "8Gi"
        failure = { dist = "exponential", mean = "1000h" }
        repair = { dist = "exponential", mean = "10h" }
        [[nodes]]
        name = "n"
        count = 3
        [[volumes]]
        name = "config"
        backend = "zfs-local"
        node = "n-2"
        [[apps]]
        name = "sonarr"
        class = "flexible"
        startup = "0s"
        volumes = ["config"]
        "#,
    );
    assert!(sc.warnings.iter().any(|w| w.contains("behaves as node-bound")), "{:?}", sc.warnings);
    // Not the failover figure: the pod cannot leave n-2.
    assert_in_interval("zfs-local flexible app", &app_unavailability(&sc, 0), 10.0 / 1010.0);
}

fn first(trace: &[TraceRecord], kind: &str) -> Millis {
    trace.iter().find(|r| r.kind == kind).unwrap_or_else(|| panic!("no {kind} in the trace")).time_ms
}

/// Three nodes that never fail on their own, one flexible app (45 s start)
/// on `volume`, scripted failures in `events`.
fn scripted(volume: &str, events: &str) -> Scenario {
    quiet_cluster("first-fit", 3, "", &app_on_data(volume, events))
}

/// A volume `data` of the given backend and a flexible app (45 s start) on it.
fn app_on_data(volume: &str, events: &str) -> String {
    format!(
        "[[volumes]]\nname = \"data\"\n{volume}\n[[apps]]\nname = \"app\"\nclass = \"flexible\"\nstartup = \"45s\"\n\
         volumes = [\"data\"]\n{events}"
    )
}

const FAIL_AT: Millis = 100 * MS_PER_H + 17 * MS_PER_MIN;

#[test]
fn zfs_replicated_adds_exactly_the_failover_time_and_loses_the_writes_since_the_last_snapshot() {
    let sc = scripted(
        r#"backend = "zfs-replicated"
        node = "n-1"
        replica_node = "n-2"
        interval = "1h"
        failover = "5m""#,
        &format!("[[events]]\nat = \"{FAIL_AT}ms\"\nfail = \"node:n-1\"\nduration = \"4h\""),
    );
    let (outcome, trace) = traced(&sc);
    let tainted = first(&trace, "taint");
    let evicted = first(&trace, "pod-evicted");
    assert_eq!(evicted, tainted + 300 * MS_PER_S);
    assert_eq!(first(&trace, "failover-start"), evicted);
    let flexible_chain = (tainted - FAIL_AT) + 300 * MS_PER_S + 45 * MS_PER_S;
    let app = &outcome.apps[0];
    assert_eq!(app.downtime_ms, flexible_chain + 5 * MS_PER_MIN, "exactly the failover time on top");
    assert_eq!(app.cause_ms[Cause::Failover.index()], 5 * MS_PER_MIN);
    // Hourly snapshots: the last one reached n-2 at 100 h, 17 minutes before.
    assert_eq!(app.data_loss_incidents, 1);
    assert_eq!(app.data_loss_ms, 17 * MS_PER_MIN);
    assert_eq!(outcome.volumes[0].data_loss_ms, 17 * MS_PER_MIN);
    // The replacement runs on the promoted replica and does not move back.
    let scheduled: Vec<_> = trace.iter().filter(|r| r.kind == "pod-scheduled").map(|r| r.node).collect();
    assert_eq!(scheduled, vec![Some(0), Some(1)]);
    // Without the replica the volume had reduced redundancy until n-1 returned.
    assert_eq!(outcome.volumes[0].reduced_redundancy_ms, 4 * MS_PER_H);
}

#[test]
fn zfs_replicated_primary_back_before_eviction_needs_no_failover() {
    let sc = scripted(
        r#"backend = "zfs-replicated"
        node = "n-1"
        replica_node = "n-2""#,
        "[[events]]\nat = \"100h\"\nfail = \"node:n-1\"\nduration = \"2m\"",
    );
    let (outcome, trace) = traced(&sc);
    assert!(!trace.iter().any(|r| r.kind == "failover-start"));
    assert_eq!(outcome.apps[0].downtime_ms, 2 * MS_PER_MIN + 45 * MS_PER_S);
    assert_eq!(outcome.apps[0].data_loss_incidents, 0);
}

/// A flexible app (45 s start) on a block volume `data` with `volume` keys,
/// `kind` (deployment or statefulset), `[kubernetes]` keys `kube`; n-1, where
/// the app runs (first-fit), crashes at `FAIL_AT` for `outage`.
fn block(volume: &str, kube: &str, kind: &str, outage: &str) -> Scenario {
    scripted(
        &format!("backend = \"block\"\n{volume}"),
        &format!(
            "kind = \"{kind}\"\n[[events]]\nat = \"{FAIL_AT}ms\"\nfail = \"node:n-1\"\nduration = \"{outage}\"\n\
             [kubernetes]\n{kube}"
        ),
    )
}

fn all(trace: &[TraceRecord], kind: &str) -> Vec<Millis> {
    trace.iter().filter(|r| r.kind == kind).map(|r| r.time_ms).collect()
}

/// The first PodGC pass at or after `t` (the passes are 20 s apart from a
/// phase drawn per replication, so the pass is within 20 s).
fn pass_after(trace: &[TraceRecord], t: Millis) -> Millis {
    let pass = *all(trace, "pod-gc").iter().find(|&&p| p >= t).expect("a PodGC pass");
    assert!(pass - t < 20 * MS_PER_S, "PodGC pass {pass} more than gcCheckPeriod after {t}");
    pass
}

#[test]
fn block_volume_waits_for_its_node_by_default() {
    // The eviction only sets the old pod's deletionTimestamp; no kubelet
    // confirms it, its containers stay last reported running, so volume util
    // `IsPodTerminated` is false and attachdetach util `DetermineVolumeAction`
    // keeps the volume in the desired state of n-1: the reconciler
    // (reconciler.go `reconcile`) never starts the detach, and the 6-minute
    // `maxWaitForUnmountDuration` never starts. The replacement, created at
    // the eviction (KEP-3973), waits in Multi-Attach until n-1 returns at
    // FAIL_AT + 4 h and its kubelet finishes the deletion.
    for volume in ["", "force_detach = \"6m\"", "force_detach = \"never\""] {
        let sc = block(volume, "", "deployment", "4h");
        assert!(sc.warnings.iter().any(|w| w.contains("waits for its node")), "{:?}", sc.warnings);
        let (outcome, trace) = traced(&sc);
        let evicted = first(&trace, "pod-evicted");
        assert_eq!(all(&trace, "volume-detached"), vec![FAIL_AT + 4 * MS_PER_H], "{volume}");
        let app = &outcome.apps[0];
        assert_eq!(app.downtime_ms, 4 * MS_PER_H + 45 * MS_PER_S);
        assert_eq!(app.cause_ms[Cause::Detection.index()], evicted - FAIL_AT);
        assert_eq!(app.cause_ms[Cause::DetachWait.index()], FAIL_AT + 4 * MS_PER_H - evicted);
    }
}

#[test]
fn block_volume_is_force_detached_six_minutes_after_the_operator_force_deletes_the_old_pod() {
    // `kubectl delete pod --force` 2 min after the eviction removes the old
    // pod object: the pod leaves the desired state of the world, the
    // reconciler sets the detach request time then, and with n-1 still
    // unhealthy it force-detaches once `maxWaitForUnmountDuration` (6 min)
    // has passed (reconciler.go `reconcile`: forceDetach = !isHealthy &&
    // timeout; reconciler_test.go Test_Run_OneVolumeDetachOnNoOutOfServiceTaintedNode
    // and Test_Run_OneVolumeDetachOnUnhealthyNode). The reconciler's 100 ms
    // loop is neglected: detach at force delete + 6 min exactly.
    let sc = block("", "pod_force_delete_after = \"2m\"", "deployment", "4h");
    assert!(!sc.warnings.iter().any(|w| w.contains("waits for its node")), "{:?}", sc.warnings);
    let (outcome, trace) = traced(&sc);
    let evicted = first(&trace, "pod-evicted");
    assert_eq!(all(&trace, "pod-force-delete"), vec![evicted + 2 * MS_PER_MIN]);
    assert_eq!(all(&trace, "volume-detached"), vec![evicted + 8 * MS_PER_MIN]);
    let app = &outcome.apps[0];
    assert_eq!(app.downtime_ms, evicted - FAIL_AT + 8 * MS_PER_MIN + 45 * MS_PER_S);
    assert_eq!(app.cause_ms[Cause::DetachWait.index()], 8 * MS_PER_MIN);
}

#[test]
fn block_volume_with_force_detach_never_waits_for_its_node_even_after_a_force_delete() {
    // `force_detach = "never"` is `--disable-force-detach-on-timeout`: the
    // reconciler logs that the drain timeout expired and detaches nothing
    // (reconciler.go `reconcile`, forceDetachTimeoutExpired false); n-1's
    // return at FAIL_AT + 4 h releases the volume.
    let sc = block("force_detach = \"never\"", "pod_force_delete_after = \"2m\"", "deployment", "4h");
    assert!(sc.warnings.iter().any(|w| w.contains("waits for its node")), "{:?}", sc.warnings);
    let (outcome, trace) = traced(&sc);
    assert_eq!(all(&trace, "pod-force-deleted").len(), 0, "the Deployment pod was replaced at the eviction");
    assert_eq!(all(&trace, "volume-detached"), vec![FAIL_AT + 4 * MS_PER_H]);
    assert_eq!(outcome.apps[0].downtime_ms, 4 * MS_PER_H + 45 * MS_PER_S);
}

#[test]
fn disabled_force_detach_then_the_out_of_service_taint_detaches_at_the_taint() {
    // reconciler_test.go Test_Run_OneVolumeDetachOnUnhealthyNodeWithForceDetachOnUnmountDisabled:
    // the old pod is gone (force delete at eviction + 2 min), the timeout
    // path is disabled, so nothing is detached until the out-of-service
    // taint; the reconciler then detaches at once (`hasOutOfServiceTaint`,
    // verifySafeToDetach false), at NotReady + 30 min, without waiting for
    // a PodGC pass: no pod object is left to collect.
    let sc = block(
        "force_detach = \"never\"",
        "pod_force_delete_after = \"2m\"\nout_of_service_after = \"30m\"",
        "deployment",
        "4h",
    );
    let (outcome, trace) = traced(&sc);
    let not_ready = first(&trace, "node-not-ready");
    assert_eq!(all(&trace, "volume-detached"), vec![not_ready + 30 * MS_PER_MIN]);
    assert_eq!(outcome.apps[0].downtime_ms, not_ready + 30 * MS_PER_MIN + 45 * MS_PER_S - FAIL_AT);
}

#[test]
fn node_object_deletion_lets_podgc_delete_the_pod_after_its_quarantine_then_the_volume_is_force_detached() {
    // The Node object goes 1 min after NotReady (D). podgc `gcOrphaned`:
    // the first pass at or after D (P1, within `gcCheckPeriod` 20 s) finds
    // the pod's node missing and queues it for `quarantineTime` (40 s); the
    // pass at P1 + 40 s finds it still gone and force-deletes the pod,
    // which was never evicted (the toleration ends at NotReady + 300 s). The
    // ReplicaSet's replacement goes to n-2 and waits in Multi-Attach until
    // the force detach 6 min later (the deleted node is not healthy:
    // reconciler.go `nodeIsHealthy` fails).
    let sc = block("", "node_delete_after = \"1m\"", "deployment", "4h");
    let (outcome, trace) = traced(&sc);
    let not_ready = first(&trace, "node-not-ready");
    let deleted = first(&trace, "node-deleted");
    assert_eq!(deleted, not_ready + MS_PER_MIN);
    let p1 = pass_after(&trace, deleted);
    assert_eq!(first(&trace, "pod-gc-quarantine"), p1);
    let collected = p1 + 40 * MS_PER_S;
    assert_eq!(all(&trace, "pod-force-deleted"), vec![collected]);
    assert!(all(&trace, "pod-evicted").is_empty(), "PodGC deleted the pod before its eviction");
    assert_eq!(all(&trace, "volume-detached"), vec![collected + 6 * MS_PER_MIN]);
    let app = &outcome.apps[0];
    assert_eq!(app.downtime_ms, collected + 6 * MS_PER_MIN + 45 * MS_PER_S - FAIL_AT);
    assert_eq!(app.cause_ms[Cause::Detection.index()], collected - FAIL_AT);
    assert_eq!(app.cause_ms[Cause::DetachWait.index()], 6 * MS_PER_MIN);
}

#[test]
fn out_of_service_taint_gets_the_pod_deleted_at_the_next_podgc_pass_and_the_volume_detached_at_once() {
    // Taint at NotReady + 10 min (T), after the eviction (NotReady + 5 min):
    // the evicted pod is Terminating; podgc `gcTerminating` force-deletes
    // terminating pods of a NotReady node with the out-of-service taint at
    // its first pass at or after T (P); the pod leaves the desired state and
    // the reconciler detaches at once (`hasOutOfServiceTaint`;
    // reconciler_test.go Test_Run_OneVolumeDetachOnOutOfServiceTaintedNode).
    let sc = block("", "out_of_service_after = \"10m\"", "deployment", "4h");
    let (outcome, trace) = traced(&sc);
    let not_ready = first(&trace, "node-not-ready");
    let evicted = first(&trace, "pod-evicted");
    let pass = pass_after(&trace, not_ready + 10 * MS_PER_MIN);
    assert_eq!(all(&trace, "volume-detached"), vec![pass]);
    let app = &outcome.apps[0];
    assert_eq!(app.downtime_ms, pass + 45 * MS_PER_S - FAIL_AT);
    assert_eq!(app.cause_ms[Cause::DetachWait.index()], pass - evicted);
}

#[test]
fn a_statefulset_on_a_block_volume_is_replaced_at_the_force_delete_and_then_waits_for_the_force_detach() {
    // The StatefulSet controller creates no pod of the same identity while
    // the Terminating one exists; the force delete at eviction + 2 min
    // removes it, the replacement is created and bound to n-2 at once, and
    // waits 6 min in Multi-Attach for the force detach.
    let sc = block("", "pod_force_delete_after = \"2m\"", "statefulset", "4h");
    let (outcome, trace) = traced(&sc);
    let terminating = first(&trace, "pod-terminating");
    let deleted = terminating + 2 * MS_PER_MIN;
    assert_eq!(all(&trace, "pod-force-deleted"), vec![deleted]);
    let scheduled: Vec<_> = trace.iter().filter(|r| r.kind == "pod-scheduled").map(|r| (r.time_ms, r.node)).collect();
    assert_eq!(scheduled, vec![(0, Some(0)), (deleted, Some(1))]);
    assert_eq!(first(&trace, "multi-attach"), deleted);
    assert_eq!(all(&trace, "volume-detached"), vec![deleted + 6 * MS_PER_MIN]);
    let app = &outcome.apps[0];
    assert_eq!(app.downtime_ms, deleted + 6 * MS_PER_MIN + 45 * MS_PER_S - FAIL_AT);
    assert_eq!(app.cause_ms[Cause::Detection.index()], deleted - FAIL_AT);
    assert_eq!(app.cause_ms[Cause::DetachWait.index()], 6 * MS_PER_MIN);
}

#[test]
fn a_node_back_before_the_force_detach_releases_the_volume_itself() {
    // Outage 10 min: NotReady 30-40 s after the crash, eviction 300 s later,
    // force delete 2 min after that (7m30s-7m40s), force detach due 6 min
    // later still (13m30s-13m40s); n-1 is back at 10 min, Ready (healthy),
    // its kubelet unmounts and the volume is detached then, the timer
    // dropped.
    let sc = block("", "pod_force_delete_after = \"2m\"", "deployment", "10m");
    let (outcome, trace) = traced(&sc);
    assert_eq!(all(&trace, "volume-detached"), vec![FAIL_AT + 10 * MS_PER_MIN]);
    assert_eq!(outcome.apps[0].downtime_ms, 10 * MS_PER_MIN + 45 * MS_PER_S);
}

#[test]
fn gluster_brick_loss_stalls_io_for_the_ping_timeout_then_heals() {
    // The app is pinned to n-3 so only the brick on n-1 fails.
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
        count = 3
        [[volumes]]
        name = "media"
        backend = "gluster"
        bricks = ["n-1", "n-2", "n-3"]
        write_rate = "2MiB/s"
        heal_rate = "50MiB/s"
        [[apps]]
        name = "plex"
        class = "flexible"
        node = "n-3"
        volumes = ["media"]
        [[events]]
        at = "100h"
        fail = "node:n-1"
        duration = "2h"
        "#,
    );
    let (outcome, _) = traced(&sc);
    let app = &outcome.apps[0];
    assert_eq!(app.downtime_ms, 42 * MS_PER_S, "network.ping-timeout");
    assert_eq!(app.cause_ms[Cause::IoStall.index()], 42 * MS_PER_S);
    // Two hours away at 2 MiB/s healed at 50 MiB/s: 288 s of healing.
    assert_eq!(outcome.volumes[0].reduced_redundancy_ms, 2 * MS_PER_H + 288 * MS_PER_S);
    assert_eq!(outcome.volumes[0].downtime_ms, 42 * MS_PER_S);
}

#[test]
fn gluster_losing_quorum_takes_the_volume_down_until_a_brick_returns() {
    let sc = scripted(
        "backend = \"gluster\"\n        bricks = [\"n-1\", \"n-2\", \"n-3\"]\n        ping_timeout = \"0s\"\n        write_rate = \"0B/s\"",
        "[[events]]\nat = \"100h\"\nfail = \"node:n-1\"\nduration = \"3h\"\n\
         [[events]]\nat = \"101h\"\nfail = \"node:n-2\"\nduration = \"1h\"",
    );
    let (outcome, _) = traced(&sc);
    assert_eq!(outcome.volumes[0].downtime_ms, MS_PER_H, "one of three bricks: no quorum from 101 h to 102 h");
}

#[test]
fn a_mirror_loses_its_pool_when_the_second_disk_fails_before_the_resilver_ends() {
    let pool = r#"pool = { layout = "mirror", disks = 2, disk_failure = "never", replace = "24h", resilver_rate = "100MiB/s", allocated = "1TiB", restore = "8h", backup_interval = "24h" }"#;
    let text = |second: &str| {
        format!(
            r#"
            horizon = "30d"
            replications = 1
            strategies = ["first-fit"]
            [node_defaults]
            cpu = 4
            memory = "8Gi"
            failure = "never"
            repair = "never"
            {pool}
            [[nodes]]
            name = "n"
            count = 2
            [[volumes]]
            name = "config"
            backend = "zfs-local"
            node = "n-1"
            [[apps]]
            name = "sonarr"
            class = "flexible"
            startup = "0s"
            volumes = ["config"]
            [[events]]
            at = "100h"
            fail = "disk:n-1:1"
            [[events]]
            at = "{second}"
            fail = "disk:n-1:2"
            "#
        )
    };
    // Replace 24 h, then resilver 1 TiB at 100 MiB/s = 10485.76 s.
    let (outcome, trace) = traced(&scenario(&text("101h")));
    assert_eq!(first(&trace, "pool-lost"), 101 * MS_PER_H);
    let app = &outcome.apps[0];
    assert_eq!(app.downtime_ms, 8 * MS_PER_H, "down while restored from backup");
    assert_eq!(app.cause_ms[Cause::Restore.index()], 8 * MS_PER_H);
    // Nightly backups at multiples of 24 h: the last at 96 h.
    assert_eq!(app.data_loss_ms, 5 * MS_PER_H);
    assert_eq!(app.data_loss_incidents, 1);

    let resilvered = 100 * MS_PER_H + 24 * MS_PER_H + 10_485_760;
    let after = format!("{}ms", resilvered + 1);
    let (outcome, trace) = traced(&scenario(&text(&after)));
    assert!(!trace.iter().any(|r| r.kind == "pool-lost"), "the second failure came after the resilver");
    assert_eq!(outcome.apps[0].downtime_ms, 0);
}

#[test]
fn pods_on_zfs_replicated_follow_the_active_side_under_every_strategy() {
    let sc = scenario(
        r#"
        horizon = "2y"
        replications = 20
        seed = 5
        strategies = ["spread", "binpack", "random", "first-fit"]
        [node_defaults]
        cpu = 4
        memory = "8Gi"
        failure = { dist = "exponential", mean = "500h" }
        repair = { dist = "lognormal", median = "6h", sigma = 1.0 }
        pool = { layout = "mirror", disks = 2, disk_failure = { dist = "exponential", mean = "2000h" }, restore = "12h" }
        [[nodes]]
        name = "n"
        count = 4
        [[volumes]]
        name = "db"
        backend = "zfs-replicated"
        node = "n-1"
        replica_node = "n-3"
        [[volumes]]
        name = "media"
        backend = "gluster"
        [[volumes]]
        name = "disk"
        backend = "block"
        [[volumes]]
        name = "cfg"
        backend = "zfs-local"
        [[apps]]
        name = "postgres"
        class = "flexible"
        volumes = ["db"]
        [[apps]]
        name = "plex"
        class = "flexible"
        volumes = ["media", "disk"]
        [[apps]]
        name = "sonarr"
        class = "flexible"
        volumes = ["cfg"]
        "#,
    );
    // The invariant checker runs after every event; here the outcome must
    // also be sane for every strategy.
    for strategy in Strategy::ALL {
        for r in 0..sc.replications {
            let o = simulate(&sc, strategy, r, None);
            for app in &o.apps {
                assert_eq!(app.cause_ms.iter().sum::<u64>(), app.downtime_ms);
            }
            for v in &o.volumes {
                assert!(v.downtime_ms <= sc.horizon_ms && v.reduced_redundancy_ms <= sc.horizon_ms);
            }
        }
    }
}

/// Like `scripted`, with a never-failing two-disk mirror on every node
/// (disks fail only when scripted), `restore` to rebuild a lost pool, and
/// nightly backups.
fn with_pools(restore: &str, volume: &str, events: &str) -> Scenario {
    let pool = format!(
        "pool = {{ layout = \"mirror\", disks = 2, disk_failure = \"never\", replace = \"24h\", restore = \"{restore}\", backup_interval = \"24h\" }}"
    );
    quiet_cluster("first-fit", 3, &pool, &app_on_data(volume, events))
}

fn lose_pool_at(node: &str, at: &str) -> String {
    format!(
        "[[events]]\nat = \"{at}\"\nfail = \"disk:{node}:1\"\n[[events]]\nat = \"{at}\"\nfail = \"disk:{node}:2\"\n"
    )
}

const REPLICATED: &str = r#"backend = "zfs-replicated"
        node = "n-1"
        replica_node = "n-2"
        interval = "1h"
        failover = "5m""#;

#[test]
fn regression_active_pool_lost_with_the_standby_down_books_one_loss_since_the_last_snapshot() {
    // n-2 (standby) is down from 50 h to 60 h; n-1's pool is lost at 52 h and
    // takes 48 h to restore; the standby returns first and is promoted. One
    // incident: the writes since the last snapshot before 50 h, not the
    // backup loss as well.
    let events =
        format!("[[events]]\nat = \"50h\"\nfail = \"node:n-2\"\nduration = \"10h\"\n{}", lose_pool_at("n-1", "52h"));
    let (outcome, trace) = traced(&with_pools("48h", REPLICATED, &events));
    assert_eq!(first(&trace, "failover-start"), 60 * MS_PER_H);
    assert_eq!(outcome.volumes[0].data_loss_incidents, 1);
    assert_eq!(outcome.volumes[0].data_loss_ms, 2 * MS_PER_H);
    assert_eq!(outcome.apps[0].data_loss_incidents, 1);
}

#[test]
fn regression_a_pool_lost_after_the_crash_does_not_extend_the_writes_lost() {
    let events = format!(
        "[[events]]\nat = \"{FAIL_AT}ms\"\nfail = \"node:n-1\"\nduration = \"4h\"\n{}",
        lose_pool_at("n-1", "100h19m")
    );
    let (outcome, _) = traced(&with_pools("48h", REPLICATED, &events));
    assert_eq!(outcome.volumes[0].data_loss_incidents, 1);
    assert_eq!(outcome.volumes[0].data_loss_ms, 17 * MS_PER_MIN, "writes stopped at the crash");
}

#[test]
fn regression_a_restore_that_beats_the_promotion_books_the_backup_loss() {
    // Pool lost at 101 h while the node stays up; restore 8 h, promotion 48 h.
    let volume = REPLICATED.replace("failover = \"5m\"", "failover = \"48h\"");
    let (outcome, trace) = traced(&with_pools("8h", &volume, &lose_pool_at("n-1", "101h")));
    assert!(trace.iter().any(|r| r.kind == "failover-cancelled"));
    assert!(!trace.iter().any(|r| r.kind == "failover-done"));
    assert_eq!(outcome.volumes[0].data_loss_incidents, 1);
    assert_eq!(outcome.volumes[0].data_loss_ms, 5 * MS_PER_H, "since the nightly backup at 96 h");
    assert_eq!(outcome.apps[0].downtime_ms, 8 * MS_PER_H);
}

#[test]
fn regression_a_block_attachment_is_released_when_the_node_returns_even_with_its_pool_lost() {
    let events =
        format!("[[events]]\nat = \"100h\"\nfail = \"node:n-1\"\nduration = \"2h\"\n{}", lose_pool_at("n-1", "100h1m"));
    let (outcome, _) = traced(&with_pools("96h", "backend = \"block\"\n        force_detach = \"never\"", &events));
    assert_eq!(outcome.apps[0].downtime_ms, 2 * MS_PER_H + 45 * MS_PER_S);
}

#[test]
fn regression_a_brick_rebuilt_while_its_node_is_down_gets_a_full_heal() {
    // n-1 is down 100 h to 110 h; its pool is lost at 100h1m and rebuilt in
    // 2 h while the node is still down. The brick returns empty: 100 GiB at
    // 50 MiB/s is 2048 s of healing on top of the 10 h away.
    let volume = r#"backend = "gluster"
        bricks = ["n-1", "n-2", "n-3"]
        write_rate = "0B/s"
        heal_rate = "50MiB/s"
        size = "100GiB""#;
    let events = format!(
        "[[events]]\nat = \"100h\"\nfail = \"node:n-1\"\nduration = \"10h\"\n{}",
        lose_pool_at("n-1", "100h1m")
    );
    let (outcome, _) = traced(&with_pools("2h", volume, &events));
    assert_eq!(outcome.volumes[0].reduced_redundancy_ms, 10 * MS_PER_H + 2048 * MS_PER_S);
}

#[test]
fn gluster_losing_every_data_brick_restores_from_backup() {
    // Replica 2 + arbiter with data bricks on n-1 and n-2: both pools lost at
    // 101 h (the arbiter on n-3 survives): the volume's data is gone until
    // the first data brick is rebuilt, from the nightly backup.
    let volume = r#"backend = "gluster"
        replicas = 2
        arbiter = true
        bricks = ["n-1", "n-2", "n-3"]
        ping_timeout = "0s"
        write_rate = "0B/s""#;
    let events = format!("{}{}", lose_pool_at("n-1", "101h"), lose_pool_at("n-2", "101h"));
    let (outcome, _) = traced(&with_pools("8h", volume, &events));
    assert_eq!(outcome.volumes[0].data_loss_incidents, 1);
    assert_eq!(outcome.volumes[0].data_loss_ms, 5 * MS_PER_H);
    assert_eq!(outcome.volumes[0].downtime_ms, 8 * MS_PER_H, "back when the first data brick is restored");
}

/// Three nodes with a never-failing two-disk mirror each (pools lost only
/// when scripted), a Gluster volume `data` with `volume` keys and a flexible
/// app on it, scripted failures in `events`.
fn gluster_scripted(volume: &str, events: &str) -> Scenario {
    with_pools("8h", &format!("backend = \"gluster\"\n{volume}"), events)
}

fn node_down(node: &str, at: &str, duration: &str) -> String {
    format!("[[events]]\nat = \"{at}\"\nfail = \"node:{node}\"\nduration = \"{duration}\"\n")
}

/// 2 MiB/s written, healed at 50 MiB/s: an hour away owes 7200 MiB, 144 s
/// of healing.
const HEAL_S_PER_H_AWAY: Millis = 144;

#[test]
fn issue_11_gluster_a_brick_away_only_without_quorum_has_nothing_to_heal() {
    // afr-transaction.c `afr_changelog_pre_op`: the quorum check comes
    // before the write is wound and before the bricks that were not locked
    // are marked pending, so without quorum nothing is written and nothing
    // is owed. Replica 3 (quorum auto): n-1 away 100 h to 103 h, n-2 away
    // 101 h to 102 h. Only n-3 is up from 101 h to 102 h: no quorum, no
    // writes. n-2 was away only then: it returns a good copy, no heal. n-1
    // missed the writes of 100-101 h and 102-103 h: two hours, not three.
    let sc = gluster_scripted(
        "bricks = [\"n-1\", \"n-2\", \"n-3\"]\nwrite_rate = \"2MiB/s\"\nheal_rate = \"50MiB/s\"",
        &format!("{}{}", node_down("n-1", "100h", "3h"), node_down("n-2", "101h", "1h")),
    );
    let (outcome, trace) = traced(&sc);
    let volume = &outcome.volumes[0];
    // Down without quorum for the hour, plus the 42 s ping timeout of n-1's
    // crash at 100 h (n-2's stall at 101 h ends inside the outage).
    assert_eq!(volume.downtime_ms, MS_PER_H + 42 * MS_PER_S);
    assert_eq!(trace.iter().filter(|r| r.kind == "heal-done").count(), 1, "only n-1 heals");
    assert_eq!(first(&trace, "heal-done"), 103 * MS_PER_H + 2 * HEAL_S_PER_H_AWAY * MS_PER_S);
    assert_eq!(volume.reduced_redundancy_ms, 3 * MS_PER_H + 2 * HEAL_S_PER_H_AWAY * MS_PER_S);
    assert_eq!(volume.split_brain_incidents, 0);
}

#[test]
fn issue_11_gluster_arbiter_serves_from_the_data_brick_that_missed_nothing() {
    // Replica 2 + arbiter (quorum auto: three bricks). n-1 away 100 h to
    // 102 h, n-2 away 101 h to 104 h; the arbiter n-3 stays up.
    // - 100-101 h: n-2 + arbiter take writes; n-1 misses an hour.
    // - 101-102 h: the arbiter alone: no quorum, no writes.
    // - 102-104 h: n-1 + arbiter make quorum, but the arbiter accuses n-1
    //   and cannot be the only source (afr-transaction.c
    //   `afr_txn_arbitrate_fop`, tests/basic/afr/arbiter.t "writes will
    //   fail"): still down, and n-1 cannot heal with n-2 away.
    // - 104 h: n-2 is back; it was away only while nothing was written, so
    //   it is the good copy (the old model made it heal three hours): up at
    //   once, and n-1 heals its hour from it in 144 s.
    let sc = gluster_scripted(
        "replicas = 2\narbiter = true\nbricks = [\"n-1\", \"n-2\", \"n-3\"]\nping_timeout = \"0s\"\n\
         write_rate = \"2MiB/s\"\nheal_rate = \"50MiB/s\"",
        &format!("{}{}", node_down("n-1", "100h", "2h"), node_down("n-2", "101h", "3h")),
    );
    let (outcome, trace) = traced(&sc);
    let volume = &outcome.volumes[0];
    assert_eq!(volume.downtime_ms, 3 * MS_PER_H, "101 h to 104 h");
    assert_eq!(first(&trace, "heal-done"), 104 * MS_PER_H + HEAL_S_PER_H_AWAY * MS_PER_S);
    assert_eq!(volume.reduced_redundancy_ms, 4 * MS_PER_H + HEAL_S_PER_H_AWAY * MS_PER_S);

    // The arbiter away an hour while both data bricks write: it lacks
    // metadata only, healed at once on its return; no data brick heals.
    let (outcome, trace) = traced(&gluster_scripted(
        "replicas = 2\narbiter = true\nbricks = [\"n-1\", \"n-2\", \"n-3\"]\nping_timeout = \"0s\"",
        &node_down("n-3", "100h", "1h"),
    ));
    assert_eq!(outcome.volumes[0].reduced_redundancy_ms, MS_PER_H);
    assert_eq!(outcome.volumes[0].downtime_ms, 0);
    assert!(!trace.iter().any(|r| r.kind == "heal-done"));
}

#[test]
fn issue_11_gluster_replica_2_under_quorum_none_ends_in_split_brain() {
    // Replica 2, quorum none (the default for two bricks). n-1 away 100 h to
    // 103 h, n-2 away 101 h to 105 h; 2 MiB/s written, no ping timeout.
    // - 100-101 h: n-2 alone takes writes (quorum none); n-1 misses an hour.
    // - 101-103 h: no brick: down two hours.
    // - 103 h: n-1 returns alone; no brick up accuses it, so it serves its
    //   stale copy and takes writes; n-2 misses two hours.
    // - 105 h: n-2 returns: each brick holds writes the other lacks, one
    //   split-brain incident (data at risk, not downtime). The rest heals
    //   both ways: n-1 its hour (144 s), n-2 its two hours (288 s).
    let events = format!("{}{}", node_down("n-1", "100h", "3h"), node_down("n-2", "101h", "4h"));
    let keys = "replicas = 2\nbricks = [\"n-1\", \"n-2\"]\nping_timeout = \"0s\"\n\
                write_rate = \"2MiB/s\"\nheal_rate = \"50MiB/s\"";
    let (outcome, trace) = traced(&gluster_scripted(keys, &events));
    let volume = &outcome.volumes[0];
    assert_eq!(volume.split_brain_incidents, 1);
    assert_eq!(first(&trace, "split-brain"), 105 * MS_PER_H);
    assert_eq!(volume.downtime_ms, 2 * MS_PER_H);
    assert_eq!(volume.reduced_redundancy_ms, 5 * MS_PER_H + 2 * HEAL_S_PER_H_AWAY * MS_PER_S);

    // The same failures under quorum auto: n-2 alone (not the first brick)
    // has no quorum from 100 h, so nothing is written until n-1 (the first
    // brick, exactly half) returns at 103 h, a good copy; n-2 misses two
    // hours and heals them. Down three hours, no split-brain.
    let auto = format!("{keys}\nquorum = \"auto\"");
    let (outcome, trace) = traced(&gluster_scripted(&auto, &events));
    let volume = &outcome.volumes[0];
    assert_eq!(volume.split_brain_incidents, 0);
    assert!(!trace.iter().any(|r| r.kind == "split-brain"));
    assert_eq!(volume.downtime_ms, 3 * MS_PER_H);
    assert_eq!(volume.reduced_redundancy_ms, 5 * MS_PER_H + 2 * HEAL_S_PER_H_AWAY * MS_PER_S);
}

#[test]
fn issue_11_gluster_a_lost_pool_is_taken_down_by_the_health_check_without_a_stall() {
    // posix-helpers.c `posix_health_check_thread_proc`: the check sleeps the
    // interval (storage.health-check-interval, 30 s, posix.c option table),
    // then checks; on failure it notifies CHILD_DOWN and the process goes,
    // so clients see a disconnect, never the ping timeout. Until then I/O on
    // the dead pool fails with EIO: AFR fails reads over to another copy
    // (afr-inode-read.c, `afr_read_txn_continue` on an error) and marks the
    // brick pending for writes, so the brick is out of the data path at
    // once. Bricks started at 0: checks at multiples of 30 s.
    let keys = "bricks = [\"n-1\", \"n-2\", \"n-3\"]";
    let lost_at = 100 * MS_PER_H + 10 * MS_PER_S;
    let lost = lose_pool_at("n-1", &format!("{lost_at}ms"));
    let (outcome, trace) = traced(&gluster_scripted(keys, &lost));
    let checks: Vec<_> = trace.iter().filter(|r| r.kind == "health-check").map(|r| r.time_ms).collect();
    assert_eq!(checks, vec![lost_at + 20 * MS_PER_S], "the next multiple of 30 s");
    assert_eq!(first(&trace, "brick-disconnected"), lost_at + 20 * MS_PER_S);
    // Two bricks keep quorum and no client hangs: no downtime at all (the
    // old model stalled 42 s).
    assert_eq!(outcome.volumes[0].downtime_ms, 0);

    // The server dies 5 s after the loss, before the check: the clients
    // were still connected, so they hang for the 42 s ping timeout.
    let crash =
        |after_s: Millis| format!("{lost}{}", node_down("n-1", &format!("{}ms", lost_at + after_s * MS_PER_S), "1h"));
    let (outcome, _) = traced(&gluster_scripted(keys, &crash(5)));
    assert_eq!(outcome.volumes[0].downtime_ms, 42 * MS_PER_S);
    // It dies 25 s after the loss, after the check took the brick down:
    // nothing left to hang on.
    let (outcome, _) = traced(&gluster_scripted(keys, &crash(25)));
    assert_eq!(outcome.volumes[0].downtime_ms, 0);
    // With the check disabled ("0s": the thread never starts) the brick
    // process stays connected on its dead pool, and the crash stalls.
    let disabled = format!("{keys}\nhealth_check_interval = \"0s\"");
    let (outcome, trace) = traced(&gluster_scripted(&disabled, &crash(25)));
    assert!(!trace.iter().any(|r| r.kind == "health-check"));
    assert_eq!(outcome.volumes[0].downtime_ms, 42 * MS_PER_S);
}

/// One row of the upstream quorum tests: bricks (the arbiter last when
/// `arbiter`), the quorum, which bricks are up, which bricks each brick
/// accuses (`blames[x]` bit y), and whether a write succeeds.
struct QuorumCase {
    source: &'static str,
    quorum: GlusterQuorum,
    arbiter: bool,
    up: &'static [bool],
    blames: &'static [u128],
    writes: bool,
}

#[test]
fn gluster_writes_follow_the_upstream_afr_quorum_tests() {
    use GlusterQuorum::{Auto, Fixed, None};
    const T: bool = true;
    const F: bool = false;
    let case = |source, quorum, arbiter, up, blames, writes| QuorumCase { source, quorum, arbiter, up, blames, writes };
    let clean2: &[u128] = &[0, 0];
    let clean3: &[u128] = &[0, 0, 0];
    let cases = [
        // tests/basic/afr/quorum.t, replica 2.
        case("quorum.t r2 fixed 2, both up", Fixed(2), F, &[T, T], clean2, T),
        case("quorum.t r2 fixed 2, brick 1 killed", Fixed(2), F, &[F, T], clean2, F),
        case("quorum.t r2 auto, both up", Auto, F, &[T, T], clean2, T),
        case("quorum.t r2 auto, brick 1 killed", Auto, F, &[F, T], clean2, F),
        case("quorum.t r2 none, brick 1 killed", None, F, &[F, T], clean2, T),
        // tests/basic/afr/quorum.t, replica 3.
        case("quorum.t r3 fixed 3, all up", Fixed(3), F, &[T, T, T], clean3, T),
        case("quorum.t r3 fixed 3, brick 1 killed", Fixed(3), F, &[F, T, T], clean3, F),
        case("quorum.t r3 auto, bricks 1 and 3 down", Auto, F, &[F, T, F], clean3, F),
        case("quorum.t r3 none, bricks 1 and 3 down", None, F, &[F, T, F], clean3, T),
        case("quorum.t r3 auto (default), brick 3 killed", Auto, F, &[T, T, F], clean3, T),
        // tests/basic/afr/lk-quorum.t (locks follow the same quorum).
        case("lk-quorum.t r2 fixed 1, brick 0 killed", Fixed(1), F, &[F, T], clean2, T),
        case("lk-quorum.t r2 fixed 1, brick 1 killed", Fixed(1), F, &[T, F], clean2, T),
        case("lk-quorum.t r2 fixed 2, brick 1 killed", Fixed(2), F, &[T, F], clean2, F),
        case("lk-quorum.t r2 auto, brick 1 killed (the second)", Auto, F, &[T, F], clean2, T),
        case("lk-quorum.t r2, all down", Fixed(1), F, &[F, F], clean2, F),
        case("lk-quorum.t r3 auto, one brick killed", Auto, F, &[T, F, T], clean3, T),
        case("lk-quorum.t r3 auto, two bricks killed", Auto, F, &[F, F, T], clean3, F),
        // tests/basic/afr/arbiter.t: B0 killed, B1 and the arbiter B2 take
        // writes (and accuse B0); B0 back, B1 killed: the arbiter is the
        // only source, writes fail.
        case("arbiter.t B0 down", Auto, T, &[F, T, T], clean3, T),
        case("arbiter.t B0 back stale, B1 down", Auto, T, &[T, F, T], &[0, 0b001, 0b001], F),
        case("arbiter.t all back", Auto, T, &[T, T, T], &[0, 0b001, 0b001], T),
        // The arbiter alone, even with quorum none, serves nothing.
        case("arbiter only, quorum none", None, T, &[F, F, T], clean3, F),
    ];
    for c in &cases {
        assert_eq!(gluster_serves(c.quorum, c.arbiter, c.up, c.blames), c.writes, "{}", c.source);
    }
}

#[test]
fn regression_replica_3_with_a_clean_third_brick_is_no_split_brain() {
    // afr-self-heal-common.c `afr_selfheal_find_direction`: a brick that no
    // brick up accuses is a source, and the others heal from it; only with
    // no such brick is it split-brain. n-1 away 100-110 h (owes 10 h of
    // writes, 1,440 s of heal, to 110h24m, from n-3 or n-2); n-2 away
    // 110h5m-110h15m while n-1 and n-3 take writes. When n-2 returns, n-1
    // (still healing) and n-2 each hold writes the other lacks, but n-3,
    // accused by nobody, holds both: heal, not split-brain.
    let events = format!("{}{}", node_down("n-1", "100h", "10h"), node_down("n-2", "110h5m", "10m"));
    let keys = "bricks = [\"n-1\", \"n-2\", \"n-3\"]\nping_timeout = \"0s\"\n\
                write_rate = \"2MiB/s\"\nheal_rate = \"50MiB/s\"";
    let (outcome, trace) = traced(&gluster_scripted(keys, &events));
    assert_eq!(outcome.volumes[0].split_brain_incidents, 0);
    assert!(!trace.iter().any(|r| r.kind == "split-brain"));
    assert_eq!(outcome.volumes[0].downtime_ms, 0, "two of three bricks up throughout");
}

#[test]
fn regression_a_brick_lacks_at_most_the_whole_volume() {
    // A brick away longer than size / write_rate cannot lack more than the
    // volume holds: 1 GiB written at 1 MiB/s is all rewritten after 1,024 s,
    // so ten hours away heal 1 GiB at 10 MiB/s, 102.4 s, not 3,600 s.
    let events = node_down("n-1", "100h", "10h");
    let keys = "bricks = [\"n-1\", \"n-2\", \"n-3\"]\nping_timeout = \"0s\"\nsize = \"1Gi\"\n\
                write_rate = \"1MiB/s\"\nheal_rate = \"10MiB/s\"";
    let (outcome, _) = traced(&gluster_scripted(keys, &events));
    assert_eq!(outcome.volumes[0].reduced_redundancy_ms, 10 * MS_PER_H + 102_400);
}
