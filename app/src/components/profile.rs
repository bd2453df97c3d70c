//! "Me": the signed-in user's profile panel: change or remove the avatar
//! (a picture uploaded with its progress shown), change the nickname,
//! change the password (other sessions are signed out), language, sign out.

use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use teahouse_protocol::limits;

use crate::api::profile::{change_nickname, change_password, remove_avatar};
use crate::components::auth::{field_error, Field, LangToggle};
use crate::components::widgets::{Avatar, ErrorNotice};
use crate::error::AppError;
use crate::i18n::{tr, use_i18n, T};
use crate::media::Failure;
use crate::state::ChatState;

#[component]
pub fn MePanel(on_logout: Callback<()>) -> impl IntoView {
    let state = expect_context::<ChatState>();
    let me = state.me.get_value();
    view! {
        <section class="me-panel" aria-labelledby="me-title">
            <div class="me-card">
                <div class="me-avatar" data-testid="me-avatar">
                    {move || view! { <Avatar of=me.id name=state.me_nickname.get() xl=true image=state.me_avatar.get()/> }}
                </div>
                <div>
                    <h2 id="me-title" class="me-nickname">{move || state.me_nickname.get()}</h2>
                    <p class="me-username">{format!("@{}", me.username)}</p>
                </div>
            </div>
            <AvatarForm/>
            <NicknameForm/>
            <PasswordForm/>
            <div class="me-actions">
                <LangToggle/>
                <button type="button" class="danger" on:click=move |_| on_logout.run(())>{tr(T::Logout)}</button>
            </div>
        </section>
    }
}

/// "Change avatar" (a file picker: on a phone it offers the camera and the
/// gallery) with the upload's progress, "Remove avatar", and why either
/// failed.
#[component]
fn AvatarForm() -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let input = NodeRef::<Input>::new();
    // Percent sent while uploading; None when idle.
    let progress: RwSignal<Option<u32>> = RwSignal::new(None);
    let removing = RwSignal::new(false);
    let error: RwSignal<Option<Failure>> = RwSignal::new(None);
    let busy = move || progress.get().is_some() || removing.get();
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    let on_pick = move |_: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        if let Some(el) = input.get_untracked() {
            let file = el.files().and_then(|f| f.get(0));
            // The same file can be picked again.
            el.set_value("");
            if let Some(file) = file {
                error.set(None);
                progress.set(Some(0));
                spawn_local(async move {
                    let on_progress = Box::new(move |pct| progress.set(Some(pct)));
                    let blob = web_sys::Blob::from(file);
                    match crate::media::on_demand::upload_avatar(blob, on_progress).await {
                        Ok(user) => state.apply_profile(user),
                        Err(e) => error.set(Some(e)),
                    }
                    progress.set(None);
                });
            }
        }
    };
    let on_remove = move |_| {
        error.set(None);
        removing.set(true);
        spawn_local(async move {
            match remove_avatar().await {
                Ok(user) => state.apply_profile(user),
                Err(e) => error.set(Some(Failure::Code(e.code))),
            }
            removing.set(false);
        });
    };
    view! {
        <div class="me-form me-avatar-actions">
            <label class="file-pick link-button" data-testid="change-avatar">
                {tr(T::ChangeAvatar)}
                <input type="file" accept="image/jpeg,image/png,image/gif,image/webp" node_ref=input
                    data-testid="avatar-input" disabled=busy on:change=on_pick/>
            </label>
            <Show when=move || state.me_avatar.with(Option::is_some)>
                <button type="button" class="link-button" disabled=busy on:click=on_remove>{tr(T::RemoveAvatar)}</button>
            </Show>
            <span class="muted">{tr(T::AvatarHint)}</span>
            {move || progress.get().map(|pct| view! {
                <span class="saved" role="status" data-testid="avatar-progress">{tr(T::Uploading)} " " {pct} "%"</span>
            })}
            {move || error.get().map(|e| {
                let code = e.code();
                view! { <p class="error-notice" role="alert" data-code=code>{move || e.message(i18n.lang())}</p> }
            })}
        </div>
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
