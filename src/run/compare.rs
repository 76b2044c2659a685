//! Side-by-side comparison of runs: strategies of one scenario, or several
//! scenarios, class by class and app by app.
//!
//! Differences are paired replication by replication: replication `r` of
//! every run draws the same random streams (common random numbers), so the
//! per-replication differences are independent and identically distributed
//! and their mean gets a Student-t interval. A difference is significant at
//! 95% when that interval excludes zero.

use super::stats::{mean, t_interval};
use crate::metrics::ReplicationOutcome;
use crate::model::{Class, Scenario};
use crate::results::Label;
use crate::time::{MS_PER_MIN, MS_PER_YEAR};

/// One run to compare: a label (scenario or strategy) and its outcomes.
pub struct Contender<'a> {
    pub label: String,
    pub scenario: &'a Scenario,
    pub outcomes: &'a [ReplicationOutcome],
}

/// One compared group (a class, `all`, or an app) between the baseline and
/// one other run.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub group: Label,
    pub baseline: String,
    pub other: String,
    /// Mean downtime, minutes per year.
    pub baseline_min_per_year: f64,
    pub other_min_per_year: f64,
    /// Other minus baseline, with its 95% interval (paired).
    pub difference_min_per_year: f64,
    pub ci: Option<(f64, f64)>,
    pub significant: bool,
}

/// The paired difference `other - base` of two series over the same
/// replications: its mean, its 95% Student-t interval, and whether that
/// interval excludes zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paired {
    pub mean: f64,
    pub ci: Option<(f64, f64)>,
    pub significant: bool,
}

impl Paired {
    pub fn of(base: &[f64], other: &[f64]) -> Paired {
        let diffs: Vec<f64> = base.iter().zip(other).map(|(b, o)| o - b).collect();
        let ci = t_interval(&diffs);
        Paired { mean: mean(&diffs), ci, significant: ci.is_some_and(|(lo, hi)| lo > 0.0 || hi < 0.0) }
    }
}

/// Per replication, the mean downtime (minutes per year) of the apps of
/// `run` for which `member` holds.
fn series(run: &Contender, member: &dyn Fn(usize) -> bool) -> Vec<f64> {
    let years = run.scenario.horizon_ms as f64 / MS_PER_YEAR as f64;
    let apps: Vec<usize> = (0..run.scenario.apps.len()).filter(|&a| member(a)).collect();
    run.outcomes
        .iter()
        .map(|o| {
            let total: u64 = apps.iter().map(|&a| o.apps[a].downtime_ms).sum();
            total as f64 / apps.len().max(1) as f64 / MS_PER_MIN as f64 / years
        })
        .collect()
}

/// Picks a group's per-replication downtime out of a run.
type Selector = Box<dyn Fn(&Contender) -> Vec<f64>>;

/// Compares every run with the first, over the classes, `all`, and the apps
/// whose names appear in both.
pub fn compare(runs: &[Contender]) -> Vec<Difference> {
    let Some(base) = runs.first() else { return Vec::new() };
    let mut out = Vec::new();
    for other in &runs[1..] {
        let n = base.outcomes.len().min(other.outcomes.len());
        let mut groups: Vec<(Label, Selector)> = Vec::new();
        for class in Class::ALL {
            let in_both = [base, other].iter().all(|r| r.scenario.apps.iter().any(|a| a.class == class));
            if in_both {
                groups.push((
                    Label::Class(class),
                    Box::new(move |r: &Contender| series(r, &|a| r.scenario.apps[a].class == class)),
                ));
            }
        }
        groups.push((Label::All, Box::new(|r: &Contender| series(r, &|_| true))));
        for app in &base.scenario.apps {
            if other.scenario.apps.iter().any(|a| a.name == app.name) {
                let name = app.name.clone();
                groups.push((
                    Label::App(app.name.clone()),
                    Box::new(move |r: &Contender| series(r, &|a| r.scenario.apps[a].name == name)),
                ));
            }
        }
        for (group, select) in groups {
            let b = select(base);
            let o = select(other);
            let paired = Paired::of(&b[..n], &o[..n]);
            out.push(Difference {
                group,
                baseline: base.label.clone(),
                other: other.label.clone(),
                baseline_min_per_year: mean(&b[..n]),
                other_min_per_year: mean(&o[..n]),
                difference_min_per_year: paired.mean,
                ci: paired.ci,
                significant: paired.significant,
            });
        }
    }
    out
}
