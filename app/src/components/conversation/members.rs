//! The member panel of the open conversation: members with the owner mark,
//! online dots and a button to message each (a private chat), and the
//! "leave room" button.

use leptos::prelude::*;
use leptos::task::spawn_local;
use teahouse_protocol::{ConversationId, MemberRole};

use crate::api::rooms::{leave_room, room_detail};
use crate::components::direct::use_start_direct;
use crate::components::widgets::{Avatar, ErrorNotice};
use crate::error::AppError;
use crate::i18n::{tr, use_i18n, T};
use crate::nav::use_room_nav;
use crate::state::ChatState;

#[component]
pub fn MemberPanel(room_id: ConversationId) -> impl IntoView {
    let i18n = use_i18n();
    let state = expect_context::<ChatState>();
    let detail = Resource::new(move || room_id, room_detail);
    let leave_error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let nav = use_room_nav();
    let start = use_start_direct();
    let on_leave = move |_| {
        spawn_local(async move {
            match leave_room(room_id).await {
                Ok(()) => {
                    state.forget_room(room_id);
                    nav.go(None);
                }
                Err(e) => leave_error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="member-panel">
            <Suspense fallback=move || view! { <p class="loading">{tr(T::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(d) => {
                            view! {
                                <ul class="members" aria-label=tr(T::Members)>
                                    {d.members.into_iter().map(|m| {
                                        let id = m.id;
                                        let is_owner = m.role == MemberRole::Owner;
                                        // As fetched, or as pushed since.
                                        let brief = m.brief();
                                        let shown = Memo::new(move |_| state.latest(brief.clone()));
                                        view! {
                                            <li class="member">
                                                {move || {
                                                    let u = shown.get();
                                                    view! { <Avatar of=u.id name=u.nickname image=u.avatar.clone() url=u.avatar_url.clone()/> }
                                                }}
                                                <span>{move || shown.get().nickname}</span>
                                                {is_owner.then(|| view! { <span class="owner-mark">{tr(T::Owner)}</span> })}
                                                {m.bot.then(|| view! { <span class="bot-mark">{tr(T::BotTag)}</span> })}
                                                <span class="presence" class:online=move || state.online.with(|o| o.contains(&id)) || id == state.me_id()></span>
                                                {(id != state.me_id() && !m.is_system()).then(|| {
                                                    let label = format!("{} {}", T::SendMessage.in_lang(i18n.lang()), m.nickname);
                                                    view! {
                                                        <button type="button" class="link-button dm-button" aria-label=label on:click=move |_| start(id)>
                                                            {tr(T::SendMessage)}
                                                        </button>
                                                    }
                                                })}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }
                            .into_any()
                        }
                        Err(err) => view! { <ErrorNotice err/> }.into_any(),
                    }
                })}
            </Suspense>
            <button type="button" class="danger" on:click=on_leave>{tr(T::Leave)}</button>
            {move || leave_error.get().map(|err| view! { <ErrorNotice err/> })}
        </div>
    }
}
