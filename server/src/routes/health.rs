//! `GET /healthz` (alive: 200 "ok" once the database answers) and
//! `GET /readyz` (accepting: 200 "ready" unless the node is draining or
//! the database does not answer; 503 then, with the reason as the body).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use teahouse_domain::Chat;

use crate::drain::Drain;
use crate::AppState;

/// The health routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz(State(chat): State<Arc<Chat>>) -> (StatusCode, &'static str) {
    if chat.is_healthy().await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

async fn readyz(
    State(chat): State<Arc<Chat>>,
    State(drain): State<Arc<Drain>>,
) -> (StatusCode, &'static str) {
    if drain.is_draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining")
    } else if chat.is_healthy().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}
