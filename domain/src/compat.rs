//! The seeds' JSON protocol as Teahouse understands it (issue 17): a host
//! system's group id (`group_id`, e.g. `100`) stands for one public room,
//! made (owned by the system account, named `群 100`) the first time
//! someone joins that group id, and joined like any public room from then
//! on. `to_user_id` names a user by the host's own id (`external_id`, set
//! through the server API). The wire format itself is the web layer's (`server/src/routes/compat`);
//! identity never comes from it.

use teahouse_protocol::{ConversationId, ConversationSummary, ErrorCode, UserBrief, UserId};

use crate::store::NewRoom;
use crate::{Chat, DomainError, Result};

/// Longest group id accepted, in characters.
pub const GROUP_KEY_MAX: usize = 32;

/// A group id as the seeds send it (`100`, `"100"`, `"sales-2"`): 1 to
/// [`GROUP_KEY_MAX`] ASCII letters, digits, `_` or `-`, and not `0` (the
/// seeds' "no group"). `compat_group_invalid` otherwise.
pub fn group_key(raw: &str) -> Result<String> {
    let key = raw.trim();
    let valid = !key.is_empty()
        && key.len() <= GROUP_KEY_MAX
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && key.bytes().any(|b| b != b'0');
    if valid {
        Ok(key.to_owned())
    } else {
        Err(DomainError::field(
            ErrorCode::CompatGroupInvalid,
            "group_id",
        ))
    }
}

impl Chat {
    /// Joins `user` to the room of group id `key` (see [`group_key`]),
    /// making the room first if the group id is new. Already a member: the
    /// room as it is. A group id bound to a room that is not public is
    /// refused as joining it would be (`forbidden`).
    pub async fn compat_join_group(
        &self,
        user: &UserBrief,
        key: &str,
    ) -> Result<ConversationSummary> {
        let key = group_key(key)?;
        let name = format!("群 {key}");
        let description = format!("group_id {key}");
        let system = self.desk.system.clone();
        let (room_id, created) = self
            .store
            .ensure_compat_group(
                &system,
                &key,
                NewRoom {
                    name: &name,
                    description: &description,
                },
            )
            .await?;
        if let Some(event) = created {
            self.publish_membership(&system, event, true);
        }
        match self.join_room(user, room_id).await {
            Ok(summary) => Ok(summary),
            Err(DomainError::Rejected(e)) if e.code == ErrorCode::AlreadyMember => {
                self.summary_with_badge(user.id, room_id).await
            }
            Err(e) => Err(e),
        }
    }

    /// How the seeds name `user`: the host system's id (`external_id`)
    /// when they have one, else their Teahouse id.
    pub async fn seed_user_id(&self, user: UserId) -> Result<String> {
        let found = self.store.external_users(&[user]).await?;
        Ok(found
            .into_iter()
            .find_map(|u| u.external_id)
            .unwrap_or_else(|| user.0.to_string()))
    }

    /// The room of group id `key`, for a message to it: `not_found` if no
    /// one ever joined that group id, `not_member` unless `user` is in it.
    pub async fn compat_group_room(&self, user: UserId, key: &str) -> Result<ConversationId> {
        let key = group_key(key)?;
        let room = self
            .store
            .compat_group(&key)
            .await?
            .ok_or_else(|| DomainError::field(ErrorCode::NotFound, "group_id"))?;
        self.store.check_member(room, user).await?;
        Ok(room)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_keys_are_short_ascii_ids_and_never_zero() {
        assert_eq!(group_key(" 100 ").unwrap(), "100");
        assert_eq!(group_key("sales-2_b").unwrap(), "sales-2_b");
        for bad in [
            "",
            "0",
            "000",
            "a b",
            "群",
            "1;2",
            &"9".repeat(GROUP_KEY_MAX + 1),
        ] {
            let err = group_key(bad).unwrap_err().to_api();
            assert_eq!(err.code, ErrorCode::CompatGroupInvalid, "{bad:?}");
            assert_eq!(err.field.as_deref(), Some("group_id"));
        }
    }
}
