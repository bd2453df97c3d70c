//! The admin page's sections added after issue 16, one file each (the
//! page itself is [`super::desk::admin`]):
//!
//! - [`webhooks`]: webhook endpoints, their deliveries and failures.

pub mod webhooks;
