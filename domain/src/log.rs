//! The per-conversation event log, as the domain sees it: a message to
//! store, the outcome of a send, and which page of a log to read. How logs
//! are stored is the [`store`](crate::store)'s business.
//!
//! Every event has the next sequence number of its conversation, assigned in
//! the transaction that stores it: no gaps, no repeats, never going back.
//! Messages carry the sender's `client_id`; a retry with the same id returns
//! the stored event instead of storing a second copy.

use teahouse_protocol::{ConversationEvent, ConversationId, MessageContent, Seq, UserId};

/// A validated message to store.
#[derive(Clone, Debug)]
pub struct NewMessage {
    /// The conversation it is sent to.
    pub conversation_id: ConversationId,
    /// The sender's idempotency key.
    pub client_id: String,
    /// What it carries (text already normalised, media already stored
    /// and owned by the sender).
    pub content: MessageContent,
    /// The seq of the message it quotes (checked by the store, in the
    /// transaction that stores it: a message of the same conversation).
    pub reply_to: Option<Seq>,
    /// Members it mentions, without repeats and at most
    /// [`MENTIONS_MAX`](teahouse_protocol::limits::MENTIONS_MAX) (checked
    /// members by the store, in the same transaction).
    pub mentions: Vec<UserId>,
}

/// The result of a send: the stored event, and whether this call stored it
/// (false when it was a retry of an already stored `client_id`).
#[derive(Clone, Debug)]
pub struct Sent {
    /// The event as stored.
    pub event: ConversationEvent,
    /// True if this send stored it (and it must be published).
    pub fresh: bool,
}

/// Which part of a log to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// The newest `limit` events with seq < `before` (None: the very newest).
    Before { before: Option<Seq>, limit: u32 },
    /// The oldest `limit` events with seq > `after` (catch-up after a gap).
    After { after: Seq, limit: u32 },
    /// `seq` with its neighbours: about half of `limit` up to and including
    /// it, the rest after it (opening a search hit or a quote in context).
    Around { seq: Seq, limit: u32 },
}
