//! The plots of a run, drawn with plotters as PNG and SVG from the finished
//! results ([`ReportData`]), never from the engine. Text is drawn with the
//! DejaVu Sans font embedded in the binary, so PNGs have labels on machines
//! without fonts.

use super::data::{EventRow, ReportData};
use crate::error::Error;
use crate::metrics::TraceKind;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Once;

pub const WIDTH: u32 = 1024;
pub const HEIGHT: u32 = 640;
const FONT: &str = "sans-serif";
static REGISTER: Once = Once::new();

/// Embeds DejaVu Sans (Bitstream Vera license, assets/fonts) as the
/// sans-serif family of plotters' ab_glyph text renderer.
fn register_font() {
    REGISTER.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // The bundled file is a valid TrueType font.
            let _ = plotters::style::register_font(FONT, style, bytes);
        }
    });
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Categories sit at whole numbers of an `f64` axis running from -0.5 to
/// n - 0.5; a tick at a whole number gets its category's label. (plotters'
/// Histogram would do the layout, but it collects bars in a HashMap and so
/// draws them in a different order each run: the files would differ.)
fn category_label(value: f64, labels: &[String]) -> String {
    let i = value.round();
    if (value - i).abs() < 1e-6 && i >= 0.0 {
        labels.get(i as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

fn bar(i: usize, from: f64, to: f64, style: ShapeStyle) -> Rectangle<(f64, f64)> {
    Rectangle::new([(i as f64 - 0.38, from), (i as f64 + 0.38, to)], style)
}

const PALETTE: [RGBColor; 14] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 128),
    RGBColor(128, 128, 0),
    RGBColor(0, 128, 128),
    RGBColor(255, 215, 0),
];

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The width of the strip a side legend takes.
const LEGEND_WIDTH: u32 = 170;

/// How a legend entry shows its colour: a line (for lines), a box (for
/// bars).
#[derive(Clone, Copy)]
enum Swatch {
    Line,
    Box,
}

/// A legend drawn in its own area (a strip beside the plot), so it never
/// covers data: per entry a swatch and its label, or, for an entry without
/// a colour, a line of text (a heading, a note).
fn side_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Option<RGBColor>)],
    swatch: Swatch,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    for (k, (label, colour)) in entries.iter().enumerate() {
        let y = 40 + 20 * k as i32;
        let Some(colour) = colour else {
            if !label.is_empty() {
                area.draw(&Text::new(label.clone(), (8, y - 7), (FONT, 13)))?;
            }
            continue;
        };
        match swatch {
            Swatch::Line => area.draw(&PathElement::new(vec![(8, y), (28, y)], colour.stroke_width(2)))?,
            Swatch::Box => area.draw(&Rectangle::new([(8, y - 6), (28, y + 6)], colour.filled()))?,
        }
        area.draw(&Text::new(label.clone(), (34, y - 7), (FONT, 13)))?;
    }
    Ok(())
}

/// One colour per strategy, the same in every plot of every run: the
/// palette's entry at the strategy's place in `Strategy::ALL`; grey for a
/// label that is no strategy (a scenario in a comparison).
pub fn strategy_colour(name: &str) -> RGBColor {
    crate::placement::Strategy::parse(name)
        .and_then(|s| crate::placement::Strategy::ALL.iter().position(|&x| x == s))
        .map_or(RGBColor(96, 96, 96), color)
}

/// Under the strategy labels of bars grouped by class ([`by_class`]), the
/// class of each group, centred on it.
fn class_names<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &ChartContext<
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    rows: &[&super::data::ClassRow],
    bottom: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut start = 0;
    while start < rows.len() {
        let end = (start..rows.len()).find(|&i| rows[i].class != rows[start].class).unwrap_or(rows.len());
        let centre = (start + end - 1) as f64 / 2.0;
        let (x, y) = chart.backend_coord(&(centre, bottom));
        let style = TextStyle::from((FONT, 13).into_font()).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Top,
        ));
        area.draw(&Text::new(rows[start].class.to_string(), (x, y + 26), style))?;
        start = end;
    }
    Ok(())
}

/// The class rows without `all`, grouped by class (in class order) with
/// the strategies side by side, so a class is compared across strategies.
fn by_class(data: &ReportData) -> Vec<&super::data::ClassRow> {
    let rank = |label: &crate::results::Label| {
        crate::model::Class::ALL.iter().position(|&c| Some(c) == label.class()).unwrap_or(usize::MAX)
    };
    let mut rows: Vec<_> = data.classes.iter().filter(|r| r.class != crate::results::Label::All).collect();
    // Stable: the strategies keep the scenario's order within a class.
    rows.sort_by_key(|r| rank(&r.class));
    rows
}

/// Minutes per year on a log scale when the values span more than two
/// decades: values are plotted as log10 and the ticks labelled back.
struct Scale {
    log: bool,
}

impl Scale {
    const FLOOR: f64 = 0.01;

    fn for_values(values: impl Iterator<Item = f64>) -> Scale {
        let positive: Vec<f64> = values.filter(|v| *v > 0.0).collect();
        let (lo, hi) = positive.iter().fold((f64::MAX, 0.0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        Scale { log: !positive.is_empty() && hi / lo.max(Self::FLOOR) > 100.0 }
    }

    fn map(&self, v: f64) -> f64 {
        if self.log { v.max(Self::FLOOR).log10() } else { v }
    }

    fn label(&self, y: f64) -> String {
        let v = if self.log { 10f64.powf(y) } else { y };
        // Zero is drawn at the floor of a log axis: labelled as what it is.
        if self.log && y <= Self::FLOOR.log10() + 1e-9 {
            return "0".to_string();
        }
        if v >= 10.0 {
            format!("{v:.0}")
        } else if v >= 1.0 {
            format!("{v:.1}")
        } else {
            format!("{v:.2}")
        }
    }

    fn caption(&self, what: &str) -> String {
        if self.log { format!("{what} (log scale, 0 = none)") } else { what.to_string() }
    }
}

/// Grouped bars of mean downtime per class and strategy, with the 95%
/// confidence interval.
fn downtime_by_class<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, data: &ReportData) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let minutes_per_year = crate::time::MS_PER_YEAR as f64 / crate::time::MS_PER_MIN as f64;
    let rows = by_class(data);
    let bounds = |r: &super::data::ClassRow| {
        r.ci.map_or((r.downtime_min_per_year, r.downtime_min_per_year), |(lo, hi)| {
            ((1.0 - hi) * minutes_per_year, (1.0 - lo) * minutes_per_year)
        })
    };
    let scale = Scale::for_values(rows.iter().flat_map(|r| [r.downtime_min_per_year, bounds(r).1]));
    let top =
        rows.iter().map(|r| scale.map(bounds(r).1.max(r.downtime_min_per_year))).fold(scale.map(1.0), f64::max) * 1.1;
    let bottom = if scale.log { scale.map(Scale::FLOOR) } else { 0.0 };
    let n = rows.len().max(1);
    let (plot, legend) = root.split_horizontally(root.dim_in_pixel().0.saturating_sub(LEGEND_WIDTH));
    let mut chart = ChartBuilder::on(&plot)
        .caption(format!("{}: downtime per class and strategy, 95% CI", data.scenario), (FONT, 24))
        .margin(16)
        .x_label_area_size(60)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..n as f64 - 0.5, bottom..top)?;
    let labels: Vec<String> = rows.iter().map(|r| r.strategy.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| category_label(*x, &labels))
        .x_label_style((FONT, 10))
        .y_desc(scale.caption("downtime, minutes per year"))
        .y_label_formatter(&|y| scale.label(*y))
        .axis_desc_style((FONT, 16))
        .draw()?;
    class_names(&plot, &chart, &rows, bottom)?;
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        bar(i, bottom, scale.map(r.downtime_min_per_year).max(bottom), strategy_colour(&r.strategy).filled())
    }))?;
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        let (lo, hi) = bounds(r);
        ErrorBar::new_vertical(
            i as f64,
            scale.map(lo).max(bottom),
            scale.map(r.downtime_min_per_year).max(bottom),
            scale.map(hi).max(bottom),
            BLACK.stroke_width(2),
            12,
        )
    }))?;
    let entries: Vec<(String, Option<RGBColor>)> =
        data.strategies.iter().map(|name| (name.clone(), Some(strategy_colour(name)))).collect();
    side_legend(&legend, &entries, Swatch::Line)?;
    root.present()?;
    Ok(())
}

/// The distribution across replications of each class's yearly downtime
/// (an empirical CDF): the tail a planner fears. One panel per class, one
/// line per strategy in its colour; a strategy whose curve equals an
/// earlier one's is drawn thinner on top and says so in the legend.
fn downtime_cdf<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, data: &ReportData) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let classes: Vec<&str> = crate::model::Class::ALL
        .iter()
        .map(|c| c.name())
        .filter(|c| data.replication_downtime.keys().any(|(_, class)| class == c))
        .collect();
    let sorted = |strategy: &str, class: &str| {
        let mut v =
            data.replication_downtime.get(&(strategy.to_string(), class.to_string())).cloned().unwrap_or_default();
        v.sort_by(f64::total_cmp);
        v
    };
    let scale = Scale::for_values(data.replication_downtime.values().flatten().copied());
    let (caption, body) = root.split_vertically(40);
    caption
        .titled(&format!("{}: yearly downtime across {} replications", data.scenario, data.replications), (FONT, 22))?;
    let panels = body.split_evenly((classes.len().max(1), 1));
    for (class, panel) in classes.iter().zip(panels.iter()) {
        let series: Vec<(&str, Vec<f64>)> = data.strategies.iter().map(|s| (s.as_str(), sorted(s, class))).collect();
        let left = if scale.log { scale.map(Scale::FLOOR) } else { 0.0 };
        let right =
            series.iter().flat_map(|(_, v)| v.last().copied()).map(|v| scale.map(v)).fold(scale.map(1.0), f64::max)
                * 1.05;
        let (plot, legend) = panel.split_horizontally(panel.dim_in_pixel().0.saturating_sub(LEGEND_WIDTH));
        let mut chart = ChartBuilder::on(&plot)
            .caption(*class, (FONT, 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(left..right, 0f64..1.0)?;
        chart
            .configure_mesh()
            .x_desc(scale.caption("downtime, minutes per year"))
            .x_label_formatter(&|x| scale.label(*x))
            .y_desc("share at or below")
            .axis_desc_style((FONT, 13))
            .label_style((FONT, 11))
            .draw()?;
        let mut entries = Vec::new();
        for (k, (strategy, values)) in series.iter().enumerate() {
            let same_as = series[..k].iter().find(|(_, earlier)| earlier == values).map(|(s, _)| *s);
            let n = values.len().max(1) as f64;
            let points: Vec<(f64, f64)> =
                values.iter().enumerate().map(|(i, &v)| (scale.map(v).max(left), (i + 1) as f64 / n)).collect();
            let colour = strategy_colour(strategy);
            // Earlier strategies wider, so an equal curve drawn later shows inside.
            let width = 2 + 2 * (series.len() - 1 - k) as u32;
            chart.draw_series(LineSeries::new(points, colour.stroke_width(width)))?;
            let label = match same_as {
                Some(s) => format!("{strategy} (= {s})"),
                None => strategy.to_string(),
            };
            entries.push((label, Some(colour)));
        }
        side_legend(&legend, &entries, Swatch::Line)?;
    }
    root.present()?;
    Ok(())
}

/// Stacked bars: downtime by cause for each class and strategy.
fn downtime_by_cause<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, data: &ReportData) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let rows = by_class(data);
    let causes: Vec<String> =
        rows.first().map(|r| r.causes.iter().map(|(c, _)| c.clone()).collect()).unwrap_or_default();
    let used: Vec<usize> =
        (0..causes.len()).filter(|&c| rows.iter().any(|r| r.causes.get(c).is_some_and(|(_, v)| *v > 0.0))).collect();
    let top = rows.iter().map(|r| r.causes.iter().map(|(_, v)| v).sum::<f64>()).fold(1.0, f64::max) * 1.1;
    let n = rows.len().max(1);
    let (plot, legend) = root.split_horizontally(root.dim_in_pixel().0.saturating_sub(LEGEND_WIDTH));
    let mut chart = ChartBuilder::on(&plot)
        .caption(format!("{}: downtime by cause", data.scenario), (FONT, 24))
        .margin(16)
        .x_label_area_size(60)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..n as f64 - 0.5, 0f64..top)?;
    let labels: Vec<String> = rows.iter().map(|r| r.strategy.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| category_label(*x, &labels))
        .x_label_style((FONT, 10))
        .y_desc("downtime, minutes per app and year")
        .axis_desc_style((FONT, 16))
        .draw()?;
    class_names(&plot, &chart, &rows, 0.0)?;
    for (i, r) in rows.iter().enumerate() {
        let mut base = 0.0;
        for &c in &used {
            let v = r.causes[c].1;
            if v > 0.0 {
                chart.draw_series(std::iter::once(bar(i, base, base + v, color(c).filled())))?;
                base += v;
            }
        }
    }
    let entries: Vec<(String, Option<RGBColor>)> = used.iter().map(|&c| (causes[c].clone(), Some(color(c)))).collect();
    side_legend(&legend, &entries, Swatch::Line)?;
    root.present()?;
    Ok(())
}

/// The colours of the timeline's outages of the infrastructure, none of
/// them a strategy's (the apps' outages are drawn in their strategy's).
pub const NODE_DOWN: RGBColor = RGBColor(120, 0, 0);
pub const DOMAIN_DOWN: RGBColor = RGBColor(75, 0, 130);
pub const MAINTENANCE: RGBColor = RGBColor(218, 165, 32);

/// The timeline's legend strip: wider than [`LEGEND_WIDTH`] for its notes.
pub const TIMELINE_LEGEND_WIDTH: u32 = 200;

/// Each subject's spans between an opening and a closing kind (a span still
/// open at the end runs to `horizon_ms`). `subject` picks the column that
/// names the row; a second opening while open is the same span (a scripted
/// failure of what is already down is ignored).
fn spans(
    events: &[&EventRow],
    (open, close): (TraceKind, TraceKind),
    subject: fn(&EventRow) -> &str,
    horizon_ms: u64,
) -> BTreeMap<String, Vec<(u64, u64)>> {
    let mut opened: BTreeMap<String, u64> = BTreeMap::new();
    let mut out: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
    for e in events {
        let name = subject(e);
        if name.is_empty() {
            continue;
        }
        // A kind this build does not know opens and closes nothing.
        let kind = e.kind.parse::<TraceKind>().ok();
        if kind == Some(open) {
            opened.entry(name.to_string()).or_insert(e.time_ms);
        } else if kind == Some(close)
            && let Some(from) = opened.remove(name)
        {
            out.entry(name.to_string()).or_default().push((from, e.time_ms));
        }
    }
    for (name, from) in opened {
        out.entry(name).or_default().push((from, horizon_ms));
    }
    out
}

/// One row of the timeline: its label and its bars (colour, lane, from and
/// to in ms), a bar in lane `lane` of the row's `lanes` (top first).
struct TimelineRow {
    label: String,
    lanes: usize,
    bars: Vec<(RGBColor, usize, u64, u64)>,
}

/// The timeline's rows from typed events alone (kinds and subject columns,
/// never a detail), in three sections: a row per failure domain that went
/// down, a row per node with its own outages and its maintenance windows,
/// a row per app with a lane per strategy. Nodes, domains and maintenance
/// are read from the first strategy's events: node and domain outages are
/// the same under every strategy (common random numbers); maintenance
/// windows may move with the drains, and the legend says whose they are.
fn timeline_rows(events: &[EventRow], strategies: &[String], horizon_ms: u64) -> Vec<Section> {
    let of = |s: &str| events.iter().filter(|e| e.strategy == s).collect::<Vec<_>>();
    let first = of(strategies.first().map_or("", String::as_str));
    let domains = spans(&first, (TraceKind::DomainFail, TraceKind::DomainRepair), |e| &e.domain, horizon_ms);
    let nodes = spans(&first, (TraceKind::NodeFail, TraceKind::NodeRepair), |e| &e.node, horizon_ms);
    let maintenance = spans(&first, (TraceKind::MaintenanceStart, TraceKind::MaintenanceEnd), |e| &e.node, horizon_ms);
    let apps: Vec<_> = strategies
        .iter()
        .map(|s| spans(&of(s), (TraceKind::AppDown, TraceKind::AppUp), |e| &e.app, horizon_ms))
        .collect();

    fn by_name(mut names: Vec<&String>) -> Vec<&String> {
        names.sort_by(|a, b| crate::model::order::natural_cmp(a, b));
        names.dedup();
        names
    }
    fn bars(
        spans: Option<&Vec<(u64, u64)>>,
        colour: RGBColor,
        lane: usize,
    ) -> impl Iterator<Item = (RGBColor, usize, u64, u64)> + '_ {
        spans.into_iter().flatten().map(move |&(from, to)| (colour, lane, from, to))
    }
    let domain_rows = by_name(domains.keys().collect())
        .into_iter()
        .map(|name| TimelineRow {
            label: format!("domain {name}"),
            lanes: 1,
            bars: bars(domains.get(name), DOMAIN_DOWN, 0).collect(),
        })
        .collect();
    let node_rows = by_name(nodes.keys().chain(maintenance.keys()).collect())
        .into_iter()
        .map(|name| TimelineRow {
            label: format!("node {name}"),
            lanes: 1,
            bars: bars(nodes.get(name), NODE_DOWN, 0).chain(bars(maintenance.get(name), MAINTENANCE, 0)).collect(),
        })
        .collect();
    let app_rows = by_name(apps.iter().flat_map(|a| a.keys()).collect())
        .into_iter()
        .map(|name| TimelineRow {
            label: format!("app {name}"),
            lanes: strategies.len().max(1),
            bars: apps
                .iter()
                .enumerate()
                .flat_map(|(lane, a)| bars(a.get(name), strategy_colour(&strategies[lane]), lane))
                .collect(),
        })
        .collect();
    vec![
        Section::longest_down("domains", domain_rows, 6),
        Section::longest_down("nodes", node_rows, 10),
        Section::longest_down("apps", app_rows, 14),
    ]
}

/// One section of the timeline (domains, nodes or apps): its rows, and how
/// many of its subjects were down at all.
struct Section {
    what: &'static str,
    rows: Vec<TimelineRow>,
    down: usize,
}

impl Section {
    /// Of `rows` (in name order), the `most` down the longest (ties by
    /// name), kept in name order, so that every row stays readable.
    fn longest_down(what: &'static str, rows: Vec<TimelineRow>, most: usize) -> Section {
        let down = rows.len();
        let length = |row: &TimelineRow| row.bars.iter().map(|&(_, _, from, to)| to - from).sum::<u64>();
        let mut keep: Vec<usize> = (0..rows.len()).collect();
        keep.sort_by_key(|&i| std::cmp::Reverse(length(&rows[i])));
        keep.truncate(most);
        keep.sort_unstable();
        let rows = rows.into_iter().enumerate().filter(|(i, _)| keep.contains(i)).map(|(_, row)| row).collect();
        Section { what, rows, down }
    }
}

/// The traced replication (events.csv) over time: the outages of failure
/// domains, nodes and apps and the maintenance windows, from typed events
/// ([`timeline_rows`]); the legend in its own strip at the right.
fn timeline<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, data: &ReportData) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let Some(trace) = &data.trace else { return Ok(()) };
    let sections = timeline_rows(&trace.events, &data.strategies, data.horizon_ms);
    let rows: Vec<&TimelineRow> = sections.iter().flat_map(|s| &s.rows).collect();
    let (caption, body) = root.split_vertically(40);
    caption.titled(&format!("{}: replication {}, outages over time", data.scenario, trace.replication), (FONT, 20))?;
    let (plot, legend) = body.split_horizontally(body.dim_in_pixel().0.saturating_sub(TIMELINE_LEGEND_WIDTH));
    // The time axis in the unit that suits the horizon.
    let (unit, unit_ms) = [("years", crate::time::MS_PER_YEAR), ("days", crate::time::MS_PER_DAY)]
        .into_iter()
        .find(|&(_, ms)| data.horizon_ms >= 2 * ms)
        .unwrap_or(("hours", crate::time::MS_PER_H));
    let at = |ms: u64| ms as f64 / unit_ms as f64;
    let n = rows.len().max(1);
    // Top row first: row i sits at n - 1 - i on the axis.
    let labels: Vec<String> = rows.iter().rev().map(|r| r.label.clone()).collect();
    let right = at(data.horizon_ms).max(f64::MIN_POSITIVE);
    let mut chart = ChartBuilder::on(&plot)
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(160)
        .build_cartesian_2d(0f64..right, -0.5..n as f64 - 0.5)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| category_label(*y, &labels))
        .x_desc(format!("time, {unit}"))
        .axis_desc_style((FONT, 16))
        .label_style((FONT, 12))
        .draw()?;
    // Outages are short next to the horizon: each is at least a pixel wide.
    let min_width = right / f64::from(plot.dim_in_pixel().0.max(1));
    chart.draw_series(rows.iter().enumerate().flat_map(|(i, row)| {
        let y = (n - 1 - i) as f64;
        let lane_height = 0.8 / row.lanes as f64;
        row.bars.iter().map(move |&(colour, lane, from, to)| {
            let top = y + 0.4 - lane as f64 * lane_height;
            let (from, to) = (at(from), at(to));
            Rectangle::new([(from, top), (to.max(from + min_width), top - lane_height)], colour.filled())
        })
    }))?;
    let text = |line: String| (line, None);
    let mut entries: Vec<(String, Option<RGBColor>)> = vec![
        ("domain down".into(), Some(DOMAIN_DOWN)),
        ("node down".into(), Some(NODE_DOWN)),
        ("maintenance".into(), Some(MAINTENANCE)),
        text(String::new()),
        text("apps down, a lane per".into()),
        text("strategy, top to bottom:".into()),
    ];
    entries.extend(data.strategies.iter().map(|s| (s.clone(), Some(strategy_colour(s)))));
    let planned = rows.iter().any(|r| r.bars.iter().any(|&(colour, ..)| colour == MAINTENANCE));
    if let ([first, _, ..], true) = (data.strategies.as_slice(), planned) {
        entries.extend([text(String::new()), text("maintenance as under".into()), text(first.clone())]);
    }
    for section in sections.iter().filter(|s| s.rows.len() < s.down) {
        entries.extend([
            text(String::new()),
            text(format!("{} of {} {} down:", section.rows.len(), section.down, section.what)),
            text("those down the longest".into()),
        ]);
    }
    side_legend(&legend, &entries, Swatch::Box)?;
    root.present()?;
    Ok(())
}

type Plot = fn(&ReportData) -> bool;

/// The plots: file stem, whether the data has what it needs.
const PLOTS: [(&str, Plot); 4] = [
    ("downtime_by_class", |_| true),
    ("downtime_cdf", |_| true),
    ("downtime_by_cause", |_| true),
    ("timeline", |d| d.trace.is_some()),
];

fn draw_one<DB: DrawingBackend>(name: &str, root: &DrawingArea<DB, Shift>, data: &ReportData) -> DrawResult
where
    DB::ErrorType: 'static,
{
    match name {
        "downtime_by_class" => downtime_by_class(root, data),
        "downtime_cdf" => downtime_cdf(root, data),
        "downtime_by_cause" => downtime_by_cause(root, data),
        _ => timeline(root, data),
    }
}

/// Draws every plot the data allows into `dir` as PNG and SVG, each through
/// a temporary file and a rename; returns the file names written.
pub fn write_all(dir: &Path, data: &ReportData) -> Result<Vec<String>, Error> {
    let mut written = Vec::new();
    for (name, available) in PLOTS {
        if available(data) {
            written.extend(write_png_and_svg(dir, name, |r| draw_one(name, r, data), |r| draw_one(name, r, data))?);
        }
    }
    Ok(written)
}

/// Draws one plot as `stem.png` and `stem.svg` in `dir`, each through a
/// temporary file and a rename. plotters' backends are distinct types, so
/// the caller passes the same drawing for each.
fn write_png_and_svg(
    dir: &Path,
    stem: &str,
    png: impl FnOnce(&DrawingArea<BitMapBackend, Shift>) -> DrawResult,
    svg: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> DrawResult,
) -> Result<Vec<String>, Error> {
    register_font();
    let temporary = |file: &str| -> PathBuf { dir.join(format!(".{file}.tmp-{}", std::process::id())) };
    let finish = |file: String, tmp: PathBuf, result: DrawResult| -> Result<String, Error> {
        result.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::Internal(format!("plot {file}: {e}"))
        })?;
        std::fs::rename(&tmp, dir.join(&file)).map_err(|source| Error::Io { path: dir.join(&file), source })?;
        Ok(file)
    };
    let file = format!("{stem}.png");
    // The bitmap backend picks its encoder from the extension.
    let tmp = temporary(&file).with_extension("png");
    let result = png(&BitMapBackend::new(&tmp, (WIDTH, HEIGHT)).into_drawing_area());
    let png_file = finish(file, tmp, result)?;
    let file = format!("{stem}.svg");
    let tmp = temporary(&file);
    let result = svg(&SVGBackend::new(&tmp, (WIDTH, HEIGHT)).into_drawing_area());
    Ok(vec![png_file, finish(file, tmp, result)?])
}

/// Availability of each class (first strategy) at each grid point of a
/// sweep, with the target line; written as sweep.png and sweep.svg.
pub fn write_sweep(
    dir: &Path,
    title: &str,
    rows: &[crate::run::summary::SweepRow],
    target: Option<f64>,
) -> Result<Vec<String>, Error> {
    write_png_and_svg(dir, "sweep", |r| draw_sweep(r, title, rows, target), |r| draw_sweep(r, title, rows, target))
}

fn draw_sweep<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    rows: &[crate::run::summary::SweepRow],
    target: Option<f64>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let labels: Vec<String> =
        rows.iter().map(|(p, _)| p.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(", ")).collect();
    // One panel per class, one line per strategy in its own colour: the
    // same class compared across strategies.
    let mut classes: Vec<crate::results::Label> = Vec::new();
    let mut strategies: Vec<crate::placement::Strategy> = Vec::new();
    for (_, c) in rows {
        for r in c.iter().filter(|r| r.label != crate::results::Label::All) {
            if !classes.contains(&r.label) {
                classes.push(r.label.clone());
            }
            if !strategies.contains(&r.strategy) {
                strategies.push(r.strategy);
            }
        }
    }
    let (caption, body) = root.split_vertically(40);
    caption.titled(&format!("{title}: availability against the swept parameters"), (FONT, 22))?;
    let panels = body.split_evenly((classes.len().max(1), 1));
    let n = rows.len().max(1);
    for (class, panel) in classes.iter().zip(panels.iter()) {
        let values = rows
            .iter()
            .flat_map(|(_, c)| {
                c.iter().filter(|r| &r.label == class).flat_map(|r| {
                    let (lo, hi) = r.availability_ci.unwrap_or((r.availability, r.availability));
                    [lo * 100.0, hi * 100.0]
                })
            })
            .chain(target.map(|t| t * 100.0));
        let (lo, hi) = values.fold((100.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let pad = ((hi - lo) * 0.15).max(1e-4);
        // The legend has its own strip at the right, clear of the data.
        let (plot, legend) = panel.split_horizontally(panel.dim_in_pixel().0.saturating_sub(LEGEND_WIDTH));
        let mut chart = ChartBuilder::on(&plot)
            .caption(class.name(), (FONT, 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5..n as f64 - 0.5, (lo - pad)..(hi + pad).min(100.0 + pad))?;
        chart
            .configure_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| category_label(*x, &labels))
            .y_desc("availability, %")
            .y_label_formatter(&|y| format!("{y:.4}"))
            .axis_desc_style((FONT, 14))
            .label_style((FONT, 12))
            .draw()?;
        // Strategies side by side at each point, so equal figures stay visible.
        let offset = |k: usize| (k as f64 - (strategies.len() as f64 - 1.0) / 2.0) * 0.06;
        for (k, &strategy) in strategies.iter().enumerate() {
            let colour = strategy_colour(strategy.name());
            let points: Vec<(f64, &crate::run::summary::Row)> = rows
                .iter()
                .enumerate()
                .filter_map(|(i, (_, c))| {
                    c.iter().find(|r| r.strategy == strategy && &r.label == class).map(|r| (i as f64 + offset(k), r))
                })
                .collect();
            chart.draw_series(LineSeries::new(
                points.iter().map(|(x, r)| (*x, r.availability * 100.0)),
                colour.stroke_width(2),
            ))?;
            chart.draw_series(points.iter().map(|(x, r)| {
                let (lo, hi) = r.availability_ci.unwrap_or((r.availability, r.availability));
                ErrorBar::new_vertical(*x, lo * 100.0, r.availability * 100.0, hi * 100.0, colour.stroke_width(1), 8)
            }))?;
        }
        if let Some(t) = target {
            chart.draw_series(LineSeries::new(
                vec![(-0.5, t * 100.0), (n as f64 - 0.5, t * 100.0)],
                BLACK.stroke_width(1),
            ))?;
        }
        let mut entries: Vec<(String, Option<RGBColor>)> =
            strategies.iter().map(|s| (s.name().to_string(), Some(strategy_colour(s.name())))).collect();
        entries.extend(target.map(|t| (format!("target {:.3}%", t * 100.0), Some(BLACK))));
        side_legend(&legend, &entries, Swatch::Line)?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{EventRow, spans};
    use crate::metrics::TraceKind;

    fn event(time_ms: u64, kind: &str, node: &str) -> EventRow {
        EventRow { strategy: "spread".into(), time_ms, kind: kind.into(), node: node.into(), ..EventRow::default() }
    }

    #[test]
    fn spans_run_from_each_opening_to_its_closing_or_the_horizon() {
        let events = [
            event(10, "node-fail", "a"),
            // A scripted failure of a node already down: the same outage.
            event(15, "node-fail", "a"),
            event(20, "node-repair", "a"),
            // A repair without a failure (none in a trace) opens nothing.
            event(25, "node-repair", "b"),
            event(30, "node-fail", "b"),
            event(35, "taint", "a"),
            event(40, "node-fail", ""),
        ];
        let refs: Vec<&EventRow> = events.iter().collect();
        let got = spans(&refs, (TraceKind::NodeFail, TraceKind::NodeRepair), |e| &e.node, 100);
        let expected = [("a".to_string(), vec![(10, 20)]), ("b".to_string(), vec![(30, 100)])];
        assert_eq!(got.into_iter().collect::<Vec<_>>(), expected);
    }
}
