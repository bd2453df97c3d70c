//! SQLite storage of webhooks: `webhooks`, `webhook_cursors` and
//! `webhook_deliveries` (migration 0040). Reads go to the reader pool;
//! every write takes the write turn like any other.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Row};
use teahouse_protocol::{
    ConversationId, ConversationKind, DeliveryView, ErrorCode, WebhookEvent, WebhookPayload,
    WebhookView,
};

use super::SqliteStore;
use crate::store::webhooks::{Endpoint, NewWebhook, PendingLog, Progress, WebhookStore};
use crate::{DomainError, Result};

/// The columns [`view_from`] reads.
const VIEW_COLUMNS: &str = "id, url, events, enabled, created_ms, failing_since_ms, \
     last_success_ms, disabled_ms, disabled_reason";

/// Stored event types read back (unknown names, from a newer build, are
/// dropped).
fn events_from(stored: &str) -> Vec<WebhookEvent> {
    stored
        .split(',')
        .filter_map(|name| WebhookEvent::parse(name.trim()))
        .collect()
}

fn view_from(row: &SqliteRow) -> Result<WebhookView> {
    let events: String = row.try_get("events")?;
    Ok(WebhookView {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        events: events_from(&events)
            .into_iter()
            .map(|e| e.as_str().to_owned())
            .collect(),
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        created_ms: row.try_get("created_ms")?,
        failing_since_ms: row.try_get("failing_since_ms")?,
        last_success_ms: row.try_get("last_success_ms")?,
        disabled_ms: row.try_get("disabled_ms")?,
        disabled_reason: row.try_get("disabled_reason")?,
    })
}

impl SqliteStore {
    /// One endpoint read on `conn`; `not_found`.
    async fn webhook_on(&self, conn: &mut sqlx::SqliteConnection, id: i64) -> Result<WebhookView> {
        let row = sqlx::query(&format!("SELECT {VIEW_COLUMNS} FROM webhooks WHERE id = ?"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
        view_from(&row)
    }
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn insert_webhook(&self, new: NewWebhook<'_>) -> Result<WebhookView> {
        let events: Vec<&str> = new.events.iter().map(|e| e.as_str()).collect();
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhooks")
            .fetch_one(&mut *tx)
            .await?;
        if count >= i64::from(new.max) {
            return Err(DomainError::code(ErrorCode::WebhookLimit));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO webhooks (url, events, secret, created_by, created_ms)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new.url)
        .bind(events.join(","))
        .bind(new.secret)
        .bind(new.created_by)
        .bind(new.now_ms)
        .fetch_one(&mut *tx)
        .await?;
        // From now on: every conversation that exists is read from its end.
        // (Sends commit under the same write turn, so none falls between.)
        sqlx::query(
            "INSERT INTO webhook_cursors (webhook_id, room_id, seq)
             SELECT ?, id, last_seq FROM rooms",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let view = self.webhook_on(&mut tx, id).await?;
        tx.commit().await?;
        Ok(view)
    }

    async fn webhooks(&self) -> Result<Vec<WebhookView>> {
        let rows = sqlx::query(&format!(
            "SELECT {VIEW_COLUMNS} FROM webhooks ORDER BY id DESC"
        ))
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(view_from).collect()
    }

    async fn webhook(&self, id: i64) -> Result<WebhookView> {
        let mut conn = self.db.reader().acquire().await?;
        self.webhook_on(&mut conn, id).await
    }

    async fn enabled_endpoints(&self) -> Result<Vec<Endpoint>> {
        let rows = sqlx::query(
            "SELECT id, url, events, secret, failing_since_ms FROM webhooks
             WHERE enabled = 1 ORDER BY id",
        )
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Endpoint {
                    id: row.try_get("id")?,
                    url: row.try_get("url")?,
                    events: events_from(&row.try_get::<String, _>("events")?),
                    secret: row.try_get("secret")?,
                    failing_since_ms: row.try_get("failing_since_ms")?,
                })
            })
            .collect()
    }

    async fn delete_webhook(&self, id: i64) -> Result<()> {
        let mut writer = self.db.writer().await?;
        let done = sqlx::query("DELETE FROM webhooks WHERE id = ?")
            .bind(id)
            .execute(&mut *writer)
            .await?;
        match done.rows_affected() {
            0 => Err(DomainError::code(ErrorCode::NotFound)),
            _ => Ok(()),
        }
    }

    async fn set_webhook_enabled(
        &self,
        id: i64,
        enabled: bool,
        reason: &str,
        now_ms: i64,
    ) -> Result<WebhookView> {
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let sql = if enabled {
            "UPDATE webhooks SET enabled = 1, failing_since_ms = NULL, disabled_ms = NULL,
                    disabled_reason = NULL
             WHERE id = ?1"
        } else {
            "UPDATE webhooks SET enabled = 0, disabled_ms = ?2, disabled_reason = ?3
             WHERE id = ?1 AND enabled = 1"
        };
        sqlx::query(sql)
            .bind(id)
            .bind(now_ms)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
        let view = self.webhook_on(&mut tx, id).await?;
        tx.commit().await?;
        Ok(view)
    }

    async fn pending_logs(&self, id: i64, limit: u32) -> Result<Vec<PendingLog>> {
        let rows = sqlx::query(
            "SELECT r.id, r.kind, COALESCE(c.seq, 0) AS done, r.last_seq FROM rooms r
             LEFT JOIN webhook_cursors c ON c.webhook_id = ? AND c.room_id = r.id
             WHERE r.last_seq > COALESCE(c.seq, 0)
             ORDER BY r.id LIMIT ?",
        )
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                Ok(PendingLog {
                    conversation: row.try_get("id")?,
                    kind: ConversationKind::parse(&kind).unwrap_or_default(),
                    done: row.try_get("done")?,
                    last: row.try_get("last_seq")?,
                })
            })
            .collect()
    }

    async fn save_progress(&self, id: i64, progress: &Progress, keep: u32) -> Result<()> {
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM webhooks WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Ok(());
        }
        for (conversation, seq) in &progress.cursors {
            sqlx::query(
                "INSERT INTO webhook_cursors (webhook_id, room_id, seq) VALUES (?1, ?2, ?3)
                 ON CONFLICT (webhook_id, room_id) DO UPDATE SET seq = max(seq, excluded.seq)",
            )
            .bind(id)
            .bind(conversation)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        }
        for a in &progress.attempts {
            sqlx::query(
                "INSERT INTO webhook_deliveries
                    (webhook_id, room_id, seq, event_type, attempt, at_ms, status, error,
                     duration_ms)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(a.conversation)
            .bind(a.seq)
            .bind(a.event.as_str())
            .bind(i64::from(a.attempt))
            .bind(a.at_ms)
            .bind(a.status.map(i64::from))
            .bind(a.error.as_deref())
            .bind(a.duration_ms)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(at) = progress.last_success_ms {
            sqlx::query(
                "UPDATE webhooks SET last_success_ms = ?, failing_since_ms = NULL WHERE id = ?",
            )
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        if !progress.attempts.is_empty() {
            sqlx::query(
                "DELETE FROM webhook_deliveries WHERE webhook_id = ?1 AND id <= (
                     SELECT id FROM webhook_deliveries WHERE webhook_id = ?1
                     ORDER BY id DESC LIMIT 1 OFFSET ?2)",
            )
            .bind(id)
            .bind(i64::from(keep))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn set_failing_since(&self, id: i64, since_ms: i64) -> Result<()> {
        let mut writer = self.db.writer().await?;
        sqlx::query(
            "UPDATE webhooks SET failing_since_ms = ? WHERE id = ? AND failing_since_ms IS NULL",
        )
        .bind(since_ms)
        .bind(id)
        .execute(&mut *writer)
        .await?;
        Ok(())
    }

    async fn deliveries(&self, id: i64, limit: u32) -> Result<Vec<DeliveryView>> {
        let rows = sqlx::query(
            "SELECT room_id, seq, event_type, attempt, at_ms, status, error, duration_ms
             FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let room: ConversationId = row.try_get("room_id")?;
                Ok(DeliveryView {
                    webhook_id: id,
                    delivery_id: WebhookPayload::id_for(id, room, row.try_get("seq")?),
                    event_type: row.try_get("event_type")?,
                    attempt: u32::try_from(row.try_get::<i64, _>("attempt")?).unwrap_or(0),
                    at_ms: row.try_get("at_ms")?,
                    status: row
                        .try_get::<Option<i64>, _>("status")?
                        .and_then(|s| u16::try_from(s).ok()),
                    error: row.try_get("error")?,
                    duration_ms: row.try_get("duration_ms")?,
                })
            })
            .collect()
    }
}
