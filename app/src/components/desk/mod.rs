//! The support desk's pages and the admin page (issue 16):
//!
//! - [`support_page`]: `/support`, the guest's chat (also inside the widget).
//! - [`console`]: `/desk`, the agent console.
//! - [`admin`]: `/admin`, roles and the desk at a glance.
//! - [`thread`]: one support conversation's log and composer, shared by the
//!   guest page and the console.
//! - `socket` (browser only): a small reconnecting `/ws` client for them.

pub mod admin;
pub mod console;
#[cfg(feature = "hydrate")]
pub mod socket;
pub mod support_page;
pub mod thread;
