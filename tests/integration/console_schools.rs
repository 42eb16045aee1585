//! The school list in the console: who may see it, searching, filtering, sorting and pages,
//! adding and editing a school, uploading a file and downloading the list as CSV.

use awc::http::StatusCode;
use dupin::accounts::Role;
use dupin::schools;

use crate::helpers::{TestApp, repo_path, spawn_app};

const PAGES: [&str; 6] = [
    "/console/schools",
    "/console/schools.csv",
    "/console/schools/template.csv",
    "/console/schools/new",
    "/console/schools/import",
    "/console/schools/1/edit",
];

const FORMS: [&str; 3] = [
    "/console/schools/new",
    "/console/schools/import",
    "/console/schools/1/edit",
];

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo_path(&format!("tests/fixtures/schools/{name}"))).expect("fixture")
}

/// The number in the list's "共 N 所".
fn listed(body: &str) -> usize {
    let start = body.find("共 ").expect("a count") + "共 ".len();
    let end = start + body[start..].find(" 所").expect("a count");
    body[start..end].parse().expect("a number")
}

/// The text of every table row's cells, in order.
fn rows(body: &str) -> Vec<Vec<String>> {
    let Some(tbody) = body.split("<tbody>").nth(1) else {
        return Vec::new();
    };
    let tbody = tbody.split("</tbody>").next().unwrap_or_default();
    tbody
        .split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let cell = &cell[cell.find('>').expect("a cell") + 1..];
                    let cell = cell.split("</td>").next().unwrap_or_default();
                    strip_tags(cell)
                })
                .collect()
        })
        .collect()
}

fn strip_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// A link as the browser would follow it: handlebars escapes `&` and `=` in attributes.
fn unescape(href: &str) -> String {
    href.replace("&amp;", "&").replace("&#x3D;", "=")
}

/// The `href` of the link whose text is `text`.
fn link(body: &str, text: &str) -> String {
    let end = body.find(&format!("\">{text}</a>")).expect("the link");
    let start = body[..end].rfind("href=\"").expect("an href") + "href=\"".len();
    unescape(&body[start..end])
}

async fn count_schools(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM school").await
}

async fn audit_events(app: &TestApp, action: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM audit_event WHERE action = '{action}'"
    ))
    .await
}

async fn school_id(app: &TestApp, code: &str) -> i32 {
    schools::list(&app.db)
        .await
        .expect("schools")
        .into_iter()
        .find(|school| school.code == code)
        .expect("the school")
        .id
}

/// A valid form for a new school, with `changes` applied.
fn school_form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("code", "4521230099"),
        ("name", "石门镇新建小学"),
        ("township", "石门镇"),
        ("kind", "小学"),
        ("central", ""),
        ("key_village", "是"),
        ("enrolment", "312"),
        ("teachers", "18"),
    ];
    for (name, value) in changes {
        let field = fields
            .iter_mut()
            .find(|(known, _)| known == name)
            .expect("a field of the form");
        field.1 = value;
    }
    fields
}

/// A `multipart/form-data` body with a chosen `_csrf` and one file, as a forged page would send.
fn multipart(csrf: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----dupinschoolsboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
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

#[actix_web::test]
async fn an_anonymous_visitor_is_sent_to_sign_in() {
    let app = spawn_app().await;
    let mut browser = app.browser();
    for path in PAGES {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            page.location.as_deref(),
            Some(format!("/console/login?next={path}").as_str()),
            "{path}"
        );
    }
    for path in FORMS {
        let page = browser.post(path, &[("_csrf", "x")]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            page.location
                .as_deref()
                .is_some_and(|location| location.starts_with("/console/login")),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn a_school_viewer_is_refused_every_page_and_form() {
    let app = spawn_app().await;
    let mut viewer = app.signed_in(Role::School).await;
    for path in PAGES {
        let page = viewer.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.body.contains("没有权限"), "{path}");
    }
    let csrf = viewer
        .get("/console/password")
        .await
        .hidden("_csrf")
        .expect("a CSRF token");
    for path in FORMS {
        let page = viewer.post(path, &[("_csrf", &csrf)]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
    }
}

#[actix_web::test]
async fn an_admin_may_manage_schools_too() {
    let app = spawn_app().await;
    let mut admin = app.signed_in(Role::Admin).await;
    assert_eq!(admin.get("/console/schools").await.status, StatusCode::OK);
}

#[actix_web::test]
async fn an_empty_list_points_to_the_upload() {
    let app = spawn_app().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let page = browser.get("/console/schools").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("还没有任何学校"), "{}", page.body);
    assert!(page.body.contains("href=\"/console/schools/import\""));
}

#[actix_web::test]
async fn a_supervisor_sees_the_sample_schools_and_can_search_filter_and_sort_them() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let mut browser = app.signed_in(Role::Supervisor).await;

    let all = browser.get("/console/schools").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(listed(&all.body), 30);
    assert_eq!(rows(&all.body).len(), 30);
    assert!(all.body.contains("石门镇岩脚教学点"));
    assert!(!all.body.contains("第 1 / "), "30 schools fit on one page");

    // 中心小学 is in four names; 0007 in one code.
    let by_name = browser
        .get("/console/schools?q=%E4%B8%AD%E5%BF%83%E5%B0%8F%E5%AD%A6")
        .await;
    assert_eq!(listed(&by_name.body), 4);
    assert!(
        rows(&by_name.body)
            .iter()
            .all(|row| row[1].contains("中心小学"))
    );
    let by_code = browser.get("/console/schools?q=0007").await;
    assert_eq!(rows(&by_code.body)[0][0], "4521230007");
    assert_eq!(listed(&by_code.body), 1);

    let township = browser
        .get("/console/schools?township=%E7%9F%B3%E9%97%A8%E9%95%87")
        .await;
    assert_eq!(listed(&township.body), 5);
    assert!(rows(&township.body).iter().all(|row| row[2] == "石门镇"));
    assert!(township.body.contains("<option value=\"石门镇\" selected>"));

    let key_villages = browser.get("/console/schools?key_village=yes").await;
    assert_eq!(listed(&key_villages.body), 11);
    assert!(rows(&key_villages.body).iter().all(|row| row[5] == "是"));
    let both = browser
        .get("/console/schools?key_village=no&central=yes&kind=primary")
        .await;
    assert_eq!(listed(&both.body), 4);

    let biggest_first = browser
        .get("/console/schools?sort=enrolment&dir=desc")
        .await;
    let sorted = rows(&biggest_first.body);
    assert_eq!(sorted[0][1], "青溪县第一中学");
    assert_eq!(sorted[29][1], "龙潭乡坳背教学点");
    let enrolments: Vec<u32> = sorted
        .iter()
        .map(|row| row[6].parse().expect("a number"))
        .collect();
    assert!(enrolments.windows(2).all(|pair| pair[0] >= pair[1]));

    // Headers sort, keeping the filters: the sorted column's header turns the order around.
    let filtered = browser
        .get("/console/schools?township=%E7%9F%B3%E9%97%A8%E9%95%87&sort=enrolment")
        .await;
    let header = link(&filtered.body, "在校生数 ▲");
    assert!(
        header.contains("township=%E7%9F%B3%E9%97%A8%E9%95%87"),
        "{header}"
    );
    assert!(header.contains("dir=desc"), "{header}");
    let reversed = browser.get(&header).await;
    assert_eq!(rows(&reversed.body)[0][1], "石门镇初级中学");
    assert_eq!(listed(&reversed.body), 5);

    // Nothing typed reaches SQL: odd values mean "any" and wildcards match themselves.
    let odd = browser
        .get("/console/schools?sort=id%3BDROP%20TABLE%20school&dir=up&kind=university&q=%25")
        .await;
    assert_eq!(odd.status, StatusCode::OK);
    assert!(odd.body.contains("没有符合条件的学校"));
    assert_eq!(count_schools(&app).await, 30);
}

#[actix_web::test]
async fn more_than_a_hundred_schools_are_paged_and_pages_keep_the_filters() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let mut file = String::from("学校代码,学校名称,乡镇,类型,中心校,重点村,在校生数,专任教师数\n");
    for n in 0..150 {
        file.push_str(&format!("46{n:08},新镇第{n}小学,新镇,小学,否,否,{n},1\n"));
    }
    let mut browser = app.signed_in(Role::Supervisor).await;
    let page = browser
        .upload(
            "/console/schools/import",
            "/console/schools/import",
            "file",
            "more.csv",
            file.as_bytes(),
        )
        .await;
    assert!(page.body.contains("新增 150 所"), "{}", page.body);

    let first = browser
        .get("/console/schools?township=%E6%96%B0%E9%95%87&sort=enrolment&dir=desc")
        .await;
    assert_eq!(listed(&first.body), 150);
    assert!(first.body.contains("第 1 / 2 页"));
    assert_eq!(rows(&first.body).len(), 100);
    let next = link(&first.body, "下一页");
    assert!(next.contains("township=%E6%96%B0%E9%95%87"), "{next}");
    assert!(next.contains("sort=enrolment"), "{next}");
    let second = browser.get(&next).await;
    assert!(second.body.contains("第 2 / 2 页"));
    let last = rows(&second.body);
    assert_eq!(last.len(), 50);
    assert_eq!(last[49][6], "0");
}

#[actix_web::test]
async fn a_supervisor_adds_a_school_with_the_form() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let mut browser = app.signed_in(Role::Supervisor).await;

    let saved = browser
        .submit(
            "/console/schools/new",
            "/console/schools/new",
            &school_form(&[]),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let location = saved.location.expect("back to the list");
    let list = browser.get(&location).await;
    assert!(
        list.body
            .contains("已添加学校：石门镇新建小学（4521230099）")
    );
    assert_eq!(listed(&list.body), 31);

    let stored = schools::find(&app.db, school_id(&app, "4521230099").await)
        .await
        .expect("db")
        .expect("stored");
    assert_eq!(stored.kind, "小学");
    assert!(!stored.is_central);
    assert!(stored.is_key_village);
    assert_eq!((stored.enrolment, stored.teachers), (312, 18));
    assert_eq!(audit_events(&app, "school_create").await, 1);
}

#[actix_web::test]
async fn a_bad_school_is_shown_again_with_its_values_and_every_message() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let mut browser = app.signed_in(Role::Supervisor).await;

    let page = browser
        .submit(
            "/console/schools/new",
            "/console/schools/new",
            &school_form(&[("name", " "), ("enrolment", "约500"), ("kind", "初中")]),
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("有 2 处需要改正"), "{}", page.body);
    assert!(page.body.contains("学校名称为空"));
    assert!(
        page.body
            .contains("在校生数&quot;约500&quot;不是整数，应填写 0 或正整数")
    );
    assert!(page.body.contains("value=\"约500\""));
    assert!(page.body.contains("value=\"4521230099\""));
    assert!(page.body.contains("<option value=\"初中\" selected>"));
    assert!(
        page.body
            .contains("name=\"key_village\" value=\"是\" checked")
    );
    assert_eq!(count_schools(&app).await, 30);
    assert_eq!(audit_events(&app, "school_create").await, 0);
}

#[actix_web::test]
async fn a_code_another_school_has_is_refused() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let mut browser = app.signed_in(Role::Supervisor).await;

    let page = browser
        .submit(
            "/console/schools/new",
            "/console/schools/new",
            &school_form(&[("code", "４５２１２３０００１")]),
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("学校代码 4521230001 已被“青溪县第一中学”使用"),
        "{}",
        page.body
    );
    assert_eq!(count_schools(&app).await, 30);

    // Editing a school into another's code is refused the same way.
    let id = school_id(&app, "4521230007").await;
    let edit = format!("/console/schools/{id}/edit");
    let page = browser
        .submit(&edit, &edit, &school_form(&[("code", "4521230008")]))
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("已被“石门镇初级中学”使用"));
}

#[actix_web::test]
async fn a_supervisor_edits_a_school() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let id = school_id(&app, "4521230007").await;
    let edit = format!("/console/schools/{id}/edit");

    let form = browser.get(&edit).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("value=\"石门镇中心小学\""));
    assert!(form.body.contains("name=\"central\" value=\"是\" checked"));
    assert!(form.body.contains("value=\"740\""));

    let saved = browser
        .submit(
            &edit,
            &edit,
            &[
                ("code", "4521230007"),
                ("name", "石门镇中心完全小学"),
                ("township", "石门镇"),
                ("kind", "小学"),
                ("central", "是"),
                ("enrolment", "756"),
                ("teachers", "43"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let list = browser.get(&saved.location.expect("the list")).await;
    assert!(
        list.body
            .contains("已保存学校：石门镇中心完全小学（4521230007）")
    );

    let stored = schools::find(&app.db, id)
        .await
        .expect("db")
        .expect("still there");
    assert_eq!(stored.name, "石门镇中心完全小学");
    assert_eq!((stored.enrolment, stored.teachers), (756, 43));
    assert!(stored.is_central && !stored.is_key_village);
    assert_eq!(count_schools(&app).await, 30);
    assert_eq!(audit_events(&app, "school_update").await, 1);

    assert_eq!(
        browser.get("/console/schools/99999/edit").await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn uploading_the_county_file_imports_it() {
    let app = spawn_app().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let form = browser.get("/console/schools/import").await;
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    assert!(form.body.contains("href=\"/console/schools/template.csv\""));

    let page = browser
        .upload(
            "/console/schools/import",
            "/console/schools/import",
            "file",
            "county.csv",
            &fixture("county.csv"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("新增 30 所，更新 0 所"), "{}", page.body);
    assert_eq!(count_schools(&app).await, 30);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_event WHERE action = 'schools_import' \
             AND detail LIKE '%county.csv%新增 30 所，更新 0 所%'"
        )
        .await,
        1
    );
}

#[actix_web::test]
async fn a_file_with_bad_lines_imports_nothing_and_lists_every_line() {
    let app = spawn_app().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let page = browser
        .upload(
            "/console/schools/import",
            "/console/schools/import",
            "file",
            "bad.csv",
            &fixture("bad.csv"),
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("发现 4 处错误，没有导入任何学校"));
    for line in ["第 4 行", "第 5 行", "第 6 行", "第 7 行"] {
        assert!(page.body.contains(line), "{line}: {}", page.body);
    }
    assert!(page.body.contains("学校代码与第 3 行重复"));
    assert_eq!(count_schools(&app).await, 0);
    assert_eq!(audit_events(&app, "schools_import").await, 0);

    let not_a_csv = browser
        .upload(
            "/console/schools/import",
            "/console/schools/import",
            "file",
            "名单.xlsx",
            b"PK\x03\x04\xff\xfe\x00\x00",
        )
        .await;
    assert_eq!(not_a_csv.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(not_a_csv.body.contains("无法识别文件的编码"));
    assert_eq!(count_schools(&app).await, 0);
}

#[actix_web::test]
async fn a_gbk_file_from_a_chinese_excel_imports() {
    let app = spawn_app().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let page = browser
        .upload(
            "/console/schools/import",
            "/console/schools/import",
            "file",
            "county-gbk.csv",
            &fixture("county-gbk.csv"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("新增 5 所，更新 0 所"));
    let list = browser.get("/console/schools").await;
    assert!(list.body.contains("石门镇中心小学"));
}

#[actix_web::test]
async fn a_file_over_five_megabytes_is_refused_with_a_clear_message() {
    let app = spawn_app().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let mut big = fixture("county.csv");
    big.resize(5 * 1024 * 1024 + 1, b'\n');
    let page = browser
        .upload(
            "/console/schools/import",
            "/console/schools/import",
            "file",
            "big.csv",
            &big,
        )
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        page.body.contains("文件超过 5 MB，没有导入"),
        "{}",
        page.body
    );
    assert_eq!(count_schools(&app).await, 0);
}

#[actix_web::test]
async fn the_download_is_excel_ready_and_uploads_again_unchanged() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let mut browser = app.signed_in(Role::Supervisor).await;

    let downloaded = browser.download("/console/schools.csv").await;
    let (status, headers, bytes) = (downloaded.status, downloaded.headers, downloaded.body);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get("content-type").expect("a type"),
        "text/csv; charset=utf-8"
    );
    let disposition = headers
        .get("content-disposition")
        .expect("a file name")
        .to_str()
        .expect("ASCII");
    assert!(disposition.starts_with("attachment; "), "{disposition}");
    assert!(
        disposition.contains("filename=\"schools-20"),
        "{disposition}"
    );
    // 学校名单 in UTF-8, percent-encoded.
    assert!(
        disposition.contains("filename*=UTF-8''%E5%AD%A6%E6%A0%A1%E5%90%8D%E5%8D%95"),
        "{disposition}"
    );
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes.clone()).expect("UTF-8");
    assert!(
        text.starts_with(
            "\u{feff}学校代码,学校名称,乡镇,类型,中心校,重点村,在校生数,专任教师数\r\n"
        )
    );
    assert!(text.contains("4521230007,石门镇中心小学,石门镇,小学,是,否,740,42\r\n"));
    assert_eq!(csv_rows(&bytes).len(), 31);

    let page = browser
        .upload(
            "/console/schools/import",
            "/console/schools/import",
            "file",
            "学校名单.csv",
            &bytes,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("新增 0 所，更新 30 所"), "{}", page.body);
    assert!(page.body.contains("学校名单.csv"));
}

#[actix_web::test]
async fn the_download_holds_the_filtered_list_in_its_order() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let browser = app.signed_in(Role::Supervisor).await;
    let downloaded = browser
        .download(
            "/console/schools.csv?township=%E7%9F%B3%E9%97%A8%E9%95%87&sort=teachers&dir=desc",
        )
        .await;
    let (status, bytes) = (downloaded.status, downloaded.body);
    assert_eq!(status, StatusCode::OK);
    let rows = csv_rows(&bytes);
    assert_eq!(rows.len(), 6);
    assert!(rows[1..].iter().all(|row| row[2] == "石门镇"));
    assert_eq!(rows[1][1], "石门镇初级中学");

    let template = browser.download("/console/schools/template.csv").await.body;
    assert_eq!(csv_rows(&template).len(), 1);
}

#[actix_web::test]
async fn a_name_that_looks_like_a_formula_is_neutralised_in_the_download() {
    let app = spawn_app().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let saved = browser
        .submit(
            "/console/schools/new",
            "/console/schools/new",
            &school_form(&[("name", "=HYPERLINK(\"x\")"), ("township", "@乡")]),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);

    let bytes = browser.download("/console/schools.csv").await.body;
    let rows = csv_rows(&bytes);
    assert_eq!(rows[1][1], "'=HYPERLINK(\"x\")");
    assert_eq!(rows[1][2], "'@乡");
    // The page itself shows the name as typed, escaped.
    let list = browser.get("/console/schools").await;
    assert!(list.body.contains("&#x3D;HYPERLINK(&quot;x&quot;)"));
}

#[actix_web::test]
async fn forms_without_the_right_csrf_token_change_nothing() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let audited = "SELECT COUNT(*) FROM audit_event WHERE action IN \
                   ('school_create', 'school_update', 'schools_import')";
    // The fixture's own import, from the command line.
    assert_eq!(app.count(audited).await, 1);

    let mut forged = vec![("_csrf", "forged")];
    forged.extend(school_form(&[]));
    let page = browser.post("/console/schools/new", &forged).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("页面已过期"));

    let id = school_id(&app, "4521230007").await;
    let mut forged = vec![("_csrf", "forged")];
    forged.extend(school_form(&[("code", "4521230007"), ("name", "改名")]));
    let page = browser
        .post(&format!("/console/schools/{id}/edit"), &forged)
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    let (content_type, body) = multipart("forged", "county.csv", &fixture("county.csv"));
    let page = browser
        .post_body("/console/schools/import", &content_type, body)
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let (content_type, body) = multipart("", "county.csv", &fixture("county.csv"));
    let page = browser
        .post_body("/console/schools/import", &content_type, body)
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    assert_eq!(count_schools(&app).await, 30);
    let school = schools::find(&app.db, id)
        .await
        .expect("db")
        .expect("there");
    assert_eq!(school.name, "石门镇中心小学");
    assert_eq!(app.count(audited).await, 1);
}
