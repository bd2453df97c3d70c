//! The HTTP boundary's error: a protocol error code rendered as a JSON body
//! with the matching status. Internal details are logged, never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use teahouse_domain::DomainError;
use teahouse_protocol::{ApiError, ErrorCode, Lang, UserId};
use tower_sessions::Session;

/// An error answered to an HTTP client.
#[derive(Debug)]
pub struct HttpError(pub ApiError);

impl HttpError {
    pub fn new(code: ErrorCode) -> Self {
        HttpError(ApiError::new(code))
    }

    /// Maps a domain error, logging internal ones.
    pub fn from_domain(e: DomainError) -> Self {
        if e.is_internal() {
            tracing::error!(error = %e, "request failed");
        }
        HttpError(e.to_api())
    }
}

/// The signed-in user of a request's session (`None` when signed out), for
/// handlers outside the server functions (`/ws`, the chat page). A session
/// store failure is logged and answered as `internal`.
pub async fn session_user(session: &Session) -> Result<Option<UserId>, HttpError> {
    session
        .get::<UserId>(app::api::ssr::SESSION_USER)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "session store failed");
            HttpError::new(ErrorCode::Internal)
        })
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::json!({
            "code": self.0.code,
            "field": self.0.field,
            "message": self.0.code.message(Lang::En),
            "message_zh": self.0.code.message(Lang::Zh),
        });
        (status, Json(body)).into_response()
    }
}

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
