//! Bad scenarios are refused with exit code 2, nothing on stdout, and one
//! line on stderr that names the file, the line, the key at fault and what
//! was wrong; never a panic.
//!
//! Every case starts from [`BASE`], a small valid scenario, and breaks exactly
//! one thing in it. The expected line is found in the broken text itself, so
//! the cases keep working when the base grows.

use crate::common::{run_in, write};
use std::path::Path;
use std::process::Output;
use tempfile::TempDir;

/// A small valid scenario: two nodes, one flexible app.
const BASE: &str = r#"name = "base"
horizon = "1y"
replications = 10
seed = 7
strategies = ["spread"]

[node_defaults]
cpu = 4
memory = "8Gi"
failure = { dist = "exponential", mean = "8000h" }
repair = "12h"

[[nodes]]
name = "a"

[[nodes]]
name = "b"

[[apps]]
name = "web"
class = "flexible"
cpu = 1
memory = "1Gi"
"#;

/// `BASE` with the single occurrence of `old` replaced by `new`.
fn edit(old: &str, new: &str) -> String {
    assert_eq!(BASE.matches(old).count(), 1, "`{old}` must occur exactly once in the base scenario");
    BASE.replacen(old, new, 1)
}

/// `BASE` with `extra` appended (new tables, or keys of the last `[[apps]]`).
fn append(extra: &str) -> String {
    format!("{BASE}{extra}")
}

/// The 1-based line of the single line of `toml` that contains `needle`.
fn line_of(toml: &str, needle: &str) -> usize {
    let lines: Vec<usize> =
        toml.lines().enumerate().filter(|(_, line)| line.contains(needle)).map(|(i, _)| i + 1).collect();
    assert_eq!(lines.len(), 1, "`{needle}` must be on exactly one line of:\n{toml}");
    lines[0]
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts the shape every refusal shares and returns stderr.
fn refused(out: &Output, path: &str) -> String {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "exit code, stderr:\n{stderr}");
    assert!(stdout.is_empty(), "stdout must be empty, got:\n{stdout}");
    assert!(!stderr.contains("panicked"), "a panic:\n{stderr}");
    assert!(stderr.starts_with("error: "), "stderr:\n{stderr}");
    assert!(stderr.contains(path), "stderr must name `{path}`:\n{stderr}");
    stderr
}

/// Writes `toml` to a temporary file, runs `clustersim validate` on it and
/// returns the file's path and stderr, after the checks every refusal shares.
fn validate(toml: &str) -> (String, String) {
    let dir = TempDir::new().expect("temp dir");
    let path = write(dir.path(), "scenario.toml", toml).display().to_string();
    let out = run_in(dir.path(), &["validate", &path]);
    let stderr = refused(&out, &path);
    (path, stderr)
}

/// Writes `toml` as `scenario.toml` and `files` (name, text) beside it in a
/// temporary folder, and runs `clustersim validate` on the scenario. Returns
/// the folder (kept alive), the scenario's path and the output.
fn validate_beside(toml: &str, files: &[(&str, &str)]) -> (TempDir, String, Output) {
    let dir = TempDir::new().expect("temp dir");
    for (name, text) in files {
        write(dir.path(), name, text);
    }
    let path = write(dir.path(), "scenario.toml", toml).display().to_string();
    let out = run_in(dir.path(), &["validate", &path]);
    (dir, path, out)
}

/// `toml` is refused at `line`, naming `key`, with a message containing `words`.
fn rejected(toml: &str, line: usize, key: &str, words: &str) {
    let (path, stderr) = validate(toml);
    assert!(stderr.contains(&format!("{path}:{line}:")), "expected line {line}:\n{stderr}\nin:\n{toml}");
    assert!(stderr.contains(key), "expected key `{key}`:\n{stderr}");
    assert!(stderr.contains(words), "expected `{words}`:\n{stderr}");
}

/// `toml` is refused at the line that contains `needle`.
fn rejected_at(toml: &str, needle: &str, key: &str, words: &str) {
    rejected(toml, line_of(toml, needle), key, words);
}

/// `toml` is refused with a message containing `words`, at no line in particular.
fn rejected_file(toml: &str, words: &str) {
    let (_, stderr) = validate(toml);
    assert!(stderr.contains(words), "expected `{words}`:\n{stderr}");
}

#[test]
fn the_base_scenario_is_valid() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(dir.path(), "scenario.toml", BASE);
    let out = run_in(dir.path(), &["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", text(&out.stderr));
    assert!(text(&out.stderr).is_empty());
}

// ---- names and references ----

#[test]
fn two_nodes_with_one_name() {
    let toml = append("\n[[nodes]]\nname = \"a\" # again\n");
    rejected_at(&toml, "# again", "nodes.name", "two nodes are named `a`");
}

#[test]
fn a_counted_node_collides_with_a_later_plain_node() {
    let toml = append("\n[[nodes]]\nname = \"worker\"\ncount = 2\n\n[[nodes]]\nname = \"worker-1\"\n");
    rejected_at(&toml, "\"worker-1\"", "nodes.name", "two nodes are named `worker-1`");
}

#[test]
fn a_plain_node_collides_with_a_later_counted_node() {
    let toml = append("\n[[nodes]]\nname = \"worker-2\"\n\n[[nodes]]\nname = \"worker\"\ncount = 2\n");
    rejected_at(&toml, "\"worker\"", "nodes.name", "two nodes are named `worker-2`");
}

#[test]
fn two_apps_with_one_name() {
    let toml = append("\n[[apps]]\nname = \"web\" # again\nclass = \"flexible\"\n");
    rejected_at(&toml, "# again", "apps.name", "two apps are named `web`");
}

#[test]
fn a_counted_app_collides_with_a_plain_app() {
    let toml = append(
        "\n[[apps]]\nname = \"web-1\"\nclass = \"flexible\"\n\n[[apps]]\nname = \"web\" # counted\ncount = 2\nclass = \"flexible\"\n",
    );
    rejected_at(&toml, "# counted", "apps.name", "two apps are named `web-1`");
}

#[test]
fn an_app_requires_a_device_no_node_has() {
    let toml = append("requires = [\"gpu\"]\n");
    rejected_at(&toml, "requires", "apps.requires", "requires device `gpu`, which no node has");
}

#[test]
fn an_app_is_pinned_to_an_unknown_node() {
    let toml = append("node = \"nope\"\n");
    rejected_at(&toml, "\"nope\"", "apps.node", "pinned to node `nope`, which the scenario does not declare");
}

// ---- replicas ----

const HA: &str = "\n[[apps]]\nname = \"db\"\nclass = \"ha\"\n";

#[test]
fn more_ha_replicas_than_nodes_under_required_anti_affinity() {
    let toml = append(&format!("{HA}replicas = 3\nanti_affinity = \"required\"\n"));
    rejected_at(
        &toml,
        "replicas = 3",
        "apps.replicas",
        "wants 3 replicas under required anti-affinity but only 2 nodes",
    );
}

#[test]
fn min_available_above_replicas() {
    let toml = append(&format!("{HA}replicas = 2\nmin_available = 3\n"));
    rejected_at(&toml, "min_available", "apps.min_available", "must be between 1 and 2, not 3");
}

#[test]
fn min_available_zero() {
    let toml = append(&format!("{HA}replicas = 2\nmin_available = 0\n"));
    rejected_at(&toml, "min_available", "apps.min_available", "must be between 1 and 2, not 0");
}

#[test]
fn replicas_on_a_flexible_app() {
    let toml = append("replicas = 2\n");
    rejected_at(&toml, "replicas = 2", "apps.replicas", "`replicas` must be 1");
}

#[test]
fn replicas_on_a_node_bound_app() {
    let toml = append("\n[[apps]]\nname = \"pinned\"\nclass = \"node-bound\"\nnode = \"a\"\nreplicas = 0\n");
    rejected_at(&toml, "replicas = 0", "apps.replicas", "`replicas` must be 1");
}

#[test]
fn an_ha_app_without_replicas() {
    let toml = append(HA);
    rejected_at(&toml, "\"ha\"", "apps.replicas", "needs `replicas`");
}

// ---- distributions ----

const FAILURE: &str = "failure = { dist = \"exponential\", mean = \"8000h\" }";

/// `BASE` with the default failure distribution replaced by `failure`.
fn failure(dist: &str) -> String {
    edit(FAILURE, &format!("failure = {dist}"))
}

#[test]
fn an_exponential_mean_of_zero() {
    let toml = failure("{ dist = \"exponential\", mean = \"0s\" }");
    rejected_at(&toml, "failure", "failure", "`mean` of distribution `exponential` must be greater than zero");
}

#[test]
fn a_negative_duration_in_a_distribution() {
    let toml = failure("{ dist = \"exponential\", mean = \"-5h\" }");
    rejected_at(&toml, "failure", "mean", "duration `-5h` is negative");
}

#[test]
fn a_negative_repair_time() {
    let toml = edit("repair = \"12h\"", "repair = \"-5h\"");
    rejected_at(&toml, "repair", "repair", "duration `-5h` is negative");
}

#[test]
fn a_weibull_shape_of_zero() {
    let toml = failure("{ dist = \"weibull\", shape = 0, scale = \"8000h\" }");
    rejected_at(&toml, "failure", "failure", "`shape` of distribution `weibull` must be a number greater than zero");
}

#[test]
fn a_negative_weibull_shape() {
    let toml = failure("{ dist = \"weibull\", shape = -0.8, scale = \"8000h\" }");
    rejected_at(&toml, "failure", "failure", "`shape` of distribution `weibull` must be a number greater than zero");
}

#[test]
fn a_weibull_shape_so_small_its_mean_is_absurd() {
    let toml = failure("{ dist = \"weibull\", shape = 0.001, scale = \"8000h\" }");
    rejected_at(&toml, "failure", "failure", "`shape` of distribution `weibull` must be between 0.1 and 50");
}

#[test]
fn a_lognormal_median_of_zero() {
    let toml = edit("repair = \"12h\"", "repair = { dist = \"lognormal\", median = \"0s\", sigma = 1.0 }");
    rejected_at(&toml, "repair", "repair", "`median` of distribution `lognormal` must be greater than zero");
}

#[test]
fn a_uniform_min_above_max() {
    let toml = edit("repair = \"12h\"", "repair = { dist = \"uniform\", min = \"2h\", max = \"1h\" }");
    rejected_at(&toml, "repair", "repair", "uniform `min` (7200000 ms) is greater than `max` (3600000 ms)");
}

#[test]
fn a_fixed_failure_time_of_zero() {
    let toml = failure("\"0s\"");
    rejected_at(&toml, "failure", "failure", "would fail continuously");
}

#[test]
fn a_fixed_failure_time_of_zero_on_one_node() {
    let toml = edit("name = \"b\"\n", "name = \"b\"\nfailure = { dist = \"fixed\", value = \"0s\" }\n");
    rejected_at(&toml, "\"fixed\"", "failure", "node `b` would fail continuously");
}

#[test]
fn a_startup_of_never() {
    let toml = append("startup = \"never\"\n");
    rejected_at(&toml, "startup", "apps.startup", "would never start");
}

#[test]
fn an_unknown_distribution() {
    let toml = failure("{ dist = \"gamma\", mean = \"8000h\" }");
    rejected_at(&toml, "failure", "failure", "unknown distribution `gamma`: use one of exponential");
}

#[test]
fn a_parameter_that_does_not_belong_to_the_distribution() {
    let toml = failure("{ dist = \"weibull\", shape = 0.8, scale = \"8000h\", mean = \"1h\" }");
    rejected_at(&toml, "failure", "failure", "distribution `weibull` takes no `mean` (it takes: shape, scale)");
}

#[test]
fn a_missing_distribution_parameter() {
    let toml = failure("{ dist = \"weibull\", shape = 0.8 }");
    rejected_at(&toml, "failure", "failure", "distribution `weibull` needs `scale`");
}

// ---- sizes ----

#[test]
fn an_app_with_more_cpu_than_every_node() {
    let toml = edit("cpu = 1\n", "cpu = 6\n");
    rejected_at(&toml, "cpu = 6", "apps.cpu", "it requests 6 CPU and the largest node has 4: lower `cpu`");
}

#[test]
fn an_app_with_more_memory_than_every_node() {
    let toml = edit("memory = \"1Gi\"", "memory = \"9Gi\"");
    rejected_at(&toml, "9Gi", "apps.memory", "it requests 9Gi of memory and the largest node has 8Gi: lower `memory`");
}

// ---- unknown keys ----

#[test]
fn an_unknown_top_level_key() {
    let toml = edit("seed = 7\n", "seed = 7\ncolour = \"red\"\n");
    rejected_at(&toml, "colour", "colour", "unknown field `colour`");
}

#[test]
fn an_unknown_kubernetes_key() {
    let toml = append("\n[kubernetes]\ngrace_period = \"40s\"\n");
    rejected_at(&toml, "grace_period", "grace_period", "unknown field `grace_period`");
}

#[test]
fn an_unknown_node_key() {
    let toml = edit("name = \"b\"\n", "name = \"b\"\nrack = \"r1\"\n");
    rejected_at(&toml, "rack", "rack", "unknown field `rack`");
}

#[test]
fn an_unknown_app_key() {
    let toml = append("image = \"nginx\"\n");
    rejected_at(&toml, "image", "image", "unknown field `image`");
}

#[test]
fn an_unknown_distribution_key() {
    let toml = failure("{ dist = \"exponential\", mean = \"8000h\", rate = 2 }");
    rejected_at(&toml, "failure", "`failure`", "unknown field `rate`");
}

#[test]
fn an_unknown_event_key() {
    let toml = append("\n[[events]]\nat = \"1h\"\nfail = \"node:a\"\nreason = \"test\"\n");
    rejected_at(&toml, "reason", "reason", "unknown field `reason`");
}

// ---- quantities ----

#[test]
fn a_duration_without_a_unit_as_a_number() {
    let toml = edit("horizon = \"1y\"", "horizon = 10");
    rejected_at(&toml, "horizon", "horizon", "a duration needs a unit");
}

#[test]
fn a_duration_without_a_unit_as_a_string() {
    let toml = edit("horizon = \"1y\"", "horizon = \"10\"");
    rejected_at(&toml, "horizon", "horizon", "has no unit");
}

#[test]
fn a_duration_with_an_unknown_unit() {
    let toml = edit("horizon = \"1y\"", "horizon = \"10 fortnights\"");
    rejected_at(&toml, "horizon", "horizon", "`fortnights` in `10 fortnights` is not a duration unit");
}

#[test]
fn a_bad_size() {
    let toml = edit("memory = \"8Gi\"", "memory = \"32Qi\"");
    rejected_at(&toml, "32Qi", "memory", "`Qi` in `32Qi` is not a size unit");
}

#[test]
fn a_bad_cpu() {
    let toml = edit("cpu = 4\n", "cpu = \"2x\"\n");
    rejected_at(&toml, "2x", "cpu", "`x` in `2x` is not a CPU unit");
}

// ---- names from fixed lists ----

#[test]
fn an_unknown_strategy() {
    let toml = edit("strategies = [\"spread\"]", "strategies = [\"spread\", \"fastest\"]");
    rejected_at(&toml, "strategies", "strategies", "unknown strategy `fastest`: use one of spread");
}

#[test]
fn an_empty_strategy_list() {
    let toml = edit("strategies = [\"spread\"]", "strategies = []");
    rejected_at(&toml, "strategies", "strategies", "name at least one of: spread");
}

#[test]
fn a_duplicated_strategy() {
    let toml = edit("strategies = [\"spread\"]", "strategies = [\"spread\", \"binpack\", \"spread\"]");
    rejected_at(&toml, "strategies", "strategies", "strategy `spread` is listed twice");
}

#[test]
fn an_unknown_class() {
    let toml = edit("class = \"flexible\"", "class = \"stateless\"");
    rejected_at(
        &toml,
        "stateless",
        "apps.class",
        "unknown class `stateless` for app `web`: use flexible, node-bound or ha",
    );
}

#[test]
fn an_unknown_anti_affinity() {
    let toml = append("anti_affinity = \"sometimes\"\n");
    rejected_at(&toml, "anti_affinity", "apps.anti_affinity", "unknown anti-affinity `sometimes`: use required");
}

// ---- scripted events and run settings ----

#[test]
fn an_event_with_a_target_of_unknown_kind() {
    let toml = append("\n[[events]]\nat = \"1h\"\nfail = \"rack:1\"\n");
    rejected_at(&toml, "rack:1", "events.fail", "`rack:1` is not a failure target: write \"node:NAME\"");
}

#[test]
fn an_event_on_an_unknown_node() {
    let toml = append("\n[[events]]\nat = \"1h\"\nfail = \"node:nope\"\n");
    rejected_at(&toml, "node:nope", "events.fail", "no node is named `nope`");
}

#[test]
fn zero_replications() {
    let toml = edit("replications = 10", "replications = 0");
    rejected_at(&toml, "replications", "replications", "`replications` must be at least 1");
}

#[test]
fn a_horizon_of_zero() {
    let toml = edit("horizon = \"1y\"", "horizon = \"0s\"");
    rejected_at(&toml, "horizon", "horizon", "the horizon must be longer than zero");
}

#[test]
fn a_negative_eviction_rate() {
    let toml = append("\n[kubernetes]\neviction_rate = -0.1\n");
    rejected_at(&toml, "eviction_rate", "kubernetes.eviction_rate", "must be between 0 and 1000");
}

#[test]
fn an_unhealthy_zone_threshold_above_one() {
    let toml = append("\n[kubernetes]\nunhealthy_zone_threshold = 1.5\n");
    rejected_at(&toml, "threshold", "kubernetes.unhealthy_zone_threshold", "must be between 0 and 1");
}

// ---- failure domains and topology spread ----

/// A `[[domains]]` table with `body` (appended after the last app).
fn domain(body: &str) -> String {
    format!("\n[[domains]]\n{body}")
}

/// A rack domain holding node `a`.
const RACK: &str = "name = \"rack-1\"\nkind = \"rack\"\nnodes = [\"a\"]\n";

#[test]
fn a_domain_names_an_unknown_node() {
    let toml = append(&domain("name = \"rack-1\"\nkind = \"rack\"\nnodes = [\"a\", \"nope\"]\n"));
    rejected_at(
        &toml,
        "\"nope\"",
        "domains.nodes",
        "domain `rack-1` names node `nope`, which the scenario does not declare",
    );
}

#[test]
fn a_domain_whose_selector_matches_no_node() {
    let toml = edit("name = \"a\"\n", "name = \"a\"\nlabels = { rack = \"r1\" }\n");
    let toml = format!("{toml}{}", domain("name = \"rack-2\"\nkind = \"rack\"\nselector = { rack = \"r2\" }\n"));
    rejected_at(&toml, "\"r2\"", "domains.nodes", "domain `rack-2` has no member");
}

#[test]
fn two_domains_with_one_name() {
    let toml =
        append(&format!("{}{}", domain(RACK), domain("name = \"rack-1\" # again\nkind = \"rack\"\nnodes = [\"b\"]\n")));
    rejected_at(&toml, "# again", "domains.name", "two domains are named `rack-1`");
}

#[test]
fn a_node_in_two_zones() {
    let toml = append(&format!(
        "{}{}",
        domain("name = \"z1\"\nkind = \"zone\"\nnodes = [\"a\", \"b\"]\n"),
        domain("name = \"z2\"\nkind = \"zone\"\nnodes = [\"b\"]\n")
    ));
    rejected_at(&toml, "\"z2\"", "domains.nodes", "node `b` is in two zones: a node belongs to one zone at most");
}

#[test]
fn a_spread_kind_no_domain_has() {
    let toml = append(&format!("{}\n[placement]\nspread_kind = \"zone\"\n", domain(RACK)));
    rejected_at(
        &toml,
        "spread_kind",
        "placement.spread_kind",
        "no domain has kind `zone`: the kinds declared are [rack]",
    );
}

#[test]
fn the_domain_spread_strategy_without_domains() {
    let toml = edit("strategies = [\"spread\"]", "strategies = [\"spread\", \"domain-spread\"]");
    rejected_at(&toml, "strategies", "strategies", "strategy `domain-spread` needs [[domains]] to spread over");
}

#[test]
fn an_app_spreads_over_a_kind_no_domain_has() {
    let toml = append(&format!("spread_over = \"zone\"\n{}", domain(RACK)));
    rejected_at(
        &toml,
        "spread_over",
        "apps.spread_over",
        "app `web` spreads over `zone`, but no domain has that kind: the kinds declared are [rack]",
    );
}

#[test]
fn a_spread_without_spread_over() {
    let toml = append("spread = \"required\"\n");
    rejected_at(&toml, "spread =", "apps.spread", "app `web` sets `spread` without `spread_over = \"KIND\"`");
}

#[test]
fn an_unknown_spread_mode() {
    let toml = append(&format!("spread_over = \"rack\"\nspread = \"always\"\n{}", domain(RACK)));
    rejected_at(&toml, "\"always\"", "apps.spread", "unknown spread `always`: use required or preferred");
}

// ---- workloads and dependencies ----

#[test]
fn an_unknown_app_kind() {
    let toml = append("kind = \"daemonset\"\n");
    rejected_at(
        &toml,
        "daemonset",
        "apps.kind",
        "unknown kind `daemonset` for app `web`: use deployment or statefulset",
    );
}

#[test]
fn a_dependency_on_an_unknown_app() {
    let toml = append("depends_on = [\"db\"]\n");
    rejected_at(&toml, "depends_on", "apps.depends_on", "app `web` depends on `db`, which no [[apps]] declares");
}

#[test]
fn a_dependency_on_a_counted_app_by_its_base_name() {
    let toml = append("depends_on = [\"db\"]\n\n[[apps]]\nname = \"db\"\ncount = 2\nclass = \"flexible\"\n");
    rejected_at(&toml, "depends_on", "apps.depends_on", "`count` expands `db` into `db-1` to `db-2`");
}

#[test]
fn a_dependency_cycle() {
    let toml = append(
        "depends_on = [\"db\"] # web\n\n[[apps]]\nname = \"db\"\nclass = \"flexible\"\ndepends_on = [\"web\"] # db\n",
    );
    rejected_at(&toml, "# db", "apps.depends_on", "app `db` depends on `web`, which closes the cycle web -> db -> web");
}

#[test]
fn a_dependency_on_itself() {
    let toml = append("depends_on = [\"web\"]\n");
    rejected_at(&toml, "depends_on", "apps.depends_on", "app `web` depends on itself");
}

// ---- containers and back-off ----

#[test]
fn an_unknown_backoff() {
    let toml = append("\n[kubernetes]\nbackoff = \"exponential\"\n");
    rejected_at(&toml, "backoff", "kubernetes.backoff", "unknown back-off `exponential`: use legacy");
}

#[test]
fn a_first_backoff_longer_than_the_cap() {
    let toml = append("\n[kubernetes]\nbackoff_initial = \"10m\"\n");
    rejected_at(
        &toml,
        "backoff_initial",
        "kubernetes.backoff_initial",
        "`backoff_initial` (10m) is longer than `backoff_max` (5m)",
    );
}

#[test]
fn a_backoff_cap_below_the_default_first_backoff() {
    let toml = append("\n[kubernetes]\nbackoff_max = \"5s\"\n");
    rejected_at(
        &toml,
        "backoff_max",
        "kubernetes.backoff_max",
        "`backoff_initial` (10s) is longer than `backoff_max` (5s)",
    );
}

#[test]
fn a_liveness_failure_threshold_of_zero() {
    let toml = append("\n[kubernetes]\nliveness_failure_threshold = 0\n");
    rejected_at(
        &toml,
        "liveness_failure_threshold",
        "kubernetes.liveness_failure_threshold",
        "0 is out of range: `kubernetes.liveness_failure_threshold` must be at least 1",
    );
}

#[test]
fn a_crash_distribution_with_a_mean_of_zero() {
    let toml = append("crash = { dist = \"fixed\", value = \"0s\" }\n");
    rejected_at(&toml, "crash", "apps.crash", "app `web` would fail continuously");
}

// ---- new scripted targets ----

#[test]
fn an_event_on_an_unknown_domain() {
    let toml = fail(BASE, "domain:nope");
    rejected_at(&toml, "domain:nope", "events.fail", "no domain is named `nope`");
}

#[test]
fn an_event_on_an_unknown_app() {
    let toml = fail(BASE, "app:nope");
    rejected_at(&toml, "app:nope", "events.fail", "no app is named `nope`");
}

#[test]
fn a_duration_on_an_app_crash() {
    let toml = format!("{}duration = \"1h\"\n", fail(BASE, "app:web"));
    rejected_at(&toml, "duration", "events.duration", "`duration` applies to node and domain failures only");
}

// ---- failure traces ----

const TRACE: &str = "# a hand-written trace\nnode,fail_at,repair_at\na,100h,104h\n";

/// `BASE` with a `[[replay]]` of `file` and `extra` keys.
fn replay(file: &str, extra: &str) -> String {
    append(&format!("\n[[replay]]\nfile = \"{file}\"\n{extra}"))
}

#[test]
fn an_unknown_replay_mode() {
    let toml = replay("trace.csv", "mode = \"instead\"\n");
    let (_dir, path, out) = validate_beside(&toml, &[("trace.csv", TRACE)]);
    let stderr = refused(&out, &path);
    assert!(stderr.contains(&format!("{path}:{}:", line_of(&toml, "mode"))), "{stderr}");
    assert!(stderr.contains("`replay.mode`"), "{stderr}");
    assert!(stderr.contains("unknown replay mode `instead`: use add"), "{stderr}");
}

#[test]
fn a_replay_file_that_does_not_exist() {
    let toml = replay("missing.csv", "");
    let (dir, path, out) = validate_beside(&toml, &[]);
    let stderr = refused(&out, &path);
    let trace = dir.path().join("missing.csv").display().to_string();
    assert!(stderr.contains(&format!("{path}:{}:", line_of(&toml, "missing.csv"))), "{stderr}");
    assert!(stderr.contains("`replay.file`"), "{stderr}");
    assert!(stderr.contains(&format!("cannot read the failure trace `{trace}`")), "{stderr}");
}

#[test]
fn a_replay_row_names_an_unknown_node() {
    let trace = format!("{TRACE}nope,200h,201h\n");
    let (dir, _path, out) = validate_beside(&replay("trace.csv", ""), &[("trace.csv", &trace)]);
    let trace_path = dir.path().join("trace.csv").display().to_string();
    let stderr = refused(&out, &trace_path);
    assert!(stderr.contains(&format!("{trace_path}:4:1: `node`:")), "{stderr}");
    assert!(
        stderr.contains("unknown node `nope`: the nodes ([[nodes]]) declared in the scenario are `a`, `b`"),
        "{stderr}"
    );
}

// ---- volumes ----

/// A `[[volumes]]` table with `body` (appended after the last app, so the
/// app's own keys come first).
fn volume(body: &str) -> String {
    format!("\n[[volumes]]\n{body}")
}

const BLOCK: &str = "name = \"blk\"\nbackend = \"block\"\n";

#[test]
fn an_app_uses_an_undeclared_volume() {
    let toml = append("volumes = [\"nope\"]\n");
    rejected_at(&toml, "\"nope\"", "apps.volumes", "app `web` uses volume `nope`, which no [[volumes]] declares");
}

#[test]
fn more_gluster_bricks_than_nodes() {
    let toml = append(&volume("name = \"media\"\nbackend = \"gluster\"\nreplicas = 5\n"));
    rejected_at(
        &toml,
        "replicas = 5",
        "volumes.replicas",
        "volume `media` needs 5 bricks on distinct nodes but the scenario has 2 nodes",
    );
}

#[test]
fn a_replicated_volume_replicates_to_its_own_node() {
    let toml = append(&volume("name = \"repl\"\nbackend = \"zfs-replicated\"\nnode = \"a\"\nreplica_node = \"a\"\n"));
    rejected_at(&toml, "replica_node", "volumes.replica_node", "volume `repl` replicates to its own node `a`");
}

#[test]
fn a_replicated_volume_without_a_replica_node() {
    let toml = append(&volume("name = \"repl\"\nbackend = \"zfs-replicated\"\nnode = \"a\"\n"));
    rejected_at(&toml, "\"repl\"", "volumes.replica_node", "zfs-replicated volume `repl` needs `replica_node`");
}

#[test]
fn an_unknown_backend() {
    let toml = append(&volume("name = \"data\"\nbackend = \"ceph\"\n"));
    rejected_at(
        &toml,
        "\"ceph\"",
        "volumes.backend",
        "unknown backend `ceph` for volume `data`: use zfs-local, zfs-replicated, gluster or block",
    );
}

#[test]
fn a_key_that_does_not_belong_to_the_backend() {
    let toml = append(&volume("name = \"media\"\nbackend = \"gluster\"\ninterval = \"1h\"\n"));
    rejected_at(&toml, "interval", "volumes.interval", "volume `media` is gluster, which takes no `interval`");
}

#[test]
fn a_gluster_key_on_a_block_volume() {
    let toml = append(&volume(&format!("{BLOCK}ping_timeout = \"42s\"\n")));
    rejected_at(
        &toml,
        "ping_timeout",
        "volumes.ping_timeout",
        "volume `blk` is block, which takes no `ping_timeout` (it takes: force_detach)",
    );
}

#[test]
fn two_bricks_on_one_node() {
    let toml = append(&volume("name = \"media\"\nbackend = \"gluster\"\nreplicas = 2\nbricks = [\"a\", \"a\"]\n"));
    rejected_at(&toml, "bricks", "volumes.bricks", "volume `media` has two bricks on node `a`");
}

#[test]
fn fewer_listed_bricks_than_replicas() {
    let toml = append(&volume("name = \"media\"\nbackend = \"gluster\"\nreplicas = 2\nbricks = [\"a\"]\n"));
    rejected_at(&toml, "bricks", "volumes.bricks", "volume `media` lists 1 brick but needs 2 (replicas = 2)");
}

#[test]
fn an_arbiter_with_three_replicas() {
    let toml = append(&volume("name = \"media\"\nbackend = \"gluster\"\nreplicas = 3\narbiter = true\n"));
    rejected_at(
        &toml,
        "replicas = 3",
        "volumes.replicas",
        "volume `media` has an arbiter and 3 replicas: write replicas = 2",
    );
}

#[test]
fn an_arbiter_with_the_default_replicas() {
    let toml = append(&volume("name = \"media\"\nbackend = \"gluster\"\narbiter = true\n"));
    rejected_at(
        &toml,
        "arbiter",
        "volumes.replicas",
        "has an arbiter and 3 replicas (the default): write replicas = 2",
    );
}

#[test]
fn a_block_volume_for_two_ha_replicas() {
    let toml = append(&format!("{HA}replicas = 2\nvolumes = [\"blk\"] # db\n{}", volume(BLOCK)));
    rejected_at(
        &toml,
        "# db",
        "apps.volumes",
        "block volume `blk` is ReadWriteOnce: it cannot serve the 2 replicas of app `db`",
    );
}

#[test]
fn a_block_volume_used_by_two_apps() {
    let toml = append(&format!(
        "volumes = [\"blk\"]\n\n[[apps]]\nname = \"db\"\nclass = \"flexible\"\nvolumes = [\"blk\"] # second\n{}",
        volume(BLOCK)
    ));
    rejected_at(
        &toml,
        "# second",
        "apps.volumes",
        "block volume `blk` is ReadWriteOnce: 2 pods use it, it can serve one",
    );
}

#[test]
fn an_app_on_two_zfs_volumes() {
    let toml = append(&format!(
        "volumes = [\"config\", \"media\"]\n{}{}",
        volume("name = \"config\"\nbackend = \"zfs-local\"\n"),
        volume("name = \"media\"\nbackend = \"zfs-replicated\"\nnode = \"a\"\nreplica_node = \"b\"\n"),
    ));
    rejected_at(
        &toml,
        "volumes = [",
        "apps.volumes",
        "app `web` uses two ZFS volumes, `config` and `media`: a pod can follow one node-local dataset only",
    );
}

#[test]
fn an_app_pinned_away_from_its_zfs_local_volume() {
    let toml = append(&format!(
        "node = \"a\"\nvolumes = [\"config\"]\n{}",
        volume("name = \"config\"\nbackend = \"zfs-local\"\nnode = \"b\"\n")
    ));
    rejected_at(
        &toml,
        "volumes = [",
        "apps.volumes",
        "app `web` is pinned to node `a` but its zfs-local volume `config` lives on node `b`",
    );
}

// ---- pools and disks ----

/// `BASE` with `pool = POOL` on node `b` (node `a` has none).
fn pool_on_b(pool: &str) -> String {
    edit("name = \"b\"\n", &format!("name = \"b\"\npool = {pool}\n"))
}

const MIRROR: &str = "{ layout = \"mirror\", disks = 2 }";

#[test]
fn an_unknown_pool_layout() {
    let toml = pool_on_b("{ layout = \"raid10\", disks = 4 }");
    rejected_at(
        &toml,
        "raid10",
        "pool.layout",
        "unknown pool layout `raid10`: use stripe, mirror, raidz1, raidz2 or raidz3",
    );
}

#[test]
fn a_mirror_of_one_disk_in_the_node_defaults() {
    let toml = edit("repair = \"12h\"\n", "repair = \"12h\"\npool = { layout = \"mirror\", disks = 1 }\n");
    rejected_at(&toml, "\"mirror\"", "pool.disks", "a mirror vdev needs at least 2 disks, not 1");
}

#[test]
fn a_raidz1_of_two_disks() {
    let toml = pool_on_b("{ layout = \"raidz1\", disks = 2 }");
    rejected_at(&toml, "raidz1", "pool.disks", "a raidz1 vdev needs at least 3 disks, not 2");
}

#[test]
fn a_rate_without_per_second() {
    let toml = pool_on_b("{ layout = \"mirror\", disks = 2, resilver_rate = \"100MiB\" }");
    rejected_at(&toml, "resilver_rate", "resilver_rate", "`100MiB` is not a rate: write a size per second");
}

#[test]
fn an_unknown_pool_key() {
    let toml = pool_on_b("{ layout = \"mirror\", disks = 2, spare = 1 }");
    rejected_at(&toml, "spare", "`pool`", "unknown field `spare`");
}

/// `toml` with a scripted failure of `target` appended.
fn fail(toml: &str, target: &str) -> String {
    format!("{toml}\n[[events]]\nat = \"1h\"\nfail = \"{target}\"\n")
}

#[test]
fn a_disk_event_on_a_node_without_a_pool() {
    let toml = fail(&pool_on_b(MIRROR), "disk:a:1");
    rejected_at(&toml, "disk:a:1", "events.fail", "node `a` declares no pool, so it has no disks");
}

#[test]
fn a_disk_event_on_disk_zero() {
    let toml = fail(&pool_on_b(MIRROR), "disk:b:0");
    rejected_at(&toml, "disk:b:0", "events.fail", "node `b` has disks 1 to 2, not `0`");
}

#[test]
fn a_disk_event_beyond_the_pool() {
    let toml = fail(&pool_on_b(MIRROR), "disk:b:3");
    rejected_at(&toml, "disk:b:3", "events.fail", "node `b` has disks 1 to 2, not `3`");
}

#[test]
fn a_disk_event_without_a_disk_number() {
    let toml = fail(&pool_on_b(MIRROR), "disk:a");
    rejected_at(&toml, "disk:a", "events.fail", "`disk:a` is not a disk: write \"disk:NODE:N\" with N from 1");
}

#[test]
fn a_disk_event_with_a_disk_name() {
    let toml = fail(&pool_on_b(MIRROR), "disk:b:sda");
    rejected_at(&toml, "disk:b:sda", "events.fail", "node `b` has disks 1 to 2, not `sda`");
}

#[test]
fn a_disk_event_on_an_unknown_node() {
    let toml = fail(&pool_on_b(MIRROR), "disk:c:1");
    rejected_at(&toml, "disk:c:1", "events.fail", "no node is named `c`");
}

// ---- missing sections ----

#[test]
fn no_nodes() {
    let start = BASE.find("[[nodes]]").unwrap();
    let end = BASE.find("[[apps]]").unwrap();
    let toml = format!("{}{}", &BASE[..start], &BASE[end..]);
    rejected_file(&toml, "the scenario has no [[nodes]]");
}

#[test]
fn no_apps() {
    let toml = &BASE[..BASE.find("[[apps]]").unwrap()];
    rejected_file(toml, "the scenario has no [[apps]]");
}

// ---- malformed TOML ----

#[test]
fn an_unclosed_string() {
    let toml = edit("name = \"base\"", "name = \"base");
    rejected_at(&toml, "\"base", "`name`", "invalid basic string");
}

#[test]
fn a_missing_equals_sign() {
    let toml = edit("seed = 7", "seed 7");
    rejected_at(&toml, "seed 7", "`seed`", "expected `=`");
}

#[test]
fn a_key_written_twice() {
    let toml = edit("seed = 7\n", "seed = 7\nseed = 8\n");
    rejected_at(&toml, "seed = 8", "`seed`", "duplicate key");
}

// ---- unreadable paths ----

#[test]
fn a_scenario_that_does_not_exist() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("missing.toml").display().to_string();
    let stderr = refused(&run_in(dir.path(), &["validate", &path]), &path);
    assert!(stderr.contains("cannot read the scenario"), "{stderr}");
}

#[test]
fn a_folder_passed_as_the_scenario() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().display().to_string();
    let stderr = refused(&run_in(dir.path(), &["validate", &path]), &path);
    assert!(stderr.contains("cannot read the scenario"), "{stderr}");
}

// ---- run ----

#[test]
fn run_refuses_a_bad_scenario_and_writes_nothing() {
    let dir = TempDir::new().expect("temp dir");
    let toml = edit("replications = 10", "replications = 0");
    let path = write(dir.path(), "scenario.toml", &toml).display().to_string();
    let out_dir = dir.path().join("results");
    let out = run_in(dir.path(), &["run", &path, "--out", out_dir.to_str().unwrap()]);
    let stderr = refused(&out, &path);
    assert!(stderr.contains(&format!("{path}:{}:", line_of(&toml, "replications"))), "{stderr}");
    assert!(!Path::new(&out_dir).exists(), "run created {}", out_dir.display());
    assert!(!dir.path().join("output").exists(), "run created the default output folder");
}

#[test]
fn a_maintenance_interval_of_zero() {
    let toml = append("\n[maintenance]\nevery = \"0s\"\n");
    rejected_at(&toml, "every = \"0s\"", "maintenance.every", "longer than zero");
}

#[test]
fn an_unknown_key_in_maintenance() {
    let toml = append("\n[maintenance]\nevery = \"30d\"\nparallel = 2\n");
    rejected_at(&toml, "parallel = 2", "parallel", "unknown field `parallel`");
}

#[test]
fn a_budget_larger_than_the_replicas() {
    let toml = append("max_unavailable = 3\n");
    rejected_at(&toml, "max_unavailable = 3", "apps.max_unavailable", "at most 1");
}
