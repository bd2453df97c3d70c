//! The web app's routes: the three pages and the server functions.
//!
//! Every page is rendered by Leptos from [`app::App`], which picks the page
//! by path (there is no client-side router; see `app::nav`). Signed-out
//! visitors of the chat page are sent to the log-in page before anything is
//! rendered. The server functions (`POST /api/<name>`) get the same context
//! as the pages: the chat service, the session-renewal period, the client
//! address and (pages) the CSP nonce.

use std::sync::Arc;

use app::api::ssr::SessionRenewal;
use app::shell;
use axum::body::Body;
use axum::http::{Method, Request};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, on, MethodFilter};
use axum::Router;
use leptos::prelude::*;
use teahouse_domain::Chat;
use tower_sessions::Session;

use crate::error::session_user;
use crate::AppState;

/// The pages and server functions, with `chat`, `renewal` and the
/// request's client address (`X-Forwarded-For` believed if `trust_proxy`)
/// and nonce in their context.
pub fn router(
    options: LeptosOptions,
    chat: Arc<Chat>,
    renewal: SessionRenewal,
    trust_proxy: bool,
) -> Router<AppState> {
    // Leptos' spawner (for resources rendered on the server); a no-op if
    // it is already set.
    let _ = any_spawner::Executor::init_tokio();
    let context = move || {
        provide_context(chat.clone());
        provide_context(renewal);
        crate::security::provide_request_context(trust_proxy);
    };
    let render = leptos_axum::render_app_to_stream_with_context(context.clone(), move || {
        shell(options.clone())
    });
    let page = {
        let render = render.clone();
        move |req: Request<Body>| render(req)
    };
    let chat_page = move |session: Session, req: Request<Body>| {
        let render = render.clone();
        async move {
            match session_user(&session).await {
                Ok(Some(_)) => render(req).await,
                Ok(None) => Redirect::to("/login").into_response(),
                Err(e) => e.into_response(),
            }
        }
    };
    let mut router = Router::new()
        .route("/", get(chat_page))
        .route("/login", get(page.clone()))
        .route("/register", get(page));
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
