//! What can be done with the messages of the open conversation: reply to
//! one (the composer shows the quote), recall one (mine within the window,
//! any in a room I own), jump to a quoted message (loading it with its
//! neighbours when it is not loaded), and the "new messages" divider.
//! [`Actions`] is shared by the log and the composer through context.

use leptos::prelude::*;
use teahouse_protocol::{ConversationId, MessageContent, MsgType, Quote, Seq};

use crate::error::AppError;
use crate::i18n::{tr, use_i18n, T};
use crate::state::ChatState;

/// Until when after sending the UI offers to recall one's own message
/// (the server's default window; it decides, and says `recall_too_late`).
const RECALL_OFFER_MS: i64 = 120_000;

/// The message the composer replies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyTarget {
    /// Its seq.
    pub seq: Seq,
    /// Its sender's nickname.
    pub sender: String,
    /// Its one-line preview.
    pub preview: String,
}

/// The open conversation's message actions.
#[derive(Clone, Copy)]
pub struct Actions {
    /// The conversation.
    pub room_id: ConversationId,
    /// The message being replied to, shown above the composer.
    pub reply: RwSignal<Option<ReplyTarget>>,
    /// Why the last recall failed (shown above the composer).
    pub error: RwSignal<Option<AppError>>,
    /// The first unread message when the conversation was opened (the
    /// "new messages" divider goes before it).
    pub new_from: RwSignal<Option<Seq>>,
    /// Whether the log follows its newest message (off while the reader
    /// looks at older ones, or after a jump).
    pub stick_to_bottom: RwSignal<bool>,
    /// The page's state (handlers run without a reactive owner, so it is
    /// kept here rather than looked up).
    state: ChatState,
}

impl Actions {
    /// The actions of `room_id`, provided to the log and the composer.
    pub fn provide(room_id: ConversationId) -> Actions {
        let actions = Actions {
            room_id,
            reply: RwSignal::new(None),
            error: RwSignal::new(None),
            new_from: RwSignal::new(None),
            stick_to_bottom: RwSignal::new(true),
            state: expect_context::<ChatState>(),
        };
        provide_context(actions);
        actions
    }

    /// Recalls the message at `seq`; its placeholder replaces it here at
    /// once (and everywhere through the pushed event).
    pub fn recall(self, seq: Seq) {
        let state = self.state;
        leptos::task::spawn_local(async move {
            match crate::api::recall::recall_message(self.room_id, seq).await {
                Ok(event) => {
                    self.error.set(None);
                    state.apply_event(event);
                }
                Err(err) => self.error.set(Some(err)),
            }
        });
    }

    /// Whether to offer recalling a message sent at `at_ms` by `mine`
    /// (the owner of a room may remove any).
    pub fn may_recall(mine: bool, owner: bool, at_ms: i64) -> bool {
        owner || (mine && crate::format::now_ms() - at_ms < RECALL_OFFER_MS)
    }
}

/// The one-line preview of a message's content for a reply bar.
pub fn preview_of(content: &MessageContent, lang: crate::i18n::Lang) -> String {
    Quote::excerpt_of(&crate::components::widgets::message_preview(content, lang))
}

/// A reply's quote: the original's sender and excerpt (or its kind, or
/// "recalled"); clicking it brings the original into view.
pub fn quote_view(q: Quote, room_id: ConversationId) -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let seq = q.seq;
    let label = move || {
        if q.recalled {
            return i18n.t(T::QuoteRecalled).to_owned();
        }
        match q.msgtype {
            Some(MsgType::Image) => i18n.t(T::PhotoTag).to_owned(),
            Some(MsgType::Voice) => i18n.t(T::VoiceTag).to_owned(),
            Some(MsgType::Video) => i18n.t(T::VideoTag).to_owned(),
            _ => q.excerpt.clone(),
        }
    };
    view! {
        <button type="button" class="quote" data-quote-seq=seq.to_string() on:click=move |_| jump_to(state, room_id, seq)>
            <span class="quote-name">{q.sender.nickname.clone()}</span>
            ": "
            <span class="quote-text">{label}</span>
        </button>
    }
}

/// Asks for message `seq` of `room_id` to be brought into view: the log
/// of that conversation does it once it shows ([`Actions::bring_into_view`]).
pub fn jump_to(state: ChatState, room_id: ConversationId, seq: Seq) {
    state.focus.set(Some((room_id, seq)));
}

impl Actions {
    /// Brings message `seq` into view (and flashes it): at once if it is
    /// rendered, else after loading it with its neighbours. The log stops
    /// following its newest message meanwhile.
    pub fn bring_into_view(self, seq: Seq) {
        self.stick_to_bottom.set(false);
        #[cfg(not(feature = "hydrate"))]
        let _ = seq;
        #[cfg(feature = "hydrate")]
        {
            if scroll_to(seq) {
                return;
            }
            let (state, room_id) = (self.state, self.room_id);
            leptos::task::spawn_local(async move {
                let around =
                    crate::api::messages::history(room_id, None, None, Some(40), Some(seq)).await;
                if let (Ok(events), Some(log)) = (around, state.log(room_id)) {
                    log.merge(events);
                    request_animation_frame(move || {
                        scroll_to(seq);
                    });
                }
            });
        }
    }
}

/// Scrolls the row of `seq` to the middle of the log and flashes it; false
/// if it is not rendered.
#[cfg(feature = "hydrate")]
pub fn scroll_to(seq: Seq) -> bool {
    let selector = format!(".messages [data-seq=\"{seq}\"]");
    let Some(el) = document().query_selector(&selector).ok().flatten() else {
        return false;
    };
    let options = web_sys::ScrollIntoViewOptions::new();
    options.set_block(web_sys::ScrollLogicalPosition::Center);
    el.scroll_into_view_with_scroll_into_view_options(&options);
    let _ = el.set_attribute("data-flash", "");
    set_timeout(
        move || {
            let _ = el.remove_attribute("data-flash");
        },
        std::time::Duration::from_millis(1600),
    );
    true
}

/// The buttons under a message: reply, and recall when it may be recalled.
pub fn message_tools(
    actions: Actions,
    seq: Seq,
    target: ReplyTarget,
    can_recall: bool,
) -> impl IntoView {
    view! {
        <span class="msg-tools">
            <button type="button" class="link-button tool-reply" on:click=move |_| actions.reply.set(Some(target.clone()))>
                {tr(T::Reply)}
            </button>
            {can_recall.then(|| view! {
                <button type="button" class="link-button tool-recall" on:click=move |_| actions.recall(seq)>
                    {tr(T::Recall)}
                </button>
            })}
        </span>
    }
}
