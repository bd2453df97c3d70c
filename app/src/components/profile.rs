//! "Me": the signed-in user's profile panel: change the nickname, change
//! the password (other sessions are signed out), language, sign out.

use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use teahouse_protocol::limits;

use crate::api::profile::{change_nickname, change_password};
use crate::components::auth::{field_error, Field, LangToggle};
use crate::components::widgets::{Avatar, ErrorNotice};
use crate::error::AppError;
use crate::i18n::{tr, T};
use crate::state::ChatState;

#[component]
pub fn MePanel(on_logout: Callback<()>) -> impl IntoView {
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
                <button type="button" class="danger" on:click=move |_| on_logout.run(())>{tr(T::Logout)}</button>
            </div>
        </section>
    }
}

#[component]
fn NicknameForm() -> impl IntoView {
    let state = expect_context::<ChatState>();
    let input = NodeRef::<Input>::new();
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let saved = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let nickname = input.get().map(|i| i.value()).unwrap_or_default();
        busy.set(true);
        saved.set(false);
        spawn_local(async move {
            match change_nickname(nickname).await {
                Ok(user) => {
                    error.set(None);
                    if let Some(i) = input.get() {
                        i.set_value(&user.nickname);
                    }
                    state.apply_profile(user);
                    saved.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let err = Signal::from(error);
    view! {
        <form class="me-form" on:submit=on_submit>
            <Field id="me-nickname" label=T::Nickname autocomplete="nickname" maxlength=limits::NICKNAME_MAX
                value=state.me_nickname.get_untracked() error=field_error(err, "nickname") input/>
            {move || error.get().filter(|e| e.field.is_none()).map(|err| view! { <ErrorNotice err/> })}
            <button type="submit" class="primary" disabled=move || busy.get()>{tr(T::Save)}</button>
            <Show when=move || saved.get()>
                <span class="saved" role="status">{tr(T::Saved)}</span>
            </Show>
        </form>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let current = NodeRef::<Input>::new();
    let new = NodeRef::<Input>::new();
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let saved = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let value = |input: NodeRef<Input>| input.get().map(|i| i.value()).unwrap_or_default();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (old, fresh) = (value(current), value(new));
        busy.set(true);
        saved.set(false);
        spawn_local(async move {
            match change_password(old, fresh).await {
                Ok(()) => {
                    error.set(None);
                    for input in [current, new] {
                        if let Some(i) = input.get() {
                            i.set_value("");
                        }
                    }
                    saved.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let err = Signal::from(error);
    view! {
        <form class="me-form" on:submit=on_submit>
            <Field id="me-current-password" label=T::CurrentPassword kind="password" autocomplete="current-password"
                maxlength=limits::PASSWORD_MAX error=field_error(err, "current_password") input=current/>
            // The domain names the new password's field "password" (as at sign-up).
            <Field id="me-new-password" label=T::NewPassword kind="password" autocomplete="new-password"
                maxlength=limits::PASSWORD_MAX hint=T::PasswordHint error=field_error(err, "password") input=new/>
            {move || error.get().filter(|e| e.field.is_none()).map(|err| view! { <ErrorNotice err/> })}
            <button type="submit" class="primary" disabled=move || busy.get()>{tr(T::ChangePassword)}</button>
            <Show when=move || saved.get()>
                <span class="saved" role="status">{tr(T::PasswordChanged)}</span>
            </Show>
        </form>
    }
}
