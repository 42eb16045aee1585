//! A campaign freezes the survey it started with: editing the file later changes the campaigns
//! started after the edit, never the ones already running.

use awc::http::StatusCode;
use dupin::campaigns;
use dupin::survey::{self, Survey};

use crate::helpers::{Options, TestApp, copy_of_the_plan, edit_file, spawn_app_with};

const OLD_TEXT: &str = "总的来说，您对孩子的学校满意吗？";
const NEW_TEXT: &str = "总的来说，您对孩子现在就读的学校满意吗？";
/// The text of `canteen_hygiene`, a required question the edit removes.
const REMOVED_TEXT: &str = "您对学校食堂的干净卫生满意吗？";

/// A server whose plan is a copy the test may edit, kept alive as long as the app.
async fn app_with_an_editable_plan() -> (TestApp, tempfile::TempDir) {
    let plan = tempfile::tempdir().expect("temp dir");
    let surveys_dir = copy_of_the_plan(plan.path());
    let app = spawn_app_with(Options {
        surveys_dir,
        ..Options::default()
    })
    .await;
    (app, plan)
}

fn parents_as_the_file_says_now(app: &TestApp) -> Survey {
    survey::load_dir(&app.surveys_dir)
        .expect("the plan loads")
        .get("parents")
        .expect("parents")
        .survey
        .clone()
}

/// Rewords one question and removes another from the copied parents.toml.
fn reword_and_remove_a_question(app: &TestApp) {
    let file = app.surveys_dir.join("parents.toml");
    edit_file(
        &file,
        &format!("text = \"{OLD_TEXT}\""),
        &format!("text = \"{NEW_TEXT}\""),
    );
    edit_file(
        &file,
        &format!(
            "[[sections.questions]]\nid = \"canteen_hygiene\"\nkind = \"scale\"\n\
             scale = \"satisfaction\"\ntext = \"{REMOVED_TEXT}\"\nscored = true\n\n"
        ),
        "",
    );
}

async fn version_of(app: &TestApp, campaign: i32) -> i32 {
    campaigns::find(&app.db, campaign)
        .await
        .expect("the campaign exists")
        .survey_version_id
}

#[actix_web::test]
async fn a_running_campaign_keeps_its_survey_when_the_file_is_edited() {
    let (app, _plan) = app_with_an_editable_plan().await;
    let old_survey = parents_as_the_file_says_now(&app);
    let before = app.create_campaign("parents", None, None).await;

    reword_and_remove_a_question(&app);
    let new_survey = parents_as_the_file_says_now(&app);
    assert_eq!(new_survey.question_count() + 1, old_survey.question_count());
    let after = app.create_campaign("parents", None, None).await;

    assert_ne!(
        version_of(&app, before).await,
        version_of(&app, after).await
    );

    // The campaign started before the edit still asks the old questions, in the old words.
    let old_token = app.first_token(before).await;
    let old_form = app.phone().get(&format!("/s/{old_token}")).await;
    assert_eq!(old_form.status, StatusCode::OK);
    assert!(old_form.body.contains(OLD_TEXT));
    assert!(old_form.body.contains(REMOVED_TEXT));
    assert!(!old_form.body.contains(NEW_TEXT));

    // The campaign started after it asks the new ones.
    let new_token = app.first_token(after).await;
    let new_form = app.phone().get(&format!("/s/{new_token}")).await;
    assert_eq!(new_form.status, StatusCode::OK);
    assert!(new_form.body.contains(NEW_TEXT));
    assert!(!new_form.body.contains(OLD_TEXT));
    assert!(!new_form.body.contains(REMOVED_TEXT));

    // The old campaign is still judged by the old survey: the removed question is still required
    // there, and the old answers are accepted.
    let missing_one = app.phone().answer(&old_token, &new_survey).await;
    assert_eq!(
        missing_one.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        missing_one.body
    );
    let old_answers = app.phone().answer(&old_token, &old_survey).await;
    assert_eq!(
        old_answers.status,
        StatusCode::SEE_OTHER,
        "{}",
        old_answers.body
    );
    let new_answers = app.phone().answer(&new_token, &new_survey).await;
    assert_eq!(
        new_answers.status,
        StatusCode::SEE_OTHER,
        "{}",
        new_answers.body
    );

    // Each answer is stored against the version its campaign froze.
    assert_eq!(app.responses().await, 2);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM response r JOIN campaign c ON c.id = r.campaign_id \
             WHERE r.survey_version_id = c.survey_version_id"
        )
        .await,
        2
    );
    let frozen = campaigns::load_version(&app.db, version_of(&app, before).await)
        .await
        .expect("read")
        .expect("the old version is kept");
    assert_eq!(frozen, old_survey);
}

#[actix_web::test]
async fn two_campaigns_from_an_unchanged_file_share_one_version() {
    let (app, _plan) = app_with_an_editable_plan().await;

    let first = app.create_campaign("parents", None, None).await;
    let second = app.create_campaign("parents", None, None).await;
    let teachers = app.create_campaign("teachers", None, None).await;

    assert_eq!(
        version_of(&app, first).await,
        version_of(&app, second).await
    );
    assert_ne!(
        version_of(&app, first).await,
        version_of(&app, teachers).await
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM survey_version").await, 2);
}

#[actix_web::test]
async fn a_comment_added_to_the_file_does_not_make_a_new_version() {
    let (app, _plan) = app_with_an_editable_plan().await;
    let first = app.create_campaign("parents", None, None).await;

    let file = app.surveys_dir.join("parents.toml");
    let text = std::fs::read_to_string(&file).expect("parents.toml");
    std::fs::write(&file, format!("# 2027 年复核：问题不变。\n\n{text}")).expect("write");
    let second = app.create_campaign("parents", None, None).await;

    assert_eq!(
        version_of(&app, first).await,
        version_of(&app, second).await
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM survey_version").await, 1);
}
