//! The answers to the questions of one section: one horizontal bar per question, stacked from
//! the scale's points, each labelled with its question and its n.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::draw::{self, Area, INK, MUTED};
use super::{Chart, ChartError, Spec as Kind};

/// One point of the scale, in the order the bars stack them (left to right).
#[derive(Clone, Debug, PartialEq)]
pub struct DistributionPoint {
    pub label: String,
    /// `None` for an option without a score (不清楚): drawn white, outlined.
    pub score: Option<f64>,
}

/// One question (or matrix row).
#[derive(Clone, Debug, PartialEq)]
pub struct DistributionBar {
    pub label: String,
    /// Answers to the question.
    pub n: u64,
    /// Answers per point, in the order of the points.
    pub counts: Vec<u64>,
}

#[derive(Clone, Debug)]
pub struct Spec {
    subtitle: String,
    points: Vec<DistributionPoint>,
    bars: Vec<DistributionBar>,
}

const WIDTH: u32 = 860;
const LABEL_WIDTH: i32 = 300;
const ROW: i32 = 30;
const TOP_EXTRA: i32 = 36;
const BOTTOM: i32 = 56;

/// Stacked bars of the points of a scale, one per question.
pub fn distribution(
    id: &str,
    title: &str,
    subtitle: &str,
    points: Vec<DistributionPoint>,
    bars: Vec<DistributionBar>,
) -> Chart {
    Chart::new(
        id,
        title,
        Kind::Distribution(Spec {
            subtitle: subtitle.to_owned(),
            points,
            bars,
        }),
    )
}

impl Spec {
    pub fn size(&self) -> (u32, u32) {
        let rows = self.bars.len().max(1) as u32;
        (
            WIDTH,
            62 + TOP_EXTRA as u32 + rows * ROW as u32 + BOTTOM as u32,
        )
    }

    /// The colour of each point: scored points from pale (lowest score) to dark (highest).
    fn colours(&self) -> Vec<Option<RGBColor>> {
        let mut scores: Vec<f64> = self.points.iter().filter_map(|p| p.score).collect();
        scores.sort_by(f64::total_cmp);
        scores.dedup();
        self.points
            .iter()
            .map(|point| {
                let score = point.score?;
                let rank = scores.iter().position(|s| *s == score).unwrap_or(0);
                let t = if scores.len() > 1 {
                    rank as f64 / (scores.len() - 1) as f64
                } else {
                    1.0
                };
                Some(draw::sequential(t))
            })
            .collect()
    }

    pub fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, title: &str) -> Result<(), ChartError> {
        let subtitle = if self.subtitle.is_empty() {
            "每条横条为一道题的答卷分布，右侧为答卷数 n".to_owned()
        } else {
            self.subtitle.clone()
        };
        let top = draw::header(root, title, &subtitle, WIDTH)?;
        let colours = self.colours();

        // Legend: one swatch per point.
        let mut x = 16;
        let legend_y = top + 8;
        for (point, colour) in self.points.iter().zip(&colours) {
            draw_swatch(root, (x, legend_y - 6), (x + 14, legend_y + 6), *colour)?;
            draw::text(
                root,
                &point.label,
                (x + 19, legend_y),
                &draw::font(12.0),
                HPos::Left,
                VPos::Center,
            )?;
            x += 19 + draw::width(&draw::clean(&point.label), 12.0) as i32 + 16;
        }

        let plot_left = LABEL_WIDTH + 24;
        let plot_right = WIDTH as i32 - 76;
        let plot_top = top + TOP_EXTRA;
        let plot_width = f64::from(plot_right - plot_left);
        let rows = self.bars.len().max(1) as i32;
        let plot_bottom = plot_top + rows * ROW;

        // Grid and axis: 0–100%.
        for step in 0..=5 {
            let x = plot_left + (plot_width * f64::from(step) / 5.0).round() as i32;
            draw::line(
                root,
                (x, plot_top),
                (x, plot_bottom),
                draw::GRID.stroke_width(1),
            )?;
            draw::text(
                root,
                &format!("{}%", step * 20),
                (x, plot_bottom + 6),
                &draw::font(11.0).color(&MUTED),
                HPos::Center,
                VPos::Top,
            )?;
        }
        draw::line(
            root,
            (plot_left, plot_bottom),
            (plot_right, plot_bottom),
            draw::AXIS.stroke_width(1),
        )?;
        draw::text(
            root,
            "占答卷的百分比",
            ((plot_left + plot_right) / 2, plot_bottom + 26),
            &draw::font(12.0),
            HPos::Center,
            VPos::Top,
        )?;

        if self.bars.is_empty() {
            draw::text(
                root,
                "暂无可显示的题目",
                ((plot_left + plot_right) / 2, plot_top + ROW / 2),
                &draw::font(13.0).color(&MUTED),
                HPos::Center,
                VPos::Center,
            )?;
        }
        for (row, bar) in self.bars.iter().enumerate() {
            let y0 = plot_top + row as i32 * ROW + 5;
            let y1 = y0 + ROW - 10;
            let middle = (y0 + y1) / 2;
            // The question in up to two lines.
            let lines = draw::wrap2(&bar.label, 11.5, f64::from(LABEL_WIDTH) - 16.0);
            let count = lines.len() as i32;
            for (index, line) in lines.iter().enumerate() {
                draw::text(
                    root,
                    line,
                    (16, middle + (2 * index as i32 - (count - 1)) * 7),
                    &draw::font(11.5),
                    HPos::Left,
                    VPos::Center,
                )?;
            }
            draw::text(
                root,
                &format!("n = {}", bar.n),
                (plot_right + 8, middle),
                &draw::font(12.0).color(&INK),
                HPos::Left,
                VPos::Center,
            )?;
            let total: u64 = bar.counts.iter().sum();
            if total == 0 {
                draw::text(
                    root,
                    "暂无答卷",
                    (plot_left + 6, middle),
                    &draw::font(12.0).color(&MUTED),
                    HPos::Left,
                    VPos::Center,
                )?;
                continue;
            }
            let mut done = 0u64;
            for (count, colour) in bar.counts.iter().zip(&colours) {
                if *count == 0 {
                    continue;
                }
                let x0 = plot_left + (plot_width * done as f64 / total as f64).round() as i32;
                done += count;
                let x1 = plot_left + (plot_width * done as f64 / total as f64).round() as i32;
                draw_swatch(root, (x0, y0), (x1, y1), *colour)?;
                let share = *count as f64 / total as f64 * 100.0;
                let label = format!("{share:.0}%");
                if f64::from(x1 - x0) >= draw::width(&label, 11.0) + 6.0 {
                    let ink = colour.map_or(INK, draw::text_on);
                    draw::text(
                        root,
                        &label,
                        ((x0 + x1) / 2, middle),
                        &draw::font(11.0).color(&ink),
                        HPos::Center,
                        VPos::Center,
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// A filled rectangle with a white edge (segments stay apart in grey print); an unscored point
/// is white with a grey outline.
fn draw_swatch<DB: DrawingBackend>(
    root: &Area<DB>,
    from: (i32, i32),
    to: (i32, i32),
    colour: Option<RGBColor>,
) -> Result<(), ChartError> {
    match colour {
        Some(colour) => {
            draw::rect(root, from, to, colour.filled())?;
            draw::rect(root, from, to, WHITE.stroke_width(1))
        }
        None => draw::rect(root, from, to, draw::HATCH.stroke_width(1)),
    }
}
