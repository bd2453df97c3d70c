//! [`Chat`]: the service the web layer calls. Each operation validates,
//! authorizes, stores, and then publishes what it stored through the
//! [`Publisher`] seam — so a client is told about an event only once it is
//! durable. Its state is private: the web layer cannot reach the database
//! or the hub around it.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use teahouse_protocol::{
    ConversationDetail, ConversationEvent, ConversationId, ConversationSummary, ErrorCode,
    MessageContent, RoomPage, ServerFrame, UserBrief, UserId,
};

use crate::accounts::{self, NewAccount, PasswordHasherPool};
use crate::directory;
use crate::log::{NewMessage, Page};
use crate::publish::{Publisher, SessionKey, Signal};
use crate::rooms::{self, CheckedRoom};
use crate::store::{Account, Store, WriteTurn};
use crate::throttle::{LoginThrottle, Outcome};
use crate::writer::{SendQueue, WriterStats};
use crate::{
    hub, validate, ChatConfig, Compose, DomainError, Hub, KickReason, Result, Subscription,
};

/// The chat service: storage, fan-out and limits, shared as `Arc<Chat>`.
pub struct Chat {
    /// Storage (the storage seam).
    pub(crate) store: Arc<dyn Store>,
    /// This process's live connections (subscriptions and their queues).
    pub(crate) hub: Arc<Hub>,
    /// Where stored events and signals go: the hub today (behind the
    /// desk's watch), a bus later.
    pub(crate) publisher: Arc<dyn Publisher>,
    /// Limits and sizes.
    pub(crate) config: ChatConfig,
    /// Typing signals per (user, conversation): at most one per
    /// `config.typing_interval`; forgotten keys are pruned as it grows.
    pub(crate) typing_limiter: DefaultKeyedRateLimiter<(UserId, ConversationId)>,
    /// Bounded argon2 worker pool.
    hasher: PasswordHasherPool,
    /// Per-user send rate (None when disabled).
    pub(crate) send_limiter: Option<DefaultKeyedRateLimiter<UserId>>,
    /// Failed logins per (username, address) and per address.
    login_throttle: LoginThrottle,
    /// The group-commit writer all sends go through.
    pub(crate) sends: SendQueue,
    /// Media files, their limits and the decode pool (see [`crate::media`]).
    pub(crate) media: crate::media::service::MediaState,
    /// Accounts by id: every authenticated request resolves its session's
    /// user, so this saves a query per request; profile and password changes
    /// go through this service, which updates it. Bounded by the number of
    /// accounts. (Several nodes will need the bus to invalidate it.)
    users: std::sync::RwLock<std::collections::HashMap<UserId, Account>>,
    /// The support desk: limits, the router's inbox (see [`crate::desk`]).
    pub(crate) desk: crate::desk::DeskState,
    /// Mutes in force in groups, checked by every send (see [`crate::groups`]).
    pub(crate) mutes: crate::groups::MuteBook,
    /// What wakes the webhook deliverers (see [`crate::webhooks`]).
    pub(crate) webhooks: crate::webhooks::WebhookState,
}

impl std::fmt::Debug for Chat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chat")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Chat {
    /// Builds the service on an open store, creating the system user and
    /// the lobby on first start.
    pub async fn start(store: Arc<dyn Store>, config: ChatConfig) -> Result<Arc<Chat>> {
        let system = store.ensure_system_account().await?;
        store.ensure_lobby(&system, rooms::lobby()).await?;
        let send_limiter = NonZeroU32::new(config.sends_per_sec).map(|rate| {
            let burst = NonZeroU32::new(config.send_burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        let typing_period = config
            .typing_interval
            .max(std::time::Duration::from_millis(1));
        let typing_limiter = RateLimiter::keyed(
            Quota::with_period(typing_period)
                .ok_or_else(|| DomainError::Internal("typing interval is zero".into()))?,
        );
        let hub = Hub::new(config.conn_queue_capacity, 200, config.metrics.clone());
        let desk = crate::desk::DeskState::new(config.desk.clone(), system);
        let desk_watch: Arc<dyn Publisher> = Arc::new(crate::desk::watch::DeskWatch {
            hub: hub.clone(),
            desk: desk.sender(),
        });
        let webhooks = crate::webhooks::WebhookState::new();
        let publisher: Arc<dyn Publisher> = Arc::new(crate::webhooks::wake::WakeOnPublish {
            inner: desk_watch,
            events: webhooks.events.clone(),
        });
        let chat = Arc::new(Chat {
            sends: SendQueue::start(
                store.open_appender()?,
                publisher.clone(),
                4096,
                512,
                config.metrics.clone(),
            )?,
            hub,
            publisher,
            media: crate::media::service::MediaState::open(config.media.clone())?,
            hasher: PasswordHasherPool::new(config.hash_concurrency),
            send_limiter,
            typing_limiter,
            login_throttle: LoginThrottle::new(config.login_throttle.clone()),
            users: std::sync::RwLock::new(std::collections::HashMap::new()),
            desk,
            mutes: crate::groups::MuteBook::default(),
            webhooks,
            store,
            config,
        });
        match chat.sweep_orphan_avatars().await? {
            0 => {}
            n => tracing::info!(removed = n, "removed avatar files a crash left behind"),
        }
        chat.load_mutes().await?;
        crate::desk::router::spawn(&chat).await?;
        Ok(chat)
    }

    /// Creates an account and joins it to the default rooms (announced live).
    pub async fn register(&self, input: NewAccount) -> Result<UserBrief> {
        let user = accounts::register(&*self.store, &self.hasher, input).await?;
        for event in rooms::join_defaults(&*self.store, &user).await? {
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
        let result = accounts::authenticate(&*self.store, &self.hasher, username, password).await;
        let outcome = match &result {
            Ok(_) => Outcome::Succeeded,
            Err(e) if e.to_api().code == ErrorCode::BadCredentials => Outcome::Failed,
            Err(_) => Outcome::NotJudged,
        };
        self.login_throttle.finish(attempt, outcome);
        result
    }

    /// The user with this id, if the account exists.
    pub async fn user(&self, id: UserId) -> Result<Option<UserBrief>> {
        Ok(self.account(id).await?.map(|a| a.user))
    }

    /// The user behind a session signed in under `auth_epoch`: None if the
    /// account is gone or its password changed since.
    pub async fn session_user(&self, id: UserId, auth_epoch: i64) -> Result<Option<UserBrief>> {
        Ok(self
            .account(id)
            .await?
            .filter(|a| a.auth_epoch == auth_epoch)
            .map(|a| a.user))
    }

    /// The account's current sign-in epoch (stored in a new session).
    pub async fn auth_epoch(&self, id: UserId) -> Result<i64> {
        self.account(id)
            .await?
            .map(|a| a.auth_epoch)
            .ok_or_else(|| DomainError::code(ErrorCode::NotFound))
    }

    async fn account(&self, id: UserId) -> Result<Option<Account>> {
        let cached = self
            .users
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned();
        if cached.is_some() {
            return Ok(cached);
        }
        let found = self.store.account(id).await?;
        if let Some(account) = &found {
            self.remember(account.clone());
        }
        Ok(found)
    }

    fn remember(&self, account: Account) {
        self.users
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account.user.id, account);
    }

    /// Changes `user`'s nickname; everyone sharing a conversation with them
    /// (and their own other tabs) sees it at once.
    pub async fn change_nickname(&self, user: &UserBrief, nickname: &str) -> Result<UserBrief> {
        let nickname = validate::nickname(nickname)?;
        let updated = self.store.set_nickname(user.id, &nickname).await?;
        self.profile_changed(&updated).await?;
        Ok(updated)
    }

    /// `updated` is a user's new profile (nickname, avatar): their sessions
    /// see it from the next request on, and everyone sharing a conversation
    /// with them (their own other tabs included) gets it pushed.
    pub(crate) async fn profile_changed(&self, updated: &UserBrief) -> Result<()> {
        let auth_epoch = self.auth_epoch(updated.id).await?;
        self.remember(Account {
            user: updated.clone(),
            auth_epoch,
        });
        let conversations = self.store.conversations_of(updated.id).await?;
        self.publisher.signal(Signal::ProfileChanged {
            user: updated.clone(),
            conversations: conversations.into(),
        });
        Ok(())
    }

    /// Changes `user`'s password (the current one must be given; wrong
    /// guesses are throttled like logins from `client`). Every other session
    /// of the user is signed out and its sockets closed; `keep`, the session
    /// asking, stays signed in. Returns the new sign-in epoch, for `keep`.
    pub async fn change_password(
        &self,
        user: &UserBrief,
        current: &str,
        new: &str,
        client: IpAddr,
        keep: Option<SessionKey>,
    ) -> Result<i64> {
        let attempt = self
            .login_throttle
            .start(&user.username, client, Instant::now())
            .map_err(|t| DomainError::Throttled(t.retry_after))?;
        let result =
            accounts::change_password(&*self.store, &self.hasher, user, current, new).await;
        let outcome = match &result {
            Ok(_) => Outcome::Succeeded,
            Err(e) if e.to_api().code == ErrorCode::WrongPassword => Outcome::Failed,
            Err(_) => Outcome::NotJudged,
        };
        self.login_throttle.finish(attempt, outcome);
        let auth_epoch = result?;
        self.remember(Account {
            user: user.clone(),
            auth_epoch,
        });
        self.publisher.signal(Signal::EndUser {
            user: user.id,
            except: keep,
        });
        Ok(auth_epoch)
    }

    /// Stores a text message from `sender` (group-committed with concurrent
    /// sends) and pushes it to the room.
    /// Retrying with the same `client_id` returns the stored event.
    pub async fn send_text(
        &self,
        sender: &UserBrief,
        room_id: ConversationId,
        client_id: &str,
        text: &str,
    ) -> Result<ConversationEvent> {
        self.send_text_with(sender, room_id, client_id, text, Compose::default())
            .await
    }

    /// [`Chat::send_text`] of a reply and/or a message with mentions (see
    /// [`Compose`]): the quoted message must be one of the same
    /// conversation (`reply_not_found`), everyone mentioned a member
    /// (`mention_not_member`), both checked in the transaction that stores
    /// it.
    pub async fn send_text_with(
        &self,
        sender: &UserBrief,
        room_id: ConversationId,
        client_id: &str,
        text: &str,
        compose: Compose,
    ) -> Result<ConversationEvent> {
        let client_id = validate::client_id(client_id)?;
        let text = validate::message_text(text, self.config.max_message_chars)?;
        self.check_muted(room_id, sender.id)?;
        let compose = compose.checked()?;
        if let Some(limiter) = &self.send_limiter {
            if limiter.check_key(&sender.id).is_err() {
                return Err(DomainError::code(ErrorCode::RateLimited));
            }
        }
        let msg = NewMessage {
            conversation_id: room_id,
            client_id,
            content: MessageContent::Text(text),
            reply_to: compose.reply_to,
            mentions: compose.mentions,
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
    ) -> Result<ConversationSummary> {
        let room = CheckedRoom::new(name, description)?;
        let (summary, created) = self.store.create_room(owner, room.as_new_room()).await?;
        self.publish_membership(owner, created, true);
        Ok(summary)
    }

    /// Joins a public room; members (the joiner's other tabs included) are told.
    pub async fn join_room(
        &self,
        user: &UserBrief,
        room_id: ConversationId,
    ) -> Result<ConversationSummary> {
        let event = self.store.join(user, room_id).await?;
        self.publish_membership(user, event, true);
        self.summary_with_badge(user.id, room_id).await
    }

    /// Leaves a room; the leaver's own connections get the event too, then
    /// stop receiving the room.
    pub async fn leave_room(
        &self,
        user: &UserBrief,
        room_id: ConversationId,
    ) -> Result<ConversationEvent> {
        let event = self.store.leave(user, room_id).await?;
        self.publish_membership(user, event.clone(), false);
        Ok(event)
    }

    /// Publishes a stored membership event; a joiner's sockets are
    /// subscribed before it (so they get it), a leaver's unsubscribed after.
    pub(crate) fn publish_membership(
        &self,
        user: &UserBrief,
        event: ConversationEvent,
        joined: bool,
    ) {
        let (conversation, seq) = (event.conversation_id, event.seq);
        let signal = |joined| {
            if joined {
                Signal::Joined {
                    user: user.id,
                    conversation,
                }
            } else {
                Signal::Left {
                    user: user.id,
                    conversation,
                }
            }
        };
        if joined {
            self.publisher.signal(signal(true));
        }
        let frame = hub::encode(&ServerFrame::Event { event });
        self.publisher.publish(conversation, seq, frame);
        if !joined {
            self.publisher.signal(signal(false));
        }
    }

    /// Opens the private chat of `me` with `peer_id`, or returns the one
    /// they have (one per pair, whoever opens it and also when both do at
    /// once). The rule against spam: you may open one with someone you
    /// share a conversation with (a room, or this chat); otherwise
    /// `no_shared_room`. A user who does not exist (or the system account)
    /// is `not_found`; yourself, `direct_with_self`. When it is new, both
    /// participants' open sockets are subscribed to it before its first
    /// event is published, so the first message reaches the peer live.
    pub async fn open_direct(
        &self,
        me: &UserBrief,
        peer_id: UserId,
    ) -> Result<ConversationSummary> {
        if peer_id == me.id {
            return Err(DomainError::code(ErrorCode::DirectWithSelf));
        }
        let peer = self
            .user(peer_id)
            .await?
            .filter(|p| !p.is_system())
            .ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
        // Guests of the support desk are reached through the desk only.
        if self.store.role(peer.id).await? == Some(teahouse_protocol::UserRole::Guest) {
            return Err(DomainError::code(ErrorCode::NotFound));
        }
        let id = match self.store.direct_between(me.id, peer.id).await? {
            Some(id) => id,
            None => {
                if !self.store.share_conversation(me.id, peer.id).await? {
                    return Err(DomainError::code(ErrorCode::NoSharedRoom));
                }
                let (id, opened) = self.store.open_direct(me, peer.id).await?;
                if let Some(event) = opened {
                    for user in [me.id, peer.id] {
                        self.publisher.signal(Signal::Joined {
                            user,
                            conversation: id,
                        });
                    }
                    let seq = event.seq;
                    let frame = hub::encode(&ServerFrame::Event { event });
                    self.publisher.publish(id, seq, frame);
                }
                id
            }
        };
        self.summary_with_badge(me.id, id).await
    }

    /// People who share a conversation with `me`, to start a private chat
    /// with: their username or nickname contains `query` (at most 40
    /// characters; empty: everyone), by nickname, at most
    /// [`CONTACTS_MAX`](teahouse_protocol::limits::CONTACTS_MAX).
    pub async fn search_contacts(&self, me: UserId, query: &str) -> Result<Vec<UserBrief>> {
        let query = validate::room_query(query)?;
        self.store
            .contacts(me, &query, teahouse_protocol::limits::CONTACTS_MAX)
            .await
    }

    /// The conversations `user_id` is in, most recently active first, each
    /// with its badge (read position, unread count, mentioned).
    pub async fn my_rooms(&self, user_id: UserId) -> Result<Vec<ConversationSummary>> {
        let mut rooms = self.store.list_mine(user_id).await?;
        let states: std::collections::HashMap<ConversationId, teahouse_protocol::ReadState> = self
            .store
            .read_states(user_id)
            .await?
            .into_iter()
            .map(|s| (s.room_id, s))
            .collect();
        for room in &mut rooms {
            if let Some(state) = states.get(&room.id) {
                room.read_seq = state.read_seq;
                room.unread = state.unread;
                room.mentioned = state.mentioned;
            }
        }
        Ok(rooms)
    }

    /// A page of the public room directory, optionally searched by name
    /// (see [`directory`]); `cursor` is the previous page's `next_cursor`.
    pub async fn public_rooms(
        &self,
        user_id: UserId,
        query: &str,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<RoomPage> {
        let query = validate::room_query(query)?;
        let cursor = cursor.map(directory::Cursor::parse).transpose()?;
        let limit = limit
            .unwrap_or(teahouse_protocol::limits::ROOM_PAGE_DEFAULT)
            .clamp(1, teahouse_protocol::limits::ROOM_PAGE_MAX);
        self.store
            .directory_page(user_id, &query, cursor, limit)
            .await
    }

    /// A room with its members; members only.
    pub async fn room_detail(
        &self,
        user_id: UserId,
        room_id: ConversationId,
    ) -> Result<ConversationDetail> {
        self.store.check_member(room_id, user_id).await?;
        let room = self.summary_with_badge(user_id, room_id).await?;
        let members = self.store.members(room_id).await?;
        let online = members
            .iter()
            .map(|m| m.id)
            .filter(|id| self.hub.is_online(*id))
            .collect();
        Ok(ConversationDetail {
            room,
            members,
            online,
        })
    }

    /// A page of a room's log; members only.
    pub async fn history(
        &self,
        user_id: UserId,
        room_id: ConversationId,
        page: Page,
    ) -> Result<Vec<ConversationEvent>> {
        self.store.check_member(room_id, user_id).await?;
        self.store.read(room_id, page).await
    }

    /// Opens a live connection for `user_id` under `session`, subscribed
    /// to their rooms.
    pub async fn connect(
        &self,
        user_id: UserId,
        session: Option<SessionKey>,
    ) -> Result<Subscription> {
        let mut room_ids = self.store.conversations_of(user_id).await?;
        if matches!(self.store.role(user_id).await?, Some(r) if r.is_staff()) {
            room_ids.push(crate::desk::DESK_CHANNEL);
        }
        Ok(self
            .hub
            .register(self.publisher.clone(), user_id, session, &room_ids))
    }

    /// A session ended (logout): every socket opened under it closes at
    /// once with "session ended"; the user's other sessions stay.
    pub fn end_session(&self, user_id: UserId, session: SessionKey) {
        self.publisher.signal(Signal::EndSession {
            user: user_id,
            session,
        });
    }

    /// Every socket of `user_id` closes with "session ended".
    pub fn end_user_sockets(&self, user_id: UserId) {
        self.publisher.signal(Signal::EndUser {
            user: user_id,
            except: None,
        });
    }

    /// The limits this service enforces.
    pub fn config(&self) -> &ChatConfig {
        &self.config
    }

    /// True once the database answers a trivial query (for `/healthz`).
    pub async fn is_healthy(&self) -> bool {
        self.store.ping().await
    }

    /// Open sockets on this process.
    pub fn connection_count(&self) -> usize {
        self.hub.connection_count()
    }

    /// Closes every socket of this process (shutdown).
    pub fn close_all_sockets(&self, reason: KickReason) {
        self.hub.kick_all(reason);
    }

    /// Closes every socket of this process with "draining, reconnect
    /// elsewhere", spread evenly over `window` (see [`Hub::drain`]).
    pub async fn drain_sockets(&self, window: std::time::Duration) {
        self.hub.drain(window).await;
    }

    /// Sends waiting for the group-commit writer (a gauge of `/metrics`).
    pub fn sends_waiting(&self) -> usize {
        self.sends.waiting()
    }

    /// Closes the database (after the last request).
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// Counters of the group-commit writer (tests, metrics).
    pub fn writer_stats(&self) -> &WriterStats {
        &self.sends.stats
    }

    /// Holds every write until the turn drops (see [`Store::pause_writes`]).
    pub async fn pause_writes(&self) -> WriteTurn {
        self.store.pause_writes().await
    }
}
