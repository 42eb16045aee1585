//! 督导意见书 (letters) and 通报 (the county's circular) of a round (a campaign).
//!
//! A letter is one school's opinion for one round: its 综合评估, unmet indicators, satisfaction,
//! the findings of the round's visits with their photos, and its rectification items with
//! deadlines. [`draft`] reads all of it (read-only); [`issue`] freezes it as JSON in
//! `letter.snapshot`, numbered 〔year〕第 N 号 (one sequence a year for all schools, China time; a
//! reissue keeps the number and adds a version), in one change with its audit record; [`mail`]
//! queues the frozen letter to the school's viewers. An issued letter is shown only from its
//! snapshot, so later answers, findings or items never change what it said.
//!
//! The circular ([`circular`]) lists every school of a round: grade, unmet indicators, overdue
//! items, and who is to be held responsible under the plan's 六.3 (`[accountability]` of
//! rating.toml; surveys/METHOD.md, `accountability`). Nothing here knows about HTTP.

pub mod circular;
pub mod content;

use std::collections::BTreeMap;

use chrono::{NaiveDate, Utc};
use entity::{account, campaign, finding, letter, rectification, school, visit};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, SqlErr, TransactionTrait,
};
use serde::Serialize;

use crate::change::{Actor, Change, Context};
use crate::mail::{InlineImage, MailKind, MailTemplates, outbox};
use crate::rating::visits::VisitKind;
use crate::rating::{Plan, Source};
use crate::results::overall::{CombinedTable, rate_combined, source_of};
use crate::results::wording::{describe_score, rating_text};
use crate::results::{self, CampaignResults, ResultsError, ResultsFilter};
use crate::survey::{Area, Audience};
pub use content::LetterContent;
use content::{
    LetterCampaign, LetterFinding, LetterIndicators, LetterItem, LetterRating, LetterSchool,
    SatisfactionArea, SatisfactionSource, UnmetIndicator,
};

/// How often [`issue`] tries again when another issue took the same number at the same moment.
const ISSUE_ATTEMPTS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    #[error("没有这个督导意见书")]
    NotFound,
    #[error("这所学校不在这次调查活动中")]
    SchoolNotInRound,
    #[error("这所学校还没有可以接收邮件的学校查看账号，请填写收件地址")]
    NoRecipients,
    /// A reissue would show teachers' figures of the same campaign as version `version`, changed
    /// by fewer than 5 answers (`before` → `now`).
    #[error(
        "第 {version} 版出具后，教师问卷“{campaign}”中这所学校计入的答卷又有变动（原 {before} 份，现 {now} 份）：为保护教师匿名，教师数字相差不到 5 份答卷时不能重新出具，否则两版相减就能看出个别教师的回答。"
    )]
    TeachersChangedSinceLetter {
        version: i32,
        campaign: String,
        before: u64,
        now: u64,
    },
    /// The round's teachers' campaign `0` still takes answers from this school's teachers.
    #[error(
        "教师问卷“{0}”仍在收答卷：为保护教师匿名，要等它结束后才能出具这所学校的意见书。两份意见书之间多出的一两份答卷，就可能看出个别教师的回答。可以等到截止时间，或在调查活动页提前结束它。"
    )]
    TeachersStillAnswering(String),
    #[error(transparent)]
    Results(#[from] ResultsError),
    #[error(transparent)]
    Campaign(#[from] crate::campaigns::CampaignError),
    #[error("the stored letter {0} cannot be read: {1}")]
    Snapshot(i32, serde_json::Error),
    #[error("the letter mail template cannot be rendered: {0}")]
    Template(#[from] handlebars::RenderError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Today in China time (the day deadlines and letters' dates are read in).
pub fn china_today() -> NaiveDate {
    crate::rectification::today()
}

/// A round's evidence: the round's campaign for its own source and the latest campaign of each
/// other source, as the 综合评估 takes them, combined (surveys/METHOD.md, `accountability`).
pub struct RoundEvidence {
    pub campaign: campaign::Model,
    /// In the order of `Source::ALL`.
    pub used: Vec<(Source, CampaignResults)>,
    pub table: CombinedTable,
}

impl RoundEvidence {
    pub fn results_of(&self, source: Source) -> Option<&CampaignResults> {
        self.used
            .iter()
            .find(|(used, _)| *used == source)
            .map(|(_, found)| found)
    }

    /// The round's self-check results, when the round or the latest self-check gives one.
    pub fn self_check(&self) -> Option<&CampaignResults> {
        self.results_of(Source::Indicators)
    }
}

/// The evidence of round `campaign_id`.
pub async fn round_evidence(
    db: &(impl ConnectionTrait + TransactionTrait),
    plan: &Plan,
    campaign_id: i32,
) -> Result<RoundEvidence, LetterError> {
    let (_, latest) = results::assessment_with_results(db, plan).await?;
    let round = match latest.iter().find(|found| found.campaign.id == campaign_id) {
        Some(found) => found.clone(),
        None => results::campaign_results(db, plan, campaign_id, &ResultsFilter::default()).await?,
    };
    let round_source = source_of(round.survey.audience);
    let mut used: Vec<(Source, CampaignResults)> = latest
        .into_iter()
        .map(|found| (source_of(found.survey.audience), found))
        .filter(|(source, _)| *source != round_source)
        .collect();
    let campaign = round.campaign.clone();
    used.push((round_source, round));
    used.sort_by_key(|(source, _)| *source);
    let table = rate_combined(
        &plan.rules,
        used.iter()
            .map(|(source, found)| (*source, found.evidence.clone()))
            .collect(),
    );
    Ok(RoundEvidence {
        campaign,
        used,
        table,
    })
}

/// The unmet indicators of `school_id` in a self-check's results.
pub fn unmet_indicators(found: &CampaignResults, school_id: i32) -> Option<LetterIndicators> {
    let table = found.indicators.as_ref()?;
    let row = table
        .schools
        .iter()
        .find(|row| row.school_id == school_id)?;
    let unmet: Vec<UnmetIndicator> = row
        .cells
        .iter()
        .filter(|cell| cell.class == "not_met")
        .filter_map(|cell| {
            let indicator = table.indicators.get(cell.number.checked_sub(1)?)?;
            Some(UnmetIndicator {
                title: indicator.title.clone(),
                area: indicator.area.to_owned(),
                value: cell.value.clone(),
                target: cell.target.clone(),
            })
        })
        .collect();
    let summary = if row.submitted {
        let mismatch = if row.verify_mismatch {
            "到校核查发现学校自评与核查结果不符（核查不符），评定已用核查值。"
        } else {
            ""
        };
        format!(
            "达标 {} 项，未达标 {} 项，未填报 {} 项。{mismatch}",
            row.met, row.not_met, row.not_reported
        )
    } else {
        "学校未提交自评表。".to_owned()
    };
    Some(LetterIndicators {
        campaign: found.campaign.name.clone(),
        submitted: row.submitted,
        met: row.met,
        not_met: row.not_met,
        not_reported: row.not_reported,
        unmet,
        summary,
        verify_mismatch: row.verify_mismatch,
    })
}

fn no_indicators() -> LetterIndicators {
    LetterIndicators {
        campaign: String::new(),
        submitted: false,
        met: 0,
        not_met: 0,
        not_reported: 0,
        unmet: Vec::new(),
        summary: "本轮没有可用的学校自评表活动。".to_owned(),
        verify_mismatch: false,
    }
}

/// The school's satisfaction from each questionnaire of the round.
fn satisfaction(evidence: &RoundEvidence, school_id: i32) -> Vec<SatisfactionSource> {
    let mut lines = Vec::new();
    for (source, found) in &evidence.used {
        if found.survey.audience == Audience::School {
            continue;
        }
        let Some(row) = found
            .rating
            .schools
            .iter()
            .find(|row| row.school_id == school_id)
        else {
            continue;
        };
        let mut line = SatisfactionSource {
            source: source.label().to_owned(),
            campaign: found.campaign.name.clone(),
            campaign_id: found.campaign.id,
            answers: row.answers,
            score: "—".to_owned(),
            areas: Vec::new(),
            note: String::new(),
        };
        if !row.shown_alone {
            line.note = results::TEACHERS_TOO_FEW.to_owned();
        } else {
            let text = rating_text(&row.rating);
            line.score = text.score;
            if row.rating.rated().is_none() {
                line.note = text.grade;
            }
            line.areas = row
                .areas
                .iter()
                .map(|area| SatisfactionArea {
                    area: area.area.label().to_owned(),
                    score: describe_score(area.estimate.value, None),
                    n: area.n,
                })
                .collect();
        }
        lines.push(line);
    }
    lines
}

/// The findings of the round's visits to the school, oldest visit first.
async fn findings(
    db: &impl ConnectionTrait,
    school_id: i32,
    campaign_id: i32,
) -> Result<Vec<LetterFinding>, LetterError> {
    let visits: BTreeMap<i32, visit::Model> = visit::Entity::find()
        .filter(visit::Column::SchoolId.eq(school_id))
        .filter(visit::Column::CampaignId.eq(campaign_id))
        .all(db)
        .await?
        .into_iter()
        .map(|visit| (visit.id, visit))
        .collect();
    if visits.is_empty() {
        return Ok(Vec::new());
    }
    let rows = finding::Entity::find()
        .filter(finding::Column::VisitId.is_in(visits.keys().copied().collect::<Vec<_>>()))
        .filter(finding::Column::SchoolId.eq(school_id))
        .order_by_asc(finding::Column::Id)
        .all(db)
        .await?;
    let photos = finding_photos(db, &rows.iter().map(|row| row.id).collect::<Vec<_>>()).await?;
    let mut found: Vec<LetterFinding> = rows
        .into_iter()
        .filter_map(|row| {
            let visit = visits.get(&row.visit_id)?;
            Some(LetterFinding {
                id: row.id,
                visited_on: visit.visited_on.to_string(),
                visit_kind: VisitKind::parse(&visit.kind)
                    .map_or_else(|| visit.kind.clone(), |kind| kind.label().to_owned()),
                area: Area::parse(&row.area)
                    .map_or_else(|| row.area.clone(), |area| area.label().to_owned()),
                severity: content::severity_label(&row.severity).to_owned(),
                severity_slug: row.severity,
                text: row.text,
                photos: photos.get(&row.id).cloned().unwrap_or_default(),
            })
        })
        .collect();
    found.sort_by(|a, b| a.visited_on.cmp(&b.visited_on).then(a.id.cmp(&b.id)));
    Ok(found)
}

/// The thumbnails of each finding's photos as data URIs (`photos::thumbnail_data_uri`).
async fn finding_photos(
    db: &impl ConnectionTrait,
    finding_ids: &[i32],
) -> Result<BTreeMap<i32, Vec<String>>, LetterError> {
    let mut by_finding: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    if finding_ids.is_empty() {
        return Ok(by_finding);
    }
    for photo in crate::photos::list_for_findings(db, finding_ids).await? {
        let Some(finding_id) = photo.finding_id else {
            continue;
        };
        if let Some(uri) = crate::photos::thumbnail_data_uri(db, &photo.token).await? {
            by_finding.entry(finding_id).or_default().push(uri);
        }
    }
    Ok(by_finding)
}

/// The rectification items of the school in the round, by deadline.
async fn items(
    db: &impl ConnectionTrait,
    school_id: i32,
    campaign_id: i32,
    today: NaiveDate,
) -> Result<Vec<LetterItem>, LetterError> {
    let rows = rectification::Entity::find()
        .filter(rectification::Column::SchoolId.eq(school_id))
        .filter(rectification::Column::CampaignId.eq(campaign_id))
        .order_by_asc(rectification::Column::Deadline)
        .order_by_asc(rectification::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| LetterItem {
            id: row.id,
            area: row
                .area
                .as_deref()
                .and_then(Area::parse)
                .map_or_else(String::new, |area| area.label().to_owned()),
            requirement: row.requirement,
            responsible: row.responsible,
            deadline: row.deadline.to_string(),
            overdue: content::is_overdue(&row.status, row.deadline, today),
            status: content::status_label(&row.status).to_owned(),
            status_slug: row.status,
        })
        .collect())
}

/// The school's rating line of the round.
fn rating(evidence: &RoundEvidence, school_id: i32) -> LetterRating {
    let Some(row) = evidence
        .table
        .schools
        .iter()
        .find(|row| row.school_id == school_id)
    else {
        return LetterRating {
            score: "—".to_owned(),
            grade: "暂无可评定的内容".to_owned(),
            note: "本轮用于综合评估的调查活动都没有包括这所学校。".to_owned(),
            sources: Vec::new(),
        };
    };
    let text = rating_text(&row.rating);
    let sources = row
        .sources
        .iter()
        .filter_map(|count| {
            let found = evidence.results_of(count.source)?;
            Some(if count.source == Source::Indicators {
                format!(
                    "{}：{}（{}）",
                    count.source.label(),
                    found.campaign.name,
                    if count.answers > 0 {
                        "已提交"
                    } else {
                        "未提交"
                    }
                )
            } else {
                format!(
                    "{}：{}（答卷 {} 份）",
                    count.source.label(),
                    found.campaign.name,
                    count.answers
                )
            })
        })
        .collect();
    LetterRating {
        score: text.score,
        grade: text.grade,
        note: text.note,
        sources,
    }
}

/// A letter's draft, and why it cannot be issued yet, if it cannot.
pub struct Draft {
    pub content: LetterContent,
    pub held: Option<LetterError>,
}

/// The letter of `school_id` for round `campaign_id` as it would be issued now (read-only),
/// and why [`issue`] would refuse it now, if it would.
pub async fn draft(
    db: &(impl ConnectionTrait + TransactionTrait),
    plan: &Plan,
    school_id: i32,
    campaign_id: i32,
) -> Result<Draft, LetterError> {
    let evidence = round_evidence(db, plan, campaign_id).await?;
    let content = draft_from(db, &evidence, school_id).await?;
    let held = match teachers_still_answering(&evidence, school_id, Utc::now()) {
        Some(open) => Some(LetterError::TeachersStillAnswering(open.name.clone())),
        None => match latest_issued(db, school_id, campaign_id).await? {
            Some(earlier) => teachers_moved_since(&earlier, &content)?,
            None => None,
        },
    };
    Ok(Draft { content, held })
}

/// The latest version issued of `school_id`'s letter for round `campaign_id`, if any.
async fn latest_issued(
    db: &impl ConnectionTrait,
    school_id: i32,
    campaign_id: i32,
) -> Result<Option<letter::Model>, DbErr> {
    letter::Entity::find()
        .filter(letter::Column::SchoolId.eq(school_id))
        .filter(letter::Column::CampaignId.eq(campaign_id))
        .order_by_desc(letter::Column::Version)
        .one(db)
        .await
}

/// Why `next` may not be issued after `earlier` as far as teachers' figures go, if it may not:
/// when both show the school's teachers' figures from the same campaign and those changed by
/// fewer than [`results::TEACHERS_SHOWN_ALONE`] answers — after the campaign was reopened, or
/// single answers were excluded or released — so that the two versions, both in the school's
/// hands, would differ by one or a few teachers. Figures that did not change, that either
/// version withholds (too few teachers), or that come from another campaign may be reissued.
/// `Err` when the earlier snapshot cannot be read.
fn teachers_moved_since(
    earlier: &letter::Model,
    next: &LetterContent,
) -> Result<Option<LetterError>, LetterError> {
    let before: LetterContent = serde_json::from_str(&earlier.snapshot)
        .map_err(|error| LetterError::Snapshot(earlier.id, error))?;
    let moved = teachers_moved(&before.satisfaction, &next.satisfaction);
    Ok(
        moved.map(|(old, line)| LetterError::TeachersChangedSinceLetter {
            version: earlier.version,
            campaign: line.campaign.clone(),
            before: old.answers,
            now: line.answers,
        }),
    )
}

/// The teachers' line of `before` and of `next` that show the school's teachers' figures from
/// the same campaign, changed by fewer than [`results::TEACHERS_SHOWN_ALONE`] answers, if any.
fn teachers_moved<'a>(
    before: &'a [SatisfactionSource],
    next: &'a [SatisfactionSource],
) -> Option<(&'a SatisfactionSource, &'a SatisfactionSource)> {
    let teachers = Source::Teachers.label();
    let shown = |line: &&SatisfactionSource| {
        line.source == teachers && line.campaign_id != 0 && line.note != results::TEACHERS_TOO_FEW
    };
    next.iter().filter(shown).find_map(|line| {
        let old = before
            .iter()
            .filter(shown)
            .find(|old| old.campaign_id == line.campaign_id)?;
        let changed =
            (old.answers, &old.score, &old.areas) != (line.answers, &line.score, &line.areas);
        (changed && old.answers.abs_diff(line.answers) < results::TEACHERS_SHOWN_ALONE)
            .then_some((old, line))
    })
}

/// The teachers' campaign of a round's evidence that `school_id` is in and that still takes
/// answers at `now`, if there is one. A letter is the school's own view of its teachers'
/// figures: two letters issued while those answers still come in would differ by the few
/// given in between, and a principal who knows who answered when could read single teachers'
/// answers off the difference. So a school's letter is issued only once that campaign no longer
/// takes answers — as the school sees its before/after only once both campaigns have closed
/// (surveys/METHOD.md, `withheld` and `accountability`).
pub fn teachers_still_answering(
    evidence: &RoundEvidence,
    school_id: i32,
    now: chrono::DateTime<Utc>,
) -> Option<&campaign::Model> {
    evidence
        .used
        .iter()
        .map(|(_, found)| found)
        .filter(|found| found.survey.audience == Audience::Teachers)
        .filter(|found| found.schools.iter().any(|school| school.id == school_id))
        .map(|found| &found.campaign)
        .find(|campaign| {
            crate::campaigns::availability(campaign, now) == crate::campaigns::Availability::Open
        })
}

/// [`draft`] from a round's evidence already gathered.
pub async fn draft_from(
    db: &impl ConnectionTrait,
    evidence: &RoundEvidence,
    school_id: i32,
) -> Result<LetterContent, LetterError> {
    let round = evidence
        .used
        .iter()
        .map(|(_, found)| found)
        .find(|found| found.campaign.id == evidence.campaign.id)
        .ok_or(LetterError::SchoolNotInRound)?;
    let school = round
        .schools
        .iter()
        .find(|school| school.id == school_id)
        .cloned()
        .ok_or(LetterError::SchoolNotInRound)?;
    let today = china_today();
    let indicators = evidence
        .self_check()
        .and_then(|found| unmet_indicators(found, school_id))
        .unwrap_or_else(no_indicators);
    let mut content = LetterContent {
        title: "督导意见书".to_owned(),
        number_text: String::new(),
        year: 0,
        number: 0,
        version: 0,
        dated: content::dated(today),
        issued_at: String::new(),
        issuer: content::ISSUER.to_owned(),
        opening: format!(
            "根据《{}》，县教育督导室在“{}”中对你校开展了督导评估（问卷调查、满意度测评、学校自评和到校督查）。现将督导意见反馈如下。",
            content::PLAN_TITLE,
            evidence.campaign.name
        ),
        school: school_head(&school),
        campaign: LetterCampaign {
            id: evidence.campaign.id,
            name: evidence.campaign.name.clone(),
            survey_title: round.survey.title.clone(),
        },
        rating: rating(evidence, school_id),
        indicators,
        satisfaction: satisfaction(evidence, school_id),
        findings: findings(db, school_id, evidence.campaign.id).await?,
        rectification: items(db, school_id, evidence.campaign.id, today).await?,
        requirements: Vec::new(),
    };
    content.requirements = content::requirements(&content);
    Ok(content)
}

fn school_head(school: &school::Model) -> LetterSchool {
    LetterSchool {
        id: school.id,
        code: school.code.clone(),
        name: school.name.clone(),
        township: school.township.clone(),
        kind: school.kind.clone(),
    }
}

/// Whether a database error is a unique index refusing a row: another issue won the number.
fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Issues (or reissues) the letter of `school_id` for round `campaign_id`: its content now,
/// frozen, numbered, audited, in one change. A new letter takes the next number of the year
/// (China time) across all schools; a reissue keeps its number and year and adds a version.
/// When another issue takes the same number at the same moment, the unique indexes refuse one
/// of them and it is tried again from the start. Refused while a teachers' campaign the letter
/// draws on still takes answers from the school ([`teachers_still_answering`]), and a reissue
/// whose teachers' figures moved by fewer than 5 answers since the version before
/// ([`teachers_moved_since`]).
pub async fn issue(
    context: &Context,
    actor: Actor<'_>,
    plan: &Plan,
    school_id: i32,
    campaign_id: i32,
) -> Result<letter::Model, LetterError> {
    let evidence = round_evidence(&context.db, plan, campaign_id).await?;
    if let Some(open) = teachers_still_answering(&evidence, school_id, Utc::now()) {
        return Err(LetterError::TeachersStillAnswering(open.name.clone()));
    }
    let content = draft_from(&context.db, &evidence, school_id).await?;
    let issued_by = match actor {
        Actor::Account(account) => account.id,
        _ => 0,
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        match issue_once(context, actor, &content, issued_by).await {
            Err(LetterError::Db(error))
                if attempt < ISSUE_ATTEMPTS && is_unique_violation(&error) =>
            {
                tracing::info!(
                    attempt,
                    school = school_id,
                    "letter number taken; trying again"
                );
                // A moment's wait so that the racers do not meet again at once.
                tokio::time::sleep(std::time::Duration::from_millis(
                    5 + 7 * attempt as u64
                        + u64::from(crate::secrets::random_key().as_bytes()[0] % 13),
                ))
                .await;
            }
            other => return other,
        }
    }
}

async fn issue_once(
    context: &Context,
    actor: Actor<'_>,
    content: &LetterContent,
    issued_by: i32,
) -> Result<letter::Model, LetterError> {
    let change = Change::begin(context, actor).await?;
    let (school_id, campaign_id) = (content.school.id, content.campaign.id);
    let earlier = latest_issued(change.txn(), school_id, campaign_id).await?;
    if let Some(earlier) = &earlier
        && let Some(why) = teachers_moved_since(earlier, content)?
    {
        return Err(why);
    }
    let now = Utc::now();
    let (year, number, version) = match &earlier {
        Some(last) => (last.year, last.number, last.version + 1),
        None => {
            use chrono::Datelike;
            let year = now.with_timezone(&crate::campaigns::china_offset()).year();
            let last = letter::Entity::find()
                .filter(letter::Column::Year.eq(year))
                .order_by_desc(letter::Column::Number)
                .one(change.txn())
                .await?;
            (year, last.map_or(1, |last| last.number + 1), 1)
        }
    };
    let mut frozen = content.clone();
    frozen.year = year;
    frozen.number = number;
    frozen.version = version;
    frozen.number_text = content::number_text(year, number);
    frozen.issued_at = now.to_rfc3339();
    frozen.dated = content::dated(
        now.with_timezone(&crate::campaigns::china_offset())
            .date_naive(),
    );
    let snapshot =
        serde_json::to_string(&frozen).map_err(|error| LetterError::Snapshot(0, error))?;
    let row = letter::ActiveModel {
        school_id: Set(school_id),
        campaign_id: Set(campaign_id),
        year: Set(year),
        number: Set(number),
        version: Set(version),
        issued_by: Set(issued_by),
        issued_at: Set(now),
        snapshot: Set(snapshot),
        ..Default::default()
    }
    .insert(change.txn())
    .await?;
    change
        .audit_school(
            "letter_issue",
            school_id,
            format!(
                "出具督导意见书 {}{}：{}，{}",
                frozen.number_text,
                if version > 1 {
                    format!("（修订版第 {version} 版）")
                } else {
                    String::new()
                },
                frozen.school.name,
                frozen.campaign.name
            ),
        )
        .await?;
    change.commit().await?;
    Ok(row)
}

/// Who may see letters: everyone's (supervisors, admins) or one school's (its viewers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    School(i32),
}

impl Scope {
    /// The scope of an account: a school viewer sees its own school's letters only (none when
    /// the account names no school).
    pub fn of(account: &account::Model) -> Scope {
        match crate::accounts::role_of(account) {
            crate::accounts::Role::School => Scope::School(account.school_id.unwrap_or(0)),
            _ => Scope::All,
        }
    }
}

/// An issued letter with its frozen content.
#[derive(Clone, Debug)]
pub struct Issued {
    pub row: letter::Model,
    pub content: LetterContent,
}

/// Letter `id` if `scope` may see it; another school's letter is as good as none (`NotFound`).
pub async fn find(db: &impl ConnectionTrait, scope: Scope, id: i32) -> Result<Issued, LetterError> {
    let mut query = letter::Entity::find_by_id(id);
    if let Scope::School(school_id) = scope {
        query = query.filter(letter::Column::SchoolId.eq(school_id));
    }
    let row = query.one(db).await?.ok_or(LetterError::NotFound)?;
    let content = serde_json::from_str(&row.snapshot)
        .map_err(|error| LetterError::Snapshot(row.id, error))?;
    Ok(Issued { row, content })
}

/// A letter in a list: what the API and the lists show.
#[derive(Clone, Debug, Serialize)]
pub struct LetterLine {
    pub id: i32,
    pub school_id: i32,
    pub school_code: String,
    pub school_name: String,
    pub campaign_id: i32,
    pub campaign_name: String,
    pub year: i32,
    pub number: i32,
    pub version: i32,
    pub number_text: String,
    /// RFC 3339.
    pub issued_at: String,
    /// China time, to the minute.
    pub issued_at_text: String,
}

/// Every issued letter (every version) `scope` may see, newest number first.
pub async fn list(db: &impl ConnectionTrait, scope: Scope) -> Result<Vec<LetterLine>, LetterError> {
    let mut query = letter::Entity::find();
    if let Scope::School(school_id) = scope {
        query = query.filter(letter::Column::SchoolId.eq(school_id));
    }
    let rows = query
        .order_by_desc(letter::Column::Year)
        .order_by_desc(letter::Column::Number)
        .order_by_desc(letter::Column::Version)
        .all(db)
        .await?;
    let schools: BTreeMap<i32, school::Model> = school::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|school| (school.id, school))
        .collect();
    let campaigns: BTreeMap<i32, String> = campaign::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|campaign| (campaign.id, campaign.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let school = schools.get(&row.school_id);
            LetterLine {
                id: row.id,
                school_id: row.school_id,
                school_code: school.map_or_else(String::new, |school| school.code.clone()),
                school_name: school.map_or_else(String::new, |school| school.name.clone()),
                campaign_id: row.campaign_id,
                campaign_name: campaigns.get(&row.campaign_id).cloned().unwrap_or_default(),
                year: row.year,
                number: row.number,
                version: row.version,
                number_text: content::number_text(row.year, row.number),
                issued_at: row.issued_at.to_rfc3339(),
                issued_at_text: crate::campaigns::display_time(row.issued_at),
            }
        })
        .collect())
}

/// One school of a round on the round's letters page.
#[derive(Clone, Debug, Serialize)]
pub struct RoundSchool {
    pub school_id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
    /// The latest version issued, if any.
    pub latest: Option<LetterLine>,
}

/// Every school of round `campaign_id` with its latest issued letter.
pub async fn round_letters(
    db: &impl ConnectionTrait,
    campaign_id: i32,
) -> Result<Vec<RoundSchool>, LetterError> {
    let mut links = crate::campaigns::links_with_schools(db, campaign_id).await?;
    links.sort_by(|(_, a), (_, b)| a.code.cmp(&b.code));
    let mut latest: BTreeMap<i32, LetterLine> = BTreeMap::new();
    for line in list(db, Scope::All).await? {
        if line.campaign_id != campaign_id {
            continue;
        }
        let newer = latest
            .get(&line.school_id)
            .is_none_or(|current| line.version > current.version);
        if newer {
            latest.insert(line.school_id, line);
        }
    }
    Ok(links
        .into_iter()
        .map(|(_, school)| RoundSchool {
            latest: latest.remove(&school.id),
            school_id: school.id,
            code: school.code,
            name: school.name,
            township: school.township,
        })
        .collect())
}

/// The addresses a letter goes to: the school's active school-viewer accounts, and `extra`
/// (checked addresses the supervisor typed), without repeats.
async fn recipients(
    db: &impl ConnectionTrait,
    school_id: i32,
    extra: &[String],
) -> Result<Vec<String>, LetterError> {
    let viewers = account::Entity::find()
        .filter(account::Column::SchoolId.eq(school_id))
        .filter(account::Column::Role.eq(crate::accounts::Role::School.slug()))
        .filter(account::Column::Disabled.eq(false))
        .order_by_asc(account::Column::Id)
        .all(db)
        .await?;
    let mut addresses: Vec<String> = Vec::new();
    for address in viewers
        .into_iter()
        .map(|viewer| viewer.email)
        .chain(extra.iter().cloned())
    {
        if !addresses
            .iter()
            .any(|known| known.eq_ignore_ascii_case(&address))
        {
            addresses.push(address);
        }
    }
    Ok(addresses)
}

#[derive(Serialize)]
struct MailPhoto {
    cid: String,
}

#[derive(Serialize)]
struct MailFinding<'a> {
    #[serde(flatten)]
    finding: &'a content::LetterFinding,
    images: Vec<MailPhoto>,
}

#[derive(Serialize)]
struct MailContext<'a> {
    letter: &'a LetterContent,
    findings: Vec<MailFinding<'a>>,
    revised: bool,
    url: &'a str,
    sender: &'a str,
}

/// An inline image from a `data:image/jpeg;base64,…` URI of a snapshot.
fn inline_image(uri: &str, cid: String) -> Option<InlineImage> {
    let (head, data) = uri.strip_prefix("data:")?.split_once(',')?;
    let content_type = head.strip_suffix(";base64")?;
    // The outbox's own base64 reading (InlineImage travels as base64 in JSON).
    serde_json::from_value(serde_json::json!({
        "cid": cid,
        "content_type": content_type,
        "bytes": data,
    }))
    .ok()
}

/// The mail of a frozen letter: subject, text, HTML with the thumbnails inline (`cid:`).
pub fn compose(
    templates: &MailTemplates,
    letter: &LetterContent,
    url: &str,
    sender: &str,
) -> Result<(crate::mail::Composed, Vec<InlineImage>), handlebars::RenderError> {
    let mut images = Vec::new();
    let findings = letter
        .findings
        .iter()
        .map(|finding| MailFinding {
            finding,
            images: finding
                .photos
                .iter()
                .enumerate()
                .filter_map(|(index, uri)| {
                    let cid = format!("finding{}-photo{}@dupin", finding.id, index + 1);
                    let image = inline_image(uri, cid.clone())?;
                    images.push(image);
                    Some(MailPhoto { cid })
                })
                .collect(),
        })
        .collect();
    let composed = templates.compose(
        "letter",
        &MailContext {
            letter,
            findings,
            revised: letter.version > 1,
            url,
            sender,
        },
    )?;
    Ok((composed, images))
}

/// Queues frozen letter `id` for the school's viewers and the `extra` addresses (checked),
/// with its audit record, in one change. Returns the addresses it went to.
pub async fn mail(
    context: &Context,
    actor: Actor<'_>,
    id: i32,
    extra: &[String],
    sender_name: &str,
) -> Result<Vec<String>, LetterError> {
    let issued = find(&context.db, Scope::All, id).await?;
    let addresses = recipients(&context.db, issued.row.school_id, extra).await?;
    if addresses.is_empty() {
        return Err(LetterError::NoRecipients);
    }
    let url = format!("{}/console/letters/{id}", context.base_url);
    let templates = MailTemplates::embedded()?;
    let (composed, images) = compose(templates, &issued.content, &url, sender_name)?;
    let mut change = Change::begin(context, actor).await?;
    outbox::enqueue_each(
        change.txn(),
        MailKind::Report,
        &addresses,
        &composed,
        &images,
    )
    .await?;
    change
        .audit_school(
            "letter_mail",
            issued.row.school_id,
            format!(
                "以邮件发送督导意见书 {}（第 {} 版，{}）给 {} 个地址：{}",
                issued.content.number_text,
                issued.content.version,
                issued.content.school.name,
                addresses.len(),
                addresses.join("、")
            ),
        )
        .await?;
    change.mail_queued();
    change.commit().await?;
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn teachers(campaign_id: i32, answers: u64, score: &str) -> SatisfactionSource {
        SatisfactionSource {
            source: Source::Teachers.label().to_owned(),
            campaign: format!("教师问卷 {campaign_id}"),
            campaign_id,
            answers,
            score: score.to_owned(),
            areas: Vec::new(),
            note: if answers < results::TEACHERS_SHOWN_ALONE {
                results::TEACHERS_TOO_FEW.to_owned()
            } else {
                String::new()
            },
        }
    }

    fn moved(before: SatisfactionSource, next: SatisfactionSource) -> bool {
        teachers_moved(&[before], &[next]).is_some()
    }

    #[test]
    fn a_reissue_waits_while_the_teachers_figures_moved_by_fewer_than_five() {
        assert!(
            moved(teachers(7, 5, "80.0"), teachers(7, 6, "78.5")),
            "one more"
        );
        assert!(
            moved(teachers(7, 9, "80.0"), teachers(7, 8, "81.0")),
            "one excluded"
        );
        assert!(
            moved(teachers(7, 9, "80.0"), teachers(7, 9, "79.2")),
            "one swapped for another: same count, other figures"
        );
        assert!(
            !moved(teachers(7, 5, "80.0"), teachers(7, 5, "80.0")),
            "unchanged"
        );
        assert!(
            !moved(teachers(7, 5, "80.0"), teachers(7, 10, "75.0")),
            "five more"
        );
        assert!(
            !moved(teachers(7, 5, "80.0"), teachers(8, 6, "70.0")),
            "another campaign"
        );
        assert!(
            !moved(teachers(7, 4, "—"), teachers(7, 5, "80.0")),
            "shown for the first time"
        );
        assert!(
            !moved(teachers(7, 5, "80.0"), teachers(7, 4, "—")),
            "withheld now"
        );
        assert!(
            !moved(teachers(0, 5, "80.0"), teachers(7, 6, "78.5")),
            "an older snapshot"
        );
        let mut parents = teachers(7, 5, "80.0");
        parents.source = Source::Parents.label().to_owned();
        let mut later = parents.clone();
        later.answers = 6;
        assert!(!moved(parents, later), "parents are many");
    }
}
