//! What a batch's statements need of the connection they run on, and the two connections that
//! give it: a sea-orm connection or transaction ([`Pooled`]: PostgreSQL, and the tools that store
//! answers through `writer::commit`), and the writer's own SQLite connection
//! (`super::direct::Direct`).
//!
//! The statements whose rows vary most take their rows as [`Rows`]: one SQL text with a row's
//! columns as `{0}`, `{1}`, … and its source as `{rows}`. A pooled connection sends all the rows
//! at once as one JSON array parameter — the same SQL text whatever their number, so it stays in
//! the connection's statement cache; the direct connection, which hands nothing to another
//! thread, steps one prepared statement once for each row.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, QueryResult, Statement, TryGetable, Value};
use serde::ser::{SerializeSeq, Serializer};

/// A connection a batch of answers is stored on, inside its transaction.
pub(super) trait BatchDb {
    fn backend(&self) -> DatabaseBackend;

    /// Runs `rows`' statement for all its rows and returns what it returns.
    async fn fetch_rows<T: Fetched>(&self, rows: &Rows<'_>) -> Result<Vec<T>, DbErr>;

    /// Runs `rows`' statement for all its rows.
    async fn apply_rows(&self, rows: &Rows<'_>) -> Result<(), DbErr>;

    /// Runs `rows`' `INSERT … ON CONFLICT DO NOTHING RETURNING id, …` for all its rows, the
    /// column `key` of each row a text that tells them apart, and returns the id and key of each
    /// row it inserted.
    async fn insert_rows(&self, rows: &Rows<'_>, key: usize) -> Result<Vec<(i64, String)>, DbErr>;

    /// Runs `rows`' `DELETE … RETURNING` for all its rows, the column `key` of each row the
    /// number it returns, and returns that number for each row that deleted something.
    async fn delete_rows(&self, rows: &Rows<'_>, key: usize) -> Result<Vec<i64>, DbErr>;

    /// The rows of a query built for this backend.
    async fn fetch<T: Fetched>(&self, statement: Statement) -> Result<Vec<T>, DbErr>;

    /// Runs a statement built for this backend and says how many rows it changed.
    async fn execute(&self, statement: Statement) -> Result<u64, DbErr>;
}

/// A row one of the writer's statements returns, read alike from either connection.
pub(super) trait Fetched: Sized {
    fn pooled(row: &QueryResult) -> Result<Self, DbErr>;
    fn direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

impl Fetched for String {
    fn pooled(row: &QueryResult) -> Result<Self, DbErr> {
        row.try_get_by_index(0)
    }
    fn direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        row.get(0)
    }
}

impl Fetched for i64 {
    fn pooled(row: &QueryResult) -> Result<Self, DbErr> {
        row.try_get_by_index(0)
    }
    fn direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        row.get(0)
    }
}

impl<A, B> Fetched for (A, B)
where
    A: TryGetable + rusqlite::types::FromSql,
    B: TryGetable + rusqlite::types::FromSql,
{
    fn pooled(row: &QueryResult) -> Result<Self, DbErr> {
        Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?))
    }
    fn direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok((row.get(0)?, row.get(1)?))
    }
}

/// One value of a row, borrowed from the batch where it can be.
#[derive(Clone, Copy, Debug, serde::Serialize)]
#[serde(untagged)]
pub(super) enum Cell<'a> {
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(&'a str),
    Null,
}

impl From<i32> for Cell<'_> {
    fn from(number: i32) -> Self {
        Cell::Int(i64::from(number))
    }
}

impl From<i64> for Cell<'_> {
    fn from(number: i64) -> Self {
        Cell::Int(number)
    }
}

impl From<f64> for Cell<'_> {
    fn from(number: f64) -> Self {
        Cell::Real(number)
    }
}

impl From<bool> for Cell<'_> {
    fn from(flag: bool) -> Self {
        Cell::Bool(flag)
    }
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(text: &'a str) -> Self {
        Cell::Text(text)
    }
}

impl<'a, T: Into<Cell<'a>>> From<Option<T>> for Cell<'a> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Cell::Null, Into::into)
    }
}

impl rusqlite::ToSql for Cell<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match *self {
            Cell::Int(number) => ToSqlOutput::Borrowed(ValueRef::Integer(number)),
            Cell::Real(number) => ToSqlOutput::Borrowed(ValueRef::Real(number)),
            Cell::Bool(flag) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(flag))),
            Cell::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Cell::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// A statement and its rows: `sql` names the rows' source `{rows}` and a row's columns `{0}`,
/// `{1}`, …, of the PostgreSQL types `types` (one per column).
pub(super) struct Rows<'a> {
    pub sql: &'static str,
    pub types: &'static [&'static str],
    /// The statement for one row, where it is simpler than the one `one_row_sql` derives.
    one_row: Option<&'static str>,
    cells: Vec<Cell<'a>>,
}

impl<'a> Rows<'a> {
    pub fn new(sql: &'static str, types: &'static [&'static str]) -> Rows<'a> {
        Rows {
            sql,
            types,
            one_row: None,
            cells: Vec::new(),
        }
    }

    /// Gives the statement's one-row form on SQLite (its columns `?1`, `?2`, …) instead of the
    /// one [`Rows::one_row_sql`] derives. A row's subquery, as in `WHERE id IN (SELECT ?1)` or
    /// `UPDATE … FROM (SELECT ?1 AS id, …)`, has SQLite open two temporary tables every time it
    /// runs (`OpenEphemeral`: 39 steps of its program against 10 for `WHERE id = ?1`).
    pub fn with_one_row(mut self, sql: &'static str) -> Rows<'a> {
        self.one_row = Some(sql);
        self
    }

    /// Adds a row; it must have one cell per type.
    pub fn push<const N: usize>(&mut self, row: [Cell<'a>; N]) {
        debug_assert_eq!(N, self.types.len(), "{}", self.sql);
        self.cells.extend(row);
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The text of column `column` of `row` (one of [`Rows::each`]), if it is a text.
    pub fn text<'r>(row: &'r [Cell<'a>], column: usize) -> Option<&'a str> {
        match row.get(column) {
            Some(Cell::Text(text)) => Some(text),
            _ => None,
        }
    }

    /// The rows, a slice of cells each.
    pub fn each(&self) -> std::slice::Chunks<'_, Cell<'a>> {
        self.cells.chunks(self.types.len().max(1))
    }

    /// The statement for one row, its columns bound as `?1`, `?2`, … (SQLite).
    ///
    /// An `INSERT … SELECT` of exactly the row's columns becomes `INSERT … VALUES`: SQLite
    /// takes an `INSERT … SELECT` as one that may write many rows, and gives every step of it a
    /// statement journal (the pages it changes copied first, to undo just that statement if a
    /// later row fails), for rows that are one each. (With `Direct::insert_rows`, which leaves
    /// out `RETURNING` for the same reason, statement journals went from ≈ 8 % of the writer
    /// thread's profile to under 1 %.)
    pub fn one_row_sql(&self) -> String {
        if let Some(sql) = self.one_row {
            return sql.to_owned();
        }
        let columns: Vec<String> = (0..self.types.len())
            .map(|index| format!("{{{index}}}"))
            .collect();
        let select = format!(" SELECT {} FROM {{rows}}", columns.join(", "));
        let mut text = if self.sql.starts_with("INSERT ") && self.sql.contains(&select) {
            self.sql
                .replacen(&select, &format!(" VALUES ({})", columns.join(", ")), 1)
        } else {
            // `WHERE true` lets SQLite tell an upsert's ON CONFLICT from a join's ON.
            self.sql.replace(" FROM {rows}", " WHERE true")
        };
        for index in 0..self.types.len() {
            text = text.replace(&format!("{{{index}}}"), &format!("?{}", index + 1));
        }
        text
    }

    /// The statement for all the rows at once, as one JSON array parameter (`jsonb_each` on
    /// SQLite, `jsonb_array_elements` on PostgreSQL, where the rows come in the array's order,
    /// so that row locks are taken in the order the caller sorted them).
    pub fn json_statement(&self, backend: DatabaseBackend) -> Result<Statement, DbErr> {
        let json = serde_json::to_string(&JsonRows(self))
            .map_err(|error| DbErr::Custom(error.to_string()))?;
        let postgres = backend == DatabaseBackend::Postgres;
        let mut text = self.sql.replace(
            "{rows}",
            if postgres {
                "jsonb_array_elements($1::jsonb) WITH ORDINALITY AS input(item, place)"
            } else {
                // Read as JSONB, so that each row's columns are taken from it without turning
                // the row back into text and parsing it again. (`WHERE true`: as above.)
                "jsonb_each(?) AS input WHERE true"
            },
        );
        if postgres && text.starts_with("INSERT") {
            // Keep the array's order explicitly before the upsert takes its locks.
            text = text.replacen(" ON CONFLICT", " ORDER BY input.place ON CONFLICT", 1);
        }
        for (index, column_type) in self.types.iter().enumerate() {
            let column = if postgres {
                format!("(input.item->>{index})::{column_type}")
            } else {
                format!("(input.value ->> {index})")
            };
            text = text.replace(&format!("{{{index}}}"), &column);
        }
        Ok(Statement::from_sql_and_values(
            backend,
            text,
            [Value::from(json)],
        ))
    }
}

/// The rows as a JSON array of arrays.
struct JsonRows<'r, 'a>(&'r Rows<'a>);

impl serde::Serialize for JsonRows<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut rows = serializer.serialize_seq(Some(self.0.each().len()))?;
        for row in self.0.each() {
            rows.serialize_element(row)?;
        }
        rows.end()
    }
}

/// A sea-orm connection or transaction: PostgreSQL's writer, and `writer::commit`.
pub(super) struct Pooled<'c, C>(pub &'c C);

impl<C: ConnectionTrait> BatchDb for Pooled<'_, C> {
    fn backend(&self) -> DatabaseBackend {
        self.0.get_database_backend()
    }

    async fn fetch_rows<T: Fetched>(&self, rows: &Rows<'_>) -> Result<Vec<T>, DbErr> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        self.fetch(rows.json_statement(self.backend())?).await
    }

    async fn apply_rows(&self, rows: &Rows<'_>) -> Result<(), DbErr> {
        if !rows.is_empty() {
            self.0
                .execute_raw(rows.json_statement(self.backend())?)
                .await?;
        }
        Ok(())
    }

    async fn insert_rows(&self, rows: &Rows<'_>, _key: usize) -> Result<Vec<(i64, String)>, DbErr> {
        self.fetch_rows(rows).await
    }

    async fn delete_rows(&self, rows: &Rows<'_>, _key: usize) -> Result<Vec<i64>, DbErr> {
        self.fetch_rows(rows).await
    }

    async fn fetch<T: Fetched>(&self, statement: Statement) -> Result<Vec<T>, DbErr> {
        self.0
            .query_all_raw(statement)
            .await?
            .iter()
            .map(T::pooled)
            .collect()
    }

    async fn execute(&self, statement: Statement) -> Result<u64, DbErr> {
        Ok(self.0.execute_raw(statement).await?.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tallies<'a>() -> Rows<'a> {
        let mut rows = Rows::new(
            "INSERT INTO tally (campaign_id, question_key, count) SELECT {0}, {1}, {2} \
             FROM {rows} ON CONFLICT (campaign_id, question_key) DO UPDATE \
             SET count = tally.count + excluded.count",
            &["int4", "text", "int8"],
        );
        rows.push([1.into(), "q1".into(), 2_i64.into()]);
        rows.push([1.into(), "q\"2".into(), Cell::Null]);
        rows
    }

    #[test]
    fn one_row_binds_each_column_in_place() {
        // An insert of the row's columns takes them as VALUES (no statement journal)…
        assert_eq!(
            tallies().one_row_sql(),
            "INSERT INTO tally (campaign_id, question_key, count) VALUES (?1, ?2, ?3) \
             ON CONFLICT (campaign_id, question_key) DO UPDATE \
             SET count = tally.count + excluded.count"
        );
        // …any other source of rows stays a SELECT of one row.
        let mut counts = Rows::new(
            "UPDATE campaign_link SET response_count = campaign_link.response_count + counts.added \
             FROM (SELECT {0} AS id, {1} AS added FROM {rows}) AS counts \
             WHERE campaign_link.id = counts.id",
            &["int4", "int8"],
        );
        counts.push([1.into(), 2_i64.into()]);
        assert_eq!(
            counts.one_row_sql(),
            "UPDATE campaign_link SET response_count = campaign_link.response_count + counts.added \
             FROM (SELECT ?1 AS id, ?2 AS added WHERE true) AS counts \
             WHERE campaign_link.id = counts.id"
        );
    }

    #[test]
    fn all_rows_go_as_one_json_array_in_their_order() {
        let statement = tallies()
            .json_statement(DatabaseBackend::Postgres)
            .expect("the statement is built");
        assert!(
            statement.sql.contains(
                "(input.item->>1)::text, (input.item->>2)::int8 FROM jsonb_array_elements"
            ),
            "{}",
            statement.sql
        );
        assert!(statement.sql.contains("ORDER BY input.place ON CONFLICT"));
        let values = statement.values.expect("one parameter").0;
        assert_eq!(
            values,
            [Value::from(r#"[[1,"q1",2],[1,"q\"2",null]]"#.to_owned())]
        );
    }
}
