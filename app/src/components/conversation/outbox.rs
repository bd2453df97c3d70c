//! Sends the server has not confirmed yet. A typed message, a picked photo
//! or video, or a recorded clip is shown at once as a "sending" bubble; it
//! leaves the outbox when the server answers with the stored event (shown
//! from then on as a row of the log), or stays as a failed bubble with the
//! reason and a retry button. A retry reuses the message's client id, so the
//! server can never store it twice.
//!
//! A media message goes in two steps: the file is uploaded (progress shown
//! on the bubble), then the message is sent with the uploaded file's id.
//! Once uploaded, the file's [`MediaRef`] is kept: a retry after a failed
//! send only sends again, never uploads twice. The files themselves are
//! kept (browser only) until the message is confirmed or removed.

use leptos::either::{Either, EitherOf4};
use leptos::prelude::*;
use leptos::task::spawn_local;
use teahouse_protocol::{ConversationId, ErrorCode, MediaRef, Seq, UserId};

use super::media::voice_bar;
use crate::api::media::send_media;
use crate::api::messages::send_message;
use crate::components::widgets::Avatar;
use crate::i18n::{tr, use_i18n, T};
use crate::media::{Failure, MediaKind};
use crate::state::ChatState;

/// What an unconfirmed message carries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Draft {
    /// What was typed.
    Text(String),
    /// A file to upload, then send.
    Media {
        /// How it is uploaded and shown.
        kind: MediaKind,
        /// Playing time of a clip (sent with the upload).
        duration_ms: Option<u32>,
        /// A `blob:` URL of the file, to show a picture before it is
        /// uploaded (images only).
        preview: Option<String>,
        /// The stored file, once the upload went through.
        uploaded: Option<MediaRef>,
    },
}

/// A message sent here and not yet confirmed by the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Idempotency key, reused by retries.
    pub client_id: String,
    /// What it carries.
    pub draft: Draft,
    /// Why the last attempt failed (None while in flight or waiting for
    /// the network).
    pub failed: Option<Failure>,
    /// The message it replies to and the members it mentions (text only).
    pub refs: Refs,
}

/// A text message's references, as `send_message` takes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Refs {
    /// The seq of the quoted message.
    pub reply_to: Option<Seq>,
    /// Mentioned members.
    pub mentions: Vec<UserId>,
}

/// A text message kept in the browser's storage until the server confirms
/// it: the outbox survives a reload and an offline spell.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Stored {
    /// Its conversation.
    room_id: ConversationId,
    /// Its idempotency key (a resend after a reload is stored once).
    client_id: String,
    /// What was typed.
    text: String,
    /// Reply and mentions.
    #[serde(default)]
    refs: Refs,
    /// Why the server refused it, if it did.
    #[serde(default)]
    refused: Option<ErrorCode>,
}

/// The storage key of the outbox (all conversations).
#[cfg(feature = "hydrate")]
const STORAGE_KEY: &str = "teahouse.outbox.v1";

/// The open conversation's unconfirmed sends.
#[derive(Clone, Copy)]
pub struct Outbox {
    /// The conversation they go to.
    room_id: ConversationId,
    /// Where a confirmed send's event goes (it may arrive before its push).
    state: ChatState,
    /// In the order they were sent.
    pub pending: RwSignal<Vec<Pending>>,
    /// Percent uploaded, by client id, while a file is uploading.
    pub progress: RwSignal<std::collections::HashMap<String, u32>>,
    /// True while [`Outbox::flush`] sends (one at a time, in order).
    sending: StoredValue<bool>,
    /// The files of media messages not yet confirmed, by client id (kept
    /// for a retry of a failed upload).
    #[cfg(feature = "hydrate")]
    files: StoredValue<std::collections::HashMap<String, web_sys::Blob>, LocalStorage>,
}

impl Outbox {
    /// The outbox of `room_id` (made while rendering: it reads the context).
    pub fn new(room_id: ConversationId) -> Self {
        Outbox {
            room_id,
            state: expect_context::<ChatState>(),
            pending: RwSignal::new(Vec::new()),
            progress: RwSignal::new(Default::default()),
            sending: StoredValue::new(false),
            #[cfg(feature = "hydrate")]
            files: StoredValue::new_local(Default::default()),
        }
    }

    /// Queues `text` as a new message under a fresh client id and sends it
    /// (in order after the ones before it; when the network is back, if it
    /// is down).
    pub fn send(self, text: String, refs: Refs) {
        let client_id = new_client_id();
        self.pending.update(|p| {
            p.push(Pending {
                client_id,
                draft: Draft::Text(text),
                failed: None,
                refs,
            })
        });
        self.save();
        self.flush();
    }

    /// Puts back the texts this conversation still had in the browser's
    /// storage (after a reload) and sends them. Browser only, after
    /// hydration.
    pub fn restore(self) {
        let mine: Vec<Pending> = load()
            .into_iter()
            .filter(|s| s.room_id == self.room_id)
            .filter(|s| {
                self.pending
                    .with_untracked(|p| p.iter().all(|x| x.client_id != s.client_id))
            })
            .map(|s| Pending {
                client_id: s.client_id,
                draft: Draft::Text(s.text),
                failed: s.refused.map(Failure::Code),
                refs: s.refs,
            })
            .collect();
        if !mine.is_empty() {
            self.pending.update(|p| p.extend(mine));
        }
        self.flush();
    }

    /// Writes this conversation's unconfirmed texts to the browser's
    /// storage (beside the other conversations').
    fn save(self) {
        let room = self.room_id;
        let mut all: Vec<Stored> = load().into_iter().filter(|s| s.room_id != room).collect();
        self.pending.with_untracked(|p| {
            for x in p {
                if let Draft::Text(text) = &x.draft {
                    all.push(Stored {
                        room_id: room,
                        client_id: x.client_id.clone(),
                        text: text.clone(),
                        refs: x.refs.clone(),
                        refused: match &x.failed {
                            Some(Failure::Code(code)) => Some(*code),
                            Some(Failure::Server { .. }) => Some(ErrorCode::Internal),
                            None => None,
                        },
                    });
                }
            }
        });
        store(&all);
    }

    /// Sends the waiting texts one at a time, in the order they were
    /// written, until one cannot go: exactly once each (a resend carries
    /// the same client id). A network failure leaves them waiting (tried
    /// again when the connection returns, or in 3 s); a refusal marks that
    /// one failed (with its reason and a discard button) and goes on.
    pub fn flush(self) {
        if self.sending.get_value() {
            return;
        }
        self.sending.set_value(true);
        let room_id = self.room_id;
        spawn_local(async move {
            loop {
                let next = self.pending.with_untracked(|p| {
                    p.iter().find_map(|x| match (&x.draft, &x.failed) {
                        (Draft::Text(text), None) => {
                            Some((x.client_id.clone(), text.clone(), x.refs.clone()))
                        }
                        _ => None,
                    })
                });
                let Some((client_id, text, refs)) = next else {
                    break;
                };
                let mentions = refs
                    .mentions
                    .iter()
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                let mentions = (!mentions.is_empty()).then_some(mentions);
                match send_message(room_id, client_id.clone(), text, refs.reply_to, mentions).await
                {
                    Ok(event) => {
                        self.forget(&client_id);
                        self.state.apply_event(event);
                    }
                    Err(err) if err.code == ErrorCode::Network => {
                        self.sending.set_value(false);
                        #[cfg(feature = "hydrate")]
                        leptos::prelude::set_timeout(
                            move || self.flush(),
                            std::time::Duration::from_secs(3),
                        );
                        return;
                    }
                    Err(err) => self.fail(&client_id, Failure::Code(err.code)),
                }
            }
            self.sending.set_value(false);
        });
    }

    /// Queues `file` as a new media message of `kind` and uploads it.
    #[cfg(feature = "hydrate")]
    pub fn send_file(self, file: web_sys::Blob, kind: MediaKind, duration_ms: Option<u32>) {
        let client_id = new_client_id();
        let preview = match kind {
            MediaKind::Image => web_sys::Url::create_object_url_with_blob(&file).ok(),
            MediaKind::Voice | MediaKind::Video => None,
        };
        self.files.update_value(|f| {
            f.insert(client_id.clone(), file);
        });
        self.push(
            client_id.clone(),
            Draft::Media {
                kind,
                duration_ms,
                preview,
                uploaded: None,
            },
        );
        self.deliver(client_id);
    }

    #[cfg(feature = "hydrate")]
    fn push(self, client_id: String, draft: Draft) {
        self.pending.update(|p| {
            p.push(Pending {
                client_id,
                draft,
                failed: None,
                refs: Refs::default(),
            })
        });
    }

    /// Sends a failed message again, under its own client id (a file that
    /// was uploaded is not uploaded again).
    pub fn retry(self, client_id: &str) {
        self.pending.update(|list| {
            if let Some(x) = list.iter_mut().find(|x| x.client_id == client_id) {
                x.failed = None;
            }
        });
        if self.pending.with_untracked(|p| {
            p.iter()
                .any(|x| x.client_id == client_id && matches!(x.draft, Draft::Text(_)))
        }) {
            self.save();
            self.flush();
        } else {
            self.deliver(client_id.to_owned());
        }
    }

    /// Drops a failed message (and its file).
    pub fn discard(self, client_id: &str) {
        self.forget(client_id);
    }

    /// Takes a message out of the outbox, releasing its file.
    fn forget(self, client_id: &str) {
        let mut gone = None;
        self.pending.update(|p| {
            if let Some(i) = p.iter().position(|x| x.client_id == client_id) {
                gone = Some(p.remove(i));
            }
        });
        self.progress.update(|m| {
            m.remove(client_id);
        });
        #[cfg(feature = "hydrate")]
        {
            self.files.update_value(|f| {
                f.remove(client_id);
            });
            if let Some(Pending {
                draft: Draft::Media {
                    preview: Some(url), ..
                },
                ..
            }) = &gone
            {
                let _ = web_sys::Url::revoke_object_url(url);
            }
        }
        let _ = gone;
        self.save();
    }

    fn fail(self, client_id: &str, failure: Failure) {
        self.pending.update(|p| {
            if let Some(x) = p.iter_mut().find(|x| x.client_id == client_id) {
                x.failed = Some(failure);
            }
        });
        self.save();
    }

    /// Sends (or re-sends) a pending message and resolves it.
    fn deliver(self, client_id: String) {
        let Some(draft) = self.pending.with_untracked(|p| {
            p.iter()
                .find(|x| x.client_id == client_id)
                .map(|x| x.draft.clone())
        }) else {
            return;
        };
        let room_id = self.room_id;
        spawn_local(async move {
            let sent = match draft {
                Draft::Text(text) => {
                    send_message(room_id, client_id.clone(), text, None, None).await
                }
                Draft::Media {
                    kind,
                    duration_ms,
                    uploaded,
                    ..
                } => {
                    let media = match uploaded {
                        Some(media) => media,
                        None => match self.upload(&client_id, kind, duration_ms).await {
                            Ok(media) => media,
                            Err(failure) => return self.fail(&client_id, failure),
                        },
                    };
                    send_media(room_id, client_id.clone(), media.id.to_string()).await
                }
            };
            match sent {
                Ok(event) => {
                    self.forget(&client_id);
                    self.state.apply_event(event);
                }
                Err(err) => self.fail(&client_id, Failure::Code(err.code)),
            }
        });
    }

    /// Uploads the file of a pending message, showing progress, and keeps
    /// the stored file's reference in the message.
    #[allow(unused_variables)]
    async fn upload(
        self,
        client_id: &str,
        kind: MediaKind,
        duration_ms: Option<u32>,
    ) -> Result<MediaRef, Failure> {
        #[cfg(feature = "hydrate")]
        {
            let file = self
                .files
                .with_value(|f| f.get(client_id).cloned())
                .ok_or(Failure::Code(teahouse_protocol::ErrorCode::Internal))?;
            let progress = self.progress;
            let id = client_id.to_owned();
            progress.update(|m| {
                m.insert(id.clone(), 0);
            });
            let on_progress = Box::new(move |pct| {
                progress.update(|m| {
                    m.insert(id.clone(), pct);
                })
            });
            let result =
                crate::media::on_demand::upload(file, kind, duration_ms, on_progress).await;
            progress.update(|m| {
                m.remove(client_id);
            });
            let media = result?;
            self.pending.update(|p| {
                if let Some(Pending {
                    draft: Draft::Media { uploaded, .. },
                    ..
                }) = p.iter_mut().find(|x| x.client_id == client_id)
                {
                    *uploaded = Some(media.clone());
                }
            });
            Ok(media)
        }
        #[cfg(not(feature = "hydrate"))]
        Err(Failure::Code(teahouse_protocol::ErrorCode::Internal))
    }
}

/// An unconfirmed send: its content, "uploading 40%" / "sending", or why it
/// failed with retry (and, for a file, remove) buttons.
#[component]
pub fn PendingBubble(p: Pending, outbox: Outbox) -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let me = state.me.get_value();
    let Pending {
        client_id,
        draft,
        failed,
        ..
    } = p;
    let is_failed = failed.is_some();
    let (bubble_class, content) = match draft {
        Draft::Text(text) => ("bubble", EitherOf4::A(text)),
        Draft::Media {
            kind: MediaKind::Image,
            preview,
            ..
        } => (
            "bubble bubble-image",
            EitherOf4::B(view! { <img class="pending-image" src=preview alt=tr(T::Photo)/> }),
        ),
        Draft::Media {
            kind: MediaKind::Voice,
            duration_ms,
            ..
        } => (
            "bubble bubble-voice",
            EitherOf4::C(voice_bar(duration_ms.unwrap_or(0))),
        ),
        Draft::Media {
            kind: MediaKind::Video,
            ..
        } => (
            "bubble bubble-video",
            EitherOf4::D(view! { <span class="pending-video">{tr(T::VideoTag)}</span> }),
        ),
    };
    let uploading = {
        let id = client_id.clone();
        move || outbox.progress.with(|m| m.get(&id).copied())
    };
    let state_line = match failed {
        None => Either::Left(view! {
            <span class="muted">
                {move || match uploading() {
                    Some(pct) => Either::Left(view! {
                        {i18n.t(T::Uploading)} " " {pct} "%"
                        <progress max="100" value=pct></progress>
                    }),
                    None => Either::Right(i18n.t(T::Sending)),
                }}
            </span>
        }),
        Some(failure) => {
            let code = failure.code();
            let (retry_id, discard_id) = (client_id.clone(), client_id.clone());
            Either::Right(view! {
                <span class="error-text" data-code=code>{tr(T::SendFailed)} " · " {move || failure.message(i18n.lang())}</span>
                <button type="button" class="link-button" on:click=move |_| outbox.retry(&retry_id)>{tr(T::Retry)}</button>
                <button type="button" class="link-button" on:click=move |_| outbox.discard(&discard_id)>{tr(T::Discard)}</button>
            })
        }
    };
    view! {
        <div class="msg mine pending" class:failed=is_failed data-client-id=client_id>
            <Avatar of=me.id name=me.nickname.clone() image=me.avatar.clone()/>
            <div class="msg-body">
                <div class=bubble_class>{content}</div>
                <div class="pending-state" role="status">{state_line}</div>
            </div>
        </div>
    }
}

/// The outbox as stored in the browser (empty on the server, or when
/// storage is unavailable or holds something unreadable).
fn load() -> Vec<Stored> {
    #[cfg(feature = "hydrate")]
    {
        let stored = window()
            .local_storage()
            .ok()
            .flatten()
            .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
        if let Some(json) = stored {
            return serde_json::from_str(&json).unwrap_or_default();
        }
    }
    Vec::new()
}

/// Stores the outbox in the browser (best effort: a full or disabled
/// storage only loses the reload-survival).
fn store(_all: &[Stored]) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = window().local_storage().ok().flatten() {
        let done = if _all.is_empty() {
            storage.remove_item(STORAGE_KEY)
        } else {
            match serde_json::to_string(_all) {
                Ok(json) => storage.set_item(STORAGE_KEY, &json),
                Err(_) => Ok(()),
            }
        };
        if done.is_err() {
            leptos::logging::warn!("the outbox could not be stored");
        }
    }
}

/// A fresh client id for a send: a UUIDv7, whose text sorts by creation
/// time, so the server's idempotency index grows at its end instead of
/// scattering (see migration 0002). Built from the clock and v4 randomness
/// rather than with uuid's `v7` feature, whose monotonic counter would add
/// 2 KB to the wasm.
fn new_client_id() -> String {
    let random = uuid::Uuid::new_v4().into_bytes();
    let mut tail = [0u8; 10];
    tail.copy_from_slice(&random[..10]);
    let millis = u64::try_from(crate::format::now_ms()).unwrap_or_default();
    uuid::Builder::from_unix_timestamp_millis(millis, &tail)
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::new_client_id;
    use crate::format::now_ms;

    #[test]
    fn client_ids_are_uuid_v7_and_sort_in_the_order_they_were_made() {
        let first = new_client_id();
        let made = now_ms();
        // Wait for the next millisecond (bounded: the clock moves).
        while now_ms() <= made {
            std::hint::spin_loop();
        }
        let second = new_client_id();
        assert!(first < second, "{first} then {second}");
        for id in [&first, &second] {
            let parsed = uuid::Uuid::parse_str(id).expect("a UUID");
            assert_eq!(parsed.get_version_num(), 7, "{id}");
        }
        assert_ne!(new_client_id(), new_client_id());
    }
}
