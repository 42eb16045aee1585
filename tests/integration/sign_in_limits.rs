//! Console limits that hold under concurrency (issue 12, part 4): every attempt at a password is
//! reserved before it is checked, so sixty attempts at once check three; unknown e-mails are
//! slowed like known ones; a success clears only its own e-mail; a throttled client is audited
//! once; the password page counts its attempts; an admin can unlock; sign-out ends a copied
//! cookie; the setup link makes one admin however many requests race on it; a trusted proxy is
//! believed only for the address it appended; `next` with control characters is refused; every
//! answer forbids framing and sniffing and sends no referrer.

use awc::http::StatusCode;
use dupin::accounts::Role;
use futures_util::future::join_all;

use crate::helpers::{Options, PASSWORD, TestApp, spawn_app, spawn_app_with};

/// One sign-in through the real form: the form's CSRF cookie and field, then the POST, with an
/// `X-Forwarded-For` header when given. Returns the status and the page.
async fn attempt(
    app: &TestApp,
    forwarded_for: Option<&str>,
    email: &str,
    password: &str,
    next: &str,
) -> (StatusCode, String) {
    let client = awc::Client::builder().disable_redirects().finish();
    let (cookie, csrf) = crate::helpers::login_form(&client, &app.address).await;
    let mut request = client
        .post(format!("{}/console/login", app.address))
        .insert_header(("Cookie", cookie));
    if let Some(forwarded_for) = forwarded_for {
        request = request.insert_header(("X-Forwarded-For", forwarded_for.to_owned()));
    }
    let mut response = request
        .send_form(&[
            ("_csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
            ("next", next),
        ])
        .await
        .expect("sign-in");
    let status = response.status();
    let body = response
        .body()
        .await
        .map(|body| body.to_vec())
        .unwrap_or_default();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn audit_count(app: &TestApp, action: &str, detail_like: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM audit_event WHERE action = '{action}' AND detail LIKE '{detail_like}'"
    ))
    .await
}

/// Sixty attempts at once on `email`, each from its own address behind a trusted proxy (so that
/// only the e-mail's limit can bite): how many were answered 401 (checked and wrong) and 429.
async fn sixty_at_once(app: &TestApp, email: &str) -> (usize, usize) {
    let attempts = (0..60).map(|n| {
        let forwarded = format!("10.20.{}.{}", n / 200, n % 200 + 1);
        async move { attempt(app, Some(&forwarded), email, "wrong password!", "/console").await }
    });
    let outcomes = join_all(attempts).await;
    let checked = outcomes
        .iter()
        .filter(|(status, _)| *status == StatusCode::UNAUTHORIZED)
        .count();
    let slowed = outcomes
        .iter()
        .filter(|(status, body)| {
            *status == StatusCode::TOO_MANY_REQUESTS && body.contains("登录失败次数过多")
        })
        .count();
    (checked, slowed)
}

#[actix_web::test]
async fn sixty_parallel_wrong_passwords_check_three_for_a_known_and_an_unknown_email_alike() {
    let app = spawn_app_with(Options {
        trust_proxy: true,
        ..Options::default()
    })
    .await;
    app.account("li@county.edu.cn", Role::Supervisor, None)
        .await;
    let known = sixty_at_once(&app, "li@county.edu.cn").await;
    let unknown = sixty_at_once(&app, "nobody@county.edu.cn").await;
    assert_eq!(known, (3, 57), "known e-mail: (checked, slowed)");
    assert_eq!(unknown, (3, 57), "unknown e-mail: (checked, slowed)");
    // Each checked failure is audited, and each lock once however many attempts it turned away.
    assert_eq!(
        audit_count(&app, "sign_in_failed", "邮箱或密码不正确").await,
        6
    );
    assert_eq!(
        audit_count(&app, "sign_in_failed", "登录失败次数过多%").await,
        2
    );
    // Now even the right password waits: the lock was reserved before the passwords were checked.
    let (status, _) = attempt(
        &app,
        Some("10.30.0.1"),
        "li@county.edu.cn",
        PASSWORD,
        "/console",
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[actix_web::test]
async fn an_unknown_email_is_answered_like_a_known_one_attempt_by_attempt() {
    let app = spawn_app().await;
    app.account("wang@county.edu.cn", Role::Supervisor, None)
        .await;
    let mut answers = Vec::new();
    for email in ["wang@county.edu.cn", "ghost@county.edu.cn"] {
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(
                attempt(&app, None, email, "wrong password!", "/console")
                    .await
                    .0,
            );
        }
        answers.push(statuses);
    }
    assert_eq!(
        answers[0],
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    assert_eq!(answers[0], answers[1]);
}

#[actix_web::test]
async fn a_success_clears_only_its_own_email_and_gives_back_only_its_own_client_attempt() {
    let app = spawn_app().await;
    app.account("zhao@county.edu.cn", Role::Supervisor, None)
        .await;
    app.account("qian@county.edu.cn", Role::Supervisor, None)
        .await;
    // Two failures on qian's account, then zhao signs in from the same client.
    for _ in 0..2 {
        attempt(
            &app,
            None,
            "qian@county.edu.cn",
            "wrong password!",
            "/console",
        )
        .await;
    }
    // 17 more failures on other e-mails: 19 in all from this client.
    for n in 0..17 {
        let email = format!("nobody{n}@county.edu.cn");
        attempt(&app, None, &email, "wrong password!", "/console").await;
    }
    let (status, _) = attempt(&app, None, "zhao@county.edu.cn", PASSWORD, "/console").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The success gave back its own attempt only: one more failure is checked, the next held back.
    let (status, _) = attempt(
        &app,
        None,
        "other1@county.edu.cn",
        "wrong password!",
        "/console",
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = attempt(
        &app,
        None,
        "other2@county.edu.cn",
        "wrong password!",
        "/console",
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // qian's two failures still count: a third locks, whoever else signed in meanwhile.
    let limit = app
        .count(
            "SELECT CAST(attempts AS BIGINT) FROM sign_in_limit WHERE email = 'qian@county.edu.cn'",
        )
        .await;
    assert_eq!(limit, 2);
}

#[actix_web::test]
async fn a_throttled_client_writes_one_audit_row_however_often_it_tries() {
    let app = spawn_app().await;
    let attempts = (0..60).map(|n| {
        let email = format!("flood{n}@county.edu.cn");
        let app = &app;
        async move {
            attempt(app, None, &email, "wrong password!", "/console")
                .await
                .0
        }
    });
    let statuses = join_all(attempts).await;
    let allowed = statuses
        .iter()
        .filter(|status| **status == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(
        allowed,
        dupin::accounts::throttle::ATTEMPTS_ALLOWED as usize
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'sign_in_throttled'")
            .await,
        1
    );
}

#[actix_web::test]
async fn wrong_current_passwords_on_the_password_page_are_counted_like_sign_ins() {
    let app = spawn_app().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let page = browser
            .submit(
                "/console/password",
                "/console/password",
                &[
                    ("current", "not my password"),
                    ("password", "a new long password"),
                    ("confirm", "a new long password"),
                ],
            )
            .await;
        statuses.push(page.status);
        if page.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(page.body.contains("密码错误次数过多"), "{}", page.body);
        }
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'password_change_failed'")
            .await,
        3
    );
}

#[actix_web::test]
async fn an_admin_unlocks_an_account_held_back_by_failed_sign_ins() {
    let app = spawn_app().await;
    let held = app
        .account("sun@county.edu.cn", Role::Supervisor, None)
        .await;
    for _ in 0..3 {
        attempt(
            &app,
            None,
            "sun@county.edu.cn",
            "wrong password!",
            "/console",
        )
        .await;
    }
    let (status, _) = attempt(&app, None, "sun@county.edu.cn", PASSWORD, "/console").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    let mut admin = app.signed_in(Role::Admin).await;
    let list = admin.get("/console/accounts").await;
    assert!(list.body.contains("暂停登录至"), "{}", list.body);
    let unlocked = admin
        .submit(
            "/console/accounts",
            &format!("/console/accounts/{}/unlock", held.id),
            &[],
        )
        .await;
    assert_eq!(unlocked.status, StatusCode::SEE_OTHER, "{}", unlocked.body);
    let (status, _) = attempt(&app, None, "sun@county.edu.cn", PASSWORD, "/console").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'account_unlock'")
            .await,
        1
    );
}

#[actix_web::test]
async fn signing_out_ends_a_copied_session_cookie_too() {
    let app = spawn_app().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let copied = browser.cookie_header().expect("a session");
    let client = awc::Client::builder().disable_redirects().finish();
    let before = client
        .get(format!("{}/console/password", app.address))
        .insert_header(("Cookie", copied.clone()))
        .send()
        .await
        .expect("a response");
    assert_eq!(before.status(), StatusCode::OK);
    let out = browser
        .submit("/console/password", "/console/logout", &[])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = client
        .get(format!("{}/console/password", app.address))
        .insert_header(("Cookie", copied))
        .send()
        .await
        .expect("a response");
    assert_eq!(
        after.status(),
        StatusCode::SEE_OTHER,
        "the copied cookie still works"
    );
}

#[actix_web::test]
async fn ten_requests_racing_on_the_setup_link_make_one_admin() {
    let app = spawn_app().await;
    let token = dupin::accounts::new_setup_token(&app.db)
        .await
        .expect("db")
        .expect("a token");
    let client = awc::Client::builder().disable_redirects().finish();
    let posts = (0..10).map(|n| {
        let client = &client;
        let url = format!("{}/setup/{token}", app.address);
        async move {
            client
                .post(url)
                .send_form(&[
                    ("email", format!("chief{n}@county.edu.cn")),
                    ("name", format!("主任{n}")),
                    ("password", PASSWORD.to_owned()),
                    ("confirm", PASSWORD.to_owned()),
                ])
                .await
                .expect("a response")
                .status()
        }
    });
    let statuses = join_all(posts).await;
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::SEE_OTHER || *s == StatusCode::NOT_FOUND),
        "{statuses:?}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM account").await, 1);
}

#[actix_web::test]
async fn behind_a_trusted_proxy_only_the_address_it_appended_counts() {
    let app = spawn_app_with(Options {
        trust_proxy: true,
        ..Options::default()
    })
    .await;
    // A client that makes up a new first entry each time is still the address nginx appended.
    let mut last = StatusCode::OK;
    for n in 0..21 {
        let forwarded = format!("203.0.113.{n}, 10.9.9.9");
        let email = format!("spoof{n}@county.edu.cn");
        last = attempt(
            &app,
            Some(&forwarded),
            &email,
            "wrong password!",
            "/console",
        )
        .await
        .0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);

    // `Forwarded` is never believed: every such request is the proxy itself.
    let plain = spawn_app_with(Options {
        trust_proxy: true,
        ..Options::default()
    })
    .await;
    let client = awc::Client::builder().disable_redirects().finish();
    let mut statuses = Vec::new();
    for n in 0..21 {
        let email = format!("fwd{n}@county.edu.cn");
        let form =
            attempt_with_forwarded(&client, &plain, &format!("for=198.51.100.{n}"), &email).await;
        statuses.push(form);
    }
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
}

/// A sign-in with a `Forwarded` header and no `X-Forwarded-For`.
async fn attempt_with_forwarded(
    client: &awc::Client,
    app: &TestApp,
    forwarded: &str,
    email: &str,
) -> StatusCode {
    let (cookie, csrf) = crate::helpers::login_form(client, &app.address).await;
    client
        .post(format!("{}/console/login", app.address))
        .insert_header(("Cookie", cookie))
        .insert_header(("Forwarded", forwarded.to_owned()))
        .send_form(&[
            ("_csrf", csrf.as_str()),
            ("email", email),
            ("password", "wrong password!"),
        ])
        .await
        .expect("sign-in")
        .status()
}

#[actix_web::test]
async fn a_next_with_control_characters_is_refused_not_a_server_error() {
    let app = spawn_app().await;
    app.account("zhou@county.edu.cn", Role::Supervisor, None)
        .await;
    let (status, _) = attempt(
        &app,
        None,
        "zhou@county.edu.cn",
        PASSWORD,
        "/console\r\nSet-Cookie: x=1",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mut browser = app.browser();
    let form = browser.get("/console/login?next=/console%0D%0Ax").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("name=\"next\" value=\"/console\""),
        "{}",
        form.body
    );
}

#[actix_web::test]
async fn every_answer_forbids_framing_and_sniffing_and_sends_no_referrer() {
    let app = spawn_app().await;
    let client = awc::Client::builder().disable_redirects().finish();
    for path in [
        "/console/login",
        "/console",
        "/api/v1/campaigns",
        "/api/v1/openapi.json",
        "/",
        "/nothing",
    ] {
        let response = client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("a response");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
    }
}
