//! The county's targets (县级目标, `surveys/targets.toml`): what the plan's 四 promises for the
//! county as a whole — 36 key-village canteens at the model standard, 14 small kitchens
//! improved, three-year preschool in every key village — checked, and their progress worked out
//! from the schools' self-check answers. A target counts the schools whose answer meets a
//! condition (judged exactly as an indicator judges it) or adds up a number question, over the
//! schools of the county it names. Pure: the schools and their answers are given.
//!
//! The answers come through [`SelfCheckAnswers`], so that a visit's verified values stand in
//! for a school's reported ones when [`VerifiedOverReported`] is passed instead of the bare
//! self-check (surveys/METHOD.md, `targets` and `verified`).

use serde::Serialize;

use super::indicators::{
    AnswerValue, Formula, Indicator, Outcome, QuestionRef, SchoolCondition, SchoolProfile,
    SelfCheckAnswers, format_number,
};
use crate::survey::Area;

/// One target of `targets.toml`, checked against the self-check it reads.
#[derive(Clone, Debug, PartialEq)]
pub struct CountyTarget {
    /// A slug, unique in the file.
    pub id: String,
    pub title: String,
    pub area: Area,
    /// Where in the plan the target is set, such as 四（六）.
    pub basis: String,
    /// The self-check survey whose answers it reads.
    pub survey: String,
    /// Which schools of the county it counts over; `None` for every school.
    pub schools: Option<SchoolCondition>,
    pub measure: Measure,
    pub goal: Goal,
}

/// What a target adds up.
#[derive(Clone, Debug, PartialEq)]
pub enum Measure {
    /// The schools whose answer meets the condition, judged as an indicator with the same
    /// formula and target would judge it (its id and title are the target's).
    Count { condition: Box<Indicator> },
    /// The sum of a number question over the schools that answered it.
    Sum { question: QuestionRef },
}

/// The value a target is to reach.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Goal {
    Number(f64),
    /// Every school counted over, except those the condition does not apply to (`"all"`).
    EverySchool,
}

/// Where a school's value comes from: the school's own report, or a visit's verified value
/// that replaced it (surveys/METHOD.md, `targets`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueSource {
    Reported,
    Verified,
}

/// A school's answers with verified values in front: a question the visit verified answers with
/// the verified value, any other with the reported one (`results::targets` builds them from
/// the visits of the targets' campaign).
pub struct VerifiedOverReported<'a, V, R> {
    pub verified: &'a V,
    pub reported: &'a R,
}

impl<V: SelfCheckAnswers, R: SelfCheckAnswers> SelfCheckAnswers for VerifiedOverReported<'_, V, R> {
    fn answer(&self, question: &str) -> Option<AnswerValue<'_>> {
        self.verified
            .answer(question)
            .or_else(|| self.reported.answer(question))
    }

    fn is_verified(&self, question: &str) -> bool {
        self.verified.answer(question).is_some()
    }
}

/// How one school stands on one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SchoolStatus {
    /// Its answer meets the condition (a count).
    Meets,
    /// Its answer does not.
    DoesNotMeet,
    /// It answered the number question (a sum).
    Reported,
    /// It submitted its self-check but left the question empty.
    LeftEmpty,
    /// No self-check of it in the campaign.
    NotSubmitted,
    /// The condition does not apply to it (its self-check did not show it the question, or its
    /// answer is one the condition leaves out).
    NotApplicable,
}

impl SchoolStatus {
    pub const ALL: [SchoolStatus; 6] = [
        SchoolStatus::Meets,
        SchoolStatus::DoesNotMeet,
        SchoolStatus::Reported,
        SchoolStatus::LeftEmpty,
        SchoolStatus::NotSubmitted,
        SchoolStatus::NotApplicable,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            SchoolStatus::Meets => "meets",
            SchoolStatus::DoesNotMeet => "does_not_meet",
            SchoolStatus::Reported => "reported",
            SchoolStatus::LeftEmpty => "left_empty",
            SchoolStatus::NotSubmitted => "not_submitted",
            SchoolStatus::NotApplicable => "not_applicable",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SchoolStatus::Meets => "达到",
            SchoolStatus::DoesNotMeet => "未达到",
            SchoolStatus::Reported => "已填报",
            SchoolStatus::LeftEmpty => "未填该题",
            SchoolStatus::NotSubmitted => "未提交自评表",
            SchoolStatus::NotApplicable => "不适用",
        }
    }
}

/// A school as a target counts it.
#[derive(Debug)]
pub struct TargetSchool<'a, A> {
    pub school: &'a entity::school::Model,
    /// Its self-check, if it submitted one.
    pub answers: Option<&'a A>,
}

// By hand: a derive would ask `A: Copy`, but only references are copied.
impl<A> Clone for TargetSchool<'_, A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A> Copy for TargetSchool<'_, A> {}

/// One school's line under a target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetSchoolLine {
    pub school_id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
    pub status: SchoolStatus,
    /// The answer or number, as supervisors read it; empty when there is none.
    pub value: String,
    pub from: Option<ValueSource>,
}

/// The schools of one status, for the page's lists.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SchoolGroup {
    pub status: SchoolStatus,
    pub label: &'static str,
    pub count: usize,
    pub schools: Vec<TargetSchoolLine>,
}

/// A target's progress.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetProgress {
    pub id: String,
    pub title: String,
    pub area: Area,
    pub area_label: &'static str,
    pub basis: String,
    /// `count` or `sum`.
    pub measure: &'static str,
    /// What is counted, as supervisors read it: `学校食堂情况：达到示范食堂标准`.
    pub counts: String,
    /// Which schools it counts over, in words: `重点村学校`, `全县学校`.
    pub over: String,
    /// The unit of the figures: 所 for a count, the question's unit for a sum.
    pub unit: String,
    pub achieved: f64,
    pub target: f64,
    /// The target is every school counted over (`"all"`).
    pub every_school: bool,
    /// achieved ÷ target (may pass 1); `None` when the target is 0.
    pub share: Option<f64>,
    pub reached: bool,
    /// The schools of the county the target counts over.
    pub schools_counted: usize,
    /// Of them, the schools that submitted a self-check.
    pub submitted: usize,
    /// Every school counted over, grouped by status in the order of [`SchoolStatus::ALL`], by
    /// code within a group; groups without a school are left out.
    pub groups: Vec<SchoolGroup>,
}

impl CountyTarget {
    /// Whether `school` is one the target counts over.
    pub fn counts_over(&self, school: &SchoolProfile) -> bool {
        self.schools
            .as_ref()
            .is_none_or(|condition| condition.holds_for(school))
    }

    /// The schools it counts over, in words.
    pub fn describe_schools(&self) -> String {
        let Some(condition) = &self.schools else {
            return "全县学校".to_owned();
        };
        let mut parts = Vec::new();
        match condition.key_village {
            Some(true) => parts.push("重点村".to_owned()),
            Some(false) => parts.push("非重点村".to_owned()),
            None => {}
        }
        match condition.central {
            Some(true) => parts.push("乡镇中心校".to_owned()),
            Some(false) => parts.push("非中心校".to_owned()),
            None => {}
        }
        if let Some(kinds) = &condition.kinds {
            let labels: Vec<&str> = kinds.iter().map(|kind| kind.label()).collect();
            parts.push(format!("（{}）", labels.join("、")));
        }
        format!("{}学校", parts.join(""))
    }

    /// What the target counts, in words.
    pub fn describe_measure(&self) -> String {
        match &self.measure {
            Measure::Sum { question } => format!("“{}”之和", question.text),
            Measure::Count { condition } => {
                let target = condition.describe_target(&condition.target);
                match &condition.formula {
                    Formula::Ratio {
                        numerator,
                        denominator,
                        ..
                    } => format!("{} ÷ {} {target}", numerator.text, denominator.text),
                    Formula::Value { question } => format!("{} {target}", question.text),
                    Formula::Yes { question } | Formula::Choice { question, .. } => {
                        format!("{}：{target}", question.text)
                    }
                }
            }
        }
    }

    fn unit(&self) -> String {
        match &self.measure {
            Measure::Count { .. } => "所".to_owned(),
            Measure::Sum { question } => question.unit.clone().unwrap_or_default(),
        }
    }

    /// The target's progress over `schools` (the county's schools; the target picks those it
    /// counts over). See surveys/METHOD.md, `targets`.
    pub fn progress<'a, A: SelfCheckAnswers + 'a>(
        &self,
        schools: impl IntoIterator<Item = TargetSchool<'a, A>>,
    ) -> TargetProgress {
        let mut lines = Vec::new();
        let mut achieved = 0.0;
        let mut submitted = 0;
        for entry in schools {
            let Some(profile) = SchoolProfile::of_school(entry.school) else {
                continue;
            };
            if !self.counts_over(&profile) {
                continue;
            }
            let (status, value) = match entry.answers {
                None => (SchoolStatus::NotSubmitted, None),
                Some(answers) => {
                    submitted += 1;
                    self.judge(&profile, answers)
                }
            };
            match (status, value) {
                (SchoolStatus::Meets, _) => achieved += 1.0,
                (SchoolStatus::Reported, Some(number)) => achieved += number,
                _ => {}
            }
            lines.push(TargetSchoolLine {
                school_id: entry.school.id,
                code: entry.school.code.clone(),
                name: entry.school.name.clone(),
                township: entry.school.township.clone(),
                status,
                value: self.shown(&profile, entry.answers, value),
                from: entry.answers.map(|answers| {
                    if self.questions().iter().any(|id| answers.is_verified(id)) {
                        ValueSource::Verified
                    } else {
                        ValueSource::Reported
                    }
                }),
            });
        }
        let schools_counted = lines.len();
        let not_applicable = lines
            .iter()
            .filter(|line| line.status == SchoolStatus::NotApplicable)
            .count();
        let target = match self.goal {
            Goal::Number(value) => value,
            Goal::EverySchool => (schools_counted - not_applicable) as f64,
        };
        lines.sort_by(|a, b| (a.status, &a.code).cmp(&(b.status, &b.code)));
        let groups = SchoolStatus::ALL
            .into_iter()
            .filter_map(|status| {
                let schools: Vec<TargetSchoolLine> = lines
                    .iter()
                    .filter(|line| line.status == status)
                    .cloned()
                    .collect();
                (!schools.is_empty()).then_some(SchoolGroup {
                    status,
                    label: status.label(),
                    count: schools.len(),
                    schools,
                })
            })
            .collect();
        TargetProgress {
            id: self.id.clone(),
            title: self.title.clone(),
            area: self.area,
            area_label: self.area.label(),
            basis: self.basis.clone(),
            measure: match self.measure {
                Measure::Count { .. } => "count",
                Measure::Sum { .. } => "sum",
            },
            counts: self.describe_measure(),
            over: self.describe_schools(),
            unit: self.unit(),
            achieved,
            target,
            every_school: self.goal == Goal::EverySchool,
            share: (target > 0.0).then(|| achieved / target),
            reached: achieved >= target,
            schools_counted,
            submitted,
            groups,
        }
    }

    /// The ids of the questions the target reads.
    fn questions(&self) -> Vec<&str> {
        match &self.measure {
            Measure::Count { condition } => condition
                .formula
                .questions()
                .into_iter()
                .map(|question| question.id.as_str())
                .collect(),
            Measure::Sum { question } => vec![question.id.as_str()],
        }
    }

    /// A submitted school's status, and for a sum its number.
    fn judge(
        &self,
        profile: &SchoolProfile,
        answers: &impl SelfCheckAnswers,
    ) -> (SchoolStatus, Option<f64>) {
        match &self.measure {
            Measure::Count { condition } => {
                let evaluation = condition.evaluate(profile, answers);
                let status = match evaluation.outcome {
                    Outcome::Met => SchoolStatus::Meets,
                    Outcome::NotMet => SchoolStatus::DoesNotMeet,
                    Outcome::NotReported { .. } => SchoolStatus::LeftEmpty,
                    Outcome::NotApplicable { .. } => SchoolStatus::NotApplicable,
                };
                (status, evaluation.value)
            }
            Measure::Sum { question } => match answers.answer(&question.id) {
                Some(AnswerValue::Number(number)) if number.is_finite() => {
                    (SchoolStatus::Reported, Some(number))
                }
                _ => (SchoolStatus::LeftEmpty, None),
            },
        }
    }

    fn shown(
        &self,
        profile: &SchoolProfile,
        answers: Option<&impl SelfCheckAnswers>,
        value: Option<f64>,
    ) -> String {
        let Some(answers) = answers else {
            return String::new();
        };
        match &self.measure {
            Measure::Sum { question } => value
                .map(|value| match &question.unit {
                    Some(unit) => format!("{} {unit}", format_number(value)),
                    None => format_number(value),
                })
                .unwrap_or_default(),
            Measure::Count { condition } => {
                if let Some(value) = value {
                    return condition.format_value(value);
                }
                let evaluation = condition.evaluate(profile, answers);
                match (&condition.formula, evaluation.answer.as_deref()) {
                    (_, Some("yes")) => "是".to_owned(),
                    (_, Some("no")) => "否".to_owned(),
                    (Formula::Choice { question, .. }, Some(code)) => question
                        .options
                        .iter()
                        .find(|option| option.code == code)
                        .map_or(code.to_owned(), |option| option.label.clone()),
                    (_, Some(code)) => code.to_owned(),
                    (_, None) => String::new(),
                }
            }
        }
    }
}

/// The progress of every target over the county's schools, in the file's order.
pub fn progress_all<'a, A: SelfCheckAnswers + 'a>(
    targets: &[CountyTarget],
    schools: &[TargetSchool<'a, A>],
) -> Vec<TargetProgress> {
    targets
        .iter()
        .map(|target| target.progress(schools.iter().copied()))
        .collect()
}

#[cfg(test)]
mod tests;
