//! The storage seam: small traits per aggregate, owned by the domain.
//!
//! The services ([`Chat`](crate::Chat), [`accounts`](crate::accounts)) decide
//! what may happen; a store only keeps what they decided, and enforces the
//! invariants that need a transaction to hold under concurrency (a sequence
//! number assigned in the transaction that stores its event, one membership
//! row per user and conversation, a unique username). Every query lives in
//! exactly one implementation module per aggregate:
//!
//! - [`AccountStore`]: accounts, their password hashes and avatars.
//! - [`ConversationStore`]: conversations (public rooms today), their members,
//!   and the membership events they log.
//! - [`DirectStore`]: private 1:1 chats (one per pair) and contacts.
//! - [`EventLog`]: reading a conversation's log by sequence cursor, and the
//!   [`BatchAppender`] the group-commit writer stores messages through
//!   (which also attaches a media message's upload to its conversation).
//! - [`RoleStore`], [`GroupStore`], [`DeskStore`] ([`access`]): account
//!   roles, private groups and their moderation, the support desk.
//! - [`MediaStore`]: uploaded media files' rows (the files themselves are
//!   [`crate::media::files`]'s).
//! - [`ReadStore`]: read positions and the unread counts computed from them.
//! - [`RecallStore`]: recalling a message (content out of the log, the
//!   index and the media table, the recall logged).
//! - [`SearchStore`]: full-text search of text messages.
//! - [`WebhookStore`] ([`webhooks`]): webhook endpoints, their cursors over
//!   the logs, their recent delivery attempts.
//! - [`IntegrationStore`] ([`integration`]): the server API's keys and bot
//!   accounts, host users by `external_id`, sign-in hand-off tokens.
//! - [`CompatStore`]: the seed protocol's group ids and the rooms they
//!   stand for.
//!
//! [`sqlite`] is the first implementation (sqlx for the rest, rusqlite on the
//! message writer's own thread). Sessions are stored by the web layer's
//! session library (tower-sessions) through its own store trait, on the same
//! database ([`sqlite::SqliteStore::sessions_pool`]).
//!
//! A second backend implements [`Store`] and runs the same domain test suite
//! by adding a fixture (`domain/tests/chat.rs`).

pub mod access;
pub mod compat;
pub mod integration;
pub mod reads;
pub mod recall;
pub mod search;
pub mod sqlite;
pub mod webhooks;

pub use access::{DeskStore, GroupAct, GroupStore, NewGuest, RoleStore, SupportFilter, SupportRow};
pub use compat::CompatStore;
pub use integration::{ExternalUser, IntegrationStore, NewApiKey};
pub use reads::ReadStore;
pub use recall::RecallStore;
pub use search::SearchStore;
pub use webhooks::WebhookStore;

use async_trait::async_trait;
use teahouse_protocol::{
    ConversationEvent, ConversationId, ConversationSummary, MediaId, Member, RoomPage, UserBrief,
    UserId,
};
use tokio::sync::OwnedMutexGuard;

use crate::directory::Cursor;
use crate::log::{NewMessage, Page, Sent};
use crate::media::MediaRecord;
use crate::Result;

/// An account as the session layer checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Its public face.
    pub user: UserBrief,
    /// Bumped by every password change: a session signed in under an older
    /// epoch is no longer signed in.
    pub auth_epoch: i64,
}

/// Accounts: who can sign in.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Stores a new account with its argon2 PHC hash; `username_taken` if
    /// the name (compared case-insensitively) exists, also under a race.
    async fn insert_account(
        &self,
        username: &str,
        nickname: &str,
        password_hash: &str,
    ) -> Result<UserBrief>;

    /// The account with this id, if any.
    async fn account(&self, id: UserId) -> Result<Option<Account>>;

    /// Changes the nickname (already validated); `not_found`.
    async fn set_nickname(&self, id: UserId, nickname: &str) -> Result<UserBrief>;

    /// Stores a new password hash and bumps the sign-in epoch (which signs
    /// out the sessions made under the old one); returns the new epoch.
    async fn set_password(&self, id: UserId, password_hash: &str) -> Result<i64>;

    /// Sets the account's avatar (None: back to the generated one) and
    /// returns the account as it now is with the avatar it had before (whose
    /// files the caller removes), in one transaction; `not_found`.
    async fn set_avatar(
        &self,
        id: UserId,
        avatar: Option<&MediaId>,
    ) -> Result<(UserBrief, Option<MediaId>)>;

    /// Whether some account has `avatar` as its avatar (files of one that
    /// is not are left over from a crash, and removed at start).
    async fn avatar_in_use(&self, avatar: &MediaId) -> Result<bool>;

    /// The account named `username` and its password hash, for a login.
    async fn credentials(&self, username: &str) -> Result<Option<(UserBrief, String)>>;

    /// Whether `username` is taken (a cheap pre-check before hashing).
    async fn username_exists(&self, username: &str) -> Result<bool>;

    /// The system account that owns the lobby, created if missing.
    async fn ensure_system_account(&self) -> Result<UserBrief>;
}

/// A validated new room.
#[derive(Clone, Copy, Debug)]
pub struct NewRoom<'a> {
    /// Its name, already normalised.
    pub name: &'a str,
    /// Its description, already normalised.
    pub description: &'a str,
}

/// Conversations and their members. Every membership change is stored
/// together with the event that records it, in one transaction.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Creates a room owned by `owner` (its first member) and logs its
    /// creation at seq 1.
    async fn create_room(
        &self,
        owner: &UserBrief,
        room: NewRoom<'_>,
    ) -> Result<(ConversationSummary, ConversationEvent)>;

    /// The lobby every new account joins, created (owned by `system`) if
    /// missing. Idempotent.
    async fn ensure_lobby(&self, system: &UserBrief, room: NewRoom<'_>) -> Result<ConversationId>;

    /// The rooms new accounts join.
    async fn default_rooms(&self) -> Result<Vec<ConversationId>>;

    /// Adds `user` to a public room and logs `member_joined`:
    /// `not_found`, `already_member`, `forbidden` (not public).
    async fn join(&self, user: &UserBrief, room: ConversationId) -> Result<ConversationEvent>;

    /// Removes `user` and logs `member_left`: `not_found`, `not_member`,
    /// `owner_cannot_leave`.
    async fn leave(&self, user: &UserBrief, room: ConversationId) -> Result<ConversationEvent>;

    /// The conversations `user` belongs to, most recently active first.
    async fn list_mine(&self, user: UserId) -> Result<Vec<ConversationSummary>>;

    /// A page of the public room directory as seen by `user`: rooms whose
    /// name contains `query` (already validated; empty: all), largest first,
    /// after `cursor` (see [`crate::directory`]), at most `limit`.
    async fn directory_page(
        &self,
        user: UserId,
        query: &str,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<RoomPage>;

    /// One conversation's summary as seen by `user`; `not_found`.
    async fn summary(&self, user: UserId, room: ConversationId) -> Result<ConversationSummary>;

    /// A conversation's members with their roles, in the order they joined.
    async fn members(&self, room: ConversationId) -> Result<Vec<Member>>;

    /// `not_found` if the conversation does not exist, `not_member` if
    /// `user` is not in it.
    async fn check_member(&self, room: ConversationId, user: UserId) -> Result<()>;

    /// Ids of the conversations `user` is in (to subscribe a new socket).
    async fn conversations_of(&self, user: UserId) -> Result<Vec<ConversationId>>;
}

/// Private 1:1 chats: one conversation per pair of users, and who may be
/// offered one (people you share a conversation with).
#[async_trait]
pub trait DirectStore: Send + Sync {
    /// The direct conversation between `a` and `b`, if one was opened.
    async fn direct_between(&self, a: UserId, b: UserId) -> Result<Option<ConversationId>>;

    /// Whether `a` and `b` are both members of some conversation.
    async fn share_conversation(&self, a: UserId, b: UserId) -> Result<bool>;

    /// Opens the direct conversation of `opener` and `peer` (both become
    /// members; its log starts with `direct_opened` at seq 1, returned), or
    /// returns the one that exists, with no event: one per pair, also when
    /// both open it at once. The caller has checked the rule.
    async fn open_direct(
        &self,
        opener: &UserBrief,
        peer: UserId,
    ) -> Result<(ConversationId, Option<ConversationEvent>)>;

    /// Up to `limit` people sharing a conversation with `me` whose username
    /// or nickname contains `query` (validated; empty: all), by nickname.
    async fn contacts(&self, me: UserId, query: &str, limit: u32) -> Result<Vec<UserBrief>>;
}

/// Reading and appending conversation logs.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// A page of `room`'s log, ascending by seq (the caller authorizes).
    async fn read(&self, room: ConversationId, page: Page) -> Result<Vec<ConversationEvent>>;

    /// Opens what the group-commit writer appends batches with (its own
    /// connection, driven on the writer's thread).
    fn open_appender(&self) -> Result<Box<dyn BatchAppender>>;
}

/// One send of a batch: who sends what.
pub type PendingSend<'a> = (&'a UserBrief, &'a NewMessage);

/// The writer thread's side of the log: synchronous, one batch per call.
pub trait BatchAppender: Send {
    /// Waits until this writer may write (see [`WriteTurn`]). The writer
    /// holds it while it gathers the rest of its batch and stores it.
    fn write_turn(&self) -> WriteTurn;

    /// Stores `sends` in one transaction and returns one outcome per send, in
    /// order: a rejection (not a member, …) does not disturb the others; a
    /// retried client id returns the stored event (not fresh). Any storage
    /// failure fails the whole call and nothing of the batch is stored.
    fn append(&mut self, sends: &[PendingSend<'_>]) -> Result<Vec<Result<Sent>>>;
}

/// Permission to write, for backends where writers must take turns (SQLite
/// allows one writing transaction at a time; the others would poll with
/// sleeps). Released on drop. Backends without the need hand out an empty
/// one.
#[derive(Debug, Default)]
pub struct WriteTurn {
    /// The process-wide turn, if this backend has one.
    _turn: Option<OwnedMutexGuard<()>>,
}

impl WriteTurn {
    /// A turn held through `guard`.
    pub(crate) fn held(guard: OwnedMutexGuard<()>) -> WriteTurn {
        WriteTurn { _turn: Some(guard) }
    }
}

/// Uploaded media. A row is sent at most once: the message writer attaches
/// it to its conversation in the transaction that stores the message
/// ([`BatchAppender::append`]).
#[async_trait]
pub trait MediaStore: Send + Sync {
    /// Stores a checked upload, not sent yet, uploaded at `created_ms`.
    async fn insert_media(&self, record: &MediaRecord, created_ms: i64) -> Result<()>;

    /// The upload with this id, if any.
    async fn media(&self, id: &MediaId) -> Result<Option<MediaRecord>>;

    /// Ids of uploads stored before `before_ms` and never sent, oldest
    /// first, at most `limit`.
    async fn unsent_media_before(&self, before_ms: i64, limit: u32) -> Result<Vec<MediaId>>;

    /// Deletes the upload's row if it was never sent; true if it did.
    async fn delete_unsent_media(&self, id: &MediaId) -> Result<bool>;
}

/// Everything the chat service stores.
#[async_trait]
pub trait Store:
    AccountStore
    + ConversationStore
    + DirectStore
    + EventLog
    + MediaStore
    + ReadStore
    + RecallStore
    + SearchStore
    + RoleStore
    + GroupStore
    + DeskStore
    + WebhookStore
    + IntegrationStore
    + CompatStore
    + std::fmt::Debug
{
    /// True if the database answers (for `/healthz`).
    async fn ping(&self) -> bool;

    /// Holds every write until the returned turn drops: sends then wait in
    /// the writer's queue and are stored together once it is released (a
    /// test hook for batching; also usable for maintenance).
    async fn pause_writes(&self) -> WriteTurn;

    /// Closes the connections, waiting for in-flight queries.
    async fn close(&self);
}
