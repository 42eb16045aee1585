//! One school's answers per hour across a campaign: a bar per hour (China time), so that
//! answers bunched into a few minutes stand out against a school's ordinary days.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::draw::{self, Area, MUTED};
use super::{Chart, ChartError, Spec as Kind};

#[derive(Clone, Debug)]
pub struct Spec {
    /// Answers in each hour, the first hour first; hours without answers included.
    counts: Vec<u64>,
    /// The label under the first hour of each day shown (`12-03`), by hour index.
    days: Vec<(usize, String)>,
    /// A line at this many answers an hour (the school's expected answers an hour at most), if any.
    reference: Option<(u64, String)>,
}

const WIDTH: u32 = 860;
const HEIGHT: u32 = 300;

/// `counts`: answers per hour from the campaign's first answer to its last; `days`: where each
/// day begins among them and its label; `reference`: a level to draw and name.
pub fn hourly(
    id: &str,
    title: &str,
    counts: Vec<u64>,
    days: Vec<(usize, String)>,
    reference: Option<(u64, String)>,
) -> Chart {
    Chart::new(
        id,
        title,
        Kind::Hourly(Spec {
            counts,
            days,
            reference,
        }),
    )
}

/// A round step for `max` over about five ticks: 1, 2, 5, 10, 20, 50 …
fn step_for(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for factor in [1, 2, 5] {
            if max <= step * factor * 5 {
                return step * factor;
            }
        }
        step *= 10;
    }
}

impl Spec {
    pub fn size(&self) -> (u32, u32) {
        (WIDTH, HEIGHT)
    }

    pub fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, title: &str) -> Result<(), ChartError> {
        let total: u64 = self.counts.iter().sum();
        let peak = self.counts.iter().copied().max().unwrap_or(0);
        let mut subtitle =
            format!("n = {total}；每根竖条为一小时（北京时间），最多的一小时 {peak} 份");
        if let Some((level, label)) = &self.reference
            && *level > peak.saturating_mul(2).max(10)
        {
            subtitle.push_str(&format!("；{label}（远高于图中各小时，未画出）"));
        }
        let top = draw::header(root, title, &subtitle, WIDTH)?;
        let (left, right) = (70, WIDTH as i32 - 20);
        let (plot_top, plot_bottom) = (top + 12, HEIGHT as i32 - 50);
        // The axis is the school's own hours; a reference far above them is named, not drawn,
        // so that it does not flatten the bars.
        let reference = self
            .reference
            .as_ref()
            .filter(|(level, _)| *level <= peak.saturating_mul(2).max(10));
        let ceiling = peak.max(reference.map_or(0, |(level, _)| *level));
        let step = step_for(ceiling.max(1));
        let axis_max = ceiling.max(1).div_ceil(step) * step;
        let to_y = |value: u64| {
            let t = value as f64 / axis_max as f64;
            plot_bottom - (f64::from(plot_bottom - plot_top) * t).round() as i32
        };
        let hours = self.counts.len().max(1);
        let slot = f64::from(right - left) / hours as f64;
        let to_x = |hour: usize| left + (slot * hour as f64).round() as i32;

        let mut tick = 0;
        while tick <= axis_max {
            let y = to_y(tick);
            draw::line(root, (left, y), (right, y), draw::GRID.stroke_width(1))?;
            draw::text(
                root,
                &tick.to_string(),
                (left - 6, y),
                &draw::font(11.0).color(&MUTED),
                HPos::Right,
                VPos::Center,
            )?;
            tick += step;
        }
        root.draw(&Text::new(
            "每小时答卷数",
            (18, (plot_top + plot_bottom) / 2),
            draw::font(12.0).transform(FontTransform::Rotate270).pos(
                plotters::style::text_anchor::Pos::new(HPos::Center, VPos::Center),
            ),
        ))
        .map_err(super::draw_error)?;
        let bar = draw::series(0).color;
        for (hour, count) in self.counts.iter().enumerate() {
            if *count == 0 {
                continue;
            }
            let (x0, x1) = (to_x(hour), to_x(hour + 1).max(to_x(hour) + 1));
            draw::rect(root, (x0, to_y(*count)), (x1, plot_bottom), bar.filled())?;
        }
        // Day labels, thinned so that they do not overlap.
        let every = ((self.days.len() as f64 * 46.0) / f64::from(right - left)).ceil() as usize;
        for (index, (hour, label)) in self.days.iter().enumerate() {
            let x = to_x(*hour);
            draw::line(
                root,
                (x, plot_bottom),
                (x, plot_bottom + 4),
                draw::AXIS.stroke_width(1),
            )?;
            if index % every.max(1) == 0 {
                draw::text(
                    root,
                    label,
                    (x, plot_bottom + 6),
                    &draw::font(11.0),
                    HPos::Center,
                    VPos::Top,
                )?;
            }
        }
        draw::line(
            root,
            (left, plot_bottom),
            (right, plot_bottom),
            draw::AXIS.stroke_width(1),
        )?;
        draw::line(
            root,
            (left, plot_top),
            (left, plot_bottom),
            draw::AXIS.stroke_width(1),
        )?;
        if let Some((level, label)) = reference {
            let y = to_y(*level);
            draw::styled_line(
                root,
                (left, y),
                (right, y),
                draw::series(1).color.stroke_width(1),
                Some((6, 4)),
            )?;
            draw::text(
                root,
                label,
                (right, y - 3),
                &draw::font(11.0).color(&MUTED),
                HPos::Right,
                VPos::Bottom,
            )?;
        }
        draw::text(
            root,
            "日期（北京时间）",
            ((left + right) / 2, plot_bottom + 24),
            &draw::font(12.0),
            HPos::Center,
            VPos::Top,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round_and_give_at_most_five_ticks() {
        assert_eq!(step_for(1), 1);
        assert_eq!(step_for(5), 1);
        assert_eq!(step_for(6), 2);
        assert_eq!(step_for(24), 5);
        assert_eq!(step_for(300), 100);
        assert_eq!(step_for(1_334), 500);
    }

    #[test]
    fn the_chart_says_its_total_and_peak() {
        let chart = hourly(
            "hourly-1",
            "Q01 测试学校：每小时答卷数",
            vec![2, 0, 0, 40, 1],
            vec![(0, "12-03".to_owned())],
            Some((8, "应收答卷的十分之一".to_owned())),
        );
        let svg = chart.svg().expect("drawn");
        assert!(svg.contains("n = 43"), "{svg}");
        assert!(svg.contains("最多的一小时 40 份"));
        assert!(svg.contains("每小时答卷数"));
        assert!(svg.contains("日期（北京时间）"));
        assert!(svg.contains("12-03"));
        assert!(
            svg.contains("应收答卷的十分之一"),
            "a reference near the bars is drawn"
        );
    }

    #[test]
    fn a_reference_far_above_the_bars_is_named_not_drawn() {
        let chart = hourly(
            "hourly-2",
            "大学校：每小时答卷数",
            vec![3, 120, 2],
            vec![(0, "12-04".to_owned())],
            Some((944, "集中提交提示线 944 份/小时".to_owned())),
        );
        let svg = chart.svg().expect("drawn");
        assert!(
            svg.contains("集中提交提示线 944 份/小时（远高于图中各小时，未画出）"),
            "{svg}"
        );
        // The axis ends near the busiest hour, not at the reference.
        assert!(!svg.contains(">1000<"), "{svg}");
    }
}
