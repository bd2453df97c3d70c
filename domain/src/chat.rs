//! [`Chat`]: the service the web layer calls. Each operation validates,
//! authorizes, stores, and then pushes what it stored to the hub — so a
//! client is told about an event only once it is durable.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use teahouse_protocol::{
    ErrorCode, MsgType, RoomDetail, RoomEvent, RoomId, RoomSummary, ServerFrame, UserBrief, UserId,
};

use crate::accounts::{self, NewAccount, PasswordHasherPool};
use crate::log::{self, NewMessage, Page};
use crate::throttle::{LoginThrottle, Outcome};
use crate::writer::SendQueue;
use crate::{rooms, validate, ChatConfig, Db, DomainError, Hub, Result, Subscription};

/// The chat service: database, fan-out hub and limits, shared as `Arc<Chat>`.
pub struct Chat {
    /// Storage.
    pub db: Db,
    /// Live connections.
    pub hub: Arc<Hub>,
    /// Limits and sizes.
    pub config: ChatConfig,
    /// Bounded argon2 worker pool.
    hasher: PasswordHasherPool,
    /// Per-user send rate (None when disabled).
    send_limiter: Option<DefaultKeyedRateLimiter<UserId>>,
    /// Failed logins per (username, address) and per address.
    login_throttle: LoginThrottle,
    /// The group-commit writer all sends go through.
    pub sends: SendQueue,
    /// Users by id: every authenticated request resolves its session's user,
    /// and accounts never change after registration yet, so this saves a
    /// query per request. Bounded by the number of accounts.
    users: std::sync::RwLock<std::collections::HashMap<UserId, UserBrief>>,
}

impl std::fmt::Debug for Chat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chat")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Chat {
    /// Builds the service on an open database, creating the system user and
    /// the lobby on first start.
    pub async fn start(db: Db, config: ChatConfig) -> Result<Arc<Chat>> {
        let system_id = accounts::ensure_system_user(&db).await?;
        let system = accounts::get(&db, system_id)
            .await?
            .ok_or_else(|| DomainError::Internal("system user vanished".into()))?;
        rooms::ensure_lobby(&db, &system).await?;
        let send_limiter = NonZeroU32::new(config.sends_per_sec).map(|rate| {
            let burst = NonZeroU32::new(config.send_burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        let hub = Hub::new(config.conn_queue_capacity, 200);
        Ok(Arc::new(Chat {
            sends: SendQueue::start(&db, hub.clone(), 4096, 512)?,
            hub,
            hasher: PasswordHasherPool::new(config.hash_concurrency),
            send_limiter,
            login_throttle: LoginThrottle::new(config.login_throttle.clone()),
            users: std::sync::RwLock::new(std::collections::HashMap::new()),
            db,
            config,
        }))
    }

    /// Creates an account and joins it to the default rooms (announced live).
    pub async fn register(&self, input: NewAccount) -> Result<UserBrief> {
        let user = accounts::register(&self.db, &self.hasher, input).await?;
        for event in rooms::join_defaults(&self.db, &user).await? {
            self.publish_membership(&user, event, true);
        }
        Ok(user)
    }

    /// Checks credentials of a login from `client`. Failed attempts are
    /// throttled per (username, client) and per client (see
    /// [`crate::throttle`]); a throttled attempt is refused before any
    /// password is hashed.
    pub async fn login(&self, username: &str, password: &str, client: IpAddr) -> Result<UserBrief> {
        let attempt = self
            .login_throttle
            .start(username, client, Instant::now())
            .map_err(|t| DomainError::Throttled(t.retry_after))?;
        let result = accounts::authenticate(&self.db, &self.hasher, username, password).await;
        let outcome = match &result {
            Ok(_) => Outcome::Succeeded,
            Err(e) if e.to_api().code == ErrorCode::BadCredentials => Outcome::Failed,
            Err(_) => Outcome::NotJudged,
        };
        self.login_throttle.finish(attempt, outcome);
        result
    }

    /// The user behind a session, if the account still exists.
    pub async fn user(&self, id: UserId) -> Result<Option<UserBrief>> {
        let cached = self
            .users
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned();
        if cached.is_some() {
            return Ok(cached);
        }
        let found = accounts::get(&self.db, id).await?;
        if let Some(user) = &found {
            self.users
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id, user.clone());
        }
        Ok(found)
    }

    /// Stores a text message from `sender` (group-committed with concurrent
    /// sends) and pushes it to the room.
    /// Retrying with the same `client_id` returns the stored event.
    pub async fn send_text(
        &self,
        sender: &UserBrief,
        room_id: RoomId,
        client_id: &str,
        text: &str,
    ) -> Result<RoomEvent> {
        let client_id = validate::client_id(client_id)?;
        let text = validate::message_text(text, self.config.max_message_chars)?;
        if let Some(limiter) = &self.send_limiter {
            if limiter.check_key(&sender.id).is_err() {
                return Err(DomainError::code(ErrorCode::RateLimited));
            }
        }
        let msg = NewMessage {
            room_id,
            client_id,
            msgtype: MsgType::Text,
            text,
        };
        // Stored, then pushed to the room by the writer, then answered.
        let sent = self.sends.send(sender.clone(), msg).await?;
        Ok(sent.event)
    }

    /// Creates a room owned by `owner`.
    pub async fn create_room(
        &self,
        owner: &UserBrief,
        name: &str,
        description: &str,
    ) -> Result<RoomSummary> {
        let (summary, _created) = rooms::create(&self.db, owner, name, description).await?;
        self.hub.add_member(owner.id, summary.id);
        Ok(summary)
    }

    /// Joins a public room; members (the joiner's other tabs included) are told.
    pub async fn join_room(&self, user: &UserBrief, room_id: RoomId) -> Result<RoomSummary> {
        let event = rooms::join(&self.db, user, room_id).await?;
        self.publish_membership(user, event, true);
        rooms::summary(&self.db, user.id, room_id).await
    }

    /// Leaves a room; the leaver's own connections get the event too, then
    /// stop receiving the room.
    pub async fn leave_room(&self, user: &UserBrief, room_id: RoomId) -> Result<RoomEvent> {
        let event = rooms::leave(&self.db, user, room_id).await?;
        self.publish_membership(user, event.clone(), false);
        Ok(event)
    }

    fn publish_membership(&self, user: &UserBrief, event: RoomEvent, joined: bool) {
        let room_id = event.room_id;
        if joined {
            self.hub.add_member(user.id, room_id);
        }
        self.hub.publish(room_id, &ServerFrame::Event { event });
        if !joined {
            self.hub.remove_member(user.id, room_id);
        }
    }

    pub async fn my_rooms(&self, user_id: UserId) -> Result<Vec<RoomSummary>> {
        rooms::list_mine(&self.db, user_id).await
    }

    pub async fn public_rooms(&self, user_id: UserId) -> Result<Vec<RoomSummary>> {
        rooms::list_public(&self.db, user_id, 200).await
    }

    pub async fn room_detail(&self, user_id: UserId, room_id: RoomId) -> Result<RoomDetail> {
        rooms::detail(&self.db, user_id, room_id).await
    }

    /// A page of a room's log; members only.
    pub async fn history(
        &self,
        user_id: UserId,
        room_id: RoomId,
        page: Page,
    ) -> Result<Vec<RoomEvent>> {
        rooms::check_member(&self.db, room_id, user_id).await?;
        log::read(&self.db, room_id, page).await
    }

    /// Opens a live connection for `user_id`, subscribed to their rooms.
    pub async fn connect(&self, user_id: UserId) -> Result<Subscription> {
        let room_ids = rooms::ids_of(&self.db, user_id).await?;
        Ok(self.hub.register(user_id, &room_ids))
    }
}
