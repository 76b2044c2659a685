//! Helpers shared by the integration tests.

#![allow(dead_code)]

use clustersim::engine::simulate;
use clustersim::metrics::{ReplicationOutcome, TraceRecord};
use clustersim::model::Scenario;
use clustersim::run::summary::{mean, t_interval};
use clustersim::time::Millis;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Parses and validates scenario text, panicking with the error if invalid.
pub fn scenario(text: &str) -> Scenario {
    clustersim::input::parse("test.toml", text).unwrap_or_else(|e| panic!("scenario rejected: {e}"))
}

/// The model index of the app named `name`: the model lists apps by name
/// (`scenario::order`), not in file order.
pub fn app_id(sc: &Scenario, name: &str) -> usize {
    sc.apps.iter().position(|a| a.name == name).unwrap_or_else(|| panic!("no app `{name}`"))
}

/// The built `clustersim` binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_clustersim"))
}

/// Runs the binary with `args` in `dir` and returns its output.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().expect("the clustersim binary runs")
}

/// The repository root, where `scenarios/` lives.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every entry of `dir` by name with its bytes (a folder as `<dir>`),
/// hidden ones included, so a temporary file would show.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            let bytes =
                if e.file_type().unwrap().is_dir() { b"<dir>".to_vec() } else { std::fs::read(e.path()).unwrap() };
            (name, bytes)
        })
        .collect()
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

/// The node defaults of the scripted tests: 4 CPU and 8 GiB, no failure or
/// repair of their own (only scripted ones).
pub const QUIET_DEFAULTS: &str =
    "[node_defaults]\ncpu = 4\nmemory = \"8Gi\"\nfailure = \"never\"\nrepair = \"never\"\n";

/// The cluster most scripted tests share: 30 days, one replication, one
/// strategy, `nodes` nodes `n-1`.. of 4 CPU and 8 GiB that never fail on
/// their own. `defaults` adds keys to `[node_defaults]`; `body` adds apps,
/// volumes, events and further tables.
pub fn quiet_cluster(strategy: &str, nodes: u32, defaults: &str, body: &str) -> Scenario {
    scenario(&format!(
        "horizon = \"30d\"\nreplications = 1\nstrategies = [\"{strategy}\"]\n{QUIET_DEFAULTS}{defaults}\n\
         [[nodes]]\nname = \"n\"\ncount = {nodes}\n{body}\n"
    ))
}

/// Replication 0 of `sc` under its first strategy, with its event trace.
pub fn traced(sc: &Scenario) -> (ReplicationOutcome, Vec<TraceRecord>) {
    let mut trace = Vec::new();
    let outcome = simulate(sc, sc.strategies[0], 0, Some(&mut trace));
    (outcome, trace)
}

/// Per replication (first strategy), the fraction of the horizon `downtime`
/// picks out of the outcome.
pub fn unavailability(sc: &Scenario, downtime: impl Fn(&ReplicationOutcome) -> u64) -> Vec<f64> {
    let results = clustersim::run::montecarlo::run(sc, None, &|| ()).expect("run");
    results.outcomes[0].iter().map(|o| downtime(o) as f64 / sc.horizon_ms as f64).collect()
}

pub fn app_unavailability(sc: &Scenario, app: usize) -> Vec<f64> {
    unavailability(sc, |o| o.apps[app].downtime_ms)
}

/// The largest half-width of the interval, relative to the expected
/// unavailability, for a closed-form check to mean something.
pub const MAX_RELATIVE_HALF_WIDTH: f64 = 0.05;

/// The 95% Student-t interval of the mean of `series` (unavailable
/// fractions, one per replication) must hold the closed form `expected`, and
/// be tight enough (half-width under 5% of it) to catch a model error of
/// that size.
pub fn assert_in_interval(what: &str, series: &[f64], expected: f64) {
    let (lo, hi) = t_interval(series).expect("two or more replications");
    let half = (hi - lo) / 2.0;
    eprintln!("{what}: simulated {:.6e} [{lo:.6e}, {hi:.6e}], closed form {expected:.6e}", mean(series));
    assert!(
        lo <= expected && expected <= hi,
        "{what}: closed form {expected:.6e} outside the 95% interval [{lo:.6e}, {hi:.6e}]"
    );
    assert!(
        half < MAX_RELATIVE_HALF_WIDTH * expected,
        "{what}: interval half-width {half:.3e} is too wide to mean anything at {expected:.3e}"
    );
}

/// The node lifecycle controller's monitor passes in replication 0 of a
/// scenario, re-derived from `pkg/controller/nodelifecycle`
/// (`node_lifecycle_controller.go`): passes every `node-monitor-period` from
/// the replication's phase; `probeTimestamp` is the pass that sees a lease
/// renewal (`tryUpdateNodeHealth` sets it to the controller's `now()`), and
/// Ready=Unknown is written at the first pass for which
/// `now.After(probeTimestamp + gracePeriod)`: the passes slide
/// (`wait.UntilWithContext` waits a period after a pass ends), so the pass
/// `grace / period` passes after the probe is a few milliseconds past
/// probe + grace, and it marks the node.
pub struct Passes {
    pub phase_ms: Millis,
    pub period_ms: Millis,
    pub grace_ms: Millis,
}

impl Passes {
    pub fn of(sc: &Scenario) -> Passes {
        Passes {
            phase_ms: clustersim::engine::monitor_phase_ms(sc, 0),
            period_ms: sc.kube.node_monitor_period_ms,
            grace_ms: sc.kube.node_monitor_grace_period_ms,
        }
    }

    /// The first pass at or after `t`.
    pub fn at_or_after(&self, t: Millis) -> Millis {
        if self.period_ms == 0 {
            return t;
        }
        let mut p = self.phase_ms;
        while p < t {
            p += self.period_ms;
        }
        p
    }

    /// The first pass strictly after `t` (`t` itself with a period of 0).
    pub fn after(&self, t: Millis) -> Millis {
        if self.period_ms == 0 { t } else { self.at_or_after(t + 1) }
    }

    /// The NotReady mark of a node whose last lease renewal was at
    /// `renewed`: the first pass at or after the probe plus the grace period
    /// (with passes at every instant: exactly the grace later).
    pub fn not_ready(&self, renewed: Millis) -> Millis {
        self.at_or_after(self.at_or_after(renewed) + self.grace_ms)
    }
}

/// The `nth` lease offset (0-based) drawn for node `node` in replication 0:
/// how long before its crash the kubelet last renewed its Lease.
pub fn lease_offset_ms(sc: &Scenario, node: usize, nth: usize) -> Millis {
    use rand::Rng;
    let mut rng = clustersim::rng::stream(sc.seed, 0, clustersim::rng::Source::NodeLease(&sc.nodes[node].name));
    let mut offset = 0;
    for _ in 0..=nth {
        offset = rng.random_range(0..sc.kube.lease_renew_interval_ms);
    }
    offset
}

/// Three control-plane nodes `cp-1`.. (100m CPU, labelled into the failure
/// domain `rack`) and `workers` worker nodes `w-1`.., 4 CPU and 8 GiB each,
/// that never fail on their own, first-fit, 30 days; `body` adds apps,
/// events and tables.
pub fn members_and_workers(workers: u32, body: &str) -> Scenario {
    scenario(&format!(
        "horizon = \"30d\"\nreplications = 1\nstrategies = [\"first-fit\"]\n{QUIET_DEFAULTS}\
         [[nodes]]\nname = \"cp\"\ncount = 3\ncontrol_plane = true\ncpu = \"100m\"\nlabels = {{ rack = \"r\" }}\n\
         [[nodes]]\nname = \"w\"\ncount = {workers}\n\
         [[domains]]\nname = \"rack\"\nkind = \"rack\"\nselector = {{ rack = \"r\" }}\n{body}\n"
    ))
}
