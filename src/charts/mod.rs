//! Charts drawn with plotters: SVG for pages (inline, text kept as text), PNG for mail and
//! downloads, Chinese labels from the font shipped beside this module (WenQuanYi Micro Hei,
//! `fonts/README`), so that nothing depends on the fonts of the server.
//!
//! Every chart is a pure function from figures to a [`Chart`]: a title, the number of answers
//! behind each figure, axes with their labels, and colours that stay apart in black-and-white
//! print (a sequential palette of falling lightness; series also differ by dash and marker).
//!
//! - [`distribution`]: the answers to the questions of one section, one stacked bar each.
//! - [`ranking`]: schools ranked by an index with their 95% intervals; too few answers → listed,
//!   not ranked.
//! - [`radar`]: the areas of one school (and the county); an area without a figure is a gap.
//! - [`heatmap`]: schools × areas, the value in each cell; hatched where answers are too few.
//! - [`trend`]: one survey across campaigns, with intervals.
//! - [`hourly`]: one school's answers per hour across a campaign (the quality page).
//!
//! Text: plotters' SVG backend escapes every text and attribute it writes; the only text this
//! module adds to an SVG itself (the `aria-label`) goes through [`xml_escape`].

mod distribution;
mod draw;
mod heatmap;
mod hourly;
mod radar;
mod ranking;
mod trend;

use std::io::Cursor;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

pub use distribution::{DistributionBar, DistributionPoint, distribution};
pub use heatmap::{HeatCell, HeatRow, heatmap};
pub use hourly::hourly;
pub use radar::{RadarSeries, radar};
pub use ranking::{RankedItem, ranking};
pub use trend::{TrendPoint, TrendSeries, trend};

/// The family the font is registered under: also the CSS font stack the SVGs name, so that a
/// browser uses the same font if it has it, or the usual Chinese system fonts.
pub const FONT_FAMILY: &str = "WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, sans-serif";

static FONT_BYTES: &[u8] = include_bytes!("fonts/wqy-microhei.ttc");

/// Registers the shipped font once per process.
fn ensure_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let registered = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_ok()
            && plotters::style::register_font(FONT_FAMILY, FontStyle::Bold, FONT_BYTES).is_ok()
    });
    if registered {
        Ok(())
    } else {
        Err(ChartError::Font)
    }
}

/// What can go wrong while drawing a chart.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("图表字体无法加载")]
    Font,
    #[error("图表绘制失败：{0}")]
    Draw(String),
    #[error("图表图片编码失败：{0}")]
    Encode(String),
}

/// A chart ready to draw, as SVG or PNG.
#[derive(Clone, Debug)]
pub struct Chart {
    /// A slug (`[a-z0-9-]`), unique on its page: the download's name and a mail's `cid`.
    pub id: String,
    pub title: String,
    spec: Spec,
}

#[derive(Clone, Debug)]
enum Spec {
    Distribution(distribution::Spec),
    Ranking(ranking::Spec),
    Radar(radar::Spec),
    Heatmap(heatmap::Spec),
    Trend(trend::Spec),
    Hourly(hourly::Spec),
}

impl Chart {
    fn new(id: &str, title: &str, spec: Spec) -> Chart {
        Chart {
            id: slug(id),
            title: title.to_owned(),
            spec,
        }
    }

    /// Width and height in CSS pixels (and in PNG pixels).
    pub fn size(&self) -> (u32, u32) {
        match &self.spec {
            Spec::Distribution(spec) => spec.size(),
            Spec::Ranking(spec) => spec.size(),
            Spec::Radar(spec) => spec.size(),
            Spec::Heatmap(spec) => spec.size(),
            Spec::Trend(spec) => spec.size(),
            Spec::Hourly(spec) => spec.size(),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        root.fill(&WHITE).map_err(draw_error)?;
        match &self.spec {
            Spec::Distribution(spec) => spec.draw(root, &self.title),
            Spec::Ranking(spec) => spec.draw(root, &self.title),
            Spec::Radar(spec) => spec.draw(root, &self.title),
            Spec::Heatmap(spec) => spec.draw(root, &self.title),
            Spec::Trend(spec) => spec.draw(root, &self.title),
            Spec::Hourly(spec) => spec.draw(root, &self.title),
        }
    }

    /// The chart as an SVG document (`<svg class="chart" …>`), its text as text: safe to put
    /// into a page as it is.
    pub fn svg(&self) -> Result<String, ChartError> {
        ensure_font()?;
        let (width, height) = self.size();
        // Room for what plotters writes (about a byte per 15 px² for the busiest charts), so
        // that a chart of 500 schools is not copied again at each doubling.
        let mut drawn = String::with_capacity((width as usize * height as usize) / 10 + 4096);
        {
            let root = SVGBackend::with_string(&mut drawn, (width, height)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(draw_error)?;
        }
        let Some(end) = drawn.find('>') else {
            return Err(ChartError::Draw("no <svg> element".to_owned()));
        };
        let (open, body) = drawn.split_at(end + 1);
        let Some(attributes) = open.strip_prefix("<svg ") else {
            return Err(ChartError::Draw("no <svg> element".to_owned()));
        };
        let mut out = String::with_capacity(drawn.len());
        out.push_str("<svg class=\"chart\" role=\"img\" aria-label=\"");
        out.push_str(&xml_escape(&self.title));
        out.push_str("\" ");
        out.push_str(attributes);
        // The font once, in a style, rather than on each of thousands of texts.
        out.push_str("\n<style>text{font-family:");
        out.push_str(FONT_FAMILY);
        out.push_str("}</style>");
        let family = format!(" font-family=\"{FONT_FAMILY}\"");
        let mut rest = body;
        while let Some(at) = rest.find(&family) {
            out.push_str(&rest[..at]);
            rest = &rest[at + family.len()..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The chart as a PNG image.
    pub fn png(&self) -> Result<Vec<u8>, ChartError> {
        ensure_font()?;
        let (width, height) = self.size();
        let mut buffer = vec![255u8; width as usize * height as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(draw_error)?;
        }
        let image = image::RgbImage::from_raw(width, height, buffer)
            .ok_or_else(|| ChartError::Encode("buffer size".to_owned()))?;
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
            .map_err(|error| ChartError::Encode(error.to_string()))?;
        Ok(bytes)
    }
}

fn draw_error(error: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(error.to_string())
}

/// `[a-z0-9-]` only: other characters become `-`.
fn slug(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Escapes text for XML content and attribute values.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
