//! The failure-trace CSV reader: any text gives a trace that keeps the
//! promises of `src/replay.rs` (sorted, repairs after failures, no overlap
//! of one name, times within the limit) or an error at a line and column
//! inside the text, with the column's name as its key.
#![no_main]

use clustersim::input::replay::{ReplayKind, parse};
use clustersim::time::MAX_DURATION_MS;
use clustersim_fuzz::check_error;
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;

const FILE: &str = "fuzz.csv";

fuzz_target!(|data: &[u8]| {
    // `replay::load` refuses text that is not UTF-8 before parsing.
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse(FILE, text) {
        Ok(replay) => {
            let records = &replay.records;
            assert!(records.windows(2).all(|w| (w[0].fail_at_ms, w[0].line) < (w[1].fail_at_ms, w[1].line)));
            let mut open_until: HashMap<&str, Option<u64>> = HashMap::new();
            for r in records {
                assert!(!r.name.is_empty(), "an empty name at line {}", r.line);
                assert!(r.fail_at_ms <= MAX_DURATION_MS && r.repair_at_ms.is_none_or(|t| t <= MAX_DURATION_MS));
                assert!(r.repair_at_ms.is_none_or(|t| t > r.fail_at_ms), "repair not after failure: {r:?}");
                if let Some(previous) = open_until.get(r.name.as_str()) {
                    assert!(
                        previous.is_some_and(|end| end <= r.fail_at_ms),
                        "overlap of `{}` at line {}",
                        r.name,
                        r.line
                    );
                }
                open_until.insert(&r.name, r.repair_at_ms);
            }
        }
        Err(e) => {
            // Columns count from after a byte-order mark.
            let body = text.strip_prefix('\u{feff}').unwrap_or(text);
            check_error(FILE, body, &e);
            assert!(e.location.is_some(), "an error without a place: {e:?}");
            let key = e.key.as_deref().unwrap_or_default();
            let columns = [ReplayKind::Node.column(), ReplayKind::Domain.column(), "fail_at", "repair_at"];
            assert!(columns.contains(&key), "key `{key}` is not a column: {e:?}");
        }
    }
});
