//! Failure traces as data: what a trace file holds once read (the reader,
//! with the file format, is `crate::input::replay`), and the check that its
//! names are the scenario's.

use crate::error::InputError;
use crate::time::Millis;
use std::collections::HashSet;

/// Whether a trace names nodes or failure domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplayKind {
    Node,
    Domain,
}

impl ReplayKind {
    /// The name of the first column: `node` or `domain`.
    pub fn column(self) -> &'static str {
        match self {
            ReplayKind::Node => "node",
            ReplayKind::Domain => "domain",
        }
    }

    pub(crate) fn columns(self) -> [&'static str; 3] {
        [self.column(), "fail_at", "repair_at"]
    }

    pub(crate) fn header(self) -> String {
        self.columns().join(",")
    }

    pub(crate) fn declared(self) -> &'static str {
        match self {
            ReplayKind::Node => "nodes ([[nodes]])",
            ReplayKind::Domain => "failure domains ([[domains]])",
        }
    }
}

/// One failure of a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayRecord {
    /// The node or failure domain that fails.
    pub name: String,
    /// When it fails, from the start of the horizon.
    pub fail_at_ms: Millis,
    /// When it is repaired, strictly after `fail_at_ms`; `None`: never.
    pub repair_at_ms: Option<Millis>,
    /// The 1-based line of the row in the file.
    pub line: usize,
}

/// A parsed trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    pub kind: ReplayKind,
    /// Sorted by `(fail_at_ms, line)`.
    pub records: Vec<ReplayRecord>,
}

/// Checks that every name of `replay` is one of `known` (the declared nodes
/// or domains, as `replay.kind` says). The error points at the first row, by
/// line, with an unknown name, and lists up to 10 known names.
pub fn check_names(file: &str, replay: &Replay, known: &[&str]) -> Result<(), InputError> {
    let set: HashSet<&str> = known.iter().copied().collect();
    let Some(record) = replay.records.iter().filter(|r| !set.contains(r.name.as_str())).min_by_key(|r| r.line) else {
        return Ok(());
    };
    let kind = replay.kind.column();
    let name = &record.name;
    let message = if known.is_empty() {
        format!(
            "unknown {kind} `{name}`: the scenario declares no {}; declare `{name}` or remove its rows",
            replay.kind.declared()
        )
    } else {
        const SHOWN: usize = 10;
        let list: Vec<String> = known.iter().take(SHOWN).map(|n| format!("`{n}`")).collect();
        let more = if known.len() > SHOWN { format!(" and {} more", known.len() - SHOWN) } else { String::new() };
        let hint = known
            .iter()
            .find(|n| n.eq_ignore_ascii_case(name))
            .map_or(String::new(), |n| format!(" (did you mean `{n}`? names are case-sensitive)"));
        format!(
            "unknown {kind} `{name}`{hint}: the {} declared in the scenario are {}{more}",
            replay.kind.declared(),
            list.join(", ")
        )
    };
    Err(InputError { file: file.to_string(), location: Some((record.line, 1)), key: Some(kind.to_string()), message })
}
