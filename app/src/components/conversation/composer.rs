//! The message input of the open conversation: Enter sends, Shift+Enter is
//! a newline, and neither fires while an input method is composing (so
//! confirming a Chinese candidate with Enter does not send). Sending hands
//! the text to the [`Outbox`].
//!
//! Around it: the mic button and hold-to-talk ([`voice`](super::voice)),
//! the attach button ([`attach`](super::attach)), and images pasted into
//! the input go out as photos.

use leptos::prelude::*;
use teahouse_protocol::{ClientFrame, Member, UserId};

use super::actions::Actions;
use super::attach::attach_button;
use super::outbox::{Outbox, Refs};
use super::voice::{hold_to_talk, mic_button, recording_status, Voice, VoiceState};
use crate::i18n::{tr, use_i18n, T};

#[component]
pub fn Composer(outbox: Outbox) -> impl IntoView {
    let i18n = use_i18n();
    let draft = RwSignal::new(String::new());
    let voice = Voice::new(outbox);
    let actions = expect_context::<Actions>();
    let state = expect_context::<crate::state::ChatState>();
    let mention = Mentions::new(actions.room_id);
    let send = move || {
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        draft.set(String::new());
        let refs = Refs {
            reply_to: actions.reply.get_untracked().map(|r| r.seq),
            mentions: mention.take(&text),
        };
        actions.reply.set(None);
        outbox.send(text, refs);
    };
    // "I am typing", at most every 3 s while the draft changes.
    let last_typing = StoredValue::new(0i64);
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        let now = crate::format::now_ms();
        if !text.trim().is_empty() && now - last_typing.get_value() > 3_000 {
            last_typing.set_value(now);
            state.send_frame(&ClientFrame::Typing {
                room_id: actions.room_id,
            });
        }
        draft.set(text);
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        // Never while an IME is composing (Enter confirms a candidate).
        if ev.is_composing() || ev.key_code() == 229 {
            return;
        }
        // The mention picker takes the arrows, Enter, Tab and Escape.
        if let Some(picked) = mention.on_key(&ev.key(), &draft.get_untracked()) {
            ev.prevent_default();
            if let Some(text) = picked {
                draft.set(text);
            }
            return;
        }
        // Enter sends; Shift+Enter is a newline.
        if ev.key() == "Enter" && !ev.shift_key() {
            ev.prevent_default();
            send();
        }
    };
    // A pasted picture is sent as a photo (text pastes as usual).
    let on_paste = move |_ev: leptos::ev::ClipboardEvent| {
        #[cfg(feature = "hydrate")]
        if let Some(files) = super::attach::files_of(_ev.clipboard_data()) {
            if super::attach::send_files(outbox, &files, true) {
                _ev.prevent_default();
            }
        }
    };
    // The text input gives way to the recording strip after a click on the
    // mic, and to the hold-to-talk button in the touch layout.
    let typing = move || {
        !voice.hold_mode.get() && (voice.state.get() == VoiceState::Idle || voice.held.get())
    };
    view! {
        <div class="composer-wrap">
            {move || voice.notice.get().map(|t| view! { <p class="composer-notice" role="status">{move || i18n.t(t)}</p> })}
            {move || actions.error.get().map(|err| view! {
                <p class="composer-notice error-text" role="alert" data-code=err.code.as_str()>{tr(T::RecallFailed)} " · " {move || err.code.message(i18n.lang())}</p>
            })}
            {move || actions.reply.get().map(|r| view! {
                <div class="reply-bar" data-testid="reply-bar">
                    <span class="reply-bar-text">{tr(T::ReplyingTo)} " " {r.sender} ": " {r.preview}</span>
                    <button type="button" class="link-button" aria-label=tr(T::CancelReply) on:click=move |_| actions.reply.set(None)>"✕"</button>
                </div>
            })}
            {move || mention.picker(draft)}
            <form class="composer" on:submit=move |ev| { ev.prevent_default(); send(); }>
                {mic_button(voice)}
                {move || voice.hold_mode.get().then(|| hold_to_talk(voice))}
                <textarea
                    class="composer-input"
                    class:hidden=move || !typing()
                    rows="1"
                    aria-label=tr(T::MessagePlaceholder)
                    placeholder=tr(T::MessagePlaceholder)
                    maxlength=teahouse_protocol::limits::MESSAGE_MAX_DEFAULT
                    prop:value=move || draft.get()
                    on:input=on_input
                    on:keydown=on_keydown
                    on:paste=on_paste
                ></textarea>
                {recording_status(voice)}
                {attach_button(outbox)}
                <button type="submit" class="primary send" disabled=move || draft.with(|d| d.trim().is_empty())>
                    {tr(T::Send)}
                </button>
            </form>
        </div>
    }
}

/// The @mention picker of a room's composer: typing `@` (then part of a
/// nickname) lists matching members; arrows move, Enter or Tab picks,
/// Escape closes; a click picks too. The pick puts `@nickname ` in the
/// text and remembers the member's id: the message is sent with the ids
/// of the picked members whose `@nickname` is still in it (the text itself
/// is never parsed for mentions). Keys never act while an IME composes.
#[derive(Clone, Copy)]
struct Mentions {
    /// The room's members, fetched at the first `@`.
    members: RwSignal<Option<Vec<Member>>>,
    /// The highlighted candidate.
    active: RwSignal<usize>,
    /// Closed with Escape until the draft's `@` changes.
    closed_at: RwSignal<Option<usize>>,
    /// Members picked, with the nickname inserted.
    picked: StoredValue<Vec<(UserId, String)>>,
    /// Only rooms have a picker (a private chat's peer is the only one).
    in_room: Memo<bool>,
    /// The conversation.
    room_id: teahouse_protocol::ConversationId,
    /// Me (never offered).
    me: UserId,
}

impl Mentions {
    fn new(room_id: teahouse_protocol::ConversationId) -> Mentions {
        let state = expect_context::<crate::state::ChatState>();
        Mentions {
            members: RwSignal::new(None),
            active: RwSignal::new(0),
            closed_at: RwSignal::new(None),
            picked: StoredValue::new(Vec::new()),
            in_room: Memo::new(move |_| {
                state.rooms.with(|r| {
                    r.iter().any(|s| {
                        s.id == room_id && s.kind == teahouse_protocol::ConversationKind::Room
                    })
                })
            }),
            room_id,
            me: state.me_id(),
        }
    }

    /// The `@query` being typed at the end of `text`: its byte offset and
    /// the query.
    fn typed(text: &str) -> Option<(usize, &str)> {
        let at = text.rfind('@')?;
        let query = &text[at + 1..];
        let starts_word = text[..at]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace);
        (starts_word && !query.contains(char::is_whitespace)).then_some((at, query))
    }

    /// The members matching the `@query` being typed (not me), at most 8
    /// (`tracked`: re-run the caller when the members arrive).
    fn candidates(self, text: &str, tracked: bool) -> Vec<Member> {
        let in_room = if tracked {
            self.in_room.get()
        } else {
            self.in_room.get_untracked()
        };
        if !in_room {
            return Vec::new();
        }
        let Some((at, query)) = Self::typed(text) else {
            return Vec::new();
        };
        let closed = if tracked {
            self.closed_at.get()
        } else {
            self.closed_at.get_untracked()
        };
        if closed == Some(at) {
            return Vec::new();
        }
        let me = self.me;
        if self.members.with_untracked(Option::is_none) {
            self.load();
        }
        let query = query.to_lowercase();
        let pick = |m: &Option<Vec<Member>>| -> Vec<Member> {
            m.iter()
                .flatten()
                .filter(|m| m.id != me && !m.is_system())
                .filter(|m| {
                    m.nickname.to_lowercase().contains(&query)
                        || m.username.to_lowercase().contains(&query)
                })
                .take(8)
                .cloned()
                .collect()
        };
        if tracked {
            self.members.with(pick)
        } else {
            self.members.with_untracked(pick)
        }
    }

    fn load(self) {
        self.members.set(Some(Vec::new()));
        let room_id = self.room_id;
        leptos::task::spawn_local(async move {
            if let Ok(detail) = crate::api::rooms::room_detail(room_id).await {
                self.members.set(Some(detail.members));
            }
        });
    }

    /// `text` with its `@query` replaced by `@nickname `, remembering who.
    fn pick(self, text: &str, member: &Member) -> String {
        let Some((at, _)) = Self::typed(text) else {
            return text.to_owned();
        };
        self.picked
            .update_value(|p| p.push((member.id, member.nickname.clone())));
        self.active.set(0);
        format!("{}@{} ", &text[..at], member.nickname)
    }

    /// Handles a key while the picker is open: Some(None) when it moved the
    /// highlight or closed, Some(Some(text)) when it picked; None when the
    /// picker is closed (the key is the composer's).
    fn on_key(self, key: &str, text: &str) -> Option<Option<String>> {
        let found = self.candidates(text, false);
        if found.is_empty() {
            return None;
        }
        let n = found.len();
        match key {
            "ArrowDown" => self.active.update(|a| *a = (*a + 1) % n),
            "ArrowUp" => self.active.update(|a| *a = (*a + n - 1) % n),
            "Enter" | "Tab" => {
                let member = &found[self.active.get_untracked().min(n - 1)];
                return Some(Some(self.pick(text, member)));
            }
            "Escape" => self.closed_at.set(Self::typed(text).map(|(at, _)| at)),
            _ => return None,
        }
        Some(None)
    }

    /// The ids to send with `text`: picked members still named in it.
    fn take(self, text: &str) -> Vec<UserId> {
        let mut ids = Vec::new();
        self.picked.update_value(|p| {
            for (id, nick) in p.drain(..) {
                if text.contains(&format!("@{nick}")) && !ids.contains(&id) {
                    ids.push(id);
                }
            }
        });
        ids
    }

    /// The list of candidates above the input, while `@` is being typed.
    fn picker(self, draft: RwSignal<String>) -> Option<impl IntoView> {
        let found = draft.with(|d| self.candidates(d, true));
        if found.is_empty() {
            return None;
        }
        let active = self.active.get().min(found.len() - 1);
        Some(view! {
            <ul class="mention-picker" role="listbox" aria-label=tr(T::MentionSomeone)>
                {found.into_iter().enumerate().map(|(i, m)| {
                    let name = m.nickname.clone();
                    view! {
                        <li role="option" aria-selected=(i == active).to_string() class:active=i == active
                            on:mousedown=move |ev| {
                                ev.prevent_default();
                                let text = self.pick(&draft.get_untracked(), &m);
                                draft.set(text);
                            }>
                            {name}
                        </li>
                    }
                }).collect_view()}
            </ul>
        })
    }
}
