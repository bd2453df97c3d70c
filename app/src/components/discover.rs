//! Finding and making rooms: the public directory (search, paging) and the
//! new-room form.

use leptos::prelude::*;
use leptos::task::spawn_local;
use teahouse_protocol::{limits, ConversationId, ConversationSummary};

use crate::api::rooms::{create_room, join_room, public_rooms};
use crate::components::chat_page::Panel;
use crate::components::widgets::{Avatar, ErrorNotice};
use crate::error::AppError;
use crate::i18n::{tr, use_i18n, T};
use crate::nav::{use_room_nav, RoomNav};
use crate::state::ChatState;

/// Opens `room` in the pane after it was joined or created.
fn open_room(state: ChatState, panel: RwSignal<Panel>, room: ConversationSummary, nav: RoomNav) {
    let id = room.id;
    state.upsert_room(room);
    panel.set(Panel::Chats);
    nav.go(Some(id));
}

/// How long typing must pause before the directory is searched.
const SEARCH_DEBOUNCE: std::time::Duration = std::time::Duration::from_millis(300);

/// The public directory: a search box, the rooms found (largest first), and
/// "load more" while the server has another page.
#[component]
pub fn Discover() -> impl IntoView {
    // The query searched for; every change starts again from the first page.
    let query = RwSignal::new(String::new());
    let rooms: RwSignal<Vec<ConversationSummary>> = RwSignal::new(Vec::new());
    let next_cursor: RwSignal<Option<String>> = RwSignal::new(None);
    let loading = RwSignal::new(true);
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    // Answers to an older query are dropped when they arrive late.
    let generation = StoredValue::new(0u64);
    let load = move |fresh: bool| {
        let cursor = if fresh {
            None
        } else {
            match next_cursor.get_untracked() {
                Some(c) => Some(c),
                None => return,
            }
        };
        if fresh {
            generation.update_value(|g| *g += 1);
        }
        let asked = generation.get_value();
        let q = query.get_untracked();
        loading.set(true);
        spawn_local(async move {
            let answer = public_rooms(Some(q), cursor, None).await;
            if generation.get_value() != asked {
                return;
            }
            match answer {
                Ok(page) => {
                    rooms.update(|list| {
                        if fresh {
                            list.clear();
                        }
                        // A room whose member count changed between pages can
                        // come again: keep the first copy.
                        for room in page.rooms {
                            if !list.iter().any(|r| r.id == room.id) {
                                list.push(room);
                            }
                        }
                    });
                    next_cursor.set(page.next_cursor);
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    // Runs in the browser only: the first page, and again for each query.
    Effect::new(move |_| {
        query.track();
        load(true);
    });
    view! {
        <div class="discover">
            <SearchBox query/>
            <ul class="directory" role="list">
                <For each=move || rooms.get() key=|r| (r.id, r.joined, r.member_count) let:room>
                    <DirectoryRow room/>
                </For>
            </ul>
            {move || error.get().map(|err| view! { <ErrorNotice err/> })}
            {move || {
                if loading.get() {
                    view! { <p class="loading">{tr(T::Loading)}</p> }.into_any()
                } else if next_cursor.get().is_some() {
                    view! {
                        <button type="button" class="load-more" on:click=move |_| load(false)>
                            {tr(T::LoadMoreRooms)}
                        </button>
                    }
                    .into_any()
                } else if rooms.with(Vec::is_empty) {
                    view! { <p class="directory-end">{tr(T::NoRoomsFound)}</p> }.into_any()
                } else {
                    view! { <p class="directory-end">{tr(T::NoMoreRooms)}</p> }.into_any()
                }
            }}
        </div>
    }
}

/// The directory's search field (the contacts panel's too, with its own
/// `hint`): sets `query` once typing pauses, at once on Enter, and never in
/// the middle of an IME composition (pinyin letters are not what the user
/// means to search for).
#[component]
pub fn SearchBox(query: RwSignal<String>, #[prop(optional)] hint: Option<T>) -> impl IntoView {
    let hint = tr(hint.unwrap_or(T::SearchRooms));
    let typed = RwSignal::new(String::new());
    let composing = StoredValue::new(false);
    let pending: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
    let cancel = move || {
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        pending.set_value(None);
    };
    let search_now = move || {
        cancel();
        let text = typed.get_untracked().trim().to_owned();
        if query.get_untracked() != text {
            query.set(text);
        }
    };
    let search_soon = move || {
        cancel();
        pending.set_value(set_timeout_with_handle(search_now, SEARCH_DEBOUNCE).ok());
    };
    on_cleanup(cancel);
    view! {
        <form class="directory-search" role="search" on:submit=move |ev| {
            ev.prevent_default();
            search_now();
        }>
            <input
                type="search"
                name="query"
                maxlength=limits::ROOM_NAME_MAX
                placeholder=hint
                aria-label=hint
                autocomplete="off"
                prop:value=move || typed.get()
                on:compositionstart=move |_| composing.set_value(true)
                on:compositionend=move |ev| {
                    composing.set_value(false);
                    typed.set(event_target_value(&ev));
                    search_soon();
                }
                on:input=move |ev| {
                    typed.set(event_target_value(&ev));
                    if !composing.get_value() {
                        search_soon();
                    }
                }
            />
        </form>
    }
}

#[component]
fn DirectoryRow(room: ConversationSummary) -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let panel = expect_context::<RwSignal<Panel>>();
    let nav = use_room_nav();
    let id: ConversationId = room.id;
    let joined = room.joined;
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let on_join = move |_| {
        if joined {
            panel.set(Panel::Chats);
            nav.go(Some(id));
            return;
        }
        busy.set(true);
        spawn_local(async move {
            match join_room(id).await {
                Ok(summary) => open_room(state, panel, summary, nav),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <li class="directory-row" data-room-id=id.to_string()>
            <Avatar of=id name=room.name.clone() large=true/>
            <span class="conv-main">
                <span class="conv-name">{room.name.clone()}</span>
                <span class="conv-preview">
                    {(!room.description.is_empty()).then(|| format!("{} · ", room.description))}
                    {room.member_count} " "
                    {move || i18n.t(if room.member_count == 1 { T::MemberCountOne } else { T::MembersCount })}
                </span>
                {move || error.get().map(|err| view! { <ErrorNotice err/> })}
            </span>
            <button
                type="button"
                class:primary=!joined
                disabled=move || busy.get()
                aria-label=format!("{} {}", if joined { T::Joined.in_lang(i18n.lang()) } else { T::Join.in_lang(i18n.lang()) }, room.name)
                on:click=on_join
            >
                {move || i18n.t(if joined { T::Joined } else { T::Join })}
            </button>
        </li>
    }
}

#[component]
pub fn NewRoomForm() -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let panel = expect_context::<RwSignal<Panel>>();
    let nav = use_room_nav();
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        spawn_local(async move {
            match create_room(name.get_untracked(), description.get_untracked()).await {
                Ok(summary) => {
                    error.set(None);
                    open_room(state, panel, summary, nav);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let field_error = move |f: &'static str| {
        error
            .get()
            .filter(|e| e.is_for(f))
            .map(|e| e.message(i18n.lang()).to_owned())
    };
    view! {
        <form class="new-room" on:submit=on_submit>
            <div class="field">
                <label for="room-name">{tr(T::RoomName)}</label>
                <input
                    id="room-name"
                    name="name"
                    maxlength=limits::ROOM_NAME_MAX
                    required
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                    aria-describedby="room-name-error"
                />
                <p class="field-error" id="room-name-error" role="alert">{move || field_error("name")}</p>
            </div>
            <div class="field">
                <label for="room-description">{tr(T::RoomDescription)}</label>
                <input
                    id="room-description"
                    name="description"
                    maxlength=limits::ROOM_DESCRIPTION_MAX
                    prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))
                    aria-describedby="room-description-error"
                />
                <p class="field-error" id="room-description-error" role="alert">{move || field_error("description")}</p>
            </div>
            {move || error.get().filter(|e| e.field.is_none()).map(|err| view! { <ErrorNotice err/> })}
            <button type="submit" class="primary" disabled=move || busy.get()>{tr(T::Create)}</button>
        </form>
    }
}
