//! `/admin`: the admin page. Find accounts and grant or revoke agent and
//! admin (checked on the server: others get `admin_only`), and the desk at
//! a glance: every agent's load and whether they are online, and the queue,
//! kept current by the socket's `desk_changed` hint.

use leptos::prelude::*;
use teahouse_protocol::{DeskOverview, UserId, UserRole, UserWithRole};

use crate::components::widgets::ErrorNotice;
use crate::error::AppError;
use crate::i18n::{tr, T};

fn role_label(role: UserRole) -> T {
    match role {
        UserRole::Admin => T::RoleAdmin,
        UserRole::Agent => T::RoleAgent,
        _ => T::RoleUser,
    }
}

/// The admin page.
#[component]
pub fn AdminPage() -> impl IntoView {
    let accounts: RwSignal<Vec<UserWithRole>> = RwSignal::new(Vec::new());
    let overview: RwSignal<Option<DeskOverview>> = RwSignal::new(None);
    let query = RwSignal::new(String::new());
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let search = move || {
        let q = query.get_untracked();
        leptos::task::spawn_local(async move {
            match crate::api::admin::admin_accounts(Some(q)).await {
                Ok(list) => {
                    error.set(None);
                    accounts.set(list)
                }
                Err(e) => {
                    if e.code == teahouse_protocol::ErrorCode::Unauthenticated {
                        crate::nav::load_page("/login");
                    }
                    error.set(Some(e))
                }
            }
        });
    };
    let load_overview = move || {
        leptos::task::spawn_local(async move {
            if let Ok(o) = crate::api::desk::desk_overview().await {
                overview.set(Some(o));
            }
        });
    };
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        search();
        super::socket::keep_open(
            move |frame| {
                if frame == teahouse_protocol::ServerFrame::DeskChanged {
                    load_overview();
                }
            },
            load_overview,
        );
    });
    let set_role = move |user: UserId, role: &'static str| {
        leptos::task::spawn_local(async move {
            match crate::api::admin::admin_set_role(user, role.to_owned()).await {
                Ok(_) => {
                    error.set(None);
                    search();
                    load_overview();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <main class="desk-page admin-page">
            <header class="desk-head">
                <h1>{tr(T::AdminTitle)}</h1>
                <nav class="desk-links"><a href="/">{tr(T::Chats)}</a> " · " <a href="/desk">{tr(T::DeskTitle)}</a></nav>
            </header>
            {move || error.get().map(|err| view! { <ErrorNotice err/> })}
            <section>
                <h2>{tr(T::Accounts)}</h2>
                <form class="admin-search" on:submit=move |ev| { ev.prevent_default(); search(); }>
                    <input type="search" placeholder=tr(T::SearchContacts) prop:value=move || query.get()
                        on:input=move |ev| query.set(event_target_value(&ev))/>
                    <button type="submit">{tr(T::Search)}</button>
                </form>
                <table class="admin-table" data-testid="admin-accounts">
                    <tbody>
                        <For each=move || accounts.get() key=|a| (a.user.id, a.role) children=move |a| {
                            let id = a.user.id;
                            view! {
                                <tr data-username=a.user.username.clone()>
                                    <td>{a.user.nickname.clone()} " (" {a.user.username.clone()} ")"</td>
                                    <td class="role">{tr(role_label(a.role))}</td>
                                    <td class="actions">
                                        <button type="button" prop:disabled=a.role == UserRole::User on:click=move |_| set_role(id, "user")>{tr(T::RoleUser)}</button>
                                        <button type="button" prop:disabled=a.role == UserRole::Agent on:click=move |_| set_role(id, "agent")>{tr(T::RoleAgent)}</button>
                                        <button type="button" prop:disabled=a.role == UserRole::Admin on:click=move |_| set_role(id, "admin")>{tr(T::RoleAdmin)}</button>
                                    </td>
                                </tr>
                            }
                        }/>
                    </tbody>
                </table>
            </section>
            <section>
                <h2>{tr(T::AgentsLoad)}</h2>
                {move || overview.get().map(|o| {
                    let max = o.max_per_agent;
                    view! {
                        <table class="admin-table" data-testid="agents-load">
                            <tbody>
                                {o.agents.into_iter().map(|a| view! {
                                    <tr>
                                        <td>{a.user.nickname}</td>
                                        <td>{if a.online { tr(T::Online)() } else { tr(T::Offline)() }}</td>
                                        <td>{format!("{}/{}", a.open, max)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <h2>{tr(T::DeskQueue)} " (" {o.queue.len()} ")"</h2>
                        <ul class="desk-list">
                            {o.queue.into_iter().map(|v| view! {
                                <li>{format!("#{} {}", v.position.unwrap_or(0), v.guest.user.nickname)}</li>
                            }).collect_view()}
                        </ul>
                    }
                })}
            </section>
            <crate::components::admin::webhooks::WebhooksSection/>
            <crate::components::admin::api_keys::ApiKeysSection/>
        </main>
    }
}
