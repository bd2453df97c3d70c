//! The public room directory: every public room, largest first, in pages
//! that follow a cursor, optionally narrowed by a search in room names.
//!
//! Order: `member_count` descending, then room id ascending — both columns
//! of `rooms`, so the sort runs over the `rooms_directory` index, and the
//! cursor is the (member_count, id) of the last room of a page. Keyset paging
//! means a page starts strictly after that key: every room whose member
//! count does not change while someone pages is listed exactly once, however
//! many rooms are created, joined or left meanwhile. A room whose count
//! changes between two pages moves in the order, so it may show up twice
//! (the UI drops repeats by id) or only after a reload.
//!
//! Search: case-insensitive substring of the room name. Names and queries
//! are compared in Unicode lower case ([`fold`]; SQLite keeps `name_folded`
//! as its own lower() folds ASCII only), with `instr`, so `%` and `_` are
//! plain characters and Chinese matches as typed. The rows are the store's
//! ([`ConversationStore::directory_page`](crate::store::ConversationStore::directory_page)).

use teahouse_protocol::{ConversationId, ErrorCode};

use crate::{DomainError, Result};

/// Where a directory page starts: just after the room with this key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The last listed room's member count (the primary sort key).
    pub member_count: i64,
    /// The last listed room's id (breaks ties).
    pub id: ConversationId,
}

impl Cursor {
    /// Parses the wire form `<member_count>.<id>`; anything else is
    /// `bad_request` on the `cursor` field.
    pub fn parse(raw: &str) -> Result<Cursor> {
        let bad = || DomainError::field(ErrorCode::BadRequest, "cursor");
        let (count, id) = raw.split_once('.').ok_or_else(bad)?;
        Ok(Cursor {
            member_count: count.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })
    }

    /// The wire form, opaque to clients.
    pub fn encode(self) -> String {
        format!("{}.{}", self.member_count, self.id)
    }
}

/// The form names and queries are compared in.
pub fn fold(name: &str) -> String {
    name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_bad_request() {
        let c = Cursor {
            member_count: 12,
            id: ConversationId(345),
        };
        assert_eq!(Cursor::parse(&c.encode()).unwrap(), c);
        for raw in [
            "",
            "12",
            "12.",
            ".3",
            "a.b",
            "1.2.3",
            "1,2",
            "99999999999999999999.1",
        ] {
            let e = Cursor::parse(raw).unwrap_err().to_api();
            assert_eq!(e.code, ErrorCode::BadRequest, "{raw:?}");
            assert_eq!(e.field.as_deref(), Some("cursor"), "{raw:?}");
        }
    }

    #[test]
    fn folding_lowers_every_script_and_leaves_chinese_alone() {
        assert_eq!(fold("Green TEA 绿茶"), "green tea 绿茶");
        assert_eq!(fold("ÄRGER Ωμέγα"), "ärger ωμέγα");
        assert_eq!(fold("100%_x"), "100%_x");
    }
}
