//! Clients that send too slowly, too much, or never finish: each is answered or cut off within a
//! bounded time, and the server keeps answering everyone else. Spoken over raw TCP, since no
//! well-behaved HTTP client can be made to misbehave like this.

use std::time::{Duration, Instant};

use awc::http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Options, TestApp, answers_for, catalog_survey, spawn_app_with};

/// Short enough for a quick test, long enough that a loaded debug build answers in time.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// How long actix goes on reading (and dropping) what a client sends after an early answer,
/// so that the client gets to read it, before it closes (`client_disconnect_timeout`).
const LINGER: Duration = Duration::from_secs(5);
/// Slack for a loaded debug build on two shared cores.
const SLACK: Duration = Duration::from_millis(1500);
/// Everything these tests wait for must have happened by then.
const PATIENCE: Duration = Duration::from_secs(12);

/// What came back on one raw connection.
#[derive(Debug)]
struct RawAnswer {
    /// The status of the first response, if one came.
    status: Option<u16>,
    /// Everything received, lossily as text.
    text: String,
    /// When the first byte of a response arrived, counted from the connection.
    answered_after: Option<Duration>,
    /// When the server closed the connection (or reset it), counted from the connection.
    closed_after: Option<Duration>,
}

/// Connects to `address` (`http://127.0.0.1:PORT`), sends `parts` one after the other with
/// `pause` between them, and reads until the server closes the connection or `patience` runs
/// out. Sending stops quietly once the server has closed.
async fn exchange(
    address: &str,
    parts: Vec<Vec<u8>>,
    pause: Duration,
    patience: Duration,
) -> RawAnswer {
    let host = address.trim_start_matches("http://");
    let stream = TcpStream::connect(host).await.expect("connect");
    let started = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    let sending = actix_web::rt::spawn(async move {
        for (n, part) in parts.into_iter().enumerate() {
            if n > 0 {
                actix_web::rt::time::sleep(pause).await;
            }
            if writer.write_all(&part).await.is_err() {
                return;
            }
        }
        // Keep the connection open (not half-closed) until the server is done with it.
        actix_web::rt::time::sleep(PATIENCE).await;
        drop(writer);
    });
    let mut received = Vec::new();
    let mut answered_after = None;
    let mut closed_after = None;
    let mut buffer = [0u8; 16 * 1024];
    while started.elapsed() < patience {
        let left = patience.saturating_sub(started.elapsed());
        match actix_web::rt::time::timeout(left, reader.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed_after = Some(started.elapsed());
                break;
            }
            Ok(Ok(read)) => {
                answered_after.get_or_insert(started.elapsed());
                received.extend_from_slice(&buffer[..read]);
            }
            Err(_) => break,
        }
    }
    sending.abort();
    let text = String::from_utf8_lossy(&received).into_owned();
    RawAnswer {
        status: status_of(&text),
        text,
        answered_after,
        closed_after,
    }
}

/// The status code of the response that starts `text`.
pub(crate) fn status_of(text: &str) -> Option<u16> {
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn host_of(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

async fn app_with_a_campaign() -> (TestApp, String) {
    let app = spawn_app_with(Options {
        request_timeout: REQUEST_TIMEOUT,
        ..Options::default()
    })
    .await;
    let campaign = app.create_campaign("parents", None, None).await;
    let token = app.first_token(campaign).await;
    (app, token)
}

/// A real answer still goes through: the server was not hurt by what came before.
async fn a_phone_still_answers(app: &TestApp, token: &str) {
    let before = app.responses().await;
    let page = app.phone().answer(token, &catalog_survey("parents")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(app.responses().await, before + 1);
}

/// Cut off: answered with `status` (or, for `None`, answered or closed) no sooner than the
/// limit allows and soon after it, and the connection closed by the server even though the
/// client would go on sending.
fn assert_cut_off_at_the_limit(answer: &RawAnswer, status: Option<u16>, what: &str) {
    if let Some(status) = status {
        assert_eq!(answer.status, Some(status), "{what}: {answer:#?}");
    }
    let closed = answer
        .closed_after
        .unwrap_or_else(|| panic!("{what}: the connection was never closed: {answer:#?}"));
    let answered = answer.answered_after.unwrap_or(closed);
    assert!(
        answered >= REQUEST_TIMEOUT - Duration::from_millis(200),
        "{what}: cut off before its time: {answer:#?}"
    );
    assert!(
        answered <= REQUEST_TIMEOUT + SLACK,
        "{what}: cut off too late: {answer:#?}"
    );
    assert!(
        closed <= answered + LINGER + SLACK,
        "{what}: closed too late: {answer:#?}"
    );
}

/// Refused at once, and the connection closed by the server even though the client would go on
/// sending.
fn assert_refused_at_once(answer: &RawAnswer, status: u16, what: &str) {
    assert_eq!(answer.status, Some(status), "{what}: {answer:#?}");
    let answered = answer.answered_after.expect("answered");
    assert!(answered < Duration::from_secs(1), "{what}: {answer:#?}");
    let closed = answer
        .closed_after
        .unwrap_or_else(|| panic!("{what}: the connection was never closed: {answer:#?}"));
    assert!(
        closed <= answered + LINGER + SLACK,
        "{what}: closed too late: {answer:#?}"
    );
}

fn post_head(path: &str, host: &str, length_header: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n{length_header}\r\n"
    )
    .into_bytes()
}

/// The body of a complete, valid answer (with a made-up but well-formed key).
fn valid_body() -> Vec<u8> {
    let mut fields = vec![("_key".to_owned(), dupin::secrets::random_key())];
    fields.extend(answers_for(&catalog_survey("parents")));
    crate::helpers::encode_form(&fields).into_bytes()
}

#[actix_web::test]
async fn slow_and_stalled_bodies_are_answered_at_the_limit_and_their_connections_closed() {
    let (app, token) = app_with_a_campaign().await;
    let (host, path) = (host_of(&app), format!("/s/{token}"));

    // A whole form, one byte every 100 ms: it would take minutes.
    let body = valid_body();
    let mut trickled = vec![post_head(
        &path,
        &host,
        &format!("Content-Length: {}\r\n", body.len()),
    )];
    trickled.extend(body.iter().map(|byte| vec![*byte]));
    // A plausible length announced, ten bytes sent, then silence.
    let stalled = vec![
        post_head(&path, &host, "Content-Length: 5000\r\n"),
        b"_key=0123a".to_vec(),
    ];
    // Small chunks, slowly, for ever.
    let mut chunked = vec![post_head(&path, &host, "Transfer-Encoding: chunked\r\n")];
    chunked.extend((0..400).map(|_| b"1\r\na\r\n".to_vec()));
    // The same on a console form, which actix's form extractor reads.
    let console = vec![
        post_head("/console/login", &host, "Content-Length: 800\r\n"),
        b"email=a%40b.cn&pass".to_vec(),
    ];

    let pause = Duration::from_millis(100);
    let (trickled, stalled, chunked, console) = tokio::join!(
        exchange(&app.address, trickled, pause, PATIENCE),
        exchange(&app.address, stalled, pause, PATIENCE),
        exchange(&app.address, chunked, Duration::from_millis(50), PATIENCE),
        exchange(&app.address, console, pause, PATIENCE),
    );

    assert_cut_off_at_the_limit(&trickled, Some(408), "a trickled form");
    assert!(trickled.text.contains("没有被保存"), "{}", trickled.text);
    assert_cut_off_at_the_limit(&stalled, Some(408), "a stalled form");
    assert_cut_off_at_the_limit(&chunked, Some(408), "an endless chunked form");
    assert_cut_off_at_the_limit(&console, None, "a stalled console form");
    let status = console.status.expect("the console answered");
    assert!((400..500).contains(&status), "{console:#?}");
    assert_eq!(app.responses().await, 0);
    a_phone_still_answers(&app, &token).await;
}

#[actix_web::test]
async fn bodies_past_the_size_limit_are_refused_at_once_and_their_connections_closed() {
    let (app, token) = app_with_a_campaign().await;
    let (host, path) = (host_of(&app), format!("/s/{token}"));

    // Ten megabytes announced: refused before a byte of it is read.
    let announced = vec![post_head(&path, &host, "Content-Length: 10000000\r\n")];
    let console = vec![post_head(
        "/console/login",
        &host,
        "Content-Length: 10000000\r\n",
    )];
    // Large chunks, as fast as they go, for ever: refused once past the form's size limit.
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "a".repeat(64 * 1024)).into_bytes();
    let mut chunked = vec![post_head(&path, &host, "Transfer-Encoding: chunked\r\n")];
    chunked.extend((0..400).map(|_| chunk.clone()));

    let (announced, console, chunked) = tokio::join!(
        exchange(&app.address, announced, Duration::ZERO, PATIENCE),
        exchange(&app.address, console, Duration::ZERO, PATIENCE),
        exchange(&app.address, chunked, Duration::ZERO, PATIENCE),
    );

    assert_refused_at_once(&announced, 413, "ten megabytes announced");
    assert!(announced.text.contains("内容太长"), "{}", announced.text);
    assert_refused_at_once(&console, 400, "ten megabytes to the console");
    assert!(console.text.contains("太长"), "{}", console.text);
    assert_refused_at_once(&chunked, 413, "endless large chunks");
    assert_eq!(app.responses().await, 0);
    a_phone_still_answers(&app, &token).await;
}

#[actix_web::test]
async fn a_head_sent_slowly_or_not_at_all_is_cut_off_with_408() {
    let (app, token) = app_with_a_campaign().await;

    let mut slow =
        vec![format!("GET /s/{token} HTTP/1.1\r\nHost: {}\r\n", host_of(&app)).into_bytes()];
    slow.extend(
        b"X-Slow: 0123456789012345678901234567890123456789"
            .iter()
            .map(|byte| vec![*byte]),
    );
    let (slow, silent) = tokio::join!(
        exchange(&app.address, slow, Duration::from_millis(100), PATIENCE),
        // A connection that never says anything.
        exchange(&app.address, Vec::new(), Duration::ZERO, PATIENCE),
    );

    assert_cut_off_at_the_limit(&slow, Some(408), "a slow head");
    assert_cut_off_at_the_limit(&silent, None, "a silent connection");
    a_phone_still_answers(&app, &token).await;
}

#[actix_web::test]
async fn oversized_heads_are_refused_with_431_or_400_and_the_server_keeps_answering() {
    let (app, token) = app_with_a_campaign().await;
    let host = host_of(&app);
    let get = |extra: String| {
        format!("GET /s/{token} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n")
            .into_bytes()
    };
    let with_query = |bytes: usize| {
        format!(
            "GET /s/{token}?q={} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
            "c".repeat(bytes)
        )
        .into_bytes()
    };
    let cookie_of = |bytes: usize| format!("Cookie: dupin_browser={}\r\n", "a".repeat(bytes));
    let lines = |count: usize| {
        (0..count)
            .map(|n| format!("X-Line-{n}: {n}\r\n"))
            .collect::<String>()
    };
    let cases = [
        ("a 100 KB cookie", get(cookie_of(100 * 1024)), 431),
        ("a 40 KB cookie", get(cookie_of(40 * 1024)), 431),
        ("500 header lines", get(lines(500)), 431),
        (
            "200 KB of one header",
            get(format!("X-Big: {}\r\n", "b".repeat(200 * 1024))),
            431,
        ),
        ("a 40 KB query string", with_query(40 * 1024), 431),
        ("a 100 KB query string", with_query(100 * 1024), 400),
        // What a real browser sends passes.
        ("a 4 KB cookie", get(cookie_of(4 * 1024)), 200),
        ("60 header lines", get(lines(60)), 200),
    ];
    for (what, request, status) in cases {
        let answer = exchange(&app.address, vec![request], Duration::ZERO, PATIENCE).await;
        assert_eq!(answer.status, Some(status), "{what}: {}", answer.text);
        let answered = answer
            .answered_after
            .unwrap_or_else(|| panic!("{what}: no answer"));
        assert!(answered < Duration::from_secs(2), "{what}: {answer:#?}");
        assert!(answer.closed_after.is_some(), "{what}: {answer:#?}");
        if status == 431 && answer.text.contains("<html") {
            assert!(answer.text.contains("Cookie"), "{what}: {}", answer.text);
        }
        let ok = app.phone().get(&format!("/s/{token}")).await;
        assert_eq!(ok.status, StatusCode::OK, "after {what}");
    }
    a_phone_still_answers(&app, &token).await;
}
