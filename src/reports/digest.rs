//! The weekly digest: the response rates of the open campaigns, mailed to every active
//! supervisor and admin (`dupin mail digest`, from cron or a systemd timer).

use chrono::Utc;
use entity::account;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::campaigns::{self, Availability};
use crate::mail::{MailKind, MailTemplates, Outgoing, outbox};

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("the digest template cannot be rendered: {0}")]
    Template(#[from] handlebars::RenderError),
}

#[derive(Serialize)]
struct Line {
    name: String,
    survey: String,
    schools: usize,
    responses: i64,
    expected: i64,
    rate: String,
    closes_at: Option<String>,
    url: String,
}

#[derive(Serialize)]
struct Context<'a> {
    name: &'a str,
    campaigns: &'a [Line],
    campaign_count: usize,
    generated_at: &'a str,
    generated_on: &'a str,
}

/// Queues one digest per active supervisor or admin, in one transaction with its audit event
/// `mail_digest`; returns how many.
pub async fn enqueue_all(
    context: &crate::change::Context,
    actor: crate::change::Actor<'_>,
) -> Result<usize, DigestError> {
    let db = &context.db;
    let base_url = &*context.base_url;
    let templates = MailTemplates::embedded()?;
    let now = Utc::now();
    let lines: Vec<Line> = campaigns::overview(db)
        .await?
        .into_iter()
        .filter(|summary| campaigns::availability(&summary.campaign, now) == Availability::Open)
        .map(|summary| Line {
            url: format!("{base_url}/console/campaigns/{}", summary.campaign.id),
            name: summary.campaign.name.clone(),
            survey: summary.survey_title.clone(),
            schools: summary.total.schools,
            responses: summary.total.answers,
            expected: summary.total.expected,
            rate: summary
                .total
                .percent()
                .map_or_else(|| "—".to_owned(), |p| format!("{p:.1}%")),
            closes_at: summary.campaign.closes_at.map(campaigns::display_time),
        })
        .collect();
    let generated_at = campaigns::display_time(now);
    let generated_on = generated_at.get(..10).unwrap_or(&generated_at).to_owned();
    let recipients = account::Entity::find()
        .filter(account::Column::Disabled.eq(false))
        .filter(account::Column::Role.is_in(["admin", "supervisor"]))
        .order_by_asc(account::Column::Id)
        .all(db)
        .await?;
    let mut change = crate::change::Change::begin(context, actor).await?;
    let mut queued = 0;
    for person in &recipients {
        let name = if person.display_name.trim().is_empty() {
            person.email.as_str()
        } else {
            person.display_name.as_str()
        };
        let composed = templates.compose(
            "digest",
            &Context {
                name,
                campaigns: &lines,
                campaign_count: lines.len(),
                generated_at: &generated_at,
                generated_on: &generated_on,
            },
        )?;
        outbox::enqueue(
            change.txn(),
            &Outgoing {
                kind: MailKind::Digest,
                to: person.email.clone(),
                subject: composed.subject,
                text: composed.text,
                html: composed.html,
                images: Vec::new(),
                invitation_id: None,
            },
        )
        .await?;
        queued += 1;
    }
    change
        .audit(
            "mail_digest",
            format!(
                "进度周报：{queued} 位收件人，{} 个进行中的调查活动",
                lines.len()
            ),
        )
        .await?;
    change.mail_queued();
    change.commit().await?;
    Ok(queued)
}
