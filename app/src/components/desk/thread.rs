//! One support conversation as the guest page and the agent console draw
//! it: the log (text, image, voice bubbles and system lines) and a composer
//! (text, and a picture from a file). Sending is the caller's: the guest
//! sends with `support_send*`, an agent with `send_message` / `send_media`.

use leptos::prelude::*;
use teahouse_protocol::{ConversationEvent, EventBody, MessageContent, UserId};

use crate::components::access_lines::event_line;
use crate::components::conversation::media::{image_bubble, voice_bubble};
use crate::components::widgets::preview;
use crate::i18n::{tr, use_i18n, T};

/// Adds `incoming` to `log` (kept in seq order, each seq once; a newer copy
/// of an entry, e.g. a recalled message, replaces it). A recall turns the
/// message it names (if loaded) into its placeholder at once, as in chats.
pub fn merge(
    log: &mut Vec<ConversationEvent>,
    incoming: impl IntoIterator<Item = ConversationEvent>,
) {
    for ev in incoming {
        if let EventBody::MessageRecalled { seq } = ev.body {
            if let Ok(i) = log.binary_search_by_key(&seq, |e| e.seq) {
                log[i].body = EventBody::Recalled { by: ev.actor.id };
            }
        }
        match log.binary_search_by_key(&ev.seq, |e| e.seq) {
            Ok(i) => log[i] = ev,
            Err(i) => log.insert(i, ev),
        }
    }
}

/// One row: a bubble for messages, a system line for the rest.
fn row(ev: ConversationEvent, me: UserId) -> impl IntoView {
    let i18n = use_i18n();
    match ev.body.clone() {
        EventBody::Message(m) => {
            let mine = ev.actor.id == me;
            let bubble = match m.content {
                MessageContent::Image(media) => view! {
                    <div class="bubble bubble-image">{image_bubble(media)}</div>
                }
                .into_any(),
                MessageContent::Voice(media) => view! {
                    <div class="bubble bubble-voice">{voice_bubble(media, mine)}</div>
                }
                .into_any(),
                other => {
                    let text = match &other {
                        MessageContent::Text(t) => t.clone(),
                        _ => crate::components::widgets::message_preview(&other, i18n.lang()),
                    };
                    view! { <div class="bubble">{text}</div> }.into_any()
                }
            };
            view! {
                <div class="msg" class:mine=mine data-seq=ev.seq.to_string()>
                    <div class="msg-body">
                        <div class="msg-meta"><span class="msg-name">{ev.actor.nickname.clone()}</span></div>
                        {bubble}
                    </div>
                </div>
            }
            .into_any()
        }
        // The placeholder says it; the recall event itself is not drawn.
        EventBody::MessageRecalled { .. } => ().into_any(),
        _ => {
            let line = move || {
                event_line(&ev, i18n.lang()).unwrap_or_else(|| preview(&ev, me, i18n.lang()))
            };
            view! { <div class="sys-line">{line}</div> }.into_any()
        }
    }
}

/// The log, oldest first.
#[component]
pub fn ThreadLog(events: RwSignal<Vec<ConversationEvent>>, me: UserId) -> impl IntoView {
    view! {
        <div class="desk-log" role="log" aria-live="polite">
            <For
                each=move || events.get()
                key=|e| (e.seq, format!("{:?}", e.body).len())
                children=move |e| row(e, me)
            />
        </div>
    }
}

/// What the composer hands its owner.
#[derive(Clone, Debug)]
pub enum Outgoing {
    /// Text to send.
    Text(String),
    /// A picked picture (browser only: a `web_sys::File`).
    #[cfg(feature = "hydrate")]
    Picture(web_sys::File),
}

/// A text box (Enter sends, Shift+Enter is a new line, never while an IME
/// composes) with a send button and a picture button.
#[component]
pub fn ThreadComposer(
    on_send: Callback<Outgoing>,
    #[prop(into)] disabled: Signal<bool>,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let send = move || {
        let t = text.get_untracked();
        if !t.trim().is_empty() {
            on_send.run(Outgoing::Text(t));
            text.set(String::new());
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        }
    };
    #[allow(unused_variables)]
    let on_pick = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let input: Option<web_sys::HtmlInputElement> =
                ev.target().and_then(|t| t.dyn_into().ok());
            if let Some(input) = input {
                if let Some(file) = input.files().and_then(|f| f.get(0)) {
                    on_send.run(Outgoing::Picture(file));
                }
                input.set_value("");
            }
        }
    };
    view! {
        <div class="desk-composer">
            <label class="desk-attach" title=tr(T::Photo)>
                "🖼"
                <input type="file" accept="image/*" data-testid="desk-picture" on:change=on_pick prop:disabled=disabled/>
            </label>
            <textarea
                rows="2"
                aria-label=tr(T::MessagePlaceholder)
                placeholder=tr(T::MessagePlaceholder)
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=on_key
                prop:disabled=disabled
            ></textarea>
            <button type="button" class="primary" on:click=move |_| send() prop:disabled=disabled>
                {tr(T::Send)}
            </button>
        </div>
    }
}

/// A new client id for a send (retries of one send reuse it).
pub fn new_client_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An upload's failure as the app's error.
#[cfg(feature = "hydrate")]
pub fn failure_error(f: crate::media::Failure) -> crate::error::AppError {
    match f {
        crate::media::Failure::Code(code) => crate::error::AppError::new(code),
        crate::media::Failure::Server { .. } => {
            crate::error::AppError::new(teahouse_protocol::ErrorCode::Internal)
        }
    }
}
