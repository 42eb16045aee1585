//! Answers the rated cannot stuff, tried as the people a rating judges would try: a forged
//! browser cookie or a moved served time; one client sending hundreds of top answers to a
//! school's public link from eight threads; many addresses surging on a small school's link at
//! once — against a real class group of 40 phones, which must be counted in full and flagged
//! nowhere. Behind a proxy (`trust_proxy`), as in production, so that each phone has its address.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use awc::http::StatusCode;
use dupin::accounts::Role;
use dupin::survey::{QuestionKind, Scale, Survey};
use serde_json::Value;

use crate::helpers::{
    Options, Page, Phone, TestApp, answers_for, catalog_survey, filled_in, spawn_app_with,
};

/// The county's largest school in the sample list (2,860 pupils): 60 of its parents answered.
const BIG_SCHOOL: &str = "4521230001";
/// A village school of 145 pupils, whose link takes 50 answers a minute before holding.
const SMALL_SCHOOL: &str = "4521230030";

async fn app_behind_a_proxy() -> TestApp {
    spawn_app_with(Options {
        trust_proxy: true,
        ..Options::default()
    })
    .await
}

async fn school_id(app: &TestApp, code: &str) -> i64 {
    app.count(&format!(
        "SELECT CAST(id AS BIGINT) FROM school WHERE code = '{code}'"
    ))
    .await
}

/// Scale points from the lowest score to the highest.
fn by_score(scale: &Scale) -> Vec<String> {
    let mut points: Vec<(f64, String)> = scale
        .points
        .iter()
        .filter_map(|point| Some((point.score?, point.code.clone())))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points.into_iter().map(|(_, code)| code).collect()
}

/// `answers_for(survey)` with every scale question and matrix statement answered at the point
/// `pick` chooses from the points in score order (lowest first).
fn answers_picking(
    survey: &Survey,
    mut pick: impl FnMut(&[String]) -> String,
) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for (name, value) in answers_for(survey) {
        let question_id = name.split('.').next().unwrap_or_default();
        let question = survey
            .questions()
            .find(|question| question.id == question_id)
            .expect("a question");
        let value = match &question.kind {
            QuestionKind::Scale { scale } | QuestionKind::Matrix { scale, .. } => {
                pick(&by_score(scale))
            }
            _ => value,
        };
        fields.push((name, value));
    }
    fields
}

/// A tiny deterministic generator, so that varied answers are the same on every run.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % sides as u64) as usize
    }
}

/// A parent mostly dissatisfied: the lowest point, sometimes the second.
fn dissatisfied(survey: &Survey, dice: &mut Dice) -> Vec<(String, String)> {
    answers_picking(survey, |points| {
        points[if dice.roll(4) == 0 { 1 } else { 0 }].clone()
    })
}

/// A parent with an opinion of each thing: any point.
fn varied(survey: &Survey, dice: &mut Dice) -> Vec<(String, String)> {
    answers_picking(survey, |points| points[dice.roll(points.len())].clone())
}

fn all_top(survey: &Survey) -> Vec<(String, String)> {
    answers_picking(survey, |points| points.last().expect("points").clone())
}

/// A phone opens the form: its hidden fields and `answers`, as it would send them.
async fn open_form(
    phone: &mut Phone,
    token: &str,
    answers: Vec<(String, String)>,
) -> Vec<(String, String)> {
    filled_in(&phone.get(&format!("/s/{token}")).await, answers)
}

fn phone_from(app: &TestApp, address: &str) -> Phone {
    let mut phone = app.phone();
    phone.forwarded_for = Some(address.to_owned());
    phone
}

async fn submit(phone: &mut Phone, token: &str, fields: &[(String, String)]) -> Page {
    phone.post_form(&format!("/s/{token}"), fields).await
}

/// The school's published parents' index and its answers, as the API gives them.
async fn index_of(
    app: &TestApp,
    api: &str,
    campaign: i32,
    school: i64,
) -> (Option<f64>, u64, Value) {
    let (status, json) = app
        .api_get(
            api,
            &format!("/api/v1/campaigns/{campaign}/results?school={school}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    (
        json["overall"]["value"].as_f64(),
        json["responses"].as_u64().expect("responses"),
        json,
    )
}

/// Sends every phone's filled-in form at once; every one must be acknowledged (a real parent
/// never loses an answer).
async fn send_together(token: &str, phones: Vec<(Phone, Vec<(String, String)>)>) {
    let mut sent = Vec::new();
    for (mut phone, fields) in phones {
        let path = format!("/s/{token}");
        sent.push(actix_web::rt::spawn(async move {
            phone.post_form(&path, &fields).await.status
        }));
    }
    for status in sent {
        assert_eq!(status.await.expect("sent"), StatusCode::SEE_OTHER);
    }
}

/// The school's link's count of included answers.
async fn counted_at(app: &TestApp, campaign: i32, school: i64) -> i64 {
    app.count(&format!(
        "SELECT CAST(response_count AS BIGINT) FROM campaign_link \
         WHERE campaign_id = {campaign} AND school_id = {school}"
    ))
    .await
}

/// Waits until the next minute begins (UTC), so that what follows is counted in a minute of
/// its own by the link's admission.
async fn next_minute() {
    let now = chrono::Utc::now();
    let into = now.timestamp().rem_euclid(60);
    tokio::time::sleep(Duration::from_millis(((60 - into) * 1000 + 200) as u64)).await;
}

#[actix_web::test]
async fn stuffing_a_forged_cookie_counts_as_none_and_a_moved_time_is_refused() {
    let app = app_behind_a_proxy().await;
    let BigSchool { survey, token, .. } = big_school_link(&app).await;

    // The served time moved five minutes back, or left out: a form our page could not send.
    let mut phone = phone_from(&app, "198.51.100.1");
    let mut fields = open_form(&mut phone, &token, all_top(&survey)).await;
    let served = fields[1].1.clone();
    let (millis, signature) = served.split_once('.').expect("a signed time");
    let moved: i64 = millis.parse::<i64>().expect("milliseconds") - 300_000;
    fields[1].1 = format!("{moved}.{signature}");
    let refused = submit(&mut phone, &token, &fields).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("这份表单不是从本页面提交的"),
        "{}",
        refused.body
    );
    let again = refused
        .hidden("_t")
        .expect("the page given back is signed anew");
    fields.remove(1);
    let refused = submit(&mut phone, &token, &fields).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(app.responses().await, 0, "nothing stored");
    // The page given back carries the answers and a time of its own: one more tap sends it.
    fields.insert(1, ("_t".to_owned(), again));
    let taken = submit(&mut phone, &token, &fields).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.body);
    assert_eq!(app.responses().await, 1);

    // A cookie this server never issued is no cookie: the answer is stored without a browser.
    let mut phone = phone_from(&app, "198.51.100.2");
    let fields = open_form(&mut phone, &token, all_top(&survey)).await;
    phone.cookie = Some(format!("dupin_browser={}", dupin::secrets::random_key()));
    let taken = submit(&mut phone, &token, &fields).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.body);
    assert_eq!(
        app.count("SELECT count(*) FROM response WHERE browser_key IS NULL")
            .await,
        1,
        "the forged cookie's answer has no browser"
    );
    // The cookie the server issued is the browser's.
    let mut phone = phone_from(&app, "198.51.100.3");
    let fields = open_form(&mut phone, &token, all_top(&survey)).await;
    let taken = submit(&mut phone, &token, &fields).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.body);
    assert_eq!(
        app.count("SELECT count(*) FROM response WHERE browser_key IS NOT NULL")
            .await,
        2,
        "the answers of phones with the server's cookie have one each"
    );
}

/// What one attacking thread did.
#[derive(Default)]
struct Tally {
    acknowledged: AtomicU64,
    refused: AtomicU64,
}

#[actix_web::test]
async fn stuffing_one_client_moves_a_schools_published_index_by_less_than_3_points() {
    let app = app_behind_a_proxy().await;
    let BigSchool {
        campaign,
        survey,
        token,
        school,
    } = big_school_link(&app).await;
    let api = app.api_token().await;

    // 60 parents, each on their own phone and carrier address, mostly dissatisfied.
    let mut dice = Dice(20_261_203);
    for parent in 0..60 {
        let mut phone = phone_from(
            &app,
            &format!("10.{}.{}.{}", parent % 7, parent / 7, parent + 1),
        );
        let fields = open_form(&mut phone, &token, dissatisfied(&survey, &mut dice)).await;
        let page = submit(&mut phone, &token, &fields).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    // And 30 parents of another school, for the county's share of all-top forms.
    let other = app.link_token(campaign, SMALL_SCHOOL).await;
    for parent in 0..30 {
        let mut phone = phone_from(&app, &format!("10.99.0.{}", parent + 1));
        let fields = open_form(&mut phone, &other, varied(&survey, &mut dice)).await;
        let page = submit(&mut phone, &other, &fields).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    let (before, answers, _) = index_of(&app, &api, campaign, school).await;
    let before = before.expect("60 answers give an index");
    assert_eq!(answers, 60);
    assert!(before < 40.0, "mostly dissatisfied: {before}");

    // The attack starts in a minute of its own (the link's rate is counted by the minute).
    next_minute().await;
    let started = Instant::now();
    let tally = Arc::new(Tally::default());
    let mut threads = Vec::new();
    for thread in 0..8_u32 {
        let (tally, token, address) = (tally.clone(), token.clone(), app.address.clone());
        let answers = all_top(&survey);
        threads.push(std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let deadline = Instant::now() + Duration::from_secs(10);
                let mut round = 0_u64;
                while Instant::now() < deadline {
                    round += 1;
                    let mut phone = crate::helpers::phone_at(&address);
                    phone.forwarded_for = Some("203.0.113.7".to_owned());
                    let mut fields = open_form(&mut phone, &token, answers.clone()).await;
                    // Half the time as the attack was first tried: a fresh random cookie of
                    // its own and the served time moved five minutes back.
                    if (round + u64::from(thread)).is_multiple_of(2) {
                        phone.cookie =
                            Some(format!("dupin_browser={}", dupin::secrets::random_key()));
                        let (millis, signature) =
                            fields[1].1.split_once('.').expect("a signed time");
                        let moved = millis.parse::<i64>().expect("ms") - 300_000;
                        fields[1].1 = format!("{moved}.{signature}");
                    }
                    // Otherwise a fresh browser each time, with the server's own cookie.
                    let page = phone.post_form(&format!("/s/{token}"), &fields).await;
                    if page.status == StatusCode::SEE_OTHER {
                        tally.acknowledged.fetch_add(1, Ordering::Relaxed);
                    } else {
                        tally.refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }));
    }
    // The server's writer runs on this test's runtime: wait without blocking it.
    while !threads.iter().all(std::thread::JoinHandle::is_finished) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for thread in threads {
        thread.join().expect("an attacking thread");
    }
    let acknowledged = tally.acknowledged.load(Ordering::Relaxed);
    let refused = tally.refused.load(Ordering::Relaxed);
    let (after, counted, json) = index_of(&app, &api, campaign, school).await;
    let after = after.expect("still an index");
    let stored = app
        .count(&format!(
            "SELECT count(*) FROM response WHERE school_id = {school}"
        ))
        .await;
    eprintln!(
        "stuffing: {acknowledged} answers acknowledged and {refused} refused in {:.1} s; \
         {stored} stored, {counted} counted; index {before:.1} → {after:.1}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        acknowledged >= 60,
        "the attack got answers in: {acknowledged}"
    );
    assert_eq!(
        stored as u64,
        60 + acknowledged,
        "every acknowledged answer is stored"
    );
    assert!(
        (after - before).abs() < 3.0,
        "the index moved from {before:.1} to {after:.1}"
    );
    // Every page that shows the figure says how many answers the policy left out.
    let left_out = &json["left_out"];
    assert_eq!(
        left_out["count"].as_u64(),
        Some(acknowledged + 60 - counted),
        "{left_out}"
    );
    assert_eq!(
        left_out["by_policy"].as_u64(),
        Some(acknowledged),
        "{left_out}"
    );
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let results = supervisor
        .get(&format!(
            "/console/campaigns/{campaign}/results?school={school}"
        ))
        .await;
    assert!(
        results
            .body
            .contains(&format!("未计入的答卷：{} 份", left_out["count"])),
        "{}",
        results.body
    );
    // The campaign page and the quality page name the school, with its hours drawn.
    let page = supervisor
        .get(&format!("/console/campaigns/{campaign}"))
        .await;
    assert!(page.body.contains("答卷需要留意的学校"), "{}", page.body);
    assert!(page.body.contains("青溪县第一中学（"), "{}", page.body);
    let quality = supervisor
        .get(&format!("/console/campaigns/{campaign}/quality"))
        .await;
    assert!(
        quality.body.contains("有超出速率而暂缓的答卷"),
        "{}",
        quality.body
    );
    assert!(
        quality.body.contains("全部选最高档的答卷远多于全县"),
        "{}",
        quality.body
    );
    assert!(
        quality.body.contains("青溪县第一中学：每小时答卷数"),
        "{}",
        quality.body
    );

    // A supervisor who judges the held answers real releases them in one action …
    let held = app
        .count(&format!(
            "SELECT count(*) FROM response WHERE school_id = {school} AND excluded = {}",
            if crate::helpers::is_postgres(&app) {
                "true"
            } else {
                "1"
            }
        ))
        .await as u64;
    let quality_path = format!("/console/campaigns/{campaign}/quality");
    let school_text = school.to_string();
    let done = supervisor
        .submit(
            &quality_path,
            &format!("/console/campaigns/{campaign}/quality/bulk"),
            &[
                ("action", "release"),
                ("flag", "held"),
                ("school", &school_text),
                ("since", ""),
                ("until", ""),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let notice = supervisor
        .get(done.location.as_deref().expect("back to the quality page"))
        .await;
    let total = 60 + acknowledged;
    assert!(
        // The campaign's included answers: this school's and the 30 of the other.
        notice.body.contains(&format!(
            "符合条件的答卷 {acknowledged} 份，放行了其中 {acknowledged} 份；计入统计的答卷从 {} 份变为 {} 份",
            counted + 30,
            total + 30
        )),
        "{}",
        notice.body
    );
    let (released, counted_now, _) = index_of(&app, &api, campaign, school).await;
    assert!(
        counted_now > counted && counted_now <= total,
        "{counted} → {counted_now}"
    );
    assert!(
        released.expect("an index") > after + 3.0,
        "released answers count again"
    );
    // … and can take them out again in one action: the figures come back exactly.
    let done = supervisor
        .submit(
            &quality_path,
            &format!("/console/campaigns/{campaign}/quality/bulk"),
            &[
                ("action", "exclude"),
                ("flag", "held"),
                ("school", &school_text),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let (again, counted_again, _) = index_of(&app, &api, campaign, school).await;
    assert_eq!(counted_again, counted, "held {held}");
    assert!((again.expect("an index") - after).abs() < 1e-6);
    assert!(
        app.count("SELECT count(*) FROM audit_event WHERE action IN ('answers_release', 'answers_exclude')")
            .await
            >= 2
    );
}

#[actix_web::test]
async fn stuffing_a_class_group_of_40_phones_is_counted_in_full_and_flagged_nowhere() {
    let app = app_behind_a_proxy().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let survey = catalog_survey("parents");
    let token = app.link_token(campaign, SMALL_SCHOOL).await;
    let school = school_id(&app, SMALL_SCHOOL).await;

    // 40 parents in the class's chat group open the link within a few seconds, on the school's
    // wifi (one address), each on their own phone; they read and answer, and send together.
    let mut dice = Dice(40);
    let mut phones = Vec::new();
    for parent in 0..40 {
        let mut phone = phone_from(&app, "192.0.2.40");
        let fields = open_form(&mut phone, &token, varied(&survey, &mut dice)).await;
        phones.push((parent, phone, fields));
    }
    // Long enough for the questions they answered (rating.toml: 1.5 s each).
    let questions = answers_for(&survey).len() as f64;
    tokio::time::sleep(Duration::from_secs_f64(questions * 1.5 + 2.0)).await;
    send_together(
        &token,
        phones
            .into_iter()
            .map(|(_, phone, fields)| (phone, fields))
            .collect(),
    )
    .await;
    assert_eq!(
        counted_at(&app, campaign, school).await,
        40,
        "every answer counted"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM response WHERE flags IS NOT NULL AND flags <> ''")
            .await,
        0,
        "no answer flagged"
    );
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let page = supervisor
        .get(&format!("/console/campaigns/{campaign}"))
        .await;
    assert!(
        page.body.contains("没有发现答卷异常的学校"),
        "{}",
        page.body
    );
    assert!(page.body.contains("未计入统计的答卷：无"), "{}", page.body);
}

/// A campaign whose small school's link (50 answers a minute) is about to take a surge: `parents`
/// forms opened on it, each from an address of its own, and the clock at most 40 s into a minute
/// so that they can all be sent inside it.
/// An open parents' campaign and the public link of the county's largest school.
struct BigSchool {
    campaign: i32,
    survey: Survey,
    token: String,
    school: i64,
}

async fn big_school_link(app: &TestApp) -> BigSchool {
    let campaign = app.create_campaign("parents", None, None).await;
    BigSchool {
        campaign,
        survey: catalog_survey("parents"),
        token: app.link_token(campaign, BIG_SCHOOL).await,
        school: school_id(app, BIG_SCHOOL).await,
    }
}

struct Surge {
    campaign: i32,
    school: i64,
    token: String,
    phones: Vec<(Phone, Vec<(String, String)>)>,
}

async fn small_school_surge(app: &TestApp, parents: u32, second_octet: u32) -> Surge {
    let campaign = app.create_campaign("parents", None, None).await;
    let survey = catalog_survey("parents");
    let token = app.link_token(campaign, SMALL_SCHOOL).await;
    let school = school_id(app, SMALL_SCHOOL).await;
    let mut phones = Vec::new();
    for parent in 0..parents {
        let address = format!("172.{second_octet}.{}.{}", parent / 200, parent % 200 + 1);
        let mut phone = phone_from(app, &address);
        let fields = open_form(&mut phone, &token, all_top(&survey)).await;
        phones.push((phone, fields));
    }
    // Opening the forms may take long on a busy machine, so the minute is chosen only now.
    if chrono::Utc::now().timestamp().rem_euclid(60) > 40 {
        next_minute().await;
    }
    Surge {
        campaign,
        school,
        token,
        phones,
    }
}

async fn held_at(app: &TestApp, school: i64) -> i64 {
    app.count(&format!(
        "SELECT count(*) FROM response WHERE school_id = {school} AND flags LIKE '%held%'"
    ))
    .await
}

#[actix_web::test]
async fn stuffing_a_surge_one_answer_at_a_time_holds_the_first_fifty_too() {
    // Sent one answer after another, every answer is a batch of its own: the 51st — the first
    // past the rate, right after a batch that ended at it — must still begin the surge and hold
    // the 50 before it.
    let app = app_behind_a_proxy().await;
    let surge = small_school_surge(&app, 52, 17).await;
    for (mut phone, fields) in surge.phones {
        assert_eq!(
            submit(&mut phone, &surge.token, &fields).await.status,
            StatusCode::SEE_OTHER
        );
    }
    assert_eq!(
        held_at(&app, surge.school).await,
        52,
        "all of the minute's answers held"
    );
    assert_eq!(counted_at(&app, surge.campaign, surge.school).await, 0);
}

#[actix_web::test]
async fn stuffing_a_surge_from_many_addresses_on_a_small_schools_link_is_held() {
    // 80 answers from 80 addresses, sent together well inside one minute: more than the 50 a
    // minute a school of 145 pupils may take.
    let app = app_behind_a_proxy().await;
    let surge = small_school_surge(&app, 80, 16).await;
    let (campaign, school) = (surge.campaign, surge.school);
    send_together(&surge.token, surge.phones).await;
    let stored = app
        .count(&format!(
            "SELECT count(*) FROM response WHERE school_id = {school}"
        ))
        .await;
    assert_eq!(stored, 80);
    // The minute's answers are all held, the first 50 too (they came with the surge).
    assert_eq!(held_at(&app, school).await, 80, "held");
    assert_eq!(counted_at(&app, campaign, school).await, 0);
    // Two minutes' tallies agree with the link's count: nothing counted twice or lost.
    let tallied = app
        .count(&format!(
            "SELECT CAST(coalesce(max(count), 0) AS BIGINT) FROM tally WHERE campaign_id = {campaign} AND school_id = {school}"
        ))
        .await;
    assert_eq!(tallied, 0);
}

/// A phone on a carrier's IPv6 network can take a fresh address of its /64 for every answer:
/// sixty-one answers sent at once from sixty-one addresses of one /64 are one address's, past
/// its ceiling of sixty, and every one of them is held — also those admitted before the ceiling
/// was passed but stored after. Forty parents on forty networks all count.
#[actix_web::test]
async fn stuffing_from_fresh_ipv6_addresses_of_one_network_is_held_in_full() {
    let app = app_behind_a_proxy().await;
    let BigSchool {
        campaign,
        survey,
        token,
        school,
    } = big_school_link(&app).await;
    // The link's own rate (about 2,860 ÷ 10 = 286 a minute) is not what holds them here.
    let per_minute = app
        .count(&format!(
            "SELECT CAST(expected AS BIGINT) FROM campaign_link \
             WHERE campaign_id = {campaign} AND school_id = {school}"
        ))
        .await
        .div_euclid(10)
        + 1;
    assert!(per_minute > 101, "{per_minute}");

    let mut dice = Dice(20_261_205);
    let mut parents = Vec::new();
    for network in 0..40 {
        let mut phone = phone_from(&app, &format!("2408:8400:{network:x}:1::1"));
        let fields = open_form(&mut phone, &token, varied(&survey, &mut dice)).await;
        parents.push((phone, fields));
    }
    send_together(&token, parents).await;
    assert_eq!(counted_at(&app, campaign, school).await, 40);

    let mut one_network = Vec::new();
    for address in 1..=61 {
        let mut phone = phone_from(&app, &format!("2408:8400:ffff:1::{address:x}"));
        let fields = open_form(&mut phone, &token, all_top(&survey)).await;
        one_network.push((phone, fields));
    }
    send_together(&token, one_network).await;
    let stored = app
        .count(&format!(
            "SELECT count(*) FROM response WHERE school_id = {school}"
        ))
        .await;
    let held = app
        .count(&format!(
            "SELECT count(*) FROM response WHERE school_id = {school} AND flags LIKE '%held%'"
        ))
        .await;
    assert_eq!(stored, 101, "every acknowledged answer is stored");
    assert_eq!(held, 61, "all of the one network's answers are held");
    assert_eq!(
        counted_at(&app, campaign, school).await,
        40,
        "only the forty parents count"
    );
    let api = app.api_token().await;
    let (_, counted, json) = index_of(&app, &api, campaign, school).await;
    assert_eq!(counted, 40, "{json}");
    assert_eq!(json["left_out"]["count"].as_u64(), Some(61), "{json}");
}
