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
    let show_members = RwSignal::new(false);
    // A private chat has a fixed pair: no count, no member panel.
    let is_room =
        move || summary.with(|s| s.as_ref().is_none_or(|s| s.kind == ConversationKind::Room));
    let nav = use_room_nav();
    view! {
        <section class="chat" aria-label=move || summary.get().map(|s| s.name).unwrap_or_default()>
            <header class="chat-head">
                <a href="/" class="back" aria-label=tr(T::Back) on:click=nav.on_link_click(None)>"‹"</a>
                <h2 class="chat-title">
                    {move || summary.get().map(|s| s.name)}
                    <span class="chat-count">
                        {move || summary.get().filter(|_| is_room()).map(|s| format!(" ({})", s.member_count))}
                    </span>
                </h2>
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
            <Show when=move || show_members.get() && is_room()>
                <MemberPanel room_id/>
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
    VoicePlayer::provide();
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
