//! What a 督导意见书 says, as it is frozen into `letter.snapshot`: every line already in words,
//! so that the page, the mail and the API show the letter from the snapshot alone and never
//! work a figure out again. Pure: the types, and the sentences made from them.

use serde::{Deserialize, Serialize};

/// Who issues letters and circulars, as their signature block names them.
pub const ISSUER: &str = "县教育督导室";
/// The plan the letters rest on (`seeds/`: the county's 教育精准扶贫督导工作方案).
pub const PLAN_TITLE: &str = "教育精准扶贫督导工作方案";

/// A letter's content: what `draft` finds, and with its number what `issue` freezes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LetterContent {
    /// 督导意见书.
    pub title: String,
    /// Set when issued: `〔2026〕第 3 号`; empty in a draft.
    pub number_text: String,
    pub year: i32,
    pub number: i32,
    /// 1 for the first issue; a reissue adds one (修订版).
    pub version: i32,
    /// `2026年12月4日` (China time), the day it was issued or drafted.
    pub dated: String,
    /// RFC 3339, when it was issued; empty in a draft.
    pub issued_at: String,
    pub issuer: String,
    pub school: LetterSchool,
    pub campaign: LetterCampaign,
    /// The opening paragraph: on what plan and round the opinion rests.
    pub opening: String,
    pub rating: LetterRating,
    pub indicators: LetterIndicators,
    pub satisfaction: Vec<SatisfactionSource>,
    pub findings: Vec<LetterFinding>,
    pub rectification: Vec<LetterItem>,
    /// The closing requirements (整改要求), one paragraph each.
    pub requirements: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LetterSchool {
    pub id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
    pub kind: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LetterCampaign {
    pub id: i32,
    pub name: String,
    pub survey_title: String,
}

/// The school's 综合评估 for the round (surveys/METHOD.md, `accountability`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LetterRating {
    /// `81.3（95% 区间 78.0–84.4）`, or `—`.
    pub score: String,
    /// `良好`, `待定（良好或合格）`, `答卷太少，暂不评定` …
    pub grade: String,
    pub note: String,
    /// Which campaign of each source the rating used: `家长问卷：2026 秋季家长满意度测评（答卷 45 份）`.
    pub sources: Vec<String>,
}

/// The school's self-check indicators in the round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LetterIndicators {
    /// The self-check campaign read, or empty when none.
    pub campaign: String,
    pub submitted: bool,
    pub met: usize,
    pub not_met: usize,
    pub not_reported: usize,
    pub unmet: Vec<UnmetIndicator>,
    /// `达标 8 项，未达标 2 项，未填报 0 项。`, or why there is nothing.
    pub summary: String,
    /// A visit found the self-check differs from what it verified: 核查不符 (surveys/METHOD.md,
    /// `verified`). Letters issued before this was kept read as `false`.
    #[serde(default)]
    pub verify_mismatch: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnmetIndicator {
    pub title: String,
    pub area: String,
    /// What the school reported (`62.5%`), empty when nothing.
    pub value: String,
    /// What it was held to (`≥ 75%`).
    pub target: String,
}

/// One questionnaire's satisfaction at the school: area scores with their respondents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SatisfactionSource {
    /// 家长问卷 …
    pub source: String,
    pub campaign: String,
    /// The campaign's id (0 in letters issued before it was kept).
    #[serde(default)]
    pub campaign_id: i32,
    pub answers: u64,
    /// The questionnaire's score for the school (0–100, with its interval), or `—`.
    pub score: String,
    pub areas: Vec<SatisfactionArea>,
    /// Why figures are missing (too few answers, teachers' anonymity), empty otherwise.
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SatisfactionArea {
    pub area: String,
    /// 0–100, one decimal.
    pub score: String,
    /// Respondents with a score in the area.
    pub n: u64,
}

/// A finding of a visit of the round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LetterFinding {
    pub id: i32,
    /// `2026-11-20`.
    pub visited_on: String,
    /// 重点督查 …
    pub visit_kind: String,
    pub area: String,
    /// `minor`, `major` or `serious`.
    pub severity_slug: String,
    /// 一般, 较重, 严重.
    pub severity: String,
    pub text: String,
    /// Thumbnails as `data:image/jpeg;base64,…`, frozen with the letter.
    pub photos: Vec<String>,
}

/// A rectification item of the school in the round, as it stood when the letter was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LetterItem {
    pub id: i32,
    pub area: String,
    pub requirement: String,
    pub responsible: String,
    /// `2026-12-31`.
    pub deadline: String,
    /// `open` …
    pub status_slug: String,
    /// 待整改 …
    pub status: String,
    /// Past its deadline and not done, on the letter's date.
    pub overdue: bool,
}

/// 一般, 较重, 严重 for a finding's severity slug.
pub fn severity_label(slug: &str) -> &'static str {
    match slug {
        "minor" => "一般",
        "major" => "较重",
        "serious" => "严重",
        _ => "未注明",
    }
}

/// 待整改, 已报告待验收, 已验收, 退回重改 for an item's status slug.
pub fn status_label(slug: &str) -> &'static str {
    match slug {
        "open" => "待整改",
        "reported" => "已报告待验收",
        "accepted" => "已验收",
        "returned" => "退回重改",
        _ => "未知",
    }
}

/// Whether an item of `status` due on `deadline` is overdue on `today` (China time): still with
/// the school (open or returned) and its deadline earlier than today.
pub fn is_overdue(status: &str, deadline: chrono::NaiveDate, today: chrono::NaiveDate) -> bool {
    matches!(status, "open" | "returned") && deadline < today
}

/// `〔2026〕第 3 号`.
pub fn number_text(year: i32, number: i32) -> String {
    format!("〔{year}〕第 {number} 号")
}

/// `2026年12月4日`.
pub fn dated(day: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", day.year(), day.month(), day.day())
}

/// The closing requirements, from what the letter found.
pub fn requirements(content: &LetterContent) -> Vec<String> {
    let mut lines = Vec::new();
    if !content.rectification.is_empty() {
        lines.push(format!(
            "对上列 {} 项整改事项，请学校按期完成，由责任人逐项落实，完成后在督评系统中报告整改情况并附佐证材料，督导室将逐项核查验收。",
            content.rectification.len()
        ));
    } else if !content.findings.is_empty() || !content.indicators.unmet.is_empty() {
        lines.push(
            "对上列问题，督导室将另行提出整改事项和期限；请学校先行研究整改措施。".to_owned(),
        );
    }
    if content.rectification.iter().any(|item| item.overdue) {
        lines.push("标注“逾期”的事项已超过整改期限，请立即整改并说明原因。".to_owned());
    }
    lines.push(format!(
        "学校须明确专人负责此项工作（方案六.1）；对敷衍塞责、怠慢滞后、成效不明显的单位和个人，将按《{PLAN_TITLE}》六.3 严格责任追究。"
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a day")
    }

    #[test]
    fn only_open_or_returned_items_past_their_deadline_are_overdue() {
        let today = day("2026-12-04");
        assert!(is_overdue("open", day("2026-12-03"), today));
        assert!(is_overdue("returned", day("2026-01-01"), today));
        assert!(!is_overdue("open", day("2026-12-04"), today), "due today");
        assert!(!is_overdue("reported", day("2026-11-01"), today));
        assert!(!is_overdue("accepted", day("2026-11-01"), today));
    }

    #[test]
    fn numbers_and_dates_read_as_an_official_document() {
        assert_eq!(number_text(2026, 3), "〔2026〕第 3 号");
        assert_eq!(dated(day("2026-02-05")), "2026年2月5日");
        assert_eq!(severity_label("serious"), "严重");
        assert_eq!(status_label("returned"), "退回重改");
    }
}
