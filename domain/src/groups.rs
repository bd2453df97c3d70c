//! Private groups, WeChat's way: created by picking people you share a
//! conversation with; members only; members (or only the owner, a group
//! setting) add others; the owner renames it, sets the announcement,
//! removes, mutes and bans members, deletes any message (a recall as the
//! owner, [`crate::recall`]) and hands the group on. Every act is an event
//! in the group's log, published like every other; a removed member's
//! sockets stop receiving the group right after the event that says so.
//!
//! Mutes are kept in memory too ([`MuteBook`], loaded at start and updated
//! by every mute), so that a send is checked without a query.

use std::collections::HashMap;
use std::sync::RwLock;

use teahouse_protocol::text::{Lines, TextRule};
use teahouse_protocol::{
    limits, ConversationEvent, ConversationId, ConversationSummary, ErrorCode, EventBody,
    GroupInfo, Seq, ServerFrame, UserBrief, UserId, UserRole,
};

use crate::publish::Signal;
use crate::store::GroupAct;
use crate::{hub, now_ms, validate, Chat, DomainError, Result};

/// The announcement (群公告): optional multi-line text.
pub const ANNOUNCEMENT: TextRule = TextRule {
    field: "text",
    lines: Lines::Multi,
    required: false,
    max_chars: limits::ANNOUNCEMENT_MAX,
    empty: ErrorCode::AnnouncementTooLong,
    too_long: ErrorCode::AnnouncementTooLong,
};

/// Mutes in force: (group, member) → end (ms since the epoch).
#[derive(Debug, Default)]
pub struct MuteBook {
    /// Ended mutes are dropped when next looked at.
    until: RwLock<HashMap<(ConversationId, UserId), i64>>,
}

impl MuteBook {
    /// Records a mute (0 or a past time lifts it).
    pub(crate) fn set(&self, room: ConversationId, user: UserId, until_ms: i64) {
        let mut map = self.until.write().unwrap_or_else(|p| p.into_inner());
        if until_ms > now_ms() {
            map.insert((room, user), until_ms);
        } else {
            map.remove(&(room, user));
        }
    }

    /// `muted` if `user` may not send in `room` now.
    pub(crate) fn check(&self, room: ConversationId, user: UserId) -> Result<()> {
        let until = self
            .until
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(room, user))
            .copied();
        match until {
            Some(until) if until > now_ms() => Err(DomainError::code(ErrorCode::Muted)),
            Some(_) => {
                self.set(room, user, 0);
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// Parses a comma-separated list of user ids (`"3,5,8"`), without
/// repeats or `me`: `group_members_invalid` if empty, malformed or too long.
fn parse_ids(raw: &str, me: UserId) -> Result<Vec<UserId>> {
    let invalid = || DomainError::field(ErrorCode::GroupMembersInvalid, "members");
    let mut ids = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id: UserId = part.parse().map_err(|_| invalid())?;
        if id != me && !ids.contains(&id) {
            ids.push(id);
        }
        if ids.len() > limits::GROUP_PICK_MAX {
            return Err(invalid());
        }
    }
    if ids.is_empty() {
        return Err(invalid());
    }
    Ok(ids)
}

impl Chat {
    /// The people `me` may pick for a group: existing accounts (not the
    /// system account, not guests) that share a conversation with `me`.
    async fn pickable(&self, me: &UserBrief, raw: &str) -> Result<Vec<UserBrief>> {
        let mut people = Vec::new();
        for id in parse_ids(raw, me.id)? {
            let user = self
                .user(id)
                .await?
                .filter(|u| !u.is_system())
                .ok_or_else(|| DomainError::field(ErrorCode::NotFound, "members"))?;
            if self.store.role(id).await? == Some(UserRole::Guest) {
                return Err(DomainError::field(ErrorCode::NotFound, "members"));
            }
            if !self.store.share_conversation(me.id, id).await? {
                return Err(DomainError::field(ErrorCode::NoSharedRoom, "members"));
            }
            people.push(user);
        }
        Ok(people)
    }

    /// Publishes group events in order; `joined` users' sockets are
    /// subscribed before them, `left` users' cut right after.
    fn publish_group(
        &self,
        room: ConversationId,
        joined: &[UserId],
        events: Vec<ConversationEvent>,
        left: Option<UserId>,
    ) {
        for user in joined {
            self.publisher.signal(Signal::Joined {
                user: *user,
                conversation: room,
            });
        }
        for event in events {
            let seq = event.seq;
            self.publisher
                .publish(room, seq, hub::encode(&ServerFrame::Event { event }));
        }
        if let Some(user) = left {
            self.publisher.signal(Signal::Left {
                user,
                conversation: room,
            });
        }
    }

    /// Creates a private group named `name` with the people `members`
    /// (comma-separated user ids) that `owner` shares a conversation with.
    pub async fn create_group(
        &self,
        owner: &UserBrief,
        name: &str,
        members: &str,
    ) -> Result<ConversationSummary> {
        let name = validate::room_name(name)?;
        let people = self.pickable(owner, members).await?;
        let (summary, events) = self.store.create_group(owner, &name, &people).await?;
        let mut joined: Vec<UserId> = people.iter().map(|p| p.id).collect();
        joined.push(owner.id);
        self.publish_group(summary.id, &joined, events, None);
        Ok(summary)
    }

    /// `actor` adds people they share a conversation with to a group.
    pub async fn add_group_members(
        &self,
        actor: &UserBrief,
        room: ConversationId,
        members: &str,
    ) -> Result<Vec<ConversationEvent>> {
        let people = self.pickable(actor, members).await?;
        let events = self.store.add_members(room, actor, &people).await?;
        let joined: Vec<UserId> = events
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::MemberAdded { user } => Some(user.id),
                _ => None,
            })
            .collect();
        self.publish_group(room, &joined, events.clone(), None);
        Ok(events)
    }

    /// One act of the group's owner, stored as an event and published.
    pub async fn moderate_group(
        &self,
        owner: &UserBrief,
        room: ConversationId,
        act: GroupAct,
    ) -> Result<ConversationEvent> {
        let act = match act {
            GroupAct::Rename(name) => GroupAct::Rename(validate::room_name(&name)?),
            GroupAct::Announce(text) => GroupAct::Announce(ANNOUNCEMENT.check(&text)?),
            other => other,
        };
        let event = self.store.moderate(room, owner, act).await?;
        let left = match &event.body {
            EventBody::MemberRemoved { user } | EventBody::MemberBanned { user } => Some(user.id),
            EventBody::MemberMuted { user, until_ms } => {
                self.mutes.set(room, user.id, *until_ms);
                None
            }
            _ => None,
        };
        if let EventBody::MemberBanned { user } = &event.body {
            self.mutes.set(room, user.id, 0);
        }
        self.publish_group(room, &[], vec![event.clone()], left);
        Ok(event)
    }

    /// Mutes `user` in `room` for `minutes` (0 lifts the mute; at most
    /// [`limits::MUTE_MAX_MINUTES`]).
    pub async fn mute_member(
        &self,
        owner: &UserBrief,
        room: ConversationId,
        user: UserId,
        minutes: u32,
    ) -> Result<ConversationEvent> {
        if minutes > limits::MUTE_MAX_MINUTES {
            return Err(DomainError::field(
                ErrorCode::MuteDurationInvalid,
                "minutes",
            ));
        }
        let until_ms = match minutes {
            0 => 0,
            m => now_ms() + i64::from(m) * 60_000,
        };
        self.moderate_group(owner, room, GroupAct::Mute { user, until_ms })
            .await
    }

    /// Deletes the message at `seq` (the owner only, any message, any
    /// time): a recall as the group's owner, so it reads as every recalled
    /// message does (`recalled`, `by` the owner), leaves the search index
    /// and takes its media files with it (see [`crate::recall`]).
    pub async fn remove_group_message(
        &self,
        owner: &UserBrief,
        room: ConversationId,
        seq: Seq,
    ) -> Result<ConversationEvent> {
        self.recall_as(owner, room, seq, true).await
    }

    /// A group's settings and moderation state; members only.
    pub async fn group_detail(&self, user: UserId, room: ConversationId) -> Result<GroupInfo> {
        self.store.check_member(room, user).await?;
        self.store.group_info(room, now_ms()).await
    }

    /// `muted` if `user` may not send in `room` now (every send checks).
    pub(crate) fn check_muted(&self, room: ConversationId, user: UserId) -> Result<()> {
        self.mutes.check(room, user)
    }

    /// Loads the mutes in force (at start).
    pub(crate) async fn load_mutes(&self) -> Result<()> {
        for (room, user, until) in self.store.mutes_in_force(now_ms()).await? {
            self.mutes.set(room, user, until);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mute_holds_until_its_end_and_not_after() {
        let book = MuteBook::default();
        let (room, bob) = (ConversationId(7), UserId(3));
        book.set(room, bob, now_ms() + 60_000);
        assert!(book.check(room, bob).is_err());
        assert!(book.check(room, UserId(4)).is_ok());
        assert!(book.check(ConversationId(8), bob).is_ok());
        // Ended (a time already past): sends go through again.
        book.set(room, bob, now_ms() - 1);
        assert!(book.check(room, bob).is_ok());
        book.until
            .write()
            .unwrap()
            .insert((room, bob), now_ms() - 1);
        assert!(book.check(room, bob).is_ok());
        assert!(book.until.read().unwrap().is_empty());
    }

    #[test]
    fn member_lists_are_parsed_strictly() {
        let me = UserId(1);
        assert_eq!(
            parse_ids("3, 5,3,1,", me).unwrap(),
            vec![UserId(3), UserId(5)]
        );
        for bad in ["", "1", "x", "3;5", "3,,abc"] {
            assert!(parse_ids(bad, me).is_err(), "{bad:?}");
        }
        let many: Vec<String> = (2..=202).map(|i| i.to_string()).collect();
        assert!(parse_ids(&many.join(","), me).is_err());
    }
}
