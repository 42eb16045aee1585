//! `surveys/METHOD.md`, the written method of every published figure: built into the binary,
//! rendered once to HTML for the console (`/console/method`, every figure links to a section of
//! it), and read by the tests below, which recompute each of its worked examples (`示例` blocks)
//! with the very code that publishes the figures, so that the text cannot drift from the code.
//! Nothing here does I/O.

use std::sync::OnceLock;

/// The method as written.
pub const METHOD: &str = include_str!("../../surveys/METHOD.md");

/// The sections' anchors, for pages that link to them; the tests check every one exists.
pub const ANCHORS: [&str; 25] = [
    "answers",
    "population",
    "question",
    "rating-question",
    "respondent",
    "area-score",
    "overall-index",
    "intervals",
    "quantiles",
    "minimum",
    "coverage",
    "combining",
    "school-variance",
    "grades",
    "county",
    "indicators",
    "self-check",
    "numbers",
    "targets",
    "compare",
    "withheld",
    "charts",
    "verified",
    "rectification",
    "accountability",
];

/// The method as HTML (tables, no raw scripts: the file is ours and built in), rendered once.
pub fn html() -> &'static str {
    static HTML: OnceLock<String> = OnceLock::new();
    HTML.get_or_init(|| {
        let parser =
            pulldown_cmark::Parser::new_ext(METHOD, pulldown_cmark::Options::ENABLE_TABLES);
        let mut html = String::with_capacity(METHOD.len() * 2);
        pulldown_cmark::html::push_html(&mut html, parser);
        html
    })
}

/// One worked example: `示例 NAME`, its `输入` and `结果` lines as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    pub name: String,
    pub inputs: Vec<(String, String)>,
    pub results: Vec<(String, String)>,
}

/// Every worked example of the method, in its order.
pub fn examples() -> Vec<Example> {
    let mut examples = Vec::new();
    let mut current: Option<Example> = None;
    for line in METHOD.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("```示例 ") {
            current = Some(Example {
                name: name.trim().to_owned(),
                inputs: Vec::new(),
                results: Vec::new(),
            });
            continue;
        }
        let Some(example) = current.as_mut() else {
            continue;
        };
        if line == "```" {
            examples.extend(current.take());
            continue;
        }
        let pair = |rest: &str| -> Option<(String, String)> {
            let (key, value) = rest.split_once('=')?;
            Some((key.trim().to_owned(), value.trim().to_owned()))
        };
        if let Some(pair) = line.strip_prefix("输入 ").and_then(pair) {
            example.inputs.push(pair);
        } else if let Some(pair) = line.strip_prefix("结果 ").and_then(pair) {
            example.results.push(pair);
        }
    }
    examples
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::answering::scoring::{area_scores, item_index, score_rows};
    use crate::answering::{Answer, Answers, ValidResponse};
    use crate::rating::compare::{MeanSample, RateSample, compare_means, compare_rates};
    use crate::rating::indicators::{Evaluation, NotApplicable, Outcome, indicator_area_scores};
    use crate::rating::moments::{AreaSums, Sums};
    use crate::rating::rules::tests::customary_rules;
    use crate::rating::satisfaction::{PointCount, point_counts, summarise};
    use crate::rating::score::{
        CountySchool, Rated, SchoolEvidence, SchoolRating, SourceEvidence, combine_variances,
        needed_answers, possible_grades, rate_county, rate_school,
    };
    use crate::rating::stats::{
        Estimate, Interval, Range, finite_population_factor, t_quantile_975,
    };
    use crate::rating::{RatingRules, Source};
    use crate::results::describe_score;
    use crate::results::numbers::number_stats;
    use crate::survey::{Area, QuestionKind};

    fn example(name: &str) -> Example {
        examples()
            .into_iter()
            .find(|example| example.name == name)
            .unwrap_or_else(|| panic!("METHOD.md has no example {name}"))
    }

    impl Example {
        fn input(&self, key: &str) -> &str {
            self.inputs
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.as_str())
                .unwrap_or_else(|| panic!("example {}: no input {key}", self.name))
        }

        /// A list of numbers; `-` for none.
        fn numbers(&self, key: &str) -> Vec<Option<f64>> {
            self.input(key)
                .split(',')
                .map(|value| match value.trim() {
                    "-" => None,
                    value => Some(
                        value
                            .parse()
                            .unwrap_or_else(|_| panic!("example {}: {key}: {value}", self.name)),
                    ),
                })
                .collect()
        }

        fn values(&self, key: &str) -> Vec<f64> {
            self.numbers(key).into_iter().flatten().collect()
        }

        fn number(&self, key: &str) -> f64 {
            self.values(key)[0]
        }

        /// Checks the result `key` against `actual`, to the digits the text shows.
        fn shows(&self, key: &str, actual: f64) {
            let (_, written) = self
                .results
                .iter()
                .find(|(name, _)| name == key)
                .unwrap_or_else(|| panic!("example {}: no result {key}", self.name));
            let expected: f64 = written
                .parse()
                .unwrap_or_else(|_| panic!("example {}: {key} = {written}", self.name));
            let decimals = written
                .split_once('.')
                .map_or(0, |(_, digits)| digits.len());
            let tolerance = 0.5 * 10f64.powi(-(decimals as i32)) + 1e-12;
            assert!(
                (actual - expected).abs() <= tolerance,
                "METHOD.md example {}: {key} is written {written}, the code gives {actual}",
                self.name
            );
        }

        fn says(&self, key: &str, actual: &str) {
            let (_, written) = self
                .results
                .iter()
                .find(|(name, _)| name == key)
                .unwrap_or_else(|| panic!("example {}: no result {key}", self.name));
            assert_eq!(written, actual, "METHOD.md example {}: {key}", self.name);
        }
    }

    /// Sums of people with optional scores in some areas (one column per area).
    fn sums_of(areas: &[Area], people: &[Vec<Option<f64>>]) -> AreaSums {
        let mut sums = AreaSums::default();
        for person in people {
            let scores: Vec<(Area, f64)> = areas
                .iter()
                .zip(person)
                .filter_map(|(area, score)| Some((*area, (*score)?)))
                .collect();
            for (key, row) in score_rows(&scores) {
                let Some(pair) = crate::answering::scoring::parse_score_key(key) else {
                    continue;
                };
                sums.pairs.entry(pair).or_default().add(&Sums {
                    n: 1,
                    sum_x: row.sum_x,
                    sum_y: row.sum_y,
                    sum_xy: row.sum_xy,
                });
            }
        }
        sums
    }

    #[test]
    fn every_anchor_and_every_example_is_there() {
        for anchor in ANCHORS {
            assert!(
                METHOD.contains(&format!("<a id=\"{anchor}\"></a>")),
                "METHOD.md has no section {anchor}"
            );
        }
        let names: Vec<String> = examples().into_iter().map(|example| example.name).collect();
        let tested = [
            "population",
            "question",
            "rating-question",
            "respondent",
            "area-score",
            "overall-index",
            "quantiles",
            "minimum",
            "coverage",
            "combining",
            "school-variance",
            "grades",
            "county",
            "indicators",
            "numbers",
            "targets",
            "compare",
        ];
        assert_eq!(names, tested, "every example has a test below, in order");
        let html = html();
        assert!(html.contains("<a id=\"area-score\"></a>"));
        assert!(html.contains("<h2>6. 方面得分及其区间</h2>"));
    }

    #[test]
    fn example_population() {
        let example = example("population");
        let n = example.number("n") as u64;
        let factor = finite_population_factor(n, Some(example.number("N") as u64));
        example.shows("f", 1.0 - factor);
        example.shows("1-f", factor);
    }

    #[test]
    fn example_question() {
        let example = example("question");
        let counts = example.values("counts");
        let scores = example.values("scores");
        let satisfied = example.values("satisfied");
        let points: Vec<PointCount> = counts
            .iter()
            .zip(&scores)
            .zip(&satisfied)
            .map(|((count, score), satisfied)| PointCount {
                score: Some(*score),
                satisfied: *satisfied > 0.0,
                count: *count as u64,
            })
            .collect();
        let n = example.number("n") as u64;
        let fpc = finite_population_factor(n, Some(example.number("N") as u64));
        let summary = summarise(&points, fpc).expect("answers");
        example.shows("n_q", summary.n as f64);
        example.shows("rate", summary.rate.expect("a rate"));
        example.shows("n_e", summary.n as f64 / fpc);
        let rate = summary.rate_interval.expect("an interval");
        example.shows("rate_low", rate.low);
        example.shows("rate_high", rate.high);
        example.shows("mean", summary.mean);
        example.shows("s", summary.sd.expect("sd"));
        example.shows("SE", summary.index_standard_error.expect("se"));
        example.shows("t", t_quantile_975(summary.n as f64 - 1.0).expect("t"));
        let interval = summary.mean_interval.expect("an interval");
        example.shows("low", interval.low);
        example.shows("high", interval.high);
        assert_eq!(
            summary.index_interval,
            Some(interval),
            "the index is the mean"
        );
    }

    #[test]
    fn example_rating_question() {
        let example = example("rating-question");
        let mut counts = BTreeMap::new();
        for rating in example.values("ratings") {
            *counts.entry((rating as u32).to_string()).or_insert(0) += 1;
        }
        let kind = QuestionKind::Rating {
            min_label: None,
            max_label: None,
        };
        let summary =
            summarise(&point_counts(&kind, &counts).expect("a rating"), 1.0).expect("answers");
        example.shows("mean", summary.mean);
        example.shows("s", summary.sd.expect("sd"));
        let interval = summary.mean_interval.expect("an interval");
        example.shows("low", interval.low);
        example.shows("high", interval.high);
        example.shows("index", summary.index.expect("an index"));
        assert_eq!(summary.rate, None);
    }

    #[test]
    fn example_respondent() {
        let example = example("respondent");
        let teachers = crate::survey::load_dir(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/surveys"
        )))
        .expect("the shipped plan loads")
        .get("teachers")
        .expect("teachers")
        .survey
        .clone();
        let support = teachers.question("support").expect("support");
        let QuestionKind::Matrix { rows, .. } = &support.kind else {
            panic!("support is a matrix");
        };
        let codes: Vec<String> = example
            .values("matrix")
            .iter()
            .map(|code| (*code as u32).to_string())
            .collect();
        let matrix = Answer::Rows(rows.iter().map(|row| row.id.clone()).zip(codes).collect());
        example.shows(
            "matrix_item",
            item_index(&support.kind, &matrix).expect("an item"),
        );
        let response = ValidResponse {
            answers: Answers::from([
                ("support", matrix),
                (
                    "allowance_satisfaction",
                    Answer::Choice((example.number("scale") as u32).to_string().as_str().into()),
                ),
                (
                    "allowance_paid",
                    Answer::Choice(example.input("yes_no").into()),
                ),
            ]),
        };
        let areas = area_scores(&teachers, &response);
        assert_eq!(areas.len(), 1);
        assert_eq!(areas[0].0, Area::RuralTeachers);
        example.shows("area", areas[0].1);
    }

    #[test]
    fn example_area_score() {
        let example = example("area-score");
        let people: Vec<Vec<Option<f64>>> = example
            .values("scores")
            .into_iter()
            .map(|score| vec![Some(score)])
            .collect();
        let sums = sums_of(&[Area::Nutrition], &people);
        let n = example.number("n") as u64;
        let fpc = finite_population_factor(n, Some(example.number("N") as u64));
        let figure = sums.figure(Area::Nutrition, fpc).expect("respondents");
        let estimate = figure.estimate.expect("an estimate");
        example.shows("A", figure.mean);
        example.shows("s", figure.sd.expect("sd"));
        example.shows("SE", estimate.standard_error);
        example.shows("df", estimate.df.expect("df"));
        example.shows("t", t_quantile_975(estimate.df.expect("df")).expect("t"));
        let interval = estimate.interval(Range::SCORE).expect("an interval");
        example.shows("low", interval.low);
        example.shows("high", interval.high);
    }

    #[test]
    fn example_overall_index() {
        let example = example("overall-index");
        let nutrition = example.numbers("nutrition");
        let overall = example.numbers("overall");
        let people: Vec<Vec<Option<f64>>> = nutrition
            .iter()
            .zip(&overall)
            .map(|(a, b)| vec![*a, *b])
            .collect();
        let areas = [Area::Nutrition, Area::Overall];
        let sums = sums_of(&areas, &people);
        let weights_written = example.values("weights");
        let weights: BTreeMap<Area, f64> = areas.into_iter().zip(weights_written).collect();
        let n = example.number("n") as u64;
        let population = Some(example.number("N") as u64);
        let estimate = sums.overall(&weights, n, population).expect("an index");
        example.shows(
            "A_nutrition",
            sums.figure(Area::Nutrition, 1.0).expect("a").mean,
        );
        example.shows(
            "A_overall",
            sums.figure(Area::Overall, 1.0).expect("b").mean,
        );
        example.shows("index", estimate.value);
        example.shows(
            "sum_u2",
            sums.combined_variance(&[(Area::Nutrition, 0.6), (Area::Overall, 0.4)], 1.0),
        );
        example.shows("V", estimate.standard_error.powi(2));
        example.shows("SE", estimate.standard_error);
        example.shows("df", estimate.df.expect("df"));
        let interval = estimate.interval(Range::SCORE).expect("an interval");
        example.shows("low", interval.low);
        example.shows("high", interval.high);
    }

    #[test]
    fn example_quantiles() {
        let example = example("quantiles");
        for df in example.values("df") {
            example.shows(&format!("t{df}"), t_quantile_975(df).expect("t"));
        }
    }

    #[test]
    fn example_minimum() {
        let example = example("minimum");
        for (minimum, population) in example.values("m").into_iter().zip(example.values("N")) {
            example.shows(
                &format!("needed_{population}"),
                needed_answers(minimum as u64, 0, Some(population as u64)) as f64,
            );
        }
    }

    /// The customary rules, every area scored exactly by the evidence given.
    fn exact(value: f64) -> Estimate {
        Estimate::exact(value)
    }

    #[test]
    fn example_coverage() {
        let example = example("coverage");
        let rules = customary_rules();
        assert_eq!(
            rules.coverage_floor(Source::Parents),
            example.number("floor")
        );
        let evidence: SchoolEvidence = BTreeMap::from([(
            Source::Parents,
            SourceEvidence {
                answers: example.number("n") as u64,
                population: Some(example.number("N") as u64),
                areas: BTreeMap::from([(Area::Nutrition, exact(85.0))]),
                sums: None,
            },
        )]);
        let rating = rate_school(&rules, &evidence);
        let rated = rating.rated().expect("rated");
        example.shows("rate", rated.low_coverage[0].rate);
        example.shows("low_coverage", rated.low_coverage.len() as f64);
    }

    #[test]
    fn example_combining() {
        let example = example("combining");
        let rules: RatingRules = customary_rules();
        let sources = [Source::Parents, Source::Teachers, Source::Indicators];
        for (source, weight) in sources.iter().zip(example.values("sources")) {
            assert_eq!(rules.source_weight(*source), weight);
        }
        let areas = [Area::Nutrition, Area::RuralTeachers, Area::Informatization];
        for (area, weight) in areas.iter().zip(example.values("areas")) {
            assert_eq!(rules.area_weight(*area), weight);
        }
        let mut evidence = SchoolEvidence::new();
        for (column, source) in sources.iter().enumerate() {
            let mut scores = BTreeMap::new();
            for area in areas {
                if let Some(score) = example.numbers(area.slug())[column] {
                    scores.insert(area, exact(score));
                }
            }
            evidence.insert(
                *source,
                SourceEvidence {
                    answers: if *source == Source::Indicators { 1 } else { 40 },
                    population: None,
                    areas: scores,
                    sums: None,
                },
            );
        }
        let rating = rate_school(&rules, &evidence);
        let rated = rating.rated().expect("rated");
        let area = |area: Area| {
            rated
                .areas
                .iter()
                .find(|score| score.area == area)
                .expect("an area score")
        };
        example.shows("nutrition", area(Area::Nutrition).score);
        example.shows("rural_teachers", area(Area::RuralTeachers).score);
        example.shows("score", rated.score);
        let coefficient = |area_: Area, source: Source| {
            let score = area(area_);
            let (_, share) = score
                .sources
                .iter()
                .find(|(known, _)| *known == source)
                .expect("the source");
            score.share * share
        };
        example.shows(
            "c_parents_nutrition",
            coefficient(Area::Nutrition, Source::Parents),
        );
        example.shows(
            "c_parents_rural_teachers",
            coefficient(Area::RuralTeachers, Source::Parents),
        );
        example.shows(
            "c_teachers_rural_teachers",
            coefficient(Area::RuralTeachers, Source::Teachers),
        );
    }

    #[test]
    fn example_school_variance() {
        let example = example("school-variance");
        let components: Vec<(f64, Option<f64>)> = example
            .values("V")
            .into_iter()
            .zip(example.values("df"))
            .map(|(variance, df)| (variance, Some(df)))
            .collect();
        let (variance, df) = combine_variances(&components);
        let df = df.expect("df");
        let t = t_quantile_975(df).expect("t");
        example.shows("V", variance);
        example.shows("SE", variance.sqrt());
        example.shows("df", df);
        example.shows("t", t);
        example.shows("half", t * variance.sqrt());
    }

    #[test]
    fn example_grades() {
        let example = example("grades");
        let rules = customary_rules();
        let scores = example.values("score");
        for score in &scores[..2] {
            example.shows(
                &format!("shown_{score}"),
                describe_score(*score, None).parse().expect("a number"),
            );
            example.says(&format!("grade_{score}"), &rules.grade(*score).grade);
        }
        let ends = example.values("interval");
        let grades = possible_grades(
            &rules,
            Interval {
                low: ends[0],
                high: ends[1],
            },
        );
        assert!(grades.contains(&rules.grade(scores[2]).grade));
        example.shows("provisional", f64::from(u8::from(grades.len() > 1)));
    }

    #[test]
    fn example_county() {
        let example = example("county");
        let ratings: Vec<SchoolRating> = example
            .values("scores")
            .into_iter()
            .zip(example.values("SE"))
            .zip(example.values("df"))
            .map(|((score, standard_error), df)| {
                SchoolRating::Rated(Rated {
                    score,
                    standard_error,
                    df: Some(df),
                    interval: Interval::around(score, 0.0),
                    grade: String::new(),
                    provisional: false,
                    possible_grades: Vec::new(),
                    areas: Vec::new(),
                    missing_areas: Vec::new(),
                    low_coverage: Vec::new(),
                })
            })
            .collect();
        let schools: Vec<CountySchool> = ratings
            .iter()
            .zip(example.values("enrolment"))
            .map(|(rating, enrolment)| CountySchool {
                enrolment: enrolment as u64,
                rating,
            })
            .collect();
        let county = rate_county(&customary_rules(), &schools);
        let rated = county.rated.expect("rated");
        example.shows("score", rated.score);
        example.shows("V", rated.standard_error.powi(2));
        example.shows("df", rated.df.expect("df"));
        example.shows("low", rated.interval.low);
        example.shows("high", rated.interval.high);
    }

    #[test]
    fn example_indicators() {
        let example = example("indicators");
        let outcomes: Vec<&str> = example
            .input("outcomes")
            .split(',')
            .map(str::trim)
            .collect();
        let evaluations: Vec<Evaluation> = example
            .values("weights")
            .into_iter()
            .zip(outcomes)
            .map(|(weight, outcome)| Evaluation {
                indicator: String::new(),
                area: Area::Nutrition,
                weight,
                outcome: match outcome {
                    "met" => Outcome::Met,
                    "not_met" => Outcome::NotMet,
                    "not_reported" => Outcome::NotReported {
                        question: String::new(),
                    },
                    _ => Outcome::NotApplicable {
                        reason: NotApplicable::SchoolNotCovered,
                    },
                },
                value: None,
                answer: None,
                target: None,
                doubt: None,
            })
            .collect();
        let scores = indicator_area_scores(&evaluations);
        example.shows("score", scores[&Area::Nutrition].value);
    }

    #[test]
    fn example_numbers() {
        let example = example("numbers");
        let stats = number_stats(&example.values("values"), false);
        example.shows("n", stats.n as f64);
        example.shows("sum", stats.sum.expect("a sum"));
        example.shows("mean", stats.mean.expect("a mean"));
        example.shows("median", stats.median.expect("a median"));
        example.shows("min", stats.min.expect("a min"));
        example.shows("max", stats.max.expect("a max"));
    }

    #[test]
    fn example_targets() {
        use crate::rating::targets::{SchoolStatus, TargetSchool};
        let example = example("targets");
        let count = example.number("schools") as usize;
        let answers: Vec<Option<serde_json::Map<String, serde_json::Value>>> = example
            .input("answers")
            .split(',')
            .map(|answer| match answer.trim() {
                "-" => None,
                code => {
                    let mut map = serde_json::Map::new();
                    map.insert("canteen_standard".into(), code.into());
                    Some(map)
                }
            })
            .collect();
        assert_eq!(answers.len(), count);
        let schools: Vec<entity::school::Model> = (1..=count)
            .map(|id| {
                let now = chrono::Utc::now();
                entity::school::Model {
                    id: id as i32,
                    code: format!("{id}"),
                    name: format!("学校{id}"),
                    township: "青溪镇".into(),
                    kind: "小学".into(),
                    is_central: false,
                    is_key_village: true,
                    enrolment: 100,
                    teachers: 10,
                    created_at: now,
                    updated_at: now,
                }
            })
            .collect();
        let file = format!(
            "survey = \"school\"\n[[targets]]\nid = \"t\"\ntitle = \"t\"\narea = \"nutrition\"\n\
             basis = \"四（六）\"\nschools = {{ key_village = true }}\n\
             count = {{ choice = \"canteen_standard\", accepted = [\"{}\"], not_applicable = [\"{}\"] }}\n\
             target = \"{}\"\n",
            example.input("accepted"),
            example.input("not_applicable"),
            example.input("target"),
        );
        let targets = crate::rating::tests::targets_from(&file).expect("the example's target");
        let progress =
            targets[0].progress(schools.iter().zip(&answers).map(|(school, answers)| {
                TargetSchool {
                    school,
                    answers: answers.as_ref(),
                }
            }));
        let in_group = |status: SchoolStatus| {
            progress
                .groups
                .iter()
                .find(|group| group.status == status)
                .map_or(0, |group| group.count)
        };
        example.shows("achieved", progress.achieved);
        example.shows("target", progress.target);
        example.shows("share", progress.share.expect("a share"));
        example.shows("not_submitted", in_group(SchoolStatus::NotSubmitted) as f64);
        example.shows(
            "not_applicable",
            in_group(SchoolStatus::NotApplicable) as f64,
        );
    }

    #[test]
    fn example_compare() {
        let example = example("compare");
        let rates: Vec<RateSample> = example
            .input("rates")
            .split(',')
            .map(|rate| {
                let (successes, n) = rate.trim().split_once('/').expect("x/n");
                RateSample {
                    successes: successes.parse().expect("x"),
                    n: n.parse().expect("n"),
                }
            })
            .collect();
        let rates = compare_rates(rates[0], rates[1]).expect("a test");
        example.shows("z", rates.statistic);
        example.shows("p_rates", rates.p_value);
        let samples: Vec<MeanSample> = example
            .values("means")
            .into_iter()
            .zip(example.values("sd"))
            .zip(example.values("n"))
            .map(|((mean, sd), n)| MeanSample {
                n: n as u64,
                mean,
                sd,
            })
            .collect();
        let means = compare_means(samples[0], samples[1]).expect("a test");
        example.shows("t", means.statistic);
        example.shows("df", means.df.expect("df"));
        example.shows("p_means", means.p_value);
    }
}
