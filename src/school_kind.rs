//! The seven kinds of school on the bureau's list. The `school` table stores a kind by its Chinese
//! label, so a row reads the same in the database as in the Excel sheet it came from.

use std::fmt;

/// What sort of school a row is, as the bureau's list names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchoolKind {
    /// 幼儿园
    Kindergarten,
    /// 小学
    Primary,
    /// 初中
    Junior,
    /// 九年一贯制: primary and junior grades in one school.
    NineYear,
    /// 高中
    Senior,
    /// 中职: secondary vocational school.
    Vocational,
    /// 教学点: a village teaching point, usually a few lower-primary classes.
    TeachingPoint,
}

impl SchoolKind {
    /// Every kind, in the order the bureau lists them.
    pub const ALL: [SchoolKind; 7] = [
        SchoolKind::Kindergarten,
        SchoolKind::Primary,
        SchoolKind::Junior,
        SchoolKind::NineYear,
        SchoolKind::Senior,
        SchoolKind::Vocational,
        SchoolKind::TeachingPoint,
    ];

    /// The Chinese label, as written in the sheet and stored in `school.kind`.
    pub fn label(self) -> &'static str {
        match self {
            SchoolKind::Kindergarten => "幼儿园",
            SchoolKind::Primary => "小学",
            SchoolKind::Junior => "初中",
            SchoolKind::NineYear => "九年一贯制",
            SchoolKind::Senior => "高中",
            SchoolKind::Vocational => "中职",
            SchoolKind::TeachingPoint => "教学点",
        }
    }

    /// The English name accepted by [`SchoolKind::parse`], for sheets prepared by hand.
    pub fn english_name(self) -> &'static str {
        match self {
            SchoolKind::Kindergarten => "kindergarten",
            SchoolKind::Primary => "primary",
            SchoolKind::Junior => "junior",
            SchoolKind::NineYear => "nine_year",
            SchoolKind::Senior => "senior",
            SchoolKind::Vocational => "vocational",
            SchoolKind::TeachingPoint => "teaching_point",
        }
    }

    /// Reads a kind from its Chinese label or its English name. Surrounding whitespace is
    /// ignored; the English name is matched without regard to case, and a space or hyphen may
    /// stand for its underscore (`Nine-year`, `teaching point`).
    pub fn parse(text: &str) -> Option<SchoolKind> {
        let text = text.trim();
        let english = text.to_ascii_lowercase().replace([' ', '-'], "_");
        SchoolKind::ALL
            .into_iter()
            .find(|kind| kind.label() == text || kind.english_name() == english)
    }

    /// All labels joined for a message: `幼儿园、小学、…、教学点`.
    pub(crate) fn all_labels() -> String {
        SchoolKind::ALL.map(SchoolKind::label).join("、")
    }
}

impl fmt::Display for SchoolKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::SchoolKind;

    #[test]
    fn every_label_parses_back_to_its_kind() {
        for kind in SchoolKind::ALL {
            assert_eq!(SchoolKind::parse(kind.label()), Some(kind));
            assert_eq!(SchoolKind::parse(kind.english_name()), Some(kind));
        }
    }

    #[test]
    fn english_names_ignore_case_spaces_and_hyphens() {
        assert_eq!(SchoolKind::parse(" Nine-Year "), Some(SchoolKind::NineYear));
        assert_eq!(
            SchoolKind::parse("Teaching Point"),
            Some(SchoolKind::TeachingPoint)
        );
        assert_eq!(SchoolKind::parse("PRIMARY"), Some(SchoolKind::Primary));
    }

    #[test]
    fn near_misses_are_not_guessed() {
        assert_eq!(SchoolKind::parse("初级中学"), None);
        assert_eq!(SchoolKind::parse("小学 "), Some(SchoolKind::Primary));
        assert_eq!(SchoolKind::parse(""), None);
    }

    #[test]
    fn labels_are_listed_in_the_bureau_order() {
        assert_eq!(
            SchoolKind::all_labels(),
            "幼儿园、小学、初中、九年一贯制、高中、中职、教学点"
        );
    }
}
