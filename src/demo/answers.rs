//! Plausible answers for the demo, as the form fields a phone would post: each respondent
//! leans the way their school is run, each area of the plan has its own strength and weakness
//! in the county (boarding and nutrition weaker, teachers' care stronger), and a school's
//! self-check reports numbers that fit its size — a few falling short of the plan's thresholds.
//! Pure: no I/O; what it returns goes through `answering::validate` like any form.

use rand::RngExt;

use super::county::DemoSchool;
use crate::school_kind::SchoolKind;
use crate::survey::{Area, QuestionKind, Survey};

/// How the county stands in each area, added to every respondent's lean (positive: better).
fn area_effect(area: Area) -> f64 {
    match area {
        Area::Nutrition => -0.45,
        Area::EducationStages => -0.2,
        Area::Informatization => -0.3,
        Area::RuralTeachers => 0.35,
        Area::SpecialChildren => 0.05,
        Area::PovertyStudents => 0.2,
        Area::SchoolPairing => -0.1,
        Area::Overall => 0.15,
    }
}

/// A standard normal draw (Box–Muller).
pub fn normal(rng: &mut impl rand::Rng) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// How one respondent answers.
#[derive(Clone, Copy, Debug)]
pub struct Respondent {
    /// The respondent's lean: the school's quality plus their own temper.
    pub lean: f64,
    /// Answers every scale question with its top point, whatever was asked (a straight line).
    pub straight_line: bool,
}

impl Respondent {
    pub fn draw(school: &DemoSchool, rng: &mut impl rand::Rng) -> Respondent {
        Respondent {
            lean: school.quality + 0.55 * normal(rng),
            straight_line: rng.random_range(0..100) < 2,
        }
    }
}

/// The position (0 = the scale's first, best point) a respondent picks on a scale of `points`
/// points in `area`.
fn scale_position(
    respondent: &Respondent,
    area: Area,
    points: usize,
    rng: &mut impl rand::Rng,
) -> usize {
    if respondent.straight_line {
        return 0;
    }
    // 1.3 points below the top on average, spread by the school, the area and the person.
    let below_top = 1.3 - 0.9 * (respondent.lean + area_effect(area)) + 0.8 * normal(rng);
    (below_top.round().max(0.0) as usize).min(points.saturating_sub(1))
}

/// Whether a yes/no question about something the plan wants is answered yes.
fn yes(respondent: &Respondent, area: Area, base: f64, rng: &mut impl rand::Rng) -> bool {
    let chance = (base + 0.25 * (respondent.lean + area_effect(area))).clamp(0.02, 0.99);
    rng.random_range(0.0..1.0) < chance
}

/// The stage a respondent of `kind` answers about.
fn stage_of(kind: SchoolKind, rng: &mut impl rand::Rng) -> &'static str {
    match kind {
        SchoolKind::Kindergarten => "kindergarten",
        SchoolKind::Primary | SchoolKind::TeachingPoint => "primary",
        SchoolKind::Junior => "junior",
        SchoolKind::NineYear if rng.random_range(0..3) == 0 => "junior",
        SchoolKind::NineYear => "primary",
        SchoolKind::Senior => "senior",
        SchoolKind::Vocational => "vocational",
    }
}

/// Free-text answers people leave, for the texts page.
const REMARKS: [&str; 10] = [
    "希望学校继续加强和家长的沟通，谢谢老师们。",
    "食堂的饭菜希望再多一些蔬菜和肉。",
    "孩子住校，希望宿舍冬天能有热水洗澡。",
    "老师很负责，孩子进步很大。",
    "上学的路比较远，希望能有校车。",
    "希望多开展一些课外活动和兴趣小组。",
    "网络有时候很慢，网课听不清楚。",
    "厕所有点不够用，下课要排队。",
    "感谢政府的资助政策，减轻了家里的负担。",
    "希望多关心留守的孩子，多和我们打电话。",
];

/// One respondent's answers to `survey` as form fields (question id or `id.row` → code).
/// Questions whose condition does not hold get an answer too; validation drops it, as it does
/// a phone's.
pub fn fields(
    survey: &Survey,
    school: &DemoSchool,
    respondent: &Respondent,
    rng: &mut impl rand::Rng,
) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for section in &survey.sections {
        let area = section.area;
        for question in &section.questions {
            let id = question.id.clone();
            match &question.kind {
                QuestionKind::Scale { scale } => {
                    let at = scale_position(respondent, area, scale.points.len(), rng);
                    fields.push((id, scale.points[at].code.clone()));
                }
                QuestionKind::Matrix { scale, rows } => {
                    for row in rows {
                        let at = scale_position(respondent, area, scale.points.len(), rng);
                        fields.push((format!("{id}.{}", row.id), scale.points[at].code.clone()));
                    }
                }
                QuestionKind::Rating { .. } => {
                    let value = if respondent.straight_line {
                        10.0
                    } else {
                        7.2 + 1.6 * respondent.lean + 1.3 * normal(rng)
                    };
                    fields.push((id, (value.round().clamp(0.0, 10.0) as i64).to_string()));
                }
                QuestionKind::YesNo { .. } => {
                    let answer = match question.id.as_str() {
                        // Facts about the family rather than about the school.
                        "boarding" => rng.random_range(0..100) < boarding_share(school),
                        "left_behind" | "left_behind_class" => {
                            rng.random_range(0..100)
                                < if school.school.is_key_village { 45 } else { 25 }
                        }
                        "disabled_involved" => rng.random_range(0..100) < 20,
                        "allowance_eligible" => school.school.township != "青溪镇",
                        _ => yes(respondent, area, 0.8, rng),
                    };
                    fields.push((id, if answer { "yes" } else { "no" }.to_owned()));
                }
                QuestionKind::Single { options } => {
                    let code = match question.id.as_str() {
                        "stage" => stage_of(school.school.kind, rng).to_owned(),
                        "poor_household" => {
                            let share = if school.school.is_key_village { 30 } else { 10 };
                            if rng.random_range(0..100) < share {
                                "yes"
                            } else {
                                "no"
                            }
                            .to_owned()
                        }
                        "funding_received" | "tuition_free" | "paired" => {
                            if yes(respondent, area, 0.85, rng) {
                                "yes"
                            } else {
                                "unsure"
                            }
                            .to_owned()
                        }
                        _ => {
                            // Earlier options a little likelier: they are the common cases.
                            let n = options.len();
                            let at = rng.random_range(0..n).min(rng.random_range(0..n + 1));
                            options[at.min(n - 1)].code.clone()
                        }
                    };
                    fields.push((id, code));
                }
                QuestionKind::Multiple { options, min, max } => {
                    let most = max
                        .map_or(options.len(), |max| max as usize)
                        .min(options.len());
                    let least = (*min as usize).max(1).min(most);
                    let count = rng.random_range(least..=most.min(least + 2));
                    let mut chosen: Vec<usize> = (0..options.len()).collect();
                    for _ in 0..options.len() {
                        let (a, b) = (
                            rng.random_range(0..options.len()),
                            rng.random_range(0..options.len()),
                        );
                        chosen.swap(a, b);
                    }
                    chosen.truncate(count);
                    chosen.sort_unstable();
                    for at in chosen {
                        fields.push((id.clone(), options[at].code.clone()));
                    }
                }
                QuestionKind::Number { min, max, .. } => {
                    let value = self_check_number(&question.id, school, rng)
                        .unwrap_or_else(|| rng.random_range(0..20));
                    let low = min.unwrap_or(0.0) as i64;
                    let high = max.unwrap_or(1e9) as i64;
                    fields.push((id, value.clamp(low, high).to_string()));
                }
                QuestionKind::Text { .. } | QuestionKind::LongText { .. } => {
                    if question.id == "pairing_partner" {
                        fields.push((id, "青溪镇中心小学".to_owned()));
                    } else if rng.random_range(0..100) < 18 {
                        fields.push((id, REMARKS[rng.random_range(0..REMARKS.len())].to_owned()));
                    }
                }
            }
        }
    }
    fields
}

/// Percent of pupils who board.
fn boarding_share(school: &DemoSchool) -> i32 {
    match school.school.kind {
        SchoolKind::Junior | SchoolKind::Senior | SchoolKind::Vocational => 55,
        SchoolKind::NineYear => 40,
        SchoolKind::Primary if school.school.is_central => 20,
        _ => 3,
    }
}

/// A school's self-check: the questions whose answer is a fact of the school, from its size
/// and how well it is run; a weak school falls short of some of the plan's thresholds
/// (funding 100%, qualified teachers 75%, backbone teachers 10% / 20%, disabled enrolment 90%).
fn self_check_number(id: &str, school: &DemoSchool, rng: &mut impl rand::Rng) -> Option<i64> {
    let enrolment = i64::from(school.school.enrolment);
    let teachers = i64::from(school.school.teachers);
    let weak = school.quality < -0.25;
    let share = |part: f64| (enrolment as f64 * part).round() as i64;
    let poor = share(if school.school.is_key_village {
        0.16
    } else {
        0.06
    });
    Some(match id {
        "enrolment" => enrolment,
        "poor_students" => poor,
        "poor_students_funded" if weak && poor > 3 => poor - rng.random_range(1..3),
        "poor_students_funded" => poor,
        "poor_dropouts" if weak && rng.random_range(0..3) == 0 => 1,
        "poor_dropouts" => 0,
        "retention_primary" => rng.random_range(if weak { 90 } else { 96 }..=100),
        "retention_junior" => rng.random_range(if weak { 88 } else { 94 }..=100),
        "vocational_subsidy_per_student" => 1500,
        "boarding_students" => share(f64::from(boarding_share(school)) / 100.0),
        "migrant_children" => share(0.03),
        "left_behind_children" => share(if school.school.is_key_village {
            0.38
        } else {
            0.2
        }),
        "disabled_children_catchment" => rng.random_range(0..6),
        // Filled in below from the catchment, when both are known.
        "disabled_children_enrolled" => return None,
        "bandwidth" => rng.random_range(1..=10) * 100,
        "classrooms" => (enrolment / 40).max(1),
        "multimedia_classrooms" if weak => (enrolment / 40).max(1) * 2 / 3,
        "multimedia_classrooms" => (enrolment / 40).max(1),
        "computers_for_teachers" if weak => teachers * 4 / 5,
        "computers_for_teachers" => teachers,
        "online_class_hours" => rng.random_range(8..60),
        "teachers_fulltime" => teachers,
        "teachers_college" if weak => {
            (teachers as f64 * rng.random_range(0.6..0.78)).round() as i64
        }
        "teachers_college" => (teachers as f64 * rng.random_range(0.8..0.98)).round() as i64,
        "teachers_backbone" if weak => (teachers as f64 * 0.07).floor() as i64,
        "teachers_backbone" if school.school.is_central => {
            (teachers as f64 * rng.random_range(0.18..0.26)).round() as i64
        }
        "teachers_backbone" => (teachers as f64 * rng.random_range(0.1..0.2)).ceil() as i64,
        "teachers_exchanged" => rng.random_range(0..=(teachers / 10).max(1)),
        "teachers_online_training" => teachers - rng.random_range(0..=(teachers / 8).max(1)),
        "nutrition_students" => share(0.9),
        "pairing_events" => rng.random_range(2..16),
        _ => return None,
    })
}

/// Makes a self-check's answers agree with themselves: enrolled disabled children are at most
/// the catchment's, and a weak school enrolled fewer than all of them.
pub fn settle_self_check(fields: &mut [(String, String)], school: &DemoSchool) {
    let catchment: i64 = fields
        .iter()
        .find(|(id, _)| id == "disabled_children_catchment")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let enrolled = if school.quality < -0.25 {
        (catchment - 1).max(0)
    } else {
        catchment
    };
    for (id, value) in fields.iter_mut() {
        if id == "disabled_children_enrolled" {
            *value = enrolled.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::answering::{FormFields, validate};

    #[test]
    fn every_generated_answer_to_every_shipped_survey_is_valid() {
        let catalog = crate::survey::load_dir(std::path::Path::new("surveys")).expect("plan");
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let schools = super::super::county::schools(&mut rng);
        for entry in catalog.entries() {
            for school in &schools {
                let respondent = Respondent::draw(school, &mut rng);
                let mut answers = fields(&entry.survey, school, &respondent, &mut rng);
                settle_self_check(&mut answers, school);
                let form = FormFields::new(answers);
                if let Err(errors) = validate(&entry.survey, &form) {
                    panic!("{} at {}: {errors:?}", entry.survey.id, school.school.name);
                }
            }
        }
    }

    #[test]
    fn better_run_schools_get_better_answers() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let mean = |lean: f64, rng: &mut rand::rngs::StdRng| {
            let respondent = Respondent {
                lean,
                straight_line: false,
            };
            (0..2000)
                .map(|_| scale_position(&respondent, Area::Overall, 5, rng) as f64)
                .sum::<f64>()
                / 2000.0
        };
        assert!(mean(0.6, &mut rng) + 0.5 < mean(-0.6, &mut rng));
    }
}
