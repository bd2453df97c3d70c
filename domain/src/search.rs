//! Message search: what a query is, and how it is matched.
//!
//! The store indexes every text message with SQLite FTS5's trigram
//! tokenizer (see `store::sqlite::search`): any run of 3 or more
//! characters is found, in Chinese and English alike, without a word
//! segmenter. A query is split on white space into terms that must all
//! occur. A term of 1–2 characters (common in Chinese: 你好, 茶) has no
//! trigram, so such a query is matched by scanning the most recent
//! messages instead ([`RECENT_IN_CONVERSATION`], [`RECENT_ACROSS`]), and
//! the answer says so (`recent_only`). Only conversations the asker is a
//! member of are searched; recalled messages are not in the index.

use teahouse_protocol::{validate, ErrorCode};

use crate::{DomainError, Result};

/// A short query searching one conversation scans its newest this many
/// events.
pub const RECENT_IN_CONVERSATION: i64 = 10_000;
/// A short query searching all of a user's conversations scans this many
/// events in all, split evenly between them (at least
/// [`RECENT_PER_CONVERSATION_MIN`] each).
pub const RECENT_ACROSS: i64 = 10_000;
/// See [`RECENT_ACROSS`].
pub const RECENT_PER_CONVERSATION_MIN: i64 = 10;
/// Terms per query at most (the rest are ignored).
pub const TERMS_MAX: usize = 8;

/// A checked search query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    /// Its terms: normalised, non-empty, without repeats; all must match.
    pub terms: Vec<String>,
}

impl SearchQuery {
    /// Checks what the user typed: at most 40 characters
    /// (`query_too_long`), not blank (`search_query_empty`).
    pub fn parse(raw: &str) -> Result<SearchQuery> {
        let text = validate::room_query(raw)?;
        let mut terms: Vec<String> = Vec::new();
        for term in text.split_whitespace() {
            if terms.len() < TERMS_MAX && !terms.iter().any(|t| t == term) {
                terms.push(term.to_owned());
            }
        }
        if terms.is_empty() {
            return Err(DomainError::field(ErrorCode::SearchQueryEmpty, "query"));
        }
        Ok(SearchQuery { terms })
    }

    /// True if a term is too short for the trigram index.
    pub fn is_short(&self) -> bool {
        self.terms.iter().any(|t| t.chars().count() < 3)
    }
}

impl crate::Chat {
    /// Searches text messages for `query` in `room` (members only) or,
    /// without one, in every conversation of `user`. See the module for
    /// how short queries are matched.
    pub async fn search_messages(
        &self,
        user: teahouse_protocol::UserId,
        query: &str,
        room: Option<teahouse_protocol::ConversationId>,
    ) -> Result<teahouse_protocol::SearchPage> {
        let query = SearchQuery::parse(query)?;
        if let Some(room) = room {
            self.store.check_member(room, user).await?;
        }
        self.store
            .search(
                user,
                room,
                &query,
                teahouse_protocol::limits::SEARCH_PAGE_MAX,
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_split_checked_and_classified() {
        let q = SearchQuery::parse("  普洱 tea  tea ").unwrap();
        assert_eq!(q.terms, vec!["普洱", "tea"]);
        assert!(q.is_short());
        assert!(!SearchQuery::parse("普洱茶 oolong").unwrap().is_short());
        let code = |raw: &str| SearchQuery::parse(raw).unwrap_err().to_api().code;
        assert_eq!(code("   "), ErrorCode::SearchQueryEmpty);
        assert_eq!(code(&"茶".repeat(41)), ErrorCode::QueryTooLong);
    }
}
