//! From the figures of `results` to the inputs of `charts`: pure, unit-tested functions shared
//! by the results page and the reports.

use std::collections::BTreeMap;

use crate::charts::{
    self, Chart, DistributionBar, DistributionPoint, HeatCell, HeatRow, RadarSeries, RankedItem,
};
use crate::rating::satisfaction::{self, Estimate};
use crate::results::overall::CampaignEvidence;
use crate::results::{SurveyResults, estimate_interval};
use crate::survey::{Area, Audience, QuestionKind, Survey};

/// The label per-school charts carry when they leave out schools whose teachers' answers are
/// too few to be shown alone (`results::shown_alone`).
pub const TEACHERS_HIDDEN_NOTE: &str = "答卷少于 5 份的学校不单独显示";

/// Whether a school's figures from `audience` must stay out of per-school charts: fewer than
/// `results::TEACHERS_SHOWN_ALONE` teachers' answers (they count only inside roll-ups).
pub fn hidden_for_anonymity(audience: Audience, answers: u64) -> bool {
    !crate::results::shown_alone(audience, answers)
}

/// One figure for several areas: the mean of the areas' values, each area counting once. The
/// same people answer every area, so the standard errors are averaged (what perfectly
/// correlated areas give: never a falsely narrow interval), as `satisfaction::area_estimate`
/// does for the questions of an area. `None` when no area has a figure.
pub fn overall_estimate<'a>(areas: impl IntoIterator<Item = &'a Estimate>) -> Option<Estimate> {
    let estimates: Vec<&Estimate> = areas.into_iter().collect();
    if estimates.is_empty() {
        return None;
    }
    let k = estimates.len() as f64;
    Some(Estimate {
        value: estimates.iter().map(|e| e.value).sum::<f64>() / k,
        standard_error: estimates.iter().map(|e| e.standard_error).sum::<f64>() / k,
        df: estimates.iter().filter_map(|e| e.df).min(),
    })
}

/// The scores of a question's options in the order `results` lists them, from the survey.
fn option_scores(survey: &Survey, key: &str) -> Option<Vec<Option<f64>>> {
    let id = key.split('.').next().unwrap_or(key);
    let question = survey
        .sections
        .iter()
        .flat_map(|section| &section.questions)
        .find(|question| question.id == id)?;
    if matches!(question.kind, QuestionKind::Multiple { .. }) {
        return None;
    }
    let points = satisfaction::point_counts(&question.kind, &BTreeMap::new())?;
    Some(points.into_iter().map(|point| point.score).collect())
}

/// One stacked-bar chart per section (and per set of options within it) for the questions
/// with a satisfaction figure; `id_prefix` makes the ids unique on a page.
pub fn distribution_charts(
    id_prefix: &str,
    title_prefix: &str,
    survey: &Survey,
    results: &SurveyResults,
) -> Vec<Chart> {
    let mut charts = Vec::new();
    for (section_index, section) in results.sections.iter().enumerate() {
        // Questions grouped by their options, in the order the groups first appear.
        let mut groups: Vec<(Vec<DistributionPoint>, Vec<DistributionBar>)> = Vec::new();
        for question in &section.questions {
            if question.satisfaction.is_none() || question.multiple {
                continue;
            }
            let Some(scores) = option_scores(survey, &question.key) else {
                continue;
            };
            if scores.len() != question.options.len() {
                continue;
            }
            let points: Vec<DistributionPoint> = question
                .options
                .iter()
                .zip(scores)
                .map(|(option, score)| DistributionPoint {
                    label: option.label.clone(),
                    score,
                })
                .collect();
            let bar = DistributionBar {
                label: question.text.clone(),
                n: question.n,
                counts: question.options.iter().map(|option| option.count).collect(),
            };
            match groups.iter_mut().find(|(known, _)| *known == points) {
                Some((_, bars)) => bars.push(bar),
                None => groups.push((points, vec![bar])),
            }
        }
        for (group_index, (points, bars)) in groups.into_iter().enumerate() {
            let title = format!("{title_prefix}{}：各题答卷分布", section.title);
            let subtitle = format!(
                "方面：{}；每条横条为一道题，右侧为该题答卷数 n",
                section.area.label()
            );
            charts.push(charts::distribution(
                &format!("{id_prefix}dist-{}-{}", section_index + 1, group_index + 1),
                &title,
                &subtitle,
                points,
                bars,
            ));
        }
    }
    charts
}

/// The areas a radar shows: the plan's seven.
pub fn radar_axes() -> Vec<String> {
    Area::plan_areas()
        .map(|area| area.label().to_owned())
        .collect()
}

/// A polygon of the seven areas from area values (`None` where there is none).
pub fn radar_series(label: &str, n: u64, values: &BTreeMap<Area, f64>) -> RadarSeries {
    RadarSeries {
        label: label.to_owned(),
        n,
        values: Area::plan_areas()
            .map(|area| values.get(&area).copied())
            .collect(),
    }
}

/// The areas of a survey's results as values.
pub fn area_values(results: &SurveyResults) -> BTreeMap<Area, f64> {
    results
        .areas
        .iter()
        .filter_map(|area| Some((area.area, area.estimate?.value)))
        .collect()
}

/// Each school's overall index from one campaign's evidence, for the ranking; schools hidden
/// for anonymity left out (and counted).
pub fn ranked_schools(
    evidence: &[CampaignEvidence],
    audience: Audience,
    minimum: u64,
) -> (Vec<RankedItem>, usize) {
    let mut hidden = 0;
    let mut items = Vec::new();
    for school in evidence {
        if hidden_for_anonymity(audience, school.answers) {
            hidden += 1;
            continue;
        }
        let estimate = overall_estimate(school.areas.values());
        items.push(RankedItem {
            label: school.school.name.clone(),
            n: school.answers,
            value: estimate.map(|estimate| estimate.value),
            interval: estimate.and_then(estimate_interval),
            too_few: school.answers < minimum,
        });
    }
    (items, hidden)
}

/// Schools × `columns` from one campaign's evidence, for the heat map; schools hidden for
/// anonymity left out (and counted).
pub fn heat_rows(
    evidence: &[CampaignEvidence],
    audience: Audience,
    minimum: u64,
    columns: &[Area],
) -> (Vec<HeatRow>, usize) {
    let mut hidden = 0;
    let mut rows = Vec::new();
    for school in evidence {
        if hidden_for_anonymity(audience, school.answers) {
            hidden += 1;
            continue;
        }
        let too_few = school.answers < minimum;
        rows.push(HeatRow {
            label: school.school.name.clone(),
            n: school.answers,
            cells: columns
                .iter()
                .map(|area| match school.areas.get(area) {
                    _ if too_few => HeatCell::TooFew,
                    Some(estimate) => HeatCell::Value(estimate.value),
                    None => HeatCell::Empty,
                })
                .collect(),
        });
    }
    (rows, hidden)
}

/// The note under a per-school chart: how many schools were left out for anonymity.
pub fn hidden_note(hidden: usize) -> String {
    if hidden == 0 {
        String::new()
    } else {
        format!("{TEACHERS_HIDDEN_NOTE}（{hidden} 所学校未列出，其答卷仍计入全县汇总）。")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::school;

    fn estimate(value: f64, standard_error: f64, df: u64) -> Estimate {
        Estimate {
            value,
            standard_error,
            df: Some(df),
        }
    }

    fn school(id: i32, name: &str) -> school::Model {
        let now = chrono::Utc::now();
        school::Model {
            id,
            code: format!("S{id:03}"),
            name: name.to_owned(),
            township: "城关镇".to_owned(),
            kind: "小学".to_owned(),
            is_central: false,
            is_key_village: false,
            enrolment: 100,
            teachers: 10,
            created_at: now,
            updated_at: now,
        }
    }

    fn evidence(id: i32, name: &str, answers: u64, areas: &[(Area, f64)]) -> CampaignEvidence {
        CampaignEvidence {
            school: school(id, name),
            answers,
            expected: 50,
            areas: areas
                .iter()
                .map(|(area, value)| (*area, estimate(*value, 2.0, answers.max(2) - 1)))
                .collect(),
        }
    }

    #[test]
    fn the_overall_estimate_averages_values_and_errors() {
        let areas = [estimate(80.0, 2.0, 30), estimate(90.0, 4.0, 20)];
        let overall = overall_estimate(areas.iter()).expect("two areas");
        assert!((overall.value - 85.0).abs() < 1e-12);
        assert!((overall.standard_error - 3.0).abs() < 1e-12);
        assert_eq!(overall.df, Some(20));
        assert_eq!(overall_estimate(std::iter::empty()), None);
    }

    #[test]
    fn teachers_of_a_school_with_four_answers_are_left_out_and_counted() {
        let schools = vec![
            evidence(1, "甲校", 4, &[(Area::Nutrition, 90.0)]),
            evidence(
                2,
                "乙校",
                12,
                &[(Area::Nutrition, 70.0), (Area::RuralTeachers, 80.0)],
            ),
        ];
        let (items, hidden) = ranked_schools(&schools, Audience::Teachers, 10);
        assert_eq!(hidden, 1);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].label, "乙校");
        assert!((items[0].value.expect("value") - 75.0).abs() < 1e-12);
        assert!(!items[0].too_few);
        // Parents: nobody hidden; 4 answers below a minimum of 10 is too few to rank.
        let (items, hidden) = ranked_schools(&schools, Audience::Parents, 10);
        assert_eq!(hidden, 0);
        assert!(items[0].too_few);
        assert!(hidden_note(1).contains(TEACHERS_HIDDEN_NOTE));
        assert!(hidden_note(0).is_empty());
    }

    #[test]
    fn heat_cells_are_values_too_few_or_empty() {
        let schools = vec![
            evidence(1, "甲校", 3, &[(Area::Nutrition, 90.0)]),
            evidence(2, "乙校", 12, &[(Area::Nutrition, 70.0)]),
        ];
        let columns = [Area::Nutrition, Area::RuralTeachers];
        let (rows, hidden) = heat_rows(&schools, Audience::Parents, 10, &columns);
        assert_eq!(hidden, 0);
        assert_eq!(rows[0].cells, vec![HeatCell::TooFew, HeatCell::TooFew]);
        assert_eq!(rows[1].cells, vec![HeatCell::Value(70.0), HeatCell::Empty]);
    }

    #[test]
    fn radar_series_leave_areas_without_figures_empty() {
        let values = BTreeMap::from([(Area::Nutrition, 88.0), (Area::Overall, 70.0)]);
        let series = radar_series("全县", 10, &values);
        assert_eq!(series.values.len(), 7);
        assert_eq!(series.values.iter().flatten().count(), 1);
        assert_eq!(radar_axes().len(), 7);
    }
}
