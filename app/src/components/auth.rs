//! Log-in and sign-up pages. Each is a plain form posting to its server
//! function (`/api/login`, `/api/register`), so it works before hydration
//! too; once hydrated, the form is sent from the page and errors show next
//! to the field they concern, with everything typed kept.
//!
//! Not `ActionForm`: it decodes the form into the server function's
//! arguments in the browser with `serde_qs`, which made the two pages cost
//! several KB of compressed wasm more than reading their few inputs here.

use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::auth::{login, register};
use crate::error::AppError;
use crate::i18n::{tr, use_i18n, T};
use crate::nav::load_page;
use teahouse_protocol::limits;

/// The message for `field`, if the last submission failed on it.
pub fn field_error(
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

/// A labelled form input with its error line (sign-up, log-in, "Me").
#[component]
pub fn Field(
    id: &'static str,
    label: T,
    #[prop(default = "text")] kind: &'static str,
    autocomplete: &'static str,
    maxlength: usize,
    #[prop(optional)] hint: Option<T>,
    /// Initial value (e.g. the current nickname).
    #[prop(optional)]
    value: Option<String>,
    error: impl Fn() -> Option<String> + Copy + Send + Sync + 'static,
    /// Read when the form is sent.
    input: NodeRef<Input>,
) -> impl IntoView {
    let i18n = use_i18n();
    let err_id = format!("{id}-error");
    view! {
        <div class="field" class:has-error=move || error().is_some()>
            <label for=id>{move || i18n.t(label)}</label>
            <input
                node_ref=input
                id=id
                name=id
                type=kind
                autocomplete=autocomplete
                maxlength=maxlength
                value=value
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
                    <h1>{tr(T::AppName)}</h1>
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
            {tr(T::Language)}
        </button>
    }
}

/// The value typed into `input` (empty before it is mounted).
fn value_of(input: NodeRef<Input>) -> String {
    input.get_untracked().map(|i| i.value()).unwrap_or_default()
}

/// State of a form being sent: the last error, and whether a send is on
/// its way (the button is disabled meanwhile).
#[derive(Clone, Copy)]
struct Sending {
    error: RwSignal<Option<AppError>>,
    pending: RwSignal<bool>,
}

impl Sending {
    fn new() -> Self {
        Sending {
            error: RwSignal::new(None),
            pending: RwSignal::new(false),
        }
    }

    /// Runs `call`; on success opens the chat page, on failure shows why.
    fn send<F>(self, call: F)
    where
        F: std::future::Future<Output = Result<teahouse_protocol::UserBrief, AppError>> + 'static,
    {
        if self.pending.get_untracked() {
            return;
        }
        self.pending.set(true);
        spawn_local(async move {
            match call.await {
                Ok(_) => load_page("/"),
                Err(e) => {
                    self.error.set(Some(e));
                    self.pending.set(false);
                }
            }
        });
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let sending = Sending::new();
    let err: Signal<Option<AppError>> = sending.error.into();
    let (username, password) = (NodeRef::<Input>::new(), NodeRef::<Input>::new());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        sending.send(login(value_of(username), value_of(password)));
    };
    view! {
        <AuthFrame title=T::Login>
            <form action="/api/login" method="post" class="auth-form" on:submit=on_submit>
                <p class="form-error" role="alert">{form_error(err)}</p>
                <Field id="username" label=T::Username autocomplete="username" maxlength=limits::USERNAME_MAX error=field_error(err, "username") input=username/>
                <Field id="password" label=T::Password kind="password" autocomplete="current-password" maxlength=limits::PASSWORD_MAX error=field_error(err, "password") input=password/>
                <button type="submit" class="primary" disabled=move || sending.pending.get()>
                    {tr(T::Login)}
                </button>
            </form>
            <a href="/register" class="switch-link">{tr(T::NoAccount)}</a>
        </AuthFrame>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let sending = Sending::new();
    let err: Signal<Option<AppError>> = sending.error.into();
    let (username, nickname, password) = (
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        sending.send(register(
            value_of(username),
            value_of(nickname),
            value_of(password),
        ));
    };
    view! {
        <AuthFrame title=T::Register>
            <form action="/api/register" method="post" class="auth-form" on:submit=on_submit>
                <p class="form-error" role="alert">{form_error(err)}</p>
                <Field id="username" label=T::Username autocomplete="username" maxlength=limits::USERNAME_MAX hint=T::UsernameHint error=field_error(err, "username") input=username/>
                <Field id="nickname" label=T::Nickname autocomplete="nickname" maxlength=limits::NICKNAME_MAX error=field_error(err, "nickname") input=nickname/>
                <Field id="password" label=T::Password kind="password" autocomplete="new-password" maxlength=limits::PASSWORD_MAX hint=T::PasswordHint error=field_error(err, "password") input=password/>
                <button type="submit" class="primary" disabled=move || sending.pending.get()>
                    {tr(T::Register)}
                </button>
            </form>
            <a href="/login" class="switch-link">{tr(T::HaveAccount)}</a>
        </AuthFrame>
    }
}
