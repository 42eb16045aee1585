//! Teacher rosters, one-use invitations and reminders, through the console and the public form:
//! uploads checked line by line (GBK too), invitations written to the outbox with their personal
//! links, a personal link that answers once (a retry is not a second use), reminders that skip
//! those answered or mailed within the interval, and a school viewer limited to their own roster.

use awc::http::StatusCode;
use chrono::{Duration, Utc};
use dupin::accounts::Role;
use entity::{invitation, outbox, school, teacher};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::helpers::{TestApp, answers_for, catalog_survey, spawn_app};

async fn schools(app: &TestApp) -> Vec<school::Model> {
    if dupin::schools::count(&app.db).await.expect("count") == 0 {
        app.import_sample_schools().await;
    }
    dupin::schools::list(&app.db).await.expect("schools")
}

async fn teachers_of(app: &TestApp, school_id: i32) -> Vec<teacher::Model> {
    teacher::Entity::find()
        .filter(teacher::Column::SchoolId.eq(school_id))
        .order_by_asc(teacher::Column::Email)
        .all(&app.db)
        .await
        .expect("teachers")
}

async fn invitations(app: &TestApp) -> Vec<invitation::Model> {
    invitation::Entity::find()
        .order_by_asc(invitation::Column::Id)
        .all(&app.db)
        .await
        .expect("invitations")
}

/// The token of the personal link that the first mail queued for `invitation` carries: the only
/// place it exists (the database keeps its hash).
async fn token_of(app: &TestApp, invitation: i32) -> String {
    let mail = outbox::Entity::find()
        .filter(outbox::Column::InvitationId.eq(invitation))
        .order_by_asc(outbox::Column::Id)
        .one(&app.db)
        .await
        .expect("outbox")
        .expect("a mail for the invitation");
    let start = mail.text_body.find("/s/").expect("a link in the mail") + 3;
    mail.text_body[start..start + dupin::links::TOKEN_LENGTH].to_owned()
}

async fn outbox_of(app: &TestApp, kind: &str) -> Vec<outbox::Model> {
    outbox::Entity::find()
        .filter(outbox::Column::Kind.eq(kind))
        .order_by_asc(outbox::Column::Id)
        .all(&app.db)
        .await
        .expect("outbox")
}

#[actix_web::test]
async fn invitations_roster_upload_checks_every_line_and_reads_gbk() {
    let app = spawn_app().await;
    let school = schools(&app).await.remove(0);
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let page_path = format!("/console/schools/{}/teachers", school.id);
    let action = format!("{page_path}/import");

    let bad = "姓名,邮箱\n张老师,zhang@qq.com\n李老师,li.qq.com\n张明,ZHANG@qq.com\n";
    let page = supervisor
        .upload(&page_path, &action, "file", "名单.csv", bad.as_bytes())
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(page.body.contains("没有导入任何教师"), "{}", page.body);
    assert!(
        page.body
            .contains("第 3 行：邮箱&quot;li.qq.com&quot;缺少 @"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("第 4 行：邮箱 zhang@qq.com 与第 2 行重复"),
        "{}",
        page.body
    );
    assert!(
        teachers_of(&app, school.id).await.is_empty(),
        "nothing stored"
    );

    let text = "姓名,邮箱,任教学科\n张老师,zhang@qq.com,语文\n李老师,li@163.com,数学\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    assert!(std::str::from_utf8(&gbk).is_err(), "really GBK");
    let page = supervisor
        .upload(&page_path, &action, "file", "名单.csv", &gbk)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("新增 2 位"), "{}", page.body);
    let stored = teachers_of(&app, school.id).await;
    let names: Vec<(&str, &str)> = stored
        .iter()
        .map(|t| (t.name.as_str(), t.email.as_str()))
        .collect();
    assert_eq!(
        names,
        [("李老师", "li@163.com"), ("张老师", "zhang@qq.com")]
    );

    // Uploading again replaces: 李老师 renamed, 张老师 gone, 王老师 new.
    let again = "name,email\n李华,li@163.com\n王老师,wang@qq.com\n";
    let page = supervisor
        .upload(&page_path, &action, "file", "new.csv", again.as_bytes())
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("新增 1 位，改名 1 位，未变 0 位，删除 1 位"),
        "{}",
        page.body
    );
    let emails: Vec<String> = teachers_of(&app, school.id)
        .await
        .into_iter()
        .map(|t| format!("{} {}", t.name, t.email))
        .collect();
    assert_eq!(emails, ["李华 li@163.com", "王老师 wang@qq.com"]);

    // The county file: an unknown code refuses the whole file.
    let all = schools(&app).await;
    let county = format!(
        "学校代码,姓名,邮箱\n{},赵老师,zhao@qq.com\n9999999999,钱老师,qian@qq.com\n",
        all[1].code
    );
    let page = supervisor
        .upload(
            "/console/teachers/import",
            "/console/teachers/import",
            "file",
            "county.csv",
            county.as_bytes(),
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(
        page.body.contains("第 3 行（学校代码 9999999999）"),
        "{}",
        page.body
    );
    assert!(teachers_of(&app, all[1].id).await.is_empty());

    let county = format!(
        "学校代码,姓名,邮箱\n{},赵老师,zhao@qq.com\n{},钱老师,qian@qq.com\n",
        all[1].code, all[2].code
    );
    let page = supervisor
        .upload(
            "/console/teachers/import",
            "/console/teachers/import",
            "file",
            "county.csv",
            county.as_bytes(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(teachers_of(&app, all[1].id).await.len(), 1);
    assert_eq!(teachers_of(&app, all[2].id).await.len(), 1);
    // Schools the county file does not list keep their roster.
    assert_eq!(teachers_of(&app, school.id).await.len(), 2);
    // One event per school roster changed (found again by school), and one for the county file.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'roster_import'")
            .await,
        4
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'roster_import_county'")
            .await,
        1
    );
}

#[actix_web::test]
async fn invitations_school_viewer_manages_their_own_roster_only() {
    let app = spawn_app().await;
    let all = schools(&app).await;
    let (own, other) = (&all[0], &all[1]);
    let mut viewer = app.signed_in(Role::School).await;

    let own_path = format!("/console/schools/{}/teachers", own.id);
    let page = viewer.get(&own_path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&own.name));
    let page = viewer
        .submit(
            &own_path,
            &format!("{own_path}/add"),
            &[("name", "孙老师"), ("email", "sun@qq.com")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = viewer
        .submit(
            &own_path,
            &format!("{own_path}/add"),
            &[("name", "孙老师"), ("email", "孙老师")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("没有添加"), "{}", page.body);
    let added = teachers_of(&app, own.id).await;
    assert_eq!(added.len(), 1);

    let other_path = format!("/console/schools/{}/teachers", other.id);
    assert_eq!(viewer.get(&other_path).await.status, StatusCode::FORBIDDEN);
    let csrf = viewer.get(&own_path).await.hidden("_csrf").expect("csrf");
    let page = viewer
        .post(
            &format!("{other_path}/add"),
            &[
                ("_csrf", &csrf),
                ("name", "周老师"),
                ("email", "zhou@qq.com"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(teachers_of(&app, other.id).await.is_empty());
    assert_eq!(
        viewer.get("/console/teachers/import").await.status,
        StatusCode::FORBIDDEN
    );

    let teacher_id = added[0].id.to_string();
    let page = viewer.get(&own_path).await;
    let row_form = format!(
        "action=\"{own_path}/remove\" style=\"margin:0\"><input type=\"hidden\" name=\"_csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"teacher\" value=\"{teacher_id}\">"
    );
    assert!(page.body.contains(&row_form), "{}", page.body);
    let page = viewer
        .submit(
            &own_path,
            &format!("{own_path}/remove"),
            &[("teacher", &teacher_id)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(teachers_of(&app, own.id).await.is_empty());
}

/// Two teachers at each of the first two schools, through the county upload.
async fn rosters_for_two_schools(app: &TestApp, supervisor: &mut crate::helpers::Browser) {
    let all = schools(app).await;
    let county = format!(
        "学校代码,姓名,邮箱\n{a},张老师,zhang@qq.com\n{a},李老师,li@163.com\n{b},王老师,wang@qq.com\n{b},赵老师,zhao@qq.com\n",
        a = all[0].code,
        b = all[1].code
    );
    upload_county_roster(supervisor, &county).await;
}

/// Uploads `csv` as the county's teacher rosters; it must be taken.
async fn upload_county_roster(supervisor: &mut crate::helpers::Browser, csv: &str) {
    let page = supervisor
        .upload(
            "/console/teachers/import",
            "/console/teachers/import",
            "file",
            "county.csv",
            csv.as_bytes(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
}

#[actix_web::test]
async fn invitations_go_to_the_outbox_and_each_link_answers_once() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("teachers", None, None).await;
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    rosters_for_two_schools(&app, &mut supervisor).await;
    let page_path = format!("/console/campaigns/{campaign}/invitations");

    let page = supervisor
        .submit(&page_path, &format!("{page_path}/send"), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = supervisor
        .get(page.location.as_deref().expect("back"))
        .await;
    assert!(page.body.contains("已邀请 4 位教师"), "{}", page.body);
    assert!(page.body.contains("排队中 4"), "{}", page.body);
    assert!(page.body.contains("尚未邀请的教师：0 位"), "{}", page.body);

    let invited = invitations(&app).await;
    assert_eq!(invited.len(), 4);
    assert!(
        invited
            .iter()
            .all(|i| i.status == "queued" && i.campaign_id == campaign)
    );
    let mails = outbox_of(&app, "invitation").await;
    assert_eq!(mails.len(), 4);
    let teachers: Vec<teacher::Model> = teacher::Entity::find().all(&app.db).await.expect("t");
    for invitation in &invited {
        let teacher = teachers
            .iter()
            .find(|t| t.id == invitation.teacher_id)
            .expect("its teacher");
        let mail = mails
            .iter()
            .find(|m| m.invitation_id == Some(invitation.id))
            .expect("its mail");
        let token = token_of(&app, invitation.id).await;
        let link = format!("{}/s/{token}", app.base_url);
        // Kept only as a hash: no table holds the link itself.
        let hashed = dupin::secrets::sha256_hex(&token);
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM invitation_link WHERE token_hash = '{hashed}' \
                 AND invitation_id = {}",
                invitation.id
            ))
            .await,
            1
        );
        assert_eq!(mail.recipient, teacher.email);
        assert!(mail.subject.contains("测试 teachers"), "{}", mail.subject);
        assert!(mail.text_body.contains(&link), "{}", mail.text_body);
        assert!(mail.text_body.contains(&teacher.name));
        assert!(mail.text_body.contains("只能提交一次"));
        assert!(mail.text_body.contains("匿名"));
        let html = mail.html_body.as_deref().expect("an html body");
        assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    }

    // Inviting again invites nobody twice.
    let page = supervisor
        .submit(&page_path, &format!("{page_path}/send"), &[])
        .await;
    let page = supervisor
        .get(page.location.as_deref().expect("back"))
        .await;
    assert!(page.body.contains("已邀请 0 位教师"), "{}", page.body);
    assert!(page.body.contains("另有 4 位此前已邀请"), "{}", page.body);
    assert_eq!(outbox_of(&app, "invitation").await.len(), 4);

    // A teacher opens the personal link: the school's form, posting back to the personal link.
    let token = token_of(&app, invited[0].id).await;
    let survey = catalog_survey("teachers");
    let mut phone = app.phone();
    let form = phone.get(&format!("/s/{token}")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("教师问卷"));
    assert!(form.body.contains(&format!("action=\"/s/{token}\"")));
    // The link forwarded to a second phone, opened there before the first one submits.
    let mut other = app.phone();
    let early = other.get(&format!("/s/{token}")).await;
    assert_eq!(early.status, StatusCode::OK, "{}", early.body);
    let mut fields = vec![
        ("_key".to_owned(), form.hidden("_key").expect("key")),
        ("_t".to_owned(), form.hidden("_t").expect("time")),
    ];
    fields.extend(answers_for(&survey));
    let page = phone.post_form(&format!("/s/{token}"), &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(
        page.location.as_deref(),
        Some(format!("/s/{token}/thanks").as_str())
    );
    let thanks = phone.get(&format!("/s/{token}/thanks")).await;
    assert!(thanks.body.contains("提交成功"));
    assert_eq!(app.responses().await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM response WHERE browser_key IS NULL")
            .await,
        1,
        "the invitation, not the cookie, limits it"
    );
    assert_eq!(invitations(&app).await[0].status, "answered");
    let counted: i64 = app
        .links(campaign)
        .await
        .iter()
        .map(|l| l.response_count)
        .sum();
    assert_eq!(counted, 1);
    app.settle().await;
    let tallied = app
        .count(&format!(
            "SELECT COUNT(*) FROM tally WHERE campaign_id = {campaign} AND count > 0"
        ))
        .await;
    assert!(tallied > 0);

    // The same submit again (a retry after a dropped connection): the same thank-you, once.
    let page = phone.post_form(&format!("/s/{token}"), &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(app.responses().await, 1);

    // A second use, from the other phone: refused, at once and on submit.
    let page = other.get(&format!("/s/{token}")).await;
    assert!(page.body.contains("此邀请链接已经使用过"), "{}", page.body);
    assert!(!page.body.contains("<form"), "no form for a used link");
    let mut second = vec![
        ("_key".to_owned(), early.hidden("_key").expect("key")),
        ("_t".to_owned(), early.hidden("_t").expect("time")),
    ];
    second.extend(answers_for(&survey));
    let page = other.post_form(&format!("/s/{token}"), &second).await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);
    assert!(page.body.contains("每个链接只能提交一次"));
    assert_eq!(app.responses().await, 1);
    assert_eq!(
        app.links(campaign)
            .await
            .iter()
            .map(|l| l.response_count)
            .sum::<i64>(),
        1
    );

    // The status page shows it answered; nothing about the answer.
    let page = supervisor.get(&page_path).await;
    assert!(page.body.contains("已作答 1"), "{}", page.body);

    // Non-teacher surveys cannot invite.
    let parents = app.create_campaign("parents", None, None).await;
    let parents_path = format!("/console/campaigns/{parents}/invitations");
    let page = supervisor
        .submit(&parents_path, &format!("{parents_path}/send"), &[])
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);
    assert!(page.body.contains("不是教师问卷"));
}

#[actix_web::test]
async fn invitations_remind_only_the_unanswered_once_per_interval_and_resend_failed() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("teachers", None, None).await;
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    rosters_for_two_schools(&app, &mut supervisor).await;
    let page_path = format!("/console/campaigns/{campaign}/invitations");
    supervisor
        .submit(&page_path, &format!("{page_path}/send"), &[])
        .await;
    let invited = invitations(&app).await;
    assert_eq!(invited.len(), 4);

    // As the sender and the answers would leave them: one sent five days ago, one sent just now,
    // one answered, one failed for good.
    let set = |id: i32, status: &'static str, sent: Option<chrono::DateTime<Utc>>| {
        let db = app.db.clone();
        async move {
            invitation::Entity::update_many()
                .col_expr(invitation::Column::Status, Expr::value(status))
                .col_expr(invitation::Column::SentAt, Expr::value(sent))
                .col_expr(
                    invitation::Column::CreatedAt,
                    Expr::value(Utc::now() - Duration::days(6)),
                )
                .filter(invitation::Column::Id.eq(id))
                .exec(&db)
                .await
                .expect("update");
        }
    };
    set(invited[0].id, "sent", Some(Utc::now() - Duration::days(5))).await;
    set(invited[1].id, "sent", Some(Utc::now())).await;
    set(
        invited[2].id,
        "answered",
        Some(Utc::now() - Duration::days(5)),
    )
    .await;
    set(invited[3].id, "failed", None).await;

    let page = supervisor
        .submit(&page_path, &format!("{page_path}/remind"), &[("days", "3")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = supervisor
        .get(page.location.as_deref().expect("back"))
        .await;
    assert!(
        page.body.contains("已向 1 位未作答的教师发送提醒"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("1 位在 3 天内已收到过邮件"),
        "{}",
        page.body
    );
    let csrf = page.hidden("_csrf").expect("csrf");
    let resend_form = format!(
        "<input type=\"hidden\" name=\"_csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"invitation\" value=\"{}\">",
        invited[3].id
    );
    assert!(page.body.contains(&resend_form), "{}", page.body);
    let reminders = outbox_of(&app, "reminder").await;
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].invitation_id, Some(invited[0].id));
    // A reminder carries a new personal link; the first one keeps working too.
    let first = token_of(&app, invited[0].id).await;
    assert!(reminders[0].text_body.contains("/s/"));
    assert!(!reminders[0].text_body.contains(&format!("/s/{first}")));
    let after = invitations(&app).await;
    assert_eq!(after[0].reminders, 1);
    assert!(after[0].reminded_at.is_some());
    assert_eq!(after[0].status, "queued");
    assert_eq!(after[2].status, "answered");
    assert_eq!(after[2].reminders, 0);

    // Within the interval, nobody is reminded again.
    let page = supervisor
        .submit(&page_path, &format!("{page_path}/remind"), &[("days", "3")])
        .await;
    let page = supervisor
        .get(page.location.as_deref().expect("back"))
        .await;
    assert!(
        page.body.contains("已向 0 位未作答的教师发送提醒"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("2 位在 3 天内已收到过邮件"),
        "{}",
        page.body
    );
    assert_eq!(outbox_of(&app, "reminder").await.len(), 1);

    // An interval out of bounds is refused with words.
    let page = supervisor
        .submit(
            &page_path,
            &format!("{page_path}/remind"),
            &[("days", "45")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("提醒间隔应为 1 到 30 天"));

    // The failed one is resent; an answered one cannot be.
    let failed_id = invited[3].id.to_string();
    let page = supervisor
        .submit(
            &page_path,
            &format!("{page_path}/resend"),
            &[("invitation", &failed_id)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(invitations(&app).await[3].status, "queued");
    assert_eq!(outbox_of(&app, "invitation").await.len(), 5);
    let answered_id = invited[2].id.to_string();
    let page = supervisor
        .submit(
            &page_path,
            &format!("{page_path}/resend"),
            &[("invitation", &answered_id)],
        )
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);

    // A teacher who was invited stays on the roster when a new upload leaves them out.
    let first_school = schools(&app).await.remove(0);
    let roster_path = format!("/console/schools/{}/teachers", first_school.id);
    let page = supervisor
        .upload(
            &roster_path,
            &format!("{roster_path}/import"),
            "file",
            "r.csv",
            "姓名,邮箱\n新老师,new@qq.com\n".as_bytes(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("已收到调查邀请，因此保留"),
        "{}",
        page.body
    );
    assert_eq!(teachers_of(&app, first_school.id).await.len(), 3);
}

#[actix_web::test]
async fn invitations_two_phones_racing_on_one_personal_link_store_one_answer() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("teachers", None, None).await;
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    rosters_for_two_schools(&app, &mut supervisor).await;
    let page_path = format!("/console/campaigns/{campaign}/invitations");
    supervisor
        .submit(&page_path, &format!("{page_path}/send"), &[])
        .await;
    let first = invitations(&app).await[0].id;
    let token = token_of(&app, first).await;
    let survey = catalog_survey("teachers");

    // A forwarded link opened on several phones before anyone submits: each gets the form.
    let mut submits = Vec::new();
    for _ in 0..6 {
        let mut phone = app.phone();
        let form = phone.get(&format!("/s/{token}")).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let mut fields = vec![
            ("_key".to_owned(), form.hidden("_key").expect("key")),
            ("_t".to_owned(), form.hidden("_t").expect("time")),
        ];
        fields.extend(answers_for(&survey));
        submits.push(phone.post_form_owned(format!("/s/{token}"), fields));
    }
    let pages = futures_util::future::join_all(submits).await;
    let thanked = pages
        .iter()
        .filter(|page| page.status == StatusCode::SEE_OTHER)
        .count();
    let refused = pages
        .iter()
        .filter(|page| page.status == StatusCode::CONFLICT)
        .count();
    assert_eq!((thanked, refused), (1, 5));
    assert_eq!(app.responses().await, 1);
    assert_eq!(
        app.links(campaign)
            .await
            .iter()
            .map(|l| l.response_count)
            .sum::<i64>(),
        1
    );
    assert_eq!(invitations(&app).await[0].status, "answered");
}

#[actix_web::test]
async fn invitations_teachers_import_on_the_command_line_is_all_or_nothing() {
    let app = spawn_app().await;
    let all = schools(&app).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |text: String| {
        let file = dir.path().join("教师.csv");
        std::fs::write(&file, encoding_rs::GBK.encode(&text).0).expect("write");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dupin"));
        command
            .args(["teachers", "import"])
            .arg(&file)
            .env("DATABASE_URL", &app.database_url);
        crate::helpers::output_of(command)
    };

    let bad = run(format!(
        "学校代码,姓名,邮箱\n{},张老师,zhang@qq.com\n{},李老师,li@\n",
        all[0].code, all[1].code
    ))
    .await;
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("第 3 行"), "{stderr}");
    assert_eq!(app.count("SELECT COUNT(*) FROM teacher").await, 0);

    let good = run(format!(
        "学校代码,姓名,邮箱\n{},张老师,zhang@qq.com\n{},李老师,li@163.com\n",
        all[0].code, all[1].code
    ))
    .await;
    let stdout = String::from_utf8_lossy(&good.stdout);
    assert!(
        good.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(stdout.contains("导入完成：2 所学校"), "{stdout}");
    assert_eq!(app.count("SELECT COUNT(*) FROM teacher").await, 2);
}

#[actix_web::test]
async fn invitations_a_whole_county_is_invited_in_one_transaction() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("teachers", None, None).await;
    let all = schools(&app).await;
    let mut county = String::from("学校代码,姓名,邮箱\n");
    for school in &all {
        for n in 0..40 {
            county.push_str(&format!(
                "{},教师{n},t{n}.{}@qq.com\n",
                school.code, school.code
            ));
        }
    }
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let started = std::time::Instant::now();
    let page = supervisor
        .upload(
            "/console/teachers/import",
            "/console/teachers/import",
            "file",
            "county.csv",
            county.as_bytes(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let uploaded = started.elapsed();
    let page_path = format!("/console/campaigns/{campaign}/invitations");
    let started = std::time::Instant::now();
    let page = supervisor
        .submit(&page_path, &format!("{page_path}/send"), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let invited = started.elapsed();
    let started = std::time::Instant::now();
    let page = supervisor
        .get(&format!("{page_path}?sort=status&dir=desc&page=3"))
        .await;
    assert!(page.body.contains("第 3 / 24 页"), "{}", page.body);
    let listed = started.elapsed();
    let teachers = all.len() * 40;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM invitation").await,
        teachers as i64
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation'")
            .await,
        teachers as i64
    );
    println!(
        "{teachers} teachers: roster upload {uploaded:?}, invitations {invited:?}, status page {listed:?}"
    );
}

/// Teachers invited together often answer together, from mail apps' browsers that drop the
/// cookie: answers through personal links are never taken for a burst (each link answers once
/// anyway), while the same answers through the school's shared link would be.
#[actix_web::test]
async fn invitations_answers_through_personal_links_are_never_a_burst() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("teachers", None, None).await;
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let school = &schools(&app).await[0];
    let mut roster = "学校代码,姓名,邮箱\n".to_owned();
    for n in 0..6 {
        roster.push_str(&format!("{},老师{n},teacher{n}@qq.com\n", school.code));
    }
    upload_county_roster(&mut supervisor, &roster).await;
    let page_path = format!("/console/campaigns/{campaign}/invitations");
    let page = supervisor
        .submit(&page_path, &format!("{page_path}/send"), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let invited = invitations(&app).await;
    assert_eq!(invited.len(), 6);

    let survey = catalog_survey("teachers");
    for invitation in &invited {
        let mut phone = app.phone();
        let token = token_of(&app, invitation.id).await;
        let form = phone.get(&format!("/s/{token}")).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        phone.cookie = None;
        let mut fields = vec![
            ("_key".to_owned(), form.hidden("_key").expect("key")),
            ("_t".to_owned(), form.hidden("_t").expect("time")),
        ];
        fields.extend(answers_for(&survey));
        let page = phone.post_form(&format!("/s/{token}"), &fields).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    assert_eq!(app.responses().await, 6);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM response WHERE campaign_id = {campaign} AND flags LIKE '%burst%'"
        ))
        .await,
        0,
        "no answer through a personal link is flagged as a burst"
    );
}

#[actix_web::test]
async fn invitations_a_school_lists_no_more_teachers_than_its_full_time_teachers_even_at_once() {
    let app = spawn_app().await;
    let own = schools(&app).await[0].clone();
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        &format!("UPDATE school SET teachers = 5 WHERE id = {}", own.id),
    )
    .await
    .expect("five full-time teachers");
    let mut viewer = app.signed_in(Role::School).await;
    let own_path = format!("/console/schools/{}/teachers", own.id);

    // A file of six for a school of five full-time teachers: refused whole.
    let six: String = std::iter::once("姓名,邮箱\n".to_owned())
        .chain((0..6).map(|n| format!("教师{n},t{n}@qq.com\n")))
        .collect();
    let page = viewer
        .upload(
            &own_path,
            &format!("{own_path}/import"),
            "file",
            "six.csv",
            six.as_bytes(),
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(page.body.contains("最多 5 位教师"), "{}", page.body);
    assert!(teachers_of(&app, own.id).await.is_empty());

    // Twelve adds at once: five are taken, seven refused, however they interleave.
    let csrf = viewer.get(&own_path).await.hidden("_csrf").expect("csrf");
    let cookie = viewer.cookie_header().expect("a session");
    let client = awc::Client::builder().disable_redirects().finish();
    let adds = (0..12).map(|n| {
        let request = client
            .post(format!("{}{own_path}/add", app.address))
            .insert_header(("Cookie", cookie.clone()));
        let csrf = csrf.clone();
        async move {
            request
                .send_form(&[
                    ("_csrf", csrf),
                    ("name", format!("并发{n}")),
                    ("email", format!("p{n}@qq.com")),
                ])
                .await
                .expect("a response")
                .status()
        }
    });
    let statuses = futures_util::future::join_all(adds).await;
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(teachers_of(&app, own.id).await.len(), 5);

    // A supervisor's county file is not capped: the bureau's own list is trusted.
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let county: String = std::iter::once("学校代码,姓名,邮箱\n".to_owned())
        .chain((0..6).map(|n| format!("{},县里{n},c{n}@qq.com\n", own.code)))
        .collect();
    upload_county_roster(&mut supervisor, &county).await;
    assert_eq!(teachers_of(&app, own.id).await.len(), 6);
}

/// A supervisor presses 邀请教师 on the campaign's invitations page; the page's path and the
/// page it comes back to.
async fn invite_all_from_the_page(
    supervisor: &mut crate::helpers::Browser,
    campaign: i32,
) -> (String, crate::helpers::Page) {
    let page_path = format!("/console/campaigns/{campaign}/invitations");
    let sent = supervisor
        .submit(&page_path, &format!("{page_path}/send"), &[])
        .await;
    let page = supervisor
        .get(sent.location.as_deref().expect("back"))
        .await;
    (page_path, page)
}

/// The school's own account (the first school's viewer) adds one teacher to `own`'s roster.
async fn school_adds_teacher(app: &TestApp, own: &school::Model, name: &str, email: &str) {
    let mut viewer = app.signed_in(Role::School).await;
    let own_path = format!("/console/schools/{}/teachers", own.id);
    let added = viewer
        .submit(
            &own_path,
            &format!("{own_path}/add"),
            &[("name", name), ("email", email)],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
}

#[actix_web::test]
async fn invitations_teachers_a_school_adds_after_the_campaign_started_wait_for_approval() {
    let app = spawn_app().await;
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    rosters_for_two_schools(&app, &mut supervisor).await;
    let campaign = app.create_campaign("teachers", None, None).await;
    let own = schools(&app).await[0].clone();
    school_adds_teacher(&app, &own, "新来的", "newcomer@qq.com").await;

    let (page_path, page) = invite_all_from_the_page(&mut supervisor, campaign).await;
    assert!(page.body.contains("已邀请 4 位教师"), "{}", page.body);
    assert!(
        page.body.contains("1 位是学校自行添加、尚未经督导批准的"),
        "{}",
        page.body
    );
    assert!(page.body.contains("newcomer@qq.com"), "{}", page.body);
    assert_eq!(invitations(&app).await.len(), 4);
    // Who changed which roster, and when, is on the same page.
    assert!(page.body.contains("各校教师名单的变动"), "{}", page.body);
    assert!(
        page.body.contains("添加 新来的 &lt;newcomer@qq.com&gt;"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("school-"),
        "the school's account is named: {}",
        page.body
    );

    let approved = supervisor
        .submit(&page_path, &format!("{page_path}/approve"), &[])
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    supervisor
        .submit(&page_path, &format!("{page_path}/send"), &[])
        .await;
    assert_eq!(invitations(&app).await.len(), 5);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'teachers_approve'")
            .await,
        1
    );
}

#[actix_web::test]
async fn invitations_teachers_a_school_added_before_the_round_also_wait_for_approval() {
    let app = spawn_app().await;
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    rosters_for_two_schools(&app, &mut supervisor).await;
    let own = schools(&app).await[0].clone();
    // The school seeds its roster with an address of its own choosing before the round exists.
    school_adds_teacher(&app, &own, "早加的", "seeded@qq.com").await;
    let campaign = app.create_campaign("teachers", None, None).await;

    let (_, page) = invite_all_from_the_page(&mut supervisor, campaign).await;
    assert!(page.body.contains("已邀请 4 位教师"), "{}", page.body);
    assert!(page.body.contains("seeded@qq.com"), "{}", page.body);
    let invited_seeded = app
        .count(
            "SELECT COUNT(*) FROM invitation i JOIN teacher t ON t.id = i.teacher_id \
             WHERE t.email = 'seeded@qq.com'",
        )
        .await;
    assert_eq!(
        invited_seeded, 0,
        "no personal link before a supervisor approves"
    );
}
