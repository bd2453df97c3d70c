//! Draining a node (SIGTERM, a rolling restart): the one flag every route
//! that must behave differently looks at.
//!
//! Once [`Drain::begin`] is called, `/readyz` answers 503 (a load balancer
//! stops sending new clients here), `/ws` and `/compat/ws` refuse new
//! sockets with 503 `server_draining`, and [`crate::run`] closes the open
//! sockets with close code 4010 (`server_draining`, "reconnect elsewhere")
//! spread over `--drain-secs`. Ordinary HTTP requests are still served
//! meanwhile (a client's sends in flight finish); then the listener closes,
//! the requests in flight finish, the webhook deliverers stop and the
//! process exits 0.
//!
//! With several nodes the same flag is what a node would announce on the
//! bus before it goes (issue 18's bus work).

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether this node is draining. Shared as `Arc<Drain>`.
#[derive(Debug, Default)]
pub struct Drain {
    /// Set once, never cleared: a draining node only goes away.
    draining: AtomicBool,
}

impl Drain {
    /// Starts the drain (idempotent).
    pub fn begin(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// True once the drain started.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }
}
