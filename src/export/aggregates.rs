//! The aggregates export: per school, question (or matrix statement) and option, how many
//! answers chose it, read from the running counts of `tally`, one school per query.
//!
//! The counts are those the answer writer keeps, and a supervisor's exclusion takes an answer
//! back out of them (`quality::set_excluded`), so they count included answers only. A school of
//! a teachers' survey with fewer than 5 included answers is left out
//! ([`crate::results::shown_alone`]), as it is from every figure.

use std::collections::HashMap;

use entity::{school, tally};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::answers::{QuestionColumn, campaign_and_survey, question_columns};
use super::{Cell, ExportError};
use crate::campaigns;

const HEADER: [&str; 8] = [
    "学校代码",
    "学校名称",
    "乡镇",
    "题目编号",
    "题目",
    "选项代码",
    "选项",
    "人次",
];

/// The aggregates export of one campaign, opened: one page per school, in school-code order.
pub struct AggregateExport {
    campaign_id: i32,
    campaign_name: String,
    columns: Vec<QuestionColumn>,
    /// Where each question key stands in the survey, so rows follow the survey's order.
    positions: HashMap<String, usize>,
    /// Schools still to export, the next one last.
    schools: Vec<school::Model>,
}

impl AggregateExport {
    pub async fn open(
        db: &(impl ConnectionTrait + TransactionTrait),
        campaign_id: i32,
    ) -> Result<AggregateExport, ExportError> {
        let (campaign, survey) = campaign_and_survey(db, campaign_id).await?;
        crate::answering::pending::settle(db, Some(campaign_id)).await?;
        let mut schools: Vec<school::Model> = campaigns::links_with_schools(db, campaign_id)
            .await
            .map_err(|error| match error {
                campaigns::CampaignError::Db(error) => ExportError::Db(error),
                _ => ExportError::CampaignNotFound(campaign_id),
            })?
            .into_iter()
            .filter(|(link, _)| {
                crate::results::shown_alone(
                    survey.audience,
                    u64::try_from(link.response_count).unwrap_or(0),
                )
            })
            .map(|(_, school)| school)
            .collect();
        schools.sort_by(|a, b| b.code.cmp(&a.code));
        let columns = question_columns(&survey);
        let positions = columns
            .iter()
            .enumerate()
            .map(|(position, column)| (column.key.clone(), position))
            .collect();
        Ok(AggregateExport {
            campaign_id,
            campaign_name: campaign.name,
            columns,
            positions,
            schools,
        })
    }

    pub fn campaign_name(&self) -> &str {
        &self.campaign_name
    }

    pub fn header(&self) -> Vec<Cell> {
        HEADER.iter().map(|name| Cell::text(*name)).collect()
    }

    /// The counts of the next school that has any; `None` after the last school.
    pub async fn next_page(
        &mut self,
        db: &impl ConnectionTrait,
    ) -> Result<Option<Vec<Vec<Cell>>>, ExportError> {
        while let Some(school) = self.schools.pop() {
            let mut counts = tally::Entity::find()
                .filter(tally::Column::CampaignId.eq(self.campaign_id))
                .filter(tally::Column::SchoolId.eq(school.id))
                .all(db)
                .await?;
            if counts.is_empty() {
                continue;
            }
            // Survey order; keys the survey does not know go last, by name.
            counts.sort_by(|a, b| {
                let position = |count: &tally::Model| {
                    self.positions
                        .get(&count.question_key)
                        .copied()
                        .unwrap_or(usize::MAX)
                };
                position(a)
                    .cmp(&position(b))
                    .then_with(|| a.question_key.cmp(&b.question_key))
                    .then_with(|| self.option_order(a).cmp(&self.option_order(b)))
            });
            let rows = counts
                .iter()
                .map(|count| self.row(&school, count))
                .collect();
            return Ok(Some(rows));
        }
        Ok(None)
    }

    /// The survey's order of options (0…10 for ratings); codes it does not know go last.
    fn option_order<'a>(&self, count: &'a tally::Model) -> (usize, &'a str) {
        let position = self
            .positions
            .get(&count.question_key)
            .and_then(|position| self.columns.get(*position))
            .and_then(|column| column.option_position(&count.option_key));
        (position.unwrap_or(usize::MAX), count.option_key.as_str())
    }

    fn row(&self, school: &school::Model, count: &tally::Model) -> Vec<Cell> {
        let column = self
            .positions
            .get(&count.question_key)
            .and_then(|position| self.columns.get(*position));
        vec![
            Cell::text(school.code.as_str()),
            Cell::text(school.name.as_str()),
            Cell::text(school.township.as_str()),
            Cell::text(count.question_key.as_str()),
            column.map_or(Cell::Empty, |column| Cell::text(column.header.as_str())),
            Cell::text(count.option_key.as_str()),
            Cell::text(column.map_or(count.option_key.as_str(), |column| {
                column.label(&count.option_key)
            })),
            Cell::Number(count.count as f64),
        ]
    }
}
