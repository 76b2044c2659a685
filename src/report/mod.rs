//! Reports of a finished run: plots (PNG and SVG) and one self-contained
//! `report.html`, made from the result files alone.

pub mod data;
pub mod html;
pub mod plots;

pub use data::ReportData;

use crate::error::Error;
use crate::output::write_atomic;
use std::path::Path;

/// Titles of the plots, in the report's order.
const TITLES: [(&str, &str); 4] = [
    ("downtime_by_class", "Downtime per class and strategy, with 95% confidence intervals"),
    ("downtime_cdf", "Distribution of yearly downtime across replications"),
    ("downtime_by_cause", "Downtime by cause"),
    ("timeline", "The traced replication: domain, node, maintenance and app outages over time"),
];

/// Every file [`generate`] may write, whether or not the data allows it.
pub fn file_names() -> Vec<String> {
    let mut names: Vec<String> =
        TITLES.iter().flat_map(|(stem, _)| [format!("{stem}.png"), format!("{stem}.svg")]).collect();
    names.push("report.html".to_string());
    names
}

/// Draws the plots and writes report.html into `dir` from the result files
/// there; returns the names of the files written.
pub fn generate(dir: &Path) -> Result<Vec<String>, Error> {
    let data = ReportData::load(dir)?;
    let mut written = plots::write_all(dir, &data)?;
    let mut inline = Vec::new();
    for (stem, title) in TITLES {
        let file = format!("{stem}.svg");
        if written.contains(&file) {
            let path = dir.join(&file);
            let svg = std::fs::read_to_string(&path).map_err(|source| Error::Io { path, source })?;
            inline.push((title.to_string(), svg));
        }
    }
    write_atomic(dir, "report.html", html::render(&data, &inline).as_bytes())?;
    written.push("report.html".to_string());
    Ok(written)
}
