//! The result files' schema, declared once: the rows of every CSV file a
//! run writes ([`rows`]) and the structure of its `summary.json` and of the
//! other commands' manifests ([`manifest`]), as serde structs. The run
//! writes through them (`output::files`), and `report`, `merge` and the
//! redraw of a report read the same structs back, so no part of the code
//! reads a result file by column position or as untyped JSON.
//!
//! CSV goes through the `csv` crate's serde support ([`table`]): a row's
//! fields are its columns in order, its header is derived from the field
//! names (the cause columns, one per [`crate::metrics::Cause`], from
//! `Cause::ALL`), and a file is read by its header's names, so a bad cell is
//! an error naming the file, line, column and field.

pub mod manifest;
pub mod rows;
pub mod table;
pub mod verdict;

use crate::model::Class;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// What a row of the summary describes: one class, every app (`all`), or
/// one app. Written as the class's name, `all`, or the app's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Label {
    Class(Class),
    #[default]
    All,
    App(String),
}

impl Label {
    /// The name in the files: `flexible`, `all`, `emby`.
    pub fn name(&self) -> &str {
        match self {
            Label::Class(class) => class.name(),
            Label::All => "all",
            Label::App(app) => app,
        }
    }

    /// The label of a written name: `all`, a class's name, or else an app.
    pub fn parse(name: &str) -> Label {
        match name {
            "all" => Label::All,
            _ => Class::parse(name).map_or_else(|| Label::App(name.to_string()), Label::Class),
        }
    }

    /// A class row's, `None` for `all` and apps.
    pub fn class(&self) -> Option<Class> {
        match self {
            Label::Class(class) => Some(*class),
            _ => None,
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.pad(self.name())
    }
}

impl Serialize for Label {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Label, D::Error> {
        table::parse_str(deserializer, |name| Ok(Label::parse(name)))
    }
}

/// The kind of a group of the verdict: a class or one of the worst apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupKind {
    Class,
    App,
}

#[cfg(test)]
mod tests;
