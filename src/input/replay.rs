//! Failure traces: real failure history replayed instead of, or on top of,
//! the random failure distributions.
//!
//! # Format
//!
//! A trace is a UTF-8 CSV file (a leading byte-order mark is ignored; lines
//! end in `\n` or `\r\n`). Lines are numbered from 1 and columns count
//! characters from 1.
//!
//! * **Ignored lines.** A blank line (empty, or only whitespace) and a line
//!   whose first non-whitespace character is `#` are ignored wherever they
//!   appear, also before the header.
//! * **Fields.** A line is split at commas into fields; whitespace around a
//!   field is trimmed. A field whose first non-whitespace character is `"` is
//!   quoted: it runs to the closing `"`, may contain commas, writes a quote as
//!   `""`, keeps its inner whitespace and must end on the same line; only
//!   whitespace may follow the closing quote before the next comma. A `"`
//!   elsewhere is an ordinary character. A trailing comma ends the line with
//!   an empty field.
//! * **Header.** The first line that is not ignored is the header, exactly
//!   `node,fail_at,repair_at` (a node trace) or `domain,fail_at,repair_at` (a
//!   failure-domain trace). Header names are case-sensitive.
//! * **Rows.** Every further line is one failure, exactly three fields:
//!   1. the name of the node (or failure domain), not empty;
//!   2. `fail_at`, when it fails;
//!   3. `repair_at`, when it is repaired, strictly after `fail_at`; empty
//!      means never repaired.
//! * **Times** count from the start of the simulated horizon. A time is
//!   either a duration with units as [`parse_duration`] reads them (`"100h"`,
//!   `"1h30m"`, `"30d 6h"`, `"250ms"`; units ms, s, m, h, d, w, y, where a
//!   year is 365.25 days; fractions round to the millisecond), or a whole
//!   number of milliseconds written with digits only (`"5400000"` is 1h30m).
//!   A time may not exceed 100000y ([`MAX_DURATION_MS`]).
//! * **No overlap.** Two failures of the same name may not overlap: each
//!   failure lasts from `fail_at` up to, not including, `repair_at` (for ever
//!   if `repair_at` is empty), so a new failure may start at the previous
//!   `repair_at` or later.
//! * **Size.** At most [`MAX_ROWS`] rows.
//!
//! Rows may come in any order; [`parse`] returns them sorted by
//! `(fail_at, line)`. Whether the names exist is for [`check_names`], which
//! needs the scenario's declared nodes or domains.
//!
//! ```text
//! # power cut in rack A, then worker-3 dies for good
//! node,fail_at,repair_at
//! worker-1, 100h, 104h30m
//! worker-2, 100h, 361800000
//! worker-3, 2y,
//! ```
//!
//! # Errors
//!
//! Every error in the text is an [`InputError`] with `location` set to the
//! line and the column where the offending field starts (the character after
//! the preceding comma, so a name always starts at column 1; for a missing
//! field, the column just past the end of the line) and `key` set to the name
//! of that field's column (`node` or `domain`, `fail_at`, `repair_at`; a
//! fourth field is blamed on `repair_at`). The message says what is wrong and
//! what would be right.

use crate::error::{InputError, line_col};
pub use crate::model::trace::{Replay, ReplayKind, ReplayRecord};
use crate::time::{MAX_DURATION_MS, Millis, format_duration, parse_duration};
use std::path::Path;

/// The most rows (failures) one trace may hold.
pub const MAX_ROWS: usize = 1_000_000;

const HEADERS: &str = "`node,fail_at,repair_at` or `domain,fail_at,repair_at`";

const TIME_FORMS: &str = "a time is a duration from the start of the horizon, such as \"100h\", \"1h30m\" \
                          or \"250ms\", or a whole number of milliseconds, such as \"5400000\"";

/// Reads and parses the trace at `path`; errors name the file as
/// `path.display()` shows it.
pub fn load(path: &Path) -> Result<Replay, InputError> {
    let file = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| InputError::new(&file, format!("cannot read the failure trace: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let prefix = std::str::from_utf8(&e.as_bytes()[..valid]).unwrap_or_default();
        InputError {
            file: file.clone(),
            location: Some(line_col(prefix, valid)),
            key: None,
            message: "the failure trace is not UTF-8 text: save it as UTF-8 CSV".to_string(),
        }
    })?;
    parse(&file, &text)
}

/// Parses a trace; `file` names the file in errors.
pub fn parse(file: &str, text: &str) -> Result<Replay, InputError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut kind = None;
    let mut rows: Vec<Row> = Vec::new();
    let mut reader = LineReader::new();
    for (index, line) in text.split('\n').enumerate() {
        let number = index + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match kind {
            None => kind = Some(header(&mut reader, file, number, line)?),
            Some(kind) => {
                if rows.len() == MAX_ROWS {
                    return Err(error(
                        file,
                        number,
                        1,
                        kind.column(),
                        format!(
                            "the trace has more than {MAX_ROWS} rows: keep at most {MAX_ROWS} failures in one \
                             trace (drop those past the horizon, or split it across several files)"
                        ),
                    ));
                }
                rows.push(row(&mut reader, file, kind, number, line)?);
            }
        }
    }
    let Some(kind) = kind else {
        return Err(error(
            file,
            1,
            1,
            "node",
            format!(
                "the trace has no header: its first line (after comments and blank lines) must be {HEADERS}, \
                 followed by one row per failure"
            ),
        ));
    };
    check_overlaps(file, kind, &rows)?;
    let mut records: Vec<ReplayRecord> = rows.into_iter().map(|r| r.record).collect();
    records.sort_by_key(|r| (r.fail_at_ms, r.line));
    Ok(Replay { kind, records })
}

/// A parsed row and where its `fail_at` starts, for overlap errors.
struct Row {
    record: ReplayRecord,
    fail_column: usize,
}

fn error(file: &str, line: usize, column: usize, key: &str, message: impl Into<String>) -> InputError {
    InputError {
        file: file.to_string(),
        location: Some((line, column)),
        key: Some(key.to_string()),
        message: message.into(),
    }
}

/// One field of a line: its text, trimmed and unquoted, and the 1-based
/// character column where it starts (just after the preceding comma).
struct Field {
    text: String,
    column: usize,
}

/// A line that cannot be split into fields: which field, where it starts,
/// and what is wrong.
struct SplitError {
    index: usize,
    column: usize,
    message: String,
}

/// Splits one line (no line terminator) into fields. The `csv` crate does
/// the CSV itself: commas, quoted fields, `""` escapes. What the format adds
/// to plain CSV is done here, from the bytes the crate consumed: the column
/// each field starts at, whitespace before an opening quote (the crate only
/// quotes a field whose first byte is `"`, so the rest of the line is read
/// again from the quote), whitespace after a closing quote, and refusing
/// text after a closing quote or a quote left open.
fn split_fields<'a>(reader: &mut LineReader<'a>, line: &'a str) -> Result<Vec<Field>, SplitError> {
    let bytes = line.as_bytes();
    let char_column = |byte: usize| line[..byte].chars().count() + 1;
    let mut fields = Vec::new();
    // Where the csv crate starts reading, and where the field read first
    // from there started (before the whitespace skipped to reach a quote).
    let mut origin = 0;
    let mut first_start = 0;
    'reread: loop {
        let record = reader.record(&line[origin..]);
        let mut start = first_start;
        for (index, content) in record.iter().enumerate() {
            let field_start = if index == 0 { origin } else { start };
            let spaces = line[field_start..].len() - line[field_start..].trim_start_matches(space).len();
            let quote = field_start + spaces;
            if spaces > 0 && bytes.get(quote) == Some(&b'"') {
                // Quoted after whitespace: the crate took it as a plain
                // field; read the rest of the line again from the quote.
                origin = quote;
                first_start = start;
                continue 'reread;
            }
            let (text, end) = if bytes.get(field_start) == Some(&b'"') {
                quoted(line, content, start, field_start, fields.len())?
            } else {
                (content.trim().to_string(), field_start + content.len())
            };
            fields.push(Field { text, column: char_column(start) });
            // The comma after the field, or the end of the line.
            start = end + 1;
        }
        return Ok(fields);
    }
}

/// Whitespace that may surround a field (a comma is never whitespace).
fn space(c: char) -> bool {
    c != ',' && c.is_whitespace()
}

/// The `csv` crate's reader, made once per trace and pointed at one line
/// at a time (making a reader per line costs a second per 100,000 rows).
/// It reads with no header, any number of fields, fields untrimmed, `""`
/// escapes, and `\n` as the only terminator (so a `\r` inside a line is an
/// ordinary character, as it was).
struct LineReader<'a> {
    reader: csv::Reader<std::io::Cursor<&'a [u8]>>,
    record: csv::StringRecord,
}

impl<'a> LineReader<'a> {
    fn new() -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(std::io::Cursor::new(&b""[..]));
        LineReader { reader, record: csv::StringRecord::new() }
    }

    /// The one record of `text`, a line without its terminator (an empty
    /// text: one empty field, as a split at commas gives).
    fn record(&mut self, text: &'a str) -> &csv::StringRecord {
        *self.reader.get_mut() = std::io::Cursor::new(text.as_bytes());
        // Seeking a cursor and reading valid UTF-8 with no terminator in it
        // cannot fail; the record is then one line's.
        let read = self.reader.seek_raw(std::io::SeekFrom::Start(0), csv::Position::new()).is_ok()
            && self.reader.read_record(&mut self.record).unwrap_or(false);
        if !read {
            self.record = csv::StringRecord::from(vec![""]);
        }
        &self.record
    }
}

/// A field the `csv` crate read as quoted, at byte `quote` of `line` (its
/// opening quote), `start` the byte where the field starts (the character
/// after the comma), `content` what the crate made of it. Follows the
/// crate's reading through the line's bytes to find the closing quote:
/// returns the text inside the quotes and the byte where the field ends.
fn quoted(line: &str, content: &str, start: usize, quote: usize, index: usize) -> Result<(String, usize), SplitError> {
    let bytes = line.as_bytes();
    let char_index = |byte: usize| line[..byte].chars().count();
    let wanted = content.as_bytes();
    // `at` walks the line, `taken` the content; a `""` in the line is one
    // `"` of the content; the first lone `"` closes the quote, and the crate
    // copies what follows up to the comma as it stands.
    let (mut at, mut taken) = (quote + 1, 0);
    let mut closed = None;
    while taken < wanted.len() || (closed.is_none() && bytes.get(at) == Some(&b'"')) {
        if closed.is_none() && bytes[at] == b'"' {
            if bytes.get(at + 1) == Some(&b'"') {
                at += 2;
                taken += 1;
            } else {
                closed = Some((at, taken));
                at += 1;
            }
        } else {
            at += 1;
            taken += 1;
        }
    }
    let Some((close, inside)) = closed else {
        return Err(SplitError {
            index,
            column: char_index(start) + 1,
            message: format!(
                "the quote opened at column {} is not closed: end a quoted field with `\"` on the same line, and \
                 write a quote inside it as `\"\"`",
                char_index(quote) + 1
            ),
        });
    };
    let after = &line[close + 1..at];
    if let Some(offset) = after.find(|c| !space(c)) {
        let c = after[offset..].chars().next().unwrap_or_default();
        return Err(SplitError {
            index,
            column: char_index(start) + 1,
            message: format!(
                "`{c}` follows the closing quote at column {}: a quoted field ends at its closing quote, and a \
                 comma or the end of the line comes next",
                char_index(close + 1 + offset)
            ),
        });
    }
    Ok((content[..inside].to_string(), at))
}

/// The kind a header declares.
fn header<'a>(reader: &mut LineReader<'a>, file: &str, number: usize, line: &'a str) -> Result<ReplayKind, InputError> {
    let fields = split_fields(reader, line).map_err(|e| {
        let key = ReplayKind::Node.columns()[e.index.min(2)];
        error(file, number, e.column, key, format!("{}; the header must be {HEADERS}", e.message))
    })?;
    let first = &fields[0];
    let kind = match first.text.as_str() {
        "node" => ReplayKind::Node,
        "domain" => ReplayKind::Domain,
        other => {
            let key = if other.eq_ignore_ascii_case("domain") { "domain" } else { "node" };
            let message = if fields.len() == 3 && parse_time(&fields[1].text).is_ok() {
                format!("the header is missing: the first line must be {HEADERS}, found the row `{}`", line.trim())
            } else if other.eq_ignore_ascii_case("node") || other.eq_ignore_ascii_case("domain") {
                format!(
                    "`{other}` is not a header column (header names are case-sensitive): the header must be {HEADERS}"
                )
            } else {
                format!("`{other}` is not a header column: the header must be {HEADERS}")
            };
            return Err(error(file, number, first.column, key, message));
        }
    };
    let columns = kind.columns();
    if fields.len() != 3 {
        let (column, index) = count_place(&fields, line);
        return Err(error(
            file,
            number,
            column,
            columns[index],
            format!("the header has {} columns, expected 3: the header must be {HEADERS}", fields.len()),
        ));
    }
    for (field, expected) in fields.iter().zip(columns).skip(1) {
        if field.text != expected {
            let hint =
                if field.text.eq_ignore_ascii_case(expected) { " (header names are case-sensitive)" } else { "" };
            return Err(error(
                file,
                number,
                field.column,
                expected,
                format!("header column `{}` should be `{expected}`{hint}: the header must be {HEADERS}", field.text),
            ));
        }
    }
    Ok(kind)
}

/// Where a line with the wrong number of fields goes wrong: the column where
/// the first extra field starts (blamed on the last column), or the column
/// just past the end of the line where the first missing one would start.
fn count_place(fields: &[Field], line: &str) -> (usize, usize) {
    match fields.get(3) {
        Some(extra) => (extra.column, 2),
        None => (line.chars().count() + 1, fields.len()),
    }
}

fn row<'a>(
    reader: &mut LineReader<'a>,
    file: &str,
    kind: ReplayKind,
    number: usize,
    line: &'a str,
) -> Result<Row, InputError> {
    let columns = kind.columns();
    let fields =
        split_fields(reader, line).map_err(|e| error(file, number, e.column, columns[e.index.min(2)], e.message))?;
    if fields.len() != 3 {
        let (column, index) = count_place(&fields, line);
        let n = fields.len();
        let message = if n > 3 {
            format!(
                "the row has {n} fields, expected 3 ({}): remove the extra field that starts here, or quote a name \
                 that contains a comma",
                kind.header()
            )
        } else {
            let example = if n == 2 { format!(" (`{},{},`)", fields[0].text, fields[1].text) } else { String::new() };
            format!(
                "the row has {n} field{}, expected 3 ({}): `{}` is missing; end the row with a comma{example} if it \
                 was never repaired",
                if n == 1 { "" } else { "s" },
                kind.header(),
                columns[index]
            )
        };
        return Err(error(file, number, column, columns[index], message));
    }
    let [name, fail, repair] = [&fields[0], &fields[1], &fields[2]];
    if name.text.is_empty() {
        return Err(error(
            file,
            number,
            name.column,
            kind.column(),
            format!("the {0} name is empty: each row starts with the name of the {0} that fails", kind.column()),
        ));
    }
    if fail.text.is_empty() {
        return Err(error(
            file,
            number,
            fail.column,
            "fail_at",
            format!("`fail_at` is empty: every failure needs a time; {TIME_FORMS}"),
        ));
    }
    let fail_at_ms = parse_time(&fail.text).map_err(|m| error(file, number, fail.column, "fail_at", m))?;
    let repair_at_ms = if repair.text.is_empty() {
        None
    } else {
        let repair_at_ms = parse_time(&repair.text).map_err(|m| error(file, number, repair.column, "repair_at", m))?;
        if repair_at_ms <= fail_at_ms {
            return Err(error(
                file,
                number,
                repair.column,
                "repair_at",
                format!(
                    "repair_at {} is not after fail_at {}: a repair comes strictly after its failure; leave \
                     repair_at empty for a failure that is never repaired",
                    format_duration(repair_at_ms),
                    format_duration(fail_at_ms)
                ),
            ));
        }
        Some(repair_at_ms)
    };
    Ok(Row {
        record: ReplayRecord { name: name.text.clone(), fail_at_ms, repair_at_ms, line: number },
        fail_column: fail.column,
    })
}

/// A time: a duration with units, or a whole number of milliseconds.
fn parse_time(text: &str) -> Result<Millis, String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(text) {
        return match text.parse::<Millis>() {
            Ok(ms) if ms <= MAX_DURATION_MS => Ok(ms),
            _ => Err(format!("time `{text}` (milliseconds) is later than the limit of 100000y ({MAX_DURATION_MS})")),
        };
    }
    if text.strip_prefix('-').is_some_and(digits) {
        return Err(format!("time `{text}` is negative: times count from the start of the horizon; {TIME_FORMS}"));
    }
    parse_duration(text).map_err(|e| format!("{e}; {TIME_FORMS}"))
}

/// Refuses two failures of one name that overlap in time. Of all the
/// overlaps, the one reported is at the earliest line.
fn check_overlaps(file: &str, kind: ReplayKind, rows: &[Row]) -> Result<(), InputError> {
    let mut order: Vec<&Row> = rows.iter().collect();
    order.sort_by(|a, b| {
        let key = |r: &Row| (r.record.fail_at_ms, r.record.line);
        a.record.name.cmp(&b.record.name).then_with(|| key(a).cmp(&key(b)))
    });
    let clash = order
        .windows(2)
        .filter(|w| {
            let (a, b) = (&w[0].record, &w[1].record);
            a.name == b.name && a.repair_at_ms.is_none_or(|repair| repair > b.fail_at_ms)
        })
        .min_by_key(|w| w[1].record.line);
    let Some([earlier, later]) = clash else {
        return Ok(());
    };
    let (a, b) = (&earlier.record, &later.record);
    let until = match a.repair_at_ms {
        Some(repair) => format!("repaired at {}", format_duration(repair)),
        None => "never repaired".to_string(),
    };
    Err(error(
        file,
        b.line,
        later.fail_column,
        "fail_at",
        format!(
            "{0} `{1}` fails at {2} on line {3} while it is still down from its failure on line {4} (at {5}, \
             {until}): failures of one {0} must not overlap; a new failure may start at the previous repair_at or \
             later",
            kind.column(),
            b.name,
            format_duration(b.fail_at_ms),
            b.line,
            a.line,
            format_duration(a.fail_at_ms),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::trace::check_names;
    use crate::time::{MS_PER_DAY, MS_PER_H, MS_PER_MIN, MS_PER_YEAR};

    const NODES: &str = include_str!("../../tests/replay/nodes.csv");
    const DOMAINS: &str = include_str!("../../tests/replay/domains.csv");

    fn record(name: &str, fail_at_ms: Millis, repair_at_ms: Option<Millis>, line: usize) -> ReplayRecord {
        ReplayRecord { name: name.to_string(), fail_at_ms, repair_at_ms, line }
    }

    /// Parses a node trace made of the header and `rows`, and returns the
    /// error: location, key, message.
    fn node_error(rows: &str) -> ((usize, usize), String, String) {
        let text = format!("node,fail_at,repair_at\n{rows}");
        let e = parse("t.csv", &text).expect_err("the trace should be refused");
        assert_eq!(e.file, "t.csv");
        (e.location.expect("location"), e.key.expect("key"), e.message)
    }

    fn header_error(text: &str) -> ((usize, usize), String, String) {
        let e = parse("t.csv", text).expect_err("the header should be refused");
        (e.location.expect("location"), e.key.expect("key"), e.message)
    }

    #[test]
    fn a_node_trace_parses_sorted_with_comments_blank_lines_ms_and_no_repair() {
        let replay = parse("nodes.csv", NODES).unwrap();
        assert_eq!(replay.kind, ReplayKind::Node);
        assert_eq!(
            replay.records,
            vec![
                record("worker-1", 100 * MS_PER_H, Some(104 * MS_PER_H + 30 * MS_PER_MIN), 4),
                record("worker-2", 250 * MS_PER_H, Some(251 * MS_PER_H), 6),
                record("worker-1", 1000 * MS_PER_H, Some(1002 * MS_PER_H), 8),
                record("worker-3", 2 * MS_PER_YEAR, None, 9),
            ]
        );
    }

    #[test]
    fn a_domain_trace_parses_sorted_by_fail_time() {
        let replay = parse("domains.csv", DOMAINS).unwrap();
        assert_eq!(replay.kind, ReplayKind::Domain);
        assert_eq!(
            replay.records,
            vec![
                record("rack-a", 30 * MS_PER_DAY, Some(30 * MS_PER_DAY + 6 * MS_PER_H), 3),
                record("power-b", 1000 * MS_PER_H, Some(1000 * MS_PER_H + 45 * MS_PER_MIN), 4),
                record("rack-a", 200 * MS_PER_DAY, Some(201 * MS_PER_DAY), 5),
            ]
        );
    }

    #[test]
    fn crlf_bom_quotes_touching_failures_and_equal_times_are_accepted() {
        let text =
            "\u{feff}# c\r\nnode,fail_at,repair_at\r\n\"b,1\",5h,\"6h\"\r\n  \t\r\na,1h,2h\r\na,2h,3h\r\nc,1h,\r\n";
        let replay = parse("t.csv", text).unwrap();
        assert_eq!(
            replay.records,
            vec![
                record("a", MS_PER_H, Some(2 * MS_PER_H), 5),
                record("c", MS_PER_H, None, 7),
                record("a", 2 * MS_PER_H, Some(3 * MS_PER_H), 6),
                record("b,1", 5 * MS_PER_H, Some(6 * MS_PER_H), 3),
            ]
        );
        let header_only = parse("t.csv", "domain , fail_at , repair_at\n").unwrap();
        assert_eq!(header_only, Replay { kind: ReplayKind::Domain, records: vec![] });
    }

    #[test]
    fn load_reads_a_file_and_names_an_unreadable_one() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/replay");
        assert_eq!(load(&dir.join("nodes.csv")).unwrap(), parse("x", NODES).unwrap());
        let missing = dir.join("no-such-trace.csv");
        let e = load(&missing).unwrap_err();
        assert_eq!(e.file, missing.display().to_string());
        assert!(e.message.contains("cannot read the failure trace"), "{}", e.message);
    }

    #[test]
    fn load_refuses_text_that_is_not_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.csv");
        std::fs::write(&path, b"node,fail_at,repair_at\nn\xff1,1h,\n").unwrap();
        let e = load(&path).unwrap_err();
        assert_eq!(e.location, Some((2, 2)));
        assert!(e.message.contains("UTF-8"), "{}", e.message);
    }

    #[test]
    fn a_wrong_header_is_refused_listing_the_accepted_ones() {
        let (place, key, message) = header_error("host,fail_at,repair_at\nn1,1h,2h\n");
        assert_eq!((place, key.as_str()), ((1, 1), "node"));
        assert!(message.contains("`host` is not a header column"), "{message}");
        assert!(message.contains(HEADERS), "{message}");

        let (place, key, message) = header_error("node,fail_at,repair\n");
        assert_eq!((place, key.as_str()), ((1, 14), "repair_at"));
        assert!(message.contains("`repair` should be `repair_at`"), "{message}");
        assert!(message.contains(HEADERS), "{message}");

        let (place, key, message) = header_error("Domain,fail_at,repair_at\n");
        assert_eq!((place, key.as_str()), ((1, 1), "domain"));
        assert!(message.contains("case-sensitive"), "{message}");

        let (place, key, message) = header_error("# trace\n\ndomain,fail_at\n");
        assert_eq!((place, key.as_str()), ((3, 15), "repair_at"));
        assert!(message.contains("the header has 2 columns, expected 3"), "{message}");
    }

    #[test]
    fn a_missing_header_is_refused_at_line_one() {
        let (place, key, message) = header_error("n1,1h,2h\nn2,3h,4h\n");
        assert_eq!((place, key.as_str()), ((1, 1), "node"));
        assert!(message.contains("the header is missing"), "{message}");
        assert!(message.contains(HEADERS), "{message}");

        for empty in ["", "\n\n", "# only a comment\n"] {
            let (place, key, message) = header_error(empty);
            assert_eq!((place, key.as_str()), ((1, 1), "node"));
            assert!(message.contains("the trace has no header"), "{message}");
            assert!(message.contains(HEADERS), "{message}");
        }
    }

    #[test]
    fn a_wrong_number_of_fields_is_refused() {
        let (place, key, message) = node_error("n1,1h,2h\nn2,3h\n");
        assert_eq!((place, key.as_str()), ((3, 6), "repair_at"));
        assert!(message.contains("the row has 2 fields, expected 3 (node,fail_at,repair_at)"), "{message}");
        assert!(message.contains("`n2,3h,`"), "{message}");

        let (place, key, message) = node_error("n1,1h,2h,extra\n");
        assert_eq!((place, key.as_str()), ((2, 10), "repair_at"));
        assert!(message.contains("the row has 4 fields, expected 3"), "{message}");

        let (place, key, _) = node_error("n1\n");
        assert_eq!((place, key.as_str()), ((2, 3), "fail_at"));
    }

    #[test]
    fn an_empty_name_is_refused() {
        let (place, key, message) = node_error("n1,1h,2h\n  ,3h,4h\n");
        assert_eq!((place, key.as_str()), ((3, 1), "node"));
        assert!(message.contains("the node name is empty"), "{message}");

        let e = parse("d.csv", "domain,fail_at,repair_at\n\"\",1h,\n").unwrap_err();
        assert_eq!((e.location, e.key.as_deref()), (Some((2, 1)), Some("domain")));
        assert!(e.message.contains("the domain name is empty"), "{}", e.message);
    }

    #[test]
    fn an_unparsable_time_is_refused_with_the_accepted_forms() {
        let (place, key, message) = node_error("n1, 10 hours ,20h\n");
        assert_eq!((place, key.as_str()), ((2, 4), "fail_at"));
        assert!(message.contains("`hours` in `10 hours` is not a duration unit"), "{message}");
        assert!(message.contains("\"1h30m\""), "{message}");
        assert!(message.contains("whole number of milliseconds"), "{message}");

        let (place, key, message) = node_error("n1,10h,soon\n");
        assert_eq!((place, key.as_str()), ((2, 8), "repair_at"));
        assert!(message.contains("`soon` is not a duration"), "{message}");

        let (place, key, message) = node_error("n1,-5,\n");
        assert_eq!((place, key.as_str()), ((2, 4), "fail_at"));
        assert!(message.contains("negative"), "{message}");

        let (place, key, message) = node_error("n1,,\n");
        assert_eq!((place, key.as_str()), ((2, 4), "fail_at"));
        assert!(message.contains("`fail_at` is empty"), "{message}");

        let (_, key, message) = node_error("n1,99999999999999999999,\n");
        assert_eq!(key, "fail_at");
        assert!(message.contains("limit of 100000y"), "{message}");
    }

    #[test]
    fn a_repair_not_after_the_failure_is_refused() {
        let (place, key, message) = node_error("node-1,10h,5h\n");
        assert_eq!((place, key.as_str()), ((2, 12), "repair_at"));
        assert!(message.contains("repair_at 5h is not after fail_at 10h"), "{message}");
        assert!(message.contains("leave repair_at empty"), "{message}");

        let (place, key, _) = node_error("node-1,36000000,10h\n");
        assert_eq!((place, key.as_str()), ((2, 17), "repair_at"));
    }

    #[test]
    fn overlapping_failures_of_one_name_are_refused_naming_both_lines() {
        let (place, key, message) = node_error("n1,10h,20h\nn2,12h,30h\nn1,15h,16h\n");
        assert_eq!((place, key.as_str()), ((4, 4), "fail_at"));
        assert!(message.contains("node `n1` fails at 15h on line 4"), "{message}");
        assert!(message.contains("still down from its failure on line 2 (at 10h, repaired at 20h)"), "{message}");

        // Out of file order, and a failure that is never repaired.
        let (place, key, message) = node_error("n1,100h,\n# gap\nn1,50h,60h\nn1,200h,300h\n");
        assert_eq!((place, key.as_str()), ((5, 4), "fail_at"));
        assert!(message.contains("on line 5"), "{message}");
        assert!(message.contains("on line 2 (at 100h, never repaired)"), "{message}");

        let (place, _, message) = node_error("n1,10h,20h\nn1,10h,11h\n");
        assert_eq!(place, (3, 4));
        assert!(message.contains("line 2"), "{message}");
    }

    #[test]
    fn unknown_names_are_refused_listing_known_ones() {
        let replay = parse("t.csv", "node,fail_at,repair_at\nworker-1,5h,6h\nworker-9,1h,2h\nworker-8,9h,\n").unwrap();
        let known: Vec<String> = (1..=12).map(|i| format!("worker-{i:02}")).collect();
        let mut known: Vec<&str> = known.iter().map(String::as_str).collect();
        known.push("worker-1");
        let e = check_names("t.csv", &replay, &known).unwrap_err();
        assert_eq!((e.location, e.key.as_deref()), (Some((3, 1)), Some("node")));
        assert!(e.message.contains("unknown node `worker-9`"), "{}", e.message);
        assert!(e.message.contains("`worker-01`, `worker-02`"), "{}", e.message);
        assert!(e.message.contains("`worker-10` and 3 more"), "{}", e.message);
        assert!(!e.message.contains("worker-11"), "{}", e.message);

        assert_eq!(check_names("t.csv", &replay, &["worker-1", "worker-8", "worker-9"]), Ok(()));

        let domains = parse("d.csv", "domain,fail_at,repair_at\n Rack-A ,1h,2h\n").unwrap();
        let e = check_names("d.csv", &domains, &["rack-a"]).unwrap_err();
        assert_eq!((e.location, e.key.as_deref()), (Some((2, 1)), Some("domain")));
        assert!(e.message.contains("did you mean `rack-a`?"), "{}", e.message);
        let e = check_names("d.csv", &domains, &[]).unwrap_err();
        assert!(e.message.contains("declares no failure domains"), "{}", e.message);
    }

    #[test]
    fn bad_quoting_is_refused_at_the_field() {
        let (place, key, message) = node_error("n1,\"10h,\n");
        assert_eq!((place, key.as_str()), ((2, 4), "fail_at"));
        assert!(message.contains("not closed"), "{message}");

        let (place, key, message) = node_error("\"n\"1,10h,\n");
        assert_eq!((place, key.as_str()), ((2, 1), "node"));
        assert!(message.contains("follows the closing quote"), "{message}");
    }

    #[test]
    fn more_than_the_row_limit_is_refused() {
        let mut text = String::from("node,fail_at,repair_at\n");
        for i in 0..=MAX_ROWS {
            text.push_str(&format!("n{i},{i},\n"));
        }
        let e = parse("big.csv", &text).unwrap_err();
        assert_eq!((e.location, e.key.as_deref()), (Some((MAX_ROWS + 2, 1)), Some("node")));
        assert!(e.message.contains("more than 1000000 rows"), "{}", e.message);
        text.truncate(text.trim_end().rfind('\n').unwrap() + 1);
        assert_eq!(parse("big.csv", &text).unwrap().records.len(), MAX_ROWS);
    }
}
