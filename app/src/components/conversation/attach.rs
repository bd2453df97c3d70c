//! Files into the conversation: the composer's attach button (one file
//! input taking images and videos, so a phone's picker offers the camera
//! and the gallery), and photos or videos pasted into the input or dropped
//! on the conversation (desktop). Each file becomes a pending message of
//! the [`Outbox`]; a video's length is read in the browser first (the
//! upload says it).

use leptos::prelude::*;

use super::outbox::Outbox;
use crate::i18n::{tr, T};

/// The attach button and its hidden file input.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
pub fn attach_button(outbox: Outbox) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let on_change = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(el) = input.get_untracked() {
            if let Some(files) = el.files() {
                send_files(outbox, &files, false);
            }
            // The same file can be picked again.
            el.set_value("");
        }
    };
    view! {
        <button
            type="button"
            class="tool-button attach"
            aria-label=tr(T::Attach)
            title=tr(T::Attach)
            on:click=move |_| {
                #[cfg(feature = "hydrate")]
                if let Some(el) = input.get_untracked() {
                    el.click();
                }
            }
        >
            "＋"
        </button>
        <input
            type="file"
            class="file-input"
            accept="image/*,video/*"
            multiple=true
            tabindex="-1"
            aria-hidden="true"
            data-testid="attach-input"
            node_ref=input
            on:change=on_change
        />
    }
}

/// Whether a drag carries files (so the page accepts the drop).
#[cfg(feature = "hydrate")]
pub fn drags_files(ev: &leptos::ev::DragEvent) -> bool {
    ev.data_transfer().is_some_and(|d| {
        d.types()
            .iter()
            .any(|t| t.as_string().as_deref() == Some("Files"))
    })
}

/// The files dropped or pasted, if any.
#[cfg(feature = "hydrate")]
pub fn files_of(data: Option<web_sys::DataTransfer>) -> Option<web_sys::FileList> {
    data?.files().filter(|f| f.length() > 0)
}

/// Sends each of `files` (with `media_only`, only images and videos: a
/// paste or a drop may carry other things). True if any was sent.
#[cfg(feature = "hydrate")]
pub fn send_files(outbox: Outbox, files: &web_sys::FileList, media_only: bool) -> bool {
    use crate::media::MediaKind;
    use leptos::task::spawn_local;
    let mut any = false;
    for file in (0..files.length()).filter_map(|i| files.get(i)) {
        let mime = file.type_();
        if media_only && !(mime.starts_with("image/") || mime.starts_with("video/")) {
            continue;
        }
        any = true;
        match MediaKind::of_file_type(&mime) {
            MediaKind::Video => spawn_local(async move {
                let duration_ms = video_duration_ms(&file).await;
                outbox.send_file(file.into(), MediaKind::Video, duration_ms);
            }),
            kind => outbox.send_file(file.into(), kind, None),
        }
    }
    any
}

/// How long a video file plays, read from its header by a detached
/// `<video>` element; `None` if the browser cannot tell.
#[cfg(feature = "hydrate")]
async fn video_duration_ms(file: &web_sys::File) -> Option<u32> {
    use wasm_bindgen::JsCast;
    let url = web_sys::Url::create_object_url_with_blob(file).ok()?;
    let video: web_sys::HtmlVideoElement =
        document().create_element("video").ok()?.dyn_into().ok()?;
    video.set_preload("metadata");
    video.set_src(&url);
    next_event(&video, &["loadedmetadata", "error"]).await;
    let mut secs = video.duration();
    if secs.is_infinite() {
        // A recorded WebM whose header has no duration (Chromium's
        // MediaRecorder writes none): a seek past the end makes the browser
        // find it.
        video.set_current_time(1e101);
        next_event(&video, &["durationchange", "error"]).await;
        secs = video.duration();
    }
    video.remove_attribute("src").ok();
    let _ = web_sys::Url::revoke_object_url(&url);
    (secs.is_finite() && secs > 0.0).then(|| (secs * 1000.0).round() as u32)
}

/// Waits for the first of `events` on `target`, or 5 s.
#[cfg(feature = "hydrate")]
async fn next_event(target: &web_sys::EventTarget, events: &[&str]) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let mut tx = Some(tx);
    let done = Closure::<dyn FnMut()>::new(move || {
        if let Some(tx) = tx.take() {
            let _ = tx.send(());
        }
    });
    for e in events {
        let _ = target.add_event_listener_with_callback(e, done.as_ref().unchecked_ref());
    }
    let _ = futures::future::select(rx, gloo_timers::future::TimeoutFuture::new(5_000)).await;
    for e in events {
        let _ = target.remove_event_listener_with_callback(e, done.as_ref().unchecked_ref());
    }
}
