//! The bubbles of stored media messages, one function per kind:
//!
//! Plain functions rather than components, and `Either` rather than
//! `into_any`: both erase types, which costs wasm per use (see the
//! first-load budget in README.md).
//!
//! - [`image_bubble`]: the thumbnail, laid out at its final size before it
//!   loads (`width`/`height` attributes from the [`MediaRef`], scaled into
//!   [`IMAGE_BOX`]: no layout jump, and no inline style, which the
//!   Content-Security-Policy forbids); a click or tap opens the full image
//!   in a lightbox (a new tab with a modifier key, or before hydration).
//! - [`voice_bubble`]: WeChat's voice bar, wider for longer clips, with its
//!   length; it plays in place through the pane's [`VoicePlayer`] (one clip
//!   at a time) and shows an unplayed dot on others' clips until played.
//! - [`video_bubble`]: an inline player (`preload="metadata"`: nothing but
//!   the header loads until play) with a placeholder poster and the length.

use leptos::prelude::*;
use teahouse_protocol::MediaRef;

use crate::format::clip_length;
use crate::i18n::{tr, use_i18n, T};
use crate::media::player::VoicePlayer;
use crate::media::{
    fit_in_box, media_url, thumb_url, voice_label, voice_width, IMAGE_BOX, VIDEO_BOX,
};

/// The poster every video shows before it plays (a static file).
pub const VIDEO_POSTER: &str = "/video-poster.svg";

/// A photo's bubble.
pub fn image_bubble(media: MediaRef) -> impl IntoView {
    let (width, height) = fit_in_box(media.width.zip(media.height), IMAGE_BOX);
    let full = media_url(&media.id);
    let open = RwSignal::new(false);
    let on_click = move |ev: leptos::ev::MouseEvent| {
        // A modified or middle click opens the link as the browser would.
        if ev.button() == 0 && !(ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key()) {
            ev.prevent_default();
            open.set(true);
        }
    };
    view! {
        <a class="media-image" href=full.clone() target="_blank" rel="noopener" on:click=on_click>
            <img src=thumb_url(&media.id) width=width height=height loading="lazy" alt=tr(T::Photo)/>
        </a>
        {move || open.get().then(|| lightbox(full.clone(), move || open.set(false)))}
    }
}

/// The full image over the page; a click anywhere, the close button or
/// Escape closes it.
fn lightbox(src: String, close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let button = NodeRef::<leptos::html::Button>::new();
    // Focus goes to the close button, so Escape and Enter reach the dialog.
    Effect::new(move |_| {
        if let Some(b) = button.get() {
            let _ = b.focus();
        }
    });
    view! {
        <div
            class="lightbox"
            role="dialog"
            aria-modal="true"
            aria-label=tr(T::Photo)
            on:click=move |_| close()
            on:keydown=move |ev| if ev.key() == "Escape" { close() }
        >
            <img src=src alt=tr(T::Photo)/>
            <button type="button" class="lightbox-close" node_ref=button aria-label=tr(T::Close)>"×"</button>
        </div>
    }
}

/// The sound-wave mark of a voice bar (an SVG: no images to load).
fn wave_icon() -> impl IntoView {
    view! {
        <svg class="voice-icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
            <path class="wave0" d="M3 8a1.5 1.5 0 1 0 0.01 0z"/>
            <path class="wave1" d="M6 4.5a5 5 0 0 1 0 7" fill="none" stroke-width="1.6"/>
            <path class="wave2" d="M9 2a8.5 8.5 0 0 1 0 12" fill="none" stroke-width="1.6"/>
        </svg>
    }
}

/// A voice clip of `duration_ms` as a bar without player (a clip still
/// being sent).
pub fn voice_bar(duration_ms: u32) -> impl IntoView {
    view! {
        <span class=format!("voice voice-w{}", voice_width(duration_ms))>
            {wave_icon()}
            <span class="voice-len">{voice_label(duration_ms)}</span>
        </span>
    }
}

/// A voice clip's bubble (`mine`: sent by the reader, who has no unplayed dot).
pub fn voice_bubble(media: MediaRef, mine: bool) -> impl IntoView {
    let i18n = use_i18n();
    let player = VoicePlayer::expect();
    let duration_ms = media.duration_ms.unwrap_or(0);
    let id = media.id;
    let src = media_url(&id);
    let playing = {
        let id = id.clone();
        move || player.playing.with(|p| p.as_ref() == Some(&id))
    };
    let unplayed = {
        let id = id.clone();
        move || !mine && !player.played.with(|p| p.contains(&id))
    };
    let label = move || format!("{} {}", i18n.t(T::VoiceMessage), clip_length(duration_ms));
    view! {
        <button
            type="button"
            class=format!("voice voice-w{}", voice_width(duration_ms))
            class:playing=playing.clone()
            aria-label=label
            aria-pressed=move || playing().to_string()
            data-src=src
            on:click=move |_| player.toggle(id.clone())
        >
            {wave_icon()}
            <span class="voice-len">{voice_label(duration_ms)}</span>
        </button>
        {move || unplayed().then(|| view! {
            <span class="unplayed-dot" role="img" aria-label=tr(T::Unplayed)></span>
        })}
    }
}

/// A video's bubble.
pub fn video_bubble(media: MediaRef) -> impl IntoView {
    let (width, height) = fit_in_box(media.width.zip(media.height), VIDEO_BOX);
    let length = media.duration_ms.map(clip_length);
    view! {
        <div class="media-video">
            <video
                src=media_url(&media.id)
                controls=true
                preload="metadata"
                playsinline=true
                poster=VIDEO_POSTER
                width=width
                height=height
                aria-label=tr(T::VideoMessage)
            ></video>
            {length.map(|l| view! { <span class="video-len">{l}</span> })}
        </div>
    }
}
