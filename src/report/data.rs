//! The finished results of a run, read back from its output folder, so that
//! plots and the HTML report depend on the files alone (`clustersim report
//! DIR` regenerates them without rerunning).

use crate::error::{Error, InputError};
use crate::metrics::Cause;
use crate::results::Label;
use crate::results::manifest::{self, Head};
use crate::results::rows::{AppRecord, ClassRecord, VolumeRecord};
use crate::results::table::read_all;
use std::collections::BTreeMap;
use std::path::Path;

/// One row of summary.csv.
#[derive(Debug, Clone)]
pub struct ClassRow {
    pub strategy: String,
    pub class: Label,
    pub availability: f64,
    pub ci: Option<(f64, f64)>,
    pub downtime_min_per_year: f64,
    pub p95: f64,
    pub p99: f64,
    pub outages_per_year: f64,
    pub planned: f64,
    /// Minutes per year by cause, in the file's column order.
    pub causes: Vec<(String, f64)>,
}

/// One row of events.csv: its kind and the subjects it names (empty when
/// it names none of that sort).
pub use crate::results::rows::EventRecord as EventRow;

/// The trace of one replication (events.csv), and which replication it is.
#[derive(Debug, Clone)]
pub struct Trace {
    pub replication: u64,
    pub events: Vec<EventRow>,
}

#[derive(Debug, Clone)]
pub struct ReportData {
    pub scenario: String,
    pub scenario_file: String,
    pub scenario_text: String,
    pub seed: String,
    pub version: String,
    pub horizon: String,
    pub horizon_ms: u64,
    pub replications: usize,
    pub warnings: Vec<String>,
    pub strategies: Vec<String>,
    pub classes: Vec<ClassRow>,
    /// apps.csv, for the report's table.
    pub apps: Vec<AppRecord>,
    /// volumes.csv, when the run has volumes.
    pub volumes: Option<Vec<VolumeRecord>>,
    /// Per (strategy, class): each replication's downtime, minutes per year
    /// (the mean over the class's apps).
    pub replication_downtime: BTreeMap<(String, String), Vec<f64>>,
    pub trace: Option<Trace>,
    /// `None` in a folder written before the verdict existed.
    pub verdict: Option<crate::run::verdict::Verdict>,
}

/// For a folder that another command than a whole `run` wrote (its
/// manifest says which): what it is, and what to run instead of a report.
fn not_a_run(manifest: &Head) -> Option<String> {
    let owner = &manifest.scenario;
    if owner.starts_with("compare:") {
        return Some(format!(
            "this folder was written by `clustersim compare` ({owner}): compare writes its table to compare.csv and there is no report to redraw; rerun `clustersim compare` to update it"
        ));
    }
    if owner.starts_with("sweep:") {
        return Some(format!(
            "this folder was written by `clustersim sweep` ({owner}): sweep writes sweep.csv and its own plots, and there is no report to redraw; rerun `clustersim sweep` to update them"
        ));
    }
    let shard = manifest.shard?;
    let (index, count) = (shard.index, shard.count);
    Some(format!(
        "this folder holds shard {index} of {count} of a run of `{owner}` (`clustersim run --shard`), which has no summary of its own: merge the shards first, `clustersim merge SHARD_DIRS... --out DIR`, then `clustersim report DIR`"
    ))
}

impl ReportData {
    /// Reads the results in `dir` (summary.json, summary.csv, apps.csv,
    /// and events.csv and volumes.csv when present; the CDF comes from
    /// summary.json, not from the replications x apps rows of replications.csv).
    pub fn load(dir: &Path) -> Result<ReportData, Error> {
        let json_path = dir.join("summary.json");
        let (file, text) = (json_path.display().to_string(), manifest::read_text(&json_path, "the results")?);
        let head: Head = manifest::parse(&file, &text, "a clustersim summary")?;
        if let Some(instead) = not_a_run(&head) {
            return Err(Error::in_file(dir, instead));
        }
        let json: manifest::Summary = manifest::parse(&file, &text, "a clustersim summary")?;
        if json.horizon_ms == 0 {
            return Err(Error::Input(InputError::new(
                json_path.display().to_string(),
                "no horizon_ms: not a clustersim summary",
            )));
        }

        let mut classes = Vec::new();
        let mut strategies: Vec<String> = Vec::new();
        for row in read_all::<ClassRecord>(&dir.join("summary.csv"))? {
            let f = &row.figures;
            if !strategies.contains(&row.strategy) {
                strategies.push(row.strategy.clone());
            }
            classes.push(ClassRow {
                availability: f.availability.0,
                ci: f.availability_ci_low.zip(f.availability_ci_high).map(|(lo, hi)| (lo.0, hi.0)),
                downtime_min_per_year: f.downtime_min_per_year.0,
                p95: f.downtime_min_per_year_p95.0,
                p99: f.downtime_min_per_year_p99.0,
                outages_per_year: f.outages_per_year.0,
                planned: f.planned_min_per_year.0,
                causes: Cause::ALL.iter().map(|c| (c.name().to_string(), f.causes.0[c.index()].0)).collect(),
                strategy: row.strategy,
                class: row.class,
            });
        }
        let apps = read_all::<AppRecord>(&dir.join("apps.csv"))?;

        // The class rows' downtime in each replication, from summary.json
        // (replications.csv, replications x apps rows, is not reread).
        let replication_downtime: BTreeMap<(String, String), Vec<f64>> = json
            .replication_downtime_min_per_year
            .into_iter()
            .map(|entry| ((entry.strategy, entry.class.name().to_string()), entry.minutes))
            .collect();

        let events_path = dir.join("events.csv");
        let trace = if events_path.exists() {
            let replication = json.trace_replication.ok_or_else(|| {
                Error::Input(InputError::new(
                    json_path.display().to_string(),
                    "no trace_replication beside events.csv: the trace is not this run's; rerun with --trace",
                ))
            })?;
            let events = read_all::<EventRow>(&events_path)?;
            Some(Trace { replication, events })
        } else {
            None
        };
        let volumes_path = dir.join("volumes.csv");
        let volumes = if volumes_path.exists() { Some(read_all::<VolumeRecord>(&volumes_path)?) } else { None };

        Ok(ReportData {
            verdict: json.verdict,
            scenario: json.scenario,
            scenario_file: json.scenario_file,
            scenario_text: json.scenario_text,
            seed: json.seed.to_string(),
            version: json.version,
            horizon: json.horizon,
            horizon_ms: json.horizon_ms,
            replications: json.replications as usize,
            warnings: json.warnings,
            strategies,
            classes,
            apps,
            volumes,
            replication_downtime,
            trace,
        })
    }
}
