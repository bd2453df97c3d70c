//! Small shared widgets.

use leptos::prelude::*;
use teahouse_protocol::limits::{AVATAR_LARGE, AVATAR_SMALL};
use teahouse_protocol::{ConversationEvent, EventBody, MediaId, MessageContent, UserId};

use crate::error::AppError;
use crate::format::{avatar_color, avatar_initial, AvatarOf};
use crate::i18n::{tr, use_i18n, T};

/// An avatar: the user's uploaded picture (`image`) if they set one, over
/// the generated one — the first letter on a colour derived from the id of
/// whoever it stands for (a [`UserId`] or a conversation's id) — which shows
/// while the picture loads and stays if it fails. The picture has its box's
/// width and height, so nothing moves when it arrives. `large` is the size
/// of list rows, `xl` that of the Me card. `url`: a picture elsewhere (a
/// host system's user or a bot, set through the server API), used when
/// there is no uploaded one.
#[component]
pub fn Avatar(
    #[prop(into)] of: AvatarOf,
    name: String,
    #[prop(optional)] large: bool,
    #[prop(optional)] xl: bool,
    #[prop(optional_no_strip)] image: Option<MediaId>,
    #[prop(optional_no_strip)] url: Option<String>,
) -> impl IntoView {
    let initial = avatar_initial(&name);
    // CSS px of `.avatar`, `.avatar-lg`, `.avatar-xl`.
    let (css_px, file_px) = match (xl, large) {
        (true, _) => (64, AVATAR_LARGE),
        (false, true) => (44, AVATAR_SMALL),
        (false, false) => (36, AVATAR_SMALL),
    };
    let src = image.map(|id| avatar_url(&id, file_px)).or(url);
    let picture = src.map(|src| {
        let failed = RwSignal::new(false);
        view! {
            <img class="avatar-img" class:avatar-failed=move || failed.get()
                src=src width=css_px height=css_px alt="" referrerpolicy="no-referrer"
                decoding="async" on:error=move |_| failed.set(true)/>
        }
    });
    view! {
        <span
            class=format!("avatar {}", avatar_color(of))
            class:avatar-lg=large
            class:avatar-xl=xl
            aria-hidden="true"
        >
            {initial}
            {picture}
        </span>
    }
}

/// Where avatar `id` is served at `side` px (a square JPEG).
pub fn avatar_url(id: &MediaId, side: u32) -> String {
    format!("/avatar/{id}/{side}")
}

/// A form-level or page-level error message, optionally after a line
/// saying what failed ("Could not load older messages · Network error").
#[component]
pub fn ErrorNotice(err: AppError, #[prop(optional)] what: Option<T>) -> impl IntoView {
    let i18n = use_i18n();
    let code = err.code.as_str();
    view! {
        <p class="error-notice" role="alert" data-code=code>
            {move || what.map(|w| format!("{} · ", i18n.t(w)))}
            {move || err.message(i18n.lang())}
        </p>
    }
}

/// The one-line preview of an event, for the conversation list.
pub fn preview(ev: &ConversationEvent, me: UserId, lang: crate::i18n::Lang) -> String {
    let who = if ev.actor.id == me {
        None
    } else {
        Some(ev.actor.nickname.as_str())
    };
    match &ev.body {
        EventBody::Message(m) => {
            let text = message_preview(&m.content, lang);
            match who {
                Some(n) => format!("{n}: {text}"),
                None => text,
            }
        }
        EventBody::MemberJoined => format!("{} {}", ev.actor.nickname, T::JoinedRoom.in_lang(lang)),
        EventBody::MemberLeft => format!("{} {}", ev.actor.nickname, T::LeftRoom.in_lang(lang)),
        EventBody::RoomCreated { .. } => {
            format!("{} {}", ev.actor.nickname, T::CreatedRoom.in_lang(lang))
        }
        EventBody::DirectOpened => {
            format!("{} {}", ev.actor.nickname, T::OpenedDirect.in_lang(lang))
        }
        // As the placeholder reads (see `conversation::message`).
        EventBody::Recalled { by } if *by != ev.actor.id => {
            format!("{} {}", ev.actor.nickname, T::RemovedByOwner.in_lang(lang))
        }
        EventBody::MessageRecalled { .. } | EventBody::Recalled { .. } => {
            format!(
                "{} {}",
                ev.actor.nickname,
                T::RecalledAMessage.in_lang(lang)
            )
        }
        _ => super::access_lines::event_line(ev, lang).unwrap_or_default(),
    }
}

/// How a message reads in one line: its text, or WeChat's tag for a media
/// message ("[语音] 0:07" with a voice clip's length).
pub fn message_preview(content: &MessageContent, lang: crate::i18n::Lang) -> String {
    match content {
        MessageContent::Text(text) => text.clone(),
        MessageContent::Notice(text) => format!("[{}] {text}", T::NoticeTag.in_lang(lang)),
        MessageContent::Image(_) => T::PhotoTag.in_lang(lang).to_owned(),
        MessageContent::Voice(m) => format!(
            "{} {}",
            T::VoiceTag.in_lang(lang),
            crate::format::clip_length(m.duration_ms.unwrap_or(0))
        ),
        MessageContent::Video(_) => T::VideoTag.in_lang(lang).to_owned(),
    }
}

/// A panel whose code is a separate wasm chunk (a `#[lazy]` function),
/// loaded the first time it is shown: "Loading…" until it arrives.
pub fn lazy_panel(
    load: impl std::future::Future<Output = AnyView> + Send + 'static,
) -> impl IntoView {
    view! {
        <Suspense fallback=move || view! { <p class="loading">{tr(T::Loading)}</p> }>
            {Suspend::new(load)}
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teahouse_protocol::{ConversationId, Lang, UserBrief};

    fn recalled(sender: i64, by: i64) -> ConversationEvent {
        ConversationEvent {
            conversation_id: ConversationId(1),
            seq: 2,
            at_ms: 0,
            actor: UserBrief {
                id: UserId(sender),
                username: "bob".into(),
                nickname: "Bob".into(),
                avatar: None,
                avatar_url: None,
                bot: false,
            },
            body: EventBody::Recalled { by: UserId(by) },
        }
    }

    #[test]
    fn a_message_removed_by_the_owner_does_not_read_as_recalled_by_its_sender() {
        assert_eq!(
            preview(&recalled(2, 2), UserId(9), Lang::En),
            "Bob recalled a message"
        );
        assert_eq!(
            preview(&recalled(2, 1), UserId(9), Lang::En),
            "Bob had a message removed by the owner"
        );
    }
}
