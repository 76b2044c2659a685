//! Simulated time and the unit-bearing quantities of a scenario file.
//!
//! Simulated time is an integer count of milliseconds ([`Millis`]); it never
//! touches `f64` inside the engine, so event order is exact and runs are
//! reproducible bit for bit. This module also parses and formats the
//! human-written quantities of a scenario: durations (`"40s"`, `"8000h"`),
//! sizes (`"32Gi"`) and CPU amounts (`2`, `0.5`, `"500m"`).

/// Simulated time and durations, in milliseconds.
pub type Millis = u64;

pub const MS_PER_S: Millis = 1_000;
pub const MS_PER_MIN: Millis = 60 * MS_PER_S;
pub const MS_PER_H: Millis = 60 * MS_PER_MIN;
pub const MS_PER_DAY: Millis = 24 * MS_PER_H;
/// A year is 365.25 days, as the scenario format documents.
pub const MS_PER_YEAR: Millis = 36_525 * MS_PER_DAY / 100;

/// The largest duration a scenario may write: 100,000 years. Far beyond any
/// sensible horizon, and small enough that sums of a few of them never
/// overflow `u64` milliseconds (which would take about 584 million years).
pub const MAX_DURATION_MS: Millis = 100_000 * MS_PER_YEAR;

const DURATION_UNITS: &[(&str, f64)] = &[
    ("ms", 1.0),
    ("s", MS_PER_S as f64),
    ("m", MS_PER_MIN as f64),
    ("h", MS_PER_H as f64),
    ("d", MS_PER_DAY as f64),
    ("w", 7.0 * MS_PER_DAY as f64),
    ("y", MS_PER_YEAR as f64),
];

/// Splits `"12.5h"` into `(12.5, "h")`; the number may carry a sign so that
/// callers can say "negative" rather than "malformed".
fn split_number(text: &str) -> Option<(f64, &str)> {
    let text = text.trim();
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || c == '_' || (i == 0 && (c == '-' || c == '+'))))
        .map_or(text.len(), |(i, _)| i);
    let number: String = text[..end].chars().filter(|&c| c != '_').collect();
    let value: f64 = number.parse().ok()?;
    Some((value, text[end..].trim()))
}

/// Parses a duration such as `"40s"`, `"1.5h"`, `"10y"`, or a sum of parts
/// as Kubernetes and Go write them (`"1h30m"`, `"5m0s"`), into milliseconds.
///
/// Units: ms, s, m, h, d, w, y (365.25 days). Fractions are rounded to the
/// nearest millisecond. Negative, non-finite and absurdly long durations are
/// refused with a sentence that says what would be right.
pub fn parse_duration(text: &str) -> Result<Millis, String> {
    let not_a_duration = || {
        format!(
            "`{text}` is not a duration: write a number and a unit, such as \"40s\", \"12h\" or \"1h30m\" (units: ms, s, m, h, d, w, y)"
        )
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(not_a_duration());
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let (value, after) = split_number(rest).ok_or_else(not_a_duration)?;
        let unit_len = after.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(after.len());
        let unit = &after[..unit_len];
        if unit.is_empty() {
            return Err(if after.is_empty() && total == 0.0 {
                format!("`{text}` has no unit: durations need one of ms, s, m, h, d, w, y (for example \"{text}s\")")
            } else {
                not_a_duration()
            });
        }
        let factor =
            DURATION_UNITS.iter().find(|(name, _)| *name == unit).map(|&(_, f)| f).ok_or_else(|| {
                format!("`{unit}` in `{text}` is not a duration unit: use one of ms, s, m, h, d, w, y")
            })?;
        if value < 0.0 {
            return Err(format!("duration `{text}` is negative: durations must be zero or more"));
        }
        total += value * factor;
        rest = after[unit_len..].trim_start();
    }
    if !total.is_finite() || total > MAX_DURATION_MS as f64 {
        return Err(format!(
            "duration `{text}` is longer than the limit of 100000y, a hard limit of every duration (it keeps sums of simulated time far from overflowing 64-bit milliseconds)"
        ));
    }
    Ok(total.round() as Millis)
}

/// Formats milliseconds in the largest unit that keeps it exact (`300000` ->
/// `"5m"`), so that `validate` echoes durations the way a person writes them.
pub fn format_duration(ms: Millis) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    for &(unit, factor) in DURATION_UNITS.iter().rev() {
        let factor = factor as Millis;
        if ms.is_multiple_of(factor) {
            return format!("{}{unit}", ms / factor);
        }
    }
    format!("{ms}ms")
}

/// A point in simulated time, as traces write it: `Ny Nd hh:mm:ss.mmm`
/// (`1y 53d 04:12:31.500`), every part always present, so that one column
/// reads the same from the first event to the last. Years are
/// [`MS_PER_YEAR`] long (365.25 days, as in scenario files), so a year's
/// last quarter day is day 365: `0y 365d 05:59:59.999` comes just before
/// `1y 0d 00:00:00.000`.
pub fn format_instant(ms: Millis) -> String {
    let (years, in_year) = (ms / MS_PER_YEAR, ms % MS_PER_YEAR);
    let (days, in_day) = (in_year / MS_PER_DAY, in_year % MS_PER_DAY);
    format!(
        "{years}y {days}d {:02}:{:02}:{:02}.{:03}",
        in_day / MS_PER_H,
        in_day % MS_PER_H / MS_PER_MIN,
        in_day % MS_PER_MIN / MS_PER_S,
        in_day % MS_PER_S
    )
}

/// Milliseconds as fractional hours, for reports.
pub fn ms_to_hours(ms: f64) -> f64 {
    ms / MS_PER_H as f64
}

/// The units a size accepts, for messages.
pub const SIZE_UNITS: &str =
    "Ki, Mi, Gi, Ti (binary, also KiB...), k, M, G, T (decimal, also kB...), or none (or B) for bytes";

/// Parses a byte size: a plain integer (bytes), or a number with a binary
/// (`Ki`, `Mi`, `Gi`, `Ti`, also written `KiB`...) or decimal (`k`, `M`, `G`,
/// `T`) suffix, as Kubernetes quantities do.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let (value, unit) = split_number(text).ok_or_else(|| {
        format!(
            "`{text}` is not a size: write a number and a unit, such as \"32Gi\" or \"512Mi\" (units: {SIZE_UNITS})"
        )
    })?;
    let factor: f64 = match unit.trim_end_matches('B') {
        "" => 1.0,
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!("`{unit}` in `{text}` is not a size unit: use {SIZE_UNITS}"));
        }
    };
    if value < 0.0 {
        return Err(format!("size `{text}` is negative: sizes are zero or more, such as \"512Mi\""));
    }
    let bytes = value * factor;
    if !bytes.is_finite() || bytes > 1e18 {
        return Err(format!("size `{text}` is larger than the limit of 1E (10^18 bytes)"));
    }
    Ok(bytes.round() as u64)
}

/// Formats bytes with the largest binary unit that keeps two decimals honest.
pub fn format_size(bytes: u64) -> String {
    const UNITS: &[(&str, u64)] = &[("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)];
    for &(unit, factor) in UNITS {
        if bytes >= factor {
            let value = bytes as f64 / factor as f64;
            return if bytes.is_multiple_of(factor) {
                format!("{}{unit}", bytes / factor)
            } else {
                format!("{value:.2}{unit}")
            };
        }
    }
    format!("{bytes}")
}

/// Parses a CPU amount in Kubernetes notation into millicores: `2` or `0.5`
/// cores, or `"500m"`.
pub fn parse_cpu_str(text: &str) -> Result<u64, String> {
    let (value, unit) = split_number(text)
        .ok_or_else(|| format!("`{text}` is not a CPU amount: write cores (2, 0.5) or millicores (\"500m\")"))?;
    let factor = match unit {
        "" => 1000.0,
        "m" => 1.0,
        _ => {
            return Err(format!(
                "`{unit}` in `{text}` is not a CPU unit: write cores (2, 0.5) or millicores (\"500m\")"
            ));
        }
    };
    cpu_millis(value * factor / 1000.0)
}

/// Converts cores to millicores, refusing negative or absurd amounts.
pub fn cpu_millis(cores: f64) -> Result<u64, String> {
    if !cores.is_finite() || cores < 0.0 {
        return Err(format!(
            "CPU amount {cores} is negative or not a number: write zero or more cores (2, 0.5) or millicores (\"500m\")"
        ));
    }
    if cores > 1e9 {
        return Err(format!("CPU amount {cores} is larger than the limit of 10^9 cores"));
    }
    Ok((cores * 1000.0).round() as u64)
}

/// Formats millicores the way Kubernetes does: whole cores when exact.
pub fn format_cpu(millis: u64) -> String {
    if millis.is_multiple_of(1000) { format!("{}", millis / 1000) } else { format!("{millis}m") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit() {
        let cases = [
            ("250ms", 250),
            ("40s", 40_000),
            ("5m", 300_000),
            ("1.5h", 5_400_000),
            ("2d", 172_800_000),
            ("1w", 604_800_000),
            ("1y", 31_557_600_000),
            ("0s", 0),
            ("1h30m", 5_400_000),
            ("5m0s", 300_000),
            ("1d 2h", 93_600_000),
        ];
        for (text, ms) in cases {
            assert_eq!(parse_duration(text), Ok(ms), "{text}");
        }
    }

    #[test]
    fn bad_durations_say_what_is_right() {
        assert!(parse_duration("40").unwrap_err().contains("no unit"));
        assert!(parse_duration("4x").unwrap_err().contains("ms, s, m, h, d, w, y"));
        assert!(parse_duration("-3s").unwrap_err().contains("negative"));
        assert!(parse_duration("abc").unwrap_err().contains("not a duration"));
        assert!(parse_duration("1h30").unwrap_err().contains("not a duration"));
        assert!(parse_duration("1h-5m").unwrap_err().contains("negative"));
        assert!(parse_duration("").unwrap_err().contains("not a duration"));
        assert!(parse_duration("999999999y").unwrap_err().contains("limit"));
    }

    #[test]
    fn durations_round_trip_through_format() {
        for ms in [0, 1, 999, 40_000, 300_000, 3_600_000, 86_400_000, 604_800_000, 90_061_001] {
            assert_eq!(parse_duration(&format_duration(ms)), Ok(ms));
        }
    }

    #[test]
    fn instants_have_every_part_in_fixed_width() {
        let cases = [
            (0, "0y 0d 00:00:00.000"),
            (1, "0y 0d 00:00:00.001"),
            (MS_PER_YEAR + 53 * MS_PER_DAY + 4 * MS_PER_H + 12 * MS_PER_MIN + 31_500, "1y 53d 04:12:31.500"),
            // The example: 142 days, 16 h, 7 min and 15.19 s.
            (12_326_835_190, "0y 142d 16:07:15.190"),
            // A year is 365.25 days: day 365 holds its last six hours.
            (MS_PER_YEAR - 1, "0y 365d 05:59:59.999"),
            (MS_PER_YEAR, "1y 0d 00:00:00.000"),
            (365 * MS_PER_DAY, "0y 365d 00:00:00.000"),
            (MAX_DURATION_MS, "100000y 0d 00:00:00.000"),
        ];
        for (ms, text) in cases {
            assert_eq!(format_instant(ms), text, "{ms} ms");
        }
        // No overflow at the end of u64 milliseconds.
        assert!(format_instant(Millis::MAX).starts_with("584542046y "));
    }

    #[test]
    fn sizes_and_cpu_parse() {
        assert_eq!(parse_size("32Gi"), Ok(32 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1G"), Ok(1_000_000_000));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert!(parse_size("3Qi").is_err());
        assert_eq!(parse_cpu_str("500m"), Ok(500));
        assert_eq!(parse_cpu_str("2"), Ok(2000));
        assert_eq!(cpu_millis(0.25), Ok(250));
        assert!(cpu_millis(-1.0).is_err());
        assert_eq!(format_cpu(2500), "2500m");
        assert_eq!(format_size(4 << 30), "4Gi");
    }
}
