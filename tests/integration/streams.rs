//! Stable random streams (`clustersim::rng`) and the name order of the
//! model (`clustersim::model::order`): what two variants of a scenario
//! share keeps its random history, so `compare`, `sweep` and `plan` measure
//! the change and only the change.

use crate::common::{app_id, bin, scenario, write};
use clustersim::metrics::ReplicationOutcome;
use clustersim::model::Scenario;

/// A homelab: three mini-PCs and a NAS that holds Home Assistant (pinned),
/// the media apps free to move, every node with room for all of them.
/// `extra_before` and `extra_after` are `[[nodes]]` entries written before
/// and after the NAS.
fn homelab(extra_before: &str, extra_after: &str, apps_reversed: bool) -> String {
    let mut apps = [
        "[[apps]]\nname = \"home-assistant\"\nclass = \"node-bound\"\nnode = \"nas\"\ncpu = 1\nmemory = \"2Gi\"\nstartup = \"30s\"\n",
        "[[apps]]\nname = \"plex\"\nclass = \"flexible\"\ncpu = 2\nmemory = \"4Gi\"\nstartup = { dist = \"uniform\", min = \"20s\", max = \"60s\" }\n",
        "[[apps]]\nname = \"sonarr\"\nclass = \"flexible\"\ncpu = 0.5\nmemory = \"512Mi\"\nstartup = \"20s\"\n",
        "[[apps]]\nname = \"dns\"\nclass = \"ha\"\nreplicas = 2\nmin_available = 1\ncpu = 0.1\nmemory = \"128Mi\"\nstartup = \"5s\"\n",
    ];
    if apps_reversed {
        apps.reverse();
    }
    format!(
        r#"
        name = "homelab"
        horizon = "1y"
        replications = 60
        seed = 5
        strategies = ["spread", "binpack"]
        [node_defaults]
        cpu = 16
        memory = "64Gi"
        failure = {{ dist = "exponential", mean = "1500h" }}
        repair = {{ dist = "lognormal", median = "6h", sigma = 1.0 }}
        [[nodes]]
        name = "mini"
        count = 3
        {extra_before}
        [[nodes]]
        name = "nas"
        {extra_after}
        {}
        "#,
        apps.join("\n")
    )
}

/// Every replication's outcome of app `name` under every strategy.
fn app_history(sc: &Scenario, name: &str) -> Vec<String> {
    let a = app_id(sc, name);
    let results = clustersim::run::montecarlo::run(sc, Some(2), &|| ()).expect("run");
    results
        .outcomes
        .iter()
        .flat_map(|per_rep| per_rep.iter().map(|o: &ReplicationOutcome| format!("{:?}", o.apps[a])))
        .collect()
}

#[test]
fn a_node_added_before_or_after_leaves_a_pinned_apps_history_unchanged() {
    let base = scenario(&homelab("", "", false));
    let before = scenario(&homelab("[[nodes]]\nname = \"mini-new\"", "", false));
    let after = scenario(&homelab("", "[[nodes]]\nname = \"zz-new\"", false));
    assert_eq!(before.nodes.len(), 5);
    let history = app_history(&base, "home-assistant");
    // The app does go down: its node fails about six times a year.
    assert!(history.iter().any(|h| !h.contains("downtime_ms: 0,")), "{history:?}");
    for (what, variant) in [("a node written before the NAS", &before), ("a node appended after it", &after)] {
        let other = app_history(variant, "home-assistant");
        for (r, (x, y)) in history.iter().zip(&other).enumerate() {
            assert_eq!(x, y, "{what}: replication/strategy row {r} moved");
        }
    }
}

#[test]
fn reordering_nodes_or_apps_changes_no_result() {
    // The NAS first, then the mini-PCs; and the apps in reverse.
    let written = homelab("", "", false);
    let nas_first = written.replacen(
        "[[nodes]]\n        name = \"mini\"\n        count = 3\n        \n        [[nodes]]\n        name = \"nas\"",
        "[[nodes]]\n        name = \"nas\"\n        [[nodes]]\n        name = \"mini\"\n        count = 3",
        1,
    );
    assert_ne!(nas_first, written, "the reordering applies");
    let base = scenario(&written);
    let reordered = [scenario(&nas_first), scenario(&homelab("", "", true))];
    let outcomes =
        |sc: &Scenario| format!("{:?}", clustersim::run::montecarlo::run(sc, Some(1), &|| ()).expect("run").outcomes);
    let expected = outcomes(&base);
    for sc in &reordered {
        // The model is in name order whatever the file's order ...
        let names: Vec<&str> = sc.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["mini-1", "mini-2", "mini-3", "nas"]);
        let names: Vec<&str> = sc.apps.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["dns", "home-assistant", "plex", "sonarr"]);
        // ... so every replication of every app comes out the same.
        assert_eq!(outcomes(sc), expected);
    }
}

#[test]
fn a_node_count_sweep_shows_the_same_node_bound_figures_at_every_point() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "homelab.toml", &homelab("", "", false));
    let out = bin()
        .current_dir(dir.path())
        .args(["sweep", path.to_str().unwrap(), "--set", "nodes.mini.count=1,2,3,5", "--out", "s", "--quiet"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = std::fs::read_to_string(dir.path().join("s/sweep.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (strategy, class, availability) = (col("strategy"), col("class"), col("availability"));
    let mut node_bound: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for record in reader.records() {
        let record = record.unwrap();
        if &record[class] == "node-bound" {
            node_bound.entry(record[strategy].to_string()).or_default().push(record[availability].to_string());
        }
    }
    assert_eq!(node_bound.len(), 2, "both strategies swept: {csv}");
    for (s, figures) in &node_bound {
        assert_eq!(figures.len(), 4, "{s}: {csv}");
        assert!(
            figures.iter().all(|f| f == &figures[0]),
            "{s}: node-bound availability moved with the node count: {figures:?}"
        );
        assert_ne!(figures[0], "1.000000000", "{s}: the node-bound app does fail");
    }
}
