//! The rows of the CSV result files, one struct per file; the fields are
//! the columns in order (see [`super::table`] for the header and the
//! reading).

use super::Label;
use super::table::{Causes, Fixed, PerReplication, PerYear, Seconds, count};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The figures of a group of apps under one strategy: the columns that
/// summary.csv and apps.csv share.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Figures {
    pub apps: usize,
    pub replications: usize,
    pub availability: Fixed<9>,
    /// The 95% interval; empty with fewer than two replications.
    pub availability_ci_low: Option<Fixed<9>>,
    pub availability_ci_high: Option<Fixed<9>>,
    pub downtime_min_per_year: Fixed<4>,
    pub downtime_min_per_year_p50: Fixed<4>,
    pub downtime_min_per_year_p95: Fixed<4>,
    pub downtime_min_per_year_p99: Fixed<4>,
    pub outages_per_year: Fixed<6>,
    /// Empty when no outage happened.
    pub mean_outage_min: Option<Fixed<4>>,
    pub planned_min_per_year: Fixed<4>,
    pub unplanned_min_per_year: Fixed<4>,
    /// `detection_min_per_year`, ...: minutes per app-year by cause.
    pub causes: Causes<PerYear>,
    pub data_loss_incidents_per_year: Fixed<6>,
    pub data_loss_min_per_year: Fixed<4>,
    /// Empty without incidents.
    pub data_loss_min_per_incident: Option<Fixed<4>>,
}

/// A row of `summary.csv`: one strategy and class, or `all`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClassRecord {
    pub strategy: String,
    pub class: Label,
    pub figures: Figures,
}

/// A row of `apps.csv`: one strategy and app.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AppRecord {
    pub strategy: String,
    pub app: String,
    pub class: String,
    pub figures: Figures,
}

/// A row of `volumes.csv`: one strategy and volume.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VolumeRecord {
    pub strategy: String,
    pub volume: String,
    pub backend: String,
    pub replications: usize,
    pub availability: Fixed<9>,
    pub availability_ci_low: Option<Fixed<9>>,
    pub availability_ci_high: Option<Fixed<9>>,
    pub downtime_min_per_year: Fixed<4>,
    pub reduced_redundancy_h_per_year: Fixed<4>,
    pub data_loss_incidents_per_year: Fixed<6>,
    pub data_loss_min_per_year: Fixed<4>,
    pub split_brain_incidents_per_year: Fixed<6>,
}

/// A row of `replications.csv`: one replication, strategy and app, as
/// exact milliseconds, so `merge` replays it as measured.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReplicationRecord {
    pub strategy: String,
    #[serde(deserialize_with = "count")]
    pub replication: u32,
    pub app: String,
    pub downtime_s: Seconds,
    #[serde(deserialize_with = "count")]
    pub outages: u32,
    /// `detection_s`, ...: seconds by cause.
    pub causes: Causes<PerReplication>,
    #[serde(deserialize_with = "count")]
    pub data_loss_incidents: u32,
    pub data_loss_s: Seconds,
}

/// A row of `volume_replications.csv`: one replication, strategy and volume.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VolumeReplicationRecord {
    pub strategy: String,
    #[serde(deserialize_with = "count")]
    pub replication: u32,
    pub volume: String,
    pub downtime_s: Seconds,
    #[serde(deserialize_with = "count")]
    pub outages: u32,
    pub reduced_redundancy_s: Seconds,
    #[serde(deserialize_with = "count")]
    pub data_loss_incidents: u32,
    pub data_loss_s: Seconds,
    #[serde(deserialize_with = "count")]
    pub split_brain_incidents: u32,
}

/// A row of `events.csv`: one trace record of one strategy. Each subject
/// has its column, empty when the record names none of that sort
/// (docs/events.md lists every kind and the columns it fills); `time` is
/// `time_ms` in a human form.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EventRecord {
    pub strategy: String,
    #[serde(deserialize_with = "whole_ms")]
    pub time_ms: u64,
    pub time: String,
    pub kind: String,
    pub node: String,
    pub app: String,
    pub pod: String,
    pub domain: String,
    pub volume: String,
    pub detail: String,
}

fn whole_ms<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    super::table::parse_str(deserializer, |t| {
        t.parse().map_err(|_| format!("`{t}` is not a time in whole milliseconds"))
    })
}

/// A row of `compare.csv`: one compared group (a class, `all` or an app)
/// between the baseline and one other run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CompareRecord {
    pub group: Label,
    pub baseline: String,
    pub other: String,
    pub baseline_downtime_min_per_year: Fixed<4>,
    pub other_downtime_min_per_year: Fixed<4>,
    pub difference_min_per_year: Fixed<4>,
    pub difference_ci_low: Option<Fixed<4>>,
    pub difference_ci_high: Option<Fixed<4>>,
    pub significant: YesNo,
}

/// A row of `sweep.csv` after the point's parameter columns: one strategy
/// and class of one point.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SweepRecord {
    pub strategy: String,
    pub class: Label,
    pub availability: Fixed<9>,
    pub availability_ci_low: Option<Fixed<9>>,
    pub availability_ci_high: Option<Fixed<9>>,
    pub downtime_min_per_year: Fixed<4>,
}

/// A yes-or-no column: `yes`, `no`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct YesNo(pub bool);

impl Serialize for YesNo {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(if self.0 { "yes" } else { "no" })
    }
}

impl<'de> Deserialize<'de> for YesNo {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::table::parse_str(deserializer, |t| match t {
            "yes" => Ok(YesNo(true)),
            "no" => Ok(YesNo(false)),
            _ => Err(format!("`{t}` is not `yes` or `no`")),
        })
    }
}
