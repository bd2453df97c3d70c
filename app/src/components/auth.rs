//! Log-in and sign-up pages. Both are `ActionForm`s posting to their server
//! function, so they work before hydration too; errors show next to the field
//! they concern.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::auth::{Login, Register};
use crate::error::AppError;
use crate::i18n::{use_i18n, T};
use teahouse_protocol::limits;

/// The message for `field`, if the last submission failed on it.
fn field_error(
    err: Signal<Option<AppError>>,
    field: &'static str,
) -> impl Fn() -> Option<String> + Copy {
    let i18n = use_i18n();
    move || {
        err.get()
            .filter(|e| e.is_for(field))
            .map(|e| e.message(i18n.lang()).to_owned())
    }
}

/// Errors not tied to a field (network, rate limit…).
fn form_error(err: Signal<Option<AppError>>) -> impl Fn() -> Option<String> + Copy {
    let i18n = use_i18n();
    move || {
        err.get()
            .filter(|e| e.field.is_none())
            .map(|e| e.message(i18n.lang()).to_owned())
    }
}

#[component]
fn Field(
    id: &'static str,
    label: T,
    #[prop(default = "text")] kind: &'static str,
    autocomplete: &'static str,
    maxlength: usize,
    #[prop(optional)] hint: Option<T>,
    error: impl Fn() -> Option<String> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let err_id = format!("{id}-error");
    view! {
        <div class="field" class:has-error=move || error().is_some()>
            <label for=id>{move || i18n.t(label)}</label>
            <input
                id=id
                name=id
                type=kind
                autocomplete=autocomplete
                maxlength=maxlength
                required
                aria-invalid=move || if error().is_some() { "true" } else { "false" }
                aria-describedby=err_id.clone()
                placeholder=move || hint.map(|h| i18n.t(h)).unwrap_or_default()
            />
            <p class="field-error" id=err_id role="alert">{error}</p>
        </div>
    }
}

#[component]
fn AuthFrame(title: T, children: Children) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <main class="auth-page">
            <div class="auth-card">
                <div class="auth-brand">
                    <span class="brand-mark" aria-hidden="true">"茶"</span>
                    <h1>{move || i18n.t(T::AppName)}</h1>
                </div>
                <h2>{move || i18n.t(title)}</h2>
                {children()}
                <LangToggle/>
            </div>
        </main>
    }
}

/// Switches between Chinese and English (remembered in a cookie).
#[component]
pub fn LangToggle() -> impl IntoView {
    let i18n = use_i18n();
    let toggle = move |_| {
        let next = match i18n.lang() {
            crate::i18n::Lang::Zh => crate::i18n::Lang::En,
            crate::i18n::Lang::En => crate::i18n::Lang::Zh,
        };
        crate::write_pref_cookie(
            crate::i18n::LANG_COOKIE,
            if next == crate::i18n::Lang::En {
                "en"
            } else {
                "zh"
            },
        );
        i18n.0.set(next);
    };
    view! {
        <button type="button" class="link-button lang-toggle" on:click=toggle>
            {move || i18n.t(T::Language)}
        </button>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<Login>::new();
    let err = Signal::derive(move || action.value().get().and_then(|r| r.err()));
    view! {
        <AuthFrame title=T::Login>
            <ActionForm action=action attr:class="auth-form">
                <p class="form-error" role="alert">{form_error(err)}</p>
                <Field id="username" label=T::Username autocomplete="username" maxlength=limits::USERNAME_MAX error=field_error(err, "username")/>
                <Field id="password" label=T::Password kind="password" autocomplete="current-password" maxlength=limits::PASSWORD_MAX error=field_error(err, "password")/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {move || i18n.t(T::Login)}
                </button>
            </ActionForm>
            <A href="/register" attr:class="switch-link">{move || i18n.t(T::NoAccount)}</A>
        </AuthFrame>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<Register>::new();
    let err = Signal::derive(move || action.value().get().and_then(|r| r.err()));
    view! {
        <AuthFrame title=T::Register>
            <ActionForm action=action attr:class="auth-form">
                <p class="form-error" role="alert">{form_error(err)}</p>
                <Field id="username" label=T::Username autocomplete="username" maxlength=limits::USERNAME_MAX hint=T::UsernameHint error=field_error(err, "username")/>
                <Field id="nickname" label=T::Nickname autocomplete="nickname" maxlength=limits::NICKNAME_MAX error=field_error(err, "nickname")/>
                <Field id="password" label=T::Password kind="password" autocomplete="new-password" maxlength=limits::PASSWORD_MAX hint=T::PasswordHint error=field_error(err, "password")/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {move || i18n.t(T::Register)}
                </button>
            </ActionForm>
            <A href="/login" attr:class="switch-link">{move || i18n.t(T::HaveAccount)}</A>
        </AuthFrame>
    }
}
