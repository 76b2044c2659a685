//! Serde types that mirror the scenario file one to one.
//!
//! Every table refuses unknown keys. Quantities with units (durations, sizes,
//! CPU, distributions) are parsed while deserializing, so a malformed value is
//! reported by the TOML layer with its exact line and column. Fields that need
//! checks across the file (references, counts) are wrapped in [`Spanned`] so
//! that validation can point at them too.

use crate::dist::Dist;
use crate::time::{Millis, cpu_millis, parse_cpu_str, parse_duration, parse_size};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor, value::MapAccessDeserializer};
use std::fmt;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<Spanned<String>>,
    pub horizon: Option<Spanned<Duration>>,
    pub replications: Option<Spanned<i64>>,
    pub seed: Option<Spanned<i64>>,
    pub strategies: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub kubernetes: RawKubernetes,
    #[serde(default)]
    pub node_defaults: RawNodeDefaults,
    #[serde(default)]
    pub nodes: Vec<RawNode>,
    #[serde(default)]
    pub apps: Vec<RawApp>,
    #[serde(default)]
    pub events: Vec<RawEvent>,
    #[serde(default)]
    pub volumes: Vec<RawVolume>,
    #[serde(default)]
    pub domains: Vec<RawDomain>,
    #[serde(default)]
    pub placement: RawPlacement,
    #[serde(default)]
    pub replay: Vec<RawReplay>,
    pub maintenance: Option<Spanned<super::maintenance::RawMaintenance>>,
    /// Soft limits on the size of a run (`super::limits`).
    pub limits: Option<Spanned<super::limits::RawLimits>>,
    /// Parameters for `clustersim sweep` (read by `crate::sweep`).
    pub sweep: Option<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDomain {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    pub nodes: Option<Vec<Spanned<String>>>,
    pub selector: Option<Spanned<std::collections::BTreeMap<String, String>>>,
    pub failure: Option<Spanned<Dist>>,
    pub repair: Option<Spanned<Dist>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlacement {
    pub spread_kind: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReplay {
    pub file: Spanned<String>,
    pub mode: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKubernetes {
    pub out_of_service_after: Option<Spanned<Dist>>,
    pub liveness_period: Option<Spanned<Duration>>,
    pub liveness_failure_threshold: Option<Spanned<i64>>,
    pub backoff: Option<Spanned<String>>,
    pub backoff_initial: Option<Spanned<Duration>>,
    pub backoff_max: Option<Spanned<Duration>>,
    pub backoff_reset: Option<Spanned<Duration>>,
    pub node_monitor_grace_period: Option<Duration>,
    pub lease_renew_interval: Option<Spanned<Duration>>,
    pub eviction_toleration: Option<Duration>,
    pub eviction_rate: Option<Spanned<f64>>,
    pub secondary_eviction_rate: Option<Spanned<f64>>,
    pub unhealthy_zone_threshold: Option<Spanned<f64>>,
    pub large_cluster_size_threshold: Option<Spanned<i64>>,
    pub version: Option<Spanned<String>>,
    pub node_monitor_period: Option<Duration>,
    pub pod_force_delete_after: Option<Spanned<Dist>>,
    pub node_delete_after: Option<Spanned<Dist>>,
    pub pod_gc_check_period: Option<Spanned<Duration>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNodeDefaults {
    pub cpu: Option<Spanned<Cpu>>,
    pub memory: Option<Spanned<Size>>,
    pub devices: Option<Vec<String>>,
    pub failure: Option<Spanned<Dist>>,
    pub repair: Option<Spanned<Dist>>,
    pub pool: Option<Spanned<RawPool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub name: Spanned<String>,
    pub count: Option<Spanned<i64>>,
    pub cpu: Option<Spanned<Cpu>>,
    pub memory: Option<Spanned<Size>>,
    pub devices: Option<Vec<Spanned<String>>>,
    pub failure: Option<Spanned<Dist>>,
    pub repair: Option<Spanned<Dist>>,
    pub pool: Option<Spanned<RawPool>>,
    pub labels: Option<std::collections::BTreeMap<String, String>>,
    pub control_plane: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApp {
    pub name: Spanned<String>,
    pub count: Option<Spanned<i64>>,
    pub class: Spanned<String>,
    pub cpu: Option<Spanned<Cpu>>,
    pub memory: Option<Spanned<Size>>,
    pub startup: Option<Spanned<Dist>>,
    pub replicas: Option<Spanned<i64>>,
    pub min_available: Option<Spanned<i64>>,
    pub anti_affinity: Option<Spanned<String>>,
    pub node: Option<Spanned<String>>,
    pub requires: Option<Vec<Spanned<String>>>,
    pub volumes: Option<Vec<Spanned<String>>>,
    pub kind: Option<Spanned<String>>,
    pub depends_on: Option<Vec<Spanned<String>>>,
    pub spread_over: Option<Spanned<String>>,
    pub spread: Option<Spanned<String>>,
    pub crash: Option<Spanned<Dist>>,
    pub hang: Option<Spanned<Dist>>,
    pub max_unavailable: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub at: Spanned<Duration>,
    pub fail: Spanned<String>,
    pub duration: Option<Spanned<Duration>>,
}

/// A ZFS pool of one vdev on a node: `pool = { layout = "mirror", disks = 2 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPool {
    pub layout: Spanned<String>,
    pub disks: Spanned<i64>,
    pub disk_failure: Option<Dist>,
    pub replace: Option<Duration>,
    pub resilver_rate: Option<Spanned<Rate>>,
    pub allocated: Option<Size>,
    pub restore: Option<Duration>,
    pub backup_interval: Option<Spanned<Duration>>,
}

/// A `[[volumes]]` entry. Every backend-specific key is spanned, so that a
/// key the backend does not take is reported on its own line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVolume {
    pub name: Spanned<String>,
    pub backend: Spanned<String>,
    pub node: Option<Spanned<String>>,
    pub replica_node: Option<Spanned<String>>,
    pub interval: Option<Spanned<Duration>>,
    pub failover: Option<Spanned<Duration>>,
    pub replicas: Option<Spanned<i64>>,
    pub arbiter: Option<Spanned<bool>>,
    pub bricks: Option<Spanned<Vec<Spanned<String>>>>,
    pub heal_rate: Option<Spanned<Rate>>,
    pub write_rate: Option<Spanned<Rate>>,
    pub size: Option<Spanned<Size>>,
    pub ping_timeout: Option<Spanned<Duration>>,
    pub quorum: Option<Spanned<Quorum>>,
    pub health_check_interval: Option<Spanned<Duration>>,
    pub force_detach: Option<Spanned<Dist>>,
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
#[derive(Debug, Clone, Copy, PartialEq)]
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDistTable {
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

impl RawDistTable {
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
                let table = RawDistTable::deserialize(MapAccessDeserializer::new(map))?;
                table.into_dist().map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}
