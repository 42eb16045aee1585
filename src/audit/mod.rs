//! The audit log: sign-ins and their failures, account changes, imports, campaign changes and
//! (to come) exclusions of answers — who, what, when. School saves, imports and campaign changes
//! write their row in the same transaction as the change; sign-ins and account changes are one
//! statement each, followed by their row. Read by admins on `/console/audit`.

use chrono::Utc;
use entity::{account, audit_event};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

/// Who acts: a signed-in console account, the command line, or — for a sign-in that has not
/// succeeded — whoever typed an e-mail.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    Account(&'a account::Model),
    CommandLine,
    /// Not signed in; the e-mail they typed, as the audit log's actor.
    Visitor(&'a str),
    /// dupin itself: a rule applied without anyone asking (answers held for coming too fast).
    System,
}

impl<'a> Actor<'a> {
    /// The account acting, if any.
    pub fn account(&self) -> Option<&'a account::Model> {
        match self {
            Actor::Account(account) => Some(account),
            Actor::CommandLine | Actor::Visitor(_) | Actor::System => None,
        }
    }
}

/// Every action code the application records, with the label admins read.
pub const ACTIONS: &[(&str, &str)] = &[
    ("sign_in", "登录"),
    ("sign_in_failed", "登录失败"),
    ("sign_in_throttled", "登录受限"),
    ("sign_out", "退出"),
    ("password_changed", "修改密码"),
    ("setup_admin_created", "创建首个管理员"),
    ("account_create", "新建账号"),
    ("account_disable", "停用账号"),
    ("account_enable", "启用账号"),
    ("account_reset_password", "重置密码"),
    ("account_unlock", "解除登录暂停"),
    ("password_change_failed", "修改密码失败"),
    ("schools_import", "导入学校"),
    ("school_create", "新增学校"),
    ("school_update", "修改学校"),
    ("campaign_create", "创建调查活动"),
    ("campaign_status", "调查活动状态"),
    ("campaign_edit", "修改调查活动"),
    ("answer_exclude", "排除答卷"),
    ("answer_restore", "恢复答卷"),
    ("visit_record", "记录走访督查"),
    ("answers_exclude", "批量排除答卷"),
    ("answers_release", "批量放行答卷"),
    ("answers_hold", "答卷超出速率暂缓"),
    ("api_token_issue", "签发 API 令牌"),
    ("api_token_revoke", "吊销 API 令牌"),
    ("mail_report", "邮件发送报告"),
    ("mail_retry", "重试邮件"),
    ("mail_digest", "进度周报"),
    ("roster_import", "导入教师名单"),
    ("roster_import_county", "导入全县教师名单"),
    ("teacher_add", "添加教师"),
    ("teacher_remove", "移除教师"),
    ("invitations_send", "发送教师邀请"),
    ("invitations_remind", "提醒未作答教师"),
    ("invitations_resend", "重发教师邀请"),
    ("teachers_approve", "批准学校添加的教师"),
    ("rectification_create", "创建整改项"),
    ("rectification_edit", "修改整改项"),
    ("rectification_report", "学校报告整改情况"),
    ("rectification_accept", "验收整改项"),
    ("rectification_return", "退回整改项"),
    ("rectification_remind", "整改提醒"),
];

/// The Chinese label of a known action code.
pub fn action_label(code: &str) -> Option<&'static str> {
    ACTIONS
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(_, label)| *label)
}

/// Which events to show: an exact action code and a part of the actor, both optional.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    /// Matched anywhere in the actor, ignoring ASCII case.
    pub actor: Option<String>,
}

impl AuditFilter {
    fn condition(&self) -> Condition {
        let mut condition = Condition::all();
        if let Some(action) = self
            .action
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            condition = condition.add(audit_event::Column::Action.eq(action));
        }
        if let Some(actor) = self
            .actor
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            let pattern = format!("%{}%", escape_like(&actor.to_lowercase()));
            condition = condition.add(
                Expr::expr(Func::lower(Expr::col(audit_event::Column::Actor)))
                    .like(LikeExpr::new(pattern).escape('\\')),
            );
        }
        condition
    }
}

/// Makes `%`, `_` and the escape character itself match only themselves in a LIKE pattern.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Records one event. Actions record theirs through [`crate::change::Change::audit`], in the
/// change's own transaction; this is what it calls.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: Actor<'_>,
    action: &str,
    detail: impl Into<String>,
) -> Result<(), DbErr> {
    record_about(db, actor, action, detail, None).await
}

/// Records one event that concerns `school` (a roster change), so that it can be found again
/// by school.
pub async fn record_about(
    db: &impl ConnectionTrait,
    actor: Actor<'_>,
    action: &str,
    detail: impl Into<String>,
    school: Option<i32>,
) -> Result<(), DbErr> {
    let (account_id, who) = match actor {
        Actor::Account(account) => (Some(account.id), account.email.clone()),
        Actor::CommandLine => (None, "command line".to_owned()),
        Actor::Visitor(typed) => (None, typed.chars().take(254).collect()),
        Actor::System => (None, "dupin".to_owned()),
    };
    audit_event::ActiveModel {
        at: Set(Utc::now()),
        account_id: Set(account_id),
        actor: Set(who),
        action: Set(action.to_owned()),
        detail: Set(detail.into()),
        school_id: Set(school),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The newest events first, a page at a time.
pub async fn page(
    db: &impl ConnectionTrait,
    offset: u64,
    limit: u64,
) -> Result<(Vec<audit_event::Model>, u64), DbErr> {
    let total = audit_event::Entity::find().count(db).await?;
    let events = audit_event::Entity::find()
        .order_by_desc(audit_event::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((events, total))
}

/// The events that match `filter`, newest first, a page at a time, and how many match in all.
pub async fn search(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<audit_event::Model>, u64), DbErr> {
    let total = audit_event::Entity::find()
        .filter(filter.condition())
        .count(db)
        .await?;
    let events = audit_event::Entity::find()
        .filter(filter.condition())
        .order_by_desc(audit_event::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((events, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_action_has_one_label() {
        assert_eq!(action_label("account_reset_password"), Some("重置密码"));
        assert_eq!(action_label("sign_in"), Some("登录"));
        assert_eq!(action_label("something_new"), None);
        for (index, (code, _)) in ACTIONS.iter().enumerate() {
            assert!(
                ACTIONS[index + 1..].iter().all(|(other, _)| other != code),
                "{code} twice"
            );
        }
    }

    #[test]
    fn like_wildcards_in_a_search_match_only_themselves() {
        assert_eq!(escape_like("a_b%c\\d"), "a\\_b\\%c\\\\d");
        assert_eq!(escape_like("li@edu.cn"), "li@edu.cn");
    }
}
