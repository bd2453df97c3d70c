//! `/support`: the guest's page (also what the widget's iframe shows). No
//! account: the first visit makes a guest identity in the session and one
//! support conversation; reloads and reconnects find the same. It says
//! where the conversation stands (waiting with the place in the queue, who
//! is helping, closed), keeps the guest writing meanwhile, and takes an
//! optional name and contact.

use leptos::prelude::*;
use teahouse_protocol::{ConversationEvent, EventBody, GuestSession, SupportStatus, UserBrief};

use super::thread::{ThreadComposer, ThreadLog};
use crate::components::auth::LangToggle;
use crate::components::widgets::ErrorNotice;
use crate::error::AppError;
use crate::i18n::{tr, use_i18n, T};

/// Where the guest's conversation stands, as the status line shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    /// Waiting, assigned or closed.
    pub status: SupportStatus,
    /// Who is helping (assigned).
    pub agent: Option<UserBrief>,
    /// Place in the queue (waiting).
    pub position: Option<u32>,
}

impl Standing {
    /// What an event of the conversation changes.
    pub fn after(&mut self, ev: &ConversationEvent) {
        match &ev.body {
            EventBody::SupportAssigned { agent } => {
                self.status = SupportStatus::Assigned;
                self.agent = Some(agent.clone());
                self.position = None;
            }
            EventBody::SupportReturned { .. } | EventBody::SupportReopened => {
                self.status = SupportStatus::Waiting;
                self.agent = None;
            }
            EventBody::SupportClosed => {
                self.status = SupportStatus::Closed;
                self.agent = None;
                self.position = None;
            }
            _ => {}
        }
    }

    /// The status line in `lang`.
    pub fn line(&self, lang: crate::i18n::Lang) -> String {
        use crate::i18n::Lang::*;
        match (self.status, &self.agent, lang) {
            (SupportStatus::Assigned, Some(a), Zh) => format!("客服 {} 正在为您服务", a.nickname),
            (SupportStatus::Assigned, Some(a), En) => format!("{} is helping you", a.nickname),
            (SupportStatus::Closed, _, Zh) => "会话已结束，发送消息即可重新咨询".into(),
            (SupportStatus::Closed, _, En) => {
                "This conversation was closed; write to open it again".into()
            }
            (_, _, Zh) => match self.position {
                Some(p) if p > 1 => format!(
                    "正在排队，您前面还有 {} 位，您的消息都会保存并转给客服",
                    p - 1
                ),
                _ => "正在为您接入客服，您的消息都会保存并转给客服".into(),
            },
            (_, _, En) => match self.position {
                Some(p) if p > 1 => {
                    format!("You are number {p} in the queue; your messages are kept for the agent")
                }
                _ => "Connecting you to an agent; your messages are kept for them".into(),
            },
        }
    }
}

/// The guest's page.
#[component]
pub fn SupportPage() -> impl IntoView {
    let session: RwSignal<Option<GuestSession>> = RwSignal::new(None);
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            let page = crate::nav::query_param("page");
            match crate::api::support::support_start(None, None, page).await {
                Ok(s) => session.set(Some(s)),
                Err(e) => error.set(Some(e)),
            }
        });
    });
    view! {
        <main class="desk-page support-page">
            <header class="desk-head">
                <h1>{tr(T::SupportTitle)}</h1>
                <LangToggle/>
            </header>
            {move || error.get().map(|err| view! { <ErrorNotice err/> })}
            {move || match session.get() {
                Some(s) => view! { <GuestThread session=s/> }.into_any(),
                None => view! { <p class="loading">{tr(T::Loading)}</p> }.into_any(),
            }}
        </main>
    }
}

#[component]
fn GuestThread(session: GuestSession) -> impl IntoView {
    let i18n = use_i18n();
    let me = session.guest.user.id;
    #[cfg(feature = "hydrate")]
    let room = session.conversation.id;
    let events: RwSignal<Vec<ConversationEvent>> = RwSignal::new(Vec::new());
    let standing = RwSignal::new(Standing {
        status: session.conversation.status,
        agent: session.conversation.agent.clone(),
        position: session.conversation.position,
    });
    let failed: RwSignal<Option<AppError>> = RwSignal::new(None);
    #[cfg(feature = "hydrate")]
    {
        use teahouse_protocol::ServerFrame;
        let fetch = move || {
            leptos::task::spawn_local(async move {
                let after = events.with_untracked(|l| l.last().map(|e| e.seq));
                let page = match after {
                    Some(after) => {
                        crate::api::support::support_history(None, Some(after), Some(200)).await
                    }
                    None => crate::api::support::support_history(None, None, Some(200)).await,
                };
                if let Ok(page) = page {
                    standing.update(|s| page.iter().for_each(|e| s.after(e)));
                    events.update(|l| super::thread::merge(l, page));
                }
                if let Ok(now) = crate::api::support::support_state().await {
                    standing.update(|s| s.position = now.conversation.position);
                }
            });
        };
        super::socket::keep_open(
            move |frame| match frame {
                ServerFrame::Event { event } if event.conversation_id == room => {
                    standing.update(|s| s.after(&event));
                    events.update(|l| super::thread::merge(l, [event]));
                }
                ServerFrame::QueuePosition {
                    conversation_id,
                    position,
                } if conversation_id == room => standing.update(|s| s.position = Some(position)),
                _ => {}
            },
            fetch,
        );
    }
    let on_send = Callback::new(move |out: super::thread::Outgoing| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            use super::thread::{new_client_id, Outgoing};
            let sent = match out {
                Outgoing::Text(text) => {
                    crate::api::support::support_send(new_client_id(), text).await
                }
                Outgoing::Picture(file) => {
                    match crate::media::upload::upload(
                        &file,
                        crate::media::MediaKind::Image,
                        None,
                        |_| {},
                    )
                    .await
                    {
                        Ok(media) => {
                            crate::api::support::support_send_media(new_client_id(), media.id.0)
                                .await
                        }
                        Err(f) => Err(super::thread::failure_error(f)),
                    }
                }
            };
            match sent {
                Ok(ev) => {
                    failed.set(None);
                    events.update(|l| super::thread::merge(l, [ev]));
                }
                Err(e) => failed.set(Some(e)),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = out;
    });
    view! {
        <p class="desk-status" data-testid="support-status" data-status=move || standing.get().status.as_str()>
            {move || standing.get().line(i18n.lang())}
        </p>
        <GuestDetails name=session.guest.name.clone() contact=session.guest.contact.clone()/>
        <ThreadLog events me/>
        {move || failed.get().map(|err| view! { <ErrorNotice err/> })}
        <ThreadComposer on_send disabled=Signal::derive(|| false)/>
    }
}

/// The optional name and contact the guest may give.
#[component]
fn GuestDetails(name: String, contact: String) -> impl IntoView {
    let name = RwSignal::new(name);
    let contact = RwSignal::new(contact);
    let saved = RwSignal::new(false);
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (n, c) = (name.get_untracked(), contact.get_untracked());
        leptos::task::spawn_local(async move {
            match crate::api::support::support_details(n, c).await {
                Ok(_) => {
                    saved.set(true);
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <details class="guest-details">
            <summary>{tr(T::GuestDetails)}</summary>
            <form on:submit=save>
                <input placeholder=tr(T::GuestName) prop:value=move || name.get()
                    on:input=move |ev| { saved.set(false); name.set(event_target_value(&ev)) }/>
                <input placeholder=tr(T::GuestContact) prop:value=move || contact.get()
                    on:input=move |ev| { saved.set(false); contact.set(event_target_value(&ev)) }/>
                <button type="submit">{tr(T::Save)}</button>
                <Show when=move || saved.get()><span class="saved">{tr(T::Saved)}</span></Show>
                {move || error.get().map(|err| view! { <ErrorNotice err/> })}
            </form>
        </details>
    }
}
