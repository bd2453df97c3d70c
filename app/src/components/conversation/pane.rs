//! The open conversation: the header (back link, name, member count, the
//! member-panel toggle; a private chat's shows the peer's name alone), the member panel, and once the newest page of the
//! log has loaded (server-rendered), the message list with the composer.

use leptos::prelude::*;
use teahouse_protocol::{ConversationEvent, ConversationId, ConversationKind};

use super::composer::Composer;
use super::log::{MessageLog, PAGE};
use super::members::MemberPanel;
use super::outbox::Outbox;
use crate::api::messages::history;
use crate::components::widgets::ErrorNotice;
use crate::i18n::{tr, T};
use crate::media::player::VoicePlayer;
use crate::nav::use_room_nav;
use crate::state::ChatState;

#[component]
pub fn ChatPane(room_id: ConversationId) -> impl IntoView {
    let state = expect_context::<ChatState>();
    let summary = Memo::new(move |_| {
        state
            .rooms
            .with(|r| r.iter().find(|s| s.id == room_id).cloned())
    });
    let first_page = Resource::new(
        move || room_id,
        |id| history(id, None, None, Some(PAGE), None),
    );
    // A private chat has a fixed pair, a support conversation the desk's
    // people: no count, no member panel.
    let is_room = move || {
        summary.with(|s| {
            s.as_ref()
                .is_none_or(|s| matches!(s.kind, ConversationKind::Room | ConversationKind::Group))
        })
    };
    let is_group = move || {
        summary.with(|s| {
            s.as_ref()
                .is_some_and(|s| s.kind == ConversationKind::Group)
        })
    };
    let version =
        Signal::derive(move || summary.with(|s| s.as_ref().map_or(0, |s| s.last_seq as usize)));
    let me = state.me_id();
    let show_members = RwSignal::new(false);
    let show_search = RwSignal::new(false);
    // Who is online among the members, for the dot and the panel (kept
    // current by presence frames afterwards). Browser only.
    Effect::new(move |done: Option<()>| {
        if done.is_none() {
            leptos::task::spawn_local(async move {
                if let Ok(detail) = crate::api::rooms::room_detail(room_id).await {
                    state.online.update(|o| o.extend(detail.online));
                }
            });
        }
    });
    let peer = move || summary.with(|s| s.as_ref().and_then(|s| s.peer.as_ref().map(|p| p.id)));
    let peer_online = move || peer().is_some_and(|p| state.online.with(|o| o.contains(&p)));
    // "对方正在输入…" in a private chat, "X 正在输入…" in a room or group.
    let typing = move || {
        let now = crate::format::now_ms() as f64;
        let names: Vec<String> = state.typing.with(|t| {
            t.iter()
                .filter(|(r, _, until)| *r == room_id && *until > now)
                .map(|(_, u, _)| u.nickname.clone())
                .collect()
        });
        if names.is_empty() {
            None
        } else if is_room() {
            Some(format!("{} {}", names.join(", "), tr(T::IsTyping)()))
        } else {
            Some(tr(T::PeerTyping)().to_owned())
        }
    };
    let nav = use_room_nav();
    view! {
        <section class="chat" aria-label=move || summary.get().map(|s| s.name).unwrap_or_default()>
            <header class="chat-head">
                <a href="/" class="back" aria-label=tr(T::Back) on:click=nav.on_link_click(None)>"‹"</a>
                <h2 class="chat-title">
                    {move || (!is_room()).then(|| view! {
                        <span class="presence" class:online=peer_online
                            aria-label=move || if peer_online() { tr(T::Online)() } else { tr(T::PeerOffline)() }></span>
                    })}
                    {move || summary.get().map(|s| s.name)}
                    <span class="chat-count">
                        {move || summary.get().filter(|_| is_room()).map(|s| format!(" ({})", s.member_count))}
                    </span>
                    <span class="typing" role="status" data-testid="typing">{typing}</span>
                </h2>
                <button
                    type="button"
                    class="icon-button"
                    aria-expanded=move || show_search.get().to_string()
                    on:click=move |_| show_search.update(|v| *v = !*v)
                >
                    {tr(T::Search)}
                </button>
                <Show when=is_room>
                <button
                    type="button"
                    class="icon-button"
                    aria-expanded=move || show_members.get().to_string()
                    on:click=move |_| show_members.update(|v| *v = !*v)
                >
                    {tr(T::Members)}
                </button>
                </Show>
            </header>
            <Show when=is_group>
                // Drawn in the browser only (its code is a lazy chunk).
                {crate::client_page(Box::pin(group_bar(room_id, me, version)), false)}
            </Show>
            <Show when=move || show_members.get() && is_room()>
                {crate::components::widgets::lazy_panel(async move { member_panel(room_id).await })}
            </Show>
            <Show when=move || show_search.get()>
                {crate::components::widgets::lazy_panel(async move { search_panel(room_id).await })}
            </Show>
            <Suspense fallback=move || view! { <div class="messages"><p class="loading">{tr(T::Loading)}</p></div> }>
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

/// The message list and the composer, which share the outbox and the
/// voice player. Images and videos dropped anywhere on them are sent.
#[component]
fn Conversation(room_id: ConversationId, first: Vec<ConversationEvent>) -> impl IntoView {
    let outbox = Outbox::new(room_id);
    super::actions::Actions::provide(room_id);
    VoicePlayer::provide();
    // Browser only: what the outbox kept in storage comes back, and waiting
    // messages go whenever the connection (re)opens.
    let state = expect_context::<ChatState>();
    Effect::new(move |restored: Option<()>| {
        if restored.is_none() {
            outbox.restore();
        } else if state.live.get() == crate::state::Live::Open {
            outbox.flush();
        }
        let _ = state.live.get();
    });
    let on_dragover = move |_ev: leptos::ev::DragEvent| {
        #[cfg(feature = "hydrate")]
        if super::attach::drags_files(&_ev) {
            // Accepting the drag is what makes the drop happen.
            _ev.prevent_default();
        }
    };
    let on_drop = move |_ev: leptos::ev::DragEvent| {
        #[cfg(feature = "hydrate")]
        if let Some(files) = super::attach::files_of(_ev.data_transfer()) {
            _ev.prevent_default();
            super::attach::send_files(outbox, &files, true);
        }
    };
    view! {
        <div class="conversation-body" on:dragover=on_dragover on:drop=on_drop>
            <MessageLog room_id first outbox/>
            <Composer outbox/>
        </div>
    }
}

/// The member panel, loaded the first time it is opened.
#[lazy]
fn member_panel(room_id: ConversationId) -> AnyView {
    view! { <MemberPanel room_id/> }.into_any()
}

/// The search panel, loaded the first time it is opened.
#[lazy]
fn search_panel(room_id: ConversationId) -> AnyView {
    view! { <super::search::SearchPanel room_id/> }.into_any()
}

/// A group's announcement banner and settings, loaded for the first group
/// opened.
#[lazy]
fn group_bar(
    room_id: ConversationId,
    me: teahouse_protocol::UserId,
    version: Signal<usize>,
) -> AnyView {
    view! { <crate::components::groups::GroupBar room=room_id me version/> }.into_any()
}
