//! One survey across campaigns: x is the campaign in date order, y the index on 0–100, one
//! line per series (overall, or an area) with each point's 95% interval as a whisker.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::draw::{self, Area, MUTED};
use super::{Chart, ChartError, Spec as Kind};
use crate::rating::stats::Interval;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrendPoint {
    pub value: f64,
    pub interval: Option<Interval>,
}

/// One line: a point per campaign, `None` where that campaign has no figure.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendSeries {
    pub label: String,
    pub points: Vec<Option<TrendPoint>>,
}

#[derive(Clone, Debug)]
pub struct Spec {
    subtitle: String,
    campaigns: Vec<(String, u64)>,
    series: Vec<TrendSeries>,
}

const WIDTH: u32 = 860;
const HEIGHT: u32 = 460;

/// `campaigns`: each campaign's label and its number of answers, in date order.
pub fn trend(
    id: &str,
    title: &str,
    subtitle: &str,
    campaigns: Vec<(String, u64)>,
    series: Vec<TrendSeries>,
) -> Chart {
    Chart::new(
        id,
        title,
        Kind::Trend(Spec {
            subtitle: subtitle.to_owned(),
            campaigns,
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
            "按调查活动时间先后排列；竖线为 95% 区间，横轴下为答卷数 n".to_owned()
        } else {
            self.subtitle.clone()
        };
        let top = draw::header(root, title, &subtitle, WIDTH)?;
        let (left, right) = (70, WIDTH as i32 - 30);
        let (plot_top, plot_bottom) = (top + 16, HEIGHT as i32 - 110);
        let floor = draw::axis_floor(self.series.iter().flat_map(|series| {
            series.points.iter().flatten().flat_map(|point| {
                std::iter::once(point.value).chain(point.interval.map(|interval| interval.low))
            })
        }));
        let to_y = |value: f64| {
            let t = ((value - floor) / (100.0 - floor)).clamp(0.0, 1.0);
            plot_bottom - (f64::from(plot_bottom - plot_top) * t).round() as i32
        };
        let k = self.campaigns.len().max(1);
        let slot = f64::from(right - left) / k as f64;
        let to_x = |index: usize| left + (slot * (index as f64 + 0.5)).round() as i32;

        let mut tick = floor;
        while tick <= 100.0 + 1e-9 {
            let y = to_y(tick);
            draw::line(root, (left, y), (right, y), draw::GRID.stroke_width(1))?;
            draw::text(
                root,
                &format!("{tick:.0}"),
                (left - 6, y),
                &draw::font(11.0).color(&MUTED),
                HPos::Right,
                VPos::Center,
            )?;
            tick += 10.0;
        }
        draw::line(
            root,
            (left, plot_top),
            (left, plot_bottom),
            draw::AXIS.stroke_width(1),
        )?;
        draw::line(
            root,
            (left, plot_bottom),
            (right, plot_bottom),
            draw::AXIS.stroke_width(1),
        )?;
        root.draw(&Text::new(
            "满意度指数（0–100）",
            (18, (plot_top + plot_bottom) / 2),
            draw::font(12.0).transform(FontTransform::Rotate270).pos(
                plotters::style::text_anchor::Pos::new(HPos::Center, VPos::Center),
            ),
        ))
        .map_err(super::draw_error)?;
        for (index, (label, n)) in self.campaigns.iter().enumerate() {
            let x = to_x(index);
            draw::text(
                root,
                &draw::fit(label, 11.0, slot - 6.0),
                (x, plot_bottom + 6),
                &draw::font(11.0),
                HPos::Center,
                VPos::Top,
            )?;
            draw::text(
                root,
                &format!("n = {n}"),
                (x, plot_bottom + 22),
                &draw::font(11.0).color(&MUTED),
                HPos::Center,
                VPos::Top,
            )?;
        }
        draw::text(
            root,
            "调查活动（按时间）",
            ((left + right) / 2, plot_bottom + 42),
            &draw::font(12.0),
            HPos::Center,
            VPos::Top,
        )?;

        let series_count = self.series.len().max(1) as f64;
        for (index, series) in self.series.iter().enumerate() {
            let style = draw::series(index);
            // Series side by side within a slot, so that whiskers do not hide each other.
            let offset = ((index as f64 - (series_count - 1.0) / 2.0) * 8.0).round() as i32;
            let position = |campaign: usize, value: f64| (to_x(campaign) + offset, to_y(value));
            let mut previous: Option<(i32, i32)> = None;
            for (campaign, point) in series.points.iter().enumerate().take(k) {
                let Some(point) = point else {
                    previous = None;
                    continue;
                };
                let here = position(campaign, point.value);
                if let Some(before) = previous {
                    draw::styled_line(root, before, here, style.color.stroke_width(2), style.dash)?;
                }
                previous = Some(here);
            }
            for (campaign, point) in series.points.iter().enumerate().take(k) {
                let Some(point) = point else { continue };
                let here = position(campaign, point.value);
                if let Some(interval) = point.interval {
                    let (y0, y1) = (to_y(interval.low), to_y(interval.high));
                    let whisker = style.color.stroke_width(1);
                    draw::line(root, (here.0, y0), (here.0, y1), whisker)?;
                    draw::line(root, (here.0 - 3, y0), (here.0 + 3, y0), whisker)?;
                    draw::line(root, (here.0 - 3, y1), (here.0 + 3, y1), whisker)?;
                }
                draw::marker(root, style.marker, here, 4, style.color)?;
                if self.series.len() == 1 {
                    draw::text(
                        root,
                        &draw::one_decimal(point.value),
                        (here.0 + 7, here.1),
                        &draw::font(11.0),
                        HPos::Left,
                        VPos::Center,
                    )?;
                }
            }
        }

        let mut x = 16;
        for (index, series) in self.series.iter().enumerate() {
            x = draw::legend_entry(
                root,
                (x, HEIGHT as i32 - 26),
                draw::series(index),
                &series.label,
            )?;
        }
        Ok(())
    }
}
