//! What people do to teacher rosters, each action one function that owns its change (see
//! [`crate::change`]): add or remove one teacher, replace one school's roster from its file, or
//! the rosters of every school a county file lists. Each writes its audit event, naming the
//! school, in the same transaction; the console and `dupin teachers import` only read the file
//! and show the outcome.
//!
//! A school's own account (a school viewer) may list at most the school's 专任教师数, and the
//! teachers it adds are marked as added by the school (see `invitations`: whenever it added them,
//! they are invited only once a supervisor has approved them). The cap holds under concurrency:
//! a roster change first locks the school's row, so two uploads of one school take turns.

use entity::{school, teacher};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::{
    AddedBy, CountyImportError, NewTeacher, Removal, RosterChangeError, RosterLine, RosterSummary,
    add_one, remove_one, replace_county, replace_roster,
};
use crate::accounts::{Role, role_of};
use crate::change::{Actor, Change, Context};

/// Who is changing the roster, as the cap and the approval rule see it.
fn added_by(actor: Actor<'_>) -> AddedBy {
    match actor.account() {
        Some(account) if role_of(account) == Role::School => AddedBy::School,
        _ => AddedBy::Supervisor,
    }
}

/// Takes the school's row for this transaction (a no-op UPDATE), so that roster changes of one
/// school are made one after the other and a count read after it is the count that is written.
async fn lock_school(change: &Change<'_>, school: &school::Model) -> Result<(), sea_orm::DbErr> {
    school::Entity::update_many()
        .col_expr(school::Column::Id, Expr::col(school::Column::Id))
        .filter(school::Column::Id.eq(school.id))
        .exec(change.txn())
        .await?;
    Ok(())
}

/// Refuses a school viewer's change that leaves more teachers than the school's 专任教师数.
async fn within_cap(
    change: &Change<'_>,
    school: &school::Model,
    by: AddedBy,
) -> Result<(), RosterChangeError> {
    if by != AddedBy::School {
        return Ok(());
    }
    let listed = teacher::Entity::find()
        .filter(teacher::Column::SchoolId.eq(school.id))
        .count(change.txn())
        .await?;
    if listed > u64::try_from(school.teachers.max(0)).unwrap_or(0) {
        return Err(RosterChangeError::OverCap {
            cap: school.teachers,
            would_be: listed,
        });
    }
    Ok(())
}

/// A teacher as typed into the console's add form, checked: a name, and an e-mail in canonical
/// form. The error says what to fix.
pub fn typed_teacher(name: &str, email: &str) -> Result<NewTeacher, String> {
    let name = super::parse::check_name(name)?;
    let email = super::parse_email(email)?;
    Ok(NewTeacher {
        name: name.to_owned(),
        email,
    })
}

/// Adds one checked teacher to `school`'s roster; audit event `teacher_add`.
pub async fn add_teacher(
    context: &Context,
    actor: Actor<'_>,
    school: &school::Model,
    new: &NewTeacher,
) -> Result<teacher::Model, RosterChangeError> {
    let by = added_by(actor);
    let change = Change::begin(context, actor).await?;
    lock_school(&change, school).await?;
    let added = add_one(change.txn(), school.id, new, by).await?;
    within_cap(&change, school, by).await?;
    let detail = format!(
        "{} {}：添加 {} <{}>",
        school.code, school.name, added.name, added.email
    );
    change
        .audit_school("teacher_add", school.id, detail)
        .await?;
    change.commit().await?;
    Ok(added)
}

/// Removes a teacher from `school`'s roster unless they were invited; audit event
/// `teacher_remove` when removed, nothing written otherwise.
pub async fn remove_teacher(
    context: &Context,
    actor: Actor<'_>,
    school: &school::Model,
    teacher_id: i32,
) -> Result<Removal, sea_orm::DbErr> {
    let change = Change::begin(context, actor).await?;
    let removal = remove_one(change.txn(), school.id, teacher_id).await?;
    let Removal::Removed(removed) = &removal else {
        change.rollback().await?;
        return Ok(removal);
    };
    let detail = format!(
        "{} {}：删除 {} <{}>",
        school.code, school.name, removed.name, removed.email
    );
    change
        .audit_school("teacher_remove", school.id, detail)
        .await?;
    change.commit().await?;
    Ok(removal)
}

/// What a roster import did to one school, as the audit log says it.
pub fn summary_text(summary: &RosterSummary) -> String {
    let mut text = format!(
        "{} {} 新增 {} 位，改名 {} 位，未变 {} 位，删除 {} 位",
        summary.school_code,
        summary.school_name,
        summary.added,
        summary.renamed,
        summary.unchanged,
        summary.removed
    );
    if !summary.kept.is_empty() {
        text.push_str(&format!("，已邀请而保留 {} 位", summary.kept.len()));
    }
    text
}

/// Makes `school`'s roster the checked lines of its file `file_name`; audit event
/// `roster_import`.
pub async fn import_school_roster(
    context: &Context,
    actor: Actor<'_>,
    school: &school::Model,
    file_name: &str,
    teachers: &[NewTeacher],
) -> Result<RosterSummary, RosterChangeError> {
    let by = added_by(actor);
    let change = Change::begin(context, actor).await?;
    lock_school(&change, school).await?;
    let summary = replace_roster(change.txn(), school, teachers, by).await?;
    within_cap(&change, school, by).await?;
    let detail = format!("{file_name}：{}", summary_text(&summary));
    change
        .audit_school("roster_import", school.id, detail)
        .await?;
    change.commit().await?;
    Ok(summary)
}

/// Replaces the roster of every school the county file `file_name` lists, all or nothing;
/// audit event `roster_import`.
pub async fn import_county_rosters(
    context: &Context,
    actor: Actor<'_>,
    file_name: &str,
    lines: Vec<RosterLine>,
) -> Result<Vec<RosterSummary>, CountyImportError> {
    let change = Change::begin(context, actor).await?;
    let summaries = replace_county(change.txn(), lines).await?;
    // Each school's roster change is found again by school, on the invitations page.
    for summary in &summaries {
        let detail = format!("{file_name}（全县）：{}", summary_text(summary));
        change
            .audit_school("roster_import", summary.school_id, detail)
            .await?;
    }
    let added: usize = summaries.iter().map(|summary| summary.added).sum();
    let removed: usize = summaries.iter().map(|summary| summary.removed).sum();
    let detail = format!(
        "{file_name}（全县）：{} 所学校，新增 {added} 位，删除 {removed} 位",
        summaries.len()
    );
    change.audit("roster_import_county", detail).await?;
    change.commit().await?;
    Ok(summaries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_teacher_needs_a_name_of_reasonable_length_and_an_email() {
        let teacher = typed_teacher(" 王芳 ", "Wang.Fang@School.CN").expect("valid");
        assert_eq!(teacher.name, "王芳");
        assert_eq!(teacher.email, "wang.fang@school.cn");
        assert_eq!(
            typed_teacher("  ", "a@b.cn").err().as_deref(),
            Some("姓名为空")
        );
        assert!(typed_teacher(&"王".repeat(51), "a@b.cn").is_err());
        assert!(typed_teacher("王芳", "not an address").is_err());
    }
}
