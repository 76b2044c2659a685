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

fn table(header: &[String], rows: &[Vec<String>], columns: &[&str]) -> String {
    let picked: Vec<usize> = columns.iter().filter_map(|c| header.iter().position(|h| h == c)).collect();
    let mut out = String::from("<table>\n<tr>");
    for &i in &picked {
        out += &format!("<th>{}</th>", escape(&header[i].replace('_', " ")));
    }
    out += "</tr>\n";
    for row in rows {
        out += "<tr>";
        for &i in &picked {
            out += &format!("<td>{}</td>", escape(row.get(i).map_or("", String::as_str)));
        }
        out += "</tr>\n";
    }
    out + "</table>\n"
}

/// The page; `plots` are (title, SVG text) in display order.
pub fn render(data: &ReportData, plots: &[(String, String)]) -> String {
    let mut out = String::new();
    out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    out += &format!("<title>clustersim: {}</title>\n", escape(&data.scenario));
    out += "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}\
            td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eee}\
            td:first-child,td:nth-child(2){text-align:left}figure{margin:1.5em 0}svg{max-width:100%;height:auto}\
            .warn{color:#8a4b00}</style>\n</head>\n<body>\n";
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
    out += "<h2>Availability per class</h2>\n";
    let header: Vec<String> = [
        "strategy",
        "class",
        "availability",
        "95% CI",
        "downtime min/yr",
        "p95",
        "p99",
        "outages/yr",
        "planned min/yr",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<String>> = data
        .classes
        .iter()
        .map(|r| {
            vec![
                r.strategy.clone(),
                r.class.clone(),
                format!("{:.5}%", r.availability * 100.0),
                r.ci.map_or("-".into(), |(lo, hi)| format!("{:.5}% .. {:.5}%", lo * 100.0, hi * 100.0)),
                format!("{:.2}", r.downtime_min_per_year),
                format!("{:.2}", r.p95),
                format!("{:.2}", r.p99),
                format!("{:.3}", r.outages_per_year),
                format!("{:.2}", r.planned),
            ]
        })
        .collect();
    let all: Vec<&str> = header.iter().map(String::as_str).collect();
    out += &table(&header, &rows, &all);
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
    out += "<h2>Apps</h2>\n";
    out += &table(
        &data.apps_table.0,
        &data.apps_table.1,
        &[
            "strategy",
            "app",
            "class",
            "availability",
            "downtime_min_per_year",
            "downtime_min_per_year_p95",
            "outages_per_year",
            "mean_outage_min",
            "planned_min_per_year",
        ],
    );
    if let Some((header, rows)) = &data.volumes_table {
        out += "<h2>Volumes</h2>\n";
        out += &table(
            header,
            rows,
            &[
                "strategy",
                "volume",
                "backend",
                "availability",
                "downtime_min_per_year",
                "reduced_redundancy_h_per_year",
                "data_loss_incidents_per_year",
                "data_loss_min_per_year",
                "split_brain_incidents_per_year",
            ],
        );
        let backend = header.iter().position(|h| h == "backend");
        if rows.iter().any(|r| backend.and_then(|i| r.get(i)).is_some_and(|b| b == "gluster")) {
            out += "<p>A split-brain incident is two Gluster bricks back together that each took writes the \
                other lacks: the files written on both sides need a manual heal. It is data at risk, not \
                downtime: the volume keeps serving.</p>\n";
        }
    }
    out += "</body>\n</html>\n";
    out
}
