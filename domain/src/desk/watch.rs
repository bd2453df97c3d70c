//! The desk's ear on the event seam: a [`Publisher`] in front of the hub
//! that passes everything on and tells the desk's router when a user comes
//! online or goes offline (the hub's presence signals: first socket
//! opened, last socket closed).

use std::sync::Arc;

use bytes::Bytes;
use teahouse_protocol::{ConversationId, Seq};
use tokio::sync::mpsc::UnboundedSender;

use super::router::DeskInput;
use crate::publish::{Publisher, Signal};
use crate::Hub;

/// Forwards to the hub; copies presence changes to the desk.
#[derive(Debug)]
pub(crate) struct DeskWatch {
    /// Where everything goes.
    pub(crate) hub: Arc<Hub>,
    /// The desk router's inbox.
    pub(crate) desk: UnboundedSender<DeskInput>,
}

impl Publisher for DeskWatch {
    fn publish(&self, conversation: ConversationId, seq: Seq, frame: Bytes) {
        self.hub.publish(conversation, seq, frame);
    }

    fn signal(&self, signal: Signal) {
        if let Signal::Presence { user, online, .. } = &signal {
            // The router is gone only when the service is: nothing to tell.
            let _ = self.desk.send(DeskInput::Presence {
                user: *user,
                online: *online,
            });
        }
        self.hub.signal(signal);
    }
}
