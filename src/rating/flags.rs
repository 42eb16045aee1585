//! The flags an answer may carry, as `response.flags` stores them, and what each means under the
//! plan's `[quality]` rules. Deciding them is `quality`'s; this is only their vocabulary, low
//! enough for the results and the method appendix to read them.

use std::collections::BTreeSet;

use serde::Serialize;

use super::rules::QualityRules;

/// Something about an answer worth a supervisor's look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    StraightLine,
    TooFast,
    Burst,
    /// Past the admission rate of its link or of its client's address: stored, and by the
    /// shipped policy left out of the figures until a supervisor releases it.
    Held,
    /// Every scale answer and matrix statement at the top of its scale.
    AllTop,
}

impl Flag {
    pub const ALL: [Flag; 5] = [
        Flag::StraightLine,
        Flag::TooFast,
        Flag::Burst,
        Flag::Held,
        Flag::AllTop,
    ];

    /// As stored in `response.flags`.
    pub fn slug(self) -> &'static str {
        match self {
            Flag::StraightLine => "straight_line",
            Flag::TooFast => "too_fast",
            Flag::Burst => "burst",
            Flag::Held => "held",
            Flag::AllTop => "all_top",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Flag::StraightLine => "全部选同一档",
            Flag::TooFast => "用时过短",
            Flag::Burst => "集中提交",
            Flag::Held => "超出速率暂缓",
            Flag::AllTop => "全部最高档",
        }
    }

    /// What the flag means, for the quality page.
    pub fn explanation(self, rules: &QualityRules) -> String {
        match self {
            Flag::StraightLine => format!(
                "量表题和矩阵题各行合计至少 {} 题，且全部选了同一档",
                rules.straight_line_min_answers
            ),
            Flag::TooFast => format!("平均每题用时不到 {} 秒", rules.seconds_per_answer),
            Flag::Burst => format!(
                "同一学校链接 {} 分钟内收到至少 {} 份拒绝 Cookie 的浏览器提交的答卷（从第 {} 份起标记）",
                rules.burst_minutes, rules.burst_answers, rules.burst_answers
            ),
            Flag::Held => format!(
                "同一学校链接一分钟内的答卷超过 max({}, 应收份数的十分之一) 份，或同一网络地址 {} 分钟内向同一链接提交超过 {} 份：答卷已保存，待督导人员核实后放行",
                rules.answers_per_minute_floor, rules.admission_minutes, rules.answers_per_address
            ),
            Flag::AllTop => format!(
                "量表题和矩阵题各行合计至少 {} 题，且全部选了最高一档",
                rules.straight_line_min_answers
            ),
        }
    }

    pub fn parse(slug: &str) -> Option<Flag> {
        Flag::ALL
            .into_iter()
            .find(|flag| flag.slug() == slug.trim())
    }
}

/// The stored form of some flags: comma-separated slugs, `None` when there are none.
pub fn join(flags: &[Flag]) -> Option<String> {
    let flags: BTreeSet<Flag> = flags.iter().copied().collect();
    (!flags.is_empty()).then(|| {
        flags
            .into_iter()
            .map(Flag::slug)
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// The flags of a stored `response.flags`; unknown slugs are ignored.
pub fn parse_flags(stored: Option<&str>) -> Vec<Flag> {
    stored
        .unwrap_or_default()
        .split(',')
        .filter_map(Flag::parse)
        .collect()
}
