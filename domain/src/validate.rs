//! Input validation, re-exported from [`teahouse_protocol::validate`] (the
//! pure checks live in the protocol crate so the browser runs the same ones);
//! kept here so domain callers read `validate::nickname(…)`.

pub use teahouse_protocol::validate::*;
