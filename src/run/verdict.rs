//! The answer in words, first: which strategy is best for each class and
//! for the worst apps, by how much and whether the difference is
//! significant; which causes make up most of the downtime; what the worst
//! app's downtime is made of.
//!
//! The verdict is computed with the summary (`summary::Accumulator`), where
//! every replication's downtime is at hand, stored in `summary.json`, and
//! rendered from there by the terminal (`clustersim run`) and by
//! `report.html` with the same sentences ([`Verdict::sentences`]).
//! Differences are paired over common random numbers (`compare::Paired`).

use crate::metrics::Cause;
pub use crate::results::GroupKind;
pub use crate::results::verdict::{Figure, Group, Share, Verdict, Versus, WorstApp};
use crate::run::compare::Paired;

/// How many of the worst apps the verdict names.
pub const WORST_APPS: usize = 3;
/// How many causes the verdict names.
pub const TOP_CAUSES: usize = 3;

impl Share {
    /// The share as a whole percentage, `<1%` below one.
    pub fn percent(&self) -> String {
        if self.share < 0.01 { "<1%".to_string() } else { format!("{:.0}%", self.share * 100.0) }
    }
}

/// One group's figures under every strategy: availability, mean downtime
/// and the downtime of each replication (minutes per year), in the
/// strategies' order.
pub struct Candidate<'a> {
    pub strategy: &'a str,
    pub availability: f64,
    pub downtime_min_per_year: f64,
    pub per_replication: &'a [f64],
}

/// The position of the least of `downtimes`, the first on a tie: the best
/// strategy.
pub fn least(downtimes: impl Iterator<Item = f64>) -> Option<usize> {
    downtimes.enumerate().min_by(|(_, a), (_, b)| a.total_cmp(b)).map(|(i, _)| i)
}

/// The best of `candidates` (least mean downtime; the first on a tie) and
/// the others against it.
pub fn group(kind: GroupKind, name: &str, class: &str, candidates: &[Candidate]) -> Group {
    let figure = |c: &Candidate| Figure {
        strategy: c.strategy.to_string(),
        availability: c.availability,
        downtime_min_per_year: c.downtime_min_per_year,
    };
    let best = least(candidates.iter().map(|c| c.downtime_min_per_year)).expect("a group has a strategy");
    let others = candidates
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != best)
        .map(|(_, c)| {
            let paired = Paired::of(candidates[best].per_replication, c.per_replication);
            Versus {
                figure: figure(c),
                difference_min_per_year: paired.mean,
                ci: paired.ci,
                significant: paired.significant,
            }
        })
        .collect();
    Group { kind, name: name.into(), class: class.into(), best: figure(&candidates[best]), others }
}

/// The largest causes of `cause_min` (minutes per year by cause, in
/// `Cause::ALL` order), at most [`TOP_CAUSES`] and none of zero.
pub fn shares(cause_min: &[f64]) -> Vec<Share> {
    let total: f64 = cause_min.iter().sum();
    let mut out: Vec<Share> = Cause::ALL
        .iter()
        .zip(cause_min)
        .filter(|&(_, &m)| m > 0.0)
        .map(|(c, &m)| Share { cause: c.name().to_string(), min_per_year: m, share: m / total })
        .collect();
    out.sort_by(|a, b| b.min_per_year.total_cmp(&a.min_per_year));
    out.truncate(TOP_CAUSES);
    out
}

/// Availability in nines: 99.9 % is 3.0 nines; `None` for no downtime.
pub fn nines(availability: f64) -> Option<f64> {
    (availability < 1.0).then(|| -(1.0 - availability).log10())
}

/// Availability as a percentage with enough digits to show its nines, and
/// the nines: `99.99512% (4.3 nines)`.
pub fn availability_words(availability: f64) -> String {
    match nines(availability) {
        Some(n) => format!("{:.*}% ({n:.1} nines)", (n.floor() as usize).clamp(2, 7), availability * 100.0),
        None => "100% (no downtime)".to_string(),
    }
}

/// Downtime per year in the unit that fits its size: seconds, minutes,
/// hours or days.
pub fn downtime_words(min_per_year: f64) -> String {
    let m = min_per_year.abs();
    let sign = if min_per_year < 0.0 { "-" } else { "" };
    if m == 0.0 {
        "no downtime".to_string()
    } else if m < 1.0 {
        format!("{sign}{:.1} s/yr", m * 60.0)
    } else if m < 120.0 {
        format!("{sign}{m:.1} min/yr")
    } else if m < 48.0 * 60.0 {
        format!("{sign}{:.1} h/yr", m / 60.0)
    } else {
        format!("{sign}{:.1} days/yr", m / 1440.0)
    }
}

/// A difference of downtime and its interval in one unit that fits the
/// largest of them: `+12.3 min/yr (95% CI +10.1 to +14.5)`.
fn difference_words(v: &Versus) -> String {
    let (lo, hi) = v.ci.unwrap_or((v.difference_min_per_year, v.difference_min_per_year));
    let largest = [v.difference_min_per_year, lo, hi].iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let (per_minute, unit) = if largest < 1.0 {
        (60.0, "s")
    } else if largest < 120.0 {
        (1.0, "min")
    } else if largest < 48.0 * 60.0 {
        (1.0 / 60.0, "h")
    } else {
        (1.0 / 1440.0, "days")
    };
    let x = |m: f64| m * per_minute;
    match v.ci {
        Some(_) => format!("{:+.1} {unit}/yr (95% CI {:+.1} to {:+.1})", x(v.difference_min_per_year), x(lo), x(hi)),
        None => format!("{:+.1} {unit}/yr (no interval from one replication)", x(v.difference_min_per_year)),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn causes_words(shares: &[Share]) -> String {
    let words: Vec<String> =
        shares.iter().map(|s| format!("`{}` {} ({})", s.cause, s.percent(), downtime_words(s.min_per_year))).collect();
    list(&words.iter().map(String::as_str).collect::<Vec<_>>())
}

impl Group {
    /// The group in one sentence.
    fn sentence(&self) -> String {
        let what = if self.kind == GroupKind::App {
            format!("worst app {} ({})", self.name, self.class)
        } else {
            self.name.clone()
        };
        let best = &self.best;
        let figures = if best.downtime_min_per_year == 0.0 {
            "no downtime".to_string()
        } else {
            format!("{}, {}", availability_words(best.availability), downtime_words(best.downtime_min_per_year))
        };
        let mut names: Vec<&str> = vec![best.strategy.as_str()];
        names.extend(self.others.iter().map(|v| v.figure.strategy.as_str()));
        if self.others.is_empty() {
            return format!("{what} under {}: {figures}.", best.strategy);
        }
        if best.downtime_min_per_year == 0.0 && self.others.iter().all(|v| v.figure.downtime_min_per_year == 0.0) {
            return format!("{what}: no downtime under any strategy ({}).", list(&names));
        }
        let same = |v: &Versus| v.difference_min_per_year == 0.0 && v.ci.is_none_or(|(lo, hi)| lo == 0.0 && hi == 0.0);
        if self.others.iter().all(same) {
            return format!(
                "{what}: no significant difference between {} (the same downtime in every replication): {figures}.",
                list(&names)
            );
        }
        let worse: Vec<String> = self
            .others
            .iter()
            .filter(|v| v.significant)
            .map(|v| format!("{} {}", v.figure.strategy, difference_words(v)))
            .collect();
        let tied: Vec<&Versus> = self.others.iter().filter(|v| !v.significant).collect();
        if tied.is_empty() {
            return format!(
                "{what}: {} is best, {figures}; the others have significantly more: {}.",
                best.strategy,
                list(&worse.iter().map(String::as_str).collect::<Vec<_>>())
            );
        }
        let tied_names: Vec<&str> = tied.iter().map(|v| v.figure.strategy.as_str()).collect();
        let tied_words: Vec<String> =
            tied.iter().map(|v| format!("{} {}", v.figure.strategy, difference_words(v))).collect();
        let mut sentence = format!(
            "{what}: no significant difference between {}: {figures} under {}, {}",
            list(&[&[best.strategy.as_str()], &tied_names[..]].concat()),
            best.strategy,
            list(&tied_words.iter().map(String::as_str).collect::<Vec<_>>())
        );
        if !worse.is_empty() {
            sentence +=
                &format!("; significantly more: {}", list(&worse.iter().map(String::as_str).collect::<Vec<_>>()));
        }
        sentence + "."
    }
}

impl Verdict {
    /// The verdict as sentences, most important first.
    pub fn sentences(&self) -> Vec<String> {
        let mut out: Vec<String> = self.groups.iter().map(Group::sentence).collect();
        if !self.causes.is_empty() {
            out.push(format!("Most of the downtime under {} is {}.", self.causes_under, causes_words(&self.causes)));
        }
        if let Some(w) = &self.worst_app {
            let meaning = w.causes.first().and_then(|s| Cause::from_name(&s.cause)).map(|c| c.meaning());
            out.push(format!(
                "{}'s downtime under {} ({}) is {}{}.",
                w.app,
                w.figure.strategy,
                downtime_words(w.figure.downtime_min_per_year),
                causes_words(&w.causes),
                meaning.map_or(String::new(), |m| format!(": `{}` means {m}", w.causes[0].cause))
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downtime_takes_the_unit_that_fits_and_nines_count_the_nines() {
        assert_eq!(downtime_words(0.5), "30.0 s/yr");
        assert_eq!(downtime_words(5.25), "5.2 min/yr");
        assert_eq!(downtime_words(600.0), "10.0 h/yr");
        assert_eq!(downtime_words(158.0 * 1440.0), "158.0 days/yr");
        assert_eq!(downtime_words(-3.0), "-3.0 min/yr");
        assert_eq!(downtime_words(0.0), "no downtime");
        assert!((nines(0.999).unwrap() - 3.0).abs() < 1e-9);
        assert_eq!(nines(1.0), None);
        assert_eq!(availability_words(0.9335), "93.35% (1.2 nines)");
        assert_eq!(availability_words(0.999951), "99.9951% (4.3 nines)");
    }

    #[test]
    fn the_best_is_the_least_downtime_and_the_difference_is_paired() {
        // Paired: the other is always 1 min/yr worse, though both vary a lot.
        let base = [10.0, 50.0, 0.0, 30.0];
        let worse = [11.0, 51.0, 1.0, 31.0];
        let c = |strategy, per_replication: &'static [f64]| Candidate {
            strategy,
            availability: 0.99,
            downtime_min_per_year: per_replication.iter().sum::<f64>() / 4.0,
            per_replication,
        };
        let base: &'static [f64] = Box::leak(Box::new(base));
        let worse: &'static [f64] = Box::leak(Box::new(worse));
        let g = group(GroupKind::Class, "flexible", "flexible", &[c("binpack", worse), c("spread", base)]);
        assert_eq!(g.best.strategy, "spread");
        assert_eq!(g.others[0].difference_min_per_year, 1.0);
        assert_eq!(g.others[0].ci, Some((1.0, 1.0)));
        assert!(g.others[0].significant);
        // Equal series: no difference, not significant.
        let g = group(GroupKind::Class, "ha", "ha", &[c("spread", base), c("binpack", base)]);
        assert_eq!(g.best.strategy, "spread", "the first on a tie");
        assert!(!g.others[0].significant);
    }
}
