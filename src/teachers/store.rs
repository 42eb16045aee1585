//! The `teacher` table: replacing a school's roster with an uploaded one, adding and removing one
//! teacher, and the reads the console asks for. Everything takes checked [`NewTeacher`]s; the
//! caller owns the transaction, so its audit event commits with the change.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use entity::{invitation, school, teacher};
use sea_orm::ActiveValue::{NotSet, Set, Unchanged};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr,
};

use super::parse::{NewTeacher, RosterLine};
use crate::csv_files::{ImportError, LineError};

/// What replacing one school's roster did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RosterSummary {
    pub school_id: i32,
    pub school_code: String,
    pub school_name: String,
    /// New e-mails.
    pub added: usize,
    /// Known e-mails whose name changed.
    pub renamed: usize,
    /// Known e-mails listed again as they were.
    pub unchanged: usize,
    /// Teachers no longer listed, and removed.
    pub removed: usize,
    /// Teachers no longer listed but kept because they were invited: `姓名 <邮箱>`.
    pub kept: Vec<String>,
}

/// The county file's lines grouped by school, each code looked up in `known` (code → school).
/// Every line naming an unknown code is an error, so that nothing is imported for a county file
/// with a typo in one code.
pub fn group_by_school(
    lines: Vec<RosterLine>,
    known: &HashMap<String, school::Model>,
) -> Result<Vec<(school::Model, Vec<NewTeacher>)>, Vec<LineError>> {
    let mut grouped: BTreeMap<String, (school::Model, Vec<NewTeacher>)> = BTreeMap::new();
    let mut errors = Vec::new();
    for line in lines {
        let code = line.school_code.clone().unwrap_or_default();
        match known.get(&code) {
            Some(school) => grouped
                .entry(code)
                .or_insert_with(|| (school.clone(), Vec::new()))
                .1
                .push(line.teacher),
            None => errors.push(LineError {
                line: line.line,
                code: Some(code.clone()),
                reason: format!(
                    "学校代码 {code} 不在学校名单中，请核对代码，或先在“学校”中添加该校"
                ),
            }),
        }
    }
    if errors.is_empty() {
        Ok(grouped.into_values().collect())
    } else {
        Err(errors)
    }
}

/// The lines of a county file whose school codes are unknown, as an import refusal says them.
fn unknown_schools(lines: &[LineError]) -> ImportError {
    ImportError::BadLines {
        what: "教师",
        lines: lines.to_vec(),
    }
}

/// Why a county file was not imported.
#[derive(Debug, thiserror::Error)]
pub enum CountyImportError {
    /// Lines naming school codes that are not in the school list: nothing imported.
    #[error("{}", unknown_schools(.0))]
    BadLines(Vec<LineError>),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Replaces the roster of every school the county file lists ([`replace_roster`] each), inside
/// the caller's transaction; schools it does not list keep theirs. A line with an unknown school
/// code refuses the whole file.
pub async fn replace_county(
    db: &impl ConnectionTrait,
    lines: Vec<RosterLine>,
) -> Result<Vec<RosterSummary>, CountyImportError> {
    let mut codes: Vec<String> = lines
        .iter()
        .filter_map(|line| line.school_code.clone())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let known = crate::schools::find_by_codes(db, &codes)
        .await?
        .into_iter()
        .map(|school| (school.code.clone(), school))
        .collect();
    let grouped = group_by_school(lines, &known).map_err(CountyImportError::BadLines)?;
    let mut summaries = Vec::with_capacity(grouped.len());
    for (school, teachers) in &grouped {
        summaries.push(replace_roster(db, school, teachers, AddedBy::Supervisor).await?);
    }
    Ok(summaries)
}

/// Makes `school`'s roster exactly `teachers` (by e-mail): new e-mails are added, known ones get
/// the listed name, and teachers not listed are removed — unless they were ever invited, in
/// which case they stay (their invitations keep working) and are named in the summary.
pub async fn replace_roster(
    db: &impl ConnectionTrait,
    school: &school::Model,
    teachers: &[NewTeacher],
    by: AddedBy,
) -> Result<RosterSummary, DbErr> {
    let now = Utc::now();
    let existing: HashMap<String, teacher::Model> = teacher::Entity::find()
        .filter(teacher::Column::SchoolId.eq(school.id))
        .all(db)
        .await?
        .into_iter()
        .map(|teacher| (teacher.email.clone(), teacher))
        .collect();
    let mut summary = RosterSummary {
        school_id: school.id,
        school_code: school.code.clone(),
        school_name: school.name.clone(),
        ..RosterSummary::default()
    };
    let listed: HashSet<&str> = teachers.iter().map(|t| t.email.as_str()).collect();
    let mut to_insert = Vec::new();
    for listed_teacher in teachers {
        match existing.get(&listed_teacher.email) {
            Some(known) if known.name == listed_teacher.name => summary.unchanged += 1,
            Some(known) => {
                teacher::ActiveModel {
                    id: Unchanged(known.id),
                    name: Set(listed_teacher.name.clone()),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .update(db)
                .await?;
                summary.renamed += 1;
            }
            None => to_insert.push(new_row(school.id, listed_teacher, by)),
        }
    }
    summary.added = to_insert.len();
    for batch in to_insert.chunks(500) {
        teacher::Entity::insert_many(batch.to_vec())
            .exec_without_returning(db)
            .await?;
    }

    let unlisted: Vec<&teacher::Model> = existing
        .values()
        .filter(|known| !listed.contains(known.email.as_str()))
        .collect();
    if !unlisted.is_empty() {
        let ids: Vec<i32> = unlisted.iter().map(|t| t.id).collect();
        let invited = invited_among(db, &ids).await?;
        let mut removable = Vec::new();
        let mut kept: Vec<&teacher::Model> = Vec::new();
        for known in unlisted {
            if invited.contains(&known.id) {
                kept.push(known);
            } else {
                removable.push(known.id);
            }
        }
        kept.sort_by(|a, b| a.email.cmp(&b.email));
        summary.kept = kept
            .iter()
            .map(|t| format!("{} <{}>", t.name, t.email))
            .collect();
        for batch in removable.chunks(500) {
            teacher::Entity::delete_many()
                .filter(teacher::Column::Id.is_in(batch.iter().copied()))
                .exec(db)
                .await?;
        }
        summary.removed = removable.len();
    }
    tracing::info!(
        school = %school.code,
        added = summary.added,
        renamed = summary.renamed,
        removed = summary.removed,
        kept = summary.kept.len(),
        "roster replaced"
    );
    Ok(summary)
}

fn new_row(school_id: i32, teacher: &NewTeacher, by: AddedBy) -> teacher::ActiveModel {
    let now = Utc::now();
    teacher::ActiveModel {
        id: NotSet,
        school_id: Set(school_id),
        name: Set(teacher.name.clone()),
        email: Set(teacher.email.clone()),
        added_by_school: Set(by == AddedBy::School),
        approved_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The ids among `teacher_ids` that have at least one invitation.
async fn invited_among(
    db: &impl ConnectionTrait,
    teacher_ids: &[i32],
) -> Result<HashSet<i32>, DbErr> {
    let mut invited = HashSet::new();
    for batch in teacher_ids.chunks(500) {
        let ids: Vec<i32> = invitation::Entity::find()
            .select_only()
            .column(invitation::Column::TeacherId)
            .filter(invitation::Column::TeacherId.is_in(batch.iter().copied()))
            .distinct()
            .into_tuple::<i32>()
            .all(db)
            .await?;
        invited.extend(ids);
    }
    Ok(invited)
}

/// One teacher of a roster as the console lists them.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TeacherRow {
    pub id: i32,
    pub name: String,
    pub email: String,
    /// Campaigns this teacher was invited to.
    pub invitations: i64,
}

/// A school's roster, ordered by name and then e-mail.
pub async fn list(db: &impl ConnectionTrait, school_id: i32) -> Result<Vec<TeacherRow>, DbErr> {
    let teachers = teacher::Entity::find()
        .filter(teacher::Column::SchoolId.eq(school_id))
        .order_by_asc(teacher::Column::Name)
        .order_by_asc(teacher::Column::Email)
        .all(db)
        .await?;
    let ids: Vec<i32> = teachers.iter().map(|t| t.id).collect();
    let mut counts: HashMap<i32, i64> = HashMap::new();
    for batch in ids.chunks(500) {
        let rows: Vec<(i32, i64)> = invitation::Entity::find()
            .select_only()
            .column(invitation::Column::TeacherId)
            .column_as(invitation::Column::Id.count(), "invitations")
            .filter(invitation::Column::TeacherId.is_in(batch.iter().copied()))
            .group_by(invitation::Column::TeacherId)
            .into_tuple()
            .all(db)
            .await?;
        counts.extend(rows);
    }
    Ok(teachers
        .into_iter()
        .map(|t| TeacherRow {
            invitations: counts.get(&t.id).copied().unwrap_or(0),
            id: t.id,
            name: t.name,
            email: t.email,
        })
        .collect())
}

/// How many teachers each school's roster holds, by school id.
pub async fn counts_by_school(db: &impl ConnectionTrait) -> Result<HashMap<i32, i64>, DbErr> {
    let rows: Vec<(i32, i64)> = teacher::Entity::find()
        .select_only()
        .column(teacher::Column::SchoolId)
        .column_as(teacher::Column::Id.count(), "teachers")
        .group_by(teacher::Column::SchoolId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// How many teachers the roster of `school_id` holds.
pub async fn count(db: &impl ConnectionTrait, school_id: i32) -> Result<u64, DbErr> {
    teacher::Entity::find()
        .filter(teacher::Column::SchoolId.eq(school_id))
        .count(db)
        .await
}

/// Who added a teacher: a supervisor (or the command line), or the school's own account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddedBy {
    Supervisor,
    School,
}

/// Why a roster was not changed.
#[derive(Debug, thiserror::Error)]
pub enum RosterChangeError {
    /// What was typed is not a teacher: the reason says what to fix.
    #[error("{0}")]
    Refused(String),
    #[error("邮箱 {0} 已在本校名单中")]
    DuplicateEmail(String),
    /// A school's own account may list at most its 专任教师数.
    #[error(
        "本校名单最多 {cap} 位教师（学校名单中的专任教师数）；改后将有 {would_be} 位，没有保存。如名单确需更多教师，请联系督导人员修改本校的专任教师数"
    )]
    OverCap { cap: i32, would_be: u64 },
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Adds one teacher to a school's roster.
pub async fn add_one(
    db: &impl ConnectionTrait,
    school_id: i32,
    new: &NewTeacher,
    by: AddedBy,
) -> Result<teacher::Model, RosterChangeError> {
    let taken = teacher::Entity::find()
        .filter(teacher::Column::SchoolId.eq(school_id))
        .filter(teacher::Column::Email.eq(new.email.as_str()))
        .count(db)
        .await?
        > 0;
    if taken {
        return Err(RosterChangeError::DuplicateEmail(new.email.clone()));
    }
    match new_row(school_id, new, by).insert(db).await {
        Ok(added) => Ok(added),
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(RosterChangeError::DuplicateEmail(new.email.clone()))
        }
        Err(error) => Err(error.into()),
    }
}

/// What became of a removal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Removal {
    Removed(teacher::Model),
    /// The teacher was invited: kept, so that the invitation's status stays readable.
    Invited(teacher::Model),
    NotFound,
}

/// Removes teacher `teacher_id` from the roster of `school_id`, unless they were invited.
pub async fn remove_one(
    db: &impl ConnectionTrait,
    school_id: i32,
    teacher_id: i32,
) -> Result<Removal, DbErr> {
    let Some(found) = teacher::Entity::find_by_id(teacher_id)
        .filter(teacher::Column::SchoolId.eq(school_id))
        .one(db)
        .await?
    else {
        return Ok(Removal::NotFound);
    };
    if !invited_among(db, &[found.id]).await?.is_empty() {
        return Ok(Removal::Invited(found));
    }
    teacher::Entity::delete_by_id(found.id).exec(db).await?;
    Ok(Removal::Removed(found))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::Utc;
    use entity::school;

    use super::group_by_school;
    use crate::teachers::{NewTeacher, RosterLine};

    fn school(id: i32, code: &str) -> school::Model {
        school::Model {
            id,
            code: code.to_owned(),
            name: format!("学校{id}"),
            township: "石门镇".to_owned(),
            kind: "小学".to_owned(),
            is_central: false,
            is_key_village: false,
            enrolment: 100,
            teachers: 10,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn line(line: usize, code: &str, email: &str) -> RosterLine {
        RosterLine {
            line,
            school_code: Some(code.to_owned()),
            teacher: NewTeacher {
                name: "张老师".to_owned(),
                email: email.to_owned(),
            },
        }
    }

    #[test]
    fn lines_are_grouped_by_known_school_and_unknown_codes_are_errors() {
        let known: HashMap<String, school::Model> = [school(1, "A1"), school(2, "B2")]
            .into_iter()
            .map(|s| (s.code.clone(), s))
            .collect();
        let grouped = group_by_school(
            vec![
                line(2, "B2", "a@qq.com"),
                line(3, "A1", "b@qq.com"),
                line(4, "B2", "c@qq.com"),
            ],
            &known,
        )
        .expect("all known");
        let summary: Vec<(i32, usize)> = grouped.iter().map(|(s, t)| (s.id, t.len())).collect();
        assert_eq!(summary, [(1, 1), (2, 2)]);

        let errors = group_by_school(
            vec![line(2, "A1", "a@qq.com"), line(3, "ZZ", "b@qq.com")],
            &known,
        )
        .expect_err("unknown code");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
        assert!(
            errors[0]
                .to_string()
                .starts_with("第 3 行（学校代码 ZZ）：学校代码 ZZ 不在学校名单中")
        );
    }
}
