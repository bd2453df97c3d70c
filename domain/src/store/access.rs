//! The storage seam of issue 16: roles ([`RoleStore`]), private groups and
//! their moderation ([`GroupStore`]), and the support desk ([`DeskStore`]).
//!
//! As everywhere in the store, the services decide and the store keeps:
//! every change is stored together with the event that records it, in one
//! transaction, and the checks that must hold under concurrency (the
//! group's owner at the moment of the act, a conversation assigned to one
//! agent only, the last admin) are made inside that transaction.

use async_trait::async_trait;
use teahouse_protocol::{
    ConversationEvent, ConversationId, ConversationSummary, GroupInfo, GuestInfo, SupportStatus,
    SupportView, UserBrief, UserId, UserRole, UserWithRole,
};

use crate::Result;

/// Account roles.
#[async_trait]
pub trait RoleStore: Send + Sync {
    /// The role of account `user` (None: no such account).
    async fn role(&self, user: UserId) -> Result<Option<UserRole>>;

    /// Sets the role of `user` (not a guest, not the system account:
    /// `not_found`); revoking the last admin is `last_admin`. Returns the
    /// user.
    async fn set_role(&self, user: UserId, role: UserRole) -> Result<UserBrief>;

    /// The account named `username` (case-insensitively), if any.
    async fn user_named(&self, username: &str) -> Result<Option<UserBrief>>;

    /// Up to `limit` accounts (no guests, not the system account) whose
    /// username or nickname contains `query` (empty: all), staff first,
    /// then by nickname.
    async fn accounts_with_roles(&self, query: &str, limit: u32) -> Result<Vec<UserWithRole>>;

    /// Every agent and admin.
    async fn staff(&self) -> Result<Vec<UserWithRole>>;
}

/// One moderation act on a group, checked and stored by
/// [`GroupStore::moderate`] (which checks in its transaction that the
/// actor owns the group at that moment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupAct {
    /// New name (validated).
    Rename(String),
    /// New announcement (validated; empty clears it).
    Announce(String),
    /// Whether only the owner may add members.
    InvitePolicy { owner_only: bool },
    /// Remove a member.
    Remove(UserId),
    /// Remove (if a member) and ban from rejoining.
    Ban(UserId),
    /// Mute a member until this time (ms since the epoch; 0 lifts it).
    Mute { user: UserId, until_ms: i64 },
    /// Hand the group to another member.
    Transfer(UserId),
    // Deleting a message is a recall as the group's owner
    // (`Chat::remove_group_message`), stored by `RecallStore`.
}

/// Private groups.
#[async_trait]
pub trait GroupStore: Send + Sync {
    /// Creates a group owned by `owner` with `members` (checked by the
    /// caller: existing people the owner may pick). Its log: `group_created`
    /// then one `member_added` per member.
    async fn create_group(
        &self,
        owner: &UserBrief,
        name: &str,
        members: &[UserBrief],
    ) -> Result<(ConversationSummary, Vec<ConversationEvent>)>;

    /// `actor` (a member) adds `users`: `not_group`, `not_member`,
    /// `owner_only` (the group's setting), `banned`; people already in it
    /// are skipped (`already_member` when nobody is left). One
    /// `member_added` each.
    async fn add_members(
        &self,
        room: ConversationId,
        actor: &UserBrief,
        users: &[UserBrief],
    ) -> Result<Vec<ConversationEvent>>;

    /// One moderation act by `actor`: `not_found`, `not_group`,
    /// `not_member`, `owner_only`, `cannot_moderate_self`, `message_not_found`.
    async fn moderate(
        &self,
        room: ConversationId,
        actor: &UserBrief,
        act: GroupAct,
    ) -> Result<ConversationEvent>;

    /// A group's settings, mutes in force at `now_ms` and bans.
    async fn group_info(&self, room: ConversationId, now_ms: i64) -> Result<GroupInfo>;

    /// Every mute in force at `now_ms`: (group, user, until).
    async fn mutes_in_force(&self, now_ms: i64) -> Result<Vec<(ConversationId, UserId, i64)>>;
}

/// What a new guest brings.
#[derive(Clone, Debug)]
pub struct NewGuest<'a> {
    /// Generated display name (`访客 NNNN`).
    pub nickname: &'a str,
    /// Unguessable, unregistrable username.
    pub username: &'a str,
    /// What they told (validated).
    pub name: &'a str,
    pub contact: &'a str,
    /// What the server saw (cut to length).
    pub first_page: &'a str,
    pub browser: &'a str,
}

/// A support conversation's desk row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupportRow {
    /// The conversation.
    pub room: ConversationId,
    /// Its guest.
    pub guest: UserId,
    /// Where it stands.
    pub status: SupportStatus,
    /// Who has it (assigned only).
    pub agent: Option<UserId>,
}

/// Which support conversations to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SupportFilter {
    /// The queue, next first.
    Waiting,
    /// Those assigned to this agent.
    AssignedTo(UserId),
    /// This one.
    One(ConversationId),
    /// The guest's earlier conversation(s) and this one: every support
    /// conversation of this guest.
    OfGuest(UserId),
}

/// The support desk.
#[async_trait]
pub trait DeskStore: Send + Sync {
    /// Stores a guest (a `users` row of role guest that cannot sign in,
    /// and its details) and opens their support conversation, waiting at
    /// the end of the queue, with `support_opened` at seq 1.
    async fn create_guest(
        &self,
        guest: NewGuest<'_>,
    ) -> Result<(GuestInfo, ConversationId, ConversationEvent)>;

    /// A guest's details.
    async fn guest(&self, user: UserId) -> Result<Option<GuestInfo>>;

    /// Changes a guest's given name and contact (validated).
    async fn set_guest_details(&self, user: UserId, name: &str, contact: &str) -> Result<()>;

    /// The support conversation of `guest`.
    async fn support_of_guest(&self, guest: UserId) -> Result<Option<SupportRow>>;

    /// The desk row of a support conversation.
    async fn support(&self, room: ConversationId) -> Result<Option<SupportRow>>;

    /// Support conversations as the desk shows them (queue positions for
    /// waiting ones).
    async fn support_views(&self, filter: SupportFilter) -> Result<Vec<SupportView>>;

    /// Gives a waiting conversation to `agent` (who becomes a member), if
    /// they have fewer than `max` (None: no limit): one guarded UPDATE, so
    /// of concurrent assignments exactly one succeeds and the others get
    /// `already_assigned` (`support_not_open` when closed,
    /// `agent_at_capacity`). Logs `support_assigned` by `actor`.
    async fn assign(
        &self,
        room: ConversationId,
        agent: &UserBrief,
        actor: &UserBrief,
        max: Option<u32>,
    ) -> Result<ConversationEvent>;

    /// Moves an assigned conversation from `from` (who must have it:
    /// `not_yours`) to `to` (below `max`); logs `support_assigned` by
    /// `actor`.
    async fn transfer(
        &self,
        room: ConversationId,
        from: UserId,
        to: &UserBrief,
        actor: &UserBrief,
        max: Option<u32>,
    ) -> Result<ConversationEvent>;

    /// Puts every conversation assigned to `agent` back at the front of
    /// the queue (in their order), each with `support_returned`; the agent
    /// is no longer a member of them.
    async fn return_all(
        &self,
        agent: &UserBrief,
        reason: &str,
        system: &UserBrief,
    ) -> Result<Vec<ConversationEvent>>;

    /// Closes a waiting or assigned conversation (`support_not_open`
    /// otherwise); if `only_agent`, it must be theirs (`not_yours`). The
    /// agent is no longer a member. Returns the event and the agent it had.
    async fn close_support(
        &self,
        room: ConversationId,
        actor: &UserBrief,
        only_agent: Option<UserId>,
    ) -> Result<(ConversationEvent, Option<UserId>)>;

    /// Reopens a closed conversation (at the end of the queue) with
    /// `support_reopened` by its guest; None if it was not closed.
    async fn reopen_support(
        &self,
        room: ConversationId,
        guest: &UserBrief,
    ) -> Result<Option<ConversationEvent>>;

    /// The oldest waiting conversation.
    async fn next_waiting(&self) -> Result<Option<ConversationId>>;

    /// Open (assigned) conversations per agent holding any.
    async fn open_counts(&self) -> Result<Vec<(UserId, u32)>>;
}
