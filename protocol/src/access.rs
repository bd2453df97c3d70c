//! Who may do what: account roles, and the read models of the admin page,
//! private groups and the support desk (issue 16).
//!
//! Roles are checked on the server on every call; a client's idea of its
//! role is only for drawing.

use serde::{Deserialize, Serialize};

use crate::{ConversationEvent, ConversationId, Seq, UserBrief};

/// An account's role. Every account has one; `guest` is the role of a
/// support-desk visitor's generated identity (it cannot sign in).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash,
)]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    /// A visitor of the support desk, without an account.
    Guest,
    /// An ordinary account.
    #[default]
    User,
    /// Answers support conversations.
    Agent,
    /// Grants and revokes roles, sees every agent's load and the queue.
    Admin,
}

impl UserRole {
    /// The tag as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Guest => "guest",
            UserRole::User => "user",
            UserRole::Agent => "agent",
            UserRole::Admin => "admin",
        }
    }

    /// The tag read back; `None` for a tag this build does not know.
    pub fn parse(tag: &str) -> Option<UserRole> {
        Some(match tag {
            "guest" => UserRole::Guest,
            "user" => UserRole::User,
            "agent" => UserRole::Agent,
            "admin" => UserRole::Admin,
            _ => return None,
        })
    }

    /// Agents and admins: staff of the support desk.
    pub fn is_staff(self) -> bool {
        matches!(self, UserRole::Agent | UserRole::Admin)
    }
}

/// A signed-in user and their role (`my_role`; the admin page's rows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserWithRole {
    /// Their public face.
    pub user: UserBrief,
    /// Their role now.
    pub role: UserRole,
}

/// A private group's settings and moderation state (`group_detail`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    /// The group.
    pub id: ConversationId,
    /// Its announcement (群公告), shown at the top; empty when none.
    pub announcement: String,
    /// True when only the owner may add members (else every member may).
    pub owner_only_invite: bool,
    /// Members muted now, with the end of their mute.
    pub muted: Vec<MutedMember>,
    /// People banned from rejoining.
    pub banned: Vec<UserBrief>,
}

/// A muted member and until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MutedMember {
    /// Who.
    pub user: UserBrief,
    /// Their sends are refused until this time (ms since the epoch).
    pub until_ms: i64,
}

/// Where a support conversation stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum SupportStatus {
    /// In the queue: no agent has it.
    #[default]
    Waiting,
    /// An agent has it.
    Assigned,
    /// Closed by an agent; the guest writing again reopens it.
    Closed,
}

impl SupportStatus {
    /// The tag as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            SupportStatus::Waiting => "waiting",
            SupportStatus::Assigned => "assigned",
            SupportStatus::Closed => "closed",
        }
    }

    /// The tag read back.
    pub fn parse(tag: &str) -> Option<SupportStatus> {
        Some(match tag {
            "waiting" => SupportStatus::Waiting,
            "assigned" => SupportStatus::Assigned,
            "closed" => SupportStatus::Closed,
            _ => return None,
        })
    }
}

/// What a guest told about themself and what the server saw at first visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestInfo {
    /// The guest's generated identity (nickname `访客 NNNN`).
    pub user: UserBrief,
    /// A name they gave (empty when none).
    pub name: String,
    /// A contact they gave: phone, e-mail, … (empty when none).
    pub contact: String,
    /// The page they opened the desk from (as their browser said).
    pub first_page: String,
    /// Their browser's User-Agent at the first visit.
    pub browser: String,
    /// When they first came (ms since the epoch).
    pub created_ms: i64,
}

/// One support conversation as the desk shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportView {
    /// The conversation (its log is read with `support_history` /
    /// `desk_history`, or `history` by its agent).
    pub id: ConversationId,
    /// Where it stands.
    pub status: SupportStatus,
    /// The agent who has it (assigned only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<UserBrief>,
    /// 1 for the next to be assigned (waiting only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    /// The guest.
    pub guest: GuestInfo,
    /// Highest seq of its log.
    pub last_seq: Seq,
    /// The newest event, for a preview line.
    pub last_event: Option<ConversationEvent>,
}

/// An agent's load, for the admin page and for transfers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentLoad {
    /// The agent (or admin with conversations).
    pub user: UserBrief,
    /// Their role.
    pub role: UserRole,
    /// Whether they have an open socket (may be assigned new conversations).
    pub online: bool,
    /// Conversations assigned to them now.
    pub open: u32,
}

/// The desk as a whole (`desk_overview`): every agent's load and the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskOverview {
    /// Agents (and admins holding conversations), by nickname.
    pub agents: Vec<AgentLoad>,
    /// Waiting conversations, next first.
    pub queue: Vec<SupportView>,
    /// Most conversations one agent is given automatically.
    pub max_per_agent: u32,
}

/// A guest's view of their desk session (`support_start`, `support_state`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestSession {
    /// Their identity and details.
    pub guest: GuestInfo,
    /// Their one support conversation.
    pub conversation: SupportView,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip() {
        for r in [
            UserRole::Guest,
            UserRole::User,
            UserRole::Agent,
            UserRole::Admin,
        ] {
            assert_eq!(UserRole::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
        for s in [
            SupportStatus::Waiting,
            SupportStatus::Assigned,
            SupportStatus::Closed,
        ] {
            assert_eq!(SupportStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(UserRole::parse("root"), None);
    }
}
