//! Ids as their own types: a user id cannot be passed where a conversation
//! id is expected, or the other way round. On the wire both are plain JSON
//! numbers (`#[serde(transparent)]`), as they always were; in the database
//! they are INTEGER columns (features `sqlx` and `rusqlite`, for the
//! domain's stores only).

use serde::{Deserialize, Serialize};

/// Declares an id newtype over `i64` with the traits every id needs.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(pub i64);

        #[cfg(feature = "rusqlite")]
        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        #[cfg(feature = "rusqlite")]
        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                i64::column_result(value).map($name)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

id_type!(
    /// A user's id (server-assigned, never taken from a client to say who
    /// acts).
    UserId
);

id_type!(
    /// A conversation's id: a public room today; direct chats, private
    /// groups and support conversations share the same id space.
    ConversationId
);

/// A stored media file's id: 26 random characters of lowercase base32,
/// so that media URLs cannot be guessed (access is still checked on every
/// request). A string on the wire and in the database.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MediaId(pub String);

impl MediaId {
    /// Length of every id the server makes.
    pub const LEN: usize = 26;

    /// Whether `s` has the shape of a media id (checked before any lookup).
    pub fn is_well_formed(s: &str) -> bool {
        s.len() == Self::LEN && s.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7'))
    }
}

impl std::fmt::Display for MediaId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_numbers_on_the_wire() {
        assert_eq!(serde_json::to_string(&UserId(7)).unwrap(), "7");
        assert_eq!(
            serde_json::from_str::<ConversationId>("42").unwrap(),
            ConversationId(42)
        );
        assert_eq!("3".parse::<ConversationId>().unwrap(), ConversationId(3));
        assert_eq!(UserId(9).to_string(), "9");
        assert_eq!(
            serde_json::to_string(&MediaId("abc".into())).unwrap(),
            r#""abc""#
        );
    }

    #[test]
    fn media_ids_are_checked_for_shape() {
        assert!(MediaId::is_well_formed("abcdefghijklmnopqrstuvwxyz"));
        assert!(MediaId::is_well_formed("23456723456723456723456723"));
        assert!(!MediaId::is_well_formed("abcdefghijklmnopqrstuvwxy"));
        assert!(!MediaId::is_well_formed("../../../../etc/passwd0000"));
        assert!(!MediaId::is_well_formed("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
    }
}
