//! The golden check of issue 13's redesign: every bundled scenario, the test
//! scenarios in `tests/` and forty fixed random scenarios
//! (`tests/golden/random/`, cases of `engine_props.rs`'s generator written
//! once) go through every command of the binary with fixed seeds, and every
//! byte they write (files and standard output, with the exit code) must
//! hash to what `tests/golden/outputs.sha256` recorded. The manifest was
//! written by 72f2224, the commit before the redesign, so a refactor that
//! moves one random draw, one event or one output byte fails here.
//!
//! A commit that changes outputs on purpose (a named bug fix) rewrites the
//! manifest with `CLUSTERSIM_BLESS_GOLDEN=1 cargo test --test integration
//! golden`, and says so. On a mismatch the outputs stay in
//! `target/tmp/golden-actual/` for `diff -r` against a run of the older commit.

use crate::common::{bin, repo};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

const MANIFEST: &str = "tests/golden/outputs.sha256";
const SEED: &str = "11";

/// One case: a sequence of command lines whose outputs land in the case's
/// folder. `{out}` in an argument is that folder.
struct Case {
    name: String,
    steps: Vec<Vec<String>>,
}

fn case(name: &str, steps: &[&[&str]]) -> Case {
    Case { name: name.to_string(), steps: steps.iter().map(|s| s.iter().map(|a| a.to_string()).collect()).collect() }
}

/// Every scenario file the check runs, in a fixed order.
fn scenarios() -> Vec<String> {
    let mut all = Vec::new();
    for dir in ["scenarios", "tests", "tests/golden/random"] {
        let mut files: Vec<String> = fs::read_dir(repo().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .map(|p| format!("{dir}/{}", p.file_name().unwrap().to_string_lossy()))
            .collect();
        files.sort();
        all.extend(files);
    }
    all
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for file in scenarios() {
        let stem = file.trim_end_matches(".toml").replace('/', "-");
        // The large datacenter (1,008 nodes, 10,000 apps) takes a minute per
        // replication-month in a test build, whose invariant checker runs
        // after every event: three days of one replication still see node,
        // disk and container failures.
        let (reps, horizon) = if file.contains("large-datacenter") { ("1", "3d") } else { ("6", "") };
        let mut run = vec!["run", &file, "--seed", SEED, "--replications", reps, "--trace", "--out", "{out}/results"];
        if !horizon.is_empty() {
            run.extend(["--horizon", horizon]);
        }
        cases.push(case(&format!("validate-{stem}"), &[&["validate", &file]]));
        cases.push(case(&format!("run-{stem}"), &[&run]));
    }
    let homelab = "scenarios/truecharts-homelab.toml";
    let common = ["--seed", SEED, "--replications", "8"];
    let with = |args: &[&str]| -> Vec<String> { args.iter().chain(common.iter()).map(|a| a.to_string()).collect() };
    for format in ["json", "csv"] {
        cases.push(Case {
            name: format!("run-format-{format}"),
            steps: vec![with(&["run", homelab, "--format", format, "--out", "{out}/results"])],
        });
    }
    cases.push(Case {
        name: "run-trace-3-threads-1".into(),
        steps: vec![with(&["run", homelab, "--trace", "3", "--threads", "1", "--out", "{out}/results"])],
    });
    cases.push(Case {
        name: "compare-strategies".into(),
        steps: vec![with(&["compare", homelab, "--out", "{out}/results"])],
    });
    cases.push(Case {
        name: "compare-scenarios".into(),
        steps: vec![with(&["compare", homelab, "scenarios/storage-comparison.toml", "--out", "{out}/results"])],
    });
    cases.push(Case {
        name: "sweep-file".into(),
        steps: vec![with(&["sweep", "tests/sweep-capacity.toml", "--target", "0.999", "--out", "{out}/results"])],
    });
    cases.push(Case {
        name: "sweep-set".into(),
        steps: vec![with(&[
            "sweep",
            homelab,
            "--set",
            "kubernetes.eviction_toleration=30s,5m",
            "--out",
            "{out}/results",
        ])],
    });
    cases.push(Case {
        name: "plan".into(),
        steps: vec![with(&[
            "plan",
            "tests/sweep-capacity.toml",
            "--target",
            "class=flexible availability>=0.999",
            "--vary",
            "nodes.n.count",
            "--values",
            "2,3,4,5",
        ])],
    });
    cases.push(Case {
        name: "shards-merged".into(),
        steps: vec![
            with(&["run", homelab, "--shard", "0/3", "--trace", "--out", "{out}/s0"]),
            with(&["run", homelab, "--shard", "1/3", "--trace", "--out", "{out}/s1"]),
            with(&["run", homelab, "--shard", "2/3", "--trace", "--out", "{out}/s2"]),
            vec![
                "merge".into(),
                "{out}/s0".into(),
                "{out}/s1".into(),
                "{out}/s2".into(),
                "--out".into(),
                "{out}/merged".into(),
            ],
        ],
    });
    cases.push(Case {
        name: "report-redrawn".into(),
        steps: vec![
            with(&["run", "scenarios/storage-comparison.toml", "--trace", "--out", "{out}/results", "--quiet"]),
            vec!["report".into(), "{out}/results".into()],
        ],
    });
    cases
}

/// SHA-256 of `bytes` with the run's temporary root replaced by `<OUT>`, so
/// paths printed or written do not depend on where the check ran.
fn digest(bytes: &[u8], root: &str) -> String {
    use sha2::{Digest, Sha256};
    let text;
    let normal: &[u8] = match std::str::from_utf8(bytes) {
        Ok(s) if s.contains(root) => {
            text = s.replace(root, "<OUT>");
            text.as_bytes()
        }
        _ => bytes,
    };
    Sha256::digest(normal).iter().map(|b| format!("{b:02x}")).collect()
}

fn files_under(dir: &Path, prefix: &str, found: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let name = format!("{prefix}/{}", path.file_name().unwrap().to_string_lossy());
        if path.is_dir() {
            files_under(&path, &name, found);
        } else {
            found.push((name, path));
        }
    }
}

/// Runs every case into `root` and returns `case/file -> hash`.
fn run_all(root: &Path) -> BTreeMap<String, String> {
    let root_text = root.to_str().unwrap().to_string();
    let mut hashes = BTreeMap::new();
    for case in cases() {
        let out = root.join(&case.name);
        fs::create_dir_all(&out).unwrap();
        let mut log = Vec::new();
        for step in &case.steps {
            let args: Vec<String> = step.iter().map(|a| a.replace("{out}", out.to_str().unwrap())).collect();
            let output = bin().current_dir(repo()).args(&args).env("NO_COLOR", "1").output().unwrap();
            log.extend_from_slice(format!("$ {}\nexit {:?}\n", step.join(" "), output.status.code()).as_bytes());
            log.extend_from_slice(&output.stdout);
            log.extend_from_slice(b"--- stderr\n");
            log.extend_from_slice(&output.stderr);
        }
        fs::write(out.join("console.txt"), &log).unwrap();
        let mut found = Vec::new();
        files_under(&out, &case.name, &mut found);
        for (name, path) in found {
            hashes.insert(name, digest(&fs::read(path).unwrap(), &root_text));
        }
    }
    hashes
}

#[test]
fn every_output_byte_matches_the_commit_before_the_redesign() {
    let root = tempfile::tempdir().unwrap();
    let hashes = run_all(root.path());
    let manifest: String = hashes.iter().map(|(name, hash)| format!("{hash}  {name}\n")).collect();
    let path = repo().join(MANIFEST);
    if std::env::var_os("CLUSTERSIM_BLESS_GOLDEN").is_some() {
        fs::write(&path, &manifest).unwrap();
        eprintln!("golden: wrote {} hashes to {MANIFEST}", hashes.len());
        return;
    }
    let expected: BTreeMap<String, String> = fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|line| {
            let (hash, name) = line.split_once("  ").unwrap();
            (name.to_string(), hash.to_string())
        })
        .collect();
    let mut differ = Vec::new();
    for name in expected.keys().chain(hashes.keys().filter(|n| !expected.contains_key(*n))) {
        match (expected.get(name), hashes.get(name)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(_), Some(_)) => differ.push(format!("changed: {name}")),
            (Some(_), None) => differ.push(format!("missing: {name}")),
            _ => differ.push(format!("new:     {name}")),
        }
    }
    if !differ.is_empty() {
        let keep = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("golden-actual");
        let _ = fs::remove_dir_all(&keep);
        fs::rename(root.path(), &keep).or_else(|_| copy_dir(root.path(), &keep)).unwrap();
        panic!(
            "{} of {} golden outputs differ from {MANIFEST} (outputs kept in {}):\n{}",
            differ.len(),
            expected.len(),
            keep.display(),
            differ.join("\n")
        );
    }
    assert!(expected.len() > 500, "the golden manifest covers every case: {} files", expected.len());
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let path = entry?.path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() { copy_dir(&path, &target)? } else { fs::copy(&path, &target).map(|_| ())? }
    }
    Ok(())
}
