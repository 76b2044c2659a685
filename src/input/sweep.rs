//! Parameter sweeps and goal seeking over a scenario file.
//!
//! A parameter is a dotted path into the scenario's TOML: tables by key, and
//! arrays of tables (`[[nodes]]`, `[[apps]]`, ...) by the `name` of an
//! element or by its index: `nodes.worker.count`, `apps.plex.replicas`,
//! `kubernetes.eviction_toleration`, `node_defaults.repair.median`,
//! `volumes.media.backend`, `strategies`. A value is read as TOML (`3`,
//! `0.5`, `true`) or else as a string (`10m`, `spread`); a single value set
//! where the file has an array becomes a one-element array. Each grid point
//! is validated as a scenario of its own, with the same seed, so points are
//! compared on the same random streams.

use crate::error::InputError;
use toml::{Table, Value};

/// One swept parameter: its path and its values, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub path: String,
    pub values: Vec<String>,
}

impl Parameter {
    /// Parses `--set path=v1,v2,...`.
    pub fn parse(text: &str) -> Result<Parameter, InputError> {
        let bad = |m: String| InputError {
            file: "command line".into(),
            location: None,
            key: Some("--set".into()),
            message: m,
        };
        let (path, values) = text
            .split_once('=')
            .ok_or_else(|| bad(format!("`{text}` is not PATH=VALUE[,VALUE...], such as nodes.worker.count=2,3,4")))?;
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
        if path.trim().is_empty() || values.is_empty() {
            return Err(bad(format!("`{text}` needs a path and at least one value")));
        }
        Ok(Parameter { path: path.trim().to_string(), values })
    }
}

fn value_of(raw: &str) -> Value {
    match format!("v = {raw}").parse::<Table>() {
        Ok(mut t) => t.remove("v").unwrap_or_else(|| Value::String(raw.to_string())),
        Err(_) => Value::String(raw.to_string()),
    }
}

/// Sets `path` to `raw` in the scenario `table`. Errors do not repeat the
/// path: the caller names it (as the error's key).
pub fn set(table: &mut Table, path: &str, raw: &str) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut current = table;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if last {
            let mut value = value_of(raw);
            if matches!(current.get(*part), Some(Value::Array(_))) && !matches!(value, Value::Array(_)) {
                value = Value::Array(vec![value]);
            }
            current.insert(part.to_string(), value);
            return Ok(());
        }
        let entry = current.entry(part.to_string()).or_insert_with(|| Value::Table(Table::new()));
        current = match entry {
            Value::Table(t) => t,
            Value::Array(items) => {
                let selector = parts[i + 1];
                let index = match selector.parse::<usize>() {
                    Ok(index) if index < items.len() => index,
                    _ => items
                        .iter()
                        .position(|item| item.get("name").and_then(Value::as_str) == Some(selector))
                        .ok_or_else(|| {
                            let names = items.iter().filter_map(|item| item.get("name").and_then(Value::as_str));
                            format!(
                                "no element of `{part}` is named `{selector}`: {}",
                                crate::error::known_names(&format!("names in `{part}`"), names)
                            )
                        })?,
                };
                let Value::Table(t) = &mut items[index] else {
                    return Err(format!("`{part}` is not an array of tables"));
                };
                // The selector was consumed as well.
                if i + 2 >= parts.len() {
                    return Err(format!("the path ends at an element of `{part}`: name one of its keys"));
                }
                return set(t, &parts[i + 2..].join("."), raw);
            }
            _ => return Err(format!("`{part}` is a value, not a table")),
        };
    }
    Ok(())
}

/// The scenario `text` of file `file` with `assignments` applied, validated.
pub fn variant(file: &str, text: &str, assignments: &[(String, String)]) -> Result<Variant, InputError> {
    let mut table: Table = text.parse().map_err(|e: toml::de::Error| InputError::new(file, e.message().to_string()))?;
    table.remove("sweep");
    for (path, value) in assignments {
        set(&mut table, path, value).map_err(|m| InputError {
            file: file.to_string(),
            location: None,
            key: Some(path.clone()),
            message: m,
        })?;
    }
    let label =
        format!("{file} [{}]", assignments.iter().map(|(p, v)| format!("{p}={v}")).collect::<Vec<_>>().join(", "));
    let text = toml::to_string(&table).map_err(|e| InputError::new(file, e.to_string()))?;
    Ok(Variant { label, text })
}

/// A grid point's scenario text: the file with the point's values set (and
/// no `[sweep]`), and its name in errors, `file [path=value, ...]`.
pub struct Variant {
    pub label: String,
    pub text: String,
}

/// Every combination of the parameters' values, the first parameter varying
/// slowest.
pub fn grid(parameters: &[Parameter]) -> Vec<Vec<(String, String)>> {
    let mut points: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for p in parameters {
        points = points
            .into_iter()
            .flat_map(|point| {
                p.values.iter().map(move |v| {
                    let mut next = point.clone();
                    next.push((p.path.clone(), v.clone()));
                    next
                })
            })
            .collect();
    }
    points
}

/// The `[sweep]` table of a scenario file: `"path" = [values]`.
pub fn from_file(file: &str, text: &str) -> Result<Vec<Parameter>, InputError> {
    let table: Table = text.parse().map_err(|e: toml::de::Error| InputError::new(file, e.message().to_string()))?;
    let Some(Value::Table(sweep)) = table.get("sweep") else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for (path, values) in sweep {
        let Value::Array(values) = values else {
            return Err(InputError {
                file: file.into(),
                location: None,
                key: Some(format!("sweep.{path}")),
                message: "a swept parameter takes an array of values, such as [2, 3, 4]".into(),
            });
        };
        let values = values.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), String::from)).collect();
        out.push(Parameter { path: path.clone(), values });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_reach_tables_arrays_by_name_and_index() {
        let mut t: Table =
            "strategies = [\"spread\"]\n[kubernetes]\n[[nodes]]\nname = \"a\"\ncount = 2\n[[nodes]]\nname = \"b\"\n"
                .parse()
                .unwrap();
        set(&mut t, "nodes.b.count", "5").unwrap();
        set(&mut t, "nodes.0.cpu", "0.5").unwrap();
        set(&mut t, "kubernetes.eviction_toleration", "60s").unwrap();
        set(&mut t, "strategies", "binpack").unwrap();
        set(&mut t, "node_defaults.repair.median", "4h").unwrap();
        assert_eq!(t["nodes"][1]["count"].as_integer(), Some(5));
        assert_eq!(t["nodes"][0]["cpu"].as_float(), Some(0.5));
        assert_eq!(t["kubernetes"]["eviction_toleration"].as_str(), Some("60s"));
        assert_eq!(t["strategies"].as_array().unwrap()[0].as_str(), Some("binpack"));
        assert_eq!(t["node_defaults"]["repair"]["median"].as_str(), Some("4h"));
        assert!(set(&mut t, "nodes.zzz.count", "1").unwrap_err().contains("no element"));
    }

    #[test]
    fn the_grid_is_the_cartesian_product() {
        let g = grid(&[
            Parameter { path: "a".into(), values: vec!["1".into(), "2".into()] },
            Parameter { path: "b".into(), values: vec!["x".into(), "y".into(), "z".into()] },
        ]);
        assert_eq!(g.len(), 6);
        assert_eq!(g[1], vec![("a".into(), "1".into()), ("b".into(), "y".into())]);
    }
}
