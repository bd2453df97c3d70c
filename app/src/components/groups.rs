//! Private groups in the chat page: a new group made by picking people
//! (those you share a conversation with, from the contact search), the
//! announcement (群公告) banner at the top of a group, and the group's
//! settings — rename, announcement, who may add members, and for each
//! member remove, mute, ban or make owner (the owner only; the server
//! checks every act).

use leptos::prelude::*;
use teahouse_protocol::{ConversationId, GroupInfo, Member, MemberRole, UserBrief, UserId};

use crate::components::widgets::ErrorNotice;
use crate::error::AppError;
use crate::i18n::{tr, T};

/// The new-group form: a name and the people picked; the new group opens
/// in the pane.
#[component]
pub fn NewGroupForm() -> impl IntoView {
    let state = expect_context::<crate::state::ChatState>();
    let panel = expect_context::<RwSignal<crate::components::chat_page::Panel>>();
    let nav = crate::nav::use_room_nav();
    let name = RwSignal::new(String::new());
    let query = RwSignal::new(String::new());
    let people: RwSignal<Vec<UserBrief>> = RwSignal::new(Vec::new());
    let picked: RwSignal<Vec<UserId>> = RwSignal::new(Vec::new());
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let search = move || {
        let q = query.get_untracked();
        leptos::task::spawn_local(async move {
            match crate::api::direct::search_contacts(Some(q)).await {
                Ok(list) => people.set(list),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| search());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let ids: Vec<String> = picked
            .get_untracked()
            .iter()
            .map(|i| i.to_string())
            .collect();
        let n = name.get_untracked();
        leptos::task::spawn_local(async move {
            match crate::api::groups::create_group(n, ids.join(",")).await {
                Ok(summary) => {
                    let id = summary.id;
                    state.upsert_room(summary);
                    panel.set(crate::components::chat_page::Panel::Chats);
                    nav.go(Some(id));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <form class="new-group" on:submit=create data-testid="new-group">
            <label>
                <span>{tr(T::GroupName)}</span>
                <input name="group-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            </label>
            <input type="search" placeholder=tr(T::SearchContacts) prop:value=move || query.get()
                on:input=move |ev| { query.set(event_target_value(&ev)); search(); }/>
            <ul class="pick-list">
                <For each=move || people.get() key=|p| p.id children=move |p| {
                    let id = p.id;
                    let checked = move || picked.with(|v| v.contains(&id));
                    view! {
                        <li>
                            <label>
                                <input type="checkbox" prop:checked=checked on:change=move |_| picked.update(|v| {
                                    if let Some(i) = v.iter().position(|x| *x == id) { v.remove(i); } else { v.push(id); }
                                })/>
                                <span>{p.nickname.clone()}</span>
                            </label>
                        </li>
                    }
                }/>
            </ul>
            {move || error.get().map(|err| view! { <ErrorNotice err/> })}
            <button type="submit" class="primary" prop:disabled=move || picked.with(|v| v.is_empty())>
                {tr(T::CreateGroup)} " (" {move || picked.with(|v| v.len())} ")"
            </button>
        </form>
    }
}

/// The announcement banner at the top of a group, and its settings toggle.
/// `version` changes whenever the group's log has news for it.
#[component]
pub fn GroupBar(
    room: ConversationId,
    me: UserId,
    #[prop(into)] version: Signal<usize>,
) -> impl IntoView {
    let info: RwSignal<Option<GroupInfo>> = RwSignal::new(None);
    let open = RwSignal::new(false);
    Effect::new(move |_| {
        version.track();
        leptos::task::spawn_local(async move {
            if let Ok(i) = crate::api::groups::group_detail(room).await {
                info.set(Some(i));
            }
        });
    });
    view! {
        {move || info.get().filter(|i| !i.announcement.is_empty()).map(|i| view! {
            <div class="announcement" data-testid="announcement" role="note">
                <strong>{tr(T::Announcement)}</strong> " " {i.announcement}
            </div>
        })}
        <button type="button" class="group-settings-toggle" on:click=move |_| open.update(|o| *o = !*o)>
            {tr(T::GroupSettings)}
        </button>
        <Show when=move || open.get()>
            <GroupSettings room me info/>
        </Show>
    }
}

#[component]
fn GroupSettings(
    room: ConversationId,
    me: UserId,
    info: RwSignal<Option<GroupInfo>>,
) -> impl IntoView {
    let members: RwSignal<Vec<Member>> = RwSignal::new(Vec::new());
    let name = RwSignal::new(String::new());
    let text = RwSignal::new(
        info.get_untracked()
            .map(|i| i.announcement)
            .unwrap_or_default(),
    );
    let error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let reload = move || {
        leptos::task::spawn_local(async move {
            if let Ok(d) = crate::api::rooms::room_detail(room).await {
                name.set(d.room.name.clone());
                members.set(d.members);
            }
            if let Ok(i) = crate::api::groups::group_detail(room).await {
                info.set(Some(i));
            }
        });
    };
    reload();
    let is_owner =
        move || members.with(|m| m.iter().any(|x| x.id == me && x.role == MemberRole::Owner));
    let done = move |r: Result<teahouse_protocol::ConversationEvent, AppError>| match r {
        Ok(_) => {
            error.set(None);
            reload();
        }
        Err(e) => error.set(Some(e)),
    };
    let rename = move |_| {
        let n = name.get_untracked();
        leptos::task::spawn_local(
            async move { done(crate::api::groups::group_rename(room, n).await) },
        );
    };
    let announce = move |_| {
        let t = text.get_untracked();
        leptos::task::spawn_local(async move {
            done(crate::api::groups::group_announce(room, t).await)
        });
    };
    let policy = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        leptos::task::spawn_local(async move {
            done(crate::api::groups::group_invite_policy(room, on.to_string()).await)
        });
    };
    view! {
        <div class="group-settings" data-testid="group-settings">
            {move || error.get().map(|err| view! { <ErrorNotice err/> })}
            <Show when=is_owner>
                <label class="row">
                    <span>{tr(T::GroupName)}</span>
                    <input prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                    <button type="button" on:click=rename>{tr(T::Save)}</button>
                </label>
                <label class="row">
                    <span>{tr(T::Announcement)}</span>
                    <textarea rows="2" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                    <button type="button" on:click=announce>{tr(T::Publish)}</button>
                </label>
                <label class="row">
                    <input type="checkbox" prop:checked=move || info.get().is_some_and(|i| i.owner_only_invite) on:change=policy/>
                    <span>{tr(T::OwnerOnlyInvite)}</span>
                </label>
            </Show>
            <ul class="group-members">
                <For each=move || members.get() key=|m| (m.id, m.role) children=move |m| {
                    let id = m.id;
                    let muted = move || info.with(|i| i.as_ref().is_some_and(|i| i.muted.iter().any(|x| x.user.id == id)));
                    let act = move |which: &'static str| {
                        leptos::task::spawn_local(async move {
                            let r = match which {
                                "remove" => crate::api::groups::group_remove_member(room, id).await,
                                "ban" => crate::api::groups::group_ban(room, id).await,
                                "mute" => crate::api::groups::group_mute(room, id, 60).await,
                                "unmute" => crate::api::groups::group_mute(room, id, 0).await,
                                _ => crate::api::groups::group_transfer(room, id).await,
                            };
                            done(r)
                        });
                    };
                    let owner_row = m.role == MemberRole::Owner;
                    view! {
                        <li data-member=m.username.clone()>
                            <span>{m.nickname.clone()}</span>
                            <Show when=move || owner_row><span class="owner-mark">{tr(T::Owner)}</span></Show>
                            <Show when=muted><span class="muted-mark">{tr(T::Muted)}</span></Show>
                            <Show when=move || is_owner() && id != me>
                                <span class="member-actions">
                                    <button type="button" on:click=move |_| act(if muted() { "unmute" } else { "mute" })>
                                        {move || if muted() { tr(T::Unmute)() } else { tr(T::MuteHour)() }}
                                    </button>
                                    <button type="button" on:click=move |_| act("remove")>{tr(T::Remove)}</button>
                                    <button type="button" on:click=move |_| act("ban")>{tr(T::Ban)}</button>
                                    <button type="button" on:click=move |_| act("transfer")>{tr(T::MakeOwner)}</button>
                                </span>
                            </Show>
                        </li>
                    }
                }/>
            </ul>
        </div>
    }
}
