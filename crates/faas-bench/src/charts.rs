//! The report's SVG charts, drawn with plotters' SVG backend.

use std::path::Path;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

pub type Err = Box<dyn std::error::Error>;

/// One bar: a contender's median and its spread (min, max).
#[derive(Clone, Debug)]
pub struct Bar {
    pub name: String,
    pub color: usize,
    pub median: f64,
    pub lo: f64,
    pub hi: f64,
}

/// One panel of horizontal bars.
pub struct Panel {
    pub title: String,
    pub unit: String,
    pub log: bool,
    pub bars: Vec<Bar>,
}

pub fn color(i: usize) -> RGBColor {
    // Colour-blind-safe (Okabe-Ito), one per contender across every chart.
    const C: [RGBColor; 9] = [
        RGBColor(0, 0, 0),
        RGBColor(153, 153, 153),
        RGBColor(0, 114, 178),
        RGBColor(86, 180, 233),
        RGBColor(0, 158, 115),
        RGBColor(0, 204, 153),
        RGBColor(213, 94, 0),
        RGBColor(230, 159, 0),
        RGBColor(204, 121, 167),
    ];
    C[i % C.len()]
}

/// Panels side by side (or stacked, `vertical`), under one title.
pub fn bars(path: &Path, title: &str, panels: &[Panel], vertical: bool) -> Result<(), Err> {
    let n = panels.iter().map(|p| p.bars.len()).max().unwrap_or(1).max(1);
    let ph = 70 + 26 * n as u32;
    let (w, h) = if vertical { (900, 40 + ph * panels.len() as u32) } else { (460 * panels.len() as u32, 40 + ph) };
    let root = SVGBackend::new(path, (w, h)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 20))?;
    let areas = if vertical { root.split_evenly((panels.len(), 1)) } else { root.split_evenly((1, panels.len())) };
    for (area, p) in areas.iter().zip(panels) {
        panel(area, p)?;
    }
    root.present()?;
    Ok(())
}

fn panel(area: &DrawingArea<SVGBackend, plotters::coord::Shift>, p: &Panel) -> Result<(), Err> {
    let bars: Vec<&Bar> = p.bars.iter().filter(|b| b.median.is_finite() && b.median > 0.0).collect();
    let n = bars.len().max(1) as i32;
    let names: Vec<String> = bars.iter().rev().map(|b| b.name.clone()).collect();
    let max = bars.iter().map(|b| b.hi.max(b.median)).fold(0.0f64, f64::max).max(1e-9);
    let min = bars.iter().map(|b| b.lo.min(b.median)).filter(|v| *v > 0.0).fold(f64::MAX, f64::min);
    let label_w = 8 * names.iter().map(String::len).max().unwrap_or(4) as u32 + 10;
    let mut b = ChartBuilder::on(area);
    b.caption(&p.title, ("sans-serif", 15)).margin(10).x_label_area_size(34).y_label_area_size(label_w.min(300));
    let fmt = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) => names.get(*i as usize).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    let at = |i: usize| n - 1 - i as i32;
    if p.log {
        // A panel with no bars (`--only` left none with a zip, say) still
        // needs lo < hi: plotters' log axis never ends its ticks otherwise.
        let min = if bars.is_empty() { 1.0 } else { min };
        let lo = 10f64.powf((min.max(1e-9)).log10().floor());
        let hi = 10f64.powf((max * 1.5).log10().ceil()).max(lo * 10.0);
        let mut c = b.build_cartesian_2d((lo..hi).log_scale(), (0..n).into_segmented())?;
        c.configure_mesh().disable_y_mesh().y_labels(n as usize).y_label_formatter(&fmt).x_label_formatter(&|v| si(*v)).x_desc(p.unit.as_str()).draw()?;
        c.draw_series(bars.iter().enumerate().map(|(i, bar)| {
            let mut r = Rectangle::new([(lo, SegmentValue::Exact(at(i))), (bar.median, SegmentValue::Exact(at(i) + 1))], color(bar.color).filled());
            r.set_margin(4, 4, 0, 0);
            r
        }))?;
        c.draw_series(
            bars.iter().enumerate().map(|(i, bar)| Text::new(format!(" {}", si(bar.median)), (bar.median, SegmentValue::CenterOf(at(i))), ("sans-serif", 12))),
        )?;
    } else {
        let mut c = b.build_cartesian_2d(0f64..max * 1.25, (0..n).into_segmented())?;
        c.configure_mesh().disable_y_mesh().y_labels(n as usize).y_label_formatter(&fmt).x_desc(p.unit.as_str()).draw()?;
        c.draw_series(bars.iter().enumerate().map(|(i, bar)| {
            let mut r = Rectangle::new([(0.0, SegmentValue::Exact(at(i))), (bar.median, SegmentValue::Exact(at(i) + 1))], color(bar.color).filled());
            r.set_margin(4, 4, 0, 0);
            r
        }))?;
        // The spread (min to max over the repeated runs) as a whisker.
        c.draw_series(
            bars.iter()
                .enumerate()
                .filter(|(_, b)| b.lo.is_finite() && b.hi > b.lo)
                .map(|(i, bar)| PathElement::new(vec![(bar.lo, SegmentValue::CenterOf(at(i))), (bar.hi, SegmentValue::CenterOf(at(i)))], RED.stroke_width(2))),
        )?;
        c.draw_series(
            bars.iter().enumerate().map(|(i, bar)| Text::new(format!(" {}", si(bar.median)), (bar.median, SegmentValue::Exact(at(i) + 1)), ("sans-serif", 12))),
        )?;
    }
    Ok(())
}

/// A short number for labels: 2.02M, 30.5k, 0.25.
pub fn si(v: f64) -> String {
    let (x, suffix) = if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    if x >= 100.0 || (suffix.is_empty() && x >= 10.0 && x.fract() == 0.0) {
        format!("{x:.0}{suffix}")
    } else if x >= 10.0 {
        format!("{x:.1}{suffix}")
    } else {
        format!("{x:.2}{suffix}")
    }
}

/// One line per contender: (x, y) points.
pub struct Line {
    pub name: String,
    pub color: usize,
    pub points: Vec<(f64, f64)>,
}

/// Lines on log-log axes with a legend on the right.
pub fn lines(path: &Path, title: &str, x_desc: &str, y_desc: &str, series: &[Line]) -> Result<(), Err> {
    let root = SVGBackend::new(path, (1000, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 20))?;
    let (left, right) = root.split_horizontally(700);
    let pts = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, 0f64, f64::MAX, 0f64);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x1 <= 0.0 {
        (x0, x1, y0, y1) = (1.0, 10.0, 1.0, 10.0);
    }
    let (y0, y1) = (10f64.powf(y0.max(1e-6).log10().floor()), 10f64.powf((y1 * 1.2).log10().ceil()));
    let mut c = ChartBuilder::on(&left)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((x0.max(1.0)..x1 * 1.2).log_scale(), (y0..y1).log_scale())?;
    c.configure_mesh().x_desc(x_desc).y_desc(y_desc).x_label_formatter(&|v| si(*v)).y_label_formatter(&|v| si(*v)).draw()?;
    for s in series {
        let col = color(s.color);
        c.draw_series(LineSeries::new(s.points.iter().copied(), col.stroke_width(2)))?;
        c.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, col.filled())))?;
    }
    for (i, s) in series.iter().enumerate() {
        let y = 30 + 24 * i as i32;
        right.draw(&Rectangle::new([(10, y), (34, y + 12)], color(s.color).filled()))?;
        right.draw(&Text::new(s.name.clone(), (42, y), ("sans-serif", 13)))?;
    }
    root.present()?;
    Ok(())
}
