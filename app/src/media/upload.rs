//! Uploads one file to `POST /api/upload/{kind}` with `XMLHttpRequest`, the
//! one browser API that reports upload progress (fetch and gloo-net do
//! not). The body is the file as it is (not multipart); the browser adds the
//! session cookie and `Origin` (same origin). A 200 answer is the stored
//! file's [`MediaRef`] (for an avatar, the user as they now are); any other
//! is the app's error shape.

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::oneshot;
use teahouse_protocol::{ErrorCode, MediaRef, UserBrief};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, Event, ProgressEvent, XmlHttpRequest};

use super::{upload_url, Failure, MediaKind};

/// Sends `file` as a `kind` upload (with the clip's `duration_ms` for voice
/// and video), calling `on_progress` with the percentage sent so far.
pub async fn upload(
    file: &Blob,
    kind: MediaKind,
    duration_ms: Option<u32>,
    on_progress: impl Fn(u32) + 'static,
) -> Result<MediaRef, Failure> {
    let body = post_file(&upload_url(kind, duration_ms), file, on_progress).await?;
    serde_json::from_str::<MediaRef>(&body).map_err(|_| Failure::Code(ErrorCode::Internal))
}

/// Sends `file` as my new avatar (`POST /api/upload/avatar`), calling
/// `on_progress` with the percentage sent so far; me as I now am.
pub async fn upload_avatar(
    file: &Blob,
    on_progress: impl Fn(u32) + 'static,
) -> Result<UserBrief, Failure> {
    let body = post_file("/api/upload/avatar", file, on_progress).await?;
    serde_json::from_str::<UserBrief>(&body).map_err(|_| Failure::Code(ErrorCode::Internal))
}

/// POSTs `file` as the body to `url`; the body of a 200 answer.
async fn post_file(
    url: &str,
    file: &Blob,
    on_progress: impl Fn(u32) + 'static,
) -> Result<String, Failure> {
    let network = || Failure::Code(ErrorCode::Network);
    let xhr = XmlHttpRequest::new().map_err(|_| network())?;
    xhr.open_with_async("POST", url, true)
        .map_err(|_| network())?;

    // Resolved by whichever of load / error / abort / timeout comes first.
    let (tx, rx) = oneshot::channel::<bool>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let ended = Closure::<dyn FnMut(Event)>::new(move |ev: Event| {
        if let Some(tx) = tx.borrow_mut().take() {
            let _ = tx.send(ev.type_() == "load");
        }
    });
    let ended_fn = Some(ended.as_ref().unchecked_ref());
    xhr.set_onload(ended_fn);
    xhr.set_onerror(ended_fn);
    xhr.set_onabort(ended_fn);
    xhr.set_ontimeout(ended_fn);
    let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
        if ev.length_computable() && ev.total() > 0.0 {
            on_progress(((ev.loaded() / ev.total()) * 100.0).clamp(0.0, 100.0) as u32);
        }
    });
    let upload = xhr.upload().ok();
    if let Some(up) = &upload {
        up.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }

    let loaded = match xhr.send_with_opt_blob(Some(file)) {
        Ok(()) => rx.await.unwrap_or(false),
        Err(_) => false,
    };
    // Nothing calls the closures once they are dropped below.
    xhr.set_onload(None);
    xhr.set_onerror(None);
    xhr.set_onabort(None);
    xhr.set_ontimeout(None);
    if let Some(up) = &upload {
        up.set_onprogress(None);
    }
    drop((ended, progress));

    if !loaded {
        return Err(network());
    }
    let status = xhr.status().unwrap_or(0);
    let body = xhr.response_text().ok().flatten().unwrap_or_default();
    if status == 200 {
        Ok(body)
    } else {
        Err(Failure::from_answer(status, &body))
    }
}
