//! The chat inside another site's page or an app's webview: telling the
//! host page that the chat is ready and how many messages are unread,
//! through `postMessage` to the origins allowed to frame it and to no one
//! else (never `"*"`).
//!
//! The server knows those origins (`--frame-ancestors`) and writes them
//! into every page as `<meta name="teahouse-embed" content="…">`
//! ([`EmbedOrigins`], rendered by [`crate::shell`]); the browser reads them
//! back from there. Messages are plain objects:
//! `{source: "teahouse", type: "ready", unread: N}` once the chat is live,
//! then `{source: "teahouse", type: "unread", unread: N}` whenever the total
//! changes.
//!
//! Also the one layout fix a webview needs from script: the height that is
//! really visible ([`track_visible_height`]), so that a soft keyboard
//! never covers the message input.

/// Name of the meta tag carrying the origins.
pub const META_NAME: &str = "teahouse-embed";

/// The origins that may frame the pages and hear from them: exact
/// `scheme://host[:port]` origins, and `'self'` (this server's own pages,
/// e.g. the support widget's). Provided by the server to each page render.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmbedOrigins(pub String);

/// Posts `kind` with the unread total to the framing page, if it is one of
/// the allowed origins (browser only; a page that is not framed posts
/// nothing).
#[cfg(feature = "hydrate")]
pub fn tell_host(kind: &str, unread: u32) {
    use wasm_bindgen::JsValue;
    let window = leptos::prelude::window();
    let Ok(Some(parent)) = window.parent() else {
        return;
    };
    // Not framed: `parent` is the window itself.
    if JsValue::from(&parent) == JsValue::from(&window) {
        return;
    }
    let targets = targets(&window);
    if targets.is_empty() {
        return;
    }
    let message = js_sys::Object::new();
    for (key, value) in [
        ("source", JsValue::from_str("teahouse")),
        ("type", JsValue::from_str(kind)),
        ("unread", JsValue::from(unread)),
    ] {
        let _ = js_sys::Reflect::set(&message, &JsValue::from_str(key), &value);
    }
    for origin in targets {
        // The browser delivers only if the parent's origin is `origin`.
        let _ = parent.post_message(&message, &origin);
    }
}

/// The origins to post to: the allowed ones, narrowed to the framing
/// page's own where the browser says which it is (`ancestorOrigins`).
#[cfg(feature = "hydrate")]
fn targets(window: &web_sys::Window) -> Vec<String> {
    let own = window.location().origin().unwrap_or_default();
    let listed = leptos::prelude::document()
        .query_selector(&format!("meta[name={META_NAME}]"))
        .ok()
        .flatten()
        .and_then(|m| m.get_attribute("content"))
        .unwrap_or_default();
    let allowed: Vec<String> = listed
        .split_whitespace()
        .map(|o| {
            if o == "'self'" {
                own.clone()
            } else {
                o.to_owned()
            }
        })
        .collect();
    // `location.ancestorOrigins` (Chromium, WebKit; not in web-sys):
    // the framing page's origin first.
    let parent = js_sys::Reflect::get(
        &window.location(),
        &wasm_bindgen::JsValue::from_str("ancestorOrigins"),
    )
    .ok()
    .and_then(|list| js_sys::Reflect::get(&list, &wasm_bindgen::JsValue::from(0)).ok())
    .and_then(|first| first.as_string());
    match parent {
        Some(p) => allowed.into_iter().filter(|o| *o == p).take(1).collect(),
        None => allowed,
    }
}

/// Keeps the CSS variable `--app-height` on `<html>` at the visual
/// viewport's height (browser only). The layouts use it for their height:
/// where a soft keyboard shrinks only the visual viewport (iOS webviews,
/// Safari), the composer then stays above the keyboard; elsewhere it equals
/// `100dvh` (the viewport meta also asks Chromium to resize the layout,
/// `interactive-widget=resizes-content`).
#[cfg(feature = "hydrate")]
pub fn track_visible_height() {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let Some(viewport) = leptos::prelude::window().visual_viewport() else {
        return;
    };
    let update = {
        let viewport = viewport.clone();
        move || {
            let Some(html) = leptos::prelude::document()
                .document_element()
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            else {
                return;
            };
            let px = format!("{}px", viewport.height().round());
            let _ = html.style().set_property("--app-height", &px);
        }
    };
    update();
    let listener = Closure::<dyn Fn()>::new(update);
    for event in ["resize", "scroll"] {
        let _ = viewport.add_event_listener_with_callback(event, listener.as_ref().unchecked_ref());
    }
    // Lives as long as the page.
    listener.forget();
}
