//! Webhooks' ear on the event seam: a [`Publisher`] in front of the rest
//! that passes everything on and bumps a counter the deliverers wait on,
//! so they read the logs as soon as something is stored (and otherwise
//! sleep). Bumping a `watch` never blocks and never fails the sender.

use std::sync::Arc;

use bytes::Bytes;
use teahouse_protocol::{ConversationId, Seq};
use tokio::sync::watch;

use crate::publish::{Publisher, Signal};

/// Forwards to `inner`; counts published events in `events`.
#[derive(Debug)]
pub(crate) struct WakeOnPublish {
    /// Where everything goes.
    pub(crate) inner: Arc<dyn Publisher>,
    /// Bumped after every published event.
    pub(crate) events: watch::Sender<u64>,
}

impl Publisher for WakeOnPublish {
    fn publish(&self, conversation: ConversationId, seq: Seq, frame: Bytes) {
        self.inner.publish(conversation, seq, frame);
        self.events.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn signal(&self, signal: Signal) {
        self.inner.signal(signal);
    }
}
