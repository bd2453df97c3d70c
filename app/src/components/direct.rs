//! Private 1:1 chats on screen: opening one (from a member of the member
//! panel, a message's avatar, or a contact) and the contacts panel, which
//! searches the people you share a conversation with.

use leptos::prelude::*;
use leptos::task::spawn_local;
use teahouse_protocol::{UserBrief, UserId};

use crate::api::direct::{open_direct, search_contacts};
use crate::components::chat_page::Panel;
use crate::components::discover::SearchBox;
use crate::components::widgets::{Avatar, ErrorNotice};
use crate::error::AppError;
use crate::i18n::{tr, use_i18n, T};
use crate::nav::use_room_nav;
use crate::state::ChatState;

/// What opens the private chat with a user and shows it: the chat is added
/// to the list if it is new (an existing one keeps its place), the chats
/// panel and the pane show it; a failure lands in
/// [`ChatState::direct_error`].
pub fn use_start_direct() -> impl Fn(UserId) + Copy + 'static {
    let state = expect_context::<ChatState>();
    let panel = use_context::<RwSignal<Panel>>();
    let nav = use_room_nav();
    move |user| {
        state.direct_error.set(None);
        spawn_local(async move {
            match open_direct(user).await {
                Ok(summary) => {
                    let id = summary.id;
                    if !state.rooms.with_untracked(|r| r.iter().any(|s| s.id == id)) {
                        state.upsert_room(summary);
                    }
                    if let Some(panel) = panel {
                        panel.set(Panel::Chats);
                    }
                    nav.go(Some(id));
                }
                Err(e) => state.direct_error.set(Some(e)),
            }
        });
    }
}

/// The contacts panel: a search box over the people you share a
/// conversation with, each with a button that opens your chat with them.
#[component]
pub fn Contacts() -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let start = use_start_direct();
    let query = RwSignal::new(String::new());
    let people: RwSignal<Option<Vec<UserBrief>>> = RwSignal::new(None);
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    // Answers to an older query are dropped when they arrive late.
    let generation = StoredValue::new(0u64);
    // Runs in the browser only: everyone at first, then each query.
    Effect::new(move |_| {
        let q = query.get();
        generation.update_value(|g| *g += 1);
        let asked = generation.get_value();
        spawn_local(async move {
            let answer = search_contacts(Some(q)).await;
            if generation.get_value() == asked {
                match answer {
                    Ok(found) => {
                        error.set(None);
                        people.set(Some(found));
                    }
                    Err(e) => error.set(Some(e)),
                }
            }
        });
    });
    view! {
        <div class="discover contacts">
            <SearchBox query hint=T::SearchContacts/>
            {move || state.direct_error.get().map(|err| view! { <ErrorNotice err what=T::DirectFailed/> })}
            {move || error.get().map(|err| view! { <ErrorNotice err/> })}
            {move || match people.get() {
                None => view! { <p class="loading">{tr(T::Loading)}</p> }.into_any(),
                Some(found) if found.is_empty() => {
                    view! { <p class="directory-end">{tr(T::NoContactsFound)}</p> }.into_any()
                }
                Some(found) => view! {
                    <ul class="directory" role="list">
                        {found.into_iter().map(|p| {
                            let id = p.id;
                            let label = format!("{} {}", T::SendMessage.in_lang(i18n.lang()), p.nickname);
                            view! {
                                <li class="directory-row" data-user-id=id.to_string()>
                                    <Avatar of=id name=p.nickname.clone() large=true image=p.avatar.clone() url=p.avatar_url.clone()/>
                                    <span class="conv-main">
                                        <span class="conv-name">{p.nickname.clone()}</span>
                                        <span class="conv-preview">"@" {p.username.clone()}</span>
                                    </span>
                                    <button type="button" class="primary" aria-label=label on:click=move |_| start(id)>
                                        {tr(T::SendMessage)}
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </div>
    }
}
