//! A campaign's exports as a supervisor downloads them from the console and as the command line
//! writes them: the answers one row each, labels or codes, formulas neutralised, excluded answers
//! left out; the counts per school and option equal to the running tallies; XLSX that is a ZIP.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use awc::http::StatusCode;
use dupin::accounts::Role;
use dupin::survey::{QuestionKind, Survey};
use entity::tally;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::helpers::{TestApp, answers_for, catalog_survey, spawn_app};

const DUPIN: &str = env!("CARGO_BIN_EXE_dupin");
const FORMULA: &str = "=cmd|' /C calc'!A0";
const BOM: char = '\u{feff}';

/// The fixed columns before the questions.
const SCHOOL_COLUMNS: [&str; 6] = [
    "序号",
    "学校代码",
    "学校名称",
    "乡镇",
    "提交时间",
    "用时（秒）",
];

/// A campaign of the parents' test with four answers at the first school and one at the second;
/// the last answer at the first school types a formula into the free-text question.
async fn campaign_with_answers(app: &TestApp) -> (i32, Survey) {
    let campaign = app.create_campaign("parents", None, None).await;
    let survey = catalog_survey("parents");
    let links = app.links(campaign).await;
    for token in [
        &links[0].token,
        &links[0].token,
        &links[0].token,
        &links[1].token,
    ] {
        let page = app.phone().answer(token, &survey).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    let text_question = first_text_question(&survey);
    let mut phone = app.phone();
    let form = phone.get(&format!("/s/{}", links[0].token)).await;
    let mut fields = vec![
        ("_key".to_owned(), form.hidden("_key").expect("a key")),
        ("_t".to_owned(), form.hidden("_t").expect("a time")),
    ];
    fields.extend(answers_for(&survey).into_iter().map(|(name, value)| {
        if name == text_question {
            (name, FORMULA.to_owned())
        } else {
            (name, value)
        }
    }));
    let page = phone
        .post_form(&format!("/s/{}", links[0].token), &fields)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    (campaign, survey)
}

fn first_text_question(survey: &Survey) -> String {
    survey
        .questions()
        .find(|question| {
            matches!(
                question.kind,
                QuestionKind::Text { .. } | QuestionKind::LongText { .. }
            ) && question.show_if.is_none()
        })
        .expect("the parents' test has a free-text question")
        .id
        .clone()
}

fn first_single_question(survey: &Survey) -> (usize, String, String) {
    let (index, question) = survey
        .questions()
        .enumerate()
        .find(|(_, question)| {
            matches!(question.kind, QuestionKind::Single { .. }) && question.show_if.is_none()
        })
        .expect("a single-choice question");
    let QuestionKind::Single { options } = &question.kind else {
        unreachable!("found as single")
    };
    (index, options[0].code.clone(), options[0].label.clone())
}

/// Reads a CSV body: it must start with the BOM.
fn parse_csv(body: &str) -> Vec<Vec<String>> {
    let without_bom = body.strip_prefix(BOM).unwrap_or_else(|| {
        panic!(
            "the CSV starts with the BOM: {:?}",
            &body[..20.min(body.len())]
        )
    });
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(without_bom.as_bytes())
        .records()
        .map(|record| {
            record
                .expect("a CSV record")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

fn expected_header(survey: &Survey) -> Vec<String> {
    let mut header: Vec<String> = SCHOOL_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    for question in survey.questions() {
        match &question.kind {
            QuestionKind::Matrix { rows, .. } => header.extend(
                rows.iter()
                    .map(|row| format!("{} · {}", question.text, row.text)),
            ),
            _ => header.push(question.text.clone()),
        }
    }
    header
}

/// Runs `dupin export` against the test's database and returns its exit code and stdout.
async fn cli_export(app: &TestApp, args: &[&str]) -> (Option<i32>, Vec<u8>, String) {
    let mut command = Command::new(DUPIN);
    command
        .arg("export")
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("DUPIN_SURVEYS", &app.surveys_dir)
        .env_remove("DUPIN_LOG_FORMAT")
        .stdin(Stdio::null());
    let output = crate::helpers::output_of(command).await;
    (
        output.status.code(),
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[actix_web::test]
async fn the_answers_csv_has_one_row_per_included_answer_with_labels() {
    let app = spawn_app().await;
    let (campaign, survey) = campaign_with_answers(&app).await;
    let excluded = app
        .count(&format!(
            "SELECT MIN(id) FROM response WHERE campaign_id = {campaign}"
        ))
        .await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE response SET excluded = TRUE WHERE id = {excluded}"
        ))
        .await
        .expect("exclude one answer");
    let mut supervisor = app.signed_in(Role::Supervisor).await;

    let page = supervisor
        .get(&format!("/console/campaigns/{campaign}/export.csv"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.content_type.starts_with("text/csv"),
        "{}",
        page.content_type
    );
    let rows = parse_csv(&page.body);
    assert_eq!(rows[0], expected_header(&survey));
    assert_eq!(rows.len(), 1 + 4, "four answers after one was excluded");
    let ids: Vec<&str> = rows[1..].iter().map(|row| row[0].as_str()).collect();
    assert!(!ids.contains(&excluded.to_string().as_str()), "{ids:?}");

    let links = app.links(campaign).await;
    assert_eq!(
        rows[1..]
            .iter()
            .filter(|row| row[1] == links[0].code)
            .count(),
        3
    );
    assert!(
        rows[1..]
            .iter()
            .all(|row| !row[2].is_empty() && !row[3].is_empty())
    );

    let (index, code, label) = first_single_question(&survey);
    let column = SCHOOL_COLUMNS.len() + index;
    assert!(
        rows[1..].iter().all(|row| row[column] == label),
        "labels, not codes"
    );

    let text_column = SCHOOL_COLUMNS.len()
        + survey
            .questions()
            .position(|question| question.id == first_text_question(&survey))
            .expect("position");
    let texts: Vec<&str> = rows[1..]
        .iter()
        .map(|row| row[text_column].as_str())
        .collect();
    assert!(texts.contains(&format!("'{FORMULA}").as_str()), "{texts:?}");
    assert!(!texts.contains(&FORMULA), "{texts:?}");

    let with_codes = supervisor
        .get(&format!("/console/campaigns/{campaign}/export.csv?codes=1"))
        .await;
    let rows = parse_csv(&with_codes.body);
    assert!(
        rows[1..].iter().all(|row| row[column] == code),
        "codes with ?codes=1"
    );
}

#[actix_web::test]
async fn the_aggregates_equal_the_running_tallies() {
    let app = spawn_app().await;
    let (campaign, survey) = campaign_with_answers(&app).await;
    let mut supervisor = app.signed_in(Role::Supervisor).await;

    let page = supervisor
        .get(&format!(
            "/console/campaigns/{campaign}/export.csv?what=aggregates"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let rows = parse_csv(&page.body);
    assert_eq!(
        rows[0],
        [
            "学校代码",
            "学校名称",
            "乡镇",
            "题目编号",
            "题目",
            "选项代码",
            "选项",
            "人次"
        ]
    );
    let codes: BTreeMap<i32, String> = dupin::schools::list(&app.db)
        .await
        .expect("schools")
        .into_iter()
        .map(|school| (school.id, school.code))
        .collect();
    let tallies: BTreeMap<(String, String, String), i64> = tally::Entity::find()
        .filter(tally::Column::CampaignId.eq(campaign))
        .all(&app.db)
        .await
        .expect("tallies")
        .into_iter()
        .map(|count| {
            (
                (
                    codes[&count.school_id].clone(),
                    count.question_key,
                    count.option_key,
                ),
                count.count,
            )
        })
        .collect();
    let exported: BTreeMap<(String, String, String), i64> = rows[1..]
        .iter()
        .map(|row| {
            (
                (row[0].clone(), row[3].clone(), row[5].clone()),
                row[7].parse().expect("a count"),
            )
        })
        .collect();
    assert!(!tallies.is_empty());
    assert_eq!(exported, tallies);
    assert_eq!(rows.len() - 1, tallies.len(), "one row per tally");

    let (index, _, label) = first_single_question(&survey);
    let question = survey.questions().nth(index).expect("question");
    let row = rows[1..]
        .iter()
        .find(|row| row[3] == question.id)
        .expect("a row of the single-choice question");
    assert_eq!(row[4], question.text);
    assert_eq!(row[6], label);
}

#[actix_web::test]
async fn xlsx_downloads_are_zip_files_with_a_chinese_file_name() {
    let app = spawn_app().await;
    let (campaign, _) = campaign_with_answers(&app).await;
    let supervisor = app.signed_in(Role::Supervisor).await;
    for what in ["answers", "aggregates"] {
        let (status, content_type, disposition, body) = supervisor
            .download(&format!(
                "/console/campaigns/{campaign}/export.xlsx?what={what}"
            ))
            .await
            .parts();
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        assert!(content_type.contains("spreadsheetml"), "{content_type}");
        assert!(body.starts_with(b"PK\x03\x04"), "a ZIP file");
        assert!(body.len() > 2000, "{} bytes", body.len());
        assert!(
            disposition.contains(&format!("filename=\"campaign-{campaign}-{what}-"))
                && disposition.contains("filename*=UTF-8''"),
            "{disposition}"
        );
    }
    let (status, _, disposition, _) = supervisor
        .download(&format!("/console/campaigns/{campaign}/export.csv"))
        .await
        .parts();
    assert_eq!(status, StatusCode::OK);
    // 答卷, percent-encoded.
    assert!(disposition.contains("%E7%AD%94%E5%8D%B7"), "{disposition}");
}

#[actix_web::test]
async fn the_command_line_writes_the_same_csv_as_the_console() {
    let app = spawn_app().await;
    let (campaign, _) = campaign_with_answers(&app).await;
    let supervisor = app.signed_in(Role::Supervisor).await;
    let id = campaign.to_string();
    for (query, args) in [
        ("", vec!["--campaign", id.as_str()]),
        ("?codes=1", vec!["--campaign", id.as_str(), "--codes"]),
        (
            "?what=aggregates",
            vec![
                "--campaign",
                id.as_str(),
                "--what",
                "aggregates",
                "--format",
                "csv",
            ],
        ),
    ] {
        let (status, _, _, console) = supervisor
            .download(&format!("/console/campaigns/{campaign}/export.csv{query}"))
            .await
            .parts();
        assert_eq!(status, StatusCode::OK);
        let (code, stdout, stderr) = cli_export(&app, &args).await;
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stdout.starts_with("\u{feff}".as_bytes()));
        assert_eq!(
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&console),
            "{args:?}"
        );
    }

    let (code, stdout, stderr) = cli_export(&app, &["--campaign", &id, "--format", "xlsx"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with(b"PK\x03\x04"), "a ZIP file");

    let (code, _, stderr) = cli_export(&app, &["--campaign", "999"]).await;
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no campaign 999"), "{stderr}");
}

#[actix_web::test]
async fn school_viewers_may_not_export() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let mut viewer = app.signed_in(Role::School).await;
    for path in ["export.csv", "export.xlsx", "export.csv?what=aggregates"] {
        let page = viewer
            .get(&format!("/console/campaigns/{campaign}/{path}"))
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
    }
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let page = supervisor.get("/console/campaigns/999/export.csv").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let page = supervisor
        .get(&format!(
            "/console/campaigns/{campaign}/export.csv?what=everything"
        ))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let page = supervisor
        .get(&format!("/console/campaigns/{campaign}"))
        .await;
    assert!(
        page.body.contains(&format!(
            "/console/campaigns/{campaign}/export.xlsx?what=aggregates"
        )),
        "the campaign page links to the exports"
    );
}

/// More answers than one page of the export (2,000), one of them excluded on the second page:
/// every included answer comes out exactly once, in order, with its time in China time to the
/// second and its duration in seconds; the command line writes the same bytes.
#[actix_web::test]
async fn a_campaign_larger_than_a_page_exports_every_answer_once_in_order() {
    let app = spawn_app().await;
    let (campaign, _) = campaign_with_answers(&app).await;
    let first = app
        .count(&format!(
            "SELECT MIN(id) FROM response WHERE campaign_id = {campaign}"
        ))
        .await;
    // 16:30:59.9 UTC is 00:30:59 the next day in China: the day changes, the second is not
    // rounded up.
    app.db
        .execute_unprepared(&format!(
            "UPDATE response SET submitted_at = '2026-11-23T16:30:59.900+00:00', \
             duration_ms = 95400 WHERE id = {first}"
        ))
        .await
        .expect("set the first answer's time");
    app.db
        .execute_unprepared(&format!(
            "INSERT INTO response (campaign_id, school_id, survey_version_id, idempotency_key, \
             answers, submitted_at, duration_ms, excluded) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2600) \
             SELECT r.campaign_id, r.school_id, r.survey_version_id, 'bulk-' || n.i, r.answers, \
             r.submitted_at, NULL, FALSE FROM n, response r WHERE r.id = {first}"
        ))
        .await
        .expect("2,600 more answers");
    let excluded = first + 2_100;
    app.db
        .execute_unprepared(&format!(
            "UPDATE response SET excluded = TRUE WHERE id = {excluded}"
        ))
        .await
        .expect("exclude one");
    let included: Vec<i64> = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            format!(
                "SELECT id FROM response WHERE campaign_id = {campaign} AND NOT excluded ORDER BY id"
            ),
        ))
        .await
        .expect("ids")
        .iter()
        .map(|row| row.try_get_by_index::<i64>(0).expect("an id"))
        .collect();
    assert_eq!(included.len(), 5 + 2_600 - 1);

    let supervisor = app.signed_in(Role::Supervisor).await;
    let (status, _, _, console) = supervisor
        .download(&format!("/console/campaigns/{campaign}/export.csv"))
        .await
        .parts();
    assert_eq!(status, StatusCode::OK);
    let rows = parse_csv(&String::from_utf8(console.clone()).expect("UTF-8"));
    let ids: Vec<i64> = rows[1..]
        .iter()
        .map(|row| row[0].parse().expect("an id"))
        .collect();
    assert_eq!(ids, included, "every included answer once, in order");
    assert_eq!(rows[1][4], "2026-11-24 00:30:59");
    assert_eq!(rows[1][5], "95");
    let copy = rows
        .iter()
        .find(|row| row[0] == (first + 2_000).to_string())
        .expect("a copy on the second page");
    assert_eq!(copy[4], "2026-11-24 00:30:59");
    assert_eq!(copy[5], "", "no duration");
    assert_eq!(copy[6..], rows[1][6..], "the same answers as the original");

    let (code, stdout, stderr) = cli_export(&app, &["--campaign", &campaign.to_string()]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout == console, "the command line writes the same CSV");
}

/// The value of the statistics export's row for `scope` (学校代码, `""` for the county),
/// `question` (题目编号 or, for the overall and area rows, 题目) and `statistic`.
fn summary_value(
    rows: &[Vec<String>],
    scope: &str,
    question: &str,
    statistic: &str,
) -> Option<f64> {
    rows.iter()
        .find(|row| {
            row[1] == scope
                && (row[4] == question || (row[4].is_empty() && row[5] == question))
                && row[6] == statistic
        })
        .map(|row| row[7].parse().expect("a number"))
}

#[actix_web::test]
async fn the_statistics_export_gives_every_figure_of_the_results_for_the_county_and_each_school() {
    let app = spawn_app().await;
    // Teachers: 6 answers at one school, 2 at another (hidden: no rows of its own).
    let campaign = app.create_campaign("teachers", None, None).await;
    let survey = catalog_survey("teachers");
    let links = app.links(campaign).await;
    for (link, times) in [(&links[0], 6), (&links[1], 2)] {
        for _ in 0..times {
            let page = app.phone().answer(&link.token, &survey).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        }
    }
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let page = supervisor
        .get(&format!(
            "/console/campaigns/{campaign}/export.csv?what=summaries"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let rows = parse_csv(&page.body);
    assert_eq!(
        rows[0],
        [
            "范围",
            "学校代码",
            "学校名称",
            "乡镇",
            "题目编号",
            "题目",
            "统计量",
            "数值",
            "95%区间下限",
            "95%区间上限"
        ]
    );
    // The 0–10 rating's mean (every answer 8), for the county and the school of 6.
    assert_eq!(summary_value(&rows, "", "recommend", "均值"), Some(8.0));
    assert_eq!(summary_value(&rows, "", "recommend", "人数"), Some(6.0));
    assert_eq!(
        summary_value(&rows, &links[0].code, "recommend", "均值"),
        Some(8.0)
    );
    assert!(
        !rows.iter().any(|row| row[1] == links[1].code),
        "a school of 2 teachers has no rows"
    );
    // The same figures as the API's, to the last digit.
    let token = app.api_token().await;
    let (status, api) = app
        .api_get(&token, &format!("/api/v1/campaigns/{campaign}/results"))
        .await;
    assert_eq!(status, StatusCode::OK, "{api}");
    let overall = api["overall"]["value"].as_f64().expect("an overall index");
    assert_eq!(
        summary_value(&rows, "", "问卷总指数", "指数"),
        Some(overall)
    );
    assert_eq!(summary_value(&rows, "", "", "答卷数"), Some(6.0));

    // The command line writes the same bytes.
    let (code, stdout, stderr) = cli_export(
        &app,
        &["--campaign", &campaign.to_string(), "--what", "summaries"],
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&stdout), page.body);

    // A self-check's number questions: county summaries and each school's value.
    let checks = app.create_campaign("school", None, None).await;
    let school_survey = catalog_survey("school");
    let token = app.links(checks).await.remove(0);
    let page = app.phone().answer(&token.token, &school_survey).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = supervisor
        .get(&format!(
            "/console/campaigns/{checks}/export.csv?what=summaries"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let rows = parse_csv(&page.body);
    let number = school_survey
        .questions()
        .find(|question| {
            matches!(question.kind, QuestionKind::Number { .. }) && question.show_if.is_none()
        })
        .expect("a number question")
        .id
        .clone();
    assert_eq!(summary_value(&rows, "", &number, "填报学校数"), Some(1.0));
    let value = summary_value(&rows, &token.code, &number, "填报值").expect("the school's value");
    assert_eq!(summary_value(&rows, "", &number, "均值"), Some(value));
    assert_eq!(summary_value(&rows, "", &number, "中位数"), Some(value));
}
