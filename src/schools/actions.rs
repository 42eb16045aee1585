//! What people do to the school list, each action one function that owns its change (see
//! [`crate::change`]): import a file, add one school, correct one. Each writes its audit event
//! in the same transaction; the console, `dupin schools import` and the benchmarks only read
//! what was typed or uploaded and show the outcome.

use entity::school;

use super::{ImportSummary, NewSchool, SaveError, create_one, import, update_one};
use crate::change::{Actor, Change, Context};

/// Imports or updates every school of the checked file `file_name` (new codes inserted, known
/// codes updated, nothing deleted), all or nothing; audit event `schools_import`. `progress` is
/// told how many schools were written so far.
pub async fn import_schools(
    context: &Context,
    actor: Actor<'_>,
    file_name: &str,
    schools: &[NewSchool],
    progress: &(dyn Fn(usize) + Sync),
) -> Result<ImportSummary, sea_orm::DbErr> {
    let change = Change::begin(context, actor).await?;
    let summary = import(change.txn(), schools, progress).await?;
    let detail = format!(
        "{file_name}：新增 {} 所，更新 {} 所",
        summary.created, summary.updated
    );
    change.audit("schools_import", detail).await?;
    change.commit().await?;
    tracing::info!(
        created = summary.created,
        updated = summary.updated,
        "imported schools"
    );
    Ok(summary)
}

/// The audit text of a saved school.
fn describe(saved: &school::Model) -> String {
    format!("{} {}（id {}）", saved.code, saved.name, saved.id)
}

/// Adds one checked school; audit event `school_create`.
pub async fn create_school(
    context: &Context,
    actor: Actor<'_>,
    new: &NewSchool,
) -> Result<school::Model, SaveError> {
    let change = Change::begin(context, actor).await?;
    let saved = create_one(change.txn(), new).await?;
    change.audit("school_create", describe(&saved)).await?;
    change.commit().await?;
    Ok(saved)
}

/// Rewrites school `id` from the checked `new`, its code included; audit event `school_update`.
/// `None` when there is no such school.
pub async fn update_school(
    context: &Context,
    actor: Actor<'_>,
    id: i32,
    new: &NewSchool,
) -> Result<Option<school::Model>, SaveError> {
    let change = Change::begin(context, actor).await?;
    let Some(saved) = update_one(change.txn(), id, new).await? else {
        return Ok(None);
    };
    change.audit("school_update", describe(&saved)).await?;
    change.commit().await?;
    Ok(Some(saved))
}
