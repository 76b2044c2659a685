//! The result files: summary.csv, apps.csv, replications.csv, events.csv and
//! summary.json. Numbers are written with a fixed number of decimals so the
//! same results give the same bytes.

use crate::error::Error;
use crate::metrics::{ReplicationOutcome, TraceRecord};
use crate::model::Scenario;
use crate::placement::Strategy;
use crate::results::manifest::{self, GroupFigures, ReplicationDowntime, RunIdentity, VolumeFigures};
use crate::results::rows::{
    AppRecord, ClassRecord, CompareRecord, EventRecord, Figures, ReplicationRecord, SweepRecord, VolumeRecord,
    VolumeReplicationRecord, YesNo,
};
use crate::results::table::{self, Causes, Fixed, Seconds};
use crate::run::summary::{Row, Summary, VolumeRow};
use crate::time::{format_duration, format_instant};
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

/// A 95% interval's ends as two optional columns.
fn interval<const D: usize>(ci: Option<(f64, f64)>) -> (Option<Fixed<D>>, Option<Fixed<D>>) {
    (ci.map(|c| Fixed(c.0)), ci.map(|c| Fixed(c.1)))
}

/// The class column of a row: the class's name, empty for `all`.
fn class_name(row: &Row) -> String {
    row.class.map_or(String::new(), |c| c.name().to_string())
}

fn figures(row: &Row) -> Figures {
    let (availability_ci_low, availability_ci_high) = interval(row.availability_ci);
    Figures {
        apps: row.apps,
        replications: row.replications,
        availability: Fixed(row.availability),
        availability_ci_low,
        availability_ci_high,
        downtime_min_per_year: Fixed(row.downtime_min_per_year),
        downtime_min_per_year_p50: Fixed(row.downtime_p50),
        downtime_min_per_year_p95: Fixed(row.downtime_p95),
        downtime_min_per_year_p99: Fixed(row.downtime_p99),
        outages_per_year: Fixed(row.outages_per_year),
        mean_outage_min: row.mean_outage_min.map(Fixed),
        planned_min_per_year: Fixed(row.planned_min_per_year()),
        unplanned_min_per_year: Fixed(row.downtime_min_per_year - row.planned_min_per_year()),
        causes: Causes(row.cause_min_per_year.map(Fixed)),
        data_loss_incidents_per_year: Fixed(row.data_loss_incidents_per_year),
        data_loss_min_per_year: Fixed(row.data_loss_min_per_year),
        data_loss_min_per_incident: row.data_loss_min_per_incident.map(Fixed),
    }
}

/// `volumes.csv`: one row per strategy and volume.
pub fn volumes_csv(summary: &Summary) -> Result<Vec<u8>, Error> {
    let rows: Vec<VolumeRecord> = summary
        .volumes
        .iter()
        .map(|v| {
            let (availability_ci_low, availability_ci_high) = interval(v.availability_ci);
            VolumeRecord {
                strategy: v.strategy.name().to_string(),
                volume: v.volume.clone(),
                backend: v.backend.to_string(),
                replications: v.replications,
                availability: Fixed(v.availability),
                availability_ci_low,
                availability_ci_high,
                downtime_min_per_year: Fixed(v.downtime_min_per_year),
                reduced_redundancy_h_per_year: Fixed(v.reduced_redundancy_h_per_year),
                data_loss_incidents_per_year: Fixed(v.data_loss_incidents_per_year),
                data_loss_min_per_year: Fixed(v.data_loss_min_per_year),
                split_brain_incidents_per_year: Fixed(v.split_brain_incidents_per_year),
            }
        })
        .collect();
    table::to_bytes(&rows)
}

/// `summary.csv`: one row per strategy and class (and `all`).
pub fn summary_csv(summary: &Summary) -> Result<Vec<u8>, Error> {
    let rows: Vec<ClassRecord> = summary
        .classes
        .iter()
        .map(|r| ClassRecord { strategy: r.strategy.name().to_string(), class: r.label.clone(), figures: figures(r) })
        .collect();
    table::to_bytes(&rows)
}

/// `apps.csv`: one row per strategy and app.
pub fn apps_csv(summary: &Summary) -> Result<Vec<u8>, Error> {
    let rows: Vec<AppRecord> = summary
        .apps
        .iter()
        .map(|r| AppRecord {
            strategy: r.strategy.name().to_string(),
            app: r.label.name().to_string(),
            class: class_name(r),
            figures: figures(r),
        })
        .collect();
    table::to_bytes(&rows)
}

/// The per-replication files, written row by row as replications finish:
/// `replications.csv` (one row per replication, strategy and app) and, with
/// volumes, `volume_replications.csv` (per replication, strategy and
/// volume), in replication order, so runs can be merged and reanalysed and
/// nothing of a replication is kept after it is written.
pub struct ReplicationRows {
    apps: table::Writer<BufWriter<File>, ReplicationRecord>,
    volumes: Option<table::Writer<BufWriter<File>, VolumeReplicationRecord>>,
}

impl ReplicationRows {
    /// Creates the files in `dir` (a staging folder), headers written, and
    /// returns their names.
    pub fn create(dir: &Path, scenario: &Scenario) -> Result<(Self, Vec<String>), Error> {
        let open = |name: &str| {
            let path = dir.join(name);
            let file = File::create(&path).map_err(|source| Error::Io { path, source })?;
            Ok::<_, Error>(BufWriter::new(file))
        };
        let mut names = vec!["replications.csv".to_string()];
        let apps = table::Writer::new(open("replications.csv")?)?;
        let volumes = if scenario.volumes.is_empty() {
            None
        } else {
            names.push("volume_replications.csv".into());
            Some(table::Writer::new(open("volume_replications.csv")?)?)
        };
        Ok((ReplicationRows { apps, volumes }, names))
    }

    /// Writes replication `r`: its outcome under each strategy.
    pub fn write(&mut self, scenario: &Scenario, r: u32, per_strategy: &[&ReplicationOutcome]) -> Result<(), Error> {
        for (strategy, outcome) in scenario.strategies.iter().zip(per_strategy) {
            for (app, spec) in outcome.apps.iter().zip(&scenario.apps) {
                self.apps.write(&ReplicationRecord {
                    strategy: strategy.name().to_string(),
                    replication: r,
                    app: spec.name.clone(),
                    downtime_s: Seconds(app.downtime_ms),
                    outages: app.outages,
                    causes: Causes(app.cause_ms.map(Seconds)),
                    data_loss_incidents: app.data_loss_incidents,
                    data_loss_s: Seconds(app.data_loss_ms),
                })?;
            }
            if let Some(writer) = &mut self.volumes {
                for (v, spec) in outcome.volumes.iter().zip(&scenario.volumes) {
                    writer.write(&VolumeReplicationRecord {
                        strategy: strategy.name().to_string(),
                        replication: r,
                        volume: spec.name.clone(),
                        downtime_s: Seconds(v.downtime_ms),
                        outages: v.outages,
                        reduced_redundancy_s: Seconds(v.reduced_redundancy_ms),
                        data_loss_incidents: v.data_loss_incidents,
                        data_loss_s: Seconds(v.data_loss_ms),
                        split_brain_incidents: v.split_brain_incidents,
                    })?;
                }
            }
        }
        Ok(())
    }

    /// Flushes the files; a write error surfaces here.
    pub fn finish(self) -> Result<(), Error> {
        self.apps.finish()?;
        if let Some(volumes) = self.volumes {
            volumes.finish()?;
        }
        Ok(())
    }
}

/// `events.csv`: the trace of one replication per strategy. Each row names
/// its subjects in their own columns (docs/events.md lists every kind and
/// the columns it fills); `time` is `time_ms` in one human form
/// ([`format_instant`]).
pub fn events_csv(scenario: &Scenario, traces: &[(Strategy, Vec<TraceRecord>)]) -> Result<Vec<u8>, Error> {
    let name = |n: Option<String>| n.unwrap_or_default();
    let rows: Vec<EventRecord> = traces
        .iter()
        .flat_map(|(strategy, records)| {
            records.iter().map(move |r| EventRecord {
                strategy: strategy.name().to_string(),
                time_ms: r.time_ms,
                time: format_instant(r.time_ms),
                kind: r.kind.to_string(),
                node: name(r.node.map(|n| scenario.nodes[n].name.clone())),
                app: name(r.app.map(|a| scenario.apps[a].name.clone())),
                pod: name(r.pod.map(|(a, replica)| format!("{}-{replica}", scenario.apps[a].name))),
                domain: name(r.domain.map(|d| scenario.domains[d].name.clone())),
                volume: name(r.volume.map(|v| scenario.volumes[v].name.clone())),
                detail: r.detail.clone(),
            })
        })
        .collect();
    table::to_bytes(&rows)
}

fn group_figures(row: &Row) -> GroupFigures {
    GroupFigures {
        strategy: row.strategy.name().to_string(),
        label: row.label.clone(),
        class: class_name(row),
        apps: row.apps,
        replications: row.replications,
        availability: row.availability,
        availability_ci_low: row.availability_ci.map(|c| c.0),
        availability_ci_high: row.availability_ci.map(|c| c.1),
        downtime_min_per_year: row.downtime_min_per_year,
        downtime_min_per_year_p50: row.downtime_p50,
        downtime_min_per_year_p95: row.downtime_p95,
        downtime_min_per_year_p99: row.downtime_p99,
        outages_per_year: row.outages_per_year,
        mean_outage_min: row.mean_outage_min,
        planned_min_per_year: row.planned_min_per_year(),
        unplanned_min_per_year: row.downtime_min_per_year - row.planned_min_per_year(),
        downtime_min_per_year_by_cause: crate::metrics::Cause::ALL
            .iter()
            .map(|c| (c.name().to_string(), row.cause_min_per_year[c.index()]))
            .collect(),
        data_loss_incidents_per_year: row.data_loss_incidents_per_year,
        data_loss_min_per_year: row.data_loss_min_per_year,
        data_loss_min_per_incident: row.data_loss_min_per_incident,
    }
}

fn volume_figures(v: &VolumeRow) -> VolumeFigures {
    VolumeFigures {
        strategy: v.strategy.name().to_string(),
        volume: v.volume.clone(),
        backend: v.backend.to_string(),
        replications: v.replications,
        availability: v.availability,
        availability_ci_low: v.availability_ci.map(|c| c.0),
        availability_ci_high: v.availability_ci.map(|c| c.1),
        downtime_min_per_year: v.downtime_min_per_year,
        reduced_redundancy_h_per_year: v.reduced_redundancy_h_per_year,
        data_loss_incidents_per_year: v.data_loss_incidents_per_year,
        data_loss_min_per_year: v.data_loss_min_per_year,
        split_brain_incidents_per_year: v.split_brain_incidents_per_year,
    }
}

/// `summary.json` ([`manifest::Summary`]).
pub fn summary_json(
    scenario: &Scenario,
    summary: &Summary,
    files: &[&str],
    trace: Option<u32>,
) -> Result<Vec<u8>, Error> {
    let value = manifest::Summary {
        trace_replication: trace.map(u64::from),
        horizon: format_duration(scenario.horizon_ms),
        warnings: scenario.warnings.clone(),
        classes: summary.classes.iter().map(group_figures).collect(),
        apps: summary.apps.iter().map(group_figures).collect(),
        volumes: summary.volumes.iter().map(volume_figures).collect(),
        replication_downtime_min_per_year: summary
            .classes
            .iter()
            .map(|r| ReplicationDowntime {
                strategy: r.strategy.name().to_string(),
                class: r.label.clone(),
                minutes: r.per_replication_min.clone(),
            })
            .collect(),
        verdict: Some(summary.verdict.clone()),
        files: files.iter().map(|f| f.to_string()).collect(),
        ..manifest::Summary::with_identity(run_identity(scenario))
    };
    manifest::to_bytes(&value)
}

/// What identifies a run in its manifest (`summary.json`, or a shard's).
pub fn run_identity(scenario: &Scenario) -> RunIdentity {
    RunIdentity {
        scenario: scenario.name.clone(),
        scenario_file: scenario.source.clone(),
        scenario_text: scenario.text.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        seed: scenario.seed,
        horizon_ms: scenario.horizon_ms,
        replications: u64::from(scenario.replications),
        strategies: scenario.strategies.iter().map(|s| s.name().to_string()).collect(),
    }
}

/// `compare.csv`: one row per compared group and pair of runs.
pub fn compare_csv(differences: &[crate::run::compare::Difference]) -> Result<Vec<u8>, Error> {
    let rows: Vec<CompareRecord> = differences
        .iter()
        .map(|d| CompareRecord {
            group: d.group.clone(),
            baseline: d.baseline.clone(),
            other: d.other.clone(),
            baseline_downtime_min_per_year: Fixed(d.baseline_min_per_year),
            other_downtime_min_per_year: Fixed(d.other_min_per_year),
            difference_min_per_year: Fixed(d.difference_min_per_year),
            difference_ci_low: d.ci.map(|c| Fixed(c.0)),
            difference_ci_high: d.ci.map(|c| Fixed(c.1)),
            significant: YesNo(d.significant),
        })
        .collect();
    table::to_bytes(&rows)
}

/// `sweep.csv`: a column per parameter, then one row per strategy and class.
pub fn sweep_csv(
    parameters: &[crate::input::sweep::Parameter],
    rows: &[crate::run::summary::SweepRow],
) -> Result<Vec<u8>, Error> {
    let mut header: Vec<String> = parameters.iter().map(|p| p.path.clone()).collect();
    header.extend(table::header::<SweepRecord>());
    let mut writer = table::Writer::<_, SweepRecord>::with_header(Vec::new(), &header)?;
    for (point, classes) in rows {
        let values: Vec<String> = point.iter().map(|(_, v)| v.clone()).collect();
        for r in classes {
            let (availability_ci_low, availability_ci_high) = interval(r.availability_ci);
            let row = SweepRecord {
                strategy: r.strategy.name().to_string(),
                class: r.label.clone(),
                availability: Fixed(r.availability),
                availability_ci_low,
                availability_ci_high,
                downtime_min_per_year: Fixed(r.downtime_min_per_year),
            };
            writer.write_after(&values, &row)?;
        }
    }
    writer.finish()
}
