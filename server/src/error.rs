//! Start-up errors. (Errors answered to requests are
//! [`AppError`](app::error::AppError): one JSON shape for every route.)

use teahouse_domain::DomainError;

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Domain(#[from] DomainError),
    #[error("session store: {0}")]
    Sessions(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("leptos configuration: {0}")]
    Leptos(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("server: {0}")]
    Serve(std::io::Error),
}
