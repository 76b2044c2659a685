//! The parsers of durations, sizes and CPU amounts: any text gives a value
//! or a non-empty error, and a parsed duration survives the round trip
//! through `format_duration` that `validate` relies on to echo it.
#![no_main]

use clustersim::time::{MAX_DURATION_MS, format_duration, parse_cpu_str, parse_duration, parse_size};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse_duration(&text) {
        Ok(ms) => {
            assert!(ms <= MAX_DURATION_MS, "`{text}` parsed to {ms} ms, past the limit");
            let shown = format_duration(ms);
            assert_eq!(parse_duration(&shown), Ok(ms), "`{text}` -> {ms} ms -> `{shown}`");
        }
        Err(e) => assert!(!e.trim().is_empty(), "`{text}`: an empty duration error"),
    }
    match parse_size(&text) {
        Ok(bytes) => assert!(bytes <= 1_000_000_000_000_000_000, "`{text}` parsed to {bytes} bytes, past the limit"),
        Err(e) => assert!(!e.trim().is_empty(), "`{text}`: an empty size error"),
    }
    match parse_cpu_str(&text) {
        Ok(millis) => assert!(millis <= 1_000_000_000_000, "`{text}` parsed to {millis}m, past the limit"),
        Err(e) => assert!(!e.trim().is_empty(), "`{text}`: an empty CPU error"),
    }
});
