//! Warnings for easy traps: each names the key and what to write instead,
//! and a nearby scenario without the trap gets none.

use crate::common::{run_in, scenario, write};

/// Three nodes of 4 CPU and 8 GiB that fail and return, and a small app
/// `base` free to move; `body` adds the rest.
fn cluster(defaults: &str, body: &str) -> String {
    format!(
        "horizon = \"1y\"\nreplications = 30\n[node_defaults]\ncpu = 4\nmemory = \"8Gi\"\n\
         failure = {{ dist = \"exponential\", mean = \"2000h\" }}\nrepair = \"4h\"\n{defaults}\n\
         [[nodes]]\nname = \"n\"\ncount = 3\n\
         [[apps]]\nname = \"base\"\nclass = \"flexible\"\ncpu = 0.1\nmemory = \"64Mi\"\n{body}\n"
    )
}

/// The warnings validation gives `text`, with those containing `needle`.
fn warned(text: &str, needle: &str) -> Vec<String> {
    scenario(text).warnings.into_iter().filter(|w| w.contains(needle)).collect()
}

#[test]
fn a_single_pod_statefulset_that_nothing_deletes_from_a_dead_node_is_warned() {
    let app = "[[apps]]\nname = \"db\"\nclass = \"flexible\"\nkind = \"statefulset\"\ncpu = 1\nmemory = \"1Gi\"\n";
    let w = warned(&cluster("", app), "statefulset app `db`");
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("kubernetes.out_of_service_after") && w[0].contains("deployment"), "{}", w[0]);
    // With an out-of-service reaction, a force delete, or as a Deployment: no warning.
    for fix in ["[kubernetes]\nout_of_service_after = \"15m\"\n", "[kubernetes]\npod_force_delete_after = \"30m\"\n"] {
        assert!(warned(&format!("{}{fix}", cluster("", app)), "statefulset").is_empty(), "{fix}");
    }
    assert!(warned(&cluster("", &app.replace("statefulset", "deployment")), "statefulset").is_empty());
}

#[test]
fn a_fixed_failure_time_is_warned_with_the_distribution_to_write() {
    let text = cluster("", "").replace("failure = { dist = \"exponential\", mean = \"2000h\" }", "failure = \"8760h\"");
    let w = warned(&text, "fixed time to failure");
    assert_eq!(w.len(), 1, "one warning for the one place it is written: {w:?}");
    assert!(w[0].starts_with("`node_defaults.failure` (line 6) is \"365d\""), "{}", w[0]);
    assert!(w[0].contains("failure = { dist = \"exponential\", mean = \"365d\" }"), "{}", w[0]);
    let domain =
        "[[domains]]\nname = \"rack\"\nkind = \"rack\"\nnodes = [\"n-1\"]\nfailure = \"1000h\"\nrepair = \"1h\"\n";
    let w = warned(&cluster("", domain), "fixed time to failure");
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("`domains.failure of domain `rack`` (line"), "{}", w[0]);
    assert!(warned(&cluster("", ""), "fixed time").is_empty());
}

#[test]
fn a_bare_integer_size_below_one_mebibyte_is_warned_as_bytes() {
    let app = |memory: &str| format!("[[apps]]\nname = \"web\"\nclass = \"flexible\"\nmemory = {memory}\n");
    let w = warned(&cluster("", &app("16")), "bare number");
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("`apps.memory of app `web``") && w[0].contains("16 bytes"), "{}", w[0]);
    assert!(w[0].contains("\"16Gi\""), "what to write instead: {}", w[0]);
    assert!(warned(&cluster("", &app("\"16Mi\"")), "bare number").is_empty(), "a size with a unit");
    assert!(warned(&cluster("", &app("2097152")), "bare number").is_empty(), "2 MiB in bytes is plausible");
    // Any size: a pool's allocated data of 4096 bytes.
    let pool = cluster("pool = { layout = \"mirror\", disks = 2, allocated = 4096 }", "");
    let w = warned(&pool, "bare number");
    assert!(w.len() == 1 && w[0].contains("`node_defaults.pool.allocated`"), "{w:?}");
}

#[test]
fn an_app_that_its_rules_together_allow_on_one_node_only_is_warned() {
    // Devices on two nodes, room for the app on one of them only.
    let body = "[[nodes]]\nname = \"gpu-small\"\ncpu = 2\ndevices = [\"gpu\"]\n\
                [[nodes]]\nname = \"gpu-big\"\ncpu = 16\ndevices = [\"gpu\"]\n\
                [[apps]]\nname = \"render\"\nclass = \"flexible\"\nrequires = [\"gpu\"]\ncpu = 6\nmemory = \"1Gi\"\n";
    let w = warned(&cluster("", body), "can run on node");
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("`render` can run on node `gpu-big` only"), "{}", w[0]);
    assert!(w[0].contains("`requires = [gpu]` (on gpu-small, gpu-big)"), "each rule with its nodes: {}", w[0]);
    assert!(w[0].contains("cpu 6 and memory 1Gi (room on gpu-big)"), "{}", w[0]);
    assert!(w[0].contains("class = \"node-bound\""), "what to write instead: {}", w[0]);
    assert!(warned(&cluster("", &body.replace("cpu = 6", "cpu = 1")), "can run on node").is_empty());
}

#[test]
fn a_zfs_replicated_volume_whose_other_side_has_no_room_is_warned_per_strategy() {
    let tmp = tempfile::tempdir().unwrap();
    // The vault's dataset lives on n-1 and is replicated to n-2, where a
    // pinned filler takes 3.5 of the 4 CPU: after a failover to n-2 the
    // vault (1 CPU) cannot start there.
    let body = |filler_cpu: &str| {
        format!(
            "[[volumes]]\nname = \"vault-data\"\nbackend = \"zfs-replicated\"\nnode = \"n-1\"\nreplica_node = \"n-2\"\n\
             [[apps]]\nname = \"vault\"\nclass = \"flexible\"\ncpu = 1\nmemory = \"1Gi\"\nvolumes = [\"vault-data\"]\n\
             [[apps]]\nname = \"filler\"\nclass = \"node-bound\"\nnode = \"n-2\"\ncpu = {filler_cpu}\nmemory = \"1Gi\"\n"
        )
    };
    let validate = |text: &str| {
        let path = write(tmp.path(), "s.toml", text);
        let out = run_in(tmp.path(), &["validate", path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("can fail over"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let text = format!("strategies = [\"spread\", \"binpack\"]\n{}", cluster("", &body("3.5")));
    let w = validate(&text);
    assert_eq!(w.len(), 2, "once per strategy: {w:?}");
    assert!(w[0].contains("`vault-data` can fail over to `n-2`, but under spread"), "{}", w[0]);
    assert!(w[0].contains("leave 500m CPU") && w[0].contains("the 1 CPU"), "{}", w[0]);
    assert!(validate(&format!("strategies = [\"spread\", \"binpack\"]\n{}", cluster("", &body("2")))).is_empty());
}
