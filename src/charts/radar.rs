//! The areas of one school on a radar (0–100 from the centre out), optionally with the county
//! as a second polygon. An area without a figure is a gap in the polygon, never a zero.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::draw::{self, Area, MUTED};
use super::{Chart, ChartError, Spec as Kind};

/// One polygon: a value per axis, `None` where there is no figure.
#[derive(Clone, Debug, PartialEq)]
pub struct RadarSeries {
    pub label: String,
    pub n: u64,
    pub values: Vec<Option<f64>>,
}

#[derive(Clone, Debug)]
pub struct Spec {
    subtitle: String,
    axes: Vec<String>,
    series: Vec<RadarSeries>,
}

const WIDTH: u32 = 720;
const HEIGHT: u32 = 560;
const RADIUS: f64 = 185.0;

/// A radar of `axes` (such as the seven areas) with one polygon per series (at most four are
/// told apart).
pub fn radar(
    id: &str,
    title: &str,
    subtitle: &str,
    axes: Vec<String>,
    series: Vec<RadarSeries>,
) -> Chart {
    Chart::new(
        id,
        title,
        Kind::Radar(Spec {
            subtitle: subtitle.to_owned(),
            axes,
            series,
        }),
    )
}

impl Spec {
    pub fn size(&self) -> (u32, u32) {
        (WIDTH, HEIGHT)
    }

    pub fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, title: &str) -> Result<(), ChartError> {
        let subtitle = if self.subtitle.is_empty() {
            "指数 0–100，由中心向外；无数据的方面不画点".to_owned()
        } else {
            self.subtitle.clone()
        };
        let top = draw::header(root, title, &subtitle, WIDTH)?;
        let k = self.axes.len().max(3);
        let centre = (WIDTH as i32 / 2, top + 40 + RADIUS as i32);
        let at = |axis: usize, value: f64| {
            let angle =
                -std::f64::consts::FRAC_PI_2 + 2.0 * std::f64::consts::PI * axis as f64 / k as f64;
            let r = RADIUS * value.clamp(0.0, 100.0) / 100.0;
            (
                centre.0 + (r * angle.cos()).round() as i32,
                centre.1 + (r * angle.sin()).round() as i32,
            )
        };

        // Rings every 20, spokes, ring labels.
        for ring in 1..=5 {
            let value = f64::from(ring) * 20.0;
            let points: Vec<(i32, i32)> = (0..=k).map(|axis| at(axis % k, value)).collect();
            root.draw(&PathElement::new(points, draw::GRID.stroke_width(1)))
                .map_err(super::draw_error)?;
            if ring == 5 {
                continue;
            }
            let (x, y) = at(0, value);
            draw::text(
                root,
                &format!("{value:.0}"),
                (x - 4, y),
                &draw::font(10.0).color(&MUTED),
                HPos::Right,
                VPos::Center,
            )?;
        }
        for (axis, label) in self.axes.iter().enumerate() {
            draw::line(root, centre, at(axis, 100.0), draw::GRID.stroke_width(1))?;
            let (x, y) = at(axis, 110.0);
            let h = if x < centre.0 - 10 {
                HPos::Right
            } else if x > centre.0 + 10 {
                HPos::Left
            } else {
                HPos::Center
            };
            let v = if y < centre.1 - RADIUS as i32 / 2 {
                VPos::Bottom
            } else if y > centre.1 + RADIUS as i32 - 20 {
                VPos::Top
            } else {
                VPos::Center
            };
            let missing = self
                .series
                .iter()
                .all(|series| series.values.get(axis).copied().flatten().is_none());
            let shown = if missing {
                format!("{}（无数据）", draw::clean(label))
            } else {
                draw::clean(label).into_owned()
            };
            let style = if missing {
                draw::font(12.0).color(&MUTED)
            } else {
                draw::font(12.0)
            };
            draw::text(root, &draw::fit(&shown, 12.0, 200.0), (x, y), &style, h, v)?;
        }

        for (index, series) in self.series.iter().enumerate() {
            let style = draw::series(index);
            let value = |axis: usize| series.values.get(axis).copied().flatten();
            let complete = (0..self.axes.len()).all(|axis| value(axis).is_some());
            if complete && !self.axes.is_empty() {
                let points: Vec<(i32, i32)> = (0..self.axes.len())
                    .filter_map(|axis| Some(at(axis, value(axis)?)))
                    .collect();
                root.draw(&Polygon::new(points, style.color.mix(0.10).filled()))
                    .map_err(super::draw_error)?;
            }
            for axis in 0..self.axes.len() {
                let next = (axis + 1) % self.axes.len();
                if let (Some(a), Some(b)) = (value(axis), value(next))
                    && self.axes.len() > 1
                {
                    draw::styled_line(
                        root,
                        at(axis, a),
                        at(next, b),
                        style.color.stroke_width(2),
                        style.dash,
                    )?;
                }
            }
            for axis in 0..self.axes.len() {
                if let Some(v) = value(axis) {
                    let point = at(axis, v);
                    draw::marker(root, style.marker, point, 4, style.color)?;
                    if index == 0 {
                        draw::text(
                            root,
                            &draw::one_decimal(v),
                            (point.0 + 6, point.1 - 6),
                            &draw::font(11.0).color(&style.color),
                            HPos::Left,
                            VPos::Bottom,
                        )?;
                    }
                }
            }
        }

        // Legend with n.
        let mut x = 16;
        let y = HEIGHT as i32 - 24;
        for (index, series) in self.series.iter().enumerate() {
            let label = format!("{}（n = {}）", draw::clean(&series.label), series.n);
            x = draw::legend_entry(root, (x, y), draw::series(index), &label)?;
        }
        Ok(())
    }
}
