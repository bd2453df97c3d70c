//! The open conversation's message list: its rows come from the
//! conversation's own log (the server-rendered newest page, older pages
//! fetched on scroll-up, live and caught-up events), followed by the
//! outbox's bubbles. It follows the newest message while the reader is at
//! the bottom, keeps their place when an older page lands above, and shows
//! a notice when an older page or a catch-up failed (the catch-up retries by
//! itself; an older page is retried by the button or the next scroll).

use std::collections::HashSet;

use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use teahouse_protocol::{ConversationEvent, ConversationId, EventBody};

use super::message::{rows_of, MessageRow, Row};
use super::outbox::{Outbox, PendingBubble};
use crate::api::messages::history;
use crate::components::widgets::ErrorNotice;
use crate::error::AppError;
use crate::i18n::{tr, T};
use crate::state::ChatState;

/// Events per history page.
pub const PAGE: u32 = 50;

#[component]
pub fn MessageLog(
    room_id: ConversationId,
    first: Vec<ConversationEvent>,
    outbox: Outbox,
) -> impl IntoView {
    let state = expect_context::<ChatState>();
    let me = state.me_id();
    let owner = Memo::new(move |_| {
        state.rooms.with(|r| {
            r.iter()
                .find(|s| s.id == room_id)
                // A private chat's opener owns nothing: no owner mark there
                // (nor in a support conversation). A group's owner may
                // remove any message, as a room's may.
                .filter(|s| {
                    matches!(
                        s.kind,
                        teahouse_protocol::ConversationKind::Room
                            | teahouse_protocol::ConversationKind::Group
                    )
                })
                .map(|s| s.owner_id)
        })
    });
    let has_older =
        RwSignal::new(first.len() >= PAGE as usize && first.first().is_some_and(|e| e.seq > 1));
    let loading_older = RwSignal::new(false);
    let older_error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let list_ref = NodeRef::<Div>::new();

    // The first page becomes (part of) this conversation's log, on the
    // server and in the browser alike, so both render the same rows.
    let log = state.open_log(room_id);
    log.merge(first);
    let catch_up_error = log.catch_up_error.clone();

    // The "new messages" divider: before the first message of someone
    // else after my read position as it was when the conversation opened.
    let actions = expect_context::<super::actions::Actions>();
    let read_at_open = state.rooms.with_untracked(|r| {
        r.iter()
            .find(|s| s.id == room_id)
            .filter(|s| s.unread > 0 || state.unread_of_now(room_id) > 0)
            .map(|s| s.read_seq)
    });
    if let Some(read) = read_at_open {
        let first_new = log.with_events_untracked(|m| {
            m.values()
                .find(|e| {
                    e.seq > read && e.actor.id != me && matches!(e.body, EventBody::Message(_))
                })
                .map(|e| e.seq)
        });
        actions.new_from.set(first_new);
    }
    let show_jump = RwSignal::new(false);

    // Browser only: fetch anything stored between that page and now; open
    // a search hit or a quote that asked for this conversation.
    Effect::new(move |done: Option<()>| {
        if done.is_none() {
            #[cfg(feature = "hydrate")]
            crate::live::request_catch_up(state, room_id);
            #[cfg(feature = "hydrate")]
            request_animation_frame(move || {
                // Offer the jump when the divider is above what is shown.
                let (Some(seq), Some(list)) =
                    (actions.new_from.get_untracked(), list_ref.get_untracked())
                else {
                    return;
                };
                let selector = format!(".messages [data-seq=\"{seq}\"]");
                if let Some(el) = document().query_selector(&selector).ok().flatten() {
                    let top = list.get_bounding_client_rect().top();
                    show_jump.set(el.get_bounding_client_rect().top() < top);
                }
            });
        }
    });
    // A search hit or a quote asked for a message of this conversation.
    Effect::new(move |_| {
        if let Some((room, seq)) = state.focus.get() {
            if room == room_id {
                state.focus.set(None);
                actions.bring_into_view(seq);
            }
        }
    });
    // The newest message is in view (at the bottom, page shown): read.
    let read_if_seen = move || {
        if actions.stick_to_bottom.get_untracked() && !ChatState::page_hidden() {
            state.mark_read(room_id);
        }
    };
    #[cfg(feature = "hydrate")]
    {
        let focus = window_event_listener(leptos::ev::focus, move |_| read_if_seen());
        let shown = window_event_listener(leptos::ev::visibilitychange, move |_| read_if_seen());
        on_cleanup(move || {
            focus.remove();
            shown.remove();
        });
    }

    // Reads this conversation's log only: other conversations' events do
    // not re-run it.
    let rows = Memo::new(move |_| log.with(|m| rows_of(m.values().cloned())));

    // Client ids of my messages already in the log.
    let stored_ids = Memo::new(move |_| {
        rows.with(|r| {
            r.iter()
                .filter_map(|row| match row {
                    Row::Event(ConversationEvent {
                        actor,
                        body: EventBody::Message(m),
                        ..
                    }) if actor.id == me => Some(m.client_id.clone()),
                    _ => None,
                })
                .collect::<HashSet<String>>()
        })
    });

    // Follow the newest message while the reader is at the bottom (or just
    // sent something); leave them alone while they read history.
    let stick_to_bottom = actions.stick_to_bottom;
    Effect::new(move |_| {
        let _ = rows.with(|r| r.len()) + outbox.pending.with(|p| p.len());
        if let Some(el) = list_ref.get() {
            if stick_to_bottom.get() {
                el.set_scroll_top(el.scroll_height());
                read_if_seen();
            }
        }
    });
    Effect::new(move |_| {
        if outbox.pending.with(|p| !p.is_empty()) {
            stick_to_bottom.set(true);
        }
    });

    let load_older = move || {
        if loading_older.get_untracked() || !has_older.get_untracked() {
            return;
        }
        let Some(oldest) = state.log(room_id).and_then(|l| l.oldest()) else {
            return;
        };
        loading_older.set(true);
        spawn_local(async move {
            let before_height = list_ref
                .get_untracked()
                .map(|el| el.scroll_height())
                .unwrap_or(0);
            match history(room_id, Some(oldest), None, Some(PAGE), None).await {
                Ok(events) => {
                    older_error.set(None);
                    if events.len() < PAGE as usize {
                        has_older.set(false);
                    }
                    if let Some(log) = state.log(room_id) {
                        log.merge(events);
                    }
                    // Keep the reader's place: shift by the height just added.
                    if let Some(el) = list_ref.get_untracked() {
                        el.set_scroll_top(el.scroll_top() + el.scroll_height() - before_height);
                    }
                }
                Err(err) => older_error.set(Some(err)),
            }
            loading_older.set(false);
        });
    };
    let on_scroll = move |_| {
        if let Some(el) = list_ref.get_untracked() {
            let at_bottom = el.scroll_height() - el.scroll_top() - el.client_height() < 80;
            if at_bottom && !stick_to_bottom.get_untracked() {
                stick_to_bottom.set(true);
                read_if_seen();
            } else if !at_bottom && stick_to_bottom.get_untracked() {
                stick_to_bottom.set(false);
            }
            // After a failure only the button retries, so that scrolling at
            // the top does not send a request per scroll event.
            if el.scroll_top() < 40 && older_error.with_untracked(Option::is_none) {
                load_older();
            }
        }
    };

    let jump = move |_| {
        show_jump.set(false);
        if let Some(seq) = actions.new_from.get_untracked() {
            actions.bring_into_view(seq);
        }
    };
    view! {
        <Show when=move || show_jump.get()>
            <button type="button" class="jump-new" on:click=jump>{tr(T::JumpToNew)}</button>
        </Show>
        <div class="messages" node_ref=list_ref on:scroll=on_scroll data-testid="messages">
            <div class="history-edge">
                {move || if has_older.get() {
                    view! {
                        <button type="button" class="link-button" on:click=move |_| load_older() disabled=move || loading_older.get()>
                            {tr(T::LoadOlder)}
                        </button>
                    }.into_any()
                } else {
                    view! { <span class="muted">{tr(T::NoOlder)}</span> }.into_any()
                }}
                {move || older_error.get().map(|err| view! { <ErrorNotice err what=T::OlderFailed/> })}
            </div>
            <For
                each=move || rows.get()
                key=|row| row.key()
                children=move |row| view! { <MessageRow row me owner/> }
            />
            <For
                each=move || {
                    // A send whose event already arrived over the socket is shown
                    // once, as the stored event.
                    let stored = stored_ids.get();
                    outbox.pending.get().into_iter().filter(|p| !stored.contains(&p.client_id)).collect::<Vec<_>>()
                }
                key=|p| (p.client_id.clone(), p.failed.clone())
                children=move |p| view! { <PendingBubble p outbox/> }
            />
            {move || catch_up_error.get().map(|err| view! { <ErrorNotice err what=T::CatchUpFailed/> })}
        </div>
    }
}
