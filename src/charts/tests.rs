//! Unit tests of the charts (compiled only under #[cfg(test)]).

use super::*;
use crate::rating::stats::Interval;

fn points() -> Vec<DistributionPoint> {
    [
        ("很满意", 100.0),
        ("满意", 80.0),
        ("一般", 60.0),
        ("不满意", 40.0),
        ("很不满意", 0.0),
    ]
    .into_iter()
    .map(|(label, score)| DistributionPoint {
        label: label.to_owned(),
        score: Some(score),
    })
    .chain(std::iter::once(DistributionPoint {
        label: "不清楚".to_owned(),
        score: None,
    }))
    .collect()
}

fn sample_distribution() -> Chart {
    distribution(
        "dist-poverty",
        "精准扶贫：各题答卷分布",
        "",
        points(),
        vec![
            DistributionBar {
                label: "您对学校资助政策宣传的满意程度".to_owned(),
                n: 312,
                counts: vec![120, 100, 50, 20, 10, 12],
            },
            DistributionBar {
                label: "<script>alert(1)</script> & 校名".to_owned(),
                n: 0,
                counts: vec![0; 6],
            },
        ],
    )
}

fn sample_ranking() -> Chart {
    ranking(
        "ranking",
        "各校满意度指数排名",
        "",
        "满意度指数（0–100）",
        vec![
            RankedItem {
                label: "城关第一小学".to_owned(),
                n: 45,
                value: Some(86.2),
                interval: Some(Interval {
                    low: 81.0,
                    high: 91.4,
                }),
                too_few: false,
            },
            RankedItem {
                label: "河口教学点".to_owned(),
                n: 3,
                value: Some(99.0),
                interval: None,
                too_few: true,
            },
            RankedItem {
                label: "青山中学".to_owned(),
                n: 120,
                value: Some(91.5),
                interval: Some(Interval {
                    low: 89.0,
                    high: 94.0,
                }),
                too_few: false,
            },
        ],
        Some(("全县".to_owned(), 88.0)),
        "答卷少于 5 份的学校不单独显示",
    )
}

fn sample_radar() -> Chart {
    let axes: Vec<String> = crate::survey::Area::plan_areas()
        .map(|area| area.label().to_owned())
        .collect();
    radar(
        "radar-school-1",
        "城关第一小学：各方面得分",
        "",
        axes,
        vec![
            RadarSeries {
                label: "城关第一小学".to_owned(),
                n: 45,
                values: vec![
                    Some(85.0),
                    Some(90.0),
                    None,
                    Some(70.0),
                    Some(88.0),
                    Some(92.0),
                    None,
                ],
            },
            RadarSeries {
                label: "全县".to_owned(),
                n: 3000,
                values: vec![
                    Some(80.0),
                    Some(82.0),
                    Some(75.0),
                    Some(78.0),
                    Some(84.0),
                    Some(86.0),
                    None,
                ],
            },
        ],
    )
}

fn sample_heatmap() -> Chart {
    heatmap(
        "heatmap",
        "各校各方面满意度指数",
        "",
        vec![
            "精准扶贫贫困对象".to_owned(),
            "营养改善计划".to_owned(),
            "教育信息化".to_owned(),
        ],
        vec![
            HeatRow {
                label: "城关第一小学".to_owned(),
                n: 45,
                cells: vec![
                    HeatCell::Value(86.4),
                    HeatCell::Value(55.0),
                    HeatCell::Empty,
                ],
            },
            HeatRow {
                label: "河口教学点".to_owned(),
                n: 3,
                cells: vec![HeatCell::TooFew, HeatCell::TooFew, HeatCell::Empty],
            },
        ],
        "",
    )
}

fn sample_trend() -> Chart {
    trend(
        "trend",
        "家长满意度指数的变化",
        "",
        vec![
            ("2025 春季".to_owned(), 800),
            ("2025 秋季".to_owned(), 950),
            ("2026 秋季".to_owned(), 1020),
        ],
        vec![
            TrendSeries {
                label: "总体".to_owned(),
                points: vec![
                    Some(TrendPoint {
                        value: 80.0,
                        interval: Some(Interval {
                            low: 78.0,
                            high: 82.0,
                        }),
                    }),
                    None,
                    Some(TrendPoint {
                        value: 85.0,
                        interval: Some(Interval {
                            low: 83.5,
                            high: 86.5,
                        }),
                    }),
                ],
            },
            TrendSeries {
                label: "营养改善计划".to_owned(),
                points: vec![
                    Some(TrendPoint {
                        value: 75.0,
                        interval: None,
                    }),
                    Some(TrendPoint {
                        value: 79.0,
                        interval: None,
                    }),
                    Some(TrendPoint {
                        value: 83.0,
                        interval: None,
                    }),
                ],
            },
        ],
    )
}

fn all() -> Vec<Chart> {
    vec![
        sample_distribution(),
        sample_ranking(),
        sample_radar(),
        sample_heatmap(),
        sample_trend(),
    ]
}

#[test]
fn every_svg_has_its_title_chinese_text_as_text_and_n() {
    for chart in all() {
        let svg = chart.svg().expect("svg");
        assert!(
            svg.starts_with("<svg class=\"chart\" role=\"img\""),
            "{}",
            &svg[..80]
        );
        assert!(svg.contains(&chart.title), "{} lacks its title", chart.id);
        assert!(svg.contains("<text"), "{}", chart.id);
        // The title is a text element, not glyphs drawn as paths.
        assert!(
            svg.contains(&format!(">\n{}\n</text>", chart.title)),
            "{}",
            chart.id
        );
        assert!(
            svg.contains("n = ") || svg.contains("答卷 n"),
            "{} lacks n",
            chart.id
        );
        assert!(svg.contains("WenQuanYi Micro Hei"), "{}", chart.id);
    }
}

#[test]
fn axis_labels_are_written() {
    assert!(
        sample_distribution()
            .svg()
            .expect("svg")
            .contains("占答卷的百分比")
    );
    assert!(
        sample_ranking()
            .svg()
            .expect("svg")
            .contains("满意度指数（0–100）")
    );
    assert!(
        sample_trend()
            .svg()
            .expect("svg")
            .contains("调查活动（按时间）")
    );
    assert!(
        sample_trend()
            .svg()
            .expect("svg")
            .contains("满意度指数（0–100）")
    );
    let radar = sample_radar().svg().expect("svg");
    assert!(radar.contains("营养改善计划"));
    assert!(radar.contains("教育结对帮扶（无数据）"));
    let heatmap = sample_heatmap().svg().expect("svg");
    assert!(heatmap.contains("营养改善计划"));
    assert!(heatmap.contains("86.4"));
    assert!(heatmap.contains("答卷太少，不显示"));
}

#[test]
fn user_text_is_escaped() {
    let svg = sample_distribution().svg().expect("svg");
    assert!(!svg.contains("<script>"));
    assert!(svg.contains("&lt;script&gt;"));
    assert!(svg.contains("&amp; 校名"));
    let titled = distribution("x", "<b>\"校\"</b>", "", points(), Vec::new());
    let svg = titled.svg().expect("svg");
    assert!(!svg.contains("<b>"));
    assert!(svg.contains("aria-label=\"&lt;b&gt;&quot;校&quot;&lt;/b&gt;\""));
}

#[test]
fn ranking_lists_schools_with_too_few_answers_instead_of_ranking_them() {
    let svg = sample_ranking().svg().expect("svg");
    let first = svg.find("1. 青山中学").expect("best first");
    let second = svg.find("2. 城关第一小学").expect("second");
    assert!(first < second);
    assert!(
        !svg.contains(". 河口教学点"),
        "a school with 3 answers is not ranked"
    );
    assert!(svg.contains("河口教学点（n = 3）"));
    assert!(svg.contains("答卷太少或暂无数据，不参与排名（1 所）"));
    assert!(svg.contains("答卷少于 5 份的学校不单独显示"));
}

#[test]
fn distribution_writes_shares_and_an_empty_bar_says_so() {
    let svg = sample_distribution().svg().expect("svg");
    assert!(svg.contains("n = 312"));
    assert!(svg.contains("n = 0"));
    assert!(svg.contains("暂无答卷"));
    // 120 of 312 answers.
    assert!(svg.contains("38%"));
}

#[test]
fn every_png_decodes_to_its_size_and_is_not_blank() {
    for chart in all() {
        let bytes = chart.png().expect("png");
        let image = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
            .expect("decodes")
            .to_rgb8();
        assert_eq!(image.dimensions(), chart.size(), "{}", chart.id);
        let dark = image
            .pixels()
            .filter(|pixel| pixel.0.iter().all(|c| *c < 100))
            .count();
        assert!(dark > 500, "{}: only {dark} dark pixels", chart.id);
    }
}

#[test]
fn chinese_glyphs_are_drawn_into_the_png_not_boxes() {
    // A title of Chinese only: its pixels must differ from a title of the same length in
    // another Chinese text (tofu boxes would draw the same rectangles for both).
    let a = distribution("a", "满意度", "", points(), Vec::new())
        .png()
        .expect("png");
    let b = distribution("b", "营养餐", "", points(), Vec::new())
        .png()
        .expect("png");
    assert_ne!(a, b);
}

#[test]
fn ids_are_slugs() {
    let chart = distribution("Dist 营养/1", "t", "", points(), Vec::new());
    assert_eq!(chart.id, "dist----1");
}
