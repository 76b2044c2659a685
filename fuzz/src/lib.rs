//! Helpers shared by the fuzz targets of `fuzz_targets/`: the checks every
//! error must pass, and the shrinking that keeps a fuzzed scenario cheap
//! enough to simulate hundreds of times a second.

use clustersim::dist::Dist;
use clustersim::error::InputError;
use clustersim::model::Scenario;
use clustersim::time::{MS_PER_DAY, Millis};

/// The name scenario inputs are parsed under. It sits in `tests/replay/`,
/// so a `[[replay]]` of `nodes.csv` or `domains.csv` (as the seeds write)
/// resolves to a real trace.
pub const SCENARIO_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/replay/fuzz-input.toml");

/// Whether a scenario input may be parsed. `[[replay]] file = ...` makes the
/// validator read a file; a fuzzed path must not name a device or a kernel
/// file that never ends (`/dev/zero`), and a `\u` escape could spell one.
pub fn safe_scenario_text(text: &str) -> bool {
    !["/dev", "/proc", "/sys", "\\u", "\\U"].iter().any(|bad| text.contains(bad))
}

/// The checks every [`InputError`] must pass: it names the file, says
/// something, and any place it gives lies within `text` (1-based, at most
/// one line past the last and one column past a line's end).
pub fn check_error(file: &str, text: &str, e: &InputError) {
    assert_eq!(e.file, file, "the error names another file: {e}");
    assert!(!e.message.trim().is_empty(), "an error without a message: {e:?}");
    if let Some(key) = &e.key {
        assert!(!key.is_empty(), "an empty key: {e:?}");
    }
    if let Some((line, column)) = e.location {
        let lines: Vec<&str> = text.split('\n').collect();
        assert!(line >= 1 && line <= lines.len(), "line {line} outside the {} lines: {e:?}", lines.len());
        let width = lines[line - 1].chars().count();
        assert!(column >= 1 && column <= width + 1, "column {column} outside line {line} ({width} chars): {e:?}");
    }
}

/// The longest horizon a fuzzed scenario is simulated for.
pub const SIM_HORIZON_MS: Millis = 30 * MS_PER_DAY;
/// Bigger scenarios are not simulated: they would slow the fuzzer down for
/// no new paths.
pub const SIM_MAX_NODES: usize = 16;
pub const SIM_MAX_PODS: u64 = 64;
/// A random process that fires more often than this many times over the
/// shrunk horizon (on average) is not simulated: a failure every millisecond
/// is legal, but makes a single run take minutes.
pub const SIM_MAX_EVENTS_PER_SOURCE: u64 = 200;

/// A copy of `scenario` cut down to one replication of at most
/// [`SIM_HORIZON_MS`], or `None` if it is too big or too busy to simulate
/// quickly.
pub fn shrink_for_simulation(scenario: &Scenario) -> Option<Scenario> {
    if scenario.nodes.len() > SIM_MAX_NODES {
        return None;
    }
    let pods: u64 = scenario.apps.iter().map(|a| u64::from(a.replicas)).sum();
    if pods > SIM_MAX_PODS {
        return None;
    }
    let horizon_ms = scenario.horizon_ms.min(SIM_HORIZON_MS);
    let min_mean_ms = horizon_ms as f64 / SIM_MAX_EVENTS_PER_SOURCE as f64;
    let busy = |d: &Dist| d.mean_ms().is_some_and(|mean| !(mean >= min_mean_ms));
    let sources = scenario
        .nodes
        .iter()
        .flat_map(|n| [&n.failure].into_iter().chain(n.pool.as_ref().map(|p| &p.disk_failure)))
        .chain(scenario.domains.iter().map(|d| &d.failure))
        .chain(scenario.apps.iter().flat_map(|a| [&a.crash, &a.hang]));
    if sources.into_iter().any(busy) {
        return None;
    }
    if scenario.maintenance.as_ref().is_some_and(|m| (m.every_ms as f64) < min_mean_ms) {
        return None;
    }
    let mut small = scenario.clone();
    small.horizon_ms = horizon_ms;
    small.replications = 1;
    Some(small)
}
