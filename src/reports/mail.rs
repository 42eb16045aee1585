//! Reports by mail: the county's or one school's report (`crate::reports`) as an HTML body with
//! its key charts as inline PNG images (`cid:`), its summary lines and a link to the report
//! page, with a plain-text alternative of the same summary; one outbox row per address, all in
//! one transaction with the audit record.

use chrono::Utc;
use entity::school;
use sea_orm::{DatabaseConnection, EntityTrait};
use serde::Serialize;

use crate::mail::{InlineImage, MailKind, MailTemplates, outbox};

/// At most this many addresses per report mail.
pub const MAX_ADDRESSES: usize = 50;
/// The charts a report mail carries, at most: the key ones come first in a report.
pub const MAX_CHARTS: usize = 4;

/// Which report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    County,
    School(i32),
}

impl Target {
    /// The report's page in the console.
    pub fn path(self) -> String {
        match self {
            Target::County => "/console/reports/county".to_owned(),
            Target::School(id) => format!("/console/reports/schools/{id}"),
        }
    }
}

pub struct ReportRequest<'a> {
    pub target: Target,
    /// Checked addresses (`smtp::parse_address_list`).
    pub addresses: &'a [String],
    /// Who sends it, as the mail names them.
    pub sender_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportMailError {
    #[error("no such school")]
    UnknownSchool,
    /// The report cannot be made (no campaign yet, say): words for the supervisor.
    #[error("{0}")]
    Report(String),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("the report mail template cannot be rendered: {0}")]
    Template(#[from] handlebars::RenderError),
}

/// A report reduced to what the mail shows.
pub struct ReportContent {
    pub title: String,
    pub summary: Vec<String>,
    /// (id, title, PNG bytes), key charts first.
    pub charts: Vec<(String, String, Vec<u8>)>,
}

#[derive(Serialize)]
struct ChartView<'a> {
    cid: String,
    title: &'a str,
}

#[derive(Serialize)]
struct Context<'a> {
    title: &'a str,
    summary: &'a [String],
    charts: Vec<ChartView<'a>>,
    url: &'a str,
    sender: &'a str,
    generated_at: &'a str,
}

/// A content id that is safe in a MIME header and an `src` attribute.
fn content_id(index: usize, id: &str) -> String {
    let clean: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(40)
        .collect();
    format!("chart{}-{clean}@dupin", index + 1)
}

/// The message's subject, text, HTML and images, the same for every address.
pub fn compose(
    templates: &MailTemplates,
    content: &ReportContent,
    url: &str,
    sender: &str,
) -> Result<(crate::mail::Composed, Vec<InlineImage>), handlebars::RenderError> {
    let generated_at = crate::campaigns::display_time(Utc::now());
    let charts: Vec<_> = content.charts.iter().take(MAX_CHARTS).collect();
    let composed = templates.compose(
        "report",
        &Context {
            title: &content.title,
            summary: &content.summary,
            charts: charts
                .iter()
                .enumerate()
                .map(|(index, (id, title, _))| ChartView {
                    cid: content_id(index, id),
                    title,
                })
                .collect(),
            url,
            sender,
            generated_at: &generated_at,
        },
    )?;
    let images = charts
        .iter()
        .enumerate()
        .map(|(index, (id, _, png))| InlineImage {
            cid: content_id(index, id),
            content_type: "image/png".to_owned(),
            bytes: png.clone(),
        })
        .collect();
    Ok((composed, images))
}

/// Builds the report, renders it once, and queues it for every address with the audit record,
/// in one transaction. Returns how many messages were queued.
pub async fn enqueue(
    context: &crate::change::Context,
    actor: crate::change::Actor<'_>,
    plan: &crate::rating::Plan,
    request: &ReportRequest<'_>,
) -> Result<usize, ReportMailError> {
    let db = &context.db;
    let base_url = &*context.base_url;
    if let Target::School(id) = request.target
        && school::Entity::find_by_id(id).one(db).await?.is_none()
    {
        return Err(ReportMailError::UnknownSchool);
    }
    let content = build_content(db, plan, request.target).await?;
    let url = format!("{base_url}{}", request.target.path());
    let templates = MailTemplates::embedded()?;
    let (composed, images) = compose(templates, &content, &url, &request.sender_name)?;
    let mut change = crate::change::Change::begin(context, actor).await?;
    outbox::enqueue_each(
        change.txn(),
        MailKind::Report,
        request.addresses,
        &composed,
        &images,
    )
    .await?;
    change
        .audit(
            "mail_report",
            format!(
                "以邮件发送“{}”给 {} 个地址：{}",
                content.title,
                request.addresses.len(),
                request.addresses.join("、")
            ),
        )
        .await?;
    change.mail_queued();
    change.commit().await?;
    Ok(request.addresses.len())
}

/// The report of `target` (`crate::reports::build`) with its key charts drawn as PNG, off the
/// async threads.
async fn build_content(
    db: &DatabaseConnection,
    plan: &crate::rating::Plan,
    target: Target,
) -> Result<ReportContent, ReportMailError> {
    use crate::reports::{self, ReportError, ReportScope};
    let scope = match target {
        Target::County => ReportScope::County,
        Target::School(id) => ReportScope::School(id),
    };
    let report = match reports::build(db, plan, scope).await {
        Ok(report) => report,
        Err(ReportError::NotFound) => return Err(ReportMailError::UnknownSchool),
        Err(ReportError::Db(error)) => return Err(ReportMailError::Database(error)),
        Err(error) => {
            return Err(ReportMailError::Report(format!(
                "报告暂时无法生成：{error}"
            )));
        }
    };
    let charts: Vec<crate::charts::Chart> = report.charts.into_iter().take(MAX_CHARTS).collect();
    let drawn = tokio::task::spawn_blocking(move || {
        charts
            .into_iter()
            .map(|chart| {
                let png = chart.png()?;
                Ok((chart.id, chart.title, png))
            })
            .collect::<Result<Vec<_>, crate::charts::ChartError>>()
    })
    .await
    .map_err(|error| ReportMailError::Report(format!("报告图表绘制中断：{error}")))?
    .map_err(|error| ReportMailError::Report(error.to_string()))?;
    Ok(ReportContent {
        title: report.title,
        summary: report.summary,
        charts: drawn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_mail_has_images_summary_and_link() {
        let templates = MailTemplates::load().expect("the mail templates compile");
        let content = ReportContent {
            title: "全县报告 张&李".to_owned(),
            summary: vec!["满意度 91.2%".to_owned(), "答卷 1,234 份".to_owned()],
            charts: vec![
                ("areas".to_owned(), "七个领域".to_owned(), vec![1, 2, 3]),
                ("rank ing/x".to_owned(), "排名".to_owned(), vec![4]),
            ],
        };
        let (composed, images) = compose(
            &templates,
            &content,
            "http://x/console/reports/county",
            "王督导",
        )
        .expect("the report mail renders");
        assert!(composed.subject.contains("全县报告 张&李"));
        assert!(composed.text.contains("满意度 91.2%"));
        assert!(composed.text.contains("http://x/console/reports/county"));
        let html = composed.html.expect("the report mail has HTML");
        assert!(html.contains("张&amp;李"));
        assert_eq!(images.len(), 2);
        for image in &images {
            assert!(html.contains(&format!("cid:{}", image.cid)), "{html}");
        }
        assert_eq!(images[1].cid, "chart2-rankingx@dupin");
    }
}
