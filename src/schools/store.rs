//! The `school` table: importing a parsed list in one transaction, and the reads the rest of dupin
//! asks of it. Everything here takes parsed [`NewSchool`]s or codes; it never sees a CSV line.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::school;
use sea_orm::ActiveValue::{NotSet, Set, Unchanged};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr,
};

use super::NewSchool;

/// Rows per `INSERT`. Ten bound values a row makes 5,000 parameters a statement, well inside
/// SQLite's limit of 32,766 and PostgreSQL's of 65,535.
const ROWS_PER_INSERT: usize = 500;

/// Codes per `IN (…)` list in [`find_by_codes`], for the same limits.
const CODES_PER_QUERY: usize = 500;

/// What an [`import`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Schools whose code was not in the table before.
    pub created: usize,
    /// Schools whose code was already there: every column rewritten from the file, `updated_at`
    /// set, `created_at` and `id` kept (so campaign links and responses still point at them).
    pub updated: usize,
}

/// Writes `schools` into the table, inside the caller's transaction (see
/// [`super::actions::import_schools`]): new codes are inserted, known codes are updated in place. Schools in the table but not in the list are left alone; an import adds
/// and corrects, it never deletes.
///
/// `progress` is called with the number of schools written so far, after each batch of inserts
/// and each update, so a caller can draw a progress bar. On any error nothing is written.
///
/// The codes in `schools` must be unique, as [`super::parse_csv`] guarantees; a repeated new code
/// fails on the table's unique index and rolls the whole import back.
pub async fn import(
    txn: &impl ConnectionTrait,
    schools: &[NewSchool],
    progress: &(dyn Fn(usize) + Sync),
) -> Result<ImportSummary, DbErr> {
    // One read of the codes already known decides insert or update for every line.
    let existing: HashMap<String, i32> = school::Entity::find()
        .select_only()
        .column(school::Column::Code)
        .column(school::Column::Id)
        .into_tuple::<(String, i32)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();

    let mut to_create = Vec::new();
    let mut to_update = Vec::new();
    for school in schools {
        match existing.get(&school.code) {
            Some(&id) => to_update.push((id, school)),
            None => to_create.push(school),
        }
    }

    let now = Utc::now();
    let mut done = 0;
    for batch in to_create.chunks(ROWS_PER_INSERT) {
        school::Entity::insert_many(batch.iter().map(|school| new_row(school, now)))
            .exec_without_returning(txn)
            .await?;
        done += batch.len();
        progress(done);
    }
    for &(id, school) in &to_update {
        updated_row(id, school, now)
            .update_without_returning(txn)
            .await?;
        done += 1;
        progress(done);
    }
    Ok(ImportSummary {
        created: to_create.len(),
        updated: to_update.len(),
    })
}

fn new_row(school: &NewSchool, now: DateTime<Utc>) -> school::ActiveModel {
    school::ActiveModel {
        id: NotSet,
        code: Set(school.code.clone()),
        name: Set(school.name.clone()),
        township: Set(school.township.clone()),
        kind: Set(school.kind.label().to_owned()),
        is_central: Set(school.is_central),
        is_key_village: Set(school.is_key_village),
        enrolment: Set(school.enrolment),
        teachers: Set(school.teachers),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

fn updated_row(id: i32, school: &NewSchool, now: DateTime<Utc>) -> school::ActiveModel {
    school::ActiveModel {
        id: Unchanged(id),
        code: Unchanged(school.code.clone()),
        created_at: NotSet,
        ..new_row(school, now)
    }
}

/// Why a school from the console's form was not stored.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// Another school already has this code; `holder` is its name when it could be read.
    #[error("学校代码 {code} 已被{}使用，请核对代码", holder_phrase(.holder))]
    DuplicateCode {
        code: String,
        holder: Option<String>,
    },
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn holder_phrase(holder: &Option<String>) -> String {
    match holder {
        Some(name) => format!("“{name}”"),
        None => "另一所学校".to_owned(),
    }
}

/// The school with this id.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<school::Model>, DbErr> {
    school::Entity::find_by_id(id).one(db).await
}

/// Adds one school. A code another school has is refused with [`SaveError::DuplicateCode`],
/// whether it is seen before the insert or by the table's unique index during it.
pub async fn create_one(
    db: &impl ConnectionTrait,
    school: &NewSchool,
) -> Result<school::Model, SaveError> {
    refuse_taken_code(db, &school.code, None).await?;
    match new_row(school, Utc::now()).insert(db).await {
        Ok(created) => Ok(created),
        Err(error) => Err(duplicate_or_db(db, &school.code, error).await),
    }
}

/// Rewrites every value of the school `id` from `school`, its code included: a code typed wrong
/// may be corrected, and links and answers follow the id, not the code. `None` when there is no
/// such school.
pub async fn update_one(
    db: &impl ConnectionTrait,
    id: i32,
    school: &NewSchool,
) -> Result<Option<school::Model>, SaveError> {
    if find(db, id).await?.is_none() {
        return Ok(None);
    }
    refuse_taken_code(db, &school.code, Some(id)).await?;
    let row = school::ActiveModel {
        id: Unchanged(id),
        created_at: NotSet,
        ..new_row(school, Utc::now())
    };
    match row.update(db).await {
        Ok(updated) => Ok(Some(updated)),
        Err(error) => Err(duplicate_or_db(db, &school.code, error).await),
    }
}

/// Refuses `code` when a school other than `except` has it.
async fn refuse_taken_code(
    db: &impl ConnectionTrait,
    code: &str,
    except: Option<i32>,
) -> Result<(), SaveError> {
    let holder = school::Entity::find()
        .filter(school::Column::Code.eq(code))
        .one(db)
        .await?;
    match holder {
        Some(holder) if Some(holder.id) != except => Err(SaveError::DuplicateCode {
            code: code.to_owned(),
            holder: Some(holder.name),
        }),
        _ => Ok(()),
    }
}

/// A write that failed on the unique index of `code` was beaten to it by another writer; any
/// other failure is the database's.
async fn duplicate_or_db(db: &impl ConnectionTrait, code: &str, error: DbErr) -> SaveError {
    if !matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        return SaveError::Db(error);
    }
    let holder = school::Entity::find()
        .filter(school::Column::Code.eq(code))
        .one(db)
        .await
        .ok()
        .flatten()
        .map(|holder| holder.name);
    SaveError::DuplicateCode {
        code: code.to_owned(),
        holder,
    }
}

/// Every school, ordered by township and then code, as the database orders text (by code
/// point on SQLite; by the database's collation on PostgreSQL, not by pinyin).
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<school::Model>, DbErr> {
    school::Entity::find()
        .order_by_asc(school::Column::Township)
        .order_by_asc(school::Column::Code)
        .all(db)
        .await
}

/// The schools whose code is among `codes`, each once, ordered by township and then code (by
/// code point). Codes not in the table are silently absent: ask [`codes_not_found`] for them.
pub async fn find_by_codes(
    db: &impl ConnectionTrait,
    codes: &[String],
) -> Result<Vec<school::Model>, DbErr> {
    let mut found = Vec::new();
    for batch in codes.chunks(CODES_PER_QUERY) {
        let rows = school::Entity::find()
            .filter(school::Column::Code.is_in(batch.iter().map(String::as_str)))
            .all(db)
            .await?;
        found.extend(rows);
    }
    found.sort_by(|a, b| (&a.township, &a.code).cmp(&(&b.township, &b.code)));
    // A code asked for twice, in two batches, comes back twice; codes are unique, so the copies
    // are neighbours after sorting.
    found.dedup_by_key(|school| school.id);
    Ok(found)
}

/// The codes in `requested` that no school in `found` has, in the order asked and each once;
/// for telling a user which codes of a list [`find_by_codes`] did not know.
pub fn codes_not_found(requested: &[String], found: &[school::Model]) -> Vec<String> {
    let found: HashSet<&str> = found.iter().map(|school| school.code.as_str()).collect();
    let mut reported = HashSet::new();
    requested
        .iter()
        .filter(|code| !found.contains(code.as_str()) && reported.insert(code.as_str()))
        .cloned()
        .collect()
}

/// How many schools the table holds.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    school::Entity::find().count(db).await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ActiveModelTrait, Database, DatabaseConnection};

    use super::{
        ImportSummary, SaveError, codes_not_found, count, create_one, duplicate_or_db,
        find_by_codes, import, list, new_row, update_one,
    };
    use crate::schools::{NewSchool, SchoolKind, parse_csv};

    /// A migrated SQLite database in a file of its own, gone when the `TempDir` is dropped. A
    /// file, not `sqlite::memory:`, because every pooled connection to memory is a new database.
    async fn fresh_database() -> (tempfile::TempDir, DatabaseConnection) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("dupin.sqlite3").display()
        );
        let db = Database::connect(url).await.expect("connect");
        Migrator::up(&db, None).await.expect("migrate");
        (dir, db)
    }

    fn county() -> Vec<NewSchool> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/schools/county.csv"
        );
        parse_csv(&std::fs::read(path).expect("read county.csv")).expect("county.csv parses")
    }

    fn no_progress(_: usize) {}

    #[tokio::test]
    async fn a_first_import_creates_every_school_and_reports_progress() {
        let (_dir, db) = fresh_database().await;
        let schools = county();
        let last_reported = AtomicUsize::new(0);
        let progress = |done| {
            assert!(done > last_reported.load(Ordering::SeqCst));
            last_reported.store(done, Ordering::SeqCst);
        };

        let summary = import(&db, &schools, &progress).await.expect("import");

        assert_eq!(
            summary,
            ImportSummary {
                created: 30,
                updated: 0
            }
        );
        assert_eq!(last_reported.load(Ordering::SeqCst), 30);
        assert_eq!(count(&db).await.expect("count"), 30);
        let stored = list(&db).await.expect("list");
        let central = stored
            .iter()
            .find(|school| school.code == "4521230007")
            .expect("石门镇中心小学 stored");
        assert_eq!(central.name, "石门镇中心小学");
        assert_eq!(central.kind, SchoolKind::Primary.label());
        assert!(central.is_central);
        assert_eq!(central.created_at, central.updated_at);
    }

    #[tokio::test]
    async fn a_second_import_updates_known_codes_and_keeps_their_creation_time() {
        let (_dir, db) = fresh_database().await;
        let mut schools = county();
        import(&db, &schools[..20], &no_progress)
            .await
            .expect("first import");
        let before = list(&db).await.expect("list");

        schools[6].enrolment = 700;
        schools[6].name = "石门镇中心小学（更名）".to_owned();
        let summary = import(&db, &schools, &no_progress)
            .await
            .expect("second import");

        assert_eq!(
            summary,
            ImportSummary {
                created: 10,
                updated: 20
            }
        );
        assert_eq!(count(&db).await.expect("count"), 30);
        let after = list(&db).await.expect("list");
        let old = before
            .iter()
            .find(|school| school.code == schools[6].code)
            .expect("was there");
        let new = after
            .iter()
            .find(|school| school.code == schools[6].code)
            .expect("still there");
        assert_eq!(new.id, old.id);
        assert_eq!(new.created_at, old.created_at);
        assert!(new.updated_at > old.updated_at);
        assert_eq!(new.enrolment, 700);
        assert_eq!(new.name, "石门镇中心小学（更名）");
    }

    #[tokio::test]
    async fn a_long_list_is_inserted_in_batches_on_any_task() {
        fn assert_send<T: Send>(_: &T) {}
        let (_dir, db) = fresh_database().await;
        let template = county().remove(0);
        let schools: Vec<NewSchool> = (0..1201)
            .map(|n| NewSchool {
                code: format!("45212{n:05}"),
                ..template.clone()
            })
            .collect();
        let reported = std::sync::Mutex::new(Vec::new());
        let progress = |done| reported.lock().expect("not poisoned").push(done);

        let importing = import(&db, &schools, &progress);
        // A web upload may run the import on a spawned task.
        assert_send(&importing);
        let summary = importing.await.expect("import");

        assert_eq!(summary.created, 1201);
        assert_eq!(
            reported.into_inner().expect("not poisoned"),
            [500, 1000, 1201]
        );
        assert_eq!(count(&db).await.expect("count"), 1201);
    }

    #[tokio::test]
    async fn a_failing_import_writes_nothing() {
        let (_dir, db) = fresh_database().await;
        let mut schools = county();
        // Only a caller bypassing parse_csv can do this; the unique index catches it.
        schools[29].code = schools[0].code.clone();

        let result = import(&db, &schools, &no_progress).await;

        assert!(result.is_err());
        assert_eq!(count(&db).await.expect("count"), 0);
    }

    #[tokio::test]
    async fn the_list_is_ordered_by_township_then_code() {
        let (_dir, db) = fresh_database().await;
        import(&db, &county(), &no_progress).await.expect("import");

        let stored = list(&db).await.expect("list");

        let keys: Vec<(&str, &str)> = stored
            .iter()
            .map(|school| (school.township.as_str(), school.code.as_str()))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
    }

    #[tokio::test]
    async fn codes_are_found_or_reported_missing() {
        let (_dir, db) = fresh_database().await;
        import(&db, &county(), &no_progress).await.expect("import");
        let requested: Vec<String> = ["4521230012", "4521239999", "4521230001", "4521230012"]
            .map(str::to_owned)
            .to_vec();

        let found = find_by_codes(&db, &requested).await.expect("find");

        let codes: Vec<&str> = found.iter().map(|school| school.code.as_str()).collect();
        assert_eq!(codes, ["4521230012", "4521230001"]);
        assert_eq!(codes_not_found(&requested, &found), ["4521239999"]);
    }

    #[tokio::test]
    async fn one_school_is_created_and_updated_and_a_taken_code_is_refused() {
        let (_dir, db) = fresh_database().await;
        import(&db, &county(), &no_progress).await.expect("import");
        let mut school = county().remove(6);
        school.code = "4521230099".to_owned();

        let created = create_one(&db, &school).await.expect("created");
        assert_eq!(created.code, "4521230099");
        assert_eq!(count(&db).await.expect("count"), 31);

        school.enrolment = 800;
        school.code = "4521230098".to_owned();
        let updated = update_one(&db, created.id, &school)
            .await
            .expect("updated")
            .expect("found");
        assert_eq!((updated.id, updated.enrolment), (created.id, 800));
        assert_eq!(updated.code, "4521230098");
        assert_eq!(updated.created_at, created.created_at);
        assert!(
            update_one(&db, 99_999, &school)
                .await
                .expect("db")
                .is_none()
        );

        school.code = "4521230001".to_owned();
        for result in [
            create_one(&db, &school).await.map(Some),
            update_one(&db, created.id, &school).await,
        ] {
            match result {
                Err(SaveError::DuplicateCode { code, holder }) => {
                    assert_eq!(code, "4521230001");
                    assert_eq!(holder.as_deref(), Some("青溪县第一中学"));
                }
                other => panic!("expected a duplicate code, got {other:?}"),
            }
        }
        assert_eq!(count(&db).await.expect("count"), 31);
    }

    #[tokio::test]
    async fn a_code_taken_between_the_check_and_the_write_is_still_a_duplicate() {
        let (_dir, db) = fresh_database().await;
        import(&db, &county(), &no_progress).await.expect("import");
        let school = county().remove(0);
        let error = new_row(&school, chrono::Utc::now())
            .insert(&db)
            .await
            .expect_err("the unique index refuses it");

        let error = duplicate_or_db(&db, &school.code, error).await;

        assert_eq!(
            error.to_string(),
            "学校代码 4521230001 已被“青溪县第一中学”使用，请核对代码"
        );
    }

    #[tokio::test]
    async fn an_empty_table_counts_zero_and_finds_nothing() {
        let (_dir, db) = fresh_database().await;
        assert_eq!(count(&db).await.expect("count"), 0);
        assert!(list(&db).await.expect("list").is_empty());
        assert!(find_by_codes(&db, &[]).await.expect("find").is_empty());
    }
}
