//! The admin page's webhooks section: register an endpoint (URL and event
//! types; its signing secret is shown once, right after), every endpoint
//! with its state, a notice when one was disabled for failing too long,
//! enable / disable / delete, and an endpoint's recent deliveries.
//! Everything is checked on the server (admins only).

use leptos::prelude::*;
use teahouse_protocol::{DeliveryView, WebhookCreated, WebhookEvent, WebhookView};

use crate::components::widgets::ErrorNotice;
use crate::error::AppError;
use crate::i18n::{tr, use_i18n, T};

/// The section.
#[component]
pub fn WebhooksSection() -> impl IntoView {
    let hooks: RwSignal<Vec<WebhookView>> = RwSignal::new(Vec::new());
    let created: RwSignal<Option<WebhookCreated>> = RwSignal::new(None);
    let deliveries: RwSignal<Option<(i64, Vec<DeliveryView>)>> = RwSignal::new(None);
    let url = RwSignal::new(String::new());
    let picked: RwSignal<Vec<&'static str>> =
        RwSignal::new(vec![WebhookEvent::MessageStored.as_str()]);
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let load = move || {
        leptos::task::spawn_local(async move {
            match crate::api::webhooks::admin_webhooks().await {
                Ok(list) => hooks.set(list),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| load());
    let add = move || {
        let (u, events) = (url.get_untracked(), picked.get_untracked().join(","));
        leptos::task::spawn_local(async move {
            match crate::api::webhooks::admin_create_webhook(u, events).await {
                Ok(c) => {
                    error.set(None);
                    url.set(String::new());
                    created.set(Some(c));
                    load();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let show_deliveries = move |id: i64| {
        leptos::task::spawn_local(async move {
            match crate::api::webhooks::admin_webhook_deliveries(id).await {
                Ok(list) => deliveries.set(Some((id, list))),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let set_enabled = move |id: i64, enabled: bool| {
        leptos::task::spawn_local(async move {
            match crate::api::webhooks::admin_set_webhook_enabled(id, enabled.to_string()).await {
                Ok(_) => load(),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let delete = move |id: i64| {
        leptos::task::spawn_local(async move {
            match crate::api::webhooks::admin_delete_webhook(id).await {
                Ok(()) => {
                    deliveries.update(|d| {
                        if d.as_ref().is_some_and(|(shown, _)| *shown == id) {
                            *d = None;
                        }
                    });
                    load();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let any_failed = move || {
        hooks.with(|h| {
            h.iter()
                .any(|w| !w.enabled && w.disabled_reason.as_deref() == Some("failing"))
        })
    };
    view! {
        <section data-testid="admin-webhooks">
            <h2>{tr(T::Webhooks)}</h2>
            <Show when=any_failed>
                <p class="error-notice" role="alert" data-testid="webhook-failing-notice">{tr(T::WebhookFailingNotice)}</p>
            </Show>
            {move || error.get().map(|err| view! { <ErrorNotice err/> })}
            <form class="admin-search" on:submit=move |ev| { ev.prevent_default(); add(); }>
                <input type="url" placeholder=tr(T::WebhookUrl) aria-label=tr(T::WebhookUrl) prop:value=move || url.get()
                    on:input=move |ev| url.set(event_target_value(&ev))/>
                <button type="submit">{tr(T::WebhookAdd)}</button>
            </form>
            <fieldset class="webhook-events">
                <legend>{tr(T::WebhookEvents)}</legend>
                {WebhookEvent::ALL.into_iter().map(|e| {
                    let name = e.as_str();
                    view! {
                        <label>
                            <input type="checkbox" value=name prop:checked=move || picked.with(|p| p.contains(&name))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    picked.update(|p| {
                                        p.retain(|n| *n != name);
                                        if on { p.push(name) }
                                    });
                                }/>
                            " " {name}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            {move || created.get().map(|c| view! {
                <p class="webhook-secret" data-testid="webhook-secret">
                    {tr(T::WebhookSecretOnce)} " " <code>{c.secret}</code>
                </p>
            })}
            <table class="admin-table" data-testid="webhooks">
                <tbody>
                    <For each=move || hooks.get() key=|w| (w.id, w.enabled, w.failing_since_ms) children=move |w| {
                        let id = w.id;
                        let enabled = w.enabled;
                        view! {
                            <tr data-webhook=id>
                                <td><code>{w.url.clone()}</code><br/><small>{w.events.join(", ")}</small></td>
                                <td class="role">
                                    {if enabled { tr(T::WebhookEnabled)() } else { tr(T::WebhookDisabled)() }}
                                    {w.failing_since_ms.map(|at| view! { <br/><small>{tr(T::WebhookFailingSince)} " " <When at/></small> })}
                                </td>
                                <td class="actions">
                                    <button type="button" on:click=move |_| show_deliveries(id)>{tr(T::WebhookDeliveries)}</button>
                                    <button type="button" on:click=move |_| set_enabled(id, !enabled)>
                                        {if enabled { tr(T::WebhookDisable)() } else { tr(T::WebhookEnable)() }}
                                    </button>
                                    <button type="button" on:click=move |_| delete(id)>{tr(T::WebhookDelete)}</button>
                                </td>
                            </tr>
                        }
                    }/>
                </tbody>
            </table>
            {move || deliveries.get().map(|(id, list)| view! {
                <h3>{tr(T::WebhookDeliveries)} {format!(" #{id}")}</h3>
                <Deliveries list/>
            })}
        </section>
    }
}

/// An endpoint's recent attempts, newest first.
#[component]
fn Deliveries(list: Vec<DeliveryView>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p>{tr(T::WebhookNoDeliveries)}</p> }.into_any();
    }
    view! {
        <table class="admin-table" data-testid="webhook-deliveries">
            <tbody>
                {list.into_iter().map(|d| {
                    let ok = d.error.is_none();
                    view! {
                        <tr class:failed=!ok>
                            <td><When at=d.at_ms/></td>
                            <td>{d.event_type} " · " <code>{d.delivery_id}</code> {format!(" #{}", d.attempt)}</td>
                            <td>{match d.error {
                                None => tr(T::WebhookDelivered)().to_owned(),
                                Some(e) => e,
                            }}</td>
                            <td>{format!("{} ms", d.duration_ms)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// A moment, in the viewer's time zone and language.
#[component]
fn When(at: i64) -> impl IntoView {
    let i18n = use_i18n();
    let tz = use_context::<crate::TzOffset>()
        .map(|t| t.0)
        .unwrap_or(crate::format::DEFAULT_OFFSET_MIN);
    move || crate::format::time_label(at, crate::format::now_ms(), tz, i18n.lang())
}
