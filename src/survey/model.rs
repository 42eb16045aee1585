//! The checked survey: what campaigns freeze, forms render and answers are validated against.
//!
//! Every value here has passed `check`: ids are unique slugs, scales are resolved into the
//! questions that use them, `show_if` points at an earlier choice-like question and names codes
//! it has. The model is (de)serialisable because a campaign stores it as JSON.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Survey {
    pub id: String,
    pub title: String,
    pub audience: Audience,
    pub intro: String,
    pub minutes: Option<u32>,
    pub thanks: Option<String>,
    pub sections: Vec<Section>,
}

impl Survey {
    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.sections
            .iter()
            .flat_map(|section| section.questions.iter())
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions().find(|question| question.id == id)
    }

    pub fn question_count(&self) -> usize {
        self.sections
            .iter()
            .map(|section| section.questions.len())
            .sum()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Parents,
    Teachers,
    Students,
    School,
}

impl Audience {
    pub const ALL: [Audience; 4] = [
        Audience::Parents,
        Audience::Teachers,
        Audience::Students,
        Audience::School,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Audience::Parents => "parents",
            Audience::Teachers => "teachers",
            Audience::Students => "students",
            Audience::School => "school",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Audience::Parents => "家长",
            Audience::Teachers => "教师",
            Audience::Students => "学生",
            Audience::School => "学校",
        }
    }

    pub fn parse(slug: &str) -> Option<Audience> {
        Audience::ALL
            .into_iter()
            .find(|audience| audience.slug() == slug)
    }
}

/// The plan's seven areas of supervision (四、督导内容), plus `Overall` for background and
/// overall-satisfaction questions that belong to none of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    PovertyStudents,
    EducationStages,
    SpecialChildren,
    Informatization,
    RuralTeachers,
    Nutrition,
    SchoolPairing,
    Overall,
}

impl Area {
    pub const ALL: [Area; 8] = [
        Area::PovertyStudents,
        Area::EducationStages,
        Area::SpecialChildren,
        Area::Informatization,
        Area::RuralTeachers,
        Area::Nutrition,
        Area::SchoolPairing,
        Area::Overall,
    ];

    /// The seven areas of the plan, without `Overall`.
    pub fn plan_areas() -> impl Iterator<Item = Area> {
        Area::ALL.into_iter().filter(|area| *area != Area::Overall)
    }

    pub fn slug(self) -> &'static str {
        match self {
            Area::PovertyStudents => "poverty_students",
            Area::EducationStages => "education_stages",
            Area::SpecialChildren => "special_children",
            Area::Informatization => "informatization",
            Area::RuralTeachers => "rural_teachers",
            Area::Nutrition => "nutrition",
            Area::SchoolPairing => "school_pairing",
            Area::Overall => "overall",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Area::PovertyStudents => "精准扶贫贫困对象",
            Area::EducationStages => "各类教育精准扶贫",
            Area::SpecialChildren => "特殊困难儿童关爱",
            Area::Informatization => "教育信息化",
            Area::RuralTeachers => "农村教师队伍建设",
            Area::Nutrition => "营养改善计划",
            Area::SchoolPairing => "教育结对帮扶",
            Area::Overall => "总体评价与基本情况",
        }
    }

    pub fn parse(slug: &str) -> Option<Area> {
        Area::ALL.into_iter().find(|area| area.slug() == slug)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub area: Area,
    pub intro: Option<String>,
    pub questions: Vec<Question>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub text: String,
    pub help: Option<String>,
    pub required: bool,
    pub show_if: Option<ShowIf>,
    pub scored: bool,
    pub kind: QuestionKind,
}

/// Show (and require) a question only when an earlier choice-like question has one of `any_of`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShowIf {
    pub question: String,
    pub any_of: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    Single {
        options: Vec<ChoiceOption>,
    },
    Multiple {
        options: Vec<ChoiceOption>,
        min: u32,
        max: Option<u32>,
    },
    Scale {
        scale: Scale,
    },
    Matrix {
        scale: Scale,
        rows: Vec<MatrixRow>,
    },
    Number {
        decimal: bool,
        min: Option<f64>,
        max: Option<f64>,
        unit: Option<String>,
    },
    YesNo {
        yes_score: Option<f64>,
        no_score: Option<f64>,
    },
    Text {
        max_length: u32,
    },
    LongText {
        max_length: u32,
    },
    Rating {
        min_label: Option<String>,
        max_label: Option<String>,
    },
}

impl QuestionKind {
    /// The kind's name as written in survey files.
    pub fn name(&self) -> &'static str {
        match self {
            QuestionKind::Single { .. } => "single",
            QuestionKind::Multiple { .. } => "multiple",
            QuestionKind::Scale { .. } => "scale",
            QuestionKind::Matrix { .. } => "matrix",
            QuestionKind::Number { .. } => "number",
            QuestionKind::YesNo { .. } => "yes_no",
            QuestionKind::Text { .. } => "text",
            QuestionKind::LongText { .. } => "long_text",
            QuestionKind::Rating { .. } => "rating",
        }
    }

    /// The codes an answer may take, for the kinds whose answers are codes; `None` for numbers,
    /// text and matrices (whose codes are per row).
    pub fn codes(&self) -> Option<Vec<String>> {
        match self {
            QuestionKind::Single { options } | QuestionKind::Multiple { options, .. } => {
                Some(options.iter().map(|option| option.code.clone()).collect())
            }
            QuestionKind::Scale { scale } => Some(
                scale
                    .points
                    .iter()
                    .map(|point| point.code.clone())
                    .collect(),
            ),
            QuestionKind::YesNo { .. } => Some(vec!["yes".to_owned(), "no".to_owned()]),
            QuestionKind::Rating { .. } => Some((0..=10).map(|n| n.to_string()).collect()),
            QuestionKind::Matrix { .. }
            | QuestionKind::Number { .. }
            | QuestionKind::Text { .. }
            | QuestionKind::LongText { .. } => None,
        }
    }

    /// Whether `code` is one of [`QuestionKind::codes`], without making the list: every
    /// submitted answer is checked this way.
    pub fn has_code(&self, code: &str) -> bool {
        match self {
            QuestionKind::Single { options } | QuestionKind::Multiple { options, .. } => {
                options.iter().any(|option| option.code == code)
            }
            QuestionKind::Scale { scale } => scale.points.iter().any(|point| point.code == code),
            QuestionKind::YesNo { .. } => matches!(code, "yes" | "no"),
            QuestionKind::Rating { .. } => matches!(
                code,
                "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "10"
            ),
            QuestionKind::Matrix { .. }
            | QuestionKind::Number { .. }
            | QuestionKind::Text { .. }
            | QuestionKind::LongText { .. } => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChoiceOption {
    pub code: String,
    pub label: String,
    pub score: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatrixRow {
    pub id: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scale {
    pub id: String,
    pub name: String,
    pub points: Vec<ScalePoint>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScalePoint {
    pub code: String,
    pub label: String,
    pub score: Option<f64>,
    /// Counts towards the satisfaction rate (满意率): 满意 or better.
    pub satisfied: bool,
}
