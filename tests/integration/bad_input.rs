//! Bad input is refused with exit code 2, nothing on stdout, and one line on
//! stderr that names the file, the line, the key at fault and what was
//! wrong; never a panic.
//!
//! The scenario cases are files: `tests/bad/` holds one scenario per way of
//! being wrong, each opening with the error it must produce:
//!
//! ```toml
//! # An unknown class: the valid ones are listed.
//! # expect-line: 25                (or `none`: the error has no place in the file)
//! # expect-key: apps.class          (or `none`)
//! # expect-message: unknown class `stateless` for app `web`: use flexible, node-bound or ha
//! # expect-message: ...            (optional: more parts that must appear too)
//! # expect-file: trace.csv         (optional: the error is in that file, beside the scenario)
//! # command: run                   (optional: `validate` by default)
//! # args: --shard 0/2               (optional: more arguments)
//! ```
//!
//! [`the_bad_corpus`] runs every file. A file without its expectations, an
//! unknown `# expect-` line or an empty folder fails it. Other files there
//! (`.csv`) are failure traces the scenarios replay. The cases that are not
//! a scenario (a missing path, a folder) stay below as code.

use crate::common::{repo, run_in, write};
use std::path::{Path, PathBuf};
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

/// What a corpus file must produce, from its `#` header.
#[derive(Debug, PartialEq)]
struct Expectation {
    line: Option<usize>,
    key: Option<String>,
    /// Every `expect-message` line: each must appear in the error.
    messages: Vec<String>,
    file: Option<String>,
    command: String,
    args: Vec<String>,
}

/// The fewest cases the corpus may hold: deleting files by mistake fails
/// the test instead of letting it pass on what is left.
const MIN_CASES: usize = 110;

/// Reads the header of a corpus file; every case needs `expect-line`,
/// `expect-key` and `expect-message`.
fn expectation(text: &str) -> Result<Expectation, String> {
    let (mut line, mut key, mut messages, mut file, mut command, mut args) =
        (None, None, Vec::new(), None, None, Vec::new());
    for header in text.lines().take_while(|l| l.starts_with('#')) {
        let Some((name, value)) = header.trim_start_matches('#').trim().split_once(':') else { continue };
        let value = value.trim().to_string();
        let none_or = |v: &str| (v != "none").then(|| v.to_string());
        match name.trim() {
            "expect-line" => {
                line = Some(match none_or(&value) {
                    None => None,
                    Some(v) => {
                        Some(v.parse::<usize>().map_err(|_| format!("`expect-line: {v}` is not a line number"))?)
                    }
                })
            }
            "expect-key" => key = Some(none_or(&value)),
            "expect-message" if !value.is_empty() => messages.push(value),
            "expect-file" => file = Some(value),
            "command" => command = Some(value),
            "args" => args = value.split_whitespace().map(String::from).collect(),
            other if other.starts_with("expect") => return Err(format!("unknown header `{other}`")),
            _ => {}
        }
    }
    Ok(Expectation {
        line: line.ok_or("no `# expect-line:` header (a number, or none)")?,
        key: key.ok_or("no `# expect-key:` header (a key, or none)")?,
        messages: if messages.is_empty() { return Err("no `# expect-message:` header".into()) } else { messages },
        file,
        command: command.unwrap_or_else(|| "validate".into()),
        args,
    })
}

/// Runs one corpus case; returns what went wrong, if anything.
fn check_case(path: &Path) -> Result<(), String> {
    let source = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let want = expectation(&source)?;
    let dir = TempDir::new().expect("temp dir");
    let scenario = path.display().to_string();
    let out_dir = dir.path().join("out");
    let mut args: Vec<String> = vec![want.command.clone(), scenario.clone()];
    if want.command == "run" {
        args.extend(["--out".into(), out_dir.display().to_string(), "--quiet".into()]);
    }
    args.extend(want.args.iter().cloned());
    let out = run_in(dir.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let named = match &want.file {
        Some(f) => path.with_file_name(f).display().to_string(),
        None => scenario,
    };
    let at = match want.line {
        Some(line) => format!("error: {named}:{line}:"),
        None => format!("error: {named}: "),
    };
    let problems: Vec<String> = [
        (out.status.code() != Some(2)).then(|| format!("exit code {:?}, not 2", out.status.code())),
        (!stdout.is_empty()).then(|| format!("stdout is not empty: {stdout}")),
        stderr.contains("panicked").then(|| "a panic".to_string()),
        (stderr.lines().count() != 1).then(|| "stderr is not one line".to_string()),
        (!stderr.starts_with(&at)).then(|| format!("stderr does not start with `{at}`")),
        match &want.key {
            Some(key) => (!stderr.contains(&format!(": `{key}`: "))).then(|| format!("no key `{key}`")),
            None => {
                let after = stderr.trim_start_matches("error: ").trim_start_matches(&named);
                let rest = after.trim_start_matches(|c: char| c == ':' || c.is_ascii_digit()).trim_start();
                rest.starts_with('`').then(|| "a key, where none was expected".to_string())
            }
        },
        want.messages.iter().find(|m| !stderr.contains(m.as_str())).map(|m| format!("no message `{m}`")),
        (want.command == "run" && out_dir.exists()).then(|| "run wrote an output folder".to_string()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n    stderr: {}", problems.join("; "), stderr.trim_end()))
    }
}

/// Every scenario in `tests/bad/` is refused as its header says.
#[test]
fn the_bad_corpus() {
    let folder = repo().join("tests/bad");
    let mut cases: Vec<PathBuf> = Vec::new();
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(&folder).expect("tests/bad/ exists") {
        let path = entry.expect("a folder entry").path();
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => cases.push(path),
            Some("csv") => {}
            _ => failures.push(format!("{}: neither a case (.toml) nor a trace (.csv)", path.display())),
        }
    }
    cases.sort();
    assert!(cases.len() >= MIN_CASES, "tests/bad/ holds {} cases, fewer than {MIN_CASES}", cases.len());
    for case in &cases {
        if let Err(why) = check_case(case) {
            failures.push(format!("{}: {why}", case.file_name().unwrap().to_string_lossy()));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// The header reader refuses a case without its expectations, so a file
/// dropped into the corpus without them fails the corpus test.
#[test]
fn a_case_without_its_expectations_is_refused() {
    let full = "# expect-line: 3\n# expect-key: horizon\n# expect-message: unit\nhorizon = 5\n";
    assert_eq!(
        expectation(full),
        Ok(Expectation {
            line: Some(3),
            key: Some("horizon".into()),
            messages: vec!["unit".into()],
            file: None,
            command: "validate".into(),
            args: Vec::new(),
        })
    );
    for missing in ["# expect-line: 3\n", "# expect-key: horizon\n", "# expect-message: unit\n"] {
        assert!(expectation(&full.replace(missing, "")).is_err(), "without {missing}");
    }
    assert!(expectation("horizon = 5\n").is_err());
    assert!(expectation(&full.replace("expect-line: 3", "expect-line: three")).is_err());
    assert!(expectation(&format!("# expect-lines: 4\n{full}")).is_err());
}

/// A corpus case that is refused differently from its header fails.
#[test]
fn a_case_with_a_wrong_expectation_fails() {
    let dir = TempDir::new().expect("temp dir");
    let good = std::fs::read_to_string(repo().join("tests/bad/an-unknown-class.toml")).expect("a corpus case");
    let right = write(dir.path(), "right.toml", &good);
    assert_eq!(check_case(&right), Ok(()));
    let line = expectation(&good).unwrap().line.unwrap();
    for (from, to) in [
        (format!("expect-line: {line}"), format!("expect-line: {}", line + 1)),
        ("expect-key: apps.class".to_string(), "expect-key: apps.kind".to_string()),
        ("use flexible".to_string(), "use rigid".to_string()),
    ] {
        let wrong = write(dir.path(), "wrong.toml", &good.replace(&from, &to));
        assert!(check_case(&wrong).is_err(), "{to}");
    }
}

#[test]
fn the_base_scenario_is_valid() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(dir.path(), "scenario.toml", BASE);
    let out = run_in(dir.path(), &["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", text(&out.stderr));
    assert!(text(&out.stderr).is_empty());
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
