//! From per-replication outcomes to the figures a planner reads: mean
//! availability with a 95% Student-t confidence interval, downtime per year
//! (mean and percentiles across replications), outages per year, mean outage
//! length, and downtime by cause.

pub use super::stats::{mean, percentile, t_interval};
use crate::metrics::{Cause, ReplicationOutcome};
use crate::model::{Class, Scenario};
use crate::placement::Strategy;
use crate::results::GroupKind;
pub use crate::results::Label;
use crate::run::montecarlo::RunResults;
use crate::time::{MS_PER_MIN, MS_PER_YEAR};

/// What the rows of a summary group: a class, every app, or one app.
#[derive(Debug, Clone, PartialEq)]
pub enum Group {
    Class(Class),
    All,
    App(usize),
}

/// One point of a sweep: its assignments (path, value) and the class rows
/// of its summary.
pub type SweepRow = (Vec<(String, String)>, Vec<Row>);

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub strategy: Strategy,
    /// A class, `all`, or an app.
    pub label: Label,
    /// The class of the group (of the app for an app row; `None` for `all`).
    pub class: Option<Class>,
    pub apps: usize,
    pub replications: usize,
    pub availability: f64,
    /// The 95% interval; `None` with fewer than two replications.
    pub availability_ci: Option<(f64, f64)>,
    pub downtime_min_per_year: f64,
    pub downtime_p50: f64,
    pub downtime_p95: f64,
    pub downtime_p99: f64,
    pub outages_per_year: f64,
    /// `None` when no outage happened.
    pub mean_outage_min: Option<f64>,
    pub cause_min_per_year: [f64; Cause::COUNT],
    /// Incidents that lost data, and minutes of writes lost, per app-year.
    pub data_loss_incidents_per_year: f64,
    pub data_loss_min_per_year: f64,
    /// Minutes of writes lost per incident; `None` without incidents.
    pub data_loss_min_per_incident: Option<f64>,
    /// The group's mean downtime in minutes per year in each replication,
    /// in replication order: for class rows (the report's CDF); empty for
    /// app rows.
    pub per_replication_min: Vec<f64>,
}

impl Row {
    /// Downtime from planned maintenance, in minutes per app-year; the rest
    /// of `downtime_min_per_year` is unplanned.
    pub fn planned_min_per_year(&self) -> f64 {
        self.cause_min_per_year[Cause::Maintenance.index()]
    }
}

/// One volume under one strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeRow {
    pub strategy: Strategy,
    pub volume: String,
    pub backend: &'static str,
    pub replications: usize,
    pub availability: f64,
    pub availability_ci: Option<(f64, f64)>,
    pub downtime_min_per_year: f64,
    pub reduced_redundancy_h_per_year: f64,
    pub data_loss_incidents_per_year: f64,
    pub data_loss_min_per_year: f64,
    /// Gluster split-brains per year: files needing a manual heal (data at
    /// risk), not downtime.
    pub split_brain_incidents_per_year: f64,
}

/// The class rows (classes with apps only, then `all`) and the app rows of
/// every strategy, in scenario order.
pub struct Summary {
    pub classes: Vec<Row>,
    pub apps: Vec<Row>,
    pub volumes: Vec<VolumeRow>,
    /// The answer in words (`crate::run::verdict`).
    pub verdict: crate::run::verdict::Verdict,
}

/// The summary of outcomes held in memory (compare, sweep, plan, tests).
pub fn summarize(scenario: &Scenario, results: &RunResults) -> Summary {
    let mut acc = Accumulator::new(scenario, &results.strategies);
    for r in 0..results.replications() {
        let per_strategy: Vec<&ReplicationOutcome> = results.outcomes.iter().map(|o| &o[r]).collect();
        acc.add(&per_strategy);
    }
    acc.finish(scenario)
}

/// One app's figures under one strategy, so far.
#[derive(Debug, Clone, Default)]
struct AppSums {
    /// Downtime in each replication: the percentiles and the intervals need
    /// every value, so this is the one thing that grows with the
    /// replications (8 bytes an app, strategy and replication).
    down_ms: Vec<u64>,
    outages: u64,
    causes: [u64; Cause::COUNT],
    loss_incidents: u64,
    loss_ms: u64,
}

/// One volume's figures under one strategy, so far.
#[derive(Debug, Clone, Default)]
struct VolumeSums {
    down_ms: Vec<u64>,
    reduced_redundancy_ms: f64,
    loss_incidents: f64,
    loss_ms: f64,
    split_brains: f64,
}

/// The summary, built one replication at a time in replication order
/// (streaming aggregation): per app and volume the sums of what is summed
/// and the per-replication downtime, never the outcomes themselves.
/// Sums are taken in replication order, so the result is the same bytes
/// however the replications were computed.
pub struct Accumulator {
    strategies: Vec<Strategy>,
    /// `apps[s][a]`, `volumes[s][v]`.
    apps: Vec<Vec<AppSums>>,
    volumes: Vec<Vec<VolumeSums>>,
    replications: usize,
    events: u64,
    horizon_ms: u64,
}

impl Accumulator {
    pub fn new(scenario: &Scenario, strategies: &[Strategy]) -> Accumulator {
        Accumulator {
            strategies: strategies.to_vec(),
            apps: strategies.iter().map(|_| vec![AppSums::default(); scenario.apps.len()]).collect(),
            volumes: strategies.iter().map(|_| vec![VolumeSums::default(); scenario.volumes.len()]).collect(),
            replications: 0,
            events: 0,
            horizon_ms: scenario.horizon_ms,
        }
    }

    /// Adds the next replication: its outcome under each strategy, in the
    /// order of `strategies`.
    pub fn add(&mut self, per_strategy: &[&ReplicationOutcome]) {
        for (s, outcome) in per_strategy.iter().enumerate() {
            self.events += outcome.events;
            for (sums, app) in self.apps[s].iter_mut().zip(&outcome.apps) {
                sums.down_ms.push(app.downtime_ms);
                sums.outages += u64::from(app.outages);
                sums.loss_incidents += u64::from(app.data_loss_incidents);
                sums.loss_ms = sums.loss_ms.saturating_add(app.data_loss_ms);
                for (total, c) in sums.causes.iter_mut().zip(app.cause_ms) {
                    *total += c;
                }
            }
            for (sums, volume) in self.volumes[s].iter_mut().zip(&outcome.volumes) {
                sums.down_ms.push(volume.downtime_ms);
                sums.reduced_redundancy_ms += volume.reduced_redundancy_ms as f64;
                sums.loss_incidents += f64::from(volume.data_loss_incidents);
                sums.loss_ms += volume.data_loss_ms as f64;
                sums.split_brains += f64::from(volume.split_brain_incidents);
            }
        }
        self.replications += 1;
    }

    /// Simulated events so far, over all strategies.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The class rows (classes with apps only, then `all`) and the app rows
    /// of every strategy, in scenario order.
    pub fn finish(&self, scenario: &Scenario) -> Summary {
        let mut classes = Vec::new();
        let mut apps = Vec::new();
        let mut volumes = Vec::new();
        for (s, &strategy) in self.strategies.iter().enumerate() {
            let sums = &self.apps[s];
            for class in Class::ALL {
                let members: Vec<usize> =
                    (0..scenario.apps.len()).filter(|&a| scenario.apps[a].class == class).collect();
                if !members.is_empty() {
                    classes.push(self.row(strategy, sums, &members, Label::Class(class), Some(class), true));
                }
            }
            let everyone: Vec<usize> = (0..scenario.apps.len()).collect();
            classes.push(self.row(strategy, sums, &everyone, Label::All, None, true));
            for (a, app) in scenario.apps.iter().enumerate() {
                apps.push(self.row(strategy, sums, &[a], Label::App(app.name.clone()), Some(app.class), false));
            }
            for (v, volume) in scenario.volumes.iter().enumerate() {
                volumes.push(self.volume_row(strategy, &self.volumes[s][v], &volume.name, volume.backend.name()));
            }
        }
        let verdict = self.verdict(scenario, &classes, &apps);
        Summary { classes, apps, volumes, verdict }
    }

    /// The verdict from the rows just made and, for the worst apps, their
    /// downtime in each replication.
    fn verdict(&self, scenario: &Scenario, classes: &[Row], apps: &[Row]) -> crate::run::verdict::Verdict {
        use crate::run::verdict::{Candidate, WORST_APPS, WorstApp, group, shares};
        // One group's rows (one per strategy) and their per-replication series.
        let make = |kind: GroupKind, name: &str, class: &str, rows: &[&Row], series: &[Vec<f64>]| {
            let list: Vec<Candidate> = rows
                .iter()
                .zip(series)
                .map(|(r, s)| Candidate {
                    strategy: r.strategy.name(),
                    availability: r.availability,
                    downtime_min_per_year: r.downtime_min_per_year,
                    per_replication: s,
                })
                .collect();
            group(kind, name, class, &list)
        };
        let mut groups = Vec::new();
        for class in Class::ALL {
            let rows: Vec<&Row> = classes.iter().filter(|r| r.label == Label::Class(class)).collect();
            if rows.is_empty() {
                continue;
            }
            let series: Vec<Vec<f64>> = rows.iter().map(|r| r.per_replication_min.clone()).collect();
            groups.push(make(GroupKind::Class, class.name(), class.name(), &rows, &series));
        }
        // The worst apps: the most downtime under any strategy.
        let worst_of = |a: usize| {
            apps.iter()
                .filter(|r| r.label.name() == scenario.apps[a].name)
                .map(|r| r.downtime_min_per_year)
                .fold(0.0, f64::max)
        };
        let mut ranked: Vec<usize> = (0..scenario.apps.len()).filter(|&a| worst_of(a) > 0.0).collect();
        ranked.sort_by(|&x, &y| worst_of(y).total_cmp(&worst_of(x)).then(x.cmp(&y)));
        ranked.truncate(WORST_APPS);
        let years = self.horizon_ms as f64 / MS_PER_YEAR as f64;
        for &a in &ranked {
            let app = &scenario.apps[a];
            let rows: Vec<&Row> = apps.iter().filter(|r| r.label.name() == app.name).collect();
            let series: Vec<Vec<f64>> = (0..self.strategies.len())
                .map(|s| self.apps[s][a].down_ms.iter().map(|&d| d as f64 / MS_PER_MIN as f64 / years).collect())
                .collect();
            groups.push(make(GroupKind::App, &app.name, app.class.name(), &rows, &series));
        }
        // The causes of all apps' downtime under the strategy best for all.
        let all: Vec<&Row> = classes.iter().filter(|r| r.label == Label::All).collect();
        let best_all = crate::run::verdict::least(all.iter().map(|r| r.downtime_min_per_year)).map(|i| all[i]);
        let worst_app = ranked.first().and_then(|&a| {
            apps.iter()
                .filter(|r| r.label.name() == scenario.apps[a].name)
                .enumerate()
                .max_by(|(i, x), (j, y)| x.downtime_min_per_year.total_cmp(&y.downtime_min_per_year).then(j.cmp(i)))
                .map(|(_, r)| WorstApp {
                    app: r.label.name().to_string(),
                    figure: crate::run::verdict::Figure {
                        strategy: r.strategy.name().to_string(),
                        availability: r.availability,
                        downtime_min_per_year: r.downtime_min_per_year,
                    },
                    causes: shares(&r.cause_min_per_year),
                })
        });
        crate::run::verdict::Verdict {
            strategies: self.strategies.iter().map(|s| s.name().to_string()).collect(),
            groups,
            causes_under: best_all.map_or(String::new(), |r| r.strategy.name().to_string()),
            causes: best_all.map_or(Vec::new(), |r| shares(&r.cause_min_per_year)),
            worst_app,
        }
    }

    fn volume_row(&self, strategy: Strategy, sums: &VolumeSums, name: &str, backend: &'static str) -> VolumeRow {
        let horizon_ms = self.horizon_ms as f64;
        let years = horizon_ms / MS_PER_YEAR as f64;
        let reps = self.replications as f64;
        let fraction: Vec<f64> = sums.down_ms.iter().map(|&d| d as f64 / horizon_ms).collect();
        let downtime_ms: f64 = sums.down_ms.iter().map(|&d| d as f64).sum();
        VolumeRow {
            strategy,
            volume: name.to_string(),
            backend,
            replications: self.replications,
            availability: 1.0 - mean(&fraction),
            availability_ci: availability_interval(&fraction),
            downtime_min_per_year: downtime_ms / MS_PER_MIN as f64 / reps / years,
            reduced_redundancy_h_per_year: sums.reduced_redundancy_ms / crate::time::MS_PER_H as f64 / reps / years,
            data_loss_incidents_per_year: sums.loss_incidents / reps / years,
            data_loss_min_per_year: sums.loss_ms / MS_PER_MIN as f64 / reps / years,
            split_brain_incidents_per_year: sums.split_brains / reps / years,
        }
    }

    /// The row of the apps `members`; with `keep_series`, it keeps the
    /// group's downtime in each replication (`per_replication_min`).
    fn row(
        &self,
        strategy: Strategy,
        sums: &[AppSums],
        members: &[usize],
        label: Label,
        class: Option<Class>,
        keep_series: bool,
    ) -> Row {
        let horizon_ms = self.horizon_ms as f64;
        let years = horizon_ms / MS_PER_YEAR as f64;
        let n_apps = members.len() as f64;
        // Per replication: the group's mean downtime fraction and minutes per year.
        let mut fraction = Vec::with_capacity(self.replications);
        let mut minutes = Vec::with_capacity(self.replications);
        let mut downtime_total_ms = 0u64;
        for r in 0..self.replications {
            let down: u64 = members.iter().map(|&a| sums[a].down_ms[r]).sum();
            downtime_total_ms += down;
            let mean_down = down as f64 / n_apps;
            fraction.push(mean_down / horizon_ms);
            minutes.push(mean_down / MS_PER_MIN as f64 / years);
        }
        let outages: u64 = members.iter().map(|&a| sums[a].outages).sum();
        let loss_incidents: u64 = members.iter().map(|&a| sums[a].loss_incidents).sum();
        let loss_ms: u64 = members.iter().fold(0u64, |t, &a| t.saturating_add(sums[a].loss_ms));
        let mut causes = [0u64; Cause::COUNT];
        for &a in members {
            for (total, c) in causes.iter_mut().zip(sums[a].causes) {
                *total += c;
            }
        }
        let reps = self.replications as f64;
        let per_app_year = |total: f64| total / reps / n_apps / years;
        let mean_unavailability = mean(&fraction);
        let availability_ci = availability_interval(&fraction);
        let per_replication_min = if keep_series { minutes.clone() } else { Vec::new() };
        minutes.sort_by(f64::total_cmp);
        Row {
            strategy,
            label,
            class,
            apps: members.len(),
            replications: self.replications,
            availability: 1.0 - mean_unavailability,
            availability_ci,
            downtime_min_per_year: mean(&minutes),
            downtime_p50: percentile(&minutes, 0.50),
            downtime_p95: percentile(&minutes, 0.95),
            downtime_p99: percentile(&minutes, 0.99),
            outages_per_year: per_app_year(outages as f64),
            mean_outage_min: (outages > 0).then(|| downtime_total_ms as f64 / outages as f64 / MS_PER_MIN as f64),
            cause_min_per_year: causes.map(|c| per_app_year(c as f64 / MS_PER_MIN as f64)),
            data_loss_incidents_per_year: per_app_year(loss_incidents as f64),
            data_loss_min_per_year: per_app_year(loss_ms as f64 / MS_PER_MIN as f64),
            data_loss_min_per_incident: (loss_incidents > 0)
                .then(|| loss_ms as f64 / loss_incidents as f64 / MS_PER_MIN as f64),
            per_replication_min,
        }
    }
}

/// The 95% interval of the mean availability, from per-replication
/// unavailable fractions; an availability is a fraction, so it is clipped to
/// [0, 1].
fn availability_interval(unavailable: &[f64]) -> Option<(f64, f64)> {
    t_interval(unavailable).map(|(lo, hi)| ((1.0 - hi).max(0.0), (1.0 - lo).min(1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&xs, 0.5), 3.0);
        assert_eq!(percentile(&xs, 0.95), 4.8);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
    }
}
