//! Mail against a real SMTP server on loopback (`tests/smtp_sink.py`, aiosmtpd): `dupin mail
//! test`, the outbox sender with its retries after an outage, permanent refusals, two processes
//! sharing one outbox, report mails with inline charts, and the console's outbox page.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use awc::http::StatusCode;
use dupin::mail::{MailKind, Outgoing, outbox};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::cli::Terminal;
use crate::helpers::{Options, fresh_database, spawn_app, spawn_app_with};
use crate::smtp::{self, Sink};

async fn number(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .expect("query")
    .expect("a row")
    .try_get_by_index::<i64>(0)
    .expect("a number")
}

fn message(to: &str, n: usize) -> Outgoing {
    Outgoing {
        kind: MailKind::Test,
        to: to.to_owned(),
        subject: format!("第 {n} 封 张&李"),
        text: format!("正文 {n}：张&李"),
        html: Some(format!("<p>正文 {n}：张&amp;李</p>")),
        images: Vec::new(),
        invitation_id: None,
    }
}

/// Waits until `sql` (a count) reaches `want`.
async fn wait_until(db: &DatabaseConnection, sql: &str, want: i64, patience: Duration) {
    let deadline = Instant::now() + patience;
    loop {
        let now = number(db, sql).await;
        if now >= want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{sql} stayed at {now}, not {want}, for {patience:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Each recipient's messages, counted by Message-ID: every one must be 1.
fn copies_by_message_id(received: &[smtp::Received]) -> BTreeMap<String, usize> {
    let mut copies = BTreeMap::new();
    for message in received {
        *copies.entry(message.message_id.clone()).or_insert(0) += 1;
    }
    copies
}

#[actix_web::test]
async fn mail_test_command_sends_and_says_what_went_wrong() {
    if !smtp::available("mail_test_command_sends_and_says_what_went_wrong") {
        return;
    }
    let terminal = Terminal::new();
    let sink = Sink::started();
    let env: Vec<(&str, String)> = sink.env();
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let sent = terminal.run_with_env(&["mail", "test", "zhang.li@school.example.cn"], &env_refs);
    sent.succeeded();
    let received = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.rcpt_tos, vec!["zhang.li@school.example.cn"]);
    assert!(mail.subject.contains("督评测试邮件"), "{mail:#?}");
    assert!(mail.from.contains("noreply@county.edu.cn"), "{mail:#?}");
    assert!(
        mail.text
            .as_deref()
            .is_some_and(|text| text.contains("测试邮件")),
        "{mail:#?}"
    );
    assert!(mail.html.is_some(), "{mail:#?}");
    // Directly, not through the outbox.
    let db = dupin::db::connect(&terminal.database_url)
        .await
        .expect("db");
    assert_eq!(number(&db, "SELECT COUNT(*) FROM outbox").await, 0);

    // Nobody listens: exit 1 and the address it could not reach.
    let closed = smtp::free_port().to_string();
    let mut refused_env = env_refs.clone();
    refused_env.retain(|(k, _)| *k != "DUPIN_SMTP_PORT");
    refused_env.push(("DUPIN_SMTP_PORT", &closed));
    let run = terminal.run_with_env(&["mail", "test", "a@school.example.cn"], &refused_env);
    run.failed();
    assert!(
        run.stderr.contains("cannot connect")
            && run.stderr.contains(&format!("127.0.0.1:{closed}")),
        "{run:#?}"
    );

    // An account the server cannot take (aiosmtpd offers no AUTH over plain text): said so,
    // and the password is never printed.
    let mut auth_env = env_refs.clone();
    auth_env.push(("DUPIN_SMTP_USER", "duban"));
    auth_env.push(("DUPIN_SMTP_PASSWORD", "s3cret-Passw0rd"));
    let run = terminal.run_with_env(&["mail", "test", "a@school.example.cn"], &auth_env);
    run.failed();
    assert!(run.stderr.contains("authentication refused"), "{run:#?}");
    assert!(!run.stderr.contains("s3cret") && !run.stdout.contains("s3cret"));

    // STARTTLS that the server does not offer.
    let mut tls_env = env_refs.clone();
    tls_env.retain(|(k, _)| *k != "DUPIN_SMTP_TLS");
    tls_env.push(("DUPIN_SMTP_TLS", "starttls"));
    let run = terminal.run_with_env(&["mail", "test", "a@school.example.cn"], &tls_env);
    run.failed();
    assert!(run.stderr.contains("TLS"), "{run:#?}");

    // TLS from the first byte against a plain-text server: the handshake fails.
    tls_env.retain(|(k, _)| *k != "DUPIN_SMTP_TLS");
    tls_env.push(("DUPIN_SMTP_TLS", "tls"));
    let run = terminal.run_with_env(&["mail", "test", "a@school.example.cn"], &tls_env);
    run.failed();
    assert!(run.stderr.contains("TLS handshake failed"), "{run:#?}");

    // TLS from the first byte against a plain-text server: the handshake fails.
    tls_env.retain(|(k, _)| *k != "DUPIN_SMTP_TLS");
    tls_env.push(("DUPIN_SMTP_TLS", "tls"));
    let run = terminal.run_with_env(&["mail", "test", "a@school.example.cn"], &tls_env);
    run.failed();
    assert!(run.stderr.contains("TLS handshake failed"), "{run:#?}");

    // A refused recipient, with the server's own words.
    let mut rejecting = Sink::new().rejecting("nobody.example.cn");
    rejecting.start();
    let port = rejecting.port.to_string();
    let mut reject_env = env_refs.clone();
    reject_env.retain(|(k, _)| *k != "DUPIN_SMTP_PORT");
    reject_env.push(("DUPIN_SMTP_PORT", &port));
    let run = terminal.run_with_env(&["mail", "test", "ghost@nobody.example.cn"], &reject_env);
    run.failed();
    assert!(
        run.stderr.contains("recipient refused") && run.stderr.contains("550"),
        "{run:#?}"
    );

    // No host at all.
    let run = terminal.run(&["mail", "test", "a@school.example.cn"]);
    run.failed();
    assert!(run.stderr.contains("not configured"), "{run:#?}");
    assert_eq!(sink.received().len(), 1);
}

#[actix_web::test]
async fn mail_outage_loses_nothing_and_sends_each_message_once() {
    if !smtp::available("mail_outage_loses_nothing_and_sends_each_message_once") {
        return;
    }
    let mut sink = Sink::started();
    let app = spawn_app_with(Options {
        mail: sink.settings(),
        ..Options::default()
    })
    .await;
    // Mail flows …
    outbox::enqueue(&app.db, &message("before@school.example.cn", 99))
        .await
        .expect("enqueue");
    sink.wait_for(1, Duration::from_secs(20)).await;
    // … until the server goes down.
    sink.stop();
    const COUNT: usize = 6;
    for n in 0..COUNT {
        outbox::enqueue(
            &app.db,
            &message(&format!("teacher{n}@school.example.cn"), n),
        )
        .await
        .expect("enqueue");
    }
    // Every message is tried, fails, and waits for its next attempt.
    wait_until(
        &app.db,
        "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND attempts >= 2",
        COUNT as i64,
        Duration::from_secs(30),
    )
    .await;
    let error: String = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT last_error FROM outbox WHERE status = 'pending' ORDER BY id LIMIT 1".to_owned(),
        ))
        .await
        .expect("query")
        .expect("a row")
        .try_get_by_index(0)
        .expect("an error");
    assert!(
        error.contains("无法连接") || error.contains("cannot connect"),
        "{error}"
    );
    assert_eq!(sink.received().len(), 1);

    // The server comes back on the same port: everything goes out, once.
    sink.start();
    let received = sink.wait_for(COUNT + 1, Duration::from_secs(30)).await;
    wait_until(
        &app.db,
        "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND sent_at IS NOT NULL",
        COUNT as i64 + 1,
        Duration::from_secs(10),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received_later = sink.received();
    assert_eq!(received_later.len(), COUNT + 1, "{received:#?}");
    let mut recipients: Vec<String> = received_later
        .iter()
        .flat_map(|mail| mail.rcpt_tos.clone())
        .collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), COUNT + 1);
    assert!(
        copies_by_message_id(&received_later)
            .values()
            .all(|&n| n == 1)
    );
    // Subject and text are not HTML-escaped; the HTML part is.
    let first = received_later
        .iter()
        .find(|mail| mail.rcpt_tos == vec!["teacher0@school.example.cn"])
        .expect("teacher0's message");
    assert_eq!(first.subject, "第 0 封 张&李");
    assert!(first.text.as_deref().is_some_and(|t| t.contains("张&李")));
    assert!(
        first
            .html
            .as_deref()
            .is_some_and(|h| h.contains("张&amp;李"))
    );
    assert!(
        first
            .content_types
            .contains(&"multipart/alternative".to_owned())
    );
}

#[actix_web::test]
async fn mail_refused_recipient_is_failed_for_good() {
    if !smtp::available("mail_refused_recipient_is_failed_for_good") {
        return;
    }
    let mut sink = Sink::new().rejecting("nobody.example.cn");
    sink.start();
    let app = spawn_app_with(Options {
        mail: sink.settings(),
        ..Options::default()
    })
    .await;
    outbox::enqueue(&app.db, &message("ghost@nobody.example.cn", 1))
        .await
        .expect("enqueue");
    outbox::enqueue(&app.db, &message("real@school.example.cn", 2))
        .await
        .expect("enqueue");
    wait_until(
        &app.db,
        "SELECT COUNT(*) FROM outbox WHERE status <> 'pending'",
        2,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(
        number(
            &app.db,
            "SELECT COUNT(*) FROM outbox WHERE status = 'failed' AND attempts = 1 AND recipient = 'ghost@nobody.example.cn' AND last_error LIKE '%550%'"
        )
        .await,
        1
    );
    let received = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_tos, vec!["real@school.example.cn"]);
}

#[actix_web::test]
async fn mail_two_processes_send_each_message_exactly_once() {
    if !smtp::available("mail_two_processes_send_each_message_exactly_once") {
        return;
    }
    let sink = Sink::started();
    let mut terminal = Terminal::new();
    let scratch = tempfile::tempdir().expect("temp dir");
    let (database_url, _postgres) = fresh_database(scratch.path()).await;
    if _postgres.is_some() {
        terminal.database_url = database_url;
    }
    // Migrates the database.
    terminal.run(&["campaign", "list"]).succeeded();
    let db = dupin::db::connect(&terminal.database_url)
        .await
        .expect("db");
    let env: Vec<(&str, String)> = sink.env();
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args = ["--bind", "127.0.0.1:0", "--workers", "1"];
    let a = terminal.start_server_with_env(&args, &env_refs);
    let b = terminal.start_server_with_env(&args, &env_refs);
    // Both senders poll the same outbox; the messages appear at once, in one transaction.
    const COUNT: usize = 300;
    let txn = dupin::db::begin_write(&db).await.expect("begin");
    for n in 0..COUNT {
        outbox::enqueue(&txn, &message(&format!("t{n}@school.example.cn"), n))
            .await
            .expect("enqueue");
    }
    txn.commit().await.expect("commit");
    let started = Instant::now();
    sink.wait_for(COUNT, Duration::from_secs(60)).await;
    let took = started.elapsed();
    wait_until(
        &db,
        "SELECT COUNT(*) FROM outbox WHERE status = 'sent'",
        COUNT as i64,
        Duration::from_secs(10),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let received = sink.received();
    assert_eq!(received.len(), COUNT);
    let copies = copies_by_message_id(&received);
    assert_eq!(copies.len(), COUNT);
    assert!(copies.values().all(|&n| n == 1));
    assert_eq!(
        number(&db, "SELECT COUNT(*) FROM outbox WHERE attempts = 1").await,
        COUNT as i64
    );
    eprintln!(
        "mail_two_processes: {} processes sent the {COUNT} messages in {took:.1?}; the first sent {}",
        number(&db, "SELECT COUNT(DISTINCT lease_owner) FROM outbox").await,
        number(
            &db,
            "SELECT COUNT(*) FROM outbox WHERE lease_owner = (SELECT MIN(lease_owner) FROM outbox)"
        )
        .await
    );
    a.stop();
    b.stop();
}

#[actix_web::test]
async fn mail_console_shows_the_outbox_and_retries_a_failed_message() {
    let app = spawn_app().await;
    let mut browser = app.signed_in(dupin::accounts::Role::Supervisor).await;
    let id = outbox::enqueue(&app.db, &message("wang@school.example.cn", 1))
        .await
        .expect("enqueue");
    app.db
        .execute_unprepared(&format!(
            "UPDATE outbox SET status = 'failed', attempts = 12, last_error = '550 5.1.1 User unknown' WHERE id = {id}"
        ))
        .await
        .expect("fail it");
    let page = browser.get("/console/mail").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("邮件尚未配置"), "{}", page.body);
    assert!(page.body.contains("wang@school.example.cn"));
    assert!(page.body.contains("第 1 封 张&amp;李"));
    assert!(page.body.contains("550 5.1.1 User unknown"));
    assert!(page.body.contains(&format!("/console/mail/{id}/retry")));

    // Without the form's token nothing happens.
    let refused = browser
        .post(&format!("/console/mail/{id}/retry"), &[("_csrf", "forged")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let retried = browser
        .submit("/console/mail", &format!("/console/mail/{id}/retry"), &[])
        .await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER, "{}", retried.body);
    assert_eq!(
        number(
            &app.db,
            &format!("SELECT COUNT(*) FROM outbox WHERE id = {id} AND status = 'pending' AND attempts = 0")
        )
        .await,
        1
    );
    let again = browser
        .submit("/console/mail", &format!("/console/mail/{id}/retry"), &[])
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // The report form names a bad address and queues nothing.
    let refused = browser
        .submit(
            "/console/mail/report",
            "/console/mail/report",
            &[
                ("scope", "county"),
                ("addresses", "li@county.edu.cn\nnot-an-address, x@"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("not-an-address"), "{}", refused.body);
    assert!(
        refused.body.contains("li@county.edu.cn"),
        "the addresses stay"
    );
    let many: Vec<String> = (0..51).map(|n| format!("u{n}@county.edu.cn")).collect();
    let refused = browser
        .submit(
            "/console/mail/report",
            "/console/mail/report",
            &[("scope", "county"), ("addresses", &many.join(","))],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("最多发送给 50 个地址"),
        "{}",
        refused.body
    );
    assert_eq!(number(&app.db, "SELECT COUNT(*) FROM outbox").await, 1);
}

#[actix_web::test]
async fn mail_digest_is_queued_for_every_active_supervisor() {
    let terminal = Terminal::new();
    terminal.import_county_schools();
    terminal
        .run(&[
            "campaign",
            "create",
            "--survey",
            "parents",
            "--name",
            "2026 家长满意度测评",
        ])
        .succeeded();
    for (email, role) in [
        ("admin@county.edu.cn", "admin"),
        ("duban@county.edu.cn", "supervisor"),
    ] {
        terminal
            .run_with_env(
                &["admin", "create", email, "--role", role],
                &[("DUPIN_ADMIN_PASSWORD", "县督导办 2026 春")],
            )
            .succeeded();
    }
    let run = terminal.run(&["mail", "digest"]);
    run.succeeded();
    assert!(run.stdout.contains("Queued 2"), "{run:#?}");
    let db = dupin::db::connect(&terminal.database_url)
        .await
        .expect("db");
    assert_eq!(
        number(
            &db,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'digest' AND status = 'pending' AND text_body LIKE '%2026 家长满意度测评%'"
        )
        .await,
        2
    );
}

#[actix_web::test]
async fn mail_report_reaches_two_addresses_with_inline_charts() {
    if !smtp::available("mail_report_reaches_two_addresses_with_inline_charts") {
        return;
    }
    let sink = Sink::started();
    let app = spawn_app_with(Options {
        mail: sink.settings(),
        base_url: Some("https://dupin.example.cn".to_owned()),
        ..Options::default()
    })
    .await;
    let campaign = app.create_campaign("parents", None, None).await;
    let survey = crate::helpers::catalog_survey("parents");
    let token = app.first_token(campaign).await;
    for _ in 0..3 {
        let mut phone = app.phone();
        let page = phone.answer(&token, &survey).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    let mut browser = app.signed_in(dupin::accounts::Role::Supervisor).await;
    let form = browser.get("/console/mail/report?scope=county").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let queued = browser
        .submit(
            "/console/mail/report",
            "/console/mail/report",
            &[
                ("scope", "county"),
                (
                    "addresses",
                    "li.juzhang@county.edu.cn，\n wang@county.edu.cn",
                ),
            ],
        )
        .await;
    assert_eq!(queued.status, StatusCode::SEE_OTHER, "{}", queued.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'mail_report'")
            .await,
        1
    );
    let received = sink.wait_for(2, Duration::from_secs(60)).await;
    assert_eq!(received.len(), 2);
    let mut recipients: Vec<String> = received.iter().flat_map(|m| m.rcpt_tos.clone()).collect();
    recipients.sort();
    assert_eq!(
        recipients,
        vec!["li.juzhang@county.edu.cn", "wang@county.edu.cn"]
    );
    let link = "https://dupin.example.cn/console/reports/county";
    for mail in &received {
        assert!(mail.subject.starts_with("督评报告："), "{}", mail.subject);
        assert!(mail.to.contains(&mail.rcpt_tos[0]), "{mail:#?}");
        let text = mail.text.as_deref().expect("a text part");
        assert!(text.contains(link), "{text}");
        assert!(text.contains("要点"), "{text}");
        let html = mail.html.as_deref().expect("an HTML part");
        assert!(html.contains(link), "{html}");
        assert!(
            mail.content_types
                .contains(&"multipart/alternative".to_owned())
        );
        assert!(mail.content_types.contains(&"multipart/related".to_owned()));
        assert!(!mail.images.is_empty(), "{mail:#?}");
        for image in &mail.images {
            assert_eq!(image.content_type, "image/png");
            assert!(
                html.contains(&format!("cid:{}", image.content_id)),
                "{} not in {html}",
                image.content_id
            );
            let bytes = base64_decode(&image.base64);
            let png = image::load_from_memory(&bytes).expect("a PNG");
            assert!(png.width() > 100 && png.height() > 100);
        }
        // Every summary line of the text is in the HTML too.
        for line in text.lines().filter_map(|line| line.strip_prefix("- ")) {
            let escaped = line
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;");
            assert!(html.contains(&escaped), "{line} not in the HTML");
        }
    }
    // The sink has them once the server said 250; the outbox records it a moment after.
    wait_until(
        &app.db,
        "SELECT COUNT(*) FROM outbox WHERE status = 'sent'",
        2,
        Duration::from_secs(30),
    )
    .await;
    let page = browser.get("/console/mail?status=sent").await;
    assert!(page.body.contains("wang@county.edu.cn"), "{}", page.body);

    // A school's report goes to one address, linked to its page.
    let school_id = dupin::schools::list(&app.db).await.expect("schools")[0].id;
    let queued = browser
        .submit(
            "/console/mail/report",
            "/console/mail/report",
            &[
                ("scope", &school_id.to_string()),
                ("addresses", "xiaozhang@school.example.cn"),
            ],
        )
        .await;
    assert_eq!(queued.status, StatusCode::SEE_OTHER, "{}", queued.body);
    let received = sink.wait_for(3, Duration::from_secs(60)).await;
    let school_mail = received
        .iter()
        .find(|mail| mail.rcpt_tos == vec!["xiaozhang@school.example.cn"])
        .expect("the school's report");
    assert!(
        school_mail
            .text
            .as_deref()
            .is_some_and(|text| text.contains(&format!("/console/reports/schools/{school_id}")))
    );
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in text.bytes() {
        let Some(value) = ALPHABET.iter().position(|&a| a == byte) else {
            continue;
        };
        buffer = (buffer << 6) | value as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

#[actix_web::test]
async fn mail_invitations_follow_their_messages() {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    if !smtp::available("mail_invitations_follow_their_messages") {
        return;
    }
    let mut sink = Sink::new().rejecting("gone.example.cn");
    sink.start();
    let app = spawn_app_with(Options {
        mail: sink.settings(),
        ..Options::default()
    })
    .await;
    let campaign = app.create_campaign("teachers", None, None).await;
    let school_id = dupin::schools::list(&app.db).await.expect("schools")[0].id;
    let now = chrono::Utc::now();
    let mut invitations = Vec::new();
    for (n, (email, status)) in [
        ("zhang@school.example.cn", "queued"),
        ("li@gone.example.cn", "queued"),
        ("wang@school.example.cn", "answered"),
    ]
    .into_iter()
    .enumerate()
    {
        let teacher = entity::teacher::ActiveModel {
            school_id: Set(school_id),
            name: Set(format!("教师{n}")),
            email: Set(email.to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("teacher");
        let invitation = entity::invitation::ActiveModel {
            campaign_id: Set(campaign),
            teacher_id: Set(teacher.id),
            status: Set(status.to_owned()),
            last_error: Set(None),
            sent_at: Set(None),
            reminded_at: Set(None),
            reminders: Set(0),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("invitation");
        outbox::enqueue(
            &app.db,
            &Outgoing {
                kind: MailKind::Invitation,
                invitation_id: Some(invitation.id),
                text: format!("请打开 http://127.0.0.1/s/PERSONAL0000000000{n} 作答"),
                ..message(email, n)
            },
        )
        .await
        .expect("enqueue");
        invitations.push(invitation.id);
    }
    wait_until(
        &app.db,
        "SELECT COUNT(*) FROM outbox WHERE status <> 'pending'",
        3,
        Duration::from_secs(20),
    )
    .await;
    let find = |id: i32| {
        let db = app.db.clone();
        async move {
            entity::invitation::Entity::find_by_id(id)
                .one(&db)
                .await
                .expect("query")
                .expect("the invitation")
        }
    };
    let sent = find(invitations[0]).await;
    assert_eq!(sent.status, "sent");
    assert!(sent.sent_at.is_some() && sent.last_error.is_none());
    let failed = find(invitations[1]).await;
    assert_eq!(failed.status, "failed");
    assert!(
        failed
            .last_error
            .as_deref()
            .is_some_and(|error| error.contains("550") && error.contains("recipient refused")),
        "{failed:?}"
    );
    let answered = find(invitations[2]).await;
    assert_eq!(answered.status, "answered");
    let received = sink.received();
    assert_eq!(received.len(), 2);
    // The teacher got the link; the outbox keeps it only while the mail waits (and for a retry
    // of a failed one), never once it went.
    assert!(received.iter().any(|mail| {
        mail.text
            .as_deref()
            .is_some_and(|text| text.contains("/s/PERSONAL00000000000"))
    }));
    let kept = entity::outbox::Entity::find()
        .all(&app.db)
        .await
        .expect("the outbox");
    for row in &kept {
        match row.status.as_str() {
            "sent" => assert!(!row.text_body.contains("PERSONAL"), "{}", row.text_body),
            _ => assert!(row.text_body.contains("PERSONAL"), "{row:?}"),
        }
    }
    assert_eq!(kept.len(), 3);
}

#[actix_web::test]
async fn mail_a_dead_process_claim_is_sent_once_its_lease_expires() {
    if !smtp::available("mail_a_dead_process_claim_is_sent_once_its_lease_expires") {
        return;
    }
    let sink = Sink::started();
    let app = spawn_app_with(Options {
        mail: sink.settings(),
        ..Options::default()
    })
    .await;
    // Two messages claimed by a process that died mid-send: one lease ran out already, the
    // other still runs for a minute.
    let txn = dupin::db::begin_write(&app.db).await.expect("begin");
    let expired = outbox::enqueue(&txn, &message("expired@school.example.cn", 1))
        .await
        .expect("enqueue");
    let held = outbox::enqueue(&txn, &message("held@school.example.cn", 2))
        .await
        .expect("enqueue");
    for (id, lease) in [(expired, -5i64), (held, 60)] {
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let until = dupin::mail::outbox::now() + chrono::Duration::seconds(lease);
        entity::outbox::Entity::update_many()
            .col_expr(entity::outbox::Column::LeaseOwner, Expr::value("dead:1:x"))
            .col_expr(entity::outbox::Column::LeaseUntil, Expr::value(until))
            .filter(entity::outbox::Column::Id.eq(id))
            .exec(&txn)
            .await
            .expect("lease");
    }
    txn.commit().await.expect("commit");
    let received = sink.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(received[0].rcpt_tos, vec!["expired@school.example.cn"]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sink.received().len(), 1, "a live lease is left alone");
    assert_eq!(
        number(
            &app.db,
            &format!("SELECT COUNT(*) FROM outbox WHERE id = {held} AND status = 'pending' AND lease_owner = 'dead:1:x'")
        )
        .await,
        1
    );
}
