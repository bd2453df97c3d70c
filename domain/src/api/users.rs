//! Users of the host system, by the host's own id (`external_id`): create
//! or update one (nickname, avatar URL), look one up, and who is online
//! (with their number of connections: tabs and devices), overall and in a
//! room.
//!
//! A host user is an ordinary account that cannot sign in with a password
//! (it comes in through a hand-off token, [`super::handoff`]); like every
//! new account it lands in the lobby. A change of nickname or avatar is
//! pushed to everyone sharing a conversation with them, as a change made
//! in the Me panel is.

use teahouse_protocol::{integration, validate, ConversationId, ErrorCode, UserBrief, UserId};

use super::ApiCaller;
use crate::store::ExternalUser;
use crate::{rooms, Chat, DomainError, Result};

/// Someone online, as the API lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnlineUser {
    /// The account and the host's id for it (None: an account made here).
    pub user: ExternalUser,
    /// Their open connections on this server.
    pub connections: usize,
}

impl Chat {
    /// Creates host user `external_id` (joining the lobby, announced live)
    /// or updates their nickname and avatar URL (pushed live); true if it
    /// was created. Full keys only.
    pub async fn upsert_external_user(
        &self,
        caller: &ApiCaller,
        external_id: &str,
        nickname: &str,
        avatar_url: Option<&str>,
    ) -> Result<(UserBrief, bool)> {
        caller.require_write()?;
        let external_id = integration::external_id(external_id)?;
        let nickname = validate::nickname(nickname)?;
        let avatar_url = integration::avatar_url(avatar_url.unwrap_or(""))?;
        let username = format!("ext:{}", crate::media::MediaFiles::new_id());
        let (user, created) = self
            .store
            .upsert_external_user(&external_id, &username, &nickname, avatar_url.as_deref())
            .await?;
        if created {
            for event in rooms::join_defaults(&*self.store, &user).await? {
                self.publish_membership(&user, event, true);
            }
        } else {
            self.profile_changed(&user).await?;
        }
        Ok((user, created))
    }

    /// The account of host user `external_id`, if there is one.
    pub async fn user_by_external_id(&self, external_id: &str) -> Result<Option<UserBrief>> {
        let external_id = integration::external_id(external_id)?;
        self.store.user_by_external_id(&external_id).await
    }

    /// The account of host user `external_id`, or `not_found`.
    pub async fn external_user(&self, external_id: &str) -> Result<UserBrief> {
        self.user_by_external_id(external_id)
            .await?
            .ok_or_else(|| DomainError::code(ErrorCode::NotFound))
    }

    /// How many connections `user` has open (0: offline).
    pub fn connections_of(&self, user: UserId) -> usize {
        self.hub.connections_of(user)
    }

    /// Everyone online, by id (unlimited keys only).
    pub async fn online_users(&self, caller: &ApiCaller) -> Result<Vec<OnlineUser>> {
        caller.require_unlimited()?;
        self.online_among(self.hub.online_users()).await
    }

    /// The members of `room` who are online, by id.
    pub async fn online_in_room(
        &self,
        caller: &ApiCaller,
        room: ConversationId,
    ) -> Result<Vec<OnlineUser>> {
        caller.require_room(room)?;
        // `not_found` for a conversation that does not exist.
        self.store.summary(caller.bot.id, room).await?;
        let online = self
            .store
            .members(room)
            .await?
            .into_iter()
            .map(|m| (m.id, self.hub.connections_of(m.id)))
            .filter(|(_, n)| *n > 0)
            .collect();
        self.online_among(online).await
    }

    async fn online_among(&self, online: Vec<(UserId, usize)>) -> Result<Vec<OnlineUser>> {
        let ids: Vec<UserId> = online.iter().map(|(id, _)| *id).collect();
        let counts: std::collections::HashMap<UserId, usize> = online.into_iter().collect();
        Ok(self
            .store
            .external_users(&ids)
            .await?
            .into_iter()
            .map(|user| OnlineUser {
                connections: counts.get(&user.user.id).copied().unwrap_or(0),
                user,
            })
            .collect())
    }
}
