//! The engine behind the validator: a scenario that validates is simulated
//! (shrunk to one short replication) under each of its strategies, with the
//! engine's invariant checker on (cargo fuzz builds with debug assertions).
//! Validation promises a scenario the engine can run: it must not panic.
#![no_main]

use clustersim_fuzz::{SCENARIO_FILE, safe_scenario_text, shrink_for_simulation};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if !safe_scenario_text(text) {
        return;
    }
    let Ok(scenario) = clustersim::input::parse(SCENARIO_FILE, text) else { return };
    let Some(small) = shrink_for_simulation(&scenario) else { return };
    for &strategy in &small.strategies {
        let outcome = clustersim::engine::simulate(&small, strategy, 0, None);
        assert_eq!(outcome.apps.len(), small.apps.len(), "one outcome per app");
    }
});
