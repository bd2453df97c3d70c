//! The bodies `/api/v1` takes and answers, described for the OpenAPI
//! document ([`utoipa::ToSchema`]). They are this API's own, kept apart
//! from the browser's wire types so each can grow on its own (within v1
//! they only grow, like every answer of the server).

use serde::{Deserialize, Serialize};
use teahouse_domain::api::handoff::Handoff;
use teahouse_domain::api::users::OnlineUser;
use teahouse_domain::log::Sent;
use teahouse_domain::store::ExternalUser;
use teahouse_protocol::UserBrief;
use utoipa::ToSchema;

/// The one error shape of every route.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable (e.g. `api_key_revoked`; see the README).
    pub code: String,
    /// The input it concerns, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// In English.
    pub message: String,
    /// In Chinese.
    pub message_zh: String,
}

/// A user as the API shows them.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct User {
    /// Teahouse's own id (in events, as `actor.id`).
    pub id: i64,
    /// The host system's id; null for accounts made in Teahouse.
    pub external_id: Option<String>,
    /// Display name.
    pub nickname: String,
    /// Their picture elsewhere, if set through the API.
    pub avatar_url: Option<String>,
    /// True for an API key's bot.
    pub bot: bool,
}

impl User {
    /// `user` with the host's id for them.
    pub fn of(user: UserBrief, external_id: Option<String>) -> User {
        User {
            id: user.id.0,
            external_id,
            nickname: user.nickname,
            avatar_url: user.avatar_url,
            bot: user.bot,
        }
    }
}

impl From<ExternalUser> for User {
    fn from(u: ExternalUser) -> User {
        User::of(u.user, u.external_id)
    }
}

/// `PUT /api/v1/users/{external_id}`.
#[derive(Deserialize, ToSchema)]
pub struct UpsertUser {
    /// Display name, 1–32 characters.
    pub nickname: String,
    /// `https://…` picture; absent or empty: the generated avatar.
    #[serde(default)]
    pub avatar_url: Option<String>,
}

/// The user as stored, and whether this call created them.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Upserted {
    pub user: User,
    /// True if the account was made by this call (it joined the lobby).
    pub created: bool,
}

/// Whether a user is online.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Presence {
    pub external_id: String,
    /// At least one open connection.
    pub online: bool,
    /// Open connections (tabs, devices, webviews).
    pub connections: usize,
}

/// One online user.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct OnlineEntry {
    pub user: User,
    /// Their open connections.
    pub connections: usize,
}

impl From<OnlineUser> for OnlineEntry {
    fn from(o: OnlineUser) -> OnlineEntry {
        OnlineEntry {
            user: o.user.into(),
            connections: o.connections,
        }
    }
}

/// Who is online.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct OnlineList {
    /// By id.
    pub users: Vec<OnlineEntry>,
    /// Number of users.
    pub count: usize,
    /// Their connections together.
    pub connections: usize,
}

impl OnlineList {
    pub fn of(online: Vec<OnlineUser>) -> OnlineList {
        let users: Vec<OnlineEntry> = online.into_iter().map(OnlineEntry::from).collect();
        OnlineList {
            count: users.len(),
            connections: users.iter().map(|u| u.connections).sum(),
            users,
        }
    }
}

/// A message to send.
#[derive(Deserialize, ToSchema)]
pub struct SendText {
    /// Your idempotency key (1–64 of `[A-Za-z0-9_-]`, e.g. a UUID): a
    /// retry with the same key returns the stored message, never a second.
    pub client_id: String,
    /// The text (up to the server's `--max-message-chars`).
    pub text: String,
}

/// A message as stored.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Stored {
    /// The conversation it is in (for a user: their private chat with the
    /// key's bot; for everyone: the lobby).
    pub room_id: i64,
    /// Its position in that conversation's log.
    pub seq: i64,
    /// When it was stored (ms since the epoch).
    pub at_ms: i64,
    /// True if a message with this `client_id` was stored before: this is
    /// it, nothing new was stored or pushed.
    pub duplicate: bool,
}

impl From<Sent> for Stored {
    fn from(s: Sent) -> Stored {
        Stored {
            room_id: s.event.conversation_id.0,
            seq: s.event.seq,
            at_ms: s.event.at_ms,
            duplicate: !s.fresh,
        }
    }
}

/// A membership change.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Membership {
    pub room_id: i64,
    pub external_id: String,
    /// False if it was so already (adding a member, removing a stranger).
    pub changed: bool,
}

/// Connections closed.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Closed {
    /// How many were open.
    pub closed: usize,
}

/// `POST /api/v1/users/{external_id}/handoff`.
#[derive(Deserialize, ToSchema, Default)]
pub struct HandoffRequest {
    /// Where to land after signing in: a path on this site (`/`,
    /// `/?room=12`); anything else is `handoff_next_invalid`. Default `/`.
    #[serde(default)]
    pub next: Option<String>,
}

/// A one-time sign-in token.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct HandoffToken {
    /// The secret (shown once).
    pub token: String,
    /// Open this (relative to the chat's address) in the app's webview.
    pub url: String,
    /// When it stops working (ms since the epoch).
    pub expires_at: i64,
}

impl HandoffToken {
    pub fn of(handoff: Handoff, next: Option<&str>) -> HandoffToken {
        let mut url = format!("/auth/handoff?token={}", handoff.token);
        if let Some(next) = next {
            url.push_str("&next=");
            url.extend(percent_encoding::utf8_percent_encode(
                next,
                percent_encoding::NON_ALPHANUMERIC,
            ));
        }
        HandoffToken {
            token: handoff.token,
            url,
            expires_at: handoff.expires_ms,
        }
    }
}
