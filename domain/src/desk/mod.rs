//! The support desk: guests without accounts reach an online agent.
//!
//! - A guest is a generated identity (`访客 NNNN`) kept in a server-side
//!   session by the web layer; they have exactly one support conversation,
//!   which survives reloads and reconnects (same cookie) and is the same
//!   ordered log, with the same typed messages, as every conversation.
//! - Routing ([`router`]): a new conversation waits in the queue and is
//!   given to the online agent with the fewest open conversations (fair
//!   ties), up to [`DeskConfig::max_per_agent`]; the oldest waiting one is
//!   given whenever an agent comes online or frees a slot. An agent who
//!   goes offline (last socket closed, then [`DeskConfig::grace`]) or logs
//!   out has their conversations put back at the front of the queue; the
//!   guest's log says so (`support_returned`) and nothing is lost.
//! - Agents accept from the queue, transfer to another online agent, and
//!   close. A guest who writes after a close reopens the same conversation
//!   (`support_reopened`, back in the queue): one conversation per guest,
//!   whose log holds their earlier conversations too.
//! - Who sees what: a guest only their own conversation; an agent those
//!   assigned to them and the queue; an admin everything.
//! - Assignment is stored (it survives a restart) and never doubled: see
//!   the store's guarded UPDATE ([`crate::store::DeskStore::assign`]) and
//!   the single router task.
//!
//! Staff sockets are subscribed to [`DESK_CHANNEL`], a hub topic (not a
//! conversation) that carries the [`ServerFrame::DeskChanged`] hint.

pub(crate) mod router;
pub(crate) mod watch;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use teahouse_protocol::text::{Lines, TextRule};
use teahouse_protocol::{
    limits, AgentLoad, ConversationEvent, ConversationId, DeskOverview, ErrorCode, GuestSession,
    ServerFrame, SupportStatus, SupportView, UserBrief, UserId, UserRole,
};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use crate::log::Page;
use crate::publish::{SessionKey, Signal};
use crate::store::{NewGuest, SupportFilter};
use crate::{hub, Chat, DomainError, Result};
use router::DeskInput;

/// The hub topic of agents and admins (never a stored conversation's id:
/// those start at 1).
pub const DESK_CHANNEL: ConversationId = ConversationId(0);

/// The desk's tunables.
#[derive(Clone, Debug)]
pub struct DeskConfig {
    /// Most conversations one agent is given automatically (and may accept).
    pub max_per_agent: u32,
    /// How long a staff member's conversations wait for them to reconnect
    /// after their last socket closed.
    pub grace: Duration,
    /// Guest identities one address may create per minute; 0: no limit.
    pub guests_per_min: u32,
    /// Messages guests from one address may send per minute; 0: no limit.
    pub guest_sends_per_min: u32,
}

impl Default for DeskConfig {
    fn default() -> Self {
        DeskConfig {
            max_per_agent: limits::AGENT_MAX_OPEN_DEFAULT,
            grace: Duration::from_secs(20),
            guests_per_min: 10,
            guest_sends_per_min: 60,
        }
    }
}

/// A guest's given name.
pub const GUEST_NAME: TextRule = TextRule {
    field: "name",
    lines: Lines::Single,
    required: false,
    max_chars: limits::GUEST_NAME_MAX,
    empty: ErrorCode::GuestDetailsInvalid,
    too_long: ErrorCode::GuestDetailsInvalid,
};

/// A guest's contact (phone, e-mail, …).
pub const GUEST_CONTACT: TextRule = TextRule {
    field: "contact",
    lines: Lines::Single,
    required: false,
    max_chars: limits::GUEST_CONTACT_MAX,
    empty: ErrorCode::GuestDetailsInvalid,
    too_long: ErrorCode::GuestDetailsInvalid,
};

/// What a guest's first visit tells.
#[derive(Clone, Debug, Default)]
pub struct GuestStart {
    /// A name they gave (may be empty).
    pub name: String,
    /// A contact they gave (may be empty).
    pub contact: String,
    /// The page they came from.
    pub first_page: String,
    /// Their browser's User-Agent.
    pub browser: String,
}

/// What the chat service keeps for the desk.
#[derive(Debug)]
pub(crate) struct DeskState {
    /// Limits.
    pub(crate) config: DeskConfig,
    /// The system account: the actor of automatic assignments.
    pub(crate) system: UserBrief,
    /// The router's inbox.
    tx: UnboundedSender<DeskInput>,
    /// Its other end, until the router takes it.
    inbox: Mutex<Option<UnboundedReceiver<DeskInput>>>,
    /// New guests per address.
    guests: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Guest sends per address.
    guest_sends: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

fn per_minute(n: u32) -> Option<DefaultKeyedRateLimiter<IpAddr>> {
    NonZeroU32::new(n).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

impl DeskState {
    pub(crate) fn new(config: DeskConfig, system: UserBrief) -> DeskState {
        let (tx, rx) = mpsc::unbounded_channel();
        DeskState {
            guests: per_minute(config.guests_per_min),
            guest_sends: per_minute(config.guest_sends_per_min),
            config,
            system,
            tx,
            inbox: Mutex::new(Some(rx)),
        }
    }

    /// A sender for the desk watch on the event seam.
    pub(crate) fn sender(&self) -> UnboundedSender<DeskInput> {
        self.tx.clone()
    }

    fn take_inbox(&self) -> Option<UnboundedReceiver<DeskInput>> {
        self.inbox.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    fn tell(&self, input: DeskInput) {
        // Closed only when the service is going away.
        let _ = self.tx.send(input);
    }

    /// A user's role changed.
    pub(crate) fn role_changed(&self, user: UserId, role: UserRole) {
        self.tell(DeskInput::RoleChanged { user, role });
    }

    /// Someone might take a waiting conversation now.
    pub(crate) fn kick(&self) {
        self.tell(DeskInput::Reassign);
    }
}

/// Cuts `s` to at most `max` characters.
fn cut(s: &str, max: usize) -> String {
    teahouse_protocol::text::clean(s, Lines::Single)
        .chars()
        .take(max)
        .collect()
}

/// `rate_limited` if `limiter` says `ip` went over.
fn limit(limiter: &Option<DefaultKeyedRateLimiter<IpAddr>>, ip: IpAddr) -> Result<()> {
    match limiter {
        Some(l) if l.check_key(&ip).is_err() => Err(DomainError::code(ErrorCode::RateLimited)),
        _ => Ok(()),
    }
}

impl Chat {
    /// Publishes a stored support event to the conversation's members.
    fn publish_support(&self, event: ConversationEvent) {
        let (room, seq) = (event.conversation_id, event.seq);
        self.publisher
            .publish(room, seq, hub::encode(&ServerFrame::Event { event }));
    }

    /// Tells waiting guests their place and staff that the desk changed.
    pub(crate) async fn desk_changed(&self) {
        match self.store.support_views(SupportFilter::Waiting).await {
            Ok(queue) => {
                for view in queue {
                    self.publisher.signal(Signal::ToUser {
                        user: view.guest.user.id,
                        frame: hub::encode(&ServerFrame::QueuePosition {
                            conversation_id: view.id,
                            position: view.position.unwrap_or(0),
                        }),
                    });
                }
            }
            Err(e) => tracing::error!(error = %e, "reading the support queue"),
        }
        self.publisher
            .publish(DESK_CHANNEL, 0, hub::encode(&ServerFrame::DeskChanged));
    }

    /// A new guest from `ip`: their identity and their support conversation
    /// (waiting in the queue). Rate-limited per address.
    pub async fn start_guest(&self, ip: IpAddr, start: GuestStart) -> Result<GuestSession> {
        let name = GUEST_NAME.check(&start.name)?;
        let contact = GUEST_CONTACT.check(&start.contact)?;
        limit(&self.desk.guests, ip)?;
        let number: u16 = rand::random::<u16>() % 9000 + 1000;
        let nickname = format!("访客 {number}");
        let username = format!("guest:{}", crate::media::MediaFiles::new_id());
        let (guest, room, event) = self
            .store
            .create_guest(NewGuest {
                nickname: &nickname,
                username: &username,
                name: &name,
                contact: &contact,
                first_page: &cut(&start.first_page, limits::GUEST_META_MAX),
                browser: &cut(&start.browser, limits::GUEST_META_MAX),
            })
            .await?;
        tracing::info!(guest_id = %guest.user.id, conversation = %room, "guest opened the desk");
        self.publish_support(event);
        self.desk.kick();
        self.desk_changed().await;
        self.guest_session(guest.user.id).await
    }

    /// The guest behind a session, if the id is a guest's.
    pub async fn guest_user(&self, id: UserId) -> Result<Option<UserBrief>> {
        Ok(self.store.guest(id).await?.map(|g| g.user))
    }

    /// A guest's identity and conversation as they see them.
    pub async fn guest_session(&self, guest: UserId) -> Result<GuestSession> {
        let info = self
            .store
            .guest(guest)
            .await?
            .ok_or_else(|| DomainError::code(ErrorCode::GuestRequired))?;
        let conversation = self
            .store
            .support_views(SupportFilter::OfGuest(guest))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| DomainError::code(ErrorCode::GuestRequired))?;
        Ok(GuestSession {
            guest: info,
            conversation,
        })
    }

    /// A guest gives (or changes) their name and contact.
    pub async fn set_guest_details(
        &self,
        guest: UserId,
        name: &str,
        contact: &str,
    ) -> Result<GuestSession> {
        let name = GUEST_NAME.check(name)?;
        let contact = GUEST_CONTACT.check(contact)?;
        self.store.set_guest_details(guest, &name, &contact).await?;
        self.desk_changed().await;
        self.guest_session(guest).await
    }

    /// The guest's conversation, reopened first if it was closed.
    async fn guest_conversation(&self, guest: &UserBrief, ip: IpAddr) -> Result<ConversationId> {
        limit(&self.desk.guest_sends, ip)?;
        let row = self
            .store
            .support_of_guest(guest.id)
            .await?
            .ok_or_else(|| DomainError::code(ErrorCode::GuestRequired))?;
        if row.status == SupportStatus::Closed {
            if let Some(event) = self.store.reopen_support(row.room, guest).await? {
                self.publish_support(event);
                self.desk.kick();
                self.desk_changed().await;
            }
        }
        Ok(row.room)
    }

    /// A guest's text message (rate-limited per address; reopens a closed
    /// conversation). Kept whether or not an agent has it yet.
    pub async fn guest_send_text(
        &self,
        guest: &UserBrief,
        ip: IpAddr,
        client_id: &str,
        text: &str,
    ) -> Result<ConversationEvent> {
        let room = self.guest_conversation(guest, ip).await?;
        self.send_text(guest, room, client_id, text).await
    }

    /// A guest's image or voice message (their own upload).
    pub async fn guest_send_media(
        &self,
        guest: &UserBrief,
        ip: IpAddr,
        client_id: &str,
        media_id: &str,
    ) -> Result<ConversationEvent> {
        let room = self.guest_conversation(guest, ip).await?;
        self.send_media(guest, room, client_id, media_id).await
    }

    /// A page of the guest's own conversation.
    pub async fn guest_history(&self, guest: UserId, page: Page) -> Result<Vec<ConversationEvent>> {
        let row = self
            .store
            .support_of_guest(guest)
            .await?
            .ok_or_else(|| DomainError::code(ErrorCode::GuestRequired))?;
        self.store.read(row.room, page).await
    }

    /// Stores an assignment and publishes it: the agent's sockets are
    /// subscribed first, so they get the event and all that follows.
    pub(crate) async fn assign_and_publish(
        &self,
        room: ConversationId,
        agent: &UserBrief,
        actor: &UserBrief,
        max: Option<u32>,
    ) -> Result<ConversationEvent> {
        let event = self.store.assign(room, agent, actor, max).await?;
        self.publisher.signal(Signal::Joined {
            user: agent.id,
            conversation: room,
        });
        self.publish_support(event.clone());
        tracing::info!(conversation = %room, agent_id = %agent.id, "support conversation assigned");
        Ok(event)
    }

    /// Puts `agent`'s conversations back at the front of the queue (they
    /// went offline, logged out, or are no longer an agent).
    pub(crate) async fn return_conversations(&self, agent: &UserBrief, reason: &str) -> Result<()> {
        let events = self
            .store
            .return_all(agent, reason, &self.desk.system)
            .await?;
        if events.is_empty() {
            return Ok(());
        }
        tracing::info!(agent_id = %agent.id, reason, conversations = events.len(), "support conversations back in the queue");
        for event in events {
            let room = event.conversation_id;
            self.publish_support(event);
            self.publisher.signal(Signal::Left {
                user: agent.id,
                conversation: room,
            });
        }
        self.desk.kick();
        self.desk_changed().await;
        Ok(())
    }

    /// A signed-in user's session ended: an agent without sockets of
    /// another session hands their conversations back at once.
    pub fn staff_logged_out(&self, user: UserId, session: SessionKey) {
        let still_online = self.hub.online_outside_session(user, session);
        self.desk.tell(DeskInput::Logout { user, still_online });
    }

    /// `staff`'s desk row of a support conversation, if they may see it:
    /// admins every one, agents theirs and waiting ones (`not_yours`).
    async fn visible_support(
        &self,
        staff: &UserBrief,
        room: ConversationId,
    ) -> Result<(UserRole, crate::store::SupportRow)> {
        let role = self.require_staff(staff).await?;
        let row = self
            .store
            .support(room)
            .await?
            .ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
        let visible = role == UserRole::Admin
            || row.status == SupportStatus::Waiting
            || row.agent == Some(staff.id);
        if !visible {
            return Err(DomainError::code(ErrorCode::NotYours));
        }
        Ok((role, row))
    }

    /// Whether `user` may see support conversation `room` as staff (the
    /// rule of [`Chat::desk_detail`]): media of a support conversation is
    /// served to whoever may read it, not only to its members.
    pub(crate) async fn staff_sees_support(
        &self,
        user: UserId,
        room: ConversationId,
    ) -> Result<bool> {
        let role = self.role_of(user).await?;
        if !role.is_staff() {
            return Ok(false);
        }
        let Some(row) = self.store.support(room).await? else {
            return Ok(false);
        };
        Ok(role == UserRole::Admin
            || row.status == SupportStatus::Waiting
            || row.agent == Some(user))
    }

    /// The queue, next first (agents and admins).
    pub async fn desk_queue(&self, staff: &UserBrief) -> Result<Vec<SupportView>> {
        self.require_staff(staff).await?;
        self.store.support_views(SupportFilter::Waiting).await
    }

    /// The conversations assigned to `staff`.
    pub async fn desk_mine(&self, staff: &UserBrief) -> Result<Vec<SupportView>> {
        self.require_staff(staff).await?;
        self.store
            .support_views(SupportFilter::AssignedTo(staff.id))
            .await
    }

    /// One support conversation with its guest's details.
    pub async fn desk_detail(
        &self,
        staff: &UserBrief,
        room: ConversationId,
    ) -> Result<SupportView> {
        self.visible_support(staff, room).await?;
        self.store
            .support_views(SupportFilter::One(room))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| DomainError::code(ErrorCode::NotFound))
    }

    /// A page of a support conversation's log (its whole history, the
    /// guest's earlier conversations included).
    pub async fn desk_history(
        &self,
        staff: &UserBrief,
        room: ConversationId,
        page: Page,
    ) -> Result<Vec<ConversationEvent>> {
        self.visible_support(staff, room).await?;
        self.store.read(room, page).await
    }

    /// Every agent's load and the queue (admins only).
    pub async fn desk_overview(&self, admin: &UserBrief) -> Result<DeskOverview> {
        self.require_admin(admin).await?;
        let loads: std::collections::HashMap<UserId, u32> =
            self.store.open_counts().await?.into_iter().collect();
        let agents = self
            .store
            .staff()
            .await?
            .into_iter()
            .filter(|s| s.role == UserRole::Agent || loads.contains_key(&s.user.id))
            .map(|s| AgentLoad {
                online: self.hub.is_online(s.user.id),
                open: loads.get(&s.user.id).copied().unwrap_or(0),
                role: s.role,
                user: s.user,
            })
            .collect();
        Ok(DeskOverview {
            agents,
            queue: self.store.support_views(SupportFilter::Waiting).await?,
            max_per_agent: self.desk.config.max_per_agent,
        })
    }

    /// Online agents and admins, with their load (transfer targets).
    pub async fn desk_agents(&self, staff: &UserBrief) -> Result<Vec<AgentLoad>> {
        self.require_staff(staff).await?;
        let loads: std::collections::HashMap<UserId, u32> =
            self.store.open_counts().await?.into_iter().collect();
        Ok(self
            .store
            .staff()
            .await?
            .into_iter()
            .map(|s| AgentLoad {
                online: self.hub.is_online(s.user.id),
                open: loads.get(&s.user.id).copied().unwrap_or(0),
                role: s.role,
                user: s.user,
            })
            .collect())
    }

    /// `staff` takes a waiting conversation (below the per-agent maximum).
    /// Of several accepting at once exactly one gets it; the others are
    /// told `already_assigned`.
    pub async fn desk_accept(
        &self,
        staff: &UserBrief,
        room: ConversationId,
    ) -> Result<SupportView> {
        self.require_staff(staff).await?;
        let max = Some(self.desk.config.max_per_agent);
        self.assign_and_publish(room, staff, staff, max).await?;
        self.desk_changed().await;
        self.desk_detail(staff, room).await
    }

    /// Hands a conversation to another online agent (or admin). Agents
    /// transfer their own; admins any assigned one.
    pub async fn desk_transfer(
        &self,
        staff: &UserBrief,
        room: ConversationId,
        to: UserId,
    ) -> Result<SupportView> {
        let (role, row) = self.visible_support(staff, room).await?;
        let from = match (role, row.agent) {
            (UserRole::Admin, Some(agent)) => agent,
            (_, Some(agent)) if agent == staff.id => agent,
            (_, Some(_)) => return Err(DomainError::code(ErrorCode::NotYours)),
            (_, None) => return Err(DomainError::code(ErrorCode::SupportNotOpen)),
        };
        let target_ok =
            matches!(self.store.role(to).await?, Some(r) if r.is_staff()) && self.hub.is_online(to);
        let target = match self.user(to).await? {
            Some(t) if target_ok => t,
            _ => return Err(DomainError::field(ErrorCode::AgentUnavailable, "agent_id")),
        };
        let max = Some(self.desk.config.max_per_agent);
        let event = self.store.transfer(room, from, &target, staff, max).await?;
        self.publisher.signal(Signal::Joined {
            user: target.id,
            conversation: room,
        });
        self.publish_support(event);
        self.publisher.signal(Signal::Left {
            user: from,
            conversation: room,
        });
        self.desk.kick();
        self.desk_changed().await;
        // Not `desk_detail`: the one who handed it on may no longer see it.
        self.store
            .support_views(SupportFilter::One(room))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| DomainError::code(ErrorCode::NotFound))
    }

    /// Closes a conversation (an agent their own, an admin any open one).
    /// The guest writing again reopens it.
    pub async fn desk_close(
        &self,
        staff: &UserBrief,
        room: ConversationId,
    ) -> Result<ConversationEvent> {
        let (role, _) = self.visible_support(staff, room).await?;
        let only = (role != UserRole::Admin).then_some(staff.id);
        let (event, agent) = self.store.close_support(room, staff, only).await?;
        self.publish_support(event.clone());
        if let Some(agent) = agent {
            self.publisher.signal(Signal::Left {
                user: agent,
                conversation: room,
            });
        }
        self.desk.kick();
        self.desk_changed().await;
        Ok(event)
    }
}
