//! The statistics export: every figure the results page shows, for the county and each school,
//! one figure a row — the questionnaire's overall index and each area's with their 95%
//! intervals; each scored question's (and matrix statement's, and 0–10 rating's) answers, mean,
//! standard deviation, satisfaction rate and index; a self-check's number questions (n, sum,
//! mean, median, minimum, maximum for the county, each school's value) — computed by
//! [`crate::results::campaign_results`], the one path of the console, the reports and the API,
//! so that a statistician can check the export against the page and recompute both
//! (surveys/METHOD.md).
//!
//! A teachers' school with fewer than 5 answers has no rows of its own (its answers count in no
//! figure).

use sea_orm::{ConnectionTrait, TransactionTrait};

use super::{Cell, ExportError};
use crate::rating::Plan;
use crate::results::{self, CampaignResults, ResultsError, ResultsFilter};

const HEADER: [&str; 10] = [
    "范围",
    "学校代码",
    "学校名称",
    "乡镇",
    "题目编号",
    "题目",
    "统计量",
    "数值",
    "95%区间下限",
    "95%区间上限",
];

/// The statistics export of one campaign, worked out when opened (a figure per school and
/// question: a few tens of thousands of rows at most): one page for the county, then one per
/// school in school-code order.
pub struct SummaryExport {
    campaign_name: String,
    /// Pages still to give, the next one last.
    pages: Vec<Vec<Vec<Cell>>>,
}

/// Where a row's figures come from.
struct Scope<'a> {
    label: &'static str,
    code: &'a str,
    name: &'a str,
    township: &'a str,
}

fn results_error(campaign_id: i32, error: ResultsError) -> ExportError {
    match error {
        ResultsError::Db(error) => ExportError::Db(error),
        other => {
            tracing::warn!(campaign = campaign_id, error = %other, "statistics export");
            ExportError::CampaignNotFound(campaign_id)
        }
    }
}

impl SummaryExport {
    pub async fn open(
        db: &(impl ConnectionTrait + TransactionTrait),
        plan: &Plan,
        campaign_id: i32,
    ) -> Result<SummaryExport, ExportError> {
        let county = results::campaign_results(db, plan, campaign_id, &ResultsFilter::default())
            .await
            .map_err(|error| results_error(campaign_id, error))?;
        let mut pages = vec![rows_of(
            &Scope {
                label: "全县",
                code: "",
                name: "",
                township: "",
            },
            &county,
        )];
        for school in &county.schools {
            let filter = ResultsFilter {
                school: Some(school.id),
                ..ResultsFilter::default()
            };
            match results::campaign_results(db, plan, campaign_id, &filter).await {
                Ok(found) => pages.push(rows_of(
                    &Scope {
                        label: "学校",
                        code: &school.code,
                        name: &school.name,
                        township: &school.township,
                    },
                    &found,
                )),
                // A teachers' school of 1–4 answers: no figure of its own.
                Err(ResultsError::TooFewTeachers) => {}
                Err(error) => return Err(results_error(campaign_id, error)),
            }
        }
        pages.reverse();
        Ok(SummaryExport {
            campaign_name: county.campaign.name,
            pages,
        })
    }

    pub fn campaign_name(&self) -> &str {
        &self.campaign_name
    }

    pub fn header(&self) -> Vec<Cell> {
        HEADER.iter().map(|name| Cell::text(*name)).collect()
    }

    pub fn next_page(&mut self) -> Option<Vec<Vec<Cell>>> {
        self.pages.pop()
    }
}

fn number(value: Option<f64>) -> Cell {
    value
        .filter(|value| value.is_finite())
        .map_or(Cell::Empty, Cell::Number)
}

/// Every figure of `found`, a row each.
fn rows_of(scope: &Scope<'_>, found: &CampaignResults) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    let mut row = |key: &str, text: &str, statistic: &str, value: Cell, interval: (Cell, Cell)| {
        rows.push(vec![
            Cell::text(scope.label),
            Cell::text(scope.code),
            Cell::text(scope.name),
            Cell::text(scope.township),
            Cell::text(key),
            Cell::text(text),
            Cell::text(statistic),
            value,
            interval.0,
            interval.1,
        ]);
    };
    let none = || (Cell::Empty, Cell::Empty);
    let results = &found.results;
    row(
        "",
        "",
        "答卷数",
        Cell::Number(results.responses as f64),
        none(),
    );
    if let Some(overall) = results.overall {
        let interval = results.overall_interval.map_or_else(none, |interval| {
            (Cell::Number(interval.low), Cell::Number(interval.high))
        });
        row(
            "",
            "问卷总指数",
            "指数",
            Cell::Number(overall.value),
            interval,
        );
    }
    for area in &results.areas {
        let Some(estimate) = area.estimate else {
            continue;
        };
        let interval = area.interval.map_or_else(none, |interval| {
            (Cell::Number(interval.low), Cell::Number(interval.high))
        });
        let label = area.area.label();
        row("", label, "方面人数", Cell::Number(area.n as f64), none());
        row(
            "",
            label,
            "方面指数",
            Cell::Number(estimate.value),
            interval,
        );
    }
    for section in &results.sections {
        for question in &section.questions {
            let Some(satisfaction) = &question.satisfaction else {
                continue;
            };
            let (key, text) = (question.key.as_str(), question.text.as_str());
            row(
                key,
                text,
                "人数",
                Cell::Number(satisfaction.n as f64),
                none(),
            );
            let mean_interval = satisfaction.mean_interval.map_or_else(none, |interval| {
                (Cell::Number(interval.low), Cell::Number(interval.high))
            });
            row(
                key,
                text,
                "均值",
                Cell::Number(satisfaction.mean),
                mean_interval,
            );
            row(key, text, "标准差", number(satisfaction.sd), none());
            if let Some(rate) = satisfaction.rate {
                let interval = satisfaction.rate_interval.map_or_else(none, |interval| {
                    (Cell::Number(interval.low), Cell::Number(interval.high))
                });
                row(key, text, "满意率", Cell::Number(rate), interval);
            }
            if let Some(index) = satisfaction.index {
                row(key, text, "满意度指数", Cell::Number(index), none());
            }
        }
    }
    for summary in found.numbers.iter().flatten() {
        let (key, text) = (summary.key.as_str(), summary.text.as_str());
        if scope.code.is_empty() {
            row(
                key,
                text,
                "填报学校数",
                Cell::Number(summary.n as f64),
                none(),
            );
            if !summary.decimal {
                row(key, text, "合计", number(summary.sum), none());
            }
            row(key, text, "均值", number(summary.mean), none());
            row(key, text, "中位数", number(summary.median), none());
            row(key, text, "最小值", number(summary.min), none());
            row(key, text, "最大值", number(summary.max), none());
        } else if let Some(own) = summary.schools.iter().find(|each| each.code == scope.code) {
            row(key, text, "填报值", number(own.value), none());
        }
    }
    rows
}
