//! The one place figures become words: percentages, scores with their intervals, satisfaction
//! rates, and ratings — grades, 待定, 仅供参考, why a school is not rated. The console's pages,
//! the reports, the mails and the charts' labels all say a figure the same way because they all
//! say it here. Pure: values in, Chinese text out.

use serde::Serialize;

use crate::rating::rules::Source;
use crate::rating::satisfaction::Satisfaction;
use crate::rating::score::{CountyRating, Rated, SchoolRating};
use crate::rating::stats::Interval;

/// A share as a percentage with one decimal: `82.4%`.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// The satisfaction rate as supervisors read it: `82.4%（95% 区间 78.1%–86.1%，n = 312）`.
pub fn describe_rate(summary: &Satisfaction) -> Option<String> {
    let rate = summary.rate?;
    let interval = summary.rate_interval?;
    Some(format!(
        "{}（95% 区间 {}–{}，n = {}）",
        percent(rate),
        percent(interval.low),
        percent(interval.high),
        summary.n
    ))
}

/// A score on 0–100 with its interval: `81.3（95% 区间 78.0–84.4）`. Rounded half away from
/// zero, as `RatingRules::grade` rounds before banding, so that the score shown and the grade
/// beside it always agree (89.95 shows as 90.0, 优秀).
pub fn describe_score(value: f64, interval: Option<Interval>) -> String {
    let shown = |value: f64| format!("{:.1}", (value * 10.0).round() / 10.0);
    match interval {
        Some(interval) if interval.high > interval.low => format!(
            "{}（95% 区间 {}–{}）",
            shown(value),
            shown(interval.low),
            shown(interval.high)
        ),
        _ => shown(value),
    }
}

/// A rating as text.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RatingText {
    /// `81.3（95% 区间 78.0–84.4）`, or `—`.
    pub score: String,
    /// `良好`, `待定（良好或合格）`, `答卷太少，暂不评定` …
    pub grade: String,
    pub provisional: bool,
    pub note: String,
}

fn grade_of(rated: &Rated) -> String {
    if rated.provisional {
        format!("待定（{}）", rated.possible_grades.join("或"))
    } else {
        rated.grade.clone()
    }
}

/// A school's rating as text: score with interval, grade (待定 when provisional, 仅供参考 below
/// the coverage floor, 未提交自评表 without a self-check), and a note saying why.
pub fn rating_text(rating: &SchoolRating) -> RatingText {
    match rating {
        SchoolRating::Rated(rated) => {
            let mut notes = Vec::new();
            if !rated.missing_areas.is_empty() {
                notes.push(format!(
                    "无数据的方面未计入：{}",
                    rated
                        .missing_areas
                        .iter()
                        .map(|area| area.label())
                        .collect::<Vec<_>>()
                        .join("、")
                ));
            }
            for note in &rated.low_coverage {
                notes.push(format!(
                    "{}回收率 {}（{} / {}），低于 {}：仅供参考",
                    note.source.label(),
                    percent(note.rate),
                    note.answers,
                    note.population,
                    percent(note.floor)
                ));
            }
            let mut grade = grade_of(rated);
            if !rated.low_coverage.is_empty() {
                grade.push_str("（仅供参考）");
            }
            RatingText {
                score: describe_score(rated.score, Some(rated.interval)),
                grade,
                provisional: rated.provisional,
                note: notes.join("；"),
            }
        }
        SchoolRating::TooFewAnswers { short } => {
            let no_self_check = short.iter().all(|short| short.source == Source::Indicators);
            RatingText {
                score: "—".to_owned(),
                grade: if no_self_check {
                    "未提交自评表，暂不评定".to_owned()
                } else {
                    "答卷太少，暂不评定".to_owned()
                },
                provisional: false,
                note: short
                    .iter()
                    .map(|short| match (short.source, short.population) {
                        (Source::Indicators, _) => "学校自评表未提交".to_owned(),
                        (source, Some(population)) => format!(
                            "{}需至少 {} 份（共 {} 人），现有 {} 份",
                            source.label(),
                            short.needed,
                            population,
                            short.answers
                        ),
                        (source, None) => format!(
                            "{}需至少 {} 份，现有 {} 份",
                            source.label(),
                            short.needed,
                            short.answers
                        ),
                    })
                    .collect::<Vec<_>>()
                    .join("；"),
            }
        }
        SchoolRating::NoEvidence => RatingText {
            score: "—".to_owned(),
            grade: "暂无可评定的内容".to_owned(),
            provisional: false,
            note: String::new(),
        },
    }
}

/// The county's rating as text: score, grade and what it covers.
pub fn county_text(county: &CountyRating) -> RatingText {
    let (score, grade, provisional) = match &county.rated {
        Some(rated) => (
            describe_score(rated.score, Some(rated.interval)),
            grade_of(rated),
            rated.provisional,
        ),
        None => ("—".to_owned(), "暂不评定".to_owned(), false),
    };
    RatingText {
        score,
        grade,
        provisional,
        note: format!(
            "已评定 {} 所学校，未评定 {} 所；已评定学校的在校生占 {}。",
            county.schools_rated,
            county.schools_not_rated,
            percent(county.enrolment_covered)
        ),
    }
}
