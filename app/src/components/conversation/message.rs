//! One row of a conversation's log: a message (avatar, name, owner mark,
//! bubble; another's avatar opens your private chat with them), a system
//! line (joined, left, created, opened a private chat), or the time separator
//! put before an event that follows a long pause.
//!
//! A system notice (the server API's send-to-all) is drawn centred without
//! a bubble, like a time separator, with a 系统通知 / Notice tag; a bot's
//! messages carry a 机器人 / bot tag by its name.
//!
//! A message's bubble is rendered by [`bubble`], one arm per kind (the
//! media kinds' bubbles are in [`media`](super::media)); replies join there
//! as a new arm, and new kinds of event as new arms of [`MessageRow`].

use leptos::either::{Either, EitherOf4};
use leptos::prelude::*;
use teahouse_protocol::{ConversationEvent, EventBody, MessageContent, Seq, UserId};

use super::media::{image_bubble, video_bubble, voice_bubble};
use crate::components::direct::use_start_direct;
use crate::components::widgets::Avatar;
use crate::format::{now_ms, time_label, SEPARATOR_GAP_MS};
use crate::i18n::{tr, use_i18n, T};
use crate::TzOffset;

/// One line of the rendered log. (An event is larger than a separator
/// since messages carry replies and mentions; rows live only while a log
/// renders, so boxing them would buy nothing.)
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Row {
    /// A time label before the event with this seq.
    Separator {
        before: Seq,
        at_ms: i64,
    },
    Event(ConversationEvent),
}

impl Row {
    /// A key that stays the same while the row does (for `<For>`).
    pub fn key(&self) -> String {
        match self {
            Row::Separator { before, .. } => format!("s{before}"),
            // The actor's nickname and avatar are part of the key: a
            // renamed sender's rows, or one with a new avatar, are drawn
            // again (a `user_updated` frame), others stay; so is a recall:
            // the message is drawn again as its placeholder.
            Row::Event(e) => {
                let recalled = matches!(e.body, EventBody::Recalled { .. });
                format!(
                    "e{}@{}@{}{}{}",
                    e.seq,
                    e.actor.nickname,
                    e.actor.avatar.as_ref().map_or("", |a| a.0.as_str()),
                    e.actor.avatar_url.as_deref().unwrap_or(""),
                    if recalled { "~" } else { "" }
                )
            }
        }
    }
}

/// The rows for events in seq order: a separator before the first event and
/// before any that follows a pause longer than [`SEPARATOR_GAP_MS`].
pub fn rows_of(events: impl Iterator<Item = ConversationEvent>) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut prev_at: Option<i64> = None;
    for e in events {
        if prev_at.is_none_or(|p| e.at_ms - p > SEPARATOR_GAP_MS) {
            rows.push(Row::Separator {
                before: e.seq,
                at_ms: e.at_ms,
            });
        }
        prev_at = Some(e.at_ms);
        rows.push(Row::Event(e));
    }
    rows
}

/// A message's bubble, by kind: text, or a media bubble (see
/// [`media`](super::media)).
fn bubble(content: MessageContent, mine: bool) -> impl IntoView {
    match content {
        MessageContent::Text(text) => EitherOf4::A(view! { <div class="bubble">{text}</div> }),
        MessageContent::Image(media) => {
            EitherOf4::B(view! { <div class="bubble bubble-image">{image_bubble(media)}</div> })
        }
        MessageContent::Voice(media) => EitherOf4::C(
            view! { <div class="bubble bubble-voice">{voice_bubble(media, mine)}</div> },
        ),
        MessageContent::Video(media) => {
            EitherOf4::D(view! { <div class="bubble bubble-video">{video_bubble(media)}</div> })
        }
        // Drawn by `MessageRow` as a notice line, never as a bubble.
        MessageContent::Notice(text) => EitherOf4::A(view! { <div class="bubble">{text}</div> }),
    }
}

#[component]
pub fn MessageRow(row: Row, me: UserId, owner: Memo<Option<UserId>>) -> impl IntoView {
    let i18n = use_i18n();
    let tz = use_context::<TzOffset>()
        .map(|t| t.0)
        .unwrap_or(crate::format::DEFAULT_OFFSET_MIN);
    let ev = match row {
        Row::Separator { at_ms, .. } => {
            let now = now_ms();
            return view! { <div class="time-sep" role="separator">{move || time_label(at_ms, now, tz, i18n.lang())}</div> }.into_any();
        }
        Row::Event(ev) => ev,
    };
    let actions = use_context::<super::actions::Actions>();
    // The "new messages" divider goes before the first unread message.
    let divider = actions.map(|a| {
        let seq = ev.seq;
        view! {
            <Show when=move || a.new_from.get() == Some(seq)>
                <div class="new-divider" role="separator" data-testid="new-divider">{tr(T::NewMessagesBelow)}</div>
            </Show>
        }
    });
    let system = match ev.body {
        EventBody::Message(message) if matches!(message.content, MessageContent::Notice(_)) => {
            let text = message.content.text().to_owned();
            return view! {
                {divider}
                <div class="notice-line" role="note" data-seq=ev.seq.to_string() data-msgtype="notice">
                    <span class="notice-tag">{tr(T::NoticeTag)}</span>
                    <span class="notice-text">{text}</span>
                </div>
            }
            .into_any();
        }
        EventBody::Message(message) => {
            let mine = ev.actor.id == me;
            let i_own_room = owner.get_untracked() == Some(me);
            let tools = actions.map(|a| {
                let target = super::actions::ReplyTarget {
                    seq: ev.seq,
                    sender: ev.actor.nickname.clone(),
                    preview: super::actions::preview_of(&message.content, i18n.lang()),
                };
                let can_recall = super::actions::Actions::may_recall(mine, i_own_room, ev.at_ms);
                super::actions::message_tools(a, ev.seq, target, can_recall)
            });
            let quote = match (&message.reply_to, actions) {
                (Some(q), Some(a)) => Some(super::actions::quote_view((**q).clone(), a.room_id)),
                _ => None,
            };
            let mentions_me = message.mentions.contains(&me);
            let actor = ev.actor.id;
            let msgtype = message.content.msgtype().as_str();
            let is_owner = move || owner.get() == Some(actor);
            let avatar = view! { <Avatar of=ev.actor.id name=ev.actor.nickname.clone() image=ev.actor.avatar.clone() url=ev.actor.avatar_url.clone()/> };
            let bot = ev.actor.bot;
            // Someone else's avatar opens your private chat with them.
            let avatar = if mine {
                Either::Left(avatar)
            } else {
                let start = use_start_direct();
                let label = format!(
                    "{} {}",
                    T::SendMessage.in_lang(i18n.lang()),
                    ev.actor.nickname
                );
                Either::Right(view! {
                    <button type="button" class="avatar-button" aria-label=label on:click=move |_| start(actor)>
                        {avatar}
                    </button>
                })
            };
            return view! {
                {divider}
                <div class="msg" class:mine=mine class:mentions-me=mentions_me data-seq=ev.seq.to_string() data-msgtype=msgtype>
                    {avatar}
                    <div class="msg-body">
                        <div class="msg-meta">
                            <span class="msg-name">{ev.actor.nickname}</span>
                            <Show when=is_owner>
                                <span class="owner-mark">{tr(T::Owner)}</span>
                            </Show>
                            {bot.then(|| view! { <span class="bot-mark" data-testid="bot-mark">{tr(T::BotTag)}</span> })}
                        </div>
                        {quote}
                        {bubble(message.content, mine)}
                        {tools}
                    </div>
                </div>
            }
            .into_any();
        }
        EventBody::MemberJoined => T::JoinedRoom,
        EventBody::MemberLeft => T::LeftRoom,
        EventBody::RoomCreated { .. } => T::CreatedRoom,
        EventBody::DirectOpened => T::OpenedDirect,
        // The placeholder says it; the recall event itself is not drawn.
        // Removed by the room's or group's owner: said so, not "recalled".
        EventBody::Recalled { by } if by != ev.actor.id => T::RemovedByOwner,
        EventBody::Recalled { .. } => T::RecalledAMessage,
        EventBody::MessageRecalled { .. } => return ().into_any(),
        _ => {
            let ev = ev.clone();
            let line = move || crate::components::access_lines::event_line(&ev, i18n.lang());
            return view! { <div class="sys-line">{line}</div> }.into_any();
        }
    };
    view! { <div class="sys-line" data-seq=ev.seq.to_string()>{ev.actor.nickname} " " {move || i18n.t(system)}</div> }
        .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use teahouse_protocol::UserBrief;

    fn at(seq: Seq, at_ms: i64) -> ConversationEvent {
        ConversationEvent {
            conversation_id: teahouse_protocol::ConversationId(1),
            seq,
            at_ms,
            actor: UserBrief {
                id: teahouse_protocol::UserId(2),
                username: "u".into(),
                nickname: "U".into(),
                avatar: None,
                avatar_url: None,
                bot: false,
            },
            body: EventBody::MemberJoined,
        }
    }

    #[test]
    fn a_separator_opens_the_log_and_follows_every_long_pause() {
        let rows = rows_of(
            [
                at(1, 0),
                at(2, SEPARATOR_GAP_MS),
                at(3, 2 * SEPARATOR_GAP_MS + 1),
            ]
            .into_iter(),
        );
        let keys: Vec<String> = rows.iter().map(Row::key).collect();
        assert_eq!(keys, ["s1", "e1@U@", "e2@U@", "s3", "e3@U@"]);
        // A new avatar changes the key: the row is drawn again with it.
        let mut pictured = at(1, 0);
        pictured.actor.avatar = Some(teahouse_protocol::MediaId("c".repeat(26)));
        assert_eq!(
            Row::Event(pictured).key(),
            format!("e1@U@{}", "c".repeat(26))
        );
    }

    #[test]
    fn a_recalled_message_is_a_new_row_so_its_text_is_redrawn_away() {
        let mut ev = at(4, 0);
        ev.body = EventBody::Message(teahouse_protocol::Message::text("oops", "c"));
        let before = Row::Event(ev.clone()).key();
        ev.body = EventBody::Recalled {
            by: teahouse_protocol::UserId(2),
        };
        assert_ne!(Row::Event(ev).key(), before);
    }
}
