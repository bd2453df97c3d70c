//! Sections of the admin page (`/admin`, [`crate::components::desk::admin`])
//! that live in their own files:
//!
//! - [`api_keys`]: the server API's keys (issue 17).
//! - [`webhooks`]: webhook endpoints, their deliveries and failures (issue 17).

pub mod api_keys;
pub mod webhooks;
