//! The demo's supervision after the rating: a supervisor's visits to three schools of the
//! self-check round (two random visits with their checklist and photos, one 座谈了解 with
//! parents), their findings turned into rectification items — one reported by the school and
//! accepted, two open with their deadlines — and the 督导意见书 of the two schools visited
//! with a checklist, issued. Everything through the same actions as the console, acting as the
//! demo's supervisor and school viewer, so the audit log reads as a real round would.

use chrono::{Duration, NaiveDate};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::accounts::{self, NewAccount, Role};
use crate::change::{Actor, Context};
use crate::photos::{self, Prepared};
use crate::rating::Plan;
use crate::rating::visits::{ItemAnswer, VisitKind};
use crate::rectification::{self, NewItem, Source};
use crate::survey::Area;
use crate::visits::{
    self, GroupMet, Judgement, NewCheck, NewFinding, NewVisit, PhotoTarget, Severity, VisitPhoto,
};

use super::DemoError;

/// The demo's supervisor and school-viewer accounts.
pub const SUPERVISOR_EMAIL: &str = "supervisor@demo.invalid";
pub const SCHOOL_EMAIL: &str = "school@demo.invalid";

/// The checklist the demo's random visits fill in.
const CHECKLIST: &str = "random_visit";

/// What the demo's supervision left, for the command line to print.
#[derive(Debug)]
pub struct DemoSupervision {
    pub visits: usize,
    pub items: usize,
    pub letters: usize,
    pub supervisor_password: String,
    /// The school viewer's school (code and name) and password.
    pub school: String,
    pub school_password: String,
}

/// One visit of the demo: to which school, how it went, what was found.
struct Planned {
    school: entity::school::Model,
    kind: VisitKind,
    days_ago: i64,
    /// Checklist items judged 不符合 (the others 符合).
    not_met: &'static [&'static str],
    finding: (Area, Severity, &'static str),
    requirement: &'static str,
    responsible: &'static str,
}

/// A plausible camera photo (a gradient, re-encoded as every upload is).
fn demo_photo(shade: u8) -> Result<Prepared, DemoError> {
    let image = image::RgbImage::from_fn(960, 720, |x, y| {
        image::Rgb([(x / 4) as u8, (y / 3) as u8, shade])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut png, image::ImageFormat::Png)
        .map_err(|error| DemoError::Photo(error.to_string()))?;
    photos::prepare(png.get_ref()).map_err(|error| DemoError::Photo(error.to_string()))
}

/// Records the demo's visits, items and letters for the self-check round `round` at the first
/// three of `schools` (the schools that sent their self-checks).
pub async fn build(
    context: &Context,
    plan: &Plan,
    round: i32,
    schools: &[entity::school::Model],
    today: NaiveDate,
) -> Result<DemoSupervision, DemoError> {
    let supervisor_password = accounts::generate_password();
    let supervisor = accounts::actions::create_account(
        context,
        Actor::CommandLine,
        NewAccount {
            email: SUPERVISOR_EMAIL.to_owned(),
            display_name: "李督学".to_owned(),
            password: supervisor_password.clone(),
            role: Role::Supervisor,
            school_id: None,
        },
    )
    .await?;
    let [first, second, third, ..] = schools else {
        return Err(DemoError::TooFewSelfChecks(schools.len()));
    };
    let school_password = accounts::generate_password();
    let head = accounts::actions::create_account(
        context,
        Actor::CommandLine,
        NewAccount {
            email: SCHOOL_EMAIL.to_owned(),
            display_name: format!("{}校长", first.name),
            password: school_password.clone(),
            role: Role::School,
            school_id: Some(first.id),
        },
    )
    .await?;
    let planned = [
        Planned {
            school: first.clone(),
            kind: VisitKind::RandomVisit,
            days_ago: 6,
            not_met: &["lunch"],
            finding: (
                Area::Nutrition,
                Severity::Major,
                "食堂未按规定留样，留样柜无温度记录；午餐菜量偏少",
            ),
            requirement: "配备带温度计的留样柜，每餐留样 48 小时并登记；按食谱足量供餐",
            responsible: "王副校长",
        },
        Planned {
            school: second.clone(),
            kind: VisitKind::RandomVisit,
            days_ago: 4,
            not_met: &["toilets"],
            finding: (
                Area::EducationStages,
                Severity::Minor,
                "学生厕所蹲位不足，无洗手池",
            ),
            requirement: "增设蹲位和洗手池，达到农村义务教育学校办学标准",
            responsible: "赵校长",
        },
        Planned {
            school: third.clone(),
            kind: VisitKind::Interview,
            days_ago: 2,
            not_met: &[],
            finding: (
                Area::SpecialChildren,
                Severity::Minor,
                "家长反映留守儿童之家开放时间短，周末无人值守",
            ),
            requirement: "留守儿童之家周末安排教师轮流值守，开放时间公示",
            responsible: "孙主任",
        },
    ];
    let checklist = plan.checklist(CHECKLIST);
    let mut items = Vec::new();
    for (index, visit) in planned.iter().enumerate() {
        let interview = visit.kind == VisitKind::Interview;
        let mut checks = Vec::new();
        let mut visit_photos = Vec::new();
        if let (false, Some(checklist)) = (interview, checklist) {
            for item in &checklist.items {
                let (judgement, number, note) = match &item.answer {
                    ItemAnswer::Judgement if visit.not_met.contains(&item.id.as_str()) => (
                        Some(Judgement::NotMet),
                        None,
                        Some(visit.finding.2.to_owned()),
                    ),
                    ItemAnswer::Judgement => (Some(Judgement::Met), None, None),
                    ItemAnswer::Number { .. } => (None, Some(38.0 + 5.0 * index as f64), None),
                    ItemAnswer::Photo => {
                        visit_photos.push(VisitPhoto {
                            target: PhotoTarget::Item(item.id.clone()),
                            prepared: demo_photo(60 + 40 * index as u8)?,
                        });
                        (None, None, None)
                    }
                };
                checks.push(NewCheck {
                    item_id: item.id.clone(),
                    judgement,
                    number,
                    note,
                });
            }
        }
        visit_photos.push(VisitPhoto {
            target: PhotoTarget::Finding(1),
            prepared: demo_photo(200 - 30 * index as u8)?,
        });
        let (area, severity, text) = visit.finding;
        let visit_id = visits::record_visit(
            context,
            Actor::Account(&supervisor),
            visit.school.id,
            NewVisit {
                kind: visit.kind,
                campaign_id: Some(round),
                checklist: (!interview && checklist.is_some()).then(|| CHECKLIST.to_owned()),
                visited_on: today - Duration::days(visit.days_ago),
                team: "李督学、王督学".to_owned(),
                group: interview.then_some((GroupMet::Parents, 12)),
                notes: interview.then(|| {
                    "座谈家长 12 人，对午餐和教师态度总体满意，希望延长留守儿童之家开放时间。"
                        .to_owned()
                }),
                checks,
                findings: vec![NewFinding {
                    row: 1,
                    area,
                    severity,
                    text: text.to_owned(),
                }],
            },
            visit_photos,
        )
        .await?;
        let finding = entity::finding::Entity::find()
            .filter(entity::finding::Column::VisitId.eq(visit_id))
            .one(&context.db)
            .await?
            .ok_or(DemoError::Db(sea_orm::DbErr::RecordNotFound(
                "the demo visit's finding".to_owned(),
            )))?;
        let created = rectification::create_items(
            context,
            Actor::Account(&supervisor),
            &visit.school,
            vec![NewItem {
                source: Some(Source::Finding),
                finding_id: Some(finding.id),
                area: Some(area.slug().to_owned()),
                campaign_id: Some(round),
                requirement: visit.requirement.to_owned(),
                responsible: visit.responsible.to_owned(),
                deadline: (today + Duration::days(30 - 10 * index as i64)).to_string(),
                ..NewItem::default()
            }],
        )
        .await?;
        items.extend(created);
    }

    // The first school reports its item done and the supervisor accepts it.
    let first_item = items[0].id;
    rectification::report_progress(
        context,
        Actor::Account(&head),
        first_item,
        "已购置带温度计的留样柜，食堂每餐留样 48 小时并由专人登记；午餐按公示食谱足量供应。",
        vec![demo_photo(230)?],
    )
    .await?;
    rectification::accept(
        context,
        Actor::Account(&supervisor),
        first_item,
        "复查留样记录齐全，验收通过。",
    )
    .await?;

    let mut letters = 0;
    for visit in planned
        .iter()
        .filter(|visit| visit.kind != VisitKind::Interview)
    {
        crate::letters::issue(
            context,
            Actor::Account(&supervisor),
            plan,
            visit.school.id,
            round,
        )
        .await?;
        letters += 1;
    }
    Ok(DemoSupervision {
        visits: planned.len(),
        items: items.len(),
        letters,
        supervisor_password,
        school: format!("{} {}", first.code, first.name),
        school_password,
    })
}
