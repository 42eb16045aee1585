//! A respondent's scores (surveys/METHOD.md, section `respondent`): each scored question the
//! person answered becomes one item on 0–100 (a matrix is one item, the mean of its answered
//! rows), and each area the mean of the person's items in it. The running sums the results are
//! built from ([`score_rows`]) are the count, sums and sums of products of these area scores,
//! one row per area and per pair of areas, so that an area's mean and spread and the exact
//! variance of any weighted sum of areas can be read without scanning the answers.
//!
//! The writer adds a response's rows in the transaction that stores it, a supervisor's exclusion
//! takes them out again, and the date-filtered scan adds them up from the stored answers: all
//! three through the functions here. Pure: no I/O.

use std::sync::OnceLock;

use super::validate::{Answer, ValidResponse};
use crate::survey::{Area, QuestionKind, Survey};

/// One question's answer as an item on 0–100: (score − lowest) / (highest − lowest) · 100 over
/// the scores the question's options carry. `None` when the answer carries no score (不清楚),
/// or the question's options all score the same, or the kind is never scored.
///
/// - scale, single, yes/no: the chosen option's score;
/// - matrix: the mean of the items of its answered rows (one item for the whole matrix);
/// - multiple: the mean of the items of its chosen options that carry a score;
/// - rating: the number times 10.
pub fn item_index(kind: &QuestionKind, answer: &Answer) -> Option<f64> {
    match (kind, answer) {
        (QuestionKind::Scale { scale }, Answer::Choice(code)) => {
            let scores = scale
                .points
                .iter()
                .map(|point| (point.code.as_str(), point.score));
            index_of(scores, code)
        }
        (QuestionKind::Matrix { scale, .. }, Answer::Rows(rows)) => rows
            .values()
            .filter_map(|code| {
                index_of(
                    scale
                        .points
                        .iter()
                        .map(|point| (point.code.as_str(), point.score)),
                    code,
                )
            })
            .collect::<Mean>()
            .value(),
        (QuestionKind::Single { options }, Answer::Choice(code)) => index_of(
            options
                .iter()
                .map(|option| (option.code.as_str(), option.score)),
            code,
        ),
        (QuestionKind::Multiple { options, .. }, Answer::Choices(codes)) => codes
            .iter()
            .filter_map(|code| {
                index_of(
                    options
                        .iter()
                        .map(|option| (option.code.as_str(), option.score)),
                    code,
                )
            })
            .collect::<Mean>()
            .value(),
        (
            QuestionKind::YesNo {
                yes_score: Some(yes),
                no_score: Some(no),
            },
            Answer::Choice(code),
        ) => index_of([("yes", Some(*yes)), ("no", Some(*no))].into_iter(), code),
        (QuestionKind::Rating { .. }, Answer::Choice(code)) => code
            .parse::<u32>()
            .ok()
            .filter(|value| *value <= 10)
            .map(|value| f64::from(value) * 10.0),
        _ => None,
    }
}

/// The chosen code's score rescaled over the scored options' range.
fn index_of<'a>(
    scores: impl Iterator<Item = (&'a str, Option<f64>)> + Clone,
    code: &str,
) -> Option<f64> {
    let chosen = scores.clone().find(|(known, _)| *known == code)?.1?;
    let (lowest, highest) = scores
        .filter_map(|(_, score)| score)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), score| {
            (low.min(score), high.max(score))
        });
    let range = highest - lowest;
    (range > 0.0).then(|| (chosen - lowest) / range * 100.0)
}

/// A mean of items taken as they come: their sum, added in order, and their count (the same
/// figure as summing a list of them, without the list).
#[derive(Clone, Copy, Debug, Default)]
struct Mean {
    sum: f64,
    count: usize,
}

impl Mean {
    fn add(&mut self, item: f64) {
        self.sum += item;
        self.count += 1;
    }

    fn value(self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}

impl FromIterator<f64> for Mean {
    fn from_iter<I: IntoIterator<Item = f64>>(items: I) -> Self {
        let mut mean = Mean::default();
        items.into_iter().for_each(|item| mean.add(item));
        mean
    }
}

// `area_scores` keeps an area's items at the area's position in `Area::ALL`.
const _: () = {
    let mut position = 0;
    while position < Area::ALL.len() {
        assert!(Area::ALL[position] as usize == position);
        position += 1;
    }
};

/// The person's score in each area where they answered a scored question with a score: the
/// mean of their items there, each scored question counting once. In the order of
/// [`Area::ALL`].
pub fn area_scores(survey: &Survey, response: &ValidResponse) -> Vec<(Area, f64)> {
    let mut means = [Mean::default(); Area::ALL.len()];
    for section in &survey.sections {
        let mean = &mut means[section.area as usize];
        for question in section.questions.iter().filter(|question| question.scored) {
            let Some(answer) = response.answers.get(question.id.as_str()) else {
                continue;
            };
            if let Some(item) = item_index(&question.kind, answer) {
                mean.add(item);
            }
        }
    }
    Area::ALL
        .into_iter()
        .zip(means)
        .filter_map(|(area, mean)| Some((area, mean.value()?)))
        .collect()
}

/// Running sums over the respondents of one school in one campaign, for one area (`x` = `y` =
/// the area score) or one pair of areas (`x` the first area's score, `y` the second's, over the
/// respondents who have both).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ScoreSums {
    pub n: i64,
    pub sum_x: f64,
    pub sum_y: f64,
    pub sum_xy: f64,
}

impl ScoreSums {
    /// Adds `other`, or takes it away when `sign` is −1.
    pub fn add(&mut self, other: &ScoreSums, sign: i64) {
        let factor = sign as f64;
        self.n += sign * other.n;
        self.sum_x += factor * other.sum_x;
        self.sum_y += factor * other.sum_y;
        self.sum_xy += factor * other.sum_xy;
    }
}

/// The key of a row of sums: an area's slug (`nutrition`), or two areas' slugs in the order of
/// [`Area::ALL`] joined by `|` (`nutrition|overall`). Made once for every pair: an answer has
/// some twenty rows of sums, and the writer adds them on its one thread.
pub fn score_key(first: Area, second: Area) -> &'static str {
    static KEYS: OnceLock<Vec<String>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        let mut keys = Vec::with_capacity(Area::ALL.len() * Area::ALL.len());
        for first in Area::ALL {
            for second in Area::ALL {
                keys.push(if first == second {
                    first.slug().to_owned()
                } else {
                    format!("{}|{}", first.slug(), second.slug())
                });
            }
        }
        keys
    });
    let place = |area: Area| Area::ALL.iter().position(|one| *one == area).unwrap_or(0);
    keys.get(place(first) * Area::ALL.len() + place(second))
        .map_or("", String::as_str)
}

/// The areas of a key written by [`score_key`].
pub fn parse_score_key(key: &str) -> Option<(Area, Area)> {
    match key.split_once('|') {
        None => {
            let area = Area::parse(key)?;
            Some((area, area))
        }
        Some((first, second)) => Some((Area::parse(first)?, Area::parse(second)?)),
    }
}

/// What one respondent adds to the running sums: one row per area they have a score in, and
/// one per pair of such areas (first area earlier in [`Area::ALL`]).
pub fn score_rows(areas: &[(Area, f64)]) -> Vec<(&'static str, ScoreSums)> {
    let mut rows = Vec::with_capacity(areas.len() * (areas.len() + 1) / 2);
    for (index, (first, x)) in areas.iter().enumerate() {
        for (second, y) in &areas[index..] {
            rows.push((
                score_key(*first, *second),
                ScoreSums {
                    n: 1,
                    sum_x: *x,
                    sum_y: *y,
                    sum_xy: x * y,
                },
            ));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::answering::{FormFields, validate};

    fn survey(id: &str) -> Survey {
        crate::survey::load_dir(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/surveys"
        )))
        .expect("the shipped plan loads")
        .get(id)
        .expect("the survey is in the plan")
        .survey
        .clone()
    }

    fn answered<'s>(survey: &'s Survey, pairs: &[(&str, &str)]) -> ValidResponse<'s> {
        let fields = FormFields::new(
            pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        );
        validate(survey, &fields).unwrap_or_else(|errors| panic!("{errors:?}"))
    }

    #[test]
    fn a_matrix_is_one_item_the_mean_of_its_rows() {
        let teachers = survey("teachers");
        let kind = &teachers.question("support").expect("support").kind;
        // 非常满意 100, 满意 80, 基本满意 60, 不满意 40 over five rows: (100+80+60+40+100)/5.
        let rows = BTreeMap::from([
            ("salary".to_owned(), "5".to_owned()),
            ("housing".to_owned(), "4".to_owned()),
            ("workplace".to_owned(), "3".to_owned()),
            ("title".to_owned(), "2".to_owned()),
            ("growth".to_owned(), "5".to_owned()),
        ]);
        assert_eq!(item_index(kind, &Answer::Rows(rows)), Some(76.0));
    }

    #[test]
    fn an_unscored_point_is_no_item_and_a_rating_is_its_number_times_ten() {
        let rating = QuestionKind::Rating {
            min_label: None,
            max_label: None,
        };
        assert_eq!(item_index(&rating, &Answer::Choice("7".into())), Some(70.0));
        let yes_no = QuestionKind::YesNo {
            yes_score: Some(0.0),
            no_score: Some(100.0),
        };
        assert_eq!(
            item_index(&yes_no, &Answer::Choice("yes".into())),
            Some(0.0)
        );
        let same = QuestionKind::YesNo {
            yes_score: Some(50.0),
            no_score: Some(50.0),
        };
        assert_eq!(item_index(&same, &Answer::Choice("yes".into())), None);
    }

    #[test]
    fn a_parent_is_scored_area_by_area_each_question_once() {
        let parents = survey("parents");
        // Codes of the satisfaction scale: 5 非常满意 … 1 非常不满意.
        let response = answered(
            &parents,
            &[
                ("stage", "primary"),
                ("poor_household", "no"),
                ("school_conditions", "5"),
                ("boarding", "no"),
                ("meals_quality", "4"),
                ("canteen_hygiene", "3"),
                ("teacher_care", "5"),
                ("teaching_quality", "5"),
                ("home_school_contact", "2"),
                ("left_behind", "no"),
                ("fairness", "4"),
                ("progress", "4"),
                ("overall_satisfaction", "5"),
            ],
        );
        let areas = area_scores(&parents, &response);
        assert_eq!(
            areas,
            vec![
                (Area::EducationStages, 100.0),
                (Area::RuralTeachers, (100.0 + 100.0 + 40.0) / 3.0),
                (Area::Nutrition, 70.0),
                (Area::Overall, (80.0 + 80.0 + 100.0) / 3.0),
            ]
        );
        let rows = score_rows(&areas);
        assert_eq!(rows.len(), 4 + 6);
        assert_eq!(rows[0].0, "education_stages");
        assert_eq!(rows[1].0, "education_stages|rural_teachers");
        let (areas_back, sums) = &rows[1];
        assert_eq!(
            parse_score_key(areas_back),
            Some((Area::EducationStages, Area::RuralTeachers))
        );
        assert_eq!(sums.sum_xy, 100.0 * 80.0);
        assert_eq!(
            parse_score_key("nutrition"),
            Some((Area::Nutrition, Area::Nutrition))
        );
        assert_eq!(parse_score_key("nutrition|nope"), None);
    }

    #[test]
    fn every_pair_of_areas_has_a_key_of_its_own_that_reads_back() {
        let mut seen = std::collections::BTreeSet::new();
        for first in Area::ALL {
            for second in Area::ALL {
                let key = score_key(first, second);
                assert_eq!(parse_score_key(key), Some((first, second)), "{key}");
                assert!(seen.insert(key), "{key} twice");
            }
        }
        assert_eq!(
            score_key(Area::Nutrition, Area::Overall),
            "nutrition|overall"
        );
        assert_eq!(score_key(Area::Overall, Area::Overall), "overall");
    }
}
