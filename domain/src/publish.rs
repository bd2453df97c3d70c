//! The event seam: the one way anything leaves the domain towards live
//! connections.
//!
//! Every committed event leaves the message writer, and every membership
//! change leaves [`Chat`](crate::Chat), through a [`Publisher`]. So do the
//! control signals that must reach sockets wherever they are: "this session
//! ended, close its sockets", "this user's sockets must close", "this user
//! joined or left a conversation", "this user came online or went offline".
//! Today's one implementation is the in-process [`Hub`](crate::Hub); a bus
//! between nodes, webhooks or the server API plug in as further
//! implementations (or wrappers around the hub) without the writer, the
//! services or the socket code changing.
//!
//! A publisher never blocks and never fails the caller: the event is already
//! stored when it is published, and a connection that misses it catches up
//! from the log by sequence number.

use std::sync::Arc;

use bytes::Bytes;
use teahouse_protocol::{ConversationId, ReadState, Seq, UserBrief, UserId};

/// Identifies one signed-in session (a browser's cookie), so that ending it
/// closes exactly the sockets opened under it and no others of the same user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionKey(pub i128);

/// Control and ephemeral signals that travel beside the events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signal {
    /// `user` became a member of `conversation`: their open sockets start
    /// receiving its events (published right before the membership event).
    Joined {
        user: UserId,
        conversation: ConversationId,
    },
    /// `user` is no longer a member: their sockets stop receiving it at
    /// once (published right after the event that says so).
    Left {
        user: UserId,
        conversation: ConversationId,
    },
    /// The session ended (logout): its sockets close with "session ended".
    EndSession { user: UserId, session: SessionKey },
    /// Every socket of `user` closes with "session ended" (password change,
    /// account disabled, …), except those of the session `except` (the one
    /// that changed the password stays signed in).
    EndUser {
        user: UserId,
        except: Option<SessionKey>,
    },
    /// `user` changed their profile: every connection that shares a
    /// conversation with them (their own included) is told.
    ProfileChanged {
        user: UserBrief,
        conversations: Arc<[ConversationId]>,
    },
    /// `user` came online (first socket) or went offline (last socket
    /// closed); ephemeral, may be lost. Carries the user's conversations so
    /// that whoever delivers it knows who shares one with them.
    Presence {
        user: UserId,
        online: bool,
        conversations: Arc<[ConversationId]>,
    },
    /// A frame for every open socket of `user` (their role changed, their
    /// place in the support queue moved, …).
    ToUser { user: UserId, frame: Bytes },
    /// `user`'s read position moved: every socket of theirs (all tabs and
    /// devices) is told the new badge.
    ReadMoved { user: UserId, state: ReadState },
    /// `user` is typing in `conversation` (ephemeral, already rate-limited
    /// and authorized): the other members' sockets are told.
    Typing {
        user: UserBrief,
        conversation: ConversationId,
    },
}

/// Where committed events and signals go. Implementations must be cheap and
/// non-blocking: they run on the message writer's thread and on request
/// tasks.
pub trait Publisher: Send + Sync + std::fmt::Debug {
    /// A committed event of `conversation` at `seq`, already serialized as
    /// the frame every recipient gets (the same bytes for all of them).
    fn publish(&self, conversation: ConversationId, seq: Seq, frame: Bytes);

    /// A control or ephemeral signal.
    fn signal(&self, signal: Signal);
}
