//! The verdict as `summary.json` stores it: the answer in words, as data
//! (`crate::run::verdict` computes it and renders its sentences).

use super::GroupKind;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The strategies run, in scenario order.
    pub strategies: Vec<String>,
    /// The classes that have apps, then the worst apps.
    pub groups: Vec<Group>,
    /// The causes of most of the downtime of all apps, under `causes_under`.
    pub causes_under: String,
    pub causes: Vec<Share>,
    /// The worst app's downtime by cause.
    pub worst_app: Option<WorstApp>,
}

/// One class or app: its best strategy and how each other one compares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub kind: GroupKind,
    pub name: String,
    /// For an app, its class.
    pub class: String,
    pub best: Figure,
    pub others: Vec<Versus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub strategy: String,
    pub availability: f64,
    pub downtime_min_per_year: f64,
}

/// Another strategy against the best: the paired difference of downtime
/// (this one minus the best, minutes per year) with its 95% interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versus {
    pub figure: Figure,
    pub difference_min_per_year: f64,
    pub ci: Option<(f64, f64)>,
    pub significant: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub cause: String,
    pub min_per_year: f64,
    /// Of the downtime described, 0 to 1.
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorstApp {
    pub app: String,
    pub figure: Figure,
    pub causes: Vec<Share>,
}
