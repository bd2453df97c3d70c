//! What the server API sends and changes: a message from the key's bot to
//! a user (their private chat with the bot), to a room, and a system notice
//! to everyone; adding and removing a user to and from a room; closing a
//! user's connections.
//!
//! Every message goes through the same group-commit writer as a browser's
//! send ([`crate::writer`]): stored in the conversation's log with the next
//! seq, answered once durable, then pushed; a retry with the same
//! `client_id` from the same key returns the stored event. The per-user
//! send rate of browsers does not apply (a backend is not a person typing).
//!
//! "Everyone" is the lobby (大厅), the conversation every account joins
//! when it is made: a notice is an event of its log (`msgtype` `notice`),
//! so it is in history and caught up after a disconnect like any message.

use teahouse_protocol::{ConversationId, ErrorCode, MessageContent, ServerFrame, UserBrief};

use super::ApiCaller;
use crate::log::{NewMessage, Sent};
use crate::publish::Signal;
use crate::{hub, validate, Chat, DomainError, Result};

impl Chat {
    /// A text from the key's bot to host user `external_id`, in their
    /// private chat with the bot (opened if new; the anti-spam rule of
    /// people's private chats does not apply to a bot its admin made).
    /// Full, unlimited keys only.
    pub async fn api_send_to_user(
        &self,
        caller: &ApiCaller,
        external_id: &str,
        client_id: &str,
        text: &str,
    ) -> Result<Sent> {
        caller.require_write()?;
        caller.require_unlimited()?;
        let peer = self.external_user(external_id).await?;
        let room = self.bot_direct(&caller.bot, &peer).await?;
        let text = validate::message_text(text, self.config.max_message_chars)?;
        self.api_store(&caller.bot, room, client_id, MessageContent::Text(text))
            .await
    }

    /// A text from the key's bot to `room` (a public room: the bot joins it
    /// first if it is not in it). Full keys allowed in `room` only.
    pub async fn api_send_to_room(
        &self,
        caller: &ApiCaller,
        room: ConversationId,
        client_id: &str,
        text: &str,
    ) -> Result<Sent> {
        caller.require_write()?;
        caller.require_room(room)?;
        let text = validate::message_text(text, self.config.max_message_chars)?;
        self.bot_in(&caller.bot, room).await?;
        self.api_store(&caller.bot, room, client_id, MessageContent::Text(text))
            .await
    }

    /// A system notice to everyone: stored in the lobby's log as a
    /// `notice` message of the key's bot, pushed to every member's
    /// sockets. Full, unlimited keys only.
    pub async fn api_send_to_all(
        &self,
        caller: &ApiCaller,
        client_id: &str,
        text: &str,
    ) -> Result<Sent> {
        caller.require_write()?;
        caller.require_unlimited()?;
        let text = validate::message_text(text, self.config.max_message_chars)?;
        let lobby = self.lobby().await?;
        self.bot_in(&caller.bot, lobby).await?;
        self.api_store(&caller.bot, lobby, client_id, MessageContent::Notice(text))
            .await
    }

    /// Adds host user `external_id` to public room `room` (announced live,
    /// their sockets subscribed at once); false if they were in it.
    pub async fn api_add_member(
        &self,
        caller: &ApiCaller,
        room: ConversationId,
        external_id: &str,
    ) -> Result<bool> {
        caller.require_write()?;
        caller.require_room(room)?;
        let user = self.external_user(external_id).await?;
        match self.store.join(&user, room).await {
            Ok(event) => {
                self.publish_membership(&user, event, true);
                Ok(true)
            }
            Err(DomainError::Rejected(e)) if e.code == ErrorCode::AlreadyMember => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Removes host user `external_id` from `room` (their sockets stop
    /// receiving it at once); false if they were not in it.
    pub async fn api_remove_member(
        &self,
        caller: &ApiCaller,
        room: ConversationId,
        external_id: &str,
    ) -> Result<bool> {
        caller.require_write()?;
        caller.require_room(room)?;
        let user = self.external_user(external_id).await?;
        match self.store.leave(&user, room).await {
            Ok(event) => {
                self.publish_membership(&user, event, false);
                Ok(true)
            }
            Err(DomainError::Rejected(e)) if e.code == ErrorCode::NotMember => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Closes every connection of host user `external_id` (with "session
    /// ended": their pages do not reconnect by themselves); how many were
    /// open. Full, unlimited keys only.
    pub async fn api_close_connections(
        &self,
        caller: &ApiCaller,
        external_id: &str,
    ) -> Result<usize> {
        caller.require_write()?;
        caller.require_unlimited()?;
        let user = self.external_user(external_id).await?;
        let open = self.hub.connections_of(user.id);
        self.end_user_sockets(user.id);
        Ok(open)
    }

    /// Stores one message of `bot` through the writer (no per-user rate).
    async fn api_store(
        &self,
        bot: &UserBrief,
        room: ConversationId,
        client_id: &str,
        content: MessageContent,
    ) -> Result<Sent> {
        let client_id = validate::client_id(client_id)?;
        let msg = NewMessage {
            conversation_id: room,
            client_id,
            content,
            reply_to: None,
            mentions: Vec::new(),
        };
        self.sends.send(bot.clone(), msg).await
    }

    /// The lobby: the first of the rooms every new account joins.
    async fn lobby(&self) -> Result<ConversationId> {
        self.store
            .default_rooms()
            .await?
            .into_iter()
            .min()
            .ok_or_else(|| DomainError::Internal("there is no lobby".into()))
    }

    /// Makes `bot` a member of public room `room` if it is not one yet
    /// (`not_found`; `forbidden` for conversations one cannot join).
    async fn bot_in(&self, bot: &UserBrief, room: ConversationId) -> Result<()> {
        match self.store.check_member(room, bot.id).await {
            Ok(()) => Ok(()),
            Err(DomainError::Rejected(e)) if e.code == ErrorCode::NotMember => {
                match self.store.join(bot, room).await {
                    Ok(event) => {
                        self.publish_membership(bot, event, true);
                        Ok(())
                    }
                    // Two first sends at once: the other one joined it.
                    Err(DomainError::Rejected(e)) if e.code == ErrorCode::AlreadyMember => Ok(()),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// The private chat of `bot` and `peer`, opened (and announced, both
    /// sides' sockets subscribed first) if new.
    async fn bot_direct(&self, bot: &UserBrief, peer: &UserBrief) -> Result<ConversationId> {
        if let Some(id) = self.store.direct_between(bot.id, peer.id).await? {
            return Ok(id);
        }
        let (id, opened) = self.store.open_direct(bot, peer.id).await?;
        if let Some(event) = opened {
            for user in [bot.id, peer.id] {
                self.publisher.signal(Signal::Joined {
                    user,
                    conversation: id,
                });
            }
            let seq = event.seq;
            let frame = hub::encode(&ServerFrame::Event { event });
            self.publisher.publish(id, seq, frame);
        }
        Ok(id)
    }
}
