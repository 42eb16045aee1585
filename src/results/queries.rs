//! The reads behind the results: a campaign's tally rows (filtered by school), the self-check
//! answers of a school campaign (one response per school), and the assembly of a campaign's
//! results from them through the pure functions beside this module.

use std::collections::{BTreeMap, HashMap};

use entity::{campaign, response, school};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Statement, TransactionTrait,
};

use super::overall::{
    CampaignEvidence, CombinedTable, RatingTable, rate_campaign, rate_combined, source_of,
};
use super::scan::DateRange;
use super::scan::scan_counts;
use super::self_checks::{IndicatorTable, SelfCheck, indicator_table_verified};
use super::{
    Group, ResultsFilter, SchoolCounts, SchoolSums, SurveyResults, add_count, add_score_row,
    add_up, aggregate, shown_alone,
};
use crate::answering::scoring::ScoreSums;
use crate::campaigns::{self, CampaignError};
use crate::rating::moments::AreaSums;
use crate::rating::rules::QualityRules;
use crate::rating::stats::finite_population_factor;
use crate::rating::{Plan, Source};
use crate::survey::{Audience, Survey};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("no campaign {0}")]
    NotFound(i32),
    #[error("survey version {0} of the campaign is missing")]
    MissingSurvey(i32),
    /// A teachers' survey narrowed to a school (or group) with fewer than
    /// [`super::TEACHERS_SHOWN_ALONE`] included answers.
    #[error("为保护教师匿名，答卷少于 5 份的学校不单独显示。")]
    TooFewTeachers,
    /// A teachers' survey narrowed to dates: two ranges' difference could isolate a teacher.
    #[error("{}", super::TEACHERS_BY_DATE)]
    TeachersByDate,
    #[error(transparent)]
    Campaign(CampaignError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<CampaignError> for ResultsError {
    fn from(error: CampaignError) -> Self {
        match error {
            CampaignError::NotFound(id) => ResultsError::NotFound(id),
            CampaignError::Db(error) => ResultsError::Db(error),
            other => ResultsError::Campaign(other),
        }
    }
}

/// Separate the rows of one school, and the fields of one row, in [`tally_counts`]'s packed
/// read: control characters that no question id or option code may contain.
const ROW_SEPARATOR: char = '\u{1e}';
const FIELD_SEPARATOR: char = '\u{1f}';

/// The counts of a campaign per school, of the schools `school_ids` only when given.
///
/// A campaign of 500 schools has tens of thousands of tally rows, and the SQLite driver hands
/// every row from its worker thread to the async side one at a time (a wake-up per row), which
/// made this read most of the results page's time. So the database packs each school's rows
/// into strings and they are unpacked here: one row per school crosses over instead of one per
/// option. SQLite packs each column into its own list (`group_concat` adds every row to every
/// aggregate of its group in turn, so the lists line up), which spares it building a string
/// per row; PostgreSQL packs `question␟option␟count` per row into one list (`string_agg`),
/// since lining up several of its lists would need a sort per list.
pub async fn tally_counts(
    db: &(impl ConnectionTrait + TransactionTrait),
    campaign_id: i32,
    school_ids: Option<&[i32]>,
) -> Result<SchoolCounts, DbErr> {
    crate::answering::pending::settle(db, Some(campaign_id)).await?;
    let backend = db.get_database_backend();
    let packed = match backend {
        DbBackend::Postgres => {
            "string_agg(question_key || chr(31) || option_key || chr(31) || count::text, chr(30))"
        }
        _ => {
            "group_concat(question_key, char(30)), group_concat(option_key, char(30)), \
             group_concat(count, char(30))"
        }
    };
    // Only integers are written into the statement.
    let mut sql =
        format!("SELECT school_id, {packed} FROM tally WHERE campaign_id = {campaign_id}");
    if let Some(ids) = school_ids {
        if ids.is_empty() {
            return Ok(SchoolCounts::new());
        }
        let ids: Vec<String> = ids.iter().map(i32::to_string).collect();
        sql.push_str(&format!(" AND school_id IN ({})", ids.join(",")));
    }
    sql.push_str(" GROUP BY school_id");
    let mut by_school = SchoolCounts::new();
    for row in db
        .query_all_raw(Statement::from_string(backend, sql))
        .await?
    {
        let school_id: i32 = row.try_get_by_index(0)?;
        let list = |index: usize| -> Result<String, DbErr> {
            Ok(row
                .try_get_by_index::<Option<String>>(index)?
                .unwrap_or_default())
        };
        let school = by_school.entry(school_id).or_default();
        if backend == DbBackend::Postgres {
            for packed in list(1)?.split(ROW_SEPARATOR) {
                let mut fields = packed.split(FIELD_SEPARATOR);
                if let (Some(question), Some(option), Some(count), None) =
                    (fields.next(), fields.next(), fields.next(), fields.next())
                {
                    add_count(school, question, option, count.parse().unwrap_or(0));
                }
            }
        } else {
            let (questions, options, counts) = (list(1)?, list(2)?, list(3)?);
            for ((question, option), count) in questions
                .split(ROW_SEPARATOR)
                .zip(options.split(ROW_SEPARATOR))
                .zip(counts.split(ROW_SEPARATOR))
            {
                add_count(school, question, option, count.parse().unwrap_or(0));
            }
        }
    }
    Ok(by_school)
}

/// The respondents' score sums of a campaign per school (`score_sum`), of the schools
/// `school_ids` only when given: one packed row per school, like [`tally_counts`].
pub async fn score_sums(
    db: &(impl ConnectionTrait + TransactionTrait),
    campaign_id: i32,
    school_ids: Option<&[i32]>,
) -> Result<SchoolSums, DbErr> {
    crate::answering::pending::settle(db, Some(campaign_id)).await?;
    let backend = db.get_database_backend();
    // Sums are written as text that reads back into the same f64: PostgreSQL (12 and later)
    // writes the shortest exact form, SQLite is asked for 17 significant digits.
    let packed = match backend {
        DbBackend::Postgres => {
            "string_agg(score_key || chr(31) || n::text || chr(31) || sum_x::text || chr(31) || \
             sum_y::text || chr(31) || sum_xy::text, chr(30))"
        }
        _ => {
            "group_concat(score_key || char(31) || n || char(31) || printf('%!.17g', sum_x) || \
             char(31) || printf('%!.17g', sum_y) || char(31) || printf('%!.17g', sum_xy), char(30))"
        }
    };
    // Only integers are written into the statement.
    let mut sql =
        format!("SELECT school_id, {packed} FROM score_sum WHERE campaign_id = {campaign_id}");
    if let Some(ids) = school_ids {
        if ids.is_empty() {
            return Ok(SchoolSums::new());
        }
        let ids: Vec<String> = ids.iter().map(i32::to_string).collect();
        sql.push_str(&format!(" AND school_id IN ({})", ids.join(",")));
    }
    sql.push_str(" GROUP BY school_id");
    let mut by_school = SchoolSums::new();
    for row in db
        .query_all_raw(Statement::from_string(backend, sql))
        .await?
    {
        let school_id: i32 = row.try_get_by_index(0)?;
        let packed: String = row
            .try_get_by_index::<Option<String>>(1)?
            .unwrap_or_default();
        let sums = by_school.entry(school_id).or_default();
        for packed in packed.split(ROW_SEPARATOR) {
            let fields: Vec<&str> = packed.split(FIELD_SEPARATOR).collect();
            let [key, n, sum_x, sum_y, sum_xy] = fields[..] else {
                continue;
            };
            let number = |text: &str| text.trim().parse::<f64>().unwrap_or(0.0);
            let row = ScoreSums {
                n: n.parse().unwrap_or(0),
                sum_x: number(sum_x),
                sum_y: number(sum_y),
                sum_xy: number(sum_xy),
            };
            add_score_row(sums, key, &row);
        }
    }
    Ok(by_school)
}

/// The answers of a campaign that no figure counts, per school (of `schools`, or all), stored
/// within `dates`: how many, how many of them the `[quality]` policy left out (they carry a flag
/// of its `leave_out`: held or released by nobody yet), and how many carried each quality flag
/// (`""` for none). For every page that shows a figure.
pub async fn excluded_answers(
    db: &impl ConnectionTrait,
    campaign_id: i32,
    quality: &QualityRules,
    schools: Option<&[i32]>,
    dates: DateRange,
) -> Result<BTreeMap<i32, Excluded>, DbErr> {
    use sea_orm::QuerySelect;
    let mut query = response::Entity::find()
        .select_only()
        .columns([response::Column::SchoolId, response::Column::Flags])
        .filter(response::Column::CampaignId.eq(campaign_id))
        .filter(response::Column::Excluded.eq(true));
    if let Some(schools) = schools {
        query = query.filter(response::Column::SchoolId.is_in(schools.iter().copied()));
    }
    let (since, until) = dates.bounds();
    if let Some(since) = since {
        query = query.filter(response::Column::SubmittedAt.gte(since));
    }
    if let Some(until) = until {
        query = query.filter(response::Column::SubmittedAt.lt(until));
    }
    let rows: Vec<(i32, Option<String>)> = query.into_tuple().all(db).await?;
    let mut by_school: BTreeMap<i32, Excluded> = BTreeMap::new();
    for (school_id, flags) in rows {
        let excluded = by_school.entry(school_id).or_default();
        excluded.count += 1;
        let flags = crate::rating::flags::parse_flags(flags.as_deref());
        if quality.leaves_out(&flags) {
            excluded.by_policy += 1;
        }
        if flags.is_empty() {
            *excluded.by_flag.entry(String::new()).or_default() += 1;
        }
        for flag in flags {
            *excluded.by_flag.entry(flag.label().to_owned()).or_default() += 1;
        }
    }
    Ok(by_school)
}

/// Answers of one school (or added up over several) that no figure counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Excluded {
    pub count: u64,
    /// Of them, those carrying a flag the `[quality]` policy leaves out (`held`, `burst` by
    /// default); the rest a supervisor excluded.
    pub by_policy: u64,
    /// Flag label (全部选同一档 …, `""` for none) → excluded answers that carried it.
    pub by_flag: BTreeMap<String, u64>,
}

impl Excluded {
    pub fn add(&mut self, other: &Excluded) {
        self.count += other.count;
        self.by_policy += other.by_policy;
        for (flag, count) in &other.by_flag {
            *self.by_flag.entry(flag.clone()).or_default() += count;
        }
    }

    /// Added up over every school of `by_school`.
    pub fn total(by_school: &BTreeMap<i32, Excluded>) -> Excluded {
        let mut total = Excluded::default();
        for school in by_school.values() {
            total.add(school);
        }
        total
    }

    /// `无`, or `3 份（质量规则自动未计入 2 份，督导人员排除 1 份；用时过短 2 份，无质量标记 1 份）`.
    pub fn describe(&self) -> String {
        if self.count == 0 {
            return "无".to_owned();
        }
        let reasons: Vec<String> = self
            .by_flag
            .iter()
            .map(|(flag, count)| {
                let flag = if flag.is_empty() {
                    "无质量标记"
                } else {
                    flag
                };
                format!("{flag} {count} 份")
            })
            .collect();
        format!(
            "{} 份（质量规则自动未计入 {} 份，督导人员排除 {} 份；{}）",
            self.count,
            self.by_policy,
            self.count - self.by_policy,
            reasons.join("，")
        )
    }
}

/// Each school's self-check answers: the latest included response of each school (within the
/// dates). A self-check campaign expects one per school; if a school sent two, the one stored
/// last stands (surveys/METHOD.md, `self-check`).
pub(super) async fn self_check_answers(
    db: &impl ConnectionTrait,
    campaign_id: i32,
    school_ids: &[i32],
    dates: super::DateRange,
) -> Result<HashMap<i32, serde_json::Map<String, serde_json::Value>>, DbErr> {
    let (start, end) = dates.bounds();
    let mut query = response::Entity::find()
        .filter(response::Column::CampaignId.eq(campaign_id))
        .filter(response::Column::Excluded.eq(false))
        .filter(response::Column::SchoolId.is_in(school_ids.iter().copied()));
    if let Some(start) = start {
        query = query.filter(response::Column::SubmittedAt.gte(start));
    }
    if let Some(end) = end {
        query = query.filter(response::Column::SubmittedAt.lt(end));
    }
    let responses = query.order_by_asc(response::Column::Id).all(db).await?;
    let mut answers = HashMap::new();
    for response in responses {
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&response.answers)
        {
            Ok(map) => {
                answers.insert(response.school_id, map);
            }
            Err(error) => {
                tracing::warn!(response = response.id, %error, "stored answers are not a JSON object");
            }
        }
    }
    Ok(answers)
}

/// Everything the results page of a campaign shows.
#[derive(Clone, Debug)]
pub struct CampaignResults {
    pub campaign: campaign::Model,
    pub survey: Survey,
    /// Every school of the campaign, by code (for the filter's choices).
    pub schools: Vec<school::Model>,
    /// How many of them the filter counts.
    pub schools_counted: usize,
    pub results: SurveyResults,
    /// For a self-check campaign.
    pub indicators: Option<IndicatorTable>,
    /// For a self-check campaign: its number questions over the schools counted.
    pub numbers: Option<Vec<super::numbers::NumberSummary>>,
    /// What this campaign says of each school counted, for the combined rating.
    pub evidence: Vec<CampaignEvidence>,
    pub rating: RatingTable,
    /// The answers of the schools counted (within the dates) that no figure counts: excluded
    /// by a supervisor or left out by the `[quality]` policy.
    pub left_out: Excluded,
}

/// The results of a campaign over the schools `filter` lets through.
pub async fn campaign_results(
    db: &(impl ConnectionTrait + TransactionTrait),
    plan: &Plan,
    campaign_id: i32,
    filter: &ResultsFilter,
) -> Result<CampaignResults, ResultsError> {
    let campaign = campaigns::find(db, campaign_id).await?;
    let survey = campaigns::load_version(db, campaign.survey_version_id)
        .await?
        .ok_or(ResultsError::MissingSurvey(campaign.survey_version_id))?;
    if survey.audience == Audience::Teachers && !filter.dates.is_open() {
        return Err(ResultsError::TeachersByDate);
    }
    let mut links = campaigns::links_with_schools(db, campaign_id).await?;
    links.sort_by(|(_, a), (_, b)| a.code.cmp(&b.code));
    let chosen: Vec<_> = links
        .iter()
        .filter(|(_, school)| filter.holds_for(school))
        .collect();
    let school_ids: Vec<i32> = chosen.iter().map(|(_, school)| school.id).collect();

    let narrowed = (!filter.all_schools()).then_some(&school_ids[..]);
    // Without dates the running tallies, score sums and the links' counts say it all; with
    // dates the answers in the range are counted through the same functions.
    let (by_school, sums_by_school, answers_of) = if filter.dates.is_open() {
        let by_school = tally_counts(db, campaign_id, narrowed).await?;
        let sums_by_school = score_sums(db, campaign_id, narrowed).await?;
        let answers_of: HashMap<i32, u64> = chosen
            .iter()
            .map(|(link, school)| (school.id, u64::try_from(link.response_count).unwrap_or(0)))
            .collect();
        (by_school, sums_by_school, answers_of)
    } else {
        let scanned = scan_counts(db, campaign_id, narrowed, filter.dates).await?;
        let answers_of = scanned
            .responses
            .iter()
            .map(|(school, count)| (*school, *count))
            .collect();
        (scanned.by_school(), scanned.sums_by_school(), answers_of)
    };
    let answers_at = |school: &school::Model| answers_of.get(&school.id).copied().unwrap_or(0);
    // A teachers' school with 1–4 answers counts in no figure (`shown_alone`): its counts and
    // sums leave the group here, so every figure below is over schools of 5 answers or more.
    let (mut by_school, mut sums_by_school) = (by_school, sums_by_school);
    let mut responses: u64 = 0;
    for (_, school) in &chosen {
        let answers = answers_at(school);
        if shown_alone(survey.audience, answers) {
            responses += answers;
        } else {
            by_school.remove(&school.id);
            sums_by_school.remove(&school.id);
        }
    }
    // Any narrowing that leaves fewer than 5 teachers' answers is refused: zero answers too, so
    // that an empty group cannot be told from a withheld one. (Whole schools of 5 or more are
    // all that count, so a group counts either none or at least 5.)
    if !filter.is_all() && !shown_alone(survey.audience, responses) {
        return Err(ResultsError::TooFewTeachers);
    }
    let source = source_of(survey.audience);
    let minimum = plan.rules.minimum_answers(source);
    let population_of = |school: &school::Model| plan.rules.population_of(source, school);
    // The group's population is known when every school's is.
    let population: Option<u64> = chosen
        .iter()
        .map(|(_, school)| population_of(school))
        .sum::<Option<u64>>()
        .filter(|population| *population > 0);
    let mut group_sums = AreaSums::default();
    for sums in sums_by_school.values() {
        group_sums.add(sums);
    }
    let results = aggregate(
        &survey,
        &add_up(by_school.values()),
        &group_sums,
        Group {
            responses,
            population,
        },
        minimum,
        &plan.rules.area_weights,
    );

    let expected = |link: &entity::campaign_link::Model| u64::try_from(link.expected).unwrap_or(0);
    let (indicators, numbers, evidence): (_, _, Vec<CampaignEvidence>) = if survey.audience
        == Audience::School
    {
        let mut answers = self_check_answers(db, campaign_id, &school_ids, filter.dates).await?;
        let self_checks: Vec<SelfCheck> = chosen
            .iter()
            .map(|(_, school)| SelfCheck {
                school: school.clone(),
                answers: answers.remove(&school.id),
            })
            .collect();
        let survey_indicators: Vec<_> = plan
            .indicators
            .iter()
            .filter(|indicator| indicator.survey == survey.id)
            .cloned()
            .collect();
        // Verified values stand in for the reported ones (surveys/METHOD.md, `verified`).
        let verified =
            super::verified::verified_by_school(db, plan, campaign_id, &school_ids).await?;
        let table = indicator_table_verified(
            &survey_indicators,
            &self_checks,
            &verified,
            plan.rules.verify_tolerance,
        );
        let numbers = super::numbers::number_summaries(&survey, &self_checks);
        let evidence = chosen
            .iter()
            .zip(&table.schools)
            .map(|((link, school), row)| CampaignEvidence {
                school: school.clone(),
                answers: u64::from(row.submitted),
                expected: expected(link),
                population: None,
                areas: super::self_checks::area_scores(row),
                sums: None,
            })
            .collect();
        (Some(table), Some(numbers), evidence)
    } else {
        let none = AreaSums::default();
        let evidence = chosen
            .iter()
            .map(|(link, school)| {
                let answers = answers_at(school);
                let population = population_of(school);
                // A hidden teachers' school (1–4 answers) has left `sums_by_school`: it gives no
                // area estimate, so no rating of it or of the county carries its teachers.
                let sums = sums_by_school.get(&school.id).unwrap_or(&none);
                let fpc = finite_population_factor(answers, population);
                CampaignEvidence {
                    school: school.clone(),
                    answers,
                    expected: expected(link),
                    population,
                    areas: sums
                        .figures(fpc)
                        .into_iter()
                        .filter_map(|figure| Some((figure.area, figure.estimate?)))
                        .collect(),
                    sums: Some(sums.clone()),
                }
            })
            .collect();
        (None, None, evidence)
    };
    let rating = rate_campaign(&plan.rules, source, evidence.clone());
    // Counted over the schools of the view that count (a hidden teachers' school's excluded
    // answers are not told either).
    let counted: Vec<i32> = chosen
        .iter()
        .filter(|(_, school)| shown_alone(survey.audience, answers_at(school)))
        .map(|(_, school)| school.id)
        .collect();
    let left_out = Excluded::total(
        &excluded_answers(
            db,
            campaign_id,
            &plan.rules.quality,
            Some(&counted),
            filter.dates,
        )
        .await?,
    );
    Ok(CampaignResults {
        campaign,
        survey,
        schools_counted: chosen.len(),
        schools: links.into_iter().map(|(_, school)| school).collect(),
        results,
        indicators,
        numbers,
        evidence,
        rating,
        left_out,
    })
}

/// A campaign that feeds the combined rating.
#[derive(Clone, Debug)]
pub struct UsedCampaign {
    pub id: i32,
    pub name: String,
    pub source: Source,
    pub survey_title: String,
    /// Its answers that no figure counts.
    pub left_out: Excluded,
}

/// The overall rating from the latest campaign of each audience.
#[derive(Clone, Debug)]
pub struct Assessment {
    /// In the order of [`Source::ALL`].
    pub campaigns: Vec<UsedCampaign>,
    pub table: CombinedTable,
}

/// The overall rating (综合评估) of every school from the latest campaign (by creation, drafts
/// left out) of each audience: parents, teachers, students and the school self-check.
pub async fn assessment(
    db: &(impl ConnectionTrait + TransactionTrait),
    plan: &Plan,
) -> Result<Assessment, ResultsError> {
    Ok(assessment_with_results(db, plan).await?.0)
}

/// [`assessment`], with the results of each campaign it used (in the order of its
/// `campaigns`), for pages that show both and should not work them out twice.
pub async fn assessment_with_results(
    db: &(impl ConnectionTrait + TransactionTrait),
    plan: &Plan,
) -> Result<(Assessment, Vec<CampaignResults>), ResultsError> {
    let mut latest: BTreeMap<Source, campaigns::CampaignSummary> = BTreeMap::new();
    for summary in campaigns::overview(db).await? {
        let Some(audience) = summary.audience else {
            continue;
        };
        if summary.campaign.status == campaigns::CampaignStatus::Draft.slug() {
            continue;
        }
        let source = source_of(audience);
        let newer = latest.get(&source).is_none_or(|current| {
            (summary.campaign.created_at, summary.campaign.id)
                > (current.campaign.created_at, current.campaign.id)
        });
        if newer {
            latest.insert(source, summary);
        }
    }
    let mut used = Vec::new();
    let mut evidence = Vec::new();
    let mut results = Vec::new();
    for (source, summary) in latest {
        let found =
            campaign_results(db, plan, summary.campaign.id, &ResultsFilter::default()).await?;
        used.push(UsedCampaign {
            id: summary.campaign.id,
            name: summary.campaign.name,
            source,
            survey_title: summary.survey_title,
            left_out: found.left_out.clone(),
        });
        evidence.push((source, found.evidence.clone()));
        results.push(found);
    }
    let assessment = Assessment {
        campaigns: used,
        table: rate_combined(&plan.rules, evidence),
    };
    Ok((assessment, results))
}
