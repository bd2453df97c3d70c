//! The HTML pages: `/` (the chat), `/login`, `/register`, and the support
//! desk's `/support` (guests), `/desk` (agents) and `/admin`.
//!
//! Every page is rendered by Leptos from [`app::App`], which picks the page
//! by path (there is no client-side router; see `app::nav`). Signed-out
//! visitors of the chat page are sent to the log-in page before anything is
//! rendered.

use app::api::ssr::{CurrentUser, Services};
use app::shell;
use axum::body::Body;
use axum::http::Request;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;

use super::leptos_context;
use crate::AppState;

/// The three pages.
pub fn router(options: LeptosOptions, services: Services, trust_proxy: bool) -> Router<AppState> {
    // Leptos' spawner (for resources rendered on the server); a no-op if
    // it is already set.
    if any_spawner::Executor::init_tokio().is_err() {
        tracing::debug!("Leptos' executor was already set");
    }
    let render = leptos_axum::render_app_to_stream_with_context(
        leptos_context(services, trust_proxy),
        move || shell(options.clone()),
    );
    let page = {
        let render = render.clone();
        move |req: Request<Body>| render(req)
    };
    let signed_in_page = {
        let render = render.clone();
        move |current: CurrentUser, req: Request<Body>| {
            let render = render.clone();
            async move {
                match current.user {
                    Some(_) => render(req).await,
                    None => Redirect::to("/login").into_response(),
                }
            }
        }
    };
    let chat_page = move |current: CurrentUser, req: Request<Body>| {
        let render = render.clone();
        async move {
            match current.user {
                Some(_) => render(req).await,
                None => Redirect::to("/login").into_response(),
            }
        }
    };
    Router::new()
        .route("/", get(chat_page))
        .route("/login", get(page.clone()))
        .route("/register", get(page.clone()))
        // The support desk: guests need no account; the console and the
        // admin page check the role on every call they make.
        .route("/support", get(page))
        .route("/desk", get(signed_in_page.clone()))
        .route("/admin", get(signed_in_page))
}
