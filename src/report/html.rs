//! `report.html`: one self-contained page (plots inlined as SVG, tables,
//! the scenario, seed, version and warnings) that reads offline and can be
//! mailed to a colleague. No script, no external resource.

use super::data::ReportData;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `name` in backticks becomes `<code>name</code>`.
fn code_spans(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            out += &format!("<code>{part}</code>");
        } else {
            out += part;
        }
    }
    out
}

/// An outage's length in the unit that fits: `6.2 min`, `19.8 h`.
fn outage_words(minutes: f64) -> String {
    if minutes < 1.0 {
        format!("{:.0} s", minutes * 60.0)
    } else if minutes < 120.0 {
        format!("{minutes:.1} min")
    } else if minutes < 2880.0 {
        format!("{:.1} h", minutes / 60.0)
    } else {
        format!("{:.1} days", minutes / 1440.0)
    }
}

fn interval(ci: Option<(f64, f64)>) -> String {
    ci.map_or("-".into(), |(lo, hi)| format!("{:.5}% .. {:.5}%", lo * 100.0, hi * 100.0))
}

/// The largest causes of a row (minutes per year in `Cause::ALL` order),
/// with their shares: `no-node 99%, detection <1%`.
fn cause_breakdown(causes: &[(String, f64)]) -> String {
    let minutes: Vec<f64> = causes.iter().map(|(_, m)| *m).collect();
    let shown: Vec<String> =
        crate::run::verdict::shares(&minutes).iter().map(|s| format!("{} {}", s.cause, s.percent())).collect();
    if shown.is_empty() { "-".into() } else { shown.join(", ") }
}

/// A table from already formatted cells; the first two columns left-aligned.
fn cells_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table>\n<tr>");
    for h in header {
        out += &format!("<th>{}</th>", escape(h));
    }
    out += "</tr>\n";
    for row in rows {
        out += "<tr>";
        for cell in row {
            out += &format!("<td>{}</td>", escape(cell));
        }
        out += "</tr>\n";
    }
    out + "</table>\n"
}

/// The page, top-down: the verdict, the tables (classes, apps with their
/// causes, data loss, volumes, the comparison), the plots, the glossary of
/// causes and the scenario. `plots` are (title, SVG text) in display order.
pub fn render(data: &ReportData, plots: &[(String, String)]) -> String {
    use crate::run::verdict::{availability_words, downtime_words};
    let mut out = String::new();
    out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    out += &format!("<title>clustersim: {}</title>\n", escape(&data.scenario));
    out += "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}\
            td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;white-space:nowrap}th{background:#eee}\
            td:first-child,td:nth-child(2),td:last-child{text-align:left}td:last-child{white-space:normal}figure{margin:1.5em 0}svg{max-width:100%;height:auto}\
            .warn{color:#8a4b00}.verdict li{margin:0.3em 0}dt{font-weight:bold;margin-top:0.4em}</style>\n</head>\n<body>\n";
    out += &format!("<h1>{}</h1>\n", escape(&data.scenario));
    out += &format!(
        "<p>Scenario file <code>{}</code>; seed <b>{}</b>; {} replications of {}; clustersim {}.</p>\n",
        escape(&data.scenario_file),
        escape(&data.seed),
        data.replications,
        escape(&data.horizon),
        escape(&data.version)
    );
    if let Some(verdict) = &data.verdict {
        out += "<h2>Verdict</h2>\n<ul class=\"verdict\">\n";
        for sentence in verdict.sentences() {
            out += &format!("<li>{}</li>\n", code_spans(&escape(&sentence)));
        }
        out += "</ul>\n";
    }
    if !data.warnings.is_empty() {
        out += "<h2>Warnings</h2>\n<ul>\n";
        for w in &data.warnings {
            out += &format!("<li class=\"warn\">{}</li>\n", escape(w));
        }
        out += "</ul>\n";
    }

    // Classes: the columns that are zero everywhere are left out.
    out += "<h2>Availability per class</h2>\n";
    let planned = data.classes.iter().any(|r| r.planned > 0.0);
    let mut header = vec![
        "strategy",
        "class",
        "availability",
        "95% CI",
        "downtime",
        "p95 min/yr",
        "p99 min/yr",
        "outages/yr",
        "causes",
    ];
    if planned {
        header.push("planned min/yr");
    }
    let rows: Vec<Vec<String>> = data
        .classes
        .iter()
        .map(|r| {
            let mut row = vec![
                r.strategy.clone(),
                r.class.to_string(),
                availability_words(r.availability),
                interval(r.ci),
                downtime_words(r.downtime_min_per_year),
                format!("{:.2}", r.p95),
                format!("{:.2}", r.p99),
                format!("{:.3}", r.outages_per_year),
                cause_breakdown(&r.causes),
            ];
            if planned {
                row.push(format!("{:.2}", r.planned));
            }
            row
        })
        .collect();
    out += &cells_table(&header, &rows);

    // Apps, with their intervals and causes.
    out += "<h2>Apps</h2>\n";
    let rows: Vec<Vec<String>> = data
        .apps
        .iter()
        .map(|row| {
            let f = &row.figures;
            let ci = f.availability_ci_low.zip(f.availability_ci_high).map(|(lo, hi)| (lo.0, hi.0));
            let causes: Vec<(String, f64)> =
                crate::metrics::Cause::ALL.iter().map(|c| (c.name().to_string(), f.causes.0[c.index()].0)).collect();
            vec![
                row.strategy.clone(),
                row.app.clone(),
                row.class.clone(),
                availability_words(f.availability.0),
                interval(ci),
                downtime_words(f.downtime_min_per_year.0),
                format!("{:.3}", f.outages_per_year.0),
                f.mean_outage_min.map_or("-".to_string(), |m| outage_words(m.0)),
                cause_breakdown(&causes),
            ]
        })
        .collect();
    out += &cells_table(
        &["strategy", "app", "class", "availability", "95% CI", "downtime", "outages/yr", "mean outage", "causes"],
        &rows,
    );

    // Data loss, when any app lost writes.
    let lost: Vec<Vec<String>> = data
        .apps
        .iter()
        .filter(|row| row.figures.data_loss_incidents_per_year.0 > 0.0)
        .map(|row| {
            let f = &row.figures;
            vec![
                row.strategy.clone(),
                row.app.clone(),
                format!("{:.4}", f.data_loss_incidents_per_year.0),
                format!("{:.2}", f.data_loss_min_per_year.0),
                f.data_loss_min_per_incident.map_or(String::new(), |m| m.to_string()),
            ]
        })
        .collect();
    if !lost.is_empty() {
        out += "<h2>Data loss</h2>\n<p>Writes lost at a promotion of a replicated dataset (since its last snapshot) or a restore from backup.</p>\n";
        out += &cells_table(
            &["strategy", "app", "incidents/yr", "minutes of writes lost/yr", "minutes per incident"],
            &lost,
        );
    }
    if let Some(volumes) = &data.volumes {
        out += "<h2>Volumes</h2>\n";
        let rows: Vec<Vec<String>> = volumes
            .iter()
            .map(|v| {
                vec![
                    v.strategy.clone(),
                    v.volume.clone(),
                    v.backend.clone(),
                    v.availability.to_string(),
                    v.downtime_min_per_year.to_string(),
                    v.reduced_redundancy_h_per_year.to_string(),
                    v.data_loss_incidents_per_year.to_string(),
                    v.data_loss_min_per_year.to_string(),
                    v.split_brain_incidents_per_year.to_string(),
                ]
            })
            .collect();
        out += &cells_table(
            &[
                "strategy",
                "volume",
                "backend",
                "availability",
                "downtime min per year",
                "reduced redundancy h per year",
                "data loss incidents per year",
                "data loss min per year",
                "split brain incidents per year",
            ],
            &rows,
        );
        if volumes.iter().any(|v| v.backend == "gluster") {
            out += "<p>A split-brain incident is two Gluster bricks back together that each took writes the \
                other lacks: the files written on both sides need a manual heal. It is data at risk, not \
                downtime: the volume keeps serving.</p>\n";
        }
    }
    if let Some(verdict) = &data.verdict {
        let rows: Vec<Vec<String>> = verdict
            .groups
            .iter()
            .flat_map(|g| {
                g.others.iter().map(move |v| {
                    vec![
                        if g.kind == crate::results::GroupKind::App {
                            format!("app {}", g.name)
                        } else {
                            g.name.clone()
                        },
                        g.best.strategy.clone(),
                        v.figure.strategy.clone(),
                        format!("{:+.2}", v.difference_min_per_year),
                        v.ci.map_or("-".into(), |(lo, hi)| format!("{lo:+.2} .. {hi:+.2}")),
                        if v.significant { "yes".into() } else { "no".into() },
                    ]
                })
            })
            .collect();
        if !rows.is_empty() {
            out += "<h2>Comparison of strategies</h2>\n<p>Each other strategy against the best one, paired replication by replication (the same random streams): its extra downtime in minutes per year with the 95% interval; significant when the interval excludes zero.</p>\n";
            out += &cells_table(&["class or app", "best", "other", "more min/yr", "95% CI", "significant"], &rows);
        }
    }
    for (title, svg) in plots {
        out += &format!("<figure>\n<figcaption>{}</figcaption>\n", escape(title));
        // The SVG from plotters starts with an XML prolog in some versions;
        // inline only the <svg> element.
        let start = svg.find("<svg").unwrap_or(0);
        out += &svg[start..];
        out += "\n</figure>\n";
    }
    out += "<h2>Causes of downtime</h2>\n<dl>\n";
    for cause in crate::metrics::Cause::ALL {
        out += &format!("<dt><code>{}</code></dt><dd>{}</dd>\n", cause.name(), escape(cause.meaning()));
    }
    out += "</dl>\n";
    if !data.scenario_text.is_empty() {
        out += "<h2>Scenario</h2>\n<details><summary>the scenario file as run</summary>\n<pre>";
        out += &escape(&data.scenario_text);
        out += "</pre>\n</details>\n";
    }
    out += "</body>\n</html>\n";
    out
}
