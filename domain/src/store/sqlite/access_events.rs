//! How the events of groups and the support desk (issue 16) are laid out in
//! the `events` table: the kind tag in `kind`, the whole body as JSON in
//! `body` (their fields are small and read back together). Kept apart from
//! [`super::events`], which calls [`columns`] and [`read`] for them.

use std::borrow::Cow;

use teahouse_protocol::EventBody;

use crate::{DomainError, Result};

/// The stored kind tag of an issue-16 event, or None for the others.
pub(crate) fn kind_of(body: &EventBody) -> Option<&'static str> {
    Some(match body {
        EventBody::GroupCreated { .. } => "group_created",
        EventBody::MemberAdded { .. } => "member_added",
        EventBody::MemberRemoved { .. } => "member_removed",
        EventBody::MemberMuted { .. } => "member_muted",
        EventBody::MemberBanned { .. } => "member_banned",
        EventBody::GroupRenamed { .. } => "group_renamed",
        EventBody::AnnouncementSet { .. } => "announcement_set",
        EventBody::InvitePolicySet { .. } => "invite_policy_set",
        EventBody::OwnerChanged { .. } => "owner_changed",
        EventBody::SupportOpened => "support_opened",
        EventBody::SupportAssigned { .. } => "support_assigned",
        EventBody::SupportReturned { .. } => "support_returned",
        EventBody::SupportClosed => "support_closed",
        EventBody::SupportReopened => "support_reopened",
        _ => return None,
    })
}

/// The `kind` and `body` columns of an issue-16 event (None for others).
pub(crate) fn columns(body: &EventBody) -> Result<Option<(&'static str, Cow<'static, str>)>> {
    let Some(kind) = kind_of(body) else {
        return Ok(None);
    };
    let json = serde_json::to_string(body)
        .map_err(|e| DomainError::Internal(format!("encoding a {kind} event: {e}")))?;
    Ok(Some((kind, Cow::Owned(json))))
}

/// True if `kind` is one of this module's tags.
pub(crate) fn is_access_kind(kind: &str) -> bool {
    matches!(
        kind,
        "group_created"
            | "member_added"
            | "member_removed"
            | "member_muted"
            | "member_banned"
            | "group_renamed"
            | "announcement_set"
            | "invite_policy_set"
            | "owner_changed"
            | "support_opened"
            | "support_assigned"
            | "support_returned"
            | "support_closed"
            | "support_reopened"
    )
}

/// Reads back a body stored by [`columns`]: None if `kind` is not one of
/// this module's; an error if its JSON does not match its kind.
pub(crate) fn read(kind: &str, body: Option<&str>) -> Option<std::result::Result<EventBody, ()>> {
    if !is_access_kind(kind) {
        return None;
    }
    // Bodyless kinds are stored with their JSON too, but read them without.
    let parsed: std::result::Result<EventBody, ()> = match body {
        Some(json) => serde_json::from_str(json).map_err(|_| ()),
        None => Err(()),
    };
    Some(parsed.and_then(|b| {
        if kind_of(&b) == Some(kind) {
            Ok(b)
        } else {
            Err(())
        }
    }))
}
