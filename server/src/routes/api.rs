//! The server functions: every `#[server]` function of the app, registered
//! at its path (`POST /api/<name>`) with the shared Leptos context. Their
//! errors are [`AppError`](app::error::AppError) JSON with the matching
//! status, like every other route's.

use app::api::ssr::Services;
use axum::body::Body;
use axum::http::{Method, Request};
use axum::response::IntoResponse;
use axum::routing::{on, MethodFilter};
use axum::Router;

use super::leptos_context;
use crate::AppState;

/// Every registered server function.
pub fn router(services: Services, trust_proxy: bool) -> Router<AppState> {
    let context = leptos_context(services, trust_proxy);
    let mut router = Router::new();
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        let context = context.clone();
        let handler = move |req: Request<Body>| async move {
            leptos_axum::handle_server_fns_with_context(context, req)
                .await
                .into_response()
        };
        let filter = match method {
            Method::GET => MethodFilter::GET,
            Method::PUT => MethodFilter::PUT,
            Method::DELETE => MethodFilter::DELETE,
            Method::PATCH => MethodFilter::PATCH,
            _ => MethodFilter::POST,
        };
        router = router.route(path, on(filter, handler));
    }
    router
}
