//! The [`Spec`]: a scenario as plain data, in the shape of the scenario file.
//!
//! Every table refuses unknown keys. Quantities with units (durations, sizes,
//! CPU, distributions) are parsed while deserializing, so a malformed value is
//! reported by the input layer with its exact line and column. Fields that
//! need checks across the file (references, counts) are [`Located`]: they
//! carry the place they were read from, so that validation can point at them
//! too. The types derive serde's `Deserialize` (a data model, not a format);
//! the TOML reader lives in `crate::input`, which also gives [`Located`] its
//! `Deserialize`.

use crate::dist::Dist;
use crate::time::{Millis, cpu_millis, parse_cpu_str, parse_duration, parse_size};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor, value::MapAccessDeserializer};
use std::fmt;
use std::ops::Range;

pub use crate::error::Place;

/// A value and the [`Place`] it came from. Validation errors point there.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    value: T,
    place: Place,
}

/// A value built in code, with the type's default.
impl<T: Default> Default for Located<T> {
    fn default() -> Located<T> {
        Located::new(T::default())
    }
}

impl<T> Located<T> {
    /// A value with no place in any text (built in code).
    pub fn new(value: T) -> Located<T> {
        Located { value, place: Place::Code }
    }

    /// A value read from `place`, a byte range of the source text.
    pub fn at(value: T, place: Range<usize>) -> Located<T> {
        Located { value, place: Place::Text(place) }
    }

    /// A value set by the command-line flag `flag`.
    pub fn flag(value: T, flag: &'static str) -> Located<T> {
        Located { value, place: Place::Flag(flag) }
    }

    pub fn get_ref(&self) -> &T {
        &self.value
    }

    pub fn into_inner(self) -> T {
        self.value
    }

    /// Where it came from.
    pub fn span(&self) -> Place {
        self.place.clone()
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub name: Option<Located<String>>,
    pub horizon: Option<Located<Duration>>,
    pub replications: Option<Located<i64>>,
    pub seed: Option<Located<i64>>,
    pub strategies: Option<Located<Vec<Located<String>>>>,
    #[serde(default)]
    pub kubernetes: KubernetesSpec,
    #[serde(default)]
    pub node_defaults: NodeDefaultsSpec,
    #[serde(default)]
    pub nodes: Vec<NodeSpec>,
    #[serde(default)]
    pub apps: Vec<AppSpec>,
    #[serde(default)]
    pub events: Vec<EventSpec>,
    #[serde(default)]
    pub volumes: Vec<VolumeSpec>,
    #[serde(default)]
    pub domains: Vec<DomainSpec>,
    #[serde(default)]
    pub placement: PlacementSpec,
    #[serde(default)]
    pub replay: Vec<ReplaySpec>,
    pub maintenance: Option<Located<super::maintenance::MaintenanceSpec>>,
    /// Soft limits on the size of a run (`super::limits`).
    pub limits: Option<Located<super::limits::LimitsSpec>>,
    /// Parameters for `clustersim sweep`: read from the file's own text by
    /// `crate::input::sweep`, which edits the input, not the model.
    pub sweep: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainSpec {
    pub name: Located<String>,
    pub kind: Located<String>,
    pub nodes: Option<Vec<Located<String>>>,
    pub selector: Option<Located<std::collections::BTreeMap<String, String>>>,
    pub failure: Option<Located<Dist>>,
    pub repair: Option<Located<Dist>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementSpec {
    pub spread_kind: Option<Located<String>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaySpec {
    pub file: Located<String>,
    pub mode: Option<Located<String>>,
    /// The trace as the input layer read it from `file` (relative to the
    /// scenario's folder), or why it could not; validation reports a
    /// failure in its turn, after the checks before it. `None`: not read.
    #[serde(skip)]
    pub trace: Option<Result<super::trace::Replay, crate::error::InputError>>,
}

impl ReplaySpec {
    /// The trace's path: `file` relative to the folder of the scenario file
    /// named `scenario_file`.
    pub fn trace_path(&self, scenario_file: &str) -> std::path::PathBuf {
        let base = std::path::Path::new(scenario_file).parent().unwrap_or(std::path::Path::new("."));
        base.join(self.file.get_ref())
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSpec {
    pub out_of_service_after: Option<Located<Dist>>,
    pub liveness_period: Option<Located<Duration>>,
    pub liveness_failure_threshold: Option<Located<i64>>,
    pub backoff: Option<Located<String>>,
    pub backoff_initial: Option<Located<Duration>>,
    pub backoff_max: Option<Located<Duration>>,
    pub backoff_reset: Option<Located<Duration>>,
    pub node_monitor_grace_period: Option<Duration>,
    pub lease_renew_interval: Option<Located<Duration>>,
    pub eviction_toleration: Option<Duration>,
    pub eviction_rate: Option<Located<f64>>,
    pub secondary_eviction_rate: Option<Located<f64>>,
    pub unhealthy_zone_threshold: Option<Located<f64>>,
    pub large_cluster_size_threshold: Option<Located<i64>>,
    pub version: Option<Located<String>>,
    pub node_monitor_period: Option<Duration>,
    pub pod_force_delete_after: Option<Located<Dist>>,
    pub node_delete_after: Option<Located<Dist>>,
    pub pod_gc_check_period: Option<Located<Duration>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeDefaultsSpec {
    pub cpu: Option<Located<Cpu>>,
    pub memory: Option<Located<Size>>,
    pub devices: Option<Vec<String>>,
    pub failure: Option<Located<Dist>>,
    pub repair: Option<Located<Dist>>,
    pub pool: Option<Located<PoolSpec>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    pub name: Located<String>,
    pub count: Option<Located<i64>>,
    pub cpu: Option<Located<Cpu>>,
    pub memory: Option<Located<Size>>,
    pub devices: Option<Vec<Located<String>>>,
    pub failure: Option<Located<Dist>>,
    pub repair: Option<Located<Dist>>,
    pub pool: Option<Located<PoolSpec>>,
    pub labels: Option<std::collections::BTreeMap<String, String>>,
    pub control_plane: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    pub name: Located<String>,
    pub count: Option<Located<i64>>,
    pub class: Located<String>,
    pub cpu: Option<Located<Cpu>>,
    pub memory: Option<Located<Size>>,
    pub startup: Option<Located<Dist>>,
    pub replicas: Option<Located<i64>>,
    pub min_available: Option<Located<i64>>,
    pub anti_affinity: Option<Located<String>>,
    pub node: Option<Located<String>>,
    pub requires: Option<Vec<Located<String>>>,
    pub volumes: Option<Vec<Located<String>>>,
    pub kind: Option<Located<String>>,
    pub depends_on: Option<Vec<Located<String>>>,
    pub spread_over: Option<Located<String>>,
    pub spread: Option<Located<String>>,
    pub crash: Option<Located<Dist>>,
    pub hang: Option<Located<Dist>>,
    pub max_unavailable: Option<Located<i64>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    pub at: Located<Duration>,
    pub fail: Located<String>,
    pub duration: Option<Located<Duration>>,
}

/// A ZFS pool of one vdev on a node: `pool = { layout = "mirror", disks = 2 }`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    pub layout: Located<String>,
    pub disks: Located<i64>,
    pub disk_failure: Option<Dist>,
    pub replace: Option<Duration>,
    pub resilver_rate: Option<Located<Rate>>,
    pub allocated: Option<Size>,
    pub restore: Option<Duration>,
    pub backup_interval: Option<Located<Duration>>,
}

/// A `[[volumes]]` entry. Every backend-specific key is spanned, so that a
/// key the backend does not take is reported on its own line.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeSpec {
    pub name: Located<String>,
    pub backend: Located<String>,
    pub node: Option<Located<String>>,
    pub replica_node: Option<Located<String>>,
    pub interval: Option<Located<Duration>>,
    pub failover: Option<Located<Duration>>,
    pub replicas: Option<Located<i64>>,
    pub arbiter: Option<Located<bool>>,
    pub bricks: Option<Located<Vec<Located<String>>>>,
    pub heal_rate: Option<Located<Rate>>,
    pub write_rate: Option<Located<Rate>>,
    pub size: Option<Located<Size>>,
    pub ping_timeout: Option<Located<Duration>>,
    pub quorum: Option<Located<Quorum>>,
    pub health_check_interval: Option<Located<Duration>>,
    pub force_detach: Option<Located<Dist>>,
}

/// A Gluster client quorum as written: a name (`"auto"`, `"none"`) or a
/// brick count; validation checks which.
#[derive(Debug, Clone, PartialEq)]
pub enum Quorum {
    Name(String),
    Count(i64),
}

impl<'de> Deserialize<'de> for Quorum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quorum;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"auto\", \"none\" or a number of bricks")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Quorum, E> {
                Ok(Quorum::Name(s.to_string()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Quorum, E> {
                Ok(Quorum::Count(n))
            }
        }
        d.deserialize_any(V)
    }
}

/// A data rate such as `"100MiB/s"`, in bytes per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate(pub f64);

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a data rate such as \"100MiB/s\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Rate, E> {
                let size = s.strip_suffix("/s").ok_or_else(|| {
                    E::custom(format!("`{s}` is not a rate: write a size per second, such as \"100MiB/s\""))
                })?;
                parse_size(size).map(|b| Rate(b as f64)).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A duration written with its unit (`"40s"`), in milliseconds.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Duration(pub Millis);

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration string with a unit, such as \"40s\" or \"12h\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Duration, E> {
                parse_duration(s).map(Duration).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Duration, E> {
                Err(E::custom(format!("a duration needs a unit: write \"{n}s\" (or ms, m, h, d, w, y) in quotes")))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Duration, E> {
                Err(E::custom(format!("a duration needs a unit: write \"{n}h\" (or ms, s, m, d, w, y) in quotes")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A byte size (`"32Gi"`, or an integer count of bytes); `.1`: written as a
/// bare integer, for the warning on `memory = 16` (16 bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Size(pub u64, pub bool);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as \"32Gi\" or \"512Mi\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Size, E> {
                parse_size(s).map(|bytes| Size(bytes, false)).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Size, E> {
                u64::try_from(n).map(|bytes| Size(bytes, true)).map_err(|_| {
                    E::custom(format!(
                        "size {n} is negative: sizes are zero or more bytes, or a string such as \"512Mi\""
                    ))
                })
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Size, E> {
                Err(E::custom(format!(
                    "a size in bytes is a whole number: write {n} as a quoted size with a unit, such as \"{n}Gi\" (units: {})",
                    crate::time::SIZE_UNITS
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// A CPU amount in millicores, written as cores (`2`, `0.5`) or `"500m"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cpu(pub u64);

impl<'de> Deserialize<'de> for Cpu {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Cpu;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a CPU amount: cores (2, 0.5) or millicores (\"500m\")")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Cpu, E> {
                parse_cpu_str(s).map(Cpu).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Cpu, E> {
                cpu_millis(n as f64).map(Cpu).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Cpu, E> {
                cpu_millis(n).map(Cpu).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// The table form of a distribution: `{ dist = "weibull", shape = 0.8, scale = "8000h" }`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DistTable {
    dist: String,
    mean: Option<Duration>,
    shape: Option<f64>,
    scale: Option<Duration>,
    median: Option<Duration>,
    sigma: Option<f64>,
    value: Option<Duration>,
    min: Option<Duration>,
    max: Option<Duration>,
}

const DIST_NAMES: &str =
    "exponential {mean}, weibull {shape, scale}, lognormal {median, sigma}, fixed {value}, uniform {min, max}, never";

impl DistTable {
    fn into_dist(self) -> Result<Dist, String> {
        let kind = self.dist.as_str();
        let takes = |kind: &str| match kind {
            "exponential" => "mean, a duration",
            "weibull" => "shape, a number, and scale, a duration",
            "lognormal" => "median, a duration, and sigma, a number",
            "fixed" => "value, a duration",
            _ => "min and max, durations",
        };
        let need = |field: Option<Duration>, name: &str| {
            field
                .map(|d| d.0)
                .ok_or_else(|| format!("distribution `{kind}` needs `{name}` (it takes: {})", takes(kind)))
        };
        let need_f = |field: Option<f64>, name: &str| {
            field.ok_or_else(|| format!("distribution `{kind}` needs `{name}` (it takes: {})", takes(kind)))
        };
        let allowed: &[&str] = match kind {
            "exponential" => &["mean"],
            "weibull" => &["shape", "scale"],
            "lognormal" => &["median", "sigma"],
            "fixed" => &["value"],
            "uniform" => &["min", "max"],
            "never" => &[],
            _ => return Err(format!("unknown distribution `{kind}`: use one of {DIST_NAMES}")),
        };
        let present = [
            ("mean", self.mean.is_some()),
            ("shape", self.shape.is_some()),
            ("scale", self.scale.is_some()),
            ("median", self.median.is_some()),
            ("sigma", self.sigma.is_some()),
            ("value", self.value.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
        ];
        if let Some((extra, _)) = present.iter().find(|(name, set)| *set && !allowed.contains(name)) {
            return Err(format!(
                "distribution `{kind}` takes no `{extra}` (it takes: {})",
                if allowed.is_empty() { "nothing".to_string() } else { allowed.join(", ") }
            ));
        }
        let positive = |ms: Millis, name: &str| {
            if ms == 0 {
                Err(format!("`{name}` of distribution `{kind}` must be greater than zero"))
            } else {
                Ok(ms as f64)
            }
        };
        let positive_f = |x: f64, name: &str| {
            if x.is_finite() && x > 0.0 && x < 1e6 {
                Ok(x)
            } else {
                Err(format!(
                    "`{name}` of distribution `{kind}` must be a number greater than zero (and below 10^6), not {x}"
                ))
            }
        };
        Ok(match kind {
            "exponential" => Dist::Exponential { mean_ms: positive(need(self.mean, "mean")?, "mean")? },
            "weibull" => Dist::Weibull {
                shape: {
                    // Below 0.1 the mean is over 3.6 million times the scale
                    // (Gamma(11)); field data has shapes from about 0.5 to 5.
                    let shape = positive_f(need_f(self.shape, "shape")?, "shape")?;
                    if !(0.1..=50.0).contains(&shape) {
                        return Err(format!(
                            "`shape` of distribution `weibull` must be between 0.1 and 50, not {shape}"
                        ));
                    }
                    shape
                },
                scale_ms: positive(need(self.scale, "scale")?, "scale")?,
            },
            "lognormal" => {
                let sigma = need_f(self.sigma, "sigma")?;
                if !(sigma.is_finite() && (0.0..=10.0).contains(&sigma)) {
                    return Err(format!("`sigma` of distribution `lognormal` must be between 0 and 10, not {sigma}"));
                }
                Dist::Lognormal { median_ms: positive(need(self.median, "median")?, "median")?, sigma }
            }
            "fixed" => Dist::Fixed(need(self.value, "value")?),
            "uniform" => {
                let (min_ms, max_ms) = (need(self.min, "min")?, need(self.max, "max")?);
                if min_ms > max_ms {
                    return Err(format!(
                        "uniform `min` ({}) is greater than `max` ({}): write min <= max",
                        crate::time::format_duration(min_ms),
                        crate::time::format_duration(max_ms)
                    ));
                }
                Dist::Uniform { min_ms, max_ms }
            }
            _ => Dist::Never,
        })
    }
}

impl<'de> Deserialize<'de> for Dist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Dist;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a duration such as \"45s\", \"never\", or a table: {DIST_NAMES}")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Dist, E> {
                if s == "never" {
                    return Ok(Dist::Never);
                }
                parse_duration(s).map(Dist::Fixed).map_err(|e| {
                    E::custom(format!(
                        "{e}; a distribution is a duration (a fixed value), \"never\", or a table such as {{ dist = \"exponential\", mean = \"8760h\" }}"
                    ))
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Dist, A::Error> {
                let table = DistTable::deserialize(MapAccessDeserializer::new(map))?;
                table.into_dist().map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}
