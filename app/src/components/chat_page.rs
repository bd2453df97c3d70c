//! The chat screen: conversation list beside the chat pane. Below 600 px the
//! two are separate screens (CSS), switched by whether a room is open.

use leptos::prelude::*;
use teahouse_protocol::{ConversationId, ConversationSummary, ErrorCode, UserBrief};

use crate::api::auth::{logout, me};
use crate::api::rooms::my_rooms;
use crate::components::auth::LangToggle;
use crate::components::conversation::{ChatPane, ConversationList};
use crate::components::direct::Contacts;
use crate::components::discover::{Discover, NewRoomForm};
use crate::components::profile::MePanel;
use crate::components::widgets::lazy_panel;
use crate::components::widgets::{Avatar, ErrorNotice};
use crate::error::AppError;
use crate::i18n::{tr, T};
use crate::nav::{load_page, RoomNav};
use crate::state::{ChatState, Live};

/// What the sidebar shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Chats,
    /// People to open a private chat with.
    Contacts,
    Discover,
    NewRoom,
    /// A new private group, by picking people.
    NewGroup,
    /// My profile (on phones the last tab of the bottom bar, as in WeChat).
    Me,
}

async fn boot() -> Result<Option<(UserBrief, Vec<ConversationSummary>)>, AppError> {
    match me().await? {
        Some(user) => Ok(Some((user, my_rooms().await?))),
        None => Ok(None),
    }
}

/// `/` and `/?room=ID`.
#[component]
pub fn ChatPage() -> impl IntoView {
    let nav = RoomNav::provide();
    let room_id = Memo::new(move |_| nav.room().get());
    let data = Resource::new(|| (), |_| boot());
    view! {
        <Suspense fallback=move || view! { <p class="loading">{tr(T::Loading)}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some((user, rooms))) => view! { <ChatShell user rooms room_id/> }.into_any(),
                    // Signed out meanwhile (the server sends signed-out
                    // visitors of `/` to the log-in page before rendering).
                    Ok(None) => {
                        load_page("/login");
                        view! { <a class="page-error" href="/login">{tr(T::Login)}</a> }.into_any()
                    }
                    Err(err) => view! { <main class="page-error"><ErrorNotice err/></main> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ChatShell(
    user: UserBrief,
    rooms: Vec<ConversationSummary>,
    room_id: Memo<Option<ConversationId>>,
) -> impl IntoView {
    let state = ChatState::new(user.clone(), rooms);
    provide_context(state);
    let panel = RwSignal::new(Panel::Chats);
    provide_context(panel);
    // The open conversation is marked read by its log, once its newest
    // message is actually in view.
    Effect::new(move |_| {
        state.open_room.set(room_id.get());
    });
    // The total unread in the tab's title, the same in every tab.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let n = state.unread_total.get();
        let title = if n > 0 {
            format!("({}) 茶馆 · Teahouse", n.min(999))
        } else {
            "茶馆 · Teahouse".to_owned()
        };
        document().set_title(&title);
    });
    // The socket's state on <body data-live>, for scripts and tests (as
    // `data-hydrated`): "open" once pushes arrive.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let live = match state.live.get() {
            Live::Connecting => "connecting",
            Live::Open => "open",
            Live::Down => "down",
        };
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-live", live);
        }
    });
    // A framing page (an app's webview, a site embedding the chat) hears
    // that the chat is live, then every change of the total.
    #[cfg(feature = "hydrate")]
    Effect::new(move |told: Option<Option<u32>>| {
        let live = state.live.get() == Live::Open;
        let n = state.unread_total.get();
        let told = told.flatten();
        match told {
            None if live => crate::embed::tell_host("ready", n),
            Some(before) if before != n => crate::embed::tell_host("unread", n),
            _ => {}
        }
        if live || told.is_some() {
            Some(n)
        } else {
            None
        }
    });
    #[cfg(feature = "hydrate")]
    Effect::new(move |started: Option<()>| {
        if started.is_none() {
            crate::live::start(state);
        }
    });
    // Leave the page only once the session is gone: after a failed log-out
    // it is still valid, and the reason is shown.
    let logout_error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let on_logout = Callback::new(move |()| {
        leptos::task::spawn_local(async move {
            match logout().await {
                Err(err) if err.code != ErrorCode::Unauthenticated => logout_error.set(Some(err)),
                _ => load_page("/login"),
            }
        });
    });
    let total_unread = move || state.unread_total.get();
    view! {
        // One `main` landmark around both halves: on a phone only one of
        // them is on screen at a time, and each must be inside it.
        <main class="app" class:has-room=move || room_id.get().is_some()>
            <h1 class="sr-only">{tr(T::AppName)}</h1>
            <section class="sidebar" aria-label=tr(T::Chats)>
                <header class="sidebar-head">
                    {move || view! { <Avatar of=user.id name=state.me_nickname.get() image=state.me_avatar.get()/> }}
                    <span class="me-name" data-testid="me">{move || state.me_nickname.get()}</span>
                    <LangToggle/>
                    <button type="button" class="link-button" on:click=move |_| on_logout.run(())>{tr(T::Logout)}</button>
                </header>
                {move || logout_error.get().map(|err| view! { <ErrorNotice err what=T::LogoutFailed/> })}
                <nav class="tabs" aria-label="panels">
                    <button type="button" class:active=move || panel.get() == Panel::Chats on:click=move |_| panel.set(Panel::Chats)>
                        {tr(T::Chats)}
                        <Show when=move || { total_unread() > 0 }>
                            <span class="badge">{total_unread}</span>
                        </Show>
                    </button>
                    <button type="button" class:active=move || panel.get() == Panel::Contacts on:click=move |_| panel.set(Panel::Contacts)>
                        {tr(T::Contacts)}
                    </button>
                    <button type="button" class:active=move || panel.get() == Panel::Discover on:click=move |_| panel.set(Panel::Discover)>
                        {tr(T::Discover)}
                    </button>
                    <button type="button" class:active=move || panel.get() == Panel::NewRoom on:click=move |_| panel.set(Panel::NewRoom)>
                        "＋ " {tr(T::NewRoom)}
                    </button>
                    <button type="button" class:active=move || panel.get() == Panel::NewGroup on:click=move |_| panel.set(Panel::NewGroup)>
                        "＋ " {tr(T::NewGroup)}
                    </button>
                    <button type="button" class:active=move || panel.get() == Panel::Me on:click=move |_| panel.set(Panel::Me)>
                        {tr(T::Me)}
                    </button>
                </nav>
                {move || match panel.get() {
                    Panel::Chats => view! { <ConversationList selected=room_id/> }.into_any(),
                    Panel::Contacts => lazy_panel(async move { contacts_panel().await }).into_any(),
                    Panel::Discover => lazy_panel(async move { discover_panel().await }).into_any(),
                    Panel::NewRoom => lazy_panel(async move { new_room_panel().await }).into_any(),
                    Panel::NewGroup => lazy_panel(async move { new_group_panel().await }).into_any(),
                    Panel::Me => lazy_panel(async move { me_panel(on_logout).await }).into_any(),
                }}
            </section>
            <section class="pane" aria-label=tr(T::Conversation)>
                <Show when=move || state.live.get() == Live::Down>
                    <div class="live-banner" role="status">{tr(T::Reconnecting)}</div>
                </Show>
                // (The contacts panel shows it itself.)
                {move || state.direct_error.get().filter(|_| panel.get() != Panel::Contacts).map(|err| view! { <ErrorNotice err what=T::DirectFailed/> })}
                {move || match room_id.get() {
                    Some(id) => view! { <ChatPane room_id=id/> }.into_any(),
                    None => view! {
                        <div class="pane-empty">
                            <span class="brand-mark big" aria-hidden="true">"茶"</span>
                            <p>{tr(T::PickAConversation)}</p>
                        </div>
                    }.into_any(),
                }}
            </section>
        </main>
    }
}

/// The "Me" panel's code is loaded on first use (a separate wasm chunk).
#[lazy]
fn me_panel(on_logout: Callback<()>) -> AnyView {
    view! { <MePanel on_logout/> }.into_any()
}

/// The contacts panel, loaded on first use.
#[lazy]
fn contacts_panel() -> AnyView {
    view! { <Contacts/> }.into_any()
}

/// The room directory, loaded on first use.
#[lazy]
fn discover_panel() -> AnyView {
    view! { <Discover/> }.into_any()
}

/// The new-room form, loaded on first use.
#[lazy]
fn new_room_panel() -> AnyView {
    view! { <NewRoomForm/> }.into_any()
}

/// The new-group form, loaded on first use.
#[lazy]
fn new_group_panel() -> AnyView {
    view! { <crate::components::groups::NewGroupForm/> }.into_any()
}
