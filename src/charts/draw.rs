//! Drawing helpers the charts share: text in the shipped font (measured, cut to fit), the title
//! block, the palette, dashed lines, hatching and markers.

use std::borrow::Cow;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{ChartError, FONT_FAMILY, draw_error};

pub type Area<DB> = DrawingArea<DB, Shift>;

pub const INK: RGBColor = RGBColor(33, 37, 41);
pub const MUTED: RGBColor = RGBColor(100, 104, 110);
pub const GRID: RGBColor = RGBColor(222, 226, 230);
pub const AXIS: RGBColor = RGBColor(120, 124, 130);
pub const HATCH: RGBColor = RGBColor(150, 150, 150);

/// YlGnBu: from pale yellow to dark blue, each step darker than the last, so that the order
/// survives grey-scale printing.
pub const SEQUENTIAL: [RGBColor; 5] = [
    RGBColor(255, 255, 204),
    RGBColor(161, 218, 180),
    RGBColor(65, 182, 196),
    RGBColor(44, 127, 184),
    RGBColor(37, 52, 148),
];

/// Series that differ in hue, in lightness, in dash and in marker.
pub const SERIES: [Series; 4] = [
    Series {
        color: RGBColor(37, 52, 148),
        dash: None,
        marker: Marker::Circle,
    },
    Series {
        color: RGBColor(217, 95, 2),
        dash: Some((8, 4)),
        marker: Marker::Square,
    },
    Series {
        color: RGBColor(27, 120, 55),
        dash: Some((2, 3)),
        marker: Marker::Triangle,
    },
    Series {
        color: RGBColor(118, 42, 131),
        dash: Some((10, 3)),
        marker: Marker::Diamond,
    },
];

#[derive(Clone, Copy, Debug)]
pub struct Series {
    pub color: RGBColor,
    pub dash: Option<(i32, i32)>,
    pub marker: Marker,
}

pub fn series(index: usize) -> Series {
    SERIES[index % SERIES.len()]
}

#[derive(Clone, Copy, Debug)]
pub enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
}

/// The colour of `t` in 0–1 along [`SEQUENTIAL`], interpolated.
pub fn sequential(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0) * (SEQUENTIAL.len() - 1) as f64;
    let low = t.floor() as usize;
    let high = (low + 1).min(SEQUENTIAL.len() - 1);
    let f = t - low as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (SEQUENTIAL[low], SEQUENTIAL[high]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Black or white, whichever reads on `background`.
pub fn text_on(background: RGBColor) -> RGBColor {
    let luminance = 0.299 * f64::from(background.0)
        + 0.587 * f64::from(background.1)
        + 0.114 * f64::from(background.2);
    if luminance < 140.0 { WHITE } else { INK }
}

/// The shipped font at `size` px.
pub fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FontFamily::Name(FONT_FAMILY), size)).color(&INK)
}

pub fn bold(size: f64) -> TextStyle<'static> {
    TextStyle::from((FontFamily::Name(FONT_FAMILY), size, FontStyle::Bold)).color(&INK)
}

/// Text for a chart: control characters removed, whitespace folded. Most texts (numbers,
/// names) need neither, and are returned as they are.
pub fn clean(text: &str) -> Cow<'_, str> {
    let tidy = !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.contains("  ")
        && text
            .chars()
            .all(|c| c == ' ' || !(c.is_whitespace() || c.is_control()));
    if tidy {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .filter(|c| !c.is_control())
            .collect(),
    )
}

/// The width `text` takes at `size` px.
pub fn width(text: &str, size: f64) -> f64 {
    let desc = FontDesc::new(FontFamily::Name(FONT_FAMILY), size, FontStyle::Normal);
    match desc.box_size(text) {
        Ok((width, _)) => f64::from(width),
        // A rough measure: CJK characters are square, Latin ones about half as wide.
        Err(_) => text
            .chars()
            .map(|c| if c.is_ascii() { size * 0.55 } else { size })
            .sum(),
    }
}

/// `text` cut to `max` px with "…" when it does not fit.
pub fn fit(text: &str, size: f64, max: f64) -> String {
    let text = clean(text);
    if width(&text, size) <= max {
        return text.into_owned();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().collect::<String>() + "…";
        if width(&candidate, size) <= max {
            return candidate;
        }
    }
    "…".to_owned()
}

/// `text` in at most two lines of `max` px (the second cut with "…").
pub fn wrap2(text: &str, size: f64, max: f64) -> Vec<String> {
    let text = clean(text);
    if width(&text, size) <= max {
        return vec![text.into_owned()];
    }
    let chars: Vec<char> = text.chars().collect();
    let mut split = chars.len();
    while split > 1 && width(&chars[..split].iter().collect::<String>(), size) > max {
        split -= 1;
    }
    let first: String = chars[..split].iter().collect();
    let rest: String = chars[split..].iter().collect();
    vec![first, fit(&rest, size, max)]
}

pub fn text<DB: DrawingBackend>(
    root: &Area<DB>,
    content: &str,
    (x, y): (i32, i32),
    style: &TextStyle,
    h: HPos,
    v: VPos,
) -> Result<(), ChartError> {
    let content = clean(content);
    if content.is_empty() {
        return Ok(());
    }
    root.draw(&Text::new(
        content.as_ref(),
        (x, y),
        style.pos(Pos::new(h, v)),
    ))
    .map_err(draw_error)
}

/// The title, and a subtitle under it; returns the y where the chart below may start.
pub fn header<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    subtitle: &str,
    width: u32,
) -> Result<i32, ChartError> {
    let max = f64::from(width) - 32.0;
    text(
        root,
        &fit(title, 18.0, max),
        (16, 12),
        &bold(18.0),
        HPos::Left,
        VPos::Top,
    )?;
    if subtitle.is_empty() {
        return Ok(44);
    }
    text(
        root,
        &fit(subtitle, 12.0, max),
        (16, 38),
        &font(12.0).color(&MUTED),
        HPos::Left,
        VPos::Top,
    )?;
    Ok(62)
}

pub fn line<DB: DrawingBackend>(
    root: &Area<DB>,
    from: (i32, i32),
    to: (i32, i32),
    style: ShapeStyle,
) -> Result<(), ChartError> {
    root.draw(&PathElement::new(vec![from, to], style))
        .map_err(draw_error)
}

/// A line with dashes of `dash` px and gaps of `gap` px; solid when `pattern` is `None`.
pub fn styled_line<DB: DrawingBackend>(
    root: &Area<DB>,
    from: (i32, i32),
    to: (i32, i32),
    style: ShapeStyle,
    pattern: Option<(i32, i32)>,
) -> Result<(), ChartError> {
    let Some((dash, gap)) = pattern else {
        return line(root, from, to, style);
    };
    let (dx, dy) = (f64::from(to.0 - from.0), f64::from(to.1 - from.1));
    let length = (dx * dx + dy * dy).sqrt();
    if length < 1.0 {
        return Ok(());
    }
    let step = f64::from(dash + gap);
    let mut start = 0.0;
    while start < length {
        let end = (start + f64::from(dash)).min(length);
        let at = |d: f64| {
            (
                from.0 + (dx * d / length).round() as i32,
                from.1 + (dy * d / length).round() as i32,
            )
        };
        line(root, at(start), at(end), style)?;
        start += step;
    }
    Ok(())
}

pub fn rect<DB: DrawingBackend>(
    root: &Area<DB>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    style: ShapeStyle,
) -> Result<(), ChartError> {
    root.draw(&Rectangle::new([(x0, y0), (x1, y1)], style))
        .map_err(draw_error)
}

/// Diagonal hatching inside a rectangle, with its outline: "too few answers".
pub fn hatch<DB: DrawingBackend>(
    root: &Area<DB>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
) -> Result<(), ChartError> {
    let (w, h) = (x1 - x0, y1 - y0);
    let style = HATCH.stroke_width(1);
    let mut t = 5;
    while t < w + h {
        let start = if t <= w {
            (x0 + t, y0)
        } else {
            (x1, y0 + t - w)
        };
        let end = if t <= h {
            (x0, y0 + t)
        } else {
            (x0 + t - h, y1)
        };
        line(root, start, end, style)?;
        t += 7;
    }
    rect(root, (x0, y0), (x1, y1), HATCH.stroke_width(1))
}

pub fn marker<DB: DrawingBackend>(
    root: &Area<DB>,
    kind: Marker,
    (x, y): (i32, i32),
    size: i32,
    color: RGBColor,
) -> Result<(), ChartError> {
    let style = color.filled();
    match kind {
        Marker::Circle => root
            .draw(&Circle::new((x, y), size, style))
            .map_err(draw_error),
        Marker::Square => rect(root, (x - size, y - size), (x + size, y + size), style),
        Marker::Triangle => root
            .draw(&Polygon::new(
                vec![
                    (x, y - size - 1),
                    (x - size - 1, y + size),
                    (x + size + 1, y + size),
                ],
                style,
            ))
            .map_err(draw_error),
        Marker::Diamond => root
            .draw(&Polygon::new(
                vec![
                    (x, y - size - 1),
                    (x + size + 1, y),
                    (x, y + size + 1),
                    (x - size - 1, y),
                ],
                style,
            ))
            .map_err(draw_error),
    }
}

/// A short sample of a series (line and marker) followed by its label; returns the x after it.
pub fn legend_entry<DB: DrawingBackend>(
    root: &Area<DB>,
    (x, y): (i32, i32),
    series: Series,
    label: &str,
) -> Result<i32, ChartError> {
    styled_line(
        root,
        (x, y),
        (x + 28, y),
        series.color.stroke_width(2),
        series.dash,
    )?;
    marker(root, series.marker, (x + 14, y), 4, series.color)?;
    text(
        root,
        label,
        (x + 34, y),
        &font(12.0),
        HPos::Left,
        VPos::Center,
    )?;
    Ok(x + 34 + width(&clean(label), 12.0) as i32 + 18)
}

/// A value on 0–100 with one decimal.
pub fn one_decimal(value: f64) -> String {
    format!("{:.1}", (value * 10.0).round() / 10.0)
}

/// The lower end of a 0–100 axis that shows every value and interval: a multiple of 10, at
/// most 60 unless something lies lower.
pub fn axis_floor(values: impl Iterator<Item = f64>) -> f64 {
    let lowest = values.fold(60.0_f64, f64::min);
    ((lowest / 10.0).floor() * 10.0).clamp(0.0, 90.0)
}
