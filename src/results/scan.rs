//! Counts and score sums from the answers themselves, for what the running tallies cannot say:
//! the answers of a date range (tallies have no dates). Every stored answer is read back into
//! the [`ValidResponse`] it was stored from and counted through the very functions that fed the
//! tallies and the score sums when it was stored ([`ValidResponse::tally_keys`],
//! [`scoring::area_scores`]), so that a scan of all included answers and the running sums
//! always agree. Included answers only; read a page at a time by id, like the exports.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Days, NaiveDate, Utc};
use entity::response;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;

use super::{SchoolCounts, SchoolSums, add_count, add_score_row};
use crate::answering::scoring::{self, ScoreSums};
use crate::answering::{TallyKeys, stored_response};
use crate::campaigns;
use crate::survey::Survey;

/// Answers read per query, as the exports read them.
pub const SCAN_PAGE: u64 = 2000;

/// The tally keys of a stored answer: exactly those it added to the tallies when it was stored.
pub fn stored_tally_keys(survey: &Survey, json: &str) -> TallyKeys {
    stored_response(survey, json).tally_keys()
}

/// Days in China time, both ends included; either end may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DateRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl DateRange {
    pub fn is_open(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }

    /// From the start of `from` (China time) to before the start of the day after `to`.
    pub fn bounds(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let start_of = |day: NaiveDate| {
            day.and_hms_opt(0, 0, 0)
                .and_then(|time| time.and_local_timezone(campaigns::china_offset()).single())
                .map(|time| time.with_timezone(&Utc))
        };
        (
            self.from.and_then(start_of),
            self.to
                .and_then(|day| day.checked_add_days(Days::new(1)))
                .and_then(start_of),
        )
    }

    pub fn contains(&self, time: DateTime<Utc>) -> bool {
        let (start, end) = self.bounds();
        start.is_none_or(|start| time >= start) && end.is_none_or(|end| time < end)
    }
}

/// Counts added up from answers, as the writer adds them to the tallies.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanCounts {
    /// (school, question key, option code) → answers.
    counts: BTreeMap<(i32, String, String), u64>,
    /// (school, score key) → score sums, as the writer adds them.
    sums: BTreeMap<(i32, &'static str), ScoreSums>,
    /// School → answers counted.
    pub responses: BTreeMap<i32, u64>,
}

impl ScanCounts {
    /// Counts one stored answer of `school_id`.
    pub fn add(&mut self, school_id: i32, survey: &Survey, json: &str) {
        let response = stored_response(survey, json);
        for (question, option) in response.tally_keys().iter() {
            *self
                .counts
                .entry((school_id, question.to_owned(), option.to_owned()))
                .or_default() += 1;
        }
        for (key, sums) in scoring::score_rows(&scoring::area_scores(survey, &response)) {
            self.sums.entry((school_id, key)).or_default().add(&sums, 1);
        }
        *self.responses.entry(school_id).or_default() += 1;
    }

    /// The score sums per school, as [`super::score_sums`] reads them from the running sums.
    pub fn sums_by_school(&self) -> SchoolSums {
        let mut by_school = SchoolSums::new();
        for ((school_id, key), sums) in &self.sums {
            add_score_row(by_school.entry(*school_id).or_default(), key, sums);
        }
        by_school
    }

    /// The score sums as rows of the running sums (campaign left out).
    #[cfg(test)]
    pub fn sum_rows(&self) -> Vec<((i32, &'static str), ScoreSums)> {
        self.sums.iter().map(|(key, sums)| (*key, *sums)).collect()
    }

    /// The counts per school, as [`super::tally_counts`] reads them from the tallies.
    pub fn by_school(&self) -> SchoolCounts {
        let mut by_school = SchoolCounts::new();
        for ((school_id, question_key, option_key), count) in &self.counts {
            add_count(
                by_school.entry(*school_id).or_default(),
                question_key,
                option_key,
                *count,
            );
        }
        by_school
    }

    /// The counts as tally rows.
    #[cfg(test)]
    pub fn rows(&self) -> Vec<super::TallyCount> {
        self.counts
            .iter()
            .map(
                |((school_id, question_key, option_key), count)| super::TallyCount {
                    school_id: *school_id,
                    question_key: question_key.clone(),
                    option_key: option_key.clone(),
                    count: *count,
                },
            )
            .collect()
    }
}

/// Counts the included answers of `campaign_id` submitted within `range`, of the schools
/// `school_ids` only when given, a page at a time. Each answer is read against its own survey
/// version (`surveys` caches them; a version that cannot be found is skipped).
pub async fn scan_counts(
    db: &impl ConnectionTrait,
    campaign_id: i32,
    school_ids: Option<&[i32]>,
    range: DateRange,
) -> Result<ScanCounts, DbErr> {
    let (start, end) = range.bounds();
    let mut surveys: HashMap<i32, Option<Survey>> = HashMap::new();
    let mut counts = ScanCounts::default();
    let mut after_id = 0_i64;
    loop {
        let mut query = response::Entity::find()
            .select_only()
            .columns([
                response::Column::Id,
                response::Column::SchoolId,
                response::Column::SurveyVersionId,
                response::Column::Answers,
            ])
            .filter(response::Column::CampaignId.eq(campaign_id))
            .filter(response::Column::Excluded.eq(false))
            .filter(response::Column::Id.gt(after_id));
        if let Some(start) = start {
            query = query.filter(response::Column::SubmittedAt.gte(start));
        }
        if let Some(end) = end {
            query = query.filter(response::Column::SubmittedAt.lt(end));
        }
        if let Some(ids) = school_ids {
            query = query.filter(response::Column::SchoolId.is_in(ids.iter().copied()));
        }
        let page: Vec<(i64, i32, i32, String)> = query
            .order_by_asc(response::Column::Id)
            .limit(SCAN_PAGE)
            .into_tuple()
            .all(db)
            .await?;
        for (_, school_id, version, answers) in &page {
            if !surveys.contains_key(version) {
                let survey = campaigns::load_version(db, *version).await?;
                surveys.insert(*version, survey);
            }
            if let Some(Some(survey)) = surveys.get(version) {
                counts.add(*school_id, survey, answers);
            }
        }
        match page.last() {
            Some((id, ..)) if page.len() as u64 == SCAN_PAGE => after_id = *id,
            _ => break,
        }
    }
    Ok(counts)
}

/// Fills the running score sums from the stored answers when the migration that created them
/// asked for it (the setting `score_sum_backfill`, left only by a database that held answers):
/// every included answer of every campaign read against its own survey version, through the
/// functions the writer uses. One write transaction; on PostgreSQL the answers are locked
/// against new ones meanwhile, so that none is counted twice. Several processes starting at
/// once: the first takes the setting away, the others find nothing to do. Returns whether it
/// filled anything.
pub async fn backfill_score_sums(db: &sea_orm::DatabaseConnection) -> Result<bool, DbErr> {
    use migration::m20261204_000007_score_sum::BACKFILL_SETTING;
    use sea_orm::{DbBackend, Statement};
    let pending = entity::setting::Entity::find_by_id(BACKFILL_SETTING.to_owned())
        .one(db)
        .await?;
    if pending.is_none() {
        return Ok(false);
    }
    let txn = crate::db::begin_write(db).await?;
    let backend = txn.get_database_backend();
    if backend == DbBackend::Postgres {
        txn.execute_raw(Statement::from_string(
            backend,
            "LOCK TABLE response IN SHARE MODE".to_owned(),
        ))
        .await?;
    }
    let taken = entity::setting::Entity::delete_by_id(BACKFILL_SETTING.to_owned())
        .exec(&txn)
        .await?;
    if taken.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(false);
    }
    // Answers still pending are added to the tallies first: the rebuild below counts them.
    crate::answering::pending::settle_in(&txn, None).await?;
    entity::score_sum::Entity::delete_many().exec(&txn).await?;
    let mut surveys: HashMap<i32, Option<Survey>> = HashMap::new();
    let mut sums: BTreeMap<crate::answering::writer::ScoreSumKey, ScoreSums> = BTreeMap::new();
    let mut after_id = 0_i64;
    let mut answers = 0_u64;
    loop {
        let page: Vec<(i64, i32, i32, i32, String)> = response::Entity::find()
            .select_only()
            .columns([
                response::Column::Id,
                response::Column::CampaignId,
                response::Column::SchoolId,
                response::Column::SurveyVersionId,
                response::Column::Answers,
            ])
            .filter(response::Column::Excluded.eq(false))
            .filter(response::Column::Id.gt(after_id))
            .order_by_asc(response::Column::Id)
            .limit(SCAN_PAGE)
            .into_tuple()
            .all(&txn)
            .await?;
        for (_, campaign_id, school_id, version, json) in &page {
            if !surveys.contains_key(version) {
                let survey = campaigns::load_version(&txn, *version).await?;
                surveys.insert(*version, survey);
            }
            let Some(Some(survey)) = surveys.get(version) else {
                continue;
            };
            let response = stored_response(survey, json);
            for (key, row) in scoring::score_rows(&scoring::area_scores(survey, &response)) {
                sums.entry((*campaign_id, *school_id, key))
                    .or_default()
                    .add(&row, 1);
            }
            answers += 1;
        }
        match page.last() {
            Some((id, ..)) if page.len() as u64 == SCAN_PAGE => after_id = *id,
            _ => break,
        }
    }
    let rows: Vec<_> = sums.into_iter().collect();
    crate::answering::writer::add_score_sums(&txn, &rows).await?;
    txn.commit().await?;
    tracing::info!(
        answers,
        rows = rows.len(),
        "score sums filled from the stored answers"
    );
    Ok(true)
}

/// The answers to the text question `question` of the included answers of `campaign_id`, with
/// their school: (school id, text), in the order they were stored.
pub async fn texts_of(
    db: &impl ConnectionTrait,
    campaign_id: i32,
    question: &str,
) -> Result<Vec<(i32, String)>, DbErr> {
    let mut texts = Vec::new();
    let mut after_id = 0_i64;
    loop {
        let page: Vec<(i64, i32, String)> = response::Entity::find()
            .select_only()
            .columns([
                response::Column::Id,
                response::Column::SchoolId,
                response::Column::Answers,
            ])
            .filter(response::Column::CampaignId.eq(campaign_id))
            .filter(response::Column::Excluded.eq(false))
            .filter(response::Column::Id.gt(after_id))
            .order_by_asc(response::Column::Id)
            .limit(SCAN_PAGE)
            .into_tuple()
            .all(db)
            .await?;
        for (_, school_id, answers) in &page {
            let stored: serde_json::Map<String, Value> =
                serde_json::from_str(answers).unwrap_or_default();
            if let Some(Value::String(text)) = stored.get(question) {
                texts.push((*school_id, text.clone()));
            }
        }
        match page.last() {
            Some((id, ..)) if page.len() as u64 == SCAN_PAGE => after_id = *id,
            _ => break,
        }
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answering::{FormFields, ValidResponse, validate};
    use crate::results::{TallyCount, counts_by_school};
    use crate::survey::{Catalog, QuestionKind};

    fn shipped_catalog() -> Catalog {
        crate::survey::load_dir(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/surveys"
        )))
        .expect("the shipped plan loads")
    }

    /// Every shipped survey answered in a few different ways, validated as the form would be.
    fn validated(survey: &Survey, variant: usize) -> ValidResponse<'_> {
        let mut pairs = Vec::new();
        for question in survey.questions() {
            let id = question.id.clone();
            match &question.kind {
                QuestionKind::Single { options } => {
                    pairs.push((id, options[variant % options.len()].code.clone()))
                }
                QuestionKind::Multiple { options, .. } => {
                    for option in options.iter().skip(variant % 2).take(2) {
                        pairs.push((id.clone(), option.code.clone()));
                    }
                }
                QuestionKind::Scale { scale } => {
                    pairs.push((id, scale.points[variant % scale.points.len()].code.clone()))
                }
                QuestionKind::Matrix { scale, rows } => {
                    for (n, row) in rows.iter().enumerate() {
                        let point = &scale.points[(variant + n) % scale.points.len()];
                        pairs.push((format!("{id}.{}", row.id), point.code.clone()));
                    }
                }
                QuestionKind::Number { min, .. } => {
                    pairs.push((id, format!("{}", min.unwrap_or(0.0).max(0.0) as i64 + 1)))
                }
                QuestionKind::YesNo { .. } => pairs.push((
                    id,
                    if variant.is_multiple_of(2) {
                        "yes"
                    } else {
                        "no"
                    }
                    .to_owned(),
                )),
                QuestionKind::Text { .. } | QuestionKind::LongText { .. } => {
                    pairs.push((id, format!("意见 {variant}")))
                }
                QuestionKind::Rating { .. } => pairs.push((id, (variant % 11).to_string())),
            }
        }
        validate(survey, &FormFields::new(pairs))
            .unwrap_or_else(|errors| panic!("{}: {errors:?}", survey.id))
    }

    #[test]
    fn a_stored_answer_reads_back_as_the_response_it_was_stored_from() {
        let catalog = shipped_catalog();
        for entry in catalog.entries() {
            for variant in 0..4 {
                let response = validated(&entry.survey, variant);
                let read = stored_response(&entry.survey, &response.to_json());
                assert_eq!(read, response, "{} variant {variant}", entry.survey.id);
            }
        }
    }

    #[test]
    fn a_scan_counts_exactly_what_the_tallies_count() {
        let catalog = shipped_catalog();
        for entry in catalog.entries() {
            let survey = &entry.survey;
            // What the writer adds to the tallies: each stored response's tally keys.
            let mut tallies: BTreeMap<(i32, String, String), u64> = BTreeMap::new();
            // What the writer adds to the score sums: the rows of each response's area scores
            // (computed, like the tally keys, from the response as validated).
            let mut sums: BTreeMap<(i32, &'static str), ScoreSums> = BTreeMap::new();
            let mut scan = ScanCounts::default();
            for variant in 0..7 {
                let school = (variant % 3) as i32 + 1;
                let response = validated(survey, variant);
                for (question, option) in response.tally_keys().iter() {
                    *tallies
                        .entry((school, question.to_owned(), option.to_owned()))
                        .or_default() += 1;
                }
                for (key, row) in scoring::score_rows(&scoring::area_scores(survey, &response)) {
                    sums.entry((school, key)).or_default().add(&row, 1);
                }
                scan.add(school, survey, &response.to_json());
            }
            let sum_rows: Vec<_> = sums.into_iter().collect();
            assert_eq!(scan.sum_rows(), sum_rows, "{}", survey.id);
            if entry.survey.audience != crate::survey::Audience::School {
                assert!(!sum_rows.is_empty(), "{}: no score sums", survey.id);
            }
            let tally_rows: Vec<TallyCount> = tallies
                .into_iter()
                .map(
                    |((school_id, question_key, option_key), count)| TallyCount {
                        school_id,
                        question_key,
                        option_key,
                        count,
                    },
                )
                .collect();
            assert_eq!(scan.rows(), tally_rows, "{}", survey.id);
            assert_eq!(scan.by_school(), counts_by_school(&tally_rows));
            assert_eq!(scan.responses.values().sum::<u64>(), 7);
        }
    }

    #[test]
    fn a_date_range_covers_whole_days_of_china_time() {
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        let range = DateRange {
            from: day("2026-11-01"),
            to: day("2026-11-02"),
        };
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .expect("a time")
                .with_timezone(&Utc)
        };
        // 2026-11-01 00:00 China time is 2026-10-31 16:00 UTC.
        assert!(!range.contains(at("2026-10-31T15:59:59Z")));
        assert!(range.contains(at("2026-10-31T16:00:00Z")));
        assert!(range.contains(at("2026-11-02T15:59:59Z")));
        assert!(!range.contains(at("2026-11-02T16:00:00Z")));
        assert!(DateRange::default().contains(at("2000-01-01T00:00:00Z")));
    }
}
