//! The conversation list: room avatar (a private chat's: the peer's), name, last-message preview, time and
//! unread badge, most recently active first; above it, a notice while a
//! refresh of the list fails and is retried. A row re-renders when its own
//! room changes (the `<For>` key) or its own unread count does (a memo
//! over the one map of counts).

use leptos::prelude::*;
use teahouse_protocol::{ConversationId, ConversationSummary};

use crate::components::widgets::ErrorNotice;
use crate::components::widgets::{preview, Avatar};
use crate::format::{now_ms, time_label};
use crate::i18n::{tr, use_i18n, T};
use crate::nav::{room_href, use_room_nav};
use crate::state::ChatState;
use crate::TzOffset;

#[component]
pub fn ConversationList(selected: Memo<Option<ConversationId>>) -> impl IntoView {
    let state = expect_context::<ChatState>();
    view! {
        {move || state.list_error.get().map(|err| view! { <ErrorNotice err what=T::ListFailed/> })}
        <ul class="conversations" role="list">
            <For
                each=move || state.rooms.get()
                key=|r| (r.id, r.last_seq, r.member_count, r.name.clone(), r.peer.clone())
                children=move |room| view! { <ConversationRow room selected/> }
            />
        </ul>
    }
}

#[component]
fn ConversationRow(
    room: ConversationSummary,
    selected: Memo<Option<ConversationId>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let tz = use_context::<TzOffset>()
        .map(|t| t.0)
        .unwrap_or(crate::format::DEFAULT_OFFSET_MIN);
    let id = room.id;
    let me = state.me_id();
    let last = room.last_event.clone();
    let last_for_preview = last.clone();
    // Only this row's count: other rooms' counts do not re-render it.
    let unread_count = Memo::new(move |_| state.unread_of(id));
    let unread = move || unread_count.get();
    let now = now_ms();
    let nav = use_room_nav();
    view! {
        <li>
            <a
                href=room_href(Some(id))
                on:click=nav.on_link_click(Some(id))
                class=move || if selected.get() == Some(id) { "conversation selected" } else { "conversation" }
                data-room-id=id.to_string()
            >
                {match room.peer.clone() {
                    // A private chat shows the other person.
                    Some(peer) => view! { <Avatar of=peer.id name=peer.nickname large=true image=peer.avatar url=peer.avatar_url/> },
                    None => view! { <Avatar of=id name=room.name.clone() large=true/> },
                }}
                <span class="conv-main">
                    <span class="conv-top">
                        <span class="conv-name">{room.name.clone()}</span>
                        <span class="conv-time">
                            {move || last.as_ref().map(|e| time_label(e.at_ms, now, tz, i18n.lang()))}
                        </span>
                    </span>
                    <span class="conv-preview">
                        <Show when=move || state.mentioned.with(|m| m.contains(&id))>
                            <span class="conv-mention">{tr(T::MentionedMark)}</span>
                        </Show>
                        {move || last_for_preview.as_ref().map(|e| preview(e, me, i18n.lang()))}
                    </span>
                </span>
                <Show when=move || { unread() > 0 }>
                    <span class="badge conv-badge" aria-label="unread" data-testid="unread">
                        {move || if unread() > 99 { "99+".to_owned() } else { unread().to_string() }}
                    </span>
                </Show>
            </a>
        </li>
    }
}
