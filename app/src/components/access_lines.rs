//! How the log events of groups and the support desk read as one system
//! line ("X 修改群名为 …" / "X renamed the group to …"), in the chat and in
//! the conversation list's preview.

use teahouse_protocol::{ConversationEvent, EventBody, Lang};

/// `zh` or `en` by `lang`.
fn pick(lang: Lang, zh: String, en: String) -> String {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// The system line of an issue-16 event (None for the others).
pub fn event_line(ev: &ConversationEvent, lang: Lang) -> Option<String> {
    let who = &ev.actor.nickname;
    Some(match &ev.body {
        EventBody::GroupCreated { name } => pick(
            lang,
            format!("{who} 创建了群聊「{name}」"),
            format!("{who} created the group “{name}”"),
        ),
        EventBody::MemberAdded { user } => pick(
            lang,
            format!("{who} 邀请 {} 加入了群聊", user.nickname),
            format!("{who} added {}", user.nickname),
        ),
        EventBody::MemberRemoved { user } => pick(
            lang,
            format!("{who} 将 {} 移出了群聊", user.nickname),
            format!("{who} removed {}", user.nickname),
        ),
        EventBody::MemberMuted { user, until_ms } if *until_ms == 0 => pick(
            lang,
            format!("{who} 解除了 {} 的禁言", user.nickname),
            format!("{who} unmuted {}", user.nickname),
        ),
        EventBody::MemberMuted { user, until_ms } => {
            let minutes = ((until_ms - ev.at_ms).max(0) + 59_999) / 60_000;
            pick(
                lang,
                format!("{who} 将 {} 禁言 {minutes} 分钟", user.nickname),
                format!("{who} muted {} for {minutes} min", user.nickname),
            )
        }
        EventBody::MemberBanned { user } => pick(
            lang,
            format!("{who} 将 {} 移出并禁止再次加入", user.nickname),
            format!("{who} removed and banned {}", user.nickname),
        ),
        EventBody::GroupRenamed { name } => pick(
            lang,
            format!("{who} 修改群名为「{name}」"),
            format!("{who} renamed the group to “{name}”"),
        ),
        EventBody::AnnouncementSet { text } if text.is_empty() => pick(
            lang,
            format!("{who} 清除了群公告"),
            format!("{who} cleared the announcement"),
        ),
        EventBody::AnnouncementSet { text } => pick(
            lang,
            format!("{who} 发布了群公告：{text}"),
            format!("{who} posted an announcement: {text}"),
        ),
        EventBody::InvitePolicySet { owner_only: true } => pick(
            lang,
            format!("{who} 设置为仅群主可邀请成员"),
            format!("{who} let only the owner add members"),
        ),
        EventBody::InvitePolicySet { owner_only: false } => pick(
            lang,
            format!("{who} 设置为所有成员都可邀请"),
            format!("{who} let every member add members"),
        ),
        EventBody::OwnerChanged { owner } => pick(
            lang,
            format!("{who} 将群主转让给 {}", owner.nickname),
            format!("{who} made {} the owner", owner.nickname),
        ),
        EventBody::SupportOpened => pick(
            lang,
            format!("{who} 发起了咨询"),
            format!("{who} opened a support chat"),
        ),
        EventBody::SupportAssigned { agent } => pick(
            lang,
            format!("客服 {} 为您服务", agent.nickname),
            format!("{} is helping you now", agent.nickname),
        ),
        EventBody::SupportReturned { agent, .. } => pick(
            lang,
            format!(
                "客服 {} 已离开，正在为您转接其他客服，您的消息都已保存",
                agent.nickname
            ),
            format!(
                "{} left; finding another agent — your messages are kept",
                agent.nickname
            ),
        ),
        EventBody::SupportClosed => pick(
            lang,
            format!("{who} 结束了会话"),
            format!("{who} closed the conversation"),
        ),
        EventBody::SupportReopened => pick(
            lang,
            format!("{who} 重新发起了咨询"),
            format!("{who} reopened the conversation"),
        ),
        _ => return None,
    })
}
