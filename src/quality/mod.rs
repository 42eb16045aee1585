//! Answer quality: the flags an answer gets when it is stored — `straight_line` (every scale
//! answer on the same point of a long survey), `all_top` (every one at the top of its scale),
//! `too_fast` (implausibly little time per question, by the server's signed clock), `burst`
//! (many answers through one school's link in a short time from browsers without a cookie the
//! server issued), `held` (past a link's or an address's rate, [`admission`] and the writer) —
//! and a supervisor's exclusion or release of answers, one or in bulk ([`Selection`]), which
//! moves them out of (or back into) the tallies, score sums and link counts in one transaction.
//!
//! A flag never drops an answer: it is stored and acknowledged. The `[quality]` policy's
//! `leave_out` flags keep it out of every figure until released; the others put it on the
//! quality page for a person to judge. [`signals`] lists the schools whose answers look wrong.
//! The decisions are pure ([`flags_of`]); the queries beside them take `&impl ConnectionTrait`.
//! Nothing here knows of HTTP.

pub mod admission;
pub mod signals;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use entity::{campaign_link, response};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;

use crate::answering::pending::Counts;
use crate::answering::{Answer, ValidResponse};
use crate::campaigns;
use crate::change::{Actor, Change, Context};
pub use crate::rating::flags::{Flag, join, parse_flags};
use crate::rating::rules::QualityRules;
use crate::survey::{QuestionKind, Scale, Survey};

/// How many questions an answer answered, each matrix statement counting as one.
pub fn answered_items(answers: &ValidResponse) -> usize {
    answers
        .answers
        .values()
        .map(|answer| match answer {
            Answer::Rows(rows) => rows.len(),
            _ => 1,
        })
        .sum()
}

/// The scale answers and matrix statements of an answer, each as (its scale, the chosen point's
/// position on it).
fn scale_choices<'s>(survey: &'s Survey, answers: &ValidResponse) -> Vec<(&'s Scale, usize)> {
    let mut chosen = Vec::with_capacity(answers.answers.len());
    for question in survey.questions() {
        match (&question.kind, answers.answers.get(question.id.as_str())) {
            (QuestionKind::Scale { scale }, Some(Answer::Choice(code))) => {
                chosen.extend(
                    scale
                        .points
                        .iter()
                        .position(|point| point.code == code.as_str())
                        .map(|position| (scale, position)),
                );
            }
            (QuestionKind::Matrix { scale, .. }, Some(Answer::Rows(rows))) => {
                chosen.extend(rows.values().filter_map(|code| {
                    scale
                        .points
                        .iter()
                        .position(|point| point.code == *code)
                        .map(|position| (scale, position))
                }));
            }
            _ => {}
        }
    }
    chosen
}

/// Every scale answer and matrix statement on the same point of its scale (by position, so
/// that two scales with different codes compare), with at least `minimum` of them.
pub fn is_straight_line(survey: &Survey, answers: &ValidResponse, minimum: u32) -> bool {
    straight_line(&scale_choices(survey, answers), minimum)
}

fn straight_line(chosen: &[(&Scale, usize)], minimum: u32) -> bool {
    chosen.len() >= minimum as usize && chosen.windows(2).all(|pair| pair[0].1 == pair[1].1)
}

/// The top of a scale: its highest-scored point, or its first when it has no scores.
fn top_of(scale: &Scale) -> usize {
    scale
        .points
        .iter()
        .enumerate()
        .filter_map(|(position, point)| point.score.map(|score| (position, score)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0, |(position, _)| position)
}

/// Every scale answer and matrix statement at the top of its scale, with at least `minimum` of
/// them: the form a school that fills in its own link would send.
pub fn is_all_top(survey: &Survey, answers: &ValidResponse, minimum: u32) -> bool {
    all_top(&scale_choices(survey, answers), minimum)
}

fn all_top(chosen: &[(&Scale, usize)], minimum: u32) -> bool {
    chosen.len() >= minimum as usize
        && chosen
            .iter()
            .all(|(scale, position)| *position == top_of(scale))
}

/// Less than `seconds_per_answer` per answered question between the form being served and
/// submitted. Without a measured time nothing is said; 0 seconds turns the check off.
pub fn is_too_fast(answered: usize, duration_ms: Option<i64>, seconds_per_answer: f64) -> bool {
    let Some(duration_ms) = duration_ms else {
        return false;
    };
    answered > 0
        && seconds_per_answer > 0.0
        && (duration_ms as f64) < answered as f64 * seconds_per_answer * 1000.0
}

/// With `earlier` answers through the same link from cookie-less browsers within the last
/// `burst_minutes`, this cookie-less answer makes (or continues) a burst.
pub fn is_burst(earlier: u64, rules: &QualityRules) -> bool {
    earlier + 1 >= u64::from(rules.burst_answers)
}

/// The flags of an answer about to be stored. `cookieless_earlier` is `Some(n)` for an answer
/// from a browser that refused the cookie, `n` being the answers of that kind already stored
/// through the same link within the burst window ([`cookieless_answers_since`]).
pub fn flags_of(
    survey: &Survey,
    answers: &ValidResponse,
    duration_ms: Option<i64>,
    cookieless_earlier: Option<u64>,
    rules: &QualityRules,
) -> Vec<Flag> {
    let mut flags = Vec::new();
    let chosen = scale_choices(survey, answers);
    if straight_line(&chosen, rules.straight_line_min_answers) {
        flags.push(Flag::StraightLine);
    }
    if all_top(&chosen, rules.straight_line_min_answers) {
        flags.push(Flag::AllTop);
    }
    if is_too_fast(
        answered_items(answers),
        duration_ms,
        rules.seconds_per_answer,
    ) {
        flags.push(Flag::TooFast);
    }
    if cookieless_earlier.is_some_and(|earlier| is_burst(earlier, rules)) {
        flags.push(Flag::Burst);
    }
    flags
}

/// When the burst window that ends `now` began.
pub fn burst_window_start(now: DateTime<Utc>, rules: &QualityRules) -> DateTime<Utc> {
    now - Duration::minutes(i64::from(rules.burst_minutes))
}

/// Answers stored through the link of `school_id` in `campaign_id` since `since` from browsers
/// without the cookie (no browser key).
pub async fn cookieless_answers_since(
    db: &impl ConnectionTrait,
    campaign_id: i32,
    school_id: i32,
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    response::Entity::find()
        .filter(response::Column::CampaignId.eq(campaign_id))
        .filter(response::Column::SchoolId.eq(school_id))
        .filter(response::Column::BrowserKey.is_null())
        .filter(response::Column::SubmittedAt.gte(since))
        .count(db)
        .await
}

// ------------------------------------------------------------------------ exclusion

/// −1 to take an answer out of the running sums, +1 to put it back.
fn delta_sign(exclude: bool) -> i64 {
    if exclude { -1 } else { 1 }
}

#[derive(Debug, thiserror::Error)]
pub enum QualityError {
    #[error("no answer {response} in campaign {campaign}")]
    NotFound { campaign: i32, response: i64 },
    #[error("survey version {0} of the answer is missing")]
    MissingSurvey(i32),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Excludes (`exclude = true`) or restores an answer of a campaign, in one write transaction:
/// flips `response.excluded` only if it changes, takes the answer's tally keys, score sums and
/// link count out of (or back into) the running sums, and records `answer_exclude` /
/// `answer_restore`. `false` when the answer was already as asked (nothing written).
pub async fn set_excluded(
    context: &Context,
    actor: Actor<'_>,
    campaign_id: i32,
    response_id: i64,
    exclude: bool,
) -> Result<bool, QualityError> {
    let change = Change::begin(context, actor).await?;
    let txn = change.txn();
    let Some(answer) = response::Entity::find_by_id(response_id)
        .filter(response::Column::CampaignId.eq(campaign_id))
        .one(txn)
        .await?
    else {
        return Err(QualityError::NotFound {
            campaign: campaign_id,
            response: response_id,
        });
    };
    let mut surveys = HashMap::new();
    if flip_all(txn, std::slice::from_ref(&answer), exclude, &mut surveys).await? == 0 {
        // Already as asked: nothing to move, nothing to record.
        change.rollback().await?;
        return Ok(false);
    }
    let (action, verb) = if exclude {
        ("answer_exclude", "excluded")
    } else {
        ("answer_restore", "restored")
    };
    change
        .audit(
            action,
            format!("campaign {campaign_id}: answer {response_id} {verb}"),
        )
        .await?;
    change.commit().await?;
    Ok(true)
}

/// Answers flipped by one conditional UPDATE at most.
const FLIPPED_PER_STATEMENT: usize = 500;

/// Flips `excluded` to `exclude` on those of `answers` not so already (conditional UPDATEs that
/// return the ids they changed, so that two supervisors cannot move one answer twice) and moves
/// their contributions — tally keys, score sums, their links' counts — out of or back into the
/// running sums, by the functions the writer used, added up first so that each tally row, score
/// sum and link is written once. Returns how many changed. `surveys` keeps the versions read.
async fn flip_all(
    txn: &impl ConnectionTrait,
    answers: &[response::Model],
    exclude: bool,
    surveys: &mut HashMap<i32, Survey>,
) -> Result<u64, QualityError> {
    let by_id: HashMap<i64, &response::Model> =
        answers.iter().map(|answer| (answer.id, answer)).collect();
    let mut flipped: Vec<&response::Model> = Vec::new();
    for chunk in answers.chunks(FLIPPED_PER_STATEMENT) {
        let flip = Query::update()
            .table(Alias::new("response"))
            .value(Alias::new("excluded"), exclude)
            .and_where(Expr::col(Alias::new("id")).is_in(chunk.iter().map(|answer| answer.id)))
            .and_where(Expr::col(Alias::new("excluded")).eq(!exclude))
            .returning_col(Alias::new("id"))
            .to_owned();
        for row in txn.query_all(&flip).await? {
            let id: i64 = row.try_get("", "id")?;
            if let Some(answer) = by_id.get(&id) {
                flipped.push(answer);
            }
        }
    }
    // An answer excluded while its counts were still pending was never in the tallies and
    // score sums: its pending row is taken (so that nobody adds it later) and nothing is taken
    // out for it. Only its link's count, kept with the answer, moves. (A restored answer has no
    // pending row: excluded answers never keep one.)
    let never_counted: HashSet<i64> = if exclude {
        let ids: Vec<i64> = flipped.iter().map(|answer| answer.id).collect();
        crate::answering::pending::claim(txn, &ids).await?
    } else {
        HashSet::new()
    };
    let sign = delta_sign(exclude);
    let mut counts = Counts::default();
    let mut links: BTreeMap<(i32, i32), i64> = BTreeMap::new();
    for answer in &flipped {
        let survey = match surveys.entry(answer.survey_version_id) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => slot.insert(
                campaigns::load_version(txn, answer.survey_version_id)
                    .await?
                    .ok_or(QualityError::MissingSurvey(answer.survey_version_id))?,
            ),
        };
        let survey = &*survey;
        let (campaign_id, school_id) = (answer.campaign_id, answer.school_id);
        *links.entry((campaign_id, school_id)).or_default() += sign;
        if never_counted.contains(&answer.id) {
            continue;
        }
        // Taken out of (or put back into) the tallies and score sums by the functions the
        // writer used to add them.
        counts.add(campaign_id, school_id, survey, &answer.answers, sign);
    }
    counts.apply(txn).await?;
    // Each school's link moves with its answers, the links in id order, as the writer's batches
    // lock them, so that an exclusion over several schools and a batch never wait on each other
    // in a circle.
    let campaign_ids: BTreeSet<i32> = links.keys().map(|(campaign_id, _)| *campaign_id).collect();
    let school_ids: BTreeSet<i32> = links.keys().map(|(_, school_id)| *school_id).collect();
    let rows: Vec<(i32, i32, i32)> = campaign_link::Entity::find()
        .select_only()
        .columns([
            campaign_link::Column::Id,
            campaign_link::Column::CampaignId,
            campaign_link::Column::SchoolId,
        ])
        .filter(campaign_link::Column::CampaignId.is_in(campaign_ids))
        .filter(campaign_link::Column::SchoolId.is_in(school_ids))
        .into_tuple()
        .all(txn)
        .await?;
    let by_id: BTreeMap<i32, i64> = rows
        .into_iter()
        .filter_map(|(id, campaign_id, school_id)| {
            Some((id, *links.get(&(campaign_id, school_id))?))
        })
        .collect();
    for (id, delta) in by_id {
        let link = Query::update()
            .table(Alias::new("campaign_link"))
            .value(
                Alias::new("response_count"),
                Expr::col(Alias::new("response_count")).add(delta),
            )
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .to_owned();
        txn.execute(&link).await?;
    }
    Ok(flipped.len() as u64)
}

/// Which answers of a campaign a bulk action takes: any of those given, all of them together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Answers carrying this flag.
    pub flag: Option<Flag>,
    /// Answers through this school's link.
    pub school_id: Option<i32>,
    /// Answers stored at or after this time, and before `until`.
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only these answers (by idempotency key): an address's answers past its ceiling.
    pub keys: Option<Vec<String>>,
}

impl Selection {
    fn condition(&self, campaign_id: i32) -> Condition {
        let mut condition = Condition::all().add(response::Column::CampaignId.eq(campaign_id));
        if let Some(flag) = self.flag {
            let slug = flag.slug();
            condition = condition.add(
                Condition::any()
                    .add(response::Column::Flags.eq(slug))
                    .add(response::Column::Flags.like(format!("{slug},%")))
                    .add(response::Column::Flags.like(format!("%,{slug}")))
                    .add(response::Column::Flags.like(format!("%,{slug},%"))),
            );
        }
        if let Some(school_id) = self.school_id {
            condition = condition.add(response::Column::SchoolId.eq(school_id));
        }
        if let Some(since) = self.since {
            condition = condition.add(response::Column::SubmittedAt.gte(since));
        }
        if let Some(until) = self.until {
            condition = condition.add(response::Column::SubmittedAt.lt(until));
        }
        if let Some(keys) = &self.keys {
            condition = condition.add(response::Column::IdempotencyKey.is_in(keys.iter().cloned()));
        }
        condition
    }
}

/// What a bulk action did: the campaign's included answers before and after, the answers the
/// selection matched, and how many of them changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BulkOutcome {
    pub matched: u64,
    pub changed: u64,
    pub included_before: u64,
    pub included_after: u64,
}

async fn included(txn: &impl ConnectionTrait, campaign_id: i32) -> Result<u64, DbErr> {
    response::Entity::find()
        .filter(response::Column::CampaignId.eq(campaign_id))
        .filter(response::Column::Excluded.eq(false))
        .count(txn)
        .await
}

/// Excludes (or releases) every answer of `campaign_id` the selection matches, in one write
/// transaction: each answer's contributions move as [`set_excluded`] moves one, the campaign's
/// included answers are counted before and after, and one audit event (`answers_exclude` /
/// `answers_release`) says what was selected and how many changed.
pub async fn set_excluded_many(
    context: &Context,
    actor: Actor<'_>,
    campaign_id: i32,
    selection: &Selection,
    exclude: bool,
) -> Result<BulkOutcome, QualityError> {
    let change = Change::begin(context, actor).await?;
    let outcome = move_selected(change.txn(), campaign_id, selection, exclude).await?;
    let (action, verb) = if exclude {
        ("answers_exclude", "排除")
    } else {
        ("answers_release", "放行")
    };
    change
        .audit(
            action,
            format!(
                "campaign {campaign_id}：{verb} {} 份（条件匹配 {} 份；{}）；计入的答卷 {} → {} 份",
                outcome.changed,
                outcome.matched,
                describe(selection),
                outcome.included_before,
                outcome.included_after
            ),
        )
        .await?;
    change.commit().await?;
    Ok(outcome)
}

fn describe(selection: &Selection) -> String {
    let mut parts = Vec::new();
    if let Some(flag) = selection.flag {
        parts.push(format!("标记“{}”", flag.label()));
    }
    if let Some(school) = selection.school_id {
        parts.push(format!("学校 id {school}"));
    }
    if let Some(since) = selection.since {
        parts.push(format!("自 {}", campaigns::display_time_seconds(since)));
    }
    if let Some(until) = selection.until {
        parts.push(format!("至 {}", campaigns::display_time_seconds(until)));
    }
    if let Some(keys) = &selection.keys {
        parts.push(format!("指定的 {} 份", keys.len()));
    }
    if parts.is_empty() {
        "全部答卷".to_owned()
    } else {
        parts.join("、")
    }
}

async fn move_selected(
    txn: &impl ConnectionTrait,
    campaign_id: i32,
    selection: &Selection,
    exclude: bool,
) -> Result<BulkOutcome, QualityError> {
    let included_before = included(txn, campaign_id).await?;
    let answers = response::Entity::find()
        .filter(selection.condition(campaign_id))
        .order_by_asc(response::Column::Id)
        .all(txn)
        .await?;
    let mut surveys = HashMap::new();
    let changed = flip_all(txn, &answers, exclude, &mut surveys).await?;
    Ok(BulkOutcome {
        matched: answers.len() as u64,
        changed,
        included_before,
        included_after: included(txn, campaign_id).await?,
    })
}

/// Holds answers of a campaign that came too fast (`admission`): adds the `held` flag to each
/// answer the selection matches and, when the policy leaves held answers out, takes them out of
/// the figures — one transaction, audit event `answers_hold` by dupin itself. A supervisor
/// releases them from the quality page.
pub async fn hold(
    context: &Context,
    campaign_id: i32,
    selection: &Selection,
    held_left_out: bool,
) -> Result<BulkOutcome, QualityError> {
    let change = Change::begin(context, Actor::System).await?;
    let txn = change.txn();
    let mark = Query::update()
        .table(Alias::new("response"))
        .value(
            Alias::new("flags"),
            Expr::cust(
                "CASE WHEN flags IS NULL OR flags = '' THEN 'held' \
                 WHEN flags = 'held' OR flags LIKE 'held,%' OR flags LIKE '%,held' \
                 OR flags LIKE '%,held,%' THEN flags ELSE flags || ',held' END",
            ),
        )
        .cond_where(selection.condition(campaign_id))
        .to_owned();
    txn.execute(&mark).await?;
    let outcome = if held_left_out {
        move_selected(txn, campaign_id, selection, true).await?
    } else {
        let matched = response::Entity::find()
            .filter(selection.condition(campaign_id))
            .count(txn)
            .await?;
        let included_now = included(txn, campaign_id).await?;
        BulkOutcome {
            matched,
            changed: 0,
            included_before: included_now,
            included_after: included_now,
        }
    };
    if outcome.matched > 0 {
        change
            .audit(
                "answers_hold",
                format!(
                    "campaign {campaign_id}：超出速率，暂缓 {} 份（{}）；计入的答卷 {} → {} 份",
                    outcome.matched,
                    describe(selection),
                    outcome.included_before,
                    outcome.included_after
                ),
            )
            .await?;
    }
    change.commit().await?;
    Ok(outcome)
}

// ------------------------------------------------------------------------ reading

/// Answers per flag, and how many are excluded.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FlagCounts {
    /// In the order of [`Flag::ALL`]: (flag, included answers with it, excluded answers with it).
    pub by_flag: Vec<(Flag, u64, u64)>,
    /// Included answers with any flag.
    pub flagged: u64,
    pub excluded: u64,
}

fn has_flag(flag: Flag) -> sea_orm::sea_query::SimpleExpr {
    // Slugs never contain one another, so a plain LIKE is exact.
    response::Column::Flags.like(format!("%{}%", flag.slug()))
}

pub async fn flag_counts(db: &impl ConnectionTrait, campaign_id: i32) -> Result<FlagCounts, DbErr> {
    let mut counts = FlagCounts::default();
    let of_campaign =
        || response::Entity::find().filter(response::Column::CampaignId.eq(campaign_id));
    for flag in Flag::ALL {
        let included = of_campaign()
            .filter(has_flag(flag))
            .filter(response::Column::Excluded.eq(false))
            .count(db)
            .await?;
        let excluded = of_campaign()
            .filter(has_flag(flag))
            .filter(response::Column::Excluded.eq(true))
            .count(db)
            .await?;
        counts.by_flag.push((flag, included, excluded));
    }
    counts.flagged = of_campaign()
        .filter(response::Column::Flags.is_not_null())
        .filter(response::Column::Excluded.eq(false))
        .count(db)
        .await?;
    counts.excluded = of_campaign()
        .filter(response::Column::Excluded.eq(true))
        .count(db)
        .await?;
    Ok(counts)
}

/// Which answers a list of the quality page shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listing {
    /// Included answers with a flag (with this flag, when given).
    Flagged(Option<Flag>),
    /// Excluded answers, flagged or not.
    Excluded,
}

/// One page of answers, newest first, and how many there are in all.
pub async fn list_answers(
    db: &impl ConnectionTrait,
    campaign_id: i32,
    listing: Listing,
    page: u64,
    per_page: u64,
) -> Result<(Vec<response::Model>, u64), DbErr> {
    let mut condition = Condition::all().add(response::Column::CampaignId.eq(campaign_id));
    condition = match listing {
        Listing::Flagged(flag) => {
            let condition = condition
                .add(response::Column::Excluded.eq(false))
                .add(response::Column::Flags.is_not_null());
            match flag {
                Some(flag) => condition.add(has_flag(flag)),
                None => condition,
            }
        }
        Listing::Excluded => condition.add(response::Column::Excluded.eq(true)),
    };
    let total = response::Entity::find()
        .filter(condition.clone())
        .count(db)
        .await?;
    let rows = response::Entity::find()
        .filter(condition)
        .order_by_desc(response::Column::Id)
        .offset(page.saturating_sub(1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok((rows, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answering::Answers;
    use crate::survey::{MatrixRow, Question, Scale, ScalePoint, Section};

    fn scale(codes: &[&str]) -> Scale {
        Scale {
            id: "s".to_owned(),
            name: "s".to_owned(),
            points: codes
                .iter()
                .map(|code| ScalePoint {
                    code: (*code).to_owned(),
                    label: (*code).to_owned(),
                    score: None,
                    satisfied: false,
                })
                .collect(),
        }
    }

    fn question(id: &str, kind: QuestionKind) -> Question {
        Question {
            id: id.to_owned(),
            text: id.to_owned(),
            help: None,
            required: false,
            show_if: None,
            scored: false,
            kind,
        }
    }

    /// Four scale questions on one scale, one on another, and a matrix of three statements:
    /// eight scale answers in all.
    fn survey() -> Survey {
        let mut questions: Vec<Question> = (1..=4)
            .map(|n| {
                question(
                    &format!("q{n}"),
                    QuestionKind::Scale {
                        scale: scale(&["a", "b", "c"]),
                    },
                )
            })
            .collect();
        questions.push(question(
            "other",
            QuestionKind::Scale {
                scale: scale(&["x", "y", "z"]),
            },
        ));
        questions.push(question(
            "grid",
            QuestionKind::Matrix {
                scale: scale(&["a", "b", "c"]),
                rows: ["r1", "r2", "r3"]
                    .iter()
                    .map(|id| MatrixRow {
                        id: (*id).to_owned(),
                        text: (*id).to_owned(),
                    })
                    .collect(),
            },
        ));
        questions.push(question("note", QuestionKind::Text { max_length: 100 }));
        Survey {
            id: "t".to_owned(),
            title: "t".to_owned(),
            audience: crate::survey::Audience::Parents,
            intro: String::new(),
            minutes: None,
            thanks: None,
            sections: vec![Section {
                id: "s".to_owned(),
                title: "s".to_owned(),
                area: crate::survey::Area::Overall,
                intro: None,
                questions,
            }],
        }
    }

    /// Every question on `point` (0 = first), `other` on `other_point`.
    fn answers(point: usize, other_point: usize) -> ValidResponse<'static> {
        let abc = ["a", "b", "c"];
        let mut answers = Answers::default();
        for question in ["q1", "q2", "q3", "q4"] {
            answers.insert(question, Answer::Choice(abc[point].into()));
        }
        answers.insert("other", Answer::Choice(["x", "y", "z"][other_point].into()));
        answers.insert(
            "grid",
            Answer::Rows(
                ["r1", "r2", "r3"]
                    .iter()
                    .map(|row| ((*row).to_owned(), abc[point].to_owned()))
                    .collect(),
            ),
        );
        answers.insert("note", Answer::Text("好".to_owned()));
        ValidResponse { answers }
    }

    #[test]
    fn the_same_point_everywhere_on_a_long_enough_survey_is_straight_lining() {
        let survey = survey();
        // Eight scale answers (4 + 1 + 3 statements), all on the first point of their scale.
        assert!(is_straight_line(&survey, &answers(0, 0), 8));
        // One answer differs.
        assert!(!is_straight_line(&survey, &answers(0, 1), 8));
        // Too few scale answers to tell.
        assert!(!is_straight_line(&survey, &answers(0, 0), 9));
        // The text answer does not count either way.
        assert_eq!(answered_items(&answers(0, 0)), 4 + 1 + 3 + 1);
    }

    #[test]
    fn every_answer_at_the_top_of_its_scale_is_all_top() {
        let survey = survey();
        // Unscored scales: the first point is the top.
        assert!(is_all_top(&survey, &answers(0, 0), 8));
        // One answer below the top, or every one on the same lower point: not all-top.
        assert!(!is_all_top(&survey, &answers(0, 1), 8));
        assert!(!is_all_top(&survey, &answers(2, 2), 8));
        assert!(!is_all_top(&survey, &answers(0, 0), 9), "too few to tell");
        // With scores, the highest-scored point is the top wherever it stands.
        let mut scored = survey.clone();
        for question in &mut scored.sections[0].questions {
            if let QuestionKind::Scale { scale } | QuestionKind::Matrix { scale, .. } =
                &mut question.kind
            {
                for (place, point) in scale.points.iter_mut().enumerate() {
                    point.score = Some(place as f64);
                }
            }
        }
        assert!(is_all_top(&scored, &answers(2, 2), 8));
        assert!(!is_all_top(&scored, &answers(0, 0), 8));
    }

    #[test]
    fn too_little_time_per_answered_question_is_too_fast() {
        // 9 answered questions at 1.5 s each: 13.5 s is the least plausible time.
        assert!(is_too_fast(9, Some(13_499), 1.5));
        assert!(!is_too_fast(9, Some(13_500), 1.5));
        assert!(!is_too_fast(9, None, 1.5), "no measured time, no flag");
        assert!(!is_too_fast(9, Some(0), 0.0), "0 turns the check off");
        assert!(!is_too_fast(0, Some(0), 1.5));
    }

    #[test]
    fn the_fifth_cookieless_answer_within_the_window_starts_flagging_a_burst() {
        let rules = QualityRules::default();
        assert_eq!(rules.burst_answers, 5);
        assert!(!is_burst(3, &rules));
        assert!(is_burst(4, &rules));
        assert!(is_burst(40, &rules));
        let flags = flags_of(&survey(), &answers(0, 1), Some(600_000), Some(4), &rules);
        assert_eq!(flags, [Flag::Burst]);
        // A browser that kept its cookie is never part of a burst.
        assert!(flags_of(&survey(), &answers(0, 1), Some(600_000), None, &rules).is_empty());
    }

    #[test]
    fn flags_are_stored_as_sorted_slugs_and_read_back() {
        let rules = QualityRules {
            straight_line_min_answers: 8,
            ..QualityRules::default()
        };
        let flags = flags_of(&survey(), &answers(2, 2), Some(1_000), None, &rules);
        assert_eq!(flags, [Flag::StraightLine, Flag::TooFast]);
        let stored = join(&flags);
        assert_eq!(stored.as_deref(), Some("straight_line,too_fast"));
        assert_eq!(parse_flags(stored.as_deref()), flags);
        assert_eq!(join(&[]), None);
        assert_eq!(parse_flags(None), []);
        assert_eq!(parse_flags(Some("burst,unknown")), [Flag::Burst]);
    }
}
