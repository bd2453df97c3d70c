//! SQLite message search: the FTS5 trigram index `message_search`
//! (migration 0010) and the scan of recent messages for short queries (see
//! [`crate::search`] for the rules).
//!
//! Index rows are written by the message writer in the transaction that
//! stores each text message and deleted by a recall in its transaction, so
//! the index never holds a recalled text. A hit is joined back to its
//! event and kept only while that is still a `message`, and only in
//! conversations the asker is a member of.

use teahouse_protocol::{ConversationEvent, ConversationId, SearchPage, UserId};

use super::events::{event_from_row, search_rowid, EVENT_COLUMNS, EVENT_JOINS};
use super::Db;
use crate::search::{
    SearchQuery, RECENT_ACROSS, RECENT_IN_CONVERSATION, RECENT_PER_CONVERSATION_MIN,
};
use crate::Result;

/// The FTS5 expression for `query`: every term as a quoted phrase (so no
/// character of it is FTS syntax), all required.
fn match_expression(query: &SearchQuery) -> String {
    query
        .terms
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
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
    let (low, high, rooms) = match scope {
        // One conversation is one rowid range of the index.
        Some(room) => (search_rowid(room, 0), search_rowid(room, 0xFFFF_FFFF), ""),
        None => (
            0,
            i64::MAX,
            "AND (s.rowid >> 32) IN (SELECT room_id FROM members WHERE user_id = ?4)",
        ),
    };
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM message_search s
         JOIN events e ON e.room_id = (s.rowid >> 32) AND e.seq = (s.rowid & 4294967295)
         {EVENT_JOINS}
         WHERE s.body MATCH ?1 AND s.rowid BETWEEN ?2 AND ?3 {rooms}
           AND e.kind = 'message'
         ORDER BY s.rowid DESC LIMIT ?5"
    );
    let rows = sqlx::query(&sql)
        .bind(match_expression(query))
        .bind(low)
        .bind(high)
        .bind(user)
        .bind(i64::from(limit))
        .fetch_all(db.reader())
        .await?;
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
    let likes: String = (0..query.terms.len())
        .map(|i| format!(" AND e.body LIKE ?{} ESCAPE '\\'", i + 4))
        .collect();
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
            terms: vec!["a\"b OR c".into(), "NEAR(x)".into()],
        };
        assert_eq!(match_expression(&q), r#""a""b OR c" AND "NEAR(x)""#);
        assert_eq!(like_pattern("5%_\\"), r"%5\%\_\\%");
    }
}
