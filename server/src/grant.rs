//! `teahouse grant-role`: the operator sets an account's role directly in
//! the database, e.g. to make the first admin (admins then grant and revoke
//! roles from the admin page). Works while the server runs: roles are read
//! on every call, so the change applies at once; sockets already open join
//! the desk on their next connection.

use std::path::PathBuf;

use clap::Args;
use teahouse_domain::store::RoleStore;
use teahouse_domain::SqliteStore;
use teahouse_protocol::{UserBrief, UserRole};

/// The arguments of `teahouse grant-role`.
#[derive(Clone, Debug, Args)]
pub struct GrantArgs {
    /// Data directory of the server (its database is <data-dir>/teahouse.db).
    #[arg(long, env = "TEAHOUSE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database URL instead; defaults to SQLite at <data-dir>/teahouse.db.
    #[arg(long, env = "TEAHOUSE_DATABASE_URL")]
    pub database_url: Option<String>,

    /// The role to give: admin, agent or user.
    #[arg(long, default_value = "admin")]
    pub role: String,

    /// The account's username (it must have signed up).
    pub username: String,
}

impl GrantArgs {
    /// The database URL to use.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| crate::config::default_database_url(&self.data_dir))
    }
}

/// Why a grant failed.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("unknown role {0:?} (admin, agent or user)")]
    Role(String),
    #[error("no account named {0:?}")]
    NoSuchUser(String),
    #[error("{0}")]
    Domain(#[from] teahouse_domain::DomainError),
}

/// Sets the role; returns the account.
pub async fn grant(args: &GrantArgs) -> Result<UserBrief, GrantError> {
    let role = UserRole::parse(&args.role)
        .filter(|r| *r != UserRole::Guest)
        .ok_or_else(|| GrantError::Role(args.role.clone()))?;
    let store = SqliteStore::open(&args.database_url()).await?;
    let user = store
        .user_named(&args.username)
        .await?
        .ok_or_else(|| GrantError::NoSuchUser(args.username.clone()))?;
    let user = store.set_role(user.id, role).await?;
    store_close(store).await;
    Ok(user)
}

async fn store_close(store: SqliteStore) {
    use teahouse_domain::Store;
    store.close().await;
}
