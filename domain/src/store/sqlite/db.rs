//! SQLite access, in WAL mode: a small pool of readers, one sqlx writer
//! connection for the occasional write (accounts, rooms, membership), and the
//! message writer's own connection (see [`crate::writer`]). A process-wide
//! write turn keeps the two writers from ever waiting on SQLite's lock.

use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteTransactionManager;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::TransactionManager;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::store::WriteTurn;
use crate::{DomainError, Result};

/// How long any connection waits for SQLite's write lock before failing
/// (only the session store, which writes through the readers, can contend).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Handles to the database.
#[derive(Clone, Debug)]
pub struct Db {
    /// Readers: history pages, room lists, session look-ups.
    read: SqlitePool,
    /// The sqlx writer: one connection, reached through [`Db::writer`] so it
    /// takes the write turn first.
    write: SqlitePool,
    /// The database file, for the message writer's own connection.
    path: PathBuf,
    /// The write turn. SQLite lets one transaction write at a time and makes
    /// the others poll with sleeps; under a flood of sends the message writer
    /// would hold the lock nearly all the time and a join could time out.
    /// Both writers queue here instead, first come first served.
    turn: Arc<Mutex<()>>,
}

impl Db {
    /// Opens (creating if needed) the database at `url` and runs migrations.
    ///
    /// `url` is a sqlx SQLite URL naming a file, such as
    /// `sqlite://data/teahouse.db` (not `:memory:`: the message writer opens
    /// the same file on its own connection).
    pub async fn open(url: &str) -> Result<Db> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a send is acknowledged only once it survives power loss.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Statement journals (multi-row statements inside a transaction)
            // stay in memory instead of a temporary file.
            .pragma("temp_store", "memory")
            // Rows travel from SQLite's worker thread through a bounded
            // channel; at the default 50 a long result parked the worker
            // once per 50 rows (a futex wait and wake each time).
            .row_buffer_size(1024)
            .busy_timeout(BUSY_TIMEOUT);
        let path = options.get_filename().to_path_buf();
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Db {
            read,
            write,
            path,
            turn: Arc::new(Mutex::new(())),
        })
    }

    /// The sqlx writer connection, once it is this caller's write turn.
    pub(crate) async fn writer(&self) -> Result<WriteConn> {
        let turn = self.turn.clone().lock_owned().await;
        let mut conn = self.write.acquire().await?;
        // A caller dropped inside a transaction (its request cancelled when
        // the client went away, e.g. during the commit) can leave the
        // connection in it; then every later write failed with "begin_with
        // at non-zero transaction depth" (seen in the e2e suite after a
        // closed tab). Whoever held the turn is gone: roll it back.
        if SqliteTransactionManager::get_transaction_depth(&conn) > 0 {
            tracing::warn!("the write connection was left in a transaction: rolling it back");
            SqliteTransactionManager::rollback(&mut conn).await?;
        }
        Ok(WriteConn { conn, _turn: turn })
    }

    /// Holds the write turn until the guard drops: nothing commits
    /// meanwhile, and sends wait in the message writer's queue, to be stored
    /// together (up to a batch) once it is released. Stops writes at a known
    /// point, e.g. for tests that need several sends in one batch.
    pub async fn pause_writes(&self) -> WriteTurn {
        WriteTurn::held(self.turn.clone().lock_owned().await)
    }

    /// The reader pool.
    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.read
    }

    /// True if the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        match sqlx::query("SELECT 1").execute(&self.read).await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(error = %e, "database health check failed");
                false
            }
        }
    }

    /// The write turn, for the message writer's thread.
    pub(crate) fn turn(&self) -> Arc<Mutex<()>> {
        self.turn.clone()
    }

    /// Opens the message writer's connection to the same file, with the
    /// settings the sqlx connections have.
    pub(crate) fn open_sync_writer(&self) -> Result<rusqlite::Connection> {
        let conn = rusqlite::Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Per connection, so set here too: FULL makes every commit durable.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(DomainError::Internal(format!(
                "message writer found journal_mode {mode}, expected wal"
            )));
        }
        Ok(conn)
    }

    /// Closes both pools, waiting for in-flight queries. (The message writer
    /// closes its connection when its last sender is gone.)
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// The sqlx writer connection, held together with the write turn.
pub(crate) struct WriteConn {
    /// Declared first so it drops first: a transaction left open is rolled
    /// back before the turn passes on.
    conn: PoolConnection<Sqlite>,
    /// Released on drop.
    _turn: OwnedMutexGuard<()>,
}

impl Deref for WriteConn {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl DerefMut for WriteConn {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;

    #[tokio::test]
    async fn a_transaction_left_open_by_a_vanished_caller_does_not_block_later_writes() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::open(&url).await.unwrap();
        {
            // A caller that never finished its transaction (its future was
            // dropped in a way that left no rollback behind).
            let mut w = db.writer().await.unwrap();
            let tx = w.begin_with("BEGIN IMMEDIATE").await.unwrap();
            std::mem::forget(tx);
        }
        let mut w = db.writer().await.unwrap();
        let tx = w.begin_with("BEGIN IMMEDIATE").await.unwrap();
        tx.commit().await.unwrap();
    }
}
