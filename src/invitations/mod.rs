//! One-use invitations of teachers to a teachers' campaign, and reminders to those who have not
//! answered. Inviting writes each `invitation` row and its mail to the outbox in one
//! transaction; the mail sender (`crate::mail`) later marks the invitation `sent` or `failed`;
//! the answer writer marks it `answered` in the transaction that stores the answer.
//!
//! Anonymity: an invitation records *that* it was used (status `answered`), never when, and never
//! which response came from it; a response stored through a personal link carries no invitation
//! id and no browser key. Nothing here, or anywhere, joins the two tables.
//!
//! Nothing here knows about HTTP; [`reminder_check`] and [`select_rows`] do no I/O.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use entity::{campaign, campaign_link, invitation, invitation_link, school, teacher};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    Set,
};
use serde::Serialize;

use crate::campaigns::{self, Availability};
use crate::change::{Actor, Change, Context};
use crate::links;
use crate::mail::{MailKind, MailTemplates, Outgoing, outbox};
use crate::survey::Audience;

/// The reminder interval supervisors get unless they choose another, in days.
pub const DEFAULT_REMINDER_DAYS: i64 = 3;
/// The interval's bounds, in days.
pub const REMINDER_DAYS: std::ops::RangeInclusive<i64> = 1..=30;

/// Where an invitation stands, as stored in `invitation.status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Status {
    /// Its mail (first or reminder) waits in the outbox.
    Queued,
    /// The SMTP server accepted its last mail.
    Sent,
    /// Its last mail was given up on; `last_error` says why.
    Failed,
    /// The link was used: an answer was stored through it.
    Answered,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Queued,
        Status::Sent,
        Status::Failed,
        Status::Answered,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Sent => "sent",
            Status::Failed => "failed",
            Status::Answered => crate::answering::personal_links::ANSWERED,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Queued => "排队中",
            Status::Sent => "已发送",
            Status::Failed => "发送失败",
            Status::Answered => "已作答",
        }
    }

    pub fn parse(slug: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|status| status.slug() == slug)
    }
}

/// Why invitations were not sent or reminded.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error("这次调查的问卷不是教师问卷，不能按教师名单邀请")]
    NotForTeachers,
    #[error("调查活动还是草稿，请先开放调查活动再邀请教师（链接在开放前无法填写）")]
    Draft,
    #[error("调查活动已经结束，不能再邀请或提醒")]
    Closed,
    #[error("提醒间隔应为 {} 到 {} 天", REMINDER_DAYS.start(), REMINDER_DAYS.end())]
    BadInterval,
    #[error("找不到这份邀请")]
    NoSuchInvitation,
    #[error("找不到这位待批准的教师（可能已被批准或删除）")]
    NoSuchTeacher,
    #[error("只有发送失败的邀请可以重新发送（这份邀请现在是“{0}”）")]
    NotFailed(&'static str),
    #[error("邮件模板无法生成：{0}")]
    Template(#[from] handlebars::RenderError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A teachers' campaign that may take invitations now.
pub async fn check_campaign(
    db: &impl ConnectionTrait,
    campaign: &campaign::Model,
) -> Result<(), InviteError> {
    let (_, audience) = campaigns::survey_of(db, campaign).await?;
    if audience != Some(Audience::Teachers) {
        return Err(InviteError::NotForTeachers);
    }
    match campaigns::availability(campaign, Utc::now()) {
        Availability::Draft => Err(InviteError::Draft),
        Availability::Closed => Err(InviteError::Closed),
        Availability::Open | Availability::NotYetOpen(_) => Ok(()),
    }
}

/// What the invitation and reminder templates are given.
#[derive(Clone, Debug, Serialize)]
pub struct MailContext {
    pub teacher_name: String,
    pub school_name: String,
    pub campaign_name: String,
    /// 截止时间, China time, or `None` when the campaign has no closing date.
    pub closes: Option<String>,
    /// The personal link `{base_url}/s/{token}`.
    pub link: String,
    pub base_url: String,
}

fn mail_context(
    campaign: &campaign::Model,
    school_name: &str,
    teacher: &teacher::Model,
    token: &str,
    base_url: &str,
) -> MailContext {
    MailContext {
        teacher_name: teacher.name.clone(),
        school_name: school_name.to_owned(),
        campaign_name: campaign.name.clone(),
        closes: campaign.closes_at.map(campaigns::display_time),
        link: links::link_url(base_url, token),
        base_url: base_url.trim_end_matches('/').to_owned(),
    }
}

/// A new personal link of invitation `invitation_id`: its token, which only the mail about to be
/// queued will carry; the database keeps its hash. Earlier links of the invitation stay valid
/// (a teacher may open the first mail after a reminder); all of them answer once between them.
async fn new_link(
    db: &impl ConnectionTrait,
    invitation_id: i32,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let token = links::new_token();
    invitation_link::ActiveModel {
        token_hash: Set(crate::secrets::sha256_hex(&token)),
        invitation_id: Set(invitation_id),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Composes the mail of `kind` (invitation or reminder) and writes it to the outbox.
async fn enqueue_mail(
    db: &impl ConnectionTrait,
    kind: MailKind,
    to: &str,
    invitation_id: i32,
    context: &MailContext,
) -> Result<(), InviteError> {
    let template = match kind {
        MailKind::Reminder => "reminder",
        _ => "invitation",
    };
    let composed = MailTemplates::embedded()?.compose(template, context)?;
    outbox::enqueue(
        db,
        &Outgoing {
            kind,
            to: to.to_owned(),
            subject: composed.subject,
            text: composed.text,
            html: composed.html,
            images: Vec::new(),
            invitation_id: Some(invitation_id),
        },
    )
    .await?;
    Ok(())
}

/// What "邀请教师" did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InviteSummary {
    /// Invitations created (and mails queued) now.
    pub invited: usize,
    /// Roster teachers of the campaign's schools invited before.
    pub already_invited: usize,
    /// Schools of the campaign with nobody on their roster.
    pub schools_without_roster: usize,
    /// Teachers a school added itself, not invited until a supervisor approves them.
    pub awaiting_approval: usize,
}

/// Whether `teacher` waits for a supervisor's approval before a campaign invites them: the
/// school added them itself and nobody approved them yet — before the campaign was made as much
/// as after, or a school could seed its roster with addresses of its own choosing ahead of the
/// round and answer through their personal links. Teachers a supervisor or admin imported, and
/// teachers approved once, are invited at once.
pub fn awaits_approval(teacher: &teacher::Model) -> bool {
    teacher.added_by_school && teacher.approved_at.is_none()
}

/// Invites every roster teacher of the campaign's schools who has no invitation to it yet: in
/// one transaction, one `invitation` row (status `queued`) and one outbox mail each, and the
/// audit event `invitations_send`.
pub async fn invite_all(
    context: &Context,
    actor: Actor<'_>,
    campaign: &campaign::Model,
) -> Result<InviteSummary, InviteError> {
    let mut change = Change::begin(context, actor).await?;
    let txn = change.txn();
    let base_url = &*context.base_url;
    check_campaign(txn, campaign).await?;
    let schools = campaign_schools(txn, campaign.id).await?;
    let school_ids: Vec<i32> = schools.keys().copied().collect();
    let mut teachers = Vec::new();
    for batch in school_ids.chunks(500) {
        teachers.extend(
            teacher::Entity::find()
                .filter(teacher::Column::SchoolId.is_in(batch.iter().copied()))
                .all(txn)
                .await?,
        );
    }
    teachers.sort_by(|a, b| (a.school_id, &a.email).cmp(&(b.school_id, &b.email)));
    let invited: HashSet<i32> = invitation::Entity::find()
        .select_only()
        .column(invitation::Column::TeacherId)
        .filter(invitation::Column::CampaignId.eq(campaign.id))
        .into_tuple::<i32>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let with_roster: HashSet<i32> = teachers.iter().map(|t| t.school_id).collect();
    let mut summary = InviteSummary {
        schools_without_roster: schools.len() - with_roster.len(),
        ..InviteSummary::default()
    };
    let now = Utc::now();
    for teacher in &teachers {
        if invited.contains(&teacher.id) {
            summary.already_invited += 1;
            continue;
        }
        if awaits_approval(teacher) {
            summary.awaiting_approval += 1;
            continue;
        }
        let row = invitation::ActiveModel {
            campaign_id: Set(campaign.id),
            teacher_id: Set(teacher.id),
            status: Set(Status::Queued.slug().to_owned()),
            last_error: Set(None),
            sent_at: Set(None),
            reminded_at: Set(None),
            reminders: Set(0),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let token = new_link(txn, row.id, now).await?;
        let school_name = schools
            .get(&teacher.school_id)
            .map_or("", |school| school.name.as_str());
        let mail = mail_context(campaign, school_name, teacher, &token, base_url);
        enqueue_mail(txn, MailKind::Invitation, &teacher.email, row.id, &mail).await?;
        summary.invited += 1;
    }
    let detail = format!(
        "{}（id {}）：邀请 {} 位教师，此前已邀请 {} 位",
        campaign.name, campaign.id, summary.invited, summary.already_invited
    );
    change.audit("invitations_send", detail).await?;
    if summary.invited > 0 {
        change.mail_queued();
    }
    change.commit().await?;
    tracing::info!(
        campaign = campaign.id,
        invited = summary.invited,
        "teachers invited"
    );
    Ok(summary)
}

/// Teachers of the campaign's schools that a school added itself and nobody approved yet, with
/// their school: what the invitations page asks a supervisor to look at.
pub async fn awaiting_approval(
    db: &impl ConnectionTrait,
    campaign: &campaign::Model,
) -> Result<Vec<(teacher::Model, school::Model)>, DbErr> {
    let schools = campaign_schools(db, campaign.id).await?;
    let school_ids: Vec<i32> = schools.keys().copied().collect();
    let mut waiting = Vec::new();
    for batch in school_ids.chunks(500) {
        for teacher in teacher::Entity::find()
            .filter(teacher::Column::SchoolId.is_in(batch.iter().copied()))
            .filter(teacher::Column::AddedBySchool.eq(true))
            .filter(teacher::Column::ApprovedAt.is_null())
            .all(db)
            .await?
        {
            if let Some(school) = schools.get(&teacher.school_id) {
                waiting.push((teacher, school.clone()));
            }
        }
    }
    waiting.sort_by(|(a, x), (b, y)| (&x.code, &a.email).cmp(&(&y.code, &b.email)));
    Ok(waiting)
}

/// A supervisor approves teachers a school added to `campaign`'s schools (all of them waiting,
/// or the one given); the next 邀请教师 invites them. Audit event `teachers_approve`, naming each
/// teacher's school. Returns how many were approved.
pub async fn approve_teachers(
    context: &Context,
    actor: Actor<'_>,
    campaign: &campaign::Model,
    only: Option<i32>,
) -> Result<usize, InviteError> {
    let change = Change::begin(context, actor).await?;
    check_campaign(change.txn(), campaign).await?;
    let waiting = awaiting_approval(change.txn(), campaign).await?;
    let now = Utc::now();
    let mut approved = 0;
    for (teacher, school) in waiting {
        if only.is_some_and(|id| id != teacher.id) {
            continue;
        }
        teacher::Entity::update_many()
            .col_expr(teacher::Column::ApprovedAt, Expr::value(Some(now)))
            .filter(teacher::Column::Id.eq(teacher.id))
            .filter(teacher::Column::ApprovedAt.is_null())
            .exec(change.txn())
            .await?;
        let detail = format!(
            "{}（id {}）：批准 {} {} 添加的 {} <{}>",
            campaign.name, campaign.id, school.code, school.name, teacher.name, teacher.email
        );
        change
            .audit_school("teachers_approve", school.id, detail)
            .await?;
        approved += 1;
    }
    if only.is_some() && approved == 0 {
        return Err(InviteError::NoSuchTeacher);
    }
    change.commit().await?;
    Ok(approved)
}

/// One change to a roster of the campaign's schools, as the invitations page lists it.
#[derive(Clone, Debug, Serialize)]
pub struct RosterChange {
    pub at: DateTime<Utc>,
    /// Who made it: an e-mail, or `command line`.
    pub actor: String,
    pub action: &'static str,
    pub detail: String,
}

/// Every change to the rosters of the campaign's schools (added, removed, imported, approved),
/// newest first, at most `limit`: who made it and when.
pub async fn roster_changes(
    db: &impl ConnectionTrait,
    campaign_id: i32,
    limit: u64,
) -> Result<Vec<RosterChange>, DbErr> {
    use entity::audit_event;
    use sea_orm::{QueryOrder, QuerySelect as _};
    let school_ids: Vec<i32> = campaign_link::Entity::find()
        .select_only()
        .column(campaign_link::Column::SchoolId)
        .filter(campaign_link::Column::CampaignId.eq(campaign_id))
        .into_tuple()
        .all(db)
        .await?;
    let mut changes = Vec::new();
    for batch in school_ids.chunks(500) {
        changes.extend(
            audit_event::Entity::find()
                .filter(audit_event::Column::SchoolId.is_in(batch.iter().copied()))
                .filter(audit_event::Column::Action.is_in([
                    "teacher_add",
                    "teacher_remove",
                    "roster_import",
                    "teachers_approve",
                ]))
                .order_by_desc(audit_event::Column::Id)
                .limit(limit)
                .all(db)
                .await?,
        );
    }
    changes.sort_by_key(|event| std::cmp::Reverse(event.id));
    changes.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(changes
        .into_iter()
        .map(|event| RosterChange {
            at: event.at,
            actor: event.actor,
            action: crate::audit::action_label(&event.action).unwrap_or("名单变动"),
            detail: event.detail,
        })
        .collect())
}

/// How many roster teachers of the campaign's schools have no invitation to it yet: whom
/// "邀请教师" would invite now.
pub async fn not_yet_invited(db: &impl ConnectionTrait, campaign_id: i32) -> Result<usize, DbErr> {
    let school_ids: Vec<i32> = campaign_link::Entity::find()
        .select_only()
        .column(campaign_link::Column::SchoolId)
        .filter(campaign_link::Column::CampaignId.eq(campaign_id))
        .into_tuple()
        .all(db)
        .await?;
    let mut teacher_ids = Vec::new();
    for batch in school_ids.chunks(500) {
        let ids: Vec<i32> = teacher::Entity::find()
            .select_only()
            .column(teacher::Column::Id)
            .filter(teacher::Column::SchoolId.is_in(batch.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        teacher_ids.extend(ids);
    }
    let invited: HashSet<i32> = invitation::Entity::find()
        .select_only()
        .column(invitation::Column::TeacherId)
        .filter(invitation::Column::CampaignId.eq(campaign_id))
        .into_tuple::<i32>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(teacher_ids
        .iter()
        .filter(|id| !invited.contains(id))
        .count())
}

/// The schools of a campaign (those with a link), by id.
async fn campaign_schools(
    db: &impl ConnectionTrait,
    campaign_id: i32,
) -> Result<HashMap<i32, school::Model>, DbErr> {
    let school_ids: Vec<i32> = campaign_link::Entity::find()
        .select_only()
        .column(campaign_link::Column::SchoolId)
        .filter(campaign_link::Column::CampaignId.eq(campaign_id))
        .into_tuple()
        .all(db)
        .await?;
    let mut schools = HashMap::new();
    for batch in school_ids.chunks(500) {
        for found in school::Entity::find()
            .filter(school::Column::Id.is_in(batch.iter().copied()))
            .all(db)
            .await?
        {
            schools.insert(found.id, found);
        }
    }
    Ok(schools)
}

/// Whether an invitation gets a reminder now, and if not, why not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReminderCheck {
    Due,
    Answered,
    /// Its last mail failed for good: "重新发送" is the way, not a reminder.
    Failed,
    /// Its last mail (invitation or reminder) went less than the interval ago.
    TooSoon,
    /// A mail to it still waits in the outbox.
    StillQueued,
}

/// When the invitation's last mail went (or was queued, if none went yet).
pub fn last_mail_at(invitation: &invitation::Model) -> DateTime<Utc> {
    [invitation.sent_at, invitation.reminded_at]
        .into_iter()
        .flatten()
        .fold(invitation.created_at, std::cmp::max)
}

/// Whether `invitation` is reminded now with `interval` between mails.
pub fn reminder_check(
    invitation: &invitation::Model,
    now: DateTime<Utc>,
    interval: Duration,
) -> ReminderCheck {
    match Status::parse(&invitation.status) {
        Some(Status::Answered) => ReminderCheck::Answered,
        Some(Status::Failed) => ReminderCheck::Failed,
        _ if now - last_mail_at(invitation) < interval => ReminderCheck::TooSoon,
        Some(Status::Queued) => ReminderCheck::StillQueued,
        _ => ReminderCheck::Due,
    }
}

/// What "提醒未作答的教师" did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RemindSummary {
    pub reminded: usize,
    /// Not answered, but mailed less than the interval ago.
    pub too_soon: usize,
    /// Not answered, a mail still waiting in the outbox.
    pub still_queued: usize,
    /// Failed for good: to be resent, not reminded.
    pub failed: usize,
    pub answered: usize,
}

/// Reminds every invitation of the campaign that [`reminder_check`] finds due: in one
/// transaction, a reminder mail each to the same personal link, `reminded_at` set, `reminders`
/// counted and the status back to `queued` until the sender has sent it; and the audit event
/// `invitations_remind`.
pub async fn remind(
    context: &Context,
    actor: Actor<'_>,
    campaign: &campaign::Model,
    interval_days: i64,
) -> Result<RemindSummary, InviteError> {
    if !REMINDER_DAYS.contains(&interval_days) {
        return Err(InviteError::BadInterval);
    }
    let interval = Duration::days(interval_days);
    let mut change = Change::begin(context, actor).await?;
    let txn = change.txn();
    let base_url = &*context.base_url;
    check_campaign(txn, campaign).await?;
    let invitations = invitation::Entity::find()
        .filter(invitation::Column::CampaignId.eq(campaign.id))
        .all(txn)
        .await?;
    let now = Utc::now();
    let mut summary = RemindSummary::default();
    let mut due = Vec::new();
    for found in invitations {
        match reminder_check(&found, now, interval) {
            ReminderCheck::Due => due.push(found),
            ReminderCheck::Answered => summary.answered += 1,
            ReminderCheck::Failed => summary.failed += 1,
            ReminderCheck::TooSoon => summary.too_soon += 1,
            ReminderCheck::StillQueued => summary.still_queued += 1,
        }
    }
    if !due.is_empty() {
        let schools = campaign_schools(txn, campaign.id).await?;
        let teachers = teachers_by_id(txn, due.iter().map(|found| found.teacher_id)).await?;
        for found in due {
            let Some(teacher) = teachers.get(&found.teacher_id) else {
                continue;
            };
            // Conditional, so that an answer stored meanwhile by another process wins.
            let updated = invitation::Entity::update_many()
                .col_expr(
                    invitation::Column::Status,
                    Expr::value(Status::Queued.slug()),
                )
                .col_expr(invitation::Column::RemindedAt, Expr::value(Some(now)))
                .col_expr(
                    invitation::Column::Reminders,
                    Expr::col(invitation::Column::Reminders).add(1),
                )
                .filter(invitation::Column::Id.eq(found.id))
                .filter(invitation::Column::Status.ne(Status::Answered.slug()))
                .exec(txn)
                .await?;
            if updated.rows_affected == 0 {
                summary.answered += 1;
                continue;
            }
            let school_name = schools
                .get(&teacher.school_id)
                .map_or("", |school| school.name.as_str());
            let token = new_link(txn, found.id, now).await?;
            let mail = mail_context(campaign, school_name, teacher, &token, base_url);
            enqueue_mail(txn, MailKind::Reminder, &teacher.email, found.id, &mail).await?;
            summary.reminded += 1;
        }
    }
    let detail = format!(
        "{}（id {}）：提醒 {} 位，间隔 {interval_days} 天内已发过而跳过 {} 位",
        campaign.name, campaign.id, summary.reminded, summary.too_soon
    );
    change.audit("invitations_remind", detail).await?;
    if summary.reminded > 0 {
        change.mail_queued();
    }
    change.commit().await?;
    Ok(summary)
}

async fn teachers_by_id(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i32>,
) -> Result<HashMap<i32, teacher::Model>, DbErr> {
    let ids: Vec<i32> = ids.collect();
    let mut found = HashMap::new();
    for batch in ids.chunks(500) {
        for teacher in teacher::Entity::find()
            .filter(teacher::Column::Id.is_in(batch.iter().copied()))
            .all(db)
            .await?
        {
            found.insert(teacher.id, teacher);
        }
    }
    Ok(found)
}

/// Sends a failed invitation's mail again: a new outbox message to the same personal link, the
/// status back to `queued` and the old reason cleared; audit event `invitations_resend`.
pub async fn resend(
    context: &Context,
    actor: Actor<'_>,
    campaign: &campaign::Model,
    invitation_id: i32,
) -> Result<String, InviteError> {
    let mut change = Change::begin(context, actor).await?;
    let txn = change.txn();
    check_campaign(txn, campaign).await?;
    let found = invitation::Entity::find_by_id(invitation_id)
        .filter(invitation::Column::CampaignId.eq(campaign.id))
        .one(txn)
        .await?
        .ok_or(InviteError::NoSuchInvitation)?;
    let status = Status::parse(&found.status).unwrap_or(Status::Queued);
    if status != Status::Failed {
        return Err(InviteError::NotFailed(status.label()));
    }
    let teacher = teacher::Entity::find_by_id(found.teacher_id)
        .one(txn)
        .await?
        .ok_or(InviteError::NoSuchInvitation)?;
    let school_name = school::Entity::find_by_id(teacher.school_id)
        .one(txn)
        .await?
        .map(|school| school.name)
        .unwrap_or_default();
    invitation::Entity::update_many()
        .col_expr(
            invitation::Column::Status,
            Expr::value(Status::Queued.slug()),
        )
        .col_expr(
            invitation::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(invitation::Column::Id.eq(found.id))
        .exec(txn)
        .await?;
    let token = new_link(txn, found.id, Utc::now()).await?;
    let mail = mail_context(campaign, &school_name, &teacher, &token, &context.base_url);
    enqueue_mail(txn, MailKind::Invitation, &teacher.email, found.id, &mail).await?;
    let detail = format!(
        "{}（id {}）：重新发送给 {} <{}>",
        campaign.name, campaign.id, teacher.name, teacher.email
    );
    change.audit("invitations_resend", detail).await?;
    change.mail_queued();
    change.commit().await?;
    Ok(format!("{} <{}>", teacher.name, teacher.email))
}

// ---------------------------------------------------------------------------------------------
// The status page

/// Invitations of a campaign counted by status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    pub total: usize,
    pub queued: usize,
    pub sent: usize,
    pub failed: usize,
    pub answered: usize,
}

/// One invitation as the status page lists it: who, where, and the status — nothing about the
/// answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvitationRow {
    pub id: i32,
    pub teacher_name: String,
    pub email: String,
    pub school_id: i32,
    pub school_code: String,
    pub school_name: String,
    #[serde(skip)]
    pub status: Status,
    pub status_slug: &'static str,
    pub status_label: &'static str,
    /// The SMTP server's reason, for a failed one.
    pub last_error: Option<String>,
    /// When its last mail went (China time), if one went.
    pub last_mail: Option<String>,
    pub reminders: i32,
}

/// How the list is sorted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    #[default]
    School,
    Name,
    Email,
    Status,
}

impl SortKey {
    pub const ALL: [SortKey; 4] = [
        SortKey::School,
        SortKey::Name,
        SortKey::Email,
        SortKey::Status,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            SortKey::School => "school",
            SortKey::Name => "name",
            SortKey::Email => "email",
            SortKey::Status => "status",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::School => "学校",
            SortKey::Name => "姓名",
            SortKey::Email => "邮箱",
            SortKey::Status => "状态",
        }
    }

    pub fn parse(slug: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|key| key.slug() == slug)
    }
}

/// Which invitations to show, in which order, which page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub school_id: Option<i32>,
    pub status: Option<Status>,
    pub sort: SortKey,
    pub descending: bool,
    pub page: usize,
}

/// Rows per page of the status list.
pub const PAGE_SIZE: usize = 50;

/// One page of the list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ListPage {
    pub rows: Vec<InvitationRow>,
    /// Rows matching the filters, on every page.
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
}

/// Every invitation of a campaign with its teacher and school (a county's teachers are a few
/// thousand at most: read once, filtered and sorted in memory).
pub async fn rows(
    db: &impl ConnectionTrait,
    campaign_id: i32,
) -> Result<Vec<InvitationRow>, DbErr> {
    let invitations = invitation::Entity::find()
        .filter(invitation::Column::CampaignId.eq(campaign_id))
        .all(db)
        .await?;
    let teachers = teachers_by_id(db, invitations.iter().map(|found| found.teacher_id)).await?;
    let schools: HashMap<i32, school::Model> = school::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|school| (school.id, school))
        .collect();
    Ok(invitations
        .into_iter()
        .filter_map(|found| {
            let teacher = teachers.get(&found.teacher_id)?;
            let school = schools.get(&teacher.school_id)?;
            let status = Status::parse(&found.status).unwrap_or(Status::Queued);
            let mailed = [found.sent_at, found.reminded_at]
                .into_iter()
                .flatten()
                .max();
            Some(InvitationRow {
                id: found.id,
                teacher_name: teacher.name.clone(),
                email: teacher.email.clone(),
                school_id: school.id,
                school_code: school.code.clone(),
                school_name: school.name.clone(),
                status,
                status_slug: status.slug(),
                status_label: status.label(),
                last_error: (status == Status::Failed)
                    .then(|| found.last_error.clone())
                    .flatten(),
                last_mail: mailed.map(campaigns::display_time),
                reminders: found.reminders,
            })
        })
        .collect())
}

/// Counts by status of every row.
pub fn count_statuses(rows: &[InvitationRow]) -> StatusCounts {
    let mut counts = StatusCounts {
        total: rows.len(),
        ..StatusCounts::default()
    };
    for row in rows {
        match row.status {
            Status::Queued => counts.queued += 1,
            Status::Sent => counts.sent += 1,
            Status::Failed => counts.failed += 1,
            Status::Answered => counts.answered += 1,
        }
    }
    counts
}

/// Filters, sorts and cuts one page out of `rows`. Pages past the last show the last.
pub fn select_rows(mut rows: Vec<InvitationRow>, query: &ListQuery) -> ListPage {
    rows.retain(|row| {
        query.school_id.is_none_or(|id| row.school_id == id)
            && query.status.is_none_or(|status| row.status == status)
    });
    let status_order = |status: Status| Status::ALL.iter().position(|s| *s == status);
    rows.sort_by(|a, b| {
        let primary = match query.sort {
            SortKey::School => a.school_code.cmp(&b.school_code),
            SortKey::Name => a.teacher_name.cmp(&b.teacher_name),
            SortKey::Email => a.email.cmp(&b.email),
            SortKey::Status => status_order(a.status).cmp(&status_order(b.status)),
        };
        let primary = if query.descending {
            primary.reverse()
        } else {
            primary
        };
        primary
            .then_with(|| a.school_code.cmp(&b.school_code))
            .then_with(|| a.teacher_name.cmp(&b.teacher_name))
            .then_with(|| a.email.cmp(&b.email))
    });
    let matching = rows.len();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.clamp(1, pages);
    let rows = rows
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    ListPage {
        rows,
        matching,
        page,
        pages,
    }
}

#[cfg(test)]
mod tests;
