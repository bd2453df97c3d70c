//! Sends the server has not confirmed yet. A typed message is shown at once
//! as a "sending" bubble; it leaves the outbox when the server answers with
//! the stored event (shown from then on as a row of the log), or stays as a
//! failed bubble with the reason and a retry button. A retry reuses the
//! message's client id, so the server can never store it twice.

use leptos::prelude::*;
use leptos::task::spawn_local;
use teahouse_protocol::{ConversationId, ErrorCode};

use crate::api::messages::send_message;
use crate::components::widgets::Avatar;
use crate::i18n::{use_i18n, T};
use crate::state::ChatState;

/// A message typed here and not yet confirmed by the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Idempotency key, reused by retries.
    pub client_id: String,
    /// What was typed.
    pub text: String,
    /// Why the last attempt failed (None while in flight).
    pub failed: Option<ErrorCode>,
}

/// The open conversation's unconfirmed sends.
#[derive(Clone, Copy)]
pub struct Outbox {
    /// The conversation they go to.
    room_id: ConversationId,
    /// Where a confirmed send's event goes (it may arrive before its push).
    state: ChatState,
    /// In the order they were typed.
    pub pending: RwSignal<Vec<Pending>>,
}

impl Outbox {
    /// The outbox of `room_id` (made while rendering: it reads the context).
    pub fn new(room_id: ConversationId) -> Self {
        Outbox {
            room_id,
            state: expect_context::<ChatState>(),
            pending: RwSignal::new(Vec::new()),
        }
    }

    /// Queues `text` as a new message under a fresh client id and sends it.
    pub fn send(self, text: String) {
        let client_id = new_client_id();
        self.pending.update(|p| {
            p.push(Pending {
                client_id: client_id.clone(),
                text: text.clone(),
                failed: None,
            })
        });
        self.deliver(client_id, text);
    }

    /// Sends a failed message again, under its own client id.
    pub fn retry(self, p: &Pending) {
        self.pending.update(|list| {
            if let Some(x) = list.iter_mut().find(|x| x.client_id == p.client_id) {
                x.failed = None;
            }
        });
        self.deliver(p.client_id.clone(), p.text.clone());
    }

    /// Sends (or re-sends) a pending message and resolves it.
    fn deliver(self, client_id: String, text: String) {
        let Outbox {
            room_id,
            state,
            pending,
        } = self;
        spawn_local(async move {
            match send_message(room_id, client_id.clone(), text, None, None).await {
                Ok(event) => {
                    pending.update(|p| p.retain(|x| x.client_id != client_id));
                    state.apply_event(event);
                }
                Err(err) => pending.update(|p| {
                    if let Some(x) = p.iter_mut().find(|x| x.client_id == client_id) {
                        x.failed = Some(err.code);
                    }
                }),
            }
        });
    }
}

/// An unconfirmed send: "sending", or why it failed and a retry button.
#[component]
pub fn PendingBubble(p: Pending, outbox: Outbox) -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let me = state.me.get_value();
    let failed = p.failed;
    let text = p.text.clone();
    let retry = move |_| outbox.retry(&p);
    view! {
        <div class="msg mine pending" class:failed=failed.is_some()>
            <Avatar of=me.id name=me.nickname.clone()/>
            <div class="msg-body">
                <div class="bubble">{text}</div>
                <div class="pending-state" role="status">
                    {match failed {
                        None => view! { <span class="muted">{move || i18n.t(T::Sending)}</span> }.into_any(),
                        Some(code) => view! {
                            <span class="error-text">{move || i18n.t(T::SendFailed)} " · " {move || code.message(i18n.lang())}</span>
                            <button type="button" class="link-button" on:click=retry>{move || i18n.t(T::Retry)}</button>
                        }.into_any(),
                    }}
                </div>
            </div>
        </div>
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
