//! One room: header, the message log (server-rendered newest page, older
//! pages on scroll-up, live events appended), and the composer.
//!
//! Sends are optimistic: the bubble appears at once as "sending", becomes the
//! stored event when the server answers, or stays with a retry button (the
//! retry reuses the same client id, so it can never be stored twice).

use std::collections::BTreeMap;

use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use teahouse_protocol::{ErrorCode, EventBody, RoomEvent, RoomId, Seq, UserId};

use crate::api::messages::{history, send_message};
use crate::api::rooms::{leave_room, room_detail};
use crate::components::widgets::{Avatar, ErrorNotice};
use crate::error::AppError;
use crate::format::{now_ms, time_label, SEPARATOR_GAP_MS};
use crate::i18n::{use_i18n, T};
use crate::nav::use_room_nav;
use crate::state::ChatState;
use crate::TzOffset;

/// Events per history page.
const PAGE: u32 = 50;

/// A message typed here and not yet confirmed by the server.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pending {
    /// Idempotency key, reused by retries.
    client_id: String,
    text: String,
    /// Why the last attempt failed (None while in flight).
    failed: Option<ErrorCode>,
}

/// One line of the rendered log.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Row {
    /// A time label before the event with this seq.
    Separator {
        before: Seq,
        at_ms: i64,
    },
    Event(RoomEvent),
}

impl Row {
    fn key(&self) -> String {
        match self {
            Row::Separator { before, .. } => format!("s{before}"),
            Row::Event(e) => format!("e{}", e.seq),
        }
    }
}

fn rows_of(events: impl Iterator<Item = RoomEvent>) -> Vec<Row> {
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

#[component]
pub fn ChatPane(room_id: RoomId) -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let summary = Memo::new(move |_| {
        state
            .rooms
            .with(|r| r.iter().find(|s| s.id == room_id).cloned())
    });
    let first_page = Resource::new(move || room_id, |id| history(id, None, None, Some(PAGE)));
    let show_members = RwSignal::new(false);
    let nav = use_room_nav();
    view! {
        <section class="chat" aria-label=move || summary.get().map(|s| s.name).unwrap_or_default()>
            <header class="chat-head">
                <a href="/" class="back" aria-label=move || i18n.t(T::Back) on:click=nav.on_link_click(None)>"‹"</a>
                <h2 class="chat-title">
                    {move || summary.get().map(|s| s.name)}
                    <span class="chat-count">
                        {move || summary.get().map(|s| format!(" ({})", s.member_count))}
                    </span>
                </h2>
                <button
                    type="button"
                    class="icon-button"
                    aria-expanded=move || show_members.get().to_string()
                    on:click=move |_| show_members.update(|v| *v = !*v)
                >
                    {move || i18n.t(T::Members)}
                </button>
            </header>
            <Show when=move || show_members.get()>
                <MemberPanel room_id/>
            </Show>
            <Suspense fallback=move || view! { <div class="messages"><p class="loading">{move || i18n.t(T::Loading)}</p></div> }>
                {move || Suspend::new(async move {
                    match first_page.await {
                        Ok(first) => view! { <Conversation room_id first/> }.into_any(),
                        Err(err) => view! { <div class="messages"><ErrorNotice err/></div> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The log and the composer, once the first page is known.
#[component]
fn Conversation(room_id: RoomId, first: Vec<RoomEvent>) -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let me = state.me_id();
    let owner = Memo::new(move |_| {
        state
            .rooms
            .with(|r| r.iter().find(|s| s.id == room_id).map(|s| s.owner_id))
    });
    let has_older =
        RwSignal::new(first.len() >= PAGE as usize && first.first().is_some_and(|e| e.seq > 1));
    let loading_older = RwSignal::new(false);
    let first = StoredValue::new(first);
    let pending: RwSignal<Vec<Pending>> = RwSignal::new(Vec::new());
    let list_ref = NodeRef::<Div>::new();

    // Browser only: adopt the first page as this room's log, and fetch
    // anything stored between that page and now.
    Effect::new(move |done: Option<()>| {
        if done.is_none() {
            let events = first.get_value();
            let after = events.last().map(|e| e.seq).unwrap_or(0);
            state.merge(room_id, events);
            state.mark_read(room_id);
            #[cfg(feature = "hydrate")]
            spawn_local(crate::live::catch_up(state, room_id, after));
            #[cfg(not(feature = "hydrate"))]
            let _ = after;
        }
    });

    let rows = Memo::new(move |_| {
        let mut all: BTreeMap<Seq, RoomEvent> =
            first.with_value(|f| f.iter().map(|e| (e.seq, e.clone())).collect());
        state.logs.with(|l| {
            if let Some(log) = l.get(&room_id) {
                all.extend(log.iter().map(|(k, v)| (*k, v.clone())));
            }
        });
        rows_of(all.into_values())
    });

    // Client ids of my messages already in the log.
    let stored_ids = Memo::new(move |_| {
        rows.with(|r| {
            r.iter()
                .filter_map(|row| match row {
                    Row::Event(RoomEvent {
                        actor,
                        body: EventBody::Message { client_id, .. },
                        ..
                    }) if actor.id == me => Some(client_id.clone()),
                    _ => None,
                })
                .collect::<std::collections::HashSet<String>>()
        })
    });

    // Follow the newest message while the reader is at the bottom (or just
    // sent something); leave them alone while they read history.
    let stick_to_bottom = RwSignal::new(true);
    Effect::new(move |_| {
        let _ = rows.with(|r| r.len()) + pending.with(|p| p.len());
        if let Some(el) = list_ref.get() {
            if stick_to_bottom.get() {
                el.set_scroll_top(el.scroll_height());
            }
        }
    });
    Effect::new(move |_| {
        if pending.with(|p| !p.is_empty()) {
            stick_to_bottom.set(true);
        }
    });

    let load_older = move || {
        if loading_older.get_untracked() || !has_older.get_untracked() {
            return;
        }
        let oldest = rows.with_untracked(|r| {
            r.iter().find_map(|row| match row {
                Row::Event(e) => Some(e.seq),
                Row::Separator { .. } => None,
            })
        });
        let Some(oldest) = oldest else { return };
        loading_older.set(true);
        spawn_local(async move {
            let before_height = list_ref
                .get_untracked()
                .map(|el| el.scroll_height())
                .unwrap_or(0);
            if let Ok(events) = history(room_id, Some(oldest), None, Some(PAGE)).await {
                if events.len() < PAGE as usize {
                    has_older.set(false);
                }
                state.merge(room_id, events);
                // Keep the reader's place: shift by the height just added.
                if let Some(el) = list_ref.get_untracked() {
                    el.set_scroll_top(el.scroll_top() + el.scroll_height() - before_height);
                }
            }
            loading_older.set(false);
        });
    };
    let on_scroll = move |_| {
        if let Some(el) = list_ref.get_untracked() {
            stick_to_bottom.set(el.scroll_height() - el.scroll_top() - el.client_height() < 80);
            if el.scroll_top() < 40 {
                load_older();
            }
        }
    };

    view! {
        <div class="messages" node_ref=list_ref on:scroll=on_scroll data-testid="messages">
            <div class="history-edge">
                {move || if has_older.get() {
                    view! {
                        <button type="button" class="link-button" on:click=move |_| load_older() disabled=move || loading_older.get()>
                            {move || i18n.t(T::LoadOlder)}
                        </button>
                    }.into_any()
                } else {
                    view! { <span class="muted">{move || i18n.t(T::NoOlder)}</span> }.into_any()
                }}
            </div>
            <For
                each=move || rows.get()
                key=|row| row.key()
                children=move |row| view! { <LogRow row me owner/> }
            />
            <For
                each=move || {
                    // A send whose event already arrived over the socket is shown
                    // once, as the stored event.
                    let stored = stored_ids.get();
                    pending.get().into_iter().filter(|p| !stored.contains(&p.client_id)).collect::<Vec<_>>()
                }
                key=|p| (p.client_id.clone(), p.failed)
                children=move |p| view! { <PendingBubble p room_id pending/> }
            />
        </div>
        <Composer room_id pending/>
    }
}

#[component]
fn LogRow(row: Row, me: UserId, owner: Memo<Option<UserId>>) -> impl IntoView {
    let i18n = use_i18n();
    let tz = use_context::<TzOffset>()
        .map(|t| t.0)
        .unwrap_or(crate::format::DEFAULT_OFFSET_MIN);
    match row {
        Row::Separator { at_ms, .. } => {
            let now = now_ms();
            view! { <div class="time-sep" role="separator">{move || time_label(at_ms, now, tz, i18n.lang())}</div> }.into_any()
        }
        Row::Event(ev) => match ev.body.clone() {
            EventBody::Message { text, .. } => {
                let mine = ev.actor.id == me;
                let actor = ev.actor.clone();
                let is_owner = move || owner.get() == Some(actor.id);
                view! {
                    <div class="msg" class:mine=mine data-seq=ev.seq.to_string()>
                        <Avatar id=ev.actor.id name=ev.actor.nickname.clone()/>
                        <div class="msg-body">
                            <div class="msg-meta">
                                <span class="msg-name">{ev.actor.nickname.clone()}</span>
                                <Show when=is_owner>
                                    <span class="owner-mark">{move || i18n.t(T::Owner)}</span>
                                </Show>
                            </div>
                            <div class="bubble">{text}</div>
                        </div>
                    </div>
                }.into_any()
            }
            EventBody::MemberJoined => view! {
                <div class="sys-line">{ev.actor.nickname.clone()} " " {move || i18n.t(T::JoinedRoom)}</div>
            }.into_any(),
            EventBody::MemberLeft => view! {
                <div class="sys-line">{ev.actor.nickname.clone()} " " {move || i18n.t(T::LeftRoom)}</div>
            }.into_any(),
            EventBody::RoomCreated { .. } => view! {
                <div class="sys-line">{ev.actor.nickname.clone()} " " {move || i18n.t(T::CreatedRoom)}</div>
            }.into_any(),
        },
    }
}

/// Sends (or re-sends) a pending message and resolves it.
fn deliver(
    state: ChatState,
    room_id: RoomId,
    pending: RwSignal<Vec<Pending>>,
    client_id: String,
    text: String,
) {
    spawn_local(async move {
        match send_message(room_id, client_id.clone(), text).await {
            Ok(event) => {
                pending.update(|p| p.retain(|x| x.client_id != client_id));
                state.apply_event(event);
            }
            Err(err) => pending.update(|p| {
                if let Some(x) = p.iter_mut().find(|x| x.client_id == client_id) {
                    x.failed = Some(err.code);
                }
            }),
        }
    });
}

#[component]
fn PendingBubble(p: Pending, room_id: RoomId, pending: RwSignal<Vec<Pending>>) -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let me = state.me.get_value();
    let failed = p.failed;
    let retry = {
        let p = p.clone();
        move |_| {
            pending.update(|list| {
                if let Some(x) = list.iter_mut().find(|x| x.client_id == p.client_id) {
                    x.failed = None;
                }
            });
            deliver(state, room_id, pending, p.client_id.clone(), p.text.clone());
        }
    };
    view! {
        <div class="msg mine pending" class:failed=failed.is_some()>
            <Avatar id=me.id name=me.nickname.clone()/>
            <div class="msg-body">
                <div class="bubble">{p.text.clone()}</div>
                <div class="pending-state" role="status">
                    {match failed {
                        None => view! { <span class="muted">{move || i18n.t(T::Sending)}</span> }.into_any(),
                        Some(code) => view! {
                            <span class="error-text">{move || i18n.t(T::SendFailed)} " · " {move || code.message(i18n.lang())}</span>
                            <button type="button" class="link-button" on:click=retry.clone()>{move || i18n.t(T::Retry)}</button>
                        }.into_any(),
                    }}
                </div>
            </div>
        </div>
    }
}

#[component]
fn Composer(room_id: RoomId, pending: RwSignal<Vec<Pending>>) -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let draft = RwSignal::new(String::new());
    let send = move || {
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        let client_id = new_client_id();
        pending.update(|p| {
            p.push(Pending {
                client_id: client_id.clone(),
                text: text.clone(),
                failed: None,
            })
        });
        draft.set(String::new());
        deliver(state, room_id, pending, client_id, text);
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        // Enter sends; Shift+Enter is a newline; never while an IME is composing.
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() && ev.key_code() != 229 {
            ev.prevent_default();
            send();
        }
    };
    view! {
        <form class="composer" on:submit=move |ev| { ev.prevent_default(); send(); }>
            <textarea
                class="composer-input"
                rows="1"
                aria-label=move || i18n.t(T::MessagePlaceholder)
                placeholder=move || i18n.t(T::MessagePlaceholder)
                maxlength=teahouse_protocol::limits::MESSAGE_MAX_DEFAULT
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:keydown=on_keydown
            ></textarea>
            <button type="submit" class="primary send" disabled=move || draft.with(|d| d.trim().is_empty())>
                {move || i18n.t(T::Send)}
            </button>
        </form>
    }
}

/// Member list with owner mark and online dots, plus "leave room".
#[component]
fn MemberPanel(room_id: RoomId) -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let detail = Resource::new(move || room_id, room_detail);
    let leave_error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let nav = use_room_nav();
    let on_leave = move |_| {
        spawn_local(async move {
            match leave_room(room_id).await {
                Ok(()) => {
                    state.rooms.update(|r| r.retain(|s| s.id != room_id));
                    nav.go(None);
                }
                Err(e) => leave_error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="member-panel">
            <Suspense fallback=move || view! { <p class="loading">{move || i18n.t(T::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(d) => {
                            let owner = d.room.owner_id;
                            view! {
                                <ul class="members" aria-label=move || i18n.t(T::Members)>
                                    {d.members.into_iter().map(|m| {
                                        let id = m.id;
                                        view! {
                                            <li class="member">
                                                <Avatar id=m.id name=m.nickname.clone()/>
                                                <span>{m.nickname.clone()}</span>
                                                {(id == owner).then(|| view! { <span class="owner-mark">{move || i18n.t(T::Owner)}</span> })}
                                                <span class="presence" class:online=move || state.online.with(|o| o.contains(&id)) || id == state.me_id()></span>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }
                        Err(err) => view! { <ErrorNotice err/> }.into_any(),
                    }
                })}
            </Suspense>
            <button type="button" class="danger" on:click=on_leave>{move || i18n.t(T::Leave)}</button>
            {move || leave_error.get().map(|err| view! { <ErrorNotice err/> })}
        </div>
    }
}

/// A fresh client id for a send: a UUIDv7, whose text sorts by creation
/// time, so the server's idempotency index grows at its end instead of
/// scattering (see migration 0002). Built from the clock and v4 randomness
/// rather than with uuid's `v7` feature, whose monotonic counter would add
/// 2 KB to the wasm.
fn new_client_id() -> String {
    let random = uuid::Uuid::new_v4().into_bytes();
    let mut tail = [0u8; 10];
    tail.copy_from_slice(&random[..10]);
    let millis = u64::try_from(crate::format::now_ms()).unwrap_or_default();
    uuid::Builder::from_unix_timestamp_millis(millis, &tail)
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::new_client_id;
    use crate::format::now_ms;

    #[test]
    fn client_ids_are_uuid_v7_and_sort_in_the_order_they_were_made() {
        let first = new_client_id();
        let made = now_ms();
        // Wait for the next millisecond (bounded: the clock moves).
        while now_ms() <= made {
            std::hint::spin_loop();
        }
        let second = new_client_id();
        assert!(first < second, "{first} then {second}");
        for id in [&first, &second] {
            let parsed = uuid::Uuid::parse_str(id).expect("a UUID");
            assert_eq!(parsed.get_version_num(), 7, "{id}");
        }
        assert_ne!(new_client_id(), new_client_id());
    }
}
