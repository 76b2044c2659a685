//! The input layer: scenario files into the model's [`Spec`].
//!
//! TOML is read here and only here (an invariant: `crate::model` imports
//! nothing of it). [`parse`] deserializes the text into a [`Spec`] (the TOML
//! layer's errors get the dotted key they concern) and hands it to
//! [`Scenario::new`] with its [`Origin`]. [`sweep`] edits a file's TOML to
//! make the points of a sweep; [`replay`] reads failure traces.

pub mod replay;
pub mod sweep;

use crate::error::InputError;
use crate::model::{Located, Origin, Scenario, Spec};
use serde::{Deserialize, Deserializer};
use std::path::Path;

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, InputError> {
    let file = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| InputError::new(&file, format!("cannot read the scenario: {e}")))?;
    parse(&file, &text)
}

/// Parses and validates scenario text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Scenario, InputError> {
    Scenario::new(read(file, text)?, Origin { file, text })
}

/// Reads scenario text into a [`Spec`], without validating it, and the
/// failure traces its `[[replay]]` entries name (a trace that cannot be
/// read is kept as the error, at the entry's `file`, for validation to
/// report in its turn).
pub fn read(file: &str, text: &str) -> Result<Spec, InputError> {
    let mut spec: Spec = ::toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
    for r in &mut spec.replay {
        let path = r.trace_path(file);
        r.trace = Some(replay::load(&path).map_err(|e| match e.location {
            // Unreadable (missing, a folder): point at `file` in the scenario.
            None => InputError::placed(
                file,
                text,
                r.file.span(),
                "replay.file",
                format!(
                    "cannot read the failure trace `{}` (`file` is relative to the scenario's folder): {}",
                    path.display(),
                    e.message.trim_start_matches("cannot read the failure trace: ")
                ),
            ),
            Some(_) => e,
        }));
    }
    Ok(spec)
}

/// The TOML reader gives every [`Located`] value the byte range it was read
/// from (`toml::Spanned`), for the model's errors to point at.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Located<T>, D::Error> {
        let spanned = ::toml::Spanned::<T>::deserialize(d)?;
        let span = spanned.span();
        Ok(Located::at(spanned.into_inner(), span))
    }
}

/// Turns a TOML or serde error into an [`InputError`] at its place, with
/// the dotted key it concerns (`node_defaults.failure.mean`): the table
/// header above it, the inline tables around it and its own key. An unknown
/// key is named by itself (serde's message lists the valid keys).
fn toml_error(file: &str, text: &str, e: &::toml::de::Error) -> InputError {
    let message = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let unknown = message.strip_prefix("unknown field `").and_then(|m| m.split_once('`')).map(|(f, _)| f);
            let inline = inline_keys(text, span.start);
            let own = key_before(text, span.start).or_else(|| unknown.map(String::from)).or_else(|| {
                // A syntax error inside `key = value`: the key that starts the line.
                key_of_line(text, span.start).filter(|key| inline.is_empty() && !message.contains(&format!("`{key}`")))
            });
            let key = own.map(|own| {
                let mut path: Vec<String> = table_of(text, span.start).into_iter().collect();
                path.extend(inline);
                path.push(own);
                path.join(".")
            });
            InputError::at(file, text, span.start, key, message)
        }
        None => InputError::new(file, message),
    }
}

/// The name of the `[table]` or `[[array]]` header above `offset`, if any.
fn table_of(text: &str, offset: usize) -> Option<String> {
    let start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    text[..start].lines().rev().find_map(|line| {
        let line = line.trim();
        let inner = line
            .strip_prefix("[[")
            .and_then(|l| l.split_once("]]"))
            .or_else(|| line.strip_prefix('[').and_then(|l| l.split_once(']')))?;
        let (name, rest) = inner;
        let rest = rest.trim_start();
        let plain = name.trim().chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
        (plain && !name.trim().is_empty() && (rest.is_empty() || rest.starts_with('#')))
            .then(|| name.trim().to_string())
    })
}

/// The keys of the inline tables (`failure = { ... }`) that enclose
/// `offset` on its line, outermost first.
fn inline_keys(text: &str, offset: usize) -> Vec<String> {
    let Some(before) = text.get(..offset) else { return Vec::new() };
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let mut in_string = false;
    let mut opens = Vec::new();
    for (i, c) in before[start..].char_indices() {
        match c {
            '"' => in_string = !in_string,
            '{' if !in_string => opens.push(start + i),
            '}' if !in_string => {
                opens.pop();
            }
            _ => {}
        }
    }
    opens.into_iter().filter_map(|open| key_before(text, open)).collect()
}

/// The key of the `key = value` whose value starts at `offset`, if the text
/// there has that shape (for errors the TOML layer reports at a value).
fn key_before(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?.trim_end();
    let before = before.strip_suffix('=')?.trim_end();
    // The key starts after the last character that cannot be part of it,
    // which may take more than one byte (fuzzing found `ڒg = ` here).
    let start = before
        .char_indices()
        .rfind(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let key = &before[start..];
    (!key.is_empty()).then(|| key.to_string())
}

/// The key that starts the line holding `offset`, for syntax errors the TOML
/// layer reports inside a `key = value` line (an unclosed string, a missing
/// `=`, a duplicate key) without naming the key.
fn key_of_line(text: &str, offset: usize) -> Option<String> {
    let start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or("").trim_start();
    let end =
        line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')).unwrap_or(line.len());
    (end > 0).then(|| line[..end].to_string())
}

#[cfg(test)]
mod tests;
