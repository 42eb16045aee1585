//! Finding schools in the table: free-text search, filters, sorting and pages, for the console's
//! list and its CSV download. A [`SchoolQuery`] holds only parsed values (a [`SchoolKind`], a
//! [`SchoolField`] to sort by), so nothing a user typed reaches SQL except as a bound value.

use entity::school;
use sea_orm::sea_query::{CaseStatement, Expr, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::fields::half_width_digits;
use super::{SchoolField, SchoolKind};

/// Rows on one page of the console's list.
pub const PAGE_SIZE: u64 = 100;

/// Which schools, in which order. The default is every school by township, then code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolQuery {
    /// Part of a name or a code; empty matches every school.
    pub text: String,
    pub township: Option<String>,
    pub kind: Option<SchoolKind>,
    pub is_central: Option<bool>,
    pub is_key_village: Option<bool>,
    pub sort: SchoolField,
    pub descending: bool,
}

impl Default for SchoolQuery {
    fn default() -> Self {
        SchoolQuery {
            text: String::new(),
            township: None,
            kind: None,
            is_central: None,
            is_key_village: None,
            sort: SchoolField::Township,
            descending: false,
        }
    }
}

impl SchoolQuery {
    /// Whether any filter narrows the list (sorting does not).
    pub fn is_filtered(&self) -> bool {
        !self.text.trim().is_empty()
            || self.township.is_some()
            || self.kind.is_some()
            || self.is_central.is_some()
            || self.is_key_village.is_some()
    }
}

/// One page of a search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolPage {
    pub schools: Vec<school::Model>,
    /// Schools matching the query on all pages.
    pub total: u64,
    /// 1-based; a page past the last is read as the last.
    pub page: u64,
    /// At least 1, even when nothing matches.
    pub pages: u64,
}

/// Every school matching `query`, in its order: what a download holds.
pub async fn search(
    db: &impl ConnectionTrait,
    query: &SchoolQuery,
) -> Result<Vec<school::Model>, DbErr> {
    select(query).all(db).await
}

/// Page `page` (1-based) of [`PAGE_SIZE`] schools matching `query`, and how many match in all.
pub async fn search_page(
    db: &impl ConnectionTrait,
    query: &SchoolQuery,
    page: u64,
) -> Result<SchoolPage, DbErr> {
    let total = select(query).count(db).await?;
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let schools = select(query)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .all(db)
        .await?;
    Ok(SchoolPage {
        schools,
        total,
        page,
        pages,
    })
}

/// The townships that have schools, each once, in the database's text order.
pub async fn townships(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    school::Entity::find()
        .select_only()
        .column(school::Column::Township)
        .distinct()
        .order_by_asc(school::Column::Township)
        .into_tuple::<String>()
        .all(db)
        .await
}

fn select(query: &SchoolQuery) -> Select<school::Entity> {
    let mut condition = Condition::all();
    let text = half_width_digits(query.text.trim());
    if !text.is_empty() {
        let pattern = format!("%{}%", escape_like(&text));
        condition = condition.add(
            Condition::any()
                .add(school::Column::Name.like(LikeExpr::new(pattern.clone()).escape('\\')))
                .add(school::Column::Code.like(LikeExpr::new(pattern).escape('\\'))),
        );
    }
    if let Some(township) = &query.township {
        condition = condition.add(school::Column::Township.eq(township.as_str()));
    }
    if let Some(kind) = query.kind {
        condition = condition.add(school::Column::Kind.eq(kind.label()));
    }
    if let Some(is_central) = query.is_central {
        condition = condition.add(school::Column::IsCentral.eq(is_central));
    }
    if let Some(is_key_village) = query.is_key_village {
        condition = condition.add(school::Column::IsKeyVillage.eq(is_key_village));
    }

    let order = if query.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    let select = school::Entity::find().filter(condition);
    let select = match query.sort {
        SchoolField::Code => select.order_by(school::Column::Code, order.clone()),
        SchoolField::Name => select.order_by(school::Column::Name, order.clone()),
        SchoolField::Township => select.order_by(school::Column::Township, order.clone()),
        SchoolField::Kind => select.order_by(kind_rank(), order.clone()),
        SchoolField::Central => select.order_by(school::Column::IsCentral, order.clone()),
        SchoolField::KeyVillage => select.order_by(school::Column::IsKeyVillage, order.clone()),
        SchoolField::Enrolment => select.order_by(school::Column::Enrolment, order.clone()),
        SchoolField::Teachers => select.order_by(school::Column::Teachers, order.clone()),
    };
    // Codes are unique, so ties always fall the same way and pages never overlap.
    select.order_by(school::Column::Code, order)
}

/// Kinds sort in the bureau's order (幼儿园 first, 教学点 last), not by their labels' code points.
fn kind_rank() -> Expr {
    let mut rank = CaseStatement::new();
    for (position, kind) in SchoolKind::ALL.into_iter().enumerate() {
        rank = rank.case(school::Column::Kind.eq(kind.label()), position as i32);
    }
    rank.finally(SchoolKind::ALL.len() as i32).into()
}

/// `50%_a\b` → `50\%\_a\\b`, for a `LIKE … ESCAPE '\'` that matches the text literally.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{Database, DatabaseConnection};

    use super::{PAGE_SIZE, SchoolQuery, escape_like, search, search_page, townships};
    use crate::schools::{NewSchool, SchoolField, SchoolKind, import, parse_csv};

    async fn county_database() -> (tempfile::TempDir, DatabaseConnection) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("dupin.sqlite3").display()
        );
        let db = Database::connect(url).await.expect("connect");
        Migrator::up(&db, None).await.expect("migrate");
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/schools/county.csv"
        );
        let schools = parse_csv(&std::fs::read(path).expect("read")).expect("parses");
        import(&db, &schools, &|_| {}).await.expect("import");
        (dir, db)
    }

    fn codes(schools: &[entity::school::Model]) -> Vec<&str> {
        schools.iter().map(|school| school.code.as_str()).collect()
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
        assert_eq!(escape_like("石门镇"), "石门镇");
    }

    #[tokio::test]
    async fn the_default_query_is_every_school_by_township_then_code() {
        let (_dir, db) = county_database().await;
        let all = search(&db, &SchoolQuery::default()).await.expect("search");
        assert_eq!(all.len(), 30);
        let keys: Vec<(&str, &str)> = all
            .iter()
            .map(|school| (school.township.as_str(), school.code.as_str()))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
    }

    #[tokio::test]
    async fn text_matches_part_of_a_name_or_a_code_and_wildcards_match_themselves() {
        let (_dir, db) = county_database().await;
        let by_name = SchoolQuery {
            text: " 中心小学 ".to_owned(),
            ..SchoolQuery::default()
        };
        let found = search(&db, &by_name).await.expect("search");
        assert!(!found.is_empty());
        assert!(found.iter().all(|school| school.name.contains("中心小学")));

        let by_code = SchoolQuery {
            text: "０００７".to_owned(),
            ..SchoolQuery::default()
        };
        assert_eq!(
            codes(&search(&db, &by_code).await.expect("search")),
            ["4521230007"]
        );

        let wildcard = SchoolQuery {
            text: "%".to_owned(),
            ..SchoolQuery::default()
        };
        assert!(search(&db, &wildcard).await.expect("search").is_empty());
    }

    #[tokio::test]
    async fn filters_combine() {
        let (_dir, db) = county_database().await;
        let query = SchoolQuery {
            township: Some("石门镇".to_owned()),
            kind: Some(SchoolKind::Primary),
            is_central: Some(true),
            ..SchoolQuery::default()
        };
        let found = search(&db, &query).await.expect("search");
        assert_eq!(codes(&found), ["4521230007"]);

        let key_villages = SchoolQuery {
            is_key_village: Some(true),
            ..SchoolQuery::default()
        };
        let found = search(&db, &key_villages).await.expect("search");
        assert!(!found.is_empty() && found.len() < 30);
        assert!(found.iter().all(|school| school.is_key_village));
    }

    #[tokio::test]
    async fn every_field_sorts_both_ways() {
        let (_dir, db) = county_database().await;
        for sort in SchoolField::ALL {
            let ascending = search(
                &db,
                &SchoolQuery {
                    sort,
                    ..SchoolQuery::default()
                },
            )
            .await
            .expect("ascending");
            let descending = search(
                &db,
                &SchoolQuery {
                    sort,
                    descending: true,
                    ..SchoolQuery::default()
                },
            )
            .await
            .expect("descending");
            let mut reversed = codes(&descending);
            reversed.reverse();
            assert_eq!(codes(&ascending), reversed, "{sort:?}");
        }

        let biggest_first = search(
            &db,
            &SchoolQuery {
                sort: SchoolField::Enrolment,
                descending: true,
                ..SchoolQuery::default()
            },
        )
        .await
        .expect("search");
        assert!(
            biggest_first
                .windows(2)
                .all(|pair| pair[0].enrolment >= pair[1].enrolment)
        );

        let by_kind = search(
            &db,
            &SchoolQuery {
                sort: SchoolField::Kind,
                ..SchoolQuery::default()
            },
        )
        .await
        .expect("search");
        let rank = |label: &str| {
            SchoolKind::ALL
                .iter()
                .position(|kind| kind.label() == label)
                .expect("a known kind")
        };
        assert!(
            by_kind
                .windows(2)
                .all(|pair| rank(&pair[0].kind) <= rank(&pair[1].kind))
        );
    }

    #[tokio::test]
    async fn pages_hold_a_hundred_schools_and_a_page_past_the_end_is_the_last() {
        let (_dir, db) = county_database().await;
        let template = NewSchool::from_fields(&crate::schools::SchoolFields {
            code: "x",
            name: "新校",
            township: "新镇",
            kind: "小学",
            central: "",
            key_village: "",
            enrolment: "1",
            teachers: "1",
        })
        .expect("valid");
        let more: Vec<NewSchool> = (0..200)
            .map(|n| NewSchool {
                code: format!("46{n:08}"),
                ..template.clone()
            })
            .collect();
        import(&db, &more, &|_| {}).await.expect("import");

        let query = SchoolQuery::default();
        let first = search_page(&db, &query, 1).await.expect("page 1");
        assert_eq!((first.total, first.pages), (230, 3));
        assert_eq!(first.schools.len() as u64, PAGE_SIZE);
        let last = search_page(&db, &query, 99).await.expect("page 99");
        assert_eq!(last.page, 3);
        assert_eq!(last.schools.len(), 30);
        let zero = search_page(&db, &query, 0).await.expect("page 0");
        assert_eq!(zero.page, 1);

        let nothing = SchoolQuery {
            text: "没有这所学校".to_owned(),
            ..SchoolQuery::default()
        };
        let empty = search_page(&db, &nothing, 1).await.expect("empty");
        assert_eq!((empty.total, empty.page, empty.pages), (0, 1, 1));
    }

    #[tokio::test]
    async fn townships_are_listed_once_each() {
        let (_dir, db) = county_database().await;
        let found = townships(&db).await.expect("townships");
        assert_eq!(found.len(), 6);
        let mut sorted = found.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(found, sorted);
    }
}
