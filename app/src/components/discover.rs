//! Finding and making rooms: the public directory and the new-room form.

use leptos::prelude::*;
use leptos::task::spawn_local;
use teahouse_protocol::{limits, RoomId, RoomSummary};

use crate::api::rooms::{create_room, join_room, public_rooms};
use crate::components::chat_page::Panel;
use crate::components::widgets::{Avatar, ErrorNotice};
use crate::error::AppError;
use crate::i18n::{use_i18n, T};
use crate::nav::{use_room_nav, RoomNav};
use crate::state::ChatState;

/// Opens `room` in the pane after it was joined or created.
fn open_room(state: ChatState, panel: RwSignal<Panel>, room: RoomSummary, nav: RoomNav) {
    let id = room.id;
    state.upsert_room(room);
    panel.set(Panel::Chats);
    nav.go(Some(id));
}

#[component]
pub fn Discover() -> impl IntoView {
    let i18n = use_i18n();
    let rooms = Resource::new(|| (), |_| public_rooms());
    view! {
        <div class="discover">
            <Suspense fallback=move || view! { <p class="loading">{move || i18n.t(T::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match rooms.await {
                        Ok(list) => view! {
                            <ul class="directory" role="list">
                                {list.into_iter().map(|room| view! { <DirectoryRow room/> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <ErrorNotice err/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn DirectoryRow(room: RoomSummary) -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let panel = expect_context::<RwSignal<Panel>>();
    let nav = use_room_nav();
    let id: RoomId = room.id;
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
            <Avatar id=id name=room.name.clone() large=true/>
            <span class="conv-main">
                <span class="conv-name">{room.name.clone()}</span>
                <span class="conv-preview">
                    {room.description.clone()} " · " {room.member_count} " " {move || i18n.t(T::MembersCount)}
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
                <label for="room-name">{move || i18n.t(T::RoomName)}</label>
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
                <label for="room-description">{move || i18n.t(T::RoomDescription)}</label>
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
            <button type="submit" class="primary" disabled=move || busy.get()>{move || i18n.t(T::Create)}</button>
        </form>
    }
}
