//! Limits instead of exhaustion: absurd sizes are refused up front, naming
//! the limit and how to change it; a raised `[limits]` lets a large run
//! through; the event estimate stays close to the events a run reports.

use crate::common::{repo, scenario};
use clustersim::model::Scenario;
use clustersim::model::limits::events_per_replication;
use clustersim::run::montecarlo;

/// Estimated and simulated events per replication (and strategy) of `sc`
/// over `reps` replications.
fn estimate_and_actual(sc: &mut Scenario, reps: u32) -> (f64, f64) {
    sc.replications = reps;
    let estimate: f64 = events_per_replication(sc).iter().map(|c| c.events).sum();
    let start = std::time::Instant::now();
    let results = montecarlo::run(sc, Some(1), &|| ()).expect("runs");
    let actual = results.events() as f64 / f64::from(reps) / sc.strategies.len() as f64;
    eprintln!(
        "{}: estimate {estimate:.0}, actual {actual:.0}, ratio {:.2}, {:.2} M events/s",
        sc.name,
        estimate / actual,
        results.events() as f64 / start.elapsed().as_secs_f64() / 1e6
    );
    (estimate, actual)
}

/// The estimate of events per replication is within a factor of 4 of what
/// the bundled scenarios and a few busy ones really simulate: an estimate is
/// all a limit on work needs, but one far off would refuse good runs or let
/// hangs through.
#[test]
fn the_event_estimate_is_close_to_the_events_simulated() {
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(repo().join("scenarios")).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            cases.push(clustersim::input::load(&path).expect("a bundled scenario is valid"));
        }
    }
    let busy = |name: &str, node: &str, app: &str, extra: &str| {
        scenario(&format!(
            "name = \"{name}\"\nhorizon = \"1y\"\n{extra}\n[node_defaults]\ncpu = 8\nmemory = \"16Gi\"\n{node}\n\
             [[nodes]]\nname = \"n\"\ncount = 4\n\n[[apps]]\nname = \"web\"\ncount = 3\nclass = \"flexible\"\ncpu = 1\n{app}\n"
        ))
    };
    let churn = "failure = { dist = \"exponential\", mean = \"100h\" }\nrepair = { dist = \"lognormal\", median = \"2h\", sigma = 1.0 }";
    cases.push(busy("crash-every-minute", churn, "crash = { dist = \"exponential\", mean = \"1m\" }", ""));
    cases.push(busy("crash-every-day", churn, "crash = { dist = \"exponential\", mean = \"1d\" }", ""));
    cases.push(busy("hang-every-hour", churn, "hang = { dist = \"exponential\", mean = \"1h\" }", ""));
    cases.push(busy("node-churn", churn, "", ""));
    cases.push(busy("maintenance", churn, "", "[maintenance]\nevery = \"7d\"\n"));
    for mut sc in cases {
        // The large bundled scenario (1,008 nodes, 10,000 apps) runs one
        // month once: the test build checks every invariant after every
        // event, a pass over all nodes and pods.
        let reps = if sc.nodes.len() > 500 {
            sc.horizon_ms = 30 * 24 * 3_600_000;
            1
        } else {
            10
        };
        let (estimate, actual) = estimate_and_actual(&mut sc, reps);
        assert!(
            estimate >= actual / 2.0 && estimate <= actual * 4.0,
            "{}: estimate {estimate}, actual {actual}",
            sc.name
        );
    }
}

/// A small scenario with `extra` appended: two nodes, one app.
fn small(extra: &str) -> String {
    format!(
        "horizon = \"1y\"\nreplications = 10\n\n[node_defaults]\ncpu = 4\nmemory = \"8Gi\"\n\
         failure = {{ dist = \"exponential\", mean = \"8000h\" }}\nrepair = \"12h\"\n\n\
         [[nodes]]\nname = \"n\"\ncount = 2\n\n[[apps]]\nname = \"web\"\nclass = \"flexible\"\ncpu = 1\n{extra}"
    )
}

fn refused(text: &str) -> String {
    clustersim::input::parse("t.toml", text).expect_err("refused").to_string()
}

/// What the absurd scenarios of `tests/bad/` are refused for is let through
/// once `[limits]` is raised far enough (validation only: running them is
/// the point of the limits).
#[test]
fn a_raised_limit_lets_a_large_scenario_through() {
    let nodes = small("").replace("count = 2", "count = 150_000");
    assert!(refused(&nodes).contains("`max_nodes` = 100000 (the default)"));
    let sc = scenario(&format!("{nodes}\n[limits]\nmax_nodes = 150_000\n"));
    assert_eq!(sc.nodes.len(), 150_000);

    let reps = small("").replace("replications = 10", "replications = 20_000_000");
    assert!(refused(&reps).contains("`max_replications` = 10000000"));
    assert_eq!(scenario(&format!("{reps}\n[limits]\nmax_replications = 20_000_000\n")).replications, 20_000_000);

    let hang = small(
        "crash = { dist = \"exponential\", mean = \"1ms\" }\nstartup = \"0s\"\n\n\
         [kubernetes]\nbackoff_initial = \"1ms\"\nbackoff_max = \"1ms\"\n",
    );
    let message = refused(&hang);
    assert!(message.contains("t.toml:18:9: `apps.crash`"), "{message}");
    assert!(message.contains("`[limits] max_events_per_replication = "), "{message}");
    // The message's own suggestion lets it through.
    let suggested: u64 = message
        .rsplit("max_events_per_replication = ")
        .next()
        .and_then(|n| n.trim_end_matches('`').parse().ok())
        .unwrap_or_else(|| panic!("no suggestion in {message}"));
    scenario(&format!("{hang}\n[limits]\nmax_events_per_replication = {suggested}\n"));

    let memory = small("count = 300\n")
        .replace("replications = 10", "replications = 5_000_000")
        .replace("horizon = \"1y\"", "horizon = \"1d\"");
    assert!(refused(&memory).contains("`max_memory` = 8Gi"));
    scenario(&format!("{memory}\n[limits]\nmax_memory = \"64Gi\"\n"));
}

/// The work limit of a run counts the replications of the process: a run
/// refused whole goes through in shards.
#[test]
fn a_run_over_the_event_limit_goes_through_in_shards() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let path = crate::common::write(dir.path(), "s.toml", &small("\n[limits]\nmax_events = 100\n"));
    let path = path.to_str().unwrap();
    let whole = crate::common::run_in(dir.path(), &["run", path, "--quiet", "--out", "whole"]);
    let stderr = String::from_utf8_lossy(&whole.stderr);
    assert_eq!(whole.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`limits.max_events`") && stderr.contains("--shard I/2"), "{stderr}");
    assert!(!dir.path().join("whole").exists());
    for shard in ["0/2", "1/2"] {
        let out = crate::common::run_in(dir.path(), &["run", path, "--quiet", "--shard", shard, "--out", shard]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // The same limit applies after --replications.
    let fewer = crate::common::run_in(dir.path(), &["run", path, "--quiet", "--replications", "4", "--out", "few"]);
    assert_eq!(fewer.status.code(), Some(0), "{}", String::from_utf8_lossy(&fewer.stderr));
}

/// No refusal takes long: the estimate never simulates (no timing
/// assertion; a hang would time the test out).
#[test]
fn absurd_scenarios_are_refused_without_running() {
    for (text, limit) in [
        (small("").replace("count = 2", "count = 1_000_000_000"), "`max_nodes`"),
        (small("").replace("horizon = \"1y\"", "horizon = \"1000000y\""), "limit of 100000y"),
        (small("").replace("replications = 10", "replications = 1_000_000_000_000"), "hard limit of 4294967295"),
    ] {
        assert!(refused(&text).contains(limit), "{text}");
    }
}
