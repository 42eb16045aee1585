//! Two groups of schools of one campaign side by side — key-village schools and the rest, one
//! township and another, one kind of school and another — per area and per scored question,
//! each with its n and interval, and whether the difference is more than chance
//! ([`crate::rating::compare`]: the two-proportion z-test for rates, Welch's t-test for indices).
//! The comparison of two results is pure; [`compare_groups`] fetches them.

use serde::Serialize;

use super::{
    AreaResult, DateRange, ResultsError, ResultsFilter, SurveyResults, campaign_results,
    estimate_interval,
};
use crate::rating::Plan;
use crate::rating::compare::{Comparison, MeanSample, RateSample, compare_means, compare_rates};
use crate::rating::satisfaction::Satisfaction;
use crate::rating::stats::Interval;
use crate::schools::SchoolKind;
use crate::survey::Area;

/// Which two groups to compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// Schools in key villages (重点村) against the rest.
    KeyVillage,
    Townships(String, String),
    Kinds(SchoolKind, SchoolKind),
}

/// A comparison the page could not have asked for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    #[error("没有“{0}”这种比较方式。")]
    Unknown(String),
    #[error("请选择要比较的两个乡镇或两种学校类型。")]
    Missing,
    #[error("请选择两个不同的组进行比较。")]
    Same,
    #[error("没有“{0}”这种学校类型。")]
    Kind(String),
}

impl GroupBy {
    /// Reads the comparison form: `key_village`, or `township` / `kind` with the two groups;
    /// `None` when no comparison was asked for.
    pub fn parse(by: &str, a: &str, b: &str) -> Result<Option<GroupBy>, GroupError> {
        let (a, b) = (a.trim(), b.trim());
        let two = || {
            if a.is_empty() || b.is_empty() {
                Err(GroupError::Missing)
            } else if a == b {
                Err(GroupError::Same)
            } else {
                Ok(())
            }
        };
        match by.trim() {
            "" => Ok(None),
            "key_village" => Ok(Some(GroupBy::KeyVillage)),
            "township" => {
                two()?;
                Ok(Some(GroupBy::Townships(a.to_owned(), b.to_owned())))
            }
            "kind" => {
                two()?;
                let kind = |text: &str| {
                    SchoolKind::parse(text).ok_or_else(|| GroupError::Kind(text.to_owned()))
                };
                Ok(Some(GroupBy::Kinds(kind(a)?, kind(b)?)))
            }
            other => Err(GroupError::Unknown(other.to_owned())),
        }
    }

    /// The two groups' names and filters (within `dates`).
    pub fn groups(&self, dates: DateRange) -> [(String, ResultsFilter); 2] {
        let filter = |edit: &dyn Fn(&mut ResultsFilter)| {
            let mut filter = ResultsFilter {
                dates,
                ..ResultsFilter::default()
            };
            edit(&mut filter);
            filter
        };
        match self {
            GroupBy::KeyVillage => [
                (
                    "重点村学校".to_owned(),
                    filter(&|f| f.key_village = Some(true)),
                ),
                (
                    "非重点村学校".to_owned(),
                    filter(&|f| f.key_village = Some(false)),
                ),
            ],
            GroupBy::Townships(a, b) => [
                (a.clone(), filter(&|f| f.township = Some(a.clone()))),
                (b.clone(), filter(&|f| f.township = Some(b.clone()))),
            ],
            GroupBy::Kinds(a, b) => [
                (a.label().to_owned(), filter(&|f| f.kind = Some(*a))),
                (b.label().to_owned(), filter(&|f| f.kind = Some(*b))),
            ],
        }
    }
}

/// One group's figure: an area's index or a question's rate or index.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Figure {
    /// A rate as a fraction (0–1), or an index (0–100).
    pub value: f64,
    pub interval: Option<Interval>,
    pub n: u64,
}

/// One area of both groups.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComparedArea {
    pub area: Area,
    pub a: Option<Figure>,
    pub b: Option<Figure>,
    /// Welch's t-test on the area indices, from their standard errors.
    pub comparison: Option<Comparison>,
}

/// One scored question (or matrix statement) of both groups.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComparedQuestion {
    pub key: String,
    pub text: String,
    pub a_rate: Option<Figure>,
    pub b_rate: Option<Figure>,
    pub rate: Option<Comparison>,
    pub a_index: Option<Figure>,
    pub b_index: Option<Figure>,
    pub index: Option<Comparison>,
}

fn area_figure(area: &AreaResult) -> Option<Figure> {
    Some(Figure {
        value: area.mean?,
        interval: area.estimate.and_then(estimate_interval),
        n: area.n,
    })
}

/// An area as a mean for Welch's test: its respondents' mean, spread and number, without the
/// finite-population correction (surveys/METHOD.md, `compare`).
fn area_sample(area: &AreaResult) -> Option<MeanSample> {
    Some(MeanSample {
        n: area.n,
        mean: area.mean?,
        sd: area.sd?,
    })
}

fn rate_figure(summary: Option<&Satisfaction>) -> Option<Figure> {
    let summary = summary?;
    Some(Figure {
        value: summary.rate?,
        interval: summary.rate_interval,
        n: summary.n,
    })
}

fn index_figure(summary: Option<&Satisfaction>) -> Option<Figure> {
    let summary = summary?;
    Some(Figure {
        value: summary.index?,
        interval: summary.index_interval,
        n: summary.n,
    })
}

/// Both groups' areas and scored questions side by side, each with its test.
pub fn compare_results(
    a: &SurveyResults,
    b: &SurveyResults,
) -> (Vec<ComparedArea>, Vec<ComparedQuestion>) {
    let areas = a
        .areas
        .iter()
        .zip(&b.areas)
        .filter(|(a, _)| a.questions > 0)
        .map(|(a_area, b_area)| ComparedArea {
            area: a_area.area,
            a: area_figure(a_area),
            b: area_figure(b_area),
            comparison: area_sample(a_area)
                .zip(area_sample(b_area))
                .and_then(|(a, b)| compare_means(a, b)),
        })
        .collect();
    let b_questions: Vec<_> = b.sections.iter().flat_map(|s| &s.questions).collect();
    let questions = a
        .sections
        .iter()
        .flat_map(|section| &section.questions)
        .filter(|question| question.scored)
        .map(|question| {
            let other = b_questions
                .iter()
                .find(|other| other.key == question.key)
                .and_then(|other| other.satisfaction.as_ref());
            let mine = question.satisfaction.as_ref();
            ComparedQuestion {
                key: question.key.clone(),
                text: question.text.clone(),
                a_rate: rate_figure(mine),
                b_rate: rate_figure(other),
                rate: mine
                    .and_then(RateSample::of)
                    .zip(other.and_then(RateSample::of))
                    .and_then(|(a, b)| compare_rates(a, b)),
                a_index: index_figure(mine),
                b_index: index_figure(other),
                index: mine
                    .and_then(MeanSample::of_index)
                    .zip(other.and_then(MeanSample::of_index))
                    .and_then(|(a, b)| compare_means(a, b)),
            }
        })
        .collect();
    (areas, questions)
}

/// Two groups of a campaign compared.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupComparison {
    pub a_label: String,
    pub b_label: String,
    pub a_schools: usize,
    pub b_schools: usize,
    pub a_responses: u64,
    pub b_responses: u64,
    pub areas: Vec<ComparedArea>,
    pub questions: Vec<ComparedQuestion>,
}

/// Compares the two groups of `by` in `campaign_id` (answers within `dates`). A group of a
/// teachers' survey with fewer than 5 answers is refused ([`ResultsError::TooFewTeachers`]),
/// as a school filter would be.
pub async fn compare_groups(
    db: &(impl sea_orm::ConnectionTrait + sea_orm::TransactionTrait),
    plan: &Plan,
    campaign_id: i32,
    by: &GroupBy,
    dates: DateRange,
) -> Result<GroupComparison, ResultsError> {
    let [(a_label, a_filter), (b_label, b_filter)] = by.groups(dates);
    let a = campaign_results(db, plan, campaign_id, &a_filter).await?;
    let b = campaign_results(db, plan, campaign_id, &b_filter).await?;
    let (areas, questions) = compare_results(&a.results, &b.results);
    Ok(GroupComparison {
        a_label,
        b_label,
        a_schools: a.schools_counted,
        b_schools: b.schools_counted,
        a_responses: a.results.responses,
        b_responses: b.results.responses,
        areas,
        questions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answering::scoring::{ScoreSums, score_rows};
    use crate::rating::moments::AreaSums;
    use crate::results::{Group, TallyCount, add_score_row, aggregate, counts_of};
    use crate::survey::{QuestionKind, Survey};

    fn parents() -> Survey {
        crate::survey::load_dir(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/surveys"
        )))
        .expect("the shipped plan loads")
        .get("parents")
        .expect("parents")
        .survey
        .clone()
    }

    fn results(survey: &Survey, satisfied: u64, not: u64) -> SurveyResults {
        let QuestionKind::Scale { scale } = &survey.question("meals_quality").expect("q").kind
        else {
            panic!("a scale");
        };
        let rows = [
            TallyCount {
                school_id: 1,
                question_key: "meals_quality".to_owned(),
                option_key: scale.points[0].code.clone(),
                count: satisfied,
            },
            TallyCount {
                school_id: 1,
                question_key: "meals_quality".to_owned(),
                option_key: scale.points[3].code.clone(),
                count: not,
            },
        ];
        // Each parent's nutrition score is their one meals answer: 100 or 40.
        let mut sums = AreaSums::default();
        for (score, count) in [(100.0, satisfied), (40.0, not)] {
            for _ in 0..count {
                for (key, row) in score_rows(&[(Area::Nutrition, score)]) {
                    let mut one = ScoreSums::default();
                    one.add(&row, 1);
                    add_score_row(&mut sums, key, &one);
                }
            }
        }
        let weights = crate::rating::rules::tests::customary_rules().area_weights;
        aggregate(
            survey,
            &counts_of(&rows),
            &sums,
            Group {
                responses: satisfied + not,
                population: None,
            },
            30,
            &weights,
        )
    }

    #[test]
    fn a_scored_question_is_compared_with_the_two_proportion_test() {
        let survey = parents();
        // 45 of 60 satisfied against 30 of 60: z = 2√2, p = 0.005 (see rating::compare).
        let (areas, questions) =
            compare_results(&results(&survey, 45, 15), &results(&survey, 30, 30));
        let meals = questions
            .iter()
            .find(|question| question.key == "meals_quality")
            .expect("meals_quality is scored");
        let rate = meals.rate.as_ref().expect("both groups have a rate");
        assert_eq!(rate.sentence, "差异明显（p = 0.005），不太可能是偶然造成的");
        assert_eq!(meals.a_rate.expect("a rate").n, 60);
        assert!(meals.index.as_ref().expect("an index test").clear);
        let nutrition = areas
            .iter()
            .find(|area| area.area == Area::Nutrition)
            .expect("the nutrition area");
        assert!(nutrition.comparison.as_ref().expect("a test").clear);
        // A question nobody answered in either group has no test.
        assert!(
            questions
                .iter()
                .filter(|question| question.key != "meals_quality")
                .all(|question| question.rate.is_none())
        );
    }

    #[test]
    fn the_form_names_two_different_groups() {
        assert_eq!(GroupBy::parse("", "", ""), Ok(None));
        assert_eq!(
            GroupBy::parse("key_village", "", ""),
            Ok(Some(GroupBy::KeyVillage))
        );
        assert_eq!(
            GroupBy::parse("township", "石门镇", "石门镇"),
            Err(GroupError::Same)
        );
        assert_eq!(
            GroupBy::parse("township", "石门镇", ""),
            Err(GroupError::Missing)
        );
        assert_eq!(
            GroupBy::parse("kind", "小学", "初中"),
            Ok(Some(GroupBy::Kinds(
                SchoolKind::Primary,
                SchoolKind::Junior
            )))
        );
        assert!(GroupBy::parse("kind", "小学", "大学").is_err());
        let [(a, a_filter), (b, _)] = GroupBy::KeyVillage.groups(DateRange::default());
        assert_eq!((a.as_str(), b.as_str()), ("重点村学校", "非重点村学校"));
        assert_eq!(a_filter.key_village, Some(true));
    }
}
