//! SQLite access: one writer connection (so writes never fight over the lock)
//! and a small pool of readers, both in WAL mode.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::Result;

/// Handles to the database.
#[derive(Clone, Debug)]
pub struct Db {
    /// Readers: history pages, room lists, session look-ups.
    pub read: SqlitePool,
    /// The single writer: every transaction that changes the log goes here, so
    /// sequence numbers are assigned one transaction at a time.
    pub write: SqlitePool,
}

impl Db {
    /// Opens (creating if needed) the database at `url` and runs migrations.
    ///
    /// `url` is a sqlx SQLite URL such as `sqlite://data/teahouse.db`.
    pub async fn open(url: &str) -> Result<Db> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a send is acknowledged only once it survives power loss.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Statement journals (multi-row statements inside a transaction,
            // e.g. a batch's INSERT … SELECT) stay in memory instead of a
            // temporary file: they cost 10% of the writer's CPU on disk.
            .pragma("temp_store", "memory")
            // Rows travel from SQLite's worker thread through a bounded
            // channel; at the default 50 a large send batch's check rows
            // filled it and parked the worker once per 50 rows (a futex
            // wait and wake, two context switches each time).
            .row_buffer_size(1024)
            .busy_timeout(Duration::from_secs(5));
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
        Ok(Db { read, write })
    }

    /// Closes both pools, waiting for in-flight queries.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}
