//! SQLite message search: the FTS5 trigram index `message_search`
//! (migrations 0010, 0060) and the scan of recent messages for short
//! queries (see [`crate::search`] for the rules).
//!
//! Index rows are written by the message writer in the transaction that
//! stores each text message and deleted by a recall in its transaction, so
//! the index never holds a recalled text. The index keeps no positions
//! (`detail=none`): it finds the messages holding every trigram of every
//! term, and each term is then checked against the stored text (`LIKE`,
//! which folds ASCII case as the index does; other scripts match as
//! typed). A hit is joined back to its event and kept only while that is
//! still a `message`, and only in conversations the asker is a member of.
//!
//! Measured at 1M messages (`domain/examples/memory_bench.rs`): the slowest
//! query is one whose terms never meet in a message, which must read every
//! posting of its trigrams. Positions and descending order doubled that;
//! see migration 0060. A user in few conversations is searched one
//! conversation (one rowid range) at a time, so other people's messages
//! are never read at all.

use teahouse_protocol::{ConversationEvent, ConversationId, SearchPage, UserId};

use super::events::{event_from_row, search_rowid, EVENT_COLUMNS, EVENT_JOINS};
use super::Db;
use crate::search::{
    SearchQuery, RECENT_ACROSS, RECENT_IN_CONVERSATION, RECENT_PER_CONVERSATION_MIN,
};
use crate::Result;

/// A user in at most this many conversations is searched one conversation
/// at a time; one in more, through the whole index at once (filtered by
/// membership).
const ONE_BY_ONE_MAX: usize = 32;

/// The FTS5 expression for `query`: every distinct trigram of every term,
/// each quoted (so no character of it is FTS syntax), all required.
fn match_expression(query: &SearchQuery) -> String {
    let mut trigrams = std::collections::BTreeSet::new();
    for term in &query.terms {
        let chars: Vec<char> = term.chars().collect();
        for window in chars.windows(3) {
            trigrams.insert(window.iter().collect::<String>());
        }
    }
    trigrams
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// ` AND e.body LIKE ?N ESCAPE '\'` for each term, numbered from `first`
/// (bound with [`like_pattern`]).
fn like_clauses(query: &SearchQuery, first: usize) -> String {
    (0..query.terms.len())
        .map(|i| format!(" AND e.body LIKE ?{} ESCAPE '\\'", i + first))
        .collect()
}

/// A LIKE pattern matching `term` anywhere (escape character `\`).
fn like_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Searches the text messages of `scope` (one conversation, whose
/// membership the caller checked) or of every conversation `user` is a
/// member of; newest first within a conversation, at most `limit`.
pub async fn search(
    db: &Db,
    user: UserId,
    scope: Option<ConversationId>,
    query: &SearchQuery,
    limit: u32,
) -> Result<SearchPage> {
    let hits = if query.is_short() {
        recent(db, user, scope, query, limit).await?
    } else {
        indexed(db, user, scope, query, limit).await?
    };
    Ok(SearchPage {
        hits,
        recent_only: query.is_short(),
    })
}

/// Through the trigram index.
async fn indexed(
    db: &Db,
    user: UserId,
    scope: Option<ConversationId>,
    query: &SearchQuery,
    limit: u32,
) -> Result<Vec<ConversationEvent>> {
    if let Some(room) = scope {
        return indexed_in(db, IndexScope::One(room), query, limit).await;
    }
    let rooms: Vec<ConversationId> =
        sqlx::query_scalar("SELECT room_id FROM members WHERE user_id = ? ORDER BY room_id DESC")
            .bind(user)
            .fetch_all(db.reader())
            .await?;
    if rooms.len() > ONE_BY_ONE_MAX {
        return indexed_in(db, IndexScope::MemberOf(user), query, limit).await;
    }
    // Newest conversation first, as the whole-index order has it.
    let mut hits = Vec::new();
    for room in rooms {
        let left = limit.saturating_sub(u32::try_from(hits.len()).unwrap_or(u32::MAX));
        if left == 0 {
            break;
        }
        hits.extend(indexed_in(db, IndexScope::One(room), query, left).await?);
    }
    Ok(hits)
}

/// What one index query covers.
#[derive(Clone, Copy)]
enum IndexScope {
    /// One conversation: one rowid range of the index.
    One(ConversationId),
    /// Every conversation this user is a member of.
    MemberOf(UserId),
}

/// One query of the index, in result order (see [`search_rowid`]).
async fn indexed_in(
    db: &Db,
    scope: IndexScope,
    query: &SearchQuery,
    limit: u32,
) -> Result<Vec<ConversationEvent>> {
    let likes = like_clauses(query, 5);
    let (low, high, filter) = match scope {
        // Counted down: the last seq has the lowest rowid.
        IndexScope::One(room) => (
            search_rowid(room, 0xFFFF_FFFF),
            search_rowid(room, 0),
            "AND s.rowid BETWEEN ?2 AND ?3",
        ),
        IndexScope::MemberOf(user) => (
            user.0,
            0,
            // On the index's side, so that the index stays the outer loop.
            "AND 2147483647 - (s.rowid >> 32) IN (SELECT room_id FROM members WHERE user_id = ?2)",
        ),
    };
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM message_search s
         JOIN events e ON e.room_id = 2147483647 - (s.rowid >> 32)
                      AND e.seq = 4294967295 - (s.rowid & 4294967295)
         {EVENT_JOINS}
         WHERE s.message_search MATCH ?1 {filter}
           AND e.kind = 'message' {likes}
         ORDER BY s.rowid LIMIT ?4"
    );
    let mut q = sqlx::query(&sql)
        .bind(match_expression(query))
        .bind(low)
        .bind(high)
        .bind(i64::from(limit));
    for term in &query.terms {
        q = q.bind(like_pattern(term));
    }
    // Every parameter numbered: sqlx counts bare `?`s on their own.
    let rows = q.fetch_all(db.reader()).await?;
    rows.iter().map(event_from_row).collect()
}

/// Short queries: a scan of the newest events.
async fn recent(
    db: &Db,
    user: UserId,
    scope: Option<ConversationId>,
    query: &SearchQuery,
    limit: u32,
) -> Result<Vec<ConversationEvent>> {
    let likes = like_clauses(query, 4);
    let (sql, window) = match scope {
        Some(_) => (
            format!(
                "SELECT {EVENT_COLUMNS} FROM rooms r
                 JOIN events e ON e.room_id = r.id AND e.seq > r.last_seq - ?2
                 {EVENT_JOINS}
                 WHERE r.id = ?1 AND e.kind = 'message' AND e.msgtype = 'text' {likes}
                 ORDER BY e.seq DESC LIMIT ?3"
            ),
            RECENT_IN_CONVERSATION,
        ),
        None => {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE user_id = ?")
                .bind(user)
                .fetch_one(db.reader())
                .await?;
            (
                format!(
                    "SELECT {EVENT_COLUMNS} FROM members m
                     JOIN rooms r ON r.id = m.room_id
                     JOIN events e ON e.room_id = r.id AND e.seq > r.last_seq - ?2
                     {EVENT_JOINS}
                     WHERE m.user_id = ?1 AND e.kind = 'message' AND e.msgtype = 'text' {likes}
                     ORDER BY e.room_id DESC, e.seq DESC LIMIT ?3"
                ),
                (RECENT_ACROSS / n.max(1)).max(RECENT_PER_CONVERSATION_MIN),
            )
        }
    };
    let mut q = sqlx::query(&sql)
        .bind(scope.map_or(user.0, |c| c.0))
        .bind(window)
        .bind(i64::from(limit));
    for term in &query.terms {
        q = q.bind(like_pattern(term));
    }
    let rows = q.fetch_all(db.reader()).await?;
    rows.iter().map(event_from_row).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_cannot_inject_fts_or_like_syntax() {
        let q = SearchQuery {
            terms: vec!["a\"bc".into(), "普洱茶".into(), "bc OR".into()],
        };
        // Every trigram once, quoted, in one order.
        assert_eq!(
            match_expression(&q),
            r#""""bc" AND "a""b" AND "bc " AND "c O" AND " OR" AND "普洱茶""#
                .split(" AND ")
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(" AND ")
        );
        assert_eq!(like_pattern("5%_\\"), r"%5\%\_\\%");
    }
}
