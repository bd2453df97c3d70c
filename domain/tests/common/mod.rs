//! The domain suites' shared fixture: a chat service on a fresh store, and
//! accounts in it. Written against [`Store`] only: a second backend runs
//! every suite that uses it by adding a branch to [`open_store`].
#![allow(dead_code)]

use std::sync::Arc;

use teahouse_domain::accounts::NewAccount;
use teahouse_domain::{Chat, ChatConfig, DomainError, SqliteStore, Store};
use teahouse_protocol::{ErrorCode, UserBrief};

pub struct Fixture {
    pub chat: Arc<Chat>,
    /// Keeps the database's directory alive for the test.
    pub _dir: tempfile::TempDir,
}

/// A fresh, empty store: a SQLite file in `dir` (the one backend so far).
pub async fn open_store(dir: &std::path::Path) -> Arc<dyn Store> {
    let url = format!("sqlite://{}", dir.join("t.db").display());
    Arc::new(SqliteStore::open(&url).await.unwrap())
}

pub async fn fixture(config: ChatConfig) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    Fixture {
        chat: Chat::start(store, config).await.unwrap(),
        _dir: dir,
    }
}

/// No send rate limit.
pub fn unlimited() -> ChatConfig {
    ChatConfig {
        sends_per_sec: 0,
        ..ChatConfig::default()
    }
}

/// Registers `name` (nickname "`name` 昵称", the suites' password).
pub async fn user(chat: &Chat, name: &str) -> UserBrief {
    chat.register(NewAccount {
        username: name.into(),
        nickname: format!("{name} 昵称"),
        password: "tea-leaves-42".into(),
    })
    .await
    .unwrap()
}

pub fn code(e: DomainError) -> ErrorCode {
    e.to_api().code
}
