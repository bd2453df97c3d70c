//! The admin page's API keys section: every key (name, the start of its
//! secret, scope, rooms, the bot it acts as, revoked or not), a form to
//! make one — whose secret is shown once, right after — and Revoke. The
//! server checks that the caller is an admin on every call.

use leptos::prelude::*;
use teahouse_protocol::{ApiKeyInfo, ApiScope};

use crate::components::widgets::ErrorNotice;
use crate::error::AppError;
use crate::i18n::{tr, T};

/// The section.
#[component]
pub fn ApiKeysSection() -> impl IntoView {
    let keys: RwSignal<Vec<ApiKeyInfo>> = RwSignal::new(Vec::new());
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    // The secret of the key just made: shown until the page is left.
    let secret: RwSignal<Option<String>> = RwSignal::new(None);
    let name = RwSignal::new(String::new());
    let scope = RwSignal::new(ApiScope::Full.as_str().to_owned());
    let rooms = RwSignal::new(String::new());
    let bot_nickname = RwSignal::new(String::new());
    let bot_avatar_url = RwSignal::new(String::new());
    let load = move || {
        leptos::task::spawn_local(async move {
            match crate::api::api_keys::admin_api_keys().await {
                Ok(list) => keys.set(list),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| load());
    let create = move || {
        let args = (
            name.get_untracked(),
            scope.get_untracked(),
            Some(rooms.get_untracked()),
            Some(bot_nickname.get_untracked()),
            Some(bot_avatar_url.get_untracked()),
        );
        leptos::task::spawn_local(async move {
            match crate::api::api_keys::admin_create_api_key(args.0, args.1, args.2, args.3, args.4)
                .await
            {
                Ok(made) => {
                    error.set(None);
                    secret.set(Some(made.secret));
                    name.set(String::new());
                    load();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let revoke = move |id: i64| {
        leptos::task::spawn_local(async move {
            match crate::api::api_keys::admin_revoke_api_key(id).await {
                Ok(_) => {
                    error.set(None);
                    load();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section data-testid="api-keys">
            <h2>{tr(T::ApiKeys)}</h2>
            {move || error.get().map(|err| view! { <ErrorNotice err/> })}
            {move || secret.get().map(|s| view! {
                <p class="api-key-secret">{tr(T::ApiKeySecretOnce)} " " <code data-testid="api-key-secret">{s}</code></p>
            })}
            <form class="api-key-form" on:submit=move |ev| { ev.prevent_default(); create(); }>
                <label>{tr(T::ApiKeyName)}
                    <input name="name" required maxlength="40" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))/>
                </label>
                <label>{tr(T::ApiKeyScope)}
                    <select name="scope" on:change=move |ev| scope.set(event_target_value(&ev))>
                        <option value="full" selected>{tr(T::ScopeFull)}</option>
                        <option value="read_only">{tr(T::ScopeReadOnly)}</option>
                    </select>
                </label>
                <label>{tr(T::ApiKeyRooms)}
                    <input name="rooms" placeholder=tr(T::ApiKeyRoomsHint) prop:value=move || rooms.get()
                        on:input=move |ev| rooms.set(event_target_value(&ev))/>
                </label>
                <label>{tr(T::BotNickname)}
                    <input name="bot_nickname" maxlength="32" prop:value=move || bot_nickname.get()
                        on:input=move |ev| bot_nickname.set(event_target_value(&ev))/>
                </label>
                <label>{tr(T::BotAvatarUrl)}
                    <input name="bot_avatar_url" type="url" prop:value=move || bot_avatar_url.get()
                        on:input=move |ev| bot_avatar_url.set(event_target_value(&ev))/>
                </label>
                <button type="submit">{tr(T::CreateApiKey)}</button>
            </form>
            <table class="admin-table" data-testid="api-key-list">
                <tbody>
                    <For each=move || keys.get() key=|k| (k.id, k.revoked_ms) children=move |k| {
                        let id = k.id;
                        let revoked = k.revoked_ms.is_some();
                        let scope = match k.scope {
                            ApiScope::Full => T::ScopeFull,
                            ApiScope::ReadOnly => T::ScopeReadOnly,
                        };
                        let rooms = k.rooms.as_ref().map(|r| {
                            r.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(", ")
                        });
                        view! {
                            <tr data-key-name=k.name.clone() class:revoked=revoked>
                                <td>{k.name.clone()} " " <code>{format!("{}…", k.prefix)}</code></td>
                                <td>{tr(scope)}</td>
                                <td>{match rooms { Some(r) => r.into_any(), None => tr(T::AllRooms).into_any() }}</td>
                                <td>{k.bot.nickname.clone()} " " <span class="bot-mark">{tr(T::BotTag)}</span></td>
                                <td class="actions">
                                    {if revoked {
                                        view! { <span>{tr(T::Revoked)}</span> }.into_any()
                                    } else {
                                        view! { <button type="button" on:click=move |_| revoke(id)>{tr(T::Revoke)}</button> }.into_any()
                                    }}
                                </td>
                            </tr>
                        }
                    }/>
                </tbody>
            </table>
        </section>
    }
}
