//! Schools (or any groups) ranked by an index on 0–100, each with its 95% interval as a
//! whisker and its n; those with too few answers are listed below, not ranked.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::draw::{self, Area, INK, MUTED};
use super::{Chart, ChartError, Spec as Kind};
use crate::rating::stats::Interval;

/// One school.
#[derive(Clone, Debug, PartialEq)]
pub struct RankedItem {
    pub label: String,
    pub n: u64,
    /// `None`: no figure (shown with the schools not ranked).
    pub value: Option<f64>,
    pub interval: Option<Interval>,
    /// Fewer answers than the minimum: listed, not ranked.
    pub too_few: bool,
}

#[derive(Clone, Debug)]
pub struct Spec {
    subtitle: String,
    axis: String,
    /// Ranked, best first.
    ranked: Vec<RankedItem>,
    unranked: Vec<RankedItem>,
    reference: Option<(String, f64)>,
    note: String,
}

const WIDTH: u32 = 860;
const LABEL_WIDTH: i32 = 250;
const ROW: i32 = 20;
const UNRANKED_COLUMNS: usize = 3;

/// Ranks `items` by value, best first (ties by label); items with `too_few` or no value go
/// to a list below the chart. `reference` draws a dashed line (such as the county's figure);
/// `note` is printed under the chart (such as schools left out for anonymity).
pub fn ranking(
    id: &str,
    title: &str,
    subtitle: &str,
    axis: &str,
    items: Vec<RankedItem>,
    reference: Option<(String, f64)>,
    note: &str,
) -> Chart {
    let (mut ranked, mut unranked): (Vec<_>, Vec<_>) = items
        .into_iter()
        .partition(|item| !item.too_few && item.value.is_some());
    ranked.sort_by(|a, b| {
        b.value
            .unwrap_or(0.0)
            .total_cmp(&a.value.unwrap_or(0.0))
            .then_with(|| a.label.cmp(&b.label))
    });
    unranked.sort_by(|a, b| a.label.cmp(&b.label));
    Chart::new(
        id,
        title,
        Kind::Ranking(Spec {
            subtitle: subtitle.to_owned(),
            axis: axis.to_owned(),
            ranked,
            unranked,
            reference,
            note: note.to_owned(),
        }),
    )
}

impl Spec {
    fn unranked_rows(&self) -> i32 {
        if self.unranked.is_empty() {
            0
        } else {
            1 + self.unranked.len().div_ceil(UNRANKED_COLUMNS) as i32
        }
    }

    pub fn size(&self) -> (u32, u32) {
        let rows = self.ranked.len().max(1) as i32;
        let note = if self.note.is_empty() { 0 } else { 22 };
        let height = 62 + 30 + rows * ROW + 56 + self.unranked_rows() * ROW + note + 12;
        (WIDTH, height as u32)
    }

    pub fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, title: &str) -> Result<(), ChartError> {
        let subtitle = if self.subtitle.is_empty() {
            format!(
                "{} 所学校参与排名；横线为 95% 区间，右侧为答卷数 n",
                self.ranked.len()
            )
        } else {
            self.subtitle.clone()
        };
        let top = draw::header(root, title, &subtitle, WIDTH)?;
        let plot_left = LABEL_WIDTH + 16;
        let plot_right = WIDTH as i32 - 130;
        let plot_top = top + 30;
        let rows = self.ranked.len().max(1) as i32;
        let plot_bottom = plot_top + rows * ROW;

        let floor = draw::axis_floor(self.ranked.iter().flat_map(|item| {
            item.interval
                .map(|interval| interval.low)
                .into_iter()
                .chain(item.value)
                .chain(self.reference.as_ref().map(|(_, value)| *value))
        }));
        let to_x = |value: f64| {
            let t = ((value - floor) / (100.0 - floor)).clamp(0.0, 1.0);
            plot_left + (f64::from(plot_right - plot_left) * t).round() as i32
        };

        // Grid, ticks every 10.
        let mut tick = floor;
        while tick <= 100.0 + 1e-9 {
            let x = to_x(tick);
            draw::line(
                root,
                (x, plot_top),
                (x, plot_bottom),
                draw::GRID.stroke_width(1),
            )?;
            draw::text(
                root,
                &format!("{tick:.0}"),
                (x, plot_top - 4),
                &draw::font(11.0).color(&MUTED),
                HPos::Center,
                VPos::Bottom,
            )?;
            draw::text(
                root,
                &format!("{tick:.0}"),
                (x, plot_bottom + 5),
                &draw::font(11.0).color(&MUTED),
                HPos::Center,
                VPos::Top,
            )?;
            tick += 10.0;
        }
        draw::line(
            root,
            (plot_left, plot_bottom),
            (plot_right, plot_bottom),
            draw::AXIS.stroke_width(1),
        )?;
        draw::text(
            root,
            &self.axis,
            ((plot_left + plot_right) / 2, plot_bottom + 24),
            &draw::font(12.0),
            HPos::Center,
            VPos::Top,
        )?;
        draw::text(
            root,
            "学校（从高到低）",
            (16, plot_top - 4),
            &draw::font(11.0).color(&MUTED),
            HPos::Left,
            VPos::Bottom,
        )?;

        if let Some((label, value)) = &self.reference {
            let x = to_x(*value);
            draw::styled_line(
                root,
                (x, plot_top),
                (x, plot_bottom),
                RGBColor(217, 95, 2).stroke_width(1),
                Some((5, 4)),
            )?;
            draw::text(
                root,
                &format!("{label} {}", draw::one_decimal(*value)),
                (x + 4, plot_bottom - 4),
                &draw::font(11.0).color(&RGBColor(166, 54, 3)),
                HPos::Left,
                VPos::Bottom,
            )?;
        }

        if self.ranked.is_empty() {
            draw::text(
                root,
                "没有答卷足够的学校可以排名",
                ((plot_left + plot_right) / 2, plot_top + ROW / 2),
                &draw::font(13.0).color(&MUTED),
                HPos::Center,
                VPos::Center,
            )?;
        }
        let colour = draw::SEQUENTIAL[4];
        for (rank, item) in self.ranked.iter().enumerate() {
            let y = plot_top + rank as i32 * ROW + ROW / 2;
            if rank % 2 == 1 {
                draw::rect(
                    root,
                    (16, y - ROW / 2),
                    (WIDTH as i32 - 16, y + ROW / 2),
                    RGBColor(246, 247, 249).filled(),
                )?;
            }
            let label = format!("{}. {}", rank + 1, draw::clean(&item.label));
            draw::text(
                root,
                &draw::fit(&label, 12.0, f64::from(LABEL_WIDTH) - 8.0),
                (16, y),
                &draw::font(12.0),
                HPos::Left,
                VPos::Center,
            )?;
            if let Some(interval) = item.interval {
                let (x0, x1) = (to_x(interval.low), to_x(interval.high));
                draw::line(root, (x0, y), (x1, y), INK.stroke_width(1))?;
                draw::line(root, (x0, y - 4), (x0, y + 4), INK.stroke_width(1))?;
                draw::line(root, (x1, y - 4), (x1, y + 4), INK.stroke_width(1))?;
            }
            if let Some(value) = item.value {
                draw::marker(root, draw::Marker::Circle, (to_x(value), y), 4, colour)?;
                draw::text(
                    root,
                    &format!("{}（n = {}）", draw::one_decimal(value), item.n),
                    (plot_right + 10, y),
                    &draw::font(12.0),
                    HPos::Left,
                    VPos::Center,
                )?;
            }
        }

        let mut y = plot_bottom + 56;
        if !self.unranked.is_empty() {
            draw::text(
                root,
                &format!(
                    "答卷太少或暂无数据，不参与排名（{} 所）：",
                    self.unranked.len()
                ),
                (16, y + ROW / 2),
                &draw::bold(12.0),
                HPos::Left,
                VPos::Center,
            )?;
            y += ROW;
            let column = (WIDTH as i32 - 32) / UNRANKED_COLUMNS as i32;
            for (index, item) in self.unranked.iter().enumerate() {
                let x = 16 + (index % UNRANKED_COLUMNS) as i32 * column;
                let row_y = y + (index / UNRANKED_COLUMNS) as i32 * ROW + ROW / 2;
                let label = format!("{}（n = {}）", draw::clean(&item.label), item.n);
                draw::text(
                    root,
                    &draw::fit(&label, 12.0, f64::from(column) - 8.0),
                    (x, row_y),
                    &draw::font(12.0).color(&MUTED),
                    HPos::Left,
                    VPos::Center,
                )?;
            }
            y += self.unranked.len().div_ceil(UNRANKED_COLUMNS) as i32 * ROW;
        }
        if !self.note.is_empty() {
            draw::text(
                root,
                &draw::fit(&self.note, 12.0, f64::from(WIDTH) - 32.0),
                (16, y + 11),
                &draw::font(12.0).color(&MUTED),
                HPos::Left,
                VPos::Center,
            )?;
        }
        Ok(())
    }
}
