//! "Me": the signed-in user's profile panel: change the nickname, change
//! the password (other sessions are signed out), language, sign out.

use leptos::prelude::*;
use leptos::task::spawn_local;
use teahouse_protocol::limits;

use crate::api::profile::{change_nickname, change_password};
use crate::components::auth::LangToggle;
use crate::components::widgets::{Avatar, ErrorNotice};
use crate::error::AppError;
use crate::i18n::{use_i18n, T};
use crate::state::ChatState;

/// The field error of `error` for `field`, in the current language.
fn field_error(error: RwSignal<Option<AppError>>, field: &'static str) -> Option<String> {
    let lang = use_i18n().lang();
    error
        .get()
        .filter(|e| e.is_for(field))
        .map(|e| e.message(lang).to_owned())
}

#[component]
pub fn MePanel(on_logout: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let me = state.me.get_value();
    view! {
        <section class="me-panel" aria-labelledby="me-title">
            <div class="me-card">
                <Avatar of=me.id name=me.nickname.clone() large=true/>
                <div>
                    <h2 id="me-title" class="me-nickname">{move || state.me_nickname.get()}</h2>
                    <p class="me-username">{format!("@{}", me.username)}</p>
                </div>
            </div>
            <NicknameForm/>
            <PasswordForm/>
            <div class="me-actions">
                <LangToggle/>
                <button type="button" class="danger" on:click=move |_| on_logout.run(())>{move || i18n.t(T::Logout)}</button>
            </div>
        </section>
    }
}

#[component]
fn NicknameForm() -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let nickname = RwSignal::new(state.me_nickname.get_untracked());
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let saved = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        saved.set(false);
        spawn_local(async move {
            match change_nickname(nickname.get_untracked()).await {
                Ok(user) => {
                    error.set(None);
                    nickname.set(user.nickname.clone());
                    state.apply_profile(user);
                    saved.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="me-form" on:submit=on_submit>
            <div class="field">
                <label for="me-nickname">{move || i18n.t(T::Nickname)}</label>
                <input
                    id="me-nickname"
                    name="nickname"
                    maxlength=limits::NICKNAME_MAX
                    required
                    prop:value=move || nickname.get()
                    on:input=move |ev| nickname.set(event_target_value(&ev))
                    aria-describedby="me-nickname-error"
                />
                <p class="field-error" id="me-nickname-error" role="alert">{move || field_error(error, "nickname")}</p>
            </div>
            {move || error.get().filter(|e| e.field.is_none()).map(|err| view! { <ErrorNotice err/> })}
            <button type="submit" class="primary" disabled=move || busy.get()>{move || i18n.t(T::Save)}</button>
            <Show when=move || saved.get()>
                <span class="saved" role="status">{move || i18n.t(T::Saved)}</span>
            </Show>
        </form>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let i18n = use_i18n();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let saved = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        saved.set(false);
        spawn_local(async move {
            match change_password(current.get_untracked(), new.get_untracked()).await {
                Ok(()) => {
                    error.set(None);
                    current.set(String::new());
                    new.set(String::new());
                    saved.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="me-form" on:submit=on_submit>
            <div class="field">
                <label for="me-current-password">{move || i18n.t(T::CurrentPassword)}</label>
                <input
                    id="me-current-password"
                    name="current_password"
                    type="password"
                    autocomplete="current-password"
                    required
                    prop:value=move || current.get()
                    on:input=move |ev| current.set(event_target_value(&ev))
                    aria-describedby="me-current-password-error"
                />
                <p class="field-error" id="me-current-password-error" role="alert">{move || field_error(error, "current_password")}</p>
            </div>
            <div class="field">
                <label for="me-new-password">{move || i18n.t(T::NewPassword)}</label>
                <input
                    id="me-new-password"
                    name="new_password"
                    type="password"
                    autocomplete="new-password"
                    required
                    prop:value=move || new.get()
                    on:input=move |ev| new.set(event_target_value(&ev))
                    placeholder=move || i18n.t(T::PasswordHint)
                    aria-describedby="me-new-password-error"
                />
                <p class="field-error" id="me-new-password-error" role="alert">{move || field_error(error, "password")}</p>
            </div>
            {move || error.get().filter(|e| e.field.is_none()).map(|err| view! { <ErrorNotice err/> })}
            <button type="submit" class="primary" disabled=move || busy.get()>{move || i18n.t(T::ChangePassword)}</button>
            <Show when=move || saved.get()>
                <span class="saved" role="status">{move || i18n.t(T::PasswordChanged)}</span>
            </Show>
        </form>
    }
}
