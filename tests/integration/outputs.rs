//! The output folder's safety (issue 7): an interrupted run leaves the
//! previous complete results or the new ones, never a mix; names from the
//! scenario stay inside the output folder; files a run did not write are
//! never deleted or overwritten.

use crate::common::{bin, repo, run_in, snapshot, write};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

fn homelab() -> String {
    repo().join("scenarios/truecharts-homelab.toml").display().to_string()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The files of one complete run: exactly what its manifest lists.
fn assert_complete(files: &BTreeMap<String, Vec<u8>>, what: &str) {
    let manifest: serde_json::Value = serde_json::from_slice(&files["summary.json"]).unwrap();
    let mut listed: Vec<&str> = manifest["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    listed.sort();
    let present: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(present, listed, "{what}: the files are exactly those the manifest lists");
}

/// The names of the entries under `root`, recursively, relative to it.
fn tree(root: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            all.push(path.strip_prefix(root).unwrap().to_path_buf());
            if path.is_dir() && !path.is_symlink() {
                todo.push(path);
            }
        }
    }
    all.sort();
    all
}

#[test]
fn a_run_killed_mid_way_leaves_the_previous_results_or_the_new_ones_never_a_mix() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = homelab();
    let args = |seed: &'static str, out: &'static str| {
        vec!["run", sc.as_str(), "--replications", "200", "--seed", seed, "--trace", "--out", out, "--quiet"]
    };
    // The previous complete run, with a file of the user's beside it.
    let out = run_in(tmp.path(), &args("1", "res"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let res = tmp.path().join("res");
    let previous = snapshot(&res);
    assert_complete(&previous, "the previous run");
    write(&res, "notes.txt", "mine");
    // What the new run writes when it completes, and how long it takes.
    let started = Instant::now();
    let out = run_in(tmp.path(), &args("2", "reference"));
    let full = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let fresh = snapshot(&tmp.path().join("reference"));
    assert_complete(&fresh, "the new run");
    assert_ne!(previous, fresh, "the two runs differ, so a mix would show");

    // Kill the new run at moments spread over its length (and beyond, so
    // one completes); after each kill the folder holds one run's files.
    let mut outcome = "never completed";
    for step in 0..=30u32 {
        let delay = full.mul_f64(f64::from(step) / 20.0);
        let mut child = bin()
            .current_dir(tmp.path())
            .args(args("2", "res"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL; fails only if it has exited
        let status = child.wait().unwrap();
        eprintln!("step {step}: killed after {delay:?}: {status}");
        let mut now = snapshot(&res);
        assert_eq!(now.remove("notes.txt").as_deref(), Some(&b"mine"[..]), "the user's file is intact");
        if now == fresh {
            outcome = if status.success() { "completed" } else { "killed after the switch" };
            break;
        }
        let differing: Vec<&String> =
            now.keys().chain(previous.keys()).filter(|k| now.get(*k) != previous.get(*k)).collect();
        assert!(differing.is_empty(), "killed after {delay:?}: a mix of runs, differing files {differing:?}");
        assert!(!status.success(), "a run that completed left the previous results");
    }
    if outcome == "never completed" {
        // On a loaded machine every kill can land before the switch: then a
        // last run, not killed, must complete over what the killed ones left.
        let out = run_in(tmp.path(), &args("2", "res"));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let mut now = snapshot(&res);
        assert_eq!(now.remove("notes.txt").as_deref(), Some(&b"mine"[..]), "the user's file is intact");
        assert!(now == fresh, "the completed run's files are the reference's");
        outcome = "completed";
    }
    // The run that completed removed the staging folders of the killed ones
    // and took over the lock each of them left.
    if outcome == "completed" {
        assert_eq!(leftovers(tmp.path()), Vec::<String>::new(), "staging folders or locks left");
    }
}

/// The staging folders and lock files in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut left: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("staging") || n.ends_with(".lock"))
        .collect();
    left.sort();
    left
}

/// This machine's name, as a lock file records it.
fn host() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim_end().to_string()
}

/// Runs the binary with `args` in `dir`, where it must be refused before it
/// simulates: a command stages beside its output folder (here, in `dir`)
/// before it writes anything, and a run before its first replication, so
/// its staging folder must never appear while it is alive (with many
/// replications to run, it would be seen).
fn refused_at_once(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut child = bin().current_dir(dir).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let staging = format!(".staging-{}", child.id());
    while child.try_wait().unwrap().is_none() {
        let staged = fs::read_dir(dir).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().ends_with(&staging));
        if staged {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} started writing into a locked folder");
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_folder_another_command_is_writing_is_refused_at_once_and_its_lock_taken_over_after_a_kill() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = homelab();
    let res = tmp.path().join("res");
    let out = run_in(tmp.path(), &["run", &sc, "--replications", "3", "--out", "res", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    write(&res, "notes.txt", "mine");
    let out = run_in(tmp.path(), &["run", &sc, "--replications", "3", "--shard", "0/1", "--out", "s0", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let before = snapshot(&res);
    // A long run into the same folder, holding its lock.
    let mut writer = bin()
        .current_dir(tmp.path())
        .args(["run", &sc, "--replications", "100000", "--out", "res", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = fs::canonicalize(tmp.path()).unwrap().join(".res.lock");
    let holder = format!("pid {}\n", writer.id());
    while !fs::read_to_string(&lock).is_ok_and(|t| t.contains(&holder)) {
        assert!(writer.try_wait().unwrap().is_none(), "the long run ended before taking its lock");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let held = fs::read_to_string(&lock).unwrap();
    assert!(held.contains("command ") && held.contains("--replications 100000"), "{held}");

    // Every command that writes the folder is refused at once, naming the
    // folder, the lock and its holder, and saying what to do.
    let commands: [&[&str]; 5] = [
        &["run", &sc, "--replications", "100000", "--out", "res"],
        &["compare", &sc, "--replications", "3", "--out", "res"],
        &["sweep", &sc, "--replications", "3", "--set", "node_defaults.cpu=8,16", "--out", "res"],
        &["merge", "s0", "--out", "res"],
        &["report", "res"],
    ];
    for args in commands {
        let out = refused_at_once(tmp.path(), args);
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {text}");
        for needle in ["res: ", &lock.display().to_string(), &format!("process {}", writer.id()), "wait", "delete"] {
            assert!(text.contains(needle), "{args:?}: `{needle}` missing from: {text}");
        }
    }
    assert_eq!(snapshot(&res), before, "the refused commands left the folder untouched");
    assert_eq!(fs::read_to_string(&lock).unwrap(), held, "and the lock too");

    // Killed, the long run leaves its lock (no destructor runs): the next
    // run takes it over, says so, and removes it at its end.
    writer.kill().unwrap();
    writer.wait().unwrap();
    assert!(lock.exists());
    let out = run_in(tmp.path(), &["run", &sc, "--replications", "3", "--seed", "9", "--out", "res"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("took over the lock") && stderr(&out).contains("no longer running"),
        "{}",
        stderr(&out)
    );
    assert_ne!(snapshot(&res), before, "the new results are in");
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new(), "staging folders or locks left");
}

#[test]
fn a_lock_of_a_live_pid_refuses_a_dead_pids_is_taken_over_and_no_run_leaves_one() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = homelab();
    let res = tmp.path().join("res");
    let lock = fs::canonicalize(tmp.path()).unwrap().join(".res.lock");
    let lock_of =
        |pid: u32| format!("clustersim lock\npid {pid}\nhost {}\ncommand clustersim run other.toml\n", host());
    // A live process's lock, written as a clustersim process would (no
    // flock held: the pid alone says it is alive).
    let mut sleeper = std::process::Command::new("sleep").arg("600").spawn().unwrap();
    write(tmp.path(), ".res.lock", &lock_of(sleeper.id()));
    let out = refused_at_once(tmp.path(), &["run", &sc, "--replications", "100000", "--out", "res"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("process {} (`clustersim run other.toml`)", sleeper.id())),
        "{}",
        stderr(&out)
    );
    assert!(!res.exists(), "the refused run made no folder");
    assert_eq!(fs::read_to_string(&lock).unwrap(), lock_of(sleeper.id()));
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    // Its process gone, the lock is stale: taken over, and removed after.
    let out = run_in(tmp.path(), &["run", &sc, "--replications", "3", "--out", "res"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let notice = format!("took over the lock {} of process {}", lock.display(), sleeper.id());
    assert!(stderr(&out).contains(&notice), "{}", stderr(&out));
    assert_complete(&snapshot(&res), "the run over a stale lock");
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new(), "after a successful run");
    // Failed runs, at their start and at their end, leave no lock either.
    let other = fs::read_to_string(homelab()).unwrap().replace("TrueCharts homelab", "another cluster");
    let other = write(tmp.path(), "other.toml", &other).display().to_string();
    let out = run_in(tmp.path(), &["run", &other, "--replications", "3", "--out", "res"]);
    assert_eq!(out.status.code(), Some(2), "another scenario's folder: {}", stderr(&out));
    write(&res, "events.csv", "my own events");
    let out = run_in(tmp.path(), &["run", &sc, "--replications", "3", "--trace", "--out", "res"]);
    assert_eq!(out.status.code(), Some(2), "a user's file in the way: {}", stderr(&out));
    assert!(stderr(&out).contains("events.csv"), "{}", stderr(&out));
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new(), "after failed runs");
}

#[test]
fn a_scenario_name_with_path_separators_stays_inside_the_output_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let (files, work) = (tmp.path().join("scenarios"), tmp.path().join("work"));
    fs::create_dir_all(&files).unwrap();
    fs::create_dir_all(&work).unwrap();
    let text = fs::read_to_string(homelab()).unwrap();
    // The scenario name, and the file name the default folder comes from:
    // `...toml` has the stem `..`, and `output/..` is the current folder.
    let cases = [
        ("etc.toml", "../../etc"),
        ("abs.toml", "/abs/path"),
        ("ab.toml", "a/b"),
        ("...toml", ".."),
        ("a b:c?.toml", "a\\b"),
    ];
    for (file, name) in cases {
        let scenario = text.replace("name = \"TrueCharts homelab\"", &format!("name = {name:?}"));
        let path = write(&files, file, &scenario);
        let out = run_in(&work, &["run", path.to_str().unwrap(), "--replications", "3", "--quiet"]);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", stderr(&out));
        for sub in ["compare", "sweep"] {
            let args: Vec<&str> = match sub {
                "compare" => vec!["compare", path.to_str().unwrap(), "--replications", "3"],
                _ => vec!["sweep", path.to_str().unwrap(), "--replications", "3", "--set", "node_defaults.cpu=8,16"],
            };
            let out = run_in(&work, &args);
            assert_eq!(out.status.code(), Some(0), "{sub} {file}: {}", stderr(&out));
        }
    }
    let outside: Vec<PathBuf> = tree(tmp.path())
        .into_iter()
        .filter(|p| !p.starts_with("scenarios") && !p.starts_with("work/output") && p != Path::new("work"))
        .filter(|p| p != Path::new("work/output"))
        .collect();
    assert!(outside.is_empty(), "written outside the output folder: {outside:?}");
    let mut folders: Vec<String> =
        fs::read_dir(work.join("output")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    folders.sort();
    assert_eq!(
        folders,
        [
            "a-b-c-",
            "a-b-c--sweep",
            "ab",
            "ab-sweep",
            "abs",
            "abs-sweep",
            "compare-a-b-c-",
            "compare-ab",
            "compare-abs",
            "compare-etc",
            "compare-scenario",
            "etc",
            "etc-sweep",
            "scenario",
            "scenario-sweep",
        ],
        "one folder per file stem, made safe (`..` and `.` become `scenario`)"
    );
}

#[test]
fn a_users_files_survive_a_rerun_a_forced_rerun_and_a_redraw() {
    let tmp = tempfile::tempdir().unwrap();
    let res = tmp.path().join("res");
    let run = |scenario: &str, extra: &[&str]| {
        let mut args = vec!["run", scenario, "--replications", "3", "--out", "res", "--quiet"];
        args.extend_from_slice(extra);
        run_in(tmp.path(), &args)
    };
    let out = run(&homelab(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    write(&res, "notes.txt", "mine");
    fs::create_dir(res.join("drafts")).unwrap();
    write(&res.join("drafts"), "plan.md", "plan");
    let mine = |what: &str| {
        assert_eq!(fs::read(res.join("notes.txt")).unwrap(), b"mine", "{what}: notes.txt");
        assert_eq!(fs::read(res.join("drafts/plan.md")).unwrap(), b"plan", "{what}: drafts/plan.md");
    };

    let out = run(&homelab(), &["--seed", "5"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    mine("a rerun");
    let other = fs::read_to_string(homelab()).unwrap().replace("TrueCharts homelab", "another cluster");
    let other = write(tmp.path(), "other.toml", &other).display().to_string();
    let out = run(&other, &["--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    mine("a forced rerun of another scenario");

    let before = snapshot(&res);
    let out = run_in(tmp.path(), &["report", "res"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(snapshot(&res), before, "a redraw of the same files gives the same bytes and keeps the user's");
    mine("a redraw");

    // A file of the user's with the name of a file the run would write is
    // refused without --force, and nothing changes.
    write(&res, "events.csv", "my own events");
    let before = snapshot(&res);
    let out = run(&other, &["--trace"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("events.csv") && stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(snapshot(&res), before, "the refused run changed nothing");
    let out = run(&other, &["--trace", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(fs::read_to_string(res.join("events.csv")).unwrap().starts_with("strategy,time_ms"));
    mine("a forced run over a file of the same name");
    let left: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("staging"))
        .collect();
    assert!(left.is_empty(), "staging folders left: {left:?}");
}

#[test]
fn an_output_folder_reached_through_a_link_stays_a_link() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    fs::create_dir(&real).unwrap();
    write(&real, "notes.txt", "mine");
    std::os::unix::fs::symlink(&real, tmp.path().join("link")).unwrap();
    for _ in 0..2 {
        let out = run_in(tmp.path(), &["run", &homelab(), "--replications", "3", "--out", "link", "--quiet"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    assert!(fs::symlink_metadata(tmp.path().join("link")).unwrap().file_type().is_symlink(), "the link is kept");
    assert!(real.join("summary.json").exists(), "the results are in the folder it points to");
    assert_eq!(fs::read(real.join("notes.txt")).unwrap(), b"mine");
    // Nothing else is left beside it.
    let mut names: Vec<String> =
        fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["link", "real"]);
}

#[test]
fn the_current_folder_is_written_in_place_manifest_last() {
    // A folder the user's shell is in is not swapped (the shell would be
    // left in a deleted folder): the files are moved in one by one instead.
    let tmp = tempfile::tempdir().unwrap();
    let res = tmp.path().join("res");
    fs::create_dir(&res).unwrap();
    write(&res, "notes.txt", "mine");
    let inode = || std::os::unix::fs::MetadataExt::ino(&fs::metadata(&res).unwrap());
    let folder = inode();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--replications", "3", "--out", ".", "--quiet"];
        let h = homelab();
        args.insert(1, &h);
        args.extend_from_slice(extra);
        let out = run_in(&res, &args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    run(&["--trace"]);
    run(&[]);
    let mut files = snapshot(&res);
    assert_eq!(files.remove("notes.txt").as_deref(), Some(&b"mine"[..]));
    assert_complete(&files, "a run in place");
    assert!(!files.contains_key("events.csv"), "the previous run's trace is gone");
    let out = run_in(&res, &["report", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut redrawn = snapshot(&res);
    redrawn.remove("notes.txt");
    assert_eq!(redrawn, files, "a redraw in place gives the same files");
    let names: Vec<String> =
        fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names, ["res"], "nothing written beside the folder");
    assert_eq!(inode(), folder, "the folder itself was not replaced");
}
