//! Sharded runs (`run --shard I/N`) merged back into the single run's files.

use crate::common::{repo, run_in};
use std::fs;

#[test]
fn four_shards_merge_into_the_single_runs_files_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/storage-comparison.toml");
    let sc = scenario.to_str().unwrap();
    let args = ["--replications", "24", "--horizon", "2y", "--quiet"];
    for i in 0..4 {
        let shard = format!("{i}/4");
        let out = format!("s{i}");
        let mut a = vec!["run", sc, "--shard", &shard, "--out", &out];
        a.extend(args);
        assert_eq!(run_in(tmp.path(), &a).status.code(), Some(0));
    }
    let mut a = vec!["run", sc, "--out", "single"];
    a.extend(args);
    assert_eq!(run_in(tmp.path(), &a).status.code(), Some(0));
    let res = run_in(tmp.path(), &["merge", "s0", "s1", "s2", "s3", "--out", "merged"]);
    assert_eq!(res.status.code(), Some(0), "{}", String::from_utf8_lossy(&res.stderr));
    let mut names: Vec<String> = fs::read_dir(tmp.path().join("single"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in &names {
        let single = fs::read(tmp.path().join("single").join(name)).unwrap();
        let merged = fs::read(tmp.path().join("merged").join(name)).unwrap();
        assert!(single == merged, "{name} differs between the single run and the merged shards");
    }

    // A missing shard and a shard of another seed are errors.
    let res = run_in(tmp.path(), &["merge", "s0", "s1", "s3", "--out", "m2"]);
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("shard 2 of 4 is missing"));
    let mut a = vec!["run", sc, "--shard", "2/4", "--out", "other", "--seed", "99"];
    a.extend(args);
    assert_eq!(run_in(tmp.path(), &a).status.code(), Some(0));
    let res = run_in(tmp.path(), &["merge", "s0", "s1", "other", "s3", "--out", "m3"]);
    assert_eq!(res.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&res.stderr).contains("its seed differs"),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let res = run_in(tmp.path(), &["merge", "s0", "s0", "s1", "s3", "--out", "m4"]);
    assert!(String::from_utf8_lossy(&res.stderr).contains("given twice"));
}

#[test]
fn the_shard_index_can_come_from_job_completion_index() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/truecharts-homelab.toml");
    let out = crate::common::bin()
        .current_dir(tmp.path())
        .env("JOB_COMPLETION_INDEX", "1")
        .args(["run", scenario.to_str().unwrap(), "--replications", "6", "--shard", "3", "--out", "s", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(tmp.path().join("s/summary.json")).unwrap()).unwrap();
    assert_eq!(manifest["shard"]["index"], 1);
    let reps = fs::read_to_string(tmp.path().join("s/replications.csv")).unwrap();
    let numbers: std::collections::BTreeSet<&str> =
        reps.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(numbers.into_iter().collect::<Vec<_>>(), vec!["1", "4"], "replications r with r mod 3 = 1");
    let bad = run_in(tmp.path(), &["run", scenario.to_str().unwrap(), "--shard", "3/3", "--out", "x"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn split_brain_counts_go_through_the_files_and_the_merge() {
    // Replica 2 under its default quorum none, nodes that fail often: some
    // replications end in split-brain. The merged shards must give the
    // single run's volumes.csv, volume_replications.csv and summary.json.
    let tmp = tempfile::tempdir().unwrap();
    let text = r#"
        horizon = "2y"
        replications = 12
        seed = 3
        strategies = ["spread"]
        [node_defaults]
        cpu = 4
        memory = "8Gi"
        failure = { dist = "exponential", mean = "300h" }
        repair = { dist = "exponential", mean = "30h" }
        [[nodes]]
        name = "n"
        count = 2
        [[volumes]]
        name = "media"
        backend = "gluster"
        replicas = 2
        [[apps]]
        name = "plex"
        class = "flexible"
        volumes = ["media"]
        "#;
    crate::common::write(tmp.path(), "split.toml", text);
    for i in 0..2 {
        let (shard, out) = (format!("{i}/2"), format!("s{i}"));
        let res = run_in(tmp.path(), &["run", "split.toml", "--shard", &shard, "--out", &out, "--quiet"]);
        assert_eq!(res.status.code(), Some(0), "{}", String::from_utf8_lossy(&res.stderr));
    }
    assert_eq!(run_in(tmp.path(), &["run", "split.toml", "--out", "single", "--quiet"]).status.code(), Some(0));
    let res = run_in(tmp.path(), &["merge", "s0", "s1", "--out", "merged"]);
    assert_eq!(res.status.code(), Some(0), "{}", String::from_utf8_lossy(&res.stderr));
    for name in ["volumes.csv", "volume_replications.csv", "summary.json"] {
        let single = fs::read(tmp.path().join("single").join(name)).unwrap();
        let merged = fs::read(tmp.path().join("merged").join(name)).unwrap();
        assert!(single == merged, "{name} differs between the single run and the merged shards");
    }
    let rows = fs::read_to_string(tmp.path().join("single/volume_replications.csv")).unwrap();
    assert!(rows.lines().next().unwrap().ends_with(",split_brain_incidents"), "{rows}");
    let incidents: u32 = rows.lines().skip(1).map(|l| l.rsplit(',').next().unwrap().parse::<u32>().unwrap()).sum();
    assert!(incidents > 0, "no split-brain in 12 replications:\n{rows}");
    let volumes = fs::read_to_string(tmp.path().join("single/volumes.csv")).unwrap();
    assert!(volumes.lines().next().unwrap().ends_with(",split_brain_incidents_per_year"), "{volumes}");
    let report = fs::read_to_string(tmp.path().join("single/report.html")).unwrap();
    assert!(report.contains("not downtime"), "the report explains split-brain");
}
