//! Teahouse's web app: the Leptos UI, its routes and its server functions.
//!
//! Layout:
//! - [`api`]: server functions (`POST /api/<name>`), the browser/server boundary.
//! - [`error`]: [`AppError`](error::AppError), the typed error they return
//!   (shown by `widgets::ErrorNotice`).
//! - [`state`]: the browser's chat state (rooms, one reactive log per
//!   conversation, unread counts, presence).
//! - [`live`]: the WebSocket push client, catch-up and its retries (hydrate
//!   builds only).
//! - [`components`]: pages and widgets:
//!   - `auth`: log-in and sign-up pages; `chat_page`: the chat screen;
//!   - `conversation/`: `list` (the conversation list), `pane` (header and
//!     member toggle), `log` (message list, history paging,
//!     stick-to-bottom), `message` (one row), `media` (image, voice and
//!     video bubbles), `outbox` (optimistic sends and uploads, retry by
//!     client id), `composer` (input), `voice` (recording), `attach`
//!     (picked, pasted and dropped files), `members` (member panel);
//!   - `discover`: room directory and new-room form; `widgets`: avatars,
//!     error notices.
//! - [`media`]: media messages apart from their components: bubble sizes,
//!   voice bar widths, played clips, and (browser only) the upload with
//!   progress, voice recording and playback.
//! - [`embed`]: inside another page or a webview: `postMessage` to the
//!   allowed framing origins (ready, unread total), the visible height.
//! - [`nav`]: which page (by path) and which room (by query) the browser is on.
//! - [`i18n`], [`format`]: UI strings (zh-CN/en), avatars and time labels.
//!
//! The wire types (events, views, error codes) are re-exported from the
//! `teahouse-protocol` crate as [`protocol`], shared with the server and tools.

pub mod api;
pub mod components;
pub mod embed;
pub mod error;
pub mod format;
pub mod i18n;
#[cfg(feature = "hydrate")]
pub mod live;
pub mod media;
pub mod nav;
pub mod state;

pub use teahouse_protocol as protocol;

use leptos::prelude::*;

use crate::components::{
    auth::{LoginPage, RegisterPage},
    chat_page::ChatPage,
};
use crate::i18n::{I18n, Lang, LANG_COOKIE};
use crate::nav::Page;

/// The HTML document around the app (server-rendered). The head is static
/// and written here rather than through `leptos_meta`, whose client half
/// cost 6.4 KB of the compressed wasm; the one attribute that changes in
/// the browser, `<html lang>`, is kept current by [`App`].
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang=initial_lang().tag()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover, interactive-widget=resizes-content"/>
                <EmbedMeta/>
                <meta name="description" content="Teahouse — self-hosted real-time chat"/>
                <meta name="theme-color" content="#ededed"/>
                <title>"茶馆 · Teahouse"</title>
                // The id lets `cargo leptos watch` swap the sheet on change.
                <link id="leptos" rel="stylesheet" href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name)/>
                <AutoReload options=options.clone()/>
                <BootScripts options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The origins allowed to frame the pages, for [`embed::tell_host`]
/// (server only: the browser reads the tag the server wrote).
#[component]
fn EmbedMeta() -> impl IntoView {
    use_context::<embed::EmbedOrigins>()
        .filter(|o| !o.0.is_empty())
        .map(|o| view! { <meta name=embed::META_NAME content=o.0/> })
}

/// Leptos' `<HydrationScripts>`, except that the wasm starts compiling while
/// the page is still being parsed. With `HydrationScripts` the wasm is only
/// preloaded, and compiling begins when the deferred module script runs,
/// after the whole document is parsed. Measured in headless Chromium on one
/// core: the wasm had arrived at 75 ms and hydration started at 205 ms.
/// Here an inline script in `<head>` calls `WebAssembly.compileStreaming`
/// at once, and the module script hands the compiled module to the
/// wasm-bindgen initialiser. Browsers without `compileStreaming`, or a failed
/// compile, fall back to loading the wasm by its URL. Both inline scripts
/// carry the response's nonce, which the server's Content-Security-Policy
/// names (Leptos' `AutoReload` and `HydrationScripts` pick it up too).
#[component]
fn BootScripts(options: LeptosOptions) -> impl IntoView {
    if options.hash_files {
        // File names come from a hash file then: leave that to Leptos.
        return view! { <HydrationScripts options/> }.into_any();
    }
    let pkg = format!("/{}", options.site_pkg_dir);
    let js = format!("{pkg}/{}.js", options.output_name);
    // The same naming rule as `HydrationScripts`.
    let wasm_name = if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
        options.output_name.to_string()
    } else {
        format!("{}_bg", options.output_name)
    };
    let wasm = format!("{pkg}/{wasm_name}.wasm");
    let compile = format!(
        "window.__teahouseWasm=typeof WebAssembly.compileStreaming==\"function\"\
         ?WebAssembly.compileStreaming(fetch({wasm:?})).catch(()=>null):null;"
    );
    let boot = format!(
        "import({js:?}).then(m=>Promise.resolve(window.__teahouseWasm)\
         .then(c=>m.default({{module_or_path:c||{wasm:?}}})).then(()=>m.hydrate()));"
    );
    // The response's CSP nonce (server only; `None` in the browser, where
    // the scripts have already run): only scripts carrying it may run inline.
    let nonce = leptos::nonce::use_nonce();
    view! {
        <link rel="modulepreload" href=js crossorigin=""/>
        <script nonce=nonce.clone()>{compile}</script>
        <script type="module" nonce=nonce>{boot}</script>
    }
    .into_any()
}

/// Name of the cookie carrying the browser's UTC offset (minutes east).
pub const TZ_COOKIE: &str = "tz";

/// The viewer's UTC offset in minutes east, for time labels.
#[derive(Clone, Copy, Debug)]
pub struct TzOffset(pub i32);

/// Reads a cookie from the current request (server) or document (browser).
pub fn read_cookie(name: &str) -> Option<String> {
    #[cfg(feature = "ssr")]
    let header: Option<String> = use_context::<http::request::Parts>().and_then(|p| {
        p.headers
            .get(http::header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    let header: Option<String> = {
        use wasm_bindgen::JsCast;
        document()
            .dyn_into::<web_sys::HtmlDocument>()
            .ok()
            .and_then(|d| d.cookie().ok())
    };
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    let header: Option<String> = None;
    header.and_then(|h| {
        h.split(';').find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    })
}

/// Sets a long-lived, non-sensitive preference cookie (browser only).
pub fn write_pref_cookie(_name: &str, _value: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Ok(d) = document().dyn_into::<web_sys::HtmlDocument>() {
            let _ = d.set_cookie(&format!(
                "{_name}={_value}; path=/; max-age=31536000; samesite=lax"
            ));
        }
    }
}

fn initial_lang() -> Lang {
    if let Some(v) = read_cookie(LANG_COOKIE) {
        return Lang::from_tag(&v);
    }
    #[cfg(feature = "ssr")]
    {
        let accept = use_context::<http::request::Parts>().and_then(|p| {
            p.headers
                .get(http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        if let Some(a) = accept {
            return Lang::from_tag(&a);
        }
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        if let Some(tag) = document()
            .document_element()
            .map(|e| e.get_attribute("lang").unwrap_or_default())
        {
            return Lang::from_tag(&tag);
        }
    }
    Lang::Zh
}

fn initial_tz() -> i32 {
    read_cookie(TZ_COOKIE)
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|m| (-14 * 60..=14 * 60).contains(m))
        .unwrap_or(format::DEFAULT_OFFSET_MIN)
}

/// The root component: language, time zone, and the page for the path
/// (see [`nav`] for why there is no router).
#[component]
pub fn App() -> impl IntoView {
    let lang = RwSignal::new(initial_lang());
    provide_context(I18n(lang));
    provide_context(TzOffset(initial_tz()));
    #[cfg(feature = "hydrate")]
    {
        // Tell the server our UTC offset for the next server render, and
        // signal tests and scripts that the page is interactive.
        let east = -(js_sys::Date::new_0().get_timezone_offset() as i32);
        write_pref_cookie(TZ_COOKIE, &east.to_string());
        embed::track_visible_height();
        Effect::new(move |_| {
            if let Some(body) = document().body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        });
        // The shell wrote the first language; a switch updates it, for
        // screen readers, fonts and the browser's translate offer.
        Effect::new(move |_| {
            let tag = lang.get().tag();
            if let Some(html) = document().document_element() {
                let _ = html.set_attribute("lang", tag);
            }
        });
    }
    match nav::current_page() {
        Page::Chat => view! { <ChatPage/> }.into_any(),
        Page::Login => view! { <LoginPage/> }.into_any(),
        Page::Register => view! { <RegisterPage/> }.into_any(),
        // The desk's pages: their code loads apart from the chat's.
        Page::Support => client_page(Box::pin(support_page()), true).into_any(),
        Page::Desk => client_page(Box::pin(desk_page()), true).into_any(),
        Page::Admin => client_page(Box::pin(admin_page()), true).into_any(),
        Page::NotFound => {
            #[cfg(feature = "ssr")]
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                res.set_status(http::StatusCode::NOT_FOUND);
            }
            view! { <p class="not-found">"404"</p> }.into_any()
        }
    }
}

/// `/support`, loaded apart from the chat page's code.
#[lazy]
fn support_page() -> AnyView {
    view! { <components::desk::support_page::SupportPage/> }.into_any()
}

/// `/desk`, loaded apart.
#[lazy]
fn desk_page() -> AnyView {
    view! { <components::desk::console::DeskPage/> }.into_any()
}

/// `/admin`, loaded apart.
#[lazy]
fn admin_page() -> AnyView {
    view! { <components::desk::admin::AdminPage/> }.into_any()
}

/// A page drawn by the browser only, from code loaded apart (a lazy wasm
/// chunk): the server and the first render in the browser both show
/// "loading", so hydration matches; then the chunk loads and the page
/// replaces it. (A `Suspense` around the lazy page at the root hydrated
/// against markup the server had streamed differently.) The desk's pages
/// fetch everything they show after hydration anyway. `loading`: whether
/// to say "loading" meanwhile.
pub fn client_page(
    load: std::pin::Pin<Box<dyn std::future::Future<Output = AnyView> + Send>>,
    loading: bool,
) -> impl IntoView {
    let ready = RwSignal::new(false);
    let slot: StoredValue<Option<AnyView>, LocalStorage> = StoredValue::new_local(None);
    #[cfg(feature = "hydrate")]
    {
        let mut load = Some(load);
        Effect::new(move |_| {
            if let Some(load) = load.take() {
                leptos::task::spawn_local(async move {
                    slot.set_value(Some(load.await));
                    ready.set(true);
                });
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    drop(load);
    view! {
        {move || ready.get().then(|| slot.try_update_value(Option::take).flatten())}
        <Show when=move || loading && !ready.get()>
            <p class="loading">{i18n::tr(i18n::T::Loading)}</p>
        </Show>
    }
}
