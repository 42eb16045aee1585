//! Which schools a new campaign goes to: all of them, some townships, some kinds of school, the
//! schools of the key poverty villages, or a list picked by hand. Pure: it filters a list of
//! schools already read.

use std::collections::HashSet;

use entity::school;

use super::CampaignError;
use crate::schools::SchoolKind;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchoolSelection {
    All,
    /// Schools by their codes (学校代码); a code that names no school is an error.
    Codes(Vec<String>),
    /// Schools by their row ids, as a form may send them; an unknown id is an error.
    Ids(Vec<i32>),
    /// Every school of these townships (乡镇).
    Townships(Vec<String>),
    /// Every school of these kinds.
    Kinds(Vec<SchoolKind>),
    /// The schools in the county's key poverty villages (扶贫重点村).
    KeyVillages,
}

impl SchoolSelection {
    /// `all`, or codes separated by commas (full-width commas too: they come from Chinese IMEs).
    pub fn parse(text: &str) -> SchoolSelection {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("all") {
            return SchoolSelection::All;
        }
        SchoolSelection::Codes(
            text.split([',', '，', ' ', ';'])
                .map(str::trim)
                .filter(|code| !code.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    /// A list that names nothing: never what a supervisor means, so creation refuses it.
    pub fn is_empty_list(&self) -> bool {
        match self {
            SchoolSelection::All | SchoolSelection::KeyVillages => false,
            SchoolSelection::Codes(codes) => codes.is_empty(),
            SchoolSelection::Ids(ids) => ids.is_empty(),
            SchoolSelection::Townships(townships) => townships.is_empty(),
            SchoolSelection::Kinds(kinds) => kinds.is_empty(),
        }
    }

    /// Whether `school` is among the selected, codes and ids aside from whether they exist.
    pub fn includes(&self, school: &school::Model) -> bool {
        match self {
            SchoolSelection::All => true,
            SchoolSelection::Codes(codes) => codes.iter().any(|code| code.trim() == school.code),
            SchoolSelection::Ids(ids) => ids.contains(&school.id),
            SchoolSelection::Townships(townships) => townships
                .iter()
                .any(|township| township.trim() == school.township),
            SchoolSelection::Kinds(kinds) => kinds.iter().any(|kind| kind.label() == school.kind),
            SchoolSelection::KeyVillages => school.is_key_village,
        }
    }

    /// The schools of `all` this selection takes, in the order of `all`. Codes and ids that name
    /// no school are refused together, so that a typo never silently leaves a school out.
    pub fn apply<'a>(
        &self,
        all: &'a [school::Model],
    ) -> Result<Vec<&'a school::Model>, CampaignError> {
        let unknown: Vec<String> = match self {
            SchoolSelection::Codes(codes) => {
                let known: HashSet<&str> = all.iter().map(|school| school.code.as_str()).collect();
                codes
                    .iter()
                    .map(|code| code.trim())
                    .filter(|code| !known.contains(code))
                    .map(str::to_owned)
                    .collect()
            }
            SchoolSelection::Ids(ids) => {
                let known: HashSet<i32> = all.iter().map(|school| school.id).collect();
                ids.iter()
                    .filter(|id| !known.contains(id))
                    .map(|id| format!("#{id}"))
                    .collect()
            }
            _ => Vec::new(),
        };
        if !unknown.is_empty() {
            return Err(CampaignError::UnknownSchools(unknown.join(", ")));
        }
        Ok(all.iter().filter(|school| self.includes(school)).collect())
    }

    /// A short account of the selection for the audit log.
    pub fn describe(&self) -> String {
        match self {
            SchoolSelection::All => "all schools".to_owned(),
            SchoolSelection::Codes(codes) => format!("schools {}", codes.join(",")),
            SchoolSelection::Ids(ids) => format!(
                "schools #{}",
                ids.iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(",#")
            ),
            SchoolSelection::Townships(townships) => {
                format!("townships {}", townships.join(","))
            }
            SchoolSelection::Kinds(kinds) => format!(
                "kinds {}",
                kinds
                    .iter()
                    .map(|kind| kind.label())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            SchoolSelection::KeyVillages => "key-village schools".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn school(id: i32, code: &str, township: &str, kind: &str, key_village: bool) -> school::Model {
        school::Model {
            id,
            code: code.to_owned(),
            name: format!("学校{code}"),
            township: township.to_owned(),
            kind: kind.to_owned(),
            is_central: false,
            is_key_village: key_village,
            enrolment: 100,
            teachers: 10,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn county() -> Vec<school::Model> {
        vec![
            school(1, "A1", "石门镇", "小学", false),
            school(2, "A2", "石门镇", "教学点", true),
            school(3, "B1", "白沙乡", "初中", false),
            school(4, "B2", "白沙乡", "小学", true),
            school(5, "C1", "云岭乡", "幼儿园", false),
        ]
    }

    fn codes(selected: &[&school::Model]) -> Vec<String> {
        selected.iter().map(|school| school.code.clone()).collect()
    }

    #[test]
    fn school_selections_accept_all_and_chinese_commas() {
        assert_eq!(SchoolSelection::parse("all"), SchoolSelection::All);
        assert_eq!(SchoolSelection::parse(""), SchoolSelection::All);
        assert_eq!(
            SchoolSelection::parse("A1，A2, A3"),
            SchoolSelection::Codes(vec!["A1".into(), "A2".into(), "A3".into()])
        );
    }

    #[test]
    fn each_kind_of_selection_takes_its_schools_in_list_order() {
        let all = county();
        let take = |selection: SchoolSelection| codes(&selection.apply(&all).expect("valid"));
        assert_eq!(take(SchoolSelection::All).len(), 5);
        assert_eq!(take(SchoolSelection::KeyVillages), ["A2", "B2"]);
        assert_eq!(
            take(SchoolSelection::Townships(vec![
                "白沙乡".into(),
                "云岭乡".into()
            ])),
            ["B1", "B2", "C1"]
        );
        assert_eq!(
            take(SchoolSelection::Kinds(vec![
                SchoolKind::Primary,
                SchoolKind::TeachingPoint
            ])),
            ["A1", "A2", "B2"]
        );
        assert_eq!(
            take(SchoolSelection::Codes(vec!["C1".into(), " A1".into()])),
            ["A1", "C1"]
        );
        assert_eq!(take(SchoolSelection::Ids(vec![3, 4])), ["B1", "B2"]);
        // A township with no school is not an error; it just takes nothing.
        assert!(take(SchoolSelection::Townships(vec!["河口镇".into()])).is_empty());
    }

    #[test]
    fn unknown_codes_and_ids_are_refused_all_together() {
        let all = county();
        let error = SchoolSelection::Codes(vec!["A1".into(), "Z9".into(), "Z8".into()])
            .apply(&all)
            .expect_err("unknown codes");
        assert!(matches!(error, CampaignError::UnknownSchools(ref list) if list == "Z9, Z8"));
        let error = SchoolSelection::Ids(vec![1, 99])
            .apply(&all)
            .expect_err("unknown id");
        assert!(matches!(error, CampaignError::UnknownSchools(ref list) if list == "#99"));
    }

    #[test]
    fn empty_lists_are_told_apart_from_all() {
        assert!(SchoolSelection::Townships(vec![]).is_empty_list());
        assert!(SchoolSelection::Kinds(vec![]).is_empty_list());
        assert!(SchoolSelection::Codes(vec![]).is_empty_list());
        assert!(SchoolSelection::Ids(vec![]).is_empty_list());
        assert!(!SchoolSelection::All.is_empty_list());
        assert!(!SchoolSelection::KeyVillages.is_empty_list());
    }
}
