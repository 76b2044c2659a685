//! The terminal table of a run: per strategy, the classes and then the apps.

use crate::run::summary::{Row, Summary, VolumeRow};

/// Availability as a percentage with enough decimals to tell the nines apart.
fn percent(a: f64) -> String {
    format!("{:.4}%", a * 100.0)
}

fn line(row: &Row, indent: &str) -> Vec<String> {
    vec![
        row.strategy.name().to_string(),
        format!("{indent}{}", row.label),
        percent(row.availability),
        row.availability_ci.map_or("-".to_string(), |(lo, hi)| format!("{} .. {}", percent(lo), percent(hi))),
        format!("{:.1}", row.downtime_min_per_year),
        format!("{:.1}", row.downtime_p95),
        format!("{:.2}", row.outages_per_year),
        row.mean_outage_min.map_or("-".to_string(), |m| format!("{m:.1}")),
    ]
}

/// Above this many apps, the table shows only the apps with the most
/// downtime under each strategy; apps.csv has them all.
pub const MAX_APP_ROWS: usize = 40;
const WORST_APP_ROWS: usize = 10;

/// Whether to colour the table: stdout is a terminal and `NO_COLOR` is not
/// set (no-color.org).
pub fn use_colour() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Green from four nines, yellow from three, red below; bold for classes.
fn paint(cell: &str, bold: bool) -> String {
    let availability: Option<f64> = cell.trim().strip_suffix('%').and_then(|v| v.parse().ok());
    let colour = match availability {
        Some(a) if a >= 99.99 => "32",
        Some(a) if a >= 99.9 => "33",
        Some(_) => "31",
        None => "0",
    };
    let weight = if bold { "1;" } else { "" };
    format!("\x1b[{weight}{colour}m{cell}\x1b[0m")
}

/// Renders the summary as an aligned plain-text table, with ANSI colours on
/// the availability column when `colour`.
pub fn render(summary: &Summary, colour: bool) -> String {
    let header: Vec<String> = [
        "strategy",
        "class / app",
        "availability",
        "95% CI",
        "down min/yr",
        "p95 min/yr",
        "outages/yr",
        "mean outage min",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut rows = vec![header];
    let strategies: Vec<_> = {
        let mut s: Vec<_> = summary.classes.iter().map(|r| r.strategy).collect();
        s.dedup();
        s
    };
    for strategy in strategies {
        rows.extend(summary.classes.iter().filter(|r| r.strategy == strategy).map(|r| line(r, "")));
        let mut apps: Vec<&Row> = summary.apps.iter().filter(|r| r.strategy == strategy).collect();
        if apps.len() > MAX_APP_ROWS {
            let hidden = apps.len() - WORST_APP_ROWS;
            apps.sort_by(|a, b| b.downtime_min_per_year.total_cmp(&a.downtime_min_per_year));
            apps.truncate(WORST_APP_ROWS);
            rows.extend(apps.iter().map(|r| line(r, "  ")));
            rows.push(vec![
                strategy.name().to_string(),
                format!("  ... and {hidden} apps with less downtime, in apps.csv"),
            ]);
        } else {
            rows.extend(apps.iter().map(|r| line(r, "  ")));
        }
    }
    // Note rows (two cells) are printed as they are and do not widen columns.
    let full = rows[0].len();
    let widths: Vec<usize> = (0..full)
        .map(|c| rows.iter().filter(|r| r.len() == full).map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    let mut previous_strategy = String::new();
    for (i, row) in rows.iter().enumerate() {
        if i > 1 && row[0] != previous_strategy {
            out.push('\n');
        }
        previous_strategy = row[0].clone();
        let mut cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(
                |(c, cell)| {
                    if c < 2 { format!("{cell:<w$}", w = widths[c]) } else { format!("{cell:>w$}", w = widths[c]) }
                },
            )
            .collect();
        if colour && i > 0 && row.len() == full {
            cells[2] = paint(&cells[2], !row[1].starts_with(' '));
        }
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Renders the volumes of a run: availability, redundancy and data loss.
pub fn render_volumes(volumes: &[VolumeRow]) -> String {
    let mut rows: Vec<Vec<String>> = vec![
        [
            "strategy",
            "volume",
            "backend",
            "availability",
            "95% CI",
            "down min/yr",
            "reduced h/yr",
            "data losses/yr",
            "writes lost min/yr",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    ];
    for v in volumes {
        rows.push(vec![
            v.strategy.name().to_string(),
            v.volume.clone(),
            v.backend.to_string(),
            percent(v.availability),
            v.availability_ci.map_or("-".to_string(), |(lo, hi)| format!("{} .. {}", percent(lo), percent(hi))),
            format!("{:.1}", v.downtime_min_per_year),
            format!("{:.1}", v.reduced_redundancy_h_per_year),
            format!("{:.3}", v.data_loss_incidents_per_year),
            format!("{:.1}", v.data_loss_min_per_year),
        ]);
    }
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(
                |(c, cell)| {
                    if c < 3 { format!("{cell:<w$}", w = widths[c]) } else { format!("{cell:>w$}", w = widths[c]) }
                },
            )
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Renders a comparison: each group's downtime under both runs, the paired
/// difference with its 95% interval, and whether it is significant.
pub fn render_compare(differences: &[crate::run::compare::Difference]) -> String {
    let mut out = String::new();
    let width = differences.iter().map(|d| d.group.name().chars().count()).max().unwrap_or(5).max(5);
    let mut pair = (String::new(), String::new());
    for d in differences {
        if (d.baseline.clone(), d.other.clone()) != pair {
            pair = (d.baseline.clone(), d.other.clone());
            out += &format!(
                "\n{} against {} (downtime, minutes per year; difference paired over replications)\n",
                d.other, d.baseline
            );
            out += &format!(
                "{:<width$}  {:>12}  {:>12}  {:>12}  {:>24}  significant\n",
                "group", "baseline", "other", "difference", "95% CI"
            );
        }
        let ci = d.ci.map_or("-".to_string(), |(lo, hi)| format!("{lo:.2} .. {hi:.2}"));
        out += &format!(
            "{:<width$}  {:>12.2}  {:>12.2}  {:>+12.2}  {:>24}  {}\n",
            d.group,
            d.baseline_min_per_year,
            d.other_min_per_year,
            d.difference_min_per_year,
            ci,
            if d.significant { "yes" } else { "no" }
        );
    }
    out
}
