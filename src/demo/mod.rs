//! `dupin demo`: a complete, plausible county in an empty database, so that a bureau sees the
//! results pages, charts, ratings and reports in its first minute. Sixty schools of 青溪县
//! ([`county`]), one round of every survey of the plan, thousands of answers arriving over two
//! weeks ([`answers`]) with real differences between schools and areas, small teacher groups,
//! flagged answers and failing self-check indicators, and an admin account.
//!
//! Everything goes through the same doors as real use: schools, campaigns and the account
//! through their actions (acting as the command line, so the audit log says so), answers
//! through `answering::validate`, the quality flags and `writer::commit`. Never touches a
//! database that already has schools.

pub mod answers;
pub mod county;
pub mod supervision;

use chrono::{DateTime, Duration, Utc};
use rand::{RngExt, SeedableRng};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::accounts::{self, NewAccount, Role};
use crate::answering::writer::{self, Submission};
use crate::answering::{FormFields, validate};
use crate::campaigns::actions::create_campaign;
use crate::campaigns::{CampaignStatus, NewCampaign, SchoolSelection};
use crate::change::{Actor, Context};
use crate::rating::Plan;
use crate::rating::rules::QualityRules;
use crate::school_kind::SchoolKind;
use crate::survey::{Audience, Catalog, Survey};
use county::DemoSchool;

/// The demo's admin account.
pub const ADMIN_EMAIL: &str = "admin@demo.invalid";
/// Answers stored per transaction: the writer's own batch size.
const BATCH: usize = 2_000;
/// The seed of the county and its answers: every demo shows the same county.
const SEED: u64 = 2026;
/// Answers in the burst at one school (`burst`).
const BURST: u64 = 8;
/// Days the answers arrive over.
const DAYS: i64 = 14;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "the database already has {0} schools; the demo builds only in an empty database \
         (it never mixes its county into real data)"
    )]
    NotEmpty(u64),
    #[error("the plan has no survey for {0}; the demo needs one survey per audience")]
    SurveyMissing(&'static str),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Campaign(#[from] crate::campaigns::CampaignError),
    #[error(transparent)]
    Account(#[from] crate::accounts::AccountError),
    #[error(transparent)]
    Visit(#[from] crate::visits::VisitError),
    #[error(transparent)]
    Rectification(#[from] crate::rectification::RectificationError),
    #[error(transparent)]
    Letter(#[from] crate::letters::LetterError),
    #[error("the demo's photo could not be made: {0}")]
    Photo(String),
    #[error("only {0} demo schools sent their self-check; the demo's visits need three")]
    TooFewSelfChecks(usize),
}

/// What the demo built, for the command line to print.
#[derive(Debug)]
pub struct DemoSummary {
    pub schools: usize,
    pub townships: usize,
    /// (campaign id, name, answers stored, of which flagged, of which left out).
    pub campaigns: Vec<DemoCampaign>,
    pub admin_email: String,
    pub admin_password: String,
    pub supervision: supervision::DemoSupervision,
}

#[derive(Debug)]
pub struct DemoCampaign {
    pub id: i32,
    pub name: String,
    pub answers: usize,
    pub flagged: usize,
    pub left_out: usize,
}

/// Where the demo is: `(answers stored, answers planned)`.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// Builds the demo county in the (empty) database of `context`.
pub async fn build(
    context: &Context,
    catalog: &Catalog,
    plan: &Plan,
    progress: Progress<'_>,
) -> Result<DemoSummary, DemoError> {
    let quality = &plan.rules.quality;
    let existing = entity::school::Entity::find().count(&context.db).await?;
    if existing > 0 {
        return Err(DemoError::NotEmpty(existing));
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
    let schools = county::schools(&mut rng);
    let new_schools: Vec<_> = schools.iter().map(|s| s.school.clone()).collect();
    crate::schools::actions::import_schools(
        context,
        Actor::CommandLine,
        "demo",
        &new_schools,
        &|_| {},
    )
    .await?;
    let stored_schools = entity::school::Entity::find().all(&context.db).await?;
    let school_id = |code: &str| {
        stored_schools
            .iter()
            .find(|school| school.code == code)
            .map(|school| school.id)
    };

    let now = Utc::now();
    let opens = now - Duration::days(DAYS + 1);
    let year = opens.format("%Y");
    let plans = [
        (Audience::Parents, "家长满意度测评", SchoolSelection::All),
        (Audience::Teachers, "教师问卷", SchoolSelection::All),
        (
            Audience::Students,
            "学生问卷（小学高年级及以上）",
            SchoolSelection::Kinds(vec![
                SchoolKind::Primary,
                SchoolKind::Junior,
                SchoolKind::NineYear,
                SchoolKind::Senior,
                SchoolKind::Vocational,
            ]),
        ),
        (Audience::School, "学校自评", SchoolSelection::All),
    ];
    // Every campaign first, so that the answers to come can be counted for the progress.
    let mut rounds = Vec::new();
    for (audience, title, selection) in plans {
        let entry = catalog
            .entries()
            .find(|entry| entry.survey.audience == audience)
            .ok_or(DemoError::SurveyMissing(audience.label()))?;
        let (campaign, _) = create_campaign(
            context,
            Actor::CommandLine,
            NewCampaign {
                name: format!("{year} 年秋季教育精准扶贫督导 · {title}"),
                survey: entry,
                opens_at: Some(opens),
                closes_at: Some(now + Duration::days(7)),
                schools: selection,
                status: CampaignStatus::Open,
                expected_override: None,
            },
        )
        .await?;
        let links = entity::campaign_link::Entity::find()
            .filter(entity::campaign_link::Column::CampaignId.eq(campaign.id))
            .all(&context.db)
            .await?;
        let plan: Vec<(&DemoSchool, entity::campaign_link::Model, usize)> = schools
            .iter()
            .filter_map(|school| {
                let id = school_id(&school.school.code)?;
                let link = links.iter().find(|link| link.school_id == id)?.clone();
                Some((school, link, respondents(audience, school, &mut rng)))
            })
            .collect();
        rounds.push((entry.survey.clone(), campaign, plan));
    }
    let planned: u64 = rounds
        .iter()
        .flat_map(|(_, _, plan)| plan.iter().map(|(_, _, n)| *n as u64))
        .sum::<u64>()
        + BURST;

    let mut stored = 0u64;
    let mut campaigns = Vec::new();
    for (survey, campaign, plan) in &rounds {
        let mut submissions = Vec::new();
        for (school, link, count) in plan {
            for _ in 0..*count {
                if let Some(submission) = answer(
                    survey, campaign, school, link, opens, now, quality, &mut rng,
                ) {
                    submissions.push(submission);
                }
            }
        }
        if survey.audience == Audience::Parents
            && let Some((school, link, _)) = plan.iter().find(|(_, _, n)| *n > 40)
        {
            submissions.extend(burst(
                survey, campaign, school, link, now, quality, &mut rng,
            ));
        }
        // Stored in the order they arrived, as a real server would have.
        submissions.sort_by_key(|submission| submission.submitted_at);
        for batch in submissions.chunks(BATCH) {
            writer::commit(&context.db, batch).await?;
            stored += batch.len() as u64;
            progress(stored, planned);
        }
        campaigns.push(DemoCampaign {
            id: campaign.id,
            name: campaign.name.clone(),
            answers: submissions.len(),
            flagged: submissions.iter().filter(|s| s.flags.is_some()).count(),
            left_out: submissions.iter().filter(|s| s.left_out).count(),
        });
    }

    // The self-check round's schools that sent theirs, in the county's order, for the visits.
    let self_check_round = rounds
        .iter()
        .find(|(survey, _, _)| survey.audience == Audience::School)
        .map(|(_, campaign, plan)| (campaign.id, plan));
    // The teachers' survey has ended before the round's letters are issued: a letter shows the
    // school's teachers' figures, and is issued only once they no longer change (`letters`).
    if let Some((_, teachers, _)) = rounds
        .iter()
        .find(|(survey, _, _)| survey.audience == Audience::Teachers)
    {
        crate::campaigns::actions::set_campaign_status(
            context,
            Actor::CommandLine,
            teachers.id,
            CampaignStatus::Closed,
        )
        .await?;
    }
    let supervision = match self_check_round {
        Some((round, plan_of_round)) => {
            let answered: Vec<entity::school::Model> = plan_of_round
                .iter()
                .filter(|(_, _, count)| *count > 0)
                .filter_map(|(_, link, _)| {
                    stored_schools
                        .iter()
                        .find(|school| school.id == link.school_id)
                        .cloned()
                })
                .collect();
            supervision::build(
                context,
                plan,
                round,
                &answered,
                crate::rectification::today(),
            )
            .await?
        }
        None => return Err(DemoError::SurveyMissing(Audience::School.label())),
    };

    let password = accounts::generate_password();
    crate::accounts::actions::create_account(
        context,
        Actor::CommandLine,
        NewAccount {
            email: ADMIN_EMAIL.to_owned(),
            display_name: "演示管理员".to_owned(),
            password: password.clone(),
            role: Role::Admin,
            school_id: None,
        },
    )
    .await?;
    let townships: std::collections::BTreeSet<_> =
        schools.iter().map(|s| s.school.township.as_str()).collect();
    Ok(DemoSummary {
        schools: schools.len(),
        townships: townships.len(),
        campaigns,
        admin_email: ADMIN_EMAIL.to_owned(),
        admin_password: password,
        supervision,
    })
}

/// How many answer a survey at a school: a share of its parents, pupils or teachers that is
/// higher where the school is better run and where it is small (a village school's teacher
/// knows every family); one self-check, missing at a few schools.
fn respondents(audience: Audience, school: &DemoSchool, rng: &mut impl rand::Rng) -> usize {
    let small = school.school.enrolment < 200;
    let lift = 0.08 * school.quality + 0.04 * answers::normal(rng);
    let share = match audience {
        Audience::Parents if small => 0.55 + lift,
        Audience::Parents => 0.2 + lift,
        Audience::Students => 0.12 + lift / 2.0,
        Audience::Teachers => 0.72 + lift,
        Audience::School => return usize::from(rng.random_range(0..20) != 0),
    };
    let population = match audience {
        Audience::Teachers => school.school.teachers,
        _ => school.school.enrolment,
    };
    (f64::from(population) * share.clamp(0.03, 0.95)).round() as usize
}

/// When an answer arrived: most in the first days after the links went out, a second wave
/// after the reminder a week in, in the evening for parents and in the working day for staff.
fn arrival(
    audience: Audience,
    opens: DateTime<Utc>,
    now: DateTime<Utc>,
    rng: &mut impl rand::Rng,
) -> DateTime<Utc> {
    let day = loop {
        let day = rng.random_range(0..DAYS);
        let weight = (-(day as f64) / 4.0).exp() + if day == 7 { 0.6 } else { 0.12 };
        if rng.random_range(0.0..1.0) < weight {
            break day;
        }
    };
    // China time is UTC+8: evenings 19–22 h are 11–14 h UTC, the working day 8–17 h is 0–9 h.
    let hour = match audience {
        Audience::Parents if rng.random_range(0..4) > 0 => rng.random_range(11..15),
        Audience::Parents => rng.random_range(0..15),
        _ => rng.random_range(0..9),
    };
    let midnight_china = (opens + Duration::days(1))
        .date_naive()
        .and_hms_opt(16, 0, 0);
    let start = midnight_china.map_or(opens, |time| time.and_utc());
    let at = start
        + Duration::days(day)
        + Duration::hours(hour)
        + Duration::seconds(rng.random_range(0..3600));
    at.min(now - Duration::minutes(rng.random_range(5..600)))
}

/// One respondent's validated answer as a submission, with the flags storing would give it.
#[allow(clippy::too_many_arguments)]
fn answer(
    survey: &Survey,
    campaign: &entity::campaign::Model,
    school: &DemoSchool,
    link: &entity::campaign_link::Model,
    opens: DateTime<Utc>,
    now: DateTime<Utc>,
    quality: &QualityRules,
    rng: &mut impl rand::Rng,
) -> Option<Submission> {
    let respondent = answers::Respondent::draw(school, rng);
    let mut fields = answers::fields(survey, school, &respondent, rng);
    answers::settle_self_check(&mut fields, school);
    let valid = validate(survey, &FormFields::new(fields)).ok()?;
    // About three seconds a question, and one in thirty who tap straight through.
    let questions = crate::quality::answered_items(&valid) as f64;
    let seconds = if rng.random_range(0..30) == 0 {
        questions * rng.random_range(0.4..1.2)
    } else {
        questions * rng.random_range(2.5..7.0) + 20.0
    };
    let duration_ms = Some((seconds * 1000.0) as i64);
    let flags = crate::quality::flags_of(survey, &valid, duration_ms, None, quality);
    Some(Submission {
        duration_ms,
        submitted_at: arrival(survey.audience, opens, now, rng),
        left_out: quality.leaves_out(&flags),
        flags: crate::quality::join(&flags),
        ..Submission::generated(campaign, link, survey, &valid)
    })
}

/// Eight answers within six minutes through one school's link from browsers that refused the
/// cookie: from the `burst_answers`-th on they are flagged `burst` and, by the shipped policy,
/// left out until a supervisor looks at them.
fn burst(
    survey: &Survey,
    campaign: &entity::campaign::Model,
    school: &DemoSchool,
    link: &entity::campaign_link::Model,
    now: DateTime<Utc>,
    quality: &QualityRules,
    rng: &mut impl rand::Rng,
) -> Vec<Submission> {
    let start = now - Duration::days(3) - Duration::hours(2);
    let eager = DemoSchool {
        quality: 1.2,
        ..school.clone()
    };
    (0..BURST)
        .filter_map(|earlier| {
            let respondent = answers::Respondent::draw(&eager, rng);
            let fields = answers::fields(survey, &eager, &respondent, rng);
            let valid = validate(survey, &FormFields::new(fields)).ok()?;
            let duration_ms = Some(rng.random_range(40_000..90_000));
            let flags =
                crate::quality::flags_of(survey, &valid, duration_ms, Some(earlier), quality);
            Some(Submission {
                campaign_id: campaign.id,
                school_id: link.school_id,
                link_id: link.id,
                survey_version_id: campaign.survey_version_id,
                idempotency_key: crate::secrets::random_key(),
                browser_key: None,
                answers_json: valid.to_json(),
                tally_keys: valid.tally_keys(),
                scores: crate::answering::scoring::area_scores(survey, &valid),
                duration_ms,
                submitted_at: start + Duration::seconds(45 * earlier as i64),
                left_out: quality.leaves_out(&flags),
                flags: crate::quality::join(&flags),
                admission: None,
                invitation_token: None,
            })
        })
        .collect()
}
