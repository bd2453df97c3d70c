//! The search seam: full-text search of text messages (see
//! [`crate::search`] for the rules).

use async_trait::async_trait;
use teahouse_protocol::{ConversationId, SearchPage, UserId};

use crate::search::SearchQuery;
use crate::Result;

/// Message search.
#[async_trait]
pub trait SearchStore: Send + Sync {
    /// Text messages matching `query` in `scope` (one conversation, whose
    /// membership the caller checked) or in every conversation `user` is a
    /// member of; never recalled ones; at most `limit`.
    async fn search(
        &self,
        user: UserId,
        scope: Option<ConversationId>,
        query: &SearchQuery,
        limit: u32,
    ) -> Result<SearchPage>;
}
