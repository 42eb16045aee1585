//! Charts and reports (compiled only under #[cfg(test)] as part of the integration suite): the
//! inline SVGs of the results page from answers given through the real form, the SVG and PNG
//! downloads, the county and school reports with their charts and A4 print CSS, the teachers'
//! small-school rule, and who may open them.

use awc::http::StatusCode;
use dupin::accounts::Role;
use dupin::survey::Survey;

use crate::helpers::{TestApp, answers_for, catalog_survey, spawn_app};

/// Answers `count` times through the form of `token`, each from a new phone.
async fn answer_times(app: &TestApp, token: &str, survey: &Survey, count: usize) {
    for _ in 0..count {
        let mut phone = app.phone();
        let form = phone.get(&format!("/s/{token}")).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let mut fields = vec![
            ("_key".to_owned(), form.hidden("_key").expect("a key")),
            ("_t".to_owned(), form.hidden("_t").expect("a time")),
        ];
        fields.extend(answers_for(survey));
        let page = phone.post_form(&format!("/s/{token}"), &fields).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
}

/// A parents' campaign with 3 answers at the first school and 2 at the second.
async fn parents_campaign(app: &TestApp) -> i32 {
    let campaign = app.create_campaign("parents", None, None).await;
    let links = app.links(campaign).await;
    let survey = catalog_survey("parents");
    answer_times(app, &links[0].token, &survey, 3).await;
    answer_times(app, &links[1].token, &survey, 2).await;
    campaign
}

/// The SVG of the chart `id` on a page.
fn svg_of<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("id=\"chart-{id}\""))
        .unwrap_or_else(|| panic!("the page has chart {id}"));
    let rest = &body[start..];
    let svg = rest.find("<svg").expect("an svg");
    let end = rest.find("</svg>").expect("the svg ends");
    &rest[svg..end]
}

#[actix_web::test]
async fn charts_the_results_page_shows_inline_svgs_with_titles_and_n() {
    let app = spawn_app().await;
    let campaign = parents_campaign(&app).await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let page = browser
        .get(&format!("/console/campaigns/{campaign}/results"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<section class=\"charts\">"));

    let radar = svg_of(&page.body, "radar");
    assert!(radar.starts_with("<svg class=\"chart\" role=\"img\""));
    assert!(radar.contains("全县各方面满意度指数"), "{radar}");
    assert!(radar.contains("全县（n = 5）"), "{radar}");
    assert!(radar.contains("营养改善计划"), "{radar}");

    let ranking = svg_of(&page.body, "ranking");
    assert!(ranking.contains("各校满意度指数排名"));
    // 5 answers are below the plan's minimum: listed with their n, not ranked.
    assert!(
        ranking.contains("答卷太少或暂无数据，不参与排名"),
        "{ranking}"
    );
    assert!(ranking.contains("（n = 3）"), "{ranking}");
    assert!(ranking.contains("（n = 2）"), "{ranking}");

    let heatmap = svg_of(&page.body, "heatmap");
    assert!(heatmap.contains("各校各方面满意度指数"));
    assert!(heatmap.contains("答卷 n"));

    let distribution = svg_of(&page.body, "dist-2-1");
    assert!(distribution.contains("各题答卷分布"), "{distribution}");
    assert!(distribution.contains("n = 5"), "{distribution}");
    assert!(distribution.contains("占答卷的百分比"));
    assert!(
        !page.body.contains("id=\"chart-trend\""),
        "one campaign has no trend"
    );

    // Downloads are linked with the same ids.
    assert!(
        page.body
            .contains(&format!("/console/campaigns/{campaign}/charts/heatmap.png"))
    );

    // A second campaign of the same survey: the trend appears, both campaigns on it.
    let second = app.create_campaign("parents", None, None).await;
    let links = app.links(second).await;
    answer_times(&app, &links[0].token, &catalog_survey("parents"), 1).await;
    let page = browser
        .get(&format!("/console/campaigns/{second}/results"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let trend = svg_of(&page.body, "trend");
    assert!(trend.contains("满意度指数的变化"), "{trend}");
    assert!(
        trend.contains("n = 5") && trend.contains("n = 1"),
        "{trend}"
    );
}

#[actix_web::test]
async fn charts_download_as_png_and_svg_with_file_names() {
    let app = spawn_app().await;
    let campaign = parents_campaign(&app).await;
    let browser = app.signed_in(Role::Supervisor).await;

    let (status, content_type, disposition, body) = browser
        .download(&format!("/console/campaigns/{campaign}/charts/heatmap.png"))
        .await
        .parts();
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(content_type, "image/png");
    assert!(
        disposition.contains(&format!("filename=\"campaign-{campaign}-heatmap-"))
            && disposition.contains(".png")
            && disposition.contains("filename*=UTF-8''"),
        "{disposition}"
    );
    let image = image::load_from_memory_with_format(&body, image::ImageFormat::Png)
        .expect("a PNG")
        .to_rgb8();
    assert!(image.width() >= 640 && image.height() > 100);
    assert!(image.pixels().any(|pixel| pixel.0 != [255, 255, 255]));

    let (status, content_type, disposition, body) = browser
        .download(&format!("/console/campaigns/{campaign}/charts/radar.svg"))
        .await
        .parts();
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("image/svg+xml"), "{content_type}");
    assert!(disposition.contains(".svg"), "{disposition}");
    let svg = String::from_utf8(body).expect("UTF-8");
    assert!(svg.starts_with("<?xml"));
    assert!(svg.contains("全县各方面满意度指数"));

    // The filter of the page carries over to the download.
    let schools = dupin::schools::list(&app.db).await.expect("schools");
    let (status, _, _, body) = browser
        .download(&format!(
            "/console/campaigns/{campaign}/charts/radar.svg?school={}",
            schools[0].id
        ))
        .await
        .parts();
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("所选学校各方面满意度指数"));

    let (status, _, _, _) = browser
        .download(&format!(
            "/console/campaigns/{campaign}/charts/no-such-chart.png"
        ))
        .await
        .parts();
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _, _) = browser
        .download("/console/campaigns/999999/charts/radar.png")
        .await
        .parts();
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn charts_county_and_school_reports_render_with_charts_and_a4_print_css() {
    let app = spawn_app().await;
    let campaign = parents_campaign(&app).await;
    let mut browser = app.signed_in(Role::Supervisor).await;

    let assessment = browser.get("/console/assessment").await;
    assert!(assessment.body.contains("/console/reports/county"));

    let county = browser.get("/console/reports/county").await;
    assert_eq!(county.status, StatusCode::OK, "{}", county.body);
    assert!(county.body.contains("@page { size: A4; margin: 15mm }"));
    assert!(county.body.contains("break-inside:avoid"));
    assert!(county.body.contains("全县教育督导评估报告"));
    let radar = svg_of(&county.body, "county-radar");
    assert!(radar.contains("家长问卷（n = 5）"), "{radar}");
    let ranking = svg_of(&county.body, "county-ranking");
    assert!(ranking.contains("各校综合评估得分排名"));
    assert!(svg_of(&county.body, "county-heatmap").contains("各校各方面综合得分"));
    assert!(svg_of(&county.body, "parents-dist-2-1").contains("n = 5"));
    // Answers and the response rate of the parents' campaign.
    assert!(
        county.body.contains("<td class=\"num\">5</td>"),
        "{}",
        county.body
    );
    assert!(county.body.contains("测试 parents"));

    let links = app.links(campaign).await;
    let schools = dupin::schools::list(&app.db).await.expect("schools");
    let first = schools
        .iter()
        .find(|school| school.code == links[0].code)
        .expect("the first school");
    let link = format!("/console/reports/schools/{}", first.id);
    assert!(
        county.body.contains(&link),
        "the county report lists school reports"
    );

    let school = browser.get(&link).await;
    assert_eq!(school.status, StatusCode::OK, "{}", school.body);
    assert!(school.body.contains("@page { size: A4; margin: 15mm }"));
    let radar = svg_of(&school.body, &format!("school-{}-radar", first.id));
    assert!(
        radar.contains(&format!("{}：各方面综合得分与全县对比", first.name)),
        "{radar}"
    );
    assert!(radar.contains("全县（n = 5）"), "{radar}");
    assert!(svg_of(&school.body, "parents-dist-2-1").contains("n = 3"));
    assert!(school.body.contains("答卷太少，暂不评定"));

    let missing = browser.get("/console/reports/schools/999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn charts_leave_out_schools_with_fewer_than_five_teacher_answers() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("teachers", None, None).await;
    let links = app.links(campaign).await;
    let survey = catalog_survey("teachers");
    answer_times(&app, &links[0].token, &survey, 3).await;
    answer_times(&app, &links[1].token, &survey, 5).await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let page = browser
        .get(&format!("/console/campaigns/{campaign}/results"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let ranking = svg_of(&page.body, "ranking");
    assert!(
        ranking.contains("答卷少于 5 份的学校不单独显示"),
        "{ranking}"
    );
    assert!(!ranking.contains(&links[0].name), "{ranking}");
    assert!(ranking.contains(&links[1].name), "{ranking}");
    let heatmap = svg_of(&page.body, "heatmap");
    assert!(heatmap.contains("答卷少于 5 份的学校不单独显示"));
    assert!(!heatmap.contains(&links[0].name));
    // The county's figures count the five of the larger school only: the three count nowhere.
    assert!(svg_of(&page.body, "radar").contains("全县（n = 5）"));

    // Narrowed to the school with three answers: no charts at all.
    let schools = dupin::schools::list(&app.db).await.expect("schools");
    let small = schools
        .iter()
        .find(|school| school.code == links[0].code)
        .expect("the school");
    let page = browser
        .get(&format!(
            "/console/campaigns/{campaign}/results?school={}",
            small.id
        ))
        .await;
    // The page refuses (or shows no chart): three teachers must not be shown as their school.
    assert!(
        page.status == StatusCode::BAD_REQUEST || !page.body.contains("<svg class=\"chart\""),
        "{}",
        page.body
    );
    let (status, _, _, _) = browser
        .download(&format!(
            "/console/campaigns/{campaign}/charts/radar.svg?school={}",
            small.id
        ))
        .await
        .parts();
    assert_ne!(status, StatusCode::OK);
}

#[actix_web::test]
async fn charts_and_reports_need_a_supervisor() {
    let app = spawn_app().await;
    let campaign = parents_campaign(&app).await;
    let schools = dupin::schools::list(&app.db).await.expect("schools");
    let paths = [
        format!("/console/campaigns/{campaign}/charts/radar.png"),
        format!("/console/campaigns/{campaign}/charts/radar.svg"),
        "/console/reports/county".to_owned(),
        format!("/console/reports/schools/{}", schools[0].id),
    ];
    let mut anonymous = app.browser();
    let mut viewer = app.signed_in(Role::School).await;
    for path in &paths {
        let page = anonymous.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            page.location
                .as_deref()
                .is_some_and(|to| to.starts_with("/console/login")),
            "{path}"
        );
        let page = viewer.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
    }
    let mut admin = app.signed_in(Role::Admin).await;
    for path in &paths {
        assert_eq!(admin.get(path).await.status, StatusCode::OK, "{path}");
    }
}
