//! `/desk`: the agent console. The queue (accept), my open conversations
//! with unread badges, and the open one: the guest's details (generated
//! name, given name and contact, first page, browser), its whole log (the
//! guest's earlier conversations included), a composer, transfer and close.
//! Kept live by the socket: the `desk_changed` hint refetches the lists,
//! events of my conversations land in their log or badge.

use std::collections::HashMap;

use leptos::prelude::*;
use teahouse_protocol::{
    AgentLoad, ConversationEvent, ConversationId, EventBody, SupportView, UserId,
};

use super::thread::{merge, Outgoing, ThreadComposer, ThreadLog};
use crate::components::widgets::ErrorNotice;
use crate::error::AppError;
use crate::i18n::{tr, use_i18n, T};

/// What the console shows, shared by its parts.
#[derive(Clone, Copy)]
struct Console {
    me: UserId,
    queue: RwSignal<Vec<SupportView>>,
    mine: RwSignal<Vec<SupportView>>,
    agents: RwSignal<Vec<AgentLoad>>,
    open: RwSignal<Option<ConversationId>>,
    detail: RwSignal<Option<SupportView>>,
    events: RwSignal<Vec<ConversationEvent>>,
    unread: RwSignal<HashMap<ConversationId, u32>>,
    error: RwSignal<Option<AppError>>,
}

impl Console {
    fn refresh(self) {
        leptos::task::spawn_local(async move {
            match crate::api::desk::desk_queue().await {
                Ok(q) => self.queue.set(q),
                Err(e) => self.error.set(Some(e)),
            }
            if let Ok(m) = crate::api::desk::desk_mine().await {
                let still_open = self.open.get_untracked();
                self.mine.set(m);
                if let Some(id) = still_open {
                    self.load(id);
                }
            }
            if let Ok(a) = crate::api::desk::desk_agents().await {
                self.agents.set(a);
            }
        });
    }

    fn load(self, id: ConversationId) {
        leptos::task::spawn_local(async move {
            match crate::api::desk::desk_detail(id).await {
                Ok(d) => self.detail.set(Some(d)),
                Err(e) => {
                    self.detail.set(None);
                    self.open.set(None);
                    self.error.set(Some(e));
                    return;
                }
            }
            if let Ok(page) = crate::api::desk::desk_history(id, None, None, Some(200)).await {
                if self.open.get_untracked() == Some(id) {
                    self.events.update(|l| merge(l, page));
                }
            }
        });
    }

    fn select(self, id: ConversationId) {
        if self.open.get_untracked() != Some(id) {
            self.events.set(Vec::new());
        }
        self.open.set(Some(id));
        self.unread.update(|u| {
            u.remove(&id);
        });
        self.load(id);
    }

    #[allow(dead_code)]
    fn on_event(self, event: ConversationEvent) {
        let id = event.conversation_id;
        let changes_desk = matches!(
            event.body,
            EventBody::SupportAssigned { .. }
                | EventBody::SupportReturned { .. }
                | EventBody::SupportClosed
                | EventBody::SupportReopened
        );
        if self.open.get_untracked() == Some(id) {
            self.events.update(|l| merge(l, [event]));
        } else if matches!(event.body, EventBody::Message(_)) && event.actor.id != self.me {
            self.unread.update(|u| *u.entry(id).or_default() += 1);
        }
        if changes_desk {
            self.refresh();
        }
    }
}

fn guest_label(v: &SupportView) -> String {
    if v.guest.name.is_empty() {
        v.guest.user.nickname.clone()
    } else {
        format!("{} · {}", v.guest.name, v.guest.user.nickname)
    }
}

/// The console page.
#[component]
pub fn DeskPage() -> impl IntoView {
    let me: RwSignal<Option<teahouse_protocol::UserWithRole>> = RwSignal::new(None);
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            match crate::api::admin::my_role().await {
                Ok(r) if r.role.is_staff() => me.set(Some(r)),
                Ok(_) => error.set(Some(AppError::new(teahouse_protocol::ErrorCode::StaffOnly))),
                Err(e) => {
                    if e.code == teahouse_protocol::ErrorCode::Unauthenticated {
                        crate::nav::load_page("/login");
                    }
                    error.set(Some(e))
                }
            }
        });
    });
    view! {
        <main class="desk-page console-page">
            <header class="desk-head">
                <h1>{tr(T::DeskTitle)}</h1>
                <nav class="desk-links"><a href="/">{tr(T::Chats)}</a> " · " <a href="/admin">{tr(T::AdminTitle)}</a></nav>
            </header>
            {move || error.get().map(|err| view! { <ErrorNotice err/> })}
            {move || me.get().map(|r| view! { <ConsoleBody me=r.user.id/> })}
        </main>
    }
}

#[component]
fn ConsoleBody(me: UserId) -> impl IntoView {
    let c = Console {
        me,
        queue: RwSignal::new(Vec::new()),
        mine: RwSignal::new(Vec::new()),
        agents: RwSignal::new(Vec::new()),
        open: RwSignal::new(None),
        detail: RwSignal::new(None),
        events: RwSignal::new(Vec::new()),
        unread: RwSignal::new(HashMap::new()),
        error: RwSignal::new(None),
    };
    #[cfg(feature = "hydrate")]
    super::socket::keep_open(
        move |frame| match frame {
            teahouse_protocol::ServerFrame::DeskChanged => c.refresh(),
            teahouse_protocol::ServerFrame::Event { event } => c.on_event(event),
            _ => {}
        },
        move || c.refresh(),
    );
    let accept = move |id: ConversationId| {
        leptos::task::spawn_local(async move {
            match crate::api::desk::desk_accept(id).await {
                Ok(_) => {
                    c.refresh();
                    c.select(id);
                }
                Err(e) => c.error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="console">
            <aside class="console-lists">
                <h2>{tr(T::DeskQueue)} " (" {move || c.queue.get().len()} ")"</h2>
                <ul class="desk-list" data-testid="desk-queue">
                    <For each=move || c.queue.get() key=|v| (v.id, v.position) children=move |v| {
                        let id = v.id;
                        let label = guest_label(&v);
                        view! {
                            <li>
                                <button type="button" class="desk-item" on:click=move |_| c.select(id)>
                                    <span>{label}</span>
                                    <small>"#" {v.position.unwrap_or(0)}</small>
                                </button>
                                <button type="button" class="primary" on:click=move |_| accept(id)>{tr(T::DeskAccept)}</button>
                            </li>
                        }
                    }/>
                </ul>
                <h2>{tr(T::DeskMine)}</h2>
                <ul class="desk-list" data-testid="desk-mine">
                    <For each=move || c.mine.get() key=|v| v.id children=move |v| {
                        let id = v.id;
                        let label = guest_label(&v);
                        let badge = move || c.unread.with(|u| u.get(&id).copied().unwrap_or(0));
                        view! {
                            <li>
                                <button type="button" class="desk-item" class:active=move || c.open.get() == Some(id)
                                    on:click=move |_| c.select(id)>
                                    <span>{label}</span>
                                    <Show when=move || { badge() > 0 }>
                                        <span class="badge" data-testid="desk-unread">{badge}</span>
                                    </Show>
                                </button>
                            </li>
                        }
                    }/>
                </ul>
            </aside>
            <section class="console-open">
                {move || c.error.get().map(|err| view! { <ErrorNotice err/> })}
                {move || match c.detail.get() {
                    Some(v) => view! { <OpenConversation c view=v/> }.into_any(),
                    None => view! { <p class="placeholder">{tr(T::PickAConversation)}</p> }.into_any(),
                }}
            </section>
        </div>
    }
}

#[component]
fn OpenConversation(c: Console, view: SupportView) -> impl IntoView {
    let i18n = use_i18n();
    let id = view.id;
    let mine = view.agent.as_ref().map(|a| a.id) == Some(c.me);
    let g = view.guest.clone();
    let to = RwSignal::new(String::new());
    let on_send = Callback::new(move |out: Outgoing| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            use super::thread::new_client_id;
            let sent = match out {
                Outgoing::Text(text) => {
                    crate::api::messages::send_message(id, new_client_id(), text, None, None).await
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
                            crate::api::media::send_media(id, new_client_id(), media.id.0).await
                        }
                        Err(f) => Err(super::thread::failure_error(f)),
                    }
                }
            };
            match sent {
                Ok(ev) => c.events.update(|l| merge(l, [ev])),
                Err(e) => c.error.set(Some(e)),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = out;
    });
    let close = move |_| {
        leptos::task::spawn_local(async move {
            match crate::api::desk::desk_close(id).await {
                Ok(_) => {
                    c.open.set(None);
                    c.detail.set(None);
                    c.refresh();
                }
                Err(e) => c.error.set(Some(e)),
            }
        });
    };
    let transfer = move |_| {
        let Ok(agent) = to.get_untracked().parse::<UserId>() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match crate::api::desk::desk_transfer(id, agent).await {
                Ok(_) => {
                    c.open.set(None);
                    c.detail.set(None);
                    c.refresh();
                }
                Err(e) => c.error.set(Some(e)),
            }
        });
    };
    let targets = move || {
        c.agents
            .get()
            .into_iter()
            .filter(|a| a.online && a.user.id != c.me)
            .collect::<Vec<_>>()
    };
    let tz = use_context::<crate::TzOffset>()
        .map(|t| t.0)
        .unwrap_or(crate::format::DEFAULT_OFFSET_MIN);
    let created = g.created_ms;
    let first_visit =
        move || crate::format::time_label(created, crate::format::now_ms(), tz, i18n.lang());
    view! {
        <div class="guest-card" data-testid="guest-card">
            <strong>{g.user.nickname.clone()}</strong>
            <dl>
                <dt>{tr(T::GuestName)}</dt><dd>{g.name.clone()}</dd>
                <dt>{tr(T::GuestContact)}</dt><dd>{g.contact.clone()}</dd>
                <dt>{tr(T::FirstPage)}</dt><dd class="wrap">{g.first_page.clone()}</dd>
                <dt>{tr(T::Browser)}</dt><dd class="wrap">{g.browser.clone()}</dd>
                <dt>{tr(T::FirstVisit)}</dt><dd>{first_visit}</dd>
            </dl>
        </div>
        <ThreadLog events=c.events me=c.me/>
        <Show when=move || mine fallback=move || view! {
            <p class="desk-status">{move || match i18n.lang() {
                crate::i18n::Lang::Zh => "接入后即可回复",
                crate::i18n::Lang::En => "Accept it to reply",
            }}</p>
        }>
            <ThreadComposer on_send disabled=Signal::derive(|| false)/>
            <div class="desk-actions">
                <select aria-label=tr(T::DeskTransfer) on:change=move |ev| to.set(event_target_value(&ev))>
                    <option value="">{tr(T::DeskTransferTo)}</option>
                    <For each=targets key=|a| a.user.id children=target_option/>
                </select>
                <button type="button" on:click=transfer>{tr(T::DeskTransfer)}</button>
                <button type="button" class="danger" on:click=close>{tr(T::DeskClose)}</button>
            </div>
        </Show>
    }
}

/// One transfer target.
fn target_option(a: AgentLoad) -> impl IntoView {
    let value = a.user.id.to_string();
    let label = format!("{} ({})", a.user.nickname, a.open);
    view! { <option value=value>{label}</option> }
}
