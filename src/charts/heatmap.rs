//! Schools × areas: each cell coloured by its index (pale low, dark high) with the value
//! written in it; hatched where the school's answers are too few, blank where there is no
//! figure at all.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::draw::{self, Area, INK, MUTED};
use super::{Chart, ChartError, Spec as Kind};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HeatCell {
    Value(f64),
    /// Too few answers to show: hatched.
    TooFew,
    /// No figure (the survey does not ask about this area): blank.
    Empty,
}

/// One school.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatRow {
    pub label: String,
    pub n: u64,
    /// One cell per column.
    pub cells: Vec<HeatCell>,
}

#[derive(Clone, Debug)]
pub struct Spec {
    subtitle: String,
    columns: Vec<String>,
    rows: Vec<HeatRow>,
    note: String,
}

const LABEL_WIDTH: i32 = 220;
const N_WIDTH: i32 = 70;
const CELL_WIDTH: i32 = 86;
const ROW: i32 = 22;
const HEADER: i32 = 40;
/// The colour scale runs from LOW (palest) to 100 (darkest).
const LOW: f64 = 40.0;

/// A heat map of `rows` × `columns`; `note` is printed under it.
pub fn heatmap(
    id: &str,
    title: &str,
    subtitle: &str,
    columns: Vec<String>,
    rows: Vec<HeatRow>,
    note: &str,
) -> Chart {
    Chart::new(
        id,
        title,
        Kind::Heatmap(Spec {
            subtitle: subtitle.to_owned(),
            columns,
            rows,
            note: note.to_owned(),
        }),
    )
}

impl Spec {
    fn width(&self) -> u32 {
        let columns = self.columns.len().max(1) as i32;
        (16 + LABEL_WIDTH + N_WIDTH + columns * CELL_WIDTH + 16).max(640) as u32
    }

    pub fn size(&self) -> (u32, u32) {
        let rows = self.rows.len().max(1) as i32;
        let note = if self.note.is_empty() { 0 } else { 22 };
        (self.width(), (62 + HEADER + rows * ROW + 64 + note) as u32)
    }

    pub fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, title: &str) -> Result<(), ChartError> {
        let width = self.width();
        let subtitle = if self.subtitle.is_empty() {
            "每格为该校该方面的满意度指数（0–100），n 为该校答卷数".to_owned()
        } else {
            self.subtitle.clone()
        };
        let top = draw::header(root, title, &subtitle, width)?;
        let grid_left = 16 + LABEL_WIDTH + N_WIDTH;
        let grid_top = top + HEADER;

        draw::text(
            root,
            "学校",
            (16, grid_top - 6),
            &draw::bold(12.0),
            HPos::Left,
            VPos::Bottom,
        )?;
        draw::text(
            root,
            "答卷 n",
            (16 + LABEL_WIDTH + N_WIDTH - 8, grid_top - 6),
            &draw::bold(12.0),
            HPos::Right,
            VPos::Bottom,
        )?;
        for (index, column) in self.columns.iter().enumerate() {
            let x = grid_left + index as i32 * CELL_WIDTH + CELL_WIDTH / 2;
            let lines = draw::wrap2(column, 11.0, f64::from(CELL_WIDTH) - 6.0);
            let count = lines.len() as i32;
            for (line, text) in lines.iter().enumerate() {
                draw::text(
                    root,
                    text,
                    (x, grid_top - 6 - (count - 1 - line as i32) * 14),
                    &draw::font(11.0),
                    HPos::Center,
                    VPos::Bottom,
                )?;
            }
        }

        if self.rows.is_empty() {
            draw::text(
                root,
                "暂无可显示的学校",
                (16, grid_top + ROW / 2),
                &draw::font(13.0).color(&MUTED),
                HPos::Left,
                VPos::Center,
            )?;
        }
        // One style each, made once: a style looks its font up when it is made.
        let label_style = draw::font(12.0);
        let value_on_light = draw::font(11.0);
        let value_on_dark = value_on_light.color(&WHITE);
        for (index, row) in self.rows.iter().enumerate() {
            let y0 = grid_top + index as i32 * ROW;
            let y1 = y0 + ROW;
            let middle = (y0 + y1) / 2;
            draw::text(
                root,
                &draw::fit(&row.label, 12.0, f64::from(LABEL_WIDTH) - 8.0),
                (16, middle),
                &label_style,
                HPos::Left,
                VPos::Center,
            )?;
            draw::text(
                root,
                &row.n.to_string(),
                (grid_left - 8, middle),
                &label_style,
                HPos::Right,
                VPos::Center,
            )?;
            for (column, cell) in row.cells.iter().enumerate().take(self.columns.len()) {
                let x0 = grid_left + column as i32 * CELL_WIDTH;
                let x1 = x0 + CELL_WIDTH;
                match cell {
                    HeatCell::Value(value) => {
                        let colour = draw::sequential((value - LOW) / (100.0 - LOW));
                        draw::rect(root, (x0, y0), (x1, y1), colour.filled())?;
                        draw::text(
                            root,
                            &draw::one_decimal(*value),
                            ((x0 + x1) / 2, middle),
                            if draw::text_on(colour) == WHITE {
                                &value_on_dark
                            } else {
                                &value_on_light
                            },
                            HPos::Center,
                            VPos::Center,
                        )?;
                    }
                    HeatCell::TooFew => draw::hatch(root, (x0 + 1, y0 + 1), (x1 - 1, y1 - 1))?,
                    HeatCell::Empty => {}
                }
            }
        }
        let grid_right = grid_left + self.columns.len() as i32 * CELL_WIDTH;
        let grid_bottom = grid_top + self.rows.len().max(1) as i32 * ROW;
        // White lines between the cells, once per row and column (not an outline per cell:
        // 500 schools would make the SVG half again as large).
        for row in 1..self.rows.len() as i32 {
            let y = grid_top + row * ROW;
            draw::line(root, (grid_left, y), (grid_right, y), WHITE.stroke_width(2))?;
        }
        for column in 1..self.columns.len() as i32 {
            let x = grid_left + column * CELL_WIDTH;
            draw::line(root, (x, grid_top), (x, grid_bottom), WHITE.stroke_width(2))?;
        }
        draw::rect(
            root,
            (grid_left, grid_top),
            (grid_right, grid_bottom),
            draw::GRID.stroke_width(1),
        )?;

        // Legend: the colour scale, the hatching and the blank.
        let y = grid_bottom + 18;
        let mut x = 16;
        draw::text(
            root,
            &format!("指数 {LOW:.0} 及以下"),
            (x, y + 7),
            &draw::font(11.0),
            HPos::Left,
            VPos::Center,
        )?;
        x += draw::width(&format!("指数 {LOW:.0} 及以下"), 11.0) as i32 + 6;
        for step in 0..30 {
            let colour = draw::sequential(f64::from(step) / 29.0);
            draw::rect(
                root,
                (x + step * 5, y),
                (x + step * 5 + 5, y + 14),
                colour.filled(),
            )?;
        }
        x += 150 + 6;
        draw::text(
            root,
            "100",
            (x, y + 7),
            &draw::font(11.0),
            HPos::Left,
            VPos::Center,
        )?;
        x += 40;
        draw::hatch(root, (x, y), (x + 28, y + 14))?;
        draw::text(
            root,
            "答卷太少，不显示",
            (x + 34, y + 7),
            &draw::font(11.0),
            HPos::Left,
            VPos::Center,
        )?;
        x += 34 + draw::width("答卷太少，不显示", 11.0) as i32 + 16;
        draw::rect(root, (x, y), (x + 28, y + 14), draw::GRID.stroke_width(1))?;
        draw::text(
            root,
            "空白：无此方面的数据",
            (x + 34, y + 7),
            &draw::font(11.0).color(&INK),
            HPos::Left,
            VPos::Center,
        )?;
        if !self.note.is_empty() {
            draw::text(
                root,
                &draw::fit(&self.note, 12.0, f64::from(width) - 32.0),
                (16, y + 36),
                &draw::font(12.0).color(&MUTED),
                HPos::Left,
                VPos::Center,
            )?;
        }
        Ok(())
    }
}
