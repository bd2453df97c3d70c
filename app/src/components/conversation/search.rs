//! Searching messages from the open conversation's header: in this
//! conversation, or in all of mine. A hit opens in context: in this
//! conversation it is scrolled to (loaded with its neighbours if needed);
//! in another, that conversation opens and then scrolls to it.

use leptos::prelude::*;
use teahouse_protocol::{ConversationId, EventBody, SearchPage};

use super::actions::jump_to;
use crate::components::widgets::ErrorNotice;
use crate::error::AppError;
use crate::i18n::{tr, use_i18n, T};
use crate::nav::use_room_nav;
use crate::state::ChatState;

/// The search panel of `room_id`'s pane.
#[component]
pub fn SearchPanel(room_id: ConversationId) -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let nav = use_room_nav();
    let query = RwSignal::new(String::new());
    let everywhere = RwSignal::new(false);
    let result: RwSignal<Option<Result<SearchPage, AppError>>> = RwSignal::new(None);
    let run = move || {
        let q = query.get_untracked();
        if q.trim().is_empty() {
            return;
        }
        let scope = (!everywhere.get_untracked()).then_some(room_id);
        leptos::task::spawn_local(async move {
            result.set(Some(crate::api::search::search_messages(q, scope).await));
        });
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.is_composing() && ev.key_code() != 229 {
            ev.prevent_default();
            run();
        }
    };
    let name_of = move |id: ConversationId| {
        state.rooms.with_untracked(|r| {
            r.iter()
                .find(|s| s.id == id)
                .map(|s| s.name.clone())
                .unwrap_or_default()
        })
    };
    let open = move |room: ConversationId, seq| {
        if room == room_id {
            jump_to(state, room, seq);
        } else {
            state.focus.set(Some((room, seq)));
            nav.go(Some(room));
        }
    };
    view! {
        <div class="search-panel" role="search">
            <input
                type="search"
                class="search-input"
                aria-label=tr(T::SearchMessages)
                placeholder=tr(T::SearchMessages)
                maxlength="40"
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
                on:keydown=on_keydown
            />
            <label class="search-all">
                <input type="checkbox" prop:checked=move || everywhere.get()
                    on:change=move |ev| everywhere.set(event_target_checked(&ev))/>
                {tr(T::SearchAll)}
            </label>
            {move || match result.get() {
                None => None,
                Some(Err(err)) => Some(view! { <ErrorNotice err/> }.into_any()),
                Some(Ok(page)) => Some(view! {
                    {page.recent_only.then(|| view! { <p class="muted search-note">{tr(T::RecentOnly)}</p> })}
                    {page.hits.is_empty().then(|| view! { <p class="muted">{tr(T::NoResults)}</p> })}
                    <ul class="search-hits">
                        {page.hits.into_iter().map(|hit| {
                            let (room, seq) = (hit.conversation_id, hit.seq);
                            let text = match &hit.body {
                                EventBody::Message(m) => m.content.text().to_owned(),
                                _ => String::new(),
                            };
                            let place = (room != room_id).then(|| format!("{} · ", name_of(room)));
                            view! {
                                <li>
                                    <button type="button" class="search-hit" on:click=move |_| open(room, seq)>
                                        <span class="muted">{place}{hit.actor.nickname.clone()}</span>
                                        <span class="search-text">{text}</span>
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()),
            }}
            <span class="sr-only">{move || i18n.t(T::Search)}</span>
        </div>
    }
}
