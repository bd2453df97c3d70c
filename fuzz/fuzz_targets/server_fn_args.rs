//! Fuzzes the decoding of every server function's arguments exactly as
//! server_fn 0.8 decodes a `PostUrl` body (`server_fn::codec::url`): the
//! body must be UTF-8 (`String::from_utf8`), then
//! `serde_qs::Config::new(5, false).deserialize_str::<Args>` into the struct
//! the `#[server]` macro generated for that function.
//!
//! Properties: never panics or hangs; arguments it accepts, encoded the way
//! the hydrated client encodes them (`serde_qs::to_string`), decode to the
//! same arguments.
//!
//! The first byte of an input chooses the struct (index into the list
//! below, modulo its length), the rest is the body. A new server function
//! needs its struct added to that list.

#![no_main]

use app::api::admin::{AdminAccounts, AdminSetRole, MyRole};
use app::api::api_keys::{AdminApiKeys, AdminCreateApiKey, AdminRevokeApiKey};
use app::api::auth::{Login, Logout, Me, Register};
use app::api::desk::{
    DeskAccept, DeskAgents, DeskClose, DeskDetail, DeskHistory, DeskMine, DeskOverviewArgs,
    DeskQueue, DeskTransfer,
};
use app::api::groups::{
    CreateGroup, GroupAddMembers, GroupAnnounce, GroupBan, GroupDeleteMessage, GroupDetail,
    GroupInvitePolicy, GroupMute, GroupRemoveMember, GroupRename, GroupTransfer,
};
use app::api::media::SendMedia;
use app::api::messages::{History, SendMessage};
use app::api::reads::MarkRead;
use app::api::recall::RecallMessage;
use app::api::rooms::{CreateRoom, JoinRoom, LeaveRoom, MyRooms, PublicRooms, RoomDetailArgs};
use app::api::search::SearchMessages;
use app::api::support::{
    SupportDetails, SupportHistory, SupportSend, SupportSendMedia, SupportStart, SupportState,
};
use app::api::webhooks::{
    AdminCreateWebhook, AdminDeleteWebhook, AdminSetWebhookEnabled, AdminWebhookDeliveries,
    AdminWebhooks,
};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What server_fn does with a request body for `PostUrl`.
fn decode<T: DeserializeOwned>(body: &str) -> Option<T> {
    serde_qs::Config::new(5, false)
        .deserialize_str::<T>(body)
        .ok()
}

fn check<T: DeserializeOwned + Serialize + std::fmt::Debug>(body: &str) {
    let Some(args) = decode::<T>(body) else {
        return;
    };
    let encoded = serde_qs::to_string(&args).expect("decoded arguments encode");
    let again = decode::<T>(&encoded)
        .unwrap_or_else(|| panic!("{encoded:?} (the encoding of {args:?}) does not decode"));
    assert_eq!(format!("{again:?}"), format!("{args:?}"), "via {encoded:?}");
}

/// Every server function's argument struct, in a fixed order: the first
/// byte of an input picks one, so the fuzzer's coverage feedback works per
/// struct and each execution is one decode.
macro_rules! checks {
    ($($args:ty),+ $(,)?) => {
        [$(check::<$args> as fn(&str)),+]
    };
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return;
    };
    let all = checks!(
        Register,
        Login,
        Logout,
        Me,
        SendMessage,
        History,
        MyRooms,
        PublicRooms,
        CreateRoom,
        JoinRoom,
        LeaveRoom,
        RoomDetailArgs,
        SendMedia,
        MarkRead,
        RecallMessage,
        SearchMessages,
        MyRole,
        AdminAccounts,
        AdminSetRole,
        CreateGroup,
        GroupAddMembers,
        GroupDetail,
        GroupRename,
        GroupAnnounce,
        GroupInvitePolicy,
        GroupRemoveMember,
        GroupBan,
        GroupMute,
        GroupTransfer,
        GroupDeleteMessage,
        SupportStart,
        SupportState,
        SupportDetails,
        SupportSend,
        SupportSendMedia,
        SupportHistory,
        DeskQueue,
        DeskMine,
        DeskDetail,
        DeskHistory,
        DeskAccept,
        DeskTransfer,
        DeskClose,
        DeskAgents,
        DeskOverviewArgs,
        AdminCreateWebhook,
        AdminWebhooks,
        AdminWebhookDeliveries,
        AdminSetWebhookEnabled,
        AdminDeleteWebhook,
        AdminApiKeys,
        AdminCreateApiKey,
        AdminRevokeApiKey,
    );
    all[usize::from(which) % all.len()](&body);
});
