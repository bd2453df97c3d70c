//! `teahouse backup`: a consistent copy of the SQLite database, taken while
//! the server runs.
//!
//! The copy is made with SQLite's `VACUUM INTO` on a connection of its own.
//! It reads the whole database inside one read transaction, so the copy is
//! the database as of one commit, and (WAL mode) it neither blocks the
//! server's writers nor waits for them. The online backup API was the other
//! choice; its incremental steps restart whenever another connection commits
//! in between, which under steady sends may never finish, and done in one step
//! it is the same read transaction without the compaction. `VACUUM INTO` is
//! also one statement through sqlx, with no extra dependency.
//!
//! The copy is written next to the target as `<FILE>.partial`, flushed to disk
//! (SQLite does not fsync a `VACUUM INTO` output), checked with
//! `PRAGMA quick_check`, then linked into place under its final name: an
//! existing file is never overwritten, and an interrupted backup never leaves a
//! half-written file under that name.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use crate::config::default_database_url;

/// `teahouse backup` flags.
#[derive(Clone, Debug, clap::Args)]
pub struct BackupArgs {
    /// Data directory of the server to back up (its database is <data-dir>/teahouse.db).
    #[arg(long, env = "TEAHOUSE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database URL instead; defaults to SQLite at <data-dir>/teahouse.db.
    #[arg(long, env = "TEAHOUSE_DATABASE_URL")]
    pub database_url: Option<String>,

    /// File to write the copy to. It must not exist yet.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
}

/// What a finished backup holds.
#[derive(Debug)]
pub struct BackupSummary {
    /// Size of the written file.
    pub bytes: u64,
    /// Room events (messages, joins, leaves) in the copy.
    pub events: i64,
}

/// Why a backup failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; refusing to overwrite it")]
    Exists(PathBuf),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the copy failed its integrity check: {0}")]
    Corrupt(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

impl BackupArgs {
    /// The database URL to copy.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| default_database_url(&self.data_dir))
    }
}

/// Copies the database at `database_url` into a new file `to`.
pub async fn backup(database_url: &str, to: &Path) -> Result<BackupSummary, BackupError> {
    if to.symlink_metadata().is_ok() {
        return Err(BackupError::Exists(to.to_owned()));
    }
    let partial = partial_path(to);
    // A leftover from an interrupted run is ours to replace.
    match std::fs::remove_file(&partial) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(&partial)(e)),
    }
    let result = copy_into(database_url, &partial).await;
    let summary = match result {
        Ok(summary) => summary,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    // A hard link fails if `to` appeared meanwhile, where a rename would
    // replace it.
    let linked = std::fs::hard_link(&partial, to);
    let _ = std::fs::remove_file(&partial);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(BackupError::Exists(to.to_owned()))
        }
        Err(e) => return Err(io_error(to)(e)),
    }
    sync_dir(to)?;
    Ok(summary)
}

/// `<to>.partial`, beside the target (same file system, so it can be linked).
fn partial_path(to: &Path) -> PathBuf {
    let mut name = to.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    to.with_file_name(name)
}

async fn copy_into(database_url: &str, partial: &Path) -> Result<BackupSummary, BackupError> {
    // An existing database only, as it is: no migrations, no journal-mode
    // change. The busy timeout covers a checkpoint holding a lock briefly.
    let options = SqliteConnectOptions::from_str(database_url)?
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30));
    let mut source = options.connect().await?;
    let target = partial.to_str().ok_or_else(|| BackupError::Io {
        path: partial.to_owned(),
        source: std::io::Error::other("path is not UTF-8"),
    })?;
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(&mut source)
        .await?;
    source.close().await?;

    let file = std::fs::File::open(partial).map_err(io_error(partial))?;
    file.sync_all().map_err(io_error(partial))?;
    let bytes = file.metadata().map_err(io_error(partial))?.len();
    drop(file);

    let mut copy = SqliteConnectOptions::new()
        .filename(partial)
        .read_only(true)
        .connect()
        .await?;
    let verdict = check(&mut copy).await;
    copy.close().await?;
    let events = verdict?;
    Ok(BackupSummary { bytes, events })
}

/// `PRAGMA quick_check` on the copy, then its number of events.
async fn check(copy: &mut SqliteConnection) -> Result<i64, BackupError> {
    let verdict: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(&mut *copy)
        .await?;
    if verdict != "ok" {
        return Err(BackupError::Corrupt(verdict));
    }
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&mut *copy)
        .await?)
}

/// Makes the new directory entry durable too.
fn sync_dir(file: &Path) -> Result<(), BackupError> {
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}
