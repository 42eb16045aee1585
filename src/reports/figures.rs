//! From the figures of `results` to the inputs of `charts`: pure, unit-tested functions shared
//! by the results page and the reports.

use std::collections::BTreeMap;

use crate::charts::{
    self, Chart, DistributionBar, DistributionPoint, HeatCell, HeatRow, RadarSeries, RankedItem,
};
use crate::rating::satisfaction;
use crate::rating::score::needed_answers;
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

/// Whether a school's answers are fewer than it needs (`rating::score::needed_answers`).
fn too_few(school: &CampaignEvidence, minimum: u64) -> bool {
    school.answers < needed_answers(minimum, school.answers, school.population)
}

/// Each school's overall index from one campaign's evidence (its 总指数: the plan's area
/// weights over the areas with an estimate, the same figure as the school's score from this
/// campaign alone), for the ranking; schools hidden for anonymity left out (and counted).
pub fn ranked_schools(
    evidence: &[CampaignEvidence],
    audience: Audience,
    minimum: u64,
    area_weights: &BTreeMap<Area, f64>,
) -> (Vec<RankedItem>, usize) {
    let mut hidden = 0;
    let mut items = Vec::new();
    for school in evidence {
        if hidden_for_anonymity(audience, school.answers) {
            hidden += 1;
            continue;
        }
        let estimate = school
            .sums
            .as_ref()
            .and_then(|sums| sums.overall(area_weights, school.answers, school.population));
        items.push(RankedItem {
            label: school.school.name.clone(),
            n: school.answers,
            value: estimate.map(|estimate| estimate.value),
            interval: estimate.and_then(estimate_interval),
            too_few: too_few(school, minimum),
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
        let too_few = too_few(school, minimum);
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
    use crate::rating::moments::{AreaSums, Sums};
    use entity::school;

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

    /// A school whose respondents all gave each area the same score.
    fn evidence(id: i32, name: &str, answers: u64, areas: &[(Area, f64)]) -> CampaignEvidence {
        let mut sums = AreaSums::default();
        for (first, x) in areas {
            for (second, y) in areas {
                if first <= second {
                    sums.pairs.insert(
                        (*first, *second),
                        Sums {
                            n: answers,
                            sum_x: answers as f64 * x,
                            sum_y: answers as f64 * y,
                            sum_xy: answers as f64 * x * y,
                        },
                    );
                }
            }
        }
        CampaignEvidence {
            school: school(id, name),
            answers,
            expected: 50,
            population: None,
            areas: sums
                .figures(1.0)
                .into_iter()
                .filter_map(|figure| Some((figure.area, figure.estimate?)))
                .collect(),
            sums: Some(sums),
        }
    }

    fn weights() -> BTreeMap<Area, f64> {
        crate::rating::rules::tests::customary_rules().area_weights
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
        let (items, hidden) = ranked_schools(&schools, Audience::Teachers, 10, &weights());
        assert_eq!(hidden, 1);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].label, "乙校");
        // Nutrition 0.15 and rural teachers 0.15 of the plan: the plain mean here.
        assert!((items[0].value.expect("value") - 75.0).abs() < 1e-12);
        assert!(!items[0].too_few);
        // Parents: nobody hidden; 4 answers below a minimum of 10 is too few to rank.
        let (items, hidden) = ranked_schools(&schools, Audience::Parents, 10, &weights());
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
