//! Public rooms, the first kind of conversation: the lobby every account
//! lands in, and the rules for creating and joining rooms. The rows live
//! behind [`ConversationStore`].

use teahouse_protocol::{ConversationEvent, ErrorCode, UserBrief};

use crate::store::{ConversationStore, NewRoom};
use crate::{validate, DomainError, Result};

/// Name of the room created on first start; every new account joins it.
pub const LOBBY_NAME: &str = "大厅 · Lobby";
/// Its description.
pub const LOBBY_DESCRIPTION: &str = "人人都在这里 · Everyone is here";

/// A new room's name and description, normalised and checked.
pub(crate) struct CheckedRoom {
    /// The normalised name.
    name: String,
    /// The normalised description.
    description: String,
}

impl CheckedRoom {
    /// Validates what a user typed.
    pub(crate) fn new(name: &str, description: &str) -> Result<CheckedRoom> {
        Ok(CheckedRoom {
            name: validate::room_name(name)?,
            description: validate::room_description(description)?,
        })
    }

    /// As the store takes it.
    pub(crate) fn as_new_room(&self) -> NewRoom<'_> {
        NewRoom {
            name: &self.name,
            description: &self.description,
        }
    }
}

/// The lobby, as created on first start.
pub(crate) fn lobby() -> NewRoom<'static> {
    NewRoom {
        name: LOBBY_NAME,
        description: LOBBY_DESCRIPTION,
    }
}

/// Joins `user` to the default rooms (right after registration); returns
/// the events to publish.
pub(crate) async fn join_defaults(
    store: &dyn ConversationStore,
    user: &UserBrief,
) -> Result<Vec<ConversationEvent>> {
    let mut events = Vec::new();
    for room_id in store.default_rooms().await? {
        match store.join(user, room_id).await {
            Ok(ev) => events.push(ev),
            Err(DomainError::Rejected(e)) if e.code == ErrorCode::AlreadyMember => {}
            Err(e) => return Err(e),
        }
    }
    Ok(events)
}
