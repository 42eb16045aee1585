//! Supervisors' visits to schools (五、督导方式: 重点督查, 专项督查, 随机走访, 座谈了解): the form
//! checked into a [`NewVisit`], recorded with its checklist answers, findings and photos in one
//! change, and read back as lists and records. The checklists themselves are plan files
//! (`rating::visits`); what a visit verifies is read by `results::verified`. Never HTTP.

pub mod form;

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use entity::{campaign, finding, school, visit, visit_check};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use serde::Serialize;

use crate::audit::Actor;
use crate::change::{Change, Context};
use crate::photos::{self, Attach, PhotoRef, Prepared};
use crate::rating::Plan;
use crate::rating::visits::VisitKind;
use crate::survey::Area;
pub use form::{
    FieldError, GroupMet, Judgement, NewCheck, NewFinding, NewVisit, Severity, VisitForm,
    parse_visit,
};

#[derive(Debug, thiserror::Error)]
pub enum VisitError {
    #[error("no school {0}")]
    NoSchool(i32),
    #[error("a visit is recorded by a signed-in account")]
    NoAccount,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What a photo of the form belongs to.
#[derive(Clone, Debug, PartialEq)]
pub enum PhotoTarget {
    /// A checklist item (its id).
    Item(String),
    /// A finding, by its form row.
    Finding(usize),
}

/// A photo prepared (checked, re-encoded, EXIF gone) before the change begins.
pub struct VisitPhoto {
    pub target: PhotoTarget,
    pub prepared: Prepared,
}

/// Records a visit to `school_id` in one change: the visit, its checklist answers, its
/// findings, its photos, and the audit event `visit_record` about the school. Returns its id.
pub async fn record_visit(
    context: &Context,
    actor: Actor<'_>,
    school_id: i32,
    new: NewVisit,
    visit_photos: Vec<VisitPhoto>,
) -> Result<i32, VisitError> {
    let account = actor.account().ok_or(VisitError::NoAccount)?;
    let change = Change::begin(context, actor).await?;
    let txn = change.txn();
    let Some(school) = school::Entity::find_by_id(school_id).one(txn).await? else {
        change.rollback().await?;
        return Err(VisitError::NoSchool(school_id));
    };
    let now = Utc::now();
    let stored = visit::ActiveModel {
        school_id: Set(school.id),
        campaign_id: Set(new.campaign_id),
        kind: Set(new.kind.slug().to_owned()),
        checklist: Set(new.checklist.clone()),
        visited_on: Set(new.visited_on),
        team: Set(new.team.clone()),
        group_met: Set(new.group.map(|(group, _)| group.slug().to_owned())),
        group_size: Set(new.group.map(|(_, size)| size)),
        notes: Set(new.notes.clone()),
        created_by: Set(account.id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    for check in &new.checks {
        visit_check::ActiveModel {
            visit_id: Set(stored.id),
            item_id: Set(check.item_id.clone()),
            judgement: Set(check.judgement.map(|judgement| judgement.slug().to_owned())),
            number: Set(check.number),
            note: Set(check.note.clone()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    let mut finding_of_row: HashMap<usize, i32> = HashMap::new();
    for found in &new.findings {
        let row = finding::ActiveModel {
            visit_id: Set(stored.id),
            school_id: Set(school.id),
            area: Set(found.area.slug().to_owned()),
            severity: Set(found.severity.slug().to_owned()),
            text: Set(found.text.clone()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        finding_of_row.insert(found.row, row.id);
    }
    let mut photo_count = 0;
    for photo in visit_photos {
        let attach = match photo.target {
            PhotoTarget::Item(item) => Attach::VisitItem {
                visit: stored.id,
                item,
            },
            PhotoTarget::Finding(row) => match finding_of_row.get(&row) {
                Some(finding) => Attach::Finding {
                    visit: stored.id,
                    finding: *finding,
                },
                // The photo of a row left empty: nothing to attach it to.
                None => continue,
            },
        };
        photos::insert(txn, school.id, attach, photo.prepared, Some(account.id)).await?;
        photo_count += 1;
    }
    change
        .audit_school(
            "visit_record",
            school.id,
            format!(
                "visit {} to {} {} on {}: {}, {} checks, {} findings, {} photos",
                stored.id,
                school.code,
                school.name,
                new.visited_on,
                new.kind.label(),
                new.checks.len(),
                new.findings.len(),
                photo_count
            ),
        )
        .await?;
    change.commit().await?;
    Ok(stored.id)
}

/// The list's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VisitSort {
    /// Latest first.
    #[default]
    Date,
    /// By school code, then latest first.
    School,
}

/// Which visits a list shows.
#[derive(Clone, Debug, Default)]
pub struct VisitFilter {
    pub school: Option<i32>,
    pub kind: Option<VisitKind>,
    pub campaign: Option<i32>,
    pub sort: VisitSort,
    pub ascending: bool,
}

/// One visit in a list.
#[derive(Clone, Debug, Serialize)]
pub struct VisitRow {
    pub id: i32,
    pub school_id: i32,
    pub school_code: String,
    pub school_name: String,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub visited_on: NaiveDate,
    pub team: String,
    pub campaign_id: Option<i32>,
    pub campaign_name: Option<String>,
    pub findings: usize,
}

fn kind_of(slug: &str) -> (&'static str, &'static str) {
    VisitKind::parse(slug).map_or(("", "—"), |kind| (kind.slug(), kind.label()))
}

/// The visits `filter` asks for, with their schools, rounds and numbers of findings.
pub async fn list(db: &impl ConnectionTrait, filter: &VisitFilter) -> Result<Vec<VisitRow>, DbErr> {
    let mut query = visit::Entity::find();
    if let Some(school) = filter.school {
        query = query.filter(visit::Column::SchoolId.eq(school));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(visit::Column::Kind.eq(kind.slug()));
    }
    if let Some(campaign) = filter.campaign {
        query = query.filter(visit::Column::CampaignId.eq(campaign));
    }
    let visits = query
        .order_by_desc(visit::Column::VisitedOn)
        .order_by_desc(visit::Column::Id)
        .all(db)
        .await?;
    if visits.is_empty() {
        return Ok(Vec::new());
    }
    let schools: HashMap<i32, school::Model> = school::Entity::find()
        .filter(school::Column::Id.is_in(visits.iter().map(|visit| visit.school_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|school| (school.id, school))
        .collect();
    let campaigns: HashMap<i32, String> = campaign::Entity::find()
        .filter(campaign::Column::Id.is_in(visits.iter().filter_map(|visit| visit.campaign_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|campaign| (campaign.id, campaign.name))
        .collect();
    let mut findings: HashMap<i32, usize> = HashMap::new();
    for found in finding::Entity::find()
        .filter(finding::Column::VisitId.is_in(visits.iter().map(|visit| visit.id)))
        .all(db)
        .await?
    {
        *findings.entry(found.visit_id).or_default() += 1;
    }
    let mut rows: Vec<VisitRow> = visits
        .into_iter()
        .filter_map(|visit| {
            let school = schools.get(&visit.school_id)?;
            let (kind, kind_label) = kind_of(&visit.kind);
            Some(VisitRow {
                id: visit.id,
                school_id: school.id,
                school_code: school.code.clone(),
                school_name: school.name.clone(),
                kind,
                kind_label,
                visited_on: visit.visited_on,
                team: visit.team,
                campaign_name: visit.campaign_id.and_then(|id| campaigns.get(&id).cloned()),
                campaign_id: visit.campaign_id,
                findings: findings.get(&visit.id).copied().unwrap_or(0),
            })
        })
        .collect();
    match filter.sort {
        VisitSort::Date => {
            if filter.ascending {
                rows.reverse();
            }
        }
        VisitSort::School => {
            // Stable: within a school, the latest visit first.
            rows.sort_by(|a, b| a.school_code.cmp(&b.school_code));
            if !filter.ascending {
                rows.reverse();
            }
        }
    }
    Ok(rows)
}

/// One answered checklist item, as the record shows it.
#[derive(Clone, Debug, Serialize)]
pub struct CheckLine {
    pub item_id: String,
    pub number: usize,
    pub area: &'static str,
    pub text: String,
    pub indicator: Option<String>,
    /// `met`, `not_met`, `not_applicable`, or empty.
    pub judgement: &'static str,
    /// 符合, 不符合, 不适用, the number with its unit, or `照片`.
    pub answer: String,
    pub note: Option<String>,
    pub photos: Vec<PhotoRef>,
}

/// One finding, as the record shows it.
#[derive(Clone, Debug, Serialize)]
pub struct FindingLine {
    pub id: i32,
    pub area: String,
    pub area_label: &'static str,
    pub severity: String,
    pub severity_label: &'static str,
    pub text: String,
    pub photos: Vec<PhotoRef>,
}

/// A visit with everything recorded on it.
#[derive(Clone, Debug, Serialize)]
pub struct VisitRecord {
    #[serde(flatten)]
    pub row: VisitRow,
    pub checklist_id: Option<String>,
    pub checklist_title: Option<String>,
    pub group_met: Option<&'static str>,
    pub group_size: Option<i32>,
    pub notes: Option<String>,
    pub checks: Vec<CheckLine>,
    pub findings: Vec<FindingLine>,
    pub findings_count: usize,
}

/// The visit `id` with its checks, findings and photos; `None` when there is none, or when
/// `school` is given and the visit is of another school.
pub async fn find(
    db: &impl ConnectionTrait,
    plan: &Plan,
    id: i32,
    school: Option<i32>,
) -> Result<Option<VisitRecord>, DbErr> {
    let mut query = visit::Entity::find_by_id(id);
    if let Some(school) = school {
        query = query.filter(visit::Column::SchoolId.eq(school));
    }
    let Some(stored) = query.one(db).await? else {
        return Ok(None);
    };
    let filter = VisitFilter {
        school: Some(stored.school_id),
        ..VisitFilter::default()
    };
    let Some(row) = list(db, &filter)
        .await?
        .into_iter()
        .find(|row| row.id == stored.id)
    else {
        return Ok(None);
    };
    let photos = photos::list_for_visit(db, stored.id).await?;
    let checklist = stored
        .checklist
        .as_deref()
        .and_then(|id| plan.checklist(id));
    let stored_checks = visit_check::Entity::find()
        .filter(visit_check::Column::VisitId.eq(stored.id))
        .all(db)
        .await?;
    let mut checks = Vec::new();
    if let Some(checklist) = checklist {
        for (index, item) in checklist.items.iter().enumerate() {
            let Some(check) = stored_checks.iter().find(|check| check.item_id == item.id) else {
                continue;
            };
            let judgement = check.judgement.as_deref().and_then(Judgement::parse);
            let answer = match (&item.answer, judgement, check.number) {
                (_, Some(judgement), _) => judgement.label().to_owned(),
                (crate::rating::visits::ItemAnswer::Number { unit }, None, Some(number)) => {
                    let number = crate::rating::indicators::format_number(number);
                    match unit {
                        Some(unit) => format!("{number} {unit}"),
                        None => number,
                    }
                }
                (crate::rating::visits::ItemAnswer::Photo, _, _) => "照片".to_owned(),
                _ => "—".to_owned(),
            };
            checks.push(CheckLine {
                item_id: item.id.clone(),
                number: index + 1,
                area: item.area.label(),
                text: item.text.clone(),
                indicator: item.indicator.clone(),
                judgement: judgement.map_or("", Judgement::slug),
                answer,
                note: check.note.clone(),
                photos: photos
                    .iter()
                    .filter(|photo| photo.item_id.as_deref() == Some(item.id.as_str()))
                    .cloned()
                    .collect(),
            });
        }
    }
    let findings: Vec<FindingLine> = finding::Entity::find()
        .filter(finding::Column::VisitId.eq(stored.id))
        .order_by_asc(finding::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|found| FindingLine {
            area_label: Area::parse(&found.area).map_or("—", Area::label),
            severity_label: Severity::parse(&found.severity).map_or("—", Severity::label),
            photos: photos
                .iter()
                .filter(|photo| photo.finding_id == Some(found.id))
                .cloned()
                .collect(),
            id: found.id,
            area: found.area,
            severity: found.severity,
            text: found.text,
        })
        .collect();
    let findings_count = findings.len();
    Ok(Some(VisitRecord {
        findings_count,
        row,
        checklist_title: checklist.map(|checklist| checklist.title.clone()),
        checklist_id: stored.checklist,
        group_met: stored
            .group_met
            .as_deref()
            .and_then(GroupMet::parse)
            .map(GroupMet::label),
        group_size: stored.group_size,
        notes: stored.notes,
        checks,
        findings,
    }))
}

/// The rounds a visit may belong to, newest first (drafts left out), and the one the form
/// picks by default: the newest campaign of the self-check the indicators read, else the
/// newest of all.
pub async fn rounds(
    db: &impl ConnectionTrait,
    plan: &Plan,
) -> Result<(Vec<campaign::Model>, Option<i32>), DbErr> {
    let campaigns: Vec<campaign::Model> = crate::campaigns::list(db)
        .await?
        .into_iter()
        .filter(|campaign| campaign.status != crate::campaigns::CampaignStatus::Draft.slug())
        .collect();
    let mut newest: Vec<&campaign::Model> = campaigns.iter().collect();
    newest.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let self_check = match plan.indicators.first() {
        Some(indicator) => {
            crate::results::targets::latest_self_check_campaign(db, &indicator.survey)
                .await
                .map_err(|error| match error {
                    crate::results::ResultsError::Db(error) => error,
                    other => DbErr::Custom(other.to_string()),
                })?
        }
        None => None,
    };
    let default = self_check
        .map(|campaign| campaign.id)
        .or_else(|| newest.first().map(|campaign| campaign.id));
    let ordered = newest.into_iter().cloned().collect();
    Ok((ordered, default))
}
