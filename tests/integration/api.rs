//! The read-only JSON API and its tokens: an admin issues a token on `/console/tokens`, a script
//! reads every endpoint with it and gets the console's figures, the admin revokes it and the
//! script is refused; requests without a valid token get 401 JSON; the token page is for admins
//! only; and the OpenAPI document names every route in the application's route table.

use std::time::Duration;

use awc::http::StatusCode;
use dupin::accounts::Role;
use dupin::survey::{QuestionKind, Survey};
use sea_orm::EntityTrait;
use serde_json::Value;

use crate::helpers::{Browser, Phone, TestApp, answers_for, catalog_survey, spawn_app};

/// Submits every question on a new phone as `answers_for` does, except `overrides`.
pub(crate) async fn answer_with(
    app: &TestApp,
    token: &str,
    survey: &Survey,
    overrides: &[(&str, &str)],
) {
    let mut phone: Phone = app.phone();
    let form = phone.get(&format!("/s/{token}")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let mut fields = vec![
        ("_key".to_owned(), form.hidden("_key").expect("a key")),
        ("_t".to_owned(), form.hidden("_t").expect("a time")),
    ];
    for (name, value) in answers_for(survey) {
        match overrides.iter().find(|(question, _)| *question == name) {
            Some((_, given)) => fields.push((name, (*given).to_owned())),
            None => fields.push((name, value)),
        }
    }
    let page = phone.post_form(&format!("/s/{token}"), &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

/// What the API answered.
struct Answer {
    status: StatusCode,
    content_type: String,
    cache_control: String,
    www_authenticate: Option<String>,
    json: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or_default()
    }
}

/// A script calling the API with `authorization` as its `Authorization` header, if any.
async fn call(app: &TestApp, method: &str, path: &str, authorization: Option<&str>) -> Answer {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .disable_redirects()
        .finish();
    let url = format!("{}{}", app.address, path);
    let mut request = match method {
        "POST" => client.post(url),
        "DELETE" => client.delete(url),
        _ => client.get(url),
    };
    if let Some(authorization) = authorization {
        request = request.insert_header(("Authorization", authorization.to_owned()));
    }
    let mut response = request.send().await.expect("the API answers");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type").unwrap_or_default();
    let cache_control = header("cache-control").unwrap_or_default();
    let www_authenticate = header("www-authenticate");
    let body = response.body().limit(16 << 20).await.expect("a body");
    let json = serde_json::from_slice(&body).unwrap_or_else(|error| {
        panic!(
            "{method} {path} answered {} with no JSON ({error}): {}",
            response.status(),
            String::from_utf8_lossy(&body)
        )
    });
    Answer {
        status: response.status(),
        content_type,
        cache_control,
        www_authenticate,
        json,
    }
}

async fn get_with(app: &TestApp, path: &str, token: &str) -> Answer {
    let answer = call(app, "GET", path, Some(&format!("Bearer {token}"))).await;
    assert_eq!(answer.content_type, "application/json", "{path}");
    assert_eq!(answer.cache_control, "no-store", "{path}");
    answer
}

async fn ok_with(app: &TestApp, path: &str, token: &str) -> Value {
    let answer = get_with(app, path, token).await;
    assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.json);
    // The answer has exactly the shape the OpenAPI document gives for its route.
    let document = call(app, "GET", "/api/v1/openapi.json", None).await.json;
    let route = path.split('?').next().unwrap_or(path);
    let (pattern, item) = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .find(|(pattern, _)| route_matches(pattern, route))
        .unwrap_or_else(|| panic!("{route} is not in the OpenAPI document"));
    let schema = &item["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    if let Err(problem) = conforms(&document, schema, &answer.json, "$") {
        panic!("{path} does not answer as {pattern} is documented: {problem}");
    }
    answer.json
}

/// Whether `route` is an instance of the documented `pattern` (`/api/v1/campaigns/{id}`).
fn route_matches(pattern: &str, route: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let route: Vec<&str> = route.split('/').collect();
    pattern.len() == route.len()
        && pattern
            .iter()
            .zip(&route)
            .all(|(expected, given)| expected.starts_with('{') || expected == given)
}

/// Checks `value` against a JSON Schema of the document, strictly: types, enums, every
/// required property present and no property the schema does not name.
fn conforms(document: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .ok_or_else(|| format!("{at}: unexpected reference {reference}"))?;
        return conforms(
            document,
            &document["components"]["schemas"][name],
            value,
            at,
        );
    }
    if let Some(branches) = schema["anyOf"].as_array() {
        return if branches
            .iter()
            .any(|branch| conforms(document, branch, value, at).is_ok())
        {
            Ok(())
        } else {
            Err(format!("{at}: {value} matches none of {schema}"))
        };
    }
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let fits = allowed.is_empty()
        || allowed.contains(&kind)
        || (kind == "integer" && allowed.contains(&"number"));
    if !fits {
        return Err(format!(
            "{at}: {value} is {kind}, documented as {allowed:?}"
        ));
    }
    if let Some(choices) = schema["enum"].as_array()
        && !choices.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {choices:?}"));
    }
    if let (Value::Object(object), Some(properties)) = (value, schema["properties"].as_object()) {
        for required in schema["required"].as_array().into_iter().flatten() {
            let required = required.as_str().unwrap_or_default();
            if !object.contains_key(required) {
                return Err(format!("{at}: {required} is missing"));
            }
        }
        for (key, inner) in object {
            let documented = properties
                .get(key)
                .ok_or_else(|| format!("{at}: {key} is not documented"))?;
            conforms(document, documented, inner, &format!("{at}.{key}"))?;
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (index, item) in items.iter().enumerate() {
            conforms(document, item_schema, item, &format!("{at}[{index}]"))?;
        }
    }
    Ok(())
}

/// Issues a token through the console page, as an admin would, and reads it off the page.
async fn issue_through_the_page(admin: &mut Browser, name: &str) -> String {
    let page = admin
        .submit("/console/tokens", "/console/tokens", &[("name", name)])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("只显示这一次"), "{}", page.body);
    let start = page.body.find("dupin_").expect("the token is shown");
    let token: String = page.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert!(dupin::api_tokens::looks_like_token(&token), "{token}");
    assert!(
        page.body.contains(&format!(
            "curl -H &quot;Authorization: Bearer {token}&quot;"
        )) || page
            .body
            .contains(&format!("curl -H \"Authorization: Bearer {token}\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("/api/v1/campaigns"), "{}", page.body);
    token
}

/// A token made directly, for tests about the API rather than the page.
async fn token_for(app: &TestApp) -> String {
    app.api_token().await
}

fn question<'a>(results: &'a Value, key: &str) -> &'a Value {
    results["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|section| section["questions"].as_array().expect("questions"))
        .find(|question| question["key"] == key)
        .unwrap_or_else(|| panic!("{key} in {results}"))
}

fn option_count(question: &Value, code: &str) -> u64 {
    question["options"]
        .as_array()
        .expect("options")
        .iter()
        .find(|option| option["code"] == code)
        .and_then(|option| option["count"].as_u64())
        .expect("the option's count")
}

#[actix_web::test]
async fn api_an_admin_issues_a_token_a_script_reads_every_endpoint_and_revocation_locks_it_out() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let self_check = app.create_campaign("school", None, None).await;
    let links = app.links(campaign).await;
    let survey = catalog_survey("parents");
    let meals = survey.question("meals_quality").expect("a meals question");
    let QuestionKind::Scale { scale } = &meals.kind else {
        panic!("meals_quality is a scale");
    };
    let points = &scale.points;
    for code in [
        &points[0].code,
        &points[0].code,
        &points[0].code,
        &points[3].code,
    ] {
        answer_with(&app, &links[0].token, &survey, &[("meals_quality", code)]).await;
    }
    for _ in 0..2 {
        answer_with(
            &app,
            &links[1].token,
            &survey,
            &[("meals_quality", &points[1].code)],
        )
        .await;
    }
    let check_links = app.links(self_check).await;
    answer_with(
        &app,
        &check_links[0].token,
        &catalog_survey("school"),
        &[("teachers_fulltime", "100"), ("teachers_college", "80")],
    )
    .await;

    let mut admin = app.signed_in(Role::Admin).await;
    let list = admin.get("/console/tokens").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(
        list.body.contains("href=\"/console/tokens\""),
        "the nav links the page"
    );
    let token = issue_through_the_page(&mut admin, "教育局数据平台").await;

    // Only the token's SHA-256 is stored.
    let stored = app
        .count(&format!(
            "SELECT COUNT(*) FROM api_token WHERE token_hash = '{}'",
            dupin::api_tokens::hash_token(&token)
        ))
        .await;
    assert_eq!(stored, 1);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM api_token WHERE token_hash LIKE '%{}%' OR name LIKE '%{}%'",
            &token[6..],
            &token[6..]
        ))
        .await,
        0
    );

    // The list of campaigns and one campaign.
    let campaigns = ok_with(&app, "/api/v1/campaigns", &token).await;
    let listed = campaigns["campaigns"]
        .as_array()
        .expect("campaigns")
        .iter()
        .find(|listed| listed["id"] == campaign)
        .expect("the campaign is listed")
        .clone();
    assert_eq!(listed["survey"]["id"], "parents");
    assert_eq!(listed["audience"], "parents");
    assert_eq!(listed["status"], "open");
    assert_eq!(listed["availability"], "open");
    assert_eq!(listed["responses"], 6);
    assert!(listed["opens_at"].is_null());
    assert!(
        listed["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let expected = listed["expected"].as_i64().expect("expected");
    assert!(
        (listed["response_rate"].as_f64().expect("a rate") - 6.0 / expected as f64).abs() < 1e-12
    );
    let one = ok_with(&app, &format!("/api/v1/campaigns/{campaign}"), &token).await;
    assert_eq!(one, listed);

    // Results: the same figures as the console's results page.
    let results = ok_with(
        &app,
        &format!("/api/v1/campaigns/{campaign}/results"),
        &token,
    )
    .await;
    assert_eq!(results["responses"], 6);
    let meals_result = question(&results, "meals_quality");
    assert_eq!(meals_result["n"], 6);
    assert_eq!(option_count(meals_result, &points[0].code), 3);
    assert_eq!(option_count(meals_result, &points[1].code), 2);
    assert_eq!(option_count(meals_result, &points[3].code), 1);
    assert_eq!(meals_result["too_few"], true);
    let satisfaction = &meals_result["satisfaction"];
    let rate = satisfaction["rate"].as_f64().expect("a rate");
    let low = satisfaction["rate_interval"]["low"].as_f64().expect("low");
    let high = satisfaction["rate_interval"]["high"]
        .as_f64()
        .expect("high");
    // Of the county's pupils (the parents' population), 6 answered.
    let fpc = dupin::rating::stats::finite_population_factor(6, results["population"].as_u64());
    let wilson = dupin::rating::stats::wilson_interval(5, 6, fpc).expect("an interval");
    assert!((rate - 5.0 / 6.0).abs() < 1e-12 && (low - wilson.low).abs() < 1e-12);
    assert!(satisfaction["index"].is_number());
    assert!(satisfaction["index_interval"]["high"].is_number());
    let page = admin
        .get(&format!("/console/campaigns/{campaign}/results"))
        .await;
    let shown = format!(
        "{:.1}%（95% 区间 {:.1}%–{:.1}%，n = 6）",
        rate * 100.0,
        low * 100.0,
        high * 100.0
    );
    assert!(
        page.body.replace("&#x3D;", "=").contains(&shown),
        "the console shows {shown}: {} {}",
        page.status,
        page.body
    );
    let areas = results["areas"].as_array().expect("areas");
    assert_eq!(areas.len(), 8);
    assert!(
        areas
            .iter()
            .all(|area| area["index"].is_null() == area["index_interval"].is_null())
    );
    assert!(results["rating"]["county"]["weighting"].is_string());

    // Filtered to the first school, as the page's filter does.
    let schools = dupin::schools::list(&app.db).await.expect("schools");
    let first = schools
        .iter()
        .find(|school| school.code == links[0].code)
        .expect("the first school");
    let filtered = ok_with(
        &app,
        &format!("/api/v1/campaigns/{campaign}/results?school={}", first.id),
        &token,
    )
    .await;
    assert_eq!(filtered["filter"]["school"], first.id);
    assert_eq!(filtered["schools_counted"], 1);
    assert_eq!(question(&filtered, "meals_quality")["n"], 4);
    let nobody = ok_with(
        &app,
        &format!("/api/v1/campaigns/{campaign}/results?key_village=yes&kind=%E5%B0%8F%E5%AD%A6"),
        &token,
    )
    .await;
    let empty = question(&nobody, "meals_quality");
    assert_eq!(empty["n"], 0);
    assert!(empty["satisfaction"].is_null(), "no answers: null, never 0");
    assert!(empty["options"][0]["share"].is_null());

    // Bad filters are 400 JSON, an unknown school 404 JSON.
    let bad = get_with(
        &app,
        &format!("/api/v1/campaigns/{campaign}/results?kind=%E5%A4%A7%E5%AD%A6"),
        &token,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "bad_filter");
    assert!(
        bad.json["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("大学"))
    );
    let typo = get_with(
        &app,
        &format!("/api/v1/campaigns/{campaign}/results?schol=1"),
        &token,
    )
    .await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    assert_eq!(typo.code(), "unknown_parameter");
    let twice = get_with(
        &app,
        &format!("/api/v1/campaigns/{campaign}/results?school=1&school=2"),
        &token,
    )
    .await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    for query in ["school=abc", "key_village=maybe"] {
        let bad = get_with(
            &app,
            &format!("/api/v1/campaigns/{campaign}/results?{query}"),
            &token,
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(bad.code(), "bad_filter", "{query}");
    }
    let stranger = get_with(
        &app,
        &format!("/api/v1/campaigns/{campaign}/results?school=999999"),
        &token,
    )
    .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    assert_eq!(stranger.code(), "school_not_found");

    // Response rates.
    let rates = ok_with(&app, &format!("/api/v1/campaigns/{campaign}/rates"), &token).await;
    assert_eq!(rates["county"]["answers"], 6);
    assert_eq!(rates["county"]["expected"], expected);
    let first_rate = rates["schools"]
        .as_array()
        .expect("schools")
        .iter()
        .find(|rate| rate["code"] == first.code.as_str())
        .expect("the first school's rate");
    assert_eq!(first_rate["answers"], 4);
    assert!(
        first_rate.get("token").is_none(),
        "the links stay in the console"
    );
    let township_answers: i64 = rates["townships"]
        .as_array()
        .expect("townships")
        .iter()
        .map(|township| township["answers"].as_i64().expect("answers"))
        .sum();
    assert_eq!(township_answers, 6);

    // Indicators: only for a self-check.
    let not_one = get_with(
        &app,
        &format!("/api/v1/campaigns/{campaign}/indicators"),
        &token,
    )
    .await;
    assert_eq!(not_one.status, StatusCode::NOT_FOUND);
    assert_eq!(not_one.code(), "not_a_self_check");
    let indicators = ok_with(
        &app,
        &format!("/api/v1/campaigns/{self_check}/indicators"),
        &token,
    )
    .await;
    assert_eq!(indicators["submitted"], 1);
    let college = indicators["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|indicator| indicator["title"] == "专任教师专科及以上学历比例")
        .expect("the qualified-teacher indicator");
    assert_eq!(college["met"], 1);
    let submitted = indicators["schools"]
        .as_array()
        .expect("schools")
        .iter()
        .find(|school| school["code"] == check_links[0].code.as_str())
        .expect("the school that submitted");
    let cell = submitted["indicators"]
        .as_array()
        .expect("cells")
        .iter()
        .find(|cell| cell["id"] == college["id"])
        .expect("its cell");
    assert_eq!(cell["outcome"], "met");
    assert_eq!(cell["value"], "80%");

    // The overall rating and the school list.
    let assessment = ok_with(&app, "/api/v1/assessment", &token).await;
    assert!(assessment["county"]["schools_rated"].is_number());
    assert_eq!(
        assessment["campaigns"].as_array().map(Vec::len),
        Some(2),
        "{assessment}"
    );
    let assessed = assessment["schools"].as_array().expect("schools");
    assert!(!assessed.is_empty());
    for school in assessed {
        let rating = &school["rating"];
        assert_eq!(
            rating["score"].is_null(),
            rating["status"] != "rated",
            "{school}"
        );
        assert!(school["sources"].as_array().is_some_and(|s| !s.is_empty()));
    }
    let listed_schools = ok_with(&app, "/api/v1/schools", &token).await;
    let listed_schools = listed_schools["schools"].as_array().expect("schools");
    assert_eq!(listed_schools.len(), schools.len());
    let school = listed_schools
        .iter()
        .find(|school| school["code"] == first.code.as_str())
        .expect("the first school");
    assert_eq!(school["id"], first.id);
    assert_eq!(school["enrolment"], first.enrolment);
    assert_eq!(school["teachers"], first.teachers);
    assert_eq!(school["kind"], first.kind.as_str());
    assert_eq!(school["central"], first.is_central);
    assert_eq!(school["key_village"], first.is_key_village);

    // An unknown campaign is 404 JSON, whatever is in the path.
    for path in [
        "/api/v1/campaigns/99999",
        "/api/v1/campaigns/99999/results",
        "/api/v1/campaigns/99999/rates",
        "/api/v1/campaigns/99999/indicators",
        "/api/v1/campaigns/abc",
        "/api/v1/campaigns/-1/results",
    ] {
        let missing = get_with(&app, path, &token).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(missing.code(), "campaign_not_found", "{path}");
    }

    // Dates narrow the answers counted, as on the results page.
    let long_ago = ok_with(
        &app,
        &format!("/api/v1/campaigns/{campaign}/results?from=2020-01-01&to=2020-01-31"),
        &token,
    )
    .await;
    assert_eq!(long_ago["filter"]["from"], "2020-01-01");
    assert_eq!(long_ago["responses"], 0);
    assert_eq!(question(&long_ago, "meals_quality")["n"], 0);
    for query in ["from=yesterday", "from=2026-12-02&to=2026-12-01"] {
        let bad = get_with(
            &app,
            &format!("/api/v1/campaigns/{campaign}/results?{query}"),
            &token,
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(bad.code(), "bad_filter", "{query}");
    }

    // The use is written down, at most once a minute.
    let last_used = || async {
        entity::api_token::Entity::find()
            .one(&app.db)
            .await
            .expect("a query")
            .expect("the token")
            .last_used_at
    };
    let first_use = last_used().await.expect("the use is written down");
    tokio::time::sleep(Duration::from_millis(20)).await;
    ok_with(&app, "/api/v1/schools", &token).await;
    assert_eq!(
        last_used().await,
        Some(first_use),
        "no write within the minute"
    );
    let list = admin.get("/console/tokens").await;
    assert!(list.body.contains("教育局数据平台"), "{}", list.body);
    assert!(!list.body.contains("从未使用"), "{}", list.body);
    assert!(
        !list.body.contains(&token),
        "the list never shows the token"
    );

    // Revoked: refused at once.
    let id = app
        .count("SELECT CAST(id AS BIGINT) FROM api_token WHERE name = '教育局数据平台'")
        .await;
    let revoked = admin
        .submit(
            "/console/tokens",
            &format!("/console/tokens/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    let list = admin
        .get(revoked.location.as_deref().expect("a redirect"))
        .await;
    assert!(
        list.body.contains("已吊销令牌“教育局数据平台”"),
        "{}",
        list.body
    );
    let refused = get_with(&app, "/api/v1/campaigns", &token).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code(), "revoked_token");
    assert!(
        refused
            .www_authenticate
            .as_deref()
            .is_some_and(|value| value.starts_with("Bearer")),
        "{:?}",
        refused.www_authenticate
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'api_token_issue'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'api_token_revoke'")
            .await,
        1
    );
}

#[actix_web::test]
async fn api_requests_without_a_valid_token_get_401_json_and_nothing_else() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let unknown = format!(
        "dupin_{}",
        "A".repeat(dupin::api_tokens::TOKEN_RANDOM_CHARS)
    );
    let garbage = [
        None,
        Some("Bearer".to_owned()),
        Some("Bearer ".to_owned()),
        Some("Bearer not-a-token".to_owned()),
        Some(format!("Bearer {unknown}")),
        Some("Basic YWRtaW46YWRtaW4=".to_owned()),
        Some("Bearer ' OR 1=1 --".to_owned()),
    ];
    for path in [
        "/api/v1/campaigns".to_owned(),
        format!("/api/v1/campaigns/{campaign}"),
        format!("/api/v1/campaigns/{campaign}/results?school=1"),
        format!("/api/v1/campaigns/{campaign}/rates"),
        format!("/api/v1/campaigns/{campaign}/indicators"),
        "/api/v1/assessment".to_owned(),
        "/api/v1/schools".to_owned(),
    ] {
        for authorization in &garbage {
            let answer = call(&app, "GET", &path, authorization.as_deref()).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{path} with {authorization:?}: {}",
                answer.json
            );
            assert_eq!(answer.content_type, "application/json");
            assert!(
                answer
                    .www_authenticate
                    .as_deref()
                    .is_some_and(|value| value.starts_with("Bearer realm=")),
                "{path}: {:?}",
                answer.www_authenticate
            );
            let expected = if authorization.is_none() {
                "missing_token"
            } else {
                "invalid_token"
            };
            assert_eq!(answer.code(), expected, "{path} with {authorization:?}");
            assert!(answer.json["error"]["message"].is_string());
        }
    }

    // With a valid token: anything the API does not have is JSON too.
    let token = token_for(&app).await;
    let bearer = format!("Bearer {token}");
    let lowercase = call(
        &app,
        "GET",
        "/api/v1/schools",
        Some(&format!("bearer {token}")),
    )
    .await;
    assert_eq!(lowercase.status, StatusCode::OK, "{}", lowercase.json);
    let nowhere = call(&app, "GET", "/api/v1/nowhere", Some(&bearer)).await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert_eq!(nowhere.code(), "not_found");
    assert_eq!(nowhere.content_type, "application/json");
    for method in ["POST", "DELETE"] {
        let refused = call(&app, method, "/api/v1/campaigns", Some(&bearer)).await;
        assert_eq!(refused.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(refused.code(), "method_not_allowed");
    }
    let extra = call(&app, "GET", "/api/v1/schools?page=2", Some(&bearer)).await;
    assert_eq!(extra.status, StatusCode::BAD_REQUEST);
    assert_eq!(extra.code(), "unknown_parameter");
    let broken = call(
        &app,
        "GET",
        "/api/v1/campaigns/1/results?school=%ZZ",
        Some(&bearer),
    )
    .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST, "{}", broken.json);
}

#[actix_web::test]
async fn api_only_admins_issue_and_revoke_tokens_and_bad_names_are_explained() {
    let app = spawn_app().await;
    for role in [Role::Supervisor, Role::School] {
        let mut browser = app.signed_in(role).await;
        assert_eq!(
            browser.get("/console/tokens").await.status,
            StatusCode::FORBIDDEN,
            "{role:?}"
        );
        let csrf = browser
            .get("/console/password")
            .await
            .hidden("_csrf")
            .expect("a CSRF token");
        let issued = browser
            .post("/console/tokens", &[("_csrf", &csrf), ("name", "偷偷签发")])
            .await;
        assert_eq!(issued.status, StatusCode::FORBIDDEN, "{role:?}");
        let page = browser.get("/console/password").await;
        assert!(
            !page.body.contains("/console/tokens"),
            "{role:?} sees no link"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM api_token").await, 0);

    let mut admin = app.signed_in(Role::Admin).await;
    let empty = admin
        .submit("/console/tokens", "/console/tokens", &[("name", "   ")])
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("请填写令牌名称"), "{}", empty.body);
    let long = "督".repeat(101);
    let too_long = admin
        .submit("/console/tokens", "/console/tokens", &[("name", &long)])
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        too_long
            .body
            .contains("令牌名称最多 100 个字符，现在有 101 个"),
        "{}",
        too_long.body
    );
    assert!(too_long.body.contains(&long), "what was typed is kept");
    let forged = admin
        .post("/console/tokens", &[("_csrf", "forged"), ("name", "x")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM api_token").await, 0);

    let token = issue_through_the_page(&mut admin, &"督".repeat(100)).await;
    let id = app
        .count("SELECT CAST(MAX(id) AS BIGINT) FROM api_token")
        .await;
    let forged = admin
        .post(
            &format!("/console/tokens/{id}/revoke"),
            &[("_csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let still = call(
        &app,
        "GET",
        "/api/v1/schools",
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(still.status, StatusCode::OK);
    let missing = admin
        .submit("/console/tokens", "/console/tokens/99999/revoke", &[])
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // A supervisor cannot revoke it either.
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let csrf = supervisor
        .get("/console/password")
        .await
        .hidden("_csrf")
        .expect("a CSRF token");
    let refused = supervisor
        .post(&format!("/console/tokens/{id}/revoke"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let still = call(
        &app,
        "GET",
        "/api/v1/schools",
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(still.status, StatusCode::OK);

    // Revoking twice is harmless and recorded once.
    for _ in 0..2 {
        let revoked = admin
            .submit(
                "/console/tokens",
                &format!("/console/tokens/{id}/revoke"),
                &[],
            )
            .await;
        assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'api_token_revoke'")
            .await,
        1
    );
    let list = admin.get("/console/tokens").await;
    assert!(list.body.contains("已吊销"), "{}", list.body);
    assert!(!list.body.contains(&format!("/console/tokens/{id}/revoke")));
}

/// Every `/api/v1/…` route the application serves, from its route table.
fn api_routes() -> Vec<String> {
    let mut routes: Vec<String> = dupin::web::route_table()
        .into_iter()
        .filter(|route| route.path.starts_with("/api/v1/"))
        .map(|route| route.path.to_owned())
        .collect();
    routes.sort();
    routes.dedup();
    routes
}

#[actix_web::test]
async fn api_the_openapi_document_is_served_without_a_token_and_names_every_route() {
    let app = spawn_app().await;
    let answer = call(&app, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.content_type, "application/json");
    let document = answer.json;
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(
        document["servers"][0]["url"],
        app.base_url.trim_end_matches('/')
    );
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["type"],
        "http"
    );
    assert_eq!(document["security"][0]["bearer"], serde_json::json!([]));

    let routes = api_routes();
    assert!(routes.len() >= 8, "{routes:?}");
    let paths = document["paths"].as_object().expect("paths");
    for route in &routes {
        let operation = paths
            .get(route)
            .and_then(|item| item.get("get"))
            .unwrap_or_else(|| panic!("{route} is registered but not in the OpenAPI document"));
        let responses = operation["responses"].as_object().expect("responses");
        assert!(responses.contains_key("200"), "{route}");
        if route != "/api/v1/openapi.json" {
            assert!(responses.contains_key("401"), "{route} documents its 401");
        }
        if route.contains("{id}") {
            // `{id}` is documented by a path parameter of the components (CampaignId,
            // LetterId, …).
            let parameters = operation["parameters"].to_string();
            assert!(
                parameters.contains("#/components/parameters/") && parameters.contains("Id\""),
                "{route} documents {{id}}"
            );
            assert!(responses.contains_key("404"), "{route} documents its 404");
        }
    }
    for documented in paths.keys() {
        assert!(
            routes.contains(documented),
            "{documented} is documented but not registered"
        );
    }
    let results = &paths["/api/v1/campaigns/{id}/results"]["get"]["parameters"];
    for filter in ["school", "township", "kind", "key_village"] {
        assert!(
            results
                .as_array()
                .expect("parameters")
                .iter()
                .any(|parameter| parameter["name"] == filter),
            "the results filter {filter} is documented"
        );
    }
}

#[actix_web::test]
async fn api_teachers_figures_of_a_school_with_fewer_than_five_answers_are_withheld() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("teachers", None, None).await;
    let links = app.links(campaign).await;
    let survey = catalog_survey("teachers");
    for _ in 0..2 {
        answer_with(&app, &links[0].token, &survey, &[]).await;
    }
    for _ in 0..5 {
        answer_with(&app, &links[1].token, &survey, &[]).await;
    }
    let token = token_for(&app).await;
    let schools = dupin::schools::list(&app.db).await.expect("schools");
    let id_of = |code: &str| {
        schools
            .iter()
            .find(|school| school.code == code)
            .map(|school| school.id)
            .expect("the school")
    };
    let small = id_of(&links[0].code);
    let large = id_of(&links[1].code);

    let alone = get_with(
        &app,
        &format!("/api/v1/campaigns/{campaign}/results?school={small}"),
        &token,
    )
    .await;
    assert_eq!(alone.status, StatusCode::FORBIDDEN, "{}", alone.json);
    assert_eq!(alone.code(), "withheld_for_anonymity");
    let enough = ok_with(
        &app,
        &format!("/api/v1/campaigns/{campaign}/results?school={large}"),
        &token,
    )
    .await;
    assert_eq!(enough["responses"], 5);

    // The county's results count the large school's five answers only: the small school's two
    // count in no figure, so that the county minus the large school cannot show them.
    let county = ok_with(
        &app,
        &format!("/api/v1/campaigns/{campaign}/results"),
        &token,
    )
    .await;
    assert_eq!(county["responses"], 5);
    let row = |id: i32| {
        county["rating"]["schools"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|row| row["school_id"] == id)
            .expect("the school's row")
            .clone()
    };
    let withheld = row(small);
    assert_eq!(withheld["shown_alone"], false);
    assert_eq!(withheld["rating"]["status"], "withheld");
    assert!(withheld["rating"]["score"].is_null());
    assert!(withheld["rating"]["grade"].is_null());
    assert_eq!(row(large)["shown_alone"], true);
    assert_ne!(row(large)["rating"]["status"], "withheld");
}

#[actix_web::test]
async fn api_the_overall_rating_is_the_one_the_console_shows() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("school", None, None).await;
    let links = app.links(campaign).await;
    answer_with(&app, &links[0].token, &catalog_survey("school"), &[]).await;
    let token = token_for(&app).await;

    let assessment = ok_with(&app, "/api/v1/assessment", &token).await;
    assert_eq!(assessment["campaigns"][0]["id"], campaign);
    assert_eq!(assessment["campaigns"][0]["source"], "indicators");
    let school = assessment["schools"]
        .as_array()
        .expect("schools")
        .iter()
        .find(|school| school["code"] == links[0].code.as_str())
        .expect("the school that submitted");
    assert_eq!(school["sources"][0]["answers"], 1);
    let rating = &school["rating"];
    assert_eq!(rating["status"], "rated", "{school}");
    let score = rating["score"].as_f64().expect("a score");
    let interval = dupin::rating::stats::Interval {
        low: rating["interval"]["low"].as_f64().expect("low"),
        high: rating["interval"]["high"].as_f64().expect("high"),
    };
    let grade = rating["grade"].as_str().expect("a grade");

    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let page = supervisor.get("/console/assessment").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let start = page
        .body
        .find(&format!("<tr><td>{}</td>", links[0].code))
        .expect("the school's row");
    let row = &page.body[start..];
    let row = &row[..row.find("</tr>").unwrap_or(row.len())];
    let shown = dupin::results::describe_score(score, Some(interval));
    assert!(row.contains(&shown), "{shown} in {row}");
    assert!(row.contains(grade), "{grade} in {row}");

    // The county is rated from the one school, as on the page.
    let county = &assessment["county"];
    assert_eq!(county["schools_rated"], 1);
    let county_score = county["rated"]["score"]
        .as_f64()
        .expect("the county's score");
    assert!((county_score - score).abs() < 1e-9);
}

#[actix_web::test]
async fn api_a_teachers_survey_is_never_narrowed_to_dates_whatever_it_holds() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("teachers", None, None).await;
    let links = app.links(campaign).await;
    let survey = catalog_survey("teachers");
    let token = token_for(&app).await;
    let today = chrono::Utc::now()
        .with_timezone(&dupin::campaigns::china_offset())
        .date_naive();
    let on = |day: chrono::NaiveDate| {
        format!("/api/v1/campaigns/{campaign}/results?from={day}&to={day}")
    };
    // No answer yet, five, or more: two days' figures could be subtracted to isolate a teacher,
    // so a teachers' survey is never narrowed to dates (an empty day cannot be told apart).
    let empty = get_with(&app, &on(today), &token).await;
    assert_eq!(empty.status, StatusCode::FORBIDDEN, "{}", empty.json);
    assert_eq!(empty.code(), "withheld_for_anonymity");
    for _ in 0..6 {
        answer_with(&app, &links[0].token, &survey, &[]).await;
    }
    let day = get_with(&app, &on(today), &token).await;
    assert_eq!(day.status, StatusCode::FORBIDDEN, "{}", day.json);
    assert_eq!(day.code(), "withheld_for_anonymity");
    let all = ok_with(
        &app,
        &format!("/api/v1/campaigns/{campaign}/results"),
        &token,
    )
    .await;
    assert_eq!(all["responses"], 6);
}

#[actix_web::test]
async fn api_the_targets_answer_as_documented_and_count_what_the_page_counts() {
    let app = spawn_app().await;
    let token = token_for(&app).await;
    let before = ok_with(&app, "/api/v1/targets", &token).await;
    assert!(before["campaign"].is_null(), "no self-check campaign yet");
    assert_eq!(before["targets"][0]["achieved"], 0.0);

    let expected = crate::targets::key_village_self_checks(&app).await;
    let targets = ok_with(&app, "/api/v1/targets", &token).await;
    assert!(targets["campaign"]["id"].is_i64());
    let target = |id: &str| -> Value {
        targets["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .find(|target| target["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("target {id}"))
    };
    for (id, (achieved, goal)) in [
        ("key_village_model_canteens", expected.canteens),
        ("key_village_small_kitchens", expected.kitchens),
        ("key_village_preschool", expected.preschool),
    ] {
        let found = target(id);
        assert_eq!(found["achieved"].as_f64(), Some(achieved as f64), "{id}");
        assert_eq!(found["target"].as_f64(), Some(goal as f64), "{id}");
        assert_eq!(
            found["schools_counted"].as_u64(),
            Some(expected.key_village_schools as u64),
            "{id}"
        );
        assert_eq!(found["submitted"], 6, "{id}");
    }
    let canteens = target("key_village_model_canteens");
    let meeting: Vec<&str> = canteens["schools"]
        .as_array()
        .expect("schools")
        .iter()
        .filter(|school| school["status"] == "meets")
        .map(|school| school["code"].as_str().expect("a code"))
        .collect();
    assert_eq!(meeting, expected.meeting_canteen);
    assert_eq!(canteens["measure"], "count");
    assert_eq!(target("key_village_preschool")["every_school"], true);
}
