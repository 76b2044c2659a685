//! The scenario parser and validator: any text either becomes a
//! [`Scenario`](clustersim::model::Scenario) or an error that names a place
//! inside the text, and never a panic.
#![no_main]

use clustersim_fuzz::{SCENARIO_FILE, check_error, safe_scenario_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Scenario files are read with `read_to_string`, so only UTF-8 text
    // reaches the parser.
    let Ok(text) = std::str::from_utf8(data) else { return };
    if !safe_scenario_text(text) {
        return;
    }
    match clustersim::input::parse(SCENARIO_FILE, text) {
        Ok(scenario) => {
            assert!(scenario.horizon_ms > 0, "a zero horizon passed validation");
            assert!(scenario.replications >= 1, "zero replications passed validation");
            assert_eq!(scenario.text, text);
        }
        // An error in a `[[replay]]` trace names the trace and a place in it.
        Err(e) if e.file != SCENARIO_FILE => assert!(!e.message.trim().is_empty(), "an empty error: {e:?}"),
        Err(e) => check_error(SCENARIO_FILE, text, &e),
    }
});
