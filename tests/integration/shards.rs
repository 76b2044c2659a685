//! Sharded runs (`run --shard I/N`) merged back into the single run's files.

use crate::common::{repo, run_in};
use std::fs;
use std::path::Path;

/// Runs `scenario` in `dir` as `shards` shards (`s0`, `s1`, ...) and as one
/// run (`single`), each with `args`, merges the shards into `merged`, and
/// asserts that every file of the single run is the merged one, byte for
/// byte. Returns the files' names.
fn merged_shards_are_the_single_run(dir: &Path, scenario: &str, shards: usize, args: &[&str]) -> Vec<String> {
    for i in 0..shards {
        let (shard, out) = (format!("{i}/{shards}"), format!("s{i}"));
        let mut a = vec!["run", scenario, "--shard", &shard, "--out", &out];
        a.extend(args);
        let res = run_in(dir, &a);
        assert_eq!(res.status.code(), Some(0), "{}", String::from_utf8_lossy(&res.stderr));
    }
    let mut a = vec!["run", scenario, "--out", "single"];
    a.extend(args);
    assert_eq!(run_in(dir, &a).status.code(), Some(0));
    let outs: Vec<String> = (0..shards).map(|i| format!("s{i}")).collect();
    let mut a = vec!["merge"];
    a.extend(outs.iter().map(String::as_str));
    a.extend(["--out", "merged"]);
    let res = run_in(dir, &a);
    assert_eq!(res.status.code(), Some(0), "{}", String::from_utf8_lossy(&res.stderr));
    let mut names: Vec<String> = fs::read_dir(dir.join("single"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in &names {
        let single = fs::read(dir.join("single").join(name)).unwrap();
        let merged = fs::read(dir.join("merged").join(name)).unwrap();
        assert!(single == merged, "{name} differs between the single run and the merged shards");
    }
    names
}

#[test]
fn four_shards_merge_into_the_single_runs_files_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/storage-comparison.toml");
    let sc = scenario.to_str().unwrap();
    let args = ["--replications", "24", "--horizon", "2y", "--quiet"];
    let names = merged_shards_are_the_single_run(tmp.path(), sc, 4, &args);
    assert!(names.len() >= 10, "{names:?}");

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
    let names = merged_shards_are_the_single_run(tmp.path(), "split.toml", 2, &["--quiet"]);
    for name in ["volumes.csv", "volume_replications.csv", "summary.json"] {
        assert!(names.iter().any(|n| n == name), "no {name} in {names:?}");
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
