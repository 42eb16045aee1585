//! Accounts and the audit log in the console, as an admin uses them: adding, disabling,
//! enabling and resetting accounts, reading and filtering the log; what other roles and forged
//! forms get; and `dupin admin create` for scripts.

use std::process::Command;

use awc::http::StatusCode;
use dupin::accounts::Role;

use crate::helpers::{Browser, PASSWORD, TestApp, repo_path, spawn_app};

const ADMIN_EMAIL: &str = "chief@county.edu.cn";

/// A browser signed in as the admin `chief@county.edu.cn`.
async fn signed_in_admin(app: &TestApp) -> Browser {
    app.account(ADMIN_EMAIL, Role::Admin, None).await;
    let mut browser = app.browser();
    let page = browser.sign_in(ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    browser
}

async fn account_id(app: &TestApp, email: &str) -> i32 {
    dupin::accounts::find_by_email(&app.db, email)
        .await
        .expect("db")
        .expect("the account exists")
        .id
}

/// The password a page shows once.
fn shown_password(body: &str) -> String {
    let start = body
        .find("class=\"password\"")
        .expect("the page shows a password");
    let start = start + body[start..].find('>').expect("the tag ends") + 1;
    let end = start + body[start..].find('<').expect("the password ends");
    body[start..end].to_owned()
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM audit_event WHERE action = '{action}'"
    ))
    .await
}

#[actix_web::test]
async fn an_admin_adds_a_supervisor_and_a_school_viewer_who_can_then_sign_in() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let mut admin = signed_in_admin(&app).await;
    let page = admin.get("/console/accounts").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(ADMIN_EMAIL));
    assert!(page.body.contains("添加账号"));
    assert!(page.body.contains("学校查看"));

    let created = admin
        .submit(
            "/console/accounts",
            "/console/accounts",
            &[
                ("email", "Li.Ming@County.edu.cn"),
                ("name", "李明"),
                ("role", "supervisor"),
                ("school_id", ""),
                ("password", "supervisor password"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.body.contains("账号已创建"));
    assert!(created.body.contains("li.ming@county.edu.cn"));
    assert!(!created.body.contains("class=\"password\""));

    let school = dupin::schools::list(&app.db).await.expect("schools")[2].clone();
    let school_id = school.id.to_string();
    let viewer = admin
        .submit(
            "/console/accounts",
            "/console/accounts",
            &[
                ("email", "head@school.edu.cn"),
                ("name", "张校长"),
                ("role", "school"),
                ("school_id", &school_id),
                ("password", "school viewer password"),
            ],
        )
        .await;
    assert_eq!(viewer.status, StatusCode::OK, "{}", viewer.body);
    assert!(viewer.body.contains(&school.name));

    let list = admin.get("/console/accounts").await;
    for expected in [
        "li.ming@county.edu.cn",
        "李明",
        "督导人员",
        "head@school.edu.cn",
        "张校长",
        school.name.as_str(),
        "启用",
        "从未登录",
    ] {
        assert!(list.body.contains(expected), "{expected} in {}", list.body);
    }

    let mut supervisor = app.browser();
    let signed_in = supervisor
        .sign_in("li.ming@county.edu.cn", "supervisor password")
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    let home = supervisor.get("/console").await;
    assert!(home.body.contains("李明（督导人员）"), "{}", home.body);

    let mut head = app.browser();
    let signed_in = head
        .sign_in("head@school.edu.cn", "school viewer password")
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    let stored = dupin::accounts::find_by_email(&app.db, "head@school.edu.cn")
        .await
        .expect("db")
        .expect("account");
    assert_eq!(stored.role, "school");
    assert_eq!(stored.school_id, Some(school.id));

    // The list now shows when they last signed in.
    let list = admin.get("/console/accounts").await;
    assert_eq!(list.body.matches("从未登录").count(), 0, "{}", list.body);
    assert_eq!(audit_count(&app, "account_create").await, 2);
}

#[actix_web::test]
async fn a_refused_new_account_says_why_and_keeps_what_was_typed() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let mut admin = signed_in_admin(&app).await;

    let bad_email = admin
        .submit(
            "/console/accounts",
            "/console/accounts",
            &[
                ("email", "not an e-mail"),
                ("name", "王老师"),
                ("role", "supervisor"),
                ("password", "long enough password"),
            ],
        )
        .await;
    assert_eq!(bad_email.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_email.body.contains("请输入有效的电子邮箱地址"));
    assert!(bad_email.body.contains("value=\"not an e-mail\""));
    assert!(bad_email.body.contains("value=\"王老师\""));

    let short = admin
        .submit(
            "/console/accounts",
            "/console/accounts",
            &[
                ("email", "wang@county.edu.cn"),
                ("name", "王老师"),
                ("role", "supervisor"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.body.contains("密码至少需要 10 个字符"));
    assert!(short.body.contains("value=\"wang@county.edu.cn\""));
    assert!(
        short
            .body
            .contains("<option value=\"supervisor\" selected>督导人员</option>"),
        "{}",
        short.body
    );

    let no_school = admin
        .submit(
            "/console/accounts",
            "/console/accounts",
            &[
                ("email", "viewer@county.edu.cn"),
                ("role", "school"),
                ("school_id", ""),
                ("generate", "1"),
            ],
        )
        .await;
    assert_eq!(no_school.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_school.body.contains("学校查看账号必须选择一所学校"));
    assert!(
        no_school
            .body
            .contains("<option value=\"school\" selected>学校查看</option>")
    );
    assert!(
        no_school
            .body
            .contains("name=\"generate\" value=\"1\" checked")
    );

    let unknown_school = admin
        .submit(
            "/console/accounts",
            "/console/accounts",
            &[
                ("email", "viewer@county.edu.cn"),
                ("role", "school"),
                ("school_id", "999999"),
                ("generate", "1"),
            ],
        )
        .await;
    assert_eq!(unknown_school.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown_school.body.contains("找不到所选的学校"));

    // The admin's own e-mail, typed differently, is taken.
    let taken = admin
        .submit(
            "/console/accounts",
            "/console/accounts",
            &[
                ("email", "CHIEF@county.edu.cn"),
                ("name", "另一个人"),
                ("role", "admin"),
                ("password", "long enough password"),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.body.contains("这个电子邮箱已经有账号了"));
    assert!(taken.body.contains("value=\"另一个人\""));

    assert_eq!(
        app.count("SELECT COUNT(*) FROM account").await,
        1,
        "nothing was created"
    );
    assert_eq!(audit_count(&app, "account_create").await, 0);
}

#[actix_web::test]
async fn a_generated_password_is_shown_once_and_signs_in() {
    let app = spawn_app().await;
    let mut admin = signed_in_admin(&app).await;
    let created = admin
        .submit(
            "/console/accounts",
            "/console/accounts",
            &[
                ("email", "zhao@county.edu.cn"),
                ("role", "admin"),
                ("password", ""),
                ("generate", "1"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.body.contains("只显示这一次"));
    assert!(created.body.contains("管理员"));
    let password = shown_password(&created.body);
    assert_eq!(password.len(), 19, "{password}");
    assert!(
        !admin
            .get("/console/accounts")
            .await
            .body
            .contains(&password)
    );
    let mut zhao = app.browser();
    assert_eq!(
        zhao.sign_in("zhao@county.edu.cn", &password).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(zhao.get("/console/accounts").await.status, StatusCode::OK);
}

#[actix_web::test]
async fn disabling_an_account_ends_its_session_at_once_and_enabling_lets_it_back() {
    let app = spawn_app().await;
    let mut admin = signed_in_admin(&app).await;
    app.account("li@county.edu.cn", Role::Supervisor, None)
        .await;
    let id = account_id(&app, "li@county.edu.cn").await;
    let mut li = app.browser();
    li.sign_in("li@county.edu.cn", PASSWORD).await;
    assert_eq!(li.get("/console").await.status, StatusCode::OK);

    let disabled = admin
        .submit(
            "/console/accounts",
            &format!("/console/accounts/{id}/disable"),
            &[],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER, "{}", disabled.body);
    let location = disabled.location.expect("back to the list");
    let list = admin.get(&location).await;
    assert!(
        list.body.contains("已停用账号 li@county.edu.cn"),
        "{}",
        list.body
    );
    assert!(
        list.body
            .contains(&format!("action=\"/console/accounts/{id}/enable\""))
    );

    // The session Li already had is refused at once, and signing in again says why.
    let refused = li.get("/console").await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert!(
        refused
            .location
            .is_some_and(|location| location.starts_with("/console/login"))
    );
    let again = app.browser().sign_in("li@county.edu.cn", PASSWORD).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert!(again.body.contains("停用"), "{}", again.body);

    let enabled = admin
        .submit(
            "/console/accounts",
            &format!("/console/accounts/{id}/enable"),
            &[],
        )
        .await;
    assert_eq!(enabled.status, StatusCode::SEE_OTHER);
    let list = admin.get(&enabled.location.expect("back")).await;
    assert!(list.body.contains("已启用账号 li@county.edu.cn"));
    let mut li = app.browser();
    assert_eq!(
        li.sign_in("li@county.edu.cn", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(li.get("/console").await.status, StatusCode::OK);

    assert_eq!(audit_count(&app, "account_disable").await, 1);
    assert_eq!(audit_count(&app, "account_enable").await, 1);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_event WHERE action = 'account_disable' \
             AND detail = 'li@county.edu.cn' AND actor = 'chief@county.edu.cn'"
        )
        .await,
        1
    );
}

#[actix_web::test]
async fn a_reset_shows_a_new_password_that_works_and_ends_the_old_sessions() {
    let app = spawn_app().await;
    let mut admin = signed_in_admin(&app).await;
    app.account("li@county.edu.cn", Role::Supervisor, None)
        .await;
    let id = account_id(&app, "li@county.edu.cn").await;
    let mut li = app.browser();
    li.sign_in("li@county.edu.cn", PASSWORD).await;
    assert_eq!(li.get("/console").await.status, StatusCode::OK);

    let reset = admin
        .submit(
            "/console/accounts",
            &format!("/console/accounts/{id}/reset"),
            &[],
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    assert!(reset.body.contains("密码已重置"));
    assert!(reset.body.contains("li@county.edu.cn"));
    let password = shown_password(&reset.body);
    assert_ne!(password, PASSWORD);
    assert!(
        reset
            .set_cookie
            .is_none_or(|cookie| !cookie.starts_with("dupin_session")),
        "the admin's own session is untouched"
    );

    assert_eq!(li.get("/console").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.browser()
            .sign_in("li@county.edu.cn", PASSWORD)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let mut li = app.browser();
    assert_eq!(
        li.sign_in("li@county.edu.cn", &password).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(li.get("/console").await.status, StatusCode::OK);
    assert_eq!(admin.get("/console/accounts").await.status, StatusCode::OK);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_event WHERE action = 'account_reset_password' \
             AND detail = 'li@county.edu.cn'"
        )
        .await,
        1
    );
}

#[actix_web::test]
async fn an_admin_cannot_disable_or_reset_their_own_account() {
    let app = spawn_app().await;
    let mut admin = signed_in_admin(&app).await;
    let me = account_id(&app, ADMIN_EMAIL).await;
    let list = admin.get("/console/accounts").await;
    assert!(
        !list
            .body
            .contains(&format!("/console/accounts/{me}/disable")),
        "no button to disable oneself"
    );

    let refused = admin
        .submit(
            "/console/accounts",
            &format!("/console/accounts/{me}/disable"),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.body.contains("不能停用自己的账号"),
        "{}",
        refused.body
    );
    let reset = admin
        .submit(
            "/console/accounts",
            &format!("/console/accounts/{me}/reset"),
            &[],
        )
        .await;
    assert_eq!(reset.status, StatusCode::CONFLICT);
    assert!(reset.body.contains("修改密码"));

    assert_eq!(admin.get("/console").await.status, StatusCode::OK);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM account WHERE disabled")
            .await,
        0
    );
    assert_eq!(audit_count(&app, "account_disable").await, 0);
    assert_eq!(audit_count(&app, "account_reset_password").await, 0);

    let missing = admin
        .submit("/console/accounts", "/console/accounts/999999/disable", &[])
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn the_audit_log_shows_account_events_with_chinese_labels_newest_first_and_filters() {
    let app = spawn_app().await;
    let mut admin = signed_in_admin(&app).await;
    admin
        .submit(
            "/console/accounts",
            "/console/accounts",
            &[
                ("email", "li@county.edu.cn"),
                ("role", "supervisor"),
                ("password", "supervisor password"),
            ],
        )
        .await;
    let id = account_id(&app, "li@county.edu.cn").await;
    for action in ["disable", "enable", "reset"] {
        let page = admin
            .submit(
                "/console/accounts",
                &format!("/console/accounts/{id}/{action}"),
                &[],
            )
            .await;
        assert!(page.status.is_success() || page.status.is_redirection());
    }
    app.browser()
        .sign_in("li@county.edu.cn", "wrong password!")
        .await;

    let page = admin.get("/console/audit").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let labels = [
        "登录失败",
        "重置密码",
        "启用账号",
        "停用账号",
        "新建账号",
        "登录",
    ];
    let mut last = 0;
    let table = &page.body[page.body.find("<tbody>").expect("a table")..];
    for label in labels {
        let at = table[last..]
            .find(&format!("<td>{label} "))
            .unwrap_or_else(|| panic!("{label} after the previous one in {table}"))
            + last;
        last = at + 1;
    }
    assert!(table.contains("li@county.edu.cn（督导人员）"));
    // Times are China time to the second.
    let now = chrono::Utc::now().with_timezone(&dupin::campaigns::china_offset());
    assert!(table.contains(&now.format("%Y-%m-%d ").to_string()));
    let times: Vec<&str> = table
        .split("<td style=\"white-space:nowrap\">")
        .skip(1)
        .collect();
    assert_eq!(times.len(), 6);
    assert!(
        times
            .iter()
            .all(|cell| cell.as_bytes().get(19) == Some(&b'<')),
        "yyyy-mm-dd hh:mm:ss"
    );
    // Every known action is offered in the filter.
    for code in ["sign_in_throttled", "school_update", "campaign_status"] {
        assert!(page.body.contains(&format!("<option value=\"{code}\">")));
    }

    let disables = admin.get("/console/audit?action=account_disable").await;
    assert_eq!(disables.status, StatusCode::OK);
    let rows = &disables.body[disables.body.find("<tbody>").expect("a table")..];
    assert_eq!(rows.matches("<tr>").count(), 1, "{rows}");
    assert!(rows.contains("停用账号"));
    assert!(
        disables
            .body
            .contains("<option value=\"account_disable\" selected>")
    );

    // The failed sign-in's actor is what was typed; the admin's events are under its e-mail.
    let by_li = admin.get("/console/audit?actor=LI%40county").await;
    let rows = &by_li.body[by_li.body.find("<tbody>").expect("a table")..];
    assert_eq!(rows.matches("<tr>").count(), 1, "{rows}");
    assert!(rows.contains("登录失败"));
    assert!(by_li.body.contains("value=\"LI@county\""));

    let none = admin.get("/console/audit?actor=%25_nobody").await;
    assert!(none.body.contains("没有符合条件的记录"));

    let both = admin.get("/console/audit?action=sign_in&actor=chief").await;
    let rows = &both.body[both.body.find("<tbody>").expect("a table")..];
    assert_eq!(rows.matches("<tr>").count(), 1, "{rows}");
}

/// The address of the page's link with `rel`, as a browser reads it.
fn link(body: &str, rel: &str) -> Option<String> {
    let end = body.find(&format!("\" rel=\"{rel}\""))?;
    let start = body[..end].rfind("href=\"")? + "href=\"".len();
    Some(
        body[start..end]
            .replace("&#x3D;", "=")
            .replace("&amp;", "&"),
    )
}

#[actix_web::test]
async fn the_audit_log_pages_fifty_at_a_time_keeping_the_filter() {
    let app = spawn_app().await;
    let mut admin = signed_in_admin(&app).await;
    for n in 0..120 {
        dupin::audit::record(
            &app.db,
            dupin::change::Actor::Visitor(&format!("visitor{n:03}@county.edu.cn")),
            "sign_in_failed",
            format!("attempt {n}"),
        )
        .await
        .expect("recorded");
    }
    let first = admin.get("/console/audit?action=sign_in_failed").await;
    assert!(first.body.contains("共 120 条记录"), "{}", first.body);
    assert!(first.body.contains("第 1 / 3 页"));
    let rows = |body: &str| {
        body[body.find("<tbody>").expect("a table")..]
            .matches("<tr>")
            .count()
    };
    assert_eq!(rows(&first.body), 50);
    assert!(first.body.contains("attempt 119<"));
    assert!(first.body.contains("attempt 70<"));
    assert!(!first.body.contains("attempt 69<"));
    assert!(!first.body.contains("rel=\"prev\""));
    let next = link(&first.body, "next").expect("a next link");
    assert_eq!(next, "/console/audit?action=sign_in_failed&page=2");
    let second = admin.get(&next).await;
    assert_eq!(rows(&second.body), 50);
    assert!(second.body.contains("attempt 69<"));
    assert!(second.body.contains("attempt 20<"));
    assert_eq!(
        link(&second.body, "prev").as_deref(),
        Some("/console/audit?action=sign_in_failed")
    );

    let third = admin
        .get("/console/audit?action=sign_in_failed&page=3")
        .await;
    assert_eq!(rows(&third.body), 20);
    assert!(third.body.contains("attempt 0<"));
    assert!(third.body.contains("第 3 / 3 页"));
    assert!(!third.body.contains("rel=\"next\""));
    assert!(third.body.contains("rel=\"prev\""));

    // Past the end, or not a number: the nearest real page.
    let past = admin
        .get("/console/audit?action=sign_in_failed&page=99")
        .await;
    assert!(past.body.contains("第 3 / 3 页"));
    let junk = admin.get("/console/audit?page=abc").await;
    assert_eq!(junk.status, StatusCode::OK);
    assert!(junk.body.contains("第 1 / 3 页"));
}

#[actix_web::test]
async fn supervisors_and_school_viewers_are_refused_every_admin_route() {
    let app = spawn_app().await;
    let target = app
        .account("target@county.edu.cn", Role::Supervisor, None)
        .await;
    for role in [Role::Supervisor, Role::School] {
        let mut browser = app.signed_in(role).await;
        for path in [
            "/console/accounts",
            "/console/audit",
            "/console/audit?page=2",
        ] {
            let page = browser.get(path).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{role:?} GET {path}");
            assert!(page.body.contains("没有权限"));
        }
        for path in [
            "/console/accounts".to_owned(),
            format!("/console/accounts/{}/disable", target.id),
            format!("/console/accounts/{}/enable", target.id),
            format!("/console/accounts/{}/reset", target.id),
        ] {
            // With the session's real CSRF token: the role alone refuses.
            let page = browser
                .submit(
                    "/console/password",
                    &path,
                    &[
                        ("email", "sneaky@county.edu.cn"),
                        ("role", "admin"),
                        ("password", "long enough password"),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{role:?} POST {path}");
        }
    }
    let mut anonymous = app.browser();
    for path in ["/console/accounts", "/console/audit"] {
        let page = anonymous.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(
            page.location.as_deref(),
            Some(format!("/console/login?next={path}").as_str())
        );
    }
    let page = anonymous
        .post(
            &format!("/console/accounts/{}/disable", target.id),
            &[("_csrf", "x")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);

    let stored = dupin::accounts::find(&app.db, target.id)
        .await
        .expect("db")
        .expect("account");
    assert_eq!(stored, target, "nothing changed");
    assert!(
        dupin::accounts::find_by_email(&app.db, "sneaky@county.edu.cn")
            .await
            .expect("db")
            .is_none()
    );
}

#[actix_web::test]
async fn an_admin_form_without_the_csrf_token_changes_nothing() {
    let app = spawn_app().await;
    let mut admin = signed_in_admin(&app).await;
    let target = app
        .account("target@county.edu.cn", Role::Supervisor, None)
        .await;
    let create = admin
        .post(
            "/console/accounts",
            &[
                ("email", "new@county.edu.cn"),
                ("role", "admin"),
                ("password", "long enough password"),
            ],
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    assert!(create.body.contains("页面已过期"));
    for action in ["disable", "enable", "reset"] {
        let path = format!("/console/accounts/{}/{action}", target.id);
        assert_eq!(
            admin.post(&path, &[]).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            admin.post(&path, &[("_csrf", "forged")]).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let stored = dupin::accounts::find(&app.db, target.id)
        .await
        .expect("db")
        .expect("account");
    assert_eq!(stored, target);
    assert_eq!(app.count("SELECT COUNT(*) FROM account").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action LIKE 'account_%'")
            .await,
        0
    );
}

// ------------------------------------------------------------------------ dupin admin create

/// What `dupin admin create` printed and how it exited.
struct AdminRun {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `dupin admin create ARGS` on the app's database, with `stdin` piped in and
/// `DUPIN_ADMIN_PASSWORD` set only when `env_password` is given.
async fn admin_create(
    app: &TestApp,
    args: &[&str],
    stdin: &str,
    env_password: Option<&str>,
) -> AdminRun {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dupin"));
    for variable in [
        "DATABASE_URL",
        "DUPIN_SESSION_KEY",
        "DUPIN_ADMIN_PASSWORD",
        "DUPIN_SURVEYS",
        "DUPIN_BASE_URL",
        "DUPIN_BIND",
        "DUPIN_WORKERS",
        "DUPIN_LOG",
    ] {
        command.env_remove(variable);
    }
    command
        .args(["admin", "create"])
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("DUPIN_SURVEYS", repo_path("surveys"));
    if let Some(password) = env_password {
        command.env("DUPIN_ADMIN_PASSWORD", password);
    }
    let output = crate::helpers::output_with_input(command, stdin.to_owned()).await;
    AdminRun {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[actix_web::test]
async fn dupin_admin_create_reads_the_password_from_standard_input_and_the_account_signs_in() {
    let app = spawn_app().await;
    let run = admin_create(
        &app,
        &["Chief@County.edu.cn", "--name", "王主任"],
        "a long password from a pipe\n",
        None,
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("chief@county.edu.cn"), "{}", run.stdout);
    assert!(
        !run.stderr.contains("Password for"),
        "no prompt into a pipe: {}",
        run.stderr
    );

    let mut browser = app.browser();
    let page = browser
        .sign_in("chief@county.edu.cn", "a long password from a pipe")
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let home = browser.get("/console").await;
    assert!(home.body.contains("王主任（管理员）"));
    assert_eq!(
        browser.get("/console/accounts").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_event WHERE action = 'account_create' \
             AND actor = 'command line' AND account_id IS NULL"
        )
        .await,
        1
    );
    let audit = browser.get("/console/audit?actor=command").await;
    assert!(audit.body.contains("新建账号"));
}

#[actix_web::test]
async fn dupin_admin_create_takes_the_password_from_the_environment_and_a_role() {
    let app = spawn_app().await;
    let run = admin_create(
        &app,
        &["li@county.edu.cn", "--role", "supervisor"],
        "this line is not read\n",
        Some("a password from the environment"),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let account = dupin::accounts::find_by_email(&app.db, "li@county.edu.cn")
        .await
        .expect("db")
        .expect("created");
    assert_eq!(account.role, "supervisor");
    assert_eq!(
        app.browser()
            .sign_in("li@county.edu.cn", "a password from the environment")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn dupin_admin_create_refuses_a_bad_email_a_short_password_and_a_taken_email() {
    let app = spawn_app().await;
    let bad = admin_create(&app, &["not-an-email"], "a long enough password\n", None).await;
    assert_eq!(bad.code, Some(1), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("not a valid e-mail address"),
        "{}",
        bad.stderr
    );

    let short = admin_create(&app, &["li@county.edu.cn"], "short\n", None).await;
    assert_eq!(short.code, Some(1), "{}", short.stderr);
    assert!(
        short.stderr.contains("at least 10 characters"),
        "{}",
        short.stderr
    );

    let empty = admin_create(&app, &["li@county.edu.cn"], "", None).await;
    assert_eq!(empty.code, Some(1), "{}", empty.stderr);
    assert!(empty.stderr.contains("at least 10 characters"));

    let created = admin_create(
        &app,
        &["li@county.edu.cn"],
        "a long enough password\n",
        None,
    )
    .await;
    assert_eq!(created.code, Some(0), "{}", created.stderr);
    let taken = admin_create(&app, &["LI@county.edu.cn"], "another long password\n", None).await;
    assert_eq!(taken.code, Some(1), "{}", taken.stderr);
    assert!(taken.stderr.contains("already exists"), "{}", taken.stderr);

    let role = admin_create(&app, &["x@county.edu.cn", "--role", "school"], "", None).await;
    assert_ne!(role.code, Some(0));
    assert!(role.stderr.contains("school"), "{}", role.stderr);

    assert_eq!(app.count("SELECT COUNT(*) FROM account").await, 1);
    assert_eq!(
        app.browser()
            .sign_in("li@county.edu.cn", "another long password")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}
