//! Unit tests of reminder eligibility and the status list (compiled only under #[cfg(test)]).

use chrono::{DateTime, Duration, TimeZone, Utc};
use entity::invitation;

use super::{
    InvitationRow, ListQuery, PAGE_SIZE, ReminderCheck, SortKey, Status, count_statuses,
    last_mail_at, reminder_check, select_rows,
};

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0)
        .single()
        .expect("a valid time")
}

fn invitation(status: &str, sent: Option<u32>, reminded: Option<u32>) -> invitation::Model {
    invitation::Model {
        id: 1,
        campaign_id: 1,
        teacher_id: 1,
        status: status.to_owned(),
        last_error: None,
        sent_at: sent.map(|day| at(day, 9)),
        reminded_at: reminded.map(|day| at(day, 9)),
        reminders: i32::from(reminded.is_some()),
        created_at: at(1, 8),
    }
}

#[test]
fn a_sent_invitation_is_due_once_the_interval_has_passed_since_its_last_mail() {
    let three_days = Duration::days(3);
    let sent_on_the_first = invitation("sent", Some(1), None);
    assert_eq!(
        reminder_check(&sent_on_the_first, at(3, 9), three_days),
        ReminderCheck::TooSoon
    );
    assert_eq!(
        reminder_check(&sent_on_the_first, at(4, 9), three_days),
        ReminderCheck::Due
    );
    // A reminder on the fifth starts the interval again.
    let reminded_on_the_fifth = invitation("sent", Some(5), Some(5));
    assert_eq!(last_mail_at(&reminded_on_the_fifth), at(5, 9));
    assert_eq!(
        reminder_check(&reminded_on_the_fifth, at(7, 9), three_days),
        ReminderCheck::TooSoon
    );
    assert_eq!(
        reminder_check(&reminded_on_the_fifth, at(8, 10), three_days),
        ReminderCheck::Due
    );
}

#[test]
fn answered_failed_and_still_queued_invitations_are_never_reminded() {
    let later = at(20, 9);
    let day = Duration::days(1);
    assert_eq!(
        reminder_check(&invitation("answered", Some(1), None), later, day),
        ReminderCheck::Answered
    );
    assert_eq!(
        reminder_check(&invitation("failed", None, None), later, day),
        ReminderCheck::Failed
    );
    // Queued for weeks (the SMTP server is down): its mail will still go; no second one.
    assert_eq!(
        reminder_check(&invitation("queued", None, None), later, day),
        ReminderCheck::StillQueued
    );
    // Just invited: too soon, whatever the status.
    assert_eq!(
        reminder_check(&invitation("queued", None, None), at(1, 9), day),
        ReminderCheck::TooSoon
    );
}

fn row(id: i32, name: &str, school: &str, status: Status) -> InvitationRow {
    InvitationRow {
        id,
        teacher_name: name.to_owned(),
        email: format!("t{id}@qq.com"),
        school_id: if school == "A" { 1 } else { 2 },
        school_code: school.to_owned(),
        school_name: format!("学校{school}"),
        status,
        status_slug: status.slug(),
        status_label: status.label(),
        last_error: None,
        last_mail: None,
        reminders: 0,
    }
}

#[test]
fn the_list_filters_sorts_and_pages() {
    let rows = vec![
        row(1, "王", "B", Status::Sent),
        row(2, "李", "A", Status::Answered),
        row(3, "张", "A", Status::Failed),
        row(4, "赵", "B", Status::Queued),
    ];
    let counts = count_statuses(&rows);
    assert_eq!(
        (
            counts.total,
            counts.queued,
            counts.sent,
            counts.failed,
            counts.answered
        ),
        (4, 1, 1, 1, 1)
    );

    let by_school = select_rows(rows.clone(), &ListQuery::default());
    let ids: Vec<i32> = by_school.rows.iter().map(|r| r.id).collect();
    // By school, then name by code point (张 U+5F20 before 李 U+674E).
    assert_eq!(ids, [3, 2, 1, 4]);

    let only_a_by_status_desc = select_rows(
        rows.clone(),
        &ListQuery {
            school_id: Some(1),
            sort: SortKey::Status,
            descending: true,
            ..ListQuery::default()
        },
    );
    let ids: Vec<i32> = only_a_by_status_desc.rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, [2, 3]);
    assert_eq!(only_a_by_status_desc.matching, 2);

    let failed = select_rows(
        rows,
        &ListQuery {
            status: Some(Status::Failed),
            ..ListQuery::default()
        },
    );
    assert_eq!(failed.rows.len(), 1);
    assert_eq!(failed.rows[0].id, 3);
}

#[test]
fn pages_hold_fifty_rows_and_a_page_past_the_end_shows_the_last() {
    let rows: Vec<InvitationRow> = (0..(PAGE_SIZE as i32 + 5))
        .map(|id| row(id, &format!("教师{id:03}"), "A", Status::Sent))
        .collect();
    let last = select_rows(
        rows,
        &ListQuery {
            sort: SortKey::Name,
            page: 9,
            ..ListQuery::default()
        },
    );
    assert_eq!((last.page, last.pages, last.rows.len()), (2, 2, 5));
    assert_eq!(last.rows[0].teacher_name, "教师050");
}

#[test]
fn statuses_and_sort_keys_read_back_from_their_slugs() {
    for status in Status::ALL {
        assert_eq!(Status::parse(status.slug()), Some(status));
    }
    for key in SortKey::ALL {
        assert_eq!(SortKey::parse(key.slug()), Some(key));
    }
    assert_eq!(Status::parse("opened"), None);
}
