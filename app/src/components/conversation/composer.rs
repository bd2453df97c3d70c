//! The message input of the open conversation: Enter sends, Shift+Enter is
//! a newline, and neither fires while an input method is composing (so
//! confirming a Chinese candidate with Enter does not send). Sending hands
//! the text to the [`Outbox`].
//!
//! Around it: the mic button and hold-to-talk ([`voice`](super::voice)),
//! the attach button ([`attach`](super::attach)), and images pasted into
//! the input go out as photos.

use leptos::prelude::*;

use super::attach::attach_button;
use super::outbox::Outbox;
use super::voice::{hold_to_talk, mic_button, recording_status, Voice, VoiceState};
use crate::i18n::{tr, use_i18n, T};

#[component]
pub fn Composer(outbox: Outbox) -> impl IntoView {
    let i18n = use_i18n();
    let draft = RwSignal::new(String::new());
    let voice = Voice::new(outbox);
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
    // A pasted picture is sent as a photo (text pastes as usual).
    let on_paste = move |_ev: leptos::ev::ClipboardEvent| {
        #[cfg(feature = "hydrate")]
        if let Some(files) = super::attach::files_of(_ev.clipboard_data()) {
            if super::attach::send_files(outbox, &files, true) {
                _ev.prevent_default();
            }
        }
    };
    // The text input gives way to the recording strip after a click on the
    // mic, and to the hold-to-talk button in the touch layout.
    let typing = move || {
        !voice.hold_mode.get() && (voice.state.get() == VoiceState::Idle || voice.held.get())
    };
    view! {
        <div class="composer-wrap">
            {move || voice.notice.get().map(|t| view! { <p class="composer-notice" role="status">{move || i18n.t(t)}</p> })}
            <form class="composer" on:submit=move |ev| { ev.prevent_default(); send(); }>
                {mic_button(voice)}
                {move || voice.hold_mode.get().then(|| hold_to_talk(voice))}
                <textarea
                    class="composer-input"
                    class:hidden=move || !typing()
                    rows="1"
                    aria-label=tr(T::MessagePlaceholder)
                    placeholder=tr(T::MessagePlaceholder)
                    maxlength=teahouse_protocol::limits::MESSAGE_MAX_DEFAULT
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown=on_keydown
                    on:paste=on_paste
                ></textarea>
                {recording_status(voice)}
                {attach_button(outbox)}
                <button type="submit" class="primary send" disabled=move || draft.with(|d| d.trim().is_empty())>
                    {tr(T::Send)}
                </button>
            </form>
        </div>
    }
}
