//! The SQLite [`Store`]: one database file in WAL mode, the default that
//! needs nothing installed.
//!
//! - [`db`]: opening the file (readers, the sqlx writer, the write turn) and
//!   migrations.
//! - [`accounts`]: the `users` table.
//! - [`conversations`]: `rooms` and `members`, with their membership events.
//! - [`directory`]: the public room directory's pages and search.
//! - [`direct`]: private 1:1 chats (`direct_pairs`) and the contact search.
//! - [`events`]: the `events` table: layout, history pages, appends.
//! - [`media`]: the `media` table: uploads, and attaching one to its message.
//! - `roles`, `groups`, `desk`: account roles, private groups and their
//!   moderation, the support desk (issue 16); `access_events`: how their
//!   events are stored.
//! - [`batch`]: the message writer's connection and its batch transaction.
//! - [`reads`]: read positions and unread counts.
//! - [`recall`]: recalling a message.
//! - [`search`]: the FTS5 trigram index and the short-query scan.
//! - `webhooks`: webhook endpoints, cursors and delivery attempts (issue 17).
//! - `integration`: the server API's keys, host users (`external_id`) and
//!   hand-off tokens (issue 17).
//! - `compat`: the seed protocol's group ids and their rooms (issue 17).

mod access_events;
pub mod accounts;
mod batch;
mod compat;
pub mod conversations;
pub mod db;
mod desk;
pub mod direct;
pub mod directory;
pub mod events;
mod groups;
mod integration;
pub mod media;
pub mod reads;
pub mod recall;
mod roles;
pub mod search;
mod webhooks;

use async_trait::async_trait;
use sqlx::SqlitePool;
use teahouse_protocol::{
    ConversationEvent, ConversationId, ConversationSummary, MediaId, Member, ReadState, RoomPage,
    SearchPage, Seq, UserBrief, UserId,
};

pub use db::Db;

use crate::accounts::{SYSTEM_NICKNAME, SYSTEM_USERNAME};
use crate::directory::Cursor;
use crate::log::Page;
use crate::media::MediaRecord;
use crate::recall::{RecallDone, RecallRule};
use crate::search::SearchQuery;
use crate::store::{
    Account, AccountStore, BatchAppender, ConversationStore, DirectStore, EventLog, MediaStore,
    NewRoom, ReadStore, RecallStore, SearchStore, Store, WriteTurn,
};
use crate::Result;

/// Everything Teahouse stores, in one SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    /// The connections to the file.
    db: Db,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` and runs migrations.
    /// `url` names a file, e.g. `sqlite://data/teahouse.db`.
    pub async fn open(url: &str) -> Result<SqliteStore> {
        let db = Db::open(url).await?;
        // Rooms stored before `name_folded` existed (migration 0003).
        directory::fold_missing_names(&db).await?;
        Ok(SqliteStore { db })
    }

    /// The reader pool, for the web layer's session store
    /// (tower-sessions-sqlx-store keeps its own table in the same file).
    pub fn sessions_pool(&self) -> SqlitePool {
        self.db.reader().clone()
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn insert_account(
        &self,
        username: &str,
        nickname: &str,
        password_hash: &str,
    ) -> Result<UserBrief> {
        accounts::insert(&self.db, username, nickname, password_hash).await
    }

    async fn account(&self, id: UserId) -> Result<Option<Account>> {
        accounts::get(&self.db, id).await
    }

    async fn set_nickname(&self, id: UserId, nickname: &str) -> Result<UserBrief> {
        accounts::set_nickname(&self.db, id, nickname).await
    }

    async fn set_password(&self, id: UserId, password_hash: &str) -> Result<i64> {
        accounts::set_password(&self.db, id, password_hash).await
    }

    async fn set_avatar(
        &self,
        id: UserId,
        avatar: Option<&MediaId>,
    ) -> Result<(UserBrief, Option<MediaId>)> {
        accounts::set_avatar(&self.db, id, avatar).await
    }

    async fn avatar_in_use(&self, avatar: &MediaId) -> Result<bool> {
        accounts::avatar_in_use(&self.db, avatar).await
    }

    async fn credentials(&self, username: &str) -> Result<Option<(UserBrief, String)>> {
        accounts::credentials(&self.db, username).await
    }

    async fn username_exists(&self, username: &str) -> Result<bool> {
        accounts::exists(&self.db, username).await
    }

    async fn ensure_system_account(&self) -> Result<UserBrief> {
        accounts::ensure_system(&self.db, SYSTEM_USERNAME, SYSTEM_NICKNAME).await
    }
}

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn create_room(
        &self,
        owner: &UserBrief,
        room: NewRoom<'_>,
    ) -> Result<(ConversationSummary, ConversationEvent)> {
        conversations::create(&self.db, owner, room).await
    }

    async fn ensure_lobby(&self, system: &UserBrief, room: NewRoom<'_>) -> Result<ConversationId> {
        conversations::ensure_lobby(&self.db, system, room).await
    }

    async fn default_rooms(&self) -> Result<Vec<ConversationId>> {
        conversations::default_rooms(&self.db).await
    }

    async fn join(&self, user: &UserBrief, room: ConversationId) -> Result<ConversationEvent> {
        conversations::join(&self.db, user, room).await
    }

    async fn leave(&self, user: &UserBrief, room: ConversationId) -> Result<ConversationEvent> {
        conversations::leave(&self.db, user, room).await
    }

    async fn list_mine(&self, user: UserId) -> Result<Vec<ConversationSummary>> {
        conversations::list_mine(&self.db, user).await
    }

    async fn directory_page(
        &self,
        user: UserId,
        query: &str,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<RoomPage> {
        directory::page(&self.db, user, query, cursor, limit).await
    }

    async fn summary(&self, user: UserId, room: ConversationId) -> Result<ConversationSummary> {
        conversations::summary(&self.db, user, room).await
    }

    async fn members(&self, room: ConversationId) -> Result<Vec<Member>> {
        conversations::members(&self.db, room).await
    }

    async fn check_member(&self, room: ConversationId, user: UserId) -> Result<()> {
        conversations::check_member(&self.db, room, user).await
    }

    async fn conversations_of(&self, user: UserId) -> Result<Vec<ConversationId>> {
        conversations::ids_of(&self.db, user).await
    }
}

#[async_trait]
impl DirectStore for SqliteStore {
    async fn direct_between(&self, a: UserId, b: UserId) -> Result<Option<ConversationId>> {
        direct::between(&self.db, a, b).await
    }

    async fn share_conversation(&self, a: UserId, b: UserId) -> Result<bool> {
        direct::share_conversation(&self.db, a, b).await
    }

    async fn open_direct(
        &self,
        opener: &UserBrief,
        peer: UserId,
    ) -> Result<(ConversationId, Option<ConversationEvent>)> {
        direct::open(&self.db, opener, peer).await
    }

    async fn contacts(&self, me: UserId, query: &str, limit: u32) -> Result<Vec<UserBrief>> {
        direct::contacts(&self.db, me, query, limit).await
    }
}

#[async_trait]
impl EventLog for SqliteStore {
    async fn read(&self, room: ConversationId, page: Page) -> Result<Vec<ConversationEvent>> {
        events::read(&self.db, room, page).await
    }

    fn open_appender(&self) -> Result<Box<dyn BatchAppender>> {
        Ok(Box::new(batch::SqliteAppender {
            conn: self.db.open_sync_writer()?,
            turn: self.db.turn(),
        }))
    }
}

#[async_trait]
impl MediaStore for SqliteStore {
    async fn insert_media(&self, record: &MediaRecord, created_ms: i64) -> Result<()> {
        media::insert(&self.db, record, created_ms).await
    }

    async fn media(&self, id: &MediaId) -> Result<Option<MediaRecord>> {
        media::get(&self.db, id).await
    }

    async fn unsent_media_before(&self, before_ms: i64, limit: u32) -> Result<Vec<MediaId>> {
        media::unsent_before(&self.db, before_ms, limit).await
    }

    async fn delete_unsent_media(&self, id: &MediaId) -> Result<bool> {
        media::delete_unsent(&self.db, id).await
    }
}

#[async_trait]
impl ReadStore for SqliteStore {
    async fn advance_read(
        &self,
        user: UserId,
        room: ConversationId,
        seq: Seq,
    ) -> Result<(bool, ReadState)> {
        reads::advance(&self.db, user, room, seq).await
    }

    async fn read_state(&self, user: UserId, room: ConversationId) -> Result<ReadState> {
        reads::state(&self.db, user, room).await
    }

    async fn read_states(&self, user: UserId) -> Result<Vec<ReadState>> {
        reads::states(&self.db, user).await
    }
}

#[async_trait]
impl RecallStore for SqliteStore {
    async fn recall(
        &self,
        actor: &UserBrief,
        room: ConversationId,
        seq: Seq,
        rule: RecallRule,
    ) -> Result<RecallDone> {
        recall::recall(&self.db, actor, room, seq, rule).await
    }
}

#[async_trait]
impl SearchStore for SqliteStore {
    async fn search(
        &self,
        user: UserId,
        scope: Option<ConversationId>,
        query: &SearchQuery,
        limit: u32,
    ) -> Result<SearchPage> {
        search::search(&self.db, user, scope, query, limit).await
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> bool {
        self.db.ping().await
    }

    async fn pause_writes(&self) -> WriteTurn {
        self.db.pause_writes().await
    }

    async fn close(&self) {
        self.db.close().await;
    }
}
