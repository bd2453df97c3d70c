//! The message input of the open conversation: Enter sends, Shift+Enter is
//! a newline, and neither fires while an input method is composing (so
//! confirming a Chinese candidate with Enter does not send). Sending hands
//! the text to the [`Outbox`].

use leptos::prelude::*;

use super::outbox::Outbox;
use crate::i18n::{use_i18n, T};

#[component]
pub fn Composer(outbox: Outbox) -> impl IntoView {
    let i18n = use_i18n();
    let draft = RwSignal::new(String::new());
    let send = move || {
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        draft.set(String::new());
        outbox.send(text);
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
