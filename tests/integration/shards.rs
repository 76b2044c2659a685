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

/// Two nodes that fail often and a Gluster volume of replica 2 (quorum
/// none): some replications end in split-brain.
const SPLIT_BRAIN: &str = r#"
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

#[test]
fn split_brain_counts_go_through_the_files_and_the_merge() {
    // Replica 2 under its default quorum none, nodes that fail often: some
    // replications end in split-brain. The merged shards must give the
    // single run's volumes.csv, volume_replications.csv and summary.json.
    let tmp = tempfile::tempdir().unwrap();
    let text = SPLIT_BRAIN;
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

/// Two shards of a small run with a volume and two strategies, in
/// `dir/s0` and `dir/s1`.
fn two_shards(dir: &Path) {
    crate::common::write(dir, "small.toml", SPLIT_BRAIN);
    let settings =
        ["--replications", "4", "--horizon", "1y", "--strategy", "spread", "--strategy", "binpack", "--quiet"];
    for i in 0..2 {
        let (shard, out) = (format!("{i}/2"), format!("s{i}"));
        let mut args = vec!["run", "small.toml", "--shard", &shard, "--out", &out];
        args.extend(settings);
        let res = run_in(dir, &args);
        assert_eq!(res.status.code(), Some(0), "{}", String::from_utf8_lossy(&res.stderr));
    }
}

/// Issue 13: `merge` on shard folders a user edited or truncated is an
/// input error (exit 2) that names the file and, for a cell, its line,
/// column and field, never a panic. Each case edits one file of shard 1
/// (a fresh copy), merges, and expects `expected` in the error.
#[test]
fn issue13_merge_of_edited_or_truncated_shards_is_an_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    two_shards(tmp.path());
    type Edit = fn(&str) -> String;
    let cases: &[(&str, &str, Edit, &str)] = &[
        // A multi-byte character in a fraction (was a slice inside a character).
        ("non-ASCII fraction", "replications.csv", |t| replace_cell(t, 1, 3, "1.0é"), "replications.csv:2:"),
        (
            "non-ASCII fraction key",
            "replications.csv",
            |t| replace_cell(t, 1, 3, "1.0é"),
            "`downtime_s`: `1.0é` is not",
        ),
        (
            "digits too many",
            "replications.csv",
            |t| replace_cell(t, 1, 3, "99999999999999999999"),
            "not a number of seconds",
        ),
        (
            "more than the horizon",
            "replications.csv",
            |t| replace_cell(t, 1, 3, "31557601.000"),
            "more than the run's horizon",
        ),
        ("a sign", "replications.csv", |t| replace_cell(t, 1, 4, "+1"), "`outages`: `+1` is not a count"),
        ("a count too big", "replications.csv", |t| replace_cell(t, 1, 4, "4294967296"), "is not a count"),
        ("a replication that is no number", "replications.csv", |t| replace_cell(t, 1, 1, "x"), "`replication`: `x`"),
        ("an unknown app", "replications.csv", |t| replace_cell(t, 1, 2, "emby"), "unknown app `emby`"),
        // A short header (was `row[7]` out of bounds).
        ("short volume header", "volume_replications.csv", |t| keep_columns(t, 3), "no column `downtime_s`"),
        ("short app header", "replications.csv", |t| keep_columns(t, 4), "no column `outages`"),
        ("truncated mid-row", "volume_replications.csv", |t| t[..t.len() - 4].to_string(), "volume_replications.csv"),
        ("empty file", "replications.csv", |_| String::new(), "no column `replication`"),
        ("rows out of order", "replications.csv", swap_last_rows, "replications.csv"),
        (
            "volume rows for apps only",
            "volume_replications.csv",
            |t| t.lines().next().unwrap().to_string() + "\n",
            "not all its volumes",
        ),
        // The manifest: a count that cannot be allocated, and settings a run never has.
        (
            "a huge shard count",
            "summary.json",
            |t| t.replace("\"count\": 2", "\"count\": 1000000000000000000"),
            "shard.count",
        ),
        ("a shard count of zero", "summary.json", |t| t.replace("\"count\": 2", "\"count\": 0"), "shard.count"),
        ("no replications", "summary.json", |t| set_json(t, "replications", "0"), "`replications`: not a whole number"),
        ("too many replications", "summary.json", |t| set_json(t, "replications", "4294967296"), "`replications`"),
        ("zero horizon", "summary.json", |t| set_json(t, "horizon_ms", "0"), "`horizon_ms`"),
        // The settings are edits of the scenario validated once: a rule of
        // the model broken by a manifest's value names the manifest's key.
        (
            "replications over the model's limit",
            "summary.json",
            |t| set_json(t, "replications", "20000000"),
            "summary.json: `replications`: 20000000 replications is over the limit `max_replications`",
        ),
        (
            "a seed no scenario can hold",
            "summary.json",
            |t| set_json(t, "seed", "18446744073709551615"),
            "summary.json: `seed`: must be at most 9223372036854775807",
        ),
        (
            "unknown strategy",
            "summary.json",
            |t| set_json(t, "strategies", "[\"spred\"]"),
            "\"spred\" is not a strategy",
        ),
        ("no strategies", "summary.json", |t| set_json(t, "strategies", "[]"), "`strategies`"),
        ("a strategy twice", "summary.json", |t| set_json(t, "strategies", "[\"spread\", \"spread\"]"), "listed twice"),
        ("no scenario text", "summary.json", |t| set_json(t, "scenario_text", "7"), "`scenario_text`"),
        ("no JSON", "summary.json", |t| t[..t.len() / 2].to_string(), "not a shard manifest"),
    ];
    for (i, (what, file, edit, expected)) in cases.iter().enumerate() {
        let copy = format!("c{i}");
        copy_dir(&tmp.path().join("s1"), &tmp.path().join(&copy));
        let path = tmp.path().join(&copy).join(file);
        fs::write(&path, edit(&fs::read_to_string(&path).unwrap())).unwrap();
        // Manifests must agree, so a manifest edit goes into both shards.
        let first = if *file == "summary.json" {
            let c0 = format!("c{i}-0");
            copy_dir(&tmp.path().join("s0"), &tmp.path().join(&c0));
            let p0 = tmp.path().join(&c0).join(file);
            fs::write(&p0, edit(&fs::read_to_string(&p0).unwrap())).unwrap();
            c0
        } else {
            "s0".to_string()
        };
        let res = run_in(tmp.path(), &["merge", &first, &copy, "--out", &format!("m{i}")]);
        let stderr = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(2), "{what}: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert!(stderr.contains(expected), "{what}: expected `{expected}` in: {stderr}");
    }
    // The unedited shards still merge.
    let res = run_in(tmp.path(), &["merge", "s0", "s1", "--out", "ok"]);
    assert_eq!(res.status.code(), Some(0), "{}", String::from_utf8_lossy(&res.stderr));
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// The CSV `text` with field `column` of data row `row` (1-based) set to `value`.
fn replace_cell(text: &str, row: usize, column: usize, value: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut fields: Vec<&str> = lines[row].split(',').collect();
    fields[column] = value;
    lines[row] = fields.join(",");
    lines.join("\n") + "\n"
}

/// The CSV `text` with only its first `n` columns, header and rows.
fn keep_columns(text: &str, n: usize) -> String {
    text.lines().map(|l| l.split(',').take(n).collect::<Vec<_>>().join(",") + "\n").collect()
}

/// The CSV `text` with its first and last data rows swapped.
fn swap_last_rows(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines.len() - 1;
    lines.swap(1, last);
    lines.join("\n") + "\n"
}

/// The JSON `text` with its top-level `key` set to the JSON `value`.
fn set_json(text: &str, key: &str, value: &str) -> String {
    let mut json: serde_json::Value = serde_json::from_str(text).unwrap();
    json[key] = serde_json::from_str(value).unwrap();
    serde_json::to_string_pretty(&json).unwrap()
}

/// Issue 13: no cycle cli <-> shard. `shard` (below `cli`, which calls
/// `merge`) takes the run warnings from `warnings`, never from `cli`.
#[test]
fn shard_does_not_import_cli() {
    let text = fs::read_to_string(repo().join("src/shard.rs")).unwrap();
    assert!(!text.contains("crate::cli"), "src/shard.rs imports cli again");
}
